/* needs: the observatory of needs — list, one need, record/edit, links to fiches-actions, the
 * "besoins non couverts" view, proposals from inhabitants (moderated) and CSV import. */
#include "needs.h"

#include "audit.h"
#include "csv_fr.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NEED_TITLE_MAX     300   /* characters of a title */
#define NEED_TEXT_MAX      20000 /* characters of a description or of the evidence */
#define NEED_PUBLIC_MAX    300   /* characters of the target public */
#define NEED_COMMUNES_MAX  200   /* communes of one need */
#define NEED_SEARCH_MAX    200   /* characters of a title search */
#define NEED_LIST_MAX      500   /* rows of /besoins */
#define NEED_IMPORT_MAX    2000  /* data rows of one CSV import */
#define PROPOSALS_PER_HOUR 50    /* public proposals awaiting moderation, all senders, per hour */

/* --- enumerations ------------------------------------------------------------------------ */

struct pair {
	const char *code, *label;
};

static const struct pair sources[] = {
    {"habitants", "Habitants"},       {"professionnels", "Professionnels"},
    {"statistiques", "Statistiques"}, {"enquete", "Enquête"},
    {"spiral", "Atelier SPIRAL"},
};
static const struct pair statuses[] = {
    {"identifie", "Identifié"}, {"qualifie", "Qualifié"},   {"priorise", "Priorisé"},
    {"couvert", "Couvert"},     {"abandonne", "Abandonné"},
};
static const struct pair priorities[] = {
    {"1", "Haute"},
    {"2", "Moyenne"},
    {"3", "Basse"},
};
static const struct pair moderations[] = {
    {"a_moderer", "À modérer"},
    {"publie", "Publié"},
    {"rejete", "Rejeté"},
};

#define NPAIRS(a) (sizeof(a) / sizeof *(a))

static const char *pair_label(const struct pair *p, size_t n, const char *code)
{
	for (size_t i = 0; code && i < n; i++)
		if (!strcmp(p[i].code, code))
			return p[i].label;
	return NULL;
}

static const char *priority_label(int64_t p)
{
	return p == 1 ? "Haute" : p == 3 ? "Basse" : "Moyenne";
}

/* --- small helpers ----------------------------------------------------------------------- */

/* Global roles: coordinators and administrators moderate; pilots and above record needs. */
static int can_moderate(struct req *r)
{
	return r->user && r->user->role >= ROLE_COORDINATOR;
}

static int can_record(struct req *r)
{
	return r->user && r->user->role >= ROLE_PILOT;
}

