/* fiches: the fiche-action page, its editing (fields, budget, closing), comments, history,
 * the pilot's "mes actions" page with its quick progress form, and the fiches JSON API. */
#include "fiches.h"
#include "indicators.h"
#include "needs.h"

#include "audit.h"
#include "auth.h"
#include "db.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TITLE_MAX        500   /* characters of a title */
#define LONG_TEXT_MAX    20000 /* description, expected results */
#define MEANS_MAX        10000 /* human means */
#define NOTE_MAX         10000 /* closing note */
#define COMMENT_MAX      5000  /* a comment */
#define PUBLICS_MAX      30    /* target publics of a fiche */
#define PUBLIC_LEN_MAX   200   /* characters of one public */
#define COMMUNES_MAX     500   /* communes of a fiche */
#define ACTORS_MAX       100   /* pilot structures, partners */
#define PEOPLE_MAX       50    /* pilot people */
#define LINKS_MAX        50    /* links of a fiche */
#define LINK_LABEL_MAX   200   /* characters of a link's label */
#define URL_MAX          2000  /* bytes of a link's address */
#define BUDGET_LINES_MAX 200   /* budget lines of a fiche */
#define BUDGET_LABEL_MAX 300   /* characters of a budget line's label */
#define FUNDER_MAX       200   /* characters of a funder's free name */
#define ACTOR_SELECT_MAX 1000  /* actors listed in full in a select; beyond, the plan's only */
#define STALE_MONTHS     6     /* progress not reported for longer: overdue */
#define HISTORY_MAX      500   /* history entries shown */

/* --- small helpers ------------------------------------------------------------------------ */

/* A copy of s with line ends made "\n" and outer white space removed (malloc'ed). */
static char *text_clean(const char *s)
{
	struct buf b = {0};
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '\r') {
			buf_putc(&b, '\n');
			if (p[1] == '\n')
				p++;
		} else {
			buf_putc(&b, *p);
		}
	}
	char *raw = buf_steal(&b);
	char *out = str_trim_dup(raw);
	free(raw);
	return out;
}

/* Replace *dst by a copy of src (NULL stays NULL). */
static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

/* The first `max` characters of s, with "…" when cut (malloc'ed). */
static char *text_cut(const char *s, size_t max)
{
	size_t chars = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max)
			break;
	}
	if (!s[i])
		return xstrdup(s);
	char *r = xmalloc(i + 4);
	memcpy(r, s, i);
	memcpy(r + i, "…", 4);
	return r;
}

/* s when it is an http:// or https:// address with a host, else NULL: the only links printed. */
static const char *url_safe(const char *s)
{
	if (!s)
		return NULL;
	size_t n = !strncasecmp(s, "http://", 7) ? 7 : !strncasecmp(s, "https://", 8) ? 8 : 0;
	return n && s[n] && s[n] != '/' ? s : NULL;
}

/* 1 when s is an acceptable link address: http(s), a host, no spaces or controls, ≤ URL_MAX. */
static int url_valid(const char *s)
{
	if (!url_safe(s) || strlen(s) > URL_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return 0;
	return 1;
}

/* 1 when s is a commune INSEE code: five digits, or 2A/2B and three digits (Corsica). */
static int insee_valid(const char *s)
{
	if (strlen(s) != 5)
		return 0;
	for (int i = 0; i < 5; i++) {
		int digit = s[i] >= '0' && s[i] <= '9';
		int corsica = i == 1 && s[0] == '2' && (s[1] == 'A' || s[1] == 'B');
		if (!digit && !corsica)
			return 0;
	}
	return 1;
}

/* Compare dotted numbers naturally: "1.2" < "1.10". */
static int number_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static const char *status_badge(const char *status)
{
	if (!status)
		return "badge-neutral";
	if (!strcmp(status, "achevee"))
		return "badge-success";
	if (!strcmp(status, "abandonnee"))
		return "badge-error";
	if (!strcmp(status, "en_cours") || !strcmp(status, "retenue"))
		return "badge-info";
	if (!strcmp(status, "ajournee"))
		return "";
	return "badge-neutral";
}

static const char *progress_badge(const char *progress)
{
	if (!progress)
		return "badge-neutral";
	if (!strcmp(progress, "achevee"))
		return "badge-success";
	if (!strcmp(progress, "bien_engagee"))
		return "badge-info";
	if (!strcmp(progress, "peu_engagee"))
		return "";
	return "badge-neutral";
}

static const char *const status_values[] = {"proposee", "retenue",    "en_cours",
                                            "achevee",  "abandonnee", "ajournee"};
static const char *const progress_values[] = {"non_engagee", "peu_engagee", "bien_engagee",
                                              "achevee"};

/* The current time as ISO text, and the time STALE_MONTHS months ago. */
static void stale_limit(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	tm.tm_mon -= STALE_MONTHS;
	time_t then = timegm(&tm);
	gmtime_r(&then, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int is_member(enum role role)
{
	return role >= ROLE_READER;
}

/* --- one fiche, loaded for display --------------------------------------------------------- */

struct fiche_row {
	int64_t id, plan_id, parent_id;
	int depth, archived, is_demo, plan_public;
	char *number, *title, *description, *created_at;
	char *status, *progress, *expected_results, *human_means, *start_date, *end_date;
	char *closing_note, *closed_at, *progress_updated_at, *plan_title;
};

static char *col_dup(struct db_stmt *st, int i)
{
	return db_col_text(st, i) ? xstrdup(db_col_text(st, i)) : NULL;
}

static void fiche_row_free(struct fiche_row *f)
{
	free(f->number);
	free(f->title);
	free(f->description);
	free(f->created_at);
	free(f->status);
	free(f->progress);
	free(f->expected_results);
	free(f->human_means);
	free(f->start_date);
	free(f->end_date);
	free(f->closing_note);
	free(f->closed_at);
	free(f->progress_updated_at);
	free(f->plan_title);
	memset(f, 0, sizeof *f);
}

/* Load fiche id into f. 0 on success, -1 when it is not a fiche. */
static int fiche_row_load(struct db *db, int64_t id, struct fiche_row *f)
{
	memset(f, 0, sizeof *f);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.plan_id, n.parent_id, n.depth, n.archived, f.is_demo, p.is_public, "
	    "n.number, n.title, n.description, n.created_at, f.status, f.progress, "
	    "f.expected_results, f.human_means, f.start_date, f.end_date, f.closing_note, "
	    "f.closed_at, f.progress_updated_at, p.title "
	    "FROM fiches f JOIN nodes n ON n.id = f.node_id JOIN plans p ON p.id = n.plan_id "
	    "WHERE f.node_id = ?",
	    "I", id);
	int rc = -1;
	if (st && db_step(st) == DB_ROW) {
		f->id = id;
		f->plan_id = db_col_int64(st, 0);
		f->parent_id = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		f->depth = (int)db_col_int64(st, 2);
		f->archived = (int)db_col_int64(st, 3);
		f->is_demo = (int)db_col_int64(st, 4);
		f->plan_public = (int)db_col_int64(st, 5);
		f->number = col_dup(st, 6);
		f->title = col_dup(st, 7);
		f->description = col_dup(st, 8);
		f->created_at = col_dup(st, 9);
		f->status = col_dup(st, 10);
		f->progress = col_dup(st, 11);
		f->expected_results = col_dup(st, 12);
		f->human_means = col_dup(st, 13);
		f->start_date = col_dup(st, 14);
		f->end_date = col_dup(st, 15);
		f->closing_note = col_dup(st, 16);
		f->closed_at = col_dup(st, 17);
		f->progress_updated_at = col_dup(st, 18);
		f->plan_title = col_dup(st, 19);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

/*
 * First statement of the handlers that read a fiche: node_require at `min`, then the node must
 * be a fiche (a plain node redirects to its place in the plan for pages, 404 for the API), and
 * a public visitor never sees a proposal not yet retained or an archived fiche (404). Fills f
 * and *role; answers itself and returns -1 otherwise.
 */
static int fiche_read_require(struct req *r, int64_t id, enum role min, struct fiche_row *f,
                              enum role *role)
{
	int64_t plan = 0;
	memset(f, 0, sizeof *f);
	if (node_require(r, id, min, &plan))
		return -1;
	if (fiche_row_load(r->db, id, f)) {
		if (r->is_api || r->method != M_GET) {
			resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		} else {
			char *loc = xasprintf("/plans/%lld#n%lld", (long long)plan, (long long)id);
			resp_redirect(r, loc);
			free(loc);
		}
		return -1;
	}
	*role = plan_role(r, plan);
	if (!is_member(*role) && (f->archived || !strcmp(f->status, "proposee"))) {
		fiche_row_free(f);
		resp_error(r, 404, "Cet élément n'existe pas ou n'est pas visible pour vous.");
		return -1;
	}
	return 0;
}

/* The level name of a depth in a plan ("Action"), or "Fiche-action" (malloc'ed). */
static char *level_name(struct db *db, int64_t plan_id, int depth)
{
	char *name = NULL;
	struct db_stmt *st =
	    db_queryf(db, "SELECT name FROM plan_levels WHERE plan_id = ? AND depth = ?", "Ii",
	              plan_id, depth);
	if (st && db_step(st) == DB_ROW && db_col_text(st, 0))
		name = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	return name ? name : xstrdup("Fiche-action");
}

/* --- breadcrumbs ----------------------------------------------------------------------------- */

struct crumbs {
	struct crumb c[12];
	char *own[24];
	int n, nown;
};

static const char *crumbs_keep(struct crumbs *k, char *s)
{
	if (k->nown < 24)
		k->own[k->nown++] = s;
	return s;
}

/* The ancestors of a node from the top, up to its parent: ids into chain (at most 8). */
static int ancestors(struct db *db, int64_t parent_id, int64_t chain[8])
{
	int64_t up[8];
	int n = 0;
	for (int64_t p = parent_id; p && n < 8;) {
		up[n++] = p;
		int64_t next = 0;
		struct db_stmt *st =
		    db_queryf(db, "SELECT parent_id FROM nodes WHERE id = ?", "I", p);
		if (st && db_step(st) == DB_ROW && !db_col_is_null(st, 0))
			next = db_col_int64(st, 0);
		db_finalize(st);
		p = next;
	}
	for (int i = 0; i < n; i++)
		chain[i] = up[n - 1 - i];
	return n;
}

/*
 * Breadcrumbs kept short, so that they fit a phone screen (they do not wrap there): the plan
 * (its title cut), then the parent by its number — or, with `self` (a page below the fiche),
 * the fiche by its number. The whole chain of ancestors is on the fiche page ("Rattachement").
 */
static void crumbs_build(struct db *db, const struct fiche_row *f, int self, struct crumbs *k)
{
	memset(k, 0, sizeof *k);
	k->c[k->n].label = crumbs_keep(k, text_cut(f->plan_title, 24));
	k->c[k->n++].href = crumbs_keep(k, xasprintf("/plans/%lld", (long long)f->plan_id));
	if (f->parent_id && !self) {
		struct db_stmt *st =
		    db_queryf(db, "SELECT number FROM nodes WHERE id = ?", "I", f->parent_id);
		if (st && db_step(st) == DB_ROW) {
			k->c[k->n].label = crumbs_keep(k, xstrdup(db_col_text(st, 0)));
			k->c[k->n++].href =
			    crumbs_keep(k, xasprintf("/plans/%lld#n%lld", (long long)f->plan_id,
			                             (long long)f->parent_id));
		}
		db_finalize(st);
	}
	if (self) {
		k->c[k->n].label = crumbs_keep(k, xstrdup(f->number));
		k->c[k->n++].href = crumbs_keep(k, xasprintf("/fiches/%lld", (long long)f->id));
	}
	k->c[k->n].label = NULL;
	k->c[k->n].href = NULL;
}

static void crumbs_free(struct crumbs *k)
{
	for (int i = 0; i < k->nown; i++)
		free(k->own[i]);
}

/* Start a page about fiche f: breadcrumbs down to its parent (and the fiche when self). */
static void fiche_page_begin(struct req *r, const struct fiche_row *f, const char *title, int self)
{
	struct crumbs k;
	crumbs_build(r->db, f, self, &k);
	page_begin(r, title, k.c);
	crumbs_free(&k);
}

/* --- history: readable before → after -------------------------------------------------------- */

static const struct {
	const char *key, *label;
} field_labels[] = {
    {"number", "Numéro"},
    {"title", "Titre"},
    {"description", "Description"},
    {"status", "Statut"},
    {"progress", "Avancement"},
    {"start_date", "Début"},
    {"end_date", "Fin"},
    {"expected_results", "Résultats attendus"},
    {"human_means", "Moyens humains"},
    {"closing_note", "Note de clôture"},
    {"pilots", "Pilotes"},
    {"partners", "Partenaires"},
    {"publics", "Publics visés"},
    {"communes", "Communes"},
    {"impact_domains", "Domaines d'impact"},
    {"budget_lines", "Budget"},
    {"links", "Liens"},
    {"parent", "Rattachement"},
    {"parent_id", "Rattachement"},
    {"position", "Position"},
    {"tags", "Étiquettes"},
    {"archived", "Archivée"},
};

static const char *field_label(const char *key)
{
	for (size_t i = 0; i < sizeof field_labels / sizeof *field_labels; i++)
		if (!strcmp(field_labels[i].key, key))
			return field_labels[i].label;
	return key;
}

/* The position of a key in field_labels (unknown keys after, alphabetically). */
static int field_rank(const char *key)
{
	for (size_t i = 0; i < sizeof field_labels / sizeof *field_labels; i++)
		if (!strcmp(field_labels[i].key, key))
			return (int)i;
	return 1000;
}

/* A JSON value as readable plain text for the history (malloc'ed). */
static char *value_text(struct db *db, const char *key, json_t *v)
{
	if (!v || json_is_null(v))
		return xstrdup("(vide)");
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!*s)
			return xstrdup("(vide)");
		if (!strcmp(key, "status"))
			return xstrdup(fiche_status_label(s));
		if (!strcmp(key, "progress"))
			return xstrdup(fiche_progress_label(s));
		if (!strcmp(key, "start_date") || !strcmp(key, "end_date")) {
			char d[64];
			fiche_date_fr(d, s);
			return xstrdup(d[0] ? d : s);
		}
		if (!strcmp(key, "impact_domains")) {
			char *label = NULL;
			struct db_stmt *st = db_queryf(
			    db, "SELECT label FROM impact_domains WHERE slug = ?", "s", s);
			if (st && db_step(st) == DB_ROW)
				label = xstrdup(db_col_text(st, 0));
			db_finalize(st);
			return label ? label : xstrdup(s);
		}
		if (!strcmp(key, "communes")) {
			char *label = NULL;
			struct db_stmt *st =
			    db_queryf(db, "SELECT name FROM communes WHERE code = ?", "s", s);
			if (st && db_step(st) == DB_ROW)
				label = xasprintf("%s (%s)", db_col_text(st, 0), s);
			db_finalize(st);
			return label ? label : xstrdup(s);
		}
		return text_cut(s, 160);
	}
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_true(v))
		return xstrdup("oui");
	if (json_is_false(v))
		return xstrdup("non");
	if (json_is_object(v) && json_object_get(v, "amount_cents")) {
		char amount[64];
		fiche_amount_format(
		    amount, (int64_t)json_integer_value(json_object_get(v, "amount_cents")));
		json_t *y = json_object_get(v, "year");
		const char *funder = json_string_value(json_object_get(v, "funder"));
		char *year = json_is_integer(y)
		                 ? xasprintf("%lld · ", (long long)json_integer_value(y))
		                 : xstrdup("");
		char *s = xasprintf("%s%s · %s%s%s", year,
		                    json_string_value(json_object_get(v, "label"))
		                        ? json_string_value(json_object_get(v, "label"))
		                        : "",
		                    amount, funder && *funder ? " · " : "", funder ? funder : "");
		free(year);
		return s;
	}
	if (json_is_object(v) && json_object_get(v, "url")) {
		const char *label = json_string_value(json_object_get(v, "label"));
		const char *url = json_string_value(json_object_get(v, "url"));
		return xasprintf("%s (%s)", label ? label : "", url ? url : "");
	}
	char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *s = text_cut(dump ? dump : "", 160);
	free(dump);
	return s;
}

/* 1 when array a holds a value equal to v. */
static int array_has(json_t *a, json_t *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x)
	{
		if (json_equal(x, v))
			return 1;
	}
	return 0;
}

/* One changed field as an <li>: lists as added/removed items, others as before → after. */
static void change_item(struct req *r, const char *key, json_t *before, json_t *after)
{
	html_printf(&r->out, "<li><strong>%s</strong> : ", field_label(key));
	if ((json_is_array(before) || !before || json_is_null(before)) &&
	    (json_is_array(after) || !after || json_is_null(after)) &&
	    (json_is_array(before) || json_is_array(after))) {
		int n = 0;
		size_t i;
		json_t *v;
		json_array_foreach(after, i, v)
		{
			if (array_has(before, v))
				continue;
			char *t = value_text(r->db, key, v);
			html_printf(&r->out, "%R<ins>+ %s</ins>", n++ ? " ; " : "", t);
			free(t);
		}
		json_array_foreach(before, i, v)
		{
			if (array_has(after, v))
				continue;
			char *t = value_text(r->db, key, v);
			html_printf(&r->out, "%R<del>− %s</del>", n++ ? " ; " : "", t);
			free(t);
		}
		if (!n)
			buf_puts(&r->out, "ordre modifié");
	} else {
		char *b = value_text(r->db, key, before), *a = value_text(r->db, key, after);
		html_printf(&r->out, "%s → %s", b, a);
		free(b);
		free(a);
	}
	buf_puts(&r->out, "</li>");
}

struct keyrank {
	const char *key;
	int rank;
};

static int keyrank_cmp(const void *a, const void *b)
{
	const struct keyrank *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->key, y->key);
}

