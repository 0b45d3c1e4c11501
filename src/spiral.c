/* spiral: SPIRAL participation — workshops of a plan (counts of participants, never names),
 * criteria typed fast one per line, their classification into the SPIRAL key with suggestions by
 * keyword validated by a coordinator, the aggregation (top criteria per question, filterable by
 * territory and group type), links from components to the plan's orientations, exports (CSV with
 * French conventions, XLSX) and the JSON API.
 *
 * Roles: visitors of a public plan see the synthesis (counts only); readers of the plan see
 * everything; partners (and above) create workshops and type the criteria of the workshops they
 * created; coordinators do it for every workshop, validate the classification and link
 * components to orientations; administrators edit the key. */
#include "spiral.h"

#include "audit.h"
#include "csv_fr.h"
#include "db.h"
#include "embed.h"
#include "labels.h"
#include "layout.h"
#include "plans.h"
#include "store.h"
#include "text.h"
#include "util.h"
#include "xlsx_out.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define DESC_MAX_LEN     200
#define PLACE_MAX_LEN    200
#define LABEL_MAX_LEN    200
#define KEYWORDS_MAX_LEN 2000
#define PARTICIPANTS_MAX 100000
#define CLASSIFY_PAGE    300
#define TOP_DEFAULT      7
#define TOP_MAX          50

static const char *const QUESTION_CODES[] = {"bien_etre", "mal_etre", "capacites"};
static const char *const QUESTION_LABELS[] = {"Bien-être", "Mal-être", "Capacités"};
static const char *const QUESTION_ASKED[] = {
    "Qu'est-ce qui fait mon bien-être ?", "Qu'est-ce qui fait mon mal-être ?",
    "Qu'est-ce que je peux faire pour améliorer mon bien-être et celui de tous ?"};

static const char *const KINDS[] = {"plateforme", "groupe_pairs", "reunion_ouverte", NULL};
static const char *const KIND_LABELS[] = {
    "Plateforme multi-acteurs", "Groupe homogène (groupe de pairs)", "Réunion ouverte", NULL};

static const char *const GROUP_TYPES[] = {
    "habitants",      "jeunes", "familles", "seniors", "accompagnees",
    "professionnels", "elus",   "mixte",    "autre",   NULL};
static const char *const GROUP_TYPE_LABELS[] = {"Habitants",
                                                "Jeunes",
                                                "Parents et familles",
                                                "Personnes âgées",
                                                "Personnes accompagnées",
                                                "Professionnels",
                                                "Élus",
                                                "Mixte (multi-acteurs)",
                                                "Autre",
                                                NULL};

const char *spiral_question_code(int q)
{
	return q >= 0 && q < 3 ? QUESTION_CODES[q] : NULL;
}

int spiral_question_parse(const char *code)
{
	for (int i = 0; code && i < 3; i++)
		if (!strcmp(code, QUESTION_CODES[i]))
			return i;
	return SPQ_NONE;
}

static const char *question_label(const char *code)
{
	int q = spiral_question_parse(code);
	return q >= 0 ? QUESTION_LABELS[q] : "";
}

static const char *kind_label(const char *k)
{
	return label_of(KINDS, KIND_LABELS, k, "");
}

static const char *group_type_label(const char *g)
{
	return label_of(GROUP_TYPES, GROUP_TYPE_LABELS, g, "");
}

/* --- fast entry --- */

void spiral_entry_free(struct spiral_entry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->items[i].text);
	free(e->items);
	e->items = NULL;
	e->n = 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int spiral_entry_parse(const char *text, int default_q, struct spiral_entry *out, char **err)
{
	memset(out, 0, sizeof *out);
	*err = NULL;
	if (!text)
		text = "";
	size_t len = strlen(text);
	if (len > SPIRAL_ENTRY_MAX) {
		*err = xasprintf("Le texte est trop long (%d octets au plus) : enregistrez-le en "
		                 "plusieurs fois.",
		                 SPIRAL_ENTRY_MAX);
		return -1;
	}
	if (default_q < 0 || default_q > 2)
		default_q = SPQ_BIEN_ETRE;
	struct buf errs = {0};
	int nerr = 0, q = default_q, line = 0;
	size_t cap = 0;
	const char *p = text;
	while (*p) {
		line++;
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *raw = xstrndup(p, n);
		p += n + (eol ? 1 : 0);
		char *s = raw;
		while (is_space(*s))
			s++;
		size_t sl = strlen(s);
		while (sl && is_space(s[sl - 1]))
			s[--sl] = '\0';
		if (!*s) {
			free(raw);
			continue;
		}
		if (*s == '#') {
			char *f = text_fold(s + 1);
			int nq = !strncmp(f, "bien", 4)   ? SPQ_BIEN_ETRE
			         : !strncmp(f, "mal", 3)  ? SPQ_MAL_ETRE
			         : !strncmp(f, "capa", 4) ? SPQ_CAPACITES
			                                  : SPQ_NONE;
			free(f);
			if (nq == SPQ_NONE) {
				if (nerr++ < 10)
					buf_printf(
					    &errs,
					    "%sLigne %d : section inconnue (écrivez « # bien-être "
					    "», « # mal-être » ou « # capacités »).",
					    errs.len ? " " : "", line);
			} else {
				q = nq;
			}
			free(raw);
			continue;
		}
		int lq = q, approved = 0, seen_q = 0;
		for (;;) {
			if (*s == '*' && !approved) {
				approved = 1;
			} else if (!seen_q && (*s == '+' || *s == '-' || *s == '=')) {
				lq = *s == '+'   ? SPQ_BIEN_ETRE
				     : *s == '-' ? SPQ_MAL_ETRE
				                 : SPQ_CAPACITES;
				seen_q = 1;
			} else {
				break;
			}
			s++;
			while (is_space(*s))
				s++;
		}
		if (!*s) {
			if (nerr++ < 10)
				buf_printf(&errs, "%sLigne %d : le critère est vide.",
				           errs.len ? " " : "", line);
		} else if (text_chars(s) > SPIRAL_TEXT_MAX) {
			if (nerr++ < 10)
				buf_printf(&errs, "%sLigne %d : le critère dépasse %d caractères.",
				           errs.len ? " " : "", line, SPIRAL_TEXT_MAX);
		} else if (out->n >= SPIRAL_LINES_MAX) {
			free(raw);
			buf_free(&errs);
			spiral_entry_free(out);
			*err = xasprintf("Trop de critères : %d au plus par enregistrement.",
			                 SPIRAL_LINES_MAX);
			return -1;
		} else {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 32;
				out->items = xrealloc(out->items, cap * sizeof *out->items);
			}
			out->items[out->n++] = (struct spiral_line){
			    .question = lq, .approved = approved, .text = xstrdup(s), .line = line};
		}
		free(raw);
	}
	if (!nerr && out->n == 0) {
		*err = xstrdup("Aucun critère : écrivez un critère par ligne.");
		return -1;
	}
	if (nerr) {
		if (nerr > 10)
			buf_printf(&errs, " (et %d autres erreurs)", nerr - 10);
		*err = buf_steal(&errs);
		spiral_entry_free(out);
		return -1;
	}
	buf_free(&errs);
	return 0;
}

char *spiral_text_key(const char *text)
{
	char *f = text_fold(text);
	/* Trim ASCII punctuation and the French quotes « » (U+00AB, U+00BB) at both ends. */
	char *s = f;
	for (;;) {
		if (*s && strchr(" .,;:!?\"'()[]-_*", *s))
			s++;
		else if ((unsigned char)s[0] == 0xC2 &&
		         ((unsigned char)s[1] == 0xAB || (unsigned char)s[1] == 0xBB))
			s += 2;
		else
			break;
	}
	size_t n = strlen(s);
	for (;;) {
		if (n && strchr(" .,;:!?\"'()[]-_*", s[n - 1]))
			n--;
		else if (n >= 2 && (unsigned char)s[n - 2] == 0xC2 &&
		         ((unsigned char)s[n - 1] == 0xAB || (unsigned char)s[n - 1] == 0xBB))
			n -= 2;
		else
			break;
	}
	char *k = xstrndup(s, n);
	free(f);
	return k;
}

/* --- taxonomy --- */

void spiral_taxo_free(struct spiral_taxo *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].code);
		for (size_t k = 0; k < t->items[i].nkeywords; k++)
			free(t->items[i].keywords[k]);
		free(t->items[i].keywords);
	}
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

int spiral_taxo_load(struct db *db, struct spiral_taxo *t)
{
	memset(t, 0, sizeof *t);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT c.id, c.code, c.keywords FROM spiral_components c "
	                               "JOIN spiral_dimensions d ON d.id = c.dimension_id "
	                               "ORDER BY d.position, d.code, c.position, c.code",
	                               "");
	if (!st)
		return -1;
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 64;
			t->items = xrealloc(t->items, cap * sizeof *t->items);
		}
		struct spiral_taxo_item *it = &t->items[t->n++];
		memset(it, 0, sizeof *it);
		it->id = db_col_int64(st, 0);
		it->code = xstrdup(db_col_text(st, 1));
		const char *kw = db_col_text(st, 2) ? db_col_text(st, 2) : "";
		size_t kcap = 0;
		while (*kw) {
			const char *comma = strchr(kw, ',');
			size_t n = comma ? (size_t)(comma - kw) : strlen(kw);
			char *one = xstrndup(kw, n);
			char *folded = text_fold(one);
			free(one);
			if (*folded) {
				if (it->nkeywords == kcap) {
					kcap = kcap ? kcap * 2 : 8;
					it->keywords =
					    xrealloc(it->keywords, kcap * sizeof(char *));
				}
				it->keywords[it->nkeywords++] = folded;
			} else {
				free(folded);
			}
			kw += n + (comma ? 1 : 0);
		}
	}
	db_finalize(st);
	return 0;
}

/* 1 when kw occurs in s at the start of a word. */
static int word_prefix_match(const char *s, const char *kw)
{
	size_t kl = strlen(kw);
	for (const char *p = strstr(s, kw); p; p = strstr(p + 1, kw)) {
		(void)kl;
		if (p == s || p[-1] == ' ')
			return 1;
	}
	return 0;
}

int64_t spiral_taxo_suggest(const struct spiral_taxo *t, const char *text)
{
	char *f = text_fold(text);
	int64_t best = 0;
	size_t best_score = 0;
	for (size_t i = 0; i < t->n; i++) {
		size_t score = 0;
		for (size_t k = 0; k < t->items[i].nkeywords; k++)
			if (word_prefix_match(f, t->items[i].keywords[k]))
				score += strlen(t->items[i].keywords[k]);
		if (score > best_score) {
			best_score = score;
			best = t->items[i].id;
		}
	}
	free(f);
	return best;
}

