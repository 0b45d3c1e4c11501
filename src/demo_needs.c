/* demo_needs: the needs of the demonstration database, drawn from the seed documents. */
#include "demo_needs.h"

#include "audit.h"
#include "db.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DOC_DIOIS   "du bilan de la CTG du Diois"
#define DOC_CREST   "de la CTG du Crestois et du Pays de Saillans"
#define DOC_ARDECHE "du schéma départemental des solidarités de l'Ardèche"
#define DOC_MAILL   "du document « Fonction mailleurs de territoire » des centres sociaux de la Drôme"

/*
 * One demonstration need. communes: INSEE codes separated by spaces. fiche: a part of the title
 * of a fiche of the Crestois CTG the need is linked to (LIKE '%…%'), or NULL (left uncovered).
 */
struct demo_need {
	const char *title, *description, *doc, *source, *theme, *public, *communes, *observed_on;
	int priority;
	const char *status, *evidence, *fiche;
};

static const struct demo_need demo_needs[] = {
    {"Personnes âgées isolées sans moyen de se rendre aux services",
     "Dans les villages éloignés, des personnes de plus de 60 ans sans voiture renoncent à se "
     "rendre aux permanences sociales : peu de transports en commun, temps de trajet longs.",
     DOC_ARDECHE, "statistiques", "acces-droits", "Personnes âgées de 60 ans et plus",
     "26019 26122 26080 26266", "2024-03-15", 1, "qualifie",
     "30 % de la population a plus de 60 ans ; pas de trains de voyageurs ni de voie rapide.",
     NULL},
    {"Accompagnement aux démarches en ligne Caf pour les publics éloignés du numérique",
     "Des allocataires ne parviennent pas à faire leurs démarches en ligne et n'ont pas "
     "d'accompagnement près de chez eux.",
     DOC_CREST, "professionnels", "acces-droits", "Allocataires éloignés du numérique",
     "26108 26011 26289", "2024-01-20", 1, "priorise", "",
     "ateliers pour accompagner les démarches en ligne"},
    {"Visibilité des lieux d'accès aux droits",
     "Les habitants ne savent pas où s'adresser : France services, point numérique, centre "
     "social, permanences.",
     DOC_CREST, "habitants", "acces-droits", "Tous publics", "26108 26183 26234", "2024-02-05", 2,
     "qualifie", "", "plaquette d'information commune"},
    {"Aller vers les publics les plus éloignés dans les hameaux",
     "Des familles isolées dans les hameaux ne viennent jamais aux permanences : il faut aller "
     "vers elles.",
     DOC_CREST, "professionnels", "acces-droits", "Familles isolées", "26328 26296 26090",
     "2024-04-10", 2, "identifie", "", "aller vers les publics les plus éloignés"},
    {"Places d'accueil du jeune enfant insuffisantes à Saillans",
     "Les familles de Saillans et des communes voisines attendent une place en crèche ; la "
     "crèche actuelle est à l'étroit.",
     DOC_CREST, "statistiques", "petite-enfance", "Familles avec enfants de moins de 3 ans",
     "26289 26368", "2023-11-30", 1, "priorise",
     "Liste d'attente de la crèche et taux de couverture inférieur à la moyenne départementale.",
     "crèche de Saillans"},
    {"Accueil du jeune enfant en horaires atypiques",
     "Des parents travaillant tôt le matin, tard le soir ou le week-end ne trouvent pas de mode "
     "de garde adapté à des besoins changeants.",
     DOC_DIOIS, "habitants", "petite-enfance", "Parents en horaires décalés", "26113 26086",
     "2024-05-22", 2, "identifie", "", NULL},
    {"Inclusion des enfants porteurs de handicap et troubles dys",
     "Les structures manquent d'appui pour accueillir les enfants porteurs de handicap.", DOC_CREST,
     "professionnels", "petite-enfance", "Enfants porteurs de handicap", "26108", "2024-03-01", 2,
     "qualifie", "", "inclusion des enfants porteurs de handicap"},
    {"Accueil spécifique des 12-14 ans",
     "Entre l'accueil de loisirs et l'accueil de jeunes, les 12-14 ans n'ont pas d'offre "
     "adaptée.",
     DOC_CREST, "spiral", "jeunesse", "Jeunes de 12 à 14 ans", "26108 26011", "2024-06-12", 2,
     "identifie", "", "12-14 ans"},
    {"Actions pour les jeunes partout sur le territoire du Diois",
     "Hors de Die, les jeunes n'ont presque aucune action ni aucun service de proximité ; "
     "veille permanente des besoins des jeunes, exprimés par eux-mêmes.",
     DOC_DIOIS, "enquete", "jeunesse", "Jeunes de 11 à 17 ans", "26167 26168 26215 26262 26327",
     "2024-09-18", 1, "identifie", "", NULL},
    {"Répit parental pour les familles",
     "Identification des besoins de répit parental : des parents épuisés n'ont pas de solution "
     "de relais.",
     DOC_DIOIS, "habitants", "parentalite", "Parents", "26113 26178", "2024-10-02", 2, "identifie",
     "", NULL},
    {"Couvrir plus largement le territoire par les actions parentalité",
     "Les actions parentalité se concentrent dans les bourgs-centres ; les communes de montagne "
     "ne sont pas couvertes.",
     DOC_DIOIS, "professionnels", "parentalite", "Familles", "26001 26282 26175 26025",
     "2024-07-08", 1, "qualifie", "", NULL},
    {"Lieu de rencontre entre habitants dans les villages",
     "Sans café ni salle ouverte, les habitants des petits villages ne se rencontrent plus : un "
     "espace de vie sociale itinérant est demandé.",
     DOC_MAILL, "spiral", "animation-vie-sociale", "Habitants", "26019 26015", "2024-04-25", 3,
     "identifie", "", NULL},
    {"Hébergement temporaire des jeunes en insertion",
     "Des jeunes en apprentissage ou en stage ne trouvent pas de logement temporaire près de "
     "leur lieu de formation.",
     DOC_ARDECHE, "professionnels", "logement", "Jeunes de 16 à 25 ans", "26108 26113",
     "2024-02-14", 2, "identifie", "", NULL},
    {"Recrutement de professionnels de la petite enfance",
     "Difficulté de recrutement : des places ferment faute de professionnels.", DOC_DIOIS,
     "professionnels", "petite-enfance", "Professionnels de la petite enfance", "26113",
     "2024-01-11", 1, "priorise", "", "professionnels petite enfance à s'installer"},
    {"Transport à la demande vers les accueils de loisirs",
     "Les enfants des communes éloignées ne peuvent pas rejoindre les accueils de loisirs "
     "l'été, faute de transport.",
     DOC_ARDECHE, "enquete", "enfance", "Enfants de 3 à 11 ans", "26122 26368", "2023-09-05", 3,
     "abandonne", "", NULL},
};

