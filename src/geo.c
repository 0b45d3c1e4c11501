/* geo: territory pages and API — départements, EPCIs, communes, and what each one holds. */
#include "actors.h"
#include "db.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_MAX_CHARS  100    /* longest accepted search text, in characters */
#define PAGE_SIZE         50     /* communes per result page */
#define PAGE_MAX          100000 /* highest page number accepted */
#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX     500
#define API_OFFSET_MAX    1000000
#define NNBSP             "\xe2\x80\xaf" /* U+202F narrow no-break space */

/* --- codes and numbers ------------------------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 when s is an INSEE commune code: five digits, or 2A/2B followed by three digits. */
static int commune_code_valid(const char *s)
{
	if (!s || strlen(s) != 5)
		return 0;
	if (!is_digit(s[0]) || !(is_digit(s[1]) || (s[0] == '2' && (s[1] == 'A' || s[1] == 'B'))))
		return 0;
	return is_digit(s[2]) && is_digit(s[3]) && is_digit(s[4]);
}

/* 1 when s is a SIREN: exactly nine digits. */
static int epci_code_valid(const char *s)
{
	if (!s || strlen(s) != 9)
		return 0;
	for (; *s; s++)
		if (!is_digit(*s))
			return 0;
	return 1;
}

/* 1 when s is a département code: two or three digits, or 2A/2B. */
static int departement_code_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 2 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B'))
		return 1;
	if (n < 2 || n > 3)
		return 0;
	for (; *s; s++)
		if (!is_digit(*s))
			return 0;
	return 1;
}

/* v written the French way, thousands separated by a narrow no-break space ("8 658"). */
static void format_int(char out[64], int64_t v)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%lld", (long long)v);
	const char *d = digits;
	char *o = out;
	if (*d == '-')
		*o++ = *d++;
	size_t n = strlen(d);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0) {
			memcpy(o, NNBSP, sizeof NNBSP - 1);
			o += sizeof NNBSP - 1;
		}
		*o++ = d[i];
	}
	*o = '\0';
}

/* A population cell or fact: the number, or "inconnue" for SQL NULL. */
static void put_population(struct buf *o, struct db_stmt *st, int col)
{
	if (db_col_is_null(st, col)) {
		buf_puts(o, "inconnue");
		return;
	}
	char n[64];
	format_int(n, db_col_int64(st, col));
	html_printf(o, "%s", n);
}

/* --- search ------------------------------------------------------------------------------- */

/*
 * Names are searched through their stored key, communes.search_name = text_fold(name), written
 * by the import: the search text is folded the same way and compared with = and LIKE.
 */

/* Bound text parameters collected while a query is assembled; each is owned (malloc'ed). */
struct sql_args {
	char *text[12];
	int n;
};

static void args_add(struct sql_args *a, char *owned)
{
	if (a->n >= (int)(sizeof a->text / sizeof *a->text))
		abort(); /* a programming error: more conditions than slots */
	a->text[a->n++] = owned;
}

static void args_bind(struct db_stmt *st, const struct sql_args *a)
{
	for (int i = 0; i < a->n; i++)
		db_bind_text(st, i + 1, a->text[i]);
}

static void args_free(struct sql_args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->text[i]);
	a->n = 0;
}

/* What to look for among communes. Borrowed codes must have been validated. */
struct commune_filter {
	char *key;               /* text_fold() of the search text; NULL or "" when none */
	char *code;              /* the text upper-cased when it may begin a code, else NULL */
	int digits;              /* code is digits only: it may also begin a postal code */
	int text;                /* a search text was given */
	const char *departement; /* borrowed; NULL for all */
	const char *epci;        /* borrowed; NULL for all */
};

/* Prepare f from the raw search text q (NULL or blank for none). Free with filter_free(). */
static void filter_init(struct commune_filter *f, const char *q, const char *departement,
                        const char *epci)
{
	memset(f, 0, sizeof *f);
	f->departement = departement;
	f->epci = epci;
	if (str_blank(q))
		return;
	f->text = 1;
	f->key = text_fold(q);
	char *up = str_trim_dup(q);
	size_t n = strlen(up);
	int ok = n >= 2 && n <= 5 && is_digit(up[0]);
	for (size_t i = 0; i < n; i++)
		if (up[i] >= 'a' && up[i] <= 'z')
			up[i] = (char)(up[i] - 'a' + 'A');
	if (ok && !is_digit(up[1]))
		ok = up[0] == '2' && (up[1] == 'A' || up[1] == 'B');
	f->digits = ok && is_digit(up[1]);
	for (size_t i = 2; ok && i < n; i++)
		ok = is_digit(up[i]);
	if (ok)
		f->code = up;
	else
		free(up);
}

static void filter_free(struct commune_filter *f)
{
	free(f->key);
	free(f->code);
}

/* Append the WHERE clause of f on the communes `c`, with its parameters. */
static void commune_where(struct buf *sql, struct sql_args *a, const struct commune_filter *f)
{
	buf_puts(sql, " WHERE 1 = 1");
	if (f->text) {
		int n = 0;
		buf_puts(sql, " AND (");
		if (f->key && *f->key) {
			buf_puts(sql, "c.search_name LIKE ? ESCAPE '\\'");
			args_add(a, text_like_pattern("%", f->key, "%"));
			n++;
		}
		if (f->code) {
			buf_printf(sql, "%sc.code LIKE ?", n++ ? " OR " : "");
			args_add(a, xasprintf("%s%%", f->code));
		}
		if (f->code && f->digits) {
			buf_printf(sql, "%s(' ' || c.postal_codes) LIKE ?", n++ ? " OR " : "");
			args_add(a, xasprintf("%% %s%%", f->code));
		}
		buf_puts(sql, n ? ")" : "1 = 0)");
	}
	if (f->departement) {
		buf_puts(sql, " AND c.departement = ?");
		args_add(a, xstrdup(f->departement));
	}
	if (f->epci) {
		buf_puts(sql, " AND c.epci = ?");
		args_add(a, xstrdup(f->epci));
	}
}

/* Columns of the statement commune_search() returns. */
enum {
	CS_CODE,
	CS_NAME,
	CS_DEP,
	CS_DEP_NAME,
	CS_EPCI,
	CS_EPCI_NAME,
	CS_POPULATION,
	CS_LATITUDE,
	CS_LONGITUDE,
	CS_POSTAL_CODES,
};

/*
 * Count the communes matching f into *total, then open the page of `limit` rows from `offset`:
 * best matches first (exact name or code, then names that start with the text), then by name.
 * Returns the statement (columns CS_*), which the caller steps and finalizes, or NULL on a
 * database error.
 */
