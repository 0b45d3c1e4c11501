/* networks: networks of actors (réseau parentalité, réseau des acteurs jeunesse…) — members,
 * coordinator structure, thematic; public list and page, editing by admins and coordinators. */
#include "actors.h"
#include "audit.h"
#include "db.h"
#include "layout.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NETWORK_NAME_MAX    200
#define NETWORK_DESC_MAX    5000
#define NETWORK_MEMBERS_MAX 500

/* Plain text as paragraphs with line breaks, escaped. */
static void paragraphs(struct buf *o, const char *text)
{
	char *copy = xstrdup(text);
	int open = 0;
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (str_blank(line)) {
			if (open)
				buf_puts(o, "</p>\n");
			open = 0;
			continue;
		}
		html_printf(o, "%R%s", open ? "<br>\n" : "<p>", line);
		open = 1;
	}
	if (open)
		buf_puts(o, "</p>\n");
	free(copy);
}

/* The id of the actor named s (exact name, else the same search key when only one has it):
 * 0 when found, 1 when unknown, 2 when ambiguous. */
static int actor_by_name(struct db *db, const char *s, int64_t *id)
{
	if (db_int64f(db, id, "SELECT id FROM actors WHERE name = ?", "s", s) == DB_OK)
		return 0;
	char *key = text_fold(s);
	struct db_stmt *st = db_queryf(
	    db, "SELECT id FROM actors WHERE search_name = ? ORDER BY id LIMIT 2", "s", key);
	free(key);
	int rc = 1;
	if (st && db_step(st) == DB_ROW) {
		*id = db_col_int64(st, 0);
		rc = db_step(st) == DB_ROW ? 2 : 0;
	}
	db_finalize(st);
	return rc;
}

/* The network as JSON (with member ids and names); NULL when missing. New reference. */
static json_t *network_json(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT n.name, t.slug, n.coordinator_actor_id, a.name, "
	                               "n.description FROM networks n LEFT JOIN tags t ON "
	                               "t.id = n.thematic_tag_id LEFT JOIN actors a ON "
	                               "a.id = n.coordinator_actor_id WHERE n.id = ?",
	                               "I", id);
	if (!st)
		return NULL;
	if (db_step(st) != DB_ROW) {
		db_finalize(st);
		return NULL;
	}
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", json_string(db_col_text(st, 0)));
	json_object_set_new(o, "thematic",
	                    db_col_text(st, 1) ? json_string(db_col_text(st, 1)) : json_null());
	json_object_set_new(o, "coordinator_actor_id",
	                    db_col_is_null(st, 2) ? json_null()
	                                          : json_integer(db_col_int64(st, 2)));
	json_object_set_new(o, "coordinator",
	                    db_col_text(st, 3) ? json_string(db_col_text(st, 3)) : json_null());
	json_object_set_new(o, "description", json_string(db_col_text(st, 4)));
	db_finalize(st);
	json_t *members = json_array();
	st = db_queryf(db,
	               "SELECT a.id, a.name FROM network_members m JOIN actors a ON "
	               "a.id = m.actor_id WHERE m.network_id = ? ORDER BY a.search_name, a.id",
	               "I", id);
	while (st && db_step(st) == DB_ROW) {
		json_t *m = json_object();
		json_object_set_new(m, "id", json_integer(db_col_int64(st, 0)));
		json_object_set_new(m, "name", json_string(db_col_text(st, 1)));
		json_array_append_new(members, m);
	}
	db_finalize(st);
	json_object_set_new(o, "members", members);
	return o;
}

