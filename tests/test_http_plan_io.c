/* test_http_plan_io: plan import and export over HTTP — the upload form (multipart, dry run and
 * for real), who may import, the exports' types and file names, the API, the size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "demo.h"
#include "harness.h"
#include "plan_io.h"
#include "users.h"
#include "util.h"

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

static int has(const struct resp *r, const char *needle)
{
	return strstr(buf_str(&r->body), needle) != NULL;
}

static void assert_header_contains(const struct resp *r, const char *name, const char *needle)
{
	char *v = resp_get_header(r, name);
	if (!v || !strstr(v, needle))
		fail_msg("header %s: expected '%s', got '%s'", name, needle, v ? v : "(absent)");
	free(v);
}

static char *fixture(const char *name, size_t *len)
{
	const char *slash = strrchr(__FILE__, '/');
	char *p = xasprintf("%.*s/fixtures/plan_io/%s", slash ? (int)(slash - __FILE__) : 1,
	                    slash ? __FILE__ : ".", name);
	char *data = file_read_all(p, len);
	if (!data)
		fail_msg("fixture %s unreadable", p);
	free(p);
	return data;
}

static int64_t scalar(const char *sql)
{
	struct db *db = th_db(&T);
	int64_t n = -1;
	db_int64f(db, &n, sql, "");
	db_close(db);
	return n;
}

static int64_t plans_count(void)
{
	return scalar("SELECT COUNT(*) FROM plans");
}

static int64_t nodes_count(void)
{
	return scalar("SELECT COUNT(*) FROM nodes");
}

static struct client *login(const char *email)
{
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, email, DEMO_PASSWORD), 303);
	return c;
}

/* The CSRF token of the client's session, read from a page that carries a form. */
static char *csrf_of(struct client *c)
{
	struct resp r;
	client_get(c, "/", &r);
	char *tok = page_csrf_token(&r);
	resp_free(&r);
	assert_non_null(tok);
	return tok;
}

#define BOUNDARY "----maillageTestBoundary7MA4YWxkTrZu0gW"

/* A multipart/form-data body: the CSRF token, text fields (name, value pairs ended by NULL),
 * and one file in the field "fichier". */
static void multipart(struct buf *b, const char *csrf, const char *const *fields,
                      const char *filename, const char *data, size_t len)
{
	buf_printf(b,
	           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n",
	           csrf ? csrf : "");
	for (size_t i = 0; fields && fields[i]; i += 2)
		buf_printf(b,
		           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
		           "%s\r\n",
		           fields[i], fields[i + 1]);
	if (filename) {
		buf_printf(b,
		           "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"fichier\"; "
		           "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
		           filename);
		buf_append(b, data, len);
		buf_puts(b, "\r\n");
	}
	buf_puts(b, "--" BOUNDARY "--\r\n");
}

static void upload(struct client *c, const char *csrf, const char *const *fields,
                   const char *filename, const char *data, size_t len, struct resp *out)
{
	struct buf b = {0};
	multipart(&b, csrf, fields, filename, data, len);
	client_post(c, "/plans/importer", "multipart/form-data; boundary=" BOUNDARY, b.data, b.len,
	            out);
	buf_free(&b);
}

