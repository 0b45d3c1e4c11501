/* test_access: the 2SFCA engine — hand-computed cases, decay functions, distances, the
 * origin–destination CSV parser, properties, and (on demand) the numpy/scipy reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "access.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* |a - b| <= tol, with a message naming both values. */
#define assert_close(a, b, tol)                                                                    \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (!(fabs(a_ - b_) <= (tol)))                                                     \
			fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #a, a_, b_,          \
			         (double)(tol));                                                   \
	} while (0)

/* Error message contains `part`. */
#define assert_err_has(err, part)                                                                  \
	do {                                                                                       \
		if (!(err) || !strstr((err), (part)))                                              \
			fail_msg("error « %s » does not contain « %s »", (err) ? (err) : "(null)", \
			         (part));                                                          \
	} while (0)

static struct access_decay decay_of(const char *spec)
{
	struct access_decay d;
	char *err = NULL;
	if (access_decay_parse(spec, &d, &err))
		fail_msg("decay %s: %s", spec, err);
	return d;
}

/* A small deterministic generator (splitmix64) for the property tests. */
static uint64_t rng_state;
static double rng_uniform(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* ---- Distances ------------------------------------------------------------------------------ */

static void test_haversine(void **state)
{
	(void)state;
	/* Crest (GeoNames 3022540: 44.72639, 5.01517) – Die (3021435: 44.7536, 5.37033). The
	 * haversine on R = 6371.0088 km gives 28.2142026772 km (computed independently with
	 * Python's math module); the WGS84 geodesic (Vincenty) is 28.2916 km: the sphere is
	 * within 0.3 %. */
	double d = access_haversine_km(44.72639, 5.01517, 44.7536, 5.37033);
	assert_close(d, 28.21420267723528, 1e-9);
	assert_true(fabs(d - 28.2916) / 28.2916 < 0.005);
	assert_close(access_haversine_km(44.7536, 5.37033, 44.72639, 5.01517), d, 1e-12);
	assert_close(access_haversine_km(45, 5, 45, 5), 0.0, 0.0);
	/* A quarter of a meridian, half the equator (antipodes). */
	assert_close(access_haversine_km(0, 0, 90, 0), ACCESS_EARTH_RADIUS_KM * M_PI / 2, 1e-9);
	assert_close(access_haversine_km(0, 0, 0, 180), ACCESS_EARTH_RADIUS_KM * M_PI, 1e-9);
	/* 0.1° of latitude = R·π/1800 = 11.1195080234 km; across the antimeridian, 0.2° of the
	 * equator is 22.239 km, not 40 000. */
	assert_close(access_haversine_km(45, 5, 45.1, 5), 11.11950802335329, 1e-9);
	assert_close(access_haversine_km(0, 179.9, 0, -179.9), 22.23901604670676, 1e-9);
	/* Minutes: km × 1.3 / 50 km/h × 60. */
	assert_close(access_minutes_from_km(11.11950802335329, 1.3, 50), 17.346432516431133, 1e-12);
	assert_close(access_minutes_from_km(d, ACCESS_DEFAULT_DETOUR, ACCESS_DEFAULT_SPEED_KMH),
	             d * 1.3 / 50 * 60, 1e-12);
}

/* ---- Decay functions ------------------------------------------------------------------------ */

static void test_decay_values(void **state)
{
	(void)state;
	struct access_decay d = decay_of("none");
	assert_close(access_decay_eval(&d, 30, 0), 1, 0);
	assert_close(access_decay_eval(&d, 30, 30), 1, 0);
	assert_close(access_decay_eval(&d, 30, 30.000001), 0, 0);
	assert_close(access_decay_eval(&d, 30, -1), 0, 0);
	assert_close(access_decay_eval(&d, 30, NAN), 0, 0);

	/* DREES-like steps: <= 10 min 1, <= 20 min 0.66, <= 30 min 0.33. */
	d = decay_of("step");
	assert_int_equal(d.nsteps, 3);
	assert_close(access_decay_eval(&d, 30, 0), 1, 0);
	assert_close(access_decay_eval(&d, 30, 10), 1, 0);
	assert_close(access_decay_eval(&d, 30, 10.001), 0.66, 0);
	assert_close(access_decay_eval(&d, 30, 20), 0.66, 0);
	assert_close(access_decay_eval(&d, 30, 25), 0.33, 0);
	assert_close(access_decay_eval(&d, 30, 30), 0.33, 0);
	assert_close(access_decay_eval(&d, 30, 30.5), 0, 0);
	assert_close(access_decay_eval(&d, 20, 25), 0, 0); /* beyond the maximum */
	assert_close(access_decay_eval(&d, 45, 40), 0, 0); /* beyond the last step */

	/* Linear: 1 - d/30. */
	d = decay_of("linear");
	assert_close(access_decay_eval(&d, 30, 0), 1, 0);
	assert_close(access_decay_eval(&d, 30, 7.5), 0.75, 1e-15);
	assert_close(access_decay_eval(&d, 30, 15), 0.5, 1e-15);
	assert_close(access_decay_eval(&d, 30, 30), 0, 0);
	d = decay_of("linear:20"); /* 1 - d/20, 0 from 20 min */
	assert_close(access_decay_eval(&d, 30, 10), 0.5, 1e-15);
	assert_close(access_decay_eval(&d, 30, 25), 0, 0);

	/* Gaussian, s = 30: f(d) = (exp(-(d/30)²/2) - exp(-1/2)) / (1 - exp(-1/2)).
	 * f(0) = 1; f(10) = (e^(-1/18) - e^(-1/2)) / (1 - e^(-1/2)) = 0.8626563100093985;
	 * f(15) = (e^(-1/8) - e^(-1/2)) / (1 - e^(-1/2)) = 0.7013665732390044;
	 * f(20) = (e^(-2/9) - e^(-1/2)) / (1 - e^(-1/2)) = 0.4935752886421534; f(30) = 0. */
	d = decay_of("gaussian");
	assert_close(access_decay_eval(&d, 30, 0), 1, 1e-15);
	assert_close(access_decay_eval(&d, 30, 10), 0.8626563100093985, 1e-15);
	assert_close(access_decay_eval(&d, 30, 15), 0.7013665732390044, 1e-15);
	assert_close(access_decay_eval(&d, 30, 20), 0.4935752886421534, 1e-15);
	assert_close(access_decay_eval(&d, 30, 30), 0, 0);
	assert_close(access_decay_eval(&d, 30, 31), 0, 0);
	/* The engine's polynomial exp against libm's, everywhere on [0, s]. */
	double e = exp(-0.5), worst = 0;
	for (int k = 0; k <= 30000; k++) {
		double m = k / 1000.0, x = m / 30.0;
		double want = (exp(-0.5 * x * x) - e) / (1 - e);
		double diff = fabs(access_decay_eval(&d, 30, m) - want);
		worst = diff > worst ? diff : worst;
	}
	assert_true(worst < 2e-15);
	d = decay_of("gaussian:15"); /* zero from 15 min, although the maximum is 30 */
	assert_close(access_decay_eval(&d, 30, 7.5), 0.7013665732390044, 1e-15);
	assert_close(access_decay_eval(&d, 30, 20), 0, 0);
}

static void test_decay_parse(void **state)
{
	(void)state;
	struct access_decay d;
	char *err = NULL;
	d = decay_of(" Gaussienne : 20 ");
	assert_int_equal(d.kind, ACCESS_DECAY_GAUSSIAN);
	assert_close(d.scale, 20, 0);
	d = decay_of("linéaire");
	assert_int_equal(d.kind, ACCESS_DECAY_LINEAR);
	assert_close(d.scale, 0, 0);
	d = decay_of("paliers:10=1, 15=0.66, 20=0.33"); /* the DREES APL thresholds */
	assert_int_equal(d.kind, ACCESS_DECAY_STEP);
	assert_int_equal(d.nsteps, 3);
	assert_close(d.steps[1].upto, 15, 0);
	assert_close(d.steps[2].weight, 0.33, 0);
	d = decay_of("aucune");
	assert_int_equal(d.kind, ACCESS_DECAY_NONE);

	/* Round trips through the canonical form. */
	const char *specs[] = {"none",
	                       "linear",
	                       "linear:12.5",
	                       "gaussian",
	                       "gaussian:45",
	                       "step:10=1,20=0.66,30=0.33",
	                       "step:7.5=1,60=0.125"};
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		struct access_decay a = decay_of(specs[k]), b;
		char *s = access_decay_format(&a);
		assert_string_equal(s, specs[k]);
		b = decay_of(s);
		assert_int_equal(a.kind, b.kind);
		assert_int_equal(a.nsteps, b.nsteps);
		assert_true(a.scale == b.scale);
		for (int i = 0; i < a.nsteps; i++)
			assert_true(a.steps[i].upto == b.steps[i].upto &&
			            a.steps[i].weight == b.steps[i].weight);
		free(s);
	}

	const char *bad[] = {"",
	                     "cubic",
	                     "step:10",
	                     "step:20=1,10=0.5",
	                     "step:10=-1",
	                     "step:0=1",
	                     "linear:0",
	                     "gaussian:abc",
	                     "gaussian:",
	                     "none:3",
	                     "step:10=1,,20=0.5",
	                     ("step:1=1,2=1,3=1,4=1,5=1,6=1,7=1,8=1,9=1,10=1,11=1,12=1,13=1,14=1,"
	                      "15=1,16=1,17=1")};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		d.kind = ACCESS_DECAY_NONE;
		err = NULL;
		if (access_decay_parse(bad[k], &d, &err) == 0)
			fail_msg("decay « %s » accepted", bad[k]);
		assert_non_null(err);
		assert_true(strstr(err, "décroissance") != NULL);
		free(err);
	}
	assert_int_equal(access_decay_parse(NULL, &d, &err), -1);
	free(err);
}

