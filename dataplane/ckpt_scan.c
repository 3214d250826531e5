/* ckpt_scan.c - a worker's share of a checkpoint (see ckpt_scan.h).
 *
 * DESIGN: pure bookkeeping over three things handed in: the shard's
 * resumable scan (shard.h), the chunk encoder (checkpoint.h) and the
 * worker's end of the hand-off (ckpt_writer.h). Items are copied into the
 * chunk as they are found, so the pointers shard_scan_step returns (valid
 * until the next mutation) are used within the step.
 */
#include "ckpt_scan.h"

#include <errno.h>

#include "arena.h"
#include "keyhash.h"

static void give_up(struct ckpt_scan *s, struct ckpt_port *p, int err)
{
	if (s->buf >= 0)
		p->free_mask |= 1u << s->buf; /* never posted: still the worker's */
	s->buf = -1;
	s->active = false;
	/* The ring has room for the scan's own messages (ckpt_writer.h). */
	(void)!ckpt_port_post(p, CKPT_MSG_ABORT, err, s->id, 0, 0);
}

int ckpt_scan_begin(struct ckpt_scan *s, struct ckpt_port *p, uint64_t id, uint64_t lsn_now)
{
	if (s->active)
		return -EBUSY;
	if (ckpt_port_post(p, CKPT_MSG_START, 0, id, lsn_now, 0) != 0)
		return -EAGAIN;
	s->active = true;
	s->id = id;
	s->start_lsn = lsn_now;
	s->items = 0;
	s->buf = -1;
	s->cursor.bucket = 0;
	return 0;
}

/* Post the current chunk (an empty one goes back to the free set). */
static int submit(struct ckpt_scan *s, struct ckpt_port *p)
{
	int r = 0;

	if (s->buf < 0)
		return 0;
	if (s->chunk.used == 0)
		p->free_mask |= 1u << s->buf;
	else
		r = ckpt_port_post(p, CKPT_MSG_CHUNK, s->buf, s->chunk.used, s->chunk.records, 0);
	s->buf = -1;
	return r;
}

static int next_buffer(struct ckpt_scan *s, struct ckpt_port *p)
{
	s->buf = ckpt_port_take(p);
	if (s->buf < 0)
		return -ENOBUFS;
	ckpt_chunk_init(&s->chunk, p->buffers[s->buf], p->chunk_bytes, p->worker);
	return 0;
}

int ckpt_scan_step(struct ckpt_scan *s, struct ckpt_port *p, const struct shard *sh,
		   uint64_t lsn_now, unsigned max_items)
{
	struct shard_scan_item items[CKPT_SCAN_STEP_ITEMS];
	int n;

	if (!s->active)
		return 0;
	ckpt_port_reclaim(p);
	/* The current buffer and a spare, or a fresh buffer and nothing else:
	 * either way the step's items fit (ckpt_scan.h). */
	if (p->free_mask == 0 && (s->buf < 0 || s->chunk.used > 0))
		return 0;
	if (s->buf < 0 && next_buffer(s, p) != 0)
		return 0;
	if (max_items > CKPT_SCAN_STEP_ITEMS)
		max_items = CKPT_SCAN_STEP_ITEMS;
	n = shard_scan_step(sh, &s->cursor, items, max_items, max_items);
	if (n < 0) {
		give_up(s, p, n);
		return n;
	}
	for (int i = 0; i < n; i++) {
		struct wal_record rec = {
			.type = WAL_REC_PUT,
			.worker = p->worker,
			.region = (uint16_t)keyhash_region(keyhash(items[i].key, items[i].key_len)),
			.lsn = items[i].lsn,
			.key = items[i].key,
			.key_len = items[i].key_len,
			.value = items[i].value,
			.value_len = items[i].stored_len,
		};
		int r;

		if (items[i].tier != TIER_EVENT_HORIZON) {
			give_up(s, p, -ENOTSUP); /* compressed tiers: not yet */
			return -ENOTSUP;
		}
		r = ckpt_chunk_add(&s->chunk, &rec);
		if (r == -ENOSPC) {
			if (submit(s, p) != 0 || next_buffer(s, p) != 0) {
				give_up(s, p, -ENOBUFS);
				return -ENOBUFS;
			}
			r = ckpt_chunk_add(&s->chunk, &rec);
		}
		if (r != 0) {
			give_up(s, p, r);
			return r;
		}
	}
	s->items += (uint64_t)n;
	if (shard_scan_done(sh, &s->cursor)) {
		if (submit(s, p) != 0 ||
		    ckpt_port_post(p, CKPT_MSG_DONE, 0, s->id, lsn_now, s->items) != 0) {
			give_up(s, p, -EAGAIN);
			return -EAGAIN;
		}
		s->active = false;
	}
	return n;
}
