/* cycle: the yearly cycle of a plan (seed 004's "fiches-actions dynamiques", seed 003's COPIL):
 * members propose new fiches-actions, the coordination records the COTECH opinion then the
 * COPIL arbitration, and closing a year freezes its annex — pages, French CSV and JSON API. */
#include "audit.h"
#include "auth.h"
#include "csv_fr.h"
#include "cycle.h"
#include "db.h"
#include "fiches.h"
#include "governance.h"
#include "layout.h"
#include "plans.h"
#include "util.h"
#include "text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits of what a proposal may hold (characters, not bytes). */
#define TITLE_MAX    300
#define MARKDOWN_MAX 20000
#define COMMENT_MAX  5000
#define PUBLIC_MAX   200
#define PUBLICS_MAX  30
#define PILOTS_MAX   20

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* The rule of what an annex holds, shown on the pages and applied by cycle_close(). */
static const char annex_rule[] =
    "L’annexe d’une année reprend les fiches-actions en vigueur au moment de la clôture : "
    "celles que le COPIL a retenues pour cette année (marquées « nouvelle ») et celles, "
    "retenues ou en cours, reconduites des années précédentes. Les fiches proposées, "
    "ajournées, achevées, abandonnées ou refusées n’y figurent pas, ni celles retenues pour "
    "une année suivante.";

/* --- enumerations ------------------------------------------------------------------------- */

struct choice {
	const char *value, *label, *badge;
};

static const struct choice cotech_opinions[] = {
    {"favorable", "Favorable", "badge-success"},
    {"reserve", "Réservé", "badge"},
    {"defavorable", "Défavorable", "badge-error"},
};

static const struct choice copil_decisions[] = {
    {"retenue", "Retenue", "badge-success"},
    {"ajournee", "Ajournée", "badge"},
    {"refusee", "Refusée", "badge-error"},
};

/* The entry of a value in a list of choices, or NULL when it is not one of them. */
static const struct choice *choice_find(const struct choice *c, size_t n, const char *value)
{
	for (size_t i = 0; value && i < n; i++)
		if (!strcmp(c[i].value, value))
			return &c[i];
	return NULL;
}

enum decision_kind { DECIDE_COTECH, DECIDE_COPIL };

/* --- small helpers ------------------------------------------------------------------------ */

/* Today's UTC date "YYYY-MM-DD" into out. */
static void today(char out[11])
{
	char now[32];
	time_iso_now(now);
	memcpy(out, now, 10);
	out[10] = '\0';
}

static int current_year(void)
{
	char d[11];
	today(d);
	return atoi(d);
}

static int current_month(void)
{
	char d[11];
	today(d);
	return atoi(d + 5);
}

/* 1 when s is a real calendar date written YYYY-MM-DD (years 1900 to 2999). */
static int date_valid(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap);
}

/* A year written as 4 digits (1900 to 2999) into *out; -1 otherwise. */
static int year_parse(const char *s, int *out)
{
	int64_t v;
	if (!s || strlen(s) != 4 || parse_int64(s, &v) || v < 1900 || v > 2999)
		return -1;
	*out = (int)v;
	return 0;
}

/* "2026-11-25…" as "25 novembre 2026" into out (the input copied when it is not a date). */
static void date_fr(const char *iso, char out[40])
{
	static const char *const months[] = {"janvier",   "février", "mars",     "avril",
	                                     "mai",       "juin",    "juillet",  "août",
	                                     "septembre", "octobre", "novembre", "décembre"};
	char d[11] = "";
	if (iso)
		snprintf(d, sizeof d, "%s", iso);
	if (!date_valid(d)) {
		snprintf(out, 40, "%s", iso ? iso : "");
		return;
	}
	snprintf(out, 40, "%d %s %d", atoi(d + 8), months[atoi(d + 5) - 1], atoi(d));
}

/* Compare two node numbers ("1.10" after "1.9") component by component. */
static int number_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!*a || !*b)
			return (*a != 0) - (*b != 0);
	}
	return 0;
}

/*
 * NULL when s is acceptable as the text field `label` (at most max characters, required or
 * not, on one line or not); else a French message written into msg (n bytes), returned.
 */
static const char *text_problem(const char *label, const char *s, size_t max, int required,
                                int one_line, char *msg, size_t n)
{
	if (!s || str_blank(s)) {
		if (!required)
			return NULL;
		snprintf(msg, n, "%s : ce champ est obligatoire.", label);
		return msg;
	}
	if (!utf8_valid_text(s, strlen(s)) || (one_line && strpbrk(s, "\r\n\t"))) {
		snprintf(msg, n, "%s : le texte contient des caractères non valides.", label);
		return msg;
	}
	if (text_chars(s) > max) {
		snprintf(msg, n, "%s : %zu caractères au plus (vous en avez saisi %zu).", label,
		         max, text_chars(s));
		return msg;
	}
	return NULL;
}

/*
 * Take the write lock of a plan inside the caller's transaction, before reading anything: on
 * SQLite the first statement of the transaction then takes the database write lock (waiting
 * for the busy timeout rather than failing on a stale snapshot); on PostgreSQL it locks the
 * plan's row. Concurrent cycle changes of one plan are thus serialised.
 */
static int plan_lock(struct db *db, int64_t plan_id)
{
	return db_execf(db, "UPDATE plans SET updated_at = updated_at WHERE id = ?", "I", plan_id);
}

/* --- plans and years --------------------------------------------------------------------- */

struct plan_info {
	int64_t id;
	char *title;
	int y0, y1; /* the period; 0 when unknown */
	int is_public;
};

static void plan_info_free(struct plan_info *p)
{
	free(p->title);
	p->title = NULL;
}

/* Load a plan's title and period. 0, or -1 when the plan does not exist. */
static int plan_info_load(struct db *db, int64_t id, struct plan_info *p)
{
	memset(p, 0, sizeof *p);
	struct db_stmt *st = db_queryf(
	    db, "SELECT title, start_year, end_year, is_public FROM plans WHERE id = ?", "I", id);
	int rc = -1;
	if (st && db_step(st) == DB_ROW) {
		p->id = id;
		p->title = xstrdup(db_col_text(st, 0));
		p->y0 = db_col_is_null(st, 1) ? 0 : (int)db_col_int64(st, 1);
		p->y1 = db_col_is_null(st, 2) ? 0 : (int)db_col_int64(st, 2);
		p->is_public = (int)db_col_int64(st, 3);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

/* The years a proposal may aim at: the plan's period, one year either side. */
static void year_bounds(const struct plan_info *p, int *lo, int *hi)
{
	int now = current_year();
	*lo = (p->y0 ? p->y0 : now) - 1;
	*hi = (p->y1 ? p->y1 : now) + 1;
	if (*hi < *lo)
		*hi = *lo;
}

/* The default annex year of a new proposal: next year after October, else this year; kept
 * within the plan's bounds. */
static int default_year(const struct plan_info *p)
{
	int lo, hi, y = current_year() + (current_month() > 10);
	year_bounds(p, &lo, &hi);
	return y < lo ? lo : y > hi ? hi : y;
}

struct annex_info {
	int closed;
	char *closed_at;
	char *closed_by; /* the name, or NULL */
	int64_t items, new_items;
};

static void annex_info_free(struct annex_info *a)
{
	free(a->closed_at);
	free(a->closed_by);
	memset(a, 0, sizeof *a);
}

/* Whether the year is closed, and by whom and when. */
static void annex_info_load(struct db *db, int64_t plan_id, int year, struct annex_info *a)
{
	memset(a, 0, sizeof *a);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT a.closed_at, u.name, "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year), "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year "
	    "AND i.is_new = 1) "
	    "FROM annexes a LEFT JOIN users u ON u.id = a.closed_by "
	    "WHERE a.plan_id = ? AND a.year = ?",
	    "Ii", plan_id, year);
	if (st && db_step(st) == DB_ROW) {
		a->closed = 1;
		a->closed_at = xstrdup(db_col_text(st, 0));
		a->closed_by = db_col_text(st, 1) ? xstrdup(db_col_text(st, 1)) : NULL;
		a->items = db_col_int64(st, 2);
		a->new_items = db_col_int64(st, 3);
	}
	db_finalize(st);
}

static int year_closed(struct db *db, int64_t plan_id, int year)
{
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM annexes WHERE plan_id = ? AND year = ?", "Ii",
	          plan_id, year);
	return n > 0;
}

/* --- proposals ---------------------------------------------------------------------------- */

struct proposal {
	int64_t id, plan_id, node_id, proposed_by;
	int year, archived;
	char *proposer, *proposed_at, *number, *title, *status, *parent_title;
	char *cotech_opinion, *cotech_date, *cotech_comment;
	char *copil_decision, *copil_date, *copil_comment;
};

#define PROPOSAL_SELECT                                                                            \
	"SELECT pr.id, pr.plan_id, pr.node_id, pr.year, pr.proposed_by, u.name, "                  \
	"pr.proposed_at, pr.cotech_opinion, pr.cotech_date, pr.cotech_comment, "                   \
	"pr.copil_decision, pr.copil_date, pr.copil_comment, n.number, n.title, n.archived, "      \
	"f.status, COALESCE(pn.title, '') "                                                        \
	"FROM proposals pr JOIN nodes n ON n.id = pr.node_id "                                     \
	"JOIN fiches f ON f.node_id = pr.node_id "                                                 \
	"LEFT JOIN nodes pn ON pn.id = n.parent_id "                                               \
	"LEFT JOIN users u ON u.id = pr.proposed_by "

static char *col_dup(struct db_stmt *st, int i)
{
	return db_col_text(st, i) ? xstrdup(db_col_text(st, i)) : NULL;
}

static void proposal_read(struct db_stmt *st, struct proposal *p)
{
	p->id = db_col_int64(st, 0);
	p->plan_id = db_col_int64(st, 1);
	p->node_id = db_col_int64(st, 2);
	p->year = (int)db_col_int64(st, 3);
	p->proposed_by = db_col_is_null(st, 4) ? 0 : db_col_int64(st, 4);
	p->proposer = col_dup(st, 5);
	p->proposed_at = col_dup(st, 6);
	p->cotech_opinion = col_dup(st, 7);
	p->cotech_date = col_dup(st, 8);
	p->cotech_comment = col_dup(st, 9);
	p->copil_decision = col_dup(st, 10);
	p->copil_date = col_dup(st, 11);
	p->copil_comment = col_dup(st, 12);
	p->number = col_dup(st, 13);
	p->title = col_dup(st, 14);
	p->archived = (int)db_col_int64(st, 15);
	p->status = col_dup(st, 16);
	p->parent_title = col_dup(st, 17);
}