static void test_import_form_for_coordinators_only(void **state)
{
	(void)state;
	struct resp r;
	struct client *anon = client_new(&T);
	client_get(anon, "/plans/importer", &r);
	assert_int_equal(r.status, 303);
	assert_header_contains(&r, "Location", "/connexion");
	resp_free(&r);
	client_free(anon);
	static const char *const refused[] = {
	    "pilote@demo.maillage.fr", "partenaire@demo.maillage.fr", "lecture@demo.maillage.fr"};
	for (size_t i = 0; i < 3; i++) {
		struct client *c = login(refused[i]);
		client_get(c, "/plans/importer", &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		client_free(c);
	}
	static const char *const allowed[] = {"coordination@demo.maillage.fr", DEMO_ADMIN};
	for (size_t i = 0; i < 2; i++) {
		struct client *c = login(allowed[i]);
		client_get(c, "/plans/importer", &r);
		assert_int_equal(r.status, 200);
		assert_true(has(&r, "<h1>Importer un plan</h1>"));
		assert_true(has(&r, "enctype=\"multipart/form-data\""));
		assert_true(has(&r, "<label for=\"imp-file\">"));
		assert_true(has(&r, "name=\"fichier\" type=\"file\""));
		assert_true(has(&r, "name=\"simulation\""));
		assert_true(has(&r, "name=\"_csrf\""));
		resp_free(&r);
		client_free(c);
	}
}

static void test_upload_dry_run_then_for_real(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("tilleuls.csv", &len);
	struct client *c = login("coordination@demo.maillage.fr");
	char *tok = csrf_of(c);
	int64_t plans = plans_count(), nodes = nodes_count();
	struct resp r;
	const char *const dry[] = {"simulation", "1", "format", "auto", NULL};
	upload(c, tok, dry, "tilleuls.csv", data, len, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Simulation : ce qui serait créé"));
	assert_true(has(&r, "Rien n'a été enregistré"));
	assert_true(has(&r, "<td>1.1.1</td><td>Café des habitants le samedi matin</td>"));
	assert_true(has(&r, "18, dont 9 fiches-actions"));
	resp_free(&r);
	assert_int_equal(plans_count(), plans);
	assert_int_equal(nodes_count(), nodes);

	const char *const real[] = {"format", "csv", NULL};
	upload(c, tok, real, "tilleuls.csv", data, len, &r);
	assert_int_equal(r.status, 303);
	char *loc = resp_get_header(&r, "Location");
	assert_non_null(loc);
	long long id = 0;
	assert_int_equal(sscanf(loc, "/plans/%lld?ok=importe", &id), 1);
	resp_free(&r);
	assert_int_equal(plans_count(), plans + 1);
	assert_int_equal(nodes_count(), nodes + 18);
	/* the importer coordinates the new plan */
	struct db *db = th_db(&T);
	int64_t n = 0;
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM plan_members m JOIN users u "
	                           "ON u.id = m.user_id WHERE m.plan_id = ? AND m.role = "
	                           "'coordinator' AND u.email = 'coordination@demo.maillage.fr'",
	                           "I", (int64_t)id),
	                 DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(db_int64f(db, &n,
	                           "SELECT COUNT(*) FROM audit_log WHERE origin = 'web' AND "
	                           "entity = 'plan' AND action = 'create' AND entity_id = ?",
	                           "s", loc + 7),
	                 DB_OK);
	db_close(db);
	client_get(c, loc, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Projet social 2025-2028 du centre social Les Tilleuls"));
	resp_free(&r);
	free(loc);
	free(tok);
	free(data);
	client_free(c);
}

static void test_upload_errors_are_listed_and_nothing_stored(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("broken_level_jump.csv", &len);
	struct client *c = login(DEMO_ADMIN);
	char *tok = csrf_of(c);
	int64_t plans = plans_count(), nodes = nodes_count();
	struct resp r;
	const char *const fields[] = {"titre", "<script>alert(1)</script>' OR 1=1 --", NULL};
	upload(c, tok, fields, "plan<b>.csv", data, len, &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "Le fichier est refusé : rien n'a été enregistré."));
	assert_true(has(&r, "Ligne 6, colonne 1 : saut de niveau"));
	/* what was typed comes back, escaped */
	assert_true(has(&r, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;&#39; OR 1=1 --\""));
	assert_false(has(&r, "<script>alert(1)"));
	resp_free(&r);
	/* Markdown and a bad UTF-8 byte, format chosen in the form */
	const char *md = "---\ntitre: P\n---\n# Axe é\n- B\n  - C\n- \xE9t\xE9\n";
	const char *const mdf[] = {"format", "md", NULL};
	upload(c, tok, mdf, "plan.txt", md, strlen(md), &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "Ligne 7, colonne 3 : octet 0xE9 non valide en UTF-8"));
	resp_free(&r);
	/* no file */
	upload(c, tok, NULL, NULL, NULL, 0, &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "Choisissez un fichier"));
	resp_free(&r);
	/* no CSRF token */
	upload(c, "faux", NULL, "tilleuls.csv", data, len, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	assert_int_equal(plans_count(), plans);
	assert_int_equal(nodes_count(), nodes);
	free(tok);
	free(data);
	client_free(c);
}

static void test_upload_refused_to_other_roles(void **state)
{
	(void)state;
	size_t len;
	char *data = fixture("tilleuls.md", &len);
	int64_t plans = plans_count();
	static const char *const refused[] = {
	    "pilote@demo.maillage.fr", "partenaire@demo.maillage.fr", "lecture@demo.maillage.fr"};
	struct resp r;
	for (size_t i = 0; i < 3; i++) {
		struct client *c = login(refused[i]);
		char *tok = csrf_of(c);
		upload(c, tok, NULL, "tilleuls.md", data, len, &r);
		assert_int_equal(r.status, 403);
		resp_free(&r);
		client_set_header(c, NULL);
		struct buf hdr = {0};
		buf_printf(&hdr, "X-CSRF-Token: %s", tok);
		client_set_header(c, hdr.data);
		client_post(c, "/api/v1/plans/import?format=md", "text/markdown", data, len, &r);
		assert_int_equal(r.status, 403);
		assert_true(has(&r, "\"error\""));
		resp_free(&r);
		buf_free(&hdr);
		free(tok);
		client_free(c);
	}
	struct client *anon = client_new(&T);
	upload(anon, NULL, NULL, "tilleuls.md", data, len, &r);
	assert_true(r.status == 401 || r.status == 403);
	resp_free(&r);
	client_post(anon, "/api/v1/plans/import", "text/markdown", data, len, &r);
	assert_true(r.status == 401 || r.status == 403);
	resp_free(&r);
	client_free(anon);
	assert_int_equal(plans_count(), plans);
	free(data);
}

/* Import a fixture directly, optionally private; returns the plan id. */
static int64_t import_direct(const char *name, int private_plan)
{
	size_t len;
	char *data = fixture(name, &len);
	if (private_plan) {
		char *p = strstr(data, "#plan;public;oui");
		assert_non_null(p);
		memcpy(p, "#plan;public;non", 16);
	}
	struct db *db = th_db(&T);
	struct plan_io_errors errs = {0};
	int64_t pid = 0;
	json_t *s = NULL;
	assert_int_equal(
	    plan_io_import(db, PLAN_IO_NONE, data, len, NULL, 0, 0, "cli", &pid, &s, &errs), 0);
	json_decref(s);
	db_close(db);
	free(data);
	return pid;
}

static void test_exports(void **state)
{
	(void)state;
	int64_t pub = import_direct("tilleuls.csv", 0);
	int64_t priv = import_direct("tilleuls.csv", 1);
	char path[96];
	struct resp r;
	struct client *anon = client_new(&T);
	static const struct {
		const char *ext, *ctype;
	} kinds[] = {{"csv", "text/csv; charset=utf-8"},
	             {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	             {"json", "application/json"}};
	for (size_t k = 0; k < 3; k++) {
		snprintf(path, sizeof path, "/plans/%lld/export.%s", (long long)pub, kinds[k].ext);
		client_get(anon, path, &r);
		assert_int_equal(r.status, 200);
		assert_header_contains(&r, "Content-Type", kinds[k].ctype);
		char want[128];
		snprintf(want, sizeof want,
		         "attachment; filename=\"projet-social-2025-2028-du-centre-social-les-"
		         "tilleuls.%s\"",
		         kinds[k].ext);
		assert_header_contains(&r, "Content-Disposition", want);
		if (k == 0)
			assert_memory_equal(r.body.data, "\xEF\xBB\xBF#plan;titre;Projet social",
			                    27);
		if (k == 1)
			assert_memory_equal(r.body.data, "PK", 2);
		if (k == 2) {
			assert_true(has(&r, "\"threads\""));
			assert_true(has(&r, "\"fiche\": {"));
		}
		resp_free(&r);
		/* the private plan: invisible to anonymous visitors and to non-members */
		snprintf(path, sizeof path, "/plans/%lld/export.%s", (long long)priv, kinds[k].ext);
		client_get(anon, path, &r);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
	struct client *reader = login("lecture@demo.maillage.fr"); /* member of another plan */
	client_get(reader, path, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/plans/%lld/export?format=csv", (long long)priv);
	client_get(reader, path, &r);
	assert_int_equal(r.status, 404);
	assert_true(has(&r, "\"error\""));
	resp_free(&r);
	client_free(reader);
	/* a reader of the private plan may export it */
	struct db *db = th_db(&T);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_members (plan_id, user_id, role) "
	                          "SELECT ?, id, 'reader' FROM users WHERE email = ?",
	                          "Is", priv, "partenaire@demo.maillage.fr"),
	                 DB_OK);
	db_close(db);
	struct client *member = login("partenaire@demo.maillage.fr");
	client_get(member, path, &r);
	assert_int_equal(r.status, 200);
	assert_header_contains(&r, "Content-Type", "text/csv");
	assert_true(has(&r, "Café des habitants le samedi matin"));
	resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/plans/%lld/export?format=pdf", (long long)priv);
	client_get(member, path, &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/plans/%lld/export", (long long)priv);
	client_get(member, path, &r);
	assert_int_equal(r.status, 200);
	assert_header_contains(&r, "Content-Type", "application/json");
	assert_true(has(&r, "\"tag_slugs\""));
	resp_free(&r);
	client_free(member);
	client_get(anon, "/plans/999999/export.csv", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_free(anon);
}

static void test_api_import(void **state)
{
	(void)state;
	size_t len, blen;
	char *data = fixture("tilleuls.json", &len);
	char *broken = fixture("broken_level_jump.csv", &blen);
	struct client *c = login("coordination@demo.maillage.fr");
	char *tok = csrf_of(c);
	struct buf hdr = {0};
	buf_printf(&hdr, "X-CSRF-Token: %s", tok);
	int64_t plans = plans_count();
	struct resp r;
	/* without the CSRF header: refused */
	client_post(c, "/api/v1/plans/import", "application/json", data, len, &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_set_header(c, hdr.data);
	client_post(c, "/api/v1/plans/import?dry_run=1", "application/json", data, len, &r);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(buf_str(&r.body), 0, NULL);
	assert_true(json_is_null(json_object_get(j, "plan_id")));
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "summary"), "nodes")), 18);
	json_decref(j);
	resp_free(&r);
	assert_int_equal(plans_count(), plans);

	client_post(c, "/api/v1/plans/import", "application/json", data, len, &r);
	assert_int_equal(r.status, 201);
	j = json_loads(buf_str(&r.body), 0, NULL);
	int64_t pid = json_integer_value(json_object_get(j, "plan_id"));
	assert_true(pid > 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "summary"), "format")), "JSON");
	json_decref(j);
	resp_free(&r);
	assert_int_equal(plans_count(), plans + 1);

	client_post(c, "/api/v1/plans/import?format=csv", "text/csv", broken, blen, &r);
	assert_int_equal(r.status, 422);
	j = json_loads(buf_str(&r.body), 0, NULL);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")), "invalid");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 6);
	assert_int_equal(json_integer_value(json_object_get(e, "column")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "saut de niveau"));
	assert_int_equal(json_array_size(json_object_get(e, "errors")), 1);
	json_decref(j);
	resp_free(&r);
	client_post(c, "/api/v1/plans/import?format=pdf", "text/csv", broken, blen, &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	client_post(c, "/api/v1/plans/import", "text/csv", "", 0, &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	assert_int_equal(plans_count(), plans + 1);
	buf_free(&hdr);
	free(tok);
	free(data);
	free(broken);
	client_free(c);
}

static void test_huge_upload_refused(void **state)
{
	(void)state;
	struct client *c = login("coordination@demo.maillage.fr");
	char *tok = csrf_of(c);
	size_t big = 50u << 20;
	char *data = xmalloc(big);
	memset(data, 'x', big);
	int64_t plans = plans_count();
	struct resp r;
	upload(c, tok, NULL, "enorme.csv", data, big, &r);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	assert_int_equal(plans_count(), plans);
	free(data);
	free(tok);
	client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_import_form_for_coordinators_only),
	    cmocka_unit_test(test_upload_dry_run_then_for_real),
	    cmocka_unit_test(test_upload_errors_are_listed_and_nothing_stored),
	    cmocka_unit_test(test_upload_refused_to_other_roles),
	    cmocka_unit_test(test_exports),
	    cmocka_unit_test(test_api_import),
	    cmocka_unit_test(test_huge_upload_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