static int insee_code_valid(const char *s)
{
	if (strlen(s) != 5)
		return 0;
	for (int i = 0; i < 5; i++) {
		int digit = s[i] >= '0' && s[i] <= '9';
		int corsica = i == 1 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
		if (!digit && !corsica)
			return 0;
	}
	return 1;
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static json_t *json_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

/* --- a need as entered ------------------------------------------------------------------- */

/* The fields of a need as typed (trimmed copies, never NULL) and their parsed values. */
struct need_in {
	char *title, *description, *source, *theme, *public, *communes, *observed_on, *priority,
	    *status, *evidence;
	int64_t theme_id; /* 0: no thematic */
	int64_t priority_n;
	char **codes; /* the commune codes, without duplicates */
	size_t ncodes;
};

static void need_in_free(struct need_in *in)
{
	free(in->title);
	free(in->description);
	free(in->source);
	free(in->theme);
	free(in->public);
	free(in->communes);
	free(in->observed_on);
	free(in->priority);
	free(in->status);
	free(in->evidence);
	for (size_t i = 0; i < in->ncodes; i++)
		free(in->codes[i]);
	free(in->codes);
	memset(in, 0, sizeof *in);
}

static char *trim_or_empty(const char *s)
{
	return s ? str_trim_dup(s) : xstrdup("");
}

/* Read the form fields into in (zeroed here). */
static void need_in_from_form(struct req *r, struct need_in *in)
{
	memset(in, 0, sizeof *in);
	in->title = trim_or_empty(req_form(r, "title"));
	in->description = trim_or_empty(req_form(r, "description"));
	in->source = trim_or_empty(req_form(r, "source"));
	in->theme = trim_or_empty(req_form(r, "theme"));
	in->public = trim_or_empty(req_form(r, "public"));
	in->communes = trim_or_empty(req_form(r, "communes"));
	in->observed_on = trim_or_empty(req_form(r, "observed_on"));
	in->priority = trim_or_empty(req_form(r, "priority"));
	in->status = trim_or_empty(req_form(r, "status"));
	in->evidence = trim_or_empty(req_form(r, "evidence"));
}

/* The id of a CTG thematic tag by slug, 0 when there is none. */
static int64_t theme_id_of(struct db *db, const char *slug)
{
	int64_t id = 0;
	if (db_int64f(db, &id,
	              "SELECT id FROM tags WHERE plan_id IS NULL AND kind = 'thematique' "
	              "AND slug = ?",
	              "s", slug) != DB_OK)
		return 0;
	return id;
}

/*
 * Parse the commune codes of in->communes (separated by spaces, commas, semicolons or |) into
 * in->codes. NULL when they are all known, else a malloc'ed French message.
 */
static char *communes_parse(struct db *db, struct need_in *in)
{
	char *copy = xstrdup(in->communes);
	char *save = NULL, *msg = NULL;
	for (char *tok = strtok_r(copy, " \t\r\n,;|", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n,;|", &save)) {
		if (strlen(tok) == 5 && (tok[1] == 'a' || tok[1] == 'b'))
			tok[1] = (char)(tok[1] - 'a' + 'A');
		if (!insee_code_valid(tok)) {
			msg = xasprintf("« %s » n'est pas un code INSEE de commune (5 caractères, "
			                "par exemple 26108).",
			                tok);
			break;
		}
		int64_t n = 0;
		if (db_int64f(db, &n, "SELECT COUNT(*) FROM communes WHERE code = ?", "s", tok) !=
		        DB_OK ||
		    !n) {
			msg = xasprintf("La commune de code %s est inconnue.", tok);
			break;
		}
		int dup = 0;
		for (size_t i = 0; i < in->ncodes; i++)
			dup |= !strcmp(in->codes[i], tok);
		if (dup)
			continue;
		if (in->ncodes >= NEED_COMMUNES_MAX) {
			msg =
			    xasprintf("Un besoin concerne au plus %d communes.", NEED_COMMUNES_MAX);
			break;
		}
		in->codes = xrealloc(in->codes, (in->ncodes + 1) * sizeof *in->codes);
		in->codes[in->ncodes++] = xstrdup(tok);
	}
	free(copy);
	return msg;
}

/*
 * Check every field of in and fill its parsed values. NULL when valid; else a malloc'ed French
 * message, and *field names the faulty column (the CSV header name).
 */
static char *need_validate(struct db *db, struct need_in *in, const char **field)
{
	*field = "titre";
	if (str_blank(in->title))
		return xstrdup("Le titre est obligatoire.");
	if (text_chars(in->title) > NEED_TITLE_MAX)
		return xasprintf("Le titre est limité à %d caractères.", NEED_TITLE_MAX);
	*field = "description";
	if (text_chars(in->description) > NEED_TEXT_MAX)
		return xasprintf("La description est limitée à %d caractères.", NEED_TEXT_MAX);
	*field = "source";
	if (!pair_label(sources, NPAIRS(sources), in->source))
		return xstrdup("La source doit être habitants, professionnels, statistiques, "
		               "enquete ou spiral.");
	*field = "thematique";
	in->theme_id = 0;
	if (*in->theme && !(in->theme_id = theme_id_of(db, in->theme)))
		return xstrdup("Cette thématique n'existe pas : choisissez l'une des sept "
		               "thématiques de la CTG (par exemple petite-enfance).");
	*field = "public";
	if (text_chars(in->public) > NEED_PUBLIC_MAX)
		return xasprintf("Le public visé est limité à %d caractères.", NEED_PUBLIC_MAX);
	*field = "communes";
	char *m = communes_parse(db, in);
	if (m)
		return m;
	*field = "date";
	if (*in->observed_on && !fiche_date_valid(in->observed_on))
		return xstrdup("La date doit être une vraie date au format AAAA-MM-JJ.");
	*field = "priorite";
	if (!*in->priority) {
		in->priority_n = 2;
	} else if (parse_int64(in->priority, &in->priority_n) || in->priority_n < 1 ||
	           in->priority_n > 3) {
		return xstrdup("La priorité doit être 1 (haute), 2 (moyenne) ou 3 (basse).");
	}
	*field = "statut";
	if (!*in->status) {
		free(in->status);
		in->status = xstrdup("identifie");
	} else if (!pair_label(statuses, NPAIRS(statuses), in->status)) {
		return xstrdup("Le statut doit être identifie, qualifie, priorise, couvert ou "
		               "abandonne.");
	}
	*field = "preuves";
	if (text_chars(in->evidence) > NEED_TEXT_MAX)
		return xasprintf("Les éléments de preuve sont limités à %d caractères.",
		                 NEED_TEXT_MAX);
	*field = NULL;
	return NULL;
}

/* --- storage ----------------------------------------------------------------------------- */

/* The need as JSON for the audit log (new reference), or NULL when it does not exist. */
static json_t *need_snapshot(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.title, n.description, n.source, t.slug, n.public, n.observed_on, n.priority, "
	    "n.status, n.evidence, n.moderation, n.recorded_by FROM needs n "
	    "LEFT JOIN tags t ON t.id = n.thematic_tag_id WHERE n.id = ?",
	    "I", id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return NULL;
	}
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(id));
	json_object_set_new(j, "title", json_text(db_col_text(st, 0)));
	json_object_set_new(j, "description", json_text(db_col_text(st, 1)));
	json_object_set_new(j, "source", json_text(db_col_text(st, 2)));
	json_object_set_new(j, "thematic", json_text(db_col_text(st, 3)));
	json_object_set_new(j, "public", json_text(db_col_text(st, 4)));
	json_object_set_new(j, "observed_on", json_text(db_col_text(st, 5)));
	json_object_set_new(j, "priority", json_integer(db_col_int64(st, 6)));
	json_object_set_new(j, "status", json_text(db_col_text(st, 7)));
	json_object_set_new(j, "evidence", json_text(db_col_text(st, 8)));
	json_object_set_new(j, "moderation", json_text(db_col_text(st, 9)));
	json_object_set_new(j, "recorded_by",
	                    db_col_is_null(st, 10) ? json_null()
	                                           : json_integer(db_col_int64(st, 10)));
	db_finalize(st);
	json_t *communes = json_array();
	st = db_queryf(db, "SELECT commune FROM need_communes WHERE need_id = ? ORDER BY commune",
	               "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(communes, json_text(db_col_text(st, 0)));
	db_finalize(st);
	json_object_set_new(j, "communes", communes);
	json_t *fiches = json_array();
	st = db_queryf(db, "SELECT node_id FROM need_fiches WHERE need_id = ? ORDER BY node_id",
	               "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(fiches, json_integer(db_col_int64(st, 0)));
	db_finalize(st);
	json_object_set_new(j, "fiches", fiches);
	return j;
}

/*
 * Insert (id 0) or update need id from a validated in, replace its communes, audit. Runs in
 * the caller's transaction. moderation is used on insert only. Returns DB_OK and sets *out_id.
 */
static int need_store(struct db *db, int64_t user_id, int64_t id, const struct need_in *in,
                      const char *moderation, int64_t *out_id)
{
	char now[32];
	time_iso_now(now);
	char *key = text_fold(in->title);
	json_t *before = id ? need_snapshot(db, id) : NULL;
	int rc = DB_ERROR;
	struct db_stmt *st;
	if (id) {
		st = db_prepare(db,
		                "UPDATE needs SET title = ?, description = ?, source = ?, "
		                "thematic_tag_id = ?, public = ?, observed_on = ?, priority = ?, "
		                "status = ?, evidence = ?, search_title = ?, updated_at = ? "
		                "WHERE id = ?");
	} else {
		st = db_prepare(db,
		                "INSERT INTO needs (title, description, source, thematic_tag_id, "
		                "public, observed_on, priority, status, evidence, search_title, "
		                "updated_at, recorded_by, moderation, created_at) "
		                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
	}
	if (!st)
		goto out;
	db_bind_text(st, 1, in->title);
	db_bind_text(st, 2, in->description);
	db_bind_text(st, 3, in->source);
	if (in->theme_id)
		db_bind_int64(st, 4, in->theme_id);
	else
		db_bind_null(st, 4);
	db_bind_text(st, 5, in->public);
	db_bind_text(st, 6, *in->observed_on ? in->observed_on : NULL);
	db_bind_int64(st, 7, in->priority_n);
	db_bind_text(st, 8, in->status);
	db_bind_text(st, 9, in->evidence);
	db_bind_text(st, 10, key);
	db_bind_text(st, 11, now);
	if (id) {
		db_bind_int64(st, 12, id);
	} else {
		if (user_id)
			db_bind_int64(st, 12, user_id);
		else
			db_bind_null(st, 12);
		db_bind_text(st, 13, moderation);
		db_bind_text(st, 14, now);
	}
	rc = db_step(st);
	if (!id && rc == DB_ROW) {
		id = db_col_int64(st, 0);
		rc = db_step(st);
	}
	db_finalize(st);
	if (rc != DB_DONE)
		goto out;
	rc = db_execf(db, "DELETE FROM need_communes WHERE need_id = ?", "I", id);
	for (size_t i = 0; rc == DB_OK && i < in->ncodes; i++)
		rc = db_execf(db, "INSERT INTO need_communes (need_id, commune) VALUES (?, ?)",
		              "Is", id, in->codes[i]);
	if (rc != DB_OK)
		goto out;
	json_t *after = need_snapshot(db, id);
	rc = audit_write_id(db, user_id, "web", before ? "update" : "create", "need", id, before,
	                    after);
	json_decref(after);
	*out_id = id;
out:
	json_decref(before);
	free(key);
	return rc == DB_DONE ? DB_OK : rc;
}

/* need_store in its own transaction. */
static int need_store_tx(struct db *db, int64_t user_id, int64_t id, const struct need_in *in,
                         const char *moderation, int64_t *out_id)
{
	if (db_begin(db) != DB_OK)
		return DB_ERROR;
	int rc = need_store(db, user_id, id, in, moderation, out_id);
	if (rc != DB_OK) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

/* A need row as shown on its page; strings owned. */
struct need {
	int64_t id, priority, recorded_by;
	char *title, *description, *source, *theme_slug, *theme_label, *public, *observed_on,
	    *status, *evidence, *moderation, *recorder, *created_at, *updated_at;
};

static void need_free(struct need *n)
{
	free(n->title);
	free(n->description);
	free(n->source);
	free(n->theme_slug);
	free(n->theme_label);
	free(n->public);
	free(n->observed_on);
	free(n->status);
	free(n->evidence);
	free(n->moderation);
	free(n->recorder);
	free(n->created_at);
	free(n->updated_at);
	memset(n, 0, sizeof *n);
}

/* Load need id when the request may see it (published, or the request moderates).
 * 1 found, 0 missing or invisible, -1 error. Free n with need_free() in every case. */
static int need_load(struct req *r, int64_t id, struct need *n)
{
	memset(n, 0, sizeof *n);
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT n.id, n.title, n.description, n.source, t.slug, t.label, n.public, "
	              "n.observed_on, n.priority, n.status, n.evidence, n.moderation, u.name, "
	              "n.created_at, n.updated_at FROM needs n "
	              "LEFT JOIN tags t ON t.id = n.thematic_tag_id "
	              "LEFT JOIN users u ON u.id = n.recorded_by WHERE n.id = ?",
	              "I", id);
	if (!st)
		return -1;
	int rc = db_step(st);
	if (rc != DB_ROW) {
		db_finalize(st);
		return rc == DB_DONE ? 0 : -1;
	}
	n->id = db_col_int64(st, 0);
	n->title = dup_or_empty(db_col_text(st, 1));
	n->description = dup_or_empty(db_col_text(st, 2));
	n->source = dup_or_empty(db_col_text(st, 3));
	n->theme_slug = dup_or_empty(db_col_text(st, 4));
	n->theme_label = db_col_text(st, 5) ? xstrdup(db_col_text(st, 5)) : NULL;
	n->public = dup_or_empty(db_col_text(st, 6));
	n->observed_on = dup_or_empty(db_col_text(st, 7));
	n->priority = db_col_int64(st, 8);
	n->status = dup_or_empty(db_col_text(st, 9));
	n->evidence = dup_or_empty(db_col_text(st, 10));
	n->moderation = dup_or_empty(db_col_text(st, 11));
	n->recorder = db_col_text(st, 12) ? xstrdup(db_col_text(st, 12)) : NULL;
	n->created_at = dup_or_empty(db_col_text(st, 13));
	n->updated_at = dup_or_empty(db_col_text(st, 14));
	db_finalize(st);
	if (strcmp(n->moderation, "publie") != 0 && !can_moderate(r))
		return 0;
	return 1;
}

/* The need of route capture 0, visible to the request; answers 404/500 itself and returns -1. */
static int need_require(struct req *r, struct need *n)
{
	int64_t id;
	memset(n, 0, sizeof *n);
	if (req_param_id(r, 0, &id))
		return -1;
	int rc = need_load(r, id, n);
	if (rc == 1)
		return 0;
	need_free(n);
	resp_error(r, rc < 0 ? 500 : 404,
	           rc < 0 ? "Erreur de base de données." : "Ce besoin n'existe pas.");
	return -1;
}

/* --- form -------------------------------------------------------------------------------- */

static void select_pairs(struct buf *o, const struct pair *p, size_t n, const char *current)
{
	for (size_t i = 0; i < n; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", p[i].code,
		            current && !strcmp(current, p[i].code) ? " selected" : "", p[i].label);
}

/* Options of the seven CTG thematics (slug as value). */
static void select_themes(struct req *r, const char *current)
{
	struct db_stmt *st = db_prepare(r->db, "SELECT slug, label FROM tags WHERE plan_id IS NULL "
	                                       "AND kind = 'thematique' ORDER BY id");
	while (st && db_step(st) == DB_ROW)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", db_col_text(st, 0),
		            current && !strcmp(current, db_col_text(st, 0)) ? " selected" : "",
		            db_col_text(st, 1));
	db_finalize(st);
}

/* The record/edit form; id 0 for a new need. error (plain text) may be NULL. */
static void need_form(struct req *r, int64_t id, const struct need_in *in, const char *error)
{
	struct buf action = {0};
	if (id)
		buf_printf(&action, "/besoins/%lld/modifier", (long long)id);
	else
		buf_puts(&action, "/besoins/nouveau");
	const char *title = id ? "Modifier le besoin" : "Enregistrer un besoin";
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, title, crumbs);
	struct buf *o = &r->out;
	html_printf(o, "<h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	html_printf(o, "<form method=\"post\" action=\"%s\" class=\"form\">\n", buf_str(&action));
	page_csrf(r);
	html_printf(o,
	            "<div class=\"field\"><label for=\"n-title\">Titre (obligatoire)</label>"
	            "<input id=\"n-title\" name=\"title\" required maxlength=\"300\" value=\"%s\">"
	            "</div>\n"
	            "<div class=\"field\"><label for=\"n-description\">Description</label>"
	            "<textarea id=\"n-description\" name=\"description\" rows=\"6\" "
	            "aria-describedby=\"n-description-hint\">%s</textarea>"
	            "<p class=\"hint\" id=\"n-description-hint\">Markdown accepté.</p></div>\n"
	            "<div class=\"field\"><label for=\"n-source\">Source</label>"
	            "<select id=\"n-source\" name=\"source\" required>"
	            "<option value=\"\">— choisir —</option>",
	            in ? in->title : "", in ? in->description : "");
	select_pairs(o, sources, NPAIRS(sources), in ? in->source : NULL);
	buf_puts(o,
	         "</select></div>\n<div class=\"field\"><label for=\"n-theme\">Thématique</label>"
	         "<select id=\"n-theme\" name=\"theme\"><option value=\"\">Sans thématique"
	         "</option>");
	select_themes(r, in ? in->theme : NULL);
	html_printf(o,
	            "</select></div>\n"
	            "<div class=\"field\"><label for=\"n-public\">Public visé</label>"
	            "<input id=\"n-public\" name=\"public\" maxlength=\"300\" value=\"%s\"></div>\n"
	            "<div class=\"field\"><label for=\"n-communes\">Communes concernées</label>"
	            "<input id=\"n-communes\" name=\"communes\" value=\"%s\" "
	            "aria-describedby=\"n-communes-hint\"><p class=\"hint\" "
	            "id=\"n-communes-hint\">Codes INSEE séparés par des espaces ou des virgules "
	            "(par exemple 26108 26333).</p></div>\n"
	            "<div class=\"field\"><label for=\"n-date\">Date d'observation</label>"
	            "<input id=\"n-date\" name=\"observed_on\" type=\"date\" value=\"%s\"></div>\n"
	            "<div class=\"field\"><label for=\"n-priority\">Priorité</label>"
	            "<select id=\"n-priority\" name=\"priority\">",
	            in ? in->public : "", in ? in->communes : "", in ? in->observed_on : "");
	select_pairs(o, priorities, NPAIRS(priorities), in && *in->priority ? in->priority : "2");
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"n-status\">Statut</label>"
	            "<select id=\"n-status\" name=\"status\">");
	select_pairs(o, statuses, NPAIRS(statuses), in && *in->status ? in->status : "identifie");
	html_printf(o,
	            "</select></div>\n"
	            "<div class=\"field\"><label for=\"n-evidence\">Éléments de preuve (liens, "
	            "chiffres)</label><textarea id=\"n-evidence\" name=\"evidence\" rows=\"4\" "
	            "aria-describedby=\"n-evidence-hint\">%s</textarea><p class=\"hint\" "
	            "id=\"n-evidence-hint\">Markdown accepté.</p></div>\n"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer"
	            "</button> <a href=\"%s\">Annuler</a></div>\n</form>\n",
	            in ? in->evidence : "", id ? buf_str(&action) : "/besoins");
	buf_free(&action);
	page_end(r);
}

