/* governance: instances of a plan (COPIL, COTECH, commissions…), their meetings — agenda,
 * attendance, minutes, numbered decisions, follow-ups ("le pas d'après") — the reminder of the
 * previous meeting shown first when a new one is opened, and the iCalendar export. Every write is
 * done by a coordinator of the plan (or an administrator) and audited with before/after. */
#include "governance.h"

#include "audit.h"
#include "db.h"
#include "layout.h"
#include "plans.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN    200
#define PLACE_MAX_LEN   300
#define TITLE_MAX_LEN   300
#define TEXT_MAX_LEN    5000
#define MINUTES_MAX_LEN 100000
#define ROLE_MAX_LEN    100
#define AGENDA_MAX      100

static const char *const KINDS[] = {"copil", "cotech", "commission", "reseau", "autre", NULL};
static const char *const KIND_LABELS[] = {"Comité de pilotage (COPIL)",
                                          "Comité technique (COTECH)",
                                          "Commission thématique",
                                          "Réseau",
                                          "Autre instance",
                                          NULL};

static const char *kind_label(const char *kind)
{
	for (int i = 0; KINDS[i]; i++)
		if (kind && !strcmp(kind, KINDS[i]))
			return KIND_LABELS[i];
	return "Instance";
}

static int kind_valid(const char *kind)
{
	for (int i = 0; KINDS[i]; i++)
		if (kind && !strcmp(kind, KINDS[i]))
			return 1;
	return 0;
}

static const char *meeting_status_label(const char *s)
{
	if (s && !strcmp(s, "held"))
		return "Tenue";
	if (s && !strcmp(s, "cancelled"))
		return "Annulée";
	return "Prévue";
}

static const char *attendance_label(const char *s)
{
	if (s && !strcmp(s, "present"))
		return "Présent·e";
	if (s && !strcmp(s, "excuse"))
		return "Excusé·e";
	return "Absent·e";
}

static const char *follow_label(const char *s)
{
	if (s && !strcmp(s, "fait"))
		return "Fait";
	if (s && !strcmp(s, "abandonne"))
		return "Abandonné";
	return "Ouvert";
}

/* --- time ---------------------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Seconds of the last Sunday of month m of year y, 01:00 UTC. */
static int64_t last_sunday_1h(int y, int m)
{
	int64_t d = days_from_civil(y, m, 31);
	int64_t wd = ((d + 4) % 7 + 7) % 7; /* 0 = Sunday */
	return (d - wd) * 86400 + 3600;
}

/* Offset of Paris (CET/CEST) from UTC at the UTC instant t, in seconds. */
static int64_t paris_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	int y = tm.tm_year + 1900;
	return t >= last_sunday_1h(y, 3) && t < last_sunday_1h(y, 10) ? 7200 : 3600;
}

