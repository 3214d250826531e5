/* worker_archive.c - the worker's side of the disk tier (the singularity).
 *
 * Three jobs in the service step, none of which waits or makes a system
 * call (the archive I/O thread does the file's reads and writes,
 * storage/archive_io.h):
 *  - the archive scan: while the arena's room is under its mark, pick cold
 *    items (shard_archive_step), copy their stored bytes into a write
 *    buffer as archive records and hand the buffer to the thread; when it
 *    answers WRITTEN, each item that has not changed meanwhile becomes a
 *    stub (shard_archive_commit) and its memory is free;
 *  - reads: GETs that found a stub wait in the fetch table (execute.c);
 *    their reads are asked for as read slots allow;
 *  - answers: a record read back is checked against its reference and key,
 *    decompressed when it was stored compressed, sent in a datagram of its
 *    own, and the item comes back into memory if it is warm enough and
 *    there is room (shard_archive_restore).
 */
#include "worker_archive.h"

#include <errno.h>
#include <string.h>

#include "archive.h"
#include "archive_io.h"
#include "archive_space.h"
#include "archive_stubs.h"
#include "netio.h"
#include "proto.h"
#include "temperature.h"
#include "we_assert.h"
#include "we_time.h"
#include "worker_tx.h"

/* The archive scan starts when the arena's room (untouched, and free in
 * blocks of ARENA_LARGE_BLOCK or more: free bytes in pieces between items
 * do not take a burst of PUTs of the largest size) falls under START % and
 * stops once it is over STOP %: the room under START takes the PUTs that
 * come before the scan's first batch is written (at 30 MB/s of PUTs, 15 %
 * of a 1 MiB arena lasts 5 ms), the room between the marks those of a
 * burst. */
#define ARCHIVE_START_ROOM_PCT 10
#define ARCHIVE_STOP_ROOM_PCT 15
/* Items whose block would not shrink by this much stay in memory: a stub
 * still costs its header, key and reference, and a read. */
#define ARCHIVE_MIN_SAVED_BYTES 96
#define ARCHIVE_STEP_CHAINS 128
/* The scan's level: from just above a new item's, up to the level from
 * which a GET brings an archived item back under pressure. */
#define ARCHIVE_LEVEL_MIN (TEMP_LEVEL_NEW + 1)
#define ARCHIVE_LEVEL_MAX WORKER_TIER_PROMOTE_LEVEL
#define ARCHIVE_IDLE_PASS_NS 50000000ull /* 50 ms */
/* Off the mark, a look every so many loop iterations: an idle worker's
 * iteration may last a sleep (--idle-sleep-us). */
#define ARCHIVE_LOOK_EVERY 8
#define ARCHIVE_MSGS_PER_STEP 32
/* Once a write failed, the scan rests this long before it tries again. */
#define ARCHIVE_RETRY_NS 1000000000ull
/* With every segment of the file in use, the scan rests this long (the
 * cleaner and the reclaims free segments meanwhile). */
#define ARCHIVE_FULL_REST_NS 10000000ull /* 10 ms */

#define ARCHIVE_SPACE_LOOK_EVERY 64

/* Free segments the archive scan leaves to the cleaner. */
static uint32_t scan_keep(const struct archive_space *sp)
{
	return sp->segments >= ARCHIVE_SPACE_CLEAN_MIN ? ARCHIVE_SPACE_KEEP : 0;
}

static bool arena_room_under(const struct shard_counters *c, unsigned pct)
{
	uint64_t room = c->arena_untouched_bytes + c->arena_free_large_bytes;

	return c->arena_bytes != 0 && room * 100 < c->arena_bytes * pct;
}

/* ---- the archive scan -------------------------------------------------- */

/* One step: fill a write buffer with the records of cold items and hand it
 * to the thread. Its level (items cooler than it go) rises by one after a
 * whole pass that left the arena over the low mark, up to the level from
 * which a GET brings an archived item back (the tiers' promote level under
 * pressure, worker.c): above it, what a GET brought back would go straight
 * out again. It falls by one each time the arena gets under the low mark.
 * A pass at the top level that found nothing rests the scan a while. */
