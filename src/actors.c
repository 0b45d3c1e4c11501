/* actors: the directory of actors (structures) — list with filters, one actor, JSON API. */
#include "actors.h"

#include "audit.h"
#include "auth.h"
#include "csv_fr.h"
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

	if (f->q && text_chars(f->q) > ACTORS_TEXT_MAX)
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
		} else if (text_chars(f->commune) > ACTORS_TEXT_MAX) {
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
	char *email, *phone, *opening_hours;
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
	free(a->email);
	free(a->phone);
	free(a->opening_hours);
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
	              "a.latitude, a.longitude, a.email, a.phone, a.opening_hours "
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
	a->email = str_blank(db_col_text(st, 13)) ? NULL : xstrdup(db_col_text(st, 13));
	a->phone = str_blank(db_col_text(st, 14)) ? NULL : xstrdup(db_col_text(st, 14));
	a->opening_hours = str_blank(db_col_text(st, 15)) ? NULL : xstrdup(db_col_text(st, 15));
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
	                      " ORDER BY p.start_year DESC NULLS LAST, p.title, p.id");
	if (!st)
		return NULL;
	db_bind_int64(st, 1, actor_id);
	plan_bind_visible(st, 2, r);
	return st;
}

/* --- SIRET ------------------------------------------------------------------------------------ */

/*
 * A SIRET is 14 digits (SIREN + NIC). Implemented rule: the Luhn checksum over the 14 digits
 * (from the right, every second digit doubled, 9 subtracted when above 9, total a multiple of
 * 10). Known exception: the establishments of La Poste (SIREN 356000000) are numbered so that the
 * plain sum of the 14 digits is a multiple of 5; for that SIREN either rule is accepted (the
 * head office, 35600000000048, passes Luhn).
 */
int siret_valid(const char *s)
{
	if (!s)
		return 0;
	int luhn = 0, plain = 0;
	for (int i = 0; i < 14; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		int d = s[i] - '0';
		plain += d;
		/* With 14 digits, the digits at even positions from the left are doubled. */
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		luhn += d;
	}
	if (s[14])
		return 0;
	if (luhn % 10 == 0)
		return 1;
	return !strncmp(s, "356000000", 9) && plain % 5 == 0;
}

/* --- creating and editing --------------------------------------------------------------------- */

/* 1 when the account may create and edit actors and contacts: global admin or coordinator. */
int actor_can_edit(const struct req *r)
{
	return r->user && r->user->role >= ROLE_COORDINATOR;
}

#define ACTOR_ADDRESS_MAX 300
#define ACTOR_URL_MAX     500
#define ACTOR_HOURS_MAX   500
#define ACTOR_DESC_MAX    5000
#define ACTOR_PHONE_MAX   30
#define ACTOR_COMP_MAX    60  /* characters of a competence */
#define ACTOR_COMPS_MAX   30  /* competences of an actor */
#define ACTOR_AREA_MAX    500 /* communes served */
#define ACTOR_THEMES_MAX  16  /* thematic tags */

const char *const actor_input_keys[AI_N] = {
    "nom",      "type",        "siret",       "adresse",     "commune",
    "latitude", "longitude",   "site",        "courriel",    "telephone",
    "horaires", "description", "thematiques", "competences", "territoire",
};

static const char *const actor_input_labels[AI_N] = {
    "nom",      "type",         "SIRET",       "adresse",     "commune",
    "latitude", "longitude",    "site web",    "courriel",    "téléphone",
    "horaires", "présentation", "thématiques", "compétences", "territoire desservi",
};

void actor_input_free(struct actor_input *in)
{
	for (int i = 0; i < AI_N; i++)
		free(in->v[i]);
	memset(in, 0, sizeof *in);
}

void actor_valid_free(struct actor_valid *v)
{
	free(v->commune);
	for (size_t i = 0; i < v->ncomps; i++)
		free(v->comps[i]);
	free(v->comps);
	for (size_t i = 0; i < v->narea; i++)
		free(v->area[i]);
	free(v->area);
	memset(v, 0, sizeof *v);
}

/* The fields of a web form into in (zeroed here); the thematic checkboxes are joined by commas. */
static void actor_input_from_form(struct req *r, struct actor_input *in)
{
	memset(in, 0, sizeof *in);
	for (int i = 0; i < AI_N; i++) {
		if (i == AI_THEMES)
			continue;
		const char *v = req_form(r, actor_input_keys[i]);
		in->v[i] = v ? str_trim_dup(v) : NULL;
	}
	struct buf b = {0};
	for (size_t i = 0; i < r->form.n; i++)
		if (!strcmp(r->form.items[i].key, "thematiques") && r->form.items[i].val) {
			if (b.len)
				buf_putc(&b, ',');
			buf_puts(&b, r->form.items[i].val);
		}
	in->v[AI_THEMES] = buf_steal(&b);
}

/* Next comma-separated (or, when lines is set, also newline/space-separated) token of *p,
 * trimmed, malloc'ed; NULL at the end. Empty tokens are skipped. */
static char *next_token(const char **p, int lines)
{
	const char *s = *p;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',' ||
		       (lines && (*s == '\n' || *s == '\r' || *s == ';')))
			s++;
		if (!*s) {
			*p = s;
			return NULL;
		}
		const char *start = s;
		while (
		    *s && *s != ',' &&
		    (!lines || (*s != '\n' && *s != '\r' && *s != ' ' && *s != '\t' && *s != ';')))
			s++;
		char *raw = xstrndup(start, (size_t)(s - start));
		char *t = str_trim_dup(raw);
		free(raw);
		*p = s;
		if (*t)
			return t;
		free(t);
	}
}

/* A decimal number with a point or a French comma; 0 on success. */
static int parse_decimal(const char *s, double *out)
{
	char *copy = xstrdup(s), *end = NULL;
	for (char *p = copy; *p; p++)
		if (*p == ',')
			*p = '.';
	double d = strtod(copy, &end);
	int bad = end == copy || *end || !isfinite(d);
	free(copy);
	if (bad)
		return -1;
	*out = d;
	return 0;
}

/* The code of the commune named or coded by s into *code (malloc'ed), with its point. 0 when
 * found, 1 when unknown, 2 when the name is ambiguous, -1 on error. */
static int commune_resolve(struct db *db, const char *s, char **code, int *has_point, double *lat,
                           double *lon)
{
	struct db_stmt *st;
	if (s[0] >= '0' && s[0] <= '9') {
		char c[6];
		snprintf(c, sizeof c, "%s", s);
		if (c[1] == 'a' || c[1] == 'b')
			c[1] = (char)(c[1] - 'a' + 'A');
		if (!insee_code_valid(s) && !insee_code_valid(c))
			return 1;
		st = db_queryf(db, "SELECT code, latitude, longitude FROM communes WHERE code = ?",
		               "s", c);
	} else {
		char *key = text_fold(s);
		st = db_queryf(
		    db,
		    "SELECT code, latitude, longitude FROM communes WHERE search_name = ? "
		    "ORDER BY code LIMIT 2",
		    "s", key);
		free(key);
	}
	if (!st)
		return -1;
	int rc = 1;
	if (db_step(st) == DB_ROW) {
		*code = xstrdup(db_col_text(st, 0));
		*has_point = !db_col_is_null(st, 1) && !db_col_is_null(st, 2);
		*lat = db_col_double(st, 1);
		*lon = db_col_double(st, 2);
		rc = 0;
		if (db_step(st) == DB_ROW) {
			free(*code);
			*code = NULL;
			rc = 2;
		}
	}
	db_finalize(st);
	return rc;
}

/* 1 when s looks like a telephone number: digits, spaces, + . - ( ), at least 4 digits. */
static int phone_valid(const char *s)
{
	int digits = 0;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!strchr(" +.-()", *p))
			return 0;
	}
	return digits >= 4 && strlen(s) <= ACTOR_PHONE_MAX;
}

