/* contacts: the people of the structures (personal data under the RGPD) — minimal fields, a
 * legal basis with a note, edit, export of everything held on a person, and erasure. */
#include "actors.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "layout.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONTACT_NAME_MAX  200
#define CONTACT_ROLE_MAX  200
#define CONTACT_NOTE_MAX  1000
#define CONTACT_PHONE_MAX 30
#define ERASED            "[effacé]"

/* The fields of a contact as typed; each malloc'ed or NULL. */
enum { CF_NAME, CF_ROLE, CF_EMAIL, CF_PHONE, CF_BASIS, CF_NOTE, CF_N };
static const char *const contact_keys[CF_N] = {"nom",       "fonction", "courriel",
                                               "telephone", "base",     "note"};
struct contact_input {
	char *v[CF_N];
};

static void contact_input_free(struct contact_input *in)
{
	for (int i = 0; i < CF_N; i++)
		free(in->v[i]);
	memset(in, 0, sizeof *in);
}

static void contact_input_from_form(struct req *r, struct contact_input *in)
{
	memset(in, 0, sizeof *in);
	for (int i = 0; i < CF_N; i++) {
		const char *v = req_form(r, contact_keys[i]);
		in->v[i] = str_blank(v) ? NULL : str_trim_dup(v);
	}
}

static const char *basis_label(const char *b)
{
	if (b && !strcmp(b, "consentement"))
		return "Consentement";
	if (b && !strcmp(b, "interet_legitime"))
		return "Intérêt légitime";
	return "Non renseignée";
}

/* NULL when in is acceptable, else a French message (static string). */
static const char *contact_problem(const struct contact_input *in)
{
	if (!in->v[CF_NAME])
		return "Le nom de la personne est obligatoire.";
	if (text_chars(in->v[CF_NAME]) > CONTACT_NAME_MAX)
		return "Le nom est limité à 200 caractères.";
	if (in->v[CF_ROLE] && text_chars(in->v[CF_ROLE]) > CONTACT_ROLE_MAX)
		return "La fonction est limitée à 200 caractères.";
	if (in->v[CF_EMAIL]) {
		const char *p = auth_email_problem(in->v[CF_EMAIL]);
		if (p)
			return p;
	}
	if (in->v[CF_PHONE]) {
		int digits = 0;
		for (const char *p = in->v[CF_PHONE]; *p; p++) {
			if (*p >= '0' && *p <= '9')
				digits++;
			else if (!strchr(" +.-()", *p))
				return "Le téléphone ne peut contenir que des chiffres, des "
				       "espaces et "
				       "+ . - ( ).";
		}
		if (digits < 4 || strlen(in->v[CF_PHONE]) > CONTACT_PHONE_MAX)
			return "Le téléphone doit compter au moins 4 chiffres (30 caractères au "
			       "plus).";
	}
	if (!in->v[CF_BASIS] || (strcmp(in->v[CF_BASIS], "consentement") != 0 &&
	                         strcmp(in->v[CF_BASIS], "interet_legitime") != 0))
		return "Choisissez la base légale : consentement ou intérêt légitime.";
	if (!in->v[CF_NOTE])
		return "La note sur la base légale est obligatoire : comment et quand le "
		       "consentement a été donné, ou pourquoi l'intérêt légitime s'applique.";
	if (text_chars(in->v[CF_NOTE]) > CONTACT_NOTE_MAX)
		return "La note est limitée à 1000 caractères.";
	return NULL;
}

/* The contact as JSON (all the data held in its row); NULL when missing. New reference. */
static json_t *contact_json(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT actor_id, name, role, email, phone, legal_basis, "
	                               "basis_note, created_at, updated_at FROM contacts "
	                               "WHERE id = ?",
	                               "I", id);
	if (!st)
		return NULL;
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return NULL;
	}
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "actor_id", json_integer(db_col_int64(st, 0)));
	const char *keys[] = {"name",        "role",       "email",      "phone",
	                      "legal_basis", "basis_note", "created_at", "updated_at"};
	for (int i = 0; i < 8; i++) {
		const char *v = db_col_text(st, i + 1);
		json_t *j = v ? json_string(v) : NULL;
		json_object_set_new(o, keys[i], j ? j : json_null());
	}
	db_finalize(st);
	return o;
}

