/* test_pg_backend: the PostgreSQL backend itself — placeholders, types, prepared statements,
 * transactions and constraint errors as on SQLite, error messages, and the server's bounded
 * connection pool. Runs on PostgreSQL only (MAILLAGE_TEST_PG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "embed.h"
#include "harness.h"
#include "http.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static struct th T;

static int setup(void **state)
{
	(void)state;
	if (!th_is_pg()) {
		fprintf(stderr, "test_pg_backend: MAILLAGE_TEST_PG is not set\n");
		return -1;
	}
	th_start(&T, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static void check_translate(const char *in, const char *want, int want_n)
{
	int n = -1;
	char *out = db_pg_translate(in, &n);
	if (strcmp(out, want) != 0 || n != want_n)
		fail_msg("translate «%s»: got «%s» (%d), expected «%s» (%d)", in, out, n, want,
		         want_n);
	free(out);
}

static void test_placeholders(void **state)
{
	(void)state;
	check_translate("SELECT 1", "SELECT 1", 0);
	check_translate("SELECT ?, ?", "SELECT $1, $2", 2);
	check_translate("SELECT '?', ? FROM t WHERE a = 'it''s ?' AND b = ?",
	                "SELECT '?', $1 FROM t WHERE a = 'it''s ?' AND b = $2", 2);
	check_translate("SELECT \"od?d\" FROM t WHERE x = ?", "SELECT \"od?d\" FROM t WHERE x = $1",
	                1);
	check_translate("SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2", 2);
	check_translate("SELECT /* a ? /* nested ? */ b ? */ ?",
	                "SELECT /* a ? /* nested ? */ b ? */ $1", 1);
	check_translate("SELECT ?::text, CAST(? AS BIGINT)", "SELECT $1::text, CAST($2 AS BIGINT)",
	                2);
	check_translate("SELECT $$ ? $$, $tag$ ?'\" $tag$, ?",
	                "SELECT $$ ? $$, $tag$ ?'\" $tag$, $1", 1);
	check_translate("", "", 0);
}

static void test_types_round_trip(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	assert_string_equal(db_backend(db), "postgresql");
	struct db_stmt *st =
	    db_queryf(db, "SELECT ? + 1, ?, ?, CAST(? AS TEXT) IS NULL, 1 = 1, 1 = 2, '?', ? * 2",
	              "Idsni", (int64_t)9007199254740993LL, 2.5, "l’été « é » 'quoted' \"x\"", 21);
	assert_int_equal(db_col_count(st), 8);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), 9007199254740994LL);
	assert_true(db_col_double(st, 1) == 2.5);
	assert_string_equal(db_col_text(st, 2), "l’été « é » 'quoted' \"x\"");
	assert_int_equal(db_col_int64(st, 3), 1);
	assert_string_equal(db_col_text(st, 4), "1"); /* booleans read as SQLite's 1/0 */
	assert_int_equal(db_col_int64(st, 5), 0);
	assert_string_equal(db_col_text(st, 6), "?");
	assert_int_equal(db_col_int64(st, 7), 42);
	assert_false(db_col_is_null(st, 2));
	assert_int_equal(db_step(st), DB_DONE);
	/* Reset and run again with other values. */
	db_reset(st);
	db_bindf(st, "Idsni", (int64_t)-5, -0.25, NULL, 1);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_int64(st, 0), -4);
	assert_true(db_col_is_null(st, 2));
	assert_null(db_col_text(st, 2));
	assert_int_equal(db_col_int64(st, 7), 2);
	db_finalize(st);
	/* A parameter PostgreSQL cannot type alone (? IS NULL): typed as text, and the working
	 * signature is remembered for the next executions. */
	for (int i = 0; i < 3; i++) {
		st = db_queryf(db, "SELECT ? IS NULL, ?", "si", i ? "x" : NULL, i);
		assert_int_equal(db_step(st), DB_ROW);
		assert_int_equal(db_col_int64(st, 0), i ? 0 : 1);
		assert_int_equal(db_col_int64(st, 1), i);
		db_finalize(st);
	}
	/* Column names, known before the first step as on SQLite. */
	st = db_queryf(db, "SELECT id AS plan_id, title FROM plans WHERE id = ?", "i", 1);
	assert_int_equal(db_col_count(st), 2);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_name(st, 0), "plan_id");
	db_finalize(st);
	db_close(db);
}

/* Prepared once per connection and signature, however often it runs. */
static void test_statements_prepared_once(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	for (int i = 0; i < 50; i++) {
		int64_t v = 0;
		assert_int_equal(
		    db_int64f(db, &v, "SELECT COUNT(*) FROM plans WHERE id > ?", "i", i), DB_OK);
	}
	int64_t n = 0;
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement "
	                           "LIKE 'SELECT COUNT(*) FROM plans WHERE id > $1%'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, 1);
	db_close(db);
}

