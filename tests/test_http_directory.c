/* test_http_directory: the directory of structures over HTTP — SIRET check, creating and editing
 * actors (bad and hostile input, permissions, deletion), contacts under the RGPD (who sees them,
 * export, erasure scrubbing the audit log), networks, and the CSV import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "actors.h"
#include "db.h"
#include "demo.h"
#include "harness.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (!has(r, needle)) {
		FILE *f = fopen("/tmp/test_http_directory-failure.html", "w");
		if (f) {
			fputs(buf_str(&r->body), f);
			fclose(f);
		}
		fail_msg("expected '%s' in the body (status %ld): %s", needle, r->status,
		         buf_str(&r->body));
	}
}

static void assert_lacks(const struct resp *r, const char *needle)
{
	if (has(r, needle))
		fail_msg("did not expect '%s' in the body (status %ld)", needle, r->status);
}

static struct client *login(const char *who)
{
	struct client *c = client_new(&T);
	char email[128];
	snprintf(email, sizeof email, "%s@demo.maillage.fr", who);
	assert_int_equal(client_login(c, email, DEMO_PASSWORD), 303);
	return c;
}

/* POST fields to path with the CSRF token of the form at page (or of "/" when page is NULL). */
static long post(struct client *c, const char *page, const char *path, const char *fields,
                 struct resp *out)
{
	client_submit(c, page ? page : "/", path, fields, out);
	return out->status;
}

static int64_t count(const char *sql, const char *arg)
{
	struct db *db = th_db(&T);
	int64_t n = -1;
	if (db_int64f(db, &n, sql, arg ? "s" : "", arg) != DB_OK)
		fail_msg("%s: %s", sql, db_errmsg(db));
	db_close(db);
	return n;
}

static int64_t actor_id(const char *name)
{
	return count("SELECT COALESCE(MAX(id), 0) FROM actors WHERE name = ?", name);
}

/* --- SIRET ----------------------------------------------------------------------------------- */

static void test_siret_luhn(void **state)
{
	(void)state;
	assert_true(siret_valid("73282932000074"));
	assert_true(siret_valid("44306184100047"));
	assert_true(siret_valid("35600000000048")); /* La Poste head office: passes Luhn */
	assert_true(siret_valid("35600000000010")); /* La Poste: digit sum 15, multiple of 5 */
	assert_false(siret_valid("35600000000011"));
	assert_false(siret_valid("73282932000075"));
	assert_false(siret_valid("73282932000047"));
	assert_false(siret_valid("7328293200007"));
	assert_false(siret_valid("732829320000740"));
	assert_false(siret_valid("7328293200007A"));
	assert_false(siret_valid(""));
	assert_false(siret_valid(NULL));
}

/* --- creating and editing ------------------------------------------------------------------ */

#define GOOD_FIELDS                                                                                \
	"type=association&siret=732+829+320+00074&adresse=1+rue+de+la+Gare&commune=26108"          \
	"&site=https%3A%2F%2Fexemple.fr&courriel=accueil%40exemple.fr&telephone=04+75+00+00+00"    \
	"&horaires=Lundi+9h-12h&description=Une+structure&thematiques=parentalite"                 \
	"&thematiques=jeunesse&competences=aide+aux+d%C3%A9marches%2C+Num%C3%A9rique"              \
	"&territoire=26108%0A26113"