/* The contact's actor id into *actor; 0 when found, else an answer was sent (404). */
static int contact_require(struct req *r, int64_t *id, int64_t *actor)
{
	if (req_param_id(r, 0, id))
		return -1;
	if (db_int64f(r->db, actor, "SELECT actor_id FROM contacts WHERE id = ?", "I", *id) !=
	    DB_OK) {
		resp_error(r, 404, "Ce contact n'existe pas.");
		return -1;
	}
	return 0;
}

static int refuse_unless_editor(struct req *r)
{
	if (actor_can_edit(r))
		return 0;
	resp_error(r, 403, "Seuls les administrateurs et les coordinateurs gèrent les contacts.");
	return 1;
}

/* The fields of the contact form, filled with in (inside an open form). */
static void contact_fields(struct req *r, const struct contact_input *in, const char *prefix)
{
	struct buf *o = &r->out;
	const char *const *v = (const char *const *)in->v;
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"%s-nom\">Nom et prénom</label>"
	    "<input id=\"%s-nom\" name=\"nom\" required maxlength=\"200\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"%s-fonction\">Fonction</label>"
	    "<input id=\"%s-fonction\" name=\"fonction\" maxlength=\"200\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"%s-courriel\">Courriel</label>"
	    "<input id=\"%s-courriel\" name=\"courriel\" type=\"email\" maxlength=\"254\" "
	    "value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"%s-tel\">Téléphone</label>"
	    "<input id=\"%s-tel\" name=\"telephone\" type=\"tel\" maxlength=\"30\" value=\"%s\">"
	    "</div>\n"
	    "<fieldset class=\"field\"><legend>Base légale du traitement</legend>"
	    "<div><input type=\"radio\" id=\"%s-b1\" name=\"base\" value=\"consentement\"%R> "
	    "<label for=\"%s-b1\">Consentement</label></div>"
	    "<div><input type=\"radio\" id=\"%s-b2\" name=\"base\" value=\"interet_legitime\"%R> "
	    "<label for=\"%s-b2\">Intérêt légitime</label></div></fieldset>\n"
	    "<div class=\"field\"><label for=\"%s-note\">Note sur la base légale</label>"
	    "<textarea id=\"%s-note\" name=\"note\" required maxlength=\"1000\" rows=\"3\" "
	    "aria-describedby=\"%s-note-hint\">%s</textarea><p class=\"hint\" "
	    "id=\"%s-note-hint\">Comment et quand le consentement a été donné, ou pourquoi "
	    "l'intérêt légitime s'applique. Ne gardez que le nécessaire.</p></div>\n",
	    prefix, prefix, v[CF_NAME], prefix, prefix, v[CF_ROLE], prefix, prefix, v[CF_EMAIL],
	    prefix, prefix, v[CF_PHONE], prefix,
	    v[CF_BASIS] && !strcmp(v[CF_BASIS], "consentement") ? " checked" : "", prefix, prefix,
	    v[CF_BASIS] && !strcmp(v[CF_BASIS], "interet_legitime") ? " checked" : "", prefix,
	    prefix, prefix, prefix, v[CF_NOTE], prefix);
}

/* A page with the contact form alone (edit, or add after an error). */
static void contact_form_page(struct req *r, int64_t actor_id, const char *action,
                              const char *title, const struct contact_input *in, const char *error)
{
	char *back = xasprintf("/acteurs/%lld", (long long)actor_id);
	page_begin(
	    r, title,
	    (const struct crumb[]){{"Acteurs", "/acteurs"}, {"Structure", back}, {NULL, NULL}});
	html_printf(&r->out, "<h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	html_printf(&r->out, "<form method=\"post\" action=\"%s\" class=\"form\">\n", action);
	page_csrf(r);
	contact_fields(r, in, "c");
	html_printf(&r->out,
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer"
	            "</button> <a href=\"%s\">Annuler</a></div>\n</form>\n",
	            back);
	free(back);
	page_end(r);
}

