/* wal_record.c - encode and verify write-ahead log records.
 *
 * DESIGN
 * One fixed 32-byte header (wal_record.h) and the key and value bytes, padded
 * to 8 so that a log is a plain sequence of records a reader can walk by
 * their lengths. The checksum covers every byte but itself, the padding too,
 * so garbage anywhere in a record's span is caught; it is one XXH3 call (the
 * first 8 bytes enter as the seed) instead of a hash of a patched copy.
 *
 * The decoder takes bytes from a disk: it checks the lengths before it
 * touches the payload, and reports torn (runs past the data) apart from bad
 * (impossible or mismatching), so recovery can tell "the last write did not
 * finish" from "this log is damaged". The encoder re-verifies what it wrote
 * in verify builds (paired assertions, docs/storage.md).
 */
#include "wal_record.h"

#include <errno.h>
#include <string.h>

#include "keyhash.h"
#include "we_assert.h"

_Static_assert(WAL_REGIONS == WE_REGIONS, "the log's region count is the key space's");
_Static_assert(WAL_RECORD_BYTES_MAX < UINT32_MAX / 2, "record sizes fit u32 with room");

static uint64_t wal_record_checksum(const uint8_t *rec, uint32_t padded)
{
	uint64_t seed;

	memcpy(&seed, rec, sizeof(seed));
	return XXH3_64bits_withSeed(rec + WAL_CHECKSUM_FROM, padded - WAL_CHECKSUM_FROM, seed);
}

static int wal_record_shape_ok(uint32_t type, uint32_t key_len, uint32_t value_len)
{
	switch (type) {
	case WAL_REC_PUT:
		return key_len >= 1 && key_len <= WAL_KEY_MAX && value_len <= WAL_VALUE_MAX;
	case WAL_REC_DELETE:
		return key_len >= 1 && key_len <= WAL_KEY_MAX && value_len == 0;
	case WAL_REC_CHECKPOINT:
	case WAL_REC_REGION_MOVE:
		return key_len <= WAL_KEY_MAX && value_len <= WAL_VALUE_MAX;
	case WAL_REC_PAD:
		return key_len == 0 && value_len <= WAL_VALUE_MAX;
	case WAL_REC_ARCHIVED:
		return key_len >= 1 && key_len <= WAL_KEY_MAX && value_len == WAL_ARCHIVED_REF_BYTES;
	default:
		return 0;
	}
}

int64_t wal_record_encode(void *buf, size_t buf_bytes, const struct wal_record *r)
{
	struct wal_record_hdr h;
	uint8_t *p = buf;
	uint32_t len;
	uint32_t padded;

	WE_ASSERT(((uintptr_t)buf & (WAL_RECORD_ALIGN - 1)) == 0);
	if (!wal_record_shape_ok(r->type, r->key_len, r->value_len) || r->region >= WAL_REGIONS ||
	    r->lsn > WAL_LSN_MAX)
		return -EINVAL;
	len = WAL_RECORD_HDR_BYTES + r->key_len + r->value_len;
	padded = wal_record_size(r->key_len, r->value_len);
	if (buf_bytes < padded)
		return -ENOSPC;

	memset(&h, 0, sizeof(h));
	h.len = len;
	h.value_len = r->value_len;
	h.lsn = r->lsn;
	h.type = (uint8_t)r->type;
	h.key_len = (uint8_t)r->key_len;
	h.region = r->region;
	h.worker = r->worker;
	h.epoch = r->epoch;
	memcpy(p, &h, sizeof(h));
	if (r->key_len)
		memcpy(p + WAL_RECORD_HDR_BYTES, r->key, r->key_len);
	if (r->value_len)
		memcpy(p + WAL_RECORD_HDR_BYTES + r->key_len, r->value, r->value_len);
	memset(p + len, 0, padded - len);
	h.checksum = wal_record_checksum(p, padded);
	memcpy(p + offsetof(struct wal_record_hdr, checksum), &h.checksum, sizeof(h.checksum));

#ifdef WE_VERIFY_ENABLED
	{
		struct wal_record back;
		uint32_t back_bytes;

		WE_VERIFY(wal_record_decode(p, padded, &back, &back_bytes) == WAL_DECODE_OK);
		WE_VERIFY(back_bytes == padded);
	}
#endif
	return padded;
}

static int header_is_zero(const uint8_t *p)
{
	static const uint8_t zero[WAL_RECORD_HDR_BYTES];

	return memcmp(p, zero, sizeof(zero)) == 0;
}

enum wal_decode wal_record_decode(const void *buf, size_t avail, struct wal_record *out,
				  uint32_t *rec_bytes)
{
	const uint8_t *p = buf;
	struct wal_record_hdr h;
	uint32_t padded;

	if (avail < sizeof(uint32_t))
		return avail == 0 ? WAL_DECODE_END : WAL_DECODE_TORN;
	memcpy(&h.len, p, sizeof(h.len));
	if (h.len == 0) {
		/* A zeroed tail ends the log; a zero length inside a non-zero
		 * header is damage, not an end. */
		if (avail < WAL_RECORD_HDR_BYTES)
			return WAL_DECODE_END;
		return header_is_zero(p) ? WAL_DECODE_END : WAL_DECODE_BAD;
	}
	if (h.len < WAL_RECORD_HDR_BYTES || h.len > WAL_RECORD_HDR_BYTES + WAL_KEY_MAX + WAL_VALUE_MAX)
		return WAL_DECODE_BAD;
	padded = (h.len + WAL_RECORD_ALIGN - 1) & ~(WAL_RECORD_ALIGN - 1);
	if (avail < WAL_RECORD_HDR_BYTES)
		return WAL_DECODE_TORN;
	memcpy(&h, p, sizeof(h));
	if (!wal_record_shape_ok(h.type, h.key_len, h.value_len) ||
	    h.len != WAL_RECORD_HDR_BYTES + h.key_len + h.value_len || h.region >= WAL_REGIONS ||
	    h.lsn > WAL_LSN_MAX)
		return WAL_DECODE_BAD;
	if (avail < padded)
		return WAL_DECODE_TORN;
	if (wal_record_checksum(p, padded) != h.checksum)
		return WAL_DECODE_BAD;

	out->type = (enum wal_record_type)h.type;
	out->worker = h.worker;
	out->region = h.region;
	out->epoch = h.epoch;
	out->lsn = h.lsn;
	out->key_len = h.key_len;
	out->key = p + WAL_RECORD_HDR_BYTES;
	out->value_len = h.value_len;
	out->value = p + WAL_RECORD_HDR_BYTES + h.key_len;
	*rec_bytes = padded;
	return WAL_DECODE_OK;
}

const char *wal_decode_name(enum wal_decode d)
{
	switch (d) {
	case WAL_DECODE_OK:
		return "ok";
	case WAL_DECODE_END:
		return "end";
	case WAL_DECODE_TORN:
		return "torn";
	case WAL_DECODE_BAD:
		return "bad";
	}
	return "?";
}

const char *wal_record_type_name(enum wal_record_type t)
{
	switch (t) {
	case WAL_REC_PUT:
		return "put";
	case WAL_REC_DELETE:
		return "delete";
	case WAL_REC_CHECKPOINT:
		return "checkpoint";
	case WAL_REC_REGION_MOVE:
		return "region_move";
	case WAL_REC_PAD:
		return "pad";
	case WAL_REC_ARCHIVED:
		return "archived";
	}
	return "?";
}