static void archive_scan_step(struct worker *w)
{
	struct worker_archive *wa = &w->archive;
	struct shard *s = w->exec.shard;
	struct shard_archive_pick picks[SHARD_SCAN_ITEMS_MIN * 2];
	struct shard_counters c;
	struct archive_batch b;
	uint64_t offset;
	uint32_t room;
	int buf, n;

	/* Under the mark, a look every ARCHIVE_LOOK_EVERY iterations. */
	if (!wa->scanning && (w->iterations % ARCHIVE_LOOK_EVERY) != 0)
		return;
	if (wa->rest_until_ns != 0) {
		if (we_monotonic_ns() < wa->rest_until_ns)
			return;
		wa->rest_until_ns = 0;
	}
	shard_read_counters(s, &c);
	if (!wa->scanning) {
		if (!arena_room_under(&c, ARCHIVE_START_ROOM_PCT))
			return;
		wa->scanning = true;
	} else if (!arena_room_under(&c, ARCHIVE_STOP_ROOM_PCT)) {
		wa->scanning = false;
		if (wa->level > ARCHIVE_LEVEL_MIN)
			wa->level--;
		return;
	}
	room = archive_space_room(wa->space, scan_keep(wa->space));
	if (room == 0) {
		/* Every segment in use: the cleaner and reclaims free some. */
		w->stats.archive_space_full++;
		wa->rest_until_ns = we_monotonic_ns() + ARCHIVE_FULL_REST_NS;
		return;
	}
	buf = archive_port_take_write_buffer(wa->port);
	if (buf < 0)
		return; /* both buffers with the thread (or the cleaner) */
	if (shard_scan_done(s, &wa->cursor)) {
		/* A whole pass did not get under the mark. */
		if (wa->level >= ARCHIVE_LEVEL_MAX && wa->pass_picked == 0) {
			archive_port_give_back_write_buffer(wa->port, buf);
			wa->rest_until_ns = we_monotonic_ns() + ARCHIVE_IDLE_PASS_NS;
			w->stats.archive_passes++;
			wa->cursor = (struct shard_scan){0};
			return;
		}
		if (wa->level < ARCHIVE_LEVEL_MAX)
			wa->level++;
		wa->cursor = (struct shard_scan){0};
		wa->pass_picked = 0;
		w->stats.archive_passes++;
	}
	archive_batch_init(&b, archive_port_write_buffer(wa->port, buf),
			   room < ARCHIVE_WRITE_BUFFER_BYTES ? room : ARCHIVE_WRITE_BUFFER_BYTES);
	struct shard_archive_policy p = {
		.archive_below = wa->level,
		.min_saved_bytes = ARCHIVE_MIN_SAVED_BYTES,
		.max_chains = ARCHIVE_STEP_CHAINS,
		.max_stored_bytes = ARCHIVE_WRITE_BUFFER_BYTES / 2,
	};
	n = shard_archive_step(s, &wa->cursor, &p, picks, sizeof(picks) / sizeof(picks[0]));
	if (n > 0) {
		wa->pass_picked += (uint32_t)n;
		archive_stubs_fill(&b, picks, (unsigned)n, w->lsn); /* what does not fit: the next pass */
	}
	if (b.records == 0) {
		/* The first pick does not fit the segment's rest: the next
		 * step opens another. */
		if (n > 0)
			archive_space_close_open(wa->space);
		archive_port_give_back_write_buffer(wa->port, buf);
		return;
	}
	/* Records compressed against the shard's dictionary are decoded by
	 * other threads too (checkpoints, region moves): it is on the file
	 * before the first of them is written. */
	if (!wa->dict_published && shard_dict_view(s) != NULL) {
		archive_port_set_dict(wa->port, shard_dict_view(s));
		wa->dict_published = true;
	}
	offset = archive_space_take(wa->space, b.used);
	if (archive_port_post_write(wa->port, buf, b.used, b.records, offset) != 0) {
		archive_space_batch_done(wa->space, offset); /* those bytes stay unused */
		archive_port_give_back_write_buffer(wa->port, buf);
		return;
	}
	w->stats.archive_batches++;
	w->stats.archive_records += b.records;
}

/* The thread wrote a batch at file offset base: every record's item that
 * still stores the bytes it had when picked becomes a stub naming it. */
