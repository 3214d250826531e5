/* topk_sketch.h - the hot keys of a stream in bounded space: space-saving
 * (Metwally, Agrawal, El Abbadi 2005) over K counters (no DPDK).
 *
 *   topk_sketch_mem_size   topk_sketch.c   bytes of caller memory for K entries
 *   topk_sketch_init       topk_sketch.c   an empty sketch of K entries in that memory
 *   topk_sketch_reset      topk_sketch.c   forget everything (same memory, same K)
 *   topk_sketch_add        topk_sketch.c   count w occurrences of one key: O(log K)
 *   topk_sketch_min        topk_sketch.c   the smallest count kept (0 until full)
 *   topk_sketch_top        topk_sketch.c   the n largest entries, count descending
 *   topk_sketch_merge      topk_sketch.c   into := the K largest of into + from
 *   topk_sketch_decay      topk_sketch.c   halve all counts (sliding windows)
 *
 * A key is identified by its 64-bit hash (two keys with the same hash are one
 * entry); the first TOPK_KEY_MAX bytes of the key and its real length are
 * kept only so that a listing can print it.
 *
 * Bounds, for a stream of total weight N (the sum of all w):
 *   - every entry has  count - error <= true <= count;
 *   - a key that is not kept has  true <= topk_sketch_min() <= N/K;
 *     so every key with true > N/K is kept, and error <= N/K.
 * After topk_sketch_merge of sketches of Ka and Kb entries over streams of
 * weights Na and Nb (into has Ka): the first bound still holds for the
 * union, error <= min_a + min_b <= Na/Ka + Nb/Kb, and a key that is not kept
 * has true <= topk_sketch_min() <= (Na + Nb)/Ka + min_a + min_b. With equal
 * K that is error <= N/K and every key above 2N/K kept: the merge charges
 * each kept key the other side's minimum, the most that side may have seen
 * of it unkept (see topk_sketch.c). Merging merged sketches adds up the same
 * way; decay, merge and add can be mixed.
 *
 * Structure: a binary min-heap of the K entries by count, plus an open
 * addressing index (linear probing, 2K..4K slots) from hash to heap position.
 * Chosen over the stream-summary (a linked list of count buckets, O(1) for
 * w = 1) because it takes weighted adds and merges without special cases,
 * has no pointers (the caller's memory can be any plain block) and its
 * O(log K) sift is a few cache lines for K <= 1024. An add is one probe of
 * the index and one sift-down; nothing is allocated after init.
 */
#ifndef TOPK_SKETCH_H
#define TOPK_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define TOPK_KEY_MAX 32     /* key bytes kept per entry, for printing */
#define TOPK_K_MAX   65536  /* heap positions fit the uint32 index */

struct topk_entry {
	uint64_t hash;
	uint64_t count;  /* upper bound of the key's true weight */
	uint64_t error;  /* count - error is a lower bound */
	uint32_t key_len; /* the real length; key[] holds min(key_len, TOPK_KEY_MAX) */
	uint8_t key[TOPK_KEY_MAX];
};

struct topk_sketch {
	struct topk_entry *heap; /* [k], heap[0] has the smallest count */
	uint32_t *slot_of;       /* [k], the index slot of heap[i] */
	uint32_t *index;         /* [mask + 1], heap position, UINT32_MAX if free */
	uint32_t mask;
	uint32_t k;
	uint32_t used;           /* entries in heap, <= k */
	uint64_t total;          /* N: the weight counted (halved by decay) */
};

/* Bytes of memory for a sketch of k entries (0 if k is 0 or > TOPK_K_MAX). */
size_t topk_sketch_mem_size(uint32_t k);
/* An empty sketch of k entries in mem (len >= topk_sketch_mem_size(k),
 * aligned to 8). 0, or -EINVAL. The sketch points into mem; mem outlives it. */
int topk_sketch_init(struct topk_sketch *s, void *mem, size_t len, uint32_t k);
void topk_sketch_reset(struct topk_sketch *s);
/* Count w (>= 1) occurrences of the key with this hash; key/key_len only
 * name it (key may be NULL when key_len is 0). */
void topk_sketch_add(struct topk_sketch *s, uint64_t hash, const void *key,
		     size_t key_len, uint64_t w);
/* The count of the smallest entry when the sketch is full, else 0: the
 * most weight a key that is not kept can have. */
uint64_t topk_sketch_min(const struct topk_sketch *s);
/* Copies the min(n, used) largest entries into out, count descending (ties:
 * smaller error first, then hash). Returns how many. O(K log K). */
size_t topk_sketch_top(const struct topk_sketch *s, struct topk_entry *out, size_t n);
/* into := the K largest of the combined entries of into and from (their K
 * may differ). O((Ka + Kb) log). */
void topk_sketch_merge(struct topk_sketch *into, const struct topk_sketch *from);
/* Halves every count, error and the total, rounding up (so no entry drops to
 * 0): the stream as if each earlier occurrence weighed 1/2. Repeated every
 * window, it gives exponentially decaying counts. The bounds then hold for
 * the decayed weights up to the rounding (at most +1 per halving). */
void topk_sketch_decay(struct topk_sketch *s);

#endif