/* ---- Hand-computed cases -------------------------------------------------------------------- */

/*
 * Three communes and two supply points, explicit origin–destination matrix, maximum 30 min,
 * step decay {<= 10: 1, <= 20: 0.5, <= 30: 0.25}.
 *
 *            P     to S1 (30 places)   to S2 (20 places)
 *   A     1000     5 min  f = 1        25 min f = 0.25
 *   B      500    15 min  f = 0.5      12 min f = 0.5
 *   C     2000    40 min  (beyond)      8 min f = 1
 *
 * Step 1: D1 = 1000·1 + 500·0.5 = 1250            R1 = 30/1250 = 0.024
 *         D2 = 1000·0.25 + 500·0.5 + 2000·1 = 2500 R2 = 20/2500 = 0.008
 * Step 2: A_A = 0.024·1 + 0.008·0.25 = 0.026
 *         A_B = 0.024·0.5 + 0.008·0.5 = 0.016
 *         A_C = 0.008·1 = 0.008        (S1 at 40 min is out of reach)
 * Check:  Σ P·A = 26 + 8 + 16 = 50 = 30 + 20 (all capacity is shared out).
 * Reachable: A 2, B 2, C 1; nearest: A 5, B 12, C 8 min.
 */
static const struct access_demand abc_demand[] = {{0, 0, 1000}, {0, 0, 500}, {0, 0, 2000}};
static const struct access_supply abc_supply[] = {{0, 0, 30}, {0, 0, 20}};

static void check_abc(const struct access_result *r)
{
	assert_int_equal(r->ndemand, 3);
	assert_int_equal(r->nsupply, 2);
	assert_close(r->served[0], 1250, 1e-9);
	assert_close(r->served[1], 2500, 1e-9);
	assert_close(r->ratio[0], 0.024, 1e-15);
	assert_close(r->ratio[1], 0.008, 1e-15);
	assert_close(r->rows[0].accessibility, 0.026, 1e-15);
	assert_close(r->rows[1].accessibility, 0.016, 1e-15);
	assert_close(r->rows[2].accessibility, 0.008, 1e-15);
	assert_close(access_per_1000(r->rows[0].accessibility), 26, 1e-12);
	assert_close(access_per_100(r->rows[2].accessibility), 0.8, 1e-12);
	assert_int_equal(r->rows[0].reachable, 2);
	assert_int_equal(r->rows[1].reachable, 2);
	assert_int_equal(r->rows[2].reachable, 1);
	assert_close(r->rows[0].nearest_minutes, 5, 0);
	assert_close(r->rows[1].nearest_minutes, 12, 0);
	assert_close(r->rows[2].nearest_minutes, 8, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r->rows[i].uncovered, 0);
	assert_int_equal(r->pairs, 5);
	double total = 0;
	for (int i = 0; i < 3; i++)
		total += abc_demand[i].population * r->rows[i].accessibility;
	assert_close(total, 50, 1e-12);
}

