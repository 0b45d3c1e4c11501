/* test_http_needs: the observatory of needs over HTTP on the demo database — list and page,
 * record and edit with validation, hostile input, permissions, links to fiches (private plans
 * never leak), the "besoins non couverts" view, public proposals and moderation, CSRF, CSV
 * import (all or nothing), and the demonstration needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo_needs.h"
#include "harness.h"
#include "http.h"
#include "needs.h"
#include "users.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "maillage-demo"
#define ADMIN    "admin@demo.maillage.fr"
#define COORD    "coordination@demo.maillage.fr"
#define PILOT    "pilote@demo.maillage.fr"
#define PARTNER  "partenaire@demo.maillage.fr"
#define READER   "lecture@demo.maillage.fr"
#define OUTSIDER "coord-b@example.org" /* coordinator of the private plan B only */
#define SECRET   "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_a, plan_b, fiche_a, fiche_a2, fiche_b;

/* --- helpers ------------------------------------------------------------------------------- */

static int64_t insert(struct db *db, const char *sql, const char *types, ...)
{
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

static int64_t count_sql(const char *sql, const char *arg)
{
	struct db *db = th_db(&T);
	int64_t n = -1;
	if (arg)
		db_int64f(db, &n, sql, "s", arg);
	else
		db_int64f(db, &n, sql, "");
	db_close(db);
	return n;
}

static int64_t need_id(const char *title)
{
	return count_sql("SELECT COALESCE(MAX(id), 0) FROM needs WHERE title = ?", title);
}

static void assert_has(const struct resp *r, const char *needle)
{
	if (!strstr(buf_str(&r->body), needle))
		fail_msg("expected '%s' in the body (status %ld)", needle, r->status);
}

static void assert_lacks(const struct resp *r, const char *needle)
{
	if (strstr(buf_str(&r->body), needle))
		fail_msg("did not expect '%s' in the body (status %ld)", needle, r->status);
}

/* s percent-encoded for a form body (malloc'ed). */
static char *enc(const char *s)
{
	struct buf b = {0};
	buf_url(&b, s);
	buf_puts(&b, "");
	return buf_steal(&b);
}

static struct client *login(const char *email)
{
	struct client *c = client_new(&T);
	const char *pw = strcmp(email, OUTSIDER) ? PASSWORD : "mot-de-passe-test";
	if (client_login(c, email, pw) != 303)
		fail_msg("login %s failed", email);
	return c;
}

static void get(struct client *c, const char *path, struct resp *r)
{
	client_get(c, path, r);
}

static char *path_of(const char *fmt, int64_t a, int64_t b)
{
	return xasprintf(fmt, (long long)a, (long long)b);
}

/* Submit the need form at `path` with the given title and other fields. */
static void submit_need(struct client *c, const char *form, const char *path, const char *title,
                        const char *rest, struct resp *out)
{
	char *t = enc(title);
	char *body = xasprintf("title=%s&%s", t, rest);
	client_submit(c, form, path, body, out);
	free(body);
	free(t);
}

/* --- fixtures ------------------------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	db_int64f(db, &plan_a,
	          "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1", "");
	db_int64f(db, &fiche_a,
	          "SELECT MIN(f.node_id) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	          "WHERE n.plan_id = ?",
	          "I", plan_a);
	db_int64f(db, &fiche_a2,
	          "SELECT MAX(f.node_id) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	          "WHERE n.plan_id = ?",
	          "I", plan_a);
	/* A private plan B with one fiche, and its coordinator who is nothing on plan A. */
	plan_b =
	    insert(db,
	           "INSERT INTO plans (kind, title, description, is_public, start_year, "
	           "end_year, created_at, updated_at) VALUES ('projet_social', ?, '', 0, 2024, "
	           "2027, 'x', 'x') RETURNING id",
	           "s", SECRET " (plan)");
	int64_t axis =
	    insert(db,
	           "INSERT INTO nodes (plan_id, position, depth, number, title, created_at, "
	           "updated_at) VALUES (?, 1, 0, '1', 'Axe B', 'x', 'x') RETURNING id",
	           "I", plan_b);
	fiche_b = insert(db,
	                 "INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, "
	                 "created_at, updated_at) VALUES (?, ?, 1, 1, '1.1', ?, 'x', 'x') "
	                 "RETURNING id",
	                 "IIs", plan_b, axis, SECRET " (fiche)");
	insert(db,
	       "INSERT INTO fiches (node_id, status, progress) VALUES (?, 'proposee', "
	       "'non_engagee')",
	       "I", fiche_b);
	char *err = NULL;
	int64_t uid = 0;
	if (user_create(db, OUTSIDER, "Coordination B", "coordinator", "mot-de-passe-test", 0,
	                "cli", &uid, &err))
		fail_msg("user_create: %s", err);
	insert(db, "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, 'coordinator')",
	       "II", plan_b, uid);
	/* The demo needs, unless the demo loader already has them. */
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM needs", "");
	if (!n && demo_needs_load(db, &err))
		fail_msg("demo_needs_load: %s", err);
	db_close(db);
	assert_true(plan_a > 0 && fiche_a > 0 && fiche_a2 > fiche_a);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- tests --------------------------------------------------------------------------------- */

static void test_demo_needs(void **state)
{
	(void)state;
	assert_true(count_sql("SELECT COUNT(*) FROM needs", NULL) >= 12);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE description NOT LIKE "
	                           "'%besoin de démonstration inspiré%'",
	                           NULL),
	                 0);
	/* Some linked to fiches of the Crestois plan, some left open without a fiche. */
	assert_true(count_sql("SELECT COUNT(DISTINCT need_id) FROM need_fiches", NULL) >= 4);
	assert_true(count_sql("SELECT COUNT(*) FROM needs n WHERE status NOT IN ('couvert', "
	                      "'abandonne') AND NOT EXISTS (SELECT 1 FROM need_fiches f WHERE "
	                      "f.need_id = n.id)",
	                      NULL) >= 4);
	assert_true(count_sql("SELECT COUNT(*) FROM need_communes", NULL) >= 20);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE search_title = ''", NULL), 0);
	assert_true(count_sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'need'", NULL) >= 12);
}

