/* render_topology.c - topology and route for people (see render.h).
 *
 * DESIGN: topology is one line about the graph (version, workers, when it
 * was measured) and a table of connections, the strongest first: the
 * fast lanes, where forwarded traffic goes, lead. route is the path and
 * what it costs.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "human.h"

static double strength_of(const json_t *c)
{
	double s = 0;

	render_number(c, "strength", &s);
	return s;
}

/* Strongest first; equal strengths keep the server's order (by index). */
static const json_t *const *sort_base;

static int by_strength(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double sx = strength_of(sort_base[x]), sy = strength_of(sort_base[y]);

	if (sx != sy)
		return sx > sy ? -1 : 1;
	return x < y ? -1 : x > y;
}

int render_topology(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"connection", TABLE_LEFT}, {"type", TABLE_LEFT},      {"strength", TABLE_RIGHT},
		{"cost", TABLE_RIGHT},      {"share", TABLE_RIGHT},    {"usage", TABLE_RIGHT},
		{"rate", TABLE_RIGHT},      {"last accessed", TABLE_LEFT}};
	const json_t *conns = json_object_get(res, "connections"), *c;
	size_t n = json_array_size(conns), i, *order;
	const json_t **items;
	char v[64], w[32];
	struct table t;

	if (!json_is_array(conns) || json_object_get(res, "version") == NULL)
		return render_fail(r, "topology: the answer needs \"version\" and a "
				      "\"connections\" array");
	fprintf(r->out, "version %s, %s workers, updated %s%s\n\n",
		render_value(json_object_get(res, "version"), v, sizeof(v)),
		render_value(json_object_get(res, "workers"), w, sizeof(w)),
		render_string(res, "updated_at", "-"),
		json_is_false(json_object_get(res, "measured"))
			? " (no forwarding counters from the data plane: every connection at the "
			  "floor)"
			: "");
	order = malloc((n ? n : 1) * sizeof(*order));
	items = malloc((n ? n : 1) * sizeof(*items));
	if (order == NULL || items == NULL) {
		free(order);
		free(items);
		return render_fail(r, "out of memory");
	}
	json_array_foreach(conns, i, c) {
		order[i] = i;
		items[i] = c;
	}
	sort_base = items;
	qsort(order, n, sizeof(*order), by_strength);
	table_init(&t, cols, 8);
	for (i = 0; i < n; i++) {
		char a[HUMAN_BUF], b[HUMAN_BUF], d[HUMAN_BUF];
		double x;

		c = items[order[i]];
		table_cell(&t, "%s", render_string(c, "connection_id", "?"));
		table_cell(&t, "%s", render_string(c, "connection_type", "-"));
		if (render_number(c, "strength", &x))
			table_cell(&t, "%.3f", x);
		else
			table_cell(&t, "-");
		table_cell(&t, "%s", render_value(json_object_get(c, "cost"), b, sizeof(b)));
		table_cell(&t, "%s",
			   render_number(c, "share", &x) ? human_percent(x, d, sizeof(d)) : "-");
		table_cell(&t, "%s",
			   render_number(c, "usage_count", &x) ? human_count(x, a, sizeof(a)) : "-");
		table_cell(&t, "%s",
			   render_number(c, "rate_per_s", &x) ? human_rate(x, b, sizeof(b)) : "-");
		table_cell(&t, "%s", render_string(c, "last_accessed", "never"));
		table_end_row(&t);
	}
	free(order);
	free(items);
	return render_table(r, &t);
}

int render_route(struct render *r, const json_t *res)
{
	const json_t *path = json_object_get(res, "path"), *p;
	char cost[32], hops[32];
	size_t i;

	if (!json_is_array(path) || json_array_size(path) == 0)
		return render_fail(r, "route: the answer has no \"path\" array");
	json_array_foreach(path, i, p)
		fprintf(r->out, "%s%s", i ? " -> " : "", json_is_string(p) ? json_string_value(p) : "?");
	fprintf(r->out, "\nhops %s, cost %s%s\n",
		render_value(json_object_get(res, "hops"), hops, sizeof(hops)),
		render_value(json_object_get(res, "cost"), cost, sizeof(cost)),
		json_is_true(json_object_get(res, "cached")) ? " (from the route cache)" : "");
	return 0;
}
