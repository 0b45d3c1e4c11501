/* access: spatial accessibility by the two-step floating catchment area method (2SFCA). */
#ifndef MAILLAGE_ACCESS_H
#define MAILLAGE_ACCESS_H

/*
 * A pure computational engine: no database, no global state, no I/O. It depends only on the C
 * library, libm and pthreads, so it can be compiled alone (bench/access/run.sh does so).
 *
 * The method (Luo & Wang 2003; the DREES "APL" indicator is a variant of it):
 *
 *   step 1, for each supply point j:   R_j = S_j / Σ_k P_k · f(d_kj)
 *   step 2, for each demand point i:   A_i = Σ_j R_j · f(d_ij)
 *
 * where the sums run over the pairs whose travel time d is at most `max_minutes`, S_j is the
 * capacity of supply point j (places), P_k the population of demand point k (inhabitants of the
 * chosen age band, possibly weighted) and f the distance-decay function. R_j = 0 when its
 * denominator is 0 (no inhabitant, or only weight 0, in the catchment). A_i is in places per
 * inhabitant; multiply by 1000 (access_per_1000) for the usual "places pour 1 000 habitants".
 *
 * Conservation: when every supply point's catchment holds some population with f > 0,
 * Σ_i P_i · A_i = Σ_j S_j exactly in real arithmetic (capacity is shared out, not created).
 *
 * Units: coordinates in decimal degrees (WGS84, latitude in [-90, 90], longitude in
 * [-180, 180]); distances in kilometres; travel times in minutes; speeds in km/h.
 */

#include <stddef.h>
#include <stdint.h>

#define ACCESS_EARTH_RADIUS_KM   6371.0088 /* IUGG mean Earth radius */
#define ACCESS_DEFAULT_DETOUR    1.3       /* road distance / great-circle distance */
#define ACCESS_DEFAULT_SPEED_KMH 50.0      /* average road speed */
#define ACCESS_DEFAULT_MINUTES   30.0      /* default maximum travel time */
#define ACCESS_STEP_MAX          16        /* most thresholds in a step decay */
#define ACCESS_THREADS_MAX       16

/* A demand point (a commune). `population` is P_k: finite and >= 0 (0 is allowed). The
 * coordinates are only read by the great-circle cost model. */
struct access_demand {
	double lat, lon;
	double population;
};

/* A supply point (a service). `capacity` is S_j: finite and >= 0. */
struct access_supply {
	double lat, lon;
	double capacity;
};

/* ---- Distance decay ------------------------------------------------------------------------ */

enum access_decay_kind {
	ACCESS_DECAY_NONE,     /* f(d) = 1 */
	ACCESS_DECAY_STEP,     /* f(d) = weight of the first threshold t with d <= t, 0 beyond */
	ACCESS_DECAY_LINEAR,   /* f(d) = 1 - d / s for d < s, 0 beyond */
	ACCESS_DECAY_GAUSSIAN, /* f(d) = (exp(-(d/s)^2 / 2) - exp(-1/2)) / (1 - exp(-1/2)), d < s */
};

struct access_step {
	double upto;   /* minutes: this weight applies to d <= upto (and d > the previous upto) */
	double weight; /* finite, >= 0 (usually in [0, 1]) */
};

/*
 * The decay function f, always 0 beyond the maximum travel time, whatever the kind.
 * `scale` is s above, in minutes, for LINEAR and GAUSSIAN; 0 means "the maximum travel time"
 * (the usual choice: then f falls continuously to 0 at the edge of the catchment). For STEP,
 * `steps[0..nsteps-1]` have strictly increasing `upto` > 0.
 *
 * The gaussian is the usual one of the Gaussian 2SFCA literature (e.g. Dai 2010), shifted and
 * scaled so that f(0) = 1 and f(s) = 0: f(s/2) = (e^(-1/8) - e^(-1/2)) / (1 - e^(-1/2)) ≈ 0.70137,
 * f(s/3) ≈ 0.86266. The engine evaluates it with a polynomial (no libm exp) within about 2e-16
 * of the exact function.
 */
struct access_decay {
	enum access_decay_kind kind;
	double scale;
	int nsteps;
	struct access_step steps[ACCESS_STEP_MAX];
};

