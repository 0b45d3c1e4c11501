/* plan_edit: creating and editing plans (type, period, signatories, territory, levels), the tree
 * editor (add, edit, move, indent, delete nodes; the plan's own tags), node pages, members and
 * invitations, and the JSON API for the same operations. Every write is audited in the same
 * transaction as the change. */
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TITLE_MAX          300   /* characters of a plan's or a node's title */
#define DESCRIPTION_MAX    20000 /* characters of a Markdown description */
#define LEVELS_MAX         8     /* named levels of a plan (plans.c shows up to 8) */
#define LEVEL_NAME_MAX     60    /* characters of a level name */
#define DEPTH_MAX          8     /* nodes go from depth 0 to DEPTH_MAX - 1 */
#define PLACES_MAX         1000  /* territory codes of a plan */
#define SIGNATORIES_MAX    200   /* signatories of a plan */
#define TAG_LABEL_MAX      120   /* characters of a tag label */
#define TAGS_MAX           100   /* tags of one plan's own */
#define YEAR_MIN           1990
#define YEAR_MAX           2100
#define INVITATION_SECONDS (14L * 24 * 3600)
#define ERRS_MAX           12           /* messages kept for one form */
#define END                ((size_t)-1) /* "after the last sibling" */

/* --- small helpers ---------------------------------------------------------------------------- */

/* A copy of s cut to about 40 bytes on a character boundary, with "…" when cut: user input
 * quoted in an error message. The caller frees. */
static char *clip(const char *s)
{
	size_t n = strlen(s);
	if (n <= 40)
		return xstrdup(s);
	n = 40;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return xasprintf("%.*s…", (int)n, s);
}

/* The French error messages of one form or one API call. */
struct errs {
	char *msg[ERRS_MAX];
	int n;
};

static void errs_add(struct errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void errs_add(struct errs *e, const char *fmt, ...)
{
	if (e->n >= ERRS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	e->msg[e->n++] = m;
}

static void errs_free(struct errs *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
}

/* The messages joined by spaces (for the API). The caller frees. */
static char *errs_join(const struct errs *e)
{
	struct buf b = {0};
	for (int i = 0; i < e->n; i++) {
		if (i)
			buf_putc(&b, ' ');
		buf_puts(&b, e->msg[i]);
	}
	return buf_steal(&b);
}

/* The messages as an error notice at the top of a form. */
static void errs_render(struct req *r, const struct errs *e)
{
	if (e->n == 1) {
		page_notice(r, "error", e->msg[0]);
		return;
	}
	if (!e->n)
		return;
	buf_puts(&r->out, "<div class=\"notice notice-error\" role=\"alert\"><p>Le formulaire "
	                  "contient des erreurs :</p><ul>");
	for (int i = 0; i < e->n; i++)
		html_printf(&r->out, "<li>%s</li>", e->msg[i]);
	buf_puts(&r->out, "</ul></div>\n");
}

/* Check a text field: valid UTF-8, at most max characters, required or not, on one line or not.
 * `what` names the field in the message ("Titre"). Returns 0 when it is fine. */
static int check_text(struct errs *e, const char *s, size_t max, int required, int one_line,
                      const char *what)
{
	if (!s)
		s = "";
	if (!utf8_valid_text(s, strlen(s))) {
		errs_add(e, "%s : caractères non valides.", what);
		return -1;
	}
	if (required && str_blank(s)) {
		errs_add(e, "%s : ce champ est obligatoire.", what);
		return -1;
	}
	if (text_chars(s) > max) {
		errs_add(e, "%s : %zu caractères au plus.", what, max);
		return -1;
	}
	if (one_line && strpbrk(s, "\r\n")) {
		errs_add(e, "%s : une seule ligne.", what);
		return -1;
	}
	return 0;
}

/* A copy of a form field, or of "" when absent. The caller frees. */
static char *form_dup(struct req *r, const char *key)
{
	const char *v = req_form(r, key);
	return xstrdup(v ? v : "");
}

/* Replace *slot by a copy of s. */
static void set_str(char **slot, const char *s)
{
	free(*slot);
	*slot = xstrdup(s ? s : "");
}

/* "/plans/12/arbre?ok=deplace#n34" and the like, into out. */
static void tree_url(char *out, size_t n, int64_t plan, const char *ok, int64_t node)
{
	int k = snprintf(out, n, "/plans/%lld/arbre", (long long)plan);
	if (ok && k > 0 && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, "?ok=%s", ok);
	if (node && k > 0 && (size_t)k < n)
		snprintf(out + k, n - (size_t)k, "#n%lld", (long long)node);
}

static const char *const member_roles[] = {"coordinator", "pilot", "partner", "reader"};
#define NROLES (sizeof member_roles / sizeof *member_roles)

static int member_role_valid(const char *role)
{
	for (size_t i = 0; role && i < NROLES; i++)
		if (!strcmp(role, member_roles[i]))
			return 1;
	return 0;
}

/* The plan's title (malloc'ed) or NULL when it does not exist. */
static char *plan_title(struct db *db, int64_t plan)
{
	struct db_stmt *st = db_queryf(db, "SELECT title FROM plans WHERE id = ?", "I", plan);
	char *t = st && db_step(st) == DB_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
	db_finalize(st);
	return t;
}

/* The names of a plan's levels, top to bottom, into names[LEVELS_MAX] (malloc'ed, NULL after
 * the last). Returns how many. */
static int levels_get(struct db *db, int64_t plan, char **names)
{
	memset(names, 0, LEVELS_MAX * sizeof *names);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT depth, name FROM plan_levels WHERE plan_id = ? "
	                               "ORDER BY depth",
	                               "I", plan);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		int d = (int)db_col_int64(st, 0);
		if (d == n && n < LEVELS_MAX)
			names[n++] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	return n;
}

static void levels_free(char **names)
{
	for (int i = 0; i < LEVELS_MAX; i++)
		free(names[i]);
}

static const char *level_at(char **names, int depth)
{
	return depth >= 0 && depth < LEVELS_MAX && names[depth] ? names[depth] : "";
}

/* --- JSON bodies ------------------------------------------------------------------------------ */

/* A string member: 1 when present (*out borrowed from the object), 0 when absent or null, -1
 * (with a message) when it is not a string. */
static int json_text_member(json_t *o, const char *key, const char **out, struct errs *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		errs_add(e, "« %s » doit être une chaîne de caractères.", key);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

static int json_int_member(json_t *o, const char *key, int64_t *out, struct errs *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		errs_add(e, "« %s » doit être un nombre entier.", key);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 1;
}

static int json_bool_member(json_t *o, const char *key, int *out, struct errs *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		errs_add(e, "« %s » doit valoir true ou false.", key);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

/* The body of an API write as a JSON object; answers 400 itself and returns NULL otherwise. */
static json_t *json_object_body(struct req *r)
{
	json_t *body = req_json_body(r);
	if (body && !json_is_object(body)) {
		json_decref(body);
		resp_error(r, 400, "Le corps de la requête doit être un objet JSON.");
		return NULL;
	}
	return body;
}

/* Answer 422 with the messages joined. */
static void resp_errs(struct req *r, int status, const struct errs *e)
{
	char *m = errs_join(e);
	resp_error(r, status, m);
	free(m);
}

/* --- the plan form ------------------------------------------------------------------------------
 */

/* One territory code resolved against the geography tables. */
struct place {
	const char *scope; /* static: "commune", "epci", "departement" */
	char *code, *name;
};

/*
 * A plan as typed in the form (or assembled from a JSON body), then checked: plan_form_check()
 * fills the second half. Every string is owned by the form; free with plan_form_free().
 */
struct plan_form {
	char *kind, *title, *description, *start, *end, *levels, *territory, *signatories;
	int is_public; /* 0, 1, or -1 when the choice is missing or unknown */
	/* filled by plan_form_check */
	int64_t start_year, end_year;
	char *level_names[LEVELS_MAX];
	int nlevels;
	struct place *places;
	size_t nplaces;
	int64_t *actors;
	size_t nactors;
};

static void plan_form_free(struct plan_form *f)
{
	free(f->kind);
	free(f->title);
	free(f->description);
	free(f->start);
	free(f->end);
	free(f->levels);
	free(f->territory);
	free(f->signatories);
	levels_free(f->level_names);
	for (size_t i = 0; i < f->nplaces; i++) {
		free(f->places[i].code);
		free(f->places[i].name);
	}
	free(f->places);
	free(f->actors);
	memset(f, 0, sizeof *f);
}

/* An empty form for a new plan. */
static void plan_form_blank(struct plan_form *f)
{
	memset(f, 0, sizeof *f);
	f->kind = xstrdup("ctg");
	f->title = xstrdup("");
	f->description = xstrdup("");
	f->start = xstrdup("");
	f->end = xstrdup("");
	f->levels = xstrdup("");
	f->territory = xstrdup("");
	f->signatories = xstrdup("");
	f->is_public = 0;
}

static void plan_form_from_request(struct req *r, struct plan_form *f)
{
	memset(f, 0, sizeof *f);
	f->kind = form_dup(r, "kind");
	f->title = form_dup(r, "title");
	f->description = form_dup(r, "description");
	f->start = form_dup(r, "start_year");
	f->end = form_dup(r, "end_year");
	f->levels = form_dup(r, "levels");
	f->territory = form_dup(r, "territory");
	f->signatories = form_dup(r, "signatories");
	const char *v = req_form(r, "visibilite");
	f->is_public = v && !strcmp(v, "public") ? 1 : v && !strcmp(v, "prive") ? 0 : -1;
}

/* Lines of the first column of a query on one id, joined by newlines (malloc'ed). */
static char *column_lines(struct db *db, const char *sql, int64_t id)
{
	struct buf b = {0};
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++)
			buf_putc(&b, '\n');
		buf_puts(&b, db_col_text(st, 0) ? db_col_text(st, 0) : "");
	}
	db_finalize(st);
	return buf_steal(&b);
}

/* The stored plan as a form. -1 when it does not exist. */
static int plan_form_from_db(struct db *db, int64_t id, struct plan_form *f)
{
	memset(f, 0, sizeof *f);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT kind, title, description, start_year, end_year, "
	                               "is_public FROM plans WHERE id = ?",
	                               "I", id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return -1;
	}
	f->kind = xstrdup(db_col_text(st, 0));
	f->title = xstrdup(db_col_text(st, 1));
	f->description = xstrdup(db_col_text(st, 2) ? db_col_text(st, 2) : "");
	f->start =
	    db_col_is_null(st, 3) ? xstrdup("") : xasprintf("%lld", (long long)db_col_int64(st, 3));
	f->end =
	    db_col_is_null(st, 4) ? xstrdup("") : xasprintf("%lld", (long long)db_col_int64(st, 4));
	f->is_public = db_col_int64(st, 5) != 0;
	db_finalize(st);
	f->levels =
	    column_lines(db, "SELECT name FROM plan_levels WHERE plan_id = ? ORDER BY depth", id);
	f->territory = column_lines(db,
	                            "SELECT code FROM plan_territory WHERE plan_id = ? "
	                            "ORDER BY scope DESC, code",
	                            id);
	f->signatories = column_lines(db,
	                              "SELECT a.name FROM plan_signatories s JOIN actors a "
	                              "ON a.id = s.actor_id WHERE s.plan_id = ? ORDER BY a.name",
	                              id);
	return 0;
}

/* Level names used when the form leaves them blank, by kind of plan. */
static const char *default_levels(const char *kind)
{
	if (kind && !strcmp(kind, "ctg"))
		return "Thématique\nOrientation\nObjectif\nFiche-action";
	if (kind && !strcmp(kind, "schema"))
		return "Axe\nOrientation\nFiche-action";
	return "Axe\nObjectif\nFiche-action";
}

/* The kind of territory a code names, from its shape: a commune's INSEE code (5 characters,
 * 2A/2B in Corsica), an EPCI's SIREN (9 digits), a département (2 characters, or 3 digits
 * overseas). NULL for anything else. */
static const char *code_scope(const char *s)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	int corsica = n >= 2 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
	if (n == 9 && digits == 9)
		return "epci";
	if (n == 5 && (digits == 5 || (corsica && strspn(s + 2, "0123456789") == 3)))
		return "commune";
	if ((n == 2 && (digits == 2 || corsica)) || (n == 3 && digits == 3))
		return "departement";
	return NULL;
}

static const char *scope_label(const char *scope)
{
	return !strcmp(scope, "epci")      ? "intercommunalité"
	       : !strcmp(scope, "commune") ? "commune"
	                                   : "département";
}

/* Resolve the territory codes of f->territory (separated by spaces, commas, semicolons or line
 * breaks) into f->places, with their names; unknown or malformed codes are reported. */
