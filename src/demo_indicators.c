/* demo_indicators: the demonstration référentiel of indicators and the demo fiches' baselines,
 * targets and measurements. */
#include "demo_indicators.h"

#include "audit.h"
#include "db.h"
#include "fiches.h"
#include "indicators.h"
#include "text.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_MARK "*Indicateur de démonstration : valeurs fictives.* "

/* A demo indicator, with what drives its made-up values. */
struct demo_ind {
	const char *name, *definition, *unit, *kind, *value_type, *domain, *source, *direction;
	double base_min, base_max; /* baseline range */
	double growth;             /* relative change expected over the plan (+0.3: +30 %) */
	int decimals;              /* of the values */
	const char *keywords;      /* '|'-separated folded words matched in fiche texts */
};

static const struct demo_ind demo_inds[] = {
    {"Nombre de familles accompagnées",
     "Familles ayant bénéficié d'au moins un accompagnement individuel ou collectif dans les "
     "douze derniers mois.",
     "familles", "realisation", "number", NULL, "Tableau de suivi des structures", "up", 40, 120,
     0.35, 0, "famill|accompagnement"},
    {"Taux de couverture en accueil du jeune enfant (places pour 100 enfants de moins de 3 ans)",
     "Places d'accueil collectif et individuel (EAJE, assistants maternels, MAM) rapportées au "
     "nombre d'enfants de moins de 3 ans du territoire, multiplié par 100.",
     "places pour 100 enfants", "impact", "number", "parcours-de-vie",
     "Caf — données de l'offre d'accueil ; INSEE", "up", 45, 62, 0.12, 1,
     "petite enfance|jeune enfant|creche|eaje|assistant|mam|mode d accueil|rpe"},
    {"Part des habitants déclarant une amélioration de leur pouvoir d'agir",
     "Part des participants qui déclarent, lors de l'enquête annuelle, se sentir plus capables "
     "d'agir sur leur situation ou leur quartier.",
     "%", "impact", "number", "pouvoir-d-agir", "Enquête annuelle auprès des participants", "up",
     20, 35, 0.45, 1, "habitant|participation|citoyen|pouvoir d agir|implication"},
    {"Nombre de permanences France services",
     "Permanences d'accueil tenues dans les espaces France services et leurs antennes, par mois.",
     "permanences par mois", "realisation", "number", NULL, "France services — rapports d'activité",
     "up", 4, 12, 0.5, 0, "france services|acces aux droits|permanence|accueil"},
    {"Dynamique partenariale",
     "Appréciation, par le comité technique, de l'engagement des partenaires dans l'action : "
     "participation aux réunions, co-portage, apports.",
     "", "impact", "qualitative", "cohesion-sociale-territoriale",
     "Appréciation du comité technique", "up", 2, 2, 0.5, 0,
     "partenari|reseau|coordination|cooperation|concertation"},
    {"Nombre de personnes accompagnées vers l'autonomie numérique",
     "Personnes ayant suivi au moins un atelier ou un accompagnement individuel au numérique.",
     "personnes", "realisation", "number", NULL, "Conseillers numériques", "up", 60, 200, 0.6, 0,
     "numerique|informatique|demarches en ligne|dematerialis"},
    {"Nombre de jeunes touchés par les actions",
     "Jeunes de 11 à 25 ans ayant participé au moins une fois à une action.", "jeunes",
     "realisation", "number", NULL, "Fiches de présence", "up", 30, 150, 0.4, 0,
     "jeune|jeunesse|adolescen|ados"},
    {"Nombre d'enfants accueillis en accueil de loisirs",
     "Enfants différents inscrits en accueil de loisirs (mercredis et vacances).", "enfants",
     "realisation", "number", NULL, "Caf — déclarations des accueils de loisirs", "up", 80, 260,
     0.2, 0, "enfance|loisirs|alsh|periscolaire|enfant"},
    {"Nombre de participants aux actions de soutien à la parentalité",
     "Parents ayant participé à au moins une action collective (groupe de parole, LAEP, "
     "conférence).",
     "parents", "realisation", "number", NULL, "Réseau parentalité", "up", 20, 90, 0.5, 0,
     "parentalit|laep|parents|coeducation"},
    {"Nombre de ménages accompagnés dans l'accès ou le maintien dans le logement",
     "Ménages ayant bénéficié d'un accompagnement lié au logement (accès, maintien, "
     "rénovation).",
     "ménages", "realisation", "number", NULL, "Service habitat", "up", 15, 60, 0.3, 0,
     "logement|habitat|hebergement|renovation"},
    {"Taux de non-recours aux droits estimé",
     "Part estimée des personnes éligibles à une prestation qui ne la perçoivent pas.", "%",
     "impact", "number", "reduction-precarite-economique",
     "Caf — estimation à partir des données allocataires", "down", 25, 35, -0.25, 1,
     "droits|non recours|prestation|precarite"},
    {"Part des personnes accompagnées se déclarant moins isolées",
     "Part des personnes accompagnées qui déclarent, six mois après, avoir davantage de "
     "relations.",
     "%", "impact", "number", "lien-social", "Questionnaire de suivi", "up", 30, 50, 0.35, 1,
     "isolement|lien social|vie sociale|seniors|personnes agees|rencontre"},
    {"Nombre de bénévoles impliqués",
     "Bénévoles ayant donné du temps à l'action au moins une fois dans le trimestre.", "bénévoles",
     "realisation", "number", NULL, "Structures porteuses", "up", 8, 40, 0.4, 0,
     "benevol|associati|animation de la vie sociale|centre social|evs"},
    {"Nombre de réunions du réseau d'acteurs",
     "Réunions plénières ou thématiques du réseau d'acteurs animé dans le cadre de l'action.",
     "réunions", "realisation", "number", NULL, "Comptes rendus", "up", 2, 6, 0.5, 0,
     "reseau|coordination|partenaires|acteurs"},
    {"Délai moyen d'attente pour un premier rendez-vous",
     "Jours entre la demande et le premier rendez-vous, en moyenne sur le trimestre.", "jours",
     "impact", "number", "pertinence-action-institutionnelle", "Agenda partagé des accueils",
     "down", 15, 30, -0.3, 0, "rendez vous|accueil|acces aux droits|orientation"},
    {"Nombre de places créées en accueil du jeune enfant",
     "Places nouvelles ouvertes depuis le début du plan (EAJE, MAM, micro-crèches).", "places",
     "realisation", "number", NULL, "Caf — données de l'offre d'accueil", "up", 0, 6, 2.0, 0,
     "creche|eaje|mam|places|petite enfance"},
    {"Taux de satisfaction des usagers",
     "Part des usagers satisfaits ou très satisfaits du service rendu (enquête de "
     "satisfaction).",
     "%", "impact", "number", "pertinence-action-institutionnelle", "Enquête de satisfaction", "up",
     65, 80, 0.12, 1, "usager|service|accueil|satisfaction"},
    {"Nombre d'actions de sensibilisation à la transition écologique",
     "Ateliers, animations ou événements consacrés à la transition écologique.", "actions",
     "realisation", "number", "transition-ecologique", "Structures porteuses", "up", 2, 8, 0.6, 0,
     "ecolog|transition|environnement|alimentation|jardin|durable"},
    {"Nombre de trajets réalisés grâce aux solutions de mobilité solidaire",
     "Trajets effectués par transport solidaire, autopartage ou prêt de véhicule.", "trajets",
     "realisation", "number", NULL, "Plateforme mobilité", "up", 50, 300, 0.5, 0,
     "mobilit|transport|deplacement|permis"},
    {"Part des jeunes accompagnés en emploi ou en formation six mois après",
     "Part des jeunes accompagnés qui sont en emploi, en formation ou en stage six mois après "
     "la fin de l'accompagnement.",
     "%", "impact", "number", "parcours-de-vie", "Mission locale", "up", 40, 55, 0.2, 1,
     "insertion|emploi|formation professionnelle|mission locale|decrochage"},
    {"Appropriation de l'action par les habitants",
     "Appréciation de la place prise par les habitants dans la conduite de l'action : simples "
     "bénéficiaires, consultés, associés, porteurs.",
     "", "impact", "qualitative", "pouvoir-d-agir", "Appréciation du pilote et des partenaires",
     "up", 1, 2, 0.8, 0, "habitant|participation|citoyen|collectif"},
    {"Nombre de personnes touchées par l'action",
     "Personnes différentes ayant participé ou bénéficié de l'action dans le trimestre.",
     "personnes", "realisation", "number", NULL, "Tableau de suivi du pilote", "up", 20, 150, 0.3,
     0, ""},
};

