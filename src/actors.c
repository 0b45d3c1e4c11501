/* actors: the directory of actors (structures) — list with filters, one actor, JSON API. */
#include "actors.h"

#include "db.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ACTORS_PAGE_SIZE 50  /* rows a page of /acteurs */
#define ACTORS_API_LIMIT 50  /* default limit of /api/v1/actors */
#define ACTORS_API_MAX   500 /* highest limit of /api/v1/actors */
#define ACTORS_TEXT_MAX  200 /* characters of a name search or a commune name */

/* --- kinds ------------------------------------------------------------------------------------ */

static const struct {
	const char *kind, *label;
} actor_kinds[] = {
    {"caf", "Caf"},
    {"departement", "Département"},
    {"epci", "Intercommunalité (EPCI)"},
    {"commune", "Commune"},
    {"ccas", "CCAS / CIAS"},
    {"centre_social", "Centre social"},
    {"evs", "Espace de vie sociale"},
    {"association", "Association"},
    {"eaje", "Établissement d'accueil du jeune enfant (EAJE)"},
    {"mam", "Maison d'assistants maternels (MAM)"},
    {"rpe", "Relais petite enfance (RPE)"},
    {"alsh", "Accueil de loisirs (ALSH)"},
    {"laep", "Lieu d'accueil enfants-parents (LAEP)"},
    {"france_services", "France services"},
    {"point_numerique", "Point numérique Caf"},
    {"mission_locale", "Mission locale"},
    {"msa", "MSA"},
    {"etat", "Services de l'État"},
    {"autre", "Autre"},
};

#define NKINDS (sizeof actor_kinds / sizeof *actor_kinds)

const char *actor_kind_label(const char *kind)
{
	for (size_t i = 0; kind && i < NKINDS; i++)
		if (!strcmp(actor_kinds[i].kind, kind))
			return actor_kinds[i].label;
	return "Autre";
}

int actor_kind_valid(const char *kind)
{
	for (size_t i = 0; kind && i < NKINDS; i++)
		if (!strcmp(actor_kinds[i].kind, kind))
			return 1;
	return 0;
}

/* --- small helpers ---------------------------------------------------------------------------- */

