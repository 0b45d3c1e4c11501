/* db_pg: the PostgreSQL backend of the storage interface (libpq). */
#include "db.h"

#include "buf.h"
#include "util.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Type oids (server/catalog/pg_type_d.h is not installed by libpq-dev). */
#define PG_BOOLOID   16
#define PG_INT8OID   20
#define PG_TEXTOID   25
#define PG_FLOAT8OID 701

/* Prepared statements kept per connection; beyond, statements run unnamed (prepared anew). */
#define PG_CACHE_MAX 1024

struct pg_cached {
	uint64_t hash;
	char *key; /* translated SQL, '\x01', parameter types */
	char name[24];
};

struct pg_db {
	struct db base;
	PGconn *c;
	char *err;
	struct pg_cached *cache;
	size_t ncache, capcache;
	unsigned next_name;
	int tx;    /* a transaction was open at the last exchange with the server */
	int lost;  /* the connection broke inside a transaction: errors until ROLLBACK */
	int bulk;  /* no savepoint around writes in transactions (db_pg_bulk) */
	int debug; /* MAILLAGE_PG_DEBUG: report the type fallbacks on stderr */
};

enum { P_NULL = 0, P_TEXT, P_INT, P_DOUBLE };

struct pg_stmt {
	struct db_stmt base;
	struct pg_db *db;
	char *sql; /* with $n placeholders */
	int nparams;
	char **values; /* malloc'ed text of each parameter, NULL for SQL NULL */
	unsigned char *kinds;
	PGresult *res;
	int row;  /* current row, -1 before the first */
	int done; /* executed and consumed */
};

static const struct db_ops pg_ops;

static void set_err(struct pg_db *db, const char *msg)
{
	free(db->err);
	db->err = xstrdup(msg ? msg : "");
	size_t n = strlen(db->err);
	while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

/* --- placeholder translation ------------------------------------------------------------------ */

/*
 * Turn every `?` outside string literals, quoted identifiers, dollar-quoted strings and comments
 * into $1, $2, … Returns the malloc'ed SQL; *n receives the number of placeholders.
 */
char *db_pg_translate(const char *sql, int *n)
{
	struct buf b = {0};
	int k = 0;
	const char *p = sql;
	while (*p) {
		if (*p == '\'' || *p == '"') {
			char q = *p;
			buf_putc(&b, *p++);
			while (*p) {
				if (*p == q && p[1] == q) {
					buf_putc(&b, *p++);
					buf_putc(&b, *p++);
					continue;
				}
				if (*p == q)
					break;
				buf_putc(&b, *p++);
			}
			if (*p)
				buf_putc(&b, *p++);
		} else if (*p == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				buf_putc(&b, *p++);
		} else if (*p == '/' && p[1] == '*') {
			int depth = 0;
			while (*p) {
				if (*p == '/' && p[1] == '*') {
					depth++;
					buf_putc(&b, *p++);
				} else if (*p == '*' && p[1] == '/') {
					depth--;
					buf_putc(&b, *p++);
					buf_putc(&b, *p++);
					if (!depth)
						break;
					continue;
				}
				buf_putc(&b, *p++);
			}
		} else if (*p == '$' && (p[1] == '$' || (p[1] >= 'a' && p[1] <= 'z') ||
		                         (p[1] >= 'A' && p[1] <= 'Z') || p[1] == '_')) {
			/* $tag$ … $tag$ (a $ followed by a name and no closing $ is copied as is)
			 */
			const char *e = p + 1;
			while (*e && *e != '$' &&
			       ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
			        (*e >= '0' && *e <= '9') || *e == '_'))
				e++;
			if (*e != '$') {
				buf_putc(&b, *p++);
				continue;
			}
			size_t tl = (size_t)(e - p) + 1;
			char tag[64];
			if (tl >= sizeof tag) {
				buf_putc(&b, *p++);
				continue;
			}
			memcpy(tag, p, tl);
			tag[tl] = '\0';
			const char *end = strstr(e + 1, tag);
			size_t len = end ? (size_t)(end - p) + tl : strlen(p);
			buf_append(&b, p, len);
			p += len;
		} else if (*p == ':' && p[1] == ':') {
			buf_putc(&b, *p++);
			buf_putc(&b, *p++);
		} else if (*p == '?') {
			buf_printf(&b, "$%d", ++k);
			p++;
		} else {
			buf_putc(&b, *p++);
		}
	}
	*n = k;
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* --- statements ---------------------------------------------------------------------------------
 */

static struct db_stmt *pg_prepare(struct db *d, const char *sql)
{
	struct pg_db *db = (struct pg_db *)d;
	struct pg_stmt *st = xcalloc(1, sizeof *st);
	st->base.ops = &pg_ops;
	st->db = db;
	st->sql = db_pg_translate(sql, &st->nparams);
	if (st->nparams) {
		st->values = xcalloc((size_t)st->nparams, sizeof *st->values);
		st->kinds = xcalloc((size_t)st->nparams, 1);
	}
	st->row = -1;
	return &st->base;
}

#define ST(s) ((struct pg_stmt *)(s))

static void set_param(struct db_stmt *s, int i, unsigned char kind, char *v)
{
	struct pg_stmt *st = ST(s);
	if (i < 1 || i > st->nparams) {
		free(v);
		return;
	}
	free(st->values[i - 1]);
	st->values[i - 1] = v;
	st->kinds[i - 1] = kind;
}

/* Out of range: ignored, as SQLite does (SQLITE_RANGE), without reading the value. */
#define IN_RANGE(s, i) ((i) >= 1 && (i) <= ST(s)->nparams)

static void pg_bind_text(struct db_stmt *s, int i, const char *v)
{
	if (IN_RANGE(s, i))
		set_param(s, i, P_TEXT, xstrdup(v));
}

static void pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	if (IN_RANGE(s, i))
		set_param(s, i, P_INT, xasprintf("%lld", (long long)v));
}

