/* indicators: the référentiel of indicators, the indicators of each fiche (baseline, targets,
 * frequency), measurements entered in forms, imported from CSV or sent to the API, the trend
 * against the targets and the measurements overdue. */
#include "indicators.h"

#include "audit.h"
#include "auth.h"
#include "csv_fr.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_CHARS       200  /* an indicator's name */
#define DEFINITION_MAX_CHARS 5000 /* its definition (Markdown) */
#define UNIT_MAX_CHARS       40
#define SOURCE_MAX_CHARS     200  /* data source of an indicator or of a measurement */
#define TEXT_MAX_CHARS       1000 /* a qualitative value or baseline */
#define COMMENT_MAX_CHARS    2000
#define IMPORT_MAX_ROWS      50000
#define IMPORT_MAX_ERRORS    300 /* errors kept and shown; the others are counted */
#define MEASUREMENTS_SHOWN   500 /* rows of the measurements table of one indicator */

/* --- labels and enumerations ------------------------------------------------------------ */

struct label {
	const char *value, *label;
};

static const struct label kinds[] = {
    {"realisation", "Réalisation"},
    {"impact", "Impact"},
};
static const struct label value_types[] = {
    {"number", "Nombre"},
    {"qualitative", "Qualitatif"},
};
static const struct label directions[] = {
    {"up", "À la hausse"},
    {"down", "À la baisse"},
};
static const struct label frequencies[] = {
    {"monthly", "Mensuelle"},
    {"quarterly", "Trimestrielle"},
    {"half_yearly", "Semestrielle"},
    {"yearly", "Annuelle"},
};
static const int frequency_months[] = {1, 3, 6, 12};

#define COUNT(a) (sizeof(a) / sizeof *(a))

static const char *label_of(const struct label *t, size_t n, const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (!strcmp(t[i].value, v))
			return t[i].label;
	return "?";
}

static int label_valid(const struct label *t, size_t n, const char *v)
{
	for (size_t i = 0; v && i < n; i++)
		if (!strcmp(t[i].value, v))
			return 1;
	return 0;
}

const char *indicator_kind_label(const char *kind)
{
	return label_of(kinds, COUNT(kinds), kind);
}

const char *indicator_value_type_label(const char *value_type)
{
	return label_of(value_types, COUNT(value_types), value_type);
}

const char *indicator_direction_label(const char *direction)
{
	return label_of(directions, COUNT(directions), direction);
}

const char *indicator_frequency_label(const char *frequency)
{
	return label_of(frequencies, COUNT(frequencies), frequency);
}

int indicator_frequency_months(const char *frequency)
{
	for (size_t i = 0; frequency && i < COUNT(frequencies); i++)
		if (!strcmp(frequencies[i].value, frequency))
			return frequency_months[i];
	return 0;
}

const char *indicator_level_label(int level)
{
	static const char *const levels[] = {"Insuffisant", "Fragile", "Satisfaisant",
	                                     "Très satisfaisant"};
	return level >= 1 && level <= 4 ? levels[level - 1] : "?";
}

const char *indicator_trend_label(enum indicator_trend trend)
{
	switch (trend) {
	case TREND_AHEAD:
		return "en avance";
	case TREND_ON_TRACK:
		return "conforme";
	case TREND_LATE:
		return "en retard";
	default:
		return "sans cible";
	}
}

const char *indicator_trend_code(enum indicator_trend trend)
{
	switch (trend) {
	case TREND_AHEAD:
		return "ahead";
	case TREND_ON_TRACK:
		return "on_track";
	case TREND_LATE:
		return "late";
	default:
		return "none";
	}
}

static const char *trend_badge(enum indicator_trend trend)
{
	switch (trend) {
	case TREND_AHEAD:
		return "badge badge-success";
	case TREND_ON_TRACK:
		return "badge badge-info";
	case TREND_LATE:
		return "badge badge-error";
	default:
		return "badge badge-neutral";
	}
}

/* The French label of an impact domain (static table of the schema), or NULL. */
static const struct label impact_domains[] = {
    {"cohesion-sociale-territoriale", "Cohésion sociale et territoriale"},
    {"pertinence-action-institutionnelle", "Pertinence de l'action institutionnelle"},
    {"transition-ecologique", "Transition écologique"},
    {"reduction-precarite-economique", "Réduction de la précarité économique"},
    {"parcours-de-vie", "Parcours de vie"},
    {"pouvoir-d-agir", "Pouvoir d'agir"},
    {"lien-social", "Lien social"},
};

static const char *domain_label(const char *slug)
{
	return slug ? label_of(impact_domains, COUNT(impact_domains), slug) : "";
}

/* --- small helpers ---------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A trimmed copy of s (NULL for NULL). */
static char *trim_or_null(const char *s)
{
	return s ? str_trim_dup(s) : NULL;
}

static json_t *json_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

static int is_blank(const char *s)
{
	return str_blank(s);
}

/* 1 when the request's account has the global role coordinator or administrator. */
static int can_edit_referentiel(struct req *r)
{
	return r->user && r->user->role >= ROLE_COORDINATOR;
}

/* --- numbers --------------------------------------------------------------------------------- */

#define NBSP  "\xc2\xa0"     /* U+00A0 */
#define NNBSP "\xe2\x80\xaf" /* U+202F */

/* Length of a digit-group separator at s (space, no-break space, narrow no-break space), or 0. */
static size_t group_sep_len(const char *s)
{
	if (*s == ' ')
		return 1;
	if (!strncmp(s, NBSP, 2))
		return 2;
	if (!strncmp(s, NNBSP, 3))
		return 3;
	return 0;
}

int indicator_number_parse(const char *s, double *out)
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || group_sep_len(s))
		s += group_sep_len(s) ? group_sep_len(s) : 1;
	size_t n = strlen(s);
	while (n) {
		if (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')
			n--;
		else if (n >= 2 && !strncmp(s + n - 2, NBSP, 2))
			n -= 2;
		else if (n >= 3 && !strncmp(s + n - 3, NNBSP, 3))
			n -= 3;
		else
			break;
	}
	if (!n)
		return -1;
	size_t i = 0;
	int negative = 0;
	if (s[0] == '-' || s[0] == '+') {
		negative = s[0] == '-';
		i = 1;
	}
	int64_t mantissa = 0;
	int digits = 0, significant = 0, frac_digits = 0, in_frac = 0, group_digits = 0;
	int grouped = 0;
	while (i < n) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			if (significant || c != '0')
				significant++;
			if (significant > 15)
				return -1;
			mantissa = mantissa * 10 + (c - '0');
			digits++;
			group_digits++;
			if (in_frac)
				frac_digits++;
			i++;
		} else if (!in_frac && (c == ',' || c == '.')) {
			if (!digits || (grouped && group_digits != 3))
				return -1;
			in_frac = 1;
			group_digits = 0;
			i++;
			if (i >= n)
				return -1; /* "12," */
		} else if (!in_frac && group_sep_len(s + i) && digits) {
			/* Groups of three after the first one. */
			if ((grouped && group_digits != 3) || group_digits > 3)
				return -1;
			grouped = 1;
			group_digits = 0;
			i += group_sep_len(s + i);
			if (i >= n || s[i] < '0' || s[i] > '9')
				return -1;
		} else {
			return -1;
		}
	}
	if (!digits || (grouped && !in_frac && group_digits != 3))
		return -1;
	double v = (double)mantissa;
	for (int k = 0; k < frac_digits; k++)
		v /= 10.0;
	*out = negative ? -v : v;
	return 0;
}

/* v written with up to `decimals` decimals (trailing zeros dropped), a decimal comma, and, when
 * group is set, digit groups separated by a narrow no-break space. */
static void number_write(char out[64], double v, int decimals, int group)
{
	char tmp[64];
	if (!isfinite(v)) {
		snprintf(out, 64, "?");
		return;
	}
	snprintf(tmp, sizeof tmp, "%.*f", decimals, fabs(v));
	char *dot = strchr(tmp, '.');
	if (dot) {
		char *end = tmp + strlen(tmp) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*dot = '\0';
	}
	dot = strchr(tmp, '.');
	size_t int_len = dot ? (size_t)(dot - tmp) : strlen(tmp);
	int is_zero = 1;
	for (const char *p = tmp; *p; p++)
		if (*p >= '1' && *p <= '9')
			is_zero = 0;
	char *o = out;
	if (v < 0 && !is_zero)
		*o++ = '-';
	for (size_t i = 0; i < int_len; i++) {
		if (group && i && (int_len - i) % 3 == 0) {
			memcpy(o, NNBSP, 3);
			o += 3;
		}
		*o++ = tmp[i];
	}
	if (dot) {
		*o++ = ',';
		for (const char *p = dot + 1; *p && o < out + 62; p++)
			*o++ = *p;
	}
	*o = '\0';
}

void indicator_number_format(char out[64], double v)
{
	number_write(out, v, 2, 1);
}

/* v as typed back into a form field: no grouping, up to six decimals. */
static void number_plain(char out[64], double v)
{
	number_write(out, v, 6, 0);
}

/* --- dates ---------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long yy = yoe + era * 400;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* Days since the epoch of a YYYY-MM-DD date (only its first ten characters are read), or
 * LONG_MIN-like sentinel -1000000 when it is not a date. */
#define NO_DAYS (-1000000L)
static long date_days(const char *s)
{
	if (!s || strlen(s) < 10)
		return NO_DAYS;
	char d10[11];
	memcpy(d10, s, 10);
	d10[10] = '\0';
	if (!fiche_date_valid(d10))
		return NO_DAYS;
	return days_from_civil(atoi(d10), atoi(d10 + 5), atoi(d10 + 8));
}

static void date_from_days(long days, char out[16])
{
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

static int month_length(int y, int m)
{
	static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : len[m - 1];
}

int indicator_add_months(const char *from, int months, char out[16])
{
	if (date_days(from) == NO_DAYS)
		return -1;
	int y = atoi(from), m = atoi(from + 5), d = atoi(from + 8);
	long total = (long)y * 12 + (m - 1) + months;
	y = (int)(total / 12);
	m = (int)(total % 12) + 1;
	if (d > month_length(y, m))
		d = month_length(y, m);
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
	return 0;
}

/*
 * Read a date typed by a person: YYYY-MM-DD or JJ/MM/AAAA (also with one-digit day or month),
 * surrounding spaces ignored. Writes YYYY-MM-DD into out and returns 0, or -1.
 */
static int date_read_any(const char *s, char out[16])
{
	if (!s)
		return -1;
	while (*s == ' ' || *s == '\t')
		s++;
	char buf[16];
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (n == 10 && buf[4] == '-') {
		if (!fiche_date_valid(buf))
			return -1;
		memcpy(out, buf, 11);
		return 0;
	}
	int d, m, y;
	char extra;
	if (sscanf(buf, "%2d/%2d/%4d%c", &d, &m, &y, &extra) != 3 || y < 1000 || y > 9999 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	/* Only digits and slashes. */
	for (size_t i = 0; i < n; i++)
		if (buf[i] != '/' && (buf[i] < '0' || buf[i] > '9'))
			return -1;
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
	return fiche_date_valid(out) ? 0 : -1;
}

/* Today and tomorrow in Paris, YYYY-MM-DD. */
static void today_and_tomorrow(char today[16], char tomorrow[16])
{
	fiche_today(today);
	if (tomorrow)
		date_from_days(date_days(today) + 1, tomorrow);
}

static void date_fr(char out[64], const char *iso)
{
	fiche_date_fr(out, iso);
}

/* --- trend --------------------------------------------------------------------------------------
 */

enum indicator_trend indicator_trend_compute(int direction_up, int has_baseline,
                                             double baseline_value, const char *baseline_date,
                                             const struct indicator_target *targets,
                                             size_t ntargets, double value, const char *date,
                                             double *expected)
{
	long day = date_days(date);
	if (day == NO_DAYS)
		return TREND_NONE;
	int year = atoi(date);
	const struct indicator_target *target = NULL, *previous = NULL;
	for (size_t i = 0; i < ntargets; i++) {
		if (targets[i].year == year)
			target = &targets[i];
		else if (targets[i].year == year - 1)
			previous = &targets[i];
	}
	if (!target)
		return TREND_NONE;
	double tv = target->value, exp = tv, path = fabs(tv);
	long end = days_from_civil(year, 12, 31);
	long start = NO_DAYS;
	double sv = 0;
	if (previous) {
		start = days_from_civil(year - 1, 12, 31);
		sv = previous->value;
	} else if (has_baseline && date_days(baseline_date) != NO_DAYS &&
	           date_days(baseline_date) < day) {
		start = date_days(baseline_date);
		sv = baseline_value;
	}
	if (start != NO_DAYS && end > start) {
		double frac = (double)(day - start) / (double)(end - start);
		if (frac < 0)
			frac = 0;
		if (frac > 1)
			frac = 1;
		exp = sv + (tv - sv) * frac;
		path = fabs(tv - sv);
	}
	double tolerance = 0.1 * path;
	double gap = (value - exp) * (direction_up ? 1.0 : -1.0);
	if (expected)
		*expected = exp;
	/* A small epsilon keeps values equal to the boundary on track despite rounding. */
	double eps = 1e-9 * (fabs(exp) + 1.0);
	if (gap > tolerance + eps)
		return TREND_AHEAD;
	if (gap < -tolerance - eps)
		return TREND_LATE;
	return TREND_ON_TRACK;
}

/* --- one indicator ------------------------------------------------------------------------------
 */

/* An indicator definition. Every string is owned (impact_domain NULL when none). */
struct indicator {
	int64_t id;
	char *name, *definition, *unit, *kind, *value_type, *impact_domain, *source, *direction;
	int shared;
};

static void indicator_free(struct indicator *in)
{
	free(in->name);
	free(in->definition);
	free(in->unit);
	free(in->kind);
	free(in->value_type);
	free(in->impact_domain);
	free(in->source);
	free(in->direction);
	memset(in, 0, sizeof *in);
}

#define INDICATOR_COLUMNS                                                                          \
	"i.id, i.name, i.definition, i.unit, i.kind, i.value_type, i.impact_domain, i.source, "    \
	"i.direction, i.shared"

/* Read the INDICATOR_COLUMNS of the current row from column `first` into in. */
static void indicator_read(struct db_stmt *st, int first, struct indicator *in)
{
	in->id = db_col_int64(st, first);
	in->name = xstrdup(db_col_text(st, first + 1));
	in->definition = xstrdup(db_col_text(st, first + 2) ? db_col_text(st, first + 2) : "");
	in->unit = xstrdup(db_col_text(st, first + 3) ? db_col_text(st, first + 3) : "");
	in->kind = xstrdup(db_col_text(st, first + 4));
	in->value_type = xstrdup(db_col_text(st, first + 5));
	in->impact_domain = dup_or_null(db_col_text(st, first + 6));
	in->source = xstrdup(db_col_text(st, first + 7) ? db_col_text(st, first + 7) : "");
	in->direction = xstrdup(db_col_text(st, first + 8));
	in->shared = (int)db_col_int64(st, first + 9);
}

/* Load indicator id into in (zeroed here): 1 found, 0 missing, -1 error. Free with
 * indicator_free in every case. */
static int indicator_load(struct db *db, int64_t id, struct indicator *in)
{
	memset(in, 0, sizeof *in);
	struct db_stmt *st =
	    db_queryf(db, "SELECT " INDICATOR_COLUMNS " FROM indicators i WHERE i.id = ?", "I", id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW)
		indicator_read(st, 0, in);
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

static json_t *indicator_json(const struct indicator *in)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b}", "id", (json_int_t)in->id,
	                 "name", in->name, "definition", in->definition, "unit", in->unit, "kind",
	                 in->kind, "value_type", in->value_type, "impact_domain",
	                 json_text(in->impact_domain), "source", in->source, "direction",
	                 in->direction, "shared", in->shared);
}

/*
 * Read the definition fields of an indicator from the form into in (replacing its strings;
 * id and shared kept). Returns NULL when they are acceptable, else a French message (static).
 * A value type change is refused when `has_measurements` is set.
 */
static const char *indicator_from_form(struct req *r, struct indicator *in, int has_measurements)
{
	char *old_type = in->value_type ? xstrdup(in->value_type) : NULL;
	free(in->name);
	free(in->definition);
	free(in->unit);
	free(in->kind);
	free(in->value_type);
	free(in->impact_domain);
	free(in->source);
	free(in->direction);
	in->name = trim_or_null(req_form(r, "name"));
	in->definition = xstrdup(req_form(r, "definition") ? req_form(r, "definition") : "");
	in->unit = trim_or_null(req_form(r, "unit"));
	in->kind = trim_or_null(req_form(r, "kind"));
	in->value_type = trim_or_null(req_form(r, "value_type"));
	in->impact_domain = trim_or_null(req_form(r, "impact_domain"));
	in->source = trim_or_null(req_form(r, "source"));
	in->direction = trim_or_null(req_form(r, "direction"));
	if (!in->name)
		in->name = xstrdup("");
	if (!in->unit)
		in->unit = xstrdup("");
	if (!in->source)
		in->source = xstrdup("");
	if (in->impact_domain && (!*in->impact_domain || !strcmp(in->impact_domain, "aucun"))) {
		free(in->impact_domain);
		in->impact_domain = NULL;
	}
	const char *why = NULL;
	if (!*in->name)
		why = "Donnez un nom à l'indicateur.";
	else if (text_chars(in->name) > NAME_MAX_CHARS)
		why = "Le nom est limité à 200 caractères.";
	else if (text_chars(in->definition) > DEFINITION_MAX_CHARS)
		why = "La définition est limitée à 5 000 caractères.";
	else if (text_chars(in->unit) > UNIT_MAX_CHARS)
		why = "L'unité est limitée à 40 caractères.";
	else if (!label_valid(kinds, COUNT(kinds), in->kind))
		why = "Choisissez le type d'indicateur : réalisation ou impact.";
	else if (!label_valid(value_types, COUNT(value_types), in->value_type))
		why = "Choisissez le type de valeur : nombre ou qualitatif.";
	else if (in->impact_domain &&
	         !label_valid(impact_domains, COUNT(impact_domains), in->impact_domain))
		why = "Ce domaine d'impact n'existe pas : choisissez-en un dans la liste.";
	else if (text_chars(in->source) > SOURCE_MAX_CHARS)
		why = "La source des données est limitée à 200 caractères.";
	else if (!label_valid(directions, COUNT(directions), in->direction))
		why = "Choisissez le sens d'évolution souhaité : à la hausse ou à la baisse.";
	else if (has_measurements && old_type && strcmp(old_type, in->value_type) != 0)
		why = "Le type de valeur ne peut plus changer : des mesures ont déjà été saisies "
		      "pour cet indicateur.";
	/* Keep the form printable even when a field was missing. */
	if (!in->kind)
		in->kind = xstrdup("");
	if (!in->value_type)
		in->value_type = xstrdup("");
	if (!in->direction)
		in->direction = xstrdup("");
	free(old_type);
	return why;
}

/* 1 when another shared indicator has the same name (case and accents ignored). */
static int shared_name_taken(struct db *db, const char *name, int64_t except_id)
{
	char *key = text_fold(name);
	int taken = 0;
	struct db_stmt *st = db_queryf(db, "SELECT id, name FROM indicators WHERE shared = 1", "");
	while (st && !taken && db_step(st) == DB_ROW) {
		if (db_col_int64(st, 0) == except_id)
			continue;
		char *other = text_fold(db_col_text(st, 1));
		taken = !strcmp(key, other);
		free(other);
	}
	db_finalize(st);
	free(key);
	return taken;
}

static int64_t indicator_measurement_count(struct db *db, int64_t indicator_id)
{
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM measurements m JOIN fiche_indicators fi "
	          "ON fi.id = m.fiche_indicator_id WHERE fi.indicator_id = ?",
	          "I", indicator_id);
	return n;
}

/* Insert in (id set on success) or update it, with its audit entry, in the caller's
 * transaction. DB_OK or an error. */
static int indicator_store(struct db *db, struct indicator *in, const struct indicator *before,
                           int64_t user_id, const char *origin)
{
	char now[32];
	time_iso_now(now);
	int rc;
	if (!in->id) {
		struct db_stmt *st = db_queryf(
		    db,
		    "INSERT INTO indicators (name, definition, unit, kind, value_type, "
		    "impact_domain, source, direction, shared, created_at, updated_at) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		    "ssssssssiss", in->name, in->definition, in->unit, in->kind, in->value_type,
		    in->impact_domain, in->source, in->direction, in->shared, now, now);
		rc = st && db_step(st) == DB_ROW ? DB_OK : DB_ERROR;
		if (rc == DB_OK)
			in->id = db_col_int64(st, 0);
		db_finalize(st);
	} else {
		rc = db_execf(db,
		              "UPDATE indicators SET name = ?, definition = ?, unit = ?, kind = ?, "
		              "value_type = ?, impact_domain = ?, source = ?, direction = ?, "
		              "updated_at = ? WHERE id = ?",
		              "sssssssssI", in->name, in->definition, in->unit, in->kind,
		              in->value_type, in->impact_domain, in->source, in->direction, now,
		              in->id);
	}
	if (rc != DB_OK)
		return rc;
	json_t *b = before ? indicator_json(before) : NULL;
	json_t *a = indicator_json(in);
	rc = audit_write_id(db, user_id, origin, before ? "update" : "create", "indicator", in->id,
	                    b, a);
	json_decref(b);
	json_decref(a);
	return rc;
}

