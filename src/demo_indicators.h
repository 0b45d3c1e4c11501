/* demo_indicators: a demonstration référentiel of indicators, attached to the demo fiches with
 * baselines, targets and measurements. */
#ifndef MAILLAGE_DEMO_INDICATORS_H
#define MAILLAGE_DEMO_INDICATORS_H

struct db;

/*
 * Load a référentiel of about twenty plausible shared indicators for CTG and schémas (each
 * definition starts with « Indicateur de démonstration »), then give every fiche that exists
 * (SELECT node_id FROM fiches) one to three of them, chosen from the words of its title and
 * description: a baseline at the fiche's start, yearly targets over the plan's period, and
 * measurements (is_demo = 1, entered_by NULL) every quarter (every half-year for qualitative
 * indicators) from the fiche's start to today, or to its end for closed fiches, following a
 * plausible trend with noise. Half the indicators of fiches "peu" or "non engagées" and a few
 * others stop being measured five to nine months before today, so that "mesures en retard" has
 * something to show.
 * Deterministic for a given database and day (seeded PRNG). Indicators already present (same
 * name) and fiches that already follow an indicator are reused, not duplicated.
 * Indicators and fiche indicators are audited as created from the command line (user 0).
 * Runs in its own transaction, or in the caller's when one is open.
 * Returns 0, or -1 with *err set to a malloc'ed French message (caller frees).
 */
int demo_indicators_load(struct db *db, char **err);

#endif