static void territory_resolve(struct db *db, struct plan_form *f, struct errs *e)
{
	char *copy = xstrdup(f->territory), *save = NULL;
	size_t cap = 0;
	for (char *tok = strtok_r(copy, " \t\r\n,;", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n,;", &save)) {
		for (char *p = tok; *p; p++)
			if (*p == 'a' || *p == 'b')
				*p = (char)(*p - 'a' + 'A'); /* 2a004 → 2A004 */
		const char *scope = code_scope(tok);
		if (!scope) {
			char *c = clip(tok);
			errs_add(e,
			         "Territoire : « %s » n'est pas un code de commune (INSEE, 5 "
			         "caractères), d'intercommunalité (SIREN, 9 chiffres) ou de "
			         "département.",
			         c);
			free(c);
			continue;
		}
		int dup = 0;
		for (size_t i = 0; i < f->nplaces && !dup; i++)
			dup = !strcmp(f->places[i].code, tok) && f->places[i].scope == scope;
		if (dup)
			continue;
		if (f->nplaces >= PLACES_MAX) {
			errs_add(e, "Territoire : %d codes au plus.", PLACES_MAX);
			break;
		}
		/* The table comes from the fixed scope, never from the input. */
		const char *sql = !strcmp(scope, "epci") ? "SELECT name FROM epcis WHERE code = ?"
		                  : !strcmp(scope, "commune")
		                      ? "SELECT name FROM communes WHERE code = ?"
		                      : "SELECT name FROM departements "
		                        "WHERE code = ?";
		struct db_stmt *st = db_queryf(db, sql, "s", tok);
		char *name = st && db_step(st) == DB_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
		db_finalize(st);
		if (!name) {
			errs_add(e, "Territoire : aucun code « %s » parmi les %s%s connues.", tok,
			         !strcmp(scope, "departement") ? "départements"
			                                       : scope_label(scope),
			         !strcmp(scope, "departement") ? "" : "s");
			continue;
		}
		if (f->nplaces == cap) {
			cap = cap ? cap * 2 : 8;
			f->places = xrealloc(f->places, cap * sizeof *f->places);
		}
		f->places[f->nplaces++] = (struct place){scope, xstrdup(tok), name};
	}
	free(copy);
}

/* Resolve the signatories (actor names, one a line) against the directory: the exact name, else
 * the same name with accents and case folded; unknown names are reported with suggestions. */
static void signatories_resolve(struct db *db, struct plan_form *f, struct errs *e)
{
	char *copy = xstrdup(f->signatories), *save = NULL;
	size_t cap = 0, lines = 0;
	for (char *line = strtok_r(copy, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *name = str_trim_dup(line);
		if (!*name) {
			free(name);
			continue;
		}
		if (++lines > SIGNATORIES_MAX) {
			errs_add(e, "Signataires : %d au plus.", SIGNATORIES_MAX);
			free(name);
			break;
		}
		int64_t id = 0;
		int found =
		    db_int64f(db, &id, "SELECT id FROM actors WHERE name = ?", "s", name) == DB_OK;
		char *key = text_fold(name);
		if (!found) {
			struct db_stmt *st =
			    db_queryf(db,
			              "SELECT id FROM actors WHERE search_name = ? "
			              "ORDER BY id LIMIT 2",
			              "s", key);
			int n = 0;
			while (st && db_step(st) == DB_ROW)
				if (n++ == 0)
					id = db_col_int64(st, 0);
			db_finalize(st);
			found = n == 1;
			if (n > 1) {
				char *c = clip(name);
				errs_add(e,
				         "Signataires : plusieurs acteurs s'appellent « %s » : "
				         "écrivez le nom exact de l'annuaire.",
				         c);
				free(c);
				free(key);
				free(name);
				continue;
			}
		}
		if (!found) {
			char *pattern = text_like_pattern("%", key, "%");
			struct db_stmt *st = db_queryf(db,
			                               "SELECT name FROM actors WHERE search_name "
			                               "LIKE ? ESCAPE '\\' ORDER BY name LIMIT 3",
			                               "s", pattern);
			struct buf sugg = {0};
			while (st && db_step(st) == DB_ROW) {
				buf_puts(&sugg, sugg.len ? " ; " : "");
				buf_puts(&sugg, db_col_text(st, 0));
			}
			db_finalize(st);
			char *c = clip(name);
			if (sugg.len)
				errs_add(
				    e,
				    "Signataires : « %s » n'est pas dans l'annuaire des acteurs. "
				    "Vouliez-vous dire : %s ?",
				    c, buf_str(&sugg));
			else
				errs_add(
				    e,
				    "Signataires : « %s » n'est pas dans l'annuaire des acteurs.",
				    c);
			free(c);
			buf_free(&sugg);
			free(pattern);
		} else {
			int dup = 0;
			for (size_t i = 0; i < f->nactors && !dup; i++)
				dup = f->actors[i] == id;
			if (!dup) {
				if (f->nactors == cap) {
					cap = cap ? cap * 2 : 8;
					f->actors = xrealloc(f->actors, cap * sizeof *f->actors);
				}
				f->actors[f->nactors++] = id;
			}
		}
		free(key);
		free(name);
	}
	free(copy);
}

/* Parse a year field; 0 when valid. */
static int year_parse(const char *s, int64_t *out)
{
	char *t = str_trim_dup(s ? s : "");
	int rc = parse_int64(t, out);
	free(t);
	return rc;
}

/*
 * Check every field of the form, collecting French messages into e, and resolve the years,
 * levels, territory and signatories. The title is trimmed in place.
 */
static void plan_form_check(struct db *db, struct plan_form *f, struct errs *e)
{
	if (!plan_kind_valid(f->kind))
		errs_add(e, "Type de plan : choisissez CTG, schéma départemental, projet social de "
		            "structure ou autre plan.");
	char *t = str_trim_dup(f->title);
	free(f->title);
	f->title = t;
	check_text(e, f->title, TITLE_MAX, 1, 1, "Titre");
	int years_ok = 1;
	if (year_parse(f->start, &f->start_year) || f->start_year < YEAR_MIN ||
	    f->start_year > YEAR_MAX) {
		errs_add(e, "Année de début : une année entre %d et %d.", YEAR_MIN, YEAR_MAX);
		years_ok = 0;
	}
	if (year_parse(f->end, &f->end_year) || f->end_year < YEAR_MIN || f->end_year > YEAR_MAX) {
		errs_add(e, "Année de fin : une année entre %d et %d.", YEAR_MIN, YEAR_MAX);
		years_ok = 0;
	}
	if (years_ok && f->end_year < f->start_year)
		errs_add(e, "Période : l'année de fin doit être égale ou postérieure à l'année de "
		            "début.");
	check_text(e, f->description, DESCRIPTION_MAX, 0, 0, "Description");
	if (f->is_public < 0)
		errs_add(e, "Visibilité : choisissez « réservé aux membres » ou « public ».");

	levels_free(f->level_names);
	f->nlevels = 0;
	const char *src = str_blank(f->levels) ? default_levels(f->kind) : f->levels;
	if (check_text(e, src, LEVELS_MAX * (LEVEL_NAME_MAX + 2), 0, 0, "Niveaux") == 0) {
		char *copy = xstrdup(src), *save = NULL;
		for (char *line = strtok_r(copy, "\r\n", &save); line;
		     line = strtok_r(NULL, "\r\n", &save)) {
			char *name = str_trim_dup(line);
			if (!*name) {
				free(name);
				continue;
			}
			if (f->nlevels == LEVELS_MAX) {
				errs_add(e, "Niveaux : %d au plus.", LEVELS_MAX);
				free(name);
				break;
			}
			if (text_chars(name) > LEVEL_NAME_MAX) {
				errs_add(e, "Niveaux : %d caractères au plus par nom de niveau.",
				         LEVEL_NAME_MAX);
				free(name);
				continue;
			}
			f->level_names[f->nlevels++] = name;
		}
		free(copy);
	}
	if (check_text(e, f->territory, 20 * PLACES_MAX, 0, 0, "Territoire") == 0)
		territory_resolve(db, f, e);
	if (check_text(e, f->signatories, 300 * SIGNATORIES_MAX, 0, 0, "Signataires") == 0)
		signatories_resolve(db, f, e);
}

/* Overlay the members of a JSON body on the form: kind, title, description, start_year,
 * end_year, public, levels (strings), territory (codes, or {scope, code} objects), signatories
 * (actor ids or names, or {id, name} objects). Type errors go to e. */
static void plan_form_from_json(struct db *db, json_t *o, struct plan_form *f, struct errs *e)
{
	const char *s;
	int64_t n;
	int b;
	if (json_text_member(o, "kind", &s, e) > 0)
		set_str(&f->kind, s);
	if (json_text_member(o, "title", &s, e) > 0)
		set_str(&f->title, s);
	if (json_text_member(o, "description", &s, e) > 0)
		set_str(&f->description, s);
	if (json_int_member(o, "start_year", &n, e) > 0) {
		free(f->start);
		f->start = xasprintf("%lld", (long long)n);
	}
	if (json_int_member(o, "end_year", &n, e) > 0) {
		free(f->end);
		f->end = xasprintf("%lld", (long long)n);
	}
	if (json_bool_member(o, "public", &b, e) > 0)
		f->is_public = b;
	static const char *const lists[] = {"levels", "territory", "signatories"};
	for (size_t k = 0; k < 3; k++) {
		json_t *arr = json_object_get(o, lists[k]);
		if (!arr || json_is_null(arr))
			continue;
		if (!json_is_array(arr)) {
			errs_add(e, "« %s » doit être une liste.", lists[k]);
			continue;
		}
		struct buf lines = {0};
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			const char *item = NULL;
			char *owned = NULL;
			if (json_is_object(v))
				v = json_object_get(v, k == 1 ? "code" : k == 2 ? "id" : "name");
			if (json_is_string(v)) {
				item = json_string_value(v);
			} else if (k == 2 && json_is_integer(v)) {
				struct db_stmt *st =
				    db_queryf(db, "SELECT name FROM actors WHERE id = ?", "I",
				              (int64_t)json_integer_value(v));
				if (st && db_step(st) == DB_ROW)
					item = owned = xstrdup(db_col_text(st, 0));
				db_finalize(st);
				if (!item)
					errs_add(
					    e,
					    "Signataires : aucun acteur n° %lld dans l'annuaire.",
					    (long long)json_integer_value(v));
			} else {
				errs_add(e, "« %s » : élément n° %zu d'un type inattendu.",
				         lists[k], i + 1);
			}
			if (item && strpbrk(item, "\r\n"))
				errs_add(e, "« %s » : élément n° %zu sur plusieurs lignes.",
				         lists[k], i + 1);
			else if (item)
				buf_printf(&lines, "%s%s", i ? "\n" : "", item);
			free(owned);
		}
		char **slot = k == 0 ? &f->levels : k == 1 ? &f->territory : &f->signatories;
		free(*slot);
		*slot = buf_steal(&lines);
	}
}

/* The plan's own fields for the audit log (not its tree). The caller owns the result. */
static json_t *plan_snapshot(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT kind, title, start_year, end_year, description, "
	                               "is_public FROM plans WHERE id = ?",
	                               "I", id);
	json_t *j = NULL;
	if (st && db_step(st) == DB_ROW)
		j = json_pack("{s:s,s:s,s:I,s:I,s:s,s:b}", "kind", db_col_text(st, 0), "title",
		              db_col_text(st, 1), "start_year", (json_int_t)db_col_int64(st, 2),
		              "end_year", (json_int_t)db_col_int64(st, 3), "description",
		              db_col_text(st, 4) ? db_col_text(st, 4) : "", "public",
		              (int)db_col_int64(st, 5));
	db_finalize(st);
	if (!j)
		return NULL;
	static const struct {
		const char *key, *sql;
	} lists[] = {
	    {"levels", "SELECT name FROM plan_levels WHERE plan_id = ? ORDER BY depth"},
	    {"territory", "SELECT scope || ':' || code FROM plan_territory WHERE plan_id = ? "
	                  "ORDER BY scope, code"},
	    {"signatories", "SELECT a.name FROM plan_signatories s JOIN actors a "
	                    "ON a.id = s.actor_id WHERE s.plan_id = ? ORDER BY a.name"},
	};
	for (size_t k = 0; k < 3; k++) {
		json_t *arr = json_array();
		st = db_queryf(db, lists[k].sql, "I", id);
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(arr, json_string(db_col_text(st, 0)));
		db_finalize(st);
		json_object_set_new(j, lists[k].key, arr);
	}
	return j;
}

/*
 * Store a checked form: a new plan when *plan_id is 0 (the author becomes its coordinator and
 * *plan_id is set), else an update. Levels, territory and signatories are replaced. Audited
 * ('plan', create/update, before/after) in the same transaction. Returns DB_OK or an error.
 */
static int plan_form_save(struct req *r, const char *origin, const struct plan_form *f,
                          int64_t *plan_id)
{
	char now[32];
	time_iso_now(now);
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	int creating = *plan_id == 0;
	json_t *before = creating ? NULL : plan_snapshot(r->db, *plan_id);
	int64_t id = *plan_id;
	if (creating) {
		rc = db_int64f(r->db, &id,
		               "INSERT INTO plans (kind, title, start_year, end_year, description, "
		               "is_public, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
		               "RETURNING id",
		               "ssIIsiss", f->kind, f->title, f->start_year, f->end_year,
		               f->description, f->is_public, now, now);
		if (rc == DB_OK)
			rc = db_execf(r->db,
			              "INSERT INTO plan_members (plan_id, user_id, role) "
			              "VALUES (?, ?, 'coordinator')",
			              "II", id, r->user->id);
	} else {
		rc = db_execf(r->db,
		              "UPDATE plans SET kind = ?, title = ?, start_year = ?, end_year = ?, "
		              "description = ?, is_public = ?, updated_at = ? WHERE id = ?",
		              "ssIIsisI", f->kind, f->title, f->start_year, f->end_year,
		              f->description, f->is_public, now, id);
	}
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM plan_levels WHERE plan_id = ?", "I", id);
	for (int i = 0; rc == DB_OK && i < f->nlevels; i++)
		rc = db_execf(r->db,
		              "INSERT INTO plan_levels (plan_id, depth, name) VALUES (?, ?, ?)",
		              "Iis", id, i, f->level_names[i]);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM plan_territory WHERE plan_id = ?", "I", id);
	for (size_t i = 0; rc == DB_OK && i < f->nplaces; i++)
		rc = db_execf(r->db,
		              "INSERT INTO plan_territory (plan_id, scope, code) VALUES (?, ?, ?)",
		              "Iss", id, f->places[i].scope, f->places[i].code);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM plan_signatories WHERE plan_id = ?", "I", id);
	for (size_t i = 0; rc == DB_OK && i < f->nactors; i++)
		rc = db_execf(r->db,
		              "INSERT INTO plan_signatories (plan_id, actor_id) VALUES (?, ?)",
		              "II", id, f->actors[i]);
	if (rc == DB_OK) {
		json_t *after = plan_snapshot(r->db, id);
		rc = audit_write_id(r->db, r->user->id, origin, creating ? "create" : "update",
		                    "plan", id, before, after);
		json_decref(after);
	}
	json_decref(before);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		return rc;
	}
	*plan_id = id;
	return DB_OK;
}

/* The form page, new (plan_id 0) or edit, with the messages of e. */
static void plan_form_render(struct req *r, const struct plan_form *f, int64_t plan_id,
                             const struct errs *e)
{
	char action[64], href[48];
	snprintf(action, sizeof action, plan_id ? "/plans/%lld/modifier" : "/plans/nouveau",
	         (long long)plan_id);
	snprintf(href, sizeof href, "/plans/%lld", (long long)plan_id);
	char *ptitle = plan_id ? plan_title(r->db, plan_id) : NULL;
	const char *title = plan_id ? "Modifier le plan" : "Nouveau plan";
	struct crumb crumbs[] = {{ptitle, href}, {NULL, NULL}};
	page_begin(r, title, plan_id ? crumbs : NULL);
	if (ptitle)
		html_printf(&r->out, "<p class=\"eyebrow\">%s</p>", ptitle);
	html_printf(&r->out, "<h1>%s</h1>\n", title);
	errs_render(r, e);
	html_printf(&r->out, "<form method=\"post\" action=\"%s\" class=\"form\">", action);
	page_csrf(r);
	buf_puts(&r->out, "<div class=\"field\"><label for=\"p-kind\">Type de plan</label>"
	                  "<select id=\"p-kind\" name=\"kind\">");
	static const char *const kinds[] = {"ctg", "schema", "projet_social", "autre"};
	for (size_t i = 0; i < 4; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", kinds[i],
		            !strcmp(f->kind, kinds[i]) ? " selected" : "",
		            plan_kind_label(kinds[i]));
	html_printf(&r->out,
	            "</select></div>"
	            "<div class=\"field\"><label for=\"p-title\">Titre</label>"
	            "<input id=\"p-title\" name=\"title\" required maxlength=\"300\" value=\"%s\">"
	            "</div>"
	            "<fieldset><legend>Période</legend>"
	            "<div class=\"field\"><label for=\"p-start\">Année de début</label>"
	            "<input id=\"p-start\" name=\"start_year\" type=\"number\" min=\"1990\" "
	            "max=\"2100\" required value=\"%s\"></div>"
	            "<div class=\"field\"><label for=\"p-end\">Année de fin</label>"
	            "<input id=\"p-end\" name=\"end_year\" type=\"number\" min=\"1990\" "
	            "max=\"2100\" required value=\"%s\"></div></fieldset>"
	            "<div class=\"field\"><label for=\"p-description\">Description</label>"
	            "<textarea id=\"p-description\" name=\"description\" rows=\"8\" "
	            "aria-describedby=\"p-description-hint\">\n%s</textarea>"
	            "<p class=\"hint\" id=\"p-description-hint\">En Markdown : **gras**, listes "
	            "à puces (- …), liens [texte](https://…). 20 000 caractères au plus.</p></div>",
	            f->title, f->start, f->end, f->description);
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"p-levels\">Niveaux de l'arborescence</label>"
	            "<textarea id=\"p-levels\" name=\"levels\" rows=\"5\" "
	            "aria-describedby=\"p-levels-hint\">\n%s</textarea>"
	            "<p class=\"hint\" id=\"p-levels-hint\">Un nom par ligne, du plus haut au plus "
	            "bas (8 au plus), par exemple Thématique, Orientation, Objectif, Fiche-action. "
	            "Les éléments du dernier niveau deviennent des fiches-actions. Laissé vide : "
	            "les niveaux habituels du type de plan.</p></div>",
	            f->levels);
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"p-territory\">Territoire</label>"
	            "<textarea id=\"p-territory\" name=\"territory\" rows=\"3\" "
	            "aria-describedby=\"p-territory-hint\">\n%s</textarea>"
	            "<p class=\"hint\" id=\"p-territory-hint\">Des codes séparés par des espaces "
	            "ou des retours à la ligne : communes (code INSEE, 26108), intercommunalités "
	            "(SIREN, 200040509) ou département (26). Voir <a href=\"/territoire\">le "
	            "territoire</a>.</p>",
	            f->territory);
	if (f->nplaces) {
		buf_puts(&r->out, "<p class=\"hint\">Territoire reconnu : ");
		for (size_t i = 0; i < f->nplaces; i++)
			html_printf(&r->out, "%R%s (%s %s)", i ? " ; " : "", f->places[i].name,
			            scope_label(f->places[i].scope), f->places[i].code);
		buf_puts(&r->out, ".</p>");
	}
	html_printf(&r->out,
	            "</div><div class=\"field\"><label for=\"p-signatories\">Signataires</label>"
	            "<textarea id=\"p-signatories\" name=\"signatories\" rows=\"5\" "
	            "aria-describedby=\"p-signatories-hint\">\n%s</textarea>"
	            "<p class=\"hint\" id=\"p-signatories-hint\">Un acteur par ligne, tel qu'il "
	            "figure dans <a href=\"/acteurs\">l'annuaire des acteurs</a> (les accents et "
	            "les majuscules peuvent différer).</p></div>",
	            f->signatories);
	html_printf(&r->out,
	            "<fieldset><legend>Visibilité</legend>"
	            "<div><input type=\"radio\" id=\"p-private\" name=\"visibilite\" "
	            "value=\"prive\"%R><label for=\"p-private\">Réservé aux membres du plan"
	            "</label></div>"
	            "<div><input type=\"radio\" id=\"p-public\" name=\"visibilite\" "
	            "value=\"public\"%R><label for=\"p-public\">Public : lisible par tous, sans "
	            "connexion</label></div></fieldset>"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">%s</button>"
	            "<a href=\"%s\">Annuler</a></div></form>\n",
	            f->is_public == 1 ? "" : " checked", f->is_public == 1 ? " checked" : "",
	            plan_id ? "Enregistrer" : "Créer le plan", plan_id ? href : "/");
	free(ptitle);
	page_end(r);
}

/* --- plan pages and API ----------------------------------------------------------------------- */

/* GET/POST /plans/nouveau (routed from plans.c, before /plans/{plan}): any account whose global
 * role is coordinator or administrator creates a plan and becomes its coordinator. */
void plan_edit_new(struct req *r)
{
	if (r->user->role < ROLE_COORDINATOR) {
		resp_error(r, 403,
		           "Seuls les comptes de coordination et les administrateurs peuvent "
		           "créer un plan.");
		return;
	}
	struct plan_form f;
	struct errs e = {0};
	if (r->method == M_GET) {
		plan_form_blank(&f);
		plan_form_render(r, &f, 0, &e);
		plan_form_free(&f);
		return;
	}
	plan_form_from_request(r, &f);
	plan_form_check(r->db, &f, &e);
	int64_t id = 0;
	if (!e.n && plan_form_save(r, "web", &f, &id) != DB_OK)
		errs_add(&e, "L'enregistrement a échoué ; réessayez.");
	if (e.n) {
		plan_form_render(r, &f, 0, &e);
		r->status = 422;
	} else {
		char loc[96];
		tree_url(loc, sizeof loc, id, "cree", 0);
		resp_redirect(r, loc);
	}
	plan_form_free(&f);
	errs_free(&e);
}

/* GET/POST /plans/{plan}/modifier: the coordination edits the plan. */
static void plan_edit(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_COORDINATOR))
		return;
	struct plan_form f;
	struct errs e = {0};
	if (r->method == M_GET) {
		if (plan_form_from_db(r->db, id, &f)) {
			resp_error(r, 404, "Ce plan n'existe pas.");
			return;
		}
		struct errs ignored = {0};
		plan_form_check(r->db, &f, &ignored); /* to show the territory's names */
		errs_free(&ignored);
		plan_form_render(r, &f, id, &e);
		plan_form_free(&f);
		return;
	}
	plan_form_from_request(r, &f);
	plan_form_check(r->db, &f, &e);
	if (!e.n && plan_form_save(r, "web", &f, &id) != DB_OK)
		errs_add(&e, "L'enregistrement a échoué ; réessayez.");
	if (e.n) {
		plan_form_render(r, &f, id, &e);
		r->status = 422;
	} else {
		char loc[48];
		snprintf(loc, sizeof loc, "/plans/%lld", (long long)id);
		resp_redirect(r, loc);
	}
	plan_form_free(&f);
	errs_free(&e);
}