/* Number of characters (code points) of a valid UTF-8 string. */
static size_t utf8_length(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* s when it is an http:// or https:// address, else NULL: the only links we print. */
static const char *website_safe(const char *s)
{
	if (!s)
		return NULL;
	size_t n = !strncasecmp(s, "http://", 7) ? 7 : !strncasecmp(s, "https://", 8) ? 8 : 0;
	return n && s[n] ? s : NULL;
}

/* A copy of s (malloc'ed), or NULL for NULL. */
static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A JSON string for s, or JSON null when s is NULL (or not UTF-8). New reference. */
static json_t *json_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

/* 1 when s is a commune INSEE code: five digits, or 2A/2B and three digits (Corsica). */
static int insee_code_valid(const char *s)
{
	if (strlen(s) != 5)
		return 0;
	for (int i = 0; i < 5; i++) {
		int digit = s[i] >= '0' && s[i] <= '9';
		int corsica = i == 1 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
		if (!digit && !corsica)
			return 0;
	}
	return 1;
}

/* 1 when s is the SIREN of an EPCI: nine digits. */
static int siren_valid(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n == 9;
}

/* --- filters ---------------------------------------------------------------------------------- */

/*
 * The filters of the list, shared by the page and the API. Every string is a trimmed copy
 * owned by the filter (NULL when the argument is absent or blank); free with filter_free().
 */
struct actor_filter {
	char *q;       /* part of the name, matched without regard to case or accents */
	char *kind;    /* one of actor_kinds */
	char *commune; /* an INSEE code (commune_is_code) or a commune name */
	int commune_is_code;
	char *epci;        /* SIREN of the EPCI of the actor's commune */
	char *q_pattern;   /* text_fold(q) as a LIKE pattern: "%key%" with \ % _ escaped */
	char *commune_key; /* text_fold(commune) when commune is a name, else NULL */
};

static void filter_free(struct actor_filter *f)
{
	free(f->q);
	free(f->kind);
	free(f->commune);
	free(f->epci);
	free(f->q_pattern);
	free(f->commune_key);
	memset(f, 0, sizeof *f);
}

/* A trimmed copy of query argument key, or NULL when absent or blank. */
static char *query_trimmed(struct req *r, const char *key)
{
	const char *v = req_query(r, key);
	if (str_blank(v))
		return NULL;
	return str_trim_dup(v);
}

/*
 * Read q, type, commune and epci from the query into f (zeroed here). Returns NULL when every
 * value is acceptable, else a French message (static string) saying which one is not. In both
 * cases f holds what was given and the caller frees it with filter_free().
 */
static const char *filter_parse(struct req *r, struct actor_filter *f)
{
	memset(f, 0, sizeof *f);
	f->q = query_trimmed(r, "q");
	f->kind = query_trimmed(r, "type");
	f->commune = query_trimmed(r, "commune");
	f->epci = query_trimmed(r, "epci");

	if (f->q && utf8_length(f->q) > ACTORS_TEXT_MAX)
		return "La recherche sur le nom est limitée à 200 caractères.";
	if (f->kind && !actor_kind_valid(f->kind))
		return "Ce type d'acteur n'existe pas : choisissez-en un dans la liste.";
	if (f->commune) {
		/* A commune code starts with a digit; a commune name never does. */
		if (f->commune[0] >= '0' && f->commune[0] <= '9') {
			if (f->commune[1] == 'a' || f->commune[1] == 'b')
				f->commune[1] = (char)(f->commune[1] - 'a' + 'A');
			if (!insee_code_valid(f->commune))
				return "Le code de commune doit être un code INSEE de 5 caractères "
				       "(par exemple 26108 ou 2A004).";
			f->commune_is_code = 1;
		} else if (utf8_length(f->commune) > ACTORS_TEXT_MAX) {
			return "Le nom de commune est limité à 200 caractères.";
		} else {
			f->commune_key = text_fold(f->commune);
		}
	}
	if (f->epci && !siren_valid(f->epci))
		return "Le code de l'intercommunalité doit être un numéro SIREN de 9 chiffres.";

	if (f->q) {
		char *key = text_fold(f->q);
		f->q_pattern = text_like_pattern("%", key, "%");
		free(key);
	}
	return NULL;
}

/* 1 when some filter is set. */
static int filter_any(const struct actor_filter *f)
{
	return f->q || f->kind || f->commune || f->epci;
}

/*
 * Append to sql the FROM and WHERE clauses for f: literal fragments only, the values are bound
 * by filter_bind() in the same order. The actor is `a`, its commune (if any) `c`. Names are
 * compared through their stored search keys (search_name = text_fold(name)).
 */
static void filter_sql(struct buf *sql, const struct actor_filter *f)
{
	buf_puts(sql, " FROM actors a LEFT JOIN communes c ON c.code = a.commune WHERE 1 = 1");
	if (f->q)
		buf_puts(sql, " AND a.search_name LIKE ? ESCAPE '\\'");
	if (f->kind)
		buf_puts(sql, " AND a.kind = ?");
	if (f->commune)
		buf_puts(sql, f->commune_is_code ? " AND a.commune = ?" : " AND c.search_name = ?");
	if (f->epci)
		buf_puts(sql, " AND c.epci = ?");
}

/* Bind the values of f for filter_sql(); returns the next free parameter position. */
static int filter_bind(struct db_stmt *st, const struct actor_filter *f)
{
	int i = 1;
	if (f->q)
		db_bind_text(st, i++, f->q_pattern);
	if (f->kind)
		db_bind_text(st, i++, f->kind);
	if (f->commune)
		db_bind_text(st, i++, f->commune_is_code ? f->commune : f->commune_key);
	if (f->epci)
		db_bind_text(st, i++, f->epci);
	return i;
}

/* The number of actors matching f into *total. DB_OK or an error code. */
static int actors_count(struct db *db, const struct actor_filter *f, int64_t *total)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT COUNT(*)");
	filter_sql(&sql, f);
	struct db_stmt *st = db_prepare(db, buf_str(&sql));
	buf_free(&sql);
	if (!st)
		return DB_ERROR;
	filter_bind(st, f);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		*total = db_col_int64(st, 0);
		rc = DB_OK;
	} else {
		rc = DB_ERROR;
	}
	db_finalize(st);
	return rc;
}

