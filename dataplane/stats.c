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
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "stats_storage.h"
#include "we_time.h"

static struct worker *const *telemetry_workers;
static unsigned telemetry_n;
static const struct durability *telemetry_durability;
static const struct region_map *telemetry_map; /* set once by the supervisor */

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

/* The shard's tiers (shard.h): per tier items, bytes as stored and as
 * sent (an archived item's stored bytes are its record's on disk), hits,
 * demotions into it; promotions, cold values left raw, evictions, new keys
 * a full cache declined, archived items brought back (unarchived). */
json_t *stats_tiers_json(const struct worker *w)
{
	static const char *const names[4] = {"event_horizon", "photon_sphere", "deep_cache",
					     "singularity"};
	struct shard_tier_counters t;
	json_t *o = json_object();

	worker_tier_gauges_load(w, &t);
	for (unsigned i = 0; i < 4; i++)
		json_object_set_new(o, names[i],
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "items",
					      (json_int_t)t.items[i], "stored_bytes",
					      (json_int_t)t.stored_bytes[i], "value_bytes",
					      (json_int_t)t.value_bytes[i], "hits",
					      (json_int_t)t.hits[i], "demotions",
					      (json_int_t)t.demotions[i]));
	json_object_set_new(o, "promotions", json_integer((json_int_t)t.promotions));
	json_object_set_new(o, "left_raw", json_integer((json_int_t)t.left_raw));
	json_object_set_new(o, "evictions", json_integer((json_int_t)t.evictions));
	json_object_set_new(o, "rejected", json_integer((json_int_t)t.rejected));
	json_object_set_new(o, "unarchived", json_integer((json_int_t)t.unarchived));
	json_object_set_new(o, "dict_bytes", json_integer((json_int_t)t.dict_bytes));
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
	json_object_set_new(o, "tiers", stats_tiers_json(w));
	return o;
}

json_t *stats_service_time_json(const struct hist_log2 *h, uint64_t hz)
{
	json_t *o = json_object(), *le = json_array(), *counts = json_array();
	const double s_per_cycle = hz != 0 ? 1.0 / (double)hz : 0.0;

	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++) {
		json_array_append_new(le, json_real(hist_log2_upper_s(i, hz)));
		json_array_append_new(counts, json_integer((json_int_t)h->counts[i]));
	}
	json_object_set_new(o, "unit", json_string("s"));
	json_object_set_new(o, "le", le);
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "count", json_integer((json_int_t)hist_log2_count(h)));
	json_object_set_new(o, "sum", json_real((double)h->sum * s_per_cycle));
	json_object_set_new(o, "p50", json_real((double)hist_log2_quantile(h, 0.50) * s_per_cycle));
	json_object_set_new(o, "p99", json_real((double)hist_log2_quantile(h, 0.99) * s_per_cycle));
	return o;
}

/* Since the worker last published (ms); a worker that is alive publishes at
 * least every few ms while it serves and before each idle sleep. */
static uint64_t stats_heartbeat_age_ms(uint64_t at_ns, uint64_t now_ns)
{
	return now_ns > at_ns ? (now_ns - at_ns) / 1000000u : 0;
}

/* Requests this worker forwarded to each worker (the topology's traffic). */
static json_t *stats_fwd_to_json(const struct worker *w)
{
	json_t *a = json_array();

	for (unsigned j = 0; j < w->n_workers; j++)
		json_array_append_new(
			a, json_integer((json_int_t)__atomic_load_n(&w->fwd_to[j], __ATOMIC_RELAXED)));
	return a;
}

/* One worker's counters, loop iterations, heartbeat age and service time;
 * the histogram is also added into *merged. */
static json_t *stats_worker_json(const struct worker *w, uint64_t hz, uint64_t now_ns,
				 struct hist_log2 *merged)
{
	uint64_t one[WORKER_STATS_COUNT], iterations, at_ns;
	struct hist_log2 h;
	json_t *o;

	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		one[i] = worker_stats_load(&w->stats, i);
	o = stats_counters_json(one);
	worker_heartbeat_load(w, &iterations, &at_ns);
	worker_service_time_load(w, &h);
	hist_log2_merge(merged, &h);
	json_object_set_new(o, "iterations", json_integer((json_int_t)iterations));
	json_object_set_new(o, "heartbeat_age_ms",
			    json_integer((json_int_t)stats_heartbeat_age_ms(at_ns, now_ns)));
	json_object_set_new(o, "service_time", stats_service_time_json(&h, hz));
	json_object_set_new(o, "fwd_to", stats_fwd_to_json(w));
	return o;
}

