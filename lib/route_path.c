/* route_path.c - hop-bounded Dijkstra over route_graph (see route_path.h). */
#include "route_path.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_LABEL ROUTE_NO_LABEL

/* An entry of the node heap (route_search_all without a limit). */
struct route_node_entry {
	double cost;
	uint32_t node;
};

struct route_heap_item {
	double cost;
	uint32_t node, hops;
	uint32_t pred;  /* predecessor node (tie-break), NO_LABEL at src */
	uint32_t label; /* predecessor's settled label */
};

int route_scratch_init(struct route_scratch *s, uint32_t n_nodes)
{
	memset(s, 0, sizeof(*s));
	s->node = calloc(n_nodes, sizeof(*s->node));
	s->node_heap = malloc((size_t)n_nodes * sizeof(*s->node_heap));
	if (s->node == NULL || s->node_heap == NULL) {
		route_scratch_free(s);
		return -ENOMEM;
	}
	s->n_nodes = n_nodes;
	return 0;
}

void route_scratch_free(struct route_scratch *s)
{
	free(s->node);
	free(s->node_heap);
	free(s->heap);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

const char *route_status_name(enum route_status st)
{
	switch (st) {
	case ROUTE_OK: return "ok";
	case ROUTE_UNREACHABLE: return "unreachable";
	case ROUTE_BAD_NODE: return "bad node";
	case ROUTE_TOO_LONG: return "route longer than the buffer";
	case ROUTE_NOMEM: return "out of memory";
	}
	return "?";
}

static bool item_less(const struct route_heap_item *x, const struct route_heap_item *y)
{
	if (x->cost != y->cost)
		return x->cost < y->cost;
	if (x->node != y->node)
		return x->node < y->node;
	if (x->hops != y->hops)
		return x->hops < y->hops;
	return x->pred < y->pred;
}

static int heap_push(struct route_scratch *s, struct route_heap_item it)
{
	if (s->heap_n == s->heap_cap) {
		uint32_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
		struct route_heap_item *h = realloc(s->heap, (size_t)cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		s->heap = h;
		s->heap_cap = cap;
	}
	uint32_t i = s->heap_n++;

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!item_less(&it, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = it;
	return 0;
}

static struct route_heap_item heap_pop(struct route_scratch *s)
{
	struct route_heap_item top = s->heap[0];
	struct route_heap_item last = s->heap[--s->heap_n];
	uint32_t n = s->heap_n, i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && item_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!item_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n > 0)
		s->heap[i] = last;
	return top;
}

static int label_add(struct route_scratch *s, uint32_t node, uint32_t pred)
{
	if (s->labels_n == s->labels_cap) {
		uint32_t cap = s->labels_cap ? s->labels_cap * 2 : 1024;
		struct route_label *l = realloc(s->labels, (size_t)cap * sizeof(*l));

		if (l == NULL)
			return -ENOMEM;
		s->labels = l;
		s->labels_cap = cap;
	}
	s->labels[s->labels_n] = (struct route_label){.node = node, .pred = pred};
	return (int)s->labels_n++;
}

/* The state of node v in this query, made valid on first use. */
static inline struct route_node_state *touch(struct route_scratch *s, uint32_t v)
{
	struct route_node_state *ns = &s->node[v];

	if (ns->stamp != s->query)
		*ns = (struct route_node_state){.best = INFINITY, .stamp = s->query,
						.min_hops = UINT32_MAX, .best_hops = UINT32_MAX,
						.best_pred = NO_LABEL, .pos = NO_LABEL};
	return ns;
}

static void new_query(struct route_scratch *s)
{
	s->heap_n = 0;
	s->labels_n = 0;
	if (++s->query == 0) { /* wrapped: old stamps could match again */
		for (uint32_t v = 0; v < s->n_nodes; v++)
			s->node[v].stamp = 0;
		s->query = 1;
	}
}

/* The search itself, shared by route_find (stop when dst is settled) and
 * route_search_all (dst ROUTE_ALL: run to the end). Each settled label goes
 * to on_settle when given. The label index of dst (its route), -1 when the
 * heap ran dry first, -2 when a buffer could not grow; *cost, *hops of dst. */
static int search(const struct route_graph *g, struct route_scratch *s, uint32_t src,
		  uint32_t dst, uint32_t max_hops, route_settle_fn *on_settle, void *ctx,
		  double *cost, uint32_t *hops)
{
	uint32_t limit = max_hops ? max_hops : UINT32_MAX;

	new_query(s);
	struct route_node_state *sn = touch(s, src);

	sn->best = 0;
	sn->best_hops = 0;
	if (heap_push(s, (struct route_heap_item){0, src, 0, NO_LABEL, NO_LABEL}) != 0)
		return -2;
	while (s->heap_n > 0) {
		struct route_heap_item it = heap_pop(s);

		/* a label no better in hops than one already settled is dominated
		 * (without a limit: any second label of a node) */
		struct route_node_state *ns = &s->node[it.node]; /* touched when pushed */

		if (it.hops >= ns->min_hops || (max_hops == 0 && ns->min_hops != UINT32_MAX))
			continue;
		ns->min_hops = it.hops;
		int li = label_add(s, it.node, it.label);

		if (li < 0)
			return -2;
		if (on_settle != NULL)
			on_settle(ctx, (uint32_t)li, it.node, it.hops, it.cost);
		if (it.node == dst) {
			*cost = it.cost;
			*hops = it.hops;
			return li;
		}
		if (it.hops >= limit)
			continue;
		const struct route_adj *adj = &g->adj[it.node];

		for (uint32_t i = 0; i < adj->n; i++) {
			const struct route_arc *a = &adj->arcs[i];
			double c = it.cost + a->cost;
			struct route_node_state *ts = touch(s, a->to);

			if (it.hops + 1 >= ts->min_hops)
				continue; /* settled with fewer hops, and cheaper */
			/* without a limit a dearer label is useless; with one it may
			 * still be the route that fits, unless it also has no fewer
			 * hops than the cheapest. (Equal cost and hops are pushed: the
			 * heap then picks the lower predecessor.) */
			if (c > ts->best && (max_hops == 0 || it.hops + 1 >= ts->best_hops))
				continue;
			if (c < ts->best || (c == ts->best && it.hops + 1 < ts->best_hops)) {
				ts->best = c;
				ts->best_hops = it.hops + 1;
			}
			if (heap_push(s, (struct route_heap_item){c, a->to, it.hops + 1, it.node,
								  (uint32_t)li}) != 0)
				return -2;
		}
	}
	return -1;
}

struct route_result route_find(const struct route_graph *g, struct route_scratch *s, uint32_t src,
			       uint32_t dst, uint32_t max_hops, uint32_t *path, uint32_t path_cap)
{
	struct route_result r = {.status = ROUTE_UNREACHABLE, .cost = INFINITY};

	if (src >= g->n_nodes || dst >= g->n_nodes || g->n_nodes > s->n_nodes) {
		r.status = ROUTE_BAD_NODE;
		return r;
	}
	int li = search(g, s, src, dst, max_hops, NULL, NULL, &r.cost, &r.hops);

	if (li == -2) {
		r.status = ROUTE_NOMEM;
		r.cost = INFINITY;
		return r;
	}
	if (li < 0)
		return r;
	r.status = ROUTE_OK;
	if (path_cap < r.hops + 1u) {
		r.status = ROUTE_TOO_LONG;
		return r;
	}
	uint32_t k = r.hops;

	for (uint32_t l = (uint32_t)li; l != NO_LABEL; l = s->labels[l].pred)
		path[k--] = s->labels[l].node;
	return r;
}

/* The node heap of plain_all: one entry per node, with its best candidate
 * so far, ordered by (cost, id): the order in which route_find's heap
 * settles nodes, whose first label of a node is that node's best
 * candidate by (cost, hops, predecessor). The cost is kept in the entry so
 * a comparison reads no other memory. */
static inline bool entry_less(const struct route_node_entry *x, const struct route_node_entry *y)
{
	return x->cost < y->cost || (x->cost == y->cost && x->node < y->node);
}

static void node_heap_up(struct route_scratch *s, uint32_t i, struct route_node_entry e)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!entry_less(&e, &s->node_heap[p]))
			break;
		s->node_heap[i] = s->node_heap[p];
		s->node[s->node_heap[i].node].pos = i;
		i = p;
	}
	s->node_heap[i] = e;
	s->node[e.node].pos = i;
}