/* Columns of actors_select(). */
enum {
	COL_ID,
	COL_NAME,
	COL_KIND,
	COL_SIRET,
	COL_ADDRESS,
	COL_COMMUNE,
	COL_COMMUNE_NAME,
	COL_LATITUDE,
	COL_LONGITUDE,
	COL_WEBSITE,
};

/*
 * The actors matching f, by name, `limit` rows from `offset`, with the columns COL_*. The
 * caller steps and finalizes the statement; NULL on error.
 */
static struct db_stmt *actors_select(struct db *db, const struct actor_filter *f, int64_t limit,
                                     int64_t offset)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT a.id, a.name, a.kind, a.siret, a.address, a.commune, c.name, "
	               "a.latitude, a.longitude, a.website");
	filter_sql(&sql, f);
	buf_puts(&sql, " ORDER BY a.search_name, a.id LIMIT ? OFFSET ?");
	struct db_stmt *st = db_prepare(db, buf_str(&sql));
	buf_free(&sql);
	if (!st)
		return NULL;
	int i = filter_bind(st, f);
	db_bind_int64(st, i, limit);
	db_bind_int64(st, i + 1, offset);
	return st;
}

/* --- one actor -------------------------------------------------------------------------------- */

/* An actor with its commune and EPCI; every string is owned (NULL when unknown). */
struct actor {
	int64_t id;
	char *name, *kind, *siret, *address, *website, *description;
	char *commune, *commune_name, *epci, *epci_name;
	int has_coordinates;
	double latitude, longitude;
};

static void actor_free(struct actor *a)
{
	free(a->name);
	free(a->kind);
	free(a->siret);
	free(a->address);
	free(a->website);
	free(a->description);
	free(a->commune);
	free(a->commune_name);
	free(a->epci);
	free(a->epci_name);
	memset(a, 0, sizeof *a);
}

/* Load actor id into a (zeroed here). 1 when found, 0 when missing, -1 on a database error.
 * Free a with actor_free() in every case. */
static int actor_load(struct db *db, int64_t id, struct actor *a)
{
	memset(a, 0, sizeof *a);
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT a.id, a.name, a.kind, a.siret, a.address, a.website, "
	              "a.description, a.commune, c.name, c.epci, e.name, "
	              "a.latitude, a.longitude "
	              "FROM actors a "
	              "LEFT JOIN communes c ON c.code = a.commune "
	              "LEFT JOIN epcis e ON e.code = c.epci "
	              "WHERE a.id = ?",
	              "I", id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		return rc == DB_DONE ? 0 : -1;
	}
	a->id = db_col_int64(st, 0);
	a->name = dup_or_null(db_col_text(st, 1));
	a->kind = dup_or_null(db_col_text(st, 2));
	a->siret = str_blank(db_col_text(st, 3)) ? NULL : xstrdup(db_col_text(st, 3));
	a->address = str_blank(db_col_text(st, 4)) ? NULL : xstrdup(db_col_text(st, 4));
	a->website = dup_or_null(website_safe(db_col_text(st, 5)));
	a->description = str_blank(db_col_text(st, 6)) ? NULL : xstrdup(db_col_text(st, 6));
	a->commune = dup_or_null(db_col_text(st, 7));
	a->commune_name = dup_or_null(db_col_text(st, 8));
	a->epci = dup_or_null(db_col_text(st, 9));
	a->epci_name = dup_or_null(db_col_text(st, 10));
	if (!db_col_is_null(st, 11) && !db_col_is_null(st, 12)) {
		a->has_coordinates = 1;
		a->latitude = db_col_double(st, 11);
		a->longitude = db_col_double(st, 12);
	}
	db_finalize(st);
	return 1;
}

/*
 * The plans actor_id signed that the request may see, most recent first: columns id, title,
 * kind, start_year, end_year. The caller steps and finalizes; NULL on error.
 */
