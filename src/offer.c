/* offer: services and capacities, population by age band, coverage rates (pages and CSV). */
#include "offer.h"

#include "audit.h"
#include "buf.h"
#include "csv_fr.h"
#include "db.h"
#include "http.h"
#include "layout.h"
#include "plans.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const OFFER_BANDS[OFFER_NBANDS] = {"0-2",   "3-5",   "6-11",  "12-17",
                                               "18-24", "25-59", "60-74", "75+"};

int offer_band_valid(const char *band)
{
	for (int i = 0; band && i < OFFER_NBANDS; i++)
		if (!strcmp(band, OFFER_BANDS[i]))
			return 1;
	return 0;
}

static const struct {
	const char *code, *label;
} KINDS[] = {
    {"EAJE", "Établissement d'accueil du jeune enfant (EAJE)"},
    {"MAM", "Maison d'assistants maternels (MAM)"},
    {"ALSH", "Accueil de loisirs sans hébergement (ALSH)"},
    {"LAEP", "Lieu d'accueil enfants-parents (LAEP)"},
    {"RPE", "Relais petite enfance (RPE)"},
    {"FRANCE_SERVICES", "France services"},
    {"POINT_NUMERIQUE", "Point numérique"},
    {"CENTRE_SOCIAL", "Centre social"},
    {"EVS", "Espace de vie sociale (EVS)"},
    {"AUTRE", "Autre service"},
};
#define NKINDS (sizeof KINDS / sizeof *KINDS)

int offer_kind_valid(const char *kind)
{
	for (size_t i = 0; kind && i < NKINDS; i++)
		if (!strcmp(kind, KINDS[i].code))
			return 1;
	return 0;
}

const char *offer_kind_label(const char *kind)
{
	for (size_t i = 0; kind && i < NKINDS; i++)
		if (!strcmp(kind, KINDS[i].code))
			return KINDS[i].label;
	return kind ? kind : "";
}

/* ---- numbers for display ------------------------------------------------------------------- */

void offer_fr_number(struct buf *b, double v, int decimals)
{
	if (isnan(v)) {
		buf_puts(b, "—");
		return;
	}
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.*f", decimals, fabs(v) < 0.5 * pow(10, -decimals) ? 0.0 : v);
	char *dot = strchr(tmp, '.');
	size_t intlen = dot ? (size_t)(dot - tmp) : strlen(tmp);
	size_t start = tmp[0] == '-' ? 1 : 0;
	if (start)
		buf_putc(b, '-');
	for (size_t i = start; i < intlen; i++) {
		if (i > start && (intlen - i) % 3 == 0)
			buf_puts(b, "\u202f");
		buf_putc(b, tmp[i]);
	}
	if (dot) {
		buf_putc(b, ',');
		buf_puts(b, dot + 1);
	}
}

/* ---- Coverage ------------------------------------------------------------------------------ */

/* The communes of a scope, as a condition on the alias c with at most one `?`. */
static const char *scope_where(const char *scope)
{
	if (!strcmp(scope, "commune"))
		return "c.code = ?";
	if (!strcmp(scope, "epci"))
		return "c.epci = ?";
	if (!strcmp(scope, "departement"))
		return "c.departement = ?";
	if (!strcmp(scope, "plan"))
		return "EXISTS (SELECT 1 FROM plan_territory t WHERE t.plan_id = ? AND "
		       "((t.scope = 'commune' AND t.code = c.code) OR (t.scope = 'epci' AND "
		       "t.code = c.epci) OR (t.scope = 'departement' AND t.code = c.departement)))";
	if (!strcmp(scope, "france"))
		return "1 = 1";
	return NULL;
}

int coverage_rate(struct db *db, const char *service_kind, const char *band, const char *scope,
                  const char *code, double *places, double *population)
{
	*places = 0;
	*population = 0;
	const char *where = scope ? scope_where(scope) : NULL;
	if (!where || !offer_kind_valid(service_kind) || !offer_band_valid(band))
		return -1;
	int with_code = strcmp(scope, "france") != 0;
	if (with_code && !code)
		return -1;
	int64_t plan_id = 0;
	if (!strcmp(scope, "plan") && (parse_int64(code, &plan_id) || plan_id < 1))
		return -1;
	char *sql = xasprintf(
	    "SELECT (SELECT COALESCE(SUM(s.capacity), 0) FROM services s JOIN communes c ON "
	    "c.code = s.commune WHERE s.kind = ? AND %s), (SELECT COALESCE(SUM(b.population), 0) "
	    "FROM population_bands b JOIN communes c ON c.code = b.commune WHERE b.band = ? AND "
	    "%s)",
	    where, where);
	struct db_stmt *st = db_prepare(db, sql);
	free(sql);
	if (!st)
		return -1;
	int k = 1;
	db_bind_text(st, k++, service_kind);
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			db_bind_text(st, k++, band);
		if (plan_id)
			db_bind_int64(st, k++, plan_id);
		else if (with_code)
			db_bind_text(st, k++, code);
	}
	int rc = -1;
	if (db_step(st) == DB_ROW) {
		*places = db_col_double(st, 0);
		*population = db_col_double(st, 1);
		rc = 0;
	}
	db_finalize(st);
	return rc;
}

/* ---- Population import --------------------------------------------------------------------- */

