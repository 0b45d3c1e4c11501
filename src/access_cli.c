/* access_cli: the `maillage access` command and the accessibility page (2SFCA by commune). */
#include "access_cli.h"

#include "buf.h"
#include "csv_fr.h"
#include "db.h"
#include "http.h"
#include "layout.h"
#include "offer.h"
#include "util.h"

#include <errno.h>
#include <xlsxwriter.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A finite number > 0 with a decimal point or comma; -1 when not one. */
static int parse_positive(const char *s, double *out)
{
	char tmp[64];
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	for (size_t i = 0; i <= n; i++)
		tmp[i] = s[i] == ',' ? '.' : s[i];
	for (size_t i = 0; i < n; i++)
		if (!((tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == '.'))
			return -1;
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (*end || errno || !isfinite(v) || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* Fill params from the options; 0, or -1 with *err (usage error). */
static int params_from(const struct access_cli_opts *o, struct access_params *p, char **err)
{
	access_params_default(p);
	if (!o->max_minutes) {
		*err = xstrdup("indiquez le temps de trajet maximal avec --max-minutes M");
		return -1;
	}
	if (parse_positive(o->max_minutes, &p->max_minutes) || p->max_minutes > 1440) {
		*err =
		    xasprintf("--max-minutes attend un nombre de minutes positif (1440 au plus), "
		              "pas « %s »",
		              o->max_minutes);
		return -1;
	}
	if (o->decay) {
		char *e = NULL;
		if (access_decay_parse(o->decay, &p->decay, &e)) {
			*err = xasprintf("--decay : %s", e);
			free(e);
			return -1;
		}
	}
	if (o->detour && (parse_positive(o->detour, &p->detour) || p->detour > 10)) {
		*err = xasprintf("--detour attend un facteur de détour positif (10 au plus), pas "
		                 "« %s »",
		                 o->detour);
		return -1;
	}
	if (o->speed && (parse_positive(o->speed, &p->speed_kmh) || p->speed_kmh > 1000)) {
		*err =
		    xasprintf("--speed attend une vitesse en km/h positive, pas « %s »", o->speed);
		return -1;
	}
	char *e = NULL;
	if (access_decay_check(&p->decay, p->max_minutes, &e)) {
		*err = xasprintf("--decay : %s", e);
		free(e);
		return -1;
	}
	return 0;
}

int access_cli_check(const struct access_cli_opts *o)
{
	if (!o->service || !*o->service) {
		fprintf(stderr, "maillage access : indiquez le type de service avec --service "
		                "(EAJE, ALSH, LAEP, FRANCE_SERVICES…)\n");
		return 2;
	}
	if (!o->band || !*o->band) {
		fprintf(stderr,
		        "maillage access : indiquez la tranche d'âge avec --band (0-2, 3-5, "
		        "6-11, 12-17, 18-24, 25-59, 60-74 ou 75+)\n");
		return 2;
	}
	struct access_params p;
	char *err = NULL;
	if (params_from(o, &p, &err)) {
		fprintf(stderr, "maillage access : %s\n", err);
		free(err);
		return 2;
	}
	if (!offer_kind_valid(o->service)) {
		fprintf(stderr,
		        "maillage access : type de service inconnu « %s » (EAJE, MAM, ALSH, "
		        "LAEP, RPE, FRANCE_SERVICES, POINT_NUMERIQUE, CENTRE_SOCIAL, EVS ou "
		        "AUTRE)\n",
		        o->service);
		return 1;
	}
	if (!offer_band_valid(o->band)) {
		fprintf(stderr,
		        "maillage access : tranche d'âge inconnue « %s » (0-2, 3-5, 6-11, "
		        "12-17, 18-24, 25-59, 60-74 ou 75+)\n",
		        o->band);
		return 1;
	}
	return 0;
}

void access_table_free(struct access_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->communes[i].code);
		free(t->communes[i].name);
	}
	free(t->communes);
	memset(t, 0, sizeof *t);
}

struct supply_row {
	char *id, *commune;
	double lat, lon, capacity;
	int has_point;
};

int access_table_compute(struct db *db, const char *kind, const char *band,
                         const struct access_params *params, const char *od_csv, size_t od_len,
                         const char *od_name, struct access_table *out, char **err)
{
	memset(out, 0, sizeof *out);
	*err = NULL;
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT c.code, c.name, COALESCE(b.population, 0), c.latitude, c.longitude, "
	              "c.coordinates_placed FROM communes c LEFT JOIN population_bands b ON "
	              "b.commune = c.code AND b.band = ? ORDER BY c.code",
	              "s", band);
	if (!st) {
		*err = xasprintf("lecture des communes impossible : %s", db_errmsg(db));
		return -1;
	}
	size_t cap = 0;
	double *dlat = NULL, *dlon = NULL;
	while (db_step(st) == DB_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			out->communes = xrealloc(out->communes, cap * sizeof *out->communes);
			dlat = xrealloc(dlat, cap * sizeof *dlat);
			dlon = xrealloc(dlon, cap * sizeof *dlon);
		}
		struct access_commune *c = &out->communes[out->n];
		memset(c, 0, sizeof *c);
		c->code = xstrdup(db_col_text(st, 0));
		c->name = xstrdup(db_col_text(st, 1));
		c->population = db_col_double(st, 2);
		c->has_point = !db_col_is_null(st, 3) && !db_col_is_null(st, 4);
		dlat[out->n] = c->has_point ? db_col_double(st, 3) : 0;
		dlon[out->n] = c->has_point ? db_col_double(st, 4) : 0;
		c->placed = (int)db_col_int64(st, 5);
		c->row.nearest_minutes = NAN;
		out->n++;
	}
	db_finalize(st);

	struct supply_row *sup = NULL;
	size_t ns = 0, scap = 0;
	st = db_queryf(db,
	               "SELECT s.id, s.commune, COALESCE(s.latitude, c.latitude), "
	               "COALESCE(s.longitude, c.longitude), s.capacity FROM services s JOIN "
	               "communes c ON c.code = s.commune WHERE s.kind = ? ORDER BY s.id",
	               "s", kind);
	if (!st) {
		*err = xasprintf("lecture des services impossible : %s", db_errmsg(db));
		free(dlat);
		free(dlon);
		access_table_free(out);
		return -1;
	}
	while (db_step(st) == DB_ROW) {
		if (ns == scap) {
			scap = scap ? scap * 2 : 64;
			sup = xrealloc(sup, scap * sizeof *sup);
		}
		sup[ns].id = xasprintf("s:%lld", (long long)db_col_int64(st, 0));
		sup[ns].commune = xstrdup(db_col_text(st, 1));
		sup[ns].has_point = !db_col_is_null(st, 2) && !db_col_is_null(st, 3);
		sup[ns].lat = sup[ns].has_point ? db_col_double(st, 2) : 0;
		sup[ns].lon = sup[ns].has_point ? db_col_double(st, 3) : 0;
		sup[ns].capacity = db_col_double(st, 4);
		ns++;
	}
	db_finalize(st);

	int matrix = od_csv != NULL;
	/* The points that take part: all with a matrix, those with coordinates otherwise. */
	struct access_demand *dem = xcalloc(out->n ? out->n : 1, sizeof *dem);
	size_t *dmap = xcalloc(out->n ? out->n : 1, sizeof *dmap);
	size_t nd = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (!matrix && !out->communes[i].has_point)
			continue;
		dem[nd] = (struct access_demand){dlat[i], dlon[i], out->communes[i].population};
		dmap[nd++] = i;
	}
	struct access_supply *sp = xcalloc(ns ? ns : 1, sizeof *sp);
	const char **sids = xcalloc(ns ? ns : 1, sizeof *sids);
	const char **scomm = xcalloc(ns ? ns : 1, sizeof *scomm);
	size_t nsp = 0;
	for (size_t j = 0; j < ns; j++) {
		if (!matrix && !sup[j].has_point) {
			out->nsupply_skipped++;
			continue;
		}
		sp[nsp] = (struct access_supply){sup[j].lat, sup[j].lon, sup[j].capacity};
		sids[nsp] = sup[j].id;
		scomm[nsp] = sup[j].commune;
		out->capacity += sup[j].capacity;
		nsp++;
	}
	out->nsupply = nsp;
	int rc = 0;
	struct access_od od = {0};
	struct access_params p = *params;
	p.od = NULL;
	if (matrix) {
		const char **dcodes = xcalloc(nd ? nd : 1, sizeof *dcodes);
		for (size_t k = 0; k < nd; k++)
			dcodes[k] = out->communes[dmap[k]].code;
		struct access_od_keys keys = {dcodes, nd, sids, scomm, nsp};
		rc = access_od_parse_csv(od_csv, od_len, od_name, &keys, &od, err);
		free(dcodes);
		p.cost = ACCESS_COST_MATRIX;
		p.od = &od;
	} else {
		p.cost = ACCESS_COST_GREAT_CIRCLE;
	}
	struct access_result res = {0};
	if (rc == 0 && nd > 0)
		rc = access_2sfca_run(dem, nd, sp, nsp, &p, &res, err);
	if (rc == 0 && nd > 0) {
		for (size_t k = 0; k < nd; k++) {
			struct access_commune *c = &out->communes[dmap[k]];
			c->row = res.rows[k];
			c->computed = 1;
		}
	}
	access_result_free(&res);
	access_od_free(&od);
	for (size_t j = 0; j < ns; j++) {
		free(sup[j].id);
		free(sup[j].commune);
	}
	free(sup);
	free(sp);
	free(sids);
	free(scomm);
	free(dem);
	free(dmap);
	free(dlat);
	free(dlon);
	if (rc)
		access_table_free(out);
	return rc;
}