static int64_t parse_utc(const char *iso)
{
	int y, mo, d, h, mi, s;
	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
		return 0;
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

int governance_local_to_utc(const char *local, char out[32])
{
	int y, mo, d, h, mi, s = 0, n = 0;
	if (!local || strlen(local) < 16 || strlen(local) > 19)
		return -1;
	if (local[4] != '-' || local[7] != '-' || (local[10] != 'T' && local[10] != ' ') ||
	    local[13] != ':')
		return -1;
	for (int i = 0; local[i]; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 &&
		    (local[i] < '0' || local[i] > '9'))
			return -1;
	if (strlen(local) > 16 && (local[16] != ':' || strlen(local) != 19))
		return -1;
	n = sscanf(local, "%4d-%2d-%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s);
	if (n < 5 || y < 2000 || y > 2100 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
	    s > 59)
		return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -1;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	t -= paris_offset(t - 7200) == 7200 ? 7200 : 3600;
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

/* A stored UTC time shown in Paris time: "3 mars 2026 à 14 h 30". */
static void when_fr(struct buf *o, const char *iso)
{
	static const char *const months[] = {"janvier",   "février", "mars",     "avril",
	                                     "mai",       "juin",    "juillet",  "août",
	                                     "septembre", "octobre", "novembre", "décembre"};
	int64_t t = parse_utc(iso);
	if (!t) {
		html_printf(o, "%s", iso);
		return;
	}
	t += paris_offset(t);
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	html_printf(o, "%d %s %d à %d h %s%d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	            tm.tm_hour, tm.tm_min < 10 ? "0" : "", tm.tm_min);
}

static const char *const MONTHS[] = {"janvier",   "février", "mars",     "avril",
                                     "mai",       "juin",    "juillet",  "août",
                                     "septembre", "octobre", "novembre", "décembre"};

/* A date "YYYY-MM-DD…" as "1 avril 2026". */
static void date_fr(struct buf *o, const char *iso)
{
	int y, m, d;
	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) {
		html_printf(o, "%s", iso);
		return;
	}
	html_printf(o, "%d %s %d", d, MONTHS[m - 1], y);
}

/* The value for a datetime-local input from a stored UTC time (out: 32 bytes). */
static void local_input(const char *iso, char out[32])
{
	int64_t t = parse_utc(iso);
	out[0] = '\0';
	if (!t)
		return;
	t += paris_offset(t);
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M", &tm);
}

static int date_valid(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	char tmp[40];
	snprintf(tmp, sizeof tmp, "%sT00:00", s);
	char out[32];
	return governance_local_to_utc(tmp, out) == 0;
}

/* --- data ---------------------------------------------------------------------------------- */

/* One row as a JSON object of text values (NULL: json null); NULL when there is no row.
 * `sql` takes one integer parameter. New reference. */
static json_t *row_json(struct db *db, const char *sql, int64_t id)
{
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	json_t *o = NULL;
	if (st && db_step(st) == DB_ROW) {
		o = json_object();
		for (int i = 0; i < db_col_count(st); i++)
			json_object_set_new(
			    o, db_col_name(st, i),
			    db_col_is_null(st, i) ? json_null() : json_string(db_col_text(st, i)));
	}
	db_finalize(st);
	return o;
}

struct inst {
	int64_t id, plan_id;
	char *name, *kind, *plan_title;
};

static void inst_free(struct inst *in)
{
	free(in->name);
	free(in->kind);
	free(in->plan_title);
}

/* Load instance id and check the plan role; answers 404/403 itself and returns -1. Instances
 * of a network alone are for administrators for now. */
static int inst_require(struct req *r, int64_t id, enum role min, struct inst *in)
{
	memset(in, 0, sizeof *in);
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT i.plan_id, i.name, i.kind, p.title FROM instances i "
	                               "LEFT JOIN plans p ON p.id = i.plan_id WHERE i.id = ?",
	                               "I", id);
	int found = st && db_step(st) == DB_ROW;
	if (found) {
		in->id = id;
		in->plan_id = db_col_is_null(st, 0) ? 0 : db_col_int64(st, 0);
		in->name = xstrdup(db_col_text(st, 1));
		in->kind = xstrdup(db_col_text(st, 2));
		in->plan_title = xstrdup(db_col_text(st, 3) ? db_col_text(st, 3) : "");
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	if (!in->plan_id) {
		if (!r->user || r->user->role != ROLE_ADMIN) {
			inst_free(in);
			resp_error(r, 404, "Cette page n'existe pas.");
			return -1;
		}
		return 0;
	}
	if (plan_require(r, in->plan_id, min)) {
		inst_free(in);
		return -1;
	}
	return 0;
}

struct meeting {
	int64_t id;
	struct inst in;
	char *starts_at, *place, *status, *minutes;
};

static void meeting_free(struct meeting *m)
{
	inst_free(&m->in);
	free(m->starts_at);
	free(m->place);
	free(m->status);
	free(m->minutes);
}

static int meeting_require(struct req *r, int64_t id, enum role min, struct meeting *m)
{
	memset(m, 0, sizeof *m);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT instance_id, starts_at, place, status, minutes FROM meetings WHERE id = ?", "I",
	    id);
	int found = st && db_step(st) == DB_ROW;
	int64_t inst = 0;
	if (found) {
		m->id = id;
		inst = db_col_int64(st, 0);
		m->starts_at = xstrdup(db_col_text(st, 1));
		m->place = xstrdup(db_col_text(st, 2));
		m->status = xstrdup(db_col_text(st, 3));
		m->minutes = xstrdup(db_col_text(st, 4));
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	if (inst_require(r, inst, min, &m->in)) {
		free(m->starts_at);
		free(m->place);
		free(m->status);
		free(m->minutes);
		memset(m, 0, sizeof *m);
		return -1;
	}
	return 0;
}

static int can_write(struct req *r, int64_t plan_id)
{
	if (r->user && r->user->role == ROLE_ADMIN)
		return 1;
	return plan_id && plan_role(r, plan_id) >= ROLE_COORDINATOR;
}

/* Length-checked copy of a form field, trimmed; NULL when missing. */
static char *field(struct req *r, const char *key)
{
	const char *v = req_form(r, key);
	return v ? str_trim_dup(v) : NULL;
}

/* A fiche (node) of the plan from the form field key: 0 none, -1 invalid. */
static int64_t node_of_plan(struct req *r, const char *key, int64_t plan_id)
{
	const char *v = req_form(r, key);
	int64_t id = 0;
	if (!v || !*v)
		return 0;
	if (parse_int64(v, &id) || id <= 0)
		return -1;
	int64_t ok = 0;
	if (db_int64f(r->db, &ok, "SELECT id FROM nodes WHERE id = ? AND plan_id = ?", "II", id,
	              plan_id) != DB_OK)
		return -1;
	return id;
}

static void node_options(struct req *r, int64_t plan_id, int64_t selected)
{
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT n.id, n.number, n.title FROM nodes n JOIN fiches f "
	                               "ON f.node_id = n.id WHERE n.plan_id = ? ORDER BY n.id",
	                               "I", plan_id);
	html_printf(&r->out, "<option value=\"\">— aucune —</option>");
	while (st && db_step(st) == DB_ROW)
		html_printf(&r->out, "<option value=\"%lld\"%R>%s %s</option>",
		            (long long)db_col_int64(st, 0),
		            db_col_int64(st, 0) == selected ? " selected" : "", db_col_text(st, 1),
		            db_col_text(st, 2));
	db_finalize(st);
}

/* Commit or roll back after rc; returns rc. */
static int finish_tx(struct db *db, int rc)
{
	if (rc == DB_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	return rc;
}

static void follow_ups_table(struct req *r, struct db_stmt *st, const char *caption, int w,
                             int64_t back);

#define FOLLOW_COLS                                                                                \
	"SELECT f.id, f.what, u.name, f.owner_text, f.due_on, f.status FROM follow_ups f LEFT "    \
	"JOIN users u ON u.id = f.owner_user_id "

/* --- instances of a plan --------------------------------------------------------------------- */

static void instances_render(struct req *r, int64_t plan_id, const char *error)
{
	struct buf *o = &r->out;
	char *title = NULL;
	struct db_stmt *st = db_queryf(r->db, "SELECT title FROM plans WHERE id = ?", "I", plan_id);
	if (st && db_step(st) == DB_ROW)
		title = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	char *plan_href = xasprintf("/plans/%lld", (long long)plan_id);
	struct crumb crumbs[] = {{title ? title : "Plan", plan_href}, {NULL, NULL}};
	page_begin(r, "Instances de gouvernance", crumbs);
	html_printf(o,
	            "<h1>Instances de gouvernance</h1>\n<p class=\"lead\">Les instances qui "
	            "pilotent le plan « %s » : comités, commissions, réseaux.</p>\n",
	            title ? title : "");
	st =
	    db_queryf(r->db,
	              "SELECT i.id, i.name, i.kind, (SELECT COUNT(*) FROM meetings m WHERE "
	              "m.instance_id = i.id), (SELECT MAX(m.starts_at) FROM meetings m WHERE "
	              "m.instance_id = i.id) FROM instances i WHERE i.plan_id = ? ORDER BY i.name, "
	              "i.id",
	              "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    o, "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			       "Instances du plan</caption>\n<thead><tr><th scope=\"col\">Instance"
			       "</th><th scope=\"col\">Type</th><th scope=\"col\">Réunions</th>"
			       "<th scope=\"col\">Dernière réunion</th></tr></thead>\n<tbody>\n");
		html_printf(
		    o,
		    "<tr><th scope=\"row\"><a href=\"/instances/%lld\">%s</a></th><td>%s</td>"
		    "<td>%lld</td><td>",
		    (long long)db_col_int64(st, 0), db_col_text(st, 1),
		    kind_label(db_col_text(st, 2)), (long long)db_col_int64(st, 3));
		if (db_col_text(st, 4))
			when_fr(o, db_col_text(st, 4));
		else
			buf_puts(o, "—");
		buf_puts(o, "</td></tr>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucune instance n'est encore enregistrée pour ce plan.</p>\n");
	if (can_write(r, plan_id)) {
		html_printf(o,
		            "<h2>Nouvelle instance</h2>\n<form class=\"form\" method=\"post\" "
		            "action=\"/plans/%lld/instances\">\n",
		            (long long)plan_id);
		page_csrf(r);
		if (error)
			html_printf(o, "<p class=\"notice error\" role=\"alert\">%s</p>\n", error);
		const char *name = req_form(r, "name");
		const char *kind = req_form(r, "kind");
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"i-name\">Nom</label><input id=\"i-name\" "
		    "name=\"name\" required maxlength=\"%d\" value=\"%s\"></div>\n"
		    "<div class=\"field\"><label for=\"i-kind\">Type</label><select "
		    "id=\"i-kind\" name=\"kind\">",
		    NAME_MAX_LEN, error && name ? name : "");
		for (int i = 0; KINDS[i]; i++)
			html_printf(o, "<option value=\"%s\"%R>%s</option>", KINDS[i],
			            kind && !strcmp(kind, KINDS[i]) ? " selected" : "",
			            KIND_LABELS[i]);
		buf_puts(o, "</select></div>\n<div class=\"actions\"><button class=\"button\" "
		            "type=\"submit\">Créer l'instance</button></div>\n</form>\n");
	}
	page_end(r);
	free(plan_href);
	free(title);
}

/* GET|POST /plans/{plan}/instances */
static void instances_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id))
		return;
	if (plan_require(r, plan_id, r->method == M_POST ? ROLE_COORDINATOR : ROLE_READER))
		return;
	if (r->method != M_POST) {
		instances_render(r, plan_id, NULL);
		return;
	}
	char *name = field(r, "name");
	const char *kind = req_form(r, "kind");
	const char *err = NULL;
	if (!name || !*name)
		err = "Indiquez le nom de l'instance.";
	else if (strlen(name) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	else if (!kind_valid(kind))
		err = "Choisissez un type d'instance dans la liste.";
	int64_t id = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &id,
			               "INSERT INTO instances (plan_id, kind, name, created_at, "
			               "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			               "Issss", plan_id, kind, name, now, now);
		if (rc == DB_OK) {
			json_t *after = row_json(r->db, "SELECT * FROM instances WHERE id = ?", id);
			rc = audit_write_id(r->db, r->user->id, "web", "create", "instance", id,
			                    NULL, after);
			json_decref(after);
		}
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		instances_render(r, plan_id, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/instances/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(name);
}

/* --- one instance ------------------------------------------------------------------------------
 */

static void instance_render(struct req *r, struct inst *in, const char *error)
{
	struct buf *o = &r->out;
	char *plan_href = xasprintf("/plans/%lld", (long long)in->plan_id);
	char *list_href = xasprintf("/plans/%lld/instances", (long long)in->plan_id);
	struct crumb crumbs[] = {
	    {in->plan_title, plan_href}, {"Instances", list_href}, {NULL, NULL}};
	page_begin(r, in->name, crumbs);
	html_printf(o, "<h1>%s</h1>\n<p><span class=\"badge\">%s</span></p>\n", in->name,
	            kind_label(in->kind));
	int w = can_write(r, in->plan_id);
	if (error)
		html_printf(o, "<p class=\"notice error\" role=\"alert\">%s</p>\n", error);

	buf_puts(o, "<h2>Membres</h2>\n");
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT m.id, u.name, a.name, m.role FROM instance_members m LEFT JOIN users u ON "
	    "u.id = m.user_id LEFT JOIN actors a ON a.id = m.actor_id WHERE m.instance_id = ? "
	    "ORDER BY m.id",
	    "I", in->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ul>\n");
		html_printf(o, "<li>%s%s%s</li>\n",
		            db_col_text(st, 1) ? db_col_text(st, 1) : db_col_text(st, 2),
		            *db_col_text(st, 3) ? " — " : "", db_col_text(st, 3));
	}
	db_finalize(st);
	buf_puts(o, n ? "</ul>\n" : "<p>Aucun membre n'est encore inscrit.</p>\n");
	if (w && in->plan_id) {
		html_printf(
		    o, "<form class=\"form\" method=\"post\" action=\"/instances/%lld/membres\">\n",
		    (long long)in->id);
		page_csrf(r);
		buf_puts(o, "<div class=\"field\"><label for=\"m-user\">Membre du plan</label>"
		            "<select id=\"m-user\" name=\"user\"><option value=\"\">— ou une "
		            "structure ci-dessous —</option>");
		st = db_queryf(r->db,
		               "SELECT u.id, u.name FROM plan_members pm JOIN users u ON u.id = "
		               "pm.user_id WHERE pm.plan_id = ? ORDER BY u.name, u.id",
		               "I", in->plan_id);
		while (st && db_step(st) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s</option>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 1));
		db_finalize(st);
		buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"m-actor\">Structure"
		            "</label><select id=\"m-actor\" name=\"actor\"><option value=\"\">— "
		            "aucune —</option>");
		st = db_prepare(r->db, "SELECT id, name FROM actors ORDER BY name, id");
		while (st && db_step(st) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s</option>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 1));
		db_finalize(st);
		html_printf(
		    o,
		    "</select></div>\n<div class=\"field\"><label for=\"m-role\">Rôle dans "
		    "l'instance</label><input id=\"m-role\" name=\"role\" maxlength=\"%d\">"
		    "<p class=\"hint\">Par exemple : présidence, secrétariat, membre.</p></div>\n"
		    "<div class=\"actions\"><button class=\"button small\" type=\"submit\">"
		    "Ajouter le membre</button></div>\n</form>\n",
		    ROLE_MAX_LEN);
	}

	/* The instance's dashboard of what is still pending, across its meetings. */
	buf_puts(o, "<h2>En suspens</h2>\n");
	st = db_queryf(r->db,
	               FOLLOW_COLS "JOIN meetings mt ON mt.id = f.meeting_id WHERE mt.instance_id "
	                           "= ? AND f.status = 'ouvert' ORDER BY f.due_on, f.id",
	               "I", in->id);
	follow_ups_table(r, st, "Suites ouvertes de l'instance", w, 0);
	db_finalize(st);

	buf_puts(o, "<h2>Réunions</h2>\n");
	html_printf(o,
	            "<p><a href=\"/instances/%lld/reunions.ics\">Calendrier des réunions "
	            "(iCalendar, .ics)</a></p>\n",
	            (long long)in->id);
	st = db_queryf(r->db,
	               "SELECT id, starts_at, place, status FROM meetings WHERE instance_id = ? "
	               "ORDER BY starts_at DESC, id DESC",
	               "I", in->id);
	n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    o, "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			       "Réunions de l'instance</caption>\n<thead><tr><th scope=\"col\">Date"
			       "</th><th scope=\"col\">Lieu</th><th scope=\"col\">État</th></tr>"
			       "</thead>\n<tbody>\n");
		html_printf(o, "<tr><th scope=\"row\"><a href=\"/reunions/%lld\">",
		            (long long)db_col_int64(st, 0));
		when_fr(o, db_col_text(st, 1));
		html_printf(o, "</a></th><td>%s</td><td>%s</td></tr>\n", db_col_text(st, 2),
		            meeting_status_label(db_col_text(st, 3)));
	}
	db_finalize(st);
	buf_puts(o, n ? "</tbody></table></div>\n" : "<p>Aucune réunion pour l'instant.</p>\n");
	if (w) {
		html_printf(o,
		            "<h3>Nouvelle réunion</h3>\n<form class=\"form\" method=\"post\" "
		            "action=\"/instances/%lld/reunions\">\n",
		            (long long)in->id);
		page_csrf(r);
		const char *when = error ? req_form(r, "starts_at") : NULL;
		const char *place = error ? req_form(r, "place") : NULL;
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"r-when\">Date et heure</label><input "
		    "id=\"r-when\" name=\"starts_at\" type=\"datetime-local\" required "
		    "value=\"%s\"><p class=\"hint\">Heure de Paris, par exemple "
		    "2026-03-12T14:00.</p></div>\n<div class=\"field\"><label for=\"r-place\">"
		    "Lieu</label><input id=\"r-place\" name=\"place\" maxlength=\"%d\" "
		    "value=\"%s\"></div>\n<div class=\"actions\"><button class=\"button\" "
		    "type=\"submit\">Programmer la réunion</button></div>\n</form>\n",
		    when ? when : "", PLACE_MAX_LEN, place ? place : "");
	}
	page_end(r);
	free(plan_href);
	free(list_href);
}