static int code_valid(const char *s, size_t maxlen)
{
	size_t n = strlen(s);
	if (!n || n > maxlen)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

static const char *const KEY_COLUMNS[] = {"dimension", "libelle_dimension", "composante",
                                          "libelle",   "description",       "mots_cles"};

int spiral_taxonomy_import(struct db *db, const char *csv, size_t len, int64_t user_id,
                           const char *origin, int *ncomponents, char **err)
{
	*err = NULL;
	if (ncomponents)
		*ncomponents = 0;
	if (len >= 3 && !memcmp(csv, "\xEF\xBB\xBF", 3)) {
		csv += 3;
		len -= 3;
	}
	if (!utf8_valid_text(csv, len)) {
		*err = xstrdup("Ligne 1, colonne 1 : le fichier n'est pas du texte UTF-8 valide.");
		return -1;
	}
	if (db_begin(db) != DB_OK) {
		*err = xasprintf("transaction impossible : %s", db_errmsg(db));
		return -1;
	}
	int line = 1, header = 0, count = 0, rc = 0;
	char now[32];
	time_iso_now(now);
	json_t *after = json_array();
	struct csv_in in;
	csv_in_open(&in, csv, len, ';'); /* a failure is reported by csv_in_next */
	for (;;) {
		int got = csv_in_next(&in);
		if (got == 0)
			break;
		if (got < 0) {
			*err = xasprintf("Ligne %d, colonne %d : %s", in.err_line, in.err_column,
			                 csv_in_strerror(&in));
			rc = -1;
			break;
		}
		int start = line = in.line;
		char **f = in.field;
		int nf = (int)in.n;
		int comment = f[0][0] == '#';
		if (comment || (nf == 1 && !*f[0]))
			continue;
		if (!header) {
			header = 1;
			for (int k = 0; k < 6 && !*err; k++) {
				char *t = k < nf ? str_trim_dup(f[k]) : xstrdup("");
				if (strcmp(t, KEY_COLUMNS[k]) != 0)
					*err = xasprintf(
					    "Ligne %d, colonne %d : en-tête attendu « %s » "
					    "(colonnes : dimension;libelle_dimension;"
					    "composante;libelle;description;mots_cles).",
					    start, k + 1, KEY_COLUMNS[k]);
				free(t);
			}
			if (*err) {
				rc = -1;
				break;
			}
			continue;
		}
		char *v[6];
		for (int k = 0; k < 6; k++)
			v[k] = k < nf ? str_trim_dup(f[k]) : xstrdup("");
		if (nf != 6)
			*err =
			    xasprintf("Ligne %d, colonne %d : 6 colonnes attendues, %d trouvées.",
			              start, nf < 6 ? nf + 1 : 7, nf);
		else if (!code_valid(v[0], 4))
			*err =
			    xasprintf("Ligne %d, colonne 1 : code de dimension invalide (lettres "
			              "majuscules, 4 caractères au plus).",
			              start);
		else if (!*v[1] || text_chars(v[1]) > LABEL_MAX_LEN)
			*err = xasprintf("Ligne %d, colonne 2 : libellé de dimension vide ou trop "
			                 "long.",
			                 start);
		else if (!code_valid(v[2], 12))
			*err = xasprintf("Ligne %d, colonne 3 : code de composante invalide (ex. "
			                 "A01).",
			                 start);
		else if (!*v[3] || text_chars(v[3]) > LABEL_MAX_LEN)
			*err = xasprintf("Ligne %d, colonne 4 : libellé de composante vide ou trop "
			                 "long.",
			                 start);
		else if (text_chars(v[4]) > 1000)
			*err = xasprintf("Ligne %d, colonne 5 : description trop longue.", start);
		else if (text_chars(v[5]) > KEYWORDS_MAX_LEN)
			*err = xasprintf("Ligne %d, colonne 6 : mots-clés trop longs.", start);
		int64_t dim = 0;
		if (!*err) {
			int r1 = db_int64f(
			    db, &dim, "SELECT id FROM spiral_dimensions WHERE code = ?", "s", v[0]);
			if (r1 == DB_DONE) {
				int64_t npos = 0;
				db_int64f(
				    db, &npos,
				    "SELECT COALESCE(MAX(position), 0) + 1 FROM spiral_dimensions",
				    "");
				r1 = db_int64f(
				    db, &dim,
				    "INSERT INTO spiral_dimensions (code, label, position) "
				    "VALUES (?, ?, ?) RETURNING id",
				    "ssI", v[0], v[1], npos);
			} else if (r1 == DB_OK) {
				r1 = db_execf(db,
				              "UPDATE spiral_dimensions SET label = ? WHERE id = ?",
				              "sI", v[1], dim);
			}
			if (r1 != DB_OK)
				*err = xasprintf("Ligne %d, colonne 1 : %s", start, db_errmsg(db));
		}
		if (!*err) {
			int64_t cid = 0, cpos = ++count;
			int r2 = db_int64f(
			    db, &cid, "SELECT id FROM spiral_components WHERE code = ?", "s", v[2]);
			if (r2 == DB_DONE)
				r2 = db_int64f(
				    db, &cid,
				    "INSERT INTO spiral_components (dimension_id, code, label, "
				    "description, keywords, position) VALUES (?, ?, ?, ?, ?, ?) "
				    "RETURNING id",
				    "IssssI", dim, v[2], v[3], v[4], v[5], cpos);
			else if (r2 == DB_OK)
				r2 = db_execf(
				    db,
				    "UPDATE spiral_components SET dimension_id = ?, label = ?, "
				    "description = ?, keywords = ?, position = ? WHERE id = ?",
				    "IsssII", dim, v[3], v[4], v[5], cpos, cid);
			if (r2 != DB_OK)
				*err = xasprintf("Ligne %d, colonne 3 : %s", start, db_errmsg(db));
			else
				json_array_append_new(
				    after, json_pack("{s:s,s:s}", "code", v[2], "label", v[3]));
		}
		for (int k = 0; k < 6; k++)
			free(v[k]);
		if (*err) {
			rc = -1;
			break;
		}
	}
	csv_in_close(&in);
	if (!rc && !header) {
		*err = xstrdup("Ligne 1, colonne 1 : le fichier est vide (en-tête attendu).");
		rc = -1;
	}
	if (!rc && count == 0) {
		*err = xasprintf("Ligne %d, colonne 1 : aucune composante dans le fichier.", line);
		rc = -1;
	}
	if (!rc && audit_write(db, user_id, origin, "import", "spiral_key", "spiral", NULL,
	                       after) != DB_OK) {
		*err = xasprintf("journal : %s", db_errmsg(db));
		rc = -1;
	}
	json_decref(after);
	if (!rc && db_commit(db) != DB_OK) {
		*err = xasprintf("validation impossible : %s", db_errmsg(db));
		rc = -1;
	}
	if (rc)
		db_rollback(db);
	else if (ncomponents)
		*ncomponents = count;
	return rc;
}

int spiral_taxonomy_ensure(struct db *db, char **err)
{
	int64_t n = 0;
	if (db_int64f(db, &n, "SELECT COUNT(*) FROM spiral_dimensions", "") != DB_OK) {
		*err = xasprintf("clé SPIRAL : %s", db_errmsg(db));
		return -1;
	}
	if (n > 0)
		return 0;
	const struct embed_file *f = embed_find(SPIRAL_KEY_FILE);
	if (!f) {
		*err = xstrdup("clé SPIRAL absente du programme");
		return -1;
	}
	char *e = NULL;
	if (spiral_taxonomy_import(db, (const char *)f->data, f->size, 0, "system", NULL, &e)) {
		/* Another request may have loaded it at the same time: fine if it is there now. */
		if (db_int64f(db, &n, "SELECT COUNT(*) FROM spiral_dimensions", "") == DB_OK &&
		    n > 0) {
			free(e);
			return 0;
		}
		*err = xasprintf("clé SPIRAL : %s", e);
		free(e);
		return -1;
	}
	return 0;
}

/* --- storing criteria --- */

int spiral_criteria_add(struct db *db, int64_t workshop_id, const struct spiral_entry *e,
                        int64_t user_id, const char *origin, int is_demo)
{
	struct spiral_taxo t;
	if (spiral_taxo_load(db, &t))
		return DB_ERROR;
	int64_t pos = 0;
	int rc = db_int64f(db, &pos,
	                   "SELECT COALESCE(MAX(position), 0) FROM spiral_criteria WHERE "
	                   "workshop_id = ?",
	                   "I", workshop_id);
	char now[32];
	time_iso_now(now);
	json_t *after = json_array();
	struct db_stmt *st = rc == DB_OK
	                         ? db_prepare(db, "INSERT INTO spiral_criteria (workshop_id, "
	                                          "position, text, text_key, question, "
	                                          "group_approved, suggested_component_id, "
	                                          "is_demo, created_by, created_at) VALUES (?, "
	                                          "?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
	                         : NULL;
	if (!st)
		rc = DB_ERROR;
	for (size_t i = 0; rc == DB_OK && i < e->n; i++) {
		const struct spiral_line *l = &e->items[i];
		char *key = spiral_text_key(l->text);
		int64_t sug = spiral_taxo_suggest(&t, l->text);
		db_reset(st);
		db_bind_int64(st, 1, workshop_id);
		db_bind_int64(st, 2, ++pos);
		db_bind_text(st, 3, l->text);
		db_bind_text(st, 4, key);
		db_bind_text(st, 5, QUESTION_CODES[l->question]);
		db_bind_int64(st, 6, l->approved ? 1 : 0);
		if (sug)
			db_bind_int64(st, 7, sug);
		else
			db_bind_null(st, 7);
		db_bind_int64(st, 8, is_demo ? 1 : 0);
		if (user_id)
			db_bind_int64(st, 9, user_id);
		else
			db_bind_null(st, 9);
		db_bind_text(st, 10, now);
		int s = db_step(st);
		if (s != DB_ROW) {
			rc = s == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
		} else {
			json_array_append_new(after, json_pack("{s:I,s:s,s:s,s:b}", "id",
			                                       (json_int_t)db_col_int64(st, 0),
			                                       "text", l->text, "question",
			                                       QUESTION_CODES[l->question],
			                                       "group_approved", l->approved));
			db_step(st);
		}
		free(key);
	}
	db_finalize(st);
	if (rc == DB_OK && !is_demo)
		rc = audit_write_id(db, user_id, origin, "create", "spiral_criteria", workshop_id,
		                    NULL, after);
	json_decref(after);
	spiral_taxo_free(&t);
	return rc;
}

/* --- aggregation --- */

/* The SQL condition of a filter on workshops aliased w (with its `?`s), and its binding. */
static void filter_sql(struct buf *sql, const struct spiral_filter *f)
{
	if (f && f->territory && *f->territory)
		buf_puts(sql, " AND (w.territory_code = ? OR EXISTS (SELECT 1 FROM communes cm "
		              "WHERE cm.code = w.territory_code AND cm.epci = ?))");
	if (f && f->group_type && *f->group_type)
		buf_puts(sql, " AND w.group_type = ?");
	if (f && f->approved_only)
		buf_puts(sql, " AND c.group_approved = 1");
}

static int filter_bind(struct db_stmt *st, int k, const struct spiral_filter *f)
{
	if (f && f->territory && *f->territory) {
		db_bind_text(st, k++, f->territory);
		db_bind_text(st, k++, f->territory);
	}
	if (f && f->group_type && *f->group_type)
		db_bind_text(st, k++, f->group_type);
	return k;
}

json_t *spiral_top_texts(struct db *db, int64_t plan_id, int question,
                         const struct spiral_filter *f, int limit)
{
	struct buf sql = {0};
	buf_puts(&sql, "SELECT c.text_key, COUNT(*) FROM spiral_criteria c JOIN "
	               "spiral_workshops w ON w.id = c.workshop_id WHERE w.plan_id = ? AND "
	               "c.question = ?");
	filter_sql(&sql, f);
	buf_puts(&sql, " GROUP BY c.text_key ORDER BY COUNT(*) DESC, c.text_key LIMIT ?");
	struct db_stmt *st = db_prepare(db, buf_str(&sql));
	buf_free(&sql);
	if (!st)
		return NULL;
	db_bind_int64(st, 1, plan_id);
	db_bind_text(st, 2, spiral_question_code(question));
	int k = filter_bind(st, 3, f);
	db_bind_int64(st, k, limit);
	json_t *arr = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "key", db_col_text(st, 0),
		                                     "count", (json_int_t)db_col_int64(st, 1)));
	db_finalize(st);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		struct db_stmt *t = db_queryf(
		    db,
		    "SELECT c.text FROM spiral_criteria c JOIN spiral_workshops w ON w.id = "
		    "c.workshop_id WHERE w.plan_id = ? AND c.question = ? AND c.text_key = ? GROUP "
		    "BY "
		    "c.text ORDER BY COUNT(*) DESC, MIN(c.id) LIMIT 1",
		    "Iss", plan_id, spiral_question_code(question),
		    json_string_value(json_object_get(v, "key")));
		json_object_set_new(
		    v, "text", json_string(t && db_step(t) == DB_ROW ? db_col_text(t, 0) : ""));
		db_finalize(t);
	}
	return arr;
}

json_t *spiral_top_components(struct db *db, int64_t plan_id, int question,
                              const struct spiral_filter *f, int limit)
{
	struct buf sql = {0};
	buf_puts(&sql,
	         "SELECT k.id, k.code, k.label, d.code, d.label, COUNT(*) FROM spiral_criteria "
	         "c JOIN spiral_workshops w ON w.id = c.workshop_id JOIN spiral_components k "
	         "ON k.id = c.component_id JOIN spiral_dimensions d ON d.id = k.dimension_id "
	         "WHERE w.plan_id = ? AND c.question = ?");
	filter_sql(&sql, f);
	buf_puts(&sql, " GROUP BY k.id, k.code, k.label, d.code, d.label ORDER BY COUNT(*) DESC, "
	               "k.code LIMIT ?");
	struct db_stmt *st = db_prepare(db, buf_str(&sql));
	buf_free(&sql);
	if (!st)
		return NULL;
	db_bind_int64(st, 1, plan_id);
	db_bind_text(st, 2, spiral_question_code(question));
	int k = filter_bind(st, 3, f);
	db_bind_int64(st, k, limit);
	json_t *arr = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)db_col_int64(st, 0),
		              "code", db_col_text(st, 1), "label", db_col_text(st, 2), "dimension",
		              db_col_text(st, 3), "dimension_label", db_col_text(st, 4), "count",
		              (json_int_t)db_col_int64(st, 5)));
	db_finalize(st);
	return arr;
}

/* --- common page helpers --- */

/* The title of a plan (malloc'ed, "" when missing). */
static char *plan_title(struct db *db, int64_t plan_id)
{
	struct db_stmt *st = db_queryf(db, "SELECT title FROM plans WHERE id = ?", "I", plan_id);
	char *t = xstrdup(st && db_step(st) == DB_ROW ? db_col_text(st, 0) : "");
	db_finalize(st);
	return t;
}

/* The name of a commune or an EPCI by code (malloc'ed) or NULL. */
static char *territory_name(struct db *db, const char *code)
{
	if (!code || !*code)
		return NULL;
	struct db_stmt *st = db_queryf(db,
	                               "SELECT name FROM communes WHERE code = ? UNION ALL SELECT "
	                               "name FROM epcis WHERE code = ?",
	                               "ss", code, code);
	char *n = st && db_step(st) == DB_ROW ? xstrdup(db_col_text(st, 0)) : NULL;
	db_finalize(st);
	return n;
}

static int date_valid(const char *s)
{
	int y, m, d;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || y < 1990 || y > 2100 || m < 1 || m > 12 ||
	    d < 1)
		return 0;
	static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= md[m - 1] && !(m == 2 && d == 29 && !leap);
}

static void date_fr(struct buf *o, const char *iso)
{
	static const char *const months[] = {"janvier",   "février", "mars",     "avril",
	                                     "mai",       "juin",    "juillet",  "août",
	                                     "septembre", "octobre", "novembre", "décembre"};
	int y, m, d;
	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) {
		buf_puts(o, "—");
		return;
	}
	html_printf(o, "%d %s %d", d, months[m - 1], y);
}

struct workshop {
	int64_t id, plan_id, created_by, participants;
	int is_demo;
	char *kind, *group_description, *group_type, *place, *held_on, *territory_code;
};

static void workshop_free(struct workshop *w)
{
	free(w->kind);
	free(w->group_description);
	free(w->group_type);
	free(w->place);
	free(w->held_on);
	free(w->territory_code);
	memset(w, 0, sizeof *w);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Load workshop id and check the role on its plan: answers 404/403 itself and returns -1. */
static int workshop_require(struct req *r, int64_t id, enum role min, struct workshop *w)
{
	memset(w, 0, sizeof *w);
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT plan_id, kind, group_description, group_type, place, "
	              "held_on, territory_code, participants, is_demo, created_by "
	              "FROM spiral_workshops WHERE id = ?",
	              "I", id);
	int found = st && db_step(st) == DB_ROW;
	if (found) {
		w->id = id;
		w->plan_id = db_col_int64(st, 0);
		w->kind = xstrdup(db_col_text(st, 1));
		w->group_description = xstrdup(db_col_text(st, 2));
		w->group_type = xstrdup(db_col_text(st, 3));
		w->place = xstrdup(db_col_text(st, 4));
		w->held_on = dup_or_null(db_col_text(st, 5));
		w->territory_code = dup_or_null(db_col_text(st, 6));
		w->participants = db_col_int64(st, 7);
		w->is_demo = (int)db_col_int64(st, 8);
		w->created_by = db_col_is_null(st, 9) ? 0 : db_col_int64(st, 9);
	}
	db_finalize(st);
	if (!found) {
		resp_error(r, 404, "Cette page n'existe pas.");
		return -1;
	}
	if (plan_require(r, w->plan_id, min)) {
		workshop_free(w);
		return -1;
	}
	return 0;
}

/* Partners type the criteria of the workshops they created; coordinators of every workshop. */
static int can_enter(struct req *r, const struct workshop *w)
{
	if (!r->user)
		return 0;
	enum role role = plan_role(r, w->plan_id);
	if (role >= ROLE_COORDINATOR)
		return 1;
	return role >= ROLE_PARTNER && w->created_by == r->user->id;
}

static int can_coordinate(struct req *r, int64_t plan_id)
{
	return r->user && plan_role(r, plan_id) >= ROLE_COORDINATOR;
}

/* The <option>s of every component, grouped by dimension, with `selected` selected. */
static void component_options(struct req *r, int64_t selected, const char *empty_label)
{
	struct buf *o = &r->out;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT d.code, d.label, c.id, c.code, c.label FROM "
	                               "spiral_components c JOIN spiral_dimensions d ON d.id = "
	                               "c.dimension_id ORDER BY d.position, d.code, c.position, "
	                               "c.code",
	                               "");
	html_printf(o, "<option value=\"\">%s</option>", empty_label);
	char dim[16] = "";
	while (st && db_step(st) == DB_ROW) {
		if (strcmp(dim, db_col_text(st, 0)) != 0) {
			if (*dim)
				buf_puts(o, "</optgroup>");
			snprintf(dim, sizeof dim, "%s", db_col_text(st, 0));
			html_printf(o, "<optgroup label=\"%s — %s\">", db_col_text(st, 0),
			            db_col_text(st, 1));
		}
		html_printf(o, "<option value=\"%lld\"%R>%s %s</option>",
		            (long long)db_col_int64(st, 2),
		            db_col_int64(st, 2) == selected ? " selected" : "", db_col_text(st, 3),
		            db_col_text(st, 4));
	}
	if (*dim)
		buf_puts(o, "</optgroup>");
	db_finalize(st);
}

static void spiral_nav(struct req *r, int64_t plan_id, const char *current)
{
	static const struct {
		const char *slug, *label;
	} items[] = {{"", "Ateliers"},
	             {"/synthese", "Synthèse"},
	             {"/classement", "Classement"},
	             {"/liens", "Liens vers les orientations"}};
	buf_puts(&r->out, "<nav aria-label=\"Participation SPIRAL\"><p class=\"actions\">");
	for (size_t i = 0; i < sizeof items / sizeof *items; i++)
		html_printf(&r->out, "%R<a href=\"/plans/%lld/spiral%s\"%R>%s</a>", i ? " · " : "",
		            (long long)plan_id, items[i].slug,
		            !strcmp(current, items[i].slug) ? " aria-current=\"page\"" : "",
		            items[i].label);
	buf_puts(&r->out, "</p></nav>\n");
}

/* --- overview: the workshops of a plan --- */

