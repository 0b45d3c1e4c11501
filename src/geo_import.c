/* geo_import: COG JSON and GeoNames TSV into the geography tables, all or nothing. */
#include "geo_import.h"

#include "buf.h"
#include "db.h"
#include "embed.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *load_array(const struct geo_source *src, char **err)
{
	json_error_t je;
	json_t *j = json_loadb(src->data, src->size, 0, &je);
	if (!j) {
		*err = xasprintf("%s, ligne %d, colonne %d : JSON non valide (%s)", src->name,
		                 je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_array(j)) {
		*err = xasprintf("%s : un tableau JSON était attendu", src->name);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A required string member; sets *err naming the entry when missing. */
static const char *need_str(json_t *o, const char *key, const char *file, size_t index, char **err)
{
	const char *s = json_string_value(json_object_get(o, key));
	if ((!s || !*s) && !*err)
		*err = xasprintf("%s, entrée n° %zu : champ « %s » absent ou vide", file, index + 1,
		                 key);
	return s;
}

static int code_ok(const char *s, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n < min || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == 'A' || *s == 'B'))
			return 0;
	return 1;
}

static int import_departements(struct db *db, const struct geo_source *src, struct geo_stats *stats,
                               char **err)
{
	json_t *arr = load_array(src, err);
	if (!arr)
		return -1;
	struct db_stmt *st = db_prepare(db, "INSERT INTO departements (code, name, region) "
	                                    "VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
	                                    "name = excluded.name, region = excluded.region");
	size_t i;
	json_t *o;
	int rc = st ? 0 : -1;
	json_array_foreach(arr, i, o)
	{
		const char *code = need_str(o, "code", src->name, i, err);
		const char *name = need_str(o, "nom", src->name, i, err);
		if (*err) {
			rc = -1;
			break;
		}
		if (!code_ok(code, 2, 3)) {
			*err =
			    xasprintf("%s, entrée n° %zu : code de département non valide « %s »",
			              src->name, i + 1, code);
			rc = -1;
			break;
		}
		db_reset(st);
		db_bindf(st, "sss", code, name, json_string_value(json_object_get(o, "region")));
		if (db_step(st) != DB_DONE) {
			*err = xasprintf("%s, entrée n° %zu : %s", src->name, i + 1, db_errmsg(db));
			rc = -1;
			break;
		}
		stats->departements++;
	}
	db_finalize(st);
	json_decref(arr);
	return rc;
}

static int import_communes(struct db *db, const struct geo_source *src, struct geo_stats *stats,
                           char **err)
{
	json_t *arr = load_array(src, err);
	if (!arr)
		return -1;
	/* Communes of a département not in departements.json (some overseas collectivities) are
	 * kept without département rather than refused. */
	struct db_stmt *st = db_prepare(
	    db, "INSERT INTO communes (code, name, departement, population, postal_codes, "
	        "search_name) "
	        "VALUES (?, ?, (SELECT code FROM departements WHERE code = ?), ?, ?, ?) "
	        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
	        "departement = excluded.departement, population = excluded.population, "
	        "postal_codes = excluded.postal_codes, search_name = excluded.search_name");
	size_t i;
	json_t *o;
	int rc = st ? 0 : -1;
	json_array_foreach(arr, i, o)
	{
		const char *type = json_string_value(json_object_get(o, "type"));
		if (!json_is_object(o)) {
			*err = xasprintf("%s, entrée n° %zu : objet attendu", src->name, i + 1);
			rc = -1;
			break;
		}
		/* Delegated and associated communes share codes with current ones: skip them. */
		if (type && strcmp(type, "commune-actuelle") != 0)
			continue;
		const char *code = need_str(o, "code", src->name, i, err);
		const char *name = need_str(o, "nom", src->name, i, err);
		if (*err) {
			rc = -1;
			break;
		}
		if (!code_ok(code, 5, 5)) {
			*err = xasprintf("%s, entrée n° %zu : code INSEE non valide « %s »",
			                 src->name, i + 1, code);
			rc = -1;
			break;
		}
		json_t *pop = json_object_get(o, "population");
		if (pop && (!json_is_integer(pop) || json_integer_value(pop) < 0)) {
			*err = xasprintf("%s, entrée n° %zu (%s) : population non valide",
			                 src->name, i + 1, code);
			rc = -1;
			break;
		}
		struct buf pc = {0};
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(o, "codesPostaux"), k, v)
		{
			if (k)
				buf_putc(&pc, ' ');
			buf_puts(&pc, json_string_value(v));
		}
		db_reset(st);
		db_bindf(st, "sss", code, name,
		         json_string_value(json_object_get(o, "departement")));
		if (pop)
			db_bind_int64(st, 4, json_integer_value(pop));
		else
			db_bind_null(st, 4);
		db_bind_text(st, 5, buf_str(&pc));
		buf_free(&pc);
		char *key = text_fold(name);
		db_bind_text(st, 6, key); /* copied by the binding */
		free(key);
		if (db_step(st) != DB_DONE) {
			*err = xasprintf("%s, entrée n° %zu (%s) : %s", src->name, i + 1, code,
			                 db_errmsg(db));
			rc = -1;
			break;
		}
		stats->communes++;
	}
	db_finalize(st);
	json_decref(arr);
	return rc;
}

