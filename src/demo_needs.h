/* demo_needs: the needs of the demonstration database (observatory of needs). */
#ifndef MAILLAGE_DEMO_NEEDS_H
#define MAILLAGE_DEMO_NEEDS_H

struct db;

/*
 * Insert about fifteen demonstration needs drawn from the seed documents (each says so in its
 * description), with their communes, some linked to fiches of the Crestois CTG found by title,
 * some left uncovered. Expects the geography, the plans and their fiches already loaded. Runs in
 * its own transaction; every need is audited as created from the command line.
 * Returns 0, or -1 with *err set to a malloc'ed French message (caller frees).
 */
int demo_needs_load(struct db *db, char **err);

#endif
