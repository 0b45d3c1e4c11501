/* actors: the directory of actors (structures) — kinds, list with filters, one actor, API. */
#ifndef MAILLAGE_ACTORS_H
#define MAILLAGE_ACTORS_H

#include "http.h"

#include <jansson.h>
#include <stdint.h>

/*
 * French label of an actor kind ("caf" → "Caf", "epci" → "Intercommunalité (EPCI)"…), for
 * display and filters. "Autre" for NULL or a kind outside the table. The result is a static
 * string.
 */
const char *actor_kind_label(const char *kind);
/* 1 when kind is one of the kinds of the table (caf, departement, … autre), else 0. */
int actor_kind_valid(const char *kind);

/* 1 when s is a valid SIRET: 14 digits, Luhn checksum (La Poste: see actors.c). */
int siret_valid(const char *s);

struct req;
/* 1 when the account may create and edit actors, contacts and networks: global admin or
 * coordinator. */
int actor_can_edit(const struct req *r);

/* The fields of an actor as typed (form, CSV or JSON), each a malloc'ed string or NULL. The
 * keys (form fields and CSV columns) are actor_input_keys[]. */
enum {
	AI_NAME,
	AI_KIND,
	AI_SIRET,
	AI_ADDRESS,
	AI_COMMUNE,
	AI_LAT,
	AI_LON,
	AI_WEB,
	AI_EMAIL,
	AI_PHONE,
	AI_HOURS,
	AI_DESC,
	AI_THEMES, /* comma-separated slugs or labels of the thematic tags */
	AI_COMPS,  /* comma-separated competences */
	AI_AREA,   /* INSEE codes separated by commas, spaces or lines */
	AI_N
};
struct actor_input {
	char *v[AI_N];
};
extern const char *const actor_input_keys[AI_N];
void actor_input_free(struct actor_input *in);

/* What validation resolved: the commune code, the point, the tag ids, competences and area. */
struct actor_valid {
	char *commune;
	int has_coordinates;
	double latitude, longitude;
	int64_t tags[16];
	int ntags;
	char **comps;
	size_t ncomps;
	char **area;
	size_t narea;
};
void actor_valid_free(struct actor_valid *v);

struct db;
/*
 * Validate in (blank values become NULL, the SIRET loses its spaces) for actor self_id (0: a new
 * one) into v (zeroed here; free with actor_valid_free in every case). NULL when valid, else a
 * malloc'ed French message, with the index (AI_*) of the faulty field in *field.
 */
char *actor_validate(struct db *db, int64_t self_id, struct actor_input *in, struct actor_valid *v,
                     int *field);
/*
 * Insert (*id == 0; *id receives the new id) or update actor *id from a validated input, with its
 * thematics, competences and area, and the audit entry — in the caller's transaction. DB_OK or
 * an error code.
 */
int actor_write(struct db *db, int64_t user_id, const char *origin, const char *source, int64_t *id,
                const struct actor_input *in, const struct actor_valid *v);
/* The actor as JSON (fields, thematics, competences, area) — never contacts; NULL when missing.
 * New reference. */
json_t *actor_json(struct db *db, int64_t id);

/* The "Contacts" section of an actor page (contacts.c): shown only to logged-in accounts. */
void contacts_section(struct req *r, int64_t actor_id);
/* The "Réseaux" section of an actor page (networks.c). */
void actor_networks_section(struct req *r, int64_t actor_id);

/* The routes of the directory: /acteurs, /acteurs/{id}, /api/v1/actors, /api/v1/actors/{id}. */
extern const struct route actor_routes[];

#endif