static void test_actor_create_edit(void **state)
{
	(void)state;
	struct client *c = login("admin");
	struct resp r;
	int64_t before = count("SELECT COUNT(*) FROM actors", NULL);

	/* Bad inputs: each one refused with 422, the form kept, nothing stored. */
	const struct {
		const char *fields, *message;
	} bad[] = {
	    {"nom=&" GOOD_FIELDS, "Le nom de la structure est obligatoire"},
	    {"nom=Test+SIRET&type=association&siret=73282932000075", "Luhn"},
	    {"nom=Test+SIRET&type=association&siret=1234", "14 chiffres"},
	    {"nom=Test+type&type=pirate", "Le type « pirate » n&#39;existe pas"},
	    {"nom=Test+commune&type=association&commune=Atlantide", "inconnue"},
	    {"nom=Test+commune&type=association&commune=99999", "inconnue"},
	    {"nom=Test+site&type=association&site=javascript%3Aalert(1)", "http://"},
	    {"nom=Test+site&type=association&site=ftp%3A%2F%2Fx.fr", "http://"},
	    {"nom=Test+lat&type=association&latitude=95&longitude=5", "latitude"},
	    {"nom=Test+lat&type=association&latitude=44", "aucune des deux"},
	    {"nom=Test+mail&type=association&courriel=pas-une-adresse", "adresse"},
	    {"nom=Test+tel&type=association&telephone=abc", "téléphone"},
	    {"nom=Test+theme&type=association&thematiques=cuisine", "thématique"},
	    {"nom=Test+area&type=association&territoire=26108%0A12", "Territoire desservi"},
	    {"nom=Centre+social+%3Cb%3E&type=association&horaires=", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (!bad[i].message)
			continue;
		assert_int_equal(post(c, "/acteurs/nouveau", "/acteurs/nouveau", bad[i].fields, &r),
		                 422);
		assert_has(&r, bad[i].message);
		assert_has(&r, "<form method=\"post\" action=\"/acteurs/nouveau\"");
		resp_free(&r);
	}
	/* A name over 200 characters. */
	struct buf big = {0};
	buf_puts(&big, "type=association&nom=");
	for (int i = 0; i < 201; i++)
		buf_putc(&big, 'x');
	assert_int_equal(post(c, "/acteurs/nouveau", "/acteurs/nouveau", buf_str(&big), &r), 422);
	assert_has(&r, "200 caractères");
	resp_free(&r);
	buf_free(&big);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before);

	/* Hostile text comes back escaped, and is stored as typed. */
	assert_int_equal(
	    post(c, "/acteurs/nouveau", "/acteurs/nouveau",
	         "nom=%3Cscript%3Ealert(1)%3C%2Fscript%3E+%27+OR+1%3D1+--&" GOOD_FIELDS, &r),
	    303);
	resp_free(&r);
	int64_t id = actor_id("<script>alert(1)</script> ' OR 1=1 --");
	assert_true(id > 0);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 1);
	char path[128];
	snprintf(path, sizeof path, "/acteurs/%lld", (long long)id);
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>alert");
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_has(&r, "73282932000074");
	assert_has(&r, "Parentalité");
	assert_has(&r, "Jeunesse");
	assert_has(&r, "aide aux démarches");
	assert_has(&r, "Lundi 9h-12h");
	assert_has(&r, "accueil@exemple.fr");
	assert_has(&r, "Territoire desservi");
	resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/actors/%lld", (long long)id);
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	json_t *api = json_loads(buf_str(&r.body), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(api, "email")), "accueil@exemple.fr");
	assert_int_equal(json_array_size(json_object_get(api, "thematics")), 2);
	assert_int_equal(json_array_size(json_object_get(api, "area")), 2);
	json_decref(api);
	resp_free(&r);

	/* Stored with its search keys, thematics, competences, area and the commune's point. */
	char idtext[32];
	snprintf(idtext, sizeof idtext, "%lld", (long long)id);
	assert_int_equal(count("SELECT COUNT(*) FROM actors WHERE id = ? AND search_name = "
	                       "'<script>alert(1)</script> or 1=1'",
	                       idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_thematics WHERE actor_id = ?", idtext),
	                 2);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_competences WHERE actor_id = ? AND "
	                       "search_label IN ('aide aux demarches', 'numerique')",
	                       idtext),
	                 2);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_area WHERE actor_id = ?", idtext), 2);
	assert_int_equal(
	    count("SELECT COUNT(*) FROM actors a JOIN communes c ON c.code = a.commune "
	          "WHERE a.id = ? AND a.latitude = c.latitude AND "
	          "a.longitude = c.longitude",
	          idtext),
	    1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'actor' AND "
	                       "action = 'create' AND entity_id = ?",
	                       idtext),
	                 1);

	/* The same name again is refused. */
	assert_int_equal(
	    post(c, "/acteurs/nouveau", "/acteurs/nouveau",
	         "nom=%3Cscript%3Ealert(1)%3C%2Fscript%3E+%27+OR+1%3D1+--&" GOOD_FIELDS, &r),
	    422);
	assert_has(&r, "existe déjà");
	resp_free(&r);

	/* Edit: the form is filled; a new name, explicit coordinates, fewer thematics. */
	char edit[128];
	snprintf(edit, sizeof edit, "/acteurs/%lld/modifier", (long long)id);
	client_get(c, edit, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "value=\"parentalite\" checked");
	assert_has(&r, "&lt;script&gt;");
	resp_free(&r);
	assert_int_equal(post(c, edit, edit,
	                      "nom=Maison+des+familles&type=centre_social&commune=Crest"
	                      "&latitude=44%2C7&longitude=5.02&thematiques=logement",
	                      &r),
	                 303);
	resp_free(&r);
	assert_int_equal(actor_id("Maison des familles"), id);
	assert_int_equal(count("SELECT COUNT(*) FROM actors WHERE id = ? AND latitude = 44.7 AND "
	                       "commune = '26108' AND search_name = 'maison des familles' AND "
	                       "siret IS NULL",
	                       idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_thematics WHERE actor_id = ?", idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_competences WHERE actor_id = ?", idtext),
	                 0);
	assert_int_equal(
	    count("SELECT COUNT(*) FROM audit_log WHERE entity = 'actor' AND "
	          "action = 'update' AND entity_id = ? AND before_json LIKE '%script%'",
	          idtext),
	    1);
	/* Edit with a bad value keeps what was typed. */
	assert_int_equal(
	    post(c, edit, edit, "nom=Maison+des+familles&type=centre_social&site=www.x", &r), 422);
	assert_has(&r, "value=\"www.x\"");
	resp_free(&r);
	/* Unknown actor. */
	client_get(c, "/acteurs/999999/modifier", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(c);
}

