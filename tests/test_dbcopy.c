/* test_dbcopy: copying a whole instance (SQLite → SQLite, and SQLite → PostgreSQL → SQLite when
 * MAILLAGE_TEST_PG names a server), backups and restores, refused targets and damaged files;
 * the generator's reproducibility and the national roll-up against the plan dashboard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dashboard.h"
#include "db.h"
#include "dbcopy.h"
#include "demo.h"
#include "gen.h"
#include "harness.h"
#include "rollup.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static char *A; /* the demo instance */

static char *path(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static struct db *open_migrated(const char *url)
{
	char *err = NULL;
	struct db *db = db_open(url, &err);
	if (!db)
		fail_msg("db_open %s: %s", url, err);
	assert_int_equal(db_migrate(db), DB_OK);
	return db;
}

static int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_int64f(db, &n, sql, ""), DB_OK);
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	th_tmpdir(dir, sizeof dir);
	A = path("a.db");
	char *err = NULL;
	struct db *db = db_open(A, &err);
	if (!db || db_migrate(db) != DB_OK || demo_load(db, &err)) {
		fprintf(stderr, "setup: %s\n", err ? err : "?");
		return -1;
	}
	db_close(db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_rmdir(dir);
	free(A);
	return 0;
}

/* Two reports name the same tables with the same counts and checksums. */
static void assert_same(const struct dbcopy_report *a, const struct dbcopy_report *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		int found = 0;
		for (size_t j = 0; j < b->n; j++) {
			if (strcmp(a->t[i].name, b->t[j].name))
				continue;
			found = 1;
			if (a->t[i].rows_src != b->t[j].rows_src ||
			    strcmp(a->t[i].sum_src, b->t[j].sum_src))
				fail_msg("table %s: %lld rows %s vs %lld rows %s", a->t[i].name,
				         (long long)a->t[i].rows_src, a->t[i].sum_src,
				         (long long)b->t[j].rows_src, b->t[j].sum_src);
		}
		if (!found)
			fail_msg("table %s missing", a->t[i].name);
	}
}

static void checksums(const char *url, struct dbcopy_report *rep)
{
	struct db *db = open_migrated(url);
	char *err = NULL;
	if (dbcopy_checksums(db, rep, &err))
		fail_msg("checksums %s: %s", url, err);
	db_close(db);
}

static int copy(const char *from, const char *to, int force, struct dbcopy_report *rep, char **err)
{
	struct db *s = open_migrated(from), *d = open_migrated(to);
	int rc = dbcopy_run(s, d, force, 0, rep, err);
	db_close(s);
	db_close(d);
	return rc;
}

static void test_copy_sqlite_to_sqlite(void **state)
{
	(void)state;
	char *B = path("b.db"), *err = NULL;
	struct dbcopy_report rep, ra, rb;
	assert_int_equal(copy(A, B, 0, &rep, &err), 0);
	assert_null(err);
	assert_true(rep.n >= 40);
	assert_true(rep.rows > 1000);
	int seen_measurements = 0, seen_nodes = 0;
	for (size_t i = 0; i < rep.n; i++) {
		assert_int_equal(rep.t[i].rows_src, rep.t[i].rows_dst);
		assert_string_equal(rep.t[i].sum_src, rep.t[i].sum_dst);
		assert_int_equal(strlen(rep.t[i].sum_src), 32);
		if (!strcmp(rep.t[i].name, "measurements")) {
			seen_measurements = 1;
			assert_true(rep.t[i].rows_src > 100);
		}
		if (!strcmp(rep.t[i].name, "nodes"))
			seen_nodes = 1;
		/* parents before children */
		if (!strcmp(rep.t[i].name, "fiches"))
			assert_true(seen_nodes);
		assert_null(strstr(rep.t[i].name, "search_"));
		assert_string_not_equal(rep.t[i].name, "schema_migrations");
	}
	assert_true(seen_measurements);
	dbcopy_report_free(&rep);
	/* recomputed independently on each side */
	checksums(A, &ra);
	checksums(B, &rb);
	assert_same(&ra, &rb);
	dbcopy_report_free(&ra);
	dbcopy_report_free(&rb);
	/* the full-text index of the copy was rebuilt by its triggers */
	struct db *a = open_migrated(A), *b = open_migrated(B);
	assert_int_equal(count(a, "SELECT COUNT(*) FROM search_index"),
	                 count(b, "SELECT COUNT(*) FROM search_index"));
	assert_true(
	    count(b, "SELECT COUNT(*) FROM search_index WHERE search_index MATCH 'creche'") > 0);
	/* a second copy into a non-empty target is refused and changes nothing */
	db_close(a);
	db_close(b);
	assert_int_equal(copy(A, B, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "n'est pas vide"));
	free(err);
	err = NULL;
	dbcopy_report_free(&rep);
	checksums(B, &rb);
	checksums(A, &ra);
	assert_same(&ra, &rb);
	dbcopy_report_free(&ra);
	dbcopy_report_free(&rb);
	/* with force, it replaces the content */
	assert_int_equal(copy(A, B, 1, &rep, &err), 0);
	dbcopy_report_free(&rep);
	free(B);
}

