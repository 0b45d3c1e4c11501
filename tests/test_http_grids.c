/* test_http_grids: evaluation grids over HTTP on the demo database — the shipped "mailleur de
 * territoire" grid exactly as seed 002 writes it (3 axes × 4 functions, 32 criteria) and the TECS
 * dimensions; the demo campaign; a custom grid edited as a tree (child, sibling, rename, delete,
 * hostile and bad input); scale validation; a campaign on two structures scored (scores out of
 * the scale refused with nothing stored), testimonies with a role and no name; self and peer side
 * by side; radars well formed with the expected values; permissions (anonymous, reader,
 * partner, pilot, member of another plan; shared grids edited by administrators only); the JSON
 * API; exports JSON, CSV (BOM, ';', CRLF, formula guard) and XLSX. */
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "grids.h"
#include "harness.h"
#include "users.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "maillage-demo"
#define ADMIN    "admin@demo.maillage.fr"
#define COORD    "coordination@demo.maillage.fr"
#define PARTNER  "partenaire@demo.maillage.fr"
#define READER   "lecture@demo.maillage.fr"
#define PILOT    "pilote@demo.maillage.fr"
#define OUTSIDER "coord-b@example.org"
#define SECRET   "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_a, plan_b, mailleur, tecs;
/* Built by test_custom_grid, used by the next tests. */
static int64_t custom_fw, leaf1, leaf2, leaf3, func1, campaign, actor1, actor2, asm_self1,
    asm_peer1, asm_self2;

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

static struct client *login(const char *email)
{
	struct client *c = client_new(&T);
	const char *pw = strcmp(email, OUTSIDER) ? PASSWORD : "mot-de-passe-test";
	if (client_login(c, email, pw) != 303)
		fail_msg("login %s failed", email);
	return c;
}

/* POST fields to path with a CSRF token taken from the home page. */
static long post(struct client *c, const char *path, const char *fields, struct resp *out)
{
	struct resp tmp;
	struct resp *r = out ? out : &tmp;
	client_submit(c, "/", path, fields, r);
	long s = r->status;
	if (!out)
		resp_free(&tmp);
	return s;
}

static long get_status(struct client *c, const char *path)
{
	struct resp r;
	client_get(c, path, &r);
	long s = r.status;
	resp_free(&r);
	return s;
}

/* The id at the end of a 303's Location ("/grilles/12#e4" → 12 with key "/grilles/"). */
static int64_t location_id(const struct resp *r, const char *prefix)
{
	char *loc = resp_get_header(r, "Location");
	assert_non_null(loc);
	const char *p = strstr(loc, prefix);
	if (!p)
		fail_msg("Location %s lacks %s", loc, prefix);
	int64_t id = strtoll(p + strlen(prefix), NULL, 10);
	free(loc);
	return id;
}

static int64_t q(const char *sql, const char *types, ...)
{
	/* th_query_int with up to three int64 parameters. */
	va_list ap;
	va_start(ap, types);
	int64_t a = strlen(types) > 0 ? va_arg(ap, int64_t) : 0;
	int64_t b = strlen(types) > 1 ? va_arg(ap, int64_t) : 0;
	int64_t c = strlen(types) > 2 ? va_arg(ap, int64_t) : 0;
	va_end(ap);
	return th_query_int(&T, sql, types, a, b, c);
}

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	db_int64f(db, &plan_a,
	          "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1", "");
	db_int64f(db, &mailleur, "SELECT id FROM grid_frameworks WHERE code = 'mailleur'", "");
	db_int64f(db, &tecs, "SELECT id FROM grid_frameworks WHERE code = 'tecs'", "");
	db_int64f(db, &plan_b,
	          "INSERT INTO plans (kind, title, description, is_public, start_year, end_year, "
	          "created_at, updated_at) VALUES ('projet_social', ?, '', 0, 2024, 2027, 'x', "
	          "'x') RETURNING id",
	          "s", SECRET " (plan)");
	char *err = NULL;
	int64_t uid = 0;
	if (user_create(db, OUTSIDER, "Coordination B", "coordinator", "mot-de-passe-test", 0,
	                "cli", &uid, &err))
		fail_msg("user_create: %s", err);
	db_execf(db,
	         "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, 'coordinator')",
	         "II", plan_b, uid);
	db_int64f(db, &actor1, "SELECT id FROM actors WHERE name = 'Caf de la Drôme'", "");
	db_int64f(db, &actor2, "SELECT id FROM actors WHERE name = 'Mosaic'", "");
	db_close(db);
	assert_true(plan_a > 0 && plan_b > 0 && mailleur > 0 && tecs > 0 && actor1 > 0 &&
	            actor2 > 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static int64_t item_by_label(int64_t fw, const char *label)
{
	return th_query_int(&T, "SELECT id FROM grid_items WHERE framework_id = ? AND label = ?",
	                    "Is", fw, label);
}

/* The mailleur grid of seed 002, exactly: 3 axes, 4 functions each, 32 criteria. */
static void test_shipped_grids(void **state)
{
	(void)state;
	assert_int_equal(q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ? AND parent_id "
	                   "IS NULL",
	                   "I", mailleur),
	                 3);
	static const char *const axes[] = {"CONSTITUER ET/OU ANIMER UN RÉSEAU D'ACTEURS",
	                                   "INSTANCE TERRITORIALE : ORGANISER L'ACTION PUBLIQUE",
	                                   "POSITIONNER LE RÉSEAU DANS LA POLITIQUE LOCALE"};
	static const int per_axis[] = {12, 11, 9};
	for (int a = 0; a < 3; a++) {
		int64_t id = item_by_label(mailleur, axes[a]);
		assert_true(id > 0);
		assert_int_equal(q("SELECT position FROM grid_items WHERE id = ?", "I", id), a + 1);
		assert_int_equal(q("SELECT COUNT(*) FROM grid_items WHERE parent_id = ?", "I", id),
		                 4);
		assert_int_equal(
		    q("SELECT COUNT(*) FROM grid_items c JOIN grid_items f ON f.id = "
		      "c.parent_id WHERE f.parent_id = ? AND NOT EXISTS (SELECT 1 FROM "
		      "grid_items k WHERE k.parent_id = c.id)",
		      "I", id),
		    per_axis[a]);
	}
	assert_int_equal(q("SELECT COUNT(*) FROM grid_items i WHERE framework_id = ? AND NOT "
	                   "EXISTS (SELECT 1 FROM grid_items k WHERE k.parent_id = i.id)",
	                   "I", mailleur),
	                 32);
	/* Functions in the seed's order, and criteria worded as the seed writes them. */
	static const char *const functions[] = {"PRATIQUES INCLUSIVES",
	                                        "PERTINENCE DU RÉSEAU",
	                                        "ACTIONS PARTENARIALES ET EXPÉRIMENTALES",
	                                        "RÉSEAU APPRENANT",
	                                        "IDENTITÉ COLLECTIVE ET CRÉATION DE RICHESSES",
	                                        "OBSERVATOIRE DES BESOINS",
	                                        "EXPERTISE ET CRÉATION DE RESSOURCES",
	                                        "PROJET COMMUN",
	                                        "LÉGITIMITÉ / IMPARTIALITÉ ET INTERDÉPENDANCE",
	                                        "COPRODUCTION",
	                                        "COGESTION",
	                                        "CODÉCISION"};
	for (int f = 0; f < 12; f++) {
		int64_t id = item_by_label(mailleur, functions[f]);
		assert_true(id > 0);
		assert_int_equal(q("SELECT position FROM grid_items WHERE id = ?", "I", id),
		                 f % 4 + 1);
		assert_int_equal(
		    q("SELECT p.position FROM grid_items i JOIN grid_items p ON p.id = i.parent_id "
		      "WHERE i.id = ?",
		      "I", id),
		    f / 4 + 1);
	}
	assert_true(item_by_label(mailleur, "DES INVITATIONS A TRAVERS LESQUELLES CHACUN.E SE "
	                                    "SENT CONCERNÉ.E") > 0);
	assert_true(item_by_label(mailleur, "S'ASSURER DE LA COHÉRENCE DE LA POLITIQUE LOCALE "
	                                    "AVEC D'AUTRES CONTRATS TERRITORIAUX (et le projet de "
	                                    "territoire)") > 0);
	assert_true(item_by_label(mailleur, "CRÉER, CAPTER DE LA RICHESSE EN CONSORTIUM") > 0);
	/* The TECS dimensions of seed 001. */
	assert_int_equal(q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", tecs), 3);
	char *d = th_query_text(&T,
	                        "SELECT description FROM grid_items WHERE label = 'Externe' AND "
	                        "framework_id = ?",
	                        tecs);
	assert_string_equal(d, "actions habitants");
	free(d);
	/* Loaded once: a second call changes nothing. */
	struct db *db = th_db(&T);
	char *err = NULL;
	assert_int_equal(grids_ensure_shipped(db, &err), 0);
	db_close(db);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_frameworks WHERE plan_id IS NULL", ""), 2);
	/* The demo campaign: the four structures, self and peer, the seed's quotes. */
	int64_t camp = q("SELECT id FROM grid_campaigns WHERE title = 'Fonction mailleur'", "");
	assert_true(camp > 0);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_campaign_actors ca JOIN actors a ON a.id = "
	                   "ca.actor_id WHERE ca.campaign_id = ? AND a.name IN ('Les Ors', 'La "
	                   "Paz', 'Mosaic', 'Fontbarlettes')",
	                   "I", camp),
	                 4);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_assessments WHERE campaign_id = ? AND "
	                   "is_demo = 1",
	                   "I", camp),
	                 8);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_scores s JOIN grid_assessments a ON a.id = "
	                   "s.assessment_id WHERE a.campaign_id = ? AND s.score BETWEEN 1 AND 4",
	                   "I", camp),
	                 8 * 32);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_testimonies WHERE campaign_id = ?", "I", camp), 39);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM grid_testimonies WHERE speaker_role = "
	                              "'elu' AND quote LIKE ?",
	                              "s", "%on est pas pris pour un porte monnaie%"),
	                 1);
	/* No column can hold a speaker's name. */
	db = th_db(&T);
	struct db_stmt *st = db_prepare(db, "SELECT * FROM grid_testimonies");
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_col_count(st), 7);
	for (int i = 0; i < db_col_count(st); i++)
		assert_null(strstr(db_col_name(st, i), "name"));
	db_finalize(st);
	db_close(db);
}

