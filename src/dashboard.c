/* dashboard: a plan's progress roll-up, indicators on track and recent changes; the dashboard
 * page and its JSON twin; the loaders the reports and the public portal share. */
#include "dashboard.h"

#include "db.h"
#include "http.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCT      "\xe2\x80\xaf%%" /* in a format string */
#define PCT_TEXT "\xe2\x80\xaf%"  /* in plain text */

/* --- levels and statuses ------------------------------------------------------------------ */

static const char *const level_slugs[DASH_NLEVELS] = {"non_engagee", "peu_engagee", "bien_engagee",
                                                      "achevee"};
static const char *const level_labels[DASH_NLEVELS] = {"Non engagée", "Peu engagée", "Bien engagée",
                                                       "Achevée"};
/* The same as plural adjectives after a percentage: "14 % achevées". */
static const char *const level_plurals[DASH_NLEVELS] = {"non engagées", "peu engagées",
                                                        "bien engagées", "achevées"};
static const char *const status_slugs[DASH_NSTATUSES] = {"proposee", "retenue",    "en_cours",
                                                         "achevee",  "abandonnee", "ajournee"};
static const char *const status_labels[DASH_NSTATUSES] = {"Proposée", "Retenue",    "En cours",
                                                          "Achevée",  "Abandonnée", "Ajournée"};

const int dash_level_order[DASH_NLEVELS] = {DASH_ACHEVEE, DASH_BIEN, DASH_PEU, DASH_NON};
const int dash_level_fills[DASH_NLEVELS] = {3, 2, 1, 0};

const char *dash_level_slug(int l)
{
	return l >= 0 && l < DASH_NLEVELS ? level_slugs[l] : "?";
}
const char *dash_level_label(int l)
{
	return l >= 0 && l < DASH_NLEVELS ? level_labels[l] : "?";
}
const char *dash_status_slug(int s)
{
	return s >= 0 && s < DASH_NSTATUSES ? status_slugs[s] : "?";
}
const char *dash_status_label(int s)
{
	return s >= 0 && s < DASH_NSTATUSES ? status_labels[s] : "?";
}

static int lookup(const char *const *list, int n, const char *v)
{
	for (int i = 0; v && i < n; i++)
		if (!strcmp(list[i], v))
			return i;
	return -1;
}

/* 1 when a fiche in this status is counted in the percentages. */
static int status_tracked(int s)
{
	return s == DASH_S_RETENUE || s == DASH_S_EN_COURS || s == DASH_S_ACHEVEE;
}

/* --- plan and tree -------------------------------------------------------------------------- */

void dash_plan_free(struct dash_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->nodes[i].number);
		free(p->nodes[i].title);
	}
	free(p->nodes);
	free(p->kids);
	free(p->roots);
	free(p->title);
	free(p->kind);
	for (int i = 0; i < 8; i++)
		free(p->levels[i]);
	memset(p, 0, sizeof *p);
}

size_t dash_node_index(const struct dash_plan *p, int64_t id)
{
	for (size_t lo = 0, hi = p->n; lo < hi;) {
		size_t mid = (lo + hi) / 2;
		if (p->nodes[mid].id == id)
			return mid;
		if (p->nodes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

static void walk_pre(struct dash_plan *p, const size_t *idx, size_t n, size_t *rank)
{
	for (size_t i = 0; i < n; i++) {
		struct dash_node *nd = &p->nodes[idx[i]];
		nd->pre = (*rank)++;
		nd->reachable = 1;
		walk_pre(p, p->kids + nd->first_child, nd->nchildren, rank);
	}
}

int dash_plan_load(struct db *db, int64_t plan_id, struct dash_plan *p)
{
	memset(p, 0, sizeof *p);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT title, kind, start_year, end_year, is_public "
	                               "FROM plans WHERE id = ?",
	                               "I", plan_id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return -1;
	}
	p->id = plan_id;
	p->title = xstrdup(db_col_text(st, 0));
	p->kind = xstrdup(db_col_text(st, 1));
	p->start_year = (int)db_col_int64(st, 2);
	p->end_year = (int)db_col_int64(st, 3);
	p->is_public = (int)db_col_int64(st, 4);
	db_finalize(st);

	st = db_queryf(db, "SELECT depth, name FROM plan_levels WHERE plan_id = ? ORDER BY depth",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		int d = (int)db_col_int64(st, 0);
		if (d >= 0 && d < 8 && !p->levels[d])
			p->levels[d] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);

	st = db_queryf(db,
	               "SELECT n.id, n.parent_id, n.depth, n.number, n.title, f.status, f.progress "
	               "FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id "
	               "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.id",
	               "I", plan_id);
	if (!st)
		return -1;
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (p->n == cap) {
			cap = cap ? cap * 2 : 64;
			p->nodes = xrealloc(p->nodes, cap * sizeof *p->nodes);
		}
		struct dash_node *nd = &p->nodes[p->n++];
		memset(nd, 0, sizeof *nd);
		nd->id = db_col_int64(st, 0);
		nd->parent = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		nd->depth = (int)db_col_int64(st, 2);
		nd->number = xstrdup(db_col_text(st, 3));
		nd->title = xstrdup(db_col_text(st, 4));
		if (!db_col_is_null(st, 5)) {
			nd->is_fiche = 1;
			nd->status = lookup(status_slugs, DASH_NSTATUSES, db_col_text(st, 5));
			nd->level = lookup(level_slugs, DASH_NLEVELS, db_col_text(st, 6));
			if (nd->status < 0)
				nd->status = DASH_S_PROPOSEE;
			if (nd->level < 0)
				nd->level = DASH_NON;
			nd->selected = 1;
		}
	}
	db_finalize(st);

	p->kids = xcalloc(p->n + 1, sizeof *p->kids);
	p->roots = xcalloc(p->n + 1, sizeof *p->roots);
	st = db_queryf(db,
	               "SELECT id, parent_id FROM nodes WHERE plan_id = ? AND archived = 0 "
	               "ORDER BY parent_id NULLS FIRST, position, id",
	               "I", plan_id);
	if (!st)
		return -1;
	size_t k = 0;
	while (db_step(st) == DB_ROW) {
		size_t i = dash_node_index(p, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		if (db_col_is_null(st, 1)) {
			p->roots[p->nroots++] = i;
			continue;
		}
		size_t par = dash_node_index(p, db_col_int64(st, 1));
		if (par == (size_t)-1)
			continue; /* under an archived node */
		if (p->nodes[par].nchildren == 0)
			p->nodes[par].first_child = k;
		p->nodes[par].nchildren++;
		p->kids[k++] = i;
	}
	db_finalize(st);
	size_t rank = 0;
	walk_pre(p, p->roots, p->nroots, &rank);
	for (size_t i = 0; i < p->n; i++)
		if (!p->nodes[i].reachable)
			p->nodes[i].selected = 0;
	return 0;
}

static void rollup_node(struct dash_plan *p, struct dash_node *nd)
{
	memset(nd->levels, 0, sizeof nd->levels);
	memset(nd->statuses, 0, sizeof nd->statuses);
	nd->tracked = nd->fiches = 0;
	if (nd->is_fiche && nd->selected) {
		nd->fiches = 1;
		nd->statuses[nd->status]++;
		if (status_tracked(nd->status)) {
			nd->levels[nd->status == DASH_S_ACHEVEE ? DASH_ACHEVEE : nd->level]++;
			nd->tracked = 1;
		}
	}
	for (size_t c = 0; c < nd->nchildren; c++) {
		struct dash_node *ch = &p->nodes[p->kids[nd->first_child + c]];
		rollup_node(p, ch);
		for (int l = 0; l < DASH_NLEVELS; l++)
			nd->levels[l] += ch->levels[l];
		for (int s = 0; s < DASH_NSTATUSES; s++)
			nd->statuses[s] += ch->statuses[s];
		nd->tracked += ch->tracked;
		nd->fiches += ch->fiches;
	}
}

void dash_rollup(struct dash_plan *p)
{
	struct dash_node *all = &p->all;
	memset(all, 0, sizeof *all);
	for (size_t i = 0; i < p->nroots; i++) {
		struct dash_node *nd = &p->nodes[p->roots[i]];
		rollup_node(p, nd);
		for (int l = 0; l < DASH_NLEVELS; l++)
			all->levels[l] += nd->levels[l];
		for (int s = 0; s < DASH_NSTATUSES; s++)
			all->statuses[s] += nd->statuses[s];
		all->tracked += nd->tracked;
		all->fiches += nd->fiches;
	}
}

/* --- filters ------------------------------------------------------------------------------- */

static void mark_subtree(struct dash_plan *p, size_t i, char *keep)
{
	keep[i] = 1;
	const struct dash_node *nd = &p->nodes[i];
	for (size_t c = 0; c < nd->nchildren; c++)
		mark_subtree(p, p->kids[nd->first_child + c], keep);
}

/* Mark (with their subtrees when `subtree`) the nodes whose ids the statement returns. */
static int keep_rows(struct dash_plan *p, struct db_stmt *st, char *keep, int subtree)
{
	if (!st)
		return -1;
	while (db_step(st) == DB_ROW) {
		size_t i = dash_node_index(p, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		if (subtree)
			mark_subtree(p, i, keep);
		else
			keep[i] = 1;
	}
	db_finalize(st);
	return 0;
}

/* Unselect the fiches not marked in keep. */
static void apply_keep(struct dash_plan *p, const char *keep)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->nodes[i].is_fiche && !keep[i])
			p->nodes[i].selected = 0;
}

int dash_filter_apply(struct db *db, struct dash_plan *p, const struct dash_filter *f)
{
	char *keep = xcalloc(p->n + 1, 1);
	int rc = 0;
	if (f->node) {
		size_t i = dash_node_index(p, f->node);
		memset(keep, 0, p->n + 1);
		if (i != (size_t)-1)
			mark_subtree(p, i, keep);
		apply_keep(p, keep);
	}
	if (f->tag && rc == 0) {
		memset(keep, 0, p->n + 1);
		rc = keep_rows(
		    p,
		    db_queryf(db,
		              "SELECT nt.node_id FROM node_tags nt JOIN nodes n "
		              "ON n.id = nt.node_id WHERE n.plan_id = ? AND nt.tag_id = ?",
		              "II", p->id, f->tag),
		    keep, 1);
		apply_keep(p, keep);
	}
	if (f->commune && rc == 0) {
		memset(keep, 0, p->n + 1);
		rc = keep_rows(
		    p,
		    db_queryf(db,
		              "SELECT fc.node_id FROM fiche_communes fc JOIN nodes n "
		              "ON n.id = fc.node_id WHERE n.plan_id = ? AND fc.commune = ?",
		              "Is", p->id, f->commune),
		    keep, 0);
		if (rc == 0)
			rc = keep_rows(
			    p,
			    db_queryf(
			        db,
			        "SELECT f.node_id FROM fiches f JOIN nodes n "
			        "ON n.id = f.node_id WHERE n.plan_id = ? AND NOT EXISTS "
			        "(SELECT 1 FROM fiche_communes fc WHERE fc.node_id = f.node_id) "
			        "AND EXISTS (SELECT 1 FROM plan_territory t JOIN communes c "
			        "ON c.code = ? WHERE t.plan_id = n.plan_id AND ("
			        "(t.scope = 'commune' AND t.code = c.code) OR "
			        "(t.scope = 'epci' AND t.code = c.epci) OR "
			        "(t.scope = 'departement' AND t.code = c.departement)))",
			        "Is", p->id, f->commune),
			    keep, 0);
		apply_keep(p, keep);
	}
	if (f->epci && rc == 0) {
		memset(keep, 0, p->n + 1);
		rc = keep_rows(
		    p,
		    db_queryf(db,
		              "SELECT fc.node_id FROM fiche_communes fc JOIN nodes n "
		              "ON n.id = fc.node_id JOIN communes c ON c.code = fc.commune "
		              "WHERE n.plan_id = ? AND c.epci = ?",
		              "Is", p->id, f->epci),
		    keep, 0);
		if (rc == 0)
			rc = keep_rows(
			    p,
			    db_queryf(
			        db,
			        "SELECT f.node_id FROM fiches f JOIN nodes n "
			        "ON n.id = f.node_id WHERE n.plan_id = ? AND NOT EXISTS "
			        "(SELECT 1 FROM fiche_communes fc WHERE fc.node_id = f.node_id) "
			        "AND EXISTS (SELECT 1 FROM plan_territory t JOIN communes c "
			        "ON c.epci = ? WHERE t.plan_id = n.plan_id AND ("
			        "(t.scope = 'commune' AND t.code = c.code) OR "
			        "(t.scope = 'epci' AND t.code = c.epci) OR "
			        "(t.scope = 'departement' AND t.code = c.departement)))",
			        "Is", p->id, f->epci),
			    keep, 0);
		apply_keep(p, keep);
	}
	if (f->pilot && rc == 0) {
		memset(keep, 0, p->n + 1);
		rc = keep_rows(
		    p,
		    db_queryf(db,
		              "SELECT fp.node_id FROM fiche_pilots fp JOIN nodes n "
		              "ON n.id = fp.node_id WHERE n.plan_id = ? AND fp.actor_id = ?",
		              "II", p->id, f->pilot),
		    keep, 0);
		apply_keep(p, keep);
	}
	if (f->domain && rc == 0) {
		memset(keep, 0, p->n + 1);
		rc = keep_rows(
		    p,
		    db_queryf(db,
		              "SELECT fi.node_id FROM fiche_impacts fi JOIN nodes n "
		              "ON n.id = fi.node_id WHERE n.plan_id = ? AND fi.domain = ?",
		              "Is", p->id, f->domain),
		    keep, 0);
		apply_keep(p, keep);
	}
	free(keep);
	return rc;
}

/* --- indicators ------------------------------------------------------------------------------ */

void dash_indicators_free(struct dash_indicator *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].unit);
		free(v[i].kind);
		free(v[i].direction);
		free(v[i].value_type);
		free(v[i].targets);
		for (size_t m = 0; m < v[i].nmeasures; m++)
			free(v[i].measures[m].text);
		free(v[i].measures);
	}
	free(v);
}

