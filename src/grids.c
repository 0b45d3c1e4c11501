/* grids: evaluation grids (see grids.h). Frameworks are trees of items of any depth whose leaves
 * are scored; a framework is shared (plan_id NULL: administrators edit it) or a plan's own (its
 * coordinators edit it). Campaigns belong to a plan and take its permissions: readers see,
 * pilots and above score and quote (a partner reads only: scoring is a judgement on a structure,
 * kept to those who lead the plan's work), coordinators manage campaigns and structures. Every
 * write is audited with before/after inside its transaction. */
#include "grids.h"

#include "audit.h"
#include "csv_fr.h"
#include "db.h"
#include "embed.h"
#include "http.h"
#include "labels.h"
#include "layout.h"
#include "plans.h"
#include "store.h"
#include "svg.h"
#include "text.h"
#include "util.h"
#include "xlsx_out.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define NAME_MAX_LEN     200
#define LABEL_MAX_LEN    300
#define DESC_MAX_LEN     3000
#define QUOTE_MAX_LEN    3000
#define EVIDENCE_MAX_LEN 3000
#define SUMMARY_MAX_LEN  5000
#define LEVEL_NAME_MAX   60
#define MAX_ITEMS        500
#define MAX_DEPTH        6
#define SCALE_TOP        10

static const char *const ROLES[] = {"elu", "technicien", "partenaire", "habitant", "autre", NULL};
static const char *const ROLE_LABELS[] = {
    "Élu·e",      "Technicien·ne de collectivité", "Partenaire institutionnel",
    "Habitant·e", "Autre ou non précisé",          NULL};

static const char *role_label(const char *role)
{
	return label_of(ROLES, ROLE_LABELS, role, "Autre ou non précisé");
}

static int role_valid(const char *role)
{
	return label_index(ROLES, role) >= 0;
}

static const char *kind_label(const char *kind)
{
	return kind && !strcmp(kind, "peer") ? "Évaluation par les pairs (fédération)"
	                                     : "Auto-évaluation";
}

static const char *kind_short(const char *kind)
{
	return kind && !strcmp(kind, "peer") ? "Pairs" : "Auto-évaluation";
}

enum grids_format grids_format_parse(const char *name)
{
	if (!name)
		return GRIDS_NONE;
	if (!strcasecmp(name, "json"))
		return GRIDS_JSON;
	if (!strcasecmp(name, "csv"))
		return GRIDS_CSV;
	if (!strcasecmp(name, "xlsx"))
		return GRIDS_XLSX;
	return GRIDS_NONE;
}

/* --- the model ----------------------------------------------------------------------------- */

struct gitem {
	int64_t id, parent_id;
	int depth;
	int leaf;
	size_t end; /* index just after the item's subtree (items are in depth-first order) */
	char *label, *description;
	char num[48]; /* "1.2.3" */
};

struct gfw {
	int64_t id, plan_id;
	char *code, *name, *description, *source, *level_names, *plan_title;
	int smin, smax;
	char **lvl_label, **lvl_desc; /* smax - smin + 1 each, by level - smin */
	struct gitem *it;
	size_t n;
	int maxdepth; /* deepest depth + 1 */
};

static void fw_free(struct gfw *f)
{
	free(f->code);
	free(f->name);
	free(f->description);
	free(f->source);
	free(f->level_names);
	free(f->plan_title);
	int nl = f->smax - f->smin + 1;
	for (int i = 0; f->lvl_label && i < nl; i++) {
		free(f->lvl_label[i]);
		free(f->lvl_desc[i]);
	}
	free(f->lvl_label);
	free(f->lvl_desc);
	for (size_t i = 0; i < f->n; i++) {
		free(f->it[i].label);
		free(f->it[i].description);
	}
	free(f->it);
	memset(f, 0, sizeof *f);
}

struct rawitem {
	int64_t id, parent_id, position;
	char *label, *description;
	int used;
};

static void place_children(struct gfw *f, struct rawitem *raw, size_t nraw, int64_t parent,
                           int depth, const char *prefix)
{
	int k = 0;
	for (size_t i = 0; i < nraw; i++) {
		if (raw[i].used || raw[i].parent_id != parent)
			continue;
		raw[i].used = 1;
		struct gitem *g = &f->it[f->n++];
		g->id = raw[i].id;
		g->parent_id = parent;
		g->depth = depth;
		g->label = raw[i].label;
		g->description = raw[i].description;
		raw[i].label = raw[i].description = NULL;
		snprintf(g->num, sizeof g->num, "%s%s%d", prefix, *prefix ? "." : "", ++k);
		if (depth + 1 > f->maxdepth)
			f->maxdepth = depth + 1;
		size_t me = f->n - 1;
		char pre[48];
		snprintf(pre, sizeof pre, "%s", g->num);
		if (depth < MAX_DEPTH + 2)
			place_children(f, raw, nraw, raw[i].id, depth + 1, pre);
		f->it[me].end = f->n;
		f->it[me].leaf = f->n == me + 1;
	}
}

/* Load a framework with its scale and items; -1 when it does not exist. */
static int fw_load(struct db *db, int64_t id, struct gfw *f)
{
	memset(f, 0, sizeof *f);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT g.plan_id, g.code, g.name, g.description, g.source, g.level_names, "
	    "g.scale_min, g.scale_max, p.title FROM grid_frameworks g LEFT JOIN plans p ON p.id = "
	    "g.plan_id WHERE g.id = ?",
	    "I", id);
	int found = st && db_step(st) == DB_ROW;
	if (found) {
		f->id = id;
		f->plan_id = db_col_is_null(st, 0) ? 0 : db_col_int64(st, 0);
		f->code = db_col_text(st, 1) ? xstrdup(db_col_text(st, 1)) : NULL;
		f->name = xstrdup(db_col_text(st, 2));
		f->description = xstrdup(db_col_text(st, 3));
		f->source = xstrdup(db_col_text(st, 4));
		f->level_names = xstrdup(db_col_text(st, 5));
		f->smin = (int)db_col_int64(st, 6);
		f->smax = (int)db_col_int64(st, 7);
		f->plan_title = db_col_text(st, 8) ? xstrdup(db_col_text(st, 8)) : NULL;
	}
	db_finalize(st);
	if (!found)
		return -1;
	if (f->smax < f->smin)
		f->smax = f->smin;
	int nl = f->smax - f->smin + 1;
	f->lvl_label = xcalloc((size_t)nl, sizeof *f->lvl_label);
	f->lvl_desc = xcalloc((size_t)nl, sizeof *f->lvl_desc);
	st = db_queryf(db,
	               "SELECT level, label, description FROM grid_scale_levels WHERE "
	               "framework_id = ? ORDER BY level",
	               "I", id);
	while (st && db_step(st) == DB_ROW) {
		int l = (int)db_col_int64(st, 0);
		if (l < f->smin || l > f->smax || f->lvl_label[l - f->smin])
			continue;
		f->lvl_label[l - f->smin] = xstrdup(db_col_text(st, 1));
		f->lvl_desc[l - f->smin] = xstrdup(db_col_text(st, 2));
	}
	db_finalize(st);
	for (int i = 0; i < nl; i++) {
		if (!f->lvl_label[i])
			f->lvl_label[i] = xasprintf("Niveau %d", f->smin + i);
		if (!f->lvl_desc[i])
			f->lvl_desc[i] = xstrdup("");
	}
	struct rawitem *raw = NULL;
	size_t nraw = 0, cap = 0;
	st = db_queryf(db,
	               "SELECT id, parent_id, position, label, description FROM grid_items WHERE "
	               "framework_id = ? ORDER BY position, id",
	               "I", id);
	while (st && db_step(st) == DB_ROW) {
		if (nraw == cap) {
			cap = cap ? cap * 2 : 32;
			raw = xrealloc(raw, cap * sizeof *raw);
		}
		raw[nraw].id = db_col_int64(st, 0);
		raw[nraw].parent_id = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		raw[nraw].position = db_col_int64(st, 2);
		raw[nraw].label = xstrdup(db_col_text(st, 3));
		raw[nraw].description = xstrdup(db_col_text(st, 4));
		raw[nraw].used = 0;
		nraw++;
	}
	db_finalize(st);
	f->it = xcalloc(nraw ? nraw : 1, sizeof *f->it);
	place_children(f, raw, nraw, 0, 0, "");
	for (size_t i = 0; i < nraw; i++) {
		free(raw[i].label);
		free(raw[i].description);
	}
	free(raw);
	return 0;
}

static const char *fw_level_label(const struct gfw *f, int level)
{
	if (level < f->smin || level > f->smax)
		return "";
	return f->lvl_label[level - f->smin];
}

/* The name of depth d from level_names ("Axe\nFonction\nCritère"), written into out. */
static void level_name(const struct gfw *f, int d, char *out, size_t n)
{
	const char *s = f->level_names ? f->level_names : "";
	for (int i = 0; i < d && s; i++) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (!s || !*s) {
		snprintf(out, n, "Niveau %d", d + 1);
		return;
	}
	size_t len = strcspn(s, "\n");
	snprintf(out, n, "%.*s", (int)len, s);
	if (!*out)
		snprintf(out, n, "Niveau %d", d + 1);
}

static ssize_t fw_index(const struct gfw *f, int64_t item_id)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->it[i].id == item_id)
			return (ssize_t)i;
	return -1;
}

static size_t fw_leaves(const struct gfw *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->it[i].leaf;
	return n;
}

/* Scores of an assessment aligned with the framework's items. */
struct gscore {
	int has;
	int score;
	char *evidence;
};

static struct gscore *scores_load(struct db *db, const struct gfw *f, int64_t assessment_id)
{
	struct gscore *s = xcalloc(f->n ? f->n : 1, sizeof *s);
	struct db_stmt *st = db_queryf(
	    db, "SELECT item_id, score, evidence FROM grid_scores WHERE assessment_id = ?", "I",
	    assessment_id);
	while (st && db_step(st) == DB_ROW) {
		ssize_t i = fw_index(f, db_col_int64(st, 0));
		if (i < 0 || !f->it[i].leaf)
			continue;
		s[i].has = !db_col_is_null(st, 1);
		s[i].score = (int)db_col_int64(st, 1);
		free(s[i].evidence);
		s[i].evidence = xstrdup(db_col_text(st, 2) ? db_col_text(st, 2) : "");
	}
	db_finalize(st);
	return s;
}

static void scores_free(struct gscore *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i].evidence);
	free(s);
}

/* Mean of the scored leaves under item i (itself when a leaf); NAN when none is scored. */
static double item_mean(const struct gfw *f, const struct gscore *s, size_t i)
{
	if (!s)
		return NAN;
	if (f->it[i].leaf)
		return s[i].has ? s[i].score : NAN;
	double sum = 0;
	int n = 0;
	for (size_t j = i + 1; j < f->it[i].end; j++)
		if (f->it[j].leaf && s[j].has) {
			sum += s[j].score;
			n++;
		}
	return n ? sum / n : NAN;
}

/* Items shown as axes at depth d: the items of that depth, and leaves above it. Returns the
 * count; idx has room for f->n. */
static size_t axes_at(const struct gfw *f, int d, size_t *idx)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		if (f->it[i].depth == d || (f->it[i].leaf && f->it[i].depth < d))
			idx[n++] = i;
	return n;
}

/* The default depth of a radar: the first with at least three axes. */
static int default_depth(const struct gfw *f)
{
	size_t *idx = xcalloc(f->n ? f->n : 1, sizeof *idx);
	int d = 0;
	for (; d < f->maxdepth; d++)
		if (axes_at(f, d, idx) >= 3)
			break;
	free(idx);
	return d < f->maxdepth ? d : 0;
}

/* --- shipped frameworks -------------------------------------------------------------------- */

static int insert_items(struct db *db, int64_t fw, int64_t parent, json_t *items, int depth,
                        size_t *count, char **err)
{
	size_t i;
	json_t *it;
	if (depth > MAX_DEPTH) {
		*err = xstrdup("grille trop profonde");
		return -1;
	}
	json_array_foreach(items, i, it)
	{
		const char *label = json_string_value(json_object_get(it, "label"));
		const char *desc = json_string_value(json_object_get(it, "description"));
		if (!label || !*label) {
			*err = xstrdup("élément de grille sans libellé");
			return -1;
		}
		if (++*count > MAX_ITEMS) {
			*err = xstrdup("grille trop grande");
			return -1;
		}
		int64_t id = 0;
		int rc = parent
		             ? db_int64f(db, &id,
		                         "INSERT INTO grid_items (framework_id, parent_id, "
		                         "position, label, description) VALUES (?, ?, ?, ?, ?) "
		                         "RETURNING id",
		                         "IIiss", fw, parent, (int)i + 1, label, desc ? desc : "")
		             : db_int64f(db, &id,
		                         "INSERT INTO grid_items (framework_id, position, label, "
		                         "description) VALUES (?, ?, ?, ?) RETURNING id",
		                         "Iiss", fw, (int)i + 1, label, desc ? desc : "");
		if (rc != DB_OK) {
			*err = xasprintf("élément « %s » : %s", label, db_errmsg(db));
			return -1;
		}
		json_t *kids = json_object_get(it, "children");
		if (json_array_size(kids) && insert_items(db, fw, id, kids, depth + 1, count, err))
			return -1;
	}
	return 0;
}

/* Insert one framework described by JSON (shipped format); plan_id 0 = shared. */
static int framework_from_json(struct db *db, json_t *doc, int64_t plan_id, int64_t *out_id,
                               char **err)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *code = json_string_value(json_object_get(doc, "code"));
	json_t *scale = json_object_get(doc, "scale");
	int smin = (int)json_integer_value(json_object_get(scale, "min"));
	int smax = (int)json_integer_value(json_object_get(scale, "max"));
	if (!name || !json_is_array(json_object_get(doc, "items"))) {
		*err = xstrdup("grille sans nom ou sans éléments");
		return -1;
	}
	if (smin < 0 || smax <= smin || smax > SCALE_TOP) {
		*err = xasprintf("grille « %s » : échelle invalide", name);
		return -1;
	}
	struct buf lv = {0};
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(doc, "levels"), i, v)
	{
		if (i)
			buf_putc(&lv, '\n');
		buf_puts(&lv, json_string_value(v) ? json_string_value(v) : "");
	}
	char now[32];
	time_iso_now(now);
	const char *desc = json_string_value(json_object_get(doc, "description"));
	const char *source = json_string_value(json_object_get(doc, "source"));
	int64_t id = 0;
	int rc = db_int64f(db, &id,
	                   "INSERT INTO grid_frameworks (plan_id, code, name, description, source, "
	                   "level_names, scale_min, scale_max, created_at, updated_at) VALUES ("
	                   "CAST(NULLIF(?, 0) AS BIGINT), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	                   "Isssssiiss", plan_id, code, name, desc ? desc : "",
	                   source ? source : "", buf_str(&lv), smin, smax, now, now);
	buf_free(&lv);
	if (rc != DB_OK) {
		*err = xasprintf("grille « %s » : %s", name, db_errmsg(db));
		return -1;
	}
	json_array_foreach(json_object_get(scale, "levels"), i, v)
	{
		int l = (int)json_integer_value(json_object_get(v, "level"));
		const char *lab = json_string_value(json_object_get(v, "label"));
		const char *d = json_string_value(json_object_get(v, "description"));
		if (l < smin || l > smax || !lab) {
			*err = xasprintf("grille « %s » : niveau d'échelle invalide", name);
			return -1;
		}
		if (db_execf(
		        db,
		        "INSERT INTO grid_scale_levels (framework_id, level, label, description) "
		        "VALUES (?, ?, ?, ?)",
		        "Iiss", id, l, lab, d ? d : "") != DB_OK) {
			*err = xasprintf("grille « %s » : %s", name, db_errmsg(db));
			return -1;
		}
	}
	size_t count = 0;
	if (insert_items(db, id, 0, json_object_get(doc, "items"), 0, &count, err))
		return -1;
	*out_id = id;
	return 0;
}

int grids_ensure_shipped(struct db *db, char **err)
{
	for (size_t i = 0; i < embed_count; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->name, "data/grids/", 11) != 0 || strchr(f->name + 11, '/'))
			continue;
		json_error_t je;
		json_t *doc = json_loadb((const char *)f->data, f->size, 0, &je);
		const char *code = json_string_value(json_object_get(doc, "code"));
		if (!code) {
			*err = xasprintf("%s : grille illisible (ligne %d : %s)", f->name, je.line,
			                 doc ? "code absent" : je.text);
			json_decref(doc);
			return -1;
		}
		int64_t have = 0;
		if (db_int64f(db, &have, "SELECT COUNT(*) FROM grid_shipped WHERE code = ?", "s",
		              code) != DB_OK) {
			*err = xasprintf("lecture des grilles livrées : %s", db_errmsg(db));
			json_decref(doc);
			return -1;
		}
		if (have) {
			json_decref(doc);
			continue;
		}
		char now[32];
		time_iso_now(now);
		int64_t id = 0;
		int rc = db_begin(db) == DB_OK ? 0 : -1;
		if (!rc && db_execf(db, "INSERT INTO grid_shipped (code, loaded_at) VALUES (?, ?)",
		                    "ss", code, now) != DB_OK) {
			/* Another connection loaded it at the same moment. */
			db_rollback(db);
			json_decref(doc);
			continue;
		}
		if (!rc)
			rc = framework_from_json(db, doc, 0, &id, err);
		if (!rc) {
			json_t *after = json_pack("{s:s,s:s}", "code", code, "file", f->name);
			rc = audit_write_id(db, 0, "cli", "create", "grid_framework", id, NULL,
			                    after) == DB_OK
			         ? 0
			         : -1;
			json_decref(after);
		}
		if (!rc)
			rc = db_commit(db) == DB_OK ? 0 : -1;
		else
			db_rollback(db);
		json_decref(doc);
		if (rc) {
			if (!*err)
				*err = xasprintf("chargement de %s : %s", f->name, db_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static json_t *items_json(const struct gfw *f, size_t from, size_t to, int depth)
{
	json_t *arr = json_array();
	for (size_t i = from; i < to; i = f->it[i].end) {
		if (f->it[i].depth != depth)
			continue;
		json_t *o = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)f->it[i].id, "number",
		                      f->it[i].num, "label", f->it[i].label, "description",
		                      f->it[i].description);
		if (!f->it[i].leaf)
			json_object_set_new(o, "children",
			                    items_json(f, i + 1, f->it[i].end, depth + 1));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *fw_json(const struct gfw *f)
{
	json_t *levels = json_array();
	for (int d = 0; d < (f->maxdepth ? f->maxdepth : 1); d++) {
		char name[LEVEL_NAME_MAX * 4 + 8];
		level_name(f, d, name, sizeof name);
		json_array_append_new(levels, json_string(name));
	}
	json_t *sl = json_array();
	for (int l = f->smin; l <= f->smax; l++)
		json_array_append_new(sl, json_pack("{s:i,s:s,s:s}", "level", l, "label",
		                                    f->lvl_label[l - f->smin], "description",
		                                    f->lvl_desc[l - f->smin]));
	json_t *o =
	    json_pack("{s:I,s:o,s:o,s:s,s:s,s:s,s:o,s:{s:i,s:i,s:o},s:I,s:o}", "id",
	              (json_int_t)f->id, "code", f->code ? json_string(f->code) : json_null(),
	              "plan_id", f->plan_id ? json_integer(f->plan_id) : json_null(), "name",
	              f->name, "description", f->description, "source", f->source, "levels", levels,
	              "scale", "min", f->smin, "max", f->smax, "levels", sl, "criteria",
	              (json_int_t)fw_leaves(f), "items", items_json(f, 0, f->n, 0));
	return o;
}

static json_t *nullable_text(struct db_stmt *st, int col)
{
	return db_col_is_null(st, col) ? json_null() : json_string(db_col_text(st, col));
}

/* One campaign with structures, assessments and testimonies; f is its framework. */
static json_t *campaign_json(struct db *db, int64_t cid, const struct gfw *f)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT c.plan_id, p.title, c.year, c.title, c.description FROM grid_campaigns c JOIN "
	    "plans p ON p.id = c.plan_id WHERE c.id = ?",
	    "I", cid);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return NULL;
	}
	json_t *c = json_pack("{s:I,s:I,s:s,s:I,s:s,s:I,s:s,s:s}", "id", (json_int_t)cid, "plan_id",
	                      (json_int_t)db_col_int64(st, 0), "plan", db_col_text(st, 1),
	                      "framework_id", (json_int_t)f->id, "framework", f->name, "year",
	                      (json_int_t)db_col_int64(st, 2), "title", db_col_text(st, 3),
	                      "description", db_col_text(st, 4));
	db_finalize(st);
	json_t *structs = json_array();
	st =
	    db_queryf(db,
	              "SELECT a.id, a.name, ca.ambassador FROM grid_campaign_actors ca JOIN actors "
	              "a ON a.id = ca.actor_id WHERE ca.campaign_id = ? ORDER BY a.name, a.id",
	              "I", cid);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(structs, json_pack("{s:I,s:s,s:b}", "actor_id",
		                                         (json_int_t)db_col_int64(st, 0), "name",
		                                         db_col_text(st, 1), "ambassador",
		                                         (int)db_col_int64(st, 2)));
	db_finalize(st);
	json_object_set_new(c, "structures", structs);
	json_t *asms = json_array();
	st = db_queryf(db,
	               "SELECT s.id, s.actor_id, a.name, s.kind, s.assessor, s.assessed_on, "
	               "s.summary, s.is_demo FROM grid_assessments s JOIN actors a ON a.id = "
	               "s.actor_id WHERE s.campaign_id = ? ORDER BY a.name, s.actor_id, s.kind",
	               "I", cid);
	while (st && db_step(st) == DB_ROW) {
		int64_t aid = db_col_int64(st, 0);
		json_t *a =
		    json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:s,s:b}", "id", (json_int_t)aid,
		              "actor_id", (json_int_t)db_col_int64(st, 1), "structure",
		              db_col_text(st, 2), "kind", db_col_text(st, 3), "assessor",
		              db_col_text(st, 4), "assessed_on", nullable_text(st, 5), "summary",
		              db_col_text(st, 6), "demo", (int)db_col_int64(st, 7));
		struct gscore *sc = scores_load(db, f, aid);
		json_t *arr = json_array();
		for (size_t i = 0; i < f->n; i++) {
			if (!f->it[i].leaf)
				continue;
			json_array_append_new(
			    arr,
			    json_pack("{s:I,s:s,s:s,s:o,s:s}", "item_id", (json_int_t)f->it[i].id,
			              "number", f->it[i].num, "label", f->it[i].label, "score",
			              sc[i].has ? json_integer(sc[i].score) : json_null(),
			              "evidence", sc[i].evidence ? sc[i].evidence : ""));
		}
		scores_free(sc, f->n);
		json_object_set_new(a, "scores", arr);
		json_array_append_new(asms, a);
	}
	db_finalize(st);
	json_object_set_new(c, "assessments", asms);
	json_t *tes = json_array();
	st = db_queryf(db,
	               "SELECT t.id, t.assessment_id, t.item_id, i.label, t.speaker_role, t.quote "
	               "FROM grid_testimonies t LEFT JOIN grid_items i ON i.id = t.item_id WHERE "
	               "t.campaign_id = ? ORDER BY t.id",
	               "I", cid);
	while (st && db_step(st) == DB_ROW) {
		ssize_t ix = db_col_is_null(st, 2) ? -1 : fw_index(f, db_col_int64(st, 2));
		json_array_append_new(
		    tes,
		    json_pack(
		        "{s:I,s:o,s:o,s:o,s:o,s:s,s:s,s:s}", "id", (json_int_t)db_col_int64(st, 0),
		        "assessment_id",
		        db_col_is_null(st, 1) ? json_null() : json_integer(db_col_int64(st, 1)),
		        "item_id",
		        db_col_is_null(st, 2) ? json_null() : json_integer(db_col_int64(st, 2)),
		        "item_number", ix >= 0 ? json_string(f->it[ix].num) : json_null(), "item",
		        nullable_text(st, 3), "speaker_role", db_col_text(st, 4), "speaker",
		        role_label(db_col_text(st, 4)), "quote", db_col_text(st, 5)));
	}
	db_finalize(st);
	json_object_set_new(c, "testimonies", tes);
	return c;
}

