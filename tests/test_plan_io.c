/* test_plan_io: the plan importers (CSV, Markdown, JSON) and exporters (CSV, XLSX, JSON) on the
 * fixtures of tests/fixtures/plan_io, against a demo database; no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "harness.h"
#include "plan_io.h"
#include "plans.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static struct db *DB;

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	th_tmpdir(dir, sizeof dir);
	char *path = xasprintf("%s/plan_io.db", dir);
	char *err = NULL;
	DB = db_open(path, &err);
	free(path);
	if (!DB || db_migrate(DB) != DB_OK || demo_load(DB, &err)) {
		fprintf(stderr, "setup: %s\n", err ? err : "?");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(DB);
	th_rmdir(dir);
	return 0;
}

/* The fixture's path: tests/fixtures/plan_io/NAME beside this source file. */
static char *fixture_path(const char *name)
{
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 1;
	return xasprintf("%.*s/fixtures/plan_io/%s", n, slash ? __FILE__ : ".", name);
}

static char *fixture(const char *name, size_t *len)
{
	char *p = fixture_path(name);
	char *data = file_read_all(p, len);
	if (!data)
		fail_msg("fixture %s unreadable", p);
	free(p);
	return data;
}

static int64_t count(const char *table)
{
	char *sql = xasprintf("SELECT COUNT(*) FROM %s", table); /* table: literal below */
	int64_t n = -1;
	db_int64f(DB, &n, sql, "");
	free(sql);
	return n;
}

/* Counts of every table an import writes, to check that a refused import stored nothing. */
struct counts {
	int64_t v[10];
};

static struct counts counts_now(void)
{
	static const char *const tables[] = {
	    "plans",       "nodes",        "fiches",         "tags",         "node_tags",
	    "plan_levels", "fiche_pilots", "fiche_partners", "plan_members", "audit_log"};
	struct counts c;
	for (int i = 0; i < 10; i++)
		c.v[i] = count(tables[i]);
	return c;
}

static void assert_counts_equal(struct counts a, struct counts b)
{
	for (int i = 0; i < 10; i++)
		assert_int_equal(a.v[i], b.v[i]);
}

/* Import data; returns the result, fills errs. */
static int import(enum plan_io_format f, const char *data, size_t len, int dry,
                  const struct plan_io_options *opt, int64_t *pid, json_t **summary,
                  struct plan_io_errors *errs)
{
	return plan_io_import(DB, f, data, len, opt, dry, 0, "cli", pid, summary, errs);
}

static int64_t import_ok(enum plan_io_format f, const char *data, size_t len)
{
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *s = NULL;
	if (import(f, data, len, 0, NULL, &pid, &s, &errs)) {
		char *t = plan_io_errors_text(&errs);
		fail_msg("import refused: %s", t);
	}
	assert_true(pid > 0);
	json_decref(s);
	plan_io_errors_free(&errs);
	return pid;
}

static int64_t import_fixture(const char *name, enum plan_io_format f)
{
	size_t len;
	char *data = fixture(name, &len);
	int64_t pid = import_ok(f, data, len);
	free(data);
	return pid;
}

/*
 * The import of `data` is refused, nothing is stored, and some error names `line` (and
 * `column` when not 0) and contains `needle`.
 */
static void expect_refused_data(enum plan_io_format f, const char *data, size_t len, int line,
                                int column, const char *needle)
{
	struct counts before = counts_now();
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *s = NULL;
	for (int dry = 0; dry < 2; dry++) {
		assert_int_equal(import(f, data, len, dry, NULL, &pid, &s, &errs), -1);
		assert_int_equal(pid, 0);
		assert_null(s);
		int found = 0;
		for (size_t i = 0; i < errs.n; i++) {
			const struct plan_io_error *e = &errs.items[i];
			if (strstr(e->message, needle) && e->line == line &&
			    (!column || e->column == column))
				found = 1;
		}
		if (!found) {
			char *t = plan_io_errors_text(&errs);
			fail_msg("expected line %d col %d '%s', got:\n%s", line, column, needle, t);
		}
		if (line) {
			char where[48];
			snprintf(where, sizeof where, column ? "Ligne %d, colonne %d" : "Ligne %d",
			         line, column);
			int named = 0;
			for (size_t i = 0; i < errs.n; i++)
				named |= strstr(errs.items[i].message, where) != NULL;
			assert_true(named);
		}
		plan_io_errors_free(&errs);
	}
	assert_counts_equal(before, counts_now());
}

