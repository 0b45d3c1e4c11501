/* test_http_plan_edit: creating and editing plans, the tree editor (add, move, indent, delete,
 * tags, fiche flag), node pages, members and invitations, and the JSON API for the same — over
 * HTTP on the demo database, with bad inputs and every role that must be refused. */
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

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "mot-de-passe-test"

/* A plan form that passes every check; the title and visibility are added by the caller. */
#define PLAN_FIELDS                                                                                \
	"kind=schema&start_year=2024&end_year=2028&description=Texte+gard%C3%A9+**gras**"          \
	"&levels=Axe%0D%0AObjectif%0D%0AAction&territory=200040509+26108"                          \
	"&signatories=caf+de+la+drome%0D%0ACommune+d%27Aouste-sur-Sye"

static struct th T;

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- helpers ------------------------------------------------------------------------------- */

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

static void assert_has(const struct resp *r, const char *needle)
{
	if (!has(r, needle))
		fail_msg("expected '%s' in the body (status %ld)", needle, r->status);
}

static void assert_lacks(const struct resp *r, const char *needle)
{
	if (has(r, needle))
		fail_msg("did not expect '%s' in the body (status %ld)", needle, r->status);
}

static void assert_status(const struct resp *r, long want, const char *what)
{
	if (r->status != want)
		fail_msg("%s: status %ld, expected %ld", what, r->status, want);
}

static int64_t make_user(const char *email, const char *role)
{
	struct db *db = th_db(&T);
	char *err = NULL;
	int64_t id = 0;
	if (user_create(db, email, "Personne de test", role, PW, 0, "cli", &id, &err))
		fail_msg("user_create: %s", err);
	db_close(db);
	return id;
}

static struct client *logged(const char *email, const char *password)
{
	struct client *c = client_new(&T);
	if (client_login(c, email, password) != 303)
		fail_msg("login of %s failed", email);
	return c;
}

/* POST a form as a logged-in client (the CSRF token comes from /compte). */
static void post(struct client *c, const char *path, const char *fields, struct resp *r)
{
	client_submit(c, "/compte", path, fields, r);
}

/* An integer from a query with at most one int64 parameter (id < 0: none). */
static int64_t q1(const char *sql, int64_t id)
{
	struct db *db = th_db(&T);
	int64_t v = -1;
	int rc = id < 0 ? db_int64f(db, &v, sql, "") : db_int64f(db, &v, sql, "I", id);
	if (rc != DB_OK && rc != DB_DONE)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_close(db);
	return v;
}

static int64_t q1s(const char *sql, const char *s)
{
	struct db *db = th_db(&T);
	int64_t v = -1;
	db_int64f(db, &v, sql, "s", s);
	db_close(db);
	return v;
}

static void exec1(const char *sql, int64_t id)
{
	struct db *db = th_db(&T);
	if (db_execf(db, sql, "I", id) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_close(db);
}

/* The number of a node, into out. */
static void number_of(int64_t id, char out[32])
{
	struct db *db = th_db(&T);
	struct db_stmt *st = db_queryf(db, "SELECT number FROM nodes WHERE id = ?", "I", id);
	if (!st || db_step(st) != DB_ROW)
		fail_msg("node %lld is missing", (long long)id);
	snprintf(out, 32, "%s", db_col_text(st, 0));
	db_finalize(st);
	db_close(db);
}

static void assert_number(int64_t id, const char *want)
{
	char got[32];
	number_of(id, got);
	if (strcmp(got, want))
		fail_msg("node %lld is numbered %s, expected %s", (long long)id, got, want);
}

/* The id after "#n" or after "/plans/" in the Location of a redirect. */
static int64_t location_id(const struct resp *r, const char *marker)
{
	char *loc = resp_get_header(r, "Location");
	if (!loc)
		fail_msg("no Location (status %ld)", r->status);
	const char *p = strstr(loc, marker);
	if (!p)
		fail_msg("'%s' not in Location %s", marker, loc);
	int64_t id = strtoll(p + strlen(marker), NULL, 10);
	free(loc);
	return id;
}

static void assert_location(const struct resp *r, const char *want)
{
	char *loc = resp_get_header(r, "Location");
	if (!loc || strcmp(loc, want))
		fail_msg("Location %s, expected %s", loc ? loc : "(none)", want);
	free(loc);
}

/* Create a plan through the form as `c`; returns its id. */
static int64_t create_plan(struct client *c, const char *title_enc, int public)
{
	char *fields = xasprintf("%s&title=%s&visibilite=%s", PLAN_FIELDS, title_enc,
	                         public ? "public" : "prive");
	struct resp r;
	post(c, "/plans/nouveau", fields, &r);
	assert_status(&r, 303, "create plan");
	int64_t id = location_id(&r, "/plans/");
	resp_free(&r);
	free(fields);
	return id;
}

/* Add a top-level node; returns its id. */
static int64_t add_root(struct client *c, int64_t plan, const char *title_enc)
{
	char path[64], *fields = xasprintf("title=%s", title_enc);
	snprintf(path, sizeof path, "/plans/%lld/arbre/ajouter", (long long)plan);
	struct resp r;
	post(c, path, fields, &r);
	assert_status(&r, 303, "add root");
	int64_t id = location_id(&r, "#n");
	resp_free(&r);
	free(fields);
	return id;
}

/* Add a child (where "enfant") or next sibling ("suivant") of node; returns its id. */
static int64_t add_node(struct client *c, int64_t node, const char *title_enc, const char *where)
{
	char path[64], *fields = xasprintf("title=%s&ou=%s", title_enc, where);
	snprintf(path, sizeof path, "/noeuds/%lld/ajouter", (long long)node);
	struct resp r;
	post(c, path, fields, &r);
	assert_status(&r, 303, "add node");
	int64_t id = location_id(&r, "#n");
	resp_free(&r);
	free(fields);
	return id;
}

/* Move a node; returns the status. */
static long move(struct client *c, int64_t node, const char *sens)
{
	char path[64], fields[32];
	snprintf(path, sizeof path, "/noeuds/%lld/deplacer", (long long)node);
	snprintf(fields, sizeof fields, "sens=%s", sens);
	struct resp r;
	post(c, path, fields, &r);
	long status = r.status;
	if (status == 303) {
		char want[96];
		snprintf(want, sizeof want, "#n%lld", (long long)node);
		char *loc = resp_get_header(&r, "Location");
		assert_non_null(strstr(loc, want));
		assert_non_null(strstr(loc, "/arbre"));
		free(loc);
	}
	resp_free(&r);
	return status;
}

/* --- a small JSON client: PATCH and DELETE, with the session and the CSRF header ------------- */

struct api {
	CURL *c;
	char *csrf;
};

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

/* method path [json] → status; the body parsed into *out when out is not NULL. */
static long api_call(struct api *a, const char *method, const char *path, const char *json,
                     json_t **out)
{
	struct buf body = {0};
	char *url = xasprintf("http://127.0.0.1:%d%s", T.port, path);
	char *h = xasprintf("X-CSRF-Token: %s", a->csrf ? a->csrf : "");
	struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
	hs = curl_slist_append(hs, h);
	curl_easy_setopt(a->c, CURLOPT_URL, url);
	curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, hs);
	curl_easy_setopt(a->c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(a->c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, NULL);
	if (json) {
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	}
	if (strcmp(method, "GET") && !(json && !strcmp(method, "POST")))
		curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(a->c) != CURLE_OK)
		fail_msg("curl %s %s", method, path);
	long status = 0;
	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &status);
	if (out) {
		*out = json_loads(buf_str(&body), 0, NULL);
		if (!*out)
			fail_msg("%s %s: not JSON: %s", method, path, buf_str(&body));
	}
	curl_slist_free_all(hs);
	free(h);
	free(url);
	buf_free(&body);
	return status;
}

