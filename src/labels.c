/* labels.c — codes and their French labels (see labels.h). */
#include "labels.h"

#include <string.h>

int label_index(const char *const *codes, const char *code)
{
	for (int i = 0; code && codes[i]; i++)
		if (!strcmp(code, codes[i]))
			return i;
	return -1;
}

const char *label_of(const char *const *codes, const char *const *labels, const char *code,
                     const char *fallback)
{
	int i = label_index(codes, code);
	return i >= 0 ? labels[i] : fallback;
}

void label_options(struct buf *o, const char *const *codes, const char *const *labels,
                   const char *current, const char *empty_label)
{
	if (empty_label)
		html_printf(o, "<option value=\"\">%s</option>", empty_label);
	for (int i = 0; codes[i]; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", codes[i],
		            current && !strcmp(current, codes[i]) ? " selected" : "", labels[i]);
}
