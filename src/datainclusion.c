/* datainclusion: structures and services in the national data·inclusion schema (v1).
 *
 * The constraints below are those of the published schema, gip-inclusion/data-inclusion-schema,
 * schemas/v1/structure.json and schemas/v1/service.json (https://github.com/gip-inclusion/
 * data-inclusion-schema); they are implemented here in C, the schema files are not copied. */
#include "datainclusion.h"

#include "actors.h"
#include "audit.h"
#include "db.h"
#include "layout.h"
#include "offer.h"
#include "text.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DI_MAX_BYTES (20u << 20) /* largest import accepted */
#define DI_SOURCE    "data·inclusion"

/* --- enumerations of the schema ----------------------------------------------------------------
 */

static const char *const RESEAUX[] = {"60000-rebonds",
                                      "action-logement",
                                      "adie",
                                      "afpa",
                                      "agefiph",
                                      "aidants-connect",
                                      "alliance-villes-emploi",
                                      "anlci",
                                      "apprentis-dauteuil",
                                      "ase",
                                      "banques-alimentaires",
                                      "caarud",
                                      "cada",
                                      "caf",
                                      "campus-connecte",
                                      "cap-emploi-reseau-cheops",
                                      "cava",
                                      "chambres-consulaires",
                                      "chantier-ecole",
                                      "chrs",
                                      "chu",
                                      "cidff",
                                      "cmp",
                                      "cms",
                                      "cnam",
                                      "collectif-emploi",
                                      "communes",
                                      "coorace",
                                      "conseillers-numeriques",
                                      "cpam",
                                      "cph",
                                      "creches-avip",
                                      "crepi",
                                      "cresus",
                                      "croix-rouge",
                                      "csapa",
                                      "departements",
                                      "duo-for-a-job",
                                      "ecoles-de-la-deuxieme-chance",
                                      "egee",
                                      "emmaus",
                                      "epide",
                                      "espaces-publics-numeriques",
                                      "etcld",
                                      "fabrique-de-territoire",
                                      "face",
                                      "fcsf",
                                      "federation-professionnelle-femmes",
                                      "federation-des-acteurs-de-la-solidarite",
                                      "france-active",
                                      "france-service",
                                      "france-travail",
                                      "french-tech",
                                      "geiq",
                                      "grandes-ecoles-du-numerique",
                                      "huda",
                                      "hup",
                                      "inae",
                                      "initiative-france",
                                      "konexio",
                                      "la-cravate-solidaire",
                                      "la-poste",
                                      "les-premieres",
                                      "maisons-de-l-emploi",
                                      "maisons-des-solidarites",
                                      "mission-locale",
                                      "mjc",
                                      "mobin",
                                      "msap",
                                      "mutualite-sociale-agricole",
                                      "nqt",
                                      "pimms-mediation",
                                      "pjj",
                                      "plie",
                                      "points-conseil-budget",
                                      "points-justice",
                                      "positive-planet",
                                      "regions",
                                      "reseau-app",
                                      "reseau-bge",
                                      "reseau-entreprendre",
                                      "reseau-information-jeunesse",
                                      "residences-fjt",
                                      "ressourceries",
                                      "restos-du-coeur",
                                      "secours-populaire",
                                      "siae",
                                      "siao",
                                      "simplon",
                                      "singa",
                                      "snc",
                                      "spip",
                                      "tous-tes-possibles",
                                      "unaf",
                                      "unccas",
                                      "unea",
                                      "unis-cite",
                                      "wimoov",
                                      NULL};

static const char *const TYPES[] = {
    "accompagnement", "aide-financiere", "aide-materielle", "atelier",
    "financement",    "formation",       "information",     NULL};

static const char *const THEME_CATEGORIES[] = {
    "acces-aux-droits-et-citoyennete",
    "accompagnement-social-et-professionnel-personnalise",
    "apprendre-francais",
    "choisir-un-metier",
    "creation-activite",
    "equipement-et-alimentation",
    "famille",
    "gestion-financiere",
    "handicap",
    "illettrisme",
    "logement-hebergement",
    "mobilite",
    "numerique",
    "preparer-sa-candidature",
    "remobilisation",
    "sante",
    "se-former",
    "souvrir-a-linternational",
    "trouver-un-emploi",
    NULL};

/* The thematiques our export may emit and our import keeps (a subset of the schema's enum). */
static const char *const THEMES_KNOWN[] = {
    "famille",
    "famille--garde-denfants",
    "famille--soutien-a-la-parentalite",
    "famille--information-et-accompagnement-des-parents",
    "famille--soutien-aux-familles",
    "famille--accompagnement-femme-enceinte-bebe-jeune-enfant",
    "acces-aux-droits-et-citoyennete",
    "acces-aux-droits-et-citoyennete--accompagnement-dans-les-demarches-administratives",
    "acces-aux-droits-et-citoyennete--connaitre-ses-droits",
    "numerique",
    "numerique--realiser-des-demarches-administratives-avec-un-accompagnement",
    "numerique--devenir-autonome-dans-les-demarches-administratives",
    "remobilisation--lien-social",
    "logement-hebergement",
    "mobilite",
    NULL};

static const char *const PUBLICS[] = {"actifs",
                                      "beneficiaires-des-minimas-sociaux",
                                      "demandeurs-emploi",
                                      "etudiants",
                                      "familles",
                                      "femmes",
                                      "jeunes",
                                      "personnes-en-situation-de-handicap",
                                      "personnes-en-situation-durgence",
                                      "personnes-en-situation-juridique-specifique",
                                      "personnes-exilees",
                                      "residents-qpv-frr",
                                      "seniors",
                                      NULL};
static const char *const FRAIS[] = {"gratuit", "payant", NULL};
static const char *const MODES_ACCUEIL[] = {"a-distance", "en-presentiel", NULL};
static const char *const MODES_MOBILISATION[] = {"envoyer-un-courriel", "se-presenter",
                                                 "telephoner", "utiliser-lien-mobilisation", NULL};
static const char *const MOBILISABLE_PAR[] = {"usagers", "professionnels", NULL};

static int in_list(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* --- format checks ------------------------------------------------------------------------------
 */

/* Characters (code points) of a UTF-8 string: bytes that do not continue a sequence. */
static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* ^\w{n}$ (JSON Schema patterns are ECMAScript: \w is [A-Za-z0-9_]). */
static int all_word(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* YYYY-MM-DD, a real day of the Gregorian calendar. */
static int date_valid(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* An e-mail address checked reasonably (RFC 5322 addr-spec, dot-atom form): local part of
 * atext characters and single dots, "@", a domain of at least two labels of letters, digits
 * and inner hyphens. */
static int email_valid(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254 || at - s > 64)
		return 0;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (p == s || p + 1 == at || p[1] == '.')
				return 0;
		} else if (c < 0x20 ||
		           (c < 0x80 && !isalnum(c) && !strchr("!#$%&'*+/=?^_`{|}~-", c))) {
			return 0;
		}
	}
	const char *d = at + 1;
	int labels = 0;
	while (*d) {
		const char *e = d;
		while (*e && *e != '.')
			e++;
		size_t n = (size_t)(e - d);
		if (!n || n > 63 || d[0] == '-' || d[n - 1] == '-')
			return 0;
		for (const char *p = d; p < e; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && (unsigned char)*p < 0x80)
				return 0;
		labels++;
		d = *e ? e + 1 : e;
		if (*e && !*d)
			return 0;
	}
	return labels >= 2;
}