static void pg_bind_double(struct db_stmt *s, int i, double v)
{
	if (IN_RANGE(s, i))
		set_param(s, i, P_DOUBLE, xasprintf("%.17g", v));
}

static void pg_bind_null(struct db_stmt *s, int i)
{
	set_param(s, i, P_NULL, NULL);
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The SQLSTATE of a result, "" when none. */
static const char *sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return s ? s : "";
}

static int map_error(struct pg_db *db, PGresult *res)
{
	set_err(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->c));
	if (!res)
		return DB_ERROR;
	return !strncmp(sqlstate(res), "23", 2) ? DB_CONSTRAINT : DB_ERROR;
}

static int simple(struct pg_db *db, const char *sql)
{
	PGresult *res = PQexec(db->c, sql);
	int ok = res && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	                 PQresultStatus(res) == PGRES_TUPLES_OK);
	if (!ok)
		map_error(db, res);
	PQclear(res);
	return ok ? 0 : -1;
}

/*
 * The parameter types of one attempt: 0 as asked (int64 → int8, double → float8, text and NULL
 * left for the server to infer), 1 everything inferred, 2 text and NULL typed as text.
 */
static void param_types(const struct pg_stmt *st, int attempt, Oid *types, char *sig)
{
	for (int i = 0; i < st->nparams; i++) {
		Oid t = 0;
		char c = 'u';
		switch (st->kinds[i]) {
		case P_INT:
			t = PG_INT8OID, c = 'i';
			break;
		case P_DOUBLE:
			t = PG_FLOAT8OID, c = 'd';
			break;
		default:
			break;
		}
		if (attempt == 1)
			t = 0, c = 'u';
		else if (attempt == 2 && t == 0)
			t = PG_TEXTOID, c = 't';
		types[i] = t;
		sig[i] = c;
	}
	sig[st->nparams] = '\0';
}

/* Errors that another choice of parameter types may fix. */
static int type_error(const char *state)
{
	return !strcmp(state, "42P18") || !strcmp(state, "42883") || !strcmp(state, "42804") ||
	       !strcmp(state, "42725");
}

/*
 * Find or create the server-side prepared statement for the bound types. Returns its name
 * (static storage in the cache, or "" for an unnamed one), NULL on error.
 */
