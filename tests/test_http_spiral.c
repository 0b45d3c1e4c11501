/* test_http_spiral: SPIRAL participation over HTTP on the demo database — the fast-entry syntax
 * (markers, sections, hostile and invalid lines, 150 lines, oversized input refused), keys and
 * keyword suggestions, workshops created with bad input refused, criteria typed by the
 * coordination and by the partner who created a workshop, classification validated in bulk by
 * the coordination, the aggregation counted by hand (filters by territory and group type), the
 * seed's « top 7 » out of the demo, CSV and XLSX exports, the key imported all or nothing with
 * line and column, the API, links to orientations, and permissions (reader, partner, anonymous,
 * member of another plan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "http.h"
#include "spiral.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "maillage-demo"
#define ADMIN    "admin@demo.maillage.fr"
#define COORD    "coordination@demo.maillage.fr"
#define PARTNER  "partenaire@demo.maillage.fr"
#define READER   "lecture@demo.maillage.fr"
#define OUTSIDER "coord-b@example.org"
#define SECRET   "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_a, plan_b, plan_ardeche, coord_uid, workshop_b;

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

static long get_status(struct client *c, const char *path)
{
	struct resp r;
	client_get(c, path, &r);
	long s = r.status;
	resp_free(&r);
	return s;
}

/* Create a workshop on plan as c; returns its id (or fails). */
static int64_t create_workshop(struct client *c, int64_t plan, const char *desc, const char *type,
                               const char *territory)
{
	char form[128], path[128];
	snprintf(form, sizeof form, "/plans/%lld/spiral/ateliers/nouveau", (long long)plan);
	snprintf(path, sizeof path, "/plans/%lld/spiral/ateliers", (long long)plan);
	char *e = enc(desc);
	char *fields = xasprintf("kind=groupe_pairs&group_description=%s&group_type=%s&place=Salle"
	                         "&held_on=2026-03-14&territory=%s&participants=12",
	                         e, type, territory ? territory : "");
	struct resp r;
	client_submit(c, form, path, fields, &r);
	if (r.status != 303)
		fail_msg("create workshop: %ld %s", r.status, buf_str(&r.body));
	resp_free(&r);
	free(fields);
	free(e);
	return th_query_int(&T, "SELECT MAX(id) FROM spiral_workshops WHERE plan_id = ?", "I",
	                    plan);
}

/* POST the fast entry of workshop w as c; returns the status. */
static long enter(struct client *c, int64_t w, const char *question, const char *lines,
                  struct resp *keep)
{
	char form[128];
	snprintf(form, sizeof form, "/spiral/ateliers/%lld/saisie", (long long)w);
	char *e = enc(lines);
	char *fields = xasprintf("question=%s&lines=%s", question, e);
	struct resp r;
	client_submit(c, form, form, fields, &r);
	long s = r.status;
	if (keep)
		*keep = r;
	else
		resp_free(&r);
	free(fields);
	free(e);
	return s;
}

