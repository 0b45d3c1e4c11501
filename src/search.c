/* search: one search box over plans, nodes and fiches-actions, accents folded: SQLite FTS5, or
 * on PostgreSQL a tsvector with unaccent (migrations/postgresql/0002_fiches.sql). */
#include "db.h"
#include "layout.h"
#include "plans.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_MAX_QUERY 200
#define SEARCH_LIMIT     50

/*
 * The length of a typographic separator at p (’ ‘ “ ” « » – — … • · ‹ › and the no-break
 * spaces), 0 when there is none: SQLite's unicode61 separates words there, and so does the
 * PostgreSQL search (maillage_fts_text).
 */
static size_t typo_separator(const unsigned char *p)
{
	static const char *const seps[] = {"\u2019", "\u2018", "\u201c", "\u201d", "\u00ab",
	                                   "\u00bb", "\u2013", "\u2014", "\u2026", "\u2022",
	                                   "\u00b7", "\u2039", "\u203a", "\u00a0", "\u202f"};
	for (size_t i = 0; i < sizeof seps / sizeof *seps; i++) {
		size_t n = strlen(seps[i]);
		if (!strncmp((const char *)p, seps[i], n))
			return n;
	}
	return 0;
}

static int word_byte(const unsigned char *p)
{
	return (*p >= 0x80 && !typo_separator(p)) || (*p >= '0' && *p <= '9') ||
	       (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
}

/* The next word of q from *p: its start and length; 0 when there is none left. */
static size_t next_word(const unsigned char **p, const unsigned char **start)
{
	const unsigned char *s = *p;
	while (*s && !word_byte(s))
		s += typo_separator(s) ? typo_separator(s) : 1;
	*start = s;
	while (*s && word_byte(s))
		s++;
	*p = s;
	return (size_t)(s - *start);
}

/*
 * Turn what a person typed into an FTS5 query: every word (letters and digits, in any script;
 * typographic punctuation separates words) becomes a quoted term, the last one a prefix, all
 * required. Punctuation and FTS5 operators are
 * dropped, so no input can make a syntax error or reach another column. Returns NULL when no word
 * is left. Malloc'ed.
 */
static char *fts_query(const char *q)
{
	struct buf b = {0};
	const unsigned char *p = (const unsigned char *)q, *w;
	size_t n;
	int words = 0;
	while ((n = next_word(&p, &w)) > 0) {
		buf_puts(&b, words++ ? " \"" : "\"");
		buf_append(&b, w, n);
		buf_putc(&b, '"');
	}
	if (!words) {
		buf_free(&b);
		return NULL;
	}
	buf_putc(&b, '*');
	return buf_steal(&b);
}

/*
 * The same for PostgreSQL: a to_tsquery text, every word quoted and required, the last one a
 * prefix ('w1' & 'w2':*). Words hold letters, digits and non-ASCII letters only, so no quote
 * or operator can get in. NULL when no word is left. Malloc'ed.
 */
static char *tsq_query(const char *q)
{
	struct buf b = {0};
	const unsigned char *p = (const unsigned char *)q, *w;
	size_t n;
	int words = 0;
	while ((n = next_word(&p, &w)) > 0) {
		buf_puts(&b, words++ ? " & '" : "'");
		buf_append(&b, w, n);
		buf_putc(&b, '\'');
	}
	if (!words) {
		buf_free(&b);
		return NULL;
	}
	buf_puts(&b, ":*");
	return buf_steal(&b);
}

static int is_pg(struct req *r)
{
	return !strcmp(db_backend(r->db), "postgresql");
}

/* The query text for the backend of this request (malloc'ed), NULL when no word is left. */
static char *search_query(struct req *r, const char *q)
{
	return is_pg(r) ? tsq_query(q) : fts_query(q);
}

/* Escape text for HTML, turning the \x01…\x02 highlight markers into <mark>…</mark>. */
static void put_highlighted(struct buf *o, const char *s)
{
	struct buf tmp = {0};
	buf_html(&tmp, s);
	for (const char *p = buf_str(&tmp); *p; p++) {
		if (*p == '\x01')
			buf_puts(o, "<mark>");
		else if (*p == '\x02')
			buf_puts(o, "</mark>");
		else
			buf_putc(o, *p);
	}
	buf_free(&tmp);
}

/* Run the search; the statement yields kind, ref, plan id, plan title, title, snippet, is_fiche. */
static struct db_stmt *search_run(struct req *r, const char *match)
{
	if (is_pg(r)) {
		struct db_stmt *st = db_prepare(
		    r->db,
		    "SELECT s.kind, s.ref, s.plan_id, p.title, "
		    "ts_headline('maillage', s.title, q.q, CAST(? AS TEXT)), "
		    "CASE WHEN s.body = '' THEN '' ELSE "
		    "ts_headline('maillage', s.body, q.q, CAST(? AS TEXT)) END, "
		    "(SELECT COUNT(*) FROM fiches f WHERE s.kind = 'node' AND f.node_id = s.ref) "
		    "FROM (SELECT to_tsquery('maillage', CAST(? AS TEXT)) AS q) q "
		    "JOIN search_index s ON s.tsv @@ q.q JOIN plans p ON p.id = s.plan_id "
		    "WHERE " PLAN_VISIBLE_WHERE
		    " AND NOT EXISTS (SELECT 1 FROM nodes n WHERE s.kind = 'node' AND n.id = s.ref "
		    "AND n.archived = 1) "
		    "ORDER BY ts_rank(s.tsv, q.q) DESC, s.kind, s.ref LIMIT ?");
		if (!st)
			return NULL;
		db_bind_text(st, 1, "StartSel=\x01, StopSel=\x02, HighlightAll=true");
		db_bind_text(st, 2,
		             "StartSel=\x01, StopSel=\x02, MaxWords=24, MinWords=12, ShortWord=0, "
		             "MaxFragments=2, FragmentDelimiter=\" … \"");
		db_bind_text(st, 3, match);
		plan_bind_visible(st, 4, r);
		db_bind_int64(st, 6, SEARCH_LIMIT);
		return st;
	}
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT s.kind, s.ref, s.plan_id, p.title, "
	           "highlight(search_index, 3, char(1), char(2)), "
	           "snippet(search_index, 4, char(1), char(2), ' … ', 24), "
	           "(SELECT COUNT(*) FROM fiches f WHERE s.kind = 'node' AND f.node_id = s.ref) "
	           "FROM search_index s JOIN plans p ON p.id = s.plan_id "
	           "WHERE search_index MATCH ? AND " PLAN_VISIBLE_WHERE
	           " AND NOT EXISTS (SELECT 1 FROM nodes n WHERE s.kind = 'node' AND n.id = s.ref "
	           "AND n.archived = 1) "
	           "ORDER BY rank LIMIT ?");
	if (!st)
		return NULL;
	db_bind_text(st, 1, match);
	plan_bind_visible(st, 2, r);
	db_bind_int64(st, 4, SEARCH_LIMIT);
	return st;
}

