/* stats.h - read the workers' counters from outside the lcores: the periodic
 * stats file, the log line, DPDK telemetry (/warpengine/stats, /storage,
 * /workers, /shards, /service_time), the control socket's stats and shards,
 * and the totals printed at exit. */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "durability.h"
#include "hist_log2.h"
#include "region_map.h"
#include "worker.h"

/* Sum of every worker's counters (relaxed loads). */
void stats_sum(struct worker *const *workers, unsigned n, uint64_t out[WORKER_STATS_COUNT]);

/* All counters, total and per worker, the shards' gauges and, with a data
 * directory (d non-NULL and open), "storage": recovery and the log writer.
 * Also "tsc_hz", and per worker "iterations", "heartbeat_age_ms" and the
 * "service_time" histogram (merged in "total").
 * A new reference; json_decref it. */
json_t *stats_json(struct worker *const *workers, unsigned n, double uptime_s,
		   const struct durability *d);
/* The port's own counters (rte_eth_stats): what the NIC or PMD received,
 * sent, and dropped before any worker saw it ("imissed": the receive queue
 * was full; "rx_nombuf": no mbuf to receive into). NULL if the PMD keeps
 * none. */
json_t *stats_port_json(uint16_t port_id);
/* Write that JSON to path atomically (temporary file + rename). 0 or -errno. */
int stats_write_file(const char *path, struct worker *const *workers, unsigned n,
		     double uptime_s, const struct durability *d);

/* One human line: rates since the previous call (prev is updated). */
void stats_log_line(FILE *f, struct worker *const *workers, unsigned n,
		    uint64_t prev[WORKER_STATS_COUNT], double interval_s);

/* A service-time histogram in TSC cycles of a clock of hz as
 * {"unit": "s", "le": [bounds], "counts": [...], "count", "sum", "p50", "p99"}. */
json_t *stats_service_time_json(const struct hist_log2 *h, uint64_t hz);

/* One shard, as the `shards` command and telemetry show it: the arena's
 * used and total bytes, the regions the map gives its worker (map may be
 * NULL: 0), and the GET, PUT and DELETE requests it executed. */
struct stats_shard_row {
	uint64_t items, memory_used_bytes, memory_bytes, index_bytes, regions, requests;
	/* free arena bytes in blocks too small for the tiers to count as room
	 * (the compaction's work), and the items compaction moved so far */
	uint64_t memory_free_in_pieces_bytes, compact_moves;
};
void stats_shard_row(const struct worker *w, const struct region_map *map,
		     struct stats_shard_row *out);

/* The shard's tiers as the stats file and the shards command show them:
 * {"event_horizon": {"items", "stored_bytes", "value_bytes", "hits",
 * "demotions"}, ... "singularity": {...}, "promotions", "left_raw",
 * "evictions", "rejected", "unarchived"}. */
json_t *stats_tiers_json(const struct worker *w);

/* Register /warpengine/stats, /storage, /workers, /shards and /service_time
 * with DPDK telemetry. dur may be NULL (no data directory). 0 or -errno. */
int stats_telemetry_register(struct worker *const *workers, unsigned n,
			     const struct durability *dur);
/* The region map /warpengine/shards counts regions in (until set: 0). */
void stats_telemetry_set_map(const struct region_map *map);

#endif
