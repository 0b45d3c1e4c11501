/* map: SVG maps of the territory drawn on the server, and the page /territoire/carte. */
#include "map.h"

#include "access_cli.h"
#include "actors.h"
#include "db.h"
#include "http.h"
#include "layout.h"
#include "offer.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAP_W      640.0
#define MAP_HMAX   560.0
#define MAP_MARGIN 18.0
#define KM_PER_DEG 111.195 /* km per degree of latitude (mean Earth radius) */

/* ---- Groups of actor kinds: one symbol each ------------------------------------------------- */

enum { G_INSTITUTION, G_CHILDHOOD, G_SOCIAL, G_RIGHTS, G_OTHER, G_N };

static const char *const group_labels[G_N] = {
    "Institutions (Caf, collectivités, CCAS, État)",
    "Petite enfance et parentalité (EAJE, MAM, RPE, LAEP)",
    "Animation sociale et jeunesse (centres sociaux, EVS, ALSH, associations)",
    "Accès aux droits et numérique (France services, points numériques)",
    "Autres structures",
};
static const char *const group_shapes[G_N] = {"carré", "triangle", "cercle", "losange", "croix"};

static int kind_group(const char *kind)
{
	static const struct {
		const char *kind;
		int group;
	} t[] = {
	    {"caf", G_INSTITUTION},
	    {"departement", G_INSTITUTION},
	    {"epci", G_INSTITUTION},
	    {"commune", G_INSTITUTION},
	    {"ccas", G_INSTITUTION},
	    {"msa", G_INSTITUTION},
	    {"etat", G_INSTITUTION},
	    {"eaje", G_CHILDHOOD},
	    {"mam", G_CHILDHOOD},
	    {"rpe", G_CHILDHOOD},
	    {"laep", G_CHILDHOOD},
	    {"centre_social", G_SOCIAL},
	    {"evs", G_SOCIAL},
	    {"alsh", G_SOCIAL},
	    {"association", G_SOCIAL},
	    {"mission_locale", G_SOCIAL},
	    {"france_services", G_RIGHTS},
	    {"point_numerique", G_RIGHTS},
	};
	for (size_t i = 0; kind && i < sizeof t / sizeof *t; i++)
		if (!strcmp(t[i].kind, kind))
			return t[i].group;
	return G_OTHER;
}

/* The age band a service kind serves, for coverage and accessibility. */
static const char *kind_band(const char *kind)
{
	return kind && !strcmp(kind, "ALSH") ? "6-11" : "0-2";
}

const char *map_class_label(enum map_layer layer, int cls)
{
	static const char *const cov[4] = {"aucune place", "moins de 10 places pour 100 enfants",
	                                   "de 10 à moins de 20 places pour 100",
	                                   "20 places pour 100 ou plus"};
	static const char *const acc[4] = {"non couverte : aucune offre à moins de 20 minutes",
	                                   "moins de 10 places accessibles pour 100",
	                                   "de 10 à moins de 20 places accessibles pour 100",
	                                   "20 places accessibles pour 100 ou plus"};
	if (cls < 0 || cls > 3)
		return "pas de population connue";
	return layer == MAP_LAYER_ACCESSIBILITY ? acc[cls] : cov[cls];
}

static int rate_class(double per100)
{
	if (!(per100 > 0))
		return 0;
	if (per100 < 10)
		return 1;
	if (per100 < 20)
		return 2;
	return 3;
}

/* ---- Loading ------------------------------------------------------------------------------ */

#define TERRITORY_WHERE                                                                            \
	"(CAST(? AS TEXT) IS NULL OR c.epci = ?) AND (CAST(? AS TEXT) IS NULL OR c.departement = " \
	"?) AND (? = 0 OR EXISTS "                                                                 \
	"(SELECT 1 FROM plan_territory t WHERE t.plan_id = ? AND ((t.scope = 'commune' AND "       \
	"t.code = c.code) OR (t.scope = 'epci' AND t.code = c.epci) OR (t.scope = "                \
	"'departement' AND t.code = c.departement))))"

static void bind_territory(struct db_stmt *st, int first, const struct map_options *o)
{
	db_bind_text(st, first, o->epci);
	db_bind_text(st, first + 1, o->epci);
	db_bind_text(st, first + 2, o->departement);
	db_bind_text(st, first + 3, o->departement);
	db_bind_int64(st, first + 4, o->plan_id);
	db_bind_int64(st, first + 5, o->plan_id);
}

static struct map_item *push(struct map_item **items, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*items = xrealloc(*items, *cap * sizeof **items);
	}
	struct map_item *it = &(*items)[(*n)++];
	memset(it, 0, sizeof *it);
	it->value = NAN;
	it->group = -1;
	return it;
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static int code_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct access_commune *)elem)->code);
}

