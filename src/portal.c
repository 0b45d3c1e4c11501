/* portal: the public portal for inhabitants — a published plan's tree with its progress, and per
 * commune "ce qui se fait ici". No names of people, no comments, no internal notes: only plans,
 * their nodes and fiches (titles, status, progress), structures as pilots, and communes. */
#include "dashboard.h"
#include "db.h"
#include "fiches.h"
#include "layout.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCT      "\xe2\x80\xaf%%" /* in a format string */
#define PCT_TEXT "\xe2\x80\xaf%"  /* in plain text */

/* The badge class of a fiche (same scale as the plan tree). */
static const char *badge_class(const struct dash_node *nd)
{
	if (nd->status == DASH_S_ABANDONNEE || nd->status == DASH_S_AJOURNEE)
		return "badge badge-neutral";
	int l = nd->status == DASH_S_ACHEVEE ? DASH_ACHEVEE : nd->level;
	return l == DASH_NON    ? "badge badge-error"
	       : l == DASH_PEU  ? "badge"
	       : l == DASH_BIEN ? "badge badge-info"
	                        : "badge badge-success";
}

static const char *fiche_level_label(const struct dash_node *nd)
{
	return dash_level_label(nd->status == DASH_S_ACHEVEE ? DASH_ACHEVEE : nd->level);
}

/* "12 fiches suivies : 25 % achevées, 50 % bien engagées, …" for a node. */
static void node_summary(struct buf *o, const struct dash_node *nd)
{
	if (!nd->tracked) {
		buf_puts(o, "<span class=\"muted\">aucune fiche suivie</span>");
		return;
	}
	double c[DASH_NLEVELS];
	int pct[DASH_NLEVELS];
	for (int i = 0; i < DASH_NLEVELS; i++)
		c[i] = nd->levels[dash_level_order[i]];
	svg_percentages(c, DASH_NLEVELS, pct);
	html_printf(o, "<span class=\"muted\">%d fiche%R suivie%R : ", nd->tracked,
	            nd->tracked > 1 ? "s" : "", nd->tracked > 1 ? "s" : "");
	for (int i = 0; i < DASH_NLEVELS; i++) {
		char *low = xstrdup(dash_level_label(dash_level_order[i]));
		low[0] = (char)(low[0] - 'A' + 'a');
		html_printf(o, "%R%d" PCT " %s", i ? ", " : "", pct[i], low);
		free(low);
	}
	buf_puts(o, "</span>");
}

/* The structures piloting each fiche: "id|Name" rows loaded once, looked up per fiche. */
struct pilots {
	int64_t *node;
	char **name;
	size_t n;
};

static void pilots_load(struct db *db, int64_t plan_id, struct pilots *pl)
{
	memset(pl, 0, sizeof *pl);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT fp.node_id, a.name FROM fiche_pilots fp "
	                               "JOIN actors a ON a.id = fp.actor_id JOIN nodes n "
	                               "ON n.id = fp.node_id WHERE n.plan_id = ? "
	                               "ORDER BY fp.node_id, a.name",
	                               "I", plan_id);
	size_t cap = 0;
	while (st && db_step(st) == DB_ROW) {
		if (pl->n == cap) {
			cap = cap ? cap * 2 : 32;
			pl->node = xrealloc(pl->node, cap * sizeof *pl->node);
			pl->name = xrealloc(pl->name, cap * sizeof *pl->name);
		}
		pl->node[pl->n] = db_col_int64(st, 0);
		pl->name[pl->n++] = xstrdup(db_col_text(st, 1));
	}
	db_finalize(st);
}

static void pilots_free(struct pilots *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->name[i]);
	free(pl->node);
	free(pl->name);
}

static void pilots_write(struct buf *o, const struct pilots *pl, int64_t node)
{
	int k = 0;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->node[i] == node)
			html_printf(o, "%R%s",
			            k++ ? ", " : " <span class=\"muted\">— pilote : ", pl->name[i]);
	if (k)
		buf_puts(o, "</span>");
}

/* A fiche shown to the public: adopted (not a pending proposal). */
static int fiche_public(const struct dash_node *nd)
{
	return nd->is_fiche && nd->selected && nd->status != DASH_S_PROPOSEE;
}

static void public_tree(struct buf *o, const struct dash_plan *p, const size_t *idx, size_t n,
                        const struct pilots *pl)
{
	buf_puts(o, "<ol class=\"tree\">");
	for (size_t i = 0; i < n; i++) {
		const struct dash_node *nd = &p->nodes[idx[i]];
		if (nd->is_fiche && !fiche_public(nd))
			continue;
		const char *level =
		    nd->depth < 8 && p->levels[nd->depth] ? p->levels[nd->depth] : "";
		html_printf(o,
		            "<li><div class=\"node depth-%d\"><span class=\"num\">%s</span> "
		            "<span class=\"level\">%s</span> <span class=\"title\">%s</span> ",
		            nd->depth, nd->number, level, nd->title);
		if (nd->is_fiche) {
			html_printf(
			    o,
			    "<span class=\"badges\"><span class=\"badge badge-neutral\">"
			    "<span class=\"visually-hidden\">Statut : </span>%s</span> "
			    "<span class=\"%s\"><span class=\"visually-hidden\">Avancement : "
			    "</span>%s</span></span>",
			    dash_status_label(nd->status), badge_class(nd), fiche_level_label(nd));
			pilots_write(o, pl, nd->id);
		} else {
			buf_puts(o, "<br>");
			node_summary(o, nd);
		}
		buf_puts(o, "</div>");
		if (nd->nchildren)
			public_tree(o, p, p->kids + nd->first_child, nd->nchildren, pl);
		buf_puts(o, "</li>");
	}
	buf_puts(o, "</ol>");
}

