/* svg: server-side SVG charts with their description and data table (see svg.h). */
#include "svg.h"

#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The percent sign after a narrow no-break space, as French typography wants. */
#define PCT      "\xe2\x80\xaf%%" /* in a format string */
#define PCT_TEXT "\xe2\x80\xaf%"  /* in plain text */

/* --- fills ------------------------------------------------------------------------------------ */

/*
 * Eight fills, ordered by lightness for the first four (an ordered scale such as progress
 * levels), each with its own pattern so that grey prints still differ. `ink` is the colour of
 * the pattern, `text` the colour of a label written over the fill (contrast ≥ 4.5:1).
 */
static const struct fill {
	const char *bg, *ink, *text;
	int pattern; /* 0 none, 1 dots, 2 hatch /, 3 cross, 4 horizontal, 5 hatch \, 6 vertical */
} fills[SVG_FILLS] = {
    {"#eef5f4", "#33504d", "#1a1a1a", 1}, {"#9cc9c3", "#1d3b38", "#1a1a1a", 2},
    {"#276d66", "#276d66", "#ffffff", 0}, {"#0b3b37", "#0b3b37", "#ffffff", 0},
    {"#e8e1d3", "#5b4a2a", "#1a1a1a", 3}, {"#6e5f42", "#e8e1d3", "#ffffff", 4},
    {"#595959", "#d0d0d0", "#ffffff", 5}, {"#ffffff", "#404040", "#1a1a1a", 6},
};

/*
 * The texture of a fill (dots, hatching…) as one path of short strokes over a box, clipped to
 * the shape it decorates. Not an SVG <pattern>: PDF renderers turn patterns into images (a
 * bilan with a few dozen charts grew to 7 MB and took seconds to print), while clips and
 * strokes stay vector. `shape` is the geometry of the clip ("<rect …/>" or "<path …/>").
 */
static void texture(struct buf *o, const char *id, int *nclip, int i, const char *shape, double bx,
                    double by, double bw, double bh)
{
	const struct fill *f = &fills[i % SVG_FILLS];
	if (!f->pattern || bw <= 0 || bh <= 0)
		return;
	int k = (*nclip)++;
	html_printf(o,
	            "<clipPath id=\"%s-k%d\">%R</clipPath><path clip-path=\"url(#%s-k%d)\" "
	            "fill=\"none\" stroke=\"%s\"%R d=\"",
	            id, k, shape, id, k, f->ink,
	            f->pattern == 1 ? " stroke-width=\"1.6\" stroke-linecap=\"round\""
	                            : " stroke-width=\"0.9\"");
	double x1 = bx + bw, y1 = by + bh;
	switch (f->pattern) {
	case 1: /* dots */
		for (double y = by + 3; y < y1; y += 6)
			for (double x = bx + 3; x < x1; x += 6)
				buf_printf(o, "M%.1f,%.1fh0.1", x, y);
		break;
	case 2: /* hatching / */
		for (double d = -bh; d < bw; d += 6)
			buf_printf(o, "M%.1f,%.1fl%.1f,%.1f", bx + d, y1, bh, -bh);
		break;
	case 5: /* hatching \ */
		for (double d = -bh; d < bw; d += 6)
			buf_printf(o, "M%.1f,%.1fl%.1f,%.1f", bx + d, by, bh, bh);
		break;
	case 3: /* cross */
		for (double y = by + 3; y < y1; y += 6)
			buf_printf(o, "M%.1f,%.1fH%.1f", bx, y, x1);
		for (double x = bx + 3; x < x1; x += 6)
			buf_printf(o, "M%.1f,%.1fV%.1f", x, by, y1);
		break;
	case 4: /* horizontal lines */
		for (double y = by + 2.5; y < y1; y += 5)
			buf_printf(o, "M%.1f,%.1fH%.1f", bx, y, x1);
		break;
	case 6: /* vertical lines */
		for (double x = bx + 2.5; x < x1; x += 5)
			buf_printf(o, "M%.1f,%.1fV%.1f", x, by, y1);
		break;
	default:
		break;
	}
	buf_puts(o, "\"/>");
}

/* A rectangle in fill i, outlined, with its texture. */
static void fill_rect(struct buf *o, const char *id, int *nclip, int i, double x, double y,
                      double w, double h)
{
	char shape[160];
	snprintf(shape, sizeof shape,
	         "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", x, y, w, h);
	buf_printf(o,
	           "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
	           "stroke=\"#1a1a1a\" stroke-width=\"0.5\"/>",
	           x, y, w, h, fills[i % SVG_FILLS].bg);
	texture(o, id, nclip, i, shape, x, y, w, h);
}

/* The fill index of category i, from the chart's own list or the default order. */
static int fill_of(const int *list, size_t i)
{
	int f = list ? list[i] : (int)i;
	return f < 0 ? 0 : f % SVG_FILLS;
}