/* GET /instances/{instance} */
static void instance_page(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_READER, &in))
		return;
	instance_render(r, &in, NULL);
	inst_free(&in);
}

/* POST /instances/{instance}/membres */
static void member_add(struct req *r)
{
	int64_t id, uid = 0;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_COORDINATOR, &in))
		return;
	char *role = field(r, "role");
	const char *err = NULL;
	int64_t ok = 0, aid = 0;
	const char *us = req_form(r, "user"), *as = req_form(r, "actor");
	int has_u = us && *us, has_a = as && *as;
	if (has_u == has_a)
		err = "Choisissez soit un membre du plan, soit une structure.";
	else if (has_u && (parse_int64(us, &uid) ||
	                   db_int64f(r->db, &ok,
	                             "SELECT user_id FROM plan_members WHERE plan_id = ? AND "
	                             "user_id = ?",
	                             "II", in.plan_id, uid) != DB_OK))
		err = "Choisissez un membre du plan.";
	else if (has_a &&
	         (parse_int64(as, &aid) ||
	          db_int64f(r->db, &ok, "SELECT id FROM actors WHERE id = ?", "I", aid) != DB_OK))
		err = "Choisissez une structure de l'annuaire.";
	else if (role && strlen(role) > ROLE_MAX_LEN)
		err = "Le rôle est trop long (100 caractères au plus).";
	if (!err) {
		int64_t mid = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &mid,
			               uid ? "INSERT INTO instance_members (instance_id, user_id, "
			                     "role) VALUES (?, "
			                     "?, ?) RETURNING id"
			                   : "INSERT INTO instance_members (instance_id, actor_id, "
			                     "role) VALUES (?, "
			                     "?, ?) RETURNING id",
			               "IIs", id, uid ? uid : aid, role ? role : "");
		if (rc == DB_OK) {
			json_t *after =
			    row_json(r->db, "SELECT * FROM instance_members WHERE id = ?", mid);
			rc = audit_write_id(r->db, r->user->id, "web", "create", "instance_member",
			                    mid, NULL, after);
			json_decref(after);
		}
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		instance_render(r, &in, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/instances/%lld", (long long)id);
		resp_redirect(r, loc);
		free(loc);
	}
	free(role);
	inst_free(&in);
}

/* POST /instances/{instance}/reunions: a new meeting; the members are prefilled as present. */
static void meeting_create(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_COORDINATOR, &in))
		return;
	char *place = field(r, "place");
	char when[32];
	const char *err = NULL;
	if (governance_local_to_utc(req_form(r, "starts_at"), when))
		err = "Indiquez une date et une heure valides (AAAA-MM-JJTHH:MM).";
	else if (place && strlen(place) > PLACE_MAX_LEN)
		err = "Le lieu est trop long (300 caractères au plus).";
	int64_t mid = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &mid,
			    "INSERT INTO meetings (instance_id, starts_at, place, created_at, "
			    "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			    "Issss", id, when, place ? place : "", now, now);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db,
			    "INSERT INTO attendance (meeting_id, user_id, actor_id, status) "
			    "SELECT ?, user_id, actor_id, 'present' FROM instance_members WHERE "
			    "instance_id = ?",
			    "II", mid, id);
		if (rc == DB_OK) {
			json_t *after = row_json(r->db, "SELECT * FROM meetings WHERE id = ?", mid);
			rc = audit_write_id(r->db, r->user->id, "web", "create", "meeting", mid,
			                    NULL, after);
			json_decref(after);
		}
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		instance_render(r, &in, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/reunions/%lld", (long long)mid);
		resp_redirect(r, loc);
		free(loc);
	}
	free(place);
	inst_free(&in);
}

