/* dbcopy: a whole instance from one database to another (SQLite ⇄ PostgreSQL), verified table by
 * table; backups and restores built on it. */
#include "dbcopy.h"

#include "db.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The catalog is read per backend (sqlite_master / pragma table-valued functions on SQLite,
 * information_schema and pg_catalog on PostgreSQL): introspection is the one place where the
 * two differ by nature. Identifiers read from a catalog are checked against [a-z_][a-z0-9_]*
 * before they are quoted into SQL.
 */

struct col {
	char *name;
	char type; /* 'i' integer, 'd' double, 't' text */
	int pk;    /* 1-based position in the primary key, 0 when not in it */
};

struct table {
	char *name;
	struct col *cols;
	int ncols;
	char *selfref; /* a column referencing this same table, or NULL */
};

struct catalog {
	int pg;
	struct table *t;
	size_t n;
	char **edges; /* pairs (child, parent) of foreign keys */
	size_t nedges;
};

static int ident_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 63)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' || (p != s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

/* Tables that are not copied: the migration ledger and the full-text index (the target's
 * triggers rebuild it from the copied rows). */
static int skipped(const char *name)
{
	return !strcmp(name, "schema_migrations") || !strncmp(name, "search_", 7) ||
	       !strncmp(name, "sqlite_", 7);
}

static void catalog_free(struct catalog *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (int k = 0; k < c->t[i].ncols; k++)
			free(c->t[i].cols[k].name);
		free(c->t[i].cols);
		free(c->t[i].name);
		free(c->t[i].selfref);
	}
	free(c->t);
	for (size_t i = 0; i < 2 * c->nedges; i++)
		free(c->edges[i]);
	free(c->edges);
	memset(c, 0, sizeof *c);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct table *)a)->name, ((const struct table *)b)->name);
}

static struct table *table_find(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->t[i].name, name))
			return &c->t[i];
	return NULL;
}

static char type_of(const char *decl)
{
	char up[64];
	size_t i;
	for (i = 0; decl && decl[i] && i < sizeof up - 1; i++)
		up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
	up[i] = 0;
	if (strstr(up, "INT"))
		return 'i';
	if (strstr(up, "REAL") || strstr(up, "DOUB") || strstr(up, "FLOA") || strstr(up, "NUMERIC"))
		return 'd';
	return 't';
}

static int cat_err(struct db *db, char **err, const char *what)
{
	if (!*err)
		*err = xasprintf("lecture du catalogue (%s) impossible : %s", what, db_errmsg(db));
	return -1;
}