static void test_hand_matrix(void **state)
{
	(void)state;
	struct access_od_pair pairs[] = {{0, 0, 5},  {0, 1, 25}, {1, 0, 15},
	                                 {1, 1, 12}, {2, 0, 40}, {2, 1, 8}};
	struct access_od od = {pairs, 6, 0};
	struct access_params p;
	access_params_default(&p);
	p.cost = ACCESS_COST_MATRIX;
	p.od = &od;
	p.max_minutes = 30;
	p.decay = decay_of("step:10=1,20=0.5,30=0.25");
	struct access_result r;
	char *err = NULL;
	assert_int_equal(access_2sfca_run(abc_demand, 3, abc_supply, 2, &p, &r, &err), 0);
	assert_null(err);
	check_abc(&r);
	assert_int_equal(r.candidates, 6);
	access_result_free(&r);
	access_result_free(&r); /* twice is harmless */
	access_result_free(NULL);
}

/* The same case through the CSV parser, written as a user's spreadsheet would export it:
 * BOM, header, CRLF, decimal commas, quotes, a blank line, a trailing separator, S2 named by
 * its commune, and a row towards a commune without supply (ignored). */
static const char *abc_codes[] = {"26108", "26113", "26057"};
static const char *abc_ids[] = {"EAJE-1", "EAJE-2"};
static const char *abc_communes[] = {"26108", "26113"};

static struct access_od_keys abc_keys(void)
{
	return (struct access_od_keys){abc_codes, 3, abc_ids, abc_communes, 2};
}

static void test_hand_csv(void **state)
{
	(void)state;
	const char *csv = "\xEF\xBB\xBF"
	                  "commune;offre;minutes\r\n"
	                  "26108;EAJE-1;5\r\n"
	                  "26108;26113;25,0\r\n"
	                  "\"26113\";\"EAJE-1\";15\r\n"
	                  "\r\n"
	                  " 26113 ; 26113 ; 12 ;\r\n"
	                  "26057;EAJE-1;40\r\n"
	                  "26057;EAJE-2;8,\r\n"
	                  "26057;26057;0\r\n";
	struct access_od_keys keys = abc_keys();
	struct access_od od;
	char *err = NULL;
	int rc = access_od_parse_csv(csv, strlen(csv), "matrice.csv", &keys, &od, &err);
	if (rc)
		fail_msg("%s", err);
	assert_int_equal(od.npairs, 6);
	assert_int_equal(od.ignored_rows, 1); /* 26057 → 26057 hosts no supply */
	/* Sorted by demand then supply. */
	assert_int_equal(od.pairs[0].demand, 0);
	assert_int_equal(od.pairs[0].supply, 0);
	assert_close(od.pairs[1].minutes, 25, 0);
	assert_int_equal(od.pairs[5].demand, 2);
	assert_int_equal(od.pairs[5].supply, 1);
	assert_close(od.pairs[5].minutes, 8, 0);

	struct access_params p;
	access_params_default(&p);
	p.cost = ACCESS_COST_MATRIX;
	p.od = &od;
	p.decay = decay_of("step:10=1,20=0.5,30=0.25");
	struct access_result r;
	assert_int_equal(access_2sfca_run(abc_demand, 3, abc_supply, 2, &p, &r, &err), 0);
	check_abc(&r);
	access_result_free(&r);
	access_od_free(&od);
	access_od_free(&od);
	access_od_free(NULL);

	/* A row naming the supply id overrides the row naming its commune, in either order; no
	 * header here. */
	const char *over = "26108;26113;25\n26108;EAJE-2;22,5\n26113;EAJE-2;9\n26113;26113;3";
	assert_int_equal(access_od_parse_csv(over, strlen(over), NULL, &keys, &od, &err), 0);
	assert_int_equal(od.npairs, 2);
	assert_close(od.pairs[0].minutes, 22.5, 0);
	assert_close(od.pairs[1].minutes, 9, 0);
	access_od_free(&od);

	/* A commune code stands for every supply point in it. */
	static const char *two_here[] = {"26108", "26108"};
	struct access_od_keys k2 = {abc_codes, 3, abc_ids, two_here, 2};
	const char *all = "26113;26108;7\n";
	assert_int_equal(access_od_parse_csv(all, strlen(all), NULL, &k2, &od, &err), 0);
	assert_int_equal(od.npairs, 2);
	assert_int_equal(od.pairs[0].supply, 0);
	assert_int_equal(od.pairs[1].supply, 1);
	assert_int_equal(od.pairs[1].demand, 1);
	access_od_free(&od);
}

