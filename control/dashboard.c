/* dashboard.c - the dashboard (see dashboard.h).
 *
 * DESIGN: the specification names the numbers; here each gets one measured
 * definition, written next to it in "meaning" so an operator never has to
 * guess what a cosmic name stands for.
 */
#include "dashboard.h"

#include <math.h>
#include <string.h>

#include "health.h"
#include "sampler.h"

static json_t *num(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static double rate(const struct dashboard_input *in, const char *name)
{
	if (in->prev == NULL || in->interval_s <= 0)
		return NAN;
	return sample_delta_total(in->prev, in->cur, name) / in->interval_s;
}

static double ops_delta(const struct dashboard_input *in)
{
	return sample_delta_total(in->prev, in->cur, "req_get") +
	       sample_delta_total(in->prev, in->cur, "req_put") +
	       sample_delta_total(in->prev, in->cur, "req_delete");
}

static double drops_delta(const struct dashboard_input *in)
{
	const char *name;
	json_t *v;
	double sum = 0;

	json_object_foreach(json_object_get(in->cur, "total"), name, v)
		if (strncmp(name, "rx_drop_", 8) == 0)
			sum += sample_delta_total(in->prev, in->cur, name);
	return sum;
}

static json_t *universe_status(const struct dashboard_input *in)
{
	const char *overall = json_string_value(json_object_get(in->health, "overall"));
	const char *state = !in->dp_up ? "unreachable"
			    : overall != NULL && strcmp(overall, "healthy") == 0 ? "stable"
										   : "degraded";
	double ops = sample_total(in->cur, "req_get") + sample_total(in->cur, "req_put") +
		     sample_total(in->cur, "req_delete");
	double noise = in->prev != NULL && in->interval_s > 0 ? drops_delta(in) / in->interval_s
							      : NAN;

	return json_pack("{s:s, s:o, s:o, s:o}", "state", state, "uptime_seconds",
			 num(json_number_value(json_object_get(in->cur, "uptime_s"))),
			 "total_operations", num(ops), "cosmic_background_radiation", num(noise));
}

static json_t *performance(const struct dashboard_input *in)
{
	double ops = ops_delta(in), hz = json_number_value(json_object_get(in->cur, "tsc_hz"));
	double busy = sample_delta_total(in->prev, in->cur, "busy_cycles");
	double latency = in->prev != NULL && ops > 0 && hz > 0 ? busy / hz / ops * 1e6 : NAN;
	double gets = sample_delta_total(in->prev, in->cur, "req_get");
	double hits = sample_delta_total(in->prev, in->cur, "req_get_hit");
	double fwd = sample_delta_total(in->prev, in->cur, "fwd_out");
	double direct = ops > 0 ? 1.0 - fwd / ops : NAN;

	return json_pack("{s:o, s:o, s:o, s:o}", "avg_operation_latency_us", num(latency),
			 "quantum_get_efficiency", num(in->prev != NULL ? direct : NAN),
			 "cache_hit_rate", num(in->prev != NULL && gets > 0 ? hits / gets : NAN),
			 "wormhole_routes_per_second", num(rate(in, "fwd_out")));
}

static json_t *physics(const struct dashboard_input *in)
{
	unsigned n = sample_workers(in->cur);
	double counts[HEALTH_WORKERS_MAX], entropy = NAN, imbalance = NAN;
	double rx = sample_delta_total(in->prev, in->cur, "rx_packets");
	double bad = drops_delta(in) + sample_delta_total(in->prev, in->cur, "rx_err_proto_malformed");

	if (n > HEALTH_WORKERS_MAX)
		n = HEALTH_WORKERS_MAX;
	for (unsigned i = 0; i < n; i++)
		counts[i] = health_worker_requests(in->prev, in->cur, i);
	load_entropy(counts, n, &entropy, &imbalance);
	return json_pack("{s:o, s:o, s:o, s:b}", "system_entropy", num(entropy), "vacuum_stability",
			 num(rx > 0 ? 1.0 - bad / rx : rx == 0 ? 1.0 : NAN),
			 "spacetime_curvature", num(imbalance), "entropy_rebalancing_needed",
			 !isnan(imbalance) && imbalance > in->entropy_limit);
}

static json_t *resources(const struct dashboard_input *in)
{
	const json_t *sh = in->shards != NULL ? in->shards : json_object_get(in->cur, "shards");
	const char *field = in->shards != NULL ? "memory_bytes" : "arena_bytes";
	double mem = 0;
	size_t i;
	json_t *s;

	json_array_foreach(sh, i, s) {
		const json_t *v = json_object_get(s, field);

		mem = json_is_number(v) && !isnan(mem) ? mem + json_number_value(v) : NAN;
	}
	return json_pack("{s:o, s:i, s:i, s:o}", "total_memory_mb",
			 num(sh != NULL ? mem / (1024.0 * 1024.0) : NAN), "ets_tables",
			 (int)json_array_size(sh), "active_processes", (int)sample_workers(in->cur),
			 "filesystem_size_mb",
			 num(in->data_dir_bytes >= 0 ? in->data_dir_bytes / (1024.0 * 1024.0) : NAN));
}

static json_t *meaning(void)
{
	return json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		"state", "stable: every health check healthy; degraded: one is not; unreachable: "
			 "the data plane does not answer",
		"uptime_seconds", "seconds since the data plane started",
		"total_operations", "GET, PUT and DELETE requests executed since the data plane started",
		"cosmic_background_radiation", "frames dropped per second (not for us, malformed "
					       "headers): the network's background noise",
		"avg_operation_latency_us", "worker busy time per executed request over the last "
					    "interval, microseconds",
		"quantum_get_efficiency", "share of requests executed by the worker that received "
					  "them (not forwarded) over the last interval",
		"cache_hit_rate", "GETs that found their key, over all GETs, last interval",
		"wormhole_routes_per_second", "requests forwarded between workers per second",
		"system_entropy", "normalized Shannon entropy of the workers' request shares (1: even)",
		"vacuum_stability", "1 - (dropped + malformed frames) / frames received, last interval",
		"spacetime_curvature", "busiest worker's request share over the mean share",
		"entropy_rebalancing_needed", "spacetime_curvature above entropy_limit",
		"total_memory_mb", "item memory (arenas) of all shards, MiB",
		"ets_tables", "shards (one per worker)",
		"active_processes", "worker threads",
		"filesystem_size_mb", "bytes in the data directory's files, MiB (null: no data "
				      "directory)");
}

json_t *dashboard_build(const struct dashboard_input *in)
{
	if (in->cur == NULL)
		return json_pack("{s:{s:s}, s:o}", "universe_status", "state", "unreachable",
				 "meaning", meaning());
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "universe_status", universe_status(in),
			 "performance_metrics", performance(in), "physics_state", physics(in),
			 "resource_utilization", resources(in), "meaning", meaning());
}