size_t dash_trajectory(const struct dash_indicator *ind, struct svg_point *out)
{
	size_t n = 0;
	if (ind->has_baseline && ind->baseline_day > -1e8)
		out[n++] = (struct svg_point){ind->baseline_day, ind->baseline};
	for (size_t t = 0; t < ind->ntargets; t++) {
		char iso[16];
		snprintf(iso, sizeof iso, "%04d-12-31", ind->targets[t].year);
		out[n++] = (struct svg_point){svg_days_from_iso(iso), ind->targets[t].value};
	}
	/* by date (the baseline may come after a target in odd data) */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j - 1].x > out[j].x; j--) {
			struct svg_point tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

void dash_indicator_rate(struct dash_indicator *ind)
{
	ind->track = DASH_UNRATED;
	ind->expected = NAN;
	if (ind->value_type && !strcmp(ind->value_type, "qualitative"))
		return;
	if (!ind->ntargets)
		return;
	const struct dash_measure *last = NULL;
	for (size_t m = 0; m < ind->nmeasures; m++)
		if (ind->measures[m].has_value)
			last = &ind->measures[m];
	if (!last)
		return;
	struct svg_point *pts = xcalloc(ind->ntargets + 1, sizeof *pts);
	size_t n = dash_trajectory(ind, pts);
	double d = last->day, e;
	if (d <= pts[0].x)
		e = pts[0].y;
	else if (d >= pts[n - 1].x)
		e = pts[n - 1].y;
	else {
		e = pts[n - 1].y;
		for (size_t i = 1; i < n; i++)
			if (d <= pts[i].x) {
				double span = pts[i].x - pts[i - 1].x;
				e = span > 0 ? pts[i - 1].y + (pts[i].y - pts[i - 1].y) *
				                                  (d - pts[i - 1].x) / span
				             : pts[i].y;
				break;
			}
	}
	free(pts);
	ind->expected = e;
	int down = ind->direction && !strcmp(ind->direction, "down");
	double eps = 1e-9 * fmax(1, fabs(e));
	ind->track =
	    (down ? last->value <= e + eps : last->value >= e - eps) ? DASH_ON_TRACK : DASH_LATE;
}

static int ind_by_id(const void *a, const void *b)
{
	int64_t x = ((const struct dash_indicator *)a)->id;
	int64_t y = ((const struct dash_indicator *)b)->id;
	return (x > y) - (x < y);
}

static struct dash_indicator *ind_find(struct dash_indicator *v, size_t n, int64_t id)
{
	struct dash_indicator key = {.id = id};
	return bsearch(&key, v, n, sizeof *v, ind_by_id);
}

/* An indicator with the tree rank of its fiche, for sorting in tree order. */
struct ind_rank {
	size_t rank;
	struct dash_indicator ind;
};

static int by_rank(const void *a, const void *b)
{
	const struct ind_rank *x = a, *y = b;
	if (x->rank != y->rank)
		return (x->rank > y->rank) - (x->rank < y->rank);
	return (x->ind.id > y->ind.id) - (x->ind.id < y->ind.id);
}

size_t dash_indicators_load(struct db *db, const struct dash_plan *p, double up_to_day,
                            struct dash_indicator **out)
{
	*out = NULL;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT fi.id, fi.node_id, i.name, i.unit, i.kind, i.direction, i.value_type, "
	    "fi.baseline_value, fi.baseline_date FROM fiche_indicators fi "
	    "JOIN indicators i ON i.id = fi.indicator_id JOIN nodes n ON n.id = fi.node_id "
	    "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY fi.id",
	    "I", p->id);
	if (!st)
		return 0;
	struct dash_indicator *v = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		size_t ni = dash_node_index(p, db_col_int64(st, 1));
		if (ni == (size_t)-1 || !p->nodes[ni].selected)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof *v);
		}
		struct dash_indicator *d = &v[n++];
		memset(d, 0, sizeof *d);
		d->id = db_col_int64(st, 0);
		d->node_id = db_col_int64(st, 1);
		d->name = xstrdup(db_col_text(st, 2));
		d->unit = xstrdup(db_col_text(st, 3) ? db_col_text(st, 3) : "");
		d->kind = xstrdup(db_col_text(st, 4));
		d->direction = xstrdup(db_col_text(st, 5));
		d->value_type = xstrdup(db_col_text(st, 6));
		d->has_baseline = !db_col_is_null(st, 7);
		d->baseline = db_col_double(st, 7);
		d->baseline_day = svg_days_from_iso(db_col_text(st, 8));
	}
	db_finalize(st);
	if (!n) {
		free(v);
		return 0;
	}
	/* IN (…) rather than joins: SQLite then walks the indexes in order, without sorting */
	st = db_queryf(db,
	               "SELECT t.fiche_indicator_id, t.year, t.value FROM indicator_targets t "
	               "WHERE t.fiche_indicator_id IN (SELECT fi.id FROM fiche_indicators fi "
	               "JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = ?) "
	               "ORDER BY t.fiche_indicator_id, t.year",
	               "I", p->id);
	while (st && db_step(st) == DB_ROW) {
		struct dash_indicator *d = ind_find(v, n, db_col_int64(st, 0));
		if (!d)
			continue;
		d->targets = xrealloc(d->targets, (d->ntargets + 1) * sizeof *d->targets);
		d->targets[d->ntargets++] =
		    (struct dash_target){(int)db_col_int64(st, 1), db_col_double(st, 2)};
	}
	db_finalize(st);
	st = db_queryf(
	    db,
	    "SELECT m.fiche_indicator_id, m.measured_on, m.value, m.text_value "
	    "FROM measurements m WHERE m.fiche_indicator_id IN (SELECT fi.id "
	    "FROM fiche_indicators fi JOIN nodes n ON n.id = fi.node_id WHERE n.plan_id = ?) "
	    "ORDER BY m.fiche_indicator_id, m.measured_on",
	    "I", p->id);
	int64_t cur_id = -1;
	struct dash_indicator *d = NULL;
	size_t mcap = 0;
	while (st && db_step(st) == DB_ROW) {
		int64_t fid = db_col_int64(st, 0);
		if (fid != cur_id) {
			cur_id = fid;
			d = ind_find(v, n, fid);
			mcap = d ? d->nmeasures : 0;
		}
		if (!d)
			continue;
		double day = svg_days_from_iso(db_col_text(st, 1));
		if (day < -1e8 || (up_to_day > -1e8 && day > up_to_day))
			continue;
		if (d->nmeasures == mcap) {
			mcap = mcap ? mcap * 2 : 8;
			d->measures = xrealloc(d->measures, mcap * sizeof *d->measures);
		}
		struct dash_measure *m = &d->measures[d->nmeasures++];
		m->day = day;
		m->has_value = !db_col_is_null(st, 2);
		m->value = db_col_double(st, 2);
		m->text = db_col_text(st, 3) ? xstrdup(db_col_text(st, 3)) : NULL;
	}
	db_finalize(st);
	/* Rate, then put in tree order of the fiches. */
	struct ind_rank *r = xcalloc(n, sizeof *r);
	for (size_t i = 0; i < n; i++) {
		dash_indicator_rate(&v[i]);
		r[i].ind = v[i];
		r[i].rank = p->nodes[dash_node_index(p, v[i].node_id)].pre;
	}
	qsort(r, n, sizeof *r, by_rank);
	for (size_t i = 0; i < n; i++)
		v[i] = r[i].ind;
	free(r);
	*out = v;
	return n;
}

