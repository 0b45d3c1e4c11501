/* test_http_governance: instances and meetings over HTTP on the demo database — a COPIL of the
 * Crestois plan, a meeting held with agenda, attendance, minutes, two numbered decisions and a
 * follow-up; the next meeting recalls the previous decisions and open follow-ups first; closing
 * a follow-up; bad input and hostile text; permissions (partner, reader, member of another plan,
 * anonymous); the audit; the iCalendar export (CRLF, folding, escaping, one VEVENT each). */
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "governance.h"
#include "harness.h"
#include "http.h"
#include "indicators.h"
#include "notifications.h"
#include "users.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PASSWORD "maillage-demo"
#define COORD    "coordination@demo.maillage.fr"
#define PARTNER  "partenaire@demo.maillage.fr"
#define READER   "lecture@demo.maillage.fr"
#define PILOT    "pilote@demo.maillage.fr"
#define OUTSIDER "coord-b@example.org"
#define SECRET   "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_a, plan_b, fiche_a, coord_uid, instances0;

static void assert_has(const struct resp *r, const char *needle)
{
	if (!strstr(buf_str(&r->body), needle))
		fail_msg("expected '%s' in the body (status %ld)", needle, r->status);
}

static void assert_lacks(const struct resp *r, const char *needle)
{
	if (strstr(buf_str(&r->body), needle))
		fail_msg("did not expect '%s' in the body (status %ld)", needle, r->status);
}

static char *enc(const char *s)
{
	struct buf b = {0};
	buf_url(&b, s);
	buf_puts(&b, "");
	return buf_steal(&b);
}

static struct client *login(const char *email)
{
	struct client *c = client_new(&T);
	const char *pw = strcmp(email, OUTSIDER) ? PASSWORD : "mot-de-passe-test";
	if (client_login(c, email, pw) != 303)
		fail_msg("login %s failed", email);
	return c;
}

/* Submit fields to `fmt` (a path with one id) after GETting `form` for the CSRF token. */
static long submit(struct client *c, const char *form, const char *path, const char *fields)
{
	struct resp r;
	client_submit(c, form, path, fields, &r);
	long s = r.status;
	resp_free(&r);
	return s;
}

static long get_status(struct client *c, const char *path)
{
	struct resp r;
	client_get(c, path, &r);
	long s = r.status;
	resp_free(&r);
	return s;
}

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	struct db *db = th_db(&T);
	db_int64f(db, &plan_a,
	          "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1", "");
	db_int64f(db, &fiche_a,
	          "SELECT MIN(f.node_id) FROM fiches f JOIN nodes n ON n.id = f.node_id "
	          "WHERE n.plan_id = ?",
	          "I", plan_a);
	db_int64f(db, &coord_uid, "SELECT id FROM users WHERE email = ?", "s", COORD);
	db_int64f(db, &instances0, "SELECT COUNT(*) FROM instances", "");
	db_int64f(db, &plan_b,
	          "INSERT INTO plans (kind, title, description, is_public, start_year, end_year, "
	          "created_at, updated_at) VALUES ('projet_social', ?, '', 0, 2024, 2027, 'x', "
	          "'x') RETURNING id",
	          "s", SECRET " (plan)");
	char *err = NULL;
	int64_t uid = 0;
	if (user_create(db, OUTSIDER, "Coordination B", "coordinator", "mot-de-passe-test", 0,
	                "cli", &uid, &err))
		fail_msg("user_create: %s", err);
	db_execf(db,
	         "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, 'coordinator')",
	         "II", plan_b, uid);
	db_close(db);
	assert_true(plan_a > 0 && plan_b > 0 && fiche_a > 0 && coord_uid > 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

static void test_time_and_ics_line(void **state)
{
	(void)state;
	char out[32];
	assert_int_equal(governance_local_to_utc("2026-01-15T10:00", out), 0);
	assert_string_equal(out, "2026-01-15T09:00:00Z"); /* CET */
	assert_int_equal(governance_local_to_utc("2026-07-01T10:00", out), 0);
	assert_string_equal(out, "2026-07-01T08:00:00Z"); /* CEST */
	assert_int_equal(governance_local_to_utc("2026-02-30T10:00", out), -1);
	assert_int_equal(governance_local_to_utc("2026-01-15T25:00", out), -1);
	assert_int_equal(governance_local_to_utc("' OR 1=1 --", out), -1);
	assert_int_equal(governance_local_to_utc("", out), -1);
	struct buf b = {0};
	ics_line(&b, "SUMMARY", "a,b;c\\d\ne", 1);
	assert_string_equal(buf_str(&b), "SUMMARY:a\\,b\\;c\\\\d\\ne\r\n");
	buf_reset(&b);
	/* 100 "é" (200 octets): folded, never inside a character, each line <= 75 octets. */
	struct buf v = {0};
	for (int i = 0; i < 100; i++)
		buf_puts(&v, "é");
	ics_line(&b, "LOCATION", buf_str(&v), 1);
	const char *s = buf_str(&b);
	size_t total = 0;
	for (const char *l = s; *l;) {
		const char *e = strstr(l, "\r\n");
		assert_non_null(e);
		assert_true(e - l <= 75);
		if (l != s)
			assert_true(*l == ' ');
		total++;
		l = e + 2;
	}
	assert_true(total >= 3);
	buf_free(&v);
	buf_free(&b);
}

/* The demo's COPIL and COTECH of the Crestois CTG: the next COPIL recalls the last one's
 * decisions and every follow-up still open (one late). */
static void test_demo(void **state)
{
	(void)state;
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM instances WHERE plan_id = ? AND kind IN "
	                 "('copil', 'cotech')",
	                 "I", plan_a),
	    2);
	int64_t copil = th_query_int(
	    &T, "SELECT id FROM instances WHERE plan_id = ? AND kind = 'copil'", "I", plan_a);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE instance_id = ?", "I", copil), 3);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM meetings WHERE instance_id = ? AND status "
	                 "= 'held' AND minutes <> ''",
	                 "I", copil),
	    2);
	int64_t next = th_query_int(&T,
	                            "SELECT id FROM meetings WHERE instance_id = ? AND status = "
	                            "'planned'",
	                            "I", copil);
	assert_true(next > 0);
	struct client *coord = login(COORD);
	char path[64];
	snprintf(path, sizeof path, "/reunions/%lld", (long long)next);
	struct resp r;
	client_get(coord, path, &r);
	assert_int_equal(r.status, 200);
	const char *body = buf_str(&r.body);
	const char *recall = strstr(body, "Rappel de la réunion précédente");
	const char *agenda = strstr(body, "<h2>Ordre du jour</h2>");
	assert_non_null(recall);
	assert_non_null(agenda);
	const char *d = strstr(body, "Lancer la veille en continu des besoins");
	const char *f = strstr(body, "Préparer le bilan des ateliers démarches en ligne Caf");
	assert_true(d && d > recall && d < agenda);
	assert_true(f && f > recall && f < agenda);
	assert_has(&r, "en retard");
	assert_has(&r, "Proposer un calendrier des actions parentalité festives");
	resp_free(&r);
	client_free(coord);
}

