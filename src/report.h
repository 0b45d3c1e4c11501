/* report: the yearly bilan and the mid-term review of a plan (printable HTML, PDF, XLSX) and
 * the quarterly newsletter (e-mail HTML and plain text), for the web and the command line. */
#ifndef MAILLAGE_REPORT_H
#define MAILLAGE_REPORT_H

#include "buf.h"

#include <stdint.h>

struct db;

enum report_format { REPORT_HTML = 0, REPORT_PDF, REPORT_XLSX };
enum report_letter_format { LETTER_HTML = 0, LETTER_TEXT };

/*
 * The bilan of `year` of a plan (year > 0), or its mid-term review (year == 0), into out
 * (bytes appended): a standalone printable HTML document (its own stylesheet, for files and
 * the PDF renderer), a PDF, or an XLSX workbook. Returns 0; on failure -1 with *err a
 * malloc'ed French message (the plan does not exist, the year is outside the plan's period,
 * the PDF renderer failed or took too long…). Safe to call from server threads.
 */
int report_bilan(struct db *db, int64_t plan_id, int year, enum report_format format,
                 struct buf *out, char **err);

/*
 * The newsletter of a plan between two dates (YYYY-MM-DD, both included) into out: an e-mail
 * HTML document (inline styles, no script, no image) or plain text. 0, or -1 with *err set.
 */
int report_letter(struct db *db, int64_t plan_id, const char *from, const char *to,
                  enum report_letter_format format, struct buf *out, char **err);

/*
 * Render an HTML document to PDF with headless Chromium (see report.c for why), run as a child
 * process without a shell, in a private temporary directory, with a time limit. The HTML must
 * be self-contained: the renderer is given no network. 0, or -1 with *err set (French).
 * The renderer is MAILLAGE_CHROMIUM when set, else /usr/lib/chromium/chromium or
 * /usr/bin/chromium.
 */
int report_pdf_render(const char *html, size_t len, struct buf *pdf, char **err);

/*
 * The command-line entry points (`maillage report bilan`, `maillage report newsletter`): the
 * plan is given by its number; the document is written to out_path. Return a process exit
 * status (0 on success) after printing any error in French on stderr.
 */
int report_cli_bilan(struct db *db, const char *plan, const char *year, const char *format,
                     const char *out_path);
int report_cli_newsletter(struct db *db, const char *plan, const char *from, const char *to,
                          const char *format, const char *out_path);

#endif
