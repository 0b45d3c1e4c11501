/* access: spatial accessibility by the two-step floating catchment area method (2SFCA). */
#include "access.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Small helpers ------------------------------------------------------------------------- */

/* malloc'ed printf; NULL when out of memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Set *err (when err is not NULL) to a malloc'ed message and return -1. */
static int fail(char **err, const char *f, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **err, const char *f, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, f);
		char *s = NULL;
		if (vasprintf(&s, f, ap) < 0)
			s = NULL;
		va_end(ap);
		*err = s;
	}
	return -1;
}

static int fail_oom(char **err)
{
	return fail(err, "mémoire insuffisante pour le calcul d'accessibilité");
}

/* Powers of ten exactly representable as doubles. */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

enum num_status { NUM_OK, NUM_EMPTY, NUM_NEGATIVE, NUM_INVALID, NUM_TOO_PRECISE };

/*
 * Parse s[0..n) (already trimmed) as a non-negative decimal number without using the locale:
 * ['+'] digits [('.' | ',' when comma_ok) digits] [('e'|'E') ['+'|'-'] digits, when exp_ok].
 * At most 15 significant digits and 22 decimals, so that the value, mantissa / 10^k with both
 * exact, is correctly rounded. A leading '-' before an otherwise valid number gives
 * NUM_NEGATIVE.
 */
static enum num_status parse_decimal(const char *s, size_t n, bool comma_ok, bool exp_ok,
                                     double *out)
{
	if (n == 0)
		return NUM_EMPTY;
	size_t p = 0;
	bool negative = false;
	if (s[p] == '+' || s[p] == '-') {
		negative = s[p] == '-';
		p++;
	}
	/* The digits, integer part then fraction, and where the fraction starts. */
	char dig[64];
	size_t nd = 0, int_digits = 0;
	bool in_frac = false;
	for (; p < n; p++) {
		char c = s[p];
		if (c >= '0' && c <= '9') {
			if (nd == sizeof dig)
				return NUM_TOO_PRECISE;
			dig[nd++] = c;
			if (!in_frac)
				int_digits++;
		} else if ((c == '.' || (comma_ok && c == ',')) && !in_frac) {
			in_frac = true;
		} else {
			break;
		}
	}
	if (nd == 0)
		return NUM_INVALID;
	int e10 = 0;
	if (p < n && exp_ok && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		int esign = 1, ed = 0;
		if (p < n && (s[p] == '+' || s[p] == '-')) {
			esign = s[p] == '-' ? -1 : 1;
			p++;
		}
		for (; p < n && s[p] >= '0' && s[p] <= '9'; p++) {
			if (++ed > 3)
				return NUM_TOO_PRECISE;
			e10 = e10 * 10 + (s[p] - '0');
		}
		if (ed == 0)
			return NUM_INVALID;
		e10 *= esign;
	}
	if (p != n)
		return NUM_INVALID;
	/* Drop the trailing zeros of the fraction, then the leading zeros. */
	while (nd > int_digits && dig[nd - 1] == '0')
		nd--;
	int frac = (int)(nd - int_digits);
	size_t first = 0;
	while (first < nd && dig[first] == '0')
		first++;
	if (nd - first > 15)
		return NUM_TOO_PRECISE;
	uint64_t mant = 0;
	for (size_t k = first; k < nd; k++)
		mant = mant * 10 + (uint64_t)(dig[k] - '0');
	if (negative && mant != 0)
		return NUM_NEGATIVE;
	int k = e10 - frac; /* value = mant · 10^k */
	double v = (double)mant;
	if (mant == 0)
		v = 0.0;
	else if (k < 0) {
		if (-k > 22)
			return NUM_TOO_PRECISE;
		v = v / pow10_exact[-k];
	} else if (k > 0) {
		if (k > 22)
			return NUM_TOO_PRECISE;
		v = v * pow10_exact[k];
	}
	if (!isfinite(v))
		return NUM_TOO_PRECISE;
	*out = v;
	return NUM_OK;
}

/* ---- Distance decay ------------------------------------------------------------------------ */

/*
 * The inner loops are kernels over arrays, four pairs at a time with GCC/Clang vector types, on
 * SQUARED travel times m² so that no square root is needed for the gaussian. On x86-64 each
 * kernel is compiled twice, for AVX2 and for the baseline (SSE2, where the compiler splits each
 * 4-lane operation in two), and the loader picks one (target_clones). Neither version uses FMA,
 * every operation is an IEEE operation per lane: the results are bit-identical whatever the
 * processor and the lane. Vector values never cross a function boundary (that would make the
 * ABI depend on the instruction set).
 */
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&                            \
    !defined(ACCESS_NO_TARGET_CLONES)
#define ACCESS_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define ACCESS_KERNEL __attribute__((noinline))
#endif

#define V4_LOAD(v, p)  memcpy(&(v), (p), sizeof(v))
#define V4_STORE(p, v) memcpy((p), &(v), sizeof(v))
/* mask ? a : 0, lane by lane (mask lanes are all ones or all zeros). */
#define V4_KEEP(mask, a) ((v4d)((v4l)(a) & (mask)))

/*
 * The gaussian decay as a function of z = y + 1/4, y = -(m/s)²/2 in [-1/2, 0]:
 *   g(z) = (exp(y) - exp(-1/2)) / (1 - exp(-1/2)) = (e^(-1/4)·e^z - e^(-1/2)) / (1 - e^(-1/2))
 * by a polynomial of degree 10 in z on [-1/4, 1/4]: the Taylor series of e^z economised by
 * Chebyshev polynomials (truncation error 6e-18, computed in exact rational arithmetic), with
 * the constants folded into the coefficients. Evaluated by Horner's rule in double, its error
 * is below 2.2e-16 absolute against the exact function (f is in [0, 1]); the tests check it
 * against libm's exp. No libm call, no branch, no table.
 */
#define GAUSS_POLY(p, z)                                                                           \
	do {                                                                                       \
		(p) = (z)*5.462221515277519e-07 + 5.462997307193251e-06;                           \
		(p) = (p) * (z) + 4.909016327468067e-05;                                           \
		(p) = (p) * (z) + 0.00039272120922345584;                                          \
		(p) = (p) * (z) + 0.0027490521985046802;                                           \
		(p) = (p) * (z) + 0.01649431319500553;                                             \
		(p) = (p) * (z) + 0.08247156590209911;                                             \
		(p) = (p) * (z) + 0.3298862636083373;                                              \
		(p) = (p) * (z) + 0.9896587908255002;                                              \
		(p) = (p) * (z) + 1.9793175816510007;                                              \
		(p) = (p) * (z) + 0.4378234991142019;                                              \
	} while (0)

/*
 * Squared chords from (ux, uy, uz) to the points [a, e) of x, y, z; the positions whose squared
 * chord is at most lim2 are appended, in order, to pos[] and their squared chords to c2[]
 * (without branches: each candidate is written, then kept or overwritten). Returns the new
 * count. pos and c2 must have room for n + (e - a) entries.
 */
ACCESS_KERNEL static size_t kern_candidates(const double *x, const double *y, const double *z,
                                            uint32_t a, uint32_t e, double ux, double uy, double uz,
                                            double lim2, uint32_t *pos, double *c2, size_t n)
{
	uint32_t p = a;
	for (; p + 4 <= e; p += 4) {
		v4d vx, vy, vz;
		V4_LOAD(vx, x + p);
		V4_LOAD(vy, y + p);
		V4_LOAD(vz, z + p);
		v4d dx = vx - ux, dy = vy - uy, dz = vz - uz;
		v4d d2 = dx * dx + dy * dy + dz * dz;
		for (int lane = 0; lane < 4; lane++) {
			pos[n] = p + (uint32_t)lane;
			c2[n] = d2[lane];
			n += d2[lane] <= lim2;
		}
	}
	for (; p < e; p++) {
		double dx = x[p] - ux, dy = y[p] - uy, dz = z[p] - uz;
		double d2 = dx * dx + dy * dy + dz * dz;
		pos[n] = p;
		c2[n] = d2;
		n += d2 <= lim2;
	}
	return n;
}