/* f(minutes) for `decay` with the maximum travel time `max_minutes` (0 beyond it, and 0 for a
 * negative or NaN time). The decay is assumed valid (see access_decay_check). */
double access_decay_eval(const struct access_decay *decay, double max_minutes, double minutes);

/* 0 when `decay` is usable with `max_minutes`, else -1 and *err = malloc'ed French message. */
int access_decay_check(const struct access_decay *decay, double max_minutes, char **err);

/*
 * Parse a decay specification (the `--decay` option of the CLI):
 *   "none" | "aucune"
 *   "linear" | "lineaire" | "linéaire"        [":" S]
 *   "gaussian" | "gaussienne"                  [":" S]
 *   "step" | "paliers"                         [":" T "=" W {"," T "=" W}]
 * S, T in minutes, W a weight; decimals with a point. "step" alone is the DREES-like
 * {<= 10 min: 1, <= 20 min: 0.66, <= 30 min: 0.33}. Spaces are ignored, case is not.
 * Returns 0, or -1 with *err = malloc'ed French message (nothing else written to *err).
 */
int access_decay_parse(const char *spec, struct access_decay *out, char **err);

/* The canonical specification of `decay` in the syntax above, malloc'ed (NULL only when out
 * of memory); access_decay_parse of it gives back the same decay. */
char *access_decay_format(const struct access_decay *decay);

/* ---- Travel cost ---------------------------------------------------------------------------- */

/* Great-circle distance in km by the haversine formula on a sphere of radius
 * ACCESS_EARTH_RADIUS_KM: a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2), d = 2R · asin(√a). */
double access_haversine_km(double lat1, double lon1, double lat2, double lon2);

/* Minutes to drive `km` of great-circle distance: km · detour / speed_kmh · 60. */
double access_minutes_from_km(double km, double detour, double speed_kmh);

/* One entry of an origin–destination matrix: demand point index, supply point index (both
 * 0-based positions in the arrays given to access_2sfca_run), travel time in minutes. */
struct access_od_pair {
	uint32_t demand, supply;
	double minutes;
};

/* A sparse origin–destination matrix; pairs absent from it are unreachable. */
struct access_od {
	struct access_od_pair *pairs; /* owned (malloc'ed) when built by access_od_parse_csv */
	size_t npairs;
	size_t ignored_rows; /* CSV rows whose destination is a known commune without supply */
};

/* The codes the CSV rows are resolved against. All arrays are borrowed for the duration of the
 * call only; strings are NUL-terminated and compared exactly (after trimming the CSV field). */
struct access_od_keys {
	const char *const *demand_codes; /* [ndemand] commune code of each demand point, unique */
	size_t ndemand;
	const char *const *supply_ids; /* [nsupply] id of each supply point (NULL entry: none) */
	const char *const *supply_communes; /* [nsupply] commune of each supply point, or NULL */
	size_t nsupply;
};

/*
 * Parse an origin–destination matrix in CSV with French conventions: separator ';', optional
 * UTF-8 BOM, LF or CRLF line ends, fields optionally in double quotes ("" for a quote), blank
 * lines skipped, trailing empty fields tolerated. Three columns:
 *   1. the INSEE code of the origin commune: must be one of keys->demand_codes;
 *   2. the destination: a supply id (keys->supply_ids), or else a commune code, which stands for
 *      every supply point located in that commune (keys->supply_communes). A commune code that
 *      hosts no supply point but is one of demand_codes is accepted and the row ignored (counted
 *      in ignored_rows), so a full commune-to-commune matrix can be used as is. A supply id wins
 *      over a commune code when the same text is both;
 *   3. the travel time in minutes: digits with an optional decimal point or comma ("12,5"),
 *      at most 15 significant digits; negative, empty or non-numeric values are refused.
 * A first line whose third field is not a number is taken as a header and skipped.
 * A pair given twice is refused, except that a row naming the supply id overrides a row naming
 * its commune (the more precise row wins, whatever the order).
 * All or nothing: on success returns 0 and fills *out (pairs sorted by demand then supply; free
 * with access_od_free); on the first error returns -1, leaves *out empty and sets *err to a
 * malloc'ed French message "NAME, ligne L, colonne C : …" (NAME omitted when name is NULL).
 */
int access_od_parse_csv(const char *data, size_t size, const char *name,
                        const struct access_od_keys *keys, struct access_od *out, char **err);

