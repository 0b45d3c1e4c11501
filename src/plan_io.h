/* plan_io: import a whole plan (CSV, Markdown outline, JSON) all-or-nothing, and export a plan
 * (CSV, XLSX, JSON). The formats are described at the top of plan_io.c and in docs/import.md. */
#ifndef MAILLAGE_PLAN_IO_H
#define MAILLAGE_PLAN_IO_H

#include "buf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;

enum plan_io_format { PLAN_IO_NONE = 0, PLAN_IO_CSV, PLAN_IO_MARKDOWN, PLAN_IO_JSON, PLAN_IO_XLSX };

#define PLAN_IO_MAX_BYTES  (20u << 20) /* larger files are refused before parsing */
#define PLAN_IO_MAX_NODES  100000      /* rows of a CSV, nodes of any format */
#define PLAN_IO_MAX_DEPTH  8           /* levels of a tree */
#define PLAN_IO_MAX_ERRORS 50          /* errors kept; parsing stops after that many */

/* One problem found in a file: where (line and column from 1; 0 when not meaningful) and what,
 * as a complete French sentence that already names the place ("Ligne 4, colonne 2 : …"). */
struct plan_io_error {
	int line, column;
	char *message;
};

/* The problems of one import. Zero-initialise; free with plan_io_errors_free. */
struct plan_io_errors {
	struct plan_io_error *items;
	size_t n;
	int truncated; /* more than PLAN_IO_MAX_ERRORS were found */
};