static void proposal_free(struct proposal *p)
{
	char **fields[] = {&p->proposer,       &p->proposed_at, &p->number,
	                   &p->title,          &p->status,      &p->parent_title,
	                   &p->cotech_opinion, &p->cotech_date, &p->cotech_comment,
	                   &p->copil_decision, &p->copil_date,  &p->copil_comment};
	for (size_t i = 0; i < COUNT(fields); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

/* Load one proposal. 0, or -1 when it does not exist. Free with proposal_free(). */
static int proposal_load(struct db *db, int64_t id, struct proposal *p)
{
	memset(p, 0, sizeof *p);
	struct db_stmt *st = db_queryf(db, PROPOSAL_SELECT "WHERE pr.id = ?", "I", id);
	int rc = -1;
	if (st && db_step(st) == DB_ROW) {
		proposal_read(st, p);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

struct proposal_list {
	struct proposal *items;
	size_t n;
};

static int proposal_cmp(const void *a, const void *b)
{
	const struct proposal *x = a, *y = b;
	int c = number_cmp(x->number, y->number);
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* The proposals of a plan for a year, in the order of their numbers. */
static void proposals_list(struct db *db, int64_t plan_id, int year, struct proposal_list *l)
{
	memset(l, 0, sizeof *l);
	struct db_stmt *st = db_queryf(db, PROPOSAL_SELECT "WHERE pr.plan_id = ? AND pr.year = ?",
	                               "Ii", plan_id, year);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			l->items = xrealloc(l->items, cap * sizeof *l->items);
		}
		proposal_read(st, &l->items[l->n++]);
	}
	db_finalize(st);
	if (l->n)
		qsort(l->items, l->n, sizeof *l->items, proposal_cmp);
}

static void proposals_free(struct proposal_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		proposal_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

static json_t *json_text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The proposal as the API shows it and the audit log records it. The caller owns it. */
static json_t *proposal_json(const struct proposal *p)
{
	char url[64];
	snprintf(url, sizeof url, "/fiches/%lld", (long long)p->node_id);
	const struct choice *o =
	    choice_find(cotech_opinions, COUNT(cotech_opinions), p->cotech_opinion);
	const struct choice *d =
	    choice_find(copil_decisions, COUNT(copil_decisions), p->copil_decision);
	return json_pack(
	    "{s:I,s:I,s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:s,s:{s:o,s:o,s:o,s:s},"
	    "s:{s:o,s:o,s:o,s:s},s:s}",
	    "id", (json_int_t)p->id, "plan_id", (json_int_t)p->plan_id, "year", p->year, "fiche_id",
	    (json_int_t)p->node_id, "number", p->number ? p->number : "", "title",
	    p->title ? p->title : "", "parent_title", p->parent_title ? p->parent_title : "",
	    "status", p->status ? p->status : "", "status_label", fiche_status_label(p->status),
	    "archived", p->archived, "proposed_by",
	    p->proposed_by ? json_pack("{s:I,s:s}", "id", (json_int_t)p->proposed_by, "name",
	                               p->proposer ? p->proposer : "")
	                   : json_null(),
	    "proposed_at", p->proposed_at ? p->proposed_at : "", "cotech", "opinion",
	    json_text_or_null(p->cotech_opinion), "opinion_label",
	    o ? json_string(o->label) : json_null(), "date", json_text_or_null(p->cotech_date),
	    "comment", p->cotech_comment ? p->cotech_comment : "", "copil", "decision",
	    json_text_or_null(p->copil_decision), "decision_label",
	    d ? json_string(d->label) : json_null(), "date", json_text_or_null(p->copil_date),
	    "comment", p->copil_comment ? p->copil_comment : "", "url", url);
}

/* A snapshot of a proposal by id for the audit log (NULL when missing). */
static json_t *proposal_snapshot(struct db *db, int64_t id)
{
	struct proposal p;
	if (proposal_load(db, id, &p))
		return NULL;
	json_t *j = proposal_json(&p);
	proposal_free(&p);
	return j;
}

/*
 * First statement of handlers on one proposal: it exists and the request has at least `min`
 * on its plan. Answers itself (404 when missing or invisible, 401/403 when the role is too
 * low) and returns -1; on success sets *plan_id.
 */
static int proposal_require(struct req *r, int64_t id, enum role min, int64_t *plan_id)
{
	int64_t plan = 0;
	if (db_int64f(r->db, &plan, "SELECT plan_id FROM proposals WHERE id = ?", "I", id) !=
	        DB_OK ||
	    plan_role(r, plan) == ROLE_NONE) {
		resp_error(r, 404,
		           "Cette proposition n’existe pas ou n’est pas visible pour vous.");
		return -1;
	}
	if (plan_require(r, plan, min))
		return -1;
	*plan_id = plan;
	return 0;
}

/* --- creating a proposal ------------------------------------------------------------------- */

struct proposal_input {
	int64_t parent_id; /* 0: the top level of the plan */
	char *title;       /* trimmed */
	const char *description, *expected;
	char **publics;
	size_t npublics;
	int64_t *actors;
	size_t nactors;
	int year; /* 0 when missing or not a year */
	int bad_parent, bad_actor;
};

static void proposal_input_free(struct proposal_input *in)
{
	free(in->title);
	for (size_t i = 0; i < in->npublics; i++)
		free(in->publics[i]);
	free(in->publics);
	free(in->actors);
	memset(in, 0, sizeof *in);
}

/* Add a target public (trimmed; blanks and repeats skipped). */
static void input_add_public(struct proposal_input *in, const char *s, size_t len)
{
	char *raw = xstrndup(s, len);
	char *t = str_trim_dup(raw);
	free(raw);
	int dup = !*t;
	for (size_t i = 0; !dup && i < in->npublics; i++)
		dup = !strcmp(in->publics[i], t);
	if (dup) {
		free(t);
		return;
	}
	in->publics = xrealloc(in->publics, (in->npublics + 1) * sizeof *in->publics);
	in->publics[in->npublics++] = t;
}

static void input_add_actor(struct proposal_input *in, int64_t id)
{
	for (size_t i = 0; i < in->nactors; i++)
		if (in->actors[i] == id)
			return;
	in->actors = xrealloc(in->actors, (in->nactors + 1) * sizeof *in->actors);
	in->actors[in->nactors++] = id;
}

/* Read the proposal form of a web request. */
static void input_from_form(struct req *r, struct proposal_input *in)
{
	memset(in, 0, sizeof *in);
	const char *parent = req_form(r, "parent");
	if (parent && *parent && strcmp(parent, "0") != 0 &&
	    (parse_int64(parent, &in->parent_id) || in->parent_id <= 0)) {
		in->parent_id = 0;
		in->bad_parent = 1;
	}
	in->title = str_trim_dup(req_form(r, "title") ? req_form(r, "title") : "");
	in->description = req_form(r, "description") ? req_form(r, "description") : "";
	in->expected = req_form(r, "expected_results") ? req_form(r, "expected_results") : "";
	const char *publics = req_form(r, "publics");
	for (const char *p = publics; p && *p;) {
		size_t len = strcspn(p, "\n");
		input_add_public(in, p, len);
		p += len + (p[len] == '\n');
	}
	for (size_t i = 0; i < r->form.n; i++) {
		if (strcmp(r->form.items[i].key, "pilots") != 0)
			continue;
		int64_t id;
		if (parse_int64(r->form.items[i].val, &id) || id <= 0)
			in->bad_actor = 1;
		else
			input_add_actor(in, id);
	}
	year_parse(req_form(r, "year"), &in->year);
}

/* Read a proposal from a JSON body; NULL, or a French message (static) when its shape is
 * wrong. */
static const char *input_from_json(json_t *j, struct proposal_input *in)
{
	memset(in, 0, sizeof *in);
	if (!json_is_object(j))
		return "Le corps doit être un objet JSON.";
	json_t *v = json_object_get(j, "parent_id");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return "« parent_id » doit être un identifiant de nœud ou null.";
		in->parent_id = json_integer_value(v);
	}
	v = json_object_get(j, "title");
	if (v && !json_is_string(v))
		return "« title » doit être une chaîne.";
	in->title = str_trim_dup(v ? json_string_value(v) : "");
	const char *keys[] = {"description", "expected_results"};
	const char **dest[] = {&in->description, &in->expected};
	for (size_t i = 0; i < 2; i++) {
		v = json_object_get(j, keys[i]);
		if (v && !json_is_string(v) && !json_is_null(v))
			return "« description » et « expected_results » doivent être des chaînes.";
		*dest[i] = json_is_string(v) ? json_string_value(v) : "";
	}
	size_t i;
	json_t *e;
	v = json_object_get(j, "publics");
	if (v && !json_is_array(v) && !json_is_null(v))
		return "« publics » doit être une liste de chaînes.";
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return "« publics » doit être une liste de chaînes.";
		const char *s = json_string_value(e);
		if (strpbrk(s, "\r\n"))
			return "Un public visé tient sur une ligne.";
		input_add_public(in, s, strlen(s));
	}
	v = json_object_get(j, "pilot_actor_ids");
	if (v && !json_is_array(v) && !json_is_null(v))
		return "« pilot_actor_ids » doit être une liste d’identifiants d’acteurs.";
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) <= 0)
			return "« pilot_actor_ids » doit être une liste d’identifiants d’acteurs.";
		input_add_actor(in, json_integer_value(e));
	}
	v = json_object_get(j, "year");
	if (v && !json_is_integer(v))
		return "« year » doit être une année (nombre entier).";
	if (v && json_integer_value(v) >= 1900 && json_integer_value(v) <= 2999)
		in->year = (int)json_integer_value(v);
	else if (v)
		in->year = -1;
	return NULL;
}

/* SQL condition: node `n` may receive a new fiche (not a fiche, not archived, above the plan's
 * last named level when it has two levels or more). One parameter: the plan id. */
#define PARENT_ALLOWED                                                                             \
	"n.archived = 0 AND NOT EXISTS (SELECT 1 FROM fiches f WHERE f.node_id = n.id) "           \
	"AND n.depth < COALESCE((SELECT CASE WHEN COUNT(*) >= 2 THEN COUNT(*) - 1 END "            \
	"FROM plan_levels l WHERE l.plan_id = ?), 1000000) "

/*
 * Check a proposal against the plan (inside the caller's transaction). NULL when acceptable;
 * else a French message in msg. *closed is set when the only problem is a closed year.
 */
static const char *proposal_problem(struct db *db, const struct plan_info *plan,
                                    const struct proposal_input *in, int *closed, char *msg,
                                    size_t n)
{
	*closed = 0;
	if (in->bad_parent)
		return snprintf(msg, n, "Rattachement : choisissez un élément de la liste."), msg;
	if (in->parent_id) {
		int64_t ok = 0;
		db_int64f(db, &ok,
		          "SELECT COUNT(*) FROM nodes n WHERE n.id = ? AND n.plan_id = ? "
		          "AND " PARENT_ALLOWED,
		          "III", in->parent_id, plan->id, plan->id);
		if (!ok)
			return snprintf(
			           msg, n,
			           "Rattachement : cet élément n’existe pas dans ce plan ou ne "
			           "peut pas recevoir de fiche-action."),
			       msg;
	}
	const char *why = text_problem("Intitulé", in->title, TITLE_MAX, 1, 1, msg, n);
	if (!why)
		why = text_problem("Description", in->description, MARKDOWN_MAX, 0, 0, msg, n);
	if (!why)
		why = text_problem("Résultats attendus", in->expected, MARKDOWN_MAX, 0, 0, msg, n);
	if (why)
		return why;
	if (in->npublics > PUBLICS_MAX)
		return snprintf(msg, n, "Publics visés : %d lignes au plus.", PUBLICS_MAX), msg;
	for (size_t i = 0; i < in->npublics; i++)
		if ((why = text_problem("Publics visés", in->publics[i], PUBLIC_MAX, 1, 1, msg, n)))
			return why;
	if (in->bad_actor || in->nactors > PILOTS_MAX)
		return snprintf(msg, n,
		                "Structures pilotes : %d au plus, choisies dans l’annuaire.",
		                PILOTS_MAX),
		       msg;
	for (size_t i = 0; i < in->nactors; i++) {
		int64_t ok = 0;
		db_int64f(db, &ok, "SELECT COUNT(*) FROM actors WHERE id = ?", "I", in->actors[i]);
		if (!ok)
			return snprintf(msg, n,
			                "Structures pilotes : l’acteur n° %lld n’existe pas dans "
			                "l’annuaire.",
			                (long long)in->actors[i]),
			       msg;
	}
	int lo, hi;
	year_bounds(plan, &lo, &hi);
	if (in->year < lo || in->year > hi)
		return snprintf(msg, n,
		                "Année de l’annexe : indiquez une année entre %d et %d (la période "
		                "du plan, une année avant ou après).",
		                lo, hi),
		       msg;
	if (year_closed(db, plan->id, in->year)) {
		*closed = 1;
		return snprintf(msg, n,
		                "L’année %d est déjà clôturée : son annexe est figée. Proposez la "
		                "fiche pour une année suivante.",
		                in->year),
		       msg;
	}
	return NULL;
}

/* The number of a node (malloc'ed), or NULL. */
static char *node_number(struct db *db, int64_t node)
{
	char *number = NULL;
	struct db_stmt *st = db_queryf(db, "SELECT number FROM nodes WHERE id = ?", "I", node);
	if (st && db_step(st) == DB_ROW)
		number = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	return number;
}

/*
 * Create a proposal in one transaction: a node under the parent (last position, then the plan
 * renumbered), its fiche in status "proposée" with publics and pilot structures, the proposal
 * row; each audited. Returns 0 and sets *id; otherwise an HTTP status (409 closed year, 422
 * invalid, 500) with a French message in msg.
 */
