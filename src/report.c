/* report: the yearly bilan and mid-term review (HTML, PDF, XLSX), the quarterly newsletter
 * (e-mail HTML, plain text) and their pages and command-line entry points. */
#include "report.h"

#include "dashboard.h"
#include "db.h"
#include "embed.h"
#include "fiches.h"
#include "http.h"
#include "layout.h"
#include "plans.h"
#include "svg.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define PCT      "\xe2\x80\xaf%%" /* in a format string */
#define PCT_TEXT "\xe2\x80\xaf%"  /* in plain text */

/* How long the PDF renderer may take before it is stopped. */
#define PDF_TIMEOUT_MS 60000

/* --- temporary directories and the child process --------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : 0;
}

/* Remove a directory and everything in it (without following symbolic links). */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A private (0700) temporary directory; path malloc'ed into *out. 0 or -1. */
static int private_dir(char **out)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/maillage-rapport-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		free(tmpl);
		return -1;
	}
	*out = tmpl;
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

/*
 * Run argv[0] with argv and envp (no shell) in its own process group, standard input from
 * /dev/null, output and errors into log_path. Waits at most timeout_ms, then kills the whole
 * group. Returns the exit status (0 = success), -2 on time-out, -1 when it could not start.
 */
static int run_child(char *const argv[], char *const envp[], const char *log_path, int timeout_ms)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&at);
	sigset_t none, dflt;
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE); /* the server ignores SIGPIPE; the child must not inherit that */
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                  POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return -1;
	int64_t t0 = time_mono_us();
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (time_mono_us() - t0 > (int64_t)timeout_ms * 1000) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -2;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL); /* helpers the renderer may have left behind */
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status)
	                         : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/*
 * The PDF renderer: headless Chromium, chosen over WeasyPrint and over cairo/pango from C.
 * - It is already a dependency of the project (the browser tests run in it), so the server
 *   needs no other package (Debian's chromium; scripts/bootstrap.sh lists it at run time).
 * - It prints exactly the HTML and CSS users see in their browser (the same SVG charts, the
 *   same tables), with CSS paged media: A4 pages, page breaks, and page numbers in @page
 *   margin boxes (Chromium ≥ 131).
 * - It is fast enough: the bilan of the demo CTG (122 fiches, 46 A4 pages) prints in 1.2 s on
 *   a quiet reference machine (2.1 s under load) where WeasyPrint 57 (Debian bookworm) took
 *   5.5 s for the same document; the 200-fiche bench plan prints in 3–4 s (bench/README.md).
 *   cairo/pango from C would mean writing a layout engine for tables and charts.
 * The document is written to a private directory and given as a file:// URL; its own
 * Content-Security-Policy (default-src 'none') forbids any fetch and any script, and the
 * browser runs with networking features off, a throw-away profile in the same directory, and
 * a time limit. --no-sandbox: the renderer runs as the server's user, often root in a
 * container, where Chromium's sandbox cannot start; the page it renders is maillage's own,
 * with scripts disabled by the CSP above.
 */
static const char *chromium_path(void)
{
	const char *env = getenv("MAILLAGE_CHROMIUM");
	if (env && *env)
		return env;
	if (access("/usr/lib/chromium/chromium", X_OK) == 0)
		return "/usr/lib/chromium/chromium";
	return "/usr/bin/chromium";
}