/* The changes between two audit snapshots as a <ul>; the number of changes shown. */
static int changes_render(struct req *r, json_t *before, json_t *after)
{
	size_t cap = json_object_size(before) + json_object_size(after) + 1, n = 0;
	struct keyrank *keys = xcalloc(cap, sizeof *keys);
	const char *key;
	json_t *v;
	json_object_foreach(after, key, v)
	{
		if (!json_equal(v, json_object_get(before, key)))
			keys[n++] = (struct keyrank){key, field_rank(key)};
	}
	json_object_foreach(before, key, v)
	{
		if (!json_object_get(after, key) && !json_is_null(v))
			keys[n++] = (struct keyrank){key, field_rank(key)};
	}
	qsort(keys, n, sizeof *keys, keyrank_cmp);
	if (n)
		buf_puts(&r->out, "<ul>");
	for (size_t i = 0; i < n; i++)
		change_item(r, keys[i].key, json_object_get(before, keys[i].key),
		            json_object_get(after, keys[i].key));
	if (n)
		buf_puts(&r->out, "</ul>");
	free(keys);
	return (int)n;
}

static const char *action_label(const char *action, const char *entity)
{
	if (!strcmp(action, "create"))
		return !strcmp(entity, "fiche") ? "Création de la fiche" : "Création de l'élément";
	if (!strcmp(action, "delete"))
		return "Suppression";
	if (!strcmp(action, "move"))
		return "Déplacement dans l'arborescence";
	if (!strcmp(action, "archive"))
		return "Archivage";
	return "Modification";
}

static void history_render(struct req *r, int64_t id)
{
	char eid[32];
	snprintf(eid, sizeof eid, "%lld", (long long)id);
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT a.at, a.user_id, u.name, a.origin, a.action, a.entity, a.before_json, "
	    "a.after_json FROM audit_log a LEFT JOIN users u ON u.id = a.user_id "
	    "WHERE a.entity IN ('fiche', 'node') AND a.entity_id = ? "
	    "ORDER BY a.at DESC, a.id DESC",
	    "s", eid);
	buf_puts(&r->out,
	         "<section aria-labelledby=\"historique\"><h2 id=\"historique\">Historique "
	         "des modifications</h2>");
	int n = 0;
	while (st && db_step(st) == DB_ROW && n < HISTORY_MAX) {
		if (!n++)
			buf_puts(&r->out, "<ol class=\"history\" reversed>");
		char when[64];
		fiche_datetime_fr(when, db_col_text(st, 0));
		const char *origin = db_col_text(st, 3) ? db_col_text(st, 3) : "";
		const char *who = db_col_text(st, 2) ? db_col_text(st, 2)
		                  : !db_col_is_null(st, 1) || strcmp(origin, "cli")
		                      ? "compte supprimé"
		                      : "ligne de commande";
		html_printf(
		    &r->out,
		    "<li><p><strong>%s</strong> — <time datetime=\"%s\">%s</time> — %s%R</p>",
		    action_label(db_col_text(st, 4), db_col_text(st, 5)), db_col_text(st, 0), when,
		    who, !strcmp(origin, "api") ? " (API)" : "");
		json_t *b = db_col_text(st, 6) ? json_loads(db_col_text(st, 6), 0, NULL) : NULL;
		json_t *a = db_col_text(st, 7) ? json_loads(db_col_text(st, 7), 0, NULL) : NULL;
		if (b && a && !changes_render(r, b, a))
			buf_puts(&r->out, "<p class=\"hint\">Aucun champ visible modifié.</p>");
		json_decref(b);
		json_decref(a);
		buf_puts(&r->out, "</li>");
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</ol>");
	else
		buf_puts(&r->out, "<p>Aucune modification enregistrée.</p>");
	buf_puts(&r->out, "</section>\n");
}

/* --- the fiche page ----------------------------------------------------------------------- */

/* "du 12 mars 2024 au 31 décembre 2026", "à partir du …", "jusqu'au …" or "non précisées". */
static void period_text(struct buf *o, const char *start, const char *end)
{
	char a[64], b[64];
	fiche_date_fr(a, start);
	fiche_date_fr(b, end);
	if (a[0] && b[0])
		html_printf(o, "du %s au %s", a, b);
	else if (a[0])
		html_printf(o, "à partir du %s", a);
	else if (b[0])
		html_printf(o, "jusqu'au %s", b);
	else
		buf_puts(o, "non précisées");
}

/* The plan's territory in words, with links. */
static void plan_territory_text(struct req *r, int64_t plan_id)
{
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT t.scope, t.code, COALESCE(e.name, d.name, c.name, t.code) "
	              "FROM plan_territory t "
	              "LEFT JOIN epcis e ON t.scope = 'epci' AND e.code = t.code "
	              "LEFT JOIN departements d ON t.scope = 'departement' AND d.code = t.code "
	              "LEFT JOIN communes c ON t.scope = 'commune' AND c.code = t.code "
	              "WHERE t.plan_id = ? ORDER BY t.scope, 3",
	              "I", plan_id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		const char *scope = db_col_text(st, 0);
		const char *base = !strcmp(scope, "epci")      ? "/epcis/"
		                   : !strcmp(scope, "commune") ? "/communes/"
		                                               : "/territoire#dep-";
		html_printf(&r->out, "%R<a href=\"%s%u\">%s</a>", n++ ? ", " : " (", base,
		            db_col_text(st, 1), db_col_text(st, 2));
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, ")");
}

static void territory_fact(struct req *r, const struct fiche_row *f)
{
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT fc.commune, c.name FROM fiche_communes fc "
	                               "LEFT JOIN communes c ON c.code = fc.commune "
	                               "WHERE fc.node_id = ? ORDER BY c.name",
	                               "I", f->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(&r->out, "<ul class=\"inline-list\">");
		html_printf(&r->out, "<li><a href=\"/communes/%u\">%s</a></li>", db_col_text(st, 0),
		            db_col_text(st, 1) ? db_col_text(st, 1) : db_col_text(st, 0));
	}
	db_finalize(st);
	if (n) {
		buf_puts(&r->out, "</ul>");
		return;
	}
	buf_puts(&r->out, "Tout le territoire du plan");
	plan_territory_text(r, f->plan_id);
}

/* A list of actors (id, name) from a query bound to the fiche id, as links; "none" if empty. */
static void actor_list(struct req *r, const char *sql, int64_t id, const char *none)
{
	struct db_stmt *st = db_queryf(r->db, sql, "I", id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(&r->out, "<ul class=\"inline-list\">");
		html_printf(&r->out, "<li><a href=\"/acteurs/%lld\">%s</a></li>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1));
	}
	db_finalize(st);
	if (n)
		buf_puts(&r->out, "</ul>");
	else
		html_printf(&r->out, "<span class=\"muted\">%s</span>", none);
}

static void people_section(struct req *r, const struct fiche_row *f, enum role role)
{
	buf_puts(&r->out, "<section aria-labelledby=\"pilotage\"><h2 id=\"pilotage\">Pilotage et "
	                  "publics</h2><dl class=\"facts\">");
	if (is_member(role)) {
		buf_puts(&r->out, "<div><dt>Pilotes (personnes)</dt><dd>");
		struct db_stmt *st = db_queryf(r->db,
		                               "SELECT u.name, u.email FROM fiche_pilots p "
		                               "JOIN users u ON u.id = p.user_id "
		                               "WHERE p.node_id = ? ORDER BY u.name",
		                               "I", f->id);
		int n = 0;
		while (st && db_step(st) == DB_ROW) {
			if (!n++)
				buf_puts(&r->out, "<ul class=\"inline-list\">");
			html_printf(&r->out, "<li>%s (<a href=\"mailto:%s\">%s</a>)</li>",
			            db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 1));
		}
		db_finalize(st);
		buf_puts(&r->out,
		         n ? "</ul>" : "<span class=\"muted\">aucune personne désignée</span>");
		buf_puts(&r->out, "</dd></div>");
	}
	buf_puts(&r->out, "<div><dt>Structures pilotes</dt><dd>");
	actor_list(r,
	           "SELECT a.id, a.name FROM fiche_pilots p JOIN actors a ON a.id = p.actor_id "
	           "WHERE p.node_id = ? ORDER BY a.name",
	           f->id, "aucune structure désignée");
	buf_puts(&r->out, "</dd></div><div><dt>Partenaires</dt><dd>");
	actor_list(r,
	           "SELECT a.id, a.name FROM fiche_partners p JOIN actors a ON a.id = p.actor_id "
	           "WHERE p.node_id = ? ORDER BY a.name",
	           f->id, "aucun partenaire renseigné");
	buf_puts(&r->out, "</dd></div><div><dt>Publics visés</dt><dd>");
	struct db_stmt *st = db_queryf(
	    r->db, "SELECT label FROM fiche_publics WHERE node_id = ? ORDER BY label", "I", f->id);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(&r->out, "<ul class=\"inline-list\">");
		html_printf(&r->out, "<li>%s</li>", db_col_text(st, 0));
	}
	db_finalize(st);
	buf_puts(&r->out, n ? "</ul>" : "<span class=\"muted\">non précisés</span>");
	buf_puts(&r->out, "</dd></div></dl></section>\n");
}

/* The budget table of a fiche; with `remove`, a delete button per line (edit page). */
static void budget_table(struct req *r, int64_t id, int remove)
{
	struct db_stmt *st =
	    db_queryf(r->db,
	              "SELECT b.id, b.year, b.label, b.amount_cents, a.id, a.name, b.funder_name "
	              "FROM budget_lines b LEFT JOIN actors a ON a.id = b.funder_actor_id "
	              "WHERE b.node_id = ? ORDER BY b.year NULLS FIRST, b.id",
	              "I", id);
	int n = 0;
	int64_t total = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			html_printf(
			    &r->out,
			    "<div class=\"table-wrap\" tabindex=\"0\"><table class=\"budget\">"
			    "<caption>Lignes budgétaires</caption><thead><tr>"
			    "<th scope=\"col\">Année</th><th scope=\"col\">Libellé</th>"
			    "<th scope=\"col\" class=\"num\">Montant</th>"
			    "<th scope=\"col\">Financeur</th>%R</tr></thead><tbody>",
			    remove ? "<th scope=\"col\">Action</th>" : "");
		char amount[64];
		int64_t cents = db_col_int64(st, 3);
		total += cents;
		fiche_amount_format(amount, cents);
		buf_puts(&r->out, "<tr><td>");
		if (db_col_is_null(st, 1))
			buf_puts(&r->out, "—");
		else
			html_printf(&r->out, "%lld", (long long)db_col_int64(st, 1));
		html_printf(&r->out, "</td><td>%s</td><td class=\"num\">%s</td><td>",
		            db_col_text(st, 2), amount);
		if (!db_col_is_null(st, 4))
			html_printf(&r->out, "<a href=\"/acteurs/%lld\">%s</a>",
			            (long long)db_col_int64(st, 4), db_col_text(st, 5));
		else if (db_col_text(st, 6) && *db_col_text(st, 6))
			html_printf(&r->out, "%s", db_col_text(st, 6));
		else
			buf_puts(&r->out, "—");
		buf_puts(&r->out, "</td>");
		if (remove) {
			html_printf(&r->out,
			            "<td><form method=\"post\" action=\"/fiches/%lld/budget\" "
			            "class=\"inline\" data-confirm=\"Supprimer cette ligne "
			            "budgétaire ?\">",
			            (long long)id);
			page_csrf(r);
			html_printf(
			    &r->out,
			    "<input type=\"hidden\" name=\"action\" value=\"supprimer\">"
			    "<input type=\"hidden\" name=\"line\" value=\"%lld\">"
			    "<button type=\"submit\" class=\"button small secondary\">Supprimer"
			    "<span class=\"visually-hidden\"> la ligne « %s »</span></button>"
			    "</form></td>",
			    (long long)db_col_int64(st, 0), db_col_text(st, 2));
		}
		buf_puts(&r->out, "</tr>");
	}
	db_finalize(st);
	if (!n) {
		buf_puts(&r->out, "<p>Aucune ligne budgétaire.</p>");
		return;
	}
	char amount[64];
	fiche_amount_format(amount, total);
	html_printf(
	    &r->out,
	    "</tbody><tfoot><tr><th scope=\"row\" colspan=\"2\">Total</th>"
	    "<td class=\"num\"><strong>%s</strong></td><td%R></td></tr></tfoot></table></div>",
	    amount, remove ? " colspan=\"2\"" : "");
}

static void resources_section(struct req *r, const struct fiche_row *f)
{
	buf_puts(&r->out, "<section aria-labelledby=\"moyens\"><h2 id=\"moyens\">Moyens</h2>");
	budget_table(r, f->id, 0);
	buf_puts(&r->out, "<h3>Moyens humains</h3>");
	if (str_blank(f->human_means)) {
		buf_puts(&r->out, "<p class=\"muted\">Non renseignés.</p>");
	} else {
		buf_puts(&r->out, "<div class=\"prose\">");
		markdown_render(&r->out, f->human_means);
		buf_puts(&r->out, "</div>");
	}
	buf_puts(&r->out, "</section>\n");
}

static void impacts_section(struct req *r, const struct fiche_row *f)
{
	buf_puts(&r->out,
	         "<section aria-labelledby=\"impacts\"><h2 id=\"impacts\">Domaines "
	         "d'impact</h2><p class=\"hint\">Ce que l'action transforme, selon les "
	         "7 domaines du cadre d'évaluation.</p><ul class=\"inline-list impact-list\">");
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT d.label, (SELECT COUNT(*) FROM fiche_impacts i "
	                               "WHERE i.node_id = ? AND i.domain = d.slug) "
	                               "FROM impact_domains d ORDER BY d.position",
	                               "I", f->id);
	while (st && db_step(st) == DB_ROW) {
		int on = db_col_int64(st, 1) > 0;
		html_printf(&r->out,
		            "<li class=\"%s\"><span aria-hidden=\"true\">%s</span> %s"
		            "<span class=\"visually-hidden\"> : %s</span></li>",
		            on ? "impact-on" : "impact-off muted", on ? "☑" : "☐",
		            db_col_text(st, 0), on ? "concerné" : "non concerné");
	}
	db_finalize(st);
	buf_puts(&r->out, "</ul></section>\n");
}

static void links_section(struct req *r, const struct fiche_row *f)
{
	struct db_stmt *st = db_queryf(
	    r->db, "SELECT label, url FROM fiche_links WHERE node_id = ? ORDER BY id", "I", f->id);
	buf_puts(&r->out, "<section aria-labelledby=\"liens\"><h2 id=\"liens\">Liens</h2>");
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(&r->out, "<ul>");
		const char *label = db_col_text(st, 0), *url = db_col_text(st, 1);
		if (url_safe(url) && url_valid(url))
			html_printf(&r->out,
			            "<li><a href=\"%s\" rel=\"noopener noreferrer\">%s</a></li>",
			            url, *label ? label : url);
		else
			html_printf(&r->out, "<li>%s (%s)</li>", label, url);
	}
	db_finalize(st);
	buf_puts(&r->out, n ? "</ul>" : "<p class=\"muted\">Aucun lien.</p>");
	buf_puts(&r->out, "</section>\n");
}

/* 1 when the request may delete the comment written by author_id on a plan where it has role. */
static int comment_can_delete(struct req *r, enum role role, int64_t author_id)
{
	return r->user && (role >= ROLE_COORDINATOR ||
	                   (author_id && author_id == r->user->id && is_member(role)));
}

/* Comments (members only) with the form for partners and above; draft/error re-show a post. */
static void comments_section(struct req *r, const struct fiche_row *f, enum role role,
                             const char *draft, const char *error)
{
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT c.id, c.user_id, u.name, c.body, c.created_at "
	                               "FROM comments c LEFT JOIN users u ON u.id = c.user_id "
	                               "WHERE c.node_id = ? ORDER BY c.created_at, c.id",
	                               "I", f->id);
	int64_t count = 0;
	db_int64f(r->db, &count, "SELECT COUNT(*) FROM comments WHERE node_id = ?", "I", f->id);
	html_printf(
	    &r->out,
	    "<section aria-labelledby=\"commentaires\"><h2 id=\"commentaires\">Commentaires "
	    "<span class=\"count\">(%lld)</span></h2>",
	    (long long)count);
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!n++)
			buf_puts(&r->out, "<ol class=\"comments\">");
		char when[64];
		fiche_datetime_fr(when, db_col_text(st, 4));
		int64_t cid = db_col_int64(st, 0);
		int64_t author = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		html_printf(
		    &r->out,
		    "<li id=\"commentaire-%lld\"><article class=\"panel comment\">"
		    "<p class=\"hint\"><strong>%s</strong> — <time datetime=\"%s\">%s</time>"
		    "</p><div class=\"prose\">",
		    (long long)cid, db_col_text(st, 2) ? db_col_text(st, 2) : "compte supprimé",
		    db_col_text(st, 4), when);
		markdown_render(&r->out, db_col_text(st, 3));
		buf_puts(&r->out, "</div>");
		if (comment_can_delete(r, role, author)) {
			html_printf(&r->out,
			            "<form method=\"post\" action=\"/commentaires/%lld/supprimer\" "
			            "class=\"inline\" data-confirm=\"Supprimer ce commentaire ?\">",
			            (long long)cid);
			page_csrf(r);
			buf_puts(&r->out,
			         "<button type=\"submit\" class=\"button small secondary\">"
			         "Supprimer le commentaire</button></form>");
		}
		buf_puts(&r->out, "</article></li>");
	}
	db_finalize(st);
	buf_puts(&r->out, n ? "</ol>" : "<p>Aucun commentaire pour le moment.</p>");
	if (role >= ROLE_PARTNER) {
		html_printf(&r->out,
		            "<form method=\"post\" action=\"/fiches/%lld/commentaires\" "
		            "class=\"form\" id=\"commenter\">",
		            (long long)f->id);
		page_csrf(r);
		if (error)
			page_notice(r, "error", error);
		html_printf(&r->out,
		            "<div class=\"field\"><label for=\"comment-body\">Votre commentaire"
		            "</label><textarea id=\"comment-body\" name=\"body\" rows=\"4\" "
		            "required maxlength=\"5000\" aria-describedby=\"comment-hint\"%R>%s"
		            "</textarea><p class=\"hint\" id=\"comment-hint\">5 000 caractères au "
		            "plus. Mise en forme Markdown possible (**gras**, listes, liens).</p>"
		            "</div><div class=\"actions\"><button type=\"submit\" class=\"button\">"
		            "Publier le commentaire</button></div></form>",
		            error ? " aria-invalid=\"true\"" : "", draft ? draft : "");
	} else if (is_member(role)) {
		buf_puts(&r->out, "<p class=\"hint\">Votre rôle de lecteur ne permet pas de "
		                  "commenter.</p>");
	}
	buf_puts(&r->out, "</section>\n");
}

