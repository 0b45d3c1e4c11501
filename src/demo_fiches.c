/* demo_fiches: loads the "fiche" objects of the demo plans and gives the demo pilot some fiches. */
#include "demo_fiches.h"

#include "audit.h"
#include "db.h"
#include "fiches.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fctx {
	struct db *db;
	int64_t plan_id;
	char now[32];
	char today[16];
	char **err;
};

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The id of the actor with exactly this name, or 0. */
static int64_t actor_by_name(struct db *db, const char *name)
{
	int64_t id = 0;
	if (!name || db_int64f(db, &id, "SELECT id FROM actors WHERE name = ?", "s", name) != DB_OK)
		return 0;
	return id;
}

/* Insert the actors named in `names` (a JSON array) with `sql` (node id, actor id). */
static int link_actors(struct fctx *c, int64_t node, const char *number, json_t *names,
                       const char *what, const char *sql)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
	{
		const char *name = json_string_value(v);
		int64_t actor = actor_by_name(c->db, name);
		if (!actor) {
			*c->err = xasprintf("fiche %s : %s inconnu dans l'annuaire « %s »", number,
			                    what, name ? name : "");
			return -1;
		}
		if (db_execf(c->db, sql, "II", node, actor) != DB_OK) {
			*c->err = xasprintf("fiche %s : %s", number, db_errmsg(c->db));
			return -1;
		}
	}
	return 0;
}

static int load_fiche(struct fctx *c, const char *number, json_t *f)
{
	int64_t node = 0;
	if (db_int64f(c->db, &node, "SELECT id FROM nodes WHERE plan_id = ? AND number = ?", "Is",
	              c->plan_id, number) != DB_OK) {
		*c->err = xasprintf("fiche %s : élément introuvable dans le plan", number);
		return -1;
	}
	const char *status = jstr(f, "status") ? jstr(f, "status") : "proposee";
	const char *progress = jstr(f, "progress") ? jstr(f, "progress") : "non_engagee";
	const char *start = jstr(f, "start"), *end = jstr(f, "end");
	if (!fiche_status_valid(status) || !fiche_progress_valid(progress)) {
		*c->err = xasprintf("fiche %s : statut « %s » ou avancement « %s » inconnu", number,
		                    status, progress);
		return -1;
	}
	if ((start && !fiche_date_valid(start)) || (end && !fiche_date_valid(end)) ||
	    (start && end && strcmp(end, start) < 0)) {
		*c->err = xasprintf("fiche %s : dates non valides (%s – %s)", number,
		                    start ? start : "", end ? end : "");
		return -1;
	}
	const char *note = "";
	char closed[32] = "";
	if (fiche_status_closes(status)) {
		note = !strcmp(status, "achevee")
		           ? "Action réalisée ; bilan présenté au comité de pilotage "
		             "(exemple de démonstration)."
		           : "Action abandonnée faute de porteur disponible "
		             "(exemple de démonstration).";
		if (end && strcmp(end, c->today) <= 0)
			snprintf(closed, sizeof closed, "%sT12:00:00Z", end);
		else
			snprintf(closed, sizeof closed, "%s", c->now);
	}
	if (db_execf(c->db,
	             "INSERT INTO fiches (node_id, status, progress, start_date, end_date, "
	             "closing_note, closed_at, is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
	             "Issssss", node, status, progress, start, end, note,
	             closed[0] ? closed : NULL) != DB_OK) {
		*c->err = xasprintf("fiche %s : %s", number, db_errmsg(c->db));
		return -1;
	}
	if (link_actors(c, node, number, json_object_get(f, "pilots"), "pilote",
	                "INSERT INTO fiche_pilots (node_id, actor_id) VALUES (?, ?) "
	                "ON CONFLICT DO NOTHING") ||
	    link_actors(c, node, number, json_object_get(f, "partners"), "partenaire",
	                "INSERT INTO fiche_partners (node_id, actor_id) VALUES (?, ?) "
	                "ON CONFLICT DO NOTHING"))
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(f, "publics"), i, v)
	{
		const char *label = json_string_value(v);
		if (!label || !*label ||
		    db_execf(c->db,
		             "INSERT INTO fiche_publics (node_id, label) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "Is", node, label) != DB_OK) {
			*c->err = xasprintf("fiche %s : public non valide", number);
			return -1;
		}
	}
	json_array_foreach(json_object_get(f, "impact_domains"), i, v)
	{
		const char *slug = json_string_value(v);
		int64_t known = 0;
		db_int64f(c->db, &known, "SELECT COUNT(*) FROM impact_domains WHERE slug = ?", "s",
		          slug ? slug : "");
		if (!known || db_execf(c->db,
		                       "INSERT INTO fiche_impacts (node_id, domain) VALUES (?, ?) "
		                       "ON CONFLICT DO NOTHING",
		                       "Is", node, slug) != DB_OK) {
			*c->err = xasprintf("fiche %s : domaine d'impact inconnu « %s »", number,
			                    slug ? slug : "");
			return -1;
		}
	}
	json_t *after = fiche_snapshot(c->db, node);
	int rc = audit_write_id(c->db, 0, "cli", "create", "fiche", node, NULL, after);
	json_decref(after);
	if (rc != DB_OK) {
		*c->err = xasprintf("fiche %s : %s", number, db_errmsg(c->db));
		return -1;
	}
	return 0;
}