/* Fill in from a stored need (for the edit form). */
static void need_in_from_need(struct db *db, const struct need *n, struct need_in *in)
{
	memset(in, 0, sizeof *in);
	in->title = xstrdup(n->title);
	in->description = xstrdup(n->description);
	in->source = xstrdup(n->source);
	in->theme = xstrdup(n->theme_slug);
	in->public = xstrdup(n->public);
	struct buf c = {0};
	struct db_stmt *st = db_queryf(
	    db, "SELECT commune FROM need_communes WHERE need_id = ? ORDER BY commune", "I", n->id);
	while (st && db_step(st) == DB_ROW) {
		if (c.len)
			buf_putc(&c, ' ');
		buf_puts(&c, db_col_text(st, 0));
	}
	db_finalize(st);
	in->communes = c.len ? buf_steal(&c) : xstrdup("");
	buf_free(&c);
	in->observed_on = xstrdup(n->observed_on);
	in->priority = xasprintf("%lld", (long long)n->priority);
	in->status = xstrdup(n->status);
	in->evidence = xstrdup(n->evidence);
}

static void new_get(struct req *r)
{
	if (!can_record(r)) {
		resp_error(r, 403,
		           "Seuls les pilotes, la coordination et l'administration "
		           "enregistrent des besoins.");
		return;
	}
	need_form(r, 0, NULL, NULL);
}

static void new_post(struct req *r)
{
	if (!can_record(r)) {
		resp_error(r, 403,
		           "Seuls les pilotes, la coordination et l'administration "
		           "enregistrent des besoins.");
		return;
	}
	struct need_in in;
	need_in_from_form(r, &in);
	const char *field;
	char *msg = need_validate(r->db, &in, &field);
	int64_t id = 0;
	if (!msg && need_store_tx(r->db, r->user->id, 0, &in, "publie", &id) != DB_OK)
		msg = xstrdup("L'enregistrement a échoué, réessayez.");
	if (msg) {
		need_form(r, 0, &in, msg);
		r->status = 422;
	} else {
		char *loc = xasprintf("/besoins/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(msg);
	need_in_free(&in);
}

static void edit_get(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	if (!can_record(r)) {
		resp_error(r, 403,
		           "Seuls les pilotes, la coordination et l'administration "
		           "modifient les besoins.");
	} else {
		struct need_in in;
		need_in_from_need(r->db, &n, &in);
		need_form(r, n.id, &in, NULL);
		need_in_free(&in);
	}
	need_free(&n);
}

static void edit_post(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	if (!can_record(r)) {
		resp_error(r, 403,
		           "Seuls les pilotes, la coordination et l'administration "
		           "modifient les besoins.");
		need_free(&n);
		return;
	}
	struct need_in in;
	need_in_from_form(r, &in);
	const char *field;
	char *msg = need_validate(r->db, &in, &field);
	int64_t id = n.id;
	if (!msg && need_store_tx(r->db, r->user->id, n.id, &in, NULL, &id) != DB_OK)
		msg = xstrdup("L'enregistrement a échoué, réessayez.");
	if (msg) {
		need_form(r, n.id, &in, msg);
		r->status = 422;
	} else {
		char *loc = xasprintf("/besoins/%lld?ok=modifie", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(msg);
	need_in_free(&in);
	need_free(&n);
}

/* --- list -------------------------------------------------------------------------------- */

struct need_filter {
	char *q, *theme, *source, *status, *priority, *commune, *epci, *q_pattern;
};

static void filter_free(struct need_filter *f)
{
	free(f->q);
	free(f->theme);
	free(f->source);
	free(f->status);
	free(f->priority);
	free(f->commune);
	free(f->epci);
	free(f->q_pattern);
	memset(f, 0, sizeof *f);
}

static char *query_trimmed(struct req *r, const char *key)
{
	const char *v = req_query(r, key);
	return str_blank(v) ? NULL : str_trim_dup(v);
}

/* Read the filters; NULL when acceptable, else a French message (static). */
static const char *filter_parse(struct req *r, struct need_filter *f)
{
	memset(f, 0, sizeof *f);
	f->q = query_trimmed(r, "q");
	f->theme = query_trimmed(r, "theme");
	f->source = query_trimmed(r, "source");
	f->status = query_trimmed(r, "status");
	f->priority = query_trimmed(r, "priority");
	f->commune = query_trimmed(r, "commune");
	f->epci = query_trimmed(r, "epci");
	if (f->q && text_chars(f->q) > NEED_SEARCH_MAX)
		return "La recherche est limitée à 200 caractères.";
	if (f->theme && !theme_id_of(r->db, f->theme))
		return "Cette thématique n'existe pas.";
	if (f->source && !pair_label(sources, NPAIRS(sources), f->source))
		return "Cette source n'existe pas.";
	if (f->status && !pair_label(statuses, NPAIRS(statuses), f->status))
		return "Ce statut n'existe pas.";
	if (f->priority && !pair_label(priorities, NPAIRS(priorities), f->priority))
		return "La priorité doit être 1, 2 ou 3.";
	if (f->commune && !insee_code_valid(f->commune))
		return "Le code de commune doit être un code INSEE de 5 caractères.";
	if (f->epci && (strlen(f->epci) != 9 || strspn(f->epci, "0123456789") != 9))
		return "Le code de l'intercommunalité doit être un numéro SIREN de 9 chiffres.";
	if (f->q) {
		char *key = text_fold(f->q);
		f->q_pattern = text_like_pattern("%", key, "%");
		free(key);
	}
	return NULL;
}

static void filter_form(struct req *r, const struct need_filter *f)
{
	struct buf *o = &r->out;
	html_printf(o,
	            "<form method=\"get\" action=\"/besoins\" class=\"form filters\" "
	            "role=\"search\" aria-label=\"Filtrer les besoins\">\n"
	            "<div class=\"field\"><label for=\"f-q\">Titre contient</label>"
	            "<input id=\"f-q\" name=\"q\" type=\"search\" maxlength=\"200\" value=\"%s\">"
	            "</div>\n<div class=\"field\"><label for=\"f-theme\">Thématique</label>"
	            "<select id=\"f-theme\" name=\"theme\"><option value=\"\">Toutes</option>",
	            f->q);
	select_themes(r, f->theme);
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"f-source\">Source</label>"
	            "<select id=\"f-source\" name=\"source\"><option value=\"\">Toutes</option>");
	select_pairs(o, sources, NPAIRS(sources), f->source);
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"f-status\">Statut</label>"
	            "<select id=\"f-status\" name=\"status\"><option value=\"\">Tous</option>");
	select_pairs(o, statuses, NPAIRS(statuses), f->status);
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"f-priority\">Priorité"
	            "</label><select id=\"f-priority\" name=\"priority\"><option value=\"\">"
	            "Toutes</option>");
	select_pairs(o, priorities, NPAIRS(priorities), f->priority);
	html_printf(o,
	            "</select></div>\n<div class=\"field\"><label for=\"f-commune\">Commune (code "
	            "INSEE)</label><input id=\"f-commune\" name=\"commune\" maxlength=\"5\" "
	            "value=\"%s\"></div>\n<div class=\"field\"><label for=\"f-epci\">"
	            "Intercommunalité</label><select id=\"f-epci\" name=\"epci\">"
	            "<option value=\"\">Toutes</option>",
	            f->commune);
	/* The EPCIs where some need has a commune. */
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT DISTINCT e.code, e.name, e.search_name FROM need_communes nc "
	                      "JOIN communes c ON c.code = nc.commune "
	                      "JOIN epcis e ON e.code = c.epci ORDER BY e.search_name, e.code");
	int found = 0;
	while (st && db_step(st) == DB_ROW) {
		int selected = f->epci && !strcmp(f->epci, db_col_text(st, 0));
		found |= selected;
		html_printf(o, "<option value=\"%s\"%R>%s</option>", db_col_text(st, 0),
		            selected ? " selected" : "", db_col_text(st, 1));
	}
	db_finalize(st);
	if (f->epci && !found)
		html_printf(o, "<option value=\"%s\" selected>%s</option>", f->epci, f->epci);
	buf_puts(o, "</select></div>\n<div class=\"actions\"><button type=\"submit\" "
	            "class=\"button\">Filtrer</button> <a href=\"/besoins\">Tout afficher</a>"
	            "</div>\n</form>\n");
}

