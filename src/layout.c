/* layout: page shell, navigation and static assets served from the binary. */
#include "layout.h"

#include "db.h"
#include "embed.h"
#include "notifications.h"
#include "plans.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- static assets ------------------------------------------------------------------------ */

struct asset_version {
	const char *name;
	char url[160];
	char etag[24];
};

static struct asset_version versions[32];
static size_t nversions;
static pthread_once_t versions_once = PTHREAD_ONCE_INIT;

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void versions_init(void)
{
	for (size_t i = 0; i < embed_count && nversions < 32; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->name, "assets/", 7) != 0)
			continue;
		struct asset_version *v = &versions[nversions++];
		v->name = f->name + 7;
		uint64_t h = fnv1a(f->data, f->size);
		snprintf(v->etag, sizeof v->etag, "\"%016llx\"", (unsigned long long)h);
		snprintf(v->url, sizeof v->url, "/static/%s?v=%.8llx", v->name,
		         (unsigned long long)(h >> 32));
	}
}

static const struct asset_version *asset_version(const char *name)
{
	pthread_once(&versions_once, versions_init);
	for (size_t i = 0; i < nversions; i++)
		if (!strcmp(versions[i].name, name))
			return &versions[i];
	return NULL;
}

const char *asset_url(const char *name)
{
	const struct asset_version *v = asset_version(name);
	return v ? v->url : "/static/missing";
}

static const char *asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".json"))
		return "application/json; charset=utf-8";
	if (!strcmp(dot, ".png"))
		return "image/png";
	return "application/octet-stream";
}

/*
 * Serve an embedded file under /static/. With the content version in the query (?v=…) it is
 * cached for a year as immutable; without, for an hour. ETag answers conditional requests.
 */
static void asset_get(struct req *r)
{
	const struct asset_version *v = asset_version(r->params[0]);
	char path[200];
	snprintf(path, sizeof path, "assets/%s", r->params[0]);
	const struct embed_file *f = v ? embed_find(path) : NULL;
	if (!f) {
		resp_error(r, 404, "Ce fichier n'existe pas.");
		return;
	}
	resp_header(r, "ETag", v->etag);
	resp_header(r, "Cache-Control",
	            req_query(r, "v") ? "public, max-age=31536000, immutable"
	                              : "public, max-age=3600");
	const char *inm = req_header(r, "If-None-Match");
	if (inm && !strcmp(inm, v->etag)) {
		resp_send(r, 304, asset_type(path));
		return;
	}
	buf_append(&r->out, f->data, f->size);
	resp_send(r, 200, asset_type(path));
}

static void favicon_get(struct req *r)
{
	resp_redirect(r, asset_url("favicon.svg"));
}

const struct route asset_routes[] = {
    {M_GET, "/static/{*}", ACC_PUBLIC, asset_get, "Fichiers statiques (CSS, JS, icônes)"},
    {M_GET, "/favicon.ico", ACC_PUBLIC, favicon_get, "Icône du site (renvoie vers le SVG)"},
    {0},
};

/* --- page shell ------------------------------------------------------------------------------ */

static int starts(const char *path, const char *prefix)
{
	return !strncmp(path, prefix, strlen(prefix));
}

static void nav_link(struct req *r, const char *href, const char *label, int current)
{
	html_printf(&r->out, "<li><a href=\"%s\"%R>%s</a></li>", href,
	            current ? " aria-current=\"page\"" : "", label);
}

static void plan_switcher(struct req *r)
{
	if (!r->db)
		return;
	/* At most SWITCHER_MAX plans, then a link to the list: a national instance has more than a
	 * thousand, and this runs on every page. */
	enum { SWITCHER_MAX = 20 };
	struct db_stmt *st =
	    db_prepare(r->db, "SELECT p.id, p.title FROM plans p WHERE " PLAN_VISIBLE_WHERE
	                      " ORDER BY p.title, p.id LIMIT 21");
	if (!st)
		return;
	plan_bind_visible(st, 1, r);
	int n = 0;
	while (db_step(st) == DB_ROW) {
		if (n == SWITCHER_MAX) {
			buf_puts(&r->out, "<li><a href=\"/\">Tous les plans…</a></li>");
			break;
		}
		if (n++ == 0)
			buf_puts(&r->out, "<details class=\"plan-switcher\"><summary>Changer de "
			                  "plan</summary><ul>");
		char href[48];
		snprintf(href, sizeof href, "/plans/%lld", (long long)db_col_int64(st, 0));
		html_printf(&r->out, "<li><a href=\"%s\"%R>%s</a></li>", href,
		            r->path && !strcmp(r->path, href) ? " aria-current=\"page\"" : "",
		            db_col_text(st, 1));
	}
	if (n)
		buf_puts(&r->out, "</ul></details>");
	db_finalize(st);
}

