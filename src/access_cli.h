/* access_cli: the 2SFCA accessibility of the communes to a kind of service — the `maillage
 * access` command and the page /territoire/accessibilite. */
#ifndef MAILLAGE_ACCESS_CLI_H
#define MAILLAGE_ACCESS_CLI_H

#include "access.h"

#include <stddef.h>

struct buf;
struct db;

/* The options of `maillage access`, as given (NULL when absent; borrowed). */
struct access_cli_opts {
	const char *service;     /* --service: a service code (EAJE, ALSH…) */
	const char *band;        /* --band: an age band (0-2…) */
	const char *max_minutes; /* --max-minutes */
	const char *decay;       /* --decay (access_decay_parse syntax) */
	const char *detour;      /* --detour */
	const char *speed;       /* --speed (km/h) */
	const char *od;          /* --od: origin–destination CSV (commune;destination;minutes) */
	const char *out;         /* -o: output file ("-" or NULL: standard output; *.xlsx: XLSX) */
};

/*
 * Check the options without touching the database: returns 0 when usable, 2 for a usage error
 * (missing or malformed option: French message on stderr), 1 for an unknown service type or
 * age band (message on stderr).
 */
int access_cli_check(const struct access_cli_opts *o);

/*
 * Run the command on an open database (options already checked): the CSV (French conventions:
 * UTF-8 BOM, ';', decimal comma, CRLF) with one row per commune of the database, columns
 * code;nom;population_tranche;accessibilite_pour_100;offres_accessibles;
 * minutes_offre_la_plus_proche;non_couverte;position_estimee, and a summary on stderr; an
 * XLSX workbook with the same columns when the -o file name ends in ".xlsx".
 * Returns the exit status (0, 1 on a data or I/O error, 2 on a usage error).
 */
int access_cli_run(struct db *db, const struct access_cli_opts *o);

/* One commune of an accessibility table. */
struct access_commune {
	char *code, *name;
	double population; /* of the band; 0 when none is recorded */
	int placed;        /* coordinates placed by rule ("position estimée") */
	int has_point;     /* has coordinates (else left out of the great-circle computation) */
	int computed;      /* took part in the computation (row valid) */
	struct access_row row;
};

/* The table: every commune of the database, by code. Free with access_table_free. */
struct access_table {
	size_t n;
	struct access_commune *communes;
	size_t nsupply;         /* supply points used */
	size_t nsupply_skipped; /* services without a point (great circle) */
	double capacity;        /* Σ S_j used */
};

/*
 * Compute the accessibility of every commune to the services of `kind` for the population of
 * `band`, with `params` (its `od` is ignored). When od_csv is not NULL, it is parsed with
 * access_od_parse_csv (destinations: "s:ID" for a service, or a commune code) and the cost is
 * the matrix. Returns 0, or -1 with *err = malloc'ed French message.
 */
int access_table_compute(struct db *db, const char *kind, const char *band,
                         const struct access_params *params, const char *od_csv, size_t od_len,
                         const char *od_name, struct access_table *out, char **err);
void access_table_free(struct access_table *t);

/* The table as French CSV (columns as for access_cli_run), appended to b. */
void access_table_csv(const struct access_table *t, struct buf *b);

#endif