static const struct {
	const char *code, *message;
} notices[] = {
    {"enregistree", "Fiche enregistrée."},
    {"inchangee", "Aucune modification : la fiche est inchangée."},
    {"commentaire", "Commentaire publié."},
    {"commentaire-supprime", "Commentaire supprimé."},
    {"budget", "Ligne budgétaire ajoutée."},
    {"budget-supprime", "Ligne budgétaire supprimée."},
    {"avancement", "Avancement enregistré."},
};

static void query_notice(struct req *r)
{
	const char *ok = req_query(r, "ok");
	for (size_t i = 0; ok && i < sizeof notices / sizeof *notices; i++)
		if (!strcmp(ok, notices[i].code))
			page_notice(r, "success", notices[i].message);
}

/* The whole fiche page; comment_draft/comment_error re-show a refused comment (422). */
static void fiche_page_render(struct req *r, const struct fiche_row *f, enum role role,
                              const char *comment_draft, const char *comment_error)
{
	char *level = level_name(r->db, f->plan_id, f->depth);
	char *title = xasprintf("%s %s — %s", level, f->number, f->title);
	fiche_page_begin(r, f, title, 0);
	html_printf(&r->out, "<p class=\"eyebrow\">%s %s</p>\n<h1>%s</h1>\n", level, f->number,
	            f->title);
	query_notice(r);
	if (f->archived)
		page_notice(r, "warning", "Cette fiche est archivée (proposition non retenue).");
	html_printf(&r->out,
	            "<p class=\"badges\"><span class=\"badge %s\">%s</span> "
	            "<span class=\"badge %s\">Avancement : %s</span></p>\n",
	            status_badge(f->status), fiche_status_label(f->status),
	            progress_badge(f->progress), fiche_progress_label(f->progress));
	buf_puts(&r->out, "<p class=\"actions\">");
	if (fiche_can_edit(r, f->id))
		html_printf(&r->out,
		            "<a class=\"button\" href=\"/fiches/%lld/modifier\">Modifier la "
		            "fiche</a> ",
		            (long long)f->id);
	html_printf(&r->out,
	            "<a class=\"button secondary\" href=\"/fiches/%lld/indicateurs\">Indicateurs "
	            "et mesures</a></p>\n",
	            (long long)f->id);
	buf_puts(&r->out, "<dl class=\"facts\">");
	html_printf(&r->out, "<div><dt>Plan</dt><dd><a href=\"/plans/%lld\">%s</a></dd></div>",
	            (long long)f->plan_id, f->plan_title);
	int64_t chain[8];
	int nchain = ancestors(r->db, f->parent_id, chain);
	for (int i = 0; i < nchain; i++) {
		struct db_stmt *st =
		    db_queryf(r->db, "SELECT number, title FROM nodes WHERE id = ?", "I", chain[i]);
		if (st && db_step(st) == DB_ROW)
			html_printf(&r->out, "%R<a href=\"/plans/%lld#n%lld\">%s %s</a>",
			            i ? " › " : "<div><dt>Rattachement</dt><dd>",
			            (long long)f->plan_id, (long long)chain[i], db_col_text(st, 0),
			            db_col_text(st, 1));
		db_finalize(st);
	}
	if (nchain)
		buf_puts(&r->out, "</dd></div>");
	html_printf(&r->out, "<div><dt>Statut</dt><dd>%s", fiche_status_label(f->status));
	if (f->closed_at) {
		char d[64];
		fiche_date_fr(d, f->closed_at);
		html_printf(&r->out, " (clôturée le %s)", d);
	}
	html_printf(&r->out, "</dd></div><div><dt>Avancement</dt><dd>%s",
	            fiche_progress_label(f->progress));
	if (f->progress_updated_at) {
		char d[64];
		fiche_date_fr(d, f->progress_updated_at);
		html_printf(&r->out, " (dernier point le %s)", d);
	}
	buf_puts(&r->out, "</dd></div><div><dt>Dates</dt><dd>");
	period_text(&r->out, f->start_date, f->end_date);
	buf_puts(&r->out, "</dd></div><div><dt>Territoire</dt><dd>");
	territory_fact(r, f);
	buf_puts(&r->out, "</dd></div></dl>\n");
	if (f->is_demo)
		buf_puts(&r->out,
		         "<p class=\"hint\">Le statut, l'avancement, les dates et les publics "
		         "de cette fiche sont des valeurs de démonstration.</p>\n");

	static const struct {
		const char *id, *heading;
	} texts[] = {{"description", "Description"},
	             {"resultats", "Résultats attendus"},
	             {"cloture", "Note de clôture"}};
	const char *bodies[] = {f->description, f->expected_results, f->closing_note};
	for (size_t i = 0; i < 3; i++) {
		if (i == 2 && str_blank(bodies[i]))
			continue;
		html_printf(&r->out, "<section aria-labelledby=\"%s\"><h2 id=\"%s\">%s</h2>",
		            texts[i].id, texts[i].id, texts[i].heading);
		if (str_blank(bodies[i])) {
			buf_puts(&r->out, "<p class=\"muted\">Non renseigné.</p>");
		} else {
			buf_puts(&r->out, "<div class=\"prose\">");
			markdown_render(&r->out, bodies[i]);
			buf_puts(&r->out, "</div>");
		}
		buf_puts(&r->out, "</section>\n");
	}
	people_section(r, f, role);
	resources_section(r, f);
	impacts_section(r, f);
	needs_for_fiche_section(r, f->id);
	links_section(r, f);
	if (is_member(role)) {
		comments_section(r, f, role, comment_draft, comment_error);
		history_render(r, f->id);
	} else {
		buf_puts(&r->out, "<p class=\"hint\">Les commentaires et l'historique des "
		                  "modifications sont réservés aux membres du plan.</p>\n");
	}
	page_end(r);
	free(level);
	free(title);
}

static void fiche_page(struct req *r)
{
	int64_t id;
	struct fiche_row f;
	enum role role;
	if (req_param_id(r, 0, &id) || fiche_read_require(r, id, ROLE_PUBLIC, &f, &role))
		return;
	fiche_page_render(r, &f, role, NULL, NULL);
	fiche_row_free(&f);
}

/* --- the fiche being edited ---------------------------------------------------------------- */

struct idset {
	int64_t *v;
	size_t n, cap;
};

static void idset_add(struct idset *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = id;
}

static int idset_has(const struct idset *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 1;
	return 0;
}

static void idset_clear(struct idset *s)
{
	s->n = 0;
}

struct strset {
	char **v;
	size_t n, cap;
};

static void strset_add(struct strset *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = xstrdup(str);
}

static int strset_has(const struct strset *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 1;
	return 0;
}

static void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void strset_free(struct strset *s)
{
	strset_clear(s);
	free(s->v);
	memset(s, 0, sizeof *s);
}

struct link_in {
	char *label, *url;
};

struct line_in {
	int64_t year; /* 0: none */
	char *label;
	int64_t cents;
	int64_t funder_actor; /* 0: none */
	char *funder_name;
};

/*
 * Everything an edit may change, as the user gave it. Strings are owned (malloc'ed); dates are
 * "" when absent. The *_raw texts keep what was typed in a textarea, to show it back on errors.
 */
struct fiche_in {
	char *title, *description, *expected_results, *human_means, *status, *progress;
	char *start_date, *end_date, *closing_note;
	struct idset pilot_users, pilot_actors, partners;
	struct strset publics, communes, impacts;
	struct link_in *links;
	size_t nlinks;
	struct line_in *lines; /* budget lines, replaced only when lines_set (API) */
	size_t nlines;
	int lines_set;
	char *publics_raw, *communes_raw, *links_raw;
	char *pilot_actor_extra, *partner_extra; /* names typed in "other structure" inputs */
};

static void links_clear(struct fiche_in *in)
{
	for (size_t i = 0; i < in->nlinks; i++) {
		free(in->links[i].label);
		free(in->links[i].url);
	}
	free(in->links);
	in->links = NULL;
	in->nlinks = 0;
}

static void lines_clear(struct fiche_in *in)
{
	for (size_t i = 0; i < in->nlines; i++) {
		free(in->lines[i].label);
		free(in->lines[i].funder_name);
	}
	free(in->lines);
	in->lines = NULL;
	in->nlines = 0;
}

static void link_add(struct fiche_in *in, const char *label, const char *url)
{
	in->links = xrealloc(in->links, (in->nlinks + 1) * sizeof *in->links);
	in->links[in->nlinks].label = xstrdup(label);
	in->links[in->nlinks].url = xstrdup(url);
	in->nlinks++;
}

static void fiche_in_free(struct fiche_in *in)
{
	char **strs[] = {&in->title,
	                 &in->description,
	                 &in->expected_results,
	                 &in->human_means,
	                 &in->status,
	                 &in->progress,
	                 &in->start_date,
	                 &in->end_date,
	                 &in->closing_note,
	                 &in->publics_raw,
	                 &in->communes_raw,
	                 &in->links_raw,
	                 &in->pilot_actor_extra,
	                 &in->partner_extra};
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		free(*strs[i]);
	free(in->pilot_users.v);
	free(in->pilot_actors.v);
	free(in->partners.v);
	strset_free(&in->publics);
	strset_free(&in->communes);
	strset_free(&in->impacts);
	links_clear(in);
	lines_clear(in);
	memset(in, 0, sizeof *in);
}

static void ids_load(struct db *db, struct idset *s, const char *sql, int64_t id)
{
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		idset_add(s, db_col_int64(st, 0));
	db_finalize(st);
}

static void strs_load(struct db *db, struct strset *s, const char *sql, int64_t id)
{
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		strset_add(s, db_col_text(st, 0));
	db_finalize(st);
}

/* The fiche as stored. 0, or -1 when it is not a fiche. */
static int fiche_in_load(struct db *db, int64_t id, struct fiche_in *in)
{
	memset(in, 0, sizeof *in);
	struct fiche_row f;
	if (fiche_row_load(db, id, &f))
		return -1;
	in->title = xstrdup(f.title);
	in->description = xstrdup(f.description ? f.description : "");
	in->expected_results = xstrdup(f.expected_results ? f.expected_results : "");
	in->human_means = xstrdup(f.human_means ? f.human_means : "");
	in->status = xstrdup(f.status);
	in->progress = xstrdup(f.progress);
	in->start_date = xstrdup(f.start_date ? f.start_date : "");
	in->end_date = xstrdup(f.end_date ? f.end_date : "");
	in->closing_note = xstrdup(f.closing_note ? f.closing_note : "");
	fiche_row_free(&f);
	ids_load(db, &in->pilot_users,
	         "SELECT user_id FROM fiche_pilots WHERE node_id = ? AND user_id IS NOT NULL "
	         "ORDER BY id",
	         id);
	ids_load(db, &in->pilot_actors,
	         "SELECT actor_id FROM fiche_pilots WHERE node_id = ? AND actor_id IS NOT NULL "
	         "ORDER BY id",
	         id);
	ids_load(db, &in->partners, "SELECT actor_id FROM fiche_partners WHERE node_id = ?", id);
	strs_load(db, &in->publics,
	          "SELECT label FROM fiche_publics WHERE node_id = ? ORDER BY label", id);
	strs_load(db, &in->communes,
	          "SELECT commune FROM fiche_communes WHERE node_id = ? ORDER BY commune", id);
	strs_load(db, &in->impacts, "SELECT domain FROM fiche_impacts WHERE node_id = ?", id);
	struct db_stmt *st = db_queryf(
	    db, "SELECT label, url FROM fiche_links WHERE node_id = ? ORDER BY id", "I", id);
	while (st && db_step(st) == DB_ROW)
		link_add(in, db_col_text(st, 0), db_col_text(st, 1));
	db_finalize(st);
	return 0;
}

/* --- errors ---------------------------------------------------------------------------------- */

struct ferrs {
	struct {
		const char *field; /* a static field name */
		char *msg;
	} v[64];
	size_t n;
};

static void ferr(struct ferrs *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ferr(struct ferrs *e, const char *field, const char *fmt, ...)
{
	if (e->n >= 64)
		return;
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].field, field))
			return; /* one message per field */
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	e->v[e->n].field = field;
	e->v[e->n].msg = m;
	e->n++;
}

static const char *ferr_get(const struct ferrs *e, const char *field)
{
	for (size_t i = 0; e && i < e->n; i++)
		if (!strcmp(e->v[i].field, field))
			return e->v[i].msg;
	return NULL;
}

static void ferrs_free(struct ferrs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].msg);
	e->n = 0;
}

/* --- parsing the textareas ----------------------------------------------------------------- */

/* Publics: one per line; blank lines skipped. */
static void publics_parse(struct fiche_in *in, const char *text)
{
	strset_clear(&in->publics);
	char *copy = text_clean(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = str_trim_dup(line);
		if (*t)
			strset_add(&in->publics, t);
		free(t);
	}
	free(copy);
}

/* Communes: INSEE codes separated by spaces, commas, semicolons or lines (upper-cased). */
static void communes_parse(struct fiche_in *in, const char *text)
{
	strset_clear(&in->communes);
	char *copy = xstrdup(text ? text : ""), *save = NULL;
	for (char *tok = strtok_r(copy, " \t\r\n,;", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n,;", &save)) {
		for (char *p = tok; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		strset_add(&in->communes, tok);
	}
	free(copy);
}

/* Links: one per line, "label URL" (the address is the last word; "|", ":" or "—" may separate
 * it from the label) or the address alone. */
static void links_parse(struct fiche_in *in, const char *text)
{
	links_clear(in);
	char *copy = text_clean(text), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = str_trim_dup(line);
		if (!*t) {
			free(t);
			continue;
		}
		char *sp = strrchr(t, ' ');
		char *tab = strrchr(t, '\t');
		if (tab > sp)
			sp = tab;
		const char *url = sp ? sp + 1 : t;
		char *label = sp ? xstrndup(t, (size_t)(sp - t)) : xstrdup("");
		/* Drop a trailing separator from the label. */
		for (;;) {
			char *lt = str_trim_dup(label);
			free(label);
			label = lt;
			size_t n = strlen(label);
			if (n &&
			    (label[n - 1] == '|' || label[n - 1] == ':' || label[n - 1] == '-'))
				label[n - 1] = '\0';
			else if (n >= 3 &&
			         (!strcmp(label + n - 3, "—") || !strcmp(label + n - 3, "–")))
				label[n - 3] = '\0';
			else
				break;
		}
		link_add(in, label, url);
		free(label);
		free(t);
	}
	free(copy);
}

static void strset_join(struct buf *b, const struct strset *s, const char *sep)
{
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_puts(b, sep);
		buf_puts(b, s->v[i]);
	}
}

/* --- from a form ------------------------------------------------------------------------------ */

/* Every value of a repeated form field, as ids; a value that is not one is an error. */
static void form_ids(struct req *r, const char *key, struct idset *s, struct ferrs *e)
{
	idset_clear(s);
	for (size_t i = 0; i < r->form.n; i++) {
		if (strcmp(r->form.items[i].key, key))
			continue;
		int64_t id;
		if (!*r->form.items[i].val)
			continue;
		if (parse_int64(r->form.items[i].val, &id) || id <= 0)
			ferr(e, key, "Choix non valide.");
		else
			idset_add(s, id);
	}
}

/* A field "X" of a multiple choice is taken into account only when the form says it showed it
 * (a hidden "X_shown"): a form that does not show it leaves the stored value alone. */
static int form_shows(struct req *r, const char *key)
{
	char name[64];
	snprintf(name, sizeof name, "%s_shown", key);
	return req_form(r, name) != NULL;
}

/*
 * Overlay the form on `in`: fields absent from the form keep their value (so that a form
 * showing only some fields changes only those). Text is cleaned; lists are parsed; format
 * errors go to e (range and existence checks are fiche_in_validate's).
 */
static void fiche_in_from_form(struct req *r, struct fiche_in *in, struct ferrs *e)
{
	static const struct {
		const char *key;
		size_t off;
	} texts[] = {
	    {"title", offsetof(struct fiche_in, title)},
	    {"description", offsetof(struct fiche_in, description)},
	    {"expected_results", offsetof(struct fiche_in, expected_results)},
	    {"human_means", offsetof(struct fiche_in, human_means)},
	    {"status", offsetof(struct fiche_in, status)},
	    {"progress", offsetof(struct fiche_in, progress)},
	    {"start_date", offsetof(struct fiche_in, start_date)},
	    {"end_date", offsetof(struct fiche_in, end_date)},
	    {"closing_note", offsetof(struct fiche_in, closing_note)},
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		const char *v = req_form(r, texts[i].key);
		if (!v)
			continue;
		char **dst = (char **)(void *)((char *)in + texts[i].off);
		free(*dst);
		*dst = text_clean(v);
	}
	if (form_shows(r, "pilot_user"))
		form_ids(r, "pilot_user", &in->pilot_users, e);
	if (form_shows(r, "pilot_actor"))
		form_ids(r, "pilot_actor", &in->pilot_actors, e);
	if (form_shows(r, "partner"))
		form_ids(r, "partner", &in->partners, e);
	if (form_shows(r, "impact")) {
		strset_clear(&in->impacts);
		for (size_t i = 0; i < r->form.n; i++)
			if (!strcmp(r->form.items[i].key, "impact") && *r->form.items[i].val)
				strset_add(&in->impacts, r->form.items[i].val);
	}
	const char *v;
	if ((v = req_form(r, "publics"))) {
		set_str(&in->publics_raw, v);
		publics_parse(in, v);
	}
	if ((v = req_form(r, "communes"))) {
		set_str(&in->communes_raw, v);
		communes_parse(in, v);
	}
	if ((v = req_form(r, "links"))) {
		set_str(&in->links_raw, v);
		links_parse(in, v);
	}
	if ((v = req_form(r, "pilot_actor_new")) && !str_blank(v))
		in->pilot_actor_extra = str_trim_dup(v);
	if ((v = req_form(r, "partner_new")) && !str_blank(v))
		in->partner_extra = str_trim_dup(v);
}