static int64_t count_criteria(int64_t w)
{
	return th_query_int(&T, "SELECT COUNT(*) FROM spiral_criteria WHERE workshop_id = ?", "I",
	                    w);
}

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	db_int64f(db, &plan_a,
	          "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1", "");
	db_int64f(db, &plan_ardeche, "SELECT id FROM plans WHERE title = ?", "s",
	          "Schéma des solidarités 2020-2024");
	db_int64f(db, &coord_uid, "SELECT id FROM users WHERE email = ?", "s", COORD);
	db_int64f(db, &plan_b,
	          "INSERT INTO plans (kind, title, description, is_public, start_year, end_year, "
	          "created_at, updated_at) VALUES ('projet_social', ?, '', 0, 2024, 2027, 'x', "
	          "'x') RETURNING id",
	          "s", SECRET " (plan)");
	db_int64f(db, &workshop_b,
	          "INSERT INTO spiral_workshops (plan_id, kind, group_description, group_type, "
	          "participants, created_at, updated_at) VALUES (?, 'plateforme', ?, 'mixte', 4, "
	          "'x', 'x') RETURNING id",
	          "Is", plan_b, SECRET " (atelier)");
	char *err = NULL;
	int64_t uid = 0;
	if (user_create(db, OUTSIDER, "Coordination B", "coordinator", "mot-de-passe-test", 0,
	                "cli", &uid, &err))
		fail_msg("user_create: %s", err);
	db_execf(db,
	         "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, 'coordinator')",
	         "II", plan_b, uid);
	db_close(db);
	assert_true(plan_a > 0 && plan_b > 0 && plan_ardeche > 0 && coord_uid > 0 &&
	            workshop_b > 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- the fast-entry syntax
 * ------------------------------------------------------------------------ */

static void test_entry_syntax(void **state)
{
	(void)state;
	struct spiral_entry e;
	char *err = NULL;
	const char *text = "+* Le cadre de vie\n"
	                   "  - La mobilité  \r\n"
	                   "\n"
	                   "= Organiser une fête des voisins\n"
	                   "*- Le bruit\n"
	                   "Sans signe\n"
	                   "# mal-être\n"
	                   "Après la section\n"
	                   "+ Signe gagne sur la section\n"
	                   "# Capacités\n"
	                   "* Retenu\n"
	                   "+ =1+1\n"
	                   "- <script>alert(1)</script>\n"
	                   "' OR 1=1 --\n";
	assert_int_equal(spiral_entry_parse(text, SPQ_BIEN_ETRE, &e, &err), 0);
	assert_null(err);
	assert_int_equal(e.n, 11);
	assert_string_equal(e.items[0].text, "Le cadre de vie");
	assert_int_equal(e.items[0].question, SPQ_BIEN_ETRE);
	assert_int_equal(e.items[0].approved, 1);
	assert_string_equal(e.items[1].text, "La mobilité");
	assert_int_equal(e.items[1].question, SPQ_MAL_ETRE);
	assert_int_equal(e.items[1].approved, 0);
	assert_int_equal(e.items[1].line, 2);
	assert_int_equal(e.items[2].question, SPQ_CAPACITES);
	assert_int_equal(e.items[2].line, 4);
	assert_int_equal(e.items[3].question, SPQ_MAL_ETRE);
	assert_int_equal(e.items[3].approved, 1);
	assert_string_equal(e.items[3].text, "Le bruit");
	assert_int_equal(e.items[4].question, SPQ_BIEN_ETRE); /* default */
	assert_int_equal(e.items[5].question, SPQ_MAL_ETRE);  /* section */
	assert_int_equal(e.items[6].question, SPQ_BIEN_ETRE); /* marker beats section */
	assert_int_equal(e.items[7].question, SPQ_CAPACITES);
	assert_int_equal(e.items[7].approved, 1);
	assert_string_equal(e.items[8].text, "=1+1");
	assert_int_equal(e.items[8].question, SPQ_BIEN_ETRE);
	assert_string_equal(e.items[9].text, "<script>alert(1)</script>");
	assert_string_equal(e.items[10].text, "' OR 1=1 --");
	assert_int_equal(e.items[10].question, SPQ_CAPACITES);
	spiral_entry_free(&e);

	/* The default question applies before any section. */
	assert_int_equal(spiral_entry_parse("Un critère", SPQ_MAL_ETRE, &e, &err), 0);
	assert_int_equal(e.items[0].question, SPQ_MAL_ETRE);
	spiral_entry_free(&e);

	/* Errors name their lines; nothing is returned. */
	assert_int_equal(spiral_entry_parse("+ bon\n+\n# inconnue\n- bon", 0, &e, &err), -1);
	assert_non_null(strstr(err, "Ligne 2"));
	assert_non_null(strstr(err, "Ligne 3"));
	assert_null(strstr(err, "Ligne 1 "));
	assert_int_equal(e.n, 0);
	free(err);
	assert_int_equal(spiral_entry_parse("\n  \n", 0, &e, &err), -1);
	free(err);
	assert_int_equal(spiral_entry_parse(NULL, 0, &e, &err), -1);
	free(err);
	struct buf b = {0};
	for (int i = 0; i < SPIRAL_TEXT_MAX + 1; i++)
		buf_puts(&b, "é");
	assert_int_equal(spiral_entry_parse(buf_str(&b), 0, &e, &err), -1);
	assert_non_null(strstr(err, "300"));
	free(err);
	buf_reset(&b);
	for (int i = 0; i < SPIRAL_TEXT_MAX; i++)
		buf_puts(&b, "é");
	assert_int_equal(spiral_entry_parse(buf_str(&b), 0, &e, &err), 0);
	spiral_entry_free(&e);
	/* 501 criteria: refused; 500: accepted. */
	buf_reset(&b);
	for (int i = 0; i < 501; i++)
		buf_printf(&b, "+ c%d\n", i);
	assert_int_equal(spiral_entry_parse(buf_str(&b), 0, &e, &err), -1);
	assert_non_null(strstr(err, "500"));
	free(err);
	buf_reset(&b);
	for (int i = 0; i < 500; i++)
		buf_printf(&b, "+ c%d\n", i);
	assert_int_equal(spiral_entry_parse(buf_str(&b), 0, &e, &err), 0);
	assert_int_equal(e.n, 500);
	spiral_entry_free(&e);
	/* Over 64 KiB: refused whatever the lines. */
	buf_reset(&b);
	while (b.len <= SPIRAL_ENTRY_MAX)
		buf_puts(&b, "\n\n\n\n\n\n\n\n");
	assert_int_equal(spiral_entry_parse(buf_str(&b), 0, &e, &err), -1);
	assert_non_null(strstr(err, "trop long"));
	free(err);
	buf_free(&b);

	char *k = spiral_text_key("« Le Cadre de vie ! »");
	assert_string_equal(k, "le cadre de vie");
	free(k);
	k = spiral_text_key("l'accès à la culture.");
	char *k2 = spiral_text_key("L'ACCÈS À LA CULTURE");
	assert_string_equal(k, k2);
	free(k);
	free(k2);
}

static void test_key_and_suggestions(void **state)
{
	(void)state;
	/* A fresh database gets the embedded key on first use, once. */
	char dir[256];
	th_tmpdir(dir, sizeof dir);
	char *path = xasprintf("%s/fresh.db", dir);
	char *err = NULL;
	struct db *fresh = db_open(path, &err);
	assert_non_null(fresh);
	assert_int_equal(db_migrate(fresh), DB_OK);
	int64_t nd = -1, nc = -1;
	db_int64f(fresh, &nd, "SELECT COUNT(*) FROM spiral_dimensions", "");
	assert_int_equal(nd, 0);
	assert_int_equal(spiral_taxonomy_ensure(fresh, &err), 0);
	assert_int_equal(spiral_taxonomy_ensure(fresh, &err), 0);
	db_int64f(fresh, &nd, "SELECT COUNT(*) FROM spiral_dimensions", "");
	db_int64f(fresh, &nc, "SELECT COUNT(*) FROM spiral_components", "");
	assert_int_equal(nd, 8);
	assert_true(nc >= 50);
	/* A bad key leaves it as it was. */
	const char *badkey =
	    "dimension;libelle_dimension;composante;libelle;description;mots_cles\n"
	    "B;Cadre;B00;Renommé;;x\n\"B;Cadre;B77;Guillemet;;x\n";
	assert_int_equal(
	    spiral_taxonomy_import(fresh, badkey, strlen(badkey), 0, "cli", NULL, &err), -1);
	assert_non_null(strstr(err, "Ligne 3, colonne 1"));
	free(err);
	char *label = NULL;
	struct db_stmt *st =
	    db_queryf(fresh, "SELECT label FROM spiral_components WHERE code = 'B00'", "");
	if (st && db_step(st) == DB_ROW)
		label = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	assert_string_equal(label, "Cadre de vie en général");
	free(label);
	db_close(fresh);
	free(path);
	th_rmdir(dir);

	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM spiral_dimensions", ""), 8);
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM spiral_components", "") >= 50);
	struct db *db = th_db(&T);
	struct spiral_taxo t;
	assert_int_equal(spiral_taxo_load(db, &t), 0);
	static const struct {
		const char *text, *code;
	} cases[] = {
	    {"Le temps pour soi et avec ses proches", "F03"},
	    {"Le cadre de vie", "B00"},
	    {"L'accès à la culture", "A07"},
	    {"S'épanouir et se réaliser par l'activité", "F05"},
	    {"Le libre choix", "F04"},
	    {"Les difficultés de santé et d'accès aux soins", "A02"},
	    {"La pollution et les problématiques liées à l'environnement", "B01"},
	    {"Les relations aux autres (y compris les relations aux administrations)", "D06"},
	    {"La mobilité et les déplacements", "A08"},
	    {"LE BRUIT ET LA SALETÉ", "B01"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t id = spiral_taxo_suggest(&t, cases[i].text);
		char *code =
		    th_query_text(&T, "SELECT code FROM spiral_components WHERE id = ?", id);
		if (!code || strcmp(code, cases[i].code))
			fail_msg("%s: suggested %s, expected %s", cases[i].text,
			         code ? code : "(none)", cases[i].code);
		free(code);
	}
	assert_int_equal(spiral_taxo_suggest(&t, "xyzzy plugh"), 0);
	/* Keywords match at the start of words only: "sante" is not in "insanté". */
	assert_int_equal(spiral_taxo_suggest(&t, "insantéx"), 0);
	spiral_taxo_free(&t);
	db_close(db);
}

/* --- the demo: the seed's top 7 ------------------------------------------------------------------
 */

static void test_demo_top7(void **state)
{
	(void)state;
	static const char *const bien[] = {
	    "Le temps pour soi et avec ses proches", "Le cadre de vie", "L'accès à la culture",
	    "S'épanouir et se réaliser par l'activité", "Le libre choix"};
	static const char *const mal[] = {
	    "Les difficultés de santé et d'accès aux soins",
	    "La pollution et les problématiques liées à l'environnement",
	    "Les relations aux autres (y compris les relations aux administrations)",
	    "La mobilité et les déplacements"};
	struct db *db = th_db(&T);
	json_t *top = spiral_top_texts(db, plan_ardeche, SPQ_BIEN_ETRE, NULL, 7);
	assert_int_equal(json_array_size(top), 7);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(top, i), "text")), bien[i]);
	/* Strictly decreasing counts: the order does not hang on a tie. */
	for (size_t i = 1; i < 6; i++)
		assert_true(
		    json_integer_value(json_object_get(json_array_get(top, i - 1), "count")) >
		    json_integer_value(json_object_get(json_array_get(top, i), "count")));
	json_decref(top);
	/* The criteria retained by the groups only ("*"): the same order, counts 8, 7, 6, 5, 4. */
	struct spiral_filter retained = {.approved_only = 1};
	top = spiral_top_texts(db, plan_ardeche, SPQ_BIEN_ETRE, &retained, 7);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(top, i), "text")), bien[i]);
		assert_int_equal(
		    json_integer_value(json_object_get(json_array_get(top, i), "count")),
		    8 - (int)i);
	}
	json_decref(top);
	top = spiral_top_texts(db, plan_ardeche, SPQ_MAL_ETRE, NULL, 7);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(top, i), "text")), mal[i]);
	for (size_t i = 1; i < 5; i++)
		assert_true(
		    json_integer_value(json_object_get(json_array_get(top, i - 1), "count")) >
		    json_integer_value(json_object_get(json_array_get(top, i), "count")));
	json_decref(top);
	db_close(db);
	assert_true(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM spiral_criteria c JOIN spiral_workshops w ON "
	                 "w.id = c.workshop_id WHERE w.plan_id = ? AND c.is_demo = 1",
	                 "I", plan_ardeche) >= 250);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM spiral_workshops WHERE plan_id = ? AND "
	                              "group_description = ?",
	                              "Is", plan_ardeche, "Jeunes mamans du foyer de l'enfance"),
	                 1);

	/* The same order on the aggregation page, seen by the administrator. */
	struct client *c = login(ADMIN);
	char path[128];
	snprintf(path, sizeof path, "/plans/%lld/spiral/synthese", (long long)plan_ardeche);
	struct resp r;
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	const char *body = buf_str(&r.body), *prev = body;
	for (size_t i = 0; i < 5; i++) {
		char *h = NULL;
		struct buf eb = {0};
		html_printf(&eb, "<li>%s <span", bien[i]);
		h = buf_steal(&eb);
		const char *at = strstr(prev, h);
		if (!at)
			fail_msg("bien-être %zu (%s) missing or out of order", i, bien[i]);
		prev = at;
		free(h);
	}
	for (size_t i = 0; i < 4; i++) {
		struct buf eb = {0};
		html_printf(&eb, "<li>%s <span", mal[i]);
		char *h = buf_steal(&eb);
		const char *at = strstr(prev, h);
		if (!at)
			fail_msg("mal-être %zu (%s) missing or out of order", i, mal[i]);
		prev = at;
		free(h);
	}
	resp_free(&r);
	/* And through the API. */
	snprintf(path, sizeof path, "/api/v1/plans/%lld/spiral/aggregation?n=5",
	         (long long)plan_ardeche);
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	json_t *tb = json_object_get(
	    json_object_get(json_object_get(doc, "questions"), "bien_etre"), "top_criteria");
	assert_int_equal(json_array_size(tb), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(tb, i), "text")), bien[i]);
	json_decref(doc);
	resp_free(&r);
	client_free(c);
}