/* Each bad file is refused as a whole, with the line and column at fault. */
static void test_csv_errors(void **state)
{
	(void)state;
	static const struct {
		const char *csv, *where, *what;
	} cases[] = {
	    {"commune;offre;minutes\n26108;EAJE-1;5\n26113;EAJE-1\n", "ligne 3, colonne 3",
	     "colonne manquante"},
	    {"26108;EAJE-1;5\n26113;EAJE-1;12\n26113;EAJE-2;12\n26057;EAJE-2;abc\n",
	     "ligne 4, colonne 3", "non numérique"},
	    {"26108;EAJE-1;5\n26108;EAJE-2;-5\n", "ligne 2, colonne 3", "négative"},
	    {"26108;EAJE-1;5\n26108;EAJE-2;12 min\n", "ligne 2, colonne 3", "non numérique"},
	    {"26108;EAJE-1;5\n26108;EAJE-2;1e3\n", "ligne 2, colonne 3", "non numérique"},
	    {"26108;EAJE-1;5\n26108;EAJE-2;\n", "ligne 2, colonne 3", "vide"},
	    {"26108;EAJE-1;5\n07001;EAJE-2;3\n", "ligne 2, colonne 1", "« 07001 » inconnue"},
	    {"26108;EAJE-1;5\n;EAJE-2;3\n", "ligne 2, colonne 1", "vide"},
	    {"26108;EAJE-9;5\n", "ligne 1, colonne 2", "« EAJE-9 » inconnue"},
	    {"26108;;5\n", "ligne 1, colonne 2", "vide"},
	    {"26108;EAJE-1;5;x\n", "ligne 1, colonne 4", "colonne en trop"},
	    {"26108,EAJE-1,5\n", "ligne 1, colonne 2", "point-virgule"},
	    {"26108;\"EAJE-1;5\n", "ligne 1, colonne 2", "guillemet non fermé"},
	    {"26108;\"EAJE-1\"x;5\n", "ligne 1, colonne 2", "après le guillemet"},
	    {"26108;EA\"JE-1;5\n", "ligne 1, colonne 2", "guillemet"},
	    {"26108;EAJE-1;5\n26108;EAJE-1;6\n", "ligne 2, colonne 2", "figure déjà ligne 1"},
	    {"26108;26108;5\n26113;EAJE-1;2\n26108;26108;6\n", "ligne 3, colonne 2",
	     "figure déjà ligne 1"},
	    {"26108;EAJE-1;1234567890123456\n", "ligne 1, colonne 3", "trop précise"},
	    {"commune;offre;minutes\n", "matrice.csv", "aucune ligne"},
	    {"", "matrice.csv", "aucune ligne"},
	    {"\n\r\n  \n", "matrice.csv", "aucune ligne"},
	};
	struct access_od_keys keys = abc_keys();
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct access_od od = {(void *)1, 99, 99};
		char *err = NULL;
		int rc = access_od_parse_csv(cases[k].csv, strlen(cases[k].csv), "matrice.csv",
		                             &keys, &od, &err);
		if (rc == 0)
			fail_msg("case %zu accepted: %s", k, cases[k].csv);
		assert_int_equal(rc, -1);
		assert_null(od.pairs); /* all or nothing */
		assert_int_equal(od.npairs, 0);
		assert_err_has(err, cases[k].where);
		assert_err_has(err, cases[k].what);
		assert_err_has(err, "matrice.csv");
		free(err);
	}

	/* A NUL byte; a field longer than 255 bytes; control characters in a shown value. */
	struct access_od od;
	char *err = NULL;
	const char nul[] = "26108;EAJE-1;5\n26108;EA\0JE;5\n";
	assert_int_equal(access_od_parse_csv(nul, sizeof nul - 1, NULL, &keys, &od, &err), -1);
	assert_err_has(err, "octet nul");
	free(err);
	char big[400];
	memset(big, 'x', sizeof big);
	memcpy(big, "26108;", 6);
	memcpy(big + 300, ";5\n", 4);
	assert_int_equal(access_od_parse_csv(big, strlen(big), NULL, &keys, &od, &err), -1);
	assert_err_has(err, "ligne 1, colonne 2 : valeur trop longue");
	free(err);
	const char ctl[] = "26108;EA\x01<b>;5\n";
	assert_int_equal(access_od_parse_csv(ctl, strlen(ctl), NULL, &keys, &od, &err), -1);
	assert_err_has(err, "« EA?<b> » inconnue");
	free(err);

	/* Keys that cannot be resolved. */
	static const char *dup[] = {"26108", "26108"};
	struct access_od_keys bad = {dup, 2, NULL, NULL, 0};
	assert_int_equal(access_od_parse_csv("26108;26108;1\n", 14, NULL, &bad, &od, &err), -1);
	assert_err_has(err, "en double");
	free(err);
	static const char *dupids[] = {"X", "X"};
	struct access_od_keys bad2 = {abc_codes, 3, dupids, NULL, 2};
	assert_int_equal(access_od_parse_csv("26108;X;1\n", 10, NULL, &bad2, &od, &err), -1);
	assert_err_has(err, "en double");
	free(err);
}

/*
 * The worked example of Luo & Wang (2003), "Measures of spatial accessibility to health care
 * in a GIS environment", Environment and Planning B 30(6), figure 3: eleven tracts of one
 * inhabitant each, two physicians a and b of one place each, catchment 30 (distance units),
 * no decay. a reaches tracts 1 2 3 4 6 7 9 10 (8 people): R_a = 1/8; b reaches 4 5 8 11
 * (4 people): R_b = 1/4. So A = 1/8 for 1 2 3 6 7 9 10, 1/8 + 1/4 = 0.375 for tract 4 (which
 * reaches both), 1/4 for 5 8 11. Σ A = 7/8 + 3/8 + 3/4 = 2 physicians.
 */
static void test_luo_wang(void **state)
{
	(void)state;
	static const int dist_a[11] = {20, 20, 20, 20, 40, 20, 20, 40, 20, 20, 40};
	static const int dist_b[11] = {40, 40, 40, 20, 20, 40, 40, 20, 40, 40, 20};
	struct access_demand d[11];
	struct access_supply s[2] = {{0, 0, 1}, {0, 0, 1}};
	struct access_od_pair pairs[22];
	for (int i = 0; i < 11; i++) {
		d[i] = (struct access_demand){0, 0, 1};
		pairs[2 * i] = (struct access_od_pair){(uint32_t)i, 0, dist_a[i]};
		pairs[2 * i + 1] = (struct access_od_pair){(uint32_t)i, 1, dist_b[i]};
	}
	struct access_od od = {pairs, 22, 0};
	struct access_params p;
	access_params_default(&p);
	p.cost = ACCESS_COST_MATRIX;
	p.od = &od;
	p.max_minutes = 30;
	p.decay = decay_of("none");
	struct access_result r;
	char *err = NULL;
	assert_int_equal(access_2sfca_run(d, 11, s, 2, &p, &r, &err), 0);
	static const double want[11] = {0.125, 0.125, 0.125, 0.375, 0.25, 0.125,
	                                0.125, 0.25,  0.125, 0.125, 0.25};
	double total = 0;
	for (int i = 0; i < 11; i++) {
		assert_close(r.rows[i].accessibility, want[i], 1e-15);
		assert_int_equal(r.rows[i].reachable, i == 3 ? 2 : 1);
		assert_close(r.rows[i].nearest_minutes, 20, 0);
		total += r.rows[i].accessibility;
	}
	assert_close(r.ratio[0], 0.125, 1e-15);
	assert_close(r.ratio[1], 0.25, 1e-15);
	assert_close(total, 2, 1e-15);
	access_result_free(&r);
}

