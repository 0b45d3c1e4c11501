/* labels.h — enumerations stored as codes and shown with French labels: two parallel
 * NULL-terminated arrays, one of codes ("copil") and one of labels ("Comité de pilotage
 * (COPIL)"), looked up and offered in <select>s by these helpers. The arrays are static data
 * of the calling module; nothing here allocates. */
#ifndef MAILLAGE_LABELS_H
#define MAILLAGE_LABELS_H

#include "buf.h"

/* Index of `code` in `codes`, or -1 (also for a NULL code). */
int label_index(const char *const *codes, const char *code);

/* The label of `code` (labels[i] for codes[i]), or `fallback` when the code is unknown or
 * NULL. Static, like the arrays. */
const char *label_of(const char *const *codes, const char *const *labels, const char *code,
                     const char *fallback);

/* The <option>s of a <select>: first an option of empty value labelled `empty_label` when not
 * NULL, then one per code, the one equal to `current` selected. */
void label_options(struct buf *o, const char *const *codes, const char *const *labels,
                   const char *current, const char *empty_label);

#endif