/* The shipped grids' pages, the demo campaign page with its radars (admin: the demo plan of the
 * federation is private). */
static void test_demo_pages(void **state)
{
	(void)state;
	struct client *admin = login(ADMIN);
	struct resp r;
	client_get(admin, "/grilles", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Fonction mailleurs de territoire");
	assert_has(&r, "Démarche TECS");
	resp_free(&r);
	char path[96];
	snprintf(path, sizeof path, "/grilles/%lld", (long long)mailleur);
	client_get(admin, path, &r);
	assert_has(&r, "RÉSEAU APPRENANT");
	assert_has(&r, "<dd>32</dd>");
	resp_free(&r);
	int64_t camp = q("SELECT id FROM grid_campaigns WHERE title = 'Fonction mailleur'", "");
	snprintf(path, sizeof path, "/campagnes/%lld", (long long)camp);
	client_get(admin, path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Les Ors");
	assert_has(&r, "Fontbarlettes");
	assert_has(&r, "Campagne de démonstration");
	assert_has(&r, "Technicien·ne de collectivité");
	/* Four structures: small multiples, one radar each. */
	assert_has(&r, "id=\"radar-s4-t\"");
	resp_free(&r);
	client_free(admin);
}

/* A small balance checker: every opened element of the SVG fragment is closed in order. */
static void assert_svg_well_formed(const char *html, const char *id)
{
	char key[96];
	snprintf(key, sizeof key, "aria-labelledby=\"%s-t ", id);
	const char *p = strstr(html, key);
	assert_non_null(p);
	while (p > html && strncmp(p, "<svg", 4))
		p--;
	const char *end = strstr(p, "</svg>");
	assert_non_null(end);
	end += 6;
	char stack[64][24];
	int depth = 0;
	for (const char *s = p; s < end; s++) {
		if (*s != '<')
			continue;
		const char *gt = strchr(s, '>');
		assert_non_null(gt);
		assert_true(gt < end);
		if (s[1] == '/') {
			char name[24];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(s + 2, " >"), s + 2);
			assert_true(depth > 0);
			assert_string_equal(stack[depth - 1], name);
			depth--;
		} else if (gt[-1] != '/') {
			assert_true(depth < 64);
			snprintf(stack[depth], sizeof stack[depth], "%.*s",
			         (int)strcspn(s + 1, " >"), s + 1);
			depth++;
		}
		s = gt;
	}
	assert_int_equal(depth, 0);
}

/* A custom three-level grid for the Crestois plan, edited as a tree. */
static void test_custom_grid(void **state)
{
	(void)state;
	struct client *coord = login(COORD);
	struct resp r;
	char fields[1024], path[160];
	/* Bad scales and names are refused and keep what was typed. */
	snprintf(fields, sizeof fields,
	         "plan=%lld&name=Grille+crestoise&levels=Axe%%0AFonction%%0ACrit%%C3%%A8re&"
	         "scale_min=3&scale_max=2",
	         (long long)plan_a);
	assert_int_equal(post(coord, "/grilles", fields, &r), 422);
	assert_has(&r, "value=\"Grille crestoise\"");
	resp_free(&r);
	snprintf(fields, sizeof fields, "plan=%lld&name=X&scale_min=0&scale_max=11",
	         (long long)plan_a);
	assert_int_equal(post(coord, "/grilles", fields, NULL), 422);
	snprintf(fields, sizeof fields, "plan=%lld&name=X&scale_min=abc&scale_max=4",
	         (long long)plan_a);
	assert_int_equal(post(coord, "/grilles", fields, NULL), 422);
	assert_int_equal(
	    post(coord, "/grilles", "plan=&name=Partag%C3%A9e&scale_min=1&scale_max=4", NULL), 403);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_frameworks", ""), 2);
	/* Created. */
	snprintf(fields, sizeof fields,
	         "plan=%lld&name=Grille+crestoise&levels=Axe%%0AFonction%%0ACrit%%C3%%A8re&"
	         "scale_min=1&scale_max=4",
	         (long long)plan_a);
	assert_int_equal(post(coord, "/grilles", fields, &r), 303);
	custom_fw = location_id(&r, "/grilles/");
	resp_free(&r);
	assert_int_equal(q("SELECT plan_id FROM grid_frameworks WHERE id = ?", "I", custom_fw),
	                 plan_a);
	char add[200];
	snprintf(add, sizeof add, "/grilles/%lld/elements", (long long)custom_fw);
	/* Axis A (top level), its function, two criteria, a sibling function, axis B. */
	assert_int_equal(post(coord, add, "label=Axe+A", &r), 303);
	int64_t axis_a = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=Fonction+A1", (long long)axis_a);
	assert_int_equal(post(coord, add, fields, &r), 303);
	func1 = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=Crit%%C3%%A8re+1", (long long)func1);
	assert_int_equal(post(coord, add, fields, &r), 303);
	leaf1 = location_id(&r, "#e");
	resp_free(&r);
	/* Hostile label, stored as written, shown escaped. */
	snprintf(fields, sizeof fields, "after=%lld&label=%%3Cscript%%3Ealert(1)%%3C%%2Fscript%%3E",
	         (long long)leaf1);
	assert_int_equal(post(coord, add, fields, &r), 303);
	leaf2 = location_id(&r, "#e");
	resp_free(&r);
	assert_int_equal(q("SELECT parent_id FROM grid_items WHERE id = ?", "I", leaf2), func1);
	assert_int_equal(q("SELECT position FROM grid_items WHERE id = ?", "I", leaf2), 2);
	snprintf(fields, sizeof fields, "after=%lld&label=Fonction+A2", (long long)func1);
	assert_int_equal(post(coord, add, fields, &r), 303);
	int64_t func2 = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=%%27+OR+1%%3D1+--", (long long)func2);
	assert_int_equal(post(coord, add, fields, &r), 303);
	leaf3 = location_id(&r, "#e");
	resp_free(&r);
	assert_int_equal(post(coord, add, "label=Axe+B", &r), 303);
	int64_t axis_b = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=Fonction+B1", (long long)axis_b);
	assert_int_equal(post(coord, add, fields, &r), 303);
	int64_t fb = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=Crit%%C3%%A8re+B", (long long)fb);
	assert_int_equal(post(coord, add, fields, NULL), 303);
	/* A third axis, then deleted with its subtree. */
	assert_int_equal(post(coord, add, "label=Axe+C", &r), 303);
	int64_t axis_c = location_id(&r, "#e");
	resp_free(&r);
	snprintf(fields, sizeof fields, "parent=%lld&label=Sous+C", (long long)axis_c);
	assert_int_equal(post(coord, add, fields, NULL), 303);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", custom_fw), 11);
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld/supprimer", (long long)custom_fw,
	         (long long)axis_c);
	assert_int_equal(post(coord, path, "", NULL), 303);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", custom_fw), 9);
	/* Bad input: empty label, a parent of another grid, a too long label; nothing stored. */
	assert_int_equal(post(coord, add, "label=++", NULL), 422);
	snprintf(fields, sizeof fields, "parent=%lld&label=Intrus",
	         (long long)item_by_label(mailleur, "COGESTION"));
	assert_int_equal(post(coord, add, fields, &r), 422);
	assert_has(&r, "appartient pas à cette grille");
	resp_free(&r);
	struct buf longl = {0};
	buf_puts(&longl, "label=");
	for (int i = 0; i < 301; i++)
		buf_putc(&longl, 'x');
	assert_int_equal(post(coord, add, buf_str(&longl), NULL), 422);
	buf_free(&longl);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", custom_fw), 9);
	/* Rename. */
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld", (long long)custom_fw,
	         (long long)leaf1);
	assert_int_equal(post(coord, path, "label=Crit%C3%A8re+un&description=D%C3%A9crit", NULL),
	                 303);
	char *lab = th_query_text(&T, "SELECT label FROM grid_items WHERE id = ?", leaf1);
	assert_string_equal(lab, "Critère un");
	free(lab);
	assert_int_equal(post(coord, path, "label=", NULL), 422);
	/* The page shows the tree, the hostile label escaped. */
	snprintf(path, sizeof path, "/grilles/%lld", (long long)custom_fw);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_lacks(&r, "<script>alert(1)");
	assert_has(&r, "&#39; OR 1=1 --");
	assert_has(&r, "<strong>1.1.2</strong>");
	assert_has(&r, "<dd>4</dd>"); /* four scored criteria */
	resp_free(&r);
	/* Scale and descriptors. */
	assert_int_equal(post(coord, path,
	                      "name=Grille+crestoise&levels=Axe%0AFonction%0ACrit%C3%A8re&"
	                      "scale_min=1&scale_max=0",
	                      NULL),
	                 422);
	assert_int_equal(post(coord, path,
	                      "name=Grille+crestoise&levels=Axe%0AFonction%0ACrit%C3%A8re&"
	                      "scale_min=1&scale_max=4&level_label_1=Pas+du+tout&level_desc_1="
	                      "Rien+n%27est+fait&level_label_4=Pleinement",
	                      NULL),
	                 303);
	char *l1 = th_query_text(&T,
	                         "SELECT label FROM grid_scale_levels WHERE framework_id = ? AND "
	                         "level = 1",
	                         custom_fw);
	assert_string_equal(l1, "Pas du tout");
	free(l1);
	assert_true(q("SELECT COUNT(*) FROM audit_log WHERE entity = 'grid_item' AND action = "
	              "'delete'",
	              "") >= 1);
	/* Shared grids: a coordinator cannot touch them; an administrator can. */
	snprintf(path, sizeof path, "/grilles/%lld/elements", (long long)tecs);
	assert_int_equal(post(coord, path, "label=Intrus", NULL), 403);
	snprintf(path, sizeof path, "/grilles/%lld", (long long)tecs);
	assert_int_equal(post(coord, path, "name=X&scale_min=1&scale_max=4", NULL), 403);
	struct client *admin = login(ADMIN);
	int64_t ext = item_by_label(tecs, "Externe");
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld", (long long)tecs, (long long)ext);
	assert_int_equal(post(admin, path, "label=Externe&description=actions+habitants", NULL),
	                 303);
	client_free(admin);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", tecs), 3);
	client_free(coord);
}

