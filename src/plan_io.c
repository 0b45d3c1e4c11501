/* plan_io: import a whole plan from CSV, a Markdown outline or JSON (all or nothing, in one
 * transaction, every error naming its line) and export a plan as CSV, XLSX or JSON.
 *
 * FORMATS (docs/import.md says the same for users, in French)
 *
 * Every file: at most PLAN_IO_MAX_BYTES (20 MB) and PLAN_IO_MAX_NODES (100,000) nodes; UTF-8
 * with or without BOM. A file that is not UTF-8 but reads as Windows-1252 (what Excel writes
 * for "CSV (séparateur : point-virgule)" on a French Windows) is converted to UTF-8, and the
 * summary says so, naming the first line that held a non-UTF-8 byte. A file mixing encodings
 * (valid UTF-8 accents and stray bytes) is refused, naming the line and column of the first
 * invalid byte.
 *
 * CSV — French conventions: ';' separator (',' or a tab is accepted when the first line holds
 * no ';'), fields quoted with '"' and '""' inside, CRLF or LF. Parsed with libcsv.
 *   1. Optional plan metadata rows before the header, first cell "#plan":
 *        #plan;titre;Projet social 2025-2028 du centre social Les Tilleuls
 *        #plan;type;projet_social            (ctg, schema, projet_social, autre, or their label)
 *        #plan;periode;2025-2028             (or #plan;debut;2025 and #plan;fin;2028)
 *        #plan;description;Texte (Markdown)
 *        #plan;public;oui                    (oui/non)
 *        #plan;niveaux;Axe|Orientation|Fiche-action
 *        #plan;territoire;commune:26108|epci:200040509|departement:26 (a bare code is guessed)
 *        #plan;signataires;Caf de la Drôme|Commune de Crest   (structures of the directory)
 *        #plan;fil;Libellé du fil conducteur;slug-optionnel   (one row per thread)
 *        #plan;etiquette-territoire;Libellé;slug-optionnel
 *      Other rows whose first cell starts with '#' are comments. Rows whose cells are all empty
 *      are skipped. Options (command line, form, API query) replace titre, type and years.
 *   2. A header row (required). Column names are matched without accents or case:
 *        niveau (1..8) and/or numero (1, 1.2, 1.2.3) — at least one of them;
 *        titre (required); description; type (noeud / fiche); statut; avancement; debut; fin
 *        (YYYY-MM-DD or DD/MM/YYYY); pilotes; partenaires; publics; etiquettes; impacts;
 *        communes — lists separated by '|'. Unknown columns are refused (typos would lose data).
 *   3. One row per node, parents before children. With niveau, a row may go at most one level
 *      deeper than the row before it. With numero, the parent is the node numbered by the
 *      prefix (1.2 for 1.2.3) and must come earlier; numbers must be unique; siblings are
 *      ordered by their last component. Numbers are then recomputed (1, 1.2, 1.2.3).
 *      A row is a fiche-action when type says "fiche", or when type is empty and a fiche column
 *      (statut, avancement, debut, fin, pilotes, partenaires, publics, impacts, communes) is
 *      filled, or when its level's name contains "fiche" or is "action(s)".
 *   Statuses: proposée, retenue, en cours, achevée, abandonnée, ajournée; progress levels: non
 *   engagée, peu engagée, bien engagée, achevée (labels or slugs). Tags (etiquettes): slugs or
 *   labels of the 7 CTG thematic fields or of the plan's threads. Impacts: slugs or labels of the
 *   7 impact domains. Pilots: structures of the directory, else an account by its exact name.
 *
 * Markdown outline — like a plan copied out of Word:
 *   ---                                   optional front block, same keys as the CSV metadata
 *   titre: Projet social 2025-2028…       ("cle: valeur"; lists separated by ',' or '|')
 *   type: projet_social
 *   periode: 2025-2028
 *   niveaux: Axe, Orientation, Fiche-action
 *   ---
 *   # Axe            headings: '#' is level 1, '##' level 2… (no level may be skipped)
 *   Paragraphs under a heading or a bullet become its description.
 *   ## Orientation
 *   - Fiche          bullets ('-', '*', '+', '1.') continue below the last heading, indented by
 *     - Sous-fiche   2 or 4 spaces or a tab per level (never more than one level deeper)
 *     statut: en cours      property lines (statut, avancement, debut, fin, pilotes,
 *     pilotes: Mission locale | Caf de la Drôme   partenaires, publics, etiquettes, impacts,
 *                                                 communes, type) apply to the node above.
 *   Without a titre in the front block, a single level-1 heading that comes first is the plan's
 *   title (its paragraphs its description) and the other headings move up one level. A leading
 *   number ("1.2 ", "3) ") is removed from titles: the numbering is recomputed.
 *
 * JSON — the shape of GET /api/v1/plans/{plan} (plan_to_json), with "threads" and, on each
 * node, "fiche": null or {status, progress, start_date, end_date, expected_results,
 * human_means, closing_note, pilots, partners, publics, communes, impact_domains, demo},
 * "tag_slugs" and "archived". Ids, numbers, dates and labels are ignored. The demo files'
 * shape (type, nodes, territory as an object) is accepted too. plan_io_export_json writes it,
 * so an export re-imports to the same plan.
 */
#include "plan_io.h"

#include "audit.h"
#include "auth.h"
#include "csv_fr.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"
#include "xlsx_out.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define TITLE_MAX   500    /* characters of a title */
#define TEXT_MAX    100000 /* bytes of a description */
#define LABEL_MAX   300    /* characters of a list item, level name, tag label */
#define LIST_MAX    200    /* items of a list */
#define FIRST_NODES 15     /* nodes shown in a summary */

/* --- small helpers --------------------------------------------------------------------------- */

static void list_add(struct plan_io_list *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n++] = xstrdup(s);
}