/* GET /reseaux: every network. */
static void networks_page(struct req *r)
{
	struct buf *o = &r->out;
	page_begin(r, "Réseaux d'acteurs",
	           (const struct crumb[]){{"Acteurs", "/acteurs"}, {NULL, NULL}});
	buf_puts(o, "<h1>Réseaux d'acteurs</h1>\n<p class=\"lead\">Les réseaux qui réunissent les "
	            "structures du territoire autour d'une thématique, avec leur structure "
	            "coordinatrice.</p>\n");
	if (actor_can_edit(r))
		buf_puts(o, "<div class=\"actions\"><a class=\"button\" href=\"/reseaux/nouveau\">"
		            "Nouveau réseau</a></div>\n");
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT n.id, n.name, t.label, a.id, a.name, "
	           "(SELECT COUNT(*) FROM network_members m WHERE m.network_id = n.id) "
	           "FROM networks n LEFT JOIN tags t ON t.id = n.thematic_tag_id "
	           "LEFT JOIN actors a ON a.id = n.coordinator_actor_id ORDER BY n.name, n.id");
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<div class=\"table-wrap\" tabindex=\"0\"><table>\n"
			            "<caption>Réseaux d'acteurs</caption>\n<thead><tr>"
			            "<th scope=\"col\">Réseau</th><th scope=\"col\">Thématique</th>"
			            "<th scope=\"col\">Structure coordinatrice</th>"
			            "<th scope=\"col\">Membres</th></tr></thead>\n<tbody>\n");
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"/reseaux/%lld\">%s</a></th><td>%s</td>"
		            "<td>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            db_col_text(st, 2) ? db_col_text(st, 2) : "—");
		if (!db_col_is_null(st, 3))
			html_printf(o, "<a href=\"/acteurs/%lld\">%s</a>",
			            (long long)db_col_int64(st, 3), db_col_text(st, 4));
		else
			buf_puts(o, "—");
		html_printf(o, "</td><td>%lld</td></tr>\n", (long long)db_col_int64(st, 5));
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucun réseau n'est encore enregistré.</p>\n");
	page_end(r);
}

/* GET /reseaux/{network}: one network with its members. */
static void network_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	json_t *j = network_json(r->db, id);
	if (!j) {
		resp_error(r, 404, "Ce réseau n'existe pas.");
		return;
	}
	struct buf *o = &r->out;
	const char *name = json_string_value(json_object_get(j, "name"));
	page_begin(
	    r, name,
	    (const struct crumb[]){{"Acteurs", "/acteurs"}, {"Réseaux", "/reseaux"}, {NULL, NULL}});
	html_printf(o, "<p class=\"eyebrow\">Réseau d'acteurs</p>\n<h1>%s</h1>\n", name);
	if (actor_can_edit(r))
		html_printf(o,
		            "<div class=\"actions\"><a class=\"button small\" "
		            "href=\"/reseaux/%lld/modifier\">Modifier</a></div>\n",
		            (long long)id);
	buf_puts(o, "<dl class=\"facts\"><div><dt>Thématique</dt><dd>");
	const char *slug = json_string_value(json_object_get(j, "thematic"));
	struct db_stmt *st = NULL;
	if (slug)
		st = db_queryf(r->db, "SELECT label FROM tags WHERE plan_id IS NULL AND slug = ?",
		               "s", slug);
	if (st && db_step(st) == DB_ROW)
		html_printf(o, "<span class=\"badge\">%s</span>", db_col_text(st, 0));
	else
		buf_puts(o, "non renseignée");
	db_finalize(st);
	buf_puts(o, "</dd></div><div><dt>Structure coordinatrice</dt><dd>");
	json_t *coord = json_object_get(j, "coordinator_actor_id");
	if (json_is_integer(coord))
		html_printf(o, "<a href=\"/acteurs/%lld\">%s</a>",
		            (long long)json_integer_value(coord),
		            json_string_value(json_object_get(j, "coordinator")));
	else
		buf_puts(o, "non renseignée");
	buf_puts(o, "</dd></div></dl>\n");
	const char *desc = json_string_value(json_object_get(j, "description"));
	if (!str_blank(desc)) {
		buf_puts(o, "<section aria-labelledby=\"presentation\"><h2 id=\"presentation\">"
		            "Présentation</h2>\n");
		paragraphs(o, desc);
		buf_puts(o, "</section>\n");
	}
	json_t *members = json_object_get(j, "members");
	html_printf(o,
	            "<section aria-labelledby=\"membres\"><h2 id=\"membres\">Membres (%zu)</h2>\n",
	            json_array_size(members));
	if (json_array_size(members)) {
		buf_puts(o, "<ul>\n");
		size_t i;
		json_t *m;
		json_array_foreach(members, i, m)
		    html_printf(o, "<li><a href=\"/acteurs/%lld\">%s</a></li>\n",
		                (long long)json_integer_value(json_object_get(m, "id")),
		                json_string_value(json_object_get(m, "name")));
		buf_puts(o, "</ul>\n");
	} else {
		buf_puts(o, "<p>Aucun membre pour l'instant.</p>\n");
	}
	buf_puts(o, "</section>\n");
	json_decref(j);
	page_end(r);
}