/* The whole life of an instance, in order. */
static void test_copil_lifecycle(void **state)
{
	(void)state;
	struct client *coord = login(COORD);
	char list[64], inst[64], m1p[64], m2p[64], path[128], fields[512];
	snprintf(list, sizeof list, "/plans/%lld/instances", (long long)plan_a);
	struct resp r;
	char *loc0;

	/* Create the COPIL; bad inputs re-render with 422 keeping the typed name. */
	assert_int_equal(submit(coord, list, list, "name=COPIL+Crestois&kind=copil"), 303);
	client_submit(coord, list, list, "name=Gardez-moi&kind=%3Cscript%3E", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Choisissez un type");
	assert_has(&r, "value=\"Gardez-moi\"");
	resp_free(&r);
	assert_int_equal(submit(coord, list, list, "name=&kind=copil"), 422);
	int64_t iid = th_query_int(
	    &T, "SELECT id FROM instances WHERE name = 'COPIL Crestois' AND plan_id = ?", "I",
	    plan_a);
	assert_true(iid > 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM instances", ""), instances0 + 1);
	snprintf(inst, sizeof inst, "/instances/%lld", (long long)iid);

	/* A member (prefilled in attendance), then meeting 1. */
	snprintf(path, sizeof path, "%s/membres", inst);
	snprintf(fields, sizeof fields, "user=%lld&role=Pr%%C3%%A9sidence", (long long)coord_uid);
	assert_int_equal(submit(coord, inst, path, fields), 303);
	int64_t actor = th_query_int(&T, "SELECT MIN(id) FROM actors", "");
	snprintf(fields, sizeof fields, "user=%lld&actor=%lld&role=x", (long long)coord_uid,
	         (long long)actor);
	assert_int_equal(submit(coord, inst, path, fields), 422); /* both */
	assert_int_equal(submit(coord, inst, path, "user=&actor=99999999&role=x"), 422);
	snprintf(fields, sizeof fields, "user=&actor=%lld&role=Structure+associ%%C3%%A9e",
	         (long long)actor);
	assert_int_equal(submit(coord, inst, path, fields), 303);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM instance_members WHERE instance_id = ?",
	                              "I", iid),
	                 2);
	snprintf(path, sizeof path, "%s/reunions", inst);
	assert_int_equal(submit(coord, inst, path, "starts_at=2026-02-30T10%3A00&place=X"), 422);
	assert_int_equal(
	    submit(coord, inst, path, "starts_at=2026-03-12T14%3A00&place=Mairie%2C+Crest"), 303);
	int64_t m1 =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
	char *at = th_query_text(&T, "SELECT starts_at FROM meetings WHERE id = ?", m1);
	assert_string_equal(at, "2026-03-12T13:00:00Z");
	free(at);
	snprintf(m1p, sizeof m1p, "/reunions/%lld", (long long)m1);
	/* Editing the date: invalid refused with the typed value kept, then moved by one hour. */
	snprintf(path, sizeof path, "%s/modifier", m1p);
	client_submit(coord, m1p, path, "starts_at=2026-03-12T99%3A00&place=%3Cscript%3E", &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "value=\"2026-03-12T99:00\"");
	assert_has(&r, "value=\"&lt;script&gt;\"");
	assert_lacks(&r, "<script>");
	resp_free(&r);
	assert_int_equal(
	    submit(coord, m1p, path, "starts_at=2026-03-12T14%3A00&place=Mairie%2C+Crest"), 303);
	client_get(coord, m1p, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "value=\"2026-03-12T14:00\"");
	assert_has(&r, "12 mars 2026 à 14 h 00");
	assert_has(&r, "la première réunion de cette instance");
	resp_free(&r);

	/* Agenda: two items, the second linked to a fiche, then moved up; a node of another plan
	 * is refused. */
	snprintf(path, sizeof path, "%s/ordre-du-jour", m1p);
	assert_int_equal(submit(coord, m1p, path, "title=Point+d%27%C3%A9tape&node="), 303);
	snprintf(fields, sizeof fields, "title=Bilan+de+la+fiche&node=%lld", (long long)fiche_a);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(submit(coord, m1p, path, "title=X&node=999999"), 422);
	assert_int_equal(submit(coord, m1p, path, "title=X&node=&need=999999"), 422);
	int64_t need =
	    th_query_int(&T, "SELECT MIN(id) FROM needs WHERE moderation = 'publie'", "");
	assert_true(need > 0);
	snprintf(fields, sizeof fields, "title=Besoin+%%C3%%A0+discuter&node=&need=%lld",
	         (long long)need);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(
	    th_query_int(&T, "SELECT need_id FROM agenda_items WHERE title = 'Besoin à discuter'",
	                 ""),
	    need);
	snprintf(fields, sizeof fields, "/besoins/%lld\"", (long long)need);
	client_get(coord, m1p, &r);
	assert_has(&r, fields);
	resp_free(&r);
	int64_t item2 =
	    th_query_int(&T, "SELECT id FROM agenda_items WHERE title = 'Bilan de la fiche'", "");
	snprintf(path, sizeof path, "%s/ordre-du-jour/%lld/monter", m1p, (long long)item2);
	assert_int_equal(submit(coord, m1p, path, ""), 303);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT id FROM agenda_items WHERE meeting_id = ? ORDER BY position "
	                 "LIMIT 1",
	                 "I", m1),
	    item2);
	assert_int_equal(
	    th_query_int(&T, "SELECT node_id FROM agenda_items WHERE id = ?", "I", item2), fiche_a);

	/* Attendance: the member is prefilled, set to excused; a guest added. */
	int64_t att =
	    th_query_int(&T, "SELECT id FROM attendance WHERE meeting_id = ? AND user_id = ?", "II",
	                 m1, coord_uid);
	assert_true(att > 0);
	snprintf(path, sizeof path, "%s/presences", m1p);
	snprintf(fields, sizeof fields, "att-%lld=bogus", (long long)att);
	assert_int_equal(submit(coord, m1p, path, fields), 422);
	snprintf(fields, sizeof fields, "att-%lld=excuse", (long long)att);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM attendance WHERE id = ? AND status = 'excuse'",
	                 "I", att),
	    1);
	snprintf(path, sizeof path, "%s/invites", m1p);
	assert_int_equal(submit(coord, m1p, path, "guest=%3Cb%3EInvit%C3%A9e%3C%2Fb%3E"), 303);

	/* Minutes with hostile text; two decisions numbered 1 and 2; a follow-up. */
	snprintf(path, sizeof path, "%s/compte-rendu", m1p);
	char *md = enc("## Bilan\n\n<script>alert(1)</script> ' OR 1=1 --");
	snprintf(fields, sizeof fields, "minutes=%s&status=held", md);
	free(md);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(submit(coord, m1p, path, "minutes=x&status=bogus"), 422);
	snprintf(path, sizeof path, "%s/decisions", m1p);
	assert_int_equal(submit(coord, m1p, path, "text=Valider+le+calendrier&node="), 303);
	snprintf(fields, sizeof fields,
	         "text=Financer+%%3Cem%%3Ela+cr%%C3%%A8che%%3C%%2Fem%%3E&node=%lld",
	         (long long)fiche_a);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(submit(coord, m1p, path, "text=&node="), 422);
	assert_int_equal(
	    th_query_int(&T, "SELECT MAX(number) FROM decisions WHERE meeting_id = ?", "I", m1), 2);
	assert_int_equal(
	    th_query_int(&T, "SELECT number FROM decisions WHERE text LIKE 'Valider%'", ""), 1);
	snprintf(path, sizeof path, "%s/suites", m1p);
	assert_int_equal(submit(coord, m1p, path, "what=X&due_on=2026-13-01"), 422);
	snprintf(fields, sizeof fields,
	         "what=Relancer+la+CAF&owner=%lld&owner_text=&due_on=2026-04-01",
	         (long long)coord_uid);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(submit(coord, m1p, path, "what=Suite+abandonn%C3%A9e&owner_text=CCAS"),
	                 303);

	client_get(coord, m1p, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h2>Bilan</h2>");
	assert_lacks(&r, "<script>alert");
	assert_lacks(&r, "<em>la crèche</em>");
	assert_has(&r, "&lt;em&gt;la crèche&lt;/em&gt;");
	assert_has(&r, "&lt;b&gt;Invitée&lt;/b&gt;");
	assert_has(&r, "Décision n° 2");
	assert_has(&r, "Relancer la CAF");
	assert_has(&r, "1 avril 2026");
	resp_free(&r);

	/* The instance page lists what is pending; a follow-up closed from there comes back to it.
	 */
	client_get(coord, inst, &r);
	assert_has(&r, "En suspens");
	assert_has(&r, "Relancer la CAF");
	assert_has(&r, "Suite abandonnée");
	resp_free(&r);
	int64_t fab =
	    th_query_int(&T, "SELECT id FROM follow_ups WHERE what = 'Suite abandonnée'", "");
	snprintf(path, sizeof path, "/suites/%lld/statut", (long long)fab);
	client_submit(coord, inst, path, "status=abandonne&back=0&to=instance", &r);
	assert_int_equal(r.status, 303);
	loc0 = resp_get_header(&r, "Location");
	assert_non_null(loc0);
	assert_non_null(strstr(loc0, inst));
	free(loc0);
	resp_free(&r);
	client_get(coord, inst, &r);
	assert_lacks(&r, "Suite abandonnée");
	resp_free(&r);

	/* Meeting 2: the reminder comes first with the decisions and open follow-ups. */
	snprintf(path, sizeof path, "%s/reunions", inst);
	assert_int_equal(submit(coord, inst, path, "starts_at=2026-06-10T09%3A30&place=Crest"),
	                 303);
	int64_t m2 =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
	assert_true(m2 > m1);
	snprintf(m2p, sizeof m2p, "/reunions/%lld", (long long)m2);
	client_get(coord, m2p, &r);
	assert_int_equal(r.status, 200);
	const char *body = buf_str(&r.body);
	const char *recall = strstr(body, "Rappel de la réunion précédente");
	const char *agenda = strstr(body, "<h2>Ordre du jour</h2>");
	assert_non_null(recall);
	assert_non_null(agenda);
	assert_true(recall < agenda);
	const char *d1 = strstr(body, "Valider le calendrier");
	const char *f1 = strstr(body, "Relancer la CAF");
	assert_true(d1 && d1 > recall && d1 < agenda);
	assert_true(f1 && f1 > recall && f1 < agenda);
	assert_null(strstr(body, "Suite abandonnée")); /* closed: no longer recalled */
	resp_free(&r);

	/* Close the follow-up from meeting 2; back there, it is gone from the reminder. */
	int64_t fu =
	    th_query_int(&T, "SELECT id FROM follow_ups WHERE what = 'Relancer la CAF'", "");
	snprintf(path, sizeof path, "/suites/%lld/statut", (long long)fu);
	snprintf(fields, sizeof fields, "status=ferme&back=%lld", (long long)m2);
	assert_int_equal(submit(coord, m2p, path, fields), 422);
	snprintf(fields, sizeof fields, "status=fait&back=%lld", (long long)m2);
	client_submit(coord, m2p, path, fields, &r);
	assert_int_equal(r.status, 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(loc);
	assert_non_null(strstr(loc, m2p));
	free(loc);
	resp_free(&r);
	assert_int_equal(
	    th_query_int(
	        &T,
	        "SELECT COUNT(*) FROM follow_ups WHERE id = ? AND status = 'fait' AND closed_at IS "
	        "NOT NULL",
	        "I", fu),
	    1);
	client_get(coord, m2p, &r);
	agenda = strstr(buf_str(&r.body), "<h2>Ordre du jour</h2>");
	f1 = strstr(buf_str(&r.body), "Relancer la CAF");
	assert_true(!f1 || f1 > agenda);
	assert_has(&r, "Valider le calendrier");
	resp_free(&r);

	/* Every write audited, with before and after for updates. */
	assert_true(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity IN ('instance', "
	                 "'instance_member', 'meeting', 'agenda_item', 'attendance', 'decision', "
	                 "'follow_up')",
	                 "") >= 12);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM audit_log WHERE entity = 'decision'", ""), 2);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'follow_up' AND "
	                 "action = 'status' AND before_json LIKE '%ouvert%' AND after_json "
	                 "LIKE '%fait%'",
	                 ""),
	    1);

	/* --- permissions -----------------------------------------------------------------------
	 */
	struct client *partner = login(PARTNER);
	client_get(partner, m1p, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Valider le calendrier");
	assert_lacks(&r, "compte-rendu\"");
	resp_free(&r);
	snprintf(path, sizeof path, "%s/compte-rendu", m1p);
	assert_int_equal(submit(partner, m1p, path, "minutes=Pirat%C3%A9&status=held"), 403);
	snprintf(path, sizeof path, "%s/decisions", m1p);
	assert_int_equal(submit(partner, m1p, path, "text=Pirat%C3%A9"), 403);
	snprintf(path, sizeof path, "/suites/%lld/statut", (long long)fu);
	assert_int_equal(submit(partner, m1p, path, "status=ouvert"), 403);
	assert_int_equal(submit(partner, list, list, "name=Pirate&kind=copil"), 403);
	snprintf(path, sizeof path, "%s/modifier", m1p);
	assert_int_equal(submit(partner, m1p, path, "starts_at=2030-01-01T10%3A00&place=P"), 403);
	struct client *pilot = login(PILOT);
	client_submit(pilot, m1p, "/reunions/0/compte-rendu", "minutes=x&status=held", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(pilot);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE minutes LIKE '%Pirat%'", ""), 0);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM decisions WHERE text LIKE '%Pirat%'", ""), 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM instances", ""), instances0 + 1);

	struct client *reader = login(READER);
	assert_int_equal(get_status(reader, inst), 200);
	assert_int_equal(get_status(reader, m1p), 200);

	/* The coordinator of plan B sees nothing of plan A's instance: 404 everywhere. */
	struct client *out = login(OUTSIDER);
	char plan_b_list[64];
	snprintf(plan_b_list, sizeof plan_b_list, "/plans/%lld/instances", (long long)plan_b);
	assert_int_equal(submit(out, plan_b_list, plan_b_list,
	                        "name="
	                        "Z%C3%A9phyrine-Confidentielle+COPIL"
	                        "&kind=copil"),
	                 303);
	int64_t ib = th_query_int(&T, "SELECT id FROM instances WHERE plan_id = ?", "I", plan_b);
	assert_true(ib > 0);
	char ibp[64], ibics[80];
	snprintf(ibp, sizeof ibp, "/instances/%lld", (long long)ib);
	snprintf(ibics, sizeof ibics, "/instances/%lld/reunions.ics", (long long)ib);
	assert_int_equal(get_status(reader, ibp), 404);
	assert_int_equal(get_status(reader, ibics), 404);
	assert_int_equal(get_status(reader, plan_b_list), 404);
	struct client *anon0 = client_new(&T);
	assert_int_equal(get_status(anon0, ibp), 404);
	client_free(anon0);
	snprintf(path, sizeof path, "%s/reunions", ibp);
	client_submit(out, ibp, path, "starts_at=2026-05-05T10%3A00&place=Secret", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	int64_t mb =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", ib);
	snprintf(path, sizeof path, "/reunions/%lld", (long long)mb);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 404);
	assert_lacks(&r, SECRET);
	resp_free(&r);
	/* The other way round: plan A is public, so its existence is no secret, but its
	 * instances are for members only (403, nothing shown, nothing written). */
	client_get(out, m1p, &r);
	assert_int_equal(r.status, 403);
	assert_lacks(&r, "Valider le calendrier");
	resp_free(&r);
	assert_int_equal(get_status(out, inst), 403);
	snprintf(path, sizeof path, "%s/reunions.ics", inst);
	client_get(out, path, &r);
	assert_int_equal(r.status, 403);
	assert_lacks(&r, "VEVENT");
	resp_free(&r);
	snprintf(path, sizeof path, "%s/compte-rendu", m1p);
	assert_int_equal(submit(out, "/", path, "minutes=Pirat%C3%A9&status=held"), 403);
	/* Anonymous cannot write. */
	struct client *anon = client_new(&T);
	struct resp ar;
	client_post(anon, path, NULL, "minutes=Pirat%C3%A9&status=held", 31, &ar);
	assert_true(ar.status == 403 || ar.status == 401 || ar.status == 303);
	resp_free(&ar);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE minutes LIKE '%Pirat%'", ""), 0);

	/* --- iCalendar ------------------------------------------------------------------------ */
	char place[256];
	snprintf(fields, sizeof fields, "%s/reunions", inst);
	snprintf(place, sizeof place, "place=%s",
	         "Salle+du+conseil%3B+Mairie%2C+Crest+%5C+b%C3%A2timent+A%2C+deuxi%C3%A8me+"
	         "%C3%A9tage%2C+porte+au+fond+du+couloir+%C3%A0+droite");
	char f2[400];
	snprintf(f2, sizeof f2, "starts_at=2026-09-01T18%%3A00&%s", place);
	assert_int_equal(submit(coord, inst, fields, f2), 303);
	snprintf(path, sizeof path, "%s/reunions.ics", inst);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 200);
	char *ct = resp_get_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_non_null(strstr(ct, "text/calendar"));
	free(ct);
	body = buf_str(&r.body);
	assert_true(!strncmp(body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:", 37));
	size_t blen = strlen(body);
	assert_true(blen > 4 && !strcmp(body + blen - 15, "END:VCALENDAR\r\n"));
	/* Every line CRLF-terminated and at most 75 octets; unfold for the content checks. */
	struct buf unf = {0};
	int events = 0, ends = 0;
	for (const char *l = body; *l;) {
		const char *e = strstr(l, "\r\n");
		assert_non_null(e);
		assert_true(e - l <= 75);
		assert_null(memchr(l, '\n', (size_t)(e - l)));
		if (*l == ' ')
			buf_append(&unf, l + 1, (size_t)(e - l - 1));
		else {
			if (l != body)
				buf_puts(&unf, "\n");
			buf_append(&unf, l, (size_t)(e - l));
		}
		if (!strncmp(l, "BEGIN:VEVENT\r\n", 14))
			events++;
		if (!strncmp(l, "END:VEVENT\r\n", 12))
			ends++;
		l = e + 2;
	}
	assert_int_equal(events, 3);
	assert_int_equal(ends, 3);
	const char *u = buf_str(&unf);
	assert_non_null(strstr(u, "\nDTSTART:20260312T130000Z\n"));
	assert_non_null(strstr(u, "\nDTSTART:20260610T073000Z\n"));
	assert_non_null(strstr(u, "\nDTSTART:20260901T160000Z\n"));
	assert_non_null(strstr(u, "\nLOCATION:Mairie\\, Crest\n"));
	assert_non_null(strstr(u,
	                       "\nLOCATION:Salle du conseil\\; Mairie\\, Crest \\\\ bâtiment A\\, "
	                       "deuxième étage\\, porte au fond du couloir à droite\n"));
	assert_non_null(strstr(u, "\nSUMMARY:COPIL Crestois — réunion\n"));
	char uid[64];
	snprintf(uid, sizeof uid, "\nUID:reunion-%lld@maillage\n", (long long)m1);
	assert_non_null(strstr(u, uid));
	assert_null(strstr(u, SECRET));
	int stamps = 0;
	for (const char *p = u; (p = strstr(p, "\nDTSTAMP:")); p++)
		stamps++;
	assert_int_equal(stamps, 3);
	buf_free(&unf);
	resp_free(&r);

	client_free(anon);
	client_free(out);
	client_free(reader);
	client_free(partner);
	client_free(coord);
}

/* Append "&key=value" (value URL-encoded) to b. */
static void add_field(struct buf *b, const char *key, const char *value)
{
	if (b->len)
		buf_putc(b, '&');
	buf_puts(b, key);
	buf_putc(b, '=');
	buf_url(b, value);
}

/* A proposal of the Crestois plan for 2026, as the coordinator; returns its id. */
static int64_t propose(struct client *c, const char *title)
{
	int64_t parent =
	    th_query_int(&T,
	                 "SELECT MIN(id) FROM nodes WHERE plan_id = ? AND parent_id IS "
	                 "NULL AND id NOT IN (SELECT node_id FROM fiches)",
	                 "I", plan_a);
	struct buf b = {0};
	char tmp[32], path[96];
	snprintf(tmp, sizeof tmp, "%lld", (long long)parent);
	add_field(&b, "parent", tmp);
	add_field(&b, "title", title);
	add_field(&b, "description", "Une action proposée au cycle.");
	add_field(&b, "expected_results", "Des familles mieux accompagnées.");
	add_field(&b, "publics", "Familles");
	add_field(&b, "year", "2026");
	snprintf(path, sizeof path, "/plans/%lld/propositions/nouvelle", (long long)plan_a);
	long st = submit(c, path, path, buf_str(&b));
	buf_free(&b);
	assert_int_equal(st, 303);
	int64_t id = th_query_int(&T,
	                          "SELECT p.id FROM proposals p JOIN nodes n ON n.id = p.node_id "
	                          "WHERE n.title = ?",
	                          "s", title);
	assert_true(id > 0);
	return id;
}

/* --- JSON API client (PUT and PATCH are not in the harness): curl with its own cookie jar ---- */

struct api {
	CURL *c;
	char *csrf;
};

static size_t api_write(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static long api_do(struct api *a, const char *method, const char *path, const char *body,
                   struct buf *out)
{
	buf_reset(out);
	char *url = xasprintf("http://127.0.0.1:%d%s", T.port, path);
	struct curl_slist *h = NULL;
	char *tok = a->csrf ? xasprintf("X-CSRF-Token: %s", a->csrf) : NULL;
	if (tok)
		h = curl_slist_append(h, tok);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(a->c, CURLOPT_URL, url);
	curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(a->c, CURLOPT_WRITEFUNCTION, api_write);
	curl_easy_setopt(a->c, CURLOPT_WRITEDATA, out);
	if (body) {
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		curl_easy_setopt(a->c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, method);
	long status = 0;
	if (curl_easy_perform(a->c) != CURLE_OK)
		fail_msg("curl %s %s", method, path);
	curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	free(tok);
	free(url);
	return status;
}

static char *csrf_of(const struct buf *b)
{
	const char *p = strstr(buf_str(b), "name=\"_csrf\" value=\"");
	if (!p)
		return NULL;
	p += strlen("name=\"_csrf\" value=\"");
	return xstrndup(p, strcspn(p, "\""));
}

/* Log in (NULL: anonymous) and keep the session's CSRF token. */
static struct api *api_new(const char *email)
{
	struct api *a = xcalloc(1, sizeof *a);
	a->c = curl_easy_init();
	curl_easy_setopt(a->c, CURLOPT_COOKIEFILE, "");
	struct buf out = {0};
	api_do(a, "GET", "/connexion", NULL, &out);
	a->csrf = csrf_of(&out);
	assert_non_null(a->csrf);
	if (email) {
		struct buf f = {0};
		add_field(&f, "_csrf", a->csrf);
		add_field(&f, "email", email);
		add_field(&f, "password", strcmp(email, OUTSIDER) ? PASSWORD : "mot-de-passe-test");
		char *url = xasprintf("http://127.0.0.1:%d/connexion", T.port);
		struct curl_slist *h =
		    curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(a->c, CURLOPT_URL, url);
		curl_easy_setopt(a->c, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(a->c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDS, buf_str(&f));
		curl_easy_setopt(a->c, CURLOPT_POSTFIELDSIZE, (long)f.len);
		curl_easy_setopt(a->c, CURLOPT_WRITEDATA, &out);
		buf_reset(&out);
		assert_int_equal(curl_easy_perform(a->c), CURLE_OK);
		long st = 0;
		curl_easy_getinfo(a->c, CURLINFO_RESPONSE_CODE, &st);
		assert_int_equal(st, 303);
		curl_slist_free_all(h);
		free(url);
		buf_free(&f);
		api_do(a, "GET", "/compte", NULL, &out);
		free(a->csrf);
		a->csrf = csrf_of(&out);
		assert_non_null(a->csrf);
	}
	buf_free(&out);
	return a;
}

static void api_free(struct api *a)
{
	curl_easy_cleanup(a->c);
	free(a->csrf);
	free(a);
}

/* Call and parse; fails unless the status is `expect`. New reference. */
static json_t *api_json(struct api *a, const char *method, const char *path, const char *body,
                        long expect)
{
	struct buf out = {0};
	long st = api_do(a, method, path, body, &out);
	if (st != expect)
		fail_msg("%s %s: expected %ld, got %ld: %s", method, path, expect, st,
		         buf_str(&out));
	json_t *j = json_loads(buf_str(&out), 0, NULL);
	if (!j)
		fail_msg("%s %s: not JSON: %s", method, path, buf_str(&out));
	buf_free(&out);
	return j;
}

/* An error answer: the status and a JSON {"error": {"code", "message"}}. */
static void api_error(struct api *a, const char *method, const char *path, const char *body,
                      long expect)
{
	json_t *j = api_json(a, method, path, body, expect);
	json_t *e = json_object_get(j, "error");
	assert_true(json_is_object(e));
	assert_true(json_is_string(json_object_get(e, "message")));
	json_decref(j);
}

static void test_api(void **state)
{
	(void)state;
	struct api *a = api_new(COORD);
	char path[160], body[512];
	snprintf(path, sizeof path, "/api/v1/plans/%lld/instances", (long long)plan_a);
	json_t *j =
	    api_json(a, "POST", path, "{\"name\": \"COPIL API\", \"kind\": \"copil\"}", 201);
	int64_t iid = json_integer_value(json_object_get(j, "id"));
	assert_true(iid > 0);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "copil");
	assert_true(json_is_array(json_object_get(j, "members")));
	json_decref(j);
	api_error(a, "POST", path, "{\"name\": \"X\", \"kind\": \"<script>\"}", 422);
	api_error(a, "POST", path, "{\"name\": 3, \"kind\": \"copil\"}", 422);
	api_error(a, "POST", path, "[1, 2]", 422);
	api_error(a, "POST", path, "{\"name\": ", 400);
	j = api_json(a, "GET", path, NULL, 200);
	int found = 0;
	for (size_t i = 0; i < json_array_size(j); i++)
		found += json_integer_value(json_object_get(json_array_get(j, i), "id")) == iid;
	assert_int_equal(found, 1);
	json_decref(j);

	/* Two meetings; the second recalls the first's decision and open follow-up. */
	snprintf(path, sizeof path, "/api/v1/instances/%lld/meetings", (long long)iid);
	api_error(a, "POST", path, "{\"starts_at\": \"2026-13-01T10:00\"}", 422);
	j = api_json(a, "POST", path, "{\"starts_at\": \"2026-09-10T14:00\", \"place\": \"Crest\"}",
	             201);
	int64_t m1 = json_integer_value(json_object_get(j, "id"));
	assert_string_equal(json_string_value(json_object_get(j, "starts_at")),
	                    "2026-09-10T12:00:00Z");
	json_decref(j);
	j = api_json(a, "POST", path, "{\"starts_at\": \"2026-12-10T14:00\"}", 201);
	int64_t m2 = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	char m1p[96], m2p[96];
	snprintf(m1p, sizeof m1p, "/api/v1/meetings/%lld", (long long)m1);
	snprintf(m2p, sizeof m2p, "/api/v1/meetings/%lld", (long long)m2);

	snprintf(path, sizeof path, "%s/minutes", m1p);
	j = api_json(a, "PUT", path,
	             "{\"minutes\": \"# Relevé\\n\\nTout va bien.\", \"status\": \"held\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "held");
	json_decref(j);
	api_error(a, "PUT", path, "{\"minutes\": \"x\", \"status\": \"fini\"}", 422);
	api_error(a, "PUT", path, "{\"status\": \"held\"}", 422);

	snprintf(path, sizeof path, "%s/decisions", m1p);
	j = api_json(a, "POST", path, "{\"text\": \"Valider le calendrier par API\"}", 201);
	assert_int_equal(json_integer_value(json_object_get(j, "number")), 1);
	json_decref(j);
	snprintf(body, sizeof body, "{\"text\": \"Suivre la fiche\", \"node_id\": %lld}",
	         (long long)fiche_a);
	j = api_json(a, "POST", path, body, 201);
	assert_int_equal(json_integer_value(json_object_get(j, "number")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "node_id")), fiche_a);
	json_decref(j);
	api_error(a, "POST", path, "{\"text\": \"  \"}", 422);
	api_error(a, "POST", path, "{\"text\": \"x\", \"node_id\": \"abc\"}", 422);
	api_error(a, "POST", path, "{\"text\": \"x\", \"node_id\": 99999999}", 422);
	api_error(a, "POST", path,
	          "{\"text\": \"x\", \"proposal_id\": 99999999, \"arbitration\": \"retenue\"}",
	          422);

	snprintf(path, sizeof path, "%s/follow-ups", m1p);
	snprintf(body, sizeof body,
	         "{\"what\": \"Relancer les partenaires\", \"owner_user_id\": %lld, \"due_on\": "
	         "\"2026-10-01\"}",
	         (long long)coord_uid);
	j = api_json(a, "POST", path, body, 201);
	int64_t fu = json_integer_value(json_object_get(j, "id"));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ouvert");
	assert_string_equal(json_string_value(json_object_get(j, "owner_name")),
	                    "Camille Coordination");
	json_decref(j);
	api_error(a, "POST", path, "{\"what\": \"x\", \"due_on\": \"2026-02-30\"}", 422);
	api_error(a, "POST", path, "{\"what\": \"x\", \"owner_user_id\": 99999999}", 422);

	/* Agenda and attendance. */
	snprintf(path, sizeof path, "%s/agenda", m1p);
	snprintf(body, sizeof body, "{\"title\": \"Point API\", \"node_id\": %lld}",
	         (long long)fiche_a);
	j = api_json(a, "POST", path, body, 201);
	assert_int_equal(json_integer_value(json_object_get(j, "position")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "node_id")), fiche_a);
	json_decref(j);
	api_error(a, "POST", path, "{\"title\": \"\"}", 422);
	api_error(a, "POST", path, "{\"title\": \"x\", \"need_id\": 99999999}", 422);
	api_error(a, "POST", path, "{\"title\": \"x\", \"node_id\": -3}", 422);
	api_error(a, "POST", path, "{\"title\": \"x\", \"fiche_indicator_id\": 99999999}", 422);
	int64_t fi =
	    th_query_int(&T,
	                 "SELECT MIN(fi.id) FROM fiche_indicators fi JOIN nodes n ON n.id = "
	                 "fi.node_id WHERE n.plan_id = ?",
	                 "I", plan_a);
	snprintf(body, sizeof body, "{\"title\": \"Indicateur\", \"fiche_indicator_id\": %lld}",
	         (long long)fi);
	j = api_json(a, "POST", path, body, 201);
	assert_int_equal(json_integer_value(json_object_get(j, "fiche_indicator_id")), fi);
	assert_int_equal(json_integer_value(json_object_get(j, "position")), 2);
	json_decref(j);
	snprintf(path, sizeof path, "%s/attendance", m1p);
	j = api_json(a, "PUT", path, "{\"guests\": [\"Invitée <API>\"]}", 200);
	json_t *att = json_array_get(json_object_get(j, "attendance"), 0);
	int64_t tid = json_integer_value(json_object_get(att, "id"));
	assert_string_equal(json_string_value(json_object_get(att, "name")), "Invitée <API>");
	assert_string_equal(json_string_value(json_object_get(att, "status")), "present");
	assert_int_equal(json_array_size(json_object_get(j, "agenda")), 2);
	json_decref(j);
	snprintf(body, sizeof body, "{\"attendance\": [{\"id\": %lld, \"status\": \"excuse\"}]}",
	         (long long)tid);
	j = api_json(a, "PUT", path, body, 200);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(j, "attendance"), 0), "status")),
	                    "excuse");
	json_decref(j);
	snprintf(body, sizeof body, "{\"attendance\": [{\"id\": %lld, \"status\": \"parti\"}]}",
	         (long long)tid);
	api_error(a, "PUT", path, body, 422);
	int64_t other_att =
	    th_query_int(&T, "SELECT MIN(id) FROM attendance WHERE meeting_id <> ?", "I", m1);
	snprintf(body, sizeof body, "{\"attendance\": [{\"id\": %lld, \"status\": \"absent\"}]}",
	         (long long)other_att);
	api_error(a, "PUT", path, body, 422);
	api_error(a, "PUT", path, "{\"guests\": [\"  \"]}", 422);
	api_error(a, "PUT", path, "{\"attendance\": 3}", 422);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE origin = 'api' AND "
	                 "entity = 'meeting' AND action = 'attendance' AND entity_id = "
	                 "CAST(? AS TEXT)",
	                 "I", m1),
	    2);

	j = api_json(a, "GET", m1p, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "decisions")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "follow_ups")), 1);
	assert_true(strstr(json_string_value(json_object_get(j, "minutes")), "Tout va bien") !=
	            NULL);
	json_decref(j);
	j = api_json(a, "GET", m2p, NULL, 200);
	json_t *rc = json_object_get(j, "recall");
	assert_int_equal(json_integer_value(json_object_get(rc, "previous_meeting_id")), m1);
	assert_int_equal(json_array_size(json_object_get(rc, "previous_decisions")), 2);
	assert_int_equal(json_array_size(json_object_get(rc, "open_follow_ups")), 1);
	json_decref(j);

	/* Permissions: the partner reads but cannot write minutes or close follow-ups. */
	char fup[96];
	snprintf(fup, sizeof fup, "/api/v1/follow-ups/%lld", (long long)fu);
	struct api *partner = api_new(PARTNER);
	json_decref(api_json(partner, "GET", m1p, NULL, 200));
	snprintf(path, sizeof path, "%s/minutes", m1p);
	api_error(partner, "PUT", path, "{\"minutes\": \"Pirate\", \"status\": \"held\"}", 403);
	api_error(partner, "PATCH", fup, "{\"status\": \"fait\"}", 403);
	snprintf(path, sizeof path, "%s/attendance", m1p);
	api_error(partner, "PUT", path, "{\"guests\": [\"Pirate\"]}", 403);
	snprintf(path, sizeof path, "%s/agenda", m1p);
	api_error(partner, "POST", path, "{\"title\": \"Pirate\"}", 403);
	snprintf(path, sizeof path, "%s/decisions", m1p);
	api_error(partner, "POST", path, "{\"text\": \"Pirate\"}", 403);
	api_free(partner);
	struct api *anon = api_new(NULL);
	snprintf(path, sizeof path, "%s/minutes", m1p);
	struct buf out = {0};
	long st = api_do(anon, "PUT", path, "{\"minutes\": \"Pirate\"}", &out);
	assert_true(st == 401 || st == 403);
	buf_free(&out);
	api_free(anon);
	/* A member of another plan: plan B's instance is invisible (404). */
	int64_t ib =
	    th_query_int(&T, "SELECT MIN(id) FROM instances WHERE plan_id = ?", "I", plan_b);
	assert_true(ib > 0);
	struct api *reader = api_new(READER);
	snprintf(path, sizeof path, "/api/v1/instances/%lld", (long long)ib);
	api_error(reader, "GET", path, NULL, 404);
	snprintf(path, sizeof path, "/api/v1/plans/%lld/instances", (long long)plan_b);
	api_error(reader, "GET", path, NULL, 404);
	api_free(reader);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE minutes LIKE '%Pirate%'", ""), 0);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM decisions WHERE text = 'Pirate'", ""), 0);

	/* Closing the follow-up. */
	api_error(a, "PATCH", fup, "{\"status\": \"termine\"}", 422);
	j = api_json(a, "PATCH", fup, "{\"status\": \"fait\"}", 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "fait");
	assert_true(json_is_string(json_object_get(j, "closed_at")));
	json_decref(j);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE origin = 'api' AND "
	                              "entity = 'follow_up' AND entity_id = CAST(? AS TEXT)",
	                              "I", fu),
	                 2);
	j = api_json(a, "GET", m2p, NULL, 200);
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(j, "recall"), "open_follow_ups")), 0);
	json_decref(j);
	api_free(a);
}

