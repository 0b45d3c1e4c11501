/* test_http: the real server on a real port, driven over HTTP — pages, API, limits, security. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "db.h"
#include "demo.h"
#include "harness.h"
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

static void get(const char *path, struct resp *r)
{
	struct client *c = client_new(&T);
	client_get(c, path, r);
	client_free(c);
}

static void assert_header_contains(const struct resp *r, const char *name, const char *needle)
{
	char *v = resp_get_header(r, name);
	if (!v || !strstr(v, needle))
		fail_msg("header %s: expected '%s', got '%s'", name, needle, v ? v : "(absent)");
	free(v);
}

/* Create an account directly (the admin pages and the CLI have their own tests). */
static int64_t make_user(const char *email, const char *role)
{
	struct db *db = th_db(&T);
	char *err = NULL;
	int64_t id = 0;
	if (user_create(db, email, "Personne de test", role, "mot-de-passe-test", 0, "cli", &id,
	                &err))
		fail_msg("user_create: %s", err);
	db_close(db);
	return id;
}

static void test_healthz(void **state)
{
	(void)state;
	struct resp r;
	get("/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "ok"));
	resp_free(&r);
}

static void test_home_lists_the_three_plans(void **state)
{
	(void)state;
	struct resp r;
	get("/", &r);
	assert_int_equal(r.status, 200);
	assert_header_contains(&r, "Content-Type", "text/html");
	assert_true(has(&r, "<html lang=\"fr\">"));
	assert_true(has(&r, "Schéma des solidarités 2020-2024"));
	assert_true(has(&r, "Crestois"));
	assert_true(has(&r, "Diois"));
	assert_true(has(&r, "Aller au contenu"));
	resp_free(&r);
}

static void test_security_headers_everywhere(void **state)
{
	(void)state;
	const char *paths[] = {"/", "/plans/1", "/nulle-part", "/api/v1/plans", "/connexion"};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp r;
		get(paths[i], &r);
		assert_header_contains(&r, "Content-Security-Policy", "frame-ancestors 'none'");
		assert_header_contains(&r, "Content-Security-Policy", "script-src 'self'");
		char *csp = resp_get_header(&r, "Content-Security-Policy");
		assert_null(strstr(csp, "unsafe-inline"));
		free(csp);
		assert_header_contains(&r, "X-Content-Type-Options", "nosniff");
		assert_header_contains(&r, "Referrer-Policy", "same-origin");
		resp_free(&r);
	}
}

static void test_plan_page_shows_numbered_tree(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	int64_t id = 0;
	assert_int_equal(
	    db_int64f(db, &id, "SELECT id FROM plans WHERE title LIKE '%Crestois%'", ""), DB_OK);
	int64_t deep = 0;
	assert_int_equal(db_int64f(db, &deep,
	                           "SELECT COUNT(*) FROM nodes WHERE plan_id = ? AND depth = 3",
	                           "I", id),
	                 DB_OK);
	db_close(db);
	assert_true(deep > 50); /* down to the actions */
	char path[64];
	snprintf(path, sizeof path, "/plans/%lld", (long long)id);
	struct resp r;
	get(path, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "<span class=\"num\">1.1</span>"));
	assert_true(has(&r, "<span class=\"num\">1.1.1</span>"));
	assert_true(has(&r, "<span class=\"num\">1.1.1.1</span>"));
	assert_true(has(&r, "Thématique"));
	assert_true(has(&r, "Petite enfance"));
	resp_free(&r);
}

static void test_api_plans(void **state)
{
	(void)state;
	struct resp r;
	get("/api/v1/plans", &r);
	assert_int_equal(r.status, 200);
	assert_header_contains(&r, "Content-Type", "application/json");
	json_error_t je;
	json_t *j = json_loads(buf_str(&r.body), 0, &je);
	assert_non_null(j);
	json_t *plans = json_object_get(j, "plans");
	assert_int_equal(json_array_size(plans), 3);
	json_t *first = json_array_get(plans, 0);
	assert_non_null(json_string_value(json_object_get(first, "title")));
	int64_t id = json_integer_value(json_object_get(first, "id"));
	json_decref(j);
	resp_free(&r);

	char path[64];
	snprintf(path, sizeof path, "/api/v1/plans/%lld", (long long)id);
	get(path, &r);
	assert_int_equal(r.status, 200);
	j = json_loads(buf_str(&r.body), 0, &je);
	assert_non_null(j);
	json_t *tree = json_object_get(j, "tree");
	assert_true(json_array_size(tree) > 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tree, 0), "number")),
	                    "1");
	assert_true(json_array_size(json_object_get(j, "levels")) >= 2);
	json_decref(j);
	resp_free(&r);
}