/* A campaign of the Crestois plan on two structures, scored and compared. */
static void test_campaign(void **state)
{
	(void)state;
	assert_true(custom_fw > 0);
	struct client *coord = login(COORD);
	struct resp r;
	char fields[1024], path[160];
	char list[96];
	snprintf(list, sizeof list, "/plans/%lld/campagnes", (long long)plan_a);
	snprintf(fields, sizeof fields, "title=Mailleurs+crestois&year=1999&framework=%lld",
	         (long long)custom_fw);
	assert_int_equal(post(coord, list, fields, NULL), 422);
	int64_t other = q("INSERT INTO grid_frameworks (plan_id, name, created_at, updated_at) "
	                  "VALUES (?, 'Grille B', 'x', 'x') RETURNING id",
	                  "I", plan_b);
	snprintf(fields, sizeof fields, "title=Vol&year=2026&framework=%lld", (long long)other);
	assert_int_equal(post(coord, list, fields, NULL), 422);
	snprintf(fields, sizeof fields, "title=Mailleurs+crestois&year=2026&framework=%lld",
	         (long long)custom_fw);
	assert_int_equal(post(coord, list, fields, &r), 303);
	campaign = location_id(&r, "/campagnes/");
	resp_free(&r);
	char cp[96];
	snprintf(cp, sizeof cp, "/campagnes/%lld", (long long)campaign);
	/* Structures by name; unknown names refused. */
	snprintf(path, sizeof path, "%s/structures", cp);
	assert_int_equal(post(coord, path, "structure=Caf+de+la+Dr%C3%B4me", NULL), 303);
	assert_int_equal(post(coord, path, "structure=mosaic", NULL), 303); /* folded match */
	assert_int_equal(post(coord, path, "structure=Inconnue+%3Cb%3E", &r), 422);
	assert_has(&r, "Aucune structure");
	assert_has(&r, "value=\"Inconnue &lt;b&gt;\"");
	resp_free(&r);
	assert_int_equal(post(coord, path, "structure=Mosaic", NULL), 422); /* already in */
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_campaign_actors WHERE campaign_id = ?", "I", campaign), 2);
	/* Assessments. */
	snprintf(path, sizeof path, "%s/evaluations", cp);
	snprintf(fields, sizeof fields, "actor=%lld&kind=self", (long long)actor1);
	assert_int_equal(post(coord, path, fields, &r), 303);
	asm_self1 = location_id(&r, "/evaluations/");
	resp_free(&r);
	snprintf(fields, sizeof fields, "actor=%lld&kind=peer", (long long)actor1);
	assert_int_equal(post(coord, path, fields, &r), 303);
	asm_peer1 = location_id(&r, "/evaluations/");
	resp_free(&r);
	snprintf(fields, sizeof fields, "actor=%lld&kind=self", (long long)actor2);
	assert_int_equal(post(coord, path, fields, &r), 303);
	asm_self2 = location_id(&r, "/evaluations/");
	resp_free(&r);
	snprintf(fields, sizeof fields, "actor=%lld&kind=autre", (long long)actor2);
	assert_int_equal(post(coord, path, fields, NULL), 422);
	snprintf(fields, sizeof fields, "actor=%lld&kind=self",
	         (long long)q("SELECT id FROM actors WHERE name = 'Les Ors'", ""));
	assert_int_equal(post(coord, path, fields, NULL), 422); /* not in the campaign */
	/* The form shows the descriptors as labels. */
	char ap[96];
	snprintf(ap, sizeof ap, "/evaluations/%lld", (long long)asm_self1);
	client_get(coord, ap, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "1 — Pas du tout</strong> <span class=\"hint\">Rien n&#39;est fait");
	assert_has(&r, "4 — Pleinement");
	resp_free(&r);
	/* Out of the scale: refused, nothing stored (not even the valid score sent with it). */
	snprintf(fields, sizeof fields, "score-%lld=3&score-%lld=5&preuve-%lld=Compte+rendu",
	         (long long)leaf1, (long long)leaf2, (long long)leaf1);
	assert_int_equal(post(coord, ap, fields, &r), 422);
	assert_has(&r, "Rien n&#39;a été enregistré");
	assert_has(&r, "Compte rendu"); /* what was typed is kept */
	resp_free(&r);
	snprintf(fields, sizeof fields, "score-%lld=0", (long long)leaf1);
	assert_int_equal(post(coord, ap, fields, NULL), 422);
	snprintf(fields, sizeof fields, "score-%lld=abc", (long long)leaf1);
	assert_int_equal(post(coord, ap, fields, NULL), 422);
	snprintf(fields, sizeof fields, "score-%lld=2", (long long)func1); /* not a criterion */
	assert_int_equal(post(coord, ap, fields, NULL), 422);
	snprintf(fields, sizeof fields, "score-%lld=3&assessed_on=2026-02-30", (long long)leaf1);
	assert_int_equal(post(coord, ap, fields, NULL), 422);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_scores WHERE assessment_id = ?", "I", asm_self1), 0);
	/* Valid: self 3, 2, 4, 1; peer 2, 2, 3, 1; structure 2 self 4, 4, 4, 4. */
	int64_t leafb = item_by_label(custom_fw, "Critère B");
	snprintf(
	    fields, sizeof fields,
	    "score-%lld=3&score-%lld=2&score-%lld=4&score-%lld=1&preuve-%lld=%%3DHYPERLINK(%%22x"
	    "%%22)&assessed_on=2026-03-02&assessor=Caf",
	    (long long)leaf1, (long long)leaf2, (long long)leaf3, (long long)leafb,
	    (long long)leaf1);
	assert_int_equal(post(coord, ap, fields, NULL), 303);
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_self1, leaf3),
	                 4);
	/* A field left out keeps what is stored. */
	snprintf(fields, sizeof fields, "score-%lld=3&preuve-%lld=Nouvelle+preuve",
	         (long long)leaf1, (long long)leaf3);
	assert_int_equal(post(coord, ap, fields, NULL), 303);
	char *ev = th_query_text(&T,
	                         "SELECT evidence || '|' || CAST(score AS TEXT) FROM grid_scores "
	                         "WHERE assessment_id = ? ORDER BY item_id",
	                         asm_self1);
	assert_string_equal(ev, "=HYPERLINK(\"x\")|3");
	free(ev);
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_self1, leaf3),
	                 4);
	snprintf(ap, sizeof ap, "/evaluations/%lld", (long long)asm_peer1);
	snprintf(fields, sizeof fields, "score-%lld=2&score-%lld=2&score-%lld=3&score-%lld=1",
	         (long long)leaf1, (long long)leaf2, (long long)leaf3, (long long)leafb);
	assert_int_equal(post(coord, ap, fields, NULL), 303);
	snprintf(ap, sizeof ap, "/evaluations/%lld", (long long)asm_self2);
	snprintf(fields, sizeof fields, "score-%lld=4&score-%lld=4&score-%lld=4&score-%lld=4",
	         (long long)leaf1, (long long)leaf2, (long long)leaf3, (long long)leafb);
	assert_int_equal(post(coord, ap, fields, NULL), 303);
	/* A scored criterion can neither be deleted nor get children; the scale cannot shrink
	 * below a stored score. */
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld/supprimer", (long long)custom_fw,
	         (long long)leaf3);
	assert_int_equal(post(coord, path, "", NULL), 422);
	snprintf(path, sizeof path, "/grilles/%lld/elements", (long long)custom_fw);
	snprintf(fields, sizeof fields, "parent=%lld&label=Sous", (long long)leaf3);
	assert_int_equal(post(coord, path, fields, NULL), 422);
	snprintf(path, sizeof path, "/grilles/%lld", (long long)custom_fw);
	assert_int_equal(post(coord, path, "name=Grille+crestoise&scale_min=1&scale_max=3", NULL),
	                 422);
	assert_int_equal(q("SELECT scale_max FROM grid_frameworks WHERE id = ?", "I", custom_fw),
	                 4);
	snprintf(path, sizeof path, "/grilles/%lld/supprimer", (long long)custom_fw);
	assert_int_equal(post(coord, path, "", NULL), 422);

	/* Testimonies: a role, never a name (an extra field is ignored). */
	snprintf(path, sizeof path, "/evaluations/%lld/temoignages", (long long)asm_self1);
	snprintf(fields, sizeof fields,
	         "quote=On+se+conna%%C3%%AEt+mieux&speaker_role=elu&item=%lld&speaker_name=Jean+"
	         "Dupont",
	         (long long)func1);
	assert_int_equal(post(coord, path, fields, NULL), 303);
	assert_int_equal(post(coord, path, "quote=Bonjour&speaker_role=maire", NULL), 422);
	assert_int_equal(post(coord, path, "quote=+&speaker_role=elu", NULL), 422);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM grid_testimonies WHERE quote LIKE ?",
	                              "s", "%Dupont%"),
	                 0);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_testimonies WHERE assessment_id = ? AND "
	                   "speaker_role = 'elu'",
	                   "I", asm_self1),
	                 1);
	snprintf(path, sizeof path, "%s/temoignages", cp);
	assert_int_equal(
	    post(coord, path, "quote=%3Cscript%3Ex%3C%2Fscript%3E&speaker_role=habitant", NULL),
	    303);

	/* Side by side. */
	snprintf(path, sizeof path, "%s/structures/%lld", cp, (long long)actor1);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<td>3 — Niveau 3</td><td>2 — Niveau 2</td><td class=\"num\">-1</td>");
	assert_has(&r, "<td>4 — Pleinement</td><td>3 — Niveau 3</td>");
	assert_svg_well_formed(buf_str(&r.body), "radar-structure");
	resp_free(&r);

	/* Campaign page: two structures overlaid on one radar (per function: 3 axes). */
	snprintf(path, sizeof path, "%s?niveau=2", cp);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	const char *html = buf_str(&r.body);
	assert_svg_well_formed(html, "radar-campagne");
	assert_has(&r, "Caf de la Drôme (pairs)");
	assert_has(&r, "Mosaic (auto-évaluation)");
	/* Values: Caf (peer) A1 = (2+2)/2 = 2, A2 = 3, B1 = 1; Mosaic 4, 4, 4. */
	assert_has(&r, "<th scope=\"row\">1.1 Fonction A1</th><td class=\"num\">2,0</td><td "
	               "class=\"num\">4,0</td>");
	assert_has(&r, "<th scope=\"row\">1.2 Fonction A2</th><td class=\"num\">3,0</td>");
	/* Polygon of Mosaic at the maximum on the first axis (straight up from the centre). */
	assert_has(&r, "points=\"200.0,60.0 ");
	/* Caf (peer): 2/4 on the first axis. */
	assert_has(&r, "points=\"200.0,112.5 ");
	assert_has(&r, "&lt;script&gt;x&lt;/script&gt;");
	resp_free(&r);
	/* Per axis: two axes only, a table instead of a radar. */
	snprintf(path, sizeof path, "%s?niveau=1", cp);
	client_get(coord, path, &r);
	assert_has(&r, "Moins de trois éléments");
	resp_free(&r);
	/* A TECS ambassador named in a structure: a flag, no name. */
	snprintf(path, sizeof path, "%s/structures/%lld/ambassadeur", cp, (long long)actor1);
	assert_int_equal(post(coord, path, "ambassador=1", NULL), 303);
	assert_int_equal(post(coord, path, "ambassador=oui", NULL), 422);
	assert_int_equal(q("SELECT ambassador FROM grid_campaign_actors WHERE campaign_id = ? AND "
	                   "actor_id = ?",
	                   "II", campaign, actor1),
	                 1);
	snprintf(path, sizeof path, "%s/structures/%lld/ambassadeur", cp,
	         (long long)q("SELECT id FROM actors WHERE name = 'Les Ors'", ""));
	assert_int_equal(post(coord, path, "ambassador=1", NULL), 404); /* not in the campaign */
	/* Every write is audited. */
	assert_true(th_query_int(&T,
	                         "SELECT COUNT(*) FROM audit_log WHERE entity = 'grid_assessment' "
	                         "AND action = 'update'",
	                         "") >= 3);
	client_free(coord);
}

