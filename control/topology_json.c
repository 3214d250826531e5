/* topology_json.c - the workers' topology as JSON (see topology_json.h). */
#include "topology_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HOPS_DEFAULT 4

int topology_fwd_from_stats(const json_t *stats, uint32_t *workers, uint64_t **fwd)
{
	const json_t *per = json_object_get(stats, "per_worker"), *w;
	size_t n = json_array_size(per), i;
	uint64_t *m;

	*fwd = NULL;
	*workers = 0;
	if (n == 0 || n > TOPOLOGY_WORKERS_MAX)
		return -EINVAL;
	*workers = (uint32_t)n;
	m = calloc(n * n, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	json_array_foreach(per, i, w) {
		const json_t *to = json_object_get(w, "fwd_to"), *c;
		size_t j;

		if (json_array_size(to) != n) {
			free(m); /* an older data plane: no per-destination counters */
			return 0;
		}
		json_array_foreach(to, j, c)
			m[i * n + j] = json_is_integer(c) && json_integer_value(c) > 0
					       ? (uint64_t)json_integer_value(c)
					       : 0;
	}
	*fwd = m;
	return 0;
}

static json_t *node_name(uint32_t i)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "worker%u", i);
	return json_string(buf);
}

/* Wall seconds as UTC ISO 8601, null for 0 (never). */
static json_t *utc(double wall)
{
	char buf[40];
	time_t s = (time_t)wall;
	struct tm tm;

	if (!(wall > 0) || gmtime_r(&s, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *connection(const struct topology *t, uint32_t i, uint32_t j)
{
	const struct topology_link *l = topology_link_at(t, i, j);
	char id[48];

	snprintf(id, sizeof(id), "worker%u->worker%u", i, j);
	return json_pack("{s:s, s:o, s:o, s:s, s:f, s:f, s:f, s:I, s:o, s:o, s:f}", "connection_id",
			 id, "source", node_name(i), "destination", node_name(j), "connection_type",
			 topology_type(l->published), "strength", l->published, "cost",
			 route_cost(l->published), "share", l->share, "usage_count",
			 (json_int_t)l->count, "rate_per_s", real_or_null(l->rate), "last_accessed",
			 utc(l->last_accessed), "decay_rate", t->decay);
}

json_t *topology_to_json(const struct topology *t)
{
	json_t *nodes = json_array(), *conns = json_array(), *out;
	uint32_t n = t->workers;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t out_n = 0, in_n = 0;

		for (uint32_t j = 0; j < n; j++)
			if (j != i) {
				out_n += topology_link_at(t, i, j)->count;
				in_n += topology_link_at(t, j, i)->count;
			}
		json_array_append_new(nodes, json_pack("{s:o, s:I, s:I, s:I}", "id", node_name(i),
						       "worker", (json_int_t)i, "forwarded_out",
						       (json_int_t)out_n, "forwarded_in",
						       (json_int_t)in_n));
		for (uint32_t j = 0; j < n; j++)
			if (j != i)
				json_array_append_new(conns, connection(t, i, j));
	}
	out = json_pack("{s:I, s:o, s:I, s:b, s:f, s:{s:f, s:f, s:f, s:f}, s:o, s:o}", "version",
			(json_int_t)t->version, "updated_at", utc(t->updated_at), "workers",
			(json_int_t)n, "measured", t->measured, "decay_rate", t->decay, "thresholds",
			"fast_lane", TOPOLOGY_FAST_LANE, "standard", TOPOLOGY_STANDARD, "floor",
			TOPOLOGY_FLOOR, "republish", TOPOLOGY_REPUBLISH, "nodes", nodes, "connections",
			conns);
	return out;
}

bool topology_node_parse(const json_t *v, uint32_t workers, uint32_t *node)
{
	const char *s = json_string_value(v);
	char *end;
	unsigned long k;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) >= (json_int_t)workers)
			return false;
		*node = (uint32_t)json_integer_value(v);
		return true;
	}
	if (s == NULL)
		return false;
	if (strncmp(s, "worker", 6) == 0)
		s += 6;
	if (*s < '0' || *s > '9')
		return false;
	k = strtoul(s, &end, 10);
	if (*end != '\0' || k >= workers)
		return false;
	*node = (uint32_t)k;
	return true;
}

json_t *topology_route_json(struct topology *t, const json_t *req, char *err, size_t err_len,
			    const char **code)
{
	const json_t *from_v = json_object_get(req, "from"), *to_v = json_object_get(req, "to");
	const json_t *hops_v = json_object_get(req, "max_hops");
	uint32_t from, to, path[TOPOLOGY_PATH_MAX];
	json_int_t max_hops = hops_v != NULL ? json_integer_value(hops_v) : MAX_HOPS_DEFAULT;
	json_t *nodes;
	bool cached;

	if (t->workers == 0) {
		snprintf(err, err_len, "no topology yet (no sample of the data plane so far)");
		*code = "unavailable";
		return NULL;
	}
	if (!topology_node_parse(from_v, t->workers, &from) ||
	    !topology_node_parse(to_v, t->workers, &to)) {
		char text[64];
		const json_t *bad = !topology_node_parse(from_v, t->workers, &from) ? from_v : to_v;
		char *dump = json_dumps(bad, JSON_ENCODE_ANY | JSON_COMPACT);

		snprintf(text, sizeof(text), "%s", dump != NULL ? dump : "?");
		free(dump);
		snprintf(err, err_len, "no node %s: the topology has worker0..worker%u", text,
			 t->workers - 1);
		*code = "usage";
		return NULL;
	}
	if (!json_is_integer(hops_v) && hops_v != NULL) {
		snprintf(err, err_len, "max_hops must be an integer");
		*code = "usage";
		return NULL;
	}
	if (max_hops < 0 || max_hops >= TOPOLOGY_PATH_MAX) {
		snprintf(err, err_len, "max_hops %lld: 1..%d, or 0 for no limit", (long long)max_hops,
			 TOPOLOGY_PATH_MAX - 1);
		*code = "usage";
		return NULL;
	}
	struct route_result r =
		topology_route(t, from, to, (uint32_t)max_hops, path, TOPOLOGY_PATH_MAX, &cached);

	if (r.status != ROUTE_OK) {
		char within[40] = "";

		if (max_hops > 0)
			snprintf(within, sizeof(within), " within %lld hops", (long long)max_hops);
		snprintf(err, err_len, "no route from worker%u to worker%u%s (%s)", from, to, within,
			 route_status_name(r.status));
		*code = "failed";
		return NULL;
	}
	nodes = json_array();
	for (uint32_t k = 0; k <= r.hops; k++)
		json_array_append_new(nodes, node_name(path[k]));
	return json_pack("{s:o, s:f, s:I, s:b, s:I, s:I}", "path", nodes, "cost", r.cost, "hops",
			 (json_int_t)r.hops, "cached", cached, "max_hops", (json_int_t)max_hops,
			 "version", (json_int_t)t->version);
}
