/* synthesis: the "lecture consolidée" of a territory (seed 002) — population, offer, coverage,
 * accessibility, needs, actors and plans of an EPCI, a département or a commune, on one
 * printable page: /territoire/synthese. */
#include "access_cli.h"
#include "actors.h"
#include "db.h"
#include "http.h"
#include "layout.h"
#include "map.h"
#include "offer.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The chosen territory. `scope` is "epci", "departement" or "commune" (static), `code` borrowed
 * from the query, `name` malloc'ed. */
struct territory {
	const char *scope;
	const char *code;
	char *name;
};

/* The communes of the territory, as a condition on `c` (communes) bound by bind_terr. */
#define IN_TERRITORY                                                                               \
	"((? = 'epci' AND c.epci = ?) OR (? = 'departement' AND c.departement = ?) OR "            \
	"(? = 'commune' AND c.code = ?))"

static void bind_terr(struct db_stmt *st, int first, const struct territory *t)
{
	for (int i = 0; i < 3; i++) {
		db_bind_text(st, first + 2 * i, t->scope);
		db_bind_text(st, first + 2 * i + 1, t->code);
	}
}

static struct db_stmt *query_terr(struct db *db, const char *sql, const struct territory *t)
{
	struct db_stmt *st = db_prepare(db, sql);
	if (st)
		bind_terr(st, 1, t);
	return st;
}

static int code_ok(const char *s, size_t min, size_t max, int letters)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (letters && (s[i] == 'A' || s[i] == 'B'))))
			return 0;
	return 1;
}

/* Resolve the query into *t: 0, or answers 400/404 itself and returns -1. */
static int territory_from_query(struct req *r, struct territory *t)
{
	const char *epci = req_query(r, "epci"), *dep = req_query(r, "departement"),
	           *com = req_query(r, "commune");
	memset(t, 0, sizeof *t);
	const char *sql = NULL;
	if (epci && !str_blank(epci)) {
		if (!code_ok(epci, 9, 9, 0)) {
			resp_error(r, 400,
			           "Code d'intercommunalité mal formé : un SIREN a 9 chiffres.");
			return -1;
		}
		t->scope = "epci";
		t->code = epci;
		sql = "SELECT e.name FROM epcis e WHERE e.code = ? AND EXISTS (SELECT 1 FROM "
		      "communes c WHERE c.epci = e.code)";
	} else if (dep && !str_blank(dep)) {
		if (!code_ok(dep, 2, 3, 1)) {
			resp_error(r, 400, "Code de département mal formé.");
			return -1;
		}
		t->scope = "departement";
		t->code = dep;
		sql =
		    "SELECT d.name FROM departements d WHERE d.code = ? AND EXISTS (SELECT 1 FROM "
		    "communes c WHERE c.departement = d.code)";
	} else if (com && !str_blank(com)) {
		if (!code_ok(com, 5, 5, 1)) {
			resp_error(r, 400,
			           "Code de commune mal formé : un code INSEE a 5 caractères.");
			return -1;
		}
		t->scope = "commune";
		t->code = com;
		sql = "SELECT name FROM communes WHERE code = ?";
	} else {
		resp_error(r, 400,
		           "Indiquez un territoire : epci=SIREN, departement=CODE ou commune=CODE "
		           "INSEE.");
		return -1;
	}
	struct db_stmt *st = db_queryf(r->db, sql, "s", t->code);
	if (st && db_step(st) == DB_ROW)
		t->name = xstrdup(db_col_text(st, 0) ? db_col_text(st, 0) : "");
	db_finalize(st);
	if (!t->name) {
		resp_error(r, 404, "Ce territoire n'existe pas dans la base.");
		return -1;
	}
	return 0;
}

/* The communes of the territory, by name. */
struct commune_row {
	char *code, *name;
	double population;
};