static struct db_stmt *signed_plans_select(struct req *r, int64_t actor_id)
{
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT p.id, p.title, p.kind, p.start_year, "
	                      "p.end_year "
	                      "FROM plan_signatories s JOIN plans p ON p.id = s.plan_id "
	                      "WHERE s.actor_id = ? AND " PLAN_VISIBLE_WHERE
	                      " ORDER BY p.start_year DESC, p.title, p.id");
	if (!st)
		return NULL;
	db_bind_int64(st, 1, actor_id);
	plan_bind_visible(st, 2, r);
	return st;
}

/* --- pages ------------------------------------------------------------------------------------ */

/* Append the filters of f as a query string ("q=…&type=…&"), percent-encoded. */
static void filter_query_string(struct buf *b, const struct actor_filter *f)
{
	const char *keys[] = {"q", "type", "commune", "epci"};
	const char *vals[] = {f->q, f->kind, f->commune, f->epci};
	for (size_t i = 0; i < 4; i++) {
		if (!vals[i])
			continue;
		buf_puts(b, keys[i]);
		buf_putc(b, '=');
		buf_url(b, vals[i]);
		buf_putc(b, '&');
	}
}

/* The filter form, filled with the values of f. */
static void filter_form(struct req *r, const struct actor_filter *f)
{
	struct buf *o = &r->out;
	html_printf(
	    o,
	    "<form method=\"get\" action=\"/acteurs\" class=\"form filters\" "
	    "role=\"search\" aria-label=\"Filtrer les acteurs\">\n"
	    "<div class=\"field\"><label for=\"f-q\">Nom contient</label>"
	    "<input id=\"f-q\" name=\"q\" type=\"search\" maxlength=\"200\" value=\"%s\">"
	    "</div>\n"
	    "<div class=\"field\"><label for=\"f-type\">Type de structure</label>"
	    "<select id=\"f-type\" name=\"type\"><option value=\"\">Tous les types</option>",
	    f->q);
	for (size_t i = 0; i < NKINDS; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", actor_kinds[i].kind,
		            f->kind && !strcmp(f->kind, actor_kinds[i].kind) ? " selected" : "",
		            actor_kinds[i].label);
	html_printf(
	    o,
	    "</select></div>\n"
	    "<div class=\"field\"><label for=\"f-commune\">Commune (code INSEE ou nom)"
	    "</label><input id=\"f-commune\" name=\"commune\" maxlength=\"200\" "
	    "value=\"%s\" aria-describedby=\"f-commune-hint\">"
	    "<p class=\"hint\" id=\"f-commune-hint\">Par exemple 26108 ou Crest.</p></div>\n"
	    "<div class=\"field\"><label for=\"f-epci\">Intercommunalité (EPCI)</label>"
	    "<select id=\"f-epci\" name=\"epci\"><option value=\"\">Toutes</option>",
	    f->commune);
	/* The EPCIs where some actor is based. */
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT DISTINCT e.code, e.name, e.search_name FROM actors a "
	                      "JOIN communes c ON c.code = a.commune "
	                      "JOIN epcis e ON e.code = c.epci ORDER BY e.search_name, e.code");
	int found = 0;
	while (st && db_step(st) == DB_ROW) {
		int selected = f->epci && !strcmp(f->epci, db_col_text(st, 0));
		found |= selected;
		html_printf(o, "<option value=\"%s\"%R>%s</option>", db_col_text(st, 0),
		            selected ? " selected" : "", db_col_text(st, 1));
	}
	db_finalize(st);
	if (f->epci && !found)
		html_printf(o, "<option value=\"%s\" selected>%s</option>", f->epci, f->epci);
	buf_puts(o,
	         "</select></div>\n"
	         "<div class=\"actions\"><button type=\"submit\" class=\"button\">Filtrer</button>"
	         " <a href=\"/acteurs\">Tout afficher</a></div>\n</form>\n");
}

/* Links to the previous and next pages of the list, keeping the filters. */
static void pagination(struct req *r, const struct actor_filter *f, int64_t page, int64_t pages)
{
	if (pages <= 1)
		return;
	struct buf base = {0};
	buf_puts(&base, "/acteurs?");
	filter_query_string(&base, f);
	html_printf(&r->out, "<nav class=\"pagination\" aria-label=\"Pages de résultats\"><ul>");
	if (page > 1)
		html_printf(&r->out,
		            "<li><a href=\"%spage=%lld\" rel=\"prev\">Page précédente</a></li>",
		            buf_str(&base), (long long)(page - 1));
	html_printf(&r->out, "<li aria-current=\"page\">Page %lld sur %lld</li>", (long long)page,
	            (long long)pages);
	if (page < pages)
		html_printf(&r->out,
		            "<li><a href=\"%spage=%lld\" rel=\"next\">Page suivante</a></li>",
		            buf_str(&base), (long long)(page + 1));
	buf_puts(&r->out, "</ul></nav>\n");
	buf_free(&base);
}