#define NDEMO               (sizeof demo_inds / sizeof *demo_inds)
#define GENERIC_REALISATION (NDEMO - 1)
#define PARTNERSHIP         4 /* "Dynamique partenariale" */

static const char *const level_texts[4] = {
    "Peu de mobilisation : réunions annulées, partenaires difficiles à réunir.",
    "Quelques partenaires engagés ; la coordination reste à construire.",
    "Engagement régulier : réunions tenues, actions co-portées.",
    "Dynamique solide et élargie : les partenaires proposent eux-mêmes des actions.",
};

static const char *const comments[] = {
    "Baisse liée à la période estivale.",
    "Hausse après la campagne de communication.",
    "Chiffre provisoire, à consolider.",
    "Nouveau partenaire associé ce trimestre.",
};

/* splitmix64: a small deterministic generator (no global state). */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rnd_unit(uint64_t *s)
{
	return (double)(rnd_next(s) >> 11) / 9007199254740992.0;
}

static double rnd_range(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * rnd_unit(s);
}

static double round_to(double v, int decimals)
{
	double f = decimals == 1 ? 10.0 : decimals == 2 ? 100.0 : 1.0;
	return round(v * f) / f;
}

/* Days between two YYYY-MM-DD dates (b − a), by a civil-day count. */
static long days_of(const char *d)
{
	int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
}