void contacts_section(struct req *r, int64_t actor_id)
{
	/* Personal data: never shown to anonymous visitors. */
	if (!r->user)
		return;
	struct buf *o = &r->out;
	int edit = actor_can_edit(r), admin = r->user->role >= ROLE_ADMIN;
	buf_puts(o,
	         "<section aria-labelledby=\"contacts\"><h2 id=\"contacts\">Contacts</h2>\n"
	         "<p class=\"hint\">Données personnelles : visibles des seuls comptes connectés, "
	         "jamais publiées.</p>\n");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, name, role, email, phone, legal_basis, "
	                               "basis_note FROM contacts WHERE actor_id = ? "
	                               "ORDER BY name, id",
	                               "I", actor_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n"
			    "<caption>Personnes à contacter</caption>\n<thead><tr>"
			    "<th scope=\"col\">Nom</th><th scope=\"col\">Fonction</th>"
			    "<th scope=\"col\">Courriel</th><th scope=\"col\">Téléphone</th>"
			    "<th scope=\"col\">Base légale</th>%R</tr></thead>\n<tbody>\n",
			    edit ? "<th scope=\"col\">Actions</th>" : "");
		int64_t id = db_col_int64(st, 0);
		const char *email = db_col_text(st, 3);
		html_printf(o, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", db_col_text(st, 1),
		            db_col_text(st, 2));
		if (email)
			html_printf(o, "<a href=\"mailto:%s\">%s</a>", email, email);
		html_printf(o, "</td><td>%s</td><td>%s<br><span class=\"hint\">%s</span></td>",
		            db_col_text(st, 4), basis_label(db_col_text(st, 5)),
		            db_col_text(st, 6));
		if (edit) {
			html_printf(
			    o,
			    "<td><a class=\"button small\" href=\"/contacts/%lld/modifier\">"
			    "Modifier</a> <a class=\"button small\" "
			    "href=\"/contacts/%lld/export.json\">Exporter (RGPD)</a> "
			    "<form method=\"post\" action=\"/contacts/%lld/supprimer\">",
			    (long long)id, (long long)id, (long long)id);
			page_csrf(r);
			buf_puts(o, "<button type=\"submit\" class=\"button small\">Supprimer"
			            "</button></form>");
			if (admin) {
				html_printf(
				    o, "<form method=\"post\" action=\"/contacts/%lld/effacer\">",
				    (long long)id);
				page_csrf(r);
				buf_puts(o,
				         "<button type=\"submit\" class=\"button small\">Effacer "
				         "(droit à l'effacement)</button></form>");
			}
			buf_puts(o, "</td>");
		}
		buf_puts(o, "</tr>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucun contact enregistré pour cette structure.</p>\n");
	if (edit) {
		html_printf(o,
		            "<h3>Ajouter un contact</h3>\n<form method=\"post\" "
		            "action=\"/acteurs/%lld/contacts\" class=\"form\">\n",
		            (long long)actor_id);
		page_csrf(r);
		struct contact_input empty = {0};
		contact_fields(r, &empty, "nc");
		buf_puts(o, "<div class=\"actions\"><button type=\"submit\" class=\"button\">"
		            "Ajouter le contact</button></div>\n</form>\n");
	}
	buf_puts(o, "</section>\n");
}

/* Insert or update (id != 0) a contact with its audit entry, in one transaction. */
static int contact_save(struct req *r, int64_t actor_id, int64_t *id,
                        const struct contact_input *in)
{
	char now[32];
	time_iso_now(now);
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	json_t *before = *id ? contact_json(r->db, *id) : NULL;
	const char *role = in->v[CF_ROLE] ? in->v[CF_ROLE] : "";
	if (*id) {
		rc = db_execf(r->db,
		              "UPDATE contacts SET name = ?, role = ?, email = ?, phone = ?, "
		              "legal_basis = ?, basis_note = ?, updated_at = ? WHERE id = ?",
		              "sssssssI", in->v[CF_NAME], role, in->v[CF_EMAIL], in->v[CF_PHONE],
		              in->v[CF_BASIS], in->v[CF_NOTE], now, *id);
	} else {
		/*
		 * A new id above every id a contact ever had, the audit log included: SQLite would
		 * otherwise reuse the id of the last deleted row, and the export of the new person
		 * would show the history of the old one.
		 */
		int64_t next = 0;
		rc = db_int64f(
		    r->db, &next,
		    "SELECT MAX(m) + 1 FROM (SELECT COALESCE(MAX(id), 0) AS m FROM contacts "
		    "UNION ALL SELECT COALESCE(MAX(CAST(entity_id AS INTEGER)), 0) FROM "
		    "audit_log WHERE entity = 'contact') AS ids",
		    "");
		if (rc != DB_OK) {
			db_rollback(r->db);
			return rc;
		}
		struct db_stmt *st = db_queryf(
		    r->db,
		    "INSERT INTO contacts (id, actor_id, name, role, email, phone, legal_basis, "
		    "basis_note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "RETURNING id",
		    "IIssssssss", next, actor_id, in->v[CF_NAME], role, in->v[CF_EMAIL],
		    in->v[CF_PHONE], in->v[CF_BASIS], in->v[CF_NOTE], now, now);
		rc = st && db_step(st) == DB_ROW ? DB_OK : DB_ERROR;
		if (rc == DB_OK)
			*id = db_col_int64(st, 0);
		db_finalize(st);
	}
	if (rc == DB_OK) {
		json_t *after = contact_json(r->db, *id);
		rc = audit_write_id(r->db, r->user->id, "web", before ? "update" : "create",
		                    "contact", *id, before, after);
		json_decref(after);
	}
	json_decref(before);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	return rc;
}

