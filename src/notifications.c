/* notifications: generated lazily from the data when the user opens a page (at most every
 * NOTIFICATIONS_REFRESH_EVERY seconds) or the notifications page (always): open follow-ups
 * owned by the user, upcoming meetings they are invited to, overdue measurements of the fiches
 * they pilot. Marking as read is audited; generating is derived data, like sessions, and is
 * not. When MAILLAGE_SMTP is set (`serve --smtp`), the notifications created for someone else
 * by a write (a follow-up assigned, a meeting planned) are also sent by e-mail through a plain
 * SMTP relay; e-mail addresses are never logged. */
#include "notifications.h"

#include "audit.h"
#include "buf.h"
#include "db.h"
#include "indicators.h"
#include "layout.h"
#include "util.h"

#include <jansson.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LIST_MAX 200

static const char *const MONTHS[] = {"janvier",   "février", "mars",     "avril",
                                     "mai",       "juin",    "juillet",  "août",
                                     "septembre", "octobre", "novembre", "décembre"};

/* "YYYY-MM-DD…" as "1 avril 2026" into out (the text itself when it is not a date). */
static void date_fr(char out[48], const char *iso)
{
	int y, m, d;
	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12)
		snprintf(out, 48, "%s", iso ? iso : "");
	else
		snprintf(out, 48, "%d %s %d", d, MONTHS[m - 1], y);
}

/* Insert one notification unless the user already has one with this key. */
static int add(struct db *db, int64_t user_id, const char *kind, const char *key, const char *title,
               const char *href, const char *now, int *added)
{
	int64_t id = 0;
	int rc =
	    db_int64f(db, &id,
	              "INSERT INTO notifications (user_id, kind, ref_key, title, href, "
	              "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, ref_key) DO "
	              "NOTHING RETURNING id",
	              "Isssss", user_id, kind, key, title, href, now);
	if (rc == DB_OK)
		(*added)++;
	return rc == DB_DONE ? DB_OK : rc;
}