/* 1 when the folded text contains one of the '|'-separated keywords. */
static int matches(const char *text, const char *keywords)
{
	if (!*keywords)
		return 0;
	char *copy = xstrdup(keywords), *save = NULL;
	int hit = 0;
	for (char *k = strtok_r(copy, "|", &save); k && !hit; k = strtok_r(NULL, "|", &save))
		hit = strstr(text, k) != NULL;
	free(copy);
	return hit;
}

/* The ids of the demo indicators in the database, created when missing. */
static int ensure_indicators(struct db *db, int64_t ids[NDEMO], char **err)
{
	char now[32];
	time_iso_now(now);
	for (size_t i = 0; i < NDEMO; i++) {
		const struct demo_ind *d = &demo_inds[i];
		ids[i] = 0;
		if (db_int64f(db, &ids[i],
		              "SELECT id FROM indicators WHERE name = ? AND shared = 1", "s",
		              d->name) == DB_OK &&
		    ids[i])
			continue;
		char *def = xasprintf("%s%s", DEMO_MARK, d->definition);
		struct db_stmt *st =
		    db_queryf(db,
		              "INSERT INTO indicators (name, definition, unit, kind, value_type, "
		              "impact_domain, source, direction, shared, created_at, updated_at) "
		              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
		              "ssssssssss", d->name, def, d->unit, d->kind, d->value_type,
		              d->domain, d->source, d->direction, now, now);
		int ok = st && db_step(st) == DB_ROW;
		if (ok)
			ids[i] = db_col_int64(st, 0);
		db_finalize(st);
		if (ok) {
			json_t *a =
			    json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", d->name, "kind", d->kind,
			              "value_type", d->value_type, "definition", def, "demo", 1);
			ok = audit_write_id(db, 0, "cli", "create", "indicator", ids[i], NULL, a) ==
			     DB_OK;
			json_decref(a);
		}
		free(def);
		if (!ok) {
			*err = xasprintf("indicateur de démonstration « %s » : %s", d->name,
			                 db_errmsg(db));
			return -1;
		}
	}
	return 0;
}

/* One demo fiche, as read before any write. */
struct dfiche {
	int64_t node_id;
	char *text; /* folded title and description */
	char status[16], progress[16];
	char start[16], end[16]; /* "" when unknown */
	int plan_start, plan_end;
	char reported[16]; /* progress last reported on, "" when never */
	int stale;         /* en cours and progress last reported more than six months ago */
};