/* --- one meeting -------------------------------------------------------------------------------
 */

/* The open follow-ups table; with close forms when w. */
static void follow_ups_table(struct req *r, struct db_stmt *st, const char *caption, int w,
                             int64_t back)
{
	struct buf *o = &r->out;
	char today[32];
	time_iso_now(today);
	today[10] = '\0';
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>%s"
			    "</caption>\n<thead><tr><th scope=\"col\">Quoi</th><th scope=\"col\">"
			    "Qui</th><th scope=\"col\">Échéance</th><th scope=\"col\">État</th>%R"
			    "</tr></thead>\n<tbody>\n",
			    caption, w ? "<th scope=\"col\">Suite</th>" : "");
		int64_t fid = db_col_int64(st, 0);
		const char *owner = db_col_text(st, 2) ? db_col_text(st, 2) : db_col_text(st, 3);
		const char *due = db_col_text(st, 4);
		html_printf(o, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", db_col_text(st, 1),
		            owner && *owner ? owner : "—");
		if (due) {
			char iso[40];
			snprintf(iso, sizeof iso, "%.10sT12:00:00Z", due);
			date_fr(o, iso);
			if (!strcmp(db_col_text(st, 5), "ouvert") && strcmp(due, today) < 0)
				buf_puts(o, " <span class=\"badge\">en retard</span>");
		} else {
			buf_puts(o, "—");
		}
		html_printf(o, "</td><td><span class=\"badge\">%s</span></td>",
		            follow_label(db_col_text(st, 5)));
		if (w) {
			html_printf(o,
			            "<td><form class=\"form\" method=\"post\" "
			            "action=\"/suites/%lld/statut\">",
			            (long long)fid);
			page_csrf(r);
			if (!back)
				buf_puts(o,
				         "<input type=\"hidden\" name=\"to\" value=\"instance\">");
			html_printf(
			    o,
			    "<input type=\"hidden\" name=\"back\" value=\"%lld\"><label "
			    "for=\"fs-%lld\">Nouvel état</label><select id=\"fs-%lld\" "
			    "name=\"status\"><option value=\"fait\">Fait</option><option "
			    "value=\"abandonne\">Abandonné</option><option value=\"ouvert\">Ouvert"
			    "</option></select> <button class=\"button small\" type=\"submit\">"
			    "Mettre à jour</button></form></td>",
			    (long long)back, (long long)fid, (long long)fid);
		}
		buf_puts(o, "</tr>\n");
	}
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucune suite ouverte.</p>\n");
}

static void decisions_list(struct req *r, int64_t meeting_id)
{
	struct buf *o = &r->out;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT d.number, d.text, n.id, n.number, n.title FROM "
	                               "decisions d LEFT JOIN nodes n ON n.id = d.node_id WHERE "
	                               "d.meeting_id = ? ORDER BY d.number",
	                               "I", meeting_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ol class=\"decisions\">\n");
		html_printf(o, "<li value=\"%lld\"><strong>Décision n° %lld</strong> — %s",
		            (long long)db_col_int64(st, 0), (long long)db_col_int64(st, 0),
		            db_col_text(st, 1));
		if (!db_col_is_null(st, 2))
			html_printf(o, " (fiche <a href=\"/fiches/%lld\">%s %s</a>)",
			            (long long)db_col_int64(st, 2), db_col_text(st, 3),
			            db_col_text(st, 4));
		buf_puts(o, "</li>\n");
	}
	db_finalize(st);
	buf_puts(o, n ? "</ol>\n" : "<p>Aucune décision enregistrée.</p>\n");
}

/* "Rappel de la réunion précédente": its decisions and the open follow-ups of the instance
 * from earlier meetings. */
static void recall(struct req *r, struct meeting *m, int w)
{
	struct buf *o = &r->out;
	int64_t prev = 0;
	char *prev_at = NULL;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, starts_at FROM meetings WHERE instance_id = ? "
	                               "AND status <> 'cancelled' AND (starts_at < ? OR "
	                               "(starts_at = ? AND id < ?)) ORDER BY starts_at DESC, id "
	                               "DESC LIMIT 1",
	                               "IssI", m->in.id, m->starts_at, m->starts_at, m->id);
	if (st && db_step(st) == DB_ROW) {
		prev = db_col_int64(st, 0);
		prev_at = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(o, "<section class=\"recall\" aria-labelledby=\"recall-h\">\n<h2 id=\"recall-h\">"
	            "Rappel de la réunion précédente</h2>\n");
	if (prev) {
		html_printf(o, "<p>Réunion du <a href=\"/reunions/%lld\">", (long long)prev);
		when_fr(o, prev_at);
		buf_puts(o, "</a>.</p>\n<h3>Décisions prises</h3>\n");
		decisions_list(r, prev);
	} else {
		buf_puts(o, "<p>C'est la première réunion de cette instance.</p>\n");
	}
	buf_puts(o, "<h3>Suites restées ouvertes</h3>\n");
	st = db_queryf(r->db,
	               FOLLOW_COLS "JOIN meetings mt ON mt.id = f.meeting_id WHERE mt.instance_id "
	                           "= ? AND f.status = 'ouvert' AND mt.id <> ? AND (mt.starts_at < "
	                           "? OR (mt.starts_at = ? AND mt.id < ?)) ORDER BY f.due_on, f.id",
	               "IIssI", m->in.id, m->id, m->starts_at, m->starts_at, m->id);
	follow_ups_table(r, st, "Suites ouvertes des réunions précédentes", w, m->id);
	db_finalize(st);
	buf_puts(o, "</section>\n");
	free(prev_at);
}

