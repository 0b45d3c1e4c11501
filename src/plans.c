/* plans: plan pages and API — a plan with its numbered tree; visibility and plan roles. */
#include "plans.h"

#include "auth.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "util.h"

#include <md4c-html.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void plan_bind_visible(struct db_stmt *st, int first, struct req *r)
{
	db_bind_int64(st, first, r->user && r->user->role == ROLE_ADMIN);
	db_bind_int64(st, first + 1, r->user ? r->user->id : 0);
}

enum role plan_role(struct req *r, int64_t plan_id)
{
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT p.is_public, "
	                               "(SELECT m.role FROM plan_members m "
	                               " WHERE m.plan_id = p.id AND m.user_id = ?) "
	                               "FROM plans p WHERE p.id = ?",
	                               "II", r->user ? r->user->id : (int64_t)0, plan_id);
	enum role role = ROLE_NONE;
	if (st && db_step(st) == DB_ROW) {
		if (r->user && r->user->role == ROLE_ADMIN)
			role = ROLE_ADMIN;
		else if (!db_col_is_null(st, 1))
			role = role_parse(db_col_text(st, 1));
		else if (db_col_int64(st, 0))
			role = ROLE_PUBLIC;
	}
	db_finalize(st);
	return role;
}

int plan_require(struct req *r, int64_t plan_id, enum role min)
{
	enum role role = plan_role(r, plan_id);
	if (role == ROLE_NONE) {
		resp_error(r, 404, "Ce plan n'existe pas ou n'est pas visible pour vous.");
		return -1;
	}
	if (role < min) {
		resp_error(r, r->user ? 403 : 401,
		           r->user ? "Votre rôle sur ce plan ne permet pas cette action."
		                   : "Connectez-vous pour accéder à cette ressource.");
		return -1;
	}
	return 0;
}

static const struct {
	const char *kind, *label;
} kinds[] = {
    {"ctg", "Convention territoriale globale (CTG)"},
    {"schema", "Schéma départemental"},
    {"projet_social", "Projet social de structure"},
    {"autre", "Autre plan"},
};

const char *plan_kind_label(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i].kind, kind))
			return kinds[i].label;
	return "Plan";
}

int plan_kind_valid(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i].kind, kind))
			return 1;
	return 0;
}

/* --- Markdown -------------------------------------------------------------------------------- */

static void md_out(const MD_CHAR *text, MD_SIZE size, void *ud)
{
	buf_append(ud, text, size);
}

/* Neutralise href/src values whose scheme is not http, https or mailto. */
static void sanitize_links(struct buf *b, size_t from)
{
	static const char *const attrs[] = {"href=\"", "src=\""};
	for (size_t a = 0; a < 2; a++) {
		char *p = b->data ? b->data + from : NULL;
		while (p && (p = strstr(p, attrs[a]))) {
			char *v = p + strlen(attrs[a]);
			char *end = strchr(v, '"');
			if (!end)
				break;
			size_t n = (size_t)(end - v);
			size_t scheme = strcspn(v, ":/?#\"");
			int bad = 0;
			if (scheme < n && v[scheme] == ':')
				bad = !((scheme == 4 && !strncasecmp(v, "http", 4)) ||
				        (scheme == 5 && !strncasecmp(v, "https", 5)) ||
				        (scheme == 6 && !strncasecmp(v, "mailto", 6)));
			if (bad) {
				/* Overwrite the value with '#' followed by spaces-free padding. */
				v[0] = '#';
				memmove(v + 1, end, strlen(end) + 1);
				b->len -= n - 1;
				end = v + 1;
			}
			p = end;
		}
	}
}

void markdown_render(struct buf *out, const char *md)
{
	if (str_blank(md))
		return;
	size_t from = out->len;
	if (md_html(md, (MD_SIZE)strlen(md), md_out, out,
	            MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH, 0) != 0) {
		out->len = from;
		html_printf(out, "<p>%s</p>", md);
		return;
	}
	sanitize_links(out, from);
}

/* --- tree --------------------------------------------------------------------------------------
 */

struct node {
	int64_t id, parent;
	int depth;
	char *number, *title, *description, *tags;
	char *status, *progress;       /* of the fiche; NULL when the node is not a fiche */
	size_t first_child, nchildren; /* into the children index */
};