static int catalog_load(struct db *db, struct catalog *c, char **err)
{
	memset(c, 0, sizeof *c);
	c->pg = !strcmp(db_backend(db), "postgresql");
	struct db_stmt *st = db_prepare(
	    db, c->pg ? "SELECT table_name FROM information_schema.tables WHERE table_schema = "
	                "current_schema() AND table_type = 'BASE TABLE'"
	              : "SELECT name FROM sqlite_master WHERE type = 'table'");
	if (!st)
		return cat_err(db, err, "tables");
	size_t cap = 0;
	int rc;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *name = db_col_text(st, 0);
		if (!name || skipped(name))
			continue;
		if (!ident_ok(name)) {
			*err = xasprintf("nom de table inattendu « %s »", name);
			db_finalize(st);
			return -1;
		}
		if (c->n == cap) {
			cap = cap ? cap * 2 : 64;
			c->t = xrealloc(c->t, cap * sizeof *c->t);
		}
		memset(&c->t[c->n], 0, sizeof *c->t);
		c->t[c->n++].name = xstrdup(name);
	}
	db_finalize(st);
	if (rc != DB_DONE)
		return cat_err(db, err, "tables");
	if (c->n)
		qsort(c->t, c->n, sizeof *c->t, by_name);

	for (size_t i = 0; i < c->n; i++) {
		struct table *t = &c->t[i];
		st =
		    c->pg
		        ? db_queryf(db,
		                    "SELECT column_name, data_type FROM information_schema.columns "
		                    "WHERE table_schema = current_schema() AND table_name = ? "
		                    "ORDER BY ordinal_position",
		                    "s", t->name)
		        : db_queryf(db,
		                    "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid",
		                    "s", t->name);
		if (!st)
			return cat_err(db, err, t->name);
		int ccap = 0;
		while ((rc = db_step(st)) == DB_ROW) {
			const char *name = db_col_text(st, 0);
			if (!ident_ok(name)) {
				*err = xasprintf("nom de colonne inattendu « %s » (table %s)",
				                 name ? name : "", t->name);
				db_finalize(st);
				return -1;
			}
			if (t->ncols == ccap) {
				ccap = ccap ? ccap * 2 : 16;
				t->cols = xrealloc(t->cols, (size_t)ccap * sizeof *t->cols);
			}
			struct col *k = &t->cols[t->ncols++];
			k->name = xstrdup(name);
			k->type = type_of(db_col_text(st, 1));
			k->pk = c->pg ? 0 : (int)db_col_int64(st, 2);
		}
		db_finalize(st);
		if (rc != DB_DONE)
			return cat_err(db, err, t->name);
		if (c->pg) {
			st = db_queryf(
			    db,
			    "SELECT k.column_name, k.ordinal_position "
			    "FROM information_schema.table_constraints c "
			    "JOIN information_schema.key_column_usage k "
			    "ON k.constraint_name = c.constraint_name "
			    "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
			    "WHERE c.constraint_type = 'PRIMARY KEY' "
			    "AND c.table_schema = current_schema() AND c.table_name = ?",
			    "s", t->name);
			if (!st)
				return cat_err(db, err, t->name);
			while ((rc = db_step(st)) == DB_ROW)
				for (int k = 0; k < t->ncols; k++)
					if (!strcmp(t->cols[k].name, db_col_text(st, 0)))
						t->cols[k].pk = (int)db_col_int64(st, 1);
			db_finalize(st);
			if (rc != DB_DONE)
				return cat_err(db, err, t->name);
		}
	}

	/* foreign keys: (child table, parent table, child column) */
	size_t ecap = 0;
	for (size_t i = 0; i < c->n || (c->pg && i == 0); i++) {
		if (c->pg)
			st = db_prepare(db,
			                "SELECT c.relname, f.relname, a.attname "
			                "FROM pg_constraint k "
			                "JOIN pg_class c ON c.oid = k.conrelid "
			                "JOIN pg_class f ON f.oid = k.confrelid "
			                "JOIN pg_namespace ns ON ns.oid = c.relnamespace "
			                "JOIN pg_attribute a ON a.attrelid = k.conrelid "
			                "AND a.attnum = k.conkey[1] "
			                "WHERE k.contype = 'f' AND ns.nspname = current_schema()");
		else
			st = db_queryf(
			    db, "SELECT ?, \"table\", \"from\" FROM pragma_foreign_key_list(?)",
			    "ss", c->t[i].name, c->t[i].name);
		if (!st)
			return cat_err(db, err, "clés étrangères");
		while ((rc = db_step(st)) == DB_ROW) {
			const char *child = db_col_text(st, 0), *parent = db_col_text(st, 1);
			if (!child || !parent)
				continue;
			if (!strcmp(child, parent)) {
				struct table *t = table_find(c, child);
				if (t && !t->selfref && ident_ok(db_col_text(st, 2)))
					t->selfref = xstrdup(db_col_text(st, 2));
				continue;
			}
			if (c->nedges == ecap) {
				ecap = ecap ? ecap * 2 : 64;
				c->edges = xrealloc(c->edges, 2 * ecap * sizeof *c->edges);
			}
			c->edges[2 * c->nedges] = xstrdup(child);
			c->edges[2 * c->nedges + 1] = xstrdup(parent);
			c->nedges++;
		}
		db_finalize(st);
		if (rc != DB_DONE)
			return cat_err(db, err, "clés étrangères");
		if (c->pg)
			break;
	}
	return 0;
}

/* Table indexes of c in an order where every parent comes before its children (Kahn, ties by
 * name); tables caught in a cycle come last, by name. */
static size_t *fk_order(const struct catalog *c)
{
	size_t *order = xmalloc((c->n + 1) * sizeof *order);
	char *placed = xcalloc(c->n + 1, 1);
	size_t k = 0;
	for (int progress = 1; progress && k < c->n;) {
		progress = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (placed[i])
				continue;
			int ready = 1;
			for (size_t e = 0; e < c->nedges && ready; e++) {
				if (strcmp(c->edges[2 * e], c->t[i].name) != 0)
					continue;
				for (size_t j = 0; j < c->n; j++)
					if (!placed[j] && j != i &&
					    !strcmp(c->t[j].name, c->edges[2 * e + 1]))
						ready = 0;
			}
			if (ready) {
				placed[i] = 1;
				order[k++] = i;
				progress = 1;
				break; /* restart: ties go to the first name */
			}
		}
	}
	for (size_t i = 0; i < c->n; i++)
		if (!placed[i])
			order[k++] = i;
	free(placed);
	return order;
}

/* --- rows ------------------------------------------------------------------------------------ */

struct val {
	char type; /* 'n' NULL, 'i', 'd', 't' */
	int64_t i;
	double d;
	size_t off, len; /* text in the arena */
};

struct arena {
	char *p;
	size_t len, cap;
};

static size_t arena_put(struct arena *a, const char *s, size_t n)
{
	if (a->len + n + 1 > a->cap) {
		a->cap = (a->len + n + 1) * 2 + 4096;
		a->p = xrealloc(a->p, a->cap);
	}
	size_t off = a->len;
	memcpy(a->p + off, s, n);
	a->p[off + n] = 0;
	a->len += n + 1;
	return off;
}