static void test_actor_permissions(void **state)
{
	(void)state;
	int64_t before = count("SELECT COUNT(*) FROM actors", NULL);
	int64_t some = count("SELECT MIN(id) FROM actors", NULL);
	char edit[128], del[128];
	snprintf(edit, sizeof edit, "/acteurs/%lld/modifier", (long long)some);
	snprintf(del, sizeof del, "/acteurs/%lld/supprimer", (long long)some);
	const char *who[] = {"pilote", "partenaire", "lecture"};
	for (size_t i = 0; i < 3; i++) {
		struct client *c = login(who[i]);
		struct resp r;
		client_get(c, "/acteurs/nouveau", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		client_get(c, edit, &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		assert_int_equal(
		    post(c, NULL, "/acteurs/nouveau", "nom=Intrus&type=association", &r), 403);
		resp_free(&r);
		assert_int_equal(post(c, NULL, edit, "nom=Intrus&type=association", &r), 403);
		resp_free(&r);
		assert_int_equal(post(c, NULL, del, "", &r), 403);
		resp_free(&r);
		client_get(c, "/acteurs", &r);
		assert_lacks(&r, "/acteurs/nouveau");
		resp_free(&r);
		client_free(c);
	}
	struct client *anon = client_new(&T);
	struct resp r;
	client_get(anon, "/acteurs/nouveau", &r);
	assert_true(r.status != 200);
	assert_lacks(&r, "name=\"siret\"");
	resp_free(&r);
	client_free(anon);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before);
	assert_int_equal(actor_id("Intrus"), 0);

	/* A coordinator may create. */
	struct client *c = login("coordination");
	client_get(c, "/acteurs/nouveau", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(post(c, "/acteurs/nouveau", "/acteurs/nouveau",
	                      "nom=Structure+du+coordinateur&type=evs&commune=26108", &r),
	                 303);
	resp_free(&r);
	int64_t id = actor_id("Structure du coordinateur");
	assert_true(id > 0);
	/* …but not delete. */
	snprintf(del, sizeof del, "/acteurs/%lld/supprimer", (long long)id);
	assert_int_equal(post(c, NULL, del, "", &r), 403);
	resp_free(&r);
	client_free(c);
	assert_int_equal(actor_id("Structure du coordinateur"), id);
}

static void test_actor_delete(void **state)
{
	(void)state;
	struct client *c = login("admin");
	struct resp r;
	/* An actor that signed a plan: 409 naming the plan. */
	int64_t signer = count("SELECT MIN(actor_id) FROM plan_signatories", NULL);
	assert_true(signer > 0);
	char del[128];
	snprintf(del, sizeof del, "/acteurs/%lld/supprimer", (long long)signer);
	assert_int_equal(post(c, NULL, del, "", &r), 409);
	assert_has(&r, "signé les plans");
	resp_free(&r);
	snprintf(del, sizeof del, "%lld", (long long)signer);
	assert_int_equal(count("SELECT COUNT(*) FROM actors WHERE id = ?", del), 1);
	/* A fresh one goes, audited. */
	assert_int_equal(
	    post(c, "/acteurs/nouveau", "/acteurs/nouveau", "nom=%C3%80+supprimer&type=autre", &r),
	    303);
	resp_free(&r);
	int64_t id = actor_id("À supprimer");
	assert_true(id > 0);
	/* With a contact: deleted with it, and audited. */
	char add[64];
	snprintf(add, sizeof add, "/acteurs/%lld/contacts", (long long)id);
	snprintf(del, sizeof del, "/acteurs/%lld", (long long)id);
	assert_int_equal(
	    post(c, del, add, "nom=Paul+Partant&base=interet_legitime&note=Mission", &r), 303);
	resp_free(&r);
	int64_t cid = count("SELECT MAX(id) FROM contacts", NULL);
	snprintf(del, sizeof del, "/acteurs/%lld/supprimer", (long long)id);
	assert_int_equal(post(c, NULL, del, "", &r), 303);
	resp_free(&r);
	assert_int_equal(actor_id("À supprimer"), 0);
	assert_int_equal(count("SELECT COUNT(*) FROM contacts WHERE name = 'Paul Partant'", NULL),
	                 0);
	snprintf(del, sizeof del, "%lld", (long long)cid);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'contact' AND "
	                       "action = 'delete' AND entity_id = ?",
	                       del),
	                 1);
	snprintf(del, sizeof del, "%lld", (long long)id);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'actor' AND "
	                       "action = 'delete' AND entity_id = ?",
	                       del),
	                 1);
	client_free(c);
}

