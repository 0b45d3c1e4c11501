/* test_csv_fr: the French CSV writer (csv_fr.h): BOM, ';', CRLF, quoting, formula guard and its
 * exact inverse, decimal comma. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "csv_fr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_buf(struct buf *b, const char *want)
{
	const char *got = buf_str(b);
	if (strcmp(got, want))
		fail_msg("expected [%s], got [%s]", want, got);
}

static void test_row_and_quoting(void **state)
{
	(void)state;
	struct buf b = {0};
	struct csv_out w;
	csv_out_begin(&w, &b);
	static const char *const head[] = {"code", "nom"};
	csv_out_header(&w, head, 2);
	csv_out_value(&w, "26108");
	csv_out_text(&w, "Saint-Jean; \"le\" bourg");
	csv_out_text(&w, "deux\nlignes");
	csv_out_text(&w, " bord ");
	csv_out_text(&w, NULL);
	csv_out_empty(&w);
	csv_out_row_end(&w);
	expect_buf(&b, "\xEF\xBB\xBF"
	               "code;nom\r\n"
	               "26108;\"Saint-Jean; \"\"le\"\" bourg\";\"deux\nlignes\";\" bord \";;\r\n");
	buf_free(&b);
}

static void test_formula_guard(void **state)
{
	(void)state;
	struct buf b = {0};
	struct csv_out w;
	csv_out_attach(&w, &b);
	csv_out_text(&w, "=HYPERLINK(\"x\")");
	csv_out_text(&w, "@SUM(1)");
	csv_out_text(&w, "+33");
	csv_out_text(&w, "- item");
	csv_out_text(&w, "\tx");
	csv_out_text(&w, "'=x");
	csv_out_text(&w, "'ok");
	csv_out_value(&w, "-3");
	csv_out_row_end(&w);
	expect_buf(&b, "\"'=HYPERLINK(\"\"x\"\")\";'@SUM(1);'+33;'- item;'\tx;''=x;'ok;-3\r\n");
	buf_free(&b);

	/* csv_fr_unguard is the exact inverse of the guard. */
	const char *samples[] = {"=x", "'=x", "''=x", "'ok", "ok", "-", "'", "", "@", "'\t"};
	for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
		const char *s = samples[i];
		char guarded[16];
		snprintf(guarded, sizeof guarded, "%s%s", csv_fr_needs_guard(s) ? "'" : "", s);
		assert_string_equal(csv_fr_unguard(guarded), s);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	struct buf b = {0};
	struct csv_out w;
	csv_out_attach(&w, &b);
	csv_out_number(&w, 12.5, 2);
	csv_out_number(&w, 3, 0);
	csv_out_number(&w, NAN, 2);
	csv_out_decimal(&w, 12.5, 3);
	csv_out_decimal(&w, 4.0, 3);
	csv_out_decimal(&w, -0.0001, 3);
	csv_out_decimal(&w, NAN, 3);
	csv_out_int(&w, -42);
	csv_out_row_end(&w);
	expect_buf(&b, "12,50;3;;12,5;4;0;;-42\r\n");
	buf_free(&b);
}

/* Read all of text into "f1|f2/L:C,…\n" lines; the error as "E L:C". */
static char *read_all(const char *text, char delim)
{
	struct csv_in in;
	struct buf b = {0};
	assert_int_equal(csv_in_open(&in, text, strlen(text), delim), 0);
	int rc;
	while ((rc = csv_in_next(&in)) > 0) {
		buf_printf(&b, "%d:", in.line);
		for (size_t i = 0; i < in.n; i++)
			buf_printf(&b, "%s[%s]%d.%d", i ? "," : "", in.field[i], in.field_line[i],
			           in.column[i]);
		buf_putc(&b, '\n');
	}
	if (rc < 0)
		buf_printf(&b, "E%d %d:%d f%d", (int)in.error, in.err_line, in.err_column,
		           in.err_field);
	csv_in_close(&in);
	buf_puts(&b, "");
	return buf_steal(&b);
}

static void expect_read(const char *text, char delim, const char *want)
{
	char *got = read_all(text, delim);
	if (strcmp(got, want))
		fail_msg("reading [%s]: expected\n%s\ngot\n%s", text, want, got);
	free(got);
}

static void test_reader(void **state)
{
	(void)state;
	expect_read("\xEF\xBB\xBF"
	            "a;bé;c\r\n\r\n\"x;\ny\";\"q\"\"\";z\r\nlast",
	            0,
	            "1:[a]1.1,[bé]1.3,[c]1.6\n"
	            "3:[x;\ny]3.1,[q\"]4.4,[z]4.10\n"
	            "5:[last]5.1\n");
	expect_read("a, b ,c\n", 0, "1:[a]1.1,[b]1.4,[c]1.7\n");
	expect_read("a\tb c\n", 0, "1:[a]1.1,[b c]1.3\n");
	expect_read("a;;\n", ';', "1:[a]1.1,[]1.3,[]1.4\n");
	expect_read("ok\né;\"a\"b\n", 0, "1:[ok]1.1\nE1 2:6 f2");
	expect_read("ok\nab\"c\n", 0, "1:[ok]1.1\nE1 2:3 f1");
	expect_read("ok\nx;\"open\nnever", 0, "1:[ok]1.1\nE2 2:3 f2");
	expect_read("", 0, "");
	expect_read("\n\r\n", 0, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_row_and_quoting),
	    cmocka_unit_test(test_formula_guard),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
