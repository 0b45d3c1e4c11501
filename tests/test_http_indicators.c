/* test_http_indicators: indicators over HTTP — the référentiel and who may change it, attaching
 * indicators to fiches, baselines and targets, measurements (form, CSV import, API), overdue
 * measurements on hand-made dates, and nothing of a private plan for members of another plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "demo_indicators.h"
#include "harness.h"
#include "indicators.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW      "mot-de-passe-test"
#define HOSTILE "<script>alert(1)</script>' OR 1=1 --"

static struct th T;
static int64_t crestois, ardeche;
static int64_t fiche_mine, fiche_other; /* 99.1 (piloted by pilote@demo), 99.2 (no pilot) */
static int64_t pilot_id, coord_id;

/* --- database helpers ------------------------------------------------------------------------ */

/* Run sql with values bound by types ('s' text, 'I' int64, 'd' double); the first column of
 * the first row as an integer (-1 without a row). */
static double q_double(const char *sql, int64_t id)
{
	struct db *db = th_db(&T);
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	double v = NAN;
	if (st && db_step(st) == DB_ROW && !db_col_is_null(st, 0))
		v = db_col_double(st, 0);
	db_finalize(st);
	db_close(db);
	return v;
}

static int64_t make_user(const char *email, const char *role, int64_t plan, const char *plan_role)
{
	struct db *db = th_db(&T);
	char *err = NULL;
	int64_t id = 0;
	if (user_create(db, email, "Personne de test", role, PW, 0, "cli", &id, &err))
		fail_msg("user_create: %s", err);
	if (plan &&
	    db_execf(db, "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, ?)",
	             "IIs", plan, id, plan_role) != DB_OK)
		fail_msg("member: %s", db_errmsg(db));
	db_close(db);
	return id;
}

/* A fiche node under parent (0: top level) of a plan; returns its id. */
static int64_t make_node(int64_t plan, int64_t parent, const char *number, const char *title,
                         const char *status, const char *start, const char *end)
{
	int depth = 0;
	for (const char *p = number; *p; p++)
		depth += *p == '.';
	int64_t id =
	    parent ? th_query_int(&T,
	                          "INSERT INTO nodes (plan_id, parent_id, position, depth, number, "
	                          "title, created_at, updated_at) VALUES (?, ?, 90, ?, ?, ?, 'x', "
	                          "'x') RETURNING id",
	                          "IIIss", plan, parent, (int64_t)depth, number, title)
	           : th_query_int(&T,
	                          "INSERT INTO nodes (plan_id, position, depth, number, title, "
	                          "created_at, updated_at) VALUES (?, 90, 0, ?, ?, 'x', 'x') "
	                          "RETURNING id",
	                          "Iss", plan, number, title);
	if (status)
		th_query_int(&T,
		             "INSERT INTO fiches (node_id, status, progress, start_date, end_date) "
		             "VALUES (?, ?, 'bien_engagee', ?, ?)",
		             "Isss", id, status, start, end);
	return id;
}

/* A shared or fiche-specific indicator straight into the database. */
static int64_t make_indicator(const char *name, const char *kind, const char *type, int shared)
{
	return th_query_int(
	    &T,
	    "INSERT INTO indicators (name, kind, value_type, shared, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, 'x', 'x') RETURNING id",
	    "sssI", name, kind, type, (int64_t)shared);
}

static int64_t attach(int64_t node, int64_t ind, const char *frequency)
{
	return th_query_int(
	    &T,
	    "INSERT INTO fiche_indicators (node_id, indicator_id, frequency) VALUES (?, ?, "
	    "?) RETURNING id",
	    "IIs", node, ind, frequency);
}

static int64_t measurements_total(void)
{
	return th_query_int(&T, "SELECT COUNT(*) FROM measurements", "");
}

/* --- HTTP helpers ---------------------------------------------------------------------------- */

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

static struct client *as(const char *email, const char *password)
{
	struct client *c = client_new(&T);
	if (email && client_login(c, email, password) != 303)
		fail_msg("login %s failed", email);
	return c;
}

static struct client *as_demo(const char *who)
{
	char email[96];
	snprintf(email, sizeof email, "%s@demo.maillage.fr", who);
	return as(email, DEMO_PASSWORD);
}

static void get(struct client *c, struct resp *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void get(struct client *c, struct resp *r, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	client_get(c, path, r);
}

/*
 * POST to path the fields given as NULL-terminated name/value pairs (url-encoded here), with a
 * CSRF token taken from the home page. A client_submit that encodes its fields.
 */
static void post(struct client *c, struct resp *r, const char *path, ...)
{
	struct buf f = {0};
	va_list ap;
	va_start(ap, path);
	const char *k;
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		if (f.len)
			buf_putc(&f, '&');
		buf_url(&f, k);
		buf_putc(&f, '=');
		buf_url(&f, v);
	}
	va_end(ap);
	client_submit(c, "/", path, buf_str(&f), r);
	buf_free(&f);
}

/* The CSRF token of the client's session (from the home page), malloc'ed. */
static char *token(struct client *c)
{
	struct resp p;
	client_get(c, "/", &p);
	char *t = page_csrf_token(&p);
	resp_free(&p);
	if (!t)
		fail_msg("no CSRF token");
	return t;
}

/* POST a body of some content type with the X-CSRF-Token header. */
static void post_raw(struct client *c, struct resp *r, const char *path, const char *ctype,
                     const char *body, size_t len)
{
	char *t = token(c);
	char *h = xasprintf("X-CSRF-Token: %s", t);
	client_set_header(c, h);
	client_post(c, path, ctype, body, len, r);
	client_set_header(c, NULL);
	free(h);
	free(t);
}

/* POST a CSV file (and optional dry_run) as multipart/form-data to the import page. */
static void post_csv_file(struct client *c, struct resp *r, int64_t plan, const char *csv,
                          size_t len, int dry_run)
{
	char *t = token(c);
	struct buf b = {0};
	const char *bd = "----maillageTestBoundary7e3";
	buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n", bd,
	           t);
	if (dry_run)
		buf_printf(&b,
		           "--%s\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\n1\r\n",
		           bd);
	buf_printf(&b,
	           "--%s\r\nContent-Disposition: form-data; name=\"fichier\"; "
	           "filename=\"mesures.csv\"\r\nContent-Type: text/csv\r\n\r\n",
	           bd);
	buf_append(&b, csv, len);
	buf_printf(&b, "\r\n--%s--\r\n", bd);
	char ctype[96], path[96];
	snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", bd);
	snprintf(path, sizeof path, "/plans/%lld/mesures/importer", (long long)plan);
	client_post(c, path, ctype, buf_str(&b), b.len, r);
	buf_free(&b);
	free(t);
}

static json_t *body_json(const struct resp *r)
{
	json_error_t je;
	json_t *j = json_loads(buf_str(&r->body), 0, &je);
	if (!j)
		fail_msg("not JSON (%s): %s", je.text, buf_str(&r->body));
	return j;
}

/* --- setup ----------------------------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	crestois = th_query_int(&T, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", "");
	ardeche = th_query_int(&T,
	                       "SELECT id FROM plans WHERE title LIKE '%Ardèche%' OR title LIKE "
	                       "'%solidarités%' ORDER BY id LIMIT 1",
	                       "");
	assert_true(crestois > 0 && ardeche > 0 && crestois != ardeche);
	/* Our own fiches, numbered 99.x so that nothing of the demo is disturbed. */
	int64_t axis =
	    make_node(crestois, 0, "99", "Axe de test des indicateurs", NULL, NULL, NULL);
	fiche_mine = make_node(crestois, axis, "99.1", "Fiche du pilote", "en_cours", "2024-01-01",
	                       "2026-12-31");
	fiche_other = make_node(crestois, axis, "99.2", "Fiche sans pilote", "en_cours",
	                        "2024-01-01", "2026-12-31");
	pilot_id =
	    th_query_int(&T, "SELECT id FROM users WHERE email = 'pilote@demo.maillage.fr'", "");
	coord_id = th_query_int(
	    &T, "SELECT id FROM users WHERE email = 'coordination@demo.maillage.fr'", "");
	th_query_int(&T, "INSERT INTO fiche_pilots (node_id, user_id) VALUES (?, ?)", "II",
	             fiche_mine, pilot_id);
	/* A pilot of the plan who does not pilot 99.1, and a member of the Ardèche plan only. */
	make_user("pilote-b@example.org", "pilot", crestois, "pilot");
	make_user("ardechois@example.org", "coordinator", ardeche, "coordinator");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- pure functions ----------------------------------------------------------------------------
 */