/* A number >= 0 with a decimal comma or point; -1 when not one. */
static int parse_amount(const char *s, double *out)
{
	char tmp[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	for (size_t i = 0; i <= n; i++)
		tmp[i] = s[i] == ',' ? '.' : s[i];
	for (size_t i = 0; i < n; i++)
		if (!((tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == '.'))
			return -1;
	char *end;
	double v = strtod(tmp, &end);
	if (*end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

struct pop_row {
	char *commune, *band, *source;
	double population;
	int year; /* 0: none */
};

int offer_population_import(struct db *db, const char *data, size_t len, int64_t user_id,
                            const char *origin, long *rows, char **err)
{
	*err = NULL;
	*rows = 0;
	if (!utf8_valid_text(data, len)) {
		*err =
		    xstrdup("Le fichier n'est pas du texte UTF-8 valide (enregistrez-le en « CSV "
		            "UTF-8 »).");
		return -1;
	}
	struct pop_row *list = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, first = 1;
	struct db_stmt *known = db_prepare(db, "SELECT 1 FROM communes WHERE code = ?");
	if (!known) {
		*err = xasprintf("Erreur de la base : %s", db_errmsg(db));
		return -1;
	}
	/* Separator: guessed from the first line (';', else TAB, else ','). */
	struct csv_in in;
	csv_in_open(&in, data, len, 0); /* a failure is reported by csv_in_next */
	for (;;) {
		int got = csv_in_next(&in);
		if (got == 0)
			break;
		if (got < 0) {
			*err = xasprintf("Ligne %d, colonne %d : %s", in.err_line, in.err_column,
			                 in.error == CSV_IN_QUOTE_OPEN
			                     ? "guillemet ouvert jamais refermé."
			                     : csv_in_strerror(&in));
			rc = -1;
			break;
		}
		long at = in.line;
		int nf = (int)in.n;
		int blank = 1;
		for (int k = 0; k < nf; k++)
			if (!str_blank(in.field[k]))
				blank = 0;
		if (blank)
			continue;
		/* The first CSV_MAXF fields, trimmed (extra fields are counted, not kept). */
		enum { CSV_MAXF = 8 };
		char *f[CSV_MAXF] = {0};
		int kept = nf < CSV_MAXF ? nf : CSV_MAXF;
		for (int k = 0; k < kept; k++)
			f[k] = str_trim_dup(in.field[k]);
		/* Trailing empty fields are tolerated. */
		while (nf > 3 && nf == kept && !*f[kept - 1]) {
			free(f[kept - 1]);
			kept--;
			nf = kept;
		}
		double pop = 0;
		int header =
		    first && nf >= 3 && parse_amount(f[2], &pop) != 0 && !offer_band_valid(f[1]);
		first = 0;
		if (header) {
			for (int k = 0; k < kept; k++)
				free(f[k]);
			continue;
		}
		if (nf < 3 || nf > 5) {
			*err = xasprintf("Ligne %ld : %d colonne%s au lieu de 3 à 5 "
			                 "(commune;tranche;population[;annee;source]).",
			                 at, nf, nf > 1 ? "s" : "");
			rc = -1;
		} else if (!*f[0]) {
			*err = xasprintf(
			    "Ligne %ld, colonne 1 : code INSEE de la commune manquant.", at);
			rc = -1;
		} else {
			db_reset(known);
			db_bind_text(known, 1, f[0]);
			if (db_step(known) != DB_ROW) {
				*err = xasprintf(
				    "Ligne %ld, colonne 1 : commune inconnue « %s » (code "
				    "INSEE attendu, par exemple 26108).",
				    at, f[0]);
				rc = -1;
			}
		}
		if (!rc && !offer_band_valid(f[1])) {
			*err = xasprintf(
			    "Ligne %ld, colonne 2 : tranche d'âge inconnue « %s » "
			    "(attendu : 0-2, 3-5, 6-11, 12-17, 18-24, 25-59, 60-74 ou 75+).",
			    at, f[1]);
			rc = -1;
		}
		if (!rc && parse_amount(f[2], &pop)) {
			*err =
			    xasprintf("Ligne %ld, colonne 3 : population non valide « %s » (nombre "
			              "positif ou nul attendu).",
			              at, f[2]);
			rc = -1;
		}
		int64_t year = 0;
		if (!rc && nf >= 4 && *f[3] &&
		    (parse_int64(f[3], &year) || year < 1900 || year > 2100)) {
			*err =
			    xasprintf("Ligne %ld, colonne 4 : année non valide « %s » (entre 1900 "
			              "et 2100).",
			              at, f[3]);
			rc = -1;
		}
		if (!rc && nf >= 5 && strlen(f[4]) > 200) {
			*err = xasprintf(
			    "Ligne %ld, colonne 5 : source trop longue (200 caractères au "
			    "plus).",
			    at);
			rc = -1;
		}
		for (size_t k = 0; !rc && k < n; k++)
			if (!strcmp(list[k].commune, f[0]) && !strcmp(list[k].band, f[1])) {
				*err =
				    xasprintf("Ligne %ld : la tranche %s de la commune %s est déjà "
				              "donnée plus haut.",
				              at, f[1], f[0]);
				rc = -1;
			}
		if (!rc) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				list = xrealloc(list, cap * sizeof *list);
			}
			list[n].commune = xstrdup(f[0]);
			list[n].band = xstrdup(f[1]);
			list[n].source = xstrdup(nf >= 5 && *f[4] ? f[4] : "import CSV");
			list[n].population = pop;
			list[n].year = (int)year;
			n++;
		}
		for (int k = 0; k < kept; k++)
			free(f[k]);
		if (rc)
			break;
	}
	csv_in_close(&in);
	db_finalize(known);
	if (!rc && n == 0) {
		*err = xstrdup("Le fichier ne contient aucune ligne de population.");
		rc = -1;
	}
	if (!rc) {
		if (db_begin(db) != DB_OK)
			rc = -1;
		struct db_stmt *ins =
		    rc ? NULL
		       : db_prepare(db,
		                    "INSERT INTO population_bands (commune, band, population, "
		                    "year, source) VALUES (?, ?, ?, ?, ?) ON CONFLICT (commune, "
		                    "band) DO UPDATE SET population = excluded.population, "
		                    "year = excluded.year, source = excluded.source");
		if (!ins)
			rc = -1;
		for (size_t k = 0; !rc && k < n; k++) {
			db_reset(ins);
			db_bindf(ins, "ssd", list[k].commune, list[k].band, list[k].population);
			if (list[k].year)
				db_bind_int64(ins, 4, list[k].year);
			else
				db_bind_null(ins, 4);
			db_bind_text(ins, 5, list[k].source);
			if (db_step(ins) != DB_DONE)
				rc = -1;
		}
		db_finalize(ins);
		if (!rc) {
			json_t *after = json_pack("{s:I}", "rows", (json_int_t)n);
			rc = audit_write(db, user_id, origin, "import", "population_bands", "csv",
			                 NULL, after) == DB_OK
			         ? 0
			         : -1;
			json_decref(after);
		}
		if (!rc && db_commit(db) != DB_OK)
			rc = -1;
		if (rc) {
			*err = xasprintf("Erreur de la base : %s", db_errmsg(db));
			db_rollback(db);
		}
	}
	for (size_t k = 0; k < n; k++) {
		free(list[k].commune);
		free(list[k].band);
		free(list[k].source);
	}
	free(list);
	if (!rc)
		*rows = (long)n;
	return rc;
}

/* ---- Pages --------------------------------------------------------------------------------- */

/* Administrators, and coordinators of at least one plan, maintain services and population. */
static int offer_can_edit(struct req *r)
{
	if (!r->user)
		return 0;
	if (r->user->role >= ROLE_COORDINATOR)
		return 1;
	int64_t n = 0;
	db_int64f(r->db, &n,
	          "SELECT COUNT(*) FROM plan_members WHERE user_id = ? AND role = 'coordinator'",
	          "I", r->user->id);
	return n > 0;
}

static const struct crumb TERRITORY_CRUMBS[] = {{"Territoire", "/territoire"}, {NULL, NULL}};

static void population_form(struct req *r, const char *error, const char *notice)
{
	page_begin(r, "Importer la population par tranche d'âge", TERRITORY_CRUMBS);
	buf_puts(&r->out, "<h1>Importer la population par tranche d'âge</h1>\n");
	if (error)
		page_notice(r, "error", error);
	if (notice)
		page_notice(r, "success", notice);
	buf_puts(&r->out,
	         "<p>Un fichier CSV (séparateur « ; », UTF-8) avec une ligne par commune et "
	         "tranche d'âge : <code>commune;tranche;population;annee;source</code> (année et "
	         "source facultatives). Les tranches sont <code>0-2</code>, <code>3-5</code>, "
	         "<code>6-11</code>, <code>12-17</code>, <code>18-24</code>, <code>25-59</code>, "
	         "<code>60-74</code> et <code>75+</code>. L'import est fait en entier ou pas du "
	         "tout : la première erreur est signalée avec sa ligne et sa colonne, et rien "
	         "n'est enregistré.</p>\n"
	         "<form class=\"form\" method=\"post\" action=\"/territoire/population/importer\" "
	         "enctype=\"multipart/form-data\">\n");
	page_csrf(r);
	buf_puts(&r->out, "<div class=\"field\"><label for=\"fichier\">Fichier CSV</label>"
	                  "<input type=\"file\" id=\"fichier\" name=\"fichier\" "
	                  "accept=\".csv,text/csv\" required aria-describedby=\"fichier-aide\">"
	                  "<p class=\"hint\" id=\"fichier-aide\">Exemple de ligne : "
	                  "<code>26108;0-2;262;2021;Insee RP</code></p></div>\n"
	                  "<div class=\"actions\"><button class=\"button\" type=\"submit\">"
	                  "Importer</button></div>\n</form>\n");
	page_end(r);
}

static void population_import_page(struct req *r)
{
	if (!offer_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs peuvent importer "
		           "la population.");
		return;
	}
	if (r->method == M_GET) {
		const char *ok = req_query(r, "lignes");
		char *notice = NULL;
		int64_t n;
		if (ok && !parse_int64(ok, &n) && n >= 0)
			notice = xasprintf("Population importée : %lld ligne%s.", (long long)n,
			                   n > 1 ? "s" : "");
		population_form(r, NULL, notice);
		free(notice);
		return;
	}
	const struct upload *u = req_file(r, "fichier");
	if (!u || !u->data.len) {
		population_form(r, "Choisissez un fichier CSV à importer.", NULL);
		r->status = 422;
		return;
	}
	long rows = 0;
	char *err = NULL;
	if (offer_population_import(r->db, u->data.data, u->data.len, r->user->id, "web", &rows,
	                            &err)) {
		char *msg = xasprintf("Import refusé, rien n'a été enregistré. %s", err);
		population_form(r, msg, NULL);
		r->status = 422;
		free(msg);
		free(err);
		return;
	}
	char *loc = xasprintf("/territoire/population/importer?lignes=%ld", rows);
	resp_redirect(r, loc);
	free(loc);
}

/* ---- Coverage page ------------------------------------------------------------------------- */

struct cov_query {
	const char *service, *band, *scale, *epci, *dep;
	int64_t plan;
	double threshold;
	const char *error;
};

static void cov_parse(struct req *r, struct cov_query *q)
{
	memset(q, 0, sizeof *q);
	q->service = req_query(r, "service");
	q->band = req_query(r, "tranche");
	q->scale = req_query(r, "echelle");
	q->epci = req_query(r, "epci");
	q->dep = req_query(r, "departement");
	if (str_blank(q->service))
		q->service = "EAJE";
	if (str_blank(q->band))
		q->band = "0-2";
	if (str_blank(q->scale))
		q->scale = "commune";
	if (str_blank(q->epci))
		q->epci = NULL;
	if (str_blank(q->dep))
		q->dep = NULL;
	if ((q->epci && strlen(q->epci) > 9) || (q->dep && strlen(q->dep) > 3)) {
		q->error = "Code d'EPCI (9 chiffres) ou de département (3 caractères au plus) non "
		           "valide : filtre ignoré.";
		q->epci = NULL;
		q->dep = NULL;
	}
	q->threshold = OFFER_DEFAULT_THRESHOLD;
	const char *plan = req_query(r, "plan"), *seuil = req_query(r, "seuil");
	if (!offer_kind_valid(q->service)) {
		q->error = "Type de service inconnu.";
		q->service = "EAJE";
	}
	if (!offer_band_valid(q->band)) {
		q->error = "Tranche d'âge inconnue.";
		q->band = "0-2";
	}
	if (strcmp(q->scale, "commune") != 0 && strcmp(q->scale, "epci") != 0 &&
	    strcmp(q->scale, "departement") != 0 && strcmp(q->scale, "plan") != 0) {
		q->error = "Échelle inconnue : commune, epci, departement ou plan.";
		q->scale = "commune";
	}
	if (!str_blank(plan) && (parse_int64(plan, &q->plan) || q->plan < 1)) {
		q->error = "Numéro de plan non valide.";
		q->plan = 0;
	}
	if (!strcmp(q->scale, "plan") && !q->plan) {
		q->error = q->error ? q->error : "Choisissez un plan pour l'échelle « plan ».";
		q->scale = "commune";
	}
	if (!str_blank(seuil)) {
		double t;
		if (parse_amount(seuil, &t) || t > 1000) {
			q->error = "Seuil non valide : un nombre de places pour 100 habitants.";
		} else {
			q->threshold = t;
		}
	}
}

/* The rows of the coverage table: code, name, places, population, placed flag. */
static struct db_stmt *cov_select(struct req *r, const struct cov_query *q)
{
	const char *sql;
	if (!strcmp(q->scale, "epci"))
		sql =
		    "SELECT e.code, e.name, (SELECT COALESCE(SUM(s.capacity), 0) FROM services s "
		    "JOIN communes c ON c.code = s.commune WHERE s.kind = ? AND c.epci = e.code), "
		    "(SELECT COALESCE(SUM(b.population), 0) FROM population_bands b JOIN communes "
		    "c ON c.code = b.commune WHERE b.band = ? AND c.epci = e.code), 0 "
		    "FROM epcis e WHERE (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM communes "
		    "c WHERE "
		    "c.epci = e.code AND c.departement = ?)) AND (CAST(? AS TEXT) IS NULL OR "
		    "e.code = ?) "
		    "ORDER BY e.name";
	else if (!strcmp(q->scale, "departement"))
		sql =
		    "SELECT d.code, d.name, (SELECT COALESCE(SUM(s.capacity), 0) FROM services s "
		    "JOIN communes c ON c.code = s.commune WHERE s.kind = ? AND c.departement = "
		    "d.code), (SELECT COALESCE(SUM(b.population), 0) FROM population_bands b JOIN "
		    "communes c ON c.code = b.commune WHERE b.band = ? AND c.departement = "
		    "d.code), 0 FROM departements d WHERE (CAST(? AS TEXT) IS NULL OR d.code = ?) "
		    "AND "
		    "(CAST(? AS TEXT) IS NULL OR CAST(? AS TEXT) IS NOT NULL) ORDER BY d.code";
	else
		sql =
		    "SELECT c.code, c.name, (SELECT COALESCE(SUM(s.capacity), 0) FROM services s "
		    "WHERE s.kind = ? AND s.commune = c.code), (SELECT COALESCE(SUM(b.population), "
		    "0) FROM population_bands b WHERE b.band = ? AND b.commune = c.code), "
		    "c.coordinates_placed FROM communes c WHERE (CAST(? AS TEXT) IS NULL OR "
		    "c.departement = ?) "
		    "AND (CAST(? AS TEXT) IS NULL OR c.epci = ?) AND (? = 0 OR EXISTS (SELECT 1 "
		    "FROM "
		    "plan_territory t WHERE t.plan_id = ? AND ((t.scope = 'commune' AND t.code = "
		    "c.code) OR (t.scope = 'epci' AND t.code = c.epci) OR (t.scope = "
		    "'departement' AND t.code = c.departement)))) ORDER BY c.search_name, c.code";
	struct db_stmt *st = db_prepare(r->db, sql);
	if (!st)
		return NULL;
	db_bindf(st, "ssssss", q->service, q->band, q->dep, q->dep, q->epci, q->epci);
	if (!strcmp(q->scale, "commune") || !strcmp(q->scale, "plan")) {
		int64_t plan = !strcmp(q->scale, "plan") ? q->plan : 0;
		db_bind_int64(st, 7, plan);
		db_bind_int64(st, 8, plan);
	}
	return st;
}

static double rate_of(double places, double pop)
{
	return pop > 0 ? 100.0 * places / pop : NAN;
}

static const char *scale_label(const char *scale)
{
	if (!strcmp(scale, "epci"))
		return "EPCI";
	if (!strcmp(scale, "departement"))
		return "Département";
	return "Commune";
}

static void coverage_csv(struct req *r, const struct cov_query *q)
{
	struct db_stmt *st = cov_select(r, q);
	if (!st) {
		resp_error(r, 500, "Lecture de la couverture impossible.");
		return;
	}
	buf_reset(&r->out);
	static const char *const head[] = {
	    "code",          "nom",        "places",          "population_tranche",
	    "taux_pour_100", "sous_seuil", "position_estimee"};
	struct csv_out w;
	csv_out_begin(&w, &r->out);
	csv_out_header(&w, head, sizeof head / sizeof *head);
	while (db_step(st) == DB_ROW) {
		double places = db_col_double(st, 2), pop = db_col_double(st, 3);
		double rate = rate_of(places, pop);
		csv_out_value(&w, db_col_text(st, 0));
		csv_out_text(&w, db_col_text(st, 1));
		csv_out_number(&w, places, 0);
		csv_out_number(&w, pop, 0);
		csv_out_number(&w, rate, 2);
		csv_out_value(&w, !isnan(rate) && rate < q->threshold ? "oui" : "non");
		csv_out_value(&w, db_col_int64(st, 4) ? "oui" : "non");
		csv_out_row_end(&w);
	}
	db_finalize(st);
	resp_header(r, "Content-Disposition", "attachment; filename=\"couverture.csv\"");
	resp_send(r, 200, "text/csv; charset=utf-8");
}

static void select_options(struct req *r, const char *name, const char *label,
                           const char *const *codes, const char *const *labels, size_t n,
                           const char *current)
{
	html_printf(&r->out,
	            "<div class=\"field\"><label for=\"%s\">%s</label><select id=\"%s\" "
	            "name=\"%s\">",
	            name, label, name, name);
	for (size_t i = 0; i < n; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", codes[i],
		            current && !strcmp(current, codes[i]) ? " selected" : "",
		            labels ? labels[i] : codes[i]);
	buf_puts(&r->out, "</select></div>\n");
}

void offer_select_service(struct req *r, const char *current)
{
	const char *codes[NKINDS], *labels[NKINDS];
	for (size_t i = 0; i < NKINDS; i++) {
		codes[i] = KINDS[i].code;
		labels[i] = KINDS[i].label;
	}
	select_options(r, "service", "Type de service", codes, labels, NKINDS, current);
}

void offer_select_band(struct req *r, const char *current)
{
	select_options(r, "tranche", "Tranche d'âge", OFFER_BANDS, NULL, OFFER_NBANDS, current);
}

static void coverage_page(struct req *r)
{
	struct cov_query q;
	cov_parse(r, &q);
	if (q.plan && plan_require(r, q.plan, ROLE_PUBLIC))
		return;
	const char *fmt = req_query(r, "format");
	size_t plen = strlen(r->path);
	if (!q.error &&
	    ((fmt && !strcmp(fmt, "csv")) || (plen > 4 && !strcmp(r->path + plen - 4, ".csv")))) {
		coverage_csv(r, &q);
		return;
	}
	page_begin(r, "Taux de couverture", TERRITORY_CRUMBS);
	buf_puts(&r->out, "<h1>Taux de couverture</h1>\n");
	if (q.error)
		page_notice(r, "error", q.error);
	html_printf(&r->out,
	            "<p class=\"lead\">Places des services « %s » pour 100 habitants de la tranche "
	            "d'âge %s. Pour les EAJE et les 0-2 ans, c'est le taux de couverture de la Caf "
	            "pour l'accueil collectif : places en EAJE / enfants de moins de 3 ans × 100. "
	            "Les territoires sous le seuil (par défaut 10 places pour 100 habitants) "
	            "sont listés sous le tableau.</p>\n",
	            offer_kind_label(q.service), q.band);
	/* the threshold printed separately (a number, not text) */
	struct buf th = {0};
	offer_fr_number(&th, q.threshold, 1);
	html_printf(&r->out,
	            "<p>Seuil retenu : <strong>%s</strong> places pour 100 "
	            "habitants.</p>\n",
	            buf_str(&th));
	buf_free(&th);
	buf_puts(&r->out, "<p><a href=\"/services\">Services et capacités</a> · <a "
	                  "href=\"/territoire/accessibilite\">Accessibilité et territoires non "
	                  "couverts</a>");
	if (offer_can_edit(r))
		buf_puts(&r->out, " · <a href=\"/territoire/population/importer\">Importer la "
		                  "population par tranche d'âge</a>");
	buf_puts(&r->out, "</p>\n");
	buf_puts(&r->out,
	         "<form class=\"form\" method=\"get\" action=\"/territoire/couverture\">\n");
	offer_select_service(r, q.service);
	offer_select_band(r, q.band);
	static const char *const scales[] = {"commune", "epci", "departement", "plan"};
	static const char *const scale_labels[] = {"Communes", "EPCI", "Départements",
	                                           "Territoire d'un plan"};
	select_options(r, "echelle", "Échelle", scales, scale_labels, 4, q.scale);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"epci\">EPCI (SIREN, facultatif)</label>"
	    "<input id=\"epci\" name=\"epci\" value=\"%s\" maxlength=\"9\" "
	    "inputmode=\"numeric\"></div>\n"
	    "<div class=\"field\"><label for=\"departement\">Département (facultatif)</label>"
	    "<input id=\"departement\" name=\"departement\" value=\"%s\" "
	    "maxlength=\"3\"></div>\n",
	    q.epci ? q.epci : "", q.dep ? q.dep : "");
	char plan[32] = "";
	if (q.plan)
		snprintf(plan, sizeof plan, "%lld", (long long)q.plan);
	char seuil[32];
	snprintf(seuil, sizeof seuil, "%g", q.threshold);
	html_printf(
	    &r->out,
	    "<div class=\"field\"><label for=\"plan\">Plan (numéro, pour l'échelle "
	    "« territoire d'un plan »)</label><input id=\"plan\" name=\"plan\" value=\"%s\" "
	    "inputmode=\"numeric\"></div>\n<div class=\"field\"><label for=\"seuil\">Seuil "
	    "(places pour 100 habitants)</label><input id=\"seuil\" name=\"seuil\" "
	    "value=\"%s\" inputmode=\"decimal\"></div>\n<div class=\"actions\"><button "
	    "class=\"button\" type=\"submit\">Afficher</button></div>\n</form>\n",
	    plan, seuil);

	struct db_stmt *st = cov_select(r, &q);
	if (!st) {
		buf_puts(&r->out, "<p>Lecture de la couverture impossible.</p>");
		page_end(r);
		return;
	}
	struct buf below = {0};
	int nbelow = 0, nrows = 0;
	double tplaces = 0, tpop = 0;
	html_printf(&r->out,
	            "<div class=\"table-wrap\" tabindex=\"0\"><table>\n<caption>Taux de couverture "
	            "par %s : %s, tranche %s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
	            "<th scope=\"col\">Places</th><th scope=\"col\">Population de la tranche</th>"
	            "<th scope=\"col\">Taux pour 100</th></tr></thead>\n<tbody>\n",
	            !strcmp(q.scale, "epci")          ? "EPCI"
	            : !strcmp(q.scale, "departement") ? "département"
	                                              : "commune",
	            q.service, q.band, scale_label(q.scale));
	while (db_step(st) == DB_ROW) {
		const char *code = db_col_text(st, 0), *name = db_col_text(st, 1);
		double places = db_col_double(st, 2), pop = db_col_double(st, 3);
		double rate = rate_of(places, pop);
		int placed = (int)db_col_int64(st, 4);
		int low = !isnan(rate) && rate < q.threshold;
		nrows++;
		tplaces += places;
		tpop += pop;
		const char *href = !strcmp(q.scale, "epci")          ? "/epcis/"
		                   : !strcmp(q.scale, "departement") ? "/territoire#dep-"
		                                                     : "/communes/";
		html_printf(&r->out, "<tr%R><th scope=\"row\"><a href=\"%R%u\">%s</a>%R</th><td>",
		            low ? " class=\"below\"" : "", href, code, name,
		            placed ? " <span class=\"badge\">position estimée</span>" : "");
		offer_fr_number(&r->out, places, 0);
		buf_puts(&r->out, "</td><td>");
		offer_fr_number(&r->out, pop, 0);
		buf_puts(&r->out, "</td><td>");
		offer_fr_number(&r->out, rate, 1);
		buf_puts(&r->out, low ? " <span class=\"badge\">sous le seuil</span></td></tr>\n"
		                      : "</td></tr>\n");
		if (low) {
			html_printf(&below, "<li><a href=\"%R%u\">%s</a> : ", href, code, name);
			offer_fr_number(&below, rate, 1);
			buf_puts(&below, "</li>\n");
			nbelow++;
		}
	}
	db_finalize(st);
	buf_puts(&r->out, "</tbody>\n<tfoot><tr><th scope=\"row\">Ensemble</th><td>");
	offer_fr_number(&r->out, tplaces, 0);
	buf_puts(&r->out, "</td><td>");
	offer_fr_number(&r->out, tpop, 0);
	buf_puts(&r->out, "</td><td>");
	offer_fr_number(&r->out, rate_of(tplaces, tpop), 1);
	buf_puts(&r->out, "</td></tr></tfoot></table></div>\n");
	html_printf(&r->out, "<h2>Sous le seuil (%d)</h2>\n", nbelow);
	if (nbelow)
		html_printf(&r->out, "<ul class=\"below-threshold\">%R</ul>\n", buf_str(&below));
	else
		buf_puts(&r->out, "<p>Aucun territoire de la liste n'est sous le seuil.</p>\n");
	buf_free(&below);
	html_printf(&r->out, "<p><span class=\"muted\">%d ligne%s.</span> ", nrows,
	            nrows > 1 ? "s" : "");
	struct buf qs = {0};
	html_printf(&qs, "service=%u&amp;tranche=%u&amp;echelle=%u&amp;seuil=%u", q.service, q.band,
	            q.scale, seuil);
	if (q.epci)
		html_printf(&qs, "&amp;epci=%u", q.epci);
	if (q.dep)
		html_printf(&qs, "&amp;departement=%u", q.dep);
	if (q.plan)
		html_printf(&qs, "&amp;plan=%u", plan);
	html_printf(&r->out,
	            "<a class=\"button small\" href=\"/territoire/couverture.csv?%R\">Télécharger "
	            "en CSV</a></p>\n",
	            buf_str(&qs));
	buf_free(&qs);
	page_end(r);
}