static int import_epcis(struct db *db, const struct geo_source *src, struct geo_stats *stats,
                        char **err)
{
	json_t *arr = load_array(src, err);
	if (!arr)
		return -1;
	struct db_stmt *ins =
	    db_prepare(db, "INSERT INTO epcis (code, name, kind, population, "
	                   "search_name) "
	                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
	                   "name = excluded.name, kind = excluded.kind, "
	                   "population = excluded.population, "
	                   "search_name = excluded.search_name");
	/* Members outside the loaded communes (another département's subset) are ignored. */
	struct db_stmt *mem = db_prepare(db, "UPDATE communes SET epci = ? WHERE code = ?");
	size_t i;
	json_t *o;
	int rc = ins && mem ? 0 : -1;
	json_array_foreach(arr, i, o)
	{
		const char *code = need_str(o, "code", src->name, i, err);
		const char *name = need_str(o, "nom", src->name, i, err);
		if (*err) {
			rc = -1;
			break;
		}
		if (!code_ok(code, 9, 9)) {
			*err = xasprintf("%s, entrée n° %zu : SIREN d'EPCI non valide « %s »",
			                 src->name, i + 1, code);
			rc = -1;
			break;
		}
		json_t *pop = json_object_get(o, "populationMunicipale");
		db_reset(ins);
		db_bindf(ins, "sss", code, name, json_string_value(json_object_get(o, "type")));
		if (json_is_integer(pop))
			db_bind_int64(ins, 4, json_integer_value(pop));
		else
			db_bind_null(ins, 4);
		char *key = text_fold(name);
		db_bind_text(ins, 5, key); /* copied by the binding */
		free(key);
		if (db_step(ins) != DB_DONE) {
			*err = xasprintf("%s, entrée n° %zu (%s) : %s", src->name, i + 1, code,
			                 db_errmsg(db));
			rc = -1;
			break;
		}
		stats->epcis++;
		size_t k;
		json_t *m;
		json_array_foreach(json_object_get(o, "membres"), k, m)
		{
			const char *mc = json_string_value(json_object_get(m, "code"));
			if (!code_ok(mc, 5, 5)) {
				*err =
				    xasprintf("%s, entrée n° %zu (%s), membre n° %zu : code INSEE "
				              "non valide",
				              src->name, i + 1, code, k + 1);
				rc = -1;
				break;
			}
			db_reset(mem);
			db_bindf(mem, "ss", code, mc);
			if (db_step(mem) != DB_DONE) {
				*err = xasprintf("%s, entrée n° %zu : %s", src->name, i + 1,
				                 db_errmsg(db));
				rc = -1;
				break;
			}
			stats->memberships++;
		}
		if (rc)
			break;
	}
	db_finalize(ins);
	db_finalize(mem);
	json_decref(arr);
	return rc;
}

/* Split one TSV line into at most max fields (in place). Returns the number of fields. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static int parse_coord(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

struct place {
	char code[6];
	long pop;
	double lat, lon;
};

/* By commune code, then most populated first. */
static int best_cmp(const void *a, const void *b)
{
	const struct place *x = a, *y = b;
	int c = strcmp(x->code, y->code);
	if (c)
		return c;
	return (y->pop > x->pop) - (y->pop < x->pop);
}