static const char *result_href(const char *kind, int64_t ref, int is_fiche, char *out, size_t n)
{
	if (!strcmp(kind, "plan"))
		snprintf(out, n, "/plans/%lld", (long long)ref);
	else
		snprintf(out, n, "/%s/%lld", is_fiche ? "fiches" : "noeuds", (long long)ref);
	return out;
}

/* Validate q; answers 400 itself and returns -1 when it is too long. */
static int check_query(struct req *r, const char *q)
{
	if (q && strlen(q) > SEARCH_MAX_QUERY) {
		resp_error(r, 400, "La recherche est trop longue (200 caractères au plus).");
		return -1;
	}
	return 0;
}

static void search_page(struct req *r)
{
	const char *q = req_query(r, "q");
	if (check_query(r, q))
		return;
	page_begin(r, "Recherche", NULL);
	html_printf(&r->out,
	            "<h1>Recherche</h1>\n<form method=\"get\" action=\"/recherche\" "
	            "class=\"form search\" role=\"search\"><div class=\"field\">"
	            "<label for=\"search-q\">Rechercher dans les plans, orientations et "
	            "fiches-actions</label><input id=\"search-q\" name=\"q\" type=\"search\" "
	            "maxlength=\"200\" value=\"%s\"></div><div class=\"actions\">"
	            "<button class=\"button\" type=\"submit\">Rechercher</button></div></form>\n",
	            q ? q : "");
	char *match = q ? search_query(r, q) : NULL;
	if (!match) {
		if (q && *q)
			page_notice(r, "info", "Saisissez au moins un mot.");
		page_end(r);
		return;
	}
	struct db_stmt *st = search_run(r, match);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(&r->out, "<ol class=\"results\">\n");
		char href[64];
		result_href(db_col_text(st, 0), db_col_int64(st, 1), db_col_int64(st, 6) > 0, href,
		            sizeof href);
		html_printf(&r->out, "<li><p class=\"eyebrow\">%s</p><h2><a href=\"%s\">",
		            !strcmp(db_col_text(st, 0), "plan") ? "Plan"
		            : db_col_int64(st, 6)               ? "Fiche-action"
		                                                : "Élément du plan",
		            href);
		put_highlighted(&r->out, db_col_text(st, 4));
		buf_puts(&r->out, "</a></h2>");
		if (strcmp(db_col_text(st, 0), "plan") != 0)
			html_printf(&r->out, "<p class=\"hint\">%s</p>", db_col_text(st, 3));
		if (!str_blank(db_col_text(st, 5))) {
			buf_puts(&r->out, "<p>");
			put_highlighted(&r->out, db_col_text(st, 5));
			buf_puts(&r->out, "</p>");
		}
		buf_puts(&r->out, "</li>\n");
	}
	db_finalize(st);
	free(match);
	if (n)
		html_printf(&r->out, "</ol>\n<p class=\"count\">%d résultat%s%s.</p>\n", n,
		            n > 1 ? "s" : "", n == SEARCH_LIMIT ? " (les 50 plus pertinents)" : "");
	else
		page_notice(r, "info", "Aucun résultat : essayez un autre mot ou moins de mots.");
	page_end(r);
}

