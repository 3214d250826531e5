/* metrics_text.h - the Prometheus text exposition of one sample (pure).
 *
 *   metrics_render   metrics_text.c  stats + shards + health -> text (malloc'd)
 *
 * What is exported (base units: seconds, bytes):
 *   warpengine_up                             1 when the data plane answers, else 0
 *   warpengine_control_uptime_seconds         how long warp-control has run
 *   warpengine_<counter>_total{worker}        every data-plane counter, per worker
 *                                             ("for_us" in a name becomes "for_this_host")
 *   warpengine_heartbeat_age_seconds{worker}  since the worker last published
 *   warpengine_items{worker}                  items in the worker's shard
 *   warpengine_memory_used_bytes{worker}      item memory in use
 *   warpengine_memory_bytes{worker}           item memory (arena) size
 *   warpengine_service_seconds{worker}        histogram: loop iterations that found work
 *   warpengine_tier_*{worker,tier}            the event horizon cache's tiers
 *   warpengine_storage_*                      the data directory: log writer, checkpoints,
 *                                             recovery, the disk tier's files (process-wide)
 *   warpengine_health{check}                  0 healthy, 1 warning, 2 critical, 3 unknown
 * HELP texts come from `help` (a counter's description) where it knows the
 * name, else "data plane counter NAME".
 */
#ifndef CONTROL_METRICS_TEXT_H
#define CONTROL_METRICS_TEXT_H

#include <jansson.h>

/* The description of a data-plane counter, or NULL. */
typedef const char *(*metrics_help_fn)(const char *counter);

/* stats/shards/health may be NULL (not sampled / down). NULL on no memory. */
char *metrics_render(const json_t *stats, const json_t *shards, const json_t *health,
		     double control_uptime_s, metrics_help_fn help);

#endif
