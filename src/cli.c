/* cli: commands (demo, init, serve, user, import), option parsing and help, in French. */
#include "cli.h"

#include "access_cli.h"

#include "datainclusion.h"
#include "db.h"
#include "dbcopy.h"
#include "gen.h"
#include "rollup.h"
#include "auth.h"
#include "demo.h"
#include "geo_import.h"
#include "governance.h"
#include "grids.h"
#include "spiral.h"
#include "http.h"
#include "plan_io.h"
#include "report.h"
#include "users.h"
#include "util.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION "0.1.0"

/* One option of a command: "--name", whether it takes a value, its help. */
struct opt {
	const char *name;
	int has_arg;
	const char *help;
};

struct cmd {
	const char *name; /* "serve", "user add"… */
	const char *args; /* positional arguments, for the usage line */
	int nargs;        /* how many positional arguments are required */
	const char *summary;
	const struct opt *opts;
	int (*run)(char **args, const char **vals);
};

static const struct opt DB = {"--db", 1,
                              "base de données : chemin d'un fichier SQLite ou adresse "
                              "postgresql://utilisateur@hôte:port/base (ou variable MAILLAGE_DB)"};

/* --- helpers -------------------------------------------------------------------------------- */

static const char *opt_val(const struct cmd *c, const char **vals, const char *name)
{
	for (int i = 0; c->opts[i].name; i++)
		if (!strcmp(c->opts[i].name, name))
			return vals[i];
	return NULL;
}

static const struct cmd *current;

static const char *db_url(const char **vals)
{
	const char *v = opt_val(current, vals, "--db");
	return v ? v : getenv("MAILLAGE_DB");
}

/* Open and migrate; prints the error and returns NULL on failure. */
static struct db *open_db(const char **vals)
{
	char *err = NULL;
	const char *url = db_url(vals);
	struct db *db = db_open(url, &err);
	if (!db) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return NULL;
	}
	if (db_migrate(db) != DB_OK) {
		fprintf(stderr, "maillage : la mise à jour du schéma a échoué\n");
		db_close(db);
		return NULL;
	}
	return db;
}

static int file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* --- commands ------------------------------------------------------------------------------- */

static int run_init(char **args, const char **vals)
{
	(void)args;
	const char *url = db_url(vals);
	if (url && strncmp(url, "postgres", 8) && file_exists(url)) {
		fprintf(stderr, "maillage : « %s » existe déjà ; son schéma sera mis à jour.\n",
		        url);
	}
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	char *shown = db_url_display(url);
	printf("Base prête (schéma version %d) : %s\n", db_schema_version(db), shown);
	free(shown);
	db_close(db);
	return 0;
}

