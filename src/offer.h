/* offer: services and their capacities, population by age band, coverage rates. */
#ifndef MAILLAGE_OFFER_H
#define MAILLAGE_OFFER_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct db;

/* The age bands of population_bands, youngest first. */
#define OFFER_NBANDS 8
extern const char *const OFFER_BANDS[OFFER_NBANDS];

/* 1 when `band` is one of OFFER_BANDS (exactly: "0-2", "75+"…). */
int offer_band_valid(const char *band);

/* 1 when `kind` is a known service code (EAJE, MAM, ALSH, LAEP, RPE, FRANCE_SERVICES,
 * POINT_NUMERIQUE, CENTRE_SOCIAL, EVS, AUTRE). */
int offer_kind_valid(const char *kind);
/* French label of a service code ("Établissement d'accueil du jeune enfant (EAJE)"…); the code
 * itself when unknown. Static string. */
const char *offer_kind_label(const char *kind);

/*
 * The threshold below which a commune is listed by the coverage page, in places per 100
 * inhabitants of the band: 10 places per 100 children by default, a low rate for EAJE (the
 * national EAJE rate is about 20 per 100 children under 3; the Caf "taux de couverture global"
 * with childminders is about 60).
 */
#define OFFER_DEFAULT_THRESHOLD 10.0

/*
 * Coverage of a territory: *places = the capacities of the services of kind `service_kind` in
 * its communes, *population = the population of `band` in its communes; the rate is
 * 100 · places / population (undefined when population is 0). `scope` is "commune", "epci",
 * "departement" (with the INSEE code / SIREN in `code`), "plan" (the communes of the plan's
 * territory, its id in decimal in `code`) or "france" (every commune; code ignored).
 * Returns 0, or -1 for an unknown kind, band or scope, or a database error.
 */
int coverage_rate(struct db *db, const char *service_kind, const char *band, const char *scope,
                  const char *code, double *places, double *population);

/*
 * Import population by commune and age band from CSV with French conventions: separator ';'
 * (',' accepted when the header uses it), optional UTF-8 BOM, optional header line
 * (commune;tranche;population[;annee;source]), fields optionally in double quotes, decimal comma
 * or point. Columns: INSEE code of a commune of the database; band exactly one of OFFER_BANDS;
 * population >= 0; year (optional, 1900–2100); source (optional, 200 characters at most;
 * default « import CSV »). A (commune, band) given twice is refused.
 * All or nothing: on success, rows are inserted or replaced, one audit entry is written (entity
 * "population_bands", by `user_id`, origin `origin`), *rows is the count and 0 returned; on the
 * first error, -1 with *err = malloc'ed French message "Ligne L, colonne C : …" and nothing
 * stored.
 */
int offer_population_import(struct db *db, const char *data, size_t len, int64_t user_id,
                            const char *origin, long *rows, char **err);

/* The <select> fields "service" (every service code with its label) and "tranche" (the bands)
 * of a filter form, with `current` selected. */
struct req;
void offer_select_service(struct req *r, const char *current);
void offer_select_band(struct req *r, const char *current);

/* A number for display with a decimal comma and a narrow no-break space between thousands. */
void offer_fr_number(struct buf *b, double v, int decimals);

#endif
