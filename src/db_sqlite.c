/* db_sqlite: the embedded SQLite backend of the storage interface. */
#include "db.h"

#include "util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct sq_db {
	struct db base;
	sqlite3 *h;
};

struct sq_stmt {
	struct db_stmt base;
	struct sq_db *db;
	sqlite3_stmt *h;
};

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	case SQLITE_CONSTRAINT:
		return DB_CONSTRAINT;
	default:
		return DB_ERROR;
	}
}

static void sq_close(struct db *d)
{
	struct sq_db *db = (struct sq_db *)d;
	sqlite3_close_v2(db->h);
	free(db);
}

static const struct db_ops sq_ops;

static struct db_stmt *sq_prepare(struct db *d, const char *sql)
{
	struct sq_db *db = (struct sq_db *)d;
	sqlite3_stmt *h = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &h, NULL) != SQLITE_OK)
		return NULL;
	struct sq_stmt *st = xcalloc(1, sizeof *st);
	st->base.ops = &sq_ops;
	st->db = db;
	st->h = h;
	return &st->base;
}

#define H(st) (((struct sq_stmt *)(st))->h)

static void sq_bind_text(struct db_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(H(st), i, v, -1, SQLITE_TRANSIENT);
}

static void sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(H(st), i, v);
}

static void sq_bind_double(struct db_stmt *st, int i, double v)
{
	sqlite3_bind_double(H(st), i, v);
}

static void sq_bind_null(struct db_stmt *st, int i)
{
	sqlite3_bind_null(H(st), i);
}

static int sq_step(struct db_stmt *st)
{
	return map_rc(sqlite3_step(H(st)));
}

static void sq_reset(struct db_stmt *st)
{
	sqlite3_reset(H(st));
	sqlite3_clear_bindings(H(st));
}

static const char *sq_col_text(struct db_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(H(st), i);
}

static int64_t sq_col_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(H(st), i);
}

static double sq_col_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(H(st), i);
}

static int sq_col_is_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(H(st), i) == SQLITE_NULL;
}

static int sq_col_count(struct db_stmt *st)
{
	return sqlite3_column_count(H(st));
}

static const char *sq_col_name(struct db_stmt *st, int i)
{
	return sqlite3_column_name(H(st), i);
}

static void sq_finalize(struct db_stmt *st)
{
	sqlite3_finalize(H(st));
	free(st);
}

static int sq_exec(struct db *d, const char *sql)
{
	struct sq_db *db = (struct sq_db *)d;
	return map_rc(sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

static const char *sq_errmsg(struct db *d)
{
	return sqlite3_errmsg(((struct sq_db *)d)->h);
}

static int sq_in_transaction(struct db *d)
{
	return !sqlite3_get_autocommit(((struct sq_db *)d)->h);
}

static const struct db_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_is_null = sq_col_is_null,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
    .finalize = sq_finalize,
    .exec = sq_exec,
    .errmsg = sq_errmsg,
    .in_transaction = sq_in_transaction,
};

struct db *db_sqlite_open(const char *path, char **err)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(
	    path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (err)
			*err = xasprintf("impossible d'ouvrir la base « %s » : %s", path,
			                 h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close_v2(h);
		return NULL;
	}
	sqlite3_busy_timeout(h, 5000);
	sqlite3_extended_result_codes(h, 0);
	const char *pragmas = "PRAGMA journal_mode = WAL;"
	                      "PRAGMA synchronous = NORMAL;"
	                      "PRAGMA foreign_keys = ON;";
	if (sqlite3_exec(h, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		if (err)
			*err = xasprintf("la base « %s » n'est pas une base SQLite utilisable : %s",
			                 path, sqlite3_errmsg(h));
		sqlite3_close_v2(h);
		return NULL;
	}
	struct sq_db *db = xcalloc(1, sizeof *db);
	db->base.ops = &sq_ops;
	db->h = h;
	return &db->base;
}