static int run_demo(char **args, const char **vals)
{
	(void)args;
	const char *url = db_url(vals);
	if (url && strncmp(url, "postgres", 8) && file_exists(url)) {
		if (!opt_val(current, vals, "--force")) {
			fprintf(stderr,
			        "maillage : « %s » existe déjà. Ajoutez --force pour le remplacer "
			        "par la démonstration.\n",
			        url);
			return 1;
		}
		const char *suffixes[] = {"", "-wal", "-shm"};
		for (int i = 0; i < 3; i++) {
			char *p = xasprintf("%s%s", url, suffixes[i]);
			unlink(p);
			free(p);
		}
	}
	if (db_is_pg_url(url)) {
		/* PostgreSQL: a database that holds anything is emptied on --force only. */
		char *err = NULL, *shown = db_url_display(url);
		struct db *pg = db_open(url, &err);
		int bad = !pg;
		if (!pg)
			fprintf(stderr, "maillage : %s\n", err);
		else if (!db_is_empty(pg) && !opt_val(current, vals, "--force")) {
			fprintf(stderr,
			        "maillage : la base « %s » n'est pas vide. Ajoutez --force pour la "
			        "remplacer par la démonstration.\n",
			        shown);
			bad = 1;
		} else if (!db_is_empty(pg) && db_wipe(pg) != DB_OK) {
			fprintf(stderr, "maillage : impossible de vider la base « %s » : %s\n",
			        shown, db_errmsg(pg));
			bad = 1;
		}
		free(err);
		free(shown);
		db_close(pg);
		if (bad)
			return 1;
	}
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	char *err = NULL;
	int rc = demo_load(db, &err);
	if (rc) {
		fprintf(stderr, "maillage : chargement de la démonstration impossible : %s\n", err);
		free(err);
		db_close(db);
		return 1;
	}
	int64_t plans = 0, nodes = 0, communes = 0, actors = 0;
	char *shown_url = db_url_display(url);
	db_int64f(db, &plans, "SELECT COUNT(*) FROM plans", "");
	db_int64f(db, &nodes, "SELECT COUNT(*) FROM nodes", "");
	db_int64f(db, &communes, "SELECT COUNT(*) FROM communes", "");
	db_int64f(db, &actors, "SELECT COUNT(*) FROM actors", "");
	printf("Démonstration chargée dans %s : %lld plans, %lld éléments d'arborescence, "
	       "%lld communes, %lld acteurs.\n"
	       "Comptes de démonstration (mot de passe « %s ») : %s (administration), "
	       "coordination@, pilote@, partenaire@, lecture@demo.maillage.fr.\n",
	       shown_url, (long long)plans, (long long)nodes, (long long)communes,
	       (long long)actors, DEMO_PASSWORD, DEMO_ADMIN);
	free(shown_url);
	db_close(db);
	return 0;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int run_serve(char **args, const char **vals)
{
	(void)args;
	struct db *db = open_db(vals); /* migrations run once, before serving */
	if (!db)
		return 1;
	db_close(db);
	struct server_config cfg = {
	    .db_url = db_url(vals),
	    .listen = opt_val(current, vals, "--listen") ? opt_val(current, vals, "--listen")
	                                                 : "127.0.0.1:8080",
	    .threads = 4,
	    .max_body = 10u << 20,
	    .secure_cookies = opt_val(current, vals, "--secure-cookies") != NULL,
	    .quiet = opt_val(current, vals, "--quiet") != NULL,
	};
	const char *t = opt_val(current, vals, "--threads");
	int64_t n;
	if (t && (parse_int64(t, &n) || n < 1 || n > 256)) {
		fprintf(stderr, "maillage : --threads attend un nombre entre 1 et 256\n");
		return 2;
	}
	if (t)
		cfg.threads = (int)n;
	const char *mb = opt_val(current, vals, "--max-body");
	if (mb && (parse_int64(mb, &n) || n < 1024 || n > (1LL << 30))) {
		fprintf(stderr, "maillage : --max-body attend un nombre d'octets entre 1024 et "
		                "1073741824\n");
		return 2;
	}
	if (mb)
		cfg.max_body = (size_t)n;
	/* Notifications by e-mail (src/notifications.c reads these, set before any thread). */
	const char *smtp = opt_val(current, vals, "--smtp");
	const char *smtp_from = opt_val(current, vals, "--smtp-from");
	if (smtp && (strncmp(smtp, "smtp://", 7) || strlen(smtp) < 8 || strlen(smtp) > 300)) {
		fprintf(stderr, "maillage : --smtp attend une adresse smtp://hôte[:port]\n");
		return 2;
	}
	if (smtp_from && (!strchr(smtp_from, '@') || strpbrk(smtp_from, "\r\n<> "))) {
		fprintf(stderr, "maillage : --smtp-from attend une adresse électronique\n");
		return 2;
	}
	if (smtp)
		setenv("MAILLAGE_SMTP", smtp, 1);
	if (smtp_from)
		setenv("MAILLAGE_SMTP_FROM", smtp_from, 1);

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char *err = NULL;
	struct server *s = server_start(&cfg, &err);
	if (!s) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	const char *host = cfg.listen;
	const char *colon = strrchr(host, ':');
	printf("maillage écoute sur http://%.*s:%d/\n", (int)(colon - host),
	       colon == host ? "127.0.0.1" : host, server_port(s));
	fflush(stdout);
	while (!stop_requested)
		pause();
	fprintf(stderr, "maillage : arrêt demandé, fin des requêtes en cours…\n");
	server_stop(s);
	return 0;
}

/* Read the password from the first line of standard input. */
static char *read_password_stdin(void)
{
	char line[AUTH_MAX_PASSWORD + 2];
	if (!fgets(line, sizeof line, stdin))
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *p = xstrdup(line);
	sodium_memzero(line, sizeof line);
	return p;
}

static int run_user_add(char **args, const char **vals)
{
	const char *name = opt_val(current, vals, "--name");
	const char *role = opt_val(current, vals, "--role");
	if (!name || !role || !opt_val(current, vals, "--password-stdin")) {
		fprintf(stderr,
		        "maillage : --name, --role et --password-stdin sont obligatoires\n");
		return 2;
	}
	char *pw = read_password_stdin();
	if (!pw) {
		fprintf(stderr, "maillage : aucun mot de passe lu sur l'entrée standard\n");
		return 1;
	}
	struct db *db = open_db(vals);
	if (!db) {
		free(pw);
		return 1;
	}
	char *err = NULL;
	int64_t id;
	int rc = user_create(db, args[0], name, role, pw, 0, "cli", &id, &err);
	sodium_memzero(pw, strlen(pw));
	free(pw);
	db_close(db);
	if (rc) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	printf("Compte n° %lld créé.\n", (long long)id);
	return 0;
}

static int run_user_list(char **args, const char **vals)
{
	(void)args;
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	struct db_stmt *st = db_prepare(db, "SELECT id, email, name, role, disabled FROM users "
	                                    "ORDER BY id");
	printf("%-4s  %-36s  %-12s  %-9s  %s\n", "n°", "adresse", "rôle", "état", "nom");
	while (st && db_step(st) == DB_ROW)
		printf("%-4lld  %-36s  %-12s  %-9s  %s\n", (long long)db_col_int64(st, 0),
		       db_col_text(st, 1), db_col_text(st, 3),
		       db_col_int64(st, 4) ? "désactivé" : "actif", db_col_text(st, 2));
	db_finalize(st);
	db_close(db);
	return 0;
}

static int run_user_disable(char **args, const char **vals)
{
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	char *err = NULL;
	int rc = user_set_disabled(db, args[0], 0, 1, 0, "cli", &err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	printf("Compte désactivé ; ses sessions sont fermées.\n");
	return 0;
}

static int run_import_cog(char **args, const char **vals)
{
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	struct geo_stats st;
	char *err = NULL;
	int rc = geo_import_dir(db, args[0], opt_val(current, vals, "--cities"), &st, &err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "maillage : import refusé, rien n'a été enregistré : %s\n", err);
		free(err);
		return 1;
	}
	printf("Géographie importée : %ld départements, %ld EPCI, %ld communes (%ld avec "
	       "coordonnées), %ld rattachements commune–EPCI.\n",
	       st.departements, st.epcis, st.communes, st.with_coordinates, st.memberships);
	return 0;
}

/* A year option: 0 when absent; -1 (message printed) when not a year. */
static int year_opt(const char *name, const char *v)
{
	int64_t y;
	if (!v)
		return 0;
	if (parse_int64(v, &y) || y < 1900 || y > 2200) {
		fprintf(stderr, "maillage %s : %s attend une année entre 1900 et 2200\n",
		        current->name, name);
		return -1;
	}
	return (int)y;
}

static int run_import_plan(char **args, const char **vals)
{
	const char *path = args[0];
	const char *fq = opt_val(current, vals, "--format");
	enum plan_io_format fmt = PLAN_IO_NONE;
	if (fq) {
		fmt = plan_io_format_parse(fq);
		if (fmt == PLAN_IO_NONE || fmt == PLAN_IO_XLSX) {
			fprintf(stderr, "maillage import plan : --format attend csv, md ou json\n");
			return 2;
		}
	}
	int y0 = year_opt("--start-year", opt_val(current, vals, "--start-year"));
	int y1 = year_opt("--end-year", opt_val(current, vals, "--end-year"));
	if (y0 < 0 || y1 < 0)
		return 2;
	const char *kind = opt_val(current, vals, "--kind");
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "maillage : fichier illisible « %s »\n", path);
		return 1;
	}
	if ((uint64_t)sb.st_size > PLAN_IO_MAX_BYTES) {
		fprintf(stderr,
		        "maillage : import refusé, rien n'a été enregistré : le fichier fait "
		        "%.1f Mo, la limite est de %u Mo.\n",
		        (double)sb.st_size / (1024.0 * 1024.0), PLAN_IO_MAX_BYTES >> 20);
		return 1;
	}
	size_t len;
	char *data = file_read_all(path, &len);
	if (!data) {
		fprintf(stderr, "maillage : fichier illisible « %s »\n", path);
		return 1;
	}
	if (fmt == PLAN_IO_NONE)
		fmt = plan_io_format_guess(path, data, len);
	struct db *db = open_db(vals);
	if (!db) {
		free(data);
		return 1;
	}
	struct plan_io_options opt = {opt_val(current, vals, "--title"), kind, y0, y1};
	int dry = opt_val(current, vals, "--dry-run") != NULL;
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *summary = NULL;
	int rc = plan_io_import(db, fmt, data, len, &opt, dry, 0, "cli", &pid, &summary, &errs);
	free(data);
	db_close(db);
	if (rc) {
		char *text = plan_io_errors_text(&errs);
		fprintf(stderr, "maillage : import refusé, rien n'a été enregistré (%s) :\n%s\n",
		        path, text);
		free(text);
		plan_io_errors_free(&errs);
		return 1;
	}
	char *text = plan_io_summary_text(summary);
	if (dry)
		printf("Simulation : rien n'a été enregistré.\n%s", text);
	else
		printf("Plan n° %lld créé.\n%s", (long long)pid, text);
	free(text);
	json_decref(summary);
	return 0;
}