static void search_api(struct req *r)
{
	const char *q = req_query(r, "q");
	if (check_query(r, q))
		return;
	char *match = q ? search_query(r, q) : NULL;
	if (!match) {
		resp_error(r, 400, "Le paramètre q doit contenir au moins un mot.");
		return;
	}
	struct db_stmt *st = search_run(r, match);
	free(match);
	json_t *items = json_array();
	while (st && db_step(st) == DB_ROW) {
		char href[64];
		int is_fiche = db_col_int64(st, 6) > 0;
		const char *kind = db_col_text(st, 0);
		/* Titles without the highlight markers. */
		char *title = xstrdup(db_col_text(st, 4));
		char *o = title;
		for (const char *p = title; *p; p++)
			if (*p != '\x01' && *p != '\x02')
				*o++ = *p;
		*o = '\0';
		json_array_append_new(
		    items,
		    json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "kind",
		              !strcmp(kind, "plan") ? "plan"
		              : is_fiche            ? "fiche"
		                                    : "node",
		              "id", (json_int_t)db_col_int64(st, 1), "plan_id",
		              (json_int_t)db_col_int64(st, 2), "plan_title", db_col_text(st, 3),
		              "title", title, "url",
		              result_href(kind, db_col_int64(st, 1), is_fiche, href, sizeof href)));
		free(title);
	}
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:s,s:o}", "query", q, "items", items));
}

const struct route search_routes[] = {
    {M_GET, "/recherche", ACC_PUBLIC, search_page, "Recherche dans les plans et les fiches"},
    {M_GET, "/api/v1/search", ACC_PUBLIC, search_api, "Recherche (plans, éléments, fiches)"},
    {0},
};
