/* gen: a synthetic but realistic dataset at national, département or small scale. */
#include "gen.h"

#include "auth.h"
#include "db.h"
#include "dbcopy.h"
#include "geo_import.h"
#include "text.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- random numbers: xoshiro256** seeded by splitmix64 (never rand()) ------------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [lo, hi]. */
static int rng_range(struct rng *r, int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static int rng_chance(struct rng *r, double p)
{
	return rng_unit(r) < p;
}

#define PICK(r, arr) ((arr)[rng_next(r) % (sizeof(arr) / sizeof *(arr))])

/* --- vocabulary --------------------------------------------------------------------------------
 */

static const char *const axis_themes[] = {
    "Petite enfance : accueillir chaque enfant",
    "Enfance et jeunesse : des loisirs pour tous",
    "Parentalité : accompagner les familles",
    "Accès aux droits et inclusion numérique",
    "Animation de la vie sociale",
    "Logement et cadre de vie",
    "Handicap et inclusion",
    "Solidarités et lutte contre la précarité",
    "Mobilité et accès aux services",
};
static const int axis_tags[] = {2, 3, 5, 1, 6, 7, 0, 1, 0}; /* nth global thematic tag, 0: none */

static const char *const verbs[] = {
    "Développer", "Renforcer", "Structurer", "Consolider", "Favoriser",
    "Améliorer",  "Soutenir",  "Coordonner", "Promouvoir", "Adapter",
};
static const char *const objects[] = {
    "l'offre d'accueil du jeune enfant",
    "l'accès aux droits des allocataires",
    "les actions de soutien à la parentalité",
    "l'accueil de loisirs sans hébergement",
    "l'information des familles",
    "la présence des services publics de proximité",
    "l'accompagnement au numérique",
    "les lieux d'accueil enfants-parents",
    "l'engagement des jeunes",
    "la coordination des acteurs de l'enfance",
    "le repérage des situations de non-recours",
    "l'accueil des enfants en situation de handicap",
    "les espaces de vie sociale",
    "la participation des habitants",
    "l'accompagnement des familles monoparentales",
    "l'offre de loisirs des adolescents",
};
static const char *const fiche_actions[] = {
    "Ouvrir",       "Créer",    "Étendre", "Mettre en place", "Organiser",
    "Expérimenter", "Financer", "Animer",  "Former",          "Accompagner",
};
static const char *const fiche_objects[] = {
    "une micro-crèche",
    "un relais petite enfance itinérant",
    "un accueil de loisirs le mercredi",
    "des permanences France services",
    "un lieu d'accueil enfants-parents",
    "un réseau de parents",
    "des ateliers numériques",
    "un guichet unique petite enfance",
    "un conseil de jeunes",
    "des séjours de vacances familles",
    "un espace de vie sociale",
    "des cafés des parents",
    "une maison des adolescents",
    "des places d'accueil en horaires atypiques",
    "un forum des associations",
    "une aide aux devoirs",
};
static const char *const publics[] = {
    "Familles",
    "Parents de jeunes enfants",
    "Enfants de 3 à 11 ans",
    "Jeunes de 12 à 17 ans",
    "Jeunes de 18 à 25 ans",
    "Familles monoparentales",
    "Seniors",
    "Allocataires du RSA",
    "Professionnels",
    "Habitants",
};
static const char *const domains[] = {
    "cohesion-sociale-territoriale",
    "pertinence-action-institutionnelle",
    "transition-ecologique",
    "reduction-precarite-economique",
    "parcours-de-vie",
    "pouvoir-d-agir",
    "lien-social",
};
static const char *const assoc_names[] = {
    "Familles rurales",
    "Amicale laïque",
    "Les P'tits Loups",
    "Jeunesse et loisirs",
    "Secours populaire",
    "Entraide et partage",
    "Maison des jeunes et de la culture",
    "Comité des fêtes",
    "Les Restos du cœur",
    "Union des familles",
    "Les Francas",
    "Sport pour tous",
    "Accueil et solidarité",
};
static const char *const streets[] = {
    "rue de la République", "place de la Mairie", "avenue Jean-Jaurès", "rue Victor-Hugo",
    "chemin des Écoles",    "rue du Stade",       "place de l'Église",  "rue des Écoles",
};
static const char *const need_titles[] = {
    "Manque de places d'accueil pour les moins de 3 ans",
    "Isolement des familles monoparentales",
    "Difficultés d'accès aux démarches en ligne",
    "Peu d'offre de loisirs pour les adolescents",
    "Horaires de garde inadaptés aux emplois postés",
    "Transport vers les services du chef-lieu",
    "Besoin d'écoute et de soutien des parents",
    "Non-recours aux prestations",
    "Accueil des enfants en situation de handicap",
    "Vieillissement et isolement des seniors",
};
static const char *const indicator_defs[][4] = {
    /* name, unit, kind, direction */
    {"Places d'accueil du jeune enfant", "places", "realisation", "up"},
    {"Familles accompagnées", "familles", "realisation", "up"},
    {"Enfants accueillis en ALSH", "enfants", "realisation", "up"},
    {"Permanences tenues", "permanences", "realisation", "up"},
    {"Participants aux ateliers", "personnes", "realisation", "up"},
    {"Jeunes impliqués", "jeunes", "realisation", "up"},
    {"Taux de non-recours", "%", "impact", "down"},
    {"Taux d'occupation des places", "%", "impact", "up"},
    {"Délai d'attente moyen", "jours", "impact", "down"},
    {"Satisfaction des familles", "%", "impact", "up"},
    {"Démarches accompagnées", "démarches", "realisation", "up"},
    {"Partenaires mobilisés", "structures", "realisation", "up"},
};

/* --- generator state ----------------------------------------------------------------------------
 */

enum {
	T_USERS,
	T_ACTORS,
	T_PLANS,
	T_LEVELS,
	T_TERRITORY,
	T_SIGNATORIES,
	T_MEMBERS,
	T_NODES,
	T_NODE_TAGS,
	T_FICHES,
	T_PILOTS,
	T_PARTNERS,
	T_PUBLICS,
	T_FCOMMUNES,
	T_BUDGET,
	T_IMPACTS,
	T_COMMENTS,
	T_INDICATORS,
	T_FIND,
	T_TARGETS,
	T_MEASUREMENTS,
	T_NEEDS,
	T_NEED_COMMUNES,
	T_NEED_FICHES,
	T_INSTANCES,
	T_INST_MEMBERS,
	T_MEETINGS,
	T_AGENDA,
	T_ATTENDANCE,
	T_DECISIONS,
	T_FOLLOW_UPS,
	T_AUDIT,
	T_COUNT
};

static const struct {
	const char *table, *sql;
} ins_sql[T_COUNT] = {
    [T_USERS] = {"users", "INSERT INTO users (id, email, name, password_hash, role, disabled, "
                          "created_at) VALUES (?, ?, ?, ?, ?, 0, ?)"},
    [T_ACTORS] = {"actors",
                  "INSERT INTO actors (id, name, search_name, kind, siret, address, commune, "
                  "latitude, longitude, website, description, created_at, updated_at, "
                  "opening_hours, email, phone, source) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, 'gen')"},
    [T_PLANS] = {"plans", "INSERT INTO plans (id, kind, title, start_year, end_year, description, "
                          "is_public, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    [T_LEVELS] = {"plan_levels", "INSERT INTO plan_levels (plan_id, depth, name) VALUES (?, ?, ?)"},
    [T_TERRITORY] = {"plan_territory",
                     "INSERT INTO plan_territory (plan_id, scope, code) VALUES (?, ?, ?)"},
    [T_SIGNATORIES] = {"plan_signatories",
                       "INSERT INTO plan_signatories (plan_id, actor_id) VALUES (?, ?)"},
    [T_MEMBERS] = {"plan_members",
                   "INSERT INTO plan_members (plan_id, user_id, role) VALUES (?, ?, ?)"},
    [T_NODES] = {"nodes", "INSERT INTO nodes (id, plan_id, parent_id, position, depth, number, "
                          "title, description, created_at, updated_at, archived) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    [T_NODE_TAGS] = {"node_tags", "INSERT INTO node_tags (node_id, tag_id) VALUES (?, ?)"},
    [T_FICHES] = {"fiches",
                  "INSERT INTO fiches (node_id, status, progress, expected_results, "
                  "human_means, start_date, end_date, closing_note, closed_at, "
                  "progress_updated_at, is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"},
    [T_PILOTS] = {"fiche_pilots",
                  "INSERT INTO fiche_pilots (node_id, user_id, actor_id) VALUES (?, ?, ?)"},
    [T_PARTNERS] = {"fiche_partners",
                    "INSERT INTO fiche_partners (node_id, actor_id) VALUES (?, ?)"},
    [T_PUBLICS] = {"fiche_publics", "INSERT INTO fiche_publics (node_id, label) VALUES (?, ?)"},
    [T_FCOMMUNES] = {"fiche_communes",
                     "INSERT INTO fiche_communes (node_id, commune) VALUES (?, ?)"},
    [T_BUDGET] = {"budget_lines", "INSERT INTO budget_lines (node_id, year, label, amount_cents, "
                                  "funder_actor_id, funder_name) VALUES (?, ?, ?, ?, ?, ?)"},
    [T_IMPACTS] = {"fiche_impacts", "INSERT INTO fiche_impacts (node_id, domain) VALUES (?, ?)"},
    [T_COMMENTS] = {"comments", "INSERT INTO comments (node_id, user_id, body, created_at) "
                                "VALUES (?, ?, ?, ?)"},
    [T_INDICATORS] = {"indicators",
                      "INSERT INTO indicators (id, name, definition, unit, kind, value_type, "
                      "impact_domain, source, direction, shared, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, 'number', ?, ?, ?, 1, ?, ?)"},
    [T_FIND] = {"fiche_indicators",
                "INSERT INTO fiche_indicators (id, node_id, indicator_id, baseline_value, "
                "baseline_text, baseline_date, frequency) VALUES (?, ?, ?, ?, NULL, ?, "
                "'monthly')"},
    [T_TARGETS] = {"indicator_targets", "INSERT INTO indicator_targets (fiche_indicator_id, "
                                        "year, value) VALUES (?, ?, ?)"},
    [T_MEASUREMENTS] = {"measurements",
                        "INSERT INTO measurements (id, fiche_indicator_id, measured_on, value, "
                        "text_value, level, source, comment, entered_by, entered_at, is_demo) "
                        "VALUES (?, ?, ?, ?, NULL, NULL, ?, '', ?, ?, 0)"},
    [T_NEEDS] = {"needs",
                 "INSERT INTO needs (id, title, description, source, thematic_tag_id, public, "
                 "observed_on, recorded_by, priority, status, evidence, moderation, "
                 "search_title, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 'publie', ?, ?, ?)"},
    [T_NEED_COMMUNES] = {"need_communes",
                         "INSERT INTO need_communes (need_id, commune) VALUES (?, ?)"},
    [T_NEED_FICHES] = {"need_fiches", "INSERT INTO need_fiches (need_id, node_id) VALUES (?, ?)"},
    [T_INSTANCES] = {"instances",
                     "INSERT INTO instances (id, plan_id, network_id, kind, name, description, "
                     "created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)"},
    [T_INST_MEMBERS] = {"instance_members",
                        "INSERT INTO instance_members (instance_id, user_id, actor_id, role) "
                        "VALUES (?, ?, ?, ?)"},
    [T_MEETINGS] = {"meetings",
                    "INSERT INTO meetings (id, instance_id, starts_at, place, status, minutes, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
    [T_AGENDA] = {"agenda_items", "INSERT INTO agenda_items (meeting_id, position, title, "
                                  "node_id, need_id) VALUES (?, ?, ?, ?, NULL)"},
    [T_ATTENDANCE] = {"attendance", "INSERT INTO attendance (meeting_id, user_id, actor_id, "
                                    "guest_name, status) VALUES (?, ?, NULL, NULL, ?)"},
    [T_DECISIONS] = {"decisions", "INSERT INTO decisions (meeting_id, number, text, node_id, "
                                  "created_at) VALUES (?, ?, ?, ?, ?)"},
    [T_FOLLOW_UPS] = {"follow_ups",
                      "INSERT INTO follow_ups (meeting_id, what, owner_user_id, owner_text, "
                      "due_on, status, created_at, closed_at) VALUES (?, ?, ?, '', ?, ?, ?, ?)"},
    [T_AUDIT] = {"audit_log", "INSERT INTO audit_log (at, user_id, origin, action, entity, "
                              "entity_id, before_json, after_json, plan_id) "
                              "VALUES (?, ?, 'web', ?, ?, ?, ?, ?, ?)"},
};

/* Tables whose ids the generator chooses (it refers to them before the database would say). */
static const int explicit_ids[] = {T_USERS, T_ACTORS, T_PLANS,     T_NODES,    T_INDICATORS,
                                   T_FIND,  T_NEEDS,  T_INSTANCES, T_MEETINGS, T_MEASUREMENTS};

struct scale {
	double ctg_share,
	    schema_share;           /* share of EPCIs with a CTG, of départements with a schéma */
	int max_plans;              /* 0: no limit */
	int fiches_min, fiches_max; /* per plan */
	int ind_max;                /* indicators per fiche: 0..ind_max (mean ind_max/2 + …) */
	int meas_min, meas_max;     /* monthly measurements per indicator */
	int actors, needs, meetings; /* structures, needs, meetings per instance */
};

static const struct scale scales[] = {
    [GEN_SMALL] = {1.0, 0.0, 3, 8, 14, 2, 3, 6, 200, 30, 2},
    [GEN_DEPARTEMENT] = {1.0, 1.0, 0, 120, 280, 4, 18, 32, 3000, 600, 4},
    [GEN_NATIONAL] = {0.9, 0.5, 0, 120, 280, 4, 20, 34, 100000, 20000, 4},
};

struct commune {
	char code[8];
	int epci, dep; /* indexes, -1 when none */
	double pop, lat, lon;
	int has_coords;
	char *name;
	int plan; /* index into plans of the commune's CTG, -1 */
};

struct idlist {
	int64_t *v;
	size_t n, cap;
};

struct area {
	char code[16];
	char *name;
	struct idlist actors;
	int *communes; /* indexes */
	size_t ncommunes, cap;
};

struct gplan {
	int64_t id, first_fiche;
	int nfiches;
	int64_t pilots[4], coordinator, reader;
	int start_year, end_year;
};

struct gen {
	struct db *db;
	struct rng r;
	const struct scale *sc;
	struct db_stmt *st[T_COUNT];
	int64_t next_id[T_COUNT];
	int64_t rows[T_COUNT];
	int64_t total;
	char *err;
	int progress;
	int64_t t0, last_print;
	const char *phase;
	double frac;
	int64_t batch_rows;
	/* geography */
	struct commune *communes;
	size_t ncommunes;
	struct area *epcis, *deps;
	size_t nepcis, ndeps;
	double *cum; /* cumulated commune weights, for drawing a commune */
	int64_t tags[8];
	int ntags;
	struct gplan *plans;
	size_t nplans;
	char pw_hash[AUTH_HASH_MAX];
	/* actor names already used (the directory has a unique index on names) */
	uint64_t *names;
	size_t names_cap, names_n;
	int64_t admin;
};

static void idlist_add(struct idlist *l, int64_t v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = v;
}

static int fail(struct gen *g, const char *what)
{
	if (!g->err)
		g->err = xasprintf("%s : %s", what, db_errmsg(g->db));
	return -1;
}

/* --- progress ------------------------------------------------------------------------------------
 */

static void progress(struct gen *g, int final)
{
	if (g->progress < 0)
		return;
	int64_t now = time_mono_us();
	if (!final && now - g->last_print < (g->progress ? 200000 : 10000000))
		return;
	g->last_print = now;
	double secs = (double)(now - g->t0) / 1e6;
	double per_min = secs > 0 ? (double)g->total / secs * 60 : 0;
	int pct = (int)(g->frac * 100 + 0.5);
	if (g->progress > 0) {
		char bar[31];
		int fill = (int)(g->frac * 30);
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = 0;
		int pad = 12 - (int)text_chars(g->phase); /* columns, not bytes ("géographie") */
		fprintf(stderr, "\r%s%*s [%s] %3d %%  %lld lignes  %.0f lignes/min   ", g->phase,
		        pad > 0 ? pad : 0, "", bar, pct, (long long)g->total, per_min);
		if (final)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "maillage gen : %s %d %%, %lld lignes, %.0f lignes/min\n", g->phase,
		        pct, (long long)g->total, per_min);
	}
	fflush(stderr);
}

/* Count the row just inserted (rc from db_step); commit every 200,000 rows. */
static int done(struct gen *g, int t, int rc)
{
	if (rc != DB_DONE) {
		if (!g->err)
			g->err = xasprintf("insertion dans %s impossible : %s", ins_sql[t].table,
			                   db_errmsg(g->db));
		return -1;
	}
	g->rows[t]++;
	g->total++;
	if (++g->batch_rows >= 200000) {
		g->batch_rows = 0;
		if (db_commit(g->db) != DB_OK || db_begin(g->db) != DB_OK)
			return fail(g, "validation d'un lot impossible");
		progress(g, 0);
	}
	return 0;
}

/* Insert one row into table t with the values typed as db_bindf; returns 0 or -1. */
#define INS(g, t, types, ...)                                                                      \
	(db_reset((g)->st[t]), db_bindf((g)->st[t], types, __VA_ARGS__),                           \
	 done(g, t, db_step((g)->st[t])))
#define CK(x)                                                                                      \
	do {                                                                                       \
		if ((x))                                                                           \
			return -1;                                                                 \
	} while (0)

/* --- helpers -------------------------------------------------------------------------------------
 */

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* 1 when the name was free (and is now taken), 0 when already used. */
static int name_take(struct gen *g, const char *name)
{
	if (g->names_n * 2 >= g->names_cap) {
		size_t cap = g->names_cap ? g->names_cap * 2 : 1024;
		uint64_t *v = xcalloc(cap, sizeof *v);
		for (size_t i = 0; i < g->names_cap; i++)
			if (g->names[i])
				for (size_t j = g->names[i] & (cap - 1);; j = (j + 1) & (cap - 1))
					if (!v[j]) {
						v[j] = g->names[i];
						break;
					}
		free(g->names);
		g->names = v;
		g->names_cap = cap;
	}
	uint64_t h = fnv(name);
	for (size_t j = h & (g->names_cap - 1);; j = (j + 1) & (g->names_cap - 1)) {
		if (g->names[j] == h)
			return 0;
		if (!g->names[j]) {
			g->names[j] = h;
			g->names_n++;
			return 1;
		}
	}
}

static int commune_draw(struct gen *g)
{
	double x = rng_unit(&g->r) * g->cum[g->ncommunes - 1];
	size_t lo = 0, hi = g->ncommunes - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (g->cum[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo;
}

/* A month as "YYYY-MM-DD" (day `day`), months counted from January of year 0. */
static void month_date(char out[16], int months, int day)
{
	unsigned y = (unsigned)months / 12 % 10000, m = (unsigned)months % 12 + 1,
	         d = (unsigned)day % 100;
	snprintf(out, 16, "%04u-%02u-%02u", y, m, d);
}

static int by_code(const void *a, const void *b)
{
	return strcmp(((const struct commune *)a)->code, ((const struct commune *)b)->code);
}

static int area_cmp(const void *a, const void *b)
{
	return strcmp(((const struct area *)a)->code, ((const struct area *)b)->code);
}

static int area_find(const struct area *v, size_t n, const char *code)
{
	if (!code)
		return -1;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid].code, code);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Read the areas (EPCIs or départements), sorted by code in C (not by the database's
 * collation) so that the dataset is the same on every backend. */
static int load_areas(struct gen *g, const char *sql, struct area **out, size_t *n)
{
	struct db_stmt *st = db_prepare(g->db, sql);
	if (!st)
		return fail(g, "lecture de la géographie impossible");
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 128;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		struct area *a = &(*out)[(*n)++];
		memset(a, 0, sizeof *a);
		snprintf(a->code, sizeof a->code, "%s", db_col_text(st, 0));
		a->name = xstrdup(db_col_text(st, 1) ? db_col_text(st, 1) : "");
	}
	db_finalize(st);
	if (*n)
		qsort(*out, *n, sizeof **out, area_cmp);
	return 0;
}

static int load_geography(struct gen *g)
{
	CK(load_areas(g, "SELECT code, name FROM epcis", &g->epcis, &g->nepcis));
	CK(load_areas(g, "SELECT code, name FROM departements", &g->deps, &g->ndeps));
	struct db_stmt *st = db_prepare(g->db, "SELECT code, name, epci, departement, population, "
	                                       "latitude, longitude FROM communes");
	if (!st)
		return fail(g, "lecture des communes impossible");
	size_t cap = 0;
	while (db_step(st) == DB_ROW) {
		if (g->ncommunes == cap) {
			cap = cap ? cap * 2 : 1024;
			g->communes = xrealloc(g->communes, cap * sizeof *g->communes);
		}
		struct commune *c = &g->communes[g->ncommunes++];
		memset(c, 0, sizeof *c);
		snprintf(c->code, sizeof c->code, "%s", db_col_text(st, 0));
		c->name = xstrdup(db_col_text(st, 1));
		c->epci = area_find(g->epcis, g->nepcis, db_col_text(st, 2));
		c->dep = area_find(g->deps, g->ndeps, db_col_text(st, 3));
		c->pop = db_col_is_null(st, 4) ? 0 : db_col_double(st, 4);
		c->has_coords = !db_col_is_null(st, 5) && !db_col_is_null(st, 6);
		c->lat = db_col_double(st, 5);
		c->lon = db_col_double(st, 6);
		c->plan = -1;
	}
	db_finalize(st);
	if (!g->ncommunes) {
		g->err = xstrdup("aucune commune dans la base : indiquez la géographie avec --geo");
		return -1;
	}
	qsort(g->communes, g->ncommunes, sizeof *g->communes, by_code);
	g->cum = xmalloc(g->ncommunes * sizeof *g->cum);
	double acc = 0;
	for (size_t i = 0; i < g->ncommunes; i++) {
		struct commune *c = &g->communes[i];
		/* structures follow the population, less than proportionally */
		acc += pow(c->pop > 0 ? c->pop : 50, 0.7);
		g->cum[i] = acc;
		struct area *areas[2] = {c->epci >= 0 ? &g->epcis[c->epci] : NULL,
		                         c->dep >= 0 ? &g->deps[c->dep] : NULL};
		for (int k = 0; k < 2; k++) {
			struct area *a = areas[k];
			if (!a)
				continue;
			if (a->ncommunes == a->cap) {
				a->cap = a->cap ? a->cap * 2 : 16;
				a->communes = xrealloc(a->communes, a->cap * sizeof *a->communes);
			}
			a->communes[a->ncommunes++] = (int)i;
		}
	}
	st = db_prepare(g->db, "SELECT id FROM tags WHERE plan_id IS NULL AND kind = 'thematique' "
	                       "ORDER BY id");
	while (st && db_step(st) == DB_ROW && g->ntags < 8)
		g->tags[g->ntags++] = db_col_int64(st, 0);
	db_finalize(st);
	return 0;
}

/* --- structures ----------------------------------------------------------------------------------
 */

static int actor_add(struct gen *g, const char *name, const char *kind, int ci, int64_t *id)
{
	const struct commune *c = &g->communes[ci];
	char unique[400];
	snprintf(unique, sizeof unique, "%s", name);
	for (int k = 2; !name_take(g, unique); k++)
		snprintf(unique, sizeof unique, "%s (%d)", name, k);
	char *folded = text_fold(unique);
	char siret[16], address[160], phone[24], email[200];
	snprintf(siret, sizeof siret, "%09llu%05d",
	         (unsigned long long)(rng_next(&g->r) % 1000000000ULL),
	         rng_range(&g->r, 10, 99999));
	snprintf(address, sizeof address, "%d %s, %s", rng_range(&g->r, 1, 120),
	         PICK(&g->r, streets), c->name);
	snprintf(phone, sizeof phone, "04 %02d %02d %02d %02d", rng_range(&g->r, 0, 99),
	         rng_range(&g->r, 0, 99), rng_range(&g->r, 0, 99), rng_range(&g->r, 0, 99));
	snprintf(email, sizeof email, "contact%lld@structures.gen.maillage.fr",
	         (long long)g->next_id[T_ACTORS]);
	*id = g->next_id[T_ACTORS]++;
	struct db_stmt *st = g->st[T_ACTORS];
	db_reset(st);
	db_bindf(st, "Issssss", *id, unique, folded, kind, siret, address, c->code);
	if (c->has_coords) {
		db_bind_double(st, 8, c->lat + (rng_unit(&g->r) - 0.5) * 0.01);
		db_bind_double(st, 9, c->lon + (rng_unit(&g->r) - 0.5) * 0.01);
	} else {
		db_bind_null(st, 8);
		db_bind_null(st, 9);
	}
	db_bind_text(st, 10, "");
	db_bind_text(st, 11, "2025-01-06T09:00:00Z");
	db_bind_text(st, 12, "2025-01-06T09:00:00Z");
	db_bind_text(st, 13, rng_chance(&g->r, 0.5) ? "Du lundi au vendredi, 9 h – 17 h" : "");
	db_bind_text(st, 14, email);
	db_bind_text(st, 15, phone);
	free(folded);
	CK(done(g, T_ACTORS, db_step(st)));
	if (c->epci >= 0)
		idlist_add(&g->epcis[c->epci].actors, *id);
	if (c->dep >= 0)
		idlist_add(&g->deps[c->dep].actors, *id);
	return 0;
}

static const struct {
	const char *kind, *pattern; /* %s: the commune's name */
	int weight;
} actor_kinds[] = {
    {"association", NULL, 40},
    {"centre_social", "Centre social de %s", 6},
    {"evs", "Espace de vie sociale de %s", 5},
    {"eaje", "Multi-accueil de %s", 12},
    {"mam", "MAM des petits pas, %s", 6},
    {"alsh", "Accueil de loisirs de %s", 9},
    {"laep", "Lieu d'accueil enfants-parents de %s", 3},
    {"rpe", "Relais petite enfance de %s", 3},
    {"commune", "Mairie de %s", 8},
    {"ccas", "CCAS de %s", 4},
    {"france_services", "France services de %s", 2},
    {"point_numerique", "Point numérique de %s", 1},
    {"mission_locale", "Mission locale de %s", 1},
};

static int gen_actors(struct gen *g)
{
	g->phase = "structures";
	int64_t id;
	char name[300];
	/* one Caf and one département per département, one structure per EPCI */
	for (size_t d = 0; d < g->ndeps; d++) {
		if (!g->deps[d].ncommunes)
			continue;
		int ci = g->deps[d].communes[0];
		snprintf(name, sizeof name, "Caf – %s (%s)", g->deps[d].name, g->deps[d].code);
		CK(actor_add(g, name, "caf", ci, &id));
		snprintf(name, sizeof name, "Conseil départemental – %s (%s)", g->deps[d].name,
		         g->deps[d].code);
		CK(actor_add(g, name, "departement", ci, &id));
	}
	for (size_t e = 0; e < g->nepcis; e++) {
		if (!g->epcis[e].ncommunes)
			continue;
		CK(actor_add(g, g->epcis[e].name, "epci", g->epcis[e].communes[0], &id));
	}
	int wsum = 0;
	for (size_t k = 0; k < sizeof actor_kinds / sizeof *actor_kinds; k++)
		wsum += actor_kinds[k].weight;
	int64_t want = g->sc->actors;
	for (int64_t i = g->rows[T_ACTORS]; i < want; i++) {
		int ci = commune_draw(g);
		int w = rng_range(&g->r, 0, wsum - 1);
		size_t k = 0;
		while (w >= actor_kinds[k].weight)
			w -= actor_kinds[k++].weight;
		if (actor_kinds[k].pattern)
			snprintf(name, sizeof name, actor_kinds[k].pattern, g->communes[ci].name);
		else
			snprintf(name, sizeof name, "%s – %s", PICK(&g->r, assoc_names),
			         g->communes[ci].name);
		CK(actor_add(g, name, actor_kinds[k].kind, ci, &id));
		g->frac = (double)i / (double)want;
		progress(g, 0);
	}
	return 0;
}

/* --- users --------------------------------------------------------------------------------------
 */

static int user_add(struct gen *g, const char *email, const char *name, const char *role,
                    int64_t *id)
{
	*id = g->next_id[T_USERS]++;
	return INS(g, T_USERS, "Isssss", *id, email, name, g->pw_hash, role,
	           "2025-01-06T09:00:00Z");
}

/* --- plans
 * ---------------------------------------------------------------------------------------- */

static const char *const statuses[] = {"proposee", "retenue",    "en_cours",
                                       "achevee",  "abandonnee", "ajournee"};
static const double status_weights[] = {0.08, 0.15, 0.50, 0.15, 0.05, 0.07};

static int pick_status(struct gen *g)
{
	double x = rng_unit(&g->r);
	for (int i = 0; i < 5; i++) {
		if (x < status_weights[i])
			return i;
		x -= status_weights[i];
	}
	return 5;
}

static const char *pick_progress(struct gen *g, int status)
{
	double x = rng_unit(&g->r);
	switch (status) {
	case 1:
		return x < 0.8 ? "non_engagee" : "peu_engagee";
	case 2:
		return x < 0.1 ? "non_engagee" : x < 0.55 ? "peu_engagee" : "bien_engagee";
	case 3:
		return x < 0.9 ? "achevee" : "bien_engagee";
	default:
		return x < 0.7 ? "non_engagee" : "peu_engagee";
	}
}

static int64_t pick_actor(struct gen *g, const struct idlist *l)
{
	return l->n ? l->v[rng_next(&g->r) % l->n] : 0;
}

/* The fiches of one plan, ids [first, first + n), under their objectives. */
static int gen_fiche(struct gen *g, struct gplan *gp, const struct area *a, int64_t id,
                     const char *created)
{
	struct rng *r = &g->r;
	int status = pick_status(g);
	const char *prog = pick_progress(g, status);
	char start[16], end[16], closed[32], upd[32];
	int sy = gp->start_year;
	month_date(start, sy * 12 + rng_range(r, 0, 23), 1);
	snprintf(end, sizeof end, "%d-12-31", gp->end_year);
	int closing = status == 3 || status == 4;
	snprintf(closed, sizeof closed, "20%02d-%02d-%02dT10:00:00Z", rng_range(r, 24, 26),
	         rng_range(r, 1, 9), rng_range(r, 1, 28));
	snprintf(upd, sizeof upd, "2026-%02d-%02dT11:00:00Z", rng_range(r, 1, 10),
	         rng_range(r, 1, 28));
	CK(INS(g, T_FICHES, "Isssssssss", id, statuses[status], prog,
	       "Des familles mieux accompagnées et une offre lisible sur le territoire.",
	       "Un coordinateur à mi-temps, l'appui des partenaires.", start, end,
	       closing ? (status == 3 ? "Action menée à son terme ; bilan présenté en COPIL."
	                              : "Action abandonnée faute de porteur.")
	               : "",
	       closing ? closed : NULL, status == 0 ? NULL : upd));
	(void)created;
	/* the audit log holds the pilot's last progress report (a real instance audits every
	 * write: the dashboard reads it for "what changed") */
	static const char *const previous[][2] = {{"peu_engagee", "non_engagee"},
	                                          {"bien_engagee", "peu_engagee"},
	                                          {"achevee", "bien_engagee"}};
	const char *prev = NULL;
	for (int k = 0; k < 3; k++)
		if (!strcmp(prog, previous[k][0]))
			prev = previous[k][1];
	if (status != 0 && prev) {
		char before[96], after[128], eid[24];
		snprintf(before, sizeof before, "{\"progress\":\"%s\",\"status\":\"%s\"}", prev,
		         status == 3 ? "en_cours" : statuses[status]);
		snprintf(after, sizeof after, "{\"progress\":\"%s\",\"status\":\"%s\"}", prog,
		         statuses[status]);
		snprintf(eid, sizeof eid, "%lld", (long long)id);
		CK(INS(g, T_AUDIT, "sIsssssI", upd, gp->pilots[id % 4], "update", "fiche", eid,
		       before, after, gp->id));
	}
	/* pilots: a user of the plan, often a structure too */
	CK(INS(g, T_PILOTS, "IIn", id, gp->pilots[rng_range(r, 0, 3)]));
	int64_t actor = pick_actor(g, &a->actors);
	if (actor && rng_chance(r, 0.6))
		CK(INS(g, T_PILOTS, "InI", id, actor));
	int npart = rng_range(r, 0, 2);
	int64_t last = -1;
	for (int k = 0; k < npart; k++) {
		int64_t p = pick_actor(g, &a->actors);
		if (!p || p == actor || p == last)
			continue;
		CK(INS(g, T_PARTNERS, "II", id, p));
		last = p;
	}
	int pub = rng_range(r, 0, (int)(sizeof publics / sizeof *publics) - 1);
	CK(INS(g, T_PUBLICS, "Is", id, publics[pub]));
	if (rng_chance(r, 0.4))
		CK(INS(
		    g, T_PUBLICS, "Is", id,
		    publics[(pub + 1 + rng_range(r, 0, 3)) % (sizeof publics / sizeof *publics)]));
	int dom = rng_range(r, 0, 6);
	CK(INS(g, T_IMPACTS, "Is", id, domains[dom]));
	if (rng_chance(r, 0.5))
		CK(INS(g, T_IMPACTS, "Is", id, domains[(dom + rng_range(r, 1, 6)) % 7]));
	if (a->ncommunes && rng_chance(r, 0.3)) {
		int c1 = a->communes[rng_next(r) % a->ncommunes];
		CK(INS(g, T_FCOMMUNES, "Is", id, g->communes[c1].code));
		int c2 = a->communes[rng_next(r) % a->ncommunes];
		if (c2 != c1 && rng_chance(r, 0.4))
			CK(INS(g, T_FCOMMUNES, "Is", id, g->communes[c2].code));
	}
	if (rng_chance(r, 0.6)) {
		int nb = rng_range(r, 1, 2);
		for (int k = 0; k < nb; k++) {
			int64_t funder = pick_actor(g, &a->actors);
			db_reset(g->st[T_BUDGET]);
			db_bindf(g->st[T_BUDGET], "Iis", id, gp->start_year + k,
			         k ? "Fonctionnement" : "Investissement");
			db_bind_int64(g->st[T_BUDGET], 4, (int64_t)rng_range(r, 20, 800) * 10000);
			if (funder)
				db_bind_int64(g->st[T_BUDGET], 5, funder);
			else
				db_bind_null(g->st[T_BUDGET], 5);
			db_bind_text(g->st[T_BUDGET], 6, funder ? "" : "Caf");
			CK(done(g, T_BUDGET, db_step(g->st[T_BUDGET])));
		}
	}
	if (rng_chance(r, 0.1))
		CK(INS(g, T_COMMENTS, "IIss", id, gp->coordinator,
		       "Point d'étape à prévoir au prochain comité technique.", upd));
	/* indicators with yearly targets and monthly measurements */
	int nind = status == 0 ? 0 : rng_range(r, 1, g->sc->ind_max);
	int first = rng_range(r, 0, 11);
	for (int k = 0; k < nind; k++) {
		int64_t ind = 1 + (first + k * 5) % 12; /* distinct within a fiche */
		int64_t fi = g->next_id[T_FIND]++;
		int months = rng_range(r, g->sc->meas_min, g->sc->meas_max);
		int endm = 2026 * 12 + 8; /* September 2026 */
		int startm = endm - months + 1;
		double base = (double)rng_range(r, 10, 400);
		char bdate[16];
		month_date(bdate, startm - 1, 28);
		CK(INS(g, T_FIND, "IIIds", fi, id, g->next_id[T_INDICATORS] - 12 + ind - 1, base,
		       bdate));
		int down = (ind == 7 || ind == 9);
		for (int y = gp->start_year; y <= gp->end_year; y++)
			CK(INS(g, T_TARGETS, "Iid", fi, y,
			       round(base * (1 + (down ? -0.05 : 0.1) * (y - gp->start_year + 1)) *
			             10) /
			           10));
		double slope = (down ? -1 : 1) * base * (0.002 + rng_unit(r) * 0.01);
		for (int m = 0; m < months; m++) {
			char day[16], at[32];
			month_date(day, startm + m, 28);
			snprintf(at, sizeof at, "%sT10:00:00Z", day);
			double v = base + slope * m + base * 0.05 * (rng_unit(r) - 0.5);
			if (v < 0)
				v = 0;
			int64_t mid = g->next_id[T_MEASUREMENTS]++;
			double value = round(v * 10) / 10;
			CK(INS(g, T_MEASUREMENTS, "IIsdsIs", mid, fi, day, value,
			       m % 6 ? "" : "Tableau de bord de la Caf", gp->pilots[m % 4], at));
			if (strcmp(day, "2026-07-01") >
			    0) { /* the last quarter's entries, audited */
				char after[160], eid[24];
				snprintf(after, sizeof after,
				         "{\"fiche_indicator_id\":%lld,\"measured_on\":\"%s\","
				         "\"value\":%.1f}",
				         (long long)fi, day, value);
				snprintf(eid, sizeof eid, "%lld", (long long)mid);
				CK(INS(g, T_AUDIT, "sIsssnsI", at, gp->pilots[m % 4], "create",
				       "measurement", eid, after, gp->id));
			}
		}
	}
	return 0;
}

static int gen_plan(struct gen *g, int is_ctg, const struct area *a, struct gplan *gp)
{
	struct rng *r = &g->r;
	int64_t pid = g->next_id[T_PLANS]++;
	gp->id = pid;
	gp->start_year = rng_range(r, 2022, 2025);
	gp->end_year = gp->start_year + 4;
	char created[32], title[400], email[120], name[200];
	snprintf(created, sizeof created, "%d-%02d-15T09:00:00Z", gp->start_year - 1,
	         rng_range(r, 1, 12));
	if (is_ctg)
		snprintf(title, sizeof title, "Convention territoriale globale – %s %d-%d", a->name,
		         gp->start_year, gp->end_year);
	else
		snprintf(title, sizeof title,
		         "Schéma départemental des services aux familles – %s %d-%d", a->name,
		         gp->start_year, gp->end_year);
	CK(INS(g, T_PLANS, "Issiisiss", pid, is_ctg ? "ctg" : "schema", title, gp->start_year,
	       gp->end_year,
	       is_ctg ? "Convention signée par la Caf et l'intercommunalité pour coordonner "
	                "l'offre de services aux familles du territoire."
	              : "Schéma départemental signé par l'État, le Département, la Caf et la MSA.",
	       rng_chance(r, 0.8) ? 1 : 0, created, created));
	static const char *const levels[] = {"Axe", "Orientation", "Objectif", "Fiche-action"};
	for (int d = 0; d < 4; d++)
		CK(INS(g, T_LEVELS, "Iis", pid, d, levels[d]));
	CK(INS(g, T_TERRITORY, "Iss", pid, is_ctg ? "epci" : "departement", a->code));
	/* signatories: the Caf and the EPCI structures come first in the area's actors */
	if (a->actors.n)
		CK(INS(g, T_SIGNATORIES, "II", pid, a->actors.v[0]));
	/* people */
	snprintf(email, sizeof email, "coordination.p%lld@gen.maillage.fr", (long long)pid);
	snprintf(name, sizeof name, "Coordination plan %lld", (long long)pid);
	CK(user_add(g, email, name, "coordinator", &gp->coordinator));
	CK(INS(g, T_MEMBERS, "IIs", pid, gp->coordinator, "coordinator"));
	for (int k = 0; k < 4; k++) {
		snprintf(email, sizeof email, "pilote%d.p%lld@gen.maillage.fr", k + 1,
		         (long long)pid);
		snprintf(name, sizeof name, "Pilote %d plan %lld", k + 1, (long long)pid);
		CK(user_add(g, email, name, "pilot", &gp->pilots[k]));
		CK(INS(g, T_MEMBERS, "IIs", pid, gp->pilots[k], "pilot"));
	}
	snprintf(email, sizeof email, "lecture.p%lld@gen.maillage.fr", (long long)pid);
	snprintf(name, sizeof name, "Lecture plan %lld", (long long)pid);
	CK(user_add(g, email, name, "reader", &gp->reader));
	CK(INS(g, T_MEMBERS, "IIs", pid, gp->reader, "reader"));

	/* the tree, breadth first so that the fiches get the last, contiguous ids */
	int nf = rng_range(r, g->sc->fiches_min, g->sc->fiches_max);
	int naxes = rng_range(r, 3, 5);
	int64_t axis_ids[5], orient_ids[5 * 4], obj_ids[5 * 4 * 4];
	char numbers[5 * 4 * 4][40];
	int norient = 0, nobj = 0;
	int theme0 = rng_range(r, 0, (int)(sizeof axis_themes / sizeof *axis_themes) - 1);
	for (int i = 0; i < naxes; i++) {
		int64_t id = g->next_id[T_NODES]++;
		axis_ids[i] = id;
		char num[16];
		snprintf(num, sizeof num, "%d", i + 1);
		int th = (theme0 + i * 2) % (int)(sizeof axis_themes / sizeof *axis_themes);
		CK(INS(g, T_NODES, "IIniisssssi", id, pid, i + 1, 0, num, axis_themes[th],
		       "Orientations partagées par les signataires.", created, created, 0));
		if (axis_tags[th] && axis_tags[th] <= g->ntags)
			CK(INS(g, T_NODE_TAGS, "II", id, g->tags[axis_tags[th] - 1]));
	}
	int per_axis[5];
	for (int i = 0; i < naxes; i++) {
		per_axis[i] = rng_range(r, 2, 4);
		for (int j = 0; j < per_axis[i]; j++) {
			int64_t id = g->next_id[T_NODES]++;
			orient_ids[norient] = id;
			char num[32], t[300];
			snprintf(num, sizeof num, "%d.%d", i + 1, j + 1);
			snprintf(t, sizeof t, "%s %s", PICK(r, verbs), PICK(r, objects));
			CK(INS(g, T_NODES, "IIIiisssssi", id, pid, axis_ids[i], j + 1, 1, num, t,
			       "", created, created, 0));
			norient++;
		}
	}
	for (int o = 0, i = 0, j = 0; o < norient; o++) {
		int nob = rng_range(r, 2, 4);
		for (int k = 0; k < nob; k++) {
			int64_t id = g->next_id[T_NODES]++;
			obj_ids[nobj] = id;
			snprintf(numbers[nobj], sizeof numbers[nobj], "%d.%d.%d", i + 1, j + 1,
			         k + 1);
			char t[300];
			snprintf(t, sizeof t, "%s %s", PICK(r, verbs), PICK(r, objects));
			CK(INS(g, T_NODES, "IIIiisssssi", id, pid, orient_ids[o], k + 1, 2,
			       numbers[nobj], t, "", created, created, 0));
			nobj++;
		}
		if (++j == per_axis[i]) {
			i++;
			j = 0;
		}
	}
	gp->first_fiche = g->next_id[T_NODES];
	gp->nfiches = nf;
	for (int f = 0; f < nf; f++) {
		int ob = f % nobj, pos = f / nobj + 1;
		int64_t id = g->next_id[T_NODES]++;
		char num[64], t[400];
		snprintf(num, sizeof num, "%s.%d", numbers[ob], pos);
		const char *place = a->ncommunes && rng_chance(r, 0.5)
		                        ? g->communes[a->communes[rng_next(r) % a->ncommunes]].name
		                        : NULL;
		if (place)
			snprintf(t, sizeof t, "%s %s à %s", PICK(r, fiche_actions),
			         PICK(r, fiche_objects), place);
		else
			snprintf(t, sizeof t, "%s %s", PICK(r, fiche_actions),
			         PICK(r, fiche_objects));
		CK(INS(g, T_NODES, "IIIiisssssi", id, pid, obj_ids[ob], pos, 3, num, t,
		       "Fiche-action générée : objectifs, moyens et calendrier.", created, created,
		       rng_chance(r, 0.005) ? 1 : 0));
		CK(gen_fiche(g, gp, a, id, created));
	}

	/* governance: a COPIL and a COTECH, a few meetings each */
	static const char *const ikinds[] = {"copil", "cotech"};
	static const char *const inames[] = {"Comité de pilotage", "Comité technique"};
	for (int k = 0; k < 2; k++) {
		int64_t iid = g->next_id[T_INSTANCES]++;
		CK(INS(g, T_INSTANCES, "IIsssss", iid, pid, ikinds[k], inames[k],
		       "Instance de la convention.", created, created));
		CK(INS(g, T_INST_MEMBERS, "IIns", iid, gp->coordinator, "Coordination"));
		for (int p = 0; p < 2; p++)
			CK(INS(g, T_INST_MEMBERS, "IIns", iid, gp->pilots[p], "Pilote"));
		for (int m = 0; m < g->sc->meetings; m++) {
			int64_t mid = g->next_id[T_MEETINGS]++;
			int month = 2024 * 12 + 2 + m * 8 + k * 2 + rng_range(r, 0, 1);
			char starts[32], day[16];
			month_date(day, month, rng_range(r, 3, 26));
			snprintf(starts, sizeof starts, "%sT%02d:00:00Z", day, k ? 8 : 13);
			int held = strcmp(day, "2026-11-25") < 0;
			CK(INS(g, T_MEETINGS, "IIssssss", mid, iid, starts, "Salle du conseil",
			       held ? "held" : "planned",
			       held ? "Relevé de décisions adopté à l'unanimité." : "", created,
			       created));
			for (int it = 0; it < 3; it++)
				CK(INS(g, T_AGENDA, "IisI", mid, it + 1,
				       it == 0   ? "Point d'avancement des fiches-actions"
				       : it == 1 ? "Indicateurs du tableau de bord"
				                 : "Questions diverses",
				       gp->first_fiche + rng_range(r, 0, nf - 1)));
			CK(INS(g, T_ATTENDANCE, "IIs", mid, gp->coordinator,
			       held ? "present" : "absent"));
			for (int p = 0; p < 2; p++)
				CK(INS(g, T_ATTENDANCE, "IIs", mid, gp->pilots[p],
				       held ? (rng_chance(r, 0.8) ? "present" : "excuse")
				            : "absent"));
			if (held) {
				CK(INS(g, T_DECISIONS, "IisIs", mid, 1,
				       "Le comité valide l'avancement présenté.",
				       gp->first_fiche + rng_range(r, 0, nf - 1), starts));
				char due[16];
				month_date(due, month + 2, 15);
				int fdone = strcmp(due, "2026-06-01") < 0;
				CK(INS(g, T_FOLLOW_UPS, "IsIssss", mid,
				       "Transmettre le tableau de bord aux "
				       "signataires",
				       gp->pilots[0], due, fdone ? "fait" : "ouvert", starts,
				       fdone ? starts : NULL));
			}
		}
	}
	return 0;
}

static int gen_plans(struct gen *g)
{
	g->phase = "plans";
	/* decide which areas get a plan first, so that the progress has a total */
	size_t cap = g->nepcis + g->ndeps;
	int *which = xmalloc(cap * sizeof *which); /* >= 0: EPCI index; < 0: -1 - dep index */
	size_t n = 0;
	for (size_t e = 0; e < g->nepcis; e++)
		if (g->epcis[e].ncommunes && rng_chance(&g->r, g->sc->ctg_share))
			which[n++] = (int)e;
	for (size_t d = 0; d < g->ndeps; d++)
		if (g->deps[d].ncommunes && rng_chance(&g->r, g->sc->schema_share))
			which[n++] = -1 - (int)d;
	if (g->sc->max_plans && n > (size_t)g->sc->max_plans)
		n = (size_t)g->sc->max_plans;
	g->plans = xcalloc(n + 1, sizeof *g->plans);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		int w = which[i];
		const struct area *a = w >= 0 ? &g->epcis[w] : &g->deps[-1 - w];
		rc = gen_plan(g, w >= 0, a, &g->plans[g->nplans]);
		if (!rc && w >= 0)
			for (size_t c = 0; c < a->ncommunes; c++)
				g->communes[a->communes[c]].plan = (int)g->nplans;
		g->nplans++;
		g->frac = (double)(i + 1) / (double)n;
		progress(g, 0);
	}
	free(which);
	return rc;
}

static int gen_needs(struct gen *g)
{
	g->phase = "besoins";
	static const char *const sources[] = {"habitants", "professionnels", "statistiques",
	                                      "enquete"};
	static const char *const nstatus[] = {"identifie", "qualifie", "priorise", "couvert"};
	struct rng *r = &g->r;
	for (int i = 0; i < g->sc->needs; i++) {
		int ci = commune_draw(g);
		const struct commune *c = &g->communes[ci];
		int64_t id = g->next_id[T_NEEDS]++;
		char title[300], day[16], at[32];
		snprintf(title, sizeof title, "%s – %s", PICK(r, need_titles), c->name);
		char *folded = text_fold(title);
		month_date(day, 2024 * 12 + rng_range(r, 0, 30), rng_range(r, 1, 28));
		snprintf(at, sizeof at, "%sT09:30:00Z", day);
		int64_t by = c->plan >= 0 ? g->plans[c->plan].coordinator : g->admin;
		int rc = INS(g, T_NEEDS, "IsssIssIissss", id, title,
		             "Relevé lors du diagnostic partagé du territoire.", PICK(r, sources),
		             g->ntags ? g->tags[rng_next(r) % (uint64_t)g->ntags] : (int64_t)0,
		             PICK(r, publics), day, by, rng_range(r, 1, 3), PICK(r, nstatus),
		             folded, at, at);
		free(folded);
		CK(rc);
		CK(INS(g, T_NEED_COMMUNES, "Is", id, c->code));
		if (c->plan >= 0 && rng_chance(r, 0.4)) {
			const struct gplan *gp = &g->plans[c->plan];
			CK(INS(g, T_NEED_FICHES, "II", id,
			       gp->first_fiche + (int64_t)(rng_next(r) % (uint64_t)gp->nfiches)));
		}
		g->frac = (double)(i + 1) / g->sc->needs;
		progress(g, 0);
	}
	return 0;
}

static int gen_indicators(struct gen *g)
{
	for (size_t k = 0; k < 12; k++) {
		int64_t id = g->next_id[T_INDICATORS]++;
		CK(INS(g, T_INDICATORS, "Isssssssss", id, indicator_defs[k][0],
		       "Indicateur du référentiel commun des conventions.", indicator_defs[k][1],
		       indicator_defs[k][2],
		       !strcmp(indicator_defs[k][2], "impact") ? domains[k % 7] : NULL,
		       "Système d'information de la Caf", indicator_defs[k][3],
		       "2025-01-06T09:00:00Z", "2025-01-06T09:00:00Z"));
	}
	return 0;
}

/* --- entry point
 * ---------------------------------------------------------------------------------- */

int gen_scale_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "national"))
		return GEN_NATIONAL;
	if (!strcmp(s, "departement") || !strcmp(s, "département"))
		return GEN_DEPARTEMENT;
	if (!strcmp(s, "small"))
		return GEN_SMALL;
	return -1;
}