/* 1 when s is an http(s) address without spaces or quotes. */
static int url_valid(const char *s)
{
	if (!website_safe(s) || strlen(s) > ACTOR_URL_MAX)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return 0;
	return 1;
}

/* Record a problem: the first one is kept (message malloc'ed) with the index of its field. */
static char *problem(int *field, int f, char *msg)
{
	if (field)
		*field = f;
	return msg;
}

char *actor_validate(struct db *db, int64_t self_id, struct actor_input *in, struct actor_valid *v,
                     int *field)
{
	memset(v, 0, sizeof *v);
	for (int i = 0; i < AI_N; i++) {
		if (in->v[i] && !utf8_valid_text(in->v[i], strlen(in->v[i])))
			return problem(field, i,
			               xasprintf("Le champ « %s » n'est pas du texte UTF-8 valide.",
			                         actor_input_labels[i]));
		/* Blank optional values are absent. */
		if (in->v[i] && !*in->v[i]) {
			free(in->v[i]);
			in->v[i] = NULL;
		}
	}
	const char *name = in->v[AI_NAME];
	if (!name)
		return problem(field, AI_NAME, xstrdup("Le nom de la structure est obligatoire."));
	if (text_chars(name) > ACTORS_TEXT_MAX)
		return problem(field, AI_NAME,
		               xstrdup("Le nom de la structure est limité à 200 caractères."));
	int64_t other = 0;
	if (db_int64f(db, &other, "SELECT id FROM actors WHERE name = ? AND id <> ?", "sI", name,
	              self_id) == DB_OK)
		return problem(
		    field, AI_NAME,
		    xasprintf("Une structure nommée « %s » existe déjà dans l'annuaire.", name));
	if (!actor_kind_valid(in->v[AI_KIND]))
		return problem(
		    field, AI_KIND,
		    in->v[AI_KIND]
		        ? xasprintf("Le type « %s » n'existe pas : choisissez-en un dans "
		                    "la liste (caf, centre_social, association…).",
		                    in->v[AI_KIND])
		        : xstrdup("Le type de structure est obligatoire."));
	if (in->v[AI_SIRET]) {
		/* Spaces are allowed for reading ("732 829 320 00074") and removed. */
		char *w = in->v[AI_SIRET];
		for (const char *p = in->v[AI_SIRET]; *p; p++)
			if (*p != ' ')
				*w++ = *p;
		*w = '\0';
		if (strlen(in->v[AI_SIRET]) != 14 || strspn(in->v[AI_SIRET], "0123456789") != 14)
			return problem(field, AI_SIRET,
			               xstrdup("Le SIRET doit compter 14 chiffres."));
		if (!siret_valid(in->v[AI_SIRET]))
			return problem(field, AI_SIRET,
			               xstrdup("Ce SIRET n'est pas valide (clé de contrôle de Luhn "
			                       "incorrecte) : vérifiez les 14 chiffres."));
	}
	if (in->v[AI_ADDRESS] && text_chars(in->v[AI_ADDRESS]) > ACTOR_ADDRESS_MAX)
		return problem(field, AI_ADDRESS,
		               xstrdup("L'adresse est limitée à 300 caractères."));
	int commune_point = 0;
	double clat = 0, clon = 0;
	if (in->v[AI_COMMUNE]) {
		if (text_chars(in->v[AI_COMMUNE]) > ACTORS_TEXT_MAX)
			return problem(field, AI_COMMUNE,
			               xstrdup("Le nom de commune est limité à 200 caractères."));
		int rc = commune_resolve(db, in->v[AI_COMMUNE], &v->commune, &commune_point, &clat,
		                         &clon);
		if (rc < 0)
			return problem(field, AI_COMMUNE,
			               xstrdup("Lecture des communes impossible."));
		if (rc == 1)
			return problem(field, AI_COMMUNE,
			               xasprintf("La commune « %s » est inconnue : donnez son code "
			                         "INSEE (par exemple 26108) ou son nom exact.",
			                         in->v[AI_COMMUNE]));
		if (rc == 2)
			return problem(field, AI_COMMUNE,
			               xasprintf("Plusieurs communes s'appellent « %s » : donnez "
			                         "son code INSEE.",
			                         in->v[AI_COMMUNE]));
	}
	if (!in->v[AI_LAT] != !in->v[AI_LON])
		return problem(field, in->v[AI_LAT] ? AI_LON : AI_LAT,
		               xstrdup("Donnez la latitude et la longitude, ou aucune des deux."));
	if (in->v[AI_LAT]) {
		if (parse_decimal(in->v[AI_LAT], &v->latitude) || v->latitude < -90 ||
		    v->latitude > 90)
			return problem(field, AI_LAT,
			               xstrdup("La latitude doit être un nombre entre -90 et 90 "
			                       "(par exemple 44,7281)."));
		if (parse_decimal(in->v[AI_LON], &v->longitude) || v->longitude < -180 ||
		    v->longitude > 180)
			return problem(field, AI_LON,
			               xstrdup("La longitude doit être un nombre entre -180 et 180 "
			                       "(par exemple 5,0225)."));
		v->has_coordinates = 1;
	} else if (commune_point) {
		/* Default: the point of the commune. */
		v->has_coordinates = 1;
		v->latitude = clat;
		v->longitude = clon;
	}
	if (in->v[AI_WEB] && !url_valid(in->v[AI_WEB]))
		return problem(field, AI_WEB,
		               xstrdup("Le site web doit être une adresse commençant par http:// "
		                       "ou https://, sans espace."));
	if (in->v[AI_EMAIL]) {
		const char *p = auth_email_problem(in->v[AI_EMAIL]);
		if (p)
			return problem(field, AI_EMAIL, xstrdup(p));
	}
	if (in->v[AI_PHONE] && !phone_valid(in->v[AI_PHONE]))
		return problem(
		    field, AI_PHONE,
		    xstrdup("Le téléphone ne peut contenir que des chiffres, des espaces "
		            "et + . - ( ) (30 caractères au plus)."));
	if (in->v[AI_HOURS] && text_chars(in->v[AI_HOURS]) > ACTOR_HOURS_MAX)
		return problem(field, AI_HOURS,
		               xstrdup("Les horaires sont limités à 500 caractères."));
	if (in->v[AI_DESC] && text_chars(in->v[AI_DESC]) > ACTOR_DESC_MAX)
		return problem(field, AI_DESC,
		               xstrdup("La présentation est limitée à 5000 caractères."));
	if (in->v[AI_THEMES]) {
		const char *p = in->v[AI_THEMES];
		for (char *t; (t = next_token(&p, 0));) {
			char *key = text_fold(t);
			int64_t tag = 0;
			int rc = db_int64f(db, &tag,
			                   "SELECT id FROM tags WHERE plan_id IS NULL AND kind = "
			                   "'thematique' AND (slug = ? OR slug = ?)",
			                   "ss", t, key);
			if (rc != DB_OK) {
				/* Also accept the label ("Petite enfance"). */
				struct db_stmt *st = db_prepare(
				    db, "SELECT id, label FROM tags WHERE plan_id IS NULL AND "
				        "kind = 'thematique'");
				while (st && db_step(st) == DB_ROW) {
					char *lk = text_fold(db_col_text(st, 1));
					if (!strcmp(lk, key)) {
						tag = db_col_int64(st, 0);
						rc = DB_OK;
					}
					free(lk);
				}
				db_finalize(st);
			}
			free(key);
			if (rc != DB_OK) {
				char *m = xasprintf("La thématique « %s » n'existe pas.", t);
				free(t);
				return problem(field, AI_THEMES, m);
			}
			free(t);
			int dup = 0;
			for (int i = 0; i < v->ntags; i++)
				dup |= v->tags[i] == tag;
			if (!dup && v->ntags < ACTOR_THEMES_MAX)
				v->tags[v->ntags++] = tag;
		}
	}
	if (in->v[AI_COMPS]) {
		const char *p = in->v[AI_COMPS];
		for (char *t; (t = next_token(&p, 0));) {
			if (text_chars(t) > ACTOR_COMP_MAX) {
				free(t);
				return problem(
				    field, AI_COMPS,
				    xstrdup("Une compétence est limitée à 60 caractères."));
			}
			int dup = 0;
			for (size_t i = 0; i < v->ncomps; i++)
				dup |= !strcmp(v->comps[i], t);
			if (dup) {
				free(t);
				continue;
			}
			if (v->ncomps >= ACTOR_COMPS_MAX) {
				free(t);
				return problem(field, AI_COMPS,
				               xstrdup("Une structure a 30 compétences au plus."));
			}
			v->comps = xrealloc(v->comps, (v->ncomps + 1) * sizeof *v->comps);
			v->comps[v->ncomps++] = t;
		}
	}
	if (in->v[AI_AREA]) {
		const char *p = in->v[AI_AREA];
		for (char *t; (t = next_token(&p, 1));) {
			int64_t found = 0;
			if (!insee_code_valid(t) ||
			    db_int64f(db, &found, "SELECT 1 FROM communes WHERE code = ?", "s",
			              t) != DB_OK) {
				char *m =
				    xasprintf("Territoire desservi : « %s » n'est pas le code "
				              "INSEE d'une commune connue.",
				              t);
				free(t);
				return problem(field, AI_AREA, m);
			}
			int dup = 0;
			for (size_t i = 0; i < v->narea; i++)
				dup |= !strcmp(v->area[i], t);
			if (dup || v->narea >= ACTOR_AREA_MAX) {
				free(t);
				continue;
			}
			v->area = xrealloc(v->area, (v->narea + 1) * sizeof *v->area);
			v->area[v->narea++] = t;
		}
	}
	return NULL;
}