static struct db_stmt *commune_search(struct db *db, const struct commune_filter *f, int64_t limit,
                                      int64_t offset, int64_t *total)
{
	struct buf sql = {0};
	struct sql_args a = {0};
	struct db_stmt *st = NULL;

	buf_puts(&sql, "SELECT COUNT(*) FROM communes c");
	commune_where(&sql, &a, f);
	st = db_prepare(db, buf_str(&sql));
	if (!st)
		goto out;
	args_bind(st, &a);
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		st = NULL;
		goto out;
	}
	*total = db_col_int64(st, 0);
	db_finalize(st);

	args_free(&a);
	buf_reset(&sql);
	buf_puts(&sql, "SELECT c.code, c.name, c.departement, d.name, c.epci, e.name, "
	               "c.population, c.latitude, c.longitude, c.postal_codes "
	               "FROM communes c "
	               "LEFT JOIN departements d ON d.code = c.departement "
	               "LEFT JOIN epcis e ON e.code = c.epci");
	commune_where(&sql, &a, f);
	buf_puts(&sql, " ORDER BY ");
	if (f->text) {
		buf_puts(&sql, "CASE WHEN c.search_name = ? OR c.code = ? THEN 0 "
		               "WHEN c.search_name LIKE ? ESCAPE '\\' THEN 1 ELSE 2 END, ");
		args_add(&a, xstrdup(f->key ? f->key : ""));
		args_add(&a, xstrdup(f->code ? f->code : ""));
		args_add(&a, f->key && *f->key ? text_like_pattern("", f->key, "%") : xstrdup(""));
	}
	buf_puts(&sql, "c.search_name, c.code LIMIT ? OFFSET ?");
	st = db_prepare(db, buf_str(&sql));
	if (!st)
		goto out;
	args_bind(st, &a);
	db_bind_int64(st, a.n + 1, limit);
	db_bind_int64(st, a.n + 2, offset);
out:
	args_free(&a);
	buf_free(&sql);
	return st;
}

/*
 * Validate the search text: 0 when acceptable (NULL or blank included), else answers 400 and
 * returns -1.
 */
static int search_text_check(struct req *r, const char *q)
{
	if (q && text_chars(q) > SEARCH_MAX_CHARS) {
		resp_error(r, 400, "La recherche est trop longue : 100 caractères au plus.");
		return -1;
	}
	return 0;
}

/*
 * A code filter from the query string: *out is NULL when absent or empty, the value when valid;
 * otherwise answers 400 and returns -1.
 */
static int code_arg(struct req *r, const char *name, int (*valid)(const char *),
                    const char *message, const char **out)
{
	const char *v = req_query(r, name);
	*out = NULL;
	if (!v || !*v)
		return 0;
	if (!valid(v)) {
		resp_error(r, 400, message);
		return -1;
	}
	*out = v;
	return 0;
}

/* --- labels ---------------------------------------------------------------------------------- */

/* The French name of an EPCI kind, or NULL when unknown. */
static const char *epci_kind_label(const char *kind)
{
	static const struct {
		const char *kind, *label;
	} kinds[] = {
	    {"CC", "Communauté de communes"}, {"CA", "Communauté d'agglomération"},
	    {"CU", "Communauté urbaine"},     {"METRO", "Métropole"},
	    {"MET69", "Métropole de Lyon"},
	};
	for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i].kind, kind))
			return kinds[i].label;
	return NULL;
}

/* The kind of an EPCI as an abbreviation with its expansion ("CC" with a title). */
static void put_epci_kind(struct buf *o, const char *kind)
{
	const char *label = epci_kind_label(kind);
	if (!kind)
		buf_puts(o, "non précisée");
	else if (label)
		html_printf(o, "<abbr title=\"%s\">%s</abbr>", label, kind);
	else
		html_printf(o, "%s", kind);
}

/* A plan's period from columns y0 and y1 (either may be NULL). */
static void put_period(struct buf *o, struct db_stmt *st, int y0, int y1)
{
	int has0 = !db_col_is_null(st, y0), has1 = !db_col_is_null(st, y1);
	if (has0 && has1)
		html_printf(o, "%lld – %lld", (long long)db_col_int64(st, y0),
		            (long long)db_col_int64(st, y1));
	else if (has0)
		html_printf(o, "depuis %lld", (long long)db_col_int64(st, y0));
	else if (has1)
		html_printf(o, "jusqu'en %lld", (long long)db_col_int64(st, y1));
	else
		buf_puts(o, "non précisée");
}

/*
 * The table of plans of statement st (columns: id, kind, title, start_year, end_year, is_public,
 * coverage rank 1–3), whose coverage column reads coverage[rank - 1]. Finalizes st. Writes
 * `none` when there is no row.
 */
static void plans_table(struct req *r, struct db_stmt *st, const char *caption,
                        const char *const coverage[3], const char *none)
{
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(&r->out,
			            "<div class=\"table-wrap\" "
			            "tabindex=\"0\"><table>\n<caption>%s</caption>\n"
			            "<thead><tr><th scope=\"col\">Plan</th>"
			            "<th scope=\"col\">Type</th><th scope=\"col\">Période</th>"
			            "<th scope=\"col\">Couverture</th></tr></thead>\n<tbody>\n",
			            caption);
		int64_t rank = db_col_int64(st, 6);
		html_printf(&r->out,
		            "<tr><th scope=\"row\"><a href=\"/plans/%lld\">%s</a>%R</th>"
		            "<td>%s</td><td>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 2),
		            db_col_int64(st, 5) ? "" : " <span class=\"badge\">privé</span>",
		            plan_kind_label(db_col_text(st, 1)));
		put_period(&r->out, st, 3, 4);
		html_printf(&r->out, "</td><td>%s</td></tr>\n",
		            rank >= 1 && rank <= 3 ? coverage[rank - 1] : "");
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</tbody></table></div>\n");
	else
		html_printf(&r->out, "<p>%s</p>\n", none);
}

/* --- JSON helpers ---------------------------------------------------------------------------- */

static json_t *json_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

static json_t *col_json_text(struct db_stmt *st, int i)
{
	return json_text(db_col_text(st, i));
}

static json_t *col_json_int(struct db_stmt *st, int i)
{
	return db_col_is_null(st, i) ? json_null() : json_integer(db_col_int64(st, i));
}

static json_t *col_json_real(struct db_stmt *st, int i)
{
	return db_col_is_null(st, i) ? json_null() : json_real(db_col_double(st, i));
}

/* The space-separated postal codes as a JSON array of strings. */
static json_t *postal_codes_json(const char *s)
{
	json_t *arr = json_array();
	while (s && *s) {
		size_t n = strcspn(s, " ");
		if (n) {
			json_t *code = json_stringn(s, n);
			if (code)
				json_array_append_new(arr, code);
		}
		s += n;
		s += strspn(s, " ");
	}
	return arr;
}

/* One row of commune_search() as an API item. */
static json_t *commune_item_json(struct db_stmt *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "code", col_json_text(st, CS_CODE));
	json_object_set_new(o, "name", col_json_text(st, CS_NAME));
	json_object_set_new(o, "departement", col_json_text(st, CS_DEP));
	json_object_set_new(o, "epci", col_json_text(st, CS_EPCI));
	json_object_set_new(o, "population", col_json_int(st, CS_POPULATION));
	json_object_set_new(o, "latitude", col_json_real(st, CS_LATITUDE));
	json_object_set_new(o, "longitude", col_json_real(st, CS_LONGITUDE));
	json_object_set_new(o, "postal_codes", postal_codes_json(db_col_text(st, CS_POSTAL_CODES)));
	return o;
}

