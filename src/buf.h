/* buf: a growable byte buffer, and the one HTML escaping discipline of maillage. */
#ifndef MAILLAGE_BUF_H
#define MAILLAGE_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable, always NUL-terminated byte buffer. Zero-initialise it ({0}) before use; free its
 * memory with buf_free(). On allocation failure the process aborts: the server treats
 * out-of-memory as fatal rather than threading the error through every renderer.
 */
struct buf {
	char *data; /* NUL-terminated once anything was written; NULL before */
	size_t len; /* bytes written, without the terminator */
	size_t cap; /* bytes allocated */
};

void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
/* Plain printf into the buffer: no escaping at all. Never for untrusted strings in HTML. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hand over the data to the caller (who frees it) and leave the buffer empty. Never NULL. */
char *buf_steal(struct buf *b);
/* The text written so far ("" when empty), valid until the next write. */
const char *buf_str(const struct buf *b);

/* Append s with the five HTML-significant characters escaped (& < > " '). NULL writes nothing. */
void buf_html(struct buf *b, const char *s);
/* Append s percent-encoded for a URL component (RFC 3986 unreserved kept). */
void buf_url(struct buf *b, const char *s);

/*
 * html_printf: the printf of every HTML page. Format specifiers:
 *   %s   a string, HTML-escaped (safe in text and in quoted attributes); NULL prints nothing
 *   %u   a string, percent-encoded for a URL component, then HTML-escaped
 *   %R   a string copied raw: ONLY for HTML that maillage itself produced (a fragment rendered
 *        by another html_printf, a literal). Grep for %R when reviewing.
 *   %d   int        %ld  long        %lld  long long     %zu  size_t
 *   %f   double, with an optional precision (%.1f), French decimal comma
 *   %%   a percent sign
 * Anything else aborts: a wrong format is a programming error caught by the tests.
 */
void html_printf(struct buf *b, const char *fmt, ...);
void html_vprintf(struct buf *b, const char *fmt, va_list ap);

/* True when s (len bytes) is valid UTF-8 without NUL bytes or C0 controls other than \t\n\r. */
int utf8_valid_text(const char *s, size_t len);

#endif