/* GET /plans/{plan}/spiral */
static void overview_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	struct buf *o = &r->out;
	char *title = plan_title(r->db, plan_id);
	char *href = xasprintf("/plans/%lld", (long long)plan_id);
	struct crumb crumbs[] = {{title, href}, {NULL, NULL}};
	page_begin(r, "Participation SPIRAL", crumbs);
	html_printf(o,
	            "<h1>Participation SPIRAL</h1>\n<p class=\"lead\">Les ateliers de la méthode "
	            "SPIRAL du plan « %s » : chaque groupe répond à trois questions — « %s », « %s "
	            "» et « %s » — et chaque réponse, écrite sur un post-it, devient un "
	            "critère.</p>\n",
	            title, QUESTION_ASKED[0], QUESTION_ASKED[1], QUESTION_ASKED[2]);
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "classe"))
		page_notice(r, "success", "Le classement est enregistré.");
	spiral_nav(r, plan_id, "");
	int64_t nw = 0, np = 0, nc = 0, nu = 0;
	db_int64f(r->db, &nw, "SELECT COUNT(*) FROM spiral_workshops WHERE plan_id = ?", "I",
	          plan_id);
	db_int64f(r->db, &np,
	          "SELECT COALESCE(SUM(participants), 0) FROM spiral_workshops WHERE plan_id = ?",
	          "I", plan_id);
	db_int64f(r->db, &nc,
	          "SELECT COUNT(*) FROM spiral_criteria c JOIN spiral_workshops w ON w.id = "
	          "c.workshop_id WHERE w.plan_id = ?",
	          "I", plan_id);
	db_int64f(r->db, &nu,
	          "SELECT COUNT(*) FROM spiral_criteria c JOIN spiral_workshops w ON w.id = "
	          "c.workshop_id WHERE w.plan_id = ? AND c.component_id IS NULL",
	          "I", plan_id);
	html_printf(o,
	            "<dl class=\"facts\"><div><dt>Ateliers</dt><dd>%lld</dd></div><div><dt>"
	            "Participants</dt><dd>%lld</dd></div><div><dt>Critères (post-its)</dt><dd>"
	            "%lld</dd></div><div><dt>Critères à classer</dt><dd>%lld</dd></div></dl>\n",
	            (long long)nw, (long long)np, (long long)nc, (long long)nu);
	buf_puts(o, "<div class=\"actions\">");
	if (r->user && plan_role(r, plan_id) >= ROLE_PARTNER)
		html_printf(
		    o,
		    "<a class=\"button\" href=\"/plans/%lld/spiral/ateliers/nouveau\">Nouvel "
		    "atelier</a> ",
		    (long long)plan_id);
	if (r->user && r->user->role == ROLE_ADMIN)
		buf_puts(o, "<a class=\"button small\" href=\"/admin/spiral\">Clé SPIRAL "
		            "(administration)</a> ");
	html_printf(o,
	            "<a class=\"button small\" href=\"/plans/%lld/spiral/export.csv\">Exporter "
	            "(CSV)</a> <a class=\"button small\" href=\"/plans/%lld/spiral/export.xlsx\">"
	            "Exporter (XLSX)</a></div>\n",
	            (long long)plan_id, (long long)plan_id);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT w.id, w.kind, w.group_description, w.group_type, w.place, w.held_on, "
	    "w.territory_code, w.participants, w.is_demo, (SELECT COUNT(*) FROM spiral_criteria c "
	    "WHERE c.workshop_id = w.id) FROM spiral_workshops w WHERE w.plan_id = ? ORDER BY "
	    "w.held_on NULLS FIRST, w.id",
	    "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			buf_puts(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Ateliers "
			    "SPIRAL du plan</caption>\n<thead><tr><th scope=\"col\">Groupe</th>"
			    "<th scope=\"col\">Type d'atelier</th><th scope=\"col\">Type de "
			    "groupe</th><th scope=\"col\">Date</th><th scope=\"col\">Lieu</th>"
			    "<th scope=\"col\">Territoire</th><th scope=\"col\">Participants"
			    "</th><th scope=\"col\">Critères</th></tr></thead>\n<tbody>\n");
		char *tn = territory_name(r->db, db_col_text(st, 6));
		html_printf(o,
		            "<tr><th scope=\"row\"><a href=\"/spiral/ateliers/%lld\">%s</a>%R</th>"
		            "<td>%s</td><td>%s</td><td>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 2),
		            db_col_int64(st, 8) ? " <span class=\"badge\">démo</span>" : "",
		            kind_label(db_col_text(st, 1)), group_type_label(db_col_text(st, 3)));
		date_fr(o, db_col_text(st, 5));
		html_printf(o, "</td><td>%s</td><td>%s</td><td>%lld</td><td>%lld</td></tr>\n",
		            db_col_text(st, 4), tn ? tn : "—", (long long)db_col_int64(st, 7),
		            (long long)db_col_int64(st, 9));
		free(tn);
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucun atelier SPIRAL n'est encore enregistré pour ce plan.</p>\n");
	page_end(r);
	free(href);
	free(title);
}

/* --- creating a workshop --- */

/* The workshop form: new (w NULL) or editing w. After an error it shows what was typed. */
static void workshop_form(struct req *r, int64_t plan_id, const struct workshop *w,
                          const char *error)
{
	struct buf *o = &r->out;
	char *title = plan_title(r->db, plan_id);
	char *href = xasprintf("/plans/%lld", (long long)plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)plan_id);
	struct crumb crumbs[] = {{title, href}, {"Participation SPIRAL", shref}, {NULL, NULL}};
	const char *h1 = w ? "Modifier l'atelier SPIRAL" : "Nouvel atelier SPIRAL";
	page_begin(r, h1, crumbs);
	html_printf(o,
	            "<h1>%s</h1>\n<p class=\"lead\">Décrivez le groupe sans nommer personne : "
	            "seul le nombre de participants est enregistré.</p>\n",
	            h1);
	if (w)
		html_printf(o,
		            "<form class=\"form\" method=\"post\" "
		            "action=\"/spiral/ateliers/%lld/modifier\">\n",
		            (long long)w->id);
	else
		html_printf(o,
		            "<form class=\"form\" method=\"post\" "
		            "action=\"/plans/%lld/spiral/ateliers\">\n",
		            (long long)plan_id);
	page_csrf(r);
	if (error)
		page_notice(r, "error", error);
	/* The values shown: what was typed (a new workshop, or a refused form), else the stored
	 * ones. */
	const struct workshop *src = error ? NULL : w;
	char part[32];
	snprintf(part, sizeof part, "%lld", w ? (long long)w->participants : 0LL);
	const char *kind = src ? src->kind : req_form(r, "kind");
	const char *gt = src ? src->group_type : req_form(r, "group_type");
	const char *desc = src ? src->group_description : req_form(r, "group_description");
	const char *place = src ? src->place : req_form(r, "place");
	const char *held = src ? src->held_on : req_form(r, "held_on");
	const char *terr = src ? src->territory_code : req_form(r, "territory");
	const char *np = src ? part : req_form(r, "participants");
	buf_puts(o, "<div class=\"field\"><label for=\"w-kind\">Type d'atelier</label><select "
	            "id=\"w-kind\" name=\"kind\">");
	label_options(o, KINDS, KIND_LABELS, kind, NULL);
	html_printf(o,
	            "</select></div>\n<div class=\"field\"><label for=\"w-desc\">Description du "
	            "groupe</label><input id=\"w-desc\" name=\"group_description\" required "
	            "maxlength=\"%d\" value=\"%s\" aria-describedby=\"w-desc-hint\"><p "
	            "class=\"hint\" id=\"w-desc-hint\">Par exemple « agriculteurs », « jeunes "
	            "mamans du foyer de l'enfance ».</p></div>\n",
	            DESC_MAX_LEN, desc);
	buf_puts(o, "<div class=\"field\"><label for=\"w-gt\">Type de groupe</label><select "
	            "id=\"w-gt\" name=\"group_type\">");
	label_options(o, GROUP_TYPES, GROUP_TYPE_LABELS, gt, NULL);
	html_printf(
	    o,
	    "</select></div>\n<div class=\"field\"><label for=\"w-place\">Lieu</label><input "
	    "id=\"w-place\" name=\"place\" maxlength=\"%d\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"w-date\">Date</label><input id=\"w-date\" "
	    "name=\"held_on\" type=\"date\" value=\"%s\"></div>\n"
	    "<div class=\"field\"><label for=\"w-terr\">Territoire (code)</label><input "
	    "id=\"w-terr\" name=\"territory\" maxlength=\"9\" value=\"%s\" list=\"w-terr-list\" "
	    "aria-describedby=\"w-terr-hint\"><p class=\"hint\" id=\"w-terr-hint\">Code INSEE de "
	    "la commune (ex. 07010) ou SIREN de l'intercommunalité ; facultatif.</p></div>\n"
	    "<div class=\"field\"><label for=\"w-part\">Nombre de participants</label><input "
	    "id=\"w-part\" name=\"participants\" type=\"number\" min=\"0\" max=\"%d\" "
	    "value=\"%s\"></div>\n<div class=\"actions\"><button class=\"button\" "
	    "type=\"submit\">%s</button></div>\n</form>\n",
	    PLACE_MAX_LEN, place, held, terr, PARTICIPANTS_MAX, np ? np : "0",
	    w ? "Enregistrer" : "Créer l'atelier");
	/* Suggestions for the territory: the communes and EPCIs of the plan's territory. */
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT t.code, t.name FROM (SELECT c.code AS code, c.name AS name FROM communes c "
	    "WHERE EXISTS (SELECT 1 FROM plan_territory pt WHERE pt.plan_id = ? AND ((pt.scope = "
	    "'commune' AND pt.code = c.code) OR (pt.scope = 'epci' AND pt.code = c.epci) OR "
	    "(pt.scope = 'departement' AND pt.code = c.departement))) UNION SELECT e.code AS code, "
	    "e.name AS name FROM epcis e WHERE EXISTS (SELECT 1 FROM plan_territory pt WHERE "
	    "pt.plan_id = ? AND pt.scope = 'epci' AND pt.code = e.code)) t ORDER BY t.name, t.code "
	    "LIMIT 3000",
	    "II", plan_id, plan_id);
	buf_puts(o, "<datalist id=\"w-terr-list\">");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%s\">%s</option>", db_col_text(st, 0),
		            db_col_text(st, 1));
	db_finalize(st);
	buf_puts(o, "</datalist>\n");
	page_end(r);
	if (error)
		r->status = 422;
	free(title);
	free(href);
	free(shref);
}

/* GET /plans/{plan}/spiral/ateliers/nouveau */
static void workshop_new_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_PARTNER))
		return;
	workshop_form(r, plan_id, NULL, NULL);
}

/* The fields of a workshop from a form or JSON, validated. */
struct workshop_input {
	const char *kind, *group_description, *group_type, *place, *held_on, *territory,
	    *participants;
};

/* Validate; NULL when valid, else a static French message. *participants gets the count. */
static const char *workshop_validate(struct db *db, const struct workshop_input *in,
                                     int64_t *participants)
{
	*participants = 0;
	if (label_index(KINDS, in->kind) < 0)
		return "Choisissez un type d'atelier dans la liste.";
	if (str_blank(in->group_description))
		return "Décrivez le groupe (par exemple « agriculteurs »).";
	if (text_chars(in->group_description) > DESC_MAX_LEN)
		return "La description du groupe est trop longue (200 caractères au plus).";
	if (label_index(GROUP_TYPES, in->group_type) < 0)
		return "Choisissez un type de groupe dans la liste.";
	if (in->place && text_chars(in->place) > PLACE_MAX_LEN)
		return "Le lieu est trop long (200 caractères au plus).";
	if (in->held_on && *in->held_on && !date_valid(in->held_on))
		return "La date n'est pas valide (AAAA-MM-JJ).";
	if (in->territory && *in->territory) {
		char *n = territory_name(db, in->territory);
		free(n);
		if (!n)
			return "Ce code ne correspond à aucune commune ni intercommunalité connue.";
	}
	if (in->participants && *in->participants &&
	    (parse_int64(in->participants, participants) || *participants < 0 ||
	     *participants > PARTICIPANTS_MAX))
		return "Le nombre de participants doit être un entier entre 0 et 100 000.";
	return NULL;
}

/* Insert a workshop (own transaction, audited). DB_OK and *id, or an error. */
static int workshop_insert(struct db *db, int64_t plan_id, const struct workshop_input *in,
                           int64_t participants, int64_t user_id, const char *origin, int is_demo,
                           int64_t *id)
{
	char now[32];
	time_iso_now(now);
	char *desc = str_trim_dup(in->group_description);
	char *place = str_trim_dup(in->place ? in->place : "");
	const char *held = in->held_on && *in->held_on ? in->held_on : NULL;
	const char *terr = in->territory && *in->territory ? in->territory : NULL;
	int rc = db_begin(db);
	if (rc == DB_OK) {
		struct db_stmt *st = db_prepare(
		    db,
		    "INSERT INTO spiral_workshops (plan_id, kind, group_description, group_type, "
		    "place, held_on, territory_code, participants, is_demo, created_by, "
		    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "RETURNING id");
		if (!st) {
			rc = DB_ERROR;
		} else {
			db_bindf(st, "Issssss", plan_id, in->kind, desc, in->group_type, place,
			         held, terr);
			db_bind_int64(st, 8, participants);
			db_bind_int64(st, 9, is_demo ? 1 : 0);
			if (user_id)
				db_bind_int64(st, 10, user_id);
			else
				db_bind_null(st, 10);
			db_bind_text(st, 11, now);
			db_bind_text(st, 12, now);
			rc = db_step(st);
			if (rc == DB_ROW) {
				*id = db_col_int64(st, 0);
				db_step(st);
				rc = DB_OK;
			}
			db_finalize(st);
		}
	}
	if (rc == DB_OK && !is_demo) {
		rc = store_audit_row(db, user_id, origin, "create", "spiral_workshop", *id, NULL,
		                     "SELECT * FROM spiral_workshops WHERE id = ?");
	}
	free(desc);
	free(place);
	return store_finish_tx(db, rc);
}

/* POST /plans/{plan}/spiral/ateliers */
static void workshop_create(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_PARTNER))
		return;
	struct workshop_input in = {req_form(r, "kind"),        req_form(r, "group_description"),
	                            req_form(r, "group_type"),  req_form(r, "place"),
	                            req_form(r, "held_on"),     req_form(r, "territory"),
	                            req_form(r, "participants")};
	char *terr = in.territory ? str_trim_dup(in.territory) : NULL;
	in.territory = terr;
	int64_t participants = 0, id = 0;
	const char *err = workshop_validate(r->db, &in, &participants);
	if (!err &&
	    workshop_insert(r->db, plan_id, &in, participants, r->user->id, "web", 0, &id) != DB_OK)
		err = "L'enregistrement a échoué, réessayez.";
	free(terr);
	if (err) {
		workshop_form(r, plan_id, NULL, err);
		return;
	}
	char *loc = xasprintf("/spiral/ateliers/%lld/saisie", (long long)id);
	resp_redirect(r, loc);
	free(loc);
}

