/* demo_grids: the demo campaign "Fonction mailleur" (see demo_grids.h). The scores are invented
 * (is_demo = 1) from a per-axis profile of each structure with a fixed small variation, so that
 * the four radars differ plausibly and the demo is reproducible; the quotes are the seed's. */
#include "demo_grids.h"

#include "audit.h"
#include "db.h"
#include "embed.h"
#include "grids.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_FILE "data/grids/demo/mailleur-campaign.json"

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Items of the framework in depth-first order with their depth and top-level / second-level
 * ordinal (1-based), enough to place scores and quotes. */
struct ditem {
	int64_t id;
	int depth, axis, function, leaf;
};

static int collect(struct db *db, int64_t fw, int64_t parent, int depth, int axis, int function,
                   struct ditem **out, size_t *n)
{
	struct db_stmt *st =
	    parent ? db_queryf(db,
	                       "SELECT id FROM grid_items WHERE framework_id = ? AND parent_id = ? "
	                       "ORDER BY position, id",
	                       "II", fw, parent)
	           : db_queryf(db,
	                       "SELECT id FROM grid_items WHERE framework_id = ? AND parent_id IS "
	                       "NULL ORDER BY position, id",
	                       "I", fw);
	int64_t *ids = NULL;
	size_t k = 0;
	while (st && db_step(st) == DB_ROW) {
		ids = xrealloc(ids, (k + 1) * sizeof *ids);
		ids[k++] = db_col_int64(st, 0);
	}
	db_finalize(st);
	for (size_t i = 0; i < k; i++) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		size_t me = (*n)++;
		int a = depth == 0 ? (int)i + 1 : axis;
		int f = depth == 1 ? (int)i + 1 : function;
		(*out)[me] = (struct ditem){ids[i], depth, a, f, 0};
		size_t before = *n;
		if (depth < 6 && collect(db, fw, ids[i], depth + 1, a, f, out, n)) {
			free(ids);
			return -1;
		}
		(*out)[me].leaf = *n == before;
	}
	free(ids);
	return 0;
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int demo_grids_load(struct db *db, char **err)
{
	if (grids_ensure_shipped(db, err))
		return -1;
	const struct embed_file *ef = embed_find(DEMO_FILE);
	if (!ef) {
		*err = xstrdup("données de démonstration absentes : " DEMO_FILE);
		return -1;
	}
	json_error_t je;
	json_t *doc = json_loadb((const char *)ef->data, ef->size, 0, &je);
	if (!json_is_object(doc)) {
		*err = xasprintf(DEMO_FILE ", ligne %d : %s", je.line, je.text);
		json_decref(doc);
		return -1;
	}
	int64_t plan = 0, fw = 0;
	json_t *camp = json_object_get(doc, "campaign");
	if (db_int64f(db, &plan, "SELECT id FROM plans WHERE title = ?", "s",
	              jstr(doc, "plan_title") ? jstr(doc, "plan_title") : "") != DB_OK ||
	    db_int64f(db, &fw, "SELECT id FROM grid_frameworks WHERE code = ?", "s",
	              jstr(camp, "framework") ? jstr(camp, "framework") : "") != DB_OK) {
		*err = xstrdup("démonstration des grilles : plan de la Fédération des centres "
		               "sociaux ou grille « mailleur » introuvable");
		json_decref(doc);
		return -1;
	}
	struct ditem *items = NULL;
	size_t n = 0;
	int64_t smin = 1, smax = 4;
	db_int64f(db, &smin, "SELECT scale_min FROM grid_frameworks WHERE id = ?", "I", fw);
	db_int64f(db, &smax, "SELECT scale_max FROM grid_frameworks WHERE id = ?", "I", fw);
	char now[32];
	time_iso_now(now);
	int rc = db_begin(db);
	int64_t cid = 0;
	if (rc == DB_OK && collect(db, fw, 0, 0, 0, 0, &items, &n))
		rc = DB_ERROR;
	if (rc == DB_OK)
		rc = db_int64f(db, &cid,
		               "INSERT INTO grid_campaigns (framework_id, plan_id, year, title, "
		               "description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
		               "RETURNING id",
		               "IIissss", fw, plan,
		               (int)json_integer_value(json_object_get(camp, "year")),
		               jstr(camp, "title") ? jstr(camp, "title") : "Fonction mailleur",
		               jstr(doc, "note") ? jstr(doc, "note") : "", now, now);
	/* A fixed pattern of small variations around each axis's level. */
	static const int wobble[] = {0, 1, 0, -1, 0, 0, 1, -1, 0, 1, 0, 0, -1};
	size_t si;
	json_t *s;
	int nassess = 0;
	json_array_foreach(json_object_get(doc, "structures"), si, s)
	{
		if (rc != DB_OK)
			break;
		const char *name = jstr(s, "name");
		int64_t actor = 0;
		if (!name || db_int64f(db, &actor, "SELECT id FROM actors WHERE name = ?", "s",
		                       name) != DB_OK) {
			*err = xasprintf("démonstration des grilles : structure « %s » absente de "
			                 "l'annuaire",
			                 name ? name : "");
			rc = DB_ERROR;
			break;
		}
		rc = db_execf(
		    db, "INSERT INTO grid_campaign_actors (campaign_id, actor_id) VALUES (?, ?)",
		    "II", cid, actor);
		json_t *profile = json_object_get(s, "profile");
		for (int k = 0; rc == DB_OK && k < 2; k++) {
			const char *kind = k ? "peer" : "self";
			int64_t aid = 0;
			const char *assessor = k ? jstr(doc, "assessor_peer") : name;
			rc = db_int64f(
			    db, &aid,
			    "INSERT INTO grid_assessments (campaign_id, actor_id, kind, "
			    "assessor, assessed_on, summary, is_demo, created_at, updated_at) "
			    "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
			    "IIssssss", cid, actor, kind, assessor ? assessor : "",
			    k ? "2025-11-14" : "2025-10-03",
			    "Évaluation de démonstration (notes inventées).", now, now);
			int leaf = 0;
			for (size_t i = 0; rc == DB_OK && i < n; i++) {
				if (!items[i].leaf)
					continue;
				int base = (int)json_integer_value(
				    json_array_get(profile, (size_t)(items[i].axis - 1)));
				if (!base)
					base = 2;
				int v = base + wobble[(leaf + 3 * (int)si) % 13];
				/* Self-assessments run a little higher than the federation's view.
				 */
				if (!k && (leaf + (int)si) % 3 == 0)
					v++;
				leaf++;
				rc = db_execf(
				    db,
				    "INSERT INTO grid_scores (assessment_id, item_id, score, "
				    "evidence, updated_at) VALUES (?, ?, ?, '', ?)",
				    "IIis", aid, items[i].id, clamp(v, (int)smin, (int)smax), now);
			}
			nassess++;
		}
	}
	json_t *t;
	size_t ti;
	int nquotes = 0;
	json_array_foreach(json_object_get(doc, "testimonies"), ti, t)
	{
		if (rc != DB_OK)
			break;
		int a = (int)json_integer_value(json_object_get(t, "axis"));
		int f = (int)json_integer_value(json_object_get(t, "function"));
		int64_t item = 0;
		for (size_t i = 0; i < n; i++)
			if (items[i].depth == 1 && items[i].axis == a && items[i].function == f)
				item = items[i].id;
		const char *quote = jstr(t, "quote"), *role = jstr(t, "role");
		if (!item || !quote || !role) {
			*err = xasprintf("démonstration des grilles : témoignage n° %zu mal placé",
			                 ti + 1);
			rc = DB_ERROR;
			break;
		}
		rc = db_execf(db,
		              "INSERT INTO grid_testimonies (campaign_id, item_id, speaker_role, "
		              "quote, created_at) VALUES (?, ?, ?, ?, ?)",
		              "IIsss", cid, item, role, quote, now);
		nquotes++;
	}
	if (rc == DB_OK) {
		json_t *after = json_pack("{s:s,s:i,s:i}", "title", jstr(camp, "title"),
		                          "assessments", nassess, "testimonies", nquotes);
		rc = audit_write_id(db, 0, "cli", "create", "grid_campaign", cid, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		if (!*err)
			*err = xasprintf("démonstration des grilles : %s", db_errmsg(db));
		db_rollback(db);
	}
	free(items);
	json_decref(doc);
	return rc == DB_OK ? 0 : -1;
}
