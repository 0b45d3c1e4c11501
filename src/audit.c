/* audit: the append-only change log. */
#include "audit.h"

#include "db.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The plan of an entity, from its own table: one indexed lookup by primary key (joined to the
 * plan's table by primary keys). Entities that are not a plan's (users, structures, the
 * indicator catalogue, the territory…) are absent: their entries have no plan.
 */
static const struct {
	const char *entity;
	const char *sql;
} plan_lookups[] = {
    {"node", "SELECT plan_id FROM nodes WHERE id = ?"},
    {"fiche", "SELECT plan_id FROM nodes WHERE id = ?"},
    {"comment", "SELECT n.plan_id FROM comments c JOIN nodes n ON n.id = c.node_id WHERE c.id = ?"},
    {"proposal", "SELECT plan_id FROM proposals WHERE id = ?"},
    {"fiche_indicator",
     "SELECT n.plan_id FROM fiche_indicators fi JOIN nodes n ON n.id = fi.node_id WHERE fi.id = ?"},
    {"measurement", "SELECT n.plan_id FROM measurements m JOIN fiche_indicators fi ON fi.id = "
                    "m.fiche_indicator_id JOIN nodes n ON n.id = fi.node_id WHERE m.id = ?"},
    {"tag", "SELECT plan_id FROM tags WHERE id = ?"},
    {"instance", "SELECT plan_id FROM instances WHERE id = ?"},
    {"instance_member", "SELECT i.plan_id FROM instance_members x JOIN instances i ON i.id = "
                        "x.instance_id WHERE x.id = ?"},
    {"meeting",
     "SELECT i.plan_id FROM meetings m JOIN instances i ON i.id = m.instance_id WHERE m.id = ?"},
    {"agenda_item", "SELECT i.plan_id FROM agenda_items x JOIN meetings m ON m.id = x.meeting_id "
                    "JOIN instances i ON i.id = m.instance_id WHERE x.id = ?"},
    {"attendance", "SELECT i.plan_id FROM attendance x JOIN meetings m ON m.id = x.meeting_id "
                   "JOIN instances i ON i.id = m.instance_id WHERE x.id = ?"},
    {"decision", "SELECT i.plan_id FROM decisions x JOIN meetings m ON m.id = x.meeting_id "
                 "JOIN instances i ON i.id = m.instance_id WHERE x.id = ?"},
    {"follow_up", "SELECT i.plan_id FROM follow_ups x JOIN meetings m ON m.id = x.meeting_id "
                  "JOIN instances i ON i.id = m.instance_id WHERE x.id = ?"},
    {"spiral_workshop", "SELECT plan_id FROM spiral_workshops WHERE id = ?"},
    /* "spiral_criteria" is a workshop's list of criteria: its entity id is the workshop's */
    {"spiral_criteria", "SELECT plan_id FROM spiral_workshops WHERE id = ?"},
    {"spiral_criterion", "SELECT w.plan_id FROM spiral_criteria c JOIN spiral_workshops w ON "
                         "w.id = c.workshop_id WHERE c.id = ?"},
    {"spiral_component_link", "SELECT plan_id FROM spiral_component_links WHERE id = ?"},
    {"grid_framework", "SELECT plan_id FROM grid_frameworks WHERE id = ?"},
    {"grid_item", "SELECT f.plan_id FROM grid_items x JOIN grid_frameworks f ON f.id = "
                  "x.framework_id WHERE x.id = ?"},
    {"grid_campaign", "SELECT plan_id FROM grid_campaigns WHERE id = ?"},
    {"grid_campaign_actor", "SELECT c.plan_id FROM grid_campaign_actors x JOIN grid_campaigns c "
                            "ON c.id = x.campaign_id WHERE x.id = ?"},
    {"grid_assessment", "SELECT c.plan_id FROM grid_assessments x JOIN grid_campaigns c ON c.id "
                        "= x.campaign_id WHERE x.id = ?"},
    {"grid_testimony", "SELECT c.plan_id FROM grid_testimonies x JOIN grid_campaigns c ON c.id "
                       "= x.campaign_id WHERE x.id = ?"},
};

