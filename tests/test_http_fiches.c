/* test_http_fiches: the fiche-action over HTTP — page and personal data, editing and its
 * permissions, closing, budget, links, hostile input, comments, "mes actions", the JSON API —
 * and the demo fiches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "demo_fiches.h"
#include "fiches.h"
#include "harness.h"
#include "users.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NNBSP "\xe2\x80\xaf"
#define NBSP  "\xc2\xa0"

static struct th T;
static int64_t crestois, pilot_id;

/* --- database helpers ------------------------------------------------------------------------ */

static void q_exec(const char *sql, const char *types, ...)
{
	struct db *db = th_db(&T);
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
	if (db_step(st) != DB_DONE)
		fail_msg("exec: %s (%s)", db_errmsg(db), sql);
	db_finalize(st);
	db_close(db);
}

static int64_t user_id(const char *email)
{
	return th_query_int(&T, "SELECT id FROM users WHERE email = ?", "s", email);
}

static int64_t make_user(const char *email, const char *role, int64_t plan, const char *plan_role)
{
	struct db *db = th_db(&T);
	char *err = NULL;
	int64_t id = 0;
	if (user_create(db, email, "Personne de test", role, "mot-de-passe-test", 0, "cli", &id,
	                &err))
		fail_msg("user_create: %s", err);
	if (plan &&
	    db_execf(db, "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, ?)",
	             "IIs", plan, id, plan_role) != DB_OK)
		fail_msg("member: %s", db_errmsg(db));
	db_close(db);
	return id;
}

/*
 * The k-th fiche (from 0, by id) of the Crestois plan in status en_cours that the demo pilot
 * does not pilot: each test takes its own so that they do not depend on one another.
 */
static int64_t other_fiche(int k)
{
	return th_query_int(
	    &T,
	    "SELECT f.node_id FROM fiches f JOIN nodes n ON n.id = f.node_id "
	    "WHERE n.plan_id = ? AND f.status = 'en_cours' AND NOT EXISTS (SELECT 1 FROM "
	    "fiche_pilots p WHERE p.node_id = f.node_id AND p.user_id = ?) "
	    "ORDER BY f.node_id LIMIT 1 OFFSET ?",
	    "III", crestois, pilot_id, (int64_t)k);
}

/* A fiche the demo pilot pilots, in status en_cours (k-th, from 0). */
static int64_t pilot_fiche(int k)
{
	return th_query_int(
	    &T,
	    "SELECT f.node_id FROM fiches f JOIN fiche_pilots p ON p.node_id = f.node_id "
	    "WHERE p.user_id = ? AND f.status = 'en_cours' ORDER BY f.node_id "
	    "LIMIT 1 OFFSET ?",
	    "II", pilot_id, (int64_t)k);
}

/* --- setup: the demo database, with its fiches ---------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	th_start(&T,
	         1); /* the demo loads its fiches (demo_fiches_load, demo_fiches_assign_pilot) */
	crestois = th_query_int(&T, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", "");
	pilot_id = user_id("pilote@demo.maillage.fr");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- HTTP helpers ---------------------------------------------------------------------------- */

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

/* On failure, the page goes to $TEST_DUMP (when set) for a look. */
static void dump(const struct resp *r)
{
	const char *path = getenv("TEST_DUMP");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (f) {
		fputs(buf_str(&r->body), f);
		fclose(f);
	}
}

#define assert_has(r, needle)                                                                      \
	do {                                                                                       \
		if (!has(r, needle) && (dump(r), 1))                                               \
			fail_msg("expected «%s» in the answer (status %ld)", needle, (r)->status); \
	} while (0)
#define assert_lacks(r, needle)                                                                    \
	do {                                                                                       \
		if (has(r, needle))                                                                \
			fail_msg("unexpected «%s» in the answer (status %ld)", needle,             \
			         (r)->status);                                                     \
	} while (0)

static struct client *as(const char *email)
{
	struct client *c = client_new(&T);
	const char *pw = strstr(email, "@demo.maillage.fr") ? DEMO_PASSWORD : "mot-de-passe-test";
	assert_int_equal(client_login(c, email, pw), 303);
	return c;
}

static void get_as(struct client *c, const char *fmt, int64_t id, struct resp *r)
{
	char path[128];
	snprintf(path, sizeof path, fmt, (long long)id);
	if (c) {
		client_get(c, path, r);
	} else {
		struct client *anon = client_new(&T);
		client_get(anon, path, r);
		client_free(anon);
	}
}

/* POST fields (urlencoded, without the token) to fmt(id), with the token of the page fmt_page. */
static void submit(struct client *c, const char *fmt, int64_t id, const char *fields,
                   struct resp *r)
{
	char path[128];
	snprintf(path, sizeof path, fmt, (long long)id);
	client_submit(c, "/mes-actions", path, fields, r);
}

/* "key=value" with value URL-encoded, appended to b with "&" when needed. */
static void field(struct buf *b, const char *key, const char *value)
{
	if (b->len)
		buf_putc(b, '&');
	buf_puts(b, key);
	buf_putc(b, '=');
	buf_url(b, value);
}

static void assert_location(const struct resp *r, const char *prefix)
{
	char *loc = resp_get_header(r, "Location");
	if (!loc || strncmp(loc, prefix, strlen(prefix)))
		fail_msg("Location: expected %s…, got %s", prefix, loc ? loc : "(none)");
	free(loc);
}

/* --- JSON API client (PATCH is not in the harness): curl with its own cookie jar ------------- */

struct api {
	CURL *c;
	char *csrf;
};

static size_t api_write(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static long api_do(struct api *a, const char *method, const char *path, const char *body,
                   struct buf *out, const char *extra_header)
{
	buf_reset(out);
	char *url = xasprintf("http://127.0.0.1:%d%s", T.port, path);
	struct curl_slist *h = NULL;
	char *tok = a->csrf ? xasprintf("X-CSRF-Token: %s", a->csrf) : NULL;
	if (tok)
		h = curl_slist_append(h, tok);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (extra_header)
		h = curl_slist_append(h, extra_header);
	curl_easy_setopt(a->c, CURLOPT_URL, url);
	curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(a->c, CURLOPT_WRITEFUNCTION, api_write);
	curl_easy_setopt(a->c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(a->c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, method);
	}
	long status = 0;
	if (curl_easy_perform(a->c) != CURLE_OK)
		fail_msg("curl %s %s", method, path);
	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	free(tok);
	free(url);
	return status;
}

/* Log in (NULL: anonymous) and keep the session's CSRF token. */
static struct api *api_new(const char *email)
{
	struct api *a = xcalloc(1, sizeof *a);
	a->c = curl_easy_init();
	curl_easy_setopt(a->c, CURLOPT_COOKIEFILE, "");
	struct buf out = {0};
	api_do(a, "GET", "/connexion", NULL, &out, NULL);
	const char *p = strstr(buf_str(&out), "name=\"_csrf\" value=\"");
	assert_non_null(p);
	p += strlen("name=\"_csrf\" value=\"");
	a->csrf = xstrndup(p, strcspn(p, "\""));
	if (email) {
		struct buf f = {0};
		field(&f, "_csrf", a->csrf);
		field(&f, "email", email);
		field(&f, "password",
		      strstr(email, "@demo.") ? DEMO_PASSWORD : "mot-de-passe-test");
		char *url = xasprintf("http://127.0.0.1:%d/connexion", T.port);
		curl_easy_setopt(a->c, CURLOPT_URL, url);
		curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, buf_str(&f));
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDSIZE, (long)f.len);
		curl_easy_setopt(a->c, CURLOPT_WRITEDATA, &out);
		buf_reset(&out);
		assert_int_equal(curl_easy_perform(a->c), CURLE_OK);
		long st = 0;
		curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &st);
		assert_int_equal(st, 303);
		free(url);
		buf_free(&f);
		/* The session has its own token. */
		api_do(a, "GET", "/mes-actions", NULL, &out, NULL);
		p = strstr(buf_str(&out), "name=\"_csrf\" value=\"");
		assert_non_null(p);
		p += strlen("name=\"_csrf\" value=\"");
		free(a->csrf);
		a->csrf = xstrndup(p, strcspn(p, "\""));
	}
	buf_free(&out);
	return a;
}