/* ---- Services list ------------------------------------------------------------------------- */

static void services_page(struct req *r)
{
	const char *kind = req_query(r, "type"), *commune = req_query(r, "commune");
	const char *error = NULL;
	if (str_blank(kind))
		kind = NULL;
	else if (!offer_kind_valid(kind)) {
		error = "Type de service inconnu : filtre ignoré.";
		kind = NULL;
	}
	char *comm = str_blank(commune) ? NULL : str_trim_dup(commune);
	if (comm && strlen(comm) > 100) {
		error = "Commune : 100 caractères au plus.";
		free(comm);
		comm = NULL;
	}
	char *key = comm ? text_fold(comm) : NULL;
	char *pattern = key ? text_like_pattern("", key, "%") : NULL;
	struct db_stmt *st = db_queryf(
	    r->db,
	    "SELECT s.id, s.kind, s.name, s.commune, c.name, s.capacity, s.hours, "
	    "s.atypical_hours, s.age_min, s.age_max, s.source, a.id, a.name FROM services s "
	    "JOIN communes c ON c.code = s.commune LEFT JOIN actors a ON a.id = s.actor_id "
	    "WHERE (CAST(? AS TEXT) IS NULL OR s.kind = ?) AND (CAST(? AS TEXT) IS NULL OR "
	    "s.commune = ? OR c.search_name "
	    "LIKE ? ESCAPE '\\') ORDER BY c.search_name, s.kind, s.name",
	    "sssss", kind, kind, comm, comm, pattern);
	free(key);
	free(pattern);
	if (!st) {
		free(comm);
		resp_error(r, 500, "Lecture des services impossible.");
		return;
	}
	page_begin(r, "Services et équipements", NULL);
	buf_puts(&r->out, "<h1>Services et équipements</h1>\n");
	if (error)
		page_notice(r, "error", error);
	buf_puts(&r->out, "<p class=\"lead\">L'offre du territoire avec ses capacités : "
	                  "accueil du jeune enfant, loisirs, parentalité, accès aux droits.</p>\n");
	if (offer_can_edit(r))
		buf_puts(&r->out, "<p class=\"actions\"><a class=\"button\" "
		                  "href=\"/services/nouveau\">Ajouter un service</a></p>\n");
	buf_puts(&r->out,
	         "<form class=\"form\" method=\"get\" action=\"/services\">\n"
	         "<div class=\"field\"><label for=\"type\">Type</label><select id=\"type\" "
	         "name=\"type\"><option value=\"\">Tous</option>");
	for (size_t i = 0; i < NKINDS; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", KINDS[i].code,
		            kind && !strcmp(kind, KINDS[i].code) ? " selected" : "",
		            KINDS[i].label);
	html_printf(&r->out,
	            "</select></div>\n<div class=\"field\"><label for=\"commune\">Commune (nom ou "
	            "code INSEE)</label><input id=\"commune\" name=\"commune\" value=\"%s\" "
	            "maxlength=\"100\"></div>\n<div class=\"actions\"><button class=\"button\" "
	            "type=\"submit\">Filtrer</button></div>\n</form>\n",
	            comm ? comm : "");
	free(comm);
	int edit = offer_can_edit(r), n = 0;
	struct buf rows = {0};
	while (db_step(st) == DB_ROW) {
		n++;
		html_printf(&rows, "<tr><th scope=\"row\">%s", db_col_text(st, 2));
		if (!db_col_is_null(st, 11))
			html_printf(&rows, "<br><a href=\"/acteurs/%lld\">%s</a>",
			            (long long)db_col_int64(st, 11), db_col_text(st, 12));
		if (!strcmp(db_col_text(st, 10), "démonstration"))
			buf_puts(&rows, " <span class=\"badge\">démonstration</span>");
		html_printf(&rows, "</th><td>%s</td><td><a href=\"/communes/%u\">%s</a></td><td>",
		            offer_kind_label(db_col_text(st, 1)), db_col_text(st, 3),
		            db_col_text(st, 4));
		offer_fr_number(&rows, db_col_double(st, 5), 0);
		html_printf(&rows, "</td><td>%s%R</td><td>", db_col_text(st, 6),
		            db_col_int64(st, 7) ? " <span class=\"badge\">horaires atypiques</span>"
		                                : "");
		if (!db_col_is_null(st, 8) && !db_col_is_null(st, 9))
			html_printf(&rows, "%lld à %lld ans", (long long)db_col_int64(st, 8),
			            (long long)db_col_int64(st, 9));
		buf_puts(&rows, "</td>");
		if (edit)
			html_printf(
			    &rows,
			    "<td><a class=\"button small\" href=\"/services/%lld/modifier\">"
			    "Modifier<span class=\"visually-hidden\"> %s</span></a></td>",
			    (long long)db_col_int64(st, 0), db_col_text(st, 2));
		buf_puts(&rows, "</tr>\n");
	}
	db_finalize(st);
	if (!n)
		buf_puts(&r->out, "<p class=\"count\">Aucun service ne correspond.</p>\n");
	else
		html_printf(&r->out,
		            "<p class=\"count\">%d service%s.</p>\n<div class=\"table-wrap\" "
		            "tabindex=\"0\"><table>\n<caption>Services et équipements</caption>\n"
		            "<thead><tr><th scope=\"col\">Service</th><th scope=\"col\">Type</th>"
		            "<th scope=\"col\">Commune</th><th scope=\"col\">Capacité</th>"
		            "<th scope=\"col\">Horaires</th><th scope=\"col\">Âges</th>%R</tr>"
		            "</thead>\n<tbody>\n%R</tbody></table></div>\n",
		            n, n > 1 ? "s" : "", edit ? "<th scope=\"col\">Actions</th>" : "",
		            buf_str(&rows));
	buf_free(&rows);
	page_end(r);
}