/* A JSON client logged in as email (NULL: anonymous). */
static struct api *api_new(const char *email, const char *password)
{
	struct api *a = xcalloc(1, sizeof *a);
	a->c = curl_easy_init();
	curl_easy_setopt(a->c, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(a->c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(a->c, CURLOPT_TIMEOUT, 30L);
	for (int step = 0; step < (email ? 3 : 1); step++) {
		struct resp page = {0};
		char *url = xasprintf("http://127.0.0.1:%d%s", T.port,
		                      step == 2 ? "/compte" : "/connexion");
		curl_easy_setopt(a->c, CURLOPT_URL, url);
		curl_easy_setopt(a->c, CURLOPT_WRITEDATA, &page.body);
		struct buf form = {0};
		if (step == 1) {
			buf_puts(&form, "_csrf=");
			buf_puts(&form, a->csrf);
			buf_puts(&form, "&email=");
			buf_url(&form, email);
			buf_puts(&form, "&password=");
			buf_url(&form, password);
			curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, buf_str(&form));
		} else {
			curl_easy_setopt(a->c, CURLOPT_HTTPGET, 1L);
		}
		curl_easy_perform(a->c);
		if (step != 1) {
			free(a->csrf);
			a->csrf = page_csrf_token(&page);
		}
		buf_free(&form);
		resp_free(&page);
		free(url);
	}
	assert_non_null(a->csrf);
	return a;
}

static void api_free(struct api *a)
{
	curl_easy_cleanup(a->c);
	free(a->csrf);
	free(a);
}

/* --- plans ----------------------------------------------------------------------------------- */

static void test_create_plan_only_for_coordinator_accounts(void **state)
{
	(void)state;
	make_user("b-coord@example.org", "coordinator");
	make_user("b-pilot@example.org", "pilot");
	make_user("b-partner@example.org", "partner");
	make_user("b-reader@example.org", "reader");
	const char *fields = PLAN_FIELDS "&title=Plan+refus%C3%A9&visibilite=prive";

	struct client *anon = client_new(&T);
	struct resp r;
	client_get(anon, "/plans/nouveau", &r);
	assert_status(&r, 303, "anonymous GET /plans/nouveau");
	assert_location(&r, "/connexion?suite=%2Fplans%2Fnouveau");
	resp_free(&r);
	client_submit(anon, "/connexion", "/plans/nouveau", fields, &r);
	assert_status(&r, 401, "anonymous POST /plans/nouveau");
	resp_free(&r);
	client_free(anon);

	const char *refused[] = {"b-pilot@example.org", "b-partner@example.org",
	                         "b-reader@example.org"};
	for (size_t i = 0; i < 3; i++) {
		struct client *c = logged(refused[i], PW);
		client_get(c, "/plans/nouveau", &r);
		assert_status(&r, 403, refused[i]);
		resp_free(&r);
		post(c, "/plans/nouveau", fields, &r);
		assert_status(&r, 403, refused[i]);
		resp_free(&r);
		client_free(c);
	}
	assert_int_equal(q1s("SELECT COUNT(*) FROM plans WHERE title = ?", "Plan refusé"), 0);

	struct client *c = logged("b-coord@example.org", PW);
	client_get(c, "/plans/nouveau", &r);
	assert_status(&r, 200, "coordinator GET /plans/nouveau");
	assert_has(&r, "<h1>Nouveau plan</h1>");
	assert_has(&r, "<label for=\"p-territory\">Territoire</label>");
	assert_has(&r, "name=\"signatories\"");
	assert_has(&r, "Créer le plan");
	resp_free(&r);
	post(c, "/plans/nouveau", PLAN_FIELDS "&title=Plan+B+cr%C3%A9%C3%A9&visibilite=prive", &r);
	assert_status(&r, 303, "coordinator POST /plans/nouveau");
	int64_t plan = location_id(&r, "/plans/");
	char want[80];
	snprintf(want, sizeof want, "/plans/%lld/arbre?ok=cree", (long long)plan);
	assert_location(&r, want);
	resp_free(&r);

	int64_t uid = q1s("SELECT id FROM users WHERE email = ?", "b-coord@example.org");
	struct db *db = th_db(&T);
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND user_id = ? AND "
	          "role = 'coordinator'",
	          "II", plan, uid);
	assert_int_equal(n, 1);
	db_close(db);
	assert_int_equal(q1("SELECT is_public FROM plans WHERE id = ?", plan), 0);
	assert_int_equal(q1("SELECT start_year * 10000 + end_year FROM plans WHERE id = ?", plan),
	                 20242028);
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_levels WHERE plan_id = ?", plan), 3);
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_territory WHERE plan_id = ? AND "
	                    "((scope = 'epci' AND code = '200040509') OR "
	                    "(scope = 'commune' AND code = '26108'))",
	                    plan),
	                 2);
	/* "caf de la drome" found the directory's "Caf de la Drôme" (accents and case folded). */
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_signatories s JOIN actors a ON a.id = "
	                    "s.actor_id WHERE s.plan_id = ? AND a.name IN ('Caf de la Drôme', "
	                    "'Commune d''Aouste-sur-Sye')",
	                    plan),
	                 2);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'plan' AND action = "
	                    "'create' AND entity_id = CAST(? AS TEXT)",
	                    plan),
	                 1);

	/* The plan page offers the editing links to its coordinator and names the territory. */
	char path[64];
	snprintf(path, sizeof path, "/plans/%lld", (long long)plan);
	client_get(c, path, &r);
	assert_status(&r, 200, "plan page");
	assert_has(&r, "Plan B créé");
	assert_has(&r, "Modifier l'arborescence");
	assert_has(&r, "/modifier\">Modifier le plan</a>");
	assert_has(&r, "Crest");
	assert_has(&r, "Caf de la Drôme");
	resp_free(&r);
	client_free(c);
}

static void test_plan_edit_refuses_bad_inputs_and_escapes(void **state)
{
	(void)state;
	make_user("b-coord2@example.org", "coordinator");
	struct client *c = logged("b-coord2@example.org", PW);
	int64_t plan = create_plan(c, "Plan+%C3%A0+corriger", 0);
	char path[64];
	snprintf(path, sizeof path, "/plans/%lld/modifier", (long long)plan);
	const struct {
		const char *fields, *message;
	} bad[] = {
	    {PLAN_FIELDS "&title=&visibilite=prive", "Titre : ce champ est obligatoire."},
	    {PLAN_FIELDS "&title=++&visibilite=prive", "Titre : ce champ est obligatoire."},
	    {"kind=schema&start_year=2028&end_year=2024&title=X&visibilite=prive",
	     "l&#39;année de fin doit être égale ou postérieure"},
	    {"kind=schema&start_year=1800&end_year=2024&title=X&visibilite=prive",
	     "Année de début : une année entre 1990 et 2100."},
	    {"kind=schema&start_year=2024&end_year=deux-mille&title=X&visibilite=prive",
	     "Année de fin : une année entre 1990 et 2100."},
	    {"kind=evil&start_year=2024&end_year=2025&title=X&visibilite=prive",
	     "Type de plan : choisissez"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=tous",
	     "Visibilité : choisissez"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=prive&territory=26999",
	     "aucun code « 26999 » parmi les communes connues"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=prive&territory=999999999",
	     "aucun code « 999999999 » parmi les intercommunalités"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=prive&territory=Dr%C3%B4me",
	     "n&#39;est pas un code de commune"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=prive"
	     "&signatories=Association+imaginaire",
	     "« Association imaginaire » n&#39;est pas dans l&#39;annuaire"},
	    {"kind=ctg&start_year=2024&end_year=2025&title=X&visibilite=prive"
	     "&levels=1%0A2%0A3%0A4%0A5%0A6%0A7%0A8%0A9",
	     "Niveaux : 8 au plus."},
	};
	struct resp r;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		post(c, path, bad[i].fields, &r);
		assert_status(&r, 422, bad[i].fields);
		assert_has(&r, bad[i].message);
		assert_has(&r, "<form method=\"post\" action=\"/plans/");
		resp_free(&r);
	}
	/* What was typed comes back in the form. */
	post(c, path, PLAN_FIELDS "&title=&visibilite=prive", &r);
	assert_has(&r, "Texte gardé **gras**");
	assert_has(&r, "200040509 26108");
	resp_free(&r);
	/* A title of 301 characters is refused, 300 accepted. */
	struct buf f = {0};
	buf_puts(&f, PLAN_FIELDS "&visibilite=prive&title=");
	for (int i = 0; i < 301; i++)
		buf_putc(&f, 'x');
	post(c, path, buf_str(&f), &r);
	assert_status(&r, 422, "301 characters");
	assert_has(&r, "Titre : 300 caractères au plus.");
	resp_free(&r);
	buf_free(&f);
	assert_int_equal(q1s("SELECT COUNT(*) FROM plans WHERE title = ?", "Plan à corriger"), 1);

	/* Hostile text is stored as typed and shown escaped. */
	post(c, path,
	     PLAN_FIELDS
	     "&visibilite=public&title=%3Cscript%3Ealert(1)%3C%2Fscript%3E+%27+OR+1%3D1+--"
	     "&description=%3Cimg+src%3Dx+onerror%3Dalert(2)%3E+%5Bx%5D(javascript%3Aalert(3))",
	     &r);
	assert_status(&r, 303, "hostile title");
	resp_free(&r);
	assert_int_equal(q1s("SELECT COUNT(*) FROM plans WHERE title = ?",
	                     "<script>alert(1)</script> ' OR 1=1 --"),
	                 1);
	assert_int_equal(q1("SELECT is_public FROM plans WHERE id = ?", plan), 1);
	snprintf(path, sizeof path, "/plans/%lld", (long long)plan);
	client_get(c, path, &r);
	assert_status(&r, 200, "plan page");
	assert_lacks(&r, "<script>alert(1)");
	assert_lacks(&r, "<img src=x");
	assert_lacks(&r, "javascript:");
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt; &#39; OR 1=1 --");
	resp_free(&r);
	/* The edit form shows the territory's names back. */
	snprintf(path, sizeof path, "/plans/%lld/modifier", (long long)plan);
	client_get(c, path, &r);
	assert_status(&r, 200, "edit form");
	assert_has(&r, "Territoire reconnu : ");
	assert_has(&r, "Crest (commune 26108)");
	assert_has(&r, "(intercommunalité 200040509)");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'plan' AND action = "
	                    "'update' AND entity_id = CAST(? AS TEXT)",
	                    plan),
	                 1);
	client_free(c);
}