/*
 * m² in place of the squared chords c² of the unit sphere t[0..n) (t has room for a multiple of
 * 4), for half chords below 1/64 (great-circle distances under 199 km): with a = c²/4 =
 * sin²(θ/2) (the haversine term), θ = 2·asin(√a) and asin(√a)/√a = S(a) = 1 + a/6 + 3a²/40 +
 * 5a³/112 + 35a⁴/1152 (truncation error below 2e-20 there), m² = (k·√a·S(a))² = k²·a·S(a)²
 * where k = 2R·minutes_per_km.
 */
ACCESS_KERNEL static void kern_minutes2_small(double *t, size_t n, double k2)
{
	for (size_t j = 0; j < n; j += 4) {
		v4d c2;
		V4_LOAD(c2, t + j);
		v4d a = c2 * 0.25;
		v4d s = 1.0 + a * (1.0 / 6 + a * (3.0 / 40 + a * (5.0 / 112 + a * (35.0 / 1152))));
		v4d m2 = k2 * a * (s * s);
		V4_STORE(t + j, m2);
	}
}

/* The decay, with its scale resolved, as used in the inner loops. */
struct decay_fn {
	enum access_decay_kind kind;
	double max, max2;     /* maximum travel time, minutes, and its square */
	double scale, scale2; /* s of LINEAR / GAUSSIAN and s² */
	double inv_scale, inv_scale2;
	double gauss_a; /* -1 / (2 s²) */
	int nsteps;
	const struct access_step *steps;
};

static void decay_fn_init(struct decay_fn *fn, const struct access_decay *d, double max_minutes)
{
	fn->kind = d->kind;
	fn->max = max_minutes;
	fn->max2 = max_minutes * max_minutes;
	fn->scale = d->scale > 0 ? d->scale : max_minutes;
	fn->scale2 = fn->scale * fn->scale;
	fn->inv_scale = 1.0 / fn->scale;
	fn->inv_scale2 = 1.0 / fn->scale2;
	fn->gauss_a = -0.5 * fn->inv_scale2;
	fn->nsteps = d->nsteps;
	fn->steps = d->steps;
}

/* The weights f[0..n) of the squared times t[0..n) (>= 0, not NaN; both arrays have room for a
 * multiple of 4): 0 when m² > max². */
ACCESS_KERNEL static void kern_decay(const struct decay_fn *fn, const double *t, double *f,
                                     size_t n)
{
	const double max2 = fn->max2;
	switch (fn->kind) {
	case ACCESS_DECAY_NONE:
		for (size_t j = 0; j < n; j += 4) {
			v4d m2, one = {1.0, 1.0, 1.0, 1.0};
			V4_LOAD(m2, t + j);
			v4d v = V4_KEEP(m2 <= max2, one);
			V4_STORE(f + j, v);
		}
		break;
	case ACCESS_DECAY_LINEAR:
		for (size_t j = 0; j < n; j += 4) {
			v4d m2;
			V4_LOAD(m2, t + j);
			v4d m = {sqrt(m2[0]), sqrt(m2[1]), sqrt(m2[2]), sqrt(m2[3])};
			v4d v = 1.0 - m * fn->inv_scale;
			v = V4_KEEP((m2 <= max2) & (m < fn->scale), v);
			V4_STORE(f + j, v);
		}
		break;
	case ACCESS_DECAY_GAUSSIAN:
		/* z = -(m/s)²/2 + 1/4, in [-1/4, 1/4] when m < s; beyond, the value is discarded
		 * (it is finite: no NaN can arise). */
		for (size_t j = 0; j < n; j += 4) {
			v4d m2, p;
			V4_LOAD(m2, t + j);
			v4d z = m2 * fn->gauss_a + 0.25;
			GAUSS_POLY(p, z);
			p = V4_KEEP((m2 <= max2) & (m2 < fn->scale2), p);
			V4_STORE(f + j, p);
		}
		break;
	case ACCESS_DECAY_STEP:
		for (size_t j = 0; j < n; j++) {
			double m = sqrt(t[j]), v = 0.0;
			for (int k = 0; k < fn->nsteps; k++)
				if (m <= fn->steps[k].upto) {
					v = fn->steps[k].weight;
					break;
				}
			f[j] = t[j] <= max2 ? v : 0.0;
		}
		break;
	}
}

/* f(m) for one travel time in minutes: 0 when negative, NaN or beyond the maximum. The same
 * kernel as the engine's, hence the same result. */
static double decay_fn_eval(const struct decay_fn *fn, double m)
{
	if (!(m >= 0.0) || !(m <= fn->max))
		return 0.0;
	double t[4] = {m * m, 0, 0, 0}, f[4];
	kern_decay(fn, t, f, 1);
	return f[0];
}

double access_decay_eval(const struct access_decay *decay, double max_minutes, double minutes)
{
	struct decay_fn fn;
	decay_fn_init(&fn, decay, max_minutes);
	return decay_fn_eval(&fn, minutes);
}

int access_decay_check(const struct access_decay *d, double max_minutes, char **err)
{
	if (!isfinite(max_minutes) || max_minutes <= 0)
		return fail(err, "durée maximale non valide : un nombre de minutes positif est "
		                 "attendu");
	switch (d->kind) {
	case ACCESS_DECAY_NONE:
		return 0;
	case ACCESS_DECAY_LINEAR:
	case ACCESS_DECAY_GAUSSIAN:
		if (!isfinite(d->scale) || d->scale < 0)
			return fail(err, "fonction de décroissance : échelle non valide (minutes "
			                 "positives, ou 0 pour la durée maximale)");
		return 0;
	case ACCESS_DECAY_STEP:
		if (d->nsteps < 1 || d->nsteps > ACCESS_STEP_MAX)
			return fail(err,
			            "fonction de décroissance par paliers : entre 1 et %d "
			            "paliers sont attendus",
			            ACCESS_STEP_MAX);
		for (int k = 0; k < d->nsteps; k++) {
			const struct access_step *s = &d->steps[k];
			if (!isfinite(s->upto) || s->upto <= 0 ||
			    (k > 0 && s->upto <= d->steps[k - 1].upto))
				return fail(err,
				            "fonction de décroissance par paliers : les seuils "
				            "doivent être des minutes positives et croissantes "
				            "(palier %d)",
				            k + 1);
			if (!isfinite(s->weight) || s->weight < 0)
				return fail(err,
				            "fonction de décroissance par paliers : poids non "
				            "valide au palier %d (nombre positif ou nul attendu)",
				            k + 1);
		}
		return 0;
	}
	return fail(err, "fonction de décroissance inconnue");
}

/* The DREES-like step decay used by "step" without thresholds. */
static const struct access_step drees_like[] = {{10, 1.0}, {20, 0.66}, {30, 0.33}};