/* ---- Service forms ------------------------------------------------------------------------- */

/* The fields of the service form, as typed (borrowed from the request or the database copy). */
struct service_form {
	const char *actor, *kind, *name, *commune, *capacity, *days, *hours, *atypical, *age_min,
	    *age_max, *publics;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static void service_form_page(struct req *r, int64_t id, const struct service_form *f,
                              const char *error)
{
	const char *title = id ? "Modifier un service" : "Ajouter un service";
	page_begin(r, title, (const struct crumb[]){{"Services", "/services"}, {NULL, NULL}});
	html_printf(&r->out, "<h1>%s</h1>\n", title);
	if (error)
		page_notice(r, "error", error);
	char action[64];
	if (id)
		snprintf(action, sizeof action, "/services/%lld/modifier", (long long)id);
	else
		snprintf(action, sizeof action, "/services/nouveau");
	html_printf(&r->out, "<form class=\"form\" method=\"post\" action=\"%s\">\n", action);
	page_csrf(r);
	buf_puts(&r->out, "<div class=\"field\"><label for=\"type\">Type de service</label>"
	                  "<select id=\"type\" name=\"type\" required>");
	for (size_t i = 0; i < NKINDS; i++)
		html_printf(&r->out, "<option value=\"%s\"%R>%s</option>", KINDS[i].code,
		            f->kind && !strcmp(f->kind, KINDS[i].code) ? " selected" : "",
		            KINDS[i].label);
	html_printf(
	    &r->out,
	    "</select></div>\n"
	    "<div class=\"field\"><label for=\"nom\">Nom</label><input id=\"nom\" name=\"nom\" "
	    "value=\"%s\" maxlength=\"200\" required></div>\n"
	    "<div class=\"field\"><label for=\"commune\">Commune (code INSEE)</label><input "
	    "id=\"commune\" name=\"commune\" value=\"%s\" maxlength=\"5\" required "
	    "aria-describedby=\"commune-aide\"><p class=\"hint\" id=\"commune-aide\">Par exemple "
	    "26108 pour Crest.</p></div>\n"
	    "<div class=\"field\"><label for=\"acteur\">Structure gestionnaire (numéro de "
	    "l'acteur, facultatif)</label><input id=\"acteur\" name=\"acteur\" value=\"%s\" "
	    "inputmode=\"numeric\" maxlength=\"12\"></div>\n"
	    "<div class=\"field\"><label for=\"capacite\">Capacité (places)</label><input "
	    "id=\"capacite\" name=\"capacite\" value=\"%s\" inputmode=\"decimal\" maxlength=\"12\" "
	    "required></div>\n"
	    "<div class=\"field\"><label for=\"jours\">Jours d'ouverture par an "
	    "(facultatif)</label><input id=\"jours\" name=\"jours\" value=\"%s\" "
	    "inputmode=\"numeric\" maxlength=\"3\"></div>\n"
	    "<div class=\"field\"><label for=\"horaires\">Horaires</label><input id=\"horaires\" "
	    "name=\"horaires\" value=\"%s\" maxlength=\"200\"></div>\n"
	    "<div class=\"field\"><input type=\"checkbox\" id=\"atypiques\" name=\"atypiques\" "
	    "value=\"1\"%R><label for=\"atypiques\">Horaires atypiques (tôt, tard, "
	    "week-end)</label></div>\n"
	    "<div class=\"field\"><label for=\"age_min\">Âge minimal (ans, facultatif)</label>"
	    "<input id=\"age_min\" name=\"age_min\" value=\"%s\" inputmode=\"numeric\" "
	    "maxlength=\"3\"></div>\n"
	    "<div class=\"field\"><label for=\"age_max\">Âge maximal (ans, facultatif)</label>"
	    "<input id=\"age_max\" name=\"age_max\" value=\"%s\" inputmode=\"numeric\" "
	    "maxlength=\"3\"></div>\n"
	    "<div class=\"field\"><label for=\"publics\">Publics</label><textarea id=\"publics\" "
	    "name=\"publics\" maxlength=\"500\" rows=\"3\">%s</textarea></div>\n"
	    "<div class=\"actions\"><button class=\"button\" type=\"submit\">Enregistrer</button> "
	    "<a href=\"/services\">Annuler</a></div>\n</form>\n",
	    nz(f->name), nz(f->commune), nz(f->actor), nz(f->capacity), nz(f->days), nz(f->hours),
	    f->atypical && *f->atypical ? " checked" : "", nz(f->age_min), nz(f->age_max),
	    nz(f->publics));
	page_end(r);
}

/* An optional integer in [lo, hi]: 0 and *has = 0 when blank; -1 when malformed. */
static int opt_int(const char *s, int64_t lo, int64_t hi, int64_t *v, int *has)
{
	*has = 0;
	if (str_blank(s))
		return 0;
	if (parse_int64(s, v) || *v < lo || *v > hi)
		return -1;
	*has = 1;
	return 0;
}

static json_t *service_json(struct db *db, int64_t id)
{
	struct db_stmt *st = db_queryf(db,
	                               "SELECT actor_id, kind, name, commune, capacity, "
	                               "opening_days, hours, atypical_hours, age_min, age_max, "
	                               "publics, source FROM services WHERE id = ?",
	                               "I", id);
	json_t *o = NULL;
	if (st && db_step(st) == DB_ROW) {
		o = json_object();
		json_object_set_new(o, "actor_id",
		                    db_col_is_null(st, 0) ? json_null()
		                                          : json_integer(db_col_int64(st, 0)));
		json_object_set_new(o, "kind", json_string(db_col_text(st, 1)));
		json_object_set_new(o, "name", json_string(db_col_text(st, 2)));
		json_object_set_new(o, "commune", json_string(db_col_text(st, 3)));
		json_object_set_new(o, "capacity", json_real(db_col_double(st, 4)));
		json_object_set_new(o, "opening_days",
		                    db_col_is_null(st, 5) ? json_null()
		                                          : json_integer(db_col_int64(st, 5)));
		json_object_set_new(o, "hours", json_string(db_col_text(st, 6)));
		json_object_set_new(o, "atypical_hours", json_boolean(db_col_int64(st, 7)));
		json_object_set_new(o, "age_min",
		                    db_col_is_null(st, 8) ? json_null()
		                                          : json_integer(db_col_int64(st, 8)));
		json_object_set_new(o, "age_max",
		                    db_col_is_null(st, 9) ? json_null()
		                                          : json_integer(db_col_int64(st, 9)));
		json_object_set_new(o, "publics", json_string(db_col_text(st, 10)));
		json_object_set_new(o, "source", json_string(db_col_text(st, 11)));
	}
	db_finalize(st);
	return o;
}

static void service_edit(struct req *r, int64_t id)
{
	struct service_form f = {0};
	char *copy[11] = {0};
	if (r->method == M_GET) {
		if (id) {
			struct db_stmt *st = db_queryf(
			    r->db,
			    "SELECT actor_id, kind, name, commune, capacity, opening_days, hours, "
			    "atypical_hours, age_min, age_max, publics FROM services WHERE id = ?",
			    "I", id);
			if (!st || db_step(st) != DB_ROW) {
				db_finalize(st);
				resp_error(r, 404, "Ce service n'existe pas.");
				return;
			}
			for (int k = 0; k < 11; k++) {
				if (k == 4) {
					struct buf nb = {0};
					buf_printf(&nb, "%g", db_col_double(st, 4));
					copy[k] = buf_steal(&nb);
				} else if (k == 7) {
					copy[k] = xstrdup(db_col_int64(st, 7) ? "1" : "");
				} else {
					const char *t = db_col_text(st, k);
					copy[k] = xstrdup(t ? t : "");
				}
			}
			db_finalize(st);
			f = (struct service_form){copy[0], copy[1], copy[2], copy[3],
			                          copy[4], copy[5], copy[6], copy[7],
			                          copy[8], copy[9], copy[10]};
		} else {
			f.kind = req_query(r, "type");
			f.commune = req_query(r, "commune");
		}
		service_form_page(r, id, &f, NULL);
		for (int k = 0; k < 11; k++)
			free(copy[k]);
		return;
	}
	f = (struct service_form){
	    req_form(r, "acteur"),   req_form(r, "type"),      req_form(r, "nom"),
	    req_form(r, "commune"),  req_form(r, "capacite"),  req_form(r, "jours"),
	    req_form(r, "horaires"), req_form(r, "atypiques"), req_form(r, "age_min"),
	    req_form(r, "age_max"),  req_form(r, "publics")};
	const char *error = NULL;
	int64_t actor = 0, days = 0, amin = 0, amax = 0, exists = 0;
	int has_actor, has_days, has_min, has_max;
	double capacity = 0;
	char *name = str_trim_dup(nz(f.name)), *commune = str_trim_dup(nz(f.commune));
	char *hours = str_trim_dup(nz(f.hours)), *publics = str_trim_dup(nz(f.publics));
	if (!offer_kind_valid(f.kind))
		error = "Choisissez un type de service de la liste.";
	else if (!*name || strlen(name) > 200)
		error = "Le nom est obligatoire (200 caractères au plus).";
	else if (strlen(commune) != 5 ||
	         db_int64f(r->db, &exists, "SELECT COUNT(*) FROM communes WHERE code = ?", "s",
	                   commune) != DB_OK ||
	         !exists)
		error = "Commune inconnue : indiquez son code INSEE à 5 caractères (26108 pour "
		        "Crest).";
	else if (opt_int(f.actor, 1, INT64_MAX, &actor, &has_actor) ||
	         (has_actor &&
	          (db_int64f(r->db, &exists, "SELECT COUNT(*) FROM actors WHERE id = ?", "I",
	                     actor) != DB_OK ||
	           !exists)))
		error = "Structure inconnue : indiquez le numéro d'un acteur de l'annuaire, ou "
		        "laissez vide.";
	else if (str_blank(f.capacity) || parse_amount(f.capacity, &capacity) || capacity > 100000)
		error = "La capacité est un nombre de places positif ou nul (100 000 au plus).";
	else if (opt_int(f.days, 0, 366, &days, &has_days))
		error = "Les jours d'ouverture sont un nombre entre 0 et 366.";
	else if (strlen(hours) > 200)
		error = "Horaires : 200 caractères au plus.";
	else if (opt_int(f.age_min, 0, 120, &amin, &has_min) ||
	         opt_int(f.age_max, 0, 120, &amax, &has_max) ||
	         (has_min && has_max && amin > amax) || has_min != has_max)
		error = "Les âges minimal et maximal sont deux nombres d'années entre 0 et 120, le "
		        "minimal au plus égal au maximal (ou laissez les deux vides).";
	else if (strlen(publics) > 500)
		error = "Publics : 500 caractères au plus.";
	if (error) {
		service_form_page(r, id, &f, error);
		r->status = 422;
		goto out;
	}
	int atyp = f.atypical && *f.atypical;
	char now[32];
	time_iso_now(now);
	if (db_begin(r->db) != DB_OK) {
		resp_error(r, 500, "Enregistrement impossible.");
		goto out;
	}
	json_t *before = id ? service_json(r->db, id) : NULL;
	int rc = DB_OK;
	if (id && !before) {
		db_rollback(r->db);
		resp_error(r, 404, "Ce service n'existe pas.");
		goto out;
	}
	struct db_stmt *st = db_prepare(
	    r->db, id ? "UPDATE services SET actor_id = ?, kind = ?, name = ?, commune = ?, "
	                "capacity = ?, opening_days = ?, hours = ?, atypical_hours = ?, age_min = "
	                "?, age_max = ?, publics = ?, updated_at = ? WHERE id = ? RETURNING id"
	              : "INSERT INTO services (actor_id, kind, name, commune, capacity, "
	                "opening_days, hours, atypical_hours, age_min, age_max, publics, "
	                "updated_at, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	                "?, ?, 'saisie') RETURNING id");
	if (!st)
		rc = DB_ERROR;
	else {
		if (has_actor)
			db_bind_int64(st, 1, actor);
		else
			db_bind_null(st, 1);
		db_bind_text(st, 2, f.kind);
		db_bind_text(st, 3, name);
		db_bind_text(st, 4, commune);
		db_bind_double(st, 5, capacity);
		if (has_days)
			db_bind_int64(st, 6, days);
		else
			db_bind_null(st, 6);
		db_bind_text(st, 7, hours);
		db_bind_int64(st, 8, atyp);
		if (has_min) {
			db_bind_int64(st, 9, amin);
			db_bind_int64(st, 10, amax);
		} else {
			db_bind_null(st, 9);
			db_bind_null(st, 10);
		}
		db_bind_text(st, 11, publics);
		db_bind_text(st, 12, now);
		if (id)
			db_bind_int64(st, 13, id);
		else
			db_bind_text(st, 13, now);
		if (db_step(st) == DB_ROW)
			id = db_col_int64(st, 0);
		else
			rc = DB_ERROR;
		db_finalize(st);
	}
	json_t *after = rc == DB_OK ? service_json(r->db, id) : NULL;
	if (rc == DB_OK)
		rc = audit_write_id(r->db, r->user->id, "web", before ? "update" : "create",
		                    "service", id, before, after);
	json_decref(before);
	json_decref(after);
	if (rc != DB_OK || db_commit(r->db) != DB_OK) {
		db_rollback(r->db);
		resp_error(r, 500, "Enregistrement impossible.");
		goto out;
	}
	char *loc = xasprintf("/services?type=%s", f.kind);
	resp_redirect(r, loc);
	free(loc);
out:
	free(name);
	free(commune);
	free(hours);
	free(publics);
}

static void service_new_page(struct req *r)
{
	if (!offer_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs peuvent ajouter "
		           "un service.");
		return;
	}
	service_edit(r, 0);
}

