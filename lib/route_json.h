/* route_json.h - the topology graph as JSON, the shape of
 * wormholes/topology/network_graph.json (jansson; outside we_lib).
 *
 *   route_graph_to_json  route_json.c  a graph -> a new JSON object
 *
 * {"version": V,
 *  "nodes": [{"id": 0, "degree": D}, ...],
 *  "connections": [{"from": A, "to": B, "strength": S, "cost": 1/S,
 *                   "usage": U, "directed": false}, ...]}
 *
 * An undirected connection appears once (from the lower id), with the usage
 * of both of its arcs added; "degree" counts a node's out-arcs.
 */
#ifndef ROUTE_JSON_H
#define ROUTE_JSON_H

#include <jansson.h>

#include "route_graph.h"

/* A new reference, or NULL when out of memory. */
json_t *route_graph_to_json(const struct route_graph *g);

#endif
