/* wal_ring.h - one worker's log records on their way to the storage thread
 * (single producer, single consumer, lock-free; no DPDK).
 *
 *   wal_ring_init      wal_ring.c  take over [mem, mem + bytes), a power of two
 *   wal_ring_reserve   inline      producer: contiguous space for one record, or NULL
 *   wal_ring_commit    inline      producer: publish what was reserved
 *   wal_ring_span      wal_ring.c  consumer: the next contiguous run of whole records
 *   wal_ring_release   inline      consumer: give bytes back to the producer
 *   wal_ring_rewind    inline      consumer: read again from the oldest unreleased byte
 *   wal_ring_used      inline      bytes published and not yet released
 *
 * The ring holds encoded WAL records (wal_record.h) back to back, so the
 * storage thread can write a span of many records with one write(). A record
 * is never split across the end of the memory: when it does not fit before
 * the end, the producer writes a pad marker (a first word of WAL_RING_PAD)
 * and puts the record at the start. Records are at most half the ring, so a
 * record always fits an empty ring.
 *
 * head and tail are free-running byte counts (index = count & mask), each
 * written by one side only, with release stores and acquire loads; each
 * side keeps a private copy of the other's counter and reloads it only when
 * the copy says "full" or "empty". No other shared state: a write costs no
 * atomic read-modify-write.
 *
 * The producer never blocks: reserve returns NULL when the ring is full and
 * the data plane answers BUSY (or NOT_DURABLE) instead.
 */
#ifndef WAL_RING_H
#define WAL_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal_record.h"
#include "we_compiler.h"

#define WAL_RING_PAD UINT32_MAX /* first word of a pad: skip to the ring's start */
#define WAL_RING_BYTES_MIN 4096u
_Static_assert(WAL_RING_PAD > WAL_RECORD_BYTES_MAX, "a pad word is never a record length");

struct wal_ring {
	/* Producer's line. */
	_Atomic uint64_t head we_cache_aligned; /* bytes published */
	uint64_t prod_tail;                     /* producer's copy of tail */
	uint64_t prod_next;                     /* head after the pending reserve */
	/* Consumer's line. */
	_Atomic uint64_t tail we_cache_aligned; /* bytes released */
	uint64_t cons_head;                     /* consumer's copy of head */
	uint64_t cons_read;                     /* bytes read (>= tail): spans not yet released */
	/* Read-only after init. */
	uint8_t *mem we_cache_aligned;
	uint64_t bytes;
	uint64_t mask;
};

/* A run of whole records at the consumer's end of the ring. */
struct wal_ring_span {
	const uint8_t *data;
	uint32_t bytes;      /* 0: nothing to read */
	uint32_t records;
	uint64_t first_lsn;  /* of the first record (valid when records > 0) */
	uint64_t last_lsn;   /* of the last record */
	uint64_t release;    /* bytes the span consumed, a pad before it included */
	uint32_t blocked_bytes; /* the next record, when it alone exceeded max_bytes (else 0) */
	uint64_t blocked_lsn;   /* its LSN */
};

/* mem: 64-byte aligned; bytes: a power of two from WAL_RING_BYTES_MIN to 2 GiB.
 * Returns 0 or -EINVAL. */
int wal_ring_init(struct wal_ring *r, void *mem, uint64_t bytes) we_must_check;

/* Largest record a ring of this size takes. */
static inline uint64_t wal_ring_record_max(const struct wal_ring *r)
{
	return r->bytes / 2;
}

/* Producer: room for one record of `bytes` (a multiple of 8), contiguous and
 * 8-byte aligned, or NULL when the ring lacks the room now (or ever, above
 * wal_ring_record_max). Nothing is visible to the consumer before
 * wal_ring_commit; a second reserve before the commit replaces the first. */
static inline void *wal_ring_reserve(struct wal_ring *r, uint32_t bytes)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t idx = head & r->mask;
	uint64_t to_end = r->bytes - idx;
	uint64_t need = bytes <= to_end ? bytes : to_end + bytes;

	if (we_unlikely(bytes == 0 || (bytes & (WAL_RECORD_ALIGN - 1)) != 0 ||
			bytes > wal_ring_record_max(r)))
		return NULL;
	if (head + need - r->prod_tail > r->bytes) {
		r->prod_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + need - r->prod_tail > r->bytes)
			return NULL;
	}
	if (need != bytes) {
		uint32_t pad = WAL_RING_PAD;

		__builtin_memcpy(r->mem + idx, &pad, sizeof(pad));
		idx = 0;
	}
	r->prod_next = head + need;
	return r->mem + idx;
}

/* Producer: the reserved record is complete; the consumer may take it. */
static inline void wal_ring_commit(struct wal_ring *r)
{
	atomic_store_explicit(&r->head, r->prod_next, memory_order_release);
}

/* Consumer: the longest run of whole records from the read cursor that is
 * contiguous in memory and at most max_bytes long; the cursor moves past it.
 * A pad at the cursor is skipped (counted in span->release). When the next
 * record alone exceeds max_bytes, the span is empty and blocked_bytes says
 * how large that record is. Returns span->bytes. */
uint32_t wal_ring_span(struct wal_ring *r, uint32_t max_bytes, struct wal_ring_span *span);

/* Consumer: the oldest `bytes` read (sum of spans' release) may be
 * overwritten now. */
static inline void wal_ring_release(struct wal_ring *r, uint64_t bytes)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, tail + bytes, memory_order_release);
}

/* Consumer: forget the spans read and not released (their write failed):
 * the next span starts at the oldest unreleased record again. */
static inline void wal_ring_rewind(struct wal_ring *r)
{
	r->cons_read = atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* Bytes published and not yet released (for gauges; racy by nature). */
static inline uint64_t wal_ring_used(const struct wal_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

#endif
