/* test_geo_import: the official geography import and the demo loader — counts, all or nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "embed.h"
#include "geo_import.h"
#include "harness.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static int seq;

static struct db *fresh_db(void)
{
	char *path = xasprintf("%s/g%d.db", dir, seq++);
	char *err = NULL;
	struct db *db = db_open(path, &err);
	free(path);
	assert_non_null(db);
	assert_int_equal(db_migrate(db), DB_OK);
	return db;
}

static int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	assert_int_equal(db_int64f(db, &n, sql, ""), DB_OK);
	return n;
}

static struct geo_source embedded(const char *name)
{
	const struct embed_file *f = embed_find(name);
	assert_non_null(f);
	return (struct geo_source){strrchr(name, '/') + 1, (const char *)f->data, f->size};
}

static void test_embedded_geography(void **state)
{
	(void)state;
	struct db *db = fresh_db();
	struct geo_stats st;
	char *err = NULL;
	assert_int_equal(geo_import_embedded(db, &st, &err), 0);
	assert_int_equal(st.departements, 2);
	assert_int_equal(st.communes, 697); /* current communes of the Drôme and the Ardèche */
	assert_int_equal(st.epcis, 33);
	assert_int_equal(st.with_coordinates, 279);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM communes WHERE epci IS NULL"), 0);
	assert_int_equal(count(db, "SELECT SUM(population) FROM communes WHERE departement = '26'"),
	                 524207);
	struct db_stmt *s = db_prepare(db, "SELECT c.name, c.population, e.name, c.latitude "
	                                   "FROM communes c JOIN epcis e ON e.code = c.epci "
	                                   "WHERE c.code = '26108'");
	assert_int_equal(db_step(s), DB_ROW);
	assert_string_equal(db_col_text(s, 0), "Crest");
	assert_int_equal(db_col_int64(s, 1), 8658);
	assert_non_null(strstr(db_col_text(s, 2), "Crestois"));
	assert_true(db_col_double(s, 3) > 44.6 && db_col_double(s, 3) < 44.8);
	db_finalize(s);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM communes WHERE epci = '200040509'"), 14);
	/* Importing again updates in place. */
	assert_int_equal(geo_import_embedded(db, &st, &err), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM communes"), 697);
	db_close(db);
}

static void expect_refused(struct geo_source *communes, struct geo_source *epci,
                           struct geo_source *deps, struct geo_source *cities, const char *needle)
{
	struct db *db = fresh_db();
	struct geo_stats st;
	char *err = NULL;
	assert_int_equal(geo_import(db, communes, epci, deps, cities, &st, &err), -1);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("expected '%s' in '%s'", needle, err);
	free(err);
	/* All or nothing. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM departements"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM communes"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM epcis"), 0);
	db_close(db);
}

static void test_broken_files_refused_with_position(void **state)
{
	(void)state;
	struct geo_source c = embedded("data/geo/communes.json");
	struct geo_source e = embedded("data/geo/epci.json");
	struct geo_source d = embedded("data/geo/departements.json");
	struct geo_source t = embedded("data/geo/cities500.txt");

	/* Truncated JSON: the line and column are named. */
	struct geo_source cut = c;
	cut.size = c.size / 2;
	expect_refused(&cut, &e, &d, &t, "communes.json, ligne ");

	struct geo_source notarr = {"epci.json", "{\"a\": 1}", 8};
	expect_refused(&c, &notarr, &d, &t, "tableau JSON");

	const char *badcode =
	    "[{\"code\":\"26' OR 1=1 --\",\"nom\":\"X\",\"type\":\"commune-actuelle\"}]";
	struct geo_source bc = {"communes.json", badcode, strlen(badcode)};
	expect_refused(&bc, &e, &d, &t, "code INSEE non valide");

	const char *nopop = "[{\"code\":\"26108\",\"nom\":\"Crest\",\"type\":\"commune-actuelle\","
	                    "\"departement\":\"26\",\"population\":\"beaucoup\"}]";
	struct geo_source np = {"communes.json", nopop, strlen(nopop)};
	expect_refused(&np, &e, &d, &t, "population non valide");

	const char *noname = "[{\"code\":\"26\"}]";
	struct geo_source nn = {"departements.json", noname, strlen(noname)};
	expect_refused(&c, &e, &nn, &t, "« nom »");

