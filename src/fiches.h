/* fiches: the rules every module applies to nodes and fiches-actions — labels, plan lookup,
 * who may edit what, and the snapshot recorded in the audit log. */
#ifndef MAILLAGE_FICHES_H
#define MAILLAGE_FICHES_H

#include "http.h"

#include <jansson.h>
#include <stdint.h>

/* French labels ("Proposée", "Bien engagée"…); "?" for an unknown value. */
const char *fiche_status_label(const char *status);
const char *fiche_progress_label(const char *progress);
/* 1 when the value is one of the statuses / progress levels of the schema. */
int fiche_status_valid(const char *status);
int fiche_progress_valid(const char *progress);
/* Statuses that close a fiche (a closing note is then required). */
int fiche_status_closes(const char *status);

/* The plan of a node (archived or not); 0 when the node does not exist. */
int64_t node_plan(struct db *db, int64_t node_id);
/* 1 when the node has a fiche row. */
int node_is_fiche(struct db *db, int64_t node_id);

/*
 * First statement of handlers that read a node: the node exists and the request has at least
 * `min` on its plan. Answers itself (404 for an invisible or missing node) and returns -1;
 * on success returns 0 and sets *plan_id (if not NULL).
 */
int node_require(struct req *r, int64_t node_id, enum role min, int64_t *plan_id);

/*
 * 1 when the request may edit the fiche: administrator or coordinator of its plan, or a pilot
 * of the plan named among the fiche's pilots (fiche_pilots.user_id). Partners and readers never.
 */
int fiche_can_edit(struct req *r, int64_t node_id);
/* First statement of handlers that change a fiche: answers 404/403 itself and returns -1. */
int fiche_require_edit(struct req *r, int64_t node_id);

/*
 * The fiche as a JSON object for the audit log and the API: title, description, status,
 * progress, dates, expected results, human means, closing note, pilots, partners, publics,
 * communes, impact domains. NULL when the node is not a fiche. The caller owns it.
 */
json_t *fiche_snapshot(struct db *db, int64_t node_id);

#endif