/* A decision of a COPIL meeting arbitrates a proposal of the yearly cycle: COTECH first (409),
 * COPIL only (422), the proposal and the fiche updated in the same transaction, audited, shown
 * on both sides. */
static void test_copil_arbitration(void **state)
{
	(void)state;
	struct client *coord = login(COORD);
	char list[64], path[160], fields[512], mp[64], cp[64];
	struct resp r;
	snprintf(list, sizeof list, "/plans/%lld/instances", (long long)plan_a);
	assert_int_equal(submit(coord, list, list, "name=COPIL+arbitrages&kind=copil"), 303);
	assert_int_equal(submit(coord, list, list, "name=COTECH+avis&kind=cotech"), 303);
	int64_t copil =
	    th_query_int(&T, "SELECT id FROM instances WHERE name = 'COPIL arbitrages'", "");
	int64_t cotech =
	    th_query_int(&T, "SELECT id FROM instances WHERE name = 'COTECH avis'", "");
	snprintf(path, sizeof path, "/instances/%lld/reunions", (long long)copil);
	snprintf(fields, sizeof fields, "/instances/%lld", (long long)copil);
	assert_int_equal(submit(coord, fields, path, "starts_at=2026-06-18T14%3A00&place=Crest"),
	                 303);
	int64_t m =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", copil);
	snprintf(path, sizeof path, "/instances/%lld/reunions", (long long)cotech);
	snprintf(fields, sizeof fields, "/instances/%lld", (long long)cotech);
	assert_int_equal(submit(coord, fields, path, "starts_at=2026-06-04T10%3A00&place=Crest"),
	                 303);
	int64_t mt =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", cotech);
	snprintf(mp, sizeof mp, "/reunions/%lld", (long long)m);
	snprintf(cp, sizeof cp, "/reunions/%lld", (long long)mt);

	int64_t pid = propose(coord, "Ludothèque itinérante");
	int64_t node = th_query_int(&T, "SELECT node_id FROM proposals WHERE id = ?", "I", pid);
	int64_t decisions0 = th_query_int(&T, "SELECT COUNT(*) FROM decisions", "");

	/* The COPIL meeting page offers the proposal; the COTECH one does not. */
	client_get(coord, mp, &r);
	snprintf(fields, sizeof fields, "<option value=\"%lld\">2026", (long long)pid);
	assert_has(&r, fields);
	assert_has(&r, "avis du COTECH en attente");
	resp_free(&r);
	client_get(coord, cp, &r);
	assert_lacks(&r, "name=\"proposal\"");
	resp_free(&r);

	/* A COTECH meeting does not arbitrate. */
	snprintf(path, sizeof path, "%s/decisions", cp);
	snprintf(fields, sizeof fields, "text=Avis&node=&proposal=%lld&arbitration=retenue",
	         (long long)pid);
	client_submit(coord, cp, path, fields, &r);
	assert_int_equal(r.status, 422);
	assert_has(&r, "Seul un comité de pilotage");
	resp_free(&r);

	/* COTECH first: 409, nothing written, the typed text kept. */
	snprintf(path, sizeof path, "%s/decisions", mp);
	snprintf(
	    fields, sizeof fields,
	    "text=Le+COPIL+refuse+la+ludoth%%C3%%A8que&node=&proposal=%lld&arbitration=refusee",
	    (long long)pid);
	client_submit(coord, mp, path, fields, &r);
	assert_int_equal(r.status, 409);
	assert_has(&r, "après l’avis du COTECH");
	assert_has(&r, "Le COPIL refuse la ludothèque</textarea>");
	resp_free(&r);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM decisions", ""), decisions0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM proposals WHERE id = ? AND "
	                              "copil_decision IS NULL",
	                              "I", pid),
	                 1);

	/* The COTECH opinion on the cycle page, then bad inputs. */
	char cycle[96];
	snprintf(cycle, sizeof cycle, "/plans/%lld/cycle?annee=2026", (long long)plan_a);
	snprintf(path, sizeof path, "/propositions/%lld/cotech", (long long)pid);
	assert_int_equal(
	    submit(coord, cycle, path, "opinion=favorable&date=2026-06-04&comment=Pertinent"), 303);
	snprintf(path, sizeof path, "%s/decisions", mp);
	snprintf(fields, sizeof fields, "text=X&node=&proposal=%lld&arbitration=peut-etre",
	         (long long)pid);
	assert_int_equal(submit(coord, mp, path, fields), 422);
	assert_int_equal(
	    submit(coord, mp, path, "text=X&node=&proposal=999999&arbitration=retenue"), 422);
	assert_int_equal(
	    submit(coord, mp, path, "text=X&node=&proposal=%27+OR+1%3D1+--&arbitration=retenue"),
	    422);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM decisions", ""), decisions0);

	/* A partner cannot arbitrate. */
	struct client *partner = login(PARTNER);
	snprintf(fields, sizeof fields, "text=Pirate&node=&proposal=%lld&arbitration=retenue",
	         (long long)pid);
	assert_int_equal(submit(partner, mp, path, fields), 403);
	client_free(partner);

	/* Refused by decision n° 1: the proposal, the fiche (archived) and the decision at once. */
	int64_t audit0 = th_query_int(&T, "SELECT COUNT(*) FROM audit_log", "");
	snprintf(
	    fields, sizeof fields,
	    "text=Le+COPIL+refuse+la+ludoth%%C3%%A8que&node=&proposal=%lld&arbitration=refusee",
	    (long long)pid);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	char *v = th_query_text(&T, "SELECT copil_decision FROM proposals WHERE id = ?", pid);
	assert_string_equal(v, "refusee");
	free(v);
	v = th_query_text(&T, "SELECT copil_date FROM proposals WHERE id = ?", pid);
	assert_string_equal(v, "2026-06-18");
	free(v);
	assert_int_equal(th_query_int(&T, "SELECT archived FROM nodes WHERE id = ?", "I", node), 1);
	int64_t did = th_query_int(
	    &T, "SELECT id FROM decisions WHERE meeting_id = ? AND number = 1", "I", m);
	assert_true(did > 0);
	assert_int_equal(
	    th_query_int(&T, "SELECT proposal_id FROM decisions WHERE id = ?", "I", did), pid);
	assert_int_equal(th_query_int(&T, "SELECT node_id FROM decisions WHERE id = ?", "I", did),
	                 node);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'proposal' AND "
	                 "action = 'copil' AND entity_id = CAST(? AS TEXT)",
	                 "I", pid),
	    1);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'decision' AND "
	                 "entity_id = CAST(? AS TEXT)",
	                 "I", did),
	    1);
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM audit_log", "") >= audit0 + 3);

	/* Then retained by decision n° 2 (a correction): the node comes back. */
	snprintf(fields, sizeof fields,
	         "text=Finalement+retenue&node=&proposal=%lld&arbitration=retenue", (long long)pid);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	assert_int_equal(th_query_int(&T, "SELECT archived FROM nodes WHERE id = ?", "I", node), 0);
	v = th_query_text(&T, "SELECT status FROM fiches WHERE node_id = ?", node);
	assert_string_equal(v, "retenue");
	free(v);

	/* Both sides show the link. */
	client_get(coord, mp, &r);
	assert_has(&r, "Arbitrage du COPIL : refusée");
	assert_has(&r, "Arbitrage du COPIL : retenue");
	snprintf(fields, sizeof fields, "/plans/%lld/cycle?annee=2026#proposition-%lld",
	         (long long)plan_a, (long long)pid);
	assert_has(&r, fields);
	resp_free(&r);
	client_get(coord, cycle, &r);
	snprintf(fields, sizeof fields, "href=\"/reunions/%lld#decision-%lld-2\"", (long long)m,
	         (long long)m);
	assert_has(&r, fields);
	assert_has(&r, "Décision n° 2 — COPIL arbitrages du 18 juin 2026");
	resp_free(&r);
	/* The reader (a member) sees the link; the public does not. */
	struct client *reader = login(READER);
	client_get(reader, cycle, &r);
	assert_has(&r, fields);
	resp_free(&r);
	client_free(reader);
	struct client *anon = client_new(&T);
	client_get(anon, cycle, &r);
	assert_lacks(&r, "#decision-");
	resp_free(&r);
	client_free(anon);
	client_free(coord);
}