int report_pdf_render(const char *html, size_t len, struct buf *pdf, char **err)
{
	char *dir = NULL;
	if (private_dir(&dir)) {
		*err = xstrdup("Création d'un dossier temporaire impossible pour produire le PDF.");
		return -1;
	}
	char *in = xasprintf("%s/document.html", dir);
	char *outp = xasprintf("%s/document.pdf", dir);
	char *log = xasprintf("%s/renderer.log", dir);
	char *url = xasprintf("file://%s", in);
	char *a_out = xasprintf("--print-to-pdf=%s", outp);
	char *a_prof = xasprintf("--user-data-dir=%s/profile", dir);
	char *e_home = xasprintf("HOME=%s", dir);
	char *e_xdg = xasprintf("XDG_CONFIG_HOME=%s", dir);
	char *e_cache = xasprintf("XDG_CACHE_HOME=%s", dir);
	int rc = -1;
	if (write_file(in, html, len)) {
		*err = xstrdup("Écriture du document temporaire impossible pour produire le PDF.");
		goto out;
	}
	const char *bin = chromium_path();
	char *const argv[] = {(char *)bin,
	                      "--headless",
	                      "--no-sandbox",
	                      "--disable-gpu",
	                      "--no-first-run",
	                      "--no-default-browser-check",
	                      "--disable-extensions",
	                      "--disable-background-networking",
	                      "--disable-component-update",
	                      "--disable-sync",
	                      "--disable-default-apps",
	                      "--disable-dev-shm-usage",
	                      "--mute-audio",
	                      "--no-pdf-header-footer",
	                      "--run-all-compositor-stages-before-draw",
	                      a_prof,
	                      a_out,
	                      url,
	                      NULL};
	char *const envp[] = {e_home, e_xdg, e_cache, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
	int st = run_child(argv, envp, log, PDF_TIMEOUT_MS);
	size_t n = 0;
	char *bytes = file_read_all(outp, &n);
	if (st == -1) {
		*err =
		    xasprintf("Le moteur de rendu PDF (%s) n'a pas pu être lancé : est-il installé "
		              "(paquet chromium) ?",
		              bin);
	} else if (st == -2) {
		*err = xasprintf("Le moteur de rendu PDF n'a pas terminé en %d secondes : document "
		                 "abandonné.",
		                 PDF_TIMEOUT_MS / 1000);
	} else if (!bytes || n < 5 || memcmp(bytes, "%PDF", 4) != 0) {
		*err = xasprintf("Le moteur de rendu PDF a échoué (code %d) : aucun document "
		                 "produit.",
		                 st);
	} else {
		buf_append(pdf, bytes, n);
		rc = 0;
	}
	free(bytes);
out:
	rm_tree(dir);
	free(dir);
	free(in);
	free(outp);
	free(log);
	free(url);
	free(a_out);
	free(a_prof);
	free(e_home);
	free(e_xdg);
	free(e_cache);
	return rc;
}

/* --- the bilan's data ----------------------------------------------------------------------- */

struct fiche_extra {
	char *start, *end, *closing_note, *pilots; /* pilots: structures, ", "-joined */
};

struct bilan {
	struct dash_plan p;
	struct dash_indicator *ind;
	size_t nind;
	int year;          /* 0 for the mid-term review */
	char asof[16];     /* measurements count up to this day */
	char produced[16]; /* today */
	char *territory;
	struct fiche_extra *fx; /* by node index */
	char doc_title[160];
};

static void bilan_free(struct bilan *b)
{
	for (size_t i = 0; b->fx && i < b->p.n; i++) {
		free(b->fx[i].start);
		free(b->fx[i].end);
		free(b->fx[i].closing_note);
		free(b->fx[i].pilots);
	}
	free(b->fx);
	free(b->territory);
	dash_indicators_free(b->ind, b->nind);
	dash_plan_free(&b->p);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static int bilan_load(struct db *db, int64_t plan_id, int year, struct bilan *b, char **err)
{
	memset(b, 0, sizeof *b);
	if (dash_plan_load(db, plan_id, &b->p)) {
		*err = xstrdup("Ce plan n'existe pas.");
		return -1;
	}
	fiche_today(b->produced);
	double today = svg_days_from_iso(b->produced);
	double asof;
	if (year) {
		if (year < 1900 || year > 2999 ||
		    (b->p.start_year && b->p.end_year &&
		     (year < b->p.start_year || year > b->p.end_year))) {
			*err = xasprintf("L'année %d n'est pas dans la période du plan (%d – %d).",
			                 year, b->p.start_year, b->p.end_year);
			return -1;
		}
		char iso[16];
		snprintf(iso, sizeof iso, "%04d-12-31", year);
		asof = svg_days_from_iso(iso);
		snprintf(b->doc_title, sizeof b->doc_title, "Bilan %d", year);
	} else {
		char a[16], z[16];
		snprintf(a, sizeof a, "%04d-01-01", b->p.start_year ? b->p.start_year : 2000);
		snprintf(z, sizeof z, "%04d-12-31",
		         b->p.end_year ? b->p.end_year
		                       : (b->p.start_year ? b->p.start_year : 2000));
		asof = floor((svg_days_from_iso(a) + svg_days_from_iso(z)) / 2);
		snprintf(b->doc_title, sizeof b->doc_title, "Revue à mi-parcours");
	}
	if (asof > today)
		asof = today;
	b->year = year;
	svg_iso_from_days(b->asof, asof);
	dash_rollup(&b->p);
	b->nind = dash_indicators_load(db, &b->p, asof, &b->ind);

	b->fx = xcalloc(b->p.n + 1, sizeof *b->fx);
	struct db_stmt *st = db_queryf(db,
	                               "SELECT f.node_id, f.start_date, f.end_date, f.closing_note "
	                               "FROM fiches f JOIN nodes n ON n.id = f.node_id "
	                               "WHERE n.plan_id = ?",
	                               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		size_t i = dash_node_index(&b->p, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		b->fx[i].start = dup_or_null(db_col_text(st, 1));
		b->fx[i].end = dup_or_null(db_col_text(st, 2));
		b->fx[i].closing_note = dup_or_null(db_col_text(st, 3));
	}
	db_finalize(st);
	/* Pilots: structures only (the bilan goes to a public assembly). */
	st = db_queryf(db,
	               "SELECT fp.node_id, a.name FROM fiche_pilots fp JOIN actors a "
	               "ON a.id = fp.actor_id JOIN nodes n ON n.id = fp.node_id "
	               "WHERE n.plan_id = ? ORDER BY fp.node_id, a.name",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		size_t i = dash_node_index(&b->p, db_col_int64(st, 0));
		if (i == (size_t)-1)
			continue;
		char *old = b->fx[i].pilots;
		b->fx[i].pilots = old ? xasprintf("%s, %s", old, db_col_text(st, 1))
		                      : xstrdup(db_col_text(st, 1));
		free(old);
	}
	db_finalize(st);
	/* Territory in words. */
	struct buf t = {0};
	st = db_queryf(db,
	               "SELECT COALESCE(e.name, d.name, c.name, t.code) FROM plan_territory t "
	               "LEFT JOIN epcis e ON t.scope = 'epci' AND e.code = t.code "
	               "LEFT JOIN departements d ON t.scope = 'departement' AND d.code = t.code "
	               "LEFT JOIN communes c ON t.scope = 'commune' AND c.code = t.code "
	               "WHERE t.plan_id = ? ORDER BY t.scope, 1",
	               "I", plan_id);
	while (st && db_step(st) == DB_ROW) {
		if (t.len)
			buf_puts(&t, ", ");
		buf_puts(&t, db_col_text(st, 0));
	}
	db_finalize(st);
	b->territory = t.len ? buf_steal(&t) : xstrdup("non précisé");
	buf_free(&t);
	return 0;
}

/* The indicators of one fiche: [first, last) in b->ind (they are in tree order). */
static void fiche_indicators(const struct bilan *b, int64_t node, size_t *first, size_t *last)
{
	size_t i = 0;
	while (i < b->nind && b->ind[i].node_id != node)
		i++;
	*first = i;
	while (i < b->nind && b->ind[i].node_id == node)
		i++;
	*last = i;
}

/* The target of an indicator for a year, or NAN. */
static double target_of(const struct dash_indicator *ind, int year)
{
	for (size_t t = 0; t < ind->ntargets; t++)
		if (ind->targets[t].year == year)
			return ind->targets[t].value;
	return NAN;
}

static const char *track_text(int t)
{
	return t == DASH_ON_TRACK ? "dans la trajectoire"
	       : t == DASH_LATE   ? "en retard"
	                          : "non évalué";
}

static int target_year(const struct bilan *b)
{
	return b->year ? b->year : atoi(b->asof);
}

/* --- the bilan as HTML ----------------------------------------------------------------------- */

static int fiche_level(const struct dash_node *nd)
{
	return nd->status == DASH_S_ACHEVEE ? DASH_ACHEVEE : nd->level;
}

static void fiche_block(struct buf *o, const struct bilan *b, size_t i, int h)
{
	const struct dash_node *nd = &b->p.nodes[i];
	const struct fiche_extra *fx = &b->fx[i];
	html_printf(o, "<article class=\"fiche\"><h%d>%s %s</h%d><dl class=\"facts\">", h,
	            nd->number, nd->title, h);
	html_printf(
	    o, "<div><dt>Statut</dt><dd>%s</dd></div><div><dt>Avancement</dt><dd>%s</dd></div>",
	    dash_status_label(nd->status), dash_level_label(fiche_level(nd)));
	char a[64] = "", z[64] = "";
	fiche_date_fr(a, fx->start);
	fiche_date_fr(z, fx->end);
	if (*a || *z)
		html_printf(o, "<div><dt>Période</dt><dd>%s – %s</dd></div>", *a ? a : "?",
		            *z ? z : "?");
	if (fx->pilots)
		html_printf(o, "<div><dt>Structures pilotes</dt><dd>%s</dd></div>", fx->pilots);
	buf_puts(o, "</dl>");
	size_t first, last;
	fiche_indicators(b, nd->id, &first, &last);
	if (first == last) {
		buf_puts(o, "<p class=\"muted\">Aucun indicateur.</p>");
	} else {
		char asof[64];
		fiche_date_fr(asof, b->asof);
		int ty = target_year(b);
		html_printf(
		    o,
		    "<div class=\"table-wrap\" tabindex=\"0\"><table><caption>Indicateurs de la "
		    "fiche %s"
		    "</caption><thead><tr><th scope=\"col\">Indicateur</th><th scope=\"col\">"
		    "Nature</th><th scope=\"col\" class=\"num\">Référence</th><th "
		    "scope=\"col\" class=\"num\">Cible %d</th><th scope=\"col\" class=\"num\">"
		    "Valeur au %s</th><th scope=\"col\">État</th></tr></thead><tbody>",
		    nd->number, ty, asof);
		for (size_t k = first; k < last; k++) {
			const struct dash_indicator *ind = &b->ind[k];
			char base[48] = "–", tgt[48] = "–";
			struct buf val = {0};
			if (ind->has_baseline)
				svg_number(base, ind->baseline, 1);
			double t = target_of(ind, ty);
			if (!isnan(t))
				svg_number(tgt, t, 1);
			if (ind->nmeasures) {
				const struct dash_measure *m = &ind->measures[ind->nmeasures - 1];
				char num[48], d[48];
				svg_date_fr(d, m->day);
				if (m->has_value)
					svg_number(num, m->value, 1);
				html_printf(&val, "%s (%s)",
				            m->has_value ? num : (m->text ? m->text : "–"), d);
			} else {
				buf_puts(&val, "–");
			}
			html_printf(o,
			            "<tr><th scope=\"row\">%s%R%s%R</th><td>%s</td><td "
			            "class=\"num\">%s</td><td class=\"num\">%s</td><td "
			            "class=\"num\">%R</td><td>%s</td></tr>",
			            ind->name, *ind->unit ? " <span class=\"muted\">(" : "",
			            ind->unit, *ind->unit ? ")</span>" : "",
			            !strcmp(ind->kind, "impact") ? "Impact" : "Réalisation", base,
			            tgt, buf_str(&val), track_text(ind->track));
			buf_free(&val);
		}
		buf_puts(o, "</tbody></table></div>");
	}
	if (fx->closing_note) {
		buf_puts(o, "<div class=\"closing\"><p><strong>Note de clôture</strong></p>"
		            "<div class=\"prose\">");
		markdown_render(o, fx->closing_note);
		buf_puts(o, "</div></div>");
	}
	buf_puts(o, "</article>\n");
}

static void subtree_blocks(struct buf *o, const struct bilan *b, const size_t *idx, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		const struct dash_node *nd = &b->p.nodes[i];
		int h = nd->depth + 2 > 6 ? 6 : nd->depth + 2;
		if (nd->is_fiche) {
			if (nd->status != DASH_S_PROPOSEE)
				fiche_block(o, b, i, h);
		} else {
			html_printf(o, "<h%d class=\"node-heading\">%s %s</h%d>", h, nd->number,
			            nd->title, h);
		}
		subtree_blocks(o, b, b->p.kids + nd->first_child, nd->nchildren);
	}
}

static void summary_line(struct buf *o, const struct dash_node *nd)
{
	if (!nd->tracked) {
		buf_puts(o, "<p>Aucune fiche suivie.</p>");
		return;
	}
	double c[DASH_NLEVELS];
	int pct[DASH_NLEVELS];
	for (int l = 0; l < DASH_NLEVELS; l++)
		c[l] = nd->levels[dash_level_order[l]];
	svg_percentages(c, DASH_NLEVELS, pct);
	html_printf(o,
	            "<p class=\"summary\"><strong>%d fiche%R suivie%R</strong> : %d" PCT
	            " achevées, %d" PCT " bien engagées, %d" PCT " peu engagées, %d" PCT
	            " non engagées.</p>",
	            nd->tracked, nd->tracked > 1 ? "s" : "", nd->tracked > 1 ? "s" : "", pct[0],
	            pct[1], pct[2], pct[3]);
}

/* The body of the bilan (cover to last fiche), shared by the page, the file and the PDF. */
static void bilan_body(struct buf *o, const struct bilan *b)
{
	char produced[64], asof[64];
	fiche_date_fr(produced, b->produced);
	fiche_date_fr(asof, b->asof);
	html_printf(o,
	            "<header class=\"cover\"><p class=\"eyebrow\">%s</p><h1>%s</h1>"
	            "<p class=\"lead\">%s</p><dl class=\"facts\">"
	            "<div><dt>Période du plan</dt><dd>%d – %d</dd></div>"
	            "<div><dt>Territoire</dt><dd>%s</dd></div>"
	            "<div><dt>Indicateurs</dt><dd>mesures jusqu'au %s</dd></div>"
	            "<div><dt>Avancement</dt><dd>état au %s</dd></div>"
	            "<div><dt>Document produit le</dt><dd>%s</dd></div></dl></header>\n",
	            plan_kind_label(b->p.kind), b->doc_title, b->p.title, b->p.start_year,
	            b->p.end_year, b->territory, asof, produced, produced);

	int counts[3] = {0};
	for (size_t i = 0; i < b->nind; i++)
		counts[b->ind[i].track]++;
	int rated = counts[DASH_ON_TRACK] + counts[DASH_LATE];
	buf_puts(o, "<section class=\"summary-figures\" aria-labelledby=\"chiffres\"><h2 "
	            "id=\"chiffres\">Chiffres clés</h2>");
	dash_progress_stats(o, &b->p.all);
	double sh[2] = {counts[DASH_ON_TRACK], counts[DASH_LATE]};
	int pct[2];
	svg_percentages(sh, 2, pct);
	html_printf(o, "<p>%d fiche%R au total. ", b->p.all.fiches, b->p.all.fiches > 1 ? "s" : "");
	if (b->nind)
		html_printf(o, "%zu indicateur%R, dont %d évalué%R : ", b->nind,
		            b->nind > 1 ? "s" : "", rated, rated > 1 ? "s" : "");
	if (!b->nind)
		buf_puts(o, "Aucun indicateur renseigné.</p>");
	else if (rated)
		html_printf(o, "%d" PCT " dans la trajectoire (%d), %d en retard.</p>", pct[0],
		            counts[DASH_ON_TRACK], counts[DASH_LATE]);
	else
		buf_puts(o, "aucun ne peut encore être comparé à sa cible.</p>");
	buf_puts(o, "</section>\n");

	buf_puts(o, "<section aria-labelledby=\"repartition\"><h2 id=\"repartition\">Répartition "
	            "de l'avancement</h2>");
	dash_progress_figure(o, &b->p, NULL, "bilan-avancement", "Avancement des fiches-actions",
	                     0);
	const struct dash_node *all = &b->p.all;
	html_printf(o, "<p>Hors calcul : %d proposée%R, %d ajournée%R, %d abandonnée%R.</p>",
	            all->statuses[DASH_S_PROPOSEE], all->statuses[DASH_S_PROPOSEE] > 1 ? "s" : "",
	            all->statuses[DASH_S_AJOURNEE], all->statuses[DASH_S_AJOURNEE] > 1 ? "s" : "",
	            all->statuses[DASH_S_ABANDONNEE],
	            all->statuses[DASH_S_ABANDONNEE] > 1 ? "s" : "");
	dash_rule_html(o);
	dash_track_rule_html(o);
	buf_puts(o, "</section>\n");

	const char *lvl0 = b->p.levels[0] ? b->p.levels[0] : "Axe";
	for (size_t k = 0; k < b->p.nroots; k++) {
		size_t i = b->p.roots[k];
		const struct dash_node *nd = &b->p.nodes[i];
		html_printf(o,
		            "<section class=\"axis\" aria-labelledby=\"axe-%lld\"><h2 "
		            "id=\"axe-%lld\"><span class=\"eyebrow\">%s %s</span> %s</h2>",
		            (long long)nd->id, (long long)nd->id, lvl0, nd->number, nd->title);
		if (nd->is_fiche) {
			fiche_block(o, b, i, 3);
		} else {
			summary_line(o, nd);
			int sub = 0;
			for (size_t c = 0; c < nd->nchildren; c++)
				if (!b->p.nodes[b->p.kids[nd->first_child + c]].is_fiche)
					sub = 1;
			if (sub) {
				char id[40],
				    *title = xasprintf("Avancement — %s %s", nd->number, nd->title);
				snprintf(id, sizeof id, "bilan-axe-%lld", (long long)nd->id);
				dash_progress_figure(o, &b->p, nd, id, title, 0);
				free(title);
			}
			subtree_blocks(o, b, b->p.kids + nd->first_child, nd->nchildren);
		}
		buf_puts(o, "</section>\n");
	}
}

/* Escape a string for a CSS string literal: anything but letters, digits, spaces and UTF-8
 * bytes becomes a hexadecimal escape (so "</style>" cannot end the style element). */
static void css_string(struct buf *o, const char *s)
{
	buf_putc(o, '"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == ',' || c == '.')
			buf_putc(o, (char)c);
		else
			buf_printf(o, "\\%x ", c);
	}
	buf_putc(o, '"');
}

/* The print stylesheet of the standalone document, after the site's own. */
static const char print_css[] =
    "@page { size: A4; margin: 16mm 15mm 18mm; "
    "@bottom-right { content: counter(page) \"\\a0/\\a0\" counter(pages); "
    "font: 9pt system-ui, sans-serif; color: #444; } }\n"
    "@page :first { @bottom-left { content: none; } @bottom-right { content: none; } }\n"
    "html { font-size: 10.5pt; } body { background: #fff; margin: 0; }\n"
    "main { max-width: none; padding: 0; }\n"
    ".cover { min-height: 230mm; display: flex; flex-direction: column; justify-content: "
    "center; break-after: page; border-left: 6mm solid #0b5c56; padding-left: 10mm; }\n"
    ".cover h1 { font-size: 30pt; margin: .2em 0; } .cover .lead { font-size: 15pt; }\n"
    "section.axis { break-before: page; }\n"
    "article.fiche { break-inside: avoid; border-top: 1px solid #bbb; padding-top: .4em; "
    "margin-top: .8em; }\n"
    "figure.chart { break-inside: avoid; margin: 0 0 1em; } figure.chart svg { width: 100%; "
    "max-width: 150mm; height: auto; }\n"
    "table { width: 100%; border-collapse: collapse; font-size: 9pt; } th, td { border: 1px "
    "solid #999; padding: 2px 4px; text-align: left; } td.num, th.num { text-align: right; }\n"
    "caption { text-align: left; font-weight: 600; }\n"
    ".stats { display: flex; flex-wrap: wrap; gap: 4mm; list-style: none; padding: 0; }\n"
    ".stat { border: 1px solid #999; padding: 2mm 4mm; display: flex; flex-direction: "
    "column; } .stat .value { font-size: 16pt; font-weight: 700; }\n"
    ".facts { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; } .facts "
    "> div { display: contents; } .facts dt { font-weight: 600; } .facts dd { margin: 0; }\n"
    ".muted, .hint { color: #444; } .visually-hidden { position: absolute; width: 1px; "
    "height: 1px; overflow: hidden; clip: rect(0 0 0 0); }\n"
    ".panel { border: 1px solid #999; padding: 2mm 4mm; }\n";

/* The standalone document: its own stylesheet and a policy that forbids every fetch. */
static void bilan_document(struct buf *o, const struct bilan *b)
{
	html_printf(o,
	            "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
	            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	            "style-src 'unsafe-inline'; img-src data:\">\n"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	            "<title>%s — %s</title>\n<style>\n",
	            b->doc_title, b->p.title);
	const struct embed_file *css = embed_find("assets/style.css");
	if (css) {
		/* the site's stylesheet is ours; it holds no "</style" */
		buf_append(o, css->data, css->size);
		buf_putc(o, '\n');
	}
	buf_puts(o, print_css);
	buf_puts(o, "@page { @bottom-left { content: ");
	char *foot = xasprintf("%s — %s", b->p.title, b->doc_title);
	css_string(o, foot);
	free(foot);
	buf_puts(o, "; font: 9pt system-ui, sans-serif; color: #444; } }\n</style>\n</head>\n"
	            "<body class=\"report\">\n<main>\n");
	bilan_body(o, b);
	buf_puts(o, "</main>\n</body>\n</html>\n");
}

/* --- the bilan as XLSX -------------------------------------------------------------------------
 */

/* A worksheet name: at most 31 characters, none of []:*?/\, unique in the workbook. */
static void sheet_name(char out[64], const char *want, char used[][64], int nused)
{
	char base[64];
	size_t o = 0, chars = 0;
	for (const char *s = want; *s && o < 60; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xC0) != 0x80) {
			if (chars == 28)
				break;
			chars++;
		}
		base[o++] = strchr("[]:*?/\\", c) ? '-' : (char)c;
	}
	base[o] = '\0';
	snprintf(out, 64, "%s", base);
	for (int k = 2;; k++) {
		int clash = 0;
		for (int i = 0; i < nused; i++)
			if (!strcasecmp(used[i], out))
				clash = 1;
		if (!clash)
			return;
		snprintf(out, 64, "%.40s %d", base, k);
	}
}