int access_decay_parse(const char *spec, struct access_decay *out, char **err)
{
	if (!spec)
		return fail(err, "fonction de décroissance absente");
	/* Lower-case ASCII copy without white space. */
	size_t len = strlen(spec);
	if (len > 512)
		return fail(err, "fonction de décroissance : spécification trop longue");
	char buf[513];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)spec[i];
		if (c == ' ' || c == '\t')
			continue;
		buf[n++] = (char)tolower(c);
	}
	buf[n] = '\0';
	char *colon = strchr(buf, ':');
	const char *arg = NULL;
	if (colon) {
		*colon = '\0';
		arg = colon + 1;
	}
	struct access_decay d;
	memset(&d, 0, sizeof d);
	if (!strcmp(buf, "none") || !strcmp(buf, "aucune")) {
		d.kind = ACCESS_DECAY_NONE;
		if (arg)
			return fail(err, "fonction de décroissance « aucune » : pas de paramètre "
			                 "attendu");
	} else if (!strcmp(buf, "linear") || !strcmp(buf, "lineaire") || !strcmp(buf, "linéaire") ||
	           !strcmp(buf, "gaussian") || !strcmp(buf, "gaussienne")) {
		d.kind = buf[0] == 'g' ? ACCESS_DECAY_GAUSSIAN : ACCESS_DECAY_LINEAR;
		if (arg && (parse_decimal(arg, strlen(arg), false, true, &d.scale) != NUM_OK ||
		            d.scale <= 0))
			return fail(err,
			            "fonction de décroissance : échelle « %s » non valide "
			            "(minutes, par exemple 30 ou 12.5)",
			            arg);
	} else if (!strcmp(buf, "step") || !strcmp(buf, "paliers")) {
		d.kind = ACCESS_DECAY_STEP;
		if (!arg) {
			d.nsteps = (int)(sizeof drees_like / sizeof drees_like[0]);
			memcpy(d.steps, drees_like, sizeof drees_like);
		} else {
			const char *p = arg;
			while (1) {
				const char *end = strchr(p, ',');
				size_t plen = end ? (size_t)(end - p) : strlen(p);
				const char *eq = memchr(p, '=', plen);
				if (d.nsteps == ACCESS_STEP_MAX)
					return fail(err,
					            "fonction de décroissance : au plus %d "
					            "paliers",
					            ACCESS_STEP_MAX);
				struct access_step *s = &d.steps[d.nsteps];
				if (!eq ||
				    parse_decimal(p, (size_t)(eq - p), false, true, &s->upto) !=
				        NUM_OK ||
				    parse_decimal(eq + 1, plen - (size_t)(eq - p) - 1, false, true,
				                  &s->weight) != NUM_OK)
					return fail(err,
					            "fonction de décroissance : palier %d non "
					            "valide (forme attendue : minutes=poids, "
					            "par exemple 10=1,20=0.66,30=0.33)",
					            d.nsteps + 1);
				d.nsteps++;
				if (!end)
					break;
				p = end + 1;
			}
		}
	} else {
		return fail(err,
		            "fonction de décroissance « %s » inconnue (aucune, paliers, "
		            "linéaire ou gaussienne)",
		            buf);
	}
	/* The thresholds must be valid whatever the maximum: check with an infinite one is not
	 * possible, so use a large finite maximum. */
	if (access_decay_check(&d, 1e300, err))
		return -1;
	*out = d;
	return 0;
}

/* Append the shortest "%.Ng" (N <= 17) of v that parses back to v, without an exponent when
 * one of them has none. */
static void append_number(char *buf, size_t cap, size_t *len, double v)
{
	char tmp[64], best[64] = "";
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		double back;
		if (parse_decimal(tmp, strlen(tmp), false, true, &back) != NUM_OK || back != v)
			continue;
		if (!strchr(tmp, 'e')) {
			memcpy(best, tmp, sizeof tmp);
			break;
		}
		if (!best[0])
			memcpy(best, tmp, sizeof tmp);
	}
	if (!best[0])
		snprintf(best, sizeof best, "%.17g", v);
	int w = snprintf(buf + *len, cap - *len, "%s", best);
	if (w > 0)
		*len += (size_t)w < cap - *len ? (size_t)w : cap - *len - 1;
}

char *access_decay_format(const struct access_decay *d)
{
	char buf[64 + ACCESS_STEP_MAX * 70];
	size_t len = 0;
	buf[0] = '\0';
	switch (d->kind) {
	case ACCESS_DECAY_NONE:
		return strdup("none");
	case ACCESS_DECAY_LINEAR:
	case ACCESS_DECAY_GAUSSIAN:
		len = (size_t)snprintf(buf, sizeof buf, "%s",
		                       d->kind == ACCESS_DECAY_LINEAR ? "linear" : "gaussian");
		if (d->scale > 0) {
			buf[len++] = ':';
			append_number(buf, sizeof buf, &len, d->scale);
		}
		return strdup(buf);
	case ACCESS_DECAY_STEP:
		len = (size_t)snprintf(buf, sizeof buf, "step:");
		for (int k = 0; k < d->nsteps && k < ACCESS_STEP_MAX; k++) {
			if (k)
				buf[len++] = ',';
			append_number(buf, sizeof buf, &len, d->steps[k].upto);
			buf[len++] = '=';
			append_number(buf, sizeof buf, &len, d->steps[k].weight);
		}
		buf[len] = '\0';
		return strdup(buf);
	}
	return strdup("?");
}

/* ---- Travel cost ---------------------------------------------------------------------------- */

static const double deg2rad = 3.14159265358979323846 / 180.0;

double access_haversine_km(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * deg2rad, p2 = lat2 * deg2rad;
	double sdp = sin((p2 - p1) / 2.0), sdl = sin((lon2 - lon1) * deg2rad / 2.0);
	double a = sdp * sdp + cos(p1) * cos(p2) * sdl * sdl;
	if (a > 1.0)
		a = 1.0;
	return 2.0 * ACCESS_EARTH_RADIUS_KM * asin(sqrt(a));
}

double access_minutes_from_km(double km, double detour, double speed_kmh)
{
	return km * (detour / speed_kmh * 60.0);
}

/* ---- String maps (open addressing) ---------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Maps a string to an index into a borrowed array of keys. Slots hold index + 1. */
struct strmap {
	uint32_t *slot;
	size_t mask;
	const char *const *keys;
};

static int strmap_init(struct strmap *m, const char *const *keys, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 1)
		cap *= 2;
	m->slot = calloc(cap, sizeof *m->slot);
	m->mask = cap - 1;
	m->keys = keys;
	return m->slot ? 0 : -1;
}

static long strmap_find(const struct strmap *m, const char *s, size_t n)
{
	for (size_t h = fnv1a(s, n) & m->mask;; h = (h + 1) & m->mask) {
		uint32_t v = m->slot[h];
		if (!v)
			return -1;
		const char *k = m->keys[v - 1];
		if (strlen(k) == n && !memcmp(k, s, n))
			return (long)(v - 1);
	}
}

/* Insert keys[idx]; returns the index already holding an equal key, or -1 when inserted. */
static long strmap_insert(struct strmap *m, uint32_t idx)
{
	const char *s = m->keys[idx];
	size_t n = strlen(s);
	size_t h = fnv1a(s, n) & m->mask;
	for (;; h = (h + 1) & m->mask) {
		uint32_t v = m->slot[h];
		if (!v)
			break;
		if (!strcmp(m->keys[v - 1], s))
			return (long)(v - 1);
	}
	m->slot[h] = idx + 1;
	return -1;
}

/* ---- Origin–destination CSV ----------------------------------------------------------------- */

#define OD_FIELD_MAX 255

struct od_field {
	char text[OD_FIELD_MAX + 1];
	size_t len;
};