void access_table_csv(const struct access_table *t, struct buf *b)
{
	static const char *const head[] = {"code",
	                                   "nom",
	                                   "population_tranche",
	                                   "accessibilite_pour_100",
	                                   "offres_accessibles",
	                                   "minutes_offre_la_plus_proche",
	                                   "non_couverte",
	                                   "position_estimee"};
	struct csv_out w;
	csv_out_begin(&w, b);
	csv_out_header(&w, head, sizeof head / sizeof *head);
	for (size_t i = 0; i < t->n; i++) {
		const struct access_commune *c = &t->communes[i];
		csv_out_value(&w, c->code);
		csv_out_text(&w, c->name);
		csv_out_decimal(&w, c->population, 3);
		if (c->computed) {
			csv_out_decimal(&w, access_per_100(c->row.accessibility), 12);
			csv_out_int(&w, (long long)c->row.reachable);
			csv_out_decimal(&w, c->row.nearest_minutes, 3);
		} else {
			csv_out_empty(&w);
			csv_out_empty(&w);
			csv_out_empty(&w);
		}
		csv_out_value(&w, !c->computed || c->row.uncovered ? "oui" : "non");
		csv_out_value(&w, !c->has_point ? "sans position" : c->placed ? "oui" : "non");
		csv_out_row_end(&w);
	}
}

