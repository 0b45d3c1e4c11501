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
 * communes, impact domains, budget lines ([{year, label, amount_cents, funder}], year null when
 * not given) and links ([{label, url}]). NULL when the node is not a fiche. The caller owns it.
 */
json_t *fiche_snapshot(struct db *db, int64_t node_id);

/* --- French formats shared by the fiche pages, the API and the demo loader ---------------- */

/* The highest amount of a budget line, in cents: 1 000 000 000 000,00 €. */
#define FICHE_AMOUNT_MAX_CENTS 100000000000000LL

/*
 * Parse an amount in euros written the French way into cents: "1 234,50", "1234.5", "12 500 €",
 * "0,75". Spaces (also no-break and narrow no-break spaces) may group thousands; the decimal
 * separator is a comma or a dot with one or two decimals; a trailing "€" is allowed. Negative
 * amounts, more than two decimals, anything else, and amounts above FICHE_AMOUNT_MAX_CENTS
 * are refused. Returns 0 and sets *cents, or -1.
 */
int fiche_amount_parse(const char *s, int64_t *cents);
/* cents written "12 500,00 €" (narrow no-break space between thousands, no-break space before
 * the euro sign) into out. */
void fiche_amount_format(char out[64], int64_t cents);

/* 1 when s is a real calendar date written YYYY-MM-DD (years 1900–2999). */
int fiche_date_valid(const char *s);
/* A date or time stamp ("2024-03-12", "2024-03-12T10:00:00Z") as "12 mars 2024"; "" for NULL
 * or an unreadable value. */
void fiche_date_fr(char out[64], const char *iso);
/* A UTC time stamp "YYYY-MM-DDTHH:MM:SSZ" in Paris time: "12 mars 2024 à 11 h 05". Falls back
 * to fiche_date_fr for a plain date. */
void fiche_datetime_fr(char out[64], const char *iso);
/* Today's date in Paris as YYYY-MM-DD (out holds at least 11 bytes). */
void fiche_today(char out[16]);

#endif
