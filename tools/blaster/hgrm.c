/* hgrm.c - write a latency histogram in HdrHistogram's percentile
 * distribution format.
 *
 * DESIGN: one pass over the buckets, as HdrHistogram's percentile iterator
 * walks its counts: the level to report starts at 0%; at each non-empty
 * bucket the running count is compared with the level's nearest rank
 * (ceil(level% x count), at least 1: hist_percentile()'s rule, so a row at
 * 50% says what the JSON's p50 says), and every level reached there is one
 * row, so a bucket holding many values may repeat its value on several rows.
 * The bucket that completes the count is reported once, then the 100% row
 * (no 1/(1-Percentile) column: it is infinite). A row's value is the bucket's
 * midpoint clamped to [min, max], and max exactly for the top rank, as in
 * hist_percentile(); HdrHistogram itself prints the bucket's top, within the
 * same 1/128. The footer's mean and max are exact; the standard deviation
 * comes from the bucket midpoints. Buckets and SubBuckets describe our layout
 * in HdrHistogram's terms: 128 sub-buckets (exact below 128 ns), one bucket
 * per power of two from 2^7 to 2^37 ns.
 */
#include "hgrm.h"

#include <errno.h>
#include <math.h>

/* The value a row reports for bucket b reached at rank `rank`. */
static uint64_t hgrm_value(const struct hist *h, unsigned b, uint64_t rank)
{
	uint64_t mid = hist_bucket_low(b) + hist_bucket_width(b) / 2;

	if (rank == h->count || b == HIST_BUCKETS - 1)
		return h->max;
	if (mid < h->min)
		mid = h->min;
	if (mid > h->max)
		mid = h->max;
	return mid;
}

/* Nearest rank of a level (percent) among count values, as hist_percentile. */
static uint64_t hgrm_rank(double level, uint64_t count)
{
	uint64_t rank = (uint64_t)ceil(level / 100.0 * (double)count - 1e-9);

	if (rank < 1)
		rank = 1;
	return rank > count ? count : rank;
}

double hgrm_next_level(double level)
{
	unsigned halvings = 0;

	/* How many times the distance to 100% has halved: floor(log2(100 /
	 * (100 - level))), counted exactly instead of through log(). */
	while (halvings < 62 && (100.0 - level) * (double)(2ull << halvings) <= 100.0)
		halvings++;
	return level + 100.0 / (HGRM_TICKS_PER_HALF * (double)(2ull << halvings));
}

static double hgrm_stddev_ns(const struct hist *h, double mean)
{
	double sq = 0.0;

	if (h->count == 0)
		return 0.0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		double d;

		if (h->buckets[b] == 0)
			continue;
		d = (double)hgrm_value(h, b, 0) - mean;
		sq += d * d * (double)h->buckets[b];
	}
	return sqrt(sq / (double)h->count);
}

int hgrm_write(FILE *out, const struct hist *h)
{
	double mean = h->count ? (double)h->sum / (double)h->count : 0.0;
	double level = 0.0;
	uint64_t seen = 0;

	fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
		"1/(1-Percentile)");
	for (unsigned b = 0; b < HIST_BUCKETS && seen < h->count; b++) {
		if (h->buckets[b] == 0)
			continue;
		seen += h->buckets[b];
		while (seen >= hgrm_rank(level, h->count)) {
			uint64_t v = hgrm_value(h, b, hgrm_rank(level, h->count));
			double next;

			fprintf(out, "%12.3f %2.12f %10llu %14.2f\n", (double)v / HGRM_UNIT_NS,
				level / 100.0, (unsigned long long)seen, 1.0 / (1.0 - level / 100.0));
			/* The bucket completing the count has one row (HdrHistogram's
			 * iterator stops there too); levels that double precision can
			 * no longer tell apart end the table as well. */
			next = hgrm_next_level(level);
			if (seen == h->count || !(next > level && next < 100.0))
				goto last;
			level = next;
		}
	}
last:
	if (h->count)
		fprintf(out, "%12.3f %2.12f %10llu\n", (double)h->max / HGRM_UNIT_NS, 1.0,
			(unsigned long long)h->count);
	fprintf(out, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean / HGRM_UNIT_NS,
		hgrm_stddev_ns(h, mean) / HGRM_UNIT_NS);
	fprintf(out, "#[Max     = %12.3f, Total count    = %12llu]\n",
		(double)h->max / HGRM_UNIT_NS, (unsigned long long)h->count);
	fprintf(out, "#[Buckets = %12u, SubBuckets     = %12u]\n",
		HIST_MAX_BITS - HIST_LINEAR_BITS + 1, 1u << HIST_LINEAR_BITS);
	return ferror(out) ? -EIO : 0;
}

int hgrm_write_file(const char *path, const struct hist *h)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -errno;
	rc = hgrm_write(f, h);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}
