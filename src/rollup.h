/* rollup: the national roll-up — the progress distribution of every plan at once, by the rule
 * of the plan dashboard (dashboard.h), as a command and an API route. */
#ifndef MAILLAGE_ROLLUP_H
#define MAILLAGE_ROLLUP_H

#include "dashboard.h"
#include "http.h"

#include <stdint.h>

struct db;

struct rollup_plan {
	int64_t id;
	char *title;
	char *kind;
	int fiches;                   /* live fiches, whatever their status */
	int tracked;                  /* fiches suivies */
	int levels[DASH_NLEVELS];     /* fiches suivies by level (enum dash_level) */
	int percent[DASH_NLEVELS];    /* whole percentages by level, -1 when tracked is 0 */
	int statuses[DASH_NSTATUSES]; /* fiches by status */
};

struct rollup {
	struct rollup_plan *plans; /* by id */
	size_t n;
	struct rollup_plan all; /* the sum over the plans (id 0, no title) */
	double ms;              /* computing time */
};

/*
 * The distribution of every plan visible to r (every plan when r is NULL): the plans' live
 * trees are read with two queries, each plan's roll-up is computed by dash_rollup — the very
 * function of the dashboard — and its percentages by the dashboard's rounding. Returns 0, or
 * -1 on a database error. Free with rollup_free.
 */
int rollup_compute(struct db *db, struct req *r, struct rollup *out);
void rollup_free(struct rollup *ru);

/* `maillage rollup`: the table (or JSON with json set) on stdout; returns the exit status. */
int rollup_cli(const char *url, const char *format);

/* GET /api/v1/rollup */
extern const struct route rollup_routes[];

#endif