/* --- the tree -------------------------------------------------------------------------------- */

static void test_tree_three_levels_moves_and_numbers(void **state)
{
	(void)state;
	make_user("b-tree@example.org", "coordinator");
	struct client *c = logged("b-tree@example.org", PW);
	int64_t plan = create_plan(c, "Plan+arbre", 0);
	int64_t a = add_root(c, plan, "Axe+A");
	int64_t b = add_root(c, plan, "Axe+B");
	int64_t a1 = add_node(c, a, "Objectif+A1", "enfant");
	int64_t a2 = add_node(c, a, "Objectif+A2", "enfant");
	int64_t a1x = add_node(c, a1, "Action+A1x", "enfant");
	int64_t bc = add_node(c, b, "Axe+C+apr%C3%A8s+B", "suivant");
	assert_number(a, "1");
	assert_number(b, "2");
	assert_number(bc, "3");
	assert_number(a1, "1.1");
	assert_number(a2, "1.2");
	assert_number(a1x, "1.1.1");
	/* The last level (Action) makes fiches-actions; the others are not. */
	assert_int_equal(
	    q1("SELECT COUNT(*) FROM fiches WHERE node_id = ? AND status = 'retenue'", a1x), 1);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiches WHERE node_id = ?", a1), 0);

	/* Down, up, indent, outdent: numbers recomputed every time. */
	assert_int_equal(move(c, a, "bas"), 303);
	assert_number(b, "1");
	assert_number(a, "2");
	assert_number(a1, "2.1");
	assert_number(a1x, "2.1.1");
	assert_number(bc, "3");
	assert_int_equal(move(c, a2, "haut"), 303);
	assert_number(a2, "2.1");
	assert_number(a1, "2.2");
	assert_number(a1x, "2.2.1");
	assert_int_equal(move(c, a2, "haut"), 409);   /* already first */
	assert_int_equal(move(c, a2, "droite"), 409); /* no previous sibling */
	assert_int_equal(move(c, b, "gauche"), 409);  /* already at the top */
	assert_int_equal(move(c, bc, "bas"), 409);    /* already last */
	assert_int_equal(move(c, a1, "droite"), 303); /* under A2 */
	assert_number(a1, "2.1.1");
	assert_number(a1x, "2.1.1.1");
	assert_int_equal(q1("SELECT depth FROM nodes WHERE id = ?", a1x), 3);
	assert_int_equal(move(c, a1, "gauche"), 303); /* back after A2 */
	assert_number(a2, "2.1");
	assert_number(a1, "2.2");
	assert_number(a1x, "2.2.1");
	assert_int_equal(q1("SELECT depth FROM nodes WHERE id = ?", a1x), 2);
	assert_int_equal(move(c, a1x, "gauche"), 303); /* next sibling of A1 */
	assert_number(a1x, "2.3");
	assert_int_equal(move(c, a1x, "nulle-part"), 422);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'node' AND "
	                    "action = 'move' AND entity_id = CAST(? AS TEXT)",
	                    a1),
	                 2);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'node' AND "
	                    "action = 'create' AND after_json LIKE '%Objectif A1%'",
	                    -1),
	                 1);

	/* The page shows the numbers; titles link to the node or fiche page; fiche badges. */
	char path[64], frag[96];
	snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
	struct resp r;
	client_get(c, path, &r);
	assert_status(&r, 200, "tree page");
	assert_has(&r, "<span class=\"num\">2.3</span>");
	assert_has(&r, "<span class=\"num\">2.2</span>");
	assert_has(&r, "Modifier, déplacer, ajouter");
	snprintf(frag, sizeof frag, "<a href=\"/fiches/%lld\">Action A1x</a>", (long long)a1x);
	assert_has(&r, frag);
	snprintf(frag, sizeof frag, "<a href=\"/noeuds/%lld\">Objectif A1</a>", (long long)a1);
	assert_has(&r, frag);
	assert_has(&r, "Retenue</span>");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld", (long long)plan);
	client_get(c, path, &r);
	assert_has(&r, frag);
	assert_has(&r, "Non engagée</span>");
	resp_free(&r);

	/* An empty title is refused and the form comes back open. */
	snprintf(path, sizeof path, "/noeuds/%lld/ajouter", (long long)a);
	post(c, path, "title=+&ou=enfant", &r);
	assert_status(&r, 422, "empty node title");
	assert_has(&r, "Titre : ce champ est obligatoire.");
	assert_has(&r, "<details class=\"node-tools\" open>");
	resp_free(&r);
	post(c, path, "title=Sans+position", &r);
	assert_status(&r, 422, "no position");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), 6);

	/* Eight levels at most. */
	int64_t deep = a1x;
	for (int i = 0; i < 6; i++)
		deep = add_node(c, deep, "Profond", "enfant");
	assert_int_equal(q1("SELECT depth FROM nodes WHERE id = ?", deep), 7);
	snprintf(path, sizeof path, "/noeuds/%lld/ajouter", (long long)deep);
	post(c, path, "title=Trop+profond&ou=enfant", &r);
	assert_status(&r, 409, "ninth level");
	assert_has(&r, "8 niveaux");
	resp_free(&r);
	assert_int_equal(move(c, a2, "droite"), 409); /* A2 is first: nothing before it */
	client_free(c);
}

