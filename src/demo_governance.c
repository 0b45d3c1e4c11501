/* demo_governance: the COPIL and the COTECH of the demonstration Crestois CTG, with two past
 * quarterly meetings each, their minutes, decisions and follow-ups, and the next ones. */
#include "demo_governance.h"

#include "audit.h"
#include "db.h"
#include "governance.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctx {
	struct db *db;
	int64_t plan, coord, pilot, partner;
	char now[32];
	int rc;
};

/* The date today + days (UTC) as "YYYY-MM-DD" into out. */
static void day_from_today(int days, char out[16])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static int64_t id_of(struct ctx *c, const char *sql, const char *value)
{
	int64_t id = 0;
	if (c->rc == DB_OK && db_int64f(c->db, &id, sql, "s", value) != DB_OK)
		id = 0;
	return id;
}

static int64_t node_of(struct ctx *c, const char *number)
{
	int64_t id = 0;
	if (c->rc == DB_OK &&
	    db_int64f(c->db, &id, "SELECT id FROM nodes WHERE plan_id = ? AND number = ?", "Is",
	              c->plan, number) != DB_OK)
		id = 0;
	return id;
}

static void audit_created(struct ctx *c, const char *entity, int64_t id, const char *name)
{
	if (c->rc != DB_OK)
		return;
	json_t *after = json_pack("{sIss}", "id", (json_int_t)id, "name", name);
	c->rc = audit_write_id(c->db, 0, "cli", "create", entity, id, NULL, after);
	json_decref(after);
}

static int64_t instance(struct ctx *c, const char *kind, const char *name, const char *desc)
{
	int64_t id = 0;
	if (c->rc == DB_OK)
		c->rc = db_int64f(c->db, &id,
		                  "INSERT INTO instances (plan_id, kind, name, description, "
		                  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		                  "Isssss", c->plan, kind, name, desc, c->now, c->now);
	audit_created(c, "instance", id, name);
	return id;
}

/* A member: a user (uid) or a structure (actor), with a role. */
static void member(struct ctx *c, int64_t inst, int64_t uid, int64_t actor, const char *role)
{
	if (c->rc != DB_OK || (!uid && !actor))
		return;
	c->rc = uid ? db_execf(c->db,
	                       "INSERT INTO instance_members (instance_id, user_id, role) VALUES "
	                       "(?, ?, ?)",
	                       "IIs", inst, uid, role)
	            : db_execf(c->db,
	                       "INSERT INTO instance_members (instance_id, actor_id, role) VALUES "
	                       "(?, ?, ?)",
	                       "IIs", inst, actor, role);
}