/* The table as an XLSX workbook written to `path` (numbers as numbers); 0 or -1 with *err. */
static int access_table_xlsx(const struct access_table *t, const char *path, char **err)
{
	lxw_workbook *wb = workbook_new(path);
	if (!wb) {
		*err = xasprintf("impossible de créer le classeur « %s »", path);
		return -1;
	}
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Accessibilité");
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	static const char *const head[] = {"code",
	                                   "nom",
	                                   "population_tranche",
	                                   "accessibilite_pour_100",
	                                   "offres_accessibles",
	                                   "minutes_offre_la_plus_proche",
	                                   "non_couverte",
	                                   "position_estimee"};
	for (int k = 0; k < 8; k++)
		worksheet_write_string(ws, 0, (lxw_col_t)k, head[k], bold);
	for (size_t i = 0; i < t->n; i++) {
		const struct access_commune *c = &t->communes[i];
		lxw_row_t row = (lxw_row_t)(i + 1);
		worksheet_write_string(ws, row, 0, c->code, NULL);
		worksheet_write_string(ws, row, 1, c->name, NULL);
		worksheet_write_number(ws, row, 2, c->population, NULL);
		if (c->computed) {
			worksheet_write_number(ws, row, 3, access_per_100(c->row.accessibility),
			                       NULL);
			worksheet_write_number(ws, row, 4, c->row.reachable, NULL);
			if (!isnan(c->row.nearest_minutes))
				worksheet_write_number(ws, row, 5, c->row.nearest_minutes, NULL);
		}
		worksheet_write_string(ws, row, 6, !c->computed || c->row.uncovered ? "oui" : "non",
		                       NULL);
		worksheet_write_string(ws, row, 7,
		                       !c->has_point ? "sans position"
		                       : c->placed   ? "oui"
		                                     : "non",
		                       NULL);
	}
	if (t->n)
		worksheet_autofilter(ws, 0, 0, (lxw_row_t)t->n, 7);
	lxw_error e = workbook_close(wb);
	if (e != LXW_NO_ERROR) {
		*err = xasprintf("écriture du classeur impossible : %s", lxw_strerror(e));
		return -1;
	}
	return 0;
}