static size_t load_communes(struct db *db, const struct territory *t, struct commune_row **out)
{
	struct db_stmt *st =
	    query_terr(db,
	               "SELECT c.code, c.name, COALESCE(c.population, 0) FROM "
	               "communes c WHERE " IN_TERRITORY " ORDER BY c.search_name, c.code",
	               t);
	size_t n = 0, cap = 0;
	*out = NULL;
	while (st && db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[n].code = xstrdup(db_col_text(st, 0));
		(*out)[n].name = xstrdup(db_col_text(st, 1) ? db_col_text(st, 1) : "");
		(*out)[n].population = db_col_double(st, 2);
		n++;
	}
	db_finalize(st);
	return n;
}

static void communes_free(struct commune_row *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].code);
		free(c[i].name);
	}
	free(c);
}

/* ---- Sections ------------------------------------------------------------------------------ */

static void section_population(struct req *r, const struct territory *t)
{
	double values[OFFER_NBANDS] = {0};
	const char *labels[OFFER_NBANDS];
	char label_store[OFFER_NBANDS][16];
	int any = 0, demo = 0;
	struct db_stmt *st = query_terr(
	    r->db,
	    "SELECT b.band, SUM(b.population), MAX(CASE WHEN b.source LIKE 'demo%' THEN 1 ELSE 0 "
	    "END) FROM population_bands b JOIN communes c ON c.code = b.commune WHERE " IN_TERRITORY
	    " GROUP BY b.band",
	    t);
	while (st && db_step(st) == DB_ROW) {
		const char *band = db_col_text(st, 0);
		for (int i = 0; band && i < OFFER_NBANDS; i++)
			if (!strcmp(OFFER_BANDS[i], band)) {
				values[i] = db_col_double(st, 1);
				any = 1;
			}
		demo |= db_col_int64(st, 2) != 0;
	}
	db_finalize(st);
	buf_puts(&r->out, "<section aria-labelledby=\"s-pop\">\n<h2 id=\"s-pop\">Population et "
	                  "structure par âge</h2>\n");
	if (!any) {
		buf_puts(&r->out,
		         "<p>Aucune population par tranche d'âge n'est enregistrée pour ce "
		         "territoire.</p>\n</section>\n");
		return;
	}
	for (int i = 0; i < OFFER_NBANDS; i++) {
		snprintf(label_store[i], sizeof label_store[i], "%s ans", OFFER_BANDS[i]);
		labels[i] = label_store[i];
	}
	struct svg_bar c = {"pop",
	                    "Population par tranche d'âge",
	                    "Nombre d'habitants de chaque tranche d'âge sur le territoire.",
	                    labels,
	                    values,
	                    OFFER_NBANDS,
	                    NULL,
	                    0,
	                    "Tranche d'âge",
	                    "Habitants"};
	svg_figure_bar(&r->out, &c, 0);
	if (demo)
		buf_puts(&r->out, "<p class=\"hint\">Population par âge de démonstration, dérivée "
		                  "de la population réelle des communes.</p>\n");
	buf_puts(&r->out, "</section>\n");
}