/* The actor named exactly `name` (or, failing that, the only one with its folded name). */
static int64_t actor_find(struct db *db, const char *name)
{
	int64_t id = 0;
	if (db_int64f(db, &id, "SELECT id FROM actors WHERE name = ?", "s", name) == DB_OK)
		return id;
	char *key = text_fold(name);
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM actors WHERE search_name = ?", "s", key);
	if (n == 1)
		db_int64f(db, &id, "SELECT id FROM actors WHERE search_name = ?", "s", key);
	free(key);
	return n == 1 ? id : 0;
}

/* --- validation ------------------------------------------------------------------------------- */

/* A text field: valid UTF-8 text, at most max characters, one line when single_line. */
static void check_text(struct ferrs *e, const char *field, const char *label, const char *s,
                       size_t max, int single_line)
{
	if (!utf8_valid_text(s, strlen(s)))
		ferr(e, field, "%s contient des caractères non autorisés.", label);
	else if (text_chars(s) > max)
		ferr(e, field, "%s est limité à %zu caractères (%zu saisis).", label, max,
		     text_chars(s));
	else if (single_line && strpbrk(s, "\r\n"))
		ferr(e, field, "%s doit tenir sur une ligne.", label);
}

static int actor_exists(struct db *db, int64_t id)
{
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM actors WHERE id = ?", "I", id);
	return n > 0;
}

/*
 * Check every value of `in` for fiche node_id of plan_id: lengths, enumerations, dates,
 * closing note, people (members of the plan with role pilot or coordinator, or already pilots
 * of the fiche), actors, publics, communes (existing, and inside the plan's territory when the
 * plan has one), impact domains, links (http/https only), budget lines.
 */
static void fiche_in_validate(struct db *db, int64_t plan_id, int64_t node_id, struct fiche_in *in,
                              struct ferrs *e)
{
	if (str_blank(in->title))
		ferr(e, "title", "Le titre est obligatoire.");
	else
		check_text(e, "title", "Le titre", in->title, TITLE_MAX, 1);
	check_text(e, "description", "La description", in->description, LONG_TEXT_MAX, 0);
	check_text(e, "expected_results", "Les résultats attendus", in->expected_results,
	           LONG_TEXT_MAX, 0);
	check_text(e, "human_means", "Les moyens humains", in->human_means, MEANS_MAX, 0);
	check_text(e, "closing_note", "La note de clôture", in->closing_note, NOTE_MAX, 0);
	if (!fiche_status_valid(in->status))
		ferr(e, "status", "Choisissez un statut dans la liste.");
	if (!fiche_progress_valid(in->progress))
		ferr(e, "progress", "Choisissez un niveau d'avancement dans la liste.");
	if (*in->start_date && !fiche_date_valid(in->start_date))
		ferr(e, "start_date",
		     "La date de début doit être une date réelle au format "
		     "AAAA-MM-JJ (par exemple 2024-03-12).");
	if (*in->end_date && !fiche_date_valid(in->end_date))
		ferr(e, "end_date",
		     "La date de fin doit être une date réelle au format AAAA-MM-JJ "
		     "(par exemple 2026-12-31).");
	else if (*in->end_date && *in->start_date && fiche_date_valid(in->start_date) &&
	         strcmp(in->end_date, in->start_date) < 0)
		ferr(e, "end_date", "La date de fin ne peut pas précéder la date de début.");
	if (fiche_status_closes(in->status) && str_blank(in->closing_note))
		ferr(
		    e, "closing_note",
		    "Une note de clôture est obligatoire pour passer la fiche en « %s » : dites ce "
		    "qui a été fait, ce qui reste, et pourquoi la fiche est close.",
		    fiche_status_label(in->status));

	/* People: members with role pilot or coordinator, or already pilots of this fiche. */
	if (in->pilot_users.n > PEOPLE_MAX)
		ferr(e, "pilot_user", "%d personnes pilotes au plus.", PEOPLE_MAX);
	for (size_t i = 0; i < in->pilot_users.n; i++) {
		int64_t ok = 0;
		db_int64f(db, &ok,
		          "SELECT COUNT(*) FROM users u WHERE u.id = ? AND u.disabled = 0 AND "
		          "(EXISTS (SELECT 1 FROM plan_members m WHERE m.plan_id = ? AND "
		          "m.user_id = u.id AND m.role IN ('pilot', 'coordinator')) OR "
		          "EXISTS (SELECT 1 FROM fiche_pilots p WHERE p.node_id = ? AND "
		          "p.user_id = u.id))",
		          "III", in->pilot_users.v[i], plan_id, node_id);
		if (!ok)
			ferr(e, "pilot_user",
			     "Une personne pilote doit être membre du plan avec le "
			     "rôle pilote ou coordinateur.");
	}
	/* Structures typed by name are added to the chosen ones. */
	if (in->pilot_actor_extra) {
		int64_t a = actor_find(db, in->pilot_actor_extra);
		if (a)
			idset_add(&in->pilot_actors, a);
		else
			ferr(e, "pilot_actor_new",
			     "Aucune structure de l'annuaire ne s'appelle « %s ».",
			     in->pilot_actor_extra);
	}
	if (in->partner_extra) {
		int64_t a = actor_find(db, in->partner_extra);
		if (a)
			idset_add(&in->partners, a);
		else
			ferr(e, "partner_new",
			     "Aucune structure de l'annuaire ne s'appelle « %s ».",
			     in->partner_extra);
	}
	const struct {
		struct idset *set;
		const char *field, *what;
	} actor_sets[] = {{&in->pilot_actors, "pilot_actor", "structures pilotes"},
	                  {&in->partners, "partner", "partenaires"}};
	for (size_t k = 0; k < 2; k++) {
		if (actor_sets[k].set->n > ACTORS_MAX)
			ferr(e, actor_sets[k].field, "%d %s au plus.", ACTORS_MAX,
			     actor_sets[k].what);
		for (size_t i = 0; i < actor_sets[k].set->n; i++)
			if (!actor_exists(db, actor_sets[k].set->v[i]))
				ferr(e, actor_sets[k].field,
				     "Une des %s choisies n'existe pas dans l'annuaire.",
				     actor_sets[k].what);
	}

	if (in->publics.n > PUBLICS_MAX)
		ferr(e, "publics", "%d publics au plus (%zu saisis).", PUBLICS_MAX, in->publics.n);
	for (size_t i = 0; i < in->publics.n; i++) {
		if (!utf8_valid_text(in->publics.v[i], strlen(in->publics.v[i])) ||
		    strpbrk(in->publics.v[i], "\r\n"))
			ferr(e, "publics", "Un public contient des caractères non autorisés.");
		else if (text_chars(in->publics.v[i]) > PUBLIC_LEN_MAX)
			ferr(
			    e, "publics",
			    "Chaque public est limité à %d caractères (le public n° %zu en a %zu).",
			    PUBLIC_LEN_MAX, i + 1, text_chars(in->publics.v[i]));
	}

	if (in->communes.n > COMMUNES_MAX)
		ferr(e, "communes", "%d communes au plus.", COMMUNES_MAX);
	int64_t has_territory = 0;
	db_int64f(db, &has_territory, "SELECT COUNT(*) FROM plan_territory WHERE plan_id = ?", "I",
	          plan_id);
	for (size_t i = 0; i < in->communes.n && e->n < 64; i++) {
		const char *code = in->communes.v[i];
		int64_t n = 0;
		if (!insee_valid(code) || strlen(code) > 5) {
			ferr(e, "communes",
			     "« %.20s » n'est pas un code INSEE de commune (5 "
			     "caractères, par exemple 26108).",
			     code);
			continue;
		}
		db_int64f(db, &n, "SELECT COUNT(*) FROM communes WHERE code = ?", "s", code);
		if (!n) {
			ferr(e, "communes",
			     "Le code INSEE %s ne correspond à aucune commune connue.", code);
			continue;
		}
		if (!has_territory)
			continue;
		db_int64f(db, &n,
		          "SELECT COUNT(*) FROM communes c JOIN plan_territory t ON t.plan_id = ? "
		          "AND ((t.scope = 'commune' AND t.code = c.code) OR "
		          "(t.scope = 'epci' AND t.code = c.epci) OR "
		          "(t.scope = 'departement' AND t.code = c.departement)) WHERE c.code = ?",
		          "Is", plan_id, code);
		if (!n)
			ferr(e, "communes", "La commune %s n'est pas dans le territoire du plan.",
			     code);
	}

	for (size_t i = 0; i < in->impacts.n; i++) {
		int64_t n = 0;
		db_int64f(db, &n, "SELECT COUNT(*) FROM impact_domains WHERE slug = ?", "s",
		          in->impacts.v[i]);
		if (!n)
			ferr(e, "impact", "Domaine d'impact inconnu.");
	}

	if (in->nlinks > LINKS_MAX)
		ferr(e, "links", "%d liens au plus.", LINKS_MAX);
	for (size_t i = 0; i < in->nlinks; i++) {
		if (!url_valid(in->links[i].url))
			ferr(e, "links",
			     "Ligne %zu : seules les adresses web commençant par http:// ou "
			     "https:// "
			     "sont acceptées, sans espace.",
			     i + 1);
		else
			check_text(e, "links", "Le libellé d'un lien", in->links[i].label,
			           LINK_LABEL_MAX, 1);
	}

	if (in->lines_set) {
		if (in->nlines > BUDGET_LINES_MAX)
			ferr(e, "budget_lines", "%d lignes budgétaires au plus.", BUDGET_LINES_MAX);
		for (size_t i = 0; i < in->nlines; i++) {
			struct line_in *l = &in->lines[i];
			if (l->year && (l->year < 1900 || l->year > 2999))
				ferr(e, "budget_lines", "Ligne %zu : année non valide.", i + 1);
			if (str_blank(l->label))
				ferr(e, "budget_lines", "Ligne %zu : le libellé est obligatoire.",
				     i + 1);
			else
				check_text(e, "budget_lines", "Le libellé d'une ligne budgétaire",
				           l->label, BUDGET_LABEL_MAX, 1);
			if (l->cents < 0 || l->cents > FICHE_AMOUNT_MAX_CENTS)
				ferr(e, "budget_lines", "Ligne %zu : montant non valide.", i + 1);
			if (l->funder_actor && !actor_exists(db, l->funder_actor))
				ferr(e, "budget_lines",
				     "Ligne %zu : le financeur n'existe pas dans l'annuaire.",
				     i + 1);
			check_text(e, "budget_lines", "Le nom d'un financeur", l->funder_name,
			           FUNDER_MAX, 1);
		}
	}
}

/* --- saving ------------------------------------------------------------------------------------
 */

/*
 * Write `in` over fiche node_id, inside the caller's transaction: node title and description,
 * fiche fields (closed_at set when the fiche closes, cleared when it reopens;
 * progress_updated_at when the progress level changes), and every list replaced.
 */
static int fiche_in_save(struct db *db, int64_t node_id, const struct fiche_in *in)
{
	char now[32];
	time_iso_now(now);
	char *old_status = NULL, *old_progress = NULL, *closed_at = NULL, *progress_at = NULL;
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT status, progress, closed_at, progress_updated_at FROM fiches "
	              "WHERE node_id = ?",
	              "I", node_id);
	if (st && db_step(st) == DB_ROW) {
		old_status = col_dup(st, 0);
		old_progress = col_dup(st, 1);
		closed_at = col_dup(st, 2);
		progress_at = col_dup(st, 3);
	}
	db_finalize(st);
	if (!old_status)
		return DB_ERROR;
	if (!fiche_status_closes(in->status))
		set_str(&closed_at, NULL);
	else if (!fiche_status_closes(old_status) || !closed_at)
		set_str(&closed_at, now);
	if (strcmp(old_progress, in->progress))
		set_str(&progress_at, now);
	int rc = db_execf(db,
	                  "UPDATE nodes SET title = ?, description = ?, updated_at = ? "
	                  "WHERE id = ?",
	                  "sssI", in->title, in->description, now, node_id);
	if (rc == DB_OK)
		rc = db_execf(db,
		              "UPDATE fiches SET status = ?, progress = ?, expected_results = ?, "
		              "human_means = ?, start_date = ?, end_date = ?, closing_note = ?, "
		              "closed_at = ?, progress_updated_at = ? WHERE node_id = ?",
		              "sssssssssI", in->status, in->progress, in->expected_results,
		              in->human_means, *in->start_date ? in->start_date : NULL,
		              *in->end_date ? in->end_date : NULL, in->closing_note, closed_at,
		              progress_at, node_id);
	free(old_status);
	free(old_progress);
	free(closed_at);
	free(progress_at);

	static const char *const clear[] = {
	    "DELETE FROM fiche_pilots WHERE node_id = ?",
	    "DELETE FROM fiche_partners WHERE node_id = ?",
	    "DELETE FROM fiche_publics WHERE node_id = ?",
	    "DELETE FROM fiche_communes WHERE node_id = ?",
	    "DELETE FROM fiche_impacts WHERE node_id = ?",
	    "DELETE FROM fiche_links WHERE node_id = ?",
	};
	for (size_t i = 0; i < sizeof clear / sizeof *clear && rc == DB_OK; i++)
		rc = db_execf(db, clear[i], "I", node_id);
	for (size_t i = 0; i < in->pilot_users.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_pilots (node_id, user_id) VALUES (?, ?)", "II",
		              node_id, in->pilot_users.v[i]);
	for (size_t i = 0; i < in->pilot_actors.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_pilots (node_id, actor_id) VALUES (?, ?)",
		              "II", node_id, in->pilot_actors.v[i]);
	for (size_t i = 0; i < in->partners.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_partners (node_id, actor_id) VALUES (?, ?)",
		              "II", node_id, in->partners.v[i]);
	for (size_t i = 0; i < in->publics.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_publics (node_id, label) VALUES (?, ?)", "Is",
		              node_id, in->publics.v[i]);
	for (size_t i = 0; i < in->communes.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_communes (node_id, commune) VALUES (?, ?)",
		              "Is", node_id, in->communes.v[i]);
	for (size_t i = 0; i < in->impacts.n && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_impacts (node_id, domain) VALUES (?, ?)", "Is",
		              node_id, in->impacts.v[i]);
	for (size_t i = 0; i < in->nlinks && rc == DB_OK; i++)
		rc = db_execf(db, "INSERT INTO fiche_links (node_id, label, url) VALUES (?, ?, ?)",
		              "Iss", node_id, in->links[i].label, in->links[i].url);
	if (in->lines_set && rc == DB_OK)
		rc = db_execf(db, "DELETE FROM budget_lines WHERE node_id = ?", "I", node_id);
	for (size_t i = 0; in->lines_set && i < in->nlines && rc == DB_OK; i++) {
		const struct line_in *l = &in->lines[i];
		struct db_stmt *ins =
		    db_prepare(db, "INSERT INTO budget_lines (node_id, year, label, "
		                   "amount_cents, funder_actor_id, funder_name) "
		                   "VALUES (?, ?, ?, ?, ?, ?)");
		if (!ins) {
			rc = DB_ERROR;
			break;
		}
		db_bind_int64(ins, 1, node_id);
		if (l->year)
			db_bind_int64(ins, 2, l->year);
		else
			db_bind_null(ins, 2);
		db_bind_text(ins, 3, l->label);
		db_bind_int64(ins, 4, l->cents);
		if (l->funder_actor)
			db_bind_int64(ins, 5, l->funder_actor);
		else
			db_bind_null(ins, 5);
		db_bind_text(ins, 6, l->funder_actor ? "" : l->funder_name ? l->funder_name : "");
		rc = db_step(ins) == DB_DONE ? DB_OK : DB_ERROR;
		db_finalize(ins);
	}
	return rc;
}

/*
 * Run `apply` on fiche id in one transaction, auditing the change (entity 'fiche', before and
 * after snapshots; nothing recorded when nothing changed). Returns DB_OK and sets *changed, or
 * an error code (rolled back).
 */
typedef int (*fiche_apply_fn)(struct db *db, int64_t id, void *ud);

static int fiche_change(struct req *r, int64_t id, fiche_apply_fn apply, void *ud, int *changed)
{
	const char *origin = r->is_api ? "api" : "web";
	*changed = 0;
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	json_t *before = fiche_snapshot(r->db, id);
	rc = apply(r->db, id, ud);
	json_t *after = rc == DB_OK ? fiche_snapshot(r->db, id) : NULL;
	if (rc == DB_OK && after && !json_equal(before, after)) {
		*changed = 1;
		rc = audit_write_id(r->db, r->user ? r->user->id : 0, origin, "update", "fiche", id,
		                    before, after);
	}
	json_decref(before);
	json_decref(after);
	if (rc == DB_OK && *changed)
		rc = db_commit(r->db);
	else
		db_rollback(r->db); /* an error, or nothing to record */
	return rc;
}

static int apply_in(struct db *db, int64_t id, void *ud)
{
	return fiche_in_save(db, id, ud);
}

/* --- the edit page --------------------------------------------------------------------------- */

/* aria attributes of a field with an error: invalid, described by its message. */
static void field_aria(struct buf *o, const struct ferrs *e, const char *field, const char *hint)
{
	const char *msg = ferr_get(e, field);
	if (msg)
		html_printf(o, " aria-invalid=\"true\" aria-describedby=\"err-%s%R%s\"", field,
		            hint ? " " : "", hint ? hint : "");
	else if (hint)
		html_printf(o, " aria-describedby=\"%s\"", hint);
}

