/* db: backend dispatch, convenience wrappers and the migration runner. */
#include "db.h"

#include "embed.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db *db_open(const char *url, char **err)
{
	if (err)
		*err = NULL;
	if (!url || !*url) {
		if (err)
			*err = xstrdup("aucune base de données indiquée (--db ou MAILLAGE_DB)");
		return NULL;
	}
	if (db_is_pg_url(url))
		return db_pg_open(url, err);
	return db_sqlite_open(url, err);
}

int db_is_pg_url(const char *url)
{
	return url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11));
}

char *db_url_display(const char *url)
{
	if (!db_is_pg_url(url))
		return xstrdup(url ? url : "");
	/* postgresql://user:password@host… → postgresql://user@host… */
	const char *auth = strstr(url, "://") + 3;
	const char *at = strchr(auth, '@');
	const char *slash = strchr(auth, '/');
	const char *colon = strchr(auth, ':');
	if (!at || (slash && slash < at) || !colon || colon > at)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(colon - url), url, at);
}

int db_is_empty(struct db *db)
{
	int64_t n = 0;
	if (!strcmp(db_backend(db), "postgresql")) {
		if (db_int64f(db, &n,
		              "SELECT COUNT(*) FROM information_schema.tables "
		              "WHERE table_schema = current_schema()",
		              "") != DB_OK)
			return 0;
	} else if (db_int64f(db, &n, "SELECT COUNT(*) FROM sqlite_master", "") != DB_OK) {
		return 0;
	}
	return n == 0;
}

int db_wipe(struct db *db)
{
	if (strcmp(db_backend(db), "postgresql") != 0)
		return DB_ERROR; /* a SQLite file is removed instead */
	return db_exec(db, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

const char *db_backend(struct db *db)
{
	return db->ops->name;
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
	return db->ops->prepare(db, sql);
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
	if (v)
		st->ops->bind_text(st, i, v);
	else
		st->ops->bind_null(st, i);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	st->ops->bind_int64(st, i, v);
}

void db_bind_double(struct db_stmt *st, int i, double v)
{
	st->ops->bind_double(st, i, v);
}

void db_bind_null(struct db_stmt *st, int i)
{
	st->ops->bind_null(st, i);
}

static void bind_va(struct db_stmt *st, const char *types, va_list ap)
{
	int i = 1;
	for (const char *t = types; t && *t; t++, i++) {
		switch (*t) {
		case 's':
			db_bind_text(st, i, va_arg(ap, const char *));
			break;
		case 'i':
			db_bind_int64(st, i, va_arg(ap, int));
			break;
		case 'I':
			db_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			db_bind_double(st, i, va_arg(ap, double));
			break;
		case 'n':
			db_bind_null(st, i);
			break;
		default:
			fprintf(stderr, "maillage: bad bind type '%c'\n", *t);
			abort();
		}
	}
}

void db_bindf(struct db_stmt *st, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	bind_va(st, types, ap);
	va_end(ap);
}

int db_step(struct db_stmt *st)
{
	return st->ops->step(st);
}

void db_reset(struct db_stmt *st)
{
	st->ops->reset(st);
}

const char *db_col_text(struct db_stmt *st, int i)
{
	return st->ops->col_text(st, i);
}

int64_t db_col_int64(struct db_stmt *st, int i)
{
	return st->ops->col_int64(st, i);
}

double db_col_double(struct db_stmt *st, int i)
{
	return st->ops->col_double(st, i);
}

int db_col_is_null(struct db_stmt *st, int i)
{
	return st->ops->col_is_null(st, i);
}

int db_col_count(struct db_stmt *st)
{
	return st->ops->col_count(st);
}

const char *db_col_name(struct db_stmt *st, int i)
{
	return st->ops->col_name(st, i);
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->ops->finalize(st);
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

struct db_stmt *db_queryf(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return NULL;
	va_list ap;
	va_start(ap, types);
	bind_va(st, types, ap);
	va_end(ap);
	return st;
}

int db_execf(struct db *db, const char *sql, const char *types, ...)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERROR;
	va_list ap;
	va_start(ap, types);
	bind_va(st, types, ap);
	va_end(ap);
	int rc;
	while ((rc = db_step(st)) == DB_ROW)
		;
	db_finalize(st);
	return rc == DB_DONE ? DB_OK : rc;
}

int db_int64f(struct db *db, int64_t *out, const char *sql, const char *types, ...)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		return DB_ERROR;
	va_list ap;
	va_start(ap, types);
	bind_va(st, types, ap);
	va_end(ap);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*out = db_col_int64(st, 0);
		rc = DB_OK;
	}
	db_finalize(st);
	return rc;
}

