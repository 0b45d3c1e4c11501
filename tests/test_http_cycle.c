/* test_http_cycle: the yearly cycle over HTTP — proposals, COTECH opinions, COPIL arbitrations,
 * closing a year, the frozen annex (page, CSV, API), permissions and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "harness.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct th T;
static int64_t PLAN;   /* the Crestois CTG (2022-2026): proposals may aim at 2021 to 2027 */
static int64_t PARENT; /* an orientation of it */
static struct client *COORD, *PARTNER, *READER, *PILOT;

static struct client *logged(const char *email)
{
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, email, DEMO_PASSWORD), 303);
	return c;
}

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	assert_int_equal(
	    db_int64f(db, &PLAN, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", ""), DB_OK);
	assert_int_equal(db_int64f(db, &PARENT,
	                           "SELECT n.id FROM nodes n WHERE n.plan_id = ? AND n.depth = 1 "
	                           "AND NOT EXISTS (SELECT 1 FROM fiches f WHERE f.node_id = n.id) "
	                           "ORDER BY n.id LIMIT 1",
	                           "I", PLAN),
	                 DB_OK);
	db_close(db);
	COORD = logged("coordination@demo.maillage.fr");
	PARTNER = logged("partenaire@demo.maillage.fr");
	READER = logged("lecture@demo.maillage.fr");
	PILOT = logged("pilote@demo.maillage.fr");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	client_free(COORD);
	client_free(PARTNER);
	client_free(READER);
	client_free(PILOT);
	th_stop(&T);
	return 0;
}

/* --- helpers ------------------------------------------------------------------------------ */

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

#define PATH(buf, ...) snprintf(buf, sizeof buf, __VA_ARGS__)

/* Append "&key=value" (value URL-encoded) to a form body. */
static void field(struct buf *b, const char *key, const char *value)
{
	if (b->len)
		buf_putc(b, '&');
	buf_puts(b, key);
	buf_putc(b, '=');
	buf_url(b, value);
}

/* Propose through the web form; returns the status, fills *out when not NULL. */
static long propose_web(struct client *c, int64_t plan, int64_t parent, const char *title, int year,
                        const char *extra, struct resp *out)
{
	struct buf b = {0};
	char tmp[32];
	PATH(tmp, "%lld", (long long)parent);
	field(&b, "parent", tmp);
	field(&b, "title", title);
	field(&b, "description", "Une **action** de test.");
	field(&b, "expected_results", "Des familles mieux accompagnées.");
	field(&b, "publics", "Familles\nJeunes de 16 à 25 ans\n\nFamilles");
	PATH(tmp, "%d", year);
	field(&b, "year", tmp);
	if (extra) {
		buf_putc(&b, '&');
		buf_puts(&b, extra);
	}
	char path[96];
	PATH(path, "/plans/%lld/propositions/nouvelle", (long long)plan);
	struct resp r;
	client_submit(c, path, path, buf_str(&b), &r);
	buf_free(&b);
	long status = r.status;
	if (out)
		*out = r;
	else
		resp_free(&r);
	return status;
}

static int64_t proposal_by_title(const char *title)
{
	struct db *db = th_db(&T);
	int64_t id = 0;
	db_int64f(db, &id,
	          "SELECT p.id FROM proposals p JOIN nodes n ON n.id = p.node_id WHERE n.title = ? "
	          "ORDER BY p.id DESC LIMIT 1",
	          "s", title);
	db_close(db);
	return id;
}

static int64_t query_int(const char *sql, int64_t id)
{
	struct db *db = th_db(&T);
	int64_t v = -1;
	db_int64f(db, &v, sql, "I", id);
	db_close(db);
	return v;
}

/* Post a decision form (kind "cotech" or "copil") as the client; returns the status. */
static long decide_web(struct client *c, int64_t proposal, const char *kind, const char *value,
                       const char *date, const char *comment, struct resp *out)
{
	struct buf b = {0};
	field(&b, !strcmp(kind, "cotech") ? "opinion" : "decision", value);
	field(&b, "date", date);
	field(&b, "comment", comment);
	char path[96];
	PATH(path, "/propositions/%lld/%s", (long long)proposal, kind);
	struct resp r;
	client_submit(c, "/compte", path, buf_str(&b), &r);
	buf_free(&b);
	long status = r.status;
	if (out)
		*out = r;
	else
		resp_free(&r);
	return status;
}

static long post_web(struct client *c, const char *path, struct resp *out)
{
	struct resp r;
	client_submit(c, "/compte", path, "", &r);
	long status = r.status;
	if (out)
		*out = r;
	else
		resp_free(&r);
	return status;
}

/* POST JSON to the API with the session's CSRF token; returns the status. */
static long api_post(struct client *c, const char *path, const char *json, struct resp *out)
{
	struct resp page;
	client_get(c, "/compte", &page);
	char *tok = page_csrf_token(&page);
	resp_free(&page);
	char *h = xasprintf("X-CSRF-Token: %s", tok ? tok : "");
	client_set_header(c, h);
	struct resp r;
	client_post(c, path, "application/json", json, strlen(json), &r);
	client_set_header(c, NULL);
	free(h);
	free(tok);
	long status = r.status;
	if (out)
		*out = r;
	else
		resp_free(&r);
	return status;
}

static long get_status(struct client *c, const char *path)
{
	struct resp r;
	client_get(c, path, &r);
	long s = r.status;
	resp_free(&r);
	return s;
}

/* Propose via the API as the partner; returns the new proposal id. */
static int64_t propose_api(int64_t parent, const char *title, int year)
{
	json_t *j = json_pack("{s:I,s:s,s:i,s:[s]}", "parent_id", (json_int_t)parent, "title",
	                      title, "year", year, "publics", "Parents");
	char *body = json_dumps(j, 0);
	json_decref(j);
	char path[96];
	PATH(path, "/api/v1/plans/%lld/proposals", (long long)PLAN);
	struct resp r;
	assert_int_equal(api_post(PARTNER, path, body, &r), 201);
	free(body);
	json_t *p = json_loads(buf_str(&r.body), 0, NULL);
	assert_non_null(p);
	int64_t id = json_integer_value(json_object_get(p, "id"));
	json_decref(p);
	resp_free(&r);
	assert_true(id > 0);
	return id;
}

static long decide_api(int64_t proposal, const char *kind, const char *value)
{
	char path[96], body[160];
	PATH(path, "/api/v1/proposals/%lld/%s", (long long)proposal, kind);
	PATH(body, "{\"%s\":\"%s\",\"date\":\"2025-03-14\",\"comment\":\"vu\"}",
	     !strcmp(kind, "cotech") ? "opinion" : "decision", value);
	return api_post(COORD, path, body, NULL);
}

/* --- the full path ------------------------------------------------------------------------- */

static void test_full_path_into_the_frozen_annex(void **state)
{
	(void)state;
	const char *title = "Relais parents-enfants itinérant";
	char cycle[96], annex[96], csv[96];
	PATH(cycle, "/plans/%lld/cycle?annee=2024", (long long)PLAN);
	PATH(annex, "/plans/%lld/annexes/2024", (long long)PLAN);
	PATH(csv, "/plans/%lld/annexes/2024.csv", (long long)PLAN);

	/* The partner sees the form, then proposes. */
	struct resp r;
	char form[96];
	PATH(form, "/plans/%lld/propositions/nouvelle", (long long)PLAN);
	client_get(PARTNER, form, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "<label for=\"p-title\">Intitulé</label>"));
	assert_true(has(&r, "Au premier niveau du plan"));
	resp_free(&r);
	int64_t actor = 0;
	struct db *db = th_db(&T);
	assert_int_equal(db_int64f(db, &actor, "SELECT MIN(id) FROM actors", ""), DB_OK);
	int64_t nodes_before = 0;
	db_int64f(db, &nodes_before, "SELECT COUNT(*) FROM nodes WHERE parent_id = ?", "I", PARENT);
	db_close(db);
	char extra[48];
	PATH(extra, "pilots=%lld", (long long)actor);
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, title, 2024, extra, &r), 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(loc);
	assert_non_null(strstr(loc, "annee=2024"));
	free(loc);
	resp_free(&r);

	int64_t pid = proposal_by_title(title);
	assert_true(pid > 0);
	int64_t node = query_int("SELECT node_id FROM proposals WHERE id = ?", pid);
	assert_int_equal(query_int("SELECT year FROM proposals WHERE id = ?", pid), 2024);
	assert_int_equal(query_int("SELECT parent_id FROM nodes WHERE id = ?", node), PARENT);
	assert_int_equal(query_int("SELECT position FROM nodes WHERE id = ?", node),
	                 nodes_before + 1);
	char *status = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(status, "proposee");
	free(status);
	char *number = th_query_text(&T, "SELECT number FROM nodes WHERE id = ?", node);
	char *parent_number = th_query_text(&T, "SELECT number FROM nodes WHERE id = ?", PARENT);
	char expect[64];
	PATH(expect, "%s.%lld", parent_number, (long long)(nodes_before + 1));
	assert_string_equal(number, expect);
	free(parent_number);
	assert_int_equal(query_int("SELECT COUNT(*) FROM fiche_publics WHERE node_id = ?", node),
	                 2);
	assert_int_equal(query_int("SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ?", node), 1);
	assert_int_equal(
	    query_int("SELECT COUNT(*) FROM audit_log WHERE entity_id = CAST(? AS TEXT) "
	              "AND entity IN ('node', 'fiche') AND action = 'create'",
	              node),
	    2);
	assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'proposal' AND "
	                           "entity_id = CAST(? AS TEXT) AND action = 'create'",
	                           pid),
	                 1);

	/* The cycle page shows it with the steps; the reader sees it too, without forms. */
	client_get(READER, cycle, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, title));
	assert_true(has(&r, "1. Proposition"));
	assert_true(has(&r, "2. Avis du COTECH"));
	assert_true(has(&r, "3. Arbitrage du COPIL"));
	assert_true(has(&r, "4. Annexe votée"));
	assert_true(has(&r, "Pascale Partenaire"));
	assert_false(has(&r, "/cotech\""));
	resp_free(&r);
	client_get(COORD, cycle, &r);
	assert_int_equal(r.status, 200);
	char action[96];
	PATH(action, "action=\"/propositions/%lld/cotech\"", (long long)pid);
	assert_true(has(&r, action));
	resp_free(&r);

	/* COTECH, then COPIL "retenue". */
	assert_int_equal(
	    decide_web(COORD, pid, "cotech", "favorable", "2024-02-01", "Bien construit", NULL),
	    303);
	char *opinion = th_query_text(&T, "SELECT cotech_opinion FROM proposals WHERE id = ?", pid);
	assert_string_equal(opinion, "favorable");
	free(opinion);
	assert_int_equal(decide_web(COORD, pid, "copil", "retenue", "2024-03-01", "", NULL), 303);
	status = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(status, "retenue");
	free(status);
	assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'proposal' AND "
	                           "entity_id = CAST(? AS TEXT) AND action = 'copil' "
	                           "AND before_json IS NOT NULL AND after_json LIKE '%retenue%'",
	                           pid),
	                 1);
	assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                           "entity_id = CAST(? AS TEXT) AND action = 'update' AND "
	                           "before_json LIKE '%proposee%' AND after_json LIKE '%retenue%'",
	                           node),
	                 1);

	/* The confirmation step, then the closing. */
	char confirm[128];
	PATH(confirm, "/plans/%lld/cycle?annee=2024&cloture=confirmer", (long long)PLAN);
	client_get(COORD, confirm, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Clôturer l’année 2024 et figer l’annexe"));
	resp_free(&r);
	assert_int_equal(get_status(COORD, annex), 404); /* not closed yet */
	char close[96];
	PATH(close, "/plans/%lld/cycle/2024/cloturer", (long long)PLAN);
	assert_int_equal(post_web(COORD, close, &r), 303);
	loc = resp_get_header(&r, "Location");
	assert_non_null(strstr(loc, "/annexes/2024"));
	free(loc);
	resp_free(&r);
	assert_int_equal(
	    query_int("SELECT COUNT(*) FROM annexes WHERE plan_id = ? AND year = 2024", PLAN), 1);
	assert_int_equal(
	    query_int("SELECT is_new FROM annex_items WHERE year = 2024 AND node_id = ?", node), 1);
	char *pilots = th_query_text(
	    &T, "SELECT pilots FROM annex_items WHERE year = 2024 AND node_id = ?", node);
	char *actor_name = th_query_text(&T, "SELECT name FROM actors WHERE id = ?", actor);
	assert_string_equal(pilots, actor_name);
	free(pilots);
	free(actor_name);

	/* The annex lists it, as new. */
	client_get(READER, annex, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, title));
	assert_true(has(&r, "nouvelle"));
	assert_true(has(&r, "Camille Coordination"));
	assert_true(has(&r, "Imprimer"));
	assert_true(has(&r, number));
	resp_free(&r);

	/* A later edit of the fiche does not change the frozen annex. */
	db = th_db(&T);
	assert_int_equal(db_execf(db,
	                          "UPDATE nodes SET title = 'Titre changé après le vote' "
	                          "WHERE id = ?",
	                          "I", node),
	                 DB_OK);
	assert_int_equal(
	    db_execf(db, "UPDATE fiches SET status = 'en_cours' WHERE node_id = ?", "I", node),
	    DB_OK);
	db_close(db);
	client_get(READER, annex, &r);
	assert_true(has(&r, title));
	assert_false(has(&r, "Titre changé après le vote"));
	assert_true(has(&r, "Retenue"));
	resp_free(&r);
	client_get(READER, csv, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, title));
	assert_false(has(&r, "Titre changé après le vote"));
	resp_free(&r);
	char api[96];
	PATH(api, "/api/v1/plans/%lld/annexes/2024", (long long)PLAN);
	client_get(READER, api, &r);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "year")), 2024);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "closed_by"), "name")),
	    "Camille Coordination");
	int found = 0;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(j, "items"), i, it)
	{
		if (json_integer_value(json_object_get(it, "fiche_id")) == node) {
			found = 1;
			assert_string_equal(json_string_value(json_object_get(it, "title")), title);
			assert_true(json_is_true(json_object_get(it, "is_new")));
			assert_string_equal(json_string_value(json_object_get(it, "status")),
			                    "retenue");
		}
	}
	assert_true(found);
	json_decref(j);
	resp_free(&r);

	/* The annex is a public document: anonymous visitors of this public plan read it. */
	struct client *anon = client_new(&T);
	assert_int_equal(get_status(anon, annex), 200);
	assert_int_equal(get_status(anon, csv), 200);
	char list[96];
	PATH(list, "/plans/%lld/annexes", (long long)PLAN);
	client_get(anon, list, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Annexe 2024"));
	resp_free(&r);
	client_free(anon);

	/* Closed: no second closing, no more changes. */
	assert_int_equal(post_web(COORD, close, NULL), 409);
	char api_close[96];
	PATH(api_close, "/api/v1/plans/%lld/cycle/2024/close", (long long)PLAN);
	assert_int_equal(api_post(COORD, api_close, "{}", NULL), 409);
	assert_int_equal(decide_web(COORD, pid, "copil", "refusee", "2024-03-02", "", NULL), 409);
	assert_int_equal(decide_web(COORD, pid, "cotech", "reserve", "2024-03-02", "", NULL), 409);
	assert_int_equal(decide_api(pid, "copil", "ajournee"), 409);
	char *decision =
	    th_query_text(&T, "SELECT copil_decision FROM proposals WHERE id = ?", pid);
	assert_string_equal(decision, "retenue");
	free(decision);
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "Trop tard pour 2024", 2024, NULL, &r),
	                 422);
	assert_true(has(&r, "clôturée"));
	assert_true(has(&r, "Trop tard pour 2024")); /* what was typed is kept */
	resp_free(&r);
	assert_int_equal(proposal_by_title("Trop tard pour 2024"), 0);
	free(number);
}