static int load_communes(struct db *db, const struct map_options *o, struct map_data *d)
{
	const char *kind = d->service_kind;
	struct db_stmt *st = db_prepare(
	    db,
	    "SELECT c.code, c.name, c.latitude, c.longitude, c.coordinates_placed, "
	    "(SELECT SUM(s.capacity) FROM services s WHERE s.commune = c.code AND s.kind = ?), "
	    "(SELECT b.population FROM population_bands b WHERE b.commune = c.code AND "
	    "b.band = ?) FROM communes c WHERE " TERRITORY_WHERE " ORDER BY c.search_name, c.code");
	if (!st)
		return -1;
	db_bind_text(st, 1, kind);
	db_bind_text(st, 2, kind_band(kind));
	bind_territory(st, 3, o);
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		struct map_item *c = push(&d->communes, &d->ncommunes, &cap);
		c->commune = dup_or_empty(db_col_text(st, 0));
		c->label = dup_or_empty(db_col_text(st, 1));
		c->href = xasprintf("/communes/%s", c->commune);
		c->has_point = !db_col_is_null(st, 2) && !db_col_is_null(st, 3);
		c->lat = db_col_double(st, 2);
		c->lon = db_col_double(st, 3);
		c->placed = (int)db_col_int64(st, 4);
		if (d->layer == MAP_LAYER_COVERAGE) {
			double places = db_col_is_null(st, 5) ? 0 : db_col_double(st, 5);
			double pop = db_col_is_null(st, 6) ? 0 : db_col_double(st, 6);
			if (pop > 0) {
				c->value = 100.0 * places / pop;
				c->group = rate_class(c->value);
			}
		}
	}
	db_finalize(st);
	if (d->layer == MAP_LAYER_ACCESSIBILITY && d->ncommunes) {
		struct access_params p;
		access_params_default(&p);
		p.max_minutes = 20;
		struct access_table t;
		char *err = NULL;
		if (access_table_compute(db, kind, kind_band(kind), &p, NULL, 0, NULL, &t, &err)) {
			free(err);
			return -1;
		}
		for (size_t i = 0; i < d->ncommunes; i++) {
			struct map_item *c = &d->communes[i];
			const struct access_commune *a =
			    bsearch(c->commune, t.communes, t.n, sizeof *t.communes, code_cmp);
			if (!a || !a->computed || !(a->population > 0))
				continue;
			c->value = a->row.uncovered ? 0 : access_per_100(a->row.accessibility);
			c->group = a->row.uncovered       ? 0
			           : rate_class(c->value) ? rate_class(c->value)
			                                  : 1;
		}
		access_table_free(&t);
	}
	return 0;
}

static int load_points(struct db *db, const struct map_options *o, struct map_data *d)
{
	struct db_stmt *st;
	if (d->layer == MAP_LAYER_ACTORS) {
		st = db_prepare(
		    db,
		    "SELECT a.id, a.name, a.kind, COALESCE(a.latitude, c.latitude), "
		    "COALESCE(a.longitude, c.longitude), c.name, c.code FROM actors a JOIN "
		    "communes c "
		    "ON c.code = a.commune WHERE " TERRITORY_WHERE
		    " AND (CAST(? AS TEXT) IS NULL OR a.kind = ?) AND (CAST(? AS TEXT) IS NULL OR "
		    "EXISTS (SELECT 1 FROM "
		    "actor_thematics at JOIN tags g ON g.id = at.tag_id WHERE at.actor_id = a.id "
		    "AND g.plan_id IS NULL AND g.kind = 'thematique' AND g.slug = ?)) "
		    "ORDER BY a.search_name, a.id");
		if (!st)
			return -1;
		bind_territory(st, 1, o);
		db_bind_text(st, 7, o->actor_kind);
		db_bind_text(st, 8, o->actor_kind);
		db_bind_text(st, 9, o->thematic);
		db_bind_text(st, 10, o->thematic);
	} else if (d->layer == MAP_LAYER_SERVICES) {
		st = db_prepare(
		    db,
		    "SELECT s.id, s.name, s.kind, COALESCE(s.latitude, c.latitude), "
		    "COALESCE(s.longitude, c.longitude), c.name, c.code, s.capacity "
		    "FROM services s JOIN communes c ON c.code = s.commune WHERE " TERRITORY_WHERE
		    " AND (CAST(? AS TEXT) IS NULL OR s.kind = ?) ORDER BY c.search_name, s.name, "
		    "s.id");
		if (!st)
			return -1;
		bind_territory(st, 1, o);
		db_bind_text(st, 7, o->service_kind);
		db_bind_text(st, 8, o->service_kind);
	} else
		return 0;
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		struct map_item *p = push(&d->points, &d->npoints, &cap);
		p->label = dup_or_empty(db_col_text(st, 1));
		const char *kind = db_col_text(st, 2);
		p->has_point = !db_col_is_null(st, 3) && !db_col_is_null(st, 4);
		p->lat = db_col_double(st, 3);
		p->lon = db_col_double(st, 4);
		p->commune = dup_or_empty(db_col_text(st, 5));
		if (d->layer == MAP_LAYER_ACTORS) {
			p->group = kind_group(kind);
			p->detail = xstrdup(actor_kind_label(kind));
			p->href = xasprintf("/acteurs/%lld", (long long)db_col_int64(st, 0));
		} else {
			p->group = 0;
			p->value = db_col_double(st, 7);
			p->detail = xstrdup(offer_kind_label(kind));
		}
	}
	db_finalize(st);
	return 0;
}