/* Choose 1 to 3 indicators for a fiche into out; returns how many. */
static int choose(const struct dfiche *f, uint64_t *rng, size_t out[3])
{
	int n = 0;
	/* A réalisation indicator: the first matching one, else the generic one. */
	size_t real = GENERIC_REALISATION, imp = (size_t)-1;
	size_t start = (size_t)(rnd_next(rng) % NDEMO);
	for (size_t k = 0; k < NDEMO; k++) {
		size_t i = (start + k) % NDEMO;
		if (i == GENERIC_REALISATION || !matches(f->text, demo_inds[i].keywords))
			continue;
		if (!strcmp(demo_inds[i].kind, "realisation") && real == GENERIC_REALISATION)
			real = i;
		else if (!strcmp(demo_inds[i].kind, "impact") && imp == (size_t)-1 &&
		         i != PARTNERSHIP)
			imp = i;
	}
	out[n++] = real;
	if (imp != (size_t)-1 && rnd_unit(rng) < 0.75)
		out[n++] = imp;
	if (n < 3 && (matches(f->text, demo_inds[PARTNERSHIP].keywords) || rnd_unit(rng) < 0.2))
		out[n++] = PARTNERSHIP;
	return n;
}

/* Add `months` months to a date (day clamped). */
static void add_months(const char *from, int months, char out[16])
{
	if (indicator_add_months(from, months, out))
		snprintf(out, 16, "%s", from);
}

