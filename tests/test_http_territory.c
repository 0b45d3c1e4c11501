/* test_http_territory: the territory (geo.c) and the actors (actors.c) over HTTP, on the demo
 * database — pages, search with accent folding, API, errors, private plans, valid HTML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "harness.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define NNBSP "\xe2\x80\xaf" /* U+202F narrow no-break space */

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
		fail_msg("did not expect '%s' in the body", needle);
}

/* Occurrences of needle in the body. */
static int count_in(const struct resp *r, const char *needle)
{
	int n = 0;
	for (const char *p = buf_str(&r->body); (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * The part of the body from the first `marker` to the end of its <section> (malloc'ed): the
 * header's plan switcher links to plans too, so assertions about a page's own list of plans
 * look only there.
 */
static char *section(const struct resp *r, const char *marker)
{
	const char *start = strstr(buf_str(&r->body), marker);
	if (!start)
		fail_msg("no '%s' in the body", marker);
	const char *end = strstr(start, "</section>");
	return xstrndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* GET path as an anonymous client. */
static void get(const char *path, struct resp *r)
{
	struct client *c = client_new(&T);
	client_get(c, path, r);
	client_free(c);
}

/* GET path, expect `status` and a JSON body; returns the parsed document (caller decrefs). */
static json_t *get_json(const char *path, long status)
{
	struct resp r;
	get(path, &r);
	if (r.status != status)
		fail_msg("%s: status %ld, expected %ld", path, r.status, status);
	char *ctype = resp_get_header(&r, "Content-Type");
	if (!ctype || !strstr(ctype, "application/json"))
		fail_msg("%s: Content-Type '%s', expected JSON", path, ctype ? ctype : "(absent)");
	free(ctype);
	json_error_t je;
	json_t *doc = json_loadb(buf_str(&r.body), r.body.len, 0, &je);
	if (!doc)
		fail_msg("%s: not JSON (%s): %s", path, je.text, buf_str(&r.body));
	resp_free(&r);
	return doc;
}

/* The API error document: status, then error.code and a non-empty error.message. */
static void assert_api_error(const char *path, long status)
{
	json_t *doc = get_json(path, status);
	json_t *err = json_object_get(doc, "error");
	assert_true(json_is_object(err));
	assert_true(json_is_string(json_object_get(err, "code")));
	const char *message = json_string_value(json_object_get(err, "message"));
	assert_non_null(message);
	assert_true(strlen(message) > 10);
	json_decref(doc);
}

/* The HTML page answers `status` (text/html). */
static void assert_page_status(const char *path, long status)
{
	struct resp r;
	get(path, &r);
	if (r.status != status)
		fail_msg("%s: status %ld, expected %ld", path, r.status, status);
	char *ctype = resp_get_header(&r, "Content-Type");
	assert_non_null(ctype);
	assert_non_null(strstr(ctype, "text/html"));
	free(ctype);
	resp_free(&r);
}

/* The id of the actor named `name` in the test database. */
static int64_t actor_id(const char *name)
{
	struct db *db = th_db(&T);
	int64_t id = 0;
	assert_int_equal(db_int64f(db, &id, "SELECT id FROM actors WHERE name = ?", "s", name),
	                 DB_OK);
	db_close(db);
	return id;
}

/* The id of the plan whose title contains `part`. */
static int64_t plan_id(const char *part)
{
	struct db *db = th_db(&T);
	int64_t id = 0;
	char *pattern = text_like_pattern("%", part, "%");
	assert_int_equal(
	    db_int64f(db, &id, "SELECT id FROM plans WHERE title LIKE ? ESCAPE '\\'", "s", pattern),
	    DB_OK);
	free(pattern);
	db_close(db);
	return id;
}

/* The codes of the items of an API list, in order, joined by spaces (caller frees). */
static char *item_codes(json_t *doc, const char *key)
{
	struct buf b = {0};
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(doc, "items"), i, it)
	{
		if (i)
			buf_putc(&b, ' ');
		json_t *v = json_object_get(it, key);
		if (json_is_integer(v))
			buf_printf(&b, "%lld", (long long)json_integer_value(v));
		else
			buf_puts(&b, json_string_value(v));
	}
	return buf_steal(&b);
}

/* --- territory pages ------------------------------------------------------------------------ */

static void test_territory_lists_departements_and_epcis(void **state)
{
	(void)state;
	struct resp r;
	get("/territoire", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h2 id=\"dep-26-title\">Drôme (26)</h2>");
	assert_has(&r, "<h2 id=\"dep-07-title\">Ardèche (07)</h2>");
	assert_has(&r, "<a href=\"/epcis/200040509\">CC du Crestois et de Pays de Saillans Coeur "
	               "de Drôme</a>");
	/* EPCIs ordered by their folded name: "CC des Baronnies…" before "CC Dieulefit…", which
	 * byte order ('D' < 'd') would invert. */
	const char *body = buf_str(&r.body);
	const char *baronnies = strstr(body, "CC des Baronnies en Drôme Provençale");
	const char *dieulefit = strstr(body, "CC Dieulefit-Bourdeaux");
	assert_non_null(baronnies);
	assert_non_null(dieulefit);
	assert_true(baronnies < dieulefit);
	resp_free(&r);
}

static void test_commune_search_folds_accents(void **state)
{
	(void)state;
	struct resp r;
	get("/communes?q=etoile%20sur%20rhone", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<a href=\"/communes/26124\">Étoile-sur-Rhône</a>");
	resp_free(&r);
	/* Upper case, accents and hyphens in the text fold the same way. */
	get("/communes?q=%C3%89TOILE-SUR-RH%C3%94NE", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<a href=\"/communes/26124\">Étoile-sur-Rhône</a>");
	assert_has(&r, "1 commune correspond à");
	resp_free(&r);
	/* Nothing for a name that is not there. */
	get("/communes?q=zzzyx", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Aucune commune ne correspond à « zzzyx »");
	assert_lacks(&r, "<a href=\"/communes/");
	resp_free(&r);
}

static void test_commune_search_by_codes(void **state)
{
	(void)state;
	struct resp r;
	/* A postal code shared by 24 communes, Crest among them. */
	get("/communes?q=26400", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<a href=\"/communes/26108\">Crest</a>");
	assert_has(&r, "<a href=\"/communes/26011\">Aouste-sur-Sye</a>");
	assert_has(&r, "24 communes correspondent");
	resp_free(&r);
	/* An INSEE code prefix. */
	get("/communes?q=2610", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<a href=\"/communes/26108\">Crest</a>");
	assert_lacks(&r, "<a href=\"/communes/26124\">");
	resp_free(&r);
}

static void test_commune_search_escapes_and_limits(void **state)
{
	(void)state;
	struct resp r;
	get("/communes?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>alert(1)");
	assert_has(&r, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"");
	assert_has(&r, "« &lt;script&gt;alert(1)&lt;/script&gt; »");
	resp_free(&r);

	/* 100 characters are accepted (accented ones count once), 101 are not. */
	struct buf q = {0};
	buf_puts(&q, "/communes?q=");
	for (int i = 0; i < 100; i++)
		buf_puts(&q, "%C3%A9"); /* é: two bytes, one character */
	assert_page_status(buf_str(&q), 200);
	buf_puts(&q, "a");
	assert_page_status(buf_str(&q), 400);
	buf_free(&q);
	struct buf api = {0};
	buf_puts(&api, "/api/v1/communes?q=");
	for (int i = 0; i < 101; i++)
		buf_putc(&api, 'a');
	assert_api_error(buf_str(&api), 400);
	buf_free(&api);
}

static void test_commune_search_pages(void **state)
{
	(void)state;
	struct resp r;
	/* More than 50 communes hold "saint": two pages at least, and a page beyond is said so. */
	get("/communes?q=saint", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(count_in(&r, "<th scope=\"row\"><a href=\"/communes/"), 50);
	assert_has(&r, "rel=\"next\"");
	assert_lacks(&r, "rel=\"prev\"");
	resp_free(&r);
	get("/communes?q=saint&page=2", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Page 2 sur");
	assert_has(&r, "rel=\"prev\"");
	resp_free(&r);
	get("/communes?q=saint&page=9999", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Cette page n'existe pas");
	resp_free(&r);
	assert_page_status("/communes?q=saint&page=0", 400);
	assert_page_status("/communes?q=saint&page=abc", 400);
}

static void test_commune_page(void **state)
{
	(void)state;
	struct resp r;
	get("/communes/26108", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h1>Crest</h1>");
	/* Thousands separated by a narrow no-break space (U+202F), not a plain space. */
	assert_has(&r, "8" NNBSP "658 habitants");
	assert_lacks(&r, "8 658");
	assert_lacks(&r, "8658");
	assert_has(&r, "<a href=\"/epcis/200040509\">CC du Crestois et de Pays de Saillans Coeur "
	               "de Drôme</a>");
	assert_has(&r, "26400");
	/* The plans covering it: the Crestois CTG (through its EPCI), not the Diois one. */
	int64_t crestois = plan_id("Crestois"), diois = plan_id("Diois");
	assert_true(crestois > 0 && diois > 0);
	char *plans = section(&r, "<h2 id=\"plans\">");
	char *link = xasprintf("<a href=\"/plans/%lld\">", (long long)crestois);
	assert_non_null(strstr(plans, link));
	free(link);
	link = xasprintf("<a href=\"/plans/%lld\">", (long long)diois);
	assert_null(strstr(plans, link));
	free(link);
	assert_non_null(strstr(plans, "par son EPCI"));
	free(plans);
	/* Its actors, with the product's kind labels. */
	char *actor =
	    xasprintf("<a href=\"/acteurs/%lld\">", (long long)actor_id("Commune de Crest"));
	assert_has(&r, actor);
	free(actor);
	resp_free(&r);

	assert_page_status("/communes/99999", 404);
	assert_page_status("/communes/abc", 404);
	assert_page_status("/communes/261080", 404);
}

static void test_epci_page(void **state)
{
	(void)state;
	struct resp r;
	get("/epcis/200040509", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h1>CC du Crestois et de Pays de Saillans Coeur de Drôme</h1>");
	assert_int_equal(count_in(&r, "<th scope=\"row\"><a href=\"/communes/"), 14);
	assert_has(&r, "Total (14 communes)");
	/* Members by folded name: Aouste-sur-Sye first, Vercheny last. */
	const char *body = buf_str(&r.body);
	const char *aouste = strstr(body, ">Aouste-sur-Sye</a>");
	const char *chaudiere = strstr(body, ">La Chaudière</a>");
	const char *vercheny = strstr(body, ">Vercheny</a>");
	assert_true(aouste && chaudiere && vercheny && aouste < chaudiere && chaudiere < vercheny);
	char *plans = section(&r, "<h2 id=\"plans\">");
	char *link = xasprintf("<a href=\"/plans/%lld\">", (long long)plan_id("Crestois"));
	assert_non_null(strstr(plans, link));
	free(link);
	free(plans);
	resp_free(&r);

	assert_page_status("/epcis/123", 404);
	assert_page_status("/epcis/999999999", 404);
}

/* --- territory API --------------------------------------------------------------------------- */

static void test_api_communes(void **state)
{
	(void)state;
	json_t *doc = get_json("/api/v1/communes?q=crest", 200);
	assert_true(json_integer_value(json_object_get(doc, "total")) >= 1);
	json_t *crest = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(doc, "items"), i, it)
	{
		if (!strcmp(json_string_value(json_object_get(it, "code")), "26108"))
			crest = it;
	}
	assert_non_null(crest);
	assert_string_equal(json_string_value(json_object_get(crest, "name")), "Crest");
	assert_true(json_is_real(json_object_get(crest, "latitude")));
	double lat = json_real_value(json_object_get(crest, "latitude"));
	assert_true(lat > 44.6 && lat < 44.8);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(crest, "postal_codes"), 0)), "26400");
	json_decref(doc);

	/* Ranking: the exact name, then names that start with the text, then the others —
	 * alphabetical order would put Saint-Michel-sur-Savasse first. */
	doc = get_json("/api/v1/communes?q=SAVAS", 200);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 3);
	char *codes = item_codes(doc, "code");
	assert_string_equal(codes, "07310 26339 26319");
	free(codes);
	json_decref(doc);
	/* Pagination over the same ranking. */
	doc = get_json("/api/v1/communes?q=savas&limit=1&offset=1", 200);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 3);
	assert_int_equal(json_integer_value(json_object_get(doc, "limit")), 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "offset")), 1);
	codes = item_codes(doc, "code");
	assert_string_equal(codes, "26339");
	free(codes);
	json_decref(doc);
	/* Accent folding through the API too. */
	doc = get_json("/api/v1/communes?q=etoile%20sur%20rhone", 200);
	codes = item_codes(doc, "code");
	assert_string_equal(codes, "26124");
	free(codes);
	json_decref(doc);
	/* A département filter. */
	doc = get_json("/api/v1/communes?q=crest&departement=07", 200);
	codes = item_codes(doc, "code");
	assert_string_equal(codes, "07073"); /* Le Crestet, not Crest */
	free(codes);
	json_decref(doc);

	assert_api_error("/api/v1/communes?limit=501", 400);
	assert_api_error("/api/v1/communes?offset=-1", 400);
	assert_api_error("/api/v1/communes?limit=abc", 400);
	assert_api_error("/api/v1/communes?departement=xyz", 400);
	assert_api_error("/api/v1/communes?epci=12", 400);
}

static void test_api_commune_and_epcis(void **state)
{
	(void)state;
	json_t *doc = get_json("/api/v1/communes/26108", 200);
	assert_string_equal(json_string_value(json_object_get(doc, "name")), "Crest");
	assert_int_equal(json_integer_value(json_object_get(doc, "population")), 8658);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "epci"), "code")), "200040509");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "departement"), "code")), "26");
	assert_true(json_array_size(json_object_get(doc, "actors")) >= 3);
	json_decref(doc);
	assert_api_error("/api/v1/communes/99999", 404);

	doc = get_json("/api/v1/epcis?departement=26", 200);
	json_t *items = json_object_get(doc, "items");
	assert_int_equal(json_array_size(items), 16);
	/* Ordered by folded name (byte order would put "CC Dieulefit…" before "CC des…"). */
	char *prev = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		char *key = text_fold(json_string_value(json_object_get(it, "name")));
		if (prev && strcmp(prev, key) > 0)
			fail_msg("EPCI order: '%s' before '%s'", prev, key);
		free(prev);
		prev = key;
	}
	free(prev);
	json_decref(doc);

	doc = get_json("/api/v1/epcis/200040509", 200);
	assert_int_equal(json_array_size(json_object_get(doc, "communes")), 14);
	assert_int_equal(json_integer_value(json_object_get(doc, "commune_count")), 14);
	assert_string_equal(json_string_value(json_object_get(doc, "kind_label")),
	                    "Communauté de communes");
	json_decref(doc);
	assert_api_error("/api/v1/epcis/123", 404);
	assert_api_error("/api/v1/epcis?departement=abc", 400);
}