/* GET|POST /spiral/ateliers/{workshop}/modifier */
static void workshop_edit(struct req *r)
{
	int64_t id;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_PARTNER, &w))
		return;
	if (!can_enter(r, &w)) {
		resp_error(r, 403,
		           "Seuls la coordination du plan et le partenaire qui a créé l'atelier le "
		           "modifient.");
		workshop_free(&w);
		return;
	}
	if (r->method != M_POST) {
		workshop_form(r, w.plan_id, &w, NULL);
		workshop_free(&w);
		return;
	}
	struct workshop_input in = {req_form(r, "kind"),        req_form(r, "group_description"),
	                            req_form(r, "group_type"),  req_form(r, "place"),
	                            req_form(r, "held_on"),     req_form(r, "territory"),
	                            req_form(r, "participants")};
	char *terr = in.territory ? str_trim_dup(in.territory) : NULL;
	in.territory = terr;
	int64_t participants = 0;
	const char *err = workshop_validate(r->db, &in, &participants);
	if (!err) {
		char now[32];
		time_iso_now(now);
		char *desc = str_trim_dup(in.group_description);
		char *place = str_trim_dup(in.place ? in.place : "");
		json_t *before =
		    store_row_json(r->db, "SELECT * FROM spiral_workshops WHERE id = ?", w.id);
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc =
			    db_execf(r->db,
			             "UPDATE spiral_workshops SET kind = ?, group_description = ?, "
			             "group_type = ?, place = ?, held_on = ?, territory_code = ?, "
			             "participants = ?, updated_at = ? WHERE id = ?",
			             "ssssssIsI", in.kind, desc, in.group_type, place,
			             in.held_on && *in.held_on ? in.held_on : NULL,
			             terr && *terr ? terr : NULL, participants, now, w.id);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "web", "update", "spiral_workshop",
			                     w.id, before,
			                     "SELECT * FROM spiral_workshops WHERE id = ?");
		}
		json_decref(before);
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
		free(desc);
		free(place);
	}
	free(terr);
	if (err) {
		workshop_form(r, w.plan_id, &w, err);
	} else {
		char *loc = xasprintf("/spiral/ateliers/%lld", (long long)w.id);
		resp_redirect(r, loc);
		free(loc);
	}
	workshop_free(&w);
}

/* POST /spiral/ateliers/{workshop}/supprimer: the coordination deletes a workshop and its
 * criteria (the confirmation box must be ticked). */
static void workshop_delete(struct req *r)
{
	int64_t id;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_COORDINATOR, &w))
		return;
	const char *confirm = req_form(r, "confirmer");
	if (!confirm || strcmp(confirm, "1") != 0) {
		resp_error(r, 422, "Cochez la case de confirmation pour supprimer l'atelier.");
		workshop_free(&w);
		return;
	}
	json_t *before = store_row_json(r->db, "SELECT * FROM spiral_workshops WHERE id = ?", w.id);
	int64_t n = 0;
	db_int64f(r->db, &n, "SELECT COUNT(*) FROM spiral_criteria WHERE workshop_id = ?", "I",
	          w.id);
	json_object_set_new(before, "criteria_count", json_integer((json_int_t)n));
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc =
		    db_execf(r->db, "DELETE FROM spiral_criteria WHERE workshop_id = ?", "I", w.id);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM spiral_workshops WHERE id = ?", "I", w.id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "spiral_workshop", w.id,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = xasprintf("/plans/%lld/spiral", (long long)w.plan_id);
		resp_redirect(r, loc);
		free(loc);
	}
	workshop_free(&w);
}

/* POST /spiral/ateliers/{workshop}/criteres/supprimer: a criterion typed by mistake (field
 * "critere"), by those who type the workshop's criteria. */
static void criterion_delete(struct req *r)
{
	int64_t id, cid = 0, okid = 0;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_PARTNER, &w))
		return;
	if (!can_enter(r, &w)) {
		resp_error(r, 403,
		           "Seuls la coordination du plan et le partenaire qui a créé l'atelier "
		           "suppriment ses critères.");
		workshop_free(&w);
		return;
	}
	const char *v = req_form(r, "critere");
	if (!v || parse_int64(v, &cid) ||
	    db_int64f(r->db, &okid,
	              "SELECT id FROM spiral_criteria WHERE id = ? AND workshop_id = ?", "II", cid,
	              w.id) != DB_OK) {
		resp_error(r, 404, "Ce critère n'existe pas.");
		workshop_free(&w);
		return;
	}
	json_t *before = store_row_json(r->db, "SELECT * FROM spiral_criteria WHERE id = ?", cid);
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM spiral_criteria WHERE id = ?", "I", cid);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "spiral_criterion", cid,
		                    before, NULL);
	json_decref(before);
	if (store_finish_tx(r->db, rc) != DB_OK) {
		resp_error(r, 500, "La suppression a échoué, réessayez.");
	} else {
		char *loc = xasprintf("/spiral/ateliers/%lld?ok=supprime", (long long)w.id);
		resp_redirect(r, loc);
		free(loc);
	}
	workshop_free(&w);
}

/* --- one workshop --- */

/* The criteria of a workshop for a question; with a delete button each when `can_delete`. */
static void criteria_table(struct req *r, int64_t workshop_id, int question, int can_delete)
{
	struct buf *o = &r->out;
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.text, c.group_approved, k.code, k.label, s.code, s.label, c.id FROM "
	    "spiral_criteria c LEFT JOIN spiral_components k ON k.id = c.component_id LEFT JOIN "
	    "spiral_components s ON s.id = c.suggested_component_id WHERE c.workshop_id = ? AND "
	    "c.question = ? ORDER BY c.position, c.id",
	    "Is", workshop_id, QUESTION_CODES[question]);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>%s : « "
			    "%s »</caption>\n<thead><tr><th scope=\"col\">Critère</th><th "
			    "scope=\"col\">Validé par le groupe</th><th scope=\"col\">"
			    "Composante</th>%R</tr></thead>\n<tbody>\n",
			    QUESTION_LABELS[question], QUESTION_ASKED[question],
			    can_delete ? "<th scope=\"col\">Action</th>" : "");
		html_printf(o, "<tr><td>%s</td><td>%s</td><td>", db_col_text(st, 0),
		            db_col_int64(st, 1) ? "oui" : "non");
		if (db_col_text(st, 2))
			html_printf(o, "%s %s", db_col_text(st, 2), db_col_text(st, 3));
		else if (db_col_text(st, 4))
			html_printf(o, "<span class=\"badge\">à classer</span> suggestion : %s %s",
			            db_col_text(st, 4), db_col_text(st, 5));
		else
			buf_puts(o, "<span class=\"badge\">à classer</span>");
		buf_puts(o, "</td>");
		if (can_delete) {
			html_printf(o,
			            "<td><form method=\"post\" "
			            "action=\"/spiral/ateliers/%lld/criteres/supprimer\">",
			            (long long)workshop_id);
			page_csrf(r);
			html_printf(
			    o,
			    "<input type=\"hidden\" name=\"critere\" value=\"%lld\"><button "
			    "class=\"button small\" type=\"submit\">Supprimer<span "
			    "class=\"visually-hidden\"> « %s »</span></button></form></td>",
			    (long long)db_col_int64(st, 6), db_col_text(st, 0));
		}
		buf_puts(o, "</tr>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		html_printf(o, "<h2>%s</h2>\n<p>Aucun critère pour « %s ».</p>\n",
		            QUESTION_LABELS[question], QUESTION_ASKED[question]);
}

/* GET /spiral/ateliers/{workshop} */
static void workshop_page(struct req *r)
{
	int64_t id;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_READER, &w))
		return;
	struct buf *o = &r->out;
	char *title = plan_title(r->db, w.plan_id);
	char *href = xasprintf("/plans/%lld", (long long)w.plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)w.plan_id);
	struct crumb crumbs[] = {{title, href}, {"Participation SPIRAL", shref}, {NULL, NULL}};
	char *ptitle = xasprintf("Atelier SPIRAL : %s", w.group_description);
	page_begin(r, ptitle, crumbs);
	html_printf(o, "<h1>Atelier SPIRAL : %s%R</h1>\n", w.group_description,
	            w.is_demo ? " <span class=\"badge\">données de démonstration</span>" : "");
	const char *ok = req_query(r, "ok");
	if (ok && parse_int64(ok, &(int64_t){0}) == 0)
		html_printf(o,
		            "<p class=\"notice notice-success\" role=\"status\">%s critère(s) "
		            "enregistré(s).</p>\n",
		            ok);
	else if (ok && !strcmp(ok, "supprime"))
		page_notice(r, "success", "Le critère est supprimé.");
	char *tn = territory_name(r->db, w.territory_code);
	html_printf(o,
	            "<dl class=\"facts\"><div><dt>Type d'atelier</dt><dd>%s</dd></div><div><dt>"
	            "Type de groupe</dt><dd>%s</dd></div><div><dt>Date</dt><dd>",
	            kind_label(w.kind), group_type_label(w.group_type));
	date_fr(o, w.held_on);
	html_printf(o,
	            "</dd></div><div><dt>Lieu</dt><dd>%s</dd></div><div><dt>Territoire</dt><dd>%s"
	            "</dd></div><div><dt>Participants</dt><dd>%lld</dd></div></dl>\n",
	            *w.place ? w.place : "—", tn ? tn : "—", (long long)w.participants);
	free(tn);
	int can = can_enter(r, &w);
	if (can)
		html_printf(
		    o,
		    "<div class=\"actions\"><a class=\"button\" "
		    "href=\"/spiral/ateliers/%lld/saisie\">Saisir des critères</a> <a "
		    "class=\"button small\" href=\"/spiral/ateliers/%lld/modifier\">Modifier "
		    "l'atelier</a></div>\n",
		    (long long)w.id, (long long)w.id);
	for (int q = 0; q < 3; q++)
		criteria_table(r, w.id, q, can);
	if (can_coordinate(r, w.plan_id)) {
		html_printf(o,
		            "<h2>Supprimer l'atelier</h2>\n<form class=\"form\" method=\"post\" "
		            "action=\"/spiral/ateliers/%lld/supprimer\">\n",
		            (long long)w.id);
		page_csrf(r);
		buf_puts(
		    o,
		    "<div class=\"field\"><input type=\"checkbox\" id=\"d-confirm\" "
		    "name=\"confirmer\" value=\"1\" required> <label for=\"d-confirm\">Je "
		    "confirme la suppression de l'atelier et de tous ses critères</label></div>\n"
		    "<div class=\"actions\"><button class=\"button small\" "
		    "type=\"submit\">Supprimer l'atelier</button></div>\n</form>\n");
	}
	page_end(r);
	free(ptitle);
	free(title);
	free(href);
	free(shref);
	workshop_free(&w);
}

/* --- fast entry page --- */

static void entry_render(struct req *r, const struct workshop *w, const char *error)
{
	struct buf *o = &r->out;
	char *title = plan_title(r->db, w->plan_id);
	char *href = xasprintf("/plans/%lld", (long long)w->plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)w->plan_id);
	char *whref = xasprintf("/spiral/ateliers/%lld", (long long)w->id);
	struct crumb crumbs[] = {{title, href},
	                         {"Participation SPIRAL", shref},
	                         {w->group_description, whref},
	                         {NULL, NULL}};
	page_begin(r, "Saisie rapide des critères", crumbs);
	html_printf(o,
	            "<h1>Saisie rapide des critères</h1>\n<p class=\"lead\">Atelier « %s » : "
	            "un critère par ligne, comme les post-its. Touche Entrée : critère suivant ; "
	            "touche Tab puis Entrée : enregistrer.</p>\n",
	            w->group_description);
	html_printf(
	    o, "<form class=\"form\" method=\"post\" action=\"/spiral/ateliers/%lld/saisie\">\n",
	    (long long)w->id);
	page_csrf(r);
	if (error)
		page_notice(r, "error", error);
	const char *dq = req_form(r, "question");
	int q = spiral_question_parse(dq);
	const char *lines = req_form(r, "lines");
	/* The question first, then the textarea (focused): Tab from the last line reaches the
	 * button. Without an error the textarea starts empty; with one it keeps what was typed. */
	buf_puts(o, "<div class=\"field\"><label for=\"e-q\">Question des lignes sans signe"
	            "</label><select id=\"e-q\" name=\"question\">");
	for (int i = 0; i < 3; i++)
		html_printf(o, "<option value=\"%s\"%R>%s — %s</option>", QUESTION_CODES[i],
		            i == (q < 0 ? 0 : q) ? " selected" : "", QUESTION_LABELS[i],
		            QUESTION_ASKED[i]);
	html_printf(o,
	            "</select></div>\n<div class=\"field\"><label for=\"e-lines\">Critères, un "
	            "par ligne</label><textarea id=\"e-lines\" name=\"lines\" rows=\"18\" "
	            "cols=\"80\" required autofocus spellcheck=\"true\" "
	            "aria-describedby=\"e-syntax\">%s</textarea></div>\n<div class=\"actions\">"
	            "<button class=\"button\" type=\"submit\">Enregistrer les critères</button>"
	            "</div>\n</form>\n",
	            error && lines ? lines : "");
	html_printf(
	    o,
	    "<section id=\"e-syntax\" aria-labelledby=\"e-syntax-h\"><h2 id=\"e-syntax-h\">Syntaxe"
	    "</h2>\n<ul>\n<li><kbd>+</kbd> en début de ligne : bien-être (« %s »)</li>\n"
	    "<li><kbd>-</kbd> : mal-être (« %s »)</li>\n<li><kbd>=</kbd> : capacités (« %s »)"
	    "</li>\n<li><kbd>*</kbd> : critère retenu par le groupe (avant ou après le signe : "
	    "<kbd>+*</kbd>, <kbd>*-</kbd>)</li>\n<li>une ligne <kbd># bien-être</kbd>, <kbd># "
	    "mal-être</kbd> ou <kbd># capacités</kbd> ouvre une section : les lignes sans signe "
	    "qui suivent y sont rangées ; avant toute section, elles vont à la question choisie "
	    "ci-dessus</li>\n<li>les lignes vides sont ignorées ; %d caractères au plus par "
	    "critère, %d critères au plus par enregistrement</li>\n</ul>\n<p>Exemple :</p>\n"
	    "<pre>+* Le temps pour soi et avec ses proches\n+ Le cadre de vie\n- La mobilité et "
	    "les déplacements\n# capacités\nOrganiser une fête des voisins</pre>\n</section>\n",
	    QUESTION_ASKED[0], QUESTION_ASKED[1], QUESTION_ASKED[2], SPIRAL_TEXT_MAX,
	    SPIRAL_LINES_MAX);
	page_end(r);
	free(title);
	free(href);
	free(shref);
	free(whref);
}

/* Answer 403 (or 404 if invisible) when the request may not type criteria in w. */
static int require_enter(struct req *r, const struct workshop *w)
{
	if (can_enter(r, w))
		return 0;
	resp_error(r, 403,
	           "Seuls la coordination du plan et le partenaire qui a créé l'atelier saisissent "
	           "ses critères.");
	return -1;
}

/* GET|POST /spiral/ateliers/{workshop}/saisie */
static void entry_page(struct req *r)
{
	int64_t id;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_PARTNER, &w))
		return;
	if (require_enter(r, &w)) {
		workshop_free(&w);
		return;
	}
	if (r->method != M_POST) {
		entry_render(r, &w, NULL);
		workshop_free(&w);
		return;
	}
	struct spiral_entry e;
	char *err = NULL;
	int q = spiral_question_parse(req_form(r, "question"));
	/* The key must be there for the suggestions (a fresh database loads it now). */
	if (spiral_taxonomy_ensure(r->db, &err)) {
		resp_error(r, 500, err);
		free(err);
		workshop_free(&w);
		return;
	}
	if (q == SPQ_NONE) {
		err = xstrdup("Choisissez la question des lignes sans signe dans la liste.");
	} else if (!spiral_entry_parse(req_form(r, "lines"), q, &e, &err)) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = spiral_criteria_add(r->db, w.id, &e, r->user->id, "web", 0);
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = xstrdup("L'enregistrement a échoué, réessayez.");
		size_t n = e.n;
		spiral_entry_free(&e);
		if (!err) {
			char *loc = xasprintf("/spiral/ateliers/%lld?ok=%zu", (long long)w.id, n);
			resp_redirect(r, loc);
			free(loc);
			workshop_free(&w);
			return;
		}
	}
	entry_render(r, &w, err);
	r->status = 422;
	free(err);
	workshop_free(&w);
}