/*
 * Great-circle costs, by hand: one crèche of 10 places at (45.0, 5.0), three communes due
 * north at 0, 0.1° and 0.2° of latitude (0, 11.1195 and 22.2390 km: 0, 17.346 and 34.693 min
 * at 1.3 × / 50 km/h), 100, 200 and 300 inhabitants; maximum 30 min, no decay.
 * Step 1: D = 100 + 200 = 300 (the third is beyond 30 min), R = 10/300.
 * Step 2: A = 1/30 for the first two communes; the third is "non couvert" (A = 0).
 */
static void test_hand_great_circle(void **state)
{
	(void)state;
	struct access_demand d[] = {{45.0, 5.0, 100}, {45.1, 5.0, 200}, {45.2, 5.0, 300}};
	struct access_supply s[] = {{45.0, 5.0, 10}};
	struct access_params p;
	access_params_default(&p);
	p.decay = decay_of("none");
	struct access_result r;
	char *err = NULL;
	assert_int_equal(access_2sfca_run(d, 3, s, 1, &p, &r, &err), 0);
	assert_close(r.served[0], 300, 1e-12);
	assert_close(r.ratio[0], 10.0 / 300, 1e-15);
	assert_close(r.rows[0].accessibility, 1.0 / 30, 1e-15);
	assert_close(r.rows[1].accessibility, 1.0 / 30, 1e-15);
	assert_close(r.rows[2].accessibility, 0, 0);
	assert_int_equal(r.rows[2].uncovered, 1);
	assert_int_equal(r.rows[2].reachable, 0);
	assert_true(isnan(r.rows[2].nearest_minutes));
	assert_close(r.rows[0].nearest_minutes, 0, 1e-12);
	assert_close(r.rows[1].nearest_minutes, 17.346432516431133, 1e-9);
	assert_int_equal(r.pairs, 2);
	access_result_free(&r);

	/* The same with the gaussian: f(17.346 min) = (exp(-(17.346/30)²/2) - e^-½)/(1 - e^-½). */
	p.decay = decay_of("gaussian");
	assert_int_equal(access_2sfca_run(d, 3, s, 1, &p, &r, &err), 0);
	double f1 = access_decay_eval(&p.decay, 30, 17.346432516431133);
	assert_close(
	    f1, (exp(-0.5 * pow(17.346432516431133 / 30, 2)) - exp(-0.5)) / (1 - exp(-0.5)), 1e-15);
	double ratio = 10 / (100 * 1.0 + 200 * f1);
	assert_close(r.ratio[0], ratio, 1e-15);
	assert_close(r.rows[0].accessibility, ratio, 1e-15);
	assert_close(r.rows[1].accessibility, ratio * f1, 1e-15);
	access_result_free(&r);

	/* A slower road (25 km/h) puts the second commune beyond 30 min (17.35 min × 50/25). */
	p.speed_kmh = 25;
	assert_int_equal(access_2sfca_run(d, 3, s, 1, &p, &r, &err), 0);
	assert_int_equal(r.rows[1].uncovered, 1);
	assert_close(r.rows[0].accessibility, 10.0 / 100, 1e-15);
	access_result_free(&r);
}

/* Zero population: such a commune's inhabitants would still have access; it changes no R_j.
 * A supply point that only zero-population communes reach gets R_j = 0. */
static void test_zero_population(void **state)
{
	(void)state;
	struct access_demand d[] = {{45.0, 5.0, 0}, {45.05, 5.0, 400}, {46.0, 7.0, 0}};
	struct access_supply s[] = {{45.0, 5.0, 20}, {46.0, 7.0, 15}};
	struct access_params p;
	access_params_default(&p);
	p.decay = decay_of("none");
	struct access_result r;
	char *err = NULL;
	assert_int_equal(access_2sfca_run(d, 3, s, 2, &p, &r, &err), 0);
	assert_close(r.ratio[0], 20.0 / 400, 1e-15);
	assert_close(r.rows[0].accessibility, 0.05, 1e-15);
	assert_close(r.rows[1].accessibility, 0.05, 1e-15);
	assert_close(r.served[1], 0, 0);
	assert_close(r.ratio[1], 0, 0);
	assert_close(r.rows[2].accessibility, 0, 0);
	assert_int_equal(r.rows[2].uncovered, 0); /* reachable, but no capacity is shared */
	assert_int_equal(r.rows[2].reachable, 1);
	access_result_free(&r);

	/* No supply at all: every commune is uncovered. No demand: nothing to do. */
	assert_int_equal(access_2sfca_run(d, 3, NULL, 0, &p, &r, &err), 0);
	for (int i = 0; i < 3; i++)
		assert_true(r.rows[i].uncovered && isnan(r.rows[i].nearest_minutes));
	access_result_free(&r);
	assert_int_equal(access_2sfca_run(NULL, 0, s, 2, &p, &r, &err), 0);
	assert_close(r.ratio[0], 0, 0);
	access_result_free(&r);
}

/* ---- Properties ----------------------------------------------------------------------------- */

/* Points in a disc of radius_km around (lat, lon). */
static void scatter_points(struct access_demand *d, size_t nd, struct access_supply *s, size_t ns,
                           double lat, double lon, double radius_km)
{
	for (size_t i = 0; i < nd + ns; i++) {
		double r = radius_km * sqrt(rng_uniform()), a = 2 * M_PI * rng_uniform();
		double la = lat + r * cos(a) / 111.195;
		double lo = lon + r * sin(a) / (111.195 * cos(lat * M_PI / 180));
		if (lo > 180)
			lo -= 360;
		if (lo < -180)
			lo += 360;
		if (i < nd)
			d[i] = (struct access_demand){la, lo, floor(rng_uniform() * 5000)};
		else
			s[i - nd] = (struct access_supply){la, lo, 5 + floor(rng_uniform() * 56)};
	}
}

/* Conservation: when every supply point's catchment holds population with f > 0,
 * Σ_i P_i A_i = Σ_j S_j (and with f = 1 everywhere, every A_i = ΣS / ΣP). */
