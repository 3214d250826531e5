/* checkpoint.h - fuzzy checkpoint files: chunk encoder, part writer, part
 * reader and verifier (no DPDK).
 *
 *   ckpt_chunk_init / _reset / _add  checkpoint.c  items into a chunk buffer in memory (pure)
 *   ckpt_dir_name, ckpt_part_name    checkpoint.c  "ckpt-000000000007", "part-03.ckpt"
 *   ckpt_begin                       checkpoint.c  make checkpoints/ckpt-<id>/ durably
 *   ckpt_part_create                 checkpoint.c  open a part, write its header
 *   ckpt_part_write_chunk            checkpoint.c  LZ4-compress one chunk and append it
 *   ckpt_part_finish                 checkpoint.c  sync, trailer, sync: the part is complete
 *   ckpt_part_abort                  checkpoint.c  give up (the file stays incomplete)
 *   ckpt_part_header_encode/_decode  checkpoint.c
 *   ckpt_part_trailer_encode/_decode checkpoint.c
 *   ckpt_reader_open / _next / _close checkpoint.c iterate a part's items, verifying
 *   ckpt_part_verify                 checkpoint.c  read a whole part, report the first damage
 *   ckpt_verify_dir                  checkpoint.c  every part of one checkpoint
 *   ckpt_check_dir                   checkpoint.c  the same, checksums only (no decompression)
 *
 * A checkpoint is fuzzy: each worker notes its current LSN (start_lsn) when
 * its scan begins and then emits its items (each with its own LSN, possibly
 * above start_lsn) a chunk at a time. The checkpoint plus every log record
 * with an LSN above start_lsn in that worker's log of the checkpoint's
 * generation, plus every record of later generations, gives the state.
 *
 * Layout: DIR/checkpoints/ckpt-<id>/part-<worker>.ckpt, one part per worker
 * (id: 12 decimal digits, worker: 2). One file per worker rather than one
 * file with per-worker sections: workers scan at their own pace, so their
 * chunks arrive interleaved and of unknown number; separate files need no
 * section table, no coordination between workers and no rewrite at the end,
 * each part is complete (or not) on its own, and a later loader can read
 * the parts in parallel.
 *
 * Part file, little-endian (docs/storage.md, "Checkpoints (format)"):
 *
 *   header  64 bytes at offset 0
 *     0 magic "WECKPTH1"  8 format u32  12 worker u16  14 worker_count u16
 *     16 checkpoint_id u64  24 generation u64  32 start_lsn u64
 *     40 chunk_raw_max u32  44 reserved u32  48 reserved u64  56 checksum u64
 *     checksum = XXH3-64 of bytes [0, 56)
 *   chunks  from offset 64, each 8-aligned:
 *     0 magic "CKCH" u32  4 records u32  8 raw_bytes u32  12 compressed_bytes u32
 *     16 data_checksum u64 (XXH3-64 of the compressed bytes)
 *     24 header_checksum u64 (XXH3-64 of bytes [0, 24))
 *     32 LZ4 block (compressed_bytes), zero padding to a multiple of 8
 *     The block decompresses to raw_bytes of WAL PUT records (wal_record.h),
 *     back to back, worker = the part's worker.
 *   trailer 64 bytes, the last bytes of a complete part:
 *     0 magic "WECKPTE1"  8 items u64  16 chunks u64  24 raw_bytes u64
 *     32 trailer_offset u64 (= file size - 64)  40 chunks_checksum u64
 *     48 checkpoint_id u64  56 checksum u64 (XXH3-64 of bytes [0, 56))
 *     chunks_checksum: c = 0; for each chunk c = XXH3-64(data_checksum as 8
 *     LE bytes, seed c); empty part: 0.
 *
 * The trailer is written only after the chunks are synced, and then synced
 * itself: a valid trailer at the end of the file means every chunk before it
 * reached the disk. A part without one is incomplete (what a crash or a full
 * disk leaves), never loaded; a part with one whose chunks fail to verify is
 * damaged.
 */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk.h"
#include "wal_record.h"
#include "we_compiler.h"