/* Strings of one column for an actor, as a JSON array. */
static json_t *json_column_list(struct db *db, const char *sql, int64_t id)
{
	json_t *a = json_array();
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(a, json_text(db_col_text(st, 0)));
	db_finalize(st);
	return a;
}

json_t *actor_json(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT name, kind, siret, address, commune, latitude, longitude, website, email, "
	    "phone, opening_hours, description, source FROM actors WHERE id = ?",
	    "I", id);
	if (!st)
		return NULL;
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return NULL;
	}
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	const char *keys[] = {"name",          "kind",        "siret",   "address", "commune",
	                      "latitude",      "longitude",   "website", "email",   "phone",
	                      "opening_hours", "description", "source"};
	for (int i = 0; i < 13; i++) {
		if (i == 5 || i == 6)
			json_object_set_new(
			    o, keys[i],
			    db_col_is_null(st, i) ? json_null() : json_real(db_col_double(st, i)));
		else
			json_object_set_new(o, keys[i], json_text(db_col_text(st, i)));
	}
	db_finalize(st);
	json_object_set_new(o, "thematics",
	                    json_column_list(db,
	                                     "SELECT t.slug FROM actor_thematics x JOIN tags t ON "
	                                     "t.id = x.tag_id WHERE x.actor_id = ? ORDER BY t.id",
	                                     id));
	json_object_set_new(o, "competences",
	                    json_column_list(db,
	                                     "SELECT label FROM actor_competences WHERE "
	                                     "actor_id = ? ORDER BY search_label, label",
	                                     id));
	json_object_set_new(o, "area",
	                    json_column_list(db,
	                                     "SELECT commune FROM actor_area WHERE actor_id = ? "
	                                     "ORDER BY commune",
	                                     id));
	return o;
}

int actor_write(struct db *db, int64_t user_id, const char *origin, const char *source, int64_t *id,
                const struct actor_input *in, const struct actor_valid *v)
{
	char now[32];
	time_iso_now(now);
	json_t *before = *id ? actor_json(db, *id) : NULL;
	char *search = text_fold(in->v[AI_NAME]);
	int rc;
	const char *desc = in->v[AI_DESC] ? in->v[AI_DESC] : "";
	const char *hours = in->v[AI_HOURS] ? in->v[AI_HOURS] : "";
	if (*id) {
		struct db_stmt *st = db_queryf(
		    db,
		    "UPDATE actors SET name = ?, search_name = ?, kind = ?, siret = ?, address = "
		    "?, "
		    "commune = ?, latitude = ?, longitude = ?, website = ?, email = ?, phone = ?, "
		    "opening_hours = ?, description = ?, updated_at = ? WHERE id = ?",
		    "ssssss", in->v[AI_NAME], search, in->v[AI_KIND], in->v[AI_SIRET],
		    in->v[AI_ADDRESS], v->commune);
		if (!st) {
			rc = DB_ERROR;
		} else {
			if (v->has_coordinates) {
				db_bind_double(st, 7, v->latitude);
				db_bind_double(st, 8, v->longitude);
			} else {
				db_bind_null(st, 7);
				db_bind_null(st, 8);
			}
			db_bind_text(st, 9, in->v[AI_WEB]);
			db_bind_text(st, 10, in->v[AI_EMAIL]);
			db_bind_text(st, 11, in->v[AI_PHONE]);
			db_bind_text(st, 12, hours);
			db_bind_text(st, 13, desc);
			db_bind_text(st, 14, now);
			db_bind_int64(st, 15, *id);
			int s = db_step(st);
			rc = s == DB_DONE ? DB_OK : s;
			db_finalize(st);
		}
	} else {
		struct db_stmt *st = db_queryf(
		    db,
		    "INSERT INTO actors (name, search_name, kind, siret, address, commune, "
		    "latitude, "
		    "longitude, website, email, phone, opening_hours, description, source, "
		    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		    "?) "
		    "RETURNING id",
		    "ssssss", in->v[AI_NAME], search, in->v[AI_KIND], in->v[AI_SIRET],
		    in->v[AI_ADDRESS], v->commune);
		if (!st) {
			rc = DB_ERROR;
		} else {
			if (v->has_coordinates) {
				db_bind_double(st, 7, v->latitude);
				db_bind_double(st, 8, v->longitude);
			} else {
				db_bind_null(st, 7);
				db_bind_null(st, 8);
			}
			db_bind_text(st, 9, in->v[AI_WEB]);
			db_bind_text(st, 10, in->v[AI_EMAIL]);
			db_bind_text(st, 11, in->v[AI_PHONE]);
			db_bind_text(st, 12, hours);
			db_bind_text(st, 13, desc);
			db_bind_text(st, 14, source ? source : "");
			db_bind_text(st, 15, now);
			db_bind_text(st, 16, now);
			int s = db_step(st);
			if (s == DB_ROW) {
				*id = db_col_int64(st, 0);
				rc = DB_OK;
			} else {
				rc = s == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
			}
			db_finalize(st);
		}
	}
	free(search);
	if (rc == DB_OK)
		rc = db_execf(db, "DELETE FROM actor_thematics WHERE actor_id = ?", "I", *id);
	for (int i = 0; rc == DB_OK && i < v->ntags; i++)
		rc = db_execf(db, "INSERT INTO actor_thematics (actor_id, tag_id) VALUES (?, ?)",
		              "II", *id, v->tags[i]);
	if (rc == DB_OK)
		rc = db_execf(db, "DELETE FROM actor_competences WHERE actor_id = ?", "I", *id);
	for (size_t i = 0; rc == DB_OK && i < v->ncomps; i++) {
		char *key = text_fold(v->comps[i]);
		rc = db_execf(db,
		              "INSERT INTO actor_competences (actor_id, label, search_label) "
		              "VALUES (?, ?, ?)",
		              "Iss", *id, v->comps[i], key);
		free(key);
	}
	if (rc == DB_OK)
		rc = db_execf(db, "DELETE FROM actor_area WHERE actor_id = ?", "I", *id);
	for (size_t i = 0; rc == DB_OK && i < v->narea; i++)
		rc = db_execf(db, "INSERT INTO actor_area (actor_id, commune) VALUES (?, ?)", "Is",
		              *id, v->area[i]);
	if (rc == DB_OK) {
		json_t *after = actor_json(db, *id);
		rc = audit_write_id(db, user_id, origin, before ? "update" : "create", "actor", *id,
		                    before, after);
		json_decref(after);
	}
	json_decref(before);
	return rc;
}

