/* ckpt_writer.h - the checkpoint thread: writes what the workers copy out of
 * their shards as checkpoint parts, completes each checkpoint with the
 * manifest once the log covers it, and retires what it made obsolete (no
 * DPDK).
 *
 *   ckpt_writer_create     ckpt_writer.c  ports, chunk buffers, the thread's state
 *   ckpt_writer_start      ckpt_writer.c  the thread (SCHED_OTHER: it may wait)
 *   ckpt_writer_stop       ckpt_writer.c  finish or abandon the checkpoint in flight, join
 *   ckpt_writer_destroy    ckpt_writer.c
 *   ckpt_writer_begin      ckpt_writer.c  a new checkpoint id (the supervisor then tells the workers)
 *   ckpt_writer_port       ckpt_writer.c  one worker's end of the hand-off
 *   ckpt_writer_status     ckpt_writer.c  running or not, the last result, counters
 *   ckpt_port_*            ckpt_writer.c  the worker's side (no system call, no lock)
 *
 * The hand-off. Each worker owns a few chunk buffers that travel between it
 * and this thread over two control rings (ctl_ring.h) per worker: the worker
 * fills a buffer with its items (ckpt_chunk_add) in its service step and
 * posts CKPT_MSG_CHUNK; the thread compresses and appends it to the worker's
 * part, then posts the buffer back (CKPT_MSG_FREE). CKPT_MSG_START (the
 * checkpoint id and the worker's LSN when its scan began) opens the part,
 * CKPT_MSG_DONE (the worker's LSN when its scan ended) finishes it, and
 * CKPT_MSG_ABORT gives it up. The worker never waits: without a free buffer
 * it scans nothing this step.
 *
 * Completion (ckpt_manifest.h): when every part is finished, the thread
 * waits until each worker's log is durable up to the LSN its scan ended at
 * (the published wal_durable), so the checkpoint holds nothing the log could
 * still lose; then it replaces the manifest. Then it retires, following the
 * manifest's retention rule, the log segments the previous checkpoint
 * covers (unlinked here, off the commit path) and the checkpoint folders
 * older than the previous one.
 */
#ifndef CKPT_WRITER_H
#define CKPT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "archive.h"
#include "ctl_ring.h"
#include "disk.h"
#include "wal_writer.h"
#include "we_compiler.h"

#define CKPT_PORT_BUFFERS 4   /* chunk buffers per worker */
#define CKPT_PORT_RING 16     /* cells of each hand-off ring: > buffers + start/done */

enum ckpt_msg_type {
	CKPT_MSG_START = 100, /* a = checkpoint id, b = start LSN */
	CKPT_MSG_CHUNK = 101, /* i32 = buffer, a = bytes used, b = records, c = archived
			       * items' references among them (WAL_REC_ARCHIVED) */
	CKPT_MSG_DONE = 102,  /* a = checkpoint id, b = end LSN, c = items */
	CKPT_MSG_ABORT = 103, /* a = checkpoint id, i32 = negative errno */
	CKPT_MSG_FREE = 104,  /* to the worker: i32 = buffer */
};

/* One worker's end of the hand-off. */
struct ckpt_port {
	struct ctl_ring to_writer;
	struct ctl_ring to_worker;
	uint16_t worker;
	uint32_t chunk_bytes;
	uint8_t *buffers[CKPT_PORT_BUFFERS];
	/* The worker's own bookkeeping (only the worker touches these). */
	uint32_t free_mask; /* buffers the worker holds, unused */
	struct ctl_cell cells_to_writer[CKPT_PORT_RING];
	struct ctl_cell cells_to_worker[CKPT_PORT_RING];
};

struct ckpt_writer_config {
	struct disk *disk;
	const char *data_dir;        /* holds checkpoints/ and wal/ */
	uint64_t generation;         /* this run's (datadir.h) */
	uint16_t workers;
	uint32_t chunk_bytes;        /* 0: CKPT_CHUNK_RAW_DEFAULT */
	struct wal_writer *log;      /* whose durable LSNs complete a checkpoint */
	uint32_t durable_wait_ms;    /* give up waiting for the log (0: 10 s) */
	/* The disk tier: each worker's archive file, from which the thread
	 * reads the values of archived items a scan sends as references
	 * (WAL_REC_ARCHIVED). NULL: no disk tier (a reference fails the part). */
	struct archive_file *const *archives;
};

enum ckpt_state {
	CKPT_IDLE = 0,
	CKPT_RUNNING = 1,
};

struct ckpt_writer_status {
	enum ckpt_state state;
	uint64_t running_id;      /* while RUNNING */
	uint64_t completed;       /* checkpoints whose manifest was written */
	uint64_t failed;
	uint64_t last_id;         /* the last completed */
	uint64_t last_items;
	uint64_t last_chunks;
	uint64_t last_raw_bytes;  /* before compression */
	uint64_t last_file_bytes; /* part files on disk */
	uint64_t last_ms;         /* begin to manifest */
	uint64_t segments_retired;
	uint64_t checkpoints_removed;
	int32_t last_error;       /* negative errno of the last failure, 0 */
	char last_failure[CKPT_ERR_MAX];
};

struct ckpt_writer;

int ckpt_writer_create(struct ckpt_writer **out, const struct ckpt_writer_config *cfg, char *err,
		       size_t err_len) we_must_check;
int ckpt_writer_start(struct ckpt_writer *w) we_must_check;
/* Stop the workers' scans first (they must not post after this). A
 * checkpoint in flight is abandoned: its folder stays incomplete, ignored. */
void ckpt_writer_stop(struct ckpt_writer *w);
void ckpt_writer_destroy(struct ckpt_writer *w);

/* Reserve the next checkpoint id and make its folder; the caller then posts
 * CTL_MSG_CHECKPOINT (a = id) to every worker. -EBUSY while one runs. */
int ckpt_writer_begin(struct ckpt_writer *w, uint64_t *id, char *err, size_t err_len)
	we_must_check;
struct ckpt_port *ckpt_writer_port(struct ckpt_writer *w, uint16_t worker);
void ckpt_writer_status(struct ckpt_writer *w, struct ckpt_writer_status *out);

/* ---- the worker's side ------------------------------------------------ */

/* Collect the buffers the thread gave back; returns how many the worker
 * now holds unused. */
unsigned ckpt_port_reclaim(struct ckpt_port *p);
/* Take an unused buffer: its index, or -1 when none. */
int ckpt_port_take(struct ckpt_port *p);
/* Post one message to the thread (START, CHUNK, DONE, ABORT). The ring has
 * room for every buffer plus the control messages of one checkpoint, so
 * this cannot fail while the worker follows the protocol; -EAGAIN if not. */
int ckpt_port_post(struct ckpt_port *p, uint32_t type, int32_t i32, uint64_t a, uint64_t b,
		   uint64_t c) we_must_check;

#endif
