/* rollup: the national roll-up — the progress distribution of every plan at once, by the rule
 * of the plan dashboard (dashboard.h), as a command and an API route. */
#include "rollup.h"

#include "db.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rollup_free(struct rollup *ru)
{
	for (size_t i = 0; i < ru->n; i++) {
		free(ru->plans[i].title);
		free(ru->plans[i].kind);
	}
	free(ru->plans);
	memset(ru, 0, sizeof *ru);
}

static struct rollup_plan *plan_find(struct rollup *ru, int64_t id)
{
	for (size_t lo = 0, hi = ru->n; lo < hi;) {
		size_t mid = (lo + hi) / 2;
		if (ru->plans[mid].id == id)
			return &ru->plans[mid];
		if (ru->plans[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int slug_index(const char *(*slug)(int), int n, const char *v)
{
	for (int i = 0; v && i < n; i++)
		if (!strcmp(slug(i), v))
			return i;
	return -1;
}

/* Percentages in the dashboard's display order (so that ties round as on the page). */
static void percentages(struct rollup_plan *rp)
{
	double c[DASH_NLEVELS];
	int pct[DASH_NLEVELS];
	for (int i = 0; i < DASH_NLEVELS; i++)
		c[i] = rp->levels[dash_level_order[i]];
	svg_percentages(c, DASH_NLEVELS, pct);
	for (int i = 0; i < DASH_NLEVELS; i++)
		rp->percent[dash_level_order[i]] = rp->tracked ? pct[i] : -1;
}

/* One plan's nodes (p->nodes, sorted by id) are loaded: link the tree and roll it up. */
static void finish_plan(struct dash_plan *p, struct rollup_plan *rp, int64_t *parents)
{
	/* children grouped by parent (their order plays no part in the counts) */
	size_t *count = xcalloc(p->n + 1, sizeof *count);
	p->kids = xcalloc(p->n + 1, sizeof *p->kids);
	p->roots = xcalloc(p->n + 1, sizeof *p->roots);
	size_t *par = xmalloc((p->n + 1) * sizeof *par);
	for (size_t i = 0; i < p->n; i++) {
		par[i] = parents[i] ? dash_node_index(p, parents[i]) : (size_t)-2;
		if (par[i] == (size_t)-2)
			p->roots[p->nroots++] = i;
		else if (par[i] != (size_t)-1)
			count[par[i]]++;
	}
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		p->nodes[i].first_child = k;
		k += count[i];
	}
	for (size_t i = 0; i < p->n; i++)
		if (par[i] != (size_t)-2 && par[i] != (size_t)-1) {
			struct dash_node *pn = &p->nodes[par[i]];
			p->kids[pn->first_child + pn->nchildren++] = i;
		}
	/* nodes under an archived node (absent here) are never reached from a root */
	dash_rollup(p);
	rp->fiches = p->all.fiches;
	rp->tracked = p->all.tracked;
	memcpy(rp->levels, p->all.levels, sizeof rp->levels);
	memcpy(rp->statuses, p->all.statuses, sizeof rp->statuses);
	percentages(rp);
	free(count);
	free(par);
	free(p->kids);
	free(p->roots);
	p->kids = p->roots = NULL;
	p->nroots = 0;
}

int rollup_compute(struct db *db, struct req *r, struct rollup *out)
{
	memset(out, 0, sizeof *out);
	int64_t t0 = time_mono_us();
	struct db_stmt *st =
	    r ? db_prepare(db, "SELECT p.id, p.title, p.kind FROM plans p WHERE " PLAN_VISIBLE_WHERE
	                       " ORDER BY p.id")
	      : db_prepare(db, "SELECT p.id, p.title, p.kind FROM plans p ORDER BY p.id");
	if (!st)
		return -1;
	if (r)
		plan_bind_visible(st, 1, r);
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			out->plans = xrealloc(out->plans, cap * sizeof *out->plans);
		}
		struct rollup_plan *rp = &out->plans[out->n++];
		memset(rp, 0, sizeof *rp);
		rp->id = db_col_int64(st, 0);
		rp->title = xstrdup(db_col_text(st, 1));
		rp->kind = xstrdup(db_col_text(st, 2));
		percentages(rp);
	}
	db_finalize(st);

	/* every live node of every plan, grouped by plan, by id within a plan */
	st = db_prepare(db, "SELECT n.plan_id, n.id, n.parent_id, f.status, f.progress "
	                    "FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id "
	                    "WHERE n.archived = 0 ORDER BY n.plan_id, n.id");
	if (!st) {
		rollup_free(out);
		return -1;
	}
	struct dash_plan p;
	memset(&p, 0, sizeof p);
	size_t ncap = 0;
	int64_t *parents = NULL;
	struct rollup_plan *cur = NULL;
	int64_t cur_id = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		int64_t pid = db_col_int64(st, 0);
		if (pid != cur_id) {
			if (cur)
				finish_plan(&p, cur, parents);
			p.n = 0;
			cur_id = pid;
			cur = plan_find(out, pid);
		}
		if (!cur)
			continue; /* a plan the request may not see */
		if (p.n == ncap) {
			ncap = ncap ? ncap * 2 : 1024;
			p.nodes = xrealloc(p.nodes, ncap * sizeof *p.nodes);
			parents = xrealloc(parents, ncap * sizeof *parents);
		}
		struct dash_node *nd = &p.nodes[p.n];
		memset(nd, 0, sizeof *nd);
		nd->id = db_col_int64(st, 1);
		parents[p.n] = db_col_is_null(st, 2) ? 0 : db_col_int64(st, 2);
		nd->parent = parents[p.n];
		if (!db_col_is_null(st, 3)) {
			/* as dash_plan_load reads a fiche */
			nd->is_fiche = 1;
			nd->status =
			    slug_index(dash_status_slug, DASH_NSTATUSES, db_col_text(st, 3));
			nd->level = slug_index(dash_level_slug, DASH_NLEVELS, db_col_text(st, 4));
			if (nd->status < 0)
				nd->status = DASH_S_PROPOSEE;
			if (nd->level < 0)
				nd->level = DASH_NON;
			nd->selected = 1;
		}
		p.n++;
	}
	if (cur)
		finish_plan(&p, cur, parents);
	db_finalize(st);
	free(p.nodes);
	free(parents);
	if (rc != DB_DONE) {
		rollup_free(out);
		return -1;
	}
	for (size_t i = 0; i < out->n; i++) {
		const struct rollup_plan *rp = &out->plans[i];
		out->all.fiches += rp->fiches;
		out->all.tracked += rp->tracked;
		for (int l = 0; l < DASH_NLEVELS; l++)
			out->all.levels[l] += rp->levels[l];
		for (int s = 0; s < DASH_NSTATUSES; s++)
			out->all.statuses[s] += rp->statuses[s];
	}
	percentages(&out->all);
	out->ms = (double)(time_mono_us() - t0) / 1e3;
	return 0;
}