static void expect_refused(const char *name, enum plan_io_format f, int line, int column,
                           const char *needle)
{
	size_t len;
	char *data = fixture(name, &len);
	expect_refused_data(f, data, len, line, column, needle);
	free(data);
}

/* plan_to_json without ids, dates and the like, so two imports can be compared. */
static void strip_ids(json_t *j)
{
	if (json_is_object(j)) {
		json_object_del(j, "id");
		json_object_del(j, "created_at");
		json_object_del(j, "updated_at");
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) strip_ids(v);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) strip_ids(v);
	}
}

static json_t *plan_stripped(int64_t id, int extended)
{
	json_t *j = extended ? plan_io_export_json(DB, id) : plan_to_json(DB, id);
	assert_non_null(j);
	strip_ids(j);
	return j;
}

static void assert_json_equal(json_t *a, json_t *b)
{
	if (!json_equal(a, b)) {
		char *x = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
		char *y = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
		fail_msg("JSON differ:\n%s\n----\n%s", x, y);
	}
}

/* --- parsers ------------------------------------------------------------------------------- */

static void check_tilleuls_doc(struct plan_doc *d)
{
	assert_string_equal(d->title, "Projet social 2025-2028 du centre social Les Tilleuls");
	assert_string_equal(d->kind, "projet_social");
	assert_int_equal(d->start_year, 2025);
	assert_int_equal(d->end_year, 2028);
	assert_true(d->is_public);
	assert_int_equal(d->levels.n, 3);
	assert_string_equal(d->levels.items[2], "Fiche-action");
	assert_int_equal(d->nterritory, 1);
	assert_string_equal(d->territory[0].scope, "commune");
	assert_string_equal(d->territory[0].code, "26108");
	assert_int_equal(d->signatories.n, 2);
	assert_int_equal(d->nthreads, 2);
	assert_int_equal(d->nnodes, 18);
	size_t fiches = 0;
	for (size_t i = 0; i < d->nnodes; i++)
		fiches += d->nodes[i].is_fiche;
	assert_int_equal(fiches, 9);
	struct plan_doc_node *cafe = &d->nodes[2];
	assert_string_equal(cafe->title, "Café des habitants le samedi matin");
	assert_int_equal(cafe->depth, 2);
	assert_int_equal(cafe->parent, 2);
	assert_true(cafe->is_fiche);
	assert_string_equal(cafe->fiche.status, "en_cours");
	assert_string_equal(cafe->fiche.progress, "bien_engagee");
	assert_string_equal(cafe->fiche.start_date, "2025-01-15");
	assert_string_equal(cafe->fiche.end_date, "2028-06-30");
	assert_int_equal(cafe->fiche.partners.n, 2);
	assert_int_equal(cafe->fiche.impacts.n, 2);
	assert_non_null(strstr(cafe->description, "bénévoles ;\nune fois"));
	/* DD/MM/YYYY read as a date, a slug as a status */
	assert_string_equal(d->nodes[3].fiche.start_date, "2025-09-01");
	assert_string_equal(d->nodes[3].fiche.status, "retenue");
	assert_false(d->nodes[0].is_fiche);
	assert_int_equal(d->nodes[6].depth, 0);
	assert_string_equal(d->nodes[6].title, "Accompagner les familles et la jeunesse");
}