static const char *ensure_prepared(struct pg_stmt *st, Oid *types, char *sig)
{
	struct pg_db *db = st->db;
	struct buf key = {0};
	/* The signatures that failed, remembered with the one that works so that the next
	 * execution finds it at once. */
	char *failed[3] = {NULL, NULL, NULL};
	int nfailed = 0;
	const char *found = NULL;
	for (int attempt = 0; attempt < 3 && !found; attempt++) {
		param_types(st, attempt, types, sig);
		buf_reset(&key);
		buf_puts(&key, st->sql);
		buf_putc(&key, '\x01');
		buf_puts(&key, sig);
		uint64_t h = fnv1a(buf_str(&key), key.len);
		for (size_t i = 0; i < db->ncache && !found; i++)
			if (db->cache[i].hash == h && !strcmp(db->cache[i].key, buf_str(&key)))
				found = db->cache[i].name;
		if (found || (attempt > 0 && !st->nparams))
			break;
		char name[24];
		int cached = db->ncache < PG_CACHE_MAX;
		if (cached)
			snprintf(name, sizeof name, "m%u", ++db->next_name);
		else
			name[0] = '\0';
		/* A failed Parse aborts the transaction: protect it. */
		int sp = PQtransactionStatus(db->c) == PQTRANS_INTRANS;
		if (sp && simple(db, "SAVEPOINT maillage_prepare"))
			break;
		PGresult *res = PQprepare(db->c, name, st->sql, st->nparams, types);
		int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
		const char *state = sqlstate(res);
		int retry = !ok && type_error(state) && attempt < 2;
		if (!ok)
			map_error(db, res);
		if (!ok && db->debug)
			fprintf(stderr, "maillage: pg prepare [%s] %s: %s\n  %s\n", sig, state,
			        db->err, st->sql);
		PQclear(res);
		if (sp) {
			if (!ok) {
				char *saved = xstrdup(db->err);
				simple(db, "ROLLBACK TO SAVEPOINT maillage_prepare");
				set_err(db, saved);
				free(saved);
			}
			simple(db, "RELEASE SAVEPOINT maillage_prepare");
		}
		if (ok) {
			if (attempt && db->debug)
				fprintf(stderr, "maillage: pg prepare succeeded with [%s]\n", sig);
			if (!cached) {
				found = "";
				break;
			}
			if (db->ncache == db->capcache) {
				db->capcache = db->capcache ? db->capcache * 2 : 64;
				db->cache = xrealloc(db->cache, db->capcache * sizeof *db->cache);
			}
			struct pg_cached *c = &db->cache[db->ncache++];
			c->hash = h;
			c->key = buf_steal(&key);
			memcpy(c->name, name, sizeof name);
			found = c->name;
			break;
		}
		failed[nfailed++] = xstrdup(buf_str(&key));
		if (!retry)
			break;
	}
	buf_free(&key);
	/* `found` points into the cache, which may move when it grows: keep the name aside. */
	char name[24] = "";
	if (found)
		snprintf(name, sizeof name, "%s", found);
	for (int i = 0; i < nfailed; i++) {
		if (found && *name && db->ncache < PG_CACHE_MAX) {
			if (db->ncache == db->capcache) {
				db->capcache = db->capcache ? db->capcache * 2 : 64;
				db->cache = xrealloc(db->cache, db->capcache * sizeof *db->cache);
			}
			struct pg_cached *c = &db->cache[db->ncache++];
			c->hash = fnv1a(failed[i], strlen(failed[i]));
			c->key = failed[i];
			memcpy(c->name, name, sizeof name);
			found = c->name;
		} else {
			free(failed[i]);
		}
	}
	return found;
}

/*
 * The server restarted or the link broke: connect again (prepared statements went with the old
 * session). 0 on success.
 */
static int reconnect(struct pg_db *db)
{
	PQreset(db->c);
	if (PQstatus(db->c) != CONNECTION_OK)
		return -1;
	for (size_t i = 0; i < db->ncache; i++)
		free(db->cache[i].key);
	db->ncache = 0;
	PGresult *r = PQexec(db->c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	PQclear(r);
	return 0;
}

/* Remember whether a transaction is open (kept as is when the link is broken). */
static void note_tx(struct pg_db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(db->c);
	if (t == PQTRANS_IDLE)
		db->tx = 0;
	else if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
		db->tx = 1;
}

/*
 * Before talking to the server: a connection found broken is replaced, but a transaction open
 * on it is lost, which the caller learns by errors until it rolls back. 0 to go on.
 */
static int check_link(struct pg_db *db)
{
	if (!db->lost && PQstatus(db->c) == CONNECTION_BAD) {
		int was_tx = db->tx;
		int failed = reconnect(db);
		db->tx = 0;
		if (was_tx)
			db->lost = 1;
		else if (failed) {
			set_err(db, "la connexion à PostgreSQL est perdue");
			return -1;
		}
	}
	if (db->lost) {
		set_err(db,
		        "la connexion à PostgreSQL a été perdue pendant la transaction, qui est "
		        "annulée");
		return -1;
	}
	return 0;
}

/* Does the statement write (INSERT, UPDATE, DELETE, possibly after a WITH)? */
static int is_write(const char *sql)
{
	while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '(')
		sql++;
	return !strncasecmp(sql, "INSERT", 6) || !strncasecmp(sql, "UPDATE", 6) ||
	       !strncasecmp(sql, "DELETE", 6) || !strncasecmp(sql, "WITH", 4);
}