static int gen_body(struct gen *g, const struct gen_opts *o, struct gen_stats *stats)
{
	int64_t n = 0;
	const char *const busy[] = {"SELECT COUNT(*) FROM plans", "SELECT COUNT(*) FROM users",
	                            "SELECT COUNT(*) FROM actors"};
	for (int i = 0; i < 3; i++) {
		if (db_int64f(g->db, &n, busy[i], "") != DB_OK)
			return fail(g, "lecture de la base impossible");
		if (n) {
			g->err =
			    xstrdup("la base n'est pas vide (plans, comptes ou structures) : le "
			            "générateur remplit une base neuve");
			return -1;
		}
	}
	if (db_int64f(g->db, &n, "SELECT COUNT(*) FROM communes", "") != DB_OK)
		return fail(g, "lecture des communes impossible");
	if (!n) {
		if (o->scale == GEN_NATIONAL && !o->geo_dir) {
			g->err =
			    xstrdup("l'échelle nationale demande les communes de France : "
			            "--geo node_modules/@etalab/decoupage-administratif/data "
			            "(npm ci), ou une base où « maillage import cog » a été fait");
			return -1;
		}
		g->phase = "géographie";
		progress(g, 1);
		struct geo_stats gs;
		memset(&gs, 0, sizeof gs);
		int rc = o->geo_dir ? geo_import_dir(g->db, o->geo_dir, NULL, &gs, &g->err)
		                    : geo_import_embedded(g->db, &gs, &g->err);
		if (rc)
			return -1;
		stats->geo_communes = gs.communes;
	}
	CK(load_geography(g));
	if (auth_password_hash("maillage-demo", g->pw_hash)) {
		g->err = xstrdup("calcul de l'empreinte du mot de passe impossible");
		return -1;
	}
	for (int t = 0; t < T_COUNT; t++) {
		g->st[t] = db_prepare(g->db, ins_sql[t].sql);
		if (!g->st[t])
			return fail(g, ins_sql[t].table);
	}
	for (size_t k = 0; k < sizeof explicit_ids / sizeof *explicit_ids; k++) {
		int t = explicit_ids[k];
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(id), 0) FROM %s", ins_sql[t].table);
		int64_t max = 0;
		if (db_int64f(g->db, &max, sql, "") != DB_OK)
			return fail(g, ins_sql[t].table);
		g->next_id[t] = max + 1;
	}
	if (db_begin(g->db) != DB_OK)
		return fail(g, "début de transaction impossible");
	int rc =
	    user_add(g, "admin@gen.maillage.fr", "Administration nationale", "admin", &g->admin);
	if (!rc)
		rc = gen_indicators(g);
	if (!rc)
		rc = gen_actors(g);
	if (!rc)
		rc = gen_plans(g);
	if (!rc)
		rc = gen_needs(g);
	if (rc) {
		db_rollback(g->db);
		return -1;
	}
	if (db_commit(g->db) != DB_OK)
		return fail(g, "validation impossible");
	g->phase = "terminé";
	g->frac = 1;
	progress(g, 1);
	return 0;
}

