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
		r = ckpt_port_post(p, CKPT_MSG_CHUNK, s->buf, s->chunk.used, s->chunk.records,
				   s->chunk.archived);
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

/* Fresh buffers the items would need beyond the room left in the current
 * chunk (a record is never split: it goes to a new chunk when it does not
 * fit). A record larger than a chunk counts one; ckpt_chunk_add refuses it. */
static unsigned buffers_needed(const struct ckpt_scan *s, const struct ckpt_port *p,
			       const struct shard_scan_item *items, int n)
{
	uint32_t cap = p->chunk_bytes & ~7u; /* as ckpt_chunk_init */
	uint64_t room = s->buf >= 0 ? s->chunk.cap - s->chunk.used : 0;
	unsigned need = 0;

	for (int i = 0; i < n; i++) {
		uint32_t size = wal_record_size(items[i].key_len,
						items[i].tier == TIER_SINGULARITY ? WAL_ARCHIVED_REF_BYTES
										  : items[i].value_len);

		if (size > room) {
			need++;
			room = cap;
		}
		room -= size < room ? size : room;
	}
	return need;
}

_Static_assert(CKPT_SCAN_STEP_ITEMS >= SHARD_SCAN_ITEMS_MIN,
	       "a checkpoint step holds the longest chain of the index");

int ckpt_scan_step(struct ckpt_scan *s, struct ckpt_port *p, struct shard *sh,
		   uint64_t lsn_now, unsigned max_items)
{
	struct shard_scan_item items[CKPT_SCAN_STEP_ITEMS];
	struct shard_scan from = s->cursor;
	unsigned spare;
	int n;

	if (!s->active)
		return 0;
	spare = ckpt_port_reclaim(p);
	if (max_items > CKPT_SCAN_STEP_ITEMS)
		max_items = CKPT_SCAN_STEP_ITEMS;
	/* FIX: this used to take a fresh buffer (or insist on the current one
	 * plus a spare) and then copy whatever the step found, giving the whole
	 * checkpoint up (-ENOBUFS, an ABORT) when the step's items overflowed
	 * the buffers it held: a step of 64 items of more than 4 KiB each
	 * needs three 256 KiB chunks, and while the thread was still writing
	 * the others the scan failed instead of waiting. The items are now
	 * measured before they are copied: a step that does not fit the
	 * buffers the worker holds scans only the next chain, and if even that
	 * does not fit, the cursor goes back and the step copies nothing (the
	 * shard is const here, so the same chains are found again). */
	n = shard_scan_step(sh, &s->cursor, items, max_items, max_items);
	if (n > 0 && buffers_needed(s, p, items, n) > spare) {
		s->cursor = from;
		n = shard_scan_step(sh, &s->cursor, items, max_items, 1);
		if (n > 0 && buffers_needed(s, p, items, n) > spare) {
			s->cursor = from;
			if (spare + (s->buf >= 0 ? 1u : 0u) < CKPT_PORT_BUFFERS)
				return 0; /* wait for the buffers the thread holds */
			if (s->buf >= 0 && s->chunk.used > 0) {
				/* Every buffer is here: send the partly filled one
				 * so the chain can start a fresh chunk once it is
				 * back. */
				if (submit(s, p) != 0) {
					give_up(s, p, -EAGAIN);
					return -EAGAIN;
				}
				return 0;
			}
			/* One chain needs more than all the buffers. */
			give_up(s, p, -EMSGSIZE);
			return -EMSGSIZE;
		}
	}
	if (n < 0) {
		give_up(s, p, n);
		return n;
	}
	for (int i = 0; i < n; i++) {
		/* A compressed item goes out as its value (decompressed into
		 * the shard's scratch, used before the next item's); an archived
		 * one as its reference, which the checkpoint thread reads. */
		bool archived = items[i].tier == TIER_SINGULARITY;
		const uint8_t *value = archived ? items[i].value : shard_scan_value(sh, &items[i]);
		struct wal_record rec = {
			.type = archived ? WAL_REC_ARCHIVED : WAL_REC_PUT,
			.worker = p->worker,
			.region = (uint16_t)keyhash_region(keyhash(items[i].key, items[i].key_len)),
			.lsn = lsn_now, /* the value is current at it */
			.key = items[i].key,
			.key_len = items[i].key_len,
			.value = value,
			.value_len = archived ? WAL_ARCHIVED_REF_BYTES : items[i].value_len,
		};
		int r;

		if (value == NULL) {
			give_up(s, p, -EBADMSG); /* damaged memory */
			return -EBADMSG;
		}
		if (s->buf < 0 && next_buffer(s, p) != 0) {
			give_up(s, p, -ENOBUFS); /* cannot happen: measured above */
			return -ENOBUFS;
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