static void meeting_render(struct req *r, struct meeting *m, const char *error)
{
	struct buf *o = &r->out;
	int w = can_write(r, m->in.plan_id);
	char *plan_href = xasprintf("/plans/%lld", (long long)m->in.plan_id);
	char *inst_href = xasprintf("/instances/%lld", (long long)m->in.id);
	struct crumb crumbs[] = {
	    {m->in.plan_title, plan_href}, {m->in.name, inst_href}, {NULL, NULL}};
	page_begin(r, "Réunion", crumbs);
	html_printf(o, "<h1>%s — réunion du ", m->in.name);
	when_fr(o, m->starts_at);
	html_printf(o,
	            "</h1>\n<dl class=\"facts\"><div><dt>Lieu</dt><dd>%s</dd></div><div><dt>État"
	            "</dt><dd>%s</dd></div></dl>\n",
	            *m->place ? m->place : "—", meeting_status_label(m->status));
	if (error)
		html_printf(o, "<p class=\"notice error\" role=\"alert\">%s</p>\n", error);
	if (w) {
		char cur[32];
		local_input(m->starts_at, cur);
		const char *when =
		    error && req_form(r, "starts_at") ? req_form(r, "starts_at") : cur;
		const char *place = error && req_form(r, "place") ? req_form(r, "place") : m->place;
		html_printf(o,
		            "<details><summary>Modifier la date ou le lieu</summary>\n<form "
		            "class=\"form\" method=\"post\" action=\"/reunions/%lld/modifier\">\n",
		            (long long)m->id);
		page_csrf(r);
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"e-when\">Date et heure</label><input "
		    "id=\"e-when\" name=\"starts_at\" type=\"datetime-local\" required "
		    "value=\"%s\"><p class=\"hint\">Heure de Paris.</p></div>\n<div "
		    "class=\"field\"><label for=\"e-place\">Lieu</label><input id=\"e-place\" "
		    "name=\"place\" maxlength=\"%d\" value=\"%s\"></div>\n<div "
		    "class=\"actions\"><button class=\"button small\" type=\"submit\">"
		    "Enregistrer</button></div>\n</form>\n</details>\n",
		    when, PLACE_MAX_LEN, place);
	}

	/* 1. The memory of the instance comes first. */
	recall(r, m, w);

	/* 2. Agenda. */
	buf_puts(o, "<h2>Ordre du jour</h2>\n");
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT a.id, a.title, n.id, n.number, n.title, nd.id, nd.title FROM "
	              "agenda_items a LEFT JOIN nodes n ON n.id = a.node_id LEFT JOIN needs nd ON "
	              "nd.id = a.need_id AND nd.moderation = 'publie' WHERE a.meeting_id = ? "
	              "ORDER BY a.position, a.id",
	              "I", m->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ol class=\"agenda\">\n");
		int64_t aid = db_col_int64(st, 0);
		html_printf(o, "<li>%s", db_col_text(st, 1));
		if (!db_col_is_null(st, 2))
			html_printf(o, " (fiche <a href=\"/fiches/%lld\">%s %s</a>)",
			            (long long)db_col_int64(st, 2), db_col_text(st, 3),
			            db_col_text(st, 4));
		if (!db_col_is_null(st, 5))
			html_printf(o, " (besoin <a href=\"/besoins/%lld\">%s</a>)",
			            (long long)db_col_int64(st, 5), db_col_text(st, 6));
		if (w) {
			static const char *const acts[][2] = {{"monter", "Monter"},
			                                      {"descendre", "Descendre"},
			                                      {"supprimer", "Retirer"}};
			for (int i = 0; i < 3; i++) {
				html_printf(o,
				            " <form class=\"inline\" method=\"post\" "
				            "action=\"/reunions/%lld/ordre-du-jour/%lld/%s\">",
				            (long long)m->id, (long long)aid, acts[i][0]);
				page_csrf(r);
				html_printf(
				    o,
				    "<button class=\"button small\" type=\"submit\">%s<span "
				    "class=\"visually-hidden\"> : %s</span></button></form>",
				    acts[i][1], db_col_text(st, 1));
			}
		}
		buf_puts(o, "</li>\n");
	}
	db_finalize(st);
	buf_puts(o, n ? "</ol>\n" : "<p>L'ordre du jour est vide.</p>\n");
	if (w) {
		html_printf(
		    o,
		    "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/ordre-du-jour\">"
		    "\n",
		    (long long)m->id);
		page_csrf(r);
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"a-title\">Point à l'ordre du jour</label>"
		    "<input id=\"a-title\" name=\"title\" required maxlength=\"%d\"></div>\n"
		    "<div class=\"field\"><label for=\"a-node\">Fiche-action liée</label>"
		    "<select id=\"a-node\" name=\"node\">",
		    TITLE_MAX_LEN);
		node_options(r, m->in.plan_id, 0);
		buf_puts(o,
		         "</select></div>\n<div class=\"field\"><label for=\"a-need\">Besoin lié"
		         "</label><select id=\"a-need\" name=\"need\"><option value=\"\">— aucun —"
		         "</option>");
		struct db_stmt *ns =
		    db_prepare(r->db, "SELECT id, title FROM needs WHERE moderation = "
		                      "'publie' ORDER BY title, id");
		while (ns && db_step(ns) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s</option>",
			            (long long)db_col_int64(ns, 0), db_col_text(ns, 1));
		db_finalize(ns);
		buf_puts(o,
		         "</select></div>\n<div class=\"actions\"><button class=\"button small\" "
		         "type=\"submit\">Ajouter le point</button></div>\n</form>\n");
	}

	/* 3. Attendance. */
	buf_puts(o, "<h2>Présences</h2>\n");
	st = db_queryf(r->db,
	               "SELECT t.id, COALESCE(u.name, a.name, t.guest_name), t.status, "
	               "t.guest_name FROM attendance t LEFT JOIN users u ON u.id = t.user_id LEFT "
	               "JOIN actors a ON a.id = t.actor_id WHERE t.meeting_id = ? ORDER BY t.id",
	               "I", m->id);
	n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0) {
			if (w) {
				html_printf(o,
				            "<form class=\"form\" method=\"post\" "
				            "action=\"/reunions/%lld/presences\">\n",
				            (long long)m->id);
				page_csrf(r);
			}
			buf_puts(o,
			         "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			         "Présences</caption>\n<thead><tr><th scope=\"col\">Personne</th>"
			         "<th scope=\"col\">Présence</th></tr></thead>\n<tbody>\n");
		}
		int64_t tid = db_col_int64(st, 0);
		const char *status = db_col_text(st, 2);
		html_printf(o, "<tr><th scope=\"row\">%s%s</th><td>", db_col_text(st, 1),
		            db_col_text(st, 3) ? " (invité·e)" : "");
		if (w) {
			html_printf(
			    o,
			    "<label class=\"visually-hidden\" for=\"att-%lld\">Présence de %s"
			    "</label><select id=\"att-%lld\" name=\"att-%lld\">",
			    (long long)tid, db_col_text(st, 1), (long long)tid, (long long)tid);
			static const char *const st3[] = {"present", "excuse", "absent"};
			for (int i = 0; i < 3; i++)
				html_printf(o, "<option value=\"%s\"%R>%s</option>", st3[i],
				            !strcmp(status, st3[i]) ? " selected" : "",
				            attendance_label(st3[i]));
			buf_puts(o, "</select>");
		} else {
			html_printf(o, "%s", attendance_label(status));
		}
		buf_puts(o, "</td></tr>\n");
	}
	db_finalize(st);
	if (n) {
		buf_puts(o, "</tbody></table></div>\n");
		if (w)
			buf_puts(
			    o,
			    "<div class=\"actions\"><button class=\"button small\" "
			    "type=\"submit\">Enregistrer les présences</button></div>\n</form>\n");
	} else {
		buf_puts(o, "<p>Aucune présence enregistrée.</p>\n");
	}
	if (w) {
		html_printf(
		    o, "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/invites\">\n",
		    (long long)m->id);
		page_csrf(r);
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"g-name\">Personne invitée</label><input "
		    "id=\"g-name\" name=\"guest\" required maxlength=\"%d\"></div>\n<div "
		    "class=\"actions\"><button class=\"button small\" type=\"submit\">Ajouter "
		    "l'invité·e</button></div>\n</form>\n",
		    NAME_MAX_LEN);
	}

	/* 4. Minutes. */
	buf_puts(o, "<h2>Compte rendu</h2>\n");
	if (*m->minutes) {
		buf_puts(o, "<div class=\"prose\">\n");
		markdown_render(o, m->minutes);
		buf_puts(o, "</div>\n");
	} else {
		buf_puts(o, "<p>Pas encore de compte rendu.</p>\n");
	}
	if (w) {
		const char *minutes =
		    error && req_form(r, "minutes") ? req_form(r, "minutes") : m->minutes;
		html_printf(
		    o,
		    "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/compte-rendu\">"
		    "\n",
		    (long long)m->id);
		page_csrf(r);
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"cr\">Compte rendu (Markdown)</label>"
		    "<textarea id=\"cr\" name=\"minutes\" rows=\"12\">%s</textarea></div>\n"
		    "<div class=\"field\"><label for=\"cr-status\">État de la réunion</label>"
		    "<select id=\"cr-status\" name=\"status\">",
		    minutes);
		static const char *const ms[] = {"planned", "held", "cancelled"};
		for (int i = 0; i < 3; i++)
			html_printf(o, "<option value=\"%s\"%R>%s</option>", ms[i],
			            !strcmp(m->status, ms[i]) ? " selected" : "",
			            meeting_status_label(ms[i]));
		buf_puts(o,
		         "</select></div>\n<div class=\"actions\"><button class=\"button\" "
		         "type=\"submit\">Enregistrer le compte rendu</button></div>\n</form>\n");
	}

	/* 5. Decisions. */
	buf_puts(o, "<h2>Décisions</h2>\n");
	decisions_list(r, m->id);
	if (w) {
		html_printf(
		    o,
		    "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/decisions\">\n",
		    (long long)m->id);
		page_csrf(r);
		html_printf(
		    o, "<div class=\"field\"><label for=\"d-text\">Décision</label><textarea "
		       "id=\"d-text\" name=\"text\" rows=\"3\" required></textarea></div>\n"
		       "<div class=\"field\"><label for=\"d-node\">Fiche-action concernée</label>"
		       "<select id=\"d-node\" name=\"node\">");
		node_options(r, m->in.plan_id, 0);
		buf_puts(o,
		         "</select></div>\n<div class=\"actions\"><button class=\"button small\" "
		         "type=\"submit\">Ajouter la décision</button></div>\n</form>\n");
	}

	/* 6. Follow-ups decided at this meeting. */
	buf_puts(o, "<h2>Le pas d'après</h2>\n");
	st = db_queryf(r->db, FOLLOW_COLS "WHERE f.meeting_id = ? ORDER BY f.id", "I", m->id);
	follow_ups_table(r, st, "Suites décidées à cette réunion", w, m->id);
	db_finalize(st);
	if (w) {
		html_printf(
		    o, "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/suites\">\n",
		    (long long)m->id);
		page_csrf(r);
		html_printf(o,
		            "<div class=\"field\"><label for=\"f-what\">Quoi</label><input "
		            "id=\"f-what\" name=\"what\" required maxlength=\"%d\"></div>\n"
		            "<div class=\"field\"><label for=\"f-owner\">Qui</label><select "
		            "id=\"f-owner\" name=\"owner\"><option value=\"\">— personne du plan —"
		            "</option>",
		            TITLE_MAX_LEN);
		st = db_queryf(r->db,
		               "SELECT u.id, u.name FROM plan_members pm JOIN users u ON u.id = "
		               "pm.user_id WHERE pm.plan_id = ? ORDER BY u.name, u.id",
		               "I", m->in.plan_id);
		while (st && db_step(st) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s</option>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 1));
		db_finalize(st);
		html_printf(
		    o,
		    "</select></div>\n<div class=\"field\"><label for=\"f-owner-text\">Ou "
		    "structure, personne extérieure</label><input id=\"f-owner-text\" "
		    "name=\"owner_text\" maxlength=\"%d\"></div>\n<div class=\"field\"><label "
		    "for=\"f-due\">Échéance</label><input id=\"f-due\" name=\"due_on\" "
		    "type=\"date\"><p class=\"hint\">AAAA-MM-JJ, facultative.</p></div>\n"
		    "<div class=\"actions\"><button class=\"button small\" type=\"submit\">"
		    "Ajouter la suite</button></div>\n</form>\n",
		    NAME_MAX_LEN);
	}
	page_end(r);
	free(plan_href);
	free(inst_href);
}

