/* demo_fiches: the fiches-actions of the demonstration plans, and the demo pilot's own fiches. */
#ifndef MAILLAGE_DEMO_FICHES_H
#define MAILLAGE_DEMO_FICHES_H

#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Load the fiches of one demo plan already loaded by demo_plan_load (same JSON text, see
 * data/demo/README.md). Walks the nodes in the order and numbering of the plan loader ("1",
 * "1.2", … by position) and, for every node with a "fiche" object, finds the node by
 * (plan_id, number) and inserts its fiche row (status, progress, start, end, is_demo = 1; a
 * demo closing note and closed_at for achevée / abandonnée fiches), its pilots and partners
 * (actor names, which must exist in the directory), its publics and impact domains. Each fiche
 * is audited as created from the command line. Runs in the caller's transaction.
 * Returns 0, or -1 with *err set to a malloc'ed French message (caller frees).
 */
int demo_fiches_load(struct db *db, int64_t plan_id, const char *json, size_t len, char **err);

/*
 * Make the account user_id a pilot of `count` fiches of the plan, chosen to show a varied
 * "mes actions" page: one "peu engagée" fiche whose progress was last reported eight months ago
 * (so it is overdue), one "bien engagée", one "retenue" not yet started, one "achevée", then
 * others, taken from different thématiques where possible. Every change is audited (command
 * line). Runs in the caller's transaction if there is one. Returns the number of fiches assigned
 * (0 when the plan has none), or -1 on a database error.
 */
int demo_fiches_assign_pilot(struct db *db, int64_t plan_id, int64_t user_id, int count);

#endif