/* --- ajournée, then carried to the next year
 * ------------------------------------------------------ */

static void test_adjourned_then_postponed(void **state)
{
	(void)state;
	int64_t pid = propose_api(PARENT, "Café des parents à Saillans", 2025);
	int64_t node = query_int("SELECT node_id FROM proposals WHERE id = ?", pid);
	char path[96];
	PATH(path, "/propositions/%lld/reporter", (long long)pid);
	assert_int_equal(post_web(COORD, path, NULL), 409); /* not adjourned */
	assert_int_equal(decide_api(pid, "cotech", "reserve"), 200);
	assert_int_equal(decide_api(pid, "copil", "ajournee"), 200);
	char *status = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(status, "ajournee");
	free(status);

	/* The coordinator sees the button on the cycle page. */
	struct resp r;
	char cycle[96];
	PATH(cycle, "/plans/%lld/cycle?annee=2025", (long long)PLAN);
	client_get(COORD, cycle, &r);
	assert_true(has(&r, "Reporter à l’année suivante"));
	resp_free(&r);

	assert_int_equal(post_web(PARTNER, path, NULL), 403);
	assert_int_equal(post_web(COORD, path, &r), 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(strstr(loc, "annee=2026"));
	free(loc);
	resp_free(&r);
	assert_int_equal(query_int("SELECT year FROM proposals WHERE id = ?", pid), 2026);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE id = ? AND cotech_opinion "
	                           "IS NULL AND copil_decision IS NULL AND cotech_date IS NULL",
	                           pid),
	                 1);
	status = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(status, "proposee");
	free(status);
	assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'proposal' AND "
	                           "entity_id = CAST(? AS TEXT) AND action = 'postpone' AND "
	                           "before_json LIKE '%\"year\":2025%' AND after_json LIKE "
	                           "'%\"year\":2026%'",
	                           pid),
	                 1);
	PATH(cycle, "/plans/%lld/cycle?annee=2026", (long long)PLAN);
	client_get(READER, cycle, &r);
	assert_true(has(&r, "Café des parents à Saillans"));
	resp_free(&r);
	assert_int_equal(post_web(COORD, path, NULL), 409); /* no decision any more */
}