/* Plan permissions: reader and partner read, cannot score; pilot scores; another plan's
 * coordinator sees nothing; anonymous must log in. */
static void test_permissions(void **state)
{
	(void)state;
	assert_true(campaign > 0 && asm_self2 > 0);
	char cp[96], ap[96], fields[256], fp[96];
	snprintf(cp, sizeof cp, "/campagnes/%lld", (long long)campaign);
	snprintf(ap, sizeof ap, "/evaluations/%lld", (long long)asm_self2);
	snprintf(fp, sizeof fp, "/grilles/%lld", (long long)custom_fw);
	snprintf(fields, sizeof fields, "score-%lld=1", (long long)leaf1);
	struct resp r;
	const char *who[] = {READER, PARTNER};
	for (int i = 0; i < 2; i++) {
		struct client *c = login(who[i]);
		assert_int_equal(get_status(c, cp), 200);
		client_get(c, ap, &r);
		assert_int_equal(r.status, 200);
		assert_lacks(&r, "Enregistrer l&#39;évaluation");
		assert_has(&r, " disabled");
		resp_free(&r);
		assert_int_equal(post(c, ap, fields, NULL), 403);
		char amb[200];
		snprintf(amb, sizeof amb, "%s/structures/%lld/ambassadeur", cp, (long long)actor2);
		assert_int_equal(post(c, amb, "ambassador=1", NULL), 403);
		assert_int_equal(get_status(c, fp), 200);
		snprintf(fields, sizeof fields, "score-%lld=1", (long long)leaf1);
		char add[200];
		snprintf(add, sizeof add, "%s/elements", fp);
		assert_int_equal(post(c, add, "label=Intrus", NULL), 403);
		char tp[200];
		snprintf(tp, sizeof tp, "%s/temoignages", ap);
		assert_int_equal(post(c, tp, "quote=x&speaker_role=elu", NULL), 403);
		client_free(c);
	}
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_self2, leaf1),
	                 4);
	/* The pilot scores (decision: pilots and above); the campaign itself stays with the
	 * coordination. */
	struct client *pilot = login(PILOT);
	snprintf(fields, sizeof fields, "score-%lld=3", (long long)leaf1);
	assert_int_equal(post(pilot, ap, fields, NULL), 303);
	char sp[200];
	snprintf(sp, sizeof sp, "%s/structures", cp);
	assert_int_equal(post(pilot, sp, "structure=Les+Ors", NULL), 403);
	client_free(pilot);
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_self2, leaf1),
	                 3);
	/* Another plan's coordinator: 404 everywhere, nothing listed. */
	struct client *out = login(OUTSIDER);
	assert_int_equal(get_status(out, cp), 404);
	assert_int_equal(get_status(out, ap), 404);
	assert_int_equal(get_status(out, fp), 404);
	char path[128];
	snprintf(path, sizeof path, "%s/structures/%lld", cp, (long long)actor1);
	assert_int_equal(get_status(out, path), 404);
	snprintf(path, sizeof path, "%s/export?format=csv", cp);
	assert_int_equal(get_status(out, path), 404);
	snprintf(path, sizeof path, "/api/v1/grids/campaigns/%lld/results", (long long)campaign);
	assert_int_equal(get_status(out, path), 404);
	snprintf(path, sizeof path, "/plans/%lld/campagnes", (long long)plan_a);
	long st = get_status(out, path);
	assert_true(st == 403 || st == 404);
	assert_int_equal(post(out, ap, fields, NULL), 404);
	client_get(out, "/grilles", &r);
	assert_lacks(&r, "Grille crestoise");
	assert_has(&r, "Fonction mailleurs de territoire");
	resp_free(&r);
	client_get(out, "/api/v1/grids/frameworks", &r);
	assert_lacks(&r, "Grille crestoise");
	resp_free(&r);
	/* The federation's demo campaign is private too. */
	int64_t demo = q("SELECT id FROM grid_campaigns WHERE title = 'Fonction mailleur'", "");
	snprintf(path, sizeof path, "/campagnes/%lld", (long long)demo);
	assert_int_equal(get_status(out, path), 404);
	client_free(out);
	/* Anonymous. */
	struct client *anon = client_new(&T);
	st = get_status(anon, cp);
	assert_true(st == 401 || st == 303);
	st = get_status(anon, "/grilles");
	assert_true(st == 401 || st == 303);
	client_free(anon);
}

