/* harness: temporary databases, the real server, and a libcurl client for the HTTP tests. */
#include "harness.h"

#include "db.h"
#include "demo.h"
#include "http.h"
#include "util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "harness: %s: %s\n", what, detail ? detail : "");
	abort();
}

void th_tmpdir(char *out, size_t n)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(out, n, "%s/maillage-test-XXXXXX", base);
	if (!mkdtemp(out))
		die("mkdtemp", out);
}

void th_rmdir(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", dir);
	free(cmd);
}

void th_start(struct th *t, int demo)
{
	memset(t, 0, sizeof *t);
	if (sodium_init() < 0)
		die("sodium_init", NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	th_tmpdir(t->dir, sizeof t->dir);
	snprintf(t->db_path, sizeof t->db_path, "%s/test.db", t->dir);
	char *err = NULL;
	struct db *db = db_open(t->db_path, &err);
	if (!db || db_migrate(db) != DB_OK)
		die("db", err);
	if (demo && demo_load(db, &err))
		die("demo_load", err);
	db_close(db);
	struct server_config cfg = {.db_url = t->db_path,
				    .listen = "127.0.0.1:0",
				    .threads = 2,
				    .max_body = 1u << 20,
				    .quiet = getenv("MAILLAGE_TEST_LOG") == NULL};
	t->srv = server_start(&cfg, &err);
	if (!t->srv)
		die("server_start", err);
	t->port = server_port(t->srv);
}

void th_stop(struct th *t)
{
	server_stop(t->srv);
	th_rmdir(t->dir);
	curl_global_cleanup();
}

struct db *th_db(struct th *t)
{
	char *err = NULL;
	struct db *db = db_open(t->db_path, &err);
	if (!db)
		die("db_open", err);
	return db;
}

int64_t th_query_int(struct th *t, const char *sql, const char *types, ...)
{
	struct db *db = th_db(t);
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		die("prepare", db_errmsg(db));
	va_list ap;
	va_start(ap, types);
	int i = 1;
	for (const char *p = types; *p; p++, i++) {
		if (*p == 's')
			db_bind_text(st, i, va_arg(ap, const char *));
		else if (*p == 'd')
			db_bind_double(st, i, va_arg(ap, double));
		else
			db_bind_int64(st, i, va_arg(ap, int64_t));
	}
	va_end(ap);
	int rc = db_step(st);
	if (rc != DB_ROW && rc != DB_DONE)
		die("step", db_errmsg(db));
	int64_t v = rc == DB_ROW ? db_col_int64(st, 0) : -1;
	db_finalize(st);
	db_close(db);
	return v;
}

char *th_query_text(struct th *t, const char *sql, int64_t id)
{
	struct db *db = th_db(t);
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	char *v = NULL;
	if (st && db_step(st) == DB_ROW && db_col_text(st, 0))
		v = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	db_close(db);
	return v;
}

void resp_free(struct resp *r)
{
	buf_free(&r->body);
	buf_free(&r->headers);
}

char *resp_get_header(const struct resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *p = buf_str(&r->headers);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			size_t vl = (size_t)(p + len - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			return xstrndup(v, vl);
		}
		p += len + (eol ? 1 : 0);
	}
	return NULL;
}

struct client {
	struct th *t;
	CURL *c;
	struct curl_slist *extra;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

struct client *client_new(struct th *t)
{
	struct client *c = xcalloc(1, sizeof *c);
	c->t = t;
	c->c = curl_easy_init();
	curl_easy_setopt(c->c, CURLOPT_COOKIEFILE, ""); /* enable the cookie engine */
	curl_easy_setopt(c->c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->c, CURLOPT_HEADERFUNCTION, on_data);
	return c;
}

void client_free(struct client *c)
{
	curl_slist_free_all(c->extra);
	curl_easy_cleanup(c->c);
	free(c);
}

void client_set_header(struct client *c, const char *header)
{
	if (!header) {
		curl_slist_free_all(c->extra);
		c->extra = NULL;
	} else {
		c->extra = curl_slist_append(c->extra, header);
	}
}

static void perform(struct client *c, const char *path, struct resp *out)
{
	memset(out, 0, sizeof *out);
	char *url = xasprintf("http://127.0.0.1:%d%s", c->t->port, path);
	curl_easy_setopt(c->c, CURLOPT_URL, url);
	curl_easy_setopt(c->c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c->c, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(c->c, CURLOPT_HTTPHEADER, c->extra);
	CURLcode rc = curl_easy_perform(c->c);
	if (rc != CURLE_OK)
		die(curl_easy_strerror(rc), url);
	curl_easy_getinfo(c->c, CURLINFO_RESPONSE_CODE, &out->status);
	free(url);
}

void client_get(struct client *c, const char *path, struct resp *out)
{
	curl_easy_setopt(c->c, CURLOPT_HTTPGET, 1L);
	perform(c, path, out);
}

void client_post(struct client *c, const char *path, const char *ctype, const char *body,
		 size_t len, struct resp *out)
{
	struct curl_slist *saved = c->extra;
	char *h = xasprintf("Content-Type: %s",
			    ctype ? ctype : "application/x-www-form-urlencoded");
	struct curl_slist *hs = NULL;
	for (struct curl_slist *s = saved; s; s = s->next)
		hs = curl_slist_append(hs, s->data);
	hs = curl_slist_append(hs, h);
	c->extra = hs;
	curl_easy_setopt(c->c, CURLOPT_POST, 1L);
	curl_easy_setopt(c->c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->c, CURLOPT_POSTFIELDSIZE, (long)len);
	perform(c, path, out);
	c->extra = saved;
	curl_slist_free_all(hs);
	free(h);
}

char *page_csrf_token(const struct resp *r)
{
	const char *p = strstr(buf_str(&r->body), "name=\"_csrf\" value=\"");
	if (!p)
		return NULL;
	p += strlen("name=\"_csrf\" value=\"");
	const char *e = strchr(p, '"');
	return e ? xstrndup(p, (size_t)(e - p)) : NULL;
}

void client_submit(struct client *c, const char *form_page, const char *path, const char *fields,
		   struct resp *out)
{
	struct resp page;
	client_get(c, form_page, &page);
	char *tok = page_csrf_token(&page);
	resp_free(&page);
	char *body = xasprintf("_csrf=%s%s%s", tok ? tok : "", *fields ? "&" : "", fields);
	client_post(c, path, NULL, body, strlen(body), out);
	free(body);
	free(tok);
}

long client_login(struct client *c, const char *email, const char *password)
{
	struct buf f = {0};
	buf_puts(&f, "email=");
	buf_url(&f, email);
	buf_puts(&f, "&password=");
	buf_url(&f, password);
	struct resp r;
	client_submit(c, "/connexion", "/connexion", buf_str(&f), &r);
	long status = r.status;
	resp_free(&r);
	buf_free(&f);
	return status;
}

void raw_exchange(int port, const void *data, size_t len, struct buf *answer)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect", NULL);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	const char *p = data;
	size_t sent = 0;
	while (sent < len) {
		ssize_t n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may close early: that is an answer too */
		sent += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	char chunk[4096];
	ssize_t n;
	while (answer->len < 65536 && (n = recv(fd, chunk, sizeof chunk, 0)) > 0)
		buf_append(answer, chunk, (size_t)n);
	close(fd);
}