void dash_short(char out[160], const char *s, size_t max_chars)
{
	size_t chars = 0, i = 0, cut = 0;
	if (max_chars > 50)
		max_chars = 50; /* 50 code points of at most 3 bytes fit out */
	for (; s && s[i]; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == max_chars - 1)
				cut = i;
			chars++;
		}
	if (chars <= max_chars) {
		snprintf(out, 160, "%s", s ? s : "");
		return;
	}
	snprintf(out, 160, "%.*s…", (int)cut, s);
}

/* --- shared rendering --------------------------------------------------------------------------
 */

void dash_rule_html(struct buf *o)
{
	buf_puts(o,
	         "<div class=\"panel rule\"><h3 id=\"regle\">Règle de calcul</h3><ul>"
	         "<li>Sont comptées les <strong>fiches suivies</strong> : fiches-actions au statut "
	         "<em>retenue</em>, <em>en cours</em> ou <em>achevée</em>. Les fiches "
	         "<em>proposées</em> (pas encore arbitrées), <em>ajournées</em> et "
	         "<em>abandonnées</em> sont comptées à part, hors pourcentages ; les propositions "
	         "refusées (archivées) ne sont pas comptées.</li>"
	         "<li>Le niveau d'une fiche suivie est l'avancement déclaré par son pilote ; une "
	         "fiche au statut <em>achevée</em> compte comme achevée.</li>"
	         "<li>La répartition d'un élément de l'arborescence compte les fiches suivies de "
	         "toute sa descendance (et lui-même s'il est une fiche). Les pourcentages sont "
	         "arrondis à l'unité par la méthode du plus fort reste, pour que leur somme fasse "
	         "100" PCT_TEXT ". Un élément sans fiche suivie n'a pas de pourcentage.</li>"
	         "<li>Les indicateurs n'interviennent pas dans ce calcul : une fiche sans "
	         "indicateur compte comme les autres.</li>"
	         "<li>Les filtres choisissent les fiches comptées. Une fiche sans commune précisée "
	         "couvre tout le territoire du plan.</li></ul></div>\n");
}

void dash_track_rule_html(struct buf *o)
{
	buf_puts(
	    o, "<p class=\"hint\">Un indicateur est <strong>dans la trajectoire</strong> quand sa "
	       "dernière valeur mesurée atteint la valeur attendue à sa date, dans le sens "
	       "souhaité (au moins autant si la hausse est visée, au plus autant si c'est la "
	       "baisse). La valeur attendue est interpolée entre la valeur de référence (à sa "
	       "date) et les cibles annuelles (au 31 décembre de leur année) ; avant le premier "
	       "point, c'est ce premier point, après la dernière cible, c'est cette cible. Les "
	       "indicateurs qualitatifs, sans cible ou sans mesure ne sont pas évalués.</p>\n");
}

void dash_progress_stats(struct buf *o, const struct dash_node *n)
{
	double c[DASH_NLEVELS];
	int pct[DASH_NLEVELS];
	for (int i = 0; i < DASH_NLEVELS; i++)
		c[i] = n->levels[dash_level_order[i]];
	svg_percentages(c, DASH_NLEVELS, pct);
	buf_puts(o, "<ul class=\"stats\">");
	html_printf(o,
	            "<li class=\"stat\"><span class=\"value\">%d</span><span class=\"label\">"
	            "fiche%R suivie%R</span></li>",
	            n->tracked, n->tracked > 1 ? "s" : "", n->tracked > 1 ? "s" : "");
	for (int i = 0; i < DASH_NLEVELS; i++) {
		int l = dash_level_order[i];
		if (n->tracked)
			html_printf(o,
			            "<li class=\"stat\"><span class=\"value\">%d" PCT "</span>"
			            "<span class=\"label\">%s (%d fiche%R)</span></li>",
			            pct[i], level_plurals[l], n->levels[l],
			            n->levels[l] > 1 ? "s" : "");
		else
			html_printf(o,
			            "<li class=\"stat\"><span class=\"value\">–</span>"
			            "<span class=\"label\">%s</span></li>",
			            level_plurals[l]);
	}
	buf_puts(o, "</ul>\n");
}

/* "1.2 Title" of a node, malloc'ed. */
static char *node_label(const struct dash_node *nd)
{
	return xasprintf("%s %s", nd->number, nd->title);
}

void dash_progress_figure(struct buf *o, const struct dash_plan *p, const struct dash_node *top,
                          const char *id, const char *title, int fold)
{
	const size_t *idx = top ? p->kids + top->first_child : p->roots;
	size_t nk = top ? top->nchildren : p->nroots;
	/* rows: the whole, then each child that is not a lone fiche of its own */
	size_t nrows = 1 + nk;
	char **rows = xcalloc(nrows, sizeof *rows);
	double *counts = xcalloc(nrows * DASH_NLEVELS, sizeof *counts);
	const struct dash_node *whole = top ? top : &p->all;
	rows[0] = top ? node_label(top) : xstrdup("Ensemble du plan");
	for (int l = 0; l < DASH_NLEVELS; l++)
		counts[l] = whole->levels[dash_level_order[l]];
	for (size_t i = 0; i < nk; i++) {
		const struct dash_node *ch = &p->nodes[idx[i]];
		rows[1 + i] = node_label(ch);
		for (int l = 0; l < DASH_NLEVELS; l++)
			counts[(1 + i) * DASH_NLEVELS + l] = ch->levels[dash_level_order[l]];
	}
	const char *segs[DASH_NLEVELS];
	for (int l = 0; l < DASH_NLEVELS; l++)
		segs[l] = level_labels[dash_level_order[l]];
	/* The description says the headline in words, for those who do not see the chart. */
	struct buf desc = {0};
	if (whole->tracked) {
		double c[DASH_NLEVELS];
		int pct[DASH_NLEVELS];
		for (int l = 0; l < DASH_NLEVELS; l++)
			c[l] = counts[l];
		svg_percentages(c, DASH_NLEVELS, pct);
		buf_printf(
		    &desc,
		    "Sur %d fiches suivies : %d %% achevées, %d %% bien engagées, %d %% peu "
		    "engagées, %d %% non engagées. Une barre par élément ; le tableau qui suit "
		    "donne les nombres.",
		    whole->tracked, pct[0], pct[1], pct[2], pct[3]);
	} else {
		buf_puts(&desc, "Aucune fiche suivie dans cette sélection.");
	}
	struct svg_stack c = {
	    .id = id,
	    .title = title,
	    .desc = buf_str(&desc),
	    .rows = (const char *const *)rows,
	    .nrows = nrows,
	    .segments = segs,
	    .nseg = DASH_NLEVELS,
	    .counts = counts,
	    .row_head = "Élément",
	    .total_unit = "fiches suivies",
	    .empty_text = "aucune fiche suivie",
	    .fills = dash_level_fills,
	};
	svg_figure_stack(o, &c, fold);
	buf_free(&desc);
	for (size_t i = 0; i < nrows; i++)
		free(rows[i]);
	free(rows);
	free(counts);
}

static const char *unit_of(const struct dash_indicator *ind)
{
	return ind->unit && *ind->unit ? ind->unit : NULL;
}

void dash_indicator_figure(struct buf *o, const struct dash_indicator *ind, const char *id,
                           const char *fiche_label, int fold)
{
	struct svg_point *pts = xcalloc(ind->nmeasures + 1, sizeof *pts);
	size_t np = 0;
	for (size_t m = 0; m < ind->nmeasures; m++)
		if (ind->measures[m].has_value)
			pts[np++] =
			    (struct svg_point){ind->measures[m].day, ind->measures[m].value};
	struct svg_point *traj = xcalloc(ind->ntargets + 1, sizeof *traj);
	size_t nt = dash_trajectory(ind, traj);
	struct svg_series s = {"Valeurs mesurées", pts, np};
	char *title = xasprintf("%s — %s", ind->name, fiche_label);
	struct buf desc = {0};
	char num[48], exp[48];
	if (np) {
		svg_number(num, pts[np - 1].y, 1);
		svg_date_fr(exp, pts[np - 1].x);
		buf_printf(&desc, "%zu mesure%s ; dernière valeur %s%s%s le %s", np,
		           np > 1 ? "s" : "", num, unit_of(ind) ? " " : "",
		           unit_of(ind) ? unit_of(ind) : "", exp);
		if (ind->track != DASH_UNRATED) {
			svg_number(exp, ind->expected, 1);
			buf_printf(&desc, ", pour %s attendu%s : %s.", exp,
			           ind->direction && !strcmp(ind->direction, "down")
			               ? " au plus (baisse visée)"
			               : " au moins",
			           ind->track == DASH_ON_TRACK ? "dans la trajectoire"
			                                       : "en retard sur la trajectoire");
		} else {
			buf_puts(&desc, " ; pas de cible pour l'évaluer.");
		}
	} else {
		buf_puts(&desc, "Aucune mesure chiffrée.");
	}
	buf_puts(&desc, " Ligne pointillée : trajectoire de la référence aux cibles ; zone "
	                "hachurée : zone visée.");
	struct svg_line c = {
	    .id = id,
	    .title = title,
	    .desc = buf_str(&desc),
	    .series = &s,
	    .nseries = 1,
	    .target = traj,
	    .ntarget = nt,
	    .band_dir = ind->direction && !strcmp(ind->direction, "down") ? -1 : 1,
	    .unit = unit_of(ind),
	    .decimals = 1,
	};
	svg_figure_line(o, &c, fold);
	buf_free(&desc);
	free(title);
	free(pts);
	free(traj);
}

/* --- what changed ------------------------------------------------------------------------------
 */

void dash_last_copil(struct db *db, int64_t plan_id, char out[16])
{
	char today[16];
	fiche_today(today);
	out[0] = '\0';
	struct db_stmt *st = db_queryf(db,
	                               "SELECT MAX(copil_date) FROM proposals WHERE plan_id = ? "
	                               "AND copil_date IS NOT NULL AND copil_date <= ?",
	                               "Is", plan_id, today);
	if (st && db_step(st) == DB_ROW && db_col_text(st, 0))
		snprintf(out, 16, "%.10s", db_col_text(st, 0));
	db_finalize(st);
}

/* The most changes written on a page (a COPIL reads no more; the period can be shortened). */
#define DASH_CHANGES_MAX 150

struct change {
	size_t node; /* index in the plan, or (size_t)-1 for the plan itself */
	size_t rank; /* tree order */
	int64_t seq; /* audit id */
	char *html;  /* the line, already escaped */
};

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	if (x->rank != y->rank)
		return (x->rank > y->rank) - (x->rank < y->rank);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* A label with its first letter lower-cased (ASCII letters only: "Peu engagée" → "peu…"). */
