/* test_pg_search: the search gives the same results on SQLite (FTS5) and on PostgreSQL (tsvector
 * with unaccent) over the demo corpus — the same queries on both servers, the same ids. Runs on
 * PostgreSQL only (MAILLAGE_TEST_PG). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct th PG, SQ;

static int setup(void **state)
{
	(void)state;
	if (!th_is_pg()) {
		fprintf(stderr, "test_pg_search: MAILLAGE_TEST_PG is not set\n");
		return -1;
	}
	th_start(&PG, 1);
	char *saved = xstrdup(getenv("MAILLAGE_TEST_PG"));
	unsetenv("MAILLAGE_TEST_PG");
	th_start(&SQ, 1);
	setenv("MAILLAGE_TEST_PG", saved, 1);
	free(saved);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&SQ);
	th_stop(&PG);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The results of one query as sorted "kind:id:title" lines, one string (malloc'ed); *n the count.
 */
static char *results(struct client *c, const char *q, int *n)
{
	struct buf path = {0};
	buf_puts(&path, "/api/v1/search?q=");
	buf_url(&path, q);
	struct resp r;
	client_get(c, buf_str(&path), &r);
	buf_free(&path);
	if (r.status == 400) { /* no word in the query: the same answer expected from both */
		resp_free(&r);
		*n = 0;
		return xstrdup("400");
	}
	assert_int_equal(r.status, 200);
	json_error_t e;
	json_t *o = json_loads(buf_str(&r.body), 0, &e);
	assert_non_null(o);
	json_t *items = json_object_get(o, "items");
	size_t count = json_array_size(items);
	char **lines = xcalloc(count + 1, sizeof *lines);
	for (size_t i = 0; i < count; i++) {
		json_t *it = json_array_get(items, i);
		lines[i] = xasprintf("%s:%lld:%s", json_string_value(json_object_get(it, "kind")),
		                     (long long)json_integer_value(json_object_get(it, "id")),
		                     json_string_value(json_object_get(it, "title")));
	}
	qsort(lines, count, sizeof *lines, cmp_str);
	struct buf all = {0};
	for (size_t i = 0; i < count; i++) {
		buf_puts(&all, lines[i]);
		buf_putc(&all, '\n');
		free(lines[i]);
	}
	free(lines);
	json_decref(o);
	resp_free(&r);
	*n = (int)count;
	return all.data ? buf_steal(&all) : xstrdup("");
}

static const char *const queries[] = {
    "enfance",       "Enfance",       "ENFANCE",   "parentalité",  "parentalite", "PARENTALITE",
    "accès droits",  "acces aux",     "numérique", "numeri",       "jeun",        "petite enfance",
    "l’accès",       "l'accès",       "école",     "ecol",         "logement",    "social",
    "centre social", "animation vie", "soutien",   "famille",      "familles",    "crèche",
    "CRECHE",        "Crest",         "crestois",  "Drôme",        "jeunes",      "insertion",
    "mobilité",      "santé",         "handicap",  "coordination", "diagnostic",  "2025",
    "zorglub",       "été",           "«",         "— enfance —",  "saint",       "vie sociale",
};

static void compare(const char *who, struct client *pg, struct client *sq)
{
	int nonempty = 0;
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		int npg = 0, nsq = 0;
		char *a = results(pg, queries[i], &npg);
		char *b = results(sq, queries[i], &nsq);
		/* Fifty is the limit: beyond, the two rankings may keep different fifties. */
		if (npg < 50 || nsq < 50) {
			if (strcmp(a, b) != 0)
				fail_msg(
				    "%s, query « %s »: PostgreSQL gave %d results:\n%s\nSQLite "
				    "gave %d:\n%s",
				    who, queries[i], npg, a, nsq, b);
		}
		nonempty += nsq > 0;
		free(a);
		free(b);
	}
	/* The comparison means something only if most queries find things. */
	assert_true(nonempty >= 20);
}

static void test_same_results_anonymous(void **state)
{
	(void)state;
	struct client *pg = client_new(&PG), *sq = client_new(&SQ);
	compare("anonymous", pg, sq);
	client_free(pg);
	client_free(sq);
}

static void test_same_results_admin(void **state)
{
	(void)state;
	struct client *pg = client_new(&PG), *sq = client_new(&SQ);
	assert_int_equal(client_login(pg, "admin@demo.maillage.fr", "maillage-demo"), 303);
	assert_int_equal(client_login(sq, "admin@demo.maillage.fr", "maillage-demo"), 303);
	compare("admin", pg, sq);
	client_free(pg);
	client_free(sq);
}

/* The index follows writes on PostgreSQL too (triggers): rename a node, find it, not the old. */
static void test_index_follows_writes(void **state)
{
	(void)state;
	struct db *db = th_db(&PG);
	assert_int_equal(db_execf(db,
	                          "UPDATE nodes SET title = 'Zébulon des crèches' WHERE id = "
	                          "(SELECT MIN(id) FROM nodes)",
	                          ""),
	                 DB_OK);
	db_close(db);
	struct client *pg = client_new(&PG);
	assert_int_equal(client_login(pg, "admin@demo.maillage.fr", "maillage-demo"), 303);
	int n = 0;
	char *a = results(pg, "zebulon", &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(a, "Zébulon des crèches"));
	free(a);
	a = results(pg, "zébu", &n);
	assert_int_equal(n, 1);
	free(a);
	client_free(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_results_anonymous),
	    cmocka_unit_test(test_same_results_admin),
	    cmocka_unit_test(test_index_follows_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