static void list_free(struct plan_io_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

static int list_has(const struct plan_io_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

/* Replace *dst with a copy of src (NULL frees). */
static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

/* Trimmed copy (ASCII white space and no-break spaces at both ends). */
static char *trim_dup(const char *s, size_t len)
{
	while (len && (isspace((unsigned char)*s))) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	/* U+00A0 at either end, as spreadsheets leave it */
	while (len >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) {
		s += 2;
		len -= 2;
	}
	while (len >= 2 && (unsigned char)s[len - 2] == 0xC2 && (unsigned char)s[len - 1] == 0xA0)
		len -= 2;
	return xstrndup(s, len);
}

/* The comparison key of a name or value: accents and case folded, '_' and '-' as spaces. */
static char *norm(const char *s)
{
	char *f = text_fold(s);
	for (char *p = f; *p; p++)
		if (*p == '_')
			*p = ' ';
	/* text_fold collapsed spaces already; '_' may have made new doubles */
	char *o = f;
	for (char *p = f; *p; p++) {
		if (*p == ' ' && (o == f || o[-1] == ' '))
			continue;
		*o++ = *p;
	}
	if (o > f && o[-1] == ' ')
		o--;
	*o = '\0';
	return f;
}

static int norm_eq(const char *a, const char *b)
{
	char *x = norm(a), *y = norm(b);
	int eq = !strcmp(x, y);
	free(x);
	free(y);
	return eq;
}

/* A slug from a label: folded, letters and digits kept, the rest as single '-'. */
static char *slugify(const char *label)
{
	char *f = text_fold(label);
	char *o = f;
	for (char *p = f; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			*o++ = (char)c;
		else if (o > f && o[-1] != '-')
			*o++ = '-';
	}
	while (o > f && o[-1] == '-')
		o--;
	*o = '\0';
	if (o - f > 60)
		f[60] = '\0';
	return f;
}

static int slug_valid(const char *s)
{
	if (!*s || strlen(s) > 80)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* Parse a date "YYYY-MM-DD" or "DD/MM/YYYY" into out ("YYYY-MM-DD"). 0 when it is a real date. */
static int date_parse(const char *s, char out[11])
{
	int y, m, d;
	char tail;
	int iso = sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3;
	if (!iso && sscanf(s, "%2d/%2d/%4d%c", &d, &m, &y, &tail) != 3)
		return -1;
	if (strlen(s) != 10)
		return -1;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
	         (unsigned)d % 100u);
	return 0;
}

static const char *const status_slugs[] = {"proposee", "retenue",    "en_cours",
                                           "achevee",  "abandonnee", "ajournee"};
static const char *const progress_slugs[] = {"non_engagee", "peu_engagee", "bien_engagee",
                                             "achevee"};

/* The slug of a status or progress given as slug or label, or NULL. */
static const char *enum_parse(const char *v, const char *const *slugs, size_t n,
                              const char *(*label)(const char *))
{
	for (size_t i = 0; i < n; i++)
		if (norm_eq(v, slugs[i]) || norm_eq(v, label(slugs[i])))
			return slugs[i];
	return NULL;
}

static const char *status_parse(const char *v)
{
	return enum_parse(v, status_slugs, 6, fiche_status_label);
}

static const char *progress_parse(const char *v)
{
	return enum_parse(v, progress_slugs, 4, fiche_progress_label);
}

static const char *kind_parse(const char *v)
{
	static const char *const kinds[] = {"ctg", "schema", "projet_social", "autre"};
	static const struct {
		const char *alias, *kind;
	} aliases[] = {{"convention territoriale globale", "ctg"},
	               {"schema departemental", "schema"},
	               {"projet social", "projet_social"},
	               {"autre plan", "autre"}};
	for (size_t i = 0; i < 4; i++)
		if (norm_eq(v, kinds[i]) || norm_eq(v, plan_kind_label(kinds[i])))
			return kinds[i];
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (norm_eq(v, aliases[i].alias))
			return aliases[i].kind;
	return NULL;
}

/* "oui"/"non" and friends: 1, 0, or -1 when neither. */
static int bool_parse(const char *v)
{
	static const char *const yes[] = {"oui", "o", "yes", "y", "vrai", "true", "1", "public"};
	static const char *const no[] = {"non", "n", "no", "faux", "false", "0", "prive", ""};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		if (norm_eq(v, yes[i]))
			return 1;
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		if (norm_eq(v, no[i]))
			return 0;
	return -1;
}

/* A year 1900..2200, or -1. */
static int year_parse(const char *v)
{
	int64_t y;
	char *t = trim_dup(v, strlen(v));
	int bad = parse_int64(t, &y);
	free(t);
	return bad || y < 1900 || y > 2200 ? -1 : (int)y;
}

/* --- errors ------------------------------------------------------------------------------------
 */

void plan_io_errors_free(struct plan_io_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->items[i].message);
	free(e->items);
	memset(e, 0, sizeof *e);
}

void plan_io_error_add(struct plan_io_errors *e, int line, int column, const char *fmt, ...)
{
	if (e->n >= PLAN_IO_MAX_ERRORS) {
		e->truncated = 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	struct buf b = {0};
	if (line > 0 && column > 0)
		buf_printf(&b, "Ligne %d, colonne %d : ", line, column);
	else if (line > 0)
		buf_printf(&b, "Ligne %d : ", line);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	e->items = xrealloc(e->items, (e->n + 1) * sizeof *e->items);
	e->items[e->n++] = (struct plan_io_error){line, column, buf_steal(&b)};
}

char *plan_io_errors_text(const struct plan_io_errors *e)
{
	struct buf b = {0};
	for (size_t i = 0; i < e->n; i++)
		buf_printf(&b, "%s%s", i ? "\n" : "", e->items[i].message);
	if (e->truncated)
		buf_printf(&b, "\n(seules les %d premières erreurs sont indiquées)",
		           PLAN_IO_MAX_ERRORS);
	return buf_steal(&b);
}

static int errs_full(const struct plan_io_errors *e)
{
	return e->n >= PLAN_IO_MAX_ERRORS;
}

/* --- document ------------------------------------------------------------------------------- */

static void fiche_free(struct plan_doc_fiche *f)
{
	free(f->status);
	free(f->progress);
	free(f->start_date);
	free(f->end_date);
	free(f->expected_results);
	free(f->human_means);
	free(f->closing_note);
	list_free(&f->pilots);
	list_free(&f->partners);
	list_free(&f->publics);
	list_free(&f->communes);
	list_free(&f->impacts);
}

void plan_doc_free(struct plan_doc *d)
{
	free(d->kind);
	free(d->title);
	free(d->description);
	list_free(&d->levels);
	for (size_t i = 0; i < d->nterritory; i++) {
		free(d->territory[i].scope);
		free(d->territory[i].code);
	}
	free(d->territory);
	list_free(&d->signatories);
	for (size_t i = 0; i < d->nthreads; i++) {
		free(d->threads[i].kind);
		free(d->threads[i].slug);
		free(d->threads[i].label);
	}
	free(d->threads);
	for (size_t i = 0; i < d->nnodes; i++) {
		struct plan_doc_node *n = &d->nodes[i];
		free(n->title);
		free(n->description);
		list_free(&n->tags);
		fiche_free(&n->fiche);
		free(n->where);
		free(n->number);
	}
	free(d->nodes);
	free(d->encoding_note);
	memset(d, 0, sizeof *d);
}

/* Append a node; returns its index. Pointers into d->nodes are invalidated. */
static size_t doc_add_node(struct plan_doc *d, const char *title, int depth, size_t parent,
                           int line)
{
	if (d->nnodes == d->capnodes) {
		d->capnodes = d->capnodes ? d->capnodes * 2 : 64;
		d->nodes = xrealloc(d->nodes, d->capnodes * sizeof *d->nodes);
	}
	struct plan_doc_node *n = &d->nodes[d->nnodes];
	memset(n, 0, sizeof *n);
	n->title = xstrdup(title);
	n->description = xstrdup("");
	n->depth = depth;
	n->parent = parent;
	n->line = line;
	return d->nnodes++;
}

static void doc_add_thread(struct plan_doc *d, const char *kind, const char *slug,
                           const char *label)
{
	d->threads = xrealloc(d->threads, (d->nthreads + 1) * sizeof *d->threads);
	struct plan_doc_thread *t = &d->threads[d->nthreads++];
	t->kind = xstrdup(kind);
	t->slug = slug && *slug ? xstrdup(slug) : slugify(label);
	t->label = xstrdup(label);
}

static void doc_add_territory(struct plan_doc *d, const char *scope, const char *code)
{
	d->territory = xrealloc(d->territory, (d->nterritory + 1) * sizeof *d->territory);
	d->territory[d->nterritory].scope = xstrdup(scope);
	d->territory[d->nterritory].code = xstrdup(code);
	d->nterritory++;
}

/* Split v on sep (or on any of seps) into trimmed, non-empty items added to l. Returns -1 when
 * an item or the count is too long (message in errs at line/col, naming what). */
static int split_list(const char *v, const char *seps, struct plan_io_list *l, const char *what,
                      struct plan_io_errors *errs, int line, int col)
{
	const char *p = v;
	while (p && *p) {
		size_t len = strcspn(p, seps);
		char *item = trim_dup(p, len);
		if (*item) {
			if (text_chars(item) > LABEL_MAX) {
				plan_io_error_add(
				    errs, line, col,
				    "un élément de la liste « %s » dépasse %d caractères.", what,
				    LABEL_MAX);
				free(item);
				return -1;
			}
			if (l->n >= LIST_MAX) {
				plan_io_error_add(errs, line, col,
				                  "la liste « %s » dépasse %d éléments.", what,
				                  LIST_MAX);
				free(item);
				return -1;
			}
			if (!list_has(l, item))
				list_add(l, item);
		}
		free(item);
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

/* --- encoding ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/* Windows-1252 bytes 0x80..0x9F as Unicode (0 where undefined). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static void utf8_put(struct buf *b, uint32_t cp)
{
	char s[4];
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, s, 2);
	} else {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, s, 3);
	}
}

char *plan_io_decode(const char *data, size_t len, size_t *out_len, char **encoding_note,
                     struct plan_io_errors *errs)
{
	*encoding_note = NULL;
	if (len > PLAN_IO_MAX_BYTES) {
		plan_io_error_add(
		    errs, 0, 0,
		    "Le fichier fait %.1f Mo : la limite est de %u Mo. Découpez le plan "
		    "ou retirez les descriptions trop longues.",
		    (double)len / (1024.0 * 1024.0), PLAN_IO_MAX_BYTES >> 20);
		return NULL;
	}
	const unsigned char *s = (const unsigned char *)data;
	if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
		s += 3;
		len -= 3;
	}
	/* One pass: the first invalid byte, whether valid multi-byte sequences exist, NULs. */
	size_t bad = (size_t)-1;
	int multibyte = 0, undefined_1252 = 0;
	int line = 1, bad_line = 0, bad_col = 0, col = 1;
	for (size_t i = 0; i < len;) {
		if (s[i] == 0) {
			plan_io_error_add(errs, line, col,
			                  "octet nul : ce fichier n'est pas un fichier texte (un "
			                  "classeur .xlsx ? enregistrez-le au format CSV).");
			return NULL;
		}
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0) {
			if (bad == (size_t)-1) {
				bad = i;
				bad_line = line;
				bad_col = col;
			}
			if (s[i] >= 0x80 && s[i] <= 0x9F && !cp1252_high[s[i] - 0x80])
				undefined_1252 = 1;
			n = 1;
		} else if (n > 1) {
			multibyte = 1;
		}
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	if (bad == (size_t)-1) {
		*out_len = len;
		return xstrndup((const char *)s, len);
	}
	if (multibyte || undefined_1252) {
		plan_io_error_add(errs, bad_line, bad_col,
		                  "octet 0x%02X non valide en UTF-8. Le fichier mélange des "
		                  "encodages : enregistrez-le en « UTF-8 » (ou entièrement en "
		                  "Windows-1252) et recommencez.",
		                  s[bad]);
		return NULL;
	}
	struct buf b = {0};
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c < 0x80)
			buf_putc(&b, (char)c);
		else if (c < 0xA0)
			utf8_put(&b, cp1252_high[c - 0x80]);
		else
			utf8_put(&b, c);
	}
	*encoding_note = xasprintf("Encodage Windows-1252 détecté (premier caractère non UTF-8 "
	                           "ligne %d, colonne %d) : le texte a été converti en UTF-8.",
	                           bad_line, bad_col);
	*out_len = b.len;
	if (!b.data)
		buf_puts(&b, "");
	return buf_steal(&b);
}

/* --- fields shared by the CSV columns and the Markdown properties -------------------------- */

enum field {
	F_LEVEL,
	F_NUMBER,
	F_TITLE,
	F_DESCRIPTION,
	F_TYPE,
	F_STATUS,
	F_PROGRESS,
	F_START,
	F_END,
	F_PILOTS,
	F_PARTNERS,
	F_PUBLICS,
	F_TAGS,
	F_IMPACTS,
	F_COMMUNES,
	NFIELDS
};

/* Canonical names (the CSV export's header) and the other names accepted (compared folded). */
static const struct {
	const char *name;
	const char *aliases[6];
} fields[NFIELDS] = {
    [F_LEVEL] = {"niveau", {"level", "profondeur"}},
    [F_NUMBER] = {"numéro", {"n°", "no", "num", "number", "numerotation"}},
    [F_TITLE] = {"titre", {"title", "intitule", "libelle", "nom"}},
    [F_DESCRIPTION] = {"description", {"desc", "texte"}},
    [F_TYPE] = {"type", {"nature"}},
    [F_STATUS] = {"statut", {"status", "etat"}},
    [F_PROGRESS] = {"avancement", {"progress", "niveau d avancement"}},
    [F_START] = {"début", {"date de debut", "date debut", "start", "start date"}},
    [F_END] = {"fin", {"date de fin", "date fin", "end", "end date"}},
    [F_PILOTS] = {"pilotes", {"pilote", "pilots", "pilotage"}},
    [F_PARTNERS] = {"partenaires", {"partenaire", "partners"}},
    [F_PUBLICS] = {"publics", {"public", "public cible", "publics cibles", "publics vises"}},
    [F_TAGS] = {"étiquettes", {"etiquette", "tags", "thematiques", "thematique"}},
    [F_IMPACTS] = {"impacts", {"impact", "domaines d impact", "domaines", "domaine d impact"}},
    [F_COMMUNES] = {"communes", {"commune", "territoire de la fiche"}},
};

/* The field named by s (already folded with norm), or -1. */
static int field_find(const char *key)
{
	for (int f = 0; f < NFIELDS; f++) {
		if (norm_eq(key, fields[f].name))
			return f;
		for (int a = 0; a < 6 && fields[f].aliases[a]; a++)
			if (!strcmp(key, fields[f].aliases[a]))
				return f;
	}
	return -1;
}

static int field_is_fiche(int f)
{
	return f == F_STATUS || f == F_PROGRESS || f == F_START || f == F_END || f == F_PILOTS ||
	       f == F_PARTNERS || f == F_PUBLICS || f == F_IMPACTS || f == F_COMMUNES;
}

/*
 * Apply one field's value (raw text) to node idx. Lists are split on any of `seps`. Empty values
 * change nothing. Returns -1 with an error recorded at (line, col) when the value is wrong.
 */
static int node_field(struct plan_doc *d, size_t idx, int f, const char *raw, const char *seps,
                      int line, int col, struct plan_io_errors *errs)
{
	struct plan_doc_node *n = &d->nodes[idx];
	char *v = trim_dup(raw, strlen(raw));
	int rc = 0;
	if (!*v && f != F_DESCRIPTION)
		goto out;
	if (field_is_fiche(f) && !n->fiche_field_line)
		n->fiche_field_line = line ? line : 1;
	switch (f) {
	case F_DESCRIPTION:
		if (strlen(raw) > TEXT_MAX) {
			plan_io_error_add(errs, line, col, "la description dépasse %d octets.",
			                  TEXT_MAX);
			rc = -1;
			break;
		}
		set_str(&n->description, v);
		break;
	case F_TYPE: {
		char *k = norm(v);
		if (!strcmp(k, "noeud") || !strcmp(k, "node") || !strcmp(k, "element") ||
		    !strcmp(k, "rubrique"))
			n->type_given = 1;
		else if (!strcmp(k, "fiche") || !strcmp(k, "fiche action") ||
		         !strcmp(k, "action") || !strcmp(k, "fiches actions"))
			n->type_given = 2;
		else {
			plan_io_error_add(errs, line, col,
			                  "type « %s » inconnu : indiquez « nœud » ou « fiche ».",
			                  v);
			rc = -1;
		}
		free(k);
		break;
	}
	case F_STATUS: {
		const char *s = status_parse(v);
		if (!s) {
			plan_io_error_add(
			    errs, line, col,
			    "statut inconnu « %s » (valeurs possibles : proposée, retenue, "
			    "en cours, achevée, abandonnée, ajournée).",
			    v);
			rc = -1;
		} else {
			set_str(&n->fiche.status, s);
		}
		break;
	}
	case F_PROGRESS: {
		const char *s = progress_parse(v);
		if (!s) {
			plan_io_error_add(
			    errs, line, col,
			    "avancement inconnu « %s » (valeurs possibles : non engagée, "
			    "peu engagée, bien engagée, achevée).",
			    v);
			rc = -1;
		} else {
			set_str(&n->fiche.progress, s);
		}
		break;
	}
	case F_START:
	case F_END: {
		char date[11];
		if (date_parse(v, date)) {
			plan_io_error_add(errs, line, col,
			                  "date de %s non valide « %s » (attendu AAAA-MM-JJ ou "
			                  "JJ/MM/AAAA, une date qui existe).",
			                  f == F_START ? "début" : "fin", v);
			rc = -1;
		} else {
			set_str(f == F_START ? &n->fiche.start_date : &n->fiche.end_date, date);
		}
		break;
	}
	case F_PILOTS:
		rc = split_list(v, seps, &n->fiche.pilots, "pilotes", errs, line, col);
		break;
	case F_PARTNERS:
		rc = split_list(v, seps, &n->fiche.partners, "partenaires", errs, line, col);
		break;
	case F_PUBLICS:
		rc = split_list(v, seps, &n->fiche.publics, "publics", errs, line, col);
		break;
	case F_TAGS:
		rc = split_list(v, seps, &n->tags, "étiquettes", errs, line, col);
		break;
	case F_IMPACTS:
		rc = split_list(v, seps, &n->fiche.impacts, "impacts", errs, line, col);
		break;
	case F_COMMUNES:
		rc = split_list(v, seps, &n->fiche.communes, "communes", errs, line, col);
		break;
	default:
		break;
	}
out:
	free(v);
	return rc;
}

/* 1 when a level's name says its nodes are fiches-actions ("Fiche-action", "Actions"). */
static int level_is_fiche(const struct plan_doc *d, int depth)
{
	if (depth < 0 || (size_t)depth >= d->levels.n)
		return 0;
	char *k = norm(d->levels.items[depth]);
	int yes = strstr(k, "fiche") || !strcmp(k, "action") || !strcmp(k, "actions");
	free(k);
	return yes;
}

/* After a CSV or Markdown parse: decide which nodes are fiches (see the top comment). */
static void doc_decide_fiches(struct plan_doc *d, struct plan_io_errors *errs)
{
	for (size_t i = 0; i < d->nnodes; i++) {
		struct plan_doc_node *n = &d->nodes[i];
		if (n->type_given == 1 && n->fiche_field_line) {
			plan_io_error_add(errs, n->fiche_field_line, 0,
			                  "« %s » est de type « nœud » mais a des champs de "
			                  "fiche-action (statut, avancement, dates, pilotes…) : "
			                  "indiquez le type « fiche » ou videz ces champs.",
			                  n->title);
			continue;
		}
		n->is_fiche =
		    n->type_given == 2 ||
		    (n->type_given == 0 && (n->fiche_field_line || level_is_fiche(d, n->depth)));
	}
}

/* One territory item: "scope:code" or a bare code whose shape tells the scope. */
static int territory_item(struct plan_doc *d, const char *item, struct plan_io_errors *errs,
                          int line, int col)
{
	const char *colon = strchr(item, ':');
	char *scope = NULL, *code;
	if (colon) {
		char *s = trim_dup(item, (size_t)(colon - item));
		char *k = norm(s);
		free(s);
		if (!strcmp(k, "commune") || !strcmp(k, "communes"))
			scope = "commune";
		else if (!strcmp(k, "epci"))
			scope = "epci";
		else if (!strcmp(k, "departement") || !strcmp(k, "departements"))
			scope = "departement";
		free(k);
		code = trim_dup(colon + 1, strlen(colon + 1));
	} else {
		code = trim_dup(item, strlen(item));
		size_t n = strlen(code), digits = strspn(code, "0123456789");
		if (n == 9 && digits == 9)
			scope = "epci";
		else if (n == 5 &&
		         (digits == 5 || (digits == 4 && (code[1] == 'A' || code[1] == 'B'))))
			scope = "commune";
		else if (n >= 2 && n <= 3)
			scope = "departement";
	}
	if (!scope || !*code || strlen(code) > 20) {
		plan_io_error_add(errs, line, col,
		                  "territoire « %s » non compris : écrivez commune:CODE_INSEE, "
		                  "epci:SIREN ou departement:CODE.",
		                  item);
		free(code);
		return -1;
	}
	for (size_t i = 0; i < d->nterritory; i++)
		if (!strcmp(d->territory[i].scope, scope) && !strcmp(d->territory[i].code, code)) {
			free(code);
			return 0;
		}
	doc_add_territory(d, scope, code);
	free(code);
	return 0;
}

/*
 * Apply one metadata entry (CSV "#plan" row or Markdown front-block line). value2 is the CSV's
 * optional fourth cell (a thread's slug). Lists are split on any of `seps`.
 */
static int meta_apply(struct plan_doc *d, const char *rawkey, const char *rawval,
                      const char *value2, const char *seps, int line, int col,
                      struct plan_io_errors *errs)
{
	char *key = norm(rawkey);
	char *v = trim_dup(rawval, strlen(rawval));
	int rc = 0;
	if (!strcmp(key, "titre") || !strcmp(key, "title") || !strcmp(key, "intitule")) {
		if (text_chars(v) > TITLE_MAX) {
			plan_io_error_add(errs, line, col,
			                  "le titre du plan dépasse %d caractères.", TITLE_MAX);
			rc = -1;
		} else {
			set_str(&d->title, v);
		}
	} else if (!strcmp(key, "type") || !strcmp(key, "kind") || !strcmp(key, "type de plan")) {
		const char *k = kind_parse(v);
		if (!k) {
			plan_io_error_add(
			    errs, line, col,
			    "type de plan inconnu « %s » (ctg, schema, projet_social ou "
			    "autre).",
			    v);
			rc = -1;
		} else {
			set_str(&d->kind, k);
		}
	} else if (!strcmp(key, "periode") || !strcmp(key, "annees") || !strcmp(key, "duree")) {
		int y0 = -1, y1 = -1;
		char tail;
		if (sscanf(v, "%d - %d%c", &y0, &y1, &tail) != 2 &&
		    sscanf(v, "%d – %d%c", &y0, &y1, &tail) != 2 &&
		    sscanf(v, "%d à %d%c", &y0, &y1, &tail) != 2)
			y0 = -1;
		if (y0 < 1900 || y0 > 2200 || y1 < 1900 || y1 > 2200) {
			plan_io_error_add(
			    errs, line, col,
			    "période « %s » non comprise : écrivez par exemple 2025-2028.", v);
			rc = -1;
		} else {
			d->start_year = y0;
			d->end_year = y1;
		}
	} else if (!strcmp(key, "debut") || !strcmp(key, "annee de debut") ||
	           !strcmp(key, "start year") || !strcmp(key, "fin") ||
	           !strcmp(key, "annee de fin") || !strcmp(key, "end year")) {
		int y = year_parse(v);
		int start = key[0] == 'd' || key[0] == 's' || !strcmp(key, "annee de debut");
		if (y < 0) {
			plan_io_error_add(
			    errs, line, col,
			    "année de %s non valide « %s » (une année entre 1900 et 2200).",
			    start ? "début" : "fin", v);
			rc = -1;
		} else if (start) {
			d->start_year = y;
		} else {
			d->end_year = y;
		}
	} else if (!strcmp(key, "description")) {
		if (strlen(v) > TEXT_MAX) {
			plan_io_error_add(errs, line, col, "la description dépasse %d octets.",
			                  TEXT_MAX);
			rc = -1;
		} else {
			set_str(&d->description, v);
		}
	} else if (!strcmp(key, "public") || !strcmp(key, "publication") ||
	           !strcmp(key, "publie")) {
		int b = bool_parse(v);
		if (b < 0) {
			plan_io_error_add(errs, line, col,
			                  "publication « %s » non comprise : écrivez oui ou non.",
			                  v);
			rc = -1;
		} else {
			d->is_public = b;
		}
	} else if (!strcmp(key, "niveaux") || !strcmp(key, "levels")) {
		list_free(&d->levels);
		rc = split_list(v, strchr(v, '|') ? "|" : seps, &d->levels, "niveaux", errs, line,
		                col);
		if (!rc && d->levels.n > PLAN_IO_MAX_DEPTH) {
			plan_io_error_add(errs, line, col, "%zu niveaux : la limite est de %d.",
			                  d->levels.n, PLAN_IO_MAX_DEPTH);
			rc = -1;
		}
	} else if (!strcmp(key, "territoire") || !strcmp(key, "territory")) {
		struct plan_io_list items = {0};
		rc = split_list(v, "|;, ", &items, "territoire", errs, line, col);
		for (size_t i = 0; !rc && i < items.n; i++)
			rc = territory_item(d, items.items[i], errs, line, col);
		list_free(&items);
	} else if (!strcmp(key, "signataires") || !strcmp(key, "signatories")) {
		rc = split_list(v, seps, &d->signatories, "signataires", errs, line, col);
	} else if (!strcmp(key, "fil") || !strcmp(key, "fils") ||
	           !strcmp(key, "fils conducteurs") || !strcmp(key, "fil conducteur") ||
	           !strcmp(key, "etiquette territoire")) {
		const char *kind = !strcmp(key, "etiquette territoire") ? "territoire" : "fil";
		if (value2 && *value2 && strcmp(key, "fils") != 0) {
			char *slug = trim_dup(value2, strlen(value2));
			if (!slug_valid(slug)) {
				plan_io_error_add(
				    errs, line, col + 1,
				    "identifiant « %s » non valide (lettres minuscules sans "
				    "accent, chiffres et tirets).",
				    slug);
				rc = -1;
			} else if (!*v) {
				plan_io_error_add(errs, line, col,
				                  "libellé de fil conducteur vide.");
				rc = -1;
			} else {
				doc_add_thread(d, kind, slug, v);
			}
			free(slug);
		} else {
			struct plan_io_list items = {0};
			rc = split_list(v, !strcmp(key, "fils") ? seps : "|", &items,
			                "fils conducteurs", errs, line, col);
			for (size_t i = 0; !rc && i < items.n; i++)
				doc_add_thread(d, kind, NULL, items.items[i]);
			list_free(&items);
		}
	} else {
		plan_io_error_add(
		    errs, line, col,
		    "clé « %s » inconnue (clés possibles : titre, type, periode, debut, "
		    "fin, description, public, niveaux, territoire, signataires, fil, "
		    "etiquette-territoire).",
		    rawkey);
		rc = -1;
	}
	free(key);
	free(v);
	return rc;
}

/* Checks every format shares, once the options are applied. */
static int doc_check(struct plan_doc *d, struct plan_io_errors *errs)
{
	size_t before = errs->n;
	if (!d->title || !*d->title)
		plan_io_error_add(
		    errs, 0, 0,
		    "Le titre du plan manque : donnez-le dans le fichier (#plan;titre;… "
		    "en CSV, « titre: … » dans le bloc d'en-tête Markdown, « title » en "
		    "JSON) ou dans le formulaire.");
	if (!d->kind)
		d->kind = xstrdup("autre");
	if (d->start_year && d->end_year && d->end_year < d->start_year)
		plan_io_error_add(
		    errs, 0, 0,
		    "La période du plan est à l'envers : %d-%d (l'année de fin précède "
		    "celle de début).",
		    d->start_year, d->end_year);
	if (d->nnodes > PLAN_IO_MAX_NODES)
		plan_io_error_add(errs, 0, 0, "Le plan compte %zu éléments : la limite est de %d.",
		                  d->nnodes, PLAN_IO_MAX_NODES);
	for (size_t i = 0; i < d->nnodes && !errs_full(errs); i++) {
		struct plan_doc_node *n = &d->nodes[i];
		const char *where = n->where ? n->where : "";
		if (n->depth >= PLAN_IO_MAX_DEPTH)
			plan_io_error_add(
			    errs, n->line, 0,
			    "%s« %s » est au niveau %d : la limite est de %d niveaux.", where,
			    n->title, n->depth + 1, PLAN_IO_MAX_DEPTH);
		if (n->is_fiche && n->fiche.start_date && n->fiche.end_date &&
		    strcmp(n->fiche.end_date, n->fiche.start_date) < 0)
			plan_io_error_add(errs, n->line, 0,
			                  "%sla fiche « %s » finit (%s) avant de commencer (%s).",
			                  where, n->title, n->fiche.end_date, n->fiche.start_date);
	}
	return errs->n > before ? -1 : 0;
}

/* --- a small string → index map (node numbers of a CSV) -------------------------------------- */

struct strmap {
	char **keys;
	size_t *vals;
	size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The value for key, or 0 when absent (values are index + 1). */
static size_t strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return 0;
	for (size_t i = str_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return 0;
		if (!strcmp(m->keys[i], key))
			return m->vals[i];
	}
}

static void strmap_put(struct strmap *m, const char *key, size_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct strmap bigger = {0};
		bigger.cap = m->cap ? m->cap * 2 : 64;
		bigger.keys = xcalloc(bigger.cap, sizeof *bigger.keys);
		bigger.vals = xcalloc(bigger.cap, sizeof *bigger.vals);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i]) {
				size_t j = str_hash(m->keys[i]) & (bigger.cap - 1);
				while (bigger.keys[j])
					j = (j + 1) & (bigger.cap - 1);
				bigger.keys[j] = m->keys[i];
				bigger.vals[j] = m->vals[i];
			}
		bigger.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = bigger;
	}
	size_t i = str_hash(key) & (m->cap - 1);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = xstrdup(key);
	m->vals[i] = val;
	m->n++;
}