static int proposal_create(struct db *db, int64_t user_id, const char *origin,
                           const struct plan_info *plan, const struct proposal_input *in,
                           int64_t *id, char *msg, size_t n)
{
	char now[32];
	time_iso_now(now);
	if (db_begin(db) != DB_OK)
		return snprintf(msg, n, "La base de données est occupée ; réessayez."), 500;
	int closed = 0;
	int rc = plan_lock(db, plan->id);
	if (rc == DB_OK && proposal_problem(db, plan, in, &closed, msg, n)) {
		db_rollback(db);
		return closed ? 409 : 422;
	}
	int64_t position = 0, depth = 0, node = 0, pid = 0;
	if (rc == DB_OK)
		rc = in->parent_id ? db_int64f(db, &position,
		                               "SELECT COALESCE(MAX(position), 0) FROM nodes "
		                               "WHERE parent_id = ?",
		                               "I", in->parent_id)
		                   : db_int64f(db, &position,
		                               "SELECT COALESCE(MAX(position), 0) FROM nodes "
		                               "WHERE plan_id = ? AND parent_id IS NULL",
		                               "I", plan->id);
	if (rc == DB_OK && in->parent_id) {
		rc = db_int64f(db, &depth, "SELECT depth + 1 FROM nodes WHERE id = ?", "I",
		               in->parent_id);
	}
	if (rc == DB_OK) {
		struct db_stmt *st = db_prepare(
		    db, "INSERT INTO nodes (plan_id, parent_id, position, depth, number, title, "
		        "description, created_at, updated_at) "
		        "VALUES (?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id");
		rc = DB_ERROR;
		if (st) {
			db_bind_int64(st, 1, plan->id);
			if (in->parent_id)
				db_bind_int64(st, 2, in->parent_id);
			else
				db_bind_null(st, 2);
			db_bind_int64(st, 3, position + 1);
			db_bind_int64(st, 4, depth);
			db_bind_text(st, 5, in->title);
			db_bind_text(st, 6, in->description);
			db_bind_text(st, 7, now);
			db_bind_text(st, 8, now);
			if (db_step(st) == DB_ROW) {
				node = db_col_int64(st, 0);
				rc = DB_OK;
			}
			db_finalize(st);
		}
	}
	if (rc == DB_OK)
		rc = db_execf(db,
		              "INSERT INTO fiches (node_id, status, expected_results) "
		              "VALUES (?, 'proposee', ?)",
		              "Is", node, in->expected);
	for (size_t i = 0; rc == DB_OK && i < in->npublics; i++)
		rc = db_execf(db, "INSERT INTO fiche_publics (node_id, label) VALUES (?, ?)", "Is",
		              node, in->publics[i]);
	for (size_t i = 0; rc == DB_OK && i < in->nactors; i++)
		rc = db_execf(db, "INSERT INTO fiche_pilots (node_id, actor_id) VALUES (?, ?)",
		              "II", node, in->actors[i]);
	if (rc == DB_OK)
		rc = db_int64f(db, &pid,
		               "INSERT INTO proposals (plan_id, node_id, year, proposed_by, "
		               "proposed_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		               "IIiIs", plan->id, node, in->year, user_id, now);
	if (rc == DB_OK)
		rc = plan_renumber(db, plan->id);
	if (rc == DB_OK) {
		char *number = node_number(db, node);
		json_t *after = json_pack("{s:I,s:o,s:s,s:s,s:s,s:b}", "plan_id",
		                          (json_int_t)plan->id, "parent_id",
		                          in->parent_id ? json_integer(in->parent_id) : json_null(),
		                          "number", number ? number : "", "title", in->title,
		                          "description", in->description, "archived", 0);
		free(number);
		rc = audit_write_id(db, user_id, origin, "create", "node", node, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK) {
		json_t *after = fiche_snapshot(db, node);
		rc = audit_write_id(db, user_id, origin, "create", "fiche", node, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK) {
		json_t *after = proposal_snapshot(db, pid);
		rc = audit_write_id(db, user_id, origin, "create", "proposal", pid, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		snprintf(msg, n, "L’enregistrement de la proposition a échoué.");
		return 500;
	}
	*id = pid;
	return 0;
}

/* --- decisions ---------------------------------------------------------------------------- */

/* The fiche status a COPIL decision gives (a refused proposal stays "proposée", archived). */
static const char *decision_status(const char *decision)
{
	return !strcmp(decision, "retenue")    ? "retenue"
	       : !strcmp(decision, "ajournee") ? "ajournee"
	                                       : "proposee";
}

/* Write the fiche's status and the node's archived flag, auditing each change. */
static int fiche_apply(struct db *db, int64_t user_id, const char *origin, int64_t node,
                       const char *status, int archived)
{
	json_t *before = fiche_snapshot(db, node);
	int64_t was_archived = 0;
	int rc = db_int64f(db, &was_archived, "SELECT archived FROM nodes WHERE id = ?", "I", node);
	const char *old = json_string_value(json_object_get(before, "status"));
	if (rc == DB_OK && old && strcmp(old, status) != 0) {
		rc = db_execf(db, "UPDATE fiches SET status = ? WHERE node_id = ?", "sI", status,
		              node);
		if (rc == DB_OK) {
			json_t *after = fiche_snapshot(db, node);
			rc = audit_write_id(db, user_id, origin, "update", "fiche", node, before,
			                    after);
			json_decref(after);
		}
	}
	json_decref(before);
	if (rc == DB_OK && was_archived != archived) {
		/* Archived nodes are numbered after their live siblings (plan_renumber), so the
		 * tree keeps numbers without gaps: the node's number may change, recorded too. */
		char now[32];
		time_iso_now(now);
		char *number_before = node_number(db, node);
		rc = db_execf(db, "UPDATE nodes SET archived = ?, updated_at = ? WHERE id = ?",
		              "isI", archived, now, node);
		if (rc == DB_OK)
			rc = plan_renumber(db, node_plan(db, node));
		if (rc == DB_OK) {
			char *number_after = node_number(db, node);
			json_t *b = json_pack("{s:b,s:s}", "archived", (int)was_archived, "number",
			                      number_before ? number_before : "");
			json_t *a = json_pack("{s:b,s:s}", "archived", archived, "number",
			                      number_after ? number_after : "");
			rc = audit_write_id(db, user_id, origin, archived ? "archive" : "unarchive",
			                    "node", node, b, a);
			json_decref(b);
			json_decref(a);
			free(number_after);
		}
		free(number_before);
	}
	return rc;
}

/* Begin a transaction on a proposal: lock its plan, load it, refuse when its year is closed.
 * Returns 0 (transaction open), or an HTTP status with msg (transaction rolled back). */
static int proposal_begin(struct db *db, int64_t id, struct proposal *p, char *msg, size_t n)
{
	int64_t plan = 0;
	if (db_int64f(db, &plan, "SELECT plan_id FROM proposals WHERE id = ?", "I", id) != DB_OK)
		return snprintf(msg, n, "Cette proposition n’existe pas."), 404;
	if (db_begin(db) != DB_OK)
		return snprintf(msg, n, "La base de données est occupée ; réessayez."), 500;
	if (plan_lock(db, plan) != DB_OK || proposal_load(db, id, p)) {
		db_rollback(db);
		return snprintf(msg, n, "Cette proposition n’existe pas."), 404;
	}
	if (year_closed(db, p->plan_id, p->year)) {
		db_rollback(db);
		snprintf(msg, n,
		         "L’année %d est clôturée : ses propositions et leurs décisions ne peuvent "
		         "plus être modifiées.",
		         p->year);
		proposal_free(p);
		return 409;
	}
	return 0;
}

/* Audit the proposal change (before given), commit; 0 or 500 with msg. */
static int proposal_finish(struct db *db, int64_t user_id, const char *origin, const char *action,
                           int64_t id, json_t *before, int rc, char *msg, size_t n)
{
	if (rc == DB_OK) {
		json_t *after = proposal_snapshot(db, id);
		rc = audit_write_id(db, user_id, origin, action, "proposal", id, before, after);
		json_decref(after);
	}
	json_decref(before);
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		snprintf(msg, n, "L’enregistrement a échoué.");
		return 500;
	}
	return 0;
}

/*
 * Record or correct the COTECH opinion or the COPIL arbitration of a proposal, with its date
 * (YYYY-MM-DD) and comment. A COPIL decision needs a COTECH opinion; a changed COPIL decision
 * sets the fiche's status (retenue / ajournée) or archives its node (refusée). Returns 0, or an
 * HTTP status (404, 409, 422, 500) with a French message in msg.
 */
static int proposal_decide_hook(struct db *db, int64_t user_id, const char *origin, int64_t id,
                                enum decision_kind kind, const char *value, const char *date,
                                const char *comment, int (*hook)(struct db *, void *), void *arg,
                                char *msg, size_t n)
{
	int cotech = kind == DECIDE_COTECH;
	if (cotech ? !choice_find(cotech_opinions, COUNT(cotech_opinions), value)
	           : !choice_find(copil_decisions, COUNT(copil_decisions), value))
		return snprintf(msg, n,
		                cotech ? "Avis du COTECH : choisissez favorable, réservé ou "
		                         "défavorable."
		                       : "Arbitrage du COPIL : choisissez retenue, ajournée ou "
		                         "refusée."),
		       422;
	if (!date_valid(date))
		return snprintf(msg, n, "Date : indiquez une date valide (AAAA-MM-JJ)."), 422;
	if (text_problem("Commentaire", comment, COMMENT_MAX, 0, 0, msg, n))
		return 422;
	struct proposal p;
	int status = proposal_begin(db, id, &p, msg, n);
	if (status)
		return status;
	if (!cotech && !p.cotech_opinion) {
		db_rollback(db);
		proposal_free(&p);
		return snprintf(msg, n,
		                "Le COPIL arbitre après l’avis du COTECH : enregistrez d’abord "
		                "l’avis du COTECH sur cette proposition."),
		       409;
	}
	json_t *before = proposal_json(&p);
	int rc = cotech ? db_execf(db,
	                           "UPDATE proposals SET cotech_opinion = ?, cotech_date = ?, "
	                           "cotech_comment = ? WHERE id = ?",
	                           "sssI", value, date, comment ? comment : "", id)
	                : db_execf(db,
	                           "UPDATE proposals SET copil_decision = ?, copil_date = ?, "
	                           "copil_comment = ? WHERE id = ?",
	                           "sssI", value, date, comment ? comment : "", id);
	if (rc == DB_OK && !cotech && (!p.copil_decision || strcmp(p.copil_decision, value)))
		rc = fiche_apply(db, user_id, origin, p.node_id, decision_status(value),
		                 !strcmp(value, "refusee"));
	if (rc == DB_OK && hook)
		rc = hook(db, arg);
	proposal_free(&p);
	return proposal_finish(db, user_id, origin, cotech ? "cotech" : "copil", id, before, rc,
	                       msg, n);
}

static int proposal_decide(struct db *db, int64_t user_id, const char *origin, int64_t id,
                           enum decision_kind kind, const char *value, const char *date,
                           const char *comment, char *msg, size_t n)
{
	return proposal_decide_hook(db, user_id, origin, id, kind, value, date, comment, NULL, NULL,
	                            msg, n);
}

/* See cycle.h: the COPIL arbitration recorded by a decision of a COPIL meeting. */
int cycle_copil_decide(struct db *db, int64_t user_id, const char *origin, int64_t proposal_id,
                       const char *decision, const char *date, const char *comment,
                       int (*hook)(struct db *, void *), void *arg, char *msg, size_t n)
{
	return proposal_decide_hook(db, user_id, origin, proposal_id, DECIDE_COPIL, decision, date,
	                            comment, hook, arg, msg, n);
}

/*
 * Move an adjourned proposal to the next year: year + 1, opinions and decisions cleared, the
 * fiche back to "proposée". Returns 0 and sets *new_year, or an HTTP status with msg.
 */
static int proposal_postpone(struct db *db, int64_t user_id, const char *origin, int64_t id,
                             int *new_year, char *msg, size_t n)
{
	struct proposal p;
	int status = proposal_begin(db, id, &p, msg, n);
	if (status)
		return status;
	struct plan_info plan;
	int lo = 0, hi = 0;
	if (plan_info_load(db, p.plan_id, &plan) == 0)
		year_bounds(&plan, &lo, &hi);
	plan_info_free(&plan);
	const char *why = NULL;
	if (!p.copil_decision || strcmp(p.copil_decision, "ajournee") != 0)
		why = "Seule une proposition ajournée par le COPIL peut être reportée à l’année "
		      "suivante.";
	else if (p.year + 1 > hi)
		why = "L’année suivante sort de la période du plan : la proposition ne peut pas y "
		      "être reportée.";
	else if (year_closed(db, p.plan_id, p.year + 1))
		why = "L’année suivante est déjà clôturée : la proposition ne peut pas y être "
		      "reportée.";
	if (why) {
		db_rollback(db);
		proposal_free(&p);
		snprintf(msg, n, "%s", why);
		return 409;
	}
	json_t *before = proposal_json(&p);
	int rc =
	    db_execf(db,
	             "UPDATE proposals SET year = ?, cotech_opinion = NULL, cotech_date = NULL, "
	             "cotech_comment = '', copil_decision = NULL, copil_date = NULL, "
	             "copil_comment = '' WHERE id = ?",
	             "iI", p.year + 1, id);
	if (rc == DB_OK)
		rc = fiche_apply(db, user_id, origin, p.node_id, "proposee", 0);
	*new_year = p.year + 1;
	proposal_free(&p);
	return proposal_finish(db, user_id, origin, "postpone", id, before, rc, msg, n);
}

/* --- closing a year ------------------------------------------------------------------------ */

struct annex_item {
	int64_t node_id; /* 0 when the node was deleted since */
	char *number, *title, *parent_title, *pilots, *status, *progress;
	int is_new;
};

struct annex_items {
	struct annex_item *items;
	size_t n;
};

static void annex_items_free(struct annex_items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct annex_item *it = &l->items[i];
		free(it->number);
		free(it->title);
		free(it->parent_title);
		free(it->pilots);
		free(it->status);
		free(it->progress);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

static struct annex_item *annex_items_push(struct annex_items *l, size_t *cap)
{
	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		l->items = xrealloc(l->items, *cap * sizeof *l->items);
	}
	struct annex_item *it = &l->items[l->n++];
	memset(it, 0, sizeof *it);
	return it;
}

static int annex_item_cmp(const void *a, const void *b)
{
	const struct annex_item *x = a, *y = b;
	return number_cmp(x->number, y->number);
}

/* The pilots of a fiche: structures then people, by name, joined by ", " (malloc'ed). */
static char *pilots_text(struct db *db, int64_t node)
{
	struct buf b = {0};
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT COALESCE(a.name, u.name), "
	              "CASE WHEN p.actor_id IS NULL THEN 1 ELSE 0 END "
	              "FROM fiche_pilots p LEFT JOIN actors a ON a.id = p.actor_id "
	              "LEFT JOIN users u ON u.id = p.user_id WHERE p.node_id = ? "
	              "ORDER BY 2, 1",
	              "I", node);
	while (st && db_step(st) == DB_ROW) {
		if (!db_col_text(st, 0))
			continue;
		if (b.len)
			buf_puts(&b, ", ");
		buf_puts(&b, db_col_text(st, 0));
	}
	db_finalize(st);
	return buf_steal(&b);
}

/* The fiches the annex of (plan, year) would hold now, by number (see annex_rule). */
static void annex_items_compute(struct db *db, int64_t plan_id, int year, struct annex_items *l)
{
	memset(l, 0, sizeof *l);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.id, n.number, n.title, COALESCE(pn.title, ''), f.status, f.progress, "
	    "(SELECT COUNT(*) FROM proposals pr WHERE pr.node_id = n.id AND pr.year = ? "
	    " AND pr.copil_decision = 'retenue') "
	    "FROM fiches f JOIN nodes n ON n.id = f.node_id "
	    "LEFT JOIN nodes pn ON pn.id = n.parent_id "
	    "WHERE n.plan_id = ? AND n.archived = 0 "
	    "AND (f.status IN ('retenue', 'en_cours') OR EXISTS (SELECT 1 FROM proposals pr "
	    " WHERE pr.node_id = n.id AND pr.year = ? AND pr.copil_decision = 'retenue')) "
	    "AND NOT EXISTS (SELECT 1 FROM proposals pr WHERE pr.node_id = n.id AND pr.year > ?)",
	    "iIii", year, plan_id, year, year);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		struct annex_item *it = annex_items_push(l, &cap);
		it->node_id = db_col_int64(st, 0);
		it->number = xstrdup(db_col_text(st, 1));
		it->title = xstrdup(db_col_text(st, 2));
		it->parent_title = xstrdup(db_col_text(st, 3));
		it->status = xstrdup(db_col_text(st, 4));
		it->progress = xstrdup(db_col_text(st, 5));
		it->is_new = db_col_int64(st, 6) > 0;
	}
	db_finalize(st);
	for (size_t i = 0; i < l->n; i++)
		l->items[i].pilots = pilots_text(db, l->items[i].node_id);
	if (l->n)
		qsort(l->items, l->n, sizeof *l->items, annex_item_cmp);
}