static void fit(struct map_data *d)
{
	double minlat = 90, maxlat = -90, minlon = 180, maxlon = -180;
	int any = 0;
	for (size_t i = 0; i < d->ncommunes; i++) {
		const struct map_item *c = &d->communes[i];
		if (!c->has_point)
			continue;
		any = 1;
		minlat = fmin(minlat, c->lat);
		maxlat = fmax(maxlat, c->lat);
		minlon = fmin(minlon, c->lon);
		maxlon = fmax(maxlon, c->lon);
	}
	if (!any) {
		minlat = 46.0;
		maxlat = 46.2;
		minlon = 2.0;
		maxlon = 2.2;
	}
	/* At least about 2 km of span, so that a single commune still gets a sensible scale. */
	if (maxlat - minlat < 0.02) {
		double m = (maxlat + minlat) / 2;
		minlat = m - 0.01;
		maxlat = m + 0.01;
	}
	if (maxlon - minlon < 0.02) {
		double m = (maxlon + minlon) / 2;
		minlon = m - 0.01;
		maxlon = m + 0.01;
	}
	d->k = cos((minlat + maxlat) / 2 * M_PI / 180.0);
	d->lon0 = minlon;
	d->lat0 = maxlat;
	double spanx = (maxlon - minlon) * d->k, spany = maxlat - minlat;
	double inner = MAP_W - 2 * MAP_MARGIN;
	d->scale = fmin(inner / spanx, (MAP_HMAX - 2 * MAP_MARGIN) / spany);
	d->width = MAP_W;
	d->map_height = ceil(spany * d->scale + 2 * MAP_MARGIN + 30); /* room for the scale bar */
	d->ox = (MAP_W - spanx * d->scale) / 2;
	d->oy = MAP_MARGIN;
}

int map_load(struct db *db, const struct map_options *o, struct map_data *d)
{
	memset(d, 0, sizeof *d);
	d->layer = o->layer;
	d->service_kind = xstrdup(o->service_kind ? o->service_kind : "EAJE");
	if (load_communes(db, o, d) || load_points(db, o, d)) {
		map_data_free(d);
		return -1;
	}
	fit(d);
	return 0;
}

static void items_free(struct map_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].label);
		free(items[i].detail);
		free(items[i].href);
		free(items[i].commune);
	}
	free(items);
}

void map_data_free(struct map_data *d)
{
	if (!d)
		return;
	items_free(d->communes, d->ncommunes);
	items_free(d->points, d->npoints);
	free(d->service_kind);
	memset(d, 0, sizeof *d);
}

void map_project(const struct map_data *d, double lat, double lon, double *x, double *y)
{
	*x = d->ox + (lon - d->lon0) * d->k * d->scale;
	*y = d->oy + (d->lat0 - lat) * d->scale;
}

/* ---- Drawing ------------------------------------------------------------------------------ */

/* Hatching of a class symbol (a circle of radius R at cx, cy), drawn as line segments inside
 * the circle: class 0 crossed diagonals, class 1 one diagonal, class 2 horizontals. */
static void hatch(struct buf *o, int cls, double cx, double cy, double R)
{
	static const double dirs[3][2] = {
	    {0.70710678, -0.70710678}, {0.70710678, 0.70710678}, {1, 0}};
	int from = cls == 0 ? 0 : cls == 1 ? 0 : 2, to = cls == 0 ? 1 : cls == 1 ? 0 : 2;
	if (cls > 2)
		return;
	for (int di = from; di <= to; di++) {
		double ux = dirs[di][0], uy = dirs[di][1], nx = -uy, ny = ux;
		for (int s = -1; s <= 1; s++) {
			double t = s * R * 0.5, h = sqrt(R * R - t * t);
			buf_printf(
			    o,
			    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
			    "stroke-width=\"0.8\"/>",
			    cx + t * nx - h * ux, cy + t * ny - h * uy, cx + t * nx + h * ux,
			    cy + t * ny + h * uy);
		}
	}
}

static const char *const class_fill[4] = {"#ffffff", "#e6e6e6", "#a6a6a6", "#333333"};

/* A class symbol: a circle with fill and hatching; `title` already escaped HTML or NULL. */
static void class_symbol(struct buf *o, int cls, double x, double y, double R, int placed,
                         const char *title)
{
	buf_puts(o, "<g class=\"classe\">");
	if (cls < 0)
		buf_printf(
		    o,
		    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"none\" stroke=\"#555\" "
		    "stroke-dasharray=\"2 2\"/>",
		    x, y, R);
	else {
		buf_printf(o,
		           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" stroke=\"#000\" "
		           "stroke-width=\"%s\"%s/>",
		           x, y, R, class_fill[cls], cls == 0 ? "1.6" : "0.8",
		           placed ? " stroke-dasharray=\"3 1.5\"" : "");
		hatch(o, cls, x, y, R);
	}
	if (title)
		html_printf(o, "<title>%R</title>", title);
	buf_puts(o, "</g>");
}