/* --- classification --- */

/* GET|POST /plans/{plan}/spiral/classement */
static void classify_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_COORDINATOR))
		return;
	char *e = NULL;
	if (spiral_taxonomy_ensure(r->db, &e)) {
		resp_error(r, 500, e);
		free(e);
		return;
	}
	if (r->method == M_POST) {
		char now[32];
		time_iso_now(now);
		int rc = db_begin(r->db), n = 0;
		json_t *after = json_array();
		for (size_t i = 0; rc == DB_OK && i < r->form.n; i++) {
			const char *k = r->form.items[i].key, *v = r->form.items[i].val;
			int64_t cid, comp;
			if (strncmp(k, "c", 1) != 0 || parse_int64(k + 1, &cid) || !v || !*v)
				continue;
			if (parse_int64(v, &comp) || comp <= 0) {
				rc = DB_CONSTRAINT;
				break;
			}
			int64_t okc = 0;
			if (db_int64f(r->db, &okc, "SELECT id FROM spiral_components WHERE id = ?",
			              "I", comp) != DB_OK) {
				rc = DB_CONSTRAINT;
				break;
			}
			struct db_stmt *st = db_queryf(
			    r->db,
			    "UPDATE spiral_criteria SET component_id = ?, validated_by = ?, "
			    "validated_at = ? WHERE id = ? AND workshop_id IN (SELECT id FROM "
			    "spiral_workshops WHERE plan_id = ?) RETURNING id",
			    "IIsII", comp, r->user->id, now, cid, plan_id);
			int s = st ? db_step(st) : DB_ERROR;
			if (s == DB_ROW) {
				n++;
				json_array_append_new(after, json_pack("{s:I,s:I}", "criterion",
				                                       (json_int_t)cid, "component",
				                                       (json_int_t)comp));
				db_step(st);
			} else if (s != DB_DONE) {
				rc = DB_ERROR;
			}
			db_finalize(st);
		}
		if (rc == DB_OK && n)
			rc = audit_write_id(r->db, r->user->id, "web", "classify", "spiral_plan",
			                    plan_id, NULL, after);
		json_decref(after);
		rc = store_finish_tx(r->db, rc);
		if (rc != DB_OK) {
			resp_error(r, 422,
			           "Le classement n'a pas pu être enregistré : une composante "
			           "choisie n'existe pas.");
			return;
		}
		char *loc = xasprintf("/plans/%lld/spiral/classement?ok=%d", (long long)plan_id, n);
		resp_redirect(r, loc);
		free(loc);
		return;
	}
	struct buf *o = &r->out;
	char *title = plan_title(r->db, plan_id);
	char *href = xasprintf("/plans/%lld", (long long)plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)plan_id);
	struct crumb crumbs[] = {{title, href}, {"Participation SPIRAL", shref}, {NULL, NULL}};
	page_begin(r, "Classement des critères", crumbs);
	buf_puts(o, "<h1>Classement des critères</h1>\n<p class=\"lead\">Chaque critère à classer "
	            "porte la composante suggérée par ses mots-clés. Vérifiez, corrigez au clavier "
	            "(tapez les premières lettres d'une composante dans la liste), puis validez "
	            "tout d'un coup. Une ligne laissée sur « à classer plus tard » n'est pas "
	            "modifiée.</p>\n");
	const char *ok = req_query(r, "ok");
	if (ok && parse_int64(ok, &(int64_t){0}) == 0)
		html_printf(o,
		            "<p class=\"notice notice-success\" role=\"status\">%s critère(s) "
		            "classé(s).</p>\n",
		            ok);
	spiral_nav(r, plan_id, "/classement");
	int all = req_query(r, "tous") && !strcmp(req_query(r, "tous"), "1");
	int64_t todo = 0;
	db_int64f(r->db, &todo,
	          "SELECT COUNT(*) FROM spiral_criteria c JOIN spiral_workshops w ON w.id = "
	          "c.workshop_id WHERE w.plan_id = ? AND c.component_id IS NULL",
	          "I", plan_id);
	if (todo > CLASSIFY_PAGE && !all)
		html_printf(
		    o,
		    "<p>%lld critères à classer : les %d premiers sont affichés ; validez-les "
		    "pour voir les suivants.</p>\n",
		    (long long)todo, CLASSIFY_PAGE);
	html_printf(o, "<p><a href=\"/plans/%lld/spiral/classement%s\">%s</a></p>\n",
	            (long long)plan_id, all ? "" : "?tous=1",
	            all ? "Ne montrer que les critères à classer"
	                : "Montrer aussi les critères déjà classés (pour corriger)");
	struct db_stmt *st = db_queryf(
	    r->db,
	    all ? "SELECT c.id, c.text, c.question, w.group_description, c.component_id, "
	          "c.suggested_component_id FROM spiral_criteria c JOIN spiral_workshops w ON "
	          "w.id = c.workshop_id WHERE w.plan_id = ? ORDER BY w.id, c.position, c.id LIMIT ?"
	        : "SELECT c.id, c.text, c.question, w.group_description, c.component_id, "
	          "c.suggested_component_id FROM spiral_criteria c JOIN spiral_workshops w ON "
	          "w.id = c.workshop_id WHERE w.plan_id = ? AND c.component_id IS NULL ORDER BY "
	          "w.id, c.position, c.id LIMIT ?",
	    "Ii", plan_id, CLASSIFY_PAGE);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0) {
			html_printf(o,
			            "<form class=\"form\" method=\"post\" "
			            "action=\"/plans/%lld/spiral/classement\">\n",
			            (long long)plan_id);
			page_csrf(r);
			buf_puts(o, "<div class=\"table-wrap\"><table>\n<caption>Critères à classer"
			            "</caption>\n<thead><tr><th scope=\"col\">Critère</th><th "
			            "scope=\"col\">Question</th><th scope=\"col\">Atelier</th><th "
			            "scope=\"col\">Composante</th></tr></thead>\n<tbody>\n");
		}
		int64_t cid = db_col_int64(st, 0);
		int64_t sel = db_col_is_null(st, 4)
		                  ? (db_col_is_null(st, 5) ? 0 : db_col_int64(st, 5))
		                  : db_col_int64(st, 4);
		html_printf(o,
		            "<tr><th scope=\"row\" id=\"t%lld\">%s</th><td>%s</td><td>%s</td><td>"
		            "<select name=\"c%lld\" aria-labelledby=\"t%lld\">",
		            (long long)cid, db_col_text(st, 1), question_label(db_col_text(st, 2)),
		            db_col_text(st, 3), (long long)cid, (long long)cid);
		component_options(r, sel, "— à classer plus tard —");
		buf_puts(o, "</select></td></tr>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o,
		         "</tbody></table></div>\n<div class=\"actions\"><button class=\"button\" "
		         "type=\"submit\">Valider le classement</button></div>\n</form>\n");
	else
		buf_puts(o, "<p>Tous les critères sont classés.</p>\n");
	page_end(r);
	free(title);
	free(href);
	free(shref);
}

/* --- aggregation page --- */

/* Filters from the query, validated (invalid values are ignored). Borrowed strings. */
static void filter_from_query(struct req *r, struct spiral_filter *f, int *top)
{
	memset(f, 0, sizeof *f);
	const char *t = req_query(r, "territoire"), *g = req_query(r, "type");
	if (t && *t && strlen(t) <= 9)
		f->territory = t;
	if (g && label_index(GROUP_TYPES, g) >= 0)
		f->group_type = g;
	const char *a = req_query(r, "retenus");
	f->approved_only = a && !strcmp(a, "1");
	int64_t n = TOP_DEFAULT;
	const char *ns = req_query(r, "n");
	if (ns && (parse_int64(ns, &n) || n < 1 || n > TOP_MAX))
		n = TOP_DEFAULT;
	*top = (int)n;
}

/* The plan's orientations linked to a component, as a comma-separated HTML list into o. */
static void linked_nodes(struct req *r, int64_t plan_id, int64_t component_id)
{
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT n.id, n.number, n.title FROM spiral_component_links "
	                               "l JOIN nodes n ON n.id = l.node_id WHERE l.plan_id = ? AND "
	                               "l.component_id = ? ORDER BY n.number, n.id",
	                               "II", plan_id, component_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW)
		html_printf(&r->out, "%R<a href=\"/plans/%lld#n%lld\">%s %s</a>", n++ ? ", " : "",
		            (long long)plan_id, (long long)db_col_int64(st, 0), db_col_text(st, 1),
		            db_col_text(st, 2));
	db_finalize(st);
	if (!n)
		buf_puts(&r->out, "—");
}

/* GET /plans/{plan}/spiral/synthese */
static void synthesis_page(struct req *r)
{
	int64_t plan_id;
	/* Counts of anonymous post-its only: the visitors of a public plan see them too (the
	 * restitution to the participants); workshops and criteria one by one are for members. */
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_PUBLIC))
		return;
	int member = plan_role(r, plan_id) >= ROLE_READER;
	struct spiral_filter f;
	int top;
	filter_from_query(r, &f, &top);
	struct buf *o = &r->out;
	char *title = plan_title(r->db, plan_id);
	char *href = xasprintf("/plans/%lld", (long long)plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)plan_id);
	struct crumb crumbs[] = {
	    {title, href}, {member ? "Participation SPIRAL" : NULL, shref}, {NULL, NULL}};
	page_begin(r, "Synthèse SPIRAL", crumbs);
	buf_puts(o, "<h1>Synthèse SPIRAL : les critères les plus cités</h1>\n");
	if (member)
		spiral_nav(r, plan_id, "/synthese");
	else
		html_printf(
		    o,
		    "<p class=\"lead\">Ce que les habitants et les acteurs du territoire ont "
		    "dit lors des ateliers SPIRAL, en réponse à trois questions : « %s », « %s » "
		    "et « %s ». Aucun nom n'est enregistré.</p>\n",
		    QUESTION_ASKED[0], QUESTION_ASKED[1], QUESTION_ASKED[2]);
	html_printf(o,
	            "<form class=\"form\" method=\"get\" action=\"/plans/%lld/spiral/synthese\">\n"
	            "<div class=\"field\"><label for=\"f-terr\">Territoire</label><select "
	            "id=\"f-terr\" name=\"territoire\"><option value=\"\">Tous</option>",
	            (long long)plan_id);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT t.code, t.name FROM (SELECT c.code AS code, c.name AS name FROM communes c "
	    "WHERE c.code IN (SELECT territory_code FROM spiral_workshops WHERE plan_id = ?) UNION "
	    "SELECT e.code AS code, e.name AS name FROM epcis e WHERE e.code IN (SELECT "
	    "territory_code FROM spiral_workshops WHERE plan_id = ?) OR e.code IN (SELECT c2.epci "
	    "FROM communes c2 JOIN spiral_workshops w2 ON w2.territory_code = c2.code WHERE "
	    "w2.plan_id = ?)) t ORDER BY t.name, t.code",
	    "III", plan_id, plan_id, plan_id);
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", db_col_text(st, 0),
		            f.territory && !strcmp(f.territory, db_col_text(st, 0)) ? " selected"
		                                                                    : "",
		            db_col_text(st, 1));
	db_finalize(st);
	buf_puts(o, "</select></div>\n<div class=\"field\"><label for=\"f-type\">Type de groupe"
	            "</label><select id=\"f-type\" name=\"type\">");
	label_options(o, GROUP_TYPES, GROUP_TYPE_LABELS, f.group_type, "Tous");
	html_printf(o,
	            "</select></div>\n<div class=\"field\"><label for=\"f-n\">Nombre de critères "
	            "par question</label><input id=\"f-n\" name=\"n\" type=\"number\" min=\"1\" "
	            "max=\"%d\" value=\"%d\"></div>\n<div class=\"field\"><input type=\"checkbox\" "
	            "id=\"f-ret\" name=\"retenus\" value=\"1\"%R> <label for=\"f-ret\">Seulement "
	            "les critères retenus par les groupes</label></div>\n<div class=\"actions\">"
	            "<button class=\"button\" type=\"submit\">Filtrer</button></div>\n</form>\n",
	            TOP_MAX, top, f.approved_only ? " checked" : "");
	buf_puts(o, "<details><summary>Comment ce classement est calculé</summary><p>Chaque "
	            "critère (un post-it) compte pour un. Les critères de même texte — sans tenir "
	            "compte des majuscules, des accents ni de la ponctuation au début et à la fin "
	            "— sont regroupés ; les plus cités viennent en tête, à égalité par ordre "
	            "alphabétique, et chacun s'affiche sous son écriture la plus fréquente. Les "
	            "composantes SPIRAL sont classées de même par nombre de critères classés, à "
	            "égalité par code. Les filtres retiennent les ateliers d'un territoire (une "
	            "intercommunalité comprend ses communes) ou d'un type de groupe, et, si on le "
	            "demande, les seuls critères retenus par les groupes (la dizaine de critères "
	            "propres à chaque groupe).</p></details>\n");
	for (int q = 0; q < 3; q++) {
		json_t *texts = spiral_top_texts(r->db, plan_id, q, &f, top);
		html_printf(o, "<section aria-labelledby=\"q%d\"><h2 id=\"q%d\">%s — « %s »</h2>\n",
		            q, q, QUESTION_LABELS[q], QUESTION_ASKED[q]);
		size_t i;
		json_t *v;
		if (json_array_size(texts)) {
			if (json_array_size(texts) == 1)
				html_printf(
				    o, "<h3>Le critère le plus cité</h3>\n<ol class=\"top-%s\">\n",
				    QUESTION_CODES[q]);
			else
				html_printf(o,
				            "<h3>Les %zu critères les plus cités</h3>\n<ol "
				            "class=\"top-%s\">\n",
				            json_array_size(texts), QUESTION_CODES[q]);
			json_array_foreach(texts, i, v)
			    html_printf(o, "<li>%s <span class=\"badge\">%lld</span></li>\n",
			                json_string_value(json_object_get(v, "text")),
			                (long long)json_integer_value(json_object_get(v, "count")));
			buf_puts(o, "</ol>\n");
		} else {
			buf_puts(o, "<p>Aucun critère.</p>\n");
		}
		json_decref(texts);
		json_t *comps = spiral_top_components(r->db, plan_id, q, &f, TOP_MAX);
		if (json_array_size(comps)) {
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			    "Composantes SPIRAL — %s</caption>\n<thead><tr><th scope=\"col\">"
			    "Composante</th><th scope=\"col\">Famille</th><th scope=\"col\">"
			    "Critères</th><th scope=\"col\">Orientations du plan</th></tr>"
			    "</thead>\n<tbody>\n",
			    QUESTION_LABELS[q]);
			json_array_foreach(comps, i, v)
			{
				html_printf(
				    o,
				    "<tr><th scope=\"row\">%s %s</th><td>%s %s</td><td>%lld</td>"
				    "<td>",
				    json_string_value(json_object_get(v, "code")),
				    json_string_value(json_object_get(v, "label")),
				    json_string_value(json_object_get(v, "dimension")),
				    json_string_value(json_object_get(v, "dimension_label")),
				    (long long)json_integer_value(json_object_get(v, "count")));
				linked_nodes(r, plan_id,
				             (int64_t)json_integer_value(json_object_get(v, "id")));
				buf_puts(o, "</td></tr>\n");
			}
			buf_puts(o, "</tbody></table></div>\n");
		}
		json_decref(comps);
		buf_puts(o, "</section>\n");
	}
	page_end(r);
	free(title);
	free(href);
	free(shref);
}

/* --- links from components to orientations --- */