/* The same walk as demo.c's load_nodes: numbers by position, depth first. */
static int walk(struct fctx *c, json_t *arr, const char *prefix)
{
	size_t i;
	json_t *n;
	json_array_foreach(arr, i, n)
	{
		char number[128];
		snprintf(number, sizeof number, "%s%s%zu", prefix, *prefix ? "." : "", i + 1);
		json_t *f = json_object_get(n, "fiche");
		if (json_is_object(f) && load_fiche(c, number, f))
			return -1;
		json_t *kids = json_object_get(n, "children");
		if (json_array_size(kids) && walk(c, kids, number))
			return -1;
	}
	return 0;
}

int demo_fiches_load(struct db *db, int64_t plan_id, const char *json, size_t len, char **err)
{
	json_error_t je;
	json_t *p = json_loadb(json, len, 0, &je);
	if (!json_is_object(p)) {
		*err =
		    xasprintf("plan de démonstration illisible, ligne %d : %s", je.line, je.text);
		json_decref(p);
		return -1;
	}
	struct fctx c = {.db = db, .plan_id = plan_id, .err = err};
	time_iso_now(c.now);
	fiche_today(c.today);
	int rc = walk(&c, json_object_get(p, "nodes"), "");
	json_decref(p);
	return rc;
}

/* --- the demo pilot -------------------------------------------------------------------------- */

struct cand {
	int64_t id;
	char status[16], progress[16];
	int top; /* first component of the number: the thématique */
	int taken;
};

/* Give fiche c to the user (audited); stale sets its last progress report 8 months back. */
static int assign(struct db *db, struct cand *c, int64_t user_id, int stale)
{
	json_t *before = fiche_snapshot(db, c->id);
	int rc = db_execf(db,
	                  "INSERT INTO fiche_pilots (node_id, user_id) VALUES (?, ?) "
	                  "ON CONFLICT DO NOTHING",
	                  "II", c->id, user_id);
	if (rc == DB_OK && stale) {
		time_t t = time(NULL) - (time_t)243 * 24 * 3600; /* about eight months ago */
		struct tm tm;
		gmtime_r(&t, &tm);
		char at[32];
		strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
		rc = db_execf(db, "UPDATE fiches SET progress_updated_at = ? WHERE node_id = ?",
		              "sI", at, c->id);
	}
	json_t *after = fiche_snapshot(db, c->id);
	if (rc == DB_OK)
		rc = audit_write_id(db, 0, "cli", "update", "fiche", c->id, before, after);
	json_decref(before);
	json_decref(after);
	c->taken = 1;
	return rc == DB_OK ? 0 : -1;
}

/* The first free candidate with this status and progress (NULL: any), preferring a thématique
 * not used yet; NULL when none. */
static struct cand *pick(struct cand *v, size_t n, const char *status, const char *progress,
                         const int *used_tops, size_t nused)
{
	struct cand *fallback = NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i].taken || (status && strcmp(v[i].status, status)) ||
		    (progress && strcmp(v[i].progress, progress)))
			continue;
		int used = 0;
		for (size_t k = 0; k < nused; k++)
			used |= used_tops[k] == v[i].top;
		if (!used)
			return &v[i];
		if (!fallback)
			fallback = &v[i];
	}
	return fallback;
}

int demo_fiches_assign_pilot(struct db *db, int64_t plan_id, int64_t user_id, int count)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT n.id, n.number, f.status, f.progress FROM fiches f "
	                               "JOIN nodes n ON n.id = f.node_id "
	                               "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.id",
	                               "I", plan_id);
	if (!st)
		return -1;
	struct cand *v = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof *v);
		}
		struct cand *c = &v[n++];
		memset(c, 0, sizeof *c);
		c->id = db_col_int64(st, 0);
		c->top = atoi(db_col_text(st, 1));
		snprintf(c->status, sizeof c->status, "%s", db_col_text(st, 2));
		snprintf(c->progress, sizeof c->progress, "%s", db_col_text(st, 3));
	}
	db_finalize(st);
	static const struct {
		const char *status, *progress;
		int stale;
	} wanted[] = {
	    {"en_cours", "peu_engagee", 1},  {"en_cours", "bien_engagee", 0},
	    {"retenue", "non_engagee", 0},   {"achevee", NULL, 0},
	    {"en_cours", "bien_engagee", 0}, {"en_cours", "peu_engagee", 0},
	};
	int *tops = xcalloc((size_t)(count > 0 ? count : 1), sizeof *tops);
	int done = 0, rc = 0;
	for (size_t w = 0; done < count && rc == 0; w++) {
		int any = w >= sizeof wanted / sizeof *wanted;
		struct cand *c = pick(v, n, any ? NULL : wanted[w].status,
		                      any ? NULL : wanted[w].progress, tops, (size_t)done);
		if (!c) {
			if (any)
				break; /* no fiche left */
			continue;
		}
		rc = assign(db, c, user_id, !any && wanted[w].stale);
		tops[done++] = c->top;
	}
	free(tops);
	free(v);
	return rc ? -1 : done;
}