/* An actor symbol by group, centred at x, y. */
static void group_symbol(struct buf *o, int g, double x, double y, double s)
{
	const char *attr = "fill=\"#000\" stroke=\"#fff\" stroke-width=\"0.8\"";
	switch (g) {
	case G_INSTITUTION:
		buf_printf(o, "<path d=\"M%.1f %.1fh%.1fv%.1fh%.1fz\" %s", x - s, y - s, 2 * s,
		           2 * s, -2 * s, attr);
		break;
	case G_CHILDHOOD:
		buf_printf(o, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fz\" %s", x, y - 1.2 * s,
		           x + 1.15 * s, y + 0.9 * s, x - 1.15 * s, y + 0.9 * s, attr);
		break;
	case G_SOCIAL:
		buf_printf(
		    o, "<path d=\"M%.1f %.1fa%.1f %.1f 0 1 0 %.1f 0a%.1f %.1f 0 1 0 %.1f 0z\" %s",
		    x - s, y, s, s, 2 * s, s, s, -2 * s, attr);
		break;
	case G_RIGHTS:
		buf_printf(o, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz\" %s", x,
		           y - 1.3 * s, x + 1.3 * s, y, x, y + 1.3 * s, x - 1.3 * s, y, attr);
		break;
	default:
		buf_printf(o,
		           "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" fill=\"none\" "
		           "stroke=\"#000\" stroke-width=\"2\"",
		           x - s, y - s, x + s, y + s, x - s, y + s, x + s, y - s);
		break;
	}
}

static double service_radius(double capacity)
{
	double c = capacity > 0 ? capacity : 0;
	return fmin(3 + sqrt(c) * 0.9, 16);
}

static void scale_bar(struct buf *o, const struct map_data *d)
{
	double km_per_unit = KM_PER_DEG / d->scale, want = MAP_W * 0.25 * km_per_unit;
	static const double nice[] = {0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
	double km = nice[0];
	for (size_t i = 0; i < sizeof nice / sizeof *nice; i++)
		if (nice[i] <= want)
			km = nice[i];
	double len = km / km_per_unit, x = MAP_MARGIN, y = d->map_height - 14;
	buf_printf(o,
	           "<g class=\"echelle\"><path d=\"M%.1f %.1fv5h%.1fv-5\" fill=\"none\" "
	           "stroke=\"#000\" stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.1f\">",
	           x, y - 5, len, x + len + 6, y);
	char num[48];
	svg_number(num, km, km < 1 ? 1 : 0);
	html_printf(o, "%s km</text></g>", num);
}

static const char *layer_name(enum map_layer l)
{
	switch (l) {
	case MAP_LAYER_ACTORS:
		return "acteurs";
	case MAP_LAYER_SERVICES:
		return "services";
	case MAP_LAYER_COVERAGE:
		return "taux de couverture";
	case MAP_LAYER_ACCESSIBILITY:
		return "accessibilité à 20 minutes";
	default:
		return "communes";
	}
}

/* One legend row: a symbol drawn by the caller at (x + 8, y), then the text. */
static void legend_text(struct buf *o, double y, const char *text)
{
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\">", MAP_MARGIN + 22, y + 4);
	html_printf(o, "%s</text>", text);
}