static void write_str(lxw_worksheet *ws, int row, int col, const char *s, lxw_format *f)
{
	worksheet_write_string(ws, (lxw_row_t)row, (lxw_col_t)col, s ? s : "", f);
}

static void write_num(lxw_worksheet *ws, int row, int col, double v, lxw_format *f)
{
	if (isnan(v))
		worksheet_write_blank(ws, (lxw_row_t)row, (lxw_col_t)col, f);
	else
		worksheet_write_number(ws, (lxw_row_t)row, (lxw_col_t)col, v, f);
}

static void header_row(lxw_worksheet *ws, const char *const *cols, int n, lxw_format *bold)
{
	for (int c = 0; c < n; c++) {
		write_str(ws, 0, c, cols[c], bold);
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 1 ? 48 : 16, NULL);
	}
	worksheet_freeze_panes(ws, 1, 0);
}

static int bilan_xlsx(const struct bilan *b, struct buf *out, char **err)
{
	char *dir = NULL;
	if (private_dir(&dir)) {
		*err = xstrdup("Création d'un dossier temporaire impossible pour le classeur.");
		return -1;
	}
	char *path = xasprintf("%s/bilan.xlsx", dir);
	lxw_workbook_options opts = {.constant_memory = LXW_FALSE, .tmpdir = dir};
	lxw_workbook *wb = workbook_new_opt(path, &opts);
	int rc = -1;
	if (!wb) {
		*err = xstrdup("Création du classeur impossible.");
		goto out;
	}
	char title[256];
	snprintf(title, sizeof title, "%s — %s", b->doc_title, b->p.title);
	lxw_doc_properties props = {.title = title, .author = "maillage"};
	workbook_set_properties(wb, &props);
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	format_set_bg_color(bold, 0xE3EFED);
	lxw_format *pctf = workbook_add_format(wb);
	format_set_num_format(pctf, "0%");
	lxw_format *numf = workbook_add_format(wb);
	format_set_num_format(numf, "# ##0.##");
	char used[16][64];
	int nused = 0;

	/* Summary */
	lxw_worksheet *ws = workbook_add_worksheet(wb, "Synthèse");
	snprintf(used[nused++], 64, "Synthèse");
	static const char *const scols[] = {"Mesure", "Valeur", "Part"};
	header_row(ws, scols, 3, bold);
	int row = 1;
	write_str(ws, row, 0, "Fiches (toutes)", NULL);
	write_num(ws, row++, 1, b->p.all.fiches, NULL);
	write_str(ws, row, 0, "Fiches suivies", NULL);
	write_num(ws, row++, 1, b->p.all.tracked, NULL);
	for (int l = 0; l < DASH_NLEVELS; l++) {
		int lv = dash_level_order[l];
		write_str(ws, row, 0, dash_level_label(lv), NULL);
		write_num(ws, row, 1, b->p.all.levels[lv], NULL);
		write_num(ws, row++, 2,
		          b->p.all.tracked ? (double)b->p.all.levels[lv] / b->p.all.tracked : NAN,
		          pctf);
	}
	for (int s = 0; s < DASH_NSTATUSES; s++) {
		char *label = xasprintf("Statut : %s", dash_status_label(s));
		write_str(ws, row, 0, label, NULL);
		free(label);
		write_num(ws, row++, 1, b->p.all.statuses[s], NULL);
	}
	int counts[3] = {0};
	for (size_t i = 0; i < b->nind; i++)
		counts[b->ind[i].track]++;
	write_str(ws, row, 0, "Indicateurs", NULL);
	write_num(ws, row++, 1, (double)b->nind, NULL);
	write_str(ws, row, 0, "Indicateurs dans la trajectoire", NULL);
	write_num(ws, row, 1, counts[DASH_ON_TRACK], NULL);
	int rated = counts[DASH_ON_TRACK] + counts[DASH_LATE];
	write_num(ws, row++, 2, rated ? (double)counts[DASH_ON_TRACK] / rated : NAN, pctf);
	write_str(ws, row, 0, "Indicateurs en retard", NULL);
	write_num(ws, row++, 1, counts[DASH_LATE], NULL);
	write_str(ws, row, 0, "Indicateurs non évalués", NULL);
	write_num(ws, row++, 1, counts[DASH_UNRATED], NULL);
	write_str(ws, row, 0, "Mesures jusqu'au", NULL);
	write_str(ws, row++, 1, b->asof, NULL);

	/* One sheet per level of the tree (nodes that are not fiches). */
	int maxdepth = -1;
	for (size_t i = 0; i < b->p.n; i++)
		if (b->p.nodes[i].reachable && !b->p.nodes[i].is_fiche &&
		    b->p.nodes[i].depth > maxdepth)
			maxdepth = b->p.nodes[i].depth;
	static const char *const ncols[] = {
	    "Numéro",         "Intitulé",       "Fiches",       "Fiches suivies", "Achevées",
	    "Bien engagées",  "Peu engagées",   "Non engagées", "% achevées",     "% bien engagées",
	    "% peu engagées", "% non engagées", "Proposées",    "Ajournées",      "Abandonnées"};
	size_t *order = xcalloc(b->p.n + 1, sizeof *order);
	for (size_t i = 0; i < b->p.n; i++)
		if (b->p.nodes[i].reachable)
			order[b->p.nodes[i].pre] = i + 1;
	for (int d = 0; d <= maxdepth && d < 8 && nused < 12; d++) {
		char name[64], want[80];
		snprintf(want, sizeof want, "%s", b->p.levels[d] ? b->p.levels[d] : "Niveau");
		if (!b->p.levels[d])
			snprintf(want, sizeof want, "Niveau %d", d + 1);
		sheet_name(name, want, used, nused);
		snprintf(used[nused++], 64, "%s", name);
		ws = workbook_add_worksheet(wb, name);
		header_row(ws, ncols, 15, bold);
		row = 1;
		for (size_t k = 0; k < b->p.n; k++) {
			if (!order[k])
				continue;
			const struct dash_node *nd = &b->p.nodes[order[k] - 1];
			if (nd->is_fiche || nd->depth != d)
				continue;
			write_str(ws, row, 0, nd->number, NULL);
			write_str(ws, row, 1, nd->title, NULL);
			write_num(ws, row, 2, nd->fiches, NULL);
			write_num(ws, row, 3, nd->tracked, NULL);
			for (int l = 0; l < DASH_NLEVELS; l++) {
				int lv = dash_level_order[l];
				write_num(ws, row, 4 + l, nd->levels[lv], NULL);
				write_num(ws, row, 8 + l,
				          nd->tracked ? (double)nd->levels[lv] / nd->tracked : NAN,
				          pctf);
			}
			write_num(ws, row, 12, nd->statuses[DASH_S_PROPOSEE], NULL);
			write_num(ws, row, 13, nd->statuses[DASH_S_AJOURNEE], NULL);
			write_num(ws, row, 14, nd->statuses[DASH_S_ABANDONNEE], NULL);
			row++;
		}
	}

	/* The fiches */
	char name[64];
	sheet_name(name, "Fiches-actions", used, nused);
	snprintf(used[nused++], 64, "%s", name);
	ws = workbook_add_worksheet(wb, name);
	static const char *const fcols[] = {
	    "Numéro", "Intitulé", "Élément parent",     "Statut",      "Avancement",
	    "Début",  "Fin",      "Structures pilotes", "Indicateurs", "Note de clôture"};
	header_row(ws, fcols, 10, bold);
	row = 1;
	for (size_t k = 0; k < b->p.n; k++) {
		if (!order[k])
			continue;
		size_t i = order[k] - 1;
		const struct dash_node *nd = &b->p.nodes[i];
		if (!nd->is_fiche)
			continue;
		size_t pi = nd->parent ? dash_node_index(&b->p, nd->parent) : (size_t)-1;
		char *parent = pi != (size_t)-1
		                   ? xasprintf("%s %s", b->p.nodes[pi].number, b->p.nodes[pi].title)
		                   : xstrdup("");
		size_t first, last;
		fiche_indicators(b, nd->id, &first, &last);
		write_str(ws, row, 0, nd->number, NULL);
		write_str(ws, row, 1, nd->title, NULL);
		write_str(ws, row, 2, parent, NULL);
		write_str(ws, row, 3, dash_status_label(nd->status), NULL);
		write_str(ws, row, 4, dash_level_label(fiche_level(nd)), NULL);
		write_str(ws, row, 5, b->fx[i].start, NULL);
		write_str(ws, row, 6, b->fx[i].end, NULL);
		write_str(ws, row, 7, b->fx[i].pilots, NULL);
		write_num(ws, row, 8, (double)(last - first), NULL);
		write_str(ws, row, 9, b->fx[i].closing_note, NULL);
		free(parent);
		row++;
	}
	worksheet_autofilter(ws, 0, 0, (lxw_row_t)(row > 1 ? row - 1 : 1), 9);

	/* The indicators */
	sheet_name(name, "Indicateurs", used, nused);
	snprintf(used[nused++], 64, "%s", name);
	ws = workbook_add_worksheet(wb, name);
	char tcol[32];
	snprintf(tcol, sizeof tcol, "Cible %d", target_year(b));
	const char *const icols[] = {"Fiche",
	                             "Indicateur",
	                             "Nature",
	                             "Unité",
	                             "Sens souhaité",
	                             "Référence",
	                             "Date de référence",
	                             tcol,
	                             "Dernière valeur",
	                             "Date de la valeur",
	                             "Valeur attendue",
	                             "État"};
	header_row(ws, icols, 12, bold);
	row = 1;
	int ty = target_year(b);
	for (size_t k = 0; k < b->nind; k++) {
		const struct dash_indicator *ind = &b->ind[k];
		const struct dash_node *nd = &b->p.nodes[dash_node_index(&b->p, ind->node_id)];
		write_str(ws, row, 0, nd->number, NULL);
		write_str(ws, row, 1, ind->name, NULL);
		write_str(ws, row, 2, !strcmp(ind->kind, "impact") ? "Impact" : "Réalisation",
		          NULL);
		write_str(ws, row, 3, ind->unit, NULL);
		write_str(ws, row, 4, !strcmp(ind->direction, "down") ? "baisse" : "hausse", NULL);
		write_num(ws, row, 5, ind->has_baseline ? ind->baseline : NAN, numf);
		char iso[16] = "";
		if (ind->baseline_day > -1e8)
			svg_iso_from_days(iso, ind->baseline_day);
		write_str(ws, row, 6, iso, NULL);
		write_num(ws, row, 7, target_of(ind, ty), numf);
		if (ind->nmeasures) {
			const struct dash_measure *m = &ind->measures[ind->nmeasures - 1];
			if (m->has_value)
				write_num(ws, row, 8, m->value, numf);
			else
				write_str(ws, row, 8, m->text, NULL);
			svg_iso_from_days(iso, m->day);
			write_str(ws, row, 9, iso, NULL);
		}
		write_num(ws, row, 10, ind->track != DASH_UNRATED ? ind->expected : NAN, numf);
		write_str(ws, row, 11, track_text(ind->track), NULL);
		row++;
	}
	free(order);
	lxw_error e = workbook_close(wb);
	wb = NULL;
	if (e != LXW_NO_ERROR) {
		*err = xasprintf("Écriture du classeur impossible : %s.", lxw_strerror(e));
		goto out;
	}
	size_t n = 0;
	char *bytes = file_read_all(path, &n);
	if (!bytes) {
		*err = xstrdup("Lecture du classeur produit impossible.");
		goto out;
	}
	buf_append(out, bytes, n);
	free(bytes);
	rc = 0;
out:
	rm_tree(dir);
	free(dir);
	free(path);
	return rc;
}

