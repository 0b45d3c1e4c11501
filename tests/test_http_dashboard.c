/* test_http_dashboard: the dashboard, its JSON twin and the public portal on a hand-built plan
 * whose roll-up is computed by hand below — empty nodes, abandoned, proposed, postponed and
 * archived fiches, fiches without indicators — then filters, "what changed" between two dates,
 * what the public may see, and who may see what. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "dashboard.h"
#include "db.h"
#include "harness.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct th T;

/*
 * The fixture plan "Plan témoin" (public), levels Axe → Orientation → Action:
 *
 *   1 Axe A
 *     1.1 Orientation A1
 *       f1 en cours, bien engagée   (commune Crest; an indicator, late)
 *       f2 en cours, peu engagée    (another commune of the same EPCI; a qualitative one)
 *       f3 achevée, achevée
 *       f4 abandonnée, peu engagée  → out of the percentages
 *     1.2 Orientation A2            → empty: "aucune fiche suivie"
 *     f5 retenue, non engagée       (a fiche directly under the axis)
 *   2 Axe B                         (tagged "Enfance")
 *     f6 en cours, bien engagée     (piloted by a structure; an indicator, on track)
 *     f7 proposée, non engagée      → out
 *     f8 ajournée, peu engagée      → out
 *     f9 achevée (status), progress still "bien engagée" → counts as achevée
 *     f10 archived (a refused proposal), en cours, bien engagée → not counted at all
 *   3 Axe C                         → empty
 *
 * Fiches suivies (retenue, en cours, achevée): A = f1 f2 f3 f5, A1 = f1 f2 f3, B = f6 f9.
 *   A : achevée 1, bien 1, peu 1, non 1 of 4 → 25 / 25 / 25 / 25 %
 *   A1: achevée 1, bien 1, peu 1 of 3 → 33.3 each: floors 33 33 33 = 99, the point left goes
 *       to the first equal remainder (achevée) → 34 / 33 / 33 / 0 %
 *   B : achevée 1 (f9), bien 1 (f6) of 2 → 50 / 50 / 0 / 0 %
 *   plan: achevée 2, bien 2, peu 1, non 1 of 6 → 33.3 33.3 16.7 16.7: floors 33 33 16 16 = 98,
 *       +1 to the two .67 remainders → 33 / 33 / 17 / 17 %
 *   statuses of the plan (9 fiches, f10 archived): proposée 1 (f7), retenue 1 (f5), en cours 3
 *       (f1 f2 f6),
 *       achevée 2 (f3 f9), abandonnée 1 (f4), ajournée 1 (f8).
 * Indicators (3): f1 up, baseline 100 on 2023-01-01, target 200 for 2024, measured 160 on
 *   2024-06-30: expected 100 + 100 × 546 / 730 = 174.8 → late. f6 down, baseline 50 on
 *   2023-01-01, target 30 for 2024, measured 28 on 2024-12-31: expected 30 → on track. f2
 *   qualitative → unrated. The other fiches have none and count like the others.
 */

/* Fills audit_log.plan_id of the entries inserted by hand, with audit.c's own rule. */
static void fill_audit_plans(void);

static int64_t plan_id, axis_a, orient_a1, orient_a2, axis_b, axis_c;
static int64_t f[11];
static int64_t tag_enfance, pilot_actor, other_plan_fiche;
static char crest_epci[32], other_commune[16];
static const char *PILOT_PERSON = "Gaspard Pilote-Confidentiel";
static const char *COMMENT_TEXT = "Remarque interne à ne jamais publier";

static struct db *DB;