/* Answer the plan as the API shows it, with the caller's role. */
static void resp_plan(struct req *r, int status, int64_t id)
{
	json_t *p = plan_to_json(r->db, id);
	if (!p) {
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	json_object_set_new(p, "your_role", json_string(role_name(plan_role(r, id))));
	resp_json(r, status, p);
}

/* POST /api/v1/plans */
static void api_plan_create(struct req *r)
{
	if (r->user->role < ROLE_COORDINATOR) {
		resp_error(r, 403,
		           "Seuls les comptes de coordination et les administrateurs peuvent "
		           "créer un plan.");
		return;
	}
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct plan_form f;
	struct errs e = {0};
	plan_form_blank(&f);
	plan_form_from_json(r->db, body, &f, &e);
	json_decref(body);
	if (!e.n)
		plan_form_check(r->db, &f, &e);
	int64_t id = 0;
	if (e.n)
		resp_errs(r, 422, &e);
	else if (plan_form_save(r, "api", &f, &id) != DB_OK)
		resp_error(r, 500, "L'enregistrement du plan a échoué.");
	else
		resp_plan(r, 201, id);
	plan_form_free(&f);
	errs_free(&e);
}

/* PATCH /api/v1/plans/{plan}: the members present replace the stored values. */
static void api_plan_patch(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_COORDINATOR))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct plan_form f;
	struct errs e = {0};
	if (plan_form_from_db(r->db, id, &f)) {
		json_decref(body);
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	plan_form_from_json(r->db, body, &f, &e);
	json_decref(body);
	if (!e.n)
		plan_form_check(r->db, &f, &e);
	if (e.n)
		resp_errs(r, 422, &e);
	else if (plan_form_save(r, "api", &f, &id) != DB_OK)
		resp_error(r, 500, "L'enregistrement du plan a échoué.");
	else
		resp_plan(r, 200, id);
	plan_form_free(&f);
	errs_free(&e);
}

/* --- nodes: reading --------------------------------------------------------------------------- */

/* What the operations need to know of one node. Free with node_info_free. */
struct node_info {
	int64_t id, plan, parent; /* parent 0 for a top-level node */
	int position, depth, archived, is_fiche;
	char *number, *title, *description;
};

static void node_info_free(struct node_info *n)
{
	free(n->number);
	free(n->title);
	free(n->description);
	memset(n, 0, sizeof *n);
}

/* Load a node; -1 when it does not exist. */
static int node_info_load(struct db *db, int64_t id, struct node_info *n)
{
	memset(n, 0, sizeof *n);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT n.plan_id, n.parent_id, n.position, n.depth, "
	                               "n.archived, n.number, n.title, n.description, "
	                               "(SELECT COUNT(*) FROM fiches f WHERE f.node_id = n.id) "
	                               "FROM nodes n WHERE n.id = ?",
	                               "I", id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return -1;
	}
	n->id = id;
	n->plan = db_col_int64(st, 0);
	n->parent = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
	n->position = (int)db_col_int64(st, 2);
	n->depth = (int)db_col_int64(st, 3);
	n->archived = db_col_int64(st, 4) != 0;
	n->number = xstrdup(db_col_text(st, 5));
	n->title = xstrdup(db_col_text(st, 6));
	n->description = xstrdup(db_col_text(st, 7) ? db_col_text(st, 7) : "");
	n->is_fiche = db_col_int64(st, 8) > 0;
	db_finalize(st);
	return 0;
}

/* The ids of the live (not archived) children of `parent` (0: the top level of the plan), in
 * order. The caller frees the array; *n gets the count. */
static int64_t *siblings_load(struct db *db, int64_t plan, int64_t parent, size_t *n)
{
	struct db_stmt *st =
	    parent ? db_queryf(db,
	                       "SELECT id FROM nodes WHERE parent_id = ? AND archived = 0 "
	                       "ORDER BY position, id",
	                       "I", parent)
	           : db_queryf(db,
	                       "SELECT id FROM nodes WHERE plan_id = ? AND parent_id IS NULL "
	                       "AND archived = 0 ORDER BY position, id",
	                       "I", plan);
	int64_t *ids = NULL;
	size_t cap = 0;
	*n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[(*n)++] = db_col_int64(st, 0);
	}
	db_finalize(st);
	return ids;
}

/* The index of id in ids[0..n), or n. */
static size_t index_of(const int64_t *ids, size_t n, int64_t id)
{
	size_t i = 0;
	while (i < n && ids[i] != id)
		i++;
	return i;
}

/* How many levels hang below a node (0 for a leaf). */
static int subtree_height(struct db *db, int64_t id)
{
	int64_t h = 0;
	db_int64f(db, &h,
	          "WITH RECURSIVE sub(id, d) AS (SELECT id, 0 FROM nodes WHERE id = ? "
	          "UNION ALL SELECT n.id, sub.d + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id) "
	          "SELECT MAX(d) FROM sub",
	          "I", id);
	return (int)h;
}

/* How many nodes hang below a node, at any depth, archived or not. */
static int64_t descendant_count(struct db *db, int64_t id)
{
	int64_t n = 0;
	db_int64f(db, &n,
	          "WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE parent_id = ? "
	          "UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) "
	          "SELECT COUNT(*) FROM sub",
	          "I", id);
	return n;
}

/* 1 when `node` is `ancestor` or lies below it. */
static int is_within(struct db *db, int64_t node, int64_t ancestor)
{
	for (int guard = 0; node && guard < 1000; guard++) {
		if (node == ancestor)
			return 1;
		int64_t parent = 0;
		if (db_int64f(db, &parent, "SELECT COALESCE(parent_id, 0) FROM nodes WHERE id = ?",
		              "I", node) != DB_OK)
			return 0;
		node = parent;
	}
	return 0;
}

/* A tag that may be put on a node of a plan. */
struct tag {
	int64_t id;
	char *kind, *slug, *label;
	int own; /* the plan's own (fil, territoire), not one of the 7 CTG thematics */
};

static void tags_free(struct tag *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].kind);
		free(t[i].slug);
		free(t[i].label);
	}
	free(t);
}

/* The tags a node of this plan may carry: the 7 thematics, then the plan's threads ('fil'), then
 * its territories. The caller frees with tags_free. */
static struct tag *tags_load(struct db *db, int64_t plan, size_t *n)
{
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT id, kind, slug, label, plan_id FROM tags "
	              "WHERE plan_id IS NULL OR plan_id = ? "
	              "ORDER BY CASE kind WHEN 'thematique' THEN 0 WHEN 'fil' THEN 1 "
	              "ELSE 2 END, plan_id NULLS FIRST, id",
	              "I", plan);
	struct tag *t = NULL;
	size_t cap = 0;
	*n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			t = xrealloc(t, cap * sizeof *t);
		}
		t[*n] = (struct tag){db_col_int64(st, 0), xstrdup(db_col_text(st, 1)),
		                     xstrdup(db_col_text(st, 2)), xstrdup(db_col_text(st, 3)),
		                     !db_col_is_null(st, 4)};
		(*n)++;
	}
	db_finalize(st);
	return t;
}

/* The tags of a node as JSON objects {id, kind, slug, label}. */
static json_t *node_tags_json(struct db *db, int64_t id)
{
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(db,
	                               "SELECT g.id, g.kind, g.slug, g.label FROM node_tags nt "
	                               "JOIN tags g ON g.id = nt.tag_id WHERE nt.node_id = ? "
	                               "ORDER BY g.kind DESC, g.label",
	                               "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "id",
		                                     (json_int_t)db_col_int64(st, 0), "kind",
		                                     db_col_text(st, 1), "slug", db_col_text(st, 2),
		                                     "label", db_col_text(st, 3)));
	db_finalize(st);
	return arr;
}

static json_t *json_text_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

/*
 * A node as the API shows it and the audit log records it: id, plan_id, parent_id, position,
 * depth, number, level, title, description, archived, is_fiche, status and progress (null when
 * not a fiche), tags; with_children adds its live children {id, number, title, is_fiche}.
 * NULL when the node does not exist. The caller owns the result.
 */
static json_t *node_to_json(struct db *db, int64_t id, int with_children)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.plan_id, n.parent_id, n.position, n.depth, n.number, n.title, "
	    "n.description, n.archived, f.status, f.progress, "
	    "(SELECT l.name FROM plan_levels l WHERE l.plan_id = n.plan_id AND l.depth = n.depth) "
	    "FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id WHERE n.id = ?",
	    "I", id);
	json_t *j = NULL;
	if (st && db_step(st) == DB_ROW)
		j = json_pack(
		    "{s:I,s:I,s:o,s:I,s:I,s:s,s:s,s:s,s:s,s:b,s:b,s:o,s:o}", "id", (json_int_t)id,
		    "plan_id", (json_int_t)db_col_int64(st, 0), "parent_id",
		    db_col_is_null(st, 1) ? json_null() : json_integer(db_col_int64(st, 1)),
		    "position", (json_int_t)db_col_int64(st, 2), "depth",
		    (json_int_t)db_col_int64(st, 3), "number", db_col_text(st, 4), "level",
		    db_col_text(st, 10) ? db_col_text(st, 10) : "", "title", db_col_text(st, 5),
		    "description", db_col_text(st, 6) ? db_col_text(st, 6) : "", "archived",
		    (int)db_col_int64(st, 7), "is_fiche", !db_col_is_null(st, 8), "status",
		    json_text_or_null(db_col_text(st, 8)), "progress",
		    json_text_or_null(db_col_text(st, 9)));
	db_finalize(st);
	if (!j)
		return NULL;
	json_object_set_new(j, "tags", node_tags_json(db, id));
	if (with_children) {
		json_t *kids = json_array();
		st = db_queryf(db,
		               "SELECT n.id, n.number, n.title, f.node_id FROM nodes n "
		               "LEFT JOIN fiches f ON f.node_id = n.id "
		               "WHERE n.parent_id = ? AND n.archived = 0 ORDER BY n.position, n.id",
		               "I", id);
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(kids, json_pack("{s:I,s:s,s:s,s:b}", "id",
			                                      (json_int_t)db_col_int64(st, 0),
			                                      "number", db_col_text(st, 1), "title",
			                                      db_col_text(st, 2), "is_fiche",
			                                      !db_col_is_null(st, 3)));
		db_finalize(st);
		json_object_set_new(j, "children", kids);
	}
	return j;
}

/* 1 when the fiche of a node holds anything beyond what a new fiche has: people, money, dates,
 * texts, impacts, links, a proposal, or a status or progress that was reported. */
static int fiche_has_data(struct db *db, int64_t id)
{
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT (SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiche_partners WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiche_publics WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiche_communes WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM budget_lines WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiche_impacts WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiche_links WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM proposals WHERE node_id = ?) "
	          "+ (SELECT COUNT(*) FROM fiches WHERE node_id = ? AND (expected_results <> '' "
	          "OR human_means <> '' OR start_date IS NOT NULL OR end_date IS NOT NULL "
	          "OR closing_note <> '' OR progress <> 'non_engagee' "
	          "OR status NOT IN ('retenue', 'proposee')))",
	          "IIIIIIIII", id, id, id, id, id, id, id, id, id);
	return n > 0;
}

/* --- nodes: writing ------------------------------------------------------------------------- */

/* Mark the plan as changed. */
static int plan_touch(struct db *db, int64_t plan)
{
	char now[32];
	time_iso_now(now);
	return db_execf(db, "UPDATE plans SET updated_at = ? WHERE id = ?", "sI", now, plan);
}

/* Write positions 1..n for ids[0..n) under parent (0: top level), in this order. */
static int positions_write(struct db *db, const int64_t *ids, size_t n, int64_t parent)
{
	int rc = DB_OK;
	for (size_t i = 0; i < n && rc == DB_OK; i++)
		rc = parent
		         ? db_execf(db, "UPDATE nodes SET parent_id = ?, position = ? WHERE id = ?",
		                    "IiI", parent, (int)(i + 1), ids[i])
		         : db_execf(db,
		                    "UPDATE nodes SET parent_id = NULL, position = ? WHERE id = ?",
		                    "iI", (int)(i + 1), ids[i]);
	return rc;
}

/*
 * Place a node under `parent` (0: top level of its plan) at `index` among the live children
 * (0-based, END for last), without renumbering. Refuses a parent outside the plan, archived,
 * the node itself or below it, and a depth beyond DEPTH_MAX. Returns 0, or an HTTP status with a
 * French reason in *why (static).
 */
static int node_place(struct db *db, const struct node_info *nd, int64_t parent, size_t index,
                      const char **why)
{
	int depth = 0;
	if (parent) {
		struct node_info p;
		if (node_info_load(db, parent, &p) || p.plan != nd->plan || p.archived) {
			if (p.id)
				node_info_free(&p);
			*why = "L'élément parent indiqué n'existe pas dans ce plan.";
			return 422;
		}
		depth = p.depth + 1;
		node_info_free(&p);
		if (is_within(db, parent, nd->id)) {
			*why = "Un élément ne peut pas être placé sous lui-même ni sous un de ses "
			       "sous-éléments.";
			return 409;
		}
	}
	if (depth + subtree_height(db, nd->id) > DEPTH_MAX - 1) {
		*why = "L'arborescence ne peut pas dépasser 8 niveaux.";
		return 409;
	}
	size_t n;
	int64_t *sibs = siblings_load(db, nd->plan, parent, &n);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (sibs[i] != nd->id)
			sibs[k++] = sibs[i];
	if (index > k)
		index = k;
	sibs = xrealloc(sibs, (k + 1) * sizeof *sibs);
	memmove(sibs + index + 1, sibs + index, (k - index) * sizeof *sibs);
	sibs[index] = nd->id;
	int rc = positions_write(db, sibs, k + 1, parent);
	free(sibs);
	if (rc != DB_OK) {
		*why = "L'enregistrement a échoué.";
		return 500;
	}
	return 0;
}

/* Replace the tags of a node; the ids must be in allowed[0..nallowed). Returns 0, or 422. */
static int node_tags_write(struct db *db, int64_t node, const int64_t *ids, size_t n,
                           const struct tag *allowed, size_t nallowed, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < nallowed && allowed[k].id != ids[i])
			k++;
		if (k == nallowed) {
			*why = "Étiquette inconnue pour ce plan.";
			return 422;
		}
	}
	int rc = db_execf(db, "DELETE FROM node_tags WHERE node_id = ?", "I", node);
	for (size_t i = 0; i < n && rc == DB_OK; i++)
		rc = db_execf(db,
		              "INSERT INTO node_tags (node_id, tag_id) VALUES (?, ?) "
		              "ON CONFLICT DO NOTHING",
		              "II", node, ids[i]);
	if (rc != DB_OK) {
		*why = "L'enregistrement des étiquettes a échoué.";
		return 500;
	}
	return 0;
}

/* What a change to a node does; the fields left as they are stay unchanged. */
struct node_change {
	const char *title, *description; /* NULL: unchanged (checked by the caller) */
	int set_tags;
	const int64_t *tags;
	size_t ntags;
	int is_fiche; /* -1 unchanged, 0 remove the fiche, 1 make it one */
	int move;     /* place under parent at index */
	int64_t parent;
	size_t index;
};

/*
 * Apply a change to a node in one transaction: fields, tags, fiche flag, place; renumber the
 * plan when it moved; audit ('node', `action`, before/after). Returns 0, or an HTTP status with
 * a French reason in *why.
 */
static int node_change_apply(struct req *r, const char *origin, const char *action,
                             const struct node_info *nd, const struct node_change *c,
                             const char **why)
{
	if (db_begin(r->db) != DB_OK) {
		*why = "La base de données est occupée ; réessayez.";
		return 503;
	}
	json_t *before = node_to_json(r->db, nd->id, 0);
	if (nd->is_fiche && c->is_fiche == 0)
		json_object_set_new(before, "fiche", fiche_snapshot(r->db, nd->id));
	char now[32];
	time_iso_now(now);
	int status = 0, rc = DB_OK;
	if (c->title)
		rc = db_execf(r->db, "UPDATE nodes SET title = ?, updated_at = ? WHERE id = ?",
		              "ssI", c->title, now, nd->id);
	if (rc == DB_OK && c->description)
		rc =
		    db_execf(r->db, "UPDATE nodes SET description = ?, updated_at = ? WHERE id = ?",
		             "ssI", c->description, now, nd->id);
	if (rc == DB_OK && c->set_tags) {
		size_t nt;
		struct tag *allowed = tags_load(r->db, nd->plan, &nt);
		status = node_tags_write(r->db, nd->id, c->tags, c->ntags, allowed, nt, why);
		tags_free(allowed, nt);
	}
	if (rc == DB_OK && !status && c->is_fiche == 1 && !nd->is_fiche)
		rc = db_execf(r->db, "INSERT INTO fiches (node_id, status) VALUES (?, 'retenue')",
		              "I", nd->id);
	if (rc == DB_OK && !status && c->is_fiche == 0 && nd->is_fiche)
		rc = db_execf(r->db, "DELETE FROM fiches WHERE node_id = ?", "I", nd->id);
	if (rc == DB_OK && !status && c->move) {
		status = node_place(r->db, nd, c->parent, c->index, why);
		if (!status)
			rc = plan_renumber(r->db, nd->plan);
	}
	if (rc == DB_OK && !status) {
		rc = db_execf(r->db, "UPDATE nodes SET updated_at = ? WHERE id = ?", "sI", now,
		              nd->id);
		if (rc == DB_OK)
			rc = plan_touch(r->db, nd->plan);
	}
	if (rc == DB_OK && !status) {
		json_t *after = node_to_json(r->db, nd->id, 0);
		rc = audit_write_id(r->db, r->user->id, origin, action, "node", nd->id, before,
		                    after);
		json_decref(after);
	}
	json_decref(before);
	if (rc == DB_OK && !status)
		rc = db_commit(r->db);
	if (rc != DB_OK && !status) {
		status = 500;
		*why = "L'enregistrement a échoué.";
	}
	if (status)
		db_rollback(r->db);
	return status;
}