static int import_cities(struct db *db, const struct geo_source *src, struct geo_stats *stats,
                         char **err)
{
	if (!utf8_valid_text(src->data, src->size)) {
		*err = xasprintf("%s : le fichier n'est pas du texte UTF-8 valide", src->name);
		return -1;
	}
	/* When a commune has several rows, the most populated place wins. */
	struct db_stmt *st = db_prepare(db, "UPDATE communes SET latitude = ?, longitude = ?, "
	                                    "coordinates_placed = 0 WHERE code = ?");
	if (!st)
		return -1;
	char *copy = xstrndup(src->data, src->size);
	struct place *best = NULL;
	size_t nbest = 0, cap = 0;
	int rc = 0;
	long lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *f[20];
		int n = split_tabs(line, f, 20);
		if (n < 15) {
			*err = xasprintf("%s, ligne %ld : %d colonnes au lieu de 19 (séparateur "
			                 "tabulation attendu)",
			                 src->name, lineno, n);
			rc = -1;
			break;
		}
		if (strcmp(f[8], "FR") != 0 || !code_ok(f[13], 5, 5))
			continue;
		double lat, lon;
		if (parse_coord(f[4], -90, 90, &lat) || parse_coord(f[5], -180, 180, &lon)) {
			*err =
			    xasprintf("%s, ligne %ld, colonne %d : coordonnée non valide",
			              src->name, lineno, parse_coord(f[4], -90, 90, &lat) ? 5 : 6);
			rc = -1;
			break;
		}
		if (nbest == cap) {
			cap = cap ? cap * 2 : 1024;
			best = xrealloc(best, cap * sizeof *best);
		}
		memcpy(best[nbest].code, f[13], 6);
		best[nbest].pop = atol(f[14]);
		best[nbest].lat = lat;
		best[nbest].lon = lon;
		nbest++;
	}
	if (rc == 0 && nbest)
		qsort(best, nbest, sizeof *best, best_cmp);
	for (size_t k = 0; rc == 0 && k < nbest; k++) {
		if (k && !strcmp(best[k].code, best[k - 1].code))
			continue; /* a less populated place of the same commune */
		db_reset(st);
		db_bindf(st, "dds", best[k].lat, best[k].lon, best[k].code);
		if (db_step(st) != DB_DONE) {
			*err = xasprintf("%s : %s", src->name, db_errmsg(db));
			rc = -1;
		}
	}
	free(best);
	free(copy);
	db_finalize(st);
	if (rc == 0) {
		int64_t n = 0;
		db_int64f(db, &n,
		          "SELECT COUNT(*) FROM communes WHERE latitude IS NOT NULL "
		          "AND coordinates_placed = 0",
		          "");
		stats->with_coordinates = (long)n;
	}
	return rc;
}

/*
 * Placement of the communes without a measured point (GeoNames has none for many small
 * communes: 418 of the 697 of Drôme and Ardèche). The rule, applied after every import:
 *   1. the point is the population-weighted mean of the latitudes and longitudes of the
 *      communes of the same EPCI that have a measured point (weight: the municipal population,
 *      or 1 when it is unknown or 0); when the EPCI has none, the same over the département;
 *      when the département has none either, the commune stays without coordinates;
 *   2. an offset derived from the INSEE code alone is added so that placed points do not
 *      overlap: h = FNV-1a (32 bits) of the code, angle = (h mod 3600) / 3600 · 2π, radius =
 *      0.01° + ((h >> 12) mod 1000) / 1000 · 0.02° of latitude (about 1 to 3.3 km), the
 *      longitude offset divided by cos(latitude);
 *   3. communes.coordinates_placed = 1 ("position estimée" in pages and exports).
 * Measured points are never changed; placed points are recomputed at every import (a commune
 * that has gained a GeoNames point is measured again: import_cities resets the flag).
 */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static int place_unmeasured(struct db *db, char **err)
{
	if (db_execf(db,
	             "UPDATE communes SET latitude = NULL, longitude = NULL "
	             "WHERE coordinates_placed = 1",
	             "") != DB_OK) {
		*err = xasprintf("placement des communes : %s", db_errmsg(db));
		return -1;
	}
	struct db_stmt *todo =
	    db_queryf(db,
	              "SELECT code, epci, departement FROM communes "
	              "WHERE latitude IS NULL OR longitude IS NULL ORDER BY code",
	              "");
	if (!todo) {
		*err = xasprintf("placement des communes : %s", db_errmsg(db));
		return -1;
	}
	/* Collect first: the updates below must not disturb the running query. */
	struct pending {
		char code[6];
		char *epci, *dep;
	} *list = NULL;
	size_t n = 0, cap = 0;
	while (db_step(todo) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			list = xrealloc(list, cap * sizeof *list);
		}
		snprintf(list[n].code, sizeof list[n].code, "%s", db_col_text(todo, 0));
		const char *e = db_col_text(todo, 1), *d = db_col_text(todo, 2);
		list[n].epci = e ? xstrdup(e) : NULL;
		list[n].dep = d ? xstrdup(d) : NULL;
		n++;
	}
	db_finalize(todo);
	static const char *const mean_sql[2] = {
	    "SELECT SUM(w * latitude) / SUM(w), SUM(w * longitude) / SUM(w) FROM ("
	    "SELECT latitude, longitude, CASE WHEN population > 0 THEN population ELSE 1 END AS w "
	    "FROM communes WHERE epci = ? AND coordinates_placed = 0 AND latitude IS NOT NULL "
	    "AND longitude IS NOT NULL) m",
	    "SELECT SUM(w * latitude) / SUM(w), SUM(w * longitude) / SUM(w) FROM ("
	    "SELECT latitude, longitude, CASE WHEN population > 0 THEN population ELSE 1 END AS w "
	    "FROM communes WHERE departement = ? AND coordinates_placed = 0 AND latitude IS NOT "
	    "NULL AND longitude IS NOT NULL) m"};
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		double lat = 0, lon = 0;
		int found = 0;
		for (int k = 0; k < 2 && !found; k++) {
			const char *key = k == 0 ? list[i].epci : list[i].dep;
			if (!key)
				continue;
			struct db_stmt *st = db_queryf(db, mean_sql[k], "s", key);
			if (!st) {
				rc = -1;
				break;
			}
			if (db_step(st) == DB_ROW && !db_col_is_null(st, 0)) {
				lat = db_col_double(st, 0);
				lon = db_col_double(st, 1);
				found = 1;
			}
			db_finalize(st);
		}
		if (rc || !found)
			continue;
		uint32_t h = fnv1a(list[i].code);
		double angle = (double)(h % 3600u) / 3600.0 * 2.0 * M_PI;
		double radius = 0.01 + (double)((h >> 12) % 1000u) / 1000.0 * 0.02;
		lat += radius * sin(angle);
		lon += radius * cos(angle) / cos(lat * M_PI / 180.0);
		if (db_execf(
		        db,
		        "UPDATE communes SET latitude = ?, longitude = ?, coordinates_placed = 1 "
		        "WHERE code = ?",
		        "dds", lat, lon, list[i].code) != DB_OK)
			rc = -1;
	}
	if (rc)
		*err = xasprintf("placement des communes : %s", db_errmsg(db));
	for (size_t i = 0; i < n; i++) {
		free(list[i].epci);
		free(list[i].dep);
	}
	free(list);
	return rc;
}