int gen_run(struct db *db, const struct gen_opts *o, struct gen_stats *stats, char **err)
{
	*err = NULL;
	memset(stats, 0, sizeof *stats);
	struct gen *g = xcalloc(1, sizeof *g);
	g->db = db;
	g->sc = &scales[o->scale];
	g->progress = o->progress;
	g->t0 = g->last_print = time_mono_us();
	g->phase = "préparation";
	rng_seed(&g->r, o->seed);
	int sqlite = !strcmp(db_backend(db), "sqlite");
	/* generation only: no fsync and a larger page cache (the server opens its own connection)
	 */
	if (sqlite)
		db_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -131072");
	int rc = gen_body(g, o, stats);
	if (!rc && dbcopy_reset_sequences(db, &g->err))
		rc = -1;
	if (!rc) {
		g->phase = "statistiques";
		if (db_exec(db, "ANALYZE") != DB_OK)
			rc = fail(g, "ANALYZE impossible");
	}
	if (sqlite)
		db_exec(db, "PRAGMA synchronous = NORMAL");
	for (int t = 0; t < T_COUNT; t++) {
		db_finalize(g->st[t]);
		if (t < GEN_NTABLES) {
			stats->table[t] = ins_sql[t].table;
			stats->rows[t] = g->rows[t];
		}
	}
	stats->total = g->total;
	stats->seconds = (double)(time_mono_us() - g->t0) / 1e6;
	if (rc)
		*err = g->err ? g->err : xstrdup("erreur inconnue");
	else
		free(g->err);
	for (size_t i = 0; i < g->ncommunes; i++)
		free(g->communes[i].name);
	free(g->communes);
	struct area *sets[2] = {g->epcis, g->deps};
	size_t ns[2] = {g->nepcis, g->ndeps};
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < ns[k]; i++) {
			free(sets[k][i].name);
			free(sets[k][i].actors.v);
			free(sets[k][i].communes);
		}
		free(sets[k]);
	}
	free(g->cum);
	free(g->plans);
	free(g->names);
	free(g);
	return rc ? -1 : 0;
}