	const char *badcity =
	    "1\tCrest\tCrest\t\tquarante\t5.02\tP\tPPL\tFR\t\t84\t26\t261\t26108\t8000\n";
	struct geo_source bt = {"cities500.txt", badcity, strlen(badcity)};
	expect_refused(&c, &e, &d, &bt, "cities500.txt, ligne 1, colonne 5");

	const char *fewcols = "1\tCrest\n";
	struct geo_source fc = {"cities500.txt", fewcols, strlen(fewcols)};
	expect_refused(&c, &e, &d, &fc, "ligne 1 : 2 colonnes");

	const char *notutf8 = "1\tCr\xe9st\n";
	struct geo_source nu = {"cities500.txt", notutf8, strlen(notutf8)};
	expect_refused(&c, &e, &d, &nu, "UTF-8");
}

static void test_import_dir(void **state)
{
	(void)state;
	struct db *db = fresh_db();
	struct geo_stats st;
	char *err = NULL;
	assert_int_equal(geo_import_dir(db, "/nonexistent", NULL, &st, &err), -1);
	assert_non_null(strstr(err, "fichier illisible"));
	free(err);
	const char *src = getenv("MAILLAGE_SOURCE_DIR");
	if (src) {
		char *geo = xasprintf("%s/data/geo", src);
		assert_int_equal(geo_import_dir(db, geo, NULL, &st, &err), 0);
		assert_int_equal(st.communes, 697);
		free(geo);
	}
	db_close(db);
}

static void test_demo(void **state)
{
	(void)state;
	struct db *db = fresh_db();
	char *err = NULL;
	if (demo_load(db, &err))
		fail_msg("demo_load: %s", err);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM plans"), 4);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM users"), 5);
	/* The Ardèche schéma: 5 axes, 14 orientations. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM nodes n JOIN plans p ON p.id = n.plan_id "
	                           "WHERE p.kind = 'schema' AND n.depth = 0"),
	                 5);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM nodes n JOIN plans p ON p.id = n.plan_id "
	                           "WHERE p.kind = 'schema' AND n.depth = 1"),
	                 14);
	/* The Crestois CTG: 7 thematic road maps. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM nodes n JOIN plans p ON p.id = n.plan_id "
	                           "WHERE p.title LIKE '%Crestois%' AND n.depth = 0"),
	                 7);
	/* The Diois CTG: its 7 thematics. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM nodes n JOIN plans p ON p.id = n.plan_id "
	                           "WHERE p.title LIKE '%Diois%' AND n.depth = 0"),
	                 7);
	/* Actors of the seeds placed in their communes. */
	assert_true(count(db, "SELECT COUNT(*) FROM actors WHERE commune IS NOT NULL") > 30);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM actors WHERE name = 'Caf de la Drôme'"),
	                 1);
	/* Numbers are unique within a plan and follow the tree. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM (SELECT plan_id, number FROM nodes "
	                           "GROUP BY plan_id, number HAVING COUNT(*) > 1) AS dup"),
	                 0);
	assert_int_equal(count(db,
	                       "SELECT COUNT(*) FROM nodes c JOIN nodes p ON p.id = c.parent_id "
	                       "WHERE c.number NOT LIKE p.number || '.%'"),
	                 0);
	/* Every plan's creation is in the audit log. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM audit_log WHERE entity = 'plan'"), 4);
	db_close(db);
}

static void test_demo_plan_errors(void **state)
{
	(void)state;
	struct db *db = fresh_db();
	char *err = NULL;
	long long id;
	const char *bad = "{\"type\": \"ctg\", \"title\": \"T\", \"signatories\": [\"Personne\"]}";
	assert_int_equal(demo_plan_load(db, bad, strlen(bad), "x.json", &id, &err), -1);
	assert_non_null(strstr(err, "signataire inconnu"));
	free(err);
	const char *broken = "{\"type\": ";
	assert_int_equal(demo_plan_load(db, broken, strlen(broken), "y.json", &id, &err), -1);
	assert_non_null(strstr(err, "y.json, ligne 1"));
	free(err);
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
	    cmocka_unit_test(test_embedded_geography),
	    cmocka_unit_test(test_broken_files_refused_with_position),
	    cmocka_unit_test(test_import_dir),
	    cmocka_unit_test(test_demo),
	    cmocka_unit_test(test_demo_plan_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