/*
 * Create a node under parent (0: top level) at index (END: last), renumber, audit. is_fiche -1
 * makes it a fiche-action when it lands on the plan's last named level. *id gets the new id.
 * Returns 0, or an HTTP status with a French reason in *why.
 */
static int node_create(struct req *r, const char *origin, int64_t plan, int64_t parent,
                       size_t index, const char *title, const char *description, int is_fiche,
                       const int64_t *tags, size_t ntags, int64_t *id, const char **why)
{
	int depth = 0;
	if (parent) {
		struct node_info p;
		if (node_info_load(r->db, parent, &p) || p.plan != plan || p.archived) {
			if (p.id)
				node_info_free(&p);
			*why = "L'élément parent indiqué n'existe pas dans ce plan.";
			return 422;
		}
		depth = p.depth + 1;
		node_info_free(&p);
	}
	if (depth > DEPTH_MAX - 1) {
		*why = "L'arborescence ne peut pas dépasser 8 niveaux.";
		return 409;
	}
	if (is_fiche < 0) {
		char *levels[LEVELS_MAX];
		int nlevels = levels_get(r->db, plan, levels);
		levels_free(levels);
		is_fiche = nlevels > 0 && depth == nlevels - 1;
	}
	if (db_begin(r->db) != DB_OK) {
		*why = "La base de données est occupée ; réessayez.";
		return 503;
	}
	char now[32];
	time_iso_now(now);
	int status = 0;
	struct db_stmt *st =
	    db_prepare(r->db, "INSERT INTO nodes (plan_id, parent_id, position, depth, "
	                      "number, title, description, created_at, updated_at) "
	                      "VALUES (?, ?, 0, ?, '', ?, ?, ?, ?) RETURNING id");
	*id = 0;
	if (st) {
		db_bind_int64(st, 1, plan);
		if (parent)
			db_bind_int64(st, 2, parent);
		else
			db_bind_null(st, 2);
		db_bind_int64(st, 3, depth);
		db_bind_text(st, 4, title);
		db_bind_text(st, 5, description ? description : "");
		db_bind_text(st, 6, now);
		db_bind_text(st, 7, now);
		if (db_step(st) == DB_ROW)
			*id = db_col_int64(st, 0);
	}
	db_finalize(st);
	int rc = *id ? DB_OK : DB_ERROR;
	if (rc == DB_OK && is_fiche)
		rc = db_execf(r->db, "INSERT INTO fiches (node_id, status) VALUES (?, 'retenue')",
		              "I", *id);
	if (rc == DB_OK && ntags) {
		size_t nt;
		struct tag *allowed = tags_load(r->db, plan, &nt);
		status = node_tags_write(r->db, *id, tags, ntags, allowed, nt, why);
		tags_free(allowed, nt);
	}
	if (rc == DB_OK && !status) {
		struct node_info nd = {.id = *id, .plan = plan, .parent = parent, .depth = depth};
		status = node_place(r->db, &nd, parent, index, why);
	}
	if (rc == DB_OK && !status)
		rc = plan_renumber(r->db, plan);
	if (rc == DB_OK && !status)
		rc = plan_touch(r->db, plan);
	if (rc == DB_OK && !status) {
		json_t *after = node_to_json(r->db, *id, 0);
		rc = audit_write_id(r->db, r->user->id, origin, "create", "node", *id, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK && !status)
		rc = db_commit(r->db);
	if (rc != DB_OK && !status) {
		status = 500;
		*why = "L'enregistrement a échoué.";
	}
	if (status) {
		db_rollback(r->db);
		*id = 0;
	}
	return status;
}

/* Delete a node with everything below it (fiches, comments, tags go with them), renumber, audit
 * with the node and the list of its descendants as `before`. Returns DB_OK or an error. */
static int node_delete_do(struct req *r, const char *origin, const struct node_info *nd)
{
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	json_t *before = node_to_json(r->db, nd->id, 0);
	if (nd->is_fiche)
		json_object_set_new(before, "fiche", fiche_snapshot(r->db, nd->id));
	json_t *desc = json_array();
	struct db_stmt *st = db_queryf(
	    r->db,
	    "WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE parent_id = ? "
	    "UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) "
	    "SELECT n.id, n.number, n.title FROM nodes n JOIN sub ON sub.id = n.id ORDER BY n.id",
	    "I", nd->id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    desc, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)db_col_int64(st, 0),
		                    "number", db_col_text(st, 1), "title", db_col_text(st, 2)));
	db_finalize(st);
	json_object_set_new(before, "descendants", desc);
	rc = db_execf(r->db, "DELETE FROM nodes WHERE id = ?", "I", nd->id);
	if (rc == DB_OK)
		rc = plan_renumber(r->db, nd->plan);
	if (rc == DB_OK)
		rc = plan_touch(r->db, nd->plan);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin, "delete", "node", nd->id, before,
		                    NULL);
	json_decref(before);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK)
		db_rollback(r->db);
	return rc;
}

/* --- the tree editor page --------------------------------------------------------------------- */

/* One live node of the editor's tree. */
struct enode {
	int64_t id, parent;
	int depth;
	char *number, *title, *status, *progress; /* status NULL: not a fiche */
	char *tags;                               /* labels separated by '\n', or NULL */
	size_t *kids, nkids;
};

struct etree {
	struct enode *v;
	size_t n;
	size_t *roots, nroots;
};

static void etree_free(struct etree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].number);
		free(t->v[i].title);
		free(t->v[i].status);
		free(t->v[i].progress);
		free(t->v[i].tags);
		free(t->v[i].kids);
	}
	free(t->v);
	free(t->roots);
	memset(t, 0, sizeof *t);
}

struct id_index {
	int64_t id;
	size_t i;
};

static int id_index_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct id_index *)a)->id, y = ((const struct id_index *)b)->id;
	return x < y ? -1 : x > y;
}

static size_t etree_find(const struct id_index *ix, size_t n, int64_t id)
{
	struct id_index key = {id, 0};
	const struct id_index *hit = bsearch(&key, ix, n, sizeof *ix, id_index_cmp);
	return hit ? hit->i : (size_t)-1;
}

static void push_index(size_t **arr, size_t *n, size_t v)
{
	if ((*n & (*n - 1)) == 0) /* grow at powers of two */
		*arr = xrealloc(*arr, (*n ? *n * 2 : 1) * sizeof **arr);
	(*arr)[(*n)++] = v;
}

/* Load the live nodes of a plan with their fiche status (one query) and tags (one query). */
static void etree_load(struct db *db, int64_t plan, struct etree *t)
{
	memset(t, 0, sizeof *t);
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT n.id, n.parent_id, n.depth, n.number, n.title, "
	              "f.status, f.progress FROM nodes n "
	              "LEFT JOIN fiches f ON f.node_id = n.id "
	              "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.position, n.id",
	              "I", plan);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 64;
			t->v = xrealloc(t->v, cap * sizeof *t->v);
		}
		struct enode *e = &t->v[t->n++];
		memset(e, 0, sizeof *e);
		e->id = db_col_int64(st, 0);
		e->parent = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		e->depth = (int)db_col_int64(st, 2);
		e->number = xstrdup(db_col_text(st, 3));
		e->title = xstrdup(db_col_text(st, 4));
		if (!db_col_is_null(st, 5)) {
			e->status = xstrdup(db_col_text(st, 5));
			e->progress = xstrdup(db_col_text(st, 6));
		}
	}
	db_finalize(st);
	struct id_index *ix = xcalloc(t->n + 1, sizeof *ix);
	for (size_t i = 0; i < t->n; i++)
		ix[i] = (struct id_index){t->v[i].id, i};
	qsort(ix, t->n, sizeof *ix, id_index_cmp);
	for (size_t i = 0; i < t->n; i++) {
		if (!t->v[i].parent) {
			push_index(&t->roots, &t->nroots, i);
			continue;
		}
		size_t p = etree_find(ix, t->n, t->v[i].parent);
		if (p != (size_t)-1) /* else: under an archived node, hidden with it */
			push_index(&t->v[p].kids, &t->v[p].nkids, i);
	}
	st = db_queryf(
	    db,
	    "SELECT nt.node_id, g.label FROM node_tags nt JOIN tags g ON g.id = nt.tag_id "
	    "JOIN nodes n ON n.id = nt.node_id WHERE n.plan_id = ? "
	    "ORDER BY nt.node_id, g.kind DESC, g.label",
	    "I", plan);
	while (st && db_step(st) == DB_ROW) {
		size_t i = etree_find(ix, t->n, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		char *old = t->v[i].tags;
		t->v[i].tags = old ? xasprintf("%s\n%s", old, db_col_text(st, 1))
		                   : xstrdup(db_col_text(st, 1));
		free(old);
	}
	db_finalize(st);
	free(ix);
}

/* Small badges: "fiche-action" status and progress. */
static void fiche_badges(struct buf *o, const char *status, const char *progress)
{
	if (!status)
		return;
	html_printf(o,
	            " <span class=\"badge badge-neutral\"><span class=\"visually-hidden\">Statut : "
	            "</span>%s</span> <span class=\"badge badge-info\"><span "
	            "class=\"visually-hidden\">Avancement : </span>%s</span>",
	            fiche_status_label(status), fiche_progress_label(progress));
}

/* 1 when the newline-separated list holds this exact line. */
static int has_line(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, item, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Tags, one span each; those already shown on the parent (parent_tags) are not repeated. */
static void tag_spans(struct buf *o, const char *tags, const char *parent_tags)
{
	if (!tags)
		return;
	char *copy = xstrdup(tags), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
		if (!has_line(parent_tags, t))
			html_printf(o, "%R<span class=\"tag\">%s</span>",
			            n++ ? "" : " <span class=\"tags\">", t);
	free(copy);
	if (n)
		buf_puts(o, "</span>");
}

/* What the tree page re-shows after a refused "add" form: which node's form, what was typed. */
struct add_retry {
	int64_t node; /* the node whose form is re-opened; -1 for the top-level form */
	const char *title;
};

/* The controls of one node for the coordination, folded in a <details>. */
static void node_tools(struct req *r, const struct etree *t, const struct enode *nd, size_t i,
                       size_t nsibs, char **levels, const struct add_retry *retry)
{
	long long id = (long long)nd->id;
	int retrying = retry && retry->node == nd->id;
	html_printf(&r->out,
	            "<details class=\"node-tools\"%R><summary>Modifier, déplacer, ajouter<span "
	            "class=\"visually-hidden\"> : %s %s</span></summary><div class=\"actions\">"
	            "<a class=\"button small secondary\" href=\"/noeuds/%lld/modifier\">Modifier"
	            "</a><form method=\"post\" action=\"/noeuds/%lld/deplacer\" class=\"inline\">",
	            retrying ? " open" : "", nd->number, nd->title, id, id);
	page_csrf(r);
	const char *off = " disabled";
	html_printf(&r->out,
	            "<button type=\"submit\" class=\"button small secondary\" name=\"sens\" "
	            "value=\"haut\"%R>↑ Monter</button> "
	            "<button type=\"submit\" class=\"button small secondary\" name=\"sens\" "
	            "value=\"bas\"%R>↓ Descendre</button> "
	            "<button type=\"submit\" class=\"button small secondary\" name=\"sens\" "
	            "value=\"droite\"%R>→ Sous l'élément précédent</button> "
	            "<button type=\"submit\" class=\"button small secondary\" name=\"sens\" "
	            "value=\"gauche\"%R>← Remonter d'un niveau</button></form>"
	            "<a class=\"button small danger\" href=\"/noeuds/%lld/supprimer\">Supprimer</a>"
	            "</div>",
	            i == 0 ? off : "", i + 1 == nsibs ? off : "",
	            i == 0 || nd->depth + 1 >= DEPTH_MAX ? off : "", nd->depth == 0 ? off : "", id);
	(void)t;
	int child_ok = nd->depth + 1 < DEPTH_MAX;
	const char *child_level = level_at(levels, nd->depth + 1);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/noeuds/%lld/ajouter\" class=\"form\">", id);
	page_csrf(r);
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"add-%lld\">Titre du nouvel élément</label>"
	            "<input id=\"add-%lld\" name=\"title\" required maxlength=\"300\" "
	            "value=\"%s\"></div><fieldset><legend>Où l'ajouter ?</legend>"
	            "<div><input type=\"radio\" id=\"in-%lld\" name=\"ou\" value=\"enfant\"%R>"
	            "<label for=\"in-%lld\">Sous « %s »%R%s%R</label></div>"
	            "<div><input type=\"radio\" id=\"after-%lld\" name=\"ou\" value=\"suivant\"%R>"
	            "<label for=\"after-%lld\">Après « %s », au même niveau</label></div>"
	            "</fieldset><button type=\"submit\" class=\"button small\">Ajouter</button>"
	            "</form></details>",
	            id, id, retrying && retry->title ? retry->title : "", id,
	            child_ok ? " checked" : " disabled", id, nd->number, *child_level ? " (" : "",
	            child_level, *child_level ? ")" : "", id, child_ok ? "" : " checked", id,
	            nd->number);
}

/* The tree, recursively; with the controls when `edit`. */
static void etree_render(struct req *r, const struct etree *t, const size_t *idx, size_t n,
                         char **levels, int edit, const struct add_retry *retry,
                         const char *parent_tags)
{
	buf_puts(&r->out, "<ol class=\"tree\">");
	for (size_t i = 0; i < n; i++) {
		const struct enode *nd = &t->v[idx[i]];
		html_printf(&r->out,
		            "<li id=\"n%lld\"><div class=\"node depth-%d\"><span class=\"num\">%s"
		            "</span> <span class=\"level\">%s</span> <span class=\"title\"><a "
		            "href=\"/%s/%lld\">%s</a></span>",
		            (long long)nd->id, nd->depth, nd->number, level_at(levels, nd->depth),
		            nd->status ? "fiches" : "noeuds", (long long)nd->id, nd->title);
		fiche_badges(&r->out, nd->status, nd->progress);
		tag_spans(&r->out, nd->tags, parent_tags);
		buf_puts(&r->out, "</div>");
		if (edit)
			node_tools(r, t, nd, i, n, levels, retry);
		if (nd->nkids)
			etree_render(r, t, nd->kids, nd->nkids, levels, edit, retry, nd->tags);
		buf_puts(&r->out, "</li>");
	}
	buf_puts(&r->out, "</ol>");
}

/* The section that manages the plan's own tags (threads and territories). */
static void tags_section(struct req *r, int64_t plan)
{
	html_printf(&r->out,
	            "<section aria-labelledby=\"etiquettes\"><h2 id=\"etiquettes\">Étiquettes du "
	            "plan</h2><p class=\"hint\">Les 7 champs thématiques de la CTG sont communs à "
	            "tous les plans. Ajoutez ici les fils conducteurs (thèmes transversaux) et les "
	            "territoires prioritaires propres à ce plan, puis cochez-les sur les éléments "
	            "(« Modifier »).</p>");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT g.id, g.kind, g.label, (SELECT COUNT(*) FROM "
	                               "node_tags nt WHERE nt.tag_id = g.id) FROM tags g "
	                               "WHERE g.plan_id = ? ORDER BY g.kind, g.label",
	                               "I", plan);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		long long tid = (long long)db_col_int64(st, 0);
		if (n++ == 0)
			buf_puts(
			    &r->out,
			    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
			    "aria-labelledby=\"tags-caption\"><table><caption "
			    "id=\"tags-caption\">Étiquettes propres au plan</caption><thead><tr>"
			    "<th scope=\"col\">Type</th><th scope=\"col\">Libellé</th>"
			    "<th scope=\"col\">Éléments</th><th scope=\"col\">Supprimer</th>"
			    "</tr></thead><tbody>");
		const char *kind = db_col_text(st, 1);
		html_printf(&r->out,
		            "<tr><td>%s</td><td><form method=\"post\" action=\"/plans/%lld/"
		            "etiquettes/renommer\" class=\"inline\">",
		            !strcmp(kind, "fil") ? "Fil conducteur" : "Territoire",
		            (long long)plan);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<input type=\"hidden\" name=\"tag\" value=\"%lld\"><label "
		    "class=\"visually-hidden\" for=\"tag-%lld\">Libellé de l'étiquette « %s »"
		    "</label><input id=\"tag-%lld\" name=\"label\" required maxlength=\"120\" "
		    "value=\"%s\"> <button type=\"submit\" class=\"button small secondary\">"
		    "Renommer<span class=\"visually-hidden\"> « %s »</span></button></form></td>"
		    "<td class=\"num\">%lld</td><td><form method=\"post\" action=\"/plans/%lld/"
		    "etiquettes/supprimer\" class=\"inline\">",
		    tid, tid, db_col_text(st, 2), tid, db_col_text(st, 2), db_col_text(st, 2),
		    (long long)db_col_int64(st, 3), (long long)plan);
		page_csrf(r);
		html_printf(&r->out,
		            "<input type=\"hidden\" name=\"tag\" value=\"%lld\"><button "
		            "type=\"submit\" class=\"button small danger\">Supprimer<span "
		            "class=\"visually-hidden\"> « %s »</span></button></form></td></tr>",
		            tid, db_col_text(st, 2));
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</tbody></table></div>");
	else
		buf_puts(&r->out, "<p>Ce plan n'a pas encore d'étiquette propre.</p>");
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/plans/%lld/etiquettes\" class=\"form\">",
	            (long long)plan);
	page_csrf(r);
	buf_puts(&r->out,
	         "<div class=\"field\"><label for=\"tag-kind\">Type d'étiquette</label>"
	         "<select id=\"tag-kind\" name=\"kind\"><option value=\"fil\">Fil conducteur"
	         "</option><option value=\"territoire\">Territoire prioritaire</option></select>"
	         "</div><div class=\"field\"><label for=\"tag-label\">Libellé</label>"
	         "<input id=\"tag-label\" name=\"label\" required maxlength=\"120\" "
	         "aria-describedby=\"tag-label-hint\"><p class=\"hint\" id=\"tag-label-hint\">Par "
	         "exemple « Territoire Centre Ardèche » ou « Investissement social ».</p></div>"
	         "<button type=\"submit\" class=\"button\">Ajouter l'étiquette</button></form>"
	         "</section>\n");
}

