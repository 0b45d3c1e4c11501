/* dashboard: a plan's figures — progress roll-up of its tree, indicators on track, what changed —
 * the dashboard page, and the loaders the reports and the public portal share. */
#ifndef MAILLAGE_DASHBOARD_H
#define MAILLAGE_DASHBOARD_H

#include "http.h"

#include <stdint.h>

struct db;

/*
 * The roll-up rule (written on the dashboard, the reports and the portal by dash_rule_html):
 *
 * - "Fiches suivies": the fiches-actions of the plan whose status is retenue, en cours or
 *   achevée. Proposed (not yet arbitrated), postponed (ajournée) and abandoned fiches are left
 *   out of the percentages and counted apart; refused proposals are archived and left out
 *   entirely, with everything under an archived node.
 * - The level of a fiche suivie is its progress (non engagée, peu engagée, bien engagée,
 *   achevée); a fiche whose status is achevée counts as achevée whatever its progress says.
 * - The distribution of a node is the count of the fiches suivies in its subtree (the node
 *   itself when it is a fiche, and its descendants at every depth) by level, and each level's
 *   share of that count, in whole percentages adding up to 100 (largest remainder method).
 *   A node with no fiche suivie has no percentages ("aucune fiche suivie"), not 0 %.
 * - Indicators play no part in a fiche's level: a fiche without indicators counts like any
 *   other; its level is the progress its pilot reports.
 * - The filters select fiches; a node's distribution then counts only its selected fiches.
 */

enum dash_level { DASH_NON, DASH_PEU, DASH_BIEN, DASH_ACHEVEE, DASH_NLEVELS };
enum dash_status {
	DASH_S_PROPOSEE,
	DASH_S_RETENUE,
	DASH_S_EN_COURS,
	DASH_S_ACHEVEE,
	DASH_S_ABANDONNEE,
	DASH_S_AJOURNEE,
	DASH_NSTATUSES
};

/* The slug and French label of a level ("peu_engagee", "Peu engagée") and of a status. */
const char *dash_level_slug(int level);
const char *dash_level_label(int level);
const char *dash_status_slug(int status);
const char *dash_status_label(int status);
/* The display order of levels: achevée, bien engagée, peu engagée, non engagée. */
extern const int dash_level_order[DASH_NLEVELS];
/* Their fills (svg.h) in that order, darkest for achevée. */
extern const int dash_level_fills[DASH_NLEVELS];

struct dash_node {
	int64_t id, parent;
	int depth;
	char *number, *title;
	int is_fiche;
	int status;   /* enum dash_status, fiches only */
	int level;    /* enum dash_level from the progress, fiches only */
	int selected; /* a fiche kept by the filters */
	/* the roll-up over the node's subtree (selected fiches only) */
	int levels[DASH_NLEVELS]; /* fiches suivies by level */
	int tracked;              /* their sum */
	int statuses[DASH_NSTATUSES];
	int fiches;                    /* every selected fiche, whatever its status */
	size_t first_child, nchildren; /* into kids */
	size_t pre;                    /* rank in a depth-first walk of the tree (tree order) */
	int reachable;                 /* under no archived node */
};

struct dash_plan {
	int64_t id;
	char *title, *kind;
	int start_year, end_year;
	int is_public;
	char *levels[8];         /* names of the levels of the tree, NULL past the last */
	struct dash_node *nodes; /* sorted by id */
	size_t n;
	size_t *kids; /* node indexes grouped by parent, in position order */
	size_t *roots;
	size_t nroots;
	struct dash_node all; /* the roll-up of the whole plan (only the counts are used) */
};

/*
 * Load a plan with its live (not archived) tree and the status and progress of its fiches;
 * every fiche starts selected. 0, or -1 when the plan does not exist or on a database error.
 * Free with dash_plan_free (also after a failure).
 */
int dash_plan_load(struct db *db, int64_t plan_id, struct dash_plan *p);
void dash_plan_free(struct dash_plan *p);
/* The index of a node in p->nodes, or (size_t)-1. */
size_t dash_node_index(const struct dash_plan *p, int64_t id);
/* Compute the roll-up of every node and of the whole plan from the selected fiches. */
void dash_rollup(struct dash_plan *p);

/* The dashboard's filters; 0 / NULL when not set. Strings are borrowed. */
struct dash_filter {
	int64_t node;        /* a subtree */
	int64_t tag;         /* a tag carried by the fiche or one of its ancestors */
	const char *commune; /* INSEE code */
	const char *epci;    /* SIREN */
	int64_t pilot;       /* a structure (actor) piloting the fiche */
	const char *domain;  /* an impact domain slug */
};
/*
 * Unselect the fiches the filter leaves out. A fiche with no commune of its own covers the
 * whole plan territory: it is kept by a commune (or EPCI) filter when that commune (or one
 * commune of that EPCI) is in the plan's territory. Returns 0, or -1 on a database error.
 */