/* A printable, length-capped copy of a field for an error message (into out[64]). */
static const char *od_show(const char *s, size_t n, char out[64])
{
	size_t cap = 40, k = 0;
	if (n > cap) {
		n = cap;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
	}
	for (size_t i = 0; i < n; i++)
		out[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (n == cap) {
		memcpy(out + k, "…", strlen("…"));
		k += strlen("…");
	}
	out[k] = '\0';
	return out;
}

/* A supply point's commune, for grouping. */
struct od_member {
	const char *commune;
	uint32_t supply;
};

static int od_member_cmp(const void *a, const void *b)
{
	const struct od_member *x = a, *y = b;
	int c = strcmp(x->commune, y->commune);
	if (c)
		return c;
	return (x->supply > y->supply) - (x->supply < y->supply);
}

/* One pair from one CSV row, before duplicates are resolved. */
struct od_raw {
	uint32_t demand, supply;
	double minutes;
	uint32_t line;
	uint8_t level; /* 2: named by supply id, 1: by commune */
};

static int od_raw_cmp(const void *a, const void *b)
{
	const struct od_raw *x = a, *y = b;
	if (x->demand != y->demand)
		return x->demand < y->demand ? -1 : 1;
	if (x->supply != y->supply)
		return x->supply < y->supply ? -1 : 1;
	if (x->level != y->level)
		return x->level > y->level ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* Everything the parser allocates, freed in one place. */
struct od_state {
	struct strmap demand_map, id_map, commune_map;
	struct od_member *members; /* supplies sorted by commune */
	size_t nmembers;
	const char **group_keys; /* [ngroups] distinct communes hosting supplies */
	uint32_t *group_start, *group_count;
	size_t ngroups;
	struct od_raw *raw;
	size_t nraw, capraw;
};

static void od_state_free(struct od_state *st)
{
	free(st->demand_map.slot);
	free(st->id_map.slot);
	free(st->commune_map.slot);
	free(st->members);
	free(st->group_keys);
	free(st->group_start);
	free(st->group_count);
	free(st->raw);
}

static int od_push(struct od_state *st, uint32_t d, uint32_t s, double minutes, uint32_t line,
                   uint8_t level)
{
	if (st->nraw == st->capraw) {
		size_t cap = st->capraw ? st->capraw * 2 : 1024;
		struct od_raw *p = realloc(st->raw, cap * sizeof *p);
		if (!p)
			return -1;
		st->raw = p;
		st->capraw = cap;
	}
	st->raw[st->nraw++] = (struct od_raw){d, s, minutes, line, level};
	return 0;
}

/* Prepare the code maps. Returns 0 or -1 with *err set (prefix `where`). */
static int od_state_init(struct od_state *st, const struct access_od_keys *keys, const char *where,
                         char **err)
{
	if (keys->ndemand >= UINT32_MAX || keys->nsupply >= UINT32_MAX)
		return fail(err, "%strop de points", where);
	if (strmap_init(&st->demand_map, keys->demand_codes, keys->ndemand))
		return fail_oom(err);
	for (size_t i = 0; i < keys->ndemand; i++) {
		if (!keys->demand_codes[i])
			return fail(err, "%scode de commune absent (point de demande n° %zu)",
			            where, i + 1);
		if (strmap_insert(&st->demand_map, (uint32_t)i) >= 0)
			return fail(err,
			            "%scode de commune « %s » en double parmi les points de "
			            "demande",
			            where, keys->demand_codes[i]);
	}
	if (strmap_init(&st->id_map, keys->supply_ids, keys->supply_ids ? keys->nsupply : 0))
		return fail_oom(err);
	for (size_t j = 0; keys->supply_ids && j < keys->nsupply; j++)
		if (keys->supply_ids[j] && strmap_insert(&st->id_map, (uint32_t)j) >= 0)
			return fail(err, "%sidentifiant d'offre « %s » en double", where,
			            keys->supply_ids[j]);
	/* Supplies grouped by commune. */
	size_t n = 0;
	if (keys->supply_communes) {
		st->members = malloc((keys->nsupply + 1) * sizeof *st->members);
		if (!st->members)
			return fail_oom(err);
		for (size_t j = 0; j < keys->nsupply; j++)
			if (keys->supply_communes[j])
				st->members[n++] =
				    (struct od_member){keys->supply_communes[j], (uint32_t)j};
		qsort(st->members, n, sizeof *st->members, od_member_cmp);
	}
	st->nmembers = n;
	st->group_keys = malloc((n + 1) * sizeof *st->group_keys);
	st->group_start = malloc((n + 1) * sizeof *st->group_start);
	st->group_count = malloc((n + 1) * sizeof *st->group_count);
	if (!st->group_keys || !st->group_start || !st->group_count)
		return fail_oom(err);
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || strcmp(st->members[k].commune, st->members[k - 1].commune)) {
			st->group_keys[st->ngroups] = st->members[k].commune;
			st->group_start[st->ngroups] = (uint32_t)k;
			st->group_count[st->ngroups] = 0;
			st->ngroups++;
		}
		st->group_count[st->ngroups - 1]++;
	}
	if (strmap_init(&st->commune_map, st->group_keys, st->ngroups))
		return fail_oom(err);
	for (size_t g = 0; g < st->ngroups; g++)
		strmap_insert(&st->commune_map, (uint32_t)g);
	return 0;
}

/* Trim spaces and tabs of f in place. */
static void od_trim(struct od_field *f)
{
	size_t a = 0, b = f->len;
	while (a < b && (f->text[a] == ' ' || f->text[a] == '\t'))
		a++;
	while (b > a && (f->text[b - 1] == ' ' || f->text[b - 1] == '\t'))
		b--;
	memmove(f->text, f->text + a, b - a);
	f->len = b - a;
	f->text[f->len] = '\0';
}

