/* test_http_governance: instances and meetings over HTTP on the demo database — a COPIL of the
 * Crestois plan, a meeting held with agenda, attendance, minutes, two numbered decisions and a
 * follow-up; the next meeting recalls the previous decisions and open follow-ups first; closing
 * a follow-up; bad input and hostile text; permissions (partner, reader, member of another plan,
 * anonymous); the audit; the iCalendar export (CRLF, folding, escaping, one VEVENT each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "governance.h"
#include "harness.h"
#include "http.h"
#include "users.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PASSWORD "maillage-demo"
#define COORD    "coordination@demo.maillage.fr"
#define PARTNER  "partenaire@demo.maillage.fr"
#define READER   "lecture@demo.maillage.fr"
#define PILOT    "pilote@demo.maillage.fr"
#define OUTSIDER "coord-b@example.org"
#define SECRET   "Zéphyrine-Confidentielle"

static struct th T;
static int64_t plan_a, plan_b, fiche_a, coord_uid;

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
	int64_t iid = th_query_int(&T, "SELECT id FROM instances WHERE name = 'COPIL Crestois' AND plan_id = ?",
	                 "I", plan_a);
	assert_true(iid > 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM instances", ""), 1);
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
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM instance_members WHERE instance_id = ?", "I", iid), 2);
	snprintf(path, sizeof path, "%s/reunions", inst);
	assert_int_equal(submit(coord, inst, path, "starts_at=2026-02-30T10%3A00&place=X"), 422);
	assert_int_equal(
	    submit(coord, inst, path, "starts_at=2026-03-12T14%3A00&place=Mairie%2C+Crest"), 303);
	int64_t m1 = th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
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
	int64_t need = th_query_int(&T, "SELECT MIN(id) FROM needs WHERE moderation = 'publie'", "");
	assert_true(need > 0);
	snprintf(fields, sizeof fields, "title=Besoin+%%C3%%A0+discuter&node=&need=%lld",
	         (long long)need);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(
	    th_query_int(&T, "SELECT need_id FROM agenda_items WHERE title = 'Besoin à discuter'", ""), need);
	snprintf(fields, sizeof fields, "/besoins/%lld\"", (long long)need);
	client_get(coord, m1p, &r);
	assert_has(&r, fields);
	resp_free(&r);
	int64_t item2 = th_query_int(&T, "SELECT id FROM agenda_items WHERE title = 'Bilan de la fiche'", "");
	snprintf(path, sizeof path, "%s/ordre-du-jour/%lld/monter", m1p, (long long)item2);
	assert_int_equal(submit(coord, m1p, path, ""), 303);
	assert_int_equal(th_query_int(&T, "SELECT id FROM agenda_items WHERE meeting_id = ? ORDER BY position "
	                    "LIMIT 1",
	                    "I", m1),
	                 item2);
	assert_int_equal(th_query_int(&T, "SELECT node_id FROM agenda_items WHERE id = ?", "I", item2), fiche_a);

	/* Attendance: the member is prefilled, set to excused; a guest added. */
	int64_t att = th_query_int(&T, "SELECT id FROM attendance WHERE meeting_id = ? AND user_id = ?", "II", m1,
	                 coord_uid);
	assert_true(att > 0);
	snprintf(path, sizeof path, "%s/presences", m1p);
	snprintf(fields, sizeof fields, "att-%lld=bogus", (long long)att);
	assert_int_equal(submit(coord, m1p, path, fields), 422);
	snprintf(fields, sizeof fields, "att-%lld=excuse", (long long)att);
	assert_int_equal(submit(coord, m1p, path, fields), 303);
	assert_int_equal(
	    th_query_int(&T, "SELECT COUNT(*) FROM attendance WHERE id = ? AND status = 'excuse'", "I", att), 1);
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
	assert_int_equal(th_query_int(&T, "SELECT MAX(number) FROM decisions WHERE meeting_id = ?", "I", m1), 2);
	assert_int_equal(th_query_int(&T, "SELECT number FROM decisions WHERE text LIKE 'Valider%'", ""), 1);
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
	int64_t fab = th_query_int(&T, "SELECT id FROM follow_ups WHERE what = 'Suite abandonnée'", "");
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
	int64_t m2 = th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", iid);
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
	int64_t fu = th_query_int(&T, "SELECT id FROM follow_ups WHERE what = 'Relancer la CAF'", "");
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
	    th_query_int(&T, "SELECT COUNT(*) FROM follow_ups WHERE id = ? AND status = 'fait' AND closed_at IS "
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
	assert_true(th_query_int(&T, "SELECT COUNT(*) FROM audit_log WHERE entity IN ('instance', "
	               "'instance_member', 'meeting', 'agenda_item', 'attendance', 'decision', "
	               "'follow_up')",
	               "") >= 12);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM audit_log WHERE entity = 'decision'", ""), 2);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM audit_log WHERE entity = 'follow_up' AND "
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
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE minutes LIKE '%Pirat%'", ""), 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM decisions WHERE text LIKE '%Pirat%'", ""), 0);
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM instances", ""), 1);

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
	int64_t mb = th_query_int(&T, "SELECT MAX(id) FROM meetings WHERE instance_id = ?", "I", ib);
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
	assert_int_equal(th_query_int(&T, "SELECT COUNT(*) FROM meetings WHERE minutes LIKE '%Pirat%'", ""), 0);

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_and_ics_line),
	    cmocka_unit_test(test_copil_lifecycle),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