/* --- référentiel pages -------------------------------------------------------------------------
 */

static void option(struct buf *o, const char *value, const char *label, const char *current)
{
	html_printf(o, "<option value=\"%s\"%R>%s</option>", value,
	            current && !strcmp(current, value) ? " selected" : "", label);
}

/* Radio buttons in a fieldset. */
static void radios(struct buf *o, const char *name, const char *legend, const char *hint,
                   const struct label *t, size_t n, const char *current)
{
	html_printf(o, "<fieldset class=\"field\"><legend>%s</legend>", legend);
	if (hint)
		html_printf(o, "<p class=\"hint\">%s</p>", hint);
	for (size_t i = 0; i < n; i++)
		html_printf(o,
		            "<label><input type=\"radio\" name=\"%s\" value=\"%s\"%R required> "
		            "%s</label> ",
		            name, t[i].value,
		            current && !strcmp(current, t[i].value) ? " checked" : "", t[i].label);
	buf_puts(o, "</fieldset>");
}

/* The fields of an indicator definition (inside a form). */
static void indicator_fields(struct buf *o, const struct indicator *in, int value_type_locked)
{
	html_printf(o,
	            "<div class=\"field\"><label for=\"i-name\">Nom de l'indicateur</label>"
	            "<input id=\"i-name\" name=\"name\" required maxlength=\"200\" value=\"%s\" "
	            "aria-describedby=\"i-name-hint\"><p class=\"hint\" id=\"i-name-hint\">Ce qui "
	            "est compté ou apprécié, par exemple « Nombre de familles accompagnées ».</p>"
	            "</div>",
	            in->name ? in->name : "");
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"i-definition\">Définition</label>"
	    "<textarea id=\"i-definition\" name=\"definition\" rows=\"5\" "
	    "maxlength=\"5000\" aria-describedby=\"i-definition-hint\">%s</textarea>"
	    "<p class=\"hint\" id=\"i-definition-hint\">Ce que l'indicateur mesure, comment "
	    "le calculer (Markdown, 5 000 caractères au plus).</p></div>",
	    in->definition ? in->definition : "");
	html_printf(o,
	            "<div class=\"field\"><label for=\"i-unit\">Unité</label>"
	            "<input id=\"i-unit\" name=\"unit\" maxlength=\"40\" value=\"%s\" "
	            "aria-describedby=\"i-unit-hint\"><p class=\"hint\" id=\"i-unit-hint\">Par "
	            "exemple « familles », « %% », « places pour 100 enfants ».</p></div>",
	            in->unit ? in->unit : "");
	radios(o, "kind", "Type d'indicateur",
	       "Réalisation : « ce qui est fait » (activité, personnes touchées) ; impact : « ce "
	       "que cela transforme » pour les habitants et le territoire.",
	       kinds, COUNT(kinds), in->kind);
	if (value_type_locked) {
		html_printf(o,
		            "<input type=\"hidden\" name=\"value_type\" value=\"%s\">"
		            "<div class=\"field\"><p class=\"label\">Type de valeur</p><p>%s "
		            "<span class=\"hint\">(ne peut plus changer : des mesures existent)"
		            "</span></p></div>",
		            in->value_type, indicator_value_type_label(in->value_type));
	} else {
		radios(o, "value_type", "Type de valeur",
		       "Nombre : une valeur chiffrée ; qualitatif : une appréciation écrite et un "
		       "niveau de 1 (insuffisant) à 4 (très satisfaisant).",
		       value_types, COUNT(value_types), in->value_type);
	}
	buf_puts(o, "<div class=\"field\"><label for=\"i-domain\">Domaine d'impact</label>"
	            "<select id=\"i-domain\" name=\"impact_domain\">");
	option(o, "", "Aucun", in->impact_domain ? in->impact_domain : "");
	for (size_t i = 0; i < COUNT(impact_domains); i++)
		option(o, impact_domains[i].value, impact_domains[i].label, in->impact_domain);
	buf_puts(o, "</select></div>");
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"i-source\">Source des données</label>"
	    "<input id=\"i-source\" name=\"source\" maxlength=\"200\" value=\"%s\" "
	    "aria-describedby=\"i-source-hint\"><p class=\"hint\" id=\"i-source-hint\">D'où "
	    "viennent les chiffres : fichier de suivi, Caf data, enquête…</p></div>",
	    in->source ? in->source : "");
	radios(o, "direction", "Sens d'évolution souhaité", NULL, directions, COUNT(directions),
	       in->direction);
}

/* The kind filter value of the list, or NULL. */
static const char *filter_kind(struct req *r)
{
	const char *k = req_query(r, "type");
	return k && label_valid(kinds, COUNT(kinds), k) ? k : NULL;
}

/* The domain filter: NULL (all), "aucun" or a domain slug. */
static const char *filter_domain(struct req *r)
{
	const char *d = req_query(r, "domaine");
	if (!d || !*d)
		return NULL;
	if (!strcmp(d, "aucun") || label_valid(impact_domains, COUNT(impact_domains), d))
		return d;
	return NULL;
}

/*
 * The shared indicators matching the filters, by kind then name: columns INDICATOR_COLUMNS then
 * the number of fiches of plans visible to the request that use each. Caller finalizes.
 */
static struct db_stmt *referentiel_select(struct req *r, const char *kind, const char *domain)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT " INDICATOR_COLUMNS ", (SELECT COUNT(*) FROM fiche_indicators fi "
	               "JOIN nodes n ON n.id = fi.node_id JOIN plans p ON p.id = n.plan_id "
	               "WHERE fi.indicator_id = i.id AND n.archived = 0 AND " PLAN_VISIBLE_WHERE
	               ") FROM indicators i WHERE i.shared = 1");
	if (kind)
		buf_puts(&sql, " AND i.kind = ?");
	if (domain && !strcmp(domain, "aucun"))
		buf_puts(&sql, " AND i.impact_domain IS NULL");
	else if (domain)
		buf_puts(&sql, " AND i.impact_domain = ?");
	buf_puts(&sql, " ORDER BY i.kind DESC, i.name, i.id");
	struct db_stmt *st = db_prepare(r->db, buf_str(&sql));
	buf_free(&sql);
	if (!st)
		return NULL;
	plan_bind_visible(st, 1, r);
	int i = 3;
	if (kind)
		db_bind_text(st, i++, kind);
	if (domain && strcmp(domain, "aucun") != 0)
		db_bind_text(st, i++, domain);
	return st;
}

static void referentiel_page(struct req *r)
{
	const char *kind = filter_kind(r), *domain = filter_domain(r);
	page_begin(r, "Référentiel des indicateurs", NULL);
	buf_puts(&r->out,
	         "<h1>Référentiel des indicateurs</h1>\n<p class=\"lead\">Les indicateurs partagés "
	         "entre les plans, dans lesquels chaque fiche-action choisit les siens : "
	         "<strong>« ce qui est fait »</strong> (indicateurs de réalisation, pour suivre "
	         "l'activité) et <strong>« ce que cela transforme »</strong> (indicateurs "
	         "d'impact, dans les sept domaines d'impact du cadre d'évaluation).</p>\n");
	if (can_edit_referentiel(r))
		buf_puts(&r->out, "<div class=\"actions\"><a class=\"button\" "
		                  "href=\"/indicateurs/nouveau\">Nouvel indicateur</a></div>\n");
	buf_puts(&r->out, "<form method=\"get\" action=\"/indicateurs\" class=\"form filters\">"
	                  "<div class=\"field\"><label for=\"f-type\">Type</label>"
	                  "<select id=\"f-type\" name=\"type\">");
	option(&r->out, "", "Tous", kind ? kind : "");
	option(&r->out, "realisation", "Réalisation (ce qui est fait)", kind);
	option(&r->out, "impact", "Impact (ce que cela transforme)", kind);
	buf_puts(&r->out, "</select></div><div class=\"field\"><label for=\"f-domaine\">Domaine "
	                  "d'impact</label><select id=\"f-domaine\" name=\"domaine\">");
	option(&r->out, "", "Tous", domain ? domain : "");
	option(&r->out, "aucun", "Sans domaine d'impact", domain);
	for (size_t i = 0; i < COUNT(impact_domains); i++)
		option(&r->out, impact_domains[i].value, impact_domains[i].label, domain);
	buf_puts(&r->out, "</select></div><div class=\"actions\"><button type=\"submit\" "
	                  "class=\"button\">Filtrer</button><a class=\"button secondary\" "
	                  "href=\"/indicateurs\">Tout afficher</a></div></form>\n");

	struct db_stmt *st = referentiel_select(r, kind, domain);
	if (!st) {
		resp_error(r, 500, "Lecture du référentiel impossible.");
		return;
	}
	struct buf rows = {0};
	int n = 0;
	while (db_step(st) == DB_ROW) {
		struct indicator in;
		indicator_read(st, 0, &in);
		html_printf(&rows,
		            "<tr><th scope=\"row\"><a href=\"/indicateurs/%lld\">%s</a></th>"
		            "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		            "<td class=\"num\">%lld</td></tr>\n",
		            (long long)in.id, in.name, indicator_kind_label(in.kind),
		            indicator_value_type_label(in.value_type),
		            in.impact_domain ? domain_label(in.impact_domain) : "—",
		            *in.unit ? in.unit : "—", indicator_direction_label(in.direction),
		            (long long)db_col_int64(st, 10));
		indicator_free(&in);
		n++;
	}
	db_finalize(st);
	html_printf(
	    &r->out,
	    "<p class=\"count\" role=\"status\">%d indicateur%s</p>\n<div class=\"table-wrap\" "
	    "tabindex=\"0\" role=\"region\" aria-labelledby=\"ref-caption\"><table>"
	    "<caption id=\"ref-caption\">Indicateurs du référentiel</caption><thead><tr>"
	    "<th scope=\"col\">Indicateur</th><th scope=\"col\">Type</th>"
	    "<th scope=\"col\">Valeur</th><th scope=\"col\">Domaine d'impact</th>"
	    "<th scope=\"col\">Unité</th><th scope=\"col\">Sens souhaité</th>"
	    "<th scope=\"col\" class=\"num\">Fiches</th></tr></thead><tbody>\n%R"
	    "</tbody></table></div>\n",
	    n, n > 1 ? "s" : "", buf_str(&rows));
	if (!n)
		buf_puts(&r->out, "<p>Aucun indicateur ne correspond à ces critères.</p>\n");
	buf_free(&rows);
	page_end(r);
}

/* The facts of an indicator definition as a <dl>. */
static void indicator_facts(struct buf *o, const struct indicator *in)
{
	html_printf(o,
	            "<dl class=\"facts\"><div><dt>Type</dt><dd>%s — %s</dd></div>"
	            "<div><dt>Valeur</dt><dd>%s</dd></div>"
	            "<div><dt>Domaine d'impact</dt><dd>%s</dd></div>"
	            "<div><dt>Unité</dt><dd>%s</dd></div>"
	            "<div><dt>Sens d'évolution souhaité</dt><dd>%s</dd></div>"
	            "<div><dt>Source des données</dt><dd>%s</dd></div></dl>\n",
	            indicator_kind_label(in->kind),
	            !strcmp(in->kind, "impact") ? "ce que cela transforme" : "ce qui est fait",
	            indicator_value_type_label(in->value_type),
	            in->impact_domain ? domain_label(in->impact_domain) : "aucun",
	            *in->unit ? in->unit : "—", indicator_direction_label(in->direction),
	            *in->source ? in->source : "non précisée");
}

static void indicator_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	struct indicator in;
	int found = indicator_load(r->db, id, &in);
	/* Fiche-specific indicators are seen through their fiche only. */
	if (found <= 0 || !in.shared) {
		indicator_free(&in);
		resp_error(r, 404, "Cet indicateur n'existe pas dans le référentiel.");
		return;
	}
	page_begin(r, in.name,
	           (const struct crumb[]){{"Indicateurs", "/indicateurs"}, {NULL, NULL}});
	html_printf(&r->out, "<p class=\"eyebrow\">Référentiel des indicateurs</p>\n<h1>%s</h1>\n",
	            in.name);
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "modifie"))
		page_notice(r, "success", "Indicateur modifié.");
	else if (ok && !strcmp(ok, "cree"))
		page_notice(r, "success", "Indicateur ajouté au référentiel.");
	if (can_edit_referentiel(r))
		html_printf(&r->out,
		            "<div class=\"actions\"><a class=\"button secondary\" "
		            "href=\"/indicateurs/%lld/modifier\">Modifier l'indicateur</a></div>\n",
		            (long long)id);
	indicator_facts(&r->out, &in);
	if (!is_blank(in.definition)) {
		buf_puts(&r->out, "<section aria-labelledby=\"def\"><h2 id=\"def\">Définition</h2>"
		                  "<div class=\"prose\">");
		markdown_render(&r->out, in.definition);
		buf_puts(&r->out, "</div></section>\n");
	}
	/* The fiches of visible plans that use it. */
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT fi.id, n.id, n.number, n.title, p.id, p.title FROM fiche_indicators fi "
	           "JOIN nodes n ON n.id = fi.node_id JOIN plans p ON p.id = n.plan_id "
	           "WHERE fi.indicator_id = ? AND n.archived = 0 AND " PLAN_VISIBLE_WHERE
	           " ORDER BY p.title, p.id, n.number");
	buf_puts(&r->out, "<section aria-labelledby=\"usage\"><h2 id=\"usage\">Fiches-actions qui "
	                  "le suivent</h2>");
	int n = 0;
	int64_t plan = 0;
	if (st) {
		db_bind_int64(st, 1, id);
		plan_bind_visible(st, 2, r);
		/* Grouped by plan. */
		while (db_step(st) == DB_ROW) {
			if (!n++ || db_col_int64(st, 4) != plan) {
				plan = db_col_int64(st, 4);
				html_printf(
				    &r->out, "%R<h3><a href=\"/plans/%lld\">%s</a></h3><ul>",
				    n > 1 ? "</ul>" : "", (long long)plan, db_col_text(st, 5));
			}
			html_printf(
			    &r->out, "<li><a href=\"/indicateurs-fiche/%lld\">%s %s</a></li>",
			    (long long)db_col_int64(st, 0), db_col_text(st, 2), db_col_text(st, 3));
		}
		db_finalize(st);
	}
	buf_puts(&r->out,
	         n ? "</ul>" : "<p>Aucune fiche-action visible ne suit cet indicateur.</p>");
	buf_puts(&r->out, "</section>\n");
	indicator_free(&in);
	page_end(r);
}

/* The form creating or changing a référentiel indicator. */
static void referentiel_form(struct req *r, const struct indicator *in, const char *error,
                             int locked)
{
	const char *title = in->id ? "Modifier un indicateur" : "Nouvel indicateur";
	page_begin(r, title, (const struct crumb[]){{"Indicateurs", "/indicateurs"}, {NULL, NULL}});
	html_printf(&r->out, "<div class=\"narrow\"><h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	if (in->id)
		html_printf(&r->out,
		            "<form method=\"post\" action=\"/indicateurs/%lld/modifier\" "
		            "class=\"form\">",
		            (long long)in->id);
	else
		buf_puts(&r->out, "<form method=\"post\" action=\"/indicateurs/nouveau\" "
		                  "class=\"form\">");
	page_csrf(r);
	indicator_fields(&r->out, in, locked);
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">%s</button>"
	            "<a class=\"button secondary\" href=\"/indicateurs\">Annuler</a></div></form>"
	            "</div>\n",
	            in->id ? "Enregistrer" : "Ajouter au référentiel");
	page_end(r);
}

/* Refuse (403) unless the account may edit the référentiel; -1 when refused. */
static int referentiel_require(struct req *r)
{
	if (!can_edit_referentiel(r)) {
		resp_error(r, 403,
		           "Seuls les coordinateurs et les administrateurs peuvent modifier "
		           "le référentiel des indicateurs.");
		return -1;
	}
	return 0;
}

static void referentiel_new(struct req *r)
{
	if (referentiel_require(r))
		return;
	struct indicator in = {.shared = 1};
	if (r->method == M_GET) {
		in.kind = xstrdup("realisation");
		in.value_type = xstrdup("number");
		in.direction = xstrdup("up");
		referentiel_form(r, &in, NULL, 0);
		indicator_free(&in);
		return;
	}
	const char *why = indicator_from_form(r, &in, 0);
	if (!why && shared_name_taken(r->db, in.name, 0))
		why = "Un indicateur du référentiel porte déjà ce nom.";
	if (why) {
		referentiel_form(r, &in, why, 0);
		r->status = 422;
		indicator_free(&in);
		return;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = indicator_store(r->db, &in, NULL, r->user->id, "web");
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	int64_t id = in.id;
	indicator_free(&in);
	if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement de l'indicateur a échoué.");
		return;
	}
	char loc[64];
	snprintf(loc, sizeof loc, "/indicateurs/%lld?ok=cree", (long long)id);
	resp_redirect(r, loc);
}

static void referentiel_edit(struct req *r)
{
	int64_t id;
	if (referentiel_require(r) || req_param_id(r, 0, &id))
		return;
	struct indicator before, in;
	int found = indicator_load(r->db, id, &before);
	if (found <= 0 || !before.shared) {
		indicator_free(&before);
		resp_error(r, 404, "Cet indicateur n'existe pas dans le référentiel.");
		return;
	}
	int locked = indicator_measurement_count(r->db, id) > 0;
	if (r->method == M_GET) {
		referentiel_form(r, &before, NULL, locked);
		indicator_free(&before);
		return;
	}
	indicator_load(r->db, id, &in);
	const char *why = indicator_from_form(r, &in, locked);
	if (!why && shared_name_taken(r->db, in.name, id))
		why = "Un autre indicateur du référentiel porte déjà ce nom.";
	if (why) {
		referentiel_form(r, &in, why, locked);
		r->status = 422;
		indicator_free(&in);
		indicator_free(&before);
		return;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = indicator_store(r->db, &in, &before, r->user->id, "web");
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	indicator_free(&in);
	indicator_free(&before);
	if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement de l'indicateur a échoué.");
		return;
	}
	char loc[64];
	snprintf(loc, sizeof loc, "/indicateurs/%lld?ok=modifie", (long long)id);
	resp_redirect(r, loc);
}

/* --- fiches and their indicators ------------------------------------------------------------- */

/* A fiche-action with what its indicator pages show. Strings owned (NULL when absent). */
struct fiche_ctx {
	int64_t node_id, plan_id;
	char *number, *title, *plan_title, *status, *start_date, *end_date;
	int plan_start, plan_end; /* years of the plan's period; 0 when unknown */
};

static void fiche_ctx_free(struct fiche_ctx *f)
{
	free(f->number);
	free(f->title);
	free(f->plan_title);
	free(f->status);
	free(f->start_date);
	free(f->end_date);
	memset(f, 0, sizeof *f);
}

/* Load fiche node_id: 1 found, 0 when the node is not a fiche, -1 on error. */
static int fiche_ctx_load(struct db *db, int64_t node_id, struct fiche_ctx *f)
{
	memset(f, 0, sizeof *f);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.id, n.plan_id, n.number, n.title, p.title, f.status, f.start_date, "
	    "f.end_date, p.start_year, p.end_year FROM fiches f JOIN nodes n ON n.id = f.node_id "
	    "JOIN plans p ON p.id = n.plan_id WHERE f.node_id = ?",
	    "I", node_id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW) {
		f->node_id = db_col_int64(st, 0);
		f->plan_id = db_col_int64(st, 1);
		f->number = xstrdup(db_col_text(st, 2));
		f->title = xstrdup(db_col_text(st, 3));
		f->plan_title = xstrdup(db_col_text(st, 4));
		f->status = xstrdup(db_col_text(st, 5));
		f->start_date = dup_or_null(db_col_text(st, 6));
		f->end_date = dup_or_null(db_col_text(st, 7));
		f->plan_start = db_col_is_null(st, 8) ? 0 : (int)db_col_int64(st, 8);
		f->plan_end = db_col_is_null(st, 9) ? 0 : (int)db_col_int64(st, 9);
	}
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/* The years targets may be set for: the plan's period, else the fiche's, else around today. */
static void target_years(const struct fiche_ctx *f, int *y0, int *y1)
{
	if (f->plan_start && f->plan_end && f->plan_end >= f->plan_start &&
	    f->plan_end - f->plan_start <= 30) {
		*y0 = f->plan_start;
		*y1 = f->plan_end;
		return;
	}
	if (f->start_date && f->end_date && atoi(f->end_date) >= atoi(f->start_date) &&
	    atoi(f->end_date) - atoi(f->start_date) <= 30) {
		*y0 = atoi(f->start_date);
		*y1 = atoi(f->end_date);
		return;
	}
	char today[16];
	fiche_today(today);
	*y0 = atoi(today) - 1;
	*y1 = atoi(today) + 4;
}