/* --- text helpers -------------------------------------------------------------------------------
 */

void svg_number(char out[48], double v, int decimals)
{
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	if (!isfinite(v)) {
		snprintf(out, 48, "–");
		return;
	}
	char raw[48];
	snprintf(raw, sizeof raw, "%.*f", decimals, v);
	if (!strcmp(raw, "-0") || !strncmp(raw, "-0.", 3)) {
		/* "-0,0" reads oddly: drop the sign when the value rounds to zero. */
		int zero = 1;
		for (const char *p = raw + 1; *p; p++)
			if (*p >= '1' && *p <= '9')
				zero = 0;
		if (zero)
			memmove(raw, raw + 1, strlen(raw));
	}
	const char *s = raw;
	size_t o = 0;
	if (*s == '-')
		out[o++] = *s++;
	size_t intlen = strcspn(s, ".");
	for (size_t i = 0; i < intlen && o < 40; i++) {
		if (i && (intlen - i) % 3 == 0) {
			memcpy(out + o, "\xe2\x80\xaf", 3);
			o += 3;
		}
		out[o++] = s[i];
	}
	if (s[intlen] == '.') {
		out[o++] = ',';
		for (const char *p = s + intlen + 1; *p && o < 47; p++)
			out[o++] = *p;
	}
	out[o] = '\0';
}

void svg_percentages(const double *counts, size_t n, int *pct)
{
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += counts[i] > 0 ? counts[i] : 0;
	if (total <= 0) {
		for (size_t i = 0; i < n; i++)
			pct[i] = 0;
		return;
	}
	int given = 0;
	double *rest = xcalloc(n ? n : 1, sizeof *rest);
	for (size_t i = 0; i < n; i++) {
		double exact = (counts[i] > 0 ? counts[i] : 0) * 100.0 / total;
		pct[i] = (int)floor(exact + 1e-9);
		rest[i] = exact - pct[i];
		given += pct[i];
	}
	while (given < 100) {
		size_t best = 0;
		for (size_t i = 1; i < n; i++)
			if (rest[i] > rest[best] + 1e-9)
				best = i;
		pct[best]++;
		rest[best] = -1;
		given++;
	}
	free(rest);
}

/* Write at most `max` characters (code points) of s, with "…" when cut. Escaped. */
static void text_cut(struct buf *o, const char *s, size_t max)
{
	if (!s)
		return;
	size_t chars = 0, i = 0, cut = 0;
	for (; s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == max - 1)
				cut = i;
			chars++;
		}
	if (chars <= max) {
		html_printf(o, "%s", s);
		return;
	}
	char *part = xstrndup(s, cut);
	html_printf(o, "%s…", part);
	free(part);
}

/* --- dates ---------------------------------------------------------------------------------------
 */

