/* test_core: storage interface, migrations, routing, passwords and roles, Markdown, renumbering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth.h"
#include "db.h"
#include "embed.h"
#include "harness.h"
#include "http.h"
#include "plans.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];

static struct db *fresh_db(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *err = NULL;
	struct db *db = db_open(path, &err);
	assert_non_null(db);
	free(path);
	assert_int_equal(db_migrate(db), DB_OK);
	return db;
}

static void test_db_open_errors(void **state)
{
	(void)state;
	char *err = NULL;
	/* Nothing listens on port 1: a French message, without the password. */
	assert_null(db_open("postgresql://u:motdepasse-secret@127.0.0.1:1/x", &err));
	assert_non_null(strstr(err, "impossible de se connecter à PostgreSQL"));
	assert_null(strstr(err, "motdepasse-secret"));
	free(err);
	assert_null(db_open("", &err));
	assert_non_null(strstr(err, "--db"));
	free(err);
	char *bad = xasprintf("%s/nope/deeper/x.db", dir);
	assert_null(db_open(bad, &err));
	assert_non_null(strstr(err, "impossible d'ouvrir"));
	free(err);
	free(bad);
}

static void test_migrations_idempotent_and_constraints(void **state)
{
	(void)state;
	struct db *db = fresh_db("m.db");
	int migrations = 0;
	for (size_t i = 0; i < embed_count; i++)
		migrations += !strncmp(embed_files[i].name, "migrations/sqlite/", 18);
	assert_true(migrations >= 2);
	assert_int_equal(db_schema_version(db), migrations);
	assert_int_equal(db_migrate(db), DB_OK); /* a second run changes nothing */
	assert_int_equal(db_schema_version(db), migrations);
	int64_t n = 0;
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM tags WHERE plan_id IS NULL", ""),
	                 DB_OK);
	assert_int_equal(n, 7); /* the 7 CTG thematic fields */
	/* Foreign keys are enforced. */
	assert_int_equal(db_execf(db,
	                          "INSERT INTO communes (code, name, departement) VALUES "
	                          "('99999', 'X', 'ZZ')",
	                          ""),
	                 DB_CONSTRAINT);
	/* CHECK constraints too. */
	assert_int_equal(db_execf(db,
	                          "INSERT INTO users (email, name, password_hash, role, "
	                          "created_at) VALUES ('a@b.fr', 'A', 'h', 'god', 'now')",
	                          ""),
	                 DB_CONSTRAINT);
	/* Bound values are never SQL. */
	const char *hostile = "x'); DROP TABLE communes; --";
	assert_int_equal(db_execf(db, "INSERT INTO departements (code, name) VALUES (?, ?)", "ss",
	                          "26", hostile),
	                 DB_OK);
	struct db_stmt *st =
	    db_queryf(db, "SELECT name FROM departements WHERE code = ?", "s", "26");
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), hostile);
	assert_int_equal(db_step(st), DB_DONE);
	db_finalize(st);
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM communes", ""), DB_OK);
	/* RETURNING, NULLs, doubles. */
	int64_t id = 0;
	assert_int_equal(db_int64f(db, &id,
	                           "INSERT INTO communes (code, name, departement, latitude) "
	                           "VALUES (?, ?, ?, ?) RETURNING rowid",
	                           "sssd", "26108", "Crest", "26", 44.7284),
	                 DB_OK);
	assert_true(id > 0);
	st =
	    db_queryf(db, "SELECT latitude, population FROM communes WHERE code = ?", "s", "26108");
	assert_int_equal(db_step(st), DB_ROW);
	assert_true(db_col_double(st, 0) > 44.72 && db_col_double(st, 0) < 44.73);
	assert_true(db_col_is_null(st, 1));
	db_finalize(st);
	/* Rollback leaves nothing. */
	assert_int_equal(db_begin(db), DB_OK);
	assert_int_equal(db_execf(db, "DELETE FROM communes", ""), DB_OK);
	assert_int_equal(db_rollback(db), DB_OK);
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM communes", ""), DB_OK);
	assert_int_equal(n, 1);
	assert_null(db_prepare(db, "SELEC nonsense"));
	assert_non_null(db_errmsg(db));
	db_close(db);
}

