/* test_report: the bilan of the demo CTG as PDF (opened and read back with poppler's pdftotext,
 * its pages rendered to PNG with pdftoppm), as XLSX (a zip holding one sheet per level), the
 * renderer's failures answered in French, the newsletter, and the command-line entry points. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "report.h"
#include "util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct th T;
static int64_t ctg; /* the Crestois CTG of the demo */
static int year;    /* a year of its period */
static char dir[300];

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	assert_int_equal(
	    db_int64f(db, &ctg, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", ""), DB_OK);
	int64_t y0 = 0;
	assert_int_equal(db_int64f(db, &y0, "SELECT start_year FROM plans WHERE id = ?", "I", ctg),
	                 DB_OK);
	year = (int)y0 + 1;
	db_close(db);
	snprintf(dir, sizeof dir, "%s/report", T.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static void save(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	fclose(f);
}

static int tool(const char *name)
{
	char path[64];
	snprintf(path, sizeof path, "/usr/bin/%s", name);
	return access(path, X_OK) == 0;
}

/* Run a command line built from trusted parts (test paths); its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void test_pdf_of_the_demo_ctg(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	struct buf pdf = {0};
	char *err = NULL;
	int64_t t0 = time_mono_us();
	if (report_bilan(db, ctg, year, REPORT_PDF, &pdf, &err))
		fail_msg("PDF: %s", err);
	double secs = (double)(time_mono_us() - t0) / 1e6;
	db_close(db);
	print_message("bilan PDF of the demo CTG: %zu bytes in %.2f s\n", pdf.len, secs);
	assert_true(pdf.len > 10000);
	assert_memory_equal(pdf.data, "%PDF", 4);
	char path[400];
	snprintf(path, sizeof path, "%s/bilan.pdf", dir);
	save(path, &pdf);
	buf_free(&pdf);
	if (!tool("pdftotext") || !tool("pdftoppm")) {
		/* scripts/bootstrap.sh --test installs poppler-utils */
		fail_msg("pdftotext and pdftoppm are needed (poppler-utils)");
	}
	/* the sections read back from the PDF */
	assert_int_equal(run("/usr/bin/pdftotext -enc UTF-8 %s %s/bilan.txt", path, dir), 0);
	char txt[400];
	snprintf(txt, sizeof txt, "%s/bilan.txt", dir);
	size_t n = 0;
	char *text = file_read_all(txt, &n);
	assert_non_null(text);
	char want[32];
	snprintf(want, sizeof want, "Bilan %d", year);
	const char *sections[] = {want,
	                          "Crestois",
	                          "Chiffres clés",
	                          "fiches suivies",
	                          "Répartition de l'avancement",
	                          "Règle de calcul",
	                          "Petite enfance",
	                          "Jeunesse",
	                          "Statut",
	                          "Avancement",
	                          NULL};
	/* (labels of facts are printed upper-case by the stylesheet: compare without case) */
	for (const char *const *s = sections; *s; s++)
		if (!strcasestr(text, *s)) {
			free(text);
			fail_msg("the PDF lacks « %s »", *s);
		}
	free(text);
	/* every page renders to PNG */
	char pages[400];
	snprintf(pages, sizeof pages, "%s/pages", dir);
	assert_int_equal(mkdir(pages, 0700), 0);
	assert_int_equal(run("/usr/bin/pdftoppm -r 20 -png %s %s/page", path, pages), 0);
	DIR *d = opendir(pages);
	assert_non_null(d);
	int pngs = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".png"))
			continue;
		char p[700];
		snprintf(p, sizeof p, "%s/%s", pages, e->d_name);
		size_t len = 0;
		char *png = file_read_all(p, &len);
		assert_non_null(png);
		assert_true(len > 100);
		assert_memory_equal(png, "\x89PNG", 4);
		free(png);
		pngs++;
	}
	closedir(d);
	print_message("%d pages rendered to PNG\n", pngs);
	assert_true(pngs >= 5); /* a cover, the figures, one section per thématique at least */
}