static void lower_first(struct buf *o, const char *s)
{
	if (s && *s && isupper((unsigned char)*s)) {
		char c = (char)tolower((unsigned char)*s);
		html_printf(o, "%s", (char[2]){c, 0});
		s++;
	}
	html_printf(o, "%s", s);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Compare a field of before/after; 1 when it changed. */
static int changed(json_t *b, json_t *a, const char *k)
{
	json_t *x = json_object_get(b, k), *y = json_object_get(a, k);
	if (!x && !y)
		return 0;
	if (!x || !y)
		return 1;
	return !json_equal(x, y);
}

static void sep(struct buf *o, int *n)
{
	if ((*n)++)
		buf_puts(o, " ; ");
}

/* The items of array `k` in a but not in b, comma-separated; 0 when none. */
static int list_added(struct buf *o, json_t *b, json_t *a, const char *k)
{
	json_t *xa = json_object_get(a, k), *xb = json_object_get(b, k);
	size_t i, j;
	json_t *v, *w;
	int n = 0;
	json_array_foreach(xa, i, v)
	{
		int found = 0;
		json_array_foreach(xb, j, w)
		{
			if (json_equal(v, w))
				found = 1;
		}
		if (!found && json_is_string(v)) {
			html_printf(o, "%R%s", n++ ? ", " : "", json_string_value(v));
		}
	}
	return n;
}

/* The readable text of a fiche or node update (before → after), into o. */
static void describe_update(struct buf *o, json_t *b, json_t *a, int is_fiche, int public_view)
{
	int n = 0;
	if (changed(b, a, "title")) {
		sep(o, &n);
		html_printf(o, "Intitulé : « %s » → « %s »", jstr(b, "title"), jstr(a, "title"));
	}
	if (is_fiche && changed(b, a, "status")) {
		sep(o, &n);
		buf_puts(o, "Statut : ");
		lower_first(o, fiche_status_label(jstr(b, "status")));
		buf_puts(o, " → ");
		lower_first(o, fiche_status_label(jstr(a, "status")));
	}
	if (is_fiche && changed(b, a, "progress")) {
		sep(o, &n);
		buf_puts(o, "Avancement : ");
		lower_first(o, fiche_progress_label(jstr(b, "progress")));
		buf_puts(o, " → ");
		lower_first(o, fiche_progress_label(jstr(a, "progress")));
	}
	static const struct {
		const char *key, *label;
	} dates[] = {{"start_date", "Début"}, {"end_date", "Fin"}};
	for (size_t i = 0; is_fiche && i < 2; i++)
		if (changed(b, a, dates[i].key)) {
			char x[64], y[64];
			fiche_date_fr(x, jstr(b, dates[i].key));
			fiche_date_fr(y, jstr(a, dates[i].key));
			sep(o, &n);
			html_printf(o, "%s : %s → %s", dates[i].label, *x ? x : "non précisé",
			            *y ? y : "non précisé");
		}
	static const struct {
		const char *key, *text;
	} texts[] = {{"description", "Description modifiée"},
	             {"expected_results", "Résultats attendus modifiés"},
	             {"human_means", "Moyens humains modifiés"},
	             {"closing_note", "Note de clôture modifiée"},
	             {"publics", "Publics modifiés"},
	             {"communes", "Communes modifiées"},
	             {"impact_domains", "Domaines d'impact modifiés"},
	             {"budget_lines", "Budget modifié"},
	             {"links", "Liens modifiés"}};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if ((is_fiche || i == 0) && changed(b, a, texts[i].key)) {
			sep(o, &n);
			html_printf(o, "%s", texts[i].text);
		}
	if (is_fiche && changed(b, a, "partners")) {
		sep(o, &n);
		size_t mark = o->len;
		buf_puts(o, "Partenaires ajoutés : ");
		if (!list_added(o, b, a, "partners")) {
			o->len = mark;
			o->data[mark] = '\0';
			buf_puts(o, "Partenaires modifiés");
		}
	}
	if (is_fiche && changed(b, a, "pilots")) {
		sep(o, &n);
		/* Pilots mix people and structures: names only for members. */
		size_t mark = o->len;
		buf_puts(o, "Pilotes ajoutés : ");
		if (public_view || !list_added(o, b, a, "pilots")) {
			o->len = mark;
			o->data[mark] = '\0';
			buf_puts(o, "Pilotes modifiés");
		}
	}
	if (!n)
		buf_puts(o, "Modification");
}

/* The node a non-node audit entry belongs to, from its JSON or its table; 0 when unknown. */
static int64_t entry_node(struct db *db, const char *entity, const char *entity_id, json_t *b,
                          json_t *a)
{
	static const char *const keys[] = {"node_id", "fiche_id", "fiche"};
	for (int k = 0; k < 3; k++) {
		json_t *v = json_object_get(a ? a : b, keys[k]);
		if (!v && a && b)
			v = json_object_get(b, keys[k]);
		if (json_is_integer(v))
			return json_integer_value(v);
	}
	int64_t eid = 0, node = 0;
	json_t *fi = json_object_get(a ? a : b, "fiche_indicator_id");
	if (json_is_integer(fi)) {
		db_int64f(db, &node, "SELECT node_id FROM fiche_indicators WHERE id = ?", "I",
		          (int64_t)json_integer_value(fi));
		return node;
	}
	if (!entity_id || parse_int64(entity_id, &eid))
		return 0;
	if (!strcmp(entity, "comment"))
		db_int64f(db, &node, "SELECT node_id FROM comments WHERE id = ?", "I", eid);
	else if (!strcmp(entity, "proposal"))
		db_int64f(db, &node, "SELECT node_id FROM proposals WHERE id = ?", "I", eid);
	else if (!strcmp(entity, "fiche_indicator"))
		db_int64f(db, &node, "SELECT node_id FROM fiche_indicators WHERE id = ?", "I", eid);
	else if (strstr(entity, "measure"))
		db_int64f(db, &node,
		          "SELECT fi.node_id FROM measurements m JOIN fiche_indicators fi "
		          "ON fi.id = m.fiche_indicator_id WHERE m.id = ?",
		          "I", eid);
	return node;
}

/* A measurement entry: "Mesure : 12 familles au 31 mars 2025". */
static void describe_measure(struct buf *o, const char *action, json_t *b, json_t *a)
{
	json_t *j = a ? a : b;
	const char *what = !strcmp(action, "delete") ? "Mesure supprimée"
	                   : !strcmp(action, "create") || !strcmp(action, "import")
	                       ? "Mesure saisie"
	                       : "Mesure modifiée";
	html_printf(o, "%s", what);
	const char *name = jstr(j, "indicator");
	if (!name)
		name = jstr(j, "indicator_name");
	if (name)
		html_printf(o, " (%s)", name);
	json_t *v = json_object_get(j, "value");
	if (json_is_number(v)) {
		char num[48];
		svg_number(num, json_number_value(v), 2);
		/* drop useless decimals: "12,00" → "12" */
		size_t l = strlen(num);
		if (l > 3 && !strcmp(num + l - 3, ",00"))
			num[l - 3] = '\0';
		html_printf(o, " : %s", num);
	} else if (jstr(j, "text_value")) {
		html_printf(o, " : « %s »", jstr(j, "text_value"));
	}
	if (jstr(j, "measured_on")) {
		char d[64];
		fiche_date_fr(d, jstr(j, "measured_on"));
		html_printf(o, " au %s", d);
	}
}

static void describe_proposal(struct buf *o, const char *action, json_t *b, json_t *a)
{
	int n = 0;
	if (changed(b, a, "cotech_opinion") && jstr(a, "cotech_opinion")) {
		sep(o, &n);
		html_printf(o, "Avis du COTECH : %s", jstr(a, "cotech_opinion"));
	}
	if (changed(b, a, "copil_decision") && jstr(a, "copil_decision")) {
		sep(o, &n);
		html_printf(o, "Décision du COPIL : %s", jstr(a, "copil_decision"));
	}
	if (!n)
		html_printf(o, "%s",
		            !strcmp(action, "create")   ? "Proposition déposée"
		            : !strcmp(action, "delete") ? "Proposition retirée"
		                                        : "Proposition modifiée");
}

size_t dash_changes_html(struct buf *o, struct db *db, const struct dash_plan *p, const char *from,
                         const char *to, int public_view)
{
	char upper[16];
	svg_iso_from_days(upper, svg_days_from_iso(to) + 1);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT a.id, a.at, a.action, a.entity, a.entity_id, a.before_json, a.after_json, "
	    "u.name, a.origin FROM audit_log a LEFT JOIN users u ON u.id = a.user_id "
	    "WHERE a.plan_id = ? AND a.at >= ? AND a.at < ? "
	    "AND a.entity NOT IN ('user', 'session') ORDER BY a.at DESC, a.id DESC",
	    "Iss", p->id, from, upper);
	if (!st)
		return 0;
	struct change *v = NULL;
	size_t n = 0, cap = 0;
	char pid[32];
	snprintf(pid, sizeof pid, "%lld", (long long)p->id);
	size_t more = 0; /* changes past DASH_CHANGES_MAX, counted but not written */
	while (db_step(st) == DB_ROW) {
		const char *action = db_col_text(st, 2), *entity = db_col_text(st, 3);
		const char *eid = db_col_text(st, 4);
		if (n >= DASH_CHANGES_MAX) {
			/* the most recent ones are kept; count the others of this plan cheaply */
			int64_t id;
			size_t k;
			if ((!strcmp(entity, "fiche") || !strcmp(entity, "node")) && eid &&
			    !parse_int64(eid, &id) && (k = dash_node_index(p, id)) != (size_t)-1 &&
			    p->nodes[k].reachable &&
			    (!p->nodes[k].is_fiche || p->nodes[k].selected))
				more++;
			continue;
		}
		if (public_view && (!strcmp(entity, "comment") || !strcmp(entity, "member") ||
		                    !strcmp(entity, "invitation")))
			continue;
		int is_plan = !strcmp(entity, "plan");
		if (is_plan && (!eid || strcmp(eid, pid) != 0))
			continue;
		json_t *b = db_col_text(st, 5) ? json_loads(db_col_text(st, 5), 0, NULL) : NULL;
		json_t *a = db_col_text(st, 6) ? json_loads(db_col_text(st, 6), 0, NULL) : NULL;
		size_t ni = (size_t)-1;
		int64_t node = 0;
		if (!is_plan) {
			if (!strcmp(entity, "fiche") || !strcmp(entity, "node"))
				parse_int64(eid ? eid : "", &node);
			else
				node = entry_node(db, entity, eid, b, a);
			ni = node ? dash_node_index(p, node) : (size_t)-1;
			/* not this plan's, archived, or a fiche the filters leave out */
			if (ni == (size_t)-1 || !p->nodes[ni].reachable ||
			    (p->nodes[ni].is_fiche && !p->nodes[ni].selected)) {
				json_decref(a);
				json_decref(b);
				continue;
			}
		}
		struct buf line = {0};
		int fiche_entity = !strcmp(entity, "fiche");
		if (is_plan) {
			html_printf(&line, "%s",
			            !strcmp(action, "create") ? "Plan créé" : "Plan modifié");
		} else if (fiche_entity || !strcmp(entity, "node")) {
			if (!strcmp(action, "create"))
				html_printf(&line, "%s",
				            fiche_entity ? "Fiche créée" : "Élément créé");
			else if (!strcmp(action, "delete"))
				html_printf(&line, "%s",
				            fiche_entity ? "Fiche supprimée" : "Élément supprimé");
			else
				describe_update(&line, b, a, fiche_entity, public_view);
		} else if (!strcmp(entity, "comment")) {
			html_printf(&line, "%s",
			            !strcmp(action, "create")   ? "Commentaire ajouté"
			            : !strcmp(action, "delete") ? "Commentaire supprimé"
			                                        : "Commentaire modifié");
		} else if (!strcmp(entity, "proposal")) {
			describe_proposal(&line, action, b, a);
		} else if (strstr(entity, "measure")) {
			describe_measure(&line, action, b, a);
		} else if (strstr(entity, "indicator") || strstr(entity, "target")) {
			html_printf(&line, "%s",
			            !strcmp(action, "create")   ? "Indicateur ajouté"
			            : !strcmp(action, "delete") ? "Indicateur retiré"
			                                        : "Indicateur modifié");
		} else {
			html_printf(&line, "Modification (%s)", entity);
		}
		const char *who = db_col_text(st, 7);
		const char *origin = db_col_text(st, 8);
		if (!public_view && who)
			html_printf(&line, ", par %s", who);
		else if (!public_view && origin && !strcmp(origin, "cli"))
			buf_puts(&line, ", en ligne de commande");
		char day[64];
		fiche_date_fr(day, db_col_text(st, 1));
		html_printf(&line, ", le %s", day);
		json_decref(a);
		json_decref(b);
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = (struct change){ni, ni == (size_t)-1 ? 0 : p->nodes[ni].pre + 1,
		                         db_col_int64(st, 0), buf_steal(&line)};
	}
	db_finalize(st);
	if (n)
		qsort(v, n, sizeof *v, change_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || v[i].node != v[i - 1].node) {
			if (i)
				buf_puts(o, "</ul></li>");
			else
				buf_puts(o, "<ul class=\"changes\">");
			if (v[i].node == (size_t)-1) {
				buf_puts(o, "<li><h3>Le plan</h3><ul>");
			} else {
				const struct dash_node *nd = &p->nodes[v[i].node];
				html_printf(o, "<li><h3><a href=\"/%s/%lld\">%s %s</a></h3><ul>",
				            nd->is_fiche ? "fiches" : "noeuds", (long long)nd->id,
				            nd->number, nd->title);
			}
		}
		html_printf(o, "<li>%R</li>", v[i].html);
	}
	if (n)
		buf_puts(o, "</ul></li></ul>\n");
	if (more)
		html_printf(
		    o,
		    "<p class=\"notice notice-warning\">Seuls les %d changements les plus récents "
		    "sont montrés ; %zu autres changements de fiches ont eu lieu sur cette "
		    "période : choisissez une période plus courte pour les voir.</p>\n",
		    DASH_CHANGES_MAX, more);
	for (size_t i = 0; i < n; i++)
		free(v[i].html);
	free(v);
	return n + more;
}

