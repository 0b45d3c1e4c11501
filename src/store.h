/* store.h — small helpers shared by the modules that write to the database: one row as JSON
 * (the before/after of an audit entry), the audit of a row as it now is, and the end of a
 * transaction. */
#ifndef MAILLAGE_STORE_H
#define MAILLAGE_STORE_H

#include "db.h"

#include <jansson.h>
#include <stdint.h>

/* The first row of `sql` (which takes one integer parameter, bound to `id`) as a JSON object
 * of text values keyed by column name (SQL NULL: json null); NULL when there is no row or the
 * query fails. New reference: the caller decrefs it (or hands it to audit_write*). */
json_t *store_row_json(struct db *db, const char *sql, int64_t id);

/* Audit `action` on row `id` of `entity` (audit_write_id) with `before` (borrowed, may be NULL)
 * and, as after, the row as it is now: store_row_json(db, sql, id). In the caller's
 * transaction; DB_OK or an error code. */
int store_audit_row(struct db *db, int64_t user_id, const char *origin, const char *action,
                    const char *entity, int64_t id, json_t *before, const char *sql);

/* End the transaction opened by db_begin: commit when rc is DB_OK, else roll back. Returns
 * the commit's result, or rc unchanged after a rollback. */
int store_finish_tx(struct db *db, int rc);

#endif