void page_begin(struct req *r, const char *title, const struct crumb *crumbs)
{
	buf_reset(&r->out);
	html_printf(&r->out,
	            "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<title>%s · maillage</title>\n"
	            "<link rel=\"stylesheet\" href=\"%s\">\n"
	            "<link rel=\"icon\" href=\"%s\" type=\"image/svg+xml\">\n"
	            "<script src=\"%s\" defer></script>\n</head>\n<body>\n"
	            "<a class=\"skip-link\" href=\"#contenu\">Aller au contenu</a>\n"
	            "<header class=\"site-header\">\n<div class=\"wrap header-row\">\n"
	            "<a class=\"brand\" href=\"/\"><img src=\"%s\" alt=\"\" width=\"28\" "
	            "height=\"28\"> maillage</a>\n",
	            title, asset_url("style.css"), asset_url("favicon.svg"), asset_url("app.js"),
	            asset_url("favicon.svg"));
	plan_switcher(r);
	buf_puts(&r->out, "<nav class=\"main-nav\" aria-label=\"Navigation principale\"><ul>");
	const char *p = r->path ? r->path : "";
	nav_link(r, "/", "Plans", !strcmp(p, "/") || starts(p, "/plans"));
	nav_link(r, "/territoire", "Territoire",
	         starts(p, "/territoire") || starts(p, "/communes") || starts(p, "/epcis"));
	nav_link(r, "/acteurs", "Acteurs", starts(p, "/acteurs"));
	nav_link(r, "/indicateurs", "Indicateurs", starts(p, "/indicateurs"));
	nav_link(r, "/besoins", "Besoins", starts(p, "/besoins"));
	if (r->user)
		nav_link(r, "/mes-actions", "Mes actions", starts(p, "/mes-actions"));
	buf_puts(&r->out, "</ul></nav>\n<form class=\"site-search\" method=\"get\" "
	                  "action=\"/recherche\" role=\"search\"><label for=\"site-q\" "
	                  "class=\"visually-hidden\">Rechercher</label><input id=\"site-q\" "
	                  "name=\"q\" type=\"search\" maxlength=\"200\" "
	                  "placeholder=\"Rechercher…\"><button type=\"submit\" class=\"button "
	                  "small\">Rechercher</button></form>\n<div class=\"account\">");
	if (r->user) {
		notifications_bell(r);
		html_printf(&r->out, "<a href=\"/compte\"%R>%s</a>",
		            starts(p, "/compte") ? " aria-current=\"page\"" : "", r->user->name);
		if (r->user->role == ROLE_ADMIN)
			html_printf(&r->out,
			            " <a href=\"/admin/utilisateurs\"%R>Administration</a>",
			            starts(p, "/admin") ? " aria-current=\"page\"" : "");
		html_printf(&r->out,
		            " <form method=\"post\" action=\"/deconnexion\" class=\"inline\">"
		            "<input type=\"hidden\" name=\"_csrf\" value=\"%s\">"
		            "<button type=\"submit\" class=\"link\">Se déconnecter</button></form>",
		            r->csrf);
	} else {
		buf_puts(&r->out, "<a href=\"/connexion\">Se connecter</a>");
	}
	buf_puts(&r->out, "</div>\n</div>\n</header>\n");
	buf_puts(&r->out, "<nav class=\"crumbs wrap\" aria-label=\"Fil d'Ariane\"><ol>");
	if (strcmp(p, "/") != 0) {
		buf_puts(&r->out, "<li><a href=\"/\">Accueil</a></li>");
		for (const struct crumb *c = crumbs; c && c->label; c++)
			html_printf(&r->out, "<li><a href=\"%s\">%s</a></li>", c->href, c->label);
		html_printf(&r->out, "<li aria-current=\"page\">%s</li>", title);
	} else {
		buf_puts(&r->out, "<li aria-current=\"page\">Accueil</li>");
	}
	buf_puts(&r->out, "</ol></nav>\n<main id=\"contenu\" class=\"wrap\" tabindex=\"-1\">\n");
}

void page_end(struct req *r)
{
	buf_puts(&r->out,
	         "</main>\n<footer class=\"site-footer\">\n<div class=\"wrap\">\n"
	         "<p><strong>maillage</strong> — suivi et animation des projets sociaux de "
	         "territoire.</p>\n"
	         "<p>Données géographiques : INSEE, Code officiel géographique, via "
	         "<code>@etalab/decoupage-administratif</code> (Licence Ouverte / Open Licence "
	         "Etalab) ; coordonnées des communes : GeoNames (CC BY 4.0).</p>\n"
	         "<p><a href=\"/a-propos\">À propos et licences</a> · "
	         "<a href=\"/api/v1/openapi.json\">API JSON (OpenAPI)</a></p>\n"
	         "</div>\n</footer>\n</body>\n</html>\n");
	resp_send(r, 200, "text/html; charset=utf-8");
}

void page_csrf(struct req *r)
{
	html_printf(&r->out, "<input type=\"hidden\" name=\"_csrf\" value=\"%s\">", r->csrf);
}

void page_notice(struct req *r, const char *kind, const char *message)
{
	html_printf(&r->out, "<p class=\"notice notice-%s\" role=\"%s\">%s</p>\n", kind,
	            !strcmp(kind, "error") ? "alert" : "status", message);
}