static int run_export_plan(char **args, const char **vals)
{
	int64_t id;
	if (parse_int64(args[0], &id) || id < 1) {
		fprintf(stderr, "maillage export plan : « %s » n'est pas un numéro de plan\n",
		        args[0]);
		return 2;
	}
	const char *out = opt_val(current, vals, "-o");
	const char *fq = opt_val(current, vals, "--format");
	enum plan_io_format fmt = fq    ? plan_io_format_parse(fq)
	                          : out ? plan_io_format_guess(out, "", 0)
	                                : PLAN_IO_NONE;
	if (!fq && out && !strchr(out, '.'))
		fmt = PLAN_IO_NONE;
	if (fmt == PLAN_IO_NONE || fmt == PLAN_IO_MARKDOWN) {
		fprintf(stderr, "maillage export plan : --format attend csv, xlsx ou json\n");
		return 2;
	}
	if (fmt == PLAN_IO_XLSX && !out && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "maillage export plan : un classeur XLSX est un fichier binaire ; "
		                "indiquez -o FICHIER.xlsx ou redirigez la sortie\n");
		return 2;
	}
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	struct buf b = {0};
	char *err = NULL;
	int rc = plan_io_export(db, id, fmt, &b, &err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "maillage : export impossible : %s\n", err);
		free(err);
		buf_free(&b);
		return 1;
	}
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		fprintf(stderr, "maillage : impossible d'écrire « %s »\n", out);
		buf_free(&b);
		return 1;
	}
	int bad = fwrite(b.data ? b.data : "", 1, b.len, f) != b.len;
	if (out)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(stdout) != 0;
	buf_free(&b);
	if (bad) {
		fprintf(stderr, "maillage : écriture incomplète%s%s\n", out ? " de " : "",
		        out ? out : "");
		return 1;
	}
	if (out)
		fprintf(stderr, "Plan n° %lld exporté dans %s.\n", (long long)id, out);
	return 0;
}

