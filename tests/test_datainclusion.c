/* test_datainclusion: the data·inclusion schema (v1) — the validator constraint by constraint,
 * the export of the demo, the round trip export → import into a fresh database, refused imports
 * (nothing stored), and the web routes with their permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "datainclusion.h"
#include "db.h"
#include "demo.h"
#include "harness.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct th T;

static int setup(void **state)
{
	(void)state;
	th_start(&T, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(&T);
	return 0;
}

/* --- validator ------------------------------------------------------------------------------- */

static json_t *valid_structure(void)
{
	json_t *o = json_loads(
	    "{\"source\": \"test\", \"id\": \"s-1\", \"nom\": \"Centre social Le Tournesol\","
	    " \"description\": \"L'association offre un accès gratuit aux arts, à la culture et "
	    "au sport pour toutes et tous.\", \"date_maj\": \"2024-02-29\", \"siret\": "
	    "\"73282932000074\", \"code_insee\": \"26108\", \"code_postal\": \"26400\", "
	    "\"courriel\": \"accueil@tournesol.fr\", \"site_web\": \"https://tournesol.fr/\", "
	    "\"latitude\": 44.72, \"longitude\": 5.02, \"reseaux_porteurs\": [\"fcsf\", \"caf\"]}",
	    0, NULL);
	assert_non_null(o);
	return o;
}

/* The problems found after setting key to the JSON value `value` (NULL: remove the key);
 * asserts that there is at least one and that the message names the field. */
static void expect_invalid(int service, const char *key, const char *value, const char *field)
{
	json_t *o = service ? NULL : valid_structure();
	if (service) {
		o = json_loads(
		    "{\"source\": \"test\", \"id\": \"v-1\", \"structure_id\": \"s-1\", "
		    "\"nom\": \"Accueil parents-enfants\", \"description\": \"Un lieu "
		    "d'accueil pour les enfants de moins de six ans et leurs parents.\", "
		    "\"date_maj\": \"2025-01-31\", \"type\": \"accompagnement\", "
		    "\"thematiques\": [\"famille--soutien-a-la-parentalite\"], \"publics\": "
		    "[\"familles\"], \"frais\": \"gratuit\", \"modes_accueil\": "
		    "[\"en-presentiel\"], \"nombre_semaines\": 40, "
		    "\"zone_eligibilite\": [\"26108\", \"26\", \"200040491\"]}",
		    0, NULL);
		assert_non_null(o);
		assert_int_equal(di_validate_service(o, NULL), 0);
	}
	if (value) {
		json_error_t je;
		json_t *v = json_loads(value, JSON_DECODE_ANY, &je);
		assert_non_null(v);
		json_object_set_new(o, key, v);
	} else {
		json_object_del(o, key);
	}
	struct buf e = {0};
	int n = service ? di_validate_service(o, &e) : di_validate_structure(o, &e);
	if (n < 1 || !strstr(buf_str(&e), field))
		fail_msg("%s=%s: %d problem(s): %s", key, value ? value : "(absent)", n,
		         buf_str(&e));
	buf_free(&e);
	json_decref(o);
}

