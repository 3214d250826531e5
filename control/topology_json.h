/* topology_json.h - the workers' topology in and out of JSON: the fwd_to
 * counters of a `stats` sample in, the `topology` and `route` answers and
 * wormholes/topology/network_graph.json out.
 *
 *   topology_fwd_from_stats  topology_json.c  per_worker[i].fwd_to[j] -> a matrix
 *   topology_to_json         topology_json.c  nodes, connections, version, updated_at
 *   topology_route_json      topology_json.c  a route request -> {path, cost, hops, cached}
 *   topology_node_parse      topology_json.c  "worker3" or 3 -> 3
 *
 * Shape (docs/topology.md): {"version", "updated_at", "workers", "measured",
 * "decay_rate", "thresholds": {...}, "nodes": [{"id": "worker0", "worker": 0,
 * "forwarded_out", "forwarded_in"}], "connections": [{"connection_id":
 * "worker0->worker1", "source", "destination", "connection_type",
 * "strength", "cost", "share", "usage_count", "rate_per_s",
 * "last_accessed", "decay_rate"}]}. Times are UTC, ISO 8601 ("...Z");
 * null for never.
 */
#ifndef CONTROL_TOPOLOGY_JSON_H
#define CONTROL_TOPOLOGY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "topology.h"

/* *workers from the sample's per_worker array; *fwd a new matrix (free it)
 * when every worker has a fwd_to array of *workers counts, else NULL. 0, or
 * -EINVAL (no per_worker, or more than TOPOLOGY_WORKERS_MAX), -ENOMEM. */
int topology_fwd_from_stats(const json_t *stats, uint32_t *workers, uint64_t **fwd);
/* A new object (NULL: out of memory). */
json_t *topology_to_json(const struct topology *t);
/* req: {"from", "to", "max_hops"}. The result, or NULL with a sentence in
 * err and *code "usage" (a node or max_hops not understood), "failed" (no
 * route) or "unavailable" (no topology yet). */
json_t *topology_route_json(struct topology *t, const json_t *req, char *err, size_t err_len,
			    const char **code);
/* "workerN", "N" or the integer N, N < workers. */
bool topology_node_parse(const json_t *v, uint32_t workers, uint32_t *node);

#endif