int access_od_parse_csv(const char *data, size_t size, const char *name,
                        const struct access_od_keys *keys, struct access_od *out, char **err)
{
	memset(out, 0, sizeof *out);
	if (err)
		*err = NULL;
	char *where = name ? fmt("%s, ", name) : strdup("");
	if (!where)
		return fail_oom(err);
	struct od_state st;
	memset(&st, 0, sizeof st);
	int rc = od_state_init(&st, keys, where, err);
	const char *p = data, *end = data + size;
	if (size >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	if (rc == 0 && memchr(p, '\0', (size_t)(end - p)))
		rc = fail(err,
		          "%sle fichier contient un octet nul : ce n'est pas un fichier texte "
		          "CSV",
		          where);
	uint32_t line = 0;
	bool first = true;
	size_t data_rows = 0;
	char show[64];
	struct od_field fld[3];
	while (rc == 0 && p < end) {
		line++;
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *next = eol ? eol + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		/* Blank line? */
		const char *q = p;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q == le) {
			p = next;
			continue;
		}
		/* Split into fields. */
		int nf = 0;
		const char *c = p;
		while (rc == 0) {
			int col = nf + 1;
			struct od_field tmp, *f = nf < 3 ? &fld[nf] : &tmp;
			f->len = 0;
			while (c < le && (*c == ' ' || *c == '\t'))
				c++;
			if (c < le && *c == '"') {
				c++;
				bool closed = false;
				while (c < le) {
					if (*c == '"') {
						if (c + 1 < le && c[1] == '"') {
							c += 2;
							if (f->len < OD_FIELD_MAX)
								f->text[f->len] = '"';
							f->len++;
							continue;
						}
						c++;
						closed = true;
						break;
					}
					if (f->len < OD_FIELD_MAX)
						f->text[f->len] = *c;
					f->len++;
					c++;
				}
				if (!closed) {
					rc = fail(err,
					          "%sligne %u, colonne %d : guillemet non fermé",
					          where, line, col);
					break;
				}
				while (c < le && (*c == ' ' || *c == '\t'))
					c++;
				if (c < le && *c != ';') {
					rc = fail(err,
					          "%sligne %u, colonne %d : texte après le "
					          "guillemet fermant",
					          where, line, col);
					break;
				}
			} else {
				while (c < le && *c != ';') {
					if (*c == '"') {
						rc = fail(err,
						          "%sligne %u, colonne %d : guillemet "
						          "au milieu d'une valeur",
						          where, line, col);
						break;
					}
					if (f->len < OD_FIELD_MAX)
						f->text[f->len] = *c;
					f->len++;
					c++;
				}
				if (rc)
					break;
			}
			if (f->len > OD_FIELD_MAX) {
				rc = fail(err,
				          "%sligne %u, colonne %d : valeur trop longue (plus de "
				          "%d caractères)",
				          where, line, col, OD_FIELD_MAX);
				break;
			}
			f->text[f->len] = '\0';
			od_trim(f);
			if (nf >= 3 && f->len > 0) {
				rc = fail(err,
				          "%sligne %u, colonne %d : colonne en trop (3 colonnes "
				          "attendues : commune ; offre ou commune ; minutes)",
				          where, line, col);
				break;
			}
			nf++;
			if (c >= le)
				break;
			c++; /* the ';' */
		}
		if (rc)
			break;
		if (nf < 3) {
			bool other_sep =
			    memchr(p, ',', (size_t)(le - p)) || memchr(p, '\t', (size_t)(le - p));
			rc = fail(err,
			          "%sligne %u, colonne %d : colonne manquante (3 colonnes "
			          "attendues : commune ; offre ou commune ; minutes%s)",
			          where, line, nf + 1,
			          other_sep ? " ; le séparateur doit être le point-virgule" : "");
			break;
		}
		double minutes = 0;
		enum num_status ns = parse_decimal(fld[2].text, fld[2].len, true, false, &minutes);
		if (first) {
			first = false;
			if (ns == NUM_INVALID || ns == NUM_EMPTY) {
				p = next; /* a header */
				continue;
			}
		}
		data_rows++;
		if (fld[0].len == 0) {
			rc = fail(err, "%sligne %u, colonne 1 : code de commune vide", where, line);
			break;
		}
		long d = strmap_find(&st.demand_map, fld[0].text, fld[0].len);
		if (d < 0) {
			rc = fail(err, "%sligne %u, colonne 1 : commune « %s » inconnue", where,
			          line, od_show(fld[0].text, fld[0].len, show));
			break;
		}
		if (fld[1].len == 0) {
			rc = fail(err,
			          "%sligne %u, colonne 2 : offre ou commune de destination vide",
			          where, line);
			break;
		}
		switch (ns) {
		case NUM_OK:
			break;
		case NUM_EMPTY:
			rc =
			    fail(err, "%sligne %u, colonne 3 : durée en minutes vide", where, line);
			break;
		case NUM_NEGATIVE:
			rc = fail(err, "%sligne %u, colonne 3 : durée négative « %s »", where, line,
			          od_show(fld[2].text, fld[2].len, show));
			break;
		case NUM_TOO_PRECISE:
			rc = fail(err,
			          "%sligne %u, colonne 3 : durée « %s » trop précise (15 "
			          "chiffres significatifs au plus)",
			          where, line, od_show(fld[2].text, fld[2].len, show));
			break;
		case NUM_INVALID:
			rc = fail(err,
			          "%sligne %u, colonne 3 : durée « %s » non numérique "
			          "(minutes attendues, par exemple 12 ou 12,5)",
			          where, line, od_show(fld[2].text, fld[2].len, show));
			break;
		}
		if (rc)
			break;
		long s = keys->supply_ids ? strmap_find(&st.id_map, fld[1].text, fld[1].len) : -1;
		if (s >= 0) {
			if (od_push(&st, (uint32_t)d, (uint32_t)s, minutes, line, 2))
				rc = fail_oom(err);
		} else {
			long g = strmap_find(&st.commune_map, fld[1].text, fld[1].len);
			if (g >= 0) {
				for (uint32_t k = 0; rc == 0 && k < st.group_count[g]; k++)
					if (od_push(&st, (uint32_t)d,
					            st.members[st.group_start[g] + k].supply,
					            minutes, line, 1))
						rc = fail_oom(err);
			} else if (strmap_find(&st.demand_map, fld[1].text, fld[1].len) >= 0) {
				out->ignored_rows++;
			} else {
				rc = fail(err,
				          "%sligne %u, colonne 2 : offre ou commune « %s » "
				          "inconnue",
				          where, line, od_show(fld[1].text, fld[1].len, show));
			}
		}
		p = next;
	}
	if (rc == 0 && data_rows == 0)
		rc = fail(err, "%saucune ligne de données (commune ; offre ou commune ; minutes)",
		          where);
	if (rc == 0) {
		qsort(st.raw, st.nraw, sizeof *st.raw, od_raw_cmp);
		/* Keep, per pair, the most precise row; two rows of that level are an error. */
		size_t n = 0;
		for (size_t k = 0; k < st.nraw && rc == 0; k++) {
			const struct od_raw *r = &st.raw[k];
			if (n && st.raw[n - 1].demand == r->demand &&
			    st.raw[n - 1].supply == r->supply) {
				if (st.raw[n - 1].level == r->level) {
					/* Report the later line of the two. */
					const struct od_raw *a = &st.raw[n - 1];
					const char *dest = r->level == 2
					                       ? keys->supply_ids[r->supply]
					                       : keys->supply_communes[r->supply];
					rc =
					    fail(err,
					         "%sligne %u, colonne 2 : le couple commune « %s » "
					         "– « %s » figure déjà ligne %u",
					         where, r->line > a->line ? r->line : a->line,
					         keys->demand_codes[r->demand], dest,
					         r->line > a->line ? a->line : r->line);
				}
				continue; /* a less precise row of a pair already kept */
			}
			st.raw[n++] = *r;
		}
		if (rc == 0 && n) {
			out->pairs = malloc(n * sizeof *out->pairs);
			if (!out->pairs)
				rc = fail_oom(err);
			for (size_t k = 0; rc == 0 && k < n; k++)
				out->pairs[k] = (struct access_od_pair){
				    st.raw[k].demand, st.raw[k].supply, st.raw[k].minutes};
			if (rc == 0)
				out->npairs = n;
		}
	}
	od_state_free(&st);
	free(where);
	if (rc) {
		free(out->pairs);
		memset(out, 0, sizeof *out);
	}
	return rc;
}

void access_od_free(struct access_od *od)
{
	if (!od)
		return;
	free(od->pairs);
	memset(od, 0, sizeof *od);
}

/* ---- The computation ------------------------------------------------------------------------ */

void access_params_default(struct access_params *p)
{
	memset(p, 0, sizeof *p);
	p->max_minutes = ACCESS_DEFAULT_MINUTES;
	p->decay.kind = ACCESS_DECAY_GAUSSIAN;
	p->decay.scale = 0;
	p->cost = ACCESS_COST_GREAT_CIRCLE;
	p->detour = ACCESS_DEFAULT_DETOUR;
	p->speed_kmh = ACCESS_DEFAULT_SPEED_KMH;
	p->od = NULL;
	p->threads = 2;
}

void access_result_free(struct access_result *r)
{
	if (!r)
		return;
	free(r->rows);
	free(r->ratio);
	free(r->served);
	memset(r, 0, sizeof *r);
}

/*
 * A grid of points on the unit sphere: the cube [-1, 1]³ cut in cells of edge `cell`, at least
 * the chord of the catchment, so the points within a chord of a query point lie in the 27
 * cells around the query's cell. Points are stored sorted by cell (stable: increasing index
 * within a cell); a hash table maps a cell to its range.
 */
struct cell_key {
	int32_t x, y, z;
};

struct grid {
	double cell;
	size_t n, ncells;
	double *x, *y, *z;       /* [n] unit vectors, in cell order */
	double *w;               /* [n] weight: population (demand) or R_j (supply) */
	uint32_t *order;         /* [n] position in cell order -> index in the caller's array */
	struct cell_key *keys;   /* [ncells] */
	uint32_t *start, *count; /* [ncells] */
	double *box;             /* [ncells][6] bounding box of the cell's points: lo xyz, hi xyz */
	uint32_t *slot;          /* hash: cell index + 1, 0 = empty */
	size_t mask;
};

static uint64_t cell_hash(struct cell_key k)
{
	uint64_t h = (uint64_t)(uint32_t)k.x * 0x9E3779B97F4A7C15ULL;
	h ^= (uint64_t)(uint32_t)k.y * 0xC2B2AE3D27D4EB4FULL;
	h ^= (uint64_t)(uint32_t)k.z * 0x165667B19E3779F9ULL;
	return h ^ (h >> 29);
}

static long grid_find(const struct grid *g, struct cell_key k)
{
	for (size_t h = cell_hash(k) & g->mask;; h = (h + 1) & g->mask) {
		uint32_t v = g->slot[h];
		if (!v)
			return -1;
		const struct cell_key *c = &g->keys[v - 1];
		if (c->x == k.x && c->y == k.y && c->z == k.z)
			return (long)(v - 1);
	}
}

static void unit_vector(double lat, double lon, double *x, double *y, double *z)
{
	double p = lat * deg2rad, l = lon * deg2rad, cp = cos(p);
	*x = cp * cos(l);
	*y = cp * sin(l);
	*z = sin(p);
}

static struct cell_key cell_of(double cell, double x, double y, double z)
{
	return (struct cell_key){(int32_t)floor((x + 1.0) / cell), (int32_t)floor((y + 1.0) / cell),
	                         (int32_t)floor((z + 1.0) / cell)};
}

static void grid_free(struct grid *g)
{
	free(g->x);
	free(g->y);
	free(g->z);
	free(g->w);
	free(g->order);
	free(g->keys);
	free(g->start);
	free(g->count);
	free(g->box);
	free(g->slot);
}

/* Build the grid of n points whose latitude, longitude and weight are the doubles at byte
 * offsets lat_off, lon_off, w_off of records of `stride` bytes from `base`. 0 or -1 (memory). */