struct tree {
	struct node *nodes;
	size_t n;
	size_t *kids; /* node indexes grouped by parent, in position order */
	size_t *roots;
	size_t nroots;
};

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->nodes[i].number);
		free(t->nodes[i].title);
		free(t->nodes[i].description);
		free(t->nodes[i].tags);
		free(t->nodes[i].status);
		free(t->nodes[i].progress);
	}
	free(t->nodes);
	free(t->kids);
	free(t->roots);
}

static size_t node_index(const struct tree *t, int64_t id)
{
	for (size_t lo = 0, hi = t->n; lo < hi;) {
		size_t mid = (lo + hi) / 2;
		if (t->nodes[mid].id == id)
			return mid;
		if (t->nodes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

/*
 * Load a plan's nodes that are not archived, with their fiche's status and progress (one query)
 * and their tag labels, and index children by parent. A node under an archived node is left
 * out with it.
 */
static int tree_load(struct db *db, int64_t plan_id, struct tree *t)
{
	memset(t, 0, sizeof *t);
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT n.id, n.parent_id, n.depth, n.number, n.title, n.description, f.status, "
	    "f.progress FROM nodes n LEFT JOIN fiches f ON f.node_id = n.id "
	    "WHERE n.plan_id = ? AND n.archived = 0 ORDER BY n.id",
	    "I", plan_id);
	if (!st)
		return -1;
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (t->n == cap) {
			cap = cap ? cap * 2 : 64;
			t->nodes = xrealloc(t->nodes, cap * sizeof *t->nodes);
		}
		struct node *n = &t->nodes[t->n++];
		memset(n, 0, sizeof *n);
		n->id = db_col_int64(st, 0);
		n->parent = db_col_is_null(st, 1) ? 0 : db_col_int64(st, 1);
		n->depth = (int)db_col_int64(st, 2);
		n->number = xstrdup(db_col_text(st, 3));
		n->title = xstrdup(db_col_text(st, 4));
		n->description = xstrdup(db_col_text(st, 5) ? db_col_text(st, 5) : "");
		if (!db_col_is_null(st, 6)) {
			n->status = xstrdup(db_col_text(st, 6));
			n->progress = xstrdup(db_col_text(st, 7));
		}
	}
	db_finalize(st);
	/* Tag labels, joined by '|' per node. */
	st = db_queryf(db,
	               "SELECT nt.node_id, g.label FROM node_tags nt "
	               "JOIN tags g ON g.id = nt.tag_id JOIN nodes n ON n.id = nt.node_id "
	               "WHERE n.plan_id = ? ORDER BY nt.node_id, g.label",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		size_t i = node_index(t, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		char *old = t->nodes[i].tags;
		t->nodes[i].tags =
		    old ? xasprintf("%s|%s", old, db_col_text(st, 1)) : xstrdup(db_col_text(st, 1));
		free(old);
	}
	db_finalize(st);
	/* Children in position order. */
	t->kids = xcalloc(t->n + 1, sizeof *t->kids);
	t->roots = xcalloc(t->n + 1, sizeof *t->roots);
	st = db_queryf(db,
	               "SELECT id, parent_id FROM nodes WHERE plan_id = ? AND archived = 0 "
	               "ORDER BY parent_id NULLS FIRST, position, id",
	               "I", plan_id);
	if (!st)
		return -1;
	size_t k = 0;
	while (db_step(st) == DB_ROW) {
		size_t i = node_index(t, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		if (db_col_is_null(st, 1)) {
			t->roots[t->nroots++] = i;
			continue;
		}
		size_t p = node_index(t, db_col_int64(st, 1));
		if (p == (size_t)-1)
			continue;
		if (t->nodes[p].nchildren == 0)
			t->nodes[p].first_child = k;
		t->nodes[p].nchildren++;
		t->kids[k++] = i;
	}
	db_finalize(st);
	return 0;
}

static void levels_load(struct db *db, int64_t plan_id, char **names, int max)
{
	struct db_stmt *st =
	    db_queryf(db, "SELECT depth, name FROM plan_levels WHERE plan_id = ?", "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		int d = (int)db_col_int64(st, 0);
		if (d >= 0 && d < max && !names[d])
			names[d] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
}

/* 1 when the '|'-separated list has this exact item. */
static int list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, item, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The badge class of a fiche's progress level (or of a status that stops it). */
static const char *progress_badge(const char *status, const char *progress)
{
	if (status && (!strcmp(status, "abandonnee") || !strcmp(status, "ajournee")))
		return "badge badge-neutral";
	if (!progress || !strcmp(progress, "non_engagee"))
		return "badge badge-error";
	if (!strcmp(progress, "peu_engagee"))
		return "badge";
	if (!strcmp(progress, "bien_engagee"))
		return "badge badge-info";
	return "badge badge-success";
}

/* Render nodes idx[0..n) and their subtrees; a tag already shown on the parent is not repeated.
 * A title links to the node's page: /fiches/{id} for a fiche-action, /noeuds/{id} otherwise;
 * a fiche shows its status and progress as badges. */
static void tree_render(struct buf *o, const struct tree *t, const size_t *idx, size_t n,
                        char **levels, const char *parent_tags)
{
	buf_puts(o, "<ol class=\"tree\">");
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &t->nodes[idx[i]];
		const char *level = nd->depth < 8 && levels[nd->depth] ? levels[nd->depth] : "";
		html_printf(o,
		            "<li id=\"n%lld\"><div class=\"node depth-%d\"><span class=\"num\">%s"
		            "</span> <span class=\"level\">%s</span> <span class=\"title\"><a "
		            "href=\"/%s/%lld\">%s</a></span>",
		            (long long)nd->id, nd->depth, nd->number, level,
		            nd->status ? "fiches" : "noeuds", (long long)nd->id, nd->title);
		if (nd->status)
			html_printf(o,
			            " <span class=\"badge badge-neutral\"><span "
			            "class=\"visually-hidden\">Statut : </span>%s</span> <span "
			            "class=\"%s\"><span class=\"visually-hidden\">Avancement : "
			            "</span>%s</span>",
			            fiche_status_label(nd->status),
			            progress_badge(nd->status, nd->progress),
			            fiche_progress_label(nd->progress));
		if (nd->tags) {
			size_t mark = o->len;
			int shown = 0;
			buf_puts(o, " <span class=\"tags\">");
			char *copy = xstrdup(nd->tags), *save = NULL;
			for (char *tg = strtok_r(copy, "|", &save); tg;
			     tg = strtok_r(NULL, "|", &save))
				if (!list_has(parent_tags, tg)) {
					html_printf(o, "<span class=\"tag\">%s</span>", tg);
					shown++;
				}
			free(copy);
			if (shown) {
				buf_puts(o, "</span>");
			} else {
				o->len = mark; /* nothing new to show: drop the empty span */
				o->data[mark] = '\0';
			}
		}
		buf_puts(o, "</div>");
		if (nd->nchildren)
			tree_render(o, t, t->kids + nd->first_child, nd->nchildren, levels,
			            nd->tags);
		buf_puts(o, "</li>");
	}
	buf_puts(o, "</ol>");
}

static json_t *tree_json(const struct tree *t, const size_t *idx, size_t n, char **levels)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &t->nodes[idx[i]];
		json_t *tags = json_array();
		if (nd->tags) {
			char *copy = xstrdup(nd->tags), *save = NULL;
			for (char *tg = strtok_r(copy, "|", &save); tg;
			     tg = strtok_r(NULL, "|", &save))
				json_array_append_new(tags, json_string(tg));
			free(copy);
		}
		const char *level = nd->depth < 8 && levels[nd->depth] ? levels[nd->depth] : "";
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:o,s:o}", "id", (json_int_t)nd->id,
		                   "number", nd->number, "level", level, "title", nd->title,
		                   "description", nd->description, "is_fiche", nd->status != NULL,
		                   "tags", tags, "children",
		                   tree_json(t, t->kids + nd->first_child, nd->nchildren, levels)));
	}
	return arr;
}