static int execute(struct pg_stmt *st)
{
	struct pg_db *db = st->db;
	Oid types[st->nparams + 1];
	char sig[st->nparams + 1];
	if (check_link(db))
		return DB_ERROR;
	if (PQtransactionStatus(db->c) == PQTRANS_INERROR) {
		set_err(db, "la transaction a été interrompue par une erreur précédente");
		return DB_ERROR;
	}
	const char *name = ensure_prepared(st, types, sig);
	if (!name)
		return DB_ERROR;
	/*
	 * SQLite undoes a failed statement only, and the transaction goes on; PostgreSQL aborts the
	 * whole transaction. Writes inside a transaction get a savepoint so that a caller may go
	 * on after a constraint error, as on SQLite.
	 */
	int sp = !db->bulk && PQtransactionStatus(db->c) == PQTRANS_INTRANS && is_write(st->sql);
	if (sp && simple(db, "SAVEPOINT maillage_stmt"))
		return DB_ERROR;
	PGresult *res;
	if (*name) {
		res = PQexecPrepared(db->c, name, st->nparams, (const char *const *)st->values,
		                     NULL, NULL, 0);
	} else {
		res = PQexecParams(db->c, st->sql, st->nparams, types,
		                   (const char *const *)st->values, NULL, NULL, 0);
	}
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		int rc = map_error(db, res);
		note_tx(db);
		if (db->debug)
			fprintf(stderr, "maillage: pg exec %s: %s\n  %s\n", sqlstate(res), db->err,
			        st->sql);
		PQclear(res);
		if (sp) {
			char *saved = xstrdup(db->err);
			simple(db, "ROLLBACK TO SAVEPOINT maillage_stmt");
			simple(db, "RELEASE SAVEPOINT maillage_stmt");
			set_err(db, saved);
			free(saved);
		}
		return rc;
	}
	if (sp && simple(db, "RELEASE SAVEPOINT maillage_stmt")) {
		PQclear(res);
		return DB_ERROR;
	}
	note_tx(db);
	st->res = res;
	st->row = -1;
	return DB_OK;
}

static int pg_step(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	if (st->done)
		return DB_DONE;
	if (!st->res) {
		int rc = execute(st);
		/* A connection found dead (server restarted) outside a transaction: once more on a
		 * new one, as nothing was done. */
		if (rc != DB_OK && PQstatus(st->db->c) == CONNECTION_BAD && !st->db->tx &&
		    !st->db->lost && !reconnect(st->db))
			rc = execute(st);
		if (rc != DB_OK) {
			st->done = 1;
			return rc;
		}
	}
	st->row++;
	if (st->row < PQntuples(st->res))
		return DB_ROW;
	st->done = 1;
	return DB_DONE;
}

static void pg_reset(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->done = 0;
	for (int i = 0; i < st->nparams; i++) {
		free(st->values[i]);
		st->values[i] = NULL;
		st->kinds[i] = P_NULL;
	}
}

static int has_cell(struct pg_stmt *st, int i)
{
	return st->res && st->row >= 0 && st->row < PQntuples(st->res) && i >= 0 &&
	       i < PQnfields(st->res);
}

static const char *pg_col_text(struct db_stmt *s, int i)
{
	struct pg_stmt *st = ST(s);
	if (!has_cell(st, i) || PQgetisnull(st->res, st->row, i))
		return NULL;
	const char *v = PQgetvalue(st->res, st->row, i);
	if (PQftype(st->res, i) == PG_BOOLOID)
		return *v == 't' ? "1" : "0"; /* as SQLite answers a comparison */
	return v;
}

static int64_t pg_col_int64(struct db_stmt *s, int i)
{
	const char *v = pg_col_text(s, i);
	if (!v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end == '.' || *end == 'e' || *end == 'E')
		return (int64_t)strtod(v, NULL);
	return n;
}

static double pg_col_double(struct db_stmt *s, int i)
{
	const char *v = pg_col_text(s, i);
	return v ? strtod(v, NULL) : 0.0;
}