static void api_free(struct api *a)
{
	curl_easy_cleanup(a->c);
	free(a->csrf);
	free(a);
}

static json_t *api_json(struct api *a, const char *method, const char *path, const char *body,
                        long expect)
{
	struct buf out = {0};
	long st = api_do(a, method, path, body, &out, NULL);
	if (st != expect)
		fail_msg("%s %s: expected %ld, got %ld: %s", method, path, expect, st,
		         buf_str(&out));
	json_t *j = json_loads(buf_str(&out), 0, NULL);
	if (!j)
		fail_msg("%s %s: not JSON: %s", method, path, buf_str(&out));
	buf_free(&out);
	return j;
}

/* --- unit checks of the shared formats ------------------------------------------------------- */

static void test_amount_parse_and_format(void **state)
{
	(void)state;
	const struct {
		const char *in;
		int64_t cents;
	} ok[] = {{"1 234,50", 123450},
	          {"1234,5", 123450},
	          {"1234.50", 123450},
	          {"12 500", 1250000},
	          {"12" NNBSP "500,00 €", 1250000},
	          {"12" NBSP "500" NBSP "€", 1250000},
	          {"0", 0},
	          {"0,75", 75},
	          {" 42 ", 4200},
	          {"1000000000000", 100000000000000LL}};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		int64_t c = -1;
		if (fiche_amount_parse(ok[i].in, &c) || c != ok[i].cents)
			fail_msg("amount «%s»: expected %lld, got %lld", ok[i].in,
			         (long long)ok[i].cents, (long long)c);
	}
	const char *bad[] = {"abc",
	                     "-5",
	                     "-0,50",
	                     "1,234",
	                     "12,345",
	                     "1 2 3,",
	                     "",
	                     " ",
	                     "1000000000000,01",
	                     "99999999999999",
	                     "1e5",
	                     "12 €€",
	                     "€",
	                     "1..2",
	                     "1,2,3",
	                     " ,5",
	                     "1  000",
	                     "0x10",
	                     "12abc",
	                     "' OR 1=1 --"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t c = 7;
		if (fiche_amount_parse(bad[i], &c) == 0)
			fail_msg("amount «%s» accepted as %lld", bad[i], (long long)c);
	}
	char out[64];
	fiche_amount_format(out, 1250000);
	assert_string_equal(out, "12" NNBSP "500,00" NBSP "€");
	fiche_amount_format(out, 5);
	assert_string_equal(out, "0,05" NBSP "€");
	fiche_amount_format(out, 100000000000000LL);
	assert_string_equal(out, "1" NNBSP "000" NNBSP "000" NNBSP "000" NNBSP "000,00" NBSP "€");

	fiche_date_fr(out, "2024-03-12");
	assert_string_equal(out, "12 mars 2024");
	fiche_date_fr(out, "2024-08-01T10:00:00Z");
	assert_string_equal(out, "1er août 2024");
	fiche_datetime_fr(out, "2024-07-14T08:05:00Z"); /* summer: UTC+2 */
	assert_string_equal(out, "14 juillet 2024 à 10 h 05");
	fiche_datetime_fr(out, "2024-12-31T23:30:00Z"); /* winter: UTC+1, next day */
	assert_string_equal(out, "1er janvier 2025 à 0 h 30");
	assert_true(fiche_date_valid("2024-02-29"));
	assert_false(fiche_date_valid("2023-02-29"));
	assert_false(fiche_date_valid("2024-13-01"));
	assert_false(fiche_date_valid("2024-1-01"));
	assert_false(fiche_date_valid("2024-01-01x"));
	assert_false(fiche_date_valid(NULL));
}

/* --- the demo -------------------------------------------------------------------------------- */

