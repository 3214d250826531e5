/* ckpt_scan.h - a worker's share of a checkpoint: copy its shard out, a
 * budget of items per service step, into chunk buffers for the checkpoint
 * thread (no DPDK).
 *
 *   ckpt_scan_begin   ckpt_scan.c  note the LSN, start the cursor, open the part
 *   ckpt_scan_step    ckpt_scan.c  one budgeted step (the worker's service step)
 *   ckpt_scan_active  inline
 *
 * The checkpoint is fuzzy: the worker keeps serving between steps, so items
 * change behind the cursor and ahead of it. Each item goes out with the
 * worker's LSN at the step that copied it (items keep no LSN of their own:
 * the value is current at that LSN, its write at or before it); the part
 * records start_lsn (the
 * worker's LSN when the scan began) and DONE carries the LSN when it ended.
 * Recovery loads the part and then replays this worker's log records above
 * start_lsn: whatever a step copied, the log after start_lsn brings every
 * key to its last written value (shard_scan_step visits each item present
 * at the start and not deleted exactly once).
 *
 * A step never waits: it measures the items shard_scan_step found before
 * copying them; when they do not fit the buffers the worker holds (the
 * thread is still writing the others), it copies only the next chain, or
 * nothing and puts the cursor back. A chain larger than all the worker's
 * buffers together (values far above a datagram's) gives the scan up
 * (-EMSGSIZE): such an item cannot be checkpointed with 256 KiB chunks.
 */
#ifndef CKPT_SCAN_H
#define CKPT_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint.h"
#include "ckpt_writer.h"
#include "shard.h"

#define CKPT_SCAN_STEP_ITEMS 64 /* items copied per service step at most */

struct ckpt_scan {
	bool active;
	uint64_t id;
	uint64_t start_lsn;
	uint64_t items;
	int buf; /* buffer being filled, -1 none */
	struct shard_scan cursor;
	struct ckpt_chunk chunk;
};

static inline bool ckpt_scan_active(const struct ckpt_scan *s)
{
	return s->active;
}

/* Start checkpoint id with the worker's current LSN. -EBUSY if a scan is
 * still running (the new one is refused: the thread will see the old one's
 * end first), -EAGAIN if the hand-off ring is full. */
int ckpt_scan_begin(struct ckpt_scan *s, struct ckpt_port *p, uint64_t id, uint64_t lsn_now)
	we_must_check;
/* One step of at most max_items (>= SHARD_SCAN_ITEMS_MIN) items. Returns
 * the items copied (0: nothing to do now), or a negative errno when the
 * scan gave up (its part is then aborted, the scan inactive). */
int ckpt_scan_step(struct ckpt_scan *s, struct ckpt_port *p, struct shard *sh,
		   uint64_t lsn_now, unsigned max_items);

#endif
