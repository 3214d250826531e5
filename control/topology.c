/* topology.c - the workers' topology from forwarding counters (see topology.h). */
#include "topology.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_CACHE_ORDER 12 /* 4096 routes: every pair of 64 workers */
#define TREES 64

int topology_init(struct topology *t, double decay)
{
	memset(t, 0, sizeof(*t));
	if (!(decay > 0 && decay <= 1))
		return -EINVAL;
	t->decay = decay;
	if (route_tree_cache_init(&t->trees, TREES) != 0 ||
	    route_cache_init(&t->routes, ROUTE_CACHE_ORDER) != 0) {
		topology_free(t);
		return -ENOMEM;
	}
	route_cache_use_trees(&t->routes, &t->trees);
	return 0;
}

/* Back to no workers (the caches stay allocated). */
static void drop_workers(struct topology *t)
{
	free(t->links);
	t->links = NULL;
	route_graph_free(&t->graph);
	route_scratch_free(&t->scratch);
	t->workers = 0;
}

void topology_free(struct topology *t)
{
	drop_workers(t);
	route_cache_free(&t->routes);
	route_tree_cache_free(&t->trees);
}

const char *topology_type(double strength)
{
	return strength >= TOPOLOGY_FAST_LANE ? "fast_lane"
	       : strength >= TOPOLOGY_STANDARD ? "standard"
					       : "experimental";
}

/* A new set of workers: every connection at the floor, counts from 0. */
static int rebuild(struct topology *t, uint32_t workers)
{
	drop_workers(t);
	/* the new graph's versions start again from 0: no old answer may match */
	route_cache_clear(&t->routes);
	route_tree_cache_clear(&t->trees);
	t->links = calloc((size_t)workers * workers, sizeof(*t->links));
	if (t->links == NULL || route_graph_init(&t->graph, workers) != 0 ||
	    route_scratch_init(&t->scratch, workers) != 0)
		goto nomem;
	t->workers = workers;
	for (uint32_t i = 0; i < workers; i++)
		for (uint32_t j = 0; j < workers; j++) {
			struct topology_link *l = topology_link_at(t, i, j);

			l->rate = NAN;
			l->strength = l->published = TOPOLOGY_FLOOR;
			if (i != j && route_graph_set(&t->graph, i, j, TOPOLOGY_FLOOR, true) != 0)
				goto nomem;
		}
	t->version++;
	t->samples = 0;
	return 0;
nomem:
	drop_workers(t);
	return -ENOMEM;
}

/* Counts, decayed counts and rates of one sample. */
static void count(struct topology *t, const uint64_t *fwd, double interval_s, double wall_now)
{
	uint32_t n = t->workers;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			struct topology_link *l = topology_link_at(t, i, j);
			uint64_t now = fwd != NULL && i != j ? fwd[(size_t)i * n + j] : l->count;
			/* the first sample: the whole history is its delta */
			uint64_t delta = t->samples == 0 || now < l->count ? now : now - l->count;

			if (i == j)
				continue;
			l->recent = t->decay * l->recent + (double)delta;
			l->rate = t->samples > 0 && interval_s > 0 ? (double)delta / interval_s : NAN;
			if (delta > 0 && t->samples > 0)
				l->last_accessed = wall_now;
			l->count = now;
		}
}

/* Shares and strengths from the decayed counts; true when a change matters
 * to routes (see topology.h). */
static bool strengths(struct topology *t)
{
	uint32_t n = t->workers;
	double sum = 0, max = 0;
	bool matters = false;

	for (size_t k = 0; k < (size_t)n * n; k++) {
		sum += t->links[k].recent;
		if (t->links[k].recent > max)
			max = t->links[k].recent;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			struct topology_link *l = topology_link_at(t, i, j);

			if (i == j)
				continue;
			l->share = sum > 0 ? l->recent / sum : 0;
			l->strength = max > 0 ? fmax(TOPOLOGY_FLOOR, l->recent / max) : TOPOLOGY_FLOOR;
			if (fabs(l->strength - l->published) >= TOPOLOGY_REPUBLISH ||
			    strcmp(topology_type(l->strength), topology_type(l->published)) != 0)
				matters = true;
		}
	return matters;
}

static int publish(struct topology *t)
{
	uint32_t n = t->workers;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			struct topology_link *l = topology_link_at(t, i, j);

			if (i == j || l->published == l->strength)
				continue;
			l->published = l->strength;
			if (route_graph_set(&t->graph, i, j, l->strength, true) != 0)
				return -ENOMEM; /* not reached: the arc exists */
		}
	t->version++;
	return 0;
}

int topology_sample(struct topology *t, uint32_t workers, const uint64_t *fwd, double interval_s,
		    double wall_now)
{
	int rc;

	if (workers == 0 || workers > TOPOLOGY_WORKERS_MAX)
		return -EINVAL;
	if (workers != t->workers && (rc = rebuild(t, workers)) != 0)
		return rc;
	count(t, fwd, interval_s, wall_now);
	t->measured = fwd != NULL;
	t->samples++;
	t->updated_at = wall_now;
	return strengths(t) ? publish(t) : 0;
}

struct route_result topology_route(struct topology *t, uint32_t from, uint32_t to,
				   uint32_t max_hops, uint32_t *path, uint32_t path_cap,
				   bool *cached)
{
	uint64_t hits = t->routes.hits;
	struct route_result r;

	if (t->workers == 0 || from >= t->workers || to >= t->workers) {
		*cached = false;
		return (struct route_result){.status = ROUTE_BAD_NODE, .cost = INFINITY};
	}
	r = route_cache_route(&t->routes, &t->graph, &t->scratch, from, to, max_hops, path,
			      path_cap);
	*cached = t->routes.hits != hits;
	return r;
}