int report_bilan(struct db *db, int64_t plan_id, int year, enum report_format format,
                 struct buf *out, char **err)
{
	struct bilan b;
	if (bilan_load(db, plan_id, year, &b, err)) {
		bilan_free(&b);
		return -1;
	}
	int rc = 0;
	if (format == REPORT_XLSX) {
		rc = bilan_xlsx(&b, out, err);
	} else {
		struct buf html = {0};
		bilan_document(&html, &b);
		if (format == REPORT_PDF)
			rc = report_pdf_render(html.data, html.len, out, err);
		else
			buf_append(out, html.data, html.len);
		buf_free(&html);
	}
	bilan_free(&b);
	return rc;
}

/* --- the newsletter ------------------------------------------------------------------------------
 */

struct move {
	size_t ind;           /* into letter.ind */
	double before, after; /* previous value (or baseline), last value of the period */
	double day;           /* of the last value */
	double score;         /* |relative change|, for ordering */
};

struct letter {
	struct dash_plan p;
	char from[16], to[16], produced[16];
	size_t *news, nnews; /* node indexes of new fiches */
	size_t *done, ndone; /* node indexes of fiches achieved in the period */
	struct dash_indicator *ind;
	size_t nind;
	struct move *moves;
	size_t nmoves;
};

static void letter_free(struct letter *l)
{
	free(l->news);
	free(l->done);
	free(l->moves);
	dash_indicators_free(l->ind, l->nind);
	dash_plan_free(&l->p);
}