json_t *grids_export_json(struct db *db, int64_t plan_id, int64_t campaign_id)
{
	json_t *fws = json_array(), *camps = json_array();
	struct db_stmt *st;
	if (campaign_id > 0)
		st = db_queryf(db, "SELECT framework_id FROM grid_campaigns WHERE id = ?", "I",
		               campaign_id);
	else if (plan_id > 0)
		st =
		    db_queryf(db,
		              "SELECT id FROM grid_frameworks WHERE plan_id IS NULL OR plan_id = ? "
		              "ORDER BY id",
		              "I", plan_id);
	else
		st = db_prepare(db, "SELECT id FROM grid_frameworks ORDER BY id");
	int64_t *ids = NULL;
	size_t n = 0;
	while (st && db_step(st) == DB_ROW) {
		ids = xrealloc(ids, (n + 1) * sizeof *ids);
		ids[n++] = db_col_int64(st, 0);
	}
	db_finalize(st);
	for (size_t i = 0; i < n; i++) {
		struct gfw f;
		if (fw_load(db, ids[i], &f))
			continue;
		json_array_append_new(fws, fw_json(&f));
		struct db_stmt *cs;
		if (campaign_id > 0)
			cs = db_queryf(db, "SELECT id FROM grid_campaigns WHERE id = ?", "I",
			               campaign_id);
		else if (plan_id > 0)
			cs = db_queryf(db,
			               "SELECT id FROM grid_campaigns WHERE framework_id = ? AND "
			               "plan_id = ? ORDER BY year, id",
			               "II", f.id, plan_id);
		else
			cs = db_queryf(
			    db,
			    "SELECT id FROM grid_campaigns WHERE framework_id = ? ORDER BY "
			    "year, id",
			    "I", f.id);
		int64_t *cids = NULL;
		size_t nc = 0;
		while (cs && db_step(cs) == DB_ROW) {
			cids = xrealloc(cids, (nc + 1) * sizeof *cids);
			cids[nc++] = db_col_int64(cs, 0);
		}
		db_finalize(cs);
		for (size_t k = 0; k < nc; k++) {
			json_t *c = campaign_json(db, cids[k], &f);
			if (c)
				json_array_append_new(camps, c);
		}
		free(cids);
		fw_free(&f);
	}
	free(ids);
	return json_pack("{s:o,s:o}", "frameworks", fws, "campaigns", camps);
}

/* --- CSV and XLSX -------------------------------------------------------------------------- */

static const char *jtext(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The framework of a campaign within the export document. */
static json_t *doc_framework(json_t *doc, json_int_t id)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "frameworks"), i,
	                   f) if (json_integer_value(json_object_get(f, "id")) == id) return f;
	return NULL;
}

/* The path of labels to an item ("Axe › Fonction") and its scale descriptor. */
static int find_path(json_t *items, json_int_t id, struct buf *path)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (json_integer_value(json_object_get(it, "id")) == id)
			return 1;
		size_t mark = path->len;
		if (path->len)
			buf_puts(path, " › ");
		buf_puts(path, jtext(it, "label"));
		if (find_path(json_object_get(it, "children"), id, path))
			return 1;
		path->len = mark;
		if (path->data)
			path->data[mark] = '\0';
	}
	return 0;
}

static const char *scale_label(json_t *fw, json_t *score)
{
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(json_object_get(fw, "scale"), "levels"), i,
	                   l) if (json_integer_value(json_object_get(l, "level")) ==
	                          json_integer_value(score)) return jtext(l, "label");
	return "";
}

static const char *const CSV_HEAD[] = {"campagne_id", "campagne",    "annee",        "plan",
                                       "grille",      "structure",   "evaluation",   "evaluateur",
                                       "demo",        "numero",      "rattachement", "critere",
                                       "note",        "descripteur", "echelle",      "preuves"};
#define NCSV (sizeof CSV_HEAD / sizeof *CSV_HEAD)

/* Fill cells[NCSV] (malloc'ed) for one score row. */
static void score_cells(json_t *c, json_t *fw, json_t *a, json_t *s, char **cells)
{
	struct buf path = {0};
	find_path(json_object_get(fw, "items"), json_integer_value(json_object_get(s, "item_id")),
	          &path);
	json_t *score = json_object_get(s, "score");
	json_t *scale = json_object_get(fw, "scale");
	cells[0] = xasprintf("%lld", (long long)json_integer_value(json_object_get(c, "id")));
	cells[1] = xstrdup(jtext(c, "title"));
	cells[2] = xasprintf("%lld", (long long)json_integer_value(json_object_get(c, "year")));
	cells[3] = xstrdup(jtext(c, "plan"));
	cells[4] = xstrdup(jtext(fw, "name"));
	cells[5] = xstrdup(jtext(a, "structure"));
	cells[6] = xstrdup(kind_short(jtext(a, "kind")));
	cells[7] = xstrdup(jtext(a, "assessor"));
	cells[8] = xstrdup(json_is_true(json_object_get(a, "demo")) ? "oui" : "non");
	cells[9] = xstrdup(jtext(s, "number"));
	cells[10] = buf_steal(&path);
	cells[11] = xstrdup(jtext(s, "label"));
	cells[12] = json_is_integer(score) ? xasprintf("%lld", (long long)json_integer_value(score))
	                                   : xstrdup("");
	cells[13] = xstrdup(json_is_integer(score) ? scale_label(fw, score) : "");
	cells[14] =
	    xasprintf("%lld-%lld", (long long)json_integer_value(json_object_get(scale, "min")),
	              (long long)json_integer_value(json_object_get(scale, "max")));
	cells[15] = xstrdup(jtext(s, "evidence"));
}

static void cells_free(char **cells, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(cells[i]);
}

static void export_csv(json_t *doc, struct buf *out)
{
	struct csv_out w;
	csv_out_begin(&w, out);
	csv_out_header(&w, CSV_HEAD, NCSV);
	size_t ci, ai, si;
	json_t *c, *a, *s;
	json_array_foreach(json_object_get(doc, "campaigns"), ci, c)
	{
		json_t *fw =
		    doc_framework(doc, json_integer_value(json_object_get(c, "framework_id")));
		json_array_foreach(json_object_get(c, "assessments"), ai, a)
		{
			json_array_foreach(json_object_get(a, "scores"), si, s)
			{
				char *cells[NCSV];
				score_cells(c, fw, a, s, cells);
				for (size_t k = 0; k < NCSV; k++)
					if (k == 12 || k == 0 || k == 2)
						csv_out_value(&w, cells[k]);
					else
						csv_out_text(&w, cells[k]);
				csv_out_row_end(&w);
				cells_free(cells, NCSV);
			}
		}
	}
}

static void xlsx_items(lxw_worksheet *ws, lxw_row_t *row, json_t *fw, json_t *items, int depth,
                       lxw_format *wrap)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		worksheet_write_string(ws, *row, 0, jtext(fw, "name"), wrap);
		worksheet_write_string(ws, *row, 1, jtext(it, "number"), NULL);
		worksheet_write_number(ws, *row, 2, depth + 1, NULL);
		json_t *names = json_object_get(fw, "levels");
		worksheet_write_string(ws, *row, 3,
		                       json_string_value(json_array_get(names, (size_t)depth))
		                           ? json_string_value(json_array_get(names, (size_t)depth))
		                           : "",
		                       NULL);
		worksheet_write_string(ws, *row, 4, jtext(it, "label"), wrap);
		worksheet_write_string(ws, *row, 5, jtext(it, "description"), wrap);
		(*row)++;
		xlsx_items(ws, row, fw, json_object_get(it, "children"), depth + 1, wrap);
	}
}

static int export_xlsx(json_t *doc, struct buf *out, char **err)
{
	struct xlsx_out x;
	if (xlsx_out_open(&x, "grilles.xlsx", "Grilles d'évaluation", err))
		return -1;
	lxw_workbook *wb = x.wb;
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_format *wrap = workbook_add_format(wb);
	format_set_text_wrap(wrap);
	format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);

	lxw_worksheet *ws = workbook_add_worksheet(wb, "Grilles");
	static const char *const gh[] = {"grille",        "numero",  "niveau",
	                                 "nom_du_niveau", "libelle", "description"};
	static const double gw[] = {30, 10, 8, 14, 60, 80};
	for (lxw_col_t k = 0; k < 6; k++) {
		worksheet_set_column(ws, k, k, gw[k], NULL);
		worksheet_write_string(ws, 0, k, gh[k], bold);
	}
	lxw_row_t row = 1;
	size_t i;
	json_t *fw;
	json_array_foreach(json_object_get(doc, "frameworks"), i, fw)
	    xlsx_items(ws, &row, fw, json_object_get(fw, "items"), 0, wrap);
	worksheet_freeze_panes(ws, 1, 0);

	ws = workbook_add_worksheet(wb, "Échelles");
	static const char *const eh[] = {"grille", "niveau", "libelle", "descripteur"};
	for (lxw_col_t k = 0; k < 4; k++)
		worksheet_write_string(ws, 0, k, eh[k], bold);
	worksheet_set_column(ws, 0, 0, 30, NULL);
	worksheet_set_column(ws, 2, 2, 20, NULL);
	worksheet_set_column(ws, 3, 3, 80, wrap);
	row = 1;
	json_array_foreach(json_object_get(doc, "frameworks"), i, fw)
	{
		size_t k;
		json_t *l;
		json_array_foreach(json_object_get(json_object_get(fw, "scale"), "levels"), k, l)
		{
			worksheet_write_string(ws, row, 0, jtext(fw, "name"), NULL);
			worksheet_write_number(
			    ws, row, 1, (double)json_integer_value(json_object_get(l, "level")),
			    NULL);
			worksheet_write_string(ws, row, 2, jtext(l, "label"), NULL);
			worksheet_write_string(ws, row, 3, jtext(l, "description"), wrap);
			row++;
		}
	}

	ws = workbook_add_worksheet(wb, "Campagnes");
	static const char *const ch[] = {"campagne_id", "campagne", "annee",
	                                 "plan",        "grille",   "structures"};
	for (lxw_col_t k = 0; k < 6; k++)
		worksheet_write_string(ws, 0, k, ch[k], bold);
	worksheet_set_column(ws, 1, 1, 30, NULL);
	worksheet_set_column(ws, 3, 5, 40, wrap);
	row = 1;
	json_t *c;
	json_array_foreach(json_object_get(doc, "campaigns"), i, c)
	{
		struct buf names = {0};
		size_t k;
		json_t *s;
		json_array_foreach(json_object_get(c, "structures"), k, s)
		{
			if (k)
				buf_puts(&names, ", ");
			buf_puts(&names, jtext(s, "name"));
		}
		worksheet_write_number(ws, row, 0,
		                       (double)json_integer_value(json_object_get(c, "id")), NULL);
		worksheet_write_string(ws, row, 1, jtext(c, "title"), NULL);
		worksheet_write_number(
		    ws, row, 2, (double)json_integer_value(json_object_get(c, "year")), NULL);
		worksheet_write_string(ws, row, 3, jtext(c, "plan"), wrap);
		worksheet_write_string(ws, row, 4, jtext(c, "framework"), wrap);
		worksheet_write_string(ws, row, 5, buf_str(&names), wrap);
		buf_free(&names);
		row++;
	}

	ws = workbook_add_worksheet(wb, "Notes");
	for (size_t k = 0; k < NCSV; k++)
		worksheet_write_string(ws, 0, k, CSV_HEAD[k], bold);
	worksheet_set_column(ws, 10, 11, 50, wrap);
	worksheet_set_column(ws, 15, 15, 60, wrap);
	worksheet_freeze_panes(ws, 1, 0);
	row = 1;
	json_array_foreach(json_object_get(doc, "campaigns"), i, c)
	{
		json_t *f =
		    doc_framework(doc, json_integer_value(json_object_get(c, "framework_id")));
		size_t ai, si;
		json_t *a, *s;
		json_array_foreach(json_object_get(c, "assessments"), ai, a)
		{
			json_array_foreach(json_object_get(a, "scores"), si, s)
			{
				char *cells[NCSV];
				score_cells(c, f, a, s, cells);
				for (size_t k = 0; k < NCSV; k++) {
					if ((k == 0 || k == 2 || k == 12) && *cells[k])
						worksheet_write_number(ws, row, k, atof(cells[k]),
						                       NULL);
					else if (*cells[k])
						worksheet_write_string(ws, row, k, cells[k], NULL);
				}
				cells_free(cells, NCSV);
				row++;
			}
		}
	}
	if (row > 1)
		worksheet_autofilter(ws, 0, 0, row - 1, NCSV - 1);

	ws = workbook_add_worksheet(wb, "Témoignages");
	static const char *const th[] = {"campagne_id",  "campagne", "structure", "numero",
	                                 "rattachement", "role",     "citation"};
	for (lxw_col_t k = 0; k < 7; k++)
		worksheet_write_string(ws, 0, k, th[k], bold);
	worksheet_set_column(ws, 4, 4, 40, wrap);
	worksheet_set_column(ws, 5, 5, 28, NULL);
	worksheet_set_column(ws, 6, 6, 90, wrap);
	row = 1;
	json_array_foreach(json_object_get(doc, "campaigns"), i, c)
	{
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(c, "testimonies"), k, t)
		{
			const char *who = "";
			size_t ai;
			json_t *a;
			json_array_foreach(
			    json_object_get(c, "assessments"), ai,
			    a) if (json_integer_value(json_object_get(a, "id")) ==
			               json_integer_value(json_object_get(t, "assessment_id")) &&
			           json_is_integer(json_object_get(t, "assessment_id"))) who =
			    jtext(a, "structure");
			worksheet_write_number(
			    ws, row, 0, (double)json_integer_value(json_object_get(c, "id")), NULL);
			worksheet_write_string(ws, row, 1, jtext(c, "title"), NULL);
			worksheet_write_string(ws, row, 2, who, NULL);
			worksheet_write_string(ws, row, 3, jtext(t, "item_number"), NULL);
			worksheet_write_string(ws, row, 4, jtext(t, "item"), wrap);
			worksheet_write_string(ws, row, 5, jtext(t, "speaker"), NULL);
			worksheet_write_string(ws, row, 6, jtext(t, "quote"), wrap);
			row++;
		}
	}
	return xlsx_out_close(&x, out, err);
}

int grids_export(struct db *db, int64_t plan_id, int64_t campaign_id, enum grids_format fmt,
                 struct buf *out, char **err)
{
	if (fmt == GRIDS_NONE) {
		*err = xstrdup("format d'export inconnu (json, csv ou xlsx)");
		return -1;
	}
	json_t *doc = grids_export_json(db, plan_id, campaign_id);
	int rc = 0;
	if (fmt == GRIDS_JSON) {
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		buf_puts(out, s);
		buf_putc(out, '\n');
		free(s);
	} else if (fmt == GRIDS_CSV) {
		export_csv(doc, out);
	} else {
		rc = export_xlsx(doc, out, err);
	}
	json_decref(doc);
	return rc;
}

/* --- permissions --------------------------------------------------------------------------- */

static int is_admin(struct req *r)
{
	return r->user && r->user->role == ROLE_ADMIN;
}

static int fw_can_see(struct req *r, const struct gfw *f)
{
	if (!r->user)
		return 0;
	return !f->plan_id || is_admin(r) || plan_role(r, f->plan_id) >= ROLE_READER;
}

static int fw_can_edit(struct req *r, const struct gfw *f)
{
	if (!f->plan_id)
		return is_admin(r);
	return plan_role(r, f->plan_id) >= ROLE_COORDINATOR;
}