/* One indicator of one fiche. Strings owned (NULL when absent). */
struct fiche_ind {
	int64_t id, node_id, plan_id;
	struct indicator ind;
	int has_baseline_value;
	double baseline_value; /* qualitative: the baseline level */
	char *baseline_text, *baseline_date;
	char *frequency;
	struct indicator_target *targets; /* by year */
	size_t ntargets;
};

static void fiche_ind_free(struct fiche_ind *fi)
{
	indicator_free(&fi->ind);
	free(fi->baseline_text);
	free(fi->baseline_date);
	free(fi->frequency);
	free(fi->targets);
	memset(fi, 0, sizeof *fi);
}

static void fiche_inds_free(struct fiche_ind *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fiche_ind_free(&list[i]);
	free(list);
}

#define FICHE_IND_SELECT                                                                           \
	"SELECT fi.id, fi.node_id, n.plan_id, fi.baseline_value, fi.baseline_text, "               \
	"fi.baseline_date, fi.frequency, " INDICATOR_COLUMNS " FROM fiche_indicators fi "          \
	"JOIN indicators i ON i.id = fi.indicator_id JOIN nodes n ON n.id = fi.node_id "

static void fiche_ind_read(struct db_stmt *st, struct fiche_ind *fi)
{
	memset(fi, 0, sizeof *fi);
	fi->id = db_col_int64(st, 0);
	fi->node_id = db_col_int64(st, 1);
	fi->plan_id = db_col_int64(st, 2);
	fi->has_baseline_value = !db_col_is_null(st, 3);
	fi->baseline_value = fi->has_baseline_value ? db_col_double(st, 3) : 0;
	fi->baseline_text = dup_or_null(db_col_text(st, 4));
	fi->baseline_date = dup_or_null(db_col_text(st, 5));
	fi->frequency = xstrdup(db_col_text(st, 6));
	indicator_read(st, 7, &fi->ind);
}

static void fiche_ind_targets(struct db *db, struct fiche_ind *fi)
{
	free(fi->targets);
	fi->targets = NULL;
	fi->ntargets = 0;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT year, value FROM indicator_targets "
	                               "WHERE fiche_indicator_id = ? ORDER BY year",
	                               "I", fi->id);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		if (fi->ntargets == cap) {
			cap = cap ? cap * 2 : 8;
			fi->targets = xrealloc(fi->targets, cap * sizeof *fi->targets);
		}
		fi->targets[fi->ntargets].year = (int)db_col_int64(st, 0);
		fi->targets[fi->ntargets].value = db_col_double(st, 1);
		fi->ntargets++;
	}
	db_finalize(st);
}

/* Load fiche indicator id with its targets: 1 found, 0 missing, -1 error. */
static int fiche_ind_load(struct db *db, int64_t id, struct fiche_ind *fi)
{
	memset(fi, 0, sizeof *fi);
	struct db_stmt *st = db_queryf(db, FICHE_IND_SELECT "WHERE fi.id = ?", "I", id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW)
		fiche_ind_read(st, fi);
	db_finalize(st);
	if (rc == DB_ROW)
		fiche_ind_targets(db, fi);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/* The indicators of a fiche, réalisation first, then by name. 0 or -1. */
static int fiche_inds_list(struct db *db, int64_t node_id, struct fiche_ind **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_stmt *st = db_queryf(db,
	                               FICHE_IND_SELECT "WHERE fi.node_id = ? "
	                                                "ORDER BY i.kind DESC, i.name, fi.id",
	                               "I", node_id);
	if (!st)
		return -1;
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		fiche_ind_read(st, &(*out)[(*n)++]);
	}
	db_finalize(st);
	for (size_t i = 0; i < *n; i++)
		fiche_ind_targets(db, &(*out)[i]);
	return 0;
}

static int fiche_ind_qualitative(const struct fiche_ind *fi)
{
	return !strcmp(fi->ind.value_type, "qualitative");
}

/* The fiche indicator as JSON for the audit log (targets as {"2024": 10}). */
static json_t *fiche_ind_audit_json(const struct fiche_ind *fi)
{
	json_t *t = json_object();
	for (size_t i = 0; i < fi->ntargets; i++) {
		char y[16];
		snprintf(y, sizeof y, "%d", fi->targets[i].year);
		json_object_set_new(t, y, json_real(fi->targets[i].value));
	}
	return json_pack("{s:I,s:I,s:s,s:s,s:o,s:o,s:o,s:o}", "node_id", (json_int_t)fi->node_id,
	                 "indicator_id", (json_int_t)fi->ind.id, "indicator", fi->ind.name,
	                 "frequency", fi->frequency, "baseline_value",
	                 fi->has_baseline_value ? json_real(fi->baseline_value) : json_null(),
	                 "baseline_text", json_text(fi->baseline_text), "baseline_date",
	                 json_text(fi->baseline_date), "targets", t);
}

int indicator_state_load(struct db *db, int64_t fiche_indicator_id, struct indicator_state *out)
{
	memset(out, 0, sizeof *out);
	struct fiche_ind fi;
	if (fiche_ind_load(db, fiche_indicator_id, &fi) <= 0) {
		fiche_ind_free(&fi);
		return -1;
	}
	struct db_stmt *st = db_queryf(db,
	                               "SELECT measured_on, value, level FROM measurements "
	                               "WHERE fiche_indicator_id = ? "
	                               "ORDER BY measured_on DESC, id DESC LIMIT 1",
	                               "I", fi.id);
	if (st && db_step(st) == DB_ROW) {
		out->has_last = 1;
		snprintf(out->last_date, sizeof out->last_date, "%s", db_col_text(st, 0));
		out->last_value =
		    fiche_ind_qualitative(&fi) ? (double)db_col_int64(st, 2) : db_col_double(st, 1);
	}
	db_finalize(st);
	db_int64f(db, &out->measurements,
	          "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ?", "I", fi.id);
	if (out->has_last && !(fiche_ind_qualitative(&fi) && out->last_value < 1)) {
		out->trend = indicator_trend_compute(
		    strcmp(fi.ind.direction, "down") != 0, fi.has_baseline_value, fi.baseline_value,
		    fi.baseline_date, fi.targets, fi.ntargets, out->last_value, out->last_date,
		    &out->expected);
		out->has_expected = out->trend != TREND_NONE;
	}
	fiche_ind_free(&fi);
	return 0;
}

/*
 * The next measurement due for a fiche indicator whose reference date is `reference` (last
 * measurement, else baseline date, else fiche start; "" for none): writes the first due date
 * into due (or "" when nothing is due: no reference, or after the fiche's end) and returns how
 * many due dates are overdue as of today (grace included), 0 when none.
 */
static int due_compute(const char *reference, const char *frequency, const char *end_date,
                       const char *today, char due[16])
{
	due[0] = '\0';
	int months = indicator_frequency_months(frequency);
	if (!months || date_days(reference) == NO_DAYS)
		return 0;
	char first[16];
	if (indicator_add_months(reference, months, first))
		return 0;
	long end = date_days(end_date);
	if (end != NO_DAYS && date_days(first) > end)
		return 0;
	memcpy(due, first, 16);
	long now = date_days(today);
	int missed = 0;
	for (int k = 1; k <= 1200; k++) {
		char d[16];
		if (indicator_add_months(reference, months * k, d))
			break;
		long day = date_days(d);
		if ((end != NO_DAYS && day > end) || day + INDICATORS_GRACE_DAYS >= now)
			break;
		missed++;
	}
	return missed;
}

/* A value as plain text: "12,5 familles", or "niveau 3 (satisfaisant)" for a qualitative
 * indicator (v is then the level). */
static void value_text(char out[160], const struct indicator *in, double v)
{
	if (!strcmp(in->value_type, "qualitative")) {
		int level = (int)lround(v);
		snprintf(out, 160, "niveau %d (%s)", level, indicator_level_label(level));
		return;
	}
	char num[64];
	indicator_number_format(num, v);
	snprintf(out, 160, "%s%s%.90s", num, *in->unit ? " " : "", in->unit);
}

/* The reference date of a fiche indicator for the due date: its last measurement, else its
 * baseline date, else the fiche's start date; "" when none. */
static void reference_date(const struct fiche_ind *fi, const char *last_date,
                           const struct fiche_ctx *f, char out[16])
{
	const char *ref = last_date && *last_date ? last_date
	                  : fi->baseline_date     ? fi->baseline_date
	                  : f && f->start_date    ? f->start_date
	                                          : "";
	snprintf(out, 16, "%s", ref);
}

/* 1 when measurements are expected for a fiche in this status. */
static int status_expects_measurements(const char *status)
{
	return status && (!strcmp(status, "retenue") || !strcmp(status, "en_cours"));
}

/* The explanation of the trend rule, folded. */
static void trend_rule_details(struct buf *o)
{
	html_printf(o,
	            "<details class=\"panel\"><summary>Comment la tendance et les retards sont-ils "
	            "calculés ?</summary><p><strong>Tendance.</strong> %s</p><p><strong>Mesures en "
	            "retard.</strong> %s</p></details>\n",
	            INDICATOR_TREND_RULE, INDICATORS_OVERDUE_RULE);
}

/* The table of a fiche's indicators of one kind. */
static void fiche_inds_table(struct req *r, const struct fiche_ctx *f, struct fiche_ind *list,
                             size_t n, const char *kind, int editor)
{
	int realisation = !strcmp(kind, "realisation");
	html_printf(&r->out,
	            "<section aria-labelledby=\"k-%s\"><h2 id=\"k-%s\">%s</h2><p class=\"hint\">%s"
	            "</p>",
	            kind, kind,
	            realisation ? "Ce qui est fait — indicateurs de réalisation"
	                        : "Ce que cela transforme — indicateurs d'impact",
	            realisation ? "Pour suivre l'activité : personnes touchées, publics, nombre "
	                          "d'occurrences…"
	                        : "Pour mesurer les transformations que l'action permet dans les "
	                          "domaines qu'elle vise : précarité, isolement, pouvoir d'agir…");
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += !strcmp(list[i].ind.kind, kind);
	if (!count) {
		html_printf(&r->out, "<p>Aucun indicateur %s pour cette fiche.</p></section>\n",
		            realisation ? "de réalisation" : "d'impact");
		return;
	}
	char today[16];
	fiche_today(today);
	html_printf(&r->out,
	            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
	            "aria-labelledby=\"cap-%s\"><table><caption id=\"cap-%s\">Indicateurs %s de la "
	            "fiche %s</caption><thead><tr><th scope=\"col\">Indicateur</th>"
	            "<th scope=\"col\">Référence</th><th scope=\"col\">Cibles</th>"
	            "<th scope=\"col\">Dernière valeur</th><th scope=\"col\">Tendance</th>"
	            "<th scope=\"col\">Fréquence et prochaine mesure</th>%R"
	            "</tr></thead><tbody>\n",
	            kind, kind, realisation ? "de réalisation" : "d'impact", f->number,
	            editor ? "<th scope=\"col\">Action</th>" : "");
	for (size_t i = 0; i < n; i++) {
		struct fiche_ind *fi = &list[i];
		if (strcmp(fi->ind.kind, kind) != 0)
			continue;
		struct indicator_state s;
		indicator_state_load(r->db, fi->id, &s);
		html_printf(&r->out,
		            "<tr><th scope=\"row\"><a href=\"/indicateurs-fiche/%lld\">%s</a>%R",
		            (long long)fi->id, fi->ind.name,
		            fi->ind.shared ? "" : " <span class=\"tag\">propre à la fiche</span>");
		if (fi->ind.impact_domain)
			html_printf(&r->out, "<br><span class=\"muted\">%s</span>",
			            domain_label(fi->ind.impact_domain));
		buf_puts(&r->out, "</th><td>");
		char text[160], date[64];
		if (fi->has_baseline_value) {
			value_text(text, &fi->ind, fi->baseline_value);
			html_printf(&r->out, "%s", text);
		} else if (fi->baseline_text) {
			html_printf(&r->out, "%s", fi->baseline_text);
		} else {
			buf_puts(&r->out, "—");
		}
		if (fi->baseline_date) {
			date_fr(date, fi->baseline_date);
			html_printf(&r->out, "<br><span class=\"muted\">%s</span>", date);
		}
		buf_puts(&r->out, "</td><td>");
		if (!fi->ntargets)
			buf_puts(&r->out, "—");
		for (size_t k = 0; k < fi->ntargets; k++) {
			char num[64];
			if (fiche_ind_qualitative(fi))
				snprintf(num, sizeof num, "niveau %d",
				         (int)lround(fi->targets[k].value));
			else
				indicator_number_format(num, fi->targets[k].value);
			html_printf(&r->out, "%R%d" NBSP ":" NBSP "%s", k ? "<br>" : "",
			            fi->targets[k].year, num);
		}
		buf_puts(&r->out, "</td><td>");
		if (s.has_last) {
			value_text(text, &fi->ind, s.last_value);
			date_fr(date, s.last_date);
			html_printf(&r->out, "%s<br><span class=\"muted\">%s</span>", text, date);
		} else {
			buf_puts(&r->out, "aucune mesure");
		}
		html_printf(&r->out, "</td><td><span class=\"%s\">%s</span>", trend_badge(s.trend),
		            indicator_trend_label(s.trend));
		if (s.has_expected) {
			value_text(text, &fi->ind, s.expected);
			if (!fiche_ind_qualitative(fi))
				html_printf(&r->out,
				            "<br><span class=\"muted\">attendu : %s</span>", text);
		}
		html_printf(&r->out, "</td><td>%s<br>", indicator_frequency_label(fi->frequency));
		char ref[16], due[16];
		reference_date(fi, s.has_last ? s.last_date : NULL, f, ref);
		int missed = status_expects_measurements(f->status)
		                 ? due_compute(ref, fi->frequency, f->end_date, today, due)
		                 : (due[0] = '\0', 0);
		if (!due[0]) {
			buf_puts(&r->out, "<span class=\"muted\">aucune attendue</span>");
		} else {
			date_fr(date, due);
			html_printf(&r->out, "<span class=\"muted\">prochaine : %s</span>", date);
			if (missed)
				html_printf(&r->out,
				            "<br><span class=\"badge badge-error\">%d "
				            "mesure%s manquante%s</span>",
				            missed, missed > 1 ? "s" : "", missed > 1 ? "s" : "");
		}
		buf_puts(&r->out, "</td>");
		if (editor)
			html_printf(
			    &r->out,
			    "<td><a class=\"button small\" href=\"/indicateurs-fiche/%lld#saisie\">"
			    "Saisir<span class=\"visually-hidden\"> une mesure de %s</span></a>"
			    "</td>",
			    (long long)fi->id, fi->ind.name);
		buf_puts(&r->out, "</tr>\n");
	}
	buf_puts(&r->out, "</tbody></table></div></section>\n");
}

/* The frequency <select>. */
static void frequency_select(struct buf *o, const char *id, const char *current)
{
	html_printf(o,
	            "<div class=\"field\"><label for=\"%s\">Fréquence de mesure attendue</label>"
	            "<select id=\"%s\" name=\"frequency\">",
	            id, id);
	for (size_t i = 0; i < COUNT(frequencies); i++)
		option(o, frequencies[i].value, frequencies[i].label, current);
	buf_puts(o, "</select></div>");
}

/* The crumbs of pages under a fiche: plan, fiche. */
#define FICHE_CRUMBS(f, plan_href, fiche_href, fiche_label)                                        \
	((const struct crumb[]){                                                                   \
	    {(f)->plan_title, plan_href}, {fiche_label, fiche_href}, {NULL, NULL}})

/*
 * The page of a fiche's indicators; error (with the attach form's values) when a POST was
 * refused (status 422).
 */
static void fiche_inds_render(struct req *r, const struct fiche_ctx *f, const char *error,
                              const char *error_field)
{
	int editor = fiche_can_edit(r, f->node_id);
	struct fiche_ind *list;
	size_t n;
	if (fiche_inds_list(r->db, f->node_id, &list, &n)) {
		resp_error(r, 500, "Lecture des indicateurs impossible.");
		return;
	}
	char plan_href[48], fiche_href[48], fiche_label[300], title[300];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f->plan_id);
	snprintf(fiche_href, sizeof fiche_href, "/fiches/%lld", (long long)f->node_id);
	snprintf(fiche_label, sizeof fiche_label, "Fiche %s", f->number);
	snprintf(title, sizeof title, "Indicateurs de la fiche %s", f->number);
	page_begin(r, title, FICHE_CRUMBS(f, plan_href, fiche_href, fiche_label));
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p>\n<h1>Indicateurs de la fiche %s<br><span "
	            "class=\"muted\">%s</span></h1>\n",
	            f->plan_title, f->number, f->title);
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "retire"))
		page_notice(r, "success", "Indicateur retiré de la fiche.");
	if (error)
		page_notice(r, "error", error);
	buf_puts(&r->out,
	         "<p>Chaque fiche-action suit deux sortes d'indicateurs : <strong>« ce qui est "
	         "fait »</strong> (réalisation) et <strong>« ce que cela transforme »</strong> "
	         "(impact).</p>\n");
	fiche_inds_table(r, f, list, n, "realisation", editor);
	fiche_inds_table(r, f, list, n, "impact", editor);
	trend_rule_details(&r->out);

	if (editor) {
		html_printf(&r->out,
		            "<section class=\"panel\" aria-labelledby=\"attach\"><h2 id=\"attach\">"
		            "Ajouter un indicateur</h2><form method=\"post\" "
		            "action=\"/fiches/%lld/indicateurs/rattacher\" class=\"form\">",
		            (long long)f->node_id);
		page_csrf(r);
		const char *chosen = req_form(r, "indicator_id");
		html_printf(&r->out,
		            "<div class=\"field\"><label for=\"a-indicator\">Indicateur du "
		            "référentiel</label><select id=\"a-indicator\" name=\"indicator_id\" "
		            "required%R><option value=\"\">— choisir —</option>",
		            error_field && !strcmp(error_field, "indicator_id")
		                ? " aria-invalid=\"true\""
		                : "");
		for (int k = 0; k < 2; k++) {
			const char *kind = k ? "impact" : "realisation";
			html_printf(&r->out, "<optgroup label=\"%s\">",
			            k ? "Impact — ce que cela transforme"
			              : "Réalisation — ce qui est fait");
			struct db_stmt *st = db_queryf(
			    r->db,
			    "SELECT i.id, i.name, i.unit FROM indicators i WHERE i.shared = 1 "
			    "AND i.kind = ? AND NOT EXISTS (SELECT 1 FROM fiche_indicators fi "
			    "WHERE fi.node_id = ? AND fi.indicator_id = i.id) ORDER BY i.name",
			    "sI", kind, f->node_id);
			while (st && db_step(st) == DB_ROW) {
				char idv[32];
				snprintf(idv, sizeof idv, "%lld", (long long)db_col_int64(st, 0));
				const char *unit = db_col_text(st, 2);
				char *label = unit && *unit
				                  ? xasprintf("%s (%s)", db_col_text(st, 1), unit)
				                  : xstrdup(db_col_text(st, 1));
				option(&r->out, idv, label, chosen);
				free(label);
			}
			db_finalize(st);
			buf_puts(&r->out, "</optgroup>");
		}
		buf_puts(&r->out, "</select></div>");
		frequency_select(&r->out, "a-frequency",
		                 req_form(r, "frequency") ? req_form(r, "frequency") : "quarterly");
		html_printf(
		    &r->out,
		    "<div class=\"actions\"><button type=\"submit\" class=\"button\">"
		    "Rattacher à la fiche</button><a class=\"button secondary\" "
		    "href=\"/fiches/%lld/indicateurs/nouveau\">Créer un indicateur propre à "
		    "cette fiche</a><a class=\"button secondary\" href=\"/indicateurs\">"
		    "Consulter le référentiel</a></div></form></section>\n",
		    (long long)f->node_id);
	}
	fiche_inds_free(list, n);
	page_end(r);
}

/* First statement of {fiche} pages: the fiche is visible (404 otherwise) and, when edit is
 * set, editable by the request. Loads f. Answers itself and returns -1 when refused. */
static int fiche_require(struct req *r, int edit, struct fiche_ctx *f)
{
	memset(f, 0, sizeof *f);
	int64_t node;
	if (req_param_id(r, 0, &node))
		return -1;
	if (edit ? fiche_require_edit(r, node) : node_require(r, node, ROLE_PUBLIC, NULL))
		return -1;
	int rc = fiche_ctx_load(r->db, node, f);
	if (rc <= 0) {
		fiche_ctx_free(f);
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return -1;
	}
	return 0;
}

static void fiche_inds_page(struct req *r)
{
	struct fiche_ctx f;
	if (fiche_require(r, 0, &f))
		return;
	fiche_inds_render(r, &f, NULL, NULL);
	fiche_ctx_free(&f);
}

/* Insert a fiche indicator and audit it, in the caller's transaction. DB_OK, DB_CONSTRAINT
 * (already attached) or an error; sets *id. */