/* The JSON API and the exports. */
static void test_api_and_exports(void **state)
{
	(void)state;
	assert_true(campaign > 0);
	struct client *coord = login(COORD);
	struct resp r;
	client_get(coord, "/api/v1/grids/frameworks", &r);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	assert_non_null(j);
	size_t i;
	json_t *f;
	int seen = 0;
	json_array_foreach(json_object_get(j, "frameworks"), i,
	                   f) if (!strcmp(json_string_value(json_object_get(f, "name")),
	                                  "Fonction mailleurs de "
	                                  "territoire"))
	{
		assert_int_equal(json_integer_value(json_object_get(f, "criteria")), 32);
		seen = 1;
	}
	assert_true(seen);
	json_decref(j);
	resp_free(&r);
	/* POST scores: CSRF header required; out of scale refused with nothing stored. */
	client_get(coord, "/", &r);
	char *tok = page_csrf_token(&r);
	resp_free(&r);
	char hdr[128], path[128], body[512];
	snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", tok);
	free(tok);
	snprintf(path, sizeof path, "/api/v1/grids/assessments/%lld/scores", (long long)asm_peer1);
	snprintf(body, sizeof body,
	         "{\"scores\": [{\"item_id\": %lld, \"score\": 4}, {\"item_id\": %lld, \"score\": "
	         "9}]}",
	         (long long)leaf1, (long long)leaf2);
	client_post(coord, path, "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 403); /* no CSRF header */
	resp_free(&r);
	client_set_header(coord, hdr);
	client_post(coord, path, "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "\"error\"");
	resp_free(&r);
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_peer1, leaf1),
	                 2);
	snprintf(body, sizeof body, "{\"scores\": [{\"item_id\": %lld, \"score\": 4}]}",
	         (long long)func1);
	client_post(coord, path, "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	snprintf(body, sizeof body,
	         "{\"scores\": [{\"item_id\": %lld, \"score\": 4, \"evidence\": \"Bilan 2026\"}, "
	         "{\"item_id\": %lld, \"score\": null}]}",
	         (long long)leaf1, (long long)leaf2);
	client_post(coord, path, "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Bilan 2026");
	resp_free(&r);
	client_set_header(coord, NULL);
	assert_int_equal(q("SELECT score FROM grid_scores WHERE assessment_id = ? AND item_id = ?",
	                   "II", asm_peer1, leaf1),
	                 4);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_scores WHERE assessment_id = ? AND item_id = "
	                   "? AND score IS NULL",
	                   "II", asm_peer1, leaf2),
	                 1);
	/* The reader reads the results, cannot post. */
	struct client *reader = login(READER);
	snprintf(path, sizeof path, "/api/v1/grids/campaigns/%lld/results?level=2",
	         (long long)campaign);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 200);
	j = json_loads(buf_str(&r.body), 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "axes")), 3);
	json_t *s0 = json_array_get(json_object_get(j, "structures"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "name")), "Caf de la Drôme");
	assert_true(fabs(json_real_value(json_array_get(json_object_get(s0, "self"), 0)) - 2.5) <
	            1e-9);
	json_decref(j);
	resp_free(&r);
	client_get(reader, "/", &r);
	tok = page_csrf_token(&r);
	resp_free(&r);
	snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", tok);
	free(tok);
	client_set_header(reader, hdr);
	snprintf(path, sizeof path, "/api/v1/grids/assessments/%lld/scores", (long long)asm_peer1);
	snprintf(body, sizeof body, "{\"scores\": [{\"item_id\": %lld, \"score\": 1}]}",
	         (long long)leaf1);
	client_post(reader, path, "application/json", body, strlen(body), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(reader);

	/* CSV: BOM, ';', CRLF, formula guard. */
	snprintf(path, sizeof path, "/campagnes/%lld/export?format=csv", (long long)campaign);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	const char *csv = buf_str(&r.body);
	assert_memory_equal(csv,
	                    "\xEF\xBB\xBF"
	                    "campagne_id;campagne;annee;",
	                    30);
	assert_non_null(strstr(csv, "\r\n"));
	assert_non_null(strstr(csv, ";\"'=HYPERLINK(\"\"x\"\")\"\r\n"));
	assert_null(strstr(csv, ";=HYPERLINK"));
	assert_non_null(strstr(csv, "Caf de la Drôme;Auto-évaluation;Caf;non;1.1.1;Axe A › "
	                            "Fonction A1;Critère un;3;Niveau 3;1-4;"));
	/* 3 assessments × 4 criteria + header. */
	int lines = 0;
	for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines, 13);
	resp_free(&r);
	/* XLSX: a zip with the workbook parts. */
	snprintf(path, sizeof path, "/campagnes/%lld/export?format=xlsx", (long long)campaign);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body.len > 1000);
	assert_memory_equal(r.body.data, "PK", 2);
	resp_free(&r);
	/* JSON through the API. */
	snprintf(path, sizeof path, "/api/v1/grids/campaigns/%lld/export?format=json",
	         (long long)campaign);
	client_get(coord, path, &r);
	j = json_loads(buf_str(&r.body), 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "frameworks")), 1);
	json_t *c0 = json_array_get(json_object_get(j, "campaigns"), 0);
	assert_int_equal(json_array_size(json_object_get(c0, "assessments")), 3);
	assert_int_equal(json_array_size(json_object_get(c0, "testimonies")), 2);
	assert_true(json_is_true(
	    json_object_get(json_array_get(json_object_get(c0, "structures"), 0), "ambassador")));
	json_decref(j);
	resp_free(&r);
	/* The whole plan: shared grids, the plan's own, every campaign. */
	snprintf(path, sizeof path, "/api/v1/plans/%lld/grids/export?format=json",
	         (long long)plan_a);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	j = json_loads(buf_str(&r.body), 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "frameworks")), 3);
	assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 1);
	json_decref(j);
	resp_free(&r);
	struct client *out = login(OUTSIDER);
	assert_int_equal(get_status(out, path), 404);
	snprintf(path, sizeof path, "/plans/%lld/campagnes/export?format=csv", (long long)plan_a);
	assert_int_equal(get_status(out, path), 404);
	client_free(out);
	assert_int_equal(get_status(coord, path), 200);
	snprintf(path, sizeof path, "/campagnes/%lld/export?format=pdf", (long long)campaign);
	assert_int_equal(get_status(coord, path), 400);
	client_free(coord);

	/* The whole database, as `maillage export grids` writes it. */
	struct db *db = th_db(&T);
	struct buf b = {0};
	char *err = NULL;
	assert_int_equal(grids_export(db, 0, 0, GRIDS_JSON, &b, &err), 0);
	j = json_loads(buf_str(&b), 0, NULL);
	assert_non_null(j);
	int found = 0;
	json_array_foreach(
	    json_object_get(j, "frameworks"), i,
	    f) if (json_string_value(json_object_get(f, "code")) &&
	           !strcmp(json_string_value(json_object_get(f, "code")), "mailleur"))
	{
		assert_int_equal(json_integer_value(json_object_get(f, "criteria")), 32);
		assert_int_equal(json_array_size(json_object_get(f, "items")), 3);
		found = 1;
	}
	assert_true(found);
	assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 2);
	json_decref(j);
	buf_reset(&b);
	assert_int_equal(grids_export(db, 0, 0, GRIDS_CSV, &b, &err), 0);
	assert_non_null(strstr(buf_str(&b), "Les Ors;Pairs;Fédération des centres sociaux de la "
	                                    "Drôme;oui;1.1.1;"));
	buf_reset(&b);
	assert_int_equal(grids_export(db, 0, 0, GRIDS_XLSX, &b, &err), 0);
	assert_memory_equal(b.data, "PK", 2);
	buf_free(&b);
	assert_int_equal(grids_export(db, 0, 0, GRIDS_NONE, &b, &err), -1);
	free(err);
	buf_free(&b);
	assert_int_equal(grids_format_parse("XLSX"), GRIDS_XLSX);
	assert_int_equal(grids_format_parse("ods"), GRIDS_NONE);
	db_close(db);
}

