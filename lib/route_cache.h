/* route_cache.h - answers of route_find kept by (src, dst, max_hops):
 * two-way set-associative, bounded, stale as soon as the graph changes (no
 * DPDK).
 *
 *   route_cache_init    route_cache.c  2^order slots in sets of two
 *   route_cache_free    route_cache.c  release them
 *   route_cache_route   route_cache.c  the cached answer, or route_find's (then kept)
 *   route_cache_clear   route_cache.c  forget every answer (and the hit counts)
 *   route_cache_use_trees inline       answer misses from a route_tree_cache
 *
 * DESIGN: each slot holds one key, the answer (status, cost, hops, the
 * nodes) and the graph version it was computed at. A slot whose version is
 * not the graph's current one is a miss: every change of the graph
 * (route_graph_set, route_graph_remove) makes the whole cache stale at once,
 * at no cost to the writer. A finer invalidation (only routes through the
 * changed arc) can come later. A key may sit in either slot of its set; a
 * new answer goes to a stale or empty slot of the set, else over the one
 * not used last (so two keys sharing a set do not evict each other, a third
 * does). A miss is a route_find, or with route_cache_use_trees a lookup in
 * the source's shortest-path tree (route_tree.h: one search per source
 * answers every destination; the same answers). "Unreachable" is cached like a route; routes of more than
 * ROUTE_CACHE_PATH_MAX nodes are answered but not kept. One cache per
 * thread, like the scratch it uses on a miss.
 */
#ifndef ROUTE_CACHE_H
#define ROUTE_CACHE_H

#include <stdint.h>

#include "route_graph.h"
#include "route_path.h"
#include "route_tree.h"
#include "we_compiler.h"

#define ROUTE_CACHE_PATH_MAX 16

struct route_cache_slot {
	uint64_t version; /* graph version + 1 when filled; 0: empty */
	uint32_t src, dst, max_hops;
	struct route_result res;
	uint32_t path[ROUTE_CACHE_PATH_MAX];
};

struct route_cache {
	struct route_cache_slot *slots;
	uint32_t set_mask;   /* sets - 1 */
	uint8_t *last_used;  /* [sets]: the way (0, 1) of the latest hit or fill */
	uint64_t hits, misses;
	struct route_tree_cache *trees; /* NULL: a miss runs route_find */
};

/* 0, -EINVAL (order 0 or above 24), -ENOMEM. */
int route_cache_init(struct route_cache *c, unsigned order) we_must_check;
void route_cache_free(struct route_cache *c);
void route_cache_clear(struct route_cache *c);
/* Misses go to tc (same graph, same thread); NULL: back to route_find. */
static inline void route_cache_use_trees(struct route_cache *c, struct route_tree_cache *tc)
{
	c->trees = tc;
}
/* As route_find, through the cache. */
struct route_result route_cache_route(struct route_cache *c, const struct route_graph *g,
				      struct route_scratch *s, uint32_t src, uint32_t dst,
				      uint32_t max_hops, uint32_t *path, uint32_t path_cap);

#endif
