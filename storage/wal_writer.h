/* wal_writer.h - group commit: drain the workers' rings into the log's
 * segments, one write and one fdatasync per segment per commit, and publish
 * what is durable (no DPDK).
 *
 *   wal_writer_create       wal_writer.c  check the configuration, open the I/O backend
 *   wal_writer_start        wal_writer.c  the commit thread (optionally SCHED_FIFO)
 *   wal_writer_stop         wal_writer.c  drain what the rings hold, then join
 *   wal_writer_destroy      wal_writer.c
 *   wal_writer_commit       wal_writer.c  one commit round (the thread's body; tests call it)
 *   wal_writer_durable      wal_writer.c  a worker's published state, for the data plane
 *   wal_durable_lsn         inline        "durable up to LSN x" (one acquire load)
 *   wal_durable_error       inline        0, or the negative errno of a failing log
 *   wal_writer_stats_get    wal_writer.c  counters
 *
 * The data plane's contract (docs/storage.md):
 *  - Each worker encodes its records into its own ring (wal_ring.h) with
 *    LSNs that strictly grow, starting above recovery's lsn_max.
 *  - After each commit the writer posts CTL_MSG_DURABLE (lsn, error) to the
 *    control ring of every worker whose state changed (cfg.notify); in its
 *    service step the worker applies it and sends the parked answers of
 *    strong writes whose LSN is at or below it. Nothing calls back into the
 *    data plane. The same state stays published per worker in a
 *    struct wal_durable (wal_writer_durable) for observers and tests.
 *  - wal_durable_error() != 0 means its log cannot be written now: strong
 *    writes get NOT_DURABLE (the records stay in the ring and are written
 *    when the disk recovers; until then the ring fills and the worker
 *    answers BUSY). The error clears when a commit succeeds again.
 *
 * One writer serves any number of workers (up to WAL_WORKERS_MAX); the data
 * plane may run several, each over a subset of the rings, with disjoint
 * worker indices.
 */
#ifndef WAL_WRITER_H
#define WAL_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_ring.h"
#include "disk.h"
#include "wal_ring.h"
#include "wal_segment.h"
#include "we_compiler.h"

enum wal_io_kind {
	WAL_IO_URING = 0, /* io_uring over disk_posix (production) */
	WAL_IO_SYNC = 1,  /* synchronous calls through the struct disk (tests, fallback) */
};

#define WAL_COMMIT_INTERVAL_US_DEFAULT 200u
#define WAL_BATCH_BYTES_DEFAULT (1u << 20)
#define WAL_RETRY_INTERVAL_US_DEFAULT 10000u
#define WAL_COMMIT_ALIGN_DEFAULT 512u /* a sector */

struct wal_writer_config {
	struct disk *disk;
	const char *wal_dir;
	uint64_t segment_bytes;
	uint64_t generation;          /* the data directory's start count */
	uint16_t workers;             /* rings[0..workers) */
	uint16_t worker_base;         /* worker index of rings[0] */
	struct wal_ring **rings;
	/* Optional: rings[i]'s worker hears of its durable LSN and of log
	 * errors through notify[i] (CTL_MSG_DURABLE), posted after each
	 * commit that changed them; a full control ring is tried again at the
	 * writer's next look. NULL: the published wal_durable only. */
	struct ctl_ring **notify;
	enum wal_io_kind io;
	/* At most one commit starts per interval: a commit starts as soon as
	 * the previous one completed and records are waiting, but not sooner
	 * than group_commit_interval_us after the previous start. */
	uint32_t group_commit_interval_us;
	/* Sleep between looks at empty rings (0: group_commit_interval_us). */
	uint32_t idle_poll_us;
	uint32_t batch_bytes_max;     /* per worker per commit (0: default) */
	uint32_t retry_interval_us;   /* after a failed commit (0: default) */
	uint32_t spares;              /* spare segments kept ready */
	/* Each commit of a worker ends on a multiple of this (a pad record
	 * fills the rest), so the next commit never rewrites a sector that
	 * holds acknowledged records: a power cut that garbles the sector
	 * being written then loses only unacknowledged ones. 0: 512 (a
	 * sector); 1: no padding. A power of two. */
	uint32_t commit_align;
	/* Every worker's LSNs up to this are on disk already (what recovery
	 * read): published as each worker's durable LSN at create. */
	uint64_t durable_lsn_start;
	bool sched_fifo;              /* try SCHED_FIFO for the thread (best effort) */
	int sched_priority;           /* 1..99; 0: 10 */
};