static void section_offer(struct req *r, const struct territory *t)
{
	buf_puts(&r->out, "<section aria-labelledby=\"s-offre\">\n<h2 id=\"s-offre\">Offre de "
	                  "services</h2>\n");
	struct db_stmt *st = query_terr(r->db,
	                                "SELECT s.kind, COUNT(*), SUM(s.capacity) FROM services s "
	                                "JOIN communes c ON c.code = s.commune WHERE " IN_TERRITORY
	                                " GROUP BY s.kind ORDER BY s.kind",
	                                t);
	size_t n = 0;
	char *kinds[16];
	double counts[16], places[16];
	while (st && db_step(st) == DB_ROW && n < 16) {
		kinds[n] = xstrdup(db_col_text(st, 0) ? db_col_text(st, 0) : "");
		counts[n] = db_col_double(st, 1);
		places[n] = db_col_double(st, 2);
		n++;
	}
	db_finalize(st);
	if (!n) {
		buf_puts(&r->out, "<p>Aucun service n'est enregistré sur ce territoire.</p>\n");
	} else {
		const char *labels[16];
		for (size_t i = 0; i < n; i++)
			labels[i] = offer_kind_label(kinds[i]);
		struct svg_bar c = {"offre",
		                    "Places par type de service",
		                    "Capacité totale (places) des services de chaque type.",
		                    labels,
		                    places,
		                    n,
		                    "places",
		                    0,
		                    "Type de service",
		                    "Places"};
		svg_figure_bar(&r->out, &c, 0);
		buf_puts(&r->out,
		         "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Services par "
		         "type</caption>\n<thead><tr><th scope=\"col\">Type</th><th "
		         "scope=\"col\">Services</th><th scope=\"col\">Places</th></tr></thead>\n"
		         "<tbody>\n");
		for (size_t i = 0; i < n; i++) {
			html_printf(&r->out, "<tr><th scope=\"row\">%s</th><td>", labels[i]);
			offer_fr_number(&r->out, counts[i], 0);
			buf_puts(&r->out, "</td><td>");
			offer_fr_number(&r->out, places[i], 0);
			buf_puts(&r->out, "</td></tr>\n");
		}
		buf_puts(&r->out, "</tbody></table></div>\n");
	}
	for (size_t i = 0; i < n; i++)
		free(kinds[i]);
	html_printf(&r->out, "<p><a href=\"/services\">Tous les services</a></p>\n</section>\n");
}

static void section_coverage(struct req *r, const struct territory *t,
                             const struct commune_row *com, size_t ncom)
{
	double places = 0, pop = 0;
	buf_puts(
	    &r->out,
	    "<section aria-labelledby=\"s-couv\">\n<h2 id=\"s-couv\">Accueil du jeune enfant : "
	    "taux de couverture</h2>\n");
	char num[48], thr[48];
	svg_number(thr, OFFER_DEFAULT_THRESHOLD, 0);
	if (!coverage_rate(r->db, "EAJE", "0-2", t->scope, t->code, &places, &pop)) {
		buf_puts(&r->out, "<dl class=\"facts\"><div><dt>Places en EAJE</dt><dd>");
		offer_fr_number(&r->out, places, 0);
		buf_puts(&r->out, "</dd></div><div><dt>Enfants de moins de 3 ans</dt><dd>");
		offer_fr_number(&r->out, pop, 0);
		buf_puts(&r->out, "</dd></div><div><dt>Taux de couverture</dt><dd>");
		if (pop > 0) {
			svg_number(num, 100 * places / pop, 1);
			html_printf(&r->out, "%s places pour 100 enfants", num);
		} else
			buf_puts(&r->out, "non calculable (aucun enfant recensé)");
		buf_puts(&r->out, "</dd></div></dl>\n");
	}
	double *rates = xcalloc(ncom ? ncom : 1, sizeof *rates);
	const char **labels = xcalloc(ncom ? ncom : 1, sizeof *labels);
	size_t nbelow = 0;
	for (size_t i = 0; i < ncom; i++) {
		double pl = 0, po = 0;
		rates[i] = NAN;
		if (!coverage_rate(r->db, "EAJE", "0-2", "commune", com[i].code, &pl, &po) &&
		    po > 0)
			rates[i] = 100 * pl / po;
		labels[i] = com[i].name;
		if (!(rates[i] >= OFFER_DEFAULT_THRESHOLD))
			nbelow++;
	}
	if (ncom && ncom <= 60) {
		double *vals = xcalloc(ncom, sizeof *vals);
		for (size_t i = 0; i < ncom; i++)
			vals[i] = isnan(rates[i]) ? 0 : rates[i];
		struct svg_bar c = {"couv",
		                    "Taux de couverture EAJE par commune",
		                    "Places en établissement d'accueil du jeune enfant pour 100 "
		                    "enfants de moins de 3 ans, par commune.",
		                    labels,
		                    vals,
		                    ncom,
		                    "pour 100",
		                    1,
		                    "Commune",
		                    "Places pour 100 enfants"};
		svg_figure_bar(&r->out, &c, 1);
		free(vals);
	}
	if (strcmp(t->scope, "commune")) {
		struct map_options mo = {0};
		mo.layer = MAP_LAYER_COVERAGE;
		mo.service_kind = "EAJE";
		mo.id = "carte-couv";
		mo.title = "Taux de couverture EAJE par commune";
		if (!strcmp(t->scope, "epci"))
			mo.epci = t->code;
		else
			mo.departement = t->code;
		struct map_data md;
		if (!map_load(r->db, &mo, &md)) {
			buf_puts(&r->out, "<figure class=\"map\">\n");
			map_svg(&r->out, &md, &mo);
			html_printf(&r->out, "<figcaption>%s</figcaption>\n</figure>\n", mo.title);
			map_data_free(&md);
		}
	}
	html_printf(&r->out,
	            "<h3>Communes sous le seuil de %s places pour 100 enfants (%zu)</h3>\n", thr,
	            nbelow);
	buf_puts(
	    &r->out,
	    "<div class=\"table-wrap\" tabindex=\"0\"><table class=\"coverage\">\n<caption>Taux "
	    "de couverture EAJE (0-2 ans) par commune</caption>\n<thead><tr><th "
	    "scope=\"col\">Commune</th><th scope=\"col\">Taux (places pour 100 "
	    "enfants)</th><th scope=\"col\">Situation</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < ncom; i++) {
		int below = !(rates[i] >= OFFER_DEFAULT_THRESHOLD);
		html_printf(&r->out,
		            "<tr%R><th scope=\"row\"><a href=\"/communes/%u\">%s</a></th><td>",
		            below ? " class=\"uncovered\"" : "", com[i].code, com[i].name);
		offer_fr_number(&r->out, rates[i], 1);
		html_printf(&r->out, "</td><td>%R</td></tr>\n",
		            isnan(rates[i]) ? "<span class=\"badge\">sans enfant recensé</span>"
		            : below         ? "<span class=\"badge\">sous le seuil</span>"
		                            : "au-dessus du seuil");
	}
	buf_puts(&r->out, "</tbody></table></div>\n");
	html_printf(&r->out,
	            "<p><a href=\"/territoire/couverture?service=EAJE&amp;tranche=0-2\">Autres "
	            "taux de couverture</a></p>\n</section>\n");
	free(rates);
	free(labels);
}