/* A node moved under a newer node: its parent row comes later in primary-key order. */
static void test_copy_forward_parent(void **state)
{
	(void)state;
	char *S = path("fwd.db"), *T = path("fwd2.db"), *err = NULL;
	struct dbcopy_report rep, rs, rt;
	assert_int_equal(copy(A, S, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	struct db *s = open_migrated(S);
	int64_t plan = count(s, "SELECT MIN(plan_id) FROM nodes");
	int64_t root = 0, leaf = 0;
	assert_int_equal(
	    db_int64f(s, &root, "SELECT MIN(id) FROM nodes WHERE plan_id = ? AND parent_id IS NULL",
	              "I", plan),
	    DB_OK);
	assert_int_equal(
	    db_int64f(s, &leaf,
	              "SELECT MIN(n.id) FROM nodes n JOIN fiches f ON f.node_id = n.id "
	              "WHERE n.plan_id = ?",
	              "I", plan),
	    DB_OK);
	assert_int_equal(
	    db_execf(s,
	             "INSERT INTO nodes (plan_id, parent_id, position, depth, number, "
	             "title, created_at, updated_at) VALUES (?, ?, 99, 1, '1.99', "
	             "'Nouvel élément', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
	             "II", plan, root),
	    DB_OK);
	int64_t newer = count(s, "SELECT MAX(id) FROM nodes");
	assert_true(newer > leaf);
	assert_int_equal(
	    db_execf(s, "UPDATE nodes SET parent_id = ? WHERE id = ?", "II", newer, leaf), DB_OK);
	db_close(s);
	assert_int_equal(copy(S, T, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	checksums(S, &rs);
	checksums(T, &rt);
	assert_same(&rs, &rt);
	dbcopy_report_free(&rs);
	dbcopy_report_free(&rt);
	struct db *t = open_migrated(T);
	int64_t parent = 0;
	assert_int_equal(
	    db_int64f(t, &parent, "SELECT parent_id FROM nodes WHERE id = ?", "I", leaf), DB_OK);
	assert_int_equal(parent, newer);
	db_close(t);
	free(S);
	free(T);
}

static void test_backup_restore(void **state)
{
	(void)state;
	char *F = path("backup.maillage"), *C = path("c.db"), *err = NULL;
	struct dbcopy_report rep, ra, rc;
	struct db *a = open_migrated(A);
	assert_int_equal(dbcopy_backup(a, F, 0, &rep, &err), 0);
	assert_true(rep.n >= 40);
	dbcopy_report_free(&rep);
	/* never over an existing file */
	assert_int_equal(dbcopy_backup(a, F, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "existe déjà"));
	free(err);
	err = NULL;
	db_close(a);
	char *tmp = xasprintf("%s.tmp-%ld", F, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0); /* no temporary file left */
	free(tmp);

	struct db *c = open_migrated(C);
	assert_int_equal(dbcopy_restore(F, c, 0, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	/* not over data without force */
	assert_int_equal(dbcopy_restore(F, c, 0, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "n'est pas vide"));
	free(err);
	err = NULL;
	assert_int_equal(dbcopy_restore(F, c, 1, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	db_close(c);
	checksums(A, &ra);
	checksums(C, &rc);
	assert_same(&ra, &rc);
	dbcopy_report_free(&ra);
	dbcopy_report_free(&rc);
	free(F);
	free(C);
}

static void write_file(const char *p, const void *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Missing, foreign, truncated and damaged files are refused; the target stays empty. */
static void test_restore_refuses_bad_files(void **state)
{
	(void)state;
	char *F = path("good.maillage"), *D = path("d.db"), *err = NULL;
	struct dbcopy_report rep;
	struct db *a = open_migrated(A);
	assert_int_equal(dbcopy_backup(a, F, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	db_close(a);
	size_t len = 0;
	char *good = file_read_all(F, &len);
	assert_non_null(good);
	assert_true(len > 100000);

	struct db *d = open_migrated(D);
	char *missing = path("absent.maillage");
	assert_int_equal(dbcopy_restore(missing, d, 0, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "ne peut être lu"));
	free(err);

	char *text = path("text.maillage");
	write_file(text, "id;nom\n1;Crest\n", 15);
	assert_int_equal(dbcopy_restore(text, d, 0, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "n'est pas une sauvegarde"));
	free(err);

	char *cut = path("cut.maillage");
	write_file(cut, good, len / 2);
	assert_int_equal(dbcopy_restore(cut, d, 0, 0, &rep, &err), -1);
	assert_non_null(err);
	free(err);

	/* a page in the middle overwritten */
	char *bad = path("bad.maillage");
	memset(good + len / 2, 0x5a, 8192);
	write_file(bad, good, len);
	int rc = dbcopy_restore(bad, d, 0, 0, &rep, &err);
	assert_int_equal(rc, -1);
	assert_non_null(err);
	free(err);
	dbcopy_report_free(&rep);

	/* a SQLite file that is not a maillage base */
	char *other = path("other.db");
	char *e2 = NULL;
	struct db *o = db_open(other, &e2);
	assert_non_null(o);
	assert_int_equal(db_exec(o, "CREATE TABLE t (x INTEGER)"), DB_OK);
	db_close(o);
	assert_int_equal(dbcopy_restore(other, d, 0, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "aucune migration"));
	free(err);

	/* a backup of an older schema: named, not half-restored */
	char *old = path("old.maillage");
	struct db *a2 = open_migrated(A);
	assert_int_equal(dbcopy_backup(a2, old, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	db_close(a2);
	o = db_open(old, &e2);
	assert_non_null(o);
	assert_int_equal(db_exec(o, "DELETE FROM schema_migrations WHERE version = (SELECT "
	                            "MAX(version) FROM schema_migrations)"),
	                 DB_OK);
	db_close(o);
	assert_int_equal(dbcopy_restore(old, d, 0, 0, &rep, &err), -1);
	assert_non_null(strstr(err, "mettez à jour une copie"));
	free(err);
	free(old);

	assert_int_equal(count(d, "SELECT COUNT(*) FROM plans"), 0);
	assert_int_equal(count(d, "SELECT COUNT(*) FROM users"), 0);
	assert_true(count(d, "SELECT COUNT(*) FROM tags") > 0); /* the migrations' rows intact */
	db_close(d);
	free(good);
	free(F);
	free(D);
	free(missing);
	free(text);
	free(cut);
	free(bad);
	free(other);
}

/* The same seed gives the same rows (the password hashes are salted: users apart). */
static void test_gen_reproducible(void **state)
{
	(void)state;
	char *g1 = path("g1.db"), *g2 = path("g2.db"), *g3 = path("g3.db"), *err = NULL;
	struct gen_opts o = {.scale = GEN_SMALL, .seed = 42, .progress = -1};
	struct gen_stats st;
	const char *files[3] = {g1, g2, g3};
	for (int i = 0; i < 3; i++) {
		struct db *db = open_migrated(files[i]);
		o.seed = i < 2 ? 42 : 43;
		if (gen_run(db, &o, &st, &err))
			fail_msg("gen: %s", err);
		assert_true(st.total > 500);
		/* a second run is refused: the base is not empty */
		assert_int_equal(gen_run(db, &o, &st, &err), -1);
		assert_non_null(strstr(err, "n'est pas vide"));
		free(err);
		err = NULL;
		assert_int_equal(count(db, "SELECT COUNT(*) FROM plans"), 3);
		assert_true(count(db, "SELECT COUNT(*) FROM measurements") > 50);
		assert_int_equal(count(db, "SELECT COUNT(*) FROM fiches f LEFT JOIN fiche_pilots p "
		                           "ON p.node_id = f.node_id WHERE p.id IS NULL"),
		                 0);
		db_close(db);
	}
	struct dbcopy_report r1, r2, r3;
	checksums(g1, &r1);
	checksums(g2, &r2);
	checksums(g3, &r3);
	int differ = 0;
	for (size_t i = 0; i < r1.n; i++) {
		if (!strcmp(r1.t[i].name, "users"))
			continue;
		assert_string_equal(r1.t[i].name, r2.t[i].name);
		assert_int_equal(r1.t[i].rows_src, r2.t[i].rows_src);
		assert_string_equal(r1.t[i].sum_src, r2.t[i].sum_src);
		if (!strcmp(r1.t[i].name, "measurements"))
			differ = strcmp(r1.t[i].sum_src, r3.t[i].sum_src) != 0;
	}
	assert_true(differ); /* another seed, other data */
	dbcopy_report_free(&r1);
	dbcopy_report_free(&r2);
	dbcopy_report_free(&r3);
	/* the national scale needs every commune */
	char *g4 = path("g4.db");
	struct db *db = open_migrated(g4);
	o.scale = GEN_NATIONAL;
	assert_int_equal(gen_run(db, &o, &st, &err), -1);
	assert_non_null(strstr(err, "--geo"));
	free(err);
	db_close(db);
	free(g1);
	free(g2);
	free(g3);
	free(g4);
}

/* Each plan's roll-up is the one its dashboard shows. */
static void check_rollup(const char *url)
{
	struct db *db = open_migrated(url);
	struct rollup ru;
	assert_int_equal(rollup_compute(db, NULL, &ru), 0);
	assert_int_equal(ru.n, count(db, "SELECT COUNT(*) FROM plans"));
	int total = 0;
	for (size_t i = 0; i < ru.n; i++) {
		struct dash_plan p;
		assert_int_equal(dash_plan_load(db, ru.plans[i].id, &p), 0);
		dash_rollup(&p);
		assert_int_equal(ru.plans[i].fiches, p.all.fiches);
		assert_int_equal(ru.plans[i].tracked, p.all.tracked);
		int pct = 0;
		for (int l = 0; l < DASH_NLEVELS; l++) {
			assert_int_equal(ru.plans[i].levels[l], p.all.levels[l]);
			pct += ru.plans[i].percent[l];
		}
		for (int s = 0; s < DASH_NSTATUSES; s++)
			assert_int_equal(ru.plans[i].statuses[s], p.all.statuses[s]);
		assert_int_equal(pct, p.all.tracked ? 100 : -DASH_NLEVELS);
		total += p.all.tracked;
		dash_plan_free(&p);
	}
	assert_int_equal(ru.all.tracked, total);
	rollup_free(&ru);
	db_close(db);
}

static void test_rollup_matches_dashboard(void **state)
{
	(void)state;
	check_rollup(A);
	char *g = path("rollup.db"), *err = NULL;
	struct db *db = open_migrated(g);
	struct gen_opts o = {.scale = GEN_SMALL, .seed = 5, .progress = -1};
	struct gen_stats st;
	if (gen_run(db, &o, &st, &err))
		fail_msg("gen: %s", err);
	/* an archived objective: its fiches leave both the dashboard and the roll-up */
	assert_int_equal(db_exec(db, "UPDATE nodes SET archived = 1 WHERE id = (SELECT MIN(id) "
	                             "FROM nodes WHERE depth = 2)"),
	                 DB_OK);
	db_close(db);
	check_rollup(g);
	free(g);
}

/* GET /api/v1/rollup on the real server (SQLite, or PostgreSQL under MAILLAGE_TEST_PG): each
 * visible plan with the figures rollup_compute gives; private plans only for their members. */
static json_t *get_rollup(struct client *c, long want)
{
	struct resp r;
	client_get(c, "/api/v1/rollup", &r);
	assert_int_equal(r.status, want);
	json_t *doc = json_loadb(buf_str(&r.body), r.body.len, 0, NULL);
	resp_free(&r);
	assert_non_null(doc);
	return doc;
}

static int has_plan(json_t *doc, int64_t id)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "plans"), i, p)
	{
		if (json_integer_value(json_object_get(p, "id")) == id)
			return 1;
	}
	return 0;
}

static void test_rollup_api(void **state)
{
	(void)state;
	struct th T;
	th_start(&T, 1);
	int64_t priv = th_query_int(&T,
	                            "SELECT MIN(p.id) FROM plans p JOIN plan_members m ON "
	                            "m.plan_id = p.id JOIN users u ON u.id = m.user_id WHERE "
	                            "u.email = 'lecture@demo.maillage.fr'",
	                            "");
	struct db *db = th_db(&T);
	assert_int_equal(db_execf(db, "UPDATE plans SET is_public = 0 WHERE id = ?", "I", priv),
	                 DB_OK);
	int64_t all = count(db, "SELECT COUNT(*) FROM plans");
	int64_t pub = count(db, "SELECT COUNT(*) FROM plans WHERE is_public = 1");
	struct rollup ru;
	assert_int_equal(rollup_compute(db, NULL, &ru), 0);
	db_close(db);

	struct client *c = client_new(&T);
	json_t *doc = get_rollup(c, 200);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), pub);
	assert_false(has_plan(doc, priv)); /* invisible to the public */
	assert_non_null(json_string_value(json_object_get(doc, "rule")));
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(doc, "plans"), i, p)
	{
		int64_t id = json_integer_value(json_object_get(p, "id"));
		const struct rollup_plan *rp = NULL;
		for (size_t k = 0; k < ru.n; k++)
			if (ru.plans[k].id == id)
				rp = &ru.plans[k];
		assert_non_null(rp);
		assert_int_equal(json_integer_value(json_object_get(p, "tracked")), rp->tracked);
		json_t *lv = json_object_get(json_object_get(p, "levels"), "achevee");
		assert_int_equal(json_integer_value(json_object_get(lv, "count")),
		                 rp->levels[DASH_ACHEVEE]);
		if (rp->tracked)
			assert_int_equal(json_integer_value(json_object_get(lv, "percent")),
			                 rp->percent[DASH_ACHEVEE]);
		else
			assert_true(json_is_null(json_object_get(lv, "percent")));
	}
	json_decref(doc);
	client_free(c);

	c = client_new(&T);
	assert_int_equal(client_login(c, "lecture@demo.maillage.fr", "maillage-demo"), 303);
	doc = get_rollup(c, 200);
	assert_true(has_plan(doc, priv)); /* a member sees it */
	json_decref(doc);
	client_free(c);

	c = client_new(&T);
	assert_int_equal(client_login(c, "admin@demo.maillage.fr", "maillage-demo"), 303);
	doc = get_rollup(c, 200);
	assert_int_equal(json_integer_value(json_object_get(doc, "count")), all);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")),
	    ru.all.tracked);
	json_decref(doc);
	client_free(c);
	rollup_free(&ru);
	th_stop(&T);
}

/* SQLite → PostgreSQL → SQLite, identical table by table (only with MAILLAGE_TEST_PG). */
static void test_pg_round_trip(void **state)
{
	(void)state;
	if (!th_is_pg())
		skip();
	char *base = th_pg_base_url(), *err = NULL;
	char name[64];
	snprintf(name, sizeof name, "maillage_dbcopy_%ld", (long)getpid());
	struct db *admin = db_open(base, &err);
	assert_non_null(admin);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", name);
	db_exec(admin, sql);
	free(sql);
	sql = xasprintf("CREATE DATABASE %s", name);
	assert_int_equal(db_exec(admin, sql), DB_OK);
	free(sql);
	char *pg = th_pg_url_with_db(base, name), *E = path("e.db");
	struct dbcopy_report rep, ra, rp, re;
	if (copy(A, pg, 0, &rep, &err))
		fail_msg("to PostgreSQL: %s", err);
	dbcopy_report_free(&rep);
	if (copy(pg, E, 0, &rep, &err))
		fail_msg("back from PostgreSQL: %s", err);
	dbcopy_report_free(&rep);
	checksums(A, &ra);
	checksums(pg, &rp);
	checksums(E, &re);
	assert_same(&ra, &rp);
	assert_same(&ra, &re);
	dbcopy_report_free(&ra);
	dbcopy_report_free(&rp);
	dbcopy_report_free(&re);
	/* the identity sequences were moved past the copied ids */
	struct db *p = open_migrated(pg);
	int64_t before = count(p, "SELECT MAX(id) FROM nodes");
	assert_int_equal(db_execf(p,
	                          "INSERT INTO plans (kind, title, created_at, updated_at) VALUES "
	                          "('ctg', 'Après copie', '2026-01-01T00:00:00Z', "
	                          "'2026-01-01T00:00:00Z')",
	                          ""),
	                 DB_OK);
	assert_true(count(p, "SELECT MAX(id) FROM plans") > 1);
	assert_true(before > 0);
	/* a PostgreSQL backup is a verified SQLite snapshot */
	char *F = path("pg.maillage");
	assert_int_equal(dbcopy_backup(p, F, 0, &rep, &err), 0);
	dbcopy_report_free(&rep);
	db_close(p);
	sql = xasprintf("DROP DATABASE %s", name);
	db_exec(admin, sql);
	free(sql);
	db_close(admin);
	free(F);
	free(base);
	free(pg);
	free(E);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_sqlite_to_sqlite),
	    cmocka_unit_test(test_copy_forward_parent),
	    cmocka_unit_test(test_backup_restore),
	    cmocka_unit_test(test_restore_refuses_bad_files),
	    cmocka_unit_test(test_gen_reproducible),
	    cmocka_unit_test(test_rollup_matches_dashboard),
	    cmocka_unit_test(test_rollup_api),
	    cmocka_unit_test(test_pg_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
