/* governance: instances of a plan (COPIL, COTECH, commissions…), their meetings — agenda,
 * attendance, minutes, numbered decisions, follow-ups ("le pas d'après") — the reminder of the
 * previous meeting shown first when a new one is opened, and the iCalendar export. Every write is
 * done by a coordinator of the plan (or an administrator) and audited with before/after. */
#include "governance.h"

#include "audit.h"
#include "cycle.h"
#include "dashboard.h"
#include "db.h"
#include "embed.h"
#include "labels.h"
#include "layout.h"
#include "notifications.h"
#include "plans.h"
#include "report.h"
#include "store.h"
#include "svg.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
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
	return label_of(KINDS, KIND_LABELS, kind, "Instance");
}

static int kind_valid(const char *kind)
{
	return label_index(KINDS, kind) >= 0;
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
		label_options(o, KINDS, KIND_LABELS, kind, NULL);
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
			rc = store_audit_row(r->db, r->user->id, "web", "create", "instance", id,
			                     NULL, "SELECT * FROM instances WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
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
	struct db_stmt *ds =
	    db_queryf(r->db, "SELECT description FROM instances WHERE id = ?", "I", in->id);
	if (ds && db_step(ds) == DB_ROW && *db_col_text(ds, 0))
		html_printf(o, "<p class=\"lead\">%s</p>\n", db_col_text(ds, 0));
	db_finalize(ds);
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
	                           "= ? AND f.status = 'ouvert' ORDER BY f.due_on NULLS LAST, f.id",
	               "I", in->id);
	follow_ups_table(r, st, "Suites ouvertes de l'instance", w, 0);
	db_finalize(st);

	buf_puts(o, "<h2>Réunions</h2>\n");
	html_printf(o,
	            "<p><a href=\"/instances/%lld/reunions.ics\">Calendrier des réunions "
	            "(iCalendar, .ics)</a> — <a href=\"/calendrier\">mon calendrier personnel de "
	            "toutes mes réunions</a></p>\n",
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
			rc = store_audit_row(r->db, r->user->id, "web", "create", "instance_member",
			                     mid, NULL,
			                     "SELECT * FROM instance_members WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
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

/* After a meeting is planned: its members with an account are notified (and e-mailed when
 * SMTP is configured), except the author. */
static void meeting_notify(struct db *db, int64_t instance_id, int64_t author)
{
	int64_t ids[200];
	int k = 0;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT DISTINCT user_id FROM instance_members WHERE "
	                               "instance_id = ? AND user_id IS NOT NULL",
	                               "I", instance_id);
	while (st && db_step(st) == DB_ROW && k < 200)
		ids[k++] = db_col_int64(st, 0);
	db_finalize(st);
	for (int i = 0; i < k; i++)
		if (ids[i] != author)
			notifications_created_for(db, ids[i]);
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
			    "SELECT CAST(? AS BIGINT), user_id, actor_id, 'present' FROM "
			    "instance_members WHERE "
			    "instance_id = ?",
			    "II", mid, id);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "web", "create", "meeting", mid,
			                     NULL, "SELECT * FROM meetings WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	if (err) {
		instance_render(r, &in, err);
		r->status = 422;
	} else {
		meeting_notify(r->db, id, r->user->id);
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

static const char *arbitration_label(const char *s)
{
	if (s && !strcmp(s, "retenue"))
		return "retenue";
	if (s && !strcmp(s, "ajournee"))
		return "ajournée";
	if (s && !strcmp(s, "refusee"))
		return "refusée";
	return "";
}

static void decisions_html(struct buf *o, struct db *db, int64_t meeting_id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT d.number, d.text, n.id, n.number, n.title, "
	                               "d.proposal_id, d.proposal_decision, pr.plan_id, pr.year "
	                               "FROM decisions d LEFT JOIN nodes n ON n.id = d.node_id "
	                               "LEFT JOIN proposals pr ON pr.id = d.proposal_id WHERE "
	                               "d.meeting_id = ? ORDER BY d.number",
	                               "I", meeting_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ol class=\"decisions\">\n");
		html_printf(o,
		            "<li value=\"%lld\" id=\"decision-%lld-%lld\"><strong>Décision n° %lld"
		            "</strong> — %s",
		            (long long)db_col_int64(st, 0), (long long)meeting_id,
		            (long long)db_col_int64(st, 0), (long long)db_col_int64(st, 0),
		            db_col_text(st, 1));
		if (!db_col_is_null(st, 5) && !db_col_is_null(st, 7))
			html_printf(
			    o,
			    " <span class=\"badge\">Arbitrage du COPIL : %s</span> (proposition "
			    "<a href=\"/plans/%lld/cycle?annee=%lld#proposition-%lld\">%s %s</a>, "
			    "cycle %lld)",
			    arbitration_label(db_col_text(st, 6)), (long long)db_col_int64(st, 7),
			    (long long)db_col_int64(st, 8), (long long)db_col_int64(st, 5),
			    db_col_text(st, 3) ? db_col_text(st, 3) : "",
			    db_col_text(st, 4) ? db_col_text(st, 4) : "",
			    (long long)db_col_int64(st, 8));
		else if (!db_col_is_null(st, 2))
			html_printf(o, " (fiche <a href=\"/fiches/%lld\">%s %s</a>)",
			            (long long)db_col_int64(st, 2), db_col_text(st, 3),
			            db_col_text(st, 4));
		buf_puts(o, "</li>\n");
	}
	db_finalize(st);
	buf_puts(o, n ? "</ol>\n" : "<p>Aucune décision enregistrée.</p>\n");
}

static void decisions_list(struct req *r, int64_t meeting_id)
{
	decisions_html(&r->out, r->db, meeting_id);
}

void governance_proposal_decisions(struct req *r, int64_t proposal_id)
{
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT d.meeting_id, d.number, m.starts_at, i.name, i.plan_id FROM "
	              "decisions d JOIN meetings m ON m.id = d.meeting_id JOIN "
	              "instances i ON i.id = m.instance_id WHERE d.proposal_id = ? "
	              "ORDER BY m.starts_at, d.number",
	              "I", proposal_id);
	while (st && db_step(st) == DB_ROW) {
		/* Instances are for the plan's members (as their pages): no link for the public. */
		if (db_col_is_null(st, 4) || (!(r->user && r->user->role == ROLE_ADMIN) &&
		                              plan_role(r, db_col_int64(st, 4)) < ROLE_READER))
			continue;
		html_printf(
		    &r->out,
		    "<br><a href=\"/reunions/%lld#decision-%lld-%lld\">Décision n° %lld — %s "
		    "du ",
		    (long long)db_col_int64(st, 0), (long long)db_col_int64(st, 0),
		    (long long)db_col_int64(st, 1), (long long)db_col_int64(st, 1),
		    db_col_text(st, 3));
		when_fr(&r->out, db_col_text(st, 2));
		buf_puts(&r->out, "</a>");
	}
	db_finalize(st);
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
	               FOLLOW_COLS
	               "JOIN meetings mt ON mt.id = f.meeting_id WHERE mt.instance_id "
	               "= ? AND f.status = 'ouvert' AND mt.id <> ? AND (mt.starts_at < "
	               "? OR (mt.starts_at = ? AND mt.id < ?)) ORDER BY f.due_on NULLS LAST, f.id",
	               "IIssI", m->in.id, m->id, m->starts_at, m->starts_at, m->id);
	follow_ups_table(r, st, "Suites ouvertes des réunions précédentes", w, m->id);
	db_finalize(st);
	buf_puts(o, "</section>\n");
	free(prev_at);
}