/* Parse an iCalendar text with a real parser (Debian's python3-icalendar): returns its output,
 * the number of VEVENTs on the first line then "SUMMARY|DTSTART|LOCATION" per event (malloc'ed),
 * or fails the test when it does not parse. */
static char *ics_parse(const char *ics, size_t len)
{
	char path[400];
	snprintf(path, sizeof path, "%s/feed.ics", T.dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(ics, 1, len, f);
	fclose(f);
	char cmd[1200];
	snprintf(cmd, sizeof cmd,
	         "/usr/bin/python3 -c 'import sys, icalendar\n"
	         "c = icalendar.Calendar.from_ical(open(sys.argv[1], \"rb\").read())\n"
	         "ev = list(c.walk(\"VEVENT\"))\n"
	         "print(len(ev))\n"
	         "for e in ev: print(\"%%s|%%s|%%s\" %% (e.get(\"summary\"), "
	         "e.decoded(\"dtstart\").isoformat(), e.get(\"location\", \"\")))' %s",
	         path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct buf out = {0};
	char line[1024];
	while (fgets(line, sizeof line, p))
		buf_puts(&out, line);
	int rc = pclose(p);
	if (rc != 0)
		fail_msg("python3-icalendar could not parse the calendar: %s", buf_str(&out));
	return buf_steal(&out);
}

/* The personal feed: a secret token stored hashed, shown once, regenerated, revoked; the
 * calendar parsed by a real iCalendar parser. */
static void test_calendar_feed(void **state)
{
	(void)state;
	struct client *coord = login(COORD);
	struct resp r;
	client_get(coord, "/calendrier", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Créer mon lien de calendrier");
	resp_free(&r);
	client_submit(coord, "/calendrier", "/calendrier/jeton", "", &r);
	assert_int_equal(r.status, 200);
	const char *p = strstr(buf_str(&r.body), "/calendrier/");
	while (p && strlen(p) > 12 + 68 && strncmp(p + 12 + 64, ".ics", 4))
		p = strstr(p + 1, "/calendrier/");
	assert_non_null(p);
	char tok[65];
	memcpy(tok, p + 12, 64);
	tok[64] = '\0';
	for (int i = 0; i < 64; i++)
		assert_true(strchr("0123456789abcdef", tok[i]) != NULL);
	assert_has(&r, "Copiez-le maintenant");
	resp_free(&r);
	/* Only the hash is stored, nowhere the token. */
	char *hash = th_query_text(&T, "SELECT token_hash FROM calendar_tokens WHERE user_id = ?",
	                           coord_uid);
	assert_non_null(hash);
	assert_string_not_equal(hash, tok);
	free(hash);
	char like[80];
	snprintf(like, sizeof like, "%%%s%%", tok);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE after_json LIKE ? OR "
	                              "before_json LIKE ?",
	                              "ss", like, like),
	                 0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = "
	                              "'calendar_token' AND action = 'create'",
	                              ""),
	                 1);
	/* The page no longer shows it. */
	client_get(coord, "/calendrier", &r);
	assert_lacks(&r, tok);
	assert_has(&r, "Régénérer le lien");
	resp_free(&r);

	/* The feed, anonymously: every meeting of the coordinator's plans, none of plan B. */
	char feed[120];
	snprintf(feed, sizeof feed, "/calendrier/%s.ics", tok);
	struct client *anon = client_new(&T);
	client_get(anon, feed, &r);
	assert_int_equal(r.status, 200);
	char *ct = resp_get_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_non_null(strstr(ct, "text/calendar"));
	free(ct);
	assert_lacks(&r, SECRET);
	char *parsed = ics_parse(buf_str(&r.body), r.body.len);
	resp_free(&r);
	int64_t expect = th_query_int(&T,
	                              "SELECT COUNT(*) FROM meetings m JOIN instances i ON i.id = "
	                              "m.instance_id WHERE i.plan_id IN (SELECT plan_id FROM "
	                              "plan_members WHERE user_id = ?)",
	                              "I", coord_uid);
	assert_true(expect >= 4);
	assert_int_equal(atoi(parsed), expect);
	assert_non_null(strstr(parsed, "COPIL API — réunion|2026-09-10T12:00:00+00:00|Crest"));
	free(parsed);
	assert_true(th_query_int(&T,
	                         "SELECT COUNT(*) FROM calendar_tokens WHERE used_at IS NOT NULL",
	                         "") == 1);

	/* The instance's own .ics parses too. */
	int64_t iid = th_query_int(&T, "SELECT id FROM instances WHERE name = 'COPIL API'", "");
	char ipath[96];
	snprintf(ipath, sizeof ipath, "/instances/%lld/reunions.ics", (long long)iid);
	client_get(coord, ipath, &r);
	assert_int_equal(r.status, 200);
	parsed = ics_parse(buf_str(&r.body), r.body.len);
	assert_int_equal(atoi(parsed), 2);
	free(parsed);
	resp_free(&r);

	/* Bad tokens. */
	assert_int_equal(get_status(anon, "/calendrier/0000.ics"), 404);
	char bad[120];
	snprintf(bad, sizeof bad, "/calendrier/%.63sg.ics", tok);
	assert_int_equal(get_status(anon, bad), 404);
	snprintf(bad, sizeof bad, "/calendrier/%s", tok);
	assert_int_equal(get_status(anon, bad), 404);
	assert_int_equal(get_status(anon, "/calendrier/%27%20OR%201%3D1%20--.ics"), 404);
	long st = get_status(anon, "/calendrier");
	assert_true(st == 303 || st == 401);

	/* Regenerated: the old link stops working. */
	client_submit(coord, "/calendrier", "/calendrier/jeton", "", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(get_status(anon, feed), 404);
	/* A disabled account's feed stops too; revoked: no row left. */
	client_submit(coord, "/calendrier", "/calendrier/revoquer", "", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM calendar_tokens WHERE user_id = ?",
	                              "I", coord_uid),
	                 0);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM audit_log WHERE entity = "
	                              "'calendar_token'",
	                              ""),
	                 3);
	client_free(anon);
	client_free(coord);
}