static void test_parse_csv(void **state)
{
	(void)state;
	size_t len, tlen;
	char *data = fixture("tilleuls.csv", &len);
	struct plan_io_errors errs = {0};
	char *note;
	char *text = plan_io_decode(data, len, &tlen, &note, &errs);
	assert_non_null(text);
	assert_null(note);
	assert_false(text[0] == '\xEF'); /* BOM removed */
	struct plan_doc d = {0};
	assert_int_equal(plan_io_parse_csv(text, tlen, &d, &errs), 0);
	check_tilleuls_doc(&d);
	/* the quoted "" inside a field */
	assert_non_null(strstr(d.nodes[11].description, "projet \"collectif\""));
	plan_doc_free(&d);
	free(text);
	free(data);
}

static void test_parse_markdown(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("tilleuls.md", &len);
	struct plan_io_errors errs = {0};
	struct plan_doc d = {0};
	assert_int_equal(plan_io_parse_markdown(data, len, &d, &errs), 0);
	check_tilleuls_doc(&d);
	/* "# 1. Vivre…": the number is dropped; the paragraph is the description */
	assert_string_equal(d.nodes[0].title, "Vivre ensemble dans le quartier des Tilleuls");
	assert_non_null(strstr(d.nodes[0].description, "ouvert à tous"));
	plan_doc_free(&d);
	free(data);
}

static void test_parse_json(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("tilleuls.json", &len);
	struct plan_io_errors errs = {0};
	struct plan_doc d = {0};
	assert_int_equal(plan_io_parse_json(data, len, &d, &errs), 0);
	check_tilleuls_doc(&d);
	plan_doc_free(&d);
	free(data);
}

static void test_markdown_single_h1_is_the_title(void **state)
{
	(void)state;
	const char *md = "# Schéma jeunesse du Val\n\nUn plan court.\n\n## Axe A\n\n- Fiche 1\n"
	                 "  - Sous-fiche\n\t- Autre sous-fiche\n- Fiche 2\n## Axe B\n1. Fiche 3\n";
	struct plan_io_errors errs = {0};
	struct plan_doc d = {0};
	assert_int_equal(plan_io_parse_markdown(md, strlen(md), &d, &errs), 0);
	assert_string_equal(d.title, "Schéma jeunesse du Val");
	assert_string_equal(d.description, "Un plan court.");
	assert_int_equal(d.nnodes, 7);
	assert_string_equal(d.nodes[0].title, "Axe A");
	assert_int_equal(d.nodes[0].depth, 0);
	assert_int_equal(d.nodes[2].depth, 2);
	assert_int_equal(d.nodes[3].depth, 2); /* a tab is one level too */
	assert_int_equal(d.nodes[3].parent, 2);
	assert_int_equal(d.nodes[4].depth, 1);
	assert_string_equal(d.nodes[6].title, "Fiche 3");
	plan_doc_free(&d);
}

/* --- imports into the database ------------------------------------------------------------ */

