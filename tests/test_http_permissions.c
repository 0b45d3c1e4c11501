/* test_http_permissions: every route of the server, tried against a private plan by someone who
 * must see nothing of it — anonymous visitors and a member of another plan. Nothing leaks,
 * nothing changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "http.h"
#include "users.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_b, node_b, fiche_b, proposal_b, comment_b, line_b, link_b;
static int64_t indicator_b, fi_b, measurement_b;
static int64_t instance_b, meeting_b, item_b, followup_b;
static int64_t workshop_b;                                                    /* SPIRAL */
static int64_t framework_b, element_b, campaign_b, assessment_b, testimony_b; /* grids */

static int64_t insert(struct db *db, const char *sql, const char *types, ...)
{
	/* Only the fixed statements below: each returns its new id. */
	struct db_stmt *st = db_prepare(db, sql);
	if (!st)
		fail_msg("prepare: %s (%s)", db_errmsg(db), sql);
	va_list ap;
	va_start(ap, types);
	int i = 1;
	for (const char *t = types; *t; t++, i++) {
		if (*t == 's')
			db_bind_text(st, i, va_arg(ap, const char *));
		else
			db_bind_int64(st, i, va_arg(ap, int64_t));
	}
	va_end(ap);
	int rc = db_step(st);
	int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	if (rc != DB_ROW && rc != DB_DONE)
		fail_msg("insert: %s (%s)", db_errmsg(db), sql);
	db_finalize(st);
	return id;
}

