/* fiche_rules: labels, plan lookup, edit rights and audit snapshots of fiches-actions. */
#include "fiches.h"

#include "db.h"
#include "plans.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
	const char *value, *label;
} statuses[] = {
    {"proposee", "Proposée"}, {"retenue", "Retenue"},       {"en_cours", "En cours"},
    {"achevee", "Achevée"},   {"abandonnee", "Abandonnée"}, {"ajournee", "Ajournée"},
};

static const struct {
	const char *value, *label;
} progresses[] = {
    {"non_engagee", "Non engagée"},
    {"peu_engagee", "Peu engagée"},
    {"bien_engagee", "Bien engagée"},
    {"achevee", "Achevée"},
};

#define LOOKUP(table, v, field)                                                                    \
	do {                                                                                       \
		for (size_t i_ = 0; (v) && i_ < sizeof table / sizeof *table; i_++)                \
			if (!strcmp(table[i_].value, (v)))                                         \
				return field;                                                      \
	} while (0)

const char *fiche_status_label(const char *status)
{
	LOOKUP(statuses, status, statuses[i_].label);
	return "?";
}

const char *fiche_progress_label(const char *progress)
{
	LOOKUP(progresses, progress, progresses[i_].label);
	return "?";
}

int fiche_status_valid(const char *status)
{
	LOOKUP(statuses, status, 1);
	return 0;
}

int fiche_progress_valid(const char *progress)
{
	LOOKUP(progresses, progress, 1);
	return 0;
}

int fiche_status_closes(const char *status)
{
	return status && (!strcmp(status, "achevee") || !strcmp(status, "abandonnee"));
}

int64_t node_plan(struct db *db, int64_t node_id)
{
	int64_t plan = 0;
	if (db_int64f(db, &plan, "SELECT plan_id FROM nodes WHERE id = ?", "I", node_id) != DB_OK)
		return 0;
	return plan;
}

int node_is_fiche(struct db *db, int64_t node_id)
{
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM fiches WHERE node_id = ?", "I", node_id);
	return n > 0;
}

int node_require(struct req *r, int64_t node_id, enum role min, int64_t *plan_id)
{
	int64_t plan = node_plan(r->db, node_id);
	if (!plan || plan_role(r, plan) == ROLE_NONE) {
		resp_error(r, 404, "Cet élément n'existe pas ou n'est pas visible pour vous.");
		return -1;
	}
	if (plan_require(r, plan, min))
		return -1;
	if (plan_id)
		*plan_id = plan;
	return 0;
}

int fiche_can_edit(struct req *r, int64_t node_id)
{
	int64_t plan = node_plan(r->db, node_id);
	if (!plan || !r->user)
		return 0;
	enum role role = plan_role(r, plan);
	if (role >= ROLE_COORDINATOR)
		return 1;
	if (role != ROLE_PILOT)
		return 0;
	int64_t n = 0;
	db_int64f(r->db, &n, "SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ? AND user_id = ?",
	          "II", node_id, r->user->id);
	return n > 0;
}

int fiche_require_edit(struct req *r, int64_t node_id)
{
	if (node_require(r, node_id, ROLE_PUBLIC, NULL))
		return -1;
	if (!node_is_fiche(r->db, node_id)) {
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return -1;
	}
	if (!fiche_can_edit(r, node_id)) {
		resp_error(r, r->user ? 403 : 401,
		           r->user ? "Seuls les pilotes de cette fiche et la coordination du plan "
		                     "peuvent la modifier."
		                   : "Connectez-vous pour modifier cette fiche.");
		return -1;
	}
	return 0;
}