static void test_conservation(void **state)
{
	(void)state;
	rng_state = 42;
	enum { ND = 300, NS = 120 };
	struct access_demand d[ND];
	struct access_supply s[NS];
	scatter_points(d, ND, s, NS, 44.75, 5.0, 8.0); /* all within 16 km: 25 min */
	struct access_params p;
	access_params_default(&p);
	double supply_total = 0, pop_total = 0;
	for (int j = 0; j < NS; j++)
		supply_total += s[j].capacity;
	for (int i = 0; i < ND; i++)
		pop_total += d[i].population;
	const char *decays[] = {"none", "gaussian", "linear", "step:10=1,20=0.66,30=0.33"};
	for (size_t k = 0; k < 4; k++) {
		p.decay = decay_of(decays[k]);
		struct access_result r;
		char *err = NULL;
		assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &r, &err), 0);
		double total = 0;
		for (int i = 0; i < ND; i++) {
			total += d[i].population * r.rows[i].accessibility;
			assert_int_equal(r.rows[i].reachable, NS);
			if (k == 0)
				assert_close(r.rows[i].accessibility, supply_total / pop_total,
				             1e-15);
		}
		assert_close(total / supply_total, 1.0, 1e-12);
		assert_int_equal(r.pairs, (uint64_t)ND * NS);
		access_result_free(&r);
	}
}

/* A brute-force 2SFCA from the public helpers, for comparison with the grid. */
static void brute_force(const struct access_demand *d, size_t nd, const struct access_supply *s,
                        size_t ns, const struct access_params *p, double *acc, uint32_t *reach,
                        double *ratio)
{
	double *served = calloc(ns, sizeof *served);
	for (size_t j = 0; j < ns; j++) {
		for (size_t i = 0; i < nd; i++) {
			double m = access_minutes_from_km(
			    access_haversine_km(d[i].lat, d[i].lon, s[j].lat, s[j].lon), p->detour,
			    p->speed_kmh);
			served[j] +=
			    d[i].population * access_decay_eval(&p->decay, p->max_minutes, m);
		}
		ratio[j] = served[j] > 0 ? s[j].capacity / served[j] : 0;
	}
	for (size_t i = 0; i < nd; i++) {
		acc[i] = 0;
		reach[i] = 0;
		for (size_t j = 0; j < ns; j++) {
			double m = access_minutes_from_km(
			    access_haversine_km(d[i].lat, d[i].lon, s[j].lat, s[j].lon), p->detour,
			    p->speed_kmh);
			reach[i] += m <= p->max_minutes;
			acc[i] += ratio[j] * access_decay_eval(&p->decay, p->max_minutes, m);
		}
	}
	free(served);
}

static void compare_brute(const struct access_demand *d, size_t nd, const struct access_supply *s,
                          size_t ns, const struct access_params *p, const struct access_result *r)
{
	double *acc = malloc(nd * sizeof *acc), *ratio = malloc((ns + 1) * sizeof *ratio);
	uint32_t *reach = malloc(nd * sizeof *reach);
	brute_force(d, nd, s, ns, p, acc, reach, ratio);
	for (size_t i = 0; i < nd; i++) {
		assert_close(r->rows[i].accessibility, acc[i], 1e-12 * (1 + acc[i]));
		if (r->rows[i].reachable != reach[i])
			fail_msg("point %zu (%g, %g): %u reachable, brute force %u", i, d[i].lat,
			         d[i].lon, r->rows[i].reachable, reach[i]);
	}
	for (size_t j = 0; j < ns; j++)
		assert_close(r->ratio[j], ratio[j], 1e-12 * (1 + ratio[j]));
	free(acc);
	free(ratio);
	free(reach);
}

/* The grid finds exactly the pairs a brute force finds, also across the antimeridian, near a
 * pole and with a catchment of several hundred kilometres. */
static void test_grid_vs_brute_force(void **state)
{
	(void)state;
	rng_state = 7;
	enum { ND = 400, NS = 300 };
	struct access_demand *d = malloc(ND * sizeof *d);
	struct access_supply *s = malloc(NS * sizeof *s);
	static const struct {
		double lat, lon, radius, minutes;
		const char *decay;
	} sites[] = {
	    {44.75, 5.0, 60, 30, "gaussian"},                /* Drôme */
	    {-17.5, 179.95, 40, 20, "linear"},               /* across the antimeridian */
	    {89.95, 0, 25, 30, "step:10=1,20=0.66,30=0.33"}, /* around the North Pole */
	    {46.5, 2.5, 500, 600, "gaussian"},               /* wide catchment (large angles) */
	    {-21.1, 55.5, 30, 45, "none"},                   /* La Réunion */
	};
	for (size_t k = 0; k < sizeof sites / sizeof sites[0]; k++) {
		scatter_points(d, ND, s, NS, sites[k].lat, sites[k].lon, sites[k].radius);
		for (int i = 0; i < ND; i++)
			if (d[i].lat > 90)
				d[i].lat = 180 - d[i].lat;
		for (int j = 0; j < NS; j++)
			if (s[j].lat > 90)
				s[j].lat = 180 - s[j].lat;
		struct access_params p;
		access_params_default(&p);
		p.max_minutes = sites[k].minutes;
		p.decay = decay_of(sites[k].decay);
		struct access_result r;
		char *err = NULL;
		assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &r, &err), 0);
		compare_brute(d, ND, s, NS, &p, &r);
		assert_true(r.pairs > 0);
		access_result_free(&r);
	}
	free(d);
	free(s);
}

static int rows_equal(const struct access_result *a, const struct access_result *b)
{
	for (size_t i = 0; i < a->ndemand; i++) {
		const struct access_row *x = &a->rows[i], *y = &b->rows[i];
		if (memcmp(&x->accessibility, &y->accessibility, sizeof(double)) ||
		    x->reachable != y->reachable || x->uncovered != y->uncovered ||
		    !(x->nearest_minutes == y->nearest_minutes ||
		      (isnan(x->nearest_minutes) && isnan(y->nearest_minutes))))
			return 0;
	}
	return !memcmp(a->ratio, b->ratio, a->nsupply * sizeof(double)) &&
	       !memcmp(a->served, b->served, a->nsupply * sizeof(double));
}

/* Bit-identical results whatever the number of threads. */
static void test_threads(void **state)
{
	(void)state;
	rng_state = 2026;
	enum { ND = 3000, NS = 6000 };
	struct access_demand *d = malloc(ND * sizeof *d);
	struct access_supply *s = malloc(NS * sizeof *s);
	scatter_points(d, ND, s, NS, 45.5, 4.5, 150);
	struct access_params p;
	access_params_default(&p);
	struct access_result r1, r2, r7;
	char *err = NULL;
	p.threads = 1;
	assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &r1, &err), 0);
	p.threads = 2;
	assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &r2, &err), 0);
	p.threads = 7;
	assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &r7, &err), 0);
	assert_true(rows_equal(&r1, &r2));
	assert_true(rows_equal(&r1, &r7));
	assert_int_equal(r1.pairs, r2.pairs);
	assert_true(r1.pairs > 100000);
	access_result_free(&r1);
	access_result_free(&r2);
	access_result_free(&r7);
	free(d);
	free(s);
}