/* --- actors ------------------------------------------------------------------------------------
 */

static void test_actors_list_and_search(void **state)
{
	(void)state;
	int64_t caf = actor_id("Caf de la Drôme");
	assert_true(caf > 0);
	char *caf_link = xasprintf("<a href=\"/acteurs/%lld\">Caf de la Drôme</a>", (long long)caf);
	struct resp r;
	get("/acteurs", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, caf_link);
	resp_free(&r);

	/* "drome" finds "Drôme": the name is compared through its folded key. */
	get("/acteurs?q=drome", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, caf_link);
	assert_has(&r, ">Département de la Drôme</a>");
	assert_lacks(&r, ">Mission locale</a>");
	resp_free(&r);
	get("/acteurs?q=CAF%20DE%20LA%20DR%C3%94ME", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, caf_link);
	assert_has(&r, "1 acteur correspond à ces critères");
	resp_free(&r);

	/* A commune given by name, without its accents or hyphens. */
	get("/acteurs?commune=piegros%20la%20clastre", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, ">Commune de Piégros-la-Clastre</a>");
	assert_has(&r, "1 acteur correspond à ces critères");
	resp_free(&r);

	/* SQL metacharacters are data: no error, no row. */
	get("/acteurs?q=%27%20OR%201%3D1%20--", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Aucun acteur ne correspond à ces critères.");
	assert_lacks(&r, "<th scope=\"row\"><a href=\"/acteurs/");
	assert_has(&r, "value=\"&#39; OR 1=1 --\"");
	resp_free(&r);
	/* LIKE wildcards too. */
	get("/acteurs?q=%25", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Aucun acteur ne correspond à ces critères.");
	resp_free(&r);

	get("/acteurs?type=nope", &r);
	assert_int_equal(r.status, 400);
	assert_has(&r, "Ce type d&#39;acteur n&#39;existe pas");
	resp_free(&r);
	free(caf_link);
}

static void test_actor_page(void **state)
{
	(void)state;
	int64_t caf = actor_id("Caf de la Drôme");
	char *path = xasprintf("/acteurs/%lld", (long long)caf);
	struct resp r;
	get(path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h1>Caf de la Drôme</h1>");
	assert_has(&r, "<a href=\"/communes/26362\">Valence</a> (26362)");
	char *plans = section(&r, "<h2 id=\"plans-signes\">");
	char *link = xasprintf("<a href=\"/plans/%lld\">", (long long)plan_id("Crestois"));
	assert_non_null(strstr(plans, link));
	free(link);
	free(plans);
	resp_free(&r);
	free(path);
	assert_page_status("/acteurs/999999", 404);
	assert_page_status("/acteurs/abc", 404);
}

static void test_api_actors(void **state)
{
	(void)state;
	json_t *doc = get_json("/api/v1/actors?type=centre_social", 200);
	json_t *items = json_object_get(doc, "items");
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 7);
	assert_int_equal(json_array_size(items), 7);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		assert_string_equal(json_string_value(json_object_get(it, "kind")),
		                    "centre_social");
		assert_string_equal(json_string_value(json_object_get(it, "kind_label")),
		                    "Centre social");
	}
	json_decref(doc);

	doc = get_json("/api/v1/actors?q=drome&type=caf", 200);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(doc, "items"), 0), "name")),
	                    "Caf de la Drôme");
	json_decref(doc);

	assert_api_error("/api/v1/actors/999999", 404);
	assert_api_error("/api/v1/actors?type=nope", 400);
	assert_api_error("/api/v1/actors?limit=0", 400);
}