/* --- contacts -------------------------------------------------------------------------------- */

#define PERSON_EMAIL "marie.confidentielle@exemple.org"

static void test_contacts_rgpd(void **state)
{
	(void)state;
	struct client *admin = login("admin");
	struct resp r;
	assert_int_equal(post(admin, "/acteurs/nouveau", "/acteurs/nouveau",
	                      "nom=Centre+social+des+contacts&type=centre_social&commune=26108",
	                      &r),
	                 303);
	resp_free(&r);
	int64_t aid = actor_id("Centre social des contacts");
	char page[64], add[64];
	snprintf(page, sizeof page, "/acteurs/%lld", (long long)aid);
	snprintf(add, sizeof add, "/acteurs/%lld/contacts", (long long)aid);

	/* Bad inputs. */
	assert_int_equal(post(admin, page, add,
	                      "nom=Marie&courriel=" PERSON_EMAIL "&base=consentement&note=", &r),
	                 422);
	assert_has(&r, "note sur la base légale est obligatoire");
	assert_has(&r, PERSON_EMAIL);
	resp_free(&r);
	assert_int_equal(post(admin, page, add, "nom=Marie&base=autre&note=x", &r), 422);
	assert_has(&r, "base légale");
	resp_free(&r);
	assert_int_equal(post(admin, page, add, "nom=&base=consentement&note=x", &r), 422);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM contacts", NULL), 0);

	/* A good one, with hostile text. */
	assert_int_equal(
	    post(admin, page, add,
	         "nom=Marie+%3Cscript%3EConfidentielle&fonction=Directrice&courriel=" PERSON_EMAIL
	         "&telephone=06+12+34+56+78&base=consentement"
	         "&note=Accord+oral+du+3+mars+2025",
	         &r),
	    303);
	resp_free(&r);
	int64_t cid = count("SELECT MAX(id) FROM contacts", NULL);
	assert_true(cid > 0);

	/* Any logged-in account sees contacts; anonymous visitors never, nor the API. */
	struct client *reader = login("lecture");
	client_get(reader, page, &r);
	assert_has(&r, PERSON_EMAIL);
	assert_has(&r, "Marie &lt;script&gt;Confidentielle");
	assert_lacks(&r, "/contacts/"); /* no edit links for a reader */
	resp_free(&r);
	char cpath[128];
	snprintf(cpath, sizeof cpath, "/contacts/%lld/supprimer", (long long)cid);
	assert_int_equal(post(reader, NULL, cpath, "", &r), 403);
	resp_free(&r);
	snprintf(cpath, sizeof cpath, "/contacts/%lld/export.json", (long long)cid);
	client_get(reader, cpath, &r);
	assert_int_equal(r.status, 403);
	assert_lacks(&r, PERSON_EMAIL);
	resp_free(&r);
	client_free(reader);

	struct client *anon = client_new(&T);
	client_get(anon, page, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, PERSON_EMAIL);
	assert_lacks(&r, "Confidentielle");
	assert_lacks(&r, "Contacts</h2>");
	resp_free(&r);
	char api[64];
	snprintf(api, sizeof api, "/api/v1/actors/%lld", (long long)aid);
	client_get(anon, api, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, PERSON_EMAIL);
	assert_lacks(&r, "Confidentielle");
	resp_free(&r);
	client_get(anon, "/api/v1/actors?q=contacts", &r);
	assert_lacks(&r, PERSON_EMAIL);
	resp_free(&r);
	client_get(anon, cpath, &r);
	assert_true(r.status != 200);
	assert_lacks(&r, PERSON_EMAIL);
	resp_free(&r);
	client_free(anon);

	/* Edit. */
	char edit[64];
	snprintf(edit, sizeof edit, "/contacts/%lld/modifier", (long long)cid);
	client_get(admin, edit, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, PERSON_EMAIL);
	resp_free(&r);
	assert_int_equal(
	    post(admin, edit, edit,
	         "nom=Marie+Confidentielle&fonction=Directrice+adjointe&courriel=" PERSON_EMAIL
	         "&telephone=06+12+34+56+78&base=interet_legitime&note=Mission+publique",
	         &r),
	    303);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM contacts WHERE role = 'Directrice adjointe' "
	                       "AND legal_basis = 'interet_legitime'",
	                       NULL),
	                 1);

	/* Export: the row and every audit entry about the person. */
	client_get(admin, cpath, &r);
	assert_int_equal(r.status, 200);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	assert_non_null(doc);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "contact"), "email")),
	    PERSON_EMAIL);
	assert_int_equal(json_array_size(json_object_get(doc, "audit_log")), 2);
	json_decref(doc);
	resp_free(&r);
	assert_true(count("SELECT COUNT(*) FROM audit_log WHERE before_json LIKE ? OR "
	                  "after_json LIKE ?",
	                  "%" PERSON_EMAIL "%") > 0);

	/* A coordinator may not erase; the admin does. */
	char erase[64];
	snprintf(erase, sizeof erase, "/contacts/%lld/effacer", (long long)cid);
	struct client *coord = login("coordination");
	assert_int_equal(post(coord, NULL, erase, "", &r), 403);
	resp_free(&r);
	client_free(coord);
	assert_int_equal(count("SELECT COUNT(*) FROM contacts", NULL), 1);
	assert_int_equal(post(admin, page, erase, "", &r), 303);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM contacts", NULL), 0);
	/* The whole audit log, every column, no longer holds the person. */
	const char *needles[] = {"%" PERSON_EMAIL "%", "%Confidentielle%", "%06 12 34 56 78%",
	                         "%Accord oral%"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(
		    count("SELECT COUNT(*) FROM audit_log WHERE COALESCE(before_json, '') "
		          "|| COALESCE(after_json, '') || entity || COALESCE(entity_id, '') "
		          "|| action LIKE ?",
		          needles[i]),
		    0);
	char idtext[32];
	snprintf(idtext, sizeof idtext, "%lld", (long long)cid);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'contact' AND "
	                       "action = 'erase' AND entity_id = ?",
	                       idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'contact' AND "
	                       "entity_id = ? AND after_json LIKE '%[effacé]%'",
	                       idtext),
	                 2);
	client_get(admin, erase, &r);
	assert_true(r.status == 404 || r.status == 405);
	resp_free(&r);
	client_free(admin);
}

