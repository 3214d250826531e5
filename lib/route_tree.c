/* route_tree.c - shortest-path trees per source and their cache (see route_tree.h). */
#include "route_tree.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What the search reports while it runs: the first label of each node. */
struct settle_ctx {
	struct route_tree *t;
	uint32_t deepest; /* most hops of a node's route */
};

static void on_settle(void *ctx, uint32_t label, uint32_t node, uint32_t hops, double cost)
{
	struct settle_ctx *x = ctx;
	struct route_tree_node *tn = &x->t->node[node];

	if (tn->label != ROUTE_NO_LABEL)
		return; /* a later label of the node: dearer, fewer hops */
	*tn = (struct route_tree_node){.cost = cost, .label = label, .hops = hops};
	if (hops > x->deepest)
		x->deepest = hops;
}

static int grow_nodes(struct route_tree *t, uint32_t n)
{
	if (n > t->nodes_cap) {
		struct route_tree_node *p = realloc(t->node, (size_t)n * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		t->node = p;
		t->nodes_cap = n;
	}
	t->n_nodes = n;
	return 0;
}

/* One search into t: the per-node routes, then the labels copied out of the
 * scratch (which the next search reuses). */
static int search_into(struct route_tree *t, const struct route_graph *g, struct route_scratch *s,
		       uint32_t src, uint32_t max_hops, uint32_t *deepest)
{
	struct settle_ctx x = {.t = t};
	int rc;

	memset(t->node, 0xff, (size_t)t->n_nodes * sizeof(*t->node)); /* label: ROUTE_NO_LABEL */
	rc = route_search_all(g, s, src, max_hops, on_settle, &x);
	if (rc != 0)
		return rc;
	if (s->labels_n > t->labels_cap) {
		struct route_label *l = realloc(t->labels, (size_t)s->labels_n * sizeof(*l));

		if (l == NULL)
			return -ENOMEM;
		t->labels = l;
		t->labels_cap = s->labels_n;
	}
	memcpy(t->labels, s->labels, (size_t)s->labels_n * sizeof(*t->labels));
	t->labels_n = s->labels_n;
	*deepest = x.deepest;
	return 0;
}

int route_tree_build(struct route_tree *t, const struct route_graph *g, struct route_scratch *s,
		     uint32_t src, uint32_t max_hops)
{
	uint32_t deepest = 0;
	int rc;

	t->version = 0;
	if (src >= g->n_nodes || g->n_nodes > s->n_nodes)
		return -EINVAL;
	rc = grow_nodes(t, g->n_nodes);
	if (rc != 0)
		return rc;
	/* plain first: unless a plain route is longer than the limit, the
	 * bounded search would find the same routes with more work */
	rc = search_into(t, g, s, src, 0, &deepest);
	t->plain = true;
	if (rc == 0 && max_hops != 0 && deepest > max_hops) {
		rc = search_into(t, g, s, src, max_hops, &deepest);
		t->plain = false;
	}
	if (rc != 0)
		return rc;
	t->src = src;
	t->max_hops = max_hops;
	t->version = g->version + 1;
	return 0;
}

struct route_result route_tree_path(const struct route_tree *t, uint32_t dst, uint32_t *path,
				    uint32_t path_cap)
{
	struct route_result r = {.status = ROUTE_UNREACHABLE, .cost = INFINITY};

	if (dst >= t->n_nodes) {
		r.status = ROUTE_BAD_NODE;
		return r;
	}
	const struct route_tree_node *tn = &t->node[dst];

	if (tn->label == ROUTE_NO_LABEL)
		return r;
	r.status = ROUTE_OK;
	r.cost = tn->cost;
	r.hops = tn->hops;
	if (path_cap < r.hops + 1u) {
		r.status = ROUTE_TOO_LONG;
		return r;
	}
	uint32_t k = r.hops;

	for (uint32_t l = tn->label; l != ROUTE_NO_LABEL; l = t->labels[l].pred)
		path[k--] = t->labels[l].node;
	return r;
}

void route_tree_free(struct route_tree *t)
{
	free(t->node);
	free(t->labels);
	memset(t, 0, sizeof(*t));
}

int route_tree_cache_init(struct route_tree_cache *tc, uint32_t n_trees)
{
	uint32_t n = ROUTE_TREE_WAYS;

	memset(tc, 0, sizeof(*tc));
	if (n_trees == 0 || n_trees > (1u << 20))
		return -EINVAL;
	while (n < n_trees)
		n *= 2;
	tc->trees = calloc(n, sizeof(*tc->trees));
	if (tc->trees == NULL)
		return -ENOMEM;
	tc->set_mask = n / ROUTE_TREE_WAYS - 1;
	return 0;
}

void route_tree_cache_free(struct route_tree_cache *tc)
{
	if (tc->trees != NULL)
		for (uint32_t i = 0; i < (tc->set_mask + 1) * ROUTE_TREE_WAYS; i++)
			route_tree_free(&tc->trees[i]);
	free(tc->trees);
	memset(tc, 0, sizeof(*tc));
}

void route_tree_cache_clear(struct route_tree_cache *tc)
{
	for (uint32_t i = 0; i < (tc->set_mask + 1) * ROUTE_TREE_WAYS; i++)
		tc->trees[i].version = 0; /* the arrays stay for the next build */
	tc->hits = tc->builds = tc->bounded_builds = 0;
}

static uint32_t set_of(const struct route_tree_cache *tc, uint32_t src, uint32_t max_hops)
{
	uint64_t x = ((uint64_t)src << 32 | max_hops) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(x >> 40) & tc->set_mask;
}

struct route_result route_tree_cache_route(struct route_tree_cache *tc,
					   const struct route_graph *g, struct route_scratch *s,
					   uint32_t src, uint32_t dst, uint32_t max_hops,
					   uint32_t *path, uint32_t path_cap)
{
	struct route_tree *ways = &tc->trees[(size_t)set_of(tc, src, max_hops) * ROUTE_TREE_WAYS];
	uint64_t cur = g->version + 1;
	struct route_tree *t = NULL, *victim = &ways[0];

	if (src >= g->n_nodes || dst >= g->n_nodes || g->n_nodes > s->n_nodes)
		return (struct route_result){.status = ROUTE_BAD_NODE, .cost = INFINITY};
	for (unsigned w = 0; w < ROUTE_TREE_WAYS; w++) {
		struct route_tree *x = &ways[w];

		if (x->version == cur && x->src == src && x->max_hops == max_hops) {
			t = x;
			break;
		}
		/* a stale or empty way first, else the least recently used */
		if (victim->version == cur && (x->version != cur || x->used < victim->used))
			victim = x;
	}
	if (t != NULL) {
		tc->hits++;
	} else {
		if (route_tree_build(victim, g, s, src, max_hops) != 0)
			return (struct route_result){.status = ROUTE_NOMEM, .cost = INFINITY};
		tc->builds++;
		tc->bounded_builds += !victim->plain;
		t = victim;
	}
	t->used = ++tc->clock;
	return route_tree_path(t, dst, path, path_cap);
}