static void test_validator_structure(void **state)
{
	(void)state;
	json_t *o = valid_structure();
	struct buf e = {0};
	assert_int_equal(di_validate_structure(o, &e), 0);
	assert_int_equal(e.len, 0);
	/* null is allowed for every optional field */
	const char *opts[] = {"siret",    "code_insee", "code_postal",     "courriel",
	                      "site_web", "latitude",   "reseaux_porteurs"};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		json_object_set_new(o, opts[i], json_null());
	assert_int_equal(di_validate_structure(o, &e), 0);
	/* ... and absent too */
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		json_object_del(o, opts[i]);
	assert_int_equal(di_validate_structure(o, &e), 0);
	/* 150 characters of two bytes each are 150 characters, not 300 */
	struct buf nom = {0};
	for (int i = 0; i < 150; i++)
		buf_puts(&nom, "é");
	json_object_set_new(o, "nom", json_string(nom.data));
	assert_int_equal(di_validate_structure(o, &e), 0);
	buf_puts(&nom, "é");
	json_object_set_new(o, "nom", json_string(nom.data));
	assert_int_equal(di_validate_structure(o, &e), 1);
	assert_non_null(strstr(buf_str(&e), "champ « nom »"));
	buf_free(&nom);
	buf_free(&e);
	json_decref(o);
	json_t *three = json_integer(3);
	assert_int_equal(di_validate_structure(three, NULL) > 0, 1);
	json_decref(three);

	expect_invalid(0, "source", NULL, "« source » : obligatoire");
	expect_invalid(0, "id", NULL, "« id »");
	expect_invalid(0, "nom", NULL, "« nom » : obligatoire");
	expect_invalid(0, "nom", "null", "« nom »");
	expect_invalid(0, "nom", "\"AB\"", "« nom »");
	expect_invalid(0, "nom", "\"Centre social.\"", "« nom » : ne doit pas se terminer");
	expect_invalid(0, "description", NULL, "« description »");
	expect_invalid(0, "description", "\"Trop courte : quarante-neuf caractères, pas plus.\"",
	               "« description » : 49 caractères");
	expect_invalid(0, "description", "12", "« description » : doit être une chaîne");
	expect_invalid(0, "date_maj", NULL, "« date_maj »");
	expect_invalid(0, "date_maj", "\"2023-02-29\"", "« date_maj »");
	expect_invalid(0, "date_maj", "\"2023-13-01\"", "« date_maj »");
	expect_invalid(0, "date_maj", "\"25/01/2024\"", "« date_maj »");
	expect_invalid(0, "siret", "\"7328293200007\"", "« siret »");
	expect_invalid(0, "siret", "\"7328293200007A\"", "« siret »");
	expect_invalid(0, "siret", "73282932000074", "« siret » : doit être une chaîne");
	expect_invalid(0, "code_insee", "\"2610\"", "« code_insee »");
	expect_invalid(0, "code_insee", "\"26-08\"", "« code_insee »");
	expect_invalid(0, "code_postal", "\"2A004\"", "« code_postal »");
	expect_invalid(0, "courriel", "\"accueil@\"", "« courriel »");
	expect_invalid(0, "courriel", "\"accueil tournesol@x.fr\"", "« courriel »");
	expect_invalid(0, "courriel", "\"accueil@localhost\"", "« courriel »");
	expect_invalid(0, "site_web", "\"tournesol.fr\"", "« site_web »");
	expect_invalid(0, "site_web", "\"https://tour nesol.fr\"", "« site_web »");
	expect_invalid(0, "site_web", "\"\"", "« site_web »");
	expect_invalid(0, "accessibilite_lieu", "\"<script>\"", "« accessibilite_lieu »");
	expect_invalid(0, "latitude", "\"44,7\"", "« latitude » : doit être un nombre");
	expect_invalid(0, "reseaux_porteurs", "[\"caf\", \"federation-inconnue\"]",
	               "« reseaux_porteurs » : « federation-inconnue »");
	expect_invalid(0, "reseaux_porteurs", "[\"caf\", \"caf\"]",
	               "« reseaux_porteurs » : « caf » figure deux fois");
	expect_invalid(0, "reseaux_porteurs", "\"caf\"",
	               "« reseaux_porteurs » : doit être une liste");
}

static void test_validator_service(void **state)
{
	(void)state;
	expect_invalid(1, "structure_id", NULL, "« structure_id » : obligatoire");
	expect_invalid(1, "type", "\"garde\"", "« type »");
	expect_invalid(1, "thematiques",
	               "[\"famille--garde-denfants\", \"famille--garde-denfants\"]",
	               "« thematiques » : « famille--garde-denfants » figure deux fois");
	expect_invalid(1, "thematiques", "[\"cuisine--patisserie\"]", "« thematiques »");
	expect_invalid(1, "thematiques", "[\"Famille\"]", "« thematiques »");
	expect_invalid(1, "publics", "[]", "« publics » : il faut au moins 1");
	expect_invalid(1, "publics", "[\"enfants\"]", "« publics »");
	expect_invalid(1, "frais", "\"offert\"", "« frais »");
	expect_invalid(1, "modes_accueil", "[\"par-pigeon\"]", "« modes_accueil »");
	expect_invalid(1, "modes_mobilisation", "[]", "« modes_mobilisation »");
	expect_invalid(1, "mobilisable_par", "[\"usagers\", \"usagers\"]", "« mobilisable_par »");
	expect_invalid(1, "lien_mobilisation", "\"pas une adresse\"", "« lien_mobilisation »");
	expect_invalid(1, "nombre_semaines", "0", "« nombre_semaines »");
	expect_invalid(1, "nombre_semaines", "2.5",
	               "« nombre_semaines » : doit être un nombre entier");
	expect_invalid(1, "volume_horaire_hebdomadaire", "-1", "« volume_horaire_hebdomadaire »");
	expect_invalid(1, "zone_eligibilite", "[]", "« zone_eligibilite »");
	expect_invalid(1, "zone_eligibilite", "[\"2610\"]", "« zone_eligibilite »");
	expect_invalid(1, "date_maj", "\"2025-02-30\"", "« date_maj »");
	expect_invalid(1, "courriel", "\"@exemple.fr\"", "« courriel »");
	expect_invalid(1, "nom", "\"Accueil.\"", "« nom »");
}

