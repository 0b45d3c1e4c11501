/* harness: what the tests share — a temporary database, the real server on a free port, and an
 * HTTP client (libcurl) that keeps cookies like a browser. */
#ifndef MAILLAGE_TEST_HARNESS_H
#define MAILLAGE_TEST_HARNESS_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

struct db;
struct server;

struct th {
	char dir[256];     /* temporary directory, removed by th_stop */
	char db_path[300]; /* a file path (SQLite) or a postgresql:// URL */
	char pg_name[64];  /* the PostgreSQL test database, dropped by th_stop; "" on SQLite */
	struct server *srv;
	int port;
};

/* Create a temporary database (migrated; with the demo data when demo is set) and start the
 * server on 127.0.0.1 with a free port. Aborts the test program on failure. */
void th_start(struct th *t, int demo);
void th_stop(struct th *t);
/* Open another connection to the test database (caller closes). */
struct db *th_db(struct th *t);
/*
 * First column of the first row of a query on the test database, as an integer (-1 when there
 * is no row). Parameters bound from `types`: 's' text, 'd' double, anything else int64_t. An SQL
 * error fails the test.
 */
int64_t th_query_int(struct th *t, const char *sql, const char *types, ...);
/* First column of the first row of a query taking one integer parameter, as a malloc'ed copy
 * (caller frees), or NULL. */
char *th_query_text(struct th *t, const char *sql, int64_t id);
/*
 * PostgreSQL runs: MAILLAGE_TEST_PG (a postgresql:// URL or a file holding one) makes th_start
 * use a fresh database on that server instead of a SQLite file.
 */
int th_is_pg(void);
/* The base URL named by MAILLAGE_TEST_PG (malloc'ed), NULL when unset. */
char *th_pg_base_url(void);
/* The URL of database `name` on the server of `base` (malloc'ed). */
char *th_pg_url_with_db(const char *base, const char *name);
/* Make a temporary directory (for tests without a server); returns a static-lifetime copy. */
void th_tmpdir(char *out, size_t n);
void th_rmdir(const char *dir);

struct resp {
	long status;
	struct buf body;
	struct buf headers; /* raw header lines */
};

void resp_free(struct resp *r);
/* The value of the first header with this name (case-insensitive), malloc'ed, or NULL. */
char *resp_get_header(const struct resp *r, const char *name);

/* A browser-like client: cookies kept between requests, redirects not followed. */
struct client;
struct client *client_new(struct th *t);
void client_free(struct client *c);
/* GET a path ("/plans/1"); fills out (caller frees with resp_free). */
void client_get(struct client *c, const char *path, struct resp *out);
/* POST a body with a content type (NULL: form-urlencoded). */
void client_post(struct client *c, const char *path, const char *ctype, const char *body,
                 size_t len, struct resp *out);
/* Send an extra request header on the next requests ("Name: value"), or NULL to clear. */
void client_set_header(struct client *c, const char *header);
/* The CSRF token found in a page's hidden _csrf field (malloc'ed) or NULL. */
char *page_csrf_token(const struct resp *r);
/* GET `form_page`, then POST to `path` the urlencoded `fields` plus the page's CSRF token. */
void client_submit(struct client *c, const char *form_page, const char *path, const char *fields,
                   struct resp *out);
/* Log in with the form; returns the final status (303 on success). */
long client_login(struct client *c, const char *email, const char *password);

/* Send raw bytes on a new TCP connection and read the answer (up to 64 KiB, 5 s). */
void raw_exchange(int port, const void *data, size_t len, struct buf *answer);

#endif