static void sql(const char *q, const char *types, ...)
{
	/* the fixture's few statements take at most 4 parameters of these kinds */
	va_list ap;
	va_start(ap, types);
	struct db_stmt *st = db_prepare(DB, q);
	if (!st)
		fail_msg("%s: %s", q, db_errmsg(DB));
	for (int i = 0; types[i]; i++) {
		if (types[i] == 's')
			db_bind_text(st, i + 1, va_arg(ap, const char *));
		else
			db_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	int rc = db_step(st);
	if (rc != DB_DONE && rc != DB_ROW)
		fail_msg("%s: %s", q, db_errmsg(DB));
	db_finalize(st);
}

static void fill_audit_plans(void)
{
	struct db_stmt *st = db_prepare(DB, "SELECT id, entity, entity_id, before_json, after_json "
	                                    "FROM audit_log WHERE plan_id IS NULL ORDER BY id");
	assert_non_null(st);
	int64_t *ids = NULL, *plans = NULL;
	size_t n = 0;
	while (db_step(st) == DB_ROW) {
		const char *b = db_col_text(st, 3), *a = db_col_text(st, 4);
		json_t *jb = b ? json_loads(b, 0, NULL) : NULL,
		       *ja = a ? json_loads(a, 0, NULL) : NULL;
		ids = realloc(ids, (n + 1) * sizeof *ids);
		plans = realloc(plans, (n + 1) * sizeof *plans);
		assert_true(ids && plans);
		ids[n] = db_col_int64(st, 0);
		plans[n++] = audit_plan_of(DB, db_col_text(st, 1), db_col_text(st, 2), jb, ja);
		json_decref(jb);
		json_decref(ja);
	}
	db_finalize(st);
	for (size_t i = 0; i < n; i++)
		if (plans[i])
			sql("UPDATE audit_log SET plan_id = ? WHERE id = ?", "II", plans[i],
			    ids[i]);
	free(ids);
	free(plans);
}

static int64_t node(int64_t parent, int position, int depth, const char *number, const char *title)
{
	int64_t id = 0;
	const char *q = "INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, "
	                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '2023-01-01T00:00:00Z', "
	                "'2023-01-01T00:00:00Z') RETURNING id";
	int rc = parent ? db_int64f(DB, &id, q, "IIiiss", plan_id, parent, position, depth, number,
	                            title)
	                : db_int64f(DB, &id, q, "Iniiss", plan_id, position, depth, number, title);
	if (rc != DB_OK)
		fail_msg("node %s: %s", number, db_errmsg(DB));
	return id;
}

static int64_t fiche(int64_t parent, int position, const char *number, const char *title,
                     const char *status, const char *progress)
{
	int64_t id = node(parent, position, 2, number, title);
	sql("INSERT INTO fiches (node_id, status, progress) VALUES (?, ?, ?)", "Iss", id, status,
	    progress);
	return id;
}

static int64_t indicator(int64_t fiche_id, const char *name, const char *direction,
                         const char *value_type)
{
	int64_t ind = 0, fi = 0;
	assert_int_equal(db_int64f(DB, &ind,
	                           "INSERT INTO indicators (name, kind, direction, value_type, "
	                           "created_at, updated_at) VALUES (?, 'realisation', ?, ?, "
	                           "'2023-01-01T00:00:00Z', '2023-01-01T00:00:00Z') RETURNING id",
	                           "sss", name, direction, value_type),
	                 DB_OK);
	assert_int_equal(db_int64f(DB, &fi,
	                           "INSERT INTO fiche_indicators (node_id, indicator_id) VALUES "
	                           "(?, ?) RETURNING id",
	                           "II", fiche_id, ind),
	                 DB_OK);
	return fi;
}

static void build_fixture(void)
{
	DB = th_db(&T);
	assert_int_equal(
	    db_int64f(DB, &plan_id,
	              "INSERT INTO plans (kind, title, start_year, end_year, is_public, "
	              "created_at, updated_at) VALUES ('ctg', 'Plan témoin', 2023, 2026, 1, "
	              "'2023-01-01T00:00:00Z', '2023-01-01T00:00:00Z') RETURNING id",
	              ""),
	    DB_OK);
	sql("INSERT INTO plan_levels (plan_id, depth, name) VALUES (?, 0, 'Axe'), (?, 1, "
	    "'Orientation'), (?, 2, 'Action')",
	    "III", plan_id, plan_id, plan_id);
	axis_a = node(0, 1, 0, "1", "Axe A");
	orient_a1 = node(axis_a, 1, 1, "1.1", "Orientation A1");
	orient_a2 = node(axis_a, 2, 1, "1.2", "Orientation A2 vide");
	axis_b = node(0, 2, 0, "2", "Axe B");
	axis_c = node(0, 3, 0, "3", "Axe C vide");
	f[1] = fiche(orient_a1, 1, "1.1.1", "Fiche un", "en_cours", "bien_engagee");
	f[2] = fiche(orient_a1, 2, "1.1.2", "Fiche deux", "en_cours", "peu_engagee");
	f[3] = fiche(orient_a1, 3, "1.1.3", "Fiche trois", "achevee", "achevee");
	f[4] = fiche(orient_a1, 4, "1.1.4", "Fiche quatre abandonnée", "abandonnee", "peu_engagee");
	f[5] = fiche(axis_a, 3, "1.3", "Fiche cinq", "retenue", "non_engagee");
	f[6] = fiche(axis_b, 1, "2.1", "Fiche six", "en_cours", "bien_engagee");
	f[7] = fiche(axis_b, 2, "2.2", "Fiche sept proposée", "proposee", "non_engagee");
	f[8] = fiche(axis_b, 3, "2.3", "Fiche huit ajournée", "ajournee", "peu_engagee");
	f[9] = fiche(axis_b, 4, "2.4", "Fiche neuf", "achevee", "bien_engagee");
	f[10] = fiche(axis_b, 5, "2.5", "Fiche dix archivée", "en_cours", "bien_engagee");
	sql("UPDATE nodes SET archived = 1 WHERE id = ?", "I", f[10]);

	/* territory: f1 in Crest, f2 in another commune of Crest's EPCI */
	struct db_stmt *st = db_prepare(DB, "SELECT epci FROM communes WHERE code = '26108'");
	assert_int_equal(db_step(st), DB_ROW);
	snprintf(crest_epci, sizeof crest_epci, "%s", db_col_text(st, 0));
	db_finalize(st);
	st = db_queryf(DB, "SELECT code FROM communes WHERE epci = ? AND code <> '26108' LIMIT 1",
	               "s", crest_epci);
	assert_int_equal(db_step(st), DB_ROW);
	snprintf(other_commune, sizeof other_commune, "%s", db_col_text(st, 0));
	db_finalize(st);
	sql("INSERT INTO fiche_communes (node_id, commune) VALUES (?, '26108')", "I", f[1]);
	sql("INSERT INTO fiche_communes (node_id, commune) VALUES (?, ?)", "Is", f[2],
	    other_commune);

	/* tag, pilots (a structure and a person), impact domain, comment */
	assert_int_equal(db_int64f(DB, &tag_enfance,
	                           "SELECT id FROM tags WHERE slug = 'enfance' AND plan_id IS NULL",
	                           ""),
	                 DB_OK);
	sql("INSERT INTO node_tags (node_id, tag_id) VALUES (?, ?)", "II", axis_b, tag_enfance);
	assert_int_equal(db_int64f(DB, &pilot_actor, "SELECT MIN(id) FROM actors", ""), DB_OK);
	sql("INSERT INTO fiche_pilots (node_id, actor_id) VALUES (?, ?)", "II", f[6], pilot_actor);
	char *err = NULL;
	int64_t person = 0;
	if (user_create(DB, "pilote-temoin@example.org", PILOT_PERSON, "pilot", "mot-de-passe-test",
	                0, "cli", &person, &err))
		fail_msg("user_create: %s", err);
	sql("INSERT INTO fiche_pilots (node_id, user_id) VALUES (?, ?)", "II", f[1], person);
	sql("INSERT INTO fiche_impacts (node_id, domain) VALUES (?, 'lien-social')", "I", f[9]);
	sql("INSERT INTO comments (node_id, user_id, body, created_at) VALUES (?, ?, ?, "
	    "'2025-03-10T09:00:00Z')",
	    "IIs", f[2], person, COMMENT_TEXT);

	/* indicators */
	int64_t i1 = indicator(f[1], "Familles accompagnées", "up", "number");
	sql("UPDATE fiche_indicators SET baseline_value = 100, baseline_date = '2023-01-01' "
	    "WHERE id = ?",
	    "I", i1);
	sql("INSERT INTO indicator_targets (fiche_indicator_id, year, value) VALUES (?, 2024, 200)",
	    "I", i1);
	sql("INSERT INTO measurements (fiche_indicator_id, measured_on, value, entered_at) VALUES "
	    "(?, '2024-06-30', 160, '2024-07-01T00:00:00Z')",
	    "I", i1);
	int64_t i2 = indicator(f[6], "Délai moyen d'attente", "down", "number");
	sql("UPDATE fiche_indicators SET baseline_value = 50, baseline_date = '2023-01-01' "
	    "WHERE id = ?",
	    "I", i2);
	sql("INSERT INTO indicator_targets (fiche_indicator_id, year, value) VALUES (?, 2024, 30)",
	    "I", i2);
	sql("INSERT INTO measurements (fiche_indicator_id, measured_on, value, entered_at) VALUES "
	    "(?, '2024-12-31', 28, '2025-01-02T00:00:00Z')",
	    "I", i2);
	int64_t i3 = indicator(f[2], "Satisfaction des familles", "up", "qualitative");
	sql("INSERT INTO measurements (fiche_indicator_id, measured_on, text_value, level, "
	    "entered_at) VALUES (?, '2024-06-30', 'Bonne', 3, '2024-07-01T00:00:00Z')",
	    "I", i3);

	/* the audit trail: in March 2025 and before, on this plan and on another */
	int64_t coord = 0;
	assert_int_equal(db_int64f(DB, &coord, "SELECT id FROM users WHERE email = ?", "s",
	                           "coordination@demo.maillage.fr"),
	                 DB_OK);
	char id1[32], id9[32], idc[32], other[32];
	snprintf(id1, sizeof id1, "%lld", (long long)f[1]);
	snprintf(id9, sizeof id9, "%lld", (long long)f[9]);
	assert_int_equal(
	    db_int64f(DB, &other_plan_fiche,
	              "SELECT MIN(f.node_id) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	              "WHERE n.plan_id <> ?",
	              "I", plan_id),
	    DB_OK);
	snprintf(other, sizeof other, "%lld", (long long)other_plan_fiche);
	int64_t comment_id = 0;
	assert_int_equal(db_int64f(DB, &comment_id, "SELECT MAX(id) FROM comments", ""), DB_OK);
	snprintf(idc, sizeof idc, "%lld", (long long)comment_id);
	sql("INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, before_json, "
	    "after_json) VALUES ('2025-03-12T10:00:00Z', ?, 'web', 'update', 'fiche', ?, "
	    "'{\"title\":\"Fiche un\",\"status\":\"en_cours\",\"progress\":\"peu_engagee\"}', "
	    "'{\"title\":\"Fiche un\",\"status\":\"en_cours\",\"progress\":\"bien_engagee\"}')",
	    "Is", coord, id1);
	sql("INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, before_json, "
	    "after_json) VALUES ('2025-03-20T10:00:00Z', ?, 'web', 'update', 'fiche', ?, "
	    "'{\"title\":\"Fiche neuf\",\"status\":\"en_cours\"}', "
	    "'{\"title\":\"Fiche neuf\",\"status\":\"achevee\"}')",
	    "Is", coord, id9);
	sql("INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, after_json) "
	    "VALUES ('2025-03-10T09:00:00Z', ?, 'web', 'create', 'comment', ?, '{\"body\":\"x\"}')",
	    "Is", person, idc);
	/* outside the period */
	sql("INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, before_json, "
	    "after_json) VALUES ('2025-01-05T10:00:00Z', ?, 'web', 'update', 'fiche', ?, "
	    "'{\"title\":\"Fiche un\"}', '{\"title\":\"Fiche un, janvier\"}')",
	    "Is", coord, id1);
	/* another plan's fiche, in the period */
	sql("INSERT INTO audit_log (at, user_id, origin, action, entity, entity_id, before_json, "
	    "after_json) VALUES ('2025-03-15T10:00:00Z', ?, 'web', 'update', 'fiche', ?, "
	    "'{\"title\":\"Autre\"}', '{\"title\":\"Changement d un autre plan\"}')",
	    "Is", coord, other);
	/* entries written by hand: their plan as audit_write finds it */
	fill_audit_plans();
	db_close(DB);
	DB = NULL;
}

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	build_fixture();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

/* Fail with the part of the page that should have held the text. */
static void expect(const struct resp *r, const char *needle, const char *around)
{
	if (has(r, needle))
		return;
	const char *at = strstr(buf_str(&r->body), around);
	fail_msg("missing «%s»; near «%s»: %.1500s", needle, around, at ? at : "(absent)");
}

static void get_as(const char *email, const char *path, struct resp *r)
{
	struct client *c = client_new(&T);
	if (email)
		assert_int_equal(client_login(c, email, "maillage-demo"), 303);
	client_get(c, path, r);
	client_free(c);
}

/* GET the JSON dashboard with a query; returns the document (caller decrefs). */
static json_t *api(const char *query, long want_status)
{
	char path[256];
	snprintf(path, sizeof path, "/api/v1/plans/%lld/dashboard%s%s", (long long)plan_id,
	         query ? "?" : "", query ? query : "");
	struct resp r;
	get_as(NULL, path, &r);
	if (r.status != want_status)
		fail_msg("%s: status %ld, body %s", path, r.status, buf_str(&r.body));
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	resp_free(&r);
	assert_non_null(doc);
	return doc;
}

static int level(json_t *levels, const char *slug, const char *what)
{
	json_t *v = json_object_get(json_object_get(levels, slug), what);
	if (!v)
		fail_msg("no %s.%s", slug, what);
	return json_is_null(v) ? -1 : (int)json_integer_value(v);
}

static json_t *node_json(json_t *doc, int64_t id)
{
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(doc, "nodes"), i, n)
	{
		if (json_integer_value(json_object_get(n, "id")) == id)
			return n;
	}
	fail_msg("node %lld missing", (long long)id);
	return NULL;
}