/* Published per worker; one cache line, stored only by the writer. */
struct wal_durable {
	_Atomic uint64_t lsn;  /* every record with an LSN <= lsn is on disk */
	_Atomic int32_t error; /* 0, or the negative errno of the last failed commit */
	uint8_t pad[WE_CACHE_LINE - 12];
} we_cache_aligned;
_Static_assert(sizeof(struct wal_durable) == WE_CACHE_LINE, "one line per worker");

static inline uint64_t wal_durable_lsn(const struct wal_durable *d)
{
	return atomic_load_explicit(&d->lsn, memory_order_acquire);
}

static inline int wal_durable_error(const struct wal_durable *d)
{
	return atomic_load_explicit(&d->error, memory_order_relaxed);
}

#define WAL_WRITER_COMMIT_BUCKETS 18 /* 1 us .. 131 ms and above */

struct wal_writer_stats {
	uint64_t commits;       /* rounds that wrote something */
	uint64_t writes;        /* write requests completed in full */
	uint64_t syncs;         /* fdatasyncs that succeeded */
	uint64_t records;       /* records made durable */
	uint64_t bytes;         /* record bytes made durable */
	uint64_t short_writes;  /* resubmitted remainders */
	uint64_t eagain;        /* -EAGAIN / -EINTR requeued */
	uint64_t write_errors;
	uint64_t sync_errors;
	uint64_t segment_errors; /* rolling over or preparing a spare failed */
	uint64_t rolls;         /* segments begun */
	uint64_t failed_commits;
	int32_t last_error;     /* negative errno of the last failure, 0 if none yet */
	bool sched_fifo;        /* the thread runs SCHED_FIFO */
	int32_t sched_error;    /* why SCHED_FIFO was refused (negative errno), 0 */
	/* How long commits took, from submission to the last completion:
	 * the time a strong write waits beyond the group-commit interval. */
	uint64_t commit_ns_total;
	uint64_t commit_ns_max;
	/* commit_us_log2[i]: commits that took [2^i, 2^(i+1)) us (i = 0 also
	 * takes < 1 us; the last bucket takes everything longer). */
	uint64_t commit_us_log2[WAL_WRITER_COMMIT_BUCKETS];
	uint64_t roll_ns_max;   /* the slowest segment roll-over (inside a commit) */
	uint64_t rolls_without_spare; /* roll-overs that had to make a segment inline */
	/* Commits that ran while the spare maker wrote zeros, and the slowest:
	 * how much making spares costs the commits beside it. */
	uint64_t commits_while_spare;
	uint64_t commit_ns_max_while_spare;
	uint64_t notices_deferred; /* control-ring posts refused (full), tried again */
};

struct wal_writer;

/* Checks cfg, scans wal/ for sequence numbers, prepares cfg->spares spare
 * segments, opens the I/O backend. Returns 0, or a negative errno and a
 * sentence in err (e.g. why io_uring is not usable). */
int wal_writer_create(struct wal_writer **out, const struct wal_writer_config *cfg, char *err,
		      size_t err_len) we_must_check;
int wal_writer_start(struct wal_writer *w) we_must_check;
/* Asks the thread to stop; it commits what the rings hold (one try if the
 * log is failing) and exits; joins it. Stop the producers first. */
void wal_writer_stop(struct wal_writer *w);
void wal_writer_destroy(struct wal_writer *w);

/* One commit round: gather spans from every ring, write and sync them, and
 * publish. Returns the records made durable (0: nothing to do), or a
 * negative errno when some log failed (its error is published). Only one
 * thread may call it: the writer's, or a test without a started thread. */
int wal_writer_commit(struct wal_writer *w) we_must_check;

/* The published state of worker index `worker` (worker_base + i); valid
 * until wal_writer_destroy. */
const struct wal_durable *wal_writer_durable(const struct wal_writer *w, uint16_t worker);
void wal_writer_stats_get(const struct wal_writer *w, struct wal_writer_stats *out);
/* The commit time below which a fraction q (0..1) of the commits fell, from
 * the log2 buckets: an upper bound, in microseconds. */
uint64_t wal_writer_commit_us_quantile(const struct wal_writer_stats *s, double q);
const char *wal_writer_io_name(const struct wal_writer *w);

#endif