void map_svg(struct buf *out, const struct map_data *d, const struct map_options *o)
{
	const char *id = o->id ? o->id : "carte";
	const char *title = o->title ? o->title : "Carte du territoire";
	int classes = d->layer == MAP_LAYER_COVERAGE || d->layer == MAP_LAYER_ACCESSIBILITY;
	/* Legend rows: communes (2), then the layer's entries. */
	int rows = 2;
	if (d->layer == MAP_LAYER_ACTORS)
		rows += G_N;
	else if (d->layer == MAP_LAYER_SERVICES)
		rows += 2;
	else if (classes)
		rows += 5;
	double legend_y = d->map_height + 8, height = legend_y + rows * 20 + 8;
	size_t placed = 0, nopoint = 0;
	for (size_t i = 0; i < d->ncommunes; i++) {
		placed += d->communes[i].has_point && d->communes[i].placed;
		nopoint += !d->communes[i].has_point;
	}
	struct buf desc = {0};
	html_printf(&desc, "Carte de %zu communes (%zu en position estimée) ; couche : %s",
	            d->ncommunes, placed, layer_name(d->layer));
	if (d->layer == MAP_LAYER_ACTORS || d->layer == MAP_LAYER_SERVICES)
		html_printf(&desc, " (%zu points)", d->npoints);
	buf_puts(&desc, ". Les mêmes informations figurent dans le tableau qui suit la carte.");
	html_printf(out,
	            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg map-svg\" "
	            "role=\"img\" aria-labelledby=\"%s-t %s-d\" width=\"%d\" height=\"%d\" "
	            "viewBox=\"0 0 %d %d\" font-family=\"system-ui, -apple-system, 'Segoe UI', "
	            "Roboto, sans-serif\" font-size=\"12\" fill=\"#1a1a1a\">"
	            "<title id=\"%s-t\">%s</title><desc id=\"%s-d\">%R</desc>\n",
	            id, id, (int)d->width, (int)height, (int)d->width, (int)height, id, title, id,
	            buf_str(&desc));
	buf_free(&desc);
	buf_printf(out,
	           "<rect x=\"0.5\" y=\"0.5\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
	           "stroke=\"#999\"/>\n",
	           d->width - 1, d->map_height - 1);
	/* Communes. */
	struct buf t = {0};
	buf_puts(out, "<g class=\"communes\">");
	for (size_t i = 0; i < d->ncommunes; i++) {
		const struct map_item *c = &d->communes[i];
		if (!c->has_point)
			continue;
		double x, y;
		map_project(d, c->lat, c->lon, &x, &y);
		buf_reset(&t);
		html_printf(&t, "%s", c->label);
		if (classes) {
			if (c->group >= 0) {
				char num[48];
				svg_number(num, c->value, 1);
				html_printf(&t, " : %s pour 100 — %s", num,
				            map_class_label(d->layer, c->group));
			} else
				html_printf(&t, " : %s", map_class_label(d->layer, -1));
		}
		if (c->placed)
			buf_puts(&t, " (position estimée)");
		if (classes) {
			class_symbol(out, c->group, x, y, 6, c->placed, buf_str(&t));
			continue;
		}
		if (c->placed)
			buf_printf(
			    out,
			    "<circle class=\"commune estimee\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" "
			    "fill=\"none\" stroke=\"#555\" stroke-width=\"1\">",
			    x, y);
		else
			buf_printf(out,
			           "<circle class=\"commune\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" "
			           "fill=\"#8c8c8c\">",
			           x, y);
		html_printf(out, "<title>%R</title></circle>", buf_str(&t));
	}
	buf_puts(out, "</g>\n");
	/* Points: services largest first so that small ones stay visible on top. */
	buf_puts(out, "<g class=\"points\">");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->npoints; i++) {
			const struct map_item *p = &d->points[i];
			if (!p->has_point)
				continue;
			double x, y;
			map_project(d, p->lat, p->lon, &x, &y);
			buf_reset(&t);
			html_printf(&t, "%s — %s, %s", p->label, p->detail, p->commune);
			if (d->layer == MAP_LAYER_SERVICES) {
				double rr = service_radius(p->value);
				if ((pass == 0) != (rr > 8))
					continue;
				char num[48];
				svg_number(num, p->value, 0);
				html_printf(&t, " : %s places", num);
				buf_printf(
				    out,
				    "<circle class=\"service\" cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
				    "fill=\"#bdbdbd\" fill-opacity=\"0.8\" stroke=\"#000\" "
				    "stroke-width=\"1\">",
				    x, y, rr);
				html_printf(out, "<title>%R</title></circle>", buf_str(&t));
			} else {
				if (pass == 1)
					continue;
				group_symbol(out, p->group, x, y, 4);
				html_printf(out, " class=\"acteur\"><title>%R</title></path>",
				            buf_str(&t));
			}
		}
	buf_puts(out, "</g>\n");
	buf_free(&t);
	scale_bar(out, d);
	/* Legend. */
	double y = legend_y + 8, sx = MAP_MARGIN + 8;
	buf_puts(out, "<g class=\"legende\">");
	if (classes) {
		class_symbol(out, 3, sx, y, 6, 0, NULL);
		legend_text(out, y, "commune (couleur selon la classe ci-dessous)");
	} else {
		buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"#8c8c8c\"/>", sx,
		           y);
		legend_text(out, y, "commune");
	}
	y += 20;
	if (classes)
		buf_printf(out,
		           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"#000\" "
		           "stroke-dasharray=\"3 1.5\"/>",
		           sx, y);
	else
		buf_printf(
		    out,
		    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"none\" stroke=\"#555\"/>", sx,
		    y);
	legend_text(out, y,
	            classes ? "contour en tirets : position estimée"
	                    : "commune en position estimée (creuse)");
	y += 20;
	if (d->layer == MAP_LAYER_ACTORS)
		for (int g = 0; g < G_N; g++, y += 20) {
			group_symbol(out, g, sx, y, 4);
			buf_puts(out, "/>");
			char *l = xasprintf("%s : %s", group_shapes[g], group_labels[g]);
			legend_text(out, y, l);
			free(l);
		}
	else if (d->layer == MAP_LAYER_SERVICES) {
		char *l =
		    xasprintf("%s : cercle dont la surface suit le nombre de places",
		              o->service_kind ? offer_kind_label(o->service_kind) : "Service");
		buf_printf(
		    out,
		    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#bdbdbd\" stroke=\"#000\"/>",
		    sx, y);
		legend_text(out, y, l);
		free(l);
		y += 20;
		buf_printf(
		    out,
		    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"#bdbdbd\" stroke=\"#000\"/>",
		    sx, y);
		legend_text(out, y, "grand cercle : beaucoup de places (survol : nombre exact)");
	} else if (classes)
		for (int c = -1; c <= 3; c++, y += 20) {
			class_symbol(out, c, sx, y, 6, 0, NULL);
			legend_text(out, y, map_class_label(d->layer, c));
		}
	buf_puts(out, "</g>\n</svg>\n");
	(void)nopoint;
}