/* POST /acteurs/{actor}/contacts: add a contact. */
static void contact_add(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	int64_t actor_id, one;
	if (req_param_id(r, 0, &actor_id))
		return;
	if (db_int64f(r->db, &one, "SELECT 1 FROM actors WHERE id = ?", "I", actor_id) != DB_OK) {
		resp_error(r, 404, "Cet acteur n'existe pas.");
		return;
	}
	struct contact_input in;
	contact_input_from_form(r, &in);
	const char *err = contact_problem(&in);
	int64_t id = 0;
	if (!err && contact_save(r, actor_id, &id, &in) != DB_OK)
		err = "Enregistrement impossible ; réessayez.";
	if (err) {
		char *action = xasprintf("/acteurs/%lld/contacts", (long long)actor_id);
		contact_form_page(r, actor_id, action, "Ajouter un contact", &in, err);
		r->status = 422;
		free(action);
	} else {
		char *loc = xasprintf("/acteurs/%lld#contacts", (long long)actor_id);
		resp_redirect(r, loc);
		free(loc);
	}
	contact_input_free(&in);
}

/* GET/POST /contacts/{contact}/modifier. */
static void contact_edit(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	int64_t id, actor_id;
	if (contact_require(r, &id, &actor_id))
		return;
	char *action = xasprintf("/contacts/%lld/modifier", (long long)id);
	struct contact_input in = {0};
	if (r->method == M_GET) {
		json_t *j = contact_json(r->db, id);
		const char *keys[CF_N] = {"name",  "role",        "email",
		                          "phone", "legal_basis", "basis_note"};
		for (int i = 0; j && i < CF_N; i++) {
			const char *v = json_string_value(json_object_get(j, keys[i]));
			in.v[i] = v && *v ? xstrdup(v) : NULL;
		}
		json_decref(j);
		contact_form_page(r, actor_id, action, "Modifier le contact", &in, NULL);
	} else {
		contact_input_from_form(r, &in);
		const char *err = contact_problem(&in);
		if (!err && contact_save(r, actor_id, &id, &in) != DB_OK)
			err = "Enregistrement impossible ; réessayez.";
		if (err) {
			contact_form_page(r, actor_id, action, "Modifier le contact", &in, err);
			r->status = 422;
		} else {
			char *loc = xasprintf("/acteurs/%lld#contacts", (long long)actor_id);
			resp_redirect(r, loc);
			free(loc);
		}
	}
	contact_input_free(&in);
	free(action);
}

/* POST /contacts/{contact}/supprimer: delete the row (the audit keeps the history; use the
 * erasure to remove the person's data everywhere). */
static void contact_delete(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	int64_t id, actor_id;
	if (contact_require(r, &id, &actor_id))
		return;
	json_t *before = contact_json(r->db, id);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM contacts WHERE id = ?", "I", id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "contact", id, before,
		                    NULL);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(before);
	if (rc != DB_OK) {
		resp_error(r, 500, "Suppression impossible.");
		return;
	}
	char *loc = xasprintf("/acteurs/%lld#contacts", (long long)actor_id);
	resp_redirect(r, loc);
	free(loc);
}