/* Load a framework the request may see (and edit when `edit`); answers 404/403 itself. */
static int fw_require(struct req *r, int64_t id, int edit, struct gfw *f)
{
	if (fw_load(r->db, id, f) || !fw_can_see(r, f)) {
		if (f->name)
			fw_free(f);
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	if (edit && !fw_can_edit(r, f)) {
		fw_free(f);
		resp_error(r, 403,
		           f->plan_id
		               ? "Seule la coordination du plan peut modifier cette grille."
		               : "Seuls les administrateurs modifient les grilles partagées.");
		return -1;
	}
	return 0;
}

struct camp {
	int64_t id, plan_id, framework_id;
	int year;
	char *title, *description, *plan_title;
	enum role role;
};

static void camp_free(struct camp *c)
{
	free(c->title);
	free(c->description);
	free(c->plan_title);
	memset(c, 0, sizeof *c);
}

static int camp_require(struct req *r, int64_t id, enum role min, struct camp *c)
{
	memset(c, 0, sizeof *c);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.plan_id, c.framework_id, c.year, c.title, c.description, p.title FROM "
	    "grid_campaigns c JOIN plans p ON p.id = c.plan_id WHERE c.id = ?",
	    "I", id);
	int found = st && db_step(st) == DB_ROW;
	if (found) {
		c->id = id;
		c->plan_id = db_col_int64(st, 0);
		c->framework_id = db_col_int64(st, 1);
		c->year = (int)db_col_int64(st, 2);
		c->title = xstrdup(db_col_text(st, 3));
		c->description = xstrdup(db_col_text(st, 4));
		c->plan_title = xstrdup(db_col_text(st, 5));
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	/* Campaigns are for the plan's members: anyone else (even on a public plan) gets 404. */
	enum role role = plan_role(r, c->plan_id);
	if (role < ROLE_READER || plan_require(r, c->plan_id, min)) {
		if (role < ROLE_READER)
			resp_error(r, 404, "Cette page n'existe pas.");
		camp_free(c);
		return -1;
	}
	c->role = role;
	return 0;
}

struct asmt {
	int64_t id, actor_id;
	char *kind, *actor, *assessor, *assessed_on, *summary;
	int demo;
	struct camp c;
};

static void asmt_free(struct asmt *a)
{
	free(a->kind);
	free(a->actor);
	free(a->assessor);
	free(a->assessed_on);
	free(a->summary);
	camp_free(&a->c);
	memset(a, 0, sizeof *a);
}

static int asmt_require(struct req *r, int64_t id, enum role min, struct asmt *a)
{
	memset(a, 0, sizeof *a);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT s.campaign_id, s.actor_id, s.kind, a.name, s.assessor, s.assessed_on, "
	    "s.summary, s.is_demo FROM grid_assessments s JOIN actors a ON a.id = s.actor_id WHERE "
	    "s.id = ?",
	    "I", id);
	int found = st && db_step(st) == DB_ROW;
	int64_t cid = 0;
	if (found) {
		a->id = id;
		cid = db_col_int64(st, 0);
		a->actor_id = db_col_int64(st, 1);
		a->kind = xstrdup(db_col_text(st, 2));
		a->actor = xstrdup(db_col_text(st, 3));
		a->assessor = xstrdup(db_col_text(st, 4));
		a->assessed_on = xstrdup(db_col_text(st, 5) ? db_col_text(st, 5) : "");
		a->summary = xstrdup(db_col_text(st, 6));
		a->demo = (int)db_col_int64(st, 7);
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	struct camp c;
	if (camp_require(r, cid, min, &c)) {
		asmt_free(a);
		return -1;
	}
	a->c = c;
	return 0;
}

/* --- small helpers ------------------------------------------------------------------------- */

static char *field(struct req *r, const char *key)
{
	const char *v = req_form(r, key);
	return v ? str_trim_dup(v) : NULL;
}

static const char *origin(struct req *r)
{
	return r->is_api ? "api" : "web";
}

static void error_notice(struct req *r, const char *error)
{
	if (error)
		html_printf(&r->out, "<p class=\"notice notice-error\" role=\"alert\">%s</p>\n",
		            error);
}

static void fmt_score(char out[48], double v)
{
	if (isnan(v))
		snprintf(out, 48, "—");
	else
		svg_number(out, v, 1);
}

static int date_ok(const char *s)
{
	int y, m, d;
	char tail;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
		return 0;
	static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
	return y >= 2000 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= md[m - 1] &&
	       !(m == 2 && d == 29 && !leap);
}

/* An integer form value within [lo, hi]; -1 when missing or invalid. */
static int form_int(const char *v, int lo, int hi, int *out)
{
	int64_t x;
	if (!v || parse_int64(v, &x) || x < lo || x > hi)
		return -1;
	*out = (int)x;
	return 0;
}

/* --- frameworks list ----------------------------------------------------------------------- */

#define FW_VISIBLE                                                                                 \
	"(g.plan_id IS NULL OR ? = 1 OR EXISTS (SELECT 1 FROM plan_members m WHERE m.plan_id = "   \
	"g.plan_id AND m.user_id = ?))"

static void frameworks_render(struct req *r, const char *error)
{
	struct buf *o = &r->out;
	char *err = NULL;
	if (grids_ensure_shipped(r->db, &err))
		free(err);
	page_begin(r, "Grilles d'évaluation", NULL);
	buf_puts(o, "<h1>Grilles d'évaluation</h1>\n<p class=\"lead\">Des référentiels en arbre "
	            "(axes, fonctions, critères…) notés sur une échelle dont chaque niveau a son "
	            "descripteur. Les grilles partagées sont administrées par les "
	            "administrateurs ; un plan peut avoir ses propres grilles.</p>\n");
	error_notice(r, error);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT g.id, g.name, g.plan_id, p.title, g.scale_min, g.scale_max, (SELECT COUNT(*) "
	    "FROM grid_items i WHERE i.framework_id = g.id AND NOT EXISTS (SELECT 1 FROM "
	    "grid_items "
	    "k WHERE k.parent_id = i.id)), (SELECT COUNT(*) FROM grid_campaigns c WHERE "
	    "c.framework_id = g.id) FROM grid_frameworks g LEFT JOIN plans p ON p.id = g.plan_id "
	    "WHERE " FW_VISIBLE " ORDER BY g.plan_id IS NOT NULL, p.title, g.name, g.id",
	    "iI", is_admin(r), r->user->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Grilles "
			    "disponibles</caption>\n<thead><tr><th scope=\"col\">Grille</th>"
			    "<th scope=\"col\">Portée</th><th scope=\"col\" class=\"num\">"
			    "Critères notés</th><th scope=\"col\">Échelle</th><th "
			    "scope=\"col\" class=\"num\">Campagnes</th></tr></thead>\n<tbody>\n");
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"/grilles/%lld\">%s</a></th><td>%s</td>"
		            "<td class=\"num\">%lld</td><td>de %lld à %lld</td><td "
		            "class=\"num\">%lld</td></tr>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            db_col_is_null(st, 2) ? "Grille partagée" : db_col_text(st, 3),
		            (long long)db_col_int64(st, 6), (long long)db_col_int64(st, 4),
		            (long long)db_col_int64(st, 5), (long long)db_col_int64(st, 7));
	}
	db_finalize(st);
	buf_puts(o, n ? "</tbody></table></div>\n" : "<p>Aucune grille pour l'instant.</p>\n");

	/* Plans where the user may create a grid or run campaigns. */
	st = db_queryf(r->db,
	               "SELECT p.id, p.title FROM plans p WHERE ? = 1 OR EXISTS (SELECT 1 FROM "
	               "plan_members m WHERE m.plan_id = p.id AND m.user_id = ? AND m.role = "
	               "'coordinator') ORDER BY p.title, p.id",
	               "iI", is_admin(r), r->user->id);
	struct buf opts = {0};
	int np = 0;
	const char *sel = req_form(r, "plan");
	while (st && db_step(st) == DB_ROW) {
		char idtxt[24];
		snprintf(idtxt, sizeof idtxt, "%lld", (long long)db_col_int64(st, 0));
		html_printf(&opts, "<option value=\"%s\"%R>%s</option>", idtxt,
		            sel && !strcmp(sel, idtxt) ? " selected" : "", db_col_text(st, 1));
		np++;
	}
	db_finalize(st);
	st = db_queryf(r->db,
	               "SELECT p.id, p.title FROM plans p WHERE " PLAN_VISIBLE_WHERE
	               " AND (? = 1 OR EXISTS (SELECT 1 FROM plan_members m2 WHERE m2.plan_id = "
	               "p.id AND m2.user_id = ?)) ORDER BY p.title, p.id",
	               "");
	if (st) {
		plan_bind_visible(st, 1, r);
		db_bind_int64(st, 3, is_admin(r));
		db_bind_int64(st, 4, r->user->id);
	}
	int nc = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!nc++)
			buf_puts(o, "<h2>Campagnes d'évaluation de vos plans</h2>\n<ul>\n");
		html_printf(o, "<li><a href=\"/plans/%lld/campagnes\">%s</a></li>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1));
	}
	db_finalize(st);
	if (nc)
		buf_puts(o, "</ul>\n");
	if (np || is_admin(r)) {
		buf_puts(o, "<h2>Nouvelle grille</h2>\n<form class=\"form\" method=\"post\" "
		            "action=\"/grilles\">\n");
		page_csrf(r);
		const char *name = error ? req_form(r, "name") : NULL;
		const char *smin = error ? req_form(r, "scale_min") : NULL;
		const char *smax = error ? req_form(r, "scale_max") : NULL;
		const char *levels = error ? req_form(r, "levels") : NULL;
		html_printf(o,
		            "<div class=\"field\"><label for=\"g-name\">Nom de la grille</label>"
		            "<input id=\"g-name\" name=\"name\" required maxlength=\"%d\" "
		            "value=\"%s\"></div>\n<div class=\"field\"><label for=\"g-plan\">"
		            "Portée</label><select id=\"g-plan\" name=\"plan\">%R%R</select>"
		            "<p class=\"hint\">Une grille partagée sert à tous les plans ; seuls "
		            "les administrateurs la modifient.</p></div>\n",
		            NAME_MAX_LEN, name ? name : "",
		            is_admin(r) ? "<option value=\"\">Grille partagée</option>" : "",
		            buf_str(&opts));
		html_printf(o,
		            "<div class=\"field\"><label for=\"g-levels\">Noms des niveaux de "
		            "l'arbre</label><textarea id=\"g-levels\" name=\"levels\" rows=\"3\" "
		            "aria-describedby=\"g-levels-hint\">%s</textarea><p class=\"hint\" "
		            "id=\"g-levels-hint\">Un par ligne, du plus haut au plus fin : par "
		            "exemple Axe, Fonction, Critère. Seuls les éléments sans "
		            "sous-élément sont notés.</p></div>\n"
		            "<div class=\"field\"><label for=\"g-min\">Note la plus basse</label>"
		            "<input id=\"g-min\" name=\"scale_min\" type=\"number\" min=\"0\" "
		            "max=\"9\" required value=\"%s\"></div>\n<div class=\"field\"><label "
		            "for=\"g-max\">Note la plus haute</label><input id=\"g-max\" "
		            "name=\"scale_max\" type=\"number\" min=\"1\" max=\"10\" required "
		            "value=\"%s\"></div>\n<div class=\"actions\"><button class=\"button\" "
		            "type=\"submit\">Créer la grille</button></div>\n</form>\n",
		            levels ? levels : "Axe\nFonction\nCritère", smin ? smin : "1",
		            smax ? smax : "4");
	}
	buf_free(&opts);
	page_end(r);
}

/* Validate level names (one a line): normalised into out; an error message or NULL. */
static const char *levels_parse(const char *in, struct buf *out)
{
	int n = 0;
	const char *s = in ? in : "";
	while (*s) {
		size_t len = strcspn(s, "\r\n");
		char *line = xstrndup(s, len);
		char *t = str_trim_dup(line);
		free(line);
		if (*t) {
			if (text_chars(t) > LEVEL_NAME_MAX || ++n > MAX_DEPTH + 2) {
				free(t);
				return "Les noms de niveaux sont limités à 8 noms de 60 "
				       "caractères.";
			}
			if (out->len)
				buf_putc(out, '\n');
			buf_puts(out, t);
		}
		free(t);
		s += len;
		while (*s == '\r' || *s == '\n')
			s++;
	}
	return NULL;
}

/* GET /grilles */
static void frameworks_page(struct req *r)
{
	frameworks_render(r, NULL);
}

/* POST /grilles: create a framework (shared: administrators; a plan's: its coordinators). */
static void framework_create(struct req *r)
{
	const char *plan = req_form(r, "plan");
	int64_t plan_id = 0;
	if (plan && *plan && (parse_int64(plan, &plan_id) || plan_id <= 0)) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return;
	}
	if (plan_id) {
		if (plan_require(r, plan_id, ROLE_COORDINATOR))
			return;
	} else if (!is_admin(r)) {
		resp_error(r, 403, "Seuls les administrateurs créent des grilles partagées.");
		return;
	}
	char *name = field(r, "name");
	struct buf lv = {0};
	const char *err = NULL;
	int smin = 0, smax = 0;
	if (!name || !*name)
		err = "Indiquez le nom de la grille.";
	else if (text_chars(name) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	else if (form_int(req_form(r, "scale_min"), 0, SCALE_TOP - 1, &smin) ||
	         form_int(req_form(r, "scale_max"), 1, SCALE_TOP, &smax) || smax <= smin)
		err = "L'échelle va d'une note entière (0 à 9) à une note plus haute (10 au plus).";
	else
		err = levels_parse(req_form(r, "levels"), &lv);
	int64_t id = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &id,
			    "INSERT INTO grid_frameworks (plan_id, name, level_names, "
			    "scale_min, scale_max, created_at, updated_at) VALUES "
			    "(CAST(NULLIF(?, 0) AS BIGINT), ?, ?, ?, ?, ?, ?) RETURNING id",
			    "Issiiss", plan_id, name, buf_str(&lv), smin, smax, now, now);
		for (int l = smin; rc == DB_OK && l <= smax; l++) {
			char lab[32];
			snprintf(lab, sizeof lab, "Niveau %d", l);
			rc = db_execf(
			    r->db,
			    "INSERT INTO grid_scale_levels (framework_id, level, label) VALUES "
			    "(?, ?, ?)",
			    "Iis", id, l, lab);
		}
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, origin(r), "create",
			                     "grid_framework", id, NULL,
			                     "SELECT * FROM grid_frameworks WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		frameworks_render(r, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/grilles/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	buf_free(&lv);
	free(name);
}

/* --- one framework: view and editor -------------------------------------------------------- */

static void item_options(struct buf *o, const struct gfw *f, int64_t selected, int leaves_only)
{
	for (size_t i = 0; i < f->n; i++) {
		if (leaves_only && !f->it[i].leaf)
			continue;
		html_printf(o, "<option value=\"%lld\"%R>%s %s</option>", (long long)f->it[i].id,
		            f->it[i].id == selected ? " selected" : "", f->it[i].num,
		            f->it[i].label);
	}
}

static void framework_render(struct req *r, struct gfw *f, const char *error, int64_t err_item)
{
	struct buf *o = &r->out;
	int w = fw_can_edit(r, f);
	char *plan_href = f->plan_id ? xasprintf("/plans/%lld", (long long)f->plan_id) : NULL;
	struct crumb crumbs[] = {{"Grilles d'évaluation", "/grilles"},
	                         {f->plan_id ? f->plan_title : NULL, plan_href},
	                         {NULL, NULL}};
	if (f->plan_id) {
		crumbs[0] = (struct crumb){f->plan_title, plan_href};
		crumbs[1] = (struct crumb){"Grilles d'évaluation", "/grilles"};
	}
	page_begin(r, f->name, crumbs);
	html_printf(o, "<h1>%s</h1>\n<p><span class=\"badge\">%s</span></p>\n", f->name,
	            f->plan_id ? "Grille propre au plan" : "Grille partagée");
	error_notice(r, error);
	if (*f->description)
		html_printf(o, "<p>%s</p>\n", f->description);
	html_printf(o, "<dl class=\"facts\"><div><dt>Critères notés</dt><dd>%zu</dd></div>",
	            fw_leaves(f));
	if (f->plan_id)
		html_printf(o, "<div><dt>Plan</dt><dd><a href=\"%s\">%s</a></dd></div>", plan_href,
		            f->plan_title);
	if (*f->source)
		html_printf(o, "<div><dt>Source</dt><dd>%s</dd></div>", f->source);
	buf_puts(o, "</dl>\n");

	/* Scale */
	buf_puts(o, "<h2>Échelle</h2>\n<div class=\"table-wrap\" tabindex=\"0\"><table>\n"
	            "<caption>Niveaux de l'échelle et leurs descripteurs</caption>\n<thead><tr>"
	            "<th scope=\"col\" class=\"num\">Note</th><th scope=\"col\">Libellé</th><th "
	            "scope=\"col\">Descripteur</th></tr></thead>\n<tbody>\n");
	for (int l = f->smin; l <= f->smax; l++)
		html_printf(o,
		            "<tr><th scope=\"row\" class=\"num\">%d</th><td>%s</td><td>%s</td>"
		            "</tr>\n",
		            l, f->lvl_label[l - f->smin], f->lvl_desc[l - f->smin]);
	buf_puts(o, "</tbody></table></div>\n");

	/* Tree */
	buf_puts(o, "<h2>Arborescence</h2>\n");
	if (!f->n)
		buf_puts(o, "<p>La grille est vide : ajoutez un premier élément.</p>\n");
	int depth = -1;
	for (size_t i = 0; i < f->n; i++) {
		struct gitem *g = &f->it[i];
		while (depth < g->depth) {
			buf_puts(o, depth < 0 ? "<ol class=\"tree grid-tree\">\n" : "<ol>\n");
			depth++;
		}
		while (depth > g->depth) {
			buf_puts(o, "</ol></li>\n");
			depth--;
		}
		char lname[LEVEL_NAME_MAX * 4 + 8];
		level_name(f, g->depth, lname, sizeof lname);
		html_printf(o,
		            "<li id=\"e%lld\"><strong>%s</strong> <span class=\"badge\">%s%R"
		            "</span> %s",
		            (long long)g->id, g->num, lname, g->leaf ? " · noté" : "", g->label);
		if (*g->description)
			html_printf(o, "<p class=\"hint\">%s</p>", g->description);
		if (w) {
			int open = err_item == g->id;
			html_printf(o,
			            "<details%R><summary>Modifier « %s »</summary>\n<form "
			            "class=\"form\" method=\"post\" "
			            "action=\"/grilles/%lld/elements/%lld\">\n",
			            open ? " open" : "", g->num, (long long)f->id,
			            (long long)g->id);
			page_csrf(r);
			const char *lab = open ? req_form(r, "label") : NULL;
			const char *desc = open ? req_form(r, "description") : NULL;
			html_printf(
			    o,
			    "<div class=\"field\"><label for=\"l%lld\">Libellé</label><input "
			    "id=\"l%lld\" name=\"label\" required maxlength=\"%d\" "
			    "value=\"%s\"></div>"
			    "<div class=\"field\"><label "
			    "for=\"d%lld\">Description</label><textarea "
			    "id=\"d%lld\" name=\"description\" rows=\"2\">%s</textarea></div>"
			    "<div class=\"actions\"><button class=\"button small\" "
			    "type=\"submit\">Enregistrer</button></div></form>\n",
			    (long long)g->id, (long long)g->id, LABEL_MAX_LEN, lab ? lab : g->label,
			    (long long)g->id, (long long)g->id, desc ? desc : g->description);
			for (int k = 0; k < 2; k++) {
				html_printf(o,
				            "<form class=\"form\" method=\"post\" "
				            "action=\"/grilles/%lld/elements\">\n",
				            (long long)f->id);
				page_csrf(r);
				html_printf(
				    o,
				    "<input type=\"hidden\" name=\"%s\" value=\"%lld\"><div "
				    "class=\"field\"><label for=\"n%d-%lld\">%s</label><input "
				    "id=\"n%d-%lld\" name=\"label\" required maxlength=\"%d\">"
				    "</div><div class=\"actions\"><button class=\"button small\" "
				    "type=\"submit\">%s</button></div></form>\n",
				    k ? "after" : "parent", (long long)g->id, k, (long long)g->id,
				    k ? "Libellé d'un élément à ajouter après celui-ci"
				      : "Libellé d'un sous-élément à ajouter",
				    k, (long long)g->id, LABEL_MAX_LEN,
				    k ? "Ajouter après" : "Ajouter un sous-élément");
			}
			for (int k = 0; k < 2; k++) {
				html_printf(
				    o,
				    "<form method=\"post\" action=\"/grilles/%lld/elements/%lld/"
				    "deplacer\"><input type=\"hidden\" name=\"sens\" value=\"%s\">",
				    (long long)f->id, (long long)g->id, k ? "bas" : "haut");
				page_csrf(r);
				html_printf(
				    o,
				    "<button class=\"button small\" type=\"submit\">%s « %s »"
				    "</button></form>\n",
				    k ? "Descendre" : "Monter", g->num);
			}
			html_printf(o,
			            "<form method=\"post\" action=\"/grilles/%lld/elements/%lld/"
			            "supprimer\">",
			            (long long)f->id, (long long)g->id);
			page_csrf(r);
			html_printf(
			    o,
			    "<button class=\"button small\" type=\"submit\">Supprimer « %s » "
			    "et ses sous-éléments</button></form>\n</details>\n",
			    g->num);
		}
		if (g->leaf)
			buf_puts(o, "</li>\n");
		else
			buf_puts(o, "\n");
	}
	while (depth >= 0) {
		buf_puts(o, depth > 0 ? "</ol></li>\n" : "</ol>\n");
		depth--;
	}
	if (w) {
		html_printf(o,
		            "<h3>Ajouter un élément de premier niveau</h3>\n<form class=\"form\" "
		            "method=\"post\" action=\"/grilles/%lld/elements\">\n",
		            (long long)f->id);
		page_csrf(r);
		const char *lab = error && !err_item ? req_form(r, "label") : NULL;
		html_printf(o,
		            "<div class=\"field\"><label for=\"top-label\">Libellé</label><input "
		            "id=\"top-label\" name=\"label\" required maxlength=\"%d\" "
		            "value=\"%s\"></div><div class=\"field\"><label for=\"top-desc\">"
		            "Description</label><textarea id=\"top-desc\" name=\"description\" "
		            "rows=\"2\"></textarea></div><div class=\"actions\"><button "
		            "class=\"button\" type=\"submit\">Ajouter</button></div></form>\n",
		            LABEL_MAX_LEN, lab ? lab : "");

		buf_puts(o, "<h2>Réglages de la grille</h2>\n");
		html_printf(o, "<form class=\"form\" method=\"post\" action=\"/grilles/%lld\">\n",
		            (long long)f->id);
		page_csrf(r);
		int again = error && err_item < 0;
		const char *name = again ? req_form(r, "name") : f->name;
		const char *desc = again ? req_form(r, "description") : f->description;
		const char *levels = again ? req_form(r, "levels") : f->level_names;
		char smin[16], smax[16];
		snprintf(smin, sizeof smin, "%d", f->smin);
		snprintf(smax, sizeof smax, "%d", f->smax);
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"s-name\">Nom</label><input id=\"s-name\" "
		    "name=\"name\" required maxlength=\"%d\" value=\"%s\"></div>\n<div "
		    "class=\"field\"><label for=\"s-desc\">Description</label><textarea "
		    "id=\"s-desc\" "
		    "name=\"description\" rows=\"3\">%s</textarea></div>\n<div "
		    "class=\"field\"><label "
		    "for=\"s-levels\">Noms des niveaux de l'arbre (un par ligne)</label><textarea "
		    "id=\"s-levels\" name=\"levels\" rows=\"3\">%s</textarea></div>\n<div "
		    "class=\"field\"><label for=\"s-min\">Note la plus basse</label><input "
		    "id=\"s-min\" name=\"scale_min\" type=\"number\" min=\"0\" max=\"9\" required "
		    "value=\"%s\"></div>\n<div class=\"field\"><label for=\"s-max\">Note la plus "
		    "haute</label><input id=\"s-max\" name=\"scale_max\" type=\"number\" min=\"1\" "
		    "max=\"10\" required value=\"%s\"><p class=\"hint\">Une note déjà saisie hors "
		    "de "
		    "la nouvelle échelle empêche le changement.</p></div>\n",
		    NAME_MAX_LEN, name ? name : "", desc ? desc : "", levels ? levels : "",
		    again && req_form(r, "scale_min") ? req_form(r, "scale_min") : smin,
		    again && req_form(r, "scale_max") ? req_form(r, "scale_max") : smax);
		buf_puts(o, "<fieldset><legend>Descripteurs des niveaux</legend>\n");
		for (int l = f->smin; l <= f->smax; l++) {
			char kl[32], kd[32];
			snprintf(kl, sizeof kl, "level_label_%d", l);
			snprintf(kd, sizeof kd, "level_desc_%d", l);
			const char *vl = again ? req_form(r, kl) : f->lvl_label[l - f->smin];
			const char *vd = again ? req_form(r, kd) : f->lvl_desc[l - f->smin];
			html_printf(
			    o,
			    "<div class=\"field\"><label for=\"%s\">Libellé du niveau %d</label>"
			    "<input id=\"%s\" name=\"%s\" maxlength=\"100\" value=\"%s\"></div>"
			    "<div class=\"field\"><label for=\"%s\">Descripteur du niveau %d"
			    "</label><textarea id=\"%s\" name=\"%s\" rows=\"2\">%s</textarea>"
			    "</div>\n",
			    kl, l, kl, kl, vl ? vl : "", kd, l, kd, kd, vd ? vd : "");
		}
		buf_puts(o, "</fieldset>\n<div class=\"actions\"><button class=\"button\" "
		            "type=\"submit\">Enregistrer les réglages</button></div>\n</form>\n");
		html_printf(o,
		            "<h2>Supprimer la grille</h2>\n<form method=\"post\" "
		            "action=\"/grilles/%lld/supprimer\">",
		            (long long)f->id);
		page_csrf(r);
		buf_puts(o,
		         "<p class=\"hint\">Impossible tant qu'une campagne l'utilise.</p><button "
		         "class=\"button small\" type=\"submit\">Supprimer la grille</button>"
		         "</form>\n");
	}
	/* Copy into a plan (or as a new shared grid for administrators), to adapt it. */
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT p.id, p.title FROM plans p WHERE ? = 1 OR EXISTS "
	              "(SELECT 1 FROM plan_members m WHERE m.plan_id = p.id AND "
	              "m.user_id = ? AND m.role = 'coordinator') ORDER BY p.title, "
	              "p.id",
	              "iI", is_admin(r), r->user->id);
	int np = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!np++) {
			html_printf(
			    o,
			    "<h2>Copier la grille</h2>\n<p>Une copie modifiable (arbre, échelle, "
			    "descripteurs), pour l'adapter à un plan.</p>\n<form class=\"form\" "
			    "method=\"post\" action=\"/grilles/%lld/copier\">\n",
			    (long long)f->id);
			page_csrf(r);
			char *copy = xasprintf("%s (copie)", f->name);
			html_printf(
			    o,
			    "<div class=\"field\"><label for=\"cp-name\">Nom de la copie"
			    "</label><input id=\"cp-name\" name=\"name\" required "
			    "maxlength=\"%d\" value=\"%s\"></div>\n<div class=\"field\"><label "
			    "for=\"cp-plan\">Plan</label><select id=\"cp-plan\" name=\"plan\">%R",
			    NAME_MAX_LEN, copy,
			    is_admin(r) ? "<option value=\"\">Grille partagée</option>" : "");
			free(copy);
		}
		html_printf(o, "<option value=\"%lld\">%s</option>", (long long)db_col_int64(st, 0),
		            db_col_text(st, 1));
	}
	db_finalize(st);
	if (np)
		buf_puts(o, "</select></div>\n<div class=\"actions\"><button class=\"button\" "
		            "type=\"submit\">Copier la grille</button></div>\n</form>\n");
	page_end(r);
	free(plan_href);
}