/* --- refusée archives the node
 * -------------------------------------------------------------------- */

static void test_refused_is_archived(void **state)
{
	(void)state;
	const char *title = "Navette vers la piscine intercommunale";
	int64_t pid = propose_api(PARENT, title, 2025);
	int64_t node = query_int("SELECT node_id FROM proposals WHERE id = ?", pid);
	char plan_page[64];
	PATH(plan_page, "/plans/%lld", (long long)PLAN);
	struct resp r;
	client_get(READER, plan_page, &r);
	assert_true(has(&r, title));
	resp_free(&r);

	assert_int_equal(decide_api(pid, "cotech", "defavorable"), 200);
	assert_int_equal(decide_api(pid, "copil", "refusee"), 200);
	assert_int_equal(query_int("SELECT archived FROM nodes WHERE id = ?", node), 1);
	assert_int_equal(query_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'node' AND "
	                           "entity_id = CAST(? AS TEXT) AND action = 'archive'",
	                           node),
	                 1);
	client_get(READER, plan_page, &r);
	assert_int_equal(r.status, 200);
	assert_false(has(&r, title)); /* gone from the tree */
	resp_free(&r);
	char cycle[96];
	PATH(cycle, "/plans/%lld/cycle?annee=2025", (long long)PLAN);
	client_get(READER, cycle, &r);
	assert_true(has(&r, title)); /* still in the cycle */
	assert_true(has(&r, "Refusée"));
	assert_true(has(&r, "archivée"));
	resp_free(&r);
	/* The refused node is not offered as a parent. */
	char form[96];
	PATH(form, "/plans/%lld/propositions/nouvelle", (long long)PLAN);
	client_get(PARTNER, form, &r);
	assert_false(has(&r, title));
	resp_free(&r);

	/* Corrected while the year is open: retenue brings it back. */
	assert_int_equal(decide_api(pid, "copil", "retenue"), 200);
	assert_int_equal(query_int("SELECT archived FROM nodes WHERE id = ?", node), 0);
	char *status = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(status, "retenue");
	free(status);
	assert_int_equal(decide_api(pid, "copil", "refusee"), 200);
	assert_int_equal(query_int("SELECT archived FROM nodes WHERE id = ?", node), 1);
}