json_t *plan_to_json(struct db *db, int64_t plan_id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT id, kind, title, start_year, end_year, description, "
	                               "is_public, created_at, updated_at FROM plans WHERE id = ?",
	                               "I", plan_id);
	if (!st)
		return NULL;
	json_t *p = NULL;
	if (db_step(st) == DB_ROW) {
		p = json_pack(
		    "{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:b,s:s,s:s}", "id",
		    (json_int_t)db_col_int64(st, 0), "kind", db_col_text(st, 1), "kind_label",
		    plan_kind_label(db_col_text(st, 1)), "title", db_col_text(st, 2), "start_year",
		    db_col_is_null(st, 3) ? json_null() : json_integer(db_col_int64(st, 3)),
		    "end_year",
		    db_col_is_null(st, 4) ? json_null() : json_integer(db_col_int64(st, 4)),
		    "description", db_col_text(st, 5), "public", (int)db_col_int64(st, 6),
		    "created_at", db_col_text(st, 7), "updated_at", db_col_text(st, 8));
	}
	db_finalize(st);
	if (!p)
		return NULL;
	char *levels[8] = {0};
	levels_load(db, plan_id, levels, 8);
	json_t *lv = json_array();
	for (int i = 0; i < 8 && levels[i]; i++)
		json_array_append_new(lv, json_string(levels[i]));
	json_object_set_new(p, "levels", lv);

	json_t *terr = json_array();
	st = db_queryf(db,
	               "SELECT scope, code FROM plan_territory WHERE plan_id = ? "
	               "ORDER BY scope, code",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(terr, json_pack("{s:s,s:s}", "scope", db_col_text(st, 0),
		                                      "code", db_col_text(st, 1)));
	db_finalize(st);
	json_object_set_new(p, "territory", terr);

	json_t *sig = json_array();
	st = db_queryf(db,
	               "SELECT a.id, a.name FROM plan_signatories s "
	               "JOIN actors a ON a.id = s.actor_id WHERE s.plan_id = ? ORDER BY a.name",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(sig,
		                      json_pack("{s:I,s:s}", "id", (json_int_t)db_col_int64(st, 0),
		                                "name", db_col_text(st, 1)));
	db_finalize(st);
	json_object_set_new(p, "signatories", sig);

	struct tree t;
	if (tree_load(db, plan_id, &t) == 0)
		json_object_set_new(p, "tree", tree_json(&t, t.roots, t.nroots, levels));
	tree_free(&t);
	for (int i = 0; i < 8; i++)
		free(levels[i]);
	return p;
}

/* Number children of `parent` (0 for the roots) under `prefix`, recursively. Archived nodes are
 * numbered after their live siblings, so that the numbers shown in trees have no gaps. */
static int renumber_level(struct db *db, int64_t plan_id, int64_t parent, const char *prefix,
                          int depth)
{
	struct db_stmt *st =
	    parent ? db_queryf(db,
	                       "SELECT id FROM nodes WHERE parent_id = ? "
	                       "ORDER BY archived, position, id",
	                       "I", parent)
	           : db_queryf(db,
	                       "SELECT id FROM nodes WHERE plan_id = ? AND parent_id IS NULL "
	                       "ORDER BY archived, position, id",
	                       "I", plan_id);
	if (!st)
		return DB_ERROR;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xrealloc(ids, cap * sizeof *ids);
		}
		ids[n++] = db_col_int64(st, 0);
	}
	db_finalize(st);
	int rc = DB_OK;
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		/* as long as the tree is deep: the prefix is the parent's whole number */
		char *number = xasprintf("%s%s%zu", prefix, *prefix ? "." : "", i + 1);
		rc = db_execf(db,
		              "UPDATE nodes SET number = ?, position = ?, depth = ? WHERE id = ?",
		              "siiI", number, (int)(i + 1), depth, ids[i]);
		if (rc == DB_OK)
			rc = renumber_level(db, plan_id, ids[i], number, depth + 1);
		free(number);
	}
	free(ids);
	return rc;
}

