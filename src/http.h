/* http: requests, responses, the router and the server built on libmicrohttpd. */
#ifndef MAILLAGE_HTTP_H
#define MAILLAGE_HTTP_H

#include "buf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct MHD_Connection;

enum http_method { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_PATCH = 16 };

/* Global roles of accounts, lowest to highest; per-plan roles reuse the same ladder. */
enum role {
	ROLE_NONE = 0,
	ROLE_PUBLIC,
	ROLE_READER,
	ROLE_PARTNER,
	ROLE_PILOT,
	ROLE_COORDINATOR,
	ROLE_ADMIN
};

struct kv {
	char *key;
	char *val;
};

struct kvlist {
	struct kv *items;
	size_t n, cap;
};

void kv_add(struct kvlist *l, const char *key, const char *val);
/* The first value for key, or NULL. Borrowed: valid while the list lives. */
const char *kv_get(const struct kvlist *l, const char *key);
void kv_free(struct kvlist *l);

/* A file sent in a multipart/form-data form. */
struct upload {
	char *field;     /* the form field's name */
	char *filename;  /* as sent by the browser (untrusted: display escaped, never a path) */
	char *ctype;     /* as sent, or NULL */
	struct buf data; /* the bytes */
};

struct user {
	int64_t id;
	char *email;
	char *name;
	enum role role; /* global role */
};

struct server;

/*
 * One HTTP request and the response being built for it. Created by the server before the
 * handler runs and freed after the response is sent: everything hanging off it is per-request.
 */
struct req {
	struct server *srv;
	struct MHD_Connection *conn;
	int method;             /* enum http_method; HEAD is routed as GET */
	const char *method_str; /* as received */
	char *path;             /* decoded path, without query string */
	struct kvlist query;    /* decoded query arguments */
	struct kvlist form;     /* decoded form fields (urlencoded or multipart text fields) */
	struct upload *files;   /* multipart/form-data files */
	size_t nfiles;
	struct buf body; /* raw request body */
	int body_too_large;
	int is_api;        /* path under /api/: errors answer JSON */
	struct db *db;     /* a connection held for this request */
	struct user *user; /* NULL when anonymous */
	char csrf[65];     /* the token forms must carry */
	char remote_ip[64];
	const char *params[8]; /* route captures ({id}, {code}…), borrowed from path copy */
	const char *pattern;   /* the matched route's pattern (static), or NULL */
	int nparams;
	char *param_store;
	/* response */
	int status;
	struct buf out;
	const char *ctype;
	struct kvlist headers;
	int responded;
	int64_t t0_us;
};

/* --- responses ------------------------------------------------------------------------- */

/* Send r->out as the response body with this status and content type (static string). */
void resp_send(struct req *r, int status, const char *ctype);
/* Send a JSON document (the reference is stolen). */
void resp_json(struct req *r, int status, json_t *doc);
/* Answer an error: JSON {"error":{"code","message"}} for the API, a French page otherwise.
 * `message` is plain text (escaped here). */
void resp_error(struct req *r, int status, const char *message);
/* 303 See Other to a local path. */
void resp_redirect(struct req *r, const char *location);
void resp_header(struct req *r, const char *name, const char *value);

/* --- request helpers ------------------------------------------------------------------- */

/* A form field (POST body) or NULL. */
const char *req_form(struct req *r, const char *key);
/* A file of a multipart form by field name, or NULL. */
const struct upload *req_file(struct req *r, const char *field);
/* A query argument or NULL. */
const char *req_query(struct req *r, const char *key);
/* A request header or NULL. */
const char *req_header(struct req *r, const char *name);
/* Route capture i as int64; answers 404 itself and returns -1 when it is not one. */
int req_param_id(struct req *r, int i, int64_t *out);
/* A JSON request body parsed; answers 400 itself and returns NULL when it is not JSON. */
json_t *req_json_body(struct req *r);

/* --- routing ----------------------------------------------------------------------------- */

enum access { ACC_PUBLIC = 0, ACC_LOGIN, ACC_ADMIN };

typedef void (*handler_fn)(struct req *r);

/*
 * A route, declared once beside its handler: methods (a mask of enum http_method), a pattern
 * where "{name}" captures one path segment and a trailing "{*}" captures the rest, the least
 * access needed (checked by the router before the handler runs; plan roles are checked by the
 * handler's first statement), the handler, and a one-line help shown in the route index.
 */
struct route {
	int methods;
	const char *pattern;
	enum access access;
	handler_fn fn;
	const char *help;
};

/* All route tables, NULL-terminated (routes.c). Each table ends with a zeroed route. */
extern const struct route *const route_tables[];
/* Match path against pattern; fills params (copied into *store). 1 on match. */
int route_match(const char *pattern, const char *path, const char **params, int *nparams,
                char **store);

/* --- server ------------------------------------------------------------------------------ */

struct server_config {
	const char *db_url;
	const char *listen; /* "ADDR:PORT"; port 0 picks a free one */
	int threads;        /* worker threads */
	size_t max_body;    /* bytes; larger bodies get 413 */
	int secure_cookies; /* add Secure to cookies (behind TLS) */
	int quiet;          /* no request log */
	int pool_max;       /* database connections at most; 0: one per worker thread */
	int pool_queue;     /* requests waiting for a connection at most; 0: 256 */
	int pool_wait_ms;   /* how long one waits before a 503; 0: 5000 */
};

/* Start serving. NULL on failure with a malloc'ed French message in *err. */
struct server *server_start(const struct server_config *cfg, char **err);
/* The port actually bound. */
int server_port(struct server *s);
/* Stop accepting, let requests in flight finish (up to 10 s), close, free. */
void server_stop(struct server *s);
const struct server_config *server_config(struct server *s);

#endif