static void list_page(struct req *r)
{
	struct need_filter f;
	const char *problem = filter_parse(r, &f);
	page_begin(r, "Observatoire des besoins", NULL);
	struct buf *o = &r->out;
	buf_puts(o, "<h1>Observatoire des besoins</h1>\n<p class=\"lead\">Les besoins repérés sur "
	            "le territoire — par les habitants, les professionnels, les statistiques, les "
	            "enquêtes et les ateliers SPIRAL — et les fiches-actions qui y répondent.</p>\n"
	            "<p class=\"actions\"><a class=\"button small\" href=\"/besoins/non-couverts\">"
	            "Besoins non couverts</a> <a class=\"button small\" "
	            "href=\"/public/besoins/proposer\">Proposer un besoin</a>");
	if (can_record(r))
		buf_puts(o, " <a class=\"button small\" href=\"/besoins/nouveau\">Enregistrer un "
		            "besoin</a>");
	if (can_moderate(r))
		buf_puts(
		    o, " <a class=\"button small\" href=\"/besoins/moderation\">Modération</a>"
		       " <a class=\"button small\" href=\"/besoins/importer\">Importer (CSV)</a>");
	buf_puts(o, "</p>\n");
	filter_form(r, &f);
	if (problem) {
		page_notice(r, "error", problem);
		page_end(r);
		r->status = 400;
		filter_free(&f);
		return;
	}
	struct buf sql = {0};
	buf_puts(&sql,
	         "SELECT n.id, n.title, n.source, t.label, n.priority, n.status, "
	         "n.moderation, (SELECT COUNT(*) FROM need_fiches nf WHERE nf.need_id = n.id) "
	         "FROM needs n LEFT JOIN tags t ON t.id = n.thematic_tag_id WHERE 1 = 1");
	if (!can_moderate(r))
		buf_puts(&sql, " AND n.moderation = 'publie'");
	if (f.q)
		buf_puts(&sql, " AND n.search_title LIKE ? ESCAPE '\\'");
	if (f.theme)
		buf_puts(&sql, " AND t.slug = ?");
	if (f.source)
		buf_puts(&sql, " AND n.source = ?");
	if (f.status)
		buf_puts(&sql, " AND n.status = ?");
	if (f.priority)
		buf_puts(&sql, " AND n.priority = ?");
	if (f.commune)
		buf_puts(&sql,
		         " AND EXISTS (SELECT 1 FROM need_communes nc WHERE nc.need_id = n.id "
		         "AND nc.commune = ?)");
	if (f.epci)
		buf_puts(&sql, " AND EXISTS (SELECT 1 FROM need_communes nc JOIN communes c ON "
		               "c.code = nc.commune WHERE nc.need_id = n.id AND c.epci = ?)");
	buf_puts(&sql, " ORDER BY n.priority, n.updated_at DESC, n.id DESC LIMIT ?");
	struct db_stmt *st = db_prepare(r->db, buf_str(&sql));
	buf_free(&sql);
	int i = 1;
	if (st) {
		if (f.q)
			db_bind_text(st, i++, f.q_pattern);
		if (f.theme)
			db_bind_text(st, i++, f.theme);
		if (f.source)
			db_bind_text(st, i++, f.source);
		if (f.status)
			db_bind_text(st, i++, f.status);
		if (f.priority)
			db_bind_int64(st, i++, f.priority[0] - '0');
		if (f.commune)
			db_bind_text(st, i++, f.commune);
		if (f.epci)
			db_bind_text(st, i++, f.epci);
		db_bind_int64(st, i, NEED_LIST_MAX);
	}
	int rows = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!rows++)
			buf_puts(o,
			         "<div class=\"table-wrap\"><table>\n<caption>Besoins</caption>\n"
			         "<thead><tr><th scope=\"col\">Besoin</th><th scope=\"col\">"
			         "Thématique</th><th scope=\"col\">Source</th><th scope=\"col\">"
			         "Priorité</th><th scope=\"col\">Statut</th><th scope=\"col\">"
			         "Fiches liées</th></tr></thead>\n<tbody>\n");
		const char *mod = db_col_text(st, 6);
		html_printf(o, "<tr><th scope=\"row\"><a href=\"/besoins/%lld\">%s</a>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1));
		if (mod && strcmp(mod, "publie"))
			html_printf(o, " <span class=\"badge\">%s</span>",
			            pair_label(moderations, NPAIRS(moderations), mod));
		html_printf(o,
		            "</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%lld</td></tr>\n",
		            db_col_text(st, 3) ? db_col_text(st, 3) : "—",
		            pair_label(sources, NPAIRS(sources), db_col_text(st, 2)),
		            priority_label(db_col_int64(st, 4)),
		            pair_label(statuses, NPAIRS(statuses), db_col_text(st, 5)),
		            (long long)db_col_int64(st, 7));
	}
	db_finalize(st);
	if (rows)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucun besoin ne correspond à ces critères.</p>\n");
	filter_free(&f);
	page_end(r);
}

/* --- one need ---------------------------------------------------------------------------- */

/* 1 when the request coordinates (or administers) plan_id. */
static int coordinates(struct req *r, int64_t plan_id)
{
	return plan_role(r, plan_id) >= ROLE_COORDINATOR;
}

