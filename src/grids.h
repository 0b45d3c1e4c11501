/* grids: evaluation grids — frameworks as data (a tree of axes, functions, criteria… whose leaves
 * are scored on a scale with a descriptor per level), campaigns of a plan, self and peer
 * assessments of structures with evidence and testimonies (speaker's role, never a name),
 * results as accessible radars, comparisons across structures and years, exports. */
#ifndef MAILLAGE_GRIDS_H
#define MAILLAGE_GRIDS_H

#include "buf.h"

#include <jansson.h>
#include <stdint.h>

struct db;

enum grids_format { GRIDS_NONE = 0, GRIDS_JSON, GRIDS_CSV, GRIDS_XLSX };

/* "json", "csv", "xlsx" (case-insensitive) → format; GRIDS_NONE otherwise. */
enum grids_format grids_format_parse(const char *name);

/*
 * Load the frameworks shipped as JSON in data/grids (the "mailleur de territoire" grid, the TECS
 * dimensions…) that this database never received, each in its own transaction, recorded in
 * grid_shipped so that a framework an administrator deleted does not come back. Called by the
 * demo loader, by the grid pages and API, and by `maillage export grids`; must not be called
 * inside a transaction. Returns 0, or -1 with *err (malloc'ed French message, caller frees).
 */
int grids_ensure_shipped(struct db *db, char **err);

/*
 * Everything about grids as JSON: {"frameworks": […], "campaigns": […]} with each campaign's
 * structures, assessments (scores with evidence) and testimonies. campaign_id > 0 limits it to one
 * campaign and its framework; otherwise plan_id > 0 limits the campaigns to one plan (and the
 * frameworks to the shared ones and the plan's own); both 0: the whole database. New reference.
 */
json_t *grids_export_json(struct db *db, int64_t plan_id, int64_t campaign_id);

/* The same written as JSON, CSV (French conventions: BOM, ';', CRLF, formula guard; one row per
 * criterion of each assessment) or XLSX (sheets Grilles, Échelles, Campagnes, Notes,
 * Témoignages) appended to out. Returns 0, or -1 with *err (malloc'ed). */
int grids_export(struct db *db, int64_t plan_id, int64_t campaign_id, enum grids_format fmt,
                 struct buf *out, char **err);

/*
 * `maillage export grids --format json|csv|xlsx [--plan ID] [-o FILE]`: loads the shipped grids,
 * writes the export to FILE or standard output (XLSX refused on a terminal). Messages in French
 * on stderr; returns the exit code (0, 1 failure, 2 usage).
 */
int grids_cli_export(struct db *db, const char *format, const char *plan, const char *out);

#endif
