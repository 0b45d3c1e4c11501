/* actors: the directory of actors (structures) — kinds, list with filters, one actor, API. */
#ifndef MAILLAGE_ACTORS_H
#define MAILLAGE_ACTORS_H

#include "http.h"

/*
 * French label of an actor kind ("caf" → "Caf", "epci" → "Intercommunalité (EPCI)"…), for
 * display and filters. "Autre" for NULL or a kind outside the table. The result is a static
 * string.
 */
const char *actor_kind_label(const char *kind);
/* 1 when kind is one of the kinds of the table (caf, departement, … autre), else 0. */
int actor_kind_valid(const char *kind);

/* The routes of the directory: /acteurs, /acteurs/{id}, /api/v1/actors, /api/v1/actors/{id}. */
extern const struct route actor_routes[];

#endif