/* The frozen annex of (plan, year), from annex_items only. */
static void annex_items_load(struct db *db, int64_t plan_id, int year, struct annex_items *l)
{
	memset(l, 0, sizeof *l);
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT node_id, number, title, parent_title, pilots, status, progress, "
	              "is_new FROM annex_items WHERE plan_id = ? AND year = ? ORDER BY position",
	              "Ii", plan_id, year);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		struct annex_item *it = annex_items_push(l, &cap);
		it->node_id = db_col_is_null(st, 0) ? 0 : db_col_int64(st, 0);
		it->number = xstrdup(db_col_text(st, 1));
		it->title = xstrdup(db_col_text(st, 2));
		it->parent_title = xstrdup(db_col_text(st, 3));
		it->pilots = xstrdup(db_col_text(st, 4));
		it->status = xstrdup(db_col_text(st, 5));
		it->progress = xstrdup(db_col_text(st, 6));
		it->is_new = (int)db_col_int64(st, 7);
	}
	db_finalize(st);
}

/* The proposals of a year without a COPIL decision, as a JSON array of {id, number, title}. */
static json_t *undecided_json(struct db *db, int64_t plan_id, int year)
{
	json_t *arr = json_array();
	struct proposal_list l;
	proposals_list(db, plan_id, year, &l);
	for (size_t i = 0; i < l.n; i++)
		if (!l.items[i].copil_decision)
			json_array_append_new(
			    arr, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)l.items[i].id,
			                   "number", l.items[i].number, "title", l.items[i].title));
	proposals_free(&l);
	return arr;
}

/*
 * Close a year of a plan in one transaction: refuse when it is closed already or when a
 * proposal of that year has no COPIL decision (then *undecided gets them, caller frees);
 * otherwise record the annex and copy its fiches into annex_items, audited. Returns 0, or an
 * HTTP status (409, 500) with a French message in msg.
 */
static int cycle_close(struct db *db, int64_t user_id, const char *origin, int64_t plan_id,
                       int year, json_t **undecided, char *msg, size_t n)
{
	*undecided = NULL;
	char now[32];
	time_iso_now(now);
	if (db_begin(db) != DB_OK)
		return snprintf(msg, n, "La base de données est occupée ; réessayez."), 500;
	int rc = plan_lock(db, plan_id);
	if (rc == DB_OK && year_closed(db, plan_id, year)) {
		db_rollback(db);
		return snprintf(msg, n, "L’année %d est déjà clôturée : son annexe est figée.",
		                year),
		       409;
	}
	json_t *open = rc == DB_OK ? undecided_json(db, plan_id, year) : NULL;
	if (json_array_size(open)) {
		db_rollback(db);
		snprintf(msg, n,
		         "L’année %d ne peut pas être clôturée : %zu proposition%s attend%s encore "
		         "l’arbitrage du COPIL.",
		         year, json_array_size(open), json_array_size(open) > 1 ? "s" : "",
		         json_array_size(open) > 1 ? "ent" : "");
		*undecided = open;
		return 409;
	}
	json_decref(open);
	struct annex_items items;
	memset(&items, 0, sizeof items);
	if (rc == DB_OK)
		rc = db_execf(db,
		              "INSERT INTO annexes (plan_id, year, closed_at, closed_by) "
		              "VALUES (?, ?, ?, ?)",
		              "IisI", plan_id, year, now, user_id);
	if (rc == DB_OK)
		annex_items_compute(db, plan_id, year, &items);
	json_t *fiches = json_array();
	for (size_t i = 0; rc == DB_OK && i < items.n; i++) {
		const struct annex_item *it = &items.items[i];
		rc = db_execf(db,
		              "INSERT INTO annex_items (plan_id, year, position, node_id, number, "
		              "title, parent_title, pilots, status, progress, is_new) "
		              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		              "IiiIssssssi", plan_id, year, (int)(i + 1), it->node_id, it->number,
		              it->title, it->parent_title, it->pilots, it->status, it->progress,
		              it->is_new);
		json_array_append_new(fiches,
		                      json_pack("{s:I,s:s,s:s,s:b}", "fiche_id",
		                                (json_int_t)it->node_id, "number", it->number,
		                                "title", it->title, "is_new", it->is_new));
	}
	if (rc == DB_OK) {
		char eid[48];
		snprintf(eid, sizeof eid, "%lld/%d", (long long)plan_id, year);
		json_t *after = json_pack("{s:I,s:i,s:s,s:o}", "plan_id", (json_int_t)plan_id,
		                          "year", year, "closed_at", now, "items", fiches);
		fiches = NULL;
		rc = audit_write(db, user_id, origin, "close", "annex", eid, NULL, after);
		json_decref(after);
	}
	json_decref(fiches);
	annex_items_free(&items);
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		if (rc == DB_CONSTRAINT)
			return snprintf(msg, n, "L’année %d est déjà clôturée.", year), 409;
		return snprintf(msg, n, "La clôture de l’année a échoué."), 500;
	}
	return 0;
}

/* --- pages: shared pieces ------------------------------------------------------------------- */

static void badge(struct buf *o, const struct choice *c, const char *none)
{
	if (c)
		html_printf(o, "<span class=\"badge %s\">%s</span>", c->badge, c->label);
	else
		html_printf(o, "<span class=\"badge badge-neutral\">%s</span>", none);
}

/* The crumbs of a plan's cycle pages. `plan_href` must outlive the crumbs' use. */
static void plan_crumbs(struct crumb c[3], const char *plan_title, const char *plan_href,
                        const char *label, const char *href)
{
	c[0] = (struct crumb){plan_title, plan_href};
	c[1] = (struct crumb){label, href};
	c[2] = (struct crumb){NULL, NULL};
}

/* --- the proposal form ------------------------------------------------------------------------ */

struct parent_option {
	int64_t id;
	int depth;
	char *number, *title;
};

static int parent_option_cmp(const void *a, const void *b)
{
	return number_cmp(((const struct parent_option *)a)->number,
	                  ((const struct parent_option *)b)->number);
}

/*
 * The proposal form of a plan. With `error`, the page shows it and re-fills the fields with
 * what was sent (status 422 set by the caller); otherwise the fields hold the defaults.
 */