/* --- loading one commune, one EPCI ------------------------------------------------------------ */

struct commune {
	char *code, *name, *departement, *departement_name, *epci, *epci_name, *postal_codes;
	int64_t population;
	int has_population, has_coordinates, coordinates_placed;
	double latitude, longitude;
};

static void commune_free(struct commune *c)
{
	free(c->code);
	free(c->name);
	free(c->departement);
	free(c->departement_name);
	free(c->epci);
	free(c->epci_name);
	free(c->postal_codes);
	memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/*
 * Load the commune `code` into c (free with commune_free). Returns 0 when found, 1 when the code
 * is malformed or unknown, -1 on a database error.
 */
static int commune_load(struct db *db, const char *code, struct commune *c)
{
	memset(c, 0, sizeof *c);
	if (!commune_code_valid(code))
		return 1;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT c.code, c.name, c.departement, d.name, c.epci, "
	                               "e.name, c.postal_codes, c.population, c.latitude, "
	                               "c.longitude, c.coordinates_placed "
	                               "FROM communes c "
	                               "LEFT JOIN departements d ON d.code = c.departement "
	                               "LEFT JOIN epcis e ON e.code = c.epci "
	                               "WHERE c.code = ?",
	                               "s", code);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		c->code = xstrdup(db_col_text(st, 0));
		c->name = xstrdup(db_col_text(st, 1));
		c->departement = dup_or_null(db_col_text(st, 2));
		c->departement_name = dup_or_null(db_col_text(st, 3));
		c->epci = dup_or_null(db_col_text(st, 4));
		c->epci_name = dup_or_null(db_col_text(st, 5));
		c->postal_codes = xstrdup(db_col_text(st, 6) ? db_col_text(st, 6) : "");
		c->has_population = !db_col_is_null(st, 7);
		c->population = db_col_int64(st, 7);
		c->has_coordinates = !db_col_is_null(st, 8) && !db_col_is_null(st, 9);
		c->latitude = db_col_double(st, 8);
		c->longitude = db_col_double(st, 9);
		c->coordinates_placed = (int)db_col_int64(st, 10);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? 1 : -1;
}

struct epci {
	char *code, *name, *kind;
	int64_t population, commune_count;
	int has_population;
};

static void epci_free(struct epci *e)
{
	free(e->code);
	free(e->name);
	free(e->kind);
	memset(e, 0, sizeof *e);
}

/* Load the EPCI `code` (as commune_load: 0 found, 1 malformed or unknown, -1 error). */
static int epci_load(struct db *db, const char *code, struct epci *e)
{
	memset(e, 0, sizeof *e);
	if (!epci_code_valid(code))
		return 1;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT e.code, e.name, e.kind, e.population, "
	                               "(SELECT COUNT(*) FROM communes c WHERE c.epci = e.code) "
	                               "FROM epcis e WHERE e.code = ?",
	                               "s", code);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		e->code = xstrdup(db_col_text(st, 0));
		e->name = xstrdup(db_col_text(st, 1));
		e->kind = dup_or_null(db_col_text(st, 2));
		e->has_population = !db_col_is_null(st, 3);
		e->population = db_col_int64(st, 3);
		e->commune_count = db_col_int64(st, 4);
	}
	db_finalize(st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? 1 : -1;
}

/* --- pages ------------------------------------------------------------------------------------ */

/* The commune search form, pre-filled with q and the chosen département. */
static void search_form(struct req *r, const char *q, const char *departement)
{
	html_printf(&r->out,
	            "<form method=\"get\" action=\"/communes\" class=\"form search\" "
	            "role=\"search\" aria-label=\"Rechercher une commune\">"
	            "<div class=\"field\"><label for=\"commune-q\">Commune : nom, code INSEE ou "
	            "code postal</label><input id=\"commune-q\" name=\"q\" type=\"search\" "
	            "maxlength=\"%d\" value=\"%s\" aria-describedby=\"commune-q-hint\">"
	            "<p class=\"hint\" id=\"commune-q-hint\">Majuscules et accents facultatifs : "
	            "« etoile sur rhone » trouve Étoile-sur-Rhône.</p></div>",
	            SEARCH_MAX_CHARS, q ? q : "");
	buf_puts(&r->out, "<div class=\"field\"><label for=\"commune-dep\">Département</label>"
	                  "<select id=\"commune-dep\" name=\"departement\">"
	                  "<option value=\"\">Tous les départements</option>");
	struct db_stmt *st = db_prepare(r->db, "SELECT code, name FROM departements ORDER BY code");
	while (st && db_step(st) == DB_ROW) {
		const char *code = db_col_text(st, 0);
		html_printf(&r->out, "<option value=\"%s\"%R>%s (%s)</option>", code,
		            departement && !strcmp(departement, code) ? " selected" : "",
		            db_col_text(st, 1), code);
	}
	db_finalize(st);
	buf_puts(&r->out, "</select></div><button type=\"submit\" class=\"button\">Rechercher"
	                  "</button></form>\n");
}

struct departement_row {
	char *code, *name;
	int64_t communes, population, without_epci;
	int has_population;
};

