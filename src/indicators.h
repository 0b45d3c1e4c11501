/* indicators: the shared référentiel of indicators, the indicators of each fiche-action
 * (baseline, yearly targets, expected frequency), their measurements (form, CSV import, API),
 * the trend against the targets and the measurements overdue. */
#ifndef MAILLAGE_INDICATORS_H
#define MAILLAGE_INDICATORS_H

#include "http.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Storage (migrations/sqlite/0003_indicators.sql), as this module writes it:
 *   indicators        kind 'realisation' ("ce qui est fait") or 'impact' ("ce que cela
 *                     transforme"); value_type 'number' or 'qualitative'; direction 'up' or
 *                     'down' (which way is good); shared 1 for the référentiel, 0 for an
 *                     indicator that belongs to one fiche (created from that fiche's page).
 *   fiche_indicators  one indicator on one fiche. For a number indicator, baseline_value is the
 *                     reference value (baseline_text NULL). For a qualitative indicator,
 *                     baseline_text is the reference appreciation and baseline_value its level
 *                     (1–4) or NULL. baseline_date is YYYY-MM-DD or NULL.
 *   indicator_targets year → value; for a qualitative indicator the value is a level (1–4).
 *   measurements      number: value set, text_value and level NULL; qualitative: text_value and
 *                     level (1–4) set, value NULL. entered_by is the account (NULL for demo data).
 * Audit entities: 'indicator' (référentiel and fiche-specific definitions), 'fiche_indicator'
 * (attach, baseline/targets/frequency, detach), 'measurement' (create, update, delete, import).
 * Every 'fiche_indicator' and 'measurement' entry has "node_id" (the fiche) in its JSON.
 */

/* The routes of this module (registered in routes.c). */
extern const struct route indicator_routes[];

/* --- labels and enumerations ------------------------------------------------------------ */

/* "Réalisation" / "Impact"; "?" for an unknown value. */
const char *indicator_kind_label(const char *kind);
/* "Nombre" / "Qualitatif". */
const char *indicator_value_type_label(const char *value_type);
/* "À la hausse" / "À la baisse". */
const char *indicator_direction_label(const char *direction);
/* "Mensuelle", "Trimestrielle", "Semestrielle", "Annuelle". */
const char *indicator_frequency_label(const char *frequency);
/* Months in one period of a frequency: 1, 3, 6, 12; 0 for an unknown value. */
int indicator_frequency_months(const char *frequency);
/* Label of a qualitative level: 1 "Insuffisant", 2 "Fragile", 3 "Satisfaisant",
 * 4 "Très satisfaisant"; "?" otherwise. */
const char *indicator_level_label(int level);

/* --- numbers ------------------------------------------------------------------------------- */

/*
 * Parse a number written the French way or the English way: "12,5", "12.5", "-3", "1 234,5"
 * (spaces, no-break or narrow no-break spaces between groups of three digits), surrounding white
 * space ignored. One decimal separator at most (a comma or a dot), at most 15 significant
 * digits; no exponent, no "%", no unit. Returns 0 and sets *out, or -1.
 */
int indicator_number_parse(const char *s, double *out);
/* v for display: digits grouped by three with a narrow no-break space, a decimal comma, at most
 * two decimals, trailing zeros dropped ("1 234,5"). */
void indicator_number_format(char out[64], double v);

/* --- trend against the targets -------------------------------------------------------------- */

enum indicator_trend { TREND_NONE = 0, TREND_AHEAD, TREND_ON_TRACK, TREND_LATE };

/* "en avance", "conforme", "en retard", "sans cible". */
const char *indicator_trend_label(enum indicator_trend trend);
/* "ahead", "on_track", "late", "none" (the API's values). */
const char *indicator_trend_code(enum indicator_trend trend);

struct indicator_target {
	int year;
	double value;
};

/*
 * The rule, also written on the pages (INDICATOR_TREND_RULE): the value measured on `date` is
 * compared with the value expected on that date on the path from a starting point to the target
 * of the date's year (reached on 31 December of that year). The starting point is the previous
 * year's target on 31 December of that year, or else the baseline at its date when that date is
 * before `date`; without a starting point the expected value is the target itself. The tolerance
 * is 10 % of the distance between the starting point and the target (10 % of the target when
 * there is no starting point). The gap is value − expected, negated when the good direction is
 * down. AHEAD when the gap exceeds the tolerance, LATE when it is below −tolerance, ON_TRACK
 * otherwise; NONE when the date's year has no target. Sets *expected when not NULL and the
 * result is not NONE. targets need not be sorted. Pure function.
 */
enum indicator_trend indicator_trend_compute(int direction_up, int has_baseline,
                                             double baseline_value, const char *baseline_date,
                                             const struct indicator_target *targets,
                                             size_t ntargets, double value, const char *date,
                                             double *expected);

#define INDICATOR_TREND_RULE                                                                            \
	"La dernière valeur mesurée est comparée à la valeur attendue à sa date, sur la "          \
	"trajectoire qui mène du point de départ à la cible de l'année (atteinte au 31 "            \
	"décembre). Le point de départ est la cible de l'année précédente au 31 décembre, à "    \
	"défaut la valeur de référence à sa date ; sans point de départ, la valeur attendue est "  \
	"la cible elle-même. L'écart toléré est de 10 % du chemin entre le point de départ et "    \
	"la cible. Dans le sens d'évolution souhaité (hausse ou baisse) : « en avance » quand "     \
	"la valeur dépasse la valeur attendue de plus que l'écart toléré, « en retard » quand "   \
	"elle reste en deçà de plus que l'écart toléré, « conforme » sinon. « Sans cible » : " \
	"aucune mesure, ou aucune cible pour l'année de la dernière mesure. Pour un indicateur "      \
	"qualitatif, la valeur comparée est le niveau (de 1 à 4)."

/* The state of one fiche indicator: its last measurement and its trend. */
struct indicator_state {
	int has_last;       /* 0 when nothing was measured */
	char last_date[16]; /* YYYY-MM-DD of the last measurement */
	double last_value;  /* number: the value; qualitative: the level (0 when none) */
	enum indicator_trend trend;
	int has_expected;
	double expected;      /* the value expected on last_date (see indicator_trend_compute) */
	int64_t measurements; /* how many measurements */
};

/* Fill *out for fiche indicator `fiche_indicator_id`. 0 on success, -1 when it does not
 * exist or on a database error. For dashboards and reports. */
int indicator_state_load(struct db *db, int64_t fiche_indicator_id, struct indicator_state *out);

/*
 * The indicators of a fiche as a JSON array (the API's shape): each
 * {"id" (fiche indicator), "indicator": {id, name, definition, unit, kind, value_type,
 * impact_domain, source, direction, shared}, "frequency", "baseline": {value, text, date},
 * "targets": [{year, value}], "last": {date, value, level, text} or null, "trend",
 * "expected" (number or null), "measurements": [{id, measured_on, value, text_value, level,
 * source, comment, entered_at, "entered_by": {id, name} or null}]}.
 * entered_by is only present when with_people is set (members of the plan; public visitors
 * do not see who entered a value). NULL on a database error. The caller owns the result.
 */
json_t *indicators_fiche_json(struct db *db, int64_t node_id, int with_people);

/* --- overdue measurements -------------------------------------------------------------------- */

/* Days after the due date before a measurement counts as overdue. */
#define INDICATORS_GRACE_DAYS 15

/*
 * The rule (INDICATORS_OVERDUE_RULE, written on the pages): for each indicator of a fiche that
 * is "retenue" or "en cours" (and not archived), the reference date is its last measurement,
 * else its baseline date, else the fiche's start date (no reference: nothing is due). A
 * measurement is due one period after the reference (1, 3, 6 or 12 months by the frequency;
 * the 31st becomes the last day of a shorter month), then every period after that. A due date
 * is overdue when due date + INDICATORS_GRACE_DAYS days < today. No measurement is due after
 * the fiche's end date. A monthly indicator last measured three months ago is overdue, with
 * two or three missed measurements depending on the day.
 */
#define INDICATORS_OVERDUE_RULE                                                                       \
	"Une mesure est attendue une période après la précédente (un mois, un trimestre, un "     \
	"semestre ou un an selon la fréquence de l'indicateur) ; sans mesure, une période après "  \
	"la date de la valeur de référence, à défaut après la date de début de la fiche. Elle " \
	"est en retard quand 15 jours de grâce sont passés après cette date. Seules les fiches "   \
	"retenues ou en cours comptent, et aucune mesure n'est attendue après la date de fin de "    \
	"la fiche."

struct overdue {
	int64_t fiche_indicator_id;
	int64_t node_id; /* the fiche */
	int64_t plan_id;
	char *plan_title, *fiche_number, *fiche_title, *indicator_name; /* owned */
	char kind[16];                                                  /* realisation, impact */
	char frequency[16];
	char last_date[16];      /* last measurement, "" when none */
	char reference_date[16]; /* what the due date was computed from */
	char due_date[16];       /* the first measurement due and not entered */
	int missed;              /* due dates passed (grace included) without a measurement, >= 1 */
	int days_late;           /* today − due_date, in days */
};

/*
 * The measurements overdue today (Paris time). user_id 0: every fiche (a coordinator's view);
 * otherwise only the fiches user_id pilots (fiche_pilots.user_id) in plans they are a member of.
 * plan_id 0: every plan; otherwise that plan only. Sorted by plan, then fiche number, then
 * indicator name. On success returns 0 and sets *out (NULL when none; free with
 * indicators_overdue_free) and *n; -1 on a database error. Callers check the request's rights
 * on the plan before showing the result.
 */
int indicators_overdue(struct db *db, int64_t user_id, int64_t plan_id, struct overdue **out,
                       size_t *n);
/* The same as of `today` (YYYY-MM-DD), for tests. */
int indicators_overdue_at(struct db *db, int64_t user_id, int64_t plan_id, const char *today,
                          struct overdue **out, size_t *n);
void indicators_overdue_free(struct overdue *list, size_t n);

/* The date `from` (YYYY-MM-DD) plus `months` months into out (the day clamped to the length
 * of the month). 0, or -1 when from is not a date. */
int indicator_add_months(const char *from, int months, char out[16]);

/*
 * For "mes actions": write into r->out a <section> headed <h2>Mesures d'indicateurs en
 * retard</h2> with the overdue measurements of the fiches the logged-in user pilots (all plans
 * when plan_id is 0), each with a link to enter it, and the rule; a short sentence when there
 * is none. Writes nothing for an anonymous request. Returns how many are overdue (-1 on error).
 */
int indicators_overdue_section(struct req *r, int64_t plan_id);

/* --- CSV import of measurements ----------------------------------------------------------------
 */

struct import_error {
	int line;           /* 1-based line of the file (0: the whole file) */
	const char *column; /* "fiche", "indicateur", "date", "valeur", "source", "commentaire",
	                       "niveau", or "" (static strings) */
	char *message;      /* French, owned */
};

struct import_result {
	size_t rows;    /* data rows read */
	size_t created; /* measurements stored (0 on a dry run or when any line is wrong) */
	struct import_error *errors;
	size_t nerrors;
	size_t more_errors; /* errors beyond the ones kept */
};

/*
 * Import measurements for a plan from CSV text: separator ';', UTF-8 with or without a BOM, LF or
 * CRLF, fields optionally in double quotes ("" for a quote). Columns:
 *   fiche;indicateur;date;valeur;source;commentaire[;niveau]
 * fiche: the number of a fiche-action of the plan (1.2.3); indicateur: the name (case and
 * accents ignored) or the id of an indicator attached to that fiche; date: YYYY-MM-DD or
 * JJ/MM/AAAA, not after tomorrow; valeur: a number (decimal comma accepted) for a number
 * indicator, the appreciation text for a qualitative one, whose level 1–4 is in the 7th column
 * niveau. A first line starting with "fiche" is a header. A (fiche indicator, date) pair already
 * stored or given twice in the file is refused.
 * All or nothing, in one transaction: nothing is stored when any line is wrong or when dry_run
 * is set; otherwise every measurement is stored (entered_by = user_id, 0 for none) and audited
 * with `origin`. Fills *res (free with import_result_free). Returns 0 when the file is valid
 * (stored or checked), 1 when it has errors (res->errors), -1 on a database error.
 */
int measurements_import(struct db *db, int64_t plan_id, int64_t user_id, const char *origin,
                        const char *data, size_t len, int dry_run, struct import_result *res);
void import_result_free(struct import_result *res);

#endif