#define CKPT_FORMAT 1u
#define CKPT_HEADER_MAGIC UINT64_C(0x31485450434b4557)  /* the bytes "WECKPTH1" */
#define CKPT_TRAILER_MAGIC UINT64_C(0x31455450434b4557) /* the bytes "WECKPTE1" */
#define CKPT_CHUNK_MAGIC UINT32_C(0x48434b43)            /* the bytes "CKCH" */
#define CKPT_HEADER_BYTES 64u
#define CKPT_CHUNK_HDR_BYTES 32u
#define CKPT_TRAILER_BYTES 64u
#define CKPT_CHUNK_RAW_MIN 4096u
/* A chunk must hold the largest record; far below LZ4_MAX_INPUT_SIZE. */
#define CKPT_CHUNK_RAW_MAX (32u * 1024 * 1024)
#define CKPT_CHUNK_RAW_DEFAULT (256u * 1024)
#define CKPT_WORKERS_MAX 100 /* WAL_WORKERS_MAX: two digits in part names */
#define CKPT_ID_MAX UINT64_C(999999999999)
#define CKPT_DIR_NAME_MAX 24
#define CKPT_ERR_MAX 512

_Static_assert(CKPT_CHUNK_RAW_MAX >= WAL_RECORD_BYTES_MAX, "a chunk can hold any record");

struct ckpt_part_header {
	uint32_t format;
	uint16_t worker;
	uint16_t worker_count;
	uint64_t checkpoint_id;
	uint64_t generation;
	uint64_t start_lsn;
	uint32_t chunk_raw_max; /* largest raw_bytes of a chunk in this part */
};

struct ckpt_part_trailer {
	uint64_t items;
	uint64_t chunks;
	uint64_t raw_bytes;
	uint64_t trailer_offset;
	uint64_t chunks_checksum;
	uint64_t checkpoint_id;
};

/* A chunk being filled by a worker: memory handed in, no allocation. */
struct ckpt_chunk {
	uint8_t *buf; /* 8-byte aligned */
	uint32_t cap;
	uint32_t used;
	uint32_t records;
	uint32_t archived; /* of them, references of archived items */
	uint16_t worker;
};

/* buf: 8-byte aligned, bytes in [CKPT_CHUNK_RAW_MIN, CKPT_CHUNK_RAW_MAX]. */
void ckpt_chunk_init(struct ckpt_chunk *c, void *buf, uint32_t bytes, uint16_t worker);
void ckpt_chunk_reset(struct ckpt_chunk *c);
/* Appends one item as a WAL PUT record (worker = the chunk's; item->type
 * and item->worker are ignored), or, typed WAL_REC_ARCHIVED, as the
 * reference of an archived item (the checkpoint thread writes its PUT). 0; -ENOSPC the chunk is full (write it out,
 * reset, add again); -EMSGSIZE the item can never fit a chunk this size;
 * -EINVAL an item the record format cannot carry. Pure: no I/O, no lock. */
int ckpt_chunk_add(struct ckpt_chunk *c, const struct wal_record *item) we_must_check;

/* "ckpt-<id, 12 digits>" and "part-<worker, 2 digits>.ckpt". */
void ckpt_dir_name(char *buf, size_t len, uint64_t id);
void ckpt_part_name(char *buf, size_t len, uint16_t worker);
/* The id of a "ckpt-<12 digits>" name, or -EINVAL. */
int ckpt_dir_parse(const char *name, uint64_t *id) we_must_check;

void ckpt_part_header_encode(void *buf, const struct ckpt_part_header *h);
/* 0, -EINVAL (not a part header), -EPROTO (another format). */
int ckpt_part_header_decode(const void *buf, size_t len, struct ckpt_part_header *h)
	we_must_check;
void ckpt_part_trailer_encode(void *buf, const struct ckpt_part_trailer *t);
/* 0 or -EINVAL (magic or checksum). */
int ckpt_part_trailer_decode(const void *buf, size_t len, struct ckpt_part_trailer *t)
	we_must_check;

/* Creates checkpoints_dir/ckpt-<id>/ and makes its name durable (fsync of
 * checkpoints_dir); its path goes to dir_out (DISK_PATH_MAX bytes). */
int ckpt_begin(struct disk *disk, const char *checkpoints_dir, uint64_t id, char *dir_out)
	we_must_check;