static void test_rollup_by_hand(void **state)
{
	(void)state;
	json_t *doc = api(NULL, 200);
	json_t *all = json_object_get(doc, "overall");
	/* plan: 6 fiches suivies of 9 — 33 / 33 / 17 / 17 % */
	assert_int_equal(json_integer_value(json_object_get(all, "tracked")), 6);
	assert_int_equal(json_integer_value(json_object_get(all, "fiches")), 9);
	json_t *lv = json_object_get(all, "levels");
	assert_int_equal(level(lv, "achevee", "count"), 2);
	assert_int_equal(level(lv, "achevee", "percent"), 33);
	assert_int_equal(level(lv, "bien_engagee", "percent"), 33);
	assert_int_equal(level(lv, "peu_engagee", "percent"), 17);
	assert_int_equal(level(lv, "non_engagee", "percent"), 17);
	json_t *stt = json_object_get(all, "statuses");
	assert_int_equal(json_integer_value(json_object_get(stt, "proposee")), 1);
	assert_int_equal(json_integer_value(json_object_get(stt, "retenue")), 1);
	assert_int_equal(json_integer_value(json_object_get(stt, "en_cours")), 3);
	assert_int_equal(json_integer_value(json_object_get(stt, "achevee")), 2);
	assert_int_equal(json_integer_value(json_object_get(stt, "abandonnee")), 1);
	assert_int_equal(json_integer_value(json_object_get(stt, "ajournee")), 1);
	/* A: 25 % each of 4 (the abandoned fiche is out) */
	json_t *a = node_json(doc, axis_a);
	assert_int_equal(json_integer_value(json_object_get(a, "tracked")), 4);
	for (const char *const *s = (const char *const[]){"achevee", "bien_engagee", "peu_engagee",
	                                                  "non_engagee", NULL};
	     *s; s++)
		assert_int_equal(level(json_object_get(a, "levels"), *s, "percent"), 25);
	/* A1: 34 / 33 / 33 / 0 */
	json_t *a1 = json_object_get(node_json(doc, orient_a1), "levels");
	assert_int_equal(level(a1, "achevee", "percent"), 34);
	assert_int_equal(level(a1, "bien_engagee", "percent"), 33);
	assert_int_equal(level(a1, "peu_engagee", "percent"), 33);
	assert_int_equal(level(a1, "non_engagee", "percent"), 0);
	/* A2 and C: empty, no percentages at all */
	json_t *a2 = node_json(doc, orient_a2);
	assert_int_equal(json_integer_value(json_object_get(a2, "tracked")), 0);
	assert_int_equal(level(json_object_get(a2, "levels"), "achevee", "percent"), -1);
	assert_int_equal(json_integer_value(json_object_get(node_json(doc, axis_c), "tracked")), 0);
	/* B: f9 (status achevée, progress bien engagée) counts as achevée; f7, f8 out; f10
	 * archived is not there at all */
	json_t *b = node_json(doc, axis_b);
	assert_int_equal(json_integer_value(json_object_get(b, "tracked")), 2);
	assert_int_equal(json_integer_value(json_object_get(b, "fiches")), 4);
	assert_int_equal(level(json_object_get(b, "levels"), "achevee", "count"), 1);
	assert_int_equal(level(json_object_get(b, "levels"), "achevee", "percent"), 50);
	assert_int_equal(level(json_object_get(b, "levels"), "bien_engagee", "percent"), 50);
	/* indicators: one late, one on track, one unrated (qualitative) */
	json_t *ind = json_object_get(doc, "indicators");
	assert_int_equal(json_integer_value(json_object_get(ind, "total")), 3);
	assert_int_equal(json_integer_value(json_object_get(ind, "on_track")), 1);
	assert_int_equal(json_integer_value(json_object_get(ind, "late")), 1);
	assert_int_equal(json_integer_value(json_object_get(ind, "unrated")), 1);
	json_decref(doc);
}