/* --- networks -------------------------------------------------------------------------------- */

static void test_networks(void **state)
{
	(void)state;
	struct client *admin = login("admin");
	struct resp r;
	assert_int_equal(post(admin, "/acteurs/nouveau", "/acteurs/nouveau",
	                      "nom=Centre+social+du+Crestois&type=centre_social&commune=26108", &r),
	                 303);
	resp_free(&r);
	assert_int_equal(post(admin, "/acteurs/nouveau", "/acteurs/nouveau",
	                      "nom=%C3%89cole+des+parents&type=association&commune=26108", &r),
	                 303);
	resp_free(&r);
	int64_t before = count("SELECT COUNT(*) FROM networks", NULL);
	/* Bad: unknown member on line 2, unknown coordinator, unknown thematic, no name. */
	assert_int_equal(post(admin, "/reseaux/nouveau", "/reseaux/nouveau",
	                      "nom=R%C3%A9seau+parentalit%C3%A9&thematique=parentalite"
	                      "&membres=Centre+social+du+Crestois%0AStructure+fant%C3%B4me",
	                      &r),
	                 422);
	assert_has(&r, "ligne 2");
	assert_has(&r, "Structure fantôme");
	resp_free(&r);
	assert_int_equal(post(admin, "/reseaux/nouveau", "/reseaux/nouveau",
	                      "nom=R%C3%A9seau&coordinateur=Personne", &r),
	                 422);
	resp_free(&r);
	assert_int_equal(post(admin, "/reseaux/nouveau", "/reseaux/nouveau",
	                      "nom=R%C3%A9seau&thematique=cuisine", &r),
	                 422);
	resp_free(&r);
	assert_int_equal(post(admin, "/reseaux/nouveau", "/reseaux/nouveau", "nom=", &r), 422);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM networks", NULL), before);

	/* Good: members by name (accents and case folded), hostile description escaped. */
	assert_int_equal(post(admin, "/reseaux/nouveau", "/reseaux/nouveau",
	                      "nom=R%C3%A9seau+parentalit%C3%A9&thematique=parentalite"
	                      "&coordinateur=Centre+social+du+Crestois"
	                      "&description=%3Cscript%3Ex%3C%2Fscript%3E"
	                      "&membres=Centre+social+du+Crestois%0D%0Aecole+des+parents%0A",
	                      &r),
	                 303);
	resp_free(&r);
	int64_t nid = count("SELECT id FROM networks WHERE name = ?", "Réseau parentalité");
	assert_true(nid > 0);
	char idtext[32];
	snprintf(idtext, sizeof idtext, "%lld", (long long)nid);
	assert_int_equal(count("SELECT COUNT(*) FROM network_members WHERE network_id = ?", idtext),
	                 2);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE entity = 'network' AND "
	                       "entity_id = ?",
	                       idtext),
	                 1);

	/* Public list and page. */
	struct client *anon = client_new(&T);
	client_get(anon, "/reseaux", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Réseau parentalité");
	assert_lacks(&r, "/reseaux/nouveau");
	resp_free(&r);
	char page[64], edit[64];
	snprintf(page, sizeof page, "/reseaux/%lld", (long long)nid);
	snprintf(edit, sizeof edit, "/reseaux/%lld/modifier", (long long)nid);
	client_get(anon, page, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "École des parents");
	assert_has(&r, "Parentalité");
	assert_has(&r, "&lt;script&gt;");
	assert_lacks(&r, "<script>x");
	resp_free(&r);
	client_get(anon, "/reseaux/999999", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(anon);

	/* The actor page names its networks. */
	char apage[64];
	snprintf(apage, sizeof apage, "/acteurs/%lld",
	         (long long)actor_id("Centre social du Crestois"));
	client_get(admin, apage, &r);
	assert_has(&r, "Réseau parentalité");
	assert_has(&r, "coordinatrice");
	resp_free(&r);

	/* Edit: one member fewer, no coordinator. */
	client_get(admin, edit, &r);
	assert_has(&r, "École des parents\n");
	resp_free(&r);
	assert_int_equal(post(admin, edit, edit,
	                      "nom=R%C3%A9seau+parentalit%C3%A9+du+Crestois&thematique=parentalite"
	                      "&membres=%C3%89cole+des+parents",
	                      &r),
	                 303);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM network_members WHERE network_id = ?", idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM networks WHERE id = ? AND "
	                       "coordinator_actor_id IS NULL",
	                       idtext),
	                 1);

	/* Readers and partners may not create or edit. */
	struct client *reader = login("partenaire");
	client_get(reader, "/reseaux/nouveau", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(post(reader, NULL, edit, "nom=Pirat%C3%A9", &r), 403);
	resp_free(&r);
	client_free(reader);
	assert_int_equal(count("SELECT COUNT(*) FROM networks WHERE name = 'Piraté'", NULL), 0);
	client_free(admin);
}