static void test_number_parse_and_format(void **state)
{
	(void)state;
	const struct {
		const char *in;
		double out;
	} good[] = {{"12,5", 12.5},
	            {"12.5", 12.5},
	            {"  -3 ", -3},
	            {"1 234,5", 1234.5},
	            {"1\xe2\x80\xaf"
	             "234",
	             1234},
	            {"0,05", 0.05},
	            {"+7", 7},
	            {"1 000 000", 1000000}};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		double v = -99;
		if (indicator_number_parse(good[i].in, &v) || fabs(v - good[i].out) > 1e-9)
			fail_msg("parse '%s' gave %g", good[i].in, v);
	}
	const char *bad[] = {"",     "abc", "12,5,3", "1.234,5",  "12,", ",5",    "1e5",
	                     "12 %", "nan", "12 34",  "1234 567", "--3", "1 2345"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		double v;
		if (!indicator_number_parse(bad[i], &v))
			fail_msg("'%s' should be refused", bad[i]);
	}
	char out[64];
	indicator_number_format(out, 1234.5);
	assert_string_equal(out, "1\xe2\x80\xaf"
	                         "234,5");
	indicator_number_format(out, 12.0);
	assert_string_equal(out, "12");
	indicator_number_format(out, -0.004);
	assert_string_equal(out, "0");
	indicator_number_format(out, 33.333);
	assert_string_equal(out, "33,33");
}

static void test_trend_rule(void **state)
{
	(void)state;
	struct indicator_target t[] = {{2024, 100}, {2025, 200}};
	double exp = 0;
	/* No target for 2026: no trend. */
	assert_int_equal(
	    indicator_trend_compute(1, 1, 50, "2024-01-01", t, 2, 150, "2026-03-01", &exp),
	    TREND_NONE);
	/* 2025: from the 2024 target (100 on 31 Dec 2024) to 200 on 31 Dec 2025; halfway-ish on
	 * 2 July 2025: expected ≈ 150, tolerance 10. */
	assert_int_equal(indicator_trend_compute(1, 0, 0, NULL, t, 2, 152, "2025-07-02", &exp),
	                 TREND_ON_TRACK);
	assert_true(fabs(exp - 150) < 1);
	assert_int_equal(indicator_trend_compute(1, 0, 0, NULL, t, 2, 170, "2025-07-02", &exp),
	                 TREND_AHEAD);
	assert_int_equal(indicator_trend_compute(1, 0, 0, NULL, t, 2, 130, "2025-07-02", &exp),
	                 TREND_LATE);
	/* Direction down: a lower value is ahead. */
	assert_int_equal(indicator_trend_compute(0, 0, 0, NULL, t, 2, 130, "2025-07-02", &exp),
	                 TREND_AHEAD);
	/* 2024 without a previous target: from the baseline (50 on 1 Jan 2024). */
	assert_int_equal(
	    indicator_trend_compute(1, 1, 50, "2024-01-01", t, 2, 75, "2024-07-01", &exp),
	    TREND_ON_TRACK);
	assert_true(fabs(exp - 75) < 1);
	/* No starting point: compared with the target itself (tolerance 10 % of it). */
	assert_int_equal(indicator_trend_compute(1, 0, 0, NULL, t, 2, 95, "2024-07-01", &exp),
	                 TREND_ON_TRACK);
	assert_int_equal(indicator_trend_compute(1, 0, 0, NULL, t, 2, 80, "2024-07-01", &exp),
	                 TREND_LATE);
	assert_string_equal(indicator_trend_label(TREND_LATE), "en retard");
	assert_string_equal(indicator_trend_label(TREND_NONE), "sans cible");
}

static void test_add_months(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(indicator_add_months("2024-01-31", 1, out), 0);
	assert_string_equal(out, "2024-02-29");
	indicator_add_months("2023-01-31", 1, out);
	assert_string_equal(out, "2023-02-28");
	indicator_add_months("2024-11-15", 3, out);
	assert_string_equal(out, "2025-02-15");
	indicator_add_months("2024-05-10", 12, out);
	assert_string_equal(out, "2025-05-10");
	assert_int_equal(indicator_add_months("2024-02-30", 1, out), -1);
}

/* --- référentiel --------------------------------------------------------------------------------
 */