json_t *stats_port_json(uint16_t port_id)
{
	struct rte_eth_stats es;

	if (rte_eth_stats_get(port_id, &es) != 0)
		return NULL;
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "port_id", (int)port_id,
			 "ipackets", (json_int_t)es.ipackets, "opackets", (json_int_t)es.opackets,
			 "ibytes", (json_int_t)es.ibytes, "obytes", (json_int_t)es.obytes,
			 "imissed", (json_int_t)es.imissed, "ierrors", (json_int_t)es.ierrors,
			 "oerrors", (json_int_t)es.oerrors, "rx_nombuf", (json_int_t)es.rx_nombuf);
}

json_t *stats_json(struct worker *const *workers, unsigned n, double uptime_s,
		   const struct durability *d)
{
	uint64_t total[WORKER_STATS_COUNT], hz = rte_get_tsc_hz(), now_ns = we_monotonic_ns();
	json_t *root = json_object(), *per = json_array(), *shards = json_array(), *tot;
	struct hist_log2 merged = {0};

	stats_sum(workers, n, total);
	json_object_set_new(root, "uptime_s", json_real(uptime_s));
	json_object_set_new(root, "workers", json_integer(n));
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)hz));
	/* "total" first: scripts take the first occurrence of a counter. */
	tot = stats_counters_json(total);
	json_object_set_new(root, "total", tot);
	for (unsigned w = 0; w < n; w++) {
		json_array_append_new(per, stats_worker_json(workers[w], hz, now_ns, &merged));
		json_array_append_new(shards, stats_shard_json(workers[w]));
	}
	json_object_set_new(tot, "service_time", stats_service_time_json(&merged, hz));
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

void stats_shard_row(const struct worker *w, const struct region_map *map,
		     struct stats_shard_row *out)
{
	struct shard_counters c;

	worker_gauges_load(w, &c);
	out->items = c.items;
	out->memory_used_bytes = c.arena_used_bytes;
	out->memory_bytes = c.arena_bytes;
	out->index_bytes = c.index_bytes;
	out->memory_free_in_pieces_bytes = c.arena_free_bytes - c.arena_free_large_bytes;
	out->compact_moves = c.compact_moves;
	out->regions = 0;
	if (map != NULL)
		for (uint32_t r = 0; r < WE_REGIONS; r++)
			out->regions += region_map_owner(map, r) == w->index;
	out->requests = worker_stats_load(&w->stats, WORKER_STATS_req_get) +
			worker_stats_load(&w->stats, WORKER_STATS_req_put) +
			worker_stats_load(&w->stats, WORKER_STATS_req_delete);
}

/* A telemetry array of u64, one entry per worker, added to dict d as name
 * (telemetry containers hold plain arrays only). */
static void stats_telemetry_per_worker(struct rte_tel_data *d, const char *name,
				       const uint64_t *v, unsigned n)
{
	struct rte_tel_data *a = rte_tel_data_alloc();

	if (a == NULL)
		return;
	rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
	for (unsigned i = 0; i < n; i++)
		rte_tel_data_add_array_u64(a, v[i]);
	if (rte_tel_data_add_dict_container(d, name, a, 0) != 0)
		rte_tel_data_free(a);
}

/* /warpengine/workers: {counter: [worker 0, worker 1, ...]} for every
 * counter, plus iterations and heartbeat_age_ms. */
static int stats_telemetry_workers_cb(const char *cmd, const char *params,
				      struct rte_tel_data *d)
{
	uint64_t v[WORKER_MAX], it[WORKER_MAX], age[WORKER_MAX], now_ns = we_monotonic_ns();
	unsigned n = telemetry_n;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", n);
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++) {
		for (unsigned w = 0; w < n; w++)
			v[w] = worker_stats_load(&telemetry_workers[w]->stats, i);
		stats_telemetry_per_worker(d, worker_stats_names[i], v, n);
	}
	for (unsigned w = 0; w < n; w++) {
		uint64_t at_ns;

		worker_heartbeat_load(telemetry_workers[w], &it[w], &at_ns);
		age[w] = stats_heartbeat_age_ms(at_ns, now_ns);
	}
	stats_telemetry_per_worker(d, "iterations", it, n);
	stats_telemetry_per_worker(d, "heartbeat_age_ms", age, n);
	return 0;
}

/* /warpengine/shards: {field: [worker 0, worker 1, ...]}, as `shards`. */
static int stats_telemetry_shards_cb(const char *cmd, const char *params,
				     struct rte_tel_data *d)
{
	uint64_t items[WORKER_MAX], used[WORKER_MAX], mem[WORKER_MAX], regions[WORKER_MAX],
		reqs[WORKER_MAX];
	const struct region_map *map = __atomic_load_n(&telemetry_map, __ATOMIC_ACQUIRE);
	unsigned n = telemetry_n;