static void field_error(struct buf *o, const struct ferrs *e, const char *field)
{
	const char *msg = ferr_get(e, field);
	if (msg)
		html_printf(o, "<p class=\"notice notice-error field-error\" id=\"err-%s\">%s</p>",
		            field, msg);
}

static void textarea_field(struct buf *o, const struct ferrs *e, const char *name,
                           const char *label, const char *value, int rows, int max,
                           const char *hint)
{
	char hint_id[64];
	snprintf(hint_id, sizeof hint_id, "hint-%s", name);
	html_printf(o, "<div class=\"field\"><label for=\"f-%s\">%s</label>", name, label);
	field_error(o, e, name);
	html_printf(o, "<textarea id=\"f-%s\" name=\"%s\" rows=\"%d\" maxlength=\"%d\"", name, name,
	            rows, max);
	field_aria(o, e, name, hint ? hint_id : NULL);
	html_printf(o, ">%s</textarea>", value ? value : "");
	if (hint)
		html_printf(o, "<p class=\"hint\" id=\"%s\">%s</p>", hint_id, hint);
	buf_puts(o, "</div>");
}

struct option {
	int64_t id;
	char *name;
	char *note; /* extra words after the name, or NULL */
};

static void options_free(struct option *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].note);
	}
	free(v);
}

static void option_add(struct option **v, size_t *n, int64_t id, const char *name, const char *note)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].id == id)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].id = id;
	(*v)[*n].name = xstrdup(name ? name : "");
	(*v)[*n].note = note ? xstrdup(note) : NULL;
	(*n)++;
}

/*
 * The actors offered in the selects: the whole directory when it is small, else the plan's own
 * (signatories, pilots and partners of its fiches, structures of its territory), plus those
 * already chosen.
 */
static struct option *actor_options(struct db *db, int64_t plan_id, const struct fiche_in *in,
                                    size_t *n)
{
	struct option *v = NULL;
	*n = 0;
	int64_t total = 0;
	db_int64f(db, &total, "SELECT COUNT(*) FROM actors", "");
	struct db_stmt *st =
	    total <= ACTOR_SELECT_MAX
	        ? db_queryf(db, "SELECT id, name FROM actors ORDER BY name", "")
	        : db_queryf(db,
	                    "SELECT a.id, a.name FROM actors a WHERE "
	                    "a.id IN (SELECT actor_id FROM plan_signatories WHERE plan_id = ?) "
	                    "OR a.id IN (SELECT p.actor_id FROM fiche_pilots p JOIN nodes n "
	                    "ON n.id = p.node_id WHERE n.plan_id = ?) "
	                    "OR a.id IN (SELECT p.actor_id FROM fiche_partners p JOIN nodes n "
	                    "ON n.id = p.node_id WHERE n.plan_id = ?) "
	                    "OR a.commune IN (SELECT c.code FROM communes c "
	                    "JOIN plan_territory t ON t.plan_id = ? AND "
	                    "((t.scope = 'commune' AND t.code = c.code) OR "
	                    "(t.scope = 'epci' AND t.code = c.epci) OR "
	                    "(t.scope = 'departement' AND t.code = c.departement))) "
	                    "ORDER BY a.name",
	                    "IIII", plan_id, plan_id, plan_id, plan_id);
	while (st && db_step(st) == DB_ROW && *n < 5000)
		option_add(&v, n, db_col_int64(st, 0), db_col_text(st, 1), NULL);
	db_finalize(st);
	const struct idset *chosen[] = {&in->pilot_actors, &in->partners};
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < chosen[k]->n; i++) {
			st = db_queryf(db, "SELECT name FROM actors WHERE id = ?", "I",
			               chosen[k]->v[i]);
			if (st && db_step(st) == DB_ROW)
				option_add(&v, n, chosen[k]->v[i], db_col_text(st, 0), NULL);
			db_finalize(st);
		}
	return v;
}

/* People who may pilot: members with role pilot or coordinator, and the current pilots. */
static struct option *people_options(struct db *db, int64_t plan_id, int64_t node_id, size_t *n)
{
	struct option *v = NULL;
	*n = 0;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT u.id, u.name, m.role FROM users u "
	    "LEFT JOIN plan_members m ON m.user_id = u.id AND m.plan_id = ? "
	    "WHERE u.disabled = 0 AND (m.role IN ('pilot', 'coordinator') OR "
	    "u.id IN (SELECT user_id FROM fiche_pilots WHERE node_id = ? AND user_id IS NOT NULL)) "
	    "ORDER BY u.name",
	    "II", plan_id, node_id);
	while (st && db_step(st) == DB_ROW) {
		const char *role = db_col_text(st, 2);
		const char *note = !role                          ? "n'est plus membre du plan"
		                   : !strcmp(role, "coordinator") ? "coordination"
		                   : !strcmp(role, "pilot")       ? "pilote"
		                                                  : "n'est plus pilote du plan";
		option_add(&v, n, db_col_int64(st, 0), db_col_text(st, 1), note);
	}
	db_finalize(st);
	return v;
}

static void actor_select(struct buf *o, const struct ferrs *e, const char *name, const char *label,
                         const struct option *opts, size_t nopts, const struct idset *chosen,
                         const char *extra_name, const char *extra_label, const char *extra_value)
{
	html_printf(o, "<div class=\"field\"><label for=\"f-%s\">%s</label>", name, label);
	field_error(o, e, name);
	html_printf(o,
	            "<input type=\"hidden\" name=\"%s_shown\" value=\"1\">"
	            "<select id=\"f-%s\" name=\"%s\" multiple size=\"8\"",
	            name, name, name);
	char hint[64];
	snprintf(hint, sizeof hint, "hint-%s", name);
	field_aria(o, e, name, hint);
	buf_puts(o, ">");
	for (size_t i = 0; i < nopts; i++)
		html_printf(o, "<option value=\"%lld\"%R>%s</option>", (long long)opts[i].id,
		            idset_has(chosen, opts[i].id) ? " selected" : "", opts[i].name);
	html_printf(o,
	            "</select><p class=\"hint\" id=\"%s\">Ctrl (ou Cmd) + clic pour en choisir "
	            "plusieurs ou en retirer une.</p></div>",
	            hint);
	html_printf(o, "<div class=\"field\"><label for=\"f-%s\">%s</label>", extra_name,
	            extra_label);
	field_error(o, e, extra_name);
	html_printf(o, "<input id=\"f-%s\" name=\"%s\" maxlength=\"300\" value=\"%s\"", extra_name,
	            extra_name, extra_value ? extra_value : "");
	field_aria(o, e, extra_name, NULL);
	buf_puts(o, "></div>");
}

struct budget_draft {
	const char *year, *label, *amount, *funder_actor, *funder_name;
};

static void budget_section(struct req *r, int64_t id, const struct option *actors, size_t nactors,
                           const struct budget_draft *d, const struct ferrs *be)
{
	buf_puts(&r->out, "<section aria-labelledby=\"budget\" class=\"panel\"><h2 id=\"budget\">"
	                  "Budget</h2>");
	budget_table(r, id, 1);
	html_printf(&r->out,
	            "<h3>Ajouter une ligne budgétaire</h3>"
	            "<form method=\"post\" action=\"/fiches/%lld/budget\" class=\"form\">",
	            (long long)id);
	page_csrf(r);
	buf_puts(&r->out, "<input type=\"hidden\" name=\"action\" value=\"ajouter\">");
	if (be && be->n)
		page_notice(r, "error",
		            "La ligne budgétaire n'a pas été ajoutée : corrigez les "
		            "champs signalés.");
	html_printf(&r->out, "<div class=\"field\"><label for=\"b-year\">Année</label>");
	field_error(&r->out, be, "year");
	html_printf(&r->out,
	            "<input id=\"b-year\" name=\"year\" inputmode=\"numeric\" maxlength=\"4\" "
	            "value=\"%s\"",
	            d && d->year ? d->year : "");
	field_aria(&r->out, be, "year", "hint-b-year");
	html_printf(&r->out, "><p class=\"hint\" id=\"hint-b-year\">Facultative, par exemple "
	                     "2025.</p></div>");
	html_printf(&r->out, "<div class=\"field\"><label for=\"b-label\">Libellé</label>");
	field_error(&r->out, be, "label");
	html_printf(&r->out,
	            "<input id=\"b-label\" name=\"label\" required maxlength=\"300\" "
	            "value=\"%s\"",
	            d && d->label ? d->label : "");
	field_aria(&r->out, be, "label", NULL);
	html_printf(&r->out, "></div><div class=\"field\"><label for=\"b-amount\">Montant en euros"
	                     "</label>");
	field_error(&r->out, be, "amount");
	html_printf(&r->out,
	            "<input id=\"b-amount\" name=\"amount\" required inputmode=\"decimal\" "
	            "maxlength=\"40\" value=\"%s\"",
	            d && d->amount ? d->amount : "");
	field_aria(&r->out, be, "amount", "hint-b-amount");
	html_printf(&r->out, "><p class=\"hint\" id=\"hint-b-amount\">Avec une virgule pour les "
	                     "centimes : 1 234,50.</p></div>");
	html_printf(&r->out, "<div class=\"field\"><label for=\"b-funder\">Financeur (annuaire)"
	                     "</label>");
	field_error(&r->out, be, "funder_actor");
	buf_puts(&r->out,
	         "<select id=\"b-funder\" name=\"funder_actor\"><option value=\"\">— aucun "
	         "ou autre financeur —</option>");
	int64_t chosen = 0;
	if (d && d->funder_actor)
		parse_int64(d->funder_actor, &chosen);
	for (size_t i = 0; i < nactors; i++)
		html_printf(&r->out, "<option value=\"%lld\"%R>%s</option>",
		            (long long)actors[i].id, actors[i].id == chosen ? " selected" : "",
		            actors[i].name);
	html_printf(&r->out,
	            "</select></div><div class=\"field\"><label for=\"b-funder-name\">Autre "
	            "financeur (nom libre)</label>");
	field_error(&r->out, be, "funder_name");
	html_printf(&r->out,
	            "<input id=\"b-funder-name\" name=\"funder_name\" maxlength=\"200\" "
	            "value=\"%s\"",
	            d && d->funder_name ? d->funder_name : "");
	field_aria(&r->out, be, "funder_name", "hint-b-funder-name");
	buf_puts(&r->out,
	         "><p class=\"hint\" id=\"hint-b-funder-name\">Si le financeur n'est pas "
	         "dans l'annuaire.</p></div><div class=\"actions\"><button type=\"submit\" "
	         "class=\"button\">Ajouter la ligne</button></div></form></section>\n");
}

/*
 * The edit page of fiche f with the values of `in`; e holds the errors of the main form, be
 * and d those and the values of a refused budget line. Sends 422 when there is an error.
 */
static void edit_page(struct req *r, const struct fiche_row *f, struct fiche_in *in,
                      const struct ferrs *e, const struct budget_draft *d, const struct ferrs *be)
{
	char *title = xasprintf("Modifier la fiche %s", f->number);
	fiche_page_begin(r, f, title, 1);
	html_printf(&r->out, "<h1>%s</h1>\n<p class=\"lead\">%s</p>\n", title, f->title);
	query_notice(r);
	if (e && e->n) {
		buf_puts(&r->out,
		         "<div class=\"notice notice-error\" role=\"alert\"><p>La fiche n'a "
		         "pas été enregistrée :</p><ul>");
		for (size_t i = 0; i < e->n; i++)
			html_printf(
			    &r->out, "<li><a href=\"#f-%s\">%s</a></li>",
			    !strcmp(e->v[i].field, "pilot_user") || !strcmp(e->v[i].field, "impact")
			        ? (!strcmp(e->v[i].field, "impact") ? "impact-0" : "pilot_user-0")
			        : e->v[i].field,
			    e->v[i].msg);
		buf_puts(&r->out, "</ul></div>\n");
	}
	struct ferrs none = {0};
	if (!e)
		e = &none;
	struct buf *o = &r->out;
	html_printf(o, "<form method=\"post\" action=\"/fiches/%lld/modifier\" class=\"form\">",
	            (long long)f->id);
	page_csrf(r);

	buf_puts(o, "<fieldset><legend>Contenu</legend>");
	html_printf(o, "<div class=\"field\"><label for=\"f-title\">Titre</label>");
	field_error(o, e, "title");
	html_printf(o,
	            "<input id=\"f-title\" name=\"title\" required maxlength=\"500\" value=\"%s\"",
	            in->title);
	field_aria(o, e, "title", NULL);
	buf_puts(o, "></div>");
	textarea_field(o, e, "description", "Description", in->description, 8, LONG_TEXT_MAX,
	               "Mise en forme Markdown : **gras**, *italique*, listes avec « - », liens.");
	textarea_field(o, e, "expected_results", "Résultats attendus", in->expected_results, 5,
	               LONG_TEXT_MAX, "Markdown possible.");
	buf_puts(o, "</fieldset>");

	buf_puts(o, "<fieldset><legend>Statut et calendrier</legend>");
	html_printf(o, "<div class=\"field\"><label for=\"f-status\">Statut</label>");
	field_error(o, e, "status");
	buf_puts(o, "<select id=\"f-status\" name=\"status\"");
	field_aria(o, e, "status", "hint-status");
	buf_puts(o, ">");
	for (size_t i = 0; i < sizeof status_values / sizeof *status_values; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", status_values[i],
		            !strcmp(in->status, status_values[i]) ? " selected" : "",
		            fiche_status_label(status_values[i]));
	buf_puts(o, "</select><p class=\"hint\" id=\"hint-status\">« Achevée » et « Abandonnée » "
	            "clôturent la fiche : une note de clôture est alors obligatoire.</p></div>");
	html_printf(o, "<div class=\"field\"><label for=\"f-progress\">Avancement</label>");
	field_error(o, e, "progress");
	buf_puts(o, "<select id=\"f-progress\" name=\"progress\"");
	field_aria(o, e, "progress", NULL);
	buf_puts(o, ">");
	for (size_t i = 0; i < sizeof progress_values / sizeof *progress_values; i++)
		html_printf(o, "<option value=\"%s\"%R>%s</option>", progress_values[i],
		            !strcmp(in->progress, progress_values[i]) ? " selected" : "",
		            fiche_progress_label(progress_values[i]));
	buf_puts(o, "</select></div>");
	textarea_field(o, e, "closing_note", "Note de clôture", in->closing_note, 4, NOTE_MAX,
	               "Obligatoire pour passer la fiche en « Achevée » ou « Abandonnée » : ce qui "
	               "a été fait, ce qui reste, pourquoi la fiche est close (10 000 caractères "
	               "au plus).");
	const struct {
		const char *name, *label, *value;
	} dates[] = {{"start_date", "Date de début", in->start_date},
	             {"end_date", "Date de fin", in->end_date}};
	for (size_t i = 0; i < 2; i++) {
		html_printf(o, "<div class=\"field\"><label for=\"f-%s\">%s</label>", dates[i].name,
		            dates[i].label);
		field_error(o, e, dates[i].name);
		html_printf(o, "<input id=\"f-%s\" name=\"%s\" type=\"date\" value=\"%s\"",
		            dates[i].name, dates[i].name, dates[i].value);
		field_aria(o, e, dates[i].name, "hint-dates");
		buf_puts(o, "></div>");
	}
	buf_puts(o, "<p class=\"hint\" id=\"hint-dates\">Format AAAA-MM-JJ ; la fin ne peut pas "
	            "précéder le début.</p></fieldset>");

	buf_puts(o, "<fieldset><legend>Pilotage et partenaires</legend>");
	size_t npeople = 0, nactors = 0;
	struct option *people = people_options(r->db, f->plan_id, f->id, &npeople);
	struct option *actors = actor_options(r->db, f->plan_id, in, &nactors);
	buf_puts(o, "<fieldset><legend>Pilotes (personnes)</legend>");
	field_error(o, e, "pilot_user");
	buf_puts(o, "<input type=\"hidden\" name=\"pilot_user_shown\" value=\"1\">");
	for (size_t i = 0; i < npeople; i++) {
		html_printf(o,
		            "<div class=\"check\"><input type=\"checkbox\" "
		            "id=\"f-pilot_user-%zu\" name=\"pilot_user\" value=\"%lld\"%R",
		            i, (long long)people[i].id,
		            idset_has(&in->pilot_users, people[i].id) ? " checked" : "");
		field_aria(o, e, "pilot_user", NULL);
		html_printf(o,
		            "> <label for=\"f-pilot_user-%zu\">%s <span class=\"muted\">(%s)</span>"
		            "</label></div>",
		            i, people[i].name, people[i].note);
	}
	if (!npeople)
		buf_puts(o, "<p class=\"hint\">Aucun membre du plan n'a le rôle pilote ou "
		            "coordinateur.</p>");
	buf_puts(o, "<p class=\"hint\">Membres du plan ayant le rôle pilote ou coordinateur.</p>"
	            "</fieldset>");
	actor_select(o, e, "pilot_actor", "Structures pilotes", actors, nactors, &in->pilot_actors,
	             "pilot_actor_new", "Autre structure pilote (nom exact dans l'annuaire)",
	             in->pilot_actor_extra);
	actor_select(o, e, "partner", "Partenaires", actors, nactors, &in->partners, "partner_new",
	             "Autre partenaire (nom exact dans l'annuaire)", in->partner_extra);
	buf_puts(o, "</fieldset>");

	buf_puts(o, "<fieldset><legend>Publics et territoire</legend>");
	struct buf tmp = {0};
	strset_join(&tmp, &in->publics, "\n");
	textarea_field(o, e, "publics", "Publics visés",
	               in->publics_raw ? in->publics_raw : buf_str(&tmp), 4, 7000,
	               "Un public par ligne (30 au plus, 200 caractères chacun).");
	buf_reset(&tmp);
	strset_join(&tmp, &in->communes, " ");
	textarea_field(o, e, "communes", "Communes (codes INSEE)",
	               in->communes_raw ? in->communes_raw : buf_str(&tmp), 2, 4000,
	               "Codes INSEE séparés par des espaces, par exemple 26108 26289. Laissez vide "
	               "si l'action couvre tout le territoire du plan ; les communes doivent être "
	               "dans le territoire du plan.");
	buf_puts(o, "</fieldset>");

	buf_puts(o, "<fieldset><legend>Moyens et impacts</legend>");
	textarea_field(o, e, "human_means", "Moyens humains", in->human_means, 4, MEANS_MAX,
	               "Markdown possible. Le budget se renseigne plus bas, ligne par ligne.");
	buf_puts(o, "<fieldset><legend>Domaines d'impact</legend>"
	            "<input type=\"hidden\" name=\"impact_shown\" value=\"1\">");
	field_error(o, e, "impact");
	struct db_stmt *st =
	    db_queryf(r->db, "SELECT slug, label FROM impact_domains ORDER BY position", "");
	for (int i = 0; st && db_step(st) == DB_ROW; i++) {
		html_printf(o,
		            "<div class=\"check\"><input type=\"checkbox\" "
		            "id=\"f-impact-%d\" name=\"impact\" value=\"%s\"%R",
		            i, db_col_text(st, 0),
		            strset_has(&in->impacts, db_col_text(st, 0)) ? " checked" : "");
		field_aria(o, e, "impact", NULL);
		html_printf(o, "> <label for=\"f-impact-%d\">%s</label></div>", i,
		            db_col_text(st, 1));
	}
	db_finalize(st);
	buf_puts(o, "</fieldset></fieldset>");

	buf_puts(o, "<fieldset><legend>Liens</legend>");
	buf_reset(&tmp);
	for (size_t i = 0; i < in->nlinks; i++)
		buf_printf(&tmp, "%s%s%s%s", i ? "\n" : "", in->links[i].label,
		           *in->links[i].label ? " | " : "", in->links[i].url);
	textarea_field(o, e, "links", "Liens", in->links_raw ? in->links_raw : buf_str(&tmp), 3,
	               60000,
	               "Un lien par ligne : un libellé puis l'adresse, par exemple « Compte rendu "
	               "du COPIL | https://exemple.fr/cr.pdf ». Seules les adresses http:// et "
	               "https:// sont acceptées.");
	buf_free(&tmp);
	buf_puts(o, "</fieldset>");
	html_printf(
	    o,
	    "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer la "
	    "fiche</button> <a href=\"/fiches/%lld\">Annuler</a></div></form>\n",
	    (long long)f->id);

	budget_section(r, f->id, actors, nactors, d, be);
	options_free(people, npeople);
	options_free(actors, nactors);
	page_end(r);
	if ((e && e->n) || (be && be->n))
		r->status = 422;
	free(title);
}