static void strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

/* --- CSV ------------------------------------------------------------------------------------ */

struct csv_ctx {
	struct plan_doc *doc;
	struct plan_io_errors *errs;
	char **cells;
	size_t ncells, capcells;
	int row_line; /* line where the current row started */
	int have_header;
	int header_line;
	int col[NFIELDS]; /* cell index of each field, -1 when absent */
	size_t nheader;
	size_t rows;
	int fatal;
	int last_depth; /* depth of the previous node, -1 before the first */
	int last_line;
	size_t stack[PLAN_IO_MAX_DEPTH + 1]; /* last node (index + 1) at each depth */
	struct strmap numbers;               /* canonical number → node index + 1 */
	int *number_line;                    /* line of each numbered node, by index */
};

static void csv_cell(void *s, size_t len, void *data)
{
	struct csv_ctx *c = data;
	if (c->ncells == c->capcells) {
		c->capcells = c->capcells ? c->capcells * 2 : 32;
		c->cells = xrealloc(c->cells, c->capcells * sizeof *c->cells);
	}
	char *v = xstrndup(s ? (const char *)s : "", len);
	const char *bare = csv_fr_unguard(v); /* the formula guard of csv_out_text, if any */
	if (bare != v)
		memmove(v, bare, strlen(bare) + 1);
	c->cells[c->ncells++] = v;
}

static const char *cell(struct csv_ctx *c, int f)
{
	int i = c->col[f];
	return i >= 0 && (size_t)i < c->ncells ? c->cells[i] : "";
}

static void csv_header(struct csv_ctx *c)
{
	int line = c->row_line;
	c->have_header = 1;
	c->header_line = line;
	c->nheader = c->ncells;
	for (int f = 0; f < NFIELDS; f++)
		c->col[f] = -1;
	for (size_t i = 0; i < c->ncells; i++) {
		char *name = trim_dup(c->cells[i], strlen(c->cells[i]));
		if (!*name) {
			free(name);
			continue;
		}
		char *k = norm(name);
		int f = field_find(k);
		free(k);
		if (f < 0)
			plan_io_error_add(
			    c->errs, line, (int)i + 1,
			    "colonne inconnue « %s » (colonnes reconnues : niveau, numero, "
			    "titre, description, type, statut, avancement, debut, fin, "
			    "pilotes, partenaires, publics, etiquettes, impacts, communes).",
			    name);
		else if (c->col[f] >= 0)
			plan_io_error_add(
			    c->errs, line, (int)i + 1,
			    "la colonne « %s » apparaît deux fois (colonnes %d et %zu).",
			    fields[f].name, c->col[f] + 1, i + 1);
		else
			c->col[f] = (int)i;
		free(name);
	}
	if (c->col[F_TITLE] < 0)
		plan_io_error_add(
		    c->errs, line, 0,
		    "colonne obligatoire absente : « titre ». La ligne d'en-tête doit "
		    "nommer les colonnes (niveau ou numero, titre…) ; séparateur attendu : "
		    "« ; ».");
	if (c->col[F_LEVEL] < 0 && c->col[F_NUMBER] < 0)
		plan_io_error_add(
		    c->errs, line, 0,
		    "colonne obligatoire absente : « niveau » ou « numero » (l'une des "
		    "deux au moins, pour placer chaque ligne dans l'arborescence).");
	if (c->errs->n)
		c->fatal = 1;
}

/* "1.2.3" (a final '.' allowed) into its canonical form; the count of parts, or -1. */
static int number_parse(const char *s, char *out, size_t outsz, int64_t *last)
{
	int parts = 0;
	size_t o = 0;
	const char *p = s;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		int64_t v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p - '0');
			if (++digits > 6)
				return -1;
			p++;
		}
		if (v < 1)
			return -1;
		int w = snprintf(out + o, outsz - o, "%s%lld", parts ? "." : "", (long long)v);
		if (w < 0 || (size_t)w >= outsz - o)
			return -1;
		o += (size_t)w;
		*last = v;
		parts++;
		if (*p == '.')
			p++;
	}
	return parts ? parts : -1;
}

static void csv_data_row(struct csv_ctx *c)
{
	struct plan_doc *d = c->doc;
	int line = c->row_line;
	if (++c->rows > PLAN_IO_MAX_NODES) {
		plan_io_error_add(c->errs, line, 0,
		                  "le fichier dépasse %d lignes d'éléments : découpez le plan.",
		                  PLAN_IO_MAX_NODES);
		c->fatal = 1;
		return;
	}
	for (size_t i = c->nheader; i < c->ncells; i++)
		if (!str_blank(c->cells[i])) {
			plan_io_error_add(
			    c->errs, line, (int)i + 1,
			    "cellule hors des colonnes de l'en-tête (%zu colonnes, ligne "
			    "%d) : « %s ». Un « ; » en trop dans un texte non entouré de "
			    "guillemets ?",
			    c->nheader, c->header_line, c->cells[i]);
			return;
		}
	/* Title */
	char *title = trim_dup(cell(c, F_TITLE), strlen(cell(c, F_TITLE)));
	int tcol = c->col[F_TITLE] + 1;
	int ok = 1;
	if (!*title) {
		plan_io_error_add(c->errs, line, tcol,
		                  "titre vide : chaque ligne doit avoir un titre.");
		set_str(&title, "(sans titre)");
		ok = 0;
	} else if (text_chars(title) > TITLE_MAX) {
		plan_io_error_add(c->errs, line, tcol, "titre de plus de %d caractères.",
		                  TITLE_MAX);
		ok = 0;
	}
	/* Place in the tree */
	const char *lv = cell(c, F_LEVEL), *nu = cell(c, F_NUMBER);
	char *lvt = trim_dup(lv, strlen(lv)), *nut = trim_dup(nu, strlen(nu));
	int level = 0, parts = 0;
	int64_t last = 0;
	char number[128] = "";
	if (*lvt) {
		int64_t v;
		if (parse_int64(lvt, &v) || v < 1 || v > PLAN_IO_MAX_DEPTH) {
			plan_io_error_add(c->errs, line, c->col[F_LEVEL] + 1,
			                  "niveau « %s » non valide : un nombre entier de 1 à %d.",
			                  lvt, PLAN_IO_MAX_DEPTH);
			ok = 0;
		} else {
			level = (int)v;
		}
	}
	if (*nut) {
		char tmp[128];
		size_t n = strlen(nut);
		snprintf(tmp, sizeof tmp, "%.*s", (int)(n && nut[n - 1] == '.' ? n - 1 : n), nut);
		parts = n < 100 ? number_parse(tmp, number, sizeof number, &last) : -1;
		if (parts < 0 || parts > PLAN_IO_MAX_DEPTH) {
			plan_io_error_add(
			    c->errs, line, c->col[F_NUMBER] + 1,
			    "numéro « %s » non valide : des nombres séparés par des points "
			    "(1, 1.2, 1.2.3), %d niveaux au plus.",
			    nut, PLAN_IO_MAX_DEPTH);
			parts = 0;
			number[0] = '\0';
			ok = 0;
		}
	}
	if (ok && !level && !parts) {
		plan_io_error_add(c->errs, line, 0,
		                  "ni niveau ni numéro : impossible de placer « %s » dans "
		                  "l'arborescence.",
		                  title);
		ok = 0;
	}
	if (ok && level && parts && level != parts) {
		plan_io_error_add(c->errs, line, c->col[F_LEVEL] + 1,
		                  "le niveau %d ne correspond pas au numéro « %s » (%d niveau%s).",
		                  level, number, parts, parts > 1 ? "x" : "");
		ok = 0;
	}
	int depth = 0;
	size_t parent = 0;
	int64_t position = 0;
	if (parts) {
		depth = parts - 1;
		size_t dup = strmap_get(&c->numbers, number);
		if (dup) {
			plan_io_error_add(c->errs, line, c->col[F_NUMBER] + 1,
			                  "numéro « %s » en double (déjà utilisé ligne %d).",
			                  number, c->number_line[dup - 1]);
			ok = 0;
		}
		if (parts > 1) {
			char prefix[128];
			snprintf(prefix, sizeof prefix, "%s", number);
			*strrchr(prefix, '.') = '\0';
			parent = strmap_get(&c->numbers, prefix);
			if (!parent && ok) {
				plan_io_error_add(
				    c->errs, line, c->col[F_NUMBER] + 1,
				    "saut de niveau : le numéro « %s » suppose un élément "
				    "« %s » plus haut dans le fichier, qui n'existe pas.",
				    number, prefix);
				ok = 0;
			}
		}
		position = last;
	} else if (level) {
		depth = level - 1;
		if (depth > c->last_depth + 1) {
			if (c->last_depth < 0)
				plan_io_error_add(
				    c->errs, line, c->col[F_LEVEL] + 1,
				    "saut de niveau : la première ligne doit être de niveau "
				    "1, pas %d.",
				    level);
			else
				plan_io_error_add(
				    c->errs, line, c->col[F_LEVEL] + 1,
				    "saut de niveau : une ligne de niveau %d juste après une "
				    "ligne de niveau %d (ligne %d) ; il manque un niveau "
				    "intermédiaire.",
				    level, c->last_depth + 1, c->last_line);
			depth = c->last_depth + 1;
			ok = 0;
		}
		parent = depth > 0 ? c->stack[depth - 1] : 0;
	}
	free(lvt);
	free(nut);
	size_t idx = doc_add_node(d, title, depth, parent, line);
	free(title);
	d->nodes[idx].position = position;
	if (parts && !strmap_get(&c->numbers, number)) {
		strmap_put(&c->numbers, number, idx + 1);
		c->number_line = xrealloc(c->number_line, d->capnodes * sizeof *c->number_line);
		c->number_line[idx] = line;
	}
	c->stack[depth] = idx + 1;
	for (int k = depth + 1; k <= PLAN_IO_MAX_DEPTH; k++)
		c->stack[k] = 0;
	c->last_depth = depth;
	c->last_line = line;
	for (int f = F_DESCRIPTION; f < NFIELDS; f++)
		if (c->col[f] >= 0)
			node_field(d, idx, f, cell(c, f), "|", line, c->col[f] + 1, c->errs);
	(void)ok;
}

static void csv_row(int term, void *data)
{
	(void)term;
	struct csv_ctx *c = data;
	if (c->fatal || errs_full(c->errs)) {
		c->fatal = 1;
		goto out;
	}
	int empty = 1;
	for (size_t i = 0; i < c->ncells && empty; i++)
		empty = str_blank(c->cells[i]);
	if (empty)
		goto out;
	char *first = trim_dup(c->cells[0], strlen(c->cells[0]));
	if (first[0] == '#') {
		char *k = norm(first);
		if (!strcmp(k, "#plan")) {
			if (c->have_header)
				plan_io_error_add(c->errs, c->row_line, 1,
				                  "les lignes « #plan » doivent précéder la ligne "
				                  "d'en-tête (ligne %d).",
				                  c->header_line);
			else if (c->ncells < 3)
				plan_io_error_add(c->errs, c->row_line, 2,
				                  "ligne « #plan » incomplète : #plan;clé;valeur.");
			else
				meta_apply(c->doc, c->cells[1], c->cells[2],
				           c->ncells > 3 ? c->cells[3] : NULL, "|", c->row_line, 3,
				           c->errs);
		}
		free(k);
		free(first);
		goto out;
	}
	free(first);
	if (!c->have_header)
		csv_header(c);
	else
		csv_data_row(c);
out:
	for (size_t i = 0; i < c->ncells; i++)
		free(c->cells[i]);
	c->ncells = 0;
}

int plan_io_parse_csv(const char *text, size_t len, struct plan_doc *doc,
                      struct plan_io_errors *errs)
{
	doc->format = "CSV";
	struct csv_ctx c = {.doc = doc, .errs = errs, .last_depth = -1};
	/* The separator is guessed by csv_in: ';' unless the first non-empty line has none, then
	 * a tab, else ','. */
	struct csv_in in;
	csv_in_open(&in, text, len, 0); /* a failure is reported by csv_in_next */
	int rc = 0;
	while (!c.fatal && (rc = csv_in_next(&in)) > 0) {
		for (size_t i = 0; i < in.n; i++)
			csv_cell(in.field[i], strlen(in.field[i]), &c);
		c.row_line = in.line;
		csv_row(0, &c);
	}
	if (!c.fatal && rc < 0) {
		if (in.error == CSV_IN_QUOTE_OPEN)
			plan_io_error_add(
			    errs, in.err_line, 0,
			    "guillemet ouvert sur cette ligne et jamais refermé avant la fin du "
			    "fichier.");
		else if (in.error == CSV_IN_MEMORY)
			plan_io_error_add(errs, 0, 0, "Lecture du CSV impossible (mémoire).");
		else
			plan_io_error_add(
			    errs, in.err_line, in.err_column,
			    "guillemet mal placé : un champ entre guillemets doit être "
			    "suivi de « %c » ou de la fin de ligne, et un guillemet dans un "
			    "texte s'écrit \"\".",
			    in.delim == '\t' ? ' ' : in.delim);
	}
	csv_in_close(&in);
	for (size_t i = 0; i < c.ncells; i++)
		free(c.cells[i]);
	free(c.cells);
	strmap_free(&c.numbers);
	free(c.number_line);
	if (!errs->n && !c.have_header)
		plan_io_error_add(
		    errs, 0, 0,
		    "Le fichier ne contient pas de ligne d'en-tête (niveau;numero;titre;…).");
	else if (!errs->n && !doc->nnodes)
		plan_io_error_add(errs, c.header_line, 0,
		                  "aucun élément après la ligne d'en-tête : le fichier est vide.");
	if (!errs->n)
		doc_decide_fiches(doc, errs);
	return errs->n ? -1 : 0;
}

/* --- Markdown outline --------------------------------------------------------------------------
 */

/* Remove a leading number ("1.2 ", "3) ", "2. – ") and surrounding emphasis from a title. */
static char *title_clean(const char *s)
{
	char *t = trim_dup(s, strlen(s));
	size_t n = strlen(t);
	/* **Titre** or __Titre__ */
	if (n > 4 && ((!strncmp(t, "**", 2) && !strcmp(t + n - 2, "**")) ||
	              (!strncmp(t, "__", 2) && !strcmp(t + n - 2, "__")))) {
		memmove(t, t + 2, n - 4);
		t[n - 4] = '\0';
	}
	const char *p = t;
	int groups = 0, dots = 0, longest = 0;
	while (isdigit((unsigned char)*p)) {
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits++;
		}
		if (digits > longest)
			longest = digits;
		groups++;
		if (*p == '.' && isdigit((unsigned char)p[1])) {
			p++;
			dots++;
		} else {
			break;
		}
	}
	if (groups && longest <= 3) {
		const char *q = p;
		int marked = 0;
		if (*q == '.' || *q == ')') {
			q++;
			marked = 1;
		}
		while (*q == ' ')
			q++;
		/* an optional dash or colon after the number */
		if (!strncmp(q, "-", 1) || !strncmp(q, ":", 1)) {
			q++;
			marked = 1;
		} else if (!strncmp(q, "–", strlen("–")) || !strncmp(q, "—", strlen("—"))) {
			q += strlen("–");
			marked = 1;
		}
		while (*q == ' ')
			q++;
		if ((marked || dots || q > p) && *q && q > p) {
			char *r = xstrdup(q);
			free(t);
			return r;
		}
	}
	return t;
}

/* Indentation of a line in columns (a tab counts 4) and whether it used tabs only. */
static int indent_of(const char *s, int *tabs_only, int *tabs)
{
	int col = 0;
	*tabs_only = 1;
	*tabs = 0;
	for (; *s == ' ' || *s == '\t'; s++) {
		if (*s == '\t') {
			col = (col / 4 + 1) * 4;
			(*tabs)++;
		} else {
			col++;
			*tabs_only = 0;
		}
	}
	if (col == 0)
		*tabs_only = 0;
	return col;
}

/* "key: value" with a known property key: the field, value set to the text after ':'. */
static int property_line(const char *s, const char **value)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon - s > 40)
		return -1;
	char *key = trim_dup(s, (size_t)(colon - s));
	char *k = norm(key);
	free(key);
	int f = field_find(k);
	free(k);
	if (f < 0 || f == F_LEVEL || f == F_NUMBER || f == F_TITLE || f == F_DESCRIPTION)
		return -1;
	*value = colon + 1;
	return f;
}

static void desc_append(struct plan_doc *d, size_t target, const char *text, int blank_before,
                        struct plan_io_errors *errs, int line)
{
	char **dst = target ? &d->nodes[target - 1].description : &d->description;
	if (!*dst)
		*dst = xstrdup("");
	char *old = *dst;
	if (strlen(old) + strlen(text) > TEXT_MAX) {
		plan_io_error_add(errs, line, 1, "la description dépasse %d octets.", TEXT_MAX);
		return;
	}
	*dst = xasprintf("%s%s%s", old, *old ? (blank_before ? "\n\n" : "\n") : "", text);
	free(old);
}

