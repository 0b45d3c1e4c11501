/* test_svg: the server-side charts — well-formed SVG (checked by a small parser here and by
 * xmllint when present), escaped labels, title and description, data tables, no style
 * attribute or script, French numbers and dates, percentages that add up to 100. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' ]]>";

/* A tiny XML well-formedness check: balanced tags, quoted attributes, known entities. Returns
 * NULL when fine, else a static reason. */
static const char *xml_check(const char *s)
{
	char stack[64][32];
	int depth = 0;
	for (const char *p = s; *p;) {
		if (*p == '&') {
			const char *end = strchr(p, ';');
			if (!end || end - p > 8)
				return "bad entity";
			if (strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
			    strncmp(p, "&amp;", 5) && strncmp(p, "&quot;", 6) &&
			    strncmp(p, "&#39;", 5))
				return "unknown entity";
			p = end + 1;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		if (p[1] == '/') {
			const char *end = strchr(p, '>');
			if (!end || !depth)
				return "unbalanced close";
			size_t n = (size_t)(end - p - 2);
			depth--;
			if (strlen(stack[depth]) != n || strncmp(stack[depth], p + 2, n))
				return "mismatched close";
			p = end + 1;
			continue;
		}
		/* an opening tag: name, then attributes name="value" */
		p++;
		size_t n = strcspn(p, " />");
		if (!n || n >= 32)
			return "bad tag name";
		char name[32];
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		for (;;) {
			while (*p == ' ')
				p++;
			if (*p == '>' || (p[0] == '/' && p[1] == '>'))
				break;
			size_t an = strcspn(p, "= >");
			if (!an || p[an] != '=' || p[an + 1] != '"')
				return "unquoted attribute";
			const char *close = strchr(p + an + 2, '"');
			if (!close)
				return "unterminated attribute";
			for (const char *q = p + an + 2; q < close; q++)
				if (*q == '<')
					return "< in attribute";
			p = close + 1;
		}
		if (*p == '/') {
			p += 2;
		} else {
			if (depth == 64)
				return "too deep";
			snprintf(stack[depth++], 32, "%s", name);
			p++;
		}
	}
	return depth ? "unclosed element" : NULL;
}

/* Run xmllint on the text when it is installed; 1 when it parses, 0 when not, -1 absent. */
static int xmllint_ok(const char *s)
{
	if (access("/usr/bin/xmllint", X_OK) != 0)
		return -1;
	char path[] = "/tmp/maillage-svg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(s, f);
	fclose(f);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout %s 2>/dev/null", path);
	int rc = system(cmd);
	unlink(path);
	return rc == 0;
}

/* The common checks of one chart. */
static void check_chart(const char *svg, const char *id)
{
	const char *why = xml_check(svg);
	if (why)
		fail_msg("%s: %s\n%s", id, why, svg);
	int lint = xmllint_ok(svg);
	if (lint == 0)
		fail_msg("%s: xmllint refuses it", id);
	assert_non_null(strstr(svg, "role=\"img\""));
	char want[96];
	snprintf(want, sizeof want, "aria-labelledby=\"%s-t %s-d\"", id, id);
	assert_non_null(strstr(svg, want));
	snprintf(want, sizeof want, "<title id=\"%s-t\">", id);
	assert_non_null(strstr(svg, want));
	snprintf(want, sizeof want, "<desc id=\"%s-d\">", id);
	assert_non_null(strstr(svg, want));
	/* CSP: no style attribute, no script, no event handler */
	assert_null(strstr(svg, "style="));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "onload"));
	/* hostile text only escaped */
	assert_null(strstr(svg, "<script>alert"));
}

static void test_percentages_add_up_to_100(void **state)
{
	(void)state;
	int pct[4];
	double a[] = {1, 1, 1};
	svg_percentages(a, 3, pct);
	/* 33.33 each: floors 33 33 33, the point left to the first of the equal remainders */
	assert_int_equal(pct[0], 34);
	assert_int_equal(pct[1], 33);
	assert_int_equal(pct[2], 33);
	/* the Ardèche mid-term review: 14 / 45 / 33 / 8 of 100 actions */
	double b[] = {14, 45, 33, 8};
	svg_percentages(b, 4, pct);
	assert_int_equal(pct[0], 14);
	assert_int_equal(pct[1], 45);
	assert_int_equal(pct[2], 33);
	assert_int_equal(pct[3], 8);
	/* 2/6, 2/6, 1/6, 1/6 = 33.3, 33.3, 16.7, 16.7: floors 33 33 16 16, +1 to the .67s */
	double c[] = {2, 2, 1, 1};
	svg_percentages(c, 4, pct);
	assert_int_equal(pct[0], 33);
	assert_int_equal(pct[1], 33);
	assert_int_equal(pct[2], 17);
	assert_int_equal(pct[3], 17);
	double z[] = {0, 0};
	svg_percentages(z, 2, pct);
	assert_int_equal(pct[0], 0);
	assert_int_equal(pct[1], 0);
}