static void test_referentiel_crud_and_permissions(void **state)
{
	(void)state;
	struct resp r;
	struct client *anon = as(NULL, NULL);
	get(anon, &r, "/indicateurs");
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "<h1>Référentiel des indicateurs</h1>"));
	assert_false(has(&r, "Nouvel indicateur"));
	resp_free(&r);
	get(anon, &r, "/indicateurs/nouveau");
	assert_int_equal(r.status, 303); /* to the login page */
	resp_free(&r);
	post(anon, &r, "/indicateurs/nouveau", "name", "Anonyme", "kind", "realisation",
	     "value_type", "number", "direction", "up", NULL);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	client_free(anon);

	int64_t before = th_query_int(&T, "SELECT COUNT(*) FROM indicators", "");
	const char *refused[] = {"pilote", "partenaire", "lecture"};
	for (size_t i = 0; i < 3; i++) {
		struct client *c = as_demo(refused[i]);
		get(c, &r, "/indicateurs/nouveau");
		assert_int_equal(r.status, 403);
		resp_free(&r);
		post(c, &r, "/indicateurs/nouveau", "name", "Refusé", "kind", "realisation",
		     "value_type", "number", "direction", "up", NULL);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		client_free(c);
	}
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM indicators", ""), before);

	struct client *co = as_demo("coordination");
	get(co, &r, "/indicateurs/nouveau");
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "name=\"_csrf\""));
	resp_free(&r);
	/* Bad inputs: each refused with a French message, nothing stored. */
	char *long_name = xmalloc(202), *long_def = xmalloc(5002);
	memset(long_name, 'a', 201);
	long_name[201] = '\0';
	memset(long_def, 'b', 5001);
	long_def[5001] = '\0';
	const struct {
		const char *name, *def, *kind, *type, *domain, *direction, *message;
	} bad[] = {
	    {"", "", "realisation", "number", "", "up", "Donnez un nom"},
	    {long_name, "", "realisation", "number", "", "up", "limité à 200 caractères"},
	    {"Déf trop longue", long_def, "realisation", "number", "", "up", "5 000 caractères"},
	    {"Type inconnu", "", "resultat", "number", "", "up", "réalisation ou impact"},
	    {"Valeur inconnue", "", "impact", "texte", "", "up", "nombre ou qualitatif"},
	    {"Domaine inconnu", "", "impact", "number", "bonheur", "up", "domaine d&#39;impact"},
	    {"Sens inconnu", "", "impact", "number", "", "sideways", "hausse ou à la baisse"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		post(co, &r, "/indicateurs/nouveau", "name", bad[i].name, "definition", bad[i].def,
		     "kind", bad[i].kind, "value_type", bad[i].type, "impact_domain", bad[i].domain,
		     "direction", bad[i].direction, NULL);
		if (r.status != 422 || !has(&r, bad[i].message))
			fail_msg("case %zu: status %ld, message '%s' missing", i, r.status,
			         bad[i].message);
		resp_free(&r);
	}
	free(long_name);
	free(long_def);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM indicators", ""), before);

	/* A hostile name is stored as typed and shown escaped. */
	post(co, &r, "/indicateurs/nouveau", "name", HOSTILE, "definition", "**Gras** <b>x</b>",
	     "unit", "familles", "kind", "impact", "value_type", "number", "impact_domain",
	     "lien-social", "source", "Enquête", "direction", "down", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t id = th_query_int(&T, "SELECT id FROM indicators WHERE name = ?", "s", HOSTILE);
	assert_true(id > 0);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'indicator' AND "
	                 "entity_id = CAST(? AS TEXT) AND action = 'create'",
	                 "I", id),
	    1);
	get(co, &r, "/indicateurs/%lld", (long long)id);
	assert_int_equal(r.status, 200);
	assert_false(has(&r, "<script>alert(1)"));
	assert_true(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;&#39; OR 1=1 --"));
	assert_true(has(&r, "<strong>Gras</strong>"));
	assert_false(has(&r, "<b>x</b>"));
	assert_true(has(&r, "Lien social"));
	resp_free(&r);
	/* Same name, other case and accents: refused. */
	post(co, &r, "/indicateurs/nouveau", "name", "NOMBRE de familles accompagnées test", "kind",
	     "realisation", "value_type", "number", "direction", "up", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	post(co, &r, "/indicateurs/nouveau", "name", "nombre de familles accompagnees TEST", "kind",
	     "realisation", "value_type", "number", "direction", "up", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "porte déjà ce nom"));
	resp_free(&r);

	/* Filters. */
	get(co, &r, "/indicateurs?type=impact&domaine=lien-social");
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "&lt;script&gt;"));
	assert_false(has(&r, "NOMBRE de familles accompagnées test"));
	resp_free(&r);
	get(co, &r, "/indicateurs?type=realisation");
	assert_true(has(&r, "NOMBRE de familles accompagnées test"));
	assert_false(has(&r, "&lt;script&gt;"));
	resp_free(&r);

	/* Edit: the coordinator yes, a pilot no. */
	char path[96];
	snprintf(path, sizeof path, "/indicateurs/%lld/modifier", (long long)id);
	get(co, &r, "%s", path);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "value=\"&lt;script&gt;alert(1)"));
	resp_free(&r);
	post(co, &r, path, "name", "Indicateur renommé", "kind", "impact", "value_type", "number",
	     "impact_domain", "", "direction", "up", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	char *name = th_query_text(&T, "SELECT name FROM indicators WHERE id = ?", id);
	assert_string_equal(name, "Indicateur renommé");
	free(name);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM indicators WHERE id = ? AND impact_domain "
	                 "IS NULL",
	                 "I", id),
	    1);
	struct client *pi = as_demo("pilote");
	post(pi, &r, path, "name", "Pirate", "kind", "impact", "value_type", "number", "direction",
	     "up", NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pi);
	name = th_query_text(&T, "SELECT name FROM indicators WHERE id = ?", id);
	assert_string_equal(name, "Indicateur renommé");
	free(name);

	/* A fiche-specific indicator is not in the référentiel. */
	int64_t own = make_indicator("Indicateur privé de fiche", "realisation", "number", 0);
	get(co, &r, "/indicateurs/%lld", (long long)own);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(co, &r, "/indicateurs/%lld/modifier", (long long)own);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(co, &r, "/indicateurs");
	assert_false(has(&r, "Indicateur privé de fiche"));
	resp_free(&r);
	client_free(co);
}

/* --- attach, settings, detach -------------------------------------------------------------------
 */

static void test_attach_settings_detach(void **state)
{
	(void)state;
	struct resp r;
	int64_t ind = make_indicator("Indicateur à rattacher", "realisation", "number", 1);
	char idv[32], path[128];
	snprintf(idv, sizeof idv, "%lld", (long long)ind);

	/* Refused: anonymous, reader, partner, the pilot of another fiche. */
	snprintf(path, sizeof path, "/fiches/%lld/indicateurs/rattacher", (long long)fiche_mine);
	struct client *anon = as(NULL, NULL);
	post(anon, &r, path, "indicator_id", idv, "frequency", "quarterly", NULL);
	assert_true(r.status == 401 || r.status == 404);
	resp_free(&r);
	client_free(anon);
	const char *who[] = {"lecture@demo.maillage.fr", "partenaire@demo.maillage.fr",
	                     "pilote-b@example.org"};
	const char *pw[] = {DEMO_PASSWORD, DEMO_PASSWORD, PW};
	for (size_t i = 0; i < 3; i++) {
		struct client *c = as(who[i], pw[i]);
		post(c, &r, path, "indicator_id", idv, "frequency", "quarterly", NULL);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		client_free(c);
	}
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_indicators WHERE indicator_id = ?", "I",
	                 ind),
	    0);

	/* The pilot of the fiche attaches it. */
	struct client *pi = as_demo("pilote");
	post(pi, &r, path, "indicator_id", idv, "frequency", "weekly", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "Choisissez une fréquence"));
	resp_free(&r);
	post(pi, &r, path, "indicator_id", "999999", "frequency", "quarterly", NULL);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	post(pi, &r, path, "indicator_id", idv, "frequency", "monthly", NULL);
	assert_int_equal(r.status, 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(strstr(loc, "/modifier?ok=rattache"));
	free(loc);
	resp_free(&r);
	int64_t fi = th_query_int(
	    &T, "SELECT id FROM fiche_indicators WHERE node_id = ? AND indicator_id = ?", "II",
	    fiche_mine, ind);
	assert_true(fi > 0);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche_indicator' "
	                 "AND entity_id = CAST(? AS TEXT)",
	                 "I", fi),
	    1);
	post(pi, &r, path, "indicator_id", idv, "frequency", "monthly", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "déjà suivi"));
	resp_free(&r);
	/* Not on a fiche the pilot does not pilot. */
	snprintf(path, sizeof path, "/fiches/%lld/indicateurs/rattacher", (long long)fiche_other);
	post(pi, &r, path, "indicator_id", idv, "frequency", "monthly", NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);

	/* Baseline and targets. */
	snprintf(path, sizeof path, "/indicateurs-fiche/%lld/modifier", (long long)fi);
	get(pi, &r, "%s", path);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "name=\"target_2022\"") && has(&r, "name=\"target_2026\""));
	resp_free(&r);
	const struct {
		const char *bv, *bd, *t24, *extra_key, *extra_val, *freq, *message;
	} bad[] = {
	    {"abc", "2024-01-15", "", "x", "", "monthly", "n&#39;est pas un nombre"},
	    {"12", "", "", "x", "", "monthly", "Indiquez la date"},
	    {"12", "2024-02-30", "", "x", "", "monthly", "pas valide"},
	    {"12", "2999-01-01", "", "x", "", "monthly", "futur"},
	    {"12", "2024-01-15", "vingt", "x", "", "monthly", "La cible 2024"},
	    {"12", "2024-01-15", "20", "target_2031", "5", "monthly", "hors de la période"},
	    {"12", "2024-01-15", "20", "x", "", "weekly", "Choisissez une fréquence"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		post(pi, &r, path, "frequency", bad[i].freq, "baseline_value", bad[i].bv,
		     "baseline_date", bad[i].bd, "target_2024", bad[i].t24, bad[i].extra_key,
		     bad[i].extra_val, NULL);
		if (r.status != 422 || !has(&r, bad[i].message))
			fail_msg("settings case %zu: status %ld, '%s' missing", i, r.status,
			         bad[i].message);
		resp_free(&r);
	}
	assert_true(
	    isnan(q_double("SELECT baseline_value FROM fiche_indicators WHERE id = ?", fi)));
	post(pi, &r, path, "frequency", "quarterly", "baseline_value", "12,5", "baseline_date",
	     "15/01/2024", "target_2024", "20", "target_2025", "30,5", "target_2026", "", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_true(fabs(q_double("SELECT baseline_value FROM fiche_indicators WHERE id = ?", fi) -
	                 12.5) < 1e-9);
	char *bd = th_query_text(
	    &T, "SELECT baseline_date || frequency FROM fiche_indicators WHERE id = ?", fi);
	assert_string_equal(bd, "2024-01-15quarterly");
	free(bd);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM indicator_targets WHERE fiche_indicator_id = ?",
	                 "I", fi),
	    2);
	assert_true(
	    fabs(q_double("SELECT value FROM indicator_targets WHERE fiche_indicator_id = ? "
	                  "AND year = 2025",
	                  fi) -
	         30.5) < 1e-9);
	/* The fiche page shows it with its targets and the trend rule. */
	get(pi, &r, "/fiches/%lld/indicateurs", (long long)fiche_mine);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Indicateur à rattacher"));
	assert_true(has(&r, "2025\xc2\xa0:\xc2\xa0"
	                    "30,5"));
	assert_true(has(&r, "12,5"));
	assert_true(has(&r, "sans cible")); /* nothing measured yet */
	assert_true(has(&r, "écart toléré"));
	assert_true(has(&r, "Ajouter un indicateur"));
	assert_true(has(&r, "#saisie"));
	resp_free(&r);
	/* Readers see the page without the forms. */
	struct client *rd = as_demo("lecture");
	get(rd, &r, "/fiches/%lld/indicateurs", (long long)fiche_mine);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Indicateur à rattacher"));
	assert_false(has(&r, "Ajouter un indicateur"));
	assert_false(has(&r, "#saisie"));
	resp_free(&r);
	client_free(rd);

	/* A fiche-specific indicator. */
	snprintf(path, sizeof path, "/fiches/%lld/indicateurs/nouveau", (long long)fiche_mine);
	post(pi, &r, path, "name", "", "kind", "impact", "value_type", "number", "direction", "up",
	     "frequency", "yearly", NULL);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	post(pi, &r, path, "name", "Indicateur maison", "kind", "impact", "value_type", "number",
	     "impact_domain", "pouvoir-d-agir", "direction", "up", "frequency", "yearly", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t own = th_query_int(&T,
	                           "SELECT id FROM indicators WHERE name = 'Indicateur maison' AND "
	                           "shared = 0",
	                           "");
	assert_true(own > 0);
	int64_t own_fi =
	    th_query_int(&T, "SELECT id FROM fiche_indicators WHERE indicator_id = ?", "I", own);
	get(pi, &r, "/fiches/%lld/indicateurs", (long long)fiche_mine);
	assert_true(has(&r, "Indicateur maison") && has(&r, "propre à la fiche"));
	resp_free(&r);
	get(pi, &r, "/indicateurs");
	assert_false(has(&r, "Indicateur maison"));
	resp_free(&r);

	/* Detach: a confirmation, then the removal (the fiche-specific indicator goes too). */
	snprintf(path, sizeof path, "/indicateurs-fiche/%lld/retirer", (long long)own_fi);
	get(pi, &r, "%s", path);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Retirer l'indicateur"));
	resp_free(&r);
	struct client *pb = as("pilote-b@example.org", PW);
	post(pb, &r, path, NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pb);
	post(pi, &r, path, NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_indicators WHERE id = ?", "I", own_fi), 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM indicators WHERE id = ?", "I", own),
	                 0);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche_indicator' "
	                 "AND action = 'delete' AND entity_id = CAST(? AS TEXT)",
	                 "I", own_fi),
	    1);
	client_free(pi);
}

