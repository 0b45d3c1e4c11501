/* text: search keys — accent- and case-folded names, and LIKE patterns that match them. */
#ifndef MAILLAGE_TEXT_H
#define MAILLAGE_TEXT_H

#include <stddef.h>

/*
 * The search key of a name or of a search text, so that "etoile sur rhone" finds
 * "Étoile-sur-Rhône": ASCII letters lower-cased; the accented Latin letters of French (and
 * á í ó ú ñ ã õ å), upper- or lower-case, replaced by their base letter; œ Œ → "oe", æ Æ → "ae";
 * hyphens (-, U+2010, U+2011), dashes (U+2013, U+2014) and apostrophes (' ’ ʼ) → a space; tabs,
 * line breaks and no-break spaces (U+00A0, U+202F) → a space; then runs of spaces collapsed to
 * one and the result trimmed. Every other byte is copied unchanged, so valid UTF-8 stays valid.
 *
 * The key is stored beside the name (the search_name columns) by the code that writes the name,
 * and compared with the key of the search text: the database never folds, so the same SQL works
 * on SQLite and PostgreSQL.
 *
 * s must be NUL-terminated; NULL is taken as "". Returns a new string the caller frees with
 * free(); never NULL (allocation failure aborts).
 */
char *text_fold(const char *s);

/*
 * A pattern for `column LIKE ? ESCAPE '\'` that matches s literally: prefix, then s with each
 * LIKE metacharacter (% _ and the backslash itself) preceded by a backslash, then suffix. prefix
 * and suffix are copied as they are (they hold the wanted wildcards, "%" or ""); NULL for any of
 * the three is taken as "". Returns a new string the caller frees with free(); never NULL.
 *
 * Example: text_like_pattern("%", "50%_off", "%") is "%50\%\_off%".
 */
char *text_like_pattern(const char *prefix, const char *s, const char *suffix);

/* Number of characters (UTF-8 code points) of s, for length limits stated in characters;
 * 0 for NULL. s is assumed valid UTF-8 (the server rejects anything else). */
size_t text_chars(const char *s);

#endif