/* An integer member of the entry's JSON: the after state first, then the before state. */
static int json_id(json_t *before, json_t *after, const char *key, int64_t *out)
{
	json_t *v = after ? json_object_get(after, key) : NULL;
	if (!json_is_integer(v) && before)
		v = json_object_get(before, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return 0;
	*out = json_integer_value(v);
	return 1;
}

static int64_t lookup(struct db *db, const char *sql, int64_t id)
{
	int64_t plan = 0;
	if (db_int64f(db, &plan, sql, "I", id) != DB_OK)
		plan = 0;
	return plan;
}

int64_t audit_plan_of(struct db *db, const char *entity, const char *entity_id, json_t *before,
                      json_t *after)
{
	int64_t id = 0, plan = 0, ref;
	int numeric = entity_id && !parse_int64(entity_id, &id) && id > 0;
	if (!entity || !strcmp(entity, "user") || !strcmp(entity, "session"))
		return 0;
	/* the plan itself, its members, its SPIRAL classification: the entity id is the plan's */
	if (!strcmp(entity, "plan") || !strcmp(entity, "plan_member") ||
	    !strcmp(entity, "spiral_plan"))
		return numeric ? id : 0;
	int node_entity = !strcmp(entity, "node") || !strcmp(entity, "fiche");
	/*
	 * An entry naming a fiche (node_id, fiche_id, fiche) is that fiche's plan's, whatever its
	 * entity: the dashboard's "what changed" attaches it to that fiche (entry_node there).
	 */
	if (!node_entity) {
		static const char *const keys[] = {"node_id", "fiche_id", "fiche"};
		for (int k = 0; k < 3; k++)
			if (json_id(before, after, keys[k], &ref) &&
			    (plan = lookup(db, "SELECT plan_id FROM nodes WHERE id = ?", ref)))
				return plan;
		if (json_id(before, after, "fiche_indicator_id", &ref) &&
		    (plan =
		         lookup(db,
		                "SELECT n.plan_id FROM fiche_indicators fi JOIN nodes n ON n.id = "
		                "fi.node_id WHERE fi.id = ?",
		                ref)))
			return plan;
	}
	if (numeric)
		for (size_t i = 0; i < sizeof plan_lookups / sizeof *plan_lookups; i++)
			if (!strcmp(entity, plan_lookups[i].entity)) {
				if ((plan = lookup(db, plan_lookups[i].sql, id)))
					return plan;
				break;
			}
	/* a row already deleted, or an entry keyed otherwise (an annex: "plan/year") */
	if (json_id(before, after, "plan_id", &ref))
		return ref;
	return 0;
}

int audit_write_plan(struct db *db, int64_t user_id, int64_t plan_id, const char *origin,
                     const char *action, const char *entity, const char *entity_id, json_t *before,
                     json_t *after)
{
	char now[32];
	time_iso_now(now);
	char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct db_stmt *st = db_prepare(db, "INSERT INTO audit_log "
	                                    "(at, user_id, origin, action, entity, entity_id, "
	                                    "before_json, after_json, plan_id) "
	                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int rc = DB_ERROR;
	if (st) {
		db_bind_text(st, 1, now);
		if (user_id > 0)
			db_bind_int64(st, 2, user_id);
		else
			db_bind_null(st, 2);
		db_bind_text(st, 3, origin);
		db_bind_text(st, 4, action);
		db_bind_text(st, 5, entity);
		db_bind_text(st, 6, entity_id);
		db_bind_text(st, 7, b);
		db_bind_text(st, 8, a);
		if (plan_id > 0)
			db_bind_int64(st, 9, plan_id);
		else
			db_bind_null(st, 9);
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
		db_finalize(st);
	}
	free(b);
	free(a);
	return rc;
}

int audit_write(struct db *db, int64_t user_id, const char *origin, const char *action,
                const char *entity, const char *entity_id, json_t *before, json_t *after)
{
	return audit_write_plan(db, user_id, audit_plan_of(db, entity, entity_id, before, after),
	                        origin, action, entity, entity_id, before, after);
}

int audit_write_id(struct db *db, int64_t user_id, const char *origin, const char *action,
                   const char *entity, int64_t entity_id, json_t *before, json_t *after)
{
	char id[32];
	snprintf(id, sizeof id, "%" PRId64, entity_id);
	return audit_write(db, user_id, origin, action, entity, id, before, after);
}
