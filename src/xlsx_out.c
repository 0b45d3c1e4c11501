/* xlsx_out.c — XLSX workbooks returned as bytes (see xlsx_out.h). */
#include "xlsx_out.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

int xlsx_out_open(struct xlsx_out *x, const char *file_name, const char *title, char **err)
{
	memset(x, 0, sizeof *x);
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(x->dir, sizeof x->dir, "%s/maillage-xlsx-XXXXXX", base);
	if (!mkdtemp(x->dir)) {
		set_err(err, xasprintf("dossier temporaire impossible : %s", strerror(errno)));
		return -1;
	}
	x->path = xasprintf("%s/%s", x->dir, file_name);
	lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = x->dir};
	x->wb = workbook_new_opt(x->path, &opts);
	if (!x->wb) {
		set_err(err, xstrdup("création du classeur impossible"));
		rmdir(x->dir);
		free(x->path);
		x->path = NULL;
		return -1;
	}
	if (title) {
		/* libxlsxwriter copies the strings; its fields are not const. */
		lxw_doc_properties props = {.title = (char *)title, .author = (char *)"maillage"};
		workbook_set_properties(x->wb, &props);
	}
	return 0;
}

int xlsx_out_close(struct xlsx_out *x, struct buf *out, char **err)
{
	int rc = -1;
	lxw_error e = workbook_close(x->wb);
	x->wb = NULL;
	if (e != LXW_NO_ERROR) {
		set_err(err, xasprintf("écriture du classeur impossible : %s", lxw_strerror(e)));
	} else {
		size_t len;
		char *bytes = file_read_all(x->path, &len);
		if (!bytes) {
			set_err(err, xstrdup("lecture du classeur impossible"));
		} else {
			buf_append(out, bytes, len);
			free(bytes);
			rc = 0;
		}
	}
	unlink(x->path);
	rmdir(x->dir);
	free(x->path);
	x->path = NULL;
	return rc;
}