/* GET|POST /plans/{plan}/spiral/liens */
static void links_page(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) ||
	    plan_require(r, plan_id, r->method == M_POST ? ROLE_COORDINATOR : ROLE_READER))
		return;
	char *e = NULL;
	if (spiral_taxonomy_ensure(r->db, &e)) {
		resp_error(r, 500, e);
		free(e);
		return;
	}
	const char *error = NULL;
	if (r->method == M_POST) {
		const char *action = req_form(r, "action");
		int64_t comp = 0, node = 0, link = 0, okid = 0;
		char now[32];
		time_iso_now(now);
		int rc = DB_ERROR;
		if (action && !strcmp(action, "supprimer")) {
			if (parse_int64(req_form(r, "id") ? req_form(r, "id") : "", &link) ||
			    db_int64f(r->db, &okid,
			              "SELECT id FROM spiral_component_links WHERE id = ? AND "
			              "plan_id = ?",
			              "II", link, plan_id) != DB_OK) {
				resp_error(r, 404, "Ce lien n'existe pas.");
				return;
			}
			json_t *before = store_row_json(
			    r->db, "SELECT * FROM spiral_component_links WHERE id = ?", link);
			rc = db_begin(r->db);
			if (rc == DB_OK)
				rc = db_execf(r->db,
				              "DELETE FROM spiral_component_links WHERE id = ?",
				              "I", link);
			if (rc == DB_OK)
				rc = audit_write_id(r->db, r->user->id, "web", "delete",
				                    "spiral_component_link", link, before, NULL);
			json_decref(before);
			rc = store_finish_tx(r->db, rc);
			if (rc != DB_OK)
				error = "La suppression a échoué, réessayez.";
		} else {
			if (parse_int64(req_form(r, "component") ? req_form(r, "component") : "",
			                &comp) ||
			    db_int64f(r->db, &okid, "SELECT id FROM spiral_components WHERE id = ?",
			              "I", comp) != DB_OK)
				error = "Choisissez une composante dans la liste.";
			else if (parse_int64(req_form(r, "node") ? req_form(r, "node") : "",
			                     &node) ||
			         db_int64f(r->db, &okid,
			                   "SELECT id FROM nodes WHERE id = ? AND plan_id = ?",
			                   "II", node, plan_id) != DB_OK)
				error = "Choisissez une orientation du plan dans la liste.";
			else if (db_int64f(
			             r->db, &okid,
			             "SELECT id FROM spiral_component_links WHERE component_id = ? "
			             "AND node_id = ?",
			             "II", comp, node) == DB_OK)
				error = "Ce lien existe déjà.";
			if (!error) {
				rc = db_begin(r->db);
				if (rc == DB_OK)
					rc = db_int64f(
					    r->db, &link,
					    "INSERT INTO spiral_component_links (plan_id, "
					    "component_id, node_id, created_at) VALUES (?, ?, ?, "
					    "?) "
					    "RETURNING id",
					    "IIIs", plan_id, comp, node, now);
				if (rc == DB_OK) {
					rc = store_audit_row(
					    r->db, r->user->id, "web", "create",
					    "spiral_component_link", link, NULL,
					    "SELECT * FROM spiral_component_links WHERE id = ?");
				}
				if (store_finish_tx(r->db, rc) != DB_OK)
					error = "L'enregistrement a échoué, réessayez.";
			}
		}
		if (!error) {
			char *loc = xasprintf("/plans/%lld/spiral/liens", (long long)plan_id);
			resp_redirect(r, loc);
			free(loc);
			return;
		}
	}
	struct buf *o = &r->out;
	char *title = plan_title(r->db, plan_id);
	char *href = xasprintf("/plans/%lld", (long long)plan_id);
	char *shref = xasprintf("/plans/%lld/spiral", (long long)plan_id);
	struct crumb crumbs[] = {{title, href}, {"Participation SPIRAL", shref}, {NULL, NULL}};
	page_begin(r, "Liens vers les orientations", crumbs);
	buf_puts(o, "<h1>Des composantes SPIRAL aux orientations du plan</h1>\n<p class=\"lead\">"
	            "Les critères exprimés par les habitants sont traduits en orientations : "
	            "chaque lien rattache une composante SPIRAL à une orientation (ou à tout autre "
	            "élément) du plan.</p>\n");
	spiral_nav(r, plan_id, "/liens");
	if (error)
		page_notice(r, "error", error);
	int coord = can_coordinate(r, plan_id);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT l.id, k.code, k.label, n.id, n.number, n.title FROM spiral_component_links l "
	    "JOIN spiral_components k ON k.id = l.component_id JOIN nodes n ON n.id = l.node_id "
	    "WHERE l.plan_id = ? ORDER BY k.code, n.number, l.id",
	    "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n++ == 0)
			html_printf(
			    o,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Liens "
			    "des composantes vers le plan</caption>\n<thead><tr><th "
			    "scope=\"col\">Composante</th><th scope=\"col\">Élément du plan"
			    "</th>%R</tr></thead>\n<tbody>\n",
			    coord ? "<th scope=\"col\">Action</th>" : "");
		html_printf(
		    o,
		    "<tr><th scope=\"row\">%s %s</th><td><a href=\"/plans/%lld#n%lld\">%s %s"
		    "</a></td>",
		    db_col_text(st, 1), db_col_text(st, 2), (long long)plan_id,
		    (long long)db_col_int64(st, 3), db_col_text(st, 4), db_col_text(st, 5));
		if (coord) {
			html_printf(
			    o, "<td><form method=\"post\" action=\"/plans/%lld/spiral/liens\">",
			    (long long)plan_id);
			page_csrf(r);
			html_printf(
			    o,
			    "<input type=\"hidden\" name=\"action\" value=\"supprimer\"><input "
			    "type=\"hidden\" name=\"id\" value=\"%lld\"><button class=\"button "
			    "small\" type=\"submit\">Retirer le lien <span class=\"visually-"
			    "hidden\">%s — %s</span></button></form></td>",
			    (long long)db_col_int64(st, 0), db_col_text(st, 1), db_col_text(st, 4));
		}
		buf_puts(o, "</tr>\n");
	}
	db_finalize(st);
	if (n)
		buf_puts(o, "</tbody></table></div>\n");
	else
		buf_puts(o, "<p>Aucun lien pour l'instant.</p>\n");
	if (coord) {
		html_printf(o,
		            "<h2>Nouveau lien</h2>\n<form class=\"form\" method=\"post\" "
		            "action=\"/plans/%lld/spiral/liens\">\n",
		            (long long)plan_id);
		page_csrf(r);
		buf_puts(o, "<div class=\"field\"><label for=\"l-comp\">Composante SPIRAL</label>"
		            "<select id=\"l-comp\" name=\"component\" required>");
		component_options(r, 0, "— choisir —");
		buf_puts(o,
		         "</select></div>\n<div class=\"field\"><label for=\"l-node\">Orientation "
		         "ou élément du plan</label><select id=\"l-node\" name=\"node\" required>"
		         "<option value=\"\">— choisir —</option>");
		st = db_queryf(
		    r->db,
		    "SELECT id, number, title FROM nodes WHERE plan_id = ? AND depth <= 1 "
		    "ORDER BY depth, position, id",
		    "I", plan_id);
		while (st && db_step(st) == DB_ROW)
			html_printf(o, "<option value=\"%lld\">%s %s</option>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 1),
			            db_col_text(st, 2));
		db_finalize(st);
		buf_puts(o, "</select></div>\n<div class=\"actions\"><button class=\"button\" "
		            "type=\"submit\">Ajouter le lien</button></div>\n</form>\n");
	}
	page_end(r);
	if (error)
		r->status = 422;
	free(title);
	free(href);
	free(shref);
}

/* --- exports --- */

#define EXPORT_COLS                                                                                \
	"SELECT w.group_description, w.kind, w.group_type, w.place, w.held_on, w.territory_code, " \
	"w.participants, c.question, c.text, c.group_approved, d.code, k.code, k.label, s.code, "  \
	"c.is_demo FROM spiral_criteria c JOIN spiral_workshops w ON w.id = c.workshop_id LEFT "   \
	"JOIN spiral_components k ON k.id = c.component_id LEFT JOIN spiral_dimensions d ON d.id " \
	"= "                                                                                       \
	"k.dimension_id LEFT JOIN spiral_components s ON s.id = c.suggested_component_id WHERE "   \
	"w.plan_id = ? ORDER BY w.held_on NULLS FIRST, w.id, c.position, c.id"

static const char *const EXPORT_HEAD[] = {"Atelier",
                                          "Type d'atelier",
                                          "Type de groupe",
                                          "Lieu",
                                          "Date",
                                          "Territoire",
                                          "Participants",
                                          "Question",
                                          "Critère",
                                          "Retenu par le groupe",
                                          "Famille",
                                          "Composante",
                                          "Libellé de la composante",
                                          "Composante suggérée",
                                          "Démonstration"};
#define NEXPORT 15

/* The text of export cell i of the current row (static or borrowed). */
static const char *export_cell(struct db_stmt *st, int i, char tmp[32])
{
	switch (i) {
	case 1:
		return kind_label(db_col_text(st, 1));
	case 2:
		return group_type_label(db_col_text(st, 2));
	case 6:
		snprintf(tmp, 32, "%lld", (long long)db_col_int64(st, 6));
		return tmp;
	case 7:
		return question_label(db_col_text(st, 7));
	case 9:
		return db_col_int64(st, 9) ? "oui" : "non";
	case 14:
		return db_col_int64(st, 14) ? "oui" : "non";
	default: {
		int col = i < 14 ? i : 13;
		return db_col_text(st, col) ? db_col_text(st, col) : "";
	}
	}
}

static json_t *workshop_json(struct db *db, struct db_stmt *st);

/* The CSV export of a plan's criteria into out. */
static void export_csv_buf(struct db *db, int64_t plan_id, struct buf *out)
{
	struct csv_out w;
	csv_out_begin(&w, out);
	csv_out_header(&w, EXPORT_HEAD, NEXPORT);
	struct db_stmt *st = db_queryf(db, EXPORT_COLS, "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		char tmp[32];
		for (int i = 0; i < NEXPORT; i++)
			csv_out_text(&w, export_cell(st, i, tmp));
		csv_out_row_end(&w);
	}
	db_finalize(st);
}

/* The XLSX export (sheets « Critères » and « Synthèse ») appended to out; 0 or -1. */
static int export_xlsx_buf(struct db *db, int64_t plan_id, struct buf *out)
{
	struct xlsx_out x;
	if (xlsx_out_open(&x, "spiral.xlsx", NULL, NULL))
		return -1;
	lxw_workbook *wb = x.wb;
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Critères");
	worksheet_set_column(ws, 0, 0, 30, NULL);
	worksheet_set_column(ws, 8, 8, 60, NULL);
	for (int i = 0; i < NEXPORT; i++)
		worksheet_write_string(ws, 0, (lxw_col_t)i, EXPORT_HEAD[i], bold);
	worksheet_freeze_panes(ws, 1, 0);
	struct db_stmt *st = db_queryf(db, EXPORT_COLS, "I", plan_id);
	lxw_row_t row = 1;
	while (st && db_step(st) == DB_ROW) {
		char tmp[32];
		for (int i = 0; i < NEXPORT; i++) {
			if (i == 6)
				worksheet_write_number(ws, row, 6, (double)db_col_int64(st, 6),
				                       NULL);
			else
				worksheet_write_string(ws, row, (lxw_col_t)i,
				                       export_cell(st, i, tmp), NULL);
		}
		row++;
	}
	db_finalize(st);
	if (row > 1)
		worksheet_autofilter(ws, 0, 0, row - 1, NEXPORT - 1);
	ws = workbook_add_worksheet(wb, "Synthèse");
	worksheet_set_column(ws, 1, 1, 60, NULL);
	worksheet_write_string(ws, 0, 0, "Question", bold);
	worksheet_write_string(ws, 0, 1, "Critère le plus cité", bold);
	worksheet_write_string(ws, 0, 2, "Nombre", bold);
	row = 1;
	for (int q = 0; q < 3; q++) {
		json_t *texts = spiral_top_texts(db, plan_id, q, NULL, TOP_MAX);
		size_t i;
		json_t *v;
		json_array_foreach(texts, i, v)
		{
			worksheet_write_string(ws, row, 0, QUESTION_LABELS[q], NULL);
			worksheet_write_string(ws, row, 1,
			                       json_string_value(json_object_get(v, "text")), NULL);
			worksheet_write_number(
			    ws, row, 2, (double)json_integer_value(json_object_get(v, "count")),
			    NULL);
			row++;
		}
		json_decref(texts);
	}
	return xlsx_out_close(&x, out, NULL);
}

/* The JSON export: the workshops with their criteria, and the aggregation. New reference. */
static json_t *export_json(struct db *db, int64_t plan_id)
{
	json_t *ws = json_array();
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT w.id, w.kind, w.group_description, w.group_type, w.place, w.held_on, "
	    "w.territory_code, w.participants, w.is_demo, (SELECT COUNT(*) FROM spiral_criteria c "
	    "WHERE c.workshop_id = w.id) FROM spiral_workshops w WHERE w.plan_id = ? ORDER BY "
	    "w.held_on NULLS FIRST, w.id",
	    "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(ws, workshop_json(db, st));
	db_finalize(st);
	size_t i;
	json_t *w;
	json_array_foreach(ws, i, w)
	{
		json_t *crit = json_array();
		st = db_queryf(
		    db,
		    "SELECT c.text, c.question, c.group_approved, k.code, s.code, c.is_demo "
		    "FROM spiral_criteria c LEFT JOIN spiral_components k ON k.id = "
		    "c.component_id LEFT JOIN spiral_components s ON s.id = "
		    "c.suggested_component_id WHERE c.workshop_id = ? ORDER BY c.position, "
		    "c.id",
		    "I", (int64_t)json_integer_value(json_object_get(w, "id")));
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(
			    crit, json_pack("{s:s,s:s,s:b,s:s?,s:s?,s:b}", "text",
			                    db_col_text(st, 0), "question", db_col_text(st, 1),
			                    "group_approved", (int)db_col_int64(st, 2), "component",
			                    db_col_text(st, 3), "suggested_component",
			                    db_col_text(st, 4), "demo", (int)db_col_int64(st, 5)));
		db_finalize(st);
		json_object_set_new(w, "criteria_list", crit);
	}
	json_t *agg = json_object();
	for (int q = 0; q < 3; q++) {
		json_t *texts = spiral_top_texts(db, plan_id, q, NULL, TOP_MAX);
		json_t *comps = spiral_top_components(db, plan_id, q, NULL, TOP_MAX);
		json_object_set_new(agg, QUESTION_CODES[q],
		                    json_pack("{s:o,s:o}", "top_criteria",
		                              texts ? texts : json_array(), "components",
		                              comps ? comps : json_array()));
	}
	return json_pack("{s:I,s:o,s:o}", "plan", (json_int_t)plan_id, "workshops", ws,
	                 "aggregation", agg);
}

int spiral_export(struct db *db, int64_t plan_id, const char *format, struct buf *out, char **err)
{
	*err = NULL;
	int64_t ok = 0;
	if (db_int64f(db, &ok, "SELECT id FROM plans WHERE id = ?", "I", plan_id) != DB_OK) {
		*err = xasprintf("le plan %lld n'existe pas", (long long)plan_id);
		return -1;
	}
	if (format && !strcmp(format, "csv")) {
		export_csv_buf(db, plan_id, out);
		return 0;
	}
	if (format && !strcmp(format, "xlsx")) {
		if (export_xlsx_buf(db, plan_id, out)) {
			*err = xstrdup("le classeur n'a pas pu être écrit");
			return -1;
		}
		return 0;
	}
	if (format && !strcmp(format, "json")) {
		json_t *doc = export_json(db, plan_id);
		char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		json_decref(doc);
		buf_puts(out, s ? s : "null");
		buf_putc(out, '\n');
		free(s);
		return 0;
	}
	*err = xstrdup("format inconnu : csv, xlsx ou json");
	return -1;
}

