/* test_offer: population by age band (CSV import), coverage rates, the placement of communes
 * without coordinates, `maillage access` on a hand-computed 2SFCA case, and the pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "access_cli.h"
#include "cli.h"
#include "db.h"
#include "demo.h"
#include "demo_offer.h"
#include "geo_import.h"
#include "harness.h"
#include "offer.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                        \
	} while (0)

/* Degrees of latitude for `km` along a meridian on the engine's sphere. */
static double lat_of_km(double km)
{
	return km / ACCESS_EARTH_RADIUS_KM * 180.0 / M_PI;
}

/*
 * The fixture: département 99, EPCI 999999999 with communes A..F on the meridian 5° E, at the
 * given distances (km) north of the equator; band 0-2 populations; two EAJE.
 */
struct fx_commune {
	const char *code, *name;
	double km, pop;
};
static const struct fx_commune FX[] = {
    {"99001", "Alpha", 0, 100}, {"99002", "Bravo", 10, 50}, {"99003", "Charlie", 25, 30},
    {"99004", "Delta", 50, 20}, {"99005", "Echo", 100, 5},  {"99006", "Foxtrot", 5, 0},
};

static void fixture(struct db *db)
{
	char now[32];
	time_iso_now(now);
	assert_int_equal(db_exec(db, "INSERT INTO departements (code, name) VALUES ('99', 'Test');"
	                             "INSERT INTO epcis (code, name, search_name) VALUES "
	                             "('999999999', 'CC Test', 'cc test')"),
	                 DB_OK);
	for (size_t i = 0; i < sizeof FX / sizeof *FX; i++) {
		assert_int_equal(
		    db_execf(db,
		             "INSERT INTO communes (code, name, search_name, departement, "
		             "epci, population, latitude, longitude) VALUES (?, ?, ?, "
		             "'99', '999999999', 1000, ?, 5.0)",
		             "sssd", FX[i].code, FX[i].name, FX[i].name, lat_of_km(FX[i].km)),
		    DB_OK);
		assert_int_equal(
		    db_execf(db,
		             "INSERT INTO population_bands (commune, band, population, "
		             "source) VALUES (?, '0-2', ?, 'test')",
		             "sd", FX[i].code, FX[i].pop),
		    DB_OK);
	}
	/* S1: 20 places at Alpha's point; S2: 10 places in Delta but at 42 km. */
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO services (kind, name, commune, capacity, created_at, "
	             "updated_at) VALUES ('EAJE', 'S1', '99001', 20, ?, ?)",
	             "ss", now, now),
	    DB_OK);
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO services (kind, name, commune, latitude, longitude, "
	             "capacity, created_at, updated_at) VALUES ('EAJE', 'S2', '99004', "
	             "?, 5.0, 10, ?, ?)",
	             "dss", lat_of_km(42), now, now),
	    DB_OK);
	/* An ALSH that must not count for EAJE. */
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO services (kind, name, commune, capacity, created_at, "
	             "updated_at) VALUES ('ALSH', 'L1', '99005', 500, ?, ?)",
	             "ss", now, now),
	    DB_OK);
}

struct tmpdb {
	char dir[256], path[300];
	struct db *db;
};

static void tmpdb_open(struct tmpdb *t)
{
	th_tmpdir(t->dir, sizeof t->dir);
	snprintf(t->path, sizeof t->path, "%s/t.db", t->dir);
	char *err = NULL;
	t->db = db_open(t->path, &err);
	assert_non_null(t->db);
	assert_int_equal(db_migrate(t->db), DB_OK);
}

static void tmpdb_close(struct tmpdb *t)
{
	db_close(t->db);
	th_rmdir(t->dir);
}

static int run_cli(const char *const *argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return cli_main(argc, (char **)argv);
}