static int run_routes(char **args, const char **vals)
{
	(void)args;
	(void)vals;
	static const char *const mnames[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
	static const char *const acc[] = {"public", "connecté", "admin"};
	for (const struct route *const *t = route_tables; *t; t++)
		for (const struct route *r = *t; r->pattern; r++) {
			struct buf m = {0};
			for (int i = 0; i < 5; i++)
				if (r->methods & (1 << i)) {
					if (m.len)
						buf_putc(&m, ',');
					buf_puts(&m, mnames[i]);
				}
			printf("%-10s %-44s %-9s %s\n", buf_str(&m), r->pattern, acc[r->access],
			       r->help ? r->help : "");
			buf_free(&m);
		}
	return 0;
}

static const struct opt no_opts[] = {{0}};
static const struct opt db_opts[] = {DB, {0}};
static const struct opt demo_opts[] = {
    DB, {"--force", 0, "remplacer le fichier s'il existe déjà"}, {0}};
static const struct opt serve_opts[] = {
    DB,
    {"--listen", 1, "adresse et port d'écoute (défaut 127.0.0.1:8080 ; port 0 : au hasard)"},
    {"--threads", 1, "nombre de fils de traitement (défaut 4)"},
    {"--max-body", 1, "taille maximale d'une requête en octets (défaut 10485760)"},
    {"--secure-cookies", 0, "cookies « Secure » (derrière un proxy HTTPS)"},
    {"--quiet", 0, "ne pas journaliser les requêtes"},
    {"--smtp", 1,
     "relais SMTP des notifications par courriel, smtp://hôte[:port] (sans TLS ni "
     "authentification : un relais local ; facultatif)"},
    {"--smtp-from", 1, "expéditeur des courriels (défaut maillage@localhost)"},
    {0}};
static const struct opt user_add_opts[] = {
    DB,
    {"--name", 1, "nom affiché"},
    {"--role", 1, "admin, coordinator, pilot, partner ou reader"},
    {"--password-stdin", 0,
     "lire le mot de passe (10 caractères au moins) sur l'entrée "
     "standard"},
    {0}};
static const struct opt cog_opts[] = {
    DB, {"--cities", 1, "fichier GeoNames cities500.txt (défaut : DOSSIER/cities500.txt)"}, {0}};

static const struct opt import_plan_opts[] = {
    DB,
    {"--dry-run", 0,
     "simulation : tout vérifier et résumer ce qui serait créé, sans rien "
     "enregistrer"},
    {"--format", 1, "csv, md ou json (défaut : d'après l'extension du fichier)"},
    {"--title", 1, "titre du plan (remplace celui du fichier)"},
    {"--kind", 1, "type du plan : ctg, schema, projet_social ou autre"},
    {"--start-year", 1, "année de début"},
    {"--end-year", 1, "année de fin"},
    {0}};
/* `report bilan` and `report newsletter`: the documents of src/report.c, written to -o. */
static int run_report_bilan(char **args, const char **vals)
{
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	int rc = report_cli_bilan(db, args[0], opt_val(current, vals, "--year"),
	                          opt_val(current, vals, "--format"), opt_val(current, vals, "-o"));
	db_close(db);
	return rc;
}

static int run_report_newsletter(char **args, const char **vals)
{
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	int rc = report_cli_newsletter(
	    db, args[0], opt_val(current, vals, "--from"), opt_val(current, vals, "--to"),
	    opt_val(current, vals, "--format"), opt_val(current, vals, "-o"));
	db_close(db);
	return rc;
}

static const struct opt report_bilan_opts[] = {
    DB,
    {"--year", 1, "année du bilan (sans --year : la revue à mi-parcours)"},
    {"--format", 1, "html, pdf ou xlsx (défaut : html)"},
    {"-o", 1, "fichier à écrire (« - » : la sortie standard)"},
    {0}};
static const struct opt report_newsletter_opts[] = {
    DB,
    {"--from", 1, "premier jour de la période (AAAA-MM-JJ)"},
    {"--to", 1, "dernier jour de la période (AAAA-MM-JJ)"},
    {"--format", 1, "html (courriel) ou text (défaut : d'après l'extension de -o)"},
    {"-o", 1, "fichier à écrire (« - » : la sortie standard)"},
    {0}};
static const struct opt export_plan_opts[] = {
    DB,
    {"--format", 1, "csv, xlsx ou json (défaut : d'après l'extension de -o)"},
    {"-o", 1, "fichier à écrire (défaut : la sortie standard)"},
    {0}};

/* `export meetings`: src/governance.c. */
static int run_export_meetings(char **args, const char **vals)
{
	(void)args;
	const char *fq = opt_val(current, vals, "--format");
	if (fq && strcmp(fq, "ics")) {
		fprintf(stderr, "maillage export meetings : --format attend ics\n");
		return 2;
	}
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	int rc = governance_cli_export(db, fq, opt_val(current, vals, "--instance"),
	                               opt_val(current, vals, "-o"));
	db_close(db);
	return rc;
}

static const struct opt export_meetings_opts[] = {
    DB,
    {"--format", 1, "ics (iCalendar, le défaut)"},
    {"--instance", 1, "numéro d'une instance (défaut : toutes les réunions)"},
    {"-o", 1, "fichier à écrire (défaut : la sortie standard)"},
    {0}};

/* `export grids`: src/grids.c. */
static int run_export_grids(char **args, const char **vals)
{
	(void)args;
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	int rc = grids_cli_export(db, opt_val(current, vals, "--format"),
	                          opt_val(current, vals, "--plan"), opt_val(current, vals, "-o"));
	db_close(db);
	return rc;
}

/* `export spiral`: src/spiral.c. */
static int run_export_spiral(char **args, const char **vals)
{
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	int rc = spiral_cli_export(db, args[0], opt_val(current, vals, "--format"),
	                           opt_val(current, vals, "-o"));
	db_close(db);
	return rc;
}

static const struct opt export_spiral_opts[] = {
    DB,
    {"--format", 1, "csv, xlsx ou json (défaut : d'après l'extension de -o, sinon csv)"},
    {"-o", 1, "fichier à écrire (défaut : la sortie standard)"},
    {0}};

static const struct opt export_grids_opts[] = {
    DB,
    {"--format", 1, "json, csv ou xlsx (défaut : d'après l'extension de -o)"},
    {"--plan", 1, "numéro d'un plan (défaut : toutes les campagnes)"},
    {"-o", 1, "fichier à écrire (défaut : la sortie standard)"},
    {0}};

/* `export datainclusion` and `import datainclusion`: src/datainclusion.c. */
static int run_export_di(char **args, const char **vals)
{
	(void)args;
	enum di_kind kind = di_kind_parse(opt_val(current, vals, "--kind"));
	if (kind == DI_NONE) {
		fprintf(stderr, "maillage export datainclusion : --kind attend structures ou "
		                "services\n");
		return 2;
	}
	const char *out = opt_val(current, vals, "-o");
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	json_t *arr = NULL;
	char *err = NULL;
	long skipped = 0;
	int rc = di_export(db, kind, &arr, &skipped, &err);
	db_close(db);
	if (rc) {
		fprintf(stderr, "maillage : export impossible : %s\n", err);
		free(err);
		return 1;
	}
	char *text = json_dumps(arr, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	size_t n = json_array_size(arr);
	json_decref(arr);
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		fprintf(stderr, "maillage : impossible d'écrire « %s »\n", out);
		free(text);
		return 1;
	}
	int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
	if (out)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(stdout) != 0;
	free(text);
	if (bad) {
		fprintf(stderr, "maillage : écriture incomplète\n");
		return 1;
	}
	fprintf(stderr, "%zu %s exporté%s au schéma data·inclusion%s%s.\n", n,
	        kind == DI_STRUCTURES ? "structure(s)" : "service(s)", n > 1 ? "s" : "",
	        out ? " dans " : "", out ? out : "");
	if (skipped)
		fprintf(stderr,
		        "%ld service(s) sans structure laissé(s) de côté (le schéma exige "
		        "une structure).\n",
		        skipped);
	return 0;
}

static int run_import_di(char **args, const char **vals)
{
	const char *path = args[0];
	enum di_kind kind = di_kind_parse(opt_val(current, vals, "--kind"));
	if (kind == DI_NONE) {
		fprintf(stderr, "maillage import datainclusion : --kind attend structures ou "
		                "services\n");
		return 2;
	}
	size_t len;
	char *data = file_read_all(path, &len);
	if (!data) {
		fprintf(stderr, "maillage : fichier illisible « %s »\n", path);
		return 1;
	}
	struct db *db = open_db(vals);
	if (!db) {
		free(data);
		return 1;
	}
	int dry = opt_val(current, vals, "--dry-run") != NULL;
	struct di_import_result res;
	int rc = di_import(db, kind, data, len, dry, 0, "cli", &res);
	free(data);
	db_close(db);
	if (res.warnings.len)
		fprintf(stderr, "Avertissements :\n%s", buf_str(&res.warnings));
	if (rc != DB_OK || res.nerrors) {
		fprintf(stderr, "maillage : import refusé, rien n'a été enregistré (%s) :\n%s",
		        path,
		        rc != DB_OK ? "erreur de la base de données\n" : buf_str(&res.errors));
		di_import_result_free(&res);
		return 1;
	}
	printf("%s%ld créé(s), %ld mis à jour.\n",
	       dry ? "Simulation, rien n'a été enregistré : " : "Import réussi : ", res.created,
	       res.updated);
	di_import_result_free(&res);
	return 0;
}

static const struct opt export_di_opts[] = {
    DB,
    {"--kind", 1, "structures ou services"},
    {"-o", 1, "fichier JSON à écrire (défaut : la sortie standard)"},
    {0}};
static const struct opt import_di_opts[] = {
    DB,
    {"--kind", 1, "structures ou services"},
    {"--dry-run", 0, "simulation : tout vérifier sans rien enregistrer"},
    {0}};

/* `access`: the 2SFCA accessibility of every commune (src/access_cli.c), as CSV. */
static int run_access(char **args, const char **vals)
{
	(void)args;
	struct access_cli_opts o = {
	    opt_val(current, vals, "--service"),     opt_val(current, vals, "--band"),
	    opt_val(current, vals, "--max-minutes"), opt_val(current, vals, "--decay"),
	    opt_val(current, vals, "--detour"),      opt_val(current, vals, "--speed"),
	    opt_val(current, vals, "--od"),          opt_val(current, vals, "-o")};
	int rc = access_cli_check(&o);
	if (rc)
		return rc;
	struct db *db = open_db(vals);
	if (!db)
		return 1;
	rc = access_cli_run(db, &o);
	db_close(db);
	return rc;
}

/* --- national scale: generator, copy, backup, roll-up (gen.c, dbcopy.c, rollup.c) --- */
static const struct opt gen_opts[] = {
    DB,
    {"--scale", 1, "national (défaut), departement ou small"},
    {"--seed", 1, "graine du générateur (défaut 1) : même graine, mêmes données"},
    {"--geo", 1,
     "dossier data/ du paquet npm @etalab/decoupage-administratif (communes de "
     "France ; sans lui : Drôme et Ardèche intégrées, refusé pour national)"},
    {0}};
static int run_gen(char **args, const char **vals)
{
	(void)args;
	return gen_cli(db_url(vals), opt_val(current, vals, "--scale"),
	               opt_val(current, vals, "--seed"), opt_val(current, vals, "--geo"));
}
static const struct opt db_copy_opts[] = {
    {"--from", 1, "base source (fichier SQLite ou postgresql://…), lue sans être modifiée"},
    {"--to", 1, "base cible, vide (créée et migrée au besoin)"},
    {"--force", 0, "remplacer le contenu d'une cible qui n'est pas vide"},
    {0}};
static int run_db_copy(char **args, const char **vals)
{
	(void)args;
	return dbcopy_cli_copy(opt_val(current, vals, "--from"), opt_val(current, vals, "--to"),
	                       opt_val(current, vals, "--force") != NULL);
}
static const struct opt backup_opts[] = {
    DB, {"-o", 1, "fichier de sauvegarde à écrire (SQLite ; il ne doit pas exister)"}, {0}};
static int run_backup(char **args, const char **vals)
{
	(void)args;
	return dbcopy_cli_backup(db_url(vals), opt_val(current, vals, "-o"));
}
static const struct opt restore_opts[] = {
    DB, {"--force", 0, "remplacer le contenu d'une base qui n'est pas vide"}, {0}};
static int run_restore(char **args, const char **vals)
{
	return dbcopy_cli_restore(db_url(vals), args[0], opt_val(current, vals, "--force") != NULL);
}
static const struct opt rollup_opts[] = {DB, {"--format", 1, "text (défaut) ou json"}, {0}};
static int run_rollup(char **args, const char **vals)
{
	(void)args;
	return rollup_cli(db_url(vals), opt_val(current, vals, "--format"));
}

static const struct opt access_opts[] = {
    DB,
    {"--service", 1, "type de service : EAJE, ALSH, LAEP, FRANCE_SERVICES…"},
    {"--band", 1, "tranche d'âge de la demande : 0-2, 3-5, 6-11, 12-17, 18-24, 25-59, 60-74, 75+"},
    {"--max-minutes", 1, "temps de trajet maximal en minutes"},
    {"--decay", 1, "décroissance : gaussian (défaut), linear, step[:10=1,20=0.66,30=0.33] ou none"},
    {"--detour", 1, "facteur de détour routier (défaut 1.3)"},
    {"--speed", 1, "vitesse moyenne en km/h (défaut 50)"},
    {"--od", 1,
     "matrice de temps importée (CSV commune;destination;minutes ; destination : "
     "code de commune ou s:NUMÉRO d'un service)"},
    {"-o", 1, "fichier CSV (ou .xlsx) à écrire (défaut : la sortie standard)"},
    {0}};

static const struct cmd cmds[] = {
    {"demo", "", 0, "créer une base avec les données de démonstration", demo_opts, run_demo},
    {"init", "", 0, "créer une base vide (ou mettre à jour son schéma)", db_opts, run_init},
    {"serve", "", 0, "servir l'application web et l'API", serve_opts, run_serve},
    {"user add", "ADRESSE", 1, "créer un compte", user_add_opts, run_user_add},
    {"user list", "", 0, "lister les comptes", db_opts, run_user_list},
    {"user disable", "ADRESSE", 1, "désactiver un compte et fermer ses sessions", db_opts,
     run_user_disable},
    {"import cog", "DOSSIER", 1,
     "importer la géographie officielle (communes.json, epci.json, departements.json du "
     "paquet @etalab/decoupage-administratif ; coordonnées GeoNames cities500.txt)",
     cog_opts, run_import_cog},
    {"import plan", "FICHIER", 1,
     "importer un plan complet (CSV, Markdown ou JSON) : tout ou rien, erreurs avec leur "
     "ligne",
     import_plan_opts, run_import_plan},
    {"export plan", "NUMÉRO", 1, "exporter un plan en CSV, XLSX ou JSON", export_plan_opts,
     run_export_plan},
    {"export meetings", "", 0,
     "exporter les réunions des instances (toutes ou d'une instance) en iCalendar (.ics)",
     export_meetings_opts, run_export_meetings},
    {"export spiral", "NUMÉRO", 1,
     "exporter les ateliers et critères SPIRAL d'un plan en CSV, XLSX ou JSON", export_spiral_opts,
     run_export_spiral},
    {"export grids", "", 0,
     "exporter les grilles d'évaluation, campagnes et évaluations en JSON, CSV ou XLSX",
     export_grids_opts, run_export_grids},
    {"export datainclusion", "", 0,
     "exporter les structures ou les services au schéma national data·inclusion (JSON)",
     export_di_opts, run_export_di},
    {"import datainclusion", "FICHIER", 1,
     "importer des structures ou des services data·inclusion (JSON) : tout ou rien", import_di_opts,
     run_import_di},
    {"report bilan", "NUMÉRO", 1,
     "bilan annuel (--year) ou revue à mi-parcours d'un plan en HTML, PDF ou XLSX",
     report_bilan_opts, run_report_bilan},
    {"report newsletter", "NUMÉRO", 1,
     "lettre trimestrielle d'un plan sur une période, en HTML (courriel) ou texte",
     report_newsletter_opts, run_report_newsletter},
    {"access", "", 0,
     "accessibilité spatiale (2SFCA) de chaque commune à un type de service, en CSV", access_opts,
     run_access},
    {"gen", "", 0,
     "générer des données synthétiques réalistes (plans, fiches, mesures, structures) à "
     "l'échelle nationale, d'un département ou réduite",
     gen_opts, run_gen},
    {"db copy", "", 0,
     "copier toute une instance d'une base à l'autre (SQLite ⇄ PostgreSQL), vérifiée table "
     "par table",
     db_copy_opts, run_db_copy},
    {"backup", "", 0, "sauvegarde cohérente de la base (même en service) dans un fichier SQLite",
     backup_opts, run_backup},
    {"restore", "FICHIER", 1, "restaurer une sauvegarde dans une base vide (tout ou rien)",
     restore_opts, run_restore},
    {"rollup", "", 0, "répartition de l'avancement de chaque plan (règle du tableau de bord)",
     rollup_opts, run_rollup},
    {"routes", "", 0, "lister les adresses servies par l'application", no_opts, run_routes},
    {0},
};

static void usage_cmd(FILE *f, const struct cmd *c)
{
	fprintf(f, "Usage : maillage %s%s%s [options]\n  %s\n", c->name, *c->args ? " " : "",
	        c->args, c->summary);
	if (c->opts[0].name)
		fprintf(f, "Options :\n");
	for (int i = 0; c->opts[i].name; i++)
		fprintf(f, "  %s%s\n      %s\n", c->opts[i].name,
		        c->opts[i].has_arg ? " VALEUR" : "", c->opts[i].help);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "maillage %s — suivi et animation des projets sociaux de territoire\n\n"
	        "Usage : maillage COMMANDE [arguments] [options]\n\nCommandes :\n",
	        VERSION);
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-18s %s\n", c->name, c->summary);
	fprintf(f, "\n« maillage help COMMANDE » ou « maillage COMMANDE --help » détaille une "
	           "commande.\n");
}