static void test_dashboard_page(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/plans/%lld/tableau-de-bord", (long long)plan_id);
	struct resp r;
	get_as(NULL, path, &r);
	assert_int_equal(r.status, 200);
	/* the headline, the table of the chart, the empty axis, the written rule */
	assert_true(has(&r, "<span class=\"value\">6</span>"));
	assert_true(has(&r,
	                "<th scope=\"row\">Ensemble du plan</th><td class=\"num\">33\xe2\x80\xaf% "
	                "<span class=\"muted\">(2)</span>"));
	assert_true(has(&r, "<th scope=\"row\">1 Axe A</th><td class=\"num\">25\xe2\x80\xaf%"));
	assert_true(has(&r, "aucune fiche suivie"));
	assert_true(has(&r, "Règle de calcul"));
	assert_true(has(&r, "une fiche sans indicateur compte comme les autres"));
	assert_true(has(&r, "Hors calcul : 1 fiche proposée, 1 ajournée, 1 abandonnée."));
	/* charts with their data */
	assert_true(has(&r, "role=\"img\""));
	assert_true(has(&r, "<caption>Avancement par élément</caption>"));
	assert_true(has(&r, "Familles accompagnées"));
	assert_true(has(&r, "En retard"));
	assert_true(has(&r, "dans la trajectoire (1 sur 2 évalués)"));
	assert_false(has(&r, "style=\""));
	assert_false(has(&r, "Fiche dix archivée"));
	resp_free(&r);
}

static void test_filters(void **state)
{
	(void)state;
	char q[128];
	/* a subtree: A1 only — 3 fiches suivies */
	snprintf(q, sizeof q, "noeud=%lld", (long long)orient_a1);
	json_t *doc = api(q, 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 3);
	json_decref(doc);
	/* the tag of axis B is inherited by its fiches: f6, f9 */
	snprintf(q, sizeof q, "tag=%lld", (long long)tag_enfance);
	doc = api(q, 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 2);
	json_decref(doc);
	/* a commune: only f1 while the plan has no territory of its own */
	doc = api("territoire=commune:26108", 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 1);
	json_decref(doc);
	/* its EPCI: f1 and f2 */
	snprintf(q, sizeof q, "territoire=epci:%s", crest_epci);
	doc = api(q, 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 2);
	json_decref(doc);
	/* a structure piloting f6; an impact domain of f9 */
	snprintf(q, sizeof q, "pilote=%lld", (long long)pilot_actor);
	doc = api(q, 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "indicators"), "total")), 1);
	json_decref(doc);
	doc = api("domaine=lien-social", 200);
	json_t *lv = json_object_get(json_object_get(doc, "overall"), "levels");
	assert_int_equal(level(lv, "achevee", "count"), 1);
	assert_int_equal(level(lv, "achevee", "percent"), 100);
	json_decref(doc);
	/* once the plan covers the EPCI, fiches without communes cover Crest too:
	 * f1 (Crest) + f3 f5 f6 f9 (no commune) = 5; f2 is elsewhere */
	DB = th_db(&T);
	sql("INSERT INTO plan_territory (plan_id, scope, code) VALUES (?, 'epci', ?)", "Is",
	    plan_id, crest_epci);
	db_close(DB);
	DB = NULL;
	doc = api("territoire=commune:26108", 200);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(doc, "overall"), "tracked")), 5);
	json_decref(doc);
	/* refused values: 422 with a French message, and escaped on the page */
	doc = api("noeud=999999", 422);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(doc, "error"), "message")),
	           "n'existe pas"));
	json_decref(doc);
	json_decref(api("domaine=%27%20OR%201%3D1%20--", 422));
	json_decref(api("territoire=commune:99999", 422));
	struct resp r;
	char path[256];
	snprintf(path, sizeof path,
	         "/plans/%lld/tableau-de-bord?tag=%%3Cscript%%3Ealert(1)%%3C/script%%3E&du=hier",
	         (long long)plan_id);
	get_as(NULL, path, &r);
	assert_int_equal(r.status, 422);
	assert_false(has(&r, "<script>alert"));
	assert_true(has(&r, "notice-error"));
	resp_free(&r);
}