/* The form of an actor, filled with in; error (plain text) shown above it when not NULL. */
static void actor_form(struct req *r, const char *action, const char *title,
                       const struct actor_input *in, const char *error, int error_field)
{
	struct buf *o = &r->out;
	page_begin(r, title, (const struct crumb[]){{"Acteurs", "/acteurs"}, {NULL, NULL}});
	html_printf(o, "<h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	html_printf(o, "<form method=\"post\" action=\"%s\" class=\"form\">\n", action);
	page_csrf(r);
	const char *const *v = (const char *const *)in->v;
	html_printf(o,
	            "<div class=\"field\"><label for=\"a-nom\">Nom de la structure</label>"
	            "<input id=\"a-nom\" name=\"nom\" required maxlength=\"200\" value=\"%s\"%R>"
	            "</div>\n"
	            "<div class=\"field\"><label for=\"a-type\">Type</label>"
	            "<select id=\"a-type\" name=\"type\" required>",
	            v[AI_NAME], error_field == AI_NAME ? " aria-invalid=\"true\"" : "");
	for (size_t i = 0; i < NKINDS; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", actor_kinds[i].kind,
		            v[AI_KIND] && !strcmp(v[AI_KIND], actor_kinds[i].kind) ? " selected"
		                                                                   : "",
		            actor_kinds[i].label);
	html_printf(
	    o,
	    "</select></div>\n"
	    "<div class=\"field\"><label for=\"a-siret\">SIRET (facultatif)</label>"
	    "<input id=\"a-siret\" name=\"siret\" maxlength=\"20\" inputmode=\"numeric\" "
	    "value=\"%s\" aria-describedby=\"a-siret-hint\"%R><p class=\"hint\" "
	    "id=\"a-siret-hint\">"
	    "14 chiffres, vérifiés par la clé de Luhn.</p></div>\n"
	    "<div class=\"field\"><label for=\"a-adresse\">Adresse</label>"
	    "<input id=\"a-adresse\" name=\"adresse\" maxlength=\"300\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"a-commune\">Commune (code INSEE ou nom)</label>"
	    "<input id=\"a-commune\" name=\"commune\" maxlength=\"200\" value=\"%s\"%R></div>\n"
	    "<div class=\"field\"><label for=\"a-lat\">Latitude (facultatif)</label>"
	    "<input id=\"a-lat\" name=\"latitude\" maxlength=\"20\" value=\"%s\" "
	    "aria-describedby=\"a-coord-hint\"></div>\n"
	    "<div class=\"field\"><label for=\"a-lon\">Longitude (facultatif)</label>"
	    "<input id=\"a-lon\" name=\"longitude\" maxlength=\"20\" value=\"%s\" "
	    "aria-describedby=\"a-coord-hint\"><p class=\"hint\" id=\"a-coord-hint\">En degrés "
	    "décimaux ; sans coordonnées, le point de la commune est utilisé.</p></div>\n"
	    "<div class=\"field\"><label for=\"a-site\">Site web</label>"
	    "<input id=\"a-site\" name=\"site\" type=\"url\" maxlength=\"500\" "
	    "value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"a-courriel\">Courriel de la structure</label>"
	    "<input id=\"a-courriel\" name=\"courriel\" type=\"email\" maxlength=\"254\" "
	    "value=\"%s\" aria-describedby=\"a-perso-hint\"></div>\n"
	    "<div class=\"field\"><label for=\"a-tel\">Téléphone de la structure</label>"
	    "<input id=\"a-tel\" name=\"telephone\" type=\"tel\" maxlength=\"30\" value=\"%s\" "
	    "aria-describedby=\"a-perso-hint\"><p class=\"hint\" id=\"a-perso-hint\">Les "
	    "coordonnées de l'accueil, pas celles d'une personne (les personnes vont dans les "
	    "contacts).</p></div>\n"
	    "<div class=\"field\"><label for=\"a-horaires\">Horaires d'ouverture</label>"
	    "<textarea id=\"a-horaires\" name=\"horaires\" maxlength=\"500\" rows=\"3\">%s"
	    "</textarea></div>\n"
	    "<div class=\"field\"><label for=\"a-desc\">Présentation</label>"
	    "<textarea id=\"a-desc\" name=\"description\" maxlength=\"5000\" rows=\"6\">%s"
	    "</textarea></div>\n"
	    "<fieldset class=\"field\"><legend>Thématiques</legend>\n",
	    v[AI_SIRET], error_field == AI_SIRET ? " aria-invalid=\"true\"" : "", v[AI_ADDRESS],
	    v[AI_COMMUNE], error_field == AI_COMMUNE ? " aria-invalid=\"true\"" : "", v[AI_LAT],
	    v[AI_LON], v[AI_WEB], v[AI_EMAIL], v[AI_PHONE], v[AI_HOURS], v[AI_DESC]);
	struct db_stmt *st = db_prepare(r->db, "SELECT slug, label FROM tags WHERE plan_id IS NULL "
	                                       "AND kind = 'thematique' ORDER BY id");
	while (st && db_step(st) == DB_ROW) {
		const char *slug = db_col_text(st, 0);
		int checked = 0;
		if (v[AI_THEMES]) {
			const char *p = v[AI_THEMES];
			for (char *t; (t = next_token(&p, 0));) {
				checked |= !strcmp(t, slug);
				free(t);
			}
		}
		html_printf(o,
		            "<div><input type=\"checkbox\" id=\"a-th-%s\" name=\"thematiques\" "
		            "value=\"%s\"%R> <label for=\"a-th-%s\">%s</label></div>\n",
		            slug, slug, checked ? " checked" : "", slug, db_col_text(st, 1));
	}
	db_finalize(st);
	html_printf(o,
	            "</fieldset>\n"
	            "<div class=\"field\"><label for=\"a-comp\">Compétences</label>"
	            "<input id=\"a-comp\" name=\"competences\" maxlength=\"2000\" value=\"%s\" "
	            "list=\"competences-connues\" aria-describedby=\"a-comp-hint\">"
	            "<p class=\"hint\" id=\"a-comp-hint\">Séparées par des virgules, par exemple "
	            "« aide aux démarches, numérique ».</p><datalist id=\"competences-connues\">",
	            v[AI_COMPS]);
	st = db_prepare(r->db,
	                "SELECT label, MIN(search_label) FROM actor_competences GROUP BY label "
	                "ORDER BY MIN(search_label) LIMIT 300");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%s\"></option>", db_col_text(st, 0));
	db_finalize(st);
	html_printf(o,
	            "</datalist></div>\n"
	            "<div class=\"field\"><label for=\"a-area\">Territoire desservi (codes INSEE)"
	            "</label><textarea id=\"a-area\" name=\"territoire\" rows=\"3\" "
	            "maxlength=\"5000\" aria-describedby=\"a-area-hint\">%s</textarea>"
	            "<p class=\"hint\" id=\"a-area-hint\">Un code par ligne ou séparés par des "
	            "virgules ; vide : la commune de la structure.</p></div>\n"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">"
	            "Enregistrer</button> <a href=\"/acteurs\">Annuler</a></div>\n</form>\n",
	            v[AI_AREA]);
	page_end(r);
}