/* The communes of a plan's territory (communes, and those of its EPCIs) with a link each. */
static void territory_communes(struct req *r, int64_t plan_id)
{
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT c.code, c.name FROM communes c WHERE c.code IN ("
	    " SELECT t.code FROM plan_territory t WHERE t.plan_id = ? AND t.scope = 'commune'"
	    " UNION SELECT c2.code FROM plan_territory t JOIN communes c2 ON c2.epci = t.code"
	    " WHERE t.plan_id = ? AND t.scope = 'epci'"
	    " UNION SELECT fc.commune FROM fiche_communes fc JOIN nodes n ON n.id = fc.node_id"
	    " WHERE n.plan_id = ? AND n.archived = 0) ORDER BY c.search_name LIMIT 400",
	    "III", plan_id, plan_id, plan_id);
	int k = 0;
	while (st && db_step(st) == DB_ROW) {
		if (!k++)
			buf_puts(&r->out,
			         "<section aria-labelledby=\"communes\"><h2 id=\"communes\">"
			         "Ce qui se fait dans votre commune</h2><ul "
			         "class=\"inline-list\">");
		html_printf(&r->out, "<li><a href=\"/public/communes/%u\">%s</a></li>",
		            db_col_text(st, 0), db_col_text(st, 1));
	}
	db_finalize(st);
	if (k)
		buf_puts(&r->out, "</ul></section>\n");
}

static void public_plan(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	/* Published plans only, whoever asks: the portal never shows a private plan. */
	int64_t pub = 0;
	if (db_int64f(r->db, &pub, "SELECT is_public FROM plans WHERE id = ?", "I", id) != DB_OK ||
	    !pub) {
		resp_error(r, 404, "Ce plan n'existe pas ou n'est pas publié.");
		return;
	}
	struct dash_plan p;
	if (dash_plan_load(r->db, id, &p)) {
		dash_plan_free(&p);
		resp_error(r, 500, "Lecture du plan impossible.");
		return;
	}
	dash_rollup(&p);
	char *desc = NULL;
	struct db_stmt *st =
	    db_queryf(r->db, "SELECT description FROM plans WHERE id = ?", "I", id);
	if (st && db_step(st) == DB_ROW)
		desc = xstrdup(db_col_text(st, 0));
	db_finalize(st);

	page_begin(r, p.title, NULL);
	struct buf *o = &r->out;
	html_printf(o,
	            "<p class=\"eyebrow\">%s · %d – %d</p>\n<h1>%s</h1>\n<p class=\"lead\">Ce que "
	            "prévoit ce plan et où en sont ses actions.</p>\n",
	            plan_kind_label(p.kind), p.start_year, p.end_year, p.title);
	if (!str_blank(desc)) {
		buf_puts(o, "<div class=\"prose\">");
		markdown_render(o, desc);
		buf_puts(o, "</div>\n");
	}
	buf_puts(o, "<section aria-labelledby=\"avancement\"><h2 id=\"avancement\">Où en sont les "
	            "actions ?</h2>");
	dash_progress_stats(o, &p.all);
	dash_progress_figure(o, &p, NULL, "public-avancement", "Avancement des actions", 1);
	dash_rule_html(o);
	buf_puts(o, "</section>\n");
	territory_communes(r, id);
	struct pilots pl;
	pilots_load(r->db, id, &pl);
	buf_puts(o, "<section aria-labelledby=\"arbre\"><h2 id=\"arbre\">Les actions du plan</h2>");
	if (p.nroots)
		public_tree(o, &p, p.roots, p.nroots, &pl);
	else
		buf_puts(o, "<p>Ce plan n'a pas encore d'actions publiées.</p>");
	buf_puts(o, "</section>\n");
	pilots_free(&pl);
	free(desc);
	dash_plan_free(&p);
	page_end(r);
}

/* One row of the commune page. */
struct cfiche {
	int64_t plan, node;
};