/* --- measurements --------------------------------------------------------------------------------
 */

static void test_measurement_entry(void **state)
{
	(void)state;
	struct resp r;
	int64_t num = make_indicator("Indicateur de saisie", "realisation", "number", 1);
	int64_t qual =
	    make_indicator("Indicateur qualitatif de saisie", "impact", "qualitative", 1);
	int64_t fi = attach(fiche_mine, num, "quarterly");
	int64_t fq = attach(fiche_mine, qual, "half_yearly");
	char path[128];
	snprintf(path, sizeof path, "/indicateurs-fiche/%lld/mesures", (long long)fi);
	struct client *pi = as_demo("pilote");
	get(pi, &r, "/indicateurs-fiche/%lld", (long long)fi);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "id=\"saisie\"") && has(&r, "Date de la mesure"));
	resp_free(&r);

	post(pi, &r, path, "measured_on", "2024-03-31", "value", "12,5", "source", "Tableau",
	     "comment", HOSTILE, NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t m =
	    th_query_int(&T, "SELECT id FROM measurements WHERE fiche_indicator_id = ?", "I", fi);
	assert_true(m > 0);
	assert_true(fabs(q_double("SELECT value FROM measurements WHERE id = ?", m) - 12.5) < 1e-9);
	assert_int_equal(
	    th_query_int(&T, "SELECT entered_by FROM measurements WHERE id = ?", "I", m), pilot_id);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'measurement' AND "
	                 "entity_id = CAST(? AS TEXT)",
	                 "I", m),
	    1);
	get(pi, &r, "/indicateurs-fiche/%lld", (long long)fi);
	assert_true(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_false(has(&r, "<script>alert(1)"));
	assert_true(has(&r, "12,5"));
	assert_true(has(&r, "Saisie par"));
	resp_free(&r);

	int64_t before = measurements_total();
	const struct {
		const char *date, *value, *message;
	} bad[] = {
	    {"2024-03-31", "13", "existe déjà"},
	    {"2024-06-30", "douze", "n&#39;est pas un nombre"},
	    {"2024-06-30", "", "Indiquez la valeur"},
	    {"2024-02-30", "3", "n&#39;est pas valide"},
	    {"", "3", "Indiquez la date"},
	    {"2999-01-01", "3", "futur"},
	    {"2024-06-30", "1.234,5", "n&#39;est pas un nombre"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		post(pi, &r, path, "measured_on", bad[i].date, "value", bad[i].value, NULL);
		if (r.status != 422 || !has(&r, bad[i].message))
			fail_msg("measurement case %zu: status %ld, '%s' missing", i, r.status,
			         bad[i].message);
		/* What was typed stays in the form. */
		if (*bad[i].value && !has(&r, bad[i].value))
			fail_msg("measurement case %zu: typed value lost", i);
		resp_free(&r);
	}
	assert_int_equal(measurements_total(), before);

	/* Qualitative: a text and a level from 1 to 4. */
	snprintf(path, sizeof path, "/indicateurs-fiche/%lld/mesures", (long long)fq);
	post(pi, &r, path, "measured_on", "2024-06-30", "text_value", "Bonne dynamique", "level",
	     "5", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "de 1 à 4"));
	resp_free(&r);
	post(pi, &r, path, "measured_on", "2024-06-30", "text_value", "Bonne dynamique", "level",
	     "", NULL);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	post(pi, &r, path, "measured_on", "2024-06-30", "text_value", "  ", "level", "3", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "appréciation"));
	resp_free(&r);
	post(pi, &r, path, "measured_on", "2024-06-30", "text_value", "Bonne dynamique", "level",
	     "3", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T,
	                              "SELECT level FROM measurements WHERE fiche_indicator_id = ?",
	                              "I", fq),
	                 3);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ? AND "
	                 "value IS NULL AND text_value = 'Bonne dynamique'",
	                 "I", fq),
	    1);

	/* Changing and deleting: one's own, or any for the coordination. */
	char edit[96], del[96];
	snprintf(edit, sizeof edit, "/mesures/%lld/modifier", (long long)m);
	snprintf(del, sizeof del, "/mesures/%lld/supprimer", (long long)m);
	struct client *pb = as("pilote-b@example.org", PW);
	post(pb, &r, edit, "measured_on", "2024-03-31", "value", "99", NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	post(pb, &r, del, NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pb);
	post(pi, &r, edit, "measured_on", "2024-03-30", "value", "14,25", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_true(fabs(q_double("SELECT value FROM measurements WHERE id = ?", m) - 14.25) <
	            1e-9);
	get(pi, &r, "%s", edit);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "value=\"14,25\""));
	assert_true(has(&r, "value=\"2024-03-30\""));
	resp_free(&r);
	struct client *co = as_demo("coordination");
	post(co, &r, edit, "measured_on", "2024-03-30", "value", "15", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	/* A measurement entered by the coordinator: the pilot may not change it. */
	snprintf(path, sizeof path, "/indicateurs-fiche/%lld/mesures", (long long)fi);
	post(co, &r, path, "measured_on", "2024-09-30", "value", "20", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t mc = th_query_int(&T,
	                          "SELECT id FROM measurements WHERE fiche_indicator_id = ? AND "
	                          "entered_by = ?",
	                          "II", fi, coord_id);
	char edit_c[96];
	snprintf(edit_c, sizeof edit_c, "/mesures/%lld/modifier", (long long)mc);
	post(pi, &r, edit_c, "measured_on", "2024-09-30", "value", "1", NULL);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(co);
	get(pi, &r, "%s", del);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	post(pi, &r, del, NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM measurements WHERE id = ?", "I", m),
	                 0);
	client_free(pi);
}

/* On a public plan, visitors see the values but not who entered them. */
static void test_public_visitors_see_values_not_people(void **state)
{
	(void)state;
	int64_t node =
	    th_query_int(&T,
	                 "SELECT f.node_id FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.plan_id = ? ORDER BY f.node_id LIMIT 1",
	                 "I", ardeche);
	assert_true(node > 0);
	int64_t ind = make_indicator("Indicateur public de test", "realisation", "number", 1);
	int64_t fi = attach(node, ind, "yearly");
	th_query_int(
	    &T,
	    "INSERT INTO measurements (fiche_indicator_id, measured_on, value, entered_by, "
	    "entered_at) VALUES (?, '2023-06-30', 4321, ?, 'x')",
	    "II", fi, coord_id);
	struct client *anon = as(NULL, NULL);
	struct resp r;
	get(anon, &r, "/indicateurs-fiche/%lld", (long long)fi);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "4"
	                    "\xe2\x80\xaf"
	                    "321"));
	assert_false(has(&r, "Saisie par"));
	assert_false(has(&r, "Camille Coordination"));
	assert_false(has(&r, "id=\"saisie\""));
	resp_free(&r);
	get(anon, &r, "/fiches/%lld/indicateurs", (long long)node);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Indicateur public de test"));
	resp_free(&r);
	get(anon, &r, "/api/v1/fiches/%lld/indicators", (long long)node);
	assert_int_equal(r.status, 200);
	assert_false(has(&r, "entered_by"));
	assert_true(has(&r, "4321"));
	resp_free(&r);
	client_free(anon);
}