/* The canonical specification of a decay in French words ("gaussian:30" → "gaussienne:30"),
 * malloc'ed (NULL when out of memory). */
static char *decay_fr(const struct access_decay *d)
{
	char *spec = access_decay_format(d);
	static const struct {
		const char *en, *fr;
	} words[] = {{"gaussian", "gaussienne"},
	             {"linear", "linéaire"},
	             {"step", "paliers"},
	             {"none", "aucune"}};
	for (size_t k = 0; spec && k < sizeof words / sizeof *words; k++) {
		size_t l = strlen(words[k].en);
		if (!strncmp(spec, words[k].en, l)) {
			char *fr = xasprintf("%s%s", words[k].fr, spec + l);
			free(spec);
			spec = fr;
			break;
		}
	}
	return spec;
}

static void print_summary(const struct access_table *tt, const struct access_cli_opts *o,
                          const struct access_params *pp)
{
	size_t uncovered = 0, nopoint = 0;
	double pop_unc = 0;
	for (size_t i = 0; i < tt->n; i++) {
		if (!tt->communes[i].computed || tt->communes[i].row.uncovered) {
			uncovered++;
			pop_unc += tt->communes[i].population;
		}
		if (!tt->communes[i].has_point)
			nopoint++;
	}
	char *spec = decay_fr(&pp->decay);
	fprintf(stderr,
	        "Accessibilité %s pour la tranche %s (%g minutes au plus, décroissance %s, %s) : "
	        "%zu communes, %zu non couvertes (%.0f habitants de la tranche), %zu offres "
	        "(%.0f places)%s.\n",
	        o->service, o->band, pp->max_minutes, spec ? spec : "?",
	        o->od ? "matrice de temps importée" : "distance à vol d'oiseau × détour / vitesse",
	        tt->n, uncovered, pop_unc, tt->nsupply, tt->capacity,
	        nopoint ? " ; des communes sans position sont comptées non couvertes" : "");
	free(spec);
	if (tt->nsupply_skipped)
		fprintf(stderr, "%zu offre%s sans position ignorée%s.\n", tt->nsupply_skipped,
		        tt->nsupply_skipped > 1 ? "s" : "", tt->nsupply_skipped > 1 ? "s" : "");
}