int plan_renumber(struct db *db, int64_t plan_id)
{
	return renumber_level(db, plan_id, 0, "", 0);
}

/* --- pages -------------------------------------------------------------------------------------
 */

static void territory_line(struct req *r, int64_t plan_id)
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
		html_printf(&r->out, "%R<a href=\"%s%u\">%s</a>", n++ ? ", " : "", base,
		            db_col_text(st, 1), db_col_text(st, 2));
	}
	db_finalize(st);
	if (!n)
		buf_puts(&r->out, "non précisé");
}

/* The current calendar year (UTC). */
static int current_year(void)
{
	char now[32];
	time_iso_now(now);
	return atoi(now);
}

static void plan_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_PUBLIC))
		return;
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT kind, title, start_year, end_year, description, "
	                               "is_public FROM plans WHERE id = ?",
	                               "I", id);
	if (!st || db_step(st) != DB_ROW) {
		db_finalize(st);
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	char *kind = xstrdup(db_col_text(st, 0));
	char *title = xstrdup(db_col_text(st, 1));
	int64_t y0 = db_col_int64(st, 2), y1 = db_col_int64(st, 3);
	char *desc = xstrdup(db_col_text(st, 4));
	int is_public = (int)db_col_int64(st, 5);
	db_finalize(st);

	page_begin(r, title, NULL);
	html_printf(&r->out, "<p class=\"eyebrow\">%s</p>\n<h1>%s</h1>\n", plan_kind_label(kind),
	            title);
	buf_puts(&r->out, "<dl class=\"facts\">");
	html_printf(&r->out, "<div><dt>Période</dt><dd>%lld – %lld</dd></div>", (long long)y0,
	            (long long)y1);
	buf_puts(&r->out, "<div><dt>Territoire</dt><dd>");
	territory_line(r, id);
	buf_puts(&r->out, "</dd></div><div><dt>Signataires</dt><dd>");
	st = db_queryf(r->db,
	               "SELECT a.id, a.name FROM plan_signatories s "
	               "JOIN actors a ON a.id = s.actor_id WHERE s.plan_id = ? ORDER BY a.name",
	               "I", id);
	/* A long list of signatories folds after the first few. */
	int n = 0;
	while (st && db_step(st) == DB_ROW) {
		if (n == 0)
			buf_puts(&r->out, "<ul class=\"inline-list\">");
		if (n == 4)
			buf_puts(&r->out,
			         "</ul><details><summary>Voir les autres signataires</summary>"
			         "<ul class=\"inline-list\">");
		html_printf(&r->out, "<li><a href=\"/acteurs/%lld\">%s</a></li>",
		            (long long)db_col_int64(st, 0), db_col_text(st, 1));
		n++;
	}
	db_finalize(st);
	if (n > 4)
		buf_puts(&r->out, "</ul></details>");
	else if (n)
		buf_puts(&r->out, "</ul>");
	else
		buf_puts(&r->out, "aucun renseigné");
	html_printf(&r->out, "</dd></div><div><dt>Visibilité</dt><dd>%s</dd></div>",
	            is_public ? "publique" : "réservée aux membres");
	enum role role = plan_role(r, id);
	html_printf(&r->out, "<div><dt>Votre rôle</dt><dd>%s</dd></div></dl>\n", role_label(role));
	if (role >= ROLE_READER) {
		buf_puts(&r->out, "<div class=\"actions\">");
		if (role >= ROLE_COORDINATOR)
			html_printf(&r->out,
			            "<a class=\"button\" href=\"/plans/%lld/arbre\">Modifier "
			            "l'arborescence</a><a class=\"button secondary\" "
			            "href=\"/plans/%lld/modifier\">Modifier le plan</a>",
			            (long long)id, (long long)id);
		html_printf(&r->out,
		            "<a class=\"button secondary\" href=\"/plans/%lld/membres\">Membres du "
		            "plan</a></div>\n",
		            (long long)id);
	}
	/* Where to go from here: the cycle is for members; the rest is public with the plan. */
	buf_puts(&r->out, "<nav class=\"plan-links\" aria-label=\"Pages du plan\">"
	                  "<ul class=\"inline-list\">");
	html_printf(&r->out, "<li><a href=\"/plans/%lld/tableau-de-bord\">Tableau de bord</a></li>",
	            (long long)id);
	if (is_public)
		html_printf(&r->out, "<li><a href=\"/public/plans/%lld\">Page publique</a></li>",
		            (long long)id);
	if (role >= ROLE_READER)
		html_printf(&r->out,
		            "<li><a href=\"/plans/%lld/instances\">Instances et réunions</a></li>",
		            (long long)id);
	if (role >= ROLE_READER)
		html_printf(&r->out,
		            "<li><a href=\"/plans/%lld/spiral\">Participation SPIRAL</a></li>",
		            (long long)id);
	if (role >= ROLE_READER)
		html_printf(&r->out,
		            "<li><a href=\"/plans/%lld/campagnes\">Grilles d'évaluation</a></li>",
		            (long long)id);
	if (role >= ROLE_READER)
		html_printf(&r->out,
		            "<li><a href=\"/plans/%lld/cycle\">Cycle annuel</a></li>"
		            "<li><a href=\"/plans/%lld/bilan/%d\">Bilan annuel</a></li>"
		            "<li><a href=\"/plans/%lld/revue-mi-parcours\">Revue à "
		            "mi-parcours</a></li>"
		            "<li><a href=\"/plans/%lld/lettre\">Lettre trimestrielle</a></li>",
		            (long long)id, (long long)id, current_year(), (long long)id,
		            (long long)id);
	if (role >= ROLE_PILOT)
		html_printf(
		    &r->out,
		    "<li><a href=\"/plans/%lld/mesures-en-retard\">Mesures en retard</a></li>",
		    (long long)id);
	if (role >= ROLE_COORDINATOR)
		html_printf(&r->out,
		            "<li><a href=\"/plans/%lld/mesures/importer\">Importer des "
		            "mesures</a></li>",
		            (long long)id);
	html_printf(&r->out,
	            "<li><a href=\"/plans/%lld/annexes\">Annexes votées</a></li>"
	            "<li>Exporter : <a href=\"/plans/%lld/export.csv\">CSV</a>, "
	            "<a href=\"/plans/%lld/export.xlsx\">XLSX</a>, "
	            "<a href=\"/plans/%lld/export.json\">JSON</a></li></ul></nav>\n",
	            (long long)id, (long long)id, (long long)id, (long long)id);
	if (!str_blank(desc)) {
		buf_puts(&r->out, "<div class=\"prose\">");
		markdown_render(&r->out, desc);
		buf_puts(&r->out, "</div>\n");
	}

	char *levels[8] = {0};
	levels_load(r->db, id, levels, 8);
	struct tree t;
	buf_puts(&r->out, "<section aria-labelledby=\"arbre\"><h2 id=\"arbre\">Arborescence</h2>");
	if (levels[0]) {
		buf_puts(&r->out, "<p class=\"hint\">Niveaux : ");
		for (int i = 0; i < 8 && levels[i]; i++)
			html_printf(&r->out, "%R%s", i ? " → " : "", levels[i]);
		buf_puts(&r->out, "</p>");
	}
	if (tree_load(r->db, id, &t) == 0 && t.nroots)
		tree_render(&r->out, &t, t.roots, t.nroots, levels, NULL);
	else
		buf_puts(&r->out, "<p>Ce plan n'a pas encore d'arborescence.</p>");
	buf_puts(&r->out, "</section>\n");
	tree_free(&t);
	for (int i = 0; i < 8; i++)
		free(levels[i]);
	free(kind);
	free(title);
	free(desc);
	page_end(r);
}

