/* map: maps of the territory drawn on the server as SVG (no tile server) — communes as points,
 * with optional layers of actors, services, coverage classes or accessibility classes — and
 * the page /territoire/carte. */
#ifndef MAILLAGE_MAP_H
#define MAILLAGE_MAP_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

struct db;

/* The layer drawn over the communes. */
enum map_layer {
	MAP_LAYER_NONE,          /* communes only */
	MAP_LAYER_ACTORS,        /* actors, one symbol per group of kinds */
	MAP_LAYER_SERVICES,      /* services, circles sized by capacity */
	MAP_LAYER_COVERAGE,      /* communes in 4 classes of coverage rate (places per 100) */
	MAP_LAYER_ACCESSIBILITY, /* communes in 4 classes of 2SFCA accessibility (20 minutes) */
};

/*
 * What to draw. The territory is the communes of `epci` (SIREN), else of `departement`, else
 * of plan `plan_id` (> 0; the caller has checked that the request may see the plan), else every
 * commune. Strings are borrowed for the call; NULL means "no filter". The caller validates them
 * (map_render only binds them).
 */
struct map_options {
	const char *epci, *departement;
	int64_t plan_id;
	enum map_layer layer;
	const char *actor_kind; /* actors: one kind (actor_kind_valid) */
	const char *thematic;   /* actors: slug of a global thematic tag */
	const char
	    *service_kind; /* services, coverage, accessibility: a service code; NULL = EAJE */
	const char *id;    /* unique id prefix in the page ("carte"); NULL = "carte" */
	const char *title; /* plain text title of the map; NULL = "Carte du territoire" */
};

/* One drawn item (a commune, an actor or a service), in the order of the list. */
struct map_item {
	char *label;  /* name */
	char *detail; /* kind, class or capacity (plain text) */
	char *href;   /* link (a local path) or NULL */
	char *commune;
	double lat, lon;
	int has_point;
	int placed;   /* position estimated by rule (communes) */
	int group;    /* symbol group (actors) or class 0..3 (-1: no data) */
	double value; /* capacity (services) or rate (classes); NAN when none */
};

/* The data behind one map. Free with map_data_free. */
struct map_data {
	struct map_item *communes;
	size_t ncommunes;
	struct map_item *points; /* actors or services */
	size_t npoints;
	enum map_layer layer;
	char *service_kind;
	/* projection, computed by map_load: x = ox + (lon - lon0)·k·scale, y = oy + (lat0 -
	 * lat)·scale */
	double lon0, lat0, k, scale, ox, oy, width, map_height;
};

/* Load what `o` asks for. Returns 0, or -1 on a database or computation error. */
int map_load(struct db *db, const struct map_options *o, struct map_data *d);
void map_data_free(struct map_data *d);

/*
 * Write the SVG map: role="img" with <title> and <desc> (a summary of what it shows), viewBox
 * for any screen width, an equirectangular projection (longitudes × cos(mean latitude)) fitted
 * to the communes' box, communes as small grey points (hollow when their position is
 * estimated), the layer, a legend and a scale bar in kilometres. Every point has a <title>.
 * Only presentation attributes (no style attribute), no <pattern>: hatching is drawn as lines.
 */
void map_svg(struct buf *out, const struct map_data *d, const struct map_options *o);
/* The same items as an accessible HTML table (caption, th scope) inside .table-wrap. */
void map_table(struct buf *out, const struct map_data *d);
/* Load, then write <figure class="map"> with the SVG and the table. */
void map_render(struct buf *out, struct db *db, const struct map_options *o);

/* The projection of the SVG (exposed for tests): the point of (lat, lon) in the viewBox of the
 * map of `d`. */
void map_project(const struct map_data *d, double lat, double lon, double *x, double *y);

/* Labels of the classes of a layer (COVERAGE, ACCESSIBILITY), cls in 0..3; static strings. */
const char *map_class_label(enum map_layer layer, int cls);

#endif