static int grid_build(struct grid *g, const void *base, size_t stride, size_t lat_off,
                      size_t lon_off, size_t w_off, size_t n, double cell)
{
	memset(g, 0, sizeof *g);
	g->cell = cell;
	g->n = n;
	size_t cap = 16;
	while (cap < 2 * n + 1)
		cap *= 2;
	g->mask = cap - 1;
	double *ux = malloc((n + 1) * sizeof *ux), *uy = malloc((n + 1) * sizeof *uy),
	       *uz = malloc((n + 1) * sizeof *uz);
	uint32_t *cid = malloc((n + 1) * sizeof *cid);
	g->x = malloc((n + 1) * sizeof *g->x);
	g->y = malloc((n + 1) * sizeof *g->y);
	g->z = malloc((n + 1) * sizeof *g->z);
	g->w = malloc((n + 1) * sizeof *g->w);
	g->order = malloc((n + 1) * sizeof *g->order);
	g->keys = malloc((n + 1) * sizeof *g->keys);
	g->start = malloc((n + 1) * sizeof *g->start);
	g->count = calloc(n + 1, sizeof *g->count);
	g->box = malloc((n + 1) * 6 * sizeof *g->box);
	g->slot = calloc(cap, sizeof *g->slot);
	int rc = -1;
	if (!ux || !uy || !uz || !cid || !g->x || !g->y || !g->z || !g->w || !g->order ||
	    !g->keys || !g->start || !g->count || !g->box || !g->slot)
		goto out;
	const char *b = base;
	for (size_t j = 0; j < n; j++) {
		double lat, lon;
		memcpy(&lat, b + j * stride + lat_off, sizeof lat);
		memcpy(&lon, b + j * stride + lon_off, sizeof lon);
		unit_vector(lat, lon, &ux[j], &uy[j], &uz[j]);
		struct cell_key k = cell_of(cell, ux[j], uy[j], uz[j]);
		for (size_t h = cell_hash(k) & g->mask;; h = (h + 1) & g->mask) {
			uint32_t v = g->slot[h];
			if (!v) {
				g->keys[g->ncells] = k;
				g->slot[h] = (uint32_t)++g->ncells;
				v = (uint32_t)g->ncells;
			}
			const struct cell_key *c = &g->keys[v - 1];
			if (c->x == k.x && c->y == k.y && c->z == k.z) {
				cid[j] = v - 1;
				break;
			}
		}
		g->count[cid[j]]++;
	}
	uint32_t acc = 0;
	for (size_t c = 0; c < g->ncells; c++) {
		g->start[c] = acc;
		acc += g->count[c];
		g->count[c] = 0;
	}
	for (size_t j = 0; j < n; j++) {
		uint32_t pos = g->start[cid[j]] + g->count[cid[j]]++;
		g->x[pos] = ux[j];
		g->y[pos] = uy[j];
		g->z[pos] = uz[j];
		memcpy(&g->w[pos], b + j * stride + w_off, sizeof(double));
		g->order[pos] = (uint32_t)j;
	}
	for (size_t c = 0; c < g->ncells; c++) {
		double *bx = &g->box[6 * c];
		bx[0] = bx[1] = bx[2] = INFINITY;
		bx[3] = bx[4] = bx[5] = -INFINITY;
		for (uint32_t pos = g->start[c]; pos < g->start[c] + g->count[c]; pos++) {
			bx[0] = fmin(bx[0], g->x[pos]);
			bx[1] = fmin(bx[1], g->y[pos]);
			bx[2] = fmin(bx[2], g->z[pos]);
			bx[3] = fmax(bx[3], g->x[pos]);
			bx[4] = fmax(bx[4], g->y[pos]);
			bx[5] = fmax(bx[5], g->z[pos]);
		}
	}
	rc = 0;
out:
	free(ux);
	free(uy);
	free(uz);
	free(cid);
	return rc;
}

/*
 * The neighbour search. Cells have an edge of chord / NEIGH_SPLIT, so the points within a chord
 * of a query point lie in the (2·NEIGH_SPLIT + 1)³ cells around the query's cell. The list of
 * those cells that exist and whose points' bounding box is within a chord of the query cell is
 * kept while consecutive queries (sorted by cell) share a cell; for each query point, cells
 * whose bounding box is farther than the chord are skipped. NEIGH_SPLIT = 1 measured fastest
 * (fewer hash lookups; the extra candidates are cheap in the vector kernel).
 */
#define NEIGH_SPLIT 1
#define NEIGH_SIDE  (2 * NEIGH_SPLIT + 1)
#define NEIGH_CELLS (NEIGH_SIDE * NEIGH_SIDE * NEIGH_SIDE)
#define CHUNK       64 /* query points taken at a time by a thread */

/* State of a pass over query points, shared by its threads. */
struct pass {
	const struct grid *queries;    /* the points whose sums are computed, in cell order */
	const struct grid *neighbours; /* the points summed over (weights in neighbours->w) */
	const struct decay_fn *decay;
	double lim2;             /* squared chord bound, with a margin */
	double minutes_per_km;   /* detour / speed · 60 */
	bool small_angles;       /* every candidate's half chord is below 1/64 */
	double *sum;             /* [queries->n] by index: Σ w·f */
	struct access_row *rows; /* [queries->n] by index, or NULL: reach and nearest */
	/* Work sharing. */
	size_t nchunks;
	unsigned next_chunk; /* atomic */
	int failed;          /* atomic: out of memory */
	uint64_t pairs, candidates;
};

/* A worker's state: the neighbour cells of the current query cell, the candidates, the pairs. */
struct worker {
	struct pass *ps;
	struct cell_key qcell;
	bool have_cell;
	int ncells;
	uint32_t cstart[NEIGH_CELLS], ccount[NEIGH_CELLS];
	const double *cbox[NEIGH_CELLS];
	uint32_t *pos;
	double *c2, *f;
	size_t cap;
	uint64_t pairs, candidates;
};

/* Squared distance from (x, y, z) to the box b (lo xyz, hi xyz). */
static inline double tight_dist2(const double *b, double x, double y, double z)
{
	double dx = x < b[0] ? b[0] - x : (x > b[3] ? x - b[3] : 0);
	double dy = y < b[1] ? b[1] - y : (y > b[4] ? y - b[4] : 0);
	double dz = z < b[2] ? b[2] - z : (z > b[5] ? z - b[5] : 0);
	return dx * dx + dy * dy + dz * dz;
}

/* Squared distance between the cube of cell k and the box b (lo xyz, hi xyz). */
static double cube_box_dist2(double cell, struct cell_key k, const double *b)
{
	double lo[3] = {k.x * cell - 1.0, k.y * cell - 1.0, k.z * cell - 1.0}, d2 = 0;
	for (int a = 0; a < 3; a++) {
		double hi = lo[a] + cell;
		double d = b[a] > hi ? b[a] - hi : (lo[a] > b[a + 3] ? lo[a] - b[a + 3] : 0);
		d2 += d * d;
	}
	return d2;
}

