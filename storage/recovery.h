/* recovery.h - read the log back at start: verify, cut a torn tail, hand
 * the records over in replay order (no DPDK).
 *
 *   recovery_open     recovery.c  scan wal/, read and order the segment headers
 *   recovery_next     recovery.c  the next record to apply, or the end
 *   recovery_stats    recovery.c  counts, cut position, time
 *   recovery_summary  recovery.c  the one line of facts for the log
 *   recovery_close    recovery.c
 *
 * Replay order: generation by generation (the data directory's start count,
 * in each segment header), and within a generation each worker's segments
 * in sequence order, one worker after the other. Within one generation the
 * region -> worker map does not change, so all records of a key are in one
 * worker's log, in the order they were written; a later generation's
 * records are later writes. So applying the records in this order leaves
 * every key with its last written value, whatever the worker count was in
 * each generation. (Live region moves will write WAL_REC_REGION_MOVE records
 * to keep this true inside a generation; this version skips them.)
 *
 * A worker's log in a generation ends at the first zero length, at the first
 * record that is not the segment's (another worker's, or an LSN that does not
 * grow: old content of a recycled file), or at a torn or damaged record. The
 * latter is cut: with repair on, its bytes and everything after them in the
 * segment are zeroed and synced, and later segments of the same log lose
 * their header, so the next recovery sees a clean end. If a later segment of
 * the same log holds records, the damage is not a torn tail but corruption
 * of synced data: recovery_next then fails with -EUCLEAN unless the caller
 * allows cutting there too (allow_mid_log_cut). Valid records after the
 * damage inside the same segment are only counted (cut_records_after): a
 * power cut can persist a batch's pages out of order.
 *
 * The core decides, the caller acts: recovery_next hands records to the
 * caller (pointers valid until the next call); it calls nothing back.
 */
#ifndef RECOVERY_H
#define RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk.h"
#include "wal_record.h"
#include "we_compiler.h"

struct recovery_options {
	bool repair;            /* cut torn tails on disk (off: read only, e.g. warp-waldump) */
	bool allow_mid_log_cut; /* cut corruption that valid records follow, instead of -EUCLEAN */
	/* What a loaded checkpoint already holds (covered_generation 0: none):
	 * every record of a generation below covered_generation, and in that
	 * generation worker w's records up to covered_lsn[w] (w <
	 * covered_workers). Those are skipped, whole segments unread where
	 * the next segment of the same log shows they hold nothing later. */
	uint64_t covered_generation;
	uint16_t covered_workers;
	const uint64_t *covered_lsn;
};

struct recovery_stats {
	uint64_t segments;          /* segment files with a valid header */
	uint64_t segments_invalid;  /* named like segments, header missing or not theirs */
	uint64_t segments_dropped;  /* after a cut in the same log: not replayed */
	uint64_t records_replayed;  /* handed to the caller */
	uint64_t records_skipped;   /* reserved types this version does not apply */
	uint64_t records_covered;   /* read but held by the checkpoint: not replayed */
	uint64_t segments_covered;  /* held by the checkpoint: not even read */
	uint64_t bytes_read;
	uint64_t cuts;              /* logs that ended in a torn or damaged record */
	uint64_t bytes_cut;         /* non-zero bytes from a cut to its segment's end */
	uint64_t corrupt_mid_log;   /* cuts that a later segment of the same log followed */
	uint64_t cut_records_after; /* cuts that valid records followed in their segment */
	/* The first cut (valid when cuts > 0). */
	uint64_t cut_generation;
	uint16_t cut_worker;
	uint64_t cut_sequence;
	uint64_t cut_offset;
	enum wal_decode cut_reason; /* TORN or BAD */
	uint64_t lsn_max;           /* largest LSN replayed: every worker continues above it */
	uint64_t generation_max;    /* largest generation found in a header */
	uint64_t time_ns;           /* open to end of iteration */
};

/* Where the last record returned by recovery_next lives. */
struct recovery_pos {
	uint64_t generation;
	uint16_t worker;
	uint64_t sequence;
	uint64_t offset;
};

struct recovery;

/* Lists and orders the segments of wal_dir. Returns 0 and *out, or a
 * negative errno (-EPROTO: a segment of a newer format). */
int recovery_open(struct recovery **out, struct disk *disk, const char *wal_dir,
		  const struct recovery_options *opt) we_must_check;
/* 1 and the next record in replay order (pos may be NULL), 0 at the end,
 * or a negative errno (-EUCLEAN: corruption inside a log, see above; an I/O
 * error). After 0 or an error, the stats are final. */
int recovery_next(struct recovery *r, struct wal_record *rec, struct recovery_pos *pos)
	we_must_check;
const struct recovery_stats *recovery_stats(const struct recovery *r);
/* One line, no newline: records replayed, segments, bytes, the cut if any,
 * the largest LSN and the time. */
void recovery_summary(const struct recovery *r, char *buf, size_t len);
void recovery_close(struct recovery *r);

#endif