static void test_node_edit_tags_fiche_flag_and_delete(void **state)
{
	(void)state;
	make_user("b-edit@example.org", "coordinator");
	struct client *c = logged("b-edit@example.org", PW);
	int64_t plan = create_plan(c, "Plan+%C3%A9tiquettes", 0);
	int64_t a = add_root(c, plan, "Axe+A");
	int64_t b = add_root(c, plan, "Axe+B");
	int64_t a1 = add_node(c, a, "Objectif+A1", "enfant");
	int64_t a1x = add_node(c, a1, "Action+A1x", "enfant");
	int64_t a2 = add_node(c, a, "Objectif+A2", "enfant");

	/* The plan's own tags: add, refuse a duplicate, rename. */
	char path[80], fields[200];
	struct resp r;
	snprintf(path, sizeof path, "/plans/%lld/etiquettes", (long long)plan);
	post(c, path, "kind=territoire&label=Territoire+Centre+Ard%C3%A8che", &r);
	assert_status(&r, 303, "add tag");
	resp_free(&r);
	post(c, path, "kind=territoire&label=territoire+centre+ardeche", &r);
	assert_status(&r, 422, "duplicate tag");
	assert_has(&r, "Une étiquette porte déjà ce libellé.");
	resp_free(&r);
	post(c, path, "kind=evil&label=X", &r);
	assert_status(&r, 422, "bad tag kind");
	resp_free(&r);
	post(c, path, "kind=fil&label=%3Cb%3EInvestissement+social%3C%2Fb%3E", &r);
	assert_status(&r, 303, "add thread");
	resp_free(&r);
	int64_t terr = q1("SELECT id FROM tags WHERE plan_id = ? AND kind = 'territoire'", plan);
	int64_t fil = q1("SELECT id FROM tags WHERE plan_id = ? AND kind = 'fil'", plan);
	int64_t petite =
	    q1s("SELECT id FROM tags WHERE slug = ? AND plan_id IS NULL", "petite-enfance");
	assert_true(terr > 0 && fil > 0 && petite > 0);

	/* Edit a node: title, Markdown description, tags (a thematic, a thread, a territory). */
	snprintf(path, sizeof path, "/noeuds/%lld/modifier", (long long)a1);
	client_get(c, path, &r);
	assert_status(&r, 200, "node form");
	assert_has(&r, "Petite enfance");
	assert_has(&r, "Territoire Centre Ardèche");
	assert_has(&r, "&lt;b&gt;Investissement social&lt;/b&gt;");
	assert_has(&r, "Est une fiche-action");
	resp_free(&r);
	snprintf(fields, sizeof fields,
	         "title=Objectif+%%3Cscript%%3Ex%%3C%%2Fscript%%3E&description=-+un%%0A-+deux"
	         "&tag=%lld&tag=%lld&tag=%lld",
	         (long long)petite, (long long)fil, (long long)terr);
	post(c, path, fields, &r);
	assert_status(&r, 303, "edit node");
	char want[96];
	snprintf(want, sizeof want, "/plans/%lld/arbre?ok=modifie#n%lld", (long long)plan,
	         (long long)a1);
	assert_location(&r, want);
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM node_tags WHERE node_id = ?", a1), 3);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'node' AND action = "
	                    "'update' AND entity_id = CAST(? AS TEXT) AND before_json LIKE "
	                    "'%Objectif A1%' AND after_json LIKE '%petite-enfance%'",
	                    a1),
	                 1);
	/* A tag of another plan is refused. */
	int64_t foreign = q1s("SELECT id FROM tags WHERE slug = ? AND plan_id IS NOT NULL",
	                      "realites-des-familles");
	snprintf(fields, sizeof fields, "title=X&tag=%lld", (long long)foreign);
	post(c, path, fields, &r);
	assert_status(&r, 422, "foreign tag");
	assert_has(&r, "Étiquette inconnue pour ce plan.");
	resp_free(&r);
	post(c, path, "title=", &r);
	assert_status(&r, 422, "empty title");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
	client_get(c, path, &r);
	assert_has(&r, "Objectif &lt;script&gt;x&lt;/script&gt;");
	assert_lacks(&r, "<script>x");
	assert_has(&r, "<span class=\"tag\">Territoire Centre Ardèche</span>");
	assert_has(&r, "<span class=\"tag\">Petite enfance</span>");
	resp_free(&r);

	/* Rename and delete the plan's tags. */
	snprintf(path, sizeof path, "/plans/%lld/etiquettes/renommer", (long long)plan);
	snprintf(fields, sizeof fields, "tag=%lld&label=Territoire+Sud+Ard%%C3%%A8che",
	         (long long)terr);
	post(c, path, fields, &r);
	assert_status(&r, 303, "rename tag");
	resp_free(&r);
	assert_int_equal(q1s("SELECT COUNT(*) FROM tags WHERE label = ?", "Territoire Sud Ardèche"),
	                 1);
	snprintf(fields, sizeof fields, "tag=%lld&label=X", (long long)petite);
	post(c, path, fields, &r);
	assert_status(&r, 404, "rename a thematic");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/etiquettes/supprimer", (long long)plan);
	snprintf(fields, sizeof fields, "tag=%lld", (long long)terr);
	post(c, path, fields, &r);
	assert_status(&r, 303, "delete tag");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM node_tags WHERE node_id = ?", a1), 2);
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'tag' AND "
	                    "entity_id = CAST(? AS TEXT)",
	                    terr),
	                 3);

	/* The fiche flag: set on A2; removing it from a fiche with data asks confirmation. */
	snprintf(path, sizeof path, "/noeuds/%lld/modifier", (long long)a2);
	post(c, path, "title=Objectif+A2&fiche=1", &r);
	assert_status(&r, 303, "make a fiche");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiches WHERE node_id = ?", a2), 1);
	exec1("INSERT INTO fiche_publics (node_id, label) VALUES (?, 'Familles')", a2);
	post(c, path, "title=Objectif+A2", &r);
	assert_status(&r, 409, "unfiche with data");
	assert_has(&r, "cochez la confirmation");
	assert_has(&r, "name=\"confirmer\"");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiches WHERE node_id = ?", a2), 1);
	post(c, path, "title=Objectif+A2&confirmer=1", &r);
	assert_status(&r, 303, "unfiche confirmed");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiches WHERE node_id = ?", a2), 0);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiche_publics WHERE node_id = ?", a2), 0);

	/* Node pages: a node shows its number, level, Markdown, children and the way up; a fiche
	 * goes to /fiches/{id}. */
	snprintf(path, sizeof path, "/noeuds/%lld", (long long)a1);
	client_get(c, path, &r);
	assert_status(&r, 200, "node page");
	assert_has(&r, "<span class=\"num\">1.1</span> Objectif &lt;script&gt;");
	assert_has(&r, "<p class=\"eyebrow\">Objectif</p>");
	assert_has(&r, "<li>un</li>");
	snprintf(want, sizeof want, "<li><a href=\"/noeuds/%lld\">1 Axe A</a></li>", (long long)a);
	assert_has(&r, want);
	snprintf(want, sizeof want, "href=\"/fiches/%lld\">Action A1x</a>", (long long)a1x);
	assert_has(&r, want);
	resp_free(&r);
	snprintf(path, sizeof path, "/noeuds/%lld", (long long)a1x);
	client_get(c, path, &r);
	assert_status(&r, 303, "fiche node page");
	snprintf(want, sizeof want, "/fiches/%lld", (long long)a1x);
	assert_location(&r, want);
	resp_free(&r);

	/* Delete: a confirmation page; a node with children needs "with its subtree". */
	snprintf(path, sizeof path, "/noeuds/%lld/supprimer", (long long)a);
	client_get(c, path, &r);
	assert_status(&r, 200, "delete confirmation");
	assert_has(&r, "Supprimer aussi ses 3 sous-éléments (dont 1 fiche-action)");
	resp_free(&r);
	post(c, path, "", &r);
	assert_status(&r, 409, "delete with children, unconfirmed");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), 5);
	post(c, path, "avec_descendance=1", &r);
	assert_status(&r, 303, "delete with subtree");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), 1);
	assert_int_equal(q1("SELECT COUNT(*) FROM fiches WHERE node_id = ?", a1x), 0);
	assert_number(b, "1");
	assert_int_equal(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'node' AND action = "
	                    "'delete' AND entity_id = CAST(? AS TEXT) AND before_json LIKE "
	                    "'%descendants%Action A1x%'",
	                    a),
	                 1);
	/* A leaf goes at once. */
	snprintf(path, sizeof path, "/noeuds/%lld/supprimer", (long long)b);
	post(c, path, "", &r);
	assert_status(&r, 303, "delete leaf");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), 0);
	/* Archived nodes are not shown and not numbered among the live ones. */
	int64_t x = add_root(c, plan, "Vivant+1");
	int64_t y = add_root(c, plan, "Archiv%C3%A9");
	int64_t z = add_root(c, plan, "Vivant+2");
	exec1("UPDATE nodes SET archived = 1 WHERE id = ?", y);
	assert_int_equal(move(c, z, "haut"), 303);
	assert_number(z, "1");
	assert_number(x, "2");
	assert_number(y, "3");
	snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
	client_get(c, path, &r);
	assert_lacks(&r, "Archivé");
	resp_free(&r);
	client_free(c);
}