/* --- export --------------------------------------------------------------------------------------
 */

static void test_export_demo(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	json_t *arr;
	char *err = NULL;
	assert_int_equal(di_export(db, DI_STRUCTURES, &arr, NULL, &err), 0);
	int64_t nactors = 0;
	assert_int_equal(db_int64f(db, &nactors, "SELECT COUNT(*) FROM actors", ""), DB_OK);
	assert_int_equal(json_array_size(arr), nactors);
	assert_true(nactors > 10);
	size_t i;
	json_t *o;
	int caf = 0;
	json_array_foreach(arr, i, o)
	{
		struct buf e = {0};
		if (di_validate_structure(o, &e))
			fail_msg("object %zu: %s", i, buf_str(&e));
		buf_free(&e);
		assert_string_equal(json_string_value(json_object_get(o, "source")), "maillage");
		assert_int_equal(
		    strncmp(json_string_value(json_object_get(o, "id")), "maillage-actor-", 15), 0);
		if (!strcmp(json_string_value(json_object_get(o, "nom")), "Caf de la Drôme")) {
			caf++;
			assert_string_equal(json_string_value(json_object_get(o, "code_insee")),
			                    "26362");
			json_t *rp = json_object_get(o, "reseaux_porteurs");
			assert_string_equal(json_string_value(json_array_get(rp, 0)), "caf");
		}
	}
	assert_int_equal(caf, 1);
	json_decref(arr);

	/* Services: one attached to the Caf, with a short name; no personal data. */
	assert_int_equal(
	    db_execf(db,
	             "INSERT INTO services (actor_id, kind, name, commune, capacity, "
	             "opening_days, hours, publics, source, created_at, updated_at) "
	             "SELECT id, 'LAEP', 'LAEP de test.', '26108', 12, 45, 'mardi', "
	             "'Parents', 'test', '2025-03-04T10:00:00Z', "
	             "'2025-03-04T10:00:00Z' FROM actors WHERE name = 'Caf de la Drôme'",
	             ""),
	    DB_OK);
	long skipped = -1;
	assert_int_equal(di_export(db, DI_SERVICES, &arr, &skipped, &err), 0);
	assert_int_equal(skipped, 0); /* every demo service belongs to a demo structure */
	int found = 0;
	json_array_foreach(arr, i, o)
	{
		struct buf e = {0};
		if (di_validate_service(o, &e))
			fail_msg("service %zu: %s", i, buf_str(&e));
		buf_free(&e);
		assert_null(json_object_get(o, "contact_nom_prenom"));
		if (!strcmp(json_string_value(json_object_get(o, "nom")), "LAEP de test")) {
			found++;
			assert_string_equal(json_string_value(json_object_get(o, "date_maj")),
			                    "2025-03-04");
			assert_string_equal(
			    json_string_value(json_array_get(json_object_get(o, "thematiques"), 0)),
			    "famille--soutien-a-la-parentalite");
			assert_non_null(strstr(json_string_value(json_object_get(o, "description")),
			                       "Capacité : 12 places"));
		}
	}
	assert_int_equal(found, 1);
	json_decref(arr);
	assert_int_equal(db_execf(db, "DELETE FROM services WHERE source = 'test'", ""), DB_OK);

	/* Over HTTP: public, the same documents. */
	struct client *c = client_new(&T);
	const char *paths[] = {
	    "/acteurs/export/datainclusion-structures.json", "/api/v1/datainclusion/structures",
	    "/services/export/datainclusion-services.json", "/api/v1/datainclusion/services"};
	for (int k = 0; k < 4; k++) {
		struct resp r;
		client_get(c, paths[k], &r);
		assert_int_equal(r.status, 200);
		json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
		assert_true(json_is_array(doc));
		if (k < 2)
			assert_int_equal(json_array_size(doc), nactors);
		json_decref(doc);
		resp_free(&r);
	}
	client_free(c);

	/* A name too short for the schema gets its kind; the trailing dot goes. */
	assert_int_equal(db_execf(db,
	                          "INSERT INTO actors (name, search_name, kind, created_at, "
	                          "updated_at) VALUES ('Z.', 'z', 'association', "
	                          "'2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
	                          ""),
	                 DB_OK);
	assert_int_equal(di_export(db, DI_STRUCTURES, &arr, NULL, &err), 0);
	json_t *last = json_array_get(arr, json_array_size(arr) - 1);
	assert_string_equal(json_string_value(json_object_get(last, "nom")), "Z (Association)");
	assert_non_null(strstr(json_string_value(json_object_get(last, "description")),
	                       "Structure de type « Association »"));
	json_decref(arr);
	assert_int_equal(db_execf(db, "DELETE FROM actors WHERE name = 'Z.'", ""), DB_OK);
	db_close(db);
}