/* --- CSV import ------------------------------------------------------------------------------ */

static void test_csv_import(void **state)
{
	(void)state;
	struct resp r;
	int64_t a = make_indicator("Indicateur CSV A", "realisation", "number", 1);
	int64_t q = make_indicator("Indicateur CSV Qualité", "impact", "qualitative", 1);
	int64_t fa = attach(fiche_mine, a, "quarterly");
	int64_t fq = attach(fiche_other, q, "half_yearly");
	struct client *co = as_demo("coordination");

	/* A correct file: BOM, CRLF, header, decimal comma, both date forms, quotes. */
	char good[1024];
	snprintf(good, sizeof good,
	         "\xef\xbb\xbf"
	         "fiche;indicateur;date;valeur;source;commentaire;niveau\r\n"
	         "99.1;Indicateur CSV A;2024-01-31;10,5;Tableau;;\r\n"
	         "99.1;indicateur csv a;2024-04-30;11;Tableau;\"Avec ; point-virgule\"\r\n"
	         "99.1;%lld;31/07/2024;1 250,75;;\r\n"
	         "\r\n"
	         "99.2;Indicateur CSV Qualité;2024-06-30;Partenaires mobilisés;;;3\r\n"
	         "99.2;INDICATEUR CSV QUALITE;2024-12-31;\"Très bien, dit « parfait »\";;;4\r\n",
	         (long long)a);
	int64_t before = measurements_total();
	post_csv_file(co, &r, crestois, good, strlen(good), 1); /* dry run first */
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Vérification réussie : 5 mesures valides"));
	resp_free(&r);
	assert_int_equal(measurements_total(), before);
	post_csv_file(co, &r, crestois, good, strlen(good), 0);
	assert_int_equal(r.status, 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(strstr(loc, "ok=5"));
	free(loc);
	resp_free(&r);
	assert_int_equal(measurements_total(), before + 5);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ?", "I",
	                 fa),
	    3);
	assert_true(fabs(q_double("SELECT value FROM measurements WHERE fiche_indicator_id = ? AND "
	                          "measured_on = '2024-07-31'",
	                          fa) -
	                 1250.75) < 1e-9);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT level FROM measurements WHERE fiche_indicator_id = ? AND "
	                 "measured_on = '2024-12-31'",
	                 "I", fq),
	    4);
	char *c = th_query_text(&T,
	                        "SELECT comment FROM measurements WHERE fiche_indicator_id = ? AND "
	                        "measured_on = '2024-04-30'",
	                        fa);
	assert_string_equal(c, "Avec ; point-virgule");
	free(c);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ? AND "
	                 "entered_by = ?",
	                 "II", fa, coord_id),
	    3);

	/* Errors on lines 3 and 7 only: refused, both named, nothing stored. */
	const char *two_bad = "fiche;indicateur;date;valeur;source;commentaire\n"
	                      "99.1;Indicateur CSV A;2025-01-31;12;;\n"
	                      "99.1;Indicateur CSV A;2025-02-31;13;;\n"
	                      "99.1;Indicateur CSV A;2025-03-31;14;;\n"
	                      "99.1;Indicateur CSV A;2025-04-30;15;;\n"
	                      "99.1;Indicateur CSV A;2025-05-31;16;;\n"
	                      "99.1;Indicateur CSV A;2025-06-30;beaucoup;;\n"
	                      "99.1;Indicateur CSV A;2025-07-31;18;;\n";
	before = measurements_total();
	post_csv_file(co, &r, crestois, two_bad, strlen(two_bad), 0);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "<td class=\"num\">3</td><td>date</td>"));
	assert_true(has(&r, "<td class=\"num\">7</td><td>valeur</td>"));
	assert_true(has(&r, "2 erreurs"));
	assert_false(has(&r, "<td class=\"num\">2</td>"));
	assert_false(has(&r, "<td class=\"num\">4</td>"));
	resp_free(&r);
	assert_int_equal(measurements_total(), before);

	/* Every kind of error, each named by line and column, in French. */
	char all_bad[2048];
	snprintf(all_bad, sizeof all_bad,
	         "9.9.9;Indicateur CSV A;2024-02-01;1;;\n"           /* 1 unknown fiche */
	         "99.1;Indicateur inconnu;2024-02-01;1;;\n"          /* 2 not attached */
	         "99.1;Indicateur CSV A;2024-13-01;1;;\n"            /* 3 invalid date */
	         "99.1;Indicateur CSV A;2999-01-01;1;;\n"            /* 4 future date */
	         "99.1;Indicateur CSV A;2024-02-01;douze;;\n"        /* 5 not a number */
	         "99.2;Indicateur CSV Qualité;2024-02-01;Bien;;;5\n" /* 6 level out of range */
	         "99.1;Indicateur CSV A;2024-02-15;1;;\n"            /* 7 ok */
	         "99.1;Indicateur CSV A;2024-02-15;2;;\n"            /* 8 duplicate of line 7 */
	         "99.1;Indicateur CSV A;2024-01-31;3;;\n"            /* 9 already stored */
	         "99.1,Indicateur CSV A,2024-02-20,3\n");            /* 10 wrong separator */
	post_csv_file(co, &r, crestois, all_bad, strlen(all_bad), 0);
	assert_int_equal(r.status, 422);
	const char *expect[] = {
	    "<td class=\"num\">1</td><td>fiche</td><td>Fiche « 9.9.9 » inconnue",
	    "<td class=\"num\">2</td><td>indicateur</td><td>L&#39;indicateur « Indicateur "
	    "inconnu » n&#39;est pas rattaché à la fiche 99.1",
	    "<td class=\"num\">3</td><td>date</td><td>La date « 2024-13-01 » n&#39;est pas "
	    "valide",
	    "<td class=\"num\">4</td><td>date</td><td>La date 2999-01-01 est dans le futur",
	    "<td class=\"num\">5</td><td>valeur</td><td>La valeur « douze » n&#39;est pas un "
	    "nombre",
	    "<td class=\"num\">6</td><td>niveau</td><td>Le niveau doit être un nombre entier de "
	    "1 à 4",
	    "<td class=\"num\">8</td><td>date</td><td>Doublon",
	    "<td class=\"num\">9</td><td>date</td><td>Une mesure existe déjà le 2024-01-31",
	    "<td class=\"num\">10</td><td>—</td><td>Une seule colonne lue",
	};
	for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
		if (!has(&r, expect[i]))
			fail_msg("import error missing: %s", expect[i]);
	assert_false(has(&r, "<td class=\"num\">7</td>"));
	resp_free(&r);
	assert_int_equal(measurements_total(), before);

	/* Pasted into the textarea (url-encoded form). */
	char path[96];
	snprintf(path, sizeof path, "/plans/%lld/mesures/importer", (long long)crestois);
	post(co, &r, path, "contenu", "99.1;Indicateur CSV A;2024-10-31;21;;", NULL);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(measurements_total(), before + 1);
	post(co, &r, path, "contenu", "", NULL);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "Choisissez un fichier"));
	resp_free(&r);
	/* Not UTF-8 (Latin-1 "é"). */
	const char latin1[] = "99.1;Indicateur CSV A;2024-11-30;1;Donn\xe9"
	                      "es;\n";
	post_csv_file(co, &r, crestois, latin1, strlen(latin1), 0);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "UTF-8"));
	resp_free(&r);
	/* The template lists the plan's fiche indicators. */
	get(co, &r, "/plans/%lld/mesures/modele", (long long)crestois);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "fiche;indicateur;date;valeur"));
	assert_true(has(&r, "99.1;Indicateur CSV A;"));
	resp_free(&r);
	client_free(co);

	/* Only the coordination imports. */
	struct client *pi = as_demo("pilote");
	get(pi, &r, "/plans/%lld/mesures/importer", (long long)crestois);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	post_csv_file(pi, &r, crestois, good, strlen(good), 0);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pi);
	assert_int_equal(measurements_total(), before + 1);
}