static void proposal_form_page(struct req *r, const struct plan_info *plan, const char *error)
{
	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan->id);
	char cycle_href[64];
	snprintf(cycle_href, sizeof cycle_href, "/plans/%lld/cycle", (long long)plan->id);
	struct crumb crumbs[3];
	plan_crumbs(crumbs, plan->title, plan_href, "Cycle annuel", cycle_href);
	page_begin(r, "Proposer une fiche-action", crumbs);
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p>\n<h1>Proposer une fiche-action</h1>\n"
	            "<p class=\"lead\">La proposition est examinée par le COTECH, puis arbitrée "
	            "par le COPIL ; retenue, elle rejoint l’annexe de l’année visée.</p>\n",
	            plan->title);
	if (error)
		page_notice(r, "error", error);
	const char *f_parent = error ? req_form(r, "parent") : NULL;
	const char *f_title = error ? req_form(r, "title") : NULL;
	const char *f_desc = error ? req_form(r, "description") : NULL;
	const char *f_expected = error ? req_form(r, "expected_results") : NULL;
	const char *f_publics = error ? req_form(r, "publics") : NULL;
	const char *f_year = error ? req_form(r, "year") : NULL;
	int lo, hi;
	year_bounds(plan, &lo, &hi);
	char year_text[16];
	snprintf(year_text, sizeof year_text, "%d", default_year(plan));

	html_printf(&r->out,
	            "<form method=\"post\" action=\"/plans/%lld/propositions/nouvelle\" "
	            "class=\"form\">",
	            (long long)plan->id);
	page_csrf(r);

	/* Where the fiche goes: the plan's nodes that may hold one, in tree order. */
	char *levels[16] = {0};
	struct db_stmt *st = db_queryf(
	    r->db, "SELECT depth, name FROM plan_levels WHERE plan_id = ?", "I", plan->id);
	while (st && db_step(st) == DB_ROW) {
		int64_t d = db_col_int64(st, 0);
		if (d >= 0 && d < 16 && !levels[d])
			levels[d] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	struct parent_option *opts = NULL;
	size_t nopts = 0, cap = 0;
	st = db_queryf(r->db,
	               "SELECT n.id, n.depth, n.number, n.title FROM nodes n "
	               "WHERE n.plan_id = ? AND " PARENT_ALLOWED,
	               "II", plan->id, plan->id);
	while (st && db_step(st) == DB_ROW) {
		if (nopts == cap) {
			cap = cap ? cap * 2 : 32;
			opts = xrealloc(opts, cap * sizeof *opts);
		}
		opts[nopts++] = (struct parent_option){
		    db_col_int64(st, 0), (int)db_col_int64(st, 1), xstrdup(db_col_text(st, 2)),
		    xstrdup(db_col_text(st, 3))};
	}
	db_finalize(st);
	if (nopts)
		qsort(opts, nopts, sizeof *opts, parent_option_cmp);
	buf_puts(&r->out,
	         "<div class=\"field\"><label for=\"p-parent\">Rattachement</label>"
	         "<select id=\"p-parent\" name=\"parent\" aria-describedby=\"p-parent-hint\">"
	         "<option value=\"0\">Au premier niveau du plan</option>");
	int64_t chosen = 0;
	if (f_parent)
		parse_int64(f_parent, &chosen);
	for (size_t i = 0; i < nopts; i++) {
		const char *level =
		    opts[i].depth < 16 && levels[opts[i].depth] ? levels[opts[i].depth] : "";
		html_printf(&r->out, "<option value=\"%lld\"%R>%s %s — %s</option>",
		            (long long)opts[i].id, opts[i].id == chosen ? " selected" : "", level,
		            opts[i].number, opts[i].title);
		free(opts[i].number);
		free(opts[i].title);
	}
	free(opts);
	for (int i = 0; i < 16; i++)
		free(levels[i]);
	buf_puts(&r->out, "</select><p class=\"hint\" id=\"p-parent-hint\">L’axe, l’orientation "
	                  "ou l’objectif sous lequel la fiche-action prendra place ; elle y sera "
	                  "ajoutée en dernière position.</p></div>");

	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"p-title\">Intitulé</label>"
	            "<input id=\"p-title\" name=\"title\" required maxlength=\"%d\" value=\"%s\" "
	            "aria-describedby=\"p-title-hint\"><p class=\"hint\" id=\"p-title-hint\">"
	            "%d caractères au plus.</p></div>",
	            TITLE_MAX, f_title ? f_title : "", TITLE_MAX);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"p-description\">Description</label>"
	    "<textarea id=\"p-description\" name=\"description\" maxlength=\"%d\" "
	    "aria-describedby=\"p-description-hint\">%s</textarea>"
	    "<p class=\"hint\" id=\"p-description-hint\">Le constat et le contenu de "
	    "l’action. Mise en forme Markdown acceptée ; 20 000 caractères au plus.</p></div>",
	    MARKDOWN_MAX, f_desc ? f_desc : "");
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"p-expected\">Résultats attendus</label>"
	            "<textarea id=\"p-expected\" name=\"expected_results\" maxlength=\"%d\" "
	            "aria-describedby=\"p-expected-hint\">%s</textarea>"
	            "<p class=\"hint\" id=\"p-expected-hint\">Ce que l’action doit produire et "
	            "transformer. Markdown accepté.</p></div>",
	            MARKDOWN_MAX, f_expected ? f_expected : "");
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"p-publics\">Publics visés</label>"
	    "<textarea id=\"p-publics\" name=\"publics\" aria-describedby=\"p-publics-hint\">"
	    "%s</textarea><p class=\"hint\" id=\"p-publics-hint\">Un public par ligne (par "
	    "exemple : familles monoparentales) ; %d lignes au plus.</p></div>",
	    f_publics ? f_publics : "", PUBLICS_MAX);

	/* Suggested pilot structures, from the directory. */
	buf_puts(&r->out, "<div class=\"field\"><label for=\"p-pilots\">Structures pilotes "
	                  "pressenties (facultatif)</label><select id=\"p-pilots\" name=\"pilots\" "
	                  "multiple size=\"8\" aria-describedby=\"p-pilots-hint\">");
	st = db_prepare(r->db, "SELECT id, name FROM actors ORDER BY search_name, name");
	while (st && db_step(st) == DB_ROW) {
		int64_t id = db_col_int64(st, 0);
		int selected = 0;
		for (size_t i = 0; error && i < r->form.n && !selected; i++) {
			int64_t v;
			selected = !strcmp(r->form.items[i].key, "pilots") &&
			           !parse_int64(r->form.items[i].val, &v) && v == id;
		}
		html_printf(&r->out, "<option value=\"%lld\"%R>%s</option>", (long long)id,
		            selected ? " selected" : "", db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(&r->out, "</select><p class=\"hint\" id=\"p-pilots-hint\">Structures de "
	                  "l’annuaire des acteurs ; maintenez Ctrl (ou Cmd) pour en choisir "
	                  "plusieurs.</p></div>");

	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"p-year\">Année de l’annexe visée</label>"
	    "<input id=\"p-year\" name=\"year\" type=\"number\" required min=\"%d\" "
	    "max=\"%d\" step=\"1\" inputmode=\"numeric\" value=\"%s\" "
	    "aria-describedby=\"p-year-hint\"><p class=\"hint\" id=\"p-year-hint\">Entre %d "
	    "et %d : la période du plan, une année avant ou après ; pas une année déjà "
	    "clôturée.</p></div>",
	    lo, hi, f_year ? f_year : year_text, lo, hi);
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Proposer la "
	            "fiche-action</button><a href=\"%s\">Annuler</a></div></form>\n",
	            cycle_href);
	page_end(r);
}

static int plan_param(struct req *r, int64_t *plan_id, enum role min, struct plan_info *plan)
{
	if (req_param_id(r, 0, plan_id) || plan_require(r, *plan_id, min))
		return -1;
	if (plan_info_load(r->db, *plan_id, plan)) {
		resp_error(r, 404, "Ce plan n’existe pas.");
		return -1;
	}
	return 0;
}

static void proposal_form_get(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PARTNER, &plan))
		return;
	proposal_form_page(r, &plan, NULL);
	plan_info_free(&plan);
}

static void proposal_form_post(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PARTNER, &plan))
		return;
	struct proposal_input in;
	input_from_form(r, &in);
	char msg[512];
	int64_t pid = 0;
	int status = proposal_create(r->db, r->user->id, "web", &plan, &in, &pid, msg, sizeof msg);
	if (status == 0) {
		char loc[128];
		snprintf(loc, sizeof loc, "/plans/%lld/cycle?annee=%d&ok=propose#proposition-%lld",
		         (long long)id, in.year, (long long)pid);
		resp_redirect(r, loc);
	} else if (status == 500) {
		resp_error(r, 500, msg);
	} else {
		proposal_form_page(r, &plan, msg);
		r->status = 422;
	}
	proposal_input_free(&in);
	plan_info_free(&plan);
}

/* --- the cycle page ----------------------------------------------------------------------------
 */

struct cycle_view {
	int year;
	const char *notice;    /* a success message, or NULL */
	const char *error;     /* an error message (plain text), or NULL */
	json_t *undecided;     /* proposals listed under the error, or NULL (borrowed) */
	int confirm_close;     /* show the closing confirmation */
	int64_t form_proposal; /* the decision form being re-filled with what was sent */
	enum decision_kind form_kind;
};

/* The years shown in the year navigation: the plan's bounds, the years with proposals or
 * annexes, and the year shown. Sorted, unique; the caller frees. */
static int *cycle_years(struct db *db, const struct plan_info *plan, int shown, size_t *n)
{
	int lo, hi;
	year_bounds(plan, &lo, &hi);
	if (hi - lo > 30) { /* an unusually long plan: the years around the one shown */
		lo = lo > shown - 15 ? lo : shown - 15;
		hi = hi < shown + 15 ? hi : shown + 15;
	}
	size_t cap = (size_t)(hi > lo ? hi - lo : 0) + 18, k = 0;
	int *ys = xmalloc(cap * sizeof *ys);
	for (int y = lo; y <= hi; y++)
		ys[k++] = y;
	ys[k++] = shown;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT year FROM proposals WHERE plan_id = ? "
	                               "UNION SELECT year FROM annexes WHERE plan_id = ?",
	                               "II", plan->id, plan->id);
	while (st && db_step(st) == DB_ROW) {
		if (k == cap)
			ys = xrealloc(ys, (cap *= 2) * sizeof *ys);
		ys[k++] = (int)db_col_int64(st, 0);
	}
	db_finalize(st);
	/* insertion sort, dropping repeats */
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		int v = ys[i];
		size_t j = m;
		int dup = 0;
		for (size_t t = 0; t < m; t++)
			dup |= ys[t] == v;
		if (dup)
			continue;
		while (j > 0 && ys[j - 1] > v) {
			ys[j] = ys[j - 1];
			j--;
		}
		ys[j] = v;
		m++;
	}
	*n = m;
	return ys;
}

/* Value to show in a decision field: what was sent when re-filling this form, else stored. */
static const char *form_value(struct req *r, const struct cycle_view *v, int64_t pid,
                              enum decision_kind kind, const char *field, const char *stored)
{
	if (v->form_proposal == pid && v->form_kind == kind)
		return req_form(r, field) ? req_form(r, field) : "";
	return stored;
}

static void decision_forms(struct req *r, const struct cycle_view *v, const struct proposal *p,
                           const char *today_s)
{
	html_printf(
	    &r->out,
	    "<section class=\"panel\" id=\"decider-%lld\" aria-labelledby=\"decider-%lld-t\">"
	    "<h3 id=\"decider-%lld-t\">%s %s</h3><div class=\"columns\">",
	    (long long)p->id, (long long)p->id, (long long)p->id, p->number, p->title);
	/* COTECH */
	const char *opinion = form_value(r, v, p->id, DECIDE_COTECH, "opinion", p->cotech_opinion);
	const char *date = form_value(r, v, p->id, DECIDE_COTECH, "date", p->cotech_date);
	const char *comment = form_value(r, v, p->id, DECIDE_COTECH, "comment", p->cotech_comment);
	html_printf(&r->out,
	            "<section><h4>2. Avis du COTECH</h4><form method=\"post\" "
	            "action=\"/propositions/%lld/cotech\" class=\"form\">",
	            (long long)p->id);
	page_csrf(r);
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"cotech-%lld-opinion\">Avis du COTECH</label>"
	            "<select id=\"cotech-%lld-opinion\" name=\"opinion\" required>",
	            (long long)p->id, (long long)p->id);
	if (!opinion || !*opinion)
		buf_puts(&r->out, "<option value=\"\">— choisir —</option>");
	for (size_t i = 0; i < COUNT(cotech_opinions); i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", cotech_opinions[i].value,
		            opinion && !strcmp(opinion, cotech_opinions[i].value) ? " selected"
		                                                                  : "",
		            cotech_opinions[i].label);
	html_printf(
	    &r->out,
	    "</select></div><div class=\"field\"><label for=\"cotech-%lld-date\">Date du "
	    "COTECH</label><input id=\"cotech-%lld-date\" name=\"date\" type=\"date\" "
	    "required value=\"%s\"></div><div class=\"field\"><label "
	    "for=\"cotech-%lld-comment\">Commentaire du COTECH</label><textarea "
	    "id=\"cotech-%lld-comment\" name=\"comment\" maxlength=\"%d\">%s</textarea></div>"
	    "<button type=\"submit\" class=\"button\">Enregistrer l’avis<span "
	    "class=\"visually-hidden\"> du COTECH sur la proposition %s</span></button>"
	    "</form></section>",
	    (long long)p->id, (long long)p->id, date && *date ? date : today_s, (long long)p->id,
	    (long long)p->id, COMMENT_MAX, comment ? comment : "", p->number);
	/* COPIL */
	buf_puts(&r->out, "<section><h4>3. Arbitrage du COPIL</h4>");
	if (!p->cotech_opinion) {
		buf_puts(&r->out, "<p class=\"hint\">Le COPIL arbitre après l’avis du COTECH : "
		                  "enregistrez d’abord cet avis.</p></section>");
	} else {
		const char *decision =
		    form_value(r, v, p->id, DECIDE_COPIL, "decision", p->copil_decision);
		date = form_value(r, v, p->id, DECIDE_COPIL, "date", p->copil_date);
		comment = form_value(r, v, p->id, DECIDE_COPIL, "comment", p->copil_comment);
		html_printf(
		    &r->out,
		    "<form method=\"post\" action=\"/propositions/%lld/copil\" class=\"form\">",
		    (long long)p->id);
		page_csrf(r);
		html_printf(&r->out,
		            "<div class=\"field\"><label for=\"copil-%lld-decision\">Arbitrage du "
		            "COPIL</label><select id=\"copil-%lld-decision\" name=\"decision\" "
		            "required aria-describedby=\"copil-%lld-hint\">",
		            (long long)p->id, (long long)p->id, (long long)p->id);
		if (!decision || !*decision)
			buf_puts(&r->out, "<option value=\"\">— choisir —</option>");
		for (size_t i = 0; i < COUNT(copil_decisions); i++)
			html_printf(
			    &r->out, "<option value=\"%s\"%R>%s</option>", copil_decisions[i].value,
			    decision && !strcmp(decision, copil_decisions[i].value) ? " selected"
			                                                            : "",
			    copil_decisions[i].label);
		html_printf(
		    &r->out,
		    "</select><p class=\"hint\" id=\"copil-%lld-hint\">Retenue : la fiche "
		    "entre dans l’annexe. Ajournée : elle peut être reportée à l’année "
		    "suivante. Refusée : elle est archivée (retirée de l’arborescence, "
		    "gardée dans l’historique).</p></div><div class=\"field\"><label "
		    "for=\"copil-%lld-date\">Date du COPIL</label><input "
		    "id=\"copil-%lld-date\" name=\"date\" type=\"date\" required "
		    "value=\"%s\"></div><div class=\"field\"><label "
		    "for=\"copil-%lld-comment\">Commentaire du COPIL</label><textarea "
		    "id=\"copil-%lld-comment\" name=\"comment\" maxlength=\"%d\">%s</textarea>"
		    "</div><button type=\"submit\" class=\"button\">Enregistrer "
		    "l’arbitrage<span class=\"visually-hidden\"> du COPIL sur la proposition "
		    "%s</span></button></form>",
		    (long long)p->id, (long long)p->id, (long long)p->id,
		    date && *date ? date : today_s, (long long)p->id, (long long)p->id, COMMENT_MAX,
		    comment ? comment : "", p->number);
		if (p->copil_decision && !strcmp(p->copil_decision, "ajournee")) {
			html_printf(&r->out,
			            "<form method=\"post\" action=\"/propositions/%lld/reporter\" "
			            "class=\"actions\">",
			            (long long)p->id);
			page_csrf(r);
			html_printf(
			    &r->out,
			    "<button type=\"submit\" class=\"button secondary\">Reporter à "
			    "l’année suivante<span class=\"visually-hidden\"> la proposition "
			    "%s</span></button><span class=\"hint\">La proposition passe en "
			    "%d ; ses avis et décisions sont effacés.</span></form>",
			    p->number, p->year + 1);
		}
		buf_puts(&r->out, "</section>");
	}
	buf_puts(&r->out, "</div></section>\n");
}