/* --- import --------------------------------------------------------------------------------------
 */

/* A fresh, migrated database with the communes of the demo (no actors). */
static struct db *fresh_db(char *dir, size_t n)
{
	th_tmpdir(dir, n);
	char *path = xasprintf("%s/fresh.db", dir);
	struct db *db = db_open(path, NULL);
	free(path);
	assert_non_null(db);
	assert_int_equal(db_migrate(db), DB_OK);
	struct db *demo = th_db(&T);
	struct db_stmt *st = db_queryf(demo,
	                               "SELECT code, name, search_name, latitude, longitude, "
	                               "postal_codes FROM communes",
	                               "");
	assert_int_equal(db_begin(db), DB_OK);
	while (db_step(st) == DB_ROW)
		assert_int_equal(
		    db_execf(db,
		             "INSERT INTO communes (code, name, search_name, latitude, "
		             "longitude, postal_codes) VALUES (?, ?, ?, ?, ?, ?)",
		             "sssdds", db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
		             db_col_double(st, 3), db_col_double(st, 4), db_col_text(st, 5)),
		    DB_OK);
	assert_int_equal(db_commit(db), DB_OK);
	db_finalize(st);
	db_close(demo);
	return db;
}

static char *actors_digest(struct db *db)
{
	struct buf b = {0};
	struct db_stmt *st =
	    db_queryf(db, "SELECT name, commune, siret, search_name FROM actors ORDER BY name", "");
	while (db_step(st) == DB_ROW)
		buf_printf(&b, "%s|%s|%s|%s\n", db_col_text(st, 0),
		           db_col_text(st, 1) ? db_col_text(st, 1) : "-",
		           db_col_text(st, 2) ? db_col_text(st, 2) : "-", db_col_text(st, 3));
	db_finalize(st);
	return buf_steal(&b);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct db *demo = th_db(&T);
	assert_int_equal(db_execf(demo,
	                          "UPDATE actors SET siret = '73282932000074' WHERE name = 'Caf de "
	                          "la Drôme'",
	                          ""),
	                 DB_OK);
	assert_int_equal(db_execf(demo,
	                          "INSERT INTO services (actor_id, kind, name, commune, capacity, "
	                          "source, created_at, updated_at) SELECT id, 'FRANCE_SERVICES', "
	                          "'France services de test', '26108', 1, 'test', "
	                          "'2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z' FROM actors "
	                          "WHERE name = 'Caf de la Drôme'",
	                          ""),
	                 DB_OK);
	json_t *arr, *sarr;
	char *err = NULL;
	assert_int_equal(di_export(demo, DI_STRUCTURES, &arr, NULL, &err), 0);
	assert_int_equal(di_export(demo, DI_SERVICES, &sarr, NULL, &err), 0);
	char *text = json_dumps(arr, 0), *stext = json_dumps(sarr, 0);
	size_t nservices = json_array_size(sarr);
	json_decref(arr);
	json_decref(sarr);
	char *before = actors_digest(demo);
	assert_int_equal(db_execf(demo, "DELETE FROM services WHERE source = 'test'", ""), DB_OK);

	char dir[256];
	struct db *db = fresh_db(dir, sizeof dir);
	struct di_import_result res;
	/* Services first: their structures are not there yet. */
	assert_int_equal(di_import(db, DI_SERVICES, stext, strlen(stext), 0, 0, "test", &res),
	                 DB_OK);
	assert_int_equal(res.nerrors, nservices); /* one per service: no structure yet */
	assert_true(nservices > 1);
	assert_non_null(strstr(buf_str(&res.errors), "champ « structure_id »"));
	di_import_result_free(&res);
	/* A dry run stores nothing. */
	assert_int_equal(di_import(db, DI_STRUCTURES, text, strlen(text), 1, 0, "test", &res),
	                 DB_OK);
	assert_int_equal(res.nerrors, 0);
	assert_true(res.created > 10);
	di_import_result_free(&res);
	int64_t n = -1;
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM actors", ""), DB_OK);
	assert_int_equal(n, 0);
	/* The real import gives the same actors. */
	assert_int_equal(di_import(db, DI_STRUCTURES, text, strlen(text), 0, 0, "test", &res),
	                 DB_OK);
	if (res.nerrors)
		fail_msg("%s", buf_str(&res.errors));
	long created = res.created;
	di_import_result_free(&res);
	char *after = actors_digest(db);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM actors WHERE source = 'data·inclusion' "
	                           "AND external_id LIKE 'maillage-actor-%'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, created);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM audit_log WHERE entity = 'actor' AND "
	                           "action = 'create'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, created);
	/* Again: every actor matched by external_id and updated, none created. */
	assert_int_equal(di_import(db, DI_STRUCTURES, text, strlen(text), 0, 0, "test", &res),
	                 DB_OK);
	assert_int_equal(res.nerrors, 0);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.updated, created);
	di_import_result_free(&res);
	/* Now the services find their structure. */
	assert_int_equal(di_import(db, DI_SERVICES, stext, strlen(stext), 0, 0, "test", &res),
	                 DB_OK);
	if (res.nerrors)
		fail_msg("%s", buf_str(&res.errors));
	assert_int_equal(res.created, nservices);
	di_import_result_free(&res);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM services s JOIN actors a ON a.id = "
	                           "s.actor_id WHERE a.name = 'Caf de la Drôme' AND s.kind = "
	                           "'FRANCE_SERVICES' AND s.commune = '26108'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, 1);
	db_close(db);
	db_close(demo);
	th_rmdir(dir);
	free(before);
	free(text);
	free(stext);
}