/* GET /plans/{plan}/arbre and the re-shown page after a refused change: the tree, with the
 * controls for the coordination. `error` (plain text) is shown on top. */
static void tree_page(struct req *r, int64_t plan, const char *error, const struct add_retry *retry)
{
	char *ptitle = plan_title(r->db, plan);
	if (!ptitle) {
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	int edit = plan_role(r, plan) >= ROLE_COORDINATOR;
	char href[48];
	snprintf(href, sizeof href, "/plans/%lld", (long long)plan);
	struct crumb crumbs[] = {{ptitle, href}, {NULL, NULL}};
	page_begin(r, "Arborescence", crumbs);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p><h1>Arborescence</h1>\n", ptitle);
	const char *ok = req_query(r, "ok");
	static const struct {
		const char *code, *text;
	} oks[] = {
	    {"cree", "Plan créé : construisez maintenant son arborescence."},
	    {"ajoute", "Élément ajouté ; numéros recalculés."},
	    {"modifie", "Élément modifié."},
	    {"deplace", "Élément déplacé ; numéros recalculés."},
	    {"supprime", "Élément supprimé ; numéros recalculés."},
	    {"etiquette", "Étiquettes du plan enregistrées."},
	};
	for (size_t i = 0; ok && i < sizeof oks / sizeof *oks; i++)
		if (!strcmp(ok, oks[i].code))
			page_notice(r, "success", oks[i].text);
	if (error)
		page_notice(r, "error", error);
	char *levels[LEVELS_MAX];
	int nlevels = levels_get(r->db, plan, levels);
	if (nlevels) {
		buf_puts(&r->out, "<p class=\"hint\">Niveaux : ");
		for (int i = 0; i < nlevels; i++)
			html_printf(&r->out, "%R%s", i ? " → " : "", levels[i]);
		buf_puts(&r->out,
		         edit ? ". Les éléments du dernier niveau sont des fiches-actions." : ".");
		buf_puts(&r->out, "</p>");
	}
	if (edit)
		html_printf(
		    &r->out,
		    "<p class=\"hint\">Ouvrez « Modifier, déplacer, ajouter » sous un élément "
		    "pour le modifier, le déplacer ou lui ajouter un sous-élément. Les numéros "
		    "sont recalculés après chaque changement. <a href=\"/plans/%lld/modifier\">"
		    "Modifier le plan</a> · <a href=\"/plans/%lld/membres\">Membres</a></p>",
		    (long long)plan, (long long)plan);
	struct etree t;
	etree_load(r->db, plan, &t);
	if (t.nroots)
		etree_render(r, &t, t.roots, t.nroots, levels, edit, retry, NULL);
	else
		buf_puts(&r->out, "<p>Ce plan n'a pas encore d'arborescence.</p>");
	etree_free(&t);
	if (edit) {
		int retrying = retry && retry->node == -1;
		html_printf(&r->out,
		            "<section class=\"panel\" aria-labelledby=\"ajout\"><h2 id=\"ajout\">"
		            "Ajouter un élément de premier niveau%R%s%R</h2><form method=\"post\" "
		            "action=\"/plans/%lld/arbre/ajouter\" class=\"form\">",
		            *level_at(levels, 0) ? " (" : "", level_at(levels, 0),
		            *level_at(levels, 0) ? ")" : "", (long long)plan);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<div class=\"field\"><label for=\"add-root\">Titre</label><input "
		    "id=\"add-root\" name=\"title\" required maxlength=\"300\" value=\"%s\">"
		    "</div><button type=\"submit\" class=\"button\">Ajouter</button></form>"
		    "</section>\n",
		    retrying && retry->title ? retry->title : "");
		tags_section(r, plan);
	}
	levels_free(levels);
	free(ptitle);
	page_end(r);
}

/* GET /plans/{plan}/arbre */
static void tree_get(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_PUBLIC))
		return;
	tree_page(r, plan, NULL, NULL);
}

/* Re-show the tree page with an error and a status. */
static void tree_refuse(struct req *r, int64_t plan, int status, const char *why,
                        const struct add_retry *retry)
{
	tree_page(r, plan, why, retry);
	r->status = status;
}

/* Check a node title typed in a form: trimmed copy into *out (caller frees). 0 when fine. */
static int title_check(const char *typed, char **out, struct errs *e)
{
	*out = str_trim_dup(typed ? typed : "");
	return check_text(e, *out, TITLE_MAX, 1, 1, "Titre");
}

/* POST /plans/{plan}/arbre/ajouter: a top-level node, last. */
static void tree_add_root(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	struct errs e = {0};
	char *title;
	const char *why = NULL;
	int64_t id = 0;
	int status = title_check(req_form(r, "title"), &title, &e) ? 422 : 0;
	if (!status)
		status = node_create(r, "web", plan, 0, END, title, "", -1, NULL, 0, &id, &why);
	if (status) {
		struct add_retry retry = {-1, req_form(r, "title")};
		tree_refuse(r, plan, status, e.n ? e.msg[0] : why, &retry);
	} else {
		char loc[96];
		tree_url(loc, sizeof loc, plan, "ajoute", id);
		resp_redirect(r, loc);
	}
	free(title);
	errs_free(&e);
}

/* POST /noeuds/{node}/ajouter: a child (ou=enfant, last) or the next sibling (ou=suivant). */
static void node_add(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	const char *where = req_form(r, "ou");
	struct errs e = {0};
	char *title;
	const char *why = NULL;
	int64_t id = 0;
	int status = title_check(req_form(r, "title"), &title, &e) ? 422 : 0;
	if (!status &&
	    (!where || (strcmp(where, "enfant") != 0 && strcmp(where, "suivant") != 0))) {
		status = 422;
		why = "Choisissez où ajouter l'élément : dessous ou après.";
	}
	if (!status && !strcmp(where, "enfant")) {
		status = node_create(r, "web", plan, node, END, title, "", -1, NULL, 0, &id, &why);
	} else if (!status) {
		size_t n;
		int64_t *sibs = siblings_load(r->db, plan, nd.parent, &n);
		size_t i = index_of(sibs, n, node);
		free(sibs);
		status = node_create(r, "web", plan, nd.parent, i < n ? i + 1 : END, title, "", -1,
		                     NULL, 0, &id, &why);
	}
	if (status) {
		struct add_retry retry = {node, req_form(r, "title")};
		tree_refuse(r, plan, status, e.n ? e.msg[0] : why, &retry);
	} else {
		char loc[96];
		tree_url(loc, sizeof loc, plan, "ajoute", id);
		resp_redirect(r, loc);
	}
	free(title);
	errs_free(&e);
	node_info_free(&nd);
}

/*
 * Where a move puts a node: sens "haut" (before the previous sibling), "bas" (after the next),
 * "droite" (last child of the previous sibling), "gauche" (next sibling of its parent). Sets the
 * change's parent and index; returns 0, or 409/422 with a reason.
 */
static int move_target(struct db *db, const struct node_info *nd, const char *sens,
                       struct node_change *c, const char **why)
{
	size_t n;
	int64_t *sibs = siblings_load(db, nd->plan, nd->parent, &n);
	size_t i = index_of(sibs, n, nd->id);
	int status = 0;
	c->move = 1;
	c->parent = nd->parent;
	if (!sens || (strcmp(sens, "haut") != 0 && strcmp(sens, "bas") != 0 &&
	              strcmp(sens, "droite") != 0 && strcmp(sens, "gauche") != 0)) {
		status = 422;
		*why = "Déplacement inconnu.";
	} else if (i == n) {
		status = 409;
		*why = "Cet élément est archivé : il ne se déplace pas.";
	} else if (!strcmp(sens, "haut")) {
		if (i == 0) {
			status = 409;
			*why = "Cet élément est déjà le premier de son niveau.";
		}
		c->index = i ? i - 1 : 0;
	} else if (!strcmp(sens, "bas")) {
		if (i + 1 >= n) {
			status = 409;
			*why = "Cet élément est déjà le dernier de son niveau.";
		}
		c->index = i + 1;
	} else if (!strcmp(sens, "droite")) {
		if (i == 0) {
			status = 409;
			*why = "Le premier élément d'un niveau n'a pas d'élément précédent sous "
			       "lequel se placer.";
		} else {
			c->parent = sibs[i - 1];
			c->index = END;
		}
	} else { /* gauche */
		if (!nd->parent) {
			status = 409;
			*why = "Cet élément est déjà au premier niveau.";
		} else {
			struct node_info p;
			if (node_info_load(db, nd->parent, &p) == 0) {
				size_t pn;
				int64_t *psibs = siblings_load(db, nd->plan, p.parent, &pn);
				size_t j = index_of(psibs, pn, p.id);
				c->parent = p.parent;
				c->index = j < pn ? j + 1 : END;
				free(psibs);
				node_info_free(&p);
			}
		}
	}
	free(sibs);
	return status;
}

/* POST /noeuds/{node}/deplacer (sens = haut, bas, droite, gauche) */
static void node_move(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	struct node_change c = {.is_fiche = -1};
	const char *why = NULL;
	int status = move_target(r->db, &nd, req_form(r, "sens"), &c, &why);
	if (!status)
		status = node_change_apply(r, "web", "move", &nd, &c, &why);
	if (status) {
		tree_refuse(r, plan, status, why, NULL);
	} else {
		char loc[96];
		tree_url(loc, sizeof loc, plan, "deplace", node);
		resp_redirect(r, loc);
	}
	node_info_free(&nd);
}

/* --- node edit, delete and page ------------------------------------------------------------ */

/* The tag ids ticked in a form (every "tag" field); the caller frees. -1 when one is not a
 * number. */
static int form_tag_ids(struct req *r, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	for (size_t i = 0; i < r->form.n; i++) {
		if (strcmp(r->form.items[i].key, "tag") != 0)
			continue;
		int64_t v;
		if (parse_int64(r->form.items[i].val, &v))
			return -1;
		*ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = v;
	}
	return 0;
}

static int has_id(const int64_t *ids, size_t n, int64_t id)
{
	return index_of(ids, n, id) < n;
}

/* The node form. `ask_confirm` adds the confirmation asked before dropping a fiche's data. */
static void node_form_render(struct req *r, const struct node_info *nd, const char *title,
                             const char *description, int is_fiche, const int64_t *tags,
                             size_t ntags, const struct errs *e, int ask_confirm)
{
	char *ptitle = plan_title(r->db, nd->plan);
	char href[48], back[64];
	snprintf(href, sizeof href, "/plans/%lld", (long long)nd->plan);
	tree_url(back, sizeof back, nd->plan, NULL, nd->id);
	struct crumb crumbs[] = {{ptitle, href}, {"Arborescence", back}, {NULL, NULL}};
	char *page_title = xasprintf("Modifier l'élément %s", nd->number);
	page_begin(r, page_title, crumbs);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p><h1>Modifier l'élément %s</h1>\n", ptitle,
	            nd->number);
	errs_render(r, e);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/noeuds/%lld/modifier\" class=\"form\">",
	            (long long)nd->id);
	page_csrf(r);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"n-title\">Titre</label><input id=\"n-title\" "
	    "name=\"title\" required maxlength=\"300\" value=\"%s\"></div>"
	    "<div class=\"field\"><label for=\"n-description\">Description</label>"
	    "<textarea id=\"n-description\" name=\"description\" rows=\"8\" "
	    "aria-describedby=\"n-description-hint\">\n%s</textarea><p class=\"hint\" "
	    "id=\"n-description-hint\">En Markdown. 20 000 caractères au plus.</p></div>",
	    title, description);
	size_t nt;
	struct tag *all = tags_load(r->db, nd->plan, &nt);
	static const struct {
		const char *kind, *legend;
	} groups[] = {{"thematique", "Champs thématiques (CTG)"},
	              {"fil", "Fils conducteurs du plan"},
	              {"territoire", "Territoires prioritaires du plan"}};
	for (size_t g = 0; g < 3; g++) {
		int shown = 0;
		for (size_t i = 0; i < nt; i++) {
			if (strcmp(all[i].kind, groups[g].kind) != 0)
				continue;
			if (!shown++)
				html_printf(&r->out, "<fieldset><legend>%s</legend>",
				            groups[g].legend);
			html_printf(&r->out,
			            "<div><input type=\"checkbox\" id=\"tag-%lld\" name=\"tag\" "
			            "value=\"%lld\"%R><label for=\"tag-%lld\">%s</label></div>",
			            (long long)all[i].id, (long long)all[i].id,
			            has_id(tags, ntags, all[i].id) ? " checked" : "",
			            (long long)all[i].id, all[i].label);
		}
		if (shown)
			buf_puts(&r->out, "</fieldset>");
	}
	tags_free(all, nt);
	html_printf(
	    &r->out,
	    "<p class=\"hint\">Pour ajouter un fil conducteur ou un territoire : <a "
	    "href=\"/plans/%lld/arbre#etiquettes\">étiquettes du plan</a>.</p>"
	    "<div class=\"field\"><input type=\"checkbox\" id=\"n-fiche\" name=\"fiche\" "
	    "value=\"1\"%R aria-describedby=\"n-fiche-hint\"><label for=\"n-fiche\">Est une "
	    "fiche-action</label><p class=\"hint\" id=\"n-fiche-hint\">Une fiche-action a "
	    "un statut, un avancement, des pilotes, des partenaires et un budget.</p></div>",
	    (long long)nd->plan, is_fiche ? " checked" : "");
	if (ask_confirm)
		buf_puts(&r->out,
		         "<div class=\"field notice notice-warning\"><input type=\"checkbox\" "
		         "id=\"n-confirm\" name=\"confirmer\" value=\"1\"><label for=\"n-confirm\">"
		         "Je confirme : cet élément n'est plus une fiche-action et ses données de "
		         "fiche (pilotes, partenaires, budget, avancement, proposition…) sont "
		         "supprimées.</label></div>");
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer"
	            "</button><a href=\"%s\">Annuler</a></div></form>\n",
	            back);
	free(page_title);
	free(ptitle);
	page_end(r);
}

/* GET/POST /noeuds/{node}/modifier: title, description, tags, fiche-action or not. */
static void node_edit(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	struct errs e = {0};
	int64_t *tags = NULL;
	size_t ntags = 0;
	if (r->method == M_GET) {
		struct db_stmt *st =
		    db_queryf(r->db, "SELECT tag_id FROM node_tags WHERE node_id = ?", "I", node);
		while (st && db_step(st) == DB_ROW) {
			tags = xrealloc(tags, (ntags + 1) * sizeof *tags);
			tags[ntags++] = db_col_int64(st, 0);
		}
		db_finalize(st);
		node_form_render(r, &nd, nd.title, nd.description, nd.is_fiche, tags, ntags, &e, 0);
		free(tags);
		node_info_free(&nd);
		return;
	}
	char *title;
	const char *description = req_form(r, "description");
	if (!description)
		description = "";
	int is_fiche = req_form(r, "fiche") != NULL;
	int confirmed = req_form(r, "confirmer") != NULL;
	title_check(req_form(r, "title"), &title, &e);
	check_text(&e, description, DESCRIPTION_MAX, 0, 0, "Description");
	if (form_tag_ids(r, &tags, &ntags))
		errs_add(&e, "Étiquettes : valeur non valide.");
	int ask = !e.n && nd.is_fiche && !is_fiche && !confirmed && fiche_has_data(r->db, node);
	if (ask)
		errs_add(&e,
		         "Cette fiche-action contient des données (pilotes, budget, avancement…) "
		         "qui seront supprimées : cochez la confirmation pour continuer.");
	const char *why = NULL;
	int status = e.n ? (ask ? 409 : 422) : 0;
	if (!status) {
		struct node_change c = {.title = title,
		                        .description = description,
		                        .set_tags = 1,
		                        .tags = tags,
		                        .ntags = ntags,
		                        .is_fiche = is_fiche};
		status = node_change_apply(r, "web", "update", &nd, &c, &why);
		if (status)
			errs_add(&e, "%s", why);
	}
	if (status) {
		node_form_render(r, &nd, req_form(r, "title") ? req_form(r, "title") : "",
		                 description, is_fiche, tags, ntags, &e, ask);
		r->status = status;
	} else {
		char loc[96];
		tree_url(loc, sizeof loc, plan, "modifie", node);
		resp_redirect(r, loc);
	}
	free(title);
	free(tags);
	errs_free(&e);
	node_info_free(&nd);
}

/* GET/POST /noeuds/{node}/supprimer: a confirmation page, then the deletion. A node with
 * sub-elements is deleted only when "avec_descendance" is ticked. */