static int fiche_ind_insert(struct db *db, int64_t node_id, const struct indicator *in,
                            const char *frequency, int64_t user_id, const char *origin, int64_t *id)
{
	struct db_stmt *st = db_queryf(db,
	                               "INSERT INTO fiche_indicators (node_id, indicator_id, "
	                               "frequency) VALUES (?, ?, ?) RETURNING id",
	                               "IIs", node_id, in->id, frequency);
	if (!st)
		return DB_ERROR;
	int rc = db_step(st);
	if (rc == DB_ROW)
		*id = db_col_int64(st, 0);
	db_finalize(st);
	if (rc != DB_ROW)
		return rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
	struct fiche_ind fi;
	if (fiche_ind_load(db, *id, &fi) <= 0) {
		fiche_ind_free(&fi);
		return DB_ERROR;
	}
	json_t *a = fiche_ind_audit_json(&fi);
	rc = audit_write_id(db, user_id, origin, "create", "fiche_indicator", *id, NULL, a);
	json_decref(a);
	fiche_ind_free(&fi);
	return rc;
}

static void fiche_ind_attach(struct req *r)
{
	struct fiche_ctx f;
	if (fiche_require(r, 1, &f))
		return;
	const char *idv = req_form(r, "indicator_id"), *freq = req_form(r, "frequency");
	int64_t ind_id = 0;
	struct indicator in = {0};
	const char *why = NULL, *field = NULL;
	if (!idv || parse_int64(idv, &ind_id) || indicator_load(r->db, ind_id, &in) <= 0 ||
	    !in.shared) {
		why = "Choisissez un indicateur du référentiel.";
		field = "indicator_id";
	} else if (!label_valid(frequencies, COUNT(frequencies), freq)) {
		why = "Choisissez une fréquence : mensuelle, trimestrielle, semestrielle ou "
		      "annuelle.";
		field = "frequency";
	}
	int64_t fi_id = 0;
	if (!why) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = fiche_ind_insert(r->db, f.node_id, &in, freq, r->user->id, "web",
			                      &fi_id);
		if (rc == DB_OK)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
		if (rc == DB_CONSTRAINT) {
			why = "Cet indicateur est déjà suivi par cette fiche.";
			field = "indicator_id";
		} else if (rc != DB_OK) {
			indicator_free(&in);
			fiche_ctx_free(&f);
			resp_error(r, 500, "Le rattachement de l'indicateur a échoué.");
			return;
		}
	}
	indicator_free(&in);
	if (why) {
		fiche_inds_render(r, &f, why, field);
		r->status = 422;
		fiche_ctx_free(&f);
		return;
	}
	fiche_ctx_free(&f);
	char loc[80];
	snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld/modifier?ok=rattache", (long long)fi_id);
	resp_redirect(r, loc);
}

/* The form creating a fiche-specific indicator. */
static void fiche_ind_new_form(struct req *r, const struct fiche_ctx *f, const struct indicator *in,
                               const char *frequency, const char *error)
{
	char plan_href[48], fiche_href[64], fiche_label[300], title[300];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f->plan_id);
	snprintf(fiche_href, sizeof fiche_href, "/fiches/%lld/indicateurs", (long long)f->node_id);
	snprintf(fiche_label, sizeof fiche_label, "Indicateurs de la fiche %s", f->number);
	snprintf(title, sizeof title, "Nouvel indicateur pour la fiche %s", f->number);
	page_begin(r, title, FICHE_CRUMBS(f, plan_href, fiche_href, fiche_label));
	html_printf(&r->out,
	            "<div class=\"narrow\"><p class=\"eyebrow\">Fiche %s — %s</p>\n<h1>Nouvel "
	            "indicateur propre à la fiche</h1>\n<p>Cet indicateur ne sera pas ajouté au "
	            "référentiel partagé : il ne concerne que cette fiche-action.</p>\n",
	            f->number, f->title);
	if (error)
		page_notice(r, "error", error);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/fiches/%lld/indicateurs/nouveau\" "
	            "class=\"form\">",
	            (long long)f->node_id);
	page_csrf(r);
	indicator_fields(&r->out, in, 0);
	frequency_select(&r->out, "n-frequency", frequency);
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Créer "
	            "l'indicateur</button><a class=\"button secondary\" href=\"%s\">Annuler</a>"
	            "</div></form></div>\n",
	            fiche_href);
	page_end(r);
}

static void fiche_ind_new(struct req *r)
{
	struct fiche_ctx f;
	if (fiche_require(r, 1, &f))
		return;
	struct indicator in = {.shared = 0};
	if (r->method == M_GET) {
		in.kind = xstrdup("realisation");
		in.value_type = xstrdup("number");
		in.direction = xstrdup("up");
		fiche_ind_new_form(r, &f, &in, "quarterly", NULL);
		indicator_free(&in);
		fiche_ctx_free(&f);
		return;
	}
	const char *freq = req_form(r, "frequency");
	const char *why = indicator_from_form(r, &in, 0);
	if (!why && !label_valid(frequencies, COUNT(frequencies), freq))
		why = "Choisissez une fréquence : mensuelle, trimestrielle, semestrielle ou "
		      "annuelle.";
	if (why) {
		fiche_ind_new_form(r, &f, &in, freq, why);
		r->status = 422;
		indicator_free(&in);
		fiche_ctx_free(&f);
		return;
	}
	int64_t fi_id = 0;
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = indicator_store(r->db, &in, NULL, r->user->id, "web");
	if (rc == DB_OK)
		rc = fiche_ind_insert(r->db, f.node_id, &in, freq, r->user->id, "web", &fi_id);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	indicator_free(&in);
	fiche_ctx_free(&f);
	if (rc != DB_OK) {
		resp_error(r, 500, "La création de l'indicateur a échoué.");
		return;
	}
	char loc[80];
	snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld/modifier?ok=cree", (long long)fi_id);
	resp_redirect(r, loc);
}

/* --- measurements: checks and storage --------------------------------------------------------- */

/* A measurement's values once checked. Strings owned. */
struct mvalues {
	char date[16];
	int has_value;
	double value; /* number indicators */
	char *text;   /* qualitative indicators */
	int level;    /* 1–4 for qualitative indicators, 0 otherwise */
	char *source, *comment;
};

static void mvalues_free(struct mvalues *mv)
{
	free(mv->text);
	free(mv->source);
	free(mv->comment);
	memset(mv, 0, sizeof *mv);
}

/* A short copy of what someone typed, for a message (at most 40 characters). */
static char *typed(const char *s)
{
	size_t n = 0, chars = 0;
	while (s[n] && chars < 40) {
		n++;
		while (((unsigned char)s[n] & 0xC0) == 0x80)
			n++;
		chars++;
	}
	return s[n] ? xasprintf("%.*s…", (int)n, s) : xstrdup(s);
}

/* Check a date: sets mv->date; NULL or a French message (malloc'ed). */
static char *check_date(const char *s, struct mvalues *mv)
{
	if (is_blank(s))
		return xstrdup("Indiquez la date de la mesure.");
	if (date_read_any(s, mv->date)) {
		char *t = typed(s);
		char *m = xasprintf("La date « %s » n'est pas valide : écrivez-la AAAA-MM-JJ ou "
		                    "JJ/MM/AAAA.",
		                    t);
		free(t);
		return m;
	}
	char today[16], tomorrow[16];
	today_and_tomorrow(today, tomorrow);
	if (strcmp(mv->date, tomorrow) > 0)
		return xasprintf("La date %s est dans le futur : une mesure ne peut pas être datée "
		                 "après demain.",
		                 mv->date);
	return NULL;
}

/* Check the value of a number indicator: sets mv->value. */
static char *check_number(const char *s, struct mvalues *mv)
{
	if (is_blank(s))
		return xstrdup("Indiquez la valeur mesurée.");
	if (indicator_number_parse(s, &mv->value)) {
		char *t = typed(s);
		char *m = xasprintf("La valeur « %s » n'est pas un nombre : écrivez par exemple "
		                    "12,5 (virgule décimale acceptée).",
		                    t);
		free(t);
		return m;
	}
	mv->has_value = 1;
	return NULL;
}

/* Check the text of a qualitative value: sets mv->text. */
static char *check_text(const char *s, struct mvalues *mv)
{
	if (is_blank(s))
		return xstrdup("Décrivez l'appréciation : un indicateur qualitatif demande un "
		               "texte.");
	char *t = str_trim_dup(s);
	if (text_chars(t) > TEXT_MAX_CHARS) {
		free(t);
		return xstrdup("L'appréciation est limitée à 1 000 caractères.");
	}
	free(mv->text);
	mv->text = t;
	return NULL;
}

/* Check a qualitative level: sets mv->level. */
static char *check_level(const char *s, struct mvalues *mv)
{
	int64_t level = 0;
	char *t = s ? str_trim_dup(s) : xstrdup("");
	int bad = parse_int64(t, &level) || level < 1 || level > 4;
	free(t);
	if (is_blank(s))
		return xstrdup("Indiquez le niveau, de 1 (insuffisant) à 4 (très satisfaisant).");
	if (bad)
		return xstrdup("Le niveau doit être un nombre entier de 1 à 4.");
	mv->level = (int)level;
	return NULL;
}

/* Check source and comment: sets mv->source and mv->comment. *field names the culprit. */
static char *check_notes(const char *source, const char *comment, struct mvalues *mv,
                         const char **field)
{
	free(mv->source);
	free(mv->comment);
	mv->source = source ? str_trim_dup(source) : xstrdup("");
	mv->comment = comment ? str_trim_dup(comment) : xstrdup("");
	if (text_chars(mv->source) > SOURCE_MAX_CHARS) {
		*field = "source";
		return xstrdup("La source est limitée à 200 caractères.");
	}
	if (text_chars(mv->comment) > COMMENT_MAX_CHARS) {
		*field = "comment";
		return xstrdup("Le commentaire est limité à 2 000 caractères.");
	}
	return NULL;
}

/* 1 when fiche indicator fi_id already has a measurement on date (other than except_id). */
static int measurement_exists(struct db *db, int64_t fi_id, const char *date, int64_t except_id)
{
	int64_t n = 0;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ? "
	          "AND measured_on = ? AND id <> ?",
	          "IsI", fi_id, date, except_id);
	return n > 0;
}

/*
 * Check a whole measurement for the form and the API: the first problem as a French message
 * (malloc'ed) with *field set to the form field ("measured_on", "value", "text_value",
 * "level", "source", "comment"), or NULL with mv filled.
 */
static char *measurement_check(struct db *db, const struct fiche_ind *fi, const char *date,
                               const char *value, const char *text, const char *level,
                               const char *source, const char *comment, int64_t except_id,
                               struct mvalues *mv, const char **field)
{
	memset(mv, 0, sizeof *mv);
	char *m;
	*field = "measured_on";
	if ((m = check_date(date, mv)))
		return m;
	if (fiche_ind_qualitative(fi)) {
		*field = "text_value";
		if ((m = check_text(text, mv)))
			return m;
		*field = "level";
		if ((m = check_level(level, mv)))
			return m;
	} else {
		*field = "value";
		if ((m = check_number(value, mv)))
			return m;
	}
	if ((m = check_notes(source, comment, mv, field)))
		return m;
	*field = "measured_on";
	if (measurement_exists(db, fi->id, mv->date, except_id))
		return xasprintf("Une mesure existe déjà le %s pour cet indicateur : modifiez-la "
		                 "plutôt que d'en saisir une seconde.",
		                 mv->date);
	*field = NULL;
	return NULL;
}

static json_t *mvalues_json(const struct fiche_ind *fi, const struct mvalues *mv)
{
	return json_pack(
	    "{s:I,s:I,s:s,s:s,s:o,s:o,s:o,s:s,s:s}", "node_id", (json_int_t)fi->node_id,
	    "fiche_indicator_id", (json_int_t)fi->id, "indicator", fi->ind.name, "measured_on",
	    mv->date, "value", mv->has_value ? json_real(mv->value) : json_null(), "text_value",
	    json_text(mv->text), "level", mv->level ? json_integer(mv->level) : json_null(),
	    "source", mv->source ? mv->source : "", "comment", mv->comment ? mv->comment : "");
}

/* Insert a checked measurement and audit it (action "create" or "import"), in the caller's
 * transaction. DB_OK or an error; sets *id when not NULL. */
static int measurement_insert(struct db *db, const struct fiche_ind *fi, const struct mvalues *mv,
                              int64_t user_id, const char *origin, const char *action, int64_t *id)
{
	char now[32];
	time_iso_now(now);
	struct db_stmt *st =
	    db_prepare(db, "INSERT INTO measurements (fiche_indicator_id, "
	                   "measured_on, value, text_value, level, source, comment, "
	                   "entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
	                   "RETURNING id");
	if (!st)
		return DB_ERROR;
	db_bind_int64(st, 1, fi->id);
	db_bind_text(st, 2, mv->date);
	if (mv->has_value)
		db_bind_double(st, 3, mv->value);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, mv->text);
	if (mv->level)
		db_bind_int64(st, 5, mv->level);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, mv->source ? mv->source : "");
	db_bind_text(st, 7, mv->comment ? mv->comment : "");
	if (user_id > 0)
		db_bind_int64(st, 8, user_id);
	else
		db_bind_null(st, 8);
	db_bind_text(st, 9, now);
	int rc = db_step(st) == DB_ROW ? DB_OK : DB_ERROR;
	int64_t mid = rc == DB_OK ? db_col_int64(st, 0) : 0;
	db_finalize(st);
	if (rc != DB_OK)
		return rc;
	if (id)
		*id = mid;
	json_t *a = mvalues_json(fi, mv);
	rc = audit_write_id(db, user_id, origin, action, "measurement", mid, NULL, a);
	json_decref(a);
	return rc;
}

/* A stored measurement. Strings owned. */
struct measurement {
	int64_t id, fi_id, entered_by; /* entered_by 0 when none */
	struct mvalues v;
	char *entered_at, *entered_name;
	int is_demo;
};

static void measurement_free(struct measurement *m)
{
	mvalues_free(&m->v);
	free(m->entered_at);
	free(m->entered_name);
	memset(m, 0, sizeof *m);
}

#define MEASUREMENT_SELECT                                                                         \
	"SELECT m.id, m.fiche_indicator_id, m.measured_on, m.value, m.text_value, m.level, "       \
	"m.source, m.comment, m.entered_by, m.entered_at, u.name, m.is_demo FROM measurements m "  \
	"LEFT JOIN users u ON u.id = m.entered_by "

static void measurement_read(struct db_stmt *st, struct measurement *m)
{
	memset(m, 0, sizeof *m);
	m->id = db_col_int64(st, 0);
	m->fi_id = db_col_int64(st, 1);
	snprintf(m->v.date, sizeof m->v.date, "%s", db_col_text(st, 2));
	m->v.has_value = !db_col_is_null(st, 3);
	m->v.value = m->v.has_value ? db_col_double(st, 3) : 0;
	m->v.text = dup_or_null(db_col_text(st, 4));
	m->v.level = db_col_is_null(st, 5) ? 0 : (int)db_col_int64(st, 5);
	m->v.source = xstrdup(db_col_text(st, 6) ? db_col_text(st, 6) : "");
	m->v.comment = xstrdup(db_col_text(st, 7) ? db_col_text(st, 7) : "");
	m->entered_by = db_col_is_null(st, 8) ? 0 : db_col_int64(st, 8);
	m->entered_at = xstrdup(db_col_text(st, 9) ? db_col_text(st, 9) : "");
	m->entered_name = dup_or_null(db_col_text(st, 10));
	m->is_demo = (int)db_col_int64(st, 11);
}

static int measurement_load(struct db *db, int64_t id, struct measurement *m)
{
	memset(m, 0, sizeof *m);
	struct db_stmt *st = db_queryf(db, MEASUREMENT_SELECT "WHERE m.id = ?", "I", id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc == DB_ROW)
		measurement_read(st, m);
	db_finalize(st);
	return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1;
}

/* 1 when the request may change or delete measurement m of a fiche it may edit: its own, or any
 * for the plan's coordinators and administrators. */
static int measurement_can_modify(struct req *r, const struct fiche_ind *fi,
                                  const struct measurement *m)
{
	if (!r->user || !fiche_can_edit(r, fi->node_id))
		return 0;
	if (plan_role(r, fi->plan_id) >= ROLE_COORDINATOR)
		return 1;
	return m->entered_by == r->user->id;
}

/* --- one fiche indicator: page, measurement form, settings ---------------------------------- */

/* First statement of {fi} routes (param 0): the fiche indicator exists on a fiche visible to
 * the request (404 otherwise) and, when edit is set, the request may edit the fiche. Loads fi
 * and f. Answers itself and returns -1 when refused. */
static int fi_require(struct req *r, int edit, struct fiche_ind *fi, struct fiche_ctx *f)
{
	memset(fi, 0, sizeof *fi);
	memset(f, 0, sizeof *f);
	int64_t id, node = 0;
	if (req_param_id(r, 0, &id))
		return -1;
	if (db_int64f(r->db, &node, "SELECT node_id FROM fiche_indicators WHERE id = ?", "I", id) !=
	        DB_OK ||
	    !node) {
		resp_error(r, 404,
		           "Cet indicateur de fiche n'existe pas ou n'est pas visible pour "
		           "vous.");
		return -1;
	}
	if (edit ? fiche_require_edit(r, node) : node_require(r, node, ROLE_PUBLIC, NULL))
		return -1;
	if (fiche_ind_load(r->db, id, fi) <= 0 || fiche_ctx_load(r->db, node, f) <= 0) {
		fiche_ind_free(fi);
		fiche_ctx_free(f);
		resp_error(r, 404, "Cet indicateur de fiche n'existe pas.");
		return -1;
	}
	return 0;
}

/* What was typed in the measurement form (borrowed from the request), with the error. */
struct mform {
	const char *date, *value, *text, *level, *source, *comment;
	const char *error, *field;
};

/* aria-invalid for the field in error. */
static const char *invalid_attr(const struct mform *mf, const char *field)
{
	return mf && mf->field && !strcmp(mf->field, field) ? " aria-invalid=\"true\"" : "";
}

/* The fields of a measurement (inside a form). */
static void measurement_fields(struct buf *o, const struct fiche_ind *fi, const struct mform *mf)
{
	char today[16];
	fiche_today(today);
	html_printf(o,
	            "<div class=\"field\"><label for=\"m-date\">Date de la mesure</label>"
	            "<input id=\"m-date\" name=\"measured_on\" type=\"date\" required "
	            "value=\"%s\"%R></div>",
	            mf && mf->date ? mf->date : today, invalid_attr(mf, "measured_on"));
	if (fiche_ind_qualitative(fi)) {
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"m-text\">Appréciation</label>"
		    "<textarea id=\"m-text\" name=\"text_value\" rows=\"3\" maxlength=\"1000\" "
		    "required%R>%s</textarea></div>",
		    invalid_attr(mf, "text_value"), mf && mf->text ? mf->text : "");
		html_printf(o,
		            "<div class=\"field\"><label for=\"m-level\">Niveau</label><select "
		            "id=\"m-level\" name=\"level\" required%R><option value=\"\">— choisir "
		            "—</option>",
		            invalid_attr(mf, "level"));
		for (int l = 1; l <= 4; l++) {
			char v[4], label[64];
			snprintf(v, sizeof v, "%d", l);
			snprintf(label, sizeof label, "%d — %s", l, indicator_level_label(l));
			option(o, v, label, mf ? mf->level : NULL);
		}
		buf_puts(o, "</select></div>");
	} else {
		html_printf(o,
		            "<div class=\"field\"><label for=\"m-value\">Valeur%R%s%R</label>"
		            "<input id=\"m-value\" name=\"value\" inputmode=\"decimal\" required "
		            "maxlength=\"40\" value=\"%s\" aria-describedby=\"m-value-hint\"%R>"
		            "<p class=\"hint\" id=\"m-value-hint\">Un nombre ; la virgule décimale "
		            "est acceptée (12,5).</p></div>",
		            *fi->ind.unit ? " (" : "", fi->ind.unit, *fi->ind.unit ? ")" : "",
		            mf && mf->value ? mf->value : "", invalid_attr(mf, "value"));
	}
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"m-source\">Source</label><input "
	    "id=\"m-source\" name=\"source\" maxlength=\"200\" value=\"%s\"%R></div>"
	    "<div class=\"field\"><label for=\"m-comment\">Commentaire</label><textarea "
	    "id=\"m-comment\" name=\"comment\" rows=\"3\" maxlength=\"2000\"%R>%s</textarea>"
	    "</div>",
	    mf && mf->source ? mf->source : "", invalid_attr(mf, "source"),
	    invalid_attr(mf, "comment"), mf && mf->comment ? mf->comment : "");
}

