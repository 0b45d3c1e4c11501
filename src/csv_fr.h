/* csv_fr.h — CSV files as French spreadsheets expect them: the one writer and the one reader
 * of the program.
 *
 * Every CSV the program produces goes through these functions, so that all of them share the
 * same conventions:
 *   - UTF-8 with a byte-order mark (Excel otherwise reads the file as Windows-1252);
 *   - ';' between cells (',' is the French decimal separator) and CRLF at the end of a row;
 *   - a cell is quoted when it holds ';', '"', CR or LF, or starts or ends with a space; a
 *     quote inside a quoted cell is doubled;
 *   - numbers with a decimal comma;
 *   - text that comes from users is guarded against formula injection: a cell starting with
 *     = + - @ TAB or CR (or with an apostrophe followed by such a cell) gets a leading
 *     apostrophe, so that a spreadsheet shows it as text and never runs it. csv_fr_unguard()
 *     removes exactly that apostrophe, which lets an importer read back byte for byte what an
 *     export wrote (the plan export relies on it).
 *
 * The file is named csv_fr.h, not csv.h: src/ comes first on the include path and <csv.h> is
 * libcsv's header. The functions are prefixed csv_out_ so as not to clash with libcsv's csv_.
 *
 * Usage:
 *     struct csv_out w;
 *     csv_out_begin(&w, &r->out);              // BOM
 *     csv_out_header(&w, HEAD, NHEAD);         // one row of column names
 *     csv_out_text(&w, title);                 // user text: quoted as needed, guarded
 *     csv_out_value(&w, code);                 // program-made value: quoted as needed only
 *     csv_out_number(&w, rate, 2);             // 12,50 ; NaN gives an empty cell
 *     csv_out_row_end(&w);                     // CRLF
 * The writer only borrows the buffer; it allocates nothing of its own.
 */
#ifndef MAILLAGE_CSV_FR_H
#define MAILLAGE_CSV_FR_H

#include "buf.h"

#include <stddef.h>

/* A writer appending to a buffer it borrows; `col` counts the cells of the current row (a ';'
 * goes before every cell but the first). */
struct csv_out {
	struct buf *out;
	size_t col;
};

/* Start writing into `out` (appended to, not reset) with the UTF-8 byte-order mark. */
void csv_out_begin(struct csv_out *w, struct buf *out);

/* Attach to `out` without writing a BOM (for a buffer that already has one). */
void csv_out_attach(struct csv_out *w, struct buf *out);

/* A text cell from users: formula guard, then quoted as needed. NULL is an empty cell. */
void csv_out_text(struct csv_out *w, const char *s);

/* A cell the program made itself (a code, an id, a label of ours, a number already
 * formatted): quoted as needed, no formula guard (so that "-3" stays a number). NULL is empty. */
void csv_out_value(struct csv_out *w, const char *s);

/* A number with exactly `decimals` decimals and a decimal comma ("12,50"); NaN is an empty
 * cell. */
void csv_out_number(struct csv_out *w, double v, int decimals);

/* A number with at most `decimals` decimals, trailing zeros and a bare comma removed, "-0"
 * written "0" ("12,5", "3"); NaN is an empty cell. */
void csv_out_decimal(struct csv_out *w, double v, int decimals);

/* An integer cell. */
void csv_out_int(struct csv_out *w, long long v);

/* An empty cell. */
void csv_out_empty(struct csv_out *w);

/* End the current row (CRLF). */
void csv_out_row_end(struct csv_out *w);

/* A whole row of `n` text cells (column names), ended. */
void csv_out_header(struct csv_out *w, const char *const *names, size_t n);

/* Whether `s` needs the formula guard: it starts with = + - @ TAB or CR, or with an
 * apostrophe followed by text that needs the guard. */
int csv_fr_needs_guard(const char *s);

/* The cell text without the guard apostrophe csv_out_text() may have added: `s` itself, or
 * s + 1 when s is an apostrophe followed by text that needs the guard. Borrowed from `s`. */
const char *csv_fr_unguard(const char *s);

/* ---- reader --------------------------------------------------------------------------------
 *
 * One CSV reader for every import, built on libcsv (the project's CSV dependency) in strict
 * mode: libcsv does the quoting rules, this layer adds what libcsv does not say — the line and
 * column (in characters, 1-based) where each field starts and where an error is, which every
 * import needs for its French error messages. To know them it feeds libcsv one byte at a time
 * (libcsv reports a field only once it is complete, not where it began): 8 MB read in about
 * 65 ms (-O2), and imports are capped at a few megabytes.
 *
 * What it reads: an optional UTF-8 byte-order mark (skipped); ';' ',' or TAB between cells
 * (given, or guessed from the first non-blank line: ';' if it holds one, else TAB, else ',',
 * else ';'); LF or CRLF line ends; fields in double quotes may hold the separator, line breaks
 * and "" for a quote; spaces around a field are dropped unless quoted (with TAB as separator
 * only spaces are). Blank lines give no record. A quote misplaced (text after a closing quote,
 * a quote inside an unquoted field) or a quote never closed is an error with its position.
 * Fields come as written: an importer that reads back one of our exports applies
 * csv_fr_unguard() itself (plan_io, the indicator template).
 *
 *     struct csv_in in;
 *     csv_in_open(&in, text, len, 0);
 *     int rc;
 *     while ((rc = csv_in_next(&in)) > 0)
 *             use(in.field[0], in.line, in.column[0]);
 *     if (rc < 0)
 *             report(in.err_line, in.err_column, csv_in_strerror(&in));
 *     csv_in_close(&in);
 */

enum csv_in_error {
	CSV_IN_OK,
	CSV_IN_QUOTE_MISPLACED, /* text after a closing quote, or a quote inside a field */
	CSV_IN_QUOTE_OPEN,      /* a quoted field never closed before the end of the file */
	CSV_IN_MEMORY,
};

struct csv_in {
	/* The current record (valid until the next csv_in_next or csv_in_close). */
	char **field;    /* n NUL-terminated fields, owned by the reader */
	int *field_line; /* line where each field starts */
	int *column;     /* column (characters, 1-based) where each field starts */
	size_t n;
	int line; /* line of the record's first field */
	/* After csv_in_next returned -1. */
	enum csv_in_error error;
	/* Where: the misplaced quote, or the opening quote never closed (line, column in
	 * characters), and the 1-based index of that field within its record. */
	int err_line, err_column, err_field;
	char delim; /* the separator used */
	/* private */
	void *parser;
	const char *pos, *end;
	int cur_line, cur_column; /* position of the byte at pos */
	size_t cap;
	int row_done, field_open, fini; /* field_open: the current field has started */
	int next_line, next_column;     /* where the next field starts */
};

/* Start reading `text` (borrowed, must outlive the reader). `delim` is ';' ',' or '\t', or 0
 * to guess. Returns 0, or -1 (out of memory, in->error set). Always call csv_in_close. */
int csv_in_open(struct csv_in *in, const char *text, size_t len, char delim);

/* Read the next record: 1 (in->field etc. filled), 0 at the end, -1 on an error (in->error,
 * in->err_line, in->err_column; reading stops there). */
int csv_in_next(struct csv_in *in);

/* A French sentence for in->error, without position ("guillemet mal placé…"). */
const char *csv_in_strerror(const struct csv_in *in);

/* Free everything the reader holds. */
void csv_in_close(struct csv_in *in);

/* The separator of `text` as csv_in_open guesses it. */
char csv_in_guess_delim(const char *text, size_t len);

#endif