/* GET /grilles/{framework} */
static void framework_page(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 0, &f))
		return;
	framework_render(r, &f, NULL, 0);
	fw_free(&f);
}

/* Count of scores stored on the items of f[from, to). */
static int64_t scores_in(struct db *db, const struct gfw *f, size_t from, size_t to)
{
	int64_t total = 0;
	for (size_t i = from; i < to; i++) {
		int64_t n = 0;
		db_int64f(db, &n, "SELECT COUNT(*) FROM grid_scores WHERE item_id = ?", "I",
		          f->it[i].id);
		total += n;
	}
	return total;
}

/* POST /grilles/{framework}: name, description, level names, scale and descriptors. */
static void framework_update(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	char *name = field(r, "name");
	char *desc = field(r, "description");
	struct buf lv = {0};
	const char *err = NULL;
	int smin = 0, smax = 0;
	if (!name || !*name)
		err = "Indiquez le nom de la grille.";
	else if (text_chars(name) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	else if (desc && text_chars(desc) > DESC_MAX_LEN)
		err = "La description est trop longue (3 000 caractères au plus).";
	else if (form_int(req_form(r, "scale_min"), 0, SCALE_TOP - 1, &smin) ||
	         form_int(req_form(r, "scale_max"), 1, SCALE_TOP, &smax) || smax <= smin)
		err = "L'échelle va d'une note entière (0 à 9) à une note plus haute (10 au plus).";
	else
		err = levels_parse(req_form(r, "levels"), &lv);
	for (int l = smin; !err && l <= smax; l++) {
		char kl[32], kd[32];
		snprintf(kl, sizeof kl, "level_label_%d", l);
		snprintf(kd, sizeof kd, "level_desc_%d", l);
		const char *vl = req_form(r, kl), *vd = req_form(r, kd);
		if ((vl && text_chars(vl) > 100) || (vd && text_chars(vd) > DESC_MAX_LEN))
			err =
			    "Un libellé de niveau dépasse 100 caractères ou un descripteur 3 000.";
	}
	if (!err) {
		int64_t out = 0;
		db_int64f(
		    r->db, &out,
		    "SELECT COUNT(*) FROM grid_scores s JOIN grid_items i ON i.id = s.item_id "
		    "WHERE i.framework_id = ? AND s.score IS NOT NULL AND (s.score < ? OR "
		    "s.score > ?)",
		    "Iii", f.id, smin, smax);
		if (out)
			err = "Des notes déjà saisies sortent de cette échelle : la grille garde "
			      "son échelle actuelle.";
	}
	if (!err) {
		json_t *before = fw_json(&f);
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db,
			    "UPDATE grid_frameworks SET name = ?, description = ?, "
			    "level_names = ?, scale_min = ?, scale_max = ?, updated_at = ? "
			    "WHERE id = ?",
			    "sssiisI", name, desc ? desc : "", buf_str(&lv), smin, smax, now, f.id);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db,
			    "DELETE FROM grid_scale_levels WHERE framework_id = ? AND (level "
			    "< ? OR level > ?)",
			    "Iii", f.id, smin, smax);
		for (int l = smin; rc == DB_OK && l <= smax; l++) {
			char kl[32], kd[32];
			snprintf(kl, sizeof kl, "level_label_%d", l);
			snprintf(kd, sizeof kd, "level_desc_%d", l);
			char *vl = field(r, kl), *vd = field(r, kd);
			char *deflab = xasprintf("Niveau %d", l);
			const char *lab = vl && *vl                    ? vl
			                  : l >= f.smin && l <= f.smax ? f.lvl_label[l - f.smin]
			                                               : deflab;
			const char *d = vd                           ? vd
			                : l >= f.smin && l <= f.smax ? f.lvl_desc[l - f.smin]
			                                             : "";
			rc = db_execf(r->db,
			              "INSERT INTO grid_scale_levels (framework_id, level, label, "
			              "description) VALUES (?, ?, ?, ?) ON CONFLICT (framework_id, "
			              "level) DO UPDATE SET label = excluded.label, description = "
			              "excluded.description",
			              "Iiss", f.id, l, lab, d);
			free(vl);
			free(vd);
			free(deflab);
		}
		if (rc == DB_OK) {
			struct gfw g;
			json_t *after = NULL;
			if (!fw_load(r->db, f.id, &g)) {
				after = fw_json(&g);
				fw_free(&g);
			}
			rc = audit_write_id(r->db, r->user->id, origin(r), "update",
			                    "grid_framework", f.id, before, after);
			json_decref(after);
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		framework_render(r, &f, err, -1);
		r->status = 422;
	} else {
		char *loc = xasprintf("/grilles/%lld", (long long)f.id);
		resp_redirect(r, loc);
		free(loc);
	}
	buf_free(&lv);
	free(name);
	free(desc);
	fw_free(&f);
}

/* POST /grilles/{framework}/supprimer */
static void framework_delete(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	int64_t used = 0;
	db_int64f(r->db, &used, "SELECT COUNT(*) FROM grid_campaigns WHERE framework_id = ?", "I",
	          f.id);
	if (used) {
		framework_render(
		    r, &f, "Cette grille sert à une campagne : supprimez d'abord la campagne.", -2);
		r->status = 422;
		fw_free(&f);
		return;
	}
	json_t *before = fw_json(&f);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM grid_frameworks WHERE id = ?", "I", f.id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin(r), "delete", "grid_framework", f.id,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK)
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	else
		resp_redirect(r, "/grilles");
	fw_free(&f);
}

/* --- elements of a framework --------------------------------------------------------------- */

static char *fw_href(int64_t id)
{
	return xasprintf("/grilles/%lld", (long long)id);
}

/* POST /grilles/{framework}/elements: label, description, and parent (a child) or after (a
 * sibling placed right after), or neither (a top-level element at the end). */
static void element_add(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	char *label = field(r, "label");
	char *desc = field(r, "description");
	const char *pv = req_form(r, "parent"), *av = req_form(r, "after");
	int64_t parent = 0, after = 0, err_item = 0;
	ssize_t pix = -1, aix = -1;
	const char *err = NULL;
	if (pv && *pv && (parse_int64(pv, &parent) || (pix = fw_index(&f, parent)) < 0))
		err = "L'élément parent n'appartient pas à cette grille.";
	else if (av && *av && (parse_int64(av, &after) || (aix = fw_index(&f, after)) < 0))
		err = "L'élément de référence n'appartient pas à cette grille.";
	else if (!label || !*label)
		err = "Indiquez le libellé de l'élément.";
	else if (text_chars(label) > LABEL_MAX_LEN)
		err = "Le libellé est trop long (300 caractères au plus).";
	else if (desc && text_chars(desc) > DESC_MAX_LEN)
		err = "La description est trop longue (3 000 caractères au plus).";
	else if (f.n >= MAX_ITEMS)
		err = "Une grille compte 500 éléments au plus.";
	if (!err && aix >= 0) {
		parent = f.it[aix].parent_id;
		pix = parent ? fw_index(&f, parent) : -1;
	}
	if (!err && pix >= 0 && f.it[pix].depth + 1 >= MAX_DEPTH)
		err = "Une grille compte 6 niveaux au plus.";
	if (!err && pix >= 0 && f.it[pix].leaf &&
	    scores_in(r->db, &f, (size_t)pix, (size_t)pix + 1))
		err = "Ce critère a déjà des notes : il ne peut pas recevoir de sous-élément.";
	if (err)
		err_item = pix >= 0 ? f.it[pix].id : aix >= 0 ? f.it[aix].id : 0;
	int64_t nid = 0;
	if (!err) {
		/* Position: after the reference sibling (shifting the next ones), else last. */
		int64_t pos = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK && after) {
			db_int64f(r->db, &pos, "SELECT position FROM grid_items WHERE id = ?", "I",
			          after);
			pos++;
			rc = parent
			         ? db_execf(r->db,
			                    "UPDATE grid_items SET position = position + 1 WHERE "
			                    "framework_id = ? AND parent_id = ? AND position >= ?",
			                    "III", f.id, parent, pos)
			         : db_execf(
			               r->db,
			               "UPDATE grid_items SET position = position + 1 WHERE "
			               "framework_id = ? AND parent_id IS NULL AND position >= ?",
			               "II", f.id, pos);
		} else if (rc == DB_OK) {
			rc =
			    parent
			        ? db_int64f(r->db, &pos,
			                    "SELECT COALESCE(MAX(position), 0) + 1 FROM grid_items "
			                    "WHERE framework_id = ? AND parent_id = ?",
			                    "II", f.id, parent)
			        : db_int64f(r->db, &pos,
			                    "SELECT COALESCE(MAX(position), 0) + 1 FROM grid_items "
			                    "WHERE framework_id = ? AND parent_id IS NULL",
			                    "I", f.id);
		}
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &nid,
			    "INSERT INTO grid_items (framework_id, parent_id, position, label, "
			    "description) VALUES (?, CAST(NULLIF(?, 0) AS BIGINT), ?, ?, ?) "
			    "RETURNING id",
			    "IIIss", f.id, parent, pos, label, desc ? desc : "");
		if (rc == DB_OK) {
			char now[32];
			time_iso_now(now);
			db_execf(r->db, "UPDATE grid_frameworks SET updated_at = ? WHERE id = ?",
			         "sI", now, f.id);
			json_t *after_j =
			    store_row_json(r->db, "SELECT * FROM grid_items WHERE id = ?", nid);
			rc = audit_write_id(r->db, r->user->id, origin(r), "create", "grid_item",
			                    nid, NULL, after_j);
			json_decref(after_j);
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		framework_render(r, &f, err, err_item);
		r->status = 422;
	} else {
		char *loc = xasprintf("/grilles/%lld#e%lld", (long long)f.id, (long long)nid);
		resp_redirect(r, loc);
		free(loc);
	}
	free(label);
	free(desc);
	fw_free(&f);
}

/* POST /grilles/{framework}/elements/{element}: rename, describe. */
static void element_update(struct req *r)
{
	int64_t id, eid;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	ssize_t ix;
	if (req_param_id(r, 1, &eid) || (ix = fw_index(&f, eid)) < 0) {
		if (r->status != 404)
			resp_error(r, 404, "Cette page n'existe pas.");
		fw_free(&f);
		return;
	}
	char *label = field(r, "label");
	char *desc = field(r, "description");
	const char *err = NULL;
	if (!label || !*label)
		err = "Indiquez le libellé de l'élément.";
	else if (text_chars(label) > LABEL_MAX_LEN)
		err = "Le libellé est trop long (300 caractères au plus).";
	else if (desc && text_chars(desc) > DESC_MAX_LEN)
		err = "La description est trop longue (3 000 caractères au plus).";
	if (!err) {
		json_t *before =
		    store_row_json(r->db, "SELECT * FROM grid_items WHERE id = ?", eid);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db, "UPDATE grid_items SET label = ?, description = ? WHERE id = ?",
			    "ssI", label, desc ? desc : f.it[ix].description, eid);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, origin(r), "update", "grid_item",
			                     eid, before, "SELECT * FROM grid_items WHERE id = ?");
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		framework_render(r, &f, err, eid);
		r->status = 422;
	} else {
		char *loc = xasprintf("/grilles/%lld#e%lld", (long long)f.id, (long long)eid);
		resp_redirect(r, loc);
		free(loc);
	}
	free(label);
	free(desc);
	fw_free(&f);
}

/* POST /grilles/{framework}/elements/{element}/supprimer: the element and its subtree, refused
 * when a score was given under it. */
static void element_delete(struct req *r)
{
	int64_t id, eid;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	ssize_t ix;
	if (req_param_id(r, 1, &eid) || (ix = fw_index(&f, eid)) < 0) {
		if (r->status != 404)
			resp_error(r, 404, "Cette page n'existe pas.");
		fw_free(&f);
		return;
	}
	if (scores_in(r->db, &f, (size_t)ix, f.it[ix].end)) {
		framework_render(
		    r, &f,
		    "Des notes ont été données sur cet élément ou ses sous-éléments : il "
		    "ne peut pas être supprimé.",
		    eid);
		r->status = 422;
		fw_free(&f);
		return;
	}
	json_t *before = store_row_json(r->db, "SELECT * FROM grid_items WHERE id = ?", eid);
	json_object_set_new(before, "descendants",
	                    json_integer((json_int_t)(f.it[ix].end - ix - 1)));
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM grid_items WHERE id = ?", "I", eid);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin(r), "delete", "grid_item", eid,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = fw_href(f.id);
		resp_redirect(r, loc);
		free(loc);
	}
	fw_free(&f);
}

/* POST /grilles/{framework}/elements/{element}/deplacer: sens=haut|bas among its siblings. */
static void element_move(struct req *r)
{
	int64_t id, eid;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 1, &f))
		return;
	ssize_t ix;
	if (req_param_id(r, 1, &eid) || (ix = fw_index(&f, eid)) < 0) {
		if (r->status != 404)
			resp_error(r, 404, "Cette page n'existe pas.");
		fw_free(&f);
		return;
	}
	const char *dir = req_form(r, "sens");
	int up = dir && !strcmp(dir, "haut");
	if (!up && !(dir && !strcmp(dir, "bas"))) {
		framework_render(r, &f, "Le sens est « haut » ou « bas ».", eid);
		r->status = 422;
		fw_free(&f);
		return;
	}
	/* The sibling just before or after in the tree's order. */
	ssize_t other = -1;
	for (size_t i = 0; i < f.n; i++) {
		if (f.it[i].parent_id != f.it[ix].parent_id || (ssize_t)i == ix)
			continue;
		if (up && (ssize_t)i < ix)
			other = (ssize_t)i;
		if (!up && (ssize_t)i > ix && other < 0)
			other = (ssize_t)i;
	}
	if (other >= 0) {
		int64_t p1 = 0, p2 = 0;
		db_int64f(r->db, &p1, "SELECT position FROM grid_items WHERE id = ?", "I", eid);
		db_int64f(r->db, &p2, "SELECT position FROM grid_items WHERE id = ?", "I",
		          f.it[other].id);
		if (p1 == p2)
			p1 = up ? p2 + 1 : p2 - 1;
		json_t *before = json_pack("{s:I,s:I}", "position", (json_int_t)p1, "sibling",
		                           (json_int_t)f.it[other].id);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(r->db, "UPDATE grid_items SET position = ? WHERE id = ?",
			              "II", p2, eid);
		if (rc == DB_OK)
			rc = db_execf(r->db, "UPDATE grid_items SET position = ? WHERE id = ?",
			              "II", p1, f.it[other].id);
		if (rc == DB_OK) {
			json_t *after = json_pack("{s:I,s:s}", "position", (json_int_t)p2,
			                          "direction", up ? "haut" : "bas");
			rc = audit_write_id(r->db, r->user->id, origin(r), "move", "grid_item", eid,
			                    before, after);
			json_decref(after);
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			fw_free(&f);
			return;
		}
	}
	char *loc = xasprintf("/grilles/%lld#e%lld", (long long)f.id, (long long)eid);
	resp_redirect(r, loc);
	free(loc);
	fw_free(&f);
}

/* POST /grilles/{framework}/copier: name, plan (empty: a shared grid, administrators). */
static void framework_copy(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 0, &f))
		return;
	const char *plan = req_form(r, "plan");
	int64_t plan_id = 0;
	if (plan && *plan && (parse_int64(plan, &plan_id) || plan_id <= 0)) {
		resp_error(r, 404, "Cette page n'existe pas.");
		fw_free(&f);
		return;
	}
	if (plan_id ? plan_require(r, plan_id, ROLE_COORDINATOR) : !is_admin(r)) {
		if (!plan_id)
			resp_error(r, 403,
			           "Seuls les administrateurs créent des grilles partagées.");
		fw_free(&f);
		return;
	}
	char *name = field(r, "name");
	const char *err = NULL;
	if (!name || !*name)
		err = "Indiquez le nom de la copie.";
	else if (text_chars(name) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	int64_t nid = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int64_t *map = xcalloc(f.n ? f.n : 1, sizeof *map);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &nid,
			    "INSERT INTO grid_frameworks (plan_id, name, description, source, "
			    "level_names, scale_min, scale_max, created_at, updated_at) VALUES "
			    "(CAST(NULLIF(?, 0) AS BIGINT), ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			    "Issssiiss", plan_id, name, f.description, f.source, f.level_names,
			    f.smin, f.smax, now, now);
		for (int l = f.smin; rc == DB_OK && l <= f.smax; l++)
			rc = db_execf(r->db,
			              "INSERT INTO grid_scale_levels (framework_id, level, label, "
			              "description) VALUES (?, ?, ?, ?)",
			              "Iiss", nid, l, f.lvl_label[l - f.smin],
			              f.lvl_desc[l - f.smin]);
		/* Depth-first order: a parent is copied before its children. */
		for (size_t i = 0; rc == DB_OK && i < f.n; i++) {
			int64_t parent = 0, pos = 0;
			ssize_t pix = f.it[i].parent_id ? fw_index(&f, f.it[i].parent_id) : -1;
			if (pix >= 0)
				parent = map[pix];
			for (size_t k = 0; k <= i; k++)
				pos += f.it[k].parent_id == f.it[i].parent_id;
			rc = db_int64f(
			    r->db, &map[i],
			    "INSERT INTO grid_items (framework_id, parent_id, position, label, "
			    "description) VALUES (?, CAST(NULLIF(?, 0) AS BIGINT), ?, ?, ?) "
			    "RETURNING id",
			    "IIIss", nid, parent, pos, f.it[i].label, f.it[i].description);
		}
		free(map);
		if (rc == DB_OK) {
			json_t *after = json_pack("{s:I,s:s,s:I}", "copied_from", (json_int_t)f.id,
			                          "name", name, "items", (json_int_t)f.n);
			rc = audit_write_id(r->db, r->user->id, origin(r), "create",
			                    "grid_framework", nid, NULL, after);
			json_decref(after);
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		framework_render(r, &f, err, -2);
		r->status = 422;
	} else {
		char *loc = xasprintf("/grilles/%lld", (long long)nid);
		resp_redirect(r, loc);
		free(loc);
	}
	free(name);
	fw_free(&f);
}