static void test_demo_fiches_loaded(void **state)
{
	(void)state;
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.plan_id = ?",
	                 "I", crestois),
	    122);
	const struct {
		const char *status;
		int64_t n;
	} statuses[] = {{"en_cours", 96}, {"achevee", 17},   {"retenue", 6},
	                {"proposee", 1},  {"abandonnee", 1}, {"ajournee", 1}};
	for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
		assert_int_equal(
		    th_query_int(&T,
		                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = "
		                 "f.node_id WHERE n.plan_id = ? AND f.status = ?",
		                 "Is", crestois, statuses[i].status),
		    statuses[i].n);
	const struct {
		const char *progress;
		int64_t n;
	} progresses[] = {
	    {"achevee", 17}, {"bien_engagee", 54}, {"peu_engagee", 43}, {"non_engagee", 8}};
	for (size_t i = 0; i < sizeof progresses / sizeof *progresses; i++)
		assert_int_equal(
		    th_query_int(&T,
		                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = "
		                 "f.node_id WHERE n.plan_id = ? AND f.progress = ?",
		                 "Is", crestois, progresses[i].progress),
		    progresses[i].n);
	/* Every demo fiche is marked, dated, and the closed ones have a closing note. */
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM fiches WHERE is_demo = 0", ""), 0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM fiches WHERE status IN ('achevee', "
	                              "'abandonnee') AND (closing_note = '' OR closed_at IS NULL)",
	                              ""),
	                 0);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.plan_id = ? AND f.start_date IS NOT NULL",
	                 "I", crestois),
	    122);
	/* Fiches are where the numbering says: 4.1.1.1 has three pilot structures and the Caf as
	 * partner (seed 003). */
	int64_t f4111 = th_query_int(
	    &T, "SELECT id FROM nodes WHERE plan_id = ? AND number = '4.1.1.1'", "I", crestois);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ? AND "
	                              "actor_id IS NOT NULL",
	                              "I", f4111),
	                 3);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiche_partners p JOIN actors a ON a.id = "
	                 "p.actor_id WHERE p.node_id = ? AND a.name = 'Caf de la Drôme'",
	                 "I", f4111),
	    1);
	/* Publics of every plan, impact domains of the Ardèche fiches. */
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM fiche_publics", "") > 150);
	assert_true(th_query_int(&T, "SELECT COUNT(DISTINCT node_id) FROM fiche_impacts", "") ==
	            15);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM fiches", ""), 122 + 15 + 14);
	/* Each fiche's creation is in its history. */
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                              "action = 'create'",
	                              ""),
	                 122 + 15 + 14);
	/* The demo pilot has varied fiches, one of them overdue. */
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM fiche_pilots WHERE user_id = ?", "I",
	                         pilot_id) >= 4);
	assert_true(
	    th_query_int(&T,
	                 "SELECT COUNT(DISTINCT f.progress) FROM fiches f JOIN fiche_pilots p "
	                 "ON p.node_id = f.node_id WHERE p.user_id = ?",
	                 "I", pilot_id) >= 3);
	char limit[32];
	time_t t = time(NULL) - (time_t)190 * 24 * 3600; /* more than six months ago */
	strftime(limit, sizeof limit, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches f JOIN fiche_pilots p ON p.node_id = "
	                 "f.node_id WHERE p.user_id = ? AND f.status = 'en_cours' AND "
	                 "f.progress_updated_at < ?",
	                 "Is", pilot_id, limit),
	    1);
}

static void test_demo_fiches_unknown_pilot_is_an_error(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	const char *json = "{\"nodes\":[{\"title\":\"A\",\"children\":[{\"title\":\"B\","
	                   "\"fiche\":{\"status\":\"en_cours\",\"pilots\":[\"Structure "
	                   "inexistante\"]}}]}]}";
	char *err = NULL;
	assert_int_equal(db_begin(db), DB_OK);
	/* Crestois 1.1 is an orientation without a fiche: the loader finds it by number. */
	assert_int_equal(demo_fiches_load(db, crestois, json, strlen(json), &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "Structure inexistante"));
	free(err);
	err = NULL;
	const char *bad = "{\"nodes\":[{\"title\":\"A\",\"fiche\":{\"status\":\"fini\"}}]}";
	assert_int_equal(demo_fiches_load(db, crestois, bad, strlen(bad), &err), -1);
	assert_non_null(err);
	free(err);
	db_rollback(db);
	db_close(db);
}

/* --- the page -------------------------------------------------------------------------------- */

