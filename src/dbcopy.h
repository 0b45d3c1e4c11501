/* dbcopy: a whole instance from one database to another (SQLite ⇄ PostgreSQL), verified table by
 * table; backups and restores built on it. */
#ifndef MAILLAGE_DBCOPY_H
#define MAILLAGE_DBCOPY_H

#include <stdint.h>
#include <stdio.h>

struct db;

/* One table of a copy: its rows and checksum on each side. */
struct dbcopy_table {
	char *name;
	int64_t rows_src, rows_dst;
	char sum_src[33], sum_dst[33]; /* hex of the first 16 bytes of the BLAKE2b checksum */
};

struct dbcopy_report {
	struct dbcopy_table *t; /* in copy (foreign-key) order */
	size_t n;
	int64_t rows; /* total rows copied */
	double seconds;
};

void dbcopy_report_free(struct dbcopy_report *rep);
/* The per-table table of counts and checksums, in French, then the verdict. */
void dbcopy_report_print(FILE *f, const struct dbcopy_report *rep);

/*
 * Copy every table of `src` into `dst` (both open; dst migrated by the caller to the same
 * schema version, else refused). The tables are those of the source catalog (the schema
 * migrations and the full-text index, rebuilt by the target's own triggers, excepted), in
 * foreign-key order; rows are read in primary-key order inside one consistent snapshot of the
 * source (REPEATABLE READ on PostgreSQL) and written inside one transaction on the target.
 * A target holding data (users, plans, structures, communes…) is refused unless `force`; the
 * rows the migrations seed (reference lists) are replaced by the source's. PostgreSQL identity
 * sequences are set past the copied ids. Then both sides are checksummed — the canonical text
 * of each row (typed; doubles as %.17g) in primary-key order (bytewise for text), hashed with
 * BLAKE2b — and the target is committed only when every count and checksum agrees.
 * Returns 0, or -1 with *err set (malloc'ed French message) and nothing written.
 * With progress set, one line per table on stderr.
 */
int dbcopy_run(struct db *src, struct db *dst, int force, int progress, struct dbcopy_report *rep,
               char **err);

/*
 * A consistent snapshot of `src` into a new SQLite file `path` (refused if it exists), while
 * the server keeps running: on SQLite `VACUUM INTO` (one read transaction), on PostgreSQL a
 * verified dbcopy_run into the file (one REPEATABLE READ transaction). Written under a temporary
 * name and renamed at the end: the file is complete or absent. rep gets the tables with their
 * rows (and checksums). Returns 0 or -1 with *err set.
 */
int dbcopy_backup(struct db *src, const char *path, int progress, struct dbcopy_report *rep,
                  char **err);

/*
 * Check that `path` is a readable maillage backup (a SQLite file, intact, with the schema
 * migrations table at a version this program knows) and copy it into dst with dbcopy_run.
 * Returns 0 or -1 with *err set; on error dst is unchanged.
 */
int dbcopy_restore(const char *path, struct db *dst, int force, int progress,
                   struct dbcopy_report *rep, char **err);

/* Every table's count and checksum (src side of rep), as dbcopy_run computes them. */
int dbcopy_checksums(struct db *db, struct dbcopy_report *rep, char **err);

/* PostgreSQL: set every identity (or serial) sequence past the largest id of its column.
 * SQLite: nothing. Returns 0 or -1 with *err set. */
int dbcopy_reset_sequences(struct db *db, char **err);

/* The commands `maillage db copy`, `maillage backup` and `maillage restore`: open (the target
 * migrated, the source untouched), run, print the table, return the exit status. */
int dbcopy_cli_copy(const char *from, const char *to, int force);
int dbcopy_cli_backup(const char *url, const char *out);
int dbcopy_cli_restore(const char *url, const char *file, int force);

#endif