static void need_page(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, n.title, crumbs);
	struct buf *o = &r->out;
	html_printf(o, "<h1>%s</h1>\n", n.title);
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "modifie"))
		page_notice(r, "success", "Le besoin est enregistré.");
	else if (ok && !strcmp(ok, "lie"))
		page_notice(r, "success", "La fiche-action est liée au besoin.");
	else if (ok && !strcmp(ok, "retire"))
		page_notice(r, "success", "La fiche-action n'est plus liée au besoin.");
	if (strcmp(n.moderation, "publie"))
		html_printf(o, "<p class=\"notice\">Ce besoin n'est pas public : %s.</p>\n",
		            pair_label(moderations, NPAIRS(moderations), n.moderation));
	char date[64] = "";
	if (*n.observed_on)
		fiche_date_fr(date, n.observed_on);
	html_printf(o,
	            "<dl class=\"facts\"><div><dt>Source</dt><dd>%s</dd></div>"
	            "<div><dt>Thématique</dt><dd>%s</dd></div>"
	            "<div><dt>Public visé</dt><dd>%s</dd></div>"
	            "<div><dt>Date d'observation</dt><dd>%s</dd></div>"
	            "<div><dt>Priorité</dt><dd>%s</dd></div>"
	            "<div><dt>Statut</dt><dd>%s</dd></div>",
	            pair_label(sources, NPAIRS(sources), n.source),
	            n.theme_label ? n.theme_label : "Sans thématique", *n.public ? n.public : "—",
	            *date ? date : "—", priority_label(n.priority),
	            pair_label(statuses, NPAIRS(statuses), n.status));
	if (r->user) /* who recorded it: members only, never to the public */
		html_printf(o, "<div><dt>Enregistré par</dt><dd>%s</dd></div>",
		            n.recorder ? n.recorder : "Proposition d'un habitant (anonyme)");
	buf_puts(o, "</dl>\n");
	if (can_record(r))
		html_printf(o,
		            "<p class=\"actions\"><a class=\"button small\" "
		            "href=\"/besoins/%lld/modifier\">Modifier</a></p>\n",
		            (long long)n.id);
	if (*n.description) {
		buf_puts(o, "<h2>Description</h2>\n<div class=\"prose\">");
		markdown_render(o, n.description);
		buf_puts(o, "</div>\n");
	}
	if (*n.evidence) {
		buf_puts(o, "<h2>Éléments de preuve</h2>\n<div class=\"prose\">");
		markdown_render(o, n.evidence);
		buf_puts(o, "</div>\n");
	}
	buf_puts(o, "<h2>Communes concernées</h2>\n");
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT c.code, c.name FROM need_communes nc JOIN communes c "
	              "ON c.code = nc.commune WHERE nc.need_id = ? "
	              "ORDER BY c.search_name, c.code",
	              "I", n.id);
	int rows = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!rows++)
			buf_puts(o, "<ul>");
		html_printf(o, "<li><a href=\"/communes/%u\">%s</a> (%s)</li>", db_col_text(st, 0),
		            db_col_text(st, 1), db_col_text(st, 0));
	}
	db_finalize(st);
	buf_puts(o, rows ? "</ul>\n" : "<p>Aucune commune précisée.</p>\n");

	/* Linked fiches: only those of plans the request may see. */
	buf_puts(o, "<h2>Fiches-actions qui répondent à ce besoin</h2>\n");
	st = db_prepare(
	    r->db, "SELECT nd.id, nd.number, nd.title, p.id, p.title "
	           "FROM need_fiches nf JOIN nodes nd ON nd.id = nf.node_id "
	           "JOIN plans p ON p.id = nd.plan_id WHERE nf.need_id = ? AND " PLAN_VISIBLE_WHERE
	           " ORDER BY p.title, nd.number, nd.id");
	if (st) {
		db_bind_int64(st, 1, n.id);
		plan_bind_visible(st, 2, r);
	}
	rows = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!rows++)
			buf_puts(o, "<ul>");
		int64_t fid = db_col_int64(st, 0);
		html_printf(
		    o, "<li><a href=\"/fiches/%lld\">%s %s</a> — <a href=\"/plans/%lld\">%s</a>",
		    (long long)fid, db_col_text(st, 1), db_col_text(st, 2),
		    (long long)db_col_int64(st, 3), db_col_text(st, 4));
		if (coordinates(r, db_col_int64(st, 3))) {
			html_printf(
			    o,
			    " <form method=\"post\" action=\"/besoins/%lld/fiches/%lld/retirer\" "
			    "class=\"inline\">",
			    (long long)n.id, (long long)fid);
			page_csrf(r);
			html_printf(
			    o,
			    "<button type=\"submit\" class=\"button small\">Retirer le lien"
			    "<span class=\"visually-hidden\"> avec la fiche %s</span></button>"
			    "</form>",
			    db_col_text(st, 1));
		}
		buf_puts(o, "</li>\n");
	}
	db_finalize(st);
	buf_puts(o,
	         rows ? "</ul>\n" : "<p>Aucune fiche-action ne répond encore à ce besoin.</p>\n");

	/* Linking: the fiches of the plans the account coordinates. */
	if (r->user) {
		st = db_prepare(
		    r->db,
		    "SELECT nd.id, nd.number, nd.title, p.title FROM fiches f "
		    "JOIN nodes nd ON nd.id = f.node_id JOIN plans p ON p.id = nd.plan_id "
		    "WHERE nd.archived = 0 AND (? = 1 OR EXISTS (SELECT 1 FROM plan_members m "
		    "WHERE m.plan_id = p.id AND m.user_id = ? AND m.role = 'coordinator')) "
		    "AND NOT EXISTS (SELECT 1 FROM need_fiches nf WHERE nf.need_id = ? "
		    "AND nf.node_id = nd.id) ORDER BY p.title, p.id, nd.number, nd.id");
		if (st)
			db_bindf(st, "iII", r->user->role == ROLE_ADMIN, r->user->id, n.id);
		rows = 0;
		while (st && db_step(st) == DB_ROW) {
			if (!rows++) {
				html_printf(o,
				            "<form method=\"post\" action=\"/besoins/%lld/fiches\" "
				            "class=\"form\">\n",
				            (long long)n.id);
				page_csrf(r);
				buf_puts(o,
				         "<div class=\"field\"><label for=\"l-fiche\">Lier une "
				         "fiche-action de vos plans</label><select id=\"l-fiche\" "
				         "name=\"fiche\">");
			}
			html_printf(o, "<option value=\"%lld\">%s — %s %s</option>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 3),
			            db_col_text(st, 1), db_col_text(st, 2));
		}
		db_finalize(st);
		if (rows)
			buf_puts(o,
			         "</select></div>\n<div class=\"actions\"><button type=\"submit\" "
			         "class=\"button\">Lier</button></div>\n</form>\n");
	}
	need_free(&n);
	page_end(r);
}

/* --- links to fiches --------------------------------------------------------------------- */

/* Check that the request coordinates the plan of fiche fid (404 when invisible or not a fiche,
 * 403 when visible but not coordinated). 0 when allowed. */
static int fiche_coordinated(struct req *r, int64_t fid)
{
	int64_t plan = node_plan(r->db, fid);
	if (!plan || !node_is_fiche(r->db, fid)) {
		resp_error(r, 404, "Cette fiche-action n'existe pas.");
		return -1;
	}
	return plan_require(r, plan, ROLE_COORDINATOR);
}

static void link_change(struct req *r, const struct need *n, int64_t fid, int add)
{
	if (db_begin(r->db) != DB_OK) {
		resp_error(r, 500, "Erreur de base de données.");
		return;
	}
	json_t *before = need_snapshot(r->db, n->id);
	int rc = add ? db_execf(r->db,
	                        "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?) "
	                        "ON CONFLICT DO NOTHING",
	                        "II", n->id, fid)
	             : db_execf(r->db, "DELETE FROM need_fiches WHERE need_id = ? AND node_id = ?",
	                        "II", n->id, fid);
	json_t *after = rc == DB_OK ? need_snapshot(r->db, n->id) : NULL;
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", add ? "link_fiche" : "unlink_fiche",
		                    "need", n->id, before, after);
	json_decref(before);
	json_decref(after);
	if (rc != DB_OK || db_commit(r->db) != DB_OK) {
		db_rollback(r->db);
		resp_error(r, 500, "Erreur de base de données.");
		return;
	}
	char *loc = xasprintf("/besoins/%lld?ok=%s", (long long)n->id, add ? "lie" : "retire");
	resp_redirect(r, loc);
	free(loc);
}

static void link_post(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	int64_t fid;
	const char *v = req_form(r, "fiche");
	if (!v || parse_int64(v, &fid) || fid <= 0)
		resp_error(r, 404, "Cette fiche-action n'existe pas.");
	else if (!fiche_coordinated(r, fid))
		link_change(r, &n, fid, 1);
	need_free(&n);
}

static void unlink_post(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	int64_t fid;
	if (!req_param_id(r, 1, &fid) && !fiche_coordinated(r, fid))
		link_change(r, &n, fid, 0);
	need_free(&n);
}

void needs_for_fiche_section(struct req *r, int64_t fiche_id)
{
	struct buf *o = &r->out;
	buf_puts(o, "<section aria-labelledby=\"fiche-besoins\"><h2 id=\"fiche-besoins\">Besoins "
	            "auxquels répond cette fiche</h2>\n");
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT n.id, n.title, n.status, n.priority FROM need_fiches nf "
	              "JOIN needs n ON n.id = nf.need_id WHERE nf.node_id = ? AND "
	              "n.moderation = 'publie' ORDER BY n.priority, n.title, n.id",
	              "I", fiche_id);
	int rows = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!rows++)
			buf_puts(o, "<ul>");
		html_printf(o,
		            "<li><a href=\"/besoins/%lld\">%s</a> <span class=\"badge\">%s</span> "
		            "<span class=\"badge\">Priorité %s</span></li>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            pair_label(statuses, NPAIRS(statuses), db_col_text(st, 2)),
		            priority_label(db_col_int64(st, 3)));
	}
	db_finalize(st);
	buf_puts(o, rows ? "</ul>\n"
	                 : "<p>Aucun besoin de l'observatoire n'est lié à cette fiche. "
	                   "<a href=\"/besoins\">Voir les besoins</a></p>\n");
	buf_puts(o, "</section>\n");
}

/* --- uncovered needs --------------------------------------------------------------------- */

/* Published needs still open (not covered, not abandoned) with no linked fiche. Any link
 * counts, including to a fiche of a plan the request cannot see (it is not shown). */
#define UNCOVERED_WHERE                                                                            \
	"n.moderation = 'publie' AND n.status NOT IN ('couvert', 'abandonne') AND NOT EXISTS "     \
	"(SELECT 1 FROM need_fiches nf WHERE nf.need_id = n.id)"