static void node_delete(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	int64_t below = descendant_count(r->db, node);
	int with_subtree = req_form(r, "avec_descendance") != NULL;
	if (r->method == M_POST && (below == 0 || with_subtree)) {
		if (node_delete_do(r, "web", &nd) != DB_OK) {
			resp_error(r, 500, "La suppression a échoué.");
		} else {
			char loc[96];
			tree_url(loc, sizeof loc, plan, "supprime", nd.parent);
			resp_redirect(r, loc);
		}
		node_info_free(&nd);
		return;
	}
	int64_t fiches_below = 0;
	db_int64f(r->db, &fiches_below,
	          "WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE parent_id = ? "
	          "UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent_id = sub.id) "
	          "SELECT COUNT(*) FROM fiches f JOIN sub ON sub.id = f.node_id",
	          "I", node);
	char *ptitle = plan_title(r->db, plan);
	char href[48], back[64];
	snprintf(href, sizeof href, "/plans/%lld", (long long)plan);
	tree_url(back, sizeof back, plan, NULL, node);
	struct crumb crumbs[] = {{ptitle, href}, {"Arborescence", back}, {NULL, NULL}};
	char *page_title = xasprintf("Supprimer l'élément %s", nd.number);
	page_begin(r, page_title, crumbs);
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p><h1>Supprimer l'élément %s</h1>\n<p>Vous allez "
	            "supprimer « %s %s »%R.</p>",
	            ptitle, nd.number, nd.number, nd.title,
	            nd.is_fiche ? ", une fiche-action, avec ses pilotes, partenaires, budget, "
	                          "commentaires et son historique de suivi"
	                        : "");
	if (r->method == M_POST)
		page_notice(r, "error",
		            "Cet élément a des sous-éléments : cochez la case pour les supprimer "
		            "avec lui, ou déplacez-les d'abord.");
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/noeuds/%lld/supprimer\" class=\"form\">",
	            (long long)node);
	page_csrf(r);
	if (below)
		html_printf(
		    &r->out,
		    "<div class=\"field notice notice-warning\"><input type=\"checkbox\" "
		    "id=\"d-subtree\" name=\"avec_descendance\" value=\"1\" required><label "
		    "for=\"d-subtree\">Supprimer aussi ses %lld sous-élément%R (dont %lld "
		    "fiche%R-action%R)</label></div>",
		    (long long)below, below > 1 ? "s" : "", (long long)fiches_below,
		    fiches_below > 1 ? "s" : "", fiches_below > 1 ? "s" : "");
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button danger\">"
	            "Supprimer définitivement</button><a href=\"%s\">Annuler</a></div></form>\n",
	            back);
	free(page_title);
	free(ptitle);
	page_end(r);
	if (r->method == M_POST)
		r->status = 409;
	node_info_free(&nd);
}

/* GET /noeuds/{node}: a node that is not a fiche-action (those are at /fiches/{id}): number,
 * level, title, description, tags, children, and the way up the tree. */
static void node_page(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_PUBLIC, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	if (nd.is_fiche) {
		char loc[48];
		snprintf(loc, sizeof loc, "/fiches/%lld", (long long)node);
		resp_redirect(r, loc);
		node_info_free(&nd);
		return;
	}
	char *levels[LEVELS_MAX];
	levels_get(r->db, plan, levels);
	char *ptitle = plan_title(r->db, plan);
	/* Ancestors, from the node up; shown top down. */
	struct crumb crumbs[DEPTH_MAX + 24];
	char *labels[DEPTH_MAX + 24], *hrefs[DEPTH_MAX + 24];
	size_t na = 0;
	for (int64_t up = nd.parent; up && na < DEPTH_MAX + 20;) {
		struct node_info a;
		if (node_info_load(r->db, up, &a))
			break;
		labels[na] = xasprintf("%s %s", a.number, a.title);
		hrefs[na] = xasprintf("/noeuds/%lld", (long long)a.id);
		na++;
		up = a.parent;
		node_info_free(&a);
	}
	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan);
	crumbs[0] = (struct crumb){ptitle, plan_href};
	for (size_t i = 0; i < na; i++)
		crumbs[1 + i] = (struct crumb){labels[na - 1 - i], hrefs[na - 1 - i]};
	crumbs[1 + na] = (struct crumb){NULL, NULL};
	char *page_title = xasprintf("%s %s", nd.number, nd.title);
	page_begin(r, page_title, crumbs);
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p><h1><span class=\"num\">%s</span> %s</h1>\n",
	            *level_at(levels, nd.depth) ? level_at(levels, nd.depth) : "Élément", nd.number,
	            nd.title);
	if (nd.archived)
		page_notice(r, "warning",
		            "Cet élément est archivé : il n'apparaît plus dans "
		            "l'arborescence.");
	html_printf(&r->out,
	            "<dl class=\"facts\"><div><dt>Plan</dt><dd><a href=\"%s\">%s</a></dd></div>"
	            "<div><dt>Numéro</dt><dd>%s</dd></div><div><dt>Niveau</dt><dd>%s</dd></div>"
	            "<div><dt>Étiquettes</dt><dd>",
	            plan_href, ptitle, nd.number,
	            *level_at(levels, nd.depth) ? level_at(levels, nd.depth) : "non nommé");
	json_t *tags = node_tags_json(r->db, node);
	size_t i;
	json_t *tg;
	json_array_foreach(tags, i, tg)
	{
		html_printf(&r->out, "%R<span class=\"tag\">%s</span>", i ? " " : "",
		            json_string_value(json_object_get(tg, "label")));
	}
	if (!json_array_size(tags))
		buf_puts(&r->out, "aucune");
	json_decref(tags);
	buf_puts(&r->out, "</dd></div></dl>\n");
	if (plan_role(r, plan) >= ROLE_COORDINATOR)
		html_printf(
		    &r->out,
		    "<div class=\"actions\"><a class=\"button\" href=\"/noeuds/%lld/modifier\">"
		    "Modifier</a><a class=\"button secondary\" href=\"/plans/%lld/arbre#n%lld\">"
		    "Voir dans l'éditeur d'arborescence</a></div>\n",
		    (long long)node, (long long)plan, (long long)node);
	if (!str_blank(nd.description)) {
		buf_puts(&r->out, "<div class=\"prose\">");
		markdown_render(&r->out, nd.description);
		buf_puts(&r->out, "</div>\n");
	}
	buf_puts(&r->out, "<section aria-labelledby=\"sous-elements\"><h2 id=\"sous-elements\">"
	                  "Sous-éléments</h2>");
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT n.id, n.depth, n.number, n.title, f.status, f.progress "
	              "FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id "
	              "WHERE n.parent_id = ? AND n.archived = 0 "
	              "ORDER BY n.position, n.id",
	              "I", node);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(&r->out, "<ol class=\"tree\">");
		int depth = (int)db_col_int64(st, 1);
		const char *status = db_col_text(st, 4);
		html_printf(
		    &r->out,
		    "<li><div class=\"node depth-%d\"><span class=\"num\">%s</span> <span "
		    "class=\"level\">%s</span> <span class=\"title\"><a href=\"/%s/%lld\">%s"
		    "</a></span>",
		    depth, db_col_text(st, 2), level_at(levels, depth),
		    status ? "fiches" : "noeuds", (long long)db_col_int64(st, 0),
		    db_col_text(st, 3));
		fiche_badges(&r->out, status, db_col_text(st, 5));
		buf_puts(&r->out, "</div></li>");
	}
	db_finalize(st);
	buf_puts(&r->out, n ? "</ol>" : "<p>Aucun sous-élément.</p>");
	buf_puts(&r->out, "</section>\n");
	for (size_t k = 0; k < na; k++) {
		free(labels[k]);
		free(hrefs[k]);
	}
	free(page_title);
	free(ptitle);
	levels_free(levels);
	node_info_free(&nd);
	page_end(r);
}

/* --- the plan's own tags ------------------------------------------------------------------------
 */

/* A slug from a label: folded, letters and digits, '-' between words, 60 bytes at most. */
static char *slugify(const char *label)
{
	char *folded = text_fold(label);
	struct buf b = {0};
	int dash = 0;
	for (const char *p = folded; *p && b.len < 60; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && b.len)
				buf_putc(&b, '-');
			buf_putc(&b, (char)c);
			dash = 0;
		} else {
			dash = 1;
		}
	}
	free(folded);
	if (!b.len)
		buf_puts(&b, "etiquette");
	return buf_steal(&b);
}

/* Check a tag label against the plan's other tags (same folded text refused). 0 when fine. */
static int tag_label_check(struct db *db, int64_t plan, int64_t except, const char *label,
                           struct errs *e)
{
	if (check_text(e, label, TAG_LABEL_MAX, 1, 1, "Libellé de l'étiquette"))
		return -1;
	char *key = text_fold(label);
	int dup = 0;
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT id, label FROM tags WHERE (plan_id = ? OR plan_id IS "
	              "NULL) AND id <> ?",
	              "II", plan, except);
	while (!dup && st && db_step(st) == DB_ROW) {
		char *other = text_fold(db_col_text(st, 1));
		dup = !strcmp(other, key);
		free(other);
	}
	db_finalize(st);
	free(key);
	if (dup) {
		errs_add(e, "Une étiquette porte déjà ce libellé.");
		return -1;
	}
	return 0;
}

/* Finish a tag change: redirect to the tags section, or re-show the tree with the error. */
static void tag_done(struct req *r, int64_t plan, struct errs *e, int status)
{
	if (e->n) {
		tree_refuse(r, plan, status ? status : 422, e->msg[0], NULL);
	} else {
		char loc[80];
		snprintf(loc, sizeof loc, "/plans/%lld/arbre?ok=etiquette#etiquettes",
		         (long long)plan);
		resp_redirect(r, loc);
	}
	errs_free(e);
}

/* The plan's own tag named by the "tag" field; 0 when there is none (an error is added). */
static int64_t form_own_tag(struct req *r, int64_t plan, struct errs *e, json_t **before)
{
	int64_t id = 0;
	if (parse_int64(req_form(r, "tag"), &id) == 0) {
		struct db_stmt *st =
		    db_queryf(r->db,
		              "SELECT kind, slug, label FROM tags WHERE id = ? AND "
		              "plan_id = ?",
		              "II", id, plan);
		if (st && db_step(st) == DB_ROW)
			*before = json_pack("{s:I,s:s,s:s,s:s}", "plan_id", (json_int_t)plan,
			                    "kind", db_col_text(st, 0), "slug", db_col_text(st, 1),
			                    "label", db_col_text(st, 2));
		else
			id = 0;
		db_finalize(st);
	}
	if (!id)
		errs_add(e, "Cette étiquette n'existe pas dans ce plan.");
	return id;
}

/* Run one statement and its audit entry in a transaction. */
static int tag_write(struct req *r, const char *action, int64_t id, json_t *before, json_t *after,
                     const char *sql, const char *types, const char *a, int64_t b)
{
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = !strcmp(types, "sI") ? db_execf(r->db, sql, types, a, b)
		                          : db_execf(r->db, sql, types, b);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", action, "tag", id, before, after);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK)
		db_rollback(r->db);
	return rc;
}

/* POST /plans/{plan}/etiquettes (kind = fil or territoire, label) */
static void tag_add(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	struct errs e = {0};
	const char *kind = req_form(r, "kind");
	char *label = str_trim_dup(req_form(r, "label") ? req_form(r, "label") : "");
	if (!kind || (strcmp(kind, "fil") != 0 && strcmp(kind, "territoire") != 0))
		errs_add(&e, "Type d'étiquette : fil conducteur ou territoire prioritaire.");
	else
		tag_label_check(r->db, plan, 0, label, &e);
	int64_t count = 0;
	db_int64f(r->db, &count, "SELECT COUNT(*) FROM tags WHERE plan_id = ?", "I", plan);
	if (!e.n && count >= TAGS_MAX)
		errs_add(&e, "Un plan a %d étiquettes propres au plus.", TAGS_MAX);
	if (!e.n) {
		char *base = slugify(label), *slug = xstrdup(base);
		for (int k = 2; k < 1000; k++) {
			int64_t taken = 0;
			db_int64f(r->db, &taken,
			          "SELECT COUNT(*) FROM tags WHERE slug = ? AND "
			          "(plan_id = ? OR plan_id IS NULL)",
			          "sI", slug, plan);
			if (!taken)
				break;
			free(slug);
			slug = xasprintf("%s-%d", base, k);
		}
		int64_t id = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &id,
			    "INSERT INTO tags (plan_id, kind, slug, label) VALUES (?, ?, ?, "
			    "?) RETURNING id",
			    "Isss", plan, kind, slug, label);
		if (rc == DB_OK) {
			json_t *after = json_pack("{s:I,s:s,s:s,s:s}", "plan_id", (json_int_t)plan,
			                          "kind", kind, "slug", slug, "label", label);
			rc = audit_write_id(r->db, r->user->id, "web", "create", "tag", id, NULL,
			                    after);
			json_decref(after);
		}
		if (rc == DB_OK)
			rc = db_commit(r->db);
		if (rc != DB_OK) {
			db_rollback(r->db);
			errs_add(&e, "L'enregistrement de l'étiquette a échoué.");
		}
		free(base);
		free(slug);
	}
	free(label);
	tag_done(r, plan, &e, 0);
}

/* POST /plans/{plan}/etiquettes/renommer (tag, label) */
static void tag_rename(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	struct errs e = {0};
	json_t *before = NULL;
	int64_t id = form_own_tag(r, plan, &e, &before);
	char *label = str_trim_dup(req_form(r, "label") ? req_form(r, "label") : "");
	if (id && tag_label_check(r->db, plan, id, label, &e) == 0) {
		json_t *after = json_deep_copy(before);
		json_object_set_new(after, "label", json_string(label));
		if (tag_write(r, "update", id, before, after,
		              "UPDATE tags SET label = ? WHERE id = ?", "sI", label, id) != DB_OK)
			errs_add(&e, "L'enregistrement de l'étiquette a échoué.");
		json_decref(after);
	}
	json_decref(before);
	free(label);
	tag_done(r, plan, &e, id ? 422 : 404);
}

/* POST /plans/{plan}/etiquettes/supprimer (tag): the tag leaves every node that carried it. */
static void tag_delete(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	struct errs e = {0};
	json_t *before = NULL;
	int64_t id = form_own_tag(r, plan, &e, &before);
	if (id && tag_write(r, "delete", id, before, NULL, "DELETE FROM tags WHERE id = ?", "I",
	                    NULL, id) != DB_OK)
		errs_add(&e, "La suppression de l'étiquette a échoué.");
	json_decref(before);
	tag_done(r, plan, &e, 404);
}

/* --- nodes: JSON API -------------------------------------------------------------------------- */

/* Tags of a JSON body: ids or slugs (the plan's own slug first, then the thematics). The caller
 * frees *ids. -1 with a message when one is unknown or of a wrong type. */
static int json_tags(struct db *db, int64_t plan, json_t *arr, int64_t **ids, size_t *n,
                     struct errs *e)
{
	*ids = NULL;
	*n = 0;
	if (!json_is_array(arr)) {
		errs_add(e,
		         "« tags » doit être une liste d'identifiants ou de codes d'étiquettes.");
		return -1;
	}
	size_t cap = 0, i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		int64_t id = 0;
		if (json_is_object(v))
			v = json_object_get(v, "id");
		if (json_is_integer(v)) {
			db_int64f(
			    db, &id,
			    "SELECT id FROM tags WHERE id = ? AND (plan_id = ? OR plan_id IS NULL)",
			    "II", (int64_t)json_integer_value(v), plan);
		} else if (json_is_string(v)) {
			db_int64f(
			    db, &id,
			    "SELECT id FROM tags WHERE slug = ? AND (plan_id = ? OR plan_id IS "
			    "NULL) ORDER BY CASE WHEN plan_id IS NULL THEN 1 ELSE 0 END LIMIT 1",
			    "sI", json_string_value(v), plan);
		}
		if (!id) {
			errs_add(e, "« tags » : l'étiquette n° %zu est inconnue pour ce plan.",
			         i + 1);
			return -1;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*ids = xrealloc(*ids, cap * sizeof **ids);
		}
		(*ids)[(*n)++] = id;
	}
	return 0;
}

/* Answer a node as JSON with its children. */
static void resp_node(struct req *r, int status, int64_t id)
{
	json_t *j = node_to_json(r->db, id, 1);
	if (!j)
		resp_error(r, 404, "Cet élément n'existe pas.");
	else
		resp_json(r, status, j);
}

/* GET /api/v1/nodes/{node} */
static void api_node_get(struct req *r)
{
	int64_t node;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_PUBLIC, NULL))
		return;
	resp_node(r, 200, node);
}

/* A position (1-based) from JSON into a 0-based index; END when absent. */
static int json_position(json_t *body, size_t *index, struct errs *e)
{
	int64_t pos = 0;
	int got = json_int_member(body, "position", &pos, e);
	if (got < 0)
		return -1;
	if (got && pos < 1) {
		errs_add(e, "« position » commence à 1.");
		return -1;
	}
	*index = got ? (size_t)(pos - 1) : END;
	return got;
}

/* POST /api/v1/plans/{plan}/nodes {parent_id?, title, description?, is_fiche?, position?,
 * tags?} */
static void api_node_create(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct errs e = {0};
	const char *title = NULL, *description = "";
	int64_t parent = 0, *tags = NULL;
	size_t ntags = 0, index = END;
	int is_fiche = -1;
	char *trimmed = NULL;
	json_text_member(body, "title", &title, &e);
	json_text_member(body, "description", &description, &e);
	json_int_member(body, "parent_id", &parent, &e);
	json_bool_member(body, "is_fiche", &is_fiche, &e);
	json_position(body, &index, &e);
	if (json_object_get(body, "tags"))
		json_tags(r->db, plan, json_object_get(body, "tags"), &tags, &ntags, &e);
	if (!e.n) {
		title_check(title, &trimmed, &e);
		check_text(&e, description, DESCRIPTION_MAX, 0, 0, "Description");
	}
	int64_t id = 0;
	const char *why = NULL;
	int status = e.n ? 422 : 0;
	if (!status)
		status = node_create(r, "api", plan, parent, index, trimmed, description, is_fiche,
		                     tags, ntags, &id, &why);
	if (!status)
		resp_node(r, 201, id);
	else if (e.n)
		resp_errs(r, status, &e);
	else
		resp_error(r, status, why);
	json_decref(body);
	free(trimmed);
	free(tags);
	errs_free(&e);
}

/* PATCH /api/v1/nodes/{node} {title?, description?, tags?, is_fiche?, confirm?, parent_id?,
 * position?}: parent_id (null for the top level) and/or position move the node. */