/* The closing panel of a coordinator: the button, or the confirmation with a preview. */
static void close_panel(struct req *r, const struct plan_info *plan, int year,
                        const struct cycle_view *v, const struct proposal_list *l)
{
	html_printf(&r->out,
	            "<section class=\"panel\" id=\"cloture\" aria-labelledby=\"cloture-t\">"
	            "<h2 id=\"cloture-t\">4. Clôturer l’année %d et voter l’annexe</h2>"
	            "<p>%s</p>",
	            year, annex_rule);
	size_t open = 0, adjourned = 0;
	for (size_t i = 0; i < l->n; i++) {
		open += !l->items[i].copil_decision;
		adjourned +=
		    l->items[i].copil_decision && !strcmp(l->items[i].copil_decision, "ajournee");
	}
	if (open)
		html_printf(&r->out,
		            "<p class=\"notice notice-warning\">%zu proposition%s attend%s encore "
		            "l’arbitrage du COPIL : la clôture sera refusée tant qu’elle%s n’aura "
		            "pas été arbitrée%s.</p>",
		            open, open > 1 ? "s" : "", open > 1 ? "ent" : "", open > 1 ? "s" : "",
		            open > 1 ? "s" : "");
	if (adjourned)
		html_printf(&r->out,
		            "<p class=\"hint\">Les propositions ajournées se reportent à l’année "
		            "suivante avant la clôture (%zu ajournée%s).</p>",
		            adjourned, adjourned > 1 ? "s" : "");
	if (!v->confirm_close) {
		html_printf(
		    &r->out,
		    "<p><a class=\"button secondary\" href=\"/plans/%lld/cycle?annee=%d&amp;"
		    "cloture=confirmer#cloture\">Préparer la clôture de l’année %d</a></p>"
		    "</section>\n",
		    (long long)plan->id, year, year);
		return;
	}
	struct annex_items preview;
	annex_items_compute(r->db, plan->id, year, &preview);
	size_t fresh = 0;
	for (size_t i = 0; i < preview.n; i++)
		fresh += preview.items[i].is_new;
	html_printf(&r->out,
	            "<h3>Ce que l’annexe %d contiendra</h3><p>%zu fiche%s-action%s, dont %zu "
	            "nouvelle%s (retenue%s par le COPIL pour %d)%s</p>",
	            year, preview.n, preview.n > 1 ? "s" : "", preview.n > 1 ? "s" : "", fresh,
	            fresh > 1 ? "s" : "", fresh > 1 ? "s" : "", year, preview.n ? " :" : ".");
	if (preview.n)
		buf_puts(&r->out, "<ul>");
	for (size_t i = 0; i < preview.n; i++)
		html_printf(
		    &r->out, "<li>%s %s%R</li>", preview.items[i].number, preview.items[i].title,
		    preview.items[i].is_new ? " <span class=\"badge badge-success\">nouvelle"
		                              "</span>"
		                            : "");
	if (preview.n)
		buf_puts(&r->out, "</ul>");
	annex_items_free(&preview);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/plans/%lld/cycle/%d/cloturer\" "
	            "class=\"actions\">",
	            (long long)plan->id, year);
	page_csrf(r);
	html_printf(&r->out,
	            "<button type=\"submit\" class=\"button danger\">Clôturer l’année %d et figer "
	            "l’annexe</button><a href=\"/plans/%lld/cycle?annee=%d\">Annuler</a></form>"
	            "<p class=\"hint\">Une fois l’année clôturée, ses propositions et leurs "
	            "décisions ne peuvent plus être modifiées.</p></section>\n",
	            year, (long long)plan->id, year);
}

/* Render the cycle page of a year; page_end() then the status (200, 409, 422). */
static void cycle_render(struct req *r, const struct plan_info *plan, const struct cycle_view *v,
                         int status)
{
	int year = v->year;
	enum role role = plan_role(r, plan->id);
	int coordinator = role >= ROLE_COORDINATOR;
	struct annex_info annex;
	annex_info_load(r->db, plan->id, year, &annex);
	struct proposal_list l;
	proposals_list(r->db, plan->id, year, &l);
	char today_s[11];
	today(today_s);

	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan->id);
	struct crumb crumbs[2] = {{plan->title, plan_href}, {NULL, NULL}};
	char title[64];
	snprintf(title, sizeof title, "Cycle annuel %d", year);
	page_begin(r, title, crumbs);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p>\n<h1>%s</h1>\n", plan->title, title);
	if (v->notice)
		page_notice(r, "success", v->notice);
	if (v->error) {
		page_notice(r, "error", v->error);
		if (json_array_size(v->undecided)) {
			buf_puts(&r->out, "<ul class=\"undecided\">");
			size_t i;
			json_t *e;
			json_array_foreach(v->undecided, i, e)
			{
				html_printf(&r->out,
				            "<li><a href=\"#proposition-%lld\">%s %s</a></li>",
				            (long long)json_integer_value(json_object_get(e, "id")),
				            json_string_value(json_object_get(e, "number")),
				            json_string_value(json_object_get(e, "title")));
			}
			buf_puts(&r->out, "</ul>");
		}
	}

	/* Years. */
	size_t ny;
	int *years = cycle_years(r->db, plan, year, &ny);
	buf_puts(&r->out, "<nav aria-label=\"Années du cycle\"><ul class=\"inline-list\">");
	for (size_t i = 0; i < ny; i++)
		html_printf(&r->out, "<li><a href=\"/plans/%lld/cycle?annee=%d\"%R>%R%d%R</a></li>",
		            (long long)plan->id, years[i],
		            years[i] == year ? " aria-current=\"page\"" : "",
		            years[i] == year ? "<strong>" : "", years[i],
		            years[i] == year ? "</strong>" : "");
	buf_puts(&r->out, "</ul></nav>\n");
	free(years);

	/* The steps, with where the year stands. */
	size_t with_cotech = 0, with_copil = 0;
	for (size_t i = 0; i < l.n; i++) {
		with_cotech += l.items[i].cotech_opinion != NULL;
		with_copil += l.items[i].copil_decision != NULL;
	}
	char closed_on[40] = "";
	if (annex.closed)
		date_fr(annex.closed_at, closed_on);
	html_printf(&r->out,
	            "<ol class=\"inline-list\" aria-label=\"Étapes du cycle annuel\">"
	            "<li>1. Proposition (%zu) <span aria-hidden=\"true\">→</span></li>"
	            "<li>2. Avis du COTECH (%zu/%zu) <span aria-hidden=\"true\">→</span></li>"
	            "<li>3. Arbitrage du COPIL (%zu/%zu) <span aria-hidden=\"true\">→</span></li>"
	            "<li>4. Annexe votée (%s)</li></ol>\n",
	            l.n, with_cotech, l.n, with_copil, l.n,
	            annex.closed ? closed_on : "année non clôturée");

	buf_puts(&r->out, "<dl class=\"facts\">");
	if (annex.closed)
		html_printf(&r->out,
		            "<div><dt>Annexe %d</dt><dd>figée le %s%R%s — <a "
		            "href=\"/plans/%lld/annexes/%d\">consulter l’annexe</a></dd></div>",
		            year, closed_on, annex.closed_by ? " par " : "",
		            annex.closed_by ? annex.closed_by : "", (long long)plan->id, year);
	else
		html_printf(&r->out, "<div><dt>Annexe %d</dt><dd>en préparation</dd></div>", year);
	html_printf(&r->out, "<div><dt>Propositions</dt><dd>%zu</dd></div></dl>\n", l.n);

	buf_puts(&r->out, "<div class=\"actions\">");
	if (role >= ROLE_PARTNER && !annex.closed)
		html_printf(
		    &r->out,
		    "<a class=\"button\" href=\"/plans/%lld/propositions/nouvelle\">Proposer "
		    "une fiche-action</a>",
		    (long long)plan->id);
	html_printf(&r->out,
	            "<a href=\"/plans/%lld/annexes\">Annexes des années clôturées</a></div>\n",
	            (long long)plan->id);
	if (annex.closed)
		buf_puts(&r->out,
		         "<p class=\"hint\">Cette année est clôturée : ses propositions et "
		         "leurs décisions ne peuvent plus être modifiées.</p>\n");

	/* The table of proposals. */
	if (!l.n) {
		html_printf(&r->out, "<p>Aucune proposition pour %d.</p>\n", year);
	} else {
		html_printf(
		    &r->out,
		    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
		    "aria-labelledby=\"propositions-caption\"><table>\n"
		    "<caption id=\"propositions-caption\">Propositions de fiches-actions pour "
		    "l’annexe %d</caption>\n<thead><tr><th scope=\"col\">N°</th>"
		    "<th scope=\"col\">Intitulé</th><th scope=\"col\">Proposée par</th>"
		    "<th scope=\"col\">Avis du COTECH</th>"
		    "<th scope=\"col\">Arbitrage du COPIL</th>%R</tr></thead><tbody>\n",
		    year, coordinator && !annex.closed ? "<th scope=\"col\">Décisions</th>" : "");
		for (size_t i = 0; i < l.n; i++) {
			const struct proposal *p = &l.items[i];
			char pdate[40] = "";
			date_fr(p->proposed_at, pdate);
			html_printf(&r->out,
			            "<tr id=\"proposition-%lld\"><td>%s</td><th scope=\"row\"><a "
			            "href=\"/fiches/%lld\">%s</a>%R</th><td>%s<br><span "
			            "class=\"muted\">le %s</span></td><td>",
			            (long long)p->id, p->number, (long long)p->node_id, p->title,
			            p->archived
			                ? " <span class=\"badge badge-neutral\">archivée</span>"
			                : "",
			            p->proposer ? p->proposer : "compte supprimé", pdate);
			badge(
			    &r->out,
			    choice_find(cotech_opinions, COUNT(cotech_opinions), p->cotech_opinion),
			    "en attente");
			if (p->cotech_opinion) {
				char d[40];
				date_fr(p->cotech_date, d);
				html_printf(&r->out, "<br><span class=\"muted\">le %s</span>", d);
				if (p->cotech_comment && *p->cotech_comment)
					html_printf(&r->out, "<br>%s", p->cotech_comment);
			}
			buf_puts(&r->out, "</td><td>");
			badge(
			    &r->out,
			    choice_find(copil_decisions, COUNT(copil_decisions), p->copil_decision),
			    "en attente");
			if (p->copil_decision) {
				char d[40];
				date_fr(p->copil_date, d);
				html_printf(&r->out, "<br><span class=\"muted\">le %s</span>", d);
				if (p->copil_comment && *p->copil_comment)
					html_printf(&r->out, "<br>%s", p->copil_comment);
				governance_proposal_decisions(r, p->id);
			}
			buf_puts(&r->out, "</td>");
			if (coordinator && !annex.closed)
				html_printf(
				    &r->out,
				    "<td><a href=\"#decider-%lld\">Décider<span "
				    "class=\"visually-hidden\"> pour la proposition %s</span>"
				    "</a></td>",
				    (long long)p->id, p->number);
			buf_puts(&r->out, "</tr>\n");
		}
		buf_puts(&r->out, "</tbody></table></div>\n");
	}

	if (coordinator && !annex.closed) {
		if (l.n) {
			html_printf(&r->out, "<h2>Avis du COTECH et arbitrages du COPIL</h2>\n");
			for (size_t i = 0; i < l.n; i++)
				decision_forms(r, v, &l.items[i], today_s);
		}
		close_panel(r, plan, year, v, &l);
	} else if (!annex.closed) {
		html_printf(&r->out, "<p class=\"hint\">%s</p>\n", annex_rule);
	}
	proposals_free(&l);
	annex_info_free(&annex);
	page_end(r);
	r->status = status;
}