/* --- workshops and fast entry
 * ---------------------------------------------------------------------- */

static void test_workshop_and_entry(void **state)
{
	(void)state;
	struct client *c = login(COORD);
	char form[128], path[128];
	snprintf(form, sizeof form, "/plans/%lld/spiral/ateliers/nouveau", (long long)plan_a);
	snprintf(path, sizeof path, "/plans/%lld/spiral/ateliers", (long long)plan_a);
	int64_t before = th_query_int(&T, "SELECT COUNT(*) FROM spiral_workshops", "");
	static const char *const bad[] = {
	    "kind=pirate&group_description=x&group_type=habitants",
	    "kind=plateforme&group_description=+++&group_type=habitants",
	    "kind=plateforme&group_description=x&group_type=pirates",
	    "kind=plateforme&group_description=x&group_type=habitants&held_on=2026-02-30",
	    "kind=plateforme&group_description=x&group_type=habitants&territory=99999",
	    "kind=plateforme&group_description=x&group_type=habitants&participants=-1",
	    "kind=plateforme&group_description=x&group_type=habitants&participants=1e3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct resp r;
		client_submit(c, form, path, bad[i], &r);
		if (r.status != 422)
			fail_msg("bad workshop %zu answered %ld", i, r.status);
		assert_has(&r, "notice-error");
		resp_free(&r);
	}
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM spiral_workshops", ""), before);

	/* Hostile description: stored as typed, shown escaped. */
	int64_t w =
	    create_workshop(c, plan_a, "<script>alert(1)</script> ' OR 1=1 --", "habitants", NULL);
	char *desc =
	    th_query_text(&T, "SELECT group_description FROM spiral_workshops WHERE id = ?", w);
	assert_string_equal(desc, "<script>alert(1)</script> ' OR 1=1 --");
	free(desc);
	char wpath[64];
	snprintf(wpath, sizeof wpath, "/spiral/ateliers/%lld", (long long)w);
	struct resp r;
	client_get(c, wpath, &r);
	assert_int_equal(r.status, 200);
	assert_lacks(&r, "<script>alert(1)");
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;");
	resp_free(&r);

	/* 150 criteria typed in one go. */
	struct buf b = {0};
	for (int i = 0; i < 150; i++)
		buf_printf(&b, "%s%s Critère numéro %d\n",
		           i % 3 == 0   ? "+"
		           : i % 3 == 1 ? "-"
		                        : "=",
		           i % 10 == 0 ? "*" : "", i);
	assert_int_equal(enter(c, w, "bien_etre", buf_str(&b), &r), 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(strstr(loc, "ok=150"));
	free(loc);
	resp_free(&r);
	buf_free(&b);
	assert_int_equal(count_criteria(w), 150);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM spiral_criteria WHERE workshop_id = ? AND "
	                 "question = 'mal_etre'",
	                 "I", w),
	    50);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM spiral_criteria WHERE workshop_id = ? AND "
	                 "group_approved = 1",
	                 "I", w),
	    15);
	char wid[32];
	snprintf(wid, sizeof wid, "%lld", (long long)w);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = "
	                              "'spiral_criteria' AND entity_id = ?",
	                              "s", wid),
	                 1);

	/* An invalid line refuses the whole entry and keeps the text. */
	assert_int_equal(enter(c, w, "bien_etre", "+ bon\n+\n- <b>gras</b>", &r), 422);
	assert_has(&r, "Ligne 2");
	assert_has(&r, "&lt;b&gt;gras&lt;/b&gt;");
	resp_free(&r);
	assert_int_equal(enter(c, w, "pirate", "+ bon", NULL), 422);
	/* Oversized input: refused, nothing stored. */
	struct buf big = {0};
	while (big.len <= SPIRAL_ENTRY_MAX)
		buf_puts(&big, "+ Un critère assez long pour remplir le champ de saisie\n");
	assert_int_equal(enter(c, w, "bien_etre", buf_str(&big), NULL), 422);
	buf_free(&big);
	assert_int_equal(count_criteria(w), 150);

	/* Hostile criteria: stored literally, shown escaped. */
	assert_int_equal(enter(c, w, "capacites", "<script>alert(2)</script>\n' OR 1=1 --", NULL),
	                 303);
	assert_int_equal(count_criteria(w), 152);
	client_get(c, wpath, &r);
	assert_lacks(&r, "<script>alert(2)");
	assert_has(&r, "&lt;script&gt;alert(2)");
	assert_has(&r, "&#39; OR 1=1 --");
	resp_free(&r);
	client_free(c);
}