static void test_list_and_page(void **state)
{
	(void)state;
	struct client *anon = client_new(&T);
	struct resp r;
	get(anon, "/besoins", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Observatoire des besoins");
	assert_has(&r, "Places d&#39;accueil du jeune enfant insuffisantes à Saillans");
	assert_lacks(&r, "Enregistrer un besoin");
	resp_free(&r);
	/* Filters: thematic, source, status, priority, commune, EPCI, folded text search. */
	get(anon, "/besoins?theme=jeunesse", &r);
	assert_has(&r, "Accueil spécifique des 12-14 ans");
	assert_lacks(&r, "Répit parental");
	resp_free(&r);
	get(anon, "/besoins?q=REPIT%20parental", &r);
	assert_has(&r, "Répit parental pour les familles");
	assert_lacks(&r, "12-14 ans");
	resp_free(&r);
	get(anon, "/besoins?commune=26289", &r);
	assert_has(&r, "insuffisantes à Saillans");
	assert_lacks(&r, "Répit parental");
	resp_free(&r);
	get(anon, "/besoins?epci=242600534&priority=1", &r);
	assert_has(&r, "Actions pour les jeunes partout sur le territoire du Diois");
	assert_lacks(&r, "Répit parental");           /* priority 2 */
	assert_lacks(&r, "insuffisantes à Saillans"); /* Crestois */
	resp_free(&r);
	get(anon, "/besoins?source=spiral&status=identifie", &r);
	assert_has(&r, "Lieu de rencontre entre habitants");
	assert_lacks(&r, "Répit parental");
	resp_free(&r);
	get(anon, "/besoins?source=%3Cscript%3E", &r);
	assert_int_equal(r.status, 400);
	assert_lacks(&r, "<script>");
	resp_free(&r);

	int64_t id = need_id("Places d'accueil du jeune enfant insuffisantes à Saillans");
	char *p = path_of("/besoins/%lld", id, 0);
	get(anon, p, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "besoin de démonstration inspiré");
	assert_has(&r, "/communes/26289");
	assert_has(&r, "Transplantation et développement de la crèche de Saillans");
	assert_lacks(&r, "Enregistré par"); /* never to the public */
	assert_lacks(&r, "Lier une fiche-action");
	resp_free(&r);
	struct client *reader = login(READER);
	get(reader, p, &r);
	assert_has(&r, "Enregistré par");
	assert_lacks(&r, "Lier une fiche-action");
	resp_free(&r);
	free(p);
	get(anon, "/besoins/999999", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(anon, "/besoins/abc", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(reader);
	client_free(anon);
}

static void test_create_edit_validation(void **state)
{
	(void)state;
	struct client *c = login(PILOT);
	int64_t before = count_sql("SELECT COUNT(*) FROM needs", NULL);
	const char *ok_rest = "source=habitants&theme=parentalite&public=Parents&communes=26108"
	                      "+26011&observed_on=2025-03-04&priority=1&status=identifie"
	                      "&description=Un+**besoin**&evidence=Enqu%C3%AAte+2025";
	struct resp r;
	/* Invalid inputs: 422, the form again with what was typed, nothing stored. */
	const char *bad[][2] = {
	    {"", "source=habitants"},
	    {"Titre", "source=inconnue"},
	    {"Titre", "source=habitants&observed_on=2025-02-30"},
	    {"Titre", "source=habitants&communes=99999"},
	    {"Titre", "source=habitants&communes=abc"},
	    {"Titre", "source=habitants&priority=4"},
	    {"Titre", "source=habitants&status=fini"},
	    {"Titre", "source=habitants&theme=cuisine"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		submit_need(c, "/besoins/nouveau", "/besoins/nouveau", bad[i][0], bad[i][1], &r);
		if (r.status != 422)
			fail_msg("case %zu: status %ld", i, r.status);
		assert_has(&r, "notice-error");
		resp_free(&r);
	}
	char longtitle[400];
	memset(longtitle, 'a', 301);
	longtitle[301] = '\0';
	submit_need(c, "/besoins/nouveau", "/besoins/nouveau", longtitle, "source=habitants", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	submit_need(c, "/besoins/nouveau", "/besoins/nouveau", "Garde <b>d'enfants</b>",
	            "source=inconnue&public=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;"); /* kept, escaped */
	assert_lacks(&r, "<script>alert(1)");
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before);

	/* Hostile but valid input is stored as text and comes back escaped. */
	const char *hostile = "<script>alert('x')</script>' OR 1=1 --";
	submit_need(c, "/besoins/nouveau", "/besoins/nouveau", hostile, ok_rest, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t id = need_id(hostile);
	assert_true(id > 0);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before + 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_communes WHERE need_id = "
	                           "(SELECT MAX(id) FROM needs)",
	                           NULL),
	                 2);
	assert_int_equal(
	    count_sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'need' AND "
	              "action = 'create' AND entity_id = (SELECT CAST(MAX(id) AS TEXT) "
	              "FROM needs)",
	              NULL),
	    1);
	char *p = path_of("/besoins/%lld", id, 0);
	get(c, p, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>alert");
	assert_has(&r, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	assert_has(&r, "<strong>besoin</strong>"); /* Markdown */
	assert_has(&r, "Paul Pilote");             /* who recorded it, to members */
	resp_free(&r);
	/* Folded search key. */
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE search_title LIKE "
	                           "'%script%' AND title = ?",
	                           hostile),
	                 1);

	/* Edit: the status changes, audited with before and after. */
	char *edit = path_of("/besoins/%lld/modifier", id, 0);
	get(c, edit, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "26011 26108");
	resp_free(&r);
	submit_need(c, edit, edit, "Garde d'enfants le samedi",
	            "source=habitants&status=qualifie&priority=3&communes=26113", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE title = ? AND status = "
	                           "'qualifie' AND priority = 3",
	                           "Garde d'enfants le samedi"),
	                 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_communes nc JOIN needs n ON n.id = "
	                           "nc.need_id WHERE n.title = ?",
	                           "Garde d'enfants le samedi"),
	                 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'need' AND "
	                           "action = 'update' AND before_json LIKE '%identifie%' AND "
	                           "after_json LIKE ?",
	                           "%qualifie%"),
	                 1);
	free(edit);
	free(p);
	client_free(c);
}