static const char *cycle_notice(const char *ok)
{
	if (!ok)
		return NULL;
	if (!strcmp(ok, "propose"))
		return "Proposition enregistrée : elle attend l’avis du COTECH.";
	if (!strcmp(ok, "cotech"))
		return "Avis du COTECH enregistré.";
	if (!strcmp(ok, "copil"))
		return "Arbitrage du COPIL enregistré.";
	if (!strcmp(ok, "reporte"))
		return "Proposition reportée à cette année ; elle attend l’avis du COTECH.";
	return NULL;
}

static void cycle_get(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_READER, &plan))
		return;
	struct cycle_view v = {.year = current_year()};
	const char *y = req_query(r, "annee");
	if (y && year_parse(y, &v.year)) {
		resp_error(r, 400, "L’année demandée n’est pas valide (quatre chiffres attendus).");
		plan_info_free(&plan);
		return;
	}
	v.notice = cycle_notice(req_query(r, "ok"));
	const char *c = req_query(r, "cloture");
	v.confirm_close = c && !strcmp(c, "confirmer");
	cycle_render(r, &plan, &v, 200);
	plan_info_free(&plan);
}

/* After a failed decision on the web: the cycle page of the proposal's year with the error,
 * the form of `form_proposal` (0: none) re-filled with what was sent. */
static void decision_failed(struct req *r, int64_t plan_id, int64_t pid, int64_t form_proposal,
                            enum decision_kind kind, int status, const char *msg)
{
	struct plan_info plan;
	struct proposal p;
	if (status == 500 || status == 404 || plan_info_load(r->db, plan_id, &plan)) {
		resp_error(r, status, msg);
		return;
	}
	int year = current_year();
	if (proposal_load(r->db, pid, &p) == 0) {
		year = p.year;
		proposal_free(&p);
	}
	struct cycle_view v = {
	    .year = year, .error = msg, .form_proposal = form_proposal, .form_kind = kind};
	cycle_render(r, &plan, &v, status);
	plan_info_free(&plan);
}

static void decision_post(struct req *r, enum decision_kind kind)
{
	int64_t pid, plan;
	if (req_param_id(r, 0, &pid) || proposal_require(r, pid, ROLE_COORDINATOR, &plan))
		return;
	char msg[512];
	int status = proposal_decide(r->db, r->user->id, "web", pid, kind,
	                             req_form(r, kind == DECIDE_COTECH ? "opinion" : "decision"),
	                             req_form(r, "date"), req_form(r, "comment"), msg, sizeof msg);
	if (status) {
		decision_failed(r, plan, pid, pid, kind, status, msg);
		return;
	}
	struct proposal p;
	int year = proposal_load(r->db, pid, &p) == 0 ? p.year : current_year();
	proposal_free(&p);
	char loc[128];
	snprintf(loc, sizeof loc, "/plans/%lld/cycle?annee=%d&ok=%s#proposition-%lld",
	         (long long)plan, year, kind == DECIDE_COTECH ? "cotech" : "copil", (long long)pid);
	resp_redirect(r, loc);
}

static void cotech_post(struct req *r)
{
	decision_post(r, DECIDE_COTECH);
}

static void copil_post(struct req *r)
{
	decision_post(r, DECIDE_COPIL);
}

static void postpone_post(struct req *r)
{
	int64_t pid, plan;
	if (req_param_id(r, 0, &pid) || proposal_require(r, pid, ROLE_COORDINATOR, &plan))
		return;
	char msg[512];
	int year = 0;
	int status = proposal_postpone(r->db, r->user->id, "web", pid, &year, msg, sizeof msg);
	if (status) {
		decision_failed(r, plan, pid, 0, DECIDE_COPIL, status, msg);
		return;
	}
	char loc[128];
	snprintf(loc, sizeof loc, "/plans/%lld/cycle?annee=%d&ok=reporte#proposition-%lld",
	         (long long)plan, year, (long long)pid);
	resp_redirect(r, loc);
}

/* The {year} capture at index i: 0, or answers 404 and returns -1. */
static int year_param(struct req *r, int i, int *year)
{
	if (i >= r->nparams || year_parse(r->params[i], year)) {
		resp_error(r, 404, "Cette année n’est pas valide.");
		return -1;
	}
	return 0;
}

static void close_post(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	int year;
	if (plan_param(r, &id, ROLE_COORDINATOR, &plan))
		return;
	if (year_param(r, 1, &year)) {
		plan_info_free(&plan);
		return;
	}
	char msg[512];
	json_t *undecided = NULL;
	int status = cycle_close(r->db, r->user->id, "web", id, year, &undecided, msg, sizeof msg);
	if (status == 0) {
		char loc[128];
		snprintf(loc, sizeof loc, "/plans/%lld/annexes/%d?ok=cloture", (long long)id, year);
		resp_redirect(r, loc);
	} else if (status == 409) {
		struct cycle_view v = {.year = year, .error = msg, .undecided = undecided};
		cycle_render(r, &plan, &v, 409);
	} else {
		resp_error(r, status, msg);
	}
	json_decref(undecided);
	plan_info_free(&plan);
}

/* --- annexes -----------------------------------------------------------------------------------
 */

static void annexes_get(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PUBLIC, &plan))
		return;
	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)id);
	struct crumb crumbs[2] = {{plan.title, plan_href}, {NULL, NULL}};
	page_begin(r, "Annexes annuelles", crumbs);
	html_printf(
	    &r->out,
	    "<p class=\"eyebrow\">%s</p>\n<h1>Annexes annuelles des fiches-actions</h1>\n"
	    "<p class=\"lead\">Chaque année, le COPIL arbitre les propositions ; la clôture de "
	    "l’année fige l’annexe des fiches-actions en vigueur.</p>\n",
	    plan.title);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT a.year, a.closed_at, u.name, "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year), "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year "
	    "AND i.is_new = 1) "
	    "FROM annexes a LEFT JOIN users u ON u.id = a.closed_by WHERE a.plan_id = ? "
	    "ORDER BY a.year DESC",
	    "I", id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    &r->out,
			    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
			    "aria-labelledby=\"annexes-caption\"><table>\n<caption "
			    "id=\"annexes-caption\">Années clôturées</caption>\n<thead><tr>"
			    "<th scope=\"col\">Année</th><th scope=\"col\">Clôturée le</th>"
			    "<th scope=\"col\">Par</th><th scope=\"col\">Fiches-actions</th>"
			    "<th scope=\"col\">Dont nouvelles</th><th scope=\"col\">Tableur</th>"
			    "</tr></thead><tbody>\n");
		int year = (int)db_col_int64(st, 0);
		char d[40];
		date_fr(db_col_text(st, 1), d);
		html_printf(
		    &r->out,
		    "<tr><th scope=\"row\"><a href=\"/plans/%lld/annexes/%d\">Annexe %d</a>"
		    "</th><td>%s</td><td>%s</td><td>%lld</td><td>%lld</td><td><a "
		    "href=\"/plans/%lld/annexes/%d.csv\">CSV<span class=\"visually-hidden\"> "
		    "de l’annexe %d</span></a></td></tr>\n",
		    (long long)id, year, year, d, db_col_text(st, 2) ? db_col_text(st, 2) : "—",
		    (long long)db_col_int64(st, 3), (long long)db_col_int64(st, 4), (long long)id,
		    year, year);
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</tbody></table></div>\n");
	else
		buf_puts(&r->out, "<p>Aucune année n’est encore clôturée.</p>\n");
	if (plan_role(r, id) >= ROLE_READER)
		html_printf(&r->out,
		            "<p><a href=\"/plans/%lld/cycle\">Cycle annuel : propositions et "
		            "arbitrages</a></p>\n",
		            (long long)id);
	page_end(r);
	plan_info_free(&plan);
}

static void annex_csv(struct req *r, const struct plan_info *plan, int year,
                      const struct annex_items *items)
{
	buf_reset(&r->out);
	static const char *const head[] = {"Numéro",  "Intitulé", "Axe ou orientation",
	                                   "Pilotes", "Statut",   "Avancement",
	                                   "Nouvelle"};
	struct csv_out w;
	csv_out_begin(&w, &r->out);
	csv_out_header(&w, head, sizeof head / sizeof *head);
	for (size_t i = 0; i < items->n; i++) {
		const struct annex_item *it = &items->items[i];
		csv_out_value(&w, it->number);
		csv_out_text(&w, it->title);
		csv_out_text(&w, it->parent_title);
		csv_out_text(&w, it->pilots);
		csv_out_value(&w, fiche_status_label(it->status));
		csv_out_value(&w, fiche_progress_label(it->progress));
		csv_out_value(&w, it->is_new ? "oui" : "non");
		csv_out_row_end(&w);
	}
	char disposition[96];
	snprintf(disposition, sizeof disposition, "attachment; filename=\"annexe-%lld-%d.csv\"",
	         (long long)plan->id, year);
	resp_header(r, "Content-Disposition", disposition);
	resp_send(r, 200, "text/csv; charset=utf-8");
}

static void annex_html(struct req *r, const struct plan_info *plan, int year,
                       const struct annex_info *annex, const struct annex_items *items)
{
	char plan_href[48], list_href[64], title[64];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan->id);
	snprintf(list_href, sizeof list_href, "/plans/%lld/annexes", (long long)plan->id);
	snprintf(title, sizeof title, "Annexe %d des fiches-actions", year);
	struct crumb crumbs[3];
	plan_crumbs(crumbs, plan->title, plan_href, "Annexes annuelles", list_href);
	page_begin(r, title, crumbs);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p>\n<h1>%s</h1>\n", plan->title, title);
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "cloture"))
		page_notice(r, "success", "Année clôturée : l’annexe est figée.");
	char closed_on[40];
	date_fr(annex->closed_at, closed_on);
	size_t fresh = 0;
	for (size_t i = 0; i < items->n; i++)
		fresh += items->items[i].is_new;
	html_printf(&r->out,
	            "<dl class=\"facts\"><div><dt>Année</dt><dd>%d</dd></div>"
	            "<div><dt>Clôturée le</dt><dd>%s</dd></div>"
	            "<div><dt>Par</dt><dd>%s</dd></div>"
	            "<div><dt>Fiches-actions</dt><dd>%zu, dont %zu nouvelle%s</dd></div></dl>\n",
	            year, closed_on, annex->closed_by ? annex->closed_by : "—", items->n, fresh,
	            fresh > 1 ? "s" : "");
	html_printf(
	    &r->out,
	    "<p>%s</p>\n<div class=\"actions\"><a class=\"button secondary\" "
	    "href=\"/plans/%lld/annexes/%d.csv\">Télécharger en CSV</a></div>\n"
	    "<p class=\"hint\">Pour imprimer cette annexe ou l’enregistrer en PDF, utilisez "
	    "la commande « Imprimer » de votre navigateur (Ctrl+P) : la page s’imprime sans "
	    "la navigation.</p>\n",
	    annex_rule, (long long)plan->id, year);
	if (!items->n)
		buf_puts(&r->out, "<p>Cette annexe ne contient aucune fiche-action.</p>\n");
	/* Grouped by parent, in the order of the numbers: a group starts when the parent changes.
	 */
	for (size_t i = 0; i < items->n; i++) {
		const struct annex_item *it = &items->items[i];
		if (i == 0 || strcmp(items->items[i - 1].parent_title, it->parent_title) != 0) {
			if (i)
				buf_puts(&r->out, "</tbody></table></div></section>\n");
			const char *group =
			    *it->parent_title ? it->parent_title : "Sans rattachement";
			html_printf(
			    &r->out,
			    "<section aria-labelledby=\"groupe-%zu\"><h2 id=\"groupe-%zu\">%s"
			    "</h2><div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
			    "aria-labelledby=\"groupe-%zu\"><table>\n<caption "
			    "class=\"visually-hidden\">Fiches-actions — %s</caption>\n<thead>"
			    "<tr><th scope=\"col\">N°</th><th scope=\"col\">Intitulé</th>"
			    "<th scope=\"col\">Pilotes</th><th scope=\"col\">Statut</th>"
			    "<th scope=\"col\">Avancement</th><th scope=\"col\">Nouvelle</th>"
			    "</tr></thead><tbody>\n",
			    i, i, group, i, group);
		}
		html_printf(&r->out, "<tr><td>%s</td><th scope=\"row\">", it->number);
		if (it->node_id)
			html_printf(&r->out, "<a href=\"/fiches/%lld\">%s</a>",
			            (long long)it->node_id, it->title);
		else
			html_printf(&r->out, "%s", it->title);
		html_printf(&r->out, "</th><td>%s</td><td>%s</td><td>%s</td><td>%R</td></tr>\n",
		            *it->pilots ? it->pilots : "—", fiche_status_label(it->status),
		            fiche_progress_label(it->progress),
		            it->is_new ? "<span class=\"badge badge-success\">nouvelle</span>"
		                       : "—");
	}
	if (items->n)
		buf_puts(&r->out, "</tbody></table></div></section>\n");
	page_end(r);
}