int gen_cli(const char *url, const char *scale, const char *seed, const char *geo_dir)
{
	struct gen_opts o = {.scale = GEN_NATIONAL, .seed = 1, .geo_dir = geo_dir};
	if (scale) {
		int s = gen_scale_parse(scale);
		if (s < 0) {
			fprintf(stderr,
			        "maillage gen : échelle inconnue « %s » (national, departement "
			        "ou small)\n",
			        scale);
			return 2;
		}
		o.scale = (enum gen_scale)s;
	}
	if (seed) {
		int64_t v;
		if (parse_int64(seed, &v) || v < 0) {
			fprintf(stderr, "maillage gen : graine invalide « %s » (entier positif)\n",
			        seed);
			return 2;
		}
		o.seed = (uint64_t)v;
	}
	o.progress = isatty(STDERR_FILENO) ? 1 : 0;
	char *err = NULL;
	struct db *db = db_open(url, &err);
	if (!db) {
		fprintf(stderr, "maillage : %s\n", err);
		free(err);
		return 1;
	}
	if (db_migrate(db) != DB_OK) {
		fprintf(stderr, "maillage : la mise à jour du schéma a échoué\n");
		db_close(db);
		return 1;
	}
	struct gen_stats st;
	int rc = gen_run(db, &o, &st, &err);
	db_close(db);
	if (rc) {
		fprintf(stderr,
		        "maillage gen : %s\n(la base peut être incomplète : supprimez-la avant de "
		        "recommencer)\n",
		        err);
		free(err);
		return 1;
	}
	printf("%-20s %12s\n", "table", "lignes");
	for (int t = 0; t < GEN_NTABLES && st.table[t]; t++)
		printf("%-20s %12lld\n", st.table[t], (long long)st.rows[t]);
	if (st.geo_communes)
		printf("(géographie : %ld communes importées)\n", st.geo_communes);
	printf("Total : %lld lignes en %.1f s, soit %.0f lignes par minute (graine %llu).\n",
	       (long long)st.total, st.seconds, st.seconds > 0 ? st.total / st.seconds * 60 : 0,
	       (unsigned long long)o.seed);
	return 0;
}