/* --- permissions
 * ------------------------------------------------------------------------------------ */

static void test_permissions(void **state)
{
	(void)state;
	struct client *coord = login(COORD), *partner = login(PARTNER), *reader = login(READER),
	              *outsider = login(OUTSIDER), *anon = client_new(&T);
	int64_t wc = create_workshop(coord, plan_a, "Groupe de la coordination", "jeunes", NULL);
	char p[160];

	/* The reader sees, but types nothing and classifies nothing. */
	snprintf(p, sizeof p, "/plans/%lld/spiral", (long long)plan_a);
	assert_int_equal(get_status(reader, p), 200);
	snprintf(p, sizeof p, "/plans/%lld/spiral/synthese", (long long)plan_a);
	assert_int_equal(get_status(reader, p), 200);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld", (long long)wc);
	assert_int_equal(get_status(reader, p), 200);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/saisie", (long long)wc);
	assert_int_equal(get_status(reader, p), 403);
	snprintf(p, sizeof p, "/plans/%lld/spiral/ateliers/nouveau", (long long)plan_a);
	assert_int_equal(get_status(reader, p), 403);
	snprintf(p, sizeof p, "/plans/%lld/spiral/classement", (long long)plan_a);
	assert_int_equal(get_status(reader, p), 403);
	assert_int_equal(get_status(partner, p), 403);
	assert_int_equal(get_status(coord, p), 200);

	/* The partner creates a workshop and types its criteria, not those of another. */
	int64_t wp = create_workshop(partner, plan_a, "Groupe du partenaire", "familles", NULL);
	assert_int_equal(enter(partner, wp, "bien_etre", "+ Le jardin partagé", NULL), 303);
	assert_int_equal(count_criteria(wp), 1);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/saisie", (long long)wc);
	assert_int_equal(get_status(partner, p), 403);
	/* A POST with a valid token but the wrong role changes nothing. */
	struct resp r;
	char *tok = NULL;
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/saisie", (long long)wp);
	client_get(partner, p, &r);
	tok = page_csrf_token(&r);
	resp_free(&r);
	char *body = xasprintf("_csrf=%s&question=bien_etre&lines=%%2B+pirate", tok);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/saisie", (long long)wc);
	client_post(partner, p, NULL, body, strlen(body), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	free(body);
	free(tok);
	assert_int_equal(count_criteria(wc), 0);
	/* The coordination types into the partner's workshop. */
	assert_int_equal(enter(coord, wp, "mal_etre", "Le bruit", NULL), 303);
	assert_int_equal(count_criteria(wp), 2);

	/* Anonymous visitors of a public plan: the plan's SPIRAL pages are for members. */
	snprintf(p, sizeof p, "/plans/%lld/spiral", (long long)plan_a);
	assert_int_equal(get_status(anon, p), 401);
	snprintf(p, sizeof p, "/plans/%lld/spiral/ateliers/nouveau", (long long)plan_a);
	assert_true(get_status(anon, p) != 200);
	/* … except the synthesis (counts of anonymous post-its), as a restitution. */
	snprintf(p, sizeof p, "/plans/%lld/spiral/synthese", (long long)plan_ardeche);
	client_get(anon, p, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Le temps pour soi et avec ses proches");
	assert_lacks(&r, "href=\"/spiral/ateliers/");
	resp_free(&r);
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/aggregation", (long long)plan_ardeche);
	assert_int_equal(get_status(anon, p), 200);
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/criteria", (long long)plan_ardeche);
	assert_int_equal(get_status(anon, p), 401);
	snprintf(p, sizeof p, "/plans/%lld/spiral/synthese", (long long)plan_b);
	client_get(anon, p, &r);
	assert_int_equal(r.status, 404);
	assert_lacks(&r, SECRET);
	resp_free(&r);

	/* Another plan: nothing seen, 404 everywhere, no leak. */
	static const char *const fmts[] = {"/plans/%lld/spiral",
	                                   "/plans/%lld/spiral/synthese",
	                                   "/plans/%lld/spiral/export.csv",
	                                   "/plans/%lld/spiral/export.xlsx",
	                                   "/api/v1/plans/%lld/spiral/criteria",
	                                   "/api/v1/plans/%lld/spiral/aggregation"};
	for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
		snprintf(p, sizeof p, fmts[i], (long long)plan_b);
		client_get(coord, p, &r);
		assert_int_equal(r.status, 404);
		assert_lacks(&r, SECRET);
		resp_free(&r);
		client_get(outsider, p, &r);
		assert_int_equal(r.status, 200);
		resp_free(&r);
	}
	snprintf(p, sizeof p, "/spiral/ateliers/%lld", (long long)workshop_b);
	assert_int_equal(get_status(coord, p), 404);
	assert_int_equal(get_status(reader, p), 404);
	assert_int_equal(get_status(anon, p), 404);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/saisie", (long long)workshop_b);
	assert_int_equal(get_status(coord, p), 404);
	/* The outsider does not see plan A's workshop either. */
	snprintf(p, sizeof p, "/spiral/ateliers/%lld", (long long)wc);
	assert_int_equal(get_status(outsider, p), 403);

	/* Admin pages: administrators only. */
	assert_int_equal(get_status(coord, "/admin/spiral"), 403);
	assert_int_equal(get_status(reader, "/admin/spiral/import"), 403);
	client_free(coord);
	client_free(partner);
	client_free(reader);
	client_free(outsider);
	client_free(anon);
}

/* --- classification
 * --------------------------------------------------------------------------------- */

static void test_classification(void **state)
{
	(void)state;
	struct client *c = login(COORD);
	int64_t w = create_workshop(c, plan_a, "Groupe à classer", "habitants", NULL);
	assert_int_equal(enter(c, w, "bien_etre",
	                       "+ Le cadre de vie\n- La mobilité et les déplacements\n+ xyzzy",
	                       NULL),
	                 303);
	int64_t c1 =
	    th_query_int(&T, "SELECT MIN(id) FROM spiral_criteria WHERE workshop_id = ?", "I", w);
	int64_t b00 = th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'B00'", "");
	int64_t a08 = th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'A08'", "");
	int64_t d06 = th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'D06'", "");
	assert_int_equal(
	    th_query_int(&T, "SELECT suggested_component_id FROM spiral_criteria WHERE id = ?", "I",
	                 c1),
	    b00);
	char p[128];
	snprintf(p, sizeof p, "/plans/%lld/spiral/classement", (long long)plan_a);
	struct resp r;
	client_get(c, p, &r);
	assert_int_equal(r.status, 200);
	/* The suggestion is preselected. */
	char sel[64];
	snprintf(sel, sizeof sel, "<option value=\"%lld\" selected>B00", (long long)b00);
	assert_has(&r, sel);
	resp_free(&r);
	/* Bulk validation: the first as suggested, the second corrected, the third left; a
	 * criterion of another plan in the form is ignored. */
	int64_t other = th_query_int(&T,
	                             "SELECT MIN(id) FROM spiral_criteria WHERE workshop_id IN "
	                             "(SELECT id FROM spiral_workshops WHERE plan_id = ?)",
	                             "I", plan_ardeche);
	int64_t other_before = th_query_int(
	    &T, "SELECT COALESCE(component_id, 0) FROM spiral_criteria WHERE id = ?", "I", other);
	char *fields = xasprintf("c%lld=%lld&c%lld=%lld&c%lld=&c%lld=%lld", (long long)c1,
	                         (long long)b00, (long long)(c1 + 1), (long long)d06,
	                         (long long)(c1 + 2), (long long)other, (long long)a08);
	client_submit(c, p, p, fields, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	free(fields);
	assert_int_equal(
	    th_query_int(&T, "SELECT component_id FROM spiral_criteria WHERE id = ?", "I", c1),
	    b00);
	assert_int_equal(
	    th_query_int(&T, "SELECT component_id FROM spiral_criteria WHERE id = ?", "I", c1 + 1),
	    d06);
	assert_int_equal(
	    th_query_int(&T, "SELECT validated_by FROM spiral_criteria WHERE id = ?", "I", c1),
	    coord_uid);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM spiral_criteria WHERE id = ? AND "
	                              "component_id IS NULL",
	                              "I", c1 + 2),
	                 1);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COALESCE(component_id, 0) FROM spiral_criteria WHERE "
	                              "id = ?",
	                              "I", other),
	                 other_before);
	/* A component that does not exist: refused, nothing changed. */
	fields = xasprintf("c%lld=%lld&c%lld=999999", (long long)(c1 + 1), (long long)a08,
	                   (long long)(c1 + 2));
	client_submit(c, p, p, fields, &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	free(fields);
	assert_int_equal(
	    th_query_int(&T, "SELECT component_id FROM spiral_criteria WHERE id = ?", "I", c1 + 1),
	    d06);
	client_free(c);
}