static int acc_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct access_commune *)elem)->code);
}

static void section_access(struct req *r, const struct territory *t, const struct commune_row *com,
                           size_t ncom)
{
	buf_puts(&r->out, "<section aria-labelledby=\"s-acc\">\n<h2 id=\"s-acc\">Accessibilité "
	                  "aux EAJE à 20 minutes</h2>\n");
	struct access_params p;
	access_params_default(&p);
	p.max_minutes = 20;
	struct access_table tab;
	char *err = NULL;
	if (access_table_compute(r->db, "EAJE", "0-2", &p, NULL, 0, NULL, &tab, &err)) {
		html_printf(&r->out,
		            "<p class=\"notice error\">Calcul impossible : %s</p>\n</section>\n",
		            err ? err : "");
		free(err);
		return;
	}
	buf_puts(
	    &r->out,
	    "<p>Places d'EAJE accessibles pour 100 enfants de moins de 3 ans (méthode à deux "
	    "étapes, « 2SFCA », décroissance gaussienne, au plus 20 minutes de trajet estimé). "
	    "Une commune « non couverte » n'a aucun EAJE à moins de 20 minutes.</p>\n");
	struct map_options mo = {0};
	mo.layer = MAP_LAYER_ACCESSIBILITY;
	mo.service_kind = "EAJE";
	mo.id = "carte-acc";
	mo.title = "Accessibilité aux EAJE à 20 minutes, par commune";
	if (!strcmp(t->scope, "epci"))
		mo.epci = t->code;
	else if (!strcmp(t->scope, "departement"))
		mo.departement = t->code;
	struct map_data md;
	if (strcmp(t->scope, "commune") && !map_load(r->db, &mo, &md)) {
		buf_puts(&r->out, "<figure class=\"map\">\n");
		map_svg(&r->out, &md, &mo);
		html_printf(&r->out, "<figcaption>%s</figcaption>\n</figure>\n", mo.title);
		map_data_free(&md);
	}
	struct buf rows = {0};
	size_t nunc = 0;
	for (size_t i = 0; i < ncom; i++) {
		const struct access_commune *a =
		    bsearch(com[i].code, tab.communes, tab.n, sizeof *tab.communes, acc_cmp);
		int unc = !a || !a->computed || a->row.uncovered;
		nunc += unc;
		html_printf(&rows, "<tr%R><th scope=\"row\">%s", unc ? " class=\"uncovered\"" : "",
		            com[i].name);
		if (unc)
			buf_puts(&rows, " <span class=\"badge\">non couverte</span>");
		if (a && a->placed)
			buf_puts(&rows, " <span class=\"badge\">position estimée</span>");
		buf_puts(&rows, "</th><td>");
		offer_fr_number(&rows,
		                a && a->computed ? access_per_100(a->row.accessibility) : NAN, 1);
		html_printf(&rows, "</td><td>%lld</td><td>",
		            (long long)(a && a->computed ? a->row.reachable : 0));
		offer_fr_number(&rows, a && a->computed ? a->row.nearest_minutes : NAN, 0);
		buf_puts(&rows, "</td></tr>\n");
	}
	html_printf(&r->out, "<h3>Communes non couvertes (%zu)</h3>\n", nunc);
	if (nunc) {
		buf_puts(&r->out, "<ul class=\"uncovered-list\">");
		for (size_t i = 0; i < ncom; i++) {
			const struct access_commune *a = bsearch(com[i].code, tab.communes, tab.n,
			                                         sizeof *tab.communes, acc_cmp);
			if (!a || !a->computed || a->row.uncovered)
				html_printf(&r->out, "<li>%s</li>", com[i].name);
		}
		buf_puts(&r->out, "</ul>\n");
	} else
		buf_puts(&r->out, "<p>Toutes les communes ont au moins un EAJE à moins de 20 "
		                  "minutes.</p>\n");
	html_printf(
	    &r->out,
	    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Accessibilité aux "
	    "EAJE par commune (20 minutes)</caption>\n<thead><tr><th "
	    "scope=\"col\">Commune</th><th scope=\"col\">Places accessibles pour "
	    "100</th><th scope=\"col\">EAJE à moins de 20 min</th><th scope=\"col\">EAJE le "
	    "plus proche (min)</th></tr></thead>\n<tbody>\n%R</tbody></table></div>\n",
	    buf_str(&rows));
	buf_free(&rows);
	access_table_free(&tab);
	html_printf(&r->out,
	            "<p><a href=\"/territoire/accessibilite?service=EAJE&amp;tranche=0-2&amp;"
	            "minutes=20%R%s\">Détail du calcul d'accessibilité</a></p>\n</section>\n",
	            !strcmp(t->scope, "epci")          ? "&amp;epci="
	            : !strcmp(t->scope, "departement") ? "&amp;departement="
	                                               : "",
	            !strcmp(t->scope, "commune") ? "" : t->code);
}

