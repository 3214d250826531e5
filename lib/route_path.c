/* route_path.c - hop-bounded Dijkstra over route_graph (see route_path.h). */
#include "route_path.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_LABEL UINT32_MAX

struct route_heap_item {
	double cost;
	uint32_t node, hops;
	uint32_t pred;  /* predecessor node (tie-break), NO_LABEL at src */
	uint32_t label; /* predecessor's settled label */
};

struct route_label {
	uint32_t node;
	uint32_t pred; /* label index, NO_LABEL at src */
};

int route_scratch_init(struct route_scratch *s, uint32_t n_nodes)
{
	memset(s, 0, sizeof(*s));
	s->stamp = calloc(n_nodes, sizeof(*s->stamp));
	s->min_hops = malloc((size_t)n_nodes * sizeof(*s->min_hops));
	s->best = malloc((size_t)n_nodes * sizeof(*s->best));
	s->best_hops = malloc((size_t)n_nodes * sizeof(*s->best_hops));
	if (s->stamp == NULL || s->min_hops == NULL || s->best == NULL || s->best_hops == NULL) {
		route_scratch_free(s);
		return -ENOMEM;
	}
	s->n_nodes = n_nodes;
	return 0;
}

void route_scratch_free(struct route_scratch *s)
{
	free(s->stamp);
	free(s->min_hops);
	free(s->best);
	free(s->best_hops);
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

/* Make the per-node arrays valid for node v in this query. */
static inline void touch(struct route_scratch *s, uint32_t v)
{
	if (s->stamp[v] != s->query) {
		s->stamp[v] = s->query;
		s->min_hops[v] = UINT32_MAX;
		s->best[v] = INFINITY;
		s->best_hops[v] = UINT32_MAX;
	}
}

static void new_query(struct route_scratch *s)
{
	s->heap_n = 0;
	s->labels_n = 0;
	if (++s->query == 0) { /* wrapped: old stamps could match again */
		memset(s->stamp, 0, (size_t)s->n_nodes * sizeof(*s->stamp));
		s->query = 1;
	}
}

struct route_result route_find(const struct route_graph *g, struct route_scratch *s, uint32_t src,
			       uint32_t dst, uint32_t max_hops, uint32_t *path, uint32_t path_cap)
{
	struct route_result r = {.status = ROUTE_UNREACHABLE, .cost = INFINITY};
	uint32_t limit = max_hops ? max_hops : UINT32_MAX;

	if (src >= g->n_nodes || dst >= g->n_nodes || g->n_nodes > s->n_nodes) {
		r.status = ROUTE_BAD_NODE;
		return r;
	}
	new_query(s);
	touch(s, src);
	s->best[src] = 0;
	s->best_hops[src] = 0;
	if (heap_push(s, (struct route_heap_item){0, src, 0, NO_LABEL, NO_LABEL}) != 0)
		goto nomem;
	while (s->heap_n > 0) {
		struct route_heap_item it = heap_pop(s);

		/* a label no better in hops than one already settled is dominated
		 * (without a limit: any second label of a node) */
		if (it.hops >= s->min_hops[it.node] || (max_hops == 0 && s->min_hops[it.node] != UINT32_MAX))
			continue;
		s->min_hops[it.node] = it.hops;
		int li = label_add(s, it.node, it.label);

		if (li < 0)
			goto nomem;
		if (it.node == dst) {
			r.status = ROUTE_OK;
			r.cost = it.cost;
			r.hops = it.hops;
			if (path_cap < it.hops + 1u) {
				r.status = ROUTE_TOO_LONG;
				return r;
			}
			uint32_t k = it.hops;

			for (uint32_t l = (uint32_t)li; l != NO_LABEL; l = s->labels[l].pred)
				path[k--] = s->labels[l].node;
			return r;
		}
		if (it.hops >= limit)
			continue;
		const struct route_adj *adj = &g->adj[it.node];

		for (uint32_t i = 0; i < adj->n; i++) {
			const struct route_arc *a = &adj->arcs[i];
			double c = it.cost + route_cost(a->strength);

			touch(s, a->to);
			if (it.hops + 1 >= s->min_hops[a->to])
				continue; /* settled with fewer hops, and cheaper */
			/* without a limit a dearer label is useless; with one it may
			 * still be the route that fits, unless it also has no fewer
			 * hops than the cheapest. (Equal cost and hops are pushed: the
			 * heap then picks the lower predecessor.) */
			if (c > s->best[a->to] && (max_hops == 0 || it.hops + 1 >= s->best_hops[a->to]))
				continue;
			if (c < s->best[a->to] || (c == s->best[a->to] && it.hops + 1 < s->best_hops[a->to])) {
				s->best[a->to] = c;
				s->best_hops[a->to] = it.hops + 1;
			}
			if (heap_push(s, (struct route_heap_item){c, a->to, it.hops + 1, it.node,
								  (uint32_t)li}) != 0)
				goto nomem;
		}
	}
	return r;
nomem:
	r.status = ROUTE_NOMEM;
	return r;
}
