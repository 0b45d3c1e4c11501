/* account: log in, log out, "mon compte" (name and password). */
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "layout.h"
#include "users.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Only local paths are accepted as the page to return to after login. */
static const char *safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strchr(next, ':') ||
	    strlen(next) > 500)
		return "/";
	return next;
}

static void login_form(struct req *r, const char *email, const char *error)
{
	page_begin(r, "Connexion", NULL);
	buf_puts(&r->out, "<div class=\"narrow\"><h1>Connexion</h1>\n");
	if (error)
		page_notice(r, "error", error);
	buf_puts(&r->out, "<form method=\"post\" action=\"/connexion\" class=\"form\">");
	page_csrf(r);
	html_printf(&r->out,
	            "<input type=\"hidden\" name=\"suite\" value=\"%s\">"
	            "<div class=\"field\"><label for=\"email\">Adresse électronique</label>"
	            "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" "
	            "required maxlength=\"254\" value=\"%s\"></div>"
	            "<div class=\"field\"><label for=\"password\">Mot de passe</label>"
	            "<input id=\"password\" name=\"password\" type=\"password\" "
	            "autocomplete=\"current-password\" required maxlength=\"1024\"></div>"
	            "<button type=\"submit\" class=\"button\">Se connecter</button></form></div>\n",
	            safe_next(req_query(r, "suite") ? req_query(r, "suite") : req_form(r, "suite")),
	            email ? email : "");
	page_end(r);
}

static void login_get(struct req *r)
{
	if (r->user) {
		resp_redirect(r, "/");
		return;
	}
	login_form(r, NULL, NULL);
}

static void login_post(struct req *r)
{
	const char *email = req_form(r, "email");
	const char *password = req_form(r, "password");
	if (str_blank(email) || !password || !*password) {
		login_form(r, email, "Indiquez votre adresse électronique et votre mot de passe.");
		r->status = 422;
		return;
	}
	if (auth_throttled(r->db, email, r->remote_ip)) {
		login_form(r, email,
		           "Trop de tentatives de connexion : réessayez dans un quart d'heure.");
		r->status = 429;
		return;
	}
	int64_t id = 0;
	char *hash = NULL;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, password_hash FROM users "
	                               "WHERE email = ? AND disabled = 0",
	                               "s", email);
	if (st && db_step(st) == DB_ROW) {
		id = db_col_int64(st, 0);
		hash = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	int ok = hash && auth_password_verify(hash, password);
	free(hash);
	if (!ok) {
		auth_record_failure(r->db, email, r->remote_ip);
		login_form(r, email, "Adresse électronique ou mot de passe incorrect.");
		r->status = 401;
		return;
	}
	auth_clear_failures(r->db, email);
	if (auth_session_open(r, id) != 0) {
		resp_error(r, 500, "La session n'a pas pu être ouverte.");
		return;
	}
	audit_write_id(r->db, id, "web", "login", "user", id, NULL, NULL);
	resp_redirect(r, safe_next(req_form(r, "suite")));
}

static void logout_post(struct req *r)
{
	if (r->user)
		audit_write_id(r->db, r->user->id, "web", "logout", "user", r->user->id, NULL,
		               NULL);
	auth_session_close(r);
	resp_redirect(r, "/");
}