/* Fill in from actor id as stored (for the edit form). 1 when found. */
static int actor_input_load(struct db *db, int64_t id, struct actor_input *in)
{
	memset(in, 0, sizeof *in);
	json_t *j = actor_json(db, id);
	if (!j)
		return 0;
	const char *map[AI_N] = {
	    "name",  "kind",  "siret",         "address",     "commune", NULL, NULL, "website",
	    "email", "phone", "opening_hours", "description", NULL,      NULL, NULL};
	for (int i = 0; i < AI_N; i++)
		if (map[i] && json_is_string(json_object_get(j, map[i])))
			in->v[i] = xstrdup(json_string_value(json_object_get(j, map[i])));
	json_t *lat = json_object_get(j, "latitude"), *lon = json_object_get(j, "longitude");
	if (json_is_real(lat) && json_is_real(lon)) {
		in->v[AI_LAT] = xasprintf("%.6f", json_real_value(lat));
		in->v[AI_LON] = xasprintf("%.6f", json_real_value(lon));
	}
	const char *lists[3] = {"thematics", "competences", "area"};
	const int idx[3] = {AI_THEMES, AI_COMPS, AI_AREA};
	for (int k = 0; k < 3; k++) {
		struct buf b = {0};
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(j, lists[k]), i, x)
		{
			if (i)
				buf_puts(&b, k == 2 ? "\n" : ", ");
			buf_puts(&b, json_string_value(x));
		}
		in->v[idx[k]] = buf_steal(&b);
	}
	json_decref(j);
	return 1;
}

/* Answer 403 unless the account may edit the directory; 1 when refused. */
static int refuse_unless_editor(struct req *r)
{
	if (actor_can_edit(r))
		return 0;
	resp_error(
	    r, 403,
	    "Seuls les administrateurs et les coordinateurs modifient l'annuaire des acteurs.");
	return 1;
}

/* GET/POST /acteurs/nouveau and /acteurs/{actor}/modifier. */
static void actor_edit(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	int64_t id = 0;
	if (r->nparams > 0) {
		if (req_param_id(r, 0, &id))
			return;
		int64_t one;
		if (db_int64f(r->db, &one, "SELECT 1 FROM actors WHERE id = ?", "I", id) != DB_OK) {
			resp_error(r, 404, "Cet acteur n'existe pas.");
			return;
		}
	}
	char action[64];
	if (id)
		snprintf(action, sizeof action, "/acteurs/%lld/modifier", (long long)id);
	else
		snprintf(action, sizeof action, "/acteurs/nouveau");
	const char *title = id ? "Modifier la structure" : "Nouvelle structure";
	struct actor_input in;
	if (r->method == M_GET) {
		if (id)
			actor_input_load(r->db, id, &in);
		else
			memset(&in, 0, sizeof in);
		actor_form(r, action, title, &in, NULL, -1);
		actor_input_free(&in);
		return;
	}
	actor_input_from_form(r, &in);
	struct actor_valid v;
	int field = -1;
	char *err = actor_validate(r->db, id, &in, &v, &field);
	if (!err) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = actor_write(r->db, r->user->id, "web", "", &id, &in, &v);
		if (rc == DB_OK)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
		if (rc != DB_OK)
			err = xstrdup(rc == DB_CONSTRAINT
			                  ? "Une structure porte déjà ce nom dans l'annuaire."
			                  : "Enregistrement impossible ; réessayez.");
	}
	actor_valid_free(&v);
	if (err) {
		actor_form(r, action, title, &in, err, field);
		r->status = 422;
		free(err);
	} else {
		char *loc = xasprintf("/acteurs/%lld?ok=enregistre", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	actor_input_free(&in);
}

/* POST /acteurs/{actor}/supprimer (admin): refused with 409 while the actor pilots fiches or
 * signed plans, naming them. */
static void actor_delete(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	if (!r->user || r->user->role < ROLE_ADMIN) {
		resp_error(r, 403, "Seuls les administrateurs suppriment une structure.");
		return;
	}
	json_t *before = actor_json(r->db, id);
	if (!before) {
		resp_error(r, 404, "Cet acteur n'existe pas.");
		return;
	}
	struct buf why = {0};
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT n.title FROM fiche_pilots fp JOIN nodes n ON "
	                               "n.id = fp.node_id WHERE fp.actor_id = ? ORDER BY n.id",
	                               "I", id);
	int n = 0;
	while (st && db_step(st) == DB_ROW)
		buf_printf(&why, "%s« %s »", n++ ? ", " : "Elle pilote les fiches-actions ",
		           db_col_text(st, 0));
	db_finalize(st);
	st = db_queryf(r->db,
	               "SELECT p.title FROM plan_signatories s JOIN plans p ON p.id = s.plan_id "
	               "WHERE s.actor_id = ? ORDER BY p.id",
	               "I", id);
	int m = 0;
	while (st && db_step(st) == DB_ROW)
		buf_printf(&why, "%s« %s »",
		           m++ ? ", "
		               : (n ? " ; elle a signé les plans " : "Elle a signé les plans "),
		           db_col_text(st, 0));
	db_finalize(st);
	if (n || m) {
		char *msg =
		    xasprintf("Cette structure ne peut pas être supprimée. %s.", buf_str(&why));
		resp_error(r, 409, msg);
		free(msg);
		buf_free(&why);
		json_decref(before);
		return;
	}
	buf_free(&why);
	int rc = db_begin(r->db);
	/* The contacts go with the structure: each deletion is audited like a single one. */
	if (rc == DB_OK) {
		struct db_stmt *cs =
		    db_queryf(r->db,
		              "SELECT id, name, role, email, phone, legal_basis, "
		              "basis_note FROM contacts WHERE actor_id = ? ORDER BY id",
		              "I", id);
		json_t *gone = json_array();
		while (cs && db_step(cs) == DB_ROW) {
			json_t *c = json_object();
			json_object_set_new(c, "id", json_integer(db_col_int64(cs, 0)));
			json_object_set_new(c, "actor_id", json_integer(id));
			const char *keys[] = {"name",  "role",        "email",
			                      "phone", "legal_basis", "basis_note"};
			for (int k = 0; k < 6; k++)
				json_object_set_new(c, keys[k], json_text(db_col_text(cs, k + 1)));
			json_array_append_new(gone, c);
		}
		db_finalize(cs);
		size_t k;
		json_t *c;
		json_array_foreach(gone, k, c)
		{
			if (rc == DB_OK)
				rc = audit_write_id(r->db, r->user->id, "web", "delete", "contact",
				                    json_integer_value(json_object_get(c, "id")), c,
				                    NULL);
		}
		json_decref(gone);
	}
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM actors WHERE id = ?", "I", id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "actor", id, before, NULL);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(before);
	if (rc != DB_OK) {
		resp_error(r, 500, "Suppression impossible.");
		return;
	}
	resp_redirect(r, "/acteurs?ok=supprime");
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
	if (actor_can_edit(r))
		buf_puts(
		    &r->out,
		    "<div class=\"actions\"><a class=\"button\" href=\"/acteurs/nouveau\">"
		    "Nouvelle structure</a> <a class=\"button\" href=\"/acteurs/importer\">"
		    "Importer des structures (CSV)</a> <a href=\"/reseaux\">Réseaux</a></div>\n");
	else
		buf_puts(&r->out, "<p><a href=\"/reseaux\">Les réseaux d'acteurs</a></p>\n");
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
		            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Acteurs%R "
		            "(page %lld sur "
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

/* The thematics, competences and area served of an actor, as facts (inside a dl). */
static void actor_lists(struct req *r, int64_t id)
{
	struct buf *o = &r->out;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT t.label FROM actor_thematics x JOIN tags t ON "
	                               "t.id = x.tag_id WHERE x.actor_id = ? ORDER BY t.id",
	                               "I", id);
	int n = 0;
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "%R<span class=\"badge\">%s</span>",
		            n++ ? " " : "<div><dt>Thématiques</dt><dd>", db_col_text(st, 0));
	db_finalize(st);
	if (n)
		buf_puts(o, "</dd></div>");
	st = db_queryf(r->db,
	               "SELECT label FROM actor_competences WHERE actor_id = ? "
	               "ORDER BY search_label, label",
	               "I", id);
	n = 0;
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "%R%s", n++ ? ", " : "<div><dt>Compétences</dt><dd>",
		            db_col_text(st, 0));
	db_finalize(st);
	if (n)
		buf_puts(o, "</dd></div>");
	st = db_queryf(r->db,
	               "SELECT x.commune, c.name FROM actor_area x JOIN communes c ON "
	               "c.code = x.commune WHERE x.actor_id = ? ORDER BY c.search_name",
	               "I", id);
	n = 0;
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "%R<a href=\"/communes/%u\">%s</a>",
		            n++ ? ", " : "<div><dt>Territoire desservi</dt><dd>",
		            db_col_text(st, 0), db_col_text(st, 1));
	db_finalize(st);
	if (n)
		buf_puts(o, "</dd></div>");
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
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "enregistre"))
		page_notice(r, "success", "La structure est enregistrée.");
	if (actor_can_edit(r)) {
		html_printf(o,
		            "<div class=\"actions\"><a class=\"button small\" "
		            "href=\"/acteurs/%lld/modifier\">Modifier</a>",
		            (long long)a.id);
		if (r->user->role >= ROLE_ADMIN) {
			html_printf(o,
			            " <form method=\"post\" action=\"/acteurs/%lld/supprimer\" "
			            "class=\"inline\">",
			            (long long)a.id);
			page_csrf(r);
			buf_puts(o, "<button type=\"submit\" class=\"button small\">Supprimer la "
			            "structure</button></form>");
		}
		buf_puts(o, "</div>\n");
	}
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
	if (a.email)
		html_printf(o, "<div><dt>Courriel</dt><dd><a href=\"mailto:%s\">%s</a></dd></div>",
		            a.email, a.email);
	if (a.phone)
		html_printf(o, "<div><dt>Téléphone</dt><dd>%s</dd></div>", a.phone);
	actor_lists(r, a.id);
	buf_puts(o, "</dl>\n");
	if (a.opening_hours) {
		buf_puts(o, "<section aria-labelledby=\"horaires\"><h2 id=\"horaires\">"
		            "Horaires d'ouverture</h2>\n");
		text_paragraphs(o, a.opening_hours);
		buf_puts(o, "</section>\n");
	}

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
	actor_networks_section(r, a.id);
	contacts_section(r, a.id);
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
	json_object_set_new(doc, "email", json_text(a.email));
	json_object_set_new(doc, "phone", json_text(a.phone));
	json_object_set_new(doc, "opening_hours", json_text(a.opening_hours));
	/* Thematics, competences and area served; never contacts (personal data). */
	json_t *more = actor_json(r->db, a.id);
	const char *lists[] = {"thematics", "competences", "area"};
	for (int i = 0; i < 3; i++)
		json_object_set_new(doc, lists[i],
		                    more ? json_incref(json_object_get(more, lists[i]))
		                         : json_array());
	json_decref(more);
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