int geo_import(struct db *db, const struct geo_source *communes, const struct geo_source *epci,
               const struct geo_source *departements, const struct geo_source *cities,
               struct geo_stats *stats, char **err)
{
	*err = NULL;
	memset(stats, 0, sizeof *stats);
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	int rc = import_departements(db, departements, stats, err);
	if (!rc)
		rc = import_communes(db, communes, stats, err);
	if (!rc)
		rc = import_epcis(db, epci, stats, err);
	if (!rc && cities && cities->data)
		rc = import_cities(db, cities, stats, err);
	if (!rc)
		rc = place_unmeasured(db, err);
	if (!rc && db_commit(db) != DB_OK) {
		*err = xasprintf("validation impossible : %s", db_errmsg(db));
		rc = -1;
	}
	if (rc) {
		if (!*err)
			*err = xasprintf("erreur de la base : %s", db_errmsg(db));
		db_rollback(db);
		memset(stats, 0, sizeof *stats);
	}
	return rc;
}

int geo_import_dir(struct db *db, const char *dir, const char *cities_path, struct geo_stats *stats,
                   char **err)
{
	static const char *const names[] = {"communes.json", "epci.json", "departements.json"};
	struct geo_source src[4] = {0};
	char *paths[4] = {0};
	int rc = -1;
	*err = NULL;
	for (int i = 0; i < 3; i++) {
		paths[i] = xasprintf("%s/%s", dir, names[i]);
		src[i].name = names[i];
		src[i].data = file_read_all(paths[i], &src[i].size);
		if (!src[i].data) {
			*err = xasprintf("fichier illisible : %s", paths[i]);
			goto out;
		}
	}
	paths[3] = cities_path ? xstrdup(cities_path) : xasprintf("%s/cities500.txt", dir);
	src[3].name = "cities500.txt";
	src[3].data = file_read_all(paths[3], &src[3].size);
	if (!src[3].data && cities_path) {
		*err = xasprintf("fichier illisible : %s", paths[3]);
		goto out;
	}
	rc = geo_import(db, &src[0], &src[1], &src[2], src[3].data ? &src[3] : NULL, stats, err);
out:
	for (int i = 0; i < 4; i++) {
		free((char *)src[i].data);
		free(paths[i]);
	}
	return rc;
}

int geo_import_embedded(struct db *db, struct geo_stats *stats, char **err)
{
	static const char *const names[] = {"data/geo/communes.json", "data/geo/epci.json",
	                                    "data/geo/departements.json", "data/geo/cities500.txt"};
	struct geo_source src[4];
	for (int i = 0; i < 4; i++) {
		const struct embed_file *f = embed_find(names[i]);
		if (!f) {
			*err = xasprintf("données embarquées absentes : %s", names[i]);
			return -1;
		}
		src[i] = (struct geo_source){names[i] + 9, (const char *)f->data, f->size};
	}
	return geo_import(db, &src[0], &src[1], &src[2], &src[3], stats, err);
}
