/* stats_storage.h - what the data directory's storage did, for people and
 * tools: recovery at start and the log writer's counters, as JSON (the
 * stats file's "storage"), as DPDK telemetry (/warpengine/storage) and as
 * the lines printed when the data plane stops. Read from the main lcore or
 * the telemetry thread; the writer's counters are relaxed atomics. */
#ifndef STATS_STORAGE_H
#define STATS_STORAGE_H

#include <stdio.h>

#include <jansson.h>
#include <rte_telemetry.h>

#include "durability.h"

/* {"data_dir", "generation", "recovery", "log", "checkpoint", "disk_tier"}; a new
 * reference. d must be open. */
json_t *stats_storage_json(const struct durability *d);
/* The same fields, flattened (recovery_*, log_*), into a started dict. */
void stats_storage_telemetry(const struct durability *d, struct rte_tel_data *t);
/* Two lines: the log writer's totals and its commit times. */
void stats_storage_print(const struct durability *d, FILE *f);

#endif