/* The COPIL arbitration fields of the decision form: the proposals of the plan's open years. */
static void proposal_fields(struct req *r, int64_t plan_id)
{
	struct buf *o = &r->out;
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT pr.id, pr.year, n.number, n.title, pr.cotech_opinion, pr.copil_decision FROM "
	    "proposals pr JOIN nodes n ON n.id = pr.node_id WHERE pr.plan_id = ? AND NOT EXISTS "
	    "(SELECT 1 FROM annexes a WHERE a.plan_id = pr.plan_id AND a.year = pr.year) ORDER BY "
	    "pr.year, n.number, pr.id",
	    "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    o,
			    "<fieldset><legend>Arbitrage d'une proposition du cycle annuel"
			    "</legend>\n<p class=\"hint\">La décision enregistre l'arbitrage du "
			    "COPIL sur la proposition et met à jour la fiche (retenue, ajournée ; "
			    "refusée : archivée). Le COPIL arbitre après l'avis du COTECH.</p>\n"
			    "<div class=\"field\"><label for=\"d-proposal\">Proposition</label>"
			    "<select id=\"d-proposal\" name=\"proposal\"><option value=\"\">— "
			    "aucune —</option>");
		const char *cotech = db_col_text(st, 4);
		html_printf(o, "<option value=\"%lld\">%lld — %s %s (%s%s%s)</option>",
		            (long long)db_col_int64(st, 0), (long long)db_col_int64(st, 1),
		            db_col_text(st, 2), db_col_text(st, 3),
		            cotech ? "avis du COTECH : " : "avis du COTECH en attente",
		            !cotech                        ? ""
		            : !strcmp(cotech, "favorable") ? "favorable"
		            : !strcmp(cotech, "reserve")   ? "réservé"
		                                           : "défavorable",
		            db_col_text(st, 5) ? ", déjà arbitrée" : "");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"d-arb\">Arbitrage"
		            "</label><select id=\"d-arb\" name=\"arbitration\"><option "
		            "value=\"retenue\">Retenue</option><option value=\"ajournee\">Ajournée"
		            "</option><option value=\"refusee\">Refusée</option></select></div>\n"
		            "</fieldset>\n");
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
	html_printf(o,
	            "<p><a href=\"/reunions/%lld/dossier\">Dossier de séance</a> (ordre du jour, "
	            "rappel et avancement des fiches liées, à imprimer) — <a "
	            "href=\"/reunions/%lld/dossier.pdf\">PDF</a></p>\n",
	            (long long)m->id, (long long)m->id);
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
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT a.id, a.title, n.id, n.number, n.title, nd.id, nd.title, fi.id, "
	    "ind.name FROM agenda_items a LEFT JOIN nodes n ON n.id = a.node_id LEFT JOIN "
	    "needs nd ON nd.id = a.need_id AND nd.moderation = 'publie' LEFT JOIN "
	    "fiche_indicators fi ON fi.id = a.fiche_indicator_id LEFT JOIN indicators ind "
	    "ON ind.id = fi.indicator_id WHERE a.meeting_id = ? ORDER BY a.position, a.id",
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
		if (!db_col_is_null(st, 7))
			html_printf(o, " (indicateur <a href=\"/indicateurs-fiche/%lld\">%s</a>)",
			            (long long)db_col_int64(st, 7), db_col_text(st, 8));
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
		buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"a-ind\">Indicateur "
		            "lié</label><select id=\"a-ind\" name=\"indicator\"><option "
		            "value=\"\">— aucun —</option>");
		ns = db_queryf(
		    r->db,
		    "SELECT fi.id, n.number, ind.name FROM fiche_indicators fi JOIN nodes n "
		    "ON n.id = fi.node_id JOIN indicators ind ON ind.id = fi.indicator_id "
		    "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.id, ind.name, fi.id",
		    "I", m->in.plan_id);
		while (ns && db_step(ns) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s — %s</option>",
			            (long long)db_col_int64(ns, 0), db_col_text(ns, 1),
			            db_col_text(ns, 2));
		db_finalize(ns);
		buf_puts(
		    o, "</select><p class=\"hint\">Sa trajectoire figure dans le dossier de séance."
		       "</p></div>\n<div class=\"actions\"><button class=\"button small\" "
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
				            "<form class=\"attendance\" method=\"post\" "
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
	buf_puts(o, "<h2 id=\"decisions\">Décisions</h2>\n");
	decisions_list(r, m->id);
	if (w) {
		html_printf(
		    o,
		    "<form class=\"form\" method=\"post\" action=\"/reunions/%lld/decisions\">\n",
		    (long long)m->id);
		page_csrf(r);
		const char *dtext = error && req_form(r, "text") ? req_form(r, "text") : "";
		html_printf(
		    o,
		    "<div class=\"field\"><label for=\"d-text\">Décision</label><textarea "
		    "id=\"d-text\" name=\"text\" rows=\"3\" required>%s</textarea></div>\n"
		    "<div class=\"field\"><label for=\"d-node\">Fiche-action concernée</label>"
		    "<select id=\"d-node\" name=\"node\">",
		    dtext);
		node_options(r, m->in.plan_id, 0);
		buf_puts(o, "</select></div>\n");
		if (!strcmp(m->in.kind, "copil"))
			proposal_fields(r, m->in.plan_id);
		buf_puts(o, "<div class=\"actions\"><button class=\"button small\" "
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
	json_t *after = store_row_json(r->db, sql, id);
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
	else if (!status || (strcmp(status, "planned") != 0 && strcmp(status, "held") != 0 &&
	                     strcmp(status, "cancelled") != 0))
		err = "Choisissez un état de réunion dans la liste.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		json_t *before = store_row_json(r->db, MEETING_ROW, id);
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
		if (store_finish_tx(r->db, rc) != DB_OK)
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
		json_t *before = store_row_json(r->db, MEETING_ROW, id);
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
		if (store_finish_tx(r->db, rc) != DB_OK)
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
	int64_t count = 0, ind = 0, ind_node = 0;
	const char *is = req_form(r, "indicator");
	if (is && *is &&
	    (parse_int64(is, &ind) ||
	     db_int64f(r->db, &ind_node,
	               "SELECT fi.node_id FROM fiche_indicators fi JOIN nodes n ON n.id = "
	               "fi.node_id WHERE fi.id = ? AND n.plan_id = ?",
	               "II", ind, m.in.plan_id) != DB_OK))
		ind = -1;
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
	else if (ind < 0)
		err = "Choisissez un indicateur d'une fiche-action de ce plan.";
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
		/* An indicator brings its fiche along (for the meeting pack). */
		if (rc == DB_OK && ind)
			rc = db_execf(r->db,
			              "UPDATE agenda_items SET fiche_indicator_id = ?, node_id = "
			              "COALESCE(node_id, ?) WHERE id = ?",
			              "III", ind, ind_node, aid);
		if (rc == DB_OK)
			rc = audit_row(r, "create", "agenda_item",
			               "SELECT * FROM agenda_items WHERE id = ?", aid, NULL);
		if (store_finish_tx(r->db, rc) != DB_OK)
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
	    (strcmp(act, "monter") != 0 && strcmp(act, "descendre") != 0 &&
	     strcmp(act, "supprimer") != 0)) {
		resp_error(r, 404, "Cette page n'existe pas.");
		meeting_free(&m);
		return;
	}
	const char *sql = "SELECT * FROM agenda_items WHERE id = ?";
	json_t *before = store_row_json(r->db, sql, aid);
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
	meeting_done(r, &m,
	             store_finish_tx(r->db, rc) == DB_OK ? NULL : "L'enregistrement a échoué.", "");
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
		if (strncmp(k, "att-", 4) != 0)
			continue;
		if (strcmp(v, "present") != 0 && strcmp(v, "excuse") != 0 &&
		    strcmp(v, "absent") != 0)
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
		if (store_finish_tx(r->db, rc) != DB_OK)
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
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	meeting_done(r, &m, err, "");
	free(guest);
	meeting_free(&m);
}

/* The decision being written, for the hook run inside the arbitration's transaction. */
struct decision_write {
	int64_t meeting_id, node_id, proposal_id, user_id, id, number;
	const char *text, *arbitration, *origin;
};

/* Insert the next numbered decision of the meeting and audit it; inside a transaction. */
static int decision_insert(struct db *db, void *arg)
{
	struct decision_write *d = arg;
	char now[32];
	time_iso_now(now);
	int rc =
	    db_int64f(db, &d->number,
	              "SELECT COALESCE(MAX(number), 0) + 1 FROM decisions WHERE meeting_id = ?",
	              "I", d->meeting_id);
	struct db_stmt *st =
	    rc == DB_OK
	        ? db_prepare(db, "INSERT INTO decisions (meeting_id, number, text, node_id, "
	                         "created_at, proposal_id, proposal_decision) VALUES (?, ?, "
	                         "?, ?, ?, ?, ?) RETURNING id")
	        : NULL;
	rc = DB_ERROR;
	if (st) {
		db_bind_int64(st, 1, d->meeting_id);
		db_bind_int64(st, 2, d->number);
		db_bind_text(st, 3, d->text);
		if (d->node_id)
			db_bind_int64(st, 4, d->node_id);
		else
			db_bind_null(st, 4);
		db_bind_text(st, 5, now);
		if (d->proposal_id)
			db_bind_int64(st, 6, d->proposal_id);
		else
			db_bind_null(st, 6);
		db_bind_text(st, 7, d->proposal_id ? d->arbitration : NULL);
		if (db_step(st) == DB_ROW) {
			d->id = db_col_int64(st, 0);
			rc = DB_OK;
		}
	}
	db_finalize(st);
	if (rc == DB_OK) {
		rc = store_audit_row(db, d->user_id, d->origin, "create", "decision", d->id, NULL,
		                     "SELECT * FROM decisions WHERE id = ?");
	}
	return rc;
}

/*
 * Record a decision of a meeting; with a proposal (COPIL instances only), the decision is the
 * COPIL arbitration of that proposal, written by cycle_copil_decide() in the same transaction.
 * text is trimmed by the caller. Returns 0 (d->id, d->number set), or an HTTP status with a
 * French message in msg (404, 409, 422, 500).
 */
static int decision_record(struct db *db, const struct meeting *m, struct decision_write *d,
                           const char *proposal, char *msg, size_t n)
{
	int64_t ok = 0;
	if (!d->text || !*d->text)
		return snprintf(msg, n, "Indiquez le texte de la décision."), 422;
	if (strlen(d->text) > TEXT_MAX_LEN)
		return snprintf(msg, n, "La décision est trop longue (5 000 caractères au plus)."),
		       422;
	if (d->node_id < 0)
		return snprintf(msg, n, "Choisissez une fiche-action de ce plan."), 422;
	if (proposal && *proposal) {
		if (strcmp(m->in.kind, "copil") != 0)
			return snprintf(
			           msg, n,
			           "Seul un comité de pilotage (COPIL) arbitre les propositions "
			           "du cycle annuel."),
			       422;
		if (parse_int64(proposal, &d->proposal_id) || d->proposal_id <= 0 ||
		    db_int64f(db, &ok, "SELECT id FROM proposals WHERE id = ? AND plan_id = ?",
		              "II", d->proposal_id, m->in.plan_id) != DB_OK)
			return snprintf(msg, n,
			                "Choisissez une proposition du cycle annuel de ce plan."),
			       422;
		if (!d->arbitration || (strcmp(d->arbitration, "retenue") != 0 &&
		                        strcmp(d->arbitration, "ajournee") != 0 &&
		                        strcmp(d->arbitration, "refusee") != 0))
			return snprintf(
			           msg, n,
			           "Arbitrage du COPIL : choisissez retenue, ajournée ou refusée."),
			       422;
		if (db_int64f(db, &d->node_id, "SELECT node_id FROM proposals WHERE id = ?", "I",
		              d->proposal_id) != DB_OK)
			return snprintf(msg, n, "Cette proposition n'existe pas."), 404;
		/* The arbitration is dated by the meeting (its day in Paris). */
		char day[32];
		local_input(m->starts_at, day);
		day[10] = '\0';
		return cycle_copil_decide(db, d->user_id, d->origin, d->proposal_id, d->arbitration,
		                          day, d->text, decision_insert, d, msg, n);
	}
	d->proposal_id = 0;
	int rc = db_begin(db);
	if (rc == DB_OK)
		rc = decision_insert(db, d);
	if (store_finish_tx(db, rc) != DB_OK)
		return snprintf(msg, n, "L'enregistrement a échoué, réessayez."), 500;
	return 0;
}

/* POST /reunions/{meeting}/decisions: numbered 1, 2, … within the meeting; optionally the
 * COPIL arbitration of a proposal (fields proposal and arbitration). */
static void decision_add(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	char *text = field(r, "text");
	struct decision_write d = {.meeting_id = id,
	                           .node_id = node_of_plan(r, "node", m.in.plan_id),
	                           .user_id = r->user->id,
	                           .text = text,
	                           .arbitration = req_form(r, "arbitration"),
	                           .origin = "web"};
	char msg[512];
	int status = decision_record(r->db, &m, &d, req_form(r, "proposal"), msg, sizeof msg);
	if (status) {
		meeting_render(r, &m, msg);
		r->status = status;
	} else {
		meeting_done(r, &m, NULL, "#decisions");
	}
	free(text);
	meeting_free(&m);
}

/*
 * Insert a follow-up of meeting m: what (trimmed, required), owner uid (0: none; else a member
 * of the plan), owner_text, due (YYYY-MM-DD or NULL/empty), audited. 0 with *fid set, or an
 * HTTP status (422, 500) with a French message in msg.
 */
static int follow_up_insert(struct db *db, int64_t user_id, const char *origin,
                            const struct meeting *m, const char *what, int64_t uid,
                            const char *owner_text, const char *due, int64_t *fid, char *msg,
                            size_t n)
{
	int64_t ok = 0;
	if (!what || !*what)
		return snprintf(msg, n, "Indiquez ce qui doit être fait."), 422;
	if (strlen(what) > TITLE_MAX_LEN)
		return snprintf(msg, n, "Le texte est trop long (300 caractères au plus)."), 422;
	if (uid &&
	    db_int64f(db, &ok, "SELECT user_id FROM plan_members WHERE plan_id = ? AND user_id = ?",
	              "II", m->in.plan_id, uid) != DB_OK)
		return snprintf(msg, n, "Choisissez une personne membre du plan."), 422;
	if (uid < 0)
		return snprintf(msg, n, "Choisissez une personne membre du plan."), 422;
	if (owner_text && strlen(owner_text) > NAME_MAX_LEN)
		return snprintf(msg, n, "Le nom est trop long (200 caractères au plus)."), 422;
	if (due && *due && !date_valid(due))
		return snprintf(msg, n, "L'échéance doit être une date au format AAAA-MM-JJ."), 422;
	char now[32];
	time_iso_now(now);
	int rc = db_begin(db);
	if (rc == DB_OK) {
		struct db_stmt *st =
		    db_prepare(db, "INSERT INTO follow_ups (meeting_id, what, owner_user_id, "
		                   "owner_text, due_on, created_at) VALUES (?, ?, ?, ?, ?, ?) "
		                   "RETURNING id");
		rc = DB_ERROR;
		if (st) {
			db_bind_int64(st, 1, m->id);
			db_bind_text(st, 2, what);
			if (uid)
				db_bind_int64(st, 3, uid);
			else
				db_bind_null(st, 3);
			db_bind_text(st, 4, owner_text ? owner_text : "");
			db_bind_text(st, 5, due && *due ? due : NULL);
			db_bind_text(st, 6, now);
			if (db_step(st) == DB_ROW) {
				*fid = db_col_int64(st, 0);
				rc = DB_OK;
			}
		}
		db_finalize(st);
	}
	if (rc == DB_OK) {
		rc = store_audit_row(db, user_id, origin, "create", "follow_up", *fid, NULL,
		                     "SELECT * FROM follow_ups WHERE id = ?");
	}
	if (store_finish_tx(db, rc) != DB_OK)
		return snprintf(msg, n, "L'enregistrement a échoué, réessayez."), 500;
	if (uid > 0 && uid != user_id)
		notifications_created_for(db, uid);
	return 0;
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
	int64_t uid = 0, fid = 0;
	if (owner && *owner && (parse_int64(owner, &uid) || uid <= 0))
		uid = -1;
	char msg[256];
	int status = follow_up_insert(r->db, r->user->id, "web", &m, what, uid, owner_text,
	                              req_form(r, "due_on"), &fid, msg, sizeof msg);
	meeting_done(r, &m, status ? msg : NULL, "");
	if (status)
		r->status = status;
	free(what);
	free(owner_text);
	meeting_free(&m);
}

/* Close (fait, abandonne) or reopen (ouvert) a follow-up, audited. 0, or 422/500 with msg. */
static int follow_up_set_status(struct db *db, int64_t user_id, const char *origin, int64_t fid,
                                const char *status, char *msg, size_t n)
{
	if (!status || (strcmp(status, "fait") != 0 && strcmp(status, "abandonne") != 0 &&
	                strcmp(status, "ouvert") != 0))
		return snprintf(msg, n, "Choisissez fait, abandonné ou ouvert."), 422;
	char now[32];
	time_iso_now(now);
	const char *sql = "SELECT * FROM follow_ups WHERE id = ?";
	json_t *before = store_row_json(db, sql, fid);
	int rc = db_begin(db);
	if (rc == DB_OK)
		rc = db_execf(db, "UPDATE follow_ups SET status = ?, closed_at = ? WHERE id = ?",
		              "ssI", status, strcmp(status, "ouvert") ? now : NULL, fid);
	if (rc == DB_OK) {
		rc = store_audit_row(db, user_id, origin, "status", "follow_up", fid, before, sql);
	}
	json_decref(before);
	if (store_finish_tx(db, rc) != DB_OK)
		return snprintf(msg, n, "L'enregistrement a échoué, réessayez."), 500;
	return 0;
}

/* The meeting of a follow-up, with the role checked (answers 404/403 itself: -1). */
static int follow_up_require(struct req *r, int64_t fid, enum role min, struct meeting *m)
{
	int64_t mid = 0;
	if (db_int64f(r->db, &mid, "SELECT meeting_id FROM follow_ups WHERE id = ?", "I", fid) !=
	    DB_OK) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	return meeting_require(r, mid, min, m);
}

/* POST /suites/{followup}/statut: close (fait, abandonne) or reopen a follow-up; back to the
 * meeting named by `back` when it is of the same instance. */
static void follow_up_status(struct req *r)
{
	int64_t fid;
	struct meeting m;
	if (req_param_id(r, 0, &fid) || follow_up_require(r, fid, ROLE_COORDINATOR, &m))
		return;
	int64_t mid = m.id, back = 0, same = 0;
	const char *bs = req_form(r, "back");
	if (bs && !parse_int64(bs, &back) &&
	    db_int64f(r->db, &same, "SELECT id FROM meetings WHERE id = ? AND instance_id = ?",
	              "II", back, m.in.id) == DB_OK)
		m.id = back;
	else
		back = 0;
	char msg[256];
	int status = follow_up_set_status(r->db, r->user->id, "web", fid, req_form(r, "status"),
	                                  msg, sizeof msg);
	if (status) {
		/* Re-render the meeting the form came from. */
		struct meeting shown;
		meeting_free(&m);
		if (meeting_require(r, back ? back : mid, ROLE_COORDINATOR, &shown))
			return;
		meeting_render(r, &shown, msg);
		r->status = status;
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

/* --- meeting pack (dossier de séance) ----------------------------------------------------------
 * The agenda with the memory of the instance (previous decisions, open follow-ups) and the
 * dashboard extract of the fiches the meeting is about (those linked to its agenda items and
 * decisions): status, progress and indicators with their trajectory. The same body serves the
 * printable page and the PDF (report_pdf_render: headless Chromium, as the bilan). */

static void pack_follow_ups(struct buf *o, struct db_stmt *st, const char *caption)
{
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(
			    o,
			    "<div class=\"table-wrap\"><table>\n<caption>%s</caption>\n<thead>"
			    "<tr><th scope=\"col\">Quoi</th><th scope=\"col\">Qui</th><th "
			    "scope=\"col\">Échéance</th><th scope=\"col\">État</th></tr></thead>"
			    "\n<tbody>\n",
			    caption);
		const char *owner = db_col_text(st, 2) ? db_col_text(st, 2) : db_col_text(st, 3);
		html_printf(o, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", db_col_text(st, 1),
		            owner && *owner ? owner : "—");
		if (db_col_text(st, 4))
			date_fr(o, db_col_text(st, 4));
		else
			buf_puts(o, "—");
		html_printf(o, "</td><td>%s</td></tr>\n", follow_label(db_col_text(st, 5)));
	}
	buf_puts(o, n ? "</tbody></table></div>\n" : "<p>Aucune suite ouverte.</p>\n");
}

/* The pack's body into o (HTML we produced). */
static void pack_body(struct buf *o, struct db *db, const struct meeting *m)
{
	html_printf(o, "<h1>Dossier de séance — %s, réunion du ", m->in.name);
	when_fr(o, m->starts_at);
	html_printf(o,
	            "</h1>\n<dl class=\"facts\"><div><dt>Plan</dt><dd>%s</dd></div><div><dt>"
	            "Instance</dt><dd>%s</dd></div><div><dt>Lieu</dt><dd>%s</dd></div><div><dt>"
	            "État</dt><dd>%s</dd></div></dl>\n",
	            m->in.plan_title, kind_label(m->in.kind), *m->place ? m->place : "—",
	            meeting_status_label(m->status));

	/* Agenda. */
	buf_puts(o, "<h2>Ordre du jour</h2>\n");
	struct db_stmt *st = db_queryf(db,
	                               "SELECT a.title, n.number, n.title, ind.name FROM "
	                               "agenda_items a LEFT JOIN nodes n ON n.id = a.node_id LEFT "
	                               "JOIN fiche_indicators fi ON fi.id = a.fiche_indicator_id "
	                               "LEFT JOIN indicators ind ON ind.id = fi.indicator_id WHERE "
	                               "a.meeting_id = ? ORDER BY a.position, a.id",
	                               "I", m->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(o, "<ol class=\"agenda\">\n");
		html_printf(o, "<li>%s", db_col_text(st, 0));
		if (db_col_text(st, 1))
			html_printf(o, " (fiche %s %s)", db_col_text(st, 1), db_col_text(st, 2));
		if (db_col_text(st, 3))
			html_printf(o, " — indicateur : %s", db_col_text(st, 3));
		buf_puts(o, "</li>\n");
	}
	db_finalize(st);
	buf_puts(o, n ? "</ol>\n" : "<p>L'ordre du jour est vide.</p>\n");

	/* The memory of the instance. */
	int64_t prev = 0;
	char *prev_at = NULL;
	st = db_queryf(db,
	               "SELECT id, starts_at FROM meetings WHERE instance_id = ? AND status <> "
	               "'cancelled' AND (starts_at < ? OR (starts_at = ? AND id < ?)) ORDER BY "
	               "starts_at DESC, id DESC LIMIT 1",
	               "IssI", m->in.id, m->starts_at, m->starts_at, m->id);
	if (st && db_step(st) == DB_ROW) {
		prev = db_col_int64(st, 0);
		prev_at = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(o, "<h2>Rappel de la réunion précédente</h2>\n");
	if (prev) {
		buf_puts(o, "<p>Décisions de la réunion du ");
		when_fr(o, prev_at);
		buf_puts(o, " :</p>\n");
		decisions_html(o, db, prev);
	} else {
		buf_puts(o, "<p>C'est la première réunion de cette instance.</p>\n");
	}
	free(prev_at);
	st = db_queryf(db,
	               FOLLOW_COLS
	               "JOIN meetings mt ON mt.id = f.meeting_id WHERE mt.instance_id = "
	               "? AND f.status = 'ouvert' AND mt.id <> ? AND (mt.starts_at < ? OR "
	               "(mt.starts_at = ? AND mt.id < ?)) ORDER BY f.due_on NULLS LAST, f.id",
	               "IIssI", m->in.id, m->id, m->starts_at, m->starts_at, m->id);
	pack_follow_ups(o, st, "Suites restées ouvertes");
	db_finalize(st);

	/* The fiches on the agenda or decided on: a dashboard extract. */
	buf_puts(o, "<h2>Les fiches-actions à l'ordre du jour</h2>\n");
	struct dash_plan p;
	if (!m->in.plan_id || dash_plan_load(db, m->in.plan_id, &p)) {
		buf_puts(o, "<p>Aucune fiche-action liée.</p>\n");
		if (m->in.plan_id)
			dash_plan_free(&p);
		return;
	}
	size_t linked = 0;
	for (size_t i = 0; i < p.n; i++) {
		int64_t hit = 0;
		p.nodes[i].selected =
		    p.nodes[i].is_fiche &&
		    db_int64f(
		        db, &hit,
		        "SELECT 1 FROM agenda_items WHERE meeting_id = ? AND node_id = ? UNION "
		        "SELECT 1 FROM decisions WHERE meeting_id = ? AND node_id = ?",
		        "IIII", m->id, p.nodes[i].id, m->id, p.nodes[i].id) == DB_OK;
		linked += (size_t)p.nodes[i].selected;
	}
	if (!linked) {
		buf_puts(o,
		         "<p>Aucune fiche-action n'est liée à l'ordre du jour ni aux décisions de "
		         "cette réunion.</p>\n");
		dash_plan_free(&p);
		return;
	}
	dash_rollup(&p);
	struct dash_indicator *inds = NULL;
	size_t ni = dash_indicators_load(db, &p, -1e9, &inds);
	buf_puts(o, "<div class=\"table-wrap\"><table>\n<caption>Avancement des fiches-actions "
	            "liées</caption>\n<thead><tr><th scope=\"col\">Fiche</th><th scope=\"col\">"
	            "Statut</th><th scope=\"col\">Avancement</th><th scope=\"col\">Indicateurs"
	            "</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < p.n; i++) {
		const struct dash_node *d = &p.nodes[i];
		if (!d->selected)
			continue;
		size_t k = 0;
		for (size_t j = 0; j < ni; j++)
			k += inds[j].node_id == d->id;
		html_printf(o,
		            "<tr><th scope=\"row\">%s %s</th><td>%s</td><td>%s</td><td>%zu</td>"
		            "</tr>\n",
		            d->number, d->title, dash_status_label(d->status),
		            dash_level_label(d->level), k);
	}
	buf_puts(o, "</tbody></table></div>\n");
	if (ni) {
		buf_puts(o,
		         "<div class=\"table-wrap\"><table>\n<caption>Indicateurs des fiches "
		         "liées</caption>\n<thead><tr><th scope=\"col\">Indicateur</th><th "
		         "scope=\"col\">Fiche</th><th scope=\"col\">Dernière mesure</th><th "
		         "scope=\"col\">Attendu à cette date</th><th scope=\"col\">Situation</th>"
		         "</tr></thead>\n<tbody>\n");
		for (size_t j = 0; j < ni; j++) {
			const struct dash_indicator *ind = &inds[j];
			size_t at = dash_node_index(&p, ind->node_id);
			const char *unit = ind->unit && *ind->unit ? ind->unit : "";
			html_printf(o, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", ind->name,
			            at == (size_t)-1 ? "" : p.nodes[at].number);
			const struct dash_measure *last = NULL;
			for (size_t k = ind->nmeasures; k > 0 && !last; k--)
				if (ind->measures[k - 1].has_value)
					last = &ind->measures[k - 1];
			if (last) {
				char num[48], day[48];
				svg_number(num, last->value, 1);
				svg_date_fr(day, last->day);
				html_printf(o, "%s%s%s (%s)", num, *unit ? " " : "", unit, day);
			} else {
				buf_puts(o, "—");
			}
			buf_puts(o, "</td><td>");
			if (ind->track != DASH_UNRATED) {
				char num[48];
				svg_number(num, ind->expected, 1);
				html_printf(o, "%s%s%s", num, *unit ? " " : "", unit);
			} else {
				buf_puts(o, "—");
			}
			html_printf(o, "</td><td>%s</td></tr>\n",
			            ind->track == DASH_ON_TRACK ? "dans la trajectoire"
			            : ind->track == DASH_LATE
			                ? "en retard sur la trajectoire"
			                : "non évalué (pas de cible ou de mesure)");
		}
		buf_puts(o, "</tbody></table></div>\n");
	}
	for (size_t j = 0; j < ni; j++) {
		size_t at = dash_node_index(&p, inds[j].node_id);
		if (at == (size_t)-1)
			continue;
		char id[48];
		snprintf(id, sizeof id, "dossier-ind-%zu", j);
		char *label = xasprintf("%s %s", p.nodes[at].number, p.nodes[at].title);
		dash_indicator_figure(o, &inds[j], id, label, 1);
		free(label);
	}
	dash_indicators_free(inds, ni);
	dash_plan_free(&p);
}

static const char pack_css[] =
    "body.report { max-width: 190mm; margin: 0 auto; font: 10pt/1.4 system-ui, sans-serif; }\n"
    "@page { size: A4; margin: 15mm 12mm; }\n"
    "h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 8mm; } h3 { font-size: 11pt; }\n"
    "table { width: 100%; border-collapse: collapse; font-size: 9pt; } th, td { border: 1px "
    "solid #999; padding: 2px 4px; text-align: left; }\n"
    "figure { break-inside: avoid; } .table-wrap { overflow: visible; }\n";

/* GET /reunions/{meeting}/dossier and /reunions/{meeting}/dossier.pdf */
static void pack_page(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_READER, &m))
		return;
	int pdf = strstr(r->path, ".pdf") != NULL;
	if (!pdf) {
		char *plan_href = xasprintf("/plans/%lld", (long long)m.in.plan_id);
		char *meet_href = xasprintf("/reunions/%lld", (long long)m.id);
		struct crumb crumbs[] = {
		    {m.in.plan_title, plan_href}, {"Réunion", meet_href}, {NULL, NULL}};
		page_begin(r, "Dossier de séance", crumbs);
		html_printf(&r->out,
		            "<div class=\"actions\"><a class=\"button\" "
		            "href=\"/reunions/%lld/dossier.pdf\" download>Télécharger le PDF</a> "
		            "<a class=\"button secondary\" href=\"/reunions/%lld\">Retour à la "
		            "réunion</a></div>\n",
		            (long long)m.id, (long long)m.id);
		pack_body(&r->out, r->db, &m);
		page_end(r);
		free(plan_href);
		free(meet_href);
		meeting_free(&m);
		return;
	}
	struct buf doc = {0};
	html_printf(&doc,
	            "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n<meta "
	            "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	            "style-src 'unsafe-inline'; img-src data:\">\n<title>Dossier de séance — %s"
	            "</title>\n<style>\n",
	            m.in.name);
	const struct embed_file *css = embed_find("assets/style.css");
	if (css) {
		buf_append(&doc, css->data, css->size);
		buf_putc(&doc, '\n');
	}
	buf_puts(&doc, pack_css);
	buf_puts(&doc, "</style>\n</head>\n<body class=\"report\">\n<main>\n");
	pack_body(&doc, r->db, &m);
	buf_puts(&doc, "</main>\n</body>\n</html>\n");
	struct buf out = {0};
	char *err = NULL;
	if (report_pdf_render(doc.data, doc.len, &out, &err)) {
		resp_error(r, 503, err ? err : "Production du PDF impossible.");
		free(err);
	} else {
		buf_reset(&r->out);
		buf_append(&r->out, out.data, out.len);
		char *cd =
		    xasprintf("attachment; filename=\"dossier-reunion-%lld.pdf\"", (long long)m.id);
		resp_header(r, "Content-Disposition", cd);
		free(cd);
		resp_send(r, 200, "application/pdf");
	}
	buf_free(&out);
	buf_free(&doc);
	meeting_free(&m);
}

/* --- JSON API ---------------------------------------------------------------------------------
 * The same rules as the pages: reading needs the plan's reader role (instances are for the plan's
 * members), writing its coordinator role; errors are JSON (resp_error on an /api/ path). */

/* Rows of a query taking one integer parameter as an array of objects; `cols` gives one type
 * per column: 'I' integer, 's' text (SQL NULL: json null). New reference. */
static json_t *rows_json(struct db *db, const char *sql, const char *cols, int64_t id)
{
	json_t *a = json_array();
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < db_col_count(st) && cols[i]; i++) {
			json_t *v = db_col_is_null(st, i) ? json_null()
			            : cols[i] == 'I'      ? json_integer(db_col_int64(st, i))
			                                  : json_string(db_col_text(st, i));
			json_object_set_new(o, db_col_name(st, i), v);
		}
		json_array_append_new(a, o);
	}
	db_finalize(st);
	return a;
}

