/* health.h - the cosmic health checks, computed from two consecutive
 * samples of the data plane's stats and the thresholds (pure functions).
 *
 *   health_compute     health.c  {"overall", "checks": {name: {state, value, threshold,
 *                                 unit, measures}}}
 *   health_state_name  health.c  "healthy" | "warning" | "critical" | "unknown"
 *   load_entropy       health.c  normalized Shannon entropy and max/mean of shares
 *
 * A check is critical past its threshold and a warning past
 * HEALTH_WARN_FRACTION of it (for spacetime_integrity's free space: below
 * the threshold, and below twice it). A field missing from the samples
 * makes its check "unknown", never a crash. The overall state is the worst
 * check (critical > warning > unknown > healthy).
 */
#ifndef CONTROL_HEALTH_H
#define CONTROL_HEALTH_H

#include <stdbool.h>

#include <jansson.h>

#define HEALTH_WARN_FRACTION 0.8

enum health_state { HEALTH_HEALTHY, HEALTH_UNKNOWN, HEALTH_WARNING, HEALTH_CRITICAL };

struct health_limits {
	double heartbeat_ms;      /* universe_stability: worst worker heartbeat age */
	double entropy_limit;     /* entropy_levels: busiest worker's share / mean share */
	double fwd_error_ratio;   /* wormhole_connectivity: errors per forwarded request */
	double drop_ratio;        /* vacuum_stability: dropped+malformed per received frame */
	double disk_free_ratio;   /* spacetime_integrity: free space of the data directory */
	double memory_used_ratio; /* quantum_coherence: fullest shard's arena used / arena */
};

struct health_input {
	const json_t *prev, *cur; /* stats results; prev may be NULL, cur NULL when never sampled */
	const json_t *shards;     /* shards result, or NULL */
	bool dp_up;
	double disk_free_ratio;   /* of the data directory's filesystem; < 0: unknown */
};

json_t *health_compute(const struct health_input *in, const struct health_limits *lim);
const char *health_state_name(enum health_state s);
/* Workers whose load the entropy checks look at (the first this many). */
#define HEALTH_WORKERS_MAX 256

/* Over n counts (lib/entropy.h): *entropy (0..1, 1 = perfectly even; NAN when all are 0
 * or n < 2 gives 1) and *imbalance (max / mean; NAN when all are 0). */
void load_entropy(const double *counts, unsigned n, double *entropy, double *imbalance);
/* The requests a worker executed in the interval (GET, PUT, DELETE). */
double health_worker_requests(const json_t *prev, const json_t *cur, unsigned i);

#endif
