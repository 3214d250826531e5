/* access_sample.c - sampled region counts and hot keys of one worker (see
 * access_sample.h). */
#include "access_sample.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Far beyond any run: "off" is a countdown that does not end. */
#define ACCESS_OFF_COUNTDOWN UINT32_MAX

int access_sample_init(struct access_sampler *s, uint32_t every, uint64_t window_ns,
		       uint64_t now_ns)
{
	size_t bytes = topk_sketch_mem_size(ACCESS_SKETCH_K);

	memset(s, 0, sizeof(*s));
	s->sketch_mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (s->sketch_mem == NULL)
		return -ENOMEM;
	if (topk_sketch_init(&s->sketch, s->sketch_mem, bytes, ACCESS_SKETCH_K) != 0) {
		access_sample_free(s);
		return -EINVAL;
	}
	s->window_ns = window_ns;
	s->last_decay_ns = now_ns;
	access_sample_set_every(s, every);
	return 0;
}

void access_sample_free(struct access_sampler *s)
{
	free(s->sketch_mem);
	s->sketch_mem = NULL;
}

void access_sample_set_every(struct access_sampler *s, uint32_t every)
{
	s->every = every;
	s->countdown = every != 0 ? every : ACCESS_OFF_COUNTDOWN;
}

void access_sample_take(struct access_sampler *s, uint64_t hash, const uint8_t *key,
			uint8_t key_len)
{
	s->countdown = s->every != 0 ? s->every : ACCESS_OFF_COUNTDOWN;
	if (s->every == 0)
		return;
	if (s->n_pending == ACCESS_PENDING_MAX) {
		s->dropped++;
		return;
	}
	struct access_pending *p = &s->pending[s->n_pending++];
	uint8_t keep = key_len < TOPK_KEY_MAX ? key_len : TOPK_KEY_MAX;

	p->hash = hash;
	p->key_len = key_len;
	memcpy(p->key, key, keep);
}

void access_sample_drain(struct access_sampler *s)
{
	for (uint32_t i = 0; i < s->n_pending; i++) {
		const struct access_pending *p = &s->pending[i];
		uint32_t r = keyhash_region(p->hash);

		/* Single writer: a load and a store, both atomic, keep readers whole. */
		__atomic_store_n(&s->region_sampled[r], s->region_sampled[r] + 1, __ATOMIC_RELAXED);
		topk_sketch_add(&s->sketch, p->hash, p->key, p->key_len, 1);
	}
	s->sampled += s->n_pending;
	s->n_pending = 0;
}

void access_sample_publish(struct access_sampler *s, uint64_t now_ns)
{
	struct access_published *pub = &s->pub;
	uint32_t seq = atomic_load_explicit(&pub->seq, memory_order_relaxed);

	if (s->window_ns != 0 && now_ns - s->last_decay_ns >= s->window_ns) {
		topk_sketch_decay(&s->sketch);
		s->last_decay_ns = now_ns;
	}
	atomic_store_explicit(&pub->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	pub->n = (uint32_t)topk_sketch_top(&s->sketch, pub->top, ACCESS_PUBLISH_TOP);
	pub->sampled = s->sketch.total;
	atomic_store_explicit(&pub->seq, seq + 2, memory_order_release);
}

size_t access_sample_read(const struct access_sampler *s, struct topk_entry *out, size_t max,
			  uint64_t *sampled)
{
	const struct access_published *pub = &s->pub;

	for (;;) {
		uint32_t before = atomic_load_explicit(&pub->seq, memory_order_acquire);
		size_t n;

		if (before & 1)
			continue;
		/* Plain copies of fields the worker may be rewriting: the
		 * sequence check below throws a torn copy away. */
		n = pub->n < max ? pub->n : max;
		memcpy(out, pub->top, n * sizeof(out[0]));
		*sampled = pub->sampled;
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&pub->seq, memory_order_relaxed) == before)
			return n;
	}
}