static void test_french_numbers_and_dates(void **state)
{
	(void)state;
	char out[48];
	svg_number(out, 1234567.891, 2);
	assert_string_equal(out, "1\xe2\x80\xaf"
	                         "234\xe2\x80\xaf"
	                         "567,89");
	svg_number(out, -0.04, 1);
	assert_string_equal(out, "0,0");
	svg_number(out, -12.5, 1);
	assert_string_equal(out, "-12,5");
	svg_number(out, 999, 0);
	assert_string_equal(out, "999");
	double d = svg_days_from_iso("2024-03-01");
	assert_true(d > 19000);
	char iso[16];
	svg_iso_from_days(iso, d);
	assert_string_equal(iso, "2024-03-01");
	svg_date_fr(out, d);
	assert_string_equal(out, "1er mars 2024");
	svg_date_fr(out, svg_days_from_iso("2025-12-31"));
	assert_string_equal(out, "31 décembre 2025");
	assert_true(svg_days_from_iso("2024-13-01") < -1e8);
	assert_true(svg_days_from_iso("n'importe") < -1e8);
	assert_true(svg_days_from_iso(NULL) < -1e8);
}

static void test_bar(void **state)
{
	(void)state;
	const char *labels[] = {HOSTILE, "Petite enfance"};
	double values[] = {12, 3.5};
	struct svg_bar c = {.id = "b1",
	                    .title = HOSTILE,
	                    .desc = "Deux barres",
	                    .labels = labels,
	                    .values = values,
	                    .n = 2,
	                    .unit = "familles",
	                    .decimals = 1};
	struct buf o = {0};
	svg_bar(&o, &c);
	check_chart(buf_str(&o), "b1");
	assert_non_null(strstr(buf_str(&o), "&lt;script&gt;"));
	assert_non_null(strstr(buf_str(&o), "3,5 familles"));
	buf_free(&o);
	/* the figure: chart + table with caption and th scope */
	svg_figure_bar(&o, &c, 0);
	assert_non_null(strstr(buf_str(&o), "<figure class=\"chart\">"));
	assert_non_null(strstr(buf_str(&o), "<caption>&lt;script&gt;"));
	assert_non_null(strstr(buf_str(&o), "<th scope=\"row\">Petite enfance</th>"));
	assert_non_null(strstr(buf_str(&o), "<th scope=\"col\""));
	assert_null(strstr(buf_str(&o), "<script>"));
	buf_free(&o);
}

static void test_stack(void **state)
{
	(void)state;
	const char *rows[] = {"Ensemble du plan", HOSTILE, "Axe vide"};
	const char *segs[] = {"Achevée", "Bien engagée", "Peu engagée", "Non engagée"};
	/* 14 / 45 / 33 / 8; then 1 / 1 / 1 / 0; then nothing */
	double counts[] = {14, 45, 33, 8, 1, 1, 1, 0, 0, 0, 0, 0};
	static const int fl[] = {3, 2, 1, 0};
	struct svg_stack c = {.id = "s1",
	                      .title = "Avancement",
	                      .desc = "Trois barres",
	                      .rows = rows,
	                      .nrows = 3,
	                      .segments = segs,
	                      .nseg = 4,
	                      .counts = counts,
	                      .row_head = "Élément",
	                      .total_unit = "fiches suivies",
	                      .empty_text = "aucune fiche suivie",
	                      .fills = fl};
	struct buf o = {0};
	svg_figure_stack(&o, &c, 1);
	const char *s = buf_str(&o);
	/* the chart alone is well-formed; the figure too */
	const char *end = strstr(s, "</svg>");
	assert_non_null(end);
	char *svg = strndup(strstr(s, "<svg"), (size_t)(end + 6 - strstr(s, "<svg")));
	check_chart(svg, "s1");
	free(svg);
	assert_null(xml_check(s));
	assert_non_null(strstr(s, ">14\xe2\x80\xaf%</text>"));
	assert_non_null(strstr(s, ">45\xe2\x80\xaf%</text>"));
	assert_non_null(strstr(s, "aucune fiche suivie"));
	/* table: 34 % (1) for the first of three equal parts */
	assert_non_null(strstr(s, "34\xe2\x80\xaf% <span class=\"muted\">(1)</span>"));
	assert_non_null(strstr(s, "<details class=\"chart-data\">"));
	assert_non_null(strstr(s, "<th scope=\"row\">&lt;script&gt;"));
	buf_free(&o);
}