/* A meeting `days` from today at local time hhmm ("14:00"); every member present. */
static int64_t meeting(struct ctx *c, int64_t inst, int days, const char *hhmm, const char *place,
                       const char *status, const char *minutes)
{
	char day[16], local[32], utc[32];
	day_from_today(days, day);
	snprintf(local, sizeof local, "%sT%s", day, hhmm);
	if (c->rc != DB_OK || governance_local_to_utc(local, utc)) {
		c->rc = c->rc == DB_OK ? DB_ERROR : c->rc;
		return 0;
	}
	int64_t id = 0;
	c->rc = db_int64f(c->db, &id,
	                  "INSERT INTO meetings (instance_id, starts_at, place, status, minutes, "
	                  "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	                  "Issssss", inst, utc, place, status, minutes, c->now, c->now);
	if (c->rc == DB_OK)
		c->rc = db_execf(
		    c->db,
		    "INSERT INTO attendance (meeting_id, user_id, actor_id, status) SELECT "
		    "CAST(? AS BIGINT), user_id, actor_id, 'present' FROM instance_members WHERE "
		    "instance_id = ? ORDER BY id",
		    "II", id, inst);
	audit_created(c, "meeting", id, local);
	return id;
}

static void excused(struct ctx *c, int64_t meeting_id, int64_t uid)
{
	if (c->rc == DB_OK)
		c->rc = db_execf(c->db,
		                 "UPDATE attendance SET status = 'excuse' WHERE meeting_id = ? AND "
		                 "user_id = ?",
		                 "II", meeting_id, uid);
}

static void guest(struct ctx *c, int64_t meeting_id, const char *name)
{
	if (c->rc == DB_OK)
		c->rc = db_execf(
		    c->db,
		    "INSERT INTO attendance (meeting_id, guest_name, status) VALUES (?, ?, "
		    "'present')",
		    "Is", meeting_id, name);
}

static void agenda(struct ctx *c, int64_t meeting_id, int pos, const char *title, int64_t node)
{
	if (c->rc != DB_OK)
		return;
	c->rc = node ? db_execf(c->db,
	                        "INSERT INTO agenda_items (meeting_id, position, title, node_id) "
	                        "VALUES (?, ?, ?, ?)",
	                        "IisI", meeting_id, pos, title, node)
	             : db_execf(c->db,
	                        "INSERT INTO agenda_items (meeting_id, position, title) VALUES (?, "
	                        "?, ?)",
	                        "Iis", meeting_id, pos, title);
}

/* Link the agenda item at pos to the first indicator of its fiche, when it has one. */
static void agenda_indicator(struct ctx *c, int64_t meeting_id, int pos, int64_t node)
{
	if (c->rc == DB_OK && node)
		c->rc = db_execf(
		    c->db,
		    "UPDATE agenda_items SET fiche_indicator_id = (SELECT MIN(id) FROM "
		    "fiche_indicators WHERE node_id = ?) WHERE meeting_id = ? AND position "
		    "= ?",
		    "IIi", node, meeting_id, pos);
}

static void decision(struct ctx *c, int64_t meeting_id, int number, const char *text, int64_t node)
{
	if (c->rc != DB_OK)
		return;
	c->rc = node ? db_execf(c->db,
	                        "INSERT INTO decisions (meeting_id, number, text, node_id, "
	                        "created_at) VALUES (?, ?, ?, ?, ?)",
	                        "IisIs", meeting_id, number, text, node, c->now)
	             : db_execf(c->db,
	                        "INSERT INTO decisions (meeting_id, number, text, created_at) "
	                        "VALUES (?, ?, ?, ?)",
	                        "Iiss", meeting_id, number, text, c->now);
}

/* A follow-up owned by a user (uid) or by someone named (owner_text); due `due_days` from
 * today (or none when due_days is 0); status ouvert, fait or abandonne. */
static void follow(struct ctx *c, int64_t meeting_id, const char *what, int64_t uid,
                   const char *owner_text, int due_days, const char *status)
{
	if (c->rc != DB_OK)
		return;
	char due[16] = "";
	if (due_days)
		day_from_today(due_days, due);
	struct db_stmt *st = db_prepare(c->db, "INSERT INTO follow_ups (meeting_id, what, "
	                                       "owner_user_id, owner_text, due_on, status, "
	                                       "created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, "
	                                       "?, ?)");
	if (!st) {
		c->rc = DB_ERROR;
		return;
	}
	db_bind_int64(st, 1, meeting_id);
	db_bind_text(st, 2, what);
	if (uid)
		db_bind_int64(st, 3, uid);
	else
		db_bind_null(st, 3);
	db_bind_text(st, 4, owner_text ? owner_text : "");
	db_bind_text(st, 5, *due ? due : NULL);
	db_bind_text(st, 6, status);
	db_bind_text(st, 7, c->now);
	db_bind_text(st, 8, strcmp(status, "ouvert") ? c->now : NULL);
	c->rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
	db_finalize(st);
}

int demo_governance_load(struct db *db, char **err)
{
	struct ctx c = {.db = db, .rc = DB_OK};
	time_iso_now(c.now);
	if (db_int64f(db, &c.plan,
	              "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1",
	              "") != DB_OK)
		return 0; /* no Crestois CTG: nothing to add */
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	const char *by_email = "SELECT id FROM users WHERE email = ?";
	c.coord = id_of(&c, by_email, "coordination@demo.maillage.fr");
	c.pilot = id_of(&c, by_email, "pilote@demo.maillage.fr");
	c.partner = id_of(&c, by_email, "partenaire@demo.maillage.fr");
	const char *by_name = "SELECT id FROM actors WHERE name = ? ORDER BY id LIMIT 1";
	int64_t caf = id_of(&c, by_name, "Caf de la Drôme");
	int64_t dep = id_of(&c, by_name, "Département de la Drôme");
	int64_t cc = id_of(
	    &c, by_name, "Communauté de communes du Crestois et du Pays de Saillans Cœur de Drôme");
	int64_t cs = id_of(&c, by_name, "Centre social Crest'actif");
	int64_t rpe =
	    id_of(&c, by_name, "Relais Petite Enfance du Crestois et du Pays de Saillans");
	int64_t f_caf = node_of(&c, "1.1.1.3"), f_near = node_of(&c, "1.1.1.4"),
	        f_eaje = node_of(&c, "2.1.1.1"), f_parent = node_of(&c, "5.1.3.1"),
	        f_young = node_of(&c, "4.1.1.1");

	/* The instances (seed 004: "Il se réunit une fois par trimestre"). */
	int64_t copil = instance(
	    &c, "copil", "Comité de pilotage de la CTG",
	    "Fixe les orientations générales, arbitre les propositions annuelles qui lui sont "
	    "soumises, valide les grandes étapes de vie de la convention. Il se réunit une fois "
	    "par "
	    "trimestre.");
	int64_t cotech = instance(
	    &c, "cotech", "Comité technique de la CTG",
	    "Assure le suivi de la mise en œuvre des actions et veille à leur évaluation en "
	    "continu ; examine les nouvelles propositions de fiches-actions puis les présente au "
	    "Comité de pilotage. Il se réunit une fois par trimestre, avant chaque Comité de "
	    "pilotage.");
	member(&c, copil, c.coord, 0, "Animation et secrétariat");
	member(&c, copil, c.partner, 0, "Partenaire signataire");
	member(&c, copil, 0, cc, "Présidence (élu·e communautaire)");
	member(&c, copil, 0, caf, "Co-signataire");
	member(&c, copil, 0, dep, "Partenaire institutionnel");
	member(&c, cotech, c.coord, 0, "Animation");
	member(&c, cotech, c.pilot, 0, "Pilote de fiches-actions");
	member(&c, cotech, c.partner, 0, "Partenaire");
	member(&c, cotech, 0, caf, "Conseiller·e territorial·e");
	member(&c, cotech, 0, cs, "Structure de proximité");
	member(&c, cotech, 0, rpe, "Relais Petite Enfance");

	/* First quarter: COTECH then COPIL. */
	int64_t t1 = meeting(
	    &c, cotech, -147, "09:30", "Communauté de communes, Crest", "held",
	    "### Relevé du comité technique\n\n"
	    "Tour de table des pilotes : les fiches de l'axe 1 (accès aux droits) avancent ; les "
	    "ateliers démarches en ligne Caf ont démarré à Crest.\n\n"
	    "Rôles de la séance : animation (coordination CTG), prise de notes (Centre social "
	    "Crest'actif), gardien·ne du temps (Relais Petite Enfance).\n\n"
	    "**Le pas d'après** : recenser les ateliers numériques existants avant le COPIL.");
	agenda(&c, t1, 1, "Tour de table des pilotes de fiches-actions", 0);
	agenda(&c, t1, 2, "Ateliers démarches en ligne Caf : premiers retours", f_caf);
	agenda(&c, t1, 3, "Préparation du comité de pilotage", 0);
	decision(&c, t1, 1,
	         "Proposer au COPIL un point d'étape trimestriel pour chaque fiche-action suivie.",
	         0);
	follow(&c, t1, "Recenser les ateliers numériques existants sur le territoire", c.pilot,
	       NULL, -142, "fait");

	int64_t p1 = meeting(
	    &c, copil, -140, "14:00", "Mairie de Crest, salle du conseil", "held",
	    "### Compte rendu du comité de pilotage\n\n"
	    "Rappel en début de rencontre des réalisations précédentes : lancement de la "
	    "convention, installation des instances.\n\n"
	    "Le COTECH présente ses propositions ; le COPIL valide le rythme trimestriel des "
	    "instances et demande un suivi renforcé des ateliers démarches en ligne.\n\n"
	    "Le compte rendu est transmis à tous les acteurs concernés.");
	agenda(&c, p1, 1, "Rappel des réalisations précédentes", 0);
	agenda(&c, p1, 2, "Calendrier des instances de la convention", 0);
	agenda(&c, p1, 3, "Ateliers démarches en ligne Caf", f_caf);
	agenda(&c, p1, 4, "Aller vers les publics les plus éloignés", f_near);
	excused(&c, p1, c.partner);
	decision(&c, p1, 1,
	         "Un comité de pilotage et un comité technique par trimestre, le comité technique "
	         "une semaine avant chaque comité de pilotage.",
	         0);
	decision(
	    &c, p1, 2,
	    "Suivi renforcé des ateliers démarches en ligne Caf, avec un point d'étape à chaque "
	    "comité de pilotage.",
	    f_caf);
	follow(&c, p1, "Transmettre le compte rendu à tous les signataires", c.coord, NULL, -133,
	       "fait");
	follow(&c, p1, "Préparer le bilan des ateliers démarches en ligne Caf", c.pilot, NULL, -20,
	       "ouvert");

	/* Second quarter. */
	int64_t t2 = meeting(
	    &c, cotech, -57, "09:30", "Centre social Crest'actif", "held",
	    "### Relevé du comité technique\n\n"
	    "Reprise des éléments restés en suspens (tableau de bord) : le bilan des ateliers "
	    "démarches en ligne est attendu.\n\n"
	    "Examen des besoins d'accueil du jeune enfant avec le Relais Petite Enfance et des "
	    "actions parentalité.");
	agenda(&c, t2, 1, "Éléments restés en suspens", 0);
	agenda(&c, t2, 2, "Veille des besoins d'accueil du jeune enfant", f_eaje);
	agenda(&c, t2, 3, "Diversification des actions parentalité", f_parent);
	guest(&c, t2, "Animatrice du lieu d'accueil enfants-parents");
	decision(&c, t2, 1,
	         "Soumettre au COPIL la diversification des actions parentalité vers les familles "
	         "les plus éloignées.",
	         f_parent);
	follow(&c, t2, "Examiner les nouvelles propositions de fiches-actions de l'année", c.coord,
	       NULL, 33, "ouvert");

	int64_t p2 = meeting(
	    &c, copil, -50, "14:00", "Mairie de Saillans", "held",
	    "### Compte rendu du comité de pilotage\n\n"
	    "Rappel des décisions du trimestre précédent et des suites en suspens : le bilan des "
	    "ateliers démarches en ligne reste à produire.\n\n"
	    "Le COPIL lance la veille des besoins d'accueil du jeune enfant et ouvre les actions "
	    "parentalité aux familles les plus éloignées.");
	agenda(&c, p2, 1, "Rappel des décisions et des suites en suspens", 0);
	agenda(&c, p2, 2, "Veille des besoins d'accueil du jeune enfant", f_eaje);
	agenda_indicator(&c, p2, 2, f_eaje);
	agenda(&c, p2, 3, "Actions parentalité conviviales et festives", f_parent);
	agenda(&c, p2, 4, "Lieux et services dédiés à la jeunesse", f_young);
	excused(&c, p2, c.coord);
	decision(&c, p2, 1,
	         "Lancer la veille en continu des besoins d'accueil du jeune enfant avec le Relais "
	         "Petite Enfance.",
	         f_eaje);
	decision(&c, p2, 2,
	         "Privilégier des actions parentalité conviviales, festives et ludiques pour "
	         "toucher tous les parents.",
	         f_parent);
	follow(&c, p2, "Proposer un calendrier des actions parentalité festives", c.partner, NULL,
	       30, "ouvert");
	follow(&c, p2, "Mettre à jour le tableau de bord avant le prochain comité", c.pilot, NULL,
	       25, "ouvert");
	follow(&c, p2, "Préciser le financement du Relais Petite Enfance", 0, "Caf de la Drôme", 0,
	       "ouvert");

	/* The next quarter, ahead. */
	int64_t t3 =
	    meeting(&c, cotech, 33, "09:30", "Communauté de communes, Crest", "planned", "");
	agenda(&c, t3, 1, "Éléments restés en suspens", 0);
	agenda(&c, t3, 2, "Nouvelles propositions de fiches-actions", 0);
	int64_t p3 =
	    meeting(&c, copil, 40, "14:00", "Mairie de Crest, salle du conseil", "planned", "");
	agenda(&c, p3, 1, "Rappel des décisions et des suites en suspens", 0);
	agenda(&c, p3, 2, "Bilan des ateliers démarches en ligne Caf", f_caf);
	agenda_indicator(&c, p3, 2, f_caf);
	agenda(&c, p3, 3, "Arbitrage des propositions annuelles de fiches-actions", 0);
	agenda(&c, p3, 4, "Questions diverses", 0);

	if (c.rc == DB_OK && db_commit(db) == DB_OK)
		return 0;
	*err = xasprintf("gouvernance de démonstration : %s", db_errmsg(db));
	db_rollback(db);
	return -1;
}