static void test_three_formats_give_the_same_plan(void **state)
{
	(void)state;
	int64_t a = import_fixture("tilleuls.csv", PLAN_IO_CSV);
	int64_t b = import_fixture("tilleuls.md", PLAN_IO_MARKDOWN);
	int64_t c = import_fixture("tilleuls.json", PLAN_IO_JSON);
	json_t *ja = plan_stripped(a, 0), *jb = plan_stripped(b, 0), *jc = plan_stripped(c, 0);
	assert_json_equal(ja, jb);
	assert_json_equal(ja, jc);
	/* numbers were computed, signatories and territory resolved */
	json_t *tree = json_object_get(ja, "tree");
	assert_int_equal(json_array_size(tree), 3);
	json_t *n111 = json_array_get(
	    json_object_get(json_array_get(json_object_get(json_array_get(tree, 0), "children"), 0),
	                    "children"),
	    0);
	assert_string_equal(json_string_value(json_object_get(n111, "number")), "1.1.1");
	assert_int_equal(json_array_size(json_object_get(ja, "signatories")), 2);
	assert_int_equal(json_array_size(json_object_get(ja, "territory")), 1);
	json_decref(ja);
	json_decref(jb);
	json_decref(jc);
	/* The fiche's relations, in the database */
	int64_t n = 0;
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                           "WHERE n.plan_id = ?",
	                           "I", a),
	                 DB_OK);
	assert_int_equal(n, 9);
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM fiche_partners p JOIN nodes n "
	                           "ON n.id = p.node_id WHERE n.plan_id = ?",
	                           "I", a),
	                 DB_OK);
	assert_int_equal(n, 10);
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM fiche_impacts p JOIN nodes n "
	                           "ON n.id = p.node_id WHERE n.plan_id = ? "
	                           "AND p.domain = 'reduction-precarite-economique'",
	                           "I", b),
	                 DB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM tags WHERE plan_id = ? AND kind = 'fil'",
	                           "I", c),
	                 DB_OK);
	assert_int_equal(n, 2);
	/* audited: the plan and each node */
	char id[32];
	snprintf(id, sizeof id, "%lld", (long long)a);
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM audit_log WHERE entity = 'plan' AND "
	                           "entity_id = ?",
	                           "s", id),
	                 DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(db_int64f(DB, &n,
	                           "SELECT COUNT(*) FROM audit_log l JOIN nodes n "
	                           "ON l.entity = 'node' AND l.entity_id = CAST(n.id AS TEXT) "
	                           "WHERE n.plan_id = ?",
	                           "I", a),
	                 DB_OK);
	assert_int_equal(n, 18);
}

static void test_dry_run_stores_nothing(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("tilleuls.csv", &len);
	struct counts before = counts_now();
	struct plan_io_errors errs = {0};
	int64_t pid = -1;
	json_t *s = NULL;
	assert_int_equal(import(PLAN_IO_CSV, data, len, 1, NULL, &pid, &s, &errs), 0);
	assert_int_equal(pid, 0);
	assert_counts_equal(before, counts_now());
	assert_true(json_is_true(json_object_get(s, "dry_run")));
	assert_int_equal(json_integer_value(json_object_get(s, "nodes")), 18);
	assert_int_equal(json_integer_value(json_object_get(s, "fiches")), 9);
	json_t *lv = json_array_get(json_object_get(s, "levels"), 1);
	assert_string_equal(json_string_value(json_object_get(lv, "name")), "Orientation");
	assert_int_equal(json_integer_value(json_object_get(lv, "count")), 6);
	json_t *third = json_array_get(json_object_get(s, "first_nodes"), 2);
	assert_string_equal(json_string_value(json_object_get(third, "number")), "1.1.1");
	char *text = plan_io_summary_text(s);
	assert_non_null(strstr(text, "18 éléments d'arborescence, dont 9 fiches-actions"));
	assert_non_null(strstr(text, "1.1.1 Café des habitants le samedi matin [fiche-action]"));
	free(text);
	json_decref(s);
	free(data);
}

static void test_options_replace_file_metadata(void **state)
{
	(void)state;
	const char *csv = "niveau;titre\n1;Axe unique\n";
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *s = NULL;
	/* no title anywhere: refused, naming what is missing */
	assert_int_equal(import(PLAN_IO_CSV, csv, strlen(csv), 0, NULL, &pid, &s, &errs), -1);
	assert_non_null(strstr(errs.items[0].message, "titre du plan manque"));
	plan_io_errors_free(&errs);
	struct plan_io_options opt = {"Plan <script>alert(1)</script> ' OR 1=1 --", "schema", 2024,
	                              2027};
	assert_int_equal(import(PLAN_IO_CSV, csv, strlen(csv), 0, &opt, &pid, &s, &errs), 0);
	json_t *j = plan_to_json(DB, pid);
	assert_string_equal(json_string_value(json_object_get(j, "title")), opt.title);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "schema");
	assert_int_equal(json_integer_value(json_object_get(j, "end_year")), 2027);
	json_decref(j);
	json_decref(s);
}

