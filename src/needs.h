/* needs: the observatory of needs — needs of the territory, their communes, the fiches-actions
 * that answer them, the "besoins non couverts" view, proposals from inhabitants (moderated) and
 * CSV import. */
#ifndef MAILLAGE_NEEDS_H
#define MAILLAGE_NEEDS_H

#include "http.h"

#include <stdint.h>

/* The routes of /besoins, /besoins/… and /public/besoins/proposer (registered in routes.c). */
extern const struct route need_routes[];

/*
 * Append to r->out a section "Besoins auxquels répond cette fiche" listing the published needs
 * linked to the fiche (with links to /besoins/{id}); writes a short sentence when there is none.
 * The caller (the fiche page) has already checked that the request may see the fiche.
 */
void needs_for_fiche_section(struct req *r, int64_t fiche_id);

#endif