/* --- CSV import and API -------------------------------------------------------------------- */

#define CSV_HEADER "nom;type;siret;adresse;commune;site;telephone;courriel;thematiques;competences"

/* POST a CSV to the import form as a multipart file. */
static long import_file(struct client *c, const char *csv, int dry, struct resp *out)
{
	struct resp page;
	client_get(c, "/acteurs/importer", &page);
	char *tok = page_csrf_token(&page);
	resp_free(&page);
	assert_non_null(tok);
	struct buf b = {0};
	buf_printf(
	    &b,
	    "--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n"
	    "%s"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; "
	    "filename=\"structures.csv\"\r\nContent-Type: text/csv\r\n\r\n%s\r\n--XyZ--\r\n",
	    tok, dry ? "--XyZ\r\nContent-Disposition: form-data; name=\"essai\"\r\n\r\n1\r\n" : "",
	    csv);
	client_post(c, "/acteurs/importer", "multipart/form-data; boundary=XyZ", b.data, b.len,
	            out);
	buf_free(&b);
	free(tok);
	return out->status;
}

static void test_csv_import(void **state)
{
	(void)state;
	struct client *c = login("coordination");
	struct resp r;
	int64_t before = count("SELECT COUNT(*) FROM actors", NULL);
	int64_t audit_before = count("SELECT COUNT(*) FROM audit_log", NULL);

	/* A broken file: errors named by line and column, nothing stored. */
	const char *bad =
	    CSV_HEADER "\r\n"
	               "Maison France services de Crest;France services;73282932000074;"
	               "Place du Marché;26108;https://fs.exemple.fr;04 75 00 00 00;"
	               "fs@exemple.fr;acces-droits;numérique\r\n"
	               "Club inconnu;club;;;26108;;;;;\r\n"
	               "Asso SIRET;association;73282932000075;;26108;;;;;\r\n"
	               "Asso commune;association;;;Atlantide;;;;;\r\n"
	               "Maison France services de Crest;association;;;26108;;;;;\r\n"
	               "Asso site;association;;;26108;javascript:alert(1);;;;\r\n";
	assert_int_equal(import_file(c, bad, 0, &r), 422);
	assert_has(&r, "aucune structure n'a été enregistrée");
	assert_has(&r, "<tr><td>3</td><td>2</td><td>Le type « club » n&#39;existe pas");
	assert_has(&r, "<tr><td>4</td><td>3</td><td>Ce SIRET n&#39;est pas valide");
	assert_has(&r, "<tr><td>5</td><td>5</td><td>La commune « Atlantide » est inconnue");
	assert_has(&r, "<tr><td>6</td><td>1</td><td>Le nom « Maison France services de Crest » "
	               "figure déjà ligne 2");
	assert_has(&r, "<tr><td>7</td><td>6</td><td>Le site web");
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log", NULL), audit_before);

	/* Invalid UTF-8 (Latin-1 "é"), an unknown column, no header, a name of the directory. */
	assert_int_equal(import_file(c, CSV_HEADER "\nCaf\xe9;association;;;;;;;;\n", 0, &r), 422);
	assert_has(&r, "<tr><td>2</td><td></td><td>Le texte n&#39;est pas en UTF-8");
	resp_free(&r);
	assert_int_equal(import_file(c, "nom;type;couleur\nX;association;bleu\n", 0, &r), 422);
	assert_has(&r, "Colonne « couleur » inconnue");
	resp_free(&r);
	assert_int_equal(import_file(c, "", 0, &r), 422);
	resp_free(&r);
	assert_int_equal(
	    import_file(c, CSV_HEADER "\nMaison des familles;association;;;;;;;;\n", 0, &r), 422);
	assert_has(&r, "existe déjà dans l&#39;annuaire");
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before);

	/* A good file with a BOM, CRLF, quotes, labels for the type: a dry run stores nothing… */
	const char *good = "\xEF\xBB\xBF" CSV_HEADER "\r\n"
	                   "Maison France services de Crest;France services;73282932000074;"
	                   "Place du Marché;26108;https://fs.exemple.fr;04 75 00 00 00;"
	                   "fs@exemple.fr;acces-droits;\"numérique, aide aux démarches\"\r\n"
	                   "\"Ludothèque \"\"Le Dé\"\"\";Association;;;Crest;;;;"
	                   "Parentalité,enfance;jeux\r\n";
	assert_int_equal(import_file(c, good, 1, &r), 200);
	assert_has(&r, "2 structures seraient créées");
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before);
	/* …the real one stores both, audited. */
	assert_int_equal(import_file(c, good, 0, &r), 303);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 2);
	int64_t lud = actor_id("Ludothèque \"Le Dé\"");
	assert_true(lud > 0);
	char idtext[32];
	snprintf(idtext, sizeof idtext, "%lld", (long long)lud);
	assert_int_equal(count("SELECT COUNT(*) FROM actor_thematics WHERE actor_id = ?", idtext),
	                 2);
	assert_int_equal(count("SELECT COUNT(*) FROM actors WHERE id = ? AND kind = 'association' "
	                       "AND source = 'import csv' AND commune = '26108'",
	                       idtext),
	                 1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log", NULL), audit_before + 2);
	/* Importing it again: duplicates with the directory. */
	assert_int_equal(import_file(c, good, 0, &r), 422);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 2);

	/* A partner may not import. */
	struct client *p = login("partenaire");
	client_get(p, "/acteurs/importer", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(p);
	client_free(c);
}