static void test_windows_1252_is_converted(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("windows1252.csv", &len);
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *s = NULL;
	assert_int_equal(import(PLAN_IO_CSV, data, len, 0, NULL, &pid, &s, &errs), 0);
	const char *enc = json_string_value(json_object_get(s, "encoding"));
	assert_non_null(strstr(enc, "Windows-1252"));
	assert_non_null(strstr(enc, "ligne 1, colonne 31"));
	json_t *j = plan_to_json(DB, pid);
	assert_string_equal(json_string_value(json_object_get(j, "title")),
	                    "Projet social de l’EVS – 2025");
	json_t *n0 = json_array_get(json_object_get(j, "tree"), 0);
	assert_string_equal(json_string_value(json_object_get(n0, "title")), "Accès aux droits");
	json_decref(j);
	json_decref(s);
	free(data);
}

/* --- refused files ---------------------------------------------------------------------------- */

static void test_csv_missing_column(void **state)
{
	(void)state;
	expect_refused("broken_missing_column.csv", PLAN_IO_CSV, 2, 0,
	               "colonne obligatoire absente : « titre »");
	const char *csv = "#plan;titre;X\ntitre;description\nAxe;texte\n";
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 2, 0, "« niveau » ou « numero »");
}

static void test_csv_level_jump(void **state)
{
	(void)state;
	expect_refused("broken_level_jump.csv", PLAN_IO_CSV, 6, 1,
	               "saut de niveau : une ligne de niveau 3 juste après une ligne de niveau 1 "
	               "(ligne 5)");
	const char *csv = "#plan;titre;X\nnumero;titre\n1;A\n1.2.1;B\n";
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 4, 1, "suppose un élément « 1.2 »");
}

static void test_csv_duplicate_number(void **state)
{
	(void)state;
	expect_refused("broken_duplicate_number.csv", PLAN_IO_CSV, 6, 1,
	               "numéro « 1.1 » en double (déjà utilisé ligne 4)");
}

static void test_csv_unknown_status_and_bad_values(void **state)
{
	(void)state;
	expect_refused("broken_status.csv", PLAN_IO_CSV, 4, 3, "statut inconnu « en retard »");
	const char *dates = "#plan;titre;X\nniveau;titre;debut\n1;A;2025-02-30\n";
	expect_refused_data(PLAN_IO_CSV, dates, strlen(dates), 3, 3, "date de début non valide");
	const char *empty = "#plan;titre;X\nniveau;titre\n1;A\n2;   \n";
	expect_refused_data(PLAN_IO_CSV, empty, strlen(empty), 4, 2, "titre vide");
	const char *quote = "#plan;titre;X\nniveau;titre\n1;\"A\"x\n";
	expect_refused_data(PLAN_IO_CSV, quote, strlen(quote), 3, 0, "guillemet");
	const char *type = "#plan;titre;X\nniveau;titre;type;statut\n1;A;nœud;en cours\n";
	expect_refused_data(PLAN_IO_CSV, type, strlen(type), 3, 0, "de type « nœud »");
	const char *extra = "#plan;titre;X\nniveau;titre\n1;A;de trop\n";
	expect_refused_data(PLAN_IO_CSV, extra, strlen(extra), 3, 3, "hors des colonnes");
	const char *kind = "#plan;titre;X\n#plan;type;programme\nniveau;titre\n1;A\n";
	expect_refused_data(PLAN_IO_CSV, kind, strlen(kind), 2, 3, "type de plan inconnu");
}

static void test_csv_unknown_names_in_database(void **state)
{
	(void)state;
	/* Lookups happen in the database: unknown partner, tag, signatory, commune, impact */
	const char *csv = "#plan;titre;X\n#plan;signataires;Structure fantôme\n"
	                  "niveau;titre;partenaires;etiquettes;communes;impacts\n"
	                  "1;Axe;;jeunesse;;\n"
	                  "2;Fiche;Association inconnue;;;\n"
	                  "2;Fiche 2;;fil-inexistant;;\n"
	                  "2;Fiche 3;;;99999;\n"
	                  "2;Fiche 4;;;;bonheur\n";
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 5, 0,
	                    "partenaire inconnu « Association inconnue »");
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 6, 0,
	                    "étiquette inconnue « fil-inexistant »");
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 7, 0, "commune inconnue « 99999 »");
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 8, 0,
	                    "domaine d'impact inconnu « bonheur »");
	expect_refused_data(PLAN_IO_CSV, csv, strlen(csv), 0, 0,
	                    "Signataire inconnu « Structure fantôme »");
}