/* Days from civil (Howard Hinnant's algorithm), proleptic Gregorian. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long yy = (long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

double svg_days_from_iso(const char *iso)
{
	/* by hand: called for every measurement of a plan */
	if (!iso || strnlen(iso, 10) < 10)
		return -1e9;
	static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9};
	for (int i = 0; i < 8; i++)
		if (iso[digits[i]] < '0' || iso[digits[i]] > '9')
			return -1e9;
	if (iso[4] != '-' || iso[7] != '-' || (iso[10] && iso[10] != 'T' && iso[10] != ' '))
		return -1e9;
	int y = (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 + (iso[2] - '0') * 10 + (iso[3] - '0');
	int m = (iso[5] - '0') * 10 + (iso[6] - '0');
	int d = (iso[8] - '0') * 10 + (iso[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1e9;
	return (double)days_from_civil(y, (unsigned)m, (unsigned)d);
}

void svg_iso_from_days(char out[16], double days)
{
	long y;
	unsigned m, d;
	civil_from_days((long)floor(days + 0.5), &y, &m, &d);
	/* ISO dates have four-digit years: a day count beyond them is clamped, never truncated */
	if (y < 0)
		y = 0;
	else if (y > 9999)
		y = 9999;
	snprintf(out, 16, "%04ld-%02u-%02u", y, m % 13, d % 32);
}

void svg_date_fr(char out[48], double days)
{
	static const char *const months[] = {"janvier",   "février", "mars",     "avril",
	                                     "mai",       "juin",    "juillet",  "août",
	                                     "septembre", "octobre", "novembre", "décembre"};
	long y;
	unsigned m, d;
	civil_from_days((long)floor(days + 0.5), &y, &m, &d);
	snprintf(out, 48, "%u%s %s %ld", d, d == 1 ? "er" : "", months[m - 1], y);
}

/* --- chart shell
 * ---------------------------------------------------------------------------------- */

static void chart_open(struct buf *o, const char *id, const char *title, const char *desc, int w,
                       int h)
{
	html_printf(o,
	            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" role=\"img\" "
	            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	            "aria-labelledby=\"%s-t %s-d\" font-family=\"system-ui, -apple-system, "
	            "'Segoe UI', Roboto, sans-serif\" font-size=\"13\" fill=\"#1a1a1a\">"
	            "<title id=\"%s-t\">%s</title><desc id=\"%s-d\">%s</desc>",
	            w, h, w, h, id, id, id, title ? title : "", id, desc ? desc : "");
}

/* Legend items laid out left to right, wrapping; returns the height used. */
static int legend(struct buf *o, const char *id, int *nclip, const char *const *labels,
                  const int *fl, size_t n, int x0, int y0, int width)
{
	int x = x0, y = y0;
	for (size_t i = 0; i < n; i++) {
		/* about 6 units per character at 13 units: a rough width for wrapping */
		int w = 22 + (int)(strlen(labels[i]) * 7.0);
		if (x > x0 && x + w > x0 + width) {
			x = x0;
			y += 20;
		}
		fill_rect(o, id, nclip, fill_of(fl, i), x, y, 14, 14);
		html_printf(o, "<text x=\"%d\" y=\"%d\">%s</text>", x + 19, y + 11, labels[i]);
		x += w + 8;
	}
	return y - y0 + 20;
}

/* --- bar
 * ---------------------------------------------------------------------------------------------- */

void svg_bar(struct buf *o, const struct svg_bar *c)
{
	const int W = 400, row = 40, top = 8;
	int h = top + (int)c->n * row + 8;
	double max = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->values[i] > max)
			max = c->values[i];
	chart_open(o, c->id, c->title, c->desc, W, h);
	for (size_t i = 0; i < c->n; i++) {
		int y = top + (int)i * row;
		double v = c->values[i] > 0 ? c->values[i] : 0;
		double bw = max > 0 ? v / max * (W - 90) : 0;
		char num[48];
		svg_number(num, c->values[i], c->decimals);
		buf_printf(o, "<text x=\"0\" y=\"%d\">", y + 12);
		text_cut(o, c->labels[i], 60);
		buf_puts(o, "</text>");
		buf_printf(o,
		           "<rect x=\"0\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\" "
		           "stroke=\"#1a1a1a\" stroke-width=\"0.5\"/><text x=\"%.1f",
		           y + 17, bw, fills[2].bg, bw + 6);
		html_printf(o, "\" y=\"%d\" font-weight=\"600\">%s%R%s</text>", y + 30, num,
		            c->unit && *c->unit ? (strcmp(c->unit, "%") ? " " : "\xe2\x80\xaf")
		                                : "",
		            c->unit && *c->unit ? c->unit : "");
	}
	buf_puts(o, "</svg>");
}

/* --- stacked bars
 * ------------------------------------------------------------------------------------------ */

void svg_stack(struct buf *o, const struct svg_stack *c)
{
	const int W = 400, row = 46;
	/* The legend's height depends on its wrapping: draw it into a side buffer first. */
	struct buf leg = {0};
	int nclip = 0;
	int lh = legend(&leg, c->id, &nclip, c->segments, c->fills, c->nseg, 0, 4, W);
	int top = lh + 10;
	int h = top + (int)c->nrows * row + 4;
	chart_open(o, c->id, c->title, c->desc, W, h);
	buf_append(o, leg.data ? leg.data : "", leg.len);
	buf_free(&leg);
	int *pct = xcalloc(c->nseg ? c->nseg : 1, sizeof *pct);
	for (size_t r = 0; r < c->nrows; r++) {
		const double *cnt = c->counts + r * c->nseg;
		double total = 0;
		for (size_t s = 0; s < c->nseg; s++)
			total += cnt[s] > 0 ? cnt[s] : 0;
		int y = top + (int)r * row;
		char num[48];
		svg_number(num, total, 0);
		buf_printf(o, "<text x=\"0\" y=\"%d\">", y + 12);
		text_cut(o, c->rows[r], 38);
		html_printf(o, "<tspan font-weight=\"600\"> — %s</tspan></text>", num);
		int by = y + 18;
		if (total <= 0) {
			buf_printf(
			    o,
			    "<rect x=\"0.5\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#ffffff\" "
			    "stroke=\"#595959\" stroke-dasharray=\"4 3\"/>",
			    by, W - 1);
			html_printf(o,
			            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
			            "fill=\"#595959\">%s</text>",
			            W / 2, by + 14,
			            c->empty_text ? c->empty_text : "aucune donnée");
			continue;
		}
		svg_percentages(cnt, c->nseg, pct);
		double x = 0;
		for (size_t s = 0; s < c->nseg; s++) {
			double v = cnt[s] > 0 ? cnt[s] : 0;
			if (v <= 0)
				continue;
			double w = v / total * W;
			int f = fill_of(c->fills, s);
			fill_rect(o, c->id, &nclip, f, x, by, w, 20);
			if (w >= 34) {
				/* A halo in the fill's colour keeps the label readable on a
				 * pattern. */
				buf_printf(o, "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\" ",
				           x + w / 2, by + 15);
				html_printf(o,
				            "font-weight=\"700\" fill=\"%s\" stroke=\"%s\" "
				            "stroke-width=\"3\" paint-order=\"stroke\">%d" PCT
				            "</text>",
				            fills[f].text, fills[f].bg, pct[s]);
			}
			x += w;
		}
	}
	free(pct);
	buf_puts(o, "</svg>");
}

/* --- line
 * --------------------------------------------------------------------------------------------- */

/* A "nice" step (1, 2 or 5 × 10^k) for about `ticks` intervals over span. */
static double nice_step(double span, int ticks)
{
	if (span <= 0)
		return 1;
	double raw = span / ticks;
	double mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void svg_line(struct buf *o, const struct svg_line *c)
{
	const int W = 480, H = 250, L = 58, R = 14, T = 12, B = 50;
	double x0 = INFINITY, x1 = -INFINITY, y0 = 0, y1 = -INFINITY;
	for (size_t s = 0; s < c->nseries; s++)
		for (size_t i = 0; i < c->series[s].n; i++) {
			const struct svg_point *p = &c->series[s].pts[i];
			x0 = fmin(x0, p->x), x1 = fmax(x1, p->x);
			y0 = fmin(y0, p->y), y1 = fmax(y1, p->y);
		}
	for (size_t i = 0; i < c->ntarget; i++) {
		x0 = fmin(x0, c->target[i].x), x1 = fmax(x1, c->target[i].x);
		y0 = fmin(y0, c->target[i].y), y1 = fmax(y1, c->target[i].y);
	}
	chart_open(o, c->id, c->title, c->desc, W, H);
	if (!isfinite(x0)) {
		html_printf(o,
		            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#595959\">"
		            "Aucune valeur à représenter</text></svg>",
		            W / 2, H / 2);
		return;
	}
	if (x1 - x0 < 30)
		x0 -= 15, x1 += 15;
	if (y1 <= y0)
		y1 = y0 + 1;
	double step = nice_step(y1 - y0, 4);
	y0 = floor(y0 / step) * step;
	y1 = ceil(y1 * 1.05 / step) * step;
	double pw = W - L - R, ph = H - T - B;
#define PX(v) (L + ((v)-x0) / (x1 - x0) * pw)
#define PY(v) (T + ph - ((v)-y0) / (y1 - y0) * ph)
	/* Grid and y axis. */
	for (double v = y0; v <= y1 + step / 2; v += step) {
		char num[48];
		svg_number(num, v, step < 1 ? (step < 0.1 ? 2 : 1) : 0);
		buf_printf(o,
		           "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d0d0d0\" "
		           "stroke-width=\"0.8\"/>",
		           L, W - R, PY(v), PY(v));
		buf_printf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">",
		           L - 6, PY(v) + 4);
		html_printf(o, "%s</text>", num);
	}
	/* x ticks: the first of January of each year in range, or both ends for a short span. */
	long ya, yb;
	unsigned m, d;
	civil_from_days((long)x0, &ya, &m, &d);
	civil_from_days((long)x1, &yb, &m, &d);
	int ticks = 0;
	for (long y = ya; y <= yb + 1; y++) {
		double t = (double)days_from_civil(y, 1, 1);
		if (t < x0 || t > x1)
			continue;
		ticks++;
		buf_printf(
		    o,
		    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#595959\"/>"
		    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%ld</text>",
		    PX(t), PX(t), T + (int)ph, T + (int)ph + 5, PX(t), T + (int)ph + 17, y);
	}
	if (!ticks) {
		char a[48], b[48];
		svg_date_fr(a, x0);
		svg_date_fr(b, x1);
		html_printf(o, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", L,
		            T + (int)ph + 17, a);
		html_printf(
		    o, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>",
		    W - R, T + (int)ph + 17, b);
	}
	buf_printf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#1a1a1a\"/>", L,
	           W - R, T + (int)ph, T + (int)ph);
	/* The band of success: between the trajectory and the top (or bottom) of the plot. */
	if (c->ntarget >= 1 && c->band_dir) {
		double edge = c->band_dir > 0 ? T : T + ph;
		buf_puts(o, "<path d=\"");
		buf_printf(o, "M%.1f,%.1f", c->ntarget > 1 ? PX(c->target[0].x) : (double)L, edge);
		if (c->ntarget == 1)
			buf_printf(o, " L%.1f,%.1f L%.1f,%.1f", (double)L, PY(c->target[0].y),
			           (double)(W - R), PY(c->target[0].y));
		for (size_t i = 0; c->ntarget > 1 && i < c->ntarget; i++)
			buf_printf(o, " L%.1f,%.1f", PX(c->target[i].x), PY(c->target[i].y));
		buf_printf(o, " L%.1f,%.1f Z",
		           c->ntarget > 1 ? PX(c->target[c->ntarget - 1].x) : (double)(W - R),
		           edge);
		buf_puts(o, "\" fill=\"#cfe3e0\" fill-opacity=\"0.7\"/>");
	}
	if (c->ntarget >= 1) {
		buf_puts(o, "<polyline fill=\"none\" stroke=\"#0b3b37\" stroke-width=\"1.5\" "
		            "stroke-dasharray=\"6 4\" points=\"");
		if (c->ntarget == 1)
			buf_printf(o, "%d,%.1f %d,%.1f", L, PY(c->target[0].y), W - R,
			           PY(c->target[0].y));
		for (size_t i = 0; c->ntarget > 1 && i < c->ntarget; i++)
			buf_printf(o, "%s%.1f,%.1f", i ? " " : "", PX(c->target[i].x),
			           PY(c->target[i].y));
		buf_puts(o, "\"/>");
		for (size_t i = 0; i < c->ntarget; i++)
			buf_printf(o,
			           "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" "
			           "fill=\"#ffffff\" stroke=\"#0b3b37\" stroke-width=\"1.5\"/>",
			           PX(c->target[i].x) - 3.5, PY(c->target[i].y) - 3.5);
	}
	for (size_t s = 0; s < c->nseries; s++) {
		const struct svg_series *se = &c->series[s];
		if (!se->n)
			continue;
		buf_printf(o,
		           "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
		           s ? "#595959" : "#1a1a1a", s ? " stroke-dasharray=\"2 3\"" : "");
		for (size_t i = 0; i < se->n; i++)
			buf_printf(o, "%s%.1f,%.1f", i ? " " : "", PX(se->pts[i].x),
			           PY(se->pts[i].y));
		buf_puts(o, "\"/>");
		for (size_t i = 0; i < se->n; i++)
			buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
			           PX(se->pts[i].x), PY(se->pts[i].y), s ? "#ffffff" : "#1a1a1a");
	}
	/* Legend under the plot. */
	int ly = H - 14, lx = 4;
	if (c->nseries && c->series[0].label) {
		html_printf(
		    o,
		    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#1a1a1a\" "
		    "stroke-width=\"2\"/><circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"#1a1a1a\"/>"
		    "<text x=\"%d\" y=\"%d\" font-size=\"11\">",
		    lx, lx + 20, ly, ly, lx + 10, ly, lx + 24, ly + 4);
		text_cut(o, c->series[0].label, 24);
		buf_puts(o, "</text>");
		lx += 160;
	}
	if (c->ntarget) {
		html_printf(
		    o,
		    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#0b3b37\" "
		    "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%d\" "
		    "font-size=\"11\">Trajectoire des cibles</text>",
		    lx, lx + 20, ly, ly, lx + 24, ly + 4);
		lx += 150;
		if (c->band_dir)
			html_printf(o,
			            "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" "
			            "fill=\"#cfe3e0\" stroke=\"#1a1a1a\" stroke-width=\"0.5\"/>"
			            "<text x=\"%d\" y=\"%d\" font-size=\"11\">Zone visée</text>",
			            lx, ly - 5, lx + 18, ly + 4);
	}
