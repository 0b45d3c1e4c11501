/* demo: loads the embedded demonstration data (data/demo, data/geo). */
#include "demo.h"
#include "demo_fiches.h"
#include "demo_indicators.h"
#include "demo_offer.h"
#include "demo_needs.h"
#include "demo_governance.h"
#include "demo_spiral.h"
#include "demo_grids.h"

#include "audit.h"
#include "db.h"
#include "embed.h"
#include "geo_import.h"
#include "text.h"
#include "users.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int load_actors(struct db *db, char **err)
{
	const struct embed_file *f = embed_find("data/demo/actors.json");
	if (!f) {
		*err = xstrdup("données de démonstration absentes : data/demo/actors.json");
		return -1;
	}
	json_error_t je;
	json_t *arr = json_loadb((const char *)f->data, f->size, 0, &je);
	if (!json_is_array(arr)) {
		*err = xasprintf("actors.json, ligne %d : %s", je.line, je.text);
		json_decref(arr);
		return -1;
	}
	char now[32];
	time_iso_now(now);
	struct db_stmt *st = db_prepare(
	    db, "INSERT INTO actors (name, search_name, kind, siret, address, commune, latitude, "
	        "longitude, website, description, created_at, updated_at) "
	        "SELECT ?, ?, ?, ?, ?, c.code, c.latitude, c.longitude, ?, ?, ?, ? "
	        "FROM (SELECT 1) AS one LEFT JOIN communes c ON c.code = ?");
	size_t i;
	json_t *a;
	int rc = st ? 0 : -1;
	json_array_foreach(arr, i, a)
	{
		const char *name = jstr(a, "name"), *kind = jstr(a, "type");
		if (!name || !kind) {
			*err = xasprintf("actors.json, entrée n° %zu : nom ou type absent", i + 1);
			rc = -1;
			break;
		}
		const char *desc = jstr(a, "description");
		char *key = text_fold(name);
		db_reset(st);
		db_bindf(st, "ssssssssss", name, key, kind, jstr(a, "siret"), jstr(a, "address"),
		         jstr(a, "website"), desc ? desc : "", now, now, jstr(a, "commune_insee"));
		free(key); /* copied by the binding */
		if (db_step(st) != DB_DONE) {
			*err = xasprintf("actors.json, entrée n° %zu (%s) : %s", i + 1, name,
			                 db_errmsg(db));
			rc = -1;
			break;
		}
	}
	db_finalize(st);
	json_decref(arr);
	return rc;
}

struct plan_ctx {
	struct db *db;
	int64_t plan_id;
	const char *file;
	char now[32];
	char **err;
	long nodes;
};

static int64_t tag_id(struct plan_ctx *c, const char *slug)
{
	int64_t id = 0;
	if (db_int64f(c->db, &id,
	              "SELECT id FROM tags WHERE slug = ? AND (plan_id IS NULL OR plan_id = ?) "
	              "ORDER BY plan_id DESC NULLS LAST",
	              "sI", slug, c->plan_id) != DB_OK)
		return 0;
	return id;
}

