/* demo_grids: the demo campaign "Fonction mailleur" of seed 002. */
#ifndef MAILLAGE_DEMO_GRIDS_H
#define MAILLAGE_DEMO_GRIDS_H

struct db;

/*
 * Load the shipped grids, then the campaign "Fonction mailleur" (data/grids/demo/) on the demo
 * plan of the Fédération des centres sociaux de la Drôme: the four structures of seed 002
 * (Les Ors, La Paz, Mosaic, Fontbarlettes), a self-assessment and a peer (federation)
 * assessment of each with invented scores marked demo, and the seed's own quotes with the
 * speaker's role. One transaction. Returns 0, or -1 with *err (malloc'ed).
 */
int demo_grids_load(struct db *db, char **err);

#endif