/* Across years: a second campaign of the same grid; testimonies removed; a campaign deleted. */
static void test_years_and_deletions(void **state)
{
	(void)state;
	assert_true(campaign > 0);
	struct client *coord = login(COORD);
	struct resp r;
	char list[96], fields[512], path[200];
	snprintf(list, sizeof list, "/plans/%lld/campagnes", (long long)plan_a);
	snprintf(fields, sizeof fields, "title=Mailleurs+crestois&year=2027&framework=%lld",
	         (long long)custom_fw);
	assert_int_equal(post(coord, list, fields, &r), 303);
	int64_t c2 = location_id(&r, "/campagnes/");
	resp_free(&r);
	snprintf(path, sizeof path, "/campagnes/%lld/structures", (long long)c2);
	assert_int_equal(post(coord, path, "structure=Caf+de+la+Dr%C3%B4me", NULL), 303);
	snprintf(path, sizeof path, "/campagnes/%lld/evaluations", (long long)c2);
	snprintf(fields, sizeof fields, "actor=%lld&kind=peer", (long long)actor1);
	assert_int_equal(post(coord, path, fields, &r), 303);
	int64_t a2 = location_id(&r, "/evaluations/");
	resp_free(&r);
	snprintf(path, sizeof path, "/evaluations/%lld", (long long)a2);
	snprintf(fields, sizeof fields, "score-%lld=4&score-%lld=4&score-%lld=4", (long long)leaf1,
	         (long long)leaf2, (long long)leaf3);
	assert_int_equal(post(coord, path, fields, &r), 303);
	char *loc = resp_get_header(&r, "Location");
	resp_free(&r);
	assert_non_null(strstr(loc, "?ok=1"));
	client_get(coord, loc, &r);
	free(loc);
	assert_has(&r, "Évaluation enregistrée.");
	resp_free(&r);
	/* The structure's page shows both years on one radar, and the table. */
	snprintf(path, sizeof path, "/campagnes/%lld/structures/%lld?niveau=2", (long long)c2,
	         (long long)actor1);
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "2026 — Mailleurs crestois (pairs)");
	assert_has(&r, "2027 — Mailleurs crestois (pairs)");
	assert_svg_well_formed(buf_str(&r.body), "radar-annees");
	resp_free(&r);
	/* A campaign-wide testimony: a partner cannot remove it, the coordination can. */
	int64_t t = q("SELECT id FROM grid_testimonies WHERE campaign_id = ? AND assessment_id IS "
	              "NULL",
	              "I", campaign);
	assert_true(t > 0);
	snprintf(path, sizeof path, "/temoignages/%lld/supprimer", (long long)t);
	struct client *partner = login(PARTNER);
	assert_int_equal(post(partner, path, "", NULL), 403);
	snprintf(list, sizeof list, "/campagnes/%lld/supprimer", (long long)c2);
	assert_int_equal(post(partner, list, "", NULL), 403);
	client_free(partner);
	assert_int_equal(post(coord, path, "", NULL), 303);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_testimonies WHERE id = ?", "I", t), 0);
	/* Deleting the second campaign takes its assessment and scores along; audited. */
	assert_int_equal(post(coord, list, "", NULL), 303);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_assessments WHERE campaign_id = ?", "I", c2),
	                 0);
	assert_int_equal(q("SELECT COUNT(*) FROM grid_scores WHERE assessment_id = ?", "I", a2), 0);
	assert_int_equal(q("SELECT COUNT(*) FROM audit_log WHERE entity = 'grid_campaign' AND "
	                   "action = 'delete'",
	                   ""),
	                 1);
	snprintf(path, sizeof path, "/campagnes/%lld", (long long)c2);
	assert_int_equal(get_status(coord, path), 404);
	client_free(coord);
}

