/* http: the libmicrohttpd glue — request life cycle, limits, security headers, dispatch, log. */
#include "http.h"

#include "auth.h"
#include "db.h"
#include "layout.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CSP                                                                                        \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "                \
	"form-action 'self'; frame-ancestors 'none'"

struct server {
	struct server_config cfg;
	struct MHD_Daemon *daemon;
	int port;
	/*
	 * The pool of database connections: at most pool_max open (idle in `pool` or lent to a
	 * request); a request finding none waits up to pool_wait_ms in a queue of at most
	 * pool_queue_max, then gets a 503.
	 */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct db **pool;
	size_t pool_n, pool_cap;
	int pool_open, pool_waiting, pool_max, pool_queue_max, pool_wait_ms;
	atomic_int in_flight;
};

/* --- key/value lists ---------------------------------------------------------------------- */

void kv_add(struct kvlist *l, const char *key, const char *val)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].val = xstrdup(val ? val : "");
	l->n++;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].key, key))
			return l->items[i].val;
	return NULL;
}

void kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].val);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* --- database pool ------------------------------------------------------------------------ */

/*
 * A connection for one request, or NULL with *err set (malloc'ed): the database cannot be
 * opened, or the pool stayed exhausted for pool_wait_ms (*busy set then).
 */
static struct db *pool_get(struct server *s, char **err, int *busy)
{
	*busy = 0;
	pthread_mutex_lock(&s->pool_lock);
	if (!s->pool_n && s->pool_open >= s->pool_max) {
		if (s->pool_waiting >= s->pool_queue_max) {
			pthread_mutex_unlock(&s->pool_lock);
			*busy = 1;
			*err = xstrdup("connection pool exhausted, wait queue full");
			return NULL;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->pool_wait_ms / 1000;
		until.tv_nsec += (long)(s->pool_wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		s->pool_waiting++;
		int rc = 0;
		while (!s->pool_n && s->pool_open >= s->pool_max && rc == 0)
			rc = pthread_cond_timedwait(&s->pool_cond, &s->pool_lock, &until);
		s->pool_waiting--;
		if (!s->pool_n && s->pool_open >= s->pool_max) {
			pthread_mutex_unlock(&s->pool_lock);
			*busy = 1;
			*err = xstrdup("connection pool exhausted, waited too long");
			return NULL;
		}
	}
	struct db *db = s->pool_n ? s->pool[--s->pool_n] : NULL;
	if (!db)
		s->pool_open++; /* reserve the slot before opening outside the lock */
	pthread_mutex_unlock(&s->pool_lock);
	if (!db) {
		db = db_open(s->cfg.db_url, err);
		if (!db) {
			pthread_mutex_lock(&s->pool_lock);
			s->pool_open--;
			pthread_cond_signal(&s->pool_cond);
			pthread_mutex_unlock(&s->pool_lock);
		}
	}
	return db;
}

/* Give a connection back; one left inside a transaction is rolled back first. */
static void pool_put(struct server *s, struct db *db)
{
	if (!db)
		return;
	if (db_in_transaction(db))
		db_rollback(db);
	pthread_mutex_lock(&s->pool_lock);
	if (s->pool_n == s->pool_cap) {
		s->pool_cap = s->pool_cap ? s->pool_cap * 2 : 8;
		s->pool = xrealloc(s->pool, s->pool_cap * sizeof(struct db *));
	}
	s->pool[s->pool_n++] = db;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

/* --- responses ------------------------------------------------------------------------------ */

void resp_header(struct req *r, const char *name, const char *value)
{
	kv_add(&r->headers, name, value);
}

void resp_send(struct req *r, int status, const char *ctype)
{
	r->status = status;
	r->ctype = ctype;
	r->responded = 1;
}

void resp_json(struct req *r, int status, json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(doc);
	buf_reset(&r->out);
	buf_puts(&r->out, s ? s : "null");
	buf_putc(&r->out, '\n');
	free(s);
	resp_send(r, status, "application/json; charset=utf-8");
}

static const char *status_code_name(int status)
{
	switch (status) {
	case 400:
		return "bad_request";
	case 401:
		return "unauthorized";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 409:
		return "conflict";
	case 413:
		return "payload_too_large";
	case 422:
		return "invalid";
	case 429:
		return "too_many_requests";
	case 503:
		return "unavailable";
	default:
		return status >= 500 ? "internal_error" : "error";
	}
}

static const char *status_title(int status)
{
	switch (status) {
	case 400:
		return "Requête incorrecte";
	case 401:
		return "Connexion nécessaire";
	case 403:
		return "Accès refusé";
	case 404:
		return "Page introuvable";
	case 405:
		return "Méthode non autorisée";
	case 409:
		return "Conflit";
	case 413:
		return "Envoi trop volumineux";
	case 422:
		return "Données non valides";
	case 429:
		return "Trop de tentatives";
	default:
		return status >= 500 ? "Erreur du serveur" : "Erreur";
	}
}

void resp_error(struct req *r, int status, const char *message)
{
	buf_reset(&r->out);
	kv_free(&r->headers);
	if (r->is_api) {
		json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", status_code_name(status),
		                      "message", message);
		resp_json(r, status, e);
		return;
	}
	page_begin(r, status_title(status), NULL);
	html_printf(&r->out, "<h1>%s</h1>\n<p class=\"notice notice-error\">%s</p>\n",
	            status_title(status), message);
	if (status == 401 || (status == 403 && !r->user))
		html_printf(&r->out, "<p><a href=\"/connexion?suite=%u\">Se connecter</a></p>\n",
		            r->path);
	else
		html_printf(&r->out, "<p><a href=\"/\">Retour à l'accueil</a></p>\n");
	page_end(r);
	resp_send(r, status, "text/html; charset=utf-8");
}

void resp_redirect(struct req *r, const char *location)
{
	buf_reset(&r->out);
	resp_header(r, "Location", location);
	resp_send(r, 303, "text/plain; charset=utf-8");
}

/* --- request helpers ----------------------------------------------------------------------- */

const char *req_form(struct req *r, const char *key)
{
	return kv_get(&r->form, key);
}

const struct upload *req_file(struct req *r, const char *field)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i].field, field))
			return &r->files[i];
	return NULL;
}