static const char *status_label(const char *s)
{
	static const char *const t[][2] = {{"identifie", "Identifié"},
	                                   {"qualifie", "Qualifié"},
	                                   {"priorise", "Priorisé"},
	                                   {"couvert", "Couvert"},
	                                   {"abandonne", "Abandonné"}};
	for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
		if (!strcmp(t[i][0], s))
			return t[i][1];
	return s ? s : "";
}

static const char *priority_label(int64_t p)
{
	return p == 1 ? "haute" : p == 3 ? "basse" : "moyenne";
}

/* Needs by thematic: published needs of the territory, and those not covered. */
static void needs_by_thematic(struct req *r, const struct territory *t)
{
	struct db_stmt *st = query_terr(
	    r->db,
	    "SELECT COALESCE(g.label, ''), COUNT(*), SUM(CASE WHEN n.status NOT IN ('couvert', "
	    "'abandonne') AND NOT EXISTS (SELECT 1 FROM need_fiches nf WHERE nf.need_id = n.id) "
	    "THEN 1 ELSE 0 END) FROM needs n LEFT JOIN tags g ON g.id = n.thematic_tag_id WHERE "
	    "n.moderation = 'publie' AND EXISTS (SELECT 1 FROM need_communes nc JOIN communes c ON "
	    "c.code = nc.commune WHERE nc.need_id = n.id AND " IN_TERRITORY
	    ") GROUP BY g.label ORDER BY COUNT(*) DESC, g.label",
	    t);
	buf_puts(&r->out, "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Besoins "
	                  "par thématique</caption>\n<thead><tr><th scope=\"col\">Thématique</th>"
	                  "<th scope=\"col\">Besoins</th><th scope=\"col\">Dont non "
	                  "couverts</th></tr></thead>\n<tbody>\n");
	while (st && db_step(st) == DB_ROW) {
		const char *label = db_col_text(st, 0);
		int64_t unc = db_col_int64(st, 2);
		html_printf(
		    &r->out, "<tr%R><th scope=\"row\">%s</th><td>%lld</td><td>%lld</td></tr>\n",
		    unc ? " class=\"uncovered\"" : "", label && *label ? label : "sans thématique",
		    (long long)db_col_int64(st, 1), (long long)unc);
	}
	db_finalize(st);
	buf_puts(&r->out, "</tbody></table></div>\n");
}