static int worker_reserve(struct worker *w, size_t need)
{
	need += 3; /* room for the padding of the four-at-a-time loops */
	if (need <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 1024;
	while (cap < need)
		cap *= 2;
	uint32_t *p = realloc(w->pos, cap * sizeof *p);
	if (!p)
		return -1;
	w->pos = p;
	double *c = realloc(w->c2, cap * sizeof *c);
	if (!c)
		return -1;
	w->c2 = c;
	c = realloc(w->f, cap * sizeof *c);
	if (!c)
		return -1;
	w->f = c;
	w->cap = cap;
	return 0;
}

/*
 * The candidates of query position qp within the chord bound, in a fixed order (cells in the
 * order of the neighbourhood, then increasing index), their travel times and weights:
 * w->pos[k], w->c2[k] (now minutes), w->f[k] (0 beyond the maximum) for k < the result.
 * Returns the number of candidates kept, or -1 when out of memory.
 */
static long query_pairs(struct worker *w, size_t qp)
{
	const struct pass *ps = w->ps;
	const struct grid *q = ps->queries, *g = ps->neighbours;
	double ux = q->x[qp], uy = q->y[qp], uz = q->z[qp];
	struct cell_key qc = cell_of(g->cell, ux, uy, uz);
	if (!w->have_cell || qc.x != w->qcell.x || qc.y != w->qcell.y || qc.z != w->qcell.z) {
		w->ncells = 0;
		for (int dx = -NEIGH_SPLIT; dx <= NEIGH_SPLIT; dx++)
			for (int dy = -NEIGH_SPLIT; dy <= NEIGH_SPLIT; dy++)
				for (int dz = -NEIGH_SPLIT; dz <= NEIGH_SPLIT; dz++) {
					struct cell_key k = {qc.x + dx, qc.y + dy, qc.z + dz};
					long c = grid_find(g, k);
					if (c < 0 ||
					    cube_box_dist2(g->cell, qc, &g->box[6 * c]) > ps->lim2)
						continue; /* no point of it near any point of the
						             query cell */
					w->cbox[w->ncells] = &g->box[6 * c];
					w->cstart[w->ncells] = g->start[c];
					w->ccount[w->ncells] = g->count[c];
					w->ncells++;
				}
		w->qcell = qc;
		w->have_cell = true;
	}
	/* Candidates: the points of the cells that can hold a point within the chord, kept
	 * without branches when within it. */
	const double lim2 = ps->lim2;
	size_t n = 0;
	if (worker_reserve(w, 0))
		return -1;
	for (int k = 0; k < w->ncells; k++) {
		if (tight_dist2(w->cbox[k], ux, uy, uz) > lim2)
			continue;
		uint32_t a = w->cstart[k], e = a + w->ccount[k];
		if (worker_reserve(w, n + (e - a)))
			return -1;
		w->candidates += e - a;
		n = kern_candidates(g->x, g->y, g->z, a, e, ux, uy, uz, lim2, w->pos, w->c2, n);
	}
	/* The squared travel times m², in place of the squared chords, and the weights f (0 beyond
	 * the maximum), four at a time: the arrays have room for 3 more (harmless zeros). */
	double *t = w->c2;
	t[n] = t[n + 1] = t[n + 2] = 0.0;
	const double k = 2.0 * ACCESS_EARTH_RADIUS_KM * ps->minutes_per_km;
	if (ps->small_angles) {
		kern_minutes2_small(t, n, k * k);
	} else {
		/* The haversine term a = sin²(θ/2) is (chord/2)², so θ = 2·asin(chord/2). */
		for (size_t j = 0; j < n; j++) {
			double h = sqrt(t[j]) * 0.5;
			double m = k * asin(h > 1.0 ? 1.0 : h);
			t[j] = m * m;
		}
	}
	kern_decay(ps->decay, t, w->f, n);
	return (long)n;
}

/* One query point of a pass: its sum, and its reach and nearest when rows are wanted. 0, or -1
 * when out of memory. */
static int pass_query(struct worker *w, size_t qp)
{
	struct pass *ps = w->ps;
	long got = query_pairs(w, qp);
	if (got < 0)
		return -1;
	size_t n = (size_t)got, i = ps->queries->order[qp];
	const double *f = w->f, *t = w->c2, *wt = ps->neighbours->w, max2 = ps->decay->max2;
	const uint32_t *pos = w->pos;
	double sum = 0.0, nearest2 = INFINITY;
	uint32_t reach = 0;
	for (size_t k = 0; k < n; k++) { /* in candidate order */
		bool in = t[k] <= max2;
		reach += in;
		nearest2 = in && t[k] < nearest2 ? t[k] : nearest2;
		sum += wt[pos[k]] * f[k];
	}
	ps->sum[i] = sum;
	if (ps->rows) {
		ps->rows[i].reachable = reach;
		ps->rows[i].uncovered = reach == 0;
		ps->rows[i].nearest_minutes = reach ? sqrt(nearest2) : NAN;
	}
	w->pairs += reach;
	return 0;
}

static void *pass_worker(void *arg)
{
	struct worker *w = arg;
	struct pass *ps = w->ps;
	while (!__atomic_load_n(&ps->failed, __ATOMIC_RELAXED)) {
		unsigned c = __atomic_fetch_add(&ps->next_chunk, 1, __ATOMIC_RELAXED);
		if (c >= ps->nchunks)
			break;
		size_t a = (size_t)c * CHUNK;
		size_t e = a + CHUNK < ps->queries->n ? a + CHUNK : ps->queries->n;
		for (size_t qp = a; qp < e; qp++)
			if (pass_query(w, qp)) {
				__atomic_store_n(&ps->failed, 1, __ATOMIC_RELAXED);
				break;
			}
	}
	return NULL;
}

/* Run a pass on `threads` workers, the calling thread being one of them. Work is shared by
 * chunks of query points, so a thread that could not be started only costs time; each query's
 * sum is computed by one worker in a fixed order, so the results do not depend on the sharing.
 * Returns 0, or -1 when out of memory. */
static int pass_run(struct pass *ps, struct worker *w, int threads)
{
	pthread_t tid[ACCESS_THREADS_MAX];
	bool started[ACCESS_THREADS_MAX] = {false};
	ps->nchunks = (ps->queries->n + CHUNK - 1) / CHUNK;
	ps->next_chunk = 0;
	for (int t = 0; t < threads; t++) {
		w[t].ps = ps;
		w[t].have_cell = false;
		w[t].pairs = w[t].candidates = 0;
	}
	for (int t = 1; t < threads; t++)
		started[t] = pthread_create(&tid[t], NULL, pass_worker, &w[t]) == 0;
	pass_worker(&w[0]);
	for (int t = 1; t < threads; t++)
		if (started[t])
			pthread_join(tid[t], NULL);
	ps->pairs = ps->candidates = 0;
	for (int t = 0; t < threads; t++) {
		ps->pairs += w[t].pairs;
		ps->candidates += w[t].candidates;
	}
	return ps->failed ? -1 : 0;
}

/* The two steps with great-circle travel times: a pass over the supply points (step 1), then a
 * pass over the demand points (step 2); each pair is computed in both, identically. */
static int run_great_circle(const struct access_demand *demand, size_t nd,
                            const struct access_supply *supply, size_t ns,
                            const struct access_params *p, const struct decay_fn *decay,
                            int threads, struct access_result *out, char **err)
{
	/* The great-circle bound of the catchment as an angle, then as a chord of the unit
	 * sphere, with a small margin: borderline pairs are decided on the minutes themselves. */
	double km = p->max_minutes * p->speed_kmh / 60.0 / p->detour;
	double theta = km / ACCESS_EARTH_RADIUS_KM;
	double chord = theta >= 3.14159265358979323846 ? 2.0 : 2.0 * sin(theta / 2.0);
	chord = chord * (1.0 + 1e-9) + 1e-12;
	double cell = chord / NEIGH_SPLIT;
	cell = cell < 1e-8 ? 1e-8 : cell;
	struct grid dg, sg;
	struct worker w[ACCESS_THREADS_MAX];
	memset(w, 0, sizeof w);
	memset(&sg, 0, sizeof sg);
	double *acc = NULL;
	int rc = -1;
	if (grid_build(&dg, demand, sizeof *demand, offsetof(struct access_demand, lat),
	               offsetof(struct access_demand, lon),
	               offsetof(struct access_demand, population), nd, cell) ||
	    grid_build(&sg, supply, sizeof *supply, offsetof(struct access_supply, lat),
	               offsetof(struct access_supply, lon),
	               offsetof(struct access_supply, capacity), ns, cell)) {
		fail_oom(err);
		goto out;
	}
	struct pass ps = {0};
	ps.decay = decay;
	ps.lim2 = chord * chord;
	ps.minutes_per_km = p->detour / p->speed_kmh * 60.0;
	ps.small_angles = chord * 0.5 < 1.0 / 64.0;

	/* Step 1, per supply point: the weighted population served, Σ_k P_k f, then R_j. */
	ps.queries = &sg;
	ps.neighbours = &dg;
	ps.sum = out->served;
	ps.rows = NULL;
	if (pass_run(&ps, w, threads)) {
		fail_oom(err);
		goto out;
	}
	for (size_t pos = 0; pos < ns; pos++) {
		size_t j = sg.order[pos];
		double d = out->served[j];
		double ratio = d > 0 ? supply[j].capacity / d : 0.0;
		if (!isfinite(ratio)) {
			fail(err,
			     "débordement numérique : population desservie trop faible pour le "
			     "point d'offre n° %zu",
			     j + 1);
			goto out;
		}
		out->ratio[j] = ratio;
		sg.w[pos] = ratio; /* the weight of step 2 */
	}
	/* Step 2, per demand point: A_i = Σ_j R_j f, the reachable count and the nearest. */
	acc = malloc((nd + 1) * sizeof *acc);
	if (!acc) {
		fail_oom(err);
		goto out;
	}
	ps.queries = &dg;
	ps.neighbours = &sg;
	ps.sum = acc;
	ps.rows = out->rows;
	if (pass_run(&ps, w, threads)) {
		fail_oom(err);
		goto out;
	}
	for (size_t i = 0; i < nd; i++)
		out->rows[i].accessibility = acc[i];
	out->pairs = ps.pairs;
	out->candidates = ps.candidates;
	rc = 0;
out:
	for (int t = 0; t < ACCESS_THREADS_MAX; t++) {
		free(w[t].pos);
		free(w[t].c2);
		free(w[t].f);
	}
	free(acc);
	grid_free(&dg);
	grid_free(&sg);
	return rc;
}

static int od_pair_cmp(const void *a, const void *b)
{
	const struct access_od_pair *x = a, *y = b;
	if (x->demand != y->demand)
		return x->demand < y->demand ? -1 : 1;
	return (x->supply > y->supply) - (x->supply < y->supply);
}

/* The two steps with the times of an origin–destination matrix (single-threaded: the pairs
 * are given, there is no search to share). */
static int run_matrix(const struct access_demand *demand, size_t nd,
                      const struct access_supply *supply, size_t ns, const struct access_params *p,
                      const struct decay_fn *decay, struct access_result *out, char **err)
{
	const struct access_od *od = p->od;
	size_t n = od->npairs;
	struct access_od_pair *pr = malloc((n + 1) * sizeof *pr);
	double *f = malloc((n + 1) * sizeof *f);
	if (!pr || !f) {
		free(pr);
		free(f);
		return fail_oom(err);
	}
	int rc = -1;
	for (size_t k = 0; k < n; k++) {
		const struct access_od_pair *q = &od->pairs[k];
		if (q->demand >= nd || q->supply >= ns) {
			fail(err, "matrice origine–destination : couple n° %zu hors limites",
			     k + 1);
			goto out;
		}
		if (!isfinite(q->minutes) || q->minutes < 0) {
			fail(err, "matrice origine–destination : durée non valide au couple n° %zu",
			     k + 1);
			goto out;
		}
		pr[k] = *q;
	}
	qsort(pr, n, sizeof *pr, od_pair_cmp);
	for (size_t k = 1; k < n; k++)
		if (pr[k].demand == pr[k - 1].demand && pr[k].supply == pr[k - 1].supply) {
			fail(err,
			     "matrice origine–destination : le couple (commune n° %u, offre n° %u) "
			     "figure deux fois",
			     pr[k].demand + 1, pr[k].supply + 1);
			goto out;
		}
	/* Step 1: summed over the demand points in increasing order. */
	for (size_t k = 0; k < n; k++) {
		f[k] = decay_fn_eval(decay, pr[k].minutes);
		out->served[pr[k].supply] += demand[pr[k].demand].population * f[k];
	}
	for (size_t j = 0; j < ns; j++) {
		double d = out->served[j];
		out->ratio[j] = d > 0 ? supply[j].capacity / d : 0.0;
		if (!isfinite(out->ratio[j])) {
			fail(err,
			     "débordement numérique : population desservie trop faible pour le "
			     "point d'offre n° %zu",
			     j + 1);
			goto out;
		}
	}
	/* Step 2: over the supply points in increasing order. */
	for (size_t i = 0; i < nd; i++)
		out->rows[i].nearest_minutes = INFINITY;
	for (size_t k = 0; k < n; k++) {
		out->candidates++;
		struct access_row *row = &out->rows[pr[k].demand];
		if (!(pr[k].minutes <= p->max_minutes))
			continue;
		row->reachable++;
		out->pairs++;
		if (pr[k].minutes < row->nearest_minutes)
			row->nearest_minutes = pr[k].minutes;
		row->accessibility += out->ratio[pr[k].supply] * f[k];
	}
	for (size_t i = 0; i < nd; i++) {
		out->rows[i].uncovered = out->rows[i].reachable == 0;
		if (out->rows[i].uncovered)
			out->rows[i].nearest_minutes = NAN;
	}
	rc = 0;
out:
	free(pr);
	free(f);
	return rc;
}

static int check_inputs(const struct access_demand *demand, size_t nd,
                        const struct access_supply *supply, size_t ns,
                        const struct access_params *p, char **err)
{
	if (!p)
		return fail(err, "paramètres absents");
	if (nd >= UINT32_MAX || ns >= UINT32_MAX)
		return fail(err, "trop de points pour le calcul d'accessibilité");
	if ((nd && !demand) || (ns && !supply))
		return fail(err, "points absents");
	if (access_decay_check(&p->decay, p->max_minutes, err))
		return -1;
	if (p->threads < 0 || p->threads > ACCESS_THREADS_MAX)
		return fail(err, "nombre de fils d'exécution non valide (0 à %d)",
		            ACCESS_THREADS_MAX);
	bool geo = p->cost == ACCESS_COST_GREAT_CIRCLE;
	if (geo) {
		if (!isfinite(p->detour) || p->detour <= 0)
			return fail(err, "facteur de détour non valide : un nombre positif est "
			                 "attendu (par exemple 1,3)");
		if (!isfinite(p->speed_kmh) || p->speed_kmh <= 0)
			return fail(err, "vitesse moyenne non valide : un nombre positif de km/h "
			                 "est attendu");
	} else if (p->cost == ACCESS_COST_MATRIX) {
		if (!p->od || (p->od->npairs && !p->od->pairs))
			return fail(err, "matrice origine–destination absente");
	} else {
		return fail(err, "modèle de temps de trajet inconnu");
	}
	for (size_t i = 0; i < nd; i++) {
		const struct access_demand *d = &demand[i];
		if (!isfinite(d->population) || d->population < 0)
			return fail(err, "point de demande n° %zu : population non valide", i + 1);
		if (geo && !(d->lat >= -90 && d->lat <= 90 && d->lon >= -180 && d->lon <= 180))
			return fail(err,
			            "point de demande n° %zu : latitude ou longitude non "
			            "valide",
			            i + 1);
	}
	for (size_t j = 0; j < ns; j++) {
		const struct access_supply *s = &supply[j];
		if (!isfinite(s->capacity) || s->capacity < 0)
			return fail(err, "point d'offre n° %zu : capacité non valide", j + 1);
		if (geo && !(s->lat >= -90 && s->lat <= 90 && s->lon >= -180 && s->lon <= 180))
			return fail(err, "point d'offre n° %zu : latitude ou longitude non valide",
			            j + 1);
	}
	return 0;
}

int access_2sfca_run(const struct access_demand *demand, size_t ndemand,
                     const struct access_supply *supply, size_t nsupply,
                     const struct access_params *params, struct access_result *out, char **err)
{
	memset(out, 0, sizeof *out);
	if (err)
		*err = NULL;
	if (check_inputs(demand, ndemand, supply, nsupply, params, err))
		return -1;
	struct decay_fn decay;
	decay_fn_init(&decay, &params->decay, params->max_minutes);
	out->ndemand = ndemand;
	out->nsupply = nsupply;
	out->rows = calloc(ndemand + 1, sizeof *out->rows);
	out->ratio = calloc(nsupply + 1, sizeof *out->ratio);
	out->served = calloc(nsupply + 1, sizeof *out->served);
	int rc;
	if (!out->rows || !out->ratio || !out->served)
		rc = fail_oom(err);
	else if (params->cost == ACCESS_COST_GREAT_CIRCLE)
		rc = run_great_circle(demand, ndemand, supply, nsupply, params, &decay,
		                      params->threads ? params->threads : 2, out, err);
	else
		rc = run_matrix(demand, ndemand, supply, nsupply, params, &decay, out, err);
	if (rc)
		access_result_free(out);
	return rc;
}
