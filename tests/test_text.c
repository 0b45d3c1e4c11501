/* test_text: search keys (text_fold) and LIKE patterns (text_like_pattern). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "text.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* text_fold(in) must be exactly `want`. */
static void expect_fold(const char *in, const char *want)
{
	char *got = text_fold(in);
	assert_non_null(got);
	if (strcmp(got, want))
		fail_msg("text_fold(\"%s\"): expected \"%s\", got \"%s\"", in ? in : "(null)", want,
		         got);
	free(got);
}

static void expect_pattern(const char *prefix, const char *s, const char *suffix, const char *want)
{
	char *got = text_like_pattern(prefix, s, suffix);
	assert_non_null(got);
	if (strcmp(got, want))
		fail_msg("text_like_pattern(\"%s\"): expected \"%s\", got \"%s\"", s ? s : "(null)",
		         want, got);
	free(got);
}

static void test_fold_names(void **state)
{
	(void)state;
	expect_fold("Étoile-sur-Rhône", "etoile sur rhone");
	expect_fold("Œuvre  d’ART", "oeuvre d art");
	expect_fold("Caf de la Drôme", "caf de la drome");
	expect_fold("L'Île-d'Abeau", "l ile d abeau");
	expect_fold("Saint-Benoit-en-Diois", "saint benoit en diois");
	expect_fold("Lætitia", "laetitia");
	expect_fold("ÆSOPE", "aesope");
	expect_fold("Centre social – MJC", "centre social mjc"); /* en dash */
	expect_fold("8\xe2\x80\xaf"
	            "658",
	            "8 658");                             /* narrow no-break space */
	expect_fold("Aujourd\xca\xbchui", "aujourd hui"); /* U+02BC apostrophe */
}

static void test_fold_edges(void **state)
{
	(void)state;
	expect_fold("", "");
	expect_fold(NULL, "");
	expect_fold("   ", "");
	expect_fold(" \t\r\n ", "");
	expect_fold("-'’", "");
	expect_fold("  crest  ", "crest");
	expect_fold("a \t\n b", "a b");
	/* Already folded text comes back the same. */
	expect_fold("etoile sur rhone", "etoile sur rhone");
	expect_fold("26400", "26400");
	/* Other characters, ASCII or not, are kept byte for byte. */
	expect_fold("50%_off\\", "50%_off\\");
	expect_fold("Ελλάδα ß", "Ελλάδα ß");
	expect_fold("<script>", "<script>");
}

static void test_fold_every_accented_letter(void **state)
{
	(void)state;
	expect_fold("àâäáãå ÀÂÄÁÃÅ", "aaaaaa aaaaaa");
	expect_fold("çÇ", "cc");
	expect_fold("éèêë ÉÈÊË", "eeee eeee");
	expect_fold("îïíì ÎÏÍÌ", "iiii iiii");
	expect_fold("ñÑ", "nn");
	expect_fold("ôöóòõ ÔÖÓÒÕ", "ooooo ooooo");
	expect_fold("ùûüú ÙÛÜÚ", "uuuu uuuu");
	expect_fold("ÿý ŸÝ", "yy yy");
	expect_fold("œŒæÆ", "oeoeaeae");
	expect_fold("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz");
	/* The result is plain ASCII for French text. */
	char *k = text_fold("Ça, c'est l'Œuvre de Noël à Pâques — où ÎLE-DE-FRANCE ?");
	for (const char *p = k; *p; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_string_equal(k, "ca, c est l oeuvre de noel a paques ou ile de france ?");
	free(k);
}

static void test_like_pattern(void **state)
{
	(void)state;
	expect_pattern("%", "crest", "%", "%crest%");
	expect_pattern("", "crest", "%", "crest%");
	expect_pattern("%", "50%", "", "%50\\%");
	expect_pattern("%", "a_b", "%", "%a\\_b%");
	expect_pattern("%", "c:\\dir", "%", "%c:\\\\dir%");
	expect_pattern("%", "%_\\", "%", "%\\%\\_\\\\%");
	expect_pattern("%", "", "%", "%%");
	expect_pattern(NULL, "x", NULL, "x");
	expect_pattern("%", NULL, "%", "%%");
	/* Quotes are not LIKE metacharacters: bound parameters carry them. */
	expect_pattern("", "' OR 1=1 --", "", "' OR 1=1 --");
}

/* The pattern matches literally in the database, with the key stored by the application. */
static void test_like_pattern_in_sql(void **state)
{
	(void)state;
	char dir[256];
	th_tmpdir(dir, sizeof dir);
	char *path = xasprintf("%s/t.db", dir);
	char *err = NULL;
	struct db *db = db_open(path, &err);
	assert_non_null(db);
	assert_int_equal(
	    db_exec(db, "CREATE TABLE t (name TEXT NOT NULL, search_name TEXT NOT NULL)"), DB_OK);
	const char *names[] = {"Étoile-sur-Rhône", "50% Solidaire", "50 Solidaire", "a_b", "axb",
	                       "c:\\dir"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *key = text_fold(names[i]);
		assert_int_equal(db_execf(db, "INSERT INTO t (name, search_name) VALUES (?, ?)",
		                          "ss", names[i], key),
		                 DB_OK);
		free(key);
	}
	static const struct {
		const char *q;
		int64_t n;
	} cases[] = {{"ETOILE sur", 1}, {"50%", 1}, {"a_b", 1},   {"_", 1},
	             {"%", 1},          {"\\", 1},  {"rhône", 1}, {"zz", 0}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *key = text_fold(cases[i].q);
		char *pattern = text_like_pattern("%", key, "%");
		int64_t n = -1;
		assert_int_equal(
		    db_int64f(db, &n, "SELECT COUNT(*) FROM t WHERE search_name LIKE ? ESCAPE '\\'",
		              "s", pattern),
		    DB_OK);
		if (n != cases[i].n)
			fail_msg("q \"%s\" (pattern \"%s\"): %lld rows, expected %lld", cases[i].q,
			         pattern, (long long)n, (long long)cases[i].n);
		free(pattern);
		free(key);
	}
	db_close(db);
	free(path);
	th_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_names),
	    cmocka_unit_test(test_fold_edges),
	    cmocka_unit_test(test_fold_every_accented_letter),
	    cmocka_unit_test(test_like_pattern),
	    cmocka_unit_test(test_like_pattern_in_sql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