int dash_filter_apply(struct db *db, struct dash_plan *p, const struct dash_filter *f);

/* --- indicators ------------------------------------------------------------------------------- */

enum dash_track { DASH_UNRATED = 0, DASH_ON_TRACK, DASH_LATE };

struct dash_target {
	int year;
	double value;
};

struct dash_measure {
	double day; /* days since 1970-01-01 */
	double value;
	int has_value; /* 0 for a qualitative measurement */
	char *text;    /* qualitative text, or NULL */
};

struct dash_indicator {
	int64_t id;      /* fiche_indicators.id */
	int64_t node_id; /* its fiche */
	char *name, *unit, *kind, *direction, *value_type;
	int has_baseline;
	double baseline, baseline_day; /* baseline_day < -1e8 when the date is unknown */
	struct dash_target *targets;
	size_t ntargets;
	struct dash_measure *measures; /* by date */
	size_t nmeasures;
	int track;       /* enum dash_track */
	double expected; /* the target interpolated for the last measurement's date */
};

/*
 * The indicators of the plan's selected fiches with their targets and measurements, in tree
 * order of the fiches. When up_to_day > -1e8, measurements after that day are ignored (a
 * bilan of a past year). Each one is rated (dash_indicator_rate). The caller frees with
 * dash_indicators_free. Returns the count, 0 when none or on error.
 */
size_t dash_indicators_load(struct db *db, const struct dash_plan *p, double up_to_day,
                            struct dash_indicator **out);
void dash_indicators_free(struct dash_indicator *v, size_t n);

/*
 * Rate an indicator ("on track"): its last numeric measurement against the target expected
 * at that date, in its direction of good (≥ when up, ≤ when down). The expected target is
 * interpolated linearly along the trajectory made of the baseline (at its date) and the yearly
 * targets (each at 31 December of its year); before the first point it is the first point's
 * value, after the last the last target. Unrated: qualitative indicators, no target, no
 * numeric measurement. Sets ind->track and ind->expected.
 */
void dash_indicator_rate(struct dash_indicator *ind);
/* The trajectory points (baseline then targets, by date) into out (n ≤ 1 + ntargets);
 * returns how many. out must hold 1 + ind->ntargets points. */
struct svg_point;
size_t dash_trajectory(const struct dash_indicator *ind, struct svg_point *out);

/* s cut to at most max_chars characters (UTF-8 code points) with "…" when cut, into out (for
 * breadcrumbs: a long plan title does not fit a phone). */
void dash_short(char out[160], const char *s, size_t max_chars);

/* --- shared rendering ------------------------------------------------------------------------ */

/* The roll-up rule as an HTML paragraph list (for the dashboard, the reports, the portal). */
void dash_rule_html(struct buf *o);
/* The "on track" rule as an HTML paragraph. */
void dash_track_rule_html(struct buf *o);

/*
 * The progress distribution figure: one 100 % stacked bar for `overall_label` (the node `top`,
 * or the whole plan when top is NULL) then one per child of top (or per root), with its table.
 * `id` is the chart id; fold as in svg.h.
 */
void dash_progress_figure(struct buf *o, const struct dash_plan *p, const struct dash_node *top,
                          const char *id, const char *title, int fold);
/* The headline figures (fiches suivies, % achevées, bien, peu, non engagées) as a .stats list. */
void dash_progress_stats(struct buf *o, const struct dash_node *n);
/* A line chart (with its table) of one indicator. */
void dash_indicator_figure(struct buf *o, const struct dash_indicator *ind, const char *id,
                           const char *fiche_label, int fold);

/* --- what changed ------------------------------------------------------------------------------
 */

/*
 * Write "what changed" between two dates (YYYY-MM-DD, both included) for the plan's nodes:
 * audit entries of the fiches, nodes, comments, proposals, indicators and measurements of the
 * plan, grouped by fiche in tree order, each as a readable line ("Avancement : peu engagée →
 * bien engagée, par X, le 12 mars 2025"). With `public_view` set, no names of people and no
 * comments. Only selected fiches (and non-fiche nodes above them) are shown. Returns the
 * number of changes written.
 */
size_t dash_changes_html(struct buf *o, struct db *db, const struct dash_plan *p, const char *from,
                         const char *to, int public_view);

/* The latest COPIL date of the plan's proposals (≤ today) into out, or "" when none. */
void dash_last_copil(struct db *db, int64_t plan_id, char out[16]);

/*
 * Empty the dashboard page's rendered-content cache (see dashboard.c). The cache is invalidated
 * by every audited write; this is for data changed behind the application's back (tests writing
 * SQL directly, a database restored under a running server).
 */
void dash_cache_clear(void);

#endif