/* --- campaigns of a plan ------------------------------------------------------------------- */

static char *plan_title_of(struct db *db, int64_t plan_id)
{
	char *t = NULL;
	struct db_stmt *st = db_queryf(db, "SELECT title FROM plans WHERE id = ?", "I", plan_id);
	if (st && db_step(st) == DB_ROW)
		t = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	return t ? t : xstrdup("Plan");
}

static void campaigns_render(struct req *r, int64_t plan_id, const char *error)
{
	struct buf *o = &r->out;
	char *err = NULL;
	if (grids_ensure_shipped(r->db, &err))
		free(err);
	char *title = plan_title_of(r->db, plan_id);
	char *plan_href = xasprintf("/plans/%lld", (long long)plan_id);
	struct crumb crumbs[] = {{title, plan_href}, {NULL, NULL}};
	page_begin(r, "Campagnes d'évaluation", crumbs);
	html_printf(
	    o,
	    "<h1>Campagnes d'évaluation</h1>\n<p class=\"lead\">Les structures du plan « %s » "
	    "évaluées avec une grille : auto-évaluation et évaluation par les pairs, "
	    "côte à côte, d'une année sur l'autre.</p>\n",
	    title);
	error_notice(r, error);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.id, c.title, c.year, g.name, (SELECT COUNT(*) FROM grid_campaign_actors a "
	    "WHERE a.campaign_id = c.id), (SELECT COUNT(*) FROM grid_assessments s WHERE "
	    "s.campaign_id = c.id) FROM grid_campaigns c JOIN grid_frameworks g ON g.id = "
	    "c.framework_id WHERE c.plan_id = ? ORDER BY c.year DESC, c.title, c.id",
	    "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(
			    o, "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			       "Campagnes du plan</caption>\n<thead><tr><th scope=\"col\">Campagne"
			       "</th><th scope=\"col\" class=\"num\">Année</th><th scope=\"col\">"
			       "Grille</th><th scope=\"col\" class=\"num\">Structures</th><th "
			       "scope=\"col\" class=\"num\">Évaluations</th></tr></thead>\n"
			       "<tbody>\n");
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"/campagnes/%lld\">%s</a></th><td "
		            "class=\"num\">%lld</td><td>%s</td><td class=\"num\">%lld</td><td "
		            "class=\"num\">%lld</td></tr>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            (long long)db_col_int64(st, 2), db_col_text(st, 3),
		            (long long)db_col_int64(st, 4), (long long)db_col_int64(st, 5));
	}
	db_finalize(st);
	buf_puts(o, n ? "</tbody></table></div>\n"
	              : "<p>Aucune campagne d'évaluation pour ce plan.</p>\n");
	if (n)
		html_printf(o,
		            "<p>Exporter les grilles et toutes les campagnes du plan : <a "
		            "href=\"/plans/%lld/campagnes/export?format=csv\">CSV</a> · <a "
		            "href=\"/plans/%lld/campagnes/export?format=xlsx\">XLSX</a> · <a "
		            "href=\"/plans/%lld/campagnes/export?format=json\">JSON</a></p>\n",
		            (long long)plan_id, (long long)plan_id, (long long)plan_id);
	if (plan_role(r, plan_id) >= ROLE_COORDINATOR) {
		html_printf(o,
		            "<h2>Nouvelle campagne</h2>\n<form class=\"form\" method=\"post\" "
		            "action=\"/plans/%lld/campagnes\">\n",
		            (long long)plan_id);
		page_csrf(r);
		const char *t = error ? req_form(r, "title") : NULL;
		const char *y = error ? req_form(r, "year") : NULL;
		const char *fsel = req_form(r, "framework");
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"c-title\">Titre</label><input "
		    "id=\"c-title\" name=\"title\" required maxlength=\"%d\" value=\"%s\">"
		    "</div>\n<div class=\"field\"><label for=\"c-year\">Année</label><input "
		    "id=\"c-year\" name=\"year\" type=\"number\" min=\"2000\" max=\"2100\" "
		    "required value=\"%s\"></div>\n<div class=\"field\"><label "
		    "for=\"c-fw\">Grille</label><select id=\"c-fw\" name=\"framework\">",
		    NAME_MAX_LEN, t ? t : "", y ? y : "2026");
		st = db_queryf(
		    r->db,
		    "SELECT id, name, plan_id FROM grid_frameworks WHERE plan_id IS NULL OR "
		    "plan_id = ? ORDER BY plan_id IS NULL, name, id",
		    "I", plan_id);
		while (st && db_step(st) == DB_ROW) {
			char idtxt[24];
			snprintf(idtxt, sizeof idtxt, "%lld", (long long)db_col_int64(st, 0));
			html_printf(o, "<option value=\"%s\"%R>%s%R</option>", idtxt,
			            fsel && !strcmp(fsel, idtxt) ? " selected" : "",
			            db_col_text(st, 1),
			            db_col_is_null(st, 2) ? " (partagée)" : " (grille du plan)");
		}
		db_finalize(st);
		html_printf(
		    o, "</select><p class=\"hint\"><a href=\"/grilles\">Créer une grille propre "
		       "au plan</a></p></div>\n<div class=\"actions\"><button "
		       "class=\"button\" type=\"submit\">Créer la campagne</button></div>\n"
		       "</form>\n");
	}
	page_end(r);
	free(title);
	free(plan_href);
}

/* GET /plans/{plan}/campagnes */
static void campaigns_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	campaigns_render(r, plan_id, NULL);
}

/* POST /plans/{plan}/campagnes */
static void campaign_create(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_COORDINATOR))
		return;
	char *title = field(r, "title");
	int year = 0;
	int64_t fw = 0, fw_plan = -1;
	const char *fv = req_form(r, "framework");
	const char *err = NULL;
	if (fv && !parse_int64(fv, &fw)) {
		struct db_stmt *st =
		    db_queryf(r->db, "SELECT plan_id FROM grid_frameworks WHERE id = ?", "I", fw);
		if (st && db_step(st) == DB_ROW)
			fw_plan = db_col_is_null(st, 0) ? 0 : db_col_int64(st, 0);
		db_finalize(st);
	}
	if (!title || !*title)
		err = "Indiquez le titre de la campagne.";
	else if (text_chars(title) > NAME_MAX_LEN)
		err = "Le titre est trop long (200 caractères au plus).";
	else if (form_int(req_form(r, "year"), 2000, 2100, &year))
		err = "L'année est un nombre entre 2000 et 2100.";
	else if (fw_plan != 0 && fw_plan != plan_id)
		err = "Choisissez une grille partagée ou une grille de ce plan.";
	int64_t id = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &id,
			    "INSERT INTO grid_campaigns (framework_id, plan_id, year, title, "
			    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			    "IIisss", fw, plan_id, year, title, now, now);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, origin(r), "create",
			                     "grid_campaign", id, NULL,
			                     "SELECT * FROM grid_campaigns WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		campaigns_render(r, plan_id, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/campagnes/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(title);
}

/* --- results -------------------------------------------------------------------------------- */

/* The assessment retained for a structure in the results: the peer assessment when it has a
 * score, else the self-assessment; 0 when none. kind_out gets "peer"/"self". */
static int64_t retained_assessment(struct db *db, int64_t cid, int64_t actor, const char **kind)
{
	int64_t id = 0;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT s.id, s.kind FROM grid_assessments s WHERE s.campaign_id = ? AND s.actor_id = "
	    "? "
	    "AND EXISTS (SELECT 1 FROM grid_scores g WHERE g.assessment_id = s.id AND g.score IS "
	    "NOT NULL) ORDER BY s.kind",
	    "II", cid, actor);
	/* 'peer' < 'self': the peer assessment first. */
	if (st && db_step(st) == DB_ROW) {
		id = db_col_int64(st, 0);
		*kind = !strcmp(db_col_text(st, 1), "peer") ? "peer" : "self";
	}
	db_finalize(st);
	return id;
}

static int64_t assessment_of(struct db *db, int64_t cid, int64_t actor, const char *kind)
{
	int64_t id = 0;
	if (db_int64f(db, &id,
	              "SELECT id FROM grid_assessments WHERE campaign_id = ? AND actor_id = ? AND "
	              "kind = ?",
	              "IIs", cid, actor, kind) != DB_OK)
		return 0;
	return id;
}

/* Depth from ?niveau=N (1-based), else the default. */
static int depth_param(struct req *r, const struct gfw *f)
{
	const char *v = req_query(r, "niveau");
	int d;
	if (v && !form_int(v, 1, f->maxdepth ? f->maxdepth : 1, &d))
		return d - 1;
	return default_depth(f);
}

static void depth_links(struct req *r, const struct gfw *f, int depth, const char *base)
{
	if (f->maxdepth < 2)
		return;
	buf_puts(&r->out, "<p>Regrouper les notes par : ");
	for (int d = 0; d < f->maxdepth; d++) {
		char name[LEVEL_NAME_MAX * 4 + 8];
		level_name(f, d, name, sizeof name);
		if (d)
			buf_puts(&r->out, " · ");
		if (d == depth)
			html_printf(&r->out, "<strong aria-current=\"true\">%s</strong>", name);
		else
			html_printf(&r->out, "<a href=\"%s?niveau=%d#resultats\">%s</a>", base,
			            d + 1, name);
	}
	buf_puts(&r->out, "</p>\n");
}

/* A radar figure (or a plain table when fewer than three axes) of nseries series. */
static void radar_or_table(struct buf *o, const char *id, const char *title, const char *desc,
                           const struct gfw *f, const size_t *axes, size_t naxes,
                           const char *const *series, const double *values, size_t nseries)
{
	const char **labels = xcalloc(naxes ? naxes : 1, sizeof *labels);
	char **owned = xcalloc(naxes ? naxes : 1, sizeof *owned);
	/* The radar's labels are short (the number and the start of the label) so that they fit
	 * around the chart; the tables beside it carry the full labels. */
	for (size_t i = 0; i < naxes; i++) {
		const char *l = f->it[axes[i]].label;
		size_t bytes = 0, chars = 0;
		while (l[bytes] && chars < 10) {
			bytes++;
			while ((l[bytes] & 0xC0) == 0x80)
				bytes++;
			chars++;
		}
		owned[i] =
		    xasprintf("%s %.*s%s", f->it[axes[i]].num, (int)bytes, l, l[bytes] ? "…" : "");
		labels[i] = owned[i];
	}
	double *v = xcalloc(naxes * nseries + 1, sizeof *v);
	for (size_t k = 0; k < naxes * nseries; k++)
		v[k] = isnan(values[k]) ? 0 : values[k];
	if (naxes >= 3) {
		struct svg_radar c = {.id = id,
		                      .title = title,
		                      .desc = desc,
		                      .axes = labels,
		                      .naxes = naxes,
		                      .series_labels = series,
		                      .values = v,
		                      .nseries = nseries,
		                      .max = f->smax};
		svg_figure_radar(o, &c, 1);
	} else {
		html_printf(o,
		            "<p class=\"hint\">Moins de trois éléments à ce niveau : pas de radar, "
		            "le tableau suffit.</p>\n<div class=\"table-wrap\" tabindex=\"0\">"
		            "<table><caption>%s</caption><thead><tr><th scope=\"col\">Élément</th>",
		            title);
		for (size_t s = 0; s < nseries; s++)
			html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>", series[s]);
		buf_puts(o, "</tr></thead><tbody>");
		for (size_t i = 0; i < naxes; i++) {
			html_printf(o, "<tr><th scope=\"row\">%s</th>", labels[i]);
			for (size_t s = 0; s < nseries; s++) {
				char num[48];
				fmt_score(num, values[s * naxes + i]);
				html_printf(o, "<td class=\"num\">%s</td>", num);
			}
			buf_puts(o, "</tr>");
		}
		buf_puts(o, "</tbody></table></div>\n");
	}
	for (size_t i = 0; i < naxes; i++)
		free(owned[i]);
	free(owned);
	free(labels);
	free(v);
}

/* --- one campaign --------------------------------------------------------------------------- */

struct sline {
	int64_t actor;
	char *name;
	int64_t self_id, peer_id;
	int self_n, peer_n; /* scored criteria */
	int ambassador;     /* a TECS ambassador is named in the structure (no name kept) */
};

static struct sline *structures_load(struct db *db, int64_t cid, size_t *n)
{
	struct sline *s = NULL;
	*n = 0;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT a.id, a.name, (SELECT s.id FROM grid_assessments s WHERE s.campaign_id = "
	    "ca.campaign_id AND s.actor_id = a.id AND s.kind = 'self'), (SELECT s.id FROM "
	    "grid_assessments s WHERE s.campaign_id = ca.campaign_id AND s.actor_id = a.id AND "
	    "s.kind = 'peer'), (SELECT COUNT(*) FROM grid_scores g JOIN grid_assessments s ON s.id "
	    "= g.assessment_id WHERE s.campaign_id = ca.campaign_id AND s.actor_id = a.id AND "
	    "s.kind = 'self' AND g.score IS NOT NULL), (SELECT COUNT(*) FROM grid_scores g JOIN "
	    "grid_assessments s ON s.id = g.assessment_id WHERE s.campaign_id = ca.campaign_id AND "
	    "s.actor_id = a.id AND s.kind = 'peer' AND g.score IS NOT NULL), ca.ambassador FROM "
	    "grid_campaign_actors ca JOIN actors a ON a.id = ca.actor_id WHERE ca.campaign_id = ? "
	    "ORDER BY a.name, a.id",
	    "I", cid);
	while (st && db_step(st) == DB_ROW) {
		s = xrealloc(s, (*n + 1) * sizeof *s);
		struct sline *l = &s[(*n)++];
		l->actor = db_col_int64(st, 0);
		l->name = xstrdup(db_col_text(st, 1));
		l->self_id = db_col_is_null(st, 2) ? 0 : db_col_int64(st, 2);
		l->peer_id = db_col_is_null(st, 3) ? 0 : db_col_int64(st, 3);
		l->self_n = (int)db_col_int64(st, 4);
		l->peer_n = (int)db_col_int64(st, 5);
		l->ambassador = (int)db_col_int64(st, 6);
	}
	db_finalize(st);
	return s;
}

static void structures_free(struct sline *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

static void assessment_cell(struct req *r, const struct camp *c, const struct sline *l,
                            const char *kind, int64_t aid, int scored, size_t leaves)
{
	struct buf *o = &r->out;
	buf_puts(o, "<td>");
	if (aid) {
		html_printf(o, "<a href=\"/evaluations/%lld\">%d critère%s noté%s sur %zu</a>",
		            (long long)aid, scored, scored > 1 ? "s" : "", scored > 1 ? "s" : "",
		            leaves);
	} else if (c->role >= ROLE_PILOT) {
		html_printf(o,
		            "<form method=\"post\" action=\"/campagnes/%lld/evaluations\">"
		            "<input type=\"hidden\" name=\"actor\" value=\"%lld\"><input "
		            "type=\"hidden\" name=\"kind\" value=\"%s\">",
		            (long long)c->id, (long long)l->actor, kind);
		page_csrf(r);
		html_printf(o,
		            "<button class=\"button small\" type=\"submit\">Commencer "
		            "<span class=\"visually-hidden\">%s de %s</span></button></form>",
		            kind_short(kind), l->name);
	} else {
		buf_puts(o, "—");
	}
	buf_puts(o, "</td>");
}

struct tline {
	int64_t id;
	ssize_t ix; /* index of the item in the framework, -1 for the whole grid */
	char *role, *quote;
};

static int tline_cmp(const void *a, const void *b)
{
	const struct tline *x = a, *y = b;
	if (x->ix != y->ix)
		return x->ix < y->ix ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Testimonies (rows: id, item_id, speaker_role, quote) grouped under the grid's elements, in the
 * grid's order, each a quotation with its speaker's role; hlevel is the level of the group
 * headings. */
static void testimonies_list(struct req *r, const struct gfw *f, struct db_stmt *st, int can_del,
                             int hlevel)
{
	struct buf *o = &r->out;
	struct tline *t = NULL;
	size_t n = 0;
	while (st && db_step(st) == DB_ROW) {
		t = xrealloc(t, (n + 1) * sizeof *t);
		t[n].id = db_col_int64(st, 0);
		t[n].ix = db_col_is_null(st, 1) ? -1 : fw_index(f, db_col_int64(st, 1));
		t[n].role = xstrdup(db_col_text(st, 2));
		t[n].quote = xstrdup(db_col_text(st, 3));
		n++;
	}
	if (!n) {
		buf_puts(o, "<p>Aucun témoignage pour l'instant.</p>\n");
		return;
	}
	qsort(t, n, sizeof *t, tline_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!i || t[i].ix != t[i - 1].ix) {
			if (t[i].ix >= 0)
				html_printf(o, "<h%d>%s %s</h%d>\n", hlevel, f->it[t[i].ix].num,
				            f->it[t[i].ix].label, hlevel);
			else
				html_printf(o, "<h%d>La grille entière</h%d>\n", hlevel, hlevel);
		}
		html_printf(o,
		            "<figure class=\"testimony\"><blockquote><p>« %s »</p></blockquote>"
		            "<figcaption class=\"muted\">— %s</figcaption>",
		            t[i].quote, role_label(t[i].role));
		if (can_del) {
			html_printf(o,
			            "<form method=\"post\" action=\"/temoignages/%lld/supprimer\">",
			            (long long)t[i].id);
			page_csrf(r);
			buf_puts(o, "<button class=\"button small\" type=\"submit\">Retirer ce "
			            "témoignage</button></form>");
		}
		buf_puts(o, "</figure>\n");
		free(t[i].role);
		free(t[i].quote);
	}
	free(t);
}

static void testimony_form(struct req *r, const struct gfw *f, const char *action,
                           const char *error)
{
	struct buf *o = &r->out;
	html_printf(o, "<form class=\"form\" method=\"post\" action=\"%s\">\n", action);
	page_csrf(r);
	const char *q = error ? req_form(r, "quote") : NULL;
	const char *role = error ? req_form(r, "speaker_role") : NULL;
	const char *item = error ? req_form(r, "item") : NULL;
	int64_t sel = 0;
	if (item)
		parse_int64(item, &sel);
	html_printf(o,
	            "<div class=\"field\"><label for=\"t-quote\">Citation</label><textarea "
	            "id=\"t-quote\" name=\"quote\" rows=\"3\" required maxlength=\"%d\" "
	            "aria-describedby=\"t-quote-hint\">%s</textarea><p class=\"hint\" "
	            "id=\"t-quote-hint\">Les paroles telles qu'elles ont été dites, sans le nom "
	            "de la personne ni rien qui permette de la reconnaître.</p></div>\n"
	            "<div class=\"field\"><label for=\"t-role\">Qui parle (rôle seulement)"
	            "</label><select id=\"t-role\" name=\"speaker_role\">",
	            QUOTE_MAX_LEN, q ? q : "");
	label_options(o, ROLES, ROLE_LABELS, role, NULL);
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"t-item\">Élément de la "
	            "grille concerné</label><select id=\"t-item\" name=\"item\"><option "
	            "value=\"\">— la grille entière —</option>");
	item_options(o, f, sel, 0);
	buf_puts(o, "</select></div>\n<div class=\"actions\"><button class=\"button\" "
	            "type=\"submit\">Ajouter le témoignage</button></div>\n</form>\n");
}