/* The page of one fiche indicator: definition, baseline, targets, measurements, entry form. */
static void fi_render(struct req *r, struct fiche_ind *fi, const struct fiche_ctx *f,
                      const struct mform *mf)
{
	int editor = fiche_can_edit(r, fi->node_id);
	int member = plan_role(r, fi->plan_id) >= ROLE_READER;
	char plan_href[48], inds_href[64], inds_label[300];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f->plan_id);
	snprintf(inds_href, sizeof inds_href, "/fiches/%lld/indicateurs", (long long)f->node_id);
	snprintf(inds_label, sizeof inds_label, "Indicateurs de la fiche %s", f->number);
	page_begin(r, fi->ind.name, FICHE_CRUMBS(f, plan_href, inds_href, inds_label));
	html_printf(&r->out,
	            "<p class=\"eyebrow\">Fiche <a href=\"/fiches/%lld\">%s — %s</a></p>\n"
	            "<h1>%s</h1>\n",
	            (long long)f->node_id, f->number, f->title, fi->ind.name);
	const char *ok = req_query(r, "ok");
	if (ok && !mf) {
		const char *msg = !strcmp(ok, "saisie")      ? "Mesure enregistrée."
		                  : !strcmp(ok, "modifiee")  ? "Mesure modifiée."
		                  : !strcmp(ok, "supprimee") ? "Mesure supprimée."
		                  : !strcmp(ok, "reglages")  ? "Référence, cibles et fréquence "
		                                               "enregistrées."
		                                             : NULL;
		if (msg)
			page_notice(r, "success", msg);
	}
	if (mf && mf->error)
		page_notice(r, "error", mf->error);
	int64_t demo = 0;
	db_int64f(r->db, &demo,
	          "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ? AND is_demo = 1",
	          "I", fi->id);
	if (demo)
		page_notice(
		    r, "warning",
		    "Données de démonstration : les valeurs de cet indicateur sont fictives.");
	if (editor)
		html_printf(
		    &r->out,
		    "<div class=\"actions\"><a class=\"button\" href=\"#saisie\">Saisir une "
		    "mesure</a><a class=\"button secondary\" "
		    "href=\"/indicateurs-fiche/%lld/modifier\">Référence, cibles et "
		    "fréquence</a><a class=\"button secondary\" "
		    "href=\"/indicateurs-fiche/%lld/retirer\">Retirer de la fiche</a></div>\n",
		    (long long)fi->id, (long long)fi->id);
	indicator_facts(&r->out, &fi->ind);

	struct indicator_state s;
	indicator_state_load(r->db, fi->id, &s);
	char text[160], date[64], ref[16], due[16], today[16];
	fiche_today(today);
	buf_puts(&r->out, "<dl class=\"facts\"><div><dt>Valeur de référence</dt><dd>");
	if (fi->has_baseline_value) {
		value_text(text, &fi->ind, fi->baseline_value);
		html_printf(&r->out, "%s", text);
	}
	if (fi->baseline_text)
		html_printf(&r->out, "%R%s", fi->has_baseline_value ? " — " : "",
		            fi->baseline_text);
	if (!fi->has_baseline_value && !fi->baseline_text)
		buf_puts(&r->out, "non renseignée");
	if (fi->baseline_date) {
		date_fr(date, fi->baseline_date);
		html_printf(&r->out, " (%s)", date);
	}
	html_printf(&r->out,
	            "</dd></div><div><dt>Fréquence de mesure</dt><dd>%s</dd></div>"
	            "<div><dt>Tendance</dt><dd><span class=\"%s\">%s</span>",
	            indicator_frequency_label(fi->frequency), trend_badge(s.trend),
	            indicator_trend_label(s.trend));
	if (s.has_expected && !fiche_ind_qualitative(fi)) {
		value_text(text, &fi->ind, s.expected);
		html_printf(&r->out, " (valeur attendue à la dernière mesure : %s)", text);
	}
	buf_puts(&r->out, "</dd></div><div><dt>Prochaine mesure attendue</dt><dd>");
	reference_date(fi, s.has_last ? s.last_date : NULL, f, ref);
	int missed = status_expects_measurements(f->status)
	                 ? due_compute(ref, fi->frequency, f->end_date, today, due)
	                 : (due[0] = '\0', 0);
	if (due[0]) {
		date_fr(date, due);
		html_printf(&r->out, "%s", date);
		if (missed)
			html_printf(&r->out,
			            " <span class=\"badge badge-error\">%d mesure%s "
			            "manquante%s</span>",
			            missed, missed > 1 ? "s" : "", missed > 1 ? "s" : "");
	} else {
		if (!status_expects_measurements(f->status)) {
			buf_puts(&r->out, "aucune (la fiche n'est ni retenue ni en cours)");
		} else if (!*ref) {
			buf_puts(&r->out, "aucune date de départ connue (ni mesure, ni valeur de "
			                  "référence datée, ni date de début de la fiche)");
		} else {
			date_fr(date, f->end_date);
			html_printf(&r->out, "aucune avant la fin de la fiche (%s)", date);
		}
	}
	buf_puts(&r->out, "</dd></div></dl>\n");
	if (!is_blank(fi->ind.definition)) {
		buf_puts(&r->out, "<details><summary>Définition de l'indicateur</summary>"
		                  "<div class=\"prose\">");
		markdown_render(&r->out, fi->ind.definition);
		buf_puts(&r->out, "</div></details>\n");
	}

	/* Measurements, most recent first. */
	struct db_stmt *st = db_queryf(r->db,
	                               MEASUREMENT_SELECT "WHERE m.fiche_indicator_id = ? "
	                                                  "ORDER BY m.measured_on DESC, m.id DESC "
	                                                  "LIMIT ?",
	                               "Ii", fi->id, MEASUREMENTS_SHOWN);
	int qual = fiche_ind_qualitative(fi);
	buf_puts(&r->out, "<section aria-labelledby=\"mesures\"><h2 id=\"mesures\">Mesures</h2>");
	struct buf rows = {0};
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		struct measurement m;
		measurement_read(st, &m);
		date_fr(date, m.v.date);
		html_printf(&rows, "<tr><th scope=\"row\">%s</th>", date);
		if (qual)
			html_printf(&rows, "<td>%d — %s</td><td>%s</td>", m.v.level,
			            indicator_level_label(m.v.level), m.v.text ? m.v.text : "");
		else {
			value_text(text, &fi->ind, m.v.value);
			html_printf(&rows, "<td class=\"num\">%s</td>", text);
		}
		html_printf(&rows, "<td>%s</td><td>%s</td>", m.v.source, m.v.comment);
		if (member)
			html_printf(&rows, "<td>%s</td>",
			            m.is_demo        ? "donnée de démonstration"
			            : m.entered_name ? m.entered_name
			                             : "—");
		if (editor) {
			buf_puts(&rows, "<td>");
			if (measurement_can_modify(r, fi, &m))
				html_printf(&rows,
				            "<a class=\"button small secondary\" "
				            "href=\"/mesures/%lld/modifier\">Modifier<span "
				            "class=\"visually-hidden\"> la mesure du %s</span></a> "
				            "<a class=\"button small secondary\" "
				            "href=\"/mesures/%lld/supprimer\">Supprimer<span "
				            "class=\"visually-hidden\"> la mesure du %s</span></a>",
				            (long long)m.id, date, (long long)m.id, date);
			buf_puts(&rows, "</td>");
		}
		buf_puts(&rows, "</tr>\n");
		measurement_free(&m);
		n++;
	}
	db_finalize(st);
	if (n) {
		html_printf(
		    &r->out,
		    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
		    "aria-labelledby=\"m-caption\"><table><caption id=\"m-caption\">Mesures "
		    "de « %s », de la plus récente à la plus ancienne</caption><thead><tr>"
		    "<th scope=\"col\">Date</th>%R<th scope=\"col\">Source</th>"
		    "<th scope=\"col\">Commentaire</th>%R%R</tr></thead><tbody>\n%R"
		    "</tbody></table></div>\n",
		    fi->ind.name,
		    qual ? "<th scope=\"col\">Niveau</th><th scope=\"col\">Appréciation</th>"
		         : "<th scope=\"col\" class=\"num\">Valeur</th>",
		    member ? "<th scope=\"col\">Saisie par</th>" : "",
		    editor ? "<th scope=\"col\">Actions</th>" : "", buf_str(&rows));
		if (n >= MEASUREMENTS_SHOWN)
			html_printf(
			    &r->out,
			    "<p class=\"hint\">Seules les %d mesures les plus récentes sont "
			    "affichées ; toutes sont disponibles dans l'API.</p>",
			    MEASUREMENTS_SHOWN);
	} else {
		buf_puts(&r->out, "<p>Aucune mesure n'a encore été saisie.</p>");
	}
	buf_free(&rows);
	buf_puts(&r->out, "</section>\n");

	/* Targets by year with the last value of each year. */
	buf_puts(&r->out, "<section aria-labelledby=\"cibles\"><h2 id=\"cibles\">Cibles par "
	                  "année</h2>");
	if (fi->ntargets) {
		html_printf(&r->out,
		            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
		            "aria-labelledby=\"t-caption\"><table><caption id=\"t-caption\">Cibles "
		            "de « %s » et dernière valeur mesurée de chaque année</caption><thead>"
		            "<tr><th scope=\"col\">Année</th><th scope=\"col\" class=\"num\">Cible"
		            "</th><th scope=\"col\" class=\"num\">Dernière valeur de l'année</th>"
		            "</tr></thead><tbody>",
		            fi->ind.name);
		for (size_t k = 0; k < fi->ntargets; k++) {
			value_text(text, &fi->ind, fi->targets[k].value);
			html_printf(&r->out,
			            "<tr><th scope=\"row\">%d</th><td class=\"num\">%s</td>",
			            fi->targets[k].year, text);
			/* The last measurement of that year. */
			char from[16], to[16];
			snprintf(from, sizeof from, "%04d-01-01", fi->targets[k].year);
			snprintf(to, sizeof to, "%04d-12-31", fi->targets[k].year);
			struct db_stmt *ys =
			    db_queryf(r->db,
			              "SELECT value, level FROM measurements "
			              "WHERE fiche_indicator_id = ? AND measured_on "
			              "BETWEEN ? AND ? ORDER BY measured_on DESC, "
			              "id DESC LIMIT 1",
			              "Iss", fi->id, from, to);
			if (ys && db_step(ys) == DB_ROW) {
				value_text(text, &fi->ind,
				           qual ? (double)db_col_int64(ys, 1)
				                : db_col_double(ys, 0));
				html_printf(&r->out, "<td class=\"num\">%s</td></tr>", text);
			} else {
				buf_puts(&r->out, "<td class=\"num\">—</td></tr>");
			}
			db_finalize(ys);
		}
		buf_puts(&r->out, "</tbody></table></div>");
	} else {
		buf_puts(&r->out, "<p>Aucune cible n'est fixée.</p>");
	}
	buf_puts(&r->out, "</section>\n");
	trend_rule_details(&r->out);

	if (editor) {
		html_printf(&r->out,
		            "<section class=\"panel\" id=\"saisie\" aria-labelledby=\"saisie-h\">"
		            "<h2 id=\"saisie-h\">Saisir une mesure</h2><form method=\"post\" "
		            "action=\"/indicateurs-fiche/%lld/mesures\" class=\"form\">",
		            (long long)fi->id);
		page_csrf(r);
		measurement_fields(&r->out, fi, mf);
		buf_puts(&r->out, "<div class=\"actions\"><button type=\"submit\" class=\"button\">"
		                  "Enregistrer la mesure</button></div></form></section>\n");
	}
	page_end(r);
}

static void fi_page(struct req *r)
{
	struct fiche_ind fi;
	struct fiche_ctx f;
	if (fi_require(r, 0, &fi, &f))
		return;
	fi_render(r, &fi, &f, NULL);
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
}

static void measurement_add(struct req *r)
{
	struct fiche_ind fi;
	struct fiche_ctx f;
	if (fi_require(r, 1, &fi, &f))
		return;
	struct mform mf = {req_form(r, "measured_on"), req_form(r, "value"),
	                   req_form(r, "text_value"),  req_form(r, "level"),
	                   req_form(r, "source"),      req_form(r, "comment")};
	struct mvalues mv;
	char *why = measurement_check(r->db, &fi, mf.date, mf.value, mf.text, mf.level, mf.source,
	                              mf.comment, 0, &mv, &mf.field);
	int rc = DB_OK;
	if (!why) {
		rc = db_begin(r->db);
		if (rc == DB_OK)
			rc =
			    measurement_insert(r->db, &fi, &mv, r->user->id, "web", "create", NULL);
		if (rc == DB_OK)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
	}
	mvalues_free(&mv);
	if (why) {
		mf.error = why;
		fi_render(r, &fi, &f, &mf);
		r->status = 422;
	} else if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement de la mesure a échoué.");
	} else {
		char loc[80];
		snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld?ok=saisie#mesures",
		         (long long)fi.id);
		resp_redirect(r, loc);
	}
	free(why);
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
}

/* The value of form field `name`, or the stored one when the form was not sent. */
static const char *form_or(struct req *r, int from_form, const char *name, const char *stored)
{
	return from_form ? req_form(r, name) : stored;
}

/* The settings form of a fiche indicator: baseline, targets, frequency (and the definition of a
 * fiche-specific indicator). from_form: show what was typed instead of what is stored. */
static void fi_settings_render(struct req *r, const struct fiche_ind *fi, const struct fiche_ctx *f,
                               const char *error, int from_form)
{
	char plan_href[48], inds_href[64], inds_label[300], title[300];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f->plan_id);
	snprintf(inds_href, sizeof inds_href, "/fiches/%lld/indicateurs", (long long)f->node_id);
	snprintf(inds_label, sizeof inds_label, "Indicateurs de la fiche %s", f->number);
	snprintf(title, sizeof title, "Référence, cibles et fréquence — %s", fi->ind.name);
	page_begin(r, title, FICHE_CRUMBS(f, plan_href, inds_href, inds_label));
	html_printf(&r->out,
	            "<div class=\"narrow\"><p class=\"eyebrow\">Fiche %s — %s</p>\n<h1>%s</h1>\n"
	            "<p class=\"lead\">Référence, cibles et fréquence de mesure</p>\n",
	            f->number, f->title, fi->ind.name);
	const char *ok = req_query(r, "ok");
	if (ok && !error)
		page_notice(r, "success",
		            !strcmp(ok, "cree") ? "Indicateur créé : indiquez sa valeur de "
		                                  "référence et ses cibles."
		                                : "Indicateur rattaché à la fiche : indiquez sa "
		                                  "valeur de référence et ses cibles.");
	if (error)
		page_notice(r, "error", error);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/indicateurs-fiche/%lld/modifier\" "
	            "class=\"form\">",
	            (long long)fi->id);
	page_csrf(r);
	if (!fi->ind.shared) {
		buf_puts(&r->out, "<fieldset><legend>Définition (indicateur propre à la fiche)"
		                  "</legend>");
		indicator_fields(&r->out, &fi->ind, 1);
		buf_puts(&r->out, "</fieldset>");
	} else {
		html_printf(&r->out,
		            "<p>Indicateur du référentiel : <a href=\"/indicateurs/%lld\">voir sa "
		            "définition</a>.</p>",
		            (long long)fi->ind.id);
	}
	frequency_select(&r->out, "s-frequency", form_or(r, from_form, "frequency", fi->frequency));

	int qual = fiche_ind_qualitative(fi);
	char num[64] = "";
	buf_puts(&r->out, "<fieldset><legend>Valeur de référence</legend><p class=\"hint\">La "
	                  "situation de départ, avant ou au début de l'action.</p>");
	if (qual) {
		html_printf(&r->out,
		            "<div class=\"field\"><label for=\"s-btext\">Appréciation de "
		            "référence</label><textarea id=\"s-btext\" name=\"baseline_text\" "
		            "rows=\"3\" maxlength=\"1000\">%s</textarea></div>",
		            form_or(r, from_form, "baseline_text", fi->baseline_text));
		if (fi->has_baseline_value)
			snprintf(num, sizeof num, "%d", (int)lround(fi->baseline_value));
		const char *cur = form_or(r, from_form, "baseline_level", num);
		buf_puts(&r->out,
		         "<div class=\"field\"><label for=\"s-blevel\">Niveau de "
		         "référence</label><select id=\"s-blevel\" name=\"baseline_level\">");
		option(&r->out, "", "— non renseigné —", cur ? cur : "");
		for (int l = 1; l <= 4; l++) {
			char v[4], label[64];
			snprintf(v, sizeof v, "%d", l);
			snprintf(label, sizeof label, "%d — %s", l, indicator_level_label(l));
			option(&r->out, v, label, cur);
		}
		buf_puts(&r->out, "</select></div>");
	} else {
		if (fi->has_baseline_value)
			number_plain(num, fi->baseline_value);
		html_printf(
		    &r->out,
		    "<div class=\"field\"><label for=\"s-bvalue\">Valeur%R%s%R</label><input "
		    "id=\"s-bvalue\" name=\"baseline_value\" inputmode=\"decimal\" "
		    "maxlength=\"40\" value=\"%s\"></div>",
		    *fi->ind.unit ? " (" : "", fi->ind.unit, *fi->ind.unit ? ")" : "",
		    form_or(r, from_form, "baseline_value", num));
	}
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"s-bdate\">Date de la valeur de référence"
	            "</label><input id=\"s-bdate\" name=\"baseline_date\" type=\"date\" "
	            "value=\"%s\"></div></fieldset>",
	            form_or(r, from_form, "baseline_date", fi->baseline_date));

	int y0, y1;
	target_years(f, &y0, &y1);
	html_printf(&r->out,
	            "<fieldset><legend>Cibles par année</legend><p class=\"hint\">La valeur visée "
	            "à la fin de chaque année (%d–%d)%R ; laissez vide une année sans cible.</p>",
	            y0, y1, qual ? ", en niveau de 1 à 4" : ", virgule décimale acceptée");
	for (int y = y0; y <= y1; y++) {
		char name[32], stored[64] = "";
		snprintf(name, sizeof name, "target_%d", y);
		for (size_t k = 0; k < fi->ntargets; k++)
			if (fi->targets[k].year == y) {
				if (qual)
					snprintf(stored, sizeof stored, "%d",
					         (int)lround(fi->targets[k].value));
				else
					number_plain(stored, fi->targets[k].value);
			}
		const char *cur = form_or(r, from_form, name, stored);
		if (qual) {
			html_printf(&r->out,
			            "<div class=\"field\"><label for=\"s-%s\">Cible %d</label>"
			            "<select id=\"s-%s\" name=\"%s\">",
			            name, y, name, name);
			option(&r->out, "", "— aucune —", cur ? cur : "");
			for (int l = 1; l <= 4; l++) {
				char v[4], label[64];
				snprintf(v, sizeof v, "%d", l);
				snprintf(label, sizeof label, "%d — %s", l,
				         indicator_level_label(l));
				option(&r->out, v, label, cur);
			}
			buf_puts(&r->out, "</select></div>");
		} else {
			html_printf(
			    &r->out,
			    "<div class=\"field\"><label for=\"s-%s\">Cible %d</label><input "
			    "id=\"s-%s\" name=\"%s\" inputmode=\"decimal\" maxlength=\"40\" "
			    "value=\"%s\"></div>",
			    name, y, name, name, cur ? cur : "");
		}
	}
	html_printf(&r->out,
	            "</fieldset><div class=\"actions\"><button type=\"submit\" class=\"button\">"
	            "Enregistrer</button><a class=\"button secondary\" "
	            "href=\"/indicateurs-fiche/%lld\">Annuler</a></div></form></div>\n",
	            (long long)fi->id);
	page_end(r);
}

/*
 * Read the settings form into next (a copy of fi's stored values is expected): frequency,
 * baseline, targets (years y0..y1 only). NULL when acceptable, else a French message
 * (malloc'ed).
 */