static void test_route_match(void **state)
{
	(void)state;
	const char *p[8];
	int n = 0;
	char *store = NULL;
	assert_true(route_match("/plans/{id}", "/plans/12", p, &n, &store));
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "12");
	free(store);
	assert_false(route_match("/plans/{id}", "/plans/", p, &n, &store));
	assert_false(route_match("/plans/{id}", "/plans/1/x", p, &n, &store));
	assert_false(route_match("/plans", "/plans/", p, &n, &store));
	assert_true(route_match("/a/{x}/b/{y}", "/a/1/b/deux", p, &n, &store));
	assert_int_equal(n, 2);
	assert_string_equal(p[1], "deux");
	free(store);
	assert_true(route_match("/static/{*}", "/static/css/a.css", p, &n, &store));
	assert_string_equal(p[0], "css/a.css");
	free(store);
	assert_true(route_match("/", "/", p, &n, &store));
	assert_int_equal(n, 0);
	free(store);
}

static void test_every_route_is_declared_well(void **state)
{
	(void)state;
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++) {
			assert_non_null(r->fn);
			assert_non_null(r->help);
			assert_true(r->methods != 0);
			assert_true(r->pattern[0] == '/');
			/* API routes live under /api/v1/. */
			if (!strncmp(r->pattern, "/api/", 5))
				assert_true(!strncmp(r->pattern, "/api/v1/", 8));
		}
}

/* Every API route is described in the OpenAPI document, and every path there is served. */
static void test_openapi_matches_routes(void **state)
{
	(void)state;
	const struct embed_file *f = embed_find("assets/openapi.json");
	assert_non_null(f);
	json_error_t je;
	json_t *doc = json_loadb((const char *)f->data, f->size, 0, &je);
	assert_non_null(doc);
	json_t *paths = json_object_get(doc, "paths");
	size_t routes = 0;
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++) {
			if (strncmp(r->pattern, "/api/", 5) != 0)
				continue;
			routes++;
			if (!json_object_get(paths, r->pattern))
				fail_msg("route %s is not in assets/openapi.json", r->pattern);
		}
	assert_true(routes >= 8);
	const char *key;
	json_t *v;
	json_object_foreach(paths, key, v)
	{
		int found = 0;
		for (const struct route *const *t = route_tables; *t && !found; t++)
			for (const struct route *r = *t; r->pattern && !found; r++)
				found = !strcmp(r->pattern, key);
		if (!found)
			fail_msg("assets/openapi.json documents %s, which no route serves", key);
	}
	json_decref(doc);
}

