/* access_bench: run the 2SFCA engine (src/access.c) on the files written by prepare.py.
 *
 * Usage: access_bench DIR [--max-minutes M] [--decay SPEC] [--detour X] [--speed V]
 *                         [--threads N] [--repeat R] [--out OUTDIR]
 * Reads DIR/demand.tsv and DIR/supply.tsv, writes OUTDIR/demand_result.tsv and
 * OUTDIR/supply_result.tsv (default OUTDIR: DIR/c) in the format of reference.py, and prints
 *   c_seconds=<engine time> pairs=<n> candidates=<n> demand=<n> supply=<n> max_rss_kb=<n>
 * c_seconds covers access_2sfca_run only (arrays in memory to results), like py_seconds; with
 * --repeat R the engine runs R times and c_seconds is the median (c_min the minimum; c_cpu is
 * the smallest CPU time of the process, all threads, over the runs).
 *
 * Build: cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/access/access_bench.c src/access.c \
 *           -lm -lpthread -o access_bench
 */
#include "access.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "access_bench: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("cannot read", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Split a tab-separated line in place; returns the number of fields. */
static int split(char *line, char **f, int max)
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

static double num(const char *s, const char *path)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno)
		die("bad number in", path);
	return v;
}

struct table {
	char *text;
	char **code; /* first column of each row */
	size_t n;
};

/* Rows of a TSV file with a header; calls row(fields, index) for each. */
static void read_tsv(const char *path, struct table *t, int ncol,
                     void (*row)(char **f, size_t i, void *ctx), void *ctx)
{
	t->text = slurp(path);
	size_t cap = 1024;
	t->code = malloc(cap * sizeof *t->code);
	t->n = 0;
	char *save = NULL;
	int header = 1;
	for (char *line = strtok_r(t->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (header) {
			header = 0;
			continue;
		}
		char *f[8];
		if (split(line, f, 8) != ncol)
			die("bad column count in", path);
		if (t->n == cap) {
			cap *= 2;
			t->code = realloc(t->code, cap * sizeof *t->code);
		}
		t->code[t->n] = f[0];
		row(f, t->n, ctx);
		t->n++;
	}
}

struct points {
	struct access_demand *d;
	struct access_supply *s;
	size_t cap;
	const char *path;
};

static void grow(struct points *p, size_t i)
{
	if (i < p->cap)
		return;
	p->cap = p->cap ? p->cap * 2 : 1024;
	p->d = realloc(p->d, p->cap * sizeof *p->d);
	p->s = realloc(p->s, p->cap * sizeof *p->s);
	if (!p->d || !p->s)
		die("out of memory", NULL);
}

static void demand_row(char **f, size_t i, void *ctx)
{
	struct points *p = ctx;
	grow(p, i);
	p->d[i] =
	    (struct access_demand){num(f[1], p->path), num(f[2], p->path), num(f[3], p->path)};
}

static void supply_row(char **f, size_t i, void *ctx)
{
	struct points *p = ctx;
	grow(p, i);
	p->s[i] =
	    (struct access_supply){num(f[2], p->path), num(f[3], p->path), num(f[4], p->path)};
}

static double clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: access_bench DIR [--max-minutes M] [--decay SPEC] [--detour X] "
		    "[--speed V] [--threads N] [--out OUTDIR]",
		    NULL);
	const char *dir = argv[1], *out = NULL, *decay = "gaussian";
	struct access_params p;
	access_params_default(&p);
	int repeat = 1;
	for (int a = 2; a < argc; a++) {
		if (a + 1 >= argc)
			die("missing value after", argv[a]);
		const char *v = argv[++a];
		if (!strcmp(argv[a - 1], "--max-minutes"))
			p.max_minutes = atof(v);
		else if (!strcmp(argv[a - 1], "--decay"))
			decay = v;
		else if (!strcmp(argv[a - 1], "--detour"))
			p.detour = atof(v);
		else if (!strcmp(argv[a - 1], "--speed"))
			p.speed_kmh = atof(v);
		else if (!strcmp(argv[a - 1], "--threads"))
			p.threads = atoi(v);
		else if (!strcmp(argv[a - 1], "--repeat"))
			repeat = atoi(v);
		else if (!strcmp(argv[a - 1], "--out"))
			out = v;
		else
			die("unknown option", argv[a - 1]);
	}
	char *err = NULL;
	if (access_decay_parse(decay, &p.decay, &err))
		die(err, NULL);

	char path[4096];
	struct points dp = {0}, sp = {0};
	struct table dt, st;
	snprintf(path, sizeof path, "%s/demand.tsv", dir);
	dp.path = path;
	read_tsv(path, &dt, 5, demand_row, &dp);
	snprintf(path, sizeof path, "%s/supply.tsv", dir);
	sp.path = path;
	read_tsv(path, &st, 5, supply_row, &sp);

	struct access_result r;
	if (repeat < 1 || repeat > 1000)
		die("bad --repeat", NULL);
	double times[1000], cpu = 1e300;
	for (int k = 0; k < repeat; k++) {
		if (k)
			access_result_free(&r);
		double t0 = now(), c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
		if (access_2sfca_run(dp.d, dt.n, sp.s, st.n, &p, &r, &err))
			die(err, NULL);
		times[k] = now() - t0;
		double c = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
		cpu = c < cpu ? c : cpu;
	}
	/* Median and minimum (insertion sort: R is small). */
	for (int a = 1; a < repeat; a++)
		for (int b = a; b > 0 && times[b] < times[b - 1]; b--) {
			double x = times[b];
			times[b] = times[b - 1];
			times[b - 1] = x;
		}
	double elapsed =
	    repeat % 2 ? times[repeat / 2] : (times[repeat / 2 - 1] + times[repeat / 2]) / 2.0;

	char outdir[4000];
	if (out)
		snprintf(outdir, sizeof outdir, "%s", out);
	else
		snprintf(outdir, sizeof outdir, "%s/c", dir);
	mkdir(outdir, 0777);
	snprintf(path, sizeof path, "%s/demand_result.tsv", outdir);
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write", path);
	fprintf(f, "code\taccessibility\treachable\tnearest_minutes\tuncovered\n");
	for (size_t i = 0; i < r.ndemand; i++) {
		const struct access_row *row = &r.rows[i];
		fprintf(f, "%s\t%.17g\t%u\t", dt.code[i], row->accessibility, row->reachable);
		if (isnan(row->nearest_minutes))
			fprintf(f, "\t%d\n", row->uncovered);
		else
			fprintf(f, "%.17g\t%d\n", row->nearest_minutes, row->uncovered);
	}
	fclose(f);
	snprintf(path, sizeof path, "%s/supply_result.tsv", outdir);
	f = fopen(path, "w");
	if (!f)
		die("cannot write", path);
	fprintf(f, "id\tratio\tserved\n");
	for (size_t j = 0; j < r.nsupply; j++)
		fprintf(f, "%s\t%.17g\t%.17g\n", st.code[j], r.ratio[j], r.served[j]);
	fclose(f);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("c_seconds=%.6f c_min=%.6f c_cpu=%.6f pairs=%llu candidates=%llu demand=%zu "
	       "supply=%zu threads=%d "
	       "max_rss_kb=%ld\n",
	       elapsed, times[0], cpu, (unsigned long long)r.pairs,
	       (unsigned long long)r.candidates, r.ndemand, r.nsupply, p.threads, ru.ru_maxrss);
	access_result_free(&r);
	free(dp.d);
	free(dp.s);
	free(sp.d);
	free(sp.s);
	free(dt.text);
	free(dt.code);
	free(st.text);
	free(st.code);
	return 0;
}