/* --- CSV import and API writes ---------------------------------------------------------------- */

#define IMPORT_ERRORS_MAX 100  /* errors reported before giving up */
#define IMPORT_ROWS_MAX   5000 /* structures in one file */

/* One error of an import: line (1-based, 0 for the whole file), column (1-based, 0 when none). */
struct import_error {
	int line, column;
	char *message;
};
struct import_errors {
	struct import_error *e;
	size_t n;
};

static void import_errors_free(struct import_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		free(errs->e[i].message);
	free(errs->e);
	memset(errs, 0, sizeof *errs);
}

/* Add an error; message is taken (malloc'ed). */
static void import_error(struct import_errors *errs, int line, int column, char *message)
{
	if (errs->n >= IMPORT_ERRORS_MAX) {
		free(message);
		return;
	}
	errs->e = xrealloc(errs->e, (errs->n + 1) * sizeof *errs->e);
	errs->e[errs->n++] = (struct import_error){line, column, message};
}

/* The CSV columns, by folded header name, and the field each fills. */
static const struct {
	const char *header;
	int field;
} import_columns[] = {
    {"nom", AI_NAME},         {"type", AI_KIND},          {"siret", AI_SIRET},
    {"adresse", AI_ADDRESS},  {"commune", AI_COMMUNE},    {"site", AI_WEB},
    {"site web", AI_WEB},     {"telephone", AI_PHONE},    {"courriel", AI_EMAIL},
    {"email", AI_EMAIL},      {"thematiques", AI_THEMES}, {"competences", AI_COMPS},
    {"latitude", AI_LAT},     {"longitude", AI_LON},      {"horaires", AI_HOURS},
    {"description", AI_DESC}, {"territoire", AI_AREA},
};

/* A kind given as its code or its French label ("Centre social"): the code, or NULL. */
static const char *kind_from_text(const char *s)
{
	if (!s)
		return NULL;
	if (actor_kind_valid(s))
		return s;
	char *key = text_fold(s);
	const char *found = NULL;
	for (size_t i = 0; i < NKINDS && !found; i++) {
		char *label = text_fold(actor_kinds[i].label);
		char *code = text_fold(actor_kinds[i].kind);
		for (char *p = code; *p; p++)
			if (*p == '_')
				*p = ' ';
		if (!strcmp(key, label) || !strcmp(key, code))
			found = actor_kinds[i].kind;
		free(label);
		free(code);
	}
	free(key);
	return found;
}

/*
 * Import the structures of a CSV text in one transaction: every row validated, all stored or
 * none. dry_run: validate and roll back. Errors into errs (line, column, French message);
 * *created gets the number of structures (that would be) created. DB_OK when the text was
 * read (check errs->n), else an error code.
 */