/* A matrix holding the great-circle times gives the great-circle results. */
static void test_matrix_equals_great_circle(void **state)
{
	(void)state;
	rng_state = 99;
	enum { ND = 200, NS = 150 };
	struct access_demand d[ND];
	struct access_supply s[NS];
	scatter_points(d, ND, s, NS, 44.7, 5.1, 40);
	struct access_od_pair *pairs = malloc(ND * NS * sizeof *pairs);
	size_t n = 0;
	for (uint32_t j = 0; j < NS; j++) /* deliberately not sorted */
		for (uint32_t i = 0; i < ND; i++)
			pairs[n++] = (struct access_od_pair){
			    i, j,
			    access_minutes_from_km(
			        access_haversine_km(d[i].lat, d[i].lon, s[j].lat, s[j].lon), 1.3,
			        50)};
	struct access_od od = {pairs, n, 0};
	struct access_params p;
	access_params_default(&p);
	struct access_result a, b;
	char *err = NULL;
	assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &a, &err), 0);
	p.cost = ACCESS_COST_MATRIX;
	p.od = &od;
	assert_int_equal(access_2sfca_run(d, ND, s, NS, &p, &b, &err), 0);
	assert_int_equal(a.pairs, b.pairs);
	for (int i = 0; i < ND; i++) {
		assert_close(a.rows[i].accessibility, b.rows[i].accessibility,
		             1e-12 * (1 + b.rows[i].accessibility));
		assert_int_equal(a.rows[i].reachable, b.rows[i].reachable);
		assert_close(a.rows[i].nearest_minutes, b.rows[i].nearest_minutes, 1e-9);
	}
	access_result_free(&a);
	access_result_free(&b);
	free(pairs);
}

static void test_invalid_inputs(void **state)
{
	(void)state;
	struct access_demand d[] = {{45, 5, 10}};
	struct access_supply s[] = {{45, 5, 10}};
	struct access_result r;
	struct access_params p;
	char *err = NULL;
	static const struct {
		int what;
		const char *msg;
	} cases[] = {{0, "durée maximale"}, {1, "durée maximale"}, {2, "détour"},
	             {3, "vitesse"},        {4, "fils"},           {5, "latitude"},
	             {6, "population"},     {7, "capacité"},       {8, "matrice"},
	             {9, "hors limites"},   {10, "deux fois"},     {11, "durée non valide"},
	             {12, "longitude"},     {13, "paliers"}};
	struct access_od_pair out_of_range[] = {{0, 1, 3}};
	struct access_od_pair twice[] = {{0, 0, 3}, {0, 0, 4}};
	struct access_od_pair negative[] = {{0, 0, -3}};
	struct access_od od;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct access_demand dd = d[0];
		struct access_supply ss = s[0];
		access_params_default(&p);
		switch (cases[k].what) {
		case 0:
			p.max_minutes = 0;
			break;
		case 1:
			p.max_minutes = NAN;
			break;
		case 2:
			p.detour = 0;
			break;
		case 3:
			p.speed_kmh = -50;
			break;
		case 4:
			p.threads = ACCESS_THREADS_MAX + 1;
			break;
		case 5:
			dd.lat = 91;
			break;
		case 6:
			dd.population = -1;
			break;
		case 7:
			ss.capacity = INFINITY;
			break;
		case 8:
			p.cost = ACCESS_COST_MATRIX;
			break;
		case 9:
			od = (struct access_od){out_of_range, 1, 0};
			p.cost = ACCESS_COST_MATRIX;
			p.od = &od;
			break;
		case 10:
			od = (struct access_od){twice, 2, 0};
			p.cost = ACCESS_COST_MATRIX;
			p.od = &od;
			break;
		case 11:
			od = (struct access_od){negative, 1, 0};
			p.cost = ACCESS_COST_MATRIX;
			p.od = &od;
			break;
		case 12:
			ss.lon = NAN;
			break;
		case 13:
			p.decay.kind = ACCESS_DECAY_STEP;
			p.decay.nsteps = 0;
			break;
		}
		memset(&r, 0xAB, sizeof r);
		err = NULL;
		assert_int_equal(access_2sfca_run(&dd, 1, &ss, 1, &p, &r, &err), -1);
		assert_err_has(err, cases[k].msg);
		assert_null(r.rows);
		assert_null(r.ratio);
		free(err);
	}
	/* err may be NULL. */
	access_params_default(&p);
	p.max_minutes = -1;
	assert_int_equal(access_2sfca_run(d, 1, s, 1, &p, &r, NULL), -1);
}

/* ---- The numpy/scipy reference on the medium case (on demand) ---------------------------------
 */

/* The repository root, from this file's path (CMake compiles it by absolute path). */
static void source_dir(char *out, size_t cap)
{
	const char *env = getenv("MAILLAGE_SOURCE_DIR");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return;
	}
	/* __FILE__ is ".../tests/test_access.c" (absolute under CMake) or "tests/test_access.c". */
	snprintf(out, cap, "%s", __FILE__);
	char *slash = strrchr(out, '/');
	if (!slash) {
		snprintf(out, cap, ".."); /* compiled from within tests/ */
		return;
	}
	*slash = '\0'; /* .../tests */
	slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(out, cap, ".");
}

struct tsv {
	char *text;
	char **cell; /* row-major, ncol per row */
	size_t nrow, ncol;
};

