/* util: allocation that never returns NULL, time stamps, random tokens, strict parsing. */
#ifndef MAILLAGE_UTIL_H
#define MAILLAGE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocators that abort on exhaustion; free the results with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void time_iso_now(char out[32]);
/* UTC time `secs` seconds from now, same format. */
void time_iso_from_now(char out[32], long secs);
/* Monotonic clock in microseconds. */
int64_t time_mono_us(void);

/* Fill out with 2*nbytes lowercase hex chars of cryptographic randomness, NUL-terminated. */
void random_hex(char *out, size_t nbytes);
/* Hex of the BLAKE2b-256 hash of s (64 chars + NUL). */
void hash_hex(const char *s, char out[65]);

/* Parse a whole string as a base-10 int64 (optional sign, no spaces). 0 on success. */
int parse_int64(const char *s, int64_t *out);
/* Constant-time string equality (for tokens). */
int str_eq_ct(const char *a, const char *b);
/* True when s is NULL or only white space. */
int str_blank(const char *s);
/* Copy of s with leading/trailing ASCII white space removed (malloc'ed). */
char *str_trim_dup(const char *s);
/* Read a whole file; NULL on error. *len gets the size. The result is NUL-terminated. */
char *file_read_all(const char *path, size_t *len);

#endif