/* Attach demo indicator d (id ind_id) to fiche f with its baseline, targets, measurements. */
static int attach(struct db *db, const struct dfiche *f, const struct demo_ind *d, int64_t ind_id,
                  const char *today, const char *now, uint64_t *rng, char **err)
{
	int qual = !strcmp(d->value_type, "qualitative");
	const char *frequency = qual ? "half_yearly" : "quarterly";
	int step = qual ? 6 : 3;
	/* Baseline at the fiche's start (else the plan's), before anything was done. */
	char base_date[16];
	if (*f->start)
		snprintf(base_date, sizeof base_date, "%s", f->start);
	else
		snprintf(base_date, sizeof base_date, "%04d-01-01",
		         f->plan_start ? f->plan_start : atoi(today));
	if (strcmp(base_date, today) > 0) /* a fiche not started yet: today's situation */
		snprintf(base_date, sizeof base_date, "%s", today);
	double base = qual ? round(rnd_range(rng, d->base_min, d->base_max + 0.99))
	                   : round_to(rnd_range(rng, d->base_min, d->base_max), d->decimals);
	if (qual && base > 3)
		base = 3;
	int y0 = atoi(base_date), y1 = f->plan_end ? f->plan_end : y0 + 4;
	if (f->plan_start && y0 < f->plan_start)
		y0 = f->plan_start;
	if (y1 < y0)
		y1 = y0;
	/* The value aimed at by the end of the plan. */
	double final;
	if (qual) {
		final = base + 1 + (rnd_unit(rng) < 0.4);
		if (final > 4)
			final = 4;
	} else {
		final = base * (1 + d->growth) + (d->growth > 1 ? 2 : 0);
	}
	/* How well this fiche follows its path: weak for "peu engagée" fiches. */
	int weak = !strcmp(f->progress, "peu_engagee") || !strcmp(f->progress, "non_engagee");
	double perf = weak ? rnd_range(rng, 0.3, 0.8) : rnd_range(rng, 0.8, 1.25);

	struct db_stmt *st =
	    db_queryf(db,
	              "INSERT INTO fiche_indicators (node_id, indicator_id, "
	              "baseline_value, baseline_text, baseline_date, frequency) "
	              "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
	              "IIdsss", f->node_id, ind_id, base, qual ? level_texts[(int)base - 1] : NULL,
	              base_date, frequency);
	int rc = st ? db_step(st) : DB_ERROR;
	int64_t fi = rc == DB_ROW ? db_col_int64(st, 0) : 0;
	db_finalize(st);
	if (rc == DB_CONSTRAINT)
		return 0; /* the fiche already follows it */
	if (rc != DB_ROW)
		goto fail;
	json_t *targets = json_object();
	for (int y = y0; y <= y1; y++) {
		double t = base + (final - base) * (double)(y - y0 + 1) / (double)(y1 - y0 + 1);
		t = qual ? round(t) : round_to(t, d->decimals);
		if (db_execf(db,
		             "INSERT INTO indicator_targets (fiche_indicator_id, year, value) "
		             "VALUES (?, ?, ?)",
		             "Iid", fi, y, t) != DB_OK) {
			json_decref(targets);
			goto fail;
		}
		char key[16];
		snprintf(key, sizeof key, "%d", y);
		json_object_set_new(targets, key, json_real(t));
	}

	/* Measurements: from one period after the baseline to today (or the fiche's end). */
	char stop[16];
	snprintf(stop, sizeof stop, "%s", today);
	if (*f->end && strcmp(f->end, stop) < 0)
		snprintf(stop, sizeof stop, "%s", f->end);
	if (f->plan_end) {
		char plan_end[16];
		snprintf(plan_end, sizeof plan_end, "%04d-12-31", f->plan_end);
		if (strcmp(plan_end, stop) < 0)
			snprintf(stop, sizeof stop, "%s", plan_end);
	}
	int expects = !strcmp(f->status, "en_cours") || !strcmp(f->status, "achevee") ||
	              !strcmp(f->status, "abandonnee") || !strcmp(f->status, "ajournee") ||
	              (!strcmp(f->status, "retenue") && strcmp(base_date, today) < 0);
	if (!strcmp(f->status, "proposee"))
		expects = 0;
	/* Some fiches fall behind: their last measurements are missing. */
	if (f->stale || rnd_unit(rng) < (weak ? 0.5 : 0.06)) {
		char late[16];
		add_months(today, -(5 + (int)(rnd_next(rng) % 5)), late);
		if (strcmp(late, stop) < 0)
			snprintf(stop, sizeof stop, "%s", late);
	}
	if (!strcmp(f->status, "abandonnee") || !strcmp(f->status, "ajournee")) {
		char cut[16];
		add_months(base_date, 9, cut);
		if (strcmp(cut, stop) < 0)
			snprintf(stop, sizeof stop, "%s", cut);
	}
	long span = days_of(stop) - days_of(base_date);
	long total = (long)(y1 - y0 + 1) * 365;
	int count = 0;
	st = db_prepare(db, "INSERT INTO measurements (fiche_indicator_id, measured_on, value, "
	                    "text_value, level, source, comment, entered_by, entered_at, is_demo) "
	                    "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)");
	if (!st)
		goto fail;
	for (int k = 1; expects && span > 0; k++) {
		char date[16];
		add_months(base_date, step * k, date);
		if (strcmp(date, stop) > 0)
			break;
		double progress = (double)(days_of(date) - days_of(base_date)) / (double)total;
		if (progress > 1)
			progress = 1;
		double v = base + (final - base) * progress * perf;
		db_reset(st);
		db_bind_int64(st, 1, fi);
		db_bind_text(st, 2, date);
		if (qual) {
			int level = (int)lround(v + rnd_range(rng, -0.45, 0.45));
			level = level < 1 ? 1 : level > 4 ? 4 : level;
			db_bind_null(st, 3);
			db_bind_text(st, 4, level_texts[level - 1]);
			db_bind_int64(st, 5, level);
		} else {
			double noise = rnd_range(rng, -0.06, 0.06) * (fabs(v) + 1);
			v = round_to(v + noise, d->decimals);
			if (v < 0)
				v = 0;
			if (!strcmp(d->unit, "%") && v > 100)
				v = 100;
			db_bind_double(st, 3, v);
			db_bind_null(st, 4);
			db_bind_null(st, 5);
		}
		db_bind_text(st, 6, d->source);
		db_bind_text(st, 7, rnd_unit(rng) < 0.12 ? comments[rnd_next(rng) % 4] : "");
		db_bind_text(st, 8, now);
		if (db_step(st) != DB_DONE) {
			db_finalize(st);
			goto fail;
		}
		count++;
	}
	db_finalize(st);
	json_t *a =
	    json_pack("{s:I,s:I,s:s,s:s,s:f,s:s,s:o,s:i,s:b}", "node_id", (json_int_t)f->node_id,
	              "indicator_id", (json_int_t)ind_id, "indicator", d->name, "frequency",
	              frequency, "baseline_value", base, "baseline_date", base_date, "targets",
	              targets, "measurements", count, "demo", 1);
	rc = audit_write_id(db, 0, "cli", "create", "fiche_indicator", fi, NULL, a);
	json_decref(a);
	if (rc != DB_OK)
		goto fail;
	return 0;
fail:
	*err = xasprintf("indicateur « %s » de la fiche n° %lld : %s", d->name,
	                 (long long)f->node_id, db_errmsg(db));
	return -1;
}

