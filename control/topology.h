/* topology.h - the box's workers as a topology graph, learnt from the
 * forwarding counters of the data plane's `stats` samples (no JSON, no I/O).
 *
 *   topology_init     topology.c  empty: no workers until the first sample
 *   topology_free     topology.c  release the graph and the caches
 *   topology_sample   topology.c  one sample of the fwd_to matrix: counts, rates, strengths
 *   topology_route    topology.c  the cheapest route between two workers (route cache)
 *   topology_type     topology.c  a strength's connection type
 *   topology_link_at  inline      the connection source -> destination
 *
 * NODES AND CONNECTIONS: node i is worker i ("worker<i>" outside). Every
 * worker has a ring to every other, so there is a connection for every
 * ordered pair of distinct workers, used or not.
 *
 * STRENGTH: each sample adds the requests forwarded over a connection since
 * the previous sample (the counter's growth; a counter that went down means
 * a restarted data plane and counts from 0) to a decayed count,
 *     recent = decay * recent + delta          (decay: decay_rate per sample),
 * so traffic of k samples ago weighs decay^k. share = recent / the sum over
 * all connections (the recent share of all forwarded traffic), and
 *     strength = max(TOPOLOGY_FLOOR, recent / the largest recent),
 * 1 for the busiest connection, TOPOLOGY_FLOOR for one unused for long (or
 * always): the floor keeps every ring in the graph, as a dear route (cost
 * 1 / strength) rather than none. The first sample counts the whole history
 * of the counters as its delta, so strengths mean something at once.
 *
 * TYPE: fast_lane at strength >= TOPOLOGY_FAST_LANE, standard at >=
 * TOPOLOGY_STANDARD, experimental below.
 *
 * VERSION: routes use the published strengths, kept in the route graph.
 * They are republished (all at once, version + 1) when a connection's
 * type changes or its strength moved by TOPOLOGY_REPUBLISH or more (on the
 * 0..1 scale, up or down) since it was published; smaller drifts change no
 * route and keep the route cache.
 * A new worker count rebuilds the graph (version + 1).
 */
#ifndef CONTROL_TOPOLOGY_H
#define CONTROL_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "route_cache.h"
#include "route_graph.h"
#include "route_path.h"
#include "route_tree.h"
#include "we_compiler.h"

#define TOPOLOGY_WORKERS_MAX 256
#define TOPOLOGY_DECAY 0.99      /* decay_rate per sample, the specification's */
#define TOPOLOGY_FLOOR 0.01      /* strength of an unused connection */
#define TOPOLOGY_FAST_LANE 0.5   /* strength from which a connection is a fast lane */
#define TOPOLOGY_STANDARD 0.1    /* ... standard; below: experimental */
#define TOPOLOGY_REPUBLISH 0.05  /* strength change that republishes */
#define TOPOLOGY_PATH_MAX 128 /* > 1 / TOPOLOGY_FLOOR: no cheapest route is longer */

struct topology_link {
	uint64_t count;       /* cumulative forwarded requests, as last sampled */
	double recent;        /* decayed count of forwarded requests */
	double rate;          /* requests per second over the last interval (NAN: unknown) */
	double share;         /* recent / sum of recent over every connection */
	double strength;      /* as computed from the last sample */
	double published;     /* the strength routes use */
	double last_accessed; /* wall seconds when count last grew; 0: not seen growing */
};

struct topology {
	uint32_t workers;            /* 0: no sample yet */
	struct topology_link *links; /* [workers * workers], row = source; diagonal unused */
	struct route_graph graph;    /* arc i -> j of every link, its published strength */
	struct route_scratch scratch;
	struct route_tree_cache trees;
	struct route_cache routes;
	uint64_t version;            /* + 1 per republish or rebuild */
	uint64_t samples;
	double updated_at;           /* wall seconds of the last sample */
	double decay;
	bool measured;               /* the last sample had forwarding counters */
};

static inline struct topology_link *topology_link_at(const struct topology *t, uint32_t src,
						     uint32_t dst)
{
	return &t->links[(size_t)src * t->workers + dst];
}

/* decay in (0, 1]. 0, -EINVAL, -ENOMEM. */
int topology_init(struct topology *t, double decay) we_must_check;
void topology_free(struct topology *t);
/* fwd[i * workers + j]: requests worker i forwarded to worker j, cumulative;
 * NULL when the sample has no such counters (every connection then stays at
 * the floor, measured false). interval_s: since the previous sample (rates).
 * 0, -EINVAL (workers 0 or above TOPOLOGY_WORKERS_MAX), -ENOMEM (the
 * topology is then empty). */
int topology_sample(struct topology *t, uint32_t workers, const uint64_t *fwd, double interval_s,
		    double wall_now) we_must_check;
/* The cheapest route from -> to of at most max_hops arcs (0: no limit), in
 * path[0..hops]; *cached: answered by the route cache. */
struct route_result topology_route(struct topology *t, uint32_t from, uint32_t to,
				   uint32_t max_hops, uint32_t *path, uint32_t path_cap,
				   bool *cached);
const char *topology_type(double strength);

#endif
