/* archive.h - the disk tier's records and files ("the singularity"): where
 * the values that cooled in memory go (no DPDK).
 *
 *   archive_record_bytes    archive.c  a record's length, padding included
 *   archive_record_encode   archive.c  a record into a buffer (pure)
 *   archive_record_decode   archive.c  a record read back for a reference, checked (pure)
 *   archive_record_value    archive.c  its value: the stored bytes, or decompressed (pure)
 *   archive_batch_init      archive.c  records appended into memory, written as one pwrite
 *   archive_batch_add       archive.c
 *   archive_batch_next      archive.c  walk a batch's records (for their references)
 *   archive_file_create     archive.c  a worker's file, made empty
 *   archive_file_write_at   archive.c  bytes at an offset (synchronous, through struct disk)
 *   archive_file_append     archive.c  bytes after the furthest written (tests)
 *   archive_file_read       archive.c  bytes at an offset
 *   archive_file_read_value archive.c  a reference's value, read, checked, decompressed
 *   archive_file_set_dict   archive.c  the worker's tier dictionary, for readers of its records
 *   archive_file_dict       archive.c
 *   archive_file_close      archive.c
 *
 * A shard moves an item that cooled to this tier: its stored bytes (raw, or
 * the LZ4 / LZ4-HC bytes the memory tiers made) are appended to the
 * worker's archive file, and the shard keeps a 16-byte struct archive_ref in
 * place of the value. A GET for such an item reads the record back by its
 * reference (archive_io.h does the I/O off the worker).
 *
 * The archive is a swap area, not a durability source: the log and the
 * checkpoints still hold every value, so a file is made empty at each start
 * (a previous run's file is garbage: recovery rebuilds placement) and is
 * never synced. The worker places each batch in a segment of the file
 * (archive_space.h) and writes over a segment again only once no stub and
 * no reader may name its records; a reference read after that fails its
 * check rather than give another item's bytes.
 *
 * Record, little-endian, 8-byte aligned (padding zero):
 *   0  magic      u32  ARCHIVE_RECORD_MAGIC ("WEAR")
 *   4  check      u32  low 32 bits of XXH3-64 over bytes [8, end of stored bytes)
 *   8  lsn        u64  an LSN at or after the value's write (the worker's when it
 *                      archived the item)
 *  16  value_len  u32  the value's length once decompressed
 *  20  stored_len u32  the bytes kept here
 *  24  key_len    u8   1..255
 *  25  codec      u8   value_codec.h: 0 raw, 1 LZ4, 2 LZ4-HC (the shard's tier
 *                       numbers), + 4 against the worker's dictionary
 *  26  reserved   u16  0
 *  28  reserved   u32  0
 *  32  key[key_len], stored[stored_len], zero padding to 8
 *
 * The check in the reference as well as in the record makes a read of the
 * wrong place (a stale reference, a bug) fail instead of handing back
 * another item's value.
 */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <stdint.h>

#include "disk.h"
#include "value_codec.h"
#include "we_compiler.h"

#define ARCHIVE_RECORD_MAGIC UINT32_C(0x52414557) /* the bytes "WEAR" */
#define ARCHIVE_RECORD_HDR_BYTES 32u
#define ARCHIVE_KEY_MAX 255u
#define ARCHIVE_STORED_MAX (64u * 1024) /* larger stored values are never archived */
#define ARCHIVE_VALUE_MAX (64u * 1024)  /* nor larger values (the tiers keep them raw) */
#define ARCHIVE_RECORD_BYTES_MAX                                               \
	((ARCHIVE_RECORD_HDR_BYTES + ARCHIVE_KEY_MAX + ARCHIVE_STORED_MAX + 7u) & ~7u)
#define ARCHIVE_CODEC_MAX VALUE_CODEC_MAX /* a record's codec: value_codec.h */

/* A decoded record, or one to encode. */
struct archive_record {
	uint64_t lsn;
	uint32_t value_len;
	uint32_t stored_len;
	uint8_t key_len;
	uint8_t codec;
	const uint8_t *key;
	const uint8_t *stored;
};

/* Where a record lies: what the shard keeps in place of the value. */
struct archive_ref {
	uint64_t offset; /* byte offset in the worker's archive file */
	uint32_t bytes;  /* the record's length, padding included */
	uint32_t check;  /* the record's check field */
};
_Static_assert(sizeof(struct archive_ref) == 16, "a reference is 16 bytes");

uint32_t archive_record_bytes(uint8_t key_len, uint32_t stored_len);
/* Encodes r into buf (cap bytes, 8-aligned not required). Returns the bytes
 * written (archive_record_bytes), -ENOSPC when it does not fit, -EINVAL for
 * a record that cannot be archived (key_len 0, stored_len over
 * ARCHIVE_STORED_MAX, an unknown codec, raw with value_len != stored_len).
 * *check gets the check field. */