/* The fields of the network form, as typed. */
enum { NF_NAME, NF_THEME, NF_COORD, NF_DESC, NF_MEMBERS, NF_N };
static const char *const nf_keys[NF_N] = {"nom", "thematique", "coordinateur", "description",
                                          "membres"};

static void network_form(struct req *r, const char *action, const char *title, char *const *v,
                         const char *error)
{
	struct buf *o = &r->out;
	page_begin(
	    r, title,
	    (const struct crumb[]){{"Acteurs", "/acteurs"}, {"Réseaux", "/reseaux"}, {NULL, NULL}});
	html_printf(o, "<h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	html_printf(o, "<form method=\"post\" action=\"%s\" class=\"form\">\n", action);
	page_csrf(r);
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"n-nom\">Nom du réseau</label>"
	    "<input id=\"n-nom\" name=\"nom\" required maxlength=\"200\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"n-theme\">Thématique</label>"
	    "<select id=\"n-theme\" name=\"thematique\"><option value=\"\">Aucune</option>",
	    v[NF_NAME]);
	struct db_stmt *st = db_prepare(r->db, "SELECT slug, label FROM tags WHERE plan_id IS NULL "
	                                       "AND kind = 'thematique' ORDER BY id");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", db_col_text(st, 0),
		            v[NF_THEME] && !strcmp(v[NF_THEME], db_col_text(st, 0)) ? " selected"
		                                                                    : "",
		            db_col_text(st, 1));
	db_finalize(st);
	html_printf(o,
	            "</select></div>\n"
	            "<div class=\"field\"><label for=\"n-coord\">Structure coordinatrice</label>"
	            "<input id=\"n-coord\" name=\"coordinateur\" maxlength=\"200\" value=\"%s\" "
	            "list=\"n-actors\" aria-describedby=\"n-coord-hint\"><p class=\"hint\" "
	            "id=\"n-coord-hint\">Le nom d'une structure de l'annuaire.</p></div>\n"
	            "<div class=\"field\"><label for=\"n-desc\">Présentation</label>"
	            "<textarea id=\"n-desc\" name=\"description\" rows=\"5\" maxlength=\"5000\">%s"
	            "</textarea></div>\n"
	            "<div class=\"field\"><label for=\"n-membres\">Membres</label>"
	            "<textarea id=\"n-membres\" name=\"membres\" rows=\"8\" "
	            "aria-describedby=\"n-membres-hint\">%s</textarea><p class=\"hint\" "
	            "id=\"n-membres-hint\">Les noms des structures de l'annuaire, un par ligne."
	            "</p></div>\n<datalist id=\"n-actors\">",
	            v[NF_COORD], v[NF_DESC], v[NF_MEMBERS]);
	st = db_prepare(r->db, "SELECT name FROM actors ORDER BY search_name LIMIT 2000");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%s\"></option>", db_col_text(st, 0));
	db_finalize(st);
	buf_puts(o, "</datalist>\n<div class=\"actions\"><button type=\"submit\" class=\"button\">"
	            "Enregistrer</button> <a href=\"/reseaux\">Annuler</a></div>\n</form>\n");
	page_end(r);
}