static void archive_written(struct worker *w, const struct ctl_msg *m)
{
	struct worker_archive *wa = &w->archive;
	struct shard *s = w->exec.shard;
	int buf = (int)m->b;
	/* The buffer as this worker filled it; its records are walked up to
	 * the count the thread gives back. */
	struct archive_batch b = {.buf = archive_port_write_buffer(wa->port, buf),
				  .cap = ARCHIVE_WRITE_BUFFER_BYTES,
				  .used = ARCHIVE_WRITE_BUFFER_BYTES};
	uint64_t stale;

	if (m->i32 != 0) {
		w->stats.archive_write_errors++;
		wa->rest_until_ns = we_monotonic_ns() + ARCHIVE_RETRY_NS;
		archive_space_batch_done(wa->space, m->a);
		archive_port_give_back_write_buffer(wa->port, buf);
		return;
	}
	w->stats.archive_committed += archive_stubs_commit(s, &b, m->c, m->a, &stale);
	w->stats.archive_stale += stale;
	archive_space_batch_done(wa->space, m->a);
	archive_port_give_back_write_buffer(wa->port, buf);
}

/* ---- reads and answers ------------------------------------------------- */

/* Ask for the queued GETs' reads while read slots are free. */
static void archive_post_reads(struct worker *w)
{
	struct worker_archive *wa = &w->archive;
	int ticket;

	while ((ticket = fetch_next_queued(&wa->fetch)) >= 0) {
		struct fetch_entry *e = fetch_entry_at(&wa->fetch, (uint16_t)ticket);
		struct archive_ref ref = {
			.offset = e->ref.offset, .bytes = e->ref.bytes, .check = e->ref.check};
		int slot = archive_port_take_read_slot(wa->port);

		if (slot < 0) {
			fetch_requeue(&wa->fetch, (uint16_t)ticket);
			return;
		}
		if (archive_port_post_read(wa->port, slot, &ref, (uint64_t)ticket) != 0) {
			archive_port_give_back_read_slot(wa->port, slot);
			fetch_requeue(&wa->fetch, (uint16_t)ticket);
			return;
		}
		w->stats.archive_reads++;
	}
}

/* Send one GET's answer in a datagram of its own. False when no buffer. */
static bool archive_answer(struct worker *w, const struct fetch_entry *e, uint8_t status,
			   const uint8_t *value, uint32_t value_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct proto_writer pw;
	uint32_t len;

	if (unlikely(m == NULL)) {
		w->stats.tx_drop_nobuf++;
		return false;
	}
	proto_writer_init(&pw, worker_payload(m), PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, e->echo);
	proto_writer_append(&pw, e->op, 0, status, e->opaque, 0, 0, value, value_len);
	len = proto_writer_finish(&pw);
	w->stats.tx_reply_datagrams++;
	worker_tx(w, m, netio_write_udp_reply(rte_pktmbuf_mtod(m, uint8_t *), &e->udp, len,
					      w->udp_checksum));
	return true;
}

/* A read came back: check it, answer the GET, bring the item back. */
static void archive_read_done(struct worker *w, const struct ctl_msg *m)
{
	struct worker_archive *wa = &w->archive;
	uint16_t ticket = (uint16_t)m->c;
	int slot = (int)m->b;
	struct fetch_entry *e = fetch_entry_at(&wa->fetch, ticket);
	struct archive_ref ref = {.offset = e->ref.offset, .bytes = e->ref.bytes, .check = e->ref.check};
	const uint8_t *rec_bytes = archive_port_read_slot(wa->port, slot);
	const uint8_t *value = NULL;
	struct archive_record r;
	uint8_t status = WE_STATUS_IO_ERROR;

	if (m->i32 >= 0 &&
	    archive_record_decode(rec_bytes, (uint32_t)m->i32, &ref, e->key, e->key_len, &r) == 0 &&
	    r.value_len <= PROTO_VALUE_MAX &&
	    archive_record_value(&r, shard_dict_view(w->exec.shard), wa->scratch,
				 sizeof(wa->scratch), &value) == 0)
		status = WE_STATUS_OK;
	else
		value = NULL;
	if (!archive_answer(w, e, status, value, value != NULL ? r.value_len : 0)) {
		/* No buffer now: read it again later rather than lose the answer. */
		fetch_requeue(&wa->fetch, ticket);
		archive_port_give_back_read_slot(wa->port, slot);
		return;
	}
	if (value != NULL) {
		struct shard *s = w->exec.shard;
		struct shard_counters c;

		w->stats.req_get_hit++;
		/* Back into memory only while the room is over the mark where
		 * archiving starts: the room under it is for PUTs. */
		shard_read_counters(s, &c);
		if (!arena_room_under(&c, ARCHIVE_START_ROOM_PCT) &&
		    shard_archive_restore(s, e->hash, e->key, e->key_len, &e->ref, r.codec, r.stored,
					  r.stored_len, false) == SHARD_RESTORED)
			w->stats.archive_restored++;
	} else {
		w->stats.req_get_archive_failed++;
	}
	fetch_finish(&wa->fetch, ticket);
	archive_port_give_back_read_slot(wa->port, slot);
}

