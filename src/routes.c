/* routes: the list of route tables (each declared beside its handlers) and path matching. */
#include "http.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

extern const struct route asset_routes[];
extern const struct route home_routes[];
extern const struct route plan_routes[];
extern const struct route geo_routes[];
extern const struct route actor_routes[];
extern const struct route contact_routes[];
extern const struct route network_routes[];
extern const struct route account_routes[];
extern const struct route admin_routes[];
extern const struct route plan_edit_routes[];
extern const struct route fiche_routes[];
extern const struct route cycle_routes[];
extern const struct route plan_io_routes[];
extern const struct route search_routes[];
extern const struct route dashboard_routes[];
extern const struct route report_routes[];
extern const struct route portal_routes[];
extern const struct route indicator_routes[];
extern const struct route need_routes[];
extern const struct route offer_routes[];
extern const struct route access_routes[];
extern const struct route datainclusion_routes[];
extern const struct route map_routes[];
extern const struct route synthesis_routes[];
extern const struct route governance_routes[];
extern const struct route notifications_routes[];
extern const struct route spiral_routes[];
extern const struct route rollup_routes[];
extern const struct route grids_routes[];

const struct route *const route_tables[] = {
    asset_routes,         home_routes,    plan_routes,      plan_edit_routes,     indicator_routes,
    fiche_routes,         cycle_routes,   plan_io_routes,   search_routes,        geo_routes,
    actor_routes,         contact_routes, network_routes,   account_routes,       admin_routes,
    dashboard_routes,     report_routes,  portal_routes,    need_routes,          offer_routes,
    access_routes,        map_routes,     synthesis_routes, datainclusion_routes, governance_routes,
    notifications_routes, spiral_routes,  rollup_routes,    grids_routes,         NULL,
};

int route_match(const char *pattern, const char *path, const char **params, int *nparams,
                char **store)
{
	/* Captures are copied into one buffer as NUL-separated strings. */
	size_t plen = strlen(path);
	char *buf = xmalloc(plen + 1);
	char *o = buf;
	int np = 0;
	const char *p = pattern, *s = path;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				goto fail;
			int rest = close - p == 2 && p[1] == '*';
			const char *start = s;
			while (*s && (rest || *s != '/'))
				s++;
			if (s == start || np >= 8)
				goto fail;
			params[np++] = o;
			memcpy(o, start, (size_t)(s - start));
			o += s - start;
			*o++ = '\0';
			p = close + 1;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*s)
		goto fail;
	*nparams = np;
	*store = buf;
	return 1;
fail:
	free(buf);
	return 0;
}
