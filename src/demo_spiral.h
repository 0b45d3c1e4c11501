/* demo_spiral: the SPIRAL workshops of the demonstration database (Ardèche schéma). */
#ifndef MAILLAGE_DEMO_SPIRAL_H
#define MAILLAGE_DEMO_SPIRAL_H

struct db;

/*
 * Load the SPIRAL key (if missing) and, on the Ardèche schéma des solidarités found by title, the
 * four multi-actor platforms and eight peer groups of seed 004 with about three hundred criteria
 * marked as demo data, deterministic, so that the most cited criteria of the aggregation come
 * out in the order of the seed's « top 7 » (five for bien-être, four for mal-être); most criteria
 * are classified (their suggested component), the last two groups are left to classify; a few
 * components are linked to the schéma's orientations. Does nothing when the plan is missing.
 * Runs in its own transaction. Returns 0, or -1 with *err a malloc'ed French message.
 */
int demo_spiral_load(struct db *db, char **err);

#endif