/* --- the COPIL after the COTECH -----------------------------------------------------------------
 */

static void test_copil_needs_cotech(void **state)
{
	(void)state;
	int64_t pid = propose_api(PARENT, "Permanence numérique mobile", 2025);
	struct resp r;
	assert_int_equal(decide_web(COORD, pid, "copil", "retenue", "2025-01-10", "", &r), 409);
	assert_true(has(&r, "COTECH"));
	assert_true(has(&r, "notice-error"));
	resp_free(&r);
	assert_int_equal(decide_api(pid, "copil", "retenue"), 409);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE id = ? AND copil_decision "
	                           "IS NULL",
	                           pid),
	                 1);
	char *status =
	    th_query_text(&T,
	                  "SELECT f.status FROM fiches f JOIN proposals p ON p.node_id = f.node_id "
	                  "WHERE p.id = ?",
	                  pid);
	assert_string_equal(status, "proposee");
	free(status);
	assert_int_equal(decide_api(pid, "cotech", "favorable"), 200);
	assert_int_equal(decide_api(pid, "copil", "retenue"), 200);
}

/* --- closing rules
 * --------------------------------------------------------------------------------- */

static void test_closing_refused_with_undecided_proposals(void **state)
{
	(void)state;
	const char *title = "Ludothèque itinérante en attente";
	int64_t pid = propose_api(PARENT, title, 2027);
	char close[96], api_close[96];
	PATH(close, "/plans/%lld/cycle/2027/cloturer", (long long)PLAN);
	PATH(api_close, "/api/v1/plans/%lld/cycle/2027/close", (long long)PLAN);
	struct resp r;
	assert_int_equal(post_web(COORD, close, &r), 409);
	assert_true(has(&r, title));
	assert_true(has(&r, "arbitrage du COPIL"));
	resp_free(&r);
	assert_int_equal(api_post(COORD, api_close, "{}", &r), 409);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	json_t *list = json_object_get(json_object_get(j, "error"), "proposals");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "title")),
	                    title);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(
	    query_int("SELECT COUNT(*) FROM annexes WHERE plan_id = ? AND year = 2027", PLAN), 0);

	/* Partners and readers cannot close. */
	assert_int_equal(post_web(PARTNER, close, NULL), 403);
	assert_int_equal(post_web(READER, close, NULL), 403);

	assert_int_equal(decide_api(pid, "cotech", "favorable"), 200);
	assert_int_equal(decide_api(pid, "copil", "ajournee"), 200);
	assert_int_equal(api_post(COORD, api_close, "{}", &r), 201);
	j = json_loads(buf_str(&r.body), 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "year")), 2027);
	/* ajournée: not in the annex */
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(j, "items"), i, it)
	    assert_string_not_equal(json_string_value(json_object_get(it, "title")), title);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(api_post(COORD, api_close, "{}", NULL), 409);
	char path[96];
	PATH(path, "/propositions/%lld/reporter", (long long)pid);
	assert_int_equal(post_web(COORD, path, NULL), 409);
	assert_int_equal(decide_api(pid, "cotech", "defavorable"), 409);
}

