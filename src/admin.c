/* admin: administration of user accounts (list, create, disable, re-enable). */
#include "auth.h"
#include "db.h"
#include "layout.h"
#include "users.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const account_roles[] = {"reader", "partner", "pilot", "coordinator", "admin"};

static void users_page(struct req *r, const char *notice, const char *error)
{
	page_begin(r, "Comptes utilisateurs",
	           (const struct crumb[]){{"Administration", "/admin/utilisateurs"}, {NULL, NULL}});
	buf_puts(&r->out, "<h1>Comptes utilisateurs</h1>\n");
	if (notice)
		page_notice(r, "success", notice);
	if (error)
		page_notice(r, "error", error);
	struct db_stmt *st = db_prepare(r->db, "SELECT id, email, name, role, disabled, created_at "
	                                       "FROM users ORDER BY disabled, name");
	buf_puts(
	    &r->out,
	    "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" "
	    "aria-labelledby=\"users-caption\"><table>\n<caption id=\"users-caption\">"
	    "Comptes (les comptes désactivés ne peuvent plus se connecter)</caption>\n<thead><tr>"
	    "<th scope=\"col\">Nom</th><th scope=\"col\">Adresse</th>"
	    "<th scope=\"col\">Rôle</th><th scope=\"col\">État</th>"
	    "<th scope=\"col\">Créé le</th><th scope=\"col\">Action</th></tr></thead>"
	    "<tbody>\n");
	while (st && db_step(st) == DB_ROW) {
		int64_t id = db_col_int64(st, 0);
		int disabled = (int)db_col_int64(st, 4);
		char date[11] = "";
		const char *created = db_col_text(st, 5);
		if (created)
			memcpy(date, created, strnlen(created, 10));
		html_printf(&r->out,
		            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>",
		            db_col_text(st, 2), db_col_text(st, 1),
		            role_label(role_parse(db_col_text(st, 3))),
		            disabled ? "désactivé" : "actif", date);
		if (!r->user || id != r->user->id) {
			html_printf(&r->out,
			            "<form method=\"post\" action=\"/admin/utilisateurs/%lld/%s\" "
			            "class=\"inline\">",
			            (long long)id, disabled ? "reactiver" : "desactiver");
			page_csrf(r);
			html_printf(&r->out,
			            "<button type=\"submit\" class=\"button small\">%s<span "
			            "class=\"visually-hidden\"> %s</span></button></form>",
			            disabled ? "Réactiver" : "Désactiver", db_col_text(st, 2));
		}
		buf_puts(&r->out, "</td></tr>\n");
	}
	db_finalize(st);
	buf_puts(&r->out, "</tbody></table></div>\n");

	buf_puts(&r->out, "<section class=\"panel\"><h2>Créer un compte</h2>"
	                  "<form method=\"post\" action=\"/admin/utilisateurs\" class=\"form\">");
	page_csrf(r);
	buf_puts(
	    &r->out,
	    "<div class=\"field\"><label for=\"u-email\">Adresse électronique</label>"
	    "<input id=\"u-email\" name=\"email\" type=\"email\" required maxlength=\"254\" "
	    "autocomplete=\"off\"></div>"
	    "<div class=\"field\"><label for=\"u-name\">Nom</label>"
	    "<input id=\"u-name\" name=\"name\" required maxlength=\"200\" autocomplete=\"off\">"
	    "</div><div class=\"field\"><label for=\"u-role\">Rôle général</label>"
	    "<select id=\"u-role\" name=\"role\">");
	for (size_t i = 0; i < sizeof account_roles / sizeof *account_roles; i++)
		html_printf(&r->out, "<option value=\"%s\">%s</option>", account_roles[i],
		            role_label(role_parse(account_roles[i])));
	buf_puts(
	    &r->out,
	    "</select></div><div class=\"field\"><label for=\"u-password\">Mot de passe "
	    "initial</label><input id=\"u-password\" name=\"password\" type=\"password\" "
	    "required minlength=\"10\" autocomplete=\"new-password\" "
	    "aria-describedby=\"u-password-hint\"><p class=\"hint\" id=\"u-password-hint\">"
	    "10 caractères au moins ; à communiquer à la personne, qui pourra le changer "
	    "dans « Mon compte ».</p></div>"
	    "<button type=\"submit\" class=\"button\">Créer le compte</button></form></section>\n");
	page_end(r);
}

static void users_get(struct req *r)
{
	const char *ok = req_query(r, "ok");
	users_page(r,
	           !ok                        ? NULL
	           : !strcmp(ok, "cree")      ? "Compte créé."
	           : !strcmp(ok, "desactive") ? "Compte désactivé."
	           : !strcmp(ok, "reactive")  ? "Compte réactivé."
	                                      : NULL,
	           NULL);
}

static void users_post(struct req *r)
{
	char *err = NULL;
	int64_t id;
	if (user_create(r->db, req_form(r, "email"), req_form(r, "name"), req_form(r, "role"),
	                req_form(r, "password"), r->user->id, "web", &id, &err)) {
		users_page(r, NULL, err);
		r->status = 422;
		free(err);
		return;
	}
	resp_redirect(r, "/admin/utilisateurs?ok=cree");
}

static void set_disabled(struct req *r, int disabled)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	if (id == r->user->id) {
		resp_error(r, 409, "Vous ne pouvez pas désactiver votre propre compte.");
		return;
	}
	char *err = NULL;
	if (user_set_disabled(r->db, NULL, id, disabled, r->user->id, "web", &err)) {
		resp_error(r, 404, err);
		free(err);
		return;
	}
	resp_redirect(r, disabled ? "/admin/utilisateurs?ok=desactive"
	                          : "/admin/utilisateurs?ok=reactive");
}

static void user_disable(struct req *r)
{
	set_disabled(r, 1);
}

static void user_enable(struct req *r)
{
	set_disabled(r, 0);
}

const struct route admin_routes[] = {
    {M_GET, "/admin/utilisateurs", ACC_ADMIN, users_get, "Liste des comptes"},
    {M_POST, "/admin/utilisateurs", ACC_ADMIN, users_post, "Créer un compte"},
    {M_POST, "/admin/utilisateurs/{user}/desactiver", ACC_ADMIN, user_disable,
     "Désactiver un compte"},
    {M_POST, "/admin/utilisateurs/{user}/reactiver", ACC_ADMIN, user_enable, "Réactiver un compte"},
    {0},
};