int notifications_refresh(struct db *db, int64_t user_id, int force)
{
	char now[32];
	time_iso_now(now);
	if (!force) {
		struct db_stmt *st =
		    db_queryf(db, "SELECT refreshed_at FROM notification_state WHERE user_id = ?",
		              "I", user_id);
		int fresh = 0;
		if (st && db_step(st) == DB_ROW) {
			/* ISO-8601 UTC text: compare with now minus the period, computed in C. */
			time_t t = time(NULL) - NOTIFICATIONS_REFRESH_EVERY;
			struct tm tm;
			gmtime_r(&t, &tm);
			char limit[32];
			strftime(limit, sizeof limit, "%Y-%m-%dT%H:%M:%SZ", &tm);
			fresh = strcmp(db_col_text(st, 0), limit) > 0;
		}
		db_finalize(st);
		if (fresh)
			return 0;
	}
	int added = 0;
	int rc = db_begin(db);
	int own = rc == DB_OK;
	rc = DB_OK;

	/* 1. Follow-ups assigned to me, still open. */
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT f.id, f.what, f.due_on, f.meeting_id, i.name FROM follow_ups f JOIN meetings m "
	    "ON m.id = f.meeting_id JOIN instances i ON i.id = m.instance_id WHERE "
	    "f.owner_user_id = ? AND f.status = 'ouvert' AND i.plan_id IN (SELECT plan_id FROM "
	    "plan_members WHERE user_id = ?) ORDER BY f.id",
	    "II", user_id, user_id);
	while (rc == DB_OK && st && db_step(st) == DB_ROW) {
		char key[64], href[64], due[48] = "";
		snprintf(key, sizeof key, "follow_up:%lld", (long long)db_col_int64(st, 0));
		snprintf(href, sizeof href, "/reunions/%lld", (long long)db_col_int64(st, 3));
		if (db_col_text(st, 2))
			date_fr(due, db_col_text(st, 2));
		char *title = xasprintf("Suite à faire : %s (%s%s%s)", db_col_text(st, 1),
		                        db_col_text(st, 4), *due ? ", échéance le " : "", due);
		rc = add(db, user_id, "follow_up", key, title, href, now, &added);
		free(title);
	}
	db_finalize(st);

	/* 2. Upcoming meetings I am invited to (the key holds the date: a moved meeting
	 * notifies again). */
	if (rc == DB_OK) {
		st = db_queryf(
		    db,
		    "SELECT m.id, m.starts_at, m.place, i.name FROM meetings m JOIN instances i ON "
		    "i.id = m.instance_id WHERE m.starts_at >= ? AND m.status = 'planned' AND "
		    "i.plan_id IN (SELECT plan_id FROM plan_members WHERE user_id = ?) AND (EXISTS "
		    "(SELECT 1 FROM instance_members im WHERE im.instance_id = i.id AND im.user_id "
		    "= "
		    "?) OR EXISTS (SELECT 1 FROM attendance a WHERE a.meeting_id = m.id AND "
		    "a.user_id = ?)) ORDER BY m.starts_at, m.id",
		    "sIII", now, user_id, user_id, user_id);
		while (rc == DB_OK && st && db_step(st) == DB_ROW) {
			char key[96], href[64], when[48];
			snprintf(key, sizeof key, "meeting:%lld:%s", (long long)db_col_int64(st, 0),
			         db_col_text(st, 1));
			snprintf(href, sizeof href, "/reunions/%lld",
			         (long long)db_col_int64(st, 0));
			date_fr(when, db_col_text(st, 1));
			char *title = xasprintf(
			    "Vous êtes invité·e : %s, réunion du %s%s%s", db_col_text(st, 3), when,
			    *db_col_text(st, 2) ? " — " : "", db_col_text(st, 2));
			rc = add(db, user_id, "meeting", key, title, href, now, &added);
			free(title);
		}
		db_finalize(st);
	}

	/* 3. Overdue measurements of the fiches I pilot (the rule of indicators.h). */
	if (rc == DB_OK) {
		struct overdue *list = NULL;
		size_t n = 0;
		if (indicators_overdue(db, user_id, 0, &list, &n) == 0) {
			for (size_t i = 0; rc == DB_OK && i < n; i++) {
				char key[96], href[64], due[48];
				snprintf(key, sizeof key, "overdue:%lld:%s",
				         (long long)list[i].fiche_indicator_id, list[i].due_date);
				snprintf(href, sizeof href, "/indicateurs-fiche/%lld#saisie",
				         (long long)list[i].fiche_indicator_id);
				date_fr(due, list[i].due_date);
				char *title =
				    xasprintf("Mesure en retard : %s (fiche %s %s), attendue le %s",
				              list[i].indicator_name, list[i].fiche_number,
				              list[i].fiche_title, due);
				rc = add(db, user_id, "overdue", key, title, href, now, &added);
				free(title);
			}
			indicators_overdue_free(list, n);
		}
	}
	if (rc == DB_OK)
		rc =
		    db_execf(db,
		             "INSERT INTO notification_state (user_id, refreshed_at) VALUES (?, ?) "
		             "ON CONFLICT (user_id) DO UPDATE SET refreshed_at = "
		             "excluded.refreshed_at",
		             "Is", user_id, now);
	if (own) {
		if (rc == DB_OK)
			rc = db_commit(db);
		else
			db_rollback(db);
	}
	return rc == DB_OK ? added : -1;
}

/* --- e-mail (SMTP) ------------------------------------------------------------------------------
 * A minimal SMTP client for a trusted relay (the host's MTA, an internal relay): plain
 * connection, EHLO, MAIL FROM, RCPT TO, DATA, QUIT, with a 10 s time limit per step; no TLS
 * and no authentication (a local relay does those). */

/* Read one SMTP reply (possibly multi-line); returns its code, 0 on a read error. */
static int smtp_reply(int fd)
{
	char line[1024];
	size_t len = 0;
	for (;;) {
		char ch;
		ssize_t k = recv(fd, &ch, 1, 0);
		if (k != 1)
			return 0;
		if (ch != '\n') {
			if (len < sizeof line - 1)
				line[len++] = ch;
			continue;
		}
		line[len] = '\0';
		if (len >= 4 && line[3] == ' ')
			return atoi(line);
		if (len < 4 || line[3] != '-')
			return 0;
		len = 0;
	}
}