static json_t *plan_json(const struct rollup_plan *rp)
{
	json_t *levels = json_object(), *statuses = json_object();
	for (int i = 0; i < DASH_NLEVELS; i++) {
		int l = dash_level_order[i];
		json_object_set_new(levels, dash_level_slug(l),
		                    rp->tracked ? json_pack("{s:i,s:i}", "count", rp->levels[l],
		                                            "percent", rp->percent[l])
		                                : json_pack("{s:i,s:n}", "count", 0, "percent"));
	}
	for (int s = 0; s < DASH_NSTATUSES; s++)
		json_object_set_new(statuses, dash_status_slug(s), json_integer(rp->statuses[s]));
	json_t *o = json_pack("{s:i,s:i,s:o,s:o}", "fiches", rp->fiches, "tracked", rp->tracked,
	                      "levels", levels, "statuses", statuses);
	if (rp->id) {
		json_object_set_new(o, "id", json_integer(rp->id));
		json_object_set_new(o, "title", json_string(rp->title));
		json_object_set_new(o, "kind", json_string(rp->kind));
	}
	return o;
}

static const char *const rule_text =
    "Règle du tableau de bord de chaque plan : fiches suivies = statut retenue, en cours ou "
    "achevée (proposées, ajournées et abandonnées hors pourcentages) ; niveau = avancement "
    "déclaré, une fiche achevée compte comme achevée ; fiches sous un élément archivé exclues ; "
    "pourcentages entiers par la méthode du plus fort reste.";

static json_t *rollup_json(const struct rollup *ru)
{
	json_t *plans = json_array();
	for (size_t i = 0; i < ru->n; i++)
		json_array_append_new(plans, plan_json(&ru->plans[i]));
	return json_pack("{s:s,s:i,s:o,s:o,s:f}", "rule", rule_text, "count", (int)ru->n, "overall",
	                 plan_json(&ru->all), "plans", plans, "elapsed_ms", ru->ms);
}

int rollup_cli(const char *url, const char *format)
{
	int json = 0;
	if (format && !strcmp(format, "json"))
		json = 1;
	else if (format && strcmp(format, "text") != 0) {
		fprintf(stderr, "maillage rollup : format inconnu « %s » (text ou json)\n", format);
		return 2;
	}
	char *err = NULL;
	struct db *db = db_open(url, &err);
	if (!db) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	if (db_migrate(db) != DB_OK) {
		fprintf(stderr, "maillage : la mise à jour du schéma a échoué\n");
		db_close(db);
		return 1;
	}
	struct rollup ru;
	int rc = rollup_compute(db, NULL, &ru);
	if (rc) {
		fprintf(stderr, "maillage rollup : lecture impossible : %s\n", db_errmsg(db));
		db_close(db);
		return 1;
	}
	db_close(db);
	if (json) {
		json_t *doc = rollup_json(&ru);
		json_dumpf(doc, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		printf("%8s  %-7s %7s %7s %9s %9s %9s %9s\n", "plan", "type", "fiches", "suivies",
		       "achevées", "bien", "peu", "non");
		for (size_t i = 0; i <= ru.n; i++) {
			const struct rollup_plan *rp = i < ru.n ? &ru.plans[i] : &ru.all;
			if (i == ru.n)
				printf("%8s  %-7s", "total", "");
			else
				printf("%8lld  %-7s", (long long)rp->id, rp->kind);
			printf(" %7d %7d", rp->fiches, rp->tracked);
			static const int cols[] = {DASH_ACHEVEE, DASH_BIEN, DASH_PEU, DASH_NON};
			for (int c = 0; c < 4; c++) {
				if (rp->tracked)
					printf(" %5d %2d%%", rp->levels[cols[c]],
					       rp->percent[cols[c]]);
				else
					printf(" %9s", "–");
			}
			printf("\n");
		}
		printf("%zu plans ; répartition calculée en %.0f ms.\n", ru.n, ru.ms);
	}
	rollup_free(&ru);
	return 0;
}

static void api_rollup(struct req *r)
{
	struct rollup ru;
	if (rollup_compute(r->db, r, &ru)) {
		resp_error(r, 500, "Lecture des plans impossible.");
		return;
	}
	json_t *doc = rollup_json(&ru);
	rollup_free(&ru);
	resp_json(r, 200, doc);
}

const struct route rollup_routes[] = {
    {M_GET, "/api/v1/rollup", ACC_PUBLIC, api_rollup,
     "Répartition de l'avancement de chaque plan visible (règle du tableau de bord)"},
    {0},
};