static void api_node_patch(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		json_decref(body);
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	struct errs e = {0};
	struct node_change c = {.is_fiche = -1};
	const char *title = NULL, *description = NULL;
	char *trimmed = NULL;
	int64_t *tags = NULL;
	size_t ntags = 0;
	int confirm = 0;
	if (json_text_member(body, "title", &title, &e) > 0 &&
	    title_check(title, &trimmed, &e) == 0)
		c.title = trimmed;
	if (json_text_member(body, "description", &description, &e) > 0 &&
	    check_text(&e, description, DESCRIPTION_MAX, 0, 0, "Description") == 0)
		c.description = description;
	json_t *jt = json_object_get(body, "tags");
	if (jt && json_tags(r->db, plan, jt, &tags, &ntags, &e) == 0) {
		c.set_tags = 1;
		c.tags = tags;
		c.ntags = ntags;
	}
	json_bool_member(body, "is_fiche", &c.is_fiche, &e);
	json_bool_member(body, "confirm", &confirm, &e);
	json_t *jp = json_object_get(body, "parent_id");
	if (jp) {
		if (json_is_null(jp)) {
			c.parent = 0;
			c.move = 1;
		} else if (json_is_integer(jp)) {
			c.parent = (int64_t)json_integer_value(jp);
			c.move = 1;
		} else {
			errs_add(&e, "« parent_id » doit être un identifiant d'élément ou null.");
		}
	} else {
		c.parent = nd.parent;
	}
	int got = json_position(body, &c.index, &e);
	if (got > 0)
		c.move = 1;
	const char *why = NULL;
	int status = e.n ? 422 : 0;
	if (!status && nd.is_fiche && c.is_fiche == 0 && !confirm && fiche_has_data(r->db, node)) {
		status = 409;
		why = "Cette fiche-action contient des données (pilotes, budget, avancement…) : "
		      "envoyez \"confirm\": true pour les supprimer avec le statut de fiche.";
	}
	if (!status)
		status = node_change_apply(r, "api", c.move ? "move" : "update", &nd, &c, &why);
	if (!status)
		resp_node(r, 200, node);
	else if (e.n)
		resp_errs(r, status, &e);
	else
		resp_error(r, status, why);
	json_decref(body);
	free(trimmed);
	free(tags);
	errs_free(&e);
	node_info_free(&nd);
}

/* DELETE /api/v1/nodes/{node}[?subtree=1]: a node with sub-elements needs subtree=1. */
static void api_node_delete(struct req *r)
{
	int64_t node, plan;
	if (req_param_id(r, 0, &node) || node_require(r, node, ROLE_COORDINATOR, &plan))
		return;
	struct node_info nd;
	if (node_info_load(r->db, node, &nd)) {
		resp_error(r, 404, "Cet élément n'existe pas.");
		return;
	}
	const char *sub = req_query(r, "subtree");
	int with_subtree = sub && (!strcmp(sub, "1") || !strcmp(sub, "true"));
	int64_t below = descendant_count(r->db, node);
	if (below && !with_subtree) {
		char *m =
		    xasprintf("Cet élément a %lld sous-élément%s : ajoutez ?subtree=1 pour le "
		              "supprimer avec eux.",
		              (long long)below, below > 1 ? "s" : "");
		resp_error(r, 409, m);
		free(m);
	} else if (node_delete_do(r, "api", &nd) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué.");
	} else {
		resp_json(r, 200,
		          json_pack("{s:I,s:I,s:I}", "deleted", (json_int_t)node, "descendants",
		                    (json_int_t)below, "plan_id", (json_int_t)plan));
	}
	node_info_free(&nd);
}

/* --- members and invitations ------------------------------------------------------------------ */

/* Member roles in the order lists show them. */
#define ROLE_ORDER                                                                                 \
	"CASE m.role WHEN 'coordinator' THEN 0 WHEN 'pilot' THEN 1 WHEN 'partner' THEN 2 ELSE 3 "  \
	"END"

/* The result of an invitation: an existing account added, or an invitation link to pass on. */
struct invite_result {
	int64_t user_id; /* the account added, or 0 */
	char token[65];  /* the invitation's token when one was created ("" otherwise) */
	char expires[32];
};

/*
 * Invite `email` to the plan with `role`: an active account with that address becomes a member
 * at once; else an invitation valid 14 days is stored (only the token's hash) and its token
 * returned in res. Audited ('plan', member_add or invite). Returns 0, or an HTTP status with a
 * French reason in *why (static).
 */
static int invite(struct req *r, const char *origin, int64_t plan, const char *email,
                  const char *role, struct invite_result *res, const char **why)
{
	memset(res, 0, sizeof *res);
	if (!member_role_valid(role)) {
		*why = "Rôle inconnu : coordinator, pilot, partner ou reader.";
		return 422;
	}
	const char *problem = auth_email_problem(email);
	if (problem) {
		*why = problem;
		return 422;
	}
	int64_t uid = 0, disabled = 0;
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT id, disabled FROM users WHERE LOWER(email) = LOWER(?) "
	              "ORDER BY id LIMIT 1",
	              "s", email);
	if (st && db_step(st) == DB_ROW) {
		uid = db_col_int64(st, 0);
		disabled = db_col_int64(st, 1);
	}
	db_finalize(st);
	if (uid && disabled) {
		*why = "Le compte qui porte cette adresse est désactivé : demandez à un "
		       "administrateur de le réactiver.";
		return 409;
	}
	if (uid) {
		int64_t member = 0;
		db_int64f(r->db, &member,
		          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND user_id = ?",
		          "II", plan, uid);
		if (member) {
			*why = "Cette personne est déjà membre du plan : changez plutôt son rôle.";
			return 409;
		}
	}
	char now[32];
	time_iso_now(now);
	int rc = db_begin(r->db);
	json_t *after = NULL;
	if (uid) {
		if (rc == DB_OK)
			rc = db_execf(r->db,
			              "INSERT INTO plan_members (plan_id, user_id, role) "
			              "VALUES (?, ?, ?)",
			              "IIs", plan, uid, role);
		after = json_pack("{s:I,s:s,s:s}", "user_id", (json_int_t)uid, "email", email,
		                  "role", role);
	} else {
		char hash[65];
		random_hex(res->token, 32);
		hash_hex(res->token, hash);
		time_iso_from_now(res->expires, INVITATION_SECONDS);
		/* A new invitation replaces the pending ones for the same address. */
		if (rc == DB_OK)
			rc = db_execf(r->db,
			              "DELETE FROM invitations WHERE plan_id = ? AND "
			              "LOWER(email) = LOWER(?) AND accepted_at IS NULL",
			              "Is", plan, email);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db,
			    "INSERT INTO invitations (token_hash, plan_id, email, role, "
			    "invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			    "sIssIss", hash, plan, email, role, r->user->id, now, res->expires);
		after = json_pack("{s:s,s:s,s:s}", "email", email, "role", role, "expires_at",
		                  res->expires);
	}
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin, uid ? "member_add" : "invite",
		                    "plan", plan, NULL, after);
	json_decref(after);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		res->token[0] = '\0';
		*why = "L'enregistrement a échoué ; réessayez.";
		return 500;
	}
	res->user_id = uid;
	return 0;
}

/* How many coordinators the plan has. */
static int64_t coordinator_count(struct db *db, int64_t plan)
{
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE plan_id = ? AND role = 'coordinator'",
	          "I", plan);
	return n;
}

/*
 * Change a member's role (new_role) or remove them (new_role NULL); the plan keeps at least one
 * coordinator. Audited. Returns 0, or an HTTP status with a reason in *why.
 */
static int member_change(struct req *r, const char *origin, int64_t plan, int64_t uid,
                         const char *new_role, const char **why)
{
	if (new_role && !member_role_valid(new_role)) {
		*why = "Rôle inconnu : coordinator, pilot, partner ou reader.";
		return 422;
	}
	char *old = NULL;
	struct db_stmt *st =
	    db_queryf(r->db, "SELECT role FROM plan_members WHERE plan_id = ? AND user_id = ?",
	              "II", plan, uid);
	if (st && db_step(st) == DB_ROW)
		old = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	if (!old) {
		*why = "Cette personne n'est pas membre du plan.";
		return 404;
	}
	if (!strcmp(old, "coordinator") && (!new_role || strcmp(new_role, "coordinator") != 0) &&
	    coordinator_count(r->db, plan) <= 1) {
		free(old);
		*why = "Le plan doit garder au moins un coordinateur : nommez-en un autre d'abord.";
		return 409;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = new_role
		         ? db_execf(r->db,
		                    "UPDATE plan_members SET role = ? WHERE plan_id = ? AND "
		                    "user_id = ?",
		                    "sII", new_role, plan, uid)
		         : db_execf(r->db,
		                    "DELETE FROM plan_members WHERE plan_id = ? AND user_id = ?",
		                    "II", plan, uid);
	json_t *before = json_pack("{s:I,s:s}", "user_id", (json_int_t)uid, "role", old);
	json_t *after =
	    new_role ? json_pack("{s:I,s:s}", "user_id", (json_int_t)uid, "role", new_role) : NULL;
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin,
		                    new_role ? "member_role" : "member_remove", "plan", plan,
		                    before, after);
	json_decref(before);
	json_decref(after);
	free(old);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		*why = "L'enregistrement a échoué ; réessayez.";
		return 500;
	}
	return 0;
}

/* The role <select> of a member form. */
static void role_select(struct req *r, const char *id, const char *current)
{
	html_printf(&r->out, "<select id=\"%s\" name=\"role\">", id);
	for (size_t i = 0; i < NROLES; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", member_roles[i],
		            current && !strcmp(current, member_roles[i]) ? " selected" : "",
		            role_label(role_parse(member_roles[i])));
	buf_puts(&r->out, "</select>");
}

/* The members page: the list for every member; the forms and invitations for the coordination.
 * `link` is an invitation link just created for `invited` (shown once); `email`/`role` what was
 * typed in a refused invitation form. */
static void members_page(struct req *r, int64_t plan, const char *error, const char *link,
                         const char *invited, const char *email, const char *role)
{
	char *ptitle = plan_title(r->db, plan);
	if (!ptitle) {
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	int manage = plan_role(r, plan) >= ROLE_COORDINATOR;
	char href[48];
	snprintf(href, sizeof href, "/plans/%lld", (long long)plan);
	struct crumb crumbs[] = {{ptitle, href}, {NULL, NULL}};
	page_begin(r, "Membres du plan", crumbs);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p><h1>Membres du plan</h1>\n", ptitle);
	const char *ok = req_query(r, "ok");
	static const struct {
		const char *code, *text;
	} oks[] = {{"ajoute", "Membre ajouté au plan."},
	           {"role", "Rôle modifié."},
	           {"retire", "Membre retiré du plan."},
	           {"annulee", "Invitation annulée."}};
	for (size_t i = 0; ok && i < sizeof oks / sizeof *oks; i++)
		if (!strcmp(ok, oks[i].code))
			page_notice(r, "success", oks[i].text);
	if (error)
		page_notice(r, "error", error);
	if (link) {
		const char *host = req_header(r, "Host");
		html_printf(
		    &r->out,
		    "<div class=\"notice notice-success\" role=\"status\"><p>Invitation créée "
		    "pour %s. Transmettez-lui ce lien, valable 14 jours et utilisable une "
		    "seule fois (il ne sera plus affiché) :</p><p><code "
		    "class=\"invitation-link\">%s%s%s</code></p></div>\n",
		    invited, host ? "http://" : "", host ? host : "", link);
	}
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT u.id, u.name, u.email, m.role FROM plan_members m "
	                               "JOIN users u ON u.id = m.user_id WHERE m.plan_id = ? "
	                               "ORDER BY " ROLE_ORDER ", u.name",
	                               "I", plan);
	html_printf(&r->out,
	            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
	            "aria-labelledby=\"members-caption\"><table><caption id=\"members-caption\">"
	            "Membres et rôles</caption><thead><tr><th scope=\"col\">Nom</th>%R"
	            "<th scope=\"col\">Rôle</th>%R</tr></thead><tbody>",
	            manage ? "<th scope=\"col\">Adresse électronique</th>" : "",
	            manage ? "<th scope=\"col\">Retirer</th>" : "");
	while (st && db_step(st) == DB_ROW) {
		long long uid = (long long)db_col_int64(st, 0);
		const char *name = db_col_text(st, 1), *mrole = db_col_text(st, 3);
		html_printf(&r->out, "<tr><th scope=\"row\">%s</th>", name);
		if (!manage) {
			html_printf(&r->out, "<td>%s</td></tr>", role_label(role_parse(mrole)));
			continue;
		}
		html_printf(
		    &r->out,
		    "<td>%s</td><td><form method=\"post\" action=\"/plans/%lld/membres/%lld/"
		    "role\" class=\"inline\">",
		    db_col_text(st, 2), (long long)plan, uid);
		page_csrf(r);
		char sel[32];
		snprintf(sel, sizeof sel, "role-%lld", uid);
		html_printf(&r->out,
		            "<label class=\"visually-hidden\" for=\"%s\">Rôle de %s</label>", sel,
		            name);
		role_select(r, sel, mrole);
		html_printf(
		    &r->out,
		    " <button type=\"submit\" class=\"button small secondary\">Changer<span "
		    "class=\"visually-hidden\"> le rôle de %s</span></button></form></td>"
		    "<td><form method=\"post\" action=\"/plans/%lld/membres/%lld/retirer\" "
		    "class=\"inline\">",
		    name, (long long)plan, uid);
		page_csrf(r);
		html_printf(&r->out,
		            "<button type=\"submit\" class=\"button small danger\">Retirer<span "
		            "class=\"visually-hidden\"> %s</span></button></form></td></tr>",
		            name);
	}
	db_finalize(st);
	buf_puts(&r->out, "</tbody></table></div>\n");
	if (manage) {
		char now[32];
		time_iso_now(now);
		st = db_queryf(
		    r->db,
		    "SELECT i.token_hash, i.email, i.role, i.expires_at, "
		    "COALESCE(u.name, '') FROM invitations i LEFT JOIN users u "
		    "ON u.id = i.invited_by WHERE i.plan_id = ? AND i.accepted_at IS NULL "
		    "AND i.expires_at > ? ORDER BY i.created_at",
		    "Is", plan, now);
		int n = 0;
		while (st && db_step(st) == DB_ROW) {
			if (n++ == 0)
				buf_puts(
				    &r->out,
				    "<h2>Invitations en attente</h2><div class=\"table-wrap\" "
				    "tabindex=\"0\" role=\"region\" "
				    "aria-labelledby=\"inv-caption\">"
				    "<table><caption id=\"inv-caption\">Invitations envoyées, pas "
				    "encore acceptées</caption><thead><tr><th scope=\"col\">Adresse"
				    "</th><th scope=\"col\">Rôle</th><th scope=\"col\">Invité par"
				    "</th><th scope=\"col\">Valable jusqu'au</th><th scope=\"col\">"
				    "Annuler</th></tr></thead><tbody>");
			char until[64];
			fiche_date_fr(until, db_col_text(st, 3));
			html_printf(&r->out,
			            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><form "
			            "method=\"post\" action=\"/plans/%lld/invitations/annuler\" "
			            "class=\"inline\">",
			            db_col_text(st, 1), role_label(role_parse(db_col_text(st, 2))),
			            db_col_text(st, 4), until, (long long)plan);
			page_csrf(r);
			html_printf(
			    &r->out,
			    "<input type=\"hidden\" name=\"invitation\" value=\"%s\"><button "
			    "type=\"submit\" class=\"button small secondary\">Annuler<span "
			    "class=\"visually-hidden\"> l'invitation de %s</span></button>"
			    "</form></td></tr>",
			    db_col_text(st, 0), db_col_text(st, 1));
		}
		db_finalize(st);
		if (n)
			buf_puts(&r->out, "</tbody></table></div>\n");
		html_printf(
		    &r->out,
		    "<section class=\"panel\" aria-labelledby=\"inviter\"><h2 id=\"inviter\">"
		    "Inviter une personne</h2><form method=\"post\" "
		    "action=\"/plans/%lld/membres\" class=\"form\">",
		    (long long)plan);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<div class=\"field\"><label for=\"i-email\">Adresse électronique</label>"
		    "<input id=\"i-email\" name=\"email\" type=\"email\" required "
		    "maxlength=\"254\" value=\"%s\" aria-describedby=\"i-email-hint\">"
		    "<p class=\"hint\" id=\"i-email-hint\">Si un compte existe avec cette "
		    "adresse, la personne est ajoutée tout de suite ; sinon un lien "
		    "d'invitation s'affiche ici, à lui transmettre.</p></div>"
		    "<div class=\"field\"><label for=\"i-role\">Rôle dans le plan</label>",
		    email ? email : "");
		role_select(r, "i-role", role ? role : "reader");
		buf_puts(&r->out, "</div><button type=\"submit\" class=\"button\">Inviter</button>"
		                  "</form></section>\n");
	}
	free(ptitle);
	page_end(r);
}

/* GET /plans/{plan}/membres: members see the list; the coordination manages it. */
static void members_get(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_READER))
		return;
	members_page(r, plan, NULL, NULL, NULL, NULL, NULL);
}

static void members_redirect(struct req *r, int64_t plan, const char *ok)
{
	char loc[80];
	snprintf(loc, sizeof loc, "/plans/%lld/membres?ok=%s", (long long)plan, ok);
	resp_redirect(r, loc);
}

/* POST /plans/{plan}/membres (email, role): add an account, or create an invitation and show
 * its link once (200, not a redirect: the token is not stored and must not go in a URL). */
static void member_invite(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	char *email = str_trim_dup(req_form(r, "email") ? req_form(r, "email") : "");
	const char *role = req_form(r, "role");
	struct invite_result res;
	const char *why = NULL;
	int status = invite(r, "web", plan, email, role, &res, &why);
	if (status) {
		members_page(r, plan, why, NULL, NULL, email, role);
		r->status = status;
	} else if (res.user_id) {
		members_redirect(r, plan, "ajoute");
	} else {
		char *link = xasprintf("/invitation/%s", res.token);
		members_page(r, plan, NULL, link, email, NULL, NULL);
		free(link);
	}
	free(email);
}