/* The CSV row of `code` split in fields (decimal comma turned into a point); 0 when found. */
static int csv_row(const char *csv, const char *code, char f[8][64])
{
	const char *p = strstr(csv, code);
	while (p && p != csv && p[-1] != '\n')
		p = strstr(p + 1, code);
	if (!p)
		return -1;
	int k = 0, n = 0;
	memset(f, 0, 8 * 64);
	for (; *p && *p != '\r' && *p != '\n'; p++) {
		if (*p == ';') {
			k++;
			n = 0;
			if (k >= 8)
				break;
			continue;
		}
		if (n < 63)
			f[k][n++] = *p == ',' ? '.' : *p;
	}
	return 0;
}

/*
 * Hand computation, no decay, 30 minutes, detour 1 at 60 km/h (one minute per km):
 *   S1 (20 places, at 0 km) reaches Alpha (0), Foxtrot (5), Bravo (10), Charlie (25):
 *      R1 = 20 / (100 + 0 + 50 + 30) = 1/9
 *   S2 (10 places, at 42 km) reaches Charlie (17), Delta (8); Bravo (32) is too far:
 *      R2 = 10 / (30 + 20) = 0.2
 *   A (per 100): Alpha 100/9 = 11.111…, Foxtrot 11.111…, Bravo 11.111…,
 *      Charlie 100 (1/9 + 0.2) = 31.111…, Delta 20, Echo (100 km) 0 and uncovered.
 *   Nearest: Alpha 0, Bravo 10, Charlie 17, Delta 8, Foxtrot 5.
 */
static void test_cli_hand_computed(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_open(&t);
	fixture(t.db);
	char out[400];
	snprintf(out, sizeof out, "%s/a.csv", t.dir);
	const char *argv[] = {
	    "maillage", "access",  "--service", "EAJE",     "--band", "0-2",     "--max-minutes",
	    "30",       "--decay", "none",      "--detour", "1",      "--speed", "60",
	    "-o",       out,       "--db",      t.path,     NULL};
	assert_int_equal(run_cli(argv), 0);
	size_t len;
	char *csv = file_read_all(out, &len);
	assert_non_null(csv);
	assert_memory_equal(csv,
	                    "\xEF\xBB\xBF"
	                    "code;nom;population_tranche;accessibilite_pour_100;"
	                    "offres_accessibles;minutes_offre_la_plus_proche;non_couverte;"
	                    "position_estimee\r\n",
	                    strlen("\xEF\xBB\xBF"
	                           "code;nom;population_tranche;accessibilite_pour_100;"
	                           "offres_accessibles;minutes_offre_la_plus_proche;non_couverte;"
	                           "position_estimee\r\n"));
	static const struct {
		const char *code;
		double a100, reach, nearest;
		const char *unc;
	} want[] = {
	    {"99001", 100.0 / 9, 1, 0, "non"},
	    {"99002", 100.0 / 9, 1, 10, "non"},
	    {"99003", 100.0 * (1.0 / 9 + 0.2), 2, 17, "non"},
	    {"99004", 20, 1, 8, "non"},
	    {"99005", 0, 0, NAN, "oui"},
	    {"99006", 100.0 / 9, 1, 5, "non"},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		char f[8][64];
		assert_int_equal(csv_row(csv, want[i].code, f), 0);
		assert_close(strtod(f[3], NULL), want[i].a100, 1e-9);
		assert_close(strtod(f[4], NULL), want[i].reach, 0);
		if (isnan(want[i].nearest))
			assert_string_equal(f[5], "");
		else
			assert_close(strtod(f[5], NULL), want[i].nearest, 1e-3);
		assert_string_equal(f[6], want[i].unc);
		assert_string_equal(f[7], "non");
	}
	/* One row per commune (6) plus the header. */
	int lines = 0;
	for (char *p = csv; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 7);
	free(csv);

	/* The same with an imported matrix: Alpha–S1 5 min, Bravo–S1 and Bravo–S2 10 min; the
	 * others reach nothing. R1 = 20 / 150, R2 = 10 / 50; A_Bravo = 20/150 + 0.2. */
	char od[400];
	snprintf(od, sizeof od, "%s/od.csv", t.dir);
	FILE *fo = fopen(od, "w");
	assert_non_null(fo);
	fputs("origine;destination;minutes\n99001;99001;5\n99002;s:1;10\n99002;s:2;10,0\n", fo);
	fclose(fo);
	const char *argv2[] = {
	    "maillage", "access",  "--service", "EAJE", "--band", "0-2", "--max-minutes",
	    "30",       "--decay", "none",      "--od", od,       "-o",  out,
	    "--db",     t.path,    NULL};
	assert_int_equal(run_cli(argv2), 0);
	csv = file_read_all(out, &len);
	char f[8][64];
	assert_int_equal(csv_row(csv, "99002", f), 0);
	assert_close(strtod(f[3], NULL), 100.0 * (20.0 / 150 + 0.2), 1e-9);
	assert_int_equal(csv_row(csv, "99001", f), 0);
	assert_close(strtod(f[3], NULL), 100.0 * 20.0 / 150, 1e-9);
	assert_int_equal(csv_row(csv, "99003", f), 0);
	assert_string_equal(f[6], "oui");
	free(csv);
	tmpdb_close(&t);
}