/* GET /territoire: every département with its EPCIs, and the commune search. */
static void territory_page(struct req *r)
{
	struct departement_row *deps = NULL;
	size_t ndeps = 0, cap = 0;
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT d.code, d.name, "
	           "(SELECT COUNT(*) FROM communes c WHERE c.departement = d.code), "
	           "(SELECT SUM(c.population) FROM communes c WHERE c.departement = d.code), "
	           "(SELECT COUNT(*) FROM communes c WHERE c.departement = d.code "
	           " AND c.epci IS NULL) "
	           "FROM departements d ORDER BY d.code");
	if (!st) {
		resp_error(r, 500, "Lecture des départements impossible.");
		return;
	}
	while (db_step(st) == DB_ROW) {
		if (ndeps == cap) {
			cap = cap ? cap * 2 : 8;
			deps = xrealloc(deps, cap * sizeof *deps);
		}
		struct departement_row *d = &deps[ndeps++];
		d->code = xstrdup(db_col_text(st, 0));
		d->name = xstrdup(db_col_text(st, 1));
		d->communes = db_col_int64(st, 2);
		d->has_population = !db_col_is_null(st, 3);
		d->population = db_col_int64(st, 3);
		d->without_epci = db_col_int64(st, 4);
	}
	db_finalize(st);

	/* The EPCIs with communes in one département, run once per département. */
	struct db_stmt *epcis = db_prepare(r->db, "SELECT e.code, e.name, e.kind, e.population, "
	                                          "COUNT(c.code) "
	                                          "FROM epcis e JOIN communes c ON c.epci = e.code "
	                                          "WHERE c.departement = ? "
	                                          "GROUP BY e.code, e.name, e.kind, e.population, "
	                                          "e.search_name "
	                                          "ORDER BY e.search_name, e.code");

	page_begin(r, "Territoire", (const struct crumb[]){{NULL, NULL}});
	buf_puts(&r->out,
	         "<h1>Territoire</h1>\n<p class=\"lead\">Les départements, leurs "
	         "intercommunalités (EPCI) et leurs communes, d'après le Code officiel "
	         "géographique.</p>\n"
	         "<nav aria-label=\"Lectures du territoire\"><ul class=\"inline-list\">"
	         "<li><a href=\"/territoire/carte\">Carte des acteurs</a></li>"
	         "<li><a href=\"/territoire/couverture\">Taux de couverture</a></li>"
	         "<li><a href=\"/territoire/accessibilite\">Accessibilité aux services</a></li>"
	         "<li><a href=\"/services\">Offre de services</a></li>"
	         "<li><a href=\"/besoins\">Observatoire des besoins</a></li>"
	         "<li><a href=\"/besoins/non-couverts\">Besoins non couverts</a></li>"
	         "<li><a href=\"/reseaux\">Réseaux</a></li></ul></nav>\n");
	search_form(r, NULL, NULL);
	if (!ndeps)
		buf_puts(&r->out, "<p>Aucun département n'est encore chargé : importez la "
		                  "géographie avec <code>maillage import cog</code>.</p>\n");
	else {
		buf_puts(&r->out, "<nav aria-label=\"Départements\"><ul class=\"inline-list\">");
		for (size_t i = 0; i < ndeps; i++)
			html_printf(&r->out, "<li><a href=\"#dep-%s\">%s (%s)</a></li>",
			            deps[i].code, deps[i].name, deps[i].code);
		buf_puts(&r->out, "</ul></nav>\n");
	}
	for (size_t i = 0; i < ndeps; i++) {
		const struct departement_row *d = &deps[i];
		char communes[64], population[64];
		format_int(communes, d->communes);
		format_int(population, d->population);
		html_printf(&r->out,
		            "<section id=\"dep-%s\" aria-labelledby=\"dep-%s-title\">"
		            "<h2 id=\"dep-%s-title\">%s (%s)</h2>\n<p>%s commune%s · ",
		            d->code, d->code, d->code, d->name, d->code, communes,
		            d->communes > 1 ? "s" : "");
		if (d->has_population)
			html_printf(&r->out, "%s habitants</p>\n", population);
		else
			buf_puts(&r->out, "population inconnue</p>\n");

		int n = 0;
		if (epcis) {
			db_reset(epcis);
			db_bind_text(epcis, 1, d->code);
		}
		while (epcis && db_step(epcis) == DB_ROW) {
			if (n++ == 0)
				html_printf(
				    &r->out,
				    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
				    "Intercommunalités (EPCI) ayant des communes dans le "
				    "département %s (%s)</caption>\n<thead><tr>"
				    "<th scope=\"col\">EPCI</th><th scope=\"col\">Nature</th>"
				    "<th scope=\"col\">Communes dans le département</th>"
				    "<th scope=\"col\">Population de l'EPCI</th></tr></thead>"
				    "\n<tbody>\n",
				    d->name, d->code);
			char count[64];
			format_int(count, db_col_int64(epcis, 4));
			html_printf(&r->out,
			            "<tr><th scope=\"row\"><a href=\"/epcis/%u\">%s</a></th><td>",
			            db_col_text(epcis, 0), db_col_text(epcis, 1));
			put_epci_kind(&r->out, db_col_text(epcis, 2));
			html_printf(&r->out, "</td><td class=\"num\">%s</td><td class=\"num\">",
			            count);
			put_population(&r->out, epcis, 3);
			buf_puts(&r->out, "</td></tr>\n");
		}
		if (n)
			buf_puts(&r->out, "</tbody></table></div>\n");
		else
			buf_puts(&r->out, "<p>Aucun EPCI n'est chargé pour ce département.</p>\n");
		if (d->without_epci) {
			char k[64];
			format_int(k, d->without_epci);
			html_printf(&r->out, "<p>%s commune%s n'appartien%s à aucun EPCI.</p>\n", k,
			            d->without_epci > 1 ? "s" : "",
			            d->without_epci > 1 ? "nent" : "t");
		}
		buf_puts(&r->out, "</section>\n");
	}
	if (ndeps)
		buf_puts(&r->out, "<p class=\"hint\">Un EPCI peut s'étendre sur plusieurs "
		                  "départements : sa population est celle de toutes ses communes "
		                  "(population municipale, DGCL).</p>\n");
	for (size_t i = 0; i < ndeps; i++) {
		free(deps[i].code);
		free(deps[i].name);
	}
	free(deps);
	db_finalize(epcis);
	page_end(r);
}

/*
 * An optional integer query argument: *out is def when absent or empty. Returns -1 when it is
 * not an integer within [min, max] (the caller answers).
 */