/* POST /plans/{plan}/membres/{user}/role (role) and /retirer */
static void member_update(struct req *r, int remove)
{
	int64_t plan, uid;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR) ||
	    req_param_id(r, 1, &uid))
		return;
	const char *why = NULL;
	int status = member_change(r, "web", plan, uid, remove ? NULL : req_form(r, "role"), &why);
	if (status) {
		members_page(r, plan, why, NULL, NULL, NULL, NULL);
		r->status = status;
	} else if (remove && uid == r->user->id && plan_role(r, plan) == ROLE_NONE) {
		resp_redirect(r, "/");
	} else {
		members_redirect(r, plan, remove ? "retire" : "role");
	}
}

static void member_role(struct req *r)
{
	member_update(r, 0);
}

static void member_remove(struct req *r)
{
	member_update(r, 1);
}

/* POST /plans/{plan}/invitations/annuler (invitation = the token's hash, as listed) */
static void invitation_cancel(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	const char *hash = req_form(r, "invitation");
	char *email = NULL;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT email FROM invitations WHERE token_hash = ? AND "
	                               "plan_id = ? AND accepted_at IS NULL",
	                               "sI", hash ? hash : "", plan);
	if (st && db_step(st) == DB_ROW)
		email = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	if (!email) {
		members_page(r, plan, "Cette invitation n'existe pas ou a déjà été acceptée.", NULL,
		             NULL, NULL, NULL);
		r->status = 404;
		return;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM invitations WHERE token_hash = ?", "s", hash);
	json_t *before = json_pack("{s:s}", "email", email);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "invite_cancel", "plan", plan,
		                    before, NULL);
	json_decref(before);
	free(email);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		resp_error(r, 500, "L'annulation a échoué.");
		return;
	}
	members_redirect(r, plan, "annulee");
}

/* An invitation read by its token. */
struct invitation {
	char hash[65];
	int64_t plan;
	char *email, *role, *expires, *accepted, *plan_title;
};

static void invitation_free(struct invitation *i)
{
	free(i->email);
	free(i->role);
	free(i->expires);
	free(i->accepted);
	free(i->plan_title);
}

/* Load the invitation of a token: 0 when usable; 404 when unknown; 410 when used or expired. */
static int invitation_load(struct db *db, const char *token, struct invitation *inv)
{
	memset(inv, 0, sizeof *inv);
	if (!token || strlen(token) != 64 || strspn(token, "0123456789abcdef") != 64)
		return 404;
	hash_hex(token, inv->hash);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT i.plan_id, i.email, i.role, i.expires_at, "
	                               "i.accepted_at, p.title FROM invitations i JOIN plans p "
	                               "ON p.id = i.plan_id WHERE i.token_hash = ?",
	                               "s", inv->hash);
	int status = 404;
	if (st && db_step(st) == DB_ROW) {
		inv->plan = db_col_int64(st, 0);
		inv->email = xstrdup(db_col_text(st, 1));
		inv->role = xstrdup(db_col_text(st, 2));
		inv->expires = xstrdup(db_col_text(st, 3));
		inv->accepted = db_col_is_null(st, 4) ? NULL : xstrdup(db_col_text(st, 4));
		inv->plan_title = xstrdup(db_col_text(st, 5));
		char now[32];
		time_iso_now(now);
		status = inv->accepted || strcmp(inv->expires, now) <= 0 ? 410 : 0;
	}
	db_finalize(st);
	return status;
}

/* The page for a token that cannot be used. */
static void invitation_gone(struct req *r, int status, const struct invitation *inv)
{
	const char *title = status == 404 ? "Invitation introuvable" : "Invitation périmée";
	page_begin(r, title, NULL);
	html_printf(&r->out, "<h1>%s</h1>\n", title);
	page_notice(
	    r, "error",
	    status == 404   ? "Ce lien d'invitation n'existe pas : vérifiez qu'il a été copié "
	                      "en entier."
	    : inv->accepted ? "Ce lien d'invitation a déjà été utilisé : connectez-vous avec "
	                      "le compte créé, ou demandez une nouvelle invitation."
	                    : "Ce lien d'invitation a expiré : demandez-en un nouveau à la "
	                      "coordination du plan.");
	buf_puts(&r->out, "<p><a href=\"/connexion\">Se connecter</a> · <a href=\"/\">Retour à "
	                  "l'accueil</a></p>\n");
	page_end(r);
	r->status = status;
}

/* The invitation page: what the invitation is for, and the way to accept it. */
static void invitation_page(struct req *r, const struct invitation *inv, const char *token,
                            const char *error, const char *name)
{
	page_begin(r, "Invitation", NULL);
	char until[64];
	fiche_date_fr(until, inv->expires);
	html_printf(&r->out,
	            "<div class=\"narrow\"><h1>Invitation à rejoindre un plan</h1>\n"
	            "<dl class=\"facts\"><div><dt>Plan</dt><dd>%s</dd></div><div><dt>Rôle</dt>"
	            "<dd>%s</dd></div><div><dt>Adresse</dt><dd>%s</dd></div><div><dt>Valable "
	            "jusqu'au</dt><dd>%s</dd></div></dl>\n",
	            inv->plan_title, role_label(role_parse(inv->role)), inv->email, until);
	if (error)
		page_notice(r, "error", error);
	int64_t existing = 0;
	db_int64f(r->db, &existing, "SELECT id FROM users WHERE LOWER(email) = LOWER(?)", "s",
	          inv->email);
	if (r->user && !strcasecmp(r->user->email, inv->email)) {
		html_printf(&r->out,
		            "<form method=\"post\" action=\"/invitation/%s\" class=\"form\">",
		            token);
		page_csrf(r);
		buf_puts(&r->out,
		         "<button type=\"submit\" class=\"button\">Rejoindre le plan</button>"
		         "</form>");
	} else if (r->user) {
		page_notice(r, "warning",
		            "Vous êtes connecté avec une autre adresse que celle de l'invitation : "
		            "déconnectez-vous, puis rouvrez ce lien.");
	} else if (existing) {
		html_printf(
		    &r->out,
		    "<p>Un compte existe déjà avec cette adresse : <a "
		    "href=\"/connexion?suite=%u\">connectez-vous</a>, puis rejoignez le plan "
		    "depuis ce lien.</p>",
		    r->path);
	} else {
		html_printf(&r->out,
		            "<p>Créez votre compte pour rejoindre le plan.</p><form "
		            "method=\"post\" action=\"/invitation/%s\" class=\"form\">",
		            token);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<div class=\"field\"><label for=\"v-name\">Votre nom</label><input "
		    "id=\"v-name\" name=\"name\" required maxlength=\"200\" "
		    "autocomplete=\"name\" value=\"%s\"></div>"
		    "<div class=\"field\"><label for=\"v-password\">Mot de passe</label>"
		    "<input id=\"v-password\" name=\"password\" type=\"password\" required "
		    "minlength=\"10\" autocomplete=\"new-password\" "
		    "aria-describedby=\"v-password-hint\"><p class=\"hint\" "
		    "id=\"v-password-hint\">10 caractères au moins.</p></div>"
		    "<div class=\"field\"><label for=\"v-confirm\">Confirmation du mot de "
		    "passe</label><input id=\"v-confirm\" name=\"confirm\" type=\"password\" "
		    "required autocomplete=\"new-password\"></div>"
		    "<button type=\"submit\" class=\"button\">Créer mon compte et rejoindre "
		    "le plan</button></form>",
		    name ? name : "");
	}
	buf_puts(&r->out, "</div>\n");
	page_end(r);
}

/* Mark the invitation used and make the account a member, in one transaction. 0 on success,
 * 410 when it was used or expired meanwhile, 500 on failure. */
static int invitation_accept(struct req *r, const struct invitation *inv, int64_t uid)
{
	char now[32];
	time_iso_now(now);
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return 500;
	int used = 1;
	struct db_stmt *st =
	    db_queryf(r->db,
	              "UPDATE invitations SET accepted_at = ? WHERE token_hash = ? "
	              "AND accepted_at IS NULL AND expires_at > ? RETURNING plan_id",
	              "sss", now, inv->hash, now);
	if (st && db_step(st) == DB_ROW)
		used = 0;
	db_finalize(st);
	if (used) {
		db_rollback(r->db);
		return 410;
	}
	rc = db_execf(r->db,
	              "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, ?) "
	              "ON CONFLICT (plan_id, user_id) DO UPDATE SET role = excluded.role",
	              "IIs", inv->plan, uid, inv->role);
	json_t *after = json_pack("{s:I,s:s,s:s}", "user_id", (json_int_t)uid, "email", inv->email,
	                          "role", inv->role);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, uid, "web", "invitation_accept", "plan", inv->plan, NULL,
		                    after);
	json_decref(after);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK) {
		db_rollback(r->db);
		return 500;
	}
	return 0;
}

/* GET/POST /invitation/{token} (public: the token is the credential). A new account gets the
 * invited role as its global role, joins the plan and is logged in. */
static void invitation(struct req *r)
{
	const char *token = r->params[0];
	struct invitation inv;
	int status = invitation_load(r->db, token, &inv);
	if (status) {
		invitation_gone(r, status, &inv);
		invitation_free(&inv);
		return;
	}
	if (r->method == M_GET) {
		invitation_page(r, &inv, token, NULL, NULL);
		invitation_free(&inv);
		return;
	}
	int64_t uid = 0;
	int fresh = 0;
	if (r->user) {
		if (strcasecmp(r->user->email, inv.email) != 0) {
			invitation_page(r, &inv, token, NULL, NULL);
			r->status = 403;
			invitation_free(&inv);
			return;
		}
		uid = r->user->id;
	} else {
		const char *name = req_form(r, "name"), *pw = req_form(r, "password"),
		           *confirm = req_form(r, "confirm");
		char *trimmed = str_trim_dup(name ? name : "");
		const char *why = user_name_problem(trimmed);
		if (!why)
			why = auth_password_problem(pw ? pw : "");
		if (!why && (!confirm || strcmp(pw, confirm) != 0))
			why = "La confirmation ne correspond pas au mot de passe.";
		char *err = NULL;
		if (!why &&
		    user_create(r->db, inv.email, trimmed, inv.role, pw, 0, "web", &uid, &err))
			why = err;
		if (why) {
			invitation_page(r, &inv, token, why, name);
			r->status = 422;
			free(err);
			free(trimmed);
			invitation_free(&inv);
			return;
		}
		free(trimmed);
		fresh = 1;
	}
	status = invitation_accept(r, &inv, uid);
	if (status == 410) {
		invitation_gone(r, 410, &inv);
	} else if (status) {
		resp_error(r, 500, "L'invitation n'a pas pu être enregistrée.");
	} else if (fresh && auth_session_open(r, uid) != 0) {
		resp_error(r, 500,
		           "Votre compte est créé mais la session n'a pas pu être ouverte : "
		           "connectez-vous.");
	} else {
		char loc[48];
		snprintf(loc, sizeof loc, "/plans/%lld", (long long)inv.plan);
		resp_redirect(r, loc);
	}
	invitation_free(&inv);
}

/* --- members: JSON API ---------------------------------------------------------------------- */

/* GET /api/v1/plans/{plan}/members: members (with their e-mail and the pending invitations for
 * the coordination). */
static void api_members(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_READER))
		return;
	int manage = plan_role(r, plan) >= ROLE_COORDINATOR;
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT u.id, u.name, u.email, m.role FROM plan_members m "
	                               "JOIN users u ON u.id = m.user_id WHERE m.plan_id = ? "
	                               "ORDER BY " ROLE_ORDER ", u.name",
	                               "I", plan);
	while (st && db_step(st) == DB_ROW) {
		json_t *m =
		    json_pack("{s:I,s:s,s:s,s:s}", "user_id", (json_int_t)db_col_int64(st, 0),
		              "name", db_col_text(st, 1), "role", db_col_text(st, 3), "role_label",
		              role_label(role_parse(db_col_text(st, 3))));
		if (manage)
			json_object_set_new(m, "email", json_string(db_col_text(st, 2)));
		json_array_append_new(arr, m);
	}
	db_finalize(st);
	json_t *doc = json_pack("{s:I,s:o}", "plan_id", (json_int_t)plan, "members", arr);
	if (manage) {
		char now[32];
		time_iso_now(now);
		json_t *inv = json_array();
		st = db_queryf(r->db,
		               "SELECT email, role, expires_at, created_at FROM invitations "
		               "WHERE plan_id = ? AND accepted_at IS NULL AND expires_at > ? "
		               "ORDER BY created_at",
		               "Is", plan, now);
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(
			    inv, json_pack("{s:s,s:s,s:s,s:s}", "email", db_col_text(st, 0), "role",
			                   db_col_text(st, 1), "expires_at", db_col_text(st, 2),
			                   "created_at", db_col_text(st, 3)));
		db_finalize(st);
		json_object_set_new(doc, "invitations", inv);
	}
	resp_json(r, 200, doc);
}

/* POST /api/v1/plans/{plan}/members {email, role} */
static void api_member_add(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct errs e = {0};
	const char *email = NULL, *role = NULL;
	json_text_member(body, "email", &email, &e);
	json_text_member(body, "role", &role, &e);
	struct invite_result res;
	const char *why = NULL;
	int status = e.n ? 422 : invite(r, "api", plan, email ? email : "", role, &res, &why);
	if (e.n) {
		resp_errs(r, 422, &e);
	} else if (status) {
		resp_error(r, status, why);
	} else if (res.user_id) {
		resp_json(r, 201,
		          json_pack("{s:{s:I,s:s,s:s}}", "member", "user_id",
		                    (json_int_t)res.user_id, "email", email, "role", role));
	} else {
		char *url = xasprintf("/invitation/%s", res.token);
		resp_json(r, 201,
		          json_pack("{s:{s:s,s:s,s:s,s:s,s:s}}", "invitation", "email", email,
		                    "role", role, "expires_at", res.expires, "url", url, "token",
		                    res.token));
		free(url);
	}
	json_decref(body);
	errs_free(&e);
}

/* --- routes ----------------------------------------------------------------------------------- */

/* GET/POST /plans/nouveau is declared in plan_routes (plans.c) so that it comes before
 * /plans/{plan}; its handler is plan_edit_new above. */
const struct route plan_edit_routes[] = {
    {M_GET | M_POST, "/plans/{plan}/modifier", ACC_LOGIN, plan_edit,
     "Modifier un plan : type, titre, période, territoire, signataires, niveaux (coordination)"},
    {M_GET, "/plans/{plan}/arbre", ACC_PUBLIC, tree_get,
     "L'arborescence d'un plan, avec son éditeur pour la coordination"},
    {M_POST, "/plans/{plan}/arbre/ajouter", ACC_LOGIN, tree_add_root,
     "Ajouter un élément de premier niveau"},
    {M_POST, "/plans/{plan}/etiquettes", ACC_LOGIN, tag_add,
     "Ajouter un fil conducteur ou un territoire prioritaire au plan"},
    {M_POST, "/plans/{plan}/etiquettes/renommer", ACC_LOGIN, tag_rename,
     "Renommer une étiquette du plan"},
    {M_POST, "/plans/{plan}/etiquettes/supprimer", ACC_LOGIN, tag_delete,
     "Supprimer une étiquette du plan"},
    {M_GET, "/plans/{plan}/membres", ACC_LOGIN, members_get, "Les membres d'un plan"},
    {M_POST, "/plans/{plan}/membres", ACC_LOGIN, member_invite,
     "Inviter une personne dans un plan (coordination)"},
    {M_POST, "/plans/{plan}/membres/{user}/role", ACC_LOGIN, member_role,
     "Changer le rôle d'un membre"},
    {M_POST, "/plans/{plan}/membres/{user}/retirer", ACC_LOGIN, member_remove,
     "Retirer un membre du plan"},
    {M_POST, "/plans/{plan}/invitations/annuler", ACC_LOGIN, invitation_cancel,
     "Annuler une invitation en attente"},
    {M_GET, "/noeuds/{node}", ACC_PUBLIC, node_page,
     "Un élément de l'arborescence (hors fiches-actions)"},
    {M_GET | M_POST, "/noeuds/{node}/modifier", ACC_LOGIN, node_edit,
     "Modifier un élément : titre, description, étiquettes, fiche-action"},
    {M_POST, "/noeuds/{node}/ajouter", ACC_LOGIN, node_add,
     "Ajouter un sous-élément ou l'élément suivant"},
    {M_POST, "/noeuds/{node}/deplacer", ACC_LOGIN, node_move,
     "Monter, descendre, décaler un élément"},
    {M_GET | M_POST, "/noeuds/{node}/supprimer", ACC_LOGIN, node_delete,
     "Supprimer un élément (après confirmation)"},
    {M_GET | M_POST, "/invitation/{token}", ACC_PUBLIC, invitation,
     "Accepter une invitation à rejoindre un plan"},
    {M_POST, "/api/v1/plans", ACC_LOGIN, api_plan_create, "Créer un plan"},
    {M_PATCH, "/api/v1/plans/{plan}", ACC_LOGIN, api_plan_patch, "Modifier un plan"},
    {M_POST, "/api/v1/plans/{plan}/nodes", ACC_LOGIN, api_node_create,
     "Ajouter un élément à l'arborescence"},
    {M_GET, "/api/v1/nodes/{node}", ACC_PUBLIC, api_node_get, "Un élément de l'arborescence"},
    {M_PATCH, "/api/v1/nodes/{node}", ACC_LOGIN, api_node_patch, "Modifier ou déplacer un élément"},
    {M_DELETE, "/api/v1/nodes/{node}", ACC_LOGIN, api_node_delete, "Supprimer un élément"},
    {M_GET, "/api/v1/plans/{plan}/members", ACC_LOGIN, api_members, "Les membres d'un plan"},
    {M_POST, "/api/v1/plans/{plan}/members", ACC_LOGIN, api_member_add,
     "Ajouter ou inviter un membre"},
    {0},
};