/* --- aggregation by hand
 * ---------------------------------------------------------------------------- */

static void test_aggregation_by_hand(void **state)
{
	(void)state;
	/* A fresh plan of its own, so that the counts are exactly those typed here. */
	struct db *db = th_db(&T);
	int64_t plan = 0, admin_uid = 0;
	db_int64f(db, &plan,
	          "INSERT INTO plans (kind, title, description, is_public, created_at, updated_at) "
	          "VALUES ('autre', 'Plan SPIRAL compté à la main', '', 0, 'x', 'x') RETURNING id",
	          "");
	char *crest = NULL, *epci = NULL, *die = NULL;
	struct db_stmt *st =
	    db_queryf(db, "SELECT code, epci FROM communes WHERE name = 'Crest'", "");
	if (st && db_step(st) == DB_ROW) {
		crest = xstrdup(db_col_text(st, 0));
		epci = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	st = db_queryf(db, "SELECT code FROM communes WHERE name = 'Die'", "");
	if (st && db_step(st) == DB_ROW)
		die = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	db_int64f(db, &admin_uid, "SELECT id FROM users WHERE email = ?", "s", ADMIN);
	db_close(db);
	assert_non_null(crest);
	assert_non_null(epci);
	assert_non_null(die);
	struct client *c = login(ADMIN);
	int64_t w1 = create_workshop(c, plan, "Habitants de Crest", "habitants", crest);
	int64_t w2 = create_workshop(c, plan, "Jeunes de Die", "jeunes", die);
	assert_int_equal(enter(c, w1, "bien_etre",
	                       "+ Le jardin\n+ le jardin.\n+ La musique\n- Le bruit\n- Le bruit",
	                       NULL),
	                 303);
	assert_int_equal(enter(c, w2, "bien_etre",
	                       "+ La musique\n+ LA MUSIQUE !\n+ Le sport\n- Le bruit\n= Aider",
	                       NULL),
	                 303);
	/* By hand: bien-être musique 3, jardin 2, sport 1; mal-être bruit 3; capacités aider 1. */
	db = th_db(&T);
	json_t *t = spiral_top_texts(db, plan, SPQ_BIEN_ETRE, NULL, 10);
	assert_int_equal(json_array_size(t), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "text")),
	                    "La musique");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "text")),
	                    "Le jardin");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 1), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 2), "count")), 1);
	json_decref(t);
	struct spiral_filter f = {.group_type = "habitants"};
	t = spiral_top_texts(db, plan, SPQ_BIEN_ETRE, &f, 10);
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "text")),
	                    "Le jardin");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 1), "count")), 1);
	json_decref(t);
	f = (struct spiral_filter){.territory = die};
	t = spiral_top_texts(db, plan, SPQ_BIEN_ETRE, &f, 10);
	assert_int_equal(json_array_size(t), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "text")),
	                    "Le sport");
	json_decref(t);
	/* The EPCI of Crest takes its communes' workshops. */
	f = (struct spiral_filter){.territory = epci};
	t = spiral_top_texts(db, plan, SPQ_MAL_ETRE, &f, 10);
	assert_int_equal(json_array_size(t), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 2);
	json_decref(t);
	t = spiral_top_texts(db, plan, SPQ_MAL_ETRE, NULL, 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 3);
	json_decref(t);
	/* Components: bruit → B01 three times (suggested, then validated in bulk). */
	db_execf(db,
	         "UPDATE spiral_criteria SET component_id = suggested_component_id WHERE "
	         "workshop_id IN (?, ?)",
	         "II", w1, w2);
	t = spiral_top_components(db, plan, SPQ_MAL_ETRE, NULL, 10);
	assert_int_equal(json_array_size(t), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "code")),
	                    "B01");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t, 0), "count")), 3);
	json_decref(t);
	db_close(db);
	/* The API filters the same way. */
	char p[160];
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/aggregation?type=jeunes", (long long)plan);
	struct resp r;
	client_get(c, p, &r);
	assert_int_equal(r.status, 200);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	json_t *tb = json_object_get(
	    json_object_get(json_object_get(doc, "questions"), "bien_etre"), "top_criteria");
	assert_int_equal(json_array_size(tb), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(tb, 0), "count")), 2);
	json_decref(doc);
	resp_free(&r);
	/* Nothing was retained by a group ("*") in this plan. */
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/aggregation?retenus=1", (long long)plan);
	client_get(c, p, &r);
	doc = json_loads(buf_str(&r.body), 0, NULL);
	assert_true(json_is_true(json_object_get(doc, "approved_only")));
	tb = json_object_get(json_object_get(json_object_get(doc, "questions"), "bien_etre"),
	                     "top_criteria");
	assert_int_equal(json_array_size(tb), 0);
	json_decref(doc);
	resp_free(&r);

	/* Exports: CSV with BOM, ';', CRLF, formula guard; XLSX is a zip. */
	assert_int_equal(enter(c, w1, "bien_etre", "+ =HYPERLINK(\"http://x\")\n+ @SUM(1)", NULL),
	                 303);
	snprintf(p, sizeof p, "/plans/%lld/spiral/export.csv", (long long)plan);
	client_get(c, p, &r);
	assert_int_equal(r.status, 200);
	const char *csv = buf_str(&r.body);
	assert_memory_equal(csv,
	                    "\xEF\xBB\xBF"
	                    "Atelier;Type d'atelier;",
	                    26);
	assert_non_null(strstr(csv, "\r\n"));
	assert_non_null(strstr(csv, ";\"'=HYPERLINK(\"\"http://x\"\")\";"));
	assert_non_null(strstr(csv, ";'@SUM(1);"));
	assert_null(strstr(csv, ";=HYPERLINK"));
	assert_non_null(strstr(csv, "Habitants de Crest;Groupe homogène (groupe de pairs);"
	                            "Habitants;Salle;2026-03-14;"));
	/* 12 criteria + header = 13 lines. */
	int lines = 0;
	for (const char *q = csv; (q = strstr(q, "\r\n")); q += 2)
		lines++;
	assert_int_equal(lines, 13);
	resp_free(&r);
	snprintf(p, sizeof p, "/plans/%lld/spiral/export.xlsx", (long long)plan);
	client_get(c, p, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body.len > 1000);
	assert_memory_equal(r.body.data, "PK", 2);
	resp_free(&r);
	client_free(c);
	free(crest);
	free(epci);
	free(die);
	(void)admin_uid;
}