int plan_io_parse_markdown(const char *text, size_t len, struct plan_doc *doc,
                           struct plan_io_errors *errs)
{
	doc->format = "Markdown";
	char *copy = xstrndup(text, len);
	/* Lines, in place. */
	size_t nlines = 0, cap = 0;
	char **lines = NULL;
	for (char *p = copy; p;) {
		char *eol = strchr(p, '\n');
		if (eol)
			*eol = '\0';
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[n - 1] = '\0';
		if (nlines == cap) {
			cap = cap ? cap * 2 : 256;
			lines = xrealloc(lines, cap * sizeof *lines);
		}
		lines[nlines++] = p;
		p = eol ? eol + 1 : NULL;
	}
	size_t i = 0;
	/* Front block. */
	char *first = nlines ? trim_dup(lines[0], strlen(lines[0])) : xstrdup("");
	if (!strcmp(first, "---")) {
		for (i = 1; i < nlines; i++) {
			char *t = trim_dup(lines[i], strlen(lines[i]));
			int end = !strcmp(t, "---") || !strcmp(t, "...");
			if (!end && *t && *t != '#') {
				char *colon = strchr(t, ':');
				if (!colon)
					plan_io_error_add(
					    errs, (int)i + 1, 1,
					    "ligne du bloc d'en-tête sans « : » (attendu "
					    "« clé: valeur »).");
				else {
					*colon = '\0';
					meta_apply(doc, t, colon + 1, NULL, ",|", (int)i + 1, 1,
					           errs);
				}
			}
			free(t);
			if (end)
				break;
		}
		if (i >= nlines)
			plan_io_error_add(
			    errs, 1, 1,
			    "bloc d'en-tête ouvert par « --- » et jamais refermé par une "
			    "ligne « --- ».");
		i++;
	}
	free(first);
	size_t body = i;
	/* Pre-pass: a single level-1 heading coming first becomes the plan's title. */
	int h1 = 0, first_h = 0, shift = 0;
	for (size_t k = body, fence = 0; k < nlines; k++) {
		const char *l = lines[k];
		if (!strncmp(l, "```", 3) || !strncmp(l, "~~~", 3)) {
			fence = !fence;
			continue;
		}
		if (fence)
			continue;
		int h = 0;
		while (l[h] == '#')
			h++;
		if (h >= 1 && h <= 6 && (l[h] == ' ' || l[h] == '\t' || !l[h])) {
			if (!first_h)
				first_h = h;
			if (h == 1)
				h1++;
		}
	}
	int title_from_h1 = !doc->title && h1 == 1 && first_h == 1;
	if (title_from_h1)
		shift = 1;

	int heading_depth = -1;  /* depth of the current heading node, -1 before any */
	size_t heading_node = 0; /* its index + 1 */
	size_t hstack[PLAN_IO_MAX_DEPTH + 1] = {0};
	int hline[PLAN_IO_MAX_DEPTH + 1] = {0};
	size_t bstack[PLAN_IO_MAX_DEPTH + 1] = {0}; /* bullets by indentation level */
	int bline[PLAN_IO_MAX_DEPTH + 1] = {0};
	int last_k = -1, unit = 0;
	size_t target = 0;    /* node receiving text (index + 1), 0 = the plan */
	size_t last_node = 0; /* last node created (index + 1) */
	int blank = 0, fence = 0, in_title = 0;
	for (; i < nlines && !errs_full(errs); i++) {
		int line = (int)i + 1;
		char *l = lines[i];
		if (fence) {
			desc_append(doc, target, l, 0, errs, line);
			if (!strncmp(l, "```", 3) || !strncmp(l, "~~~", 3))
				fence = 0;
			continue;
		}
		int tabs_only, tabs;
		int ind = indent_of(l, &tabs_only, &tabs);
		char *s = l;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s) {
			blank = 1;
			continue;
		}
		if (!strncmp(s, "```", 3) || !strncmp(s, "~~~", 3)) {
			fence = 1;
			desc_append(doc, target, s, blank, errs, line);
			blank = 0;
			continue;
		}
		/* Heading */
		int h = 0;
		while (s[h] == '#')
			h++;
		if (ind < 4 && h >= 1 && h <= 6 && (s[h] == ' ' || s[h] == '\t' || !s[h])) {
			char *t = trim_dup(s + h, strlen(s + h));
			size_t tn = strlen(t);
			while (tn && t[tn - 1] == '#') /* closing hashes */
				t[--tn] = '\0';
			char *title = title_clean(t);
			free(t);
			blank = 0;
			last_k = -1;
			if (!*title) {
				plan_io_error_add(errs, line, 1,
				                  "titre vide (« %.*s » sans texte).", h, "######");
				free(title);
				continue;
			}
			if (title_from_h1 && h == 1) {
				set_str(&doc->title, title);
				free(title);
				in_title = 1;
				target = 0;
				continue;
			}
			int depth = h - 1 - shift;
			if (depth > heading_depth + 1) {
				if (heading_depth < 0)
					plan_io_error_add(
					    errs, line, 1,
					    "saut de niveau : le premier titre est « %.*s » "
					    "(niveau %d) ; commencez par « %.*s ».",
					    h, "######", depth + 1, 1 + shift, "######");
				else
					plan_io_error_add(
					    errs, line, 1,
					    "saut de niveau : titre « %.*s » (niveau %d) sous "
					    "un titre de niveau %d (ligne %d) ; il manque un "
					    "niveau intermédiaire.",
					    h, "######", depth + 1, heading_depth + 1,
					    hline[heading_depth]);
				depth = heading_depth + 1;
			}
			if (depth >= PLAN_IO_MAX_DEPTH) {
				plan_io_error_add(errs, line, 1, "plus de %d niveaux.",
				                  PLAN_IO_MAX_DEPTH);
				free(title);
				continue;
			}
			if (text_chars(title) > TITLE_MAX)
				plan_io_error_add(errs, line, 1, "titre de plus de %d caractères.",
				                  TITLE_MAX);
			size_t parent = depth > 0 ? hstack[depth - 1] : 0;
			size_t idx = doc_add_node(doc, title, depth, parent, line);
			free(title);
			hstack[depth] = idx + 1;
			hline[depth] = line;
			heading_depth = depth;
			heading_node = idx + 1;
			target = last_node = idx + 1;
			in_title = 0;
			continue;
		}
		/* Horizontal rule */
		if ((!strcmp(s, "---") || !strcmp(s, "***") || !strcmp(s, "___")) && ind < 4)
			continue;
		/* Bullet */
		const char *after = NULL;
		if ((*s == '-' || *s == '*' || *s == '+') && (s[1] == ' ' || s[1] == '\t' || !s[1]))
			after = s + 1;
		else if (isdigit((unsigned char)*s)) {
			const char *q = s;
			while (isdigit((unsigned char)*q))
				q++;
			if (q - s <= 3 && (*q == '.' || *q == ')') && (q[1] == ' ' || q[1] == '\t'))
				after = q + 1;
		}
		if (after) {
			const char *pv;
			int pf = property_line(after, &pv);
			if (pf >= 0 && last_node) {
				/* "- pilotes : …" under a node is a property of that node */
				node_field(doc, last_node - 1, pf, pv, "|;", line, 1, errs);
				continue;
			}
			int k;
			if (ind == 0)
				k = 0;
			else if (tabs_only)
				k = tabs;
			else {
				if (!unit)
					unit = ind;
				if (ind % unit) {
					plan_io_error_add(
					    errs, line, ind + 1,
					    "indentation de %d espaces incohérente : les puces "
					    "de ce fichier sont indentées de %d en %d.",
					    ind, unit, unit);
					k = last_k + 1;
				} else {
					k = ind / unit;
				}
			}
			if (k > last_k + 1) {
				if (last_k < 0)
					plan_io_error_add(
					    errs, line, ind + 1,
					    "puce indentée de %d niveau%s alors qu'elle est la "
					    "première sous %s : retirez l'indentation.",
					    k, k > 1 ? "x" : "",
					    heading_node ? "son titre" : "le début du fichier");
				else
					plan_io_error_add(
					    errs, line, ind + 1,
					    "puce indentée de plus d'un niveau sous la puce de "
					    "la ligne %d.",
					    bline[last_k]);
				k = last_k + 1;
			}
			if (k > PLAN_IO_MAX_DEPTH)
				k = PLAN_IO_MAX_DEPTH;
			int depth = heading_depth + 1 + k;
			char *title = title_clean(after);
			blank = 0;
			if (!*title) {
				plan_io_error_add(errs, line, ind + 1, "puce vide (sans texte).");
				free(title);
				continue;
			}
			if (depth >= PLAN_IO_MAX_DEPTH) {
				plan_io_error_add(errs, line, ind + 1,
				                  "plus de %d niveaux (titres et puces compris).",
				                  PLAN_IO_MAX_DEPTH);
				free(title);
				continue;
			}
			if (text_chars(title) > TITLE_MAX)
				plan_io_error_add(errs, line, ind + 1,
				                  "titre de plus de %d caractères.", TITLE_MAX);
			size_t parent = k == 0 ? heading_node : bstack[k - 1];
			size_t idx = doc_add_node(doc, title, depth, parent, line);
			free(title);
			bstack[k] = idx + 1;
			bline[k] = line;
			last_k = k;
			target = last_node = idx + 1;
			continue;
		}
		/* Property line */
		const char *pv;
		int pf = property_line(s, &pv);
		if (pf >= 0 && last_node) {
			node_field(doc, last_node - 1, pf, pv, "|;", line, ind + 1, errs);
			blank = 0;
			continue;
		}
		/* Text: indented → the last bullet, else the current heading (or the plan). */
		size_t to = in_title ? 0 : (ind > 0 && last_node) ? last_node : heading_node;
		if (to != target)
			blank = 0;
		target = to;
		desc_append(doc, target, s, blank, errs, line);
		blank = 0;
	}
	free(lines);
	free(copy);
	if (!errs->n && !doc->nnodes)
		plan_io_error_add(
		    errs, 0, 0,
		    "Aucun titre (« # ») ni puce (« - ») : le fichier ne contient aucun "
		    "élément d'arborescence.");
	if (!errs->n)
		doc_decide_fiches(doc, errs);
	return errs->n ? -1 : 0;
}

/* --- JSON ------------------------------------------------------------------------------------ */

struct json_ctx {
	struct plan_doc *doc;
	struct plan_io_errors *errs;
};

/* A string member (NULL when absent or null); records an error for another type. */
static const char *jstr(struct json_ctx *c, json_t *o, const char *key, const char *where)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		plan_io_error_add(c->errs, 0, 0, "« %s%s%s » : texte attendu.", where,
		                  *where ? "." : "", key);
		return NULL;
	}
	return json_string_value(v);
}

/* Strings of an array member into l (objects with "name" accepted); -1 on a wrong type. */
static int jlist(struct json_ctx *c, json_t *o, const char *key, const char *where,
                 struct plan_io_list *l)
{
	json_t *arr = json_object_get(o, key);
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		plan_io_error_add(c->errs, 0, 0, "« %s%s%s » : liste attendue.", where,
		                  *where ? "." : "", key);
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *s = json_is_string(v) ? json_string_value(v)
		                : json_is_object(v) && json_is_string(json_object_get(v, "name"))
		                    ? json_string_value(json_object_get(v, "name"))
		                    : NULL;
		if (!s) {
			plan_io_error_add(c->errs, 0, 0, "« %s%s%s[%zu] » : texte attendu.", where,
			                  *where ? "." : "", key, i);
			return -1;
		}
		char *t = trim_dup(s, strlen(s));
		if (text_chars(t) > LABEL_MAX || l->n >= LIST_MAX) {
			plan_io_error_add(c->errs, 0, 0,
			                  "« %s%s%s » : liste trop longue ou élément de plus de %d "
			                  "caractères.",
			                  where, *where ? "." : "", key, LABEL_MAX);
			free(t);
			return -1;
		}
		if (*t && !list_has(l, t))
			list_add(l, t);
		free(t);
	}
	return 0;
}

static void json_fiche(struct json_ctx *c, size_t idx, json_t *f, const char *where)
{
	struct plan_doc *d = c->doc;
	struct plan_doc_fiche *fi = &d->nodes[idx].fiche;
	const char *v;
	char date[11];
	if ((v = jstr(c, f, "status", where))) {
		const char *s = status_parse(v);
		if (!s)
			plan_io_error_add(
			    c->errs, 0, 0,
			    "« %s.status » : statut inconnu « %s » (proposee, retenue, "
			    "en_cours, achevee, abandonnee, ajournee).",
			    where, v);
		else
			set_str(&fi->status, s);
	}
	if ((v = jstr(c, f, "progress", where))) {
		const char *s = progress_parse(v);
		if (!s)
			plan_io_error_add(
			    c->errs, 0, 0,
			    "« %s.progress » : avancement inconnu « %s » (non_engagee, "
			    "peu_engagee, bien_engagee, achevee).",
			    where, v);
		else
			set_str(&fi->progress, s);
	}
	static const char *const dkeys[2][2] = {{"start_date", "start"}, {"end_date", "end"}};
	for (int k = 0; k < 2; k++) {
		v = jstr(c, f, dkeys[k][0], where);
		if (!v)
			v = jstr(c, f, dkeys[k][1], where);
		if (!v)
			continue;
		if (date_parse(v, date))
			plan_io_error_add(c->errs, 0, 0,
			                  "« %s.%s » : date non valide « %s » (AAAA-MM-JJ).", where,
			                  dkeys[k][0], v);
		else
			set_str(k ? &fi->end_date : &fi->start_date, date);
	}
	static const char *const texts[] = {"expected_results", "human_means", "closing_note"};
	char **dst[] = {&fi->expected_results, &fi->human_means, &fi->closing_note};
	for (int k = 0; k < 3; k++)
		if ((v = jstr(c, f, texts[k], where))) {
			if (strlen(v) > TEXT_MAX)
				plan_io_error_add(c->errs, 0, 0, "« %s.%s » : plus de %d octets.",
				                  where, texts[k], TEXT_MAX);
			else
				set_str(dst[k], v);
		}
	jlist(c, f, "pilots", where, &fi->pilots);
	jlist(c, f, "partners", where, &fi->partners);
	jlist(c, f, "publics", where, &fi->publics);
	jlist(c, f, "communes", where, &fi->communes);
	jlist(c, f, "impact_domains", where, &fi->impacts);
}

static void json_nodes(struct json_ctx *c, json_t *arr, const char *where, int depth, size_t parent)
{
	if (!arr || json_is_null(arr))
		return;
	if (!json_is_array(arr)) {
		plan_io_error_add(c->errs, 0, 0, "« %s » : liste attendue.", where);
		return;
	}
	size_t i;
	json_t *n;
	json_array_foreach(arr, i, n)
	{
		if (errs_full(c->errs) || c->doc->nnodes >= PLAN_IO_MAX_NODES + 1)
			return;
		char *path = xasprintf("%s[%zu]", where, i);
		if (!json_is_object(n)) {
			plan_io_error_add(c->errs, 0, 0, "« %s » : objet attendu.", path);
			free(path);
			continue;
		}
		const char *title = jstr(c, n, "title", path);
		char *t = trim_dup(title ? title : "", title ? strlen(title) : 0);
		if (!*t)
			plan_io_error_add(c->errs, 0, 0, "« %s.title » : titre vide ou absent.",
			                  path);
		else if (text_chars(t) > TITLE_MAX)
			plan_io_error_add(c->errs, 0, 0, "« %s.title » : plus de %d caractères.",
			                  path, TITLE_MAX);
		size_t idx = doc_add_node(c->doc, *t ? t : "(sans titre)", depth, parent, 0);
		free(t);
		struct plan_doc_node *nd = &c->doc->nodes[idx];
		nd->where = xasprintf("%s : ", path);
		nd->position = (int64_t)i + 1;
		const char *desc = jstr(c, n, "description", path);
		if (desc && strlen(desc) > TEXT_MAX)
			plan_io_error_add(c->errs, 0, 0, "« %s.description » : plus de %d octets.",
			                  path, TEXT_MAX);
		else if (desc)
			set_str(&nd->description, desc);
		json_t *slugs = json_object_get(n, "tag_slugs");
		jlist(c, n, slugs && json_is_array(slugs) ? "tag_slugs" : "tags", path,
		      &c->doc->nodes[idx].tags);
		c->doc->nodes[idx].archived = json_is_true(json_object_get(n, "archived"));
		json_t *f = json_object_get(n, "fiche");
		if (f && json_is_object(f)) {
			c->doc->nodes[idx].is_fiche = 1;
			char *fp = xasprintf("%s.fiche", path);
			json_fiche(c, idx, f, fp);
			free(fp);
		} else if (f && !json_is_null(f)) {
			plan_io_error_add(c->errs, 0, 0, "« %s.fiche » : objet ou null attendu.",
			                  path);
		}
		char *kp = xasprintf("%s.children", path);
		json_nodes(c, json_object_get(n, "children"), kp, depth + 1, idx + 1);
		free(kp);
		free(path);
	}
}

