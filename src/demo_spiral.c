/* demo_spiral: the SPIRAL workshops of the demonstration database — the platforms and peer
 * groups of the Ardèche schéma (seed 004), with deterministic criteria whose aggregation gives
 * back the seed's « top 7 des critères cités ». */
#include "demo_spiral.h"

#include "db.h"
#include "spiral.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_TITLE "Schéma des solidarités 2020-2024"

static const struct {
	const char *kind, *desc, *type, *place, *date, *commune;
	int participants;
} WORKSHOPS[] = {
    {"plateforme", "Plateforme multi-acteurs du Centre", "mixte", "Maison des services au public",
     "2019-03-27", "Vernoux-en-Vivarais", 19},
    {"plateforme", "Plateforme multi-acteurs du Nord", "mixte", "Ehpad de la Clairière",
     "2019-04-05", "Annonay", 21},
    {"plateforme", "Plateforme multi-acteurs du Sud-Est", "mixte", "Musée d'Alba-la-Romaine",
     "2019-04-05", "Alba-la-Romaine", 17},
    {"plateforme", "Plateforme multi-acteurs du Sud-Ouest", "mixte",
     "Maison de quartier de Pont d'Aubenas", "2019-04-16", "Aubenas", 15},
    {"groupe_pairs", "Agriculteurs", "professionnels", "", "2019-05-14", "Largentière", 8},
    {"groupe_pairs", "Artistes", "professionnels", "", "2019-05-21", "Privas", 7},
    {"groupe_pairs", "Élus locaux", "elus", "", "2019-05-23", "Lamastre", 9},
    {"groupe_pairs", "Séniors", "seniors", "", "2019-06-04", "Tournon-sur-Rhône", 10},
    {"groupe_pairs", "Jeunes mamans du foyer de l'enfance", "familles", "Foyer de l'enfance",
     "2019-06-11", "Privas", 6},
    {"groupe_pairs", "Demandeurs d'asile", "accompagnees", "", "2019-06-13", "Aubenas", 9},
    {"groupe_pairs", "Résidents âgés en établissement", "seniors", "", "2019-06-18", "Le Cheylard",
     11},
    {"groupe_pairs", "Participants à des actions collectives du Département", "accompagnees", "",
     "2019-06-20", "Annonay", 12},
};
#define NW (sizeof WORKSHOPS / sizeof *WORKSHOPS)

/* Criteria and how many post-its say each; the seed's top 7 first, in its order. */
static const struct {
	int question;
	const char *text;
	int count;
} CRITERIA[] = {
    {SPQ_BIEN_ETRE, "Le temps pour soi et avec ses proches", 24},
    {SPQ_BIEN_ETRE, "Le cadre de vie", 21},
    {SPQ_BIEN_ETRE, "L'accès à la culture", 18},
    {SPQ_BIEN_ETRE, "S'épanouir et se réaliser par l'activité", 15},
    {SPQ_BIEN_ETRE, "Le libre choix", 12},
    {SPQ_BIEN_ETRE, "Une alimentation saine et de qualité", 9},
    {SPQ_BIEN_ETRE, "Se sentir utile socialement", 8},
    {SPQ_BIEN_ETRE, "Le bénévolat et l'engagement", 7},
    {SPQ_BIEN_ETRE, "La nature et les paysages", 6},
    {SPQ_BIEN_ETRE, "La famille", 5},
    {SPQ_BIEN_ETRE, "Les amis", 4},
    {SPQ_BIEN_ETRE, "Faire du sport", 3},
    {SPQ_MAL_ETRE, "Les difficultés de santé et d'accès aux soins", 23},
    {SPQ_MAL_ETRE, "La pollution et les problématiques liées à l'environnement", 19},
    {SPQ_MAL_ETRE, "Les relations aux autres (y compris les relations aux administrations)", 16},
    {SPQ_MAL_ETRE, "La mobilité et les déplacements", 13},
    {SPQ_MAL_ETRE, "Le manque de temps", 9},
    {SPQ_MAL_ETRE, "La solitude", 8},
    {SPQ_MAL_ETRE, "Les inquiétudes pour l'avenir", 7},
    {SPQ_MAL_ETRE, "Les fins de mois difficiles", 6},
    {SPQ_MAL_ETRE, "Le manque de reconnaissance", 5},
    {SPQ_MAL_ETRE, "Les démarches administratives dématérialisées", 4},
    {SPQ_CAPACITES, "Partager, écouter, prendre soin de quelqu'un", 14},
    {SPQ_CAPACITES, "Organiser une fête des voisins", 10},
    {SPQ_CAPACITES, "Créer des espaces de rencontres", 9},
    {SPQ_CAPACITES, "Donner de mon temps bénévolement", 8},
    {SPQ_CAPACITES, "Faire du covoiturage", 7},
    {SPQ_CAPACITES, "Transmettre le bien savoir manger", 6},
    {SPQ_CAPACITES, "Accompagner quelqu'un dans ses démarches", 5},
    {SPQ_CAPACITES, "Trier mes déchets", 4},
};
#define NC (sizeof CRITERIA / sizeof *CRITERIA)