static int actors_import_csv(struct db *db, int64_t user_id, const char *origin, const char *text,
                             size_t len, int dry_run, struct import_errors *errs, int *created)
{
	*created = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	/* UTF-8 first, line by line, to name the line. */
	int line = 1;
	for (size_t s = 0; s < len;) {
		const char *eol = memchr(text + s, '\n', len - s);
		size_t n = eol ? (size_t)(eol - (text + s)) : len - s;
		if (!utf8_valid_text(text + s, n) &&
		    !(n && text[s + n - 1] == '\r' && utf8_valid_text(text + s, n - 1)))
			import_error(errs, line, 0,
			             xstrdup("Le texte n'est pas en UTF-8 valide (enregistrez le "
			                     "fichier en UTF-8)."));
		s += n + 1;
		line++;
	}
	if (errs->n)
		return DB_OK;

	int rc = db_begin(db);
	if (rc != DB_OK)
		return rc;
	int have_header = 0, colmap[64];
	size_t ncols = 0;
	int field_col[AI_N];
	for (int i = 0; i < AI_N; i++)
		field_col[i] = 0;
	char **seen = NULL;
	int *seen_line = NULL;
	size_t nseen = 0;
	struct csv_in csv;
	csv_in_open(&csv, text, len, ';'); /* a failure is reported by csv_in_next */
	for (;;) {
		int got = csv_in_next(&csv);
		if (got == 0)
			break;
		if (got < 0) {
			import_error(errs, csv.err_line, csv.err_field,
			             xstrdup("Guillemet mal placé ou jamais refermé : un guillemet "
			                     "dans un texte s'écrit \"\"."));
			break;
		}
		/* The cells are the reader's, valid until the next record. */
		char **cells = csv.field;
		size_t ncells = csv.n;
		int row_line = csv.line;
		int blank = 1;
		for (size_t i = 0; i < ncells && blank; i++)
			blank = str_blank(cells[i]);
		if (blank)
			continue;
		if (!have_header) {
			have_header = 1;
			ncols = ncells < 64 ? ncells : 64;
			for (size_t i = 0; i < ncols; i++) {
				char *key = text_fold(cells[i]);
				colmap[i] = -1;
				for (size_t k = 0;
				     k < sizeof import_columns / sizeof *import_columns; k++)
					if (!strcmp(key, import_columns[k].header))
						colmap[i] = import_columns[k].field;
				if (colmap[i] < 0)
					import_error(
					    errs, row_line, (int)i + 1,
					    xasprintf(
					        "Colonne « %s » inconnue (colonnes : nom;type;"
					        "siret;adresse;commune;site;telephone;courriel;"
					        "thematiques;competences).",
					        cells[i]));
				else if (field_col[colmap[i]])
					import_error(
					    errs, row_line, (int)i + 1,
					    xasprintf("Colonne « %s » en double.", cells[i]));
				else
					field_col[colmap[i]] = (int)i + 1;
				free(key);
			}
			if (!field_col[AI_NAME] || !field_col[AI_KIND])
				import_error(
				    errs, row_line, 0,
				    xstrdup("La ligne d'en-tête doit nommer au moins les colonnes "
				            "« nom » et « type »."));
			if (errs->n)
				break;
			continue;
		}
		if (*created + (int)errs->n >= IMPORT_ROWS_MAX) {
			import_error(
			    errs, row_line, 0,
			    xstrdup("Trop de lignes : 5000 structures au plus par fichier."));
			break;
		}
		if (ncells > ncols)
			import_error(errs, row_line, (int)ncols + 1,
			             xasprintf("Cette ligne a %zu colonnes, l'en-tête en a %zu.",
			                       ncells, ncols));
		struct actor_input in = {0};
		for (size_t i = 0; i < ncols && i < ncells; i++)
			if (colmap[i] >= 0)
				in.v[colmap[i]] = str_trim_dup(cells[i]);
		/* The type by code or label. */
		const char *kind = kind_from_text(in.v[AI_KIND]);
		if (kind && kind != in.v[AI_KIND]) {
			free(in.v[AI_KIND]);
			in.v[AI_KIND] = xstrdup(kind);
		}
		/* Duplicate names within the file and with the directory (folded). */
		int dup_line = 0;
		char *key = in.v[AI_NAME] ? text_fold(in.v[AI_NAME]) : NULL;
		for (size_t i = 0; key && *key && i < nseen && !dup_line; i++)
			if (!strcmp(seen[i], key))
				dup_line = seen_line[i];
		int64_t other = 0;
		if (dup_line) {
			import_error(errs, row_line, field_col[AI_NAME],
			             xasprintf("Le nom « %s » figure déjà ligne %d du fichier.",
			                       in.v[AI_NAME], dup_line));
		} else if (key && *key &&
		           db_int64f(db, &other, "SELECT id FROM actors WHERE search_name = ?", "s",
		                     key) == DB_OK) {
			import_error(errs, row_line, field_col[AI_NAME],
			             xasprintf("Une structure nommée « %s » existe déjà dans "
			                       "l'annuaire.",
			                       in.v[AI_NAME]));
		} else {
			struct actor_valid v;
			int field = -1;
			char *err = actor_validate(db, 0, &in, &v, &field);
			if (err) {
				import_error(errs, row_line, field >= 0 ? field_col[field] : 0,
				             err);
			} else if (!errs->n) {
				int64_t id = 0;
				rc = actor_write(db, user_id, origin, "import csv", &id, &in, &v);
				if (rc != DB_OK)
					import_error(errs, row_line, 0,
					             xstrdup("Enregistrement impossible."));
				else
					(*created)++;
			} else {
				(*created)++; /* would be created; nothing is written after an error
				               */
			}
			actor_valid_free(&v);
		}
		if (key && *key) {
			seen = xrealloc(seen, (nseen + 1) * sizeof *seen);
			seen_line = xrealloc(seen_line, (nseen + 1) * sizeof *seen_line);
			seen[nseen] = key;
			seen_line[nseen++] = row_line;
		} else {
			free(key);
		}
		actor_input_free(&in);
		if (errs->n >= IMPORT_ERRORS_MAX)
			break;
	}
	csv_in_close(&csv);
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	free(seen_line);
	if (!errs->n && !have_header)
		import_error(errs, 0, 0,
		             xstrdup("Le fichier est vide : il faut une ligne d'en-tête "
		                     "(nom;type;siret;adresse;commune;site;telephone;courriel;"
		                     "thematiques;competences) puis une structure par ligne."));
	else if (!errs->n && !*created)
		import_error(errs, 0, 0, xstrdup("Aucune structure après la ligne d'en-tête."));
	if (errs->n || dry_run) {
		db_rollback(db);
		return DB_OK;
	}
	return db_commit(db);
}

/* The import form (file or pasted text), with the errors of a previous attempt. */
static void import_page(struct req *r, const struct import_errors *errs, const char *text,
                        const char *notice)
{
	struct buf *o = &r->out;
	page_begin(r, "Importer des structures",
	           (const struct crumb[]){{"Acteurs", "/acteurs"}, {NULL, NULL}});
	buf_puts(o, "<h1>Importer des structures</h1>\n");
	if (notice)
		page_notice(r, "success", notice);
	if (errs && errs->n) {
		html_printf(
		    o,
		    "<div class=\"notice error\" role=\"alert\"><p>Le fichier est refusé "
		    "(%zu erreur%R) : aucune structure n'a été enregistrée. Corrigez puis "
		    "recommencez.</p></div>\n<div class=\"table-wrap\" tabindex=\"0\"><table>\n"
		    "<caption>Erreurs du fichier</caption>\n<thead><tr><th scope=\"col\">"
		    "Ligne</th><th scope=\"col\">Colonne</th><th scope=\"col\">Erreur</th>"
		    "</tr></thead>\n<tbody>\n",
		    errs->n, errs->n > 1 ? "s" : "");
		for (size_t i = 0; i < errs->n; i++) {
			html_printf(o, "<tr><td>%d</td><td>", errs->e[i].line);
			if (errs->e[i].column)
				html_printf(o, "%d", errs->e[i].column);
			html_printf(o, "</td><td>%s</td></tr>\n", errs->e[i].message);
		}
		buf_puts(o, "</tbody></table></div>\n");
	}
	buf_puts(o, "<p>Un fichier CSV en UTF-8, séparé par des points-virgules, avec une ligne "
	            "d'en-tête : <code>nom;type;siret;adresse;commune;site;telephone;courriel;"
	            "thematiques;competences</code>. Le type est un code (association, "
	            "centre_social…) ou son libellé ; la commune, un code INSEE ou un nom ; "
	            "thématiques et compétences sont séparées par des virgules. Tout est "
	            "enregistré, ou rien.</p>\n"
	            "<form method=\"post\" action=\"/acteurs/importer\" class=\"form\" "
	            "enctype=\"multipart/form-data\">\n");
	page_csrf(r);
	html_printf(o,
	            "<div class=\"field\"><label for=\"i-fichier\">Fichier CSV</label>"
	            "<input id=\"i-fichier\" name=\"fichier\" type=\"file\" "
	            "accept=\".csv,text/csv\"></div>\n"
	            "<div class=\"field\"><label for=\"i-texte\">Ou collez le texte</label>"
	            "<textarea id=\"i-texte\" name=\"texte\" rows=\"8\">%s</textarea></div>\n"
	            "<div class=\"field\"><input type=\"checkbox\" id=\"i-essai\" name=\"essai\" "
	            "value=\"1\"> <label for=\"i-essai\">Vérifier seulement (rien n'est "
	            "enregistré)</label></div>\n"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Importer"
	            "</button> <a href=\"/acteurs\">Annuler</a></div>\n</form>\n",
	            text);
	page_end(r);
}