void map_table(struct buf *out, const struct map_data *d)
{
	int classes = d->layer == MAP_LAYER_COVERAGE || d->layer == MAP_LAYER_ACCESSIBILITY;
	int points = d->layer == MAP_LAYER_ACTORS || d->layer == MAP_LAYER_SERVICES;
	buf_puts(out, "<div class=\"table-wrap\" tabindex=\"0\"><table class=\"map-list\">\n");
	if (d->layer == MAP_LAYER_ACTORS)
		html_printf(out,
		            "<caption>Acteurs de la carte (%zu)</caption>\n<thead><tr><th "
		            "scope=\"col\">Structure</th><th scope=\"col\">Type</th><th "
		            "scope=\"col\">Commune</th></tr></thead>\n<tbody>\n",
		            d->npoints);
	else if (d->layer == MAP_LAYER_SERVICES)
		html_printf(out,
		            "<caption>Services de la carte (%zu)</caption>\n<thead><tr><th "
		            "scope=\"col\">Service</th><th scope=\"col\">Type</th><th "
		            "scope=\"col\">Commune</th><th scope=\"col\">Places</th></tr></thead>\n"
		            "<tbody>\n",
		            d->npoints);
	else if (classes)
		html_printf(
		    out,
		    "<caption>Communes de la carte (%zu) : %s, services %s</caption>\n"
		    "<thead><tr><th scope=\"col\">Commune</th><th scope=\"col\">Places pour "
		    "100 enfants</th><th scope=\"col\">Classe</th></tr></thead>\n<tbody>\n",
		    d->ncommunes, layer_name(d->layer), d->service_kind);
	else
		html_printf(out,
		            "<caption>Communes de la carte (%zu)</caption>\n<thead><tr><th "
		            "scope=\"col\">Commune</th><th scope=\"col\">Position</th></tr>"
		            "</thead>\n<tbody>\n",
		            d->ncommunes);
	if (points)
		for (size_t i = 0; i < d->npoints; i++) {
			const struct map_item *p = &d->points[i];
			if (p->href)
				html_printf(out, "<tr><th scope=\"row\"><a href=\"%s\">%s</a>",
				            p->href, p->label);
			else
				html_printf(out, "<tr><th scope=\"row\">%s", p->label);
			if (!p->has_point)
				buf_puts(out, " <span class=\"badge\">sans position</span>");
			html_printf(out, "</th><td>%s</td><td>%s</td>", p->detail, p->commune);
			if (d->layer == MAP_LAYER_SERVICES) {
				buf_puts(out, "<td>");
				offer_fr_number(out, p->value, 0);
				buf_puts(out, "</td>");
			}
			buf_puts(out, "</tr>\n");
		}
	else
		for (size_t i = 0; i < d->ncommunes; i++) {
			const struct map_item *c = &d->communes[i];
			html_printf(out, "<tr><th scope=\"row\"><a href=\"%s\">%s</a></th>",
			            c->href, c->label);
			if (classes) {
				buf_puts(out, "<td>");
				offer_fr_number(out, c->value, 1);
				html_printf(out, "</td><td>%s",
				            map_class_label(d->layer, c->group));
			} else
				html_printf(out, "<td>%s",
				            !c->has_point ? "sans position"
				            : c->placed   ? "position estimée"
				                          : "mesurée");
			buf_puts(out, "</td></tr>\n");
		}
	buf_puts(out, "</tbody></table></div>\n");
}

void map_render(struct buf *out, struct db *db, const struct map_options *o)
{
	struct map_data d;
	if (map_load(db, o, &d)) {
		buf_puts(out, "<p class=\"notice error\">La carte n'a pas pu être calculée.</p>\n");
		return;
	}
	buf_puts(out, "<figure class=\"map\">\n");
	map_svg(out, &d, o);
	html_printf(out, "<figcaption>%s</figcaption>\n",
	            o->title ? o->title : "Carte du territoire");
	map_table(out, &d);
	buf_puts(out, "</figure>\n");
	map_data_free(&d);
}

/* ---- The page /territoire/carte ------------------------------------------------------------ */

static const char *const actor_kind_codes[] = {"caf",
                                               "departement",
                                               "epci",
                                               "commune",
                                               "ccas",
                                               "centre_social",
                                               "evs",
                                               "association",
                                               "eaje",
                                               "mam",
                                               "rpe",
                                               "alsh",
                                               "laep",
                                               "france_services",
                                               "point_numerique",
                                               "mission_locale",
                                               "msa",
                                               "etat",
                                               "autre"};

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* A département code: 2 or 3 characters, digits or 2A/2B. */
static int dep_code_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == 'A' || s[i] == 'B'))
			return 0;
	return 1;
}

