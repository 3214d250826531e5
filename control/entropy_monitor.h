/* entropy_monitor.h - the specification's entropy monitor: how evenly the
 * load spreads over regions, workers and keys, measured each sample from
 * the data plane's answers (pure: JSON in, numbers and JSON out).
 *
 *   entropy_measure        entropy_monitor.c  two region-load answers (+ stats, hotkeys) -> a sample
 *   entropy_sample_json    entropy_monitor.c  a sample as DIR/entropy/current_state.json holds it
 *   entropy_hotkeys_bits   entropy_monitor.c  estimated key entropy of one hotkeys key list
 *
 * Per-worker load is the sum of the request rates of the regions the worker
 * owns at the second answer (region-load counts 1 of every sample_every
 * requests; rates are the counts' differences x sample_every / interval).
 * busy_share is the worker's share of the busy TSC cycles over the same
 * interval (stats busy_cycles; NAN without two stats). Entropies are
 * normalised (lib/entropy.h: 1 even over all bins, 0 all in one);
 * imbalance is max / mean over the workers. Key entropy is an estimate:
 * entropy_of_topk over the listed keys' guaranteed counts (count - error),
 * the rest of the sampled weight spread over as few keys as the smallest
 * listed count allows; it describes how concentrated the head is, a lower
 * estimate rather than the key space's exact entropy.
 */
#ifndef CONTROL_ENTROPY_MONITOR_H
#define CONTROL_ENTROPY_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rebalance_plan.h"

struct entropy_sample {
	double unix_time;
	double interval_s;
	unsigned n_workers, n_regions;
	uint16_t owner[PLAN_REGIONS];
	double region_rps[PLAN_REGIONS];
	double worker_rps[PLAN_WORKERS_MAX];
	double busy_share[PLAN_WORKERS_MAX];   /* NAN: unknown */
	double key_bits[PLAN_WORKERS_MAX];     /* hot-key entropy estimate, NAN: unknown */
	double merged_key_bits;                /* of the merged sketch, NAN: unknown */
	unsigned owned[PLAN_WORKERS_MAX];      /* regions per worker */
	double requests_per_s;
	double imbalance;                      /* max / mean of worker_rps; 1 without load */
	double entropy_workers, entropy_regions;
};

struct entropy_inputs {
	const json_t *prev_load, *cur_load;   /* region-load results */
	double interval_s;                    /* between them, > 0 */
	const json_t *prev_stats, *cur_stats; /* stats results over ~ the same interval, or NULL */
	const json_t *hotkeys;                /* a hotkeys result, or NULL */
	double unix_time;
};

/* 0, or -EINVAL with a sentence (an answer without the contract's fields,
 * the two answers of different shapes). */
int entropy_measure(const struct entropy_inputs *in, struct entropy_sample *out, char *err,
		    size_t err_len);
/* A new object: time, interval, requests/s, imbalance, the entropies and
 * per_worker [{worker, requests_per_s, load_share, busy_share, regions,
 * hot_key_entropy_bits}]. */
json_t *entropy_sample_json(const struct entropy_sample *s);
/* keys: the hotkeys answer's entry list; sampled: its total. NAN when there
 * is nothing to estimate from. */
double entropy_hotkeys_bits(const json_t *keys, double sampled);

#endif
