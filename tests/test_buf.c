/* test_buf: the escaping discipline (html_printf), URL encoding and UTF-8 validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"

#include <stdlib.h>
#include <string.h>

static void test_html_escapes_by_default(void **state)
{
	(void)state;
	struct buf b = {0};
	html_printf(&b, "<p title=\"%s\">%s</p>", "a\"b'c", "<script>alert('x') && 1</script>");
	assert_string_equal(buf_str(&b),
	                    "<p title=\"a&quot;b&#39;c\">&lt;script&gt;alert(&#39;x&#39;) "
	                    "&amp;&amp; 1&lt;/script&gt;</p>");
	buf_free(&b);
}

static void test_raw_and_numbers(void **state)
{
	(void)state;
	struct buf b = {0};
	html_printf(&b, "%R|%d|%ld|%lld|%zu|%.1f|%.0f|%%|%s", "<b>ok</b>", -3, 40L, 5000000000LL,
	            (size_t)7, 14.25, 2.6, NULL);
	assert_string_equal(buf_str(&b), "<b>ok</b>|-3|40|5000000000|7|14,2|3|%|");
	buf_free(&b);
}

static void test_url_component(void **state)
{
	(void)state;
	struct buf b = {0};
	html_printf(&b, "<a href=\"/communes?q=%u\">", "Saint-Étienne & \"x\"/y");
	assert_string_equal(buf_str(&b),
	                    "<a href=\"/communes?q=Saint-%C3%89tienne%20%26%20%22x%22%2Fy\">");
	buf_free(&b);
}

static void test_buf_growth_and_steal(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, 'x');
	assert_int_equal(b.len, 10000);
	char *s = buf_steal(&b);
	assert_int_equal(strlen(s), 10000);
	assert_null(b.data);
	free(s);
	buf_printf(&b, "%05d", 42);
	assert_string_equal(buf_str(&b), "00042");
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void test_utf8_validation(void **state)
{
	(void)state;
	const char *good[] = {"", "Drôme", "Œuvre « cœur » – 5 €", "日本", "😀", "tab\there\r\n"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		assert_true(utf8_valid_text(good[i], strlen(good[i])));
	const char *bad[] = {
	    "\xc3\x28",         /* invalid continuation */
	    "\xc0\xaf",         /* overlong slash */
	    "\xe0\x80\xaf",     /* overlong */
	    "\xed\xa0\x80",     /* surrogate */
	    "\xf4\x90\x80\x80", /* beyond U+10FFFF */
	    "abc\xc3",          /* truncated */
	    "\xff",             /* never valid */
	    "bell\x07",         /* control character */
	    "del\x7f",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_false(utf8_valid_text(bad[i], strlen(bad[i])));
	assert_false(utf8_valid_text("a\0b", 3)); /* NUL inside */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_escapes_by_default),
	    cmocka_unit_test(test_raw_and_numbers),
	    cmocka_unit_test(test_url_component),
	    cmocka_unit_test(test_buf_growth_and_steal),
	    cmocka_unit_test(test_utf8_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