static int int_arg(struct req *r, const char *name, int64_t def, int64_t min, int64_t max,
                   int64_t *out)
{
	const char *v = req_query(r, name);
	int64_t n;
	*out = def;
	if (!v || !*v)
		return 0;
	if (parse_int64(v, &n) || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One pagination link of the commune search. */
static void pager_link(struct req *r, const char *q, const char *departement, int64_t page,
                       const char *rel, const char *label)
{
	html_printf(&r->out, "<li><a href=\"/communes?q=%u", q);
	if (departement)
		html_printf(&r->out, "&amp;departement=%u", departement);
	if (page > 1)
		html_printf(&r->out, "&amp;page=%lld", (long long)page);
	if (rel)
		html_printf(&r->out, "\" rel=\"%s\">%s</a></li>", rel, label);
	else
		html_printf(&r->out, "\">%s</a></li>", label);
}

static void pager(struct req *r, const char *q, const char *departement, int64_t page,
                  int64_t pages)
{
	if (pages <= 1 || page > pages)
		return;
	buf_puts(&r->out, "<nav class=\"pager\" aria-label=\"Pages de résultats\"><ul>");
	if (page > 1) {
		pager_link(r, q, departement, 1, NULL, "Première page");
		pager_link(r, q, departement, page - 1, "prev", "Page précédente");
	}
	html_printf(&r->out, "<li aria-current=\"page\">Page %lld sur %lld</li>", (long long)page,
	            (long long)pages);
	if (page < pages) {
		pager_link(r, q, departement, page + 1, "next", "Page suivante");
		pager_link(r, q, departement, pages, NULL, "Dernière page");
	}
	buf_puts(&r->out, "</ul></nav>\n");
}

/* GET /communes?q=TEXT[&departement=CODE][&page=N]: the commune search, 50 a page. */
static void communes_page(struct req *r)
{
	const char *q = req_query(r, "q"), *departement;
	int64_t page;
	if (search_text_check(r, q) || code_arg(r, "departement", departement_code_valid,
	                                        "Code de département non valide.", &departement))
		return;
	if (int_arg(r, "page", 1, 1, PAGE_MAX, &page)) {
		resp_error(r, 400,
		           "Numéro de page non valide : un entier entre 1 et 100" NNBSP
		           "000 est attendu.");
		return;
	}
	char *text = str_trim_dup(q ? q : "");
	struct commune_filter f;
	filter_init(&f, text, departement, NULL);
	struct db_stmt *st = NULL;
	int64_t total = 0;
	if (f.text) {
		st = commune_search(r->db, &f, PAGE_SIZE, (page - 1) * PAGE_SIZE, &total);
		if (!st) {
			resp_error(r, 500, "La recherche de communes a échoué.");
			goto out;
		}
	}

	page_begin(r, "Rechercher une commune",
	           (const struct crumb[]){{"Territoire", "/territoire"}, {NULL, NULL}});
	buf_puts(&r->out, "<h1>Rechercher une commune</h1>\n");
	search_form(r, text, departement);
	if (!f.text) {
		buf_puts(&r->out,
		         "<p class=\"hint\">Saisissez tout ou partie du nom d'une commune, "
		         "son code INSEE (par exemple 26108) ou un code postal (par exemple "
		         "26400), puis lancez la recherche.</p>\n");
		page_end(r);
		goto out;
	}
	int64_t pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
	char count[64];
	format_int(count, total);
	if (!total)
		html_printf(&r->out,
		            "<p role=\"status\">Aucune commune ne correspond à « %s ».</p>\n",
		            text);
	else
		html_printf(&r->out, "<p role=\"status\">%s commune%s correspond%s à « %s ».</p>\n",
		            count, total > 1 ? "s" : "", total > 1 ? "ent" : "", text);
	if (total && page > pages) {
		html_printf(&r->out,
		            "<p>Cette page n'existe pas : les résultats tiennent en %lld "
		            "page%s. <a href=\"/communes?q=%u%R%u\">Revenir à la première page</a>."
		            "</p>\n",
		            (long long)pages, pages > 1 ? "s" : "", text,
		            departement ? "&amp;departement=" : "", departement ? departement : "");
	}
	int n = 0;
	while (db_step(st) == DB_ROW) {
		if (n++ == 0) {
			html_printf(
			    &r->out,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Communes "
			    "correspondant à « %s »",
			    text);
			if (pages > 1)
				html_printf(&r->out, ", page %lld sur %lld", (long long)page,
				            (long long)pages);
			buf_puts(&r->out,
			         "</caption>\n<thead><tr><th scope=\"col\">Commune</th>"
			         "<th scope=\"col\">Code INSEE</th>"
			         "<th scope=\"col\">Département</th>"
			         "<th scope=\"col\">EPCI</th>"
			         "<th scope=\"col\">Population</th></tr></thead>\n<tbody>\n");
		}
		html_printf(&r->out,
		            "<tr><th scope=\"row\"><a href=\"/communes/%u\">%s</a></th><td>%s</td>"
		            "<td>",
		            db_col_text(st, CS_CODE), db_col_text(st, CS_NAME),
		            db_col_text(st, CS_CODE));
		if (db_col_is_null(st, CS_DEP))
			buf_puts(&r->out, "inconnu");
		else
			html_printf(&r->out, "%s (%s)",
			            db_col_text(st, CS_DEP_NAME) ? db_col_text(st, CS_DEP_NAME)
			                                         : "",
			            db_col_text(st, CS_DEP));
		buf_puts(&r->out, "</td><td>");
		if (db_col_is_null(st, CS_EPCI))
			buf_puts(&r->out, "aucun");
		else
			html_printf(&r->out, "<a href=\"/epcis/%u\">%s</a>",
			            db_col_text(st, CS_EPCI), db_col_text(st, CS_EPCI_NAME));
		buf_puts(&r->out, "</td><td class=\"num\">");
		put_population(&r->out, st, CS_POPULATION);
		buf_puts(&r->out, "</td></tr>\n");
	}
	if (n)
		buf_puts(&r->out, "</tbody></table></div>\n");
	pager(r, text, departement, page, pages);
	page_end(r);
out:
	db_finalize(st);
	filter_free(&f);
	free(text);
}

/* The visible plans whose territory names the commune, its EPCI or its département. */
static struct db_stmt *commune_plans(struct req *r, const struct commune *c)
{
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT p.id, p.kind, p.title, p.start_year, p.end_year, p.is_public, "
	           "MIN(CASE t.scope WHEN 'commune' THEN 1 WHEN 'epci' THEN 2 ELSE 3 END) "
	           "FROM plans p JOIN plan_territory t ON t.plan_id = p.id "
	           "WHERE ((t.scope = 'commune' AND t.code = ?) "
	           " OR (t.scope = 'epci' AND t.code = ?) "
	           " OR (t.scope = 'departement' AND t.code = ?)) "
	           "AND " PLAN_VISIBLE_WHERE " "
	           "GROUP BY p.id, p.kind, p.title, p.start_year, p.end_year, p.is_public "
	           "ORDER BY p.start_year DESC NULLS LAST, p.title");
	if (!st)
		return NULL;
	db_bindf(st, "sss", c->code, c->epci, c->departement);
	plan_bind_visible(st, 4, r);
	return st;
}

/* GET /communes/{code}: a commune, its actors and the plans that cover it. */
static void commune_page(struct req *r)
{
	struct commune c;
	int rc = commune_load(r->db, r->params[0], &c);
	if (rc) {
		if (rc < 0)
			resp_error(r, 500, "Lecture de la commune impossible.");
		else
			resp_error(r, 404,
			           "Cette commune n'existe pas : le code INSEE attendu compte "
			           "5 caractères (par exemple 26108).");
		commune_free(&c);
		return;
	}
	char *epci_href = c.epci ? xasprintf("/epcis/%s", c.epci) : NULL;
	page_begin(r, c.name,
	           (const struct crumb[]){
	               {"Territoire", "/territoire"}, {c.epci_name, epci_href}, {NULL, NULL}});
	html_printf(&r->out, "<p class=\"eyebrow\">Commune</p>\n<h1>%s</h1>\n<dl class=\"facts\">",
	            c.name);
	html_printf(&r->out, "<div><dt>Code INSEE</dt><dd>%s</dd></div>", c.code);
	html_printf(&r->out, "<div><dt>%s</dt><dd>",
	            strchr(c.postal_codes, ' ') ? "Codes postaux" : "Code postal");
	if (!*c.postal_codes)
		buf_puts(&r->out, "inconnu");
	for (const char *p = c.postal_codes; *p;) {
		size_t len = strcspn(p, " ");
		char *one = xstrndup(p, len);
		html_printf(&r->out, "%R%s", p > c.postal_codes ? ", " : "", one);
		free(one);
		p += len;
		p += strspn(p, " ");
	}
	buf_puts(&r->out, "</dd></div><div><dt>Population</dt><dd>");
	if (c.has_population) {
		char pop[64];
		format_int(pop, c.population);
		html_printf(&r->out, "%s habitant%s", pop, c.population > 1 ? "s" : "");
	} else {
		buf_puts(&r->out, "inconnue");
	}
	buf_puts(&r->out, "</dd></div><div><dt>Département</dt><dd>");
	if (c.departement)
		html_printf(&r->out, "<a href=\"/territoire#dep-%u\">%s (%s)</a>", c.departement,
		            c.departement_name ? c.departement_name : c.departement, c.departement);
	else
		buf_puts(&r->out, "inconnu");
	buf_puts(&r->out, "</dd></div><div><dt>Intercommunalité (EPCI)</dt><dd>");
	if (c.epci)
		html_printf(&r->out, "<a href=\"/epcis/%u\">%s</a>", c.epci,
		            c.epci_name ? c.epci_name : c.epci);
	else
		buf_puts(&r->out, "aucune");
	buf_puts(&r->out, "</dd></div><div><dt>Coordonnées</dt><dd>");
	if (c.has_coordinates)
		html_printf(&r->out, "%.5f° %s, %.5f° %s", fabs(c.latitude),
		            c.latitude >= 0 ? "N" : "S", fabs(c.longitude),
		            c.longitude >= 0 ? "E" : "O");
	else
		buf_puts(&r->out, "coordonnées inconnues");
	if (c.has_coordinates && c.coordinates_placed)
		buf_puts(&r->out, " <span class=\"badge badge-neutral\">position estimée</span>"
		                  "<span class=\"hint\"> (aucun point mesuré : placée au centre de "
		                  "son intercommunalité, pondéré par la population)</span>");
	buf_puts(&r->out, "</dd></div></dl>\n");

	buf_puts(&r->out, "<section aria-labelledby=\"acteurs\"><h2 id=\"acteurs\">Acteurs "
	                  "implantés dans la commune</h2>\n");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, name, kind FROM actors WHERE commune = ? "
	                               "ORDER BY search_name, id",
	                               "s", c.code);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(&r->out, "<div class=\"table-wrap\" "
			                  "tabindex=\"0\"><table>\n<caption>Acteurs dont "
			                  "l'adresse est dans cette commune</caption>\n<thead><tr>"
			                  "<th scope=\"col\">Acteur</th><th scope=\"col\">Type</th>"
			                  "</tr></thead>\n<tbody>\n");
		html_printf(&r->out,
		            "<tr><th scope=\"row\"><a href=\"/acteurs/%lld\">%s</a></th><td>%s</td>"
		            "</tr>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            actor_kind_label(db_col_text(st, 2)));
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</tbody></table></div>\n");
	else
		buf_puts(&r->out, "<p>Aucun acteur n'est enregistré dans cette commune.</p>\n");
	buf_puts(&r->out, "</section>\n");

	buf_puts(&r->out, "<section aria-labelledby=\"plans\"><h2 id=\"plans\">Plans couvrant la "
	                  "commune</h2>\n");
	static const char *const coverage[3] = {"la commune elle-même", "par son EPCI",
	                                        "par son département"};
	plans_table(r, commune_plans(r, &c),
	            "Plans dont le territoire couvre cette commune, directement ou par son EPCI "
	            "ou son département",
	            coverage, "Aucun plan visible ne couvre cette commune.");
	if (!r->user)
		buf_puts(&r->out, "<p class=\"hint\">Les plans privés apparaissent après "
		                  "connexion, pour leurs membres.</p>\n");
	html_printf(
	    &r->out,
	    "<ul class=\"inline-list\"><li><a href=\"/public/communes/%u\">Ce qui se fait ici "
	    "(plans publiés)</a></li><li><a href=\"/besoins?commune=%u\">Besoins "
	    "repérés ici</a></li><li><a href=\"/territoire/couverture?echelle=commune&amp;"
	    "departement=%u\">Taux de couverture du département</a></li>"
	    "<li><a href=\"/territoire/synthese?commune=%u\">Lecture consolidée de la "
	    "commune</a></li></ul>\n",
	    c.code, c.code, c.departement ? c.departement : "", c.code);
	buf_puts(&r->out, "</section>\n");
	page_end(r);
	free(epci_href);
	commune_free(&c);
}

/* The visible plans whose territory names the EPCI, one of its départements or communes. */
static struct db_stmt *epci_plans(struct req *r, const char *code)
{
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT p.id, p.kind, p.title, p.start_year, p.end_year, p.is_public, "
	           "MIN(CASE t.scope WHEN 'epci' THEN 1 WHEN 'departement' THEN 2 ELSE 3 END) "
	           "FROM plans p JOIN plan_territory t ON t.plan_id = p.id "
	           "WHERE ((t.scope = 'epci' AND t.code = ?) "
	           " OR (t.scope = 'departement' AND t.code IN "
	           "  (SELECT c.departement FROM communes c WHERE c.epci = ?)) "
	           " OR (t.scope = 'commune' AND t.code IN "
	           "  (SELECT c.code FROM communes c WHERE c.epci = ?))) "
	           "AND " PLAN_VISIBLE_WHERE " "
	           "GROUP BY p.id, p.kind, p.title, p.start_year, p.end_year, p.is_public "
	           "ORDER BY p.start_year DESC NULLS LAST, p.title");
	if (!st)
		return NULL;
	db_bindf(st, "sss", code, code, code);
	plan_bind_visible(st, 4, r);
	return st;
}