int demo_indicators_load(struct db *db, char **err)
{
	*err = NULL;
	int own = db_begin(db) == DB_OK;
	int64_t ids[NDEMO];
	struct dfiche *fiches = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;
	if (ensure_indicators(db, ids, err))
		goto out;
	struct db_stmt *st = db_prepare(
	    db, "SELECT f.node_id, n.title, n.description, f.status, f.progress, f.start_date, "
	        "f.end_date, p.start_year, p.end_year, f.progress_updated_at FROM fiches f "
	        "JOIN nodes n ON n.id = f.node_id JOIN plans p ON p.id = n.plan_id "
	        "WHERE n.archived = 0 ORDER BY f.node_id");
	if (!st) {
		*err = xasprintf("lecture des fiches : %s", db_errmsg(db));
		goto out;
	}
	while (db_step(st) == DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			fiches = xrealloc(fiches, cap * sizeof *fiches);
		}
		struct dfiche *f = &fiches[n++];
		memset(f, 0, sizeof *f);
		f->node_id = db_col_int64(st, 0);
		char *both = xasprintf("%s %s", db_col_text(st, 1),
		                       db_col_text(st, 2) ? db_col_text(st, 2) : "");
		f->text = text_fold(both);
		free(both);
		snprintf(f->status, sizeof f->status, "%s", db_col_text(st, 3));
		snprintf(f->progress, sizeof f->progress, "%s", db_col_text(st, 4));
		snprintf(f->start, sizeof f->start, "%s",
		         fiche_date_valid(db_col_text(st, 5)) ? db_col_text(st, 5) : "");
		snprintf(f->end, sizeof f->end, "%s",
		         fiche_date_valid(db_col_text(st, 6)) ? db_col_text(st, 6) : "");
		f->plan_start = db_col_is_null(st, 7) ? 0 : (int)db_col_int64(st, 7);
		f->plan_end = db_col_is_null(st, 8) ? 0 : (int)db_col_int64(st, 8);
		if (db_col_text(st, 9))
			snprintf(f->reported, sizeof f->reported, "%.10s", db_col_text(st, 9));
	}
	db_finalize(st);
	char today[16], now[32], half_year_ago[16];
	fiche_today(today);
	add_months(today, -6, half_year_ago);
	for (size_t i = 0; i < n; i++)
		fiches[i].stale = fiche_date_valid(fiches[i].reported) &&
		                  strcmp(fiches[i].reported, half_year_ago) < 0 &&
		                  !strcmp(fiches[i].status, "en_cours");
	time_iso_now(now);
	for (size_t i = 0; i < n; i++) {
		int64_t already = 0;
		db_int64f(db, &already, "SELECT COUNT(*) FROM fiche_indicators WHERE node_id = ?",
		          "I", fiches[i].node_id);
		if (already)
			continue;
		uint64_t rng =
		    0x6d61696c6c616765ULL ^ ((uint64_t)fiches[i].node_id * 2654435761ULL);
		size_t chosen[3];
		int k = choose(&fiches[i], &rng, chosen);
		for (int j = 0; j < k; j++)
			if (attach(db, &fiches[i], &demo_inds[chosen[j]], ids[chosen[j]], today,
			           now, &rng, err))
				goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(fiches[i].text);
	free(fiches);
	if (own) {
		if (rc == 0 && db_commit(db) != DB_OK) {
			*err = xasprintf("validation impossible : %s", db_errmsg(db));
			rc = -1;
		}
		if (rc != 0)
			db_rollback(db);
	}
	return rc;
}