/* The audit entries about contact id, as a JSON array of entries. */
static json_t *contact_audit(struct db *db, int64_t id)
{
	char key[32];
	snprintf(key, sizeof key, "%lld", (long long)id);
	json_t *a = json_array();
	struct db_stmt *st = db_queryf(db,
	                               "SELECT id, at, user_id, origin, action, before_json, "
	                               "after_json FROM audit_log WHERE entity = 'contact' AND "
	                               "entity_id = ? ORDER BY id",
	                               "s", key);
	while (st && db_step(st) == DB_ROW) {
		json_t *e = json_object();
		json_object_set_new(e, "id", json_integer(db_col_int64(st, 0)));
		json_object_set_new(e, "at", json_string(db_col_text(st, 1)));
		json_object_set_new(e, "user_id",
		                    db_col_is_null(st, 2) ? json_null()
		                                          : json_integer(db_col_int64(st, 2)));
		json_object_set_new(e, "origin", json_string(db_col_text(st, 3)));
		json_object_set_new(e, "action", json_string(db_col_text(st, 4)));
		for (int k = 0; k < 2; k++) {
			const char *t = db_col_text(st, 5 + k);
			json_t *j = t ? json_loads(t, 0, NULL) : NULL;
			json_object_set_new(e, k ? "after" : "before", j ? j : json_null());
		}
		json_array_append_new(a, e);
	}
	db_finalize(st);
	return a;
}

/* GET /contacts/{contact}/export.json: everything held on this person (right of access). */
static void contact_export(struct req *r)
{
	if (refuse_unless_editor(r))
		return;
	int64_t id, actor_id;
	if (contact_require(r, &id, &actor_id))
		return;
	json_t *doc = json_object();
	json_object_set_new(doc, "contact", contact_json(r->db, id));
	json_object_set_new(doc, "audit_log", contact_audit(r->db, id));
	char now[32];
	time_iso_now(now);
	json_object_set_new(doc, "exported_at", json_string(now));
	char *disp = xasprintf("attachment; filename=\"contact-%lld.json\"", (long long)id);
	resp_header(r, "Content-Disposition", disp);
	free(disp);
	resp_json(r, 200, doc);
}

/* Replace, in j, every string containing one of the needles (non-empty) by ERASED; and, when
 * fields is set, the values of the personal fields of a contact. Returns the count replaced. */
static int scrub(json_t *j, const char *const *needles, int nneedles, int fields)
{
	int n = 0;
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(j, tmp, key, v)
		{
			static const char *const personal[] = {"name", "role", "email", "phone",
			                                       "basis_note"};
			int hit = 0;
			for (size_t i = 0; fields && i < 5; i++)
				hit |= !strcmp(key, personal[i]);
			if (hit && json_is_string(v)) {
				json_object_set_new(j, key, json_string(ERASED));
				n++;
			} else {
				n += scrub(v, needles, nneedles, fields);
			}
		}
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			if (json_is_string(v)) {
				for (int k = 0; k < nneedles; k++)
					if (needles[k] && *needles[k] &&
					    strstr(json_string_value(v), needles[k])) {
						json_array_set_new(j, i, json_string(ERASED));
						n++;
						break;
					}
			} else {
				n += scrub(v, needles, nneedles, fields);
			}
		}
	}
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			if (!json_is_string(v) || !strcmp(json_string_value(v), ERASED))
				continue;
			for (int k = 0; k < nneedles; k++)
				if (needles[k] && *needles[k] &&
				    strstr(json_string_value(v), needles[k])) {
					json_object_set_new(j, key, json_string(ERASED));
					n++;
					break;
				}
		}
	}
	return n;
}

/* Scrub the audit entries selected by sql (bound by types/values) — one column pair per row:
 * id, before_json, after_json. Returns the number of entries changed, or -1 on error. */
static int scrub_entries(struct db *db, struct db_stmt *st, const char *const *needles,
                         int nneedles, int fields)
{
	if (!st)
		return -1;
	int changed = 0, rc = DB_OK;
	/* Collect first: updating the table while stepping over it is not portable. */
	struct {
		int64_t id;
		char *b, *a;
	} *rows = NULL;
	size_t nrows = 0;
	while (db_step(st) == DB_ROW) {
		rows = xrealloc(rows, (nrows + 1) * sizeof *rows);
		rows[nrows].id = db_col_int64(st, 0);
		rows[nrows].b = db_col_text(st, 1) ? xstrdup(db_col_text(st, 1)) : NULL;
		rows[nrows].a = db_col_text(st, 2) ? xstrdup(db_col_text(st, 2)) : NULL;
		nrows++;
	}
	db_finalize(st);
	for (size_t i = 0; i < nrows; i++) {
		char *out[2] = {NULL, NULL};
		int n = 0;
		char *in[2] = {rows[i].b, rows[i].a};
		for (int k = 0; k < 2; k++) {
			if (!in[k])
				continue;
			json_t *j = json_loads(in[k], 0, NULL);
			if (!j) {
				/* Not JSON: drop the text when it names the person. */
				int hit = 0;
				for (int m = 0; m < nneedles; m++)
					hit |=
					    needles[m] && *needles[m] && strstr(in[k], needles[m]);
				out[k] = xstrdup(hit ? "\"" ERASED "\"" : in[k]);
				n += hit;
				continue;
			}
			n += scrub(j, needles, nneedles, fields);
			out[k] = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
			json_decref(j);
		}
		if (n && rc == DB_OK) {
			rc = db_execf(
			    db, "UPDATE audit_log SET before_json = ?, after_json = ? WHERE id = ?",
			    "ssI", out[0], out[1], rows[i].id);
			changed++;
		}
		free(out[0]);
		free(out[1]);
		free(rows[i].b);
		free(rows[i].a);
	}
	free(rows);
	return rc == DB_OK ? changed : -1;
}