static void test_line(void **state)
{
	(void)state;
	struct svg_point pts[] = {{svg_days_from_iso("2023-03-31"), 110},
	                          {svg_days_from_iso("2023-06-30"), 130},
	                          {svg_days_from_iso("2024-03-31"), 170}};
	struct svg_point traj[] = {{svg_days_from_iso("2023-01-01"), 100},
	                           {svg_days_from_iso("2023-12-31"), 150},
	                           {svg_days_from_iso("2024-12-31"), 200}};
	struct svg_series s = {HOSTILE, pts, 3};
	struct svg_line c = {.id = "l1",
	                     .title = "Familles accompagnées",
	                     .desc = "Trois mesures",
	                     .series = &s,
	                     .nseries = 1,
	                     .target = traj,
	                     .ntarget = 3,
	                     .band_dir = 1,
	                     .unit = "familles",
	                     .decimals = 0};
	struct buf o = {0};
	svg_line(&o, &c);
	check_chart(buf_str(&o), "l1");
	assert_non_null(strstr(buf_str(&o), ">2024</text>"));
	assert_non_null(strstr(buf_str(&o), "Trajectoire des cibles"));
	buf_free(&o);
	svg_figure_line(&o, &c, 0);
	/* one row per date, values and targets in their columns */
	assert_non_null(strstr(buf_str(&o), "<th scope=\"row\">31 mars 2024</th>"));
	assert_non_null(strstr(buf_str(&o), "170\xc2\xa0"
	                                    "familles"));
	assert_non_null(strstr(buf_str(&o), "Référence et cibles"));
	assert_null(xml_check(buf_str(&o)));
	buf_free(&o);
	/* nothing to draw: still a valid chart with a message */
	struct svg_line e = {.id = "l2", .title = "Vide", .desc = "Rien"};
	svg_line(&o, &e);
	check_chart(buf_str(&o), "l2");
	assert_non_null(strstr(buf_str(&o), "Aucune valeur"));
	buf_free(&o);
}

static void test_donut_and_radar(void **state)
{
	(void)state;
	const char *labels[] = {"Dans la trajectoire", HOSTILE, "Non évalués"};
	double values[] = {3, 1, 0};
	struct svg_donut d = {.id = "d1",
	                      .title = "Indicateurs",
	                      .desc = "Trois parts",
	                      .labels = labels,
	                      .values = values,
	                      .n = 3,
	                      .center = "4 indicateurs"};
	struct buf o = {0};
	svg_donut(&o, &d);
	check_chart(buf_str(&o), "d1");
	assert_non_null(strstr(buf_str(&o), "(75\xe2\x80\xaf%)"));
	buf_free(&o);
	/* a single category: a full ring */
	double one[] = {5, 0, 0};
	d.values = one;
	svg_figure_donut(&o, &d, 0);
	assert_null(xml_check(buf_str(&o)));
	assert_non_null(strstr(buf_str(&o), "<tfoot>"));
	buf_free(&o);

	const char *axes[] = {"Accueil", "Animation", "Coordination", HOSTILE, "Observation"};
	const char *series[] = {"2023", "2024"};
	double v[] = {1, 2, 3, 4, 2, 2, 3, 3, 4, 4};
	struct svg_radar r = {.id = "r1",
	                      .title = "Grille mailleur",
	                      .desc = "Deux années",
	                      .axes = axes,
	                      .naxes = 5,
	                      .series_labels = series,
	                      .values = v,
	                      .nseries = 2,
	                      .max = 4};
	svg_figure_radar(&o, &r, 0);
	const char *s = buf_str(&o);
	assert_null(xml_check(s));
	assert_non_null(strstr(s, "<polygon"));
	assert_non_null(strstr(s, "<th scope=\"row\">Coordination</th>"));
	assert_null(strstr(s, "<script>"));
	buf_free(&o);
	/* fewer than three axes: a message, still valid */
	r.naxes = 2;
	r.id = "r2";
	svg_radar(&o, &r);
	check_chart(buf_str(&o), "r2");
	buf_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percentages_add_up_to_100),
	    cmocka_unit_test(test_french_numbers_and_dates),
	    cmocka_unit_test(test_bar),
	    cmocka_unit_test(test_stack),
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_donut_and_radar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