/* Reordering siblings; copying the shipped grid into a plan to adapt it. */
static void test_move_and_copy(void **state)
{
	(void)state;
	assert_true(custom_fw > 0);
	struct client *coord = login(COORD);
	struct resp r;
	char path[200], fields[256];
	int64_t f2 = item_by_label(custom_fw, "Fonction A2");
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld/deplacer", (long long)custom_fw,
	         (long long)f2);
	assert_int_equal(post(coord, path, "sens=haut", NULL), 303);
	assert_true(q("SELECT position FROM grid_items WHERE id = ?", "I", f2) <
	            q("SELECT position FROM grid_items WHERE id = ?", "I", func1));
	snprintf(fields, sizeof fields, "/grilles/%lld", (long long)custom_fw);
	client_get(coord, fields, &r);
	assert_has(&r, "<strong>1.1</strong> <span class=\"badge\">Fonction</span> Fonction A2");
	resp_free(&r);
	assert_int_equal(post(coord, path, "sens=haut", NULL), 303); /* already first: no change */
	assert_int_equal(post(coord, path, "sens=gauche", NULL), 422);
	assert_int_equal(post(coord, path, "sens=bas", NULL), 303);
	assert_true(q("SELECT position FROM grid_items WHERE id = ?", "I", f2) >
	            q("SELECT position FROM grid_items WHERE id = ?", "I", func1));
	struct client *reader = login(READER);
	assert_int_equal(post(reader, path, "sens=haut", NULL), 403);
	client_free(reader);

	/* Copy the mailleur grid into the Crestois plan: same tree, scale and descriptors. */
	snprintf(path, sizeof path, "/grilles/%lld/copier", (long long)mailleur);
	assert_int_equal(post(coord, path, "plan=&name=Copie", NULL), 403);
	snprintf(fields, sizeof fields, "plan=%lld&name=", (long long)plan_a);
	assert_int_equal(post(coord, path, fields, NULL), 422);
	snprintf(fields, sizeof fields, "plan=%lld&name=Mailleurs+%%C3%%A0+la+cr%%C3%%A9toise",
	         (long long)plan_a);
	assert_int_equal(post(coord, path, fields, &r), 303);
	int64_t copy = location_id(&r, "/grilles/");
	resp_free(&r);
	assert_int_equal(q("SELECT plan_id FROM grid_frameworks WHERE id = ?", "I", copy), plan_a);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", copy),
	    q("SELECT COUNT(*) FROM grid_items WHERE framework_id = ?", "I", mailleur));
	assert_int_equal(q("SELECT COUNT(*) FROM grid_items i WHERE framework_id = ? AND NOT "
	                   "EXISTS (SELECT 1 FROM grid_items k WHERE k.parent_id = i.id)",
	                   "I", copy),
	                 32);
	assert_int_equal(
	    q("SELECT COUNT(*) FROM grid_scale_levels WHERE framework_id = ?", "I", copy), 4);
	/* The copy is the plan's: its coordinator edits it; the original stays untouched. */
	int64_t cog = item_by_label(copy, "COGESTION");
	snprintf(path, sizeof path, "/grilles/%lld/elements/%lld", (long long)copy, (long long)cog);
	assert_int_equal(post(coord, path, "label=COGESTION+locale", NULL), 303);
	assert_true(item_by_label(mailleur, "COGESTION") > 0);
	struct client *out = login(OUTSIDER);
	snprintf(path, sizeof path, "/grilles/%lld/copier", (long long)mailleur);
	snprintf(fields, sizeof fields, "plan=%lld&name=Intrus", (long long)plan_a);
	long st = post(out, path, fields, NULL);
	assert_true(st == 403 || st == 404);
	snprintf(path, sizeof path, "/grilles/%lld", (long long)copy);
	assert_int_equal(get_status(out, path), 404);
	client_free(out);
	client_free(coord);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_grids),       cmocka_unit_test(test_demo_pages),
	    cmocka_unit_test(test_custom_grid),         cmocka_unit_test(test_campaign),
	    cmocka_unit_test(test_permissions),         cmocka_unit_test(test_api_and_exports),
	    cmocka_unit_test(test_years_and_deletions), cmocka_unit_test(test_move_and_copy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