/* GET/POST /acteurs/importer. */
static void actors_import(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	if (r->method == M_GET) {
		const char *n = req_query(r, "importe");
		char *msg = NULL;
		int64_t k;
		if (n && !parse_int64(n, &k) && k >= 0)
			msg = xasprintf("%lld structure%s importée%s.", (long long)k,
			                k > 1 ? "s" : "", k > 1 ? "s" : "");
		import_page(r, NULL, NULL, msg);
		free(msg);
		return;
	}
	const struct upload *u = req_file(r, "fichier");
	const char *text = u && u->data.len ? u->data.data : req_form(r, "texte");
	size_t len = u && u->data.len ? u->data.len : text ? strlen(text) : 0;
	int dry = !str_blank(req_form(r, "essai"));
	struct import_errors errs = {0};
	int created = 0;
	if (!len) {
		import_error(&errs, 0, 0, xstrdup("Choisissez un fichier ou collez le texte."));
	} else if (actors_import_csv(r->db, r->user->id, "web", text, len, dry, &errs, &created) !=
	           DB_OK) {
		resp_error(r, 500, "Import impossible.");
		import_errors_free(&errs);
		return;
	}
	/* Pasted text is shown again; a file is not (it may not be UTF-8). */
	const char *again = u && u->data.len ? NULL : text;
	if (errs.n) {
		import_page(r, &errs, again, NULL);
		r->status = 422;
	} else if (dry) {
		char *msg = xasprintf("Vérification réussie : %d structure%s serai%s créée%s. Rien "
		                      "n'a été enregistré.",
		                      created, created > 1 ? "s" : "", created > 1 ? "ent" : "t",
		                      created > 1 ? "s" : "");
		import_page(r, NULL, again, msg);
		free(msg);
	} else {
		char *loc = xasprintf("/acteurs/importer?importe=%d", created);
		resp_redirect(r, loc);
		free(loc);
	}
	import_errors_free(&errs);
}

/* A 422 answer {"error":{"code","message","errors":[{"line","column","message"}]}}. */
static void api_import_errors(struct req *r, const struct import_errors *errs, const char *message)
{
	json_t *list = json_array();
	for (size_t i = 0; i < errs->n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "line", json_integer(errs->e[i].line));
		json_object_set_new(e, "column", json_integer(errs->e[i].column));
		json_object_set_new(e, "message", json_text(errs->e[i].message));
		json_array_append_new(list, e);
	}
	json_t *err = json_object();
	json_object_set_new(err, "code", json_string("invalid"));
	json_object_set_new(err, "message", json_text(message));
	json_object_set_new(err, "errors", list);
	json_t *doc = json_object();
	json_object_set_new(doc, "error", err);
	resp_json(r, 422, doc);
}

/* POST /api/v1/actors/import: a CSV body, all or nothing; ?dry_run=1 validates only. */
static void api_actors_import(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	const char *d = req_query(r, "dry_run");
	int dry = d && (!strcmp(d, "1") || !strcmp(d, "true"));
	struct import_errors errs = {0};
	int created = 0;
	if (!r->body.len)
		import_error(&errs, 0, 0,
		             xstrdup("Le corps de la requête est vide : envoyez le CSV."));
	else if (actors_import_csv(r->db, r->user->id, "api", r->body.data, r->body.len, dry, &errs,
	                           &created) != DB_OK) {
		resp_error(r, 500, "Import impossible.");
		import_errors_free(&errs);
		return;
	}
	if (errs.n) {
		api_import_errors(r, &errs,
		                  "Le fichier est refusé : aucune structure enregistrée.");
	} else {
		json_t *doc = json_object();
		json_object_set_new(doc, "created", json_integer(dry ? 0 : created));
		json_object_set_new(doc, "valid", json_integer(created));
		json_object_set_new(doc, "dry_run", json_boolean(dry));
		resp_json(r, dry ? 200 : 201, doc);
	}
	import_errors_free(&errs);
}

/* POST /api/v1/actors: one actor from JSON. */
static void api_actor_create(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	json_t *body = req_json_body(r);
	if (!body)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		resp_error(r, 400, "Le corps doit être un objet JSON.");
		return;
	}
	static const char *const keys[AI_N] = {
	    "name",          "kind",        "siret",     "address",     "commune",
	    "latitude",      "longitude",   "website",   "email",       "phone",
	    "opening_hours", "description", "thematics", "competences", "area"};
	struct actor_input in = {0};
	struct import_errors errs = {0};
	for (int i = 0; i < AI_N; i++) {
		json_t *v = json_object_get(body, keys[i]);
		if (!v || json_is_null(v))
			continue;
		if (json_is_string(v)) {
			in.v[i] = str_trim_dup(json_string_value(v));
		} else if (json_is_number(v) && (i == AI_LAT || i == AI_LON)) {
			in.v[i] = xasprintf("%.8f", json_number_value(v));
		} else if (json_is_array(v) && (i == AI_THEMES || i == AI_COMPS || i == AI_AREA)) {
			struct buf b = {0};
			size_t k;
			json_t *x;
			json_array_foreach(v, k, x)
			{
				if (!json_is_string(x))
					continue;
				if (b.len)
					buf_putc(&b, ',');
				buf_puts(&b, json_string_value(x));
			}
			in.v[i] = buf_steal(&b);
		} else {
			import_error(&errs, 1, i + 1,
			             xasprintf("Le champ « %s » n'a pas le bon type.", keys[i]));
		}
	}
	json_decref(body);
	const char *kind = kind_from_text(in.v[AI_KIND]);
	if (kind && kind != in.v[AI_KIND]) {
		free(in.v[AI_KIND]);
		in.v[AI_KIND] = xstrdup(kind);
	}
	int64_t id = 0;
	if (!errs.n) {
		struct actor_valid v;
		int field = -1;
		char *err = actor_validate(r->db, 0, &in, &v, &field);
		if (err) {
			import_error(&errs, 1, field + 1, err);
		} else {
			int rc = db_begin(r->db);
			if (rc == DB_OK)
				rc = actor_write(r->db, r->user->id, "api", "api", &id, &in, &v);
			if (rc == DB_OK)
				rc = db_commit(r->db);
			else
				db_rollback(r->db);
			if (rc != DB_OK)
				import_error(&errs, 1, 0, xstrdup("Enregistrement impossible."));
		}
		actor_valid_free(&v);
	}
	actor_input_free(&in);
	if (errs.n) {
		api_import_errors(r, &errs, errs.e[0].message);
	} else {
		json_t *doc = actor_json(r->db, id);
		char *url = xasprintf("/api/v1/actors/%lld", (long long)id);
		resp_header(r, "Location", url);
		json_object_set_new(doc, "url", json_string(url));
		free(url);
		resp_json(r, 201, doc);
	}
	import_errors_free(&errs);
}

const struct route actor_routes[] = {
    {M_GET, "/acteurs", ACC_PUBLIC, actors_page,
     "Annuaire des acteurs, filtrable par nom, type, commune et EPCI"},
    {M_GET, "/acteurs/{id}", ACC_PUBLIC, actor_page,
     "Un acteur : coordonnées de la structure, commune, plans signés"},
    {M_GET | M_POST, "/acteurs/nouveau", ACC_LOGIN, actor_edit,
     "Créer une structure (administrateurs et coordinateurs)"},
    {M_GET | M_POST, "/acteurs/importer", ACC_LOGIN, actors_import,
     "Importer des structures depuis un CSV (tout ou rien ; vérification seule possible)"},
    {M_GET | M_POST, "/acteurs/{actor}/modifier", ACC_LOGIN, actor_edit,
     "Modifier une structure (administrateurs et coordinateurs)"},
    {M_POST, "/acteurs/{actor}/supprimer", ACC_LOGIN, actor_delete,
     "Supprimer une structure (administrateurs ; refusé si elle pilote ou a signé)"},
    {M_GET, "/api/v1/actors", ACC_PUBLIC, api_actors,
     "Liste des acteurs (q, type, commune, epci, limit, offset)"},
    {M_POST, "/api/v1/actors", ACC_LOGIN, api_actor_create,
     "Créer une structure (JSON ; administrateurs et coordinateurs)"},
    {M_POST, "/api/v1/actors/import", ACC_LOGIN, api_actors_import,
     "Importer des structures (corps CSV, tout ou rien ; ?dry_run=1)"},
    {M_GET, "/api/v1/actors/{id}", ACC_PUBLIC, api_actor,
     "Un acteur avec sa commune, son EPCI et les plans visibles qu'il a signés"},
    {0},
};