/* The meeting pack: agenda, reminder and the dashboard extract of the linked fiches, as a page
 * and as a PDF read back with pdftotext. */
static void test_pack(void **state)
{
	(void)state;
	struct client *coord = login(COORD);
	char list[64], inst[64], path[160], fields[256], mp[64];
	snprintf(list, sizeof list, "/plans/%lld/instances", (long long)plan_a);
	assert_int_equal(submit(coord, list, list, "name=COTECH+dossier&kind=cotech"), 303);
	int64_t iid =
	    th_query_int(&T, "SELECT id FROM instances WHERE name = 'COTECH dossier'", "");
	snprintf(inst, sizeof inst, "/instances/%lld", (long long)iid);
	snprintf(path, sizeof path, "%s/reunions", inst);
	assert_int_equal(submit(coord, inst, path, "starts_at=2026-04-02T09%3A30&place=Saillans"),
	                 303);
	int64_t m =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
	snprintf(mp, sizeof mp, "/reunions/%lld", (long long)m);
	snprintf(path, sizeof path, "%s/ordre-du-jour", mp);
	snprintf(fields, sizeof fields, "title=Point+sur+la+fiche&node=%lld", (long long)fiche_a);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	int64_t ind =
	    th_query_int(&T,
	                 "SELECT MIN(fi.id) FROM fiche_indicators fi JOIN nodes n ON n.id = "
	                 "fi.node_id WHERE n.plan_id = ?",
	                 "I", plan_a);
	assert_true(ind > 0);
	int64_t ind_node =
	    th_query_int(&T, "SELECT node_id FROM fiche_indicators WHERE id = ?", "I", ind);
	char *ind_name =
	    th_query_text(&T,
	                  "SELECT i.name FROM fiche_indicators fi JOIN indicators i ON "
	                  "i.id = fi.indicator_id WHERE fi.id = ?",
	                  ind);
	snprintf(path, sizeof path, "%s/ordre-du-jour", mp);
	snprintf(fields, sizeof fields, "title=Trajectoire&node=&need=&indicator=%lld",
	         (long long)ind);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	assert_int_equal(
	    th_query_int(&T, "SELECT node_id FROM agenda_items WHERE title = 'Trajectoire'", ""),
	    ind_node);
	int64_t foreign =
	    th_query_int(&T,
	                 "SELECT MIN(fi.id) FROM fiche_indicators fi JOIN nodes n ON n.id "
	                 "= fi.node_id WHERE n.plan_id <> ?",
	                 "I", plan_a);
	if (foreign > 0) {
		snprintf(fields, sizeof fields, "title=X&node=&need=&indicator=%lld",
		         (long long)foreign);
		assert_int_equal(submit(coord, mp, path, fields), 422);
	}
	assert_int_equal(submit(coord, mp, path, "title=X&node=&need=&indicator=abc"), 422);
	char *ftitle = th_query_text(&T, "SELECT title FROM nodes WHERE id = ?", fiche_a);
	char *fnum = th_query_text(&T, "SELECT number FROM nodes WHERE id = ?", fiche_a);

	struct resp r;
	client_get(coord, mp, &r);
	snprintf(path, sizeof path, "href=\"/reunions/%lld/dossier\"", (long long)m);
	assert_has(&r, path);
	snprintf(path, sizeof path, "(indicateur <a href=\"/indicateurs-fiche/%lld\">",
	         (long long)ind);
	assert_has(&r, path);
	resp_free(&r);
	struct client *reader = login(READER);
	snprintf(path, sizeof path, "%s/dossier", mp);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "Dossier de séance — COTECH dossier");
	assert_has(&r, "Point sur la fiche");
	assert_has(&r, "Avancement des fiches-actions liées");
	assert_has(&r, "Indicateurs des fiches liées");
	assert_has(&r, "— indicateur : ");
	assert_has(&r, fnum);
	resp_free(&r);
	struct client *out = login(OUTSIDER);
	assert_int_equal(get_status(out, path), 403);
	client_free(out);
	struct client *anon = client_new(&T);
	long st = get_status(anon, path);
	assert_true(st == 401 || st == 403 || st == 404 || st == 303);
	client_free(anon);

	snprintf(path, sizeof path, "%s/dossier.pdf", mp);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body.len > 1000);
	assert_memory_equal(r.body.data, "%PDF", 4);
	char pdf[400], txt[400], cmd[1000];
	snprintf(pdf, sizeof pdf, "%s/dossier.pdf", T.dir);
	snprintf(txt, sizeof txt, "%s/dossier.txt", T.dir);
	FILE *f = fopen(pdf, "wb");
	assert_non_null(f);
	fwrite(r.body.data, 1, r.body.len, f);
	fclose(f);
	resp_free(&r);
	snprintf(cmd, sizeof cmd, "/usr/bin/pdftotext -enc UTF-8 %s %s", pdf, txt);
	assert_int_equal(system(cmd), 0);
	f = fopen(txt, "rb");
	assert_non_null(f);
	struct buf text = {0};
	char line[1024];
	while (fgets(line, sizeof line, f))
		buf_puts(&text, line);
	fclose(f);
	const char *want[] = {"Dossier de séance",
	                      "Ordre du jour",
	                      "Point sur la fiche",
	                      "Rappel de la réunion précédente",
	                      fnum,
	                      NULL};
	for (const char *const *w = want; *w; w++)
		if (!strstr(buf_str(&text), *w))
			fail_msg("the PDF lacks « %s »", *w);
	buf_free(&text);
	free(ftitle);
	free(fnum);
	free(ind_name);
	client_free(reader);
	client_free(coord);
}