static void uncovered_page(struct req *r)
{
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, "Besoins non couverts", crumbs);
	struct buf *o = &r->out;
	int64_t total = 0;
	db_int64f(r->db, &total, "SELECT COUNT(*) FROM needs n WHERE " UNCOVERED_WHERE, "");
	html_printf(o,
	            "<h1>Besoins non couverts</h1>\n<p class=\"lead\">Les besoins publiés, ni "
	            "couverts ni abandonnés, auxquels aucune fiche-action ne répond encore : "
	            "<strong>%lld</strong>.</p>\n",
	            (long long)total);

	buf_puts(o, "<div class=\"table-wrap\"><table>\n<caption>Besoins non couverts par "
	            "thématique</caption>\n<thead><tr><th scope=\"col\">Thématique</th>"
	            "<th scope=\"col\">Besoins non couverts</th><th scope=\"col\">dont priorité "
	            "haute</th></tr></thead>\n<tbody>\n");
	struct db_stmt *st = db_prepare(
	    r->db,
	    "SELECT t.id, t.label, COUNT(n.id), SUM(CASE WHEN n.priority = 1 THEN 1 ELSE 0 END) "
	    "FROM needs n LEFT JOIN tags t ON t.id = n.thematic_tag_id WHERE " UNCOVERED_WHERE
	    " GROUP BY t.id, t.label ORDER BY COUNT(n.id) DESC, t.label");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<tr><th scope=\"row\">%s</th><td>%lld</td><td>%lld</td></tr>\n",
		            db_col_text(st, 1) ? db_col_text(st, 1) : "Sans thématique",
		            (long long)db_col_int64(st, 2), (long long)db_col_int64(st, 3));
	db_finalize(st);
	buf_puts(o, "</tbody></table></div>\n");

	buf_puts(o, "<div class=\"table-wrap\"><table>\n<caption>Besoins non couverts par "
	            "intercommunalité (un besoin compte dans chaque intercommunalité où il a une "
	            "commune)</caption>\n<thead><tr><th scope=\"col\">Intercommunalité</th>"
	            "<th scope=\"col\">Besoins non couverts</th></tr></thead>\n<tbody>\n");
	st = db_prepare(r->db,
	                "SELECT e.code, e.name, COUNT(DISTINCT n.id) FROM needs n "
	                "JOIN need_communes nc ON nc.need_id = n.id "
	                "JOIN communes c ON c.code = nc.commune "
	                "LEFT JOIN epcis e ON e.code = c.epci WHERE " UNCOVERED_WHERE
	                " GROUP BY e.code, e.name ORDER BY COUNT(DISTINCT n.id) DESC, e.name");
	while (st && db_step(st) == DB_ROW) {
		if (db_col_text(st, 0))
			html_printf(o,
			            "<tr><th scope=\"row\"><a href=\"/epcis/%u\">%s</a></th>"
			            "<td>%lld</td></tr>\n",
			            db_col_text(st, 0), db_col_text(st, 1),
			            (long long)db_col_int64(st, 2));
		else
			html_printf(o,
			            "<tr><th scope=\"row\">Hors intercommunalité</th><td>%lld</td>"
			            "</tr>\n",
			            (long long)db_col_int64(st, 2));
	}
	db_finalize(st);
	int64_t none = 0;
	db_int64f(r->db, &none,
	          "SELECT COUNT(*) FROM needs n WHERE " UNCOVERED_WHERE
	          " AND NOT EXISTS (SELECT 1 FROM need_communes nc WHERE nc.need_id = n.id)",
	          "");
	if (none)
		html_printf(o,
		            "<tr><th scope=\"row\">Territoire non précisé</th><td>%lld</td></tr>\n",
		            (long long)none);
	buf_puts(o, "</tbody></table></div>\n");

	buf_puts(o, "<h2>Liste des besoins non couverts</h2>\n");
	st = db_prepare(
	    r->db,
	    "SELECT n.id, n.title, t.label, n.priority, n.status, "
	    "(SELECT COUNT(*) FROM need_communes nc WHERE nc.need_id = n.id) "
	    "FROM needs n LEFT JOIN tags t ON t.id = n.thematic_tag_id WHERE " UNCOVERED_WHERE
	    " ORDER BY t.label, n.priority, n.title, n.id");
	int rows = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!rows++)
			buf_puts(o,
			         "<div class=\"table-wrap\"><table>\n<caption>Besoins sans "
			         "fiche-action</caption>\n<thead><tr><th scope=\"col\">Besoin</th>"
			         "<th scope=\"col\">Thématique</th><th scope=\"col\">Priorité</th>"
			         "<th scope=\"col\">Statut</th><th scope=\"col\">Communes</th>"
			         "</tr></thead>\n<tbody>\n");
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"/besoins/%lld\">%s</a></th><td>%s</td>"
		            "<td>%s</td><td>%s</td><td>%lld</td></tr>\n",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            db_col_text(st, 2) ? db_col_text(st, 2) : "Sans thématique",
		            priority_label(db_col_int64(st, 3)),
		            pair_label(statuses, NPAIRS(statuses), db_col_text(st, 4)),
		            (long long)db_col_int64(st, 5));
	}
	db_finalize(st);
	buf_puts(o, rows ? "</tbody></table></div>\n"
	                 : "<p>Tous les besoins publiés ont une réponse.</p>\n");
	page_end(r);
}

/* --- public proposals -------------------------------------------------------------------- */

/*
 * Replace *name (a commune name typed by an inhabitant) by the INSEE code of the one commune of
 * that name (compared through search_name = text_fold(name)). NULL on success; else a
 * malloc'ed French message (unknown name, or several communes of that name: their codes).
 */
static char *commune_by_name(struct db *db, char **name)
{
	if (text_chars(*name) > 200)
		return xstrdup("Le nom de commune est limité à 200 caractères.");
	char *key = text_fold(*name);
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT c.code, d.name FROM communes c LEFT JOIN departements "
	              "d ON d.code = c.departement WHERE c.search_name = ? "
	              "ORDER BY c.code LIMIT 6",
	              "s", key);
	free(key);
	struct buf list = {0};
	char *code = NULL;
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			code = xstrdup(db_col_text(st, 0));
		buf_printf(&list, "%s%s (%s)", n > 1 ? ", " : "", db_col_text(st, 0),
		           db_col_text(st, 1) ? db_col_text(st, 1) : "?");
	}
	db_finalize(st);
	char *msg = NULL;
	if (!n) {
		msg = xasprintf(
		    "Nous ne connaissons pas la commune « %s » : vérifiez l'orthographe ou "
		    "indiquez son code INSEE.",
		    *name);
	} else if (n > 1) {
		msg = xasprintf("Plusieurs communes portent ce nom : indiquez le code INSEE de la "
		                "vôtre (%s).",
		                buf_str(&list));
	} else {
		free(*name);
		*name = code;
		code = NULL;
	}
	free(code);
	buf_free(&list);
	return msg;
}

static void propose_form(struct req *r, const struct need_in *in, const char *error)
{
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, "Proposer un besoin", crumbs);
	struct buf *o = &r->out;
	buf_puts(o, "<h1>Proposer un besoin</h1>\n");
	const char *ok = req_query(r, "ok");
	if (!error && ok && !strcmp(ok, "1"))
		page_notice(
		    r, "success",
		    "Merci : votre proposition est transmise. Elle sera publiée après relecture "
		    "par la coordination.");
	if (error)
		page_notice(r, "error", error);
	buf_puts(o, "<p class=\"lead\">Vous habitez ou travaillez sur le territoire et vous "
	            "constatez un besoin qui n'a pas de réponse ? Décrivez-le. Votre proposition "
	            "sera relue avant d'être publiée.</p>\n<p class=\"notice\">Aucune donnée "
	            "personnelle n'est demandée : n'indiquez ni votre nom, ni vos coordonnées, ni "
	            "celles d'autres personnes. Nous ne pourrons pas vous recontacter.</p>\n"
	            "<form method=\"post\" action=\"/public/besoins/proposer\" class=\"form\">\n");
	page_csrf(r);
	html_printf(o,
	            "<div class=\"field\"><label for=\"p-title\">Le besoin en une phrase "
	            "(obligatoire)</label><input id=\"p-title\" name=\"title\" required "
	            "maxlength=\"300\" value=\"%s\"></div>\n"
	            "<div class=\"field\"><label for=\"p-description\">Description</label>"
	            "<textarea id=\"p-description\" name=\"description\" rows=\"6\" "
	            "maxlength=\"5000\">%s</textarea></div>\n"
	            "<div class=\"field\"><label for=\"p-commune\">Commune concernée</label>"
	            "<input id=\"p-commune\" name=\"communes\" maxlength=\"200\" value=\"%s\" "
	            "aria-describedby=\"p-commune-hint\"><p class=\"hint\" id=\"p-commune-hint\">"
	            "Facultatif. Son nom (par exemple Crest) ou son code INSEE (26108) ; voir la "
	            "<a href=\"/communes\">liste des communes</a>.</p></div>\n"
	            "<div class=\"field\"><label for=\"p-theme\">Thématique</label>"
	            "<select id=\"p-theme\" name=\"theme\"><option value=\"\">Je ne sais pas"
	            "</option>",
	            in ? in->title : "", in ? in->description : "", in ? in->communes : "");
	select_themes(r, in ? in->theme : NULL);
	buf_puts(o, "</select></div>\n<div class=\"actions\"><button type=\"submit\" "
	            "class=\"button\">Envoyer la proposition</button></div>\n</form>\n");
	page_end(r);
}

static void propose_get(struct req *r)
{
	propose_form(r, NULL, NULL);
}