/* Find the command named by argv[1] (and argv[2] for two-word commands). */
static const struct cmd *find_cmd(int argc, char **argv, int *used)
{
	for (const struct cmd *c = cmds; c->name; c++) {
		const char *sp = strchr(c->name, ' ');
		if (!sp && argc > 1 && !strcmp(argv[1], c->name)) {
			*used = 2;
			return c;
		}
		if (sp && argc > 2 && !strncmp(argv[1], c->name, (size_t)(sp - c->name)) &&
		    strlen(argv[1]) == (size_t)(sp - c->name) && !strcmp(argv[2], sp + 1)) {
			*used = 3;
			return c;
		}
	}
	return NULL;
}

int cli_main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "maillage : libsodium n'a pas pu s'initialiser\n");
		return 1;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("maillage %s\n", VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		int used;
		const struct cmd *c = argc > 2 ? find_cmd(argc - 1, argv + 1, &used) : NULL;
		if (c)
			usage_cmd(stdout, c);
		else
			usage(stdout);
		return 0;
	}
	int used;
	const struct cmd *c = find_cmd(argc, argv, &used);
	if (!c) {
		fprintf(stderr, "maillage : commande inconnue « %s%s%s »\n\n", argv[1],
		        argc > 2 && argv[2][0] != '-' ? " " : "",
		        argc > 2 && argv[2][0] != '-' ? argv[2] : "");
		usage(stderr);
		return 2;
	}
	current = c;
	const char *vals[16] = {0};
	char *args[4] = {0};
	int nargs = 0;
	for (int i = used; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage_cmd(stdout, c);
			return 0;
		}
		if (a[0] == '-' && a[1]) {
			/* "--name=value" or "--name value" */
			const char *eq = strchr(a, '=');
			size_t len = eq ? (size_t)(eq - a) : strlen(a);
			int k;
			for (k = 0; c->opts[k].name; k++)
				if (strlen(c->opts[k].name) == len &&
				    !strncmp(c->opts[k].name, a, len))
					break;
			if (!c->opts[k].name) {
				fprintf(stderr, "maillage %s : option inconnue « %.*s »\n\n",
				        c->name, (int)len, a);
				usage_cmd(stderr, c);
				return 2;
			}
			if (c->opts[k].has_arg) {
				if (eq)
					vals[k] = eq + 1;
				else if (i + 1 < argc)
					vals[k] = argv[++i];
				else {
					fprintf(stderr,
					        "maillage %s : l'option %s attend une valeur\n",
					        c->name, c->opts[k].name);
					return 2;
				}
			} else {
				if (eq) {
					fprintf(stderr,
					        "maillage %s : l'option %s ne prend pas de "
					        "valeur\n",
					        c->name, c->opts[k].name);
					return 2;
				}
				vals[k] = "1";
			}
			continue;
		}
		if (nargs >= c->nargs) {
			fprintf(stderr, "maillage %s : argument en trop « %s »\n\n", c->name, a);
			usage_cmd(stderr, c);
			return 2;
		}
		args[nargs++] = argv[i];
	}
	if (nargs < c->nargs) {
		fprintf(stderr, "maillage %s : argument manquant (%s)\n\n", c->name, c->args);
		usage_cmd(stderr, c);
		return 2;
	}
	for (int k = 0; c->opts[k].name; k++)
		if (c->opts[k].name == DB.name || !strcmp(c->opts[k].name, "--db")) {
			if (!vals[k] && !getenv("MAILLAGE_DB")) {
				fprintf(stderr,
				        "maillage %s : indiquez la base avec --db CHEMIN ou "
				        "la variable MAILLAGE_DB\n",
				        c->name);
				return 2;
			}
		}
	return c->run(args, vals);
}