int archive_record_encode(void *buf, uint32_t cap, const struct archive_record *r,
			  uint32_t *check) we_must_check;
/* Decodes the record read back for ref (len bytes) and checks that it is
 * the one ref names and that it holds key. 0; -EBADMSG when the bytes are
 * not ref's record (magic, check, lengths, len or check other than ref's);
 * -ESTALE when the record is sound but holds another key. out's pointers
 * point into buf. */
int archive_record_decode(const void *buf, uint32_t len, const struct archive_ref *ref,
			  const uint8_t *key, uint8_t key_len, struct archive_record *out)
	we_must_check;

/* r's value: the stored bytes themselves when raw (codec 0), else
 * decompressed into dst (cap bytes); *value points at it. dict: the
 * dictionary of the worker whose file holds r (archive_file_dict; NULL
 * when it has none). 0, or -EBADMSG when the bytes do not give exactly
 * value_len bytes or need a dictionary not given. */
int archive_record_value(const struct archive_record *r, const struct value_dict *dict,
			 uint8_t *dst, uint32_t cap, const uint8_t **value) we_must_check;

/* ---- a batch: records appended in memory, written as one pwrite ------- */

struct archive_batch {
	uint8_t *buf;
	uint32_t cap;
	uint32_t used;
	uint32_t records;
};

void archive_batch_init(struct archive_batch *b, void *buf, uint32_t cap);
/* Appends r: 0, *offset_in_batch (where it starts) and *check; -ENOSPC when
 * the batch is full; -EINVAL as archive_record_encode. */
int archive_batch_add(struct archive_batch *b, const struct archive_record *r,
		      uint32_t *offset_in_batch, uint32_t *check) we_must_check;

/* The record at *pos of a batch this process encoded: 0, *out, *ref with
 * offset = *pos (add the batch's file offset), and *pos moved past it;
 * -ENOENT after the last; -EBADMSG for bytes that are not a sound record. */
int archive_batch_next(const struct archive_batch *b, uint32_t *pos, struct archive_ref *ref,
		       struct archive_record *out) we_must_check;

/* ---- one worker's file: DATA/singularity/worker-NN.arc ---------------- */

#define ARCHIVE_DIR "singularity"

struct archive_file {
	struct disk *disk;
	int fd;         /* -1: closed */
	uint64_t end;   /* past the furthest byte written */
	uint64_t limit; /* the most bytes the file may hold (0: no limit) */
	uint16_t worker;
	/* The worker's tier dictionary once it has one (set once, before the
	 * first record compressed against it is written; read by any thread). */
	const struct value_dict *dict;
};

/* Makes DATA/singularity, opens the worker's file and truncates it to 0.
 * 0 or a negative errno (f->fd is -1 then). */
int archive_file_create(struct archive_file *f, struct disk *d, const char *data_dir,
			uint16_t worker, uint64_t limit) we_must_check;
/* Writes len bytes at offset: 0; -ENOSPC past the limit (nothing
 * written); another negative errno from the disk (a failed write's bytes
 * are garbage no reference names). */
int archive_file_write_at(struct archive_file *f, const void *buf, uint32_t len, uint64_t offset)
	we_must_check;
/* Writes len bytes after the furthest byte written so far: 0 and *offset,
 * or as archive_file_write_at. */
int archive_file_append(struct archive_file *f, const void *buf, uint32_t len, uint64_t *offset)
	we_must_check;
/* Reads len bytes at offset: the bytes read (fewer at the end of the
 * file) or a negative errno. */
int64_t archive_file_read(struct archive_file *f, void *buf, uint32_t len, uint64_t offset)
	we_must_check;
/* Reads ref's record (into record_buf, ARCHIVE_RECORD_BYTES_MAX bytes),
 * checks it holds key, and gives its value (*value: in record_buf, or
 * decompressed into value_buf, ARCHIVE_VALUE_MAX bytes). 0, a negative
 * errno from the disk, or decode's -EBADMSG / -ESTALE. Safe beside the
 * thread's appends (pread of bytes already written). */
int archive_file_read_value(struct archive_file *f, const struct archive_ref *ref,
			    const uint8_t *key, uint8_t key_len, uint8_t *record_buf,
			    uint8_t *value_buf, const uint8_t **value, uint32_t *value_len)
	we_must_check;
void archive_file_close(struct archive_file *f);
/* Publishes the worker's dictionary (release; once, or again with the same
 * one); archive_file_dict reads it (acquire; NULL before). */
void archive_file_set_dict(struct archive_file *f, const struct value_dict *dict);
const struct value_dict *archive_file_dict(const struct archive_file *f);

#endif