/* GET/POST /reseaux/nouveau and /reseaux/{network}/modifier. */
static void network_edit(struct req *r)
{
	if (!actor_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs gèrent les réseaux.");
		return;
	}
	int64_t id = 0;
	if (r->nparams > 0) {
		if (req_param_id(r, 0, &id))
			return;
		int64_t one;
		if (db_int64f(r->db, &one, "SELECT 1 FROM networks WHERE id = ?", "I", id) !=
		    DB_OK) {
			resp_error(r, 404, "Ce réseau n'existe pas.");
			return;
		}
	}
	char action[64];
	if (id)
		snprintf(action, sizeof action, "/reseaux/%lld/modifier", (long long)id);
	else
		snprintf(action, sizeof action, "/reseaux/nouveau");
	const char *title = id ? "Modifier le réseau" : "Nouveau réseau";
	char *v[NF_N] = {0};
	if (r->method == M_GET) {
		json_t *j = id ? network_json(r->db, id) : NULL;
		if (j) {
			const char *keys[] = {"name", "thematic", "coordinator", "description"};
			for (int i = 0; i < 4; i++) {
				const char *s = json_string_value(json_object_get(j, keys[i]));
				v[i] = s ? xstrdup(s) : NULL;
			}
			struct buf b = {0};
			size_t i;
			json_t *m;
			json_array_foreach(json_object_get(j, "members"), i, m)
			{
				buf_puts(&b, json_string_value(json_object_get(m, "name")));
				buf_putc(&b, '\n');
			}
			v[NF_MEMBERS] = buf_steal(&b);
			json_decref(j);
		}
		network_form(r, action, title, v, NULL);
		for (int i = 0; i < NF_N; i++)
			free(v[i]);
		return;
	}
	for (int i = 0; i < NF_N; i++) {
		const char *s = req_form(r, nf_keys[i]);
		v[i] = str_blank(s)
		           ? NULL
		           : (i == NF_MEMBERS || i == NF_DESC ? xstrdup(s) : str_trim_dup(s));
	}
	char *err = NULL;
	int64_t tag = 0, coord = 0, other = 0;
	int64_t *members = NULL;
	size_t nmembers = 0;
	if (!v[NF_NAME])
		err = xstrdup("Le nom du réseau est obligatoire.");
	else if (text_chars(v[NF_NAME]) > NETWORK_NAME_MAX)
		err = xstrdup("Le nom du réseau est limité à 200 caractères.");
	else if (db_int64f(r->db, &other, "SELECT id FROM networks WHERE name = ? AND id <> ?",
	                   "sI", v[NF_NAME], id) == DB_OK)
		err = xasprintf("Un réseau nommé « %s » existe déjà.", v[NF_NAME]);
	else if (v[NF_THEME] &&
	         db_int64f(r->db, &tag,
	                   "SELECT id FROM tags WHERE plan_id IS NULL AND kind = 'thematique' AND "
	                   "slug = ?",
	                   "s", v[NF_THEME]) != DB_OK)
		err = xstrdup("Cette thématique n'existe pas : choisissez-en une dans la liste.");
	else if (v[NF_DESC] && text_chars(v[NF_DESC]) > NETWORK_DESC_MAX)
		err = xstrdup("La présentation est limitée à 5000 caractères.");
	if (!err && v[NF_COORD]) {
		int rc = actor_by_name(r->db, v[NF_COORD], &coord);
		if (rc)
			err = xasprintf(rc == 1 ? "Structure coordinatrice : « %s » n'est pas dans "
			                          "l'annuaire."
			                        : "Structure coordinatrice : plusieurs structures "
			                          "s'appellent « %s » ; donnez le nom exact.",
			                v[NF_COORD]);
	}
	if (!err && v[NF_MEMBERS]) {
		char *copy = xstrdup(v[NF_MEMBERS]);
		int line = 0;
		for (char *l = copy, *next; l && !err; l = next) {
			next = strchr(l, '\n');
			if (next)
				*next++ = '\0';
			line++;
			char *t = str_trim_dup(l);
			if (*t) {
				int64_t aid = 0;
				int rc = actor_by_name(r->db, t, &aid);
				if (rc)
					err = xasprintf(
					    rc == 1 ? "Membres, ligne %d : « %s » n'est pas "
					              "dans l'annuaire."
					            : "Membres, ligne %d : plusieurs structures "
					              "s'appellent « %s » ; donnez le nom exact.",
					    line, t);
				int dup = 0;
				for (size_t i = 0; i < nmembers; i++)
					dup |= members[i] == aid;
				if (!rc && !dup) {
					if (nmembers >= NETWORK_MEMBERS_MAX)
						err = xstrdup(
						    "Un réseau compte 500 membres au plus.");
					members =
					    xrealloc(members, (nmembers + 1) * sizeof *members);
					members[nmembers++] = aid;
				}
			}
			free(t);
		}
		free(copy);
	}
	if (!err) {
		char now[32];
		time_iso_now(now);
		json_t *before = id ? network_json(r->db, id) : NULL;
		int rc = db_begin(r->db);
		const char *desc = v[NF_DESC] ? v[NF_DESC] : "";
		if (rc == DB_OK && id) {
			struct db_stmt *st =
			    db_queryf(r->db,
			              "UPDATE networks SET name = ?, thematic_tag_id = ?, "
			              "coordinator_actor_id = ?, "
			              "description = ?, updated_at = ? WHERE id = ?",
			              "s", v[NF_NAME]);
			if (st) {
				if (tag)
					db_bind_int64(st, 2, tag);
				else
					db_bind_null(st, 2);
				if (coord)
					db_bind_int64(st, 3, coord);
				else
					db_bind_null(st, 3);
				db_bind_text(st, 4, desc);
				db_bind_text(st, 5, now);
				db_bind_int64(st, 6, id);
				rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
				db_finalize(st);
			} else {
				rc = DB_ERROR;
			}
		} else if (rc == DB_OK) {
			struct db_stmt *st = db_queryf(
			    r->db,
			    "INSERT INTO networks (name, thematic_tag_id, coordinator_actor_id, "
			    "description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
			    "RETURNING id",
			    "s", v[NF_NAME]);
			if (st) {
				if (tag)
					db_bind_int64(st, 2, tag);
				else
					db_bind_null(st, 2);
				if (coord)
					db_bind_int64(st, 3, coord);
				else
					db_bind_null(st, 3);
				db_bind_text(st, 4, desc);
				db_bind_text(st, 5, now);
				db_bind_text(st, 6, now);
				rc = db_step(st) == DB_ROW ? DB_OK : DB_ERROR;
				if (rc == DB_OK)
					id = db_col_int64(st, 0);
				db_finalize(st);
			} else {
				rc = DB_ERROR;
			}
		}
		if (rc == DB_OK)
			rc = db_execf(r->db, "DELETE FROM network_members WHERE network_id = ?",
			              "I", id);
		for (size_t i = 0; rc == DB_OK && i < nmembers; i++)
			rc = db_execf(
			    r->db,
			    "INSERT INTO network_members (network_id, actor_id) VALUES (?, ?)",
			    "II", id, members[i]);
		if (rc == DB_OK) {
			json_t *after = network_json(r->db, id);
			rc = audit_write_id(r->db, r->user->id, "web", before ? "update" : "create",
			                    "network", id, before, after);
			json_decref(after);
		}
		if (rc == DB_OK)
			rc = db_commit(r->db);
		else
			db_rollback(r->db);
		json_decref(before);
		if (rc != DB_OK)
			err = xstrdup("Enregistrement impossible ; réessayez.");
	}
	if (err) {
		network_form(r, action, title, v, err);
		r->status = 422;
		free(err);
	} else {
		char *loc = xasprintf("/reseaux/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(members);
	for (int i = 0; i < NF_N; i++)
		free(v[i]);
}

void actor_networks_section(struct req *r, int64_t actor_id)
{
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT n.id, n.name, n.coordinator_actor_id = ? FROM "
	              "networks n WHERE n.coordinator_actor_id = ? OR n.id IN "
	              "(SELECT network_id FROM network_members WHERE actor_id = ?) "
	              "ORDER BY n.name",
	              "III", actor_id, actor_id, actor_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(&r->out, "<section aria-labelledby=\"reseaux\"><h2 id=\"reseaux\">"
			                  "Réseaux</h2>\n<ul>\n");
		html_printf(&r->out, "<li><a href=\"/reseaux/%lld\">%s</a>%R</li>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            db_col_int64(st, 2) ? " <span class=\"badge\">coordinatrice</span>"
		                                : "");
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</ul></section>\n");
}

const struct route network_routes[] = {
    {M_GET, "/reseaux", ACC_PUBLIC, networks_page, "Les réseaux d'acteurs"},
    {M_GET | M_POST, "/reseaux/nouveau", ACC_LOGIN, network_edit,
     "Créer un réseau (administrateurs et coordinateurs)"},
    {M_GET, "/reseaux/{network}", ACC_PUBLIC, network_page,
     "Un réseau : thématique, structure coordinatrice, membres"},
    {M_GET | M_POST, "/reseaux/{network}/modifier", ACC_LOGIN, network_edit,
     "Modifier un réseau (administrateurs et coordinateurs)"},
    {0},
};