#define NDEMO (sizeof demo_needs / sizeof *demo_needs)

static int64_t crestois_plan(struct db *db)
{
	int64_t id = 0;
	if (db_int64f(db, &id,
	              "SELECT id FROM plans WHERE title LIKE '%Crestois%' ORDER BY id LIMIT 1",
	              "") != DB_OK)
		return 0;
	return id;
}

static int load_one(struct db *db, int64_t plan_id, const struct demo_need *d, char **err)
{
	char now[32];
	time_iso_now(now);
	char *description =
	    xasprintf("%s\n\n(besoin de démonstration inspiré %s)", d->description, d->doc);
	char *key = text_fold(d->title);
	int64_t id = 0;
	struct db_stmt *st = db_queryf(
	    db,
	    "INSERT INTO needs (title, description, source, thematic_tag_id, public, observed_on, "
	    "priority, status, evidence, moderation, search_title, created_at, updated_at) "
	    "VALUES (?, ?, ?, (SELECT id FROM tags WHERE plan_id IS NULL AND kind = 'thematique' "
	    "AND slug = ?), ?, ?, ?, ?, ?, 'publie', ?, ?, ?) RETURNING id",
	    "ssssssissss"
	    "s",
	    d->title, description, d->source, d->theme, d->public, d->observed_on, d->priority,
	    d->status, d->evidence, key, now, now);
	free(description);
	free(key);
	int rc = st ? db_step(st) : DB_ERROR;
	if (rc == DB_ROW) {
		id = db_col_int64(st, 0);
		rc = db_step(st);
	}
	db_finalize(st);
	if (rc != DB_DONE)
		goto fail;
	char *codes = xstrdup(d->communes);
	char *save = NULL;
	rc = DB_OK;
	for (char *c = strtok_r(codes, " ", &save); c && rc == DB_OK;
	     c = strtok_r(NULL, " ", &save))
		rc = db_execf(
		    db,
		    "INSERT INTO need_communes (need_id, commune) SELECT ?, code FROM communes "
		    "WHERE code = ?",
		    "Is", id, c);
	free(codes);
	if (rc != DB_OK)
		goto fail;
	if (d->fiche && plan_id) {
		char *pattern = text_like_pattern("%", d->fiche, "%");
		rc = db_execf(
		    db,
		    "INSERT INTO need_fiches (need_id, node_id) SELECT ?, n.id FROM nodes n "
		    "JOIN fiches f ON f.node_id = n.id WHERE n.plan_id = ? AND n.title "
		    "LIKE ? ESCAPE '\\' ORDER BY n.id LIMIT 1",
		    "IIs", id, plan_id, pattern);
		free(pattern);
		if (rc != DB_OK)
			goto fail;
	}
	json_t *after = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "title", d->title,
	                          "source", d->source, "status", d->status);
	rc = audit_write_id(db, 0, "cli", "create", "need", id, NULL, after);
	json_decref(after);
	if (rc != DB_OK)
		goto fail;
	return 0;
fail:
	*err = xasprintf("besoin de démonstration « %s » : %s", d->title, db_errmsg(db));
	return -1;
}

int demo_needs_load(struct db *db, char **err)
{
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	int64_t plan_id = crestois_plan(db);
	for (size_t i = 0; i < NDEMO; i++) {
		if (load_one(db, plan_id, &demo_needs[i], err)) {
			db_rollback(db);
			return -1;
		}
	}
	if (db_commit(db) != DB_OK) {
		*err = xasprintf("validation impossible : %s", db_errmsg(db));
		return -1;
	}
	return 0;
}
