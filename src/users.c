/* users: account creation and changes, audited, never recording a password or its hash. */
#include "users.h"

#include "audit.h"
#include "auth.h"
#include "db.h"
#include "util.h"

#include <jansson.h>
#include <string.h>

const char *user_name_problem(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || str_blank(name))
		return "Le nom est obligatoire.";
	if (n > 200)
		return "Le nom est trop long (200 caractères au plus).";
	if (!utf8_valid_text(name, n) || strchr(name, '\n') || strchr(name, '\r'))
		return "Le nom contient des caractères non valides.";
	return NULL;
}

int user_create(struct db *db, const char *email, const char *name, const char *role,
                const char *password, int64_t by, const char *origin, int64_t *id, char **err)
{
	const char *why = auth_email_problem(email);
	if (!why)
		why = user_name_problem(name);
	if (!why && (role_parse(role) < ROLE_READER))
		why = "Rôle inconnu : choisissez admin, coordinator, pilot, partner ou reader.";
	if (!why)
		why = auth_password_problem(password);
	if (why) {
		*err = xstrdup(why);
		return -1;
	}
	char hash[AUTH_HASH_MAX];
	if (auth_password_hash(password, hash) != 0) {
		*err = xstrdup("Le calcul de l'empreinte du mot de passe a échoué (mémoire).");
		return -1;
	}
	char now[32];
	time_iso_now(now);
	if (db_begin(db) != DB_OK) {
		*err = xstrdup("La base de données est occupée ; réessayez.");
		return -1;
	}
	int64_t new_id = 0;
	int rc = db_int64f(db, &new_id,
	                   "INSERT INTO users (email, name, password_hash, role, created_at) "
	                   "VALUES (?, ?, ?, ?, ?) RETURNING id",
	                   "sssss", email, name, hash, role, now);
	if (rc == DB_OK) {
		json_t *after =
		    json_pack("{s:s,s:s,s:s}", "email", email, "name", name, "role", role);
		rc = audit_write_id(db, by, origin, "create", "user", new_id, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		*err = xstrdup(rc == DB_CONSTRAINT ? "Un compte existe déjà avec cette adresse."
		                                   : "L'enregistrement du compte a échoué.");
		return -1;
	}
	if (id)
		*id = new_id;
	return 0;
}

int user_set_disabled(struct db *db, const char *email, int64_t id, int disabled, int64_t by,
                      const char *origin, char **err)
{
	if (email &&
	    db_int64f(db, &id, "SELECT id FROM users WHERE email = ?", "s", email) != DB_OK) {
		*err = xstrdup("Aucun compte avec cette adresse.");
		return -1;
	}
	if (db_begin(db) != DB_OK) {
		*err = xstrdup("La base de données est occupée ; réessayez.");
		return -1;
	}
	int64_t was = -1;
	int rc = db_int64f(db, &was, "SELECT disabled FROM users WHERE id = ?", "I", id);
	if (rc == DB_DONE) {
		db_rollback(db);
		*err = xstrdup("Ce compte n'existe pas.");
		return -1;
	}
	if (rc == DB_OK)
		rc = db_execf(db, "UPDATE users SET disabled = ? WHERE id = ?", "iI", disabled, id);
	if (rc == DB_OK && disabled)
		rc = db_execf(db, "DELETE FROM sessions WHERE user_id = ?", "I", id);
	if (rc == DB_OK) {
		json_t *b = json_pack("{s:b}", "disabled", (int)was);
		json_t *a = json_pack("{s:b}", "disabled", disabled);
		rc = audit_write_id(db, by, origin, disabled ? "disable" : "enable", "user", id, b,
		                    a);
		json_decref(b);
		json_decref(a);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		*err = xstrdup("La modification du compte a échoué.");
		return -1;
	}
	return 0;
}

int user_set_password(struct db *db, int64_t id, const char *password, int64_t by,
                      const char *origin, char **err)
{
	const char *why = auth_password_problem(password);
	if (why) {
		*err = xstrdup(why);
		return -1;
	}
	char hash[AUTH_HASH_MAX];
	if (auth_password_hash(password, hash) != 0) {
		*err = xstrdup("Le calcul de l'empreinte du mot de passe a échoué (mémoire).");
		return -1;
	}
	int rc = db_begin(db);
	if (rc == DB_OK)
		rc =
		    db_execf(db, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", hash, id);
	if (rc == DB_OK)
		rc = audit_write_id(db, by, origin, "password", "user", id, NULL, NULL);
	if (rc == DB_OK)
		rc = db_commit(db);
	if (rc != DB_OK) {
		db_rollback(db);
		*err = xstrdup("Le changement de mot de passe a échoué.");
		return -1;
	}
	return 0;
}