static void campaign_render(struct req *r, struct camp *c, const char *error)
{
	struct buf *o = &r->out;
	struct gfw f;
	if (fw_load(r->db, c->framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		return;
	}
	char *plan_href = xasprintf("/plans/%lld", (long long)c->plan_id);
	char *list_href = xasprintf("/plans/%lld/campagnes", (long long)c->plan_id);
	char *self_href = xasprintf("/campagnes/%lld", (long long)c->id);
	struct crumb crumbs[] = {
	    {c->plan_title, plan_href}, {"Campagnes d'évaluation", list_href}, {NULL, NULL}};
	char *title = xasprintf("%s (%d)", c->title, c->year);
	page_begin(r, title, crumbs);
	html_printf(o, "<h1>%s</h1>\n", title);
	error_notice(r, error);
	size_t leaves = fw_leaves(&f);
	size_t ns;
	struct sline *sl = structures_load(r->db, c->id, &ns);
	html_printf(o,
	            "<dl class=\"facts\"><div><dt>Grille</dt><dd><a href=\"/grilles/%lld\">%s</a>"
	            "</dd></div><div><dt>Année</dt><dd>%d</dd></div><div><dt>Critères notés"
	            "</dt><dd>%zu</dd></div><div><dt>Structures évaluées</dt><dd>%zu</dd></div>"
	            "</dl>\n",
	            (long long)f.id, f.name, c->year, leaves, ns);
	if (*c->description)
		html_printf(o, "<p>%s</p>\n", c->description);
	int demo = 0;
	{
		int64_t nd = 0;
		db_int64f(
		    r->db, &nd,
		    "SELECT COUNT(*) FROM grid_assessments WHERE campaign_id = ? AND is_demo = 1",
		    "I", c->id);
		demo = nd > 0;
	}
	if (demo)
		buf_puts(o,
		         "<p class=\"notice notice-warning\">Campagne de démonstration : les notes "
		         "sont inventées (marquées « démo »), les témoignages sont ceux du "
		         "document source.</p>\n");
	html_printf(o,
	            "<p>Exporter : <a href=\"/campagnes/%lld/export?format=csv\">CSV</a> · "
	            "<a href=\"/campagnes/%lld/export?format=xlsx\">XLSX</a> · <a "
	            "href=\"/campagnes/%lld/export?format=json\">JSON</a></p>\n",
	            (long long)c->id, (long long)c->id, (long long)c->id);

	buf_puts(o, "<h2>Structures et évaluations</h2>\n");
	if (ns) {
		buf_puts(o,
		         "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Évaluations "
		         "par structure</caption>\n<thead><tr><th scope=\"col\">Structure</th>"
		         "<th scope=\"col\">Auto-évaluation</th><th scope=\"col\">Évaluation par "
		         "les pairs</th><th scope=\"col\">Ambassadeur·rice TECS</th><th "
		         "scope=\"col\">Comparaison</th></tr></thead>\n"
		         "<tbody>\n");
		for (size_t i = 0; i < ns; i++) {
			html_printf(o, "<tr><th scope=\"row\">%s</th>", sl[i].name);
			assessment_cell(r, c, &sl[i], "self", sl[i].self_id, sl[i].self_n, leaves);
			assessment_cell(r, c, &sl[i], "peer", sl[i].peer_id, sl[i].peer_n, leaves);
			html_printf(o, "<td>%s", sl[i].ambassador ? "Oui" : "Non");
			if (c->role >= ROLE_COORDINATOR) {
				html_printf(
				    o,
				    "<form method=\"post\" action=\"/campagnes/%lld/structures/"
				    "%lld/ambassadeur\"><input type=\"hidden\" name=\"ambassador\" "
				    "value=\"%d\">",
				    (long long)c->id, (long long)sl[i].actor, !sl[i].ambassador);
				page_csrf(r);
				html_printf(
				    o,
				    "<button class=\"button small\" type=\"submit\">%s<span "
				    "class=\"visually-hidden\"> : %s</span></button></form>",
				    sl[i].ambassador ? "Indiquer : non" : "Indiquer : oui",
				    sl[i].name);
			}
			buf_puts(o, "</td>");
			html_printf(
			    o,
			    "<td><a href=\"/campagnes/%lld/structures/%lld\">Auto-évaluation "
			    "et pairs côte à côte<span class=\"visually-hidden\"> : %s</span>"
			    "</a>",
			    (long long)c->id, (long long)sl[i].actor, sl[i].name);
			if (c->role >= ROLE_COORDINATOR && !sl[i].self_id && !sl[i].peer_id) {
				html_printf(
				    o,
				    "<form method=\"post\" action=\"/campagnes/%lld/structures/"
				    "%lld/retirer\">",
				    (long long)c->id, (long long)sl[i].actor);
				page_csrf(r);
				html_printf(
				    o,
				    "<button class=\"button small\" type=\"submit\">Retirer"
				    "<span class=\"visually-hidden\"> %s</span></button></form>",
				    sl[i].name);
			}
			buf_puts(o, "</td></tr>\n");
		}
		buf_puts(o, "</tbody></table></div>\n");
	} else {
		buf_puts(o, "<p>Aucune structure dans cette campagne pour l'instant.</p>\n");
	}
	if (c->role >= ROLE_COORDINATOR) {
		html_printf(o,
		            "<form class=\"form\" method=\"post\" action=\"/campagnes/%lld/"
		            "structures\">\n",
		            (long long)c->id);
		page_csrf(r);
		const char *v = error ? req_form(r, "structure") : NULL;
		html_printf(o,
		            "<div class=\"field\"><label for=\"c-struct\">Ajouter une structure de "
		            "l'annuaire</label><input id=\"c-struct\" name=\"structure\" required "
		            "list=\"c-actors\" maxlength=\"%d\" value=\"%s\" "
		            "aria-describedby=\"c-struct-hint\"><p class=\"hint\" "
		            "id=\"c-struct-hint\">Son nom exact, tel qu'il figure dans l'annuaire "
		            "des acteurs.</p><datalist id=\"c-actors\">",
		            NAME_MAX_LEN, v ? v : "");
		struct db_stmt *st =
		    db_prepare(r->db, "SELECT name FROM actors ORDER BY name, id LIMIT 1000");
		while (st && db_step(st) == DB_ROW)
			html_printf(o, "<option value=\"%s\">", db_col_text(st, 0));
		db_finalize(st);
		buf_puts(o, "</datalist></div>\n<div class=\"actions\"><button class=\"button "
		            "small\" type=\"submit\">Ajouter la structure</button></div>\n"
		            "</form>\n");
	}

	/* Results */
	buf_puts(o, "<h2 id=\"resultats\">Résultats et comparaison des structures</h2>\n");
	int depth = depth_param(r, &f);
	depth_links(r, &f, depth, self_href);
	size_t *axes = xcalloc(f.n ? f.n : 1, sizeof *axes);
	size_t na = axes_at(&f, depth, axes);
	double *vals = xcalloc(na * (ns ? ns : 1) + 1, sizeof *vals);
	const char **names = xcalloc(ns ? ns : 1, sizeof *names);
	char **owned = xcalloc(ns ? ns : 1, sizeof *owned);
	const char **used = xcalloc(ns ? ns : 1, sizeof *used);
	size_t nr = 0;
	for (size_t i = 0; i < ns; i++) {
		const char *kind = "self";
		int64_t aid = retained_assessment(r->db, c->id, sl[i].actor, &kind);
		if (!aid)
			continue;
		struct gscore *sc = scores_load(r->db, &f, aid);
		for (size_t k = 0; k < na; k++)
			vals[nr * na + k] = item_mean(&f, sc, axes[k]);
		scores_free(sc, f.n);
		owned[nr] = xasprintf("%s (%s)", sl[i].name,
		                      !strcmp(kind, "peer") ? "pairs" : "auto-évaluation");
		names[nr] = owned[nr];
		used[nr] = sl[i].name;
		nr++;
	}
	char lname[LEVEL_NAME_MAX * 4 + 8];
	level_name(&f, depth, lname, sizeof lname);
	if (!nr) {
		buf_puts(o, "<p>Aucune note n'a encore été saisie.</p>\n");
	} else {
		buf_puts(o,
		         "<p class=\"hint\">Pour chaque structure : l'évaluation par les pairs "
		         "quand elle existe, sinon l'auto-évaluation ; moyenne des critères notés "
		         "sous chaque élément.</p>\n");
		if (nr <= 3) {
			char *t = xasprintf("Comparaison des structures — moyenne par %s", lname);
			char *d =
			    xasprintf("Radar superposant %zu structure%s, de %d à %d par axe.", nr,
			              nr > 1 ? "s" : "", f.smin, f.smax);
			radar_or_table(o, "radar-campagne", t, d, &f, axes, na, names, vals, nr);
			free(t);
			free(d);
		} else {
			buf_puts(o, "<div class=\"cards\">\n");
			for (size_t i = 0; i < nr; i++) {
				char id[32];
				snprintf(id, sizeof id, "radar-s%zu", i + 1);
				char *t = xasprintf("%s — moyenne par %s", names[i], lname);
				char *d = xasprintf("Radar de %s, de %d à %d par axe.", used[i],
				                    f.smin, f.smax);
				buf_puts(o, "<div class=\"card\">");
				radar_or_table(o, id, t, d, &f, axes, na, &names[i], vals + i * na,
				               1);
				buf_puts(o, "</div>\n");
				free(t);
				free(d);
			}
			buf_puts(o, "</div>\n");
		}
		html_printf(
		    o,
		    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Tableau de "
		    "comparaison : moyenne par %s (échelle de %d à %d)</caption>\n<thead><tr>"
		    "<th scope=\"col\">%s</th>",
		    lname, f.smin, f.smax, lname);
		for (size_t i = 0; i < nr; i++)
			html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>", names[i]);
		buf_puts(o, "</tr></thead>\n<tbody>\n");
		for (size_t k = 0; k < na; k++) {
			html_printf(o, "<tr><th scope=\"row\">%s %s</th>", f.it[axes[k]].num,
			            f.it[axes[k]].label);
			for (size_t i = 0; i < nr; i++) {
				char num[48];
				fmt_score(num, vals[i * na + k]);
				html_printf(o, "<td class=\"num\">%s</td>", num);
			}
			buf_puts(o, "</tr>\n");
		}
		buf_puts(o, "</tbody></table></div>\n");
	}
	for (size_t i = 0; i < nr; i++)
		free(owned[i]);
	free(owned);
	free(names);
	free(used);
	free(vals);
	free(axes);

	buf_puts(o, "<h2>Témoignages</h2>\n<p class=\"hint\">Paroles d'élus, de techniciens, de "
	            "partenaires et d'habitants, rattachées à la campagne (sans nom).</p>\n");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, item_id, speaker_role, quote FROM "
	                               "grid_testimonies WHERE campaign_id = ? AND assessment_id "
	                               "IS NULL ORDER BY item_id NULLS FIRST, id",
	                               "I", c->id);
	testimonies_list(r, &f, st, c->role >= ROLE_COORDINATOR, 3);
	db_finalize(st);
	if (c->role >= ROLE_COORDINATOR) {
		char *action = xasprintf("/campagnes/%lld/temoignages", (long long)c->id);
		buf_puts(o, "<h3>Ajouter un témoignage</h3>\n");
		testimony_form(r, &f, action, error);
		free(action);
		html_printf(o,
		            "<h2>Supprimer la campagne</h2>\n<form method=\"post\" "
		            "action=\"/campagnes/%lld/supprimer\">",
		            (long long)c->id);
		page_csrf(r);
		buf_puts(o,
		         "<p class=\"hint\">Ses évaluations, notes et témoignages seront supprimés "
		         "avec elle (l'export CSV ou JSON les garde).</p><button class=\"button "
		         "small\" type=\"submit\">Supprimer la campagne</button></form>\n");
	}
	page_end(r);
	structures_free(sl, ns);
	free(title);
	free(plan_href);
	free(list_href);
	free(self_href);
	fw_free(&f);
}

/* GET /campagnes/{campaign} */
static void campaign_page(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_READER, &c))
		return;
	campaign_render(r, &c, NULL);
	camp_free(&c);
}

/* POST /campagnes/{campaign}/structures: add a structure of the directory by its name. */
static void structure_add(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_COORDINATOR, &c))
		return;
	char *name = field(r, "structure");
	const char *err = NULL;
	int64_t actor = 0;
	if (!name || !*name || text_chars(name) > NAME_MAX_LEN) {
		err = "Indiquez le nom d'une structure de l'annuaire.";
	} else if (db_int64f(r->db, &actor, "SELECT id FROM actors WHERE name = ?", "s", name) !=
	           DB_OK) {
		char *key = text_fold(name);
		struct db_stmt *st = db_queryf(
		    r->db, "SELECT id FROM actors WHERE search_name = ? ORDER BY id LIMIT 2", "s",
		    key);
		int n = 0;
		while (st && db_step(st) == DB_ROW) {
			actor = db_col_int64(st, 0);
			n++;
		}
		db_finalize(st);
		free(key);
		if (n != 1)
			err = n ? "Plusieurs structures portent ce nom : écrivez-le exactement."
			        : "Aucune structure de l'annuaire ne porte ce nom.";
	}
	if (!err) {
		int64_t dup = 0;
		db_int64f(r->db, &dup,
		          "SELECT COUNT(*) FROM grid_campaign_actors WHERE campaign_id = ? AND "
		          "actor_id = ?",
		          "II", c.id, actor);
		if (dup)
			err = "Cette structure fait déjà partie de la campagne.";
	}
	if (!err) {
		int64_t lid = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &lid,
			    "INSERT INTO grid_campaign_actors (campaign_id, actor_id) VALUES "
			    "(?, ?) RETURNING id",
			    "II", c.id, actor);
		if (rc == DB_OK) {
			json_t *after = json_pack("{s:I,s:I,s:s}", "campaign_id", (json_int_t)c.id,
			                          "actor_id", (json_int_t)actor, "name", name);
			rc = audit_write_id(r->db, r->user->id, origin(r), "create",
			                    "grid_campaign_actor", lid, NULL, after);
			json_decref(after);
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		campaign_render(r, &c, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/campagnes/%lld", (long long)c.id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(name);
	camp_free(&c);
}

/* POST /campagnes/{campaign}/structures/{actor}/ambassadeur: ambassador=1|0 (seed 001: "des
 * ambassadeurs TECS par structure"); a flag only, never a name. */
static void structure_ambassador(struct req *r)
{
	int64_t id, actor, lid = 0;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_COORDINATOR, &c))
		return;
	if (req_param_id(r, 1, &actor)) {
		camp_free(&c);
		return;
	}
	if (db_int64f(r->db, &lid,
	              "SELECT id FROM grid_campaign_actors WHERE campaign_id = ? AND actor_id = ?",
	              "II", c.id, actor) != DB_OK) {
		resp_error(r, 404, "Cette page n'existe pas.");
		camp_free(&c);
		return;
	}
	const char *v = req_form(r, "ambassador");
	if (!v || (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)) {
		campaign_render(r, &c, "Indiquez si un·e ambassadeur·rice est désigné·e (0 ou 1).");
		r->status = 422;
		camp_free(&c);
		return;
	}
	json_t *before =
	    store_row_json(r->db, "SELECT * FROM grid_campaign_actors WHERE id = ?", lid);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "UPDATE grid_campaign_actors SET ambassador = ? WHERE id = ?",
		              "iI", v[0] == '1', lid);
	if (rc == DB_OK) {
		rc =
		    store_audit_row(r->db, r->user->id, origin(r), "update", "grid_campaign_actor",
		                    lid, before, "SELECT * FROM grid_campaign_actors WHERE id = ?");
	}
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
	} else {
		char *loc = xasprintf("/campagnes/%lld", (long long)c.id);
		resp_redirect(r, loc);
		free(loc);
	}
	camp_free(&c);
}

/* POST /campagnes/{campaign}/structures/{actor}/retirer (only without assessments) */
static void structure_remove(struct req *r)
{
	int64_t id, actor;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_COORDINATOR, &c))
		return;
	if (req_param_id(r, 1, &actor)) {
		camp_free(&c);
		return;
	}
	int64_t lid = 0, nasm = 0;
	if (db_int64f(r->db, &lid,
	              "SELECT id FROM grid_campaign_actors WHERE campaign_id = ? AND actor_id = ?",
	              "II", c.id, actor) != DB_OK) {
		resp_error(r, 404, "Cette page n'existe pas.");
		camp_free(&c);
		return;
	}
	db_int64f(r->db, &nasm,
	          "SELECT COUNT(*) FROM grid_assessments WHERE campaign_id = ? AND actor_id = ?",
	          "II", c.id, actor);
	if (nasm) {
		campaign_render(r, &c,
		                "Cette structure a déjà une évaluation : elle reste dans la "
		                "campagne.");
		r->status = 422;
		camp_free(&c);
		return;
	}
	json_t *before =
	    store_row_json(r->db, "SELECT * FROM grid_campaign_actors WHERE id = ?", lid);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM grid_campaign_actors WHERE id = ?", "I", lid);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin(r), "delete", "grid_campaign_actor",
		                    lid, before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = xasprintf("/campagnes/%lld", (long long)c.id);
		resp_redirect(r, loc);
		free(loc);
	}
	camp_free(&c);
}

/* POST /campagnes/{campaign}/evaluations: actor, kind (self|peer) → the assessment form. */
static void assessment_create(struct req *r)
{
	int64_t id, actor = 0;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_PILOT, &c))
		return;
	const char *av = req_form(r, "actor"), *kind = req_form(r, "kind");
	int64_t in = 0;
	if (av && !parse_int64(av, &actor))
		db_int64f(r->db, &in,
		          "SELECT COUNT(*) FROM grid_campaign_actors WHERE campaign_id = ? AND "
		          "actor_id = ?",
		          "II", c.id, actor);
	if (!in || !kind || (strcmp(kind, "self") != 0 && strcmp(kind, "peer") != 0)) {
		campaign_render(r, &c,
		                "Choisissez une structure de la campagne et un type d'évaluation.");
		r->status = 422;
		camp_free(&c);
		return;
	}
	int64_t aid = assessment_of(r->db, c.id, actor, kind);
	if (!aid) {
		char now[32];
		time_iso_now(now);
		char *assessor = NULL;
		if (!strcmp(kind, "self")) {
			struct db_stmt *st =
			    db_queryf(r->db, "SELECT name FROM actors WHERE id = ?", "I", actor);
			if (st && db_step(st) == DB_ROW)
				assessor = xstrdup(db_col_text(st, 0));
			db_finalize(st);
		}
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &aid,
			    "INSERT INTO grid_assessments (campaign_id, actor_id, kind, "
			    "assessor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
			    "RETURNING id",
			    "IIssss", c.id, actor, kind, assessor ? assessor : "", now, now);
		free(assessor);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, origin(r), "create",
			                     "grid_assessment", aid, NULL,
			                     "SELECT * FROM grid_assessments WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			camp_free(&c);
			return;
		}
	}
	char *loc = xasprintf("/evaluations/%lld", (long long)aid);
	resp_redirect(r, loc);
	free(loc);
	camp_free(&c);
}

/* Validate and store a testimony; returns an error message or NULL. */
static const char *testimony_insert(struct req *r, const struct gfw *f, int64_t cid, int64_t aid,
                                    const char *quote_in, const char *role, const char *item,
                                    int64_t *out_id)
{
	char *quote = quote_in ? str_trim_dup(quote_in) : NULL;
	int64_t item_id = 0;
	const char *err = NULL;
	if (!quote || !*quote)
		err = "Écrivez la citation.";
	else if (text_chars(quote) > QUOTE_MAX_LEN)
		err = "La citation est trop longue (3 000 caractères au plus).";
	else if (!role_valid(role))
		err = "Choisissez le rôle de la personne citée dans la liste.";
	else if (item && *item && (parse_int64(item, &item_id) || fw_index(f, item_id) < 0))
		err = "L'élément choisi n'appartient pas à la grille de la campagne.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, out_id,
			    "INSERT INTO grid_testimonies (campaign_id, assessment_id, "
			    "item_id, speaker_role, quote, created_at) VALUES (?, "
			    "CAST(NULLIF(?, 0) AS BIGINT), CAST(NULLIF(?, 0) AS BIGINT), ?, ?, "
			    "?) RETURNING id",
			    "IIIsss", cid, aid, item_id, role, quote, now);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, origin(r), "create",
			                     "grid_testimony", *out_id, NULL,
			                     "SELECT * FROM grid_testimonies WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	free(quote);
	return err;
}