/* ---- reclaiming dead segments ------------------------------------------ */

/* Whether a checkpoint may still read this worker's archive: its scan runs,
 * or the thread still holds chunks (it reads the archived items' records
 * while writing them). */
static bool checkpoint_reading(struct worker *w)
{
	if (w->ckpt_port == NULL)
		return false;
	return ckpt_scan_active(&w->ckpt) || ckpt_port_reclaim(w->ckpt_port) != CKPT_PORT_BUFFERS;
}

/* Free the segments that emptied, when nothing may read them: no
 * checkpoint or region move under way (either may hold references copied
 * before the stubs died), and not the records waiting GETs or the cleaner
 * will read. */
static void archive_reclaim(struct worker *w)
{
	struct worker_archive *wa = &w->archive;
	uint64_t busy[FETCH_TABLE_CAP + ARCHIVE_CLEANER_READS];
	unsigned n;

	if (wa->space->maybe_empty == 0 || checkpoint_reading(w) || move_worker_active(&w->move))
		return;
	n = fetch_refs_in_use(&wa->fetch, busy);
	n += archive_cleaner_busy(&wa->cleaner, busy + n);
	w->stats.archive_segments_reclaimed += archive_space_reclaim(wa->space, busy, n);
}

/* ---- the service step -------------------------------------------------- */

void worker_archive_init(struct worker *w, struct archive_port *port, struct archive_space *space)
{
	struct worker_archive *wa = &w->archive;

	wa->port = port;
	wa->space = space;
	wa->level = ARCHIVE_LEVEL_MIN;
	fetch_table_init(&wa->fetch);
	archive_cleaner_init(&wa->cleaner);
	w->exec.fetch = port != NULL ? &wa->fetch : NULL;
}

void worker_archive_service(struct worker *w)
{
	struct worker_archive *wa = &w->archive;
	struct ctl_msg m[ARCHIVE_MSGS_PER_STEP];
	unsigned n = archive_port_poll(wa->port, m, ARCHIVE_MSGS_PER_STEP);
	bool look;

	for (unsigned i = 0; i < n; i++) {
		if (m[i].type == ARCHIVE_MSG_WRITTEN) {
			if (!archive_cleaner_on_written(&wa->cleaner, w->exec.shard, wa->space,
							wa->port, &m[i]))
				archive_written(w, &m[i]);
		} else if (m[i].type == ARCHIVE_MSG_READ_DONE && (m[i].c & ARCHIVE_CLEANER_TICKET)) {
			archive_cleaner_on_read(&wa->cleaner, wa->port, (int)m[i].b, m[i].i32,
						m[i].c);
		} else if (m[i].type == ARCHIVE_MSG_READ_DONE && (m[i].c & MOVE_ARCHIVE_TICKET)) {
			struct move_env env;

			worker_move_env(w, &env);
			move_on_archive_read(&w->move, &env, (int)m[i].b, m[i].i32);
		} else if (m[i].type == ARCHIVE_MSG_READ_DONE) {
			archive_read_done(w, &m[i]);
		}
		else
			w->stats.ctl_unknown++;
	}
	if (fetch_queued(&wa->fetch) != 0)
		archive_post_reads(w);
	archive_scan_step(w);
	/* Reclaiming and picking a victim walk the segment table (up to
	 * 65536 entries): every ARCHIVE_SPACE_LOOK_EVERY iterations. */
	look = (w->iterations % ARCHIVE_SPACE_LOOK_EVERY) == 0;
	if (unlikely(look && wa->space->maybe_empty != 0))
		archive_reclaim(w);
	if (unlikely(archive_cleaner_active(&wa->cleaner) ||
		     (look && archive_space_free_segments(wa->space) <= ARCHIVE_SPACE_KEEP)))
		archive_cleaner_step(&wa->cleaner, w->exec.shard, wa->space, wa->port);
	w->stats.archive_clean_victims = wa->cleaner.st.victims;
	w->stats.archive_clean_copied = wa->cleaner.st.copied;
	w->stats.archive_clean_repointed = wa->cleaner.st.repointed;
	w->stats.archive_clean_stale = wa->cleaner.st.stale;
	w->stats.archive_clean_failed = wa->cleaner.st.failed;
}
