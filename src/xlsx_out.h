/* xlsx_out.h — an XLSX workbook built in a private temporary directory and returned as bytes.
 *
 * libxlsxwriter writes to a file; the exports want the bytes in a buffer (an HTTP answer, or a
 * file the CLI names). xlsx_out_open makes a private directory (mkdtemp, mode 0700) under
 * $TMPDIR or /tmp, and a workbook in it in constant-memory mode; the caller fills x.wb; then
 * xlsx_out_close closes the workbook, appends its bytes to a buffer and removes the directory.
 *
 *     struct xlsx_out x;
 *     if (xlsx_out_open(&x, "plan.xlsx", title, err))
 *             return -1;
 *     lxw_worksheet *ws = workbook_add_worksheet(x.wb, "Plan");
 *     ...
 *     return xlsx_out_close(&x, out, err);
 */
#ifndef MAILLAGE_XLSX_OUT_H
#define MAILLAGE_XLSX_OUT_H

#include "buf.h"

#include <xlsxwriter.h>

struct xlsx_out {
	lxw_workbook *wb; /* the workbook to fill; owned until xlsx_out_close */
	char dir[512];
	char *path;
};

/* Create the directory and the workbook `file_name` in it, with the document title `title`
 * (may be NULL) and author "maillage". 0, or -1 with *err (French, malloc'ed) and nothing
 * left behind. */
int xlsx_out_open(struct xlsx_out *x, const char *file_name, const char *title, char **err);

/* Close the workbook, append its bytes to `out`, remove the file and the directory. Always
 * releases everything; 0, or -1 with *err (French, malloc'ed; err may be NULL). */
int xlsx_out_close(struct xlsx_out *x, struct buf *out, char **err);

#endif
