/* embed: files compiled into the binary (static assets, migrations, demo and geography data). */
#ifndef MAILLAGE_EMBED_H
#define MAILLAGE_EMBED_H

#include <stddef.h>

struct embed_file {
	const char *name;          /* path relative to the source tree, e.g. "assets/style.css" */
	const unsigned char *data; /* the bytes, followed by a NUL not counted in size */
	size_t size;
};

/* Sorted by name. Generated at build time by cmake/embed.cmake. */
extern const struct embed_file embed_files[];
extern const size_t embed_count;

/* The embedded file with this exact name, or NULL. */
const struct embed_file *embed_find(const char *name);

#endif