static void section_needs(struct req *r, const struct territory *t)
{
	buf_puts(&r->out, "<section aria-labelledby=\"s-besoins\">\n<h2 id=\"s-besoins\">Besoins "
	                  "du territoire</h2>\n");
	static const char *const statuses[] = {"identifie", "qualifie", "priorise", "couvert",
	                                       "abandonne"};
	double counts[5] = {0};
	const char *labels[5];
	for (int i = 0; i < 5; i++)
		labels[i] = status_label(statuses[i]);
	struct db_stmt *st = query_terr(
	    r->db,
	    "SELECT n.id, n.title, n.status, n.priority, COALESCE(g.label, ''), (SELECT COUNT(*) "
	    "FROM need_fiches nf WHERE nf.need_id = n.id) FROM needs n LEFT JOIN tags g ON g.id = "
	    "n.thematic_tag_id WHERE n.moderation = 'publie' AND EXISTS (SELECT 1 FROM "
	    "need_communes "
	    "nc JOIN communes c ON c.code = nc.commune WHERE nc.need_id = n.id AND " IN_TERRITORY
	    ") ORDER BY n.priority, n.title, n.id",
	    t);
	struct buf rows = {0};
	size_t n = 0, nunc = 0;
	while (st && db_step(st) == DB_ROW) {
		const char *status = db_col_text(st, 2);
		for (int i = 0; status && i < 5; i++)
			if (!strcmp(statuses[i], status))
				counts[i]++;
		int64_t fiches = db_col_int64(st, 5);
		int unc = fiches == 0 && status && strcmp(status, "couvert") &&
		          strcmp(status, "abandonne");
		nunc += unc;
		n++;
		html_printf(
		    &rows,
		    "<tr%R><th scope=\"row\"><a href=\"/besoins/%lld\">%s</a></th><td>%s</td>"
		    "<td>%s</td><td>%s</td><td>",
		    unc ? " class=\"uncovered\"" : "", (long long)db_col_int64(st, 0),
		    db_col_text(st, 1), db_col_text(st, 4), status_label(status),
		    priority_label(db_col_int64(st, 3)));
		if (unc)
			buf_puts(&rows, "<strong class=\"badge\">non couvert</strong>");
		else
			html_printf(&rows, "%lld fiche%s", (long long)fiches,
			            fiches > 1 ? "s" : "");
		buf_puts(&rows, "</td></tr>\n");
	}
	db_finalize(st);
	if (!n) {
		buf_free(&rows);
		buf_puts(&r->out, "<p>Aucun besoin publié n'est rattaché aux communes de ce "
		                  "territoire.</p>\n</section>\n");
		return;
	}
	html_printf(&r->out,
	            "<p>%zu besoin%s publié%s rattaché%s aux communes du territoire, dont "
	            "<strong>%zu non couvert%s</strong> (sans fiche-action qui y réponde).</p>\n",
	            n, n > 1 ? "s" : "", n > 1 ? "s" : "", n > 1 ? "s" : "", nunc,
	            nunc > 1 ? "s" : "");
	struct svg_bar c = {"besoins",
	                    "Besoins par statut",
	                    "Nombre de besoins publiés du territoire dans chaque statut.",
	                    labels,
	                    counts,
	                    5,
	                    NULL,
	                    0,
	                    "Statut",
	                    "Besoins"};
	svg_figure_bar(&r->out, &c, 0);
	needs_by_thematic(r, t);
	html_printf(
	    &r->out,
	    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Besoins du territoire, "
	    "les non couverts signalés</caption>\n<thead><tr><th "
	    "scope=\"col\">Besoin</th><th scope=\"col\">Thématique</th><th "
	    "scope=\"col\">Statut</th><th scope=\"col\">Priorité</th><th "
	    "scope=\"col\">Réponse</th></tr></thead>\n<tbody>\n%R</tbody></table></div>\n"
	    "<p><a href=\"/besoins/non-couverts\">Tous les besoins non couverts</a></p>\n"
	    "</section>\n",
	    buf_str(&rows));
	buf_free(&rows);
}

