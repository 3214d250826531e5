/* archive.c - the disk tier's records, batches and files (see archive.h).
 *
 * DESIGN: the record codec is pure (no I/O), so the shard's side and the
 * tests use it without a disk. The file is written at the offsets the
 * worker's segments give (archive_space.h) over a struct disk: the I/O
 * thread (archive_io.c) is its only writer during a run, recovery before
 * the thread starts; neither needs a lock.
 */
#include "archive.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the archive format is little-endian");

/* The header's byte layout (archive.h), copied with memcpy. */
struct archive_hdr_disk {
	uint32_t magic;
	uint32_t check;
	uint64_t lsn;
	uint32_t value_len;
	uint32_t stored_len;
	uint8_t key_len;
	uint8_t codec;
	uint16_t reserved;
	uint32_t reserved2;
};
_Static_assert(sizeof(struct archive_hdr_disk) == ARCHIVE_RECORD_HDR_BYTES, "header is 32 bytes");
_Static_assert(offsetof(struct archive_hdr_disk, lsn) == 8, "layout");
_Static_assert(offsetof(struct archive_hdr_disk, value_len) == 16, "layout");
_Static_assert(offsetof(struct archive_hdr_disk, stored_len) == 20, "layout");
_Static_assert(offsetof(struct archive_hdr_disk, key_len) == 24, "layout");
_Static_assert(offsetof(struct archive_hdr_disk, codec) == 25, "layout");
_Static_assert(offsetof(struct archive_hdr_disk, reserved2) == 28, "layout");
_Static_assert(ARCHIVE_RECORD_BYTES_MAX % 8 == 0, "records are 8-aligned");

#define CHECKED_FROM offsetof(struct archive_hdr_disk, lsn)

/* ---- records (pure) ---------------------------------------------------- */