/* --- the dashboard page ------------------------------------------------------------------------
 */

/* The dashboard's query, as typed, and what it means once checked. */
struct dash_form {
	const char *noeud, *tag, *territoire, *pilote, *domaine, *du, *au, *indicateurs;
	struct dash_filter f;
	char epci_or_commune[40];
	char from[16], to[16];
	const char *error; /* a French message when a value was refused */
};

static const char *q_or_empty(struct req *r, const char *k)
{
	const char *v = req_query(r, k);
	return v ? v : "";
}

/* Read and check the filters and dates; a refused value is dropped and explained. */
static void form_read(struct req *r, const struct dash_plan *p, struct dash_form *fm)
{
	memset(fm, 0, sizeof *fm);
	fm->noeud = q_or_empty(r, "noeud");
	fm->tag = q_or_empty(r, "tag");
	fm->territoire = q_or_empty(r, "territoire");
	fm->pilote = q_or_empty(r, "pilote");
	fm->domaine = q_or_empty(r, "domaine");
	fm->du = q_or_empty(r, "du");
	fm->au = q_or_empty(r, "au");
	fm->indicateurs = q_or_empty(r, "indicateurs");
	int64_t id;
	if (*fm->noeud) {
		size_t i;
		if (parse_int64(fm->noeud, &id) || (i = dash_node_index(p, id)) == (size_t)-1 ||
		    !p->nodes[i].reachable) {
			fm->error = "L'élément choisi n'existe pas dans ce plan : filtre ignoré.";
			fm->noeud = "";
		} else {
			fm->f.node = id;
		}
	}
	if (*fm->tag) {
		int64_t used = 0;
		if (parse_int64(fm->tag, &id) ||
		    db_int64f(r->db, &used,
		              "SELECT COUNT(*) FROM node_tags nt JOIN nodes n ON n.id = nt.node_id "
		              "WHERE n.plan_id = ? AND nt.tag_id = ?",
		              "II", p->id, id) != DB_OK ||
		    !used) {
			fm->error =
			    "La thématique choisie n'est pas utilisée dans ce plan : filtre "
			    "ignoré.";
			fm->tag = "";
		} else {
			fm->f.tag = id;
		}
	}
	if (*fm->territoire) {
		const char *t = fm->territoire;
		int64_t known = 0;
		int is_commune = !strncmp(t, "commune:", 8), is_epci = !strncmp(t, "epci:", 5);
		const char *code = is_commune ? t + 8 : is_epci ? t + 5 : "";
		if (strlen(code) > 0 && strlen(code) < 20)
			db_int64f(r->db, &known,
			          is_commune ? "SELECT COUNT(*) FROM communes WHERE code = ?"
			                     : "SELECT COUNT(*) FROM epcis WHERE code = ?",
			          "s", code);
		if (!known) {
			fm->error = "Le territoire choisi est inconnu : filtre ignoré.";
			fm->territoire = "";
		} else {
			snprintf(fm->epci_or_commune, sizeof fm->epci_or_commune, "%s", code);
			if (is_commune)
				fm->f.commune = fm->epci_or_commune;
			else
				fm->f.epci = fm->epci_or_commune;
		}
	}
	if (*fm->pilote) {
		if (parse_int64(fm->pilote, &id) || id <= 0) {
			fm->error = "La structure pilote choisie est inconnue : filtre ignoré.";
			fm->pilote = "";
		} else {
			fm->f.pilot = id;
		}
	}
	if (*fm->domaine) {
		int64_t known = 0;
		if (strlen(fm->domaine) > 64 ||
		    db_int64f(r->db, &known, "SELECT COUNT(*) FROM impact_domains WHERE slug = ?",
		              "s", fm->domaine) != DB_OK ||
		    !known) {
			fm->error = "Le domaine d'impact choisi est inconnu : filtre ignoré.";
			fm->domaine = "";
		} else {
			fm->f.domain = fm->domaine;
		}
	}
	/* Dates of "what changed": from the last COPIL (or three months ago) to today. */
	char today[16];
	fiche_today(today);
	snprintf(fm->to, sizeof fm->to, "%s", today);
	dash_last_copil(r->db, p->id, fm->from);
	if (!*fm->from)
		svg_iso_from_days(fm->from, svg_days_from_iso(today) - 91);
	if (*fm->du) {
		if (fiche_date_valid(fm->du))
			snprintf(fm->from, sizeof fm->from, "%s", fm->du);
		else
			fm->error = "La date de début n'est pas une date valide (AAAA-MM-JJ).";
	}
	if (*fm->au) {
		if (fiche_date_valid(fm->au))
			snprintf(fm->to, sizeof fm->to, "%s", fm->au);
		else
			fm->error = "La date de fin n'est pas une date valide (AAAA-MM-JJ).";
	}
	if (strcmp(fm->from, fm->to) > 0) {
		fm->error = "La date de début est après la date de fin : elles ont été inversées.";
		char tmp[16];
		memcpy(tmp, fm->from, 16);
		memcpy(fm->from, fm->to, 16);
		memcpy(fm->to, tmp, 16);
	}
}

/* The filters as a query string ("noeud=3&tag=…"), without `skip`, for links. */
static void form_query(struct buf *q, const struct dash_form *fm, int with_dates)
{
	const struct {
		const char *k, *v;
	} kv[] = {{"noeud", fm->noeud},
	          {"tag", fm->tag},
	          {"territoire", fm->territoire},
	          {"pilote", fm->pilote},
	          {"domaine", fm->domaine},
	          {"du", with_dates ? fm->du : ""},
	          {"au", with_dates ? fm->au : ""}};
	for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
		if (kv[i].v && *kv[i].v) {
			buf_puts(q, q->len ? "&" : "");
			buf_puts(q, kv[i].k);
			buf_putc(q, '=');
			buf_url(q, kv[i].v);
		}
}

/* Hidden inputs carrying the filters (for the dates form) or the dates (for the filters). */
static void form_hidden(struct buf *o, const struct dash_form *fm, int filters)
{
	const struct {
		const char *k, *v;
	} kv[] = {{"noeud", filters ? fm->noeud : ""},
	          {"tag", filters ? fm->tag : ""},
	          {"territoire", filters ? fm->territoire : ""},
	          {"pilote", filters ? fm->pilote : ""},
	          {"domaine", filters ? fm->domaine : ""},
	          {"du", filters ? "" : fm->du},
	          {"au", filters ? "" : fm->au}};
	for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
		if (kv[i].v && *kv[i].v)
			html_printf(o, "<input type=\"hidden\" name=\"%s\" value=\"%s\">", kv[i].k,
			            kv[i].v);
}

static void option(struct buf *o, const char *value, const char *current, const char *label)
{
	html_printf(o, "<option value=\"%s\"%R>%s</option>", value,
	            current && !strcmp(value, current) ? " selected" : "", label);
}

static void select_open(struct buf *o, const char *id, const char *label, const char *any)
{
	html_printf(o,
	            "<div class=\"field\"><label for=\"f-%s\">%s</label><select id=\"f-%s\" "
	            "name=\"%s\"><option value=\"\">%s</option>",
	            id, label, id, id, any);
}