/* --- permissions ---------------------------------------------------------------------------------
 */

static void test_roles(void **state)
{
	(void)state;
	char form[96], cycle[96], close[96];
	PATH(form, "/plans/%lld/propositions/nouvelle", (long long)PLAN);
	PATH(cycle, "/plans/%lld/cycle?annee=2021", (long long)PLAN);
	PATH(close, "/plans/%lld/cycle/2021/cloturer", (long long)PLAN);
	/* Readers cannot propose. */
	assert_int_equal(get_status(READER, form), 403);
	assert_int_equal(
	    propose_web(READER, PLAN, PARENT, "Proposition d'un lecteur", 2021, NULL, NULL), 403);
	assert_int_equal(proposal_by_title("Proposition d'un lecteur"), 0);
	char api[96];
	PATH(api, "/api/v1/plans/%lld/proposals", (long long)PLAN);
	assert_int_equal(api_post(READER, api, "{\"title\":\"Par l'API\",\"year\":2021}", NULL),
	                 403);
	assert_int_equal(get_status(READER, cycle), 200);
	/* A pilot proposes (pilot is above partner). */
	assert_int_equal(
	    propose_web(PILOT, PLAN, PARENT, "Proposition d'un pilote", 2021, NULL, NULL), 303);
	int64_t pid = proposal_by_title("Proposition d'un pilote");
	assert_true(pid > 0);
	/* Partners and pilots cannot decide. */
	assert_int_equal(decide_web(PARTNER, pid, "cotech", "favorable", "2021-01-01", "", NULL),
	                 403);
	assert_int_equal(decide_web(PILOT, pid, "cotech", "favorable", "2021-01-01", "", NULL),
	                 403);
	assert_int_equal(decide_web(PARTNER, pid, "copil", "retenue", "2021-01-01", "", NULL), 403);
	char path[96];
	PATH(path, "/api/v1/proposals/%lld/cotech", (long long)pid);
	assert_int_equal(api_post(PARTNER, path, "{\"opinion\":\"favorable\"}", NULL), 403);
	assert_int_equal(post_web(PILOT, close, NULL), 403);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE id = ? AND cotech_opinion "
	                           "IS NULL",
	                           pid),
	                 1);
	/* A partner sees no decision form. */
	struct resp r;
	client_get(PARTNER, cycle, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Proposition d&#39;un pilote"));
	assert_false(has(&r, "/cotech\""));
	assert_false(has(&r, "/cloturer\""));
	resp_free(&r);
	/* Anonymous: sent to the login page, or refused. */
	struct client *anon = client_new(&T);
	assert_int_equal(get_status(anon, cycle), 303);
	assert_int_equal(get_status(anon, form), 303);
	char decide[96];
	PATH(decide, "/api/v1/proposals/%lld/copil", (long long)pid);
	struct resp a;
	client_post(anon, decide, "application/json", "{}", 2, &a);
	assert_int_equal(a.status, 401);
	resp_free(&a);
	char list[128];
	PATH(list, "/api/v1/plans/%lld/proposals?year=2021", (long long)PLAN);
	assert_int_equal(get_status(anon, list), 401);
	client_free(anon);
	/* The reader lists proposals through the API. */
	client_get(READER, list, &r);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "year")), 2021);
	assert_false(json_is_true(json_object_get(j, "closed")));
	json_t *first = json_array_get(json_object_get(j, "proposals"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "title")),
	                    "Proposition d'un pilote");
	assert_string_equal(json_string_value(json_object_get(first, "status")), "proposee");
	assert_true(json_is_null(json_object_get(json_object_get(first, "cotech"), "opinion")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(first, "proposed_by"), "name")),
	    "Paul Pilote");
	json_decref(j);
	resp_free(&r);
}