static void test_public_page_without_personal_data(void **state)
{
	(void)state;
	int64_t id = pilot_fiche(0);
	assert_true(id > 0);
	q_exec("INSERT INTO comments (node_id, user_id, body, created_at) VALUES (?, ?, "
	       "'Commentaire réservé aux membres', '2025-01-02T10:00:00Z')",
	       "II", id, pilot_id);
	struct resp r;
	get_as(NULL, "/fiches/%lld", id, &r);
	assert_int_equal(r.status, 200);
	char *title = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", id);
	struct buf esc = {0};
	buf_html(&esc, title);
	assert_has(&r, buf_str(&esc));
	buf_free(&esc);
	free(title);
	assert_has(&r, "<h1>");
	assert_has(&r, "Structures pilotes");
	assert_has(&r, "Domaines d'impact");
	assert_has(&r, "Publics visés");
	assert_has(&r, "class=\"badge");
	/* No comments, no history, no names or e-mails of people. */
	assert_lacks(&r, "Commentaire réservé aux membres");
	assert_lacks(&r, "id=\"commentaires\"");
	assert_lacks(&r, "Historique des modifications");
	assert_lacks(&r, "Paul Pilote");
	assert_lacks(&r, "@demo.maillage.fr");
	assert_lacks(&r, "Modifier la fiche");
	resp_free(&r);

	/* The same page for a member shows them. */
	struct client *c = as("lecture@demo.maillage.fr");
	get_as(c, "/fiches/%lld", id, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Commentaire réservé aux membres");
	assert_has(&r, "Historique des modifications");
	assert_has(&r, "Paul Pilote");
	assert_has(&r, "ligne de commande");
	assert_has(&r, "Création de la fiche");
	assert_has(&r, "ne permet pas de commenter");
	assert_lacks(&r, "Modifier la fiche");
	resp_free(&r);
	client_free(c);

	/* A node that is not a fiche goes to its place in the plan; a missing one is 404. */
	int64_t theme = th_query_int(&T, "SELECT id FROM nodes WHERE plan_id = ? AND number = '1'",
	                             "I", crestois);
	get_as(NULL, "/fiches/%lld", theme, &r);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/plans/");
	resp_free(&r);
	get_as(NULL, "/fiches/%lld", 999999, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get_as(NULL, "/api/v1/fiches/%lld", theme, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	/* A proposal not yet retained is for members only. */
	int64_t prop =
	    th_query_int(&T,
	                 "SELECT f.node_id FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.plan_id = ? AND f.status = 'proposee'",
	                 "I", crestois);
	get_as(NULL, "/fiches/%lld", prop, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
}

/* --- editing -----------------------------------------------------------------------------------
 */

static void test_edit_by_coordinator(void **state)
{
	(void)state;
	int64_t id = other_fiche(0);
	/* A known starting point: not started, piloted by the Caf only. */
	q_exec("UPDATE fiches SET progress = 'non_engagee' WHERE node_id = ?", "I", id);
	q_exec("DELETE FROM fiche_pilots WHERE node_id = ?", "I", id);
	q_exec("INSERT INTO fiche_pilots (node_id, actor_id) SELECT ?, id FROM actors "
	       "WHERE name = 'Caf de la Drôme'",
	       "I", id);
	struct client *c = as("coordination@demo.maillage.fr");
	struct resp r;
	get_as(c, "/fiches/%lld", id, &r);
	assert_has(&r, "Modifier la fiche");
	resp_free(&r);
	get_as(c, "/fiches/%lld/modifier", id, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "name=\"title\"");
	assert_has(&r, "name=\"closing_note\"");
	assert_has(&r, "Paul Pilote");          /* a pilot of the plan may be chosen */
	assert_lacks(&r, "Pascale Partenaire"); /* a partner may not */
	assert_has(&r, "Cohésion sociale et territoriale");
	resp_free(&r);

	int64_t forum = th_query_int(&T, "SELECT id FROM actors WHERE name = 'EVS Le Forum'", "");
	int64_t crest =
	    th_query_int(&T, "SELECT id FROM actors WHERE name = 'Commune de Crest'", "");
	struct buf f = {0};
	char num[32];
	field(&f, "title", "Titre revu par la coordination");
	field(&f, "description", "Une **description** revue.");
	field(&f, "expected_results", "- 30 familles accompagnées");
	field(&f, "human_means", "Un demi-poste d'animation");
	field(&f, "status", "en_cours");
	field(&f, "progress", "bien_engagee");
	field(&f, "start_date", "2024-03-12");
	field(&f, "end_date", "2026-06-30");
	field(&f, "pilot_user_shown", "1");
	snprintf(num, sizeof num, "%lld", (long long)pilot_id);
	field(&f, "pilot_user", num);
	field(&f, "pilot_actor_shown", "1");
	snprintf(num, sizeof num, "%lld", (long long)forum);
	field(&f, "pilot_actor", num);
	field(&f, "partner_shown", "1");
	snprintf(num, sizeof num, "%lld", (long long)crest);
	field(&f, "partner", num);
	field(&f, "publics", "familles\r\njeunes de 16 à 25 ans\r\n\r\nfamilles");
	field(&f, "communes", "26108, 26289");
	field(&f, "impact_shown", "1");
	field(&f, "impact", "lien-social");
	field(&f, "impact", "pouvoir-d-agir");
	field(&f, "links", "Compte rendu du COPIL | https://exemple.fr/cr.pdf\nhttps://exemple.fr");
	submit(c, "/fiches/%lld/modifier", id, buf_str(&f), &r);
	buf_free(&f);
	if (r.status != 303)
		fail_msg("edit: %ld %s", r.status, buf_str(&r.body));
	assert_location(&r, "/fiches/");
	resp_free(&r);

	char *t = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", id);
	assert_string_equal(t, "Titre revu par la coordination");
	free(t);
	t = th_query_text(&T,
	                  "SELECT progress || '|' || start_date || '|' || end_date || '|' || "
	                  "progress_updated_at FROM fiches WHERE node_id = ?",
	                  id);
	assert_non_null(strstr(t, "bien_engagee|2024-03-12|2026-06-30|20"));
	free(t);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_publics WHERE node_id = ?", "I", id), 2);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_communes WHERE node_id = ?", "I", id), 2);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_impacts WHERE node_id = ?", "I", id), 2);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_links WHERE node_id = ?", "I", id), 2);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ? AND user_id = ?",
	                 "II", id, pilot_id),
	    1);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                 "entity_id = CAST(? AS TEXT) AND action = 'update' AND user_id = ?",
	                 "II", id, user_id("coordination@demo.maillage.fr")),
	    1);

	get_as(c, "/fiches/%lld?ok=enregistree", id, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Fiche enregistrée.");
	assert_has(&r, "<strong>description</strong>");
	assert_has(&r, "du 12 mars 2024 au 30 juin 2026");
	assert_has(&r, "href=\"/communes/26108\"");
	assert_has(&r, "href=\"https://exemple.fr/cr.pdf\" rel=\"noopener noreferrer\"");
	assert_has(&r, "Camille Coordination");
	assert_has(&r, "<strong>Titre</strong> : ");
	assert_has(&r, "→ Titre revu par la coordination");
	/* The pilots replaced: structure and person added, the former structure removed. */
	assert_has(&r, "<strong>Pilotes</strong> : <ins>+ EVS Le Forum</ins> ; <ins>+ Paul "
	               "Pilote</ins> ; <del>− Caf de la Drôme</del>");
	resp_free(&r);

	/* Sending the same values again changes and records nothing. */
	int64_t audits = th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                              "entity_id = CAST(? AS TEXT)",
	                              "I", id);
	submit(c, "/fiches/%lld/modifier", id, "title=Titre+revu+par+la+coordination", &r);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/fiches/");
	assert_non_null(strstr(buf_str(&r.headers), "ok=inchangee"));
	resp_free(&r);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                              "entity_id = CAST(? AS TEXT)",
	                              "I", id),
	                 audits);

	/* Bad values: each refused with 422, the form kept, nothing stored. */
	const struct {
		const char *fields, *message;
	} bad[] = {
	    {"title=", "Le titre est obligatoire"},
	    {"status=termine", "Choisissez un statut"},
	    {"progress=moyen", "Choisissez un niveau"},
	    {"start_date=2024-02-30", "date réelle"},
	    {"start_date=2025-01-01&end_date=2024-12-31", "ne peut pas précéder"},
	    {"communes=99999", "aucune commune"},
	    {"communes=07186", "pas dans le territoire du plan"},
	    {"communes=abc", "code INSEE"},
	    {"pilot_user_shown=1&pilot_user=4", "rôle pilote ou coordinateur"},
	    {"pilot_actor_shown=1&pilot_actor=999999", "n&#39;existe pas"},
	    {"partner_new=Structure+inconnue", "Aucune structure"},
	    {"impact_shown=1&impact=bonheur", "Domaine d&#39;impact inconnu"},
	    {"links=Voir+javascript:alert(1)", "http:// ou https://"},
	    {"links=data:text/html,x", "http:// ou https://"},
	    {"links=https://exemple.fr/a%20b+c", "http:// ou https://"},
	};
	t = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", id);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		submit(c, "/fiches/%lld/modifier", id, bad[i].fields, &r);
		if (r.status != 422 || !has(&r, bad[i].message))
			fail_msg("%s: expected 422 with «%s», got %ld", bad[i].fields,
			         bad[i].message, r.status);
		assert_has(&r, "notice-error");
		assert_has(&r, "aria-invalid=\"true\"");
		resp_free(&r);
	}
	char *t2 = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", id);
	assert_string_equal(t, t2);
	free(t);
	free(t2);
	/* 31 publics, and one too long. */
	struct buf many = {0};
	for (int i = 0; i < 31; i++)
		buf_printf(&many, "public%d%%0A", i);
	char *fields = xasprintf("publics=%s", buf_str(&many));
	submit(c, "/fiches/%lld/modifier", id, fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "30 publics au plus");
	resp_free(&r);
	free(fields);
	buf_reset(&many);
	for (int i = 0; i < 201; i++)
		buf_putc(&many, 'x');
	fields = xasprintf("publics=%s", buf_str(&many));
	submit(c, "/fiches/%lld/modifier", id, fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "limité à 200 caractères");
	resp_free(&r);
	free(fields);
	buf_free(&many);
	client_free(c);
}