static json_t *first_or_null(json_t *a)
{
	json_t *o = json_incref(json_array_get(a, 0));
	json_decref(a);
	return o ? o : json_null();
}

#define API_INSTANCE_COLS                                                                          \
	"SELECT i.id, i.plan_id, i.kind, i.name, i.description, (SELECT COUNT(*) FROM meetings m " \
	"WHERE m.instance_id = i.id) AS meeting_count, (SELECT MAX(m.starts_at) FROM meetings m "  \
	"WHERE "                                                                                   \
	"m.instance_id = i.id) AS last_meeting_at FROM instances i "
#define API_FOLLOW_COLS                                                                            \
	"SELECT f.id, f.meeting_id, f.what, f.owner_user_id, u.name AS owner_name, f.owner_text, " \
	"f.due_on, f.status, f.created_at, f.closed_at FROM follow_ups f LEFT JOIN users u ON "    \
	"u.id "                                                                                    \
	"= f.owner_user_id "
#define API_FOLLOW_TYPES "IIsIssssss"
#define API_DECISION_COLS                                                                          \
	"SELECT d.id, d.meeting_id, d.number, d.text, d.node_id, d.proposal_id, "                  \
	"d.proposal_decision, d.created_at FROM decisions d "

static json_t *instance_json(struct db *db, int64_t id)
{
	json_t *o = first_or_null(rows_json(db, API_INSTANCE_COLS "WHERE i.id = ?", "IIsssIs", id));
	if (!json_is_object(o))
		return o;
	json_object_set_new(
	    o, "members",
	    rows_json(
	        db,
	        "SELECT m.id, m.user_id, m.actor_id, COALESCE(u.name, a.name) AS name, m.role "
	        "FROM instance_members m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN "
	        "actors a ON a.id = m.actor_id WHERE m.instance_id = ? ORDER BY m.id",
	        "IIIss", id));
	json_object_set_new(o, "meetings",
	                    rows_json(db,
	                              "SELECT id, starts_at, place, status FROM meetings WHERE "
	                              "instance_id = ? ORDER BY starts_at, id",
	                              "Isss", id));
	return o;
}

