/* plans: plans, their tree of nodes, who may see them. */
#ifndef MAILLAGE_PLANS_H
#define MAILLAGE_PLANS_H

#include "http.h"

#include <jansson.h>
#include <stdint.h>

struct db_stmt;

/*
 * SQL condition on a plan aliased `p` that holds when the request may see it: public plans,
 * every plan for an administrator, the plans the user is a member of. Takes two parameters,
 * bound by plan_bind_visible() from position `first`.
 */
#define PLAN_VISIBLE_WHERE                                                                         \
	"(p.is_public = 1 OR ? = 1 OR EXISTS (SELECT 1 FROM plan_members m "                       \
	"WHERE m.plan_id = p.id AND m.user_id = ?))"
void plan_bind_visible(struct db_stmt *st, int first, struct req *r);

/*
 * The role the request has on a plan: ROLE_ADMIN for administrators, the member's role,
 * ROLE_PUBLIC for a public plan seen by a non-member, ROLE_NONE when the plan is invisible to
 * the request or does not exist.
 */
enum role plan_role(struct req *r, int64_t plan_id);
/*
 * First statement of every handler that touches a plan: 0 when the request has at least
 * `min` on the plan; otherwise answers (404 when the plan is invisible, so that its existence
 * does not leak; 403 when visible but the role is too low) and returns -1.
 */
int plan_require(struct req *r, int64_t plan_id, enum role min);

/* French label of a plan kind ("Convention territoriale globale (CTG)"…). */
const char *plan_kind_label(const char *kind);
/* 1 when kind is one of ctg, schema, projet_social, autre. */
int plan_kind_valid(const char *kind);

/* The plan as JSON with its levels, territory, signatories and nested tree. NULL if missing.
 * The caller owns the result. */
json_t *plan_to_json(struct db *db, int64_t plan_id);

/* Recompute the numbers (1, 1.2, 1.2.3) of every node of a plan from parents and positions. */
int plan_renumber(struct db *db, int64_t plan_id);

/* Render Markdown safely (raw HTML disabled, unsafe link schemes dropped) into out. */
void markdown_render(struct buf *out, const char *md);

#endif
