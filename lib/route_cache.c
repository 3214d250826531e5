/* route_cache.c - a two-way set-associative cache of routes (see route_cache.h). */
#include "route_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int route_cache_init(struct route_cache *c, unsigned order)
{
	memset(c, 0, sizeof(*c));
	if (order == 0 || order > 24)
		return -EINVAL;
	c->slots = calloc((size_t)1 << order, sizeof(*c->slots));
	c->last_used = calloc((size_t)1 << (order - 1), 1);
	if (c->slots == NULL || c->last_used == NULL) {
		route_cache_free(c);
		return -ENOMEM;
	}
	c->set_mask = (1u << (order - 1)) - 1;
	return 0;
}

void route_cache_free(struct route_cache *c)
{
	free(c->slots);
	free(c->last_used);
	memset(c, 0, sizeof(*c));
}

void route_cache_clear(struct route_cache *c)
{
	memset(c->slots, 0, ((size_t)c->set_mask + 1) * 2 * sizeof(*c->slots));
	memset(c->last_used, 0, (size_t)c->set_mask + 1);
	c->hits = c->misses = 0; /* the tree cache, if any, is the caller's to clear */
}

static uint32_t set_of(const struct route_cache *c, uint32_t src, uint32_t dst, uint32_t hops)
{
	uint64_t x = ((uint64_t)src << 32 | dst) ^ ((uint64_t)hops * 0x9e3779b97f4a7c15ull);

	/* a 64-bit mix (splitmix64's finaliser): neighbouring pairs spread out */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x & c->set_mask;
}

struct route_result route_cache_route(struct route_cache *c, const struct route_graph *g,
				      struct route_scratch *s, uint32_t src, uint32_t dst,
				      uint32_t max_hops, uint32_t *path, uint32_t path_cap)
{
	uint32_t set = set_of(c, src, dst, max_hops);
	struct route_cache_slot *ways = &c->slots[(size_t)set * 2];
	uint64_t cur = g->version + 1;

	for (unsigned w = 0; w < 2; w++) {
		struct route_cache_slot *sl = &ways[w];

		if (sl->version != cur || sl->src != src || sl->dst != dst || sl->max_hops != max_hops)
			continue;
		struct route_result r = sl->res;

		c->hits++;
		c->last_used[set] = (uint8_t)w;
		if (r.status == ROUTE_OK) {
			if (path_cap < r.hops + 1u) {
				r.status = ROUTE_TOO_LONG;
				return r;
			}
			memcpy(path, sl->path, (r.hops + 1u) * sizeof(*path));
		}
		return r;
	}
	c->misses++;
	struct route_result r =
		c->trees != NULL
			? route_tree_cache_route(c->trees, g, s, src, dst, max_hops, path, path_cap)
			: route_find(g, s, src, dst, max_hops, path, path_cap);
	bool keep = r.status == ROUTE_UNREACHABLE ||
		    (r.status == ROUTE_OK && r.hops + 1u <= ROUTE_CACHE_PATH_MAX);

	if (keep) {
		/* a stale or empty way first, else the one not used last */
		unsigned w = ways[0].version != cur ? 0 : ways[1].version != cur ? 1 : !c->last_used[set];
		struct route_cache_slot *sl = &ways[w];

		c->last_used[set] = (uint8_t)w;
		sl->version = cur;
		sl->src = src;
		sl->dst = dst;
		sl->max_hops = max_hops;
		sl->res = r;
		if (r.status == ROUTE_OK)
			memcpy(sl->path, path, (r.hops + 1u) * sizeof(*path));
	}
	return r;
}
