/* freq_sketch.c - a count-min sketch of 4-bit counters (see freq_sketch.h). */
#include "freq_sketch.h"

#include <errno.h>
#include <string.h>

/* One odd multiplier per row: the product's high half picks the counter, so
 * rows disagree about which keys share a counter. */
static const uint64_t freq_sketch_mult[FREQ_SKETCH_ROWS] = {
	0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
};

static uint32_t freq_sketch_counters(uint64_t keys)
{
	uint64_t want = keys / 2, n = 64;

	while (n < want && n < (UINT64_C(1) << 31))
		n <<= 1;
	return (uint32_t)n;
}

size_t freq_sketch_bytes(uint64_t keys)
{
	return (size_t)freq_sketch_counters(keys) / 16 * FREQ_SKETCH_ROWS * sizeof(uint64_t);
}

int freq_sketch_init(struct freq_sketch *f, void *mem, size_t bytes, uint64_t keys)
{
	uint32_t n = freq_sketch_counters(keys);

	if (mem == NULL || (uintptr_t)mem % sizeof(uint64_t) != 0 || bytes < freq_sketch_bytes(keys))
		return -EINVAL;
	memset(mem, 0, freq_sketch_bytes(keys));
	f->words = mem;
	f->mask = n - 1;
	f->row_words = n / 16;
	f->additions = 0;
	f->age_every = (uint64_t)n * FREQ_SKETCH_AGE_PER_COUNTER;
	return 0;
}

/* Word and bit shift of the key's counter in row r. */
static inline uint64_t *freq_sketch_at(const struct freq_sketch *f, unsigned r, uint64_t hash,
				       unsigned *shift)
{
	uint32_t c = (uint32_t)((hash * freq_sketch_mult[r]) >> 32) & f->mask;

	*shift = (c % 16) * 4;
	return &f->words[(size_t)r * f->row_words + c / 16];
}

/* The key's counters, one per row (words and shifts), and the smallest. */
static unsigned freq_sketch_locate(const struct freq_sketch *f, uint64_t hash,
				   uint64_t *w[FREQ_SKETCH_ROWS], unsigned shift[FREQ_SKETCH_ROWS])
{
	unsigned min = FREQ_SKETCH_MAX;

	for (unsigned r = 0; r < FREQ_SKETCH_ROWS; r++) {
		unsigned v;

		w[r] = freq_sketch_at(f, r, hash, &shift[r]);
		v = (unsigned)(*w[r] >> shift[r]) & 0xf;
		if (v < min)
			min = v;
	}
	return min;
}

unsigned freq_sketch_estimate(const struct freq_sketch *f, uint64_t hash)
{
	uint64_t *w[FREQ_SKETCH_ROWS];
	unsigned shift[FREQ_SKETCH_ROWS];

	return freq_sketch_locate(f, hash, w, shift);
}

void freq_sketch_add(struct freq_sketch *f, uint64_t hash)
{
	uint64_t *w[FREQ_SKETCH_ROWS];
	unsigned shift[FREQ_SKETCH_ROWS];
	unsigned min = freq_sketch_locate(f, hash, w, shift);

	if (min < FREQ_SKETCH_MAX) {
		/* Conservative update: only the counters at the minimum rise,
		 * the others already count more than this key's uses. */
		for (unsigned r = 0; r < FREQ_SKETCH_ROWS; r++)
			if (((*w[r] >> shift[r]) & 0xf) == min)
				*w[r] += UINT64_C(1) << shift[r];
	}
	if (++f->additions >= f->age_every)
		freq_sketch_halve(f);
}

void freq_sketch_halve(struct freq_sketch *f)
{
	size_t n = (size_t)f->row_words * FREQ_SKETCH_ROWS;

	/* Each nibble shifted right by one: the bit crossing into the nibble
	 * below is masked off. */
	for (size_t i = 0; i < n; i++)
		f->words[i] = (f->words[i] >> 1) & 0x7777777777777777ull;
	f->additions = 0;
}