/* A meeting with its agenda, attendance, minutes, decisions, follow-ups, and the reminder
 * (previous meeting's decisions, open follow-ups of earlier meetings). New reference. */
static json_t *meeting_json(struct db *db, int64_t id)
{
	json_t *o = first_or_null(rows_json(db,
	                                    "SELECT m.id, m.instance_id, i.plan_id, i.name AS "
	                                    "instance_name, i.kind AS instance_kind, m.starts_at, "
	                                    "m.place, m.status, m.minutes, m.created_at, "
	                                    "m.updated_at FROM meetings m JOIN instances i ON i.id "
	                                    "= m.instance_id WHERE m.id = ?",
	                                    "IIIssssssss", id));
	if (!json_is_object(o))
		return o;
	json_object_set_new(
	    o, "agenda",
	    rows_json(db,
	              "SELECT id, position, title, node_id, need_id, fiche_indicator_id FROM "
	              "agenda_items WHERE meeting_id = ? ORDER BY position, id",
	              "IIsIII", id));
	json_object_set_new(
	    o, "attendance",
	    rows_json(
	        db,
	        "SELECT t.id, t.user_id, t.actor_id, t.guest_name, COALESCE(u.name, a.name, "
	        "t.guest_name) AS name, t.status FROM attendance t LEFT JOIN users u ON u.id = "
	        "t.user_id LEFT JOIN actors a ON a.id = t.actor_id WHERE t.meeting_id = ? ORDER "
	        "BY t.id",
	        "IIIsss", id));
	json_object_set_new(o, "decisions",
	                    rows_json(db,
	                              API_DECISION_COLS "WHERE d.meeting_id = ? ORDER BY d.number",
	                              "IIIsIIss", id));
	json_object_set_new(o, "follow_ups",
	                    rows_json(db, API_FOLLOW_COLS "WHERE f.meeting_id = ? ORDER BY f.id",
	                              API_FOLLOW_TYPES, id));
	/* The reminder, as on the page. */
	const char *at = json_string_value(json_object_get(o, "starts_at"));
	int64_t inst = json_integer_value(json_object_get(o, "instance_id")), prev = 0;
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT id FROM meetings WHERE instance_id = ? AND status <> "
	              "'cancelled' AND (starts_at < ? OR (starts_at = ? AND id < "
	              "?)) ORDER BY starts_at DESC, id DESC LIMIT 1",
	              "IssI", inst, at, at, id);
	if (st && db_step(st) == DB_ROW)
		prev = db_col_int64(st, 0);
	db_finalize(st);
	json_t *recall = json_object();
	json_object_set_new(recall, "previous_meeting_id", prev ? json_integer(prev) : json_null());
	json_object_set_new(
	    recall, "previous_decisions",
	    prev ? rows_json(db, API_DECISION_COLS "WHERE d.meeting_id = ? ORDER BY d.number",
	                     "IIIsIIss", prev)
	         : json_array());
	json_t *open = json_array();
	st = db_queryf(
	    db,
	    "SELECT f.id FROM follow_ups f JOIN meetings mt ON mt.id = f.meeting_id WHERE "
	    "mt.instance_id = ? AND f.status = 'ouvert' AND mt.id <> ? AND (mt.starts_at "
	    "< ? OR (mt.starts_at = ? AND mt.id < ?)) ORDER BY f.due_on NULLS LAST, f.id",
	    "IIssI", inst, id, at, at, id);
	while (st && db_step(st) == DB_ROW) {
		json_t *f = first_or_null(rows_json(db, API_FOLLOW_COLS "WHERE f.id = ?",
		                                    API_FOLLOW_TYPES, db_col_int64(st, 0)));
		json_array_append_new(open, f);
	}
	db_finalize(st);
	json_object_set_new(recall, "open_follow_ups", open);
	json_object_set_new(o, "recall", recall);
	return o;
}