int plan_io_parse_json(const char *text, size_t len, struct plan_doc *doc,
                       struct plan_io_errors *errs)
{
	doc->format = "JSON";
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	if (!root) {
		plan_io_error_add(errs, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0,
		                  "JSON non valide (%s).", je.text);
		return -1;
	}
	struct json_ctx c = {doc, errs};
	if (!json_is_object(root)) {
		plan_io_error_add(errs, 1, 1,
		                  "le document JSON doit être un objet { … } (un plan).");
		json_decref(root);
		return -1;
	}
	const char *v;
	if ((v = jstr(&c, root, "title", "")))
		meta_apply(doc, "titre", v, NULL, "|", 0, 0, errs);
	v = jstr(&c, root, "kind", "");
	if (!v)
		v = jstr(&c, root, "type", "");
	if (v)
		meta_apply(doc, "type", v, NULL, "|", 0, 0, errs);
	if ((v = jstr(&c, root, "description", "")))
		meta_apply(doc, "description", v, NULL, "|", 0, 0, errs);
	static const char *const years[] = {"start_year", "end_year"};
	for (int k = 0; k < 2; k++) {
		json_t *y = json_object_get(root, years[k]);
		if (!y || json_is_null(y))
			continue;
		if (!json_is_integer(y) || json_integer_value(y) < 1900 ||
		    json_integer_value(y) > 2200)
			plan_io_error_add(errs, 0, 0, "« %s » : une année entre 1900 et 2200.",
			                  years[k]);
		else if (k)
			doc->end_year = (int)json_integer_value(y);
		else
			doc->start_year = (int)json_integer_value(y);
	}
	json_t *pub = json_object_get(root, "public");
	if (!pub)
		pub = json_object_get(root, "is_public");
	doc->is_public = json_is_true(pub) || (json_is_integer(pub) && json_integer_value(pub));
	jlist(&c, root, "levels", "", &doc->levels);
	if (doc->levels.n > PLAN_IO_MAX_DEPTH)
		plan_io_error_add(errs, 0, 0, "« levels » : %d niveaux au plus.",
		                  PLAN_IO_MAX_DEPTH);
	json_t *terr = json_object_get(root, "territory");
	if (json_is_array(terr)) {
		size_t i;
		json_t *t;
		json_array_foreach(terr, i, t)
		{
			const char *scope = json_string_value(json_object_get(t, "scope"));
			const char *code = json_string_value(json_object_get(t, "code"));
			if (!scope || !code) {
				plan_io_error_add(
				    errs, 0, 0,
				    "« territory[%zu] » : {\"scope\", \"code\"} attendu.", i);
				continue;
			}
			char *item = xasprintf("%s:%s", scope, code);
			char *where = xasprintf("« territory[%zu] » : ", i);
			size_t before = errs->n;
			territory_item(doc, item, errs, 0, 0);
			if (errs->n > before) { /* prefix the place */
				char *m = errs->items[before].message;
				errs->items[before].message = xasprintf("%s%s", where, m);
				free(m);
			}
			free(where);
			free(item);
		}
	} else if (json_is_object(terr)) {
		static const struct {
			const char *key, *scope;
		} scopes[] = {{"communes", "commune"},
		              {"epci", "epci"},
		              {"epcis", "epci"},
		              {"departements", "departement"}};
		for (size_t s = 0; s < sizeof scopes / sizeof *scopes; s++) {
			struct plan_io_list codes = {0};
			jlist(&c, terr, scopes[s].key, "territory", &codes);
			for (size_t i = 0; i < codes.n; i++) {
				char *item = xasprintf("%s:%s", scopes[s].scope, codes.items[i]);
				territory_item(doc, item, errs, 0, 0);
				free(item);
			}
			list_free(&codes);
		}
	} else if (terr && !json_is_null(terr)) {
		plan_io_error_add(errs, 0, 0, "« territory » : liste attendue.");
	}
	jlist(&c, root, "signatories", "", &doc->signatories);
	json_t *threads = json_object_get(root, "threads");
	if (json_is_array(threads)) {
		size_t i;
		json_t *t;
		json_array_foreach(threads, i, t)
		{
			const char *label = json_string_value(json_object_get(t, "label"));
			const char *slug = json_string_value(json_object_get(t, "slug"));
			const char *kind = json_string_value(json_object_get(t, "kind"));
			if (!label || !*label || (slug && !slug_valid(slug)) ||
			    (kind && strcmp(kind, "fil") != 0 && strcmp(kind, "territoire") != 0)) {
				plan_io_error_add(
				    errs, 0, 0,
				    "« threads[%zu] » : {\"slug\" (minuscules, chiffres, "
				    "tirets), \"label\", \"kind\" (fil ou territoire)} "
				    "attendu.",
				    i);
				continue;
			}
			doc_add_thread(doc, kind ? kind : "fil", slug, label);
		}
	} else if (threads && !json_is_null(threads)) {
		plan_io_error_add(errs, 0, 0, "« threads » : liste attendue.");
	}
	json_t *tree = json_object_get(root, "tree");
	json_nodes(&c, tree ? tree : json_object_get(root, "nodes"), tree ? "tree" : "nodes", 0, 0);
	json_decref(root);
	return errs->n ? -1 : 0;
}

/* --- loading into the database ------------------------------------------------------------- */

struct tagref {
	int64_t id;
	char *slug, *key; /* key: norm(label) */
};

struct load_ctx {
	struct db *db;
	struct plan_doc *doc;
	struct plan_io_errors *errs;
	char now[32];
	struct tagref *tags;
	size_t ntags;
	struct tagref *impacts; /* id unused */
	size_t nimpacts;
};

/* Record an error about node n (its line, or its JSON path). */
#define NODE_ERR(c, n, fmt, ...)                                                                   \
	plan_io_error_add((c)->errs, (n)->line, 0, "%s" fmt, (n)->where ? (n)->where : "",         \
	                  __VA_ARGS__)

static void tagrefs_free(struct tagref *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].slug);
		free(t[i].key);
	}
	free(t);
}

static struct tagref *tagrefs_load(struct db *db, struct db_stmt *st, size_t *n)
{
	struct tagref *t = NULL;
	*n = 0;
	(void)db;
	while (st && db_step(st) == DB_ROW) {
		t = xrealloc(t, (*n + 1) * sizeof *t);
		t[*n].id = db_col_int64(st, 0);
		t[*n].slug = xstrdup(db_col_text(st, 1));
		t[*n].key = norm(db_col_text(st, 2));
		(*n)++;
	}
	db_finalize(st);
	return t;
}

/* The entry named by a slug, a label (folded) or the slug of a label; NULL when unknown. */
static const struct tagref *tagref_find(const struct tagref *t, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].slug, s))
			return &t[i];
	char *k = norm(s), *sl = slugify(s);
	const struct tagref *found = NULL;
	for (size_t i = 0; i < n && !found; i++)
		if (!strcmp(t[i].key, k) || !strcmp(t[i].slug, sl))
			found = &t[i];
	free(k);
	free(sl);
	return found;
}

/* A structure of the directory by its exact name, else by its folded name when only one has
 * it. 0 when none. */
static int64_t actor_find(struct db *db, const char *name)
{
	int64_t id = 0;
	if (db_int64f(db, &id, "SELECT id FROM actors WHERE name = ?", "s", name) == DB_OK)
		return id;
	char *key = text_fold(name);
	struct db_stmt *st =
	    db_queryf(db, "SELECT id FROM actors WHERE search_name = ? LIMIT 2", "s", key);
	free(key);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		id = db_col_int64(st, 0);
		n++;
	}
	db_finalize(st);
	return n == 1 ? id : 0;
}

/* An active account by its exact name when only one has it; 0 otherwise. */
static int64_t user_find(struct db *db, const char *name)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT id FROM users WHERE name = ? AND disabled = 0 "
	                               "LIMIT 2",
	                               "s", name);
	int n = 0;
	int64_t id = 0;
	while (st && db_step(st) == DB_ROW) {
		id = db_col_int64(st, 0);
		n++;
	}
	db_finalize(st);
	return n == 1 ? id : 0;
}

static int db_fail(struct load_ctx *c, const char *what)
{
	plan_io_error_add(c->errs, 0, 0, "Erreur de la base de données (%s) : %s", what,
	                  db_errmsg(c->db));
	return -1;
}

