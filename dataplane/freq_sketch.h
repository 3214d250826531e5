/* freq_sketch.h - how often keys were used lately, in 4 bits a counter
 * (no DPDK).
 *
 *   freq_sketch_bytes     freq_sketch.c  memory for a sketch of so many keys
 *   freq_sketch_init      freq_sketch.c  take over that memory, all counts 0
 *   freq_sketch_add       freq_sketch.c  one use of the key with this hash
 *   freq_sketch_estimate  freq_sketch.c  its uses lately (never fewer than counted, at most 15)
 *   freq_sketch_halve     freq_sketch.c  age every count (also done by add, periodically)
 *
 * The admission rule of a full cache (TinyLFU, Einziger et al.): a new key
 * may displace an item only if it was used more often lately. A count-min
 * sketch remembers uses of keys the shard does not hold (GET misses) in a
 * fixed memory: FREQ_SKETCH_ROWS rows of 4-bit counters, one counter per row
 * chosen by the key's hash; a use raises the smallest of the key's counters
 * (conservative update), the estimate is the smallest. Counts saturate at 15
 * and all are halved every FREQ_SKETCH_AGE_PER_COUNTER additions per counter
 * of a row, so the sketch follows a popularity that changes.
 *
 * Memory: a row has the next power of two at or above keys / 2 counters
 * (at least 64): about one byte per key for the 4 rows.
 */
#ifndef FREQ_SKETCH_H
#define FREQ_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

#define FREQ_SKETCH_ROWS 4
#define FREQ_SKETCH_MAX 15u
#define FREQ_SKETCH_AGE_PER_COUNTER 10u

struct freq_sketch {
	uint64_t *words;     /* FREQ_SKETCH_ROWS rows of (mask + 1) / 16 words */
	uint32_t mask;       /* counters per row - 1 (a power of two - 1) */
	uint32_t row_words;
	uint64_t additions;  /* since the last halving */
	uint64_t age_every;  /* additions between halvings */
};

size_t freq_sketch_bytes(uint64_t keys);
/* mem: 8-byte aligned, freq_sketch_bytes(keys) bytes. Returns 0 or -EINVAL. */
int freq_sketch_init(struct freq_sketch *f, void *mem, size_t bytes, uint64_t keys) we_must_check;
void freq_sketch_add(struct freq_sketch *f, uint64_t hash);
unsigned freq_sketch_estimate(const struct freq_sketch *f, uint64_t hash);
void freq_sketch_halve(struct freq_sketch *f);

#endif