static void test_cli_errors(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_open(&t);
	fixture(t.db);
	const char *missing[] = {"maillage", "access", "--band", "0-2", "--max-minutes",
	                         "20",       "--db",   t.path,   NULL};
	assert_int_equal(run_cli(missing), 2);
	const char *nominutes[] = {"maillage", "access", "--service", "EAJE", "--band",
	                           "0-2",      "--db",   t.path,      NULL};
	assert_int_equal(run_cli(nominutes), 2);
	const char *badmin[] = {"maillage",      "access", "--service", "EAJE", "--band", "0-2",
	                        "--max-minutes", "-3",     "--db",      t.path, NULL};
	assert_int_equal(run_cli(badmin), 2);
	const char *baddecay[] = {"maillage", "access",        "--service", "EAJE",    "--band",
	                          "0-2",      "--max-minutes", "20",        "--decay", "cubic",
	                          "--db",     t.path,          NULL};
	assert_int_equal(run_cli(baddecay), 2);
	const char *badspeed[] = {"maillage", "access",        "--service", "EAJE",    "--band",
	                          "0-2",      "--max-minutes", "20",        "--speed", "0",
	                          "--db",     t.path,          NULL};
	assert_int_equal(run_cli(badspeed), 2);
	const char *unknown_opt[] = {"maillage", "access", "--service", "EAJE", "--bogus",
	                             "1",        "--db",   t.path,      NULL};
	assert_int_equal(run_cli(unknown_opt), 2);
	const char *badkind[] = {"maillage",      "access", "--service", "CRECHE", "--band", "0-2",
	                         "--max-minutes", "20",     "--db",      t.path,   NULL};
	assert_int_equal(run_cli(badkind), 1);
	const char *badband[] = {"maillage",      "access", "--service", "EAJE", "--band", "0-3",
	                         "--max-minutes", "20",     "--db",      t.path, NULL};
	assert_int_equal(run_cli(badband), 1);
	char od[400];
	snprintf(od, sizeof od, "%s/bad.csv", t.dir);
	FILE *fo = fopen(od, "w");
	fputs("99001;s:1;5\n99009;s:1;5\n", fo);
	fclose(fo);
	const char *badod[] = {"maillage", "access",        "--service", "EAJE", "--band",
	                       "0-2",      "--max-minutes", "20",        "--od", od,
	                       "--db",     t.path,          NULL};
	assert_int_equal(run_cli(badod), 1);
	tmpdb_close(&t);
}

