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

#endif