/* Append node index i to a set kept in tree order, once. */
static void set_add(const struct dash_plan *p, size_t **v, size_t *n, size_t i)
{
	for (size_t k = 0; k < *n; k++)
		if ((*v)[k] == i)
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	size_t k = *n;
	while (k > 0 && p->nodes[(*v)[k - 1]].pre > p->nodes[i].pre) {
		(*v)[k] = (*v)[k - 1];
		k--;
	}
	(*v)[k] = i;
	(*n)++;
}

static int move_cmp(const void *a, const void *b)
{
	const struct move *x = a, *y = b;
	return (x->score < y->score) - (x->score > y->score);
}

static int letter_load(struct db *db, int64_t plan_id, const char *from, const char *to,
                       struct letter *l, char **err)
{
	memset(l, 0, sizeof *l);
	if (!fiche_date_valid(from) || !fiche_date_valid(to) || strcmp(from, to) > 0) {
		*err = xstrdup("La période n'est pas valide : deux dates AAAA-MM-JJ, la première "
		               "avant la seconde.");
		return -1;
	}
	if (dash_plan_load(db, plan_id, &l->p)) {
		*err = xstrdup("Ce plan n'existe pas.");
		return -1;
	}
	snprintf(l->from, sizeof l->from, "%s", from);
	snprintf(l->to, sizeof l->to, "%s", to);
	fiche_today(l->produced);
	dash_rollup(&l->p);
	char upper[16];
	svg_iso_from_days(upper, svg_days_from_iso(to) + 1);
	/* New: fiches created in the period, and proposals the COPIL retained in it. */
	struct db_stmt *st =
	    db_queryf(db,
	              "SELECT entity_id FROM audit_log WHERE plan_id = ? AND "
	              "entity = 'fiche' AND action = 'create' AND at >= ? AND at < ?",
	              "Iss", plan_id, from, upper);
	while (st && db_step(st) == DB_ROW) {
		int64_t id;
		size_t i;
		if (parse_int64(db_col_text(st, 0) ? db_col_text(st, 0) : "", &id) == 0 &&
		    (i = dash_node_index(&l->p, id)) != (size_t)-1 && l->p.nodes[i].reachable &&
		    l->p.nodes[i].is_fiche && l->p.nodes[i].status != DASH_S_PROPOSEE)
			set_add(&l->p, &l->news, &l->nnews, i);
	}
	db_finalize(st);
	st = db_queryf(db,
	               "SELECT node_id FROM proposals WHERE plan_id = ? AND copil_decision = "
	               "'retenue' AND copil_date >= ? AND copil_date <= ?",
	               "Iss", plan_id, from, to);
	while (st && db_step(st) == DB_ROW) {
		size_t i = dash_node_index(&l->p, db_col_int64(st, 0));
		if (i != (size_t)-1 && l->p.nodes[i].reachable)
			set_add(&l->p, &l->news, &l->nnews, i);
	}
	db_finalize(st);
	/* Achieved: closed as achevée in the period, or whose progress became achevée in it. */
	st = db_queryf(db,
	               "SELECT f.node_id FROM fiches f JOIN nodes n ON n.id = f.node_id "
	               "WHERE n.plan_id = ? AND f.status = 'achevee' AND f.closed_at >= ? "
	               "AND f.closed_at < ?",
	               "Iss", plan_id, from, upper);
	while (st && db_step(st) == DB_ROW) {
		size_t i = dash_node_index(&l->p, db_col_int64(st, 0));
		if (i != (size_t)-1 && l->p.nodes[i].reachable)
			set_add(&l->p, &l->done, &l->ndone, i);
	}
	db_finalize(st);
	st = db_queryf(db,
	               "SELECT entity_id, before_json, after_json FROM audit_log WHERE plan_id = ? "
	               "AND entity = 'fiche' AND action = 'update' AND at >= ? AND at < ?",
	               "Iss", plan_id, from, upper);
	while (st && db_step(st) == DB_ROW) {
		int64_t id;
		size_t i;
		if (parse_int64(db_col_text(st, 0) ? db_col_text(st, 0) : "", &id) ||
		    (i = dash_node_index(&l->p, id)) == (size_t)-1 || !l->p.nodes[i].reachable)
			continue;
		const struct dash_node *nd = &l->p.nodes[i];
		if (nd->status != DASH_S_ACHEVEE && nd->level != DASH_ACHEVEE)
			continue; /* no longer achieved */
		json_t *b = db_col_text(st, 1) ? json_loads(db_col_text(st, 1), 0, NULL) : NULL;
		json_t *a = db_col_text(st, 2) ? json_loads(db_col_text(st, 2), 0, NULL) : NULL;
		const char *bs = json_string_value(json_object_get(b, "status"));
		const char *bp = json_string_value(json_object_get(b, "progress"));
		const char *as = json_string_value(json_object_get(a, "status"));
		const char *ap = json_string_value(json_object_get(a, "progress"));
		int was = (bs && !strcmp(bs, "achevee")) || (bp && !strcmp(bp, "achevee"));
		int is = (as && !strcmp(as, "achevee")) || (ap && !strcmp(ap, "achevee"));
		if (is && !was)
			set_add(&l->p, &l->done, &l->ndone, i);
		json_decref(a);
		json_decref(b);
	}
	db_finalize(st);
	/* Indicator moves: the last value of the period against the one before (or baseline). */
	double d0 = svg_days_from_iso(from), d1 = svg_days_from_iso(to);
	l->nind = dash_indicators_load(db, &l->p, d1, &l->ind);
	for (size_t k = 0; k < l->nind; k++) {
		const struct dash_indicator *ind = &l->ind[k];
		const struct dash_measure *last = NULL, *prev = NULL;
		for (size_t m = 0; m < ind->nmeasures; m++) {
			const struct dash_measure *ms = &ind->measures[m];
			if (!ms->has_value)
				continue;
			if (ms->day < d0)
				prev = ms;
			else
				last = ms;
		}
		if (!last)
			continue;
		double before;
		if (prev)
			before = prev->value;
		else if (ind->has_baseline)
			before = ind->baseline;
		else
			continue;
		double score = before != 0 ? fabs((last->value - before) / before)
		                           : (last->value != 0 ? 1e6 : 0);
		l->moves = xrealloc(l->moves, (l->nmoves + 1) * sizeof *l->moves);
		l->moves[l->nmoves++] = (struct move){k, before, last->value, last->day, score};
	}
	if (l->nmoves)
		qsort(l->moves, l->nmoves, sizeof *l->moves, move_cmp);
	if (l->nmoves > 8)
		l->nmoves = 8;
	return 0;
}

