/* inflight.h - requests sent and not yet answered, keyed by opaque (no DPDK).
 *
 * A ring indexed by request sequence number: request seq lives in slot
 * seq & mask and its opaque on the wire is seq (native protocol, 32 bits) or
 * seq & 0xffff (memcached's 16-bit request id). Lookup is one index and one
 * compare; a late answer for a slot since reused is told apart by its seq.
 * Requests still pending when the ring wraps onto them (lost ones, usually)
 * are moved to a small FIFO "aside", in seq order, so one lost request does
 * not hold up the ring until it times out. The oldest outstanding request is
 * at the front of the aside FIFO, or else at the ring's tail: that is where
 * timeouts are found.
 *
 *   inflight_room()     how many may be allocated now (may move entries aside)
 *   inflight_alloc()    next seq, or NULL when there is no room
 *   inflight_find()     the outstanding entry an answer's opaque names
 *   inflight_complete() done (answered, timed out or never sent)
 *   inflight_oldest()   the oldest outstanding entry, or NULL
 *
 * Entry pointers are valid until the next inflight_room() call.
 */
#ifndef BLASTER_INFLIGHT_H
#define BLASTER_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

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
	uint32_t tail;        /* oldest seq still in the ring (== head when empty) */
	uint32_t outstanding; /* PENDING entries, ring and aside */
	uint32_t opaque_mask; /* 0xffffffff, or 0xffff for 16-bit request ids */
	struct inflight_entry *aside;
	uint32_t aside_mask;
	uint32_t aside_head;  /* FIFO positions; count = head - tail */
	uint32_t aside_tail;
};

/* capacity and aside_capacity: powers of two, capacity in 2 ..
 * INFLIGHT_CAPACITY_MAX and at most opaque_mask + 1. first_seq lets a test
 * start near the 32-bit wrap. Returns 0, -EINVAL or -ENOMEM. */
int inflight_init(struct inflight *t, uint32_t capacity, uint32_t aside_capacity,
		  uint32_t opaque_mask, uint32_t first_seq) we_must_check;
void inflight_fini(struct inflight *t);

static inline uint64_t inflight_key(const struct inflight_entry *e)
{
	return ((uint64_t)e->key_hi << 32) | e->key_lo;
}

static inline void inflight_set_key(struct inflight_entry *e, uint64_t key)
{
	e->key_lo = (uint32_t)key;
	e->key_hi = (uint8_t)(key >> 32);
}

/* With 16-bit opaques, an outstanding request whose id one of the next
 * `margin` requests would reuse must be retired first (the caller counts it
 * as timed out: 65536 requests later, its answer is not coming). */
static inline bool inflight_id_exhausted(const struct inflight *t, const struct inflight_entry *e,
					 uint32_t margin)
{
	return (uint64_t)(t->head - e->seq) + margin > t->opaque_mask;
}

uint32_t inflight_room(struct inflight *t);
struct inflight_entry *inflight_alloc(struct inflight *t);
struct inflight_entry *inflight_find(struct inflight *t, uint32_t opaque);
struct inflight_entry *inflight_by_seq(struct inflight *t, uint32_t seq);
void inflight_complete(struct inflight *t, struct inflight_entry *e);
struct inflight_entry *inflight_oldest(struct inflight *t);

#endif