/* Notifications: a follow-up assigned to me, a meeting I am invited to, a measurement overdue;
 * the bell in the header; marking as read (audited); another user's notification is 404. */
static void test_notifications(void **state)
{
	(void)state;
	int64_t partner_uid =
	    th_query_int(&T, "SELECT id FROM users WHERE email = ?", "s", PARTNER);
	int64_t pilot_uid = th_query_int(&T, "SELECT id FROM users WHERE email = ?", "s", PILOT);
	struct client *coord = login(COORD);
	char list[64], inst[64], path[160], fields[256], mp[64];
	snprintf(list, sizeof list, "/plans/%lld/instances", (long long)plan_a);
	assert_int_equal(
	    submit(coord, list, list, "name=Commission+parentalit%C3%A9&kind=commission"), 303);
	int64_t iid =
	    th_query_int(&T, "SELECT id FROM instances WHERE name = 'Commission parentalité'", "");
	snprintf(inst, sizeof inst, "/instances/%lld", (long long)iid);
	snprintf(path, sizeof path, "%s/membres", inst);
	snprintf(fields, sizeof fields, "user=%lld&role=Membre", (long long)partner_uid);
	assert_int_equal(submit(coord, inst, path, fields), 303);
	snprintf(path, sizeof path, "%s/reunions", inst);
	assert_int_equal(submit(coord, inst, path, "starts_at=2030-01-15T18%3A00&place=Foyer"),
	                 303);
	int64_t m =
	    th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
	snprintf(mp, sizeof mp, "/reunions/%lld", (long long)m);
	snprintf(path, sizeof path, "%s/suites", mp);
	snprintf(fields, sizeof fields,
	         "what=Pr%%C3%%A9parer+le+questionnaire&owner=%lld&owner_text=&due_on=2030-01-10",
	         (long long)partner_uid);
	assert_int_equal(submit(coord, mp, path, fields), 303);

	struct client *partner = login(PARTNER);
	struct resp r;
	client_get(partner, "/notifications", &r);
	assert_int_equal(r.status, 200);
	assert_has(&r, "<h1>Notifications</h1>");
	assert_has(&r, "Suite à faire : Préparer le questionnaire (Commission parentalité, "
	               "échéance le 10 janvier 2030)");
	assert_has(&r, "Vous êtes invité·e : Commission parentalité, réunion du 15 janvier 2030");
	snprintf(fields, sizeof fields, "href=\"/reunions/%lld\"", (long long)m);
	assert_has(&r, fields);
	resp_free(&r);
	int64_t unread = th_query_int(&T,
	                              "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND "
	                              "read_at IS NULL",
	                              "I", partner_uid);
	assert_true(unread >= 2);
	/* The bell on any page, with the count. */
	client_get(partner, "/", &r);
	snprintf(fields, sizeof fields,
	         "href=\"/notifications\" class=\"bell\">Notifications <span class=\"badge\">%lld<",
	         (long long)unread);
	assert_has(&r, fields);
	resp_free(&r);
	/* Refreshing twice adds nothing. */
	struct db *db = th_db(&T);
	assert_int_equal(notifications_refresh(db, partner_uid, 1), 0);
	/* The pilot's overdue measurements, one notification each. */
	struct overdue *ov = NULL;
	size_t nov = 0;
	assert_int_equal(indicators_overdue(db, pilot_uid, 0, &ov, &nov), 0);
	indicators_overdue_free(ov, nov);
	assert_true(notifications_refresh(db, pilot_uid, 1) >= 0);
	db_close(db);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind "
	                 "= 'overdue'",
	                 "I", pilot_uid),
	    (int64_t)nov);
	if (nov) {
		struct client *pilot = login(PILOT);
		client_get(pilot, "/notifications", &r);
		assert_has(&r, "Mesure en retard : ");
		assert_has(&r, "/indicateurs-fiche/");
		resp_free(&r);
		client_free(pilot);
	}

	/* Mark one as read, then all; someone else's is 404. */
	int64_t nid = th_query_int(&T,
	                           "SELECT MIN(id) FROM notifications WHERE user_id = ? AND kind = "
	                           "'follow_up'",
	                           "I", partner_uid);
	int64_t other = th_query_int(&T, "SELECT MIN(id) FROM notifications WHERE user_id <> ?",
	                             "I", partner_uid);
	if (other > 0) {
		snprintf(fields, sizeof fields, "id=%lld", (long long)other);
		assert_int_equal(submit(partner, "/notifications", "/notifications/lire", fields),
		                 404);
		assert_int_equal(
		    th_query_int(
		        &T,
		        "SELECT COUNT(*) FROM notifications WHERE id = ? AND read_at IS NOT NULL",
		        "I", other),
		    0);
	}
	assert_int_equal(
	    submit(partner, "/notifications", "/notifications/lire", "id=%27+OR+1%3D1"), 404);
	snprintf(fields, sizeof fields, "id=%lld", (long long)nid);
	assert_int_equal(submit(partner, "/notifications", "/notifications/lire", fields), 303);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM notifications WHERE id = ? AND read_at IS NOT NULL",
	                 "I", nid),
	    1);
	assert_int_equal(
	    th_query_int(&T,
	                 "SELECT COUNT(*) FROM audit_log WHERE entity = 'notification' "
	                 "AND action = 'read' AND entity_id = CAST(? AS TEXT)",
	                 "I", nid),
	    1);
	client_get(partner, "/notifications?ok=lu", &r);
	assert_has(&r, "Notification marquée comme lue.");
	assert_has(&r, "Déjà lues");
	resp_free(&r);
	assert_int_equal(submit(partner, "/notifications", "/notifications/lire", "all=1"), 303);
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND "
	                              "read_at IS NULL",
	                              "I", partner_uid),
	                 0);
	client_get(partner, "/", &r);
	assert_has(&r, "class=\"bell\">Notifications</a>");
	resp_free(&r);
	/* The same through the API. */
	struct api *pa = api_new(PARTNER);
	json_t *j = api_json(pa, "GET", "/api/v1/notifications", NULL, 200);
	assert_int_equal(json_integer_value(json_object_get(j, "unread")), 0);
	assert_true(json_array_size(json_object_get(j, "notifications")) >= 2);
	json_decref(j);
	if (other > 0) {
		snprintf(fields, sizeof fields, "{\"id\": %lld}", (long long)other);
		api_error(pa, "POST", "/api/v1/notifications/read", fields, 404);
	}
	api_error(pa, "POST", "/api/v1/notifications/read", "{\"id\": \"x\"}", 422);
	json_decref(api_json(pa, "POST", "/api/v1/notifications/read", "{\"all\": true}", 200));
	api_free(pa);
	struct api *anon_api = api_new(NULL);
	api_error(anon_api, "GET", "/api/v1/notifications", NULL, 401);
	api_free(anon_api);
	/* Anonymous: no page, no bell. */
	struct client *anon = client_new(&T);
	long st = get_status(anon, "/notifications");
	assert_true(st == 303 || st == 401);
	client_get(anon, "/", &r);
	assert_lacks(&r, "class=\"bell\"");
	resp_free(&r);
	client_free(anon);
	client_free(partner);
	client_free(coord);
}