static void filters_form(struct req *r, const struct dash_plan *p, const struct dash_form *fm)
{
	struct buf *o = &r->out;
	/* Folded on phones' first screen unless a filter is on: the figures come first. */
	int active = *fm->noeud || *fm->tag || *fm->territoire || *fm->pilote || *fm->domaine;
	html_printf(
	    o,
	    "<details class=\"filters-box\"%R><summary>Filtrer par élément, thématique, "
	    "territoire, pilote ou domaine d'impact%R</summary>"
	    "<form class=\"form filters\" method=\"get\" action=\"/plans/%lld/tableau-de-bord\" "
	    "aria-label=\"Filtres du tableau de bord\">",
	    active ? " open" : "", active ? " (filtres actifs)" : "", (long long)p->id);
	select_open(o, "noeud", "Élément du plan", "Tout le plan");
	/* Non-fiche nodes in tree order. */
	size_t *order = xcalloc(p->n + 1, sizeof *order);
	for (size_t i = 0; i < p->n; i++)
		if (p->nodes[i].reachable)
			order[p->nodes[i].pre] = i + 1;
	for (size_t k = 0; k < p->n; k++) {
		if (!order[k])
			continue;
		const struct dash_node *nd = &p->nodes[order[k] - 1];
		if (nd->is_fiche)
			continue;
		char v[32];
		snprintf(v, sizeof v, "%lld", (long long)nd->id);
		char *label = xasprintf("%s %s", nd->number, nd->title);
		option(o, v, fm->noeud, label);
		free(label);
	}
	free(order);
	buf_puts(o, "</select></div>");

	select_open(o, "tag", "Thématique", "Toutes");
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT DISTINCT g.id, g.label, g.kind FROM node_tags nt "
	              "JOIN nodes n ON n.id = nt.node_id JOIN tags g ON g.id = nt.tag_id "
	              "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY g.kind, g.label",
	              "I", p->id);
	while (st && db_step(st) == DB_ROW) {
		char v[32];
		snprintf(v, sizeof v, "%lld", (long long)db_col_int64(st, 0));
		option(o, v, fm->tag, db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(o, "</select></div>");

	select_open(o, "territoire", "Territoire", "Tout le territoire");
	st = db_queryf(
	    r->db,
	    "SELECT 'epci:' || e.code, e.name, 1 FROM epcis e WHERE e.code IN ("
	    " SELECT c.epci FROM fiche_communes fc JOIN nodes n ON n.id = fc.node_id"
	    " JOIN communes c ON c.code = fc.commune WHERE n.plan_id = ?"
	    " UNION SELECT t.code FROM plan_territory t"
	    " WHERE t.plan_id = ? AND t.scope = 'epci') "
	    "UNION SELECT 'commune:' || c.code, c.name, 2 FROM communes c WHERE c.code IN ("
	    " SELECT fc.commune FROM fiche_communes fc JOIN nodes n ON n.id = fc.node_id"
	    " WHERE n.plan_id = ?) ORDER BY 3, 2",
	    "III", p->id, p->id, p->id);
	int group = 0;
	while (st && db_step(st) == DB_ROW) {
		int g = (int)db_col_int64(st, 2);
		if (g != group) {
			html_printf(o, "%R<optgroup label=\"%s\">", group ? "</optgroup>" : "",
			            g == 1 ? "Intercommunalités" : "Communes");
			group = g;
		}
		option(o, db_col_text(st, 0), fm->territoire, db_col_text(st, 1));
	}
	if (group)
		buf_puts(o, "</optgroup>");
	db_finalize(st);
	buf_puts(o, "</select></div>");

	select_open(o, "pilote", "Structure pilote", "Toutes");
	st = db_queryf(r->db,
	               "SELECT DISTINCT a.id, a.name FROM fiche_pilots fp "
	               "JOIN nodes n ON n.id = fp.node_id JOIN actors a ON a.id = fp.actor_id "
	               "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY a.name",
	               "I", p->id);
	while (st && db_step(st) == DB_ROW) {
		char v[32];
		snprintf(v, sizeof v, "%lld", (long long)db_col_int64(st, 0));
		option(o, v, fm->pilote, db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(o, "</select></div>");

	select_open(o, "domaine", "Domaine d'impact", "Tous");
	st = db_prepare(r->db, "SELECT slug, label FROM impact_domains ORDER BY position");
	while (st && db_step(st) == DB_ROW)
		option(o, db_col_text(st, 0), fm->domaine, db_col_text(st, 1));
	db_finalize(st);
	buf_puts(o, "</select></div>");
	form_hidden(o, fm, 0);
	html_printf(
	    o,
	    "<div class=\"actions\"><button type=\"submit\" class=\"button\">Filtrer</button>"
	    "<a class=\"button secondary\" href=\"/plans/%lld/tableau-de-bord\">Tout "
	    "afficher</a></div></form></details>\n",
	    (long long)p->id);
}

/* The statuses of the selection: a donut for the whole and bars per child of top. */
static void statuses_section(struct buf *o, const struct dash_plan *p, const struct dash_node *top)
{
	const struct dash_node *whole = top ? top : &p->all;
	const char *labels[DASH_NSTATUSES];
	double values[DASH_NSTATUSES];
	static const int order[DASH_NSTATUSES] = {DASH_S_ACHEVEE,  DASH_S_EN_COURS,
	                                          DASH_S_RETENUE,  DASH_S_PROPOSEE,
	                                          DASH_S_AJOURNEE, DASH_S_ABANDONNEE};
	static const int fl[DASH_NSTATUSES] = {3, 2, 1, 0, 4, 6};
	for (int i = 0; i < DASH_NSTATUSES; i++) {
		labels[i] = status_labels[order[i]];
		values[i] = whole->statuses[order[i]];
	}
	char center[64], desc[512];
	snprintf(center, sizeof center, "%d fiche%s", whole->fiches, whole->fiches > 1 ? "s" : "");
	int pct[DASH_NSTATUSES];
	svg_percentages(values, DASH_NSTATUSES, pct);
	snprintf(desc, sizeof desc,
	         "Statuts de %d fiches : %d %% achevées, %d %% en cours, %d %% retenues, %d %% "
	         "proposées, %d %% ajournées, %d %% abandonnées.",
	         whole->fiches, pct[0], pct[1], pct[2], pct[3], pct[4], pct[5]);
	struct svg_donut d = {.id = "statuts-ensemble",
	                      .title = "Statuts des fiches-actions",
	                      .desc = desc,
	                      .labels = labels,
	                      .values = values,
	                      .n = DASH_NSTATUSES,
	                      .center = center,
	                      .label_head = "Statut",
	                      .fills = fl};
	svg_figure_donut(o, &d, 0);
	/* per child */
	const size_t *idx = top ? p->kids + top->first_child : p->roots;
	size_t nk = top ? top->nchildren : p->nroots;
	if (!nk)
		return;
	char **rows = xcalloc(nk, sizeof *rows);
	double *counts = xcalloc(nk * DASH_NSTATUSES, sizeof *counts);
	for (size_t i = 0; i < nk; i++) {
		const struct dash_node *ch = &p->nodes[idx[i]];
		rows[i] = node_label(ch);
		for (int s = 0; s < DASH_NSTATUSES; s++)
			counts[i * DASH_NSTATUSES + s] = ch->statuses[order[s]];
	}
	struct svg_stack c = {.id = "statuts-elements",
	                      .title = "Statuts par élément",
	                      .desc = "Répartition des fiches par statut, une barre par élément ; "
	                              "le tableau qui suit donne les nombres.",
	                      .rows = (const char *const *)rows,
	                      .nrows = nk,
	                      .segments = labels,
	                      .nseg = DASH_NSTATUSES,
	                      .counts = counts,
	                      .row_head = "Élément",
	                      .total_unit = "fiches",
	                      .empty_text = "aucune fiche",
	                      .fills = fl};
	svg_figure_stack(o, &c, 1);
	for (size_t i = 0; i < nk; i++)
		free(rows[i]);
	free(rows);
	free(counts);
}

static const char *track_label(int t)
{
	return t == DASH_ON_TRACK ? "Dans la trajectoire"
	       : t == DASH_LATE   ? "En retard"
	                          : "Non évalué";
}

static void indicators_section(struct req *r, const struct dash_plan *p, const struct dash_form *fm)
{
	struct buf *o = &r->out;
	struct dash_indicator *v;
	size_t n = dash_indicators_load(r->db, p, -1e9, &v);
	int counts[3] = {0};
	for (size_t i = 0; i < n; i++)
		counts[v[i].track]++;
	int rated = counts[DASH_ON_TRACK] + counts[DASH_LATE];
	if (!n) {
		buf_puts(o,
		         "<p>Aucun indicateur n'est rattaché aux fiches de cette sélection.</p>");
		dash_track_rule_html(o);
		return;
	}
	double share[2] = {counts[DASH_ON_TRACK], counts[DASH_LATE]};
	int pct[2];
	svg_percentages(share, 2, pct);
	buf_puts(o, "<ul class=\"stats\">");
	html_printf(o,
	            "<li class=\"stat\"><span class=\"value\">%zu</span><span class=\"label\">"
	            "indicateur%R</span></li>",
	            n, n > 1 ? "s" : "");
	if (rated)
		html_printf(o,
		            "<li class=\"stat\"><span class=\"value\">%d" PCT "</span><span "
		            "class=\"label\">dans la trajectoire (%d sur %d évalué%R)</span></li>",
		            pct[0], counts[DASH_ON_TRACK], rated, rated > 1 ? "s" : "");
	html_printf(o,
	            "<li class=\"stat\"><span class=\"value\">%d</span><span class=\"label\">"
	            "non évalué%R (sans cible, sans mesure ou qualitatif%R)</span></li></ul>",
	            counts[DASH_UNRATED], counts[DASH_UNRATED] > 1 ? "s" : "",
	            counts[DASH_UNRATED] > 1 ? "s" : "");
	dash_track_rule_html(o);
	const char *labels[3] = {"Dans la trajectoire", "En retard", "Non évalués"};
	double values[3] = {counts[DASH_ON_TRACK], counts[DASH_LATE], counts[DASH_UNRATED]};
	static const int fl[3] = {3, 1, 7};
	char center[48], desc[256];
	snprintf(center, sizeof center, "%zu indicateur%s", n, n > 1 ? "s" : "");
	snprintf(desc, sizeof desc,
	         "%d indicateurs dans la trajectoire, %d en retard, %d non évalués.",
	         counts[DASH_ON_TRACK], counts[DASH_LATE], counts[DASH_UNRATED]);
	struct svg_donut d = {.id = "indicateurs-trajectoire",
	                      .title = "Indicateurs dans la trajectoire",
	                      .desc = desc,
	                      .labels = labels,
	                      .values = values,
	                      .n = 3,
	                      .center = center,
	                      .label_head = "État",
	                      .fills = fl};
	svg_figure_donut(o, &d, 0);

	/* Trends: the indicators with measurements, 12 at most unless all are asked for. */
	int all = !strcmp(fm->indicateurs, "tous");
	size_t with = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].nmeasures)
			with++;
	html_printf(o, "<h3 id=\"tendances\">Tendances (%zu indicateur%R avec des mesures)</h3>",
	            with, with > 1 ? "s" : "");
	size_t shown = 0;
	buf_puts(o,
	         "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Dernières valeurs des "
	         "indicateurs "
	         "</caption><thead><tr><th scope=\"col\">Indicateur</th><th scope=\"col\">Fiche"
	         "</th><th scope=\"col\" class=\"num\">Dernière valeur</th><th scope=\"col\" "
	         "class=\"num\">Attendu à cette date</th><th scope=\"col\">État</th></tr></thead>"
	         "<tbody>");
	for (size_t i = 0; i < n && (all || shown < 12); i++) {
		if (!v[i].nmeasures)
			continue;
		shown++;
		const struct dash_node *nd = &p->nodes[dash_node_index(p, v[i].node_id)];
		const struct dash_measure *last = &v[i].measures[v[i].nmeasures - 1];
		char num[48] = "–", exp[48] = "–";
		if (last->has_value)
			svg_number(num, last->value, 1);
		if (v[i].track != DASH_UNRATED)
			svg_number(exp, v[i].expected, 1);
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"#ind-%lld\">%s</a></th><td>%s %s</td>"
		            "<td class=\"num\">%s %s</td><td class=\"num\">%s</td><td>%s</td></tr>",
		            (long long)v[i].id, v[i].name, nd->number, nd->title,
		            last->has_value ? num : (last->text ? last->text : "–"), v[i].unit, exp,
		            track_label(v[i].track));
	}
	buf_puts(o, "</tbody></table></div>\n<div class=\"charts\">");
	shown = 0;
	for (size_t i = 0; i < n && (all || shown < 12); i++) {
		if (!v[i].nmeasures)
			continue;
		shown++;
		const struct dash_node *nd = &p->nodes[dash_node_index(p, v[i].node_id)];
		char id[32];
		snprintf(id, sizeof id, "ind-%lld", (long long)v[i].id);
		char *label = xasprintf("fiche %s", nd->number);
		dash_indicator_figure(o, &v[i], id, label, 1);
		free(label);
	}
	buf_puts(o, "</div>");
	if (!all && with > 12) {
		struct buf q = {0};
		form_query(&q, fm, 1);
		html_printf(
		    o,
		    "<p><a href=\"/plans/%lld/tableau-de-bord?%s%Rindicateurs=tous#tendances\">"
		    "Voir tous les indicateurs (%zu)</a></p>",
		    (long long)p->id, buf_str(&q), q.len ? "&amp;" : "", with);
		buf_free(&q);
	}
	dash_indicators_free(v, n);
}

