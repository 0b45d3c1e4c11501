/* harness: temporary databases, the real server, and a libcurl client for the HTTP tests. */
#include "harness.h"

#include "db.h"
#include "demo.h"
#include "embed.h"
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
#include <sys/stat.h>
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

/* --- PostgreSQL ----------------------------------------------------------------------------- */

/*
 * MAILLAGE_TEST_PG names a PostgreSQL server for the tests: a postgresql:// URL of a database
 * the tests may connect to as a role that creates databases, or a file holding such a URL
 * (scripts/test-pg.sh writes one). Each th_start then gets a fresh database, copied from a
 * template (migrated, with or without the demo) built once per server and build.
 */
char *th_pg_base_url(void)
{
	const char *v = getenv("MAILLAGE_TEST_PG");
	if (!v || !*v)
		return NULL;
	if (db_is_pg_url(v))
		return xstrdup(v);
	FILE *f = fopen(v, "r");
	if (!f)
		die("MAILLAGE_TEST_PG: cannot read", v);
	char line[1024] = "";
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!db_is_pg_url(line))
		die("MAILLAGE_TEST_PG: no postgresql:// URL in", v);
	return xstrdup(line);
}

/* The URL of another database on the same server (malloc'ed). */
char *th_pg_url_with_db(const char *base, const char *name)
{
	const char *q = strchr(base, '?');
	size_t end = q ? (size_t)(q - base) : strlen(base);
	const char *hostpart = strstr(base, "://") + 3;
	const char *slash = memchr(hostpart, '/', (size_t)(base + end - hostpart));
	size_t keep = slash ? (size_t)(slash - base) : end;
	return xasprintf("%.*s/%s%s", (int)keep, base, name, q ? q : "");
}

static struct db *pg_admin(const char *base)
{
	char *err = NULL;
	struct db *db = db_open(base, &err);
	if (!db)
		die("PostgreSQL", err);
	return db;
}

static void pg_do(struct db *db, const char *sql)
{
	if (db_exec(db, sql) != DB_OK)
		die(sql, db_errmsg(db));
}

/* A name that changes with the PostgreSQL migrations and the demo data compiled in. */
static void template_name(int demo, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < embed_count; i++) {
		const char *name = embed_files[i].name;
		if (strncmp(name, "migrations/postgresql/", 22) && strncmp(name, "data/demo/", 10))
			continue;
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		for (size_t k = 0; k < embed_files[i].size; k++)
			h = (h ^ embed_files[i].data[k]) * 1099511628211ull;
	}
#ifdef MAILLAGE_CORE_LIB
	/* The demo is code too: a rebuilt core library makes a new template. */
	struct stat sb;
	if (stat(MAILLAGE_CORE_LIB, &sb) == 0) {
		h = (h ^ (uint64_t)sb.st_mtime) * 1099511628211ull;
		h = (h ^ (uint64_t)sb.st_size) * 1099511628211ull;
	}
#endif
	snprintf(out, n, "maillage_tpl_%s_%016llx", demo ? "demo" : "empty", (unsigned long long)h);
}

/* Create the test database t->pg_name from the (built once) template. */
static void pg_create(struct th *t, int demo)
{
	char *base = th_pg_base_url();
	struct db *admin = pg_admin(base);
	char tpl[96];
	template_name(demo, tpl, sizeof tpl);
	/* One builder at a time across test programs. */
	pg_do(admin, "SELECT pg_advisory_lock(724501)");
	int64_t have = 0;
	if (db_int64f(admin, &have, "SELECT COUNT(*) FROM pg_database WHERE datname = ?", "s",
	              tpl) != DB_OK)
		die("pg_database", db_errmsg(admin));
	if (!have) {
		char tmp[128];
		snprintf(tmp, sizeof tmp, "%s_build", tpl);
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s", tmp);
		pg_do(admin, sql);
		free(sql);
		sql = xasprintf("CREATE DATABASE %s TEMPLATE template0", tmp);
		pg_do(admin, sql);
		free(sql);
		char *url = th_pg_url_with_db(base, tmp);
		char *err = NULL;
		struct db *db = db_open(url, &err);
		if (!db || db_migrate(db) != DB_OK)
			die("db", err ? err : "migration");
		if (demo && demo_load(db, &err))
			die("demo_load", err);
		db_close(db);
		free(url);
		sql = xasprintf("ALTER DATABASE %s RENAME TO %s", tmp, tpl);
		pg_do(admin, sql);
		free(sql);
		/* Templates of older builds: dropped when nobody uses them. */
		char other[96];
		template_name(!demo, other, sizeof other);
		struct db_stmt *st = db_queryf(admin,
		                               "SELECT datname FROM pg_database WHERE datname LIKE "
		                               "'maillage\\_tpl\\_%' AND datname NOT IN (?, ?) "
		                               "AND datname NOT LIKE '%\\_build'",
		                               "ss", tpl, other);
		struct buf stale = {0};
		while (db_step(st) == DB_ROW) {
			buf_puts(&stale, db_col_text(st, 0));
			buf_putc(&stale, '\n');
		}
		db_finalize(st);
		for (char *p = stale.data, *e; p && (e = strchr(p, '\n')); p = e + 1) {
			*e = '\0';
			sql = xasprintf("DROP DATABASE IF EXISTS %s", p);
			db_exec(admin, sql);
			free(sql);
		}
		buf_free(&stale);
	}
	pg_do(admin, "SELECT pg_advisory_unlock(724501)");
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	snprintf(t->pg_name, sizeof t->pg_name, "maillage_t%d_%02x%02x%02x%02x%02x%02x",
	         (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	char *sql = xasprintf("CREATE DATABASE %s TEMPLATE %s", t->pg_name, tpl);
	/* The template may be busy a moment (another program copying it): retry. */
	int ok = 0;
	for (int i = 0; i < 100 && !ok; i++) {
		ok = db_exec(admin, sql) == DB_OK;
		if (!ok)
			usleep(100000);
	}
	if (!ok)
		die(sql, db_errmsg(admin));
	free(sql);
	db_close(admin);
	char *url = th_pg_url_with_db(base, t->pg_name);
	snprintf(t->db_path, sizeof t->db_path, "%s", url);
	free(url);
	free(base);
}

static void pg_drop(struct th *t)
{
	char *base = th_pg_base_url();
	struct db *admin = pg_admin(base);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", t->pg_name);
	if (db_exec(admin, sql) != DB_OK)
		fprintf(stderr, "harness: %s: %s\n", sql, db_errmsg(admin));
	free(sql);
	db_close(admin);
	free(base);
}

int th_is_pg(void)
{
	const char *v = getenv("MAILLAGE_TEST_PG");
	return v && *v;
}

void th_start(struct th *t, int demo)
{
	memset(t, 0, sizeof *t);
	if (sodium_init() < 0)
		die("sodium_init", NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	th_tmpdir(t->dir, sizeof t->dir);
	char *err = NULL;
	if (th_is_pg()) {
		pg_create(t, demo);
	} else {
		snprintf(t->db_path, sizeof t->db_path, "%s/test.db", t->dir);
		struct db *db = db_open(t->db_path, &err);
		if (!db || db_migrate(db) != DB_OK)
			die("db", err);
		if (demo && demo_load(db, &err))
			die("demo_load", err);
		db_close(db);
	}
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
	if (t->pg_name[0])
		pg_drop(t);
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
	char *h =
	    xasprintf("Content-Type: %s", ctype ? ctype : "application/x-www-form-urlencoded");
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