/* A private plan B with one of everything, and an account that is a reader of another plan. */
static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	plan_b = insert(db,
	                "INSERT INTO plans (kind, title, description, is_public, start_year, "
	                "end_year, created_at, updated_at) VALUES ('projet_social', ?, ?, 0, 2024, "
	                "2027, 'x', 'x') RETURNING id",
	                "ss", SECRET " (plan)", SECRET " description");
	node_b = insert(db,
	                "INSERT INTO nodes (plan_id, position, depth, number, title, created_at, "
	                "updated_at) VALUES (?, 1, 0, '1', ?, 'x', 'x') RETURNING id",
	                "Is", plan_b, SECRET " (axe)");
	fiche_b =
	    insert(db,
	           "INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, "
	           "created_at, updated_at) VALUES (?, ?, 1, 1, '1.1', ?, 'x', 'x') RETURNING id",
	           "IIs", plan_b, node_b, SECRET " (fiche)");
	insert(db,
	       "INSERT INTO fiches (node_id, status, progress) VALUES (?, 'proposee', "
	       "'non_engagee')",
	       "I", fiche_b);
	proposal_b = insert(db,
	                    "INSERT INTO proposals (plan_id, node_id, year, proposed_at) "
	                    "VALUES (?, ?, 2025, 'x') RETURNING id",
	                    "II", plan_b, fiche_b);
	comment_b = insert(db,
	                   "INSERT INTO comments (node_id, body, created_at) VALUES (?, ?, 'x') "
	                   "RETURNING id",
	                   "Is", fiche_b, SECRET " (commentaire)");
	line_b =
	    insert(db,
	           "INSERT INTO budget_lines (node_id, label, amount_cents) VALUES (?, ?, 100) "
	           "RETURNING id",
	           "Is", fiche_b, SECRET " (budget)");
	link_b = insert(db,
	                "INSERT INTO fiche_links (node_id, label, url) VALUES (?, ?, "
	                "'https://example.org') RETURNING id",
	                "Is", fiche_b, SECRET " (lien)");
	insert(db, "INSERT INTO annexes (plan_id, year, closed_at) VALUES (?, 2024, 'x')", "I",
	       plan_b);
	/* An indicator of plan B's own (not in the shared référentiel), with a measurement. */
	indicator_b = insert(db,
	                     "INSERT INTO indicators (name, kind, shared, created_at, updated_at) "
	                     "VALUES (?, 'realisation', 0, 'x', 'x') RETURNING id",
	                     "s", SECRET " (indicateur)");
	fi_b = insert(db,
	              "INSERT INTO fiche_indicators (node_id, indicator_id) VALUES (?, ?) "
	              "RETURNING id",
	              "II", fiche_b, indicator_b);
	measurement_b =
	    insert(db,
	           "INSERT INTO measurements (fiche_indicator_id, measured_on, value, "
	           "comment, entered_at) VALUES (?, '2025-01-01', 1, ?, 'x') RETURNING id",
	           "Is", fi_b, SECRET " (mesure)");
	/* A COPIL of plan B with a meeting, an agenda item and a follow-up (governance). */
	instance_b = insert(db,
	                    "INSERT INTO instances (plan_id, kind, name, created_at, updated_at) "
	                    "VALUES (?, 'copil', ?, 'x', 'x') RETURNING id",
	                    "Is", plan_b, SECRET " (instance)");
	meeting_b =
	    insert(db,
	           "INSERT INTO meetings (instance_id, starts_at, place, minutes, created_at, "
	           "updated_at) VALUES (?, '2024-05-05T10:00:00Z', ?, ?, 'x', 'x') RETURNING id",
	           "Iss", instance_b, SECRET " (lieu)", SECRET " (compte rendu)");
	item_b = insert(db,
	                "INSERT INTO agenda_items (meeting_id, position, title) VALUES (?, 1, ?) "
	                "RETURNING id",
	                "Is", meeting_b, SECRET " (point)");
	followup_b =
	    insert(db,
	           "INSERT INTO follow_ups (meeting_id, what, created_at) VALUES (?, ?, 'x') "
	           "RETURNING id",
	           "Is", meeting_b, SECRET " (suite)");
	/* A SPIRAL workshop of plan B with one criterion. */
	workshop_b = insert(db,
	                    "INSERT INTO spiral_workshops (plan_id, kind, group_description, "
	                    "group_type, participants, created_at, updated_at) VALUES (?, "
	                    "'groupe_pairs', ?, 'habitants', 5, 'x', 'x') RETURNING id",
	                    "Is", plan_b, SECRET " (atelier)");
	insert(db,
	       "INSERT INTO spiral_criteria (workshop_id, position, text, text_key, question, "
	       "created_at) VALUES (?, 1, ?, 'k', 'bien_etre', 'x') RETURNING id",
	       "Is", workshop_b, SECRET " (critère)");
	/* Evaluation grids: plan B's own grid, a campaign, an assessment with a score and a
	 * testimony. */
	framework_b = insert(db,
	                     "INSERT INTO grid_frameworks (plan_id, name, created_at, updated_at) "
	                     "VALUES (?, ?, 'x', 'x') RETURNING id",
	                     "Is", plan_b, SECRET " (grille)");
	element_b =
	    insert(db,
	           "INSERT INTO grid_items (framework_id, position, label) VALUES (?, 1, ?) "
	           "RETURNING id",
	           "Is", framework_b, SECRET " (critère de grille)");
	campaign_b = insert(db,
	                    "INSERT INTO grid_campaigns (framework_id, plan_id, year, title, "
	                    "created_at, updated_at) VALUES (?, ?, 2025, ?, 'x', 'x') RETURNING id",
	                    "IIs", framework_b, plan_b, SECRET " (campagne)");
	insert(db,
	       "INSERT INTO grid_campaign_actors (campaign_id, actor_id) VALUES (?, 1) "
	       "RETURNING id",
	       "I", campaign_b);
	assessment_b =
	    insert(db,
	           "INSERT INTO grid_assessments (campaign_id, actor_id, kind, assessor, "
	           "created_at, updated_at) VALUES (?, 1, 'self', ?, 'x', 'x') RETURNING id",
	           "Is", campaign_b, SECRET " (évaluateur)");
	insert(db,
	       "INSERT INTO grid_scores (assessment_id, item_id, score, evidence, updated_at) "
	       "VALUES (?, ?, 2, ?, 'x') RETURNING id",
	       "IIs", assessment_b, element_b, SECRET " (preuve)");
	testimony_b = insert(db,
	                     "INSERT INTO grid_testimonies (campaign_id, assessment_id, "
	                     "speaker_role, quote, created_at) VALUES (?, ?, 'elu', ?, 'x') "
	                     "RETURNING id",
	                     "IIs", campaign_b, assessment_b, SECRET " (citation)");
	char *err = NULL;
	int64_t uid = 0;
	if (user_create(db, "lecteur-a@example.org", "Lecteur A", "reader", "mot-de-passe-test", 0,
	                "cli", &uid, &err))
		fail_msg("user_create: %s", err);
	/* A reader of the Crestois plan (plan A), nothing on plan B. */
	int64_t plan_a = 0;
	db_int64f(db, &plan_a, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", "");
	insert(db, "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, 'reader')",
	       "II", plan_a, uid);
	db_close(db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* Fill a route pattern with plan B's objects; NULL when the route has nothing of plan B. */
static char *concrete_path(const char *pattern, int *touches_b)
{
	struct buf b = {0};
	*touches_b = 0;
	for (const char *p = pattern; *p;) {
		if (*p != '{') {
			buf_putc(&b, *p++);
			continue;
		}
		const char *close = strchr(p, '}');
		char name[32];
		snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
		p = close + 1;
		const struct {
			const char *name;
			int64_t *id;
		} ids[] = {{"plan", &plan_b},
		           {"node", &node_b},
		           {"fiche", &fiche_b},
		           {"proposal", &proposal_b},
		           {"comment", &comment_b},
		           {"line", &line_b},
		           {"link", &link_b},
		           {"indicator", &indicator_b},
		           {"fi", &fi_b},
		           {"measurement", &measurement_b},
		           {"instance", &instance_b},
		           {"meeting", &meeting_b},
		           {"item", &item_b},
		           {"followup", &followup_b},
		           {"workshop", &workshop_b},
		           {"framework", &framework_b},
		           {"element", &element_b},
		           {"campaign", &campaign_b},
		           {"assessment", &assessment_b},
		           {"testimony", &testimony_b}};
		size_t i;
		for (i = 0; i < sizeof ids / sizeof *ids; i++)
			if (!strcmp(name, ids[i].name))
				break;
		if (i < sizeof ids / sizeof *ids) {
			buf_printf(&b, "%lld", (long long)*ids[i].id);
			*touches_b = 1;
		} else if (!strcmp(name, "year")) {
			buf_puts(&b, "2024");
		} else if (!strcmp(name, "token")) {
			buf_puts(
			    &b, "00000000000000000000000000000000000000000000000000000000000000aa");
		} else if (!strcmp(name, "code")) {
			buf_puts(&b, "26108");
		} else if (!strcmp(name, "actor") || !strcmp(name, "user") || !strcmp(name, "id") ||
		           !strcmp(name, "contact") || !strcmp(name, "network") ||
		           !strcmp(name, "need") || !strcmp(name, "service") ||
		           !strcmp(name, "component") || !strcmp(name, "dimension")) {
			/* Objects of the shared directory and observatory, not of plan B. */
			buf_puts(&b, "1");
		} else if (!strcmp(name, "action")) {
			buf_puts(&b, "supprimer");
		} else if (!strcmp(name, "*")) {
			buf_puts(&b, "style.css");
		} else {
			fail_msg("route %s: unknown parameter {%s}: name parameters by entity",
			         pattern, name);
		}
	}
	return buf_steal(&b);
}

/* A fingerprint of everything plan B holds, to prove that refused writes changed nothing. */
static char *plan_b_state(void)
{
	struct db *db = th_db(&T);
	struct buf b = {0};
	const char *queries[] = {
	    "SELECT title || is_public || description FROM plans WHERE id = ?",
	    "SELECT title || archived || number FROM nodes WHERE plan_id = ? ORDER BY 1",
	    "SELECT f.status || f.progress || f.closing_note FROM fiches f JOIN nodes n ON "
	    "n.id = f.node_id WHERE n.plan_id = ? ORDER BY 1",
	    "SELECT COUNT(*) FROM comments c JOIN nodes n ON n.id = c.node_id WHERE n.plan_id "
	    "= ?",
	    "SELECT COUNT(*) FROM budget_lines l JOIN nodes n ON n.id = l.node_id WHERE "
	    "n.plan_id = ?",
	    "SELECT COUNT(*) FROM fiche_links l JOIN nodes n ON n.id = l.node_id WHERE "
	    "n.plan_id = ?",
	    "SELECT COALESCE(cotech_opinion, '-') || COALESCE(copil_decision, '-') || year "
	    "FROM proposals WHERE plan_id = ? ORDER BY 1",
	    "SELECT COUNT(*) FROM plan_members WHERE plan_id = ?",
	    "SELECT w.group_description || CAST(w.participants AS TEXT) FROM spiral_workshops w "
	    "WHERE w.plan_id = ? ORDER BY 1",
	    "SELECT c.text || c.question || CAST(COALESCE(c.component_id, 0) AS TEXT) FROM "
	    "spiral_criteria c JOIN spiral_workshops w ON w.id = c.workshop_id WHERE w.plan_id "
	    "= ? ORDER BY 1",
	    "SELECT COUNT(*) FROM spiral_component_links WHERE plan_id = ?",
	    "SELECT COUNT(*) FROM invitations WHERE plan_id = ?",
	    "SELECT COUNT(*) FROM annexes WHERE plan_id = ?",
	    "SELECT COUNT(*) FROM plan_levels WHERE plan_id = ?",
	    "SELECT COUNT(*) FROM plan_territory WHERE plan_id = ?",
	    "SELECT m.value || m.comment FROM measurements m JOIN fiche_indicators fi ON "
	    "fi.id = m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = "
	    "? ORDER BY 1",
	    "SELECT i.name FROM indicators i JOIN fiche_indicators fi ON fi.indicator_id = "
	    "i.id JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = ? ORDER BY 1",
	    "SELECT m.minutes || m.status || m.place FROM meetings m JOIN instances i ON i.id "
	    "= m.instance_id WHERE i.plan_id = ? ORDER BY 1",
	    "SELECT COUNT(*) FROM instances WHERE plan_id = ?",
	    "SELECT a.title || a.position FROM agenda_items a JOIN meetings m ON m.id = "
	    "a.meeting_id JOIN instances i ON i.id = m.instance_id WHERE i.plan_id = ? ORDER "
	    "BY 1",
	    "SELECT f.status FROM follow_ups f JOIN meetings m ON m.id = f.meeting_id JOIN "
	    "instances i ON i.id = m.instance_id WHERE i.plan_id = ? ORDER BY 1",
	    "SELECT COUNT(*) FROM decisions d JOIN meetings m ON m.id = d.meeting_id JOIN "
	    "instances i ON i.id = m.instance_id WHERE i.plan_id = ?",
	    "SELECT g.name || g.scale_max FROM grid_frameworks g WHERE g.plan_id = ? ORDER BY 1",
	    "SELECT i.label FROM grid_items i JOIN grid_frameworks g ON g.id = i.framework_id "
	    "WHERE g.plan_id = ? ORDER BY 1",
	    "SELECT c.title || c.year FROM grid_campaigns c WHERE c.plan_id = ? ORDER BY 1",
	    "SELECT COUNT(*) FROM grid_campaign_actors a JOIN grid_campaigns c ON c.id = "
	    "a.campaign_id WHERE c.plan_id = ?",
	    "SELECT COALESCE(CAST(s.score AS TEXT), '-') || s.evidence FROM grid_scores s JOIN "
	    "grid_assessments a ON a.id = s.assessment_id JOIN grid_campaigns c ON c.id = "
	    "a.campaign_id WHERE c.plan_id = ? ORDER BY 1",
	    "SELECT t.quote FROM grid_testimonies t JOIN grid_campaigns c ON c.id = t.campaign_id "
	    "WHERE c.plan_id = ? ORDER BY 1",
	};
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		struct db_stmt *st = db_queryf(db, queries[i], "I", plan_b);
		if (!st)
			fail_msg("%s: %s", queries[i], db_errmsg(db));
		/* Every row (no string aggregate is common to SQLite and PostgreSQL). */
		int rc;
		while ((rc = db_step(st)) == DB_ROW) {
			buf_puts(&b, db_col_text(st, 0) ? db_col_text(st, 0) : "NULL");
			buf_putc(&b, '|');
		}
		if (rc != DB_DONE)
			fail_msg("%s: %s", queries[i], db_errmsg(db));
		buf_putc(&b, '/');
		db_finalize(st);
	}
	db_close(db);
	return buf_steal(&b);
}

static void check_as(struct client *c, const char *who)
{
	char *before = plan_b_state();
	int checked = 0;
	for (const struct route *const *t = route_tables; *t; t++) {
		for (const struct route *rt = *t; rt->pattern; rt++) {
			/* Logging out would end the session under test. */
			if (!strcmp(rt->pattern, "/deconnexion"))
				continue;
			int touches_b;
			char *path = concrete_path(rt->pattern, &touches_b);
			for (int m = M_GET; m <= M_PATCH; m <<= 1) {
				if (!(rt->methods & m))
					continue;
				struct resp r;
				if (m == M_GET) {
					client_get(c, path, &r);
				} else {
					/* A valid CSRF token: the refusal must come from the role.
					 */
					struct resp page;
					client_get(c, "/connexion", &page);
					char *tok = page_csrf_token(&page);
					resp_free(&page);
					char *h = xasprintf("X-CSRF-Token: %s", tok ? tok : "");
					client_set_header(c, h);
					const char *body =
					    "{\"title\":\"pirate\",\"name\":\"pirate\"}";
					client_post(c, path, "application/json", body, strlen(body),
					            &r);
					client_set_header(c, NULL);
					free(h);
					free(tok);
				}
				if (strstr(buf_str(&r.body), SECRET))
					fail_msg("%s: %s %s leaks plan B (status %ld)", who,
					         m == M_GET ? "GET" : "POST", path, r.status);
				if (touches_b && r.status >= 200 && r.status < 300)
					fail_msg("%s: %s %s answered %ld on plan B", who,
					         m == M_GET ? "GET" : "POST", path, r.status);
				resp_free(&r);
				checked++;
			}
			free(path);
		}
	}
	char *after = plan_b_state();
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_true(checked >= 20);
}

static void test_anonymous_sees_nothing_of_a_private_plan(void **state)
{
	(void)state;
	struct client *c = client_new(&T);
	check_as(c, "anonymous");
	client_free(c);
}

static void test_member_of_another_plan_sees_nothing(void **state)
{
	(void)state;
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "lecteur-a@example.org", "mot-de-passe-test"), 303);
	check_as(c, "reader of plan A");
	client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anonymous_sees_nothing_of_a_private_plan),
	    cmocka_unit_test(test_member_of_another_plan_sees_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