static void propose_post(struct req *r)
{
	struct need_in in;
	memset(&in, 0, sizeof in);
	in.title = trim_or_empty(req_form(r, "title"));
	in.description = trim_or_empty(req_form(r, "description"));
	in.theme = trim_or_empty(req_form(r, "theme"));
	in.communes = trim_or_empty(req_form(r, "communes"));
	in.source = xstrdup("habitants");
	in.public = xstrdup("");
	in.observed_on = xstrdup("");
	in.priority = xstrdup("2");
	in.status = xstrdup("identifie");
	in.evidence = xstrdup("");
	const char *field;
	char *msg = NULL;
	int status = 422;
	if (text_chars(in.description) > 5000)
		msg = xstrdup("La description est limitée à 5 000 caractères.");
	else if (*in.communes && !(in.communes[0] >= '0' && in.communes[0] <= '9'))
		msg = commune_by_name(r->db, &in.communes);
	else if (strchr(in.communes, ' ') || strchr(in.communes, ','))
		msg = xstrdup("Indiquez une seule commune.");
	if (!msg)
		msg = need_validate(r->db, &in, &field);
	if (!msg) {
		/* Rate limit without storing anything about the sender: at most PROPOSALS_PER_HOUR
		 * proposals awaiting moderation created in the last hour, all senders together. */
		char since[32];
		time_iso_from_now(since, -3600);
		int64_t recent = 0;
		db_int64f(r->db, &recent,
		          "SELECT COUNT(*) FROM needs WHERE moderation = 'a_moderer' AND "
		          "created_at >= ?",
		          "s", since);
		if (recent >= PROPOSALS_PER_HOUR) {
			msg = xstrdup("Beaucoup de propositions ont été reçues dans l'heure : "
			              "réessayez un peu plus tard, merci.");
			status = 429;
		}
	}
	int64_t id = 0;
	if (!msg &&
	    need_store_tx(r->db, r->user ? r->user->id : 0, 0, &in, "a_moderer", &id) != DB_OK)
		msg = xstrdup("L'envoi a échoué, réessayez.");
	if (msg) {
		propose_form(r, &in, msg);
		r->status = status;
	} else {
		resp_redirect(r, "/public/besoins/proposer?ok=1");
	}
	free(msg);
	need_in_free(&in);
}

/* --- moderation -------------------------------------------------------------------------- */

static void moderation_page(struct req *r)
{
	if (!can_moderate(r)) {
		resp_error(r, 403,
		           "La modération est réservée à la coordination et à "
		           "l'administration.");
		return;
	}
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, "Modération des besoins proposés", crumbs);
	struct buf *o = &r->out;
	buf_puts(o, "<h1>Modération des besoins proposés</h1>\n");
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "publie"))
		page_notice(r, "success", "Le besoin est publié.");
	else if (ok && !strcmp(ok, "rejete"))
		page_notice(r, "success", "Le besoin est rejeté.");
	struct db_stmt *st = db_prepare(
	    r->db, "SELECT n.id, n.title, n.description, n.created_at, t.label, "
	           "(SELECT c.name FROM need_communes nc JOIN communes c ON c.code = nc.commune "
	           "WHERE nc.need_id = n.id ORDER BY c.name LIMIT 1) "
	           "FROM needs n LEFT JOIN tags t ON t.id = n.thematic_tag_id "
	           "WHERE n.moderation = 'a_moderer' ORDER BY n.created_at, n.id");
	int rows = 0;
	while (st && db_step(st) == DB_ROW) {
		rows++;
		int64_t id = db_col_int64(st, 0);
		char when[64];
		fiche_datetime_fr(when, db_col_text(st, 3));
		html_printf(o,
		            "<article class=\"card\"><h2><a href=\"/besoins/%lld\">%s</a></h2>\n"
		            "<dl class=\"facts\"><div><dt>Reçu le</dt><dd>%s</dd></div>"
		            "<div><dt>Thématique</dt><dd>%s</dd></div><div><dt>Commune</dt>"
		            "<dd>%s</dd></div></dl>\n<div class=\"prose\">",
		            (long long)id, db_col_text(st, 1), when,
		            db_col_text(st, 4) ? db_col_text(st, 4) : "Non précisée",
		            db_col_text(st, 5) ? db_col_text(st, 5) : "Non précisée");
		markdown_render(o, db_col_text(st, 2));
		html_printf(o,
		            "</div>\n<form method=\"post\" action=\"/besoins/%lld/moderer\" "
		            "class=\"actions\">",
		            (long long)id);
		page_csrf(r);
		buf_puts(o, "<button type=\"submit\" name=\"decision\" value=\"publier\" "
		            "class=\"button small\">Publier</button> <button type=\"submit\" "
		            "name=\"decision\" value=\"rejeter\" class=\"button small\">Rejeter"
		            "</button></form></article>\n");
	}
	db_finalize(st);
	if (!rows)
		buf_puts(o, "<p>Aucune proposition en attente.</p>\n");
	page_end(r);
}

static void moderate_post(struct req *r)
{
	struct need n;
	if (need_require(r, &n))
		return;
	const char *d = req_form(r, "decision");
	const char *to = d && !strcmp(d, "publier")   ? "publie"
	                 : d && !strcmp(d, "rejeter") ? "rejete"
	                                              : NULL;
	if (!to) {
		resp_error(r, 422, "Décision inconnue : publier ou rejeter.");
		goto out;
	}
	if (db_begin(r->db) != DB_OK) {
		resp_error(r, 500, "Erreur de base de données.");
		goto out;
	}
	char now[32];
	time_iso_now(now);
	json_t *before = need_snapshot(r->db, n.id);
	int rc = db_execf(r->db, "UPDATE needs SET moderation = ?, updated_at = ? WHERE id = ?",
	                  "ssI", to, now, n.id);
	json_t *after = rc == DB_OK ? need_snapshot(r->db, n.id) : NULL;
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "moderate", "need", n.id, before,
		                    after);
	json_decref(before);
	json_decref(after);
	if (rc != DB_OK || db_commit(r->db) != DB_OK) {
		db_rollback(r->db);
		resp_error(r, 500, "Erreur de base de données.");
		goto out;
	}
	resp_redirect(r, !strcmp(to, "publie") ? "/besoins/moderation?ok=publie"
	                                       : "/besoins/moderation?ok=rejete");
out:
	need_free(&n);
}

static void moderate_guard(struct req *r)
{
	if (!can_moderate(r)) {
		resp_error(r, 403,
		           "La modération est réservée à la coordination et à "
		           "l'administration.");
		return;
	}
	moderate_post(r);
}

/* --- CSV import -------------------------------------------------------------------------- */

static const char *const import_columns[] = {"titre",      "description", "source",
                                             "thematique", "public",      "communes",
                                             "date",       "priorite",    "statut"};
#define NCOLUMNS 9

/* One parsed CSV record: fields (owned) and the line where it starts. */
struct record {
	char **f;
	size_t n;
	long line;
};

static void records_free(struct record *rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < rs[i].n; j++)
			free(rs[i].f[j]);
		free(rs[i].f);
	}
	free(rs);
}

/* Split text (';' separated, read by csv_in) into records. Blank lines and records of blank
 * fields are skipped. Returns 0, or -1 with *err_line, *err_column and *err (a static French
 * sentence) set on a misplaced or unclosed quote. */
static int csv_split(const char *s, struct record **out, size_t *nout, int *err_line,
                     int *err_column, const char **err)
{
	struct record *rs = NULL;
	size_t n = 0;
	struct csv_in in;
	csv_in_open(&in, s, strlen(s), ';'); /* a failure is reported by csv_in_next */
	int rc;
	while ((rc = csv_in_next(&in)) > 0) {
		int blank = 1;
		for (size_t j = 0; j < in.n; j++)
			blank &= str_blank(in.field[j]);
		if (blank)
			continue;
		struct record rec = {xcalloc(in.n, sizeof *rec.f), in.n, in.line};
		for (size_t j = 0; j < in.n; j++)
			rec.f[j] = xstrdup(in.field[j]);
		rs = xrealloc(rs, (n + 1) * sizeof *rs);
		rs[n++] = rec;
	}
	if (rc < 0) {
		*err_line = in.err_line;
		*err_column = in.err_column;
		*err = in.error == CSV_IN_QUOTE_OPEN ? "guillemet ouvert jamais fermé."
		                                     : csv_in_strerror(&in);
		csv_in_close(&in);
		records_free(rs, n);
		return -1;
	}
	csv_in_close(&in);
	*out = rs;
	*nout = n;
	return 0;
}

