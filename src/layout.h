/* layout: the page shell shared by every HTML page (head, header, navigation, footer). */
#ifndef MAILLAGE_LAYOUT_H
#define MAILLAGE_LAYOUT_H

#include "http.h"

/* One breadcrumb: a label and a link (NULL href for the current page). */
struct crumb {
	const char *label;
	const char *href;
};

/*
 * Start a page into r->out: doctype, head, site header with plan switcher and navigation,
 * breadcrumbs (crumbs is an array ended by a {NULL, NULL} entry, or NULL for none: "Accueil"
 * is always first), then opens <main>. `title` is plain text.
 */
void page_begin(struct req *r, const char *title, const struct crumb *crumbs);
/* Close <main>, write the footer, and send the page with status 200. */
void page_end(struct req *r);
/* Write a hidden CSRF input for a form. */
void page_csrf(struct req *r);
/* A flash message from the query (?ok=... codes mapped to French text), if any. */
void page_notice(struct req *r, const char *kind, const char *message);

/* The URL of an embedded asset with its content version ("/static/style.css?v=1a2b…"). */
const char *asset_url(const char *name);

#endif