static void public_commune(struct req *r)
{
	const char *code = r->params[0];
	char *name = NULL, *epci_name = NULL;
	if (strlen(code) > 10) {
		resp_error(r, 404, "Cette commune n'existe pas.");
		return;
	}
	struct db_stmt *st = db_queryf(r->db,
	                               "SELECT c.name, e.name FROM communes c LEFT JOIN epcis e "
	                               "ON e.code = c.epci WHERE c.code = ?",
	                               "s", code);
	if (st && db_step(st) == DB_ROW) {
		name = xstrdup(db_col_text(st, 0));
		epci_name = db_col_text(st, 1) ? xstrdup(db_col_text(st, 1)) : NULL;
	}
	db_finalize(st);
	if (!name) {
		resp_error(r, 404, "Cette commune n'existe pas.");
		return;
	}
	/* Published plans covering the commune: by a fiche of their own there, or by their
	 * territory (fiches without communes cover the whole territory). */
	st = db_queryf(r->db,
	               "SELECT p.id FROM plans p WHERE p.is_public = 1 AND ("
	               " EXISTS (SELECT 1 FROM fiche_communes fc JOIN nodes n ON n.id = fc.node_id"
	               "  WHERE n.plan_id = p.id AND fc.commune = ?)"
	               " OR EXISTS (SELECT 1 FROM plan_territory t JOIN communes c ON c.code = ?"
	               "  WHERE t.plan_id = p.id AND ((t.scope = 'commune' AND t.code = c.code)"
	               "  OR (t.scope = 'epci' AND t.code = c.epci)"
	               "  OR (t.scope = 'departement' AND t.code = c.departement))))"
	               " ORDER BY p.title",
	               "ss", code, code);
	int64_t *plans = NULL;
	size_t np = 0;
	while (st && db_step(st) == DB_ROW) {
		plans = xrealloc(plans, (np + 1) * sizeof *plans);
		plans[np++] = db_col_int64(st, 0);
	}
	db_finalize(st);

	char *title = xasprintf("Ce qui se fait à %s", name);
	page_begin(r, title, NULL);
	struct buf *o = &r->out;
	html_printf(o, "<p class=\"eyebrow\">Commune%R%s</p>\n<h1>%s</h1>\n",
	            epci_name ? " · " : "", epci_name ? epci_name : "", title);
	if (!np)
		buf_puts(o, "<p>Aucun plan publié ne couvre encore cette commune.</p>");
	size_t total = 0;
	for (size_t k = 0; k < np; k++) {
		struct dash_plan p;
		if (dash_plan_load(r->db, plans[k], &p)) {
			dash_plan_free(&p);
			continue;
		}
		struct dash_filter f = {.commune = code};
		dash_filter_apply(r->db, &p, &f);
		dash_rollup(&p);
		struct pilots pl;
		pilots_load(r->db, p.id, &pl);
		html_printf(o,
		            "<section class=\"panel\" aria-labelledby=\"plan-%lld\"><h2 "
		            "id=\"plan-%lld\"><a href=\"/public/plans/%lld\">%s</a></h2>",
		            (long long)p.id, (long long)p.id, (long long)p.id, p.title);
		html_printf(o, "<p>%s · %d – %d. ", plan_kind_label(p.kind), p.start_year,
		            p.end_year);
		node_summary(o, &p.all);
		buf_puts(o, "</p>");
		/* The fiches in tree order, as a flat list with their place in the tree. */
		size_t *order = xcalloc(p.n + 1, sizeof *order);
		for (size_t i = 0; i < p.n; i++)
			if (p.nodes[i].reachable)
				order[p.nodes[i].pre] = i + 1;
		int shown = 0;
		for (size_t i = 0; i < p.n; i++) {
			if (!order[i])
				continue;
			const struct dash_node *nd = &p.nodes[order[i] - 1];
			if (!fiche_public(nd))
				continue;
			if (!shown++)
				buf_puts(o, "<ul class=\"results\">");
			html_printf(
			    o,
			    "<li><span class=\"num\">%s</span> %s <span class=\"badges\">"
			    "<span class=\"badge badge-neutral\"><span "
			    "class=\"visually-hidden\">Statut : </span>%s</span> <span "
			    "class=\"%s\"><span class=\"visually-hidden\">Avancement : </span>"
			    "%s</span></span>",
			    nd->number, nd->title, dash_status_label(nd->status), badge_class(nd),
			    fiche_level_label(nd));
			pilots_write(o, &pl, nd->id);
			buf_puts(o, "</li>");
		}
		if (shown)
			buf_puts(o, "</ul>");
		else
			buf_puts(o, "<p>Aucune action publiée ici pour l'instant.</p>");
		total += (size_t)shown;
		free(order);
		pilots_free(&pl);
		buf_puts(o, "</section>\n");
		dash_plan_free(&p);
	}
	if (np)
		html_printf(o,
		            "<p class=\"hint\">%zu action%R. Les actions sans commune précisée "
		            "concernent tout le territoire de leur plan.</p>",
		            total, total > 1 ? "s" : "");
	free(plans);
	free(title);
	free(name);
	free(epci_name);
	page_end(r);
}

const struct route portal_routes[] = {
    {M_GET, "/public/plans/{plan}", ACC_PUBLIC, public_plan,
     "Portail public : un plan publié, son arborescence et l'avancement de ses actions"},
    {M_GET, "/public/communes/{code}", ACC_PUBLIC, public_commune,
     "Portail public : ce qui se fait dans une commune (plans publiés)"},
    {0},
};
