/* archive_space.h - where the disk tier's records go in a worker's archive
 * file, and when the space of dead ones is used again (no I/O, no DPDK).
 *
 *   archive_space_create     archive_space.c  the segments of a file of `limit` bytes
 *   archive_space_destroy    archive_space.c
 *   archive_space_room       archive_space.c  bytes the next batch may take (opens a segment)
 *   archive_space_take       archive_space.c  a batch's place: its file offset
 *   archive_space_close_open archive_space.c  the open segment takes no more batches
 *   archive_space_batch_done archive_space.c  a batch's stubs are made (or its write failed)
 *   archive_space_add        archive_space.c  a stub naming a record was made
 *   archive_space_release    archive_space.c  a stub died (overwrite, delete, eviction, ...)
 *   archive_space_reclaim    archive_space.c  free the segments nothing can read any more
 *   archive_space_victim     archive_space.c  the closed segment a cleaner should empty
 *   archive_space_segment_of inline           a file offset's segment
 *   archive_space_stats_get  archive_space.c
 *   archive_space_publish    archive_space.c  the figures for other threads (relaxed copies)
 *   archive_space_published  archive_space.c
 *
 * The file is cut into segments of 2^k bytes (1 MiB, or more so that a file
 * has at most ARCHIVE_SPACE_SEGMENTS_MAX of them). The worker writes each
 * batch of records into the open segment at the place archive_space_take
 * gives, and every record's bytes count as live in their segment while a
 * stub names them: the shard adds them when it makes a stub and releases
 * them when the stub goes, whatever the cause (shard_set_archive_space).
 * A closed segment whose live bytes fell to zero holds only garbage, but a
 * reader that copied a reference before the stub died may still read it:
 * a checkpoint's thread expanding the stubs its scan sent, a region move's
 * new owner, a GET waiting in the fetch table. So segments are freed only
 * by archive_space_reclaim, which the worker calls when no checkpoint or
 * move is under way and with the offsets its waiting GETs will read; a
 * freed segment is opened again before the untouched end of the file.
 *
 * A stub's release may drop a segment's live bytes to zero for a moment
 * (a PUT over a stub releases and adds again): nothing is freed outside
 * archive_space_reclaim, so such a moment frees nothing.
 */
#ifndef ARCHIVE_SPACE_H
#define ARCHIVE_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "we_compiler.h"

#define ARCHIVE_SPACE_SEGMENT_SHIFT_MIN 20 /* 1 MiB */
#define ARCHIVE_SPACE_SEGMENTS_MAX 65536u
#define ARCHIVE_SPACE_NONE UINT32_MAX
/* Free segments the archive scan leaves to the cleaner (a file of fewer
 * than ARCHIVE_SPACE_CLEAN_MIN segments is not cleaned and keeps none). */
#define ARCHIVE_SPACE_KEEP 1u
#define ARCHIVE_SPACE_CLEAN_MIN 4u

enum archive_segment_state {
	ARCHIVE_SEGMENT_FREE = 0,  /* never opened, or reclaimed */
	ARCHIVE_SEGMENT_OPEN = 1,  /* batches go here */
	ARCHIVE_SEGMENT_CLOSED = 2,
};

struct archive_segment {
	uint32_t live;     /* bytes of records a stub names */
	uint16_t inflight; /* batches taken, their stubs not made yet */
	uint8_t state;     /* enum archive_segment_state */
	uint8_t cleaning;  /* a cleaner is emptying it: not the victim again */
};

struct archive_space_stats {
	uint32_t segment_bytes;
	uint32_t segments;       /* in the file's limit */
	uint32_t segments_used;  /* open or closed */
	uint32_t segments_free;  /* reclaimed, waiting to be opened again */
	uint64_t live_bytes;
	uint64_t reclaimed;      /* segments freed so far */
	uint64_t reopened;       /* freed segments opened again */
	uint64_t batches;
	uint64_t batch_bytes;
};

struct archive_space {
	uint64_t limit;
	uint32_t shift;
	uint32_t segments;
	uint32_t untouched; /* segments from here on were never opened */
	uint32_t open;      /* ARCHIVE_SPACE_NONE or the open segment */
	uint32_t open_fill; /* bytes taken in it */
	uint32_t n_free;
	uint32_t *free_stack;
	struct archive_segment *seg;
	/* Releases that emptied a closed segment since the last reclaim:
	 * a reclaim with nothing to find returns at once. */
	uint64_t maybe_empty;
	struct archive_space_stats st;
	/* The figures as the worker last published them (relaxed stores),
	 * for other threads (archive_space_published). */
	struct archive_space_stats published;
};

/* limit: the file's most bytes (>= 1 MiB; 0: ARCHIVE_SPACE_SEGMENTS_MAX of
 * the smallest segments). NULL when out of memory or limit too small. */
struct archive_space *archive_space_create(uint64_t limit);
void archive_space_destroy(struct archive_space *sp);

static inline uint32_t archive_space_segment_of(const struct archive_space *sp, uint64_t offset)
{
	return (uint32_t)(offset >> sp->shift);
}

/* Bytes the next batch may take in the open segment, opening one (a freed
 * segment first, then an untouched one) when none is open or the open one
 * is filled to its end, and more than `keep` segments are free; 0
 * otherwise. The archive scan keeps one free segment for the cleaner
 * (ARCHIVE_SPACE_KEEP), which may take the last. */
uint32_t archive_space_room(struct archive_space *sp, uint32_t keep);
/* Segments not in use: freed, and never opened. */
static inline uint32_t archive_space_free_segments(const struct archive_space *sp)
{
	return sp->n_free + (sp->segments - sp->untouched);
}
/* The next `bytes` (<= archive_space_room) of the open segment for one
 * batch: its file offset. The segment counts the batch in flight until
 * archive_space_batch_done. */
uint64_t archive_space_take(struct archive_space *sp, uint32_t bytes);
/* The open segment is full for the next batch: close it (the next room
 * opens another). */
void archive_space_close_open(struct archive_space *sp);
/* The batch taken at offset is over: its stubs are made, or it was not
 * written (its bytes stay garbage). */
void archive_space_batch_done(struct archive_space *sp, uint64_t offset);
/* A stub naming `bytes` bytes at offset was made, or went. */
void archive_space_add(struct archive_space *sp, uint64_t offset, uint32_t bytes);
void archive_space_release(struct archive_space *sp, uint64_t offset, uint32_t bytes);
/* Frees every closed segment with no live bytes, no batch in flight and
 * none of the offsets busy[0..n_busy) (records a waiting GET will read).
 * Call it only when no checkpoint or region move that may hold a
 * reference into a dead segment is under way. Returns the segments freed. */
uint32_t archive_space_reclaim(struct archive_space *sp, const uint64_t *busy, unsigned n_busy);
/* The closed segment with the fewest live bytes, if they are at most
 * max_live_pct % of a segment and it is not being cleaned:
 * ARCHIVE_SPACE_NONE otherwise. */
uint32_t archive_space_victim(const struct archive_space *sp, unsigned max_live_pct);
/* The owner's view (the worker's thread). */
void archive_space_stats_get(const struct archive_space *sp, struct archive_space_stats *out);
/* The owner copies its figures out with relaxed stores; any thread reads
 * the last copy (each field whole, the set possibly from two copies). */
void archive_space_publish(struct archive_space *sp);
void archive_space_published(const struct archive_space *sp, struct archive_space_stats *out);

#endif
