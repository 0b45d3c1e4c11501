/* demo_offer: demonstration population by age band and services (EAJE, ALSH, LAEP, France
 * services) for the Drôme and Ardèche demo. */
#ifndef MAILLAGE_DEMO_OFFER_H
#define MAILLAGE_DEMO_OFFER_H

struct db;

/*
 * Needs the communes (the geography) loaded. Writes:
 *  - population_bands for every commune with a known population: the municipal population
 *    shared out by the fixed national-ish shares of DEMO_BAND_SHARES (demo_offer.c), rounded
 *    to whole inhabitants, source « démonstration (dérivée de la population municipale) »;
 *    existing bands of a commune are replaced;
 *  - services (source « démonstration ») in plausible communes of Drôme and Ardèche: about
 *    forty EAJE (crèches, micro-crèches) of 10 to 60 places, a few ALSH, LAEP and France
 *    services. Services whose source is « démonstration » are replaced on each call.
 * Each service is audited as created from the command line (user 0).
 * Runs in its own transaction, or in the caller's when one is open.
 * Returns 0, or -1 with *err set to a malloc'ed French message (caller frees).
 */
int demo_offer_load(struct db *db, char **err);

#endif