/* A private plan signed by an actor stays off its page and API for anonymous clients. */
static void test_private_plan_hidden_from_actor(void **state)
{
	(void)state;
	static const char title[] = "Plan privé du test des acteurs";
	int64_t caf = actor_id("Caf de la Drôme"), plan = 0;
	struct db *db = th_db(&T);
	char now[32];
	time_iso_now(now);
	assert_int_equal(db_int64f(db, &plan,
	                           "INSERT INTO plans (kind, title, is_public, created_at, "
	                           "updated_at) VALUES ('ctg', ?, 0, ?, ?) RETURNING id",
	                           "sss", title, now, now),
	                 DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_signatories (plan_id, actor_id) VALUES (?, ?)",
	                          "II", plan, caf),
	                 DB_OK);
	db_close(db);

	char *page = xasprintf("/acteurs/%lld", (long long)caf);
	char *api = xasprintf("/api/v1/actors/%lld", (long long)caf);
	struct resp r;
	get(page, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, title);
	char *plans = section(&r, "<h2 id=\"plans-signes\">");
	char *link = xasprintf("<a href=\"/plans/%lld\">", (long long)plan);
	assert_null(strstr(plans, link));
	/* The public plans it signed are still there. */
	char *crestois = xasprintf("<a href=\"/plans/%lld\">", (long long)plan_id("Crestois"));
	assert_non_null(strstr(plans, crestois));
	free(plans);
	resp_free(&r);

	json_t *doc = get_json(api, 200);
	json_t *signed_plans = json_object_get(doc, "signed_plans");
	assert_true(json_array_size(signed_plans) >= 2); /* the Crestois and Diois CTGs */
	size_t i;
	json_t *p;
	json_array_foreach(signed_plans, i, p)
	{
		assert_int_not_equal(json_integer_value(json_object_get(p, "id")), plan);
		assert_string_not_equal(json_string_value(json_object_get(p, "title")), title);
	}
	json_decref(doc);

	/* An administrator sees it: the plan and its signature are really there. */
	struct client *admin = client_new(&T);
	assert_int_equal(client_login(admin, DEMO_ADMIN, DEMO_PASSWORD), 303);
	client_get(admin, page, &r);
	assert_int_equal(r.status, 200);
	plans = section(&r, "<h2 id=\"plans-signes\">");
	assert_non_null(strstr(plans, link));
	assert_non_null(strstr(plans, title));
	free(plans);
	resp_free(&r);
	client_free(admin);

	free(crestois);
	free(link);
	free(api);
	free(page);
}