static void service_edit_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id))
		return;
	if (!offer_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs peuvent modifier "
		           "un service.");
		return;
	}
	service_edit(r, id);
}

const struct route offer_routes[] = {
    {M_GET, "/services", ACC_PUBLIC, services_page,
     "Services et équipements du territoire avec leurs capacités (filtres type, commune)"},
    {M_GET | M_POST, "/services/nouveau", ACC_LOGIN, service_new_page,
     "Ajouter un service ou un équipement (administrateurs, coordinateurs)"},
    {M_GET | M_POST, "/services/{service}/modifier", ACC_LOGIN, service_edit_page,
     "Modifier un service ou un équipement (administrateurs, coordinateurs)"},
    {M_GET, "/territoire/couverture", ACC_PUBLIC, coverage_page,
     "Taux de couverture (places pour 100 habitants d'une tranche d'âge) par commune, EPCI, "
     "département ou territoire d'un plan"},
    {M_GET, "/territoire/couverture.csv", ACC_PUBLIC, coverage_page,
     "Taux de couverture en CSV (séparateur « ; », virgule décimale)"},
    {M_GET | M_POST, "/territoire/population/importer", ACC_LOGIN, population_import_page,
     "Importer la population par commune et tranche d'âge (CSV, tout ou rien)"},
    {0},
};