static void test_edit_by_pilot_and_refusals(void **state)
{
	(void)state;
	int64_t mine = pilot_fiche(1), other = other_fiche(1);
	struct client *c = as("pilote@demo.maillage.fr");
	struct resp r;
	get_as(c, "/fiches/%lld/modifier", mine, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	submit(c, "/fiches/%lld/modifier", mine, "title=Titre+revu+par+le+pilote", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	char *t = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", mine);
	assert_string_equal(t, "Titre revu par le pilote");
	free(t);

	/* The pilot of another fiche, a partner and a reader are refused (403). */
	char *before = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", other);
	const char *who[] = {"pilote@demo.maillage.fr", "partenaire@demo.maillage.fr",
	                     "lecture@demo.maillage.fr"};
	for (size_t i = 0; i < 3; i++) {
		struct client *x = i == 0 ? c : as(who[i]);
		get_as(x, "/fiches/%lld/modifier", other, &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		submit(x, "/fiches/%lld/modifier", other, "title=pirate", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		submit(x, "/fiches/%lld/budget", other, "action=ajouter&label=x&amount=1", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		submit(x, "/fiches/%lld/avancement", other, "progress=achevee&comment=x", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		if (i)
			client_free(x);
	}
	/* Anonymous: sent to the login page, or 401 for a write. */
	get_as(NULL, "/fiches/%lld/modifier", other, &r);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/connexion");
	resp_free(&r);
	struct client *anon = client_new(&T);
	submit(anon, "/fiches/%lld/modifier", other, "title=pirate", &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	client_free(anon);
	char *after = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", other);
	assert_string_equal(before, after);
	free(before);
	free(after);
	client_free(c);
}

static void test_private_plan_is_invisible_to_other_members(void **state)
{
	(void)state;
	int64_t diois = th_query_int(&T, "SELECT id FROM plans WHERE title LIKE '%Diois%'", "");
	int64_t fiche =
	    th_query_int(&T,
	                 "SELECT f.node_id FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                 "WHERE n.plan_id = ? ORDER BY f.node_id LIMIT 1",
	                 "I", diois);
	q_exec("UPDATE plans SET is_public = 0 WHERE id = ?", "I", diois);
	struct client *c = as("coordination@demo.maillage.fr"); /* coordinator of the Crestois */
	const char *paths[] = {"/fiches/%lld", "/fiches/%lld/modifier", "/api/v1/fiches/%lld"};
	struct resp r;
	for (size_t i = 0; i < 3; i++) {
		get_as(c, paths[i], fiche, &r);
		assert_int_equal(r.status, 404);
		assert_lacks(&r, "Diois");
		resp_free(&r);
		get_as(NULL, paths[i], fiche, &r);
		assert_true(r.status == 404 || (i == 1 && r.status == 303));
		resp_free(&r);
	}
	const char *posts[] = {"/fiches/%lld/modifier", "/fiches/%lld/commentaires",
	                       "/fiches/%lld/budget", "/fiches/%lld/avancement"};
	for (size_t i = 0; i < 4; i++) {
		submit(c, posts[i], fiche,
		       "title=x&body=x&action=ajouter&progress=achevee&comment=x", &r);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
	client_free(c);
	q_exec("UPDATE plans SET is_public = 1 WHERE id = ?", "I", diois);
}

/* --- closing ------------------------------------------------------------------------------------
 */

static void test_closing_needs_a_note(void **state)
{
	(void)state;
	int64_t id = other_fiche(2);
	struct client *c = as("coordination@demo.maillage.fr");
	struct resp r;
	submit(c, "/fiches/%lld/modifier", id, "status=achevee&closing_note=+++", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Une note de clôture est obligatoire");
	/* The form is shown again with what was chosen. */
	assert_has(&r, "<option value=\"achevee\" selected>Achevée</option>");
	resp_free(&r);
	char *st = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", id);
	assert_string_equal(st, "en_cours");
	free(st);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND closed_at IS NULL",
	                 "I", id),
	    1);
	/* A note of more than 10,000 characters is refused too. */
	struct buf note = {0};
	for (int i = 0; i < 10001; i++)
		buf_putc(&note, 'n');
	char *fields = xasprintf("status=achevee&closing_note=%s", buf_str(&note));
	submit(c, "/fiches/%lld/modifier", id, fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "limité à 10000 caractères");
	resp_free(&r);
	free(fields);
	buf_free(&note);

	submit(c, "/fiches/%lld/modifier", id,
	       "status=achevee&progress=achevee&closing_note=Action+men%C3%A9e+%C3%A0+son+terme.",
	       &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND status = "
	                              "'achevee' AND closed_at IS NOT NULL",
	                              "I", id),
	                 1);
	get_as(c, "/fiches/%lld", id, &r);
	assert_has(&r, "Note de clôture");
	assert_has(&r, "Action menée à son terme.");
	assert_has(&r, "clôturée le");
	assert_has(&r, "<strong>Statut</strong> : En cours → Achevée");
	assert_has(&r, "<strong>Note de clôture</strong> : (vide) → Action menée à son terme.");
	resp_free(&r);
	/* Reopening clears closed_at. */
	submit(c, "/fiches/%lld/modifier", id, "status=en_cours", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND closed_at IS NULL",
	                 "I", id),
	    1);
	client_free(c);
}

/* --- budget -------------------------------------------------------------------------------------
 */

static void test_budget_lines(void **state)
{
	(void)state;
	int64_t id = other_fiche(3);
	int64_t caf = th_query_int(&T, "SELECT id FROM actors WHERE name = 'Caf de la Drôme'", "");
	struct client *c = as("coordination@demo.maillage.fr");
	struct resp r;
	char *fields = xasprintf("action=ajouter&year=2025&label=Animation&amount=1+234%%2C50"
	                         "&funder_actor=%lld",
	                         (long long)caf);
	submit(c, "/fiches/%lld/budget", id, fields, &r);
	free(fields);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/fiches/");
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T, "SELECT amount_cents FROM budget_lines WHERE node_id = ?", "I", id),
	    123450);
	submit(c, "/fiches/%lld/budget", id,
	       "action=ajouter&label=Mat%C3%A9riel&amount=11266&funder_name=Mairie+de+Crest", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	const struct {
		const char *amount, *year;
	} bad[] = {{"abc", ""},    {"-5", ""}, {"1000000000000,01", ""},
	           {"12,345", ""}, {"", ""},   {"10", "20x5"},
	           {"10", "1850"}};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct buf f = {0};
		field(&f, "action", "ajouter");
		field(&f, "label", "Refusée");
		field(&f, "amount", bad[i].amount);
		field(&f, "year", bad[i].year);
		submit(c, "/fiches/%lld/budget", id, buf_str(&f), &r);
		buf_free(&f);
		if (r.status != 422)
			fail_msg("amount «%s» year «%s»: %ld", bad[i].amount, bad[i].year,
			         r.status);
		assert_has(&r, "La ligne budgétaire n&#39;a pas été ajoutée");
		resp_free(&r);
	}
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM budget_lines WHERE node_id = ?", "I", id), 2);
	get_as(NULL, "/fiches/%lld", id, &r);
	assert_has(&r, "1" NNBSP "234,50" NBSP "€");
	assert_has(&r, "12" NNBSP "500,50" NBSP "€"); /* the total */
	assert_has(&r, "Mairie de Crest");
	assert_has(&r, "<caption>Lignes budgétaires</caption>");
	resp_free(&r);
	/* Removal, audited; a line of another fiche cannot be removed through this one. */
	int64_t line =
	    th_query_int(&T, "SELECT MIN(id) FROM budget_lines WHERE node_id = ?", "I", id);
	int64_t elsewhere = other_fiche(4);
	fields = xasprintf("action=supprimer&line=%lld", (long long)line);
	submit(c, "/fiches/%lld/budget", elsewhere, fields, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	submit(c, "/fiches/%lld/budget", id, fields, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	free(fields);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM budget_lines WHERE node_id = ?", "I", id), 1);
	get_as(c, "/fiches/%lld", id, &r);
	assert_has(&r, "<strong>Budget</strong> : <del>− 2025 · Animation · 1" NNBSP "234,50" NBSP
	               "€ · Caf de la Drôme</del>");
	resp_free(&r);
	client_free(c);
}

/* --- hostile input ------------------------------------------------------------------------------
 */

static void test_hostile_text_comes_back_escaped(void **state)
{
	(void)state;
	int64_t id = other_fiche(5);
	const char *evil = "<script>alert(1)</script>' OR 1=1 --";
	struct client *c = as("coordination@demo.maillage.fr");
	struct buf f = {0};
	const char *keys[] = {"title", "description", "expected_results", "human_means", "publics"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		field(&f, keys[i], evil);
	field(&f, "links", "<script>alert(1)</script> https://exemple.fr/\"><script>");
	struct resp r;
	submit(c, "/fiches/%lld/modifier", id, buf_str(&f), &r);
	/* The link address holds a quote: refused, and the form comes back escaped. */
	assert_int_equal(r.status, 422);
	assert_lacks(&r, "<script>alert");
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;&#39; OR 1=1 --");
	resp_free(&r);
	buf_reset(&f);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		field(&f, keys[i], evil);
	field(&f, "links", "<script>alert(1)</script> https://exemple.fr/?q='x'");
	field(&f, "status", "abandonnee");
	field(&f, "closing_note", evil);
	submit(c, "/fiches/%lld/modifier", id, buf_str(&f), &r);
	buf_free(&f);
	if (r.status != 303)
		fail_msg("hostile edit: %ld", r.status);
	resp_free(&r);
	char *t = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", id);
	assert_string_equal(t, evil); /* stored as typed, nothing else touched */
	free(t);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM fiches", ""), 151);
	buf_reset(&f);
	field(&f, "action", "ajouter");
	field(&f, "label", evil);
	field(&f, "amount", "10");
	field(&f, "funder_name", evil);
	submit(c, "/fiches/%lld/budget", id, buf_str(&f), &r);
	buf_free(&f);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	submit(c, "/fiches/%lld/commentaires", id, "body=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	get_as(c, "/fiches/%lld", id, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>alert");
	assert_lacks(&r, "<b>");
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;");
	resp_free(&r);
	get_as(c, "/fiches/%lld/modifier", id, &r);
	assert_lacks(&r, "<script>alert");
	resp_free(&r);
	get_as(NULL, "/fiches/%lld", id, &r);
	assert_lacks(&r, "<script>alert");
	resp_free(&r);
	client_free(c);
}

/* --- comments ----------------------------------------------------------------------------------
 */

static void test_comments(void **state)
{
	(void)state;
	int64_t id = other_fiche(6);
	struct client *partner = as("partenaire@demo.maillage.fr");
	struct resp r;
	submit(partner, "/fiches/%lld/commentaires", id,
	       "body=Nous+pouvons+accueillir+*deux*+ateliers.", &r);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/fiches/");
	resp_free(&r);
	int64_t cid = th_query_int(&T, "SELECT MAX(id) FROM comments WHERE node_id = ?", "I", id);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'comment' AND "
	                              "entity_id = CAST(? AS TEXT) AND action = 'create'",
	                              "I", cid),
	                 1);
	get_as(partner, "/fiches/%lld", id, &r);
	assert_has(&r, "Nous pouvons accueillir <em>deux</em> ateliers.");
	assert_has(&r, "Pascale Partenaire");
	assert_has(&r, "Supprimer le commentaire");
	resp_free(&r);

	/* Empty and too long comments are refused, keeping the text. */
	submit(partner, "/fiches/%lld/commentaires", id, "body=+++", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Le commentaire est vide.");
	resp_free(&r);
	struct buf big = {0};
	for (int i = 0; i < 5001; i++)
		buf_putc(&big, 'a');
	char *fields = xasprintf("body=%s", buf_str(&big));
	submit(partner, "/fiches/%lld/commentaires", id, fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "limité à 5 000 caractères");
	assert_has(&r, buf_str(&big));
	resp_free(&r);
	free(fields);
	buf_free(&big);

	/* A reader cannot comment nor delete someone else's comment; anonymous neither. */
	struct client *reader = as("lecture@demo.maillage.fr");
	submit(reader, "/fiches/%lld/commentaires", id, "body=Lecture", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	get_as(reader, "/fiches/%lld", id, &r);
	assert_lacks(&r, "Supprimer le commentaire");
	resp_free(&r);
	submit(reader, "/commentaires/%lld/supprimer", cid, "", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	struct client *anon = client_new(&T);
	submit(anon, "/fiches/%lld/commentaires", id, "body=Anonyme", &r);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	client_free(anon);
	/* A member of another plan, a public plan: may read but not comment. */
	make_user("ailleurs@example.org", "partner", 0, NULL);
	struct client *elsewhere = as("ailleurs@example.org");
	submit(elsewhere, "/fiches/%lld/commentaires", id, "body=Ailleurs", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(elsewhere);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM comments WHERE node_id = ?", "I", id), 1);

	/* The author deletes their comment; the coordinator deletes anyone's. */
	submit(partner, "/commentaires/%lld/supprimer", cid, "", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM comments WHERE id = ?", "I", cid),
	                 0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'comment' AND "
	                              "entity_id = CAST(? AS TEXT) AND action = 'delete'",
	                              "I", cid),
	                 1);
	submit(partner, "/fiches/%lld/commentaires", id, "body=Deuxi%C3%A8me", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	cid = th_query_int(&T, "SELECT MAX(id) FROM comments WHERE node_id = ?", "I", id);
	struct client *coord = as("coordination@demo.maillage.fr");
	submit(coord, "/commentaires/%lld/supprimer", cid, "", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM comments WHERE id = ?", "I", cid),
	                 0);
	submit(coord, "/commentaires/%lld/supprimer", 999999, "", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(coord);
	client_free(reader);
	client_free(partner);
}

/* --- mes actions --------------------------------------------------------------------------------
 */

static void test_mes_actions_overdue_and_quick_update(void **state)
{
	(void)state;
	int64_t late = pilot_fiche(0), stale = pilot_fiche(1);
	q_exec("UPDATE fiches SET end_date = '2021-06-30', start_date = '2020-01-01', "
	       "progress_updated_at = NULL WHERE node_id = ?",
	       "I", late);
	q_exec("UPDATE fiches SET end_date = '2999-12-31', progress = 'peu_engagee', "
	       "progress_updated_at = '2020-01-15T10:00:00Z' WHERE node_id = ?",
	       "I", stale);
	struct client *c = as("pilote@demo.maillage.fr");
	struct resp r;
	client_get(c, "/mes-actions", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h1>Mes actions</h1>");
	assert_has(&r, "Échéance dépassée : la fin était prévue le 30 juin 2021");
	assert_has(&r, "Avancement non mis à jour depuis plus de 6 mois (dernière mise à jour le "
	               "15 janvier 2020)");
	char anchor[64];
	snprintf(anchor, sizeof anchor, "id=\"fiche-%lld\"", (long long)late);
	assert_has(&r, anchor);
	assert_has(&r, "Crestois");
	assert_lacks(&r, "À relancer"); /* a pilot coordinates nothing */
	resp_free(&r);

	/* The coordinator sees both in "à relancer". */
	struct client *coord = as("coordination@demo.maillage.fr");
	client_get(coord, "/mes-actions", &r);
	assert_has(&r, "À relancer");
	char *t1 = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", late);
	struct buf esc = {0};
	buf_html(&esc, t1);
	assert_has(&r, buf_str(&esc));
	buf_free(&esc);
	free(t1);
	assert_has(&r, "Paul Pilote");
	resp_free(&r);

	/* The quick form: a comment is required, closing needs a note. */
	submit(c, "/fiches/%lld/avancement", stale, "progress=bien_engagee&comment=", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Un commentaire est obligatoire");
	resp_free(&r);
	submit(c, "/fiches/%lld/avancement", stale, "progress=achevee&comment=Fini&status=achevee",
	       &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "note de clôture est obligatoire");
	resp_free(&r);
	submit(c, "/fiches/%lld/avancement", stale, "progress=tres_bien&comment=x", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);

	int64_t comments =
	    th_query_int(&T, "SELECT COUNT(*) FROM comments WHERE node_id = ?", "I", stale);
	submit(c, "/fiches/%lld/avancement", stale,
	       "progress=bien_engagee&status=&comment=Trois+ateliers+tenus+%C3%A0+Saillans.", &r);
	assert_int_equal(r.status, 303);
	assert_location(&r, "/mes-actions?ok=avancement");
	char *loc = resp_get_header(&r, "Location");
	resp_free(&r);
	client_get(c, loc, &r);
	free(loc);
	assert_has(&r, "Avancement de la fiche");
	assert_has(&r, "enregistré : Bien engagée.");
	/* The stale warning is gone for that fiche, the late one stays. */
	assert_lacks(&r, "15 janvier 2020");
	assert_has(&r, "30 juin 2021");
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM comments WHERE node_id = ?", "I", stale),
	    comments + 1);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND progress = "
	                 "'bien_engagee' AND progress_updated_at > '2026'",
	                 "I", stale),
	    1);
	get_as(c, "/fiches/%lld", stale, &r);
	assert_has(&r, "<strong>Avancement</strong> : Peu engagée → Bien engagée");
	assert_has(&r, "Point d'avancement : Bien engagée.");
	assert_has(&r, "Trois ateliers tenus à Saillans.");
	assert_has(&r, "dernier point le");
	resp_free(&r);

	/* Closing from the quick form, with its note. */
	submit(c, "/fiches/%lld/avancement", late,
	       "progress=achevee&status=achevee&comment=Termin%C3%A9&closing_note=Bilan+fait.", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND status = "
	                 "'achevee' AND closing_note = 'Bilan fait.' AND closed_at IS NOT NULL",
	                 "I", late),
	    1);
	client_get(coord, "/mes-actions", &r);
	assert_lacks(&r, "30 juin 2021");
	resp_free(&r);
	client_free(coord);
	client_free(c);

	/* Someone who pilots nothing. */
	struct client *reader = as("lecture@demo.maillage.fr");
	client_get(reader, "/mes-actions", &r);
	assert_has(&r, "Vous ne pilotez aucune fiche-action");
	resp_free(&r);
	client_free(reader);
	get_as(NULL, "/mes-actions%.0lld", 0, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
}

/* --- JSON API -----------------------------------------------------------------------------------
 */

static void test_api(void **state)
{
	(void)state;
	int64_t id = pilot_fiche(2) > 0 ? pilot_fiche(2) : pilot_fiche(0);
	char path[96], sub[128];
	snprintf(path, sizeof path, "/api/v1/fiches/%lld", (long long)id);
	q_exec("INSERT INTO comments (node_id, user_id, body, created_at) VALUES (?, ?, "
	       "'Note interne', '2025-01-02T10:00:00Z')",
	       "II", id, pilot_id);

	/* Anonymous: no comments, no people. */
	struct api *anon = api_new(NULL);
	json_t *j = api_json(anon, "GET", path, NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
	assert_int_equal(json_integer_value(json_object_get(j, "plan_id")), crestois);
	assert_non_null(json_string_value(json_object_get(j, "title")));
	assert_non_null(json_object_get(j, "budget_lines"));
	assert_non_null(json_object_get(j, "links"));
	assert_null(json_object_get(j, "comments"));
	assert_null(json_object_get(j, "pilot_users"));
	char *dump = json_dumps(j, 0);
	assert_null(strstr(dump, "Paul Pilote"));
	assert_null(strstr(dump, "Note interne"));
	free(dump);
	json_decref(j);
	struct buf out = {0};
	assert_int_equal(api_do(anon, "PATCH", path, "{\"title\":\"x\"}", &out, NULL), 401);
	api_free(anon);

	/* The pilot: comments, people, edits. */
	struct api *a = api_new("pilote@demo.maillage.fr");
	j = api_json(a, "GET", path, NULL, 200);
	assert_true(json_array_size(json_object_get(j, "comments")) >= 1);
	assert_true(json_is_true(json_object_get(j, "can_edit")));
	dump = json_dumps(j, 0);
	assert_non_null(strstr(dump, "Paul Pilote"));
	free(dump);
	/* A fetched object can be sent back as it is. */
	char *whole = json_dumps(j, 0);
	json_decref(j);
	json_decref(api_json(a, "PATCH", path, whole, 200));
	free(whole);

	assert_int_equal(api_do(a, "PATCH", path, "{\"title\": \"x\"", &out, NULL), 400);
	assert_non_null(strstr(buf_str(&out), "\"error\""));
	assert_int_equal(api_do(a, "PATCH", path, "[1, 2]", &out, NULL), 400);
	j = api_json(a, "PATCH", path, "{\"couleur\": \"bleu\"}", 422);
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_object_get(j, "error"), "message")), "couleur"));
	json_decref(j);
	const char *bad[] = {
	    "{\"title\": 12}",
	    "{\"title\": \"\"}",
	    "{\"status\": \"achevee\", \"closing_note\": \"\"}",
	    "{\"links\": [{\"label\": \"x\", \"url\": \"javascript:alert(1)\"}]}",
	    "{\"start_date\": \"2025-02-30\"}",
	    "{\"communes\": [\"99999\"]}",
	    "{\"pilot_actor_ids\": [\"un\"]}",
	    "{\"budget_lines\": [{\"label\": \"x\", \"amount\": \"abc\"}]}",
	    "{\"budget_lines\": [{\"label\": \"x\", \"amount_cents\": -1}]}",
	    "{\"budget_lines\": [{\"label\": \"x\"}]}",
	    "{\"publics\": \"familles\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		long st = api_do(a, "PATCH", path, bad[i], &out, NULL);
		if (st != 422)
			fail_msg("PATCH %s: expected 422, got %ld %s", bad[i], st, buf_str(&out));
		assert_non_null(strstr(buf_str(&out), "\"fields\""));
	}
	j = api_json(a, "PATCH", path,
	             "{\"title\": \"Titre par l'API\", \"progress\": \"bien_engagee\", "
	             "\"publics\": [\"familles\", \"seniors\"], \"start_date\": null, "
	             "\"links\": [{\"label\": \"Site\", \"url\": \"https://exemple.fr\"}], "
	             "\"budget_lines\": [{\"year\": 2025, \"label\": \"Ateliers\", "
	             "\"amount\": \"1 234,50\", \"funder_name\": \"Mairie\"}, "
	             "{\"label\": \"Location\", \"amount_cents\": 5000}]}",
	             200);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "Titre par l'API");
	assert_int_equal(json_integer_value(json_object_get(j, "budget_total_cents")), 128450);
	assert_true(json_is_null(json_object_get(j, "start_date")));
	assert_int_equal(json_array_size(json_object_get(j, "publics")), 2);
	json_decref(j);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = 'fiche' AND "
	                              "entity_id = CAST(? AS TEXT) AND origin = 'api'",
	                              "I", id),
	                 1);
	/* Without the CSRF token, refused. */
	char *saved = a->csrf;
	a->csrf = NULL;
	assert_int_equal(api_do(a, "PATCH", path, "{\"title\": \"sans jeton\"}", &out, NULL), 403);
	a->csrf = saved;

	/* Comments and progress. */
	snprintf(sub, sizeof sub, "%s/comments", path);
	j = api_json(a, "POST", sub, "{\"body\": \"Par l'API\"}", 201);
	assert_true(json_integer_value(json_object_get(j, "id")) > 0);
	json_decref(j);
	json_decref(api_json(a, "POST", sub, "{\"body\": \"\"}", 422));
	json_decref(api_json(a, "POST", sub, "{}", 422));
	assert_int_equal(api_do(a, "POST", sub, "pas du json", &out, NULL), 400);
	snprintf(sub, sizeof sub, "%s/progress", path);
	j = api_json(a, "POST", sub, "{\"progress\": \"achevee\", \"comment\": \"Presque\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "progress")), "achevee");
	assert_non_null(json_string_value(json_object_get(j, "progress_updated_at")));
	json_decref(j);
	json_decref(api_json(a, "POST", sub,
	                     "{\"progress\": \"achevee\", \"comment\": \"x\", \"status\": "
	                     "\"abandonnee\"}",
	                     422));
	json_decref(api_json(a, "POST", sub, "{\"progress\": \"bof\", \"comment\": \"x\"}", 422));

	/* Mine. */
	j = api_json(a, "GET", "/api/v1/me/fiches", NULL, 200);
	json_t *list = json_object_get(j, "fiches");
	assert_true(json_array_size(list) >= 3);
	int found = 0;
	size_t i;
	json_t *it;
	json_array_foreach(list, i, it)
	{
		found |= json_integer_value(json_object_get(it, "id")) == id;
		assert_non_null(json_object_get(it, "overdue_reasons"));
	}
	assert_true(found);
	assert_int_equal(json_array_size(json_object_get(j, "to_chase")), 0);
	json_decref(j);

	/* Someone else's fiche: 403 for the pilot, and for a partner. */
	snprintf(path, sizeof path, "/api/v1/fiches/%lld", (long long)other_fiche(7));
	assert_int_equal(api_do(a, "PATCH", path, "{\"title\": \"x\"}", &out, NULL), 403);
	snprintf(sub, sizeof sub, "%s/progress", path);
	assert_int_equal(
	    api_do(a, "POST", sub, "{\"progress\": \"achevee\", \"comment\": \"x\"}", &out, NULL),
	    403);
	api_free(a);
	struct api *p = api_new("partenaire@demo.maillage.fr");
	assert_int_equal(api_do(p, "PATCH", path, "{\"title\": \"x\"}", &out, NULL), 403);
	snprintf(sub, sizeof sub, "%s/comments", path);
	json_decref(api_json(p, "POST", sub, "{\"body\": \"Avis du partenaire\"}", 201));
	api_free(p);
	struct api *rd = api_new("lecture@demo.maillage.fr");
	assert_int_equal(api_do(rd, "POST", sub, "{\"body\": \"x\"}", &out, NULL), 403);
	api_free(rd);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_amount_parse_and_format),
	    cmocka_unit_test(test_demo_fiches_loaded),
	    cmocka_unit_test(test_demo_fiches_unknown_pilot_is_an_error),
	    cmocka_unit_test(test_public_page_without_personal_data),
	    cmocka_unit_test(test_edit_by_coordinator),
	    cmocka_unit_test(test_edit_by_pilot_and_refusals),
	    cmocka_unit_test(test_private_plan_is_invisible_to_other_members),
	    cmocka_unit_test(test_closing_needs_a_note),
	    cmocka_unit_test(test_budget_lines),
	    cmocka_unit_test(test_hostile_text_comes_back_escaped),
	    cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_mes_actions_overdue_and_quick_update),
	    cmocka_unit_test(test_api),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
