/* auth: passwords, sessions and throttling. Never logs an e-mail address or a password. */
#include "auth.h"

#include "db.h"
#include "util.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_SECONDS (7L * 24 * 3600)
#define THROTTLE_WINDOW 900 /* seconds */
#define THROTTLE_MAX    5   /* failures per window */

int auth_password_hash(const char *password, char out[AUTH_HASH_MAX])
{
	return crypto_pwhash_str(out, password, strlen(password),
	                         crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                         crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int auth_password_verify(const char *hash, const char *password)
{
	if (!hash || !password)
		return 0;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

const char *auth_password_problem(const char *password)
{
	size_t n = password ? strlen(password) : 0;
	if (n < AUTH_MIN_PASSWORD)
		return "Le mot de passe doit compter au moins 10 caractères.";
	if (n > AUTH_MAX_PASSWORD)
		return "Le mot de passe est trop long (1 024 caractères au plus).";
	if (!utf8_valid_text(password, n))
		return "Le mot de passe contient des caractères non valides.";
	return NULL;
}

const char *auth_email_problem(const char *email)
{
	size_t n = email ? strlen(email) : 0;
	if (n == 0)
		return "L'adresse électronique est obligatoire.";
	if (n > 254)
		return "L'adresse électronique est trop longue.";
	const char *at = strchr(email, '@');
	if (!at || at == email || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.'))
		return "L'adresse électronique n'est pas valide (exemple : prenom.nom@exemple.fr).";
	for (const char *p = email; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == ',' || *p == ';')
			return "L'adresse électronique contient des caractères non autorisés.";
	return NULL;
}

static const struct {
	enum role role;
	const char *name, *label;
} roles[] = {
    {ROLE_ADMIN, "admin", "administrateur"}, {ROLE_COORDINATOR, "coordinator", "coordinateur"},
    {ROLE_PILOT, "pilot", "pilote"},         {ROLE_PARTNER, "partner", "partenaire"},
    {ROLE_READER, "reader", "lecteur"},      {ROLE_PUBLIC, "public", "visiteur"},
};

enum role role_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof roles / sizeof *roles; i++)
		if (!strcmp(roles[i].name, name))
			return roles[i].role;
	return ROLE_NONE;
}

const char *role_name(enum role role)
{
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (roles[i].role == role)
			return roles[i].name;
	return "none";
}

const char *role_label(enum role role)
{
	for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
		if (roles[i].role == role)
			return roles[i].label;
	return "aucun";
}

void user_free(struct user *u)
{
	if (!u)
		return;
	free(u->email);
	free(u->name);
	free(u);
}

struct user *user_load(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT id, email, name, role FROM users "
	                               "WHERE id = ? AND disabled = 0",
	                               "I", id);
	if (!st)
		return NULL;
	struct user *u = NULL;
	if (db_step(st) == DB_ROW) {
		u = xcalloc(1, sizeof *u);
		u->id = db_col_int64(st, 0);
		u->email = xstrdup(db_col_text(st, 1));
		u->name = xstrdup(db_col_text(st, 2));
		u->role = role_parse(db_col_text(st, 3));
	}
	db_finalize(st);
	return u;
}

static void set_cookie(struct req *r, const char *name, const char *value, long max_age)
{
	char *c = xasprintf("%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld%s", name, value,
	                    max_age, server_config(r->srv)->secure_cookies ? "; Secure" : "");
	resp_header(r, "Set-Cookie", c);
	free(c);
}

static const char *cookie(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static int is_hex_token(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

void auth_load_session(struct req *r)
{
	const char *tok = cookie(r, SESSION_COOKIE);
	if (is_hex_token(tok)) {
		char h[65], now[32];
		hash_hex(tok, h);
		time_iso_now(now);
		struct db_stmt *st = db_queryf(r->db,
		                               "SELECT user_id, csrf FROM sessions "
		                               "WHERE token_hash = ? AND expires_at > ?",
		                               "ss", h, now);
		if (st && db_step(st) == DB_ROW) {
			r->user = user_load(r->db, db_col_int64(st, 0));
			if (r->user)
				snprintf(r->csrf, sizeof r->csrf, "%s", db_col_text(st, 1));
		}
		db_finalize(st);
	}
	if (r->user)
		return;
	/* Anonymous: double-submit token kept in its own cookie. */
	const char *anon = cookie(r, CSRF_COOKIE);
	if (is_hex_token(anon)) {
		snprintf(r->csrf, sizeof r->csrf, "%s", anon);
	} else {
		random_hex(r->csrf, 32);
		set_cookie(r, CSRF_COOKIE, r->csrf, SESSION_SECONDS);
	}
}

int auth_session_open(struct req *r, int64_t user_id)
{
	char tok[65], h[65], csrf[65], now[32], exp[32];
	random_hex(tok, 32);
	random_hex(csrf, 32);
	hash_hex(tok, h);
	time_iso_now(now);
	time_iso_from_now(exp, SESSION_SECONDS);
	/* Old sessions are purged as new ones open. */
	db_execf(r->db, "DELETE FROM sessions WHERE expires_at <= ?", "s", now);
	if (db_execf(r->db,
	             "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) "
	             "VALUES (?, ?, ?, ?, ?)",
	             "sIsss", h, user_id, csrf, now, exp) != DB_OK)
		return -1;
	set_cookie(r, SESSION_COOKIE, tok, SESSION_SECONDS);
	memcpy(r->csrf, csrf, sizeof csrf);
	return 0;
}

void auth_session_close(struct req *r)
{
	const char *tok = cookie(r, SESSION_COOKIE);
	if (is_hex_token(tok)) {
		char h[65];
		hash_hex(tok, h);
		db_execf(r->db, "DELETE FROM sessions WHERE token_hash = ?", "s", h);
	}
	set_cookie(r, SESSION_COOKIE, "", 0);
}

/* Throttling keys are hashes: the table never holds an address or an IP in clear. */
static void throttle_key(const char *kind, const char *value, char out[65])
{
	char *s = xasprintf("%s:%s", kind, value ? value : "");
	hash_hex(s, out);
	free(s);
}

int auth_throttled(struct db *db, const char *email, const char *ip)
{
	char ke[65], ki[65], since[32];
	throttle_key("email", email, ke);
	throttle_key("ip", ip, ki);
	time_iso_from_now(since, -THROTTLE_WINDOW);
	int64_t by_email = 0, by_ip = 0;
	db_int64f(db, &by_email, "SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?",
	          "ss", ke, since);
	db_int64f(db, &by_ip, "SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", "ss",
	          ki, since);
	return by_email >= THROTTLE_MAX || by_ip >= THROTTLE_MAX * 4;
}

void auth_record_failure(struct db *db, const char *email, const char *ip)
{
	char ke[65], ki[65], now[32], old[32];
	throttle_key("email", email, ke);
	throttle_key("ip", ip, ki);
	time_iso_now(now);
	time_iso_from_now(old, -THROTTLE_WINDOW);
	db_execf(db, "DELETE FROM login_failures WHERE at <= ?", "s", old);
	db_execf(db, "INSERT INTO login_failures (key, at) VALUES (?, ?)", "ss", ke, now);
	db_execf(db, "INSERT INTO login_failures (key, at) VALUES (?, ?)", "ss", ki, now);
}

void auth_clear_failures(struct db *db, const char *email)
{
	char ke[65];
	throttle_key("email", email, ke);
	db_execf(db, "DELETE FROM login_failures WHERE key = ?", "s", ke);
}