/* "+25 %" / "−10 %" / "" (no base) for a move. */
static void move_pct(char out[48], const struct move *m)
{
	out[0] = '\0';
	if (m->before == 0)
		return;
	double r = (m->after - m->before) / fabs(m->before) * 100;
	char num[48];
	svg_number(num, fabs(r), 0);
	snprintf(out, 48, "%s%.30s\xe2\x80\xaf%%", r >= 0 ? "+" : "\xe2\x88\x92", num);
}

static void letter_text(struct buf *o, const struct letter *l)
{
	char a[64], z[64];
	fiche_date_fr(a, l->from);
	fiche_date_fr(z, l->to);
	buf_printf(o, "LETTRE TRIMESTRIELLE — %s\nDu %s au %s\n\n", l->p.title, a, z);
	const struct dash_node *all = &l->p.all;
	if (all->tracked) {
		double c[DASH_NLEVELS];
		int pct[DASH_NLEVELS];
		for (int i = 0; i < DASH_NLEVELS; i++)
			c[i] = all->levels[dash_level_order[i]];
		svg_percentages(c, DASH_NLEVELS, pct);
		buf_printf(o,
		           "Où en sommes-nous ?\n-------------------\n%d fiches suivies : %d %% "
		           "achevées, %d %% bien engagées, %d %% peu engagées, %d %% non "
		           "engagées.\n\n",
		           all->tracked, pct[0], pct[1], pct[2], pct[3]);
	}
	if (l->nnews) {
		buf_puts(o, "Nouvelles fiches-actions\n------------------------\n");
		for (size_t k = 0; k < l->nnews; k++)
			buf_printf(o, "- %s %s\n", l->p.nodes[l->news[k]].number,
			           l->p.nodes[l->news[k]].title);
		buf_puts(o, "\n");
	}
	if (l->ndone) {
		buf_puts(o, "Fiches-actions achevées\n-----------------------\n");
		for (size_t k = 0; k < l->ndone; k++)
			buf_printf(o, "- %s %s\n", l->p.nodes[l->done[k]].number,
			           l->p.nodes[l->done[k]].title);
		buf_puts(o, "\n");
	}
	if (l->nmoves) {
		buf_puts(o, "Indicateurs qui ont bougé\n-------------------------\n");
		for (size_t k = 0; k < l->nmoves; k++) {
			const struct move *m = &l->moves[k];
			const struct dash_indicator *ind = &l->ind[m->ind];
			char x[48], y[48], pc[48], d[48];
			svg_number(x, m->before, 1);
			svg_number(y, m->after, 1);
			move_pct(pc, m);
			svg_date_fr(d, m->day);
			buf_printf(o, "- %s (fiche %s) : %s → %s %s%s%s%s, au %s\n", ind->name,
			           l->p.nodes[dash_node_index(&l->p, ind->node_id)].number, x, y,
			           ind->unit, *pc ? " (" : "", pc, *pc ? ")" : "", d);
		}
		buf_puts(o, "\n");
	}
	if (!l->nnews && !l->ndone && !l->nmoves)
		buf_puts(o, "Rien de nouveau sur cette période.\n\n");
	char p[64];
	fiche_date_fr(p, l->produced);
	buf_printf(o, "--\nLettre produite avec maillage le %s.\n", p);
}

/* The e-mail: a 600-pixel table layout with inline styles (what mail clients understand). */
#define E_H2                                                                                       \
	"margin:24px 0 8px;font-size:18px;color:#0b5c56;font-family:Arial,Helvetica,sans-serif;"
#define E_P  "margin:0 0 12px;font-size:15px;line-height:1.5;"
#define E_LI "margin:0 0 6px;font-size:15px;line-height:1.5;"

static void letter_email(struct buf *o, const struct letter *l)
{
	char a[64], z[64], p[64];
	fiche_date_fr(a, l->from);
	fiche_date_fr(z, l->to);
	fiche_date_fr(p, l->produced);
	html_printf(
	    o,
	    "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>Lettre trimestrielle — %s</title>\n</head>\n"
	    "<body style=\"margin:0;padding:0;background:#f2f5f5;\">\n"
	    "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" cellspacing=\"0\" "
	    "style=\"background:#f2f5f5;\"><tr><td align=\"center\" style=\"padding:24px 8px;\">\n"
	    "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" "
	    "style=\"max-width:600px;width:100%%;background:#ffffff;border:1px solid #c9d3d2;"
	    "font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;\">\n"
	    "<tr><td style=\"background:#0b5c56;color:#ffffff;padding:20px 24px;\">"
	    "<p style=\"margin:0;font-size:13px;letter-spacing:.05em;text-transform:uppercase;\">"
	    "Lettre trimestrielle</p><h1 style=\"margin:6px 0 0;font-size:24px;line-height:1.25;"
	    "\">%s</h1><p style=\"margin:6px 0 0;font-size:15px;\">Du %s au %s</p></td></tr>\n"
	    "<tr><td style=\"padding:8px 24px 16px;\">\n",
	    l->p.title, l->p.title, a, z);
	const struct dash_node *all = &l->p.all;
	if (all->tracked) {
		double c[DASH_NLEVELS];
		int pct[DASH_NLEVELS];
		for (int i = 0; i < DASH_NLEVELS; i++)
			c[i] = all->levels[dash_level_order[i]];
		svg_percentages(c, DASH_NLEVELS, pct);
		html_printf(o,
		            "<h2 style=\"" E_H2 "\">Où en sommes-nous ?</h2><p style=\"" E_P "\">"
		            "<strong>%d fiches suivies</strong> : %d" PCT " achevées, %d" PCT
		            " bien engagées, %d" PCT " peu engagées, %d" PCT " non engagées.</p>\n",
		            all->tracked, pct[0], pct[1], pct[2], pct[3]);
	}
	const struct {
		const char *title;
		const size_t *v;
		size_t n;
	} lists[] = {{"Nouvelles fiches-actions", l->news, l->nnews},
	             {"Fiches-actions achevées", l->done, l->ndone}};
	for (int k = 0; k < 2; k++) {
		if (!lists[k].n)
			continue;
		html_printf(
		    o, "<h2 style=\"" E_H2 "\">%s</h2><ul style=\"margin:0;padding-left:20px;\">",
		    lists[k].title);
		for (size_t i = 0; i < lists[k].n; i++)
			html_printf(o, "<li style=\"" E_LI "\"><strong>%s</strong> %s</li>",
			            l->p.nodes[lists[k].v[i]].number,
			            l->p.nodes[lists[k].v[i]].title);
		buf_puts(o, "</ul>\n");
	}
	if (l->nmoves) {
		html_printf(o, "<h2 style=\"" E_H2 "\">Indicateurs qui ont bougé</h2><ul "
		               "style=\"margin:0;padding-left:20px;\">");
		for (size_t k = 0; k < l->nmoves; k++) {
			const struct move *m = &l->moves[k];
			const struct dash_indicator *ind = &l->ind[m->ind];
			char x[48], y[48], pc[48], d[48];
			svg_number(x, m->before, 1);
			svg_number(y, m->after, 1);
			move_pct(pc, m);
			svg_date_fr(d, m->day);
			html_printf(o,
			            "<li style=\"" E_LI "\"><strong>%s</strong> (fiche %s) : %s → "
			            "<strong>%s</strong> %s%R%s%R, au %s</li>",
			            ind->name,
			            l->p.nodes[dash_node_index(&l->p, ind->node_id)].number, x, y,
			            ind->unit, *pc ? " (" : "", pc, *pc ? ")" : "", d);
		}
		buf_puts(o, "</ul>\n");
	}
	if (!l->nnews && !l->ndone && !l->nmoves)
		html_printf(o, "<p style=\"" E_P "\">Rien de nouveau sur cette période.</p>");
	html_printf(
	    o,
	    "</td></tr>\n<tr><td style=\"padding:12px 24px;border-top:1px solid #c9d3d2;"
	    "font-size:12px;color:#4a4a4a;\">Lettre produite avec maillage le %s.</td></tr>\n"
	    "</table>\n</td></tr></table>\n</body>\n</html>\n",
	    p);
}