static char *fi_settings_parse(struct req *r, struct fiche_ind *next, int y0, int y1)
{
	int qual = fiche_ind_qualitative(next);
	const char *freq = req_form(r, "frequency");
	if (!label_valid(frequencies, COUNT(frequencies), freq))
		return xstrdup(
		    "Choisissez une fréquence : mensuelle, trimestrielle, semestrielle ou "
		    "annuelle.");
	free(next->frequency);
	next->frequency = xstrdup(freq);

	next->has_baseline_value = 0;
	free(next->baseline_text);
	next->baseline_text = NULL;
	free(next->baseline_date);
	next->baseline_date = NULL;
	if (qual) {
		const char *t = req_form(r, "baseline_text"), *l = req_form(r, "baseline_level");
		if (!is_blank(t)) {
			next->baseline_text = str_trim_dup(t);
			if (text_chars(next->baseline_text) > TEXT_MAX_CHARS)
				return xstrdup("L'appréciation de référence est limitée à 1 000 "
				               "caractères.");
		}
		if (!is_blank(l)) {
			int64_t level;
			if (parse_int64(l, &level) || level < 1 || level > 4)
				return xstrdup(
				    "Le niveau de référence doit être un nombre entier de "
				    "1 à 4.");
			next->has_baseline_value = 1;
			next->baseline_value = (double)level;
		}
	} else {
		const char *v = req_form(r, "baseline_value");
		if (!is_blank(v)) {
			if (indicator_number_parse(v, &next->baseline_value)) {
				char *t = typed(v);
				char *m = xasprintf("La valeur de référence « %s » n'est pas un "
				                    "nombre : écrivez par exemple 12,5.",
				                    t);
				free(t);
				return m;
			}
			next->has_baseline_value = 1;
		}
	}
	const char *d = req_form(r, "baseline_date");
	if (!is_blank(d)) {
		char iso[16];
		if (date_read_any(d, iso))
			return xstrdup("La date de la valeur de référence n'est pas valide : "
			               "écrivez-la AAAA-MM-JJ.");
		char today[16], tomorrow[16];
		today_and_tomorrow(today, tomorrow);
		if (strcmp(iso, tomorrow) > 0)
			return xstrdup("La date de la valeur de référence ne peut pas être dans le "
			               "futur.");
		next->baseline_date = xstrdup(iso);
	}
	if ((next->has_baseline_value || next->baseline_text) && !next->baseline_date)
		return xstrdup("Indiquez la date de la valeur de référence.");

	/* Targets: every target_YYYY field, which must be in the period. */
	free(next->targets);
	next->targets = NULL;
	next->ntargets = 0;
	size_t cap = 0;
	for (size_t i = 0; i < r->form.n; i++) {
		const char *key = r->form.items[i].key, *val = r->form.items[i].val;
		if (strncmp(key, "target_", 7) != 0)
			continue;
		int64_t year;
		if (parse_int64(key + 7, &year) || year < 1900 || year > 2999)
			return xstrdup("Une cible porte sur une année qui n'est pas valide.");
		if (is_blank(val))
			continue;
		if (year < y0 || year > y1)
			return xasprintf("L'année %lld est hors de la période du plan (%d–%d) : "
			                 "aucune cible ne peut y être fixée.",
			                 (long long)year, y0, y1);
		double v;
		if (qual) {
			int64_t level;
			if (parse_int64(val, &level) || level < 1 || level > 4)
				return xasprintf("La cible %lld doit être un niveau de 1 à 4.",
				                 (long long)year);
			v = (double)level;
		} else if (indicator_number_parse(val, &v)) {
			char *t = typed(val);
			char *m =
			    xasprintf("La cible %lld (« %s ») n'est pas un nombre : écrivez par "
			              "exemple 12,5.",
			              (long long)year, t);
			free(t);
			return m;
		}
		for (size_t k = 0; k < next->ntargets; k++)
			if (next->targets[k].year == year)
				return xasprintf("La cible %lld est donnée deux fois.",
				                 (long long)year);
		if (next->ntargets == cap) {
			cap = cap ? cap * 2 : 8;
			next->targets = xrealloc(next->targets, cap * sizeof *next->targets);
		}
		next->targets[next->ntargets].year = (int)year;
		next->targets[next->ntargets].value = v;
		next->ntargets++;
	}
	return NULL;
}

/* Store the settings of next (and its definition when fiche-specific) with the audit entries,
 * in the caller's transaction. */
static int fi_settings_store(struct db *db, struct fiche_ind *next, const struct fiche_ind *before,
                             int64_t user_id, const char *origin)
{
	int rc = DB_OK;
	if (!next->ind.shared)
		rc = indicator_store(db, &next->ind, &before->ind, user_id, origin);
	struct db_stmt *st = rc == DB_OK ? db_prepare(db, "UPDATE fiche_indicators SET "
	                                                  "baseline_value = ?, baseline_text = ?, "
	                                                  "baseline_date = ?, frequency = ? "
	                                                  "WHERE id = ?")
	                                 : NULL;
	if (rc == DB_OK && !st)
		rc = DB_ERROR;
	if (st) {
		if (next->has_baseline_value)
			db_bind_double(st, 1, next->baseline_value);
		else
			db_bind_null(st, 1);
		db_bind_text(st, 2, next->baseline_text);
		db_bind_text(st, 3, next->baseline_date);
		db_bind_text(st, 4, next->frequency);
		db_bind_int64(st, 5, next->id);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
		db_finalize(st);
	}
	if (rc == DB_OK)
		rc = db_execf(db, "DELETE FROM indicator_targets WHERE fiche_indicator_id = ?", "I",
		              next->id);
	for (size_t k = 0; rc == DB_OK && k < next->ntargets; k++)
		rc = db_execf(db,
		              "INSERT INTO indicator_targets (fiche_indicator_id, year, value) "
		              "VALUES (?, ?, ?)",
		              "Iid", next->id, next->targets[k].year, next->targets[k].value);
	if (rc == DB_OK) {
		json_t *b = fiche_ind_audit_json(before), *a = fiche_ind_audit_json(next);
		rc = audit_write_id(db, user_id, origin, "update", "fiche_indicator", next->id, b,
		                    a);
		json_decref(b);
		json_decref(a);
	}
	return rc;
}

static void fi_settings(struct req *r)
{
	struct fiche_ind fi, next;
	struct fiche_ctx f;
	if (fi_require(r, 1, &fi, &f))
		return;
	if (r->method == M_GET) {
		fi_settings_render(r, &fi, &f, NULL, 0);
		fiche_ind_free(&fi);
		fiche_ctx_free(&f);
		return;
	}
	fiche_ind_load(r->db, fi.id, &next);
	char *why = NULL;
	if (!next.ind.shared) {
		const char *m = indicator_from_form(r, &next.ind, 1);
		if (m) {
			why = xstrdup(m);
		} else if (strcmp(next.ind.value_type, fi.ind.value_type) != 0) {
			why = xstrdup("Le type de valeur ne peut pas changer après la création de "
			              "l'indicateur.");
			free(next.ind.value_type);
			next.ind.value_type = xstrdup(fi.ind.value_type);
		}
	}
	int y0, y1;
	target_years(&f, &y0, &y1);
	if (!why)
		why = fi_settings_parse(r, &next, y0, y1);
	if (why) {
		/* Show the definition as typed, the rest from the form too. */
		fi_settings_render(r, &next, &f, why, 1);
		r->status = 422;
		free(why);
		fiche_ind_free(&next);
		fiche_ind_free(&fi);
		fiche_ctx_free(&f);
		return;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = fi_settings_store(r->db, &next, &fi, r->user->id, "web");
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	int64_t id = fi.id;
	fiche_ind_free(&next);
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
	if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué.");
		return;
	}
	char loc[80];
	snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld?ok=reglages", (long long)id);
	resp_redirect(r, loc);
}

/* Detach: a confirmation page (GET), then the removal with its measurements (POST). */
static void fi_detach(struct req *r)
{
	struct fiche_ind fi;
	struct fiche_ctx f;
	if (fi_require(r, 1, &fi, &f))
		return;
	int64_t count = 0;
	db_int64f(r->db, &count, "SELECT COUNT(*) FROM measurements WHERE fiche_indicator_id = ?",
	          "I", fi.id);
	if (r->method == M_GET) {
		char plan_href[48], inds_href[64], inds_label[300];
		snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f.plan_id);
		snprintf(inds_href, sizeof inds_href, "/fiches/%lld/indicateurs",
		         (long long)f.node_id);
		snprintf(inds_label, sizeof inds_label, "Indicateurs de la fiche %s", f.number);
		page_begin(r, "Retirer un indicateur",
		           FICHE_CRUMBS(&f, plan_href, inds_href, inds_label));
		html_printf(
		    &r->out,
		    "<div class=\"narrow\"><h1>Retirer « %s » de la fiche %s</h1>\n"
		    "<p class=\"notice notice-warning\">%lld mesure%s de cet indicateur "
		    "ser%s supprimée%s avec ses cibles et sa valeur de référence%s. Cette "
		    "opération reste inscrite dans l'historique.</p>\n<form method=\"post\" "
		    "action=\"/indicateurs-fiche/%lld/retirer\" class=\"form\">",
		    fi.ind.name, f.number, (long long)count, count > 1 ? "s" : "",
		    count > 1 ? "ont" : "a", count > 1 ? "s" : "",
		    fi.ind.shared ? "" : " (l'indicateur, propre à la fiche, disparaît aussi)",
		    (long long)fi.id);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<div class=\"actions\"><button type=\"submit\" class=\"button danger\">"
		    "Retirer l'indicateur</button><a class=\"button secondary\" href=\"%s\">"
		    "Annuler</a></div></form></div>\n",
		    inds_href);
		page_end(r);
		fiche_ind_free(&fi);
		fiche_ctx_free(&f);
		return;
	}
	json_t *before = fiche_ind_audit_json(&fi);
	json_t *ms = json_array();
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT id, measured_on, value, text_value, level FROM "
	              "measurements WHERE fiche_indicator_id = ? ORDER BY measured_on",
	              "I", fi.id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    ms,
		    json_pack("{s:I,s:s,s:o,s:o,s:o}", "id", (json_int_t)db_col_int64(st, 0),
		              "measured_on", db_col_text(st, 1), "value",
		              db_col_is_null(st, 2) ? json_null() : json_real(db_col_double(st, 2)),
		              "text_value", json_text(db_col_text(st, 3)), "level",
		              db_col_is_null(st, 4) ? json_null()
		                                    : json_integer(db_col_int64(st, 4))));
	db_finalize(st);
	json_object_set_new(before, "measurements", ms);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM fiche_indicators WHERE id = ?", "I", fi.id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "fiche_indicator", fi.id,
		                    before, NULL);
	if (rc == DB_OK && !fi.ind.shared) {
		json_t *b = indicator_json(&fi.ind);
		rc = db_execf(r->db, "DELETE FROM indicators WHERE id = ?", "I", fi.ind.id);
		if (rc == DB_OK)
			rc = audit_write_id(r->db, r->user->id, "web", "delete", "indicator",
			                    fi.ind.id, b, NULL);
		json_decref(b);
	}
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(before);
	int64_t node = f.node_id;
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
	if (rc != DB_OK) {
		resp_error(r, 500, "Le retrait de l'indicateur a échoué.");
		return;
	}
	char loc[80];
	snprintf(loc, sizeof loc, "/fiches/%lld/indicateurs?ok=retire", (long long)node);
	resp_redirect(r, loc);
}

/* --- one measurement: change, delete -------------------------------------------------------- */

/* First statement of {measurement} routes: the measurement exists on a visible fiche (404
 * otherwise) and the request may change it (its own on a fiche it may edit; any for the plan's
 * coordinators). Loads m, fi and f. Answers itself and returns -1 when refused. */
static int measurement_require(struct req *r, struct measurement *m, struct fiche_ind *fi,
                               struct fiche_ctx *f)
{
	memset(m, 0, sizeof *m);
	memset(fi, 0, sizeof *fi);
	memset(f, 0, sizeof *f);
	int64_t id, node = 0;
	if (req_param_id(r, 0, &id))
		return -1;
	if (db_int64f(r->db, &node,
	              "SELECT fi.node_id FROM measurements m JOIN fiche_indicators fi "
	              "ON fi.id = m.fiche_indicator_id WHERE m.id = ?",
	              "I", id) != DB_OK ||
	    !node) {
		resp_error(r, 404, "Cette mesure n'existe pas ou n'est pas visible pour vous.");
		return -1;
	}
	if (fiche_require_edit(r, node))
		return -1;
	if (measurement_load(r->db, id, m) <= 0 || fiche_ind_load(r->db, m->fi_id, fi) <= 0 ||
	    fiche_ctx_load(r->db, node, f) <= 0) {
		measurement_free(m);
		fiche_ind_free(fi);
		fiche_ctx_free(f);
		resp_error(r, 404, "Cette mesure n'existe pas.");
		return -1;
	}
	if (!measurement_can_modify(r, fi, m)) {
		measurement_free(m);
		fiche_ind_free(fi);
		fiche_ctx_free(f);
		resp_error(r, 403,
		           "Vous ne pouvez modifier que les mesures que vous avez saisies ; "
		           "la coordination du plan peut modifier toutes les mesures.");
		return -1;
	}
	return 0;
}

static void measurement_edit_render(struct req *r, const struct measurement *m,
                                    const struct fiche_ind *fi, const struct fiche_ctx *f,
                                    const struct mform *mf)
{
	char plan_href[48], fi_href[64];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f->plan_id);
	snprintf(fi_href, sizeof fi_href, "/indicateurs-fiche/%lld", (long long)fi->id);
	page_begin(r, "Modifier une mesure", FICHE_CRUMBS(f, plan_href, fi_href, fi->ind.name));
	html_printf(&r->out,
	            "<div class=\"narrow\"><p class=\"eyebrow\">Fiche %s — %s</p>\n<h1>Modifier "
	            "une mesure de « %s »</h1>\n",
	            f->number, f->title, fi->ind.name);
	if (mf->error)
		page_notice(r, "error", mf->error);
	html_printf(&r->out,
	            "<form method=\"post\" action=\"/mesures/%lld/modifier\" class=\"form\">",
	            (long long)m->id);
	page_csrf(r);
	measurement_fields(&r->out, fi, mf);
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer"
	            "</button><a class=\"button secondary\" href=\"%s\">Annuler</a></div></form>"
	            "</div>\n",
	            fi_href);
	page_end(r);
}

static void measurement_edit(struct req *r)
{
	struct measurement m;
	struct fiche_ind fi;
	struct fiche_ctx f;
	if (measurement_require(r, &m, &fi, &f))
		return;
	if (r->method == M_GET) {
		char value[64] = "", level[8] = "";
		if (m.v.has_value)
			number_plain(value, m.v.value);
		if (m.v.level)
			snprintf(level, sizeof level, "%d", m.v.level);
		struct mform mf = {m.v.date, value, m.v.text, level, m.v.source, m.v.comment};
		measurement_edit_render(r, &m, &fi, &f, &mf);
		goto out;
	}
	struct mform mf = {req_form(r, "measured_on"), req_form(r, "value"),
	                   req_form(r, "text_value"),  req_form(r, "level"),
	                   req_form(r, "source"),      req_form(r, "comment")};
	struct mvalues mv;
	char *why = measurement_check(r->db, &fi, mf.date, mf.value, mf.text, mf.level, mf.source,
	                              mf.comment, m.id, &mv, &mf.field);
	if (why) {
		mf.error = why;
		measurement_edit_render(r, &m, &fi, &f, &mf);
		r->status = 422;
		free(why);
		mvalues_free(&mv);
		goto out;
	}
	struct db_stmt *st = NULL;
	int rc = db_begin(r->db);
	if (rc == DB_OK) {
		st = db_prepare(r->db, "UPDATE measurements SET measured_on = ?, value = ?, "
		                       "text_value = ?, level = ?, source = ?, comment = ? "
		                       "WHERE id = ?");
		rc = st ? DB_OK : DB_ERROR;
	}
	if (st) {
		db_bind_text(st, 1, mv.date);
		if (mv.has_value)
			db_bind_double(st, 2, mv.value);
		else
			db_bind_null(st, 2);
		db_bind_text(st, 3, mv.text);
		if (mv.level)
			db_bind_int64(st, 4, mv.level);
		else
			db_bind_null(st, 4);
		db_bind_text(st, 5, mv.source);
		db_bind_text(st, 6, mv.comment);
		db_bind_int64(st, 7, m.id);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
		db_finalize(st);
	}
	if (rc == DB_OK) {
		json_t *b = mvalues_json(&fi, &m.v), *a = mvalues_json(&fi, &mv);
		rc = audit_write_id(r->db, r->user->id, "web", "update", "measurement", m.id, b, a);
		json_decref(b);
		json_decref(a);
	}
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	mvalues_free(&mv);
	if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement de la mesure a échoué.");
		goto out;
	}
	char loc[80];
	snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld?ok=modifiee#mesures", (long long)fi.id);
	resp_redirect(r, loc);
out:
	measurement_free(&m);
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
}

static void measurement_delete(struct req *r)
{
	struct measurement m;
	struct fiche_ind fi;
	struct fiche_ctx f;
	if (measurement_require(r, &m, &fi, &f))
		return;
	char date[64], text[160];
	date_fr(date, m.v.date);
	if (fiche_ind_qualitative(&fi))
		value_text(text, &fi.ind, m.v.level);
	else
		value_text(text, &fi.ind, m.v.value);
	if (r->method == M_GET) {
		char plan_href[48], fi_href[64];
		snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)f.plan_id);
		snprintf(fi_href, sizeof fi_href, "/indicateurs-fiche/%lld", (long long)fi.id);
		page_begin(r, "Supprimer une mesure",
		           FICHE_CRUMBS(&f, plan_href, fi_href, fi.ind.name));
		html_printf(&r->out,
		            "<div class=\"narrow\"><h1>Supprimer la mesure du %s</h1>\n<p>« %s » : "
		            "%s. La suppression reste inscrite dans l'historique.</p>\n<form "
		            "method=\"post\" action=\"/mesures/%lld/supprimer\" class=\"form\">",
		            date, fi.ind.name, text, (long long)m.id);
		page_csrf(r);
		html_printf(
		    &r->out,
		    "<div class=\"actions\"><button type=\"submit\" class=\"button danger\">"
		    "Supprimer la mesure</button><a class=\"button secondary\" href=\"%s\">"
		    "Annuler</a></div></form></div>\n",
		    fi_href);
		page_end(r);
		goto out;
	}
	json_t *b = mvalues_json(&fi, &m.v);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM measurements WHERE id = ?", "I", m.id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "measurement", m.id, b,
		                    NULL);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(b);
	if (rc != DB_OK) {
		resp_error(r, 500, "La suppression de la mesure a échoué.");
		goto out;
	}
	char loc[80];
	snprintf(loc, sizeof loc, "/indicateurs-fiche/%lld?ok=supprimee#mesures", (long long)fi.id);
	resp_redirect(r, loc);
out:
	measurement_free(&m);
	fiche_ind_free(&fi);
	fiche_ctx_free(&f);
}

/* --- overdue measurements --------------------------------------------------------------------- */

/* Compare node numbers "1.2.10" > "1.2.9" segment by segment. */
static int number_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!*a || !*b)
			break;
		if ((*a < '0' || *a > '9') || (*b < '0' || *b > '9'))
			return strcmp(a, b);
	}
	return (*a != 0) - (*b != 0);
}

static int overdue_cmp(const void *pa, const void *pb)
{
	const struct overdue *a = pa, *b = pb;
	int c = strcmp(a->plan_title, b->plan_title);
	if (c)
		return c;
	if (a->plan_id != b->plan_id)
		return a->plan_id < b->plan_id ? -1 : 1;
	c = number_cmp(a->fiche_number, b->fiche_number);
	if (c)
		return c;
	c = strcmp(a->indicator_name, b->indicator_name);
	if (c)
		return c;
	return a->fiche_indicator_id < b->fiche_indicator_id ? -1 : 1;
}

void indicators_overdue_free(struct overdue *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].plan_title);
		free(list[i].fiche_number);
		free(list[i].fiche_title);
		free(list[i].indicator_name);
	}
	free(list);
}

int indicators_overdue_at(struct db *db, int64_t user_id, int64_t plan_id, const char *today,
                          struct overdue **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (date_days(today) == NO_DAYS)
		return -1;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT fi.id, fi.node_id, n.plan_id, p.title, n.number, n.title, i.name, i.kind, "
	    "fi.frequency, (SELECT MAX(m.measured_on) FROM measurements m "
	    "WHERE m.fiche_indicator_id = fi.id), fi.baseline_date, f.start_date, f.end_date "
	    "FROM fiche_indicators fi JOIN fiches f ON f.node_id = fi.node_id "
	    "JOIN nodes n ON n.id = fi.node_id JOIN plans p ON p.id = n.plan_id "
	    "JOIN indicators i ON i.id = fi.indicator_id "
	    "WHERE n.archived = 0 AND f.status IN ('retenue', 'en_cours') "
	    "AND (? = 0 OR n.plan_id = ?) "
	    "AND (? = 0 OR (EXISTS (SELECT 1 FROM fiche_pilots fp WHERE fp.node_id = fi.node_id "
	    "AND fp.user_id = ?) AND EXISTS (SELECT 1 FROM plan_members pm "
	    "WHERE pm.plan_id = n.plan_id AND pm.user_id = ?)))",
	    "IIIII", plan_id, plan_id, user_id, user_id, user_id);
	if (!st)
		return -1;
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *last = db_col_text(st, 9), *baseline = db_col_text(st, 10);
		const char *start = db_col_text(st, 11), *end = db_col_text(st, 12);
		const char *ref = last ? last : baseline ? baseline : start;
		char due[16];
		int missed = due_compute(ref, db_col_text(st, 8), end, today, due);
		if (!missed)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		struct overdue *o = &(*out)[(*n)++];
		memset(o, 0, sizeof *o);
		o->fiche_indicator_id = db_col_int64(st, 0);
		o->node_id = db_col_int64(st, 1);
		o->plan_id = db_col_int64(st, 2);
		o->plan_title = xstrdup(db_col_text(st, 3));
		o->fiche_number = xstrdup(db_col_text(st, 4));
		o->fiche_title = xstrdup(db_col_text(st, 5));
		o->indicator_name = xstrdup(db_col_text(st, 6));
		snprintf(o->kind, sizeof o->kind, "%s", db_col_text(st, 7));
		snprintf(o->frequency, sizeof o->frequency, "%s", db_col_text(st, 8));
		snprintf(o->last_date, sizeof o->last_date, "%s", last ? last : "");
		snprintf(o->reference_date, sizeof o->reference_date, "%s", ref);
		memcpy(o->due_date, due, sizeof o->due_date);
		o->missed = missed;
		o->days_late = (int)(date_days(today) - date_days(due));
	}
	db_finalize(st);
	if (rc != DB_DONE) {
		indicators_overdue_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(*out, *n, sizeof **out, overdue_cmp);
	return 0;
}