/* A JSON object body; answers 400/422 itself and returns NULL when it is not one. */
static json_t *api_body(struct req *r)
{
	json_t *b = req_json_body(r);
	if (b && !json_is_object(b)) {
		json_decref(b);
		resp_error(r, 422, "Le corps de la requête doit être un objet JSON.");
		return NULL;
	}
	return b;
}

/* A string member: NULL when absent or null; *bad set when present with another type. */
static const char *jstr(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* An integer member: 0 when absent or null; *bad set when present with another type or <= 0. */
static int64_t jid(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		*bad = 1;
		return 0;
	}
	return json_integer_value(v);
}

/* GET|POST /api/v1/plans/{plan}/instances */
static void api_instances(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id))
		return;
	if (plan_require(r, plan_id, r->method == M_POST ? ROLE_COORDINATOR : ROLE_READER))
		return;
	if (r->method != M_POST) {
		resp_json(r, 200,
		          rows_json(r->db,
		                    API_INSTANCE_COLS "WHERE i.plan_id = ? ORDER BY i.name, i.id",
		                    "IIsssIs", plan_id));
		return;
	}
	json_t *b = api_body(r);
	if (!b)
		return;
	int bad = 0;
	const char *name = jstr(b, "name", &bad), *kind = jstr(b, "kind", &bad);
	char *tname = name ? str_trim_dup(name) : NULL;
	const char *err = NULL;
	if (bad)
		err = "Attendu : {\"name\": \"…\", \"kind\": \"copil\"|\"cotech\"|\"commission\"|"
		      "\"reseau\"|\"autre\"}.";
	else if (!tname || !*tname)
		err = "Indiquez le nom de l'instance.";
	else if (strlen(tname) > NAME_MAX_LEN)
		err = "Le nom est trop long (200 caractères au plus).";
	else if (!kind_valid(kind))
		err = "Choisissez un type d'instance : copil, cotech, commission, reseau ou autre.";
	int64_t id = 0;
	if (!err) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &id,
			               "INSERT INTO instances (plan_id, kind, name, created_at, "
			               "updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			               "Issss", plan_id, kind, tname, now, now);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "api", "create", "instance", id,
			                     NULL, "SELECT * FROM instances WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			err = "";
		}
	}
	if (!err)
		resp_json(r, 201, instance_json(r->db, id));
	else if (*err)
		resp_error(r, 422, err);
	free(tname);
	json_decref(b);
}

/* GET /api/v1/instances/{instance} */
static void api_instance(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_READER, &in))
		return;
	resp_json(r, 200, instance_json(r->db, id));
	inst_free(&in);
}

/* POST /api/v1/instances/{instance}/meetings {"starts_at": "2026-03-12T14:00" (Paris), "place"} */
static void api_meeting_create(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_COORDINATOR, &in))
		return;
	json_t *b = api_body(r);
	if (!b) {
		inst_free(&in);
		return;
	}
	int bad = 0;
	const char *starts = jstr(b, "starts_at", &bad), *place = jstr(b, "place", &bad);
	char when[32];
	const char *err = NULL;
	if (bad)
		err = "Attendu : {\"starts_at\": \"AAAA-MM-JJTHH:MM\", \"place\": \"…\"}.";
	else if (governance_local_to_utc(starts, when))
		err = "Indiquez une date et une heure valides (AAAA-MM-JJTHH:MM, heure de Paris).";
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
			    "SELECT CAST(? AS BIGINT), user_id, actor_id, 'present' FROM "
			    "instance_members "
			    "WHERE instance_id = ?",
			    "II", mid, id);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "api", "create", "meeting", mid,
			                     NULL, MEETING_ROW);
		}
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			err = "";
		}
	}
	if (!err) {
		meeting_notify(r->db, id, r->user->id);
		resp_json(r, 201, meeting_json(r->db, mid));
	} else if (*err)
		resp_error(r, 422, err);
	json_decref(b);
	inst_free(&in);
}

/* GET /api/v1/meetings/{meeting} */
static void api_meeting(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_READER, &m))
		return;
	resp_json(r, 200, meeting_json(r->db, id));
	meeting_free(&m);
}