static void val_read(struct db_stmt *st, int k, char type, struct val *v, struct arena *a)
{
	if (db_col_is_null(st, k)) {
		v->type = 'n';
		return;
	}
	v->type = type;
	if (type == 'i')
		v->i = db_col_int64(st, k);
	else if (type == 'd')
		v->d = db_col_double(st, k);
	else {
		const char *s = db_col_text(st, k);
		v->len = s ? strlen(s) : 0;
		v->off = arena_put(a, s ? s : "", v->len);
	}
}

/* The canonical text of one row, appended to the hash. */
static void row_hash(crypto_generichash_state *h, const struct val *v, int n, const struct arena *a)
{
	char tmp[64];
	for (int k = 0; k < n; k++) {
		int len = 0;
		switch (v[k].type) {
		case 'n':
			len = snprintf(tmp, sizeof tmp, "N|");
			break;
		case 'i':
			len = snprintf(tmp, sizeof tmp, "i%lld|", (long long)v[k].i);
			break;
		case 'd': {
			double d = v[k].d == 0 ? 0.0 : v[k].d; /* -0 is 0 */
			len = snprintf(tmp, sizeof tmp, "d%.17g|", d);
			break;
		}
		default:
			len = snprintf(tmp, sizeof tmp, "t%zu:", v[k].len);
			crypto_generichash_update(h, (const unsigned char *)tmp,
			                          (unsigned long long)len);
			crypto_generichash_update(h, (const unsigned char *)a->p + v[k].off,
			                          v[k].len);
			len = snprintf(tmp, sizeof tmp, "|");
		}
		crypto_generichash_update(h, (const unsigned char *)tmp, (unsigned long long)len);
	}
	crypto_generichash_update(h, (const unsigned char *)"\n", 1);
}

static void hash_hex16(crypto_generichash_state *h, char out[33])
{
	unsigned char d[16];
	crypto_generichash_final(h, d, sizeof d);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The columns copied for one table: the source's, present in the target too. */
struct plan_table {
	struct table *src, *dst;
	int *cs, *cd; /* column indexes in src and dst */
	int n;
};

/* SELECT of the columns in primary-key order (bytewise for text on both backends). */
static char *select_sql(const struct table *t, const int *cols, int n, int pg)
{
	size_t cap = 256;
	char *s = xmalloc(cap);
	size_t len = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int need = snprintf(NULL, 0, __VA_ARGS__);                                         \
		if (len + (size_t)need + 1 > cap) {                                                \
			cap = (len + (size_t)need + 1) * 2;                                        \
			s = xrealloc(s, cap);                                                      \
		}                                                                                  \
		len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__);                          \
	} while (0)
	ADD("SELECT ");
	for (int k = 0; k < n; k++)
		ADD("%s\"%s\"", k ? ", " : "", t->cols[cols[k]].name);
	ADD(" FROM \"%s\" ORDER BY ", t->name);
	int any = 0;
	for (int p = 1; p <= t->ncols; p++)
		for (int k = 0; k < n; k++)
			if (t->cols[cols[k]].pk == p) {
				ADD("%s\"%s\"%s", any ? ", " : "", t->cols[cols[k]].name,
				    pg && t->cols[cols[k]].type == 't' ? " COLLATE \"C\"" : "");
				any = 1;
			}
	if (!any) /* no primary key: every column */
		for (int k = 0; k < n; k++) {
			ADD("%s\"%s\"%s", any ? ", " : "", t->cols[cols[k]].name,
			    pg && t->cols[cols[k]].type == 't' ? " COLLATE \"C\"" : "");
			any = 1;
		}
	return s;
}

static char *insert_sql(const struct table *t, const int *cols, int n, int rows)
{
	size_t cap = 256;
	char *s = xmalloc(cap);
	size_t len = 0;
	ADD("INSERT INTO \"%s\" (", t->name);
	for (int k = 0; k < n; k++)
		ADD("%s\"%s\"", k ? ", " : "", t->cols[cols[k]].name);
	ADD(") VALUES ");
	for (int r = 0; r < rows; r++) {
		ADD("%s(", r ? ", " : "");
		for (int k = 0; k < n; k++)
			ADD("%s?", k ? ", " : "");
		ADD(")");
	}
	return s;
#undef ADD
}