/* A JSON array of the first column of a query bound to one id. */
static json_t *column_list(struct db *db, const char *sql, int64_t id)
{
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(arr,
		                      json_string(db_col_text(st, 0) ? db_col_text(st, 0) : ""));
	db_finalize(st);
	return arr;
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *fiche_snapshot(struct db *db, int64_t node_id)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.title, n.description, f.status, f.progress, f.start_date, f.end_date, "
	    "f.expected_results, f.human_means, f.closing_note, n.number "
	    "FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE f.node_id = ?",
	    "I", node_id);
	if (!st)
		return NULL;
	json_t *j = NULL;
	if (db_step(st) == DB_ROW)
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s}", "number",
		              db_col_text(st, 9), "title", db_col_text(st, 0), "description",
		              db_col_text(st, 1), "status", db_col_text(st, 2), "progress",
		              db_col_text(st, 3), "start_date", text_or_null(db_col_text(st, 4)),
		              "end_date", text_or_null(db_col_text(st, 5)), "expected_results",
		              db_col_text(st, 6), "human_means", db_col_text(st, 7), "closing_note",
		              db_col_text(st, 8));
	db_finalize(st);
	if (!j)
		return NULL;
	json_object_set_new(j, "pilots",
	                    column_list(db,
	                                "SELECT COALESCE(u.name, a.name) FROM fiche_pilots p "
	                                "LEFT JOIN users u ON u.id = p.user_id "
	                                "LEFT JOIN actors a ON a.id = p.actor_id "
	                                "WHERE p.node_id = ? ORDER BY 1",
	                                node_id));
	json_object_set_new(j, "partners",
	                    column_list(db,
	                                "SELECT a.name FROM fiche_partners p JOIN actors a "
	                                "ON a.id = p.actor_id WHERE p.node_id = ? ORDER BY 1",
	                                node_id));
	json_object_set_new(j, "publics",
	                    column_list(db,
	                                "SELECT label FROM fiche_publics WHERE node_id = ? "
	                                "ORDER BY label",
	                                node_id));
	json_object_set_new(j, "communes",
	                    column_list(db,
	                                "SELECT commune FROM fiche_communes WHERE node_id = ? "
	                                "ORDER BY commune",
	                                node_id));
	json_object_set_new(j, "impact_domains",
	                    column_list(db,
	                                "SELECT domain FROM fiche_impacts WHERE node_id = ? "
	                                "ORDER BY domain",
	                                node_id));
	json_t *lines = json_array();
	st = db_queryf(db,
	               "SELECT b.year, b.label, b.amount_cents, COALESCE(a.name, b.funder_name) "
	               "FROM budget_lines b LEFT JOIN actors a ON a.id = b.funder_actor_id "
	               "WHERE b.node_id = ? ORDER BY b.year NULLS FIRST, b.id",
	               "I", node_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    lines, json_pack("{s:o,s:s,s:I,s:s}", "year",
		                     db_col_is_null(st, 0) ? json_null()
		                                           : json_integer(db_col_int64(st, 0)),
		                     "label", db_col_text(st, 1), "amount_cents",
		                     (json_int_t)db_col_int64(st, 2), "funder",
		                     db_col_text(st, 3) ? db_col_text(st, 3) : ""));
	db_finalize(st);
	json_object_set_new(j, "budget_lines", lines);
	json_t *links = json_array();
	st = db_queryf(db, "SELECT label, url FROM fiche_links WHERE node_id = ? ORDER BY id", "I",
	               node_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(links, json_pack("{s:s,s:s}", "label", db_col_text(st, 0),
		                                       "url", db_col_text(st, 1)));
	db_finalize(st);
	json_object_set_new(j, "links", links);
	return j;
}

/* --- French formats ------------------------------------------------------------------------ */

#define NBSP  "\xc2\xa0"     /* U+00A0 no-break space */
#define NNBSP "\xe2\x80\xaf" /* U+202F narrow no-break space */
#define EURO  "\xe2\x82\xac" /* U+20AC euro sign */

/* Length of a group separator (space, no-break space, narrow no-break space) at s, or 0. */
static size_t group_sep(const char *s)
{
	if (*s == ' ')
		return 1;
	if (!strncmp(s, NBSP, 2))
		return 2;
	if (!strncmp(s, NNBSP, 3))
		return 3;
	return 0;
}

int fiche_amount_parse(const char *s, int64_t *cents)
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t' || group_sep(s))
		s += group_sep(s) ? group_sep(s) : 1;
	size_t n = strlen(s);
	/* A trailing euro sign and the spaces around it. */
	for (;;) {
		if (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
			n--;
		} else if (n >= 2 && !strncmp(s + n - 2, NBSP, 2)) {
			n -= 2;
		} else if (n >= 3 &&
		           (!strncmp(s + n - 3, NNBSP, 3) || !strncmp(s + n - 3, EURO, 3))) {
			if (!strncmp(s + n - 3, EURO, 3) && strstr(s, EURO) != s + n - 3)
				return -1; /* more than one euro sign */
			n -= 3;
		} else {
			break;
		}
	}
	if (!n)
		return -1;
	int64_t euros = 0;
	int digits = 0, last_was_digit = 0;
	size_t i = 0;
	while (i < n) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 13)
				return -1;
			euros = euros * 10 + (s[i] - '0');
			last_was_digit = 1;
			i++;
		} else if (group_sep(s + i) && last_was_digit && i + group_sep(s + i) < n) {
			i += group_sep(s + i);
			last_was_digit = 0;
			if (!(s[i] >= '0' && s[i] <= '9'))
				return -1;
		} else {
			break;
		}
	}
	if (!digits)
		return -1;
	int64_t frac = 0;
	if (i < n) {
		if (s[i] != ',' && s[i] != '.')
			return -1;
		i++;
		size_t nd = n - i;
		if (nd < 1 || nd > 2)
			return -1;
		for (size_t k = 0; k < nd; k++) {
			if (s[i + k] < '0' || s[i + k] > '9')
				return -1;
			frac = frac * 10 + (s[i + k] - '0');
		}
		if (nd == 1)
			frac *= 10;
	}
	int64_t v = euros * 100 + frac;
	if (v > FICHE_AMOUNT_MAX_CENTS)
		return -1;
	*cents = v;
	return 0;
}