const char *req_query(struct req *r, const char *key)
{
	return kv_get(&r->query, key);
}

const char *req_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int req_param_id(struct req *r, int i, int64_t *out)
{
	if (i >= r->nparams || parse_int64(r->params[i], out) || *out <= 0) {
		resp_error(r, 404, "Cette adresse ne correspond à rien.");
		return -1;
	}
	return 0;
}

json_t *req_json_body(struct req *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf_str(&r->body), r->body.len, 0, &jerr);
	if (!j) {
		char *m = xasprintf("Le corps de la requête n'est pas du JSON valide (ligne %d, "
		                    "colonne %d) : %s",
		                    jerr.line, jerr.column, jerr.text);
		resp_error(r, 400, m);
		free(m);
	}
	return j;
}

/* --- parsing ------------------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode one application/x-www-form-urlencoded component in place; -1 on a bad escape. */
static int form_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p == '%') {
			int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
			if (h < 0 || l < 0)
				return -1;
			*o++ = (char)(h * 16 + l);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return (int)(o - s);
}

/* Parse a urlencoded body into r->form. -1 when malformed or not valid UTF-8 text. */
static int parse_urlencoded(struct req *r)
{
	char *copy = xstrndup(buf_str(&r->body), r->body.len);
	int rc = 0;
	char *save = NULL;
	for (char *pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		char *val = eq ? eq + 1 : pair + strlen(pair);
		if (eq)
			*eq = '\0';
		int kl = form_decode(pair), vl = form_decode(val);
		if (kl < 0 || vl < 0 || !utf8_valid_text(pair, (size_t)kl) ||
		    !utf8_valid_text(val, (size_t)vl)) {
			rc = -1;
			break;
		}
		kv_add(&r->form, pair, val);
	}
	free(copy);
	return rc;
}

/* Multipart parsing through libmicrohttpd's post processor, over the buffered body. */
struct multipart_ctx {
	struct req *r;
	struct buf value; /* the text field being read */
	char *key;
	int in_file, bad;
};