static int load_nodes(struct plan_ctx *c, json_t *arr, int64_t parent, const char *prefix,
                      int depth)
{
	size_t i;
	json_t *n;
	json_array_foreach(arr, i, n)
	{
		const char *title = jstr(n, "title");
		if (!title || !*title) {
			*c->err = xasprintf("%s : un élément de niveau %d n'a pas de titre",
			                    c->file, depth + 1);
			return -1;
		}
		char number[128];
		snprintf(number, sizeof number, "%s%s%zu", prefix, *prefix ? "." : "", i + 1);
		const char *desc = jstr(n, "description");
		struct db_stmt *st =
		    db_prepare(c->db, "INSERT INTO nodes (plan_id, parent_id, "
		                      "position, depth, number, title, description, "
		                      "created_at, updated_at) "
		                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
		if (!st)
			return -1;
		db_bind_int64(st, 1, c->plan_id);
		if (parent)
			db_bind_int64(st, 2, parent);
		else
			db_bind_null(st, 2);
		db_bind_int64(st, 3, (int64_t)i + 1);
		db_bind_int64(st, 4, depth);
		db_bind_text(st, 5, number);
		db_bind_text(st, 6, title);
		db_bind_text(st, 7, desc ? desc : "");
		db_bind_text(st, 8, c->now);
		db_bind_text(st, 9, c->now);
		int64_t id = db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
		db_finalize(st);
		if (!id) {
			*c->err = xasprintf("%s, « %s » : %s", c->file, title, db_errmsg(c->db));
			return -1;
		}
		c->nodes++;
		size_t k;
		json_t *tag;
		json_array_foreach(json_object_get(n, "tags"), k, tag)
		{
			int64_t t = tag_id(c, json_string_value(tag) ? json_string_value(tag) : "");
			if (!t) {
				*c->err = xasprintf("%s, « %s » : étiquette inconnue « %s »",
				                    c->file, title, json_string_value(tag));
				return -1;
			}
			db_execf(c->db,
			         "INSERT INTO node_tags (node_id, tag_id) VALUES (?, ?) "
			         "ON CONFLICT DO NOTHING",
			         "II", id, t);
		}
		json_t *kids = json_object_get(n, "children");
		if (json_array_size(kids) && load_nodes(c, kids, id, number, depth + 1))
			return -1;
	}
	return 0;
}

int demo_plan_load(struct db *db, const char *json, size_t len, const char *name,
                   long long *plan_id, char **err)
{
	json_error_t je;
	json_t *p = json_loadb(json, len, 0, &je);
	if (!json_is_object(p)) {
		*err =
		    xasprintf("%s, ligne %d, colonne %d : %s", name, je.line, je.column, je.text);
		json_decref(p);
		return -1;
	}
	struct plan_ctx c = {.db = db, .file = name, .err = err};
	time_iso_now(c.now);
	int rc = -1;
	const char *kind = jstr(p, "type"), *title = jstr(p, "title");
	if (!kind || !title) {
		*err = xasprintf("%s : « type » et « title » sont obligatoires", name);
		goto out;
	}
	const char *desc = jstr(p, "description");
	if (db_int64f(
	        db, &c.plan_id,
	        "INSERT INTO plans (kind, title, start_year, end_year, description, is_public, "
	        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	        "ssIIsiss", kind, title,
	        (int64_t)json_integer_value(json_object_get(p, "start_year")),
	        (int64_t)json_integer_value(json_object_get(p, "end_year")), desc ? desc : "",
	        json_is_true(json_object_get(p, "public")), c.now, c.now) != DB_OK) {
		*err = xasprintf("%s : %s", name, db_errmsg(db));
		goto out;
	}
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(p, "levels"), i, v)
	{
		if (db_execf(db, "INSERT INTO plan_levels (plan_id, depth, name) VALUES (?, ?, ?)",
		             "Iis", c.plan_id, (int)i, json_string_value(v)) != DB_OK) {
			*err = xasprintf("%s, niveau n° %zu : %s", name, i + 1, db_errmsg(db));
			goto out;
		}
	}
	static const struct {
		const char *key, *scope, *table;
	} scopes[] = {{"epci", "epci", "epcis"},
	              {"departements", "departement", "departements"},
	              {"communes", "commune", "communes"}};
	json_t *terr = json_object_get(p, "territory");
	for (size_t s = 0; s < 3; s++) {
		json_array_foreach(json_object_get(terr, scopes[s].key), i, v)
		{
			const char *code = json_string_value(v);
			char *sql =
			    xasprintf("SELECT COUNT(*) FROM %s WHERE code = ?",
			              scopes[s].table); /* table from the fixed list above */
			int64_t found = 0;
			db_int64f(db, &found, sql, "s", code ? code : "");
			free(sql);
			if (!found) {
				*err = xasprintf("%s : territoire inconnu (%s « %s »)", name,
				                 scopes[s].scope, code ? code : "");
				goto out;
			}
			db_execf(db,
			         "INSERT INTO plan_territory (plan_id, scope, code) "
			         "VALUES (?, ?, ?)",
			         "Iss", c.plan_id, scopes[s].scope, code);
		}
	}
	json_array_foreach(json_object_get(p, "signatories"), i, v)
	{
		const char *actor = json_string_value(v);
		int64_t aid = 0;
		if (!actor || db_int64f(db, &aid, "SELECT id FROM actors WHERE name = ?", "s",
		                        actor) != DB_OK) {
			*err =
			    xasprintf("%s : signataire inconnu « %s »", name, actor ? actor : "");
			goto out;
		}
		db_execf(db, "INSERT INTO plan_signatories (plan_id, actor_id) VALUES (?, ?)", "II",
		         c.plan_id, aid);
	}
	json_array_foreach(json_object_get(p, "threads"), i, v)
	{
		if (db_execf(
		        db, "INSERT INTO tags (plan_id, kind, slug, label) VALUES (?, 'fil', ?, ?)",
		        "Iss", c.plan_id, jstr(v, "slug"), jstr(v, "label")) != DB_OK) {
			*err =
			    xasprintf("%s, fil conducteur n° %zu : %s", name, i + 1, db_errmsg(db));
			goto out;
		}
	}
	if (load_nodes(&c, json_object_get(p, "nodes"), 0, "", 0))
		goto out;
	json_t *after =
	    json_pack("{s:s,s:s,s:I}", "title", title, "kind", kind, "nodes", (json_int_t)c.nodes);
	audit_write_id(db, 0, "cli", "create", "plan", c.plan_id, NULL, after);
	json_decref(after);
	*plan_id = c.plan_id;
	rc = 0;
out:
	json_decref(p);
	return rc;
}

