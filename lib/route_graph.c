/* route_graph.c - adjacency lists of the topology graph (see route_graph.h). */
#include "route_graph.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int route_graph_init(struct route_graph *g, uint32_t n_nodes)
{
	memset(g, 0, sizeof(*g));
	/* node ids must fit the path and heap records' 31 bits of room */
	if (n_nodes == 0 || n_nodes > (1u << 31))
		return -EINVAL;
	g->adj = calloc(n_nodes, sizeof(*g->adj));
	if (g->adj == NULL)
		return -ENOMEM;
	g->n_nodes = n_nodes;
	return 0;
}

void route_graph_free(struct route_graph *g)
{
	if (g->adj != NULL) {
		for (uint32_t i = 0; i < g->n_nodes; i++)
			free(g->adj[i].arcs);
		free(g->adj);
	}
	memset(g, 0, sizeof(*g));
}

struct route_arc *route_graph_find(const struct route_graph *g, uint32_t a, uint32_t b)
{
	if (a >= g->n_nodes)
		return NULL;
	struct route_adj *l = &g->adj[a];

	for (uint32_t i = 0; i < l->n; i++)
		if (l->arcs[i].to == b)
			return &l->arcs[i];
	return NULL;
}

/* Set one arc; an arc that exists keeps its usage. */
static int set_arc(struct route_graph *g, uint32_t a, uint32_t b, double strength, uint32_t flags)
{
	struct route_arc *arc = route_graph_find(g, a, b);

	if (arc != NULL) {
		arc->strength = strength;
		arc->cost = route_cost(strength);
		arc->flags = flags;
		return 0;
	}
	struct route_adj *l = &g->adj[a];

	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 4;
		struct route_arc *arcs = realloc(l->arcs, (size_t)cap * sizeof(*arcs));

		if (arcs == NULL)
			return -ENOMEM;
		l->arcs = arcs;
		l->cap = cap;
	}
	l->arcs[l->n++] = (struct route_arc){.to = b, .flags = flags, .strength = strength,
					     .cost = route_cost(strength)};
	g->n_arcs++;
	return 0;
}

static int remove_arc(struct route_graph *g, uint32_t a, uint32_t b)
{
	struct route_arc *arc = route_graph_find(g, a, b);

	if (arc == NULL)
		return -ENOENT;
	struct route_adj *l = &g->adj[a];

	*arc = l->arcs[--l->n]; /* order does not matter: ties are broken by node id */
	g->n_arcs--;
	return 0;
}

int route_graph_set(struct route_graph *g, uint32_t a, uint32_t b, double strength, bool directed)
{
	if (a >= g->n_nodes || b >= g->n_nodes || a == b || !isfinite(strength) || strength <= 0)
		return -EINVAL;
	int rc = set_arc(g, a, b, strength, directed ? 0 : ROUTE_ARC_UNDIRECTED);

	if (rc == 0 && !directed)
		rc = set_arc(g, b, a, strength, ROUTE_ARC_UNDIRECTED);
	g->version++; /* also after a half-done change: caches must not trust it */
	return rc;
}

int route_graph_remove(struct route_graph *g, uint32_t a, uint32_t b, bool directed)
{
	if (a >= g->n_nodes || b >= g->n_nodes)
		return -EINVAL;
	int rc = remove_arc(g, a, b);

	if (rc == 0 && !directed)
		rc = remove_arc(g, b, a);
	if (rc == 0)
		g->version++;
	return rc;
}

int route_graph_add_usage(struct route_graph *g, uint32_t a, uint32_t b, uint64_t n)
{
	struct route_arc *arc = route_graph_find(g, a, b);

	if (arc == NULL)
		return -ENOENT;
	arc->usage += n;
	return 0;
}

int route_graph_build(struct route_graph *g, uint32_t n_nodes, const struct route_edge *edges,
		      size_t n_edges, size_t *bad)
{
	int rc = route_graph_init(g, n_nodes);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n_edges; i++) {
		rc = route_graph_set(g, edges[i].a, edges[i].b, edges[i].strength, edges[i].directed);
		if (rc != 0) {
			if (bad != NULL)
				*bad = i;
			route_graph_free(g);
			return rc;
		}
	}
	return 0;
}