static void test_create_permissions(void **state)
{
	(void)state;
	int64_t before = count_sql("SELECT COUNT(*) FROM needs", NULL);
	struct resp r;
	const char *accounts[] = {READER, PARTNER};
	for (size_t i = 0; i < 2; i++) {
		struct client *c = login(accounts[i]);
		get(c, "/besoins/nouveau", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		submit_need(c, "/besoins", "/besoins/nouveau", "Besoin pirate", "source=habitants",
		            &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		int64_t id = need_id("Répit parental pour les familles");
		char *edit = path_of("/besoins/%lld/modifier", id, 0);
		submit_need(c, "/besoins", edit, "Besoin pirate", "source=habitants", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		free(edit);
		client_free(c);
	}
	struct client *anon = client_new(&T);
	get(anon, "/besoins/nouveau", &r);
	assert_true(r.status != 200);
	resp_free(&r);
	submit_need(anon, "/besoins", "/besoins/nouveau", "Besoin pirate", "source=habitants", &r);
	assert_true(r.status != 200);
	resp_free(&r);
	client_free(anon);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before);
	assert_int_equal(
	    count_sql("SELECT COUNT(*) FROM needs WHERE title = 'Besoin pirate'", NULL), 0);
}

static void test_links(void **state)
{
	(void)state;
	int64_t id = need_id("Répit parental pour les familles");
	char *link = path_of("/besoins/%lld/fiches", id, 0);
	char *page = path_of("/besoins/%lld", id, 0);
	struct resp r;
	char body[64];

	/* The coordinator of plan B (private) cannot link a fiche of plan A, and the coordinator
	 * of plan A cannot link (nor see) the fiche of plan B. */
	struct client *outsider = login(OUTSIDER);
	snprintf(body, sizeof body, "fiche=%lld", (long long)fiche_a);
	client_submit(outsider, page, link, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	struct client *coord = login(COORD);
	snprintf(body, sizeof body, "fiche=%lld", (long long)fiche_b);
	client_submit(coord, page, link, body, &r);
	assert_int_equal(r.status, 404);
	assert_lacks(&r, SECRET);
	resp_free(&r);
	get(coord, page, &r);
	assert_lacks(&r, SECRET); /* not offered either */
	resp_free(&r);
	/* The pilot of plan A is not its coordinator. */
	struct client *pilot = login(PILOT);
	snprintf(body, sizeof body, "fiche=%lld", (long long)fiche_a);
	client_submit(pilot, page, link, body, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_fiches WHERE need_id = "
	                           "(SELECT id FROM needs WHERE title = ?)",
	                           "Répit parental pour les familles"),
	                 0);

	/* The coordinator of plan A links a fiche of plan A. */
	get(coord, page, &r);
	assert_has(&r, "Lier une fiche-action");
	resp_free(&r);
	snprintf(body, sizeof body, "fiche=%lld", (long long)fiche_a);
	client_submit(coord, page, link, body, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'need' AND "
	                           "action = 'link_fiche'",
	                           NULL),
	                 1);
	/* The coordinator of plan B links the fiche of plan B. */
	snprintf(body, sizeof body, "fiche=%lld", (long long)fiche_b);
	client_submit(outsider, page, link, body, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_fiches WHERE need_id = "
	                           "(SELECT id FROM needs WHERE title = ?)",
	                           "Répit parental pour les familles"),
	                 2);

	/* Private plan fiches never listed for outsiders; the members of plan B see theirs. */
	struct client *anon = client_new(&T);
	struct client *who[] = {anon, coord, pilot};
	for (size_t i = 0; i < 3; i++) {
		get(who[i], page, &r);
		assert_int_equal(r.status, 200);
		assert_lacks(&r, SECRET);
		resp_free(&r);
	}
	get(outsider, page, &r);
	assert_has(&r, SECRET " (fiche)");
	resp_free(&r);
	struct client *admin = login(ADMIN);
	get(admin, page, &r);
	assert_has(&r, SECRET " (fiche)");
	resp_free(&r);

	/* Unlinking: the coordinator of plan A cannot remove plan B's link; it removes its own. */
	char *un_b = path_of("/besoins/%lld/fiches/%lld/retirer", id, fiche_b);
	char *un_a = path_of("/besoins/%lld/fiches/%lld/retirer", id, fiche_a);
	client_submit(coord, page, un_b, "x=1", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_submit(pilot, page, un_a, "x=1", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_submit(coord, page, un_a, "x=1", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_submit(outsider, page, un_b, "x=1", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_fiches WHERE need_id = "
	                           "(SELECT id FROM needs WHERE title = ?)",
	                           "Répit parental pour les familles"),
	                 0);
	/* Bad fiche values. */
	client_submit(coord, page, link, "fiche=abc", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_submit(coord, page, link, "fiche=999999", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	free(un_a);
	free(un_b);
	free(link);
	free(page);
	client_free(admin);
	client_free(anon);
	client_free(pilot);
	client_free(coord);
	client_free(outsider);
}

static void test_uncovered(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	const char *ins = "INSERT INTO needs (title, source, status, moderation, thematic_tag_id, "
	                  "search_title, created_at, updated_at) VALUES (?, 'habitants', ?, ?, "
	                  "(SELECT id FROM tags WHERE slug = 'logement' AND plan_id IS NULL), "
	                  "'x', 'x', 'x') RETURNING id";
	int64_t open = insert(db, ins, "sss", "Fixture ouverte sans fiche", "qualifie", "publie");
	int64_t linked = insert(db, ins, "sss", "Fixture liée", "identifie", "publie");
	insert(db, ins, "sss", "Fixture couverte", "couvert", "publie");
	insert(db, ins, "sss", "Fixture abandonnée", "abandonne", "publie");
	insert(db, ins, "sss", "Fixture à modérer", "identifie", "a_moderer");
	int64_t privlinked = insert(db, ins, "sss", "Fixture liée en privé", "identifie", "publie");
	insert(db, "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?)", "II", linked,
	       fiche_a);
	insert(db, "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?)", "II", privlinked,
	       fiche_b);
	insert(db, "INSERT INTO need_communes (need_id, commune) VALUES (?, '26108')", "I", open);
	int64_t expected = 0;
	db_int64f(db, &expected,
	          "SELECT COUNT(*) FROM needs n WHERE moderation = 'publie' AND status NOT IN "
	          "('couvert', 'abandonne') AND NOT EXISTS (SELECT 1 FROM need_fiches f WHERE "
	          "f.need_id = n.id)",
	          "");
	int64_t logement = 0;
	db_int64f(
	    db, &logement,
	    "SELECT COUNT(*) FROM needs n JOIN tags t ON t.id = n.thematic_tag_id WHERE "
	    "t.slug = 'logement' AND moderation = 'publie' AND status NOT IN ('couvert', "
	    "'abandonne') AND NOT EXISTS (SELECT 1 FROM need_fiches f WHERE f.need_id = n.id)",
	    "");
	db_close(db);
	struct client *anon = client_new(&T);
	struct resp r;
	get(anon, "/besoins/non-couverts", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Fixture ouverte sans fiche");
	assert_lacks(&r, "Fixture liée");
	assert_lacks(&r, "Fixture couverte");
	assert_lacks(&r, "Fixture abandonnée");
	assert_lacks(&r, "Fixture à modérer");
	assert_lacks(&r, SECRET);
	char want[128];
	snprintf(want, sizeof want, "<strong>%lld</strong>", (long long)expected);
	assert_has(&r, want);
	snprintf(want, sizeof want, "<th scope=\"row\">Logement</th><td>%lld</td>",
	         (long long)logement);
	assert_has(&r, want);
	assert_has(&r, "href=\"/epcis/200040509\"");
	assert_has(&r, "Actions pour les jeunes partout sur le territoire du Diois");
	assert_lacks(&r, "Places d&#39;accueil du jeune enfant"); /* linked demo need */
	assert_lacks(&r, "Transport à la demande");               /* abandoned */
	resp_free(&r);
	client_free(anon);
}

static void test_public_proposal_and_moderation(void **state)
{
	(void)state;
	struct client *anon = client_new(&T);
	struct resp r;
	get(anon, "/public/besoins/proposer", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Aucune donnée personnelle");
	assert_lacks(&r, "name=\"email\"");
	resp_free(&r);
	/* Bad inputs: 422, nothing stored. */
	int64_t before = count_sql("SELECT COUNT(*) FROM needs", NULL);
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=&description=x", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Un+besoin&communes=00000", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	/* CSRF required even for anonymous proposals. */
	const char *nocsrf = "title=Sans+jeton";
	client_post(anon, "/public/besoins/proposer", NULL, nocsrf, strlen(nocsrf), &r);
	assert_true(r.status == 403 || r.status == 400);
	resp_free(&r);
	const char *badcsrf = "title=Sans+jeton&_csrf=0000";
	client_post(anon, "/public/besoins/proposer", NULL, badcsrf, strlen(badcsrf), &r);
	assert_true(r.status == 403 || r.status == 400);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before);

	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Un+banc+%3Cb%3Eombrag%C3%A9%3C%2Fb%3E+au+parc&description=Pour+les+"
	              "anciens&communes=26108&theme=animation-vie-sociale",
	              &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	const char *title = "Un banc <b>ombragé</b> au parc";
	int64_t id = need_id(title);
	assert_true(id > 0);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE title = ? AND moderation = "
	                           "'a_moderer' AND source = 'habitants' AND recorded_by IS NULL",
	                           title),
	                 1);
	char *page = path_of("/besoins/%lld", id, 0);
	get(anon, page, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(anon, "/besoins?q=banc", &r);
	assert_lacks(&r, "ombrag");
	resp_free(&r);
	struct client *reader = login(READER);
	get(reader, page, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(reader, "/besoins/moderation", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	char *mod = path_of("/besoins/%lld/moderer", id, 0);
	client_submit(reader, "/besoins", mod, "decision=publier", &r);
	assert_true(r.status == 403 || r.status == 404);
	resp_free(&r);

	struct client *coord = login(COORD);
	get(coord, "/besoins/moderation", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Un banc &lt;b&gt;ombragé&lt;/b&gt; au parc");
	resp_free(&r);
	get(coord, page, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Proposition d&#39;un habitant");
	resp_free(&r);
	client_submit(coord, "/besoins/moderation", mod, "decision=peut-etre", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	client_submit(coord, "/besoins/moderation", mod, "decision=publier", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	get(anon, page, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Un banc &lt;b&gt;ombragé&lt;/b&gt; au parc");
	assert_lacks(&r, "<b>ombrag");
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE entity = 'need' AND "
	                           "action = 'moderate' AND after_json LIKE ?",
	                           "%publie%"),
	                 1);

	/* The commune may be given by its name, folded; an unknown name is refused. */
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Besoin+nomm%C3%A9&communes=aouste+SUR+sye", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_communes nc JOIN needs n ON n.id = "
	                           "nc.need_id WHERE n.title = ? AND nc.commune = '26011'",
	                           "Besoin nommé"),
	                 1);
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Besoin+perdu&communes=%3Cscript%3EVille", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "« &lt;script&gt;Ville »");
	resp_free(&r);
	assert_int_equal(need_id("Besoin perdu"), 0);

	/* A rejected proposal stays invisible. */
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Proposition+hors+sujet", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t id2 = need_id("Proposition hors sujet");
	char *mod2 = path_of("/besoins/%lld/moderer", id2, 0);
	client_submit(coord, "/besoins/moderation", mod2, "decision=rejeter", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	char *page2 = path_of("/besoins/%lld", id2, 0);
	get(anon, page2, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(coord, "/besoins/moderation", &r);
	assert_lacks(&r, "Proposition hors sujet");
	resp_free(&r);

	/* The rate limit: above 50 proposals awaiting moderation in the hour, refused. */
	struct db *db = th_db(&T);
	char now[32];
	time_iso_now(now);
	for (int i = 0; i < 50; i++)
		insert(db,
		       "INSERT INTO needs (title, source, moderation, created_at, updated_at) "
		       "VALUES ('flot', 'habitants', 'a_moderer', ?, ?)",
		       "ss", now, now);
	db_close(db);
	client_submit(anon, "/public/besoins/proposer", "/public/besoins/proposer",
	              "title=Une+de+trop", &r);
	assert_int_equal(r.status, 429);
	assert_has(&r, "réessayez");
	resp_free(&r);
	assert_int_equal(need_id("Une de trop"), 0);
	db = th_db(&T);
	db_execf(db, "DELETE FROM needs WHERE title = 'flot'", "");
	db_close(db);

	free(page);
	free(page2);
	free(mod);
	free(mod2);
	client_free(coord);
	client_free(reader);
	client_free(anon);
}

static void test_csv_import(void **state)
{
	(void)state;
	const char *good =
	    "titre;description;source;thematique;public;communes;date;priorite;statut\n"
	    "Import un;\"Avec ; point-virgule et \"\"guillemets\"\"\";enquete;"
	    "jeunesse;Jeunes;26108|26011;2025-01-15;1;identifie\r\n"
	    "Import deux;;statistiques;;;;;;\n";
	const char *bad =
	    "titre;description;source;thematique;public;communes;date;priorite;statut\n"
	    "Import trois;;enquete;;;;;;\n"
	    "Import quatre;;rumeur;;;;;;\n"
	    "Import cinq;;enquete;;;26108|99999;;;\n"
	    "Import six;;enquete;;;;2025-13-01;;\n";
	int64_t before = count_sql("SELECT COUNT(*) FROM needs", NULL);
	struct resp r;
	/* Pilots cannot import. */
	struct client *pilot = login(PILOT);
	get(pilot, "/besoins/importer", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(pilot);

	struct client *coord = login(COORD);
	char *t = enc(bad);
	char *body = xasprintf("texte=%s", t);
	client_submit(coord, "/besoins/importer", "/besoins/importer", body, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 3, colonne « source »");
	assert_has(&r, "Ligne 4, colonne « communes »");
	assert_has(&r, "99999");
	assert_has(&r, "Ligne 5, colonne « date »");
	resp_free(&r);
	free(body);
	free(t);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before);

	/* A wrong header. */
	client_submit(coord, "/besoins/importer", "/besoins/importer",
	              "texte=nom%3Bsource%0AX%3Benquete", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 1");
	resp_free(&r);

	/* A misplaced quote (text after the closing quote) is named with its line and column. */
	client_submit(coord, "/besoins/importer", "/besoins/importer",
	              "texte=titre%0A%22Cr%C3%A8che%22x", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 2, colonne 9 : guillemet mal placé");
	resp_free(&r);

	/* Dry run: nothing stored. */
	t = enc(good);
	body = xasprintf("texte=%s&essai=1", t);
	client_submit(coord, "/besoins/importer", "/besoins/importer", body, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "2 besoin(s) seraient importés");
	resp_free(&r);
	free(body);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before);

	/* For real, as an uploaded file. */
	struct resp form;
	get(coord, "/besoins/importer", &form);
	char *tok = page_csrf_token(&form);
	resp_free(&form);
	assert_non_null(tok);
	char *mp = xasprintf("--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n"
	                     "--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; "
	                     "filename=\"besoins.csv\"\r\nContent-Type: text/csv\r\n\r\n%s\r\n"
	                     "--XyZ--\r\n",
	                     tok, good);
	client_post(coord, "/besoins/importer", "multipart/form-data; boundary=XyZ", mp, strlen(mp),
	            &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	free(mp);
	free(tok);
	free(t);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs", NULL), before + 2);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE description = ?",
	                           "Avec ; point-virgule et \"guillemets\""),
	                 1);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM need_communes nc JOIN needs n ON n.id = "
	                           "nc.need_id WHERE n.title = ?",
	                           "Import un"),
	                 2);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM needs WHERE title = ? AND priority = 2 "
	                           "AND status = 'identifie'",
	                           "Import deux"),
	                 1);
	client_free(coord);
}

static void test_fiche_section(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	const char *ins = "INSERT INTO needs (title, source, moderation, search_title, created_at, "
	                  "updated_at) VALUES (?, 'habitants', ?, 'x', 'x', 'x') RETURNING id";
	int64_t pub = insert(db, ins, "ss", "Section <i>publiée</i>", "publie");
	int64_t hidden = insert(db, ins, "ss", "Section en attente", "a_moderer");
	insert(db, "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?)", "II", pub, fiche_a2);
	insert(db, "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?)", "II", hidden,
	       fiche_a2);
	struct req r;
	memset(&r, 0, sizeof r);
	r.db = db;
	needs_for_fiche_section(&r, fiche_a2);
	const char *html = buf_str(&r.out);
	assert_non_null(strstr(html, "Besoins auxquels répond cette fiche"));
	assert_non_null(strstr(html, "Section &lt;i&gt;publiée&lt;/i&gt;"));
	char *href = path_of("href=\"/besoins/%lld\"", pub, 0);
	assert_non_null(strstr(html, href));
	free(href);
	assert_null(strstr(html, "<i>"));
	assert_null(strstr(html, "Section en attente"));
	buf_reset(&r.out);
	needs_for_fiche_section(&r, 999999); /* nothing linked */
	assert_non_null(strstr(buf_str(&r.out), "Aucun besoin"));
	buf_free(&r.out);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_needs),
	    cmocka_unit_test(test_list_and_page),
	    cmocka_unit_test(test_create_edit_validation),
	    cmocka_unit_test(test_create_permissions),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_uncovered),
	    cmocka_unit_test(test_public_proposal_and_moderation),
	    cmocka_unit_test(test_csv_import),
	    cmocka_unit_test(test_fiche_section),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
