/* inflight.h - requests sent and not yet answered, keyed by opaque (no DPDK).
 *
 * A ring indexed by request sequence number: request seq lives in slot
 * seq & mask and its opaque on the wire is seq (native protocol, 32 bits) or
 * seq & 0xffff (memcached's 16-bit request id). Lookup is one index and one
 * compare; a late answer for a slot since reused is told apart by its seq.
 * The oldest outstanding request sits at the tail, which is where timeouts
 * are found.
 *
 *   inflight_alloc()    next seq, or NULL when the ring is full
 *   inflight_find()     the outstanding entry an answer's opaque names
 *   inflight_complete() done (answered, timed out or never sent)
 *   inflight_oldest()   the tail entry, or NULL when nothing is outstanding
 */
#ifndef BLASTER_INFLIGHT_H
#define BLASTER_INFLIGHT_H

#include <stdint.h>

#include "verify.h"
#include "we_compiler.h"

#define INFLIGHT_CAPACITY_MAX (1u << 24)

enum inflight_state {
	INFLIGHT_FREE = 0,
	INFLIGHT_PENDING,
	INFLIGHT_DONE,
};

/* One request; what the answer is checked and timed against. 32 bytes. */
struct inflight_entry {
	uint64_t intended_ns; /* when it should have left (latency origin) */
	uint64_t sent_ns;     /* when it left, or was prepared (timeout and rtt origin) */
	uint32_t seq;
	uint32_t key_lo;      /* key index, low 32 bits */
	uint16_t version;     /* PUT: the version written; GET: verify snapshot */
	uint8_t op;           /* enum workload_op */
	uint8_t state;        /* enum inflight_state */
	uint8_t key_hi;       /* key index, bits 32..39 */
	uint8_t deletes_lo;   /* GET: verify snapshot */
	uint8_t vflags;       /* GET: verify snapshot flags; 0 when not verifying */
	uint8_t sent;         /* 1 once its datagram left */
};
_Static_assert(sizeof(struct inflight_entry) == 32, "inflight entry size");

struct inflight {
	struct inflight_entry *e;
	uint32_t mask;
	uint32_t head;        /* next seq to hand out */
	uint32_t tail;        /* oldest seq not yet DONE (== head when empty) */
	uint32_t outstanding; /* PENDING entries */
};

/* capacity: a power of two in 2 .. INFLIGHT_CAPACITY_MAX. first_seq lets a
 * test start near the 32-bit wrap. Returns 0, -EINVAL or -ENOMEM. */
int inflight_init(struct inflight *t, uint32_t capacity, uint32_t first_seq) we_must_check;
void inflight_fini(struct inflight *t);

static inline uint32_t inflight_room(const struct inflight *t)
{
	return t->mask + 1 - (t->head - t->tail);
}

static inline uint64_t inflight_key(const struct inflight_entry *e)
{
	return ((uint64_t)e->key_hi << 32) | e->key_lo;
}

static inline void inflight_set_key(struct inflight_entry *e, uint64_t key)
{
	e->key_lo = (uint32_t)key;
	e->key_hi = (uint8_t)(key >> 32);
}

struct inflight_entry *inflight_alloc(struct inflight *t);
/* opaque_mask: 0xffffffff (native) or 0xffff (memcached). */
struct inflight_entry *inflight_find(struct inflight *t, uint32_t opaque, uint32_t opaque_mask);
void inflight_complete(struct inflight *t, struct inflight_entry *e);
struct inflight_entry *inflight_oldest(struct inflight *t);
struct inflight_entry *inflight_by_seq(struct inflight *t, uint32_t seq);

#endif