static void edit_get(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	struct fiche_row f;
	struct fiche_in in;
	if (fiche_row_load(r->db, id, &f) || fiche_in_load(r->db, id, &in)) {
		fiche_row_free(&f);
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return;
	}
	edit_page(r, &f, &in, NULL, NULL, NULL);
	fiche_in_free(&in);
	fiche_row_free(&f);
}

static void edit_post(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	struct fiche_row f;
	struct fiche_in in;
	struct ferrs e = {0};
	if (fiche_row_load(r->db, id, &f) || fiche_in_load(r->db, id, &in)) {
		fiche_row_free(&f);
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return;
	}
	fiche_in_from_form(r, &in, &e);
	fiche_in_validate(r->db, f.plan_id, id, &in, &e);
	if (e.n) {
		edit_page(r, &f, &in, &e, NULL, NULL);
	} else {
		int changed = 0;
		if (fiche_change(r, id, apply_in, &in, &changed) != DB_OK) {
			resp_error(r, 500, "L'enregistrement de la fiche a échoué.");
		} else {
			char *loc = xasprintf("/fiches/%lld?ok=%s", (long long)id,
			                      changed ? "enregistree" : "inchangee");
			resp_redirect(r, loc);
			free(loc);
		}
	}
	ferrs_free(&e);
	fiche_in_free(&in);
	fiche_row_free(&f);
}

/* --- budget lines ------------------------------------------------------------------------------
 */

struct budget_op {
	int remove;
	int64_t line;
	struct line_in add;
};

static int apply_budget(struct db *db, int64_t id, void *ud)
{
	struct budget_op *op = ud;
	if (op->remove)
		return db_execf(db, "DELETE FROM budget_lines WHERE id = ? AND node_id = ?", "II",
		                op->line, id);
	struct db_stmt *st = db_prepare(db, "INSERT INTO budget_lines (node_id, year, label, "
	                                    "amount_cents, funder_actor_id, funder_name) "
	                                    "VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		return DB_ERROR;
	db_bind_int64(st, 1, id);
	if (op->add.year)
		db_bind_int64(st, 2, op->add.year);
	else
		db_bind_null(st, 2);
	db_bind_text(st, 3, op->add.label);
	db_bind_int64(st, 4, op->add.cents);
	if (op->add.funder_actor)
		db_bind_int64(st, 5, op->add.funder_actor);
	else
		db_bind_null(st, 5);
	db_bind_text(st, 6, op->add.funder_actor ? "" : op->add.funder_name);
	int rc = db_step(st) == DB_DONE ? DB_OK : DB_ERROR;
	db_finalize(st);
	return rc;
}

static void budget_post(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	const char *action = req_form(r, "action");
	struct budget_op op = {0};
	struct ferrs be = {0};
	char *label = NULL, *funder = NULL;
	if (action && !strcmp(action, "supprimer")) {
		int64_t n = 0;
		op.remove = 1;
		if (parse_int64(req_form(r, "line") ? req_form(r, "line") : "", &op.line) ||
		    db_int64f(r->db, &n,
		              "SELECT COUNT(*) FROM budget_lines WHERE id = ? AND node_id = ?",
		              "II", op.line, id) != DB_OK ||
		    !n) {
			resp_error(r, 404, "Cette ligne budgétaire n'existe pas.");
			return;
		}
	} else if (action && !strcmp(action, "ajouter")) {
		const char *year = req_form(r, "year"), *amount = req_form(r, "amount");
		const char *fa = req_form(r, "funder_actor");
		label = str_trim_dup(req_form(r, "label"));
		funder = str_trim_dup(req_form(r, "funder_name"));
		if (!str_blank(year)) {
			char *y = str_trim_dup(year);
			if (parse_int64(y, &op.add.year) || op.add.year < 1900 ||
			    op.add.year > 2999)
				ferr(&be, "year",
				     "L'année doit être un nombre de 4 chiffres (par "
				     "exemple 2025).");
			free(y);
		}
		if (!*label)
			ferr(&be, "label", "Le libellé est obligatoire.");
		else
			check_text(&be, "label", "Le libellé", label, BUDGET_LABEL_MAX, 1);
		if (str_blank(amount))
			ferr(&be, "amount", "Le montant est obligatoire.");
		else if (fiche_amount_parse(amount, &op.add.cents))
			ferr(&be, "amount",
			     "Montant non valide : écrivez un nombre positif d'euros, avec une "
			     "virgule pour les centimes (par exemple 1 234,50), jusqu'à "
			     "1 000 000 000 000 €.");
		if (!str_blank(fa) && (parse_int64(fa, &op.add.funder_actor) ||
		                       !actor_exists(r->db, op.add.funder_actor)))
			ferr(&be, "funder_actor", "Ce financeur n'existe pas dans l'annuaire.");
		check_text(&be, "funder_name", "Le nom du financeur", funder, FUNDER_MAX, 1);
		op.add.label = label;
		op.add.funder_name = funder;
		int64_t count = 0;
		db_int64f(r->db, &count, "SELECT COUNT(*) FROM budget_lines WHERE node_id = ?", "I",
		          id);
		if (count >= BUDGET_LINES_MAX)
			ferr(&be, "label", "Cette fiche a déjà %d lignes budgétaires, le maximum.",
			     BUDGET_LINES_MAX);
		if (be.n) {
			struct fiche_row f;
			struct fiche_in in;
			struct budget_draft d = {year, req_form(r, "label"), amount, fa,
			                         req_form(r, "funder_name")};
			if (fiche_row_load(r->db, id, &f) == 0 &&
			    fiche_in_load(r->db, id, &in) == 0) {
				edit_page(r, &f, &in, NULL, &d, &be);
				fiche_in_free(&in);
			} else {
				resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
			}
			fiche_row_free(&f);
			goto out;
		}
	} else {
		resp_error(r, 400, "Action inconnue.");
		return;
	}
	int changed;
	if (fiche_change(r, id, apply_budget, &op, &changed) != DB_OK) {
		resp_error(r, 500, "L'enregistrement du budget a échoué.");
	} else {
		char *loc = xasprintf("/fiches/%lld/modifier?ok=%s#budget", (long long)id,
		                      op.remove ? "budget-supprime" : "budget");
		resp_redirect(r, loc);
		free(loc);
	}
out:
	ferrs_free(&be);
	free(label);
	free(funder);
}

/* --- comments ----------------------------------------------------------------------------------
 */

/* Check a comment body: NULL when fine, else a French message (static). */
static const char *comment_problem(const char *body)
{
	if (str_blank(body))
		return "Le commentaire est vide.";
	if (!utf8_valid_text(body, strlen(body)))
		return "Le commentaire contient des caractères non autorisés.";
	if (text_chars(body) > COMMENT_MAX)
		return "Le commentaire est limité à 5 000 caractères.";
	return NULL;
}

/* Insert a comment and audit it, in the caller's transaction; sets *cid. */
static int comment_insert(struct req *r, int64_t node_id, const char *body, int64_t *cid)
{
	char now[32];
	time_iso_now(now);
	*cid = 0;
	int rc = db_int64f(r->db, cid,
	                   "INSERT INTO comments (node_id, user_id, body, created_at) "
	                   "VALUES (?, ?, ?, ?) RETURNING id",
	                   "IIss", node_id, r->user->id, body, now);
	if (rc != DB_OK)
		return rc;
	json_t *after = json_pack("{s:I,s:s}", "node_id", (json_int_t)node_id, "body", body);
	rc = audit_write_id(r->db, r->user->id, r->is_api ? "api" : "web", "create", "comment",
	                    *cid, NULL, after);
	json_decref(after);
	return rc;
}

/* Post a comment in one transaction; DB_OK and *cid on success. */
static int comment_post_tx(struct req *r, int64_t node_id, const char *body, int64_t *cid)
{
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	rc = comment_insert(r, node_id, body, cid);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	if (rc != DB_OK)
		db_rollback(r->db);
	return rc;
}

static void comment_post(struct req *r)
{
	int64_t id;
	struct fiche_row f;
	enum role role;
	if (req_param_id(r, 0, &id) || fiche_read_require(r, id, ROLE_PARTNER, &f, &role))
		return;
	char *body = text_clean(req_form(r, "body"));
	const char *why = comment_problem(body);
	int64_t cid;
	if (why) {
		fiche_page_render(r, &f, role, req_form(r, "body"), why);
		r->status = 422;
	} else if (comment_post_tx(r, id, body, &cid) != DB_OK) {
		resp_error(r, 500, "Le commentaire n'a pas pu être enregistré.");
	} else {
		char *loc = xasprintf("/fiches/%lld?ok=commentaire#commentaire-%lld", (long long)id,
		                      (long long)cid);
		resp_redirect(r, loc);
		free(loc);
	}
	free(body);
	fiche_row_free(&f);
}

static void comment_delete(struct req *r)
{
	int64_t cid;
	if (req_param_id(r, 0, &cid))
		return;
	int64_t node = 0, author = 0;
	char *body = NULL;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT node_id, user_id, body FROM comments "
	                               "WHERE id = ?",
	                               "I", cid);
	if (st && db_step(st) == DB_ROW) {
		node = db_col_int64(st, 0);
		author = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		body = col_dup(st, 2);
	}
	db_finalize(st);
	int64_t plan = 0;
	if (!node) {
		/* The same answer as for a comment of an invisible plan. */
		resp_error(r, 404, "Cet élément n'existe pas ou n'est pas visible pour vous.");
		return;
	}
	if (node_require(r, node, ROLE_READER, &plan)) {
		free(body);
		return;
	}
	if (!comment_can_delete(r, plan_role(r, plan), author)) {
		free(body);
		resp_error(r, 403,
		           "Seuls l'auteur du commentaire et la coordination du plan peuvent "
		           "le supprimer.");
		return;
	}
	json_t *before =
	    json_pack("{s:I,s:s,s:o}", "node_id", (json_int_t)node, "body", body ? body : "",
	              "user_id", author ? json_integer(author) : json_null());
	int rc = db_begin(r->db);
	if (rc == DB_OK)
		rc = db_execf(r->db, "DELETE FROM comments WHERE id = ?", "I", cid);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", "delete", "comment", cid, before,
		                    NULL);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(before);
	free(body);
	if (rc != DB_OK) {
		resp_error(r, 500, "Le commentaire n'a pas pu être supprimé.");
		return;
	}
	char *loc = xasprintf("/fiches/%lld?ok=commentaire-supprime#commentaires", (long long)node);
	resp_redirect(r, loc);
	free(loc);
}

/* --- progress reports ------------------------------------------------------------------------- */

struct progress_in {
	const char *progress, *status, *comment, *closing_note; /* borrowed; status NULL: same */
};

/*
 * Check a progress report on fiche id; NULL when fine, else a French message (static). A status
 * that closes the fiche needs a closing note (given here or already stored).
 */
static const char *progress_problem(struct db *db, int64_t id, const struct progress_in *p)
{
	if (!fiche_progress_valid(p->progress))
		return "Choisissez un niveau d'avancement dans la liste.";
	if (p->status && !fiche_status_valid(p->status))
		return "Choisissez un statut dans la liste.";
	const char *why = comment_problem(p->comment);
	if (why)
		return str_blank(p->comment) ? "Un commentaire est obligatoire : dites en quelques "
		                               "mots où en est l'action."
		                             : why;
	if (p->closing_note && (!utf8_valid_text(p->closing_note, strlen(p->closing_note)) ||
	                        text_chars(p->closing_note) > NOTE_MAX))
		return "La note de clôture est limitée à 10 000 caractères.";
	if (p->status && fiche_status_closes(p->status) && str_blank(p->closing_note)) {
		int64_t has = 0;
		db_int64f(db, &has,
		          "SELECT COUNT(*) FROM fiches WHERE node_id = ? AND closing_note <> ''",
		          "I", id);
		if (!has)
			return "Une note de clôture est obligatoire pour passer la fiche en "
			       "« Achevée » ou « Abandonnée ».";
	}
	return NULL;
}

/* Record a progress report in one transaction: progress (and status, closing note), the time
 * of the report, the comment; audited. */
static int progress_save(struct req *r, int64_t id, const struct progress_in *p)
{
	char now[32];
	time_iso_now(now);
	const char *origin = r->is_api ? "api" : "web";
	int rc = db_begin(r->db);
	if (rc != DB_OK)
		return rc;
	json_t *before = fiche_snapshot(r->db, id);
	char *old_status = NULL, *closed_at = NULL;
	struct db_stmt *st =
	    db_queryf(r->db, "SELECT status, closed_at FROM fiches WHERE node_id = ?", "I", id);
	if (st && db_step(st) == DB_ROW) {
		old_status = col_dup(st, 0);
		closed_at = col_dup(st, 1);
	}
	db_finalize(st);
	const char *status = p->status ? p->status : old_status ? old_status : "en_cours";
	if (!fiche_status_closes(status))
		set_str(&closed_at, NULL);
	else if (!closed_at || !old_status || !fiche_status_closes(old_status))
		set_str(&closed_at, now);
	rc = db_execf(r->db,
	              "UPDATE fiches SET progress = ?, status = ?, closed_at = ?, "
	              "progress_updated_at = ? WHERE node_id = ?",
	              "ssssI", p->progress, status, closed_at, now, id);
	if (rc == DB_OK && !str_blank(p->closing_note)) {
		char *note = text_clean(p->closing_note);
		rc = db_execf(r->db, "UPDATE fiches SET closing_note = ? WHERE node_id = ?", "sI",
		              note, id);
		free(note);
	}
	char *comment = text_clean(p->comment);
	char *body = xasprintf("**Point d'avancement : %s.**\n\n%s",
	                       fiche_progress_label(p->progress), comment);
	int64_t cid;
	if (rc == DB_OK)
		rc = comment_insert(r, id, body, &cid);
	json_t *after = fiche_snapshot(r->db, id);
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, origin, "update", "fiche", id, before,
		                    after);
	if (rc == DB_OK)
		rc = db_commit(r->db);
	else
		db_rollback(r->db);
	json_decref(before);
	json_decref(after);
	free(old_status);
	free(closed_at);
	free(comment);
	free(body);
	return rc;
}

/* --- "mes actions" ---------------------------------------------------------------------------- */

struct mine {
	int64_t id, plan_id;
	char *plan_title, *number, *title, *status, *progress, *end_date, *last_report;
	char *reasons[2];
	int nreasons;
	char *pilots; /* for the coordinator's list: names, comma-separated */
};

static void mine_free(struct mine *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].plan_title);
		free(v[i].number);
		free(v[i].title);
		free(v[i].status);
		free(v[i].progress);
		free(v[i].end_date);
		free(v[i].last_report);
		free(v[i].reasons[0]);
		free(v[i].reasons[1]);
		free(v[i].pilots);
	}
	free(v);
}

static int mine_cmp(const void *a, const void *b)
{
	const struct mine *x = a, *y = b;
	int c = strcmp(x->plan_title, y->plan_title);
	if (c)
		return c;
	if (x->plan_id != y->plan_id)
		return x->plan_id < y->plan_id ? -1 : 1;
	return number_cmp(x->number, y->number);
}