static void test_import_refused(void **state)
{
	(void)state;
	char dir[256];
	struct db *db = fresh_db(dir, sizeof dir);
	struct di_import_result res;
	/* Object 2 has a bad SIRET, object 3 a bad network and no date: all refused. */
	const char *bad =
	    "[{\"source\": \"x\", \"id\": \"a\", \"nom\": \"Structure valide\", \"description\": "
	    "\"Une description assez longue pour passer la limite de cinquante.\", \"date_maj\": "
	    "\"2025-01-01\"},\n"
	    " {\"source\": \"x\", \"id\": \"b\", \"nom\": \"Structure au siret faux\", "
	    "\"description\": \"Une description assez longue pour passer la limite de "
	    "cinquante.\", \"date_maj\": \"2025-01-01\", \"siret\": \"123\"},\n"
	    " {\"source\": \"x\", \"id\": \"c\", \"nom\": \"Troisième\", \"description\": \"Une "
	    "description assez longue pour passer la limite de cinquante.\", "
	    "\"reseaux_porteurs\": [\"inconnu\"]}]";
	assert_int_equal(di_import(db, DI_STRUCTURES, bad, strlen(bad), 0, 0, "test", &res), DB_OK);
	assert_int_equal(res.nerrors, 3);
	assert_non_null(strstr(buf_str(&res.errors), "objet n° 2, champ « siret »"));
	assert_non_null(strstr(buf_str(&res.errors), "objet n° 3, champ « date_maj »"));
	assert_non_null(strstr(buf_str(&res.errors), "objet n° 3, champ « reseaux_porteurs »"));
	di_import_result_free(&res);
	int64_t n = -1;
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM actors", ""), DB_OK);
	assert_int_equal(n, 0);
	/* A JSON syntax error names its line and column. */
	const char *broken = "[\n  {\"source\": \"x\",\n   \"id\": }\n]";
	assert_int_equal(di_import(db, DI_STRUCTURES, broken, strlen(broken), 0, 0, "t", &res),
	                 DB_OK);
	assert_int_equal(res.nerrors, 1);
	assert_non_null(strstr(buf_str(&res.errors), "ligne 3, colonne"));
	di_import_result_free(&res);
	/* Not an array; the same id twice. */
	assert_int_equal(di_import(db, DI_STRUCTURES, "{}", 2, 0, 0, "t", &res), DB_OK);
	assert_int_equal(res.nerrors, 1);
	di_import_result_free(&res);
	const char *twice =
	    "[{\"source\": \"x\", \"id\": \"a\", \"nom\": \"Première\", \"description\": \"Une "
	    "description assez longue pour passer la limite de cinquante.\", \"date_maj\": "
	    "\"2025-01-01\"}, {\"source\": \"x\", \"id\": \"a\", \"nom\": \"Seconde\", "
	    "\"description\": \"Une description assez longue pour passer la limite de "
	    "cinquante.\", \"date_maj\": \"2025-01-01\"}]";
	assert_int_equal(di_import(db, DI_STRUCTURES, twice, strlen(twice), 0, 0, "t", &res),
	                 DB_OK);
	assert_non_null(strstr(buf_str(&res.errors), "objet n° 2, champ « id »"));
	di_import_result_free(&res);
	/* Valid for the schema, looser than the directory: an unknown commune and a SIRET with a
	 * wrong key are left out with warnings; the structure is created. */
	const char *loose =
	    "[{\"source\": \"x\", \"id\": \"z\", \"nom\": \"<script>alert(1)</script>\", "
	    "\"description\": \"Une description assez longue pour passer la limite de "
	    "cinquante.\", \"date_maj\": \"2025-01-01\", \"siret\": \"12345678901234\", "
	    "\"code_insee\": \"99999\"}]";
	assert_int_equal(di_import(db, DI_STRUCTURES, loose, strlen(loose), 0, 0, "t", &res),
	                 DB_OK);
	assert_int_equal(res.nerrors, 0);
	assert_int_equal(res.created, 1);
	assert_non_null(strstr(buf_str(&res.warnings), "99999"));
	assert_non_null(strstr(buf_str(&res.warnings), "SIRET"));
	di_import_result_free(&res);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM actors WHERE external_id = 'z' AND siret "
	                           "IS NULL AND commune IS NULL AND kind = 'autre'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, 1);
	db_close(db);
	th_rmdir(dir);
}

