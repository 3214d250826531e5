/* region_move.h - a worker's part in moving a region to another worker
 * while requests flow (no DPDK).
 *
 *   move_worker_init     region_move.c  an idle mover
 *   move_on_message      region_move.c  apply one CTL_MSG_MOVE_* (service step)
 *   move_step            region_move.c  one bounded step of export, import or purge
 *   move_on_archive_read region_move.c  an archived item's record came back (import)
 *   move_worker_active   inline         whether a move needs this worker's steps
 *
 * The hand-off of region R from its owner A to worker B, each step in a
 * service step between bursts, at every moment exactly one worker
 * executing R's requests:
 *
 *   1. A gets MOVE_OUT. It stores R's map entry as B | IMPORTING: from then
 *      on every worker routes R to B, A included; A executes nothing of R
 *      again. B holds R's requests (execute.h) until step 4.
 *   2. A scans its shard (shard.h's resumable scan, a few chains per step)
 *      and copies R's items, as log records, into the move's chunks, which
 *      it hands to B (MOVE_CHUNK) and B hands back when it has taken them
 *      (MOVE_CHUNK_FREE): four chunks in flight at most. Then MOVE_END.
 *   3. B puts each item into its shard and, with a data directory, logs it
 *      under its own LSN and the region's new epoch (wal_record.h), then a
 *      WAL_REC_REGION_MOVE marker (so even an empty region's move has a
 *      place in B's log that a checkpoint does or does not cover). Once its
 *      log is durable past the marker it reports the import done.
 *   4. The supervisor records the new owner and epoch in the data
 *      directory (region_map_store.h), sets the epoch in the map and sends
 *      B MOVE_FINISH: B stores R's entry as plain B and runs the requests
 *      it held. A gets MOVE_PURGE and deletes its copy of R's items.
 *
 * If B cannot take the items (its shard or log is full, storage fails) or A
 * cannot send them, the supervisor sends MOVE_ABORT instead: B gives R back
 * to A in the map, deletes what it took and runs the held requests, which
 * now go to A, which never lost its copy.
 *
 * Progress and results go to the move's channel (atomic fields the
 * supervisor polls); chunks and messages travel over the workers' control
 * rings. A post that finds a ring full waits in a small outbox for the next
 * step. Nothing here blocks, allocates or makes a system call.
 */
#ifndef REGION_MOVE_H
#define REGION_MOVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "archive_io.h"
#include "ctl_ring.h"
#include "execute.h"
#include "region_map.h"
#include "shard.h"
#include "wal_record.h"

#define MOVE_CHUNKS 4
#define MOVE_CHUNK_BYTES (128u * 1024)
#define MOVE_SCAN_ITEMS SHARD_SCAN_ITEMS_MIN /* items per scan step */
#define MOVE_SCAN_CHAINS 256                 /* chains per scan step */
#define MOVE_IMPORT_RECORDS 256              /* records the importer takes per step */
#define MOVE_OUTBOX 8
/* The most bytes one scan step can add to a chunk: a chunk with less room
 * than this is sent before the next step. */
#define MOVE_STEP_BYTES_MAX (MOVE_SCAN_ITEMS * (WAL_RECORD_HDR_BYTES + WAL_KEY_MAX + \
						PROTO_VALUE_MAX + WAL_RECORD_ALIGN))
_Static_assert(MOVE_STEP_BYTES_MAX < MOVE_CHUNK_BYTES, "a scan step fits an empty chunk");
_Static_assert(MOVE_CHUNKS <= 8, "chunk bits fit a byte");

enum move_export_result { MOVE_EXPORT_RUNNING = 0, MOVE_EXPORT_SENT = 1, MOVE_EXPORT_FAILED = 2 };
enum move_import_result { MOVE_IMPORT_RUNNING = 0, MOVE_IMPORT_DONE = 1, MOVE_IMPORT_FAILED = 2 };

/* One move, set up by the supervisor (move_driver.h). */
struct move_channel {
	/* Fixed while the move runs. */
	uint64_t id;
	uint32_t region;
	uint16_t from, to;
	uint16_t epoch; /* the region's epoch once moved */
	uint8_t *chunk[MOVE_CHUNKS];
	/* Written by the exporter before it posts MOVE_CHUNK (the ring's
	 * release/acquire orders it for the importer). */
	uint32_t chunk_len[MOVE_CHUNKS];

