/* demo_governance: the COPIL and the COTECH of the demonstration Crestois CTG. */
#ifndef MAILLAGE_DEMO_GOVERNANCE_H
#define MAILLAGE_DEMO_GOVERNANCE_H

struct db;

/*
 * On the Crestois CTG (seed 004: "il se réunit une fois par trimestre", the COTECH "avant
 * chaque Comité de Pilotage"): a COPIL and a COTECH with their members (the demo accounts
 * coordination@, pilote@, partenaire@ and structures of the directory), two past quarterly
 * meetings of each with agenda, attendance, minutes, numbered decisions and follow-ups (some
 * still open, one late), and the next meeting of each, planned. Dates are relative to today so
 * that the next meetings stay ahead. Expects the plans, fiches, actors and users loaded. Runs
 * in its own transaction; each instance and meeting is audited as created from the command
 * line. Returns 0, or -1 with *err set to a malloc'ed French message (caller frees).
 */
int demo_governance_load(struct db *db, char **err);

#endif