static const char actors_lead[] =
    "<p class=\"lead\">Les structures qui agissent sur le territoire : Caf, collectivités, "
    "centres sociaux, associations, services… Cet annuaire ne recense que des informations "
    "publiques sur les structures, aucune coordonnée personnelle.</p>\n";

/* GET /acteurs: the list of actors, filtered, 50 a page. */
static void actors_page(struct req *r)
{
	struct actor_filter f;
	const char *problem = filter_parse(r, &f);
	int64_t page = 1, total = 0;
	const char *page_arg = req_query(r, "page");
	if (!problem && !str_blank(page_arg) && (parse_int64(page_arg, &page) || page < 1))
		problem = "Le numéro de page doit être un entier positif (1, 2, 3…).";
	if (problem) {
		/* The form again with what was given, so that it can be corrected. */
		page_begin(r, "Acteurs", NULL);
		buf_puts(&r->out, "<h1>Acteurs</h1>\n");
		page_notice(r, "error", problem);
		filter_form(r, &f);
		page_end(r);
		r->status = 400;
		goto out;
	}
	if (actors_count(r->db, &f, &total) != DB_OK) {
		resp_error(r, 500, "Lecture des acteurs impossible.");
		goto out;
	}
	int64_t pages = total ? (total + ACTORS_PAGE_SIZE - 1) / ACTORS_PAGE_SIZE : 1;
	if (page > pages) {
		char *m = xasprintf("Cette page de résultats n'existe pas : la liste compte %lld "
		                    "page%s.",
		                    (long long)pages, pages > 1 ? "s" : "");
		resp_error(r, 404, m);
		free(m);
		goto out;
	}
	int64_t offset = (page - 1) * ACTORS_PAGE_SIZE;
	struct db_stmt *st = actors_select(r->db, &f, ACTORS_PAGE_SIZE, offset);
	if (!st) {
		resp_error(r, 500, "Lecture des acteurs impossible.");
		goto out;
	}

	if (page > 1) {
		char *title = xasprintf("Acteurs, page %lld", (long long)page);
		page_begin(r, title, NULL);
		free(title);
	} else {
		page_begin(r, "Acteurs", NULL);
	}
	buf_puts(&r->out, "<h1>Acteurs</h1>\n");
	buf_puts(&r->out, actors_lead);
	filter_form(r, &f);

	int64_t shown_to = offset + ACTORS_PAGE_SIZE < total ? offset + ACTORS_PAGE_SIZE : total;
	if (total == 0)
		html_printf(&r->out, "<p class=\"count\">%s</p>\n",
		            filter_any(&f) ? "Aucun acteur ne correspond à ces critères."
		                           : "L'annuaire ne compte encore aucun acteur.");
	else if (pages > 1)
		html_printf(&r->out,
		            "<p class=\"count\">%lld acteur%R%R ; affichage "
		            "des acteurs %lld à %lld.</p>\n",
		            (long long)total, total > 1 ? "s" : "",
		            filter_any(&f) ? (total > 1 ? " correspondent à ces critères"
		                                        : " correspond à ces critères")
		                           : " au total",
		            (long long)offset + 1, (long long)shown_to);
	else
		html_printf(&r->out, "<p class=\"count\">%lld acteur%R%R.</p>\n", (long long)total,
		            total > 1 ? "s" : "",
		            filter_any(&f) ? (total > 1 ? " correspondent à ces critères"
		                                        : " correspond à ces critères")
		                           : " au total");

	if (total > 0) {
		html_printf(&r->out,
		            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Acteurs%R (page %lld sur "
		            "%lld)</caption>\n<thead><tr><th scope=\"col\">Nom</th>"
		            "<th scope=\"col\">Type</th><th scope=\"col\">Commune</th>"
		            "<th scope=\"col\">Site web</th></tr></thead>\n<tbody>\n",
		            filter_any(&f) ? " correspondant aux critères" : "", (long long)page,
		            (long long)pages);
		while (db_step(st) == DB_ROW) {
			const char *code = db_col_text(st, COL_COMMUNE);
			const char *cname = db_col_text(st, COL_COMMUNE_NAME);
			const char *web = website_safe(db_col_text(st, COL_WEBSITE));
			html_printf(&r->out,
			            "<tr><th scope=\"row\"><a href=\"/acteurs/%lld\">%s</a></th>"
			            "<td>%s</td><td>",
			            (long long)db_col_int64(st, COL_ID), db_col_text(st, COL_NAME),
			            actor_kind_label(db_col_text(st, COL_KIND)));
			if (code)
				html_printf(&r->out, "<a href=\"/communes/%u\">%s</a>", code,
				            cname ? cname : code);
			buf_puts(&r->out, "</td><td>");
			if (web)
				html_printf(&r->out,
				            "<a href=\"%s\" rel=\"noopener noreferrer\">%s</a>",
				            web, web);
			buf_puts(&r->out, "</td></tr>\n");
		}
		buf_puts(&r->out, "</tbody></table></div>\n");
	}
	db_finalize(st);
	pagination(r, &f, page, pages);
	page_end(r);
out:
	filter_free(&f);
}

/* Plain text as paragraphs (split on blank lines) with line breaks kept, all escaped. */
static void text_paragraphs(struct buf *o, const char *text)
{
	char *copy = xstrdup(text);
	/* Normalise CR LF and lone CR to LF. */
	char *w = copy;
	for (const char *p = copy; *p; p++) {
		if (*p == '\r') {
			*w++ = '\n';
			if (p[1] == '\n')
				p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	int in_par = 0, lines = 0;
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (str_blank(line)) {
			if (in_par)
				buf_puts(o, "</p>\n");
			in_par = 0;
			continue;
		}
		if (!in_par) {
			buf_puts(o, "<p>");
			in_par = 1;
			lines = 0;
		}
		html_printf(o, "%R%s", lines++ ? "<br>\n" : "", line);
	}
	if (in_par)
		buf_puts(o, "</p>\n");
	free(copy);
}

/* A coordinate in degrees with its hemisphere: "44,72810° N". */
static void coordinate(struct buf *o, double v, const char *positive, const char *negative)
{
	html_printf(o, "%.5f° %s", fabs(v), v < 0 ? negative : positive);
}

/* GET /acteurs/{id}: one actor, its commune and EPCI, the visible plans it signed. */
static void actor_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	struct actor a;
	int found = actor_load(r->db, id, &a);
	if (found <= 0) {
		if (found < 0)
			resp_error(r, 500, "Lecture de l'acteur impossible.");
		else
			resp_error(r, 404, "Cet acteur n'existe pas.");
		actor_free(&a);
		return;
	}
	struct buf *o = &r->out;
	page_begin(r, a.name, (const struct crumb[]){{"Acteurs", "/acteurs"}, {NULL, NULL}});
	html_printf(o, "<p class=\"eyebrow\">%s</p>\n<h1>%s</h1>\n", actor_kind_label(a.kind),
	            a.name);
	buf_puts(o, "<dl class=\"facts\">");
	if (actor_kind_valid(a.kind))
		html_printf(o,
		            "<div><dt>Type</dt><dd><a href=\"/acteurs?type=%u\">%s</a></dd></div>",
		            a.kind, actor_kind_label(a.kind));
	else
		html_printf(o, "<div><dt>Type</dt><dd>%s</dd></div>", actor_kind_label(a.kind));
	if (a.siret)
		html_printf(o, "<div><dt>SIRET</dt><dd>%s</dd></div>", a.siret);
	html_printf(o, "<div><dt>Adresse</dt><dd>%s</dd></div>",
	            a.address ? a.address : "non renseignée");
	buf_puts(o, "<div><dt>Commune</dt><dd>");
	if (a.commune)
		html_printf(o, "<a href=\"/communes/%u\">%s</a> (%s)", a.commune,
		            a.commune_name ? a.commune_name : a.commune, a.commune);
	else
		buf_puts(o, "non renseignée");
	buf_puts(o, "</dd></div>");
	if (a.epci)
		html_printf(o,
		            "<div><dt>Intercommunalité (EPCI)</dt><dd><a href=\"/epcis/%u\">%s</a>"
		            "</dd></div>",
		            a.epci, a.epci_name ? a.epci_name : a.epci);
	if (a.has_coordinates) {
		buf_puts(o, "<div><dt>Coordonnées</dt><dd>");
		coordinate(o, a.latitude, "N", "S");
		buf_puts(o, ", ");
		coordinate(o, a.longitude, "E", "O");
		buf_puts(o, "</dd></div>");
	}
	if (a.website)
		html_printf(o,
		            "<div><dt>Site web</dt><dd><a href=\"%s\" rel=\"noopener noreferrer\">"
		            "%s</a></dd></div>",
		            a.website, a.website);
	buf_puts(o, "</dl>\n");

	if (a.description) {
		buf_puts(o, "<section aria-labelledby=\"presentation\"><h2 id=\"presentation\">"
		            "Présentation</h2>\n<div class=\"prose\">");
		text_paragraphs(o, a.description);
		buf_puts(o, "</div></section>\n");
	}

	buf_puts(o, "<section aria-labelledby=\"plans-signes\"><h2 id=\"plans-signes\">"
	            "Plans signés</h2>\n");
	struct db_stmt *st = signed_plans_select(r, a.id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ul>\n");
		html_printf(o, "<li><a href=\"/plans/%lld\">%s</a> <span class=\"hint\">%s",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            plan_kind_label(db_col_text(st, 2)));
		if (!db_col_is_null(st, 3) && !db_col_is_null(st, 4))
			html_printf(o, ", %lld – %lld", (long long)db_col_int64(st, 3),
			            (long long)db_col_int64(st, 4));
		buf_puts(o, "</span></li>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</ul>\n");
	else
		buf_puts(o,
		         "<p>Aucun plan visible pour vous n'est signé par cette structure.</p>\n");
	buf_puts(o, "</section>\n");
	actor_free(&a);
	page_end(r);
}

/* --- API -------------------------------------------------------------------------------------- */

/* Parse the optional integer query argument key into *out (left as is when absent or empty).
 * 0 when absent, empty or an integer within [min, max]; -1 otherwise. */
static int query_int(struct req *r, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const char *v = req_query(r, key);
	if (!v || !*v)
		return 0;
	int64_t n;
	if (parse_int64(v, &n) || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* GET /api/v1/actors: the actors matching q, type, commune, epci; limit and offset. */
static void api_actors(struct req *r)
{
	struct actor_filter f;
	const char *problem = filter_parse(r, &f);
	int64_t limit = ACTORS_API_LIMIT, offset = 0, total = 0;
	if (!problem && query_int(r, "limit", 1, ACTORS_API_MAX, &limit))
		problem = "Le paramètre limit doit être un entier entre 1 et 500.";
	if (!problem && query_int(r, "offset", 0, INT64_MAX, &offset))
		problem = "Le paramètre offset doit être un entier positif ou nul.";
	if (problem) {
		resp_error(r, 400, problem);
		goto out;
	}
	struct db_stmt *st = NULL;
	if (actors_count(r->db, &f, &total) != DB_OK ||
	    !(st = actors_select(r->db, &f, limit, offset))) {
		resp_error(r, 500, "Lecture des acteurs impossible.");
		goto out;
	}
	json_t *items = json_array();
	while (db_step(st) == DB_ROW) {
		int64_t id = db_col_int64(st, COL_ID);
		const char *kind = db_col_text(st, COL_KIND);
		char *url = xasprintf("/api/v1/actors/%lld", (long long)id);
		json_t *it = json_object();
		json_object_set_new(it, "id", json_integer(id));
		json_object_set_new(it, "name", json_text(db_col_text(st, COL_NAME)));
		json_object_set_new(it, "kind", json_text(kind));
		json_object_set_new(it, "kind_label", json_text(actor_kind_label(kind)));
		json_object_set_new(it, "siret", json_text(db_col_text(st, COL_SIRET)));
		json_object_set_new(it, "address", json_text(db_col_text(st, COL_ADDRESS)));
		json_object_set_new(it, "commune", json_text(db_col_text(st, COL_COMMUNE)));
		json_object_set_new(it, "latitude",
		                    db_col_is_null(st, COL_LATITUDE)
		                        ? json_null()
		                        : json_real(db_col_double(st, COL_LATITUDE)));
		json_object_set_new(it, "longitude",
		                    db_col_is_null(st, COL_LONGITUDE)
		                        ? json_null()
		                        : json_real(db_col_double(st, COL_LONGITUDE)));
		json_object_set_new(it, "website",
		                    json_text(website_safe(db_col_text(st, COL_WEBSITE))));
		json_object_set_new(it, "url", json_string(url));
		free(url);
		json_array_append_new(items, it);
	}
	db_finalize(st);
	json_t *doc = json_object();
	json_object_set_new(doc, "total", json_integer(total));
	json_object_set_new(doc, "limit", json_integer(limit));
	json_object_set_new(doc, "offset", json_integer(offset));
	json_object_set_new(doc, "items", items);
	resp_json(r, 200, doc);
out:
	filter_free(&f);
}

/* {"code","name"} or JSON null when code is NULL. */
static json_t *code_name(const char *code, const char *name)
{
	if (!code)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "code", json_text(code));
	json_object_set_new(o, "name", json_text(name));
	return o;
}

/* GET /api/v1/actors/{id}: one actor with its commune, EPCI and the visible plans it signed. */
static void api_actor(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	struct actor a;
	int found = actor_load(r->db, id, &a);
	if (found <= 0) {
		if (found < 0)
			resp_error(r, 500, "Lecture de l'acteur impossible.");
		else
			resp_error(r, 404, "Cet acteur n'existe pas.");
		actor_free(&a);
		return;
	}
	char *url = xasprintf("/api/v1/actors/%lld", (long long)a.id);
	json_t *doc = json_object();
	json_object_set_new(doc, "id", json_integer(a.id));
	json_object_set_new(doc, "name", json_text(a.name));
	json_object_set_new(doc, "kind", json_text(a.kind));
	json_object_set_new(doc, "kind_label", json_text(actor_kind_label(a.kind)));
	json_object_set_new(doc, "siret", json_text(a.siret));
	json_object_set_new(doc, "address", json_text(a.address));
	json_object_set_new(doc, "commune", code_name(a.commune, a.commune_name));
	json_object_set_new(doc, "epci", code_name(a.epci, a.epci_name));
	json_object_set_new(doc, "latitude",
	                    a.has_coordinates ? json_real(a.latitude) : json_null());
	json_object_set_new(doc, "longitude",
	                    a.has_coordinates ? json_real(a.longitude) : json_null());
	json_object_set_new(doc, "website", json_text(a.website));
	json_object_set_new(doc, "description", json_text(a.description));
	json_object_set_new(doc, "url", json_string(url));
	free(url);
	json_t *plans = json_array();
	struct db_stmt *st = signed_plans_select(r, a.id);
	while (st && db_step(st) == DB_ROW) {
		json_t *p = json_object();
		json_object_set_new(p, "id", json_integer(db_col_int64(st, 0)));
		json_object_set_new(p, "title", json_text(db_col_text(st, 1)));
		json_array_append_new(plans, p);
	}
	db_finalize(st);
	json_object_set_new(doc, "signed_plans", plans);
	actor_free(&a);
	resp_json(r, 200, doc);
}

const struct route actor_routes[] = {
    {M_GET, "/acteurs", ACC_PUBLIC, actors_page,
     "Annuaire des acteurs, filtrable par nom, type, commune et EPCI"},
    {M_GET, "/acteurs/{id}", ACC_PUBLIC, actor_page,
     "Un acteur : coordonnées de la structure, commune, plans signés"},
    {M_GET, "/api/v1/actors", ACC_PUBLIC, api_actors,
     "Liste des acteurs (q, type, commune, epci, limit, offset)"},
    {M_GET, "/api/v1/actors/{id}", ACC_PUBLIC, api_actor,
     "Un acteur avec sa commune, son EPCI et les plans visibles qu'il a signés"},
    {0},
};
