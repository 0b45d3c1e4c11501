/* audit: the append-only change log. */
#include "audit.h"

#include "db.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int audit_write(struct db *db, int64_t user_id, const char *origin, const char *action,
		const char *entity, const char *entity_id, json_t *before, json_t *after)
{
	char now[32];
	time_iso_now(now);
	char *b = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct db_stmt *st = db_prepare(db, "INSERT INTO audit_log "
					    "(at, user_id, origin, action, entity, entity_id, "
					    "before_json, after_json) "
					    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
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
		rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
		db_finalize(st);
	}
	free(b);
	free(a);
	return rc;
}

int audit_write_id(struct db *db, int64_t user_id, const char *origin, const char *action,
		   const char *entity, int64_t entity_id, json_t *before, json_t *after)
{
	char id[32];
	snprintf(id, sizeof id, "%" PRId64, entity_id);
	return audit_write(db, user_id, origin, action, entity, id, before, after);
}
