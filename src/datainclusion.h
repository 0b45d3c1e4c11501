/* datainclusion: structures and services in the national data·inclusion schema (v1) —
 * validation, export of the directory and the offer, all-or-nothing import. */
#ifndef MAILLAGE_DATAINCLUSION_H
#define MAILLAGE_DATAINCLUSION_H

#include "buf.h"
#include "http.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Check one object against the constraints of the data·inclusion schema v1
 * (gip-inclusion/data-inclusion-schema, schemas/v1/structure.json and service.json): required
 * fields, types, null allowed for the optional ones, lengths in characters (code points),
 * patterns, enumerations, unique arrays, e-mail, URI and date formats. Each problem appends one
 * line "champ « NAME » : message\n" (French) to errors (may be NULL). Returns the number of
 * problems: 0 when valid. obj is borrowed.
 */
int di_validate_structure(json_t *obj, struct buf *errors);
int di_validate_service(json_t *obj, struct buf *errors);

enum di_kind { DI_NONE = 0, DI_STRUCTURES, DI_SERVICES };
/* "structures" or "services" → the kind; DI_NONE otherwise. */
enum di_kind di_kind_parse(const char *s);

/*
 * Export the directory (DI_STRUCTURES: every actor) or the offer (DI_SERVICES: every service
 * attached to an actor; services without a structure cannot be expressed in the schema and are
 * left out, their count in *skipped when not NULL) as a JSON array. Public data only: never the
 * contacts (people). Every object is checked with the validator: 0 with *out (new reference),
 * or -1 with *err (malloc'ed French message) when the database fails or an object would not
 * be valid.
 */
int di_export(struct db *db, enum di_kind kind, json_t **out, long *skipped, char **err);

/* What an import did or found. Free with di_import_result_free. */
struct di_import_result {
	long created, updated;
	long nerrors;
	struct buf errors;   /* one French message per line */
	struct buf warnings; /* one per line: values left out */
};
void di_import_result_free(struct di_import_result *res);

/*
 * Import a JSON array of data·inclusion structures or services, all or nothing, in one
 * transaction (rolled back on any error, or when dry_run). Structures are matched to actors by
 * external_id (the object's id: update) or created (source 'data·inclusion'); services need a
 * structure_id that is the external_id of an actor. Every write is audited by user_id with
 * origin. Returns DB_OK (look at res->nerrors) or a database error code.
 */
int di_import(struct db *db, enum di_kind kind, const char *data, size_t len, int dry_run,
              int64_t user_id, const char *origin, struct di_import_result *res);

/* Web and API routes: the exports (public) and the import (admin or coordinator). */
extern const struct route datainclusion_routes[];

#endif
