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

#include <jansson.h>
#include <rte_telemetry.h>

#include "stats_storage.h"

static struct worker *const *telemetry_workers;
static unsigned telemetry_n;
static const struct durability *telemetry_durability;

void stats_sum(struct worker *const *workers, unsigned n, uint64_t out[WORKER_STATS_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * WORKER_STATS_COUNT);
	for (unsigned w = 0; w < n; w++)
		for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
			out[i] += worker_stats_load(&workers[w]->stats, i);
}

static json_t *stats_counters_json(const uint64_t v[WORKER_STATS_COUNT])
{
	json_t *o = json_object();

	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		json_object_set_new(o, worker_stats_names[i], json_integer((json_int_t)v[i]));
	return o;
}

static json_t *stats_shard_json(const struct worker *w)
{
	struct shard_counters c;
	json_t *o = json_object();

	worker_gauges_load(w, &c);
#define STATS_SHARD_FIELD(name) json_object_set_new(o, #name, json_integer((json_int_t)c.name));
	SHARD_COUNTER_FIELDS(STATS_SHARD_FIELD)
#undef STATS_SHARD_FIELD
	return o;
}

json_t *stats_json(struct worker *const *workers, unsigned n, double uptime_s,
		   const struct durability *d)
{
	uint64_t total[WORKER_STATS_COUNT], one[WORKER_STATS_COUNT];
	json_t *root = json_object(), *per = json_array(), *shards = json_array();

	stats_sum(workers, n, total);
	json_object_set_new(root, "uptime_s", json_real(uptime_s));
	json_object_set_new(root, "workers", json_integer(n));
	/* "total" first: scripts take the first occurrence of a counter. */
	json_object_set_new(root, "total", stats_counters_json(total));
	for (unsigned w = 0; w < n; w++) {
		for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
			one[i] = worker_stats_load(&workers[w]->stats, i);
		json_array_append_new(per, stats_counters_json(one));
		json_array_append_new(shards, stats_shard_json(workers[w]));
	}
	json_object_set_new(root, "per_worker", per);
	json_object_set_new(root, "shards", shards);
	if (d != NULL && d->dir_open)
		json_object_set_new(root, "storage", stats_storage_json(d));
	return root;
}

int stats_write_file(const char *path, struct worker *const *workers, unsigned n,
		     double uptime_s, const struct durability *d)
{
	char tmp[4096];
	json_t *root;
	FILE *f;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	root = stats_json(workers, n, uptime_s, d);
	if (root == NULL || json_dumpf(root, f, JSON_INDENT(1)) != 0 || fputc('\n', f) == EOF)
		rc = -EIO;
	json_decref(root);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	return rc;
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

/* /warpengine/storage: the same fields as the stats file's "storage". */
static int stats_telemetry_storage_cb(const char *cmd, const char *params,
				      struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (telemetry_durability == NULL || !telemetry_durability->dir_open) {
		rte_tel_data_add_dict_string(d, "data_dir", "none");
		return 0;
	}
	stats_storage_telemetry(telemetry_durability, d);
	return 0;
}

int stats_telemetry_register(struct worker *const *workers, unsigned n,
			     const struct durability *dur)
{
	int rc;

	telemetry_workers = workers;
	telemetry_n = n;
	telemetry_durability = dur;
	rc = rte_telemetry_register_cmd("/warpengine/stats", stats_telemetry_cb,
					"WarpEngine counters summed over all workers");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/warpengine/storage", stats_telemetry_storage_cb,
						"Data directory: recovery at start, the log writer");
	return rc;
}