static void section_actors(struct req *r, const struct territory *t)
{
	buf_puts(&r->out, "<section aria-labelledby=\"s-acteurs\">\n<h2 id=\"s-acteurs\">Acteurs "
	                  "présents</h2>\n");
	struct db_stmt *st = query_terr(r->db,
	                                "SELECT a.kind, COUNT(*) FROM actors a JOIN communes c ON "
	                                "c.code = a.commune WHERE " IN_TERRITORY
	                                " GROUP BY a.kind ORDER BY COUNT(*) DESC, a.kind",
	                                t);
	struct buf rows = {0};
	long long total = 0;
	while (st && db_step(st) == DB_ROW) {
		long long k = (long long)db_col_int64(st, 1);
		total += k;
		html_printf(&rows, "<tr><th scope=\"row\">%s</th><td>%lld</td></tr>\n",
		            actor_kind_label(db_col_text(st, 0)), k);
	}
	db_finalize(st);
	if (total)
		html_printf(
		    &r->out,
		    "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Acteurs par "
		    "type (%lld)</caption>\n<thead><tr><th scope=\"col\">Type</th><th "
		    "scope=\"col\">Acteurs</th></tr></thead>\n<tbody>\n%R</tbody></table>"
		    "</div>\n",
		    total, buf_str(&rows));
	else
		buf_puts(&r->out, "<p>Aucun acteur n'est enregistré sur ce territoire.</p>\n");
	buf_free(&rows);
	if (!strcmp(t->scope, "epci"))
		html_printf(
		    &r->out,
		    "<p><a href=\"/acteurs?epci=%u\">Annuaire des acteurs de ce "
		    "territoire</a> · <a href=\"/territoire/carte?epci=%u&amp;couche=acteurs\">"
		    "Carte des acteurs</a></p>\n",
		    t->code, t->code);
	else if (!strcmp(t->scope, "commune"))
		html_printf(&r->out,
		            "<p><a href=\"/acteurs?commune=%u\">Annuaire des acteurs de cette "
		            "commune</a></p>\n",
		            t->code);
	else
		html_printf(
		    &r->out,
		    "<p><a href=\"/territoire/carte?departement=%u&amp;couche=acteurs\">Carte "
		    "des acteurs</a></p>\n",
		    t->code);
	buf_puts(&r->out, "</section>\n");
}

