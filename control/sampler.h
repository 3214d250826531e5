/* sampler.h - the data plane's `stats` and `shards`, sampled every
 * --sample-ms, the last two kept; reading counters out of a sample.
 *
 *   sampler_push        sampler.c  a new sample (stats result, shards result, time)
 *   sampler_clear       sampler.c  the data plane went away: forget both
 *   sample_total        sampler.c  counter of the "total" object (NAN: missing)
 *   sample_worker       sampler.c  counter of worker i (NAN: missing)
 *   sample_delta_total  sampler.c  cur - prev of a total counter (cur alone without prev)
 *   sample_delta_worker sampler.c  the same for worker i
 *   sample_workers      sampler.c  how many per-worker objects the sample has
 *   sampler_rates       sampler.c  {counter: per second} over the last interval
 *
 * Samples are the JSON the data plane answered: any field may be missing
 * (an older data plane), and readers say "unknown" (NAN) rather than fail.
 */
#ifndef CONTROL_SAMPLER_H
#define CONTROL_SAMPLER_H

#include <jansson.h>

struct sampler {
	json_t *prev, *cur;          /* stats results (owned) */
	json_t *shards;              /* the last shards result (owned), or NULL */
	double prev_t, cur_t;        /* monotonic seconds */
	unsigned long long samples;
};

void sampler_push(struct sampler *s, json_t *stats, json_t *shards, double now);
void sampler_clear(struct sampler *s);
/* Seconds between the two samples; 0 with fewer than two. */
double sampler_interval(const struct sampler *s);

double sample_total(const json_t *stats, const char *name);
double sample_worker(const json_t *stats, unsigned i, const char *name);
unsigned sample_workers(const json_t *stats);
double sample_delta_total(const json_t *prev, const json_t *cur, const char *name);
double sample_delta_worker(const json_t *prev, const json_t *cur, unsigned i, const char *name);
/* A new object; empty with fewer than two samples. */
json_t *sampler_rates(const json_t *prev, const json_t *cur, double interval_s);

#endif
