/* stats.c - counters out of the lcores: JSON file, log line, telemetry.
 *
 * DESIGN: workers never format or print; the main lcore (and DPDK's
 * telemetry thread) read their counters with relaxed atomic loads and do
 * the formatting here. Field names come from WORKER_STATS_LIST, so the file,
 * telemetry and docs/operations.md agree.
 */
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

static struct worker *const *telemetry_workers;
static unsigned telemetry_n;

void stats_sum(struct worker *const *workers, unsigned n, uint64_t out[WORKER_STATS_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * WORKER_STATS_COUNT);
	for (unsigned w = 0; w < n; w++)
		for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
			out[i] += worker_stats_load(&workers[w]->stats, i);
}

static void stats_write_object(FILE *f, const uint64_t v[WORKER_STATS_COUNT], const char *indent)
{
	fprintf(f, "{\n");
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		fprintf(f, "%s  \"%s\": %lu%s\n", indent, worker_stats_names[i],
			(unsigned long)v[i], i + 1 < WORKER_STATS_COUNT ? "," : "");
	fprintf(f, "%s}", indent);
}

void stats_write_json(FILE *f, struct worker *const *workers, unsigned n, double uptime_s)
{
	uint64_t total[WORKER_STATS_COUNT], one[WORKER_STATS_COUNT];

	stats_sum(workers, n, total);
	fprintf(f, "{\n\"uptime_s\": %.3f,\n\"workers\": %u,\n\"total\": ", uptime_s, n);
	stats_write_object(f, total, "");
	fprintf(f, ",\n\"per_worker\": [\n");
	for (unsigned w = 0; w < n; w++) {
		for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
			one[i] = worker_stats_load(&workers[w]->stats, i);
		stats_write_object(f, one, "");
		fprintf(f, "%s\n", w + 1 < n ? "," : "");
	}
	fprintf(f, "],\n\"shards\": [\n");
	for (unsigned w = 0; w < n; w++) {
		struct shard_counters c;

		const char *sep = "";

		worker_gauges_load(workers[w], &c);
		fprintf(f, "{");
#define STATS_SHARD_FIELD(name)                                                        \
	{                                                                              \
		fprintf(f, "%s\"" #name "\": %lu", sep, (unsigned long)c.name);         \
		sep = ", ";                                                            \
	}
		SHARD_COUNTER_FIELDS(STATS_SHARD_FIELD)
#undef STATS_SHARD_FIELD
		fprintf(f, "}%s\n", w + 1 < n ? "," : "");
	}
	fprintf(f, "]\n}\n");
}

int stats_write_file(const char *path, struct worker *const *workers, unsigned n,
		     double uptime_s)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	stats_write_json(f, workers, n, uptime_s);
	if (fclose(f) != 0)
		return -errno;
	if (rename(tmp, path) != 0)
		return -errno;
	return 0;
}

void stats_log_line(FILE *f, struct worker *const *workers, unsigned n,
		    uint64_t prev[WORKER_STATS_COUNT], double interval_s)
{
	uint64_t now[WORKER_STATS_COUNT], d[WORKER_STATS_COUNT];
	uint64_t drops = 0, errors = 0;

	stats_sum(workers, n, now);
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		d[i] = now[i] - prev[i];
	for (unsigned i = WORKER_STATS_rx_drop_truncated; i <= WORKER_STATS_rx_err_proto_malformed;
	     i++)
		drops += d[i];
	for (unsigned i = WORKER_STATS_req_err_bad_request; i <= WORKER_STATS_req_err_unsupported;
	     i++)
		errors += d[i];
	fprintf(f,
		"warpengine: rx %.0f pps, tx %.0f pps | get %.0f/s (hit %lu miss %lu) put %.0f/s "
		"del %.0f/s | steered %lu, fwd %lu | rx drops %lu, entry errors %lu, tx drops %lu\n",
		d[WORKER_STATS_rx_packets] / interval_s, d[WORKER_STATS_tx_packets] / interval_s,
		d[WORKER_STATS_req_get] / interval_s, (unsigned long)d[WORKER_STATS_req_get_hit],
		(unsigned long)d[WORKER_STATS_req_get_miss], d[WORKER_STATS_req_put] / interval_s,
		d[WORKER_STATS_req_delete] / interval_s, (unsigned long)d[WORKER_STATS_fwd_steered],
		(unsigned long)d[WORKER_STATS_fwd_out],
		(unsigned long)drops, (unsigned long)errors,
		(unsigned long)(d[WORKER_STATS_tx_drop_full] + d[WORKER_STATS_tx_drop_nobuf]));
	fflush(f);
	memcpy(prev, now, sizeof(now));
}

static int stats_telemetry_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t total[WORKER_STATS_COUNT];

	(void)cmd;
	(void)params;
	stats_sum(telemetry_workers, telemetry_n, total);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", telemetry_n);
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		rte_tel_data_add_dict_u64(d, worker_stats_names[i], total[i]);
	uint64_t items = 0, used = 0;

	for (unsigned w = 0; w < telemetry_n; w++) {
		struct shard_counters c;

		worker_gauges_load(telemetry_workers[w], &c);
		items += c.items;
		used += c.arena_used_bytes;
	}
	rte_tel_data_add_dict_u64(d, "shard_items", items);
	rte_tel_data_add_dict_u64(d, "shard_arena_used_bytes", used);
	return 0;
}

int stats_telemetry_register(struct worker *const *workers, unsigned n)
{
	telemetry_workers = workers;
	telemetry_n = n;
	return rte_telemetry_register_cmd("/warpengine/stats", stats_telemetry_cb,
					  "WarpEngine counters summed over all workers");
}