int access_cli_run(struct db *db, const struct access_cli_opts *o)
{
	struct access_params p;
	char *err = NULL;
	if (params_from(o, &p, &err)) {
		fprintf(stderr, "maillage access : %s\n", err);
		free(err);
		return 2;
	}
	char *od = NULL;
	size_t odlen = 0;
	if (o->od) {
		od = file_read_all(o->od, &odlen);
		if (!od) {
			fprintf(stderr, "maillage access : fichier illisible : %s\n", o->od);
			return 1;
		}
	}
	struct access_table t;
	int rc = access_table_compute(db, o->service, o->band, &p, od, odlen, o->od, &t, &err);
	free(od);
	if (rc) {
		fprintf(stderr, "maillage access : %s\n", err);
		free(err);
		return 1;
	}
	int to_stdout = !o->out || !strcmp(o->out, "-");
	size_t olen = o->out ? strlen(o->out) : 0;
	if (!to_stdout && olen > 5 && !strcasecmp(o->out + olen - 5, ".xlsx")) {
		if (access_table_xlsx(&t, o->out, &err)) {
			fprintf(stderr, "maillage access : %s\n", err);
			free(err);
			access_table_free(&t);
			return 1;
		}
		print_summary(&t, o, &p);
		fprintf(stderr, "Classeur écrit dans %s.\n", o->out);
		access_table_free(&t);
		return 0;
	}
	struct buf b = {0};
	access_table_csv(&t, &b);
	FILE *f = to_stdout ? stdout : fopen(o->out, "wb");
	if (!f) {
		fprintf(stderr, "maillage access : impossible d'écrire « %s »\n", o->out);
		buf_free(&b);
		access_table_free(&t);
		return 1;
	}
	int bad = fwrite(b.data ? b.data : "", 1, b.len, f) != b.len;
	bad |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
	buf_free(&b);
	print_summary(&t, o, &p);
	access_table_free(&t);
	if (bad) {
		fprintf(stderr, "maillage access : écriture incomplète\n");
		return 1;
	}
	if (!to_stdout)
		fprintf(stderr, "Résultat écrit dans %s.\n", o->out);
	return 0;
}

/* ---- The page ------------------------------------------------------------------------------ */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Uncovered communes first, then by accessibility, lowest first, then by name. */
static int row_cmp(const void *a, const void *b)
{
	const struct access_commune *x = *(const struct access_commune *const *)a;
	const struct access_commune *y = *(const struct access_commune *const *)b;
	int ux = !x->computed || x->row.uncovered, uy = !y->computed || y->row.uncovered;
	if (ux != uy)
		return uy - ux;
	double ax = x->computed ? x->row.accessibility : 0,
	       ay = y->computed ? y->row.accessibility : 0;
	if (ax != ay)
		return ax < ay ? -1 : 1;
	return strcmp(x->code, y->code);
}