#undef PX
#undef PY
	buf_puts(o, "</svg>");
}

/* --- donut
 * ------------------------------------------------------------------------------------------ */

void svg_donut(struct buf *o, const struct svg_donut *c)
{
	const int W = 400, cx = 90, cy = 90, R = 80, r = 48;
	int h = 20 + (int)c->n * 22;
	if (h < 184)
		h = 184;
	chart_open(o, c->id, c->title, c->desc, W, h);
	int nclip = 0;
	double total = 0;
	for (size_t i = 0; i < c->n; i++)
		total += c->values[i] > 0 ? c->values[i] : 0;
	int *pct = xcalloc(c->n ? c->n : 1, sizeof *pct);
	svg_percentages(c->values, c->n, pct);
	if (total <= 0) {
		buf_printf(o,
		           "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"none\" stroke=\"#595959\" "
		           "stroke-width=\"%d\" stroke-dasharray=\"4 3\"/>",
		           cx, cy, (R + r) / 2, 1);
	}
	double a = -M_PI / 2;
	for (size_t i = 0; total > 0 && i < c->n; i++) {
		double v = c->values[i] > 0 ? c->values[i] : 0;
		if (v <= 0)
			continue;
		double da = v / total * 2 * M_PI;
		if (da >= 2 * M_PI - 1e-9)
			da = 2 * M_PI - 1e-4; /* a full ring: an arc cannot close on itself */
		double b = a + da;
		int large = da > M_PI;
		char d[256];
		snprintf(d, sizeof d,
		         "M%.2f,%.2f A%d,%d 0 %d 1 %.2f,%.2f L%.2f,%.2f A%d,%d 0 %d 0 %.2f,%.2f Z",
		         cx + R * cos(a), cy + R * sin(a), R, R, large, cx + R * cos(b),
		         cy + R * sin(b), cx + r * cos(b), cy + r * sin(b), r, r, large,
		         cx + r * cos(a), cy + r * sin(a));
		int f = fill_of(c->fills, i);
		buf_printf(o,
		           "<path d=\"%s\" fill=\"%s\" stroke=\"#1a1a1a\" stroke-width=\"0.6\"/>",
		           d, fills[f].bg);
		char shape[300];
		snprintf(shape, sizeof shape, "<path d=\"%s\"/>", d);
		/* the texture only over the arc's bounding box */
		double k = (double)r / R;
		double bx0 = fmin(fmin(cos(a), cos(b)), fmin(k * cos(a), k * cos(b)));
		double bx1 = fmax(fmax(cos(a), cos(b)), fmax(k * cos(a), k * cos(b)));
		double by0 = fmin(fmin(sin(a), sin(b)), fmin(k * sin(a), k * sin(b)));
		double by1 = fmax(fmax(sin(a), sin(b)), fmax(k * sin(a), k * sin(b)));
		for (int q = 0; q < 4; q++) { /* the axis extremes the arc passes */
			double t = q * M_PI / 2;
			while (t < a)
				t += 2 * M_PI;
			if (t <= b) {
				bx0 = fmin(bx0, cos(t)), bx1 = fmax(bx1, cos(t));
				by0 = fmin(by0, sin(t)), by1 = fmax(by1, sin(t));
			}
		}
		texture(o, c->id, &nclip, f, shape, cx + R * bx0, cy + R * by0, R * (bx1 - bx0),
		        R * (by1 - by0));
		a = b;
	}
	if (c->center)
		html_printf(o,
		            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-weight=\"700\" "
		            "font-size=\"14\">%s</text>",
		            cx, cy + 5, c->center);
	for (size_t i = 0; i < c->n; i++) {
		int y = 14 + (int)i * 22;
		char num[48];
		svg_number(num, c->values[i], 0);
		fill_rect(o, c->id, &nclip, fill_of(c->fills, i), 190, y, 14, 14);
		buf_printf(o, "<text x=\"210\" y=\"%d\">", y + 11);
		text_cut(o, c->labels[i], 20);
		html_printf(o, "<tspan font-weight=\"600\"> %s (%d" PCT ")</tspan></text>", num,
		            pct[i]);
	}
	free(pct);
	buf_puts(o, "</svg>");
}