/* PUT /api/v1/meetings/{meeting}/minutes {"minutes": "…", "status": "planned"|"held"|…} */
static void api_minutes(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	json_t *b = api_body(r);
	if (!b) {
		meeting_free(&m);
		return;
	}
	int bad = 0;
	const char *minutes = jstr(b, "minutes", &bad), *status = jstr(b, "status", &bad);
	if (!status)
		status = m.status;
	const char *err = NULL;
	if (bad || !minutes)
		err = "Attendu : {\"minutes\": \"… (Markdown)\", \"status\": \"planned\"|\"held\"|"
		      "\"cancelled\"}.";
	else if (strlen(minutes) > MINUTES_MAX_LEN)
		err = "Le compte rendu est trop long (100 000 caractères au plus).";
	else if (strcmp(status, "planned") != 0 && strcmp(status, "held") != 0 &&
	         strcmp(status, "cancelled") != 0)
		err = "Choisissez un état de réunion : planned, held ou cancelled.";
	if (!err) {
		char now[32];
		time_iso_now(now);
		json_t *before = store_row_json(r->db, MEETING_ROW, id);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(r->db,
			              "UPDATE meetings SET minutes = ?, status = ?, updated_at = ? "
			              "WHERE id = ?",
			              "sssI", minutes, status, now, id);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "api", "update", "meeting", id,
			                     before, MEETING_ROW);
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			err = "";
		}
	}
	if (!err)
		resp_json(r, 200, meeting_json(r->db, id));
	else if (*err)
		resp_error(r, 422, err);
	json_decref(b);
	meeting_free(&m);
}

/* POST /api/v1/meetings/{meeting}/decisions {"text", "node_id", "proposal_id", "arbitration"} */
static void api_decision(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	json_t *b = api_body(r);
	if (!b) {
		meeting_free(&m);
		return;
	}
	int bad = 0;
	const char *text = jstr(b, "text", &bad), *arb = jstr(b, "arbitration", &bad);
	int64_t node = jid(b, "node_id", &bad), prop = jid(b, "proposal_id", &bad), ok = 0;
	char *ttext = text ? str_trim_dup(text) : NULL;
	char msg[512], pbuf[32] = "";
	int status = 0;
	if (bad) {
		status = 422;
		snprintf(msg, sizeof msg,
		         "Attendu : {\"text\": \"…\", \"node_id\": 12, \"proposal_id\": 3, "
		         "\"arbitration\": \"retenue\"|\"ajournee\"|\"refusee\"}.");
	} else if (node &&
	           db_int64f(r->db, &ok, "SELECT id FROM nodes WHERE id = ? AND plan_id = ?", "II",
	                     node, m.in.plan_id) != DB_OK) {
		node = -1;
	}
	if (prop)
		snprintf(pbuf, sizeof pbuf, "%lld", (long long)prop);
	struct decision_write d = {.meeting_id = id,
	                           .node_id = node,
	                           .user_id = r->user->id,
	                           .text = ttext,
	                           .arbitration = arb,
	                           .origin = "api"};
	if (!status)
		status = decision_record(r->db, &m, &d, pbuf, msg, sizeof msg);
	if (status)
		resp_error(r, status, msg);
	else
		resp_json(r, 201,
		          first_or_null(rows_json(r->db, API_DECISION_COLS "WHERE d.id = ?",
		                                  "IIIsIIss", d.id)));
	free(ttext);
	json_decref(b);
	meeting_free(&m);
}

/* POST /api/v1/meetings/{meeting}/agenda {"title", "node_id", "need_id"}: a new last item. */
static void api_agenda(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	json_t *b = api_body(r);
	if (!b) {
		meeting_free(&m);
		return;
	}
	int bad = 0;
	const char *title = jstr(b, "title", &bad);
	int64_t node = jid(b, "node_id", &bad), need = jid(b, "need_id", &bad), ok = 0, count = 0;
	int64_t ind = jid(b, "fiche_indicator_id", &bad), ind_node = 0;
	char *ttitle = title ? str_trim_dup(title) : NULL;
	db_int64f(r->db, &count, "SELECT COUNT(*) FROM agenda_items WHERE meeting_id = ?", "I", id);
	const char *err = NULL;
	if (bad)
		err = "Attendu : {\"title\": \"…\", \"node_id\": 12, \"need_id\": 3, "
		      "\"fiche_indicator_id\": 7}.";
	else if (!ttitle || !*ttitle)
		err = "Indiquez l'intitulé du point.";
	else if (strlen(ttitle) > TITLE_MAX_LEN)
		err = "L'intitulé est trop long (300 caractères au plus).";
	else if (node && db_int64f(r->db, &ok, "SELECT id FROM nodes WHERE id = ? AND plan_id = ?",
	                           "II", node, m.in.plan_id) != DB_OK)
		err = "Choisissez une fiche-action de ce plan.";
	else if (need && db_int64f(r->db, &ok,
	                           "SELECT id FROM needs WHERE id = ? AND moderation = 'publie'",
	                           "I", need) != DB_OK)
		err = "Choisissez un besoin publié de l'observatoire.";
	else if (ind &&
	         db_int64f(r->db, &ind_node,
	                   "SELECT fi.node_id FROM fiche_indicators fi JOIN nodes n ON n.id = "
	                   "fi.node_id WHERE fi.id = ? AND n.plan_id = ?",
	                   "II", ind, m.in.plan_id) != DB_OK)
		err = "Choisissez un indicateur d'une fiche-action de ce plan.";
	else if (count >= AGENDA_MAX)
		err = "L'ordre du jour compte déjà 100 points.";
	int64_t aid = 0;
	if (!err) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(
			    r->db, &aid,
			    "INSERT INTO agenda_items (meeting_id, position, title) VALUES "
			    "(?, (SELECT COALESCE(MAX(position), 0) + 1 FROM agenda_items "
			    "WHERE meeting_id = ?), ?) RETURNING id",
			    "IIs", id, id, ttitle);
		if (rc == DB_OK && node)
			rc = db_execf(r->db, "UPDATE agenda_items SET node_id = ? WHERE id = ?",
			              "II", node, aid);
		if (rc == DB_OK && need)
			rc = db_execf(r->db, "UPDATE agenda_items SET need_id = ? WHERE id = ?",
			              "II", need, aid);
		if (rc == DB_OK && ind)
			rc = db_execf(r->db,
			              "UPDATE agenda_items SET fiche_indicator_id = ?, node_id = "
			              "COALESCE(node_id, ?) WHERE id = ?",
			              "III", ind, ind_node, aid);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "api", "create", "agenda_item",
			                     aid, NULL, "SELECT * FROM agenda_items WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			err = "";
		}
	}
	if (!err)
		resp_json(
		    r, 201,
		    first_or_null(rows_json(
		        r->db,
		        "SELECT id, position, title, node_id, need_id, fiche_indicator_id FROM "
		        "agenda_items WHERE id = ?",
		        "IIsIII", aid)));
	else if (*err)
		resp_error(r, 422, err);
	free(ttitle);
	json_decref(b);
	meeting_free(&m);
}

/* PUT /api/v1/meetings/{meeting}/attendance {"attendance": [{"id": 4, "status": "excuse"}],
 * "guests": ["Nom"]}: statuses of the listed rows (of this meeting), guests added present. */
static void api_attendance(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	json_t *b = api_body(r);
	if (!b) {
		meeting_free(&m);
		return;
	}
	json_t *list = json_object_get(b, "attendance"), *guests = json_object_get(b, "guests");
	const char *err = NULL;
	if ((list && !json_is_array(list)) || (guests && !json_is_array(guests)) ||
	    json_array_size(list) > 1000 || json_array_size(guests) > 100)
		err = "Attendu : {\"attendance\": [{\"id\": 4, \"status\": \"present\"|\"excuse\"|"
		      "\"absent\"}], \"guests\": [\"Nom\"]}.";
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		if (err)
			break;
		json_t *jid_ = json_object_get(e, "id");
		const char *st = json_string_value(json_object_get(e, "status"));
		int64_t ok = 0;
		if (!json_is_integer(jid_) || !st)
			err = "Chaque présence a un « id » et un « status ».";
		else if (strcmp(st, "present") != 0 && strcmp(st, "excuse") != 0 &&
		         strcmp(st, "absent") != 0)
			err = "Choisissez present, excuse ou absent.";
		else if (db_int64f(r->db, &ok,
		                   "SELECT id FROM attendance WHERE id = ? AND meeting_id = ?",
		                   "II", (int64_t)json_integer_value(jid_), id) != DB_OK)
			err = "Cette présence n'est pas de cette réunion.";
	}
	json_array_foreach(guests, i, e)
	{
		if (err)
			break;
		const char *g = json_string_value(e);
		if (!g || str_blank(g))
			err = "Indiquez le nom de chaque personne invitée.";
		else if (strlen(g) > NAME_MAX_LEN)
			err = "Le nom est trop long (200 caractères au plus).";
	}
	if (!err) {
		json_t *before = rows_json(r->db,
		                           "SELECT id, status FROM attendance WHERE meeting_id = ? "
		                           "ORDER BY id",
		                           "Is", id);
		int rc = db_begin(r->db);
		json_array_foreach(list, i, e)
		{
			if (rc != DB_OK)
				break;
			rc = db_execf(r->db, "UPDATE attendance SET status = ? WHERE id = ?", "sI",
			              json_string_value(json_object_get(e, "status")),
			              (int64_t)json_integer_value(json_object_get(e, "id")));
		}
		json_array_foreach(guests, i, e)
		{
			if (rc != DB_OK)
				break;
			char *g = str_trim_dup(json_string_value(e));
			rc = db_execf(
			    r->db,
			    "INSERT INTO attendance (meeting_id, guest_name, status) VALUES (?, "
			    "?, 'present')",
			    "Is", id, g);
			free(g);
		}
		if (rc == DB_OK) {
			json_t *after =
			    rows_json(r->db,
			              "SELECT id, status FROM attendance WHERE meeting_id = ? "
			              "ORDER BY id",
			              "Is", id);
			json_t *bw = json_pack("{sO}", "attendance", before);
			json_t *aw = json_pack("{sO}", "attendance", after);
			rc = audit_write_id(r->db, r->user->id, "api", "attendance", "meeting", id,
			                    bw, aw);
			json_decref(bw);
			json_decref(aw);
			json_decref(after);
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK) {
			resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
			err = "";
		}
	}
	if (!err)
		resp_json(r, 200, meeting_json(r->db, id));
	else if (*err)
		resp_error(r, 422, err);
	json_decref(b);
	meeting_free(&m);
}