static void test_private_plan_is_invisible(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	int64_t plan = 0, node = 0, coord = 0, outsider = 0;
	char *err = NULL;
	assert_int_equal(
	    db_int64f(db, &plan,
	              "INSERT INTO plans (kind, title, start_year, end_year, is_public, "
	              "created_at, updated_at) VALUES ('schema', 'Schéma confidentiel', "
	              "2024, 2028, 0, 'x', 'x') RETURNING id",
	              ""),
	    DB_OK);
	assert_int_equal(
	    db_int64f(db, &node,
	              "INSERT INTO nodes (plan_id, position, depth, number, title, "
	              "created_at, updated_at) VALUES (?, 1, 0, '1', 'Axe secret', 'x', "
	              "'x') RETURNING id",
	              "I", plan),
	    DB_OK);
	assert_int_equal(user_create(db, "coord-secret@example.org", "Coordination secrète",
	                             "coordinator", "mot-de-passe-test", 0, "cli", &coord, &err),
	                 0);
	assert_int_equal(user_create(db, "ailleurs@example.org", "Coordination d'ailleurs",
	                             "coordinator", "mot-de-passe-test", 0, "cli", &outsider, &err),
	                 0);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_members (plan_id, user_id, role) "
	                          "VALUES (?, ?, 'coordinator')",
	                          "II", plan, coord),
	                 DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_members (plan_id, user_id, role) "
	                          "VALUES (?, ?, 'coordinator')",
	                          "II", PLAN, outsider),
	                 DB_OK);
	db_close(db);

	/* The member proposes, decides and closes 2025. */
	struct client *m = client_new(&T);
	assert_int_equal(client_login(m, "coord-secret@example.org", "mot-de-passe-test"), 303);
	char path[128];
	PATH(path, "/api/v1/plans/%lld/proposals", (long long)plan);
	char body[128];
	PATH(body, "{\"parent_id\":%lld,\"title\":\"Fiche secrète\",\"year\":2025}",
	     (long long)node);
	struct resp r;
	assert_int_equal(api_post(m, path, body, &r), 201);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	int64_t pid = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	resp_free(&r);
	/* The second proposal stays undecided: routes on it are tried below. */
	PATH(body, "{\"parent_id\":%lld,\"title\":\"Autre fiche secrète\",\"year\":2026}",
	     (long long)node);
	assert_int_equal(api_post(m, path, body, &r), 201);
	j = json_loads(buf_str(&r.body), 0, NULL);
	int64_t open = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	resp_free(&r);
	PATH(path, "/api/v1/proposals/%lld/cotech", (long long)pid);
	assert_int_equal(api_post(m, path, "{\"opinion\":\"favorable\"}", NULL), 200);
	PATH(path, "/api/v1/proposals/%lld/copil", (long long)pid);
	assert_int_equal(api_post(m, path, "{\"decision\":\"retenue\"}", NULL), 200);
	PATH(path, "/api/v1/plans/%lld/cycle/2025/close", (long long)plan);
	assert_int_equal(api_post(m, path, "{}", NULL), 201);
	PATH(path, "/plans/%lld/annexes/2025", (long long)plan);
	assert_int_equal(get_status(m, path), 200);
	client_free(m);

	/* A coordinator of another plan sees none of it. */
	struct client *o = client_new(&T);
	assert_int_equal(client_login(o, "ailleurs@example.org", "mot-de-passe-test"), 303);
	struct client *anon = client_new(&T);
	const char *gets[] = {"/plans/%lld/cycle",
	                      "/plans/%lld/cycle?annee=2025",
	                      "/plans/%lld/propositions/nouvelle",
	                      "/plans/%lld/annexes",
	                      "/plans/%lld/annexes/2025",
	                      "/plans/%lld/annexes/2025.csv",
	                      "/api/v1/plans/%lld/proposals?year=2025",
	                      "/api/v1/plans/%lld/annexes",
	                      "/api/v1/plans/%lld/annexes/2025"};
	for (size_t i = 0; i < sizeof gets / sizeof *gets; i++) {
		PATH(path, gets[i], (long long)plan);
		client_get(o, path, &r);
		if (r.status != 404)
			fail_msg("%s: %ld", path, r.status);
		assert_false(has(&r, "secrète"));
		resp_free(&r);
		if (strstr(path, "/annexes")) {
			client_get(anon, path, &r);
			if (r.status != 404)
				fail_msg("anonymous %s: %ld", path, r.status);
			resp_free(&r);
		}
	}
	const char *posts[] = {"/plans/%lld/propositions/nouvelle",
	                       "/plans/%lld/cycle/2026/cloturer"};
	for (size_t i = 0; i < sizeof posts / sizeof *posts; i++) {
		PATH(path, posts[i], (long long)plan);
		assert_int_equal(post_web(o, path, NULL), 404);
	}
	const char *on_proposal[] = {"/propositions/%lld/cotech", "/propositions/%lld/copil",
	                             "/propositions/%lld/reporter"};
	for (size_t i = 0; i < sizeof on_proposal / sizeof *on_proposal; i++) {
		PATH(path, on_proposal[i], (long long)open);
		assert_int_equal(post_web(o, path, NULL), 404);
	}
	const char *api_posts[] = {"/api/v1/proposals/%lld/cotech", "/api/v1/proposals/%lld/copil",
	                           "/api/v1/proposals/%lld/postpone"};
	for (size_t i = 0; i < sizeof api_posts / sizeof *api_posts; i++) {
		PATH(path, api_posts[i], (long long)open);
		assert_int_equal(api_post(o, path, "{\"opinion\":\"favorable\"}", NULL), 404);
	}
	PATH(path, "/api/v1/plans/%lld/proposals", (long long)plan);
	assert_int_equal(api_post(o, path, "{\"title\":\"Intrusion\",\"year\":2026}", NULL), 404);
	PATH(path, "/api/v1/plans/%lld/cycle/2026/close", (long long)plan);
	assert_int_equal(api_post(o, path, "{}", NULL), 404);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE plan_id = ? AND "
	                           "cotech_opinion IS NOT NULL",
	                           plan),
	                 1);
	client_free(anon);
	client_free(o);
}