static void test_invalid_utf8_is_refused(void **state)
{
	(void)state;
	expect_refused("broken_utf8.csv", PLAN_IO_CSV, 4, 9, "octet 0xFF non valide en UTF-8");
	const char *md = "---\ntitre: Plan\n---\n# Axe é\n## Orien\xC3tation\n";
	expect_refused_data(PLAN_IO_MARKDOWN, md, strlen(md), 5, 9, "non valide en UTF-8");
}

static void test_markdown_errors(void **state)
{
	(void)state;
	expect_refused("broken_level_jump.md", PLAN_IO_MARKDOWN, 6, 1,
	               "saut de niveau : titre « #### » (niveau 4) sous un titre de niveau 1 "
	               "(ligne 4)");
	expect_refused("broken_indent.md", PLAN_IO_MARKDOWN, 7, 7,
	               "puce indentée de plus d'un niveau sous la puce de la ligne 6");
	expect_refused("broken_empty_heading.md", PLAN_IO_MARKDOWN, 5, 1, "titre vide");
	const char *first = "---\ntitre: Plan\n---\n## Axe\n";
	expect_refused_data(PLAN_IO_MARKDOWN, first, strlen(first), 4, 1, "commencez par « # »");
	const char *open = "---\ntitre: Plan\n# Axe\n";
	expect_refused_data(PLAN_IO_MARKDOWN, open, strlen(open), 1, 1, "jamais refermé");
	const char *prop = "---\ntitre: Plan\n---\n# Axe\n- Fiche\n  statut: terminée vite\n";
	expect_refused_data(PLAN_IO_MARKDOWN, prop, strlen(prop), 6, 3, "statut inconnu");
}

static void test_json_errors(void **state)
{
	(void)state;
	expect_refused("broken_syntax.json", PLAN_IO_JSON, 4, 30, "JSON non valide");
	const char *j =
	    "{\"title\": \"P\", \"tree\": [{\"title\": \"A\", \"children\": "
	    "[{\"title\": \"\"}, {\"title\": \"B\", \"fiche\": {\"status\": \"fini\"}}]}]}";
	expect_refused_data(PLAN_IO_JSON, j, strlen(j), 0, 0, "« tree[0].children[0].title »");
	expect_refused_data(PLAN_IO_JSON, j, strlen(j), 0, 0,
	                    "« tree[0].children[1].fiche.status » : statut inconnu");
}

static void test_huge_files_are_refused(void **state)
{
	(void)state;
	/* Over the size cap: refused before parsing */
	size_t big = PLAN_IO_MAX_BYTES + 1;
	char *data = xmalloc(big);
	memset(data, 'a', big);
	memcpy(data, "#plan;titre;X\nniveau;titre\n", 27);
	expect_refused_data(PLAN_IO_CSV, data, big, 0, 0, "la limite est de 20 Mo");
	free(data);
	/* Over the row cap */
	struct buf b = {0};
	buf_puts(&b, "#plan;titre;X\nniveau;titre\n1;Axe\n");
	for (int i = 0; i < PLAN_IO_MAX_NODES; i++)
		buf_puts(&b, "2;F\n");
	expect_refused_data(PLAN_IO_CSV, b.data, b.len, PLAN_IO_MAX_NODES + 3, 0,
	                    "dépasse 100000 lignes");
	buf_free(&b);
}

/* --- exports and round trips ----------------------------------------------------------------- */