/* --- a fake SMTP relay: one session, the message kept ------------------------------------- */

struct fake_smtp {
	int fd, port, got;
	pthread_t th;
	char rcpt[300];
	struct buf data;
};

static int fs_line(int c, char *line, size_t n)
{
	size_t len = 0;
	char ch;
	while (recv(c, &ch, 1, 0) == 1) {
		if (ch == '\n') {
			line[len] = '\0';
			if (len && line[len - 1] == '\r')
				line[len - 1] = '\0';
			return 0;
		}
		if (len < n - 1)
			line[len++] = ch;
	}
	return -1;
}

static void fs_say(int c, const char *s)
{
	ssize_t k = send(c, s, strlen(s), MSG_NOSIGNAL);
	(void)k;
}

static void *fake_smtp_run(void *arg)
{
	struct fake_smtp *f = arg;
	struct pollfd p = {.fd = f->fd, .events = POLLIN};
	if (poll(&p, 1, 15000) != 1)
		return NULL;
	int c = accept(f->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char line[2048];
	fs_say(c, "220 fake ESMTP\r\n");
	while (!fs_line(c, line, sizeof line)) {
		if (!strncmp(line, "EHLO", 4)) {
			fs_say(c, "250-fake\r\n250 8BITMIME\r\n");
		} else if (!strncmp(line, "MAIL FROM:", 10)) {
			fs_say(c, "250 OK\r\n");
		} else if (!strncmp(line, "RCPT TO:", 8)) {
			snprintf(f->rcpt, sizeof f->rcpt, "%s", line + 8);
			fs_say(c, "250 OK\r\n");
		} else if (!strcmp(line, "DATA")) {
			fs_say(c, "354 go\r\n");
			while (!fs_line(c, line, sizeof line) && strcmp(line, ".")) {
				buf_puts(&f->data, line);
				buf_puts(&f->data, "\n");
			}
			f->got = 1;
			fs_say(c, "250 queued\r\n");
		} else if (!strcmp(line, "QUIT")) {
			fs_say(c, "221 bye\r\n");
			break;
		} else {
			fs_say(c, "500 ?\r\n");
		}
	}
	close(c);
	return NULL;
}

static void fake_smtp_start(struct fake_smtp *f)
{
	memset(f, 0, sizeof *f);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(f->fd, 4), 0);
	socklen_t l = sizeof a;
	getsockname(f->fd, (struct sockaddr *)&a, &l);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->th, NULL, fake_smtp_run, f), 0);
}