static void multipart_flush(struct multipart_ctx *m)
{
	if (m->key && !m->in_file) {
		if (!utf8_valid_text(buf_str(&m->value), m->value.len))
			m->bad = 1;
		else
			kv_add(&m->r->form, m->key, buf_str(&m->value));
	}
	free(m->key);
	m->key = NULL;
	buf_reset(&m->value);
	m->in_file = 0;
}

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
	(void)kind;
	(void)transfer_encoding;
	struct multipart_ctx *m = cls;
	struct req *r = m->r;
	if (off == 0) {
		multipart_flush(m);
		m->key = xstrdup(key);
		if (filename) {
			m->in_file = 1;
			r->files = xrealloc(r->files, (r->nfiles + 1) * sizeof *r->files);
			struct upload *u = &r->files[r->nfiles++];
			memset(u, 0, sizeof *u);
			u->field = xstrdup(key);
			u->filename = xstrdup(filename);
			u->ctype = content_type ? xstrdup(content_type) : NULL;
		}
	}
	if (m->in_file)
		buf_append(&r->files[r->nfiles - 1].data, data, size);
	else
		buf_append(&m->value, data, size);
	return MHD_YES;
}

/* Parse a multipart/form-data body into r->form and r->files. -1 when malformed. */
static int parse_multipart(struct req *r)
{
	struct multipart_ctx m = {.r = r};
	struct MHD_PostProcessor *pp =
	    MHD_create_post_processor(r->conn, 64 * 1024, on_post_data, &m);
	if (!pp)
		return -1;
	enum MHD_Result ok = MHD_post_process(pp, buf_str(&r->body), r->body.len);
	MHD_destroy_post_processor(pp);
	multipart_flush(&m);
	buf_free(&m.value);
	return ok == MHD_YES && !m.bad ? 0 : -1;
}

struct query_ctx {
	struct req *r;
	int bad;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	(void)kind;
	struct query_ctx *q = cls;
	if (!utf8_valid_text(key, strlen(key)) || (value && !utf8_valid_text(value, strlen(value))))
		q->bad = 1;
	else
		kv_add(&q->r->query, key, value);
	return MHD_YES;
}

/* --- dispatch -------------------------------------------------------------------------------- */

static int method_of(const char *m)
{
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		return M_GET;
	if (!strcmp(m, "POST"))
		return M_POST;
	if (!strcmp(m, "PUT"))
		return M_PUT;
	if (!strcmp(m, "DELETE"))
		return M_DELETE;
	if (!strcmp(m, "PATCH"))
		return M_PATCH;
	return 0;
}

/* How specific a pattern is: its characters outside {captures}. */
static int route_specificity(const char *pattern)
{
	int n = 0, in = 0;
	for (const char *p = pattern; *p; p++) {
		if (*p == '{')
			in = 1;
		else if (*p == '}')
			in = 0;
		else if (!in)
			n++;
	}
	return n;
}

/*
 * The route for the request: among the patterns that match the path and accept the method, the
 * most specific one (so "/plans/importer" wins over "/plans/{plan}" whatever the table order).
 * Sets *method_mismatch when the path matched only routes of other methods.
 */
static const struct route *find_route(struct req *r, int *method_mismatch)
{
	const struct route *best = NULL;
	int best_score = -1;
	*method_mismatch = 0;
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->pattern; rt++) {
			const char *params[8];
			int np = 0;
			char *store = NULL;
			if (!route_match(rt->pattern, r->path, params, &np, &store))
				continue;
			int score = route_specificity(rt->pattern);
			if (!(rt->methods & r->method) || score <= best_score) {
				if (!(rt->methods & r->method))
					*method_mismatch = 1;
				free(store);
				continue;
			}
			free(r->param_store);
			r->param_store = store;
			memcpy(r->params, params, sizeof params);
			r->nparams = np;
			best = rt;
			best_score = score;
			r->pattern = rt->pattern;
		}
	}
	if (best)
		*method_mismatch = 0;
	return best;
}

static int csrf_ok(struct req *r)
{
	const char *sent = req_form(r, "_csrf");
	if (!sent)
		sent = req_header(r, "X-CSRF-Token");
	return str_eq_ct(sent, r->csrf);
}