static void test_json_round_trip(void **state)
{
	(void)state;
	int64_t a = import_fixture("tilleuls.json", PLAN_IO_JSON);
	struct buf out = {0};
	char *err = NULL;
	assert_int_equal(plan_io_export(DB, a, PLAN_IO_JSON, &out, &err), 0);
	int64_t b = import_ok(PLAN_IO_JSON, out.data, out.len);
	json_t *ja = plan_stripped(a, 1), *jb = plan_stripped(b, 1);
	assert_json_equal(ja, jb);
	/* the fiche fields only JSON carries survived */
	json_t *sorties = json_array_get(
	    json_object_get(
	        json_array_get(
	            json_object_get(json_array_get(json_object_get(jb, "tree"), 1), "children"), 0),
	        "children"),
	    1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(sorties, "fiche"), "closing_note")),
	    "Quatre sorties réalisées, 212 participants.");
	json_decref(ja);
	json_decref(jb);
	ja = plan_stripped(a, 0);
	jb = plan_stripped(b, 0);
	assert_json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	buf_free(&out);
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	int64_t a = import_fixture("tilleuls.csv", PLAN_IO_CSV);
	struct buf ea = {0}, eb = {0};
	char *err = NULL;
	assert_int_equal(plan_io_export(DB, a, PLAN_IO_CSV, &ea, &err), 0);
	assert_memory_equal(ea.data, "\xEF\xBB\xBF#plan;titre;", 15);
	assert_non_null(strstr(ea.data, "\r\nniveau;numéro;titre;description;type;statut;"));
	assert_non_null(strstr(ea.data, "3;1.1.1;Café des habitants le samedi matin;\"Un café"));
	int64_t b = import_ok(PLAN_IO_CSV, ea.data, ea.len);
	assert_int_equal(plan_io_export(DB, b, PLAN_IO_CSV, &eb, &err), 0);
	assert_int_equal(ea.len, eb.len);
	assert_memory_equal(ea.data, eb.data, ea.len);
	json_t *ja = plan_stripped(a, 1), *jb = plan_stripped(b, 1);
	/* CSV carries everything but the JSON-only long texts, empty here */
	assert_json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	buf_free(&ea);
	buf_free(&eb);
}

/* Text that a spreadsheet would run as a formula goes out with the guard apostrophe and comes
 * back without it: the plan is the same and the second export has the same bytes. */
static void test_csv_formula_guard_round_trip(void **state)
{
	(void)state;
	const char *csv = "#plan;titre;=Plan piégé\n"
	                  "niveau;titre;description\n"
	                  "1;\"=HYPERLINK(\"\"http://x\"\")\";- premier point\n"
	                  "1;''@déjà;'apostrophe\n"; /* read back as the text '@déjà */
	int64_t a = import_ok(PLAN_IO_CSV, csv, strlen(csv));
	struct buf ea = {0}, eb = {0};
	char *err = NULL;
	assert_int_equal(plan_io_export(DB, a, PLAN_IO_CSV, &ea, &err), 0);
	assert_non_null(strstr(ea.data, "#plan;titre;'=Plan piégé\r\n"));
	assert_non_null(strstr(ea.data, ";\"'=HYPERLINK(\"\"http://x\"\")\";'- premier point;"));
	assert_non_null(strstr(ea.data, ";''@déjà;'apostrophe;"));
	int64_t b = import_ok(PLAN_IO_CSV, ea.data, ea.len);
	assert_int_equal(plan_io_export(DB, b, PLAN_IO_CSV, &eb, &err), 0);
	assert_int_equal(ea.len, eb.len);
	assert_memory_equal(ea.data, eb.data, ea.len);
	json_t *ja = plan_stripped(a, 1), *jb = plan_stripped(b, 1);
	assert_json_equal(ja, jb);
	json_decref(ja);
	json_decref(jb);
	buf_free(&ea);
	buf_free(&eb);
}