static void test_population_import(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_open(&t);
	fixture(t.db);
	long rows = 0;
	char *err = NULL;
	const char *good = "\xEF\xBB\xBF"
	                   "commune;tranche;population;annee;source\r\n"
	                   "99001;0-2;120;2021;Insee RP\r\n"
	                   "99001;75+;\"80,5\";;\r\n"
	                   "\r\n"
	                   "99002;3-5;40\r\n";
	assert_int_equal(offer_population_import(t.db, good, strlen(good), 0, "test", &rows, &err),
	                 0);
	assert_null(err);
	assert_int_equal(rows, 3);
	struct db_stmt *st = db_queryf(t.db,
	                               "SELECT population, year, source FROM population_bands "
	                               "WHERE commune = '99001' AND band = '0-2'",
	                               "");
	assert_int_equal(db_step(st), DB_ROW);
	assert_close(db_col_double(st, 0), 120, 0);
	assert_int_equal(db_col_int64(st, 1), 2021);
	assert_string_equal(db_col_text(st, 2), "Insee RP");
	db_finalize(st);
	st = db_queryf(t.db,
	               "SELECT population, source FROM population_bands WHERE commune = '99001' "
	               "AND band = '75+'",
	               "");
	assert_int_equal(db_step(st), DB_ROW);
	assert_close(db_col_double(st, 0), 80.5, 0);
	assert_string_equal(db_col_text(st, 1), "import CSV");
	db_finalize(st);

	int64_t before = 0, after = 0;
	db_int64f(t.db, &before, "SELECT COUNT(*) FROM population_bands", "");
	static const struct {
		const char *csv, *part;
	} bad[] = {
	    {"99001;0-2;7\n99002;0-3;5\n", "Ligne 2, colonne 2"},
	    {"commune;tranche;population\n99001;0-2;7\n99077;0-2;5\n", "Ligne 3, colonne 1"},
	    {"99001;0-2;7\n99002;3-5;-4\n", "Ligne 2, colonne 3"},
	    {"99001;0-2;7\n99002;3-5;abc\n", "Ligne 2, colonne 3"},
	    {"99001;0-2;7\n99002;3-5;4;1850\n", "Ligne 2, colonne 4"},
	    {"99001;0-2;7\n99001;0-2;8\n", "Ligne 2"},
	    {"99001;0-2\n", "Ligne 1"},
	    {"99001;0-2;7\n99002;\"3-5;4\n", "Ligne 2"},
	    {"99001;0-2;\xff\n", "UTF-8"},
	    {"", "aucune ligne"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err = NULL;
		assert_int_equal(offer_population_import(t.db, bad[i].csv, strlen(bad[i].csv), 0,
		                                         "test", &rows, &err),
		                 -1);
		if (!err || !strstr(err, bad[i].part))
			fail_msg("case %zu: « %s » lacks « %s »", i, err ? err : "(null)",
			         bad[i].part);
		free(err);
	}
	db_int64f(t.db, &after, "SELECT COUNT(*) FROM population_bands", "");
	assert_int_equal(before, after);
	/* Nothing stored: 99001's 0-2 is still 120, not 7. */
	int64_t v = 0;
	db_int64f(
	    t.db, &v,
	    "SELECT CAST(population AS INTEGER) FROM population_bands WHERE commune = '99001' "
	    "AND band = '0-2'",
	    "");
	assert_int_equal(v, 120);
	tmpdb_close(&t);
}

/* Coverage by hand: EAJE places per 100 children 0-2 (fixture populations 100, 50, 30, 20,
 * 5, 0 = 205; S1 20 places in Alpha, S2 10 places in Delta). */
static void test_coverage_rate(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_open(&t);
	fixture(t.db);
	double places, pop;
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "commune", "99001", &places, &pop), 0);
	assert_close(places, 20, 0);
	assert_close(pop, 100, 0);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "commune", "99004", &places, &pop), 0);
	assert_close(100 * places / pop, 50, 1e-12);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "epci", "999999999", &places, &pop), 0);
	assert_close(places, 30, 0);
	assert_close(pop, 205, 0);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "departement", "99", &places, &pop), 0);
	assert_close(places, 30, 0);
	assert_int_equal(coverage_rate(t.db, "ALSH", "0-2", "france", NULL, &places, &pop), 0);
	assert_close(places, 500, 0);
	assert_int_equal(coverage_rate(t.db, "EAJE", "3-5", "commune", "99001", &places, &pop), 0);
	assert_close(pop, 0, 0);
	assert_int_equal(coverage_rate(t.db, "CRECHE", "0-2", "commune", "99001", &places, &pop),
	                 -1);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-3", "commune", "99001", &places, &pop), -1);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "region", "84", &places, &pop), -1);
	assert_int_equal(coverage_rate(t.db, "EAJE", "0-2", "plan", "x", &places, &pop), -1);
	tmpdb_close(&t);
}