static int load_plan_rows(struct load_ctx *c, int64_t *plan_id)
{
	struct plan_doc *d = c->doc;
	struct db_stmt *st = db_queryf(
	    c->db,
	    "INSERT INTO plans (kind, title, start_year, end_year, description, is_public, "
	    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    "ss", d->kind, d->title);
	if (!st)
		return db_fail(c, "plan");
	if (d->start_year)
		db_bind_int64(st, 3, d->start_year);
	else
		db_bind_null(st, 3);
	if (d->end_year)
		db_bind_int64(st, 4, d->end_year);
	else
		db_bind_null(st, 4);
	db_bind_text(st, 5, d->description ? d->description : "");
	db_bind_int64(st, 6, d->is_public);
	db_bind_text(st, 7, c->now);
	db_bind_text(st, 8, c->now);
	*plan_id = db_step(st) == DB_ROW ? db_col_int64(st, 0) : 0;
	db_finalize(st);
	if (!*plan_id)
		return db_fail(c, "plan");
	for (size_t i = 0; i < d->levels.n; i++)
		if (db_execf(c->db,
		             "INSERT INTO plan_levels (plan_id, depth, name) VALUES (?, ?, ?)",
		             "Iis", *plan_id, (int)i, d->levels.items[i]) != DB_OK)
			return db_fail(c, "niveaux");
	static const struct {
		const char *scope, *sql, *label;
	} scopes[] = {
	    {"commune", "SELECT COUNT(*) FROM communes WHERE code = ?", "commune"},
	    {"epci", "SELECT COUNT(*) FROM epcis WHERE code = ?", "EPCI"},
	    {"departement", "SELECT COUNT(*) FROM departements WHERE code = ?", "département"},
	};
	for (size_t i = 0; i < d->nterritory; i++) {
		int64_t found = 0;
		for (size_t s = 0; s < 3; s++)
			if (!strcmp(scopes[s].scope, d->territory[i].scope)) {
				db_int64f(c->db, &found, scopes[s].sql, "s", d->territory[i].code);
				if (!found)
					plan_io_error_add(
					    c->errs, 0, 0,
					    "Territoire du plan inconnu : %s « %s » "
					    "n'est pas dans le référentiel géographique.",
					    scopes[s].label, d->territory[i].code);
			}
		if (found &&
		    db_execf(c->db,
		             "INSERT INTO plan_territory (plan_id, scope, code) "
		             "VALUES (?, ?, ?)",
		             "Iss", *plan_id, d->territory[i].scope, d->territory[i].code) != DB_OK)
			return db_fail(c, "territoire");
	}
	for (size_t i = 0; i < d->signatories.n; i++) {
		int64_t aid = actor_find(c->db, d->signatories.items[i]);
		if (!aid) {
			plan_io_error_add(
			    c->errs, 0, 0,
			    "Signataire inconnu « %s » : ajoutez d'abord cette structure "
			    "à l'annuaire des acteurs (ou corrigez son nom).",
			    d->signatories.items[i]);
			continue;
		}
		if (db_execf(c->db,
		             "INSERT INTO plan_signatories (plan_id, actor_id) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "II", *plan_id, aid) != DB_OK)
			return db_fail(c, "signataires");
	}
	for (size_t i = 0; i < d->nthreads; i++) {
		struct plan_doc_thread *t = &d->threads[i];
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= !strcmp(d->threads[k].slug, t->slug);
		if (dup || !slug_valid(t->slug)) {
			plan_io_error_add(c->errs, 0, 0,
			                  "Fil conducteur « %s » : identifiant « %s » %s.",
			                  t->label, t->slug, dup ? "en double" : "non valide");
			continue;
		}
		if (db_execf(c->db,
		             "INSERT INTO tags (plan_id, kind, slug, label) VALUES (?, ?, ?, ?)",
		             "Isss", *plan_id, t->kind, t->slug, t->label) != DB_OK)
			return db_fail(c, "fils conducteurs");
	}
	c->tags = tagrefs_load(c->db,
	                       db_queryf(c->db,
	                                 "SELECT id, slug, label FROM tags "
	                                 "WHERE plan_id IS NULL OR plan_id = ? "
	                                 "ORDER BY plan_id DESC NULLS LAST, id",
	                                 "I", *plan_id),
	                       &c->ntags);
	c->impacts = tagrefs_load(c->db,
	                          db_prepare(c->db, "SELECT 0, slug, label FROM impact_domains "
	                                            "ORDER BY position"),
	                          &c->nimpacts);
	return 0;
}

static int load_fiche(struct load_ctx *c, struct plan_doc_node *n)
{
	struct plan_doc_fiche *f = &n->fiche;
	const char *status = f->status ? f->status : "proposee";
	struct db_stmt *st = db_prepare(
	    c->db, "INSERT INTO fiches (node_id, status, progress, expected_results, "
	           "human_means, start_date, end_date, closing_note, closed_at, is_demo) "
	           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)");
	if (!st)
		return db_fail(c, "fiche");
	db_bindf(st, "Isssssssss", n->id, status, f->progress ? f->progress : "non_engagee",
	         f->expected_results ? f->expected_results : "",
	         f->human_means ? f->human_means : "", f->start_date, f->end_date,
	         f->closing_note ? f->closing_note : "",
	         fiche_status_closes(status) ? c->now : NULL);
	int rc = db_step(st);
	db_finalize(st);
	if (rc != DB_DONE)
		return db_fail(c, "fiche");
	for (size_t i = 0; i < f->pilots.n; i++) {
		const char *name = f->pilots.items[i];
		int64_t aid = actor_find(c->db, name), uid = aid ? 0 : user_find(c->db, name);
		if (!aid && !uid) {
			NODE_ERR(
			    c, n,
			    "pilote inconnu « %s » pour « %s » : ni structure de l'annuaire, ni "
			    "compte à ce nom.",
			    name, n->title);
			continue;
		}
		if ((aid ? db_execf(c->db,
		                    "INSERT INTO fiche_pilots (node_id, actor_id) "
		                    "VALUES (?, ?) ON CONFLICT DO NOTHING",
		                    "II", n->id, aid)
		         : db_execf(c->db,
		                    "INSERT INTO fiche_pilots (node_id, user_id) "
		                    "VALUES (?, ?) ON CONFLICT DO NOTHING",
		                    "II", n->id, uid)) != DB_OK)
			return db_fail(c, "pilotes");
	}
	for (size_t i = 0; i < f->partners.n; i++) {
		int64_t aid = actor_find(c->db, f->partners.items[i]);
		if (!aid) {
			NODE_ERR(c, n,
			         "partenaire inconnu « %s » pour « %s » : ajoutez d'abord cette "
			         "structure à l'annuaire des acteurs (ou corrigez son nom).",
			         f->partners.items[i], n->title);
			continue;
		}
		if (db_execf(c->db,
		             "INSERT INTO fiche_partners (node_id, actor_id) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "II", n->id, aid) != DB_OK)
			return db_fail(c, "partenaires");
	}
	for (size_t i = 0; i < f->publics.n; i++)
		if (db_execf(c->db,
		             "INSERT INTO fiche_publics (node_id, label) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "Is", n->id, f->publics.items[i]) != DB_OK)
			return db_fail(c, "publics");
	for (size_t i = 0; i < f->communes.n; i++) {
		int64_t found = 0;
		db_int64f(c->db, &found, "SELECT COUNT(*) FROM communes WHERE code = ?", "s",
		          f->communes.items[i]);
		if (!found) {
			NODE_ERR(c, n, "commune inconnue « %s » pour « %s » (code INSEE attendu).",
			         f->communes.items[i], n->title);
			continue;
		}
		if (db_execf(c->db,
		             "INSERT INTO fiche_communes (node_id, commune) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "Is", n->id, f->communes.items[i]) != DB_OK)
			return db_fail(c, "communes");
	}
	for (size_t i = 0; i < f->impacts.n; i++) {
		const struct tagref *t = tagref_find(c->impacts, c->nimpacts, f->impacts.items[i]);
		if (!t) {
			NODE_ERR(
			    c, n,
			    "domaine d'impact inconnu « %s » pour « %s » (cohésion sociale et "
			    "territoriale, pertinence de l'action institutionnelle, transition "
			    "écologique, réduction de la précarité économique, parcours de vie, "
			    "pouvoir d'agir, lien social).",
			    f->impacts.items[i], n->title);
			continue;
		}
		if (db_execf(c->db,
		             "INSERT INTO fiche_impacts (node_id, domain) VALUES (?, ?) "
		             "ON CONFLICT DO NOTHING",
		             "Is", n->id, t->slug) != DB_OK)
			return db_fail(c, "domaines d'impact");
	}
	return 0;
}

static json_t *node_after(struct db *db, const struct plan_doc_node *n)
{
	json_t *f = n->is_fiche ? fiche_snapshot(db, n->id) : NULL;
	return json_pack("{s:s,s:s,s:s,s:i,s:o}", "number", n->number ? n->number : "", "title",
	                 n->title, "description", n->description ? n->description : "", "depth",
	                 n->depth, "fiche", f ? f : json_null());
}

static json_t *summary_json(struct plan_doc *d, int dry_run, int64_t plan_id)
{
	size_t fiches = 0;
	size_t counts[PLAN_IO_MAX_DEPTH] = {0};
	int maxdepth = -1;
	for (size_t i = 0; i < d->nnodes; i++) {
		fiches += d->nodes[i].is_fiche != 0;
		if (d->nodes[i].depth < PLAN_IO_MAX_DEPTH) {
			counts[d->nodes[i].depth]++;
			if (d->nodes[i].depth > maxdepth)
				maxdepth = d->nodes[i].depth;
		}
	}
	json_t *levels = json_array();
	for (int k = 0; k <= maxdepth; k++) {
		json_array_append_new(levels,
		                      json_pack("{s:i,s:s,s:I}", "depth", k + 1, "name",
		                                (size_t)k < d->levels.n ? d->levels.items[k] : "",
		                                "count", (json_int_t)counts[k]));
	}
	json_t *first = json_array();
	for (size_t i = 0; i < d->nnodes && i < FIRST_NODES; i++)
		json_array_append_new(first, json_pack("{s:s,s:s,s:b}", "number",
		                                       d->nodes[i].number ? d->nodes[i].number : "",
		                                       "title", d->nodes[i].title, "fiche",
		                                       d->nodes[i].is_fiche));
	return json_pack("{s:b,s:o,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:I,s:I,s:o,s:o}", "dry_run",
	                 dry_run, "plan_id", plan_id ? json_integer(plan_id) : json_null(), "title",
	                 d->title, "kind", d->kind, "kind_label", plan_kind_label(d->kind),
	                 "start_year", d->start_year ? json_integer(d->start_year) : json_null(),
	                 "end_year", d->end_year ? json_integer(d->end_year) : json_null(),
	                 "format", d->format ? d->format : "", "encoding",
	                 d->encoding_note ? d->encoding_note : "UTF-8", "nodes",
	                 (json_int_t)d->nnodes, "fiches", (json_int_t)fiches, "levels", levels,
	                 "first_nodes", first);
}

int plan_io_load(struct db *db, struct plan_doc *doc, int dry_run, int64_t user_id,
                 const char *origin, int64_t *plan_id, json_t **summary,
                 struct plan_io_errors *errs)
{
	*plan_id = 0;
	*summary = NULL;
	if (doc_check(doc, errs))
		return -1;
	struct load_ctx c = {.db = db, .doc = doc, .errs = errs};
	time_iso_now(c.now);
	if (db_begin(db) != DB_OK) {
		plan_io_error_add(errs, 0, 0, "Transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	int64_t pid = 0;
	int64_t *counter = xcalloc(doc->nnodes + 1, sizeof *counter);
	struct db_stmt *ins = NULL;
	int rc = load_plan_rows(&c, &pid);
	if (rc)
		goto out;
	ins = db_prepare(db, "INSERT INTO nodes (plan_id, parent_id, position, depth, number, "
	                     "title, description, archived, created_at, updated_at) "
	                     "VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?) RETURNING id");
	if (!ins) {
		rc = db_fail(&c, "éléments");
		goto out;
	}
	/* Positions given by the file are kept; the others follow the file's order. */
	for (size_t i = 0; i < doc->nnodes; i++)
		if (doc->nodes[i].position > counter[doc->nodes[i].parent])
			counter[doc->nodes[i].parent] = doc->nodes[i].position;
	for (size_t i = 0; i < doc->nnodes && !errs_full(errs); i++) {
		struct plan_doc_node *n = &doc->nodes[i];
		int64_t parent_id = n->parent ? doc->nodes[n->parent - 1].id : 0;
		if (!n->position)
			n->position = ++counter[n->parent];
		db_reset(ins);
		db_bind_int64(ins, 1, pid);
		if (parent_id)
			db_bind_int64(ins, 2, parent_id);
		else
			db_bind_null(ins, 2);
		db_bind_int64(ins, 3, n->position);
		db_bind_int64(ins, 4, n->depth);
		db_bind_text(ins, 5, n->title);
		db_bind_text(ins, 6, n->description ? n->description : "");
		db_bind_int64(ins, 7, n->archived);
		db_bind_text(ins, 8, c.now);
		db_bind_text(ins, 9, c.now);
		n->id = db_step(ins) == DB_ROW ? db_col_int64(ins, 0) : 0;
		if (!n->id) {
			rc = db_fail(&c, "éléments");
			goto out;
		}
		for (size_t k = 0; k < n->tags.n; k++) {
			const struct tagref *t = tagref_find(c.tags, c.ntags, n->tags.items[k]);
			if (!t) {
				NODE_ERR(
				    &c, n,
				    "étiquette inconnue « %s » pour « %s » : ni thématique CTG "
				    "(acces-droits, petite-enfance, enfance, jeunesse, "
				    "parentalite, animation-vie-sociale, logement), ni fil "
				    "conducteur du plan.",
				    n->tags.items[k], n->title);
				continue;
			}
			if (db_execf(db,
			             "INSERT INTO node_tags (node_id, tag_id) VALUES (?, ?) "
			             "ON CONFLICT DO NOTHING",
			             "II", n->id, t->id) != DB_OK) {
				rc = db_fail(&c, "étiquettes");
				goto out;
			}
		}
		if (n->is_fiche && load_fiche(&c, n)) {
			rc = -1;
			goto out;
		}
	}
	if (errs->n) {
		rc = -1;
		goto out;
	}
	if (plan_renumber(db, pid) != DB_OK) {
		rc = db_fail(&c, "numérotation");
		goto out;
	}
	/* Read the numbers back: nodes were inserted in document order, so ids ascend with it. */
	struct db_stmt *st =
	    db_queryf(db, "SELECT id, number FROM nodes WHERE plan_id = ? ORDER BY id", "I", pid);
	for (size_t i = 0; st && db_step(st) == DB_ROW;) {
		int64_t id = db_col_int64(st, 0);
		while (i < doc->nnodes && doc->nodes[i].id < id)
			i++;
		if (i < doc->nnodes && doc->nodes[i].id == id)
			set_str(&doc->nodes[i].number, db_col_text(st, 1));
	}
	db_finalize(st);
	/* The importer coordinates the new plan (administrators see every plan anyway). */
	if (user_id) {
		struct user *u = user_load(db, user_id);
		if (u && u->role != ROLE_ADMIN) {
			if (db_execf(db,
			             "INSERT INTO plan_members (plan_id, user_id, role) "
			             "VALUES (?, ?, 'coordinator')",
			             "II", pid, user_id) != DB_OK) {
				user_free(u);
				rc = db_fail(&c, "membres");
				goto out;
			}
			json_t *after =
			    json_pack("{s:I,s:I,s:s}", "plan_id", (json_int_t)pid, "user_id",
			              (json_int_t)user_id, "role", "coordinator");
			audit_write_id(db, user_id, origin, "create", "plan_member", pid, NULL,
			               after);
			json_decref(after);
		}
		user_free(u);
	}
	*summary = summary_json(doc, dry_run, dry_run ? 0 : pid);
	json_t *after = json_pack(
	    "{s:s,s:s,s:o,s:o,s:s,s:s,s:O,s:O}", "title", doc->title, "kind", doc->kind,
	    "start_year", doc->start_year ? json_integer(doc->start_year) : json_null(), "end_year",
	    doc->end_year ? json_integer(doc->end_year) : json_null(), "source", "import", "format",
	    doc->format ? doc->format : "", "nodes", json_object_get(*summary, "nodes"), "fiches",
	    json_object_get(*summary, "fiches"));
	rc = audit_write_id(db, user_id, origin, "create", "plan", pid, NULL, after) == DB_OK ? 0
	                                                                                      : -1;
	json_decref(after);
	for (size_t i = 0; !rc && i < doc->nnodes; i++) {
		json_t *a = node_after(db, &doc->nodes[i]);
		if (audit_write_id(db, user_id, origin, "create", "node", doc->nodes[i].id, NULL,
		                   a) != DB_OK)
			rc = -1;
		json_decref(a);
	}
	if (rc)
		db_fail(&c, "journal");
out:
	db_finalize(ins);
	free(counter);
	tagrefs_free(c.tags, c.ntags);
	tagrefs_free(c.impacts, c.nimpacts);
	if (rc || dry_run) {
		db_rollback(db);
		if (rc) {
			json_decref(*summary);
			*summary = NULL;
			return -1;
		}
		return 0;
	}
	if (db_commit(db) != DB_OK) {
		plan_io_error_add(errs, 0, 0, "Validation de la transaction impossible : %s",
		                  db_errmsg(db));
		db_rollback(db);
		json_decref(*summary);
		*summary = NULL;
		return -1;
	}
	*plan_id = pid;
	return 0;
}

/* --- the whole import ------------------------------------------------------------------------- */

enum plan_io_format plan_io_format_parse(const char *name)
{
	if (!name)
		return PLAN_IO_NONE;
	if (!strcasecmp(name, "csv"))
		return PLAN_IO_CSV;
	if (!strcasecmp(name, "md") || !strcasecmp(name, "markdown"))
		return PLAN_IO_MARKDOWN;
	if (!strcasecmp(name, "json"))
		return PLAN_IO_JSON;
	if (!strcasecmp(name, "xlsx"))
		return PLAN_IO_XLSX;
	return PLAN_IO_NONE;
}

enum plan_io_format plan_io_format_guess(const char *filename, const char *data, size_t len)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;
	if (dot) {
		if (!strcasecmp(dot, ".csv"))
			return PLAN_IO_CSV;
		if (!strcasecmp(dot, ".md") || !strcasecmp(dot, ".markdown"))
			return PLAN_IO_MARKDOWN;
		if (!strcasecmp(dot, ".json"))
			return PLAN_IO_JSON;
		if (!strcasecmp(dot, ".xlsx"))
			return PLAN_IO_XLSX;
	}
	size_t i = 0;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = 3;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i + 1 < len && data[i] == 'P' && data[i + 1] == 'K')
		return PLAN_IO_XLSX;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return PLAN_IO_JSON;
	if (i + 2 < len && !memcmp(data + i, "---", 3))
		return PLAN_IO_MARKDOWN;
	if (i < len && data[i] == '#') {
		size_t k = i;
		while (k < len && data[k] == '#')
			k++;
		if (k < len && (data[k] == ' ' || data[k] == '\t'))
			return PLAN_IO_MARKDOWN;
	}
	if (i < len && (data[i] == '-' || data[i] == '*') && i + 1 < len && data[i + 1] == ' ')
		return PLAN_IO_MARKDOWN;
	return PLAN_IO_CSV;
}

int plan_io_import(struct db *db, enum plan_io_format format, const char *data, size_t len,
                   const struct plan_io_options *opt, int dry_run, int64_t user_id,
                   const char *origin, int64_t *plan_id, json_t **summary,
                   struct plan_io_errors *errs)
{
	*plan_id = 0;
	*summary = NULL;
	if (format == PLAN_IO_NONE)
		format = plan_io_format_guess(NULL, data, len);
	if (format == PLAN_IO_XLSX) {
		plan_io_error_add(
		    errs, 0, 0,
		    "Les classeurs XLSX ne s'importent pas directement : enregistrez la "
		    "feuille « Arborescence » au format CSV (séparateur point-virgule, "
		    "UTF-8) et importez ce fichier.");
		return -1;
	}
	size_t tlen = 0;
	char *note = NULL;
	char *text = plan_io_decode(data, len, &tlen, &note, errs);
	if (!text)
		return -1;
	struct plan_doc doc = {0};
	doc.encoding_note = note;
	int rc = format == PLAN_IO_CSV        ? plan_io_parse_csv(text, tlen, &doc, errs)
	         : format == PLAN_IO_MARKDOWN ? plan_io_parse_markdown(text, tlen, &doc, errs)
	                                      : plan_io_parse_json(text, tlen, &doc, errs);
	free(text);
	if (!rc && opt) {
		if (opt->title && *opt->title)
			meta_apply(&doc, "titre", opt->title, NULL, "|", 0, 0, errs);
		if (opt->kind && *opt->kind)
			meta_apply(&doc, "type", opt->kind, NULL, "|", 0, 0, errs);
		if (opt->start_year)
			doc.start_year = opt->start_year;
		if (opt->end_year)
			doc.end_year = opt->end_year;
		rc = errs->n ? -1 : 0;
	}
	if (!rc)
		rc = plan_io_load(db, &doc, dry_run, user_id, origin, plan_id, summary, errs);
	plan_doc_free(&doc);
	return rc;
}

char *plan_io_summary_text(const json_t *s)
{
	struct buf b = {0};
	json_t *sy = json_object_get(s, "start_year"), *ey = json_object_get(s, "end_year");
	buf_printf(&b, "Plan « %s » — %s", json_string_value(json_object_get(s, "title")),
	           json_string_value(json_object_get(s, "kind_label")));
	if (json_is_integer(sy) || json_is_integer(ey))
		buf_printf(&b, ", %lld-%lld", (long long)json_integer_value(sy),
		           (long long)json_integer_value(ey));
	buf_printf(&b, " (fichier %s).\n", json_string_value(json_object_get(s, "format")));
	const char *enc = json_string_value(json_object_get(s, "encoding"));
	if (enc && strcmp(enc, "UTF-8") != 0)
		buf_printf(&b, "%s\n", enc);
	long long nodes = json_integer_value(json_object_get(s, "nodes"));
	long long fiches = json_integer_value(json_object_get(s, "fiches"));
	buf_printf(&b, "%lld élément%s d'arborescence, dont %lld fiche%s-action%s :\n", nodes,
	           nodes > 1 ? "s" : "", fiches, fiches > 1 ? "s" : "", fiches > 1 ? "s" : "");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s, "levels"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		buf_printf(&b, "  niveau %lld%s%s%s : %lld\n",
		           (long long)json_integer_value(json_object_get(v, "depth")),
		           *name ? " (" : "", name, *name ? ")" : "",
		           (long long)json_integer_value(json_object_get(v, "count")));
	}
	buf_puts(&b, "Premiers éléments :\n");
	json_array_foreach(json_object_get(s, "first_nodes"), i, v)
	{
		buf_printf(&b, "  %s %s%s\n", json_string_value(json_object_get(v, "number")),
		           json_string_value(json_object_get(v, "title")),
		           json_is_true(json_object_get(v, "fiche")) ? " [fiche-action]" : "");
	}
	if (nodes > (long long)json_array_size(json_object_get(s, "first_nodes")))
		buf_puts(&b, "  …\n");
	return buf_steal(&b);
}

/* --- reading a plan back (CSV and XLSX exports) ------------------------------------------- */

struct id_index {
	int64_t id;
	size_t idx;
};

static int id_cmp(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct plan_doc_node *node_by_id(struct plan_doc *d, struct id_index *ix, int64_t id)
{
	struct id_index key = {id, 0};
	struct id_index *f = bsearch(&key, ix, d->nnodes, sizeof *ix, id_cmp);
	return f ? &d->nodes[f->idx] : NULL;
}

struct raw_node {
	int64_t id, parent;
	int64_t position;
	int depth, archived;
	char *number, *title, *description;
};

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_node *x = a, *y = b;
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Append the children of `parent` (sorted raw nodes), depth first, skipping archived ones. */
static void flatten(struct plan_doc *d, struct raw_node *raw, size_t n, int64_t parent,
                    size_t parent_idx)
{
	struct raw_node key = {.parent = parent, .position = INT64_MIN, .id = INT64_MIN};
	size_t lo = 0, hi = n;
	while (lo < hi) { /* first node with this parent */
		size_t mid = (lo + hi) / 2;
		if (raw_cmp(&raw[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && raw[i].parent == parent; i++) {
		if (raw[i].archived)
			continue;
		size_t idx = doc_add_node(d, raw[i].title, raw[i].depth, parent_idx, 0);
		struct plan_doc_node *nd = &d->nodes[idx];
		set_str(&nd->description, raw[i].description);
		nd->number = xstrdup(raw[i].number);
		nd->id = raw[i].id;
		nd->position = raw[i].position;
		flatten(d, raw, n, raw[i].id, idx + 1);
	}
}

/* Rows (node_id, text) of a query on one plan, each text added to the list chosen by pick. */
static void attach_lists(struct db *db, struct plan_doc *d, struct id_index *ix, const char *sql,
                         int64_t plan_id, int which)
{
	struct db_stmt *st = db_queryf(db, sql, "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		struct plan_doc_node *n = node_by_id(d, ix, db_col_int64(st, 0));
		const char *v = db_col_text(st, 1);
		if (!n || !v)
			continue;
		struct plan_io_list *l = which == 0   ? &n->tags
		                         : which == 1 ? &n->fiche.pilots
		                         : which == 2 ? &n->fiche.partners
		                         : which == 3 ? &n->fiche.publics
		                         : which == 4 ? &n->fiche.communes
		                                      : &n->fiche.impacts;
		if (!list_has(l, v))
			list_add(l, v);
	}
	db_finalize(st);
}

int plan_io_doc_from_db(struct db *db, int64_t plan_id, struct plan_doc *d)
{
	memset(d, 0, sizeof *d);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT kind, title, start_year, end_year, description, "
	                               "is_public FROM plans WHERE id = ?",
	                               "I", plan_id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		return -1;
	}
	d->kind = xstrdup(db_col_text(st, 0));
	d->title = xstrdup(db_col_text(st, 1));
	d->start_year = db_col_is_null(st, 2) ? 0 : (int)db_col_int64(st, 2);
	d->end_year = db_col_is_null(st, 3) ? 0 : (int)db_col_int64(st, 3);
	d->description = xstrdup(db_col_text(st, 4) ? db_col_text(st, 4) : "");
	d->is_public = (int)db_col_int64(st, 5);
	db_finalize(st);
	st = db_queryf(db, "SELECT name FROM plan_levels WHERE plan_id = ? ORDER BY depth", "I",
	               plan_id);
	while (st && db_step(st) == DB_ROW)
		list_add(&d->levels, db_col_text(st, 0));
	db_finalize(st);
	st = db_queryf(db,
	               "SELECT scope, code FROM plan_territory WHERE plan_id = ? "
	               "ORDER BY scope, code",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		doc_add_territory(d, db_col_text(st, 0), db_col_text(st, 1));
	db_finalize(st);
	st = db_queryf(db,
	               "SELECT a.name FROM plan_signatories s JOIN actors a ON a.id = s.actor_id "
	               "WHERE s.plan_id = ? ORDER BY a.name",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		list_add(&d->signatories, db_col_text(st, 0));
	db_finalize(st);
	st = db_queryf(db, "SELECT kind, slug, label FROM tags WHERE plan_id = ? ORDER BY id", "I",
	               plan_id);
	while (st && db_step(st) == DB_ROW)
		doc_add_thread(d, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2));
	db_finalize(st);

	struct raw_node *raw = NULL;
	size_t n = 0, cap = 0;
	st = db_queryf(db,
	               "SELECT id, parent_id, position, depth, number, title, description, "
	               "archived FROM nodes WHERE plan_id = ?",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			raw = xrealloc(raw, cap * sizeof *raw);
		}
		raw[n].id = db_col_int64(st, 0);
		raw[n].parent = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		raw[n].position = db_col_int64(st, 2);
		raw[n].depth = (int)db_col_int64(st, 3);
		raw[n].number = xstrdup(db_col_text(st, 4));
		raw[n].title = xstrdup(db_col_text(st, 5));
		raw[n].description = xstrdup(db_col_text(st, 6) ? db_col_text(st, 6) : "");
		raw[n].archived = (int)db_col_int64(st, 7);
		n++;
	}
	db_finalize(st);
	if (n)
		qsort(raw, n, sizeof *raw, raw_cmp);
	flatten(d, raw, n, 0, 0);
	for (size_t i = 0; i < n; i++) {
		free(raw[i].number);
		free(raw[i].title);
		free(raw[i].description);
	}
	free(raw);

	struct id_index *ix = xcalloc(d->nnodes + 1, sizeof *ix);
	for (size_t i = 0; i < d->nnodes; i++)
		ix[i] = (struct id_index){d->nodes[i].id, i};
	qsort(ix, d->nnodes, sizeof *ix, id_cmp);
	st = db_queryf(db,
	               "SELECT f.node_id, f.status, f.progress, f.start_date, f.end_date, "
	               "f.expected_results, f.human_means, f.closing_note FROM fiches f "
	               "JOIN nodes n ON n.id = f.node_id WHERE n.plan_id = ?",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		struct plan_doc_node *nd = node_by_id(d, ix, db_col_int64(st, 0));
		if (!nd)
			continue;
		nd->is_fiche = 1;
		set_str(&nd->fiche.status, db_col_text(st, 1));
		set_str(&nd->fiche.progress, db_col_text(st, 2));
		set_str(&nd->fiche.start_date, db_col_text(st, 3));
		set_str(&nd->fiche.end_date, db_col_text(st, 4));
		set_str(&nd->fiche.expected_results, db_col_text(st, 5));
		set_str(&nd->fiche.human_means, db_col_text(st, 6));
		set_str(&nd->fiche.closing_note, db_col_text(st, 7));
	}
	db_finalize(st);
	attach_lists(db, d, ix,
	             "SELECT nt.node_id, g.slug FROM node_tags nt JOIN tags g ON g.id = nt.tag_id "
	             "JOIN nodes n ON n.id = nt.node_id WHERE n.plan_id = ? "
	             "ORDER BY nt.node_id, g.plan_id NULLS FIRST, g.id",
	             plan_id, 0);
	attach_lists(db, d, ix,
	             "SELECT p.node_id, COALESCE(a.name, u.name) FROM fiche_pilots p "
	             "JOIN nodes n ON n.id = p.node_id LEFT JOIN actors a ON a.id = p.actor_id "
	             "LEFT JOIN users u ON u.id = p.user_id WHERE n.plan_id = ? "
	             "ORDER BY p.node_id, p.id",
	             plan_id, 1);
	attach_lists(
	    db, d, ix,
	    "SELECT p.node_id, a.name FROM fiche_partners p JOIN nodes n ON n.id = p.node_id "
	    "JOIN actors a ON a.id = p.actor_id WHERE n.plan_id = ? "
	    "ORDER BY p.node_id, a.name",
	    plan_id, 2);
	attach_lists(
	    db, d, ix,
	    "SELECT p.node_id, p.label FROM fiche_publics p JOIN nodes n ON n.id = p.node_id "
	    "WHERE n.plan_id = ? ORDER BY p.node_id, p.label",
	    plan_id, 3);
	attach_lists(db, d, ix,
	             "SELECT p.node_id, p.commune FROM fiche_communes p "
	             "JOIN nodes n ON n.id = p.node_id WHERE n.plan_id = ? "
	             "ORDER BY p.node_id, p.commune",
	             plan_id, 4);
	attach_lists(
	    db, d, ix,
	    "SELECT p.node_id, p.domain FROM fiche_impacts p JOIN nodes n ON n.id = p.node_id "
	    "JOIN impact_domains i ON i.slug = p.domain WHERE n.plan_id = ? "
	    "ORDER BY p.node_id, i.position",
	    plan_id, 5);
	free(ix);
	return 0;
}

/* --- exports ------------------------------------------------------------------------------- */

static char *list_join(const struct plan_io_list *l, const char *sep)
{
	struct buf b = {0};
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, l->items[i]);
	}
	if (!b.data)
		buf_puts(&b, "");
	return buf_steal(&b);
}

static char *territory_join(const struct plan_doc *d)
{
	struct buf b = {0};
	for (size_t i = 0; i < d->nterritory; i++)
		buf_printf(&b, "%s%s:%s", i ? "|" : "", d->territory[i].scope,
		           d->territory[i].code);
	if (!b.data)
		buf_puts(&b, "");
	return buf_steal(&b);
}

/* The cell values of a node, in field order (F_LEVEL..F_COMMUNES); free with cells_free. */
static void node_cells(const struct plan_doc_node *n, char *cells[NFIELDS])
{
	cells[F_LEVEL] = xasprintf("%d", n->depth + 1);
	cells[F_NUMBER] = xstrdup(n->number ? n->number : "");
	cells[F_TITLE] = xstrdup(n->title);
	cells[F_DESCRIPTION] = xstrdup(n->description ? n->description : "");
	cells[F_TYPE] = xstrdup(n->is_fiche ? "fiche" : "nœud");
	const struct plan_doc_fiche *f = &n->fiche;
	cells[F_STATUS] = xstrdup(n->is_fiche && f->status ? fiche_status_label(f->status) : "");
	cells[F_PROGRESS] =
	    xstrdup(n->is_fiche && f->progress ? fiche_progress_label(f->progress) : "");
	cells[F_START] = xstrdup(f->start_date ? f->start_date : "");
	cells[F_END] = xstrdup(f->end_date ? f->end_date : "");
	cells[F_PILOTS] = list_join(&f->pilots, " | ");
	cells[F_PARTNERS] = list_join(&f->partners, " | ");
	cells[F_PUBLICS] = list_join(&f->publics, " | ");
	cells[F_TAGS] = list_join(&n->tags, " | ");
	cells[F_IMPACTS] = list_join(&f->impacts, " | ");
	cells[F_COMMUNES] = list_join(&f->communes, " | ");
}

static void cells_free(char *cells[NFIELDS])
{
	for (int f = 0; f < NFIELDS; f++)
		free(cells[f]);
}

/* Plan metadata as (key, value, value2) rows shared by the CSV and the XLSX "Plan" sheet. */
struct meta_row {
	const char *key, *label;
	char *value, *value2;
};

static size_t meta_rows(const struct plan_doc *d, struct meta_row **out)
{
	size_t n = 0;
	struct meta_row *m = xcalloc(10 + d->nthreads, sizeof *m);
	m[n++] = (struct meta_row){"titre", "Titre", xstrdup(d->title), NULL};
	m[n++] = (struct meta_row){"type", "Type", xstrdup(d->kind), NULL};
	m[n++] =
	    (struct meta_row){"debut", "Année de début",
	                      d->start_year ? xasprintf("%d", d->start_year) : xstrdup(""), NULL};
	m[n++] = (struct meta_row){"fin", "Année de fin",
	                           d->end_year ? xasprintf("%d", d->end_year) : xstrdup(""), NULL};
	m[n++] = (struct meta_row){"description", "Description",
	                           xstrdup(d->description ? d->description : ""), NULL};
	m[n++] = (struct meta_row){"public", "Public", xstrdup(d->is_public ? "oui" : "non"), NULL};
	m[n++] = (struct meta_row){"niveaux", "Niveaux", list_join(&d->levels, "|"), NULL};
	m[n++] = (struct meta_row){"territoire", "Territoire", territory_join(d), NULL};
	m[n++] =
	    (struct meta_row){"signataires", "Signataires", list_join(&d->signatories, "|"), NULL};
	for (size_t i = 0; i < d->nthreads; i++)
		m[n++] = (struct meta_row){
		    !strcmp(d->threads[i].kind, "territoire") ? "etiquette-territoire" : "fil",
		    !strcmp(d->threads[i].kind, "territoire") ? "Étiquette de territoire"
		                                              : "Fil conducteur",
		    xstrdup(d->threads[i].label), xstrdup(d->threads[i].slug)};
	*out = m;
	return n;
}

static void meta_rows_free(struct meta_row *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].value);
		free(m[i].value2);
	}
	free(m);
}

static void export_csv(const struct plan_doc *d, struct buf *out)
{
	struct csv_out w;
	csv_out_begin(&w, out);
	struct meta_row *m;
	size_t nm = meta_rows(d, &m);
	for (size_t i = 0; i < nm; i++) {
		if (!*m[i].value && strcmp(m[i].key, "titre") != 0)
			continue;
		csv_out_value(&w, "#plan");
		csv_out_value(&w, m[i].key);
		csv_out_text(&w, m[i].value);
		if (m[i].value2)
			csv_out_text(&w, m[i].value2);
		csv_out_row_end(&w);
	}
	meta_rows_free(m, nm);
	for (int f = 0; f < NFIELDS; f++)
		csv_out_value(&w, fields[f].name);
	csv_out_row_end(&w);
	for (size_t i = 0; i < d->nnodes; i++) {
		char *cells[NFIELDS];
		node_cells(&d->nodes[i], cells);
		for (int f = 0; f < NFIELDS; f++)
			csv_out_text(&w, cells[f]);
		csv_out_row_end(&w);
		cells_free(cells);
	}
}

/* Write an XLSX workbook to a temporary file, then append its bytes to out. */
static int export_xlsx(const struct plan_doc *d, struct buf *out, char **err)
{
	struct xlsx_out x;
	if (xlsx_out_open(&x, "plan.xlsx", d->title, err))
		return -1;
	lxw_workbook *wb = x.wb;
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_format *wrap = workbook_add_format(wb);
	format_set_text_wrap(wrap);
	format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
	lxw_format *datef = workbook_add_format(wb);
	format_set_num_format(datef, "dd/mm/yyyy");
	format_set_align(datef, LXW_ALIGN_VERTICAL_TOP);
	lxw_format *top = workbook_add_format(wb);
	format_set_align(top, LXW_ALIGN_VERTICAL_TOP);

	lxw_worksheet *ws = workbook_add_worksheet(wb, "Plan");
	worksheet_set_column(ws, 0, 0, 24, bold);
	worksheet_set_column(ws, 1, 1, 90, wrap);
	worksheet_set_column(ws, 2, 2, 28, NULL);
	worksheet_write_string(ws, 0, 0, "Rubrique", bold);
	worksheet_write_string(ws, 0, 1, "Valeur", bold);
	worksheet_write_string(ws, 0, 2, "Identifiant", bold);
	struct meta_row *m;
	size_t nm = meta_rows(d, &m);
	lxw_row_t row = 1;
	for (size_t i = 0; i < nm; i++, row++) {
		worksheet_write_string(ws, row, 0, m[i].label, bold);
		if (!strcmp(m[i].key, "type"))
			worksheet_write_string(ws, row, 1, plan_kind_label(m[i].value), wrap);
		else if ((!strcmp(m[i].key, "debut") || !strcmp(m[i].key, "fin")) && *m[i].value)
			worksheet_write_number(ws, row, 1, atof(m[i].value), top);
		else
			worksheet_write_string(ws, row, 1, m[i].value, wrap);
		if (m[i].value2)
			worksheet_write_string(ws, row, 2, m[i].value2, NULL);
	}
	meta_rows_free(m, nm);
	worksheet_freeze_panes(ws, 1, 0);

	ws = workbook_add_worksheet(wb, "Arborescence");
	static const double widths[NFIELDS] = {8,  10, 50, 60, 8,  13, 14, 12,
	                                       12, 30, 30, 25, 25, 30, 20};
	for (int f = 0; f < NFIELDS; f++)
		worksheet_set_column(ws, (lxw_col_t)f, (lxw_col_t)f, widths[f], NULL);
	for (int f = 0; f < NFIELDS; f++)
		worksheet_write_string(ws, 0, (lxw_col_t)f, fields[f].name, bold);
	worksheet_freeze_panes(ws, 1, 0);
	for (size_t i = 0; i < d->nnodes; i++) {
		char *cells[NFIELDS];
		node_cells(&d->nodes[i], cells);
		lxw_row_t r = (lxw_row_t)(i + 1);
		for (int f = 0; f < NFIELDS; f++) {
			lxw_col_t col = (lxw_col_t)f;
			if (f == F_LEVEL) {
				worksheet_write_number(ws, r, col, d->nodes[i].depth + 1, top);
			} else if ((f == F_START || f == F_END) && *cells[f]) {
				lxw_datetime dt = {0};
				sscanf(cells[f], "%d-%d-%d", &dt.year, &dt.month, &dt.day);
				worksheet_write_datetime(ws, r, col, &dt, datef);
			} else if (*cells[f]) {
				worksheet_write_string(ws, r, col, cells[f], wrap);
			}
		}
		cells_free(cells);
	}
	if (d->nnodes)
		worksheet_autofilter(ws, 0, 0, (lxw_row_t)d->nnodes, NFIELDS - 1);
	return xlsx_out_close(&x, out, err);
}

/* Add the import-relevant fields to each node of a plan_to_json tree. */
static void enrich_tree(struct db *db, json_t *arr)
{
	size_t i;
	json_t *n;
	json_array_foreach(arr, i, n)
	{
		int64_t id = json_integer_value(json_object_get(n, "id"));
		int64_t archived = 0;
		db_int64f(db, &archived, "SELECT archived FROM nodes WHERE id = ?", "I", id);
		json_object_set_new(n, "archived", json_boolean(archived));
		json_t *slugs = json_array();
		struct db_stmt *st = db_queryf(db,
		                               "SELECT g.slug FROM node_tags nt "
		                               "JOIN tags g ON g.id = nt.tag_id "
		                               "WHERE nt.node_id = ? ORDER BY g.label",
		                               "I", id);
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(slugs, json_string(db_col_text(st, 0)));
		db_finalize(st);
		json_object_set_new(n, "tag_slugs", slugs);
		json_t *f = fiche_snapshot(db, id);
		if (f) {
			json_object_del(f, "number");
			json_object_del(f, "title");
			json_object_del(f, "description");
			int64_t demo = 0;
			db_int64f(db, &demo, "SELECT is_demo FROM fiches WHERE node_id = ?", "I",
			          id);
			json_object_set_new(f, "demo", json_boolean(demo));
		}
		json_object_set_new(n, "fiche", f ? f : json_null());
		enrich_tree(db, json_object_get(n, "children"));
	}
}

json_t *plan_io_export_json(struct db *db, int64_t plan_id)
{
	json_t *p = plan_to_json(db, plan_id);
	if (!p)
		return NULL;
	json_t *threads = json_array();
	struct db_stmt *st = db_queryf(db,
	                               "SELECT kind, slug, label FROM tags WHERE plan_id = ? "
	                               "ORDER BY id",
	                               "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(threads,
		                      json_pack("{s:s,s:s,s:s}", "kind", db_col_text(st, 0), "slug",
		                                db_col_text(st, 1), "label", db_col_text(st, 2)));
	db_finalize(st);
	json_object_set_new(p, "threads", threads);
	enrich_tree(db, json_object_get(p, "tree"));
	return p;
}

int plan_io_export(struct db *db, int64_t plan_id, enum plan_io_format format, struct buf *out,
                   char **err)
{
	*err = NULL;
	if (format == PLAN_IO_JSON) {
		json_t *j = plan_io_export_json(db, plan_id);
		if (!j) {
			*err = xasprintf("le plan n° %lld n'existe pas", (long long)plan_id);
			return -1;
		}
		char *s =
		    json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
		json_decref(j);
		buf_puts(out, s);
		buf_putc(out, '\n');
		free(s);
		return 0;
	}
	if (format != PLAN_IO_CSV && format != PLAN_IO_XLSX) {
		*err = xstrdup("format d'export inconnu (csv, xlsx ou json)");
		return -1;
	}
	struct plan_doc d;
	if (plan_io_doc_from_db(db, plan_id, &d)) {
		*err = xasprintf("le plan n° %lld n'existe pas", (long long)plan_id);
		return -1;
	}
	int rc = 0;
	if (format == PLAN_IO_CSV)
		export_csv(&d, out);
	else
		rc = export_xlsx(&d, out, err);
	plan_doc_free(&d);
	return rc;
}

char *plan_io_filename(struct db *db, int64_t plan_id, const char *extension)
{
	struct db_stmt *st = db_queryf(db, "SELECT title FROM plans WHERE id = ?", "I", plan_id);
	char *slug = st && db_step(st) == DB_ROW ? slugify(db_col_text(st, 0)) : xstrdup("");
	db_finalize(st);
	/* slugify keeps only a-z, 0-9 and '-': ASCII-safe for a header */
	char *name = *slug ? xasprintf("%.60s.%s", slug, extension)
	                   : xasprintf("plan-%lld.%s", (long long)plan_id, extension);
	free(slug);
	return name;
}

/* --- web pages and API ------------------------------------------------------------------------ */

/* First statement of the import handlers: administrators and coordinators (global role). */
static int import_require(struct req *r)
{
	if (r->user && r->user->role >= ROLE_COORDINATOR)
		return 0;
	resp_error(r, r->user ? 403 : 401,
	           r->user
	               ? "Seuls les administrateurs et les coordinateurs peuvent importer un plan."
	               : "Connectez-vous pour importer un plan.");
	return -1;
}

static const char *const form_kinds[] = {"ctg", "schema", "projet_social", "autre"};

static void summary_html(struct req *r, const json_t *s)
{
	struct buf *o = &r->out;
	json_t *sy = json_object_get(s, "start_year"), *ey = json_object_get(s, "end_year");
	html_printf(o,
	            "<section class=\"panel\" aria-labelledby=\"sim-title\"><h2 id=\"sim-title\">"
	            "Simulation : ce qui serait créé</h2>"
	            "<p class=\"notice notice-success\" role=\"status\">Le fichier est valide. "
	            "<strong>Rien n'a été enregistré</strong> : décochez « simulation » et "
	            "envoyez à nouveau le fichier pour créer le plan.</p>"
	            "<dl class=\"facts\"><div><dt>Titre</dt><dd>%s</dd></div>"
	            "<div><dt>Type</dt><dd>%s</dd></div>",
	            json_string_value(json_object_get(s, "title")),
	            json_string_value(json_object_get(s, "kind_label")));
	if (json_is_integer(sy) || json_is_integer(ey))
		html_printf(o, "<div><dt>Période</dt><dd>%lld-%lld</dd></div>",
		            (long long)json_integer_value(sy), (long long)json_integer_value(ey));
	html_printf(o,
	            "<div><dt>Format</dt><dd>%s</dd></div><div><dt>Encodage</dt><dd>%s</dd></div>"
	            "<div><dt>Éléments</dt><dd>%lld, dont %lld fiches-actions</dd></div></dl>",
	            json_string_value(json_object_get(s, "format")),
	            json_string_value(json_object_get(s, "encoding")),
	            (long long)json_integer_value(json_object_get(s, "nodes")),
	            (long long)json_integer_value(json_object_get(s, "fiches")));
	buf_puts(
	    o,
	    "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Éléments par niveau</caption>"
	    "<thead><tr><th scope=\"col\">Niveau</th><th scope=\"col\">Nom</th>"
	    "<th scope=\"col\">Nombre</th></tr></thead><tbody>");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s, "levels"), i, v)
	{
		html_printf(o, "<tr><td>%lld</td><td>%s</td><td>%lld</td></tr>",
		            (long long)json_integer_value(json_object_get(v, "depth")),
		            *json_string_value(json_object_get(v, "name"))
		                ? json_string_value(json_object_get(v, "name"))
		                : "—",
		            (long long)json_integer_value(json_object_get(v, "count")));
	}
	buf_puts(
	    o,
	    "</tbody></table></div>"
	    "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Premiers éléments, avec leur "
	    "numéro</caption><thead><tr><th scope=\"col\">Numéro</th><th scope=\"col\">"
	    "Titre</th><th scope=\"col\">Fiche-action</th></tr></thead><tbody>");
	json_array_foreach(json_object_get(s, "first_nodes"), i, v)
	{
		html_printf(o, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>",
		            json_string_value(json_object_get(v, "number")),
		            json_string_value(json_object_get(v, "title")),
		            json_is_true(json_object_get(v, "fiche")) ? "oui" : "non");
	}
	buf_puts(o, "</tbody></table></div></section>\n");
}

/* The import page: errors or a dry-run summary (either may be NULL) above the form. */
static void import_page(struct req *r, int status, const struct plan_io_errors *errs,
                        const json_t *summary, int dry_checked)
{
	page_begin(r, "Importer un plan", NULL);
	struct buf *o = &r->out;
	buf_puts(o, "<h1>Importer un plan</h1>\n"
	            "<p>Créez un plan complet — ses informations et toute son arborescence — à "
	            "partir d'un fichier CSV, d'un plan Markdown (titres et puces, comme un "
	            "document copié depuis un traitement de texte) ou d'un export JSON de "
	            "maillage. Tout est vérifié avant d'enregistrer : au moindre problème, rien "
	            "n'est créé et chaque erreur indique sa ligne.</p>\n");
	if (errs && errs->n) {
		buf_puts(o, "<div class=\"notice notice-error\" role=\"alert\"><p><strong>Le "
		            "fichier est refusé : rien n'a été enregistré.</strong></p><ul>");
		for (size_t i = 0; i < errs->n; i++)
			html_printf(o, "<li>%s</li>", errs->items[i].message);
		if (errs->truncated)
			html_printf(o, "<li>… seules les %d premières erreurs sont indiquées.</li>",
			            PLAN_IO_MAX_ERRORS);
		buf_puts(o, "</ul></div>\n");
	}
	if (summary)
		summary_html(r, summary);
	const char *fmt = req_form(r, "format"), *title = req_form(r, "titre"),
	           *kind = req_form(r, "type"), *y0 = req_form(r, "debut"),
	           *y1 = req_form(r, "fin");
	buf_puts(o, "<form method=\"post\" action=\"/plans/importer\" class=\"form\" "
	            "enctype=\"multipart/form-data\">");
	page_csrf(r);
	buf_puts(o,
	         "<div class=\"field\"><label for=\"imp-file\">Fichier du plan</label>"
	         "<input id=\"imp-file\" name=\"fichier\" type=\"file\" required "
	         "accept=\".csv,.md,.markdown,.txt,.json,text/csv,text/markdown,application/json\" "
	         "aria-describedby=\"imp-file-hint\"><p class=\"hint\" id=\"imp-file-hint\">CSV "
	         "(séparateur point-virgule, UTF-8 ou Windows-1252), Markdown ou JSON ; 10 Mo au "
	         "plus. Après une erreur, choisissez à nouveau le fichier corrigé.</p></div>");
	static const struct {
		const char *value, *label;
	} formats[] = {{"auto", "Deviner d'après le nom du fichier"},
	               {"csv", "CSV"},
	               {"md", "Markdown"},
	               {"json", "JSON"}};
	buf_puts(o, "<div class=\"field\"><label for=\"imp-format\">Format</label>"
	            "<select id=\"imp-format\" name=\"format\">");
	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", formats[i].value,
		            fmt && !strcmp(fmt, formats[i].value) ? " selected" : "",
		            formats[i].label);
	buf_puts(o, "</select></div>");
	html_printf(o,
	            "<fieldset><legend>Informations du plan</legend><p class=\"hint\">Facultatives "
	            "quand le fichier les donne ; sinon elles les remplacent.</p>"
	            "<div class=\"field\"><label for=\"imp-title\">Titre</label>"
	            "<input id=\"imp-title\" name=\"titre\" maxlength=\"500\" value=\"%s\"></div>"
	            "<div class=\"field\"><label for=\"imp-kind\">Type de plan</label>"
	            "<select id=\"imp-kind\" name=\"type\"><option value=\"\">Celui du "
	            "fichier</option>",
	            title ? title : "");
	for (size_t i = 0; i < 4; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", form_kinds[i],
		            kind && !strcmp(kind, form_kinds[i]) ? " selected" : "",
		            plan_kind_label(form_kinds[i]));
	html_printf(o,
	            "</select></div><div class=\"field\"><label for=\"imp-start\">Année de "
	            "début</label><input id=\"imp-start\" name=\"debut\" type=\"number\" "
	            "min=\"1900\" max=\"2200\" value=\"%s\"></div>"
	            "<div class=\"field\"><label for=\"imp-end\">Année de fin</label>"
	            "<input id=\"imp-end\" name=\"fin\" type=\"number\" min=\"1900\" max=\"2200\" "
	            "value=\"%s\"></div></fieldset>"
	            "<div class=\"field\"><label for=\"imp-dry\"><input id=\"imp-dry\" "
	            "name=\"simulation\" type=\"checkbox\" value=\"1\"%R "
	            "aria-describedby=\"imp-dry-hint\">Simulation (essai à blanc)</label>"
	            "<p class=\"hint\" id=\"imp-dry-hint\">Vérifie tout le fichier et montre ce "
	            "qui serait créé, sans rien enregistrer.</p></div>"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Importer"
	            "</button><a href=\"/\">Annuler</a></div></form>\n",
	            y0 ? y0 : "", y1 ? y1 : "", dry_checked ? " checked" : "");
	buf_puts(o, "<details><summary>Colonnes du fichier CSV</summary><p>Une ligne d'en-tête "
	            "puis une ligne par élément : <code>niveau</code> (1 à 8) ou "
	            "<code>numero</code> (1.2.3), <code>titre</code> (obligatoire), "
	            "<code>description</code>, <code>type</code> (nœud ou fiche), "
	            "<code>statut</code>, <code>avancement</code>, <code>debut</code>, "
	            "<code>fin</code>, <code>pilotes</code>, <code>partenaires</code>, "
	            "<code>publics</code>, <code>etiquettes</code>, <code>impacts</code>, "
	            "<code>communes</code> (listes séparées par « | »). Avant l'en-tête, des "
	            "lignes <code>#plan;titre;…</code>, <code>#plan;type;ctg</code>, "
	            "<code>#plan;periode;2025-2028</code>, <code>#plan;niveaux;Axe|Orientation|"
	            "Fiche-action</code> décrivent le plan. Un export CSV de maillage se "
	            "réimporte tel quel.</p></details>\n");
	page_end(r);
	r->status = status;
}

/* A year field: 0 when empty, -1 when not a year. */
static int form_year(const char *v)
{
	return str_blank(v) ? 0 : year_parse(v);
}

static void import_get(struct req *r)
{
	if (import_require(r))
		return;
	import_page(r, 200, NULL, NULL, 1);
}

static void import_post(struct req *r)
{
	if (import_require(r))
		return;
	struct plan_io_errors errs = {0};
	const struct upload *u = req_file(r, "fichier");
	int dry = !str_blank(req_form(r, "simulation"));
	const char *fmtname = req_form(r, "format"), *kind = req_form(r, "type");
	enum plan_io_format fmt = PLAN_IO_NONE;
	if (fmtname && *fmtname && strcmp(fmtname, "auto") != 0) {
		fmt = plan_io_format_parse(fmtname);
		if (fmt == PLAN_IO_NONE || fmt == PLAN_IO_XLSX)
			plan_io_error_add(&errs, 0, 0,
			                  "Format inconnu : choisissez CSV, Markdown "
			                  "ou JSON.");
	}
	if (kind && *kind && !plan_kind_valid(kind))
		plan_io_error_add(&errs, 0, 0, "Type de plan inconnu.");
	int y0 = form_year(req_form(r, "debut")), y1 = form_year(req_form(r, "fin"));
	if (y0 < 0 || y1 < 0)
		plan_io_error_add(&errs, 0, 0, "Les années sont des nombres entre 1900 et 2200.");
	const char *title = req_form(r, "titre");
	if (title && text_chars(title) > TITLE_MAX)
		plan_io_error_add(&errs, 0, 0, "Le titre dépasse %d caractères.", TITLE_MAX);
	if (!u || !u->data.len)
		plan_io_error_add(&errs, 0, 0,
		                  "Choisissez un fichier à importer (il est vide ou "
		                  "absent).");
	if (errs.n) {
		import_page(r, 422, &errs, NULL, dry);
		plan_io_errors_free(&errs);
		return;
	}
	const char *data = u ? u->data.data : "";
	size_t len = u ? u->data.len : 0;
	if (fmt == PLAN_IO_NONE)
		fmt = plan_io_format_guess(u ? u->filename : NULL, data, len);
	struct plan_io_options opt = {title, kind, y0, y1};
	int64_t pid = 0;
	json_t *summary = NULL;
	if (plan_io_import(r->db, fmt, data, len, &opt, dry, r->user->id, "web", &pid, &summary,
	                   &errs)) {
		import_page(r, 422, &errs, NULL, dry);
	} else if (dry) {
		import_page(r, 200, NULL, summary, 0);
	} else {
		char loc[64];
		snprintf(loc, sizeof loc, "/plans/%lld?ok=importe", (long long)pid);
		resp_redirect(r, loc);
	}
	json_decref(summary);
	plan_io_errors_free(&errs);
}

static const char *export_ctype(enum plan_io_format f)
{
	return f == PLAN_IO_CSV    ? "text/csv; charset=utf-8"
	       : f == PLAN_IO_XLSX ? "application/vnd.openxmlformats-officedocument."
	                             "spreadsheetml.sheet"
	                           : "application/json; charset=utf-8";
}

/* Answer the export of a plan (the caller checked the role). */
static void export_send(struct req *r, int64_t id, enum plan_io_format f)
{
	char *err = NULL;
	buf_reset(&r->out);
	if (plan_io_export(r->db, id, f, &r->out, &err)) {
		resp_error(r, 500, err ? err : "Export impossible.");
		free(err);
		return;
	}
	static const char *const ext[] = {"", "csv", "md", "json", "xlsx"};
	char *name = plan_io_filename(r->db, id, ext[f]);
	char *disp = xasprintf("attachment; filename=\"%s\"", name);
	resp_header(r, "Content-Disposition", disp);
	resp_header(r, "Cache-Control", "private, no-store");
	free(disp);
	free(name);
	resp_send(r, 200, export_ctype(f));
}

static void export_page(struct req *r, enum plan_io_format f)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_PUBLIC))
		return;
	export_send(r, id, f);
}