static int pg_col_is_null(struct db_stmt *s, int i)
{
	struct pg_stmt *st = ST(s);
	return !has_cell(st, i) || PQgetisnull(st->res, st->row, i);
}

static int pg_col_count(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	if (!st->res && !st->done) {
		/* SQLite knows the columns before the first step: describe the statement. */
		Oid types[st->nparams + 1];
		char sig[st->nparams + 1];
		const char *name = ensure_prepared(st, types, sig);
		if (!name)
			return 0;
		PGresult *d = *name ? PQdescribePrepared(st->db->c, name) : NULL;
		int n = d ? PQnfields(d) : 0;
		PQclear(d);
		return n;
	}
	return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_col_name(struct db_stmt *s, int i)
{
	struct pg_stmt *st = ST(s);
	if (!st->res || i < 0 || i >= PQnfields(st->res))
		return NULL;
	return PQfname(st->res, i);
}

static void pg_finalize(struct db_stmt *s)
{
	struct pg_stmt *st = ST(s);
	pg_reset(s);
	free(st->values);
	free(st->kinds);
	free(st->sql);
	free(st);
}

/* --- connection ----------------------------------------------------------------------------------
 */

static int pg_exec(struct db *d, const char *sql)
{
	struct pg_db *db = (struct pg_db *)d;
	if (!strcasecmp(sql, "ROLLBACK") &&
	    (db->lost || (PQstatus(db->c) == CONNECTION_BAD && db->tx))) {
		/* The server rolled the transaction back when the link broke. */
		db->lost = 0;
		db->tx = 0;
		if (PQstatus(db->c) == CONNECTION_BAD)
			reconnect(db);
		return DB_OK;
	}
	if (check_link(db))
		return DB_ERROR;
	PGresult *res = PQexec(db->c, sql);
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int rc = DB_OK;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
		rc = map_error(db, res);
		if (db->debug)
			fprintf(stderr, "maillage: pg exec: %s\n", db->err);
	}
	PQclear(res);
	note_tx(db);
	return rc;
}

void db_pg_bulk(struct db *d, int on)
{
	if (strcmp(d->ops->name, "postgresql") == 0)
		((struct pg_db *)d)->bulk = on;
}

static const char *pg_errmsg(struct db *d)
{
	struct pg_db *db = (struct pg_db *)d;
	return db->err ? db->err : "";
}

static void pg_close(struct db *d)
{
	struct pg_db *db = (struct pg_db *)d;
	PQfinish(db->c);
	for (size_t i = 0; i < db->ncache; i++)
		free(db->cache[i].key);
	free(db->cache);
	free(db->err);
	free(db);
}

static int pg_in_transaction(struct db *d)
{
	PGTransactionStatusType t = PQtransactionStatus(((struct pg_db *)d)->c);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static const struct db_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .prepare = pg_prepare,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .col_text = pg_col_text,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_is_null = pg_col_is_null,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .finalize = pg_finalize,
    .exec = pg_exec,
    .errmsg = pg_errmsg,
    .in_transaction = pg_in_transaction,
};

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* libpq's message, first line, without anything that could hold a password. */
static char *clean_message(const char *m)
{
	char *s = xstrdup(m ? m : "");
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	/* libpq never prints the password; URLs it could echo are cut at the '@' anyway. */
	char *at = strstr(s, "://");
	if (at) {
		char *e = strchr(at, '@');
		if (e)
			memmove(at + 3, e + 1, strlen(e + 1) + 1);
	}
	return s;
}

struct db *db_pg_open(const char *url, char **err)
{
	PGconn *c = PQconnectdb(url);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		if (err) {
			char *why = clean_message(c ? PQerrorMessage(c) : "mémoire insuffisante");
			const char *host = c && PQhost(c) ? PQhost(c) : "?";
			const char *port = c && PQport(c) ? PQport(c) : "?";
			const char *name = c && PQdb(c) ? PQdb(c) : "?";
			*err = xasprintf("impossible de se connecter à PostgreSQL (base « %s » sur "
			                 "%s, port %s) : %s",
			                 name, host, port, why);
			free(why);
		}
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	PGresult *res = PQexec(c, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
	PQclear(res);
	struct pg_db *db = xcalloc(1, sizeof *db);
	db->base.ops = &pg_ops;
	db->c = c;
	db->debug = getenv("MAILLAGE_PG_DEBUG") != NULL;
	return &db->base;
}