static void test_pdf_over_http(void **state)
{
	(void)state;
	char path[96];
	snprintf(path, sizeof path, "/plans/%lld/bilan/%d.pdf", (long long)ctg, year);
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "coordination@demo.maillage.fr", "maillage-demo"), 303);
	struct resp r;
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	char *ct = resp_get_header(&r, "Content-Type");
	assert_string_equal(ct, "application/pdf");
	free(ct);
	char *cd = resp_get_header(&r, "Content-Disposition");
	assert_non_null(strstr(cd, "attachment; filename=\"bilan-"));
	free(cd);
	assert_memory_equal(r.body.data, "%PDF", 4);
	resp_free(&r);
	snprintf(path, sizeof path, "/plans/%lld/revue-mi-parcours.xlsx", (long long)ctg);
	client_get(c, path, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body.data, "PK\x03\x04", 4);
	resp_free(&r);
	client_free(c);
	/* a visitor is sent to the login page; nothing is rendered */
	c = client_new(&T);
	snprintf(path, sizeof path, "/plans/%lld/bilan/%d.pdf", (long long)ctg, year);
	client_get(c, path, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_free(c);
}

static void test_renderer_failures_are_explained(void **state)
{
	(void)state;
	const char *html = "<!doctype html><title>x</title><p>x</p>";
	struct buf pdf = {0};
	char *err = NULL;
	setenv("MAILLAGE_CHROMIUM", "/nonexistent/chromium", 1);
	assert_int_equal(report_pdf_render(html, strlen(html), &pdf, &err), -1);
	assert_non_null(strstr(err, "n'a pas pu être lancé"));
	free(err);
	err = NULL;
	setenv("MAILLAGE_CHROMIUM", "/bin/false", 1);
	assert_int_equal(report_pdf_render(html, strlen(html), &pdf, &err), -1);
	assert_non_null(strstr(err, "a échoué"));
	free(err);
	unsetenv("MAILLAGE_CHROMIUM");
	assert_int_equal(pdf.len, 0);
	/* and the temporary directories are gone */
	buf_free(&pdf);
}

static void test_xlsx_has_one_sheet_per_level(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	struct buf x = {0};
	char *err = NULL;
	if (report_bilan(db, ctg, year, REPORT_XLSX, &x, &err))
		fail_msg("XLSX: %s", err);
	int64_t levels = 0;
	db_int64f(
	    db, &levels,
	    "SELECT COUNT(DISTINCT n.depth) FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id "
	    "WHERE n.plan_id = ? AND f.node_id IS NULL",
	    "I", ctg);
	db_close(db);
	assert_memory_equal(x.data, "PK\x03\x04", 4);
	/* the names of the zip's members are stored as they are: count the worksheets */
	int sheets = 0;
	for (size_t i = 0; i + 24 < x.len; i++)
		if (!memcmp(x.data + i, "PK\x01\x02", 4) && i + 46 < x.len &&
		    !memcmp(x.data + i + 46, "xl/worksheets/sheet", 19))
			sheets++;
	/* summary + one per level + fiches + indicators */
	assert_int_equal(sheets, 1 + (int)levels + 2);
	char path[400];
	snprintf(path, sizeof path, "%s/bilan.xlsx", dir);
	save(path, &x);
	buf_free(&x);
	/* when python3 is there, read the sheets: names, numbers stored as numbers, frozen row */
	if (access("/usr/bin/python3", X_OK) == 0) {
		char script[400];
		snprintf(script, sizeof script, "%s/check.py", dir);
		FILE *f = fopen(script, "w");
		fputs("import sys, zipfile, re\n"
		      "z = zipfile.ZipFile(sys.argv[1])\n"
		      "wb = z.read('xl/workbook.xml').decode()\n"
		      "names = re.findall(r'<sheet name=\"([^\"]+)\"', wb)\n"
		      "assert names[0] == 'Synthèse', names\n"
		      "assert 'Fiches-actions' in names and 'Indicateurs' in names, names\n"
		      "s1 = z.read('xl/worksheets/sheet1.xml').decode()\n"
		      "assert 'ySplit=\"1\"' in s1, 'header not frozen'\n"
		      "assert re.search(r'<c r=\"B3\"[^>]*><v>[0-9]+</v>', s1), 'count not a "
		      "number'\n"
		      "styles = z.read('xl/styles.xml').decode()\n"
		      "assert '<b/>' in styles, 'no bold header'\n",
		      f);
		fclose(f);
		assert_int_equal(run("/usr/bin/python3 %s %s", script, path), 0);
	}
}