static void dispatch(struct req *r)
{
	if (r->body_too_large) {
		resp_error(r, 413, "La requête dépasse la taille autorisée.");
		return;
	}
	struct query_ctx q = {r, 0};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
	if (q.bad || !utf8_valid_text(r->path, strlen(r->path))) {
		resp_error(r, 400,
		           "L'adresse contient des caractères non valides (UTF-8 attendu).");
		return;
	}
	const char *ctype = req_header(r, "Content-Type");
	if (r->body.len && ctype && !strncasecmp(ctype, "application/x-www-form-urlencoded", 33) &&
	    parse_urlencoded(r) < 0) {
		resp_error(r, 400, "Le formulaire envoyé n'est pas valide (encodage ou UTF-8).");
		return;
	}
	if (r->body.len && ctype && !strncasecmp(ctype, "multipart/form-data", 19) &&
	    parse_multipart(r) < 0) {
		resp_error(r, 400, "Le formulaire envoyé n'est pas valide (multipart ou UTF-8).");
		return;
	}
	char *err = NULL;
	int busy = 0;
	r->db = pool_get(r->srv, &err, &busy);
	if (!r->db) {
		fprintf(stderr, "maillage: database unavailable: %s\n", err ? err : "?");
		free(err);
		resp_error(r, 503,
		           busy ? "Le serveur est momentanément saturé : réessayez dans un instant."
		                : "La base de données est indisponible.");
		return;
	}
	auth_load_session(r);

	int mismatch;
	const struct route *rt = find_route(r, &mismatch);
	if (!rt) {
		if (mismatch)
			resp_error(r, 405, "Cette méthode n'est pas acceptée à cette adresse.");
		else
			resp_error(r, 404, "Cette adresse ne correspond à aucune page.");
		return;
	}
	if (rt->access >= ACC_LOGIN && !r->user) {
		if (r->is_api || r->method != M_GET) {
			resp_error(r, 401, "Connectez-vous pour accéder à cette ressource.");
		} else {
			struct buf loc = {0};
			buf_puts(&loc, "/connexion?suite=");
			buf_url(&loc, r->path);
			resp_redirect(r, buf_str(&loc));
			buf_free(&loc);
		}
		return;
	}
	if (rt->access == ACC_ADMIN && r->user->role != ROLE_ADMIN) {
		resp_error(r, 403, "Cette page est réservée aux administrateurs.");
		return;
	}
	if (r->method != M_GET && !csrf_ok(r)) {
		resp_error(r, 403,
		           "Jeton de sécurité (CSRF) absent ou périmé : rechargez la page "
		           "et recommencez.");
		return;
	}
	rt->fn(r);
	if (!r->responded)
		resp_error(r, 500, "La page n'a produit aucune réponse.");
}

/* --- libmicrohttpd callbacks ------------------------------------------------------------------ */