int report_letter(struct db *db, int64_t plan_id, const char *from, const char *to,
                  enum report_letter_format format, struct buf *out, char **err)
{
	struct letter l;
	if (letter_load(db, plan_id, from, to, &l, err)) {
		letter_free(&l);
		return -1;
	}
	if (format == LETTER_TEXT)
		letter_text(out, &l);
	else
		letter_email(out, &l);
	letter_free(&l);
	return 0;
}

/* --- pages ---------------------------------------------------------------------------------------
 */

static void bilan_respond(struct req *r, int64_t plan_id, int year, const char *ext)
{
	char *err = NULL;
	const char *slug = year ? NULL : "revue-mi-parcours";
	char fname[96];
	if (year)
		snprintf(fname, sizeof fname, "bilan-%d-plan-%lld", year, (long long)plan_id);
	else
		snprintf(fname, sizeof fname, "%s-plan-%lld", slug, (long long)plan_id);
	if (!strcmp(ext, "pdf") || !strcmp(ext, "xlsx")) {
		int pdf = !strcmp(ext, "pdf");
		struct buf out = {0};
		if (report_bilan(r->db, plan_id, year, pdf ? REPORT_PDF : REPORT_XLSX, &out,
		                 &err)) {
			buf_free(&out);
			int missing = err && (strstr(err, "n'est pas dans la période") ||
			                      strstr(err, "n'existe pas"));
			resp_error(r, missing ? 404 : 503, err ? err : "Production impossible.");
			free(err);
			return;
		}
		buf_reset(&r->out);
		buf_append(&r->out, out.data, out.len);
		buf_free(&out);
		char *cd = xasprintf("attachment; filename=\"%s.%s\"", fname, ext);
		resp_header(r, "Content-Disposition", cd);
		free(cd);
		resp_send(
		    r, 200,
		    pdf ? "application/pdf"
		        : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
		return;
	}
	struct bilan b;
	if (bilan_load(r->db, plan_id, year, &b, &err)) {
		bilan_free(&b);
		resp_error(r, 404, err ? err : "Document introuvable.");
		free(err);
		return;
	}
	char href[48];
	snprintf(href, sizeof href, "/plans/%lld", (long long)plan_id);
	char short_title[160];
	dash_short(short_title, b.p.title, 32);
	struct crumb crumbs[] = {{short_title, href}, {NULL, NULL}};
	page_begin(r, b.doc_title, crumbs);
	struct buf *o = &r->out;
	html_printf(o,
	            "<div class=\"actions\"><a class=\"button\" href=\"/plans/%lld/%s%s.pdf\" "
	            "download>Télécharger le PDF</a><a class=\"button secondary\" "
	            "href=\"/plans/%lld/%s%s.xlsx\" download>Télécharger le classeur (XLSX)</a>"
	            "<a class=\"button secondary\" href=\"/plans/%lld/tableau-de-bord\">Tableau de "
	            "bord</a></div>\n",
	            (long long)plan_id, year ? "bilan/" : "revue-mi-parcours",
	            year ? fname + 6 : "", (long long)plan_id,
	            year ? "bilan/" : "revue-mi-parcours", year ? fname + 6 : "",
	            (long long)plan_id);
	if (b.p.start_year && b.p.end_year && b.p.end_year - b.p.start_year < 40) {
		buf_puts(o, "<nav aria-label=\"Autres documents\"><ul class=\"inline-list\">");
		for (int y = b.p.start_year; y <= b.p.end_year; y++)
			html_printf(o, "<li><a href=\"/plans/%lld/bilan/%d\"%R>Bilan %d</a></li>",
			            (long long)plan_id, y,
			            y == year ? " aria-current=\"page\"" : "", y);
		html_printf(o,
		            "<li><a href=\"/plans/%lld/revue-mi-parcours\"%R>Revue à mi-parcours"
		            "</a></li></ul></nav>\n",
		            (long long)plan_id, year ? "" : " aria-current=\"page\"");
	}
	bilan_body(o, &b);
	bilan_free(&b);
	page_end(r);
}

static void bilan_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_READER))
		return;
	/* {year} is "2024", "2024.pdf" or "2024.xlsx" */
	const char *y = r->params[1];
	char digits[8];
	size_t nd = strspn(y, "0123456789");
	const char *ext = y + nd;
	if (nd != 4 || (*ext && strcmp(ext, ".pdf") && strcmp(ext, ".xlsx"))) {
		resp_error(r, 404, "Cette adresse ne correspond à aucun bilan.");
		return;
	}
	memcpy(digits, y, 4);
	digits[4] = '\0';
	bilan_respond(r, id, atoi(digits), *ext ? ext + 1 : "html");
}

static void review_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_READER))
		return;
	const char *ext = strrchr(r->path, '.');
	bilan_respond(r, id, 0, ext && !strchr(ext, '/') ? ext + 1 : "html");
}

/* The period of the newsletter from ?du=&au=: by default the three months up to today. */
static const char *letter_period(struct req *r, char from[16], char to[16])
{
	fiche_today(to);
	svg_iso_from_days(from, svg_days_from_iso(to) - 91);
	const char *du = req_query(r, "du"), *au = req_query(r, "au");
	if (du && *du) {
		if (!fiche_date_valid(du))
			return "La date de début n'est pas une date valide (AAAA-MM-JJ).";
		snprintf(from, 16, "%s", du);
	}
	if (au && *au) {
		if (!fiche_date_valid(au))
			return "La date de fin n'est pas une date valide (AAAA-MM-JJ).";
		snprintf(to, 16, "%s", au);
	}
	if (strcmp(from, to) > 0)
		return "La date de début est après la date de fin.";
	return NULL;
}

/*
 * The newsletter. The e-mail version needs inline styles (mail clients ignore stylesheets),
 * which the site's Content-Security-Policy forbids on its pages — and http.c sends that policy
 * with every response, so it cannot be relaxed for one page (an <iframe srcdoc> would inherit
 * it too). So the e-mail HTML is never rendered in the site's origin: it is served as a
 * download (Content-Disposition: attachment) to paste into the mailing tool, and the page
 * shows a preview of the same content with the site's stylesheet, plus the plain-text version.
 */