/* GET /reunions/{meeting} */
static void meeting_page(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_READER, &m))
		return;
	meeting_render(r, &m, NULL);
	meeting_free(&m);
}

/* End of a meeting write: redirect to the meeting, or re-render with the error (422). */
static void meeting_done(struct req *r, struct meeting *m, const char *err, const char *anchor)
{
	if (err) {
		meeting_render(r, m, err);
		r->status = 422;
	} else {
		char *loc = xasprintf("/reunions/%lld%s", (long long)m->id, anchor);
		resp_redirect(r, loc);
		free(loc);
	}
}

/* Audit a change of one row of `table` (allow-listed by the callers). */
static int audit_row(struct req *r, const char *action, const char *entity, const char *sql,
                     int64_t id, json_t *before)
{
	json_t *after = row_json(r->db, sql, id);
	int rc = audit_write_id(r->db, r->user->id, "web", action, entity, id, before, after);
	json_decref(after);
	return rc;
}

#define MEETING_ROW "SELECT * FROM meetings WHERE id = ?"

/* POST /reunions/{meeting}/compte-rendu: minutes and status. */
static void minutes_post(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	const char *minutes = req_form(r, "minutes");
	const char *status = req_form(r, "status");
	const char *err = NULL;
	if (!minutes)
		err = "Le compte rendu est manquant.";
	else if (strlen(minutes) > MINUTES_MAX_LEN)
		err = "Le compte rendu est trop long (100 000 caractères au plus).";
	else if (!status || (strcmp(status, "planned") && strcmp(status, "held") &&
	                     strcmp(status, "cancelled")))
		err = "Choisissez un état de réunion dans la liste.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		json_t *before = row_json(r->db, MEETING_ROW, id);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db,
			    "UPDATE meetings SET minutes = ?, status = ?, updated_at = ? WHERE "
			    "id = ?",
			    "sssI", minutes, status, now, id);
		if (rc == DB_OK)
			rc = audit_row(r, "update", "meeting", MEETING_ROW, id, before);
		json_decref(before);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	meeting_free(&m);
}