/* A URI (RFC 3986) checked reasonably: scheme ":" then at least one character, no spaces,
 * control characters, quotes or angle brackets; 1..2083 characters as the schema says. */
static int uri_valid(const char *s)
{
	size_t n = chars(s);
	if (n < 1 || n > 2083 || !isalpha((unsigned char)s[0]))
		return 0;
	const char *p = s + 1;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !p[1])
		return 0;
	for (p++; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("\"<>\\^`{|}", *p))
			return 0;
	return 1;
}

/* A thematique: ^[a-z0-9-]+(--[a-z0-9-]+)?$ whose category is one of the schema's. */
static int thematique_valid(const char *s)
{
	const char *sep = strstr(s, "--");
	size_t cat = sep ? (size_t)(sep - s) : strlen(s);
	if (!cat)
		return 0;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return 0;
	if (sep && (!sep[2] || strstr(sep + 2, "--")))
		return 0;
	for (int i = 0; THEME_CATEGORIES[i]; i++)
		if (strlen(THEME_CATEGORIES[i]) == cat && !strncmp(THEME_CATEGORIES[i], s, cat))
			return 1;
	return 0;
}

/* A code of zone_eligibilite: commune ^\w{5}$, EPCI ^\d{9}$, département ^\w{2,3}$, country
 * ^99[0-5]\d{2}$, or "france". */
static int zone_valid(const char *s)
{
	size_t n = strlen(s);
	if (!strcmp(s, "france"))
		return 1;
	if (n == 9)
		return all_digits(s, 9);
	if (n == 2 || n == 3 || n == 5)
		return all_word(s, n);
	return 0;
}

/* --- the validator ------------------------------------------------------------------------------
 */

struct vctx {
	json_t *obj;
	struct buf *errors;
	int n;
};

static void verr(struct vctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verr(struct vctx *c, const char *field, const char *fmt, ...)
{
	c->n++;
	if (!c->errors)
		return;
	buf_printf(c->errors, "champ « %s » : ", field);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(c->errors, fmt, ap);
	va_end(ap);
	buf_putc(c->errors, '\n');
}

/* The value of a field when it is present and not null; NULL otherwise. */
static json_t *field(struct vctx *c, const char *name)
{
	json_t *v = json_object_get(c->obj, name);
	return json_is_null(v) ? NULL : v;
}

/* A string field: required or optional (null allowed), with length bounds in characters
 * (max 0: none). Returns the string when present and a string, else NULL. */
static const char *vstring(struct vctx *c, const char *name, int required, size_t min, size_t max)
{
	json_t *v = json_object_get(c->obj, name);
	if (!v || json_is_null(v)) {
		if (required)
			verr(c, name, "obligatoire%s.", v ? " (null n'est pas accepté)" : "");
		return NULL;
	}
	if (!json_is_string(v)) {
		verr(c, name, "doit être une chaîne de caractères.");
		return NULL;
	}
	const char *s = json_string_value(v);
	size_t n = chars(s);
	if (n < min)
		verr(c, name, "%zu caractère%s, il en faut au moins %zu.", n, n > 1 ? "s" : "",
		     min);
	else if (max && n > max)
		verr(c, name, "%zu caractères, %zu au plus.", n, max);
	return s;
}

static void vnom(struct vctx *c)
{
	const char *s = vstring(c, "nom", 1, 3, 150);
	size_t n = s ? strlen(s) : 0;
	if (n && s[n - 1] == '.')
		verr(c, "nom", "ne doit pas se terminer par un point.");
}

static void vdate(struct vctx *c, const char *name, int required)
{
	const char *s = vstring(c, name, required, 0, 0);
	if (s && !date_valid(s))
		verr(c, name, "« %s » n'est pas une date valide au format AAAA-MM-JJ.", s);
}

static void vpattern(struct vctx *c, const char *name, int (*ok)(const char *, size_t), size_t n,
                     const char *what)
{
	const char *s = vstring(c, name, 0, 0, 0);
	if (s && !ok(s, n))
		verr(c, name, "« %s » : %s attendu.", s, what);
}

static void vemail(struct vctx *c, const char *name)
{
	const char *s = vstring(c, name, 0, 0, 0);
	if (s && !email_valid(s))
		verr(c, name, "« %s » n'est pas une adresse électronique valide.", s);
}

static void vuri(struct vctx *c, const char *name)
{
	const char *s = vstring(c, name, 0, 1, 2083);
	if (s && !uri_valid(s))
		verr(c, name, "« %s » n'est pas une adresse (URI) valide.", s);
}

static void vnumber(struct vctx *c, const char *name, int integer, double min, int has_min)
{
	json_t *v = field(c, name);
	if (!v)
		return;
	if (integer ? !json_is_integer(v) : !json_is_number(v)) {
		verr(c, name, "doit être un nombre%s.", integer ? " entier" : "");
		return;
	}
	if (has_min && json_number_value(v) < min)
		verr(c, name, "doit être supérieur ou égal à %g.", min);
}

static void venum(struct vctx *c, const char *name, const char *const *list)
{
	const char *s = vstring(c, name, 0, 0, 0);
	if (s && !in_list(list, s))
		verr(c, name, "« %s » n'est pas une valeur permise.", s);
}

/* An array of unique strings, each accepted by list (an enumeration) or by check. */
static void varray(struct vctx *c, const char *name, const char *const *list,
                   int (*check)(const char *), size_t min_items, int unique)
{
	json_t *v = field(c, name);
	if (!v)
		return;
	if (!json_is_array(v)) {
		verr(c, name, "doit être une liste.");
		return;
	}
	size_t n = json_array_size(v);
	if (n < min_items)
		verr(c, name, "il faut au moins %zu élément%s.", min_items,
		     min_items > 1 ? "s" : "");
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(v, i);
		if (!json_is_string(it)) {
			verr(c, name, "l'élément n° %zu doit être une chaîne de caractères.",
			     i + 1);
			continue;
		}
		const char *s = json_string_value(it);
		if (list ? !in_list(list, s) : !check(s))
			verr(c, name, "« %s » n'est pas une valeur permise.", s);
		for (size_t k = 0; unique && k < i; k++)
			if (json_equal(json_array_get(v, k), it)) {
				verr(c, name,
				     "« %s » figure deux fois (les éléments doivent être "
				     "uniques).",
				     s);
				break;
			}
	}
}