/* POST /contacts/{contact}/effacer (admin): right to erasure — delete the row and scrub the
 * person's data from the audit log; the new audit entry records that an erasure happened. */
static void contact_erase(struct req *r)
{
	if (!r->user || r->user->role < ROLE_ADMIN) {
		resp_error(r, 403,
		           "Seuls les administrateurs effacent les données d'une personne.");
		return;
	}
	int64_t id, actor_id;
	if (contact_require(r, &id, &actor_id))
		return;
	json_t *c = contact_json(r->db, id);
	const char *needles[3] = {json_string_value(json_object_get(c, "email")),
	                          json_string_value(json_object_get(c, "phone")),
	                          json_string_value(json_object_get(c, "name"))};
	char key[32];
	snprintf(key, sizeof key, "%lld", (long long)id);
	int rc = db_begin(r->db), n1 = 0, n2 = 0;
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM contacts WHERE id = ?", "I", id);
	if (rc == DB_OK) {
		/* The entries about this contact: every personal field, and the strings. */
		n1 = scrub_entries(
		    r->db,
		    db_queryf(r->db,
		              "SELECT id, before_json, after_json FROM audit_log WHERE "
		              "entity = 'contact' AND entity_id = ?",
		              "s", key),
		    needles, 3, 1);
		/* Any other entry that quotes the e-mail or the phone. */
		for (int k = 0; k < 2 && n1 >= 0 && n2 >= 0; k++) {
			if (!needles[k] || !*needles[k])
				continue;
			char *pat = text_like_pattern("%", needles[k], "%");
			int n = scrub_entries(
			    r->db,
			    db_queryf(r->db,
			              "SELECT id, before_json, after_json FROM "
			              "audit_log WHERE before_json LIKE ? ESCAPE '\\' "
			              "OR after_json LIKE ? ESCAPE '\\'",
			              "ss", pat, pat),
			    needles, 2, 0);
			free(pat);
			n2 = n < 0 ? -1 : n2 + n;
		}
		if (n1 < 0 || n2 < 0)
			rc = DB_ERROR;
	}
	if (rc == DB_OK) {
		json_t *after = json_object();
		json_object_set_new(after, "erased", json_true());
		json_object_set_new(after, "actor_id", json_integer(actor_id));
		json_object_set_new(after, "audit_entries_scrubbed", json_integer(n1 + n2));
		rc = audit_write_id(r->db, r->user->id, "web", "erase", "contact", id, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(c);
	if (rc != DB_OK) {
		resp_error(r, 500, "Effacement impossible.");
		return;
	}
	char *loc = xasprintf("/acteurs/%lld#contacts", (long long)actor_id);
	resp_redirect(r, loc);
	free(loc);
}

const struct route contact_routes[] = {
    {M_POST, "/acteurs/{actor}/contacts", ACC_LOGIN, contact_add,
     "Ajouter un contact à une structure (administrateurs et coordinateurs)"},
    {M_GET | M_POST, "/contacts/{contact}/modifier", ACC_LOGIN, contact_edit,
     "Modifier un contact"},
    {M_POST, "/contacts/{contact}/supprimer", ACC_LOGIN, contact_delete, "Supprimer un contact"},
    {M_GET, "/contacts/{contact}/export.json", ACC_LOGIN, contact_export,
     "Toutes les données détenues sur une personne (RGPD, droit d'accès)"},
    {M_POST, "/contacts/{contact}/effacer", ACC_LOGIN, contact_erase,
     "Effacer une personne et ses traces dans le journal (RGPD ; administrateurs)"},
    {0},
};