/* POST /campagnes/{campaign}/temoignages */
static void testimony_add_campaign(struct req *r)
{
	int64_t id, tid = 0;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_COORDINATOR, &c))
		return;
	struct gfw f;
	if (fw_load(r->db, c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		camp_free(&c);
		return;
	}
	const char *err = testimony_insert(r, &f, c.id, 0, req_form(r, "quote"),
	                                   req_form(r, "speaker_role"), req_form(r, "item"), &tid);
	fw_free(&f);
	if (err) {
		campaign_render(r, &c, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/campagnes/%lld", (long long)c.id);
		resp_redirect(r, loc);
		free(loc);
	}
	camp_free(&c);
}

/* --- one assessment: the scoring form -------------------------------------------------------- */

static void assessment_render(struct req *r, struct asmt *a, struct gfw *f, const char *error,
                              int testimony_error)
{
	struct buf *o = &r->out;
	int w = a->c.role >= ROLE_PILOT;
	char *plan_href = xasprintf("/plans/%lld", (long long)a->c.plan_id);
	char *camp_href = xasprintf("/campagnes/%lld", (long long)a->c.id);
	struct crumb crumbs[] = {
	    {a->c.plan_title, plan_href}, {a->c.title, camp_href}, {NULL, NULL}};
	char *title = xasprintf("%s — %s", a->actor, kind_label(a->kind));
	page_begin(r, title, crumbs);
	html_printf(o, "<h1>%s</h1>\n", title);
	if (a->demo)
		buf_puts(o, "<p><span class=\"badge\">démo</span> Notes inventées pour la "
		            "démonstration.</p>\n");
	error_notice(r, error && !testimony_error ? error : NULL);
	if (!error && req_query(r, "ok"))
		page_notice(r, "success", "Évaluation enregistrée.");
	struct gscore *sc = scores_load(r->db, f, a->id);
	int again = error && !testimony_error;
	if (w) {
		html_printf(o,
		            "<form class=\"form\" method=\"post\" action=\"/evaluations/%lld\">\n",
		            (long long)a->id);
		page_csrf(r);
	}
	const char *dis = w ? "" : " disabled";
	const char *assessor = again ? req_form(r, "assessor") : a->assessor;
	const char *on = again ? req_form(r, "assessed_on") : a->assessed_on;
	const char *summary = again ? req_form(r, "summary") : a->summary;
	html_printf(o,
	            "<div class=\"field\"><label for=\"a-assessor\">Évaluateur (une organisation, "
	            "pas une personne)</label><input id=\"a-assessor\" name=\"assessor\" "
	            "maxlength=\"%d\" value=\"%s\"%R></div>\n<div class=\"field\"><label "
	            "for=\"a-on\">Date de l'évaluation</label><input id=\"a-on\" "
	            "name=\"assessed_on\" type=\"date\" value=\"%s\"%R></div>\n",
	            NAME_MAX_LEN, assessor ? assessor : "", dis, on ? on : "", dis);
	for (size_t i = 0; i < f->n; i++) {
		struct gitem *g = &f->it[i];
		if (!g->leaf) {
			int h = g->depth + 2 > 6 ? 6 : g->depth + 2;
			html_printf(o, "<h%d>%s %s</h%d>\n", h, g->num, g->label, h);
			if (*g->description)
				html_printf(o, "<p class=\"hint\">%s</p>\n", g->description);
			continue;
		}
		char key[40], ekey[40];
		snprintf(key, sizeof key, "score-%lld", (long long)g->id);
		snprintf(ekey, sizeof ekey, "preuve-%lld", (long long)g->id);
		const char *typed = again ? req_form(r, key) : NULL;
		int cur = -1;
		if (again) {
			int v;
			if (typed && !form_int(typed, f->smin, f->smax, &v))
				cur = v;
		} else if (sc[i].has) {
			cur = sc[i].score;
		}
		html_printf(o,
		            "<fieldset class=\"criterion\" id=\"c%lld\"><legend>%s %s</legend>\n",
		            (long long)g->id, g->num, g->label);
		if (*g->description)
			html_printf(o, "<p class=\"hint\">%s</p>\n", g->description);
		for (int l = f->smin; l <= f->smax; l++)
			html_printf(
			    o,
			    "<div class=\"choice\"><input type=\"radio\" id=\"%s-%d\" "
			    "name=\"%s\" value=\"%d\"%R%R><label for=\"%s-%d\"><strong>%d — "
			    "%s</strong> <span class=\"hint\">%s</span></label></div>\n",
			    key, l, key, l, cur == l ? " checked" : "", dis, key, l, l,
			    fw_level_label(f, l), f->lvl_desc[l - f->smin]);
		html_printf(o,
		            "<div class=\"choice\"><input type=\"radio\" id=\"%s-na\" name=\"%s\" "
		            "value=\"\"%R%R><label for=\"%s-na\">Non évalué</label></div>\n",
		            key, key, cur < 0 ? " checked" : "", dis, key);
		const char *ev = again ? req_form(r, ekey) : sc[i].evidence;
		html_printf(o,
		            "<div class=\"field\"><label for=\"%s\">Éléments de preuve</label>"
		            "<textarea id=\"%s\" name=\"%s\" rows=\"2\" maxlength=\"%d\"%R>%s"
		            "</textarea></div>\n</fieldset>\n",
		            ekey, ekey, ekey, EVIDENCE_MAX_LEN, dis, ev ? ev : "");
	}
	html_printf(o,
	            "<div class=\"field\"><label for=\"a-summary\">Synthèse</label><textarea "
	            "id=\"a-summary\" name=\"summary\" rows=\"4\"%R>%s</textarea></div>\n",
	            dis, summary ? summary : "");
	if (w)
		buf_puts(o, "<div class=\"actions\"><button class=\"button\" type=\"submit\">"
		            "Enregistrer l'évaluation</button></div>\n</form>\n");
	scores_free(sc, f->n);

	html_printf(o,
	            "<p><a href=\"/campagnes/%lld/structures/%lld\">Voir l'auto-évaluation et "
	            "l'évaluation par les pairs côte à côte</a></p>\n",
	            (long long)a->c.id, (long long)a->actor_id);
	buf_puts(o, "<h2 id=\"temoignages\">Témoignages recueillis pour cette évaluation</h2>\n");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, item_id, speaker_role, quote FROM "
	                               "grid_testimonies WHERE assessment_id = ? ORDER BY id",
	                               "I", a->id);
	testimonies_list(r, f, st, w, 3);
	db_finalize(st);
	if (w) {
		if (testimony_error)
			error_notice(r, error);
		char *action = xasprintf("/evaluations/%lld/temoignages", (long long)a->id);
		testimony_form(r, f, action, testimony_error ? error : NULL);
		free(action);
	}
	page_end(r);
	free(title);
	free(plan_href);
	free(camp_href);
}

/* GET /evaluations/{assessment} */
static void assessment_page(struct req *r)
{
	int64_t id;
	struct asmt a;
	if (req_param_id(r, 0, &id) || asmt_require(r, id, ROLE_READER, &a))
		return;
	struct gfw f;
	if (fw_load(r->db, a.c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
	} else {
		assessment_render(r, &a, &f, NULL, 0);
		fw_free(&f);
	}
	asmt_free(&a);
}

/* One score to store. */
struct newscore {
	int64_t item;
	int has, score;
	const char *evidence;
};

static json_t *scores_snapshot(struct db *db, int64_t aid)
{
	json_t *o = json_object();
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT item_id, score, evidence FROM grid_scores WHERE assessment_id = ? ORDER BY "
	    "item_id",
	    "I", aid);
	while (st && db_step(st) == DB_ROW) {
		char k[24];
		snprintf(k, sizeof k, "%lld", (long long)db_col_int64(st, 0));
		json_object_set_new(o, k,
		                    json_pack("{s:o,s:s}", "score",
		                              db_col_is_null(st, 1)
		                                  ? json_null()
		                                  : json_integer(db_col_int64(st, 1)),
		                              "evidence", db_col_text(st, 2)));
	}
	db_finalize(st);
	return o;
}

/* Store scores (already validated) and optional metadata in one audited transaction. */
static int scores_store(struct req *r, const struct asmt *a, const struct newscore *ns, size_t n,
                        const char *assessor, const char *on, const char *summary)
{
	char now[32];
	time_iso_now(now);
	json_t *before = scores_snapshot(r->db, a->id);
	int rc = db_begin(r->db);
	for (size_t i = 0; rc == DB_OK && i < n; i++)
		rc =
		    ns[i].has
		        ? db_execf(
		              r->db,
		              "INSERT INTO grid_scores (assessment_id, item_id, score, evidence, "
		              "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (assessment_id, "
		              "item_id) DO UPDATE SET score = excluded.score, evidence = "
		              "excluded.evidence, updated_at = excluded.updated_at",
		              "IIiss", a->id, ns[i].item, ns[i].score,
		              ns[i].evidence ? ns[i].evidence : "", now)
		        : db_execf(
		              r->db,
		              "INSERT INTO grid_scores (assessment_id, item_id, score, evidence, "
		              "updated_at) VALUES (?, ?, NULL, ?, ?) ON CONFLICT (assessment_id, "
		              "item_id) DO UPDATE SET score = excluded.score, evidence = "
		              "excluded.evidence, updated_at = excluded.updated_at",
		              "IIss", a->id, ns[i].item, ns[i].evidence ? ns[i].evidence : "", now);
	if (rc == DB_OK)
		rc = db_execf(
		    r->db,
		    "UPDATE grid_assessments SET assessor = ?, assessed_on = ?, summary = ?, "
		    "updated_at = ? WHERE id = ?",
		    "ssssI", assessor ? assessor : a->assessor,
		    on ? (*on ? on : NULL) : (*a->assessed_on ? a->assessed_on : NULL),
		    summary ? summary : a->summary, now, a->id);
	if (rc == DB_OK) {
		json_t *after = scores_snapshot(r->db, a->id);
		rc = audit_write_id(r->db, r->user->id, origin(r), "update", "grid_assessment",
		                    a->id, before, after);
		json_decref(after);
	}
	json_decref(before);
	return store_finish_tx(r->db, rc);
}

/* POST /evaluations/{assessment}: every criterion's score (or "" = not assessed) and evidence,
 * all checked before anything is stored. */
static void assessment_save(struct req *r)
{
	int64_t id;
	struct asmt a;
	if (req_param_id(r, 0, &id) || asmt_require(r, id, ROLE_PILOT, &a))
		return;
	struct gfw f;
	if (fw_load(r->db, a.c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		asmt_free(&a);
		return;
	}
	struct newscore *ns = xcalloc(f.n ? f.n : 1, sizeof *ns);
	size_t n = 0;
	const char *err = NULL;
	char *bad = NULL;
	/* A field left out keeps what is stored (a score without evidence keeps the evidence). */
	struct gscore *old = scores_load(r->db, &f, a.id);
	for (size_t i = 0; i < f.n && !err; i++) {
		if (!f.it[i].leaf)
			continue;
		char key[40], ekey[40];
		snprintf(key, sizeof key, "score-%lld", (long long)f.it[i].id);
		snprintf(ekey, sizeof ekey, "preuve-%lld", (long long)f.it[i].id);
		const char *v = req_form(r, key), *ev = req_form(r, ekey);
		if (!v && !ev)
			continue;
		struct newscore *s = &ns[n++];
		s->item = f.it[i].id;
		s->evidence = ev ? ev : old[i].evidence;
		if (!v) {
			s->has = old[i].has;
			s->score = old[i].score;
		} else if (*v) {
			if (form_int(v, f.smin, f.smax, &s->score)) {
				bad = xasprintf(
				    "Critère %s : la note doit être un nombre entier de %d à "
				    "%d. Rien n'a été enregistré.",
				    f.it[i].num, f.smin, f.smax);
				err = bad;
			}
			s->has = 1;
		}
		if (!err && ev && text_chars(ev) > EVIDENCE_MAX_LEN) {
			bad = xasprintf("Critère %s : les éléments de preuve dépassent 3 000 "
			                "caractères. Rien n'a été enregistré.",
			                f.it[i].num);
			err = bad;
		}
	}
	/* A score for an item that is not a criterion of this grid is refused too. */
	for (size_t k = 0; !err && k < r->form.n; k++) {
		const char *key = r->form.items[k].key;
		int64_t item;
		if (!strncmp(key, "score-", 6) &&
		    (parse_int64(key + 6, &item) || fw_index(&f, item) < 0 ||
		     !f.it[fw_index(&f, item)].leaf))
			err = "Une note porte sur un élément qui n'est pas un critère de cette "
			      "grille. "
			      "Rien n'a été enregistré.";
	}
	const char *assessor = req_form(r, "assessor"), *on = req_form(r, "assessed_on"),
	           *summary = req_form(r, "summary");
	if (!err && assessor && text_chars(assessor) > NAME_MAX_LEN)
		err = "Le nom de l'évaluateur est trop long (200 caractères au plus).";
	else if (!err && on && *on && !date_ok(on))
		err = "La date de l'évaluation s'écrit AAAA-MM-JJ.";
	else if (!err && summary && text_chars(summary) > SUMMARY_MAX_LEN)
		err = "La synthèse est trop longue (5 000 caractères au plus).";
	if (!err && scores_store(r, &a, ns, n, assessor, on, summary) != DB_OK)
		err = "L'enregistrement a échoué, réessayez.";
	if (err) {
		assessment_render(r, &a, &f, err, 0);
		r->status = 422;
	} else {
		char *loc = xasprintf("/evaluations/%lld?ok=1", (long long)a.id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(bad);
	free(ns);
	scores_free(old, f.n);
	fw_free(&f);
	asmt_free(&a);
}

/* POST /evaluations/{assessment}/temoignages */
static void testimony_add_assessment(struct req *r)
{
	int64_t id, tid = 0;
	struct asmt a;
	if (req_param_id(r, 0, &id) || asmt_require(r, id, ROLE_PILOT, &a))
		return;
	struct gfw f;
	if (fw_load(r->db, a.c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		asmt_free(&a);
		return;
	}
	const char *err = testimony_insert(r, &f, a.c.id, a.id, req_form(r, "quote"),
	                                   req_form(r, "speaker_role"), req_form(r, "item"), &tid);
	if (err) {
		assessment_render(r, &a, &f, err, 1);
		r->status = 422;
	} else {
		char *loc = xasprintf("/evaluations/%lld#temoignages", (long long)a.id);
		resp_redirect(r, loc);
		free(loc);
	}
	fw_free(&f);
	asmt_free(&a);
}

/* POST /temoignages/{testimony}/supprimer: pilots for an assessment's testimony, coordinators
 * for a campaign's. */
static void testimony_delete(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	int64_t cid = 0, aid = 0;
	struct db_stmt *st = db_queryf(
	    r->db, "SELECT campaign_id, assessment_id FROM grid_testimonies WHERE id = ?", "I", id);
	int found = st && db_step(st) == DB_ROW;
	if (found) {
		cid = db_col_int64(st, 0);
		aid = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return;
	}
	struct camp c;
	if (camp_require(r, cid, aid ? ROLE_PILOT : ROLE_COORDINATOR, &c))
		return;
	json_t *before = store_row_json(r->db, "SELECT * FROM grid_testimonies WHERE id = ?", id);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM grid_testimonies WHERE id = ?", "I", id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin(r), "delete", "grid_testimony", id,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = aid ? xasprintf("/evaluations/%lld#temoignages", (long long)aid)
		                : xasprintf("/campagnes/%lld", (long long)cid);
		resp_redirect(r, loc);
		free(loc);
	}
	camp_free(&c);
}

/* --- one structure: self and peer side by side, and across years ----------------------------- */

static void score_text(char out[160], const struct gfw *f, const struct gscore *s, size_t i)
{
	if (!s || !s[i].has)
		snprintf(out, 160, "—");
	else
		snprintf(out, 160, "%d — %s", s[i].score, fw_level_label(f, s[i].score));
}

/* GET /campagnes/{campaign}/structures/{actor} */
static void structure_page(struct req *r)
{
	int64_t id, actor;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_READER, &c))
		return;
	char *name = NULL;
	if (!req_param_id(r, 1, &actor)) {
		struct db_stmt *st =
		    db_queryf(r->db,
		              "SELECT a.name FROM grid_campaign_actors ca JOIN actors "
		              "a ON a.id = ca.actor_id WHERE ca.campaign_id = ? AND "
		              "ca.actor_id = ?",
		              "II", c.id, actor);
		if (st && db_step(st) == DB_ROW)
			name = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		if (!name)
			resp_error(r, 404, "Cette page n'existe pas.");
	}
	struct gfw f;
	if (!name || fw_load(r->db, c.framework_id, &f)) {
		if (name)
			resp_error(r, 500, "La grille de cette campagne est introuvable.");
		free(name);
		camp_free(&c);
		return;
	}
	struct buf *o = &r->out;
	char *plan_href = xasprintf("/plans/%lld", (long long)c.plan_id);
	char *camp_href = xasprintf("/campagnes/%lld", (long long)c.id);
	char *base =
	    xasprintf("/campagnes/%lld/structures/%lld", (long long)c.id, (long long)actor);
	struct crumb crumbs[] = {{c.plan_title, plan_href}, {c.title, camp_href}, {NULL, NULL}};
	char *title = xasprintf("%s — %s (%d)", name, c.title, c.year);
	page_begin(r, title, crumbs);
	html_printf(o, "<h1>%s</h1>\n", title);
	int64_t sid = assessment_of(r->db, c.id, actor, "self");
	int64_t pid = assessment_of(r->db, c.id, actor, "peer");
	struct gscore *ss = sid ? scores_load(r->db, &f, sid) : NULL;
	struct gscore *ps = pid ? scores_load(r->db, &f, pid) : NULL;
	html_printf(o, "<p>%R%R</p>\n", sid ? "" : "Pas encore d'auto-évaluation. ",
	            pid ? "" : "Pas encore d'évaluation par les pairs.");
	if (sid || pid) {
		buf_puts(o, "<p>");
		if (sid)
			html_printf(o,
			            "<a href=\"/evaluations/%lld\">Ouvrir l'auto-évaluation</a>%s",
			            (long long)sid, pid ? " · " : "");
		if (pid)
			html_printf(
			    o,
			    "<a href=\"/evaluations/%lld\">Ouvrir l'évaluation par les pairs</a>",
			    (long long)pid);
		buf_puts(o, "</p>\n");
	}
	buf_puts(o, "<h2 id=\"resultats\">Auto-évaluation et évaluation par les pairs</h2>\n");
	int depth = depth_param(r, &f);
	depth_links(r, &f, depth, base);
	size_t *axes = xcalloc(f.n ? f.n : 1, sizeof *axes);
	size_t na = axes_at(&f, depth, axes);
	double *vals = xcalloc(2 * na + 1, sizeof *vals);
	for (size_t k = 0; k < na; k++) {
		vals[k] = item_mean(&f, ss, axes[k]);
		vals[na + k] = item_mean(&f, ps, axes[k]);
	}
	char lname[LEVEL_NAME_MAX * 4 + 8];
	level_name(&f, depth, lname, sizeof lname);
	const char *series[] = {"Auto-évaluation", "Évaluation par les pairs"};
	char *t = xasprintf("%s : auto-évaluation et pairs, moyenne par %s", name, lname);
	char *d = xasprintf("Deux polygones superposés, de %d à %d par axe : trait plein pour "
	                    "l'auto-évaluation, tirets pour l'évaluation par les pairs.",
	                    f.smin, f.smax);
	radar_or_table(o, "radar-structure", t, d, &f, axes, na, series, vals, 2);
	free(t);
	free(d);

	/* Criteria side by side */
	html_printf(o,
	            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Notes par critère "
	            "(échelle de %d à %d)</caption>\n<thead><tr><th scope=\"col\">Critère</th><th "
	            "scope=\"col\">Auto-évaluation</th><th scope=\"col\">Évaluation par les pairs"
	            "</th><th scope=\"col\" class=\"num\">Écart</th></tr></thead>\n<tbody>\n",
	            f.smin, f.smax);
	for (size_t i = 0; i < f.n; i++) {
		if (!f.it[i].leaf)
			continue;
		char a1[160], a2[160], gap[48];
		score_text(a1, &f, ss, i);
		score_text(a2, &f, ps, i);
		if (ss && ps && ss[i].has && ps[i].has)
			snprintf(gap, sizeof gap, ps[i].score == ss[i].score ? "0" : "%+d",
			         ps[i].score - ss[i].score);
		else
			snprintf(gap, sizeof gap, "—");
		html_printf(o,
		            "<tr><th scope=\"row\">%s %s</th><td>%s</td><td>%s</td><td "
		            "class=\"num\">%s</td></tr>\n",
		            f.it[i].num, f.it[i].label, a1, a2, gap);
	}
	buf_puts(o, "</tbody></table></div>\n");
	int nev = 0;
	for (size_t i = 0; i < f.n; i++) {
		const char *e1 = ss && ss[i].evidence ? ss[i].evidence : "";
		const char *e2 = ps && ps[i].evidence ? ps[i].evidence : "";
		if (!f.it[i].leaf || (!*e1 && !*e2))
			continue;
		if (!nev++)
			buf_puts(o, "<h2>Éléments de preuve</h2>\n<dl class=\"facts\">");
		html_printf(o, "<div><dt>%s %s</dt><dd>", f.it[i].num, f.it[i].label);
		if (*e1)
			html_printf(o, "<p><strong>Auto-évaluation :</strong> %s</p>", e1);
		if (*e2)
			html_printf(o, "<p><strong>Pairs :</strong> %s</p>", e2);
		buf_puts(o, "</dd></div>");
	}
	if (nev)
		buf_puts(o, "</dl>\n");

	/* Across years: campaigns of the same framework in the same plan holding this structure. */
	buf_puts(o, "<h2>D'une année sur l'autre</h2>\n");
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.id, c.year, c.title FROM grid_campaigns c JOIN grid_campaign_actors ca ON "
	    "ca.campaign_id = c.id WHERE c.framework_id = ? AND c.plan_id = ? AND ca.actor_id = ? "
	    "ORDER BY c.year, c.id",
	    "III", f.id, c.plan_id, actor);
	size_t ny = 0;
	double *yv = NULL;
	char **ylab = NULL;
	while (st && db_step(st) == DB_ROW) {
		const char *kind = "self";
		int64_t aid = retained_assessment(r->db, db_col_int64(st, 0), actor, &kind);
		if (!aid)
			continue;
		struct gscore *sc = scores_load(r->db, &f, aid);
		yv = xrealloc(yv, (ny + 1) * (na + 1) * sizeof *yv);
		ylab = xrealloc(ylab, (ny + 1) * sizeof *ylab);
		for (size_t k = 0; k < na; k++)
			yv[ny * na + k] = item_mean(&f, sc, axes[k]);
		scores_free(sc, f.n);
		ylab[ny] = xasprintf("%lld — %s (%s)", (long long)db_col_int64(st, 1),
		                     db_col_text(st, 2), !strcmp(kind, "peer") ? "pairs" : "auto");
		ny++;
	}
	db_finalize(st);
	if (ny < 2) {
		buf_puts(o, "<p>Une seule campagne de cette grille pour cette structure : la "
		            "comparaison dans le temps viendra avec la prochaine.</p>\n");
	}
	if (ny) {
		/* The radar draws the last three years at most; the table holds them all. */
		size_t first = ny > 3 ? ny - 3 : 0;
		char *t2 = xasprintf("%s : évolution par année, moyenne par %s", name, lname);
		char *d2 = xasprintf("%zu campagne%s de la même grille superposée%s.", ny - first,
		                     ny - first > 1 ? "s" : "", ny - first > 1 ? "s" : "");
		radar_or_table(o, "radar-annees", t2, d2, &f, axes, na,
		               (const char *const *)ylab + first, yv + first * na, ny - first);
		free(t2);
		free(d2);
		if (first) {
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Toutes "
			    "les années, moyenne par %s</caption><thead><tr><th "
			    "scope=\"col\">%s</th>",
			    lname, lname);
			for (size_t y = 0; y < ny; y++)
				html_printf(o, "<th scope=\"col\" class=\"num\">%s</th>", ylab[y]);
			buf_puts(o, "</tr></thead><tbody>");
			for (size_t k = 0; k < na; k++) {
				html_printf(o, "<tr><th scope=\"row\">%s %s</th>",
				            f.it[axes[k]].num, f.it[axes[k]].label);
				for (size_t y = 0; y < ny; y++) {
					char num[48];
					fmt_score(num, yv[y * na + k]);
					html_printf(o, "<td class=\"num\">%s</td>", num);
				}
				buf_puts(o, "</tr>");
			}
			buf_puts(o, "</tbody></table></div>\n");
		}
	}
	for (size_t y = 0; y < ny; y++)
		free(ylab[y]);
	free(ylab);
	free(yv);
	free(vals);
	free(axes);
	scores_free(ss, f.n);
	scores_free(ps, f.n);
	page_end(r);
	free(title);
	free(base);
	free(plan_href);
	free(camp_href);
	free(name);
	fw_free(&f);
	camp_free(&c);
}