/* --- radar
 * -------------------------------------------------------------------------------------------- */

void svg_radar(struct buf *o, const struct svg_radar *c)
{
	const int W = 400, cx = 200, cy = 165, R = 105;
	int h = 340 + (int)c->nseries * 20;
	chart_open(o, c->id, c->title, c->desc, W, h);
	if (c->naxes < 3 || c->max <= 0) {
		html_printf(o,
		            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#595959\">"
		            "Au moins trois axes sont nécessaires</text></svg>",
		            cx, cy);
		return;
	}
	double n = (double)c->naxes;
	for (int g = 1; g <= 4; g++) {
		buf_puts(
		    o, "<polygon fill=\"none\" stroke=\"#bfbfbf\" stroke-width=\"0.8\" points=\"");
		for (size_t i = 0; i < c->naxes; i++) {
			double a = -M_PI / 2 + 2 * M_PI * (double)i / n;
			buf_printf(o, "%s%.1f,%.1f", i ? " " : "", cx + R * g / 4.0 * cos(a),
			           cy + R * g / 4.0 * sin(a));
		}
		buf_puts(o, "\"/>");
	}
	for (size_t i = 0; i < c->naxes; i++) {
		double a = -M_PI / 2 + 2 * M_PI * (double)i / n;
		double ca = cos(a), sa = sin(a);
		buf_printf(o,
		           "<line x1=\"%d\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8c8c8c\" "
		           "stroke-width=\"0.8\"/>",
		           cx, cy, cx + R * ca, cy + R * sa);
		buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\">",
		           cx + (R + 10) * ca, cy + (R + 10) * sa + 4 + (sa > 0.5 ? 6 : 0),
		           ca > 0.3    ? "start"
		           : ca < -0.3 ? "end"
		                       : "middle");
		text_cut(o, c->axes[i], 26);
		buf_puts(o, "</text>");
	}
	static const char *const dashes[] = {"", " stroke-dasharray=\"6 3\"",
	                                     " stroke-dasharray=\"2 2\""};
	static const char *const strokes[] = {"#0b3b37", "#6e5f42", "#1a1a1a"};
	for (size_t s = 0; s < c->nseries; s++) {
		const double *v = c->values + s * c->naxes;
		buf_printf(o,
		           "<polygon fill=\"%s\" fill-opacity=\"0.18\" stroke=\"%s\" "
		           "stroke-width=\"2\"%s points=\"",
		           strokes[s % 3], strokes[s % 3], dashes[s % 3]);
		for (size_t i = 0; i < c->naxes; i++) {
			double a = -M_PI / 2 + 2 * M_PI * (double)i / n;
			double k = fmax(0, fmin(1, v[i] / c->max));
			buf_printf(o, "%s%.1f,%.1f", i ? " " : "", cx + R * k * cos(a),
			           cy + R * k * sin(a));
		}
		buf_puts(o, "\"/>");
		int y = 330 + (int)s * 20;
		buf_printf(o,
		           "<line x1=\"10\" x2=\"34\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
		           "stroke-width=\"2\"%s/><text x=\"40\" y=\"%d\">",
		           y, y, strokes[s % 3], dashes[s % 3], y + 4);
		text_cut(o, c->series_labels ? c->series_labels[s] : "", 50);
		buf_puts(o, "</text>");
	}
	buf_puts(o, "</svg>");
}