static void test_api_errors_are_json(void **state)
{
	(void)state;
	const struct {
		const char *path;
		long status;
	} cases[] = {{"/api/v1/plans/99999", 404},
	             {"/api/v1/plans/abc", 404},
	             {"/api/v1/nothing", 404},
	             {"/api/v1/plans?x=%C3%28", 400}};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct resp r;
		get(cases[i].path, &r);
		assert_int_equal(r.status, cases[i].status);
		assert_header_contains(&r, "Content-Type", "application/json");
		json_t *j = json_loads(buf_str(&r.body), 0, NULL);
		assert_non_null(j);
		json_t *e = json_object_get(j, "error");
		assert_non_null(json_string_value(json_object_get(e, "code")));
		assert_non_null(json_string_value(json_object_get(e, "message")));
		json_decref(j);
		resp_free(&r);
	}
}

static void test_html_errors_are_french_pages(void **state)
{
	(void)state;
	struct resp r;
	get("/nulle-part", &r);
	assert_int_equal(r.status, 404);
	assert_true(has(&r, "Page introuvable"));
	resp_free(&r);
	struct client *c = client_new(&T);
	client_post(c, "/plans/1", NULL, "a=b", 3, &r);
	assert_int_equal(r.status, 405);
	assert_true(has(&r, "Méthode non autorisée"));
	resp_free(&r);
	client_free(c);
}

static void test_login_logout(void **state)
{
	(void)state;
	make_user("ines.martin@example.org", "reader");
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "ines.martin@example.org", "mot-de-passe-test"), 303);
	struct resp r;
	client_get(c, "/compte", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "ines.martin@example.org"));
	assert_true(has(&r, "Se déconnecter"));
	resp_free(&r);
	client_submit(c, "/compte", "/deconnexion", "", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_get(c, "/compte", &r);
	assert_int_equal(r.status, 303); /* back to the login page */
	assert_header_contains(&r, "Location", "/connexion");
	resp_free(&r);
	client_free(c);
}

static void test_session_cookie_flags(void **state)
{
	(void)state;
	make_user("cookie@example.org", "reader");
	struct client *c = client_new(&T);
	struct resp page, r;
	client_get(c, "/connexion", &page);
	char *tok = page_csrf_token(&page);
	char *body =
	    xasprintf("_csrf=%s&email=cookie%%40example.org&password=mot-de-passe-test", tok);
	client_post(c, "/connexion", NULL, body, strlen(body), &r);
	assert_int_equal(r.status, 303);
	assert_true(strstr(buf_str(&r.headers), "maillage_session=") != NULL);
	assert_true(strstr(buf_str(&r.headers), "HttpOnly") != NULL);
	assert_true(strstr(buf_str(&r.headers), "SameSite=Lax") != NULL);
	free(body);
	free(tok);
	resp_free(&page);
	resp_free(&r);
	client_free(c);
}

static void test_login_failures_are_throttled(void **state)
{
	(void)state;
	make_user("throttle@example.org", "reader");
	struct client *c = client_new(&T);
	for (int i = 0; i < 5; i++)
		assert_int_equal(client_login(c, "throttle@example.org", "mauvais-mot-de-passe"),
		                 401);
	/* Even the right password is refused while throttled. */
	assert_int_equal(client_login(c, "throttle@example.org", "mot-de-passe-test"), 429);
	client_free(c);
}