static void test_api_writes(void **state)
{
	(void)state;
	struct client *c = login("admin");
	struct resp r;
	client_get(c, "/acteurs/nouveau", &r);
	char *tok = page_csrf_token(&r);
	resp_free(&r);
	char header[128];
	snprintf(header, sizeof header, "X-CSRF-Token: %s", tok);
	client_set_header(c, header);
	int64_t before = count("SELECT COUNT(*) FROM actors", NULL);

	const char *bad =
	    "{\"name\":\"API asso\",\"kind\":\"association\",\"siret\":\"12345678901234\"}";
	client_post(c, "/api/v1/actors", "application/json", bad, strlen(bad), &r);
	assert_int_equal(r.status, 422);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	json_t *err = json_object_get(doc, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")), "invalid");
	assert_true(json_array_size(json_object_get(err, "errors")) == 1);
	json_decref(doc);
	resp_free(&r);

	const char *good =
	    "{\"name\":\"API asso <b>\",\"kind\":\"association\",\"commune\":\"26108\","
	    "\"thematics\":[\"jeunesse\"],\"competences\":[\"sport\"],"
	    "\"latitude\":44.5,\"longitude\":5.1}";
	client_post(c, "/api/v1/actors", "application/json", good, strlen(good), &r);
	assert_int_equal(r.status, 201);
	doc = json_loads(buf_str(&r.body), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "API asso <b>");
	assert_true(json_array_size(json_object_get(doc, "thematics")) == 1);
	json_decref(doc);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 1);

	/* CSV through the API: errors by line and column, dry run, then for real. */
	const char *csv = CSV_HEADER "\nAPI un;association;;;26108;;;;;\nAPI deux;bidule;;;;;;;;\n";
	client_post(c, "/api/v1/actors/import", "text/csv", csv, strlen(csv), &r);
	assert_int_equal(r.status, 422);
	doc = json_loads(buf_str(&r.body), 0, NULL);
	json_t *e0 = json_array_get(json_object_get(json_object_get(doc, "error"), "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e0, "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(e0, "column")), 2);
	json_decref(doc);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 1);
	const char *csv2 = CSV_HEADER "\nAPI un;association;;;26108;;;;;\nAPI deux;eaje;;;;;;;;\n";
	client_post(c, "/api/v1/actors/import?dry_run=1", "text/csv", csv2, strlen(csv2), &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "\"valid\": 2");
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 1);
	client_post(c, "/api/v1/actors/import", "text/csv", csv2, strlen(csv2), &r);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM actors", NULL), before + 3);
	client_free(c);
	free(tok);

	/* Without a session, or as a reader: refused, nothing stored. */
	struct client *anon = client_new(&T);
	client_post(anon, "/api/v1/actors", "application/json", good, strlen(good), &r);
	assert_true(r.status == 401 || r.status == 403);
	resp_free(&r);
	client_free(anon);
	struct client *reader = login("lecture");
	client_get(reader, "/", &r);
	tok = page_csrf_token(&r);
	resp_free(&r);
	if (tok) {
		snprintf(header, sizeof header, "X-CSRF-Token: %s", tok);
		client_set_header(reader, header);
	}
	const char *other = "{\"name\":\"Lecteur intrus\",\"kind\":\"association\"}";
	client_post(reader, "/api/v1/actors", "application/json", other, strlen(other), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	free(tok);
	client_free(reader);
	assert_int_equal(actor_id("Lecteur intrus"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siret_luhn),        cmocka_unit_test(test_actor_create_edit),
	    cmocka_unit_test(test_actor_permissions), cmocka_unit_test(test_actor_delete),
	    cmocka_unit_test(test_contacts_rgpd),     cmocka_unit_test(test_networks),
	    cmocka_unit_test(test_csv_import),        cmocka_unit_test(test_api_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
