/* geo_import: loading the official geography (INSEE COG via Etalab, GeoNames coordinates). */
#ifndef MAILLAGE_GEO_IMPORT_H
#define MAILLAGE_GEO_IMPORT_H

#include <stddef.h>

struct db;

struct geo_stats {
	long departements, epcis, communes, with_coordinates, memberships;
};

/* A file given by its contents; `name` is used in error messages. */
struct geo_source {
	const char *name;
	const char *data;
	size_t size;
};

/*
 * Load départements, EPCIs (with their member communes) and current communes from the three
 * files of the npm package @etalab/decoupage-administratif, plus latitude/longitude from a
 * GeoNames cities500 file (optional: cities.data may be NULL), matched by INSEE code on the
 * admin4 column of French rows. Rows are inserted or updated; all in one transaction: on any
 * error nothing is stored, -1 is returned and *err holds a malloc'ed French message naming the
 * file, line and column at fault.
 */
int geo_import(struct db *db, const struct geo_source *communes, const struct geo_source *epci,
               const struct geo_source *departements, const struct geo_source *cities,
               struct geo_stats *stats, char **err);

/* The same from a directory holding communes.json, epci.json, departements.json and, unless
 * cities_path is given, optionally cities500.txt. */
int geo_import_dir(struct db *db, const char *dir, const char *cities_path, struct geo_stats *stats,
                   char **err);

/* The same from the Drôme and Ardèche subset embedded in the binary (data/geo). */
int geo_import_embedded(struct db *db, struct geo_stats *stats, char **err);

#endif