/* --- valid HTML --------------------------------------------------------------------------------
 */

/* Every territory and actor page passes tidy without errors (skipped when tidy is missing). */
static void test_pages_are_valid_html(void **state)
{
	(void)state;
	if (system("command -v tidy >/dev/null 2>&1") != 0)
		skip();
	char dir[256];
	th_tmpdir(dir, sizeof dir);
	char *file = xasprintf("%s/page.html", dir);
	char *actor = xasprintf("/acteurs/%lld", (long long)actor_id("Caf de la Drôme"));
	const char *pages[] = {"/territoire",       "/communes?q=crest", "/communes?q=saint&page=2",
	                       "/communes/26108",   "/epcis/200040509",  "/acteurs",
	                       "/acteurs?q=drome",  "/acteurs/1",        actor,
	                       "/acteurs?type=nope"};
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		struct resp r;
		get(pages[i], &r);
		FILE *f = fopen(file, "w");
		assert_non_null(f);
		fwrite(buf_str(&r.body), 1, r.body.len, f);
		fclose(f);
		resp_free(&r);
		/* tidy exits 1 on warnings, 2 on errors. */
		char *cmd =
		    xasprintf("tidy -q -e --show-warnings no '%s' >'%s.out' 2>&1", file, file);
		int rc = system(cmd);
		free(cmd);
		if (!WIFEXITED(rc) || WEXITSTATUS(rc) >= 2) {
			char *out = xasprintf("%s.out", file);
			size_t len = 0;
			char *text = file_read_all(out, &len);
			fail_msg("tidy errors on %s:\n%s", pages[i], text ? text : "");
		}
	}
	free(actor);
	free(file);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_territory_lists_departements_and_epcis),
	    cmocka_unit_test(test_commune_search_folds_accents),
	    cmocka_unit_test(test_commune_search_by_codes),
	    cmocka_unit_test(test_commune_search_escapes_and_limits),
	    cmocka_unit_test(test_commune_search_pages),
	    cmocka_unit_test(test_commune_page),
	    cmocka_unit_test(test_epci_page),
	    cmocka_unit_test(test_api_communes),
	    cmocka_unit_test(test_api_commune_and_epcis),
	    cmocka_unit_test(test_actors_list_and_search),
	    cmocka_unit_test(test_actor_page),
	    cmocka_unit_test(test_api_actors),
	    cmocka_unit_test(test_pages_are_valid_html),
	    cmocka_unit_test(test_private_plan_hidden_from_actor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
