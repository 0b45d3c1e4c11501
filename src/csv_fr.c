/* csv_fr.c — the French CSV writer and reader (see csv_fr.h for the conventions). */
#include "csv_fr.h"

#include "util.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void csv_out_attach(struct csv_out *w, struct buf *out)
{
	w->out = out;
	w->col = 0;
}

void csv_out_begin(struct csv_out *w, struct buf *out)
{
	csv_out_attach(w, out);
	buf_puts(out, "\xEF\xBB\xBF");
}

/* The separator before every cell but the first of a row. */
static void cell_start(struct csv_out *w)
{
	if (w->col++)
		buf_putc(w->out, ';');
}

int csv_fr_needs_guard(const char *s)
{
	while (*s == '\'')
		s++;
	return *s && strchr("=+-@\t\r", *s) != NULL;
}

const char *csv_fr_unguard(const char *s)
{
	return s[0] == '\'' && csv_fr_needs_guard(s + 1) ? s + 1 : s;
}

/* Append `s` (prefixed by an apostrophe when `guard`), quoted when needed. */
static void put_cell(struct csv_out *w, const char *s, int guard)
{
	cell_start(w);
	s = s ? s : "";
	size_t n = strlen(s);
	int quote = strpbrk(s, ";\"\r\n") != NULL || (n && (s[0] == ' ' || s[n - 1] == ' '));
	if (quote)
		buf_putc(w->out, '"');
	if (guard)
		buf_putc(w->out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(w->out, '"');
		buf_putc(w->out, *s);
	}
	if (quote)
		buf_putc(w->out, '"');
}

void csv_out_text(struct csv_out *w, const char *s)
{
	put_cell(w, s, s && csv_fr_needs_guard(s));
}

void csv_out_value(struct csv_out *w, const char *s)
{
	put_cell(w, s, 0);
}

/* A number cell with a decimal comma; `trim`: trailing zeros, a bare comma and "-0" removed. */
static void put_number(struct csv_out *w, double v, int decimals, int trim)
{
	cell_start(w);
	if (isnan(v))
		return;
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
	char *dot = strchr(tmp, '.');
	if (dot && trim) {
		char *end = tmp + strlen(tmp) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	if (dot && *dot)
		*dot = ',';
	buf_puts(w->out, trim && !strcmp(tmp, "-0") ? "0" : tmp);
}

void csv_out_number(struct csv_out *w, double v, int decimals)
{
	put_number(w, v, decimals, 0);
}

void csv_out_decimal(struct csv_out *w, double v, int decimals)
{
	put_number(w, v, decimals, 1);
}

void csv_out_int(struct csv_out *w, long long v)
{
	cell_start(w);
	buf_printf(w->out, "%lld", v);
}

void csv_out_empty(struct csv_out *w)
{
	cell_start(w);
}

void csv_out_row_end(struct csv_out *w)
{
	buf_puts(w->out, "\r\n");
	w->col = 0;
}

void csv_out_header(struct csv_out *w, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		csv_out_text(w, names[i]);
	csv_out_row_end(w);
}

/* ---- reader ------------------------------------------------------------------------------ */

char csv_in_guess_delim(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (p < end && (*p == '\n' || *p == '\r'))
		p++;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
	if (memchr(p, ';', n))
		return ';';
	if (memchr(p, '\t', n))
		return '\t';
	if (memchr(p, ',', n))
		return ',';
	return ';';
}

static int space_only(unsigned char c)
{
	return c == ' ';
}

static void in_clear(struct csv_in *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->field[i]);
	in->n = 0;
}

static void in_cell(void *s, size_t len, void *data)
{
	struct csv_in *in = data;
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 16;
		in->field = xrealloc(in->field, in->cap * sizeof *in->field);
		in->field_line = xrealloc(in->field_line, in->cap * sizeof *in->field_line);
		in->column = xrealloc(in->column, in->cap * sizeof *in->column);
	}
	in->field[in->n] = xstrndup(s ? (const char *)s : "", len);
	in->field_line[in->n] = in->next_line;
	in->column[in->n] = in->next_column;
	in->n++;
	in->field_open = 0; /* the next byte may start the next field */
}