void fiche_amount_format(char out[64], int64_t cents)
{
	if (cents < 0)
		cents = 0;
	char digits[32];
	snprintf(digits, sizeof digits, "%lld", (long long)(cents / 100));
	char *o = out;
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0) {
			memcpy(o, NNBSP, 3);
			o += 3;
		}
		*o++ = digits[i];
	}
	snprintf(o, (size_t)(out + 64 - o), ",%02d" NBSP EURO, (int)(cents % 100));
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Read YYYY-MM-DD at the start of s into y, m, d; 0 when it is a real date. */
static int date_read(const char *s, int *y, int *m, int *d)
{
	if (!s || strlen(s) < 10)
		return -1;
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	*y = atoi(s);
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	if (*y < 1900 || *y > 2999 || *m < 1 || *m > 12 || *d < 1 || *d > month_days(*y, *m))
		return -1;
	return 0;
}

int fiche_date_valid(const char *s)
{
	int y, m, d;
	return s && strlen(s) == 10 && date_read(s, &y, &m, &d) == 0;
}

static const char *const month_names[] = {"janvier",   "février", "mars",     "avril",
                                          "mai",       "juin",    "juillet",  "août",
                                          "septembre", "octobre", "novembre", "décembre"};

void fiche_date_fr(char out[64], const char *iso)
{
	int y, m, d;
	out[0] = '\0';
	if (date_read(iso, &y, &m, &d))
		return;
	snprintf(out, 64, "%d%s %s %d", d, d == 1 ? "er" : "", month_names[m - 1], y);
}

/* The day of the month of the last Sunday of month m (1-12) of year y. */
static int last_sunday(int y, int m)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = month_days(y, m), .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm out;
	gmtime_r(&t, &out);
	return month_days(y, m) - out.tm_wday;
}

/* A UTC time converted to Paris time (CET, CEST from the last Sunday of March to the last
 * Sunday of October, both at 01:00 UTC). */
static void paris_time(time_t utc, struct tm *out)
{
	struct tm u;
	gmtime_r(&utc, &u);
	int y = u.tm_year + 1900;
	struct tm start = {
	    .tm_year = y - 1900, .tm_mon = 2, .tm_mday = last_sunday(y, 3), .tm_hour = 1};
	struct tm end = {
	    .tm_year = y - 1900, .tm_mon = 9, .tm_mday = last_sunday(y, 10), .tm_hour = 1};
	int summer = utc >= timegm(&start) && utc < timegm(&end);
	time_t local = utc + (summer ? 7200 : 3600);
	gmtime_r(&local, out);
}

void fiche_datetime_fr(char out[64], const char *iso)
{
	int y, m, d;
	out[0] = '\0';
	if (date_read(iso, &y, &m, &d))
		return;
	int hh, mm, ss;
	if (strlen(iso) < 19 || iso[10] != 'T' ||
	    sscanf(iso + 11, "%2d:%2d:%2d", &hh, &mm, &ss) != 3) {
		fiche_date_fr(out, iso);
		return;
	}
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = m - 1,
	                .tm_mday = d,
	                .tm_hour = hh,
	                .tm_min = mm,
	                .tm_sec = ss};
	struct tm p;
	paris_time(timegm(&tm), &p);
	snprintf(out, 64, "%d%s %s %d à %d h %02d", p.tm_mday, p.tm_mday == 1 ? "er" : "",
	         month_names[p.tm_mon], p.tm_year + 1900, p.tm_hour, p.tm_min);
}

void fiche_today(char out[16])
{
	struct tm p;
	paris_time(time(NULL), &p);
	snprintf(out, 16, "%04d-%02d-%02d", (p.tm_year + 1900) % 10000, (p.tm_mon + 1) % 100,
	         p.tm_mday % 100);
}