static void import_form(struct req *r, const char *text, const struct buf *errors,
                        const char *notice)
{
	struct crumb crumbs[] = {{"Besoins", "/besoins"}, {NULL, NULL}};
	page_begin(r, "Importer des besoins", crumbs);
	struct buf *o = &r->out;
	buf_puts(o, "<h1>Importer des besoins (CSV)</h1>\n");
	if (notice)
		page_notice(r, "success", notice);
	if (errors && errors->len) {
		buf_puts(o, "<div class=\"notice notice-error\" role=\"alert\"><p>Le fichier est "
		            "refusé, rien n'a été enregistré :</p><ul>");
		buf_append(o, errors->data, errors->len); /* built with html_printf below */
		buf_puts(o, "</ul></div>\n");
	}
	buf_puts(o, "<p>Une ligne d'en-tête puis un besoin par ligne, séparateur point-virgule, "
	            "encodage UTF-8, colonnes dans cet ordre :</p>\n<p><code>titre;description;"
	            "source;thematique;public;communes;date;priorite;statut</code></p>\n"
	            "<ul><li>source : habitants, professionnels, statistiques, enquete ou spiral ;"
	            "</li><li>thematique : acces-droits, petite-enfance, enfance, jeunesse, "
	            "parentalite, animation-vie-sociale, logement, ou vide ;</li><li>communes : "
	            "codes INSEE séparés par | ;</li><li>date : AAAA-MM-JJ ou vide ; priorite : 1, "
	            "2 ou 3 ; statut : identifie, qualifie, priorise, couvert ou abandonne.</li>"
	            "</ul>\n<p>L'import est tout ou rien : au moindre problème, aucune ligne n'est "
	            "enregistrée.</p>\n<form method=\"post\" action=\"/besoins/importer\" "
	            "class=\"form\" enctype=\"multipart/form-data\">\n");
	page_csrf(r);
	html_printf(o,
	            "<div class=\"field\"><label for=\"i-file\">Fichier CSV</label><input "
	            "id=\"i-file\" name=\"fichier\" type=\"file\" accept=\".csv,text/csv\"></div>\n"
	            "<div class=\"field\"><label for=\"i-text\">Ou texte collé</label><textarea "
	            "id=\"i-text\" name=\"texte\" rows=\"8\">%s</textarea></div>\n"
	            "<div class=\"field\"><input id=\"i-dry\" name=\"essai\" type=\"checkbox\" "
	            "value=\"1\"> <label for=\"i-dry\">Essai à blanc : vérifier sans rien "
	            "enregistrer</label></div>\n<div class=\"actions\"><button type=\"submit\" "
	            "class=\"button\">Importer</button></div>\n</form>\n",
	            text ? text : "");
	page_end(r);
}

static void import_get(struct req *r)
{
	if (!can_moderate(r)) {
		resp_error(r, 403, "L'import est réservé à la coordination et à l'administration.");
		return;
	}
	const char *ok = req_query(r, "ok");
	char *notice = NULL;
	int64_t n;
	if (ok && !parse_int64(ok, &n) && n >= 0)
		notice = xasprintf("%lld besoin(s) importé(s).", (long long)n);
	import_form(r, NULL, NULL, notice);
	free(notice);
}

static void import_post(struct req *r)
{
	if (!can_moderate(r)) {
		resp_error(r, 403, "L'import est réservé à la coordination et à l'administration.");
		return;
	}
	const struct upload *up = req_file(r, "fichier");
	const char *text = up && up->data.len ? buf_str(&up->data) : req_form(r, "texte");
	int dry = req_form(r, "essai") != NULL;
	struct buf errors = {0};
	const char *shown = up && up->data.len ? NULL : text;
	if (str_blank(text)) {
		html_printf(&errors, "<li>Choisissez un fichier ou collez le texte CSV.</li>");
		import_form(r, shown, &errors, NULL);
		r->status = 422;
		buf_free(&errors);
		return;
	}
	if (up && up->data.len && !utf8_valid_text(up->data.data, up->data.len)) {
		html_printf(&errors, "<li>Le fichier doit être en UTF-8.</li>");
		import_form(r, NULL, &errors, NULL);
		r->status = 422;
		buf_free(&errors);
		return;
	}
	struct record *rs = NULL;
	size_t nrs = 0;
	int bad_line = 0, bad_column = 0;
	const char *bad = NULL;
	if (csv_split(text, &rs, &nrs, &bad_line, &bad_column, &bad)) {
		html_printf(&errors, "<li>Ligne %d, colonne %d : %s</li>", bad_line, bad_column,
		            bad);
		goto fail;
	}
	if (!nrs) {
		html_printf(&errors, "<li>Le fichier est vide.</li>");
		goto fail;
	}
	int header_ok = rs[0].n == NCOLUMNS;
	for (size_t j = 0; header_ok && j < NCOLUMNS; j++) {
		char *h = str_trim_dup(rs[0].f[j]);
		header_ok = !strcasecmp(h, import_columns[j]);
		free(h);
	}
	if (!header_ok) {
		html_printf(&errors,
		            "<li>Ligne 1 : l'en-tête doit être exactement titre;description;"
		            "source;thematique;public;communes;date;priorite;statut.</li>");
		goto fail;
	}
	if (nrs - 1 > NEED_IMPORT_MAX) {
		html_printf(&errors, "<li>Au plus %d besoins par import.</li>", NEED_IMPORT_MAX);
		goto fail;
	}
	struct need_in *ins = xcalloc(nrs, sizeof *ins);
	int nerr = 0;
	for (size_t i = 1; i < nrs; i++) {
		if (rs[i].n != NCOLUMNS) {
			html_printf(&errors, "<li>Ligne %ld : %zu colonnes au lieu de %d.</li>",
			            rs[i].line, rs[i].n, NCOLUMNS);
			nerr++;
			continue;
		}
		struct need_in *in = &ins[i];
		char **f = rs[i].f;
		in->title = str_trim_dup(f[0]);
		in->description = str_trim_dup(f[1]);
		in->source = str_trim_dup(f[2]);
		in->theme = str_trim_dup(f[3]);
		in->public = str_trim_dup(f[4]);
		in->communes = str_trim_dup(f[5]);
		in->observed_on = str_trim_dup(f[6]);
		in->priority = str_trim_dup(f[7]);
		in->status = str_trim_dup(f[8]);
		in->evidence = xstrdup("");
		const char *field;
		char *msg = need_validate(r->db, in, &field);
		if (msg) {
			html_printf(&errors, "<li>Ligne %ld, colonne « %s » : %s</li>", rs[i].line,
			            field ? field : "?", msg);
			free(msg);
			nerr++;
		}
		if (nerr >= 50)
			break;
	}
	size_t count = nrs - 1;
	if (!nerr && !dry) {
		int rc = db_begin(r->db);
		for (size_t i = 1; rc == DB_OK && i < nrs; i++) {
			int64_t id;
			rc = need_store(r->db, r->user->id, 0, &ins[i], "publie", &id);
		}
		if (rc == DB_OK)
			rc = db_commit(r->db);
		if (rc != DB_OK) {
			db_rollback(r->db);
			html_printf(&errors, "<li>L'enregistrement a échoué : rien n'a été "
			                     "enregistré.</li>");
			nerr++;
		}
	}
	for (size_t i = 0; i < nrs; i++)
		need_in_free(&ins[i]);
	free(ins);
	records_free(rs, nrs);
	rs = NULL;
	nrs = 0;
	if (nerr)
		goto fail;
	if (dry) {
		char *notice = xasprintf("Essai à blanc : %zu besoin(s) seraient importés, aucune "
		                         "erreur. Rien n'a été enregistré.",
		                         count);
		import_form(r, shown, NULL, notice);
		free(notice);
	} else {
		char *loc = xasprintf("/besoins/importer?ok=%zu", count);
		resp_redirect(r, loc);
		free(loc);
	}
	buf_free(&errors);
	return;
fail:
	records_free(rs, nrs);
	import_form(r, shown, &errors, NULL);
	r->status = 422;
	buf_free(&errors);
}

/* --- routes ------------------------------------------------------------------------------ */

const struct route need_routes[] = {
    {M_GET, "/besoins", ACC_PUBLIC, list_page,
     "Observatoire des besoins : liste filtrée (thématique, source, statut, territoire)"},
    {M_GET, "/besoins/non-couverts", ACC_PUBLIC, uncovered_page,
     "Besoins non couverts : sans fiche-action, par thématique et par intercommunalité"},
    {M_GET, "/besoins/nouveau", ACC_LOGIN, new_get, "Formulaire d'un nouveau besoin"},
    {M_POST, "/besoins/nouveau", ACC_LOGIN, new_post, "Enregistrer un nouveau besoin"},
    {M_GET, "/besoins/moderation", ACC_LOGIN, moderation_page,
     "Besoins proposés par les habitants, à modérer"},
    {M_GET, "/besoins/importer", ACC_LOGIN, import_get, "Importer des besoins (CSV)"},
    {M_POST, "/besoins/importer", ACC_LOGIN, import_post,
     "Importer des besoins (CSV, tout ou rien, essai à blanc)"},
    {M_GET, "/besoins/{need}", ACC_PUBLIC, need_page,
     "Un besoin : description, preuves, communes, fiches-actions liées"},
    {M_GET, "/besoins/{need}/modifier", ACC_LOGIN, edit_get,
     "Formulaire de modification d'un besoin"},
    {M_POST, "/besoins/{need}/modifier", ACC_LOGIN, edit_post, "Enregistrer un besoin modifié"},
    {M_POST, "/besoins/{need}/fiches", ACC_LOGIN, link_post,
     "Lier une fiche-action à un besoin (coordination du plan)"},
    {M_POST, "/besoins/{need}/fiches/{fiche}/retirer", ACC_LOGIN, unlink_post,
     "Retirer le lien entre un besoin et une fiche-action (coordination du plan)"},
    {M_POST, "/besoins/{need}/moderer", ACC_LOGIN, moderate_guard,
     "Publier ou rejeter un besoin proposé"},
    {M_GET, "/public/besoins/proposer", ACC_PUBLIC, propose_get,
     "Proposer un besoin (habitants, sans donnée personnelle)"},
    {M_POST, "/public/besoins/proposer", ACC_PUBLIC, propose_post,
     "Envoyer une proposition de besoin (modérée avant publication)"},
    {0},
};