/* POST /api/v1/meetings/{meeting}/follow-ups {"what", "owner_user_id", "owner_text", "due_on"} */
static void api_follow_up(struct req *r)
{
	int64_t id;
	struct meeting m;
	if (req_param_id(r, 0, &id) || meeting_require(r, id, ROLE_COORDINATOR, &m))
		return;
	json_t *b = api_body(r);
	if (!b) {
		meeting_free(&m);
		return;
	}
	int bad = 0;
	const char *what = jstr(b, "what", &bad), *owner_text = jstr(b, "owner_text", &bad),
	           *due = jstr(b, "due_on", &bad);
	int64_t uid = jid(b, "owner_user_id", &bad), fid = 0;
	char *twhat = what ? str_trim_dup(what) : NULL;
	char *towner = owner_text ? str_trim_dup(owner_text) : NULL;
	char msg[256];
	int status = 422;
	if (bad)
		snprintf(msg, sizeof msg,
		         "Attendu : {\"what\": \"…\", \"owner_user_id\": 3, \"owner_text\": \"…\", "
		         "\"due_on\": \"AAAA-MM-JJ\"}.");
	else
		status = follow_up_insert(r->db, r->user->id, "api", &m, twhat, uid, towner, due,
		                          &fid, msg, sizeof msg);
	if (status)
		resp_error(r, status, msg);
	else
		resp_json(r, 201,
		          first_or_null(rows_json(r->db, API_FOLLOW_COLS "WHERE f.id = ?",
		                                  API_FOLLOW_TYPES, fid)));
	free(twhat);
	free(towner);
	json_decref(b);
	meeting_free(&m);
}

/* GET|PATCH /api/v1/follow-ups/{followup} {"status": "fait"|"abandonne"|"ouvert"} */
static void api_follow_up_one(struct req *r)
{
	int64_t fid;
	struct meeting m;
	if (req_param_id(r, 0, &fid) ||
	    follow_up_require(r, fid, r->method == M_GET ? ROLE_READER : ROLE_COORDINATOR, &m))
		return;
	meeting_free(&m);
	if (r->method != M_GET) {
		json_t *b = api_body(r);
		if (!b)
			return;
		int bad = 0;
		const char *status = jstr(b, "status", &bad);
		char msg[256];
		int st = bad ? 422
		             : follow_up_set_status(r->db, r->user->id, "api", fid, status, msg,
		                                    sizeof msg);
		if (bad)
			snprintf(msg, sizeof msg,
			         "Attendu : {\"status\": \"fait\"|\"abandonne\"|\"ouvert\"}.");
		json_decref(b);
		if (st) {
			resp_error(r, st, msg);
			return;
		}
	}
	resp_json(r, 200,
	          first_or_null(
	              rows_json(r->db, API_FOLLOW_COLS "WHERE f.id = ?", API_FOLLOW_TYPES, fid)));
}

/* --- iCalendar ------------------------------------------------------------------------------ */