static void test_csrf_required(void **state)
{
	(void)state;
	struct client *c = client_new(&T);
	struct resp r;
	const char *body = "email=a%40b.fr&password=xxxxxxxxxx";
	client_post(c, "/connexion", NULL, body, strlen(body), &r);
	assert_int_equal(r.status, 403);
	assert_true(has(&r, "CSRF"));
	resp_free(&r);
	/* A logged-in administrator without the token is refused too, and nothing is created. */
	assert_int_equal(client_login(c, DEMO_ADMIN, DEMO_PASSWORD), 303);
	const char *create = "email=csrf%40example.org&name=X&role=reader&password=0123456789ab";
	client_post(c, "/admin/utilisateurs", NULL, create, strlen(create), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	char *bad = xasprintf("_csrf=%064d&%s", 0, create);
	client_post(c, "/admin/utilisateurs", NULL, bad, strlen(bad), &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	free(bad);
	struct db *db = th_db(&T);
	int64_t n = -1;
	db_int64f(db, &n, "SELECT COUNT(*) FROM users WHERE email = 'csrf@example.org'", "");
	assert_int_equal(n, 0);
	db_close(db);
	client_free(c);
}

static void test_admin_pages_need_admin(void **state)
{
	(void)state;
	struct resp r;
	get("/admin/utilisateurs", &r);
	assert_int_equal(r.status, 303);
	assert_header_contains(&r, "Location", "/connexion?suite=%2Fadmin%2Futilisateurs");
	resp_free(&r);
	make_user("coordo@example.org", "coordinator");
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "coordo@example.org", "mot-de-passe-test"), 303);
	client_get(c, "/admin/utilisateurs", &r);
	assert_int_equal(r.status, 403);
	resp_free(&r);
	client_free(c);
}

static void test_admin_creates_user_and_escapes_hostile_input(void **state)
{
	(void)state;
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, DEMO_ADMIN, DEMO_PASSWORD), 303);
	struct resp r;
	client_submit(
	    c, "/admin/utilisateurs", "/admin/utilisateurs",
	    "email=xss%40example.org&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E+%27+OR+1%3D1"
	    "+--&role=pilot&password=0123456789ab",
	    &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_get(c, "/admin/utilisateurs", &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(buf_str(&r.body), "<script>alert(1)"));
	assert_true(has(&r, "&lt;script&gt;alert(1)&lt;/script&gt; &#39; OR 1=1 --"));
	resp_free(&r);
	/* The new account can log in; its password is stored hashed and audited without it. */
	struct client *c2 = client_new(&T);
	assert_int_equal(client_login(c2, "xss@example.org", "0123456789ab"), 303);
	client_free(c2);
	struct db *db = th_db(&T);
	struct db_stmt *st = db_prepare(db, "SELECT after_json FROM audit_log WHERE entity = "
	                                    "'user' AND action = 'create' AND after_json LIKE "
	                                    "'%xss@example.org%'");
	assert_int_equal(db_step(st), DB_ROW);
	assert_null(strstr(db_col_text(st, 0), "argon2"));
	assert_null(strstr(db_col_text(st, 0), "0123456789ab"));
	db_finalize(st);
	char *hash = NULL;
	st = db_prepare(db, "SELECT password_hash FROM users WHERE email = 'xss@example.org'");
	assert_int_equal(db_step(st), DB_ROW);
	hash = xstrdup(db_col_text(st, 0));
	db_finalize(st);
	assert_true(!strncmp(hash, "$argon2id$", 10));
	free(hash);
	db_close(db);

	/* Bad inputs: a French error, nothing stored. */
	client_submit(c, "/admin/utilisateurs", "/admin/utilisateurs",
	              "email=pas-une-adresse&name=Nom&role=pilot&password=0123456789ab", &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "adresse électronique n&#39;est pas valide"));
	resp_free(&r);
	client_submit(c, "/admin/utilisateurs", "/admin/utilisateurs",
	              "email=court%40example.org&name=Nom&role=pilot&password=court", &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "10 caractères"));
	resp_free(&r);
	client_submit(c, "/admin/utilisateurs", "/admin/utilisateurs",
	              "email=role%40example.org&name=Nom&role=superuser&password=0123456789ab", &r);
	assert_int_equal(r.status, 422);
	resp_free(&r);
	client_submit(c, "/admin/utilisateurs", "/admin/utilisateurs",
	              "email=utf%40example.org&name=%C3%28&role=pilot&password=0123456789ab", &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	db = th_db(&T);
	int64_t n = -1;
	db_int64f(db, &n,
	          "SELECT COUNT(*) FROM users WHERE email IN ('pas-une-adresse', "
	          "'court@example.org', 'role@example.org', 'utf@example.org')",
	          "");
	assert_int_equal(n, 0);
	db_close(db);
	client_free(c);
}