int db_begin(struct db *db)
{
	if (!strcmp(db_backend(db), "postgresql")) {
		/*
		 * SQLite runs one writing transaction at a time (the others wait up to the busy
		 * timeout, 5 s): the code relies on it (numbers computed from what it reads). The
		 * same on PostgreSQL, across every server sharing the database: one
		 * transaction-level advisory lock, waited for 5 s at most. One round trip.
		 */
		int rc = db_exec(db, "BEGIN; SET LOCAL lock_timeout = '5s'; "
		                     "SELECT pg_advisory_xact_lock(7243500)");
		if (rc != DB_OK && db_in_transaction(db))
			db_exec(db, "ROLLBACK");
		return rc;
	}
	return db_exec(db, "BEGIN");
}

int db_in_transaction(struct db *db)
{
	return db->ops->in_transaction ? db->ops->in_transaction(db) : 0;
}

int db_commit(struct db *db)
{
	return db_exec(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	return db_exec(db, "ROLLBACK");
}

int db_schema_version(struct db *db)
{
	int64_t v = 0;
	if (db_int64f(db, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "") !=
	    DB_OK)
		return 0;
	return (int)v;
}

int db_migrate(struct db *db)
{
	/* In a transaction: on PostgreSQL, db_begin serialises servers starting together. */
	int rc0 = db_begin(db);
	if (rc0 == DB_OK)
		rc0 = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		                  "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
	if (rc0 == DB_OK)
		rc0 = db_commit(db);
	if (rc0 != DB_OK) {
		db_rollback(db);
		return DB_ERROR;
	}
	int have = db_schema_version(db);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "migrations/%s/", db_backend(db));
	/* Embedded files are sorted by name: 0001_x.sql, 0002_y.sql, ... */
	for (size_t i = 0; i < embed_count; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->name, prefix, strlen(prefix)) != 0)
			continue;
		int version = atoi(f->name + strlen(prefix));
		if (version <= have)
			continue;
		char *sql = xstrndup((const char *)f->data, f->size);
		char now[32];
		time_iso_now(now);
		int rc = db_begin(db);
		/* Another process may have applied it meanwhile (it held the lock). */
		int64_t done = 0;
		if (rc == DB_OK)
			rc = db_int64f(db, &done,
			               "SELECT COUNT(*) FROM schema_migrations WHERE version = ?",
			               "i", version);
		if (rc == DB_OK && done) {
			free(sql);
			if (db_commit(db) != DB_OK)
				return DB_ERROR;
			continue;
		}
		if (rc == DB_OK)
			rc = db_exec(db, sql);
		if (rc == DB_OK)
			rc = db_execf(db,
			              "INSERT INTO schema_migrations (version, applied_at) "
			              "VALUES (?, ?)",
			              "is", version, now);
		if (rc == DB_OK)
			rc = db_commit(db);
		free(sql);
		if (rc != DB_OK) {
			fprintf(stderr, "maillage: migration %s failed: %s\n", f->name,
			        db_errmsg(db));
			db_rollback(db);
			return DB_ERROR;
		}
	}
	return DB_OK;
}
