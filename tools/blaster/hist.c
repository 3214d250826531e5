/* hist.c - log-linear latency histogram (HDR style).
 *
 * DESIGN: bucket layout, for value v in ns:
 *
 *   v < 128                 bucket v                       (width 1, exact)
 *   2^e <= v < 2^(e+1)      bucket 128 + (e - 7) * 64      (width 2^(e - 6))
 *   (7 <= e < 37)                  + ((v >> (e - 6)) & 63)
 *   v >= 2^37               the last bucket, counted in `clamped` too
 *
 * A bucket at exponent e spans 2^(e-6) values, all >= 2^e, so its midpoint is
 * within 2^(e-7) <= v/128 of any value v in it: under 1% relative error, as
 * asked of the blaster, with 2048 buckets (16 KiB), small enough to keep one
 * per progress interval and merge each second. Nearest-rank percentiles find
 * the bucket holding the rank-th value exactly, so only the midpoint rounding
 * is lost. Same idea as HdrHistogram's sub-bucket scheme, written for our
 * fixed range.
 */
#include "hist.h"

#include <math.h>
#include <string.h>

#include "we_assert.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t v)
{
	unsigned e;

	if (v < (1u << HIST_LINEAR_BITS))
		return (unsigned)v;
	if (v >> HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (1u << HIST_LINEAR_BITS) + (e - HIST_LINEAR_BITS) * (1u << HIST_SUB_BITS) +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1));
}

uint64_t hist_bucket_low(unsigned b)
{
	unsigned e, sub;

	WE_ASSERT(b < HIST_BUCKETS);
	if (b < (1u << HIST_LINEAR_BITS))
		return b;
	e = HIST_LINEAR_BITS + ((b - (1u << HIST_LINEAR_BITS)) >> HIST_SUB_BITS);
	sub = (b - (1u << HIST_LINEAR_BITS)) & ((1u << HIST_SUB_BITS) - 1);
	return (1ull << e) + ((uint64_t)sub << (e - HIST_SUB_BITS));
}

uint64_t hist_bucket_width(unsigned b)
{
	unsigned e;

	WE_ASSERT(b < HIST_BUCKETS);
	if (b < (1u << HIST_LINEAR_BITS))
		return 1;
	e = HIST_LINEAR_BITS + ((b - (1u << HIST_LINEAR_BITS)) >> HIST_SUB_BITS);
	return 1ull << (e - HIST_SUB_BITS);
}

void hist_record(struct hist *h, uint64_t v)
{
	h->buckets[hist_bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	if (v >> HIST_MAX_BITS)
		h->clamped++;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		into->buckets[b] += from->buckets[b];
	into->count += from->count;
	into->sum += from->sum;
	into->clamped += from->clamped;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	/* Nearest rank: ceil(pct/100 * count), at least 1. The small epsilon
	 * keeps 99.9% of 1000 at rank 999 despite binary rounding. */
	rank = (uint64_t)ceil(pct / 100.0 * (double)h->count - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			uint64_t mid = hist_bucket_low(b) + hist_bucket_width(b) / 2;

			/* The top rank is the max, known exactly; so is anything in
			 * the clamping bucket, whose midpoint means nothing. */
			if (rank == h->count || b == HIST_BUCKETS - 1)
				return h->max;

			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return mid;
		}
	}
	return h->max;
}

void hist_summarize(const struct hist *h, struct hist_summary *s)
{
	s->count = h->count;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	s->mean = h->count ? (double)h->sum / (double)h->count : 0.0;
	s->p50 = hist_percentile(h, 50.0);
	s->p90 = hist_percentile(h, 90.0);
	s->p99 = hist_percentile(h, 99.0);
	s->p999 = hist_percentile(h, 99.9);
}