static void export_csv_get(struct req *r)
{
	export_page(r, PLAN_IO_CSV);
}

static void export_xlsx_get(struct req *r)
{
	export_page(r, PLAN_IO_XLSX);
}

static void export_json_get(struct req *r)
{
	export_page(r, PLAN_IO_JSON);
}

static void api_export(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_PUBLIC))
		return;
	const char *fq = req_query(r, "format");
	enum plan_io_format f = fq ? plan_io_format_parse(fq) : PLAN_IO_JSON;
	if (f == PLAN_IO_NONE || f == PLAN_IO_MARKDOWN) {
		resp_error(r, 400, "Format d'export inconnu : csv, xlsx ou json.");
		return;
	}
	export_send(r, id, f);
}

static int truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "oui"));
}

static void api_import(struct req *r)
{
	if (import_require(r))
		return;
	const char *fq = req_query(r, "format");
	enum plan_io_format fmt = PLAN_IO_NONE;
	if (fq && *fq) {
		fmt = plan_io_format_parse(fq);
		if (fmt == PLAN_IO_NONE || fmt == PLAN_IO_XLSX) {
			resp_error(r, 400, "Format inconnu : csv, md ou json.");
			return;
		}
	}
	const struct upload *u = req_file(r, "fichier");
	const char *data = u ? u->data.data : r->body.data;
	size_t len = u ? u->data.len : r->body.len;
	if (!len || !data) {
		resp_error(r, 400, "Corps de requête vide : envoyez le fichier du plan.");
		return;
	}
	if (fmt == PLAN_IO_NONE) {
		const char *ct = req_header(r, "Content-Type");
		if (ct && !strncasecmp(ct, "text/csv", 8))
			fmt = PLAN_IO_CSV;
		else if (ct && !strncasecmp(ct, "text/markdown", 13))
			fmt = PLAN_IO_MARKDOWN;
		else if (ct && !strncasecmp(ct, "application/json", 16))
			fmt = PLAN_IO_JSON;
		else
			fmt = plan_io_format_guess(u ? u->filename : NULL, data, len);
	}
	const char *kind = req_query(r, "kind");
	int y0 = form_year(req_query(r, "start_year")), y1 = form_year(req_query(r, "end_year"));
	if ((kind && *kind && !plan_kind_valid(kind)) || y0 < 0 || y1 < 0) {
		resp_error(r, 400,
		           "Paramètres non valides : kind (ctg, schema, projet_social, "
		           "autre), start_year et end_year (1900 à 2200).");
		return;
	}
	struct plan_io_options opt = {req_query(r, "title"), kind, y0, y1};
	int dry = truthy(req_query(r, "dry_run"));
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *summary = NULL;
	if (plan_io_import(r->db, fmt, data, len, &opt, dry, r->user->id, "api", &pid, &summary,
	                   &errs)) {
		json_t *list = json_array();
		for (size_t i = 0; i < errs.n; i++)
			json_array_append_new(
			    list,
			    json_pack("{s:s,s:o,s:o}", "message", errs.items[i].message, "line",
			              errs.items[i].line ? json_integer(errs.items[i].line)
			                                 : json_null(),
			              "column",
			              errs.items[i].column ? json_integer(errs.items[i].column)
			                                   : json_null()));
		const struct plan_io_error *first = errs.n ? &errs.items[0] : NULL;
		json_t *e = json_pack(
		    "{s:{s:s,s:s,s:o,s:o,s:o}}", "error", "code", "invalid", "message",
		    first ? first->message : "Import refusé.", "line",
		    first && first->line ? json_integer(first->line) : json_null(), "column",
		    first && first->column ? json_integer(first->column) : json_null(), "errors",
		    list);
		resp_json(r, 422, e);
	} else {
		resp_json(r, dry ? 200 : 201,
		          json_pack("{s:o,s:O}", "plan_id", pid ? json_integer(pid) : json_null(),
		                    "summary", summary));
	}
	json_decref(summary);
	plan_io_errors_free(&errs);
}

const struct route plan_io_routes[] = {
    {M_GET, "/plans/importer", ACC_LOGIN, import_get,
     "Importer un plan (CSV, Markdown, JSON) : formulaire"},
    {M_POST, "/plans/importer", ACC_LOGIN, import_post,
     "Importer un plan : simulation ou création"},
    {M_GET, "/plans/{plan}/export.csv", ACC_PUBLIC, export_csv_get, "Export CSV d'un plan"},
    {M_GET, "/plans/{plan}/export.xlsx", ACC_PUBLIC, export_xlsx_get, "Export XLSX d'un plan"},
    {M_GET, "/plans/{plan}/export.json", ACC_PUBLIC, export_json_get, "Export JSON d'un plan"},
    {M_POST, "/api/v1/plans/import", ACC_LOGIN, api_import,
     "Importer un plan (corps = le fichier ; ?format=csv|md|json&dry_run=1)"},
    {M_GET, "/api/v1/plans/{plan}/export", ACC_PUBLIC, api_export,
     "Exporter un plan (?format=csv|xlsx|json)"},
    {0},
};