/* A percentage with one decimal and a French narrow no-break space before the sign. */
static void put_share(struct buf *o, double part, double whole)
{
	if (whole > 0)
		html_printf(o, "%.1f" NNBSP "%%", 100.0 * part / whole);
	else
		buf_puts(o, "inconnue");
}

/* GET /epcis/{code}: an EPCI, its member communes, the plans that cover it, its actors. */
static void epci_page(struct req *r)
{
	struct epci e;
	int rc = epci_load(r->db, r->params[0], &e);
	if (rc) {
		if (rc < 0)
			resp_error(r, 500, "Lecture de l'EPCI impossible.");
		else
			resp_error(r, 404,
			           "Cet EPCI n'existe pas : le code attendu est son numéro "
			           "SIREN, 9 chiffres.");
		epci_free(&e);
		return;
	}
	/* Sums over the member communes present in the database. */
	int64_t sum = 0, with_population = 0, with_coordinates = 0, actors = 0;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT SUM(population), COUNT(population), "
	                               "SUM(CASE WHEN latitude IS NULL OR longitude IS NULL "
	                               "THEN 0 ELSE 1 END) "
	                               "FROM communes WHERE epci = ?",
	                               "s", e.code);
	if (st && db_step(st) == DB_ROW) {
		sum = db_col_int64(st, 0);
		with_population = db_col_int64(st, 1);
		with_coordinates = db_col_int64(st, 2);
	}
	db_finalize(st);
	db_int64f(r->db, &actors,
	          "SELECT COUNT(*) FROM actors a JOIN communes c ON c.code = a.commune "
	          "WHERE c.epci = ?",
	          "s", e.code);
	/* Shares are of the EPCI's own figure when known, else of the communes' sum. */
	double whole = e.has_population && e.population > 0 ? (double)e.population : (double)sum;

	page_begin(r, e.name, (const struct crumb[]){{"Territoire", "/territoire"}, {NULL, NULL}});
	const char *label = epci_kind_label(e.kind);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p>\n<h1>%s</h1>\n<dl class=\"facts\">",
	            label ? label : "Intercommunalité (EPCI)", e.name);
	buf_puts(&r->out, "<div><dt>Nature</dt><dd>");
	if (label)
		html_printf(&r->out, "%s (%s)", label, e.kind);
	else
		put_epci_kind(&r->out, e.kind);
	html_printf(&r->out, "</dd></div><div><dt>SIREN</dt><dd>%s</dd></div>", e.code);
	buf_puts(&r->out, "<div><dt>Population</dt><dd>");
	if (e.has_population) {
		char pop[64];
		format_int(pop, e.population);
		html_printf(&r->out,
		            "%s habitant%s <span class=\"hint\">(population municipale, "
		            "DGCL)</span>",
		            pop, e.population > 1 ? "s" : "");
	} else {
		buf_puts(&r->out, "inconnue");
	}
	char count[64];
	format_int(count, e.commune_count);
	/* Members in départements that are not loaded are missing from the database. */
	int partial = whole > 0 && (double)sum < 0.95 * whole;
	html_printf(&r->out, "</dd></div><div><dt>Communes</dt><dd>%s%R</dd></div>", count,
	            partial ? " dans les départements chargés" : "");
	buf_puts(&r->out, "<div><dt>Départements</dt><dd>");
	st = db_queryf(r->db,
	               "SELECT DISTINCT c.departement, d.name FROM communes c "
	               "JOIN departements d ON d.code = c.departement WHERE c.epci = ? "
	               "ORDER BY c.departement",
	               "s", e.code);
	int n = 0;
	while (st && db_step(st) == DB_ROW)
		html_printf(&r->out, "%R<a href=\"/territoire#dep-%u\">%s (%s)</a>",
		            n++ ? ", " : "", db_col_text(st, 0), db_col_text(st, 1),
		            db_col_text(st, 0));
	db_finalize(st);
	if (!n)
		buf_puts(&r->out, "inconnus");
	format_int(count, actors);
	html_printf(&r->out,
	            "</dd></div><div><dt>Acteurs</dt><dd>%s acteur%s implanté%s dans ses communes "
	            "· <a href=\"/acteurs?epci=%u\">voir la liste</a></dd></div></dl>\n",
	            count, actors > 1 ? "s" : "", actors > 1 ? "s" : "", e.code);

	buf_puts(&r->out, "<section aria-labelledby=\"communes\"><h2 id=\"communes\">Communes "
	                  "membres</h2>\n");
	st = db_queryf(r->db,
	               "SELECT c.code, c.name, c.population, "
	               "CASE WHEN c.latitude IS NULL OR c.longitude IS NULL THEN 0 ELSE 1 END "
	               "FROM communes c WHERE c.epci = ? "
	               "ORDER BY c.search_name, c.code",
	               "s", e.code);
	n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    &r->out,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Communes "
			    "membres de l'EPCI et leur part de sa population</caption>\n"
			    "<thead><tr><th scope=\"col\">Commune</th>"
			    "<th scope=\"col\">Code INSEE</th>"
			    "<th scope=\"col\">Population</th>"
			    "<th scope=\"col\">Part de la population de l'EPCI</th>"
			    "<th scope=\"col\">Coordonnées connues</th></tr></thead>\n"
			    "<tbody>\n");
		html_printf(&r->out,
		            "<tr><th scope=\"row\"><a href=\"/communes/%u\">%s</a></th><td>%s</td>"
		            "<td class=\"num\">",
		            db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 0));
		put_population(&r->out, st, 2);
		buf_puts(&r->out, "</td><td class=\"num\">");
		if (db_col_is_null(st, 2))
			buf_puts(&r->out, "inconnue");
		else
			put_share(&r->out, (double)db_col_int64(st, 2), whole);
		html_printf(&r->out, "</td><td>%s</td></tr>\n",
		            db_col_int64(st, 3) ? "oui" : "non");
	}
	db_finalize(st);
	if (n) {
		char total[64], coords[64];
		format_int(total, sum);
		format_int(count, n);
		format_int(coords, with_coordinates);
		html_printf(&r->out,
		            "</tbody>\n<tfoot><tr><th scope=\"row\">Total (%s commune%s)</th>"
		            "<td></td><td class=\"num\">%s</td><td class=\"num\">",
		            count, n > 1 ? "s" : "", with_population ? total : "inconnue");
		put_share(&r->out, (double)sum, whole);
		html_printf(&r->out, "</td><td>%s sur %s</td></tr></tfoot></table></div>\n", coords,
		            count);
		buf_puts(&r->out,
		         "<p class=\"hint\">Part calculée sur la population municipale de "
		         "l'EPCI (DGCL) ; les populations des communes (INSEE) sont d'un autre "
		         "millésime : le total peut s'écarter un peu de 100" NNBSP "%.");
		if (partial)
			buf_puts(&r->out,
			         " Une partie des communes membres, situées dans des "
			         "départements qui ne sont pas chargés, ne figure pas ici.");
		buf_puts(&r->out, "</p>\n");
	} else {
		buf_puts(&r->out, "<p>Aucune commune membre n'est chargée.</p>\n");
	}
	buf_puts(&r->out, "</section>\n");

	buf_puts(&r->out, "<section aria-labelledby=\"plans\"><h2 id=\"plans\">Plans couvrant "
	                  "l'EPCI</h2>\n");
	static const char *const coverage[3] = {"l'EPCI entier", "par le département",
	                                        "certaines de ses communes"};
	plans_table(r, epci_plans(r, e.code),
	            "Plans dont le territoire couvre l'EPCI, son département ou certaines de ses "
	            "communes",
	            coverage, "Aucun plan visible ne couvre cet EPCI.");
	if (!r->user)
		buf_puts(&r->out, "<p class=\"hint\">Les plans privés apparaissent après "
		                  "connexion, pour leurs membres.</p>\n");
	buf_puts(&r->out, "</section>\n");
	html_printf(&r->out,
	            "<nav aria-label=\"Lectures du territoire\"><ul class=\"inline-list\">"
	            "<li><a href=\"/territoire/synthese?epci=%u\">Synthèse du territoire</a></li>"
	            "<li><a href=\"/territoire/couverture?echelle=commune&amp;epci=%u\">Taux de "
	            "couverture</a></li><li><a href=\"/territoire/accessibilite?epci=%u\">"
	            "Accessibilité (2SFCA)</a></li><li><a href=\"/territoire/carte?epci=%u\">"
	            "Carte</a></li><li><a href=\"/besoins?epci=%u\">Besoins repérés</a></li>"
	            "</ul></nav>\n",
	            e.code, e.code, e.code, e.code, e.code);
	page_end(r);
	epci_free(&e);
}

