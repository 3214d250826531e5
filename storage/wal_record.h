/* wal_record.h - the write-ahead log's record: layout, encoder, decoder (no DPDK).
 *
 *   wal_record_size    inline    bytes a record of this shape occupies (8-aligned)
 *   wal_record_encode  wal_record.c  encode into a caller buffer, checksum included
 *   wal_record_decode  wal_record.c  verify and decode from bytes (a log, a ring)
 *   wal_decode_name    wal_record.c  "ok", "end", "torn", "bad" for messages
 *
 * The same bytes travel from the worker's ring to the disk unchanged: the
 * worker encodes straight into its ring, the storage thread writes spans of
 * the ring to a segment, recovery decodes from what it reads back.
 *
 * Record, little-endian, 8-byte aligned, 32-byte header:
 *
 *   byte 0      4          8                 16                24   25   26     28     30    32
 *        +------+----------+-----------------+-----------------+----+----+------+------+-----+
 *        | len  |value_len |    checksum     |       lsn       |type|key |region|worker|epoch|
 *        | (32) |   (32)   |      (64)       | (64, 48 used)   | (8)|len |(16)  |(16)  |(16) |
 *        +------+----------+-----------------+-----------------+----+----+------+------+-----+
 *   32   key[key_len], value[value_len], zero padding to a multiple of 8
 *
 *   len        header + key + value in bytes, without the padding; 0 means
 *              "no record here": the end of the log in a pre-zeroed segment
 *   value_len  0..WAL_VALUE_MAX (a datagram carries at most PROTO_VALUE_MAX,
 *              the format does not limit it that low)
 *   checksum   XXH3-64 of bytes [16, padded end) seeded with bytes [0, 8) read
 *              as a little-endian u64: it covers every byte of the record
 *              but itself, padding included
 *   lsn        the worker's log sequence number, below 2^48 (the arena's
 *              item header keeps 48 bits); bits 48..63 are zero
 *   type       enum wal_record_type
 *   key_len    1..WAL_KEY_MAX for PUT and DELETE
 *   region     keyhash_region() of the key, < WE_REGIONS
 *   worker     index of the worker whose log holds the record
 *   epoch      the region's move epoch when the record was written: how
 *              many times the region had changed owner (region_map.h); 0
 *              for a region never moved (and in logs older than moves).
 *              Recovery applies a region's records of its current epoch
 *              only, so the records an old owner wrote before a move
 *              cannot overwrite what the new owner wrote after it.
 *
 * len is the first field so that the ring's pad marker (wal_ring.h), which
 * may have only 8 bytes before the end of the ring, is told apart by the
 * same first word.
 */
#ifndef WAL_RECORD_H
#define WAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the log format is little-endian");

enum wal_record_type {
	WAL_REC_PUT = 1,
	WAL_REC_DELETE = 2,
	/* Reserved: written by later issues, accepted by the decoder with any
	 * key and value, skipped by the replay of this version. */
	WAL_REC_CHECKPOINT = 3,  /* "a checkpoint covers the log up to here" */
	WAL_REC_REGION_MOVE = 4, /* "region r leaves this worker for worker w" */
	/* Filler the writer puts at the end of a commit so the next commit
	 * starts on a new sector (wal_writer.c): no key, zero bytes as value,
	 * the LSN of the commit's last record. Skipped by replay. */
	WAL_REC_PAD = 5,
	/* Never on disk: an item whose value is in the disk tier, value = its
	 * 16-byte archive reference (storage/archive.h). Only in the chunks a
	 * worker's checkpoint scan hands the checkpoint thread, which reads
	 * the value back and writes a PUT in its place (ckpt_writer.c). */
	WAL_REC_ARCHIVED = 6,
	WAL_REC_TYPE_MAX = 6,
};

