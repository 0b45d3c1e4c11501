/* notifications: in-app notifications of a user — a follow-up assigned to me, a meeting I am
 * invited to, a measurement overdue on a fiche I pilot — generated lazily from the data (no
 * background thread), the bell in the header and the /notifications page. */
#ifndef MAILLAGE_NOTIFICATIONS_H
#define MAILLAGE_NOTIFICATIONS_H

#include "http.h"

#include <stdint.h>

struct db;

extern const struct route notifications_routes[];

/* How often (seconds) the header refreshes a user's notifications at most. */
#define NOTIFICATIONS_REFRESH_EVERY 300

/*
 * Generate the missing notifications of user_id as of now: open follow-ups owned by the user
 * (in plans they are a member of), upcoming meetings they are invited to (member of the
 * instance or in the attendance list; a moved meeting notifies again), and overdue
 * measurements of the fiches they pilot (indicators_overdue). Each notification is unique per
 * user by its key, so running this again adds nothing twice. Unless force is set, nothing is
 * done when the last refresh is more recent than NOTIFICATIONS_REFRESH_EVERY. Returns how many
 * were added, -1 on a database error.
 */
int notifications_refresh(struct db *db, int64_t user_id, int force);

/*
 * When MAILLAGE_SMTP is set ("smtp://host[:port]", a trusted relay; `serve --smtp` sets it):
 * send the user's unread, not yet e-mailed follow-up and meeting notifications in one plain
 * text message from MAILLAGE_SMTP_FROM (default maillage@localhost) to the account's address,
 * and mark them e-mailed. 0 (sent, or nothing to send, or no SMTP), -1 when the relay failed
 * (logged without any address; the notifications stay in the application).
 */
int notifications_mail(struct db *db, int64_t user_id);

/* After a write that concerns another user (a follow-up assigned, a meeting planned): refresh
 * their notifications now and e-mail the new ones (when SMTP is configured). Outside any
 * transaction of the caller. */
void notifications_created_for(struct db *db, int64_t user_id);

/* The unread count of a user (0 on error). */
int64_t notifications_unread(struct db *db, int64_t user_id);

/* For the page header (layout.c): the link to /notifications with the unread count, after a
 * throttled refresh; writes nothing for an anonymous request. */
void notifications_bell(struct req *r);

#endif
