/* wal_segment.h - the log's segment files in the data directory's wal/
 * folder (no DPDK).
 *
 *   wal_segdir_init            wal_segment.c  scan wal/: spares, highest sequence per worker
 *   wal_segdir_spares          wal_segment.c  spares ready now
 *   wal_segment_name           wal_segment.c  "w03-000000000042.log"
 *   wal_segment_parse_name     wal_segment.c  the reverse; spares are "spare-<n>.log"
 *   wal_segment_header_encode  wal_segment.c
 *   wal_segment_header_decode  wal_segment.c  verify magic, version, checksum
 *   wal_segment_make_spare     wal_segment.c  a pre-allocated file for later
 *   wal_segment_open_new       wal_segment.c  the next segment of a worker (a spare if any)
 *   wal_segment_retire         wal_segment.c  an obsolete segment becomes a spare
 *   wal_segment_close          wal_segment.c
 *
 * A worker's log is a sequence of fixed-size segments. Each starts with a
 * 64-byte header; records follow from WAL_SEGMENT_DATA_OFFSET until a zero
 * length (the allocated, never written rest reads as zeros) or until the next record does not fit, which
 * rolls the writer over to the next sequence number.
 *
 * Header, little-endian, bytes 64..4095 zero:
 *
 *   byte 0        8      12     14    16         24          32          40       48     56     64
 *        +--------+------+------+-----+----------+-----------+-----------+--------+------+------+
 *        | magic  |format|worker|resvd| sequence |generation | first_lsn |segment | resvd|check-|
 *        |WEWALSG1| (32) | (16) |(16) |  (64)    |   (64)    |   (64)    |bytes   | (64) | sum  |
 *        +--------+------+------+-----+----------+-----------+-----------+--------+------+------+
 *
 *   format      WAL_SEGMENT_FORMAT (1); another value is refused
 *   sequence    per worker index, from 1, never reused in a directory
 *   generation  the data directory's start count when the segment was begun
 *               (datadir.h): recovery replays generation by generation
 *   first_lsn   LSN of the first record; records that follow have larger ones
 *   checksum    XXH3-64 of bytes [0, 56)
 *
 * Recycling: an obsolete segment is zeroed and renamed to a spare (off the
 * commit path), later renamed to a new segment name; never unlinked (that
 * is slow with discard, and a reused file's blocks are already allocated
 * and written). As a second line of defence against old content, a
 * segment's records end at the first one that is not of the segment's
 * worker or whose LSN does not exceed the previous one: LSNs only grow per
 * worker index over a directory's life (docs/storage.md, the LSN contract).
 */
#ifndef WAL_SEGMENT_H
#define WAL_SEGMENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk.h"
#include "we_compiler.h"

#define WAL_SEGMENT_MAGIC UINT64_C(0x3147534c41574557) /* the bytes "WEWALSG1" */
#define WAL_SEGMENT_FORMAT 1u
#define WAL_SEGMENT_HDR_BYTES 64u
#define WAL_SEGMENT_DATA_OFFSET 4096u
#define WAL_SEGMENT_BYTES_MIN (WAL_SEGMENT_DATA_OFFSET + 4096u)
#define WAL_SEGMENT_BYTES_DEFAULT (64u * 1024 * 1024)
#define WAL_WORKERS_MAX 100 /* two digits in the name */
#define WAL_SEGMENT_NAME_MAX 32
#define WAL_SPARES_MAX 64 /* spares tracked; more stay on disk, unused */

struct wal_segment_header {
	uint64_t magic;
	uint32_t format;
	uint16_t worker;
	uint16_t reserved;
	uint64_t sequence;
	uint64_t generation;
	uint64_t first_lsn;
	uint64_t segment_bytes;
	uint64_t reserved2;
	uint64_t checksum;
};
_Static_assert(sizeof(struct wal_segment_header) == WAL_SEGMENT_HDR_BYTES, "header is 64 bytes");
_Static_assert(offsetof(struct wal_segment_header, sequence) == 16, "layout");
_Static_assert(offsetof(struct wal_segment_header, generation) == 24, "layout");
_Static_assert(offsetof(struct wal_segment_header, first_lsn) == 32, "layout");
_Static_assert(offsetof(struct wal_segment_header, checksum) == 56, "layout");

/* The wal/ folder as the writer sees it. Spares may be made on another
 * thread than the one opening segments: lock guards the spare count, spare
 * ids and the counters below. */
struct wal_segdir {
	pthread_mutex_t lock;
	struct disk *disk;
	char dir[DISK_PATH_MAX];
	uint64_t segment_bytes;
	uint64_t next_seq[WAL_WORKERS_MAX]; /* per worker index: max found + 1 */
	uint64_t next_spare_id;
	uint32_t spares; /* spare files ready: spare_id[0 .. spares) */
	uint64_t spare_id[WAL_SPARES_MAX];
	/* Counters. */
	uint64_t segments_created; /* made from nothing: fallocate + sync */
	uint64_t segments_reused;  /* taken from a spare */
	uint64_t segments_retired;
};

/* An open segment being appended to. */
struct wal_segment {
	int fd;
	uint16_t worker;
	uint64_t sequence;
	uint64_t generation;
	uint64_t first_lsn;
	uint64_t bytes;     /* file size, the segment's capacity */
	uint64_t write_off; /* where the next record goes */
};

/* Reads dir (which must exist): spares and the highest sequence of each
 * worker index; removes spares whose making was interrupted. segment_bytes: a multiple of 4096, at least
 * WAL_SEGMENT_BYTES_MIN. Returns 0 or a negative errno. */
int wal_segdir_init(struct wal_segdir *sd, struct disk *disk, const char *dir,
		    uint64_t segment_bytes) we_must_check;

void wal_segment_name(char *buf, size_t len, uint16_t worker, uint64_t sequence);
/* 0 and the fields for a segment name, 1 for a spare (id in *sequence),
 * -EINVAL for anything else. */
int wal_segment_parse_name(const char *name, uint16_t *worker, uint64_t *sequence);

void wal_segment_header_encode(void *buf, const struct wal_segment_header *h);
/* 0, -EINVAL (not a segment header: magic or checksum), -EPROTO (a format
 * this version does not read). */
int wal_segment_header_decode(const void *buf, size_t len, struct wal_segment_header *h)
	we_must_check;

/* Creates one spare: made as spare-<id>.tmp (allocated, zero-filled,
 * synced), then renamed, its name made durable. May run on another thread
 * than wal_segment_open_new. */
int wal_segment_make_spare(struct wal_segdir *sd) we_must_check;
uint32_t wal_segdir_spares(struct wal_segdir *sd);
/* Begins sequence next_seq[worker] of worker's log: takes a spare (rename,
 * resize if the configured size changed) or creates the file, writes the
 * header (not yet synced: the first commit's fdatasync covers it) and makes
 * the name durable (fsync of the directory) before returning. */
int wal_segment_open_new(struct wal_segdir *sd, uint16_t worker, uint64_t generation,
			 uint64_t first_lsn, struct wal_segment *seg) we_must_check;
/* Turns segment (worker, sequence) into a spare: zeroes it (header first),
 * syncs, renames. Costs a write of the whole file: for the checkpointer's
 * thread, never the commit path. */
int wal_segment_retire(struct wal_segdir *sd, uint16_t worker, uint64_t sequence) we_must_check;
void wal_segment_close(struct wal_segdir *sd, struct wal_segment *seg);

#endif