uint32_t archive_record_bytes(uint8_t key_len, uint32_t stored_len)
{
	uint64_t n = (ARCHIVE_RECORD_HDR_BYTES + (uint64_t)key_len + stored_len + 7u) & ~(uint64_t)7u;

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* The header fields a record may hold (encode and decode agree). */
static bool fields_valid(uint8_t key_len, uint8_t codec, uint32_t value_len, uint32_t stored_len)
{
	if (key_len == 0 || stored_len > ARCHIVE_STORED_MAX || value_len > ARCHIVE_VALUE_MAX ||
	    !value_codec_valid(codec))
		return false;
	/* Raw bytes are the value itself. */
	return codec != 0 || value_len == stored_len;
}

static uint32_t check_of(const uint8_t *rec, uint32_t unpadded)
{
	return (uint32_t)XXH3_64bits(rec + CHECKED_FROM, unpadded - CHECKED_FROM);
}

int archive_record_encode(void *buf, uint32_t cap, const struct archive_record *r, uint32_t *check)
{
	struct archive_hdr_disk h = {
		.magic = ARCHIVE_RECORD_MAGIC,
		.lsn = r->lsn,
		.value_len = r->value_len,
		.stored_len = r->stored_len,
		.key_len = r->key_len,
		.codec = r->codec,
	};
	uint8_t *p = buf;
	uint32_t unpadded, bytes;

	if (!fields_valid(r->key_len, r->codec, r->value_len, r->stored_len))
		return -EINVAL;
	unpadded = ARCHIVE_RECORD_HDR_BYTES + r->key_len + r->stored_len;
	bytes = archive_record_bytes(r->key_len, r->stored_len);
	if (bytes > cap)
		return -ENOSPC;
	memcpy(p, &h, sizeof(h));
	memcpy(p + ARCHIVE_RECORD_HDR_BYTES, r->key, r->key_len);
	if (r->stored_len > 0) /* stored may be NULL then */
		memcpy(p + ARCHIVE_RECORD_HDR_BYTES + r->key_len, r->stored, r->stored_len);
	memset(p + unpadded, 0, bytes - unpadded);
	h.check = check_of(p, unpadded);
	memcpy(p + offsetof(struct archive_hdr_disk, check), &h.check, sizeof(h.check));
	*check = h.check;
	return (int)bytes;
}

static bool zero(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* The record at buf (len bytes) if it is ref's and sound, whatever its key. */
static int decode_sound(const uint8_t *p, uint32_t len, const struct archive_ref *ref,
			struct archive_record *out)
{
	struct archive_hdr_disk h;
	uint32_t unpadded;

	if (len != ref->bytes || len < ARCHIVE_RECORD_HDR_BYTES)
		return -EBADMSG;
	memcpy(&h, p, sizeof(h));
	if (h.magic != ARCHIVE_RECORD_MAGIC || h.check != ref->check || h.reserved != 0 ||
	    h.reserved2 != 0 || !fields_valid(h.key_len, h.codec, h.value_len, h.stored_len) ||
	    archive_record_bytes(h.key_len, h.stored_len) != len)
		return -EBADMSG;
	unpadded = ARCHIVE_RECORD_HDR_BYTES + h.key_len + h.stored_len;
	if (check_of(p, unpadded) != h.check || !zero(p + unpadded, len - unpadded))
		return -EBADMSG;
	*out = (struct archive_record){
		.lsn = h.lsn,
		.value_len = h.value_len,
		.stored_len = h.stored_len,
		.key_len = h.key_len,
		.codec = h.codec,
		.key = p + ARCHIVE_RECORD_HDR_BYTES,
		.stored = p + ARCHIVE_RECORD_HDR_BYTES + h.key_len,
	};
	return 0;
}

int archive_record_decode(const void *buf, uint32_t len, const struct archive_ref *ref,
			  const uint8_t *key, uint8_t key_len, struct archive_record *out)
{
	int r = decode_sound(buf, len, ref, out);

	if (r != 0)
		return r;
	/* A sound record of another item: the reference is stale. */
	if (out->key_len != key_len || memcmp(out->key, key, key_len) != 0)
		return -ESTALE;
	return 0;
}

int archive_record_value(const struct archive_record *r, const struct value_dict *dict,
			 uint8_t *dst, uint32_t cap, const uint8_t **value)
{
	if (r->codec == VALUE_CODEC_RAW) {
		*value = r->stored;
		return 0;
	}
	if (r->value_len > cap ||
	    value_codec_decode(r->codec, dict, r->stored, r->stored_len, dst, r->value_len) != 0)
		return -EBADMSG;
	*value = dst;
	return 0;
}

/* ---- batches (pure) ---------------------------------------------------- */

void archive_batch_init(struct archive_batch *b, void *buf, uint32_t cap)
{
	b->buf = buf;
	b->cap = cap & ~7u; /* records stay 8-aligned in the file */
	b->used = 0;
	b->records = 0;
}

int archive_batch_add(struct archive_batch *b, const struct archive_record *r,
		      uint32_t *offset_in_batch, uint32_t *check)
{
	int n = archive_record_encode(b->buf + b->used, b->cap - b->used, r, check);

	if (n < 0)
		return n;
	*offset_in_batch = b->used;
	b->used += (uint32_t)n;
	b->records++;
	return 0;
}

int archive_batch_next(const struct archive_batch *b, uint32_t *pos, struct archive_ref *ref,
		       struct archive_record *out)
{
	struct archive_hdr_disk h;

	if (*pos >= b->used)
		return -ENOENT;
	if (b->used - *pos < ARCHIVE_RECORD_HDR_BYTES)
		return -EBADMSG;
	memcpy(&h, b->buf + *pos, sizeof(h));
	if (!fields_valid(h.key_len, h.codec, h.value_len, h.stored_len))
		return -EBADMSG;
	ref->offset = *pos;
	ref->bytes = archive_record_bytes(h.key_len, h.stored_len);
	ref->check = h.check;
	if (ref->bytes > b->used - *pos || decode_sound(b->buf + *pos, ref->bytes, ref, out) != 0)
		return -EBADMSG;
	*pos += ref->bytes;
	return 0;
}

/* ---- files (synchronous, through struct disk) ------------------------- */

int archive_file_create(struct archive_file *f, struct disk *d, const char *data_dir,
			uint16_t worker, uint64_t limit)
{
	char dir[DISK_PATH_MAX], path[DISK_PATH_MAX];
	int r;

	*f = (struct archive_file){.disk = d, .fd = -1, .limit = limit, .worker = worker};
	if (snprintf(dir, sizeof(dir), "%s/" ARCHIVE_DIR, data_dir) >= (int)sizeof(dir) ||
	    snprintf(path, sizeof(path), "%s/worker-%02u.arc", dir, (unsigned)worker) >=
		    (int)sizeof(path))
		return -ENAMETOOLONG;
	r = disk_mkdir(d, dir);
	if (r == 0)
		r = disk_open(d, path, DISK_O_CREATE, &f->fd);
	if (r != 0) {
		f->fd = -1;
		return r;
	}
	/* A previous run's records: nothing names them any more. */
	r = disk_ftruncate(d, f->fd, 0);
	if (r != 0)
		archive_file_close(f);
	return r;
}

int archive_file_write_at(struct archive_file *f, const void *buf, uint32_t len, uint64_t offset)
{
	int r;

	if (f->limit != 0 && (offset > f->limit || len > f->limit - offset))
		return -ENOSPC;
	r = disk_pwrite_all(f->disk, f->fd, buf, len, offset);
	if (r != 0)
		return r;
	if (offset + len > f->end)
		f->end = offset + len;
	return 0;
}

int archive_file_append(struct archive_file *f, const void *buf, uint32_t len, uint64_t *offset)
{
	int r = archive_file_write_at(f, buf, len, f->end);

	if (r == 0)
		*offset = f->end - len;
	return r;
}

int64_t archive_file_read(struct archive_file *f, void *buf, uint32_t len, uint64_t offset)
{
	return disk_pread_all(f->disk, f->fd, buf, len, offset);
}

void archive_file_close(struct archive_file *f)
{
	if (f->fd >= 0)
		disk_close(f->disk, f->fd);
	f->fd = -1;
}

int archive_file_read_value(struct archive_file *f, const struct archive_ref *ref,
			    const uint8_t *key, uint8_t key_len, uint8_t *record_buf,
			    uint8_t *value_buf, const uint8_t **value, uint32_t *value_len)
{
	struct archive_record r;
	int64_t n;
	int rc;

	if (ref->bytes > ARCHIVE_RECORD_BYTES_MAX)
		return -EBADMSG;
	n = archive_file_read(f, record_buf, ref->bytes, ref->offset);
	if (n < 0)
		return (int)n;
	rc = archive_record_decode(record_buf, (uint32_t)n, ref, key, key_len, &r);
	if (rc == 0)
		rc = archive_record_value(&r, archive_file_dict(f), value_buf, ARCHIVE_VALUE_MAX,
					  value);
	if (rc == 0)
		*value_len = r.value_len;
	return rc;
}

void archive_file_set_dict(struct archive_file *f, const struct value_dict *dict)
{
	__atomic_store_n(&f->dict, dict, __ATOMIC_RELEASE);
}

const struct value_dict *archive_file_dict(const struct archive_file *f)
{
	return __atomic_load_n(&f->dict, __ATOMIC_ACQUIRE);
}