static int64_t count_tag(struct db *db, const char *slug)
{
	int64_t n = -1;
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM tags WHERE slug = ?", "s", slug),
	                 DB_OK);
	return n;
}

static void test_transactions(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	/* Rolled back: nothing. */
	assert_int_equal(db_begin(db), DB_OK);
	assert_true(db_in_transaction(db));
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-a"),
	                 DB_OK);
	assert_int_equal(db_rollback(db), DB_OK);
	assert_false(db_in_transaction(db));
	assert_int_equal(count_tag(db, "pg-tx-a"), 0);
	/* A constraint error inside a transaction: DB_CONSTRAINT, and the transaction goes on as
	 * on SQLite (the failed statement only is undone). */
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-b"),
	                 DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-b"),
	                 DB_CONSTRAINT);
	assert_non_null(strstr(db_errmsg(db), "duplicate key"));
	assert_int_equal(
	    db_execf(
	        db,
	        "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, 'bad-kind', 'z', 'x')",
	        ""),
	    DB_CONSTRAINT); /* CHECK */
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-c"),
	                 DB_OK);
	assert_int_equal(db_commit(db), DB_OK);
	assert_int_equal(count_tag(db, "pg-tx-b"), 1);
	assert_int_equal(count_tag(db, "pg-tx-c"), 1);
	/* Bulk mode: no savepoints, a failed write aborts the transaction (PostgreSQL's way). */
	db_pg_bulk(db, 1);
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-b"),
	                 DB_CONSTRAINT);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	                          "'thematique', ?, 'x')",
	                          "s", "pg-tx-e"),
	                 DB_ERROR);
	assert_int_equal(db_rollback(db), DB_OK);
	db_pg_bulk(db, 0);
	assert_int_equal(count_tag(db, "pg-tx-e"), 0);
	/* A foreign key error outside a transaction. */
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_members (plan_id, user_id, role) VALUES "
	                          "(999999, 999999, 'reader')",
	                          ""),
	                 DB_CONSTRAINT);
	/* A syntax error is an error, not a constraint, with the server's message. */
	assert_int_equal(db_execf(db, "SELEC 1", ""), DB_ERROR);
	assert_non_null(strstr(db_errmsg(db), "syntax"));
	/* RETURNING id gives the identity value. */
	struct db_stmt *st =
	    db_queryf(db,
	              "INSERT INTO tags (plan_id, kind, slug, label) VALUES (NULL, "
	              "'thematique', ?, 'x') RETURNING id",
	              "s", "pg-tx-d");
	assert_int_equal(db_step(st), DB_ROW);
	assert_true(db_col_int64(st, 0) > 7);
	db_finalize(st);
	/* Several statements at once. */
	assert_int_equal(db_exec(db, "CREATE TEMP TABLE t1 (a BIGINT); INSERT INTO t1 VALUES (1); "
	                             "INSERT INTO t1 VALUES (2)"),
	                 DB_OK);
	int64_t n = 0;
	assert_int_equal(db_int64f(db, &n, "SELECT SUM(a) FROM t1", ""), DB_OK);
	assert_int_equal(n, 3);
	db_close(db);
}

static void test_connection_errors_in_french(void **state)
{
	(void)state;
	char *err = NULL;
	char *base = th_pg_base_url();
	char *url = th_pg_url_with_db(base, "maillage_no_such_database");
	assert_null(db_open(url, &err));
	assert_non_null(strstr(err, "impossible de se connecter à PostgreSQL"));
	assert_non_null(strstr(err, "maillage_no_such_database"));
	free(err);
	free(url);
	free(base);
	assert_null(db_open("postgresql://someone:s3cr3t-pw@127.0.0.1:1/x", &err));
	assert_null(strstr(err, "s3cr3t-pw"));
	free(err);
}

/* Every SQLite migration has its PostgreSQL twin, by the same name. */
static void test_migrations_have_twins(void **state)
{
	(void)state;
	int n = 0;
	for (size_t i = 0; i < embed_count; i++) {
		const char *name = embed_files[i].name;
		if (strncmp(name, "migrations/sqlite/", 18) != 0)
			continue;
		char *twin = xasprintf("migrations/postgresql/%s", name + 18);
		if (!embed_find(twin))
			fail_msg("%s has no PostgreSQL twin %s", name, twin);
		free(twin);
		n++;
	}
	assert_true(n >= 5);
}