static void annex_get(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PUBLIC, &plan))
		return;
	/* {year} is "2025" or "2025.csv": the router captures the whole segment. */
	const char *seg = r->nparams > 1 ? r->params[1] : "";
	size_t len = strlen(seg);
	int csv = len > 4 && !strcmp(seg + len - 4, ".csv");
	char ytext[8] = "";
	if (len - (csv ? 4 : 0) < sizeof ytext)
		memcpy(ytext, seg, len - (csv ? 4 : 0));
	int year;
	struct annex_info annex;
	if (year_parse(ytext, &year)) {
		resp_error(r, 404, "Cette année n’est pas valide.");
		plan_info_free(&plan);
		return;
	}
	annex_info_load(r->db, id, year, &annex);
	if (!annex.closed) {
		resp_error(r, 404,
		           "Cette année n’est pas clôturée : son annexe n’existe pas encore.");
	} else {
		struct annex_items items;
		annex_items_load(r->db, id, year, &items);
		if (csv)
			annex_csv(r, &plan, year, &items);
		else
			annex_html(r, &plan, year, &annex, &items);
		annex_items_free(&items);
	}
	annex_info_free(&annex);
	plan_info_free(&plan);
}

/* --- JSON API -----------------------------------------------------------------------------------
 */

static void api_proposals_get(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_READER, &plan))
		return;
	int year = current_year();
	const char *y = req_query(r, "year");
	if (y && year_parse(y, &year)) {
		resp_error(r, 400, "« year » doit être une année sur quatre chiffres.");
		plan_info_free(&plan);
		return;
	}
	struct proposal_list l;
	proposals_list(r->db, id, year, &l);
	json_t *arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, proposal_json(&l.items[i]));
	proposals_free(&l);
	resp_json(r, 200,
	          json_pack("{s:I,s:i,s:b,s:o}", "plan_id", (json_int_t)id, "year", year, "closed",
	                    year_closed(r->db, id, year), "proposals", arr));
	plan_info_free(&plan);
}

static void api_proposals_post(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PARTNER, &plan))
		return;
	json_t *body = req_json_body(r);
	if (!body) {
		plan_info_free(&plan);
		return;
	}
	struct proposal_input in;
	char msg[512];
	int64_t pid = 0;
	const char *why = input_from_json(body, &in);
	if (why) {
		resp_error(r, 422, why);
	} else {
		if (!in.year)
			in.year = default_year(&plan);
		int status =
		    proposal_create(r->db, r->user->id, "api", &plan, &in, &pid, msg, sizeof msg);
		json_t *p = status ? NULL : proposal_snapshot(r->db, pid);
		if (p)
			resp_json(r, 201, p);
		else
			resp_error(r, status ? status : 500, status ? msg : "Lecture impossible.");
	}
	proposal_input_free(&in);
	json_decref(body);
	plan_info_free(&plan);
}

static void api_decide(struct req *r, enum decision_kind kind)
{
	int64_t pid, plan;
	if (req_param_id(r, 0, &pid) || proposal_require(r, pid, ROLE_COORDINATOR, &plan))
		return;
	json_t *body = req_json_body(r);
	if (!body)
		return;
	const char *key = kind == DECIDE_COTECH ? "opinion" : "decision";
	json_t *value = json_object_get(body, key), *date = json_object_get(body, "date"),
	       *comment = json_object_get(body, "comment");
	char today_s[11];
	today(today_s);
	char msg[512];
	if (!json_is_object(body) || (value && !json_is_string(value)) ||
	    (date && !json_is_string(date) && !json_is_null(date)) ||
	    (comment && !json_is_string(comment) && !json_is_null(comment))) {
		resp_error(r, 422,
		           kind == DECIDE_COTECH
		               ? "Attendu : {\"opinion\": \"favorable\"|\"reserve\"|"
		                 "\"defavorable\", \"date\": \"AAAA-MM-JJ\", \"comment\": \"…\"}."
		               : "Attendu : {\"decision\": \"retenue\"|\"ajournee\"|\"refusee\", "
		                 "\"date\": \"AAAA-MM-JJ\", \"comment\": \"…\"}.");
		json_decref(body);
		return;
	}
	int status = proposal_decide(r->db, r->user->id, "api", pid, kind, json_string_value(value),
	                             json_is_string(date) ? json_string_value(date) : today_s,
	                             json_is_string(comment) ? json_string_value(comment) : "", msg,
	                             sizeof msg);
	json_decref(body);
	json_t *p = status ? NULL : proposal_snapshot(r->db, pid);
	if (p)
		resp_json(r, 200, p);
	else
		resp_error(r, status ? status : 500, status ? msg : "Lecture impossible.");
}

static void api_cotech(struct req *r)
{
	api_decide(r, DECIDE_COTECH);
}

static void api_copil(struct req *r)
{
	api_decide(r, DECIDE_COPIL);
}

static void api_postpone(struct req *r)
{
	int64_t pid, plan;
	if (req_param_id(r, 0, &pid) || proposal_require(r, pid, ROLE_COORDINATOR, &plan))
		return;
	char msg[512];
	int year = 0;
	int status = proposal_postpone(r->db, r->user->id, "api", pid, &year, msg, sizeof msg);
	json_t *p = status ? NULL : proposal_snapshot(r->db, pid);
	if (p)
		resp_json(r, 200, p);
	else
		resp_error(r, status ? status : 500, status ? msg : "Lecture impossible.");
}

/* The annex as JSON (NULL when the year is not closed). The caller owns it. */
static json_t *annex_json(struct db *db, int64_t plan_id, int year)
{
	struct annex_info a;
	annex_info_load(db, plan_id, year, &a);
	if (!a.closed)
		return NULL;
	int64_t by = 0;
	db_int64f(db, &by,
	          "SELECT COALESCE(closed_by, 0) FROM annexes WHERE plan_id = ? AND year = ?", "Ii",
	          plan_id, year);
	struct annex_items items;
	annex_items_load(db, plan_id, year, &items);
	json_t *arr = json_array();
	for (size_t i = 0; i < items.n; i++) {
		const struct annex_item *it = &items.items[i];
		json_array_append_new(
		    arr, json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "position",
		                   (json_int_t)(i + 1), "fiche_id",
		                   it->node_id ? json_integer(it->node_id) : json_null(), "number",
		                   it->number, "title", it->title, "parent_title", it->parent_title,
		                   "pilots", it->pilots, "status", it->status, "status_label",
		                   fiche_status_label(it->status), "progress", it->progress,
		                   "progress_label", fiche_progress_label(it->progress), "is_new",
		                   it->is_new));
	}
	char csv[64];
	snprintf(csv, sizeof csv, "/plans/%lld/annexes/%d.csv", (long long)plan_id, year);
	json_t *j = json_pack("{s:I,s:i,s:s,s:o,s:s,s:o}", "plan_id", (json_int_t)plan_id, "year",
	                      year, "closed_at", a.closed_at, "closed_by",
	                      by ? json_pack("{s:I,s:s}", "id", (json_int_t)by, "name",
	                                     a.closed_by ? a.closed_by : "")
	                         : json_null(),
	                      "csv_url", csv, "items", arr);
	annex_items_free(&items);
	annex_info_free(&a);
	return j;
}

static void api_close(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	int year;
	if (plan_param(r, &id, ROLE_COORDINATOR, &plan))
		return;
	plan_info_free(&plan);
	if (year_param(r, 1, &year))
		return;
	char msg[512];
	json_t *undecided = NULL;
	int status = cycle_close(r->db, r->user->id, "api", id, year, &undecided, msg, sizeof msg);
	if (status == 0) {
		json_t *j = annex_json(r->db, id, year);
		if (j)
			resp_json(r, 201, j);
		else
			resp_error(r, 500, "Lecture de l’annexe impossible.");
	} else if (undecided) {
		resp_json(r, 409,
		          json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "conflict", "message",
		                    msg, "proposals", undecided));
	} else {
		resp_error(r, status, msg);
	}
}

static void api_annexes(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	if (plan_param(r, &id, ROLE_PUBLIC, &plan))
		return;
	plan_info_free(&plan);
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT a.year, a.closed_at, "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year), "
	    "(SELECT COUNT(*) FROM annex_items i WHERE i.plan_id = a.plan_id AND i.year = a.year "
	    "AND i.is_new = 1) FROM annexes a WHERE a.plan_id = ? ORDER BY a.year DESC",
	    "I", id);
	while (st && db_step(st) == DB_ROW) {
		char url[64];
		snprintf(url, sizeof url, "/api/v1/plans/%lld/annexes/%lld", (long long)id,
		         (long long)db_col_int64(st, 0));
		json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:I,s:s}", "year",
		                                     (json_int_t)db_col_int64(st, 0), "closed_at",
		                                     db_col_text(st, 1), "items",
		                                     (json_int_t)db_col_int64(st, 2), "new_items",
		                                     (json_int_t)db_col_int64(st, 3), "url", url));
	}
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:I,s:o}", "plan_id", (json_int_t)id, "annexes", arr));
}

static void api_annex(struct req *r)
{
	int64_t id;
	struct plan_info plan;
	int year;
	if (plan_param(r, &id, ROLE_PUBLIC, &plan))
		return;
	plan_info_free(&plan);
	if (year_param(r, 1, &year))
		return;
	json_t *j = annex_json(r->db, id, year);
	if (j)
		resp_json(r, 200, j);
	else
		resp_error(r, 404,
		           "Cette année n’est pas clôturée : son annexe n’existe pas encore.");
}

const struct route cycle_routes[] = {
    {M_GET, "/plans/{plan}/propositions/nouvelle", ACC_LOGIN, proposal_form_get,
     "Formulaire : proposer une fiche-action (partenaires et plus)"},
    {M_POST, "/plans/{plan}/propositions/nouvelle", ACC_LOGIN, proposal_form_post,
     "Proposer une fiche-action"},
    {M_GET, "/plans/{plan}/cycle", ACC_LOGIN, cycle_get,
     "Cycle annuel d’un plan : propositions, avis du COTECH, arbitrages du COPIL (?annee=)"},
    {M_POST, "/propositions/{proposal}/cotech", ACC_LOGIN, cotech_post,
     "Enregistrer l’avis du COTECH sur une proposition"},
    {M_POST, "/propositions/{proposal}/copil", ACC_LOGIN, copil_post,
     "Enregistrer l’arbitrage du COPIL sur une proposition"},
    {M_POST, "/propositions/{proposal}/reporter", ACC_LOGIN, postpone_post,
     "Reporter une proposition ajournée à l’année suivante"},
    {M_POST, "/plans/{plan}/cycle/{year}/cloturer", ACC_LOGIN, close_post,
     "Clôturer une année et figer son annexe"},
    {M_GET, "/plans/{plan}/annexes", ACC_PUBLIC, annexes_get, "Annexes annuelles d’un plan"},
    {M_GET, "/plans/{plan}/annexes/{year}", ACC_PUBLIC, annex_get,
     "Annexe figée d’une année (page imprimable ; .csv pour le tableur)"},
    {M_GET, "/api/v1/plans/{plan}/proposals", ACC_PUBLIC, api_proposals_get,
     "Propositions d’une année (?year=)"},
    {M_POST, "/api/v1/plans/{plan}/proposals", ACC_LOGIN, api_proposals_post,
     "Proposer une fiche-action"},
    {M_POST, "/api/v1/proposals/{proposal}/cotech", ACC_LOGIN, api_cotech,
     "Avis du COTECH sur une proposition"},
    {M_POST, "/api/v1/proposals/{proposal}/copil", ACC_LOGIN, api_copil,
     "Arbitrage du COPIL sur une proposition"},
    {M_POST, "/api/v1/proposals/{proposal}/postpone", ACC_LOGIN, api_postpone,
     "Reporter une proposition ajournée à l’année suivante"},
    {M_POST, "/api/v1/plans/{plan}/cycle/{year}/close", ACC_LOGIN, api_close,
     "Clôturer une année et figer son annexe"},
    {M_GET, "/api/v1/plans/{plan}/annexes", ACC_PUBLIC, api_annexes, "Années clôturées d’un plan"},
    {M_GET, "/api/v1/plans/{plan}/annexes/{year}", ACC_PUBLIC, api_annex,
     "Annexe figée d’une année"},
    {0},
};