static void account_page(struct req *r, const char *notice, const char *error)
{
	page_begin(r, "Mon compte", NULL);
	html_printf(&r->out, "<h1>Mon compte</h1>\n");
	if (notice)
		page_notice(r, "success", notice);
	if (error)
		page_notice(r, "error", error);
	html_printf(&r->out,
	            "<dl class=\"facts\"><div><dt>Adresse électronique</dt><dd>%s</dd></div>"
	            "<div><dt>Rôle général</dt><dd>%s</dd></div></dl>\n",
	            r->user->email, role_label(r->user->role));
	buf_puts(&r->out, "<div class=\"columns\"><section><h2>Mon nom</h2>"
	                  "<form method=\"post\" action=\"/compte\" class=\"form\">");
	page_csrf(r);
	html_printf(
	    &r->out,
	    "<input type=\"hidden\" name=\"action\" value=\"name\">"
	    "<div class=\"field\"><label for=\"name\">Nom affiché</label>"
	    "<input id=\"name\" name=\"name\" required maxlength=\"200\" value=\"%s\" "
	    "autocomplete=\"name\"></div>"
	    "<button class=\"button\" type=\"submit\">Enregistrer</button></form></section>",
	    r->user->name);
	buf_puts(&r->out, "<section><h2>Mot de passe</h2>"
	                  "<form method=\"post\" action=\"/compte\" class=\"form\">");
	page_csrf(r);
	buf_puts(&r->out,
	         "<input type=\"hidden\" name=\"action\" value=\"password\">"
	         "<div class=\"field\"><label for=\"current\">Mot de passe actuel</label>"
	         "<input id=\"current\" name=\"current\" type=\"password\" required "
	         "autocomplete=\"current-password\"></div>"
	         "<div class=\"field\"><label for=\"new\">Nouveau mot de passe</label>"
	         "<input id=\"new\" name=\"new\" type=\"password\" required minlength=\"10\" "
	         "autocomplete=\"new-password\" aria-describedby=\"new-hint\">"
	         "<p class=\"hint\" id=\"new-hint\">10 caractères au moins.</p></div>"
	         "<div class=\"field\"><label for=\"confirm\">Confirmation</label>"
	         "<input id=\"confirm\" name=\"confirm\" type=\"password\" required "
	         "autocomplete=\"new-password\"></div>"
	         "<button class=\"button\" type=\"submit\">Changer le mot de passe</button>"
	         "</form></section></div>\n");
	page_end(r);
}

static void account_get(struct req *r)
{
	account_page(r, req_query(r, "ok") ? "Modification enregistrée." : NULL, NULL);
}

static void account_post(struct req *r)
{
	const char *action = req_form(r, "action");
	char *err = NULL;
	if (action && !strcmp(action, "name")) {
		const char *name = req_form(r, "name");
		const char *why = user_name_problem(name);
		if (why) {
			account_page(r, NULL, why);
			r->status = 422;
			return;
		}
		json_t *b = json_pack("{s:s}", "name", r->user->name);
		json_t *a = json_pack("{s:s}", "name", name);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(r->db, "UPDATE users SET name = ? WHERE id = ?", "sI", name,
			              r->user->id);
		if (rc == DB_OK)
			rc = audit_write_id(r->db, r->user->id, "web", "update", "user",
			                    r->user->id, b, a);
		if (rc == DB_OK)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
		json_decref(b);
		json_decref(a);
		if (rc != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué.");
			return;
		}
		resp_redirect(r, "/compte?ok=1");
		return;
	}
	if (action && !strcmp(action, "password")) {
		char *hash = NULL;
		struct db_stmt *st = db_queryf(
		    r->db, "SELECT password_hash FROM users WHERE id = ?", "I", r->user->id);
		if (st && db_step(st) == DB_ROW)
			hash = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		int ok = hash && auth_password_verify(hash, req_form(r, "current"));
		free(hash);
		const char *nw = req_form(r, "new"), *confirm = req_form(r, "confirm");
		const char *why = !ok ? "Le mot de passe actuel est incorrect."
		                  : (!nw || !confirm || strcmp(nw, confirm) != 0)
		                      ? "La confirmation ne correspond pas au nouveau mot de passe."
		                      : NULL;
		if (why || user_set_password(r->db, r->user->id, nw, r->user->id, "web", &err)) {
			account_page(r, NULL, why ? why : err);
			r->status = 422;
			free(err);
			return;
		}
		resp_redirect(r, "/compte?ok=1");
		return;
	}
	resp_error(r, 400, "Action inconnue.");
}

const struct route account_routes[] = {
    {M_GET, "/connexion", ACC_PUBLIC, login_get, "Formulaire de connexion"},
    {M_POST, "/connexion", ACC_PUBLIC, login_post, "Connexion (adresse, mot de passe)"},
    {M_POST, "/deconnexion", ACC_PUBLIC, logout_post, "Déconnexion"},
    {M_GET, "/compte", ACC_LOGIN, account_get, "Mon compte"},
    {M_POST, "/compte", ACC_LOGIN, account_post, "Modifier mon nom ou mon mot de passe"},
    {0},
};