int indicators_overdue(struct db *db, int64_t user_id, int64_t plan_id, struct overdue **out,
                       size_t *n)
{
	char today[16];
	fiche_today(today);
	return indicators_overdue_at(db, user_id, plan_id, today, out, n);
}

/* The table of overdue measurements; show_plan adds the plan column. */
static void overdue_table(struct buf *o, const struct overdue *list, size_t n, int show_plan,
                          const char *caption_id)
{
	html_printf(
	    o,
	    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"%s\">"
	    "<table><caption id=\"%s\">Mesures attendues et non saisies, par fiche-action"
	    "</caption><thead><tr>%R<th scope=\"col\">Fiche-action</th>"
	    "<th scope=\"col\">Indicateur</th><th scope=\"col\">Fréquence</th>"
	    "<th scope=\"col\">Dernière mesure</th><th scope=\"col\">Attendue depuis le</th>"
	    "<th scope=\"col\" class=\"num\">Mesures manquantes</th>"
	    "<th scope=\"col\">Action</th></tr></thead><tbody>\n",
	    caption_id, caption_id, show_plan ? "<th scope=\"col\">Plan</th>" : "");
	for (size_t i = 0; i < n; i++) {
		const struct overdue *d = &list[i];
		char last[64], due[64];
		date_fr(last, d->last_date);
		date_fr(due, d->due_date);
		buf_puts(o, "<tr>");
		if (show_plan)
			html_printf(o, "<td><a href=\"/plans/%lld\">%s</a></td>",
			            (long long)d->plan_id, d->plan_title);
		html_printf(
		    o,
		    "<th scope=\"row\"><a href=\"/fiches/%lld/indicateurs\">%s %s</a></th>"
		    "<td><a href=\"/indicateurs-fiche/%lld\">%s</a><br><span "
		    "class=\"muted\">%s</span></td><td>%s</td><td>%s</td>"
		    "<td>%s <span class=\"badge badge-error\">%d jour%s de retard</span></td>"
		    "<td class=\"num\">%d</td><td><a class=\"button small\" "
		    "href=\"/indicateurs-fiche/%lld#saisie\">Saisir<span "
		    "class=\"visually-hidden\"> %s, fiche %s</span></a></td></tr>\n",
		    (long long)d->node_id, d->fiche_number, d->fiche_title,
		    (long long)d->fiche_indicator_id, d->indicator_name,
		    indicator_kind_label(d->kind), indicator_frequency_label(d->frequency),
		    *last ? last : "aucune", due, d->days_late, d->days_late > 1 ? "s" : "",
		    d->missed, (long long)d->fiche_indicator_id, d->indicator_name,
		    d->fiche_number);
	}
	buf_puts(o, "</tbody></table></div>\n");
}

static void overdue_page(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_PILOT))
		return;
	enum role role = plan_role(r, plan);
	int all = role >= ROLE_COORDINATOR;
	struct overdue *list;
	size_t n;
	if (indicators_overdue(r->db, all ? 0 : r->user->id, plan, &list, &n)) {
		resp_error(r, 500, "Le calcul des mesures en retard a échoué.");
		return;
	}
	char *title = NULL;
	struct db_stmt *st = db_queryf(r->db, "SELECT title FROM plans WHERE id = ?", "I", plan);
	if (st && db_step(st) == DB_ROW)
		title = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan);
	page_begin(r, "Mesures en retard",
	           (const struct crumb[]){{title ? title : "Plan", plan_href}, {NULL, NULL}});
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p>\n<h1>Mesures d'indicateurs en retard</h1>\n"
	            "<p class=\"lead\">%s</p>\n<p class=\"hint\">%s</p>\n",
	            title ? title : "",
	            all ? "Toutes les fiches-actions du plan."
	                : "Les fiches-actions dont vous êtes pilote.",
	            INDICATORS_OVERDUE_RULE);
	if (n) {
		size_t missed = 0;
		for (size_t i = 0; i < n; i++)
			missed += (size_t)list[i].missed;
		html_printf(&r->out,
		            "<p class=\"count\" role=\"status\">%zu indicateur%s en retard, %zu "
		            "mesure%s manquante%s</p>\n",
		            n, n > 1 ? "s" : "", missed, missed > 1 ? "s" : "",
		            missed > 1 ? "s" : "");
		overdue_table(&r->out, list, n, 0, "overdue-caption");
	} else {
		page_notice(r, "success", "Aucune mesure n'est en retard.");
	}
	if (all)
		html_printf(&r->out,
		            "<div class=\"actions\"><a class=\"button secondary\" "
		            "href=\"/plans/%lld/mesures/importer\">Importer des mesures (CSV)</a>"
		            "</div>\n",
		            (long long)plan);
	indicators_overdue_free(list, n);
	free(title);
	page_end(r);
}

int indicators_overdue_section(struct req *r, int64_t plan_id)
{
	if (!r->user)
		return 0;
	struct overdue *list;
	size_t n;
	if (indicators_overdue(r->db, r->user->id, plan_id, &list, &n))
		return -1;
	buf_puts(&r->out, "<section aria-labelledby=\"overdue-h\"><h2 id=\"overdue-h\">Mesures "
	                  "d'indicateurs en retard</h2>");
	if (n) {
		int plans = 0;
		for (size_t i = 1; i < n; i++)
			plans |= list[i].plan_id != list[0].plan_id;
		overdue_table(&r->out, list, n, plan_id == 0 && plans, "overdue-mine-caption");
	} else {
		buf_puts(&r->out, "<p>Aucune mesure n'est en retard sur vos fiches-actions.</p>");
	}
	html_printf(&r->out,
	            "<details><summary>Règle de calcul</summary><p>%s</p></details>"
	            "</section>\n",
	            INDICATORS_OVERDUE_RULE);
	indicators_overdue_free(list, n);
	return (int)n;
}

/* --- CSV import ------------------------------------------------------------------------------- */

/* One CSV record: its fields (owned) and the line it starts on. */
/* A record of the import file: a view of the csv_in reader's fields (valid until its next
 * record). */
struct csv_rec {
	int line;
	char **f;
	size_t n;
};

/* A fiche indicator of the plan being imported into. */
struct imp_fi {
	int64_t fi_id, node_id, ind_id;
	char *number, *name, *folded;
	int qualitative;
};

/* A valid row waiting to be stored. */
struct imp_row {
	size_t fi; /* index into the imp_fi array */
	int line;
	struct mvalues v;
};

static void import_error_add(struct import_result *res, int line, const char *column, char *msg)
{
	if (res->nerrors >= IMPORT_MAX_ERRORS) {
		res->more_errors++;
		free(msg);
		return;
	}
	res->errors = xrealloc(res->errors, (res->nerrors + 1) * sizeof *res->errors);
	res->errors[res->nerrors++] = (struct import_error){line, column, msg};
}

void import_result_free(struct import_result *res)
{
	for (size_t i = 0; i < res->nerrors; i++)
		free(res->errors[i].message);
	free(res->errors);
	memset(res, 0, sizeof *res);
}

static int import_error_cmp(const void *pa, const void *pb)
{
	const struct import_error *a = pa, *b = pb;
	return (a->line > b->line) - (a->line < b->line);
}

static int imp_row_cmp(const void *pa, const void *pb)
{
	const struct imp_row *a = pa, *b = pb;
	if (a->fi != b->fi)
		return a->fi < b->fi ? -1 : 1;
	int c = strcmp(a->v.date, b->v.date);
	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

/* A trimmed copy of field i of rec ("" when absent), without the formula guard the template
 * export may have added (csv_fr_unguard). */
static char *field_at(const struct csv_rec *rec, size_t i)
{
	return i < rec->n ? str_trim_dup(csv_fr_unguard(rec->f[i])) : xstrdup("");
}

/* Check one data row: valid rows are appended to rows, errors to res. */
static void import_row(struct db *db, const struct csv_rec *rec, const struct imp_fi *fis,
                       size_t nfis, char **numbers, size_t nnumbers, struct imp_row **rows,
                       size_t *nrows, size_t *caprows, struct import_result *res)
{
	int line = rec->line;
	if (rec->n < 4) {
		import_error_add(res, line, "",
		                 rec->n == 1
		                     ? xstrdup("Une seule colonne lue : le séparateur attendu "
		                               "est le point-virgule « ; » (fiche;indicateur;"
		                               "date;valeur;source;commentaire).")
		                     : xasprintf("%zu colonnes lues, 4 au moins attendues "
		                                 "(fiche;indicateur;date;valeur).",
		                                 rec->n));
		return;
	}
	if (rec->n > 7) {
		/* Trailing empty fields (a spreadsheet's extra separators) are tolerated. */
		for (size_t i = 7; i < rec->n; i++)
			if (!is_blank(rec->f[i])) {
				import_error_add(res, line, "",
				                 xasprintf("%zu colonnes lues, 7 au plus attendues "
				                           "(fiche;indicateur;date;valeur;source;"
				                           "commentaire;niveau).",
				                           rec->n));
				return;
			}
	}
	char *fiche = field_at(rec, 0), *ind = field_at(rec, 1);
	int errors_before = (int)(res->nerrors + res->more_errors);
	/* The fiche, then the indicator attached to it. */
	int fiche_known = 0;
	for (size_t i = 0; i < nnumbers && !fiche_known; i++)
		fiche_known = !strcmp(numbers[i], fiche);
	size_t found = (size_t)-1;
	if (!*fiche) {
		import_error_add(res, line, "fiche", xstrdup("Numéro de fiche absent."));
	} else if (!fiche_known) {
		char *t = typed(fiche);
		import_error_add(
		    res, line, "fiche",
		    xasprintf("Fiche « %s » inconnue dans ce plan (numéro attendu, par "
		              "exemple 1.2.3).",
		              t));
		free(t);
	} else if (!*ind) {
		import_error_add(res, line, "indicateur", xstrdup("Indicateur absent."));
	} else {
		int64_t id = 0;
		int by_id = parse_int64(ind, &id) == 0;
		char *key = text_fold(ind);
		int matches = 0;
		for (size_t i = 0; i < nfis; i++) {
			if (strcmp(fis[i].number, fiche) != 0)
				continue;
			if ((by_id && fis[i].ind_id == id) || !strcmp(fis[i].folded, key)) {
				matches++;
				found = i;
			}
		}
		free(key);
		if (matches > 1) {
			found = (size_t)-1;
			import_error_add(
			    res, line, "indicateur",
			    xasprintf("Plusieurs indicateurs de la fiche %s répondent à "
			              "« %s » : indiquez le numéro de l'indicateur.",
			              fiche, ind));
		} else if (!matches) {
			char *t = typed(ind);
			import_error_add(res, line, "indicateur",
			                 xasprintf("L'indicateur « %s » n'est pas rattaché à la "
			                           "fiche %s.",
			                           t, fiche));
			free(t);
		}
	}
	struct mvalues mv = {0};
	char *m, *date = field_at(rec, 2), *value = field_at(rec, 3), *level = field_at(rec, 6);
	int date_ok = 0;
	if ((m = check_date(date, &mv)))
		import_error_add(res, line, "date", m);
	else
		date_ok = 1;
	if (found != (size_t)-1) {
		if (fis[found].qualitative) {
			if ((m = check_text(value, &mv)))
				import_error_add(res, line, "valeur", m);
			if ((m = check_level(level, &mv)))
				import_error_add(res, line, "niveau", m);
		} else {
			if ((m = check_number(value, &mv)))
				import_error_add(res, line, "valeur", m);
			if (*level)
				import_error_add(
				    res, line, "niveau",
				    xstrdup("Un niveau ne se donne que pour un indicateur "
				            "qualitatif."));
		}
		if (date_ok && measurement_exists(db, fis[found].fi_id, mv.date, 0))
			import_error_add(
			    res, line, "date",
			    xasprintf("Une mesure existe déjà le %s pour « %s » (fiche "
			              "%s).",
			              mv.date, fis[found].name, fiche));
	}
	char *source = field_at(rec, 4), *comment = field_at(rec, 5);
	const char *field = NULL;
	if ((m = check_notes(source, comment, &mv, &field)))
		import_error_add(res, line, !strcmp(field, "source") ? "source" : "commentaire", m);
	free(fiche);
	free(ind);
	free(date);
	free(value);
	free(level);
	free(source);
	free(comment);
	if ((int)(res->nerrors + res->more_errors) != errors_before || found == (size_t)-1) {
		mvalues_free(&mv);
		return;
	}
	if (*nrows == *caprows) {
		*caprows = *caprows ? *caprows * 2 : 64;
		*rows = xrealloc(*rows, *caprows * sizeof **rows);
	}
	(*rows)[(*nrows)++] = (struct imp_row){found, line, mv};
}

int measurements_import(struct db *db, int64_t plan_id, int64_t user_id, const char *origin,
                        const char *data, size_t len, int dry_run, struct import_result *res)
{
	memset(res, 0, sizeof *res);
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		data += 3;
		len -= 3;
	}
	if (!utf8_valid_text(data, len)) {
		import_error_add(
		    res, 0, "",
		    xstrdup("Le fichier n'est pas un texte UTF-8 : enregistrez-le au "
		            "format « CSV UTF-8 (délimité par des points-virgules) »."));
		return 1;
	}
	/* The plan's fiches and their indicators. */
	struct imp_fi *fis = NULL;
	size_t nfis = 0, cap = 0;
	char **numbers = NULL;
	size_t nnumbers = 0, capn = 0;
	struct imp_row *rows = NULL;
	size_t nrows = 0, caprows = 0;
	int ret = -1;
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT n.number FROM fiches f JOIN nodes n ON n.id = f.node_id "
	              "WHERE n.plan_id = ? AND n.archived = 0",
	              "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		if (nnumbers == capn) {
			capn = capn ? capn * 2 : 64;
			numbers = xrealloc(numbers, capn * sizeof *numbers);
		}
		numbers[nnumbers++] = xstrdup(db_col_text(st, 0));
	}
	db_finalize(st);
	st = db_queryf(db,
	               "SELECT fi.id, fi.node_id, i.id, n.number, i.name, i.value_type "
	               "FROM fiche_indicators fi JOIN nodes n ON n.id = fi.node_id "
	               "JOIN indicators i ON i.id = fi.indicator_id "
	               "WHERE n.plan_id = ? AND n.archived = 0",
	               "I", plan_id);
	if (!st)
		goto out;
	while (db_step(st) == DB_ROW) {
		if (nfis == cap) {
			cap = cap ? cap * 2 : 64;
			fis = xrealloc(fis, cap * sizeof *fis);
		}
		struct imp_fi *x = &fis[nfis++];
		x->fi_id = db_col_int64(st, 0);
		x->node_id = db_col_int64(st, 1);
		x->ind_id = db_col_int64(st, 2);
		x->number = xstrdup(db_col_text(st, 3));
		x->name = xstrdup(db_col_text(st, 4));
		x->folded = text_fold(x->name);
		x->qualitative = !strcmp(db_col_text(st, 5), "qualitative");
	}
	db_finalize(st);

	if (db_begin(db) != DB_OK)
		goto out;
	int first = 1, rc;
	struct csv_in in;
	csv_in_open(&in, data, len, ';'); /* a failure is reported by csv_in_next */
	while ((rc = csv_in_next(&in)) != 0) {
		if (rc < 0) {
			import_error_add(
			    res, in.err_line, "",
			    xstrdup("Guillemet mal fermé : un champ entre guillemets doit "
			            "se terminer par un guillemet suivi de « ; » ou de la "
			            "fin de ligne."));
			break;
		}
		struct csv_rec rec = {in.line, in.field, in.n};
		int blank = 1;
		for (size_t i = 0; i < rec.n; i++)
			blank &= is_blank(rec.f[i]);
		if (blank)
			continue;
		if (first) {
			first = 0;
			char *h = field_at(&rec, 0), *key = text_fold(h);
			int header = !strcmp(key, "fiche");
			free(h);
			free(key);
			if (header)
				continue;
		}
		if (++res->rows > IMPORT_MAX_ROWS) {
			import_error_add(res, rec.line, "",
			                 xasprintf("Le fichier dépasse %d lignes : découpez-le.",
			                           IMPORT_MAX_ROWS));
			break;
		}
		import_row(db, &rec, fis, nfis, numbers, nnumbers, &rows, &nrows, &caprows, res);
	}
	csv_in_close(&in);
	/* The same indicator and date twice in the file. */
	if (nrows > 1) {
		qsort(rows, nrows, sizeof *rows, imp_row_cmp);
		for (size_t i = 1; i < nrows; i++)
			if (rows[i].fi == rows[i - 1].fi &&
			    !strcmp(rows[i].v.date, rows[i - 1].v.date))
				import_error_add(res, rows[i].line, "date",
				                 xasprintf("Doublon : « %s » (fiche %s) a déjà une "
				                           "mesure le %s à la ligne %d du fichier.",
				                           fis[rows[i].fi].name,
				                           fis[rows[i].fi].number, rows[i].v.date,
				                           rows[i - 1].line));
	}
	if (!res->rows && !res->nerrors)
		import_error_add(res, 0, "", xstrdup("Le fichier ne contient aucune mesure."));
	if (res->nerrors) {
		db_rollback(db);
		qsort(res->errors, res->nerrors, sizeof *res->errors, import_error_cmp);
		ret = 1;
		goto out;
	}
	if (dry_run) {
		db_rollback(db);
		ret = 0;
		goto out;
	}
	rc = DB_OK;
	for (size_t i = 0; i < nrows && rc == DB_OK; i++) {
		const struct imp_fi *x = &fis[rows[i].fi];
		struct fiche_ind fi = {.id = x->fi_id, .node_id = x->node_id};
		fi.ind.name = x->name;
		rc = measurement_insert(db, &fi, &rows[i].v, user_id, origin, "import", NULL);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (rc == DB_OK) {
		res->created = nrows;
		ret = 0;
	}
out:
	for (size_t i = 0; i < nfis; i++) {
		free(fis[i].number);
		free(fis[i].name);
		free(fis[i].folded);
	}
	free(fis);
	for (size_t i = 0; i < nnumbers; i++)
		free(numbers[i]);
	free(numbers);
	for (size_t i = 0; i < nrows; i++)
		mvalues_free(&rows[i].v);
	free(rows);
	return ret;
}