/* --- permissions ----------------------------------------------------------------------------- */

static void test_readers_partners_pilots_cannot_edit(void **state)
{
	(void)state;
	int64_t plan = q1("SELECT id FROM plans WHERE title LIKE '%Crestois%'", -1);
	int64_t node = q1("SELECT MIN(id) FROM nodes WHERE plan_id = ?", plan);
	int64_t nodes = q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan);
	int64_t uid = q1s("SELECT id FROM users WHERE email = ?", "lecture@demo.maillage.fr");
	int64_t tag = q1("SELECT MIN(id) FROM tags WHERE plan_id = ?", plan);
	char buf[12][96];
	snprintf(buf[0], 96, "/plans/%lld/modifier", (long long)plan);
	snprintf(buf[1], 96, "/plans/%lld/arbre/ajouter", (long long)plan);
	snprintf(buf[2], 96, "/plans/%lld/etiquettes", (long long)plan);
	snprintf(buf[3], 96, "/plans/%lld/etiquettes/renommer", (long long)plan);
	snprintf(buf[4], 96, "/plans/%lld/etiquettes/supprimer", (long long)plan);
	snprintf(buf[5], 96, "/plans/%lld/membres", (long long)plan);
	snprintf(buf[6], 96, "/plans/%lld/membres/%lld/role", (long long)plan, (long long)uid);
	snprintf(buf[7], 96, "/plans/%lld/membres/%lld/retirer", (long long)plan, (long long)uid);
	snprintf(buf[8], 96, "/noeuds/%lld/modifier", (long long)node);
	snprintf(buf[9], 96, "/noeuds/%lld/ajouter", (long long)node);
	snprintf(buf[10], 96, "/noeuds/%lld/deplacer", (long long)node);
	snprintf(buf[11], 96, "/noeuds/%lld/supprimer", (long long)node);
	char fields[400];
	snprintf(fields, sizeof fields,
	         "title=Pirate&ou=enfant&sens=bas&role=coordinator&email=x%%40example.org&tag=%lld"
	         "&label=Pirate&kind=fil&avec_descendance=1&%s",
	         (long long)tag, PLAN_FIELDS);
	const char *who[] = {"lecture@demo.maillage.fr", "partenaire@demo.maillage.fr",
	                     "pilote@demo.maillage.fr"};
	for (size_t w = 0; w < 3; w++) {
		struct client *c = logged(who[w], DEMO_PASSWORD);
		struct resp r;
		for (size_t i = 0; i < 12; i++) {
			post(c, buf[i], fields, &r);
			if (r.status != 403)
				fail_msg("%s: POST %s answered %ld", who[w], buf[i], r.status);
			resp_free(&r);
		}
		const size_t gets[] = {0, 8, 11};
		for (size_t i = 0; i < 3; i++) {
			client_get(c, buf[gets[i]], &r);
			if (r.status != 403)
				fail_msg("%s: GET %s answered %ld", who[w], buf[gets[i]], r.status);
			resp_free(&r);
		}
		/* They read the tree without the controls, and the members without e-mails. */
		char path[64];
		snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
		client_get(c, path, &r);
		assert_status(&r, 200, "tree as member");
		assert_has(&r, "<span class=\"num\">1.1</span>");
		assert_lacks(&r, "Modifier, déplacer, ajouter");
		assert_lacks(&r, "/arbre/ajouter");
		resp_free(&r);
		client_get(c, buf[5], &r);
		assert_status(&r, 200, "members as member");
		assert_has(&r, "Camille Coordination");
		assert_lacks(&r, "coordination@demo.maillage.fr");
		assert_lacks(&r, "Inviter une personne");
		resp_free(&r);
		snprintf(path, sizeof path, "/plans/%lld", (long long)plan);
		client_get(c, path, &r);
		assert_lacks(&r, "Modifier le plan");
		assert_has(&r, "Membres du plan");
		resp_free(&r);
		client_free(c);
	}
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), nodes);
	assert_int_equal(q1("SELECT COUNT(*) FROM tags WHERE label = 'Pirate'", -1), 0);
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND "
	                    "role = 'coordinator'",
	                    plan),
	                 1);
	/* The demo coordinator sees the controls. */
	struct client *c = logged("coordination@demo.maillage.fr", DEMO_PASSWORD);
	struct resp r;
	char path[64];
	snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
	client_get(c, path, &r);
	assert_has(&r, "Modifier, déplacer, ajouter");
	resp_free(&r);
	client_free(c);
}

static void test_member_of_another_plan_gets_404_everywhere(void **state)
{
	(void)state;
	make_user("b-owner@example.org", "coordinator");
	struct client *owner = logged("b-owner@example.org", PW);
	int64_t plan = create_plan(owner, "Plan+secret+B", 0);
	int64_t node = add_root(owner, plan, "N%C5%93ud+secret");
	int64_t uid = q1s("SELECT id FROM users WHERE email = ?", "b-owner@example.org");
	struct resp r;
	char path[96];
	snprintf(path, sizeof path, "/plans/%lld/etiquettes", (long long)plan);
	post(owner, path, "kind=fil&label=Fil+secret", &r);
	resp_free(&r);
	client_free(owner);
	int64_t tag = q1("SELECT id FROM tags WHERE plan_id = ?", plan);

	/* A reader of the Crestois plan (lecture@) and a coordinator of another plan (b-tree@). */
	const char *who[] = {"lecture@demo.maillage.fr", "coordination@demo.maillage.fr"};
	const char *pw[] = {DEMO_PASSWORD, DEMO_PASSWORD};
	const char *pages[] = {"/plans/%lld/modifier",  "/plans/%lld/arbre",
	                       "/plans/%lld/membres",   "/noeuds/%lld",
	                       "/noeuds/%lld/modifier", "/noeuds/%lld/supprimer",
	                       "/api/v1/nodes/%lld",    "/api/v1/plans/%lld/members"};
	const char *posts[] = {"/plans/%lld/modifier",
	                       "/plans/%lld/arbre/ajouter",
	                       "/plans/%lld/etiquettes",
	                       "/plans/%lld/etiquettes/renommer",
	                       "/plans/%lld/etiquettes/supprimer",
	                       "/plans/%lld/membres",
	                       "/plans/%lld/membres/%lld/role",
	                       "/plans/%lld/membres/%lld/retirer",
	                       "/plans/%lld/invitations/annuler",
	                       "/noeuds/%lld/modifier",
	                       "/noeuds/%lld/ajouter",
	                       "/noeuds/%lld/deplacer",
	                       "/noeuds/%lld/supprimer"};
	char fields[200];
	snprintf(fields, sizeof fields,
	         "title=Pirate&ou=enfant&sens=bas&role=reader&email=x%%40example.org&tag=%lld"
	         "&label=Pirate&kind=fil&avec_descendance=1&visibilite=public",
	         (long long)tag);
	for (size_t w = 0; w < 2; w++) {
		struct client *c = logged(who[w], pw[w]);
		for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
			snprintf(path, sizeof path, pages[i],
			         (long long)(strstr(pages[i], "oeud") || strstr(pages[i], "nodes")
			                         ? node
			                         : plan));
			client_get(c, path, &r);
			if (r.status != 404)
				fail_msg("%s: GET %s answered %ld", who[w], path, r.status);
			assert_lacks(&r, "secret");
			resp_free(&r);
		}
		for (size_t i = 0; i < sizeof posts / sizeof *posts; i++) {
			/* Templates take the plan or node id, then the user id. */
			char full[96];
			snprintf(full, sizeof full, posts[i],
			         (long long)(strstr(posts[i], "oeud") ? node : plan),
			         (long long)uid);
			post(c, full, fields, &r);
			if (r.status != 404)
				fail_msg("%s: POST %s answered %ld", who[w], full, r.status);
			assert_lacks(&r, "secret");
			resp_free(&r);
		}
		client_free(c);
		/* The API, with the session and the CSRF header. */
		struct api *a = api_new(who[w], pw[w]);
		char api[96];
		snprintf(api, sizeof api, "/api/v1/plans/%lld", (long long)plan);
		assert_int_equal(api_call(a, "PATCH", api, "{\"title\":\"Pirate\"}", NULL), 404);
		snprintf(api, sizeof api, "/api/v1/plans/%lld/nodes", (long long)plan);
		assert_int_equal(api_call(a, "POST", api, "{\"title\":\"Pirate\"}", NULL), 404);
		snprintf(api, sizeof api, "/api/v1/plans/%lld/members", (long long)plan);
		assert_int_equal(api_call(a, "POST", api,
		                          "{\"email\":\"x@example.org\",\"role\":\"reader\"}",
		                          NULL),
		                 404);
		assert_int_equal(api_call(a, "GET", api, NULL, NULL), 404);
		snprintf(api, sizeof api, "/api/v1/nodes/%lld", (long long)node);
		assert_int_equal(api_call(a, "PATCH", api, "{\"title\":\"Pirate\"}", NULL), 404);
		assert_int_equal(api_call(a, "DELETE", api, NULL, NULL), 404);
		assert_int_equal(api_call(a, "GET", api, NULL, NULL), 404);
		api_free(a);
	}
	/* Anonymous: 404 on the public routes, 401 or a login redirect elsewhere. */
	struct client *anon = client_new(&T);
	snprintf(path, sizeof path, "/plans/%lld/arbre", (long long)plan);
	client_get(anon, path, &r);
	assert_status(&r, 404, "anonymous tree");
	resp_free(&r);
	snprintf(path, sizeof path, "/noeuds/%lld", (long long)node);
	client_get(anon, path, &r);
	assert_status(&r, 404, "anonymous node");
	resp_free(&r);
	client_free(anon);
	assert_int_equal(q1s("SELECT COUNT(*) FROM plans WHERE title = ?", "Plan secret B"), 1);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE plan_id = ?", plan), 1);
	assert_int_equal(q1("SELECT COUNT(*) FROM tags WHERE label = 'Pirate'", -1), 0);
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_members WHERE plan_id = ?", plan), 1);
	assert_int_equal(q1("SELECT COUNT(*) FROM invitations WHERE plan_id = ?", plan), 0);
}