	(void)cmd;
	(void)params;
	for (unsigned w = 0; w < n; w++) {
		struct stats_shard_row r;

		stats_shard_row(telemetry_workers[w], map, &r);
		items[w] = r.items;
		used[w] = r.memory_used_bytes;
		mem[w] = r.memory_bytes;
		regions[w] = r.regions;
		reqs[w] = r.requests;
	}
	rte_tel_data_start_dict(d);
	stats_telemetry_per_worker(d, "items", items, n);
	stats_telemetry_per_worker(d, "memory_used_bytes", used, n);
	stats_telemetry_per_worker(d, "memory_bytes", mem, n);
	stats_telemetry_per_worker(d, "regions", regions, n);
	stats_telemetry_per_worker(d, "requests", reqs, n);
	return 0;
}

/* /warpengine/tiers: {"<tier>_<field>": [worker 0, ...]} for the four
 * tiers and items, stored_bytes, value_bytes, hits, demotions; then
 * promotions, left_raw, evictions, rejected, unarchived per worker. */
static int stats_telemetry_tiers_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const tiers[4] = {"event_horizon", "photon_sphere", "deep_cache",
					     "singularity"};
	static const char *const fields[5] = {"items", "stored_bytes", "value_bytes", "hits",
					      "demotions"};
	static const char *const totals[5] = {"promotions", "left_raw", "evictions", "rejected",
					      "unarchived"};
	struct shard_tier_counters t[WORKER_MAX];
	uint64_t v[WORKER_MAX];
	unsigned n = telemetry_n;
	char name[40];

	(void)cmd;
	(void)params;
	for (unsigned w = 0; w < n; w++)
		worker_tier_gauges_load(telemetry_workers[w], &t[w]);
	rte_tel_data_start_dict(d);
	for (unsigned k = 0; k < 4; k++)
		for (unsigned f = 0; f < 5; f++) {
			for (unsigned w = 0; w < n; w++) {
				const uint64_t *by_tier[5] = {t[w].items, t[w].stored_bytes,
							      t[w].value_bytes, t[w].hits,
							      t[w].demotions};

				v[w] = by_tier[f][k];
			}
			snprintf(name, sizeof(name), "%s_%s", tiers[k], fields[f]);
			stats_telemetry_per_worker(d, name, v, n);
		}
	for (unsigned f = 0; f < 5; f++) {
		for (unsigned w = 0; w < n; w++) {
			const uint64_t by_worker[5] = {t[w].promotions, t[w].left_raw, t[w].evictions,
						       t[w].rejected, t[w].unarchived};

			v[w] = by_worker[f];
		}
		stats_telemetry_per_worker(d, totals[f], v, n);
	}
	return 0;
}

/* /warpengine/service_time: the merged histogram, bounds in ns. */
static int stats_telemetry_service_time_cb(const char *cmd, const char *params,
					   struct rte_tel_data *d)
{
	uint64_t le[HIST_LOG2_BUCKETS], hz = rte_get_tsc_hz();
	struct hist_log2 merged = {0}, h;

	(void)cmd;
	(void)params;
	for (unsigned w = 0; w < telemetry_n; w++) {
		worker_service_time_load(telemetry_workers[w], &h);
		hist_log2_merge(&merged, &h);
	}
	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++)
		le[i] = (uint64_t)(hist_log2_upper_s(i, hz) * 1e9);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tsc_hz", hz);
	rte_tel_data_add_dict_u64(d, "count", hist_log2_count(&merged));
	rte_tel_data_add_dict_u64(d, "sum_cycles", merged.sum);
	stats_telemetry_per_worker(d, "le_ns", le, HIST_LOG2_BUCKETS);
	stats_telemetry_per_worker(d, "counts", merged.counts, HIST_LOG2_BUCKETS);
	return 0;
}

void stats_telemetry_set_map(const struct region_map *map)
{
	__atomic_store_n(&telemetry_map, map, __ATOMIC_RELEASE);
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
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/warpengine/workers", stats_telemetry_workers_cb,
						"Every counter per worker: {name: [worker 0, ...]}");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/warpengine/shards", stats_telemetry_shards_cb,
						"Per shard: items, memory, regions owned, requests");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/warpengine/tiers", stats_telemetry_tiers_cb,
						"Per shard and tier: items, bytes stored and sent, "
						"hits, demotions; promotions, evictions");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/warpengine/service_time",
						stats_telemetry_service_time_cb,
						"Service-time histogram of all workers (bounds in ns)");
	return rc;
}