/* Count and checksum of one table's columns (cols into t) on db. */
static int table_sum(struct db *db, const struct table *t, const int *cols, int n, int pg,
                     int64_t *rows, char sum[33], char **err)
{
	char *sql = select_sql(t, cols, n, pg);
	struct db_stmt *st = db_prepare(db, sql);
	free(sql);
	if (!st) {
		*err = xasprintf("lecture de la table %s impossible : %s", t->name, db_errmsg(db));
		return -1;
	}
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 16);
	struct val *v = xcalloc((size_t)n, sizeof *v);
	struct arena a = {0};
	int rc;
	*rows = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		a.len = 0;
		for (int k = 0; k < n; k++)
			val_read(st, k, t->cols[cols[k]].type, &v[k], &a);
		row_hash(&h, v, n, &a);
		(*rows)++;
	}
	db_finalize(st);
	free(v);
	free(a.p);
	hash_hex16(&h, sum);
	if (rc != DB_DONE) {
		*err = xasprintf("lecture de la table %s impossible : %s", t->name, db_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_val(struct db_stmt *st, int i, const struct val *v, const struct arena *a)
{
	switch (v->type) {
	case 'n':
		db_bind_null(st, i);
		break;
	case 'i':
		db_bind_int64(st, i, v->i);
		break;
	case 'd':
		db_bind_double(st, i, v->d);
		break;
	default:
		db_bind_text(st, i, a->p + v->off);
	}
}

struct deferred {
	int64_t id, ref;
};

/* Copy one table; fills the source side of out. */
static int table_copy(struct db *src, struct db *dst, const struct plan_table *pt, int src_pg,
                      int dst_pg, struct dbcopy_table *out, char **err)
{
	const struct table *t = pt->src;
	int n = pt->n;
	/* rows per INSERT: fewer round trips to a server (PostgreSQL takes up to 65,535
	 * parameters), within SQLite's historical limit of 999 parameters otherwise */
	int batch = (dst_pg ? 30000 : 900) / n;
	if (batch > (dst_pg ? 1000 : 100))
		batch = dst_pg ? 1000 : 100;
	if (batch < 1)
		batch = 1;
	/* a self reference to a later row (a node moved under a newer one) is set afterwards */
	int self = -1, pkcol = -1, npk = 0;
	for (int k = 0; k < n; k++) {
		if (t->cols[pt->cs[k]].pk) {
			npk++;
			pkcol = k;
		}
		if (t->selfref && !strcmp(t->cols[pt->cs[k]].name, t->selfref))
			self = k;
	}
	if (npk != 1 || t->cols[pt->cs[pkcol]].type != 'i')
		self = -1;

	char *sql = select_sql(t, pt->cs, n, src_pg);
	struct db_stmt *sel = db_prepare(src, sql);
	free(sql);
	if (!sel) {
		*err = xasprintf("lecture de la table %s impossible : %s", t->name, db_errmsg(src));
		return -1;
	}
	sql = insert_sql(pt->dst, pt->cd, n, batch);
	struct db_stmt *ins = db_prepare(dst, sql);
	free(sql);
	if (!ins) {
		db_finalize(sel);
		*err =
		    xasprintf("écriture dans la table %s impossible : %s", t->name, db_errmsg(dst));
		return -1;
	}
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 16);
	struct val *v = xcalloc((size_t)n * (size_t)batch, sizeof *v);
	struct arena a = {0};
	struct deferred *later = NULL;
	size_t nlater = 0, capl = 0;
	int inbatch = 0, rc, fail = 0;
	out->rows_src = 0;
	while (!fail && (rc = db_step(sel)) == DB_ROW) {
		struct val *row = v + inbatch * n;
		for (int k = 0; k < n; k++)
			val_read(sel, k, t->cols[pt->cs[k]].type, &row[k], &a);
		row_hash(&h, row, n, &a);
		out->rows_src++;
		if (self >= 0 && row[self].type == 'i' && row[pkcol].type == 'i' &&
		    row[self].i > row[pkcol].i) {
			if (nlater == capl) {
				capl = capl ? capl * 2 : 64;
				later = xrealloc(later, capl * sizeof *later);
			}
			later[nlater].id = row[pkcol].i;
			later[nlater++].ref = row[self].i;
			row[self].type = 'n';
		}
		if (++inbatch == batch) {
			db_reset(ins);
			for (int i = 0; i < batch * n; i++)
				bind_val(ins, i + 1, &v[i], &a);
			if (db_step(ins) != DB_DONE)
				fail = 1;
			inbatch = 0;
			a.len = 0;
		}
	}
	if (!fail && rc != DB_DONE) {
		*err = xasprintf("lecture de la table %s impossible : %s", t->name, db_errmsg(src));
		fail = 2;
	}
	db_finalize(sel);
	db_finalize(ins);
	if (!fail && inbatch) {
		sql = insert_sql(pt->dst, pt->cd, n, inbatch);
		ins = db_prepare(dst, sql);
		free(sql);
		if (!ins)
			fail = 1;
		else {
			for (int i = 0; i < inbatch * n; i++)
				bind_val(ins, i + 1, &v[i], &a);
			if (db_step(ins) != DB_DONE)
				fail = 1;
			db_finalize(ins);
		}
	}
	if (!fail && nlater) {
		sql = xasprintf("UPDATE \"%s\" SET \"%s\" = ? WHERE \"%s\" = ?", t->name,
		                t->cols[pt->cs[self]].name, t->cols[pt->cs[pkcol]].name);
		ins = db_prepare(dst, sql);
		free(sql);
		for (size_t i = 0; ins && !fail && i < nlater; i++) {
			db_reset(ins);
			db_bindf(ins, "II", later[i].ref, later[i].id);
			if (db_step(ins) != DB_DONE)
				fail = 1;
		}
		if (!ins)
			fail = 1;
		db_finalize(ins);
	}
	if (fail == 1)
		*err =
		    xasprintf("écriture dans la table %s impossible : %s", t->name, db_errmsg(dst));
	hash_hex16(&h, out->sum_src);
	free(v);
	free(a.p);
	free(later);
	return fail ? -1 : 0;
}

/* --- public functions ---------------------------------------------------------------------------
 */

void dbcopy_report_free(struct dbcopy_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		free(rep->t[i].name);
	free(rep->t);
	memset(rep, 0, sizeof *rep);
}

void dbcopy_report_print(FILE *f, const struct dbcopy_report *rep)
{
	fprintf(f, "%-28s %12s %12s  %-32s  %s\n", "table", "source", "cible", "somme de contrôle",
	        "");
	int bad = 0;
	for (size_t i = 0; i < rep->n; i++) {
		const struct dbcopy_table *t = &rep->t[i];
		int ok = t->rows_src == t->rows_dst && !strcmp(t->sum_src, t->sum_dst);
		bad += !ok;
		fprintf(f, "%-28s %12lld %12lld  %-32s  %s\n", t->name, (long long)t->rows_src,
		        (long long)t->rows_dst, t->sum_src, ok ? "identique" : "DIFFÉRENTE");
		if (!ok)
			fprintf(f, "%-28s %12s %12s  %-32s\n", "", "", "", t->sum_dst);
	}
	fprintf(f, "%zu tables, %lld lignes%s%s.\n", rep->n, (long long)rep->rows,
	        bad ? " — tables différentes : " : ", toutes identiques",
	        bad ? "voir ci-dessus" : "");
}

int dbcopy_reset_sequences(struct db *db, char **err)
{
	if (strcmp(db_backend(db), "postgresql") != 0)
		return 0;
	struct db_stmt *st =
	    db_prepare(db, "SELECT table_name, column_name FROM information_schema.columns "
	                   "WHERE table_schema = current_schema() "
	                   "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%') "
	                   "ORDER BY table_name, column_name");
	if (!st)
		return cat_err(db, err, "séquences");
	char **names = NULL;
	size_t n = 0, cap = 0;
	while (db_step(st) == DB_ROW) {
		if (!ident_ok(db_col_text(st, 0)) || !ident_ok(db_col_text(st, 1)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = xrealloc(names, 2 * cap * sizeof *names);
		}
		names[2 * n] = xstrdup(db_col_text(st, 0));
		names[2 * n + 1] = xstrdup(db_col_text(st, 1));
		n++;
	}
	db_finalize(st);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char *sql =
		    xasprintf("SELECT setval(pg_get_serial_sequence(CAST(? AS TEXT), "
		              "CAST(? AS TEXT)), COALESCE((SELECT MAX(\"%s\") FROM \"%s\"), 0) + "
		              "1, false)",
		              names[2 * i + 1], names[2 * i]);
		st = db_queryf(db, sql, "ss", names[2 * i], names[2 * i + 1]);
		free(sql);
		if (!rc && (!st || db_step(st) != DB_ROW)) {
			*err = xasprintf("mise à jour de la séquence de %s.%s impossible : %s",
			                 names[2 * i], names[2 * i + 1], db_errmsg(db));
			rc = -1;
		}
		db_finalize(st);
	}
	for (size_t i = 0; i < 2 * n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int all_cols(const struct table *t, int **cols)
{
	*cols = xmalloc((size_t)(t->ncols + 1) * sizeof **cols);
	for (int k = 0; k < t->ncols; k++)
		(*cols)[k] = k;
	return t->ncols;
}

int dbcopy_checksums(struct db *db, struct dbcopy_report *rep, char **err)
{
	*err = NULL;
	memset(rep, 0, sizeof *rep);
	struct catalog c;
	int rc = catalog_load(db, &c, err);
	size_t *order = rc ? NULL : fk_order(&c);
	if (!rc)
		rep->t = xcalloc(c.n + 1, sizeof *rep->t);
	for (size_t i = 0; !rc && i < c.n; i++) {
		const struct table *t = &c.t[order[i]];
		int *cols;
		int n = all_cols(t, &cols);
		struct dbcopy_table *o = &rep->t[rep->n++];
		o->name = xstrdup(t->name);
		rc = table_sum(db, t, cols, n, c.pg, &o->rows_src, o->sum_src, err);
		o->rows_dst = o->rows_src;
		memcpy(o->sum_dst, o->sum_src, sizeof o->sum_dst);
		rep->rows += o->rows_src;
		free(cols);
	}
	free(order);
	catalog_free(&c);
	return rc ? -1 : 0;
}

/* Tables whose rows make an instance "not empty" (the migrations seed none of them). */
static const char *const data_tables[] = {"users",    "plans",     "actors",
                                          "communes", "audit_log", "needs"};

int dbcopy_run(struct db *src, struct db *dst, int force, int progress, struct dbcopy_report *rep,
               char **err)
{
	*err = NULL;
	memset(rep, 0, sizeof *rep);
	int64_t t0 = time_mono_us();
	int vs = db_schema_version(src), vd = db_schema_version(dst);
	if (vs == 0) {
		*err =
		    xstrdup("la source n'est pas une base maillage (aucune migration appliquée)");
		return -1;
	}
	if (vs != vd) {
		*err = xasprintf("la source est au schéma %d et la cible au schéma %d : mettez-les "
		                 "à la même version (maillage init --db …) avant de copier",
		                 vs, vd);
		return -1;
	}
	int src_pg = !strcmp(db_backend(src), "postgresql");
	int dst_pg = !strcmp(db_backend(dst), "postgresql");
	/* one consistent snapshot of the source */
	if (db_exec(src, src_pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" : "BEGIN") !=
	    DB_OK) {
		*err = xasprintf("lecture cohérente de la source impossible : %s", db_errmsg(src));
		return -1;
	}
	if (db_begin(dst) != DB_OK) {
		*err = xasprintf("transaction sur la cible impossible : %s", db_errmsg(dst));
		db_rollback(src);
		return -1;
	}
	struct catalog cs, cd;
	memset(&cd, 0, sizeof cd);
	int rc = catalog_load(src, &cs, err);
	if (!rc)
		rc = catalog_load(dst, &cd, err);
	size_t *order = NULL;
	struct plan_table *pt = NULL;
	size_t npt = 0;
	if (!rc) {
		/* non-empty target? */
		for (size_t i = 0; !force && !rc && i < sizeof data_tables / sizeof *data_tables;
		     i++) {
			if (!table_find(&cd, data_tables[i]))
				continue;
			char *sql = xasprintf("SELECT COUNT(*) FROM \"%s\"", data_tables[i]);
			int64_t cnt = 0;
			if (db_int64f(dst, &cnt, sql, "") != DB_OK) {
				*err = xasprintf("lecture de la cible impossible : %s",
				                 db_errmsg(dst));
				rc = -1;
			} else if (cnt) {
				*err = xasprintf(
				    "la cible n'est pas vide (%lld ligne%s dans %s) : copie "
				    "refusée (--force pour la remplacer)",
				    (long long)cnt, cnt > 1 ? "s" : "", data_tables[i]);
				rc = -1;
			}
			free(sql);
		}
	}
	if (!rc) {
		/* the copy plan, in the target's foreign-key order */
		order = fk_order(&cd);
		pt = xcalloc(cd.n + 1, sizeof *pt);
		for (size_t i = 0; i < cs.n && !rc; i++)
			if (!table_find(&cd, cs.t[i].name)) {
				*err =
				    xasprintf("la table %s de la source n'existe pas dans la cible",
				              cs.t[i].name);
				rc = -1;
			}
		for (size_t i = 0; i < cd.n && !rc; i++) {
			struct table *d = &cd.t[order[i]], *s = table_find(&cs, d->name);
			if (!s)
				continue;
			struct plan_table *p = &pt[npt++];
			p->src = s;
			p->dst = d;
			p->cs = xmalloc((size_t)(s->ncols + 1) * sizeof *p->cs);
			p->cd = xmalloc((size_t)(s->ncols + 1) * sizeof *p->cd);
			for (int k = 0; k < s->ncols; k++)
				for (int j = 0; j < d->ncols; j++)
					if (!strcmp(s->cols[k].name, d->cols[j].name)) {
						p->cs[p->n] = k;
						p->cd[p->n++] = j;
					}
			if (p->n < s->ncols) {
				*err = xasprintf(
				    "la table %s n'a pas les mêmes colonnes des deux côtés",
				    d->name);
				rc = -1;
			}
		}
	}
	/* empty the target (the migrations' reference rows, or everything with force), children
	 * first */
	for (size_t i = npt; !rc && i-- > 0;) {
		char *sql = xasprintf("DELETE FROM \"%s\"", pt[i].dst->name);
		if (db_exec(dst, sql) != DB_OK) {
			*err = xasprintf("la table %s de la cible ne peut être vidée : %s",
			                 pt[i].dst->name, db_errmsg(dst));
			rc = -1;
		}
		free(sql);
	}
	if (!rc)
		rep->t = xcalloc(npt + 1, sizeof *rep->t);
	for (size_t i = 0; !rc && i < npt; i++) {
		struct dbcopy_table *o = &rep->t[rep->n++];
		o->name = xstrdup(pt[i].dst->name);
		int64_t t1 = time_mono_us();
		rc = table_copy(src, dst, &pt[i], src_pg, dst_pg, o, err);
		rep->rows += o->rows_src;
		if (progress && !rc)
			fprintf(stderr, "  %-28s %12lld lignes  %6.1f s\n", o->name,
			        (long long)o->rows_src, (double)(time_mono_us() - t1) / 1e6);
	}
	if (!rc)
		rc = dbcopy_reset_sequences(dst, err);
	/* verification: the target as written, inside its transaction */
	int bad = 0;
	for (size_t i = 0; !rc && i < npt; i++) {
		struct dbcopy_table *o = &rep->t[i];
		rc = table_sum(dst, pt[i].dst, pt[i].cd, pt[i].n, dst_pg, &o->rows_dst, o->sum_dst,
		               err);
		if (!rc && (o->rows_dst != o->rows_src || strcmp(o->sum_src, o->sum_dst) != 0))
			bad++;
	}
	if (!rc && bad) {
		*err = xasprintf("vérification échouée : %d table%s diffère%s de la source ; rien "
		                 "n'a été écrit",
		                 bad, bad > 1 ? "s" : "", bad > 1 ? "nt" : "");
		rc = -1;
	}
	if (!rc && db_commit(dst) != DB_OK) {
		*err = xasprintf("validation de la copie impossible : %s", db_errmsg(dst));
		rc = -1;
	}
	if (rc)
		db_rollback(dst);
	db_rollback(src);
	for (size_t i = 0; i < npt; i++) {
		free(pt[i].cs);
		free(pt[i].cd);
	}
	free(pt);
	free(order);
	catalog_free(&cs);
	catalog_free(&cd);
	rep->seconds = (double)(time_mono_us() - t0) / 1e6;
	return rc ? -1 : 0;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static void unlink_sqlite(const char *path)
{
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (int i = 0; i < 4; i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		unlink(p);
		free(p);
	}
}

/* "ok" from PRAGMA quick_check on a SQLite connection; 0 when intact. */
static int sqlite_intact(struct db *db, char **detail)
{
	struct db_stmt *st = db_prepare(db, "PRAGMA quick_check");
	int ok =
	    st && db_step(st) == DB_ROW && db_col_text(st, 0) && !strcmp(db_col_text(st, 0), "ok");
	if (!ok)
		*detail = xstrdup(st && db_col_text(st, 0) ? db_col_text(st, 0) : db_errmsg(db));
	db_finalize(st);
	return ok ? 0 : -1;
}

int dbcopy_backup(struct db *src, const char *path, int progress, struct dbcopy_report *rep,
                  char **err)
{
	*err = NULL;
	memset(rep, 0, sizeof *rep);
	if (file_exists(path)) {
		*err = xasprintf("« %s » existe déjà : choisissez un autre fichier", path);
		return -1;
	}
	int64_t t0 = time_mono_us();
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	unlink_sqlite(tmp);
	int rc = 0;
	if (!strcmp(db_backend(src), "sqlite")) {
		/* VACUUM INTO reads the whole base in one read transaction: a consistent snapshot
		 * while the server keeps writing (WAL) */
		if (db_execf(src, "VACUUM INTO ?", "s", tmp) != DB_OK) {
			*err = xasprintf("sauvegarde impossible : %s", db_errmsg(src));
			rc = -1;
		}
		if (!rc) {
			struct db *b = db_open(tmp, err);
			char *detail = NULL;
			if (!b)
				rc = -1;
			else if (sqlite_intact(b, &detail)) {
				*err = xasprintf("la sauvegarde écrite est illisible : %s", detail);
				free(detail);
				rc = -1;
			} else {
				rc = dbcopy_checksums(b, rep, err);
				db_exec(b, "PRAGMA journal_mode = DELETE");
			}
			db_close(b);
		}
	} else {
		/* PostgreSQL: a verified copy into a new SQLite file, read inside one REPEATABLE
		 * READ transaction */
		struct db *b = db_open(tmp, err);
		if (!b)
			rc = -1;
		else if (db_migrate(b) != DB_OK) {
			*err = xstrdup("création du schéma de la sauvegarde impossible");
			rc = -1;
		} else {
			rc = dbcopy_run(src, b, 0, progress, rep, err);
			db_exec(b, "PRAGMA journal_mode = DELETE");
		}
		db_close(b);
	}
	if (!rc && rename(tmp, path) != 0) {
		*err = xasprintf("« %s » ne peut être écrit : %s", path, strerror(errno));
		rc = -1;
	}
	unlink_sqlite(tmp);
	free(tmp);
	rep->seconds = (double)(time_mono_us() - t0) / 1e6;
	return rc ? -1 : 0;
}

int dbcopy_restore(const char *path, struct db *dst, int force, int progress,
                   struct dbcopy_report *rep, char **err)
{
	*err = NULL;
	memset(rep, 0, sizeof *rep);
	FILE *f = fopen(path, "rb");
	if (!f) {
		*err = xasprintf("« %s » ne peut être lu : %s", path, strerror(errno));
		return -1;
	}
	char head[16] = {0};
	size_t got = fread(head, 1, sizeof head, f);
	fclose(f);
	if (got != sizeof head || memcmp(head, "SQLite format 3", 16) != 0) {
		*err = xasprintf(
		    "« %s » n'est pas une sauvegarde maillage (fichier SQLite attendu)", path);
		return -1;
	}
	struct db *src = db_open(path, err);
	if (!src) {
		char *e = *err;
		*err = xasprintf("sauvegarde illisible : %s", e ? e : "");
		free(e);
		return -1;
	}
	char *detail = NULL;
	int rc = 0;
	if (sqlite_intact(src, &detail)) {
		*err = xasprintf("la sauvegarde « %s » est endommagée : %s", path, detail);
		free(detail);
		rc = -1;
	}
	if (!rc) {
		int v = db_schema_version(src), have = db_schema_version(dst);
		if (v == 0) {
			*err = xasprintf(
			    "« %s » n'est pas une sauvegarde maillage (aucune migration)", path);
			rc = -1;
		} else if (v > have) {
			*err =
			    xasprintf("la sauvegarde est au schéma %d, plus récent que celui de ce "
			              "programme (%d) : restaurez-la avec une version plus récente",
			              v, have);
			rc = -1;
		} else if (v < have) {
			*err = xasprintf(
			    "la sauvegarde est au schéma %d, ce programme au schéma %d : "
			    "mettez à jour une copie de la sauvegarde (maillage init --db "
			    "COPIE) puis restaurez cette copie",
			    v, have);
			rc = -1;
		}
	}
	if (!rc)
		rc = dbcopy_run(src, dst, force, progress, rep, err);
	db_close(src);
	return rc ? -1 : 0;
}

/* --- commands -----------------------------------------------------------------------------------
 */

static struct db *cli_open(const char *url, int migrate, int must_exist)
{
	if (!url || !*url) {
		fprintf(stderr, "maillage : base de données non indiquée\n");
		return NULL;
	}
	if (must_exist && !db_is_pg_url(url) && !file_exists(url)) {
		fprintf(stderr, "maillage : la base « %s » n'existe pas\n", url);
		return NULL;
	}
	char *err = NULL;
	struct db *db = db_open(url, &err);
	if (!db) {
		fprintf(stderr, "maillage : %s\n", err ? err : "ouverture impossible");
		free(err);
		return NULL;
	}
	if (migrate && db_migrate(db) != DB_OK) {
		fprintf(stderr, "maillage : la mise à jour du schéma de « %s » a échoué\n", url);
		db_close(db);
		return NULL;
	}
	return db;
}

int dbcopy_cli_copy(const char *from, const char *to, int force)
{
	if (!from || !to) {
		fprintf(stderr, "maillage db copy : indiquez --from SOURCE et --to CIBLE\n");
		return 2;
	}
	if (!strcmp(from, to)) {
		fprintf(stderr, "maillage db copy : la source et la cible sont la même base\n");
		return 2;
	}
	struct db *src = cli_open(from, 0, 1);
	if (!src)
		return 1;
	struct db *dst = cli_open(to, 1, 0);
	if (!dst) {
		db_close(src);
		return 1;
	}
	struct dbcopy_report rep;
	char *err = NULL;
	int rc = dbcopy_run(src, dst, force, 1, &rep, &err);
	db_close(src);
	db_close(dst);
	if (rep.n)
		dbcopy_report_print(stdout, &rep);
	if (rc) {
		fprintf(stderr, "maillage db copy : %s\n", err);
		free(err);
	} else
		printf("Copie vérifiée en %.1f s : %s → %s\n", rep.seconds, from, to);
	dbcopy_report_free(&rep);
	return rc ? 1 : 0;
}

int dbcopy_cli_backup(const char *url, const char *out)
{
	if (!out) {
		fprintf(stderr, "maillage backup : indiquez le fichier à écrire avec -o FICHIER\n");
		return 2;
	}
	struct db *src = cli_open(url, 0, 1);
	if (!src)
		return 1;
	struct dbcopy_report rep;
	char *err = NULL;
	int rc = dbcopy_backup(src, out, 1, &rep, &err);
	db_close(src);
	if (rep.n && !rc)
		dbcopy_report_print(stdout, &rep);
	if (rc) {
		fprintf(stderr, "maillage backup : %s\n", err);
		free(err);
	} else
		printf("Sauvegarde écrite en %.1f s : %s\n", rep.seconds, out);
	dbcopy_report_free(&rep);
	return rc ? 1 : 0;
}

int dbcopy_cli_restore(const char *url, const char *file, int force)
{
	struct db *dst = cli_open(url, 1, 0);
	if (!dst)
		return 1;
	struct dbcopy_report rep;
	char *err = NULL;
	int rc = dbcopy_restore(file, dst, force, 1, &rep, &err);
	db_close(dst);
	if (rep.n)
		dbcopy_report_print(stdout, &rep);
	if (rc) {
		fprintf(stderr, "maillage restore : %s\n", err);
		free(err);
	} else
		printf("Restauration vérifiée en %.1f s : %s → %s\n", rep.seconds, file, url);
	dbcopy_report_free(&rep);
	return rc ? 1 : 0;
}
