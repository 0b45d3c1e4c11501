/* auth: passwords (Argon2id), sessions in the database, roles, login throttling. */
#ifndef MAILLAGE_AUTH_H
#define MAILLAGE_AUTH_H

#include "http.h"

#include <stdint.h>

#define AUTH_HASH_MAX     128 /* crypto_pwhash_STRBYTES */
#define AUTH_MIN_PASSWORD 10  /* characters (bytes) */
#define AUTH_MAX_PASSWORD 1024
#define SESSION_COOKIE    "maillage_session"
#define CSRF_COOKIE       "maillage_csrf"

/* Hash a password with Argon2id into out. 0 on success. */
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX]);
/* 1 when password matches the stored hash. */
int auth_password_verify(const char *hash, const char *password);
/* NULL when the password is acceptable, else a French reason (static string). */
const char *auth_password_problem(const char *password);
/* NULL when the e-mail address looks valid, else a French reason (static string). */
const char *auth_email_problem(const char *email);

enum role role_parse(const char *name); /* ROLE_NONE when unknown */
const char *role_name(enum role role);  /* "admin", "coordinator"… */
const char *role_label(enum role role); /* "administrateur", "coordinateur"… */

void user_free(struct user *u);
/* Load an active user by id or e-mail; NULL when missing or disabled. Caller frees. */
struct user *user_load(struct db *db, int64_t id);

/* Fill r->user and r->csrf from the cookies (setting an anonymous CSRF cookie if needed). */
void auth_load_session(struct req *r);
/* Open a session for user_id: stores it, sets the cookie, replaces r->csrf. 0 on success. */
int auth_session_open(struct req *r, int64_t user_id);
/* Close the current session (if any) and clear the cookie. */
void auth_session_close(struct req *r);

/* Failed-login throttling: 1 when this e-mail or client made too many recent failures. */
int auth_throttled(struct db *db, const char *email, const char *ip);
void auth_record_failure(struct db *db, const char *email, const char *ip);
void auth_clear_failures(struct db *db, const char *email);

#endif