/* --- the rendered-page cache ---------------------------------------------------------------------
 *
 * The main content of the dashboard page (between the shell's header and footer) costs ~10 ms
 * of CPU for a large plan (its roll-up, indicator trajectories, charts, what changed) and is the
 * same for every viewer of the same class. It is kept here, in memory, keyed by the database,
 * the plan, the viewer's role on the plan, the day (default periods and expected values depend
 * on it) and the query's filters as typed; an entry is valid while the data version — the
 * newest audit entries (see data_version), one indexed read per request — has not moved. Every
 * write is audited in its transaction, so any committed write invalidates every entry (the
 * content also shows user and structure names, which belong to no plan). For a signed-in
 * viewer the shell (their name, CSRF token, notifications, the plans they may see) is rendered
 * per request around the cached content. A visitor's shell holds nothing of their own — the
 * public plans, the path, the assets: page_begin writes no token or name without a user — so a
 * visitor's whole page is kept (the public dashboard is the page read most, on phones). The
 * permission check (plan_require) always runs before the cache is consulted.
 *
 * The cache is the only mutable state of this module: a fixed table of DASH_CACHE_ENTRIES
 * entries holding at most DASH_CACHE_BYTES of content in all (least recently used evicted),
 * guarded by one mutex held only to copy content in or out. Entries are owned by the table.
 */
#define DASH_CACHE_ENTRIES   128
#define DASH_CACHE_BYTES     (16u << 20)
#define DASH_CACHE_ENTRY_MAX (2u << 20)
#define DASH_CACHE_KEY_MAX   2048

struct cache_entry {
	char *key;     /* see cache_key */
	char *version; /* data version when rendered */
	char *crumb;   /* the plan's short title, for the shell's breadcrumb */
	char *body;
	size_t len;
	int status; /* 200, or 422 when a filter was refused */
	uint64_t used;
};

static struct {
	pthread_mutex_t lock;
	struct cache_entry e[DASH_CACHE_ENTRIES];
	size_t bytes;
	uint64_t clock;
} dash_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void cache_entry_free(struct cache_entry *e)
{
	dash_cache.bytes -= e->len;
	free(e->key);
	free(e->version);
	free(e->crumb);
	free(e->body);
	memset(e, 0, sizeof *e);
}

void dash_cache_clear(void)
{
	pthread_mutex_lock(&dash_cache.lock);
	for (size_t i = 0; i < DASH_CACHE_ENTRIES; i++)
		if (dash_cache.e[i].key)
			cache_entry_free(&dash_cache.e[i]);
	pthread_mutex_unlock(&dash_cache.lock);
}

/*
 * The data version (malloc'ed), NULL on error: the count, greatest id and sum of ids of the
 * newest audit entries — the newest one on SQLite, whose writers take turns; the newest 64 on
 * PostgreSQL, where a transaction may commit after another that took a greater id: its entries
 * then change the window's sum of ids though not its maximum. One short backward scan of the
 * primary key.
 */
static char *data_version(struct db *db)
{
	int pg = !strcmp(db_backend(db), "postgresql");
	struct db_stmt *st = db_prepare(
	    db, pg ? "SELECT COUNT(*), COALESCE(MAX(id), 0), CAST(COALESCE(SUM(id), 0) AS BIGINT) "
	             "FROM (SELECT id FROM audit_log ORDER BY id DESC LIMIT 64) w"
	           : "SELECT COUNT(*), COALESCE(MAX(id), 0), CAST(COALESCE(SUM(id), 0) AS BIGINT) "
	             "FROM (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1) w");
	if (!st)
		return NULL;
	char *v = NULL;
	if (db_step(st) == DB_ROW)
		v = xasprintf("%lld/%lld/%lld", (long long)db_col_int64(st, 0),
		              (long long)db_col_int64(st, 1), (long long)db_col_int64(st, 2));
	db_finalize(st);
	return v;
}

/*
 * The key of a request's content (malloc'ed), or NULL when it is not to be cached (an
 * oversized query). The filters are taken as typed: they are echoed in the page's links.
 */
static char *cache_key(struct req *r, int64_t plan, enum role role)
{
	static const char *const params[] = {"noeud",   "tag", "territoire", "pilote",
	                                     "domaine", "du",  "au",         "indicateurs"};
	const struct server_config *cfg = r->srv ? server_config(r->srv) : NULL;
	char today[16];
	fiche_today(today);
	struct buf k = {0};
	buf_printf(&k, "%s\n%lld\n%d\n%s\n%s", cfg && cfg->db_url ? cfg->db_url : "",
	           (long long)plan, (int)role, r->user ? "content" : "page", today);
	for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
		const char *v = req_query(r, params[i]);
		buf_putc(&k, '\n');
		if (v) {
			buf_putc(&k, '=');
			buf_puts(&k, v);
		}
	}
	if (k.len > DASH_CACHE_KEY_MAX) {
		buf_free(&k);
		return NULL;
	}
	return buf_steal(&k);
}

/* On a hit, appends the content to `o` and returns 1 with the crumb (malloc'ed) and status. */
static int cache_get(const char *key, const char *version, struct buf *o, char **crumb, int *status)
{
	int hit = 0;
	pthread_mutex_lock(&dash_cache.lock);
	for (size_t i = 0; i < DASH_CACHE_ENTRIES; i++) {
		struct cache_entry *e = &dash_cache.e[i];
		if (!e->key || strcmp(e->key, key) != 0)
			continue;
		if (strcmp(e->version, version) != 0) {
			cache_entry_free(e); /* stale: any write since */
			break;
		}
		e->used = ++dash_cache.clock;
		buf_append(o, e->body, e->len);
		*crumb = xstrdup(e->crumb);
		*status = e->status;
		hit = 1;
		break;
	}
	pthread_mutex_unlock(&dash_cache.lock);
	return hit;
}

/* Keeps a copy of the content; evicts the least recently used entries to make room. */
static void cache_put(const char *key, const char *version, const char *crumb, const char *body,
                      size_t len, int status)
{
	if (len > DASH_CACHE_ENTRY_MAX)
		return;
	pthread_mutex_lock(&dash_cache.lock);
	struct cache_entry *slot = NULL;
	for (size_t i = 0; i < DASH_CACHE_ENTRIES; i++)
		if (dash_cache.e[i].key && !strcmp(dash_cache.e[i].key, key))
			cache_entry_free(&dash_cache.e[i]);
	for (;;) {
		struct cache_entry *lru = NULL;
		slot = NULL;
		for (size_t i = 0; i < DASH_CACHE_ENTRIES; i++) {
			struct cache_entry *e = &dash_cache.e[i];
			if (!e->key)
				slot = slot ? slot : e;
			else if (!lru || e->used < lru->used)
				lru = e;
		}
		if (slot && dash_cache.bytes + len <= DASH_CACHE_BYTES)
			break;
		if (!lru)
			break;
		cache_entry_free(lru);
	}
	if (slot && dash_cache.bytes + len <= DASH_CACHE_BYTES) {
		slot->key = xstrdup(key);
		slot->version = xstrdup(version);
		slot->crumb = xstrdup(crumb);
		slot->body = xmalloc(len + 1);
		memcpy(slot->body, body, len);
		slot->body[len] = '\0';
		slot->len = len;
		slot->status = status;
		slot->used = ++dash_cache.clock;
		dash_cache.bytes += len;
	}
	pthread_mutex_unlock(&dash_cache.lock);
}

/* The page around a content: the shell is the viewer's own (name, CSRF token, notifications). */
static void dashboard_shell_begin(struct req *r, int64_t id, const char *crumb)
{
	char href[48];
	snprintf(href, sizeof href, "/plans/%lld", (long long)id);
	struct crumb crumbs[] = {{crumb, href}, {NULL, NULL}};
	page_begin(r, "Tableau de bord", crumbs);
}

