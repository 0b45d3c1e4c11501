/* audit: every write is recorded — who, when, from where, what, before and after. */
#ifndef MAILLAGE_AUDIT_H
#define MAILLAGE_AUDIT_H

#include <jansson.h>
#include <stdint.h>

struct db;

/*
 * Append one entry to the audit log, in the caller's transaction. user_id 0 means no account
 * (command line, demo loader). before/after are borrowed (not stolen) and may be NULL; they must
 * not hold passwords or password hashes. Returns DB_OK or an error code.
 */
int audit_write(struct db *db, int64_t user_id, const char *origin, const char *action,
                const char *entity, const char *entity_id, json_t *before, json_t *after);

/* The same for an entity whose id is an integer. */
int audit_write_id(struct db *db, int64_t user_id, const char *origin, const char *action,
                   const char *entity, int64_t entity_id, json_t *before, json_t *after);

/*
 * The same with the plan the entry belongs to given by the caller (0: none); audit_write finds it
 * itself with audit_plan_of. audit_log.plan_id lets a plan's "what changed" read its own entries
 * through the index audit_by_plan (plan_id, at) instead of the whole country's period.
 */
int audit_write_plan(struct db *db, int64_t user_id, int64_t plan_id, const char *origin,
                     const char *action, const char *entity, const char *entity_id, json_t *before,
                     json_t *after);

/*
 * The plan an audit entry belongs to, or 0: for a plan (and its members, its SPIRAL
 * classification) the entity id; for an entry whose JSON names a fiche (node_id, fiche_id,
 * fiche) or a fiche indicator (fiche_indicator_id), that fiche's plan; otherwise the plan of the
 * entity's row (nodes, comments, proposals, fiche indicators, measurements, tags, instances and
 * their members, meetings, agenda items, attendance, decisions, follow-ups, SPIRAL workshops,
 * criteria and component links, grid frameworks, items, campaigns, campaign actors, assessments,
 * testimonies), and for a row already gone the "plan_id" of its JSON. At most a few indexed
 * lookups by primary key.
 */
int64_t audit_plan_of(struct db *db, const char *entity, const char *entity_id, json_t *before,
                      json_t *after);

#endif
