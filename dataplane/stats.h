/* stats.h - read the workers' counters from outside the lcores: the periodic
 * stats file, the log line, DPDK telemetry (/warpengine/stats) and the totals
 * printed at exit. */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "durability.h"
#include "worker.h"

/* Sum of every worker's counters (relaxed loads). */
void stats_sum(struct worker *const *workers, unsigned n, uint64_t out[WORKER_STATS_COUNT]);

/* All counters, total and per worker, the shards' gauges and, with a data
 * directory (d non-NULL and open), "storage": recovery and the log writer.
 * A new reference; json_decref it. */
json_t *stats_json(struct worker *const *workers, unsigned n, double uptime_s,
		   const struct durability *d);
/* Write that JSON to path atomically (temporary file + rename). 0 or -errno. */
int stats_write_file(const char *path, struct worker *const *workers, unsigned n,
		     double uptime_s, const struct durability *d);

/* One human line: rates since the previous call (prev is updated). */
void stats_log_line(FILE *f, struct worker *const *workers, unsigned n,
		    uint64_t prev[WORKER_STATS_COUNT], double interval_s);

/* Register /warpengine/stats and /warpengine/storage with DPDK telemetry.
 * dur may be NULL (no data directory). 0 or -errno. */
int stats_telemetry_register(struct worker *const *workers, unsigned n,
			     const struct durability *dur);

#endif