/* --- figures: chart + table
 * ---------------------------------------------------------------------------- */

static void figure_open(struct buf *o)
{
	buf_puts(o, "<figure class=\"chart\">");
}

static void table_open(struct buf *o, const char *title, int fold)
{
	if (fold)
		html_printf(o,
		            "<details class=\"chart-data\"><summary>Données du graphique "
		            "« %s »</summary>",
		            title ? title : "");
	html_printf(o, "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>%s</caption>",
	            title ? title : "");
}

static void table_close(struct buf *o, int fold)
{
	buf_puts(o, "</table></div>");
	if (fold)
		buf_puts(o, "</details>");
	buf_puts(o, "</figure>\n");
}

void svg_figure_bar(struct buf *o, const struct svg_bar *c, int fold)
{
	figure_open(o);
	svg_bar(o, c);
	table_open(o, c->title, fold);
	html_printf(o,
	            "<thead><tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
	            "</tr></thead><tbody>",
	            c->label_head ? c->label_head : "Catégorie",
	            c->value_head ? c->value_head : "Valeur");
	for (size_t i = 0; i < c->n; i++) {
		char num[48];
		svg_number(num, c->values[i], c->decimals);
		html_printf(o, "<tr><th scope=\"row\">%s</th><td class=\"num\">%s%R%s</td></tr>",
		            c->labels[i], num, c->unit && *c->unit ? "\xc2\xa0" : "",
		            c->unit ? c->unit : "");
	}
	buf_puts(o, "</tbody>");
	table_close(o, fold);
}