/* --- the key: admin edits and CSV import all or nothing
 * ----------------------------------------------- */

static void test_key_import(void **state)
{
	(void)state;
	struct client *c = login(ADMIN);
	int64_t n0 = th_query_int(&T, "SELECT COUNT(*) FROM spiral_components", "");
	struct resp r;
	/* Wrong header: line 1, column 3. */
	char *e = enc("dimension;libelle_dimension;code;libelle;description;mots_cles\n"
	              "A;Accès;A99;Nouvelle;;x\n");
	char *fields = xasprintf("contenu=%s", e);
	client_submit(c, "/admin/spiral/import", "/admin/spiral/import", fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 1, colonne 3");
	resp_free(&r);
	free(fields);
	free(e);
	/* A bad third line: nothing of the second is kept. */
	e = enc("# commentaire\ndimension;libelle_dimension;composante;libelle;description;"
	        "mots_cles\nA;Accès aux moyens de vie;A99;Nouvelle composante;;nouveau\n"
	        "A;Accès;a-98;Minuscules;;x\n");
	fields = xasprintf("contenu=%s", e);
	client_submit(c, "/admin/spiral/import", "/admin/spiral/import", fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 4, colonne 3");
	resp_free(&r);
	free(fields);
	free(e);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM spiral_components", ""), n0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM spiral_components WHERE code = "
	                              "'A99'",
	                              ""),
	                 0);
	/* Too few columns: line and column. */
	e = enc(
	    "dimension;libelle_dimension;composante;libelle;description;mots_cles\nA;Accès;A97\n");
	fields = xasprintf("contenu=%s", e);
	client_submit(c, "/admin/spiral/import", "/admin/spiral/import", fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Ligne 2, colonne 4");
	resp_free(&r);
	free(fields);
	free(e);
	/* A good file: one new dimension and component, one updated, with a quoted field. */
	e = enc("\xEF\xBB\xBF"
	        "dimension;libelle_dimension;composante;libelle;description;"
	        "mots_cles\nI;Valeurs;I01;Valeurs partagées;\"Avec ; et \"\"guillemets\"\"\";"
	        "valeur\nA;Accès aux moyens de vie;A01;Alimentation et eau;;alimentation,eau\n");
	fields = xasprintf("contenu=%s", e);
	client_submit(c, "/admin/spiral/import", "/admin/spiral/import", fields, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	free(fields);
	free(e);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM spiral_components", ""), n0 + 1);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM spiral_dimensions", ""), 9);
	char *d = th_query_text(&T, "SELECT description FROM spiral_components WHERE id = ?",
	                        th_query_int(&T,
	                                     "SELECT id FROM spiral_components WHERE code = "
	                                     "'I01'",
	                                     ""));
	assert_string_equal(d, "Avec ; et \"guillemets\"");
	free(d);
	d = th_query_text(
	    &T, "SELECT label FROM spiral_components WHERE id = ?",
	    th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'A01'", ""));
	assert_string_equal(d, "Alimentation et eau");
	free(d);
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM audit_log WHERE entity = 'spiral_key'",
	                         "") >= 1);
	/* Editing one component's keywords changes the suggestions. */
	int64_t g02 = th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'G02'", "");
	char p[96];
	snprintf(p, sizeof p, "/admin/spiral/composantes/%lld", (long long)g02);
	client_submit(c, p, p, "label=Joie+et+plaisir&description=&keywords=joie%2Cxyzzy", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_submit(c, p, p, "label=&description=&keywords=", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	struct db *db = th_db(&T);
	struct spiral_taxo t;
	spiral_taxo_load(db, &t);
	assert_int_equal(spiral_taxo_suggest(&t, "Xyzzy le magicien"), g02);
	spiral_taxo_free(&t);
	db_close(db);
	client_get(c, "/admin/spiral", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Valeurs partagées");
	resp_free(&r);
	client_free(c);
}

/* --- API and links
 * ------------------------------------------------------------------------------------ */

static void test_api_and_links(void **state)
{
	(void)state;
	struct client *c = login(COORD);
	int64_t w = create_workshop(c, plan_a, "Groupe de l'API", "mixte", NULL);
	struct resp r;
	char wp[96];
	snprintf(wp, sizeof wp, "/spiral/ateliers/%lld/saisie", (long long)w);
	client_get(c, wp, &r);
	char *tok = page_csrf_token(&r);
	resp_free(&r);
	char *h = xasprintf("X-CSRF-Token: %s", tok);
	client_set_header(c, h);
	char p[128];
	snprintf(p, sizeof p, "/api/v1/spiral/workshops/%lld/criteria", (long long)w);
	const char *body1 = "{\"lines\": \"+* Le cadre de vie\\n- Le bruit\"}";
	client_post(c, p, "application/json", body1, strlen(body1), &r);
	assert_int_equal(r.status, 201);
	assert_has(&r, "\"created\": 2");
	resp_free(&r);
	const char *body2 = "{\"criteria\": [{\"text\": \"Aider\", \"question\": \"capacites\", "
	                    "\"group_approved\": true}]}";
	client_post(c, p, "application/json", body2, strlen(body2), &r);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	const char *bad[] = {"{\"criteria\": [{\"text\": \"\"}]}",
	                     "{\"criteria\": [{\"text\": \"x\", \"question\": \"pirate\"}]}",
	                     "{\"lines\": \"+\"}",
	                     "{\"lines\": \"+ a\\u0001b\"}",
	                     "{}",
	                     "[1]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		client_post(c, p, "application/json", bad[i], strlen(bad[i]), &r);
		if (r.status != 422 && r.status != 400)
			fail_msg("bad API body %zu answered %ld", i, r.status);
		assert_has(&r, "\"error\"");
		resp_free(&r);
	}
	assert_int_equal(count_criteria(w), 3);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT group_approved FROM spiral_criteria WHERE workshop_id = "
	                 "? AND question = 'capacites'",
	                 "I", w),
	    1);
	/* Without the CSRF header: refused. */
	client_set_header(c, NULL);
	client_post(c, p, "application/json", body2, strlen(body2), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(count_criteria(w), 3);
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/criteria?workshop=%lld&question=mal_etre",
	         (long long)plan_a, (long long)w);
	client_get(c, p, &r);
	assert_int_equal(r.status, 200);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	json_t *arr = json_object_get(doc, "criteria");
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "text")),
	                    "Le bruit");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(arr, 0), "suggested_component")),
	    "B01");
	json_decref(doc);
	resp_free(&r);
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/criteria?question=pirate",
	         (long long)plan_a);
	assert_int_equal(get_status(c, p), 400);
	snprintf(p, sizeof p, "/api/v1/plans/%lld/spiral/workshops", (long long)plan_a);
	client_get(c, p, &r);
	assert_has(&r, "Groupe de l'API");
	resp_free(&r);

	/* The reader's API write is refused. */
	struct client *reader = login(READER);
	snprintf(p, sizeof p, "/plans/%lld/spiral/liens", (long long)plan_a);
	client_get(reader, p, &r);
	char *rt = page_csrf_token(&r);
	resp_free(&r);
	char *rh = xasprintf("X-CSRF-Token: %s", rt);
	client_set_header(reader, rh);
	snprintf(p, sizeof p, "/api/v1/spiral/workshops/%lld/criteria", (long long)w);
	client_post(reader, p, "application/json", body2, strlen(body2), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(count_criteria(w), 3);

	/* Links from components to orientations: the coordination adds, the reader cannot. */
	int64_t node = th_query_int(&T, "SELECT MIN(id) FROM nodes WHERE plan_id = ? AND depth = 1",
	                            "I", plan_a);
	int64_t b00 = th_query_int(&T, "SELECT id FROM spiral_components WHERE code = 'B00'", "");
	char *title = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", node);
	snprintf(p, sizeof p, "/plans/%lld/spiral/liens", (long long)plan_a);
	char *fields = xasprintf("component=%lld&node=%lld", (long long)b00, (long long)node);
	client_submit(reader, p, p, fields, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_set_header(c, NULL);
	client_submit(c, p, p, fields, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_submit(c, p, p, fields, &r); /* twice: refused */
	assert_int_equal(r.status, 422);
	assert_has(&r, "existe déjà");
	resp_free(&r);
	free(fields);
	/* A node of another plan: refused. */
	int64_t foreign =
	    th_query_int(&T, "SELECT MIN(id) FROM nodes WHERE plan_id = ?", "I", plan_ardeche);
	fields = xasprintf("component=%lld&node=%lld", (long long)b00, (long long)foreign);
	client_submit(c, p, p, fields, &r);
	assert_has(&r, "Choisissez une orientation");
	resp_free(&r);
	free(fields);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM spiral_component_links WHERE plan_id = ?", "I",
	                 plan_a),
	    1);
	/* The aggregation shows the orientation next to B00 (classified first). */
	struct db *db = th_db(&T);
	db_execf(db,
	         "UPDATE spiral_criteria SET component_id = suggested_component_id WHERE "
	         "workshop_id = ?",
	         "I", w);
	db_close(db);
	snprintf(p, sizeof p, "/plans/%lld/spiral/synthese", (long long)plan_a);
	client_get(reader, p, &r);
	assert_int_equal(r.status, 200);
	struct buf eb = {0};
	html_printf(&eb, "%s", title);
	assert_has(&r, buf_str(&eb));
	buf_free(&eb);
	resp_free(&r);
	free(title);
	free(rh);
	free(rt);
	client_free(reader);
	free(h);
	free(tok);
	client_free(c);
}