/* POST /campagnes/{campaign}/supprimer: the campaign with its assessments and testimonies. */
static void campaign_delete(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_COORDINATOR, &c))
		return;
	struct gfw f;
	json_t *before = NULL;
	if (!fw_load(r->db, c.framework_id, &f)) {
		before = campaign_json(r->db, c.id, &f);
		fw_free(&f);
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM grid_campaigns WHERE id = ?", "I", c.id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin(r), "delete", "grid_campaign", c.id,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = xasprintf("/plans/%lld/campagnes", (long long)c.plan_id);
		resp_redirect(r, loc);
		free(loc);
	}
	camp_free(&c);
}

/* --- exports from the web and the API ----------------------------------------------------------
 */

static void send_export(struct req *r, int64_t plan_id, int64_t cid, const char *stem)
{
	const char *fv = req_query(r, "format");
	enum grids_format fmt = grids_format_parse(fv ? fv : "json");
	if (fmt == GRIDS_NONE) {
		resp_error(r, 400, "Format d'export inconnu : json, csv ou xlsx.");
		return;
	}
	char *err = NULL;
	buf_reset(&r->out);
	if (grids_export(r->db, plan_id, cid, fmt, &r->out, &err)) {
		resp_error(r, 500, err ? err : "Export impossible.");
		free(err);
		return;
	}
	static const char *const ext[] = {"", "json", "csv", "xlsx"};
	static const char *const ctype[] = {
	    "", "application/json; charset=utf-8", "text/csv; charset=utf-8",
	    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"};
	char *disp = xasprintf("attachment; filename=\"%s.%s\"", stem, ext[fmt]);
	resp_header(r, "Content-Disposition", disp);
	free(disp);
	resp_send(r, 200, ctype[fmt]);
}

/* GET /campagnes/{campaign}/export?format=json|csv|xlsx (and the API twin) */
static void campaign_export(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_READER, &c))
		return;
	char stem[64];
	snprintf(stem, sizeof stem, "campagne-%lld-%d", (long long)c.id, c.year);
	send_export(r, 0, c.id, stem);
	camp_free(&c);
}

/* GET /plans/{plan}/campagnes/export?format=json|csv|xlsx (and the API twin): the shared grids,
 * the plan's own, and every campaign of the plan. */
static void plan_export(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id))
		return;
	if (plan_role(r, plan_id) < ROLE_READER) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return;
	}
	char stem[64];
	snprintf(stem, sizeof stem, "grilles-plan-%lld", (long long)plan_id);
	send_export(r, plan_id, 0, stem);
}

/* --- API ------------------------------------------------------------------------------------ */

/* GET /api/v1/grids/frameworks */
static void api_frameworks(struct req *r)
{
	char *err = NULL;
	if (grids_ensure_shipped(r->db, &err))
		free(err);
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT g.id, g.code, g.name, g.plan_id, g.scale_min, g.scale_max, (SELECT COUNT(*) "
	    "FROM grid_items i WHERE i.framework_id = g.id AND NOT EXISTS (SELECT 1 FROM "
	    "grid_items "
	    "k WHERE k.parent_id = i.id)) FROM grid_frameworks g WHERE " FW_VISIBLE
	    " ORDER BY g.id",
	    "iI", is_admin(r), r->user->id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    arr, json_pack("{s:I,s:o,s:s,s:o,s:{s:I,s:I},s:I}", "id",
		                   (json_int_t)db_col_int64(st, 0), "code", nullable_text(st, 1),
		                   "name", db_col_text(st, 2), "plan_id",
		                   db_col_is_null(st, 3) ? json_null()
		                                         : json_integer(db_col_int64(st, 3)),
		                   "scale", "min", (json_int_t)db_col_int64(st, 4), "max",
		                   (json_int_t)db_col_int64(st, 5), "criteria",
		                   (json_int_t)db_col_int64(st, 6)));
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:o}", "frameworks", arr));
}

/* GET /api/v1/grids/frameworks/{framework} */
static void api_framework(struct req *r)
{
	int64_t id;
	struct gfw f;
	if (req_param_id(r, 0, &id) || fw_require(r, id, 0, &f))
		return;
	resp_json(r, 200, fw_json(&f));
	fw_free(&f);
}

/* GET /api/v1/plans/{plan}/grids/campaigns */
static void api_campaigns(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.id, c.title, c.year, c.framework_id, g.name FROM grid_campaigns c JOIN "
	    "grid_frameworks g ON g.id = c.framework_id WHERE c.plan_id = ? ORDER BY c.year, c.id",
	    "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{s:I,s:s,s:I,s:I,s:s}", "id", (json_int_t)db_col_int64(st, 0),
		              "title", db_col_text(st, 1), "year", (json_int_t)db_col_int64(st, 2),
		              "framework_id", (json_int_t)db_col_int64(st, 3), "framework",
		              db_col_text(st, 4)));
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:I,s:o}", "plan_id", (json_int_t)plan_id, "campaigns", arr));
}

/* GET /api/v1/grids/campaigns/{campaign} */
static void api_campaign(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_READER, &c))
		return;
	struct gfw f;
	if (fw_load(r->db, c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
	} else {
		json_t *j = campaign_json(r->db, c.id, &f);
		resp_json(r, 200, j ? j : json_object());
		fw_free(&f);
	}
	camp_free(&c);
}

/* GET /api/v1/grids/campaigns/{campaign}/results?level=N: means per item of depth N (1-based)
 * for each structure, self and peer. */
static void api_results(struct req *r)
{
	int64_t id;
	struct camp c;
	if (req_param_id(r, 0, &id) || camp_require(r, id, ROLE_READER, &c))
		return;
	struct gfw f;
	if (fw_load(r->db, c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		camp_free(&c);
		return;
	}
	int depth = default_depth(&f), d;
	const char *lv = req_query(r, "level");
	if (lv) {
		if (form_int(lv, 1, f.maxdepth ? f.maxdepth : 1, &d)) {
			resp_error(r, 400, "Le niveau demandé n'existe pas dans cette grille.");
			fw_free(&f);
			camp_free(&c);
			return;
		}
		depth = d - 1;
	}
	size_t *axes = xcalloc(f.n ? f.n : 1, sizeof *axes);
	size_t na = axes_at(&f, depth, axes);
	json_t *ja = json_array();
	for (size_t k = 0; k < na; k++)
		json_array_append_new(
		    ja, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)f.it[axes[k]].id, "number",
		                  f.it[axes[k]].num, "label", f.it[axes[k]].label));
	size_t ns;
	struct sline *sl = structures_load(r->db, c.id, &ns);
	json_t *js = json_array();
	for (size_t i = 0; i < ns; i++) {
		json_t *o =
		    json_pack("{s:I,s:s}", "actor_id", (json_int_t)sl[i].actor, "name", sl[i].name);
		int64_t ids[2] = {sl[i].self_id, sl[i].peer_id};
		const char *keys[2] = {"self", "peer"};
		for (int k = 0; k < 2; k++) {
			if (!ids[k]) {
				json_object_set_new(o, keys[k], json_null());
				continue;
			}
			struct gscore *sc = scores_load(r->db, &f, ids[k]);
			json_t *v = json_array();
			for (size_t x = 0; x < na; x++) {
				double m = item_mean(&f, sc, axes[x]);
				json_array_append_new(v, isnan(m) ? json_null() : json_real(m));
			}
			scores_free(sc, f.n);
			json_object_set_new(o, keys[k], v);
		}
		json_array_append_new(js, o);
	}
	structures_free(sl, ns);
	free(axes);
	resp_json(r, 200,
	          json_pack("{s:I,s:i,s:{s:i,s:i},s:o,s:o}", "campaign_id", (json_int_t)c.id,
	                    "level", depth + 1, "scale", "min", f.smin, "max", f.smax, "axes", ja,
	                    "structures", js));
	fw_free(&f);
	camp_free(&c);
}

/* GET /api/v1/grids/assessments/{assessment} */
static void api_assessment(struct req *r)
{
	int64_t id;
	struct asmt a;
	if (req_param_id(r, 0, &id) || asmt_require(r, id, ROLE_READER, &a))
		return;
	struct gfw f;
	if (fw_load(r->db, a.c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		asmt_free(&a);
		return;
	}
	json_t *c = campaign_json(r->db, a.c.id, &f);
	json_t *found = NULL;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(c, "assessments"), i,
	                   x) if (json_integer_value(json_object_get(x, "id")) == a.id) found =
	    json_incref(x);
	if (found) {
		json_t *tes = json_array();
		json_array_foreach(json_object_get(c, "testimonies"), i,
		                   x) if (json_integer_value(json_object_get(x, "assessment_id")) ==
		                          a.id) json_array_append(tes, x);
		json_object_set_new(found, "testimonies", tes);
		json_object_set_new(found, "campaign_id", json_integer(a.c.id));
		json_object_set_new(found, "framework_id", json_integer(f.id));
	}
	json_decref(c);
	resp_json(r, 200, found ? found : json_object());
	fw_free(&f);
	asmt_free(&a);
}

/* POST /api/v1/grids/assessments/{assessment}/scores
 * {"scores": [{"item_id": 12, "score": 3 | null, "evidence": "…"}]}: all or nothing. */
static void api_scores(struct req *r)
{
	int64_t id;
	struct asmt a;
	if (req_param_id(r, 0, &id) || asmt_require(r, id, ROLE_PILOT, &a))
		return;
	json_t *body = req_json_body(r);
	if (!body) {
		asmt_free(&a);
		return;
	}
	struct gfw f;
	if (fw_load(r->db, a.c.framework_id, &f)) {
		resp_error(r, 500, "La grille de cette campagne est introuvable.");
		json_decref(body);
		asmt_free(&a);
		return;
	}
	json_t *arr = json_object_get(body, "scores");
	size_t n = json_array_size(arr);
	const char *err = NULL;
	char *bad = NULL;
	if (!json_is_array(arr) || !n || n > f.n)
		err = "« scores » doit être une liste non vide de notes.";
	struct newscore *ns = xcalloc(n ? n : 1, sizeof *ns);
	for (size_t i = 0; !err && i < n; i++) {
		json_t *s = json_array_get(arr, i);
		json_t *item = json_object_get(s, "item_id"), *sc = json_object_get(s, "score");
		json_t *ev = json_object_get(s, "evidence");
		ssize_t ix = json_is_integer(item) ? fw_index(&f, json_integer_value(item)) : -1;
		if (ix < 0 || !f.it[ix].leaf) {
			bad = xasprintf(
			    "scores[%zu] : « item_id » n'est pas un critère de cette grille.", i);
			err = bad;
			break;
		}
		for (size_t k = 0; k < i; k++)
			if (ns[k].item == f.it[ix].id) {
				bad = xasprintf("scores[%zu] : critère donné deux fois.", i);
				err = bad;
			}
		if (err)
			break;
		ns[i].item = f.it[ix].id;
		if (json_is_integer(sc) && json_integer_value(sc) >= f.smin &&
		    json_integer_value(sc) <= f.smax) {
			ns[i].has = 1;
			ns[i].score = (int)json_integer_value(sc);
		} else if (sc && !json_is_null(sc)) {
			bad = xasprintf(
			    "scores[%zu] : la note doit être un entier de %d à %d (ou null).", i,
			    f.smin, f.smax);
			err = bad;
			break;
		}
		if (ev &&
		    (!json_is_string(ev) || text_chars(json_string_value(ev)) > EVIDENCE_MAX_LEN)) {
			bad = xasprintf(
			    "scores[%zu] : « evidence » est un texte de 3 000 caractères au "
			    "plus.",
			    i);
			err = bad;
			break;
		}
		if (ev)
			ns[i].evidence = json_string_value(ev);
		else {
			/* Keep the stored evidence when none is given. */
			struct gscore *old = scores_load(r->db, &f, a.id);
			ns[i].evidence = NULL;
			if (old[ix].evidence) {
				json_object_set_new(s, "evidence", json_string(old[ix].evidence));
				ns[i].evidence = json_string_value(json_object_get(s, "evidence"));
			}
			scores_free(old, f.n);
		}
	}
	if (err) {
		resp_error(r, 422, err);
	} else if (scores_store(r, &a, ns, n, NULL, NULL, NULL) != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
	} else {
		json_t *c = campaign_json(r->db, a.c.id, &f);
		json_t *out = NULL;
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(c, "assessments"), i,
		                   x) if (json_integer_value(json_object_get(x, "id")) == a.id)
		    out = json_incref(x);
		json_decref(c);
		resp_json(r, 200, out ? out : json_object());
	}
	free(bad);
	free(ns);
	json_decref(body);
	fw_free(&f);
	asmt_free(&a);
}

const struct route grids_routes[] = {
    {M_GET, "/grilles", ACC_LOGIN, frameworks_page, "Grilles d'évaluation (liste, création)"},
    {M_POST, "/grilles", ACC_LOGIN, framework_create, "Créer une grille d'évaluation"},
    {M_GET, "/grilles/{framework}", ACC_LOGIN, framework_page,
     "Une grille : arborescence, échelle, éditeur"},
    {M_POST, "/grilles/{framework}", ACC_LOGIN, framework_update,
     "Modifier le nom, les niveaux et l'échelle d'une grille"},
    {M_POST, "/grilles/{framework}/supprimer", ACC_LOGIN, framework_delete, "Supprimer une grille"},
    {M_POST, "/grilles/{framework}/elements", ACC_LOGIN, element_add,
     "Ajouter un élément (enfant ou frère)"},
    {M_POST, "/grilles/{framework}/elements/{element}", ACC_LOGIN, element_update,
     "Renommer un élément"},
    {M_POST, "/grilles/{framework}/copier", ACC_LOGIN, framework_copy,
     "Copier une grille (dans un plan, pour l'adapter)"},
    {M_POST, "/grilles/{framework}/elements/{element}/deplacer", ACC_LOGIN, element_move,
     "Monter ou descendre un élément parmi ses frères"},
    {M_POST, "/grilles/{framework}/elements/{element}/supprimer", ACC_LOGIN, element_delete,
     "Supprimer un élément et ses sous-éléments"},
    {M_GET, "/plans/{plan}/campagnes", ACC_LOGIN, campaigns_page,
     "Campagnes d'évaluation d'un plan"},
    {M_POST, "/plans/{plan}/campagnes", ACC_LOGIN, campaign_create, "Créer une campagne"},
    {M_GET, "/plans/{plan}/campagnes/export", ACC_LOGIN, plan_export,
     "Exporter les grilles et campagnes d'un plan (?format=json|csv|xlsx)"},
    {M_GET, "/campagnes/{campaign}", ACC_LOGIN, campaign_page,
     "Une campagne : structures, évaluations, radars, témoignages"},
    {M_POST, "/campagnes/{campaign}/supprimer", ACC_LOGIN, campaign_delete,
     "Supprimer une campagne et ses évaluations"},
    {M_GET, "/campagnes/{campaign}/export", ACC_LOGIN, campaign_export,
     "Exporter une campagne (?format=json|csv|xlsx)"},
    {M_POST, "/campagnes/{campaign}/structures", ACC_LOGIN, structure_add,
     "Ajouter une structure à une campagne"},
    {M_GET, "/campagnes/{campaign}/structures/{actor}", ACC_LOGIN, structure_page,
     "Auto-évaluation et pairs côte à côte, évolution par année"},
    {M_POST, "/campagnes/{campaign}/structures/{actor}/ambassadeur", ACC_LOGIN,
     structure_ambassador, "Indiquer si une structure a désigné un·e ambassadeur·rice TECS"},
    {M_POST, "/campagnes/{campaign}/structures/{actor}/retirer", ACC_LOGIN, structure_remove,
     "Retirer une structure d'une campagne"},
    {M_POST, "/campagnes/{campaign}/evaluations", ACC_LOGIN, assessment_create,
     "Commencer une évaluation"},
    {M_POST, "/campagnes/{campaign}/temoignages", ACC_LOGIN, testimony_add_campaign,
     "Ajouter un témoignage à une campagne"},
    {M_GET, "/evaluations/{assessment}", ACC_LOGIN, assessment_page, "Une évaluation"},
    {M_POST, "/evaluations/{assessment}", ACC_LOGIN, assessment_save,
     "Enregistrer les notes et les preuves"},
    {M_POST, "/evaluations/{assessment}/temoignages", ACC_LOGIN, testimony_add_assessment,
     "Ajouter un témoignage à une évaluation"},
    {M_POST, "/temoignages/{testimony}/supprimer", ACC_LOGIN, testimony_delete,
     "Retirer un témoignage"},
    {M_GET, "/api/v1/grids/frameworks", ACC_LOGIN, api_frameworks, "Grilles visibles (JSON)"},
    {M_GET, "/api/v1/grids/frameworks/{framework}", ACC_LOGIN, api_framework,
     "Une grille et son arbre (JSON)"},
    {M_GET, "/api/v1/plans/{plan}/grids/campaigns", ACC_LOGIN, api_campaigns,
     "Campagnes d'un plan (JSON)"},
    {M_GET, "/api/v1/plans/{plan}/grids/export", ACC_LOGIN, plan_export,
     "Exporter les grilles et campagnes d'un plan (?format=json|csv|xlsx)"},
    {M_GET, "/api/v1/grids/campaigns/{campaign}", ACC_LOGIN, api_campaign,
     "Une campagne, ses évaluations et témoignages (JSON)"},
    {M_GET, "/api/v1/grids/campaigns/{campaign}/results", ACC_LOGIN, api_results,
     "Résultats d'une campagne par niveau (JSON)"},
    {M_GET, "/api/v1/grids/campaigns/{campaign}/export", ACC_LOGIN, campaign_export,
     "Exporter une campagne (?format=json|csv|xlsx)"},
    {M_GET, "/api/v1/grids/assessments/{assessment}", ACC_LOGIN, api_assessment,
     "Une évaluation (JSON)"},
    {M_POST, "/api/v1/grids/assessments/{assessment}/scores", ACC_LOGIN, api_scores,
     "Enregistrer des notes (JSON, tout ou rien)"},
    {0},
};

int grids_cli_export(struct db *db, const char *format, const char *plan, const char *out)
{
	enum grids_format fmt = grids_format_parse(format);
	if (!format && out) {
		const char *dot = strrchr(out, '.');
		fmt = grids_format_parse(dot ? dot + 1 : NULL);
	}
	if (fmt == GRIDS_NONE) {
		fprintf(stderr, "maillage export grids : --format attend json, csv ou xlsx\n");
		return 2;
	}
	int64_t plan_id = 0;
	if (plan && (parse_int64(plan, &plan_id) || plan_id < 1)) {
		fprintf(stderr, "maillage export grids : « %s » n'est pas un numéro de plan\n",
		        plan);
		return 2;
	}
	if (fmt == GRIDS_XLSX && (!out || !strcmp(out, "-")) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "maillage export grids : un classeur XLSX est un fichier binaire ; "
		                "indiquez -o FICHIER.xlsx ou redirigez la sortie\n");
		return 2;
	}
	char *err = NULL;
	if (grids_ensure_shipped(db, &err)) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	if (plan_id) {
		int64_t ok = 0;
		if (db_int64f(db, &ok, "SELECT id FROM plans WHERE id = ?", "I", plan_id) !=
		    DB_OK) {
			fprintf(stderr, "maillage export grids : le plan n° %lld n'existe pas\n",
			        (long long)plan_id);
			return 1;
		}
	}
	struct buf b = {0};
	if (grids_export(db, plan_id, 0, fmt, &b, &err)) {
		fprintf(stderr, "maillage : export impossible : %s\n", err);
		free(err);
		buf_free(&b);
		return 1;
	}
	int to_file = out && strcmp(out, "-") != 0;
	FILE *f = to_file ? fopen(out, "wb") : stdout;
	if (!f) {
		fprintf(stderr, "maillage : impossible d'écrire « %s »\n", out);
		buf_free(&b);
		return 1;
	}
	int bad = fwrite(b.data ? b.data : "", 1, b.len, f) != b.len;
	bad |= to_file ? fclose(f) != 0 : fflush(stdout) != 0;
	buf_free(&b);
	if (bad) {
		fprintf(stderr, "maillage : écriture incomplète\n");
		return 1;
	}
	if (to_file)
		fprintf(stderr, "Grilles d'évaluation exportées dans %s.\n", out);
	return 0;
}