static enum MHD_Result queue(struct req *r)
{
	size_t len = r->out.len;
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, buf_steal(&r->out), MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", r->ctype ? r->ctype : "text/plain");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	int has_cache = 0;
	for (size_t i = 0; i < r->headers.n; i++) {
		MHD_add_response_header(resp, r->headers.items[i].key, r->headers.items[i].val);
		if (!strcasecmp(r->headers.items[i].key, "Cache-Control"))
			has_cache = 1;
	}
	if (!has_cache)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t n)
{
	snprintf(out, n, "?");
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct server *s = cls;
	struct req *r = *con_cls;
	if (!r) {
		r = xcalloc(1, sizeof *r);
		r->srv = s;
		r->conn = conn;
		r->t0_us = time_mono_us();
		r->method_str = method;
		r->method = method_of(method);
		r->path = xstrdup(url);
		r->is_api = !strncmp(url, "/api/", 5);
		client_ip(conn, r->remote_ip, sizeof r->remote_ip);
		atomic_fetch_add(&s->in_flight, 1);
		*con_cls = r;
		const char *cl =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		int64_t n;
		if (cl && parse_int64(cl, &n) == 0 && (uint64_t)n > s->cfg.max_body) {
			/* Refuse before reading the body; libmicrohttpd then closes. */
			r->body_too_large = 1;
			resp_error(r, 413, "La requête dépasse la taille autorisée.");
			return queue(r);
		}
		return MHD_YES;
	}
	if (r->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->body_too_large) {
			if (r->body.len + *upload_data_size > s->cfg.max_body)
				r->body_too_large = 1;
			else
				buf_append(&r->body, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!r->method) {
		resp_error(r, 405, "Méthode HTTP non prise en charge.");
		resp_header(r, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE");
	} else {
		dispatch(r);
	}
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	(void)toe;
	struct server *s = cls;
	struct req *r = *con_cls;
	if (!r)
		return;
	if (!s->cfg.quiet) {
		char now[32];
		time_iso_now(now);
		double ms = (double)(time_mono_us() - r->t0_us) / 1000.0;
		/* Path only: query strings and bodies may carry personal data. A path holding a
		 * secret (invitation link, calendar feed) is logged as its route pattern. */
		const char *logged =
		    r->pattern && strstr(r->pattern, "{token}") ? r->pattern : r->path;
		fprintf(stderr, "%s %s %s %d %.1fms\n", now, r->method_str, logged,
		        r->status ? r->status : 0, ms);
	}
	pool_put(s, r->db);
	if (r->user)
		user_free(r->user);
	kv_free(&r->query);
	kv_free(&r->form);
	for (size_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].field);
		free(r->files[i].filename);
		free(r->files[i].ctype);
		buf_free(&r->files[i].data);
	}
	free(r->files);
	kv_free(&r->headers);
	buf_free(&r->body);
	buf_free(&r->out);
	free(r->param_store);
	free(r->path);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* libmicrohttpd's own messages may name client addresses: only shown when debugging. */
	if (getenv("MAILLAGE_DEBUG"))
		vfprintf(stderr, fmt, ap);
}

/* Parse "ADDR:PORT", "[v6]:PORT" or ":PORT" into a socket address. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	const char *colon = strrchr(spec, ':');
	if (!colon)
		return -1;
	int64_t port;
	if (parse_int64(colon + 1, &port) || port < 0 || port > 65535)
		return -1;
	char host[128];
	size_t hl = (size_t)(colon - spec);
	if (hl >= sizeof host)
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		*len = sizeof *a;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (hl == 0)
		a->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -1;
	*len = sizeof *a;
	return 0;
}

struct server *server_start(const struct server_config *cfg, char **err)
{
	*err = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_listen(cfg->listen, &ss, &sl)) {
		*err = xasprintf("adresse d'écoute non valide : « %s » (attendu ADRESSE:PORT, par "
		                 "exemple 127.0.0.1:8080)",
		                 cfg->listen);
		return NULL;
	}
	struct server *s = xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	if (s->cfg.threads < 1)
		s->cfg.threads = 1;
	if (!s->cfg.max_body)
		s->cfg.max_body = 10u << 20;
	s->pool_max = s->cfg.pool_max > 0 ? s->cfg.pool_max : s->cfg.threads;
	s->pool_queue_max = s->cfg.pool_queue > 0 ? s->cfg.pool_queue : 256;
	s->pool_wait_ms = s->cfg.pool_wait_ms > 0 ? s->cfg.pool_wait_ms : 5000;
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	/* Check the database once before accepting anything. */
	int busy;
	struct db *db = pool_get(s, err, &busy);
	if (!db) {
		pthread_cond_destroy(&s->pool_cond);
		pthread_mutex_destroy(&s->pool_lock);
		free(s);
		return NULL;
	}
	pool_put(s, db);

	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)1024, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		*err = xasprintf("impossible d'écouter sur %s (adresse occupée ou non autorisée)",
		                 cfg->listen);
		server_stop(s);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	return s;
}

int server_port(struct server *s)
{
	return s->port;
}

const struct server_config *server_config(struct server *s)
{
	return &s->cfg;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	if (s->daemon) {
		MHD_socket fd = MHD_quiesce_daemon(s->daemon);
		/* Let requests in flight finish, for up to ten seconds. */
		for (int i = 0; i < 1000 && atomic_load(&s->in_flight) > 0; i++)
			usleep(10000);
		MHD_stop_daemon(s->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	for (size_t i = 0; i < s->pool_n; i++)
		db_close(s->pool[i]);
	free(s->pool);
	pthread_cond_destroy(&s->pool_cond);
	pthread_mutex_destroy(&s->pool_lock);
	free(s);
}