static void test_passwords_and_roles(void **state)
{
	(void)state;
	char hash[AUTH_HASH_MAX];
	assert_int_equal(auth_password_hash("correct horse battery", hash), 0);
	assert_true(!strncmp(hash, "$argon2id$", 10));
	assert_true(auth_password_verify(hash, "correct horse battery"));
	assert_false(auth_password_verify(hash, "correct horse batterY"));
	assert_false(auth_password_verify(hash, ""));
	assert_false(auth_password_verify("garbage", "x"));
	assert_non_null(auth_password_problem("court"));
	assert_null(auth_password_problem("assez-long-pour-passer"));
	assert_non_null(auth_password_problem("\xc3\x28\xc3\x28\xc3\x28\xc3\x28\xc3\x28\xc3\x28"));
	assert_null(auth_email_problem("prenom.nom@caf.fr"));
	const char *bad[] = {"",        "sans-arobase", "@caf.fr",       "a@",           "a@b",
	                     "a@@b.fr", "a b@c.fr",     "<script>@x.fr", "a@b.fr;c@d.fr"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_non_null(auth_email_problem(bad[i]));
	assert_int_equal(role_parse("coordinator"), ROLE_COORDINATOR);
	assert_int_equal(role_parse("root"), ROLE_NONE);
	assert_int_equal(role_parse(NULL), ROLE_NONE);
	assert_string_equal(role_label(ROLE_PILOT), "pilote");
	assert_true(ROLE_ADMIN > ROLE_COORDINATOR && ROLE_COORDINATOR > ROLE_PILOT &&
	            ROLE_PILOT > ROLE_PARTNER && ROLE_PARTNER > ROLE_READER &&
	            ROLE_READER > ROLE_PUBLIC);
}

static void test_markdown_is_safe(void **state)
{
	(void)state;
	struct buf b = {0};
	markdown_render(&b, "# Titre\n\n<script>alert(1)</script>\n\n[clic](javascript:alert(1)) "
	                    "[ok](https://www.caf.fr) [rel](/plans/1) [m](mailto:a@b.fr) "
	                    "[v](vbscript:x) [d](data:text/html,x)");
	const char *s = buf_str(&b);
	assert_non_null(strstr(s, "<h1>Titre</h1>"));
	assert_null(strstr(s, "<script>"));
	assert_non_null(strstr(s, "&lt;script&gt;"));
	assert_null(strstr(s, "javascript:"));
	assert_null(strstr(s, "vbscript:"));
	assert_null(strstr(s, "data:"));
	assert_non_null(strstr(s, "href=\"https://www.caf.fr\""));
	assert_non_null(strstr(s, "href=\"/plans/1\""));
	assert_non_null(strstr(s, "href=\"mailto:a@b.fr\""));
	buf_free(&b);
	markdown_render(&b, "   ");
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_renumber(void **state)
{
	(void)state;
	struct db *db = fresh_db("r.db");
	int64_t plan = 0;
	assert_int_equal(db_int64f(db, &plan,
	                           "INSERT INTO plans (kind, title, created_at, updated_at) "
	                           "VALUES ('ctg', 'P', 'x', 'x') RETURNING id",
	                           ""),
	                 DB_OK);
	/* Two roots inserted out of order, a child under the second. */
	int64_t a = 0, b = 0, c = 0;
	struct db_stmt *st;
	const char *ins = "INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, "
	                  "created_at, updated_at) VALUES (?, ?, ?, 0, 'x', ?, 'x', 'x') "
	                  "RETURNING id";
	assert_int_equal(db_int64f(db, &b, ins, "Inis", plan, 2, "B"), DB_OK);
	assert_int_equal(db_int64f(db, &a, ins, "Inis", plan, 1, "A"), DB_OK);
	assert_int_equal(db_int64f(db, &c, ins, "IIis", plan, b, 1, "B1"), DB_OK);
	assert_int_equal(plan_renumber(db, plan), DB_OK);
	const struct {
		int64_t *id;
		const char *number;
		int depth;
	} want[] = {{&a, "1", 0}, {&b, "2", 0}, {&c, "2.1", 1}};
	for (size_t i = 0; i < 3; i++) {
		st =
		    db_queryf(db, "SELECT number, depth FROM nodes WHERE id = ?", "I", *want[i].id);
		assert_int_equal(db_step(st), DB_ROW);
		assert_string_equal(db_col_text(st, 0), want[i].number);
		assert_int_equal(db_col_int64(st, 1), want[i].depth);
		db_finalize(st);
	}
	/* Move B before A: numbers follow. */
	db_execf(db, "UPDATE nodes SET position = 0 WHERE id = ?", "I", b);
	assert_int_equal(plan_renumber(db, plan), DB_OK);
	st = db_queryf(db, "SELECT number FROM nodes WHERE id = ?", "I", c);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "1.1");
	db_finalize(st);
	db_close(db);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	th_tmpdir(dir, sizeof dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_db_open_errors),
	    cmocka_unit_test(test_migrations_idempotent_and_constraints),
	    cmocka_unit_test(test_route_match),
	    cmocka_unit_test(test_every_route_is_declared_well),
	    cmocka_unit_test(test_openapi_matches_routes),
	    cmocka_unit_test(test_passwords_and_roles),
	    cmocka_unit_test(test_markdown_is_safe),
	    cmocka_unit_test(test_renumber),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