/* The SQLite type of a column as PostgreSQL names its twin (the conventions of the brief). */
static const char *pg_type_of(const char *sqlite_type)
{
	if (!strcasecmp(sqlite_type, "INTEGER"))
		return "bigint";
	if (!strcasecmp(sqlite_type, "REAL"))
		return "double precision";
	if (!strcasecmp(sqlite_type, "TEXT") || !*sqlite_type)
		return "text";
	return sqlite_type;
}

/* Both migrated schemas hold the same tables and columns, in the same order, with the
 * corresponding types and NOT NULL constraints (search_index differs by design). */
static void test_schemas_match(void **state)
{
	(void)state;
	char dir[256];
	th_tmpdir(dir, sizeof dir);
	char *path = xasprintf("%s/s.db", dir);
	struct db *sq = db_open(path, NULL);
	assert_non_null(sq);
	assert_int_equal(db_migrate(sq), DB_OK);
	struct db *pg = th_db(&T);
	assert_int_equal(db_schema_version(sq), db_schema_version(pg));
	struct db_stmt *tabs =
	    db_queryf(sq,
	              "SELECT name FROM sqlite_master WHERE type = 'table' AND "
	              "name NOT LIKE 'search_index%' AND name NOT LIKE 'sqlite%' "
	              "ORDER BY name",
	              "");
	int tables = 0;
	while (db_step(tabs) == DB_ROW) {
		const char *t = db_col_text(tabs, 0);
		struct db_stmt *a = db_queryf(
		    sq, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
		    "s", t);
		struct db_stmt *b = db_queryf(pg,
		                              "SELECT column_name, data_type, is_nullable FROM "
		                              "information_schema.columns WHERE table_schema = "
		                              "current_schema() AND table_name = ? ORDER BY "
		                              "ordinal_position",
		                              "s", t);
		int ra, rb;
		while ((ra = db_step(a)) == DB_ROW) {
			rb = db_step(b);
			if (rb != DB_ROW)
				fail_msg("%s.%s: no such column on PostgreSQL", t,
				         db_col_text(a, 0));
			const char *name = db_col_text(a, 0);
			if (strcmp(name, db_col_text(b, 0)) != 0)
				fail_msg(
				    "%s: column %s on SQLite, %s on PostgreSQL at the same place",
				    t, name, db_col_text(b, 0));
			/* schema_migrations.version is created by db.c with INTEGER on both. */
			const char *want = pg_type_of(db_col_text(a, 1));
			if (strcmp(t, "schema_migrations") && strcmp(want, db_col_text(b, 1)) != 0)
				fail_msg("%s.%s: %s on SQLite, %s on PostgreSQL (expected %s)", t,
				         name, db_col_text(a, 1), db_col_text(b, 1), want);
			int sq_notnull = db_col_int64(a, 2) || db_col_int64(a, 3);
			int pg_notnull = !strcmp(db_col_text(b, 2), "NO");
			if (sq_notnull != pg_notnull && !db_col_int64(a, 3))
				fail_msg("%s.%s: NOT NULL on one backend only", t, name);
		}
		if (db_step(b) == DB_ROW)
			fail_msg("%s.%s: on PostgreSQL only", t, db_col_text(b, 0));
		db_finalize(a);
		db_finalize(b);
		tables++;
	}
	db_finalize(tabs);
	assert_true(tables > 40);
	int64_t n = 0;
	assert_int_equal(db_int64f(pg, &n,
	                           "SELECT COUNT(*) FROM information_schema.tables WHERE "
	                           "table_schema = current_schema() AND table_type = 'BASE TABLE'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, tables + 1); /* + search_index */
	db_close(pg);
	db_close(sq);
	free(path);
	th_rmdir(dir);
}

/* A connection killed by the server (a restart) is replaced, outside transactions. */
static void test_reconnects(void **state)
{
	(void)state;
	struct db *db = th_db(&T), *killer = th_db(&T);
	int64_t pid = 0, n = 0;
	assert_int_equal(db_int64f(db, &pid, "SELECT pg_backend_pid()", ""), DB_OK);
	assert_int_equal(db_int64f(killer, &n, "SELECT COUNT(*) FROM plans", ""), DB_OK);
	assert_int_equal(
	    db_execf(killer, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", "I", pid), DB_OK);
	usleep(100000);
	int64_t again = 0;
	assert_int_equal(db_int64f(db, &again, "SELECT COUNT(*) FROM plans", ""), DB_OK);
	assert_int_equal(again, n);
	/* Inside a transaction the loss is reported, and a rollback brings the connection back. */
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(db_int64f(db, &pid, "SELECT pg_backend_pid()", ""), DB_OK);
	assert_int_equal(
	    db_execf(killer, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", "I", pid), DB_OK);
	usleep(100000);
	assert_int_equal(db_int64f(db, &again, "SELECT COUNT(*) FROM plans", ""), DB_ERROR);
	/* Nothing runs outside the lost transaction before the caller rolls back. */
	assert_int_equal(db_int64f(db, &again, "SELECT COUNT(*) FROM plans", ""), DB_ERROR);
	assert_int_equal(db_execf(db, "DELETE FROM tags WHERE slug = 'pg-tx-c'", ""), DB_ERROR);
	assert_int_equal(db_rollback(db), DB_OK);
	assert_int_equal(count_tag(db, "pg-tx-c"), 1);
	assert_int_equal(db_int64f(db, &again, "SELECT COUNT(*) FROM plans", ""), DB_OK);
	db_close(killer);
	db_close(db);
}

/* Writing transactions run one at a time, as on SQLite, across connections (and servers). */
struct begin_arg {
	struct db *db;
	volatile int done;
	int rc;
};

static void *begin_later(void *p)
{
	struct begin_arg *a = p;
	a->rc = db_begin(a->db);
	a->done = 1;
	return NULL;
}

static void test_transactions_serialised(void **state)
{
	(void)state;
	struct db *a = th_db(&T), *b = th_db(&T);
	assert_int_equal(db_begin(a), DB_OK);
	struct begin_arg arg = {b, 0, -1};
	pthread_t th;
	pthread_create(&th, NULL, begin_later, &arg);
	usleep(300000);
	assert_false(arg.done); /* waiting for a */
	assert_int_equal(db_commit(a), DB_OK);
	pthread_join(th, NULL);
	assert_int_equal(arg.rc, DB_OK);
	assert_int_equal(db_rollback(b), DB_OK);
	/* Reads need no transaction and never wait. */
	assert_int_equal(db_begin(a), DB_OK);
	int64_t n = 0;
	assert_int_equal(db_int64f(b, &n, "SELECT COUNT(*) FROM plans", ""), DB_OK);
	assert_int_equal(db_rollback(a), DB_OK);
	db_close(a);
	db_close(b);
}

/* --- the pool: bounded, with a bounded wait, then 503 ----------------------------------------- */

struct slow {
	struct th *t;
	long status;
};

static void *slow_request(void *arg)
{
	struct slow *s = arg;
	struct client *c = client_new(s->t);
	struct resp r;
	client_get(c, "/", &r);
	s->status = r.status;
	resp_free(&r);
	client_free(c);
	return NULL;
}

static void test_pool_bounded_503(void **state)
{
	(void)state;
	struct server_config cfg = {.db_url = T.db_path,
	                            .listen = "127.0.0.1:0",
	                            .threads = 4,
	                            .max_body = 1u << 20,
	                            .quiet = 1,
	                            .pool_max = 1,
	                            .pool_wait_ms = 300};
	char *err = NULL;
	struct server *srv = server_start(&cfg, &err);
	assert_non_null(srv);
	struct th t2 = T;
	t2.port = server_port(srv);
	/* Hold the plans table: the home page's request waits on it with the one connection. */
	struct db *locker = th_db(&T);
	assert_int_equal(db_begin(locker), DB_OK);
	assert_int_equal(db_exec(locker, "LOCK TABLE plans IN ACCESS EXCLUSIVE MODE"), DB_OK);
	struct slow s = {&t2, 0};
	pthread_t th;
	pthread_create(&th, NULL, slow_request, &s);
	usleep(300000);
	/* Another request finds the pool exhausted, waits 300 ms, then gets a 503 in JSON. */
	struct client *c = client_new(&t2);
	struct resp r;
	client_get(c, "/api/v1/plans", &r);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(buf_str(&r.body), "saturé"));
	assert_non_null(strstr(buf_str(&r.body), "\"error\""));
	resp_free(&r);
	/* Release: the waiting request completes, and the pool serves again. */
	assert_int_equal(db_rollback(locker), DB_OK);
	db_close(locker);
	pthread_join(th, NULL);
	assert_int_equal(s.status, 200);
	client_get(c, "/api/v1/plans", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	client_free(c);
	server_stop(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_types_round_trip),
	    cmocka_unit_test(test_statements_prepared_once),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_connection_errors_in_french),
	    cmocka_unit_test(test_migrations_have_twins),
	    cmocka_unit_test(test_schemas_match),
	    cmocka_unit_test(test_reconnects),
	    cmocka_unit_test(test_transactions_serialised),
	    cmocka_unit_test(test_pool_bounded_503),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