/* --- API -------------------------------------------------------------------------------------- */

/* GET /api/v1/communes?q=&departement=&epci=&limit=&offset= */
static void api_communes(struct req *r)
{
	const char *q = req_query(r, "q"), *departement, *epci;
	int64_t limit, offset;
	if (search_text_check(r, q) ||
	    code_arg(r, "departement", departement_code_valid,
	             "Le paramètre « departement » n'est pas un code de département valide "
	             "(par exemple 26 ou 2A).",
	             &departement) ||
	    code_arg(r, "epci", epci_code_valid,
	             "Le paramètre « epci » doit être un numéro SIREN de 9 chiffres.", &epci))
		return;
	if (int_arg(r, "limit", API_LIMIT_DEFAULT, 0, API_LIMIT_MAX, &limit)) {
		resp_error(r, 400, "Le paramètre « limit » doit être un entier entre 0 et 500.");
		return;
	}
	if (int_arg(r, "offset", 0, 0, API_OFFSET_MAX, &offset)) {
		resp_error(r, 400,
		           "Le paramètre « offset » doit être un entier entre 0 et "
		           "1" NNBSP "000" NNBSP "000.");
		return;
	}
	struct commune_filter f;
	filter_init(&f, q, departement, epci);
	int64_t total = 0;
	struct db_stmt *st = commune_search(r->db, &f, limit, offset, &total);
	filter_free(&f);
	if (!st) {
		resp_error(r, 500, "La recherche de communes a échoué.");
		return;
	}
	json_t *items = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(items, commune_item_json(st));
	db_finalize(st);
	resp_json(r, 200,
	          json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "limit",
	                    (json_int_t)limit, "offset", (json_int_t)offset, "items", items));
}