static void dashboard_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	/* the permission check, with one query: plan_require answers the 404 */
	enum role role = plan_role(r, id);
	if (role < ROLE_PUBLIC) {
		plan_require(r, id, ROLE_PUBLIC);
		return;
	}
	/* the version is read before rendering: an entry's content is never older than its
	 * version (a write during the rendering only makes the next request render again) */
	char *key = cache_key(r, id, role);
	char *version = key ? data_version(r->db) : NULL;
	char *crumb = NULL;
	int status = 200;
	struct buf content = {0};
	if (version && cache_get(key, version, &content, &crumb, &status)) {
		if (r->user) {
			dashboard_shell_begin(r, id, crumb);
			buf_append(&r->out, content.data, content.len);
			buf_free(&content);
			resp_header(r, "X-Maillage-Cache", "hit");
			page_end(r);
		} else {
			/* a visitor's whole page */
			buf_free(&r->out);
			r->out = content;
			resp_header(r, "X-Maillage-Cache", "hit");
			resp_send(r, 200, "text/html; charset=utf-8");
		}
		if (status != 200)
			r->status = status;
		free(crumb);
		free(key);
		free(version);
		return;
	}
	struct dash_plan p;
	if (dash_plan_load(r->db, id, &p)) {
		dash_plan_free(&p);
		free(key);
		free(version);
		resp_error(r, 500, "Lecture du plan impossible.");
		return;
	}
	struct dash_form fm;
	form_read(r, &p, &fm);
	if (dash_filter_apply(r->db, &p, &fm.f)) {
		dash_plan_free(&p);
		free(key);
		free(version);
		resp_error(r, 500, "Lecture des fiches impossible.");
		return;
	}
	dash_rollup(&p);
	const struct dash_node *top = fm.f.node ? &p.nodes[dash_node_index(&p, fm.f.node)] : NULL;

	char short_title[160];
	dash_short(short_title, p.title, 32);
	dashboard_shell_begin(r, id, short_title);
	struct buf *o = &r->out;
	size_t content_start = o->len;
	html_printf(o,
	            "<p class=\"eyebrow\">%s · %d – %d</p>\n<h1>Tableau de bord</h1>\n"
	            "<p class=\"lead\">%s</p>\n",
	            plan_kind_label(p.kind), p.start_year, p.end_year, p.title);
	if (fm.error)
		page_notice(r, "error", fm.error);
	filters_form(r, &p, &fm);
	if (top)
		html_printf(o, "<p>Sélection : <strong>%s %s</strong>.</p>", top->number,
		            top->title);
	buf_puts(o, "<nav aria-label=\"Sur cette page\"><ul class=\"inline-list\">"
	            "<li><a href=\"#avancement\">Avancement</a></li>"
	            "<li><a href=\"#statuts\">Statuts</a></li>"
	            "<li><a href=\"#indicateurs\">Indicateurs</a></li>"
	            "<li><a href=\"#changements\">Ce qui a changé</a></li></ul></nav>\n");

	/* Progress */
	const struct dash_node *whole = top ? top : &p.all;
	buf_puts(o, "<section aria-labelledby=\"avancement\"><h2 id=\"avancement\">Avancement des "
	            "fiches-actions</h2>");
	dash_progress_stats(o, whole);
	dash_progress_figure(o, &p, top, "avancement-elements", "Avancement par élément", 0);
	int out_p = whole->statuses[DASH_S_PROPOSEE], out_j = whole->statuses[DASH_S_AJOURNEE],
	    out_a = whole->statuses[DASH_S_ABANDONNEE];
	html_printf(o,
	            "<p>Hors calcul : %d fiche%R proposée%R, %d ajournée%R, %d abandonnée%R.</p>",
	            out_p, out_p > 1 ? "s" : "", out_p > 1 ? "s" : "", out_j, out_j > 1 ? "s" : "",
	            out_a, out_a > 1 ? "s" : "");
	dash_rule_html(o);
	buf_puts(o, "</section>\n");

	buf_puts(o, "<section aria-labelledby=\"statuts\"><h2 id=\"statuts\">Statuts</h2>");
	statuses_section(o, &p, top);
	buf_puts(o, "</section>\n");

	buf_puts(o, "<section aria-labelledby=\"indicateurs\"><h2 id=\"indicateurs\">Indicateurs"
	            "</h2>");
	indicators_section(r, &p, &fm);
	buf_puts(o, "</section>\n");

	/* What changed */
	char a[64], b[64];
	fiche_date_fr(a, fm.from);
	fiche_date_fr(b, fm.to);
	html_printf(o,
	            "<section aria-labelledby=\"changements\"><h2 id=\"changements\">Ce qui a "
	            "changé</h2><p>Du %s au %s%R.</p>"
	            "<form class=\"form filters\" method=\"get\" "
	            "action=\"/plans/%lld/tableau-de-bord#changements\" aria-label=\"Période des "
	            "changements\"><div class=\"field\"><label for=\"f-du\">Du</label><input "
	            "id=\"f-du\" name=\"du\" type=\"date\" value=\"%s\"></div><div class=\"field\">"
	            "<label for=\"f-au\">Au</label><input id=\"f-au\" name=\"au\" type=\"date\" "
	            "value=\"%s\"></div>",
	            a, b, *fm.du ? "" : " (par défaut : depuis le dernier COPIL, ou trois mois)",
	            (long long)id, fm.from, fm.to);
	form_hidden(o, &fm, 1);
	buf_puts(o, "<div class=\"actions\"><button type=\"submit\" class=\"button\">Afficher "
	            "les changements</button></div></form>");
	if (!dash_changes_html(o, r->db, &p, fm.from, fm.to, role < ROLE_READER))
		buf_puts(o, "<p>Aucun changement sur cette période.</p>");
	buf_puts(o, "</section>\n");

	if (role >= ROLE_READER) {
		int year = 0;
		char today[16];
		fiche_today(today);
		year = atoi(today);
		if (p.end_year && year > p.end_year)
			year = p.end_year;
		html_printf(
		    o,
		    "<section aria-labelledby=\"documents\"><h2 id=\"documents\">Documents"
		    "</h2><ul class=\"inline-list\"><li><a href=\"/plans/%lld/bilan/%d\">"
		    "Bilan %d</a></li><li><a href=\"/plans/%lld/revue-mi-parcours\">Revue à "
		    "mi-parcours</a></li><li><a href=\"/plans/%lld/lettre\">Lettre "
		    "trimestrielle</a></li></ul></section>\n",
		    (long long)id, year, year, (long long)id, (long long)id);
	}
	if (p.is_public)
		html_printf(
		    o, "<p><a href=\"/public/plans/%lld\">Voir la page publique du plan</a></p>",
		    (long long)id);
	dash_plan_free(&p);
	resp_header(r, "X-Maillage-Cache", "miss");
	if (version && r->user)
		cache_put(key, version, short_title, o->data + content_start,
		          o->len - content_start, fm.error ? 422 : 200);
	page_end(r);
	if (version && !r->user)
		cache_put(key, version, short_title, o->data, o->len, fm.error ? 422 : 200);
	free(key);
	free(version);
	if (fm.error)
		r->status = 422;
}

/* --- JSON --------------------------------------------------------------------------------------
 */

static json_t *levels_json(const struct dash_node *n)
{
	/* in the display order, so that ties round as on the page */
	double c[DASH_NLEVELS];
	int pct[DASH_NLEVELS];
	for (int i = 0; i < DASH_NLEVELS; i++)
		c[i] = n->levels[dash_level_order[i]];
	svg_percentages(c, DASH_NLEVELS, pct);
	json_t *o = json_object();
	for (int i = 0; i < DASH_NLEVELS; i++) {
		int l = dash_level_order[i];
		json_object_set_new(
		    o, level_slugs[l],
		    n->tracked ? json_pack("{s:i,s:i}", "count", n->levels[l], "percent", pct[i])
		               : json_pack("{s:i,s:n}", "count", 0, "percent"));
	}
	return o;
}

static json_t *statuses_json(const struct dash_node *n)
{
	json_t *o = json_object();
	for (int s = 0; s < DASH_NSTATUSES; s++)
		json_object_set_new(o, status_slugs[s], json_integer(n->statuses[s]));
	return o;
}

static void api_dashboard(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_PUBLIC))
		return;
	struct dash_plan p;
	if (dash_plan_load(r->db, id, &p)) {
		dash_plan_free(&p);
		resp_error(r, 500, "Lecture du plan impossible.");
		return;
	}
	struct dash_form fm;
	form_read(r, &p, &fm);
	if (fm.error) {
		dash_plan_free(&p);
		resp_error(r, 422, fm.error);
		return;
	}
	dash_filter_apply(r->db, &p, &fm.f);
	dash_rollup(&p);
	json_t *nodes = json_array();
	for (size_t k = 0; k < p.n; k++) {
		const struct dash_node *nd = &p.nodes[k];
		if (!nd->reachable || nd->is_fiche)
			continue;
		json_array_append_new(
		    nodes, json_pack("{s:I,s:s,s:s,s:i,s:i,s:i,s:o,s:o}", "id", (json_int_t)nd->id,
		                     "number", nd->number, "title", nd->title, "depth", nd->depth,
		                     "fiches", nd->fiches, "tracked", nd->tracked, "levels",
		                     levels_json(nd), "statuses", statuses_json(nd)));
	}
	struct dash_indicator *v;
	size_t n = dash_indicators_load(r->db, &p, -1e9, &v);
	int counts[3] = {0};
	for (size_t i = 0; i < n; i++)
		counts[v[i].track]++;
	dash_indicators_free(v, n);
	json_t *doc = json_pack(
	    "{s:{s:I,s:s},s:s,s:{s:i,s:i,s:o,s:o},s:o,s:{s:i,s:i,s:i,s:i}}", "plan", "id",
	    (json_int_t)p.id, "title", p.title, "rule",
	    "Fiches suivies : statut retenue, en cours ou achevée (proposées, ajournées et "
	    "abandonnées hors pourcentages). Niveau : avancement déclaré ; une fiche achevée "
	    "compte comme achevée. Un élément compte les fiches suivies de toute sa "
	    "descendance ; pourcentages entiers par la méthode du plus fort reste.",
	    "overall", "fiches", p.all.fiches, "tracked", p.all.tracked, "levels",
	    levels_json(&p.all), "statuses", statuses_json(&p.all), "nodes", nodes, "indicators",
	    "total", (int)n, "on_track", counts[DASH_ON_TRACK], "late", counts[DASH_LATE],
	    "unrated", counts[DASH_UNRATED]);
	dash_plan_free(&p);
	resp_json(r, 200, doc);
}

const struct route dashboard_routes[] = {
    {M_GET, "/plans/{plan}/tableau-de-bord", ACC_PUBLIC, dashboard_page,
     "Tableau de bord d'un plan : avancement, statuts, indicateurs, changements"},
    {M_GET, "/api/v1/plans/{plan}/dashboard", ACC_PUBLIC, api_dashboard,
     "Répartition de l'avancement et des statuts par élément, indicateurs dans la trajectoire"},
    {0},
};
