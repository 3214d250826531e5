/* wal_ring.c - the consumer's side of a worker's record ring.
 *
 * DESIGN
 * The producer's side is inline in wal_ring.h: it runs on the worker lcore
 * for every logged write. The consumer (the storage thread) walks the record
 * headers from its read cursor to find a run it can hand to one write(); it
 * releases the bytes only once they are durable, and rewinds the cursor to
 * write them again when the write failed. The run
 * stops at the published head, at a pad marker (the rest of the memory is
 * unused, the next record is at the start) or at max_bytes, so the writer
 * can end a run where a segment ends. The walk reads one length per record
 * and tracks the first and last LSN, which the writer publishes as durable
 * once the run is on disk.
 *
 * The ring's contents come from our own producer, so a length that does not
 * parse is a bug and stops the process (WE_ASSERT), unlike bytes read from a
 * disk.
 */
#include "wal_ring.h"

#include <errno.h>
#include <string.h>

#include "we_assert.h"

int wal_ring_init(struct wal_ring *r, void *mem, uint64_t bytes)
{
	if (mem == NULL || ((uintptr_t)mem & (WE_CACHE_LINE - 1)) != 0 ||
	    bytes < WAL_RING_BYTES_MIN || (bytes & (bytes - 1)) != 0 || bytes > (UINT64_C(1) << 31))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mem = mem;
	r->bytes = bytes;
	r->mask = bytes - 1;
	return 0;
}

uint32_t wal_ring_span(struct wal_ring *r, uint32_t max_bytes, struct wal_ring_span *span)
{
	uint64_t start = r->cons_read;
	uint64_t pos = start;
	uint64_t end;
	uint32_t len;

	memset(span, 0, sizeof(*span));
	if (r->cons_head == pos)
		r->cons_head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (r->cons_head == pos)
		return 0;
	/* A pad at the cursor: the records go on at the start of the memory. */
	memcpy(&len, r->mem + (pos & r->mask), sizeof(len));
	if (len == WAL_RING_PAD) {
		pos += r->bytes - (pos & r->mask);
		WE_ASSERT(pos <= r->cons_head);
	}
	span->data = r->mem + (pos & r->mask);
	end = pos + (r->bytes - (pos & r->mask)); /* the end of the memory */
	if (end > r->cons_head)
		end = r->cons_head;
	while (pos < end) {
		const struct wal_record_hdr *h = (const void *)(r->mem + (pos & r->mask));
		uint32_t rec;

		if (h->len == WAL_RING_PAD)
			break;
		WE_ASSERT(h->len >= WAL_RECORD_HDR_BYTES);
		rec = (h->len + WAL_RECORD_ALIGN - 1) & ~(WAL_RECORD_ALIGN - 1);
		WE_ASSERT(pos + rec <= end);
		if (span->bytes + rec > max_bytes) {
			if (span->records == 0) {
				span->blocked_bytes = rec;
				span->blocked_lsn = h->lsn;
			}
			break;
		}
		if (span->records == 0)
			span->first_lsn = h->lsn;
		span->last_lsn = h->lsn;
		span->records++;
		span->bytes += rec;
		pos += rec;
	}
	span->release = pos - start;
	r->cons_read = pos;
	return span->bytes;
}