void ics_line(struct buf *out, const char *name, const char *value, int escape)
{
	struct buf l = {0};
	buf_puts(&l, name);
	buf_putc(&l, ':');
	for (const char *p = value ? value : ""; *p; p++) {
		if (escape && (*p == '\\' || *p == ',' || *p == ';')) {
			buf_putc(&l, '\\');
			buf_putc(&l, *p);
		} else if (escape && *p == '\r') {
			if (p[1] != '\n')
				buf_puts(&l, "\\n");
		} else if (escape && *p == '\n') {
			buf_puts(&l, "\\n");
		} else if (!escape || (unsigned char)*p >= 0x20 || *p == '\t') {
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

/*
 * An iCalendar document of meetings into o: those of one instance (instance_id), those the
 * user's feed lists (user_id: the instances of every plan the user is a member of, and every
 * instance the user sits in), or every meeting (both 0, for the command line). One VEVENT per
 * meeting (two hours long, UTC times), the agenda in DESCRIPTION, cancelled ones CANCELLED.
 */
static void ics_meetings(struct db *db, struct buf *o, const char *calname, int64_t instance_id,
                         int64_t user_id)
{
	char now[32], stamp[32];
	time_iso_now(now);
	ics_time(now, stamp);
	ics_line(o, "BEGIN", "VCALENDAR", 0);
	ics_line(o, "VERSION", "2.0", 0);
	ics_line(o, "PRODID", "-//maillage//Instances de gouvernance//FR", 0);
	ics_line(o, "CALSCALE", "GREGORIAN", 0);
	ics_line(o, "METHOD", "PUBLISH", 0);
	ics_line(o, "X-WR-CALNAME", calname, 1);
	const char *sel = "SELECT m.id, m.starts_at, m.place, m.status, i.name, COALESCE(p.title, "
	                  "'') FROM meetings m JOIN instances i ON i.id = m.instance_id LEFT JOIN "
	                  "plans p ON p.id = i.plan_id ";
	char *sql;
	struct db_stmt *st;
	if (instance_id) {
		sql = xasprintf("%sWHERE m.instance_id = ? ORDER BY m.starts_at, m.id", sel);
		st = db_queryf(db, sql, "I", instance_id);
	} else if (user_id) {
		sql = xasprintf(
		    "%sWHERE i.plan_id IN (SELECT plan_id FROM plan_members WHERE user_id "
		    "= ?) OR i.id IN (SELECT instance_id FROM instance_members WHERE "
		    "user_id = ?) ORDER BY m.starts_at, m.id",
		    sel);
		st = db_queryf(db, sql, "II", user_id, user_id);
	} else {
		sql = xasprintf("%sORDER BY m.starts_at, m.id", sel);
		st = db_queryf(db, sql, "");
	}
	free(sql);
	while (st && db_step(st) == DB_ROW) {
		int64_t mid = db_col_int64(st, 0);
		char uid[96], start[32], end[32];
		snprintf(uid, sizeof uid, "reunion-%lld@maillage", (long long)mid);
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
		char *summary = xasprintf("%s — réunion", db_col_text(st, 4));
		ics_line(o, "SUMMARY", summary, 1);
		free(summary);
		if (*db_col_text(st, 2))
			ics_line(o, "LOCATION", db_col_text(st, 2), 1);
		struct buf d = {0};
		if (*db_col_text(st, 5))
			buf_printf(&d, "%s\n", db_col_text(st, 5));
		struct db_stmt *ag =
		    db_queryf(db,
		              "SELECT title FROM agenda_items WHERE meeting_id = ? "
		              "ORDER BY position, id",
		              "I", mid);
		int k = 0;
		while (ag && db_step(ag) == DB_ROW) {
			k++;
			buf_printf(&d, "%s%d. %s\n", k == 1 ? "Ordre du jour :\n" : "", k,
			           db_col_text(ag, 0));
		}
		db_finalize(ag);
		if (d.len)
			ics_line(o, "DESCRIPTION", buf_str(&d), 1);
		buf_free(&d);
		ics_line(o, "STATUS",
		         !strcmp(db_col_text(st, 3), "cancelled") ? "CANCELLED" : "CONFIRMED", 0);
		ics_line(o, "END", "VEVENT", 0);
	}
	db_finalize(st);
	ics_line(o, "END", "VCALENDAR", 0);
}

/* GET /instances/{instance}/reunions.ics */
static void meetings_ics(struct req *r)
{
	int64_t id;
	struct inst in;
	if (req_param_id(r, 0, &id) || inst_require(r, id, ROLE_READER, &in))
		return;
	ics_meetings(r->db, &r->out, in.name, id, 0);
	resp_header(r, "Content-Disposition", "attachment; filename=\"reunions.ics\"");
	resp_send(r, 200, "text/calendar; charset=utf-8");
	inst_free(&in);
}

/* --- personal calendar feed -------------------------------------------------------------------
 * One secret token per user (32 random bytes, hex), only its hash stored (calendar_tokens), like
 * the sessions: the URL /calendrier/{token}.ics is shown once when created, can be regenerated
 * (the old one stops working) or revoked. The feed lists the meetings of every instance of the
 * plans the user is a member of (any role: what they can read on the pages) and of every
 * instance they sit in; it stops when the account is disabled. */

static void calendar_render(struct req *r, const char *fresh_token)
{
	struct buf *o = &r->out;
	page_begin(r, "Mon calendrier des réunions", NULL);
	buf_puts(o, "<h1>Mon calendrier des réunions</h1>\n<p class=\"lead\">Un lien secret à "
	            "ajouter à votre agenda (Thunderbird, Outlook, Agenda de votre téléphone…) : "
	            "il liste les réunions des instances des plans dont vous êtes membre et des "
	            "instances où vous siégez, et se met à jour tout seul.</p>\n");
	char *created = NULL, *used = NULL;
	struct db_stmt *st =
	    db_queryf(r->db, "SELECT created_at, used_at FROM calendar_tokens WHERE user_id = ?",
	              "I", r->user->id);
	if (st && db_step(st) == DB_ROW) {
		created = xstrdup(db_col_text(st, 0));
		used = db_col_text(st, 1) ? xstrdup(db_col_text(st, 1)) : NULL;
	}
	db_finalize(st);
	if (fresh_token) {
		const char *host = req_header(r, "Host");
		int https = r->srv && server_config(r->srv)->secure_cookies;
		html_printf(
		    o,
		    "<div class=\"notice notice-success\" role=\"status\"><p>Voici votre lien "
		    "personnel. <strong>Copiez-le maintenant</strong> : il ne sera plus "
		    "affiché. Ne le partagez pas ; en cas de doute, régénérez-le.</p>\n"
		    "<p><label for=\"cal-url\">Adresse du calendrier</label> <input "
		    "id=\"cal-url\" readonly size=\"60\" value=\"%s://%s/calendrier/%s.ics\">"
		    "</p>\n<p><a href=\"/calendrier/%s.ics\">Télécharger le calendrier "
		    "(.ics)</a></p></div>\n",
		    https ? "https" : "http", host ? host : "localhost", fresh_token, fresh_token);
	}
	if (created) {
		buf_puts(o, "<dl class=\"facts\"><div><dt>Lien créé le</dt><dd>");
		when_fr(o, created);
		buf_puts(o, "</dd></div><div><dt>Dernière lecture</dt><dd>");
		if (used)
			when_fr(o, used);
		else
			buf_puts(o, "jamais");
		buf_puts(o, "</dd></div></dl>\n");
	} else {
		buf_puts(o, "<p>Vous n'avez pas encore de lien de calendrier.</p>\n");
	}
	buf_puts(o, "<div class=\"actions\"><form class=\"inline\" method=\"post\" "
	            "action=\"/calendrier/jeton\">");
	page_csrf(r);
	html_printf(o, "<button class=\"button\" type=\"submit\">%s</button></form>",
	            created ? "Régénérer le lien (l'ancien cesse de fonctionner)"
	                    : "Créer mon lien de calendrier");
	if (created) {
		buf_puts(
		    o, " <form class=\"inline\" method=\"post\" action=\"/calendrier/revoquer\">");
		page_csrf(r);
		buf_puts(o, "<button class=\"button secondary\" type=\"submit\">Révoquer le lien"
		            "</button></form>");
	}
	buf_puts(o, "</div>\n");
	free(created);
	free(used);
	resp_header(r, "Cache-Control", "no-store");
	page_end(r);
}

/* GET /calendrier */
static void calendar_page(struct req *r)
{
	calendar_render(r, NULL);
}

/* Replace (or create) the user's token; the new token into tok (65 bytes). Audited without
 * the token or its hash. DB_OK or an error. */
static int calendar_token_new(struct db *db, int64_t user_id, const char *origin, char tok[65])
{
	char hash[65], now[32];
	random_hex(tok, 32);
	hash_hex(tok, hash);
	time_iso_now(now);
	int64_t had = 0;
	int rc = db_begin(db);
	if (rc == DB_OK)
		db_int64f(db, &had, "SELECT COUNT(*) FROM calendar_tokens WHERE user_id = ?", "I",
		          user_id);
	if (rc == DB_OK)
		rc = db_execf(
		    db,
		    "INSERT INTO calendar_tokens (user_id, token_hash, created_at) VALUES "
		    "(?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET token_hash = "
		    "excluded.token_hash, created_at = excluded.created_at, used_at = NULL",
		    "Iss", user_id, hash, now);
	if (rc == DB_OK) {
		json_t *after = json_pack("{ss}", "created_at", now);
		json_t *before = had ? json_pack("{sb}", "token", 1) : NULL;
		rc = audit_write_id(db, user_id, origin, had ? "regenerate" : "create",
		                    "calendar_token", user_id, before, after);
		json_decref(after);
		json_decref(before);
	}
	return store_finish_tx(db, rc);
}

/* POST /calendrier/jeton: create or regenerate; the page shows the new link once (no
 * redirect: the token is never stored in clear, it cannot be shown again). */
static void calendar_token_post(struct req *r)
{
	char tok[65];
	if (calendar_token_new(r->db, r->user->id, "web", tok) != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
		return;
	}
	calendar_render(r, tok);
	sodium_memzero(tok, sizeof tok);
}

/* POST /calendrier/revoquer */
static void calendar_revoke(struct req *r)
{
	int64_t had = 0;
	db_int64f(r->db, &had, "SELECT COUNT(*) FROM calendar_tokens WHERE user_id = ?", "I",
	          r->user->id);
	int rc = db_begin(r->db);
	if (rc == DB_OK && had)
		rc = db_execf(r->db, "DELETE FROM calendar_tokens WHERE user_id = ?", "I",
		              r->user->id);
	if (rc == DB_OK && had) {
		json_t *before = json_pack("{sb}", "token", 1);
		rc = audit_write_id(r->db, r->user->id, "web", "revoke", "calendar_token",
		                    r->user->id, before, NULL);
		json_decref(before);
	}
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué, réessayez.");
		return;
	}
	resp_redirect(r, "/calendrier");
}

/* GET /calendrier/{token}.ics: public, the token is the credential. */
static void calendar_feed(struct req *r)
{
	const char *p = r->params[0];
	size_t n = p ? strlen(p) : 0;
	char tok[65] = "";
	if (n == 68 && !strcmp(p + 64, ".ics"))
		memcpy(tok, p, 64);
	for (int i = 0; tok[0] && i < 64; i++)
		if (!((tok[i] >= '0' && tok[i] <= '9') || (tok[i] >= 'a' && tok[i] <= 'f')))
			tok[0] = '\0';
	int64_t uid = 0;
	char hash[65];
	if (tok[0])
		hash_hex(tok, hash);
	if (!tok[0] ||
	    db_int64f(r->db, &uid,
	              "SELECT t.user_id FROM calendar_tokens t JOIN users u ON u.id = t.user_id "
	              "WHERE t.token_hash = ? AND u.disabled = 0",
	              "s", hash) != DB_OK) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return;
	}
	char now[32];
	time_iso_now(now);
	db_execf(r->db, "UPDATE calendar_tokens SET used_at = ? WHERE user_id = ?", "sI", now, uid);
	ics_meetings(r->db, &r->out, "Mes réunions (maillage)", 0, uid);
	resp_header(r, "Content-Disposition", "attachment; filename=\"mes-reunions.ics\"");
	resp_header(r, "Cache-Control", "private, no-store");
	resp_header(r, "Referrer-Policy", "no-referrer");
	resp_send(r, 200, "text/calendar; charset=utf-8");
}

int governance_cli_export(struct db *db, const char *format, const char *instance,
                          const char *out_path)
{
	int64_t iid = 0;
	char *name = NULL;
	if (format && strcmp(format, "ics") != 0) {
		fprintf(stderr, "maillage export meetings : --format attend ics\n");
		return 2;
	}
	if (instance) {
		if (parse_int64(instance, &iid) || iid < 1) {
			fprintf(
			    stderr,
			    "maillage export meetings : « %s » n'est pas un numéro d'instance\n",
			    instance);
			return 2;
		}
		struct db_stmt *st =
		    db_queryf(db, "SELECT name FROM instances WHERE id = ?", "I", iid);
		if (st && db_step(st) == DB_ROW)
			name = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		if (!name) {
			fprintf(stderr,
			        "maillage export meetings : l'instance n° %lld n'existe pas\n",
			        (long long)iid);
			return 1;
		}
	}
	struct buf b = {0};
	ics_meetings(db, &b, name ? name : "Réunions des instances (maillage)", iid, 0);
	free(name);
	int to_stdout = !out_path || !strcmp(out_path, "-");
	FILE *f = to_stdout ? stdout : fopen(out_path, "wb");
	if (!f) {
		fprintf(stderr, "maillage : impossible d'écrire « %s »\n", out_path);
		buf_free(&b);
		return 1;
	}
	int bad = fwrite(b.data ? b.data : "", 1, b.len, f) != b.len;
	bad |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
	buf_free(&b);
	if (bad) {
		fprintf(stderr, "maillage : écriture incomplète\n");
		return 1;
	}
	if (!to_stdout)
		fprintf(stderr, "Réunions exportées dans %s.\n", out_path);
	return 0;
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
    {M_GET, "/calendrier", ACC_LOGIN, calendar_page,
     "Mon calendrier des réunions : lien personnel secret (création, régénération)"},
    {M_POST, "/calendrier/jeton", ACC_LOGIN, calendar_token_post,
     "Créer ou régénérer le lien de calendrier"},
    {M_POST, "/calendrier/revoquer", ACC_LOGIN, calendar_revoke, "Révoquer le lien de calendrier"},
    {M_GET, "/calendrier/{token}", ACC_PUBLIC, calendar_feed,
     "Calendrier personnel des réunions (iCalendar ; l'adresse secrète fait foi)"},
    {M_GET, "/reunions/{meeting}", ACC_PUBLIC, meeting_page,
     "Une réunion : rappel, ordre du jour, présences, compte rendu, décisions, suites"},
    {M_GET, "/reunions/{meeting}/dossier", ACC_PUBLIC, pack_page,
     "Dossier de séance : ordre du jour, rappel et extrait du tableau de bord (à imprimer)"},
    {M_GET, "/reunions/{meeting}/dossier.pdf", ACC_PUBLIC, pack_page, "Dossier de séance en PDF"},
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
    {M_GET | M_POST, "/api/v1/plans/{plan}/instances", ACC_PUBLIC, api_instances,
     "Instances d'un plan (JSON ; création par la coordination)"},
    {M_GET, "/api/v1/instances/{instance}", ACC_PUBLIC, api_instance,
     "Une instance, ses membres et ses réunions (JSON)"},
    {M_POST, "/api/v1/instances/{instance}/meetings", ACC_LOGIN, api_meeting_create,
     "Programmer une réunion (JSON)"},
    {M_GET, "/api/v1/meetings/{meeting}", ACC_PUBLIC, api_meeting,
     "Une réunion : ordre du jour, présences, compte rendu, décisions, suites, rappel (JSON)"},
    {M_PUT, "/api/v1/meetings/{meeting}/minutes", ACC_LOGIN, api_minutes,
     "Enregistrer le compte rendu et l'état d'une réunion (JSON)"},
    {M_POST, "/api/v1/meetings/{meeting}/agenda", ACC_LOGIN, api_agenda,
     "Ajouter un point à l'ordre du jour (JSON)"},
    {M_PUT, "/api/v1/meetings/{meeting}/attendance", ACC_LOGIN, api_attendance,
     "Enregistrer les présences et ajouter des invités (JSON)"},
    {M_POST, "/api/v1/meetings/{meeting}/decisions", ACC_LOGIN, api_decision,
     "Ajouter une décision, éventuellement l'arbitrage d'une proposition (JSON)"},
    {M_POST, "/api/v1/meetings/{meeting}/follow-ups", ACC_LOGIN, api_follow_up,
     "Ajouter une suite (JSON)"},
    {M_GET | M_PATCH, "/api/v1/follow-ups/{followup}", ACC_PUBLIC, api_follow_up_one,
     "Une suite ; changer son état (JSON)"},
    {0},
};