static void access_page(struct req *r)
{
	const char *service = req_query(r, "service"), *band = req_query(r, "tranche");
	const char *minutes = req_query(r, "minutes"), *decay = req_query(r, "decroissance");
	const char *epci = req_query(r, "epci"), *dep = req_query(r, "departement");
	const char *error = NULL;
	if (str_blank(service))
		service = "EAJE";
	if (str_blank(band))
		band = "0-2";
	if (str_blank(minutes))
		minutes = "20";
	if (str_blank(decay))
		decay = NULL;
	if (str_blank(epci) || strlen(epci) > 9)
		epci = NULL;
	if (str_blank(dep) || strlen(dep) > 3)
		dep = NULL;
	if (!offer_kind_valid(service)) {
		error = "Type de service inconnu.";
		service = "EAJE";
	}
	if (!offer_band_valid(band)) {
		error = "Tranche d'âge inconnue.";
		band = "0-2";
	}
	struct access_cli_opts o = {service, band, minutes, decay, NULL, NULL, NULL, NULL};
	struct access_params p;
	char *perr = NULL;
	if (strlen(minutes) > 10 || (decay && strlen(decay) > 200) || params_from(&o, &p, &perr)) {
		free(perr);
		perr = NULL;
		error =
		    "Paramètres non valides : le temps maximal est un nombre de minutes (par "
		    "exemple 20) et la décroissance « aucune », « lineaire », « gaussienne » ou "
		    "« paliers » (par exemple paliers:10=1,20=0.5).";
		o.max_minutes = "20";
		o.decay = NULL;
		minutes = "20";
		decay = NULL;
		params_from(&o, &p, &perr);
		free(perr);
	}
	struct access_table t;
	char *err = NULL;
	if (access_table_compute(r->db, service, band, &p, NULL, 0, NULL, &t, &err)) {
		resp_error(r, 500, err ? err : "Calcul impossible.");
		free(err);
		return;
	}
	const char *fmt = req_query(r, "format");
	size_t plen = strlen(r->path);
	if (!error &&
	    ((fmt && !strcmp(fmt, "csv")) || (plen > 4 && !strcmp(r->path + plen - 4, ".csv")))) {
		buf_reset(&r->out);
		access_table_csv(&t, &r->out);
		access_table_free(&t);
		resp_header(r, "Content-Disposition", "attachment; filename=\"accessibilite.csv\"");
		resp_send(r, 200, "text/csv; charset=utf-8");
		return;
	}
	/* Which communes are shown: all, or those of an EPCI or a département. */
	char **shown = NULL;
	size_t nshown = 0;
	if (epci || dep) {
		struct db_stmt *st = db_queryf(
		    r->db,
		    "SELECT code FROM communes WHERE (CAST(? AS TEXT) IS NULL OR epci = ?) "
		    "AND (CAST(? AS TEXT) IS NULL OR departement = ?) ORDER BY code",
		    "ssss", epci, epci, dep, dep);
		size_t cap = 0;
		while (st && db_step(st) == DB_ROW) {
			if (nshown == cap) {
				cap = cap ? cap * 2 : 64;
				shown = xrealloc(shown, cap * sizeof *shown);
			}
			shown[nshown++] = xstrdup(db_col_text(st, 0));
		}
		db_finalize(st);
		if (nshown)
			qsort(shown, nshown, sizeof *shown, str_cmp);
	}
	const struct access_commune **rows = xcalloc(t.n ? t.n : 1, sizeof *rows);
	size_t nrows = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (epci || dep) {
			const char *key = t.communes[i].code;
			if (!nshown || !bsearch(&key, shown, nshown, sizeof *shown, str_cmp))
				continue;
		}
		rows[nrows++] = &t.communes[i];
	}
	for (size_t k = 0; k < nshown; k++)
		free(shown[k]);
	free(shown);
	qsort(rows, nrows, sizeof *rows, row_cmp);

	page_begin(r, "Accessibilité spatiale",
	           (const struct crumb[]){{"Territoire", "/territoire"}, {NULL, NULL}});
	buf_puts(&r->out, "<h1>Accessibilité spatiale</h1>\n");
	if (error)
		page_notice(r, "error", error);
	char *spec = decay_fr(&p.decay);
	html_printf(&r->out,
	            "<p class=\"lead\">Accessibilité potentielle localisée (méthode à deux étapes, "
	            "« 2SFCA », comme l'indicateur APL de la DREES) des habitants de la tranche %s "
	            "aux services « %s » : places accessibles pour 100 habitants, en tenant compte "
	            "de la demande des communes voisines. Temps de trajet estimé par la distance à "
	            "vol d'oiseau entre les points des communes × %.1f, à %.0f km/h ; au plus %s "
	            "minutes ; décroissance %s.</p>\n",
	            band, offer_kind_label(service), p.detour, p.speed_kmh, minutes,
	            spec ? spec : "");
	free(spec);
	buf_puts(&r->out,
	         "<form class=\"form\" method=\"get\" action=\"/territoire/accessibilite\">\n");
	offer_select_service(r, service);
	offer_select_band(r, band);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"minutes\">Temps de trajet maximal "
	    "(minutes)</label><input id=\"minutes\" name=\"minutes\" value=\"%s\" "
	    "inputmode=\"decimal\" maxlength=\"10\"></div>\n"
	    "<div class=\"field\"><label for=\"decroissance\">Décroissance avec le "
	    "temps</label><input id=\"decroissance\" name=\"decroissance\" value=\"%s\" "
	    "maxlength=\"200\" aria-describedby=\"decroissance-aide\"><p class=\"hint\" "
	    "id=\"decroissance-aide\">gaussienne (par défaut), lineaire, aucune, ou paliers, "
	    "par exemple <code>paliers:10=1,20=0.66,30=0.33</code>.</p></div>\n"
	    "<div class=\"field\"><label for=\"epci\">EPCI affiché (SIREN, "
	    "facultatif)</label><input id=\"epci\" name=\"epci\" value=\"%s\" "
	    "maxlength=\"9\" inputmode=\"numeric\"></div>\n"
	    "<div class=\"field\"><label for=\"departement\">Département affiché "
	    "(facultatif)</label><input id=\"departement\" name=\"departement\" value=\"%s\" "
	    "maxlength=\"3\"></div>\n<div class=\"actions\"><button class=\"button\" "
	    "type=\"submit\">Calculer</button></div>\n</form>\n",
	    minutes, decay ? decay : "", epci ? epci : "", dep ? dep : "");
	size_t unc = 0;
	for (size_t i = 0; i < nrows; i++)
		if (!rows[i]->computed || rows[i]->row.uncovered)
			unc++;
	html_printf(&r->out, "<h2>Territoires non couverts (%zu)</h2>\n", unc);
	if (unc)
		html_printf(&r->out,
		            "<p>%zu commune%s sur %zu n'%s aucune offre à moins de %s minutes : "
		            "elles sont en tête du tableau et signalées.</p>\n",
		            unc, unc > 1 ? "s" : "", nrows, unc > 1 ? "ont" : "a", minutes);
	else
		html_printf(&r->out,
		            "<p>Toutes les communes affichées ont au moins une offre à moins "
		            "de %s minutes.</p>\n",
		            minutes);
	html_printf(&r->out,
	            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Accessibilité aux "
	            "services %s pour la tranche %s, communes triées de la moins à la mieux "
	            "desservie</caption>\n<thead><tr><th scope=\"col\">Commune</th><th "
	            "scope=\"col\">Population de la tranche</th><th scope=\"col\">Places "
	            "accessibles pour 100</th><th scope=\"col\">Offres à moins de %s min</th><th "
	            "scope=\"col\">Offre la plus proche (min)</th></tr></thead>\n<tbody>\n",
	            service, band, minutes);
	for (size_t i = 0; i < nrows; i++) {
		const struct access_commune *c = rows[i];
		int u = !c->computed || c->row.uncovered;
		html_printf(&r->out, "<tr%R><th scope=\"row\"><a href=\"/communes/%u\">%s</a>",
		            u ? " class=\"uncovered\"" : "", c->code, c->name);
		if (u)
			buf_puts(&r->out, " <span class=\"badge\">territoire non couvert</span>");
		if (!c->has_point)
			buf_puts(&r->out, " <span class=\"badge\">sans position</span>");
		else if (c->placed)
			buf_puts(&r->out, " <span class=\"badge\">position estimée</span>");
		buf_puts(&r->out, "</th><td>");
		offer_fr_number(&r->out, c->population, 0);
		buf_puts(&r->out, "</td><td>");
		offer_fr_number(&r->out, c->computed ? access_per_100(c->row.accessibility) : NAN,
		                2);
		html_printf(&r->out, "</td><td>%lld</td><td>",
		            (long long)(c->computed ? c->row.reachable : 0));
		offer_fr_number(&r->out, c->computed ? c->row.nearest_minutes : NAN, 0);
		buf_puts(&r->out, "</td></tr>\n");
	}
	buf_puts(&r->out, "</tbody></table></div>\n");
	struct buf qs = {0};
	html_printf(&qs, "service=%u&amp;tranche=%u&amp;minutes=%u", service, band, minutes);
	if (decay)
		html_printf(&qs, "&amp;decroissance=%u", decay);
	html_printf(
	    &r->out,
	    "<p><a class=\"button small\" href=\"/territoire/accessibilite.csv?%R\">"
	    "Télécharger toutes les communes en CSV</a></p>\n"
	    "<p class=\"hint\">Les communes sans point GeoNames sont placées au barycentre "
	    "(pondéré par la population) des communes mesurées de leur EPCI, avec un petit "
	    "décalage : leur « position estimée » rend le temps de trajet approximatif.</p>\n",
	    buf_str(&qs));
	buf_free(&qs);
	free(rows);
	access_table_free(&t);
	page_end(r);
}

const struct route access_routes[] = {
    {M_GET, "/territoire/accessibilite", ACC_PUBLIC, access_page,
     "Accessibilité spatiale (2SFCA) des communes à un type de service, territoires non "
     "couverts"},
    {M_GET, "/territoire/accessibilite.csv", ACC_PUBLIC, access_page,
     "Accessibilité spatiale en CSV (une ligne par commune)"},
    {0},
};
