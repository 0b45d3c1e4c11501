/* svg: charts drawn on the server as SVG — bar, 100 % stacked bar, line with a target band,
 * donut and radar — each with its title, description and data table. */
#ifndef MAILLAGE_SVG_H
#define MAILLAGE_SVG_H

#include "buf.h"

#include <stddef.h>

/*
 * Every chart is written into a struct buf as an inline <svg> element: role="img",
 * aria-labelledby pointing at its <title> and <desc>, no script, no style attribute (only SVG
 * presentation attributes, allowed by the CSP), text in French. Categories are told apart by
 * fills that differ both in lightness and in pattern (dots, hatching…) and by labels, so that a
 * chart printed in black and white still reads. Every label is escaped.
 *
 * `id` must be unique in the HTML page (letters, digits, '-'; "c1", "avancement"): it prefixes
 * the ids of the title, the description and the patterns. Titles, descriptions and labels are
 * plain text, borrowed for the call.
 *
 * svg_figure_*() write the chart and its data as an accessible HTML table (caption, th scope)
 * inside <figure class="chart">: pages use these, never a chart alone. With `fold` set the
 * table is inside a <details> (closed) — for long tables on screen; printed reports pass 0.
 */

/* The number of distinct fills; category i uses fill i % SVG_FILLS. Fill 0 is the lightest,
 * 3 the darkest: ordered scales (progress levels) use 0..3. */
#define SVG_FILLS 8

/* A horizontal bar chart: one value per category, a label above each bar. */
struct svg_bar {
	const char *id, *title, *desc;
	const char *const *labels; /* n category labels */
	const double *values;      /* n values (negative values are drawn as 0) */
	size_t n;
	const char *unit;       /* appended to the values ("fiches", "%"), may be NULL */
	int decimals;           /* decimals shown */
	const char *label_head; /* heading of the category column of the table */
	const char *value_head; /* heading of the value column of the table */
};

/* Horizontal 100 % stacked bars: one bar per row, one segment per category, with counts and
 * percentages (percentages rounded by svg_percentages). A row whose total is 0 shows
 * `empty_text` instead of a bar. */
struct svg_stack {
	const char *id, *title, *desc;
	const char *const *rows; /* nrows row labels */
	size_t nrows;
	const char *const *segments; /* nseg category labels (legend and table columns) */
	size_t nseg;
	const double *counts;   /* nrows × nseg counts, row after row */
	const char *row_head;   /* heading of the row column of the table ("Axe") */
	const char *total_unit; /* "fiches": the total of each row reads "12 fiches" */
	const char *empty_text; /* "aucune fiche suivie" */
	const int *fills;       /* nseg fill indexes, or NULL for 0, 1, 2… */
};

/* One point of a line chart: x in days since 1970-01-01 (see svg_days_from_iso), y a value. */
struct svg_point {
	double x, y;
};

struct svg_series {
	const char *label;
	const struct svg_point *pts; /* sorted by x */
	size_t n;
};

/* A line chart of values over time with a target trajectory and the band of success. */
struct svg_line {
	const char *id, *title, *desc;
	const struct svg_series *series; /* the first is drawn solid with dots, others dashed */
	size_t nseries;
	const struct svg_point *target; /* the expected trajectory (baseline → yearly targets) */
	size_t ntarget;
	int band_dir;     /* +1: success is above the trajectory; -1: below; 0: no band */
	const char *unit; /* of the values, may be NULL */
	int decimals;
};

/* A donut: parts of a whole, with the total in the middle. */
struct svg_donut {
	const char *id, *title, *desc;
	const char *const *labels;
	const double *values;
	size_t n;
	const char *center;     /* text in the middle ("37 fiches"), may be NULL */
	const char *label_head; /* heading of the category column of the table */
	const int *fills;       /* n fill indexes, or NULL */
};

/* A radar (evaluation grids): naxes ≥ 3 axes scored from 0 to max, one polygon per series. */
struct svg_radar {
	const char *id, *title, *desc;
	const char *const *axes;
	size_t naxes;
	const char *const *series_labels;
	const double *values; /* nseries × naxes, series after series */
	size_t nseries;
	double max;
};

void svg_bar(struct buf *o, const struct svg_bar *c);
void svg_stack(struct buf *o, const struct svg_stack *c);
void svg_line(struct buf *o, const struct svg_line *c);
void svg_donut(struct buf *o, const struct svg_donut *c);
void svg_radar(struct buf *o, const struct svg_radar *c);

void svg_figure_bar(struct buf *o, const struct svg_bar *c, int fold);
void svg_figure_stack(struct buf *o, const struct svg_stack *c, int fold);
void svg_figure_line(struct buf *o, const struct svg_line *c, int fold);
void svg_figure_donut(struct buf *o, const struct svg_donut *c, int fold);
void svg_figure_radar(struct buf *o, const struct svg_radar *c, int fold);

/*
 * Whole percentages of counts[0..n) that add up to 100 (largest remainder method: each share
 * rounded down, then the points left given to the largest remainders, ties to the first).
 * All 0 when the total is 0.
 */
void svg_percentages(const double *counts, size_t n, int *pct);

/* A number written the French way: narrow no-break space between thousands, decimal comma. */
void svg_number(char out[48], double v, int decimals);

/* Days since 1970-01-01 of a date "YYYY-MM-DD" (the first 10 characters); -1e9 when invalid. */
double svg_days_from_iso(const char *iso);
/* The date of a day number as "YYYY-MM-DD". */
void svg_iso_from_days(char out[16], double days);
/* The date of a day number in French: "12 mars 2024". */
void svg_date_fr(char out[48], double days);

#endif