static int di_digits(const char *s, size_t n)
{
	return all_digits(s, n);
}
static int di_word(const char *s, size_t n)
{
	return all_word(s, n);
}

/* The fields structures and services share: address, coordinates, contact. */
static void vplace(struct vctx *c)
{
	vpattern(c, "code_insee", di_word, 5, "5 caractères (lettres, chiffres), code INSEE");
	vpattern(c, "code_postal", di_digits, 5, "5 chiffres");
	const char *texts[] = {"commune", "adresse", "complement_adresse", "telephone",
	                       "horaires_accueil"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		vstring(c, texts[i], 0, 0, 0);
	vemail(c, "courriel");
	vnumber(c, "latitude", 0, 0, 0);
	vnumber(c, "longitude", 0, 0, 0);
}

static int vobject(struct vctx *c)
{
	if (!json_is_object(c->obj)) {
		verr(c, "(objet)", "chaque élément doit être un objet JSON.");
		return 0;
	}
	vstring(c, "source", 1, 0, 0);
	vstring(c, "id", 1, 0, 0);
	vnom(c);
	vstring(c, "description", 1, 50, 2000);
	vdate(c, "date_maj", 1);
	return 1;
}

int di_validate_structure(json_t *obj, struct buf *errors)
{
	struct vctx c = {obj, errors, 0};
	if (!vobject(&c))
		return c.n;
	vpattern(&c, "siret", di_digits, 14, "14 chiffres");
	vplace(&c);
	vuri(&c, "site_web");
	vuri(&c, "accessibilite_lieu");
	varray(&c, "reseaux_porteurs", RESEAUX, NULL, 0, 1);
	return c.n;
}

int di_validate_service(json_t *obj, struct buf *errors)
{
	struct vctx c = {obj, errors, 0};
	if (!vobject(&c))
		return c.n;
	vstring(&c, "structure_id", 1, 0, 0);
	venum(&c, "type", TYPES);
	varray(&c, "thematiques", NULL, thematique_valid, 0, 1);
	varray(&c, "publics", PUBLICS, NULL, 1, 1);
	venum(&c, "frais", FRAIS);
	vstring(&c, "frais_precisions", 0, 0, 0);
	varray(&c, "modes_accueil", MODES_ACCUEIL, NULL, 0, 1);
	varray(&c, "modes_mobilisation", MODES_MOBILISATION, NULL, 1, 1);
	varray(&c, "mobilisable_par", MOBILISABLE_PAR, NULL, 1, 1);
	vuri(&c, "lien_mobilisation");
	vplace(&c);
	const char *texts[] = {"conditions_acces", "contact_nom_prenom", "publics_precisions",
	                       "mobilisation_precisions"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		vstring(&c, texts[i], 0, 0, 0);
	vnumber(&c, "nombre_semaines", 1, 1, 1);
	vnumber(&c, "volume_horaire_hebdomadaire", 0, 0, 1);
	varray(&c, "zone_eligibilite", NULL, zone_valid, 1, 0);
	return c.n;
}

enum di_kind di_kind_parse(const char *s)
{
	if (s && !strcmp(s, "structures"))
		return DI_STRUCTURES;
	if (s && !strcmp(s, "services"))
		return DI_SERVICES;
	return DI_NONE;
}

/* --- export -------------------------------------------------------------------------------------
 */

/* Our actor kinds → the reseaux_porteurs that follow from the kind alone. Centres sociaux and
 * EVS are not mapped to "fcsf": joining the federation is each centre's choice, the kind does
 * not tell it. CCAS map to "unccas" as the brief asks (most CCAS are members). */
static const struct {
	const char *kind, *reseau;
} KIND_RESEAU[] = {
    {"caf", "caf"},
    {"france_services", "france-service"},
    {"mission_locale", "mission-locale"},
    {"msa", "mutualite-sociale-agricole"},
    {"ccas", "unccas"},
    {"departement", "departements"},
    {"commune", "communes"},
};
#define NKIND_RESEAU (sizeof KIND_RESEAU / sizeof *KIND_RESEAU)

/* Service codes → type and thematiques (only values of THEMES_KNOWN). */
static const struct {
	const char *kind, *type, *themes[3], *publics;
} SERVICE_MAP[] = {
    {"EAJE", "accompagnement", {"famille--garde-denfants"}, "familles"},
    {"MAM", "accompagnement", {"famille--garde-denfants"}, "familles"},
    {"ALSH", "accompagnement", {"famille--garde-denfants"}, "familles"},
    {"RPE",
     "information",
     {"famille--garde-denfants", "famille--information-et-accompagnement-des-parents"},
     "familles"},
    {"LAEP", "accompagnement", {"famille--soutien-a-la-parentalite"}, "familles"},
    {"FRANCE_SERVICES",
     "accompagnement",
     {"acces-aux-droits-et-citoyennete--accompagnement-dans-les-demarches-administratives",
      "numerique--realiser-des-demarches-administratives-avec-un-accompagnement"},
     NULL},
    {"POINT_NUMERIQUE",
     "accompagnement",
     {"numerique--realiser-des-demarches-administratives-avec-un-accompagnement",
      "numerique--devenir-autonome-dans-les-demarches-administratives"},
     NULL},
    {"CENTRE_SOCIAL", NULL, {"remobilisation--lien-social", "famille"}, NULL},
    {"EVS", NULL, {"remobilisation--lien-social"}, NULL},
};
#define NSERVICE_MAP (sizeof SERVICE_MAP / sizeof *SERVICE_MAP)

static json_t *jtext(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* Copy of s cut to 150 characters (the last one "…") and without trailing dots; `what` (the
 * kind's label) is added to names shorter than 3 characters. */
static char *name_for_schema(const char *s, const char *what)
{
	struct buf b = {0};
	size_t n = chars(s), k = 0;
	const char *p = s;
	if (n > 150) {
		for (; *p && k < 149; k++) {
			p++;
			while (((unsigned char)*p & 0xC0) == 0x80)
				p++;
		}
		buf_append(&b, s, (size_t)(p - s));
		buf_puts(&b, "…");
	} else {
		buf_puts(&b, s);
	}
	while (b.len && (b.data[b.len - 1] == '.' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	/* Too short for the schema (3 characters at least): the kind, a fact, is added. */
	if (chars(buf_str(&b)) < 3) {
		char *t = xasprintf("%s%s(%s)", buf_str(&b), b.len ? " " : "", what);
		buf_free(&b);
		return t;
	}
	return buf_steal(&b);
}

/* Cut a description to 2000 characters. */
static void desc_cap(struct buf *b)
{
	if (chars(buf_str(b)) <= 2000)
		return;
	size_t k = 0;
	char *p = b->data;
	for (; *p && k < 1999; k++) {
		p++;
		while (((unsigned char)*p & 0xC0) == 0x80)
			p++;
	}
	b->len = (size_t)(p - b->data);
	b->data[b->len] = '\0';
	buf_puts(b, "…");
}

static void commune_phrase(struct buf *b, const char *name, const char *code)
{
	if (code && name)
		buf_printf(b, " à %s (code INSEE %s)", name, code);
	else if (code)
		buf_printf(b, " (commune de code INSEE %s)", code);
}

static int export_structures(struct db *db, json_t *arr, char **err)
{
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT a.id, a.name, a.kind, a.siret, a.address, a.commune, c.name, a.latitude, "
	    "a.longitude, a.website, a.email, a.phone, a.description, a.updated_at, c.postal_codes "
	    "FROM actors a LEFT JOIN communes c ON c.code = a.commune ORDER BY a.id",
	    "");
	if (!st) {
		*err = xstrdup("Lecture des structures impossible.");
		return -1;
	}
	int rc = 0;
	while (rc == 0 && db_step(st) == DB_ROW) {
		int64_t id = db_col_int64(st, 0);
		const char *kind = db_col_text(st, 2), *siret = db_col_text(st, 3);
		const char *code = db_col_text(st, 5), *cname = db_col_text(st, 6);
		const char *web = db_col_text(st, 9), *email = db_col_text(st, 10);
		const char *desc = db_col_text(st, 12), *upd = db_col_text(st, 13);
		const char *postal = db_col_text(st, 14);
		json_t *o = json_object();
		char *ids = xasprintf("maillage-actor-%lld", (long long)id);
		json_object_set_new(o, "source", json_string("maillage"));
		json_object_set_new(o, "id", json_string(ids));
		free(ids);
		char *nom = name_for_schema(db_col_text(st, 1), actor_kind_label(kind));
		json_object_set_new(o, "nom", json_string(nom));
		free(nom);
		/* A description of 50 characters at least: ours, or a factual sentence from the
		 * kind and the commune followed by ours. */
		struct buf d = {0};
		if (desc && chars(desc) >= 50) {
			buf_puts(&d, desc);
		} else {
			buf_printf(&d, "Structure de type « %s » de l'annuaire maillage",
			           actor_kind_label(kind));
			commune_phrase(&d, cname, code);
			buf_puts(&d, ".");
			if (desc && *desc)
				buf_printf(&d, " %s", desc);
		}
		desc_cap(&d);
		json_object_set_new(o, "description", json_string(buf_str(&d)));
		buf_free(&d);
		char day[11];
		snprintf(day, sizeof day, "%.10s", upd ? upd : "");
		json_object_set_new(o, "date_maj", json_string(day));
		json_object_set_new(
		    o, "siret", siret && all_digits(siret, 14) ? json_string(siret) : json_null());
		json_object_set_new(o, "code_insee", jtext(code));
		/* The postal code only when the commune has exactly one. */
		json_object_set_new(o, "code_postal",
		                    postal && all_digits(postal, 5) ? json_string(postal)
		                                                    : json_null());
		json_object_set_new(o, "commune", jtext(cname));
		json_object_set_new(o, "adresse", jtext(db_col_text(st, 4)));
		json_object_set_new(o, "complement_adresse", json_null());
		json_object_set_new(o, "latitude",
		                    db_col_is_null(st, 7) ? json_null()
		                                          : json_real(db_col_double(st, 7)));
		json_object_set_new(o, "longitude",
		                    db_col_is_null(st, 8) ? json_null()
		                                          : json_real(db_col_double(st, 8)));
		json_object_set_new(o, "telephone", jtext(db_col_text(st, 11)));
		/* actors.email is the structure's own address (0004_territory.sql), never a
		 * contact's; contacts are not exported. */
		json_object_set_new(o, "courriel",
		                    email && email_valid(email) ? json_string(email) : json_null());
		json_object_set_new(o, "site_web",
		                    web && uri_valid(web) ? json_string(web) : json_null());
		/* Our opening hours are free text, not the OSM opening_hours syntax the schema
		 * expects: left out. */
		json_object_set_new(o, "horaires_accueil", json_null());
		json_object_set_new(o, "accessibilite_lieu", json_null());
		json_t *res = json_null();
		for (size_t i = 0; kind && i < NKIND_RESEAU; i++)
			if (!strcmp(KIND_RESEAU[i].kind, kind))
				res = json_pack("[s]", KIND_RESEAU[i].reseau);
		json_object_set_new(o, "reseaux_porteurs", res);
		struct buf e = {0};
		if (di_validate_structure(o, &e)) {
			*err = xasprintf("La structure n° %lld ne respecte pas le schéma "
			                 "data·inclusion : %s",
			                 (long long)id, buf_str(&e));
			rc = -1;
		}
		buf_free(&e);
		json_array_append_new(arr, o);
	}
	db_finalize(st);
	return rc;
}

static const char *capacity_unit(const char *kind)
{
	static const char *const places[] = {"EAJE", "MAM", "ALSH", "LAEP", NULL};
	return in_list(places, kind) ? "places" : NULL;
}

static int export_services(struct db *db, json_t *arr, long *skipped, char **err)
{
	int64_t none = 0;
	if (db_int64f(db, &none, "SELECT COUNT(*) FROM services WHERE actor_id IS NULL", "") !=
	    DB_OK) {
		*err = xstrdup("Lecture des services impossible.");
		return -1;
	}
	if (skipped)
		*skipped = (long)none;
	struct db_stmt *st = db_queryf(
	    db,
	    "SELECT s.id, s.actor_id, s.kind, s.name, s.commune, c.name, s.latitude, s.longitude, "
	    "s.capacity, s.opening_days, s.hours, s.atypical_hours, s.age_min, s.age_max, "
	    "s.publics, s.updated_at, c.postal_codes FROM services s "
	    "LEFT JOIN communes c ON c.code = s.commune WHERE s.actor_id IS NOT NULL ORDER BY s.id",
	    "");
	if (!st) {
		*err = xstrdup("Lecture des services impossible.");
		return -1;
	}
	int rc = 0;
	while (rc == 0 && db_step(st) == DB_ROW) {
		int64_t id = db_col_int64(st, 0), actor = db_col_int64(st, 1);
		const char *kind = db_col_text(st, 2), *code = db_col_text(st, 4);
		const char *cname = db_col_text(st, 5), *hours = db_col_text(st, 10);
		const char *publics = db_col_text(st, 14), *upd = db_col_text(st, 15);
		const char *postal = db_col_text(st, 16);
		json_t *o = json_object();
		char *ids = xasprintf("maillage-service-%lld", (long long)id);
		char *sid = xasprintf("maillage-actor-%lld", (long long)actor);
		json_object_set_new(o, "source", json_string("maillage"));
		json_object_set_new(o, "structure_id", json_string(sid));
		json_object_set_new(o, "id", json_string(ids));
		free(ids);
		free(sid);
		char *nom = name_for_schema(db_col_text(st, 3), offer_kind_label(kind));
		json_object_set_new(o, "nom", json_string(nom));
		free(nom);
		/* services has no description column: a factual one from what we know. */
		struct buf d = {0};
		buf_printf(&d, "%s", offer_kind_label(kind));
		commune_phrase(&d, cname, code);
		buf_puts(&d, ".");
		double cap = db_col_double(st, 8);
		const char *unit = capacity_unit(kind);
		if (cap > 0 && unit)
			buf_printf(&d, " Capacité : %g %s.", cap, unit);
		if (!db_col_is_null(st, 9) && db_col_int64(st, 9) > 0)
			buf_printf(&d, " Ouverture : %lld jours par an.",
			           (long long)db_col_int64(st, 9));
		if (hours && *hours)
			buf_printf(&d, " Horaires : %s%s.", hours,
			           db_col_int64(st, 11) ? " (horaires atypiques)" : "");
		if (!db_col_is_null(st, 12) && !db_col_is_null(st, 13))
			buf_printf(&d, " Âges accueillis : de %lld à %lld ans.",
			           (long long)db_col_int64(st, 12),
			           (long long)db_col_int64(st, 13));
		if (publics && *publics)
			buf_printf(&d, " Publics : %s.", publics);
		if (chars(buf_str(&d)) < 50)
			buf_puts(&d, " Service recensé dans l'offre du territoire (maillage).");
		desc_cap(&d);
		json_object_set_new(o, "description", json_string(buf_str(&d)));
		buf_free(&d);
		char day[11];
		snprintf(day, sizeof day, "%.10s", upd ? upd : "");
		json_object_set_new(o, "date_maj", json_string(day));
		json_t *type = json_null(), *themes = json_null(), *pub = json_null();
		for (size_t i = 0; kind && i < NSERVICE_MAP; i++) {
			if (strcmp(SERVICE_MAP[i].kind, kind) != 0)
				continue;
			type = jtext(SERVICE_MAP[i].type);
			json_decref(themes);
			themes = json_array();
			for (int k = 0; k < 3 && SERVICE_MAP[i].themes[k]; k++)
				json_array_append_new(themes,
				                      json_string(SERVICE_MAP[i].themes[k]));
			if (SERVICE_MAP[i].publics)
				pub = json_pack("[s]", SERVICE_MAP[i].publics);
		}
		json_object_set_new(o, "type", type);
		json_object_set_new(o, "thematiques", themes);
		json_object_set_new(o, "publics", pub);
		json_object_set_new(o, "code_insee", jtext(code));
		json_object_set_new(o, "code_postal",
		                    postal && all_digits(postal, 5) ? json_string(postal)
		                                                    : json_null());
		json_object_set_new(o, "commune", jtext(cname));
		json_object_set_new(o, "latitude",
		                    db_col_is_null(st, 6) ? json_null()
		                                          : json_real(db_col_double(st, 6)));
		json_object_set_new(o, "longitude",
		                    db_col_is_null(st, 7) ? json_null()
		                                          : json_real(db_col_double(st, 7)));
		/* Never contact_nom_prenom, courriel or telephone of a person. */
		struct buf e = {0};
		if (di_validate_service(o, &e)) {
			*err = xasprintf("Le service n° %lld ne respecte pas le schéma "
			                 "data·inclusion : %s",
			                 (long long)id, buf_str(&e));
			rc = -1;
		}
		buf_free(&e);
		json_array_append_new(arr, o);
	}
	db_finalize(st);
	return rc;
}

int di_export(struct db *db, enum di_kind kind, json_t **out, long *skipped, char **err)
{
	*out = NULL;
	*err = NULL;
	if (skipped)
		*skipped = 0;
	json_t *arr = json_array();
	int rc = kind == DI_STRUCTURES ? export_structures(db, arr, err)
	         : kind == DI_SERVICES ? export_services(db, arr, skipped, err)
	                               : -1;
	if (rc) {
		if (!*err)
			*err = xstrdup("Export inconnu : structures ou services.");
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

/* --- import -------------------------------------------------------------------------------------
 */

void di_import_result_free(struct di_import_result *res)
{
	buf_free(&res->errors);
	buf_free(&res->warnings);
}

static void ierr(struct di_import_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ierr(struct di_import_result *res, const char *fmt, ...)
{
	res->nerrors++;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&res->errors, fmt, ap);
	va_end(ap);
	buf_putc(&res->errors, '\n');
}

/* Prefix every line of the validator's messages with the object number. */
static void ierr_lines(struct di_import_result *res, size_t index, const char *lines)
{
	for (const char *p = lines; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		ierr(res, "objet n° %zu, %.*s", index, (int)n, p);
		p += n + (e ? 1 : 0);
	}
}

static const char *jget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *num_text(json_t *v)
{
	return json_is_number(v) ? xasprintf("%.9g", json_number_value(v)) : NULL;
}

static int import_structure(struct db *db, json_t *o, size_t index, int64_t user_id,
                            const char *origin, struct di_import_result *res)
{
	const char *ext = jget(o, "id");
	int64_t id = 0;
	int rc = db_int64f(db, &id, "SELECT id FROM actors WHERE external_id = ?", "s", ext);
	if (rc != DB_OK && rc != DB_DONE)
		return rc;
	if (rc == DB_DONE)
		id = 0;
	char *kind = NULL;
	const char *mapped = NULL;
	json_t *res_arr = json_object_get(o, "reseaux_porteurs");
	for (size_t i = 0; i < json_array_size(res_arr) && !mapped; i++)
		for (size_t k = 0; k < NKIND_RESEAU; k++)
			if (!strcmp(KIND_RESEAU[k].reseau,
			            json_string_value(json_array_get(res_arr, i))))
				mapped = KIND_RESEAU[k].kind;
	if (!mapped && id) {
		struct db_stmt *st = db_queryf(db, "SELECT kind FROM actors WHERE id = ?", "I", id);
		if (st && db_step(st) == DB_ROW)
			kind = xstrdup(db_col_text(st, 0));
		db_finalize(st);
	}
	if (!kind)
		kind = xstrdup(mapped ? mapped : "autre");

	struct actor_input in = {0};
	in.v[AI_NAME] = xstrdup(jget(o, "nom"));
	in.v[AI_KIND] = kind;
	const char *s;
	if ((s = jget(o, "siret")))
		in.v[AI_SIRET] = xstrdup(s);
	if ((s = jget(o, "adresse")))
		in.v[AI_ADDRESS] = xstrdup(s);
	if ((s = jget(o, "code_insee"))) {
		int64_t one = 0;
		if (db_int64f(db, &one, "SELECT 1 FROM communes WHERE code = ?", "s", s) == DB_OK)
			in.v[AI_COMMUNE] = xstrdup(s);
		else
			buf_printf(
			    &res->warnings,
			    "objet n° %zu : la commune de code INSEE « %s » n'est pas dans la "
			    "base ; structure enregistrée sans commune.\n",
			    index, s);
	}
	in.v[AI_LAT] = num_text(json_object_get(o, "latitude"));
	in.v[AI_LON] = num_text(json_object_get(o, "longitude"));
	if ((s = jget(o, "site_web")))
		in.v[AI_WEB] = xstrdup(s);
	if ((s = jget(o, "courriel")))
		in.v[AI_EMAIL] = xstrdup(s);
	if ((s = jget(o, "telephone")))
		in.v[AI_PHONE] = xstrdup(s);
	if ((s = jget(o, "horaires_accueil")))
		in.v[AI_HOURS] = xstrdup(s);
	in.v[AI_DESC] = xstrdup(jget(o, "description"));

	/* The schema is looser than our directory on optional fields (SIRET key, web address
	 * scheme, phone characters, lengths): such a value is left out with a warning. The name
	 * and the kind must pass. */
	struct actor_valid v;
	char *msg = NULL;
	int bad = AI_NAME;
	for (int tries = 0; tries <= AI_N; tries++) {
		int f = -1;
		msg = actor_validate(db, id, &in, &v, &f);
		bad = f;
		if (!msg)
			break;
		if (f < 0 || f == AI_NAME || f == AI_KIND || f == AI_DESC || !in.v[f])
			break;
		buf_printf(&res->warnings, "objet n° %zu : valeur laissée de côté : %s\n", index,
		           msg);
		free(msg);
		msg = NULL;
		actor_valid_free(&v);
		if (f == AI_LAT || f == AI_LON) {
			free(in.v[AI_LAT]);
			free(in.v[AI_LON]);
			in.v[AI_LAT] = in.v[AI_LON] = NULL;
		} else {
			free(in.v[f]);
			in.v[f] = NULL;
		}
	}
	rc = DB_OK;
	if (msg) {
		ierr(res, "objet n° %zu, champ « %s » : %s", index,
		     bad == AI_DESC ? "description" : "nom", msg);
		free(msg);
	} else {
		int created = id == 0;
		rc = actor_write(db, user_id, origin, DI_SOURCE, &id, &in, &v);
		if (rc == DB_OK)
			rc = db_execf(db,
			              "UPDATE actors SET external_id = ?, source = ? WHERE id = ?",
			              "ssI", ext, DI_SOURCE, id);
		if (rc == DB_OK) {
			json_t *after =
			    json_pack("{s:s, s:s}", "external_id", ext, "source", DI_SOURCE);
			rc =
			    audit_write_id(db, user_id, origin, "update", "actor", id, NULL, after);
			json_decref(after);
		}
		if (rc == DB_OK) {
			if (created)
				res->created++;
			else
				res->updated++;
		}
	}
	actor_valid_free(&v);
	actor_input_free(&in);
	return rc;
}

/* The service kind an imported service gets: from its thematiques when they tell it. */
static const char *service_kind_from(json_t *o)
{
	json_t *t = json_object_get(o, "thematiques");
	for (size_t i = 0; i < json_array_size(t); i++) {
		const char *s = json_string_value(json_array_get(t, i));
		if (!s)
			continue;
		if (!strcmp(s, "famille--soutien-a-la-parentalite"))
			return "LAEP";
		if (!strcmp(s, "acces-aux-droits-et-citoyennete--accompagnement-dans-les-"
		               "demarches-administratives"))
			return "FRANCE_SERVICES";
	}
	return "AUTRE";
}

static int import_service(struct db *db, json_t *o, size_t index, int64_t user_id,
                          const char *origin, struct di_import_result *res)
{
	const char *ext = jget(o, "id");
	int64_t actor = 0;
	int rc = db_int64f(db, &actor, "SELECT id FROM actors WHERE external_id = ?", "s",
	                   jget(o, "structure_id"));
	if (rc == DB_DONE) {
		ierr(res,
		     "objet n° %zu, champ « structure_id » : aucune structure d'identifiant « %s » "
		     "(importez d'abord les structures).",
		     index, jget(o, "structure_id"));
		return DB_OK;
	}
	if (rc != DB_OK)
		return rc;
	/* The commune: the service's code when known, else the structure's. */
	char *commune = NULL;
	const char *code = jget(o, "code_insee");
	int64_t one = 0;
	if (code &&
	    db_int64f(db, &one, "SELECT 1 FROM communes WHERE code = ?", "s", code) == DB_OK)
		commune = xstrdup(code);
	if (!commune) {
		struct db_stmt *st =
		    db_queryf(db, "SELECT commune FROM actors WHERE id = ? AND commune IS NOT NULL",
		              "I", actor);
		if (st && db_step(st) == DB_ROW)
			commune = xstrdup(db_col_text(st, 0));
		db_finalize(st);
		if (commune && code)
			buf_printf(
			    &res->warnings,
			    "objet n° %zu : la commune « %s » n'est pas dans la base ; celle de "
			    "la structure est retenue.\n",
			    index, code);
	}
	if (!commune) {
		ierr(res,
		     "objet n° %zu, champ « code_insee » : le service doit être situé dans une "
		     "commune de la base (ni le service ni sa structure n'en ont).",
		     index);
		return DB_OK;
	}
	/* Thematiques outside the ones we know are kept out, with a warning. */
	json_t *t = json_object_get(o, "thematiques");
	for (size_t i = 0; i < json_array_size(t); i++) {
		const char *s = json_string_value(json_array_get(t, i));
		if (s && !in_list(THEMES_KNOWN, s))
			buf_printf(&res->warnings,
			           "objet n° %zu : thématique « %s » non reprise par maillage.\n",
			           index, s);
	}
	struct buf pub = {0};
	json_t *p = json_object_get(o, "publics");
	for (size_t i = 0; i < json_array_size(p); i++)
		buf_printf(&pub, "%s%s", i ? ", " : "", json_string_value(json_array_get(p, i)));
	const char *hours = jget(o, "horaires_accueil");
	char *src = xasprintf(DI_SOURCE ":%s", ext);
	char now[32];
	time_iso_now(now);
	int64_t sid = 0;
	rc = db_int64f(db, &sid, "SELECT id FROM services WHERE source = ?", "s", src);
	if (rc != DB_OK && rc != DB_DONE)
		goto out;
	json_t *lat = json_object_get(o, "latitude"), *lon = json_object_get(o, "longitude");
	int point = json_is_number(lat) && json_is_number(lon);
	struct db_stmt *st;
	if (rc == DB_OK)
		st = db_queryf(
		    db,
		    "UPDATE services SET actor_id = ?, name = ?, commune = ?, latitude = ?, "
		    "longitude = ?, hours = ?, publics = ?, updated_at = ? WHERE id = ? "
		    "RETURNING id",
		    "Iss", actor, jget(o, "nom"), commune);
	else
		st =
		    db_queryf(db,
		              "INSERT INTO services (actor_id, name, commune, latitude, longitude, "
		              "hours, publics, updated_at, kind, source, created_at) VALUES (?, ?, "
		              "?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		              "Iss", actor, jget(o, "nom"), commune);
	int update = rc == DB_OK;
	if (!st) {
		rc = DB_ERROR;
		goto out;
	}
	if (point) {
		db_bind_double(st, 4, json_number_value(lat));
		db_bind_double(st, 5, json_number_value(lon));
	} else {
		db_bind_null(st, 4);
		db_bind_null(st, 5);
	}
	db_bind_text(st, 6, hours ? hours : "");
	db_bind_text(st, 7, buf_str(&pub));
	db_bind_text(st, 8, now);
	if (update) {
		db_bind_int64(st, 9, sid);
	} else {
		db_bind_text(st, 9, service_kind_from(o));
		db_bind_text(st, 10, src);
		db_bind_text(st, 11, now);
	}
	rc = db_step(st) == DB_ROW ? DB_OK : DB_ERROR;
	if (rc == DB_OK)
		sid = db_col_int64(st, 0);
	db_finalize(st);
	if (rc == DB_OK) {
		json_t *after = json_pack("{s:s, s:s, s:s, s:I}", "name", jget(o, "nom"), "commune",
		                          commune, "source", src, "actor_id", (json_int_t)actor);
		rc = audit_write_id(db, user_id, origin, update ? "update" : "create", "service",
		                    sid, NULL, after);
		json_decref(after);
	}
	if (rc == DB_OK) {
		if (update)
			res->updated++;
		else
			res->created++;
	}
out:
	free(src);
	free(commune);
	buf_free(&pub);
	return rc;
}

int di_import(struct db *db, enum di_kind kind, const char *data, size_t len, int dry_run,
              int64_t user_id, const char *origin, struct di_import_result *res)
{
	memset(res, 0, sizeof *res);
	if (kind == DI_NONE) {
		ierr(res, "Indiquez le genre d'objets : structures ou services.");
		return DB_OK;
	}
	if (len > DI_MAX_BYTES) {
		ierr(res, "Le fichier dépasse %u Mo.", DI_MAX_BYTES >> 20);
		return DB_OK;
	}
	json_error_t je;
	json_t *arr = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!arr) {
		ierr(res, "JSON invalide, ligne %d, colonne %d : %s", je.line, je.column, je.text);
		return DB_OK;
	}
	if (!json_is_array(arr)) {
		ierr(res, "Le fichier doit contenir une liste JSON ([…]) de %s.",
		     kind == DI_STRUCTURES ? "structures" : "services");
		json_decref(arr);
		return DB_OK;
	}
	if (!json_array_size(arr))
		ierr(res, "La liste est vide.");
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o)
	{
		struct buf e = {0};
		if (kind == DI_STRUCTURES ? di_validate_structure(o, &e)
		                          : di_validate_service(o, &e))
			ierr_lines(res, i + 1, buf_str(&e));
		buf_free(&e);
		/* The same id twice in one file. */
		const char *id = jget(o, "id");
		for (size_t k = 0; id && k < i; k++)
			if (jget(json_array_get(arr, k), "id") &&
			    !strcmp(jget(json_array_get(arr, k), "id"), id)) {
				ierr(
				    res,
				    "objet n° %zu, champ « id » : « %s » est déjà l'identifiant de "
				    "l'objet n° %zu.",
				    i + 1, id, k + 1);
				break;
			}
	}
	if (res->nerrors) {
		json_decref(arr);
		return DB_OK;
	}
	int rc = db_begin(db);
	json_array_foreach(arr, i, o)
	{
		if (rc != DB_OK)
			break;
		rc = kind == DI_STRUCTURES ? import_structure(db, o, i + 1, user_id, origin, res)
		                           : import_service(db, o, i + 1, user_id, origin, res);
	}
	json_decref(arr);
	if (rc != DB_OK || res->nerrors || dry_run) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

/* --- web and API --------------------------------------------------------------------------------
 */

static void send_export(struct req *r, enum di_kind kind)
{
	json_t *arr;
	char *err;
	if (di_export(r->db, kind, &arr, NULL, &err)) {
		resp_error(r, 500, err);
		free(err);
		return;
	}
	resp_json(r, 200, arr);
}

static void web_export_structures(struct req *r)
{
	send_export(r, DI_STRUCTURES);
}

static void web_export_services(struct req *r)
{
	send_export(r, DI_SERVICES);
}

static void import_form(struct req *r, const struct di_import_result *res, const char *kind,
                        const char *notice)
{
	struct buf *o = &r->out;
	page_begin(r, "Importer depuis data·inclusion",
	           (const struct crumb[]){{"Acteurs", "/acteurs"}, {NULL, NULL}});
	buf_puts(o, "<h1>Importer depuis data·inclusion</h1>\n");
	if (notice)
		page_notice(r, "success", notice);
	if (res && res->nerrors) {
		html_printf(o,
		            "<div class=\"notice error\" role=\"alert\"><p>Le fichier est refusé "
		            "(%ld erreur%R) : rien n'a été enregistré.</p>\n<ul>\n",
		            res->nerrors, res->nerrors > 1 ? "s" : "");
		for (const char *p = buf_str(&res->errors); *p;) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *line = xstrndup(p, n);
			html_printf(o, "<li>%s</li>\n", line);
			free(line);
			p += n + (e ? 1 : 0);
		}
		buf_puts(o, "</ul></div>\n");
	}
	if (res && res->warnings.len) {
		buf_puts(o, "<div class=\"notice\"><p>Avertissements :</p>\n<ul>\n");
		for (const char *p = buf_str(&res->warnings); *p;) {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *line = xstrndup(p, n);
			html_printf(o, "<li>%s</li>\n", line);
			free(line);
			p += n + (e ? 1 : 0);
		}
		buf_puts(o, "</ul></div>\n");
	}
	buf_puts(
	    o, "<p>Un fichier JSON au schéma national <a "
	       "href=\"https://www.data.inclusion.beta.gouv.fr/\">data·inclusion</a> : une liste "
	       "de structures, ou une liste de services dont la structure (<code>structure_id"
	       "</code>) a déjà été importée. Chaque objet est vérifié ; tout est enregistré, "
	       "ou rien. Les structures déjà importées (même identifiant) sont mises à jour.</p>\n"
	       "<form method=\"post\" action=\"/acteurs/importer-datainclusion\" class=\"form\" "
	       "enctype=\"multipart/form-data\">\n");
	page_csrf(r);
	int services = kind && !strcmp(kind, "services");
	html_printf(
	    o,
	    "<div class=\"field\"><label for=\"i-fichier\">Fichier JSON</label>"
	    "<input id=\"i-fichier\" name=\"fichier\" type=\"file\" "
	    "accept=\".json,application/json\" required></div>\n"
	    "<fieldset class=\"field\"><legend>Contenu du fichier</legend>\n"
	    "<input type=\"radio\" id=\"i-structures\" name=\"genre\" value=\"structures\"%R>"
	    " <label for=\"i-structures\">Structures</label>\n"
	    "<input type=\"radio\" id=\"i-services\" name=\"genre\" value=\"services\"%R>"
	    " <label for=\"i-services\">Services</label></fieldset>\n"
	    "<div class=\"field\"><input type=\"checkbox\" id=\"i-essai\" name=\"essai\" "
	    "value=\"1\"> <label for=\"i-essai\">Vérifier seulement (rien n'est "
	    "enregistré)</label></div>\n"
	    "<div class=\"actions\"><button type=\"submit\" class=\"button\">Importer"
	    "</button> <a href=\"/acteurs\">Annuler</a></div>\n</form>\n"
	    "<p>Exports au même schéma : <a href=\"/acteurs/export/"
	    "datainclusion-structures.json\">structures</a>, <a href=\"/services/export/"
	    "datainclusion-services.json\">services</a>.</p>\n",
	    services ? "" : " checked", services ? " checked" : "");
	page_end(r);
}

/* GET/POST /acteurs/importer-datainclusion: admin or coordinator. */
static void web_import(struct req *r)
{
	if (!actor_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs peuvent importer "
		           "des structures.");
		return;
	}
	if (r->method == M_GET) {
		const char *c = req_query(r, "crees"), *u = req_query(r, "maj");
		char *msg = NULL;
		int64_t nc, nu;
		if (c && u && !parse_int64(c, &nc) && !parse_int64(u, &nu) && nc >= 0 && nu >= 0)
			msg = xasprintf("Import réussi : %lld créé%s, %lld mis à jour.",
			                (long long)nc, nc > 1 ? "s" : "", (long long)nu);
		import_form(r, NULL, NULL, msg);
		free(msg);
		return;
	}
	const char *genre = req_form(r, "genre");
	enum di_kind kind = di_kind_parse(genre ? genre : "structures");
	const struct upload *u = req_file(r, "fichier");
	int dry = !str_blank(req_form(r, "essai"));
	struct di_import_result res = {0};
	if (!u || !u->data.len) {
		res.nerrors = 1;
		buf_puts(&res.errors, "Choisissez un fichier JSON.\n");
	} else if (kind == DI_NONE) {
		res.nerrors = 1;
		buf_puts(&res.errors, "Choisissez structures ou services.\n");
	} else if (di_import(r->db, kind, u->data.data, u->data.len, dry, r->user->id, "web",
	                     &res) != DB_OK) {
		di_import_result_free(&res);
		resp_error(r, 500, "Import impossible.");
		return;
	}
	if (res.nerrors) {
		import_form(r, &res, genre, NULL);
		r->status = 422;
	} else if (dry || res.warnings.len) {
		char *msg =
		    xasprintf("%s %ld objet%s à créer, %ld à mettre à jour.%s",
		              dry ? "Vérification réussie :" : "Import réussi :", res.created,
		              res.created > 1 ? "s" : "", res.updated,
		              dry ? " Rien n'a été enregistré." : "");
		import_form(r, &res, genre, msg);
		free(msg);
	} else {
		char *loc = xasprintf("/acteurs/importer-datainclusion?crees=%ld&maj=%ld",
		                      res.created, res.updated);
		resp_redirect(r, loc);
		free(loc);
	}
	di_import_result_free(&res);
}

/* The lines of a buffer as a JSON array of strings. */
static json_t *json_lines(const struct buf *b)
{
	json_t *a = json_array();
	for (const char *p = buf_str(b); *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		json_array_append_new(a, json_stringn(p, n));
		p += n + (e ? 1 : 0);
	}
	return a;
}

/* POST /api/v1/datainclusion/structures|services: a JSON array in the body, all or nothing;
 * ?dry_run=1 checks only. Admin or coordinator. */
static void api_import(struct req *r, enum di_kind kind)
{
	if (!actor_can_edit(r)) {
		resp_error(r, 403,
		           "Seuls les administrateurs et les coordinateurs peuvent importer.");
		return;
	}
	const char *d = req_query(r, "dry_run");
	int dry = d && (!strcmp(d, "1") || !strcmp(d, "true"));
	struct di_import_result res = {0};
	if (!r->body.len) {
		res.nerrors = 1;
		buf_puts(&res.errors, "Le corps de la requête est vide : envoyez la liste JSON.\n");
	} else if (di_import(r->db, kind, r->body.data, r->body.len, dry, r->user->id, "api",
	                     &res) != DB_OK) {
		di_import_result_free(&res);
		resp_error(r, 500, "Import impossible.");
		return;
	}
	if (res.nerrors) {
		json_t *doc =
		    json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "invalid", "message",
		              "Le fichier est refusé : rien n'a été enregistré.", "errors",
		              json_lines(&res.errors));
		resp_json(r, 422, doc);
	} else {
		json_t *doc = json_pack("{s:I, s:I, s:b, s:o}", "created", (json_int_t)res.created,
		                        "updated", (json_int_t)res.updated, "dry_run", dry,
		                        "warnings", json_lines(&res.warnings));
		resp_json(r, dry ? 200 : 201, doc);
	}
	di_import_result_free(&res);
}

static void api_import_structures(struct req *r)
{
	api_import(r, DI_STRUCTURES);
}

static void api_import_services(struct req *r)
{
	api_import(r, DI_SERVICES);
}

const struct route datainclusion_routes[] = {
    {M_GET, "/acteurs/export/datainclusion-structures.json", ACC_PUBLIC, web_export_structures,
     "structures de l'annuaire au schéma data·inclusion (JSON)"},
    {M_GET, "/services/export/datainclusion-services.json", ACC_PUBLIC, web_export_services,
     "services au schéma data·inclusion (JSON)"},
    {M_GET, "/api/v1/datainclusion/structures", ACC_PUBLIC, web_export_structures,
     "structures au schéma data·inclusion"},
    {M_GET, "/api/v1/datainclusion/services", ACC_PUBLIC, web_export_services,
     "services au schéma data·inclusion"},
    {M_POST, "/api/v1/datainclusion/structures", ACC_LOGIN, api_import_structures,
     "importer des structures data·inclusion (JSON), tout ou rien"},
    {M_POST, "/api/v1/datainclusion/services", ACC_LOGIN, api_import_services,
     "importer des services data·inclusion (JSON), tout ou rien"},
    {M_GET | M_POST, "/acteurs/importer-datainclusion", ACC_LOGIN, web_import,
     "importer des structures ou des services data·inclusion (JSON)"},
    {0},
};
