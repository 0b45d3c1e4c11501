/* store.c — row as JSON, audit of a row, end of transaction (see store.h). */
#include "store.h"

#include "audit.h"

json_t *store_row_json(struct db *db, const char *sql, int64_t id)
{
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	json_t *o = NULL;
	if (st && db_step(st) == DB_ROW) {
		o = json_object();
		for (int i = 0; i < db_col_count(st); i++)
			json_object_set_new(
			    o, db_col_name(st, i),
			    db_col_is_null(st, i) ? json_null() : json_string(db_col_text(st, i)));
	}
	db_finalize(st);
	return o;
}

int store_audit_row(struct db *db, int64_t user_id, const char *origin, const char *action,
                    const char *entity, int64_t id, json_t *before, const char *sql)
{
	json_t *after = store_row_json(db, sql, id);
	int rc = audit_write_id(db, user_id, origin, action, entity, id, before, after);
	json_decref(after);
	return rc;
}

int store_finish_tx(struct db *db, int rc)
{
	if (rc == DB_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	return rc;
}
