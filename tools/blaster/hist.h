/* hist.h - HDR-style latency histogram in nanoseconds (no DPDK).
 *
 * Log-linear buckets: exact below 128 ns, then 64 buckets per power of two up
 * to 2^37 ns (137 s). Reported values are bucket midpoints, within 1/128
 * (0.78%) of the true value; max, min and mean are exact. 2048 buckets of
 * 8 bytes: recording is an index computation and an increment; merging two
 * histograms is 2048 additions.
 */
#ifndef BLASTER_HIST_H
#define BLASTER_HIST_H

#include <stdint.h>

#define HIST_LINEAR_BITS 7                      /* values < 128 get their own bucket */
#define HIST_SUB_BITS (HIST_LINEAR_BITS - 1)    /* 64 buckets per power of two above */
#define HIST_MAX_BITS 37                        /* 2^37 ns = 137 s; more is clamped */
#define HIST_BUCKETS ((1u << HIST_LINEAR_BITS) + \
		      (HIST_MAX_BITS - HIST_LINEAR_BITS) * (1u << HIST_SUB_BITS))
_Static_assert(HIST_BUCKETS == 2048, "histogram bucket count");

struct hist {
	uint64_t count;
	uint64_t sum;     /* ns, for the mean */
	uint64_t min;     /* UINT64_MAX when empty */
	uint64_t max;
	uint64_t clamped; /* values >= 2^37 ns, counted in the last bucket */
	uint64_t buckets[HIST_BUCKETS];
};

/* The latency summary a report prints. */
struct hist_summary {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double mean;
	uint64_t p50;
	uint64_t p90;
	uint64_t p99;
	uint64_t p999;
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t value_ns);
void hist_merge(struct hist *into, const struct hist *from);
/* Nearest-rank percentile (0 < pct <= 100): the smallest recorded value v such
 * that at least pct% of values are <= v, as its bucket's midpoint clamped to
 * [min, max]; the top rank (and the clamping bucket) give max exactly. 0 for
 * an empty histogram. */
uint64_t hist_percentile(const struct hist *h, double pct);
void hist_summarize(const struct hist *h, struct hist_summary *s);

/* Bucket of a value, and the value range of a bucket (for tests). */
unsigned hist_bucket_of(uint64_t value_ns);
uint64_t hist_bucket_low(unsigned bucket);
uint64_t hist_bucket_width(unsigned bucket);

#endif
