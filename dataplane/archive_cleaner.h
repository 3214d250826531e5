/* archive_cleaner.h - the disk tier's cleaner: copies the live records of a
 * mostly dead segment of a worker's archive file elsewhere in it, so that
 * the segment empties and can be written again (no DPDK, no system call).
 *
 *   archive_cleaner_init        archive_cleaner.c
 *   archive_cleaner_step        archive_cleaner.c  one budgeted step: pick, scan, read, write
 *   archive_cleaner_on_read     archive_cleaner.c  a READ_DONE with ARCHIVE_CLEANER_TICKET
 *   archive_cleaner_on_written  archive_cleaner.c  a WRITTEN of the cleaner's buffer
 *   archive_cleaner_busy        archive_cleaner.c  offsets its reads in flight will read
 *   archive_cleaner_active      inline
 *
 * When the file's free segments are down to the one the archive scan
 * leaves (archive_space.h), the cleaner takes the closed segment with the
 * fewest live bytes (at most ARCHIVE_CLEANER_MAX_LIVE_PCT % of it) and
 * scans the shard for the stubs whose records lie there. It reads each
 * record through the worker's archive port (a few reads at a time, leaving
 * the other read slots to GETs), checks it against the stub's reference
 * and key, and appends the record's bytes unchanged to a write buffer of
 * its own (a record does not hold its offset, so its copy checks against
 * the same reference but for the offset). The buffer goes to the open
 * segment; once written, each stub that still names the old record is
 * re-pointed to the copy (shard_archive_repoint), which moves its live
 * bytes out of the victim. A stub that changed meanwhile keeps what it has
 * (its old record's bytes were released with it). When the scan has passed
 * every chain, the victim holds nothing live and the worker's next reclaim
 * frees it.
 */
#ifndef ARCHIVE_CLEANER_H
#define ARCHIVE_CLEANER_H

#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "archive_io.h"
#include "archive_space.h"
#include "ctl_ring.h"
#include "shard.h"

#define ARCHIVE_CLEANER_MAX_LIVE_PCT 50
#define ARCHIVE_CLEANER_READS 4          /* of the port's ARCHIVE_PORT_READ_SLOTS */
#define ARCHIVE_CLEANER_TODO 128         /* stubs found, not read yet */
#define ARCHIVE_CLEANER_FLUSH_BYTES (64u * 1024)
#define ARCHIVE_CLEANER_BATCH_RECORDS 512
#define ARCHIVE_CLEANER_STEP_CHAINS 64
/* READ_DONE tickets of the cleaner carry this bit (+ its read's index). */
#define ARCHIVE_CLEANER_TICKET (UINT64_C(1) << 33)

/* A stub whose record is to be copied: where it is, and its key. */
struct archive_cleaner_item {
	struct shard_archive_ref ref;
	uint64_t hash;
	uint8_t key_len;
	uint8_t key[ARCHIVE_KEY_MAX];
};

struct archive_cleaner_stats {
	uint64_t victims;    /* segments taken to clean */
	uint64_t copied;     /* records copied into a batch */
	uint64_t repointed;  /* stubs moved to their copy */
	uint64_t stale;      /* records read or copied for a stub that changed meanwhile */
	uint64_t failed;     /* reads that failed or did not check, writes that failed */
};

struct archive_cleaner {
	uint32_t victim; /* ARCHIVE_SPACE_NONE: idle */
	struct shard_scan cursor;
	bool scanned;
	struct archive_cleaner_item todo[ARCHIVE_CLEANER_TODO];
	uint32_t todo_head, todo_count;
	struct {
		int8_t slot; /* -1: free */
		bool back;
		int32_t result;
		struct archive_cleaner_item it;
	} reads[ARCHIVE_CLEANER_READS];
	/* The batch being filled (buf >= 0), then in flight (posted). */
	int buf;
	bool posted;
	struct archive_batch batch;
	struct shard_archive_ref old_refs[ARCHIVE_CLEANER_BATCH_RECORDS];
	uint64_t hashes[ARCHIVE_CLEANER_BATCH_RECORDS];
	struct archive_cleaner_stats st;
};

void archive_cleaner_init(struct archive_cleaner *c);

static inline bool archive_cleaner_active(const struct archive_cleaner *c)
{
	return c->victim != ARCHIVE_SPACE_NONE;
}

/* One step. Starts on a victim under pressure; then finds stubs, asks for
 * reads, copies what came back, writes a full (or the last) batch, and ends
 * the victim once everything is written. */
void archive_cleaner_step(struct archive_cleaner *c, struct shard *s, struct archive_space *sp,
			  struct archive_port *p);
/* READ_DONE for one of its reads (ticket & ARCHIVE_CLEANER_TICKET). */
void archive_cleaner_on_read(struct archive_cleaner *c, struct archive_port *p, int slot,
			     int32_t result, uint64_t ticket);
/* WRITTEN for the buffer m->b: false when it is not the cleaner's. */
bool archive_cleaner_on_written(struct archive_cleaner *c, struct shard *s,
				struct archive_space *sp, struct archive_port *p,
				const struct ctl_msg *m);
/* The offsets of its reads in flight (at most ARCHIVE_CLEANER_READS). */
unsigned archive_cleaner_busy(const struct archive_cleaner *c, uint64_t *out);

#endif