static void test_xlsx_export(void **state)
{
	(void)state;
	int64_t a = import_fixture("tilleuls.md", PLAN_IO_MARKDOWN);
	struct buf x = {0};
	char *err = NULL;
	assert_int_equal(plan_io_export(DB, a, PLAN_IO_XLSX, &x, &err), 0);
	assert_true(x.len > 1000);
	assert_memory_equal(x.data, "PK", 2);
	if (system("python3 -c 'import zipfile' >/dev/null 2>&1") == 0) {
		char *path = xasprintf("%s/plan.xlsx", dir);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(x.data, 1, x.len, f), x.len);
		fclose(f);
		char *cmd = xasprintf(
		    "python3 -c \"import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); "
		    "s=z.read('xl/worksheets/sheet2.xml').decode(); "
		    "p=z.read('xl/worksheets/sheet1.xml').decode(); "
		    "w=z.read('xl/workbook.xml').decode(); "
		    "ok='Café des habitants le samedi matin' in s and 'state=\\\"frozen\\\"' in s "
		    "and '<c r=\\\"A2\\\" s=\\\"' in s and 't=\\\"inlineStr\\\"' in s and "
		    "'Les Tilleuls' in p and 'name=\\\"Arborescence\\\"' in w; "
		    "sys.exit(0 if ok else 1)\" '%s'",
		    path);
		assert_int_equal(system(cmd), 0);
		free(cmd);
		free(path);
	}
	buf_free(&x);
	/* a missing plan */
	assert_int_equal(plan_io_export(DB, 999999, PLAN_IO_XLSX, &x, &err), -1);
	assert_non_null(strstr(err, "n'existe pas"));
	free(err);
	buf_free(&x);
	char *name = plan_io_filename(DB, a, "xlsx");
	assert_string_equal(name, "projet-social-2025-2028-du-centre-social-les-tilleuls.xlsx");
	free(name);
}

static void test_format_guess(void **state)
{
	(void)state;
	assert_int_equal(plan_io_format_guess("plan.CSV", "", 0), PLAN_IO_CSV);
	assert_int_equal(plan_io_format_guess("plan.md", "", 0), PLAN_IO_MARKDOWN);
	assert_int_equal(plan_io_format_guess("plan.json", "", 0), PLAN_IO_JSON);
	assert_int_equal(plan_io_format_guess(NULL, "  {\"a\":1}", 9), PLAN_IO_JSON);
	assert_int_equal(plan_io_format_guess("x.txt", "# Titre\n", 8), PLAN_IO_MARKDOWN);
	assert_int_equal(plan_io_format_guess(NULL, "#plan;titre;X\n", 14), PLAN_IO_CSV);
	assert_int_equal(plan_io_format_guess(NULL, "---\ntitre: x\n", 13), PLAN_IO_MARKDOWN);
	assert_int_equal(plan_io_format_parse("markdown"), PLAN_IO_MARKDOWN);
	assert_int_equal(plan_io_format_parse("pdf"), PLAN_IO_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_csv),
	    cmocka_unit_test(test_parse_markdown),
	    cmocka_unit_test(test_parse_json),
	    cmocka_unit_test(test_markdown_single_h1_is_the_title),
	    cmocka_unit_test(test_three_formats_give_the_same_plan),
	    cmocka_unit_test(test_dry_run_stores_nothing),
	    cmocka_unit_test(test_options_replace_file_metadata),
	    cmocka_unit_test(test_windows_1252_is_converted),
	    cmocka_unit_test(test_csv_missing_column),
	    cmocka_unit_test(test_csv_level_jump),
	    cmocka_unit_test(test_csv_duplicate_number),
	    cmocka_unit_test(test_csv_unknown_status_and_bad_values),
	    cmocka_unit_test(test_csv_unknown_names_in_database),
	    cmocka_unit_test(test_invalid_utf8_is_refused),
	    cmocka_unit_test(test_markdown_errors),
	    cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_huge_files_are_refused),
	    cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_csv_round_trip),
	    cmocka_unit_test(test_csv_formula_guard_round_trip),
	    cmocka_unit_test(test_xlsx_export),
	    cmocka_unit_test(test_format_guess),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