static int exists(struct db *db, const char *sql, const char *v)
{
	int64_t one = 0;
	return db_int64f(db, &one, sql, "s", v) == DB_OK && one;
}

static const char *blank_null(const char *s)
{
	return s && !str_blank(s) ? s : NULL;
}

/* Select field of the EPCIs (those with communes in the database). */
static void select_epci(struct req *r, const char *current)
{
	buf_puts(&r->out,
	         "<div class=\"field\"><label for=\"epci\">Intercommunalité "
	         "(EPCI)</label><select id=\"epci\" name=\"epci\"><option value=\"\">Toutes"
	         "</option>");
	struct db_stmt *st = db_prepare(r->db, "SELECT e.code, e.name FROM epcis e WHERE EXISTS "
	                                       "(SELECT 1 FROM communes c WHERE c.epci = e.code) "
	                                       "ORDER BY e.search_name, e.code");
	while (st && db_step(st) == DB_ROW) {
		const char *code = db_col_text(st, 0);
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", code,
		            current && !strcmp(current, code) ? " selected" : "",
		            db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(&r->out, "</select></div>\n");
}

static void select_departement(struct req *r, const char *current)
{
	buf_puts(&r->out, "<div class=\"field\"><label for=\"departement\">Département</label>"
	                  "<select id=\"departement\" name=\"departement\"><option "
	                  "value=\"\">Tous</option>");
	struct db_stmt *st = db_prepare(r->db, "SELECT d.code, d.name FROM departements d WHERE "
	                                       "EXISTS (SELECT 1 FROM communes c WHERE "
	                                       "c.departement = d.code) ORDER BY d.code");
	while (st && db_step(st) == DB_ROW) {
		const char *code = db_col_text(st, 0);
		html_printf(&r->out, "<option value=\"%s\"%R>%s (%s)</option>", code,
		            current && !strcmp(current, code) ? " selected" : "",
		            db_col_text(st, 1), code);
	}
	db_finalize(st);
	buf_puts(&r->out, "</select></div>\n");
}

static void map_page(struct req *r)
{
	const char *epci = blank_null(req_query(r, "epci"));
	const char *dep = blank_null(req_query(r, "departement"));
	const char *plan = blank_null(req_query(r, "plan"));
	const char *type = blank_null(req_query(r, "type"));
	const char *them = blank_null(req_query(r, "thematique"));
	const char *layer = blank_null(req_query(r, "couche"));
	const char *service = blank_null(req_query(r, "service"));
	struct map_options o = {0};
	if (epci && !all_digits(epci, 9)) {
		resp_error(r, 400, "Code d'intercommunalité mal formé : un SIREN a 9 chiffres.");
		return;
	}
	if (dep && !dep_code_ok(dep)) {
		resp_error(r, 400, "Code de département mal formé.");
		return;
	}
	if (plan) {
		char *end = NULL;
		long long id = strlen(plan) <= 18 ? strtoll(plan, &end, 10) : 0;
		if (!end || *end || id <= 0) {
			resp_error(r, 400, "Numéro de plan mal formé.");
			return;
		}
		if (plan_require(r, id, ROLE_PUBLIC))
			return;
		o.plan_id = id;
	}
	if (epci && !exists(r->db, "SELECT COUNT(*) FROM communes WHERE epci = ?", epci)) {
		resp_error(r, 404, "Cette intercommunalité n'a aucune commune dans la base.");
		return;
	}
	if (dep && !exists(r->db, "SELECT COUNT(*) FROM communes WHERE departement = ?", dep)) {
		resp_error(r, 404, "Ce département n'a aucune commune dans la base.");
		return;
	}
	if (type && !actor_kind_valid(type)) {
		resp_error(r, 400, "Type d'acteur inconnu.");
		return;
	}
	if (them && (strlen(them) > 100 ||
	             !exists(r->db,
	                     "SELECT COUNT(*) FROM tags WHERE plan_id IS NULL AND kind = "
	                     "'thematique' AND slug = ?",
	                     them))) {
		resp_error(r, 400, "Thématique inconnue.");
		return;
	}
	if (service && !offer_kind_valid(service)) {
		resp_error(r, 400, "Type de service inconnu.");
		return;
	}
	static const struct {
		const char *slug;
		enum map_layer layer;
		const char *label;
	} layers[] = {
	    {"acteurs", MAP_LAYER_ACTORS, "Acteurs"},
	    {"services", MAP_LAYER_SERVICES, "Services (taille selon les places)"},
	    {"couverture", MAP_LAYER_COVERAGE, "Taux de couverture par commune"},
	    {"accessibilite", MAP_LAYER_ACCESSIBILITY, "Accessibilité à 20 minutes (2SFCA)"},
	    {"communes", MAP_LAYER_NONE, "Communes seules"},
	};
	size_t li = 0;
	if (layer) {
		for (li = 0; li < sizeof layers / sizeof *layers; li++)
			if (!strcmp(layers[li].slug, layer))
				break;
		if (li == sizeof layers / sizeof *layers) {
			resp_error(
			    r, 400,
			    "Couche inconnue : acteurs, services, couverture, accessibilite ou "
			    "communes.");
			return;
		}
	}
	o.layer = layers[li].layer;
	o.epci = epci;
	o.departement = epci ? NULL : dep;
	if (epci || dep)
		o.plan_id = 0;
	o.actor_kind = type;
	o.thematic = them;
	o.service_kind = service;
	if (!service && (o.layer == MAP_LAYER_COVERAGE || o.layer == MAP_LAYER_ACCESSIBILITY))
		o.service_kind = "EAJE";
	o.id = "carte";
	o.title = "Carte du territoire";

	page_begin(r, "Carte du territoire",
	           (const struct crumb[]){{"Territoire", "/territoire"}, {NULL, NULL}});
	buf_puts(&r->out,
	         "<h1>Carte du territoire</h1>\n<p class=\"lead\">Les communes du territoire "
	         "choisi, et au choix les acteurs, les services, le taux de couverture ou "
	         "l'accessibilité. La carte est dessinée par le serveur ; le tableau qui la suit "
	         "donne les mêmes informations.</p>\n"
	         "<form class=\"form\" method=\"get\" action=\"/territoire/carte\">\n");
	buf_puts(&r->out, "<div class=\"field\"><label for=\"couche\">Couche</label><select "
	                  "id=\"couche\" name=\"couche\">");
	for (size_t i = 0; i < sizeof layers / sizeof *layers; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", layers[i].slug,
		            i == li ? " selected" : "", layers[i].label);
	buf_puts(&r->out, "</select></div>\n");
	select_epci(r, epci);
	select_departement(r, dep);
	buf_puts(&r->out, "<div class=\"field\"><label for=\"type\">Type d'acteur</label><select "
	                  "id=\"type\" name=\"type\"><option value=\"\">Tous</option>");
	for (size_t i = 0; i < sizeof actor_kind_codes / sizeof *actor_kind_codes; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", actor_kind_codes[i],
		            type && !strcmp(type, actor_kind_codes[i]) ? " selected" : "",
		            actor_kind_label(actor_kind_codes[i]));
	buf_puts(&r->out,
	         "</select></div>\n<div class=\"field\"><label "
	         "for=\"thematique\">Thématique (acteurs)</label><select id=\"thematique\" "
	         "name=\"thematique\"><option value=\"\">Toutes</option>");
	struct db_stmt *st = db_prepare(r->db, "SELECT slug, label FROM tags WHERE plan_id IS NULL "
	                                       "AND kind = 'thematique' ORDER BY label");
	while (st && db_step(st) == DB_ROW) {
		const char *slug = db_col_text(st, 0);
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", slug,
		            them && !strcmp(them, slug) ? " selected" : "", db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(&r->out, "</select></div>\n");
	static const char *const services[] = {
	    "EAJE",          "MAM", "ALSH", "LAEP", "RPE", "FRANCE_SERVICES", "POINT_NUMERIQUE",
	    "CENTRE_SOCIAL", "EVS", "AUTRE"};
	buf_puts(&r->out, "<div class=\"field\"><label for=\"service\">Type de service</label>"
	                  "<select id=\"service\" name=\"service\"><option value=\"\">Tous (EAJE "
	                  "pour la couverture et l'accessibilité)</option>");
	for (size_t i = 0; i < sizeof services / sizeof *services; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", services[i],
		            service && !strcmp(service, services[i]) ? " selected" : "",
		            offer_kind_label(services[i]));
	buf_puts(&r->out, "</select></div>\n");
	if (o.plan_id)
		html_printf(&r->out, "<input type=\"hidden\" name=\"plan\" value=\"%lld\">",
		            (long long)o.plan_id);
	buf_puts(&r->out, "<p class=\"hint\">Le type et la thématique filtrent les acteurs ; le "
	                  "type de service filtre les services (couverture et accessibilité : EAJE "
	                  "par défaut, tranche 0-2 ans ; ALSH : 6-11 ans).</p>\n<div "
	                  "class=\"actions\"><button class=\"button\" type=\"submit\">Afficher"
	                  "</button></div>\n</form>\n");
	map_render(&r->out, r->db, &o);
	if (epci)
		html_printf(&r->out,
		            "<p><a href=\"/territoire/synthese?epci=%u\">Lecture consolidée de ce "
		            "territoire</a></p>\n",
		            epci);
	else if (dep)
		html_printf(&r->out,
		            "<p><a href=\"/territoire/synthese?departement=%u\">Lecture consolidée "
		            "de ce département</a></p>\n",
		            dep);
	buf_puts(&r->out, "<p class=\"hint\">Les communes sans point mesuré sont placées par une "
	                  "règle (barycentre des communes de leur EPCI) : elles sont dessinées "
	                  "creuses ou en tirets, « position estimée ».</p>\n");
	page_end(r);
}

const struct route map_routes[] = {
    {M_GET, "/territoire/carte", ACC_PUBLIC, map_page,
     "Carte du territoire (SVG) : communes, acteurs, services, couverture ou accessibilité, "
     "avec la liste accessible des mêmes éléments"},
    {0},
};