static uint32_t node_heap_pop(struct route_scratch *s)
{
	uint32_t top = s->node_heap[0].node;
	struct route_node_entry last = s->node_heap[--s->heap_n];
	uint32_t n = s->heap_n, i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && entry_less(&s->node_heap[c + 1], &s->node_heap[c]))
			c++;
		if (!entry_less(&s->node_heap[c], &last))
			break;
		s->node_heap[i] = s->node_heap[c];
		s->node[s->node_heap[i].node].pos = i;
		i = c;
	}
	if (n > 0) {
		s->node_heap[i] = last;
		s->node[last.node].pos = i;
	}
	return top;
}

/* search() without a limit and without a destination, over a heap of nodes
 * with decrease-key instead of a heap of labels: each node is pushed once
 * and popped once. It settles the same nodes in the same order with the
 * same predecessors as search() (whose every label but a node's first is
 * skipped without a limit), in fewer heap operations. A settled node's pos
 * holds its label. */
static int plain_all(const struct route_graph *g, struct route_scratch *s, uint32_t src,
		     route_settle_fn *on_settle, void *ctx)
{
	struct route_node_state *sn;

	new_query(s);
	sn = touch(s, src);
	sn->best = 0;
	sn->best_hops = 0;
	s->node_heap[0] = (struct route_node_entry){0, src};
	sn->pos = 0;
	s->heap_n = 1;
	while (s->heap_n > 0) {
		uint32_t u = node_heap_pop(s);
		struct route_node_state *us = &s->node[u];
		uint32_t pred = us->best_pred == NO_LABEL ? NO_LABEL : s->node[us->best_pred].pos;
		int li = label_add(s, u, pred);

		if (li < 0)
			return -2;
		us->min_hops = us->best_hops; /* settled */
		us->pos = (uint32_t)li;
		if (on_settle != NULL)
			on_settle(ctx, (uint32_t)li, u, us->best_hops, us->best);
		const struct route_adj *adj = &g->adj[u];
		/* in locals: the stores below could alias us for the compiler */
		const double cost_u = us->best;
		const uint32_t h = us->best_hops + 1;

		for (uint32_t i = 0; i < adj->n; i++) {
			const struct route_arc *a = &adj->arcs[i];
			double c = cost_u + a->cost;
			struct route_node_state *ts = touch(s, a->to);

			if (ts->min_hops != UINT32_MAX)
				continue; /* settled */
			if (ts->pos == NO_LABEL) { /* first candidate: into the heap */
				ts->best = c;
				ts->best_hops = h;
				ts->best_pred = u;
				node_heap_up(s, s->heap_n++, (struct route_node_entry){c, a->to});
			} else if (c < ts->best) {
				ts->best = c;
				ts->best_hops = h;
				ts->best_pred = u;
				node_heap_up(s, ts->pos, (struct route_node_entry){c, a->to});
			} else if (c == ts->best &&
				   (h < ts->best_hops || (h == ts->best_hops && u < ts->best_pred))) {
				ts->best_hops = h; /* same cost: same place in the heap */
				ts->best_pred = u;
			}
		}
	}
	return 0;
}

int route_search_all(const struct route_graph *g, struct route_scratch *s, uint32_t src,
		     uint32_t max_hops, route_settle_fn *on_settle, void *ctx)
{
	double cost;
	uint32_t hops;

	if (src >= g->n_nodes || g->n_nodes > s->n_nodes)
		return -EINVAL;
	if (max_hops == 0)
		return plain_all(g, s, src, on_settle, ctx) == -2 ? -ENOMEM : 0;
	return search(g, s, src, ROUTE_ALL, max_hops, on_settle, ctx, &cost, &hops) == -2 ? -ENOMEM
											   : 0;
}