/* Every commune of the embedded geography gets coordinates; measured ones are GeoNames'. */
static void test_placement(void **state)
{
	(void)state;
	struct tmpdb t;
	tmpdb_open(&t);
	struct geo_stats gs;
	char *err = NULL;
	assert_int_equal(geo_import_embedded(t.db, &gs, &err), 0);
	int64_t n = -1, placed = -1, missing = -1;
	db_int64f(t.db, &n, "SELECT COUNT(*) FROM communes", "");
	db_int64f(t.db, &placed, "SELECT COUNT(*) FROM communes WHERE coordinates_placed = 1", "");
	db_int64f(t.db, &missing, "SELECT COUNT(*) FROM communes WHERE latitude IS NULL", "");
	assert_int_equal(missing, 0);
	assert_int_equal(n - placed, gs.with_coordinates);
	assert_true(placed > 300);
	/* Crest is measured (GeoNames 44.72 N, 5.02 E). */
	struct db_stmt *st = db_queryf(t.db,
	                               "SELECT latitude, longitude, coordinates_placed FROM "
	                               "communes WHERE code = '26108'",
	                               "");
	assert_int_equal(db_step(st), DB_ROW);
	double crest_lat = db_col_double(st, 0), crest_lon = db_col_double(st, 1);
	assert_close(crest_lat, 44.72, 0.02);
	assert_close(crest_lon, 5.02, 0.02);
	assert_int_equal(db_col_int64(st, 2), 0);
	db_finalize(st);
	/* A placed commune lies near its EPCI's measured communes; two placed communes differ. */
	st = db_queryf(t.db,
	               "SELECT latitude, longitude FROM communes WHERE epci = '200040509' AND "
	               "coordinates_placed = 1 ORDER BY code LIMIT 2",
	               "");
	double pts[2][2] = {{0}};
	for (int k = 0; k < 2; k++) {
		assert_int_equal(db_step(st), DB_ROW);
		pts[k][0] = db_col_double(st, 0);
		pts[k][1] = db_col_double(st, 1);
		assert_close(pts[k][0], 44.72, 0.1);
		assert_close(pts[k][1], 5.05, 0.15);
	}
	db_finalize(st);
	assert_true(pts[0][0] != pts[1][0] || pts[0][1] != pts[1][1]);
	/* A second import gives the same points (deterministic) and keeps measured ones. */
	double again = 0;
	assert_int_equal(geo_import_embedded(t.db, &gs, &err), 0);
	st = db_queryf(t.db,
	               "SELECT latitude FROM communes WHERE epci = '200040509' AND "
	               "coordinates_placed = 1 ORDER BY code LIMIT 1",
	               "");
	assert_int_equal(db_step(st), DB_ROW);
	again = db_col_double(st, 0);
	db_finalize(st);
	assert_close(again, pts[0][0], 0);
	db_int64f(t.db, &n, "SELECT COUNT(*) FROM communes WHERE coordinates_placed = 1", "");
	assert_int_equal(n, placed);
	tmpdb_close(&t);
}