/* {"code","name"} of a linked place, or null. */
static json_t *ref_json(const char *code, const char *name)
{
	if (!code)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "code", json_text(code));
	json_object_set_new(o, "name", json_text(name));
	return o;
}

/* GET /api/v1/communes/{code} */
static void api_commune(struct req *r)
{
	struct commune c;
	int rc = commune_load(r->db, r->params[0], &c);
	if (rc) {
		resp_error(
		    r, rc < 0 ? 500 : 404,
		    rc < 0 ? "Lecture de la commune impossible."
		           : "Commune introuvable : le code INSEE attendu compte 5 caractères.");
		commune_free(&c);
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "code", json_text(c.code));
	json_object_set_new(o, "name", json_text(c.name));
	json_object_set_new(o, "postal_codes", postal_codes_json(c.postal_codes));
	json_object_set_new(o, "population",
	                    c.has_population ? json_integer(c.population) : json_null());
	json_object_set_new(o, "latitude", c.has_coordinates ? json_real(c.latitude) : json_null());
	json_object_set_new(o, "longitude",
	                    c.has_coordinates ? json_real(c.longitude) : json_null());
	json_object_set_new(o, "departement", ref_json(c.departement, c.departement_name));
	json_object_set_new(o, "epci", ref_json(c.epci, c.epci_name));
	json_t *actors = json_array();
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, name, kind FROM actors WHERE commune = ? "
	                               "ORDER BY search_name, id",
	                               "s", c.code);
	while (st && db_step(st) == DB_ROW) {
		json_t *a = json_object();
		json_object_set_new(a, "id", json_integer(db_col_int64(st, 0)));
		json_object_set_new(a, "name", col_json_text(st, 1));
		json_object_set_new(a, "kind", col_json_text(st, 2));
		json_array_append_new(actors, a);
	}
	db_finalize(st);
	json_object_set_new(o, "actors", actors);
	commune_free(&c);
	resp_json(r, 200, o);
}

/* An EPCI row (code, name, kind, population, commune_count) as JSON. */
static json_t *epci_json(const char *code, const char *name, const char *kind, json_t *population,
                         int64_t commune_count)
{
	json_t *o = json_object();
	json_object_set_new(o, "code", json_text(code));
	json_object_set_new(o, "name", json_text(name));
	json_object_set_new(o, "kind", json_text(kind));
	json_object_set_new(o, "kind_label", json_text(epci_kind_label(kind)));
	json_object_set_new(o, "population", population);
	json_object_set_new(o, "commune_count", json_integer(commune_count));
	return o;
}

/* GET /api/v1/epcis?departement= */
static void api_epcis(struct req *r)
{
	const char *departement;
	if (code_arg(r, "departement", departement_code_valid,
	             "Le paramètre « departement » n'est pas un code de département valide "
	             "(par exemple 26 ou 2A).",
	             &departement))
		return;
	/* All EPCIs, or those with a commune in the département. */
	static const char *const sql[2] = {
	    "SELECT e.code, e.name, e.kind, e.population, "
	    "(SELECT COUNT(*) FROM communes c WHERE c.epci = e.code) "
	    "FROM epcis e "
	    "ORDER BY e.search_name, e.code",
	    "SELECT e.code, e.name, e.kind, e.population, "
	    "(SELECT COUNT(*) FROM communes c WHERE c.epci = e.code) "
	    "FROM epcis e "
	    "WHERE EXISTS (SELECT 1 FROM communes c WHERE c.epci = e.code AND c.departement = ?) "
	    "ORDER BY e.search_name, e.code",
	};
	struct db_stmt *st = db_prepare(r->db, sql[departement != NULL]);
	if (!st) {
		resp_error(r, 500, "Lecture des EPCI impossible.");
		return;
	}
	if (departement)
		db_bind_text(st, 1, departement);
	json_t *items = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(items, epci_json(db_col_text(st, 0), db_col_text(st, 1),
		                                       db_col_text(st, 2), col_json_int(st, 3),
		                                       db_col_int64(st, 4)));
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:o}", "items", items));
}

/* GET /api/v1/epcis/{code} */
static void api_epci(struct req *r)
{
	struct epci e;
	int rc = epci_load(r->db, r->params[0], &e);
	if (rc) {
		resp_error(r, rc < 0 ? 500 : 404,
		           rc < 0
		               ? "Lecture de l'EPCI impossible."
		               : "EPCI introuvable : le code attendu est un SIREN de 9 chiffres.");
		epci_free(&e);
		return;
	}
	json_t *o =
	    epci_json(e.code, e.name, e.kind,
	              e.has_population ? json_integer(e.population) : json_null(), e.commune_count);
	struct commune_filter f;
	filter_init(&f, NULL, NULL, e.code);
	int64_t total = 0;
	struct db_stmt *st = commune_search(r->db, &f, e.commune_count, 0, &total);
	filter_free(&f);
	json_t *communes = json_array();
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(communes, commune_item_json(st));
	db_finalize(st);
	json_object_set_new(o, "communes", communes);
	epci_free(&e);
	resp_json(r, 200, o);
}

const struct route geo_routes[] = {
    {M_GET, "/territoire", ACC_PUBLIC, territory_page,
     "Les départements et leurs EPCI, avec la recherche de communes"},
    {M_GET, "/communes", ACC_PUBLIC, communes_page,
     "Rechercher une commune par nom, code INSEE ou code postal"},
    {M_GET, "/communes/{code}", ACC_PUBLIC, commune_page,
     "Une commune : chiffres, EPCI, acteurs, plans qui la couvrent"},
    {M_GET, "/epcis/{code}", ACC_PUBLIC, epci_page,
     "Un EPCI : communes membres, plans qui le couvrent, acteurs"},
    {M_GET, "/api/v1/communes", ACC_PUBLIC, api_communes,
     "Communes (filtres q, departement, epci ; pagination limit, offset)"},
    {M_GET, "/api/v1/communes/{code}", ACC_PUBLIC, api_commune,
     "Une commune avec son département, son EPCI et ses acteurs"},
    {M_GET, "/api/v1/epcis", ACC_PUBLIC, api_epcis, "Les EPCI (filtre departement)"},
    {M_GET, "/api/v1/epcis/{code}", ACC_PUBLIC, api_epci, "Un EPCI avec ses communes"},
    {0},
};