static void test_changes_between_dates(void **state)
{
	(void)state;
	char path[200];
	snprintf(path, sizeof path, "/plans/%lld/tableau-de-bord?du=2025-03-01&au=2025-03-31",
	         (long long)plan_id);
	struct resp r;
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	/* grouped by fiche, readable, with who and when */
	assert_true(has(&r, "1.1.1 Fiche un</a></h3>"));
	expect(&r,
	       "Avancement : peu engagée → bien engagée, par Camille Coordination, le 12 mars 2025",
	       "class=\"changes\"");
	assert_true(has(&r, "Statut : en cours → achevée"));
	assert_true(has(&r, "Commentaire ajouté, par"));
	/* not in the period, not of this plan */
	assert_false(has(&r, "Fiche un, janvier"));
	assert_false(has(&r, "Changement d un autre plan"));
	resp_free(&r);
	/* the public sees the changes, but no names and no comments */
	get_as(NULL, path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Avancement : peu engagée → bien engagée, le 12 mars 2025"));
	assert_false(has(&r, "Camille Coordination"));
	assert_false(has(&r, "Commentaire ajouté"));
	resp_free(&r);
	/* an empty period */
	snprintf(path, sizeof path, "/plans/%lld/tableau-de-bord?du=2020-01-01&au=2020-01-31",
	         (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_true(has(&r, "Aucun changement sur cette période."));
	resp_free(&r);
}

static void test_portal_shows_no_people_and_no_comments(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/public/plans/%lld", (long long)plan_id);
	struct resp r;
	get_as(NULL, path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Fiche un"));
	assert_true(has(&r, "Orientation A2 vide"));
	assert_true(has(&r, "aucune fiche suivie"));
	assert_false(has(&r, PILOT_PERSON));
	assert_false(has(&r, COMMENT_TEXT));
	assert_false(has(&r, "Fiche sept proposée")); /* not adopted yet */
	assert_false(has(&r, "Fiche dix archivée"));
	resp_free(&r);
	/* the structure piloting f6 is shown */
	DB = th_db(&T);
	struct db_stmt *st =
	    db_queryf(DB, "SELECT name FROM actors WHERE id = ?", "I", pilot_actor);
	assert_int_equal(db_step(st), DB_ROW);
	char *actor = strdup(db_col_text(st, 0));
	db_finalize(st);
	db_close(DB);
	DB = NULL;
	get_as(NULL, path, &r);
	/* the name is HTML-escaped in the page: compare the part before any apostrophe */
	actor[strcspn(actor, "'&<>\"")] = '\0';
	assert_true(has(&r, actor));
	free(actor);
	resp_free(&r);
	/* the commune page lists the fiches of published plans there */
	get_as(NULL, "/public/communes/26108", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Ce qui se fait à Crest"));
	assert_true(has(&r, "Fiche un"));
	assert_false(has(&r, "Fiche deux")); /* in another commune */
	assert_false(has(&r, PILOT_PERSON));
	resp_free(&r);
	get_as(NULL, "/public/communes/00000", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get_as(NULL, "/public/communes/%3Cscript%3E", &r);
	assert_int_equal(r.status, 404);
	assert_false(has(&r, "<script>"));
	resp_free(&r);
}

static void test_private_plans_stay_private(void **state)
{
	(void)state;
	DB = th_db(&T);
	sql("UPDATE plans SET is_public = 0 WHERE id = ?", "I", plan_id);
	db_close(DB);
	DB = NULL;
	char pub[128], dash[128], bilan[128];
	snprintf(pub, sizeof pub, "/public/plans/%lld", (long long)plan_id);
	snprintf(dash, sizeof dash, "/plans/%lld/tableau-de-bord", (long long)plan_id);
	snprintf(bilan, sizeof bilan, "/plans/%lld/bilan/2024", (long long)plan_id);
	struct resp r;
	/* the portal: 404 for everyone, administrators included */
	get_as(NULL, pub, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get_as("admin@demo.maillage.fr", pub, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	/* the commune page no longer lists it */
	get_as(NULL, "/public/communes/26108", &r);
	assert_false(has(&r, "Fiche un"));
	resp_free(&r);
	/* the dashboard: 404 to visitors and to members of other plans */
	get_as(NULL, dash, &r);
	assert_int_equal(r.status, 404);
	assert_false(has(&r, "Fiche un"));
	resp_free(&r);
	get_as("lecture@demo.maillage.fr", dash, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get_as("lecture@demo.maillage.fr", bilan, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	/* the administrator sees it */
	get_as("admin@demo.maillage.fr", dash, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* reports need an account: visitors are sent to the login page */
	get_as(NULL, bilan, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	DB = th_db(&T);
	sql("UPDATE plans SET is_public = 1 WHERE id = ?", "I", plan_id);
	db_close(DB);
	DB = NULL;
}

static void test_bilan_page_and_letter(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/plans/%lld/bilan/2024", (long long)plan_id);
	struct resp r;
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "<h1>Bilan 2024</h1>"));
	assert_true(has(&r, "Chiffres clés"));
	assert_true(has(&r, "1.1.1 Fiche un"));
	assert_true(has(&r, "Familles accompagnées"));
	assert_true(has(&r, "en retard"));
	resp_free(&r);
	/* a year outside the plan, a bad year */
	snprintf(path, sizeof path, "/plans/%lld/bilan/2031", (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/bilan/2024.exe", (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/revue-mi-parcours", (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Revue à mi-parcours"));
	resp_free(&r);
	/* the newsletter of March 2025: f9 achieved */
	snprintf(path, sizeof path, "/plans/%lld/lettre?du=2025-03-01&au=2025-03-31",
	         (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Fiches-actions achevées"));
	assert_true(has(&r, "2.4 Fiche neuf"));
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/lettre.html?du=2025-03-01&au=2025-03-31",
	         (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	char *cd = resp_get_header(&r, "Content-Disposition");
	assert_non_null(cd);
	assert_non_null(strstr(cd, "attachment"));
	free(cd);
	assert_true(has(&r, "style=\""));
	assert_false(has(&r, "<script"));
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/lettre.txt?du=2025-01-01&au=2025-03-31",
	         (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "LETTRE TRIMESTRIELLE"));
	/* f6's measure of 28 on 2024-12-31 is before the period: it moves nothing */
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/lettre.txt?du=2025-04-01&au=2025-03-01",
	         (long long)plan_id);
	get_as("admin@demo.maillage.fr", path, &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
}

/* The plan_id of the last audit entry, 0 when NULL. */
static int64_t last_audit_plan(void)
{
	return th_query_int(&T,
	                    "SELECT COALESCE(plan_id, 0) FROM audit_log WHERE id = "
	                    "(SELECT MAX(id) FROM audit_log)",
	                    "");
}

/*
 * audit_log.plan_id, which the dashboard's "what changed" reads by: filled by audit_write for
 * every kind of entity a plan owns (checked against the plan found by an independent join),
 * also for a row already deleted (from its JSON), and left NULL for what no plan owns.
 */
static void test_audit_plan_ids(void **state)
{
	(void)state;
	static const struct {
		const char *entity, *table, *plan_sql; /* plan_sql: the plan of row ? */
	} kinds[] = {
	    {"node", "nodes", "SELECT plan_id FROM nodes WHERE id = ?"},
	    {"fiche", "fiches f JOIN nodes x ON x.id = f.node_id",
	     "SELECT plan_id FROM nodes WHERE id = ?"},
	    {"comment", "comments",
	     "SELECT n.plan_id FROM nodes n JOIN comments c ON c.node_id = n.id WHERE c.id = ?"},
	    {"fiche_indicator", "fiche_indicators",
	     "SELECT n.plan_id FROM nodes n JOIN fiche_indicators c ON c.node_id = n.id WHERE "
	     "c.id = ?"},
	    {"measurement", "measurements",
	     "SELECT n.plan_id FROM nodes n JOIN fiche_indicators c ON c.node_id = n.id JOIN "
	     "measurements m ON m.fiche_indicator_id = c.id WHERE m.id = ?"},
	    {"tag", "tags", "SELECT plan_id FROM tags WHERE id = ?"},
	    {"instance", "instances", "SELECT plan_id FROM instances WHERE id = ?"},
	    {"instance_member", "instance_members",
	     "SELECT i.plan_id FROM instances i JOIN instance_members x ON x.instance_id = i.id "
	     "WHERE x.id = ?"},
	    {"meeting", "meetings",
	     "SELECT i.plan_id FROM instances i JOIN meetings x ON x.instance_id = i.id WHERE "
	     "x.id = ?"},
	    {"agenda_item", "agenda_items",
	     "SELECT i.plan_id FROM instances i JOIN meetings m ON m.instance_id = i.id JOIN "
	     "agenda_items x ON x.meeting_id = m.id WHERE x.id = ?"},
	    {"attendance", "attendance",
	     "SELECT i.plan_id FROM instances i JOIN meetings m ON m.instance_id = i.id JOIN "
	     "attendance x ON x.meeting_id = m.id WHERE x.id = ?"},
	    {"decision", "decisions",
	     "SELECT i.plan_id FROM instances i JOIN meetings m ON m.instance_id = i.id JOIN "
	     "decisions x ON x.meeting_id = m.id WHERE x.id = ?"},
	    {"follow_up", "follow_ups",
	     "SELECT i.plan_id FROM instances i JOIN meetings m ON m.instance_id = i.id JOIN "
	     "follow_ups x ON x.meeting_id = m.id WHERE x.id = ?"},
	    {"spiral_workshop", "spiral_workshops",
	     "SELECT plan_id FROM spiral_workshops WHERE id = ?"},
	    {"spiral_criteria", "spiral_workshops",
	     "SELECT plan_id FROM spiral_workshops WHERE id = ?"},
	    {"spiral_criterion", "spiral_criteria",
	     "SELECT w.plan_id FROM spiral_workshops w JOIN spiral_criteria c ON c.workshop_id = "
	     "w.id "
	     "WHERE c.id = ?"},
	    {"spiral_component_link", "spiral_component_links",
	     "SELECT plan_id FROM spiral_component_links WHERE id = ?"},
	    {"grid_framework", "grid_frameworks",
	     "SELECT plan_id FROM grid_frameworks WHERE id = ?"},
	    {"grid_item", "grid_items",
	     "SELECT f.plan_id FROM grid_frameworks f JOIN grid_items x ON x.framework_id = f.id "
	     "WHERE x.id = ?"},
	    {"grid_campaign", "grid_campaigns", "SELECT plan_id FROM grid_campaigns WHERE id = ?"},
	    {"grid_campaign_actor", "grid_campaign_actors",
	     "SELECT c.plan_id FROM grid_campaigns c JOIN grid_campaign_actors x ON x.campaign_id "
	     "= "
	     "c.id WHERE x.id = ?"},
	    {"grid_assessment", "grid_assessments",
	     "SELECT c.plan_id FROM grid_campaigns c JOIN grid_assessments x ON x.campaign_id = "
	     "c.id "
	     "WHERE x.id = ?"},
	    {"grid_testimony", "grid_testimonies",
	     "SELECT c.plan_id FROM grid_campaigns c JOIN grid_testimonies x ON x.campaign_id = "
	     "c.id "
	     "WHERE x.id = ?"},
	};
	DB = th_db(&T);
	/* a framework of the fixture plan with one item (the demo's are shared: no plan) */
	sql("INSERT INTO grid_frameworks (plan_id, name, created_at, updated_at) VALUES (?, "
	    "'Grille du plan témoin', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
	    "I", plan_id);
	int64_t fw = th_query_int(&T, "SELECT MAX(id) FROM grid_frameworks", "");
	sql("INSERT INTO grid_items (framework_id, position, label) VALUES (?, 1, 'Critère')", "I",
	    fw);
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		/* the newest row: the fixture's own when it has some */
		char *q = xasprintf("SELECT MAX(%s) FROM %s",
		                    !strcmp(kinds[k].entity, "fiche") ? "f.node_id" : "id",
		                    kinds[k].table);
		int64_t id = th_query_int(&T, q, "");
		free(q);
		if (!id)
			fail_msg("no %s row to audit", kinds[k].entity);
		int64_t want = th_query_int(&T, kinds[k].plan_sql, "I", id);
		assert_int_equal(
		    audit_write_id(DB, 0, "cli", "update", kinds[k].entity, id, NULL, NULL), DB_OK);
		if (last_audit_plan() != want || !want)
			fail_msg("%s %lld: plan_id %lld, expected %lld", kinds[k].entity,
			         (long long)id, (long long)last_audit_plan(), (long long)want);
	}
	/* the plan itself, its members, its SPIRAL classification: the entity id */
	const char *selves[] = {"plan", "plan_member", "spiral_plan"};
	for (int k = 0; k < 3; k++) {
		assert_int_equal(
		    audit_write_id(DB, 0, "cli", "update", selves[k], plan_id, NULL, NULL), DB_OK);
		assert_int_equal(last_audit_plan(), plan_id);
	}
	/* a proposal (the fixture has none): inserted for f7, the proposed fiche */
	sql("INSERT INTO proposals (plan_id, node_id, year, proposed_at) VALUES (?, ?, 2025, "
	    "'2025-01-01T00:00:00Z')",
	    "II", plan_id, f[7]);
	int64_t prop = th_query_int(&T, "SELECT MAX(id) FROM proposals", "");
	assert_int_equal(audit_write_id(DB, 0, "cli", "create", "proposal", prop, NULL, NULL),
	                 DB_OK);
	assert_int_equal(last_audit_plan(), plan_id);
	/* rows already deleted: the plan from the JSON (a measurement by its fiche indicator, a
	 * node by its plan_id), an annex keyed "plan/year" */
	int64_t fi =
	    th_query_int(&T, "SELECT MIN(id) FROM fiche_indicators WHERE node_id = ?", "I", f[1]);
	json_t *before = json_pack("{sIsf}", "fiche_indicator_id", (json_int_t)fi, "value", 3.0);
	assert_int_equal(
	    audit_write_id(DB, 0, "cli", "delete", "measurement", 999999999, before, NULL), DB_OK);
	json_decref(before);
	assert_int_equal(last_audit_plan(), plan_id);
	before = json_pack("{sIss}", "plan_id", (json_int_t)plan_id, "title", "Partie");
	assert_int_equal(audit_write_id(DB, 0, "cli", "delete", "node", 999999999, before, NULL),
	                 DB_OK);
	json_decref(before);
	assert_int_equal(last_audit_plan(), plan_id);
	json_t *after = json_pack("{sIsi}", "plan_id", (json_int_t)plan_id, "year", 2025);
	assert_int_equal(audit_write(DB, 0, "cli", "close", "annex", "x/2025", NULL, after), DB_OK);
	json_decref(after);
	assert_int_equal(last_audit_plan(), plan_id);
	/* an entry naming a fiche of another plan is that plan's */
	after = json_pack("{sI}", "node_id", (json_int_t)other_plan_fiche);
	assert_int_equal(
	    audit_write_id(DB, 0, "cli", "create", "agenda_item", 999999999, NULL, after), DB_OK);
	json_decref(after);
	assert_int_equal(
	    last_audit_plan(),
	    th_query_int(&T, "SELECT plan_id FROM nodes WHERE id = ?", "I", other_plan_fiche));
	/* no plan: a user, a structure, the indicator catalogue, garbage ids */
	int64_t actor = th_query_int(&T, "SELECT MIN(id) FROM actors", "");
	assert_int_equal(audit_write_id(DB, 0, "cli", "update", "actor", actor, NULL, NULL), DB_OK);
	assert_int_equal(last_audit_plan(), 0);
	assert_int_equal(audit_write_id(DB, 0, "cli", "update", "user", 1, NULL, NULL), DB_OK);
	assert_int_equal(last_audit_plan(), 0);
	assert_int_equal(audit_write(DB, 0, "cli", "update", "fiche", "' OR 1=1 --", NULL, NULL),
	                 DB_OK);
	assert_int_equal(last_audit_plan(), 0);
	assert_int_equal(audit_write_id(DB, 0, "cli", "update", "comment", -4, NULL, NULL), DB_OK);
	assert_int_equal(last_audit_plan(), 0);
	db_close(DB);
	DB = NULL;

	/* the demo, loaded by code: every entry of what a plan owns has its plan */
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log a JOIN nodes n ON "
	                              "CAST(n.id AS TEXT) = a.entity_id WHERE a.entity IN "
	                              "('fiche', 'node') AND (a.plan_id IS NULL OR a.plan_id <> "
	                              "n.plan_id)",
	                              ""),
	                 0);
	assert_true(th_query_int(&T,
	                         "SELECT COUNT(*) FROM audit_log WHERE entity IN ('fiche', 'node') "
	                         "AND plan_id IS NOT NULL",
	                         "") > 100);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE plan_id IS NULL AND "
	                 "entity IN ('plan', 'fiche_indicator', 'instance', 'meeting', "
	                 "'grid_campaign', 'spiral_workshop')",
	                 ""),
	    0);

	/* through the web: a coordinator's comment on a demo fiche */
	int64_t fiche = th_query_int(&T,
	                             "SELECT MIN(f.node_id) FROM fiches f JOIN nodes n ON n.id = "
	                             "f.node_id JOIN plan_members m ON m.plan_id = n.plan_id JOIN "
	                             "users u ON u.id = m.user_id WHERE u.email = "
	                             "'coordination@demo.maillage.fr' AND m.role = 'coordinator'",
	                             "");
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "coordination@demo.maillage.fr", "maillage-demo"), 303);
	char page[64], action[64];
	snprintf(page, sizeof page, "/fiches/%lld", (long long)fiche);
	snprintf(action, sizeof action, "/fiches/%lld/commentaires", (long long)fiche);
	struct resp r;
	client_submit(c, page, action, "body=Point+d%27%C3%A9tape", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_free(c);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'comment' AND "
	                              "id = (SELECT MAX(id) FROM audit_log) AND plan_id = "
	                              "(SELECT plan_id FROM nodes WHERE id = ?)",
	                              "I", fiche),
	                 1);
}

/* GET with a client; returns whether the dashboard content came from the cache (-1: no header). */
static int cached_get(struct client *c, const char *path, struct resp *r)
{
	client_get(c, path, r);
	char *h = resp_get_header(r, "X-Maillage-Cache");
	int hit = !h ? -1 : !strcmp(h, "hit") ? 1 : 0;
	free(h);
	return hit;
}

/* The page from <main> on: the part the cache may hold, without the viewer's shell. */
static const char *main_part(const struct resp *r)
{
	const char *m = strstr(buf_str(&r->body), "<main");
	return m ? m : "";
}

/*
 * The dashboard's rendered-content cache: a second request is served from it, identical; a
 * visitor after an administrator (and the reverse) gets the content of their own class; any
 * write shows at once; the shell stays the viewer's own; refused filters stay refused.
 */
static void test_dashboard_cache(void **state)
{
	(void)state;
	dash_cache_clear();
	char path[128];
	snprintf(path, sizeof path, "/plans/%lld/tableau-de-bord", (long long)plan_id);
	struct client *admin = client_new(&T), *visitor = client_new(&T);
	assert_int_equal(client_login(admin, "admin@demo.maillage.fr", "maillage-demo"), 303);
	struct resp a1, a2, v1, v2;
	assert_int_equal(cached_get(admin, path, &a1), 0);
	assert_int_equal(a1.status, 200);
	assert_int_equal(cached_get(admin, path, &a2), 1);
	assert_int_equal(a2.status, 200);
	assert_string_equal(main_part(&a1), main_part(&a2));
	assert_true(has(&a2, "id=\"documents\""));
	/* a visitor right after: not the administrator's content */
	assert_int_equal(cached_get(visitor, path, &v1), 0);
	assert_false(has(&v1, "id=\"documents\""));
	/* the shell is per request: the administrator's own on the hit, none for the visitor */
	assert_true(has(&a2, "Se déconnecter"));
	assert_false(has(&v1, "Se déconnecter"));
	assert_int_equal(cached_get(visitor, path, &v2), 1);
	assert_string_equal(main_part(&v1), main_part(&v2));
	assert_false(has(&v2, "id=\"documents\""));
	assert_false(has(&v2, "Se déconnecter"));
	/* a visitor's whole page is kept: the same bytes */
	assert_string_equal(buf_str(&v1.body), buf_str(&v2.body));
	/* someone signed in who is no member of the plan has the visitor's content in their own
	 * shell, never the visitor's page */
	struct client *outsider = client_new(&T);
	assert_int_equal(client_login(outsider, "lecture@demo.maillage.fr", "maillage-demo"), 303);
	struct resp o1;
	assert_int_equal(cached_get(outsider, path, &o1), 0);
	assert_true(has(&o1, "Se déconnecter"));
	assert_false(has(&o1, "id=\"documents\""));
	resp_free(&o1);
	assert_int_equal(cached_get(outsider, path, &o1), 1);
	assert_true(has(&o1, "Se déconnecter"));
	assert_string_equal(main_part(&o1), main_part(&v2));
	resp_free(&o1);
	client_free(outsider);
	/* nor the administrator's CSRF token */
	char *tok = page_csrf_token(&a2);
	if (tok)
		assert_false(has(&v2, tok));
	free(tok);
	resp_free(&a1);
	resp_free(&a2);
	resp_free(&v1);
	resp_free(&v2);

	/* a write (a comment, audited): the next pages are rendered again and show it to members
	 * only */
	char page[64], action[64];
	snprintf(page, sizeof page, "/fiches/%lld", (long long)f[1]);
	snprintf(action, sizeof action, "/fiches/%lld/commentaires", (long long)f[1]);
	struct resp w;
	client_submit(admin, page, action, "body=Relance+du+partenaire", &w);
	assert_int_equal(w.status, 303);
	resp_free(&w);
	assert_int_equal(cached_get(visitor, path, &v1), 0);
	assert_false(has(&v1, "Commentaire ajouté"));
	assert_int_equal(cached_get(admin, path, &a1), 0);
	expect(&a1, "Commentaire ajouté, par", "id=\"changements\"");
	assert_int_equal(cached_get(visitor, path, &v2), 1);
	assert_false(has(&v2, "Commentaire ajouté"));
	assert_false(has(&v2, "id=\"documents\""));
	resp_free(&a1);
	resp_free(&v1);
	resp_free(&v2);

	/* a refused filter: 422 from the cache too, its value still escaped */
	char bad[200];
	snprintf(bad, sizeof bad, "%s?tag=%%3Cscript%%3Ex", path);
	assert_int_equal(cached_get(visitor, bad, &v1), 0);
	assert_int_equal(v1.status, 422);
	assert_int_equal(cached_get(visitor, bad, &v2), 1);
	assert_int_equal(v2.status, 422);
	assert_false(has(&v2, "<script>"));
	resp_free(&v1);
	resp_free(&v2);
	/* an oversized query is answered but not kept */
	char *big = xmalloc(3000);
	int len = snprintf(big, 3000, "%s?domaine=", path);
	memset(big + len, 'x', 2900 - (size_t)len);
	big[2900] = '\0';
	assert_int_equal(cached_get(visitor, big, &v1), 0);
	assert_int_equal(cached_get(visitor, big, &v2), 0);
	assert_int_equal(v2.status, 422);
	resp_free(&v1);
	resp_free(&v2);
	free(big);
	/* a private plan's content never reaches a visitor through the cache: 404 first */
	DB = th_db(&T);
	sql("UPDATE plans SET is_public = 0 WHERE id = ?", "I", plan_id);
	db_close(DB);
	DB = NULL;
	client_get(visitor, path, &v1);
	assert_int_equal(v1.status, 404);
	assert_false(has(&v1, "Ce qui a changé"));
	resp_free(&v1);
	DB = th_db(&T);
	sql("UPDATE plans SET is_public = 1 WHERE id = ?", "I", plan_id);
	db_close(DB);
	DB = NULL;
	client_free(admin);
	client_free(visitor);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rollup_by_hand),
	    cmocka_unit_test(test_dashboard_page),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_changes_between_dates),
	    cmocka_unit_test(test_portal_shows_no_people_and_no_comments),
	    cmocka_unit_test(test_private_plans_stay_private),
	    cmocka_unit_test(test_bilan_page_and_letter),
	    cmocka_unit_test(test_audit_plan_ids),
	    cmocka_unit_test(test_dashboard_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