static void fake_smtp_stop(struct fake_smtp *f)
{
	pthread_join(f->th, NULL);
	close(f->fd);
}

/* E-mail when SMTP is configured: the follow-up's owner gets one message; no relay, no mail
 * but the write still succeeds. */
static void test_email(void **state)
{
	(void)state;
	int64_t partner_uid =
	    th_query_int(&T, "SELECT id FROM users WHERE email = ?", "s", PARTNER);
	int64_t m = th_query_int(&T,
	                         "SELECT MAX(m.id) FROM meetings m JOIN instances i ON i.id = "
	                         "m.instance_id WHERE i.plan_id = ?",
	                         "I", plan_a);
	char mp[64], path[96], fields[256];
	snprintf(mp, sizeof mp, "/reunions/%lld", (long long)m);
	snprintf(path, sizeof path, "%s/suites", mp);
	struct client *coord = login(COORD);
	/* Nothing is ever e-mailed without SMTP. */
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM notifications WHERE emailed_at IS NOT NULL", ""),
	    0);

	struct fake_smtp f;
	fake_smtp_start(&f);
	char url[64];
	snprintf(url, sizeof url, "smtp://127.0.0.1:%d", f.port);
	setenv("MAILLAGE_SMTP", url, 1);
	setenv("MAILLAGE_SMTP_FROM", "ne-pas-repondre@maillage.example", 1);
	snprintf(fields, sizeof fields,
	         "what=Relire+le+compte+rendu.%%0A.ligne&owner=%lld&owner_text=&due_on=2031-02-01",
	         (long long)partner_uid);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	fake_smtp_stop(&f);
	assert_true(f.got);
	assert_string_equal(f.rcpt, "<partenaire@demo.maillage.fr>");
	const char *d = buf_str(&f.data);
	assert_non_null(strstr(d, "To: <partenaire@demo.maillage.fr>"));
	assert_non_null(strstr(d, "From: maillage <ne-pas-repondre@maillage.example>"));
	assert_non_null(strstr(d, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(d, "Content-Type: text/plain; charset=utf-8"));
	assert_non_null(strstr(d, "Bonjour Pascale Partenaire"));
	assert_non_null(strstr(d, "Suite à faire : Relire le compte rendu."));
	assert_non_null(strstr(d, "\n..ligne")); /* dot-stuffed: the message is not cut short */
	buf_free(&f.data);
	assert_true(th_query_int(&T,
	                         "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = "
	                         "'follow_up' AND title LIKE '%Relire le compte rendu%' AND "
	                         "emailed_at IS NOT NULL",
	                         "I", partner_uid) == 1);

	/* The relay is down: the follow-up is recorded, the notification waits in the app. */
	setenv("MAILLAGE_SMTP", "smtp://127.0.0.1:1", 1);
	snprintf(fields, sizeof fields, "what=Deuxi%%C3%%A8me+suite&owner=%lld&owner_text=&due_on=",
	         (long long)partner_uid);
	assert_int_equal(submit(coord, mp, path, fields), 303);
	unsetenv("MAILLAGE_SMTP");
	unsetenv("MAILLAGE_SMTP_FROM");
	assert_int_equal(th_query_int(&T,
	                              "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND "
	                              "title LIKE '%Deuxième suite%' AND emailed_at IS NULL",
	                              "I", partner_uid),
	                 1);
	client_free(coord);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_and_ics_line),
	    cmocka_unit_test(test_demo),
	    cmocka_unit_test(test_copil_lifecycle),
	    cmocka_unit_test(test_copil_arbitration),
	    cmocka_unit_test(test_api),
	    cmocka_unit_test(test_calendar_feed),
	    cmocka_unit_test(test_pack),
	    cmocka_unit_test(test_notifications),
	    cmocka_unit_test(test_email),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
