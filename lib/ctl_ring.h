/* ctl_ring.h - a worker's control ring: messages to one worker from any
 * thread (no DPDK).
 *
 *   ctl_ring_init      ctl_ring.c  bind a ring to memory handed in
 *   ctl_ring_post      ctl_ring.c  enqueue one message (any thread; never blocks)
 *   ctl_ring_take      ctl_ring.c  dequeue up to n messages (the owning worker only)
 *   ctl_ring_bytes     inline      memory for a capacity
 *
 * Messages reach a worker between bursts, in its service step: the log
 * writer tells it how far its log is durable, the supervisor (and later the
 * control socket) sends commands and fences. Producers are few and never on
 * the request path; the consumer is the worker's loop, which must never
 * wait. So: a bounded ring of fixed-size messages with a sequence number per
 * cell (the scheme of Vyukov's bounded MPMC queue, here with one consumer).
 * A producer claims a cell with one compare-and-swap on the tail and
 * publishes it by storing the cell's sequence; the consumer reads cells in
 * order while their sequence says "full". A full ring refuses a post
 * (-EAGAIN): the producer keeps what it meant to say and tries again later,
 * which suits messages that a newer one supersedes (durable LSNs).
 *
 * This is separate from the whole-process pause/stop word (worker.h), which
 * must work even when a worker is not reading its ring.
 */
#ifndef CTL_RING_H
#define CTL_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

enum ctl_msg_type {
	CTL_MSG_NONE = 0,
	/* From the log writer: records up to lsn are on disk (u64 a = lsn),
	 * or the log cannot be written now (i32 = negative errno; 0 = fine). */
	CTL_MSG_DURABLE = 1,
	/* From anyone: "you have applied every message before this one";
	 * the worker copies a (a sequence number) to its acknowledgement. */
	CTL_MSG_FENCE = 2,
	/* From the supervisor: begin copying your shard into checkpoint a
	 * (ckpt_scan.h). */
	CTL_MSG_CHECKPOINT = 3,
	/* From the supervisor (config-set): setting i32 (enum setting_id,
	 * dataplane/settings.h) takes value a from now on. */
	CTL_MSG_SET = 4,
	/* Region moves (dataplane/region_move.h); a points at the move's
	 * channel. To the region's owner: hand the region over (MOVE_OUT),
	 * a chunk came back (MOVE_CHUNK_FREE, b = chunk index), delete your
	 * copy now that the move is complete (MOVE_PURGE). To the worker
	 * taking it over: a chunk of items (MOVE_CHUNK, b = chunk index), no
	 * more chunks (MOVE_END, i32 = 0 or the exporter's negative errno),
	 * the region is yours (MOVE_FINISH), give it back (MOVE_ABORT). */
	CTL_MSG_MOVE_OUT = 5,
	CTL_MSG_MOVE_CHUNK = 6,
	CTL_MSG_MOVE_END = 7,
	CTL_MSG_MOVE_CHUNK_FREE = 8,
	CTL_MSG_MOVE_FINISH = 9,
	CTL_MSG_MOVE_ABORT = 10,
	CTL_MSG_MOVE_PURGE = 11,
};

/* Message, 32 bytes:
 *   0  type   u32  enum ctl_msg_type
 *   4  i32    i32  small signed argument (an errno for DURABLE)
 *   8  a      u64
 *  16  b      u64
 *  24  c      u64  meaning per type */
struct ctl_msg {
	uint32_t type;
	int32_t i32;
	uint64_t a;
	uint64_t b;
	uint64_t c;
};
_Static_assert(sizeof(struct ctl_msg) == 32, "control message layout");

struct ctl_cell {
	_Atomic uint64_t seq; /* == position: empty for it; == position + 1: full */
	uint64_t pad;
	struct ctl_msg msg;
};
_Static_assert(sizeof(struct ctl_cell) == 48, "control cell layout");

struct ctl_ring {
	_Atomic uint64_t tail we_cache_aligned; /* producers: next position to claim */
	uint64_t head we_cache_aligned;         /* the consumer's next position */
	uint64_t mask;
	struct ctl_cell *cells;
	_Atomic uint64_t refused; /* posts refused because the ring was full */
};

static inline size_t ctl_ring_bytes(uint32_t capacity)
{
	return (size_t)capacity * sizeof(struct ctl_cell);
}

/* mem: ctl_ring_bytes(capacity) bytes; capacity a power of two >= 2.
 * 0 or -EINVAL. */
int ctl_ring_init(struct ctl_ring *r, void *mem, uint32_t capacity) we_must_check;
/* Enqueue *m. 0, or -EAGAIN when the ring is full (counted in refused). */
int ctl_ring_post(struct ctl_ring *r, const struct ctl_msg *m) we_must_check;
/* Dequeue up to max messages into out[], in the order they were posted
 * (per producer; posts racing from two producers are ordered by their
 * claim). Returns how many. Only the ring's worker calls it. */
unsigned ctl_ring_take(struct ctl_ring *r, struct ctl_msg *out, unsigned max);

#endif