/* --- web -----------------------------------------------------------------------------------------
 */

#define BOUNDARY "----maillageDiBoundary42"

static void upload(struct client *c, const char *csrf, const char *genre, const char *dry,
                   const char *data, struct resp *out)
{
	struct buf b = {0};
	buf_printf(&b,
	           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n",
	           csrf);
	buf_printf(&b,
	           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"genre\"\r\n\r\n%s\r\n",
	           genre);
	if (dry)
		buf_printf(&b, "--" BOUNDARY
		               "\r\nContent-Disposition: form-data; name=\"essai\"\r\n\r\n"
		               "1\r\n");
	buf_printf(&b,
	           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"fichier\"; "
	           "filename=\"d.json\"\r\nContent-Type: application/json\r\n\r\n%s\r\n"
	           "--" BOUNDARY "--\r\n",
	           data);
	client_post(c, "/acteurs/importer-datainclusion", "multipart/form-data; boundary=" BOUNDARY,
	            b.data, b.len, out);
	buf_free(&b);
}

static void test_web_import(void **state)
{
	(void)state;
	struct resp r;
	/* Anonymous: sent to log in; reader: refused. */
	struct client *anon = client_new(&T);
	client_get(anon, "/acteurs/importer-datainclusion", &r);
	assert_int_not_equal(r.status, 200);
	resp_free(&r);
	client_free(anon);
	struct client *reader = client_new(&T);
	assert_int_equal(client_login(reader, "lecture@demo.maillage.fr", DEMO_PASSWORD), 303);
	client_get(reader, "/acteurs/importer-datainclusion", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(reader);

	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "coordination@demo.maillage.fr", DEMO_PASSWORD), 303);
	client_get(c, "/acteurs/importer-datainclusion", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), "<h1>Importer depuis data·inclusion</h1>"));
	char *csrf = page_csrf_token(&r);
	assert_non_null(csrf);
	resp_free(&r);
	struct db *db = th_db(&T);
	int64_t n0 = 0, n = 0;
	assert_int_equal(db_int64f(db, &n0, "SELECT COUNT(*) FROM actors", ""), DB_OK);
	/* Refused: 422, the object and the field named, escaped; nothing stored. */
	const char *bad = "[{\"source\": \"x\", \"id\": \"w1\", \"nom\": \"Structure web\", "
	                  "\"description\": \"<b>courte</b>\", \"date_maj\": \"2025-01-01\"}]";
	upload(c, csrf, "structures", NULL, bad, &r);
	assert_int_equal(r.status, 422);
	assert_non_null(strstr(buf_str(&r.body), "objet n° 1, champ « description »"));
	assert_null(strstr(buf_str(&r.body), "<b>courte"));
	resp_free(&r);
	const char *good = "[{\"source\": \"x\", \"id\": \"w1\", \"nom\": \"Structure web\", "
	                   "\"description\": \"Une description assez longue pour passer la "
	                   "limite de cinquante.\", \"date_maj\": \"2025-01-01\", "
	                   "\"code_insee\": \"26108\", \"reseaux_porteurs\": [\"caf\"]}]";
	upload(c, csrf, "structures", "1", good, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(buf_str(&r.body), "Vérification réussie"));
	resp_free(&r);
	assert_int_equal(db_int64f(db, &n, "SELECT COUNT(*) FROM actors", ""), DB_OK);
	assert_int_equal(n, n0);
	upload(c, csrf, "structures", NULL, good, &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM actors WHERE external_id = 'w1' AND "
	                           "commune = '26108' AND kind = 'caf' AND search_name = "
	                           "'structure web'",
	                           ""),
	                 DB_OK);
	assert_int_equal(n, 1);
	/* Without the CSRF token: refused. */
	upload(c, "faux", "structures", NULL, good, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);

	/* The API: same rules, JSON answers. */
	char *h = xasprintf("X-CSRF-Token: %s", csrf);
	client_set_header(c, h);
	client_post(c, "/api/v1/datainclusion/structures", "application/json", bad, strlen(bad),
	            &r);
	assert_int_equal(r.status, 422);
	json_t *doc = json_loads(buf_str(&r.body), 0, NULL);
	const char *first = json_string_value(
	    json_array_get(json_object_get(json_object_get(doc, "error"), "errors"), 0));
	assert_non_null(first);
	assert_non_null(strstr(first, "objet n° 1, champ « description »"));
	json_decref(doc);
	resp_free(&r);
	const char *api_good = "[{\"source\": \"x\", \"id\": \"w2\", \"nom\": \"Structure api\", "
	                       "\"description\": \"Une description assez longue pour passer la "
	                       "limite de cinquante.\", \"date_maj\": \"2025-01-01\"}]";
	client_post(c, "/api/v1/datainclusion/structures?dry_run=1", "application/json", api_good,
	            strlen(api_good), &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(
	    db_int64f(db, &n, "SELECT COUNT(*) FROM actors WHERE external_id = 'w2'", ""), DB_OK);
	assert_int_equal(n, 0);
	client_post(c, "/api/v1/datainclusion/structures", "application/json", api_good,
	            strlen(api_good), &r);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(buf_str(&r.body), "\"created\": 1"));
	resp_free(&r);
	client_set_header(c, NULL);
	free(h);
	struct client *pilot = client_new(&T);
	assert_int_equal(client_login(pilot, "pilote@demo.maillage.fr", DEMO_PASSWORD), 303);
	client_get(pilot, "/acteurs/importer-datainclusion", &r);
	char *ptok = page_csrf_token(&r);
	resp_free(&r);
	client_get(pilot, "/", &r);
	free(ptok);
	ptok = page_csrf_token(&r);
	resp_free(&r);
	char *ph = xasprintf("X-CSRF-Token: %s", ptok ? ptok : "");
	client_set_header(pilot, ph);
	client_post(pilot, "/api/v1/datainclusion/structures", "application/json", api_good,
	            strlen(api_good), &r);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(buf_str(&r.body), "Seuls les administrateurs"));
	resp_free(&r);
	free(ph);
	free(ptok);
	client_free(pilot);
	free(csrf);
	db_close(db);
	client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validator_structure), cmocka_unit_test(test_validator_service),
	    cmocka_unit_test(test_export_demo),         cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_import_refused),      cmocka_unit_test(test_web_import),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