/* Why a fiche is overdue, in words: its end date passed while it is open, or no progress
 * report for more than STALE_MONTHS months. Only retained and running fiches are checked. */
static void mine_reasons(struct mine *m, const char *today, const char *stale)
{
	if (strcmp(m->status, "en_cours") && strcmp(m->status, "retenue"))
		return;
	char d[64];
	if (m->end_date && strcmp(m->end_date, today) < 0) {
		fiche_date_fr(d, m->end_date);
		m->reasons[m->nreasons++] =
		    xasprintf("Échéance dépassée : la fin était prévue le %s et la fiche n'est "
		              "pas close.",
		              d);
	}
	if (m->last_report && strcmp(m->last_report, stale) < 0) {
		fiche_date_fr(d, m->last_report);
		m->reasons[m->nreasons++] = xasprintf("Avancement non mis à jour depuis plus de %d "
		                                      "mois (dernière mise à jour le %s).",
		                                      STALE_MONTHS, d);
	}
}

/*
 * Fiches for "mes actions": coordinated = 0, those the user pilots on plans where the user is a
 * pilot or coordinator (any plan for an administrator); coordinated = 1, the open fiches of the
 * plans the user coordinates that are overdue. Sorted by plan and number.
 */
static struct mine *mine_load(struct req *r, int coordinated, size_t *n)
{
	static const char *const cols =
	    "SELECT n.id, n.plan_id, p.title, n.number, n.title, f.status, f.progress, "
	    "f.end_date, COALESCE(f.progress_updated_at, "
	    "(SELECT MAX(a.at) FROM audit_log a WHERE a.entity IN ('fiche', 'node') "
	    "AND a.entity_id = CAST(n.id AS TEXT)), n.created_at) "
	    "FROM fiches f JOIN nodes n ON n.id = f.node_id JOIN plans p ON p.id = n.plan_id ";
	char *sql = coordinated
	                ? xasprintf("%sJOIN plan_members m ON m.plan_id = n.plan_id AND "
	                            "m.user_id = ? AND m.role = 'coordinator' "
	                            "WHERE n.archived = 0 AND f.status IN ('retenue', 'en_cours')",
	                            cols)
	                : xasprintf("%sJOIN fiche_pilots fp ON fp.node_id = f.node_id "
	                            "WHERE fp.user_id = ? AND n.archived = 0 AND (? = 1 OR "
	                            "EXISTS (SELECT 1 FROM plan_members m WHERE m.plan_id = "
	                            "n.plan_id AND m.user_id = fp.user_id AND m.role IN "
	                            "('pilot', 'coordinator')))",
	                            cols);
	struct db_stmt *st =
	    coordinated ? db_queryf(r->db, sql, "I", r->user->id)
	                : db_queryf(r->db, sql, "Ii", r->user->id, r->user->role == ROLE_ADMIN);
	free(sql);
	char today[16], stale[32];
	fiche_today(today);
	stale_limit(stale);
	struct mine *v = NULL;
	size_t cap = 0;
	*n = 0;
	while (st && db_step(st) == DB_ROW) {
		struct mine m = {0};
		m.id = db_col_int64(st, 0);
		m.plan_id = db_col_int64(st, 1);
		m.plan_title = col_dup(st, 2);
		m.number = col_dup(st, 3);
		m.title = col_dup(st, 4);
		m.status = col_dup(st, 5);
		m.progress = col_dup(st, 6);
		m.end_date = col_dup(st, 7);
		m.last_report = col_dup(st, 8);
		mine_reasons(&m, today, stale);
		if (coordinated && !m.nreasons) {
			free(m.plan_title);
			free(m.number);
			free(m.title);
			free(m.status);
			free(m.progress);
			free(m.end_date);
			free(m.last_report);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = m;
	}
	db_finalize(st);
	for (size_t i = 0; coordinated && i < *n; i++) {
		struct buf b = {0};
		st = db_queryf(
		    r->db,
		    "SELECT COALESCE(u.name, a.name) FROM fiche_pilots p "
		    "LEFT JOIN users u ON u.id = p.user_id "
		    "LEFT JOIN actors a ON a.id = p.actor_id WHERE p.node_id = ? ORDER BY 1",
		    "I", v[i].id);
		while (st && db_step(st) == DB_ROW) {
			if (b.len)
				buf_puts(&b, ", ");
			buf_puts(&b, db_col_text(st, 0) ? db_col_text(st, 0) : "");
		}
		db_finalize(st);
		v[i].pilots = buf_steal(&b);
	}
	if (*n)
		qsort(v, *n, sizeof *v, mine_cmp);
	return v;
}

struct progress_error {
	int64_t id;
	const struct progress_in *in;
	const char *message;
};

static void progress_form(struct req *r, const struct mine *m, const struct progress_error *pe)
{
	const struct progress_in *in = pe && pe->id == m->id ? pe->in : NULL;
	const char *progress = in && in->progress ? in->progress : m->progress;
	html_printf(&r->out,
	            "<details class=\"quick-update\"%R><summary>Mettre à jour l'avancement"
	            "<span class=\"visually-hidden\"> de la fiche %s</span></summary>"
	            "<form method=\"post\" action=\"/fiches/%lld/avancement\" class=\"form\">",
	            in || m->nreasons ? " open" : "", m->number, (long long)m->id);
	page_csrf(r);
	if (in)
		page_notice(r, "error", pe->message);
	long long id = (long long)m->id;
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"p-%lld\">Avancement</label>"
	            "<select id=\"p-%lld\" name=\"progress\">",
	            id, id);
	for (size_t i = 0; i < sizeof progress_values / sizeof *progress_values; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", progress_values[i],
		            !strcmp(progress, progress_values[i]) ? " selected" : "",
		            fiche_progress_label(progress_values[i]));
	html_printf(
	    &r->out,
	    "</select></div><div class=\"field\"><label for=\"c-%lld\">Commentaire</label>"
	    "<textarea id=\"c-%lld\" name=\"comment\" rows=\"3\" required maxlength=\"5000\" "
	    "aria-describedby=\"ch-%lld\">%s</textarea><p class=\"hint\" id=\"ch-%lld\">"
	    "Où en est l'action ? Ce commentaire est publié sur la fiche.</p></div>",
	    id, id, id, in && in->comment ? in->comment : "", id);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"s-%lld\">Statut (facultatif)</label>"
	    "<select id=\"s-%lld\" name=\"status\"><option value=\"\">inchangé (%s)</option>",
	    id, id, fiche_status_label(m->status));
	for (size_t i = 0; i < sizeof status_values / sizeof *status_values; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", status_values[i],
		            in && in->status && !strcmp(in->status, status_values[i]) ? " selected"
		                                                                      : "",
		            fiche_status_label(status_values[i]));
	html_printf(&r->out,
	            "</select></div><div class=\"field\"><label for=\"n-%lld\">Note de clôture"
	            "</label><textarea id=\"n-%lld\" name=\"closing_note\" rows=\"2\" "
	            "maxlength=\"10000\" aria-describedby=\"nh-%lld\">%s</textarea>"
	            "<p class=\"hint\" id=\"nh-%lld\">Obligatoire si vous passez la fiche en "
	            "« Achevée » ou « Abandonnée ».</p></div>"
	            "<div class=\"actions\"><button type=\"submit\" class=\"button\">Enregistrer "
	            "l'avancement</button></div></form></details>",
	            id, id, id, in && in->closing_note ? in->closing_note : "", id);
}

static void mine_facts(struct req *r, const struct mine *m)
{
	char end[64], last[64];
	fiche_date_fr(end, m->end_date);
	fiche_date_fr(last, m->last_report);
	html_printf(&r->out,
	            "<dl class=\"facts\"><div><dt>Statut</dt><dd><span class=\"badge %s\">%s</span>"
	            "</dd></div><div><dt>Avancement</dt><dd><span class=\"badge %s\">%s</span></dd>"
	            "</div><div><dt>Échéance</dt><dd>%s</dd></div><div><dt>Dernière mise à jour"
	            "</dt><dd>%s</dd></div></dl>",
	            status_badge(m->status), fiche_status_label(m->status),
	            progress_badge(m->progress), fiche_progress_label(m->progress),
	            end[0] ? end : "non précisée", last[0] ? last : "—");
	if (m->nreasons) {
		buf_puts(&r->out,
		         "<div class=\"notice notice-warning\"><p><strong>En retard</strong>"
		         "</p><ul>");
		for (int k = 0; k < m->nreasons; k++)
			html_printf(&r->out, "<li>%s</li>", m->reasons[k]);
		buf_puts(&r->out, "</ul></div>");
	}
}

static void mine_page(struct req *r, const struct progress_error *pe)
{
	size_t n = 0, nc = 0;
	struct mine *v = mine_load(r, 0, &n);
	struct mine *c = mine_load(r, 1, &nc);
	page_begin(r, "Mes actions", NULL);
	buf_puts(&r->out, "<h1>Mes actions</h1>\n");
	const char *ok = req_query(r, "ok");
	int64_t done = 0;
	if (ok && !strcmp(ok, "avancement") && req_query(r, "fiche") &&
	    !parse_int64(req_query(r, "fiche"), &done)) {
		for (size_t i = 0; i < n; i++)
			if (v[i].id == done) {
				char *m =
				    xasprintf("Avancement de la fiche %s enregistré : %s.",
				              v[i].number, fiche_progress_label(v[i].progress));
				page_notice(r, "success", m);
				free(m);
			}
	}
	size_t late = 0;
	int shown = 0;
	for (size_t i = 0; i < n; i++) {
		late += v[i].nreasons > 0;
		shown |= pe && v[i].id == pe->id;
	}
	if (pe && !shown)
		page_notice(r, "error", pe->message);
	if (!n) {
		buf_puts(&r->out, "<p>Vous ne pilotez aucune fiche-action pour le moment.</p>\n");
	} else {
		html_printf(&r->out,
		            "<p class=\"lead\">Vous pilotez %zu fiche%R-action%R, dont %zu en "
		            "retard.</p>\n",
		            n, n > 1 ? "s" : "", n > 1 ? "s" : "", late);
	}
	for (size_t i = 0; i < n; i++) {
		if (!i || v[i].plan_id != v[i - 1].plan_id) {
			if (i)
				buf_puts(&r->out, "</section>\n");
			html_printf(&r->out,
			            "<section aria-labelledby=\"plan-%lld\"><h2 id=\"plan-%lld\">"
			            "<a href=\"/plans/%lld\">%s</a></h2>",
			            (long long)v[i].plan_id, (long long)v[i].plan_id,
			            (long long)v[i].plan_id, v[i].plan_title);
		}
		html_printf(
		    &r->out,
		    "<article class=\"panel\" id=\"fiche-%lld\"><h3><a href=\"/fiches/%lld\">"
		    "%s %s</a></h3>",
		    (long long)v[i].id, (long long)v[i].id, v[i].number, v[i].title);
		mine_facts(r, &v[i]);
		progress_form(r, &v[i], pe);
		buf_puts(&r->out, "</article>");
		if (i + 1 == n)
			buf_puts(&r->out, "</section>\n");
	}
	int64_t coordinates = 0;
	db_int64f(r->db, &coordinates,
	          "SELECT COUNT(*) FROM plan_members WHERE user_id = ? AND role = 'coordinator'",
	          "I", r->user->id);
	if (coordinates) {
		buf_puts(&r->out, "<section aria-labelledby=\"relancer\"><h2 id=\"relancer\">À "
		                  "relancer</h2>");
		if (!nc) {
			buf_puts(&r->out, "<p>Aucune fiche en retard dans les plans que vous "
			                  "coordonnez.</p>");
		} else {
			html_printf(
			    &r->out,
			    "<p>Fiches en retard dans les plans que vous coordonnez : %zu.</p>"
			    "<div class=\"table-wrap\" "
			    "tabindex=\"0\"><table><caption>Fiches-actions à "
			    "relancer</caption><thead><tr><th scope=\"col\">Plan</th>"
			    "<th scope=\"col\">Fiche-action</th><th scope=\"col\">Pilotes</th>"
			    "<th scope=\"col\">Avancement</th><th scope=\"col\">Retard</th>"
			    "</tr></thead><tbody>",
			    nc);
			for (size_t i = 0; i < nc; i++) {
				char *pt = text_cut(c[i].plan_title, 50);
				html_printf(
				    &r->out,
				    "<tr><td><a href=\"/plans/%lld\">%s</a></td>"
				    "<th scope=\"row\"><a href=\"/fiches/%lld\">%s %s</a></th>"
				    "<td>%s</td><td>%s</td><td>",
				    (long long)c[i].plan_id, pt, (long long)c[i].id, c[i].number,
				    c[i].title, *c[i].pilots ? c[i].pilots : "aucun pilote",
				    fiche_progress_label(c[i].progress));
				free(pt);
				for (int k = 0; k < c[i].nreasons; k++)
					html_printf(&r->out, "%R%s", k ? "<br>" : "",
					            c[i].reasons[k]);
				buf_puts(&r->out, "</td></tr>");
			}
			buf_puts(&r->out, "</tbody></table></div>");
		}
		buf_puts(&r->out, "</section>\n");
	}
	indicators_overdue_section(r, 0);
	page_end(r);
	if (pe)
		r->status = 422;
	mine_free(v, n);
	mine_free(c, nc);
}

static void mine_get(struct req *r)
{
	mine_page(r, NULL);
}

/* A form value, or NULL when absent or blank. */
static const char *form_opt(struct req *r, const char *key)
{
	const char *v = req_form(r, key);
	return str_blank(v) ? NULL : v;
}

static void progress_post(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	struct progress_in p = {req_form(r, "progress"), form_opt(r, "status"),
	                        req_form(r, "comment"), form_opt(r, "closing_note")};
	const char *why = progress_problem(r->db, id, &p);
	if (why) {
		struct progress_error pe = {id, &p, why};
		mine_page(r, &pe);
		return;
	}
	if (progress_save(r, id, &p) != DB_OK) {
		resp_error(r, 500, "L'avancement n'a pas pu être enregistré.");
		return;
	}
	char *loc = xasprintf("/mes-actions?ok=avancement&fiche=%lld#fiche-%lld", (long long)id,
	                      (long long)id);
	resp_redirect(r, loc);
	free(loc);
}

/* --- JSON API -----------------------------------------------------------------------------------
 */

static json_t *jtext(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

/* [{id, name}] from a query bound to one id. */
static json_t *id_names(struct db *db, const char *sql, int64_t id)
{
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(arr,
		                      json_pack("{s:I,s:o}", "id", (json_int_t)db_col_int64(st, 0),
		                                "name", jtext(db_col_text(st, 1))));
	db_finalize(st);
	return arr;
}

/*
 * The fiche as the API shows it: the audit snapshot plus ids, labels, structured pilots and
 * partners, budget lines with their ids and total, links with ids; for members also the people
 * piloting it and the comments; for public visitors the pilots are structures only.
 */
static json_t *fiche_json(struct req *r, const struct fiche_row *f, enum role role)
{
	json_t *j = fiche_snapshot(r->db, f->id);
	if (!j)
		return NULL;
	char url[64];
	json_object_set_new(j, "id", json_integer(f->id));
	json_object_set_new(j, "plan_id", json_integer(f->plan_id));
	json_object_set_new(j, "plan_title", jtext(f->plan_title));
	json_object_set_new(j, "parent_id",
	                    f->parent_id ? json_integer(f->parent_id) : json_null());
	json_object_set_new(j, "status_label", json_string(fiche_status_label(f->status)));
	json_object_set_new(j, "progress_label", json_string(fiche_progress_label(f->progress)));
	json_object_set_new(j, "closed_at", jtext(f->closed_at));
	json_object_set_new(j, "progress_updated_at", jtext(f->progress_updated_at));
	json_object_set_new(j, "archived", json_boolean(f->archived));
	json_object_set_new(j, "is_demo", json_boolean(f->is_demo));
	snprintf(url, sizeof url, "/fiches/%lld", (long long)f->id);
	json_object_set_new(j, "html_url", json_string(url));
	json_object_set_new(j, "pilot_actors",
	                    id_names(r->db,
	                             "SELECT a.id, a.name FROM fiche_pilots p JOIN actors a ON "
	                             "a.id = p.actor_id WHERE p.node_id = ? ORDER BY a.name",
	                             f->id));
	json_object_set_new(j, "partner_actors",
	                    id_names(r->db,
	                             "SELECT a.id, a.name FROM fiche_partners p JOIN actors a ON "
	                             "a.id = p.actor_id WHERE p.node_id = ? ORDER BY a.name",
	                             f->id));
	if (is_member(role)) {
		json_object_set_new(
		    j, "pilot_users",
		    id_names(r->db,
		             "SELECT u.id, u.name FROM fiche_pilots p JOIN users u ON "
		             "u.id = p.user_id WHERE p.node_id = ? ORDER BY u.name",
		             f->id));
	} else {
		/* Personal data stays with the members: structures only. */
		json_t *names = json_array();
		size_t i;
		json_t *a;
		json_array_foreach(json_object_get(j, "pilot_actors"), i, a)
		    json_array_append(names, json_object_get(a, "name"));
		json_object_set_new(j, "pilots", names);
	}
	json_t *lines = json_array();
	int64_t total = 0;
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT b.id, b.year, b.label, b.amount_cents, b.funder_actor_id, b.funder_name, "
	    "a.name FROM budget_lines b LEFT JOIN actors a ON a.id = b.funder_actor_id "
	    "WHERE b.node_id = ? ORDER BY b.year NULLS FIRST, b.id",
	    "I", f->id);
	while (st && db_step(st) == DB_ROW) {
		char amount[64];
		fiche_amount_format(amount, db_col_int64(st, 3));
		total += db_col_int64(st, 3);
		json_array_append_new(
		    lines,
		    json_pack(
		        "{s:I,s:o,s:o,s:I,s:s,s:o,s:o,s:o}", "id", (json_int_t)db_col_int64(st, 0),
		        "year",
		        db_col_is_null(st, 1) ? json_null() : json_integer(db_col_int64(st, 1)),
		        "label", jtext(db_col_text(st, 2)), "amount_cents",
		        (json_int_t)db_col_int64(st, 3), "amount", amount, "funder_actor_id",
		        db_col_is_null(st, 4) ? json_null() : json_integer(db_col_int64(st, 4)),
		        "funder_name", jtext(db_col_text(st, 5)), "funder",
		        jtext(db_col_text(st, 6) ? db_col_text(st, 6) : db_col_text(st, 5))));
	}
	db_finalize(st);
	json_object_set_new(j, "budget_lines", lines);
	json_object_set_new(j, "budget_total_cents", json_integer(total));
	json_t *links = json_array();
	st =
	    db_queryf(r->db, "SELECT id, label, url FROM fiche_links WHERE node_id = ? ORDER BY id",
	              "I", f->id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(links, json_pack("{s:I,s:o,s:o}", "id",
		                                       (json_int_t)db_col_int64(st, 0), "label",
		                                       jtext(db_col_text(st, 1)), "url",
		                                       jtext(db_col_text(st, 2))));
	db_finalize(st);
	json_object_set_new(j, "links", links);
	if (is_member(role)) {
		json_t *comments = json_array();
		st = db_queryf(
		    r->db,
		    "SELECT c.id, c.user_id, u.name, c.body, c.created_at FROM comments c "
		    "LEFT JOIN users u ON u.id = c.user_id WHERE c.node_id = ? "
		    "ORDER BY c.created_at, c.id",
		    "I", f->id);
		while (st && db_step(st) == DB_ROW)
			json_array_append_new(
			    comments, json_pack("{s:I,s:o,s:o,s:o}", "id",
			                        (json_int_t)db_col_int64(st, 0), "author",
			                        db_col_is_null(st, 1)
			                            ? json_null()
			                            : json_pack("{s:I,s:o}", "id",
			                                        (json_int_t)db_col_int64(st, 1),
			                                        "name", jtext(db_col_text(st, 2))),
			                        "body", jtext(db_col_text(st, 3)), "created_at",
			                        jtext(db_col_text(st, 4))));
		db_finalize(st);
		json_object_set_new(j, "comments", comments);
	}
	json_object_set_new(j, "your_role", json_string(role_name(role)));
	json_object_set_new(j, "can_edit", json_boolean(fiche_can_edit(r, f->id)));
	return j;
}

/* Answer 422 with every field error: {"error": {code, message, fields: {field: message}}}. */
static void api_invalid(struct req *r, const struct ferrs *e)
{
	json_t *fields = json_object();
	for (size_t i = 0; i < e->n; i++)
		json_object_set_new(fields, e->v[i].field, json_string(e->v[i].msg));
	resp_json(r, 422,
	          json_pack("{s:{s:s,s:s,s:o}}", "error", "code", "invalid", "message",
	                    e->n ? e->v[0].msg : "Données non valides.", "fields", fields));
}

/* A JSON array of positive integers into s; 0, or -1 when it is not one. */
static int json_ids(json_t *v, struct idset *s)
{
	if (!json_is_array(v))
		return -1;
	idset_clear(s);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		if (!json_is_integer(x) || json_integer_value(x) <= 0)
			return -1;
		idset_add(s, (int64_t)json_integer_value(x));
	}
	return 0;
}