	/* Results, atomic stores by the workers, loads by the supervisor. */
	_Atomic uint32_t export_result; /* enum move_export_result */
	_Atomic int32_t export_error;
	_Atomic uint64_t exported;
	_Atomic uint32_t import_result; /* enum move_import_result */
	_Atomic int32_t import_error;
	_Atomic uint64_t imported;
	_Atomic uint64_t import_first_lsn; /* the importer's LSNs of its records; */
	_Atomic uint64_t import_last_lsn;  /* 0 and 0 when it logged none */
	_Atomic uint32_t finished;         /* importer: FINISH or ABORT carried out */
	_Atomic uint32_t purged;           /* exporter: its copy deleted */
	_Atomic uint64_t purged_items;
};

/* What move_on_message asks of the shell. */
enum move_action {
	MOVE_ACT_NONE,
	MOVE_ACT_RUN_HELD, /* the region is settled: run the requests held for it */
};

/* Everything a mover touches, lent by its worker. */
struct move_env {
	struct shard *shard;
	struct region_map *map;
	struct ctl_ring *const *rings; /* every worker's control ring */
	uint16_t self;
	struct wal_ring *log;          /* NULL: no data directory */
	uint64_t *lsn;
	const struct durable_view *durable;
	struct worker_stats *stats;
	/* The disk tier (NULL: off): an archived item moves as its reference
	 * (WAL_REC_ARCHIVED) and the new owner reads its record from the old
	 * owner's archive file through this port before it puts and logs it. */
	struct archive_port *archive;
};

/* READ_DONE tickets of a mover's reads carry this bit (the fetch table's
 * tickets are small numbers). */
#define MOVE_ARCHIVE_TICKET (UINT64_C(1) << 32)

struct move_outbox_msg {
	struct ctl_ring *to;
	struct ctl_msg m;
};

struct move_worker {
	/* Exporting (this worker owned the region). */
	struct move_channel *out;
	struct shard_scan out_scan;
	uint8_t out_free;  /* chunks this side holds, one bit each */
	int8_t out_cur;    /* the chunk being filled, -1: none */
	uint32_t out_len;
	bool out_scanned;
	int32_t out_error;

	/* Importing (this worker takes the region over). */
	struct move_channel *in;
	uint8_t in_queue[MOVE_CHUNKS]; /* chunks received, in order */
	uint8_t in_head, in_count;
	uint32_t in_off;  /* next record in the head chunk */
	bool in_end;      /* MOVE_END received */
	int32_t in_error; /* nonzero: discard the rest, fail at the end */
	bool in_marked;   /* the move's marker record is logged */
	uint64_t in_last_lsn;
	/* The archived item the import waits for: its read slot (-1: none),
	 * which record of which worker's file, and the answer once back. */
	int8_t in_read_slot;
	bool in_read_back;
	uint16_t in_read_from;
	int32_t in_read_result;
	struct archive_ref in_read_ref;
	uint8_t in_value[PROTO_VALUE_MAX]; /* a compressed record's value */

	/* Deleting one region's items from this shard: the exporter after a
	 * move, the importer after an abort. */
	struct move_channel *purge;
	struct shard_scan purge_scan;
	bool purge_after_abort;

	struct move_outbox_msg outbox[MOVE_OUTBOX];
	unsigned n_outbox;

	/* Scratch of one scan step. */
	struct shard_scan_item items[MOVE_SCAN_ITEMS];
	uint8_t keys[MOVE_SCAN_ITEMS][WAL_KEY_MAX];
	uint8_t key_lens[MOVE_SCAN_ITEMS];
};

void move_worker_init(struct move_worker *mw);
enum move_action move_on_message(struct move_worker *mw, const struct move_env *env,
				 const struct ctl_msg *m);
/* One bounded step of whatever is under way. */
void move_step(struct move_worker *mw, const struct move_env *env);
/* The archive thread answered a read of the import (READ_DONE with
 * MOVE_ARCHIVE_TICKET): slot, and the bytes read or a negative errno. */
void move_on_archive_read(struct move_worker *mw, const struct move_env *env, int slot,
			  int32_t result);

static inline bool move_worker_active(const struct move_worker *mw)
{
	return mw->out != NULL || mw->in != NULL || mw->purge != NULL || mw->n_outbox != 0;
}

#endif
