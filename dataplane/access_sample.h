/* access_sample.h - which regions and keys a worker's requests touch,
 * sampled (no DPDK).
 *
 *   access_sample_init      access_sample.c  a sampler with its sketch memory (before launch)
 *   access_sample_set_every access_sample.c  1 of every n requests (0: off); the worker's setting
 *   access_sample_note      inline           the request path: one countdown per request
 *   access_sample_drain     access_sample.c  service step: pending samples -> region counts + sketch
 *   access_sample_publish   access_sample.c  decay when due, publish the top keys (seqlock)
 *   access_sample_read      access_sample.c  another thread: a consistent copy of the published top
 *   access_sample_region    inline           another thread: one region's cumulative sampled count
 *
 * The request path pays one decrement per executed request; every n-th
 * request copies its region, hash and first key bytes into a small pending
 * array. The service step (between bursts) does the rest: per-region
 * counters and a space-saving top-K sketch of hot keys (lib/topk_sketch.h),
 * halved every window_ns so it describes recent load. The region counters
 * are cumulative and single-writer: readers take relaxed loads and
 * difference two readings for a rate. A full pending array drops samples
 * (counted), it never stalls the request path.
 */
#ifndef ACCESS_SAMPLE_H
#define ACCESS_SAMPLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhash.h"
#include "topk_sketch.h"
#include "we_compiler.h"

#define ACCESS_PENDING_MAX 64     /* samples waiting for the service step */
#define ACCESS_SKETCH_K 256       /* hot-key sketch entries per worker */
#define ACCESS_PUBLISH_TOP 64     /* entries published for readers */
#define ACCESS_SAMPLE_EVERY_DEFAULT 32
#define ACCESS_WINDOW_NS_DEFAULT (10ull * 1000 * 1000 * 1000)

struct access_pending {
	uint64_t hash; /* the public key hash (keyhash()) */
	uint8_t key_len;
	uint8_t key[TOPK_KEY_MAX];
};

/* The published top keys: written by the worker under a sequence count
 * (odd while writing), copied by readers that retry on a change. */
struct access_published {
	_Atomic uint32_t seq;
	uint32_t n;
	uint64_t sampled; /* the sketch's weight (halved with it) when published */
	struct topk_entry top[ACCESS_PUBLISH_TOP];
};

struct access_sampler {
	uint32_t every;     /* 0: off */
	uint32_t countdown; /* requests until the next sample */
	uint32_t n_pending;
	uint64_t dropped;   /* samples lost to a full pending array */
	uint64_t sampled;   /* samples counted since start */
	uint64_t window_ns;
	uint64_t last_decay_ns;
	struct access_pending pending[ACCESS_PENDING_MAX];
	struct topk_sketch sketch;
	void *sketch_mem;
	uint64_t region_sampled[WE_REGIONS]; /* cumulative; relaxed stores by the worker */
	struct access_published pub we_cache_aligned;
};

/* 0, or -ENOMEM / -EINVAL. The sketch's memory is allocated here (before
 * the worker runs); access_sample_free releases it. */
int access_sample_init(struct access_sampler *s, uint32_t every, uint64_t window_ns,
		       uint64_t now_ns) we_must_check;
void access_sample_free(struct access_sampler *s);
void access_sample_set_every(struct access_sampler *s, uint32_t every);

void access_sample_take(struct access_sampler *s, uint64_t hash, const uint8_t *key,
			uint8_t key_len);

/* Count one executed request with this public hash and key. */
static inline void access_sample_note(struct access_sampler *s, uint64_t hash, const uint8_t *key,
				      uint8_t key_len)
{
	if (we_unlikely(--s->countdown == 0))
		access_sample_take(s, hash, key, key_len);
}

/* Move the pending samples into the region counters and the sketch. */
void access_sample_drain(struct access_sampler *s);
/* Halve the sketch if its window has passed, then publish its top. */
void access_sample_publish(struct access_sampler *s, uint64_t now_ns);
/* A consistent copy of the published entries (at most max); returns how
 * many, and the sketch's weight at publication in *sampled. */
size_t access_sample_read(const struct access_sampler *s, struct topk_entry *out, size_t max,
			  uint64_t *sampled);

static inline uint64_t access_sample_region(const struct access_sampler *s, uint32_t region)
{
	return __atomic_load_n(&s->region_sampled[region & WE_REGION_MASK], __ATOMIC_RELAXED);
}

#endif