static void test_api(void **state)
{
	(void)state;
	struct resp r;
	int64_t a = make_indicator("Indicateur API", "realisation", "number", 1);
	int64_t fa = attach(fiche_mine, a, "monthly");
	struct client *co = as_demo("coordination");
	char path[160];

	/* Import: 201, 422 with the errors array, dry run. */
	snprintf(path, sizeof path, "/api/v1/plans/%lld/measurements/import", (long long)crestois);
	const char *ok = "fiche;indicateur;date;valeur;source;commentaire\r\n"
	                 "99.1;Indicateur API;2024-01-31;1,5;API;\r\n"
	                 "99.1;Indicateur API;2024-02-29;2;API;\r\n";
	int64_t before = measurements_total();
	post_raw(co, &r, path, "text/csv", ok, strlen(ok));
	assert_int_equal(r.status, 201);
	json_t *j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "created")), 2);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(measurements_total(), before + 2);
	const char *bad = "99.1;Indicateur API;2024-03-31;3;;\n"
	                  "99.1;Indicateur API;2024-04-30;4;;\n"
	                  "99.1;Indicateur API;31/04/2024;5;;\n"
	                  "99.1;Indicateur API;2024-05-31;6;;\n"
	                  "99.1;Indicateur API;2024-06-30;7;;\n"
	                  "99.1;Indicateur API;2024-07-31;8;;\n"
	                  "99.1;Indicateur API;2024-08-31;x;;\n";
	post_raw(co, &r, path, "text/csv", bad, strlen(bad));
	assert_int_equal(r.status, 422);
	j = body_json(&r);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid");
	assert_non_null(json_string_value(json_object_get(e, "message")));
	json_t *errors = json_object_get(e, "errors");
	assert_int_equal(json_array_size(errors), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errors, 0), "line")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 0), "column")),
	                    "date");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(errors, 0), "column_number")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errors, 1), "line")), 7);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errors, 1), "column")),
	                    "valeur");
	json_decref(j);
	resp_free(&r);
	assert_int_equal(measurements_total(), before + 2);
	snprintf(path, sizeof path, "/api/v1/plans/%lld/measurements/import?dry_run=1",
	         (long long)crestois);
	const char *dry = "99.1;Indicateur API;2024-03-31;3;;\n";
	post_raw(co, &r, path, "text/csv", dry, strlen(dry));
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "valid")), 1);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(measurements_total(), before + 2);

	/* One measurement in JSON. */
	snprintf(path, sizeof path, "/api/v1/fiches/%lld/indicators/%lld/measurements",
	         (long long)fiche_mine, (long long)fa);
	const char *m1 = "{\"measured_on\":\"2024-03-31\",\"value\":\"3,25\",\"comment\":\"API\"}";
	post_raw(co, &r, path, "application/json", m1, strlen(m1));
	assert_int_equal(r.status, 201);
	j = body_json(&r);
	assert_true(fabs(json_real_value(json_object_get(j, "value")) - 3.25) < 1e-9);
	json_decref(j);
	resp_free(&r);
	const char *m2 = "{\"measured_on\":\"2024-04-30\",\"value\":4.5}";
	post_raw(co, &r, path, "application/json", m2, strlen(m2));
	assert_int_equal(r.status, 201);
	resp_free(&r);
	const char *m3 = "{\"measured_on\":\"2024-05-31\",\"value\":\"cinq\"}";
	post_raw(co, &r, path, "application/json", m3, strlen(m3));
	assert_int_equal(r.status, 422);
	j = body_json(&r);
	e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(e, "errors"), 0), "field")),
	                    "value");
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "pas un nombre"));
	assert_non_null(json_string_value(json_object_get(json_object_get(e, "fields"), "value")));
	json_decref(j);
	resp_free(&r);
	/* Without the CSRF header: refused by the router. */
	client_post(co, path, "application/json", m2, strlen(m2), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	/* A fiche indicator of another fiche under this fiche's URL: 404. */
	int64_t other = attach(fiche_other, a, "monthly");
	snprintf(path, sizeof path, "/api/v1/fiches/%lld/indicators/%lld/measurements",
	         (long long)fiche_mine, (long long)other);
	post_raw(co, &r, path, "application/json", m2, strlen(m2));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	/* A partner may not write. */
	struct client *pa = as_demo("partenaire");
	snprintf(path, sizeof path, "/api/v1/fiches/%lld/indicators/%lld/measurements",
	         (long long)fiche_mine, (long long)fa);
	post_raw(pa, &r, path, "application/json", m2, strlen(m2));
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pa);

	/* Read back, with who entered each value for members. */
	get(co, &r, "/api/v1/fiches/%lld/indicators", (long long)fiche_mine);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	json_t *inds = json_object_get(j, "indicators"), *found = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(inds, i, it)
	{
		if (json_integer_value(json_object_get(it, "id")) == fa)
			found = it;
	}
	assert_non_null(found);
	json_t *ms = json_object_get(found, "measurements");
	assert_int_equal(json_array_size(ms), 4);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(ms, 0), "entered_by"), "name")),
	                    "Camille Coordination");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(found, "indicator"), "name")),
	    "Indicateur API");
	json_decref(j);
	resp_free(&r);
	get(co, &r, "/api/v1/indicators?kind=realisation");
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Indicateur API"));
	resp_free(&r);
	client_free(co);
}