/* --- hostile input and validation ---------------------------------------------------------------
 */

static void test_hostile_title_is_escaped(void **state)
{
	(void)state;
	const char *hostile = "<script>alert(\"x\")</script>' OR 1=1 --";
	int64_t plans = query_int("SELECT COUNT(*) FROM plans WHERE id > ?", 0);
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, hostile, 2022, NULL, NULL), 303);
	int64_t pid = proposal_by_title(hostile);
	assert_true(pid > 0);
	assert_int_equal(query_int("SELECT COUNT(*) FROM plans WHERE id > ?", 0), plans);
	char cycle[96];
	PATH(cycle, "/plans/%lld/cycle?annee=2022", (long long)PLAN);
	struct resp r;
	client_get(COORD, cycle, &r);
	assert_int_equal(r.status, 200);
	assert_false(has(&r, "<script>alert"));
	assert_true(has(&r, "&lt;script&gt;alert("));
	resp_free(&r);
	/* A hostile comment too. */
	assert_int_equal(decide_web(COORD, pid, "cotech", "reserve", "2022-05-05",
	                            "<img src=x onerror=alert(1)>", NULL),
	                 303);
	client_get(READER, cycle, &r);
	assert_false(has(&r, "<img src=x"));
	assert_true(has(&r, "&lt;img src=x"));
	resp_free(&r);
	char api[128];
	PATH(api, "/api/v1/plans/%lld/proposals?year=2022", (long long)PLAN);
	client_get(READER, api, &r);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(j, "proposals"), 0), "title")),
	                    hostile);
	json_decref(j);
	resp_free(&r);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	int64_t before = query_int("SELECT COUNT(*) FROM proposals WHERE id > ?", 0);
	struct resp r;
	/* empty title */
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "   ", 2025, NULL, &r), 422);
	assert_true(has(&r, "Intitulé"));
	assert_true(has(&r, "notice-error"));
	assert_true(has(&r, "Jeunes de 16 à 25 ans")); /* typed values kept */
	resp_free(&r);
	/* 301 characters (accented: counted as characters, not bytes) */
	char long_title[700] = "";
	for (int i = 0; i < 301; i++)
		strcat(long_title, "é");
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, long_title, 2025, NULL, NULL), 422);
	char ok_title[700] = "";
	for (int i = 0; i < 300; i++)
		strcat(ok_title, "é");
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, ok_title, 2021, NULL, NULL), 303);
	/* a title on several lines */
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "Deux\nlignes", 2025, NULL, NULL), 422);
	/* years out of the plan's period ±1 */
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "Trop tôt", 2020, NULL, NULL), 422);
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "Trop tard", 2028, NULL, &r), 422);
	assert_true(has(&r, "entre 2021 et 2027"));
	resp_free(&r);
	/* a parent of another plan, a parent that is a fiche, garbage */
	int64_t foreign = query_int("SELECT MIN(id) FROM nodes WHERE plan_id <> ?", PLAN);
	assert_int_equal(propose_web(PARTNER, PLAN, foreign, "Ailleurs", 2025, NULL, NULL), 422);
	int64_t fiche = query_int("SELECT MIN(node_id) FROM proposals WHERE plan_id = ?", PLAN);
	assert_int_equal(propose_web(PARTNER, PLAN, fiche, "Sous une fiche", 2025, NULL, NULL),
	                 422);
	assert_int_equal(
	    propose_web(PARTNER, PLAN, PARENT, "Pilote inconnu", 2025, "pilots=999999", NULL), 422);
	assert_int_equal(propose_web(PARTNER, PLAN, PARENT, "Pilote bizarre", 2025,
	                             "pilots=%27+OR+1%3D1+--", NULL),
	                 422);
	/* SQL metacharacters in the year field */
	char path[96];
	PATH(path, "/plans/%lld/propositions/nouvelle", (long long)PLAN);
	client_submit(PARTNER, path, path, "title=Ann%C3%A9e&year=2025%27+OR+1%3D1+--", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE id > ?", 0), before + 1);

	/* Decisions: unknown opinion, bad date, long comment. */
	int64_t pid = proposal_by_title(ok_title);
	assert_int_equal(decide_web(COORD, pid, "cotech", "excellent", "2025-01-01", "", NULL),
	                 422);
	assert_int_equal(
	    decide_web(COORD, pid, "cotech", "favorable", "2025-02-30", "texte gardé", &r), 422);
	assert_true(has(&r, "date"));
	assert_true(has(&r, "texte gardé"));
	resp_free(&r);
	char long_comment[6000];
	memset(long_comment, 'x', 5001);
	long_comment[5001] = '\0';
	assert_int_equal(
	    decide_web(COORD, pid, "cotech", "favorable", "2025-01-01", long_comment, NULL), 422);
	assert_int_equal(query_int("SELECT COUNT(*) FROM proposals WHERE id = ? AND cotech_opinion "
	                           "IS NULL",
	                           pid),
	                 1);
	/* API shapes */
	char api[96];
	PATH(api, "/api/v1/plans/%lld/proposals", (long long)PLAN);
	assert_int_equal(api_post(PARTNER, api, "[1,2]", NULL), 422);
	assert_int_equal(api_post(PARTNER, api, "{\"title\":42}", NULL), 422);
	assert_int_equal(api_post(PARTNER, api, "pas du json", NULL), 400);
	PATH(api, "/api/v1/proposals/%lld/copil", (long long)pid);
	assert_int_equal(api_post(COORD, api, "{\"decision\":7}", NULL), 422);
	/* Bad years in addresses */
	char cycle[96];
	PATH(cycle, "/plans/%lld/cycle?annee=20x5", (long long)PLAN);
	assert_int_equal(get_status(READER, cycle), 400);
	PATH(cycle, "/plans/%lld/annexes/abcd.csv", (long long)PLAN);
	assert_int_equal(get_status(READER, cycle), 404);
	PATH(cycle, "/plans/%lld/annexes/2099", (long long)PLAN);
	assert_int_equal(get_status(READER, cycle), 404);
	assert_int_equal(get_status(READER, "/propositions/999999/cotech"), 405);
	assert_int_equal(post_web(COORD, "/propositions/999999/cotech", NULL), 404);
}