void svg_figure_stack(struct buf *o, const struct svg_stack *c, int fold)
{
	figure_open(o);
	svg_stack(o, c);
	table_open(o, c->title, fold);
	html_printf(o, "<thead><tr><th scope=\"col\">%s</th>", c->row_head ? c->row_head : "");
	for (size_t s = 0; s < c->nseg; s++)
		html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>", c->segments[s]);
	buf_puts(o, "<th scope=\"col\" class=\"num\">Total</th></tr></thead><tbody>");
	int *pct = xcalloc(c->nseg ? c->nseg : 1, sizeof *pct);
	for (size_t r = 0; r < c->nrows; r++) {
		const double *cnt = c->counts + r * c->nseg;
		double total = 0;
		for (size_t s = 0; s < c->nseg; s++)
			total += cnt[s] > 0 ? cnt[s] : 0;
		svg_percentages(cnt, c->nseg, pct);
		html_printf(o, "<tr><th scope=\"row\">%s</th>", c->rows[r]);
		for (size_t s = 0; s < c->nseg; s++) {
			char num[48];
			svg_number(num, cnt[s], 0);
			if (total > 0)
				html_printf(o,
				            "<td class=\"num\">%d" PCT " <span class=\"muted\">(%s)"
				            "</span></td>",
				            pct[s], num);
			else
				buf_puts(o, "<td class=\"num\">–</td>");
		}
		char num[48];
		svg_number(num, total, 0);
		html_printf(o, "<td class=\"num\">%s %s</td></tr>", num,
		            c->total_unit ? c->total_unit : "");
	}
	free(pct);
	buf_puts(o, "</tbody>");
	table_close(o, fold);
}