static void in_row(int term, void *data)
{
	(void)term;
	struct csv_in *in = data;
	in->row_done = 1;
}

int csv_in_open(struct csv_in *in, const char *text, size_t len, char delim)
{
	memset(in, 0, sizeof *in);
	in->pos = text;
	in->end = text + len;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		in->pos += 3;
	in->cur_line = 1;
	in->cur_column = 1;
	in->delim = delim ? delim : csv_in_guess_delim(text, len);
	struct csv_parser *p = malloc(sizeof *p);
	if (!p || csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		free(p);
		in->error = CSV_IN_MEMORY;
		return -1;
	}
	csv_set_delim(p, (unsigned char)in->delim);
	if (in->delim == '\t')
		csv_set_space_func(p, space_only);
	in->parser = p;
	return 0;
}

int csv_in_next(struct csv_in *in)
{
	in_clear(in);
	if (!in->parser)
		return in->error ? -1 : 0;
	struct csv_parser *p = in->parser;
	in->row_done = 0;
	while (in->pos < in->end) {
		const char *s = in->pos;
		unsigned char c = (unsigned char)*s;
		/* The first byte of a field that is not a dropped space (nor a blank line's end)
		 * is where the field starts. */
		int space = c == ' ' || (c == '\t' && in->delim != '\t');
		int blank_eol = (c == '\r' || c == '\n') && !in->n;
		if (!in->field_open && !space && !blank_eol) {
			in->field_open = 1;
			in->next_line = in->cur_line;
			in->next_column = in->cur_column;
		}
		if (csv_parse(p, s, 1, in_cell, in_row, in) != 1) {
			in->error =
			    csv_error(p) == CSV_ENOMEM ? CSV_IN_MEMORY : CSV_IN_QUOTE_MISPLACED;
			in->err_line = in->cur_line;
			in->err_column = in->cur_column;
			in->err_field = (int)in->n + 1;
			goto fail;
		}
		in->pos++;
		if (c == '\n') {
			in->cur_line++;
			in->cur_column = 1;
		} else if (in->pos < in->end && ((unsigned char)*in->pos & 0xC0) != 0x80) {
			in->cur_column++; /* the next byte starts a character */
		}
		if (in->row_done) {
			in->line = in->field_line[0];
			return 1;
		}
	}
	if (!in->fini) {
		in->fini = 1;
		int open_line = in->next_line, open_column = in->next_column;
		if (csv_fini(p, in_cell, in_row, in) != 0) {
			in->error = CSV_IN_QUOTE_OPEN;
			in->err_line = open_line;
			in->err_column = open_column;
			in->err_field = (int)in->n + 1;
			goto fail;
		}
		if (in->row_done && in->n) {
			in->line = in->field_line[0];
			return 1;
		}
	}
	return 0;
fail:
	in_clear(in);
	csv_free(p);
	free(p);
	in->parser = NULL;
	return -1;
}

const char *csv_in_strerror(const struct csv_in *in)
{
	switch (in->error) {
	case CSV_IN_QUOTE_MISPLACED:
		return "guillemet mal placé : un champ entre guillemets doit être suivi du "
		       "séparateur ou de la fin de ligne, et un guillemet dans un texte s'écrit "
		       "\"\".";
	case CSV_IN_QUOTE_OPEN:
		return "guillemet ouvert et jamais refermé avant la fin du fichier.";
	case CSV_IN_MEMORY:
		return "lecture du CSV impossible (mémoire).";
	default:
		return "";
	}
}

void csv_in_close(struct csv_in *in)
{
	in_clear(in);
	free(in->field);
	free(in->field_line);
	free(in->column);
	if (in->parser) {
		csv_free(in->parser);
		free(in->parser);
	}
	memset(in, 0, sizeof *in);
}