static int load_plans(struct db *db, long long *first_plan, char **err)
{
	for (size_t i = 0; i < embed_count; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->name, "data/demo/plans/", 16) != 0)
			continue;
		long long id;
		if (demo_plan_load(db, (const char *)f->data, f->size, f->name + 16, &id, err) ||
		    demo_fiches_load(db, id, (const char *)f->data, f->size, err))
			return -1;
		if (!*first_plan || strstr(f->name, "crestois"))
			*first_plan = id;
	}
	return 0;
}

static int load_users(struct db *db, long long plan_id, char **err)
{
	static const struct {
		const char *email, *name, *role;
	} users[] = {
	    {DEMO_ADMIN, "Administratrice de démonstration", "admin"},
	    {"coordination@demo.maillage.fr", "Camille Coordination", "coordinator"},
	    {"pilote@demo.maillage.fr", "Paul Pilote", "pilot"},
	    {"partenaire@demo.maillage.fr", "Pascale Partenaire", "partner"},
	    {"lecture@demo.maillage.fr", "Louis Lecture", "reader"},
	};
	for (size_t i = 0; i < sizeof users / sizeof *users; i++) {
		int64_t id;
		if (user_create(db, users[i].email, users[i].name, users[i].role, DEMO_PASSWORD, 0,
		                "cli", &id, err))
			return -1;
		if (i > 0 && plan_id &&
		    db_execf(db,
		             "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, ?)",
		             "IIs", (int64_t)plan_id, id, users[i].role) != DB_OK) {
			*err = xasprintf("membres du plan : %s", db_errmsg(db));
			return -1;
		}
		/* The demo pilot pilots a few fiches, one of them overdue: see "Mes actions". */
		if (!strcmp(users[i].role, "pilot") && plan_id &&
		    demo_fiches_assign_pilot(db, plan_id, id, 6) < 0) {
			*err = xasprintf("fiches du pilote : %s", db_errmsg(db));
			return -1;
		}
	}
	return 0;
}

int demo_load(struct db *db, char **err)
{
	struct geo_stats gs;
	if (geo_import_embedded(db, &gs, err) || demo_offer_load(db, err))
		return -1;
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	long long plan_id = 0;
	if (load_actors(db, err) || load_plans(db, &plan_id, err)) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db) != DB_OK) {
		*err = xasprintf("validation impossible : %s", db_errmsg(db));
		return -1;
	}
	if (load_users(db, plan_id, err))
		return -1;
	/* Indicators last: they read the fiches and the demo pilot's assignments. */
	if (demo_indicators_load(db, err))
		return -1;
	if (demo_needs_load(db, err))
		return -1;
	if (demo_spiral_load(db, err))
		return -1;
	if (demo_grids_load(db, err))
		return -1;
	return demo_governance_load(db, err);
}
