/* text: search keys — accent- and case-folded names, and LIKE patterns that match them. */
#include "text.h"

#include "buf.h"

#include <string.h>

/*
 * The non-ASCII characters text_fold() replaces, as UTF-8, with their replacement. Everything
 * else outside ASCII is copied unchanged.
 */
static const struct {
	const char *from, *to;
} folds[] = {
    /* a */
    {"à", "a"},
    {"â", "a"},
    {"ä", "a"},
    {"á", "a"},
    {"ã", "a"},
    {"å", "a"},
    {"À", "a"},
    {"Â", "a"},
    {"Ä", "a"},
    {"Á", "a"},
    {"Ã", "a"},
    {"Å", "a"},
    /* c */
    {"ç", "c"},
    {"Ç", "c"},
    /* e */
    {"é", "e"},
    {"è", "e"},
    {"ê", "e"},
    {"ë", "e"},
    {"É", "e"},
    {"È", "e"},
    {"Ê", "e"},
    {"Ë", "e"},
    /* i */
    {"î", "i"},
    {"ï", "i"},
    {"í", "i"},
    {"ì", "i"},
    {"Î", "i"},
    {"Ï", "i"},
    {"Í", "i"},
    {"Ì", "i"},
    /* n */
    {"ñ", "n"},
    {"Ñ", "n"},
    /* o */
    {"ô", "o"},
    {"ö", "o"},
    {"ó", "o"},
    {"ò", "o"},
    {"õ", "o"},
    {"Ô", "o"},
    {"Ö", "o"},
    {"Ó", "o"},
    {"Ò", "o"},
    {"Õ", "o"},
    /* u */
    {"ù", "u"},
    {"û", "u"},
    {"ü", "u"},
    {"ú", "u"},
    {"Ù", "u"},
    {"Û", "u"},
    {"Ü", "u"},
    {"Ú", "u"},
    /* y */
    {"ÿ", "y"},
    {"ý", "y"},
    {"Ÿ", "y"},
    {"Ý", "y"},
    /* ligatures */
    {"œ", "oe"},
    {"Œ", "oe"},
    {"æ", "ae"},
    {"Æ", "ae"},
    /* separators: apostrophes, hyphens and dashes, no-break spaces */
    {"’", " "},
    {"ʼ", " "},
    {"\xe2\x80\x90", " "}, /* U+2010 hyphen */
    {"\xe2\x80\x91", " "}, /* U+2011 non-breaking hyphen */
    {"\xe2\x80\x93", " "}, /* U+2013 en dash */
    {"\xe2\x80\x94", " "}, /* U+2014 em dash */
    {"\xc2\xa0", " "},     /* U+00A0 no-break space */
    {"\xe2\x80\xaf", " "}, /* U+202F narrow no-break space */
};

#define NFOLDS (sizeof folds / sizeof *folds)

/* The replacement of the character at s when it is in folds[] (its length into *n), or NULL. */
static const char *fold_lookup(const char *s, size_t *n)
{
	for (size_t i = 0; i < NFOLDS; i++) {
		size_t len = strlen(folds[i].from);
		if (!strncmp(s, folds[i].from, len)) {
			*n = len;
			return folds[i].to;
		}
	}
	return NULL;
}

char *text_fold(const char *s)
{
	struct buf b = {0};
	int pending_space = 0; /* a separator was seen since the last byte written */
	while (s && *s) {
		size_t n = 1;
		const char *to = (unsigned char)*s >= 0x80 ? fold_lookup(s, &n) : NULL;
		char c = *s;
		s += n;
		if (to ? !strcmp(to, " ")
		       : c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-' || c == '\'') {
			pending_space = 1;
			continue;
		}
		if (pending_space && b.len)
			buf_putc(&b, ' '); /* one space for a run; none at the start */
		pending_space = 0;
		if (to)
			buf_puts(&b, to);
		else
			buf_putc(&b, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
	}
	return buf_steal(&b); /* a trailing run of separators was never written */
}

char *text_like_pattern(const char *prefix, const char *s, const char *suffix)
{
	struct buf b = {0};
	buf_puts(&b, prefix ? prefix : "");
	for (; s && *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	buf_puts(&b, suffix ? suffix : "");
	return buf_steal(&b);
}

size_t text_chars(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}