/* --- members and invitations ----------------------------------------------------------------- */

/* The invitation link shown on the page after an invitation, as a path. */
static char *invitation_path(const struct resp *r)
{
	const char *p = strstr(buf_str(&r->body), "/invitation/");
	if (!p)
		fail_msg("no invitation link in the page (status %ld)", r->status);
	return xstrndup(p, strlen("/invitation/") + 64);
}

static void test_members_and_invitations(void **state)
{
	(void)state;
	make_user("b-host@example.org", "coordinator");
	int64_t known = make_user("b-known@example.org", "reader");
	struct client *c = logged("b-host@example.org", PW);
	int64_t plan = create_plan(c, "Plan+des+membres", 0);
	int64_t host = q1s("SELECT id FROM users WHERE email = ?", "b-host@example.org");
	char path[96];
	snprintf(path, sizeof path, "/plans/%lld/membres", (long long)plan);
	struct resp r;

	/* An existing account is added at once. */
	post(c, path, "email=B-Known%40example.org&role=pilot", &r);
	assert_status(&r, 303, "add existing account");
	resp_free(&r);
	struct db *db = th_db(&T);
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND user_id = ? AND "
	          "role = 'pilot'",
	          "II", plan, known);
	db_close(db);
	assert_int_equal(n, 1);
	post(c, path, "email=b-known%40example.org&role=reader", &r);
	assert_status(&r, 409, "already a member");
	resp_free(&r);
	post(c, path, "email=pas-une-adresse&role=reader", &r);
	assert_status(&r, 422, "bad e-mail");
	assert_has(&r, "value=\"pas-une-adresse\"");
	resp_free(&r);
	post(c, path, "email=y%40example.org&role=admin", &r);
	assert_status(&r, 422, "bad role");
	resp_free(&r);

	/* A new address gets an invitation link, shown once; only its hash is stored. */
	post(c, path, "email=nouvelle.partenaire%40example.org&role=partner", &r);
	assert_status(&r, 200, "invitation");
	assert_has(&r, "Invitation créée pour nouvelle.partenaire@example.org");
	char *link = invitation_path(&r);
	resp_free(&r);
	const char *token = link + strlen("/invitation/");
	assert_int_equal(q1s("SELECT COUNT(*) FROM invitations WHERE token_hash = ?", token), 0);
	assert_int_equal(q1("SELECT COUNT(*) FROM invitations WHERE plan_id = ? AND accepted_at IS "
	                    "NULL AND role = 'partner'",
	                    plan),
	                 1);
	client_get(c, path, &r);
	assert_has(&r, "Invitations en attente");
	assert_has(&r, "nouvelle.partenaire@example.org");
	assert_lacks(&r, token);
	resp_free(&r);

	/* The invited person opens the link, makes mistakes, then creates the account. */
	struct client *v = client_new(&T);
	client_get(v, link, &r);
	assert_status(&r, 200, "invitation page");
	assert_has(&r, "Plan des membres");
	assert_has(&r, "partenaire");
	assert_has(&r, "Créer mon compte et rejoindre le plan");
	resp_free(&r);
	client_submit(v, link, link,
	              "name=Nina+Nouvelle&password=un-mot-de-passe&confirm=autre-chose", &r);
	assert_status(&r, 422, "confirmation mismatch");
	assert_has(&r, "La confirmation ne correspond pas");
	assert_has(&r, "value=\"Nina Nouvelle\"");
	resp_free(&r);
	client_submit(v, link, link, "name=Nina&password=court&confirm=court", &r);
	assert_status(&r, 422, "short password");
	resp_free(&r);
	client_submit(v, link, link, "name=&password=un-mot-de-passe&confirm=un-mot-de-passe", &r);
	assert_status(&r, 422, "no name");
	resp_free(&r);
	assert_int_equal(
	    q1s("SELECT COUNT(*) FROM users WHERE email = ?", "nouvelle.partenaire@example.org"),
	    0);
	client_submit(v, link, link,
	              "name=Nina+%3Cb%3ENouvelle%3C%2Fb%3E&password=un-mot-de-passe"
	              "&confirm=un-mot-de-passe",
	              &r);
	assert_status(&r, 303, "accept");
	char want[48];
	snprintf(want, sizeof want, "/plans/%lld", (long long)plan);
	assert_location(&r, want);
	assert_non_null(strstr(buf_str(&r.headers), "maillage_session="));
	resp_free(&r);
	/* Logged in, member with the invited role, global role too. */
	client_get(v, want, &r);
	assert_status(&r, 200, "private plan as the new member");
	assert_has(&r, "partenaire");
	resp_free(&r);
	client_free(v);
	int64_t nina =
	    q1s("SELECT id FROM users WHERE email = ?", "nouvelle.partenaire@example.org");
	assert_true(nina > 0);
	assert_int_equal(q1s("SELECT COUNT(*) FROM users WHERE email = ? AND role = 'partner'",
	                     "nouvelle.partenaire@example.org"),
	                 1);
	db = th_db(&T);
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND user_id = ? AND "
	          "role = 'partner'",
	          "II", plan, nina);
	db_close(db);
	assert_int_equal(n, 1);
	struct client *again = logged("nouvelle.partenaire@example.org", "un-mot-de-passe");
	client_free(again);
	/* The link cannot be used twice. */
	struct client *w = client_new(&T);
	client_get(w, link, &r);
	assert_status(&r, 410, "used link");
	assert_has(&r, "déjà été utilisé");
	resp_free(&r);
	client_submit(w, "/connexion", link,
	              "name=X&password=un-mot-de-passe&confirm=un-mot-de-passe", &r);
	assert_status(&r, 410, "used link, POST");
	resp_free(&r);
	free(link);

	/* An expired link is refused; an unknown or malformed one is not found. */
	post(c, path, "email=trop.tard%40example.org&role=reader", &r);
	link = invitation_path(&r);
	resp_free(&r);
	exec1("UPDATE invitations SET expires_at = '2000-01-01T00:00:00Z' WHERE plan_id = ? AND "
	      "email = 'trop.tard@example.org'",
	      plan);
	client_get(w, link, &r);
	assert_status(&r, 410, "expired link");
	assert_has(&r, "expiré");
	resp_free(&r);
	client_submit(w, "/connexion", link,
	              "name=X&password=un-mot-de-passe&confirm=un-mot-de-passe", &r);
	assert_status(&r, 410, "expired link, POST");
	resp_free(&r);
	assert_int_equal(q1s("SELECT COUNT(*) FROM users WHERE email = ?", "trop.tard@example.org"),
	                 0);
	free(link);
	client_get(
	    w, "/invitation/0000000000000000000000000000000000000000000000000000000000000000", &r);
	assert_status(&r, 404, "unknown token");
	resp_free(&r);
	client_get(w, "/invitation/%3Cscript%3E", &r);
	assert_status(&r, 404, "malformed token");
	assert_lacks(&r, "<script>");
	resp_free(&r);
	client_free(w);

	/* Cancel a pending invitation. */
	post(c, path, "email=annulee%40example.org&role=reader", &r);
	link = invitation_path(&r);
	resp_free(&r);
	char hash_field[128];
	{
		db = th_db(&T);
		struct db_stmt *st = db_queryf(db,
		                               "SELECT token_hash FROM invitations WHERE email = "
		                               "'annulee@example.org'",
		                               "");
		assert_int_equal(db_step(st), DB_ROW);
		snprintf(hash_field, sizeof hash_field, "invitation=%s", db_col_text(st, 0));
		db_finalize(st);
		db_close(db);
	}
	char cancel[96];
	snprintf(cancel, sizeof cancel, "/plans/%lld/invitations/annuler", (long long)plan);
	post(c, cancel, hash_field, &r);
	assert_status(&r, 303, "cancel invitation");
	resp_free(&r);
	w = client_new(&T);
	client_get(w, link, &r);
	assert_status(&r, 404, "cancelled link");
	resp_free(&r);
	client_free(w);
	free(link);

	/* Roles: change, remove; the last coordinator stays. */
	snprintf(path, sizeof path, "/plans/%lld/membres/%lld/role", (long long)plan,
	         (long long)known);
	post(c, path, "role=reader", &r);
	assert_status(&r, 303, "change role");
	resp_free(&r);
	db = th_db(&T);
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND user_id = ? AND "
	          "role = 'reader'",
	          "II", plan, known);
	db_close(db);
	assert_int_equal(n, 1);
	post(c, path, "role=superviseur", &r);
	assert_status(&r, 422, "unknown role");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/membres/%lld/role", (long long)plan,
	         (long long)host);
	post(c, path, "role=reader", &r);
	assert_status(&r, 409, "demote the last coordinator");
	assert_has(&r, "au moins un coordinateur");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/membres/%lld/retirer", (long long)plan,
	         (long long)host);
	post(c, path, "", &r);
	assert_status(&r, 409, "remove the last coordinator");
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/membres/%lld/retirer", (long long)plan,
	         (long long)known);
	post(c, path, "", &r);
	assert_status(&r, 303, "remove a member");
	resp_free(&r);
	post(c, path, "", &r);
	assert_status(&r, 404, "remove a non-member");
	resp_free(&r);
	assert_int_equal(q1("SELECT COUNT(*) FROM plan_members WHERE plan_id = ?", plan), 2);
	assert_true(q1("SELECT COUNT(*) FROM audit_log WHERE entity = 'plan' AND entity_id = "
	               "CAST(? AS TEXT) AND action IN ('member_add', 'invite', "
	               "'invitation_accept', 'member_role', 'member_remove', 'invite_cancel')",
	               plan) >= 7);
	/* The removed member no longer sees the private plan. */
	struct client *k = logged("b-known@example.org", PW);
	snprintf(path, sizeof path, "/plans/%lld", (long long)plan);
	client_get(k, path, &r);
	assert_status(&r, 404, "removed member");
	resp_free(&r);
	client_free(k);
	client_free(c);
}

