/* test_map: the SVG map of the territory (projection, layers, filters, escaping, well-formed
 * SVG without style attributes) and the pages /territoire/carte and /territoire/synthese. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "map.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CRESTOIS "200040509"
#define HOSTILE  "<script>alert(1)</script> & \"Acteur\" ' OR 1=1 --"

static struct th T;

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	/* A hostile actor name in Crest, and a private plan on the Crestois. */
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO actors (name, search_name, kind, commune, created_at, "
	             "updated_at) VALUES (?, 'hostile', 'association', '26108', "
	             "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
	             "s", HOSTILE),
	    DB_OK);
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO plans (id, kind, title, is_public, created_at, "
	             "updated_at) VALUES (900, 'ctg', 'Plan confidentiel du Crestois', "
	             "0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
	             ""),
	    DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_territory (plan_id, scope, code) VALUES (900, "
	                          "'epci', ?)",
	                          "s", CRESTOIS),
	                 DB_OK);
	db_close(db);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static int has(const char *s, const char *needle)
{
	return strstr(s, needle) != NULL;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0, len = strlen(needle);
	for (const char *p = strstr(s, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

static void get(struct client *c, const char *path, struct resp *r)
{
	int own = !c;
	if (own)
		c = client_new(&T);
	client_get(c, path, r);
	if (own)
		client_free(c);
}

/*
 * A tiny XML well-formedness check, enough for the SVG we write: every tag closed in order,
 * attributes quoted, no raw '<' or '&' outside entities. Returns NULL when well formed, or a
 * static description of the first problem.
 */
static const char *xml_check(const char *s)
{
	const char *stack[256];
	size_t lens[256], depth = 0;
	const char *p = s;
	while (*p) {
		if (*p == '&') {
			const char *semi = strchr(p, ';');
			if (!semi || semi - p > 10)
				return "bare &";
			p = semi + 1;
			continue;
		}
		if (*p != '<') {
			if (*p == '>')
				return "bare >";
			p++;
			continue;
		}
		p++;
		int closing = *p == '/';
		if (closing)
			p++;
		const char *name = p;
		while (*p && *p != ' ' && *p != '>' && *p != '/' && *p != '\n')
			p++;
		size_t nlen = (size_t)(p - name);
		if (!nlen)
			return "empty tag name";
		while (*p && *p != '>' && !(p[0] == '/' && p[1] == '>')) {
			if (*p == '"') {
				const char *q = strchr(p + 1, '"');
				if (!q)
					return "unterminated attribute";
				for (const char *k = p + 1; k < q; k++)
					if (*k == '<')
						return "< in attribute";
				p = q + 1;
				continue;
			}
			if (*p == '=' && p[1] != '"')
				return "unquoted attribute";
			if (*p == '<')
				return "< inside tag";
			p++;
		}
		if (!*p)
			return "unterminated tag";
		int selfclose = *p == '/';
		p += selfclose ? 2 : 1;
		if (closing) {
			if (!depth || lens[depth - 1] != nlen ||
			    strncmp(stack[depth - 1], name, nlen))
				return "mismatched closing tag";
			depth--;
		} else if (!selfclose) {
			if (depth == 256)
				return "too deep";
			stack[depth] = name;
			lens[depth++] = nlen;
		}
	}
	return depth ? "unclosed element" : NULL;
}

/* The first <svg …>…</svg> of s, malloc'ed, or NULL. */
static char *svg_of(const char *s, const char *id)
{
	char marker[64];
	snprintf(marker, sizeof marker, "aria-labelledby=\"%s-t", id);
	const char *m = strstr(s, marker);
	if (!m)
		return NULL;
	const char *a = m;
	while (a > s && strncmp(a, "<svg", 4))
		a--;
	const char *b = strstr(m, "</svg>");
	if (!b)
		return NULL;
	size_t n = (size_t)(b + 6 - a);
	char *out = xmalloc(n + 1);
	memcpy(out, a, n);
	out[n] = '\0';
	return out;
}

static void assert_well_formed(const char *svg)
{
	const char *e = xml_check(svg);
	if (e)
		fail_msg("SVG not well formed: %s", e);
	assert_false(has(svg, "style="));
	assert_false(has(svg, "<pattern"));
	assert_false(has(svg, "<script"));
	if (access("/usr/bin/xmllint", X_OK) == 0) {
		char dir[256], path[300], cmd[400];
		th_tmpdir(dir, sizeof dir);
		snprintf(path, sizeof path, "%s/map.svg", dir);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(svg, f);
		fclose(f);
		snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout '%s' 2>/dev/null", path);
		assert_int_equal(system(cmd), 0);
		th_rmdir(dir);
	}
}

static void render(struct db *db, const struct map_options *o, struct map_data *d, struct buf *svg)
{
	assert_int_equal(map_load(db, o, d), 0);
	map_svg(svg, d, o);
}

static void test_checker_catches_errors(void **state)
{
	(void)state;
	assert_null(xml_check("<svg><g a=\"1\"><circle/></g></svg>"));
	assert_non_null(xml_check("<svg><g></svg>"));
	assert_non_null(xml_check("<svg><title><script>x</title></svg>"));
	assert_non_null(xml_check("<svg a=1></svg>"));
	assert_non_null(xml_check("<svg>a & b</svg>"));
}

static void test_projection(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	struct map_options o = {.epci = CRESTOIS, .layer = MAP_LAYER_NONE};
	struct map_data d;
	struct buf svg = {0};
	render(db, &o, &d, &svg);
	assert_int_equal(d.ncommunes, 14);
	/* East → larger x, north → smaller y, on synthetic points and on real communes. */
	double x1, y1, x2, y2;
	map_project(&d, 44.7, 5.0, &x1, &y1);
	map_project(&d, 44.7, 5.1, &x2, &y2);
	assert_true(x2 > x1);
	assert_true(y1 == y2);
	map_project(&d, 44.8, 5.0, &x2, &y2);
	assert_true(y2 < y1);
	assert_true(x2 == x1);
	/* cos(latitude) correction: 0.1° of longitude is shorter than 0.1° of latitude. */
	map_project(&d, 44.7, 5.1, &x2, &y2);
	double dx = x2 - x1;
	map_project(&d, 44.8, 5.0, &x2, &y2);
	double dy = y1 - y2;
	assert_true(dx < dy * 0.8 && dx > dy * 0.6);
	size_t east = 0, west = 0;
	for (size_t i = 0; i < d.ncommunes; i++) {
		const struct map_item *c = &d.communes[i];
		if (!strcmp(c->commune, "26108"))
			east = i; /* Crest */
		if (!strcmp(c->commune, "26289"))
			west = i; /* Saillans */
	}
	/* Saillans (5.19° E) lies east of Crest (5.02° E), and both are on the map. */
	const struct map_item *crest = &d.communes[east], *saillans = &d.communes[west];
	assert_string_equal(crest->commune, "26108");
	assert_string_equal(saillans->commune, "26289");
	double cx, cy, sx, sy;
	map_project(&d, crest->lat, crest->lon, &cx, &cy);
	map_project(&d, saillans->lat, saillans->lon, &sx, &sy);
	assert_true(saillans->lon > crest->lon);
	assert_true(sx > cx);
	/* Every commune inside the map area. */
	for (size_t i = 0; i < d.ncommunes; i++) {
		if (!d.communes[i].has_point)
			continue;
		map_project(&d, d.communes[i].lat, d.communes[i].lon, &cx, &cy);
		assert_true(cx >= 0 && cx <= d.width && cy >= 0 && cy <= d.map_height);
	}
	assert_well_formed(buf_str(&svg));
	assert_true(has(buf_str(&svg), " km</text>"));
	assert_true(has(buf_str(&svg), "<desc id=\"carte-d\">"));
	map_data_free(&d);
	buf_free(&svg);
	db_close(db);
}

static void test_placed_hollow(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	struct map_options o = {.epci = CRESTOIS, .layer = MAP_LAYER_NONE};
	struct map_data d;
	struct buf svg = {0};
	render(db, &o, &d, &svg);
	size_t placed = 0, measured = 0;
	for (size_t i = 0; i < d.ncommunes; i++)
		if (d.communes[i].has_point) {
			placed += d.communes[i].placed != 0;
			measured += d.communes[i].placed == 0;
		}
	assert_true(placed > 0);
	assert_true(measured > 0);
	const char *s = buf_str(&svg);
	assert_int_equal(count(s, "class=\"commune estimee\""), placed);
	assert_int_equal(count(s, "class=\"commune estimee\" cx"), placed);
	assert_int_equal(count(s, "class=\"commune\" cx"), measured);
	/* Hollow: every estimated point has fill="none"; a legend entry explains it. */
	for (const char *p = strstr(s, "class=\"commune estimee\""); p;
	     p = strstr(p + 1, "class=\"commune estimee\"")) {
		const char *end = strchr(p, '>');
		const char *fill = strstr(p, "fill=\"none\"");
		assert_true(fill && fill < end);
	}
	assert_true(has(s, "position estimée"));
	assert_true(count(s, "(position estimée)</title>") == placed);
	map_data_free(&d);
	buf_free(&svg);
	db_close(db);
}

static void test_actor_layer_filters_and_escaping(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	struct map_options o = {.epci = CRESTOIS, .layer = MAP_LAYER_ACTORS};
	struct map_data d;
	struct buf svg = {0};
	render(db, &o, &d, &svg);
	size_t all = d.npoints;
	assert_true(all > 5);
	const char *s = buf_str(&svg);
	assert_int_equal(count(s, "class=\"acteur\"><title>"), all);
	assert_false(has(s, "<script>"));
	assert_true(has(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Acteur&quot;"));
	assert_well_formed(s);
	map_data_free(&d);
	buf_reset(&svg);

	o.actor_kind = "commune";
	render(db, &o, &d, &svg);
	assert_true(d.npoints > 0 && d.npoints < all);
	assert_int_equal(count(buf_str(&svg), "class=\"acteur\"><title>"), d.npoints);
	for (size_t i = 0; i < d.npoints; i++)
		assert_string_equal(d.points[i].detail, "Commune");
	map_data_free(&d);
	buf_reset(&svg);

	o.actor_kind = NULL;
	o.thematic = "no-such-thematic";
	render(db, &o, &d, &svg);
	assert_int_equal(d.npoints, 0);
	map_data_free(&d);
	buf_reset(&svg);

	/* The whole département has more actors than the EPCI. */
	struct map_options od = {.departement = "26", .layer = MAP_LAYER_ACTORS};
	render(db, &od, &d, &svg);
	assert_true(d.npoints > all);
	assert_well_formed(buf_str(&svg));
	map_data_free(&d);
	buf_free(&svg);
	db_close(db);
}

static void test_class_layers(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	enum map_layer layers[] = {MAP_LAYER_COVERAGE, MAP_LAYER_ACCESSIBILITY, MAP_LAYER_SERVICES};
	for (size_t k = 0; k < 3; k++) {
		struct map_options o = {
		    .epci = CRESTOIS, .layer = layers[k], .service_kind = "EAJE"};
		struct map_data d;
		struct buf svg = {0};
		render(db, &o, &d, &svg);
		const char *s = buf_str(&svg);
		assert_well_formed(s);
		if (layers[k] == MAP_LAYER_SERVICES) {
			assert_true(d.npoints > 0);
			assert_int_equal(count(s, "class=\"service\""), d.npoints);
		} else {
			/* Hatching drawn as lines; the legend names the 4 classes. */
			assert_true(has(s, "<line "));
			for (int c = 0; c < 4; c++)
				assert_true(has(s, map_class_label(layers[k], c)));
			size_t classed = 0;
			for (size_t i = 0; i < d.ncommunes; i++)
				classed += d.communes[i].group >= 0;
			assert_true(classed > 0);
		}
		/* The HTML table lists the same items. */
		struct buf table = {0};
		map_table(&table, &d);
		size_t rows = count(buf_str(&table), "<th scope=\"row\">");
		assert_int_equal(rows, layers[k] == MAP_LAYER_SERVICES ? d.npoints : d.ncommunes);
		assert_true(has(buf_str(&table), "<caption>"));
		buf_free(&table);
		map_data_free(&d);
		buf_free(&svg);
	}
	db_close(db);
}

static void test_map_page(void **state)
{
	(void)state;
	struct resp r = {0};
	get(NULL, "/territoire/carte?epci=" CRESTOIS "&couche=acteurs", &r);
	assert_int_equal(r.status, 200);
	const char *s = buf_str(&r.body);
	char *svg = svg_of(s, "carte");
	assert_non_null(svg);
	assert_well_formed(svg);
	assert_true(has(svg, "role=\"img\""));
	assert_true(has(svg, "viewBox=\"0 0 "));
	size_t all = count(svg, "class=\"acteur\"");
	free(svg);
	assert_true(has(s, "<caption>Acteurs de la carte"));
	assert_true(has(s, "<form class=\"form\" method=\"get\" action=\"/territoire/carte\">"));
	assert_false(has(s, "<script>alert"));
	resp_free(&r);

	get(NULL, "/territoire/carte?epci=" CRESTOIS "&couche=acteurs&type=ccas", &r);
	assert_int_equal(r.status, 200);
	svg = svg_of(buf_str(&r.body), "carte");
	assert_non_null(svg);
	size_t ccas = count(svg, "class=\"acteur\"");
	assert_true(ccas > 0 && ccas < all);
	free(svg);
	resp_free(&r);

	const char *layers[] = {"services", "couverture", "accessibilite", "communes"};
	for (size_t i = 0; i < 4; i++) {
		char path[128];
		snprintf(path, sizeof path, "/territoire/carte?departement=26&couche=%s",
		         layers[i]);
		get(NULL, path, &r);
		assert_int_equal(r.status, 200);
		svg = svg_of(buf_str(&r.body), "carte");
		assert_non_null(svg);
		assert_well_formed(svg);
		free(svg);
		resp_free(&r);
	}

	static const struct {
		const char *q;
		long status;
		const char *text;
	} bad[] = {
	    {"epci=12345", 400, "mal formé"},
	    {"epci=%3Cscript%3E", 400, "mal formé"},
	    {"epci=999999999", 404, "aucune commune"},
	    {"departement=ZZZ", 400, "mal formé"},
	    {"departement=99", 404, "aucune commune"},
	    {"couche=satellite", 400, "Couche inconnue"},
	    {"type=pirate", 400, "acteur inconnu"},
	    {"thematique=%27%20OR%201%3D1%20--", 400, "Thématique inconnue"},
	    {"service=XYZ", 400, "Type de service inconnu"},
	    {"plan=abc", 400, "mal formé"},
	    {"plan=900", 404, ""},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char path[160];
		snprintf(path, sizeof path, "/territoire/carte?%s", bad[i].q);
		get(NULL, path, &r);
		if (r.status != bad[i].status || !has(buf_str(&r.body), bad[i].text))
			fail_msg("%s: status %ld", path, r.status);
		resp_free(&r);
	}
	/* The private plan's map is visible to an administrator. */
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "admin@demo.maillage.fr", "maillage-demo"), 303);
	get(c, "/territoire/carte?plan=900", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	client_free(c);
}

static void test_synthesis_page(void **state)
{
	(void)state;
	struct resp r = {0};
	get(NULL, "/territoire/synthese?epci=" CRESTOIS, &r);
	assert_int_equal(r.status, 200);
	const char *s = buf_str(&r.body);
	/* Its 14 communes, each in the coverage table. */
	struct db *db = th_db(&T);
	struct db_stmt *st =
	    db_queryf(db, "SELECT name FROM communes WHERE epci = ? ORDER BY name", "s", CRESTOIS);
	size_t n = 0;
	const char *cov = strstr(s, "<caption>Taux de couverture EAJE (0-2 ans) par commune");
	assert_non_null(cov);
	const char *cov_end = strstr(cov, "</table>");
	assert_non_null(cov_end);
	while (st && db_step(st) == DB_ROW) {
		struct buf needle = {0};
		html_printf(&needle, ">%s</a></th>", db_col_text(st, 0));
		const char *hit = strstr(cov, buf_str(&needle));
		if (!hit || hit > cov_end)
			fail_msg("commune %s missing from the coverage table", db_col_text(st, 0));
		buf_free(&needle);
		n++;
	}
	db_finalize(st);
	db_close(db);
	assert_int_equal(n, 14);
	assert_true(has(s, "<h1>Lecture consolidée : "));
	assert_true(has(s, "Communes sous le seuil"));
	assert_true(has(s, "Population par tranche d"));
	assert_true(has(s, "Accessibilité aux EAJE par commune (20 minutes)"));
	assert_true(has(s, "Communes non couvertes ("));
	assert_true(has(s, "Besoins du territoire"));
	assert_true(has(s, "href=\"/acteurs?epci=" CRESTOIS "\""));
	assert_true(has(s, "Convention territoriale globale du Crestois"));
	assert_false(has(s, "Plan confidentiel du Crestois"));
	assert_false(has(s, "<script>alert"));
	assert_true(has(s, "<caption>Besoins par thématique"));
	assert_true(has(s, "non couvert</strong>"));
	const char *ids[] = {"carte-acc", "carte-couv", "pop", "offre", "couv", "besoins"};
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
		char *svg = svg_of(s, ids[i]);
		if (!svg)
			fail_msg("chart %s missing", ids[i]);
		assert_well_formed(svg);
		free(svg);
	}
	assert_false(has(s, " style=\""));
	resp_free(&r);

	/* An administrator sees the private plan. */
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "admin@demo.maillage.fr", "maillage-demo"), 303);
	get(c, "/territoire/synthese?epci=" CRESTOIS, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(buf_str(&r.body), "Plan confidentiel du Crestois"));
	resp_free(&r);
	client_free(c);
	/* A reader of the Crestois CTG is not a member of the private plan. */
	c = client_new(&T);
	assert_int_equal(client_login(c, "lecture@demo.maillage.fr", "maillage-demo"), 303);
	get(c, "/territoire/synthese?epci=" CRESTOIS, &r);
	assert_int_equal(r.status, 200);
	assert_false(has(buf_str(&r.body), "Plan confidentiel du Crestois"));
	resp_free(&r);
	client_free(c);

	get(NULL, "/territoire/synthese?departement=26", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	get(NULL, "/territoire/synthese?commune=26108", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(buf_str(&r.body), "Crest"));
	resp_free(&r);

	static const struct {
		const char *q;
		long status;
		const char *text;
	} bad[] = {
	    {"", 400, "Indiquez un territoire"},   {"epci=abc", 400, "mal formé"},
	    {"epci=2000405091", 400, "mal formé"}, {"epci=%27%20OR%201%3D1%20--", 400, "mal formé"},
	    {"epci=999999999", 404, "existe pas"}, {"departement=%3Cb%3E", 400, "mal formé"},
	    {"departement=98", 404, "existe pas"}, {"commune=123", 400, "mal formé"},
	    {"commune=99999", 404, "existe pas"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char path[160];
		snprintf(path, sizeof path, "/territoire/synthese?%s", bad[i].q);
		get(NULL, path, &r);
		if (r.status != bad[i].status || !has(buf_str(&r.body), bad[i].text))
			fail_msg("%s: status %ld", path, r.status);
		resp_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_checker_catches_errors),
	    cmocka_unit_test(test_projection),
	    cmocka_unit_test(test_placed_hollow),
	    cmocka_unit_test(test_actor_layer_filters_and_escaping),
	    cmocka_unit_test(test_class_layers),
	    cmocka_unit_test(test_map_page),
	    cmocka_unit_test(test_synthesis_page),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