static int smtp_send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Send a command and check the reply's code is `want` (or want2). 0 or -1. */
static int smtp_cmd(int fd, const char *cmd, int want, int want2)
{
	if (cmd && smtp_send_all(fd, cmd, strlen(cmd)))
		return -1;
	int code = smtp_reply(fd);
	return code == want || (want2 && code == want2) ? 0 : -1;
}

/* An address we may put in a header or an envelope: no CR, LF, <, >, space, one @. */
static int address_ok(const char *a)
{
	if (!a || !*a || strlen(a) > 254 || !strchr(a, '@'))
		return 0;
	for (const char *p = a; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '<' || *p == '>' || *p == ' ')
			return 0;
	return 1;
}

/*
 * Send a plain-text UTF-8 message through the relay of url ("smtp://host[:port]", port 25 by
 * default). 0, or -1 with a French reason in err (never the addresses).
 */
static int smtp_send(const char *url, const char *from, const char *to, const char *subject,
                     const char *body, char *err, size_t n)
{
	char host[256], port[16] = "25";
	if (!url || strncmp(url, "smtp://", 7) != 0) {
		snprintf(err, n, "adresse SMTP attendue de la forme smtp://hôte[:port]");
		return -1;
	}
	const char *h = url + 7;
	size_t hl = strcspn(h, ":/");
	if (!hl || hl >= sizeof host) {
		snprintf(err, n, "hôte SMTP invalide");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (h[hl] == ':')
		snprintf(port, sizeof port, "%.*s", (int)strcspn(h + hl + 1, "/"), h + hl + 1);
	if (!address_ok(from) || !address_ok(to)) {
		snprintf(err, n, "adresse électronique inutilisable");
		return -1;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	if (getaddrinfo(host, port, &hints, &ai) || !ai) {
		snprintf(err, n, "hôte SMTP introuvable");
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	struct timeval tv = {.tv_sec = 10};
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	int rc = fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) ? -1 : 0;
	freeaddrinfo(ai);
	if (rc) {
		snprintf(err, n, "connexion au relais SMTP impossible");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct buf b = {0};
	const char *step = "accueil";
	rc = smtp_cmd(fd, NULL, 220, 0);
	if (!rc) {
		step = "EHLO";
		rc = smtp_cmd(fd, "EHLO maillage\r\n", 250, 0);
	}
	if (!rc) {
		step = "MAIL FROM";
		buf_printf(&b, "MAIL FROM:<%s>\r\n", from);
		rc = smtp_cmd(fd, buf_str(&b), 250, 0);
	}
	if (!rc) {
		step = "RCPT TO";
		buf_reset(&b);
		buf_printf(&b, "RCPT TO:<%s>\r\n", to);
		rc = smtp_cmd(fd, buf_str(&b), 250, 251);
	}
	if (!rc) {
		step = "DATA";
		rc = smtp_cmd(fd, "DATA\r\n", 354, 0);
	}
	if (!rc) {
		step = "message";
		/* Headers: the subject in RFC 2047 base64, the body 8-bit UTF-8, CRLF, dot-stuffed.
		 */
		char date[64], subj[1024];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
		size_t sl = strlen(subject) > 600 ? 600 : strlen(subject);
		sodium_bin2base64(subj, sizeof subj, (const unsigned char *)subject, sl,
		                  sodium_base64_VARIANT_ORIGINAL);
		char mid[40];
		random_hex(mid, 16);
		buf_reset(&b);
		buf_printf(
		    &b,
		    "From: maillage <%s>\r\nTo: <%s>\r\nSubject: =?UTF-8?B?%s?=\r\nDate: %s\r\n"
		    "Message-ID: <%s@maillage>\r\nMIME-Version: 1.0\r\nContent-Type: "
		    "text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
		    "Auto-Submitted: auto-generated\r\n\r\n",
		    from, to, subj, date, mid);
		for (const char *p = body; *p;) {
			size_t l = strcspn(p, "\r\n");
			if (*p == '.')
				buf_putc(&b, '.');
			buf_append(&b, p, l);
			buf_puts(&b, "\r\n");
			p += l;
			if (*p == '\r')
				p++;
			if (*p == '\n')
				p++;
		}
		buf_puts(&b, ".\r\n");
		rc = smtp_send_all(fd, b.data, b.len) ? -1 : smtp_cmd(fd, NULL, 250, 0);
	}
	if (!rc)
		smtp_cmd(fd, "QUIT\r\n", 221, 0);
	else
		snprintf(err, n, "le relais SMTP a refusé l'étape %s", step);
	buf_free(&b);
	close(fd);
	return rc;
}

int notifications_mail(struct db *db, int64_t user_id)
{
	const char *url = getenv("MAILLAGE_SMTP");
	if (!url || !*url)
		return 0;
	const char *from = getenv("MAILLAGE_SMTP_FROM");
	if (!from || !*from)
		from = "maillage@localhost";
	char *to = NULL, *name = NULL;
	struct db_stmt *st = db_queryf(
	    db, "SELECT email, name FROM users WHERE id = ? AND disabled = 0", "I", user_id);
	if (st && db_step(st) == DB_ROW) {
		to = xstrdup(db_col_text(st, 0));
		name = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
	if (!to)
		return 0;
	struct buf body = {0};
	buf_printf(&body, "Bonjour %s,\n\n", name);
	st = db_queryf(db,
	               "SELECT id, title, href FROM notifications WHERE user_id = ? AND read_at IS "
	               "NULL AND emailed_at IS NULL AND kind IN ('follow_up', 'meeting') ORDER BY "
	               "id LIMIT 50",
	               "I", user_id);
	int64_t ids[50];
	int k = 0;
	while (st && db_step(st) == DB_ROW && k < 50) {
		ids[k++] = db_col_int64(st, 0);
		buf_printf(&body, "- %s\n  %s\n", db_col_text(st, 1), db_col_text(st, 2));
	}
	db_finalize(st);
	int rc = 0;
	if (k) {
		buf_puts(&body, "\nRetrouvez-les dans maillage, page « Notifications ».\n\n-- \n"
		                "Message automatique de maillage.\n");
		char err[160];
		char *subject = xasprintf("maillage : %d nouvelle%s notification%s", k,
		                          k > 1 ? "s" : "", k > 1 ? "s" : "");
		if (smtp_send(url, from, to, subject, buf_str(&body), err, sizeof err)) {
			fprintf(stderr, "maillage : courriel de notification non envoyé : %s\n",
			        err);
			rc = -1;
		} else {
			char now[32];
			time_iso_now(now);
			for (int i = 0; i < k; i++)
				db_execf(db, "UPDATE notifications SET emailed_at = ? WHERE id = ?",
				         "sI", now, ids[i]);
		}
		free(subject);
	}
	buf_free(&body);
	free(to);
	free(name);
	return rc;
}

void notifications_created_for(struct db *db, int64_t user_id)
{
	if (notifications_refresh(db, user_id, 1) >= 0)
		notifications_mail(db, user_id);
}

int64_t notifications_unread(struct db *db, int64_t user_id)
{
	int64_t n = 0;
	if (db_int64f(db, &n,
	              "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
	              "I", user_id) != DB_OK)
		return 0;
	return n;
}

void notifications_bell(struct req *r)
{
	if (!r->user)
		return;
	notifications_refresh(r->db, r->user->id, 0);
	int64_t n = notifications_unread(r->db, r->user->id);
	const char *p = r->path ? r->path : "";
	html_printf(&r->out, "<a href=\"/notifications\" class=\"bell\"%R>Notifications",
	            !strncmp(p, "/notifications", 14) ? " aria-current=\"page\"" : "");
	if (n)
		html_printf(&r->out,
		            " <span class=\"badge\">%lld<span class=\"visually-hidden\"> non "
		            "lue%s</span></span>",
		            (long long)n, n > 1 ? "s" : "");
	buf_puts(&r->out, "</a> ");
}

/* GET /notifications */
static void notifications_page(struct req *r)
{
	notifications_refresh(r->db, r->user->id, 1);
	struct buf *o = &r->out;
	page_begin(r, "Notifications", NULL);
	buf_puts(o, "<h1>Notifications</h1>\n<p class=\"lead\">Les suites qui vous sont confiées, "
	            "les réunions auxquelles vous êtes invité·e et les mesures d'indicateurs en "
	            "retard sur les fiches-actions que vous pilotez.</p>\n");
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "lu"))
		page_notice(r, "success", "Notification marquée comme lue.");
	else if (ok && !strcmp(ok, "tout"))
		page_notice(r, "success", "Toutes les notifications sont marquées comme lues.");
	buf_puts(o, "<p>Vos réunions dans votre agenda : <a href=\"/calendrier\">mon calendrier "
	            "personnel (iCalendar)</a>.</p>\n");
	int64_t unread = notifications_unread(r->db, r->user->id);
	if (unread) {
		buf_puts(o,
		         "<form class=\"actions\" method=\"post\" action=\"/notifications/lire\">");
		page_csrf(r);
		buf_puts(o,
		         "<input type=\"hidden\" name=\"all\" value=\"1\"><button "
		         "class=\"button secondary\" type=\"submit\">Tout marquer comme lu</button>"
		         "</form>\n");
	}
	for (int pass = 0; pass < 2; pass++) {
		struct db_stmt *st = db_queryf(
		    r->db,
		    pass == 0
		        ? "SELECT id, kind, title, href, created_at FROM notifications WHERE "
		          "user_id = ? AND read_at IS NULL ORDER BY created_at DESC, id DESC "
		          "LIMIT 200"
		        : "SELECT id, kind, title, href, created_at FROM notifications WHERE "
		          "user_id = ? AND read_at IS NOT NULL ORDER BY read_at DESC, id DESC "
		          "LIMIT 50",
		    "I", r->user->id);
		html_printf(o, "<h2>%s</h2>\n",
		            pass == 0 ? "Non lues" : "Déjà lues (les dernières)");
		int n = 0;
		while (st && db_step(st) == DB_ROW) {
			if (n++ == 0)
				buf_puts(o, "<ul class=\"notifications\">\n");
			const char *kind = db_col_text(st, 1);
			const char *label = !strcmp(kind, "follow_up") ? "Suite"
			                    : !strcmp(kind, "meeting") ? "Réunion"
			                                               : "Mesure";
			char when[48];
			date_fr(when, db_col_text(st, 4));
			html_printf(
			    o,
			    "<li><span class=\"badge\">%s</span> <a href=\"%s\">%s</a> <span "
			    "class=\"muted\">(%s)</span>",
			    label, db_col_text(st, 3), db_col_text(st, 2), when);
			if (pass == 0) {
				buf_puts(o, " <form class=\"inline\" method=\"post\" "
				            "action=\"/notifications/lire\">");
				page_csrf(r);
				html_printf(
				    o,
				    "<input type=\"hidden\" name=\"id\" value=\"%lld\"><button "
				    "class=\"button small\" type=\"submit\">Marquer comme lue<span "
				    "class=\"visually-hidden\"> : %s</span></button></form>",
				    (long long)db_col_int64(st, 0), db_col_text(st, 2));
			}
			buf_puts(o, "</li>\n");
		}
		db_finalize(st);
		buf_puts(o, n           ? "</ul>\n"
		            : pass == 0 ? "<p>Aucune notification non lue.</p>\n"
		                        : "<p>Aucune.</p>\n");
	}
	page_end(r);
}

/* Mark one notification (id > 0) or every unread one (id == 0) of the user as read, audited.
 * 0, 404 (not the user's), or 500. */
static int mark_read(struct db *db, int64_t user_id, const char *origin, int64_t id)
{
	int64_t ok = 0, count = 0;
	if (id && db_int64f(db, &ok, "SELECT id FROM notifications WHERE id = ? AND user_id = ?",
	                    "II", id, user_id) != DB_OK)
		return 404;
	char now[32];
	time_iso_now(now);
	int rc = db_begin(db);
	if (rc == DB_OK && !id)
		rc =
		    db_int64f(db, &count,
		              "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS "
		              "NULL",
		              "I", user_id);
	if (rc == DB_OK)
		rc = !id ? db_execf(db,
		                    "UPDATE notifications SET read_at = ? WHERE user_id = ? AND "
		                    "read_at IS NULL",
		                    "sI", now, user_id)
		         : db_execf(
		               db,
		               "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? "
		               "AND read_at IS NULL",
		               "sII", now, id, user_id);
	if (rc == DB_OK) {
		json_t *after =
		    !id ? json_pack("{sIss}", "count", (json_int_t)count, "read_at", now)
		        : json_pack("{ss}", "read_at", now);
		rc = audit_write_id(db, user_id, origin, !id ? "read_all" : "read", "notification",
		                    !id ? user_id : id, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	return rc == DB_OK ? 0 : 500;
}

/* POST /notifications/lire: one (id) or every (all=1) unread notification of the user. */
static void notifications_read(struct req *r)
{
	const char *all = req_form(r, "all");
	const char *ids = req_form(r, "id");
	int64_t id = 0;
	int every = all && !strcmp(all, "1");
	if (!every && (!ids || parse_int64(ids, &id) || id <= 0)) {
		resp_error(r, 404, "Cette notification n'existe pas.");
		return;
	}
	int st = mark_read(r->db, r->user->id, "web", every ? 0 : id);
	if (st) {
		resp_error(r, st,
		           st == 404 ? "Cette notification n'existe pas."
		                     : "L'enregistrement a échoué, réessayez.");
		return;
	}
	resp_redirect(r, every ? "/notifications?ok=tout" : "/notifications?ok=lu");
}

/* The user's notifications as JSON: {"unread": n, "notifications": [...]}. */
static json_t *notifications_json(struct db *db, int64_t user_id)
{
	json_t *list = json_array();
	struct db_stmt *st = db_queryf(db,
	                               "SELECT id, kind, title, href, created_at, read_at FROM "
	                               "notifications WHERE user_id = ? ORDER BY read_at IS NOT "
	                               "NULL, created_at DESC, id DESC LIMIT 200",
	                               "I", user_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    list,
		    json_pack("{sIssssssssso}", "id", (json_int_t)db_col_int64(st, 0), "kind",
		              db_col_text(st, 1), "title", db_col_text(st, 2), "href",
		              db_col_text(st, 3), "created_at", db_col_text(st, 4), "read_at",
		              db_col_text(st, 5) ? json_string(db_col_text(st, 5)) : json_null()));
	db_finalize(st);
	return json_pack("{sIso}", "unread", (json_int_t)notifications_unread(db, user_id),
	                 "notifications", list);
}

/* GET /api/v1/notifications */
static void api_notifications(struct req *r)
{
	notifications_refresh(r->db, r->user->id, 1);
	resp_json(r, 200, notifications_json(r->db, r->user->id));
}

/* POST /api/v1/notifications/read {"id": 12} or {"all": true} */
static void api_notifications_read(struct req *r)
{
	json_t *b = req_json_body(r);
	if (!b)
		return;
	json_t *jid = json_object_get(b, "id"), *all = json_object_get(b, "all");
	int every = json_is_true(all);
	int64_t id = json_is_integer(jid) ? json_integer_value(jid) : 0;
	json_decref(b);
	if (!every && id <= 0) {
		resp_error(r, 422, "Attendu : {\"id\": 12} ou {\"all\": true}.");
		return;
	}
	int st = mark_read(r->db, r->user->id, "api", every ? 0 : id);
	if (st) {
		resp_error(r, st,
		           st == 404 ? "Cette notification n'existe pas."
		                     : "L'enregistrement a échoué, réessayez.");
		return;
	}
	resp_json(r, 200, notifications_json(r->db, r->user->id));
}

const struct route notifications_routes[] = {
    {M_GET, "/notifications", ACC_LOGIN, notifications_page,
     "Mes notifications : suites, réunions, mesures en retard"},
    {M_POST, "/notifications/lire", ACC_LOGIN, notifications_read,
     "Marquer une notification (ou toutes) comme lue"},
    {M_GET, "/api/v1/notifications", ACC_LOGIN, api_notifications, "Mes notifications (JSON)"},
    {M_POST, "/api/v1/notifications/read", ACC_LOGIN, api_notifications_read,
     "Marquer une notification (ou toutes) comme lue (JSON)"},
    {0},
};