/* --- the JSON API ---------------------------------------------------------------------------- */

static int64_t jint(json_t *j, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(j, key));
}

static const char *jstr(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

static void test_api_plans_nodes_members(void **state)
{
	(void)state;
	make_user("b-api@example.org", "coordinator");
	make_user("b-api-reader@example.org", "reader");
	const char *plan_json =
	    "{\"kind\":\"projet_social\",\"title\":\"Projet social API\",\"start_year\":2025,"
	    "\"end_year\":2029,\"public\":false,\"levels\":[\"Axe\",\"Objectif\",\"Action\"],"
	    "\"territory\":[\"26108\"],\"signatories\":[\"Caf de la Drôme\"]}";
	struct api *anon = api_new(NULL, NULL);
	assert_int_equal(api_call(anon, "POST", "/api/v1/plans", plan_json, NULL), 401);
	api_free(anon);
	struct api *rd = api_new("b-api-reader@example.org", PW);
	json_t *j = NULL;
	assert_int_equal(api_call(rd, "POST", "/api/v1/plans", plan_json, &j), 403);
	assert_string_equal(jstr(json_object_get(j, "error"), "code"), "forbidden");
	json_decref(j);

	struct api *a = api_new("b-api@example.org", PW);
	assert_int_equal(api_call(a, "POST", "/api/v1/plans", "{nope", &j), 400);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", "/api/v1/plans", "[1]", &j), 400);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", "/api/v1/plans",
	                          "{\"kind\":\"ctg\",\"title\":\"\",\"start_year\":2030,"
	                          "\"end_year\":2020,\"territory\":[\"26999\"],\"public\":false}",
	                          &j),
	                 422);
	const char *msg = jstr(json_object_get(j, "error"), "message");
	assert_non_null(strstr(msg, "Titre : ce champ est obligatoire."));
	assert_non_null(strstr(msg, "l'année de fin"));
	assert_non_null(strstr(msg, "26999"));
	json_decref(j);
	assert_int_equal(api_call(a, "POST", "/api/v1/plans",
	                          "{\"kind\":\"ctg\",\"title\":42,\"start_year\":\"2020\"}", &j),
	                 422);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", "/api/v1/plans", plan_json, &j), 201);
	int64_t plan = jint(j, "id");
	assert_true(plan > 0);
	assert_string_equal(jstr(j, "your_role"), "coordinator");
	assert_int_equal(json_array_size(json_object_get(j, "levels")), 3);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "signatories"), 0), "name"),
	                    "Caf de la Drôme");
	json_decref(j);

	char path[96], body[256];
	snprintf(path, sizeof path, "/api/v1/plans/%lld", (long long)plan);
	assert_int_equal(api_call(a, "PATCH", path, "{\"title\":\"Projet social renommé\"}", &j),
	                 200);
	assert_string_equal(jstr(j, "title"), "Projet social renommé");
	assert_int_equal(json_array_size(json_object_get(j, "territory")), 1);
	json_decref(j);
	assert_int_equal(api_call(a, "PATCH", path, "{\"end_year\":2000}", &j), 422);
	json_decref(j);
	assert_int_equal(api_call(rd, "PATCH", path, "{\"title\":\"Pirate\"}", NULL), 404);

	/* A three-level tree through the API. */
	snprintf(path, sizeof path, "/api/v1/plans/%lld/nodes", (long long)plan);
	assert_int_equal(api_call(a, "POST", path, "{\"title\":\"Axe 1\"}", &j), 201);
	int64_t ax1 = jint(j, "id");
	assert_string_equal(jstr(j, "number"), "1");
	assert_string_equal(jstr(j, "level"), "Axe");
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path, "{\"title\":\"Axe 0\",\"position\":1}", &j),
	                 201);
	int64_t ax0 = jint(j, "id");
	assert_string_equal(jstr(j, "number"), "1");
	json_decref(j);
	assert_number(ax1, "2");
	snprintf(body, sizeof body,
	         "{\"title\":\"Objectif\",\"parent_id\":%lld,\"tags\":[\"enfance\"]}",
	         (long long)ax1);
	assert_int_equal(api_call(a, "POST", path, body, &j), 201);
	int64_t ob = jint(j, "id");
	assert_string_equal(jstr(j, "number"), "2.1");
	assert_string_equal(jstr(json_array_get(json_object_get(j, "tags"), 0), "slug"), "enfance");
	json_decref(j);
	snprintf(body, sizeof body,
	         "{\"title\":\"Action\",\"parent_id\":%lld,\"description\":\"_x_\"}",
	         (long long)ob);
	assert_int_equal(api_call(a, "POST", path, body, &j), 201);
	int64_t ac = jint(j, "id");
	assert_string_equal(jstr(j, "number"), "2.1.1");
	assert_true(json_is_true(json_object_get(j, "is_fiche")));
	assert_string_equal(jstr(j, "status"), "retenue");
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path, "{\"title\":\"\"}", &j), 422);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path, "{\"title\":\"X\",\"parent_id\":1}", &j), 422);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path, "{\"title\":\"X\",\"tags\":[\"inconnue\"]}", &j),
	                 422);
	json_decref(j);

	/* Move the objective under Axe 0: numbers follow. */
	snprintf(path, sizeof path, "/api/v1/nodes/%lld", (long long)ob);
	snprintf(body, sizeof body, "{\"parent_id\":%lld}", (long long)ax0);
	assert_int_equal(api_call(a, "PATCH", path, body, &j), 200);
	assert_string_equal(jstr(j, "number"), "1.1");
	assert_int_equal(json_array_size(json_object_get(j, "children")), 1);
	json_decref(j);
	assert_number(ac, "1.1.1");
	snprintf(body, sizeof body, "{\"parent_id\":%lld}", (long long)ac);
	assert_int_equal(api_call(a, "PATCH", path, body, &j), 409); /* under its own child */
	json_decref(j);
	assert_int_equal(api_call(a, "PATCH", path, "{\"parent_id\":null,\"position\":1}", &j),
	                 200);
	assert_string_equal(jstr(j, "number"), "1");
	json_decref(j);
	assert_number(ax0, "2");
	assert_number(ax1, "3");
	assert_number(ac, "1.1");
	assert_int_equal(api_call(a, "PATCH", path,
	                          "{\"title\":\"Objectif <b>renommé</b>\",\"tags\":[],"
	                          "\"description\":\"*ok*\"}",
	                          &j),
	                 200);
	assert_string_equal(jstr(j, "title"), "Objectif <b>renommé</b>");
	assert_int_equal(json_array_size(json_object_get(j, "tags")), 0);
	json_decref(j);
	assert_int_equal(api_call(a, "PATCH", path, "{\"title\":7}", &j), 422);
	json_decref(j);
	/* The fiche flag: removing it from a fiche with data needs confirm. */
	exec1("INSERT INTO fiche_publics (node_id, label) VALUES (?, 'Jeunes')", ac);
	snprintf(path, sizeof path, "/api/v1/nodes/%lld", (long long)ac);
	assert_int_equal(api_call(a, "PATCH", path, "{\"is_fiche\":false}", &j), 409);
	json_decref(j);
	assert_int_equal(api_call(a, "PATCH", path, "{\"is_fiche\":false,\"confirm\":true}", &j),
	                 200);
	assert_true(json_is_false(json_object_get(j, "is_fiche")));
	json_decref(j);
	assert_int_equal(api_call(rd, "PATCH", path, "{\"title\":\"Pirate\"}", NULL), 404);
	assert_int_equal(api_call(rd, "GET", path, NULL, NULL), 404);
	assert_int_equal(api_call(a, "GET", path, NULL, &j), 200);
	assert_string_equal(jstr(j, "number"), "1.1");
	json_decref(j);

	/* Delete: a node with children needs ?subtree=1. */
	snprintf(path, sizeof path, "/api/v1/nodes/%lld", (long long)ob);
	assert_int_equal(api_call(a, "DELETE", path, NULL, &j), 409);
	json_decref(j);
	assert_number(ob, "1");
	snprintf(path, sizeof path, "/api/v1/nodes/%lld?subtree=1", (long long)ob);
	assert_int_equal(api_call(a, "DELETE", path, NULL, &j), 200);
	assert_int_equal(jint(j, "descendants"), 1);
	json_decref(j);
	assert_int_equal(q1("SELECT COUNT(*) FROM nodes WHERE id = ?", ac), 0);
	assert_number(ax0, "1");
	assert_number(ax1, "2");
	assert_int_equal(api_call(a, "DELETE", path, NULL, &j), 404);
	json_decref(j);

	/* Members. */
	snprintf(path, sizeof path, "/api/v1/plans/%lld/members", (long long)plan);
	assert_int_equal(api_call(a, "POST", path,
	                          "{\"email\":\"b-api-reader@example.org\",\"role\":\"reader\"}",
	                          &j),
	                 201);
	assert_string_equal(jstr(json_object_get(j, "member"), "role"), "reader");
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path,
	                          "{\"email\":\"b-api-reader@example.org\",\"role\":\"pilot\"}",
	                          &j),
	                 409);
	json_decref(j);
	assert_int_equal(
	    api_call(a, "POST", path, "{\"email\":\"x@example.org\",\"role\":\"root\"}", &j), 422);
	json_decref(j);
	assert_int_equal(api_call(a, "POST", path,
	                          "{\"email\":\"api.invite@example.org\",\"role\":\"pilot\"}", &j),
	                 201);
	json_t *inv = json_object_get(j, "invitation");
	assert_int_equal(strlen(jstr(inv, "token")), 64);
	assert_true(!strncmp(jstr(inv, "url"), "/invitation/", 12));
	json_decref(j);
	assert_int_equal(api_call(a, "GET", path, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "members")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "invitations")), 1);
	assert_string_equal(jstr(json_array_get(json_object_get(j, "members"), 0), "email"),
	                    "b-api@example.org");
	json_decref(j);
	/* The reader, now a member, sees the list without e-mails and cannot write. */
	assert_int_equal(api_call(rd, "GET", path, NULL, &j), 200);
	assert_null(json_object_get(json_array_get(json_object_get(j, "members"), 0), "email"));
	assert_null(json_object_get(j, "invitations"));
	json_decref(j);
	assert_int_equal(api_call(rd, "POST", path,
	                          "{\"email\":\"z@example.org\",\"role\":\"coordinator\"}", &j),
	                 403);
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/nodes/%lld", (long long)ax0);
	assert_int_equal(api_call(rd, "PATCH", path, "{\"title\":\"Pirate\"}", &j), 403);
	json_decref(j);
	assert_int_equal(api_call(rd, "DELETE", path, NULL, &j), 403);
	json_decref(j);
	/* Without the CSRF header, nothing. */
	free(a->csrf);
	a->csrf = NULL;
	assert_int_equal(api_call(a, "DELETE", path, NULL, &j), 403);
	json_decref(j);
	assert_number(ax0, "1");
	api_free(rd);
	api_free(a);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_plan_only_for_coordinator_accounts),
	    cmocka_unit_test(test_plan_edit_refuses_bad_inputs_and_escapes),
	    cmocka_unit_test(test_tree_three_levels_moves_and_numbers),
	    cmocka_unit_test(test_node_edit_tags_fiche_flag_and_delete),
	    cmocka_unit_test(test_readers_partners_pilots_cannot_edit),
	    cmocka_unit_test(test_member_of_another_plan_gets_404_everywhere),
	    cmocka_unit_test(test_members_and_invitations),
	    cmocka_unit_test(test_api_plans_nodes_members),
	};
	int rc = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return rc;
}