/* --- CSV
 * ------------------------------------------------------------------------------------------ */

static void test_annex_csv_format(void **state)
{
	(void)state;
	const char *title = "Ateliers \"parents; enfants\" du mercredi";
	int64_t pid = propose_api(PARENT, title, 2023);
	assert_int_equal(decide_api(pid, "cotech", "favorable"), 200);
	assert_int_equal(decide_api(pid, "copil", "retenue"), 200);
	char path[96];
	PATH(path, "/api/v1/plans/%lld/cycle/2023/close", (long long)PLAN);
	assert_int_equal(api_post(COORD, path, "{}", NULL), 201);
	PATH(path, "/plans/%lld/annexes/2023.csv", (long long)PLAN);
	struct resp r;
	client_get(READER, path, &r);
	assert_int_equal(r.status, 200);
	char *ct = resp_get_header(&r, "Content-Type");
	assert_non_null(strstr(ct, "text/csv"));
	free(ct);
	char *cd = resp_get_header(&r, "Content-Disposition");
	assert_non_null(strstr(cd, "attachment"));
	free(cd);
	const char *b = buf_str(&r.body);
	assert_memory_equal(b, "\xEF\xBB\xBF", 3);
	const char *header = "Numéro;Intitulé;Axe ou orientation;Pilotes;Statut;Avancement;"
	                     "Nouvelle\r\n";
	assert_memory_equal(b + 3, header, strlen(header));
	assert_true(has(&r, ";\"Ateliers \"\"parents; enfants\"\" du mercredi\";"));
	assert_true(has(&r, ";Retenue;Non engagée;oui\r\n"));
	/* Every line ends with CRLF. */
	for (size_t i = 0; i < r.body.len; i++)
		if (b[i] == '\n')
			assert_true(i > 0 && b[i - 1] == '\r');
	assert_true(r.body.len > 2 && b[r.body.len - 1] == '\n');
	/* A fiche retained for a later year is not carried into this one. */
	assert_false(has(&r, "Titre changé après le vote"));
	resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_path_into_the_frozen_annex),
	    cmocka_unit_test(test_adjourned_then_postponed),
	    cmocka_unit_test(test_refused_is_archived),
	    cmocka_unit_test(test_copil_needs_cotech),
	    cmocka_unit_test(test_closing_refused_with_undecided_proposals),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_private_plan_is_invisible),
	    cmocka_unit_test(test_hostile_title_is_escaped),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_annex_csv_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