static void letter_page(struct req *r)
{
	int64_t id;
	if (req_param_id(r, 0, &id) || plan_require(r, id, ROLE_READER))
		return;
	char from[16], to[16];
	const char *problem = letter_period(r, from, to);
	const char *ext = strrchr(r->path, '.');
	int download_html = ext && !strcmp(ext, ".html"), text = ext && !strcmp(ext, ".txt");
	if (problem && (download_html || text)) {
		resp_error(r, 422, problem);
		return;
	}
	if (download_html || text) {
		struct buf out = {0};
		char *err = NULL;
		if (report_letter(r->db, id, from, to, text ? LETTER_TEXT : LETTER_HTML, &out,
		                  &err)) {
			resp_error(r, 422, err ? err : "Lettre impossible à produire.");
			free(err);
			buf_free(&out);
			return;
		}
		buf_reset(&r->out);
		buf_append(&r->out, out.data, out.len);
		buf_free(&out);
		char *cd = xasprintf("%s; filename=\"lettre-plan-%lld-%s-%s.%s\"",
		                     text ? "inline" : "attachment", (long long)id, from, to,
		                     text ? "txt" : "html");
		resp_header(r, "Content-Disposition", cd);
		free(cd);
		resp_send(r, 200, text ? "text/plain; charset=utf-8" : "text/html; charset=utf-8");
		return;
	}
	struct letter l;
	char *err = NULL;
	if (problem) {
		/* show the default period, with the message */
		fiche_today(to);
		svg_iso_from_days(from, svg_days_from_iso(to) - 91);
	}
	if (letter_load(r->db, id, from, to, &l, &err)) {
		letter_free(&l);
		resp_error(r, 404, err ? err : "Plan introuvable.");
		free(err);
		return;
	}
	char href[48];
	snprintf(href, sizeof href, "/plans/%lld", (long long)id);
	char short_title[160];
	dash_short(short_title, l.p.title, 32);
	struct crumb crumbs[] = {{short_title, href}, {NULL, NULL}};
	page_begin(r, "Lettre trimestrielle", crumbs);
	struct buf *o = &r->out;
	char a[64], z[64];
	fiche_date_fr(a, from);
	fiche_date_fr(z, to);
	html_printf(o,
	            "<p class=\"eyebrow\">%s</p><h1>Lettre trimestrielle</h1><p class=\"lead\">"
	            "Du %s au %s</p>",
	            l.p.title, a, z);
	if (problem)
		page_notice(r, "error", problem);
	html_printf(o,
	            "<form class=\"form filters\" method=\"get\" action=\"/plans/%lld/lettre\" "
	            "aria-label=\"Période de la lettre\"><div class=\"field\"><label "
	            "for=\"l-du\">Du</label><input id=\"l-du\" name=\"du\" type=\"date\" "
	            "value=\"%s\"></div><div class=\"field\"><label for=\"l-au\">Au</label><input "
	            "id=\"l-au\" name=\"au\" type=\"date\" value=\"%s\"></div><div "
	            "class=\"actions\"><button type=\"submit\" class=\"button\">Changer la "
	            "période</button></div></form>",
	            (long long)id, from, to);
	html_printf(
	    o,
	    "<div class=\"actions\"><a class=\"button\" href=\"/plans/%lld/lettre.html?du=%u"
	    "&amp;au=%u\" download>Télécharger pour l'envoi (HTML)</a><a class=\"button "
	    "secondary\" href=\"/plans/%lld/lettre.txt?du=%u&amp;au=%u\">Version texte</a>"
	    "</div><p class=\"hint\">Le fichier HTML est mis en forme pour les messageries "
	    "(styles en ligne) : ouvrez-le ou collez-le dans votre outil d'envoi.</p>",
	    (long long)id, from, to, (long long)id, from, to);
	buf_puts(o, "<section class=\"panel\" aria-labelledby=\"apercu\"><h2 id=\"apercu\">Aperçu"
	            "</h2>");
	if (l.p.all.tracked) {
		buf_puts(o, "<h3>Où en sommes-nous ?</h3>");
		dash_progress_stats(o, &l.p.all);
	}
	const struct {
		const char *title;
		const size_t *v;
		size_t n;
	} lists[] = {{"Nouvelles fiches-actions", l.news, l.nnews},
	             {"Fiches-actions achevées", l.done, l.ndone}};
	for (int k = 0; k < 2; k++) {
		if (!lists[k].n)
			continue;
		html_printf(o, "<h3>%s</h3><ul>", lists[k].title);
		for (size_t i = 0; i < lists[k].n; i++) {
			const struct dash_node *nd = &l.p.nodes[lists[k].v[i]];
			html_printf(o, "<li><a href=\"/fiches/%lld\">%s %s</a></li>",
			            (long long)nd->id, nd->number, nd->title);
		}
		buf_puts(o, "</ul>");
	}
	if (l.nmoves) {
		buf_puts(o, "<h3>Indicateurs qui ont bougé</h3><ul>");
		for (size_t k = 0; k < l.nmoves; k++) {
			const struct move *m = &l.moves[k];
			const struct dash_indicator *ind = &l.ind[m->ind];
			char x[48], y[48], pc[48], d[48];
			svg_number(x, m->before, 1);
			svg_number(y, m->after, 1);
			move_pct(pc, m);
			svg_date_fr(d, m->day);
			html_printf(
			    o,
			    "<li><strong>%s</strong> (fiche %s) : %s → <strong>%s</strong> %s"
			    "%R%s%R, au %s</li>",
			    ind->name, l.p.nodes[dash_node_index(&l.p, ind->node_id)].number, x, y,
			    ind->unit, *pc ? " (" : "", pc, *pc ? ")" : "", d);
		}
		buf_puts(o, "</ul>");
	}
	if (!l.nnews && !l.ndone && !l.nmoves)
		buf_puts(o, "<p>Rien de nouveau sur cette période.</p>");
	buf_puts(o, "</section>");
	letter_free(&l);
	page_end(r);
	if (problem)
		r->status = 422;
}

const struct route report_routes[] = {
    {M_GET, "/plans/{plan}/bilan/{year}", ACC_LOGIN, bilan_page,
     "Bilan annuel d'un plan (page imprimable ; .pdf et .xlsx)"},
    {M_GET, "/plans/{plan}/revue-mi-parcours", ACC_LOGIN, review_page,
     "Revue à mi-parcours d'un plan (page imprimable)"},
    {M_GET, "/plans/{plan}/revue-mi-parcours.pdf", ACC_LOGIN, review_page,
     "Revue à mi-parcours en PDF"},
    {M_GET, "/plans/{plan}/revue-mi-parcours.xlsx", ACC_LOGIN, review_page,
     "Revue à mi-parcours en classeur XLSX"},
    {M_GET, "/plans/{plan}/lettre", ACC_LOGIN, letter_page,
     "Lettre trimestrielle d'un plan : aperçu et téléchargements"},
    {M_GET, "/plans/{plan}/lettre.html", ACC_LOGIN, letter_page,
     "Lettre trimestrielle au format courriel (HTML, en pièce jointe)"},
    {M_GET, "/plans/{plan}/lettre.txt", ACC_LOGIN, letter_page,
     "Lettre trimestrielle en texte brut"},
    {0},
};

/* --- command line --------------------------------------------------------------------------------
 */

static int cli_plan(struct db *db, const char *plan, int64_t *id)
{
	int64_t n = 0;
	if (!plan || parse_int64(plan, id) || *id <= 0 ||
	    db_int64f(db, &n, "SELECT COUNT(*) FROM plans WHERE id = ?", "I", *id) != DB_OK || !n) {
		fprintf(stderr, "maillage : plan « %s » introuvable (donnez son numéro).\n",
		        plan ? plan : "");
		return -1;
	}
	return 0;
}

static int cli_write(const char *path, const struct buf *b)
{
	if (!path || !*path) {
		fprintf(stderr, "maillage : indiquez le fichier à écrire avec -o FICHIER.\n");
		return 1;
	}
	int rc = !strcmp(path, "-")
	             ? (fwrite(b->data ? b->data : "", 1, b->len, stdout) == b->len ? 0 : -1)
	             : write_file(path, b->data ? b->data : "", b->len);
	if (rc) {
		fprintf(stderr, "maillage : écriture de « %s » impossible : %s\n", path,
		        strerror(errno));
		return 1;
	}
	return 0;
}

int report_cli_bilan(struct db *db, const char *plan, const char *year, const char *format,
                     const char *out_path)
{
	int64_t id;
	if (cli_plan(db, plan, &id))
		return 1;
	int64_t y = 0;
	if (year && *year && (parse_int64(year, &y) || y < 1900 || y > 2999)) {
		fprintf(stderr, "maillage : année « %s » non valide.\n", year);
		return 1;
	}
	enum report_format f;
	if (!format || !strcmp(format, "html"))
		f = REPORT_HTML;
	else if (!strcmp(format, "pdf"))
		f = REPORT_PDF;
	else if (!strcmp(format, "xlsx"))
		f = REPORT_XLSX;
	else {
		fprintf(stderr, "maillage : format « %s » inconnu (html, pdf ou xlsx).\n", format);
		return 1;
	}
	struct buf out = {0};
	char *err = NULL;
	if (report_bilan(db, id, (int)y, f, &out, &err)) {
		fprintf(stderr, "maillage : %s\n", err ? err : "bilan impossible");
		free(err);
		buf_free(&out);
		return 1;
	}
	int rc = cli_write(out_path, &out);
	buf_free(&out);
	return rc;
}

int report_cli_newsletter(struct db *db, const char *plan, const char *from, const char *to,
                          const char *format, const char *out_path)
{
	int64_t id;
	if (cli_plan(db, plan, &id))
		return 1;
	if (!from || !to) {
		fprintf(stderr, "maillage : indiquez la période avec --from AAAA-MM-JJ --to "
		                "AAAA-MM-JJ.\n");
		return 1;
	}
	enum report_letter_format f = LETTER_HTML;
	if (format && !strcmp(format, "text"))
		f = LETTER_TEXT;
	else if (!format && out_path && strlen(out_path) > 4 &&
	         !strcmp(out_path + strlen(out_path) - 4, ".txt"))
		f = LETTER_TEXT;
	else if (format && strcmp(format, "html")) {
		fprintf(stderr, "maillage : format « %s » inconnu (html ou text).\n", format);
		return 1;
	}
	struct buf out = {0};
	char *err = NULL;
	if (report_letter(db, id, from, to, f, &out, &err)) {
		fprintf(stderr, "maillage : %s\n", err ? err : "lettre impossible");
		free(err);
		buf_free(&out);
		return 1;
	}
	int rc = cli_write(out_path, &out);
	buf_free(&out);
	return rc;
}
