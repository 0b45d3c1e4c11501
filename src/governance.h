/* governance: instances (COPIL, COTECH, commissions…) of a plan, their meetings with agenda,
 * attendance, minutes, numbered decisions and follow-ups, the reminder of the previous meeting,
 * and the iCalendar export of an instance's meetings. */
#ifndef MAILLAGE_GOVERNANCE_H
#define MAILLAGE_GOVERNANCE_H

#include "buf.h"
#include "http.h"

#include <stdint.h>

extern const struct route governance_routes[];

/* Parse "YYYY-MM-DDTHH:MM[:SS]" (or with a space), a wall-clock time in Paris, into UTC
 * "YYYY-MM-DDTHH:MM:SSZ" (out: at least 21 bytes). 0 on success, -1 when invalid. */
int governance_local_to_utc(const char *local, char out[32]);

/* Append one iCalendar content line "name:value" to out: value escaped per RFC 5545 (backslash,
 * comma, semicolon, newline) when escape is set, folded at 75 octets, CRLF-terminated. */
void ics_line(struct buf *out, const char *name, const char *value, int escape);

/* For the cycle page: after a proposal's COPIL arbitration, a link to each meeting decision
 * that recorded it ("<br><a …>Décision n° 2 — COPIL du 12 mars 2026 à 14 h 00</a>"), for the
 * plan's members only (instances are not public). */
void governance_proposal_decisions(struct req *r, int64_t proposal_id);

/* `maillage export meetings --format ics [--instance ID] [-o FILE]`: every meeting, or those of
 * one instance, as iCalendar to out_path (NULL or "-": standard output). Returns a process exit
 * status after printing any error in French on stderr. */
struct db;
int governance_cli_export(struct db *db, const char *format, const char *instance,
                          const char *out_path);

#endif
