/* spiral: SPIRAL participation (Council of Europe, "Societal Progress Indicators for the
 * Responsibility of All") — workshops of a plan, criteria typed fast one per line, their
 * classification into the SPIRAL key (dimensions and components: data, not code, editable by an
 * administrator), aggregation (top criteria per question, territory, group type), links from
 * components to the plan's orientations, CSV/XLSX exports and the JSON API. */
#ifndef MAILLAGE_SPIRAL_H
#define MAILLAGE_SPIRAL_H

#include "buf.h"
#include "http.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;

extern const struct route spiral_routes[];

#define SPIRAL_TEXT_MAX  300   /* characters of one criterion */
#define SPIRAL_LINES_MAX 500   /* criteria in one entry */
#define SPIRAL_ENTRY_MAX 65536 /* bytes of one entry (the whole textarea) */
#define SPIRAL_KEY_FILE  "data/spiral/spiral_key.csv"

enum spiral_question { SPQ_NONE = -1, SPQ_BIEN_ETRE = 0, SPQ_MAL_ETRE = 1, SPQ_CAPACITES = 2 };

/* "bien_etre", "mal_etre", "capacites" (static), or NULL for anything else. */
const char *spiral_question_code(int q);
/* The question of a code, SPQ_NONE when unknown. */
int spiral_question_parse(const char *code);

/* One criterion as typed. */
struct spiral_line {
	int question; /* enum spiral_question */
	int approved; /* 1 when the group approved it ("*") */
	char *text;   /* trimmed, malloc'ed */
	int line;     /* source line, from 1 */
};

struct spiral_entry {
	struct spiral_line *items;
	size_t n;
};

void spiral_entry_free(struct spiral_entry *e);

/*
 * Parse the fast-entry text: one criterion per line. A line may start with markers: "+" bien-être,
 * "-" mal-être, "=" capacités, "*" approved by the group (in either order, e.g. "+*" or "*-");
 * a line without a question marker takes the current section's question; a line "# bien-être",
 * "# mal-être" or "# capacités" starts a section (the first section is `default_q`). Blank
 * lines are skipped. Refused as a whole (returns -1, *err a malloc'ed French message naming the
 * lines) when the text exceeds SPIRAL_ENTRY_MAX bytes, holds more than SPIRAL_LINES_MAX
 * criteria, an empty criterion, an unknown section or a criterion over SPIRAL_TEXT_MAX
 * characters. On success fills *out (caller frees with spiral_entry_free) and returns 0 (an
 * input without any criterion is an error too).
 */
int spiral_entry_parse(const char *text, int default_q, struct spiral_entry *out, char **err);

/* The normalised key of a criterion: text_fold(), punctuation and quotes trimmed at both ends.
 * Malloc'ed, never NULL. */
char *spiral_text_key(const char *text);

/* The loaded key for suggestions. */
struct spiral_taxo_item {
	int64_t id;
	char *code;
	char **keywords; /* folded */
	size_t nkeywords;
};
struct spiral_taxo {
	struct spiral_taxo_item *items;
	size_t n;
};
int spiral_taxo_load(struct db *db, struct spiral_taxo *t);
void spiral_taxo_free(struct spiral_taxo *t);
/* The component suggested for a criterion: the one whose keywords matching at the start of a
 * word of the folded text have the greatest total length; ties go to the first in key order.
 * 0 when no keyword matches. */
int64_t spiral_taxo_suggest(const struct spiral_taxo *t, const char *text);

/* Load the embedded key when the database has no dimension yet. 0 or -1 (*err malloc'ed). */
int spiral_taxonomy_ensure(struct db *db, char **err);

/*
 * Load a SPIRAL key from CSV (the format of data/spiral/spiral_key.csv: header
 * dimension;libelle_dimension;composante;libelle;description;mots_cles, lines starting with "#"
 * ignored, ';' separator, optional BOM, quoted fields). All or nothing: dimensions and
 * components are inserted or updated by code (components not in the file are kept). On error
 * returns -1 with *err = "Ligne L, colonne C : …" (malloc'ed) and nothing changed. Runs its own
 * transaction and writes one audit entry.
 */
int spiral_taxonomy_import(struct db *db, const char *csv, size_t len, int64_t user_id,
                           const char *origin, int *ncomponents, char **err);

/*
 * Store the criteria of an entry in a workshop, with the suggested component of each, in the
 * caller's transaction, and write one audit entry. is_demo marks demo rows. DB_OK or an error.
 */
int spiral_criteria_add(struct db *db, int64_t workshop_id, const struct spiral_entry *e,
                        int64_t user_id, const char *origin, int is_demo);

/* Filters of the aggregation: NULL or "" for all. */
struct spiral_filter {
	const char *territory;  /* a commune or EPCI code (an EPCI also takes its communes) */
	const char *group_type; /* one of the group types */
	int approved_only;      /* only the criteria retained by their group ("*") */
};

/*
 * The most cited criteria of a plan for a question: criteria grouped by their normalised key,
 * ranked by count (descending), ties by key (ascending); the text shown is the most frequent
 * spelling of each group in the plan (ties: the first typed). At most `limit` entries. JSON array
 * of {"key", "text", "count"}, new reference, or NULL on a database error.
 */
json_t *spiral_top_texts(struct db *db, int64_t plan_id, int question,
                         const struct spiral_filter *f, int limit);
/* The components of a plan's classified criteria for a question, ranked by count (descending),
 * ties by component code: JSON array of {"code", "label", "dimension", "count"}. */
json_t *spiral_top_components(struct db *db, int64_t plan_id, int question,
                              const struct spiral_filter *f, int limit);

/*
 * The export of a plan's SPIRAL workshops and criteria appended to out: "csv" (French
 * conventions: BOM, ';', CRLF, formula injection neutralised), "xlsx" (sheets « Critères » and
 * « Synthèse ») or "json" (workshops with their criteria, and the aggregation). 0, or -1 with *err
 * a malloc'ed French message (unknown plan or format, write failure).
 */
int spiral_export(struct db *db, int64_t plan_id, const char *format, struct buf *out, char **err);

/* `maillage export spiral PLAN [--format csv|xlsx|json] [-o FILE]`: the format defaults to the
 * extension of FILE, else CSV; XLSX is refused on a terminal. Messages in French on stderr;
 * returns the exit code (0, 1 failure, 2 usage). */
int spiral_cli_export(struct db *db, const char *plan, const char *format, const char *out);

#endif
