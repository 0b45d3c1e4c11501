/* cycle: the yearly cycle of a plan (proposals, COTECH opinion, COPIL arbitration, annexes). */
#ifndef MAILLAGE_CYCLE_H
#define MAILLAGE_CYCLE_H

#include <stddef.h>
#include <stdint.h>

struct db;

/*
 * Record or correct the COPIL arbitration of a proposal (decision: "retenue", "ajournee" or
 * "refusee"; date YYYY-MM-DD; comment may be NULL), with the rules of the cycle page: the
 * COTECH opinion comes first (409), a closed year is frozen (409), a changed decision sets the
 * fiche's status or archives its node (refusée), everything audited. The function opens and
 * commits its own transaction; hook (may be NULL) runs inside it, after the arbitration and
 * before the commit, so that the caller's own writes (e.g. the meeting decision that records
 * the arbitration) are in the same transaction: a hook result other than DB_OK rolls
 * everything back (500). Returns 0, or an HTTP status (404, 409, 422, 500) with a French
 * message in msg.
 */
int cycle_copil_decide(struct db *db, int64_t user_id, const char *origin, int64_t proposal_id,
                       const char *decision, const char *date, const char *comment,
                       int (*hook)(struct db *, void *), void *arg, char *msg, size_t n);

#endif