/* A JSON array of strings into s (trimmed, blanks skipped); 0, or -1 when it is not one. */
static int json_strs(json_t *v, struct strset *s)
{
	if (!json_is_array(v))
		return -1;
	strset_clear(s);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x))
			return -1;
		char *t = str_trim_dup(json_string_value(x));
		if (*t)
			strset_add(s, t);
		free(t);
	}
	return 0;
}

static int json_links(json_t *v, struct fiche_in *in)
{
	if (!json_is_array(v))
		return -1;
	links_clear(in);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		json_t *label = json_object_get(x, "label"), *url = json_object_get(x, "url");
		if (!json_is_object(x) || !json_is_string(url) ||
		    (label && !json_is_null(label) && !json_is_string(label)))
			return -1;
		char *l = str_trim_dup(json_string_value(label)),
		     *u = str_trim_dup(json_string_value(url));
		link_add(in, l, u);
		free(l);
		free(u);
	}
	return 0;
}

/* Budget lines: [{year?, label, amount_cents | amount ("1 234,50"), funder_actor_id?,
 * funder_name?}]. 0, or -1 with a message in e. */
static int json_lines(json_t *v, struct fiche_in *in, struct ferrs *e)
{
	if (!json_is_array(v))
		return -1;
	lines_clear(in);
	in->lines_set = 1;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		if (!json_is_object(x))
			return -1;
		json_t *year = json_object_get(x, "year"), *label = json_object_get(x, "label");
		json_t *cents = json_object_get(x, "amount_cents"),
		       *amount = json_object_get(x, "amount");
		json_t *fa = json_object_get(x, "funder_actor_id"),
		       *fn = json_object_get(x, "funder_name");
		struct line_in l = {0};
		if ((year && !json_is_null(year) && !json_is_integer(year)) ||
		    !json_is_string(label) || (fa && !json_is_null(fa) && !json_is_integer(fa)) ||
		    (fn && !json_is_null(fn) && !json_is_string(fn)))
			return -1;
		l.year = json_is_integer(year) ? (int64_t)json_integer_value(year) : 0;
		if (json_is_integer(year) && l.year == 0)
			l.year = -1; /* refused by the validation */
		if (json_is_integer(cents)) {
			l.cents = (int64_t)json_integer_value(cents);
		} else if (json_is_string(amount)) {
			if (fiche_amount_parse(json_string_value(amount), &l.cents)) {
				ferr(e, "budget_lines",
				     "Ligne %zu : montant non valide (nombre positif d'euros, "
				     "virgule "
				     "pour les centimes).",
				     i + 1);
				l.cents = 0;
			}
		} else {
			ferr(e, "budget_lines",
			     "Ligne %zu : « amount_cents » ou « amount » est "
			     "obligatoire.",
			     i + 1);
		}
		l.funder_actor = json_is_integer(fa) ? (int64_t)json_integer_value(fa) : 0;
		l.label = str_trim_dup(json_string_value(label));
		l.funder_name = str_trim_dup(json_string_value(fn));
		in->lines = xrealloc(in->lines, (in->nlines + 1) * sizeof *in->lines);
		in->lines[in->nlines++] = l;
	}
	return 0;
}

/* Overlay a PATCH body on `in`. Unknown fields and wrong types are errors; the read-only
 * fields of the GET answer are ignored so that a fetched object can be sent back. */
static void fiche_in_from_json(json_t *body, struct fiche_in *in, struct ferrs *e)
{
	static const struct {
		const char *key;
		size_t off;
		int nullable;
	} texts[] = {
	    {"title", offsetof(struct fiche_in, title), 0},
	    {"description", offsetof(struct fiche_in, description), 0},
	    {"expected_results", offsetof(struct fiche_in, expected_results), 0},
	    {"human_means", offsetof(struct fiche_in, human_means), 0},
	    {"status", offsetof(struct fiche_in, status), 0},
	    {"progress", offsetof(struct fiche_in, progress), 0},
	    {"closing_note", offsetof(struct fiche_in, closing_note), 0},
	    {"start_date", offsetof(struct fiche_in, start_date), 1},
	    {"end_date", offsetof(struct fiche_in, end_date), 1},
	};
	static const char *const read_only[] = {
	    "id",
	    "plan_id",
	    "plan_title",
	    "parent_id",
	    "number",
	    "status_label",
	    "progress_label",
	    "closed_at",
	    "progress_updated_at",
	    "archived",
	    "is_demo",
	    "html_url",
	    "pilot_actors",
	    "partner_actors",
	    "pilot_users",
	    "pilots",
	    "partners",
	    "budget_total_cents",
	    "comments",
	    "your_role",
	    "can_edit",
	};
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		int done = 0;
		for (size_t i = 0; i < sizeof texts / sizeof *texts && !done; i++) {
			if (strcmp(key, texts[i].key))
				continue;
			done = 1;
			char **dst = (char **)(void *)((char *)in + texts[i].off);
			if (json_is_string(v)) {
				free(*dst);
				*dst = text_clean(json_string_value(v));
			} else if (texts[i].nullable && json_is_null(v)) {
				set_str(dst, "");
			} else {
				ferr(e, texts[i].key,
				     "« %s » doit être une chaîne de caractères%s.", texts[i].key,
				     texts[i].nullable ? " ou null" : "");
			}
		}
		if (done)
			continue;
		if (!strcmp(key, "pilot_user_ids")) {
			if (json_ids(v, &in->pilot_users))
				ferr(e, "pilot_user_ids",
				     "« pilot_user_ids » doit être une liste "
				     "d'identifiants.");
		} else if (!strcmp(key, "pilot_actor_ids")) {
			if (json_ids(v, &in->pilot_actors))
				ferr(e, "pilot_actor_ids",
				     "« pilot_actor_ids » doit être une liste "
				     "d'identifiants.");
		} else if (!strcmp(key, "partner_actor_ids")) {
			if (json_ids(v, &in->partners))
				ferr(e, "partner_actor_ids",
				     "« partner_actor_ids » doit être une "
				     "liste d'identifiants.");
		} else if (!strcmp(key, "publics")) {
			if (json_strs(v, &in->publics))
				ferr(e, "publics", "« publics » doit être une liste de textes.");
		} else if (!strcmp(key, "communes")) {
			if (json_strs(v, &in->communes))
				ferr(e, "communes",
				     "« communes » doit être une liste de codes INSEE.");
		} else if (!strcmp(key, "impact_domains")) {
			if (json_strs(v, &in->impacts))
				ferr(e, "impact",
				     "« impact_domains » doit être une liste de codes.");
		} else if (!strcmp(key, "links")) {
			if (json_links(v, in))
				ferr(e, "links",
				     "« links » doit être une liste d'objets {label, url}.");
		} else if (!strcmp(key, "budget_lines")) {
			if (json_lines(v, in, e))
				ferr(e, "budget_lines",
				     "« budget_lines » doit être une liste d'objets "
				     "{year, label, amount_cents, funder_actor_id, "
				     "funder_name}.");
		} else {
			int ro = 0;
			for (size_t i = 0; i < sizeof read_only / sizeof *read_only; i++)
				ro |= !strcmp(key, read_only[i]);
			if (!ro)
				ferr(e, "body", "Champ inconnu : « %.60s ».", key);
		}
	}
}

static void api_fiche_get(struct req *r)
{
	int64_t id;
	struct fiche_row f;
	enum role role;
	if (req_param_id(r, 0, &id) || fiche_read_require(r, id, ROLE_PUBLIC, &f, &role))
		return;
	json_t *j = fiche_json(r, &f, role);
	fiche_row_free(&f);
	if (!j)
		resp_error(r, 500, "Lecture de la fiche impossible.");
	else
		resp_json(r, 200, j);
}

/* The request's JSON body when it is an object; answers 400 itself otherwise. */
static json_t *json_object_body(struct req *r)
{
	json_t *body = req_json_body(r);
	if (body && !json_is_object(body)) {
		json_decref(body);
		resp_error(r, 400, "Le corps de la requête doit être un objet JSON.");
		return NULL;
	}
	return body;
}

/* Answer 200 with the fiche as it is now. */
static void api_fiche_answer(struct req *r, int64_t id)
{
	struct fiche_row f;
	if (fiche_row_load(r->db, id, &f)) {
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return;
	}
	json_t *j = fiche_json(r, &f, plan_role(r, f.plan_id));
	fiche_row_free(&f);
	resp_json(r, 200, j);
}

static void api_fiche_patch(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	struct fiche_in in;
	struct ferrs e = {0};
	if (fiche_in_load(r->db, id, &in)) {
		json_decref(body);
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return;
	}
	fiche_in_from_json(body, &in, &e);
	json_decref(body);
	if (!e.n)
		fiche_in_validate(r->db, node_plan(r->db, id), id, &in, &e);
	int changed;
	if (e.n)
		api_invalid(r, &e);
	else if (fiche_change(r, id, apply_in, &in, &changed) != DB_OK)
		resp_error(r, 500, "L'enregistrement de la fiche a échoué.");
	else
		api_fiche_answer(r, id);
	ferrs_free(&e);
	fiche_in_free(&in);
}

static void api_comment_post(struct req *r)
{
	int64_t id;
	struct fiche_row f;
	enum role role;
	if (req_param_id(r, 0, &id) || fiche_read_require(r, id, ROLE_PARTNER, &f, &role))
		return;
	fiche_row_free(&f);
	json_t *body = json_object_body(r);
	if (!body)
		return;
	json_t *b = json_object_get(body, "body");
	char *text = json_is_string(b) ? text_clean(json_string_value(b)) : NULL;
	const char *why = text ? comment_problem(text)
	                       : "« body » (texte du commentaire) est "
	                         "obligatoire.";
	int64_t cid;
	if (why) {
		resp_error(r, 422, why);
	} else if (comment_post_tx(r, id, text, &cid) != DB_OK) {
		resp_error(r, 500, "Le commentaire n'a pas pu être enregistré.");
	} else {
		char now[32];
		time_iso_now(now);
		resp_json(r, 201,
		          json_pack("{s:I,s:I,s:{s:I,s:s},s:s,s:s}", "id", (json_int_t)cid,
		                    "fiche_id", (json_int_t)id, "author", "id",
		                    (json_int_t)r->user->id, "name", r->user->name, "body", text,
		                    "created_at", now));
	}
	free(text);
	json_decref(body);
}

static void api_progress_post(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || fiche_require_edit(r, id))
		return;
	json_t *body = json_object_body(r);
	if (!body)
		return;
	json_t *st = json_object_get(body, "status"), *cn = json_object_get(body, "closing_note");
	struct progress_in p = {
	    json_string_value(json_object_get(body, "progress")),
	    json_is_string(st) && *json_string_value(st) ? json_string_value(st) : NULL,
	    json_string_value(json_object_get(body, "comment")), json_string_value(cn)};
	const char *why = (st && !json_is_null(st) && !json_is_string(st)) ||
	                          (cn && !json_is_null(cn) && !json_is_string(cn))
	                      ? "« status » et « closing_note » doivent être des textes."
	                      : progress_problem(r->db, id, &p);
	if (why)
		resp_error(r, 422, why);
	else if (progress_save(r, id, &p) != DB_OK)
		resp_error(r, 500, "L'avancement n'a pas pu être enregistré.");
	else
		api_fiche_answer(r, id);
	json_decref(body);
}

static json_t *mine_json(const struct mine *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *reasons = json_array();
		for (int k = 0; k < v[i].nreasons; k++)
			json_array_append_new(reasons, json_string(v[i].reasons[k]));
		json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:o}", "id",
		                      (json_int_t)v[i].id, "plan_id", (json_int_t)v[i].plan_id,
		                      "plan_title", v[i].plan_title, "number", v[i].number, "title",
		                      v[i].title, "status", v[i].status, "progress", v[i].progress,
		                      "end_date", jtext(v[i].end_date), "last_update",
		                      jtext(v[i].last_report), "overdue", v[i].nreasons > 0,
		                      "overdue_reasons", reasons);
		if (o && v[i].pilots)
			json_object_set_new(o, "pilots", json_string(v[i].pilots));
		if (o)
			json_array_append_new(arr, o);
	}
	return arr;
}

static void api_me_fiches(struct req *r)
{
	size_t n = 0, nc = 0;
	struct mine *v = mine_load(r, 0, &n);
	struct mine *c = mine_load(r, 1, &nc);
	resp_json(r, 200,
	          json_pack("{s:o,s:o}", "fiches", mine_json(v, n), "to_chase", mine_json(c, nc)));
	mine_free(v, n);
	mine_free(c, nc);
}

/* --- routes ----------------------------------------------------------------------------------- */

const struct route fiche_routes[] = {
    {M_GET, "/fiches/{fiche}", ACC_PUBLIC, fiche_page,
     "Une fiche-action : contenu, pilotes, moyens, impacts, commentaires et historique"},
    {M_GET, "/fiches/{fiche}/modifier", ACC_LOGIN, edit_get,
     "Formulaire de modification d'une fiche-action (pilotes de la fiche, coordination)"},
    {M_POST, "/fiches/{fiche}/modifier", ACC_LOGIN, edit_post,
     "Enregistrer une fiche-action (tous ses champs, clôture avec note)"},
    {M_POST, "/fiches/{fiche}/budget", ACC_LOGIN, budget_post,
     "Ajouter ou supprimer une ligne budgétaire d'une fiche-action"},
    {M_POST, "/fiches/{fiche}/commentaires", ACC_LOGIN, comment_post,
     "Commenter une fiche-action (partenaires et plus)"},
    {M_POST, "/fiches/{fiche}/avancement", ACC_LOGIN, progress_post,
     "Point d'avancement rapide d'une fiche-action, avec commentaire"},
    {M_POST, "/commentaires/{comment}/supprimer", ACC_LOGIN, comment_delete,
     "Supprimer un commentaire (son auteur ou la coordination)"},
    {M_GET, "/mes-actions", ACC_LOGIN, mine_get,
     "Les fiches-actions que je pilote, les retards, et les fiches à relancer"},
    {M_GET, "/api/v1/fiches/{fiche}", ACC_PUBLIC, api_fiche_get, "Une fiche-action"},
    {M_PATCH, "/api/v1/fiches/{fiche}", ACC_LOGIN, api_fiche_patch,
     "Modifier une fiche-action (mêmes règles que le formulaire)"},
    {M_POST, "/api/v1/fiches/{fiche}/comments", ACC_LOGIN, api_comment_post,
     "Commenter une fiche-action"},
    {M_POST, "/api/v1/fiches/{fiche}/progress", ACC_LOGIN, api_progress_post,
     "Point d'avancement d'une fiche-action"},
    {M_GET, "/api/v1/me/fiches", ACC_LOGIN, api_me_fiches,
     "Les fiches-actions que je pilote et celles à relancer"},
    {0},
};