int spiral_cli_export(struct db *db, const char *plan, const char *format, const char *out)
{
	int64_t plan_id = 0;
	if (!plan || parse_int64(plan, &plan_id) || plan_id <= 0) {
		fprintf(stderr, "maillage export spiral : numéro de plan invalide\n");
		return 2;
	}
	if (!format && out) {
		const char *dot = strrchr(out, '.');
		format = dot ? dot + 1 : NULL;
	}
	if (!format)
		format = "csv";
	if (strcmp(format, "csv") != 0 && strcmp(format, "xlsx") != 0 &&
	    strcmp(format, "json") != 0) {
		fprintf(stderr, "maillage export spiral : --format attend csv, xlsx ou json\n");
		return 2;
	}
	int to_stdout = !out || !strcmp(out, "-");
	if (to_stdout && !strcmp(format, "xlsx") && isatty(1)) {
		fprintf(stderr, "maillage export spiral : un classeur XLSX ne s'écrit pas sur un "
		                "terminal (utilisez -o FICHIER)\n");
		return 2;
	}
	struct buf b = {0};
	char *err = NULL;
	if (spiral_export(db, plan_id, format, &b, &err)) {
		fprintf(stderr, "maillage export spiral : %s\n", err);
		free(err);
		buf_free(&b);
		return 1;
	}
	FILE *f = to_stdout ? stdout : fopen(out, "wb");
	if (!f) {
		fprintf(stderr, "maillage export spiral : %s : %s\n", out, strerror(errno));
		buf_free(&b);
		return 1;
	}
	int rc = fwrite(b.data ? b.data : "", 1, b.len, f) == b.len ? 0 : 1;
	if (!to_stdout && fclose(f))
		rc = 1;
	if (rc)
		fprintf(stderr, "maillage export spiral : écriture impossible\n");
	buf_free(&b);
	return rc;
}

/* GET /plans/{plan}/spiral/export.csv and export.xlsx */
static void export_send(struct req *r, const char *format, const char *ctype)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	struct buf b = {0};
	char *err = NULL;
	if (spiral_export(r->db, plan_id, format, &b, &err)) {
		resp_error(r, 500, "L'export n'a pas pu être écrit.");
		free(err);
		buf_free(&b);
		return;
	}
	buf_reset(&r->out);
	buf_append(&r->out, b.data ? b.data : "", b.len);
	buf_free(&b);
	char *cd =
	    xasprintf("attachment; filename=\"spiral-plan-%lld.%s\"", (long long)plan_id, format);
	resp_header(r, "Content-Disposition", cd);
	free(cd);
	resp_send(r, 200, ctype);
}

static void export_csv(struct req *r)
{
	export_send(r, "csv", "text/csv; charset=utf-8");
}

static void export_xlsx(struct req *r)
{
	export_send(r, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}

/* --- the key, for administrators --- */

/* GET /admin/spiral */
static void admin_key_page(struct req *r)
{
	char *e = NULL;
	if (spiral_taxonomy_ensure(r->db, &e)) {
		resp_error(r, 500, e);
		free(e);
		return;
	}
	struct buf *o = &r->out;
	page_begin(r, "Clé SPIRAL",
	           (const struct crumb[]){{"Administration", "/admin/utilisateurs"}, {NULL, NULL}});
	buf_puts(o, "<h1>Clé SPIRAL : familles et composantes</h1>\n<p class=\"lead\">La clé sert "
	            "à classer les critères des ateliers. Les mots-clés (séparés par des virgules, "
	            "comparés sans accents ni majuscules au début des mots) proposent une "
	            "composante à chaque critère saisi. Source de la clé livrée : Conseil de "
	            "l'Europe, méthode SPIRAL (wikispiral.org), complétée pour maillage.</p>\n");
	const char *ok = req_query(r, "ok");
	if (ok && !strcmp(ok, "importe"))
		page_notice(r, "success", "La clé est chargée.");
	else if (ok)
		page_notice(r, "success", "Modification enregistrée.");
	buf_puts(o, "<div class=\"actions\"><a class=\"button\" href=\"/admin/spiral/import\">"
	            "Charger une clé complète (CSV)</a></div>\n");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT d.id, d.code, d.label, c.id, c.code, c.label, "
	                               "c.keywords FROM spiral_dimensions d LEFT JOIN "
	                               "spiral_components c ON c.dimension_id = d.id ORDER BY "
	                               "d.position, d.code, c.position, c.code",
	                               "");
	int64_t dim = -1;
	while (st && db_step(st) == DB_ROW) {
		if (db_col_int64(st, 0) != dim) {
			if (dim >= 0)
				buf_puts(o, "</tbody></table></div>\n");
			dim = db_col_int64(st, 0);
			html_printf(o,
			            "<h2>%s — %s <a class=\"button small\" "
			            "href=\"/admin/spiral/dimensions/%lld\">Modifier<span "
			            "class=\"visually-hidden\"> la famille %s</span></a></h2>\n"
			            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>"
			            "Composantes de la famille %s</caption>\n<thead><tr><th "
			            "scope=\"col\">Code</th><th scope=\"col\">Composante</th><th "
			            "scope=\"col\">Mots-clés</th></tr></thead>\n<tbody>\n",
			            db_col_text(st, 1), db_col_text(st, 2), (long long)dim,
			            db_col_text(st, 1), db_col_text(st, 1));
		}
		if (!db_col_is_null(st, 3))
			html_printf(
			    o,
			    "<tr><th scope=\"row\">%s</th><td><a "
			    "href=\"/admin/spiral/composantes/%lld\">%s</a></td><td>%s</td></tr>\n",
			    db_col_text(st, 4), (long long)db_col_int64(st, 3), db_col_text(st, 5),
			    db_col_text(st, 6));
	}
	db_finalize(st);
	if (dim >= 0)
		buf_puts(o, "</tbody></table></div>\n");
	buf_puts(o, "<h2>Nouvelle composante</h2>\n<form class=\"form\" method=\"post\" "
	            "action=\"/admin/spiral/composantes\">\n");
	page_csrf(r);
	buf_puts(o, "<div class=\"field\"><label for=\"n-dim\">Famille</label><select id=\"n-dim\" "
	            "name=\"dimension\">");
	st = db_queryf(r->db,
	               "SELECT id, code, label FROM spiral_dimensions ORDER BY position, code", "");
	while (st && db_step(st) == DB_ROW)
		html_printf(o, "<option value=\"%lld\">%s — %s</option>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1), db_col_text(st, 2));
	db_finalize(st);
	buf_puts(o,
	         "</select></div>\n<div class=\"field\"><label for=\"n-code\">Code</label><input "
	         "id=\"n-code\" name=\"code\" required maxlength=\"12\"></div>\n<div "
	         "class=\"field\"><label for=\"n-label\">Libellé</label><input id=\"n-label\" "
	         "name=\"label\" required maxlength=\"200\"></div>\n<div class=\"field\"><label "
	         "for=\"n-kw\">Mots-clés</label><input id=\"n-kw\" name=\"keywords\" "
	         "maxlength=\"2000\"></div>\n<div class=\"actions\"><button class=\"button\" "
	         "type=\"submit\">Ajouter la composante</button></div>\n</form>\n");
	page_end(r);
}

static void component_form(struct req *r, int64_t id, const char *error)
{
	struct buf *o = &r->out;
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT code, label, description, keywords, dimension_id FROM "
	              "spiral_components WHERE id = ?",
	              "I", id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		resp_error(r, 404, "Cette composante n'existe pas.");
		return;
	}
	char *code = xstrdup(db_col_text(st, 0));
	const char *label = error ? req_form(r, "label") : db_col_text(st, 1);
	const char *desc = error ? req_form(r, "description") : db_col_text(st, 2);
	const char *kw = error ? req_form(r, "keywords") : db_col_text(st, 3);
	char *l2 = dup_or_null(label), *d2 = dup_or_null(desc), *k2 = dup_or_null(kw);
	db_finalize(st);
	char *t = xasprintf("Composante %s", code);
	page_begin(r, t,
	           (const struct crumb[]){{"Administration", "/admin/utilisateurs"},
	                                  {"Clé SPIRAL", "/admin/spiral"},
	                                  {NULL, NULL}});
	html_printf(o,
	            "<h1>Composante %s</h1>\n<form class=\"form\" method=\"post\" "
	            "action=\"/admin/spiral/composantes/%lld\">\n",
	            code, (long long)id);
	page_csrf(r);
	if (error)
		page_notice(r, "error", error);
	html_printf(o,
	            "<div class=\"field\"><label for=\"c-label\">Libellé</label><input "
	            "id=\"c-label\" name=\"label\" required maxlength=\"%d\" value=\"%s\"></div>\n"
	            "<div class=\"field\"><label for=\"c-desc\">Description</label><textarea "
	            "id=\"c-desc\" name=\"description\" rows=\"3\">%s</textarea></div>\n<div "
	            "class=\"field\"><label for=\"c-kw\">Mots-clés</label><textarea id=\"c-kw\" "
	            "name=\"keywords\" rows=\"3\" aria-describedby=\"c-kw-hint\">%s</textarea><p "
	            "class=\"hint\" id=\"c-kw-hint\">Séparés par des virgules ; sans accents ni "
	            "majuscules nécessaires.</p></div>\n<div class=\"actions\"><button "
	            "class=\"button\" type=\"submit\">Enregistrer</button></div>\n</form>\n",
	            LABEL_MAX_LEN, l2, d2, k2);
	page_end(r);
	free(t);
	free(code);
	free(l2);
	free(d2);
	free(k2);
}

/* GET|POST /admin/spiral/composantes/{component} */
static void admin_component_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	if (r->method != M_POST) {
		component_form(r, id, NULL);
		return;
	}
	char *label = str_trim_dup(req_form(r, "label") ? req_form(r, "label") : "");
	const char *desc = req_form(r, "description") ? req_form(r, "description") : "";
	const char *kw = req_form(r, "keywords") ? req_form(r, "keywords") : "";
	const char *err = NULL;
	json_t *before = store_row_json(r->db, "SELECT * FROM spiral_components WHERE id = ?", id);
	if (!before) {
		free(label);
		resp_error(r, 404, "Cette composante n'existe pas.");
		return;
	}
	if (!*label || text_chars(label) > LABEL_MAX_LEN)
		err = "Le libellé est obligatoire (200 caractères au plus).";
	else if (text_chars(desc) > 1000)
		err = "La description est trop longue (1 000 caractères au plus).";
	else if (text_chars(kw) > KEYWORDS_MAX_LEN)
		err = "Les mots-clés sont trop longs (2 000 caractères au plus).";
	if (!err) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_execf(r->db,
			              "UPDATE spiral_components SET label = ?, description = ?, "
			              "keywords = ? WHERE id = ?",
			              "sssI", label, desc, kw, id);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "web", "update",
			                     "spiral_component", id, before,
			                     "SELECT * FROM spiral_components WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	json_decref(before);
	free(label);
	if (err) {
		component_form(r, id, err);
		r->status = 422;
		return;
	}
	resp_redirect(r, "/admin/spiral?ok=modifie");
}

/* POST /admin/spiral/composantes */
static void admin_component_create(struct req *r)
{
	int64_t dim = 0, id = 0, okid = 0;
	char *code = str_trim_dup(req_form(r, "code") ? req_form(r, "code") : "");
	char *label = str_trim_dup(req_form(r, "label") ? req_form(r, "label") : "");
	const char *kw = req_form(r, "keywords") ? req_form(r, "keywords") : "";
	const char *err = NULL;
	if (parse_int64(req_form(r, "dimension") ? req_form(r, "dimension") : "", &dim) ||
	    db_int64f(r->db, &okid, "SELECT id FROM spiral_dimensions WHERE id = ?", "I", dim) !=
	        DB_OK)
		err = "Choisissez une famille dans la liste.";
	else if (!code_valid(code, 12))
		err =
		    "Le code est invalide (majuscules, chiffres, 12 caractères au plus, ex. A12).";
	else if (db_int64f(r->db, &okid, "SELECT id FROM spiral_components WHERE code = ?", "s",
	                   code) == DB_OK)
		err = "Ce code est déjà pris.";
	else if (!*label || text_chars(label) > LABEL_MAX_LEN)
		err = "Le libellé est obligatoire (200 caractères au plus).";
	else if (text_chars(kw) > KEYWORDS_MAX_LEN)
		err = "Les mots-clés sont trop longs (2 000 caractères au plus).";
	if (!err) {
		int rc = db_begin(r->db);
		if (rc == DB_OK)
			rc = db_int64f(r->db, &id,
			               "INSERT INTO spiral_components (dimension_id, code, label, "
			               "keywords, position) VALUES (?, ?, ?, ?, (SELECT "
			               "COALESCE(MAX(position), 0) + 1 FROM spiral_components)) "
			               "RETURNING id",
			               "Isss", dim, code, label, kw);
		if (rc == DB_OK) {
			rc = store_audit_row(r->db, r->user->id, "web", "create",
			                     "spiral_component", id, NULL,
			                     "SELECT * FROM spiral_components WHERE id = ?");
		}
		if (store_finish_tx(r->db, rc) != DB_OK)
			err = "L'enregistrement a échoué, réessayez.";
	}
	free(code);
	free(label);
	if (err) {
		resp_error(r, 422, err);
		return;
	}
	resp_redirect(r, "/admin/spiral?ok=cree");
}

/* GET|POST /admin/spiral/dimensions/{dimension} */
static void admin_dimension_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	json_t *before = store_row_json(r->db, "SELECT * FROM spiral_dimensions WHERE id = ?", id);
	if (!before) {
		resp_error(r, 404, "Cette famille n'existe pas.");
		return;
	}
	const char *err = NULL;
	if (r->method == M_POST) {
		char *label = str_trim_dup(req_form(r, "label") ? req_form(r, "label") : "");
		const char *desc = req_form(r, "description") ? req_form(r, "description") : "";
		if (!*label || text_chars(label) > LABEL_MAX_LEN)
			err = "Le libellé est obligatoire (200 caractères au plus).";
		else if (text_chars(desc) > 1000)
			err = "La description est trop longue (1 000 caractères au plus).";
		if (!err) {
			int rc = db_begin(r->db);
			if (rc == DB_OK)
				rc = db_execf(
				    r->db,
				    "UPDATE spiral_dimensions SET label = ?, description = ? "
				    "WHERE id = ?",
				    "ssI", label, desc, id);
			if (rc == DB_OK) {
				rc = store_audit_row(
				    r->db, r->user->id, "web", "update", "spiral_dimension", id,
				    before, "SELECT * FROM spiral_dimensions WHERE id = ?");
			}
			if (store_finish_tx(r->db, rc) != DB_OK)
				err = "L'enregistrement a échoué, réessayez.";
		}
		free(label);
		if (!err) {
			json_decref(before);
			resp_redirect(r, "/admin/spiral?ok=modifie");
			return;
		}
	}
	struct buf *o = &r->out;
	const char *code = json_string_value(json_object_get(before, "code"));
	const char *label =
	    err ? req_form(r, "label") : json_string_value(json_object_get(before, "label"));
	const char *desc = err ? req_form(r, "description")
	                       : json_string_value(json_object_get(before, "description"));
	char *t = xasprintf("Famille %s", code);
	page_begin(r, t,
	           (const struct crumb[]){{"Administration", "/admin/utilisateurs"},
	                                  {"Clé SPIRAL", "/admin/spiral"},
	                                  {NULL, NULL}});
	html_printf(o,
	            "<h1>Famille %s</h1>\n<form class=\"form\" method=\"post\" "
	            "action=\"/admin/spiral/dimensions/%lld\">\n",
	            code, (long long)id);
	page_csrf(r);
	if (err)
		page_notice(r, "error", err);
	html_printf(o,
	            "<div class=\"field\"><label for=\"d-label\">Libellé</label><input "
	            "id=\"d-label\" name=\"label\" required maxlength=\"%d\" value=\"%s\"></div>\n"
	            "<div class=\"field\"><label for=\"d-desc\">Description</label><textarea "
	            "id=\"d-desc\" name=\"description\" rows=\"3\">%s</textarea></div>\n<div "
	            "class=\"actions\"><button class=\"button\" type=\"submit\">Enregistrer"
	            "</button></div>\n</form>\n",
	            LABEL_MAX_LEN, label, desc);
	page_end(r);
	if (err)
		r->status = 422;
	free(t);
	json_decref(before);
}