/* Free the pairs of `od` (built by access_od_parse_csv) and empty it. NULL is allowed. */
void access_od_free(struct access_od *od);

/* ---- The computation ----------------------------------------------------------------------- */

enum access_cost_kind {
	ACCESS_COST_GREAT_CIRCLE, /* haversine km × detour / speed → minutes */
	ACCESS_COST_MATRIX,       /* the minutes of an origin–destination matrix */
};

struct access_params {
	double max_minutes; /* catchment: finite, > 0 */
	struct access_decay decay;
	enum access_cost_kind cost;
	double detour;              /* GREAT_CIRCLE: road-detour factor, finite, > 0 */
	double speed_kmh;           /* GREAT_CIRCLE: average speed, finite, > 0 */
	const struct access_od *od; /* MATRIX: borrowed for the duration of the call */
	int threads;                /* 1 .. ACCESS_THREADS_MAX; 0 means 2 */
};

/* Defaults: 30 minutes, gaussian decay with s = the maximum, great-circle cost with detour 1.3
 * at 50 km/h, 2 threads. */
void access_params_default(struct access_params *p);

/* The result for one demand point. */
struct access_row {
	double accessibility;   /* A_i in places per inhabitant */
	double nearest_minutes; /* travel time to the nearest supply point within the maximum; NAN
	                           when there is none */
	uint32_t reachable;     /* supply points with travel time <= max_minutes (any capacity) */
	int uncovered;          /* 1 when reachable == 0: "territoire non couvert" */
};

/* The result of a run; free with access_result_free. */
struct access_result {
	size_t ndemand, nsupply;
	struct access_row *rows; /* [ndemand], in the order of the demand array */
	double *ratio;           /* [nsupply] R_j, places per (weighted) inhabitant */
	double *served;          /* [nsupply] Σ_k P_k f(d_kj), the weighted population served */
	uint64_t pairs;          /* demand–supply pairs within the maximum travel time */
	uint64_t candidates;     /* pairs whose cost was examined (GREAT_CIRCLE: after the grid) */
};

/*
 * Run the 2SFCA on `demand[0..ndemand-1]` and `supply[0..nsupply-1]` (both borrowed for the call)
 * with `params`.
 *
 * ACCESS_COST_GREAT_CIRCLE: only pairs closer than the great-circle bound
 * max_minutes · speed / 60 / detour km are examined, through a grid of cubic cells on the unit
 * sphere (no special case at the poles or the antimeridian). The travel time of a pair is
 * 2R·asin(chord/2) · detour / speed · 60, i.e. the haversine formula (the haversine term
 * sin²(θ/2) is (chord/2)²), evaluated to within a few ulp; a pair is in the catchment when its
 * squared time is at most max_minutes². Step 1 is a pass over the supply points, step 2 a pass
 * over the demand points, each on `threads` threads; every pair is computed in both passes,
 * identically, so that memory stays O(ndemand + nsupply) (about 25 MB for all French communes
 * and 100 000 supply points).
 * ACCESS_COST_MATRIX: the costs are params->od (indices must be in range, times finite and
 * >= 0, no pair twice; pairs beyond max_minutes are ignored); coordinates are not read;
 * single-threaded.
 *
 * Determinism: results are bit-identical whatever the number of threads and the processor
 * (the AVX2 and baseline kernels do the same IEEE operations). Summation orders, fixed by the
 * data alone: great circle, each R_j denominator over its demand points and each A_i over its
 * supply points in the order of the grid's neighbourhood (cells in a fixed order, increasing
 * index within a cell); matrix, over increasing indices.
 *
 * Returns 0 and fills *out (free with access_result_free), or -1 with *out empty and *err set to
 * a malloc'ed French message (invalid parameter or point, out of memory).
 */
int access_2sfca_run(const struct access_demand *demand, size_t ndemand,
                     const struct access_supply *supply, size_t nsupply,
                     const struct access_params *params, struct access_result *out, char **err);

/* Free the arrays of `r` and empty it. NULL is allowed. */
void access_result_free(struct access_result *r);

/* Conveniences: A_i in places per 100 or per 1 000 inhabitants. */
static inline double access_per_100(double a)
{
	return a * 100.0;
}
static inline double access_per_1000(double a)
{
	return a * 1000.0;
}

#endif