/* Component code → title of a node of the schéma. */
static const struct {
	const char *component, *node;
} LINKS[] = {
    {"A02", "Sensibiliser, prévenir, partager les savoirs"},
    {"A08", "Soutenir des mobilités inclusives"},
    {"A10", "Faciliter l'accès à l'information et aux droits"},
    {"C01", "Garantir les conditions d'accueil du public"},
    {"D06", "Soutenir des espaces de liens et de rencontres"},
    {"F03", "Prendre en compte l'articulation des temps de vie"},
    {"F04", "S'appuyer sur les ressources et les choix des personnes et de leur entourage"},
    {"H05", "Animer le territoire, soutenir les initiatives locales"},
    {"B01", "Anticiper les mutations sociétales"},
};

/* The same criterion as another participant wrote it: lower case, a final full stop. The
 * aggregation's normalised key makes it count with the original. */
static char *variant(const char *s)
{
	char *v = xasprintf("%s.", s);
	if (v[0] >= 'A' && v[0] <= 'Z')
		v[0] = (char)(v[0] - 'A' + 'a');
	return v;
}

int demo_spiral_load(struct db *db, char **err)
{
	int64_t plan_id = 0;
	if (db_int64f(db, &plan_id, "SELECT id FROM plans WHERE title = ?", "s", PLAN_TITLE) !=
	    DB_OK)
		return 0;
	if (spiral_taxonomy_ensure(db, err))
		return -1;
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	char now[32];
	time_iso_now(now);
	int64_t wid[NW];
	int rc = DB_OK;
	for (size_t i = 0; rc == DB_OK && i < NW; i++) {
		char *code = NULL;
		struct db_stmt *st = db_queryf(db,
		                               "SELECT code FROM communes WHERE name = ? AND "
		                               "departement = '07'",
		                               "s", WORKSHOPS[i].commune);
		if (st && db_step(st) == DB_ROW)
			code = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		rc = db_int64f(db, &wid[i],
		               "INSERT INTO spiral_workshops (plan_id, kind, group_description, "
		               "group_type, place, held_on, territory_code, participants, is_demo, "
		               "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
		               "RETURNING id",
		               "IssssssIss", plan_id, WORKSHOPS[i].kind, WORKSHOPS[i].desc,
		               WORKSHOPS[i].type, WORKSHOPS[i].place, WORKSHOPS[i].date, code,
		               (int64_t)WORKSHOPS[i].participants, now, now);
		free(code);
	}
	/* Post-it k of criterion c goes to workshop (c + k) mod NW; every third is retained by the
	 * group; every fifth is the variant spelling. Each workshop gets one entry. */
	for (size_t w = 0; rc == DB_OK && w < NW; w++) {
		struct spiral_entry e = {0};
		e.items = xcalloc(400, sizeof *e.items);
		for (size_t c = 0; c < NC; c++)
			for (int k = 0; k < CRITERIA[c].count; k++) {
				if ((c + (size_t)k) % NW != w)
					continue;
				int var = k % 5 == 4;
				size_t at = e.n++;
				e.items[at] =
				    (struct spiral_line){.question = CRITERIA[c].question,
				                         .approved = k % 3 == 0,
				                         .text = var ? variant(CRITERIA[c].text)
				                                     : xstrdup(CRITERIA[c].text),
				                         .line = (int)at + 1};
			}
		if (e.n)
			rc = spiral_criteria_add(db, wid[w], &e, 0, "demo", 1);
		spiral_entry_free(&e);
	}
	/* Classified as suggested, except the last two groups (left for the classification page).
	 */
	if (rc == DB_OK)
		rc = db_execf(
		    db,
		    "UPDATE spiral_criteria SET component_id = suggested_component_id, "
		    "validated_at = ? WHERE workshop_id IN (SELECT id FROM spiral_workshops "
		    "WHERE plan_id = ? AND id < ?)",
		    "sII", now, plan_id, wid[NW - 2]);
	for (size_t i = 0; rc == DB_OK && i < sizeof LINKS / sizeof *LINKS; i++) {
		int64_t comp = 0, node = 0;
		if (db_int64f(db, &comp, "SELECT id FROM spiral_components WHERE code = ?", "s",
		              LINKS[i].component) != DB_OK ||
		    db_int64f(db, &node, "SELECT id FROM nodes WHERE plan_id = ? AND title = ?",
		              "Is", plan_id, LINKS[i].node) != DB_OK)
			continue;
		rc = db_execf(db,
		              "INSERT INTO spiral_component_links (plan_id, component_id, node_id, "
		              "created_at) VALUES (?, ?, ?, ?)",
		              "IIIs", plan_id, comp, node, now);
	}
	if (rc != DB_OK) {
		*err = xasprintf("ateliers SPIRAL de démonstration : %s", db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	if (db_commit(db) != DB_OK) {
		*err = xasprintf("validation impossible : %s", db_errmsg(db));
		return -1;
	}
	return 0;
}
