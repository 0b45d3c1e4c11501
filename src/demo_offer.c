/* demo_offer: demonstration population by age band and services for the Drôme–Ardèche demo. */
#include "demo_offer.h"

#include "audit.h"
#include "db.h"
#include "offer.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The shares of the municipal population given to each age band in the demo: rounded national
 * figures (INSEE, population by age, France, early 2020s). They sum to 100 %. Every commune
 * gets the same shares: the demo shows the method, not the local age pyramid.
 */
static const double DEMO_BAND_SHARES[OFFER_NBANDS] = {
    3.0,  /* 0-2 */
    3.3,  /* 3-5 */
    7.2,  /* 6-11 */
    7.4,  /* 12-17 */
    8.0,  /* 18-24 */
    44.1, /* 25-59 */
    17.6, /* 60-74 */
    9.4,  /* 75+ */
};

#define DEMO_BAND_SOURCE    "démonstration (dérivée de la population municipale)"
#define DEMO_SERVICE_SOURCE "démonstration"

struct demo_service {
	const char *commune;
	const char *kind;
	const char *name;
	double capacity;
	int days;
	const char *hours;
	int atypical;
	int age_min, age_max; /* -1: none */
	const char *publics;
};

static const struct demo_service SERVICES[] = {
    /* EAJE: crèches and micro-crèches (places). */
    {"26108", "EAJE", "Multi-accueil Les Petits Pas (Crest)", 40, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     "Enfants de 10 semaines à 3 ans"},
    {"26108", "EAJE", "Crèche familiale du Crestois", 24, 225, "7 h – 19 h", 1, 0, 3,
     "Enfants de moins de 3 ans"},
    {"26011", "EAJE", "Micro-crèche Les Galopins (Aouste-sur-Sye)", 10, 225, "7 h 30 – 18 h 30", 0,
     0, 3, ""},
    {"26289", "EAJE", "Micro-crèche Les Pitchouns (Saillans)", 12, 220, "8 h – 18 h", 0, 0, 3, ""},
    {"26362", "EAJE", "Multi-accueil Fontbarlettes (Valence)", 60, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26362", "EAJE", "Crèche Latour-Maubourg (Valence)", 55, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26362", "EAJE", "Crèche hospitalière (Valence)", 45, 250, "6 h 30 – 21 h 30", 1, 0, 3,
     "Enfants des personnels et du quartier"},
    {"26362", "EAJE", "Multi-accueil Le Plan (Valence)", 40, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26198", "EAJE", "Multi-accueil Les Alexis (Montélimar)", 50, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26198", "EAJE", "Crèche Pracomtal (Montélimar)", 40, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26281", "EAJE", "Multi-accueil La Monnaie (Romans-sur-Isère)", 50, 225, "7 h 30 – 18 h 30", 0,
     0, 3, ""},
    {"26281", "EAJE", "Crèche Les Ors (Romans-sur-Isère)", 35, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26058", "EAJE", "Multi-accueil (Bourg-lès-Valence)", 40, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26235", "EAJE", "Crèche du Tricastin (Pierrelatte)", 45, 225, "6 h 30 – 19 h", 1, 0, 3, ""},
    {"26252", "EAJE", "Multi-accueil (Portes-lès-Valence)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26057", "EAJE", "Crèche (Bourg-de-Péage)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26165", "EAJE", "Multi-accueil (Livron-sur-Drôme)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26324", "EAJE", "Crèche (Saint-Paul-Trois-Châteaux)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26064", "EAJE", "Micro-crèche (Chabeuil)", 12, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26220", "EAJE", "Multi-accueil (Nyons)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26166", "EAJE", "Multi-accueil (Loriol-sur-Drôme)", 24, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26113", "EAJE", "Multi-accueil Les Marmousets (Die)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"26114", "EAJE", "Multi-accueil (Dieulefit)", 20, 225, "8 h – 18 h", 0, 0, 3, ""},
    {"26063", "EAJE", "Micro-crèche (Buis-les-Baronnies)", 10, 220, "8 h – 18 h", 0, 0, 3, ""},
    {"26307", "EAJE", "Micro-crèche (Saint-Jean-en-Royans)", 12, 220, "8 h – 18 h", 0, 0, 3, ""},
    {"26124", "EAJE", "Multi-accueil (Étoile-sur-Rhône)", 20, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26347", "EAJE", "Crèche (Tain-l'Hermitage)", 25, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"26333", "EAJE", "Multi-accueil (Saint-Vallier)", 20, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07010", "EAJE", "Multi-accueil (Annonay)", 50, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07010", "EAJE", "Crèche familiale (Annonay)", 25, 225, "7 h – 19 h", 1, 0, 3, ""},
    {"07019", "EAJE", "Multi-accueil (Aubenas)", 45, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07019", "EAJE", "Micro-crèche (Aubenas)", 10, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07324", "EAJE", "Multi-accueil (Tournon-sur-Rhône)", 35, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"07102", "EAJE", "Crèche (Guilherand-Granges)", 35, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07319", "EAJE", "Multi-accueil (Le Teil)", 25, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07186", "EAJE", "Multi-accueil (Privas)", 40, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07042", "EAJE", "Crèche (Bourg-Saint-Andéol)", 24, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07281", "EAJE", "Multi-accueil (Saint-Péray)", 30, 225, "7 h 30 – 18 h 30", 0, 0, 3, ""},
    {"07349", "EAJE", "Micro-crèche (La Voulte-sur-Rhône)", 12, 225, "7 h 30 – 18 h 30", 0, 0, 3,
     ""},
    {"07132", "EAJE", "Micro-crèche (Largentière)", 10, 220, "8 h – 18 h", 0, 0, 3, ""},
    {"07334", "EAJE", "Micro-crèche (Les Vans)", 10, 220, "8 h – 18 h", 0, 0, 3, ""},
    {"07129", "EAJE", "Micro-crèche (Lamastre)", 10, 220, "8 h – 18 h", 0, 0, 3, ""},
    /* ALSH (places), LAEP, France services. */
    {"26108", "ALSH", "Accueil de loisirs du Crestois", 80, 60, "8 h – 18 h", 0, 3, 11,
     "Enfants de 3 à 11 ans"},
    {"26289", "ALSH", "Accueil de loisirs de Saillans", 30, 50, "8 h 30 – 17 h 30", 0, 3, 11, ""},
    {"26113", "ALSH", "Accueil de loisirs du Diois", 50, 60, "8 h – 18 h", 0, 3, 11, ""},
    {"07186", "ALSH", "Accueil de loisirs de Privas", 60, 60, "8 h – 18 h", 0, 3, 11, ""},
    {"26108", "LAEP", "Lieu d'accueil enfants-parents La Ribambelle (Crest)", 12, 45,
     "mardi et vendredi matin", 0, 0, 6, "Enfants de moins de 6 ans et leurs parents"},
    {"07019", "LAEP", "Lieu d'accueil enfants-parents (Aubenas)", 12, 45, "lundi et jeudi matin", 0,
     0, 6, ""},
    {"26108", "FRANCE_SERVICES", "France services du Crestois", 1, 250,
     "9 h – 12 h, 13 h 30 – 17 h", 0, -1, -1, "Tous publics"},
    {"26113", "FRANCE_SERVICES", "France services du Diois", 1, 250, "9 h – 12 h, 13 h 30 – 17 h",
     0, -1, -1, "Tous publics"},
    {"07186", "FRANCE_SERVICES", "France services de Privas", 1, 250, "9 h – 12 h, 13 h 30 – 17 h",
     0, -1, -1, "Tous publics"},
    {"07334", "FRANCE_SERVICES", "France services des Vans", 1, 200, "9 h – 12 h", 0, -1, -1,
     "Tous publics"},
};

static int load_bands(struct db *db)
{
	struct db_stmt *sel = db_queryf(db,
	                                "SELECT code, population FROM communes "
	                                "WHERE population IS NOT NULL ORDER BY code",
	                                "");
	struct db_stmt *ins = db_prepare(db, "INSERT INTO population_bands (commune, band, "
	                                     "population, year, source) VALUES (?, ?, ?, NULL, ?) "
	                                     "ON CONFLICT (commune, band) DO UPDATE SET "
	                                     "population = excluded.population, "
	                                     "year = excluded.year, source = excluded.source");
	int rc = sel && ins ? 0 : -1;
	while (rc == 0 && db_step(sel) == DB_ROW) {
		const char *code = db_col_text(sel, 0);
		double pop = (double)db_col_int64(sel, 1);
		for (int b = 0; b < OFFER_NBANDS && rc == 0; b++) {
			db_reset(ins);
			db_bindf(ins, "ssds", code, OFFER_BANDS[b],
			         floor(pop * DEMO_BAND_SHARES[b] / 100.0 + 0.5), DEMO_BAND_SOURCE);
			if (db_step(ins) != DB_DONE)
				rc = -1;
		}
	}
	db_finalize(sel);
	db_finalize(ins);
	return rc;
}

/* The directory kind of a demo service's structure. */
static const char *service_actor_kind(const char *kind)
{
	static const char *const map[][2] = {
	    {"EAJE", "eaje"}, {"ALSH", "alsh"},
	    {"LAEP", "laep"}, {"FRANCE_SERVICES", "france_services"},
	    {"MAM", "mam"},   {"RPE", "rpe"}};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (!strcmp(map[i][0], kind))
			return map[i][1];
	return "autre";
}

/*
 * Each demo service belongs to a structure of the directory (data·inclusion needs one): a demo
 * actor of the same name in the same commune, created here and marked with the same source.
 * Returns its id, 0 on error.
 */
static int64_t service_actor(struct db *db, const struct demo_service *s, const char *now)
{
	char *folded = text_fold(s->name);
	int64_t id = 0;
	int rc = db_int64f(db, &id,
	                   "INSERT INTO actors (name, kind, commune, latitude, longitude, "
	                   "description, source, search_name, created_at, updated_at) "
	                   "SELECT ?, ?, c.code, c.latitude, c.longitude, ?, ?, ?, ?, ? "
	                   "FROM communes c WHERE c.code = ? RETURNING id",
	                   "ssssssss", s->name, service_actor_kind(s->kind),
	                   "Structure de démonstration : son offre de service (capacité, horaires) "
	                   "est inventée pour illustrer la couverture et l'accessibilité.",
	                   DEMO_SERVICE_SOURCE, folded, now, now, s->commune);
	free(folded);
	return rc == DB_OK ? id : 0;
}

static int load_services(struct db *db)
{
	/* Replacing the demo offer: its structures go, and their services with them. */
	if (db_execf(db, "DELETE FROM services WHERE source = ?", "s", DEMO_SERVICE_SOURCE) !=
	        DB_OK ||
	    db_execf(db, "DELETE FROM actors WHERE source = ?", "s", DEMO_SERVICE_SOURCE) != DB_OK)
		return -1;
	char now[32];
	time_iso_now(now);
	for (size_t i = 0; i < sizeof SERVICES / sizeof *SERVICES; i++) {
		const struct demo_service *s = &SERVICES[i];
		int64_t exists = 0;
		if (db_int64f(db, &exists, "SELECT COUNT(*) FROM communes WHERE code = ?", "s",
		              s->commune) != DB_OK)
			return -1;
		if (!exists)
			continue; /* a geography without this commune */
		int64_t actor = service_actor(db, s, now);
		if (!actor)
			return -1;
		struct db_stmt *st = db_prepare(
		    db,
		    "INSERT INTO services (actor_id, kind, name, commune, capacity, opening_days, "
		    "hours, atypical_hours, age_min, age_max, publics, source, created_at, "
		    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "RETURNING id");
		if (!st)
			return -1;
		db_bindf(st, "IsssdisI", actor, s->kind, s->name, s->commune, s->capacity, s->days,
		         s->hours, (int64_t)s->atypical);
		if (s->age_min >= 0) {
			db_bind_int64(st, 9, s->age_min);
			db_bind_int64(st, 10, s->age_max);
		} else {
			db_bind_null(st, 9);
			db_bind_null(st, 10);
		}
		db_bind_text(st, 11, s->publics);
		db_bind_text(st, 12, DEMO_SERVICE_SOURCE);
		db_bind_text(st, 13, now);
		db_bind_text(st, 14, now);
		int64_t id = db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
		db_finalize(st);
		if (!id)
			return -1;
		json_t *after = json_pack("{s:s, s:s, s:s, s:f, s:s}", "kind", s->kind, "name",
		                          s->name, "commune", s->commune, "capacity", s->capacity,
		                          "source", DEMO_SERVICE_SOURCE);
		int arc = audit_write_id(db, 0, "cli", "create", "service", id, NULL, after);
		json_decref(after);
		if (arc != DB_OK)
			return -1;
	}
	return 0;
}

int demo_offer_load(struct db *db, char **err)
{
	*err = NULL;
	int own = db_begin(db) == DB_OK;
	int rc = load_bands(db);
	if (rc == 0)
		rc = load_services(db);
	if (rc) {
		*err = xasprintf("offre de démonstration : %s", db_errmsg(db));
		if (own)
			db_rollback(db);
		return -1;
	}
	if (own && db_commit(db) != DB_OK) {
		*err = xasprintf("offre de démonstration : %s", db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	return 0;
}