/* --- editing and deleting ------------------------------------------------------------------------
 */

static void test_edit_and_delete(void **state)
{
	(void)state;
	struct client *coord = login(COORD), *partner = login(PARTNER), *reader = login(READER);
	int64_t wp = create_workshop(partner, plan_a, "Groupe à modifier", "familles", NULL);
	int64_t wc = create_workshop(coord, plan_a, "Groupe à supprimer", "elus", NULL);
	char p[128];
	struct resp r;
	/* The partner edits its workshop; bad input re-renders with 422 and changes nothing. */
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/modifier", (long long)wp);
	client_submit(partner, p, p,
	              "kind=reunion_ouverte&group_description=Parents+du+quartier&group_type="
	              "familles&participants=30",
	              &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	char *d = th_query_text(&T,
	                        "SELECT group_description || '/' || kind || '/' || "
	                        "CAST(participants AS TEXT) FROM spiral_workshops WHERE id = ?",
	                        wp);
	assert_string_equal(d, "Parents du quartier/reunion_ouverte/30");
	free(d);
	client_submit(partner, p, p, "kind=reunion_ouverte&group_description=&group_type=familles",
	              &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	client_submit(partner, p, p,
	              "kind=reunion_ouverte&group_description=X&group_type=familles&participants="
	              "-3",
	              &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "value=\"-3\"");
	resp_free(&r);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/modifier", (long long)wc);
	assert_int_equal(get_status(partner, p), 403);
	assert_int_equal(get_status(reader, p), 403);

	/* Deleting a criterion typed by mistake. */
	assert_int_equal(enter(partner, wp, "bien_etre", "+ Bon\n+ Erreur de frappe", NULL), 303);
	int64_t bad =
	    th_query_int(&T, "SELECT MAX(id) FROM spiral_criteria WHERE workshop_id = ?", "I", wp);
	int64_t foreign = th_query_int(&T,
	                               "SELECT MIN(id) FROM spiral_criteria WHERE workshop_id "
	                               "IN (SELECT id FROM spiral_workshops WHERE plan_id = ?)",
	                               "I", plan_ardeche);
	char wpage[64];
	snprintf(wpage, sizeof wpage, "/spiral/ateliers/%lld", (long long)wp);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/criteres/supprimer", (long long)wp);
	char *f = xasprintf("critere=%lld", (long long)bad);
	client_submit(reader, wpage, p, f, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	char *ff = xasprintf("critere=%lld", (long long)foreign);
	client_submit(partner, wpage, p, ff, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	free(ff);
	assert_int_equal(count_criteria(wp), 2);
	client_submit(partner, wpage, p, f, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	free(f);
	assert_int_equal(count_criteria(wp), 1);
	assert_true(th_query_int(&T,
	                         "SELECT COUNT(*) FROM audit_log WHERE entity = 'spiral_criterion' "
	                         "AND action = 'delete'",
	                         "") >= 1);

	/* Deleting a workshop: the coordination only, with the box ticked. */
	assert_int_equal(enter(coord, wc, "bien_etre", "+ Un\n- Deux", NULL), 303);
	snprintf(wpage, sizeof wpage, "/spiral/ateliers/%lld", (long long)wc);
	snprintf(p, sizeof p, "/spiral/ateliers/%lld/supprimer", (long long)wc);
	client_submit(partner, wpage, p, "confirmer=1", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_submit(coord, wpage, p, "confirmer=0", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	assert_int_equal(count_criteria(wc), 2);
	client_submit(coord, wpage, p, "confirmer=1", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM spiral_workshops WHERE id = ?", "I", wc), 0);
	assert_int_equal(count_criteria(wc), 0);
	assert_int_equal(get_status(coord, wpage), 404);
	client_free(coord);
	client_free(partner);
	client_free(reader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entry_syntax),        cmocka_unit_test(test_key_and_suggestions),
	    cmocka_unit_test(test_demo_top7),           cmocka_unit_test(test_workshop_and_entry),
	    cmocka_unit_test(test_permissions),         cmocka_unit_test(test_classification),
	    cmocka_unit_test(test_aggregation_by_hand), cmocka_unit_test(test_key_import),
	    cmocka_unit_test(test_api_and_links),       cmocka_unit_test(test_edit_and_delete),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
