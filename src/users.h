/* users: accounts — creation, listing, disabling — shared by the command line and the admin pages.
 */
#ifndef MAILLAGE_USERS_H
#define MAILLAGE_USERS_H

#include <stdint.h>

struct db;

/*
 * Create an account. Validates e-mail, name (1–200 characters of text), role and password;
 * on failure returns -1 and sets *err to a malloc'ed French message (caller frees). On success
 * returns 0 and sets *id. `by` is the acting user id (0 for the command line), `origin` "cli" or
 * "web"/"api"; the creation is audited without the password hash.
 */
int user_create(struct db *db, const char *email, const char *name, const char *role,
                const char *password, int64_t by, const char *origin, int64_t *id, char **err);
/* Disable (1) or re-enable (0) an account by e-mail or id (id used when email is NULL); its
 * sessions are closed. Returns 0, or -1 with *err set. */
int user_set_disabled(struct db *db, const char *email, int64_t id, int disabled, int64_t by,
                      const char *origin, char **err);
/* Change the password (validated). Returns 0, or -1 with *err set. */
int user_set_password(struct db *db, int64_t id, const char *password, int64_t by,
                      const char *origin, char **err);
/* Validate a display name: NULL when fine, else a French reason (static). */
const char *user_name_problem(const char *name);

#endif