/* x of every point of every series and of the trajectory, sorted, without duplicates. */
static size_t line_xs(const struct svg_line *c, double **out)
{
	size_t n = c->ntarget;
	for (size_t s = 0; s < c->nseries; s++)
		n += c->series[s].n;
	double *xs = xmalloc((n ? n : 1) * sizeof *xs);
	size_t k = 0;
	for (size_t s = 0; s < c->nseries; s++)
		for (size_t i = 0; i < c->series[s].n; i++)
			xs[k++] = c->series[s].pts[i].x;
	for (size_t i = 0; i < c->ntarget; i++)
		xs[k++] = c->target[i].x;
	/* insertion sort: a few dozen points */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
			double t = xs[j];
			xs[j] = xs[j - 1];
			xs[j - 1] = t;
		}
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || fabs(xs[i] - xs[u - 1]) > 0.5)
			xs[u++] = xs[i];
	*out = xs;
	return u;
}

static void value_cell(struct buf *o, const struct svg_point *pts, size_t n, double x, int decimals,
                       const char *unit)
{
	for (size_t i = 0; i < n; i++)
		if (fabs(pts[i].x - x) <= 0.5) {
			char num[48];
			svg_number(num, pts[i].y, decimals);
			html_printf(o, "<td class=\"num\">%s%R%s</td>", num,
			            unit && *unit ? "\xc2\xa0" : "", unit ? unit : "");
			return;
		}
	buf_puts(o, "<td class=\"num\">–</td>");
}

void svg_figure_line(struct buf *o, const struct svg_line *c, int fold)
{
	figure_open(o);
	svg_line(o, c);
	table_open(o, c->title, fold);
	buf_puts(o, "<thead><tr><th scope=\"col\">Date</th>");
	for (size_t s = 0; s < c->nseries; s++)
		html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>",
		            c->series[s].label ? c->series[s].label : "Valeur");
	if (c->ntarget)
		buf_puts(o, "<th scope=\"col\" class=\"num\">Référence et cibles</th>");
	buf_puts(o, "</tr></thead><tbody>");
	double *xs;
	size_t n = line_xs(c, &xs);
	for (size_t i = 0; i < n; i++) {
		char date[48];
		svg_date_fr(date, xs[i]);
		html_printf(o, "<tr><th scope=\"row\">%s</th>", date);
		for (size_t s = 0; s < c->nseries; s++)
			value_cell(o, c->series[s].pts, c->series[s].n, xs[i], c->decimals,
			           c->unit);
		if (c->ntarget)
			value_cell(o, c->target, c->ntarget, xs[i], c->decimals, c->unit);
		buf_puts(o, "</tr>");
	}
	free(xs);
	buf_puts(o, "</tbody>");
	table_close(o, fold);
}

void svg_figure_donut(struct buf *o, const struct svg_donut *c, int fold)
{
	figure_open(o);
	svg_donut(o, c);
	table_open(o, c->title, fold);
	html_printf(
	    o,
	    "<thead><tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">Nombre</th>"
	    "<th scope=\"col\" class=\"num\">Part</th></tr></thead><tbody>",
	    c->label_head ? c->label_head : "Catégorie");
	int *pct = xcalloc(c->n ? c->n : 1, sizeof *pct);
	svg_percentages(c->values, c->n, pct);
	double total = 0;
	for (size_t i = 0; i < c->n; i++) {
		char num[48];
		svg_number(num, c->values[i], 0);
		total += c->values[i] > 0 ? c->values[i] : 0;
		html_printf(o,
		            "<tr><th scope=\"row\">%s</th><td class=\"num\">%s</td>"
		            "<td class=\"num\">%d" PCT "</td></tr>",
		            c->labels[i], num, pct[i]);
	}
	char num[48];
	svg_number(num, total, 0);
	html_printf(o,
	            "</tbody><tfoot><tr><th scope=\"row\">Total</th><td class=\"num\">%s</td>"
	            "<td class=\"num\">%R</td></tr></tfoot>",
	            num, total > 0 ? "100" PCT_TEXT : "–");
	free(pct);
	table_close(o, fold);
}

void svg_figure_radar(struct buf *o, const struct svg_radar *c, int fold)
{
	figure_open(o);
	svg_radar(o, c);
	table_open(o, c->title, fold);
	buf_puts(o, "<thead><tr><th scope=\"col\">Axe</th>");
	for (size_t s = 0; s < c->nseries; s++)
		html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>",
		            c->series_labels ? c->series_labels[s] : "");
	buf_puts(o, "</tr></thead><tbody>");
	for (size_t i = 0; i < c->naxes; i++) {
		html_printf(o, "<tr><th scope=\"row\">%s</th>", c->axes[i]);
		for (size_t s = 0; s < c->nseries; s++) {
			char num[48];
			svg_number(num, c->values[s * c->naxes + i], 1);
			html_printf(o, "<td class=\"num\">%s</td>", num);
		}
		buf_puts(o, "</tr>");
	}
	buf_puts(o, "</tbody>");
	table_close(o, fold);
}
