/* hist_log2.c - power-of-two histograms (see hist_log2.h). */
#include "hist_log2.h"

uint64_t hist_log2_count(const struct hist_log2 *h)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++)
		n += h->counts[i];
	return n;
}

void hist_log2_merge(struct hist_log2 *into, const struct hist_log2 *from)
{
	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++)
		into->counts[i] += from->counts[i];
	into->sum += from->sum;
}

void hist_log2_load(const struct hist_log2 *h, struct hist_log2 *out)
{
	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++)
		out->counts[i] = __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
	out->sum = __atomic_load_n(&h->sum, __ATOMIC_RELAXED);
}

uint64_t hist_log2_upper(unsigned i)
{
	return i + 1 < 64 ? (uint64_t)1 << (i + 1) : UINT64_MAX;
}

uint64_t hist_log2_quantile(const struct hist_log2 *h, double q)
{
	uint64_t n = hist_log2_count(h), seen = 0;
	double want;

	if (n == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* The rank of the quantile: the smallest count that reaches q * n (at
	 * least the first value). */
	want = q * (double)n;
	for (unsigned i = 0; i < HIST_LOG2_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen > 0 && (double)seen >= want)
			return hist_log2_upper(i);
	}
	return hist_log2_upper(HIST_LOG2_BUCKETS - 1);
}

double hist_log2_upper_s(unsigned i, uint64_t hz)
{
	return hz == 0 ? 0.0 : (double)hist_log2_upper(i) / (double)hz;
}