/* The import page: format, form, and the result of a POST (errors or a dry run). */
static void import_render(struct req *r, int64_t plan, const char *plan_title,
                          const struct import_result *res, int dry_run, const char *pasted)
{
	char plan_href[48];
	snprintf(plan_href, sizeof plan_href, "/plans/%lld", (long long)plan);
	page_begin(r, "Importer des mesures",
	           (const struct crumb[]){{plan_title, plan_href}, {NULL, NULL}});
	html_printf(&r->out,
	            "<p class=\"eyebrow\">%s</p>\n<h1>Importer des mesures d'indicateurs</h1>\n",
	            plan_title);
	const char *ok = req_query(r, "ok");
	int64_t created;
	if (!res && ok && parse_int64(ok, &created) == 0) {
		char *msg = xasprintf("%lld mesure%s importée%s.", (long long)created,
		                      created > 1 ? "s" : "", created > 1 ? "s" : "");
		page_notice(r, "success", msg);
		free(msg);
	}
	if (res && res->nerrors) {
		char *msg =
		    xasprintf("Le fichier n'a pas été importé : %zu erreur%s. Aucune mesure "
		              "n'a été enregistrée ; corrigez les lignes ci-dessous et "
		              "recommencez.",
		              res->nerrors + res->more_errors,
		              res->nerrors + res->more_errors > 1 ? "s" : "");
		page_notice(r, "error", msg);
		free(msg);
		buf_puts(&r->out,
		         "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
		         "aria-labelledby=\"err-caption\"><table><caption "
		         "id=\"err-caption\">Erreurs, ligne par ligne</caption><thead><tr>"
		         "<th scope=\"col\" class=\"num\">Ligne</th><th scope=\"col\">Colonne"
		         "</th><th scope=\"col\">Erreur</th></tr></thead><tbody>\n");
		for (size_t i = 0; i < res->nerrors; i++) {
			const struct import_error *e = &res->errors[i];
			if (e->line)
				html_printf(&r->out, "<tr><td class=\"num\">%d</td>", e->line);
			else
				buf_puts(&r->out, "<tr><td class=\"num\">—</td>");
			html_printf(&r->out, "<td>%s</td><td>%s</td></tr>\n",
			            *e->column ? e->column : "—", e->message);
		}
		buf_puts(&r->out, "</tbody></table></div>\n");
		if (res->more_errors)
			html_printf(&r->out, "<p>… et %zu autres erreurs.</p>\n", res->more_errors);
	} else if (res && dry_run) {
		char *msg =
		    xasprintf("Vérification réussie : %zu mesure%s valide%s. Rien n'a été "
		              "enregistré : décochez « Vérifier seulement » pour importer.",
		              res->rows, res->rows > 1 ? "s" : "", res->rows > 1 ? "s" : "");
		page_notice(r, "success", msg);
		free(msg);
	}
	html_printf(
	    &r->out,
	    "<section aria-labelledby=\"format\"><h2 id=\"format\">Format attendu</h2>"
	    "<p>Un fichier CSV en UTF-8 (avec ou sans BOM), séparé par des points-virgules, "
	    "une mesure par ligne, avec les colonnes :</p>"
	    "<pre><code>fiche;indicateur;date;valeur;source;commentaire;niveau</code></pre>"
	    "<ul><li><strong>fiche</strong> : le numéro d'une fiche-action du plan (par "
	    "exemple 1.2.3) ;</li><li><strong>indicateur</strong> : le nom ou le numéro "
	    "d'un indicateur rattaché à cette fiche ;</li><li><strong>date</strong> : "
	    "AAAA-MM-JJ ou JJ/MM/AAAA, au plus tard demain ;</li><li><strong>valeur</strong> "
	    ": un nombre (virgule décimale acceptée : 12,5) ; pour un indicateur qualitatif, "
	    "l'appréciation écrite ;</li><li><strong>source</strong> et "
	    "<strong>commentaire</strong> : facultatifs ;</li><li><strong>niveau</strong> : "
	    "pour un indicateur qualitatif seulement, de 1 (insuffisant) à 4 (très "
	    "satisfaisant).</li></ul><p>Une première ligne d'en-tête commençant par "
	    "« fiche » est ignorée. L'import est <strong>tout ou rien</strong> : si une "
	    "seule ligne est fausse, rien n'est enregistré et chaque erreur est signalée "
	    "avec sa ligne et sa colonne. Une mesure déjà enregistrée pour le même "
	    "indicateur à la même date est refusée.</p><p><a href=\"/plans/%lld/mesures/"
	    "modele\">Télécharger un modèle</a> (les fiches et indicateurs du plan, à "
	    "compléter).</p></section>\n",
	    (long long)plan);
	html_printf(&r->out,
	            "<section class=\"panel\" aria-labelledby=\"import-h\"><h2 id=\"import-h\">"
	            "Importer</h2><form method=\"post\" action=\"/plans/%lld/mesures/importer\" "
	            "enctype=\"multipart/form-data\" class=\"form\">",
	            (long long)plan);
	page_csrf(r);
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"imp-file\">Fichier CSV</label><input "
	            "id=\"imp-file\" name=\"fichier\" type=\"file\" accept=\".csv,text/csv\"></div>"
	            "<div class=\"field\"><label for=\"imp-text\">Ou collez le contenu</label>"
	            "<textarea id=\"imp-text\" name=\"contenu\" rows=\"8\" "
	            "aria-describedby=\"imp-text-hint\">%s</textarea><p class=\"hint\" "
	            "id=\"imp-text-hint\">Utilisé seulement quand aucun fichier n'est choisi."
	            "</p></div><div class=\"field\"><label><input type=\"checkbox\" "
	            "name=\"dry_run\" value=\"1\"%R> Vérifier seulement, sans rien enregistrer"
	            "</label></div><div class=\"actions\"><button type=\"submit\" class=\"button\">"
	            "Importer</button></div></form></section>\n",
	            pasted ? pasted : "", dry_run ? " checked" : "");
	page_end(r);
}

/* The title of a plan (malloc'ed), or NULL. */
static char *plan_title_load(struct db *db, int64_t plan)
{
	char *title = NULL;
	struct db_stmt *st = db_queryf(db, "SELECT title FROM plans WHERE id = ?", "I", plan);
	if (st && db_step(st) == DB_ROW)
		title = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	return title;
}

static void import_page(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	char *title = plan_title_load(r->db, plan);
	if (r->method == M_GET) {
		import_render(r, plan, title ? title : "Plan", NULL, 0, NULL);
		free(title);
		return;
	}
	const struct upload *up = req_file(r, "fichier");
	const char *pasted = req_form(r, "contenu");
	const char *data = NULL;
	size_t len = 0;
	if (up && up->data.len) {
		data = buf_str(&up->data);
		len = up->data.len;
	} else if (!is_blank(pasted)) {
		data = pasted;
		len = strlen(pasted);
	}
	int dry_run = req_form(r, "dry_run") != NULL;
	struct import_result res;
	int rc;
	if (!data) {
		memset(&res, 0, sizeof res);
		import_error_add(&res, 0, "",
		                 xstrdup("Choisissez un fichier CSV ou collez son contenu."));
		rc = 1;
	} else {
		rc = measurements_import(r->db, plan, r->user->id, "web", data, len, dry_run, &res);
	}
	if (rc < 0) {
		resp_error(r, 500, "L'import a échoué (base de données).");
	} else if (rc > 0 || dry_run) {
		import_render(r, plan, title ? title : "Plan", &res, dry_run,
		              up && up->data.len ? NULL : pasted);
		if (rc > 0)
			r->status = 422;
	} else {
		char loc[80];
		snprintf(loc, sizeof loc, "/plans/%lld/mesures/importer?ok=%zu", (long long)plan,
		         res.created);
		resp_redirect(r, loc);
	}
	import_result_free(&res);
	free(title);
}

/* A CSV template: one line per fiche indicator of the plan, to be completed. */
static void import_template(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT n.number, i.name FROM fiche_indicators fi "
	              "JOIN nodes n ON n.id = fi.node_id JOIN fiches f ON f.node_id = "
	              "n.id JOIN indicators i ON i.id = fi.indicator_id "
	              "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.id, i.name",
	              "I", plan);
	if (!st) {
		resp_error(r, 500, "Lecture des indicateurs impossible.");
		return;
	}
	struct row {
		char *number, *name;
	} *rows = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = xrealloc(rows, cap * sizeof *rows);
		}
		rows[n].number = xstrdup(db_col_text(st, 0));
		rows[n].name = xstrdup(db_col_text(st, 1));
		n++;
	}
	db_finalize(st);
	buf_reset(&r->out);
	static const char *const head[] = {"fiche",  "indicateur",  "date",  "valeur",
	                                   "source", "commentaire", "niveau"};
	struct csv_out w;
	csv_out_begin(&w, &r->out);
	csv_out_header(&w, head, sizeof head / sizeof *head);
	/* In fiche-number order. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && number_cmp(rows[j - 1].number, rows[j].number) > 0;
		     j--) {
			struct row t = rows[j];
			rows[j] = rows[j - 1];
			rows[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		csv_out_value(&w, rows[i].number);
		csv_out_text(&w, rows[i].name);
		for (int k = 0; k < 5; k++)
			csv_out_empty(&w);
		csv_out_row_end(&w);
		free(rows[i].number);
		free(rows[i].name);
	}
	free(rows);
	char disp[96];
	snprintf(disp, sizeof disp, "attachment; filename=\"mesures-plan-%lld.csv\"",
	         (long long)plan);
	resp_header(r, "Content-Disposition", disp);
	resp_send(r, 200, "text/csv; charset=utf-8");
}

/* --- API -----------------------------------------------------------------------------------------
 */

static json_t *measurement_json(const struct measurement *m, int with_people)
{
	json_t *j =
	    json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:b}", "id", (json_int_t)m->id,
	              "fiche_indicator_id", (json_int_t)m->fi_id, "measured_on", m->v.date, "value",
	              m->v.has_value ? json_real(m->v.value) : json_null(), "text_value",
	              json_text(m->v.text), "level",
	              m->v.level ? json_integer(m->v.level) : json_null(), "source", m->v.source,
	              "comment", m->v.comment, "entered_at", m->entered_at, "demo", m->is_demo);
	if (with_people)
		json_object_set_new(j, "entered_by",
		                    m->entered_by
		                        ? json_pack("{s:I,s:o}", "id", (json_int_t)m->entered_by,
		                                    "name", json_text(m->entered_name))
		                        : json_null());
	return j;
}

json_t *indicators_fiche_json(struct db *db, int64_t node_id, int with_people)
{
	struct fiche_ind *list;
	size_t n;
	if (fiche_inds_list(db, node_id, &list, &n))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct fiche_ind *fi = &list[i];
		int qual = fiche_ind_qualitative(fi);
		json_t *targets = json_array();
		for (size_t k = 0; k < fi->ntargets; k++)
			json_array_append_new(targets,
			                      json_pack("{s:i,s:f}", "year", fi->targets[k].year,
			                                "value", fi->targets[k].value));
		json_t *ms = json_array(), *last = json_null();
		struct db_stmt *st = db_queryf(db,
		                               MEASUREMENT_SELECT "WHERE m.fiche_indicator_id = ? "
		                                                  "ORDER BY m.measured_on, m.id",
		                               "I", fi->id);
		while (st && db_step(st) == DB_ROW) {
			struct measurement m;
			measurement_read(st, &m);
			json_array_append_new(ms, measurement_json(&m, with_people));
			json_decref(last);
			last = json_pack("{s:s,s:o,s:o,s:o}", "date", m.v.date, "value",
			                 m.v.has_value ? json_real(m.v.value) : json_null(),
			                 "level", m.v.level ? json_integer(m.v.level) : json_null(),
			                 "text", json_text(m.v.text));
			measurement_free(&m);
		}
		db_finalize(st);
		struct indicator_state s;
		indicator_state_load(db, fi->id, &s);
		json_t *baseline = json_pack(
		    "{s:o,s:o,s:o}", "value",
		    fi->has_baseline_value && !qual ? json_real(fi->baseline_value) : json_null(),
		    "text", json_text(fi->baseline_text), "date", json_text(fi->baseline_date));
		if (qual)
			json_object_set_new(
			    baseline, "level",
			    fi->has_baseline_value
			        ? json_integer((json_int_t)lround(fi->baseline_value))
			        : json_null());
		json_array_append_new(
		    arr, json_pack("{s:I,s:o,s:s,s:o,s:o,s:o,s:s,s:o,s:o}", "id",
		                   (json_int_t)fi->id, "indicator", indicator_json(&fi->ind),
		                   "frequency", fi->frequency, "baseline", baseline, "targets",
		                   targets, "last", last, "trend", indicator_trend_code(s.trend),
		                   "expected", s.has_expected ? json_real(s.expected) : json_null(),
		                   "measurements", ms));
	}
	fiche_inds_free(list, n);
	return arr;
}

static void api_fiche_indicators(struct req *r)
{
	struct fiche_ctx f;
	if (fiche_require(r, 0, &f))
		return;
	int with_people = plan_role(r, f.plan_id) >= ROLE_READER;
	json_t *inds = indicators_fiche_json(r->db, f.node_id, with_people);
	if (!inds) {
		fiche_ctx_free(&f);
		resp_error(r, 500, "Lecture des indicateurs impossible.");
		return;
	}
	json_t *doc = json_pack("{s:{s:I,s:s,s:s,s:I},s:o}", "fiche", "id", (json_int_t)f.node_id,
	                        "number", f.number, "title", f.title, "plan_id",
	                        (json_int_t)f.plan_id, "indicators", inds);
	fiche_ctx_free(&f);
	resp_json(r, 200, doc);
}

/* A JSON member as text for the checks: strings as they are, numbers written with a dot, NULL
 * for null or absent. *buf receives the storage (free it). */
static const char *json_as_text(json_t *v, char **buf)
{
	*buf = NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		*buf = xasprintf("%lld", (long long)json_integer_value(v));
		return *buf;
	}
	if (json_is_real(v)) {
		*buf = xasprintf("%.15g", json_real_value(v));
		return *buf;
	}
	if (v && !json_is_null(v)) {
		*buf = xstrdup("?");
		return *buf;
	}
	return NULL;
}

/* Answer 422 with the error envelope, an "errors" array and, when not NULL, a "fields" object
 * (field → message, as the other forms of the API); both are stolen. */
static void api_invalid(struct req *r, const char *message, json_t *errors, json_t *fields)
{
	json_t *e =
	    json_pack("{s:s,s:s,s:o}", "code", "invalid", "message", message, "errors", errors);
	if (fields)
		json_object_set_new(e, "fields", fields);
	resp_json(r, 422, json_pack("{s:o}", "error", e));
}

/* The 1-based position of an import column by its name; 0 for the whole line. */
static int import_column_number(const char *column)
{
	static const char *const names[] = {"fiche",  "indicateur",  "date",  "valeur",
	                                    "source", "commentaire", "niveau"};
	for (int i = 0; i < 7; i++)
		if (!strcmp(names[i], column))
			return i + 1;
	return 0;
}

static void api_measurement_create(struct req *r)
{
	int64_t node, fi_id;
	if (req_param_id(r, 0, &node) || fiche_require_edit(r, node) || req_param_id(r, 1, &fi_id))
		return;
	struct fiche_ind fi;
	if (fiche_ind_load(r->db, fi_id, &fi) <= 0 || fi.node_id != node) {
		fiche_ind_free(&fi);
		resp_error(r, 404, "Cet indicateur n'est pas rattaché à cette fiche.");
		return;
	}
	json_t *body = req_json_body(r);
	if (!body) {
		fiche_ind_free(&fi);
		return;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		fiche_ind_free(&fi);
		resp_error(r, 400, "Le corps de la requête doit être un objet JSON.");
		return;
	}
	char *b[6];
	const char *keys[] = {"measured_on", "value", "text_value", "level", "source", "comment"};
	const char *v[6];
	for (int i = 0; i < 6; i++)
		v[i] = json_as_text(json_object_get(body, keys[i]), &b[i]);
	struct mvalues mv;
	const char *field = NULL;
	char *why =
	    measurement_check(r->db, &fi, v[0], v[1], v[2], v[3], v[4], v[5], 0, &mv, &field);
	for (int i = 0; i < 6; i++)
		free(b[i]);
	json_decref(body);
	if (why) {
		api_invalid(r, why,
		            json_pack("[{s:s,s:s}]", "field", field ? field : "", "message", why),
		            json_pack("{s:s}", field ? field : "measurement", why));
		free(why);
		mvalues_free(&mv);
		fiche_ind_free(&fi);
		return;
	}
	int64_t id = 0;
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = measurement_insert(r->db, &fi, &mv, r->user->id, "api", "create", &id);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	mvalues_free(&mv);
	fiche_ind_free(&fi);
	struct measurement m;
	if (rc != DB_OK || measurement_load(r->db, id, &m) <= 0) {
		resp_error(r, 500, "L'enregistrement de la mesure a échoué.");
		return;
	}
	char loc[96];
	snprintf(loc, sizeof loc, "/api/v1/fiches/%lld/indicators", (long long)node);
	json_t *doc = measurement_json(&m, 1);
	measurement_free(&m);
	resp_header(r, "Location", loc);
	resp_json(r, 201, doc);
}

static void api_import(struct req *r)
{
	int64_t plan;
	if (req_param_id(r, 0, &plan) || plan_require(r, plan, ROLE_COORDINATOR))
		return;
	const char *dr = req_query(r, "dry_run");
	int dry_run = dr && (!strcmp(dr, "1") || !strcmp(dr, "true"));
	struct import_result res;
	int rc = measurements_import(r->db, plan, r->user->id, "api", buf_str(&r->body),
	                             r->body.len, dry_run, &res);
	if (rc < 0) {
		resp_error(r, 500, "L'import a échoué (base de données).");
	} else if (rc > 0) {
		json_t *errors = json_array();
		for (size_t i = 0; i < res.nerrors; i++)
			json_array_append_new(
			    errors,
			    json_pack("{s:i,s:s,s:o,s:s}", "line", res.errors[i].line, "column",
			              res.errors[i].column, "column_number",
			              import_column_number(res.errors[i].column)
			                  ? json_integer(import_column_number(res.errors[i].column))
			                  : json_null(),
			              "message", res.errors[i].message));
		char *msg = xasprintf("Le fichier n'a pas été importé : %zu erreur%s ; aucune "
		                      "mesure n'a été enregistrée.",
		                      res.nerrors + res.more_errors,
		                      res.nerrors + res.more_errors > 1 ? "s" : "");
		api_invalid(r, msg, errors, NULL);
		free(msg);
	} else if (dry_run) {
		resp_json(r, 200,
		          json_pack("{s:b,s:I,s:i}", "dry_run", 1, "valid", (json_int_t)res.rows,
		                    "created", 0));
	} else {
		resp_json(r, 201, json_pack("{s:I}", "created", (json_int_t)res.created));
	}
	import_result_free(&res);
}

static void api_referentiel(struct req *r)
{
	const char *kind = req_query(r, "kind"), *domain = req_query(r, "impact_domain");
	if (kind && !label_valid(kinds, COUNT(kinds), kind)) {
		resp_error(r, 400, "kind doit valoir realisation ou impact.");
		return;
	}
	if (domain && strcmp(domain, "none") != 0 &&
	    !label_valid(impact_domains, COUNT(impact_domains), domain)) {
		resp_error(r, 400,
		           "impact_domain doit être l'un des sept domaines d'impact ou none.");
		return;
	}
	struct db_stmt *st =
	    referentiel_select(r, kind, domain && !strcmp(domain, "none") ? "aucun" : domain);
	if (!st) {
		resp_error(r, 500, "Lecture du référentiel impossible.");
		return;
	}
	json_t *arr = json_array();
	while (db_step(st) == DB_ROW) {
		struct indicator in;
		indicator_read(st, 0, &in);
		json_t *j = indicator_json(&in);
		json_object_set_new(j, "fiches", json_integer(db_col_int64(st, 10)));
		json_array_append_new(arr, j);
		indicator_free(&in);
	}
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:o}", "indicators", arr));
}

/* --- routes ---------------------------------------------------------------------------------- */

const struct route indicator_routes[] = {
    {M_GET, "/indicateurs", ACC_PUBLIC, referentiel_page,
     "Référentiel des indicateurs partagés (filtres : type, domaine)"},
    {M_GET | M_POST, "/indicateurs/nouveau", ACC_LOGIN, referentiel_new,
     "Ajouter un indicateur au référentiel (coordinateurs, administrateurs)"},
    {M_GET, "/indicateurs/{indicator}", ACC_PUBLIC, indicator_page,
     "Un indicateur du référentiel et les fiches qui le suivent"},
    {M_GET | M_POST, "/indicateurs/{indicator}/modifier", ACC_LOGIN, referentiel_edit,
     "Modifier un indicateur du référentiel (coordinateurs, administrateurs)"},
    {M_GET, "/fiches/{fiche}/indicateurs", ACC_PUBLIC, fiche_inds_page,
     "Les indicateurs d'une fiche-action : référence, cibles, dernière valeur, tendance"},
    {M_POST, "/fiches/{fiche}/indicateurs/rattacher", ACC_LOGIN, fiche_ind_attach,
     "Rattacher un indicateur du référentiel à une fiche"},
    {M_GET | M_POST, "/fiches/{fiche}/indicateurs/nouveau", ACC_LOGIN, fiche_ind_new,
     "Créer un indicateur propre à une fiche"},
    {M_GET, "/indicateurs-fiche/{fi}", ACC_PUBLIC, fi_page,
     "Un indicateur d'une fiche : mesures, cibles, saisie"},
    {M_GET | M_POST, "/indicateurs-fiche/{fi}/modifier", ACC_LOGIN, fi_settings,
     "Référence, cibles et fréquence d'un indicateur de fiche"},
    {M_GET | M_POST, "/indicateurs-fiche/{fi}/retirer", ACC_LOGIN, fi_detach,
     "Retirer un indicateur d'une fiche (avec ses mesures)"},
    {M_POST, "/indicateurs-fiche/{fi}/mesures", ACC_LOGIN, measurement_add, "Saisir une mesure"},
    {M_GET | M_POST, "/mesures/{measurement}/modifier", ACC_LOGIN, measurement_edit,
     "Modifier une mesure (la sienne ; toutes pour la coordination)"},
    {M_GET | M_POST, "/mesures/{measurement}/supprimer", ACC_LOGIN, measurement_delete,
     "Supprimer une mesure (la sienne ; toutes pour la coordination)"},
    {M_GET | M_POST, "/plans/{plan}/mesures/importer", ACC_LOGIN, import_page,
     "Importer des mesures d'un plan depuis un CSV (coordination)"},
    {M_GET, "/plans/{plan}/mesures/modele", ACC_LOGIN, import_template,
     "Modèle CSV des mesures d'un plan (coordination)"},
    {M_GET, "/plans/{plan}/mesures-en-retard", ACC_LOGIN, overdue_page,
     "Mesures d'indicateurs en retard (coordination : tout le plan ; pilotes : leurs fiches)"},
    {M_GET, "/api/v1/indicators", ACC_PUBLIC, api_referentiel,
     "Référentiel des indicateurs (kind, impact_domain)"},
    {M_GET, "/api/v1/fiches/{fiche}/indicators", ACC_PUBLIC, api_fiche_indicators,
     "Les indicateurs d'une fiche avec leurs mesures"},
    {M_POST, "/api/v1/fiches/{fiche}/indicators/{fi}/measurements", ACC_LOGIN,
     api_measurement_create, "Enregistrer une mesure (JSON)"},
    {M_POST, "/api/v1/plans/{plan}/measurements/import", ACC_LOGIN, api_import,
     "Importer des mesures (corps text/csv ; ?dry_run=1)"},
    {0},
};
