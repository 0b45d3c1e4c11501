/* fiche_rules: labels, plan lookup, edit rights and audit snapshots of fiches-actions. */
#include "fiches.h"

#include "db.h"
#include "plans.h"
#include "util.h"

#include <string.h>

static const struct {
	const char *value, *label;
} statuses[] = {
	{"proposee", "Proposée"},     {"retenue", "Retenue"},       {"en_cours", "En cours"},
	{"achevee", "Achevée"},       {"abandonnee", "Abandonnée"}, {"ajournee", "Ajournée"},
};

static const struct {
	const char *value, *label;
} progresses[] = {
	{"non_engagee", "Non engagée"},
	{"peu_engagee", "Peu engagée"},
	{"bien_engagee", "Bien engagée"},
	{"achevee", "Achevée"},
};

#define LOOKUP(table, v, field)                                                                \
	do {                                                                                   \
		for (size_t i_ = 0; (v) && i_ < sizeof table / sizeof *table; i_++)            \
			if (!strcmp(table[i_].value, (v)))                                     \
				return field;                                                  \
	} while (0)

const char *fiche_status_label(const char *status)
{
	LOOKUP(statuses, status, statuses[i_].label);
	return "?";
}

const char *fiche_progress_label(const char *progress)
{
	LOOKUP(progresses, progress, progresses[i_].label);
	return "?";
}

int fiche_status_valid(const char *status)
{
	LOOKUP(statuses, status, 1);
	return 0;
}

int fiche_progress_valid(const char *progress)
{
	LOOKUP(progresses, progress, 1);
	return 0;
}

int fiche_status_closes(const char *status)
{
	return status && (!strcmp(status, "achevee") || !strcmp(status, "abandonnee"));
}

int64_t node_plan(struct db *db, int64_t node_id)
{
	int64_t plan = 0;
	if (db_int64f(db, &plan, "SELECT plan_id FROM nodes WHERE id = ?", "I", node_id) != DB_OK)
		return 0;
	return plan;
}

int node_is_fiche(struct db *db, int64_t node_id)
{
	int64_t n = 0;
	db_int64f(db, &n, "SELECT COUNT(*) FROM fiches WHERE node_id = ?", "I", node_id);
	return n > 0;
}

int node_require(struct req *r, int64_t node_id, enum role min, int64_t *plan_id)
{
	int64_t plan = node_plan(r->db, node_id);
	if (!plan || plan_role(r, plan) == ROLE_NONE) {
		resp_error(r, 404, "Cet élément n'existe pas ou n'est pas visible pour vous.");
		return -1;
	}
	if (plan_require(r, plan, min))
		return -1;
	if (plan_id)
		*plan_id = plan;
	return 0;
}

int fiche_can_edit(struct req *r, int64_t node_id)
{
	int64_t plan = node_plan(r->db, node_id);
	if (!plan || !r->user)
		return 0;
	enum role role = plan_role(r, plan);
	if (role >= ROLE_COORDINATOR)
		return 1;
	if (role != ROLE_PILOT)
		return 0;
	int64_t n = 0;
	db_int64f(r->db, &n, "SELECT COUNT(*) FROM fiche_pilots WHERE node_id = ? AND user_id = ?",
		  "II", node_id, r->user->id);
	return n > 0;
}

int fiche_require_edit(struct req *r, int64_t node_id)
{
	if (node_require(r, node_id, ROLE_PUBLIC, NULL))
		return -1;
	if (!node_is_fiche(r->db, node_id)) {
		resp_error(r, 404, "Cet élément n'est pas une fiche-action.");
		return -1;
	}
	if (!fiche_can_edit(r, node_id)) {
		resp_error(r, r->user ? 403 : 401,
			   r->user ? "Seuls les pilotes de cette fiche et la coordination du plan "
				     "peuvent la modifier."
				   : "Connectez-vous pour modifier cette fiche.");
		return -1;
	}
	return 0;
}

/* A JSON array of the first column of a query bound to one id. */
static json_t *column_list(struct db *db, const char *sql, int64_t id)
{
	json_t *arr = json_array();
	struct db_stmt *st = db_queryf(db, sql, "I", id);
	while (st && db_step(st) == DB_ROW)
		json_array_append_new(arr, json_string(db_col_text(st, 0) ? db_col_text(st, 0) : ""));
	db_finalize(st);
	return arr;
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *fiche_snapshot(struct db *db, int64_t node_id)
{
	struct db_stmt *st = db_queryf(
		db,
		"SELECT n.title, n.description, f.status, f.progress, f.start_date, f.end_date, "
		"f.expected_results, f.human_means, f.closing_note, n.number "
		"FROM fiches f JOIN nodes n ON n.id = f.node_id WHERE f.node_id = ?",
		"I", node_id);
	if (!st)
		return NULL;
	json_t *j = NULL;
	if (db_step(st) == DB_ROW)
		j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s}", "number",
			      db_col_text(st, 9), "title", db_col_text(st, 0), "description",
			      db_col_text(st, 1), "status", db_col_text(st, 2), "progress",
			      db_col_text(st, 3), "start_date", text_or_null(db_col_text(st, 4)),
			      "end_date", text_or_null(db_col_text(st, 5)), "expected_results",
			      db_col_text(st, 6), "human_means", db_col_text(st, 7), "closing_note",
			      db_col_text(st, 8));
	db_finalize(st);
	if (!j)
		return NULL;
	json_object_set_new(j, "pilots",
			    column_list(db,
					"SELECT COALESCE(u.name, a.name) FROM fiche_pilots p "
					"LEFT JOIN users u ON u.id = p.user_id "
					"LEFT JOIN actors a ON a.id = p.actor_id "
					"WHERE p.node_id = ? ORDER BY 1",
					node_id));
	json_object_set_new(j, "partners",
			    column_list(db,
					"SELECT a.name FROM fiche_partners p JOIN actors a "
					"ON a.id = p.actor_id WHERE p.node_id = ? ORDER BY 1",
					node_id));
	json_object_set_new(j, "publics",
			    column_list(db,
					"SELECT label FROM fiche_publics WHERE node_id = ? "
					"ORDER BY label",
					node_id));
	json_object_set_new(j, "communes",
			    column_list(db,
					"SELECT commune FROM fiche_communes WHERE node_id = ? "
					"ORDER BY commune",
					node_id));
	json_object_set_new(j, "impact_domains",
			    column_list(db,
					"SELECT domain FROM fiche_impacts WHERE node_id = ? "
					"ORDER BY domain",
					node_id));
	return j;
}