/* --- API ----------------------------------------------------------------------------------------
 */

static void api_plans(struct req *r)
{
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT p.id, p.kind, p.title, p.start_year, "
	                      "p.end_year, p.is_public, "
	                      "(SELECT COUNT(*) FROM nodes n WHERE n.plan_id = p.id) "
	                      "FROM plans p WHERE " PLAN_VISIBLE_WHERE " ORDER BY p.title");
	if (!st) {
		resp_error(r, 500, "Lecture des plans impossible.");
		return;
	}
	plan_bind_visible(st, 1, r);
	json_t *arr = json_array();
	while (db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I,s:b,s:I,s:s}", "id",
		                                     (json_int_t)db_col_int64(st, 0), "kind",
		                                     db_col_text(st, 1), "kind_label",
		                                     plan_kind_label(db_col_text(st, 1)), "title",
		                                     db_col_text(st, 2), "start_year",
		                                     (json_int_t)db_col_int64(st, 3), "end_year",
		                                     (json_int_t)db_col_int64(st, 4), "public",
		                                     (int)db_col_int64(st, 5), "node_count",
		                                     (json_int_t)db_col_int64(st, 6), "url", ""));
	db_finalize(st);
	size_t i;
	json_t *p;
	json_array_foreach(arr, i, p)
	{
		char *u = xasprintf("/api/v1/plans/%lld",
		                    (long long)json_integer_value(json_object_get(p, "id")));
		json_object_set_new(p, "url", json_string(u));
		free(u);
	}
	resp_json(r, 200, json_pack("{s:o}", "plans", arr));
}

static void api_plan(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_PUBLIC))
		return;
	json_t *p = plan_to_json(r->db, id);
	if (!p) {
		resp_error(r, 404, "Ce plan n'existe pas.");
		return;
	}
	json_object_set_new(p, "your_role", json_string(role_name(plan_role(r, id))));
	resp_json(r, 200, p);
}

/* The form that creates a plan (plan_edit.c). Declared here because GET /plans/nouveau must
 * come before /plans/{plan} in the route tables. */
void plan_edit_new(struct req *r);

const struct route plan_routes[] = {
    {M_GET | M_POST, "/plans/nouveau", ACC_LOGIN, plan_edit_new,
     "Créer un plan (coordinateurs et administrateurs)"},
    {M_GET, "/plans/{plan}", ACC_PUBLIC, plan_page, "Un plan et son arborescence numérotée"},
    {M_GET, "/api/v1/plans", ACC_PUBLIC, api_plans, "Liste des plans visibles"},
    {M_GET, "/api/v1/plans/{plan}", ACC_PUBLIC, api_plan, "Un plan avec son arborescence"},
    {0},
};