static int tsv_read(const char *path, size_t ncol, struct tsv *t)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	t->text = malloc((size_t)n + 1);
	if (fread(t->text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -1;
	}
	fclose(f);
	t->text[n] = '\0';
	t->ncol = ncol;
	size_t cap = 0;
	char *save = NULL;
	int header = 1;
	for (char *line = strtok_r(t->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (header) {
			header = 0;
			continue;
		}
		if ((t->nrow + 1) * ncol > cap) {
			cap = cap ? cap * 2 : 1024 * ncol;
			t->cell = realloc(t->cell, cap * sizeof *t->cell);
		}
		char *p = line;
		for (size_t c = 0; c < ncol; c++) {
			t->cell[t->nrow * ncol + c] = p;
			char *tab = strchr(p, '\t');
			if (!tab && c + 1 < ncol)
				return -1;
			if (tab) {
				*tab = '\0';
				p = tab + 1;
			}
		}
		t->nrow++;
	}
	return 0;
}

static void tsv_free(struct tsv *t)
{
	free(t->text);
	free(t->cell);
}

static void test_python_reference(void **state)
{
	(void)state;
	const char *on = getenv("MAILLAGE_ACCESS_REFERENCE");
	if (!on || strcmp(on, "1") != 0) {
		print_message(
		    "[  SKIP    ] numpy/scipy reference: set MAILLAGE_ACCESS_REFERENCE=1 to "
		    "run it\n");
		skip();
	}
	const char *python = getenv("MAILLAGE_ACCESS_PYTHON");
	if (!python || !*python)
		python = "/usr/bin/python3";
	char cmd[8192], root[1024], dir[] = "/tmp/maillage-access-XXXXXX";
	snprintf(cmd, sizeof cmd, "'%s' -c 'import numpy, scipy, pandas' >/dev/null 2>&1", python);
	if (system(cmd) != 0) {
		print_message("[  SKIP    ] numpy/scipy reference: %s lacks numpy, scipy or pandas "
		              "(apt-get install python3-numpy python3-scipy python3-pandas)\n",
		              python);
		skip();
	}
	source_dir(root, sizeof root);
	assert_non_null(mkdtemp(dir));
	/* The medium case: Drôme + Ardèche (697 communes), 2 000 synthetic supply points. */
	snprintf(cmd, sizeof cmd,
	         "'%s' '%s/bench/access/prepare.py' --communes '%s/data/geo/communes.json' "
	         "--cities '%s/data/geo/cities500.txt' --supplies 2000 --seed 7 --out '%s' "
	         ">/dev/null",
	         python, root, root, root, dir);
	assert_int_equal(system(cmd), 0);
	char path[1200];
	struct tsv dt, st;
	snprintf(path, sizeof path, "%s/demand.tsv", dir);
	assert_int_equal(tsv_read(path, 5, &dt), 0);
	snprintf(path, sizeof path, "%s/supply.tsv", dir);
	assert_int_equal(tsv_read(path, 5, &st), 0);
	assert_int_equal(dt.nrow, 697);
	assert_int_equal(st.nrow, 2000);
	struct access_demand *d = malloc(dt.nrow * sizeof *d);
	struct access_supply *s = malloc(st.nrow * sizeof *s);
	for (size_t i = 0; i < dt.nrow; i++)
		d[i] = (struct access_demand){strtod(dt.cell[i * 5 + 1], NULL),
		                              strtod(dt.cell[i * 5 + 2], NULL),
		                              strtod(dt.cell[i * 5 + 3], NULL)};
	for (size_t j = 0; j < st.nrow; j++)
		s[j] = (struct access_supply){strtod(st.cell[j * 5 + 2], NULL),
		                              strtod(st.cell[j * 5 + 3], NULL),
		                              strtod(st.cell[j * 5 + 4], NULL)};
	static const struct {
		const char *decay;
		double minutes;
	} runs[] = {{"gaussian", 30},
	            {"linear", 30},
	            {"none", 20},
	            {"step:10=1,20=0.66,30=0.33", 30},
	            {"gaussian", 4}};
	for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
		snprintf(cmd, sizeof cmd,
		         "'%s' '%s/bench/access/reference.py' '%s' --decay '%s' --max-minutes %g "
		         "--out '%s/py%zu' >/dev/null",
		         python, root, dir, runs[k].decay, runs[k].minutes, dir, k);
		assert_int_equal(system(cmd), 0);
		struct tsv py;
		snprintf(path, sizeof path, "%s/py%zu/demand_result.tsv", dir, k);
		assert_int_equal(tsv_read(path, 5, &py), 0);
		assert_int_equal(py.nrow, dt.nrow);
		struct access_params p;
		access_params_default(&p);
		p.decay = decay_of(runs[k].decay);
		p.max_minutes = runs[k].minutes;
		struct access_result r;
		char *err = NULL;
		assert_int_equal(access_2sfca_run(d, dt.nrow, s, st.nrow, &p, &r, &err), 0);
		double worst = 0;
		size_t uncovered = 0;
		for (size_t i = 0; i < dt.nrow; i++) {
			assert_string_equal(py.cell[i * 5], dt.cell[i * 5]);
			double a = strtod(py.cell[i * 5 + 1], NULL);
			double diff = fabs(r.rows[i].accessibility - a);
			worst = diff > worst ? diff : worst;
			assert_int_equal(r.rows[i].reachable,
			                 strtoul(py.cell[i * 5 + 2], NULL, 10));
			assert_int_equal(r.rows[i].uncovered, atoi(py.cell[i * 5 + 4]));
			uncovered += r.rows[i].uncovered;
			if (!r.rows[i].uncovered)
				assert_close(r.rows[i].nearest_minutes,
				             strtod(py.cell[i * 5 + 3], NULL), 1e-9);
		}
		print_message("[          ] reference %s, %g min: %llu pairs, %zu uncovered, "
		              "max |A_C - A_py| = %.3g\n",
		              runs[k].decay, runs[k].minutes, (unsigned long long)r.pairs,
		              uncovered, worst);
		assert_true(worst <= 1e-9);
		if (runs[k].minutes < 5)
			assert_true(uncovered > 0); /* the "non couvert" rows are compared too */
		access_result_free(&r);
		tsv_free(&py);
	}
	free(d);
	free(s);
	tsv_free(&dt);
	tsv_free(&st);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_haversine),
	    cmocka_unit_test(test_decay_values),
	    cmocka_unit_test(test_decay_parse),
	    cmocka_unit_test(test_hand_matrix),
	    cmocka_unit_test(test_hand_csv),
	    cmocka_unit_test(test_csv_errors),
	    cmocka_unit_test(test_luo_wang),
	    cmocka_unit_test(test_hand_great_circle),
	    cmocka_unit_test(test_zero_population),
	    cmocka_unit_test(test_conservation),
	    cmocka_unit_test(test_grid_vs_brute_force),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_matrix_equals_great_circle),
	    cmocka_unit_test(test_invalid_inputs),
	    cmocka_unit_test(test_python_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