static void section_plans(struct req *r, const struct territory *t)
{
	buf_puts(&r->out, "<section aria-labelledby=\"s-plans\">\n<h2 id=\"s-plans\">Plans qui "
	                  "couvrent ce territoire</h2>\n");
	struct db_stmt *st = db_prepare(
	    r->db,
	    "SELECT p.id, p.title, p.start_year, p.end_year FROM plans p WHERE " PLAN_VISIBLE_WHERE
	    " AND EXISTS (SELECT 1 FROM plan_territory pt JOIN communes c ON ((pt.scope = "
	    "'commune' AND pt.code = c.code) OR (pt.scope = 'epci' AND pt.code = c.epci) OR "
	    "(pt.scope = 'departement' AND pt.code = c.departement)) WHERE pt.plan_id = p.id "
	    "AND " IN_TERRITORY ") ORDER BY p.title, p.id");
	size_t n = 0;
	if (st) {
		plan_bind_visible(st, 1, r);
		bind_terr(st, 3, t);
		while (db_step(st) == DB_ROW) {
			if (!n++)
				buf_puts(&r->out, "<ul class=\"plans\">\n");
			html_printf(&r->out, "<li><a href=\"/plans/%lld\">%s</a>",
			            (long long)db_col_int64(st, 0), db_col_text(st, 1));
			if (!db_col_is_null(st, 2) && !db_col_is_null(st, 3))
				html_printf(&r->out, " (%lld–%lld)", (long long)db_col_int64(st, 2),
				            (long long)db_col_int64(st, 3));
			buf_puts(&r->out, "</li>\n");
		}
		db_finalize(st);
	}
	if (n)
		buf_puts(&r->out, "</ul>\n");
	else
		buf_puts(&r->out, "<p>Aucun plan visible ne couvre ce territoire.</p>\n");
	buf_puts(&r->out, "</section>\n");
}

static void synthesis_page(struct req *r)
{
	struct territory t;
	if (territory_from_query(r, &t))
		return;
	struct commune_row *com = NULL;
	size_t ncom = load_communes(r->db, &t, &com);
	double population = 0;
	for (size_t i = 0; i < ncom; i++)
		population += com[i].population;
	char *title = xasprintf("Lecture consolidée : %s", t.name);
	page_begin(r, title, (const struct crumb[]){{"Territoire", "/territoire"}, {NULL, NULL}});
	html_printf(&r->out,
	            "<h1>%s</h1>\n<p class=\"lead\">Ce que l'on sait du territoire, sur une page "
	            "imprimable : population, offre, couverture et accessibilité de l'accueil du "
	            "jeune enfant, besoins recensés, acteurs présents et plans qui le "
	            "couvrent.</p>\n",
	            title);
	const char *scope_label = !strcmp(t.scope, "epci")          ? "Intercommunalité"
	                          : !strcmp(t.scope, "departement") ? "Département"
	                                                            : "Commune";
	html_printf(&r->out,
	            "<dl class=\"facts\"><div><dt>%s</dt><dd>%s (%s)</dd></div><div><dt>Communes"
	            "</dt><dd>%zu</dd></div><div><dt>Population</dt><dd>",
	            scope_label, t.name, t.code, ncom);
	offer_fr_number(&r->out, population, 0);
	buf_puts(&r->out, " habitants</dd></div></dl>\n");
	section_population(r, &t);
	section_offer(r, &t);
	section_coverage(r, &t, com, ncom);
	section_access(r, &t, com, ncom);
	section_needs(r, &t);
	section_actors(r, &t);
	section_plans(r, &t);
	free(title);
	free(t.name);
	communes_free(com, ncom);
	page_end(r);
}

const struct route synthesis_routes[] = {
    {M_GET, "/territoire/synthese", ACC_PUBLIC, synthesis_page,
     "Lecture consolidée d'un territoire (epci, departement ou commune) : population, offre, "
     "couverture, accessibilité, besoins, acteurs et plans — imprimable"},
    {0},
};
