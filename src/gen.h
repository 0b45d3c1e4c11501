/* gen: a synthetic but realistic dataset at national, département or small scale. */
#ifndef MAILLAGE_GEN_H
#define MAILLAGE_GEN_H

#include <stdint.h>

struct db;

enum gen_scale { GEN_SMALL, GEN_DEPARTEMENT, GEN_NATIONAL };

struct gen_opts {
	enum gen_scale scale;
	uint64_t seed;
	/*
	 * Directory of the official geography (communes.json, epci.json, departements.json of the
	 * npm package @etalab/decoupage-administratif, its data/ folder), loaded when the database
	 * has no communes yet. NULL: the Drôme and Ardèche subset embedded in the binary (refused
	 * for the national scale, which needs every commune of France).
	 */
	const char *geo_dir;
	/* 1: a progress bar redrawn on stderr (a terminal); 0: a line on stderr every 10 s;
	 * -1: nothing. */
	int progress;
};

#define GEN_NTABLES 34

struct gen_stats {
	const char *table[GEN_NTABLES]; /* NULL past the last */
	int64_t rows[GEN_NTABLES];      /* rows inserted by the generator into each table */
	int64_t total;                  /* their sum (the geography import not included) */
	long geo_communes;              /* communes loaded from the geography, 0 if already there */
	double seconds;                 /* wall time of the generation (geography included) */
};

/* Parse "national", "departement" (or "département") and "small"; -1 when unknown. */
int gen_scale_parse(const char *s);

/*
 * Fill an empty database (no plan, user or actor yet; migrated) with a reproducible dataset:
 * the same seed and scale give the same rows, ids included, on SQLite and PostgreSQL (only the
 * password hashes differ: Argon2id salts them). Plans are CTG over real EPCIs and
 * schémas over départements, each a tree axes → orientations → objectives → fiches-actions with
 * statuses, progress, pilots, partners, budgets, indicators with targets and monthly
 * measurements; structures (actors) on real communes; needs; governance instances with meetings;
 * the audit entries a real instance would hold for the last quarter (progress reports, measurements
 * entered), with audit_log.plan_id set.
 * Every generated account has the password "maillage-demo" (admin: admin@gen.maillage.fr).
 * Returns 0, or -1 with *err set to a malloc'ed French message (rows already committed stay:
 * the caller tells the user to delete the base).
 */
int gen_run(struct db *db, const struct gen_opts *o, struct gen_stats *stats, char **err);

/* `maillage gen`: open and migrate url, generate, print the rows per table and the speed.
 * scale and seed as typed (NULL: national, 1); returns the exit status. */
int gen_cli(const char *url, const char *scale, const char *seed, const char *geo_dir);

#endif