static char *body(struct resp *r)
{
	buf_putc(&r->body, '\0');
	return (char *)r->body.data;
}

/* The demo: Crestois (EPCI 200040509) early-childhood coverage and communes beyond 20 min. */
static void test_demo_pages(void **state)
{
	(void)state;
	struct th T;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	char *err = NULL;
	assert_int_equal(demo_offer_load(db, &err), 0);
	assert_int_equal(demo_offer_load(db, &err), 0); /* again: replaced, not doubled */
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM services WHERE kind = 'EAJE'", "");
	assert_true(n >= 35 && n <= 50);
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM communes c WHERE NOT EXISTS (SELECT 1 FROM "
	          "population_bands b WHERE b.commune = c.code AND b.band = '0-2')",
	          "");
	assert_int_equal(n, 0);
	double places, pop;
	assert_int_equal(coverage_rate(db, "EAJE", "0-2", "epci", "200040509", &places, &pop), 0);
	assert_true(places >= 40 && pop > 300 && pop < 600);

	struct client *c = client_new(&T);
	struct resp r = {0};
	client_get(c,
	           "/territoire/couverture?service=EAJE&tranche=0-2&echelle=commune&epci=200040509",
	           &r);
	assert_int_equal(r.status, 200);
	char *b = body(&r);
	assert_non_null(strstr(b, "Crest</a>"));
	assert_non_null(strstr(b, "Saillans</a>"));
	assert_non_null(strstr(b, "<h2>Sous le seuil"));
	assert_null(strstr(b, "Valence</a>")); /* not in the Crestois */
	/* Crest: 64 places for 260 children: 24,6 per 100. */
	assert_non_null(strstr(b, "24,6"));
	resp_free(&r);

	client_get(c, "/territoire/couverture.csv?echelle=epci", &r);
	assert_int_equal(r.status, 200);
	b = body(&r);
	assert_memory_equal(b,
	                    "\xEF\xBB\xBF"
	                    "code;nom;places;",
	                    3 + 16);
	assert_non_null(strstr(b, "\r\n200040509;"));
	resp_free(&r);

	/* The plan scale: the Crestois CTG's territory (EPCI 200040509), its total row; a private
	 * plan is invisible to the anonymous visitor (404, like a missing one). */
	int64_t crestois = 0;
	db_int64f(db, &crestois,
	          "SELECT plan_id FROM plan_territory WHERE scope = 'epci' AND code = '200040509'",
	          "");
	assert_true(crestois > 0);
	char path[160];
	snprintf(path, sizeof path, "/territoire/couverture?echelle=plan&plan=%lld",
	         (long long)crestois);
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "Saillans</a>"));
	assert_null(strstr(body(&r), "Valence</a>"));
	resp_free(&r);
	assert_int_equal(db_execf(db, "UPDATE plans SET is_public = 0 WHERE id = ?", "I", crestois),
	                 DB_OK);
	client_get(c, path, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_get(c, "/territoire/couverture?echelle=plan&plan=999999", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_get(c, "/territoire/couverture?service=%3Cscript%3E&seuil=abc", &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(body(&r), "<script>"));
	resp_free(&r);

	client_get(
	    c, "/territoire/accessibilite?service=EAJE&tranche=0-2&minutes=20&epci=200040509", &r);
	assert_int_equal(r.status, 200);
	b = body(&r);
	assert_non_null(strstr(b, "Territoires non couverts"));
	assert_non_null(strstr(b, "Crest</a>"));
	assert_non_null(strstr(b, "position estimée"));
	resp_free(&r);

	/* The whole territory at 20 minutes: some communes reach no EAJE, and the CSV is
	 * consistent (uncovered ⇔ no nearest time ⇔ no reachable offer). */
	client_get(c, "/territoire/accessibilite.csv?service=EAJE&tranche=0-2&minutes=20", &r);
	assert_int_equal(r.status, 200);
	b = body(&r);
	int rows = 0, unc = 0;
	char *save = NULL;
	char *line = strtok_r(b + 3, "\r\n", &save); /* header */
	for (line = strtok_r(NULL, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char f[8][64];
		assert_int_equal(csv_row(line, line, f), 0);
		rows++;
		int u = !strcmp(f[6], "oui");
		unc += u;
		assert_int_equal(u, f[5][0] == '\0');
		assert_int_equal(u, !strcmp(f[4], "0"));
		if (!u)
			assert_true(strtod(f[5], NULL) <= 20.0);
		if (!strncmp(line, "26108;", 6))
			assert_string_equal(f[6], "non");
	}
	assert_int_equal(rows, 697);
	assert_true(unc > 0 && unc < rows / 2);
	resp_free(&r);

	client_get(c, "/territoire/accessibilite?minutes=abc&decroissance=%3Cb%3E", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "Paramètres non valides"));
	assert_null(strstr(body(&r), "<b>"));
	resp_free(&r);

	client_get(c, "/services?type=EAJE&commune=crest", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "Multi-accueil Les Petits Pas"));
	assert_null(strstr(body(&r), "Aubenas"));
	resp_free(&r);
	client_free(c);
	db_close(db);
	th_stop(&T);
}

