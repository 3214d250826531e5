/* route_json.c - JSON export of the topology graph (see route_json.h). */
#include "route_json.h"

static int add_connection(json_t *conns, uint32_t a, const struct route_arc *arc, uint64_t usage)
{
	json_t *o = json_pack("{s:I, s:I, s:f, s:f, s:I, s:b}", "from", (json_int_t)a, "to",
			      (json_int_t)arc->to, "strength", arc->strength, "cost",
			      route_cost(arc->strength), "usage", (json_int_t)usage, "directed",
			      !(arc->flags & ROUTE_ARC_UNDIRECTED));

	return o == NULL ? -1 : json_array_append_new(conns, o);
}

json_t *route_graph_to_json(const struct route_graph *g)
{
	json_t *nodes = json_array(), *conns = json_array();
	json_t *root = json_object();

	if (nodes == NULL || conns == NULL || root == NULL)
		goto fail;
	for (uint32_t v = 0; v < g->n_nodes; v++) {
		const struct route_adj *l = &g->adj[v];

		if (json_array_append_new(nodes, json_pack("{s:I, s:I}", "id", (json_int_t)v, "degree",
							   (json_int_t)l->n)) != 0)
			goto fail;
		for (uint32_t i = 0; i < l->n; i++) {
			const struct route_arc *arc = &l->arcs[i];
			uint64_t usage = arc->usage;

			if (arc->flags & ROUTE_ARC_UNDIRECTED) {
				if (arc->to < v)
					continue; /* written from the lower id */
				const struct route_arc *back = route_graph_find(g, arc->to, v);

				usage += back != NULL ? back->usage : 0;
			}
			if (add_connection(conns, v, arc, usage) != 0)
				goto fail;
		}
	}
	if (json_object_set_new(root, "version", json_integer((json_int_t)g->version)) != 0 ||
	    json_object_set(root, "nodes", nodes) != 0 ||
	    json_object_set(root, "connections", conns) != 0)
		goto fail;
	json_decref(nodes);
	json_decref(conns);
	return root;
fail:
	json_decref(nodes);
	json_decref(conns);
	json_decref(root);
	return NULL;
}