void plan_io_errors_free(struct plan_io_errors *e);
/* Record an error (message built from fmt, prefixed with the place when line > 0). */
void plan_io_error_add(struct plan_io_errors *e, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* All messages, one a line (malloc'ed, caller frees). */
char *plan_io_errors_text(const struct plan_io_errors *e);

/* A list of owned strings. */
struct plan_io_list {
	char **items;
	size_t n, cap;
};

/* A fiche-action's fields, as given by the file (values already checked and normalised). */
struct plan_doc_fiche {
	char *status;     /* slug (proposee, en_cours…) or NULL for the default */
	char *progress;   /* slug (non_engagee…) or NULL */
	char *start_date; /* YYYY-MM-DD or NULL */
	char *end_date;
	char *expected_results, *human_means, *closing_note; /* Markdown or NULL */
	struct plan_io_list pilots;                          /* structure (or account) names */
	struct plan_io_list partners;                        /* structure names */
	struct plan_io_list publics;                         /* free labels */
	struct plan_io_list communes;                        /* INSEE codes */
	struct plan_io_list impacts;                         /* impact domain slugs or labels */
};

/* One node of the tree. Nodes are kept flat, in document order (a parent before its children). */
struct plan_doc_node {
	char *title, *description;
	struct plan_io_list tags; /* tag slugs or labels, resolved when loading */
	int depth;                /* 0 for the top level */
	size_t parent;            /* index + 1 of the parent node, 0 for a top-level node */
	int64_t position; /* order among siblings (from the file's numbering, or its order) */
	int is_fiche, archived;
	struct plan_doc_fiche fiche;
	int type_given;       /* parsers' use: 0 not said, 1 "nœud", 2 "fiche" */
	int fiche_field_line; /* parsers' use: line of the first fiche field given (or 1) */
	int line;             /* source line (CSV, Markdown), 0 for JSON */
	char *where; /* how to name the node in a message when line is 0 ("tree[0].children[2]") */
	/* filled by the loader */
	int64_t id;
	char *number;
};

struct plan_doc_thread {
	char *kind; /* "fil" or "territoire" */
	char *slug, *label;
};

struct plan_doc_territory {
	char *scope; /* commune, epci, departement */
	char *code;
};

/* A whole plan as read from a file. Zero-initialise; free with plan_doc_free. */
struct plan_doc {
	char *kind, *title, *description;
	int start_year, end_year; /* 0 when not given */
	int is_public;
	struct plan_io_list levels; /* level names, top to bottom */
	struct plan_doc_territory *territory;
	size_t nterritory;
	struct plan_io_list signatories; /* actor names */
	struct plan_doc_thread *threads;
	size_t nthreads;
	struct plan_doc_node *nodes;
	size_t nnodes, capnodes;
	const char *format;  /* "CSV", "Markdown", "JSON" (static) */
	char *encoding_note; /* French note when the file was converted from Windows-1252 */
};

void plan_doc_free(struct plan_doc *d);

/* Metadata given outside the file (command-line or form options); NULL / 0 when not given.
 * A value given here replaces the file's. */
struct plan_io_options {
	const char *title, *kind;
	int start_year, end_year;
};

/* "csv", "md"/"markdown", "json", "xlsx" (case-insensitive) → format; PLAN_IO_NONE otherwise. */
enum plan_io_format plan_io_format_parse(const char *name);
/* The format of an import from its file name's extension, else from its first bytes. */
enum plan_io_format plan_io_format_guess(const char *filename, const char *data, size_t len);

/*
 * Check the size and the encoding of a file and return its text as UTF-8 without BOM
 * (malloc'ed, NUL-terminated, *out_len set), or NULL with the errors recorded. UTF-8 with or
 * without BOM is taken as it is; a file that is not UTF-8 but reads as Windows-1252 (no valid
 * multi-byte UTF-8 sequence, only bytes defined in Windows-1252) is converted, and
 * *encoding_note (malloc'ed) then names the first line holding such a byte; anything else is
 * refused naming the line and column of the first invalid byte.
 */
char *plan_io_decode(const char *data, size_t len, size_t *out_len, char **encoding_note,
                     struct plan_io_errors *errs);

/* Parsers: text is UTF-8 (from plan_io_decode). They fill doc and return 0, or return -1 with
 * errs filled (doc is then partly filled and must still be freed). No database access. */
int plan_io_parse_csv(const char *text, size_t len, struct plan_doc *doc,
                      struct plan_io_errors *errs);
int plan_io_parse_markdown(const char *text, size_t len, struct plan_doc *doc,
                           struct plan_io_errors *errs);
int plan_io_parse_json(const char *text, size_t len, struct plan_doc *doc,
                       struct plan_io_errors *errs);

/*
 * Write the plan of doc to the database in ONE transaction: the plan, its levels, territory,
 * signatories and threads, the nodes with their tags, positions and numbers, the fiches with
 * pilots, partners, publics, communes and impact domains, the importer as coordinator (when
 * user_id is not 0 and not an administrator), and audit entries (origin "web", "api" or "cli").
 * Every name and code is looked up; any problem is recorded in errs and the transaction rolled
 * back (returns -1, nothing stored). With dry_run everything is done and checked, then rolled
 * back. On success returns 0, sets *plan_id (0 for a dry run) and *summary (the caller owns it):
 *   {"dry_run", "title", "kind", "format", "encoding", "nodes", "fiches",
 *    "levels": [{"depth", "name", "count"}], "first_nodes": [{"number", "title", "fiche"}]}
 */
int plan_io_load(struct db *db, struct plan_doc *doc, int dry_run, int64_t user_id,
                 const char *origin, int64_t *plan_id, json_t **summary,
                 struct plan_io_errors *errs);

/* The whole import: size cap, encoding, the parser of `format` (PLAN_IO_NONE: guessed from
 * the content), the options, then plan_io_load. Same results as plan_io_load. */
int plan_io_import(struct db *db, enum plan_io_format format, const char *data, size_t len,
                   const struct plan_io_options *opt, int dry_run, int64_t user_id,
                   const char *origin, int64_t *plan_id, json_t **summary,
                   struct plan_io_errors *errs);

/* The summary as French text, several lines (malloc'ed). */
char *plan_io_summary_text(const json_t *summary);

/* Read a plan back into a document (for the CSV and XLSX exports). 0, or -1 if missing. */
int plan_io_doc_from_db(struct db *db, int64_t plan_id, struct plan_doc *doc);

/* The JSON export: plan_to_json extended with "threads", and for each node "archived",
 * "tag_slugs" and "fiche" (null, or the fiche's fields). NULL when the plan is missing. */
json_t *plan_io_export_json(struct db *db, int64_t plan_id);

/* Export into out (bytes appended) in a format: CSV (UTF-8 with BOM, ';', CRLF), XLSX or JSON.
 * 0 on success; -1 with a malloc'ed French message in *err. */
int plan_io_export(struct db *db, int64_t plan_id, enum plan_io_format format, struct buf *out,
                   char **err);

/* An ASCII file name from the plan's title ("projet-social-2025-2028.csv"), malloc'ed. */
char *plan_io_filename(struct db *db, int64_t plan_id, const char *extension);

#endif