static void test_letter(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	/* a plan with a hostile title: escaped in the e-mail */
	int64_t hostile = 0;
	assert_int_equal(
	    db_int64f(db, &hostile,
	              "INSERT INTO plans (kind, title, start_year, end_year, is_public, "
	              "created_at, updated_at) VALUES ('autre', ?, 2024, 2025, 0, "
	              "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z') RETURNING id",
	              "s", "<script>alert(1)</script> & Cie"),
	    DB_OK);
	struct buf out = {0};
	char *err = NULL;
	assert_int_equal(
	    report_letter(db, hostile, "2024-01-01", "2024-03-31", LETTER_HTML, &out, &err), 0);
	assert_null(strstr(buf_str(&out), "<script"));
	assert_non_null(strstr(buf_str(&out), "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie"));
	assert_non_null(strstr(buf_str(&out), "style=\""));
	assert_non_null(strstr(buf_str(&out), "Rien de nouveau sur cette période."));
	buf_free(&out);
	/* the demo CTG today: its fiches were created by the demo loader, so they are new */
	char today[16], from[16];
	time_t now = time(NULL);
	strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
	now -= 24 * 3600;
	strftime(from, sizeof from, "%Y-%m-%d", gmtime(&now));
	assert_int_equal(report_letter(db, ctg, from, today, LETTER_TEXT, &out, &err), 0);
	assert_non_null(strstr(buf_str(&out), "LETTRE TRIMESTRIELLE"));
	assert_non_null(strstr(buf_str(&out), "Où en sommes-nous ?"));
	buf_free(&out);
	/* bad periods */
	assert_int_equal(
	    report_letter(db, ctg, "2024-04-01", "2024-01-01", LETTER_TEXT, &out, &err), -1);
	assert_non_null(strstr(err, "période"));
	free(err);
	err = NULL;
	assert_int_equal(report_letter(db, ctg, "hier", "2024-01-01", LETTER_TEXT, &out, &err), -1);
	free(err);
	buf_free(&out);
	db_close(db);
}

static void test_command_line(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	char plan[32], y[16], path[400];
	snprintf(plan, sizeof plan, "%lld", (long long)ctg);
	snprintf(y, sizeof y, "%d", year);
	snprintf(path, sizeof path, "%s/cli-bilan.html", dir);
	assert_int_equal(report_cli_bilan(db, plan, y, "html", path), 0);
	size_t n = 0;
	char *html = file_read_all(path, &n);
	assert_non_null(html);
	char want[48];
	snprintf(want, sizeof want, "<h1>Bilan %d</h1>", year);
	assert_non_null(strstr(html, want));
	assert_non_null(strstr(html, "Content-Security-Policy"));
	free(html);
	/* refusals */
	assert_int_equal(report_cli_bilan(db, plan, y, "docx", path), 1);
	assert_int_equal(report_cli_bilan(db, "999999", y, "html", path), 1);
	assert_int_equal(report_cli_bilan(db, plan, "1850", "html", path), 1);
	assert_int_equal(report_cli_bilan(db, plan, y, "html", NULL), 1);
	snprintf(path, sizeof path, "%s/lettre.txt", dir);
	assert_int_equal(report_cli_newsletter(db, plan, "2024-01-01", "2024-03-31", NULL, path),
	                 0);
	char *txt = file_read_all(path, &n);
	assert_non_null(strstr(txt, "LETTRE TRIMESTRIELLE"));
	free(txt);
	assert_int_equal(report_cli_newsletter(db, plan, "2024-05-01", "2024-03-31", NULL, path),
	                 1);
	assert_int_equal(report_cli_newsletter(db, plan, NULL, "2024-03-31", NULL, path), 1);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pdf_of_the_demo_ctg),
	    cmocka_unit_test(test_pdf_over_http),
	    cmocka_unit_test(test_renderer_failures_are_explained),
	    cmocka_unit_test(test_xlsx_has_one_sheet_per_level),
	    cmocka_unit_test(test_letter),
	    cmocka_unit_test(test_command_line),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