/* POST /reunions/{meeting}/modifier: date, time and place. */
static void meeting_edit(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *place = field(r, "place");
	char when[32];
	const char *err = NULL;
	if (governance_local_to_utc(req_form(r, "starts_at"), when))
		err = "Indiquez une date et une heure valides (AAAA-MM-JJTHH:MM).";
	else if (place && strlen(place) > PLACE_MAX_LEN)
		err = "Le lieu est trop long (300 caractères au plus).";
	if (!err) {
		char now[32];
		time_iso_now(now);
		json_t *before = row_json(r->db, MEETING_ROW, id);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc =
			    db_execf(r->db,
			             "UPDATE meetings SET starts_at = ?, place = ?, updated_at = ? "
			             "WHERE id = ?",
			             "sssI", when, place ? place : "", now, id);
		if (rc == DB_OK)
			rc = audit_row(r, "update", "meeting", MEETING_ROW, id, before);
		json_decref(before);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(place);
	meeting_free(&m);
}

/* POST /reunions/{meeting}/ordre-du-jour: add an agenda item. */
static void agenda_add(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *title = field(r, "title");
	int64_t node = node_of_plan(r, "node", m.in.plan_id);
	int64_t need = 0, ok = 0;
	const char *ns = req_form(r, "need");
	if (ns && *ns &&
	    (parse_int64(ns, &need) ||
	     db_int64f(r->db, &ok, "SELECT id FROM needs WHERE id = ? AND moderation = 'publie'",
	               "I", need) != DB_OK))
		need = -1;
	int64_t count = 0;
	db_int64f(r->db, &count, "SELECT COUNT(*) FROM agenda_items WHERE meeting_id = ?", "I", id);
	const char *err = NULL;
	if (!title || !*title)
		err = "Indiquez l'intitulé du point.";
	else if (strlen(title) > TITLE_MAX_LEN)
		err = "L'intitulé est trop long (300 caractères au plus).";
	else if (node < 0)
		err = "Choisissez une fiche-action de ce plan.";
	else if (need < 0)
		err = "Choisissez un besoin publié de l'observatoire.";
	else if (count >= AGENDA_MAX)
		err = "L'ordre du jour compte déjà 100 points.";
	if (!err) {
		int64_t aid = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &aid,
			               "INSERT INTO agenda_items (meeting_id, position, title) "
			               "VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM "
			               "agenda_items WHERE meeting_id = ?), ?) RETURNING id",
			               "IIs", id, id, title);
		if (rc == DB_OK && node)
			rc = db_execf(r->db, "UPDATE agenda_items SET node_id = ? WHERE id = ?",
			              "II", node, aid);
		if (rc == DB_OK && need)
			rc = db_execf(r->db, "UPDATE agenda_items SET need_id = ? WHERE id = ?",
			              "II", need, aid);
		if (rc == DB_OK)
			rc = audit_row(r, "create", "agenda_item",
			               "SELECT * FROM agenda_items WHERE id = ?", aid, NULL);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(title);
	meeting_free(&m);
}

/* POST /reunions/{meeting}/ordre-du-jour/{item}/{action}: monter, descendre, supprimer. */
static void agenda_action(struct req *r)
{
	int64_t id, aid;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	if (req_param_id(r, 1, &aid)) {
		meeting_free(&m);
		return;
	}
	const char *act = r->params[2];
	int64_t pos = 0;
	if (db_int64f(r->db, &pos,
	              "SELECT position FROM agenda_items WHERE id = ? AND meeting_id = ?", "II",
	              aid, id) != DB_OK ||
	    (strcmp(act, "monter") && strcmp(act, "descendre") && strcmp(act, "supprimer"))) {
		resp_error(r, 404, "Cette page n'existe pas.");
		meeting_free(&m);
		return;
	}
	const char *sql = "SELECT * FROM agenda_items WHERE id = ?";
	json_t *before = row_json(r->db, sql, aid);
	int rc = db_begin(r->db);
	if (!strcmp(act, "supprimer")) {
		if (rc == DB_OK)
			rc = db_execf(r->db, "DELETE FROM agenda_items WHERE id = ?", "I", aid);
		if (rc == DB_OK)
			rc = audit_write_id(r->db, r->user->id, "web", "delete", "agenda_item", aid,
			                    before, NULL);
	} else {
		int up = !strcmp(act, "monter");
		int64_t other = 0, opos = 0;
		struct db_stmt *st = db_queryf(r->db,
		                               up ? "SELECT id, position FROM agenda_items WHERE "
		                                    "meeting_id = ? AND position < ? "
		                                    "ORDER BY position DESC, id DESC LIMIT 1"
		                                  : "SELECT id, position FROM agenda_items WHERE "
		                                    "meeting_id = ? AND position > ? "
		                                    "ORDER BY position, id LIMIT 1",
		                               "II", id, pos);
		if (st && db_step(st) == DB_ROW) {
			other = db_col_int64(st, 0);
			opos = db_col_int64(st, 1);
		}
		db_finalize(st);
		if (other && rc == DB_OK) {
			rc = db_execf(r->db, "UPDATE agenda_items SET position = ? WHERE id = ?",
			              "II", opos, aid);
			if (rc == DB_OK)
				rc = db_execf(r->db,
				              "UPDATE agenda_items SET position = ? WHERE id = ?",
				              "II", pos, other);
			if (rc == DB_OK)
				rc = audit_row(r, "move", "agenda_item", sql, aid, before);
		}
	}
	json_decref(before);
	meeting_done(r, &m, finish_tx(r->db, rc) == DB_OK ? NULL : "L'enregistrement a échoué.",
	             "");
	meeting_free(&m);
}

/* POST /reunions/{meeting}/presences: the status of each attendance row (att-ID fields). */
static void attendance_post(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	const char *err = NULL;
	for (size_t i = 0; i < r->form.n && !err; i++) {
		const char *k = r->form.items[i].key, *v = r->form.items[i].val;
		if (strncmp(k, "att-", 4))
			continue;
		if (strcmp(v, "present") && strcmp(v, "excuse") && strcmp(v, "absent"))
			err = "Choisissez présent·e, excusé·e ou absent·e.";
	}
	if (!err) {
		json_t *before = json_array(), *after = json_array();
		struct db_stmt *st = db_queryf(
		    r->db, "SELECT id, status FROM attendance WHERE meeting_id = ?", "I", id);
		int rc = db_begin(r->db);
		while (rc == DB_OK && st && db_step(st) == DB_ROW) {
			int64_t tid = db_col_int64(st, 0);
			char key[40];
			snprintf(key, sizeof key, "att-%lld", (long long)tid);
			const char *v = req_form(r, key);
			if (!v || !strcmp(v, db_col_text(st, 1)))
				continue;
			json_array_append_new(before, json_pack("{sIss}", "id", (json_int_t)tid,
			                                        "status", db_col_text(st, 1)));
			json_array_append_new(
			    after, json_pack("{sIss}", "id", (json_int_t)tid, "status", v));
			rc = db_execf(r->db, "UPDATE attendance SET status = ? WHERE id = ?", "sI",
			              v, tid);
		}
		db_finalize(st);
		if (rc == DB_OK && json_array_size(after)) {
			json_t *b = json_pack("{sO}", "attendance", before);
			json_t *a = json_pack("{sO}", "attendance", after);
			rc = audit_write_id(r->db, r->user->id, "web", "attendance", "meeting", id,
			                    b, a);
			json_decref(b);
			json_decref(a);
		}
		json_decref(before);
		json_decref(after);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	meeting_free(&m);
}

/* POST /reunions/{meeting}/invites: a guest in the attendance list. */
static void guest_add(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *guest = field(r, "guest");
	const char *err = NULL;
	if (!guest || !*guest)
		err = "Indiquez le nom de la personne invitée.";
	else if (strlen(guest) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	if (!err) {
		int64_t tid = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &tid,
			    "INSERT INTO attendance (meeting_id, guest_name, status) VALUES "
			    "(?, ?, 'present') RETURNING id",
			    "Is", id, guest);
		if (rc == DB_OK)
			rc = audit_row(r, "create", "attendance",
			               "SELECT * FROM attendance WHERE id = ?", tid, NULL);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(guest);
	meeting_free(&m);
}

/* POST /reunions/{meeting}/decisions: numbered 1, 2, … within the meeting. */
static void decision_add(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *text = field(r, "text");
	int64_t node = node_of_plan(r, "node", m.in.plan_id);
	const char *err = NULL;
	if (!text || !*text)
		err = "Indiquez le texte de la décision.";
	else if (strlen(text) > TEXT_MAX_LEN)
		err = "La décision est trop longue (5 000 caractères au plus).";
	else if (node < 0)
		err = "Choisissez une fiche-action de ce plan.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		int64_t did = 0, num = 0;
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &num,
			               "SELECT COALESCE(MAX(number), 0) + 1 FROM decisions WHERE "
			               "meeting_id = ?",
			               "I", id);
		if (rc == DB_OK)
			rc = node ? db_int64f(
			                r->db, &did,
			                "INSERT INTO decisions (meeting_id, number, text, node_id, "
			                "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			                "IIsIs", id, num, text, node, now)
			          : db_int64f(r->db, &did,
			                      "INSERT INTO decisions (meeting_id, number, text, "
			                      "created_at) VALUES (?, ?, ?, ?) RETURNING id",
			                      "IIss", id, num, text, now);
		if (rc == DB_OK)
			rc = audit_row(r, "create", "decision",
			               "SELECT * FROM decisions WHERE id = ?", did, NULL);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(text);
	meeting_free(&m);
}

/* POST /reunions/{meeting}/suites: a follow-up ("le pas d'après"). */
static void follow_up_add(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *what = field(r, "what");
	char *owner_text = field(r, "owner_text");
	const char *owner = req_form(r, "owner");
	const char *due = req_form(r, "due_on");
	int64_t uid = 0, ok = 0;
	const char *err = NULL;
	if (!what || !*what)
		err = "Indiquez ce qui doit être fait.";
	else if (strlen(what) > TITLE_MAX_LEN)
		err = "Le texte est trop long (300 caractères au plus).";
	else if (owner && *owner &&
	         (parse_int64(owner, &uid) ||
	          db_int64f(r->db, &ok,
	                    "SELECT user_id FROM plan_members WHERE plan_id = ? AND user_id = ?",
	                    "II", m.in.plan_id, uid) != DB_OK))
		err = "Choisissez une personne membre du plan.";
	else if (owner_text && strlen(owner_text) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	else if (due && *due && !date_valid(due))
		err = "L'échéance doit être une date au format AAAA-MM-JJ.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		int64_t fid = 0;
		const char *due_v = due && *due ? due : NULL;
		int rc = db_begin(r->db);
		if (rc == DB_OK) {
			struct db_stmt *st = db_prepare(
			    r->db,
			    "INSERT INTO follow_ups (meeting_id, what, owner_user_id, owner_text, "
			    "due_on, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
			rc = DB_ERROR;
			if (st) {
				db_bind_int64(st, 1, id);
				db_bind_text(st, 2, what);
				if (uid)
					db_bind_int64(st, 3, uid);
				else
					db_bind_null(st, 3);
				db_bind_text(st, 4, owner_text ? owner_text : "");
				db_bind_text(st, 5, due_v);
				db_bind_text(st, 6, now);
				if (db_step(st) == DB_ROW) {
					fid = db_col_int64(st, 0);
					rc = DB_OK;
				}
			}
			db_finalize(st);
		}
		if (rc == DB_OK)
			rc = audit_row(r, "create", "follow_up",
			               "SELECT * FROM follow_ups WHERE id = ?", fid, NULL);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(what);
	free(owner_text);
	meeting_free(&m);
}

/* POST /suites/{followup}/statut: close (fait, abandonne) or reopen a follow-up; back to the
 * meeting named by `back` when it is of the same instance. */
static void follow_up_status(struct req *r)
{
	int64_t fid, mid = 0;
	if (req_param_id(r, 0, &fid))
		return;
	if (db_int64f(r->db, &mid, "SELECT meeting_id FROM follow_ups WHERE id = ?", "I", fid) !=
	    DB_OK) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return;
	}
	struct meeting m;
	if (meeting_require(r, mid, ROLE_COORDINATOR, &m))
		return;
	const char *status = req_form(r, "status");
	int64_t back = 0, same = 0;
	const char *bs = req_form(r, "back");
	if (bs && !parse_int64(bs, &back) &&
	    db_int64f(r->db, &same, "SELECT id FROM meetings WHERE id = ? AND instance_id = ?",
	              "II", back, m.in.id) == DB_OK)
		m.id = back;
	const char *err = NULL;
	if (!status ||
	    (strcmp(status, "fait") && strcmp(status, "abandonne") && strcmp(status, "ouvert")))
		err = "Choisissez fait, abandonné ou ouvert.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		const char *sql = "SELECT * FROM follow_ups WHERE id = ?";
		json_t *before = row_json(r->db, sql, fid);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(
			    r->db, "UPDATE follow_ups SET status = ?, closed_at = ? WHERE id = ?",
			    "ssI", status, strcmp(status, "ouvert") ? now : NULL, fid);
		if (rc == DB_OK)
			rc = audit_row(r, "status", "follow_up", sql, fid, before);
		json_decref(before);
		if (finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		/* Re-render the meeting the form came from. */
		struct meeting shown;
		meeting_free(&m);
		if (meeting_require(r, back ? back : mid, ROLE_COORDINATOR, &shown))
			return;
		meeting_render(r, &shown, err);
		r->status = 422;
		meeting_free(&shown);
		return;
	}
	const char *to = req_form(r, "to");
	if (to && !strcmp(to, "instance")) {
		char *loc = xasprintf("/instances/%lld", (long long)m.in.id);
		resp_redirect(r, loc);
		free(loc);
	} else {
		meeting_done(r, &m, NULL, "");
	}
	meeting_free(&m);
}

/* --- iCalendar ------------------------------------------------------------------------------ */

void ics_line(struct buf *out, const char *name, const char *value, int escape)
{
	struct buf l = {0};
	buf_puts(&l, name);
	buf_putc(&l, ':');
	for (const char *p = value ? value : ""; *p; p++) {
		if (!escape) {
			buf_putc(&l, *p);
		} else if (*p == '\\' || *p == ',' || *p == ';') {
			buf_putc(&l, '\\');
			buf_putc(&l, *p);
		} else if (*p == '\r') {
			if (p[1] != '\n')
				buf_puts(&l, "\\n");
		} else if (*p == '\n') {
			buf_puts(&l, "\\n");
		} else if ((unsigned char)*p < 0x20 && *p != '\t') {
			continue;
		} else {
			buf_putc(&l, *p);
		}
	}
	/* Fold at 75 octets, never inside a UTF-8 sequence; continuation lines start with a space
	 * that counts in their 75. */
	const char *s = buf_str(&l);
	size_t n = l.len, i = 0, lim = 75;
	while (i < n) {
		size_t end = i + lim;
		if (end >= n) {
			end = n;
		} else {
			while (end > i && ((unsigned char)s[end] & 0xC0) == 0x80)
				end--;
		}
		buf_append(out, s + i, end - i);
		buf_puts(out, "\r\n");
		i = end;
		if (i < n) {
			buf_putc(out, ' ');
			lim = 74;
		}
	}
	buf_free(&l);
}

static void ics_time(const char *iso, char out[32])
{
	int64_t t = parse_utc(iso);
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
}

/* GET /instances/{instance}/reunions.ics */
static void meetings_ics(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_READER, &in))
		return;
	struct buf *o = &r->out;
	char now[32], stamp[32];
	time_iso_now(now);
	ics_time(now, stamp);
	ics_line(o, "BEGIN", "VCALENDAR", 0);
	ics_line(o, "VERSION", "2.0", 0);
	ics_line(o, "PRODID", "-//maillage//Instances de gouvernance//FR", 0);
	ics_line(o, "CALSCALE", "GREGORIAN", 0);
	ics_line(o, "X-WR-CALNAME", in.name, 1);
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT id, starts_at, place, status FROM meetings WHERE "
	                               "instance_id = ? ORDER BY starts_at, id",
	                               "I", id);
	while (st && db_step(st) == DB_ROW) {
		char uid[96], start[32], end[32];
		snprintf(uid, sizeof uid, "reunion-%lld@maillage", (long long)db_col_int64(st, 0));
		ics_time(db_col_text(st, 1), start);
		int64_t t = parse_utc(db_col_text(st, 1)) + 7200;
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(end, sizeof end, "%Y%m%dT%H%M%SZ", &tm);
		ics_line(o, "BEGIN", "VEVENT", 0);
		ics_line(o, "UID", uid, 0);
		ics_line(o, "DTSTAMP", stamp, 0);
		ics_line(o, "DTSTART", start, 0);
		ics_line(o, "DTEND", end, 0);
		char *summary = xasprintf("%s — réunion", in.name);
		ics_line(o, "SUMMARY", summary, 1);
		free(summary);
		if (*db_col_text(st, 2))
			ics_line(o, "LOCATION", db_col_text(st, 2), 1);
		ics_line(o, "STATUS",
		         !strcmp(db_col_text(st, 3), "cancelled") ? "CANCELLED" : "CONFIRMED", 0);
		ics_line(o, "END", "VEVENT", 0);
	}
	db_finalize(st);
	ics_line(o, "END", "VCALENDAR", 0);
	resp_header(r, "Content-Disposition", "attachment; filename=\"reunions.ics\"");
	resp_send(r, 200, "text/calendar; charset=utf-8");
	inst_free(&in);
}

const struct route governance_routes[] = {
    {M_GET | M_POST, "/plans/{plan}/instances", ACC_PUBLIC, instances_page,
     "Instances de gouvernance d'un plan (création par la coordination)"},
    {M_GET, "/instances/{instance}", ACC_PUBLIC, instance_page, "Une instance et ses réunions"},
    {M_POST, "/instances/{instance}/membres", ACC_LOGIN, member_add,
     "Ajouter un membre à une instance"},
    {M_POST, "/instances/{instance}/reunions", ACC_LOGIN, meeting_create, "Programmer une réunion"},
    {M_GET, "/instances/{instance}/reunions.ics", ACC_PUBLIC, meetings_ics,
     "Réunions d'une instance (iCalendar)"},
    {M_GET, "/reunions/{meeting}", ACC_PUBLIC, meeting_page,
     "Une réunion : rappel, ordre du jour, présences, compte rendu, décisions, suites"},
    {M_POST, "/reunions/{meeting}/modifier", ACC_LOGIN, meeting_edit,
     "Modifier la date ou le lieu d'une réunion"},
    {M_POST, "/reunions/{meeting}/compte-rendu", ACC_LOGIN, minutes_post,
     "Enregistrer le compte rendu"},
    {M_POST, "/reunions/{meeting}/ordre-du-jour", ACC_LOGIN, agenda_add,
     "Ajouter un point à l'ordre du jour"},
    {M_POST, "/reunions/{meeting}/ordre-du-jour/{item}/{action}", ACC_LOGIN, agenda_action,
     "Monter, descendre ou retirer un point"},
    {M_POST, "/reunions/{meeting}/presences", ACC_LOGIN, attendance_post,
     "Enregistrer les présences"},
    {M_POST, "/reunions/{meeting}/invites", ACC_LOGIN, guest_add, "Ajouter une personne invitée"},
    {M_POST, "/reunions/{meeting}/decisions", ACC_LOGIN, decision_add, "Ajouter une décision"},
    {M_POST, "/reunions/{meeting}/suites", ACC_LOGIN, follow_up_add, "Ajouter une suite"},
    {M_POST, "/suites/{followup}/statut", ACC_LOGIN, follow_up_status,
     "Clore ou rouvrir une suite"},
    {0},
};