/* POST the population CSV as multipart with the page's CSRF token. */
static void post_population(struct client *c, const char *csv, struct resp *out)
{
	struct resp page = {0};
	client_get(c, "/territoire/population/importer", &page);
	char *tok = page_csrf_token(&page);
	resp_free(&page);
	struct buf b = {0};
	buf_printf(&b,
	           "--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n"
	           "--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; "
	           "filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n%s\r\n--XyZ--\r\n",
	           tok ? tok : "", csv);
	free(tok);
	client_post(c, "/territoire/population/importer", "multipart/form-data; boundary=XyZ",
	            (const char *)b.data, b.len, out);
	buf_free(&b);
}

static void test_population_page(void **state)
{
	(void)state;
	struct th T;
	th_start(&T, 1);
	struct resp r = {0};
	struct client *anon = client_new(&T);
	client_get(anon, "/territoire/population/importer", &r);
	assert_true(r.status == 303 || r.status == 401 || r.status == 403);
	resp_free(&r);
	client_free(anon);

	struct client *reader = client_new(&T);
	assert_int_equal(client_login(reader, "lecture@demo.maillage.fr", DEMO_PASSWORD), 303);
	client_get(reader, "/territoire/population/importer", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(reader);

	struct client *co = client_new(&T);
	assert_int_equal(client_login(co, "coordination@demo.maillage.fr", DEMO_PASSWORD), 303);
	struct db *db = th_db(&T);
	int64_t before = 0, after = 0;
	db_int64f(db, &before, "SELECT COUNT(*) FROM population_bands", "");
	post_population(co, "26108;0-2;300\n26108;0-9;5\n", &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(body(&r), "Ligne 2, colonne 2"));
	resp_free(&r);
	db_int64f(db, &after, "SELECT COUNT(*) FROM population_bands", "");
	assert_int_equal(before, after);
	post_population(co, "commune;tranche;population\n26108;0-2;300\n26011;0-2;90\n", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t v = 0;
	db_int64f(db, &v,
	          "SELECT CAST(population AS INTEGER) FROM population_bands WHERE commune = "
	          "'26108' AND band = '0-2'",
	          "");
	assert_int_equal(v, 300);
	db_int64f(db, &v, "SELECT COUNT(*) FROM audit_log WHERE entity = 'population_bands'", "");
	assert_true(v >= 1);
	db_close(db);
	client_free(co);
	th_stop(&T);
}

static void test_service_forms(void **state)
{
	(void)state;
	struct th T;
	th_start(&T, 1);
	struct resp r = {0};
	struct client *reader = client_new(&T);
	assert_int_equal(client_login(reader, "lecture@demo.maillage.fr", DEMO_PASSWORD), 303);
	client_get(reader, "/services/nouveau", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(reader);

	struct client *co = client_new(&T);
	assert_int_equal(client_login(co, "coordination@demo.maillage.fr", DEMO_PASSWORD), 303);
	struct db *db = th_db(&T);
	int64_t before = 0, after = 0;
	db_int64f(db, &before, "SELECT COUNT(*) FROM services", "");
	static const char *const bad[] = {
	    "type=CRECHE&nom=X&commune=26108&capacite=10",
	    "type=EAJE&nom=&commune=26108&capacite=10",
	    "type=EAJE&nom=X&commune=99999&capacite=10",
	    "type=EAJE&nom=X&commune=26108&capacite=-1",
	    "type=EAJE&nom=X&commune=26108&capacite=10&age_min=3&age_max=1",
	    "type=EAJE&nom=X&commune=26108&capacite=10&jours=400",
	    "type=EAJE&nom=X&commune=26108&capacite=10&acteur=999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		client_submit(co, "/services/nouveau", "/services/nouveau", bad[i], &r);
		if (r.status != 422)
			fail_msg("case %zu: status %ld", i, r.status);
		resp_free(&r);
	}
	client_submit(co, "/services/nouveau", "/services/nouveau",
	              "type=EAJE&nom=%3Cscript%3EMicro' OR 1=1 --&commune=26108&capacite=12,5"
	              "&jours=220&horaires=8h-18h&atypiques=1&age_min=0&age_max=3",
	              &r);
	resp_free(&r);
	client_submit(co, "/services/nouveau", "/services/nouveau",
	              "type=EAJE&nom=Micro-cr%C3%A8che+test&commune=26108&capacite=12,5"
	              "&jours=220&horaires=8h-18h&atypiques=1&age_min=0&age_max=3",
	              &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	db_int64f(db, &after, "SELECT COUNT(*) FROM services", "");
	assert_int_equal(after, before + 2);
	int64_t id = 0;
	db_int64f(db, &id, "SELECT id FROM services WHERE name = 'Micro-crèche test'", "");
	assert_true(id > 0);
	int64_t n = 0;
	char idtxt[32];
	snprintf(idtxt, sizeof idtxt, "%lld", (long long)id);
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM audit_log WHERE entity = 'service' AND entity_id = ? AND "
	          "action = 'create'",
	          "s", idtxt);
	assert_int_equal(n, 1);
	client_get(co, "/services?commune=26108", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "&lt;script&gt;Micro"));
	assert_null(strstr(body(&r), "<script>Micro"));
	resp_free(&r);
	char path[64];
	snprintf(path, sizeof path, "/services/%lld/modifier", (long long)id);
	client_get(co, path, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "value=\"12,5\"") ? strstr(body(&r), "value=\"12,5\"")
	                                                   : strstr(body(&r), "value=\"12.5\""));
	resp_free(&r);
	client_submit(co, path, path,
	              "type=EAJE&nom=Micro-cr%C3%A8che+test&commune=26011&capacite=14", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	struct db_stmt *st =
	    db_queryf(db, "SELECT commune, capacity, age_min FROM services WHERE id = ?", "I", id);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "26011");
	assert_close(db_col_double(st, 1), 14, 0);
	assert_true(db_col_is_null(st, 2));
	db_finalize(st);
	client_get(co, "/services/999999/modifier", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	db_close(db);
	client_free(co);
	th_stop(&T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_hand_computed), cmocka_unit_test(test_cli_errors),
	    cmocka_unit_test(test_population_import), cmocka_unit_test(test_coverage_rate),
	    cmocka_unit_test(test_placement),         cmocka_unit_test(test_demo_pages),
	    cmocka_unit_test(test_population_page),   cmocka_unit_test(test_service_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