/* --- overdue ------------------------------------------------------------------------------------
 */

static void test_overdue_on_hand_made_dates(void **state)
{
	(void)state;
	/* A plan of our own, so that only these indicators count. */
	int64_t plan =
	    th_query_int(&T,
	                 "INSERT INTO plans (kind, title, start_year, end_year, is_public, "
	                 "created_at, updated_at) VALUES ('autre', 'Plan des retards', 2023, "
	                 "2027, 0, 'x', 'x') RETURNING id",
	                 "");
	int64_t axis = make_node(plan, 0, "1", "Axe", NULL, NULL, NULL);
	int64_t f1 = make_node(plan, axis, "1.1", "Fiche suivie", "en_cours", "2023-01-01", NULL);
	int64_t f2 = make_node(plan, axis, "1.2", "Fiche qui se termine", "en_cours", "2023-01-01",
	                       "2024-03-31");
	int64_t f3 = make_node(plan, axis, "1.3", "Fiche achevée", "achevee", "2023-01-01", NULL);
	int64_t monthly =
	    attach(f1, make_indicator("Mensuel", "realisation", "number", 0), "monthly");
	int64_t quarterly =
	    attach(f1, make_indicator("Trimestriel", "realisation", "number", 0), "quarterly");
	int64_t yearly = attach(f1, make_indicator("Annuel", "impact", "number", 0), "yearly");
	int64_t from_start =
	    attach(f1, make_indicator("Sans mesure", "realisation", "number", 0), "half_yearly");
	int64_t ending =
	    attach(f2, make_indicator("Mensuel fini", "realisation", "number", 0), "monthly");
	attach(f3, make_indicator("Mensuel achevé", "realisation", "number", 0), "monthly");
	int64_t ids[] = {monthly, quarterly, yearly, ending};
	for (size_t i = 0; i < 4; i++)
		th_query_int(
		    &T,
		    "INSERT INTO measurements (fiche_indicator_id, measured_on, value, entered_at) "
		    "VALUES (?, '2024-01-10', 1, 'x')",
		    "I", ids[i]);
	/* The half-yearly one has no measurement: its baseline date counts, before the start. */
	th_query_int(&T, "UPDATE fiche_indicators SET baseline_date = '2023-12-01' WHERE id = ?",
	             "I", from_start);
	struct db *db = th_db(&T);
	struct overdue *list;
	size_t n;
	/* 24 Feb: the monthly one is due on 10 Feb, 15 days of grace end on 25 Feb. */
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-02-25", &list, &n), 0);
	assert_int_equal(n, 0);
	indicators_overdue_free(list, n);
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-02-26", &list, &n), 0);
	assert_int_equal(n, 2); /* the monthly ones (the ending fiche too) */
	assert_int_equal(list[0].fiche_indicator_id, monthly);
	assert_string_equal(list[0].due_date, "2024-02-10");
	assert_string_equal(list[0].last_date, "2024-01-10");
	assert_int_equal(list[0].missed, 1);
	assert_int_equal(list[0].days_late, 16);
	assert_string_equal(list[0].fiche_number, "1.1");
	assert_int_equal(list[1].fiche_indicator_id, ending);
	indicators_overdue_free(list, n);
	/* 15 April: monthly missed 10 Feb and 10 Mar (10 Apr is within the grace); quarterly due
	 * 10 Apr, not yet late; the ending fiche stops on 31 March: 2 missed. */
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-04-15", &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].fiche_indicator_id, monthly);
	assert_int_equal(list[0].missed, 2);
	assert_int_equal(list[1].fiche_indicator_id, ending);
	assert_int_equal(list[1].missed, 2);
	indicators_overdue_free(list, n);
	/* 26 April: the quarterly one is late too; the ending fiche still at 2 (nothing after its
	 * end); the half-yearly from its baseline (1 Dec 2023): due 1 June. */
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-04-26", &list, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].fiche_indicator_id, monthly);
	assert_int_equal(list[0].missed, 3);
	assert_int_equal(list[1].fiche_indicator_id, quarterly);
	assert_int_equal(list[1].missed, 1);
	assert_string_equal(list[1].due_date, "2024-04-10");
	assert_int_equal(list[2].fiche_indicator_id, ending);
	assert_int_equal(list[2].missed, 2);
	indicators_overdue_free(list, n);
	/* 17 June: the half-yearly one is due 1 June, late from 17 June. */
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-06-17", &list, &n), 0);
	int half = 0;
	for (size_t i = 0; i < n; i++)
		if (list[i].fiche_indicator_id == from_start) {
			half = 1;
			assert_string_equal(list[i].reference_date, "2023-12-01");
			assert_string_equal(list[i].last_date, "");
		}
	assert_true(half);
	indicators_overdue_free(list, n);
	/* The yearly one: due 10 Jan 2025, late from 26 Jan 2025. */
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2025-01-25", &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(list[i].fiche_indicator_id, yearly);
	indicators_overdue_free(list, n);
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2025-01-26", &list, &n), 0);
	int year_late = 0;
	for (size_t i = 0; i < n; i++)
		year_late |= list[i].fiche_indicator_id == yearly;
	assert_true(year_late);
	indicators_overdue_free(list, n);
	/* A measurement resets the clock. */
	th_query_int(
	    &T,
	    "INSERT INTO measurements (fiche_indicator_id, measured_on, value, entered_at) "
	    "VALUES (?, '2024-04-20', 1, 'x')",
	    "I", monthly);
	assert_int_equal(indicators_overdue_at(db, 0, plan, "2024-04-26", &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(list[i].fiche_indicator_id, monthly);
	indicators_overdue_free(list, n);
	/* For a pilot: only the fiches they pilot in plans they are a member of. */
	int64_t p = make_user("pilote-retards@example.org", "pilot", plan, "pilot");
	th_query_int(&T, "INSERT INTO fiche_pilots (node_id, user_id) VALUES (?, ?)", "II", f2, p);
	assert_int_equal(indicators_overdue_at(db, p, 0, "2024-04-26", &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].fiche_indicator_id, ending);
	indicators_overdue_free(list, n);
	/* The section for "mes actions", as the pilot. */
	struct user u = {.id = p, .role = ROLE_PILOT};
	struct req rq;
	memset(&rq, 0, sizeof rq);
	rq.db = db;
	rq.user = &u;
	assert_int_equal(indicators_overdue_section(&rq, 0), 1);
	assert_non_null(
	    strstr(buf_str(&rq.out), "<h2 id=\"overdue-h\">Mesures d'indicateurs en retard"));
	assert_non_null(strstr(buf_str(&rq.out), "Mensuel fini"));
	assert_null(strstr(buf_str(&rq.out), ">Trimestriel<"));
	buf_free(&rq.out);
	rq.user = NULL;
	assert_int_equal(indicators_overdue_section(&rq, 0), 0);
	assert_int_equal(rq.out.len, 0);
	db_close(db);

	/* The page: the coordination sees every fiche, the pilot theirs, a partner nothing. */
	make_user("coord-retards@example.org", "coordinator", plan, "coordinator");
	make_user("partenaire-retards@example.org", "partner", plan, "partner");
	struct resp r;
	struct client *c = as("coord-retards@example.org", PW);
	get(c, &r, "/plans/%lld/mesures-en-retard", (long long)plan);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Mensuel") && has(&r, "Mensuel fini"));
	assert_true(has(&r, "15 jours de grâce"));
	resp_free(&r);
	client_free(c);
	c = as("pilote-retards@example.org", PW);
	get(c, &r, "/plans/%lld/mesures-en-retard", (long long)plan);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Mensuel fini"));
	assert_false(has(&r, ">Trimestriel<"));
	resp_free(&r);
	client_free(c);
	c = as("partenaire-retards@example.org", PW);
	get(c, &r, "/plans/%lld/mesures-en-retard", (long long)plan);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(c);
}

/* --- another plan's member -------------------------------------------------------------------- */

static void test_member_of_another_plan_gets_404(void **state)
{
	(void)state;
	/* The Crestois plan made private for this test (the demo may publish it). */
	int64_t was_public =
	    th_query_int(&T, "SELECT is_public FROM plans WHERE id = ?", "I", crestois);
	th_query_int(&T, "UPDATE plans SET is_public = 0 WHERE id = ?", "I", crestois);
	int64_t ind = make_indicator("Indicateur confidentiel Zéphyr", "realisation", "number", 0);
	int64_t fi = attach(fiche_mine, ind, "monthly");
	int64_t m = th_query_int(
	    &T,
	    "INSERT INTO measurements (fiche_indicator_id, measured_on, value, "
	    "entered_by, entered_at) VALUES (?, '2024-05-05', 77, ?, 'x') RETURNING id",
	    "II", fi, pilot_id);
	struct client *c = as("ardechois@example.org", PW);
	struct resp r;
	char paths[12][128];
	int np = 0;
	snprintf(paths[np++], 128, "/fiches/%lld/indicateurs", (long long)fiche_mine);
	snprintf(paths[np++], 128, "/fiches/%lld/indicateurs/nouveau", (long long)fiche_mine);
	snprintf(paths[np++], 128, "/indicateurs-fiche/%lld", (long long)fi);
	snprintf(paths[np++], 128, "/indicateurs-fiche/%lld/modifier", (long long)fi);
	snprintf(paths[np++], 128, "/indicateurs-fiche/%lld/retirer", (long long)fi);
	snprintf(paths[np++], 128, "/mesures/%lld/modifier", (long long)m);
	snprintf(paths[np++], 128, "/mesures/%lld/supprimer", (long long)m);
	snprintf(paths[np++], 128, "/plans/%lld/mesures/importer", (long long)crestois);
	snprintf(paths[np++], 128, "/plans/%lld/mesures/modele", (long long)crestois);
	snprintf(paths[np++], 128, "/plans/%lld/mesures-en-retard", (long long)crestois);
	snprintf(paths[np++], 128, "/api/v1/fiches/%lld/indicators", (long long)fiche_mine);
	snprintf(paths[np++], 128, "/indicateurs/%lld", (long long)ind);
	for (int i = 0; i < np; i++) {
		client_get(c, paths[i], &r);
		if (r.status != 404 || has(&r, "Zéphyr"))
			fail_msg("GET %s: %ld", paths[i], r.status);
		resp_free(&r);
	}
	int64_t before = measurements_total();
	char post_paths[6][128];
	int pp = 0;
	snprintf(post_paths[pp++], 128, "/indicateurs-fiche/%lld/mesures", (long long)fi);
	snprintf(post_paths[pp++], 128, "/indicateurs-fiche/%lld/retirer", (long long)fi);
	snprintf(post_paths[pp++], 128, "/mesures/%lld/supprimer", (long long)m);
	snprintf(post_paths[pp++], 128, "/fiches/%lld/indicateurs/rattacher",
	         (long long)fiche_mine);
	snprintf(post_paths[pp++], 128, "/plans/%lld/mesures/importer", (long long)crestois);
	for (int i = 0; i < pp; i++) {
		post(c, &r, post_paths[i], "measured_on", "2024-06-06", "value", "1", "contenu",
		     "99.1;Indicateur confidentiel Zéphyr;2024-06-07;1;;", NULL);
		if (r.status != 404)
			fail_msg("POST %s: %ld", post_paths[i], r.status);
		resp_free(&r);
	}
	char api[160];
	snprintf(api, sizeof api, "/api/v1/fiches/%lld/indicators/%lld/measurements",
	         (long long)fiche_mine, (long long)fi);
	const char *body = "{\"measured_on\":\"2024-06-08\",\"value\":1}";
	post_raw(c, &r, api, "application/json", body, strlen(body));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	snprintf(api, sizeof api, "/api/v1/plans/%lld/measurements/import", (long long)crestois);
	const char *csv = "99.1;Indicateur confidentiel Zéphyr;2024-06-09;1;;\n";
	post_raw(c, &r, api, "text/csv", csv, strlen(csv));
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_int_equal(measurements_total(), before);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_indicators WHERE id = ?", "I", fi), 1);
	client_free(c);
	th_query_int(&T, "UPDATE plans SET is_public = ? WHERE id = ?", "II", was_public, crestois);
}

/* --- demo data -------------------------------------------------------------------------------- */

static void test_demo_indicators(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	char *err = NULL;
	/* Whether or not the demo loader already ran it, running it (again) is harmless. */
	int64_t fiches =
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.archived = 0 AND NOT EXISTS (SELECT 1 FROM fiche_indicators "
	                 "fi WHERE fi.node_id = f.node_id)",
	                 "");
	if (demo_indicators_load(db, &err))
		fail_msg("demo_indicators_load: %s", err);
	int64_t shared =
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM indicators WHERE shared = 1 AND definition "
	                 "LIKE '%démonstration%'",
	                 "");
	assert_true(shared >= 18 && shared <= 25);
	int64_t total = measurements_total();
	if (demo_indicators_load(db, &err))
		fail_msg("demo_indicators_load (again): %s", err);
	assert_int_equal(measurements_total(), total);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM indicators WHERE shared = 1 AND definition "
	                 "LIKE '%démonstration%'",
	                 ""),
	    shared);
	db_close(db);
	/* Every demo fiche got one to three indicators (maillage demo already loads them, so
	 * `fiches`, counted before the second load, may be 0). */
	(void)fiches;
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.archived = 0 AND NOT EXISTS (SELECT 1 FROM fiche_indicators "
	                 "fi WHERE fi.node_id = f.node_id)",
	                 ""),
	    0);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM (SELECT fi.node_id FROM fiche_indicators fi "
	                 "JOIN fiches f ON f.node_id = fi.node_id WHERE f.is_demo = 1 "
	                 "GROUP BY fi.node_id HAVING COUNT(*) > 3) AS heavy",
	                 ""),
	    0);
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM measurements WHERE is_demo = 1", "") >
	            200);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM measurements WHERE is_demo = 1 AND level IS NOT "
	                 "NULL AND (level < 1 OR level > 4)",
	                 ""),
	    0);
	/* Some are late, so that "mesures en retard" shows something. */
	struct db *db2 = th_db(&T);
	struct overdue *list;
	size_t n;
	assert_int_equal(indicators_overdue(db2, 0, crestois, &list, &n), 0);
	assert_true(n > 0);
	indicators_overdue_free(list, n);
	db_close(db2);
	/* A demo page renders, marked as demo for members. */
	int64_t fi =
	    th_query_int(&T,
	                 "SELECT m.fiche_indicator_id FROM measurements m JOIN fiche_indicators "
	                 "fi ON fi.id = m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id "
	                 "WHERE m.is_demo = 1 AND n.plan_id = ? LIMIT 1",
	                 "I", crestois);
	struct client *c = as_demo("coordination");
	struct resp r;
	get(c, &r, "/indicateurs-fiche/%lld", (long long)fi);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "donnée de démonstration"));
	resp_free(&r);
	get(c, &r, "/plans/%lld/mesures-en-retard", (long long)crestois);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "jours de retard"));
	resp_free(&r);
	client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_number_parse_and_format),
	    cmocka_unit_test(test_trend_rule),
	    cmocka_unit_test(test_add_months),
	    cmocka_unit_test(test_referentiel_crud_and_permissions),
	    cmocka_unit_test(test_attach_settings_detach),
	    cmocka_unit_test(test_measurement_entry),
	    cmocka_unit_test(test_public_visitors_see_values_not_people),
	    cmocka_unit_test(test_csv_import),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_overdue_on_hand_made_dates),
	    cmocka_unit_test(test_member_of_another_plan_gets_404),
	    cmocka_unit_test(test_demo_indicators),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
