/* demo: the demonstration database — real geography of the Drôme and the Ardèche, the plans
 * and actors of the seed documents, and one account per role. */
#ifndef MAILLAGE_DEMO_H
#define MAILLAGE_DEMO_H

#include <stddef.h>

struct db;

#define DEMO_PASSWORD "maillage-demo"
#define DEMO_ADMIN    "admin@demo.maillage.fr"

/*
 * Load everything into a freshly migrated, empty database, in one transaction per part.
 * Returns 0, or -1 with *err set to a malloc'ed French message.
 */
int demo_load(struct db *db, char **err);

/*
 * Load one plan described in the demo JSON format (a file of data/demo/plans, described in
 * data/demo/README.md) inside the caller's transaction. Actors named as signatories must exist.
 * On success returns 0 and sets *plan_id; on failure -1 with *err set.
 */
int demo_plan_load(struct db *db, const char *json, size_t len, const char *name,
                   long long *plan_id, char **err);

#endif