static void test_disabled_user_cannot_log_in(void **state)
{
	(void)state;
	int64_t id = make_user("depart@example.org", "pilot");
	struct client *u = client_new(&T);
	assert_int_equal(client_login(u, "depart@example.org", "mot-de-passe-test"), 303);
	struct client *a = client_new(&T);
	assert_int_equal(client_login(a, DEMO_ADMIN, DEMO_PASSWORD), 303);
	char path[80];
	snprintf(path, sizeof path, "/admin/utilisateurs/%lld/desactiver", (long long)id);
	struct resp r;
	client_submit(a, "/admin/utilisateurs", path, "", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	/* The open session is closed and a new login fails. */
	client_get(u, "/compte", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	assert_int_equal(client_login(u, "depart@example.org", "mot-de-passe-test"), 401);
	client_free(u);
	client_free(a);
}

static void test_private_plan_is_invisible_to_others(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	int64_t plan = 0;
	assert_int_equal(
	    db_int64f(db, &plan,
	              "INSERT INTO plans (kind, title, start_year, end_year, is_public, "
	              "created_at, updated_at) VALUES ('projet_social', 'Projet "
	              "confidentiel', 2024, 2027, 0, 'x', 'x') RETURNING id",
	              ""),
	    DB_OK);
	db_close(db);
	int64_t member = make_user("membre@example.org", "reader");
	make_user("autre@example.org", "reader");
	db = th_db(&T);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO plan_members (plan_id, user_id, role) "
	                          "VALUES (?, ?, 'reader')",
	                          "II", plan, member),
	                 DB_OK);
	db_close(db);
	char page[64], api[64];
	snprintf(page, sizeof page, "/plans/%lld", (long long)plan);
	snprintf(api, sizeof api, "/api/v1/plans/%lld", (long long)plan);

	struct resp r;
	get(page, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get(api, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	get("/api/v1/plans", &r);
	assert_null(strstr(buf_str(&r.body), "Projet confidentiel"));
	resp_free(&r);
	get("/", &r);
	assert_null(strstr(buf_str(&r.body), "Projet confidentiel"));
	resp_free(&r);

	struct client *other = client_new(&T);
	assert_int_equal(client_login(other, "autre@example.org", "mot-de-passe-test"), 303);
	client_get(other, page, &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	client_get(other, "/", &r);
	assert_null(strstr(buf_str(&r.body), "Projet confidentiel"));
	resp_free(&r);
	client_free(other);

	struct client *m = client_new(&T);
	assert_int_equal(client_login(m, "membre@example.org", "mot-de-passe-test"), 303);
	client_get(m, page, &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "Projet confidentiel"));
	assert_true(has(&r, "lecteur"));
	resp_free(&r);
	client_get(m, "/api/v1/plans", &r);
	assert_true(has(&r, "Projet confidentiel"));
	resp_free(&r);
	client_free(m);

	struct client *a = client_new(&T);
	assert_int_equal(client_login(a, DEMO_ADMIN, DEMO_PASSWORD), 303);
	client_get(a, api, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	client_free(a);
}

static void test_garbage_then_next_request_served(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	unsigned char *junk = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		junk[i] = (unsigned char)((i * 2654435761u) >> 13);
	struct buf answer = {0};
	raw_exchange(T.port, junk, n, &answer);
	free(junk);
	/* Either a 4xx answer or a closed connection: never a crash or a 2xx/5xx. */
	if (answer.len)
		assert_true(!strncmp(buf_str(&answer), "HTTP/1.1 4", 10));
	buf_free(&answer);

	const char *malformed[] = {
	    "GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n"};
	for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
		raw_exchange(T.port, malformed[i], strlen(malformed[i]), &answer);
		assert_true(!strncmp(buf_str(&answer), "HTTP/1.1 400", 12));
		buf_free(&answer);
	}
	/* An unknown method gets 405 with the methods allowed. */
	const char *odd = "\x01\x02 / HTTP/1.1\r\nHost: x\r\n\r\n";
	raw_exchange(T.port, odd, strlen(odd), &answer);
	assert_true(!strncmp(buf_str(&answer), "HTTP/1.1 405", 12));
	buf_free(&answer);
	/* Headers beyond the memory limit. */
	struct buf big = {0};
	buf_puts(&big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\r\n\r\n");
	raw_exchange(T.port, big.data, big.len, &answer);
	assert_true(!strncmp(buf_str(&answer), "HTTP/1.1 4", 10));
	buf_free(&answer);
	buf_free(&big);

	struct resp r;
	get("/healthz", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void test_body_too_large(void **state)
{
	(void)state;
	size_t n = (1u << 20) + 10;
	char *big = xmalloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	struct client *c = client_new(&T);
	struct resp r;
	client_post(c, "/connexion", NULL, big, n, &r);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	client_post(c, "/api/v1/plans", "application/json", big, n, &r);
	assert_int_equal(r.status, 413);
	assert_header_contains(&r, "Content-Type", "application/json");
	resp_free(&r);
	free(big);
	client_free(c);
	get("/healthz", &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
}

static void test_open_redirect_refused(void **state)
{
	(void)state;
	make_user("redirect@example.org", "reader");
	struct client *c = client_new(&T);
	struct resp r;
	client_submit(
	    c, "/connexion", "/connexion",
	    "email=redirect%40example.org&password=mot-de-passe-test&suite=%2F%2Fevil.example", &r);
	assert_int_equal(r.status, 303);
	char *loc = resp_get_header(&r, "Location");
	assert_string_equal(loc, "/");
	free(loc);
	resp_free(&r);
	client_free(c);
}

static void test_static_assets_cached(void **state)
{
	(void)state;
	struct resp page;
	get("/", &page);
	const char *p = strstr(buf_str(&page.body), "/static/style.css?v=");
	assert_non_null(p);
	char path[80];
	snprintf(path, sizeof path, "%.*s", (int)strcspn(p, "\""), p);
	resp_free(&page);
	struct resp r;
	get(path, &r);
	assert_int_equal(r.status, 200);
	assert_header_contains(&r, "Content-Type", "text/css");
	assert_header_contains(&r, "Cache-Control", "immutable");
	char *etag = resp_get_header(&r, "ETag");
	assert_non_null(etag);
	resp_free(&r);
	struct client *c = client_new(&T);
	char *h = xasprintf("If-None-Match: %s", etag);
	client_set_header(c, h);
	client_get(c, path, &r);
	assert_int_equal(r.status, 304);
	resp_free(&r);
	free(h);
	free(etag);
	client_free(c);
	get("/static/../../etc/passwd", &r);
	assert_int_equal(r.status, 404);
	resp_free(&r);
}

static void test_account_change_name_escaped(void **state)
{
	(void)state;
	make_user("compte@example.org", "partner");
	struct client *c = client_new(&T);
	assert_int_equal(client_login(c, "compte@example.org", "mot-de-passe-test"), 303);
	struct resp r;
	client_submit(c, "/compte", "/compte",
	              "action=name&name=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E", &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_get(c, "/compte", &r);
	assert_true(has(&r, "&lt;img src=x onerror=alert(1)&gt;"));
	assert_null(strstr(buf_str(&r.body), "<img src=x"));
	resp_free(&r);
	client_submit(
	    c, "/compte", "/compte",
	    "action=password&current=faux-mot-de-passe&new=nouveau-mdp-123&confirm=nouveau-"
	    "mdp-123",
	    &r);
	assert_int_equal(r.status, 422);
	assert_true(has(&r, "mot de passe actuel est incorrect"));
	resp_free(&r);
	client_submit(
	    c, "/compte", "/compte",
	    "action=password&current=mot-de-passe-test&new=nouveau-mdp-123&confirm=nouveau-"
	    "mdp-123",
	    &r);
	assert_int_equal(r.status, 303);
	resp_free(&r);
	client_free(c);
	c = client_new(&T);
	assert_int_equal(client_login(c, "compte@example.org", "nouveau-mdp-123"), 303);
	client_free(c);
}

static void test_search(void **state)
{
	(void)state;
	struct resp r;
	/* Accents and case folded: "CRECHE" finds "crèche". */
	get("/api/v1/search?q=CRECHE", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "crèche de Saillans"));
	resp_free(&r);
	get("/recherche?q=cr%C3%A8che+saillans", &r);
	assert_int_equal(r.status, 200);
	assert_true(has(&r, "<mark>crèche</mark>"));
	resp_free(&r);
	/* Hostile or odd input: no error, escaped, nothing found or plain results. */
	const char *odd[] = {"/api/v1/search?q=%22+OR+1%3D1+--", "/api/v1/search?q=NEAR(a+b)",
	                     "/api/v1/search?q=title%3Ax", "/api/v1/search?q=*"};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
		get(odd[i], &r);
		assert_true(r.status == 200 || r.status == 400);
		assert_header_contains(&r, "Content-Type", "application/json");
		resp_free(&r);
	}
	get("/recherche?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(buf_str(&r.body), "<script>alert"));
	assert_true(has(&r, "&lt;script&gt;"));
	resp_free(&r);
	struct buf q = {0};
	buf_puts(&q, "/api/v1/search?q=");
	for (int i = 0; i < 201; i++)
		buf_putc(&q, 'a');
	get(buf_str(&q), &r);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	buf_free(&q);
	/* A private plan's nodes are found by its members only. */
	struct db *db = th_db(&T);
	int64_t plan = 0;
	assert_int_equal(
	    db_int64f(db, &plan,
	              "INSERT INTO plans (kind, title, is_public, created_at, updated_at) "
	              "VALUES ('autre', 'Plan secret', 0, 'x', 'x') RETURNING id",
	              ""),
	    DB_OK);
	assert_int_equal(db_execf(db,
	                          "INSERT INTO nodes (plan_id, position, depth, number, title, "
	                          "created_at, updated_at) VALUES (?, 1, 0, '1', "
	                          "'Zorglub confidentiel', 'x', 'x')",
	                          "I", plan),
	                 DB_OK);
	db_close(db);
	get("/api/v1/search?q=zorglub", &r);
	assert_null(strstr(buf_str(&r.body), "Zorglub"));
	resp_free(&r);
	struct client *a = client_new(&T);
	assert_int_equal(client_login(a, DEMO_ADMIN, DEMO_PASSWORD), 303);
	client_get(a, "/api/v1/search?q=zorglub", &r);
	assert_true(has(&r, "Zorglub confidentiel"));
	resp_free(&r);
	client_free(a);
}

/* The plan switcher of every page stops at 20 plans and links to the list. */
static void test_plan_switcher_bounded(void **state)
{
	(void)state;
	struct db *db = th_db(&T);
	for (int i = 0; i < 25; i++) {
		char title[64];
		snprintf(title, sizeof title, "Plan public n° %02d", i);
		assert_int_equal(db_execf(db,
		                          "INSERT INTO plans (kind, title, is_public, created_at, "
		                          "updated_at) VALUES ('autre', ?, 1, 'x', 'x')",
		                          "s", title),
		                 DB_OK);
	}
	db_close(db);
	struct resp r;
	get("/a-propos", &r);
	assert_int_equal(r.status, 200);
	const char *start = strstr(r.body.data, "<details class=\"plan-switcher\">");
	assert_non_null(start);
	const char *end = strstr(start, "</details>");
	assert_non_null(end);
	int items = 0;
	for (const char *q = start; (q = strstr(q, "<li>")) && q < end; q++)
		items++;
	assert_int_equal(items, 21);
	const char *more = strstr(start, "Tous les plans…");
	assert_true(more && more < end);
	resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthz),
	    cmocka_unit_test(test_home_lists_the_three_plans),
	    cmocka_unit_test(test_security_headers_everywhere),
	    cmocka_unit_test(test_plan_page_shows_numbered_tree),
	    cmocka_unit_test(test_api_plans),
	    cmocka_unit_test(test_api_errors_are_json),
	    cmocka_unit_test(test_html_errors_are_french_pages),
	    cmocka_unit_test(test_login_logout),
	    cmocka_unit_test(test_session_cookie_flags),
	    cmocka_unit_test(test_login_failures_are_throttled),
	    cmocka_unit_test(test_csrf_required),
	    cmocka_unit_test(test_admin_pages_need_admin),
	    cmocka_unit_test(test_admin_creates_user_and_escapes_hostile_input),
	    cmocka_unit_test(test_disabled_user_cannot_log_in),
	    cmocka_unit_test(test_private_plan_is_invisible_to_others),
	    cmocka_unit_test(test_garbage_then_next_request_served),
	    cmocka_unit_test(test_body_too_large),
	    cmocka_unit_test(test_open_redirect_refused),
	    cmocka_unit_test(test_static_assets_cached),
	    cmocka_unit_test(test_account_change_name_escaped),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_plan_switcher_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
