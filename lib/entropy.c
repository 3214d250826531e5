/* entropy.c - entropy and imbalance of count vectors (see entropy.h). */
#include "entropy.h"

#include <math.h>

#include "topk_sketch.h"

/* -p log2 p of one bin's share. */
static double term(double c, double total)
{
	double p = c / total;

	return c > 0 ? -p * log2(p) : 0.0;
}

static uint64_t sum(const uint64_t *counts, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += counts[i];
	return t;
}

double entropy_bits(const uint64_t *counts, size_t n)
{
	uint64_t t = sum(counts, n);
	double h = 0.0;

	if (t == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++)
		h += term((double)counts[i], (double)t);
	return h;
}

double entropy_normalised(const uint64_t *counts, size_t n)
{
	double v;

	if (n <= 1 || sum(counts, n) == 0)
		return 1.0;
	v = entropy_bits(counts, n) / log2((double)n);
	/* Rounding can put a uniform vector a hair above 1. */
	return v > 1.0 ? 1.0 : v;
}

double entropy_imbalance(const uint64_t *counts, size_t n)
{
	uint64_t t = sum(counts, n), max = 0;

	if (n == 0 || t == 0)
		return 1.0;
	for (size_t i = 0; i < n; i++)
		if (counts[i] > max)
			max = counts[i];
	return (double)max * (double)n / (double)t;
}

/* The rest's share: R spread evenly over ceil(R / rest_max) bins. */
static double rest_term(uint64_t rest, uint64_t total, uint64_t rest_max)
{
	double bins, per;

	if (rest == 0)
		return 0.0;
	bins = rest_max == 0 ? 1.0 : ceil((double)rest / (double)rest_max);
	per = (double)rest / bins;
	return bins * term(per, (double)total);
}

double entropy_of_topk(const uint64_t *top, size_t n, uint64_t total, uint64_t rest_max)
{
	uint64_t known = sum(top, n);
	double h = 0.0;

	if (total == 0)
		return 0.0;
	if (known > total)
		total = known; /* inconsistent input: treat the top as all */
	for (size_t i = 0; i < n; i++)
		h += term((double)top[i], (double)total);
	return h + rest_term(total - known, total, rest_max);
}

double entropy_of_sketch(const struct topk_sketch *s)
{
	uint64_t known = 0, total = s->total;
	double h = 0.0;

	for (uint32_t i = 0; i < s->used; i++)
		known += s->heap[i].count - s->heap[i].error;
	if (total == 0)
		return 0.0;
	if (known > total)
		total = known;
	for (uint32_t i = 0; i < s->used; i++)
		h += term((double)(s->heap[i].count - s->heap[i].error), (double)total);
	return h + rest_term(total - known, total, topk_sketch_min(s));
}