struct ckpt_part;

/* Creates ckpt_dir/part-<worker>.ckpt and writes the header (h->format is
 * set here); allocates the compression buffer for chunks of up to
 * h->chunk_raw_max raw bytes. For the storage thread. -EEXIST when the part
 * exists: checkpoint ids are never reused (a failed checkpoint's folder
 * stays, incomplete, until removed; the next attempt takes the next id). */
int ckpt_part_create(struct ckpt_part **out, struct disk *disk, const char *ckpt_dir,
		     const struct ckpt_part_header *h) we_must_check;
/* Compresses c and appends it (no sync). The chunk may be reset after. An
 * empty chunk writes nothing. After an error the part can only be aborted. */
int ckpt_part_write_chunk(struct ckpt_part *p, const struct ckpt_chunk *c) we_must_check;
/* fdatasync (the chunks), trailer, fdatasync, close, free. 0 and *t (may be
 * NULL): the part is complete. On error the part is freed too (the file
 * stays incomplete). */
int ckpt_part_finish(struct ckpt_part *p, struct ckpt_part_trailer *t) we_must_check;
void ckpt_part_abort(struct ckpt_part *p);

/* What is wrong with a part (the reader's verdict). */
enum ckpt_damage {
	CKPT_DAMAGE_NONE = 0,
	CKPT_DAMAGE_INCOMPLETE, /* no trailer at the end: truncated or never finished */
	CKPT_DAMAGE_BAD,        /* checksum mismatch or impossible field */
};

const char *ckpt_damage_name(enum ckpt_damage d);

struct ckpt_reader;

/* Opens a part and checks its header and trailer. 0, or -ENODATA
 * (incomplete), -EUCLEAN (bad), -EPROTO (another format), an I/O errno; err
 * names the file, offset and what is wrong. A reader is returned only on 0. */
int ckpt_reader_open(struct ckpt_reader **out, struct disk *disk, const char *path, char *err,
		     size_t err_len) we_must_check;
const struct ckpt_part_header *ckpt_reader_header(const struct ckpt_reader *r);
const struct ckpt_part_trailer *ckpt_reader_trailer(const struct ckpt_reader *r);
/* 1 and the next item (pointers valid until the next call), 0 at the end
 * (counts and chunks_checksum matched the trailer), or -EUCLEAN (a damaged
 * chunk; err says which), an I/O errno, -ENOMEM. */
int ckpt_reader_next(struct ckpt_reader *r, struct wal_record *item, char *err, size_t err_len)
	we_must_check;
void ckpt_reader_close(struct ckpt_reader *r);

/* Reads every item of the part at path. 0 (complete and intact), -ENODATA,
 * -EUCLEAN, -EPROTO or an I/O errno, with the first damage in err. *h and
 * *t (either may be NULL) are filled as far as they could be read. */
int ckpt_part_verify(struct disk *disk, const char *path, struct ckpt_part_header *h,
		     struct ckpt_part_trailer *t, char *err, size_t err_len) we_must_check;

/* What one complete checkpoint holds, per worker. */
struct ckpt_summary {
	uint64_t checkpoint_id;
	uint64_t generation;
	uint16_t worker_count;
	uint64_t start_lsn[CKPT_WORKERS_MAX];
	uint64_t items[CKPT_WORKERS_MAX];
	uint64_t chunks[CKPT_WORKERS_MAX];
};

/* Verifies every part of the checkpoint in ckpt_dir (named ckpt-<id>):
 * parts 0 .. worker_count - 1 present, headers agreeing (id, generation,
 * worker count), every chunk intact. 0 and *s, or the first damage as for
 * ckpt_part_verify (a missing part: -ENODATA,
 * incomplete). */
int ckpt_verify_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, char *err,
		    size_t err_len) we_must_check;
/* As ckpt_verify_dir, but each chunk only against its checksums (header,
 * compressed bytes, the trailer's chain and counts), without decompressing
 * or decoding its items: what recovery checks before it loads a checkpoint
 * (loading decodes every item again; a checksum-intact chunk that then fails
 * to decode would be a writer bug, reported by the load). */
int ckpt_check_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, char *err,
		   size_t err_len) we_must_check;

#endif