static void import_form(struct req *r, const char *error)
{
	struct buf *o = &r->out;
	page_begin(r, "Charger une clé SPIRAL",
	           (const struct crumb[]){{"Administration", "/admin/utilisateurs"},
	                                  {"Clé SPIRAL", "/admin/spiral"},
	                                  {NULL, NULL}});
	buf_puts(o, "<h1>Charger une clé SPIRAL complète</h1>\n<p class=\"lead\">Un fichier CSV "
	            "(séparateur « ; », UTF-8) avec l'en-tête <code>dimension;libelle_dimension;"
	            "composante;libelle;description;mots_cles</code>, une ligne par composante ; "
	            "les lignes commençant par « # » sont ignorées. Tout ou rien : à la première "
	            "erreur, rien n'est changé et l'erreur donne sa ligne et sa colonne. Les "
	            "familles et composantes sont créées ou mises à jour par code.</p>\n");
	buf_puts(o, "<form class=\"form\" method=\"post\" action=\"/admin/spiral/import\" "
	            "enctype=\"multipart/form-data\">\n");
	page_csrf(r);
	if (error)
		page_notice(r, "error", error);
	buf_puts(o,
	         "<div class=\"field\"><label for=\"i-file\">Fichier CSV</label><input "
	         "id=\"i-file\" name=\"fichier\" type=\"file\" accept=\".csv,text/csv\"></div>\n"
	         "<div class=\"field\"><label for=\"i-text\">… ou contenu collé</label><textarea "
	         "id=\"i-text\" name=\"contenu\" rows=\"10\"></textarea></div>\n<div "
	         "class=\"actions\"><button class=\"button\" type=\"submit\">Charger la clé"
	         "</button></div>\n</form>\n");
	page_end(r);
}

/* GET|POST /admin/spiral/import */
static void admin_import_page(struct req *r)
{
	if (r->method != M_POST) {
		import_form(r, NULL);
		return;
	}
	const struct upload *u = req_file(r, "fichier");
	const char *data = NULL;
	size_t len = 0;
	if (u && u->data.len) {
		data = u->data.data;
		len = u->data.len;
	} else if (req_form(r, "contenu") && *req_form(r, "contenu")) {
		data = req_form(r, "contenu");
		len = strlen(data);
	}
	if (!data) {
		import_form(r, "Choisissez un fichier ou collez son contenu.");
		r->status = 422;
		return;
	}
	char *err = NULL;
	int n = 0;
	if (spiral_taxonomy_import(r->db, data, len, r->user->id, "web", &n, &err)) {
		import_form(r, err);
		r->status = 422;
		free(err);
		return;
	}
	resp_redirect(r, "/admin/spiral?ok=importe");
}

/* --- JSON API --- */

static json_t *workshop_json(struct db *db, struct db_stmt *st)
{
	(void)db;
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:s,s:s?,s:s?,s:I,s:b,s:I}", "id", (json_int_t)db_col_int64(st, 0),
	    "kind", db_col_text(st, 1), "group_description", db_col_text(st, 2), "group_type",
	    db_col_text(st, 3), "place", db_col_text(st, 4), "held_on", db_col_text(st, 5),
	    "territory_code", db_col_text(st, 6), "participants", (json_int_t)db_col_int64(st, 7),
	    "demo", (int)db_col_int64(st, 8), "criteria", (json_int_t)db_col_int64(st, 9));
}

/* GET /api/v1/plans/{plan}/spiral/workshops */
static void api_workshops(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT w.id, w.kind, w.group_description, w.group_type, w.place, w.held_on, "
	    "w.territory_code, w.participants, w.is_demo, (SELECT COUNT(*) FROM spiral_criteria c "
	    "WHERE c.workshop_id = w.id) FROM spiral_workshops w WHERE w.plan_id = ? ORDER BY "
	    "w.held_on NULLS FIRST, w.id",
	    "I", plan_id);
	json_t *arr = json_array();
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(arr, workshop_json(r->db, st));
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:I,s:o}", "plan", (json_int_t)plan_id, "workshops", arr));
}

/* GET /api/v1/plans/{plan}/spiral/criteria[?question=…&workshop=…] */
static void api_criteria(struct req *r)
{
	int64_t plan_id, wid = 0;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_READER))
		return;
	const char *q = req_query(r, "question"), *ws = req_query(r, "workshop");
	if (q && spiral_question_parse(q) == SPQ_NONE) {
		resp_error(r, 400, "question : bien_etre, mal_etre ou capacites.");
		return;
	}
	if (ws && (parse_int64(ws, &wid) || wid <= 0)) {
		resp_error(r, 400, "workshop : un identifiant d'atelier.");
		return;
	}
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.id, c.workshop_id, c.text, c.question, c.group_approved, k.code, s.code, "
	    "c.validated_at, c.is_demo FROM spiral_criteria c JOIN spiral_workshops w ON w.id = "
	    "c.workshop_id LEFT JOIN spiral_components k ON k.id = c.component_id LEFT JOIN "
	    "spiral_components s ON s.id = c.suggested_component_id WHERE w.plan_id = ? AND "
	    "(CAST(? AS TEXT) IS NULL OR c.question = ?) AND (? = 0 OR c.workshop_id = ?) ORDER BY "
	    "c.workshop_id, c.position, c.id",
	    "IssII", plan_id, q, q, wid, wid);
	json_t *arr = json_array();
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(
		    arr, json_pack("{s:I,s:I,s:s,s:s,s:b,s:s?,s:s?,s:s?,s:b}", "id",
		                   (json_int_t)db_col_int64(st, 0), "workshop",
		                   (json_int_t)db_col_int64(st, 1), "text", db_col_text(st, 2),
		                   "question", db_col_text(st, 3), "group_approved",
		                   (int)db_col_int64(st, 4), "component", db_col_text(st, 5),
		                   "suggested_component", db_col_text(st, 6), "validated_at",
		                   db_col_text(st, 7), "demo", (int)db_col_int64(st, 8)));
	db_finalize(st);
	resp_json(r, 200, json_pack("{s:I,s:o}", "plan", (json_int_t)plan_id, "criteria", arr));
}

/* POST /api/v1/spiral/workshops/{workshop}/criteria: {"lines": "…", "question": "bien_etre"}
 * (the fast-entry syntax) or {"criteria": [{"text", "question", "group_approved"}]}. */
static void api_criteria_post(struct req *r)
{
	int64_t id;
	struct workshop w;
	if (req_param_id(r, 0, &id) || workshop_require(r, id, ROLE_PARTNER, &w))
		return;
	if (require_enter(r, &w)) {
		workshop_free(&w);
		return;
	}
	char *kerr = NULL;
	if (spiral_taxonomy_ensure(r->db, &kerr)) {
		resp_error(r, 500, kerr);
		free(kerr);
		workshop_free(&w);
		return;
	}
	json_t *body = req_json_body(r);
	if (!body) {
		workshop_free(&w);
		return;
	}
	struct spiral_entry e = {0};
	char *err = NULL;
	json_t *lines = json_object_get(body, "lines"), *items = json_object_get(body, "criteria");
	const char *dq = json_string_value(json_object_get(body, "question"));
	int q = dq ? spiral_question_parse(dq) : SPQ_BIEN_ETRE;
	if (q == SPQ_NONE) {
		err = xstrdup("question : bien_etre, mal_etre ou capacites.");
	} else if (json_is_string(lines)) {
		const char *lt = json_string_value(lines);
		if (!utf8_valid_text(lt, strlen(lt)))
			err = xstrdup("lines : caractères de contrôle refusés.");
		else
			spiral_entry_parse(lt, q, &e, &err);
	} else if (json_is_array(items) && json_array_size(items) > 0 &&
	           json_array_size(items) <= SPIRAL_LINES_MAX) {
		size_t i;
		json_t *v;
		e.items = xcalloc(json_array_size(items), sizeof *e.items);
		json_array_foreach(items, i, v)
		{
			const char *t = json_string_value(json_object_get(v, "text"));
			const char *qq = json_string_value(json_object_get(v, "question"));
			int iq = qq ? spiral_question_parse(qq) : q;
			json_t *ap = json_object_get(v, "group_approved");
			char *tt = t ? str_trim_dup(t) : NULL;
			if (!tt || !*tt || text_chars(tt) > SPIRAL_TEXT_MAX || iq == SPQ_NONE ||
			    (ap && !json_is_boolean(ap)) || !utf8_valid_text(tt, strlen(tt))) {
				err =
				    xasprintf("criteria[%zu] : texte obligatoire (%d caractères au "
				              "plus), question bien_etre, mal_etre ou capacites, "
				              "group_approved booléen.",
				              i, SPIRAL_TEXT_MAX);
				free(tt);
				break;
			}
			e.items[e.n++] = (struct spiral_line){.question = iq,
			                                      .approved = json_is_true(ap),
			                                      .text = tt,
			                                      .line = (int)i + 1};
		}
	} else {
		err = xasprintf(
		    "Envoyez « lines » (texte, un critère par ligne) ou « criteria » (1 à "
		    "%d objets).",
		    SPIRAL_LINES_MAX);
	}
	json_decref(body);
	if (err) {
		spiral_entry_free(&e);
		workshop_free(&w);
		resp_error(r, 422, err);
		free(err);
		return;
	}
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = spiral_criteria_add(r->db, w.id, &e, r->user->id, "api", 0);
	rc = store_finish_tx(r->db, rc);
	size_t n = e.n;
	spiral_entry_free(&e);
	workshop_free(&w);
	if (rc != DB_OK) {
		resp_error(r, 500, "L'enregistrement a échoué.");
		return;
	}
	resp_json(r, 201,
	          json_pack("{s:I,s:I}", "workshop", (json_int_t)id, "created", (json_int_t)n));
}

/* GET /api/v1/plans/{plan}/spiral/aggregation[?territoire=…&type=…&n=…] */
static void api_aggregation(struct req *r)
{
	int64_t plan_id;
	if (req_param_id(r, 0, &plan_id) || plan_require(r, plan_id, ROLE_PUBLIC))
		return;
	struct spiral_filter f;
	int top;
	filter_from_query(r, &f, &top);
	json_t *doc = json_pack("{s:I,s:s?,s:s?,s:b,s:i}", "plan", (json_int_t)plan_id, "territory",
	                        f.territory, "group_type", f.group_type, "approved_only",
	                        f.approved_only, "top", top);
	json_t *qs = json_object();
	for (int q = 0; q < 3; q++) {
		json_t *texts = spiral_top_texts(r->db, plan_id, q, &f, top);
		json_t *comps = spiral_top_components(r->db, plan_id, q, &f, TOP_MAX);
		size_t i;
		json_t *v;
		json_array_foreach(texts, i, v) json_object_del(v, "key");
		json_object_set_new(qs, QUESTION_CODES[q],
		                    json_pack("{s:o,s:o}", "top_criteria",
		                              texts ? texts : json_array(), "components",
		                              comps ? comps : json_array()));
	}
	json_object_set_new(doc, "questions", qs);
	resp_json(r, 200, doc);
}

const struct route spiral_routes[] = {
    {M_GET, "/plans/{plan}/spiral", ACC_PUBLIC, overview_page,
     "Participation SPIRAL : les ateliers d'un plan"},
    {M_GET, "/plans/{plan}/spiral/ateliers/nouveau", ACC_LOGIN, workshop_new_page,
     "Nouvel atelier SPIRAL (formulaire)"},
    {M_POST, "/plans/{plan}/spiral/ateliers", ACC_LOGIN, workshop_create,
     "Créer un atelier SPIRAL"},
    {M_GET, "/plans/{plan}/spiral/synthese", ACC_PUBLIC, synthesis_page,
     "Synthèse SPIRAL : critères les plus cités, composantes (filtres territoire, type de "
     "groupe)"},
    {M_GET | M_POST, "/plans/{plan}/spiral/classement", ACC_LOGIN, classify_page,
     "Classer les critères dans la clé SPIRAL (coordination)"},
    {M_GET | M_POST, "/plans/{plan}/spiral/liens", ACC_PUBLIC, links_page,
     "Liens des composantes SPIRAL vers les orientations du plan"},
    {M_GET, "/plans/{plan}/spiral/export.csv", ACC_PUBLIC, export_csv,
     "Export CSV des critères SPIRAL d'un plan"},
    {M_GET, "/plans/{plan}/spiral/export.xlsx", ACC_PUBLIC, export_xlsx,
     "Export XLSX des critères SPIRAL d'un plan"},
    {M_GET, "/spiral/ateliers/{workshop}", ACC_PUBLIC, workshop_page,
     "Un atelier SPIRAL et ses critères"},
    {M_GET | M_POST, "/spiral/ateliers/{workshop}/modifier", ACC_LOGIN, workshop_edit,
     "Modifier un atelier SPIRAL"},
    {M_POST, "/spiral/ateliers/{workshop}/supprimer", ACC_LOGIN, workshop_delete,
     "Supprimer un atelier SPIRAL et ses critères (coordination)"},
    {M_POST, "/spiral/ateliers/{workshop}/criteres/supprimer", ACC_LOGIN, criterion_delete,
     "Supprimer un critère saisi par erreur"},
    {M_GET | M_POST, "/spiral/ateliers/{workshop}/saisie", ACC_LOGIN, entry_page,
     "Saisie rapide des critères d'un atelier (un par ligne)"},
    {M_GET, "/admin/spiral", ACC_ADMIN, admin_key_page, "Clé SPIRAL : familles et composantes"},
    {M_POST, "/admin/spiral/composantes", ACC_ADMIN, admin_component_create,
     "Ajouter une composante SPIRAL"},
    {M_GET | M_POST, "/admin/spiral/composantes/{component}", ACC_ADMIN, admin_component_page,
     "Modifier une composante SPIRAL"},
    {M_GET | M_POST, "/admin/spiral/dimensions/{dimension}", ACC_ADMIN, admin_dimension_page,
     "Modifier une famille SPIRAL"},
    {M_GET | M_POST, "/admin/spiral/import", ACC_ADMIN, admin_import_page,
     "Charger une clé SPIRAL complète (CSV, tout ou rien)"},
    {M_GET, "/api/v1/plans/{plan}/spiral/workshops", ACC_PUBLIC, api_workshops,
     "Ateliers SPIRAL d'un plan"},
    {M_GET, "/api/v1/plans/{plan}/spiral/criteria", ACC_PUBLIC, api_criteria,
     "Critères SPIRAL d'un plan (filtres question, workshop)"},
    {M_GET, "/api/v1/plans/{plan}/spiral/aggregation", ACC_PUBLIC, api_aggregation,
     "Synthèse SPIRAL d'un plan (critères les plus cités, composantes)"},
    {M_POST, "/api/v1/spiral/workshops/{workshop}/criteria", ACC_LOGIN, api_criteria_post,
     "Ajouter des critères à un atelier SPIRAL"},
    {0},
};