struct wal_record_hdr {
	uint32_t len;
	uint32_t value_len;
	uint64_t checksum;
	uint64_t lsn;
	uint8_t type;
	uint8_t key_len;
	uint16_t region;
	uint16_t worker;
	uint16_t epoch;
};
_Static_assert(sizeof(struct wal_record_hdr) == 32, "record header is 32 bytes");
_Static_assert(offsetof(struct wal_record_hdr, len) == 0, "len first (ring pad marker)");
_Static_assert(offsetof(struct wal_record_hdr, value_len) == 4, "layout");
_Static_assert(offsetof(struct wal_record_hdr, checksum) == 8, "layout");
_Static_assert(offsetof(struct wal_record_hdr, lsn) == 16, "layout");
_Static_assert(offsetof(struct wal_record_hdr, type) == 24, "layout");
_Static_assert(offsetof(struct wal_record_hdr, key_len) == 25, "layout");
_Static_assert(offsetof(struct wal_record_hdr, region) == 26, "layout");
_Static_assert(offsetof(struct wal_record_hdr, worker) == 28, "layout");
_Static_assert(offsetof(struct wal_record_hdr, epoch) == 30, "layout");

#define WAL_RECORD_HDR_BYTES 32u
#define WAL_RECORD_ALIGN 8u
#define WAL_CHECKSUM_FROM 16u /* the checksum hashes bytes [16, end), seeded by [0, 8) */
#define WAL_KEY_MAX 250u
#define WAL_VALUE_MAX (16u * 1024 * 1024) /* far above a datagram; bounds a decoder's trust */
#define WAL_LSN_BITS 48
#define WAL_LSN_MAX ((UINT64_C(1) << WAL_LSN_BITS) - 1)
#define WAL_REGIONS 4096u /* WE_REGIONS, checked in wal_record.c */
#define WAL_ARCHIVED_REF_BYTES 16u /* struct archive_ref */
#define WAL_RECORD_BYTES_MAX (WAL_RECORD_HDR_BYTES + WAL_KEY_MAX + WAL_VALUE_MAX + WAL_RECORD_ALIGN)

/* A record as fields; key and value point into the caller's memory when
 * encoding, into the decoded bytes when decoding. */
struct wal_record {
	enum wal_record_type type;
	uint16_t worker;
	uint16_t region;
	uint16_t epoch;
	uint64_t lsn;
	const void *key;
	uint32_t key_len;
	const void *value;
	uint32_t value_len;
};

/* Bytes the record occupies, padding included. */
static inline uint32_t wal_record_size(uint32_t key_len, uint32_t value_len)
{
	uint32_t n = WAL_RECORD_HDR_BYTES + key_len + value_len;

	return (n + WAL_RECORD_ALIGN - 1) & ~(WAL_RECORD_ALIGN - 1);
}

/* Encodes r into buf (8-byte aligned, at least wal_record_size() bytes) and
 * checksums it. Returns the bytes written, or -EINVAL for a record the format
 * cannot carry (type, lengths, region, lsn), or -ENOSPC when buf is short. */
int64_t wal_record_encode(void *buf, size_t buf_bytes, const struct wal_record *r) we_must_check;

enum wal_decode {
	WAL_DECODE_OK = 0,
	WAL_DECODE_END,  /* len is 0 (and so is the rest of the header): no record here */
	WAL_DECODE_TORN, /* a plausible header whose record runs past the bytes given */
	WAL_DECODE_BAD,  /* impossible fields or a checksum mismatch */
};

/* Verifies the record at buf (8-byte aligned; avail bytes readable) and fills
 * *out (pointing into buf) and *rec_bytes (the padded size). Never trusts the
 * bytes: a hostile or torn input yields TORN or BAD, never a read past avail. */
enum wal_decode wal_record_decode(const void *buf, size_t avail, struct wal_record *out,
				  uint32_t *rec_bytes) we_must_check;

const char *wal_decode_name(enum wal_decode d);
const char *wal_record_type_name(enum wal_record_type t);

#endif
