/* db: the one storage interface of maillage; SQLite is the first backend behind it. */
#ifndef MAILLAGE_DB_H
#define MAILLAGE_DB_H

#include <stdint.h>

/*
 * Feature code talks to storage only through this interface. SQL is written once, with `?`
 * placeholders and bound values only (never a value formatted into SQL text), in the subset of
 * SQL that SQLite and PostgreSQL share (RETURNING id for inserted rows, ISO-8601 text for times).
 * A backend translates placeholders if it needs to.
 *
 * A `struct db` is one connection, used by one thread at a time. Result codes: DB_OK, DB_ROW,
 * DB_DONE, DB_CONSTRAINT (a UNIQUE/FOREIGN KEY/CHECK violation), DB_ERROR; the message of the
 * last error stays on the connection (db_errmsg).
 */
struct db;
struct db_stmt;

enum { DB_OK = 0, DB_ERROR = 1, DB_CONSTRAINT = 2, DB_ROW = 100, DB_DONE = 101 };

/*
 * Open the database named by `url`: a file path (SQLite), or a postgresql:// URL. On failure
 * returns NULL and, if err is not NULL, sets *err to a malloc'ed French message (caller frees).
 * Every open applies pragmas (WAL, foreign keys, busy timeout); migrations are separate.
 */
struct db *db_open(const char *url, char **err);
void db_close(struct db *db);
/* The last error message on this connection; valid until the next call on it. */
const char *db_errmsg(struct db *db);
/* "sqlite" or "postgresql". */
const char *db_backend(struct db *db);

/* Prepare one statement. NULL on error (see db_errmsg). Free with db_finalize. */
struct db_stmt *db_prepare(struct db *db, const char *sql);
/* Bind parameter i (1-based). Text is copied. A NULL text binds SQL NULL. */
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_double(struct db_stmt *st, int i, double v);
void db_bind_null(struct db_stmt *st, int i);
/*
 * Bind several parameters from position 1 by a type string: 's' text (const char *, NULL for
 * SQL NULL), 'i' int, 'I' int64_t, 'd' double, 'n' SQL NULL (no argument).
 */
void db_bindf(struct db_stmt *st, const char *types, ...);
/* Step: DB_ROW while rows come, DB_DONE at the end, DB_ERROR/DB_CONSTRAINT on failure. */
int db_step(struct db_stmt *st);
/* Rewind for another execution with new bindings. */
void db_reset(struct db_stmt *st);
/* Column accessors (0-based) for the current row. Text is valid until the next step/finalize;
 * NULL for SQL NULL. */
const char *db_col_text(struct db_stmt *st, int i);
int64_t db_col_int64(struct db_stmt *st, int i);
double db_col_double(struct db_stmt *st, int i);
int db_col_is_null(struct db_stmt *st, int i);
int db_col_count(struct db_stmt *st);
const char *db_col_name(struct db_stmt *st, int i);
void db_finalize(struct db_stmt *st);

/* Run SQL with no parameters and no result (may hold several statements). */
int db_exec(struct db *db, const char *sql);
/* Prepare, bind by `types` (as db_bindf), step once to completion. Returns DB_OK or an error. */
int db_execf(struct db *db, const char *sql, const char *types, ...);
/* Prepare + bind; NULL on error. The caller steps and finalizes. */
struct db_stmt *db_queryf(struct db *db, const char *sql, const char *types, ...);
/* First column of the first row as an integer; returns DB_OK, DB_DONE (no row) or an error. */
int db_int64f(struct db *db, int64_t *out, const char *sql, const char *types, ...);

int db_begin(struct db *db);
/* Whether a transaction is open on this connection (begun and not yet committed/rolled back). */
int db_in_transaction(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Apply every embedded migration not applied yet, each in its own transaction. */
int db_migrate(struct db *db);
/* The highest migration applied (0 for an empty database). */
int db_schema_version(struct db *db);

/* The backend vtable; a backend fills one of these. Internal to db*.c. */
struct db_ops {
	const char *name;
	void (*close)(struct db *);
	struct db_stmt *(*prepare)(struct db *, const char *);
	void (*bind_text)(struct db_stmt *, int, const char *);
	void (*bind_int64)(struct db_stmt *, int, int64_t);
	void (*bind_double)(struct db_stmt *, int, double);
	void (*bind_null)(struct db_stmt *, int);
	int (*step)(struct db_stmt *);
	void (*reset)(struct db_stmt *);
	const char *(*col_text)(struct db_stmt *, int);
	int64_t (*col_int64)(struct db_stmt *, int);
	double (*col_double)(struct db_stmt *, int);
	int (*col_is_null)(struct db_stmt *, int);
	int (*col_count)(struct db_stmt *);
	const char *(*col_name)(struct db_stmt *, int);
	void (*finalize)(struct db_stmt *);
	int (*exec)(struct db *, const char *);
	const char *(*errmsg)(struct db *);
	int (*in_transaction)(struct db *); /* optional */
};

/* Common head of every backend's connection and statement. */
struct db {
	const struct db_ops *ops;
};
struct db_stmt {
	const struct db_ops *ops;
};

struct db *db_sqlite_open(const char *path, char **err);
struct db *db_pg_open(const char *url, char **err);
/*
 * PostgreSQL: writes inside a transaction normally run under a savepoint each, so that a
 * failed one (a constraint) leaves the transaction usable as on SQLite. Bulk loaders that
 * roll back on any error may turn that off (on = 1) to save two round trips per write.
 * No effect on SQLite.
 */
void db_pg_bulk(struct db *db, int on);
/* PostgreSQL: `?` → $1, $2… outside literals, quoted names and comments (malloc'ed); *n the
 * number of parameters. Exposed for the tests. */
char *db_pg_translate(const char *sql, int *n);
/* Whether a --db value names a PostgreSQL database (postgresql:// or postgres://). */
int db_is_pg_url(const char *url);
/* The URL to show to people and in logs: without its password (malloc'ed). */
char *db_url_display(const char *url);
/* Whether the database holds no table at all (a new PostgreSQL database, a new file). */
int db_is_empty(struct db *db);
/* PostgreSQL: drop everything (the public schema) and recreate it empty; DB_ERROR on SQLite. */
int db_wipe(struct db *db);

#endif
