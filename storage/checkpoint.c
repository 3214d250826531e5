/* checkpoint.c - checkpoint part files: chunk encoder, writer, reader.
 *
 * DESIGN
 * Three owners, three pieces. A worker fills a chunk in memory it was handed
 * (ckpt_chunk_add: WAL PUT records back to back, the same encoder as the
 * log, no I/O), a storage thread compresses and appends finished chunks to
 * the worker's part (ckpt_part_write_chunk) and completes it
 * (ckpt_part_finish), and recovery or the tool reads a part back through
 * ckpt_reader, which trusts no byte: every length is bounded before it is
 * used, every chunk is checked (XXH3 of its compressed bytes, LZ4's safe
 * decoder, each record's own checksum) before an item is handed out.
 *
 * Complete or not is decided by the trailer alone: it is written after an
 * fdatasync of the chunks and synced itself, so a valid trailer at the very
 * end of the file proves every chunk before it was on disk. Anything else at
 * the end (a truncation at any byte, an unfinished part, a torn or damaged
 * trailer) is "incomplete"; a valid trailer with a chunk that fails to
 * verify is "bad" (synced data changed). Both make the part unusable.
 *
 * All I/O goes through struct disk so the fake disk can fail calls and cut
 * the power under it.
 */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "we_assert.h"

/* The byte layouts (checkpoint.h, docs/storage.md), copied with memcpy. */
struct ckpt_header_disk {
	uint64_t magic;
	uint32_t format;
	uint16_t worker;
	uint16_t worker_count;
	uint64_t checkpoint_id;
	uint64_t generation;
	uint64_t start_lsn;
	uint32_t chunk_raw_max;
	uint32_t reserved;
	uint64_t reserved2;
	uint64_t checksum;
};
_Static_assert(sizeof(struct ckpt_header_disk) == CKPT_HEADER_BYTES, "header is 64 bytes");
_Static_assert(offsetof(struct ckpt_header_disk, checkpoint_id) == 16, "layout");
_Static_assert(offsetof(struct ckpt_header_disk, start_lsn) == 32, "layout");
_Static_assert(offsetof(struct ckpt_header_disk, chunk_raw_max) == 40, "layout");
_Static_assert(offsetof(struct ckpt_header_disk, checksum) == 56, "layout");

struct ckpt_chunk_disk {
	uint32_t magic;
	uint32_t records;
	uint32_t raw_bytes;
	uint32_t compressed_bytes;
	uint64_t data_checksum;
	uint64_t header_checksum;
};
_Static_assert(sizeof(struct ckpt_chunk_disk) == CKPT_CHUNK_HDR_BYTES, "chunk header is 32 bytes");
_Static_assert(offsetof(struct ckpt_chunk_disk, data_checksum) == 16, "layout");
_Static_assert(offsetof(struct ckpt_chunk_disk, header_checksum) == 24, "layout");

struct ckpt_trailer_disk {
	uint64_t magic;
	uint64_t items;
	uint64_t chunks;
	uint64_t raw_bytes;
	uint64_t trailer_offset;
	uint64_t chunks_checksum;
	uint64_t checkpoint_id;
	uint64_t checksum;
};
_Static_assert(sizeof(struct ckpt_trailer_disk) == CKPT_TRAILER_BYTES, "trailer is 64 bytes");
_Static_assert(offsetof(struct ckpt_trailer_disk, chunks_checksum) == 40, "layout");
_Static_assert(offsetof(struct ckpt_trailer_disk, checksum) == 56, "layout");

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

static uint64_t chain_checksum(uint64_t acc, uint64_t chunk_checksum)
{
	return XXH3_64bits_withSeed(&chunk_checksum, sizeof(chunk_checksum), acc);
}

/* ---- chunk encoder (pure) ---------------------------------------------- */

void ckpt_chunk_init(struct ckpt_chunk *c, void *buf, uint32_t bytes, uint16_t worker)
{
	WE_ASSERT(buf != NULL);
	WE_ASSERT(((uintptr_t)buf & 7u) == 0);
	WE_ASSERT(bytes >= CKPT_CHUNK_RAW_MIN);
	WE_ASSERT(bytes <= CKPT_CHUNK_RAW_MAX);
	WE_ASSERT(worker < CKPT_WORKERS_MAX);
	c->buf = buf;
	c->cap = bytes & ~7u;
	c->used = 0;
	c->records = 0;
	c->archived = 0;
	c->worker = worker;
}

void ckpt_chunk_reset(struct ckpt_chunk *c)
{
	c->used = 0;
	c->records = 0;
	c->archived = 0;
}

int ckpt_chunk_add(struct ckpt_chunk *c, const struct wal_record *item)
{
	struct wal_record r = *item;
	uint32_t size;
	int64_t n;

	if (item->key_len == 0 || item->key_len > WAL_KEY_MAX || item->value_len > WAL_VALUE_MAX)
		return -EINVAL;
	size = wal_record_size(item->key_len, item->value_len);
	if (size > c->cap)
		return -EMSGSIZE;
	if (size > c->cap - c->used)
		return -ENOSPC;
	/* An archived item goes as its reference (the thread writes the PUT). */
	r.type = item->type == WAL_REC_ARCHIVED ? WAL_REC_ARCHIVED : WAL_REC_PUT;
	r.worker = c->worker;
	n = wal_record_encode(c->buf + c->used, c->cap - c->used, &r);
	if (n < 0)
		return (int)n;
	WE_ASSERT(n == (int64_t)size);
	c->used += size;
	c->records++;
	c->archived += r.type == WAL_REC_ARCHIVED;
	return 0;
}

/* ---- names, header, trailer -------------------------------------------- */

void ckpt_dir_name(char *buf, size_t len, uint64_t id)
{
	snprintf(buf, len, "ckpt-%012" PRIu64, id);
}

void ckpt_part_name(char *buf, size_t len, uint16_t worker)
{
	snprintf(buf, len, "part-%02u.ckpt", (unsigned)worker);
}

int ckpt_dir_parse(const char *name, uint64_t *id)
{
	uint64_t v = 0;

	if (strncmp(name, "ckpt-", 5) != 0 || strlen(name) != 17)
		return -EINVAL;
	for (int i = 5; i < 17; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*id = v;
	return 0;
}

void ckpt_part_header_encode(void *buf, const struct ckpt_part_header *h)
{
	struct ckpt_header_disk d = {
		.magic = CKPT_HEADER_MAGIC,
		.format = h->format,
		.worker = h->worker,
		.worker_count = h->worker_count,
		.checkpoint_id = h->checkpoint_id,
		.generation = h->generation,
		.start_lsn = h->start_lsn,
		.chunk_raw_max = h->chunk_raw_max,
	};

	d.checksum = XXH3_64bits(&d, offsetof(struct ckpt_header_disk, checksum));
	memcpy(buf, &d, sizeof(d));
}

int ckpt_part_header_decode(const void *buf, size_t len, struct ckpt_part_header *h)
{
	struct ckpt_header_disk d;

	if (len < sizeof(d))
		return -EINVAL;
	memcpy(&d, buf, sizeof(d));
	if (d.magic != CKPT_HEADER_MAGIC ||
	    XXH3_64bits(&d, offsetof(struct ckpt_header_disk, checksum)) != d.checksum)
		return -EINVAL;
	h->format = d.format;
	h->worker = d.worker;
	h->worker_count = d.worker_count;
	h->checkpoint_id = d.checkpoint_id;
	h->generation = d.generation;
	h->start_lsn = d.start_lsn;
	h->chunk_raw_max = d.chunk_raw_max;
	if (d.format != CKPT_FORMAT)
		return -EPROTO;
	if (d.worker_count == 0 || d.worker_count > CKPT_WORKERS_MAX ||
	    d.worker >= d.worker_count || d.chunk_raw_max < CKPT_CHUNK_RAW_MIN ||
	    d.chunk_raw_max > CKPT_CHUNK_RAW_MAX || d.start_lsn > WAL_LSN_MAX)
		return -EINVAL;
	return 0;
}

void ckpt_part_trailer_encode(void *buf, const struct ckpt_part_trailer *t)
{
	struct ckpt_trailer_disk d = {
		.magic = CKPT_TRAILER_MAGIC,
		.items = t->items,
		.chunks = t->chunks,
		.raw_bytes = t->raw_bytes,
		.trailer_offset = t->trailer_offset,
		.chunks_checksum = t->chunks_checksum,
		.checkpoint_id = t->checkpoint_id,
	};

	d.checksum = XXH3_64bits(&d, offsetof(struct ckpt_trailer_disk, checksum));
	memcpy(buf, &d, sizeof(d));
}

int ckpt_part_trailer_decode(const void *buf, size_t len, struct ckpt_part_trailer *t)
{
	struct ckpt_trailer_disk d;

	if (len < sizeof(d))
		return -EINVAL;
	memcpy(&d, buf, sizeof(d));
	if (d.magic != CKPT_TRAILER_MAGIC ||
	    XXH3_64bits(&d, offsetof(struct ckpt_trailer_disk, checksum)) != d.checksum)
		return -EINVAL;
	t->items = d.items;
	t->chunks = d.chunks;
	t->raw_bytes = d.raw_bytes;
	t->trailer_offset = d.trailer_offset;
	t->chunks_checksum = d.chunks_checksum;
	t->checkpoint_id = d.checkpoint_id;
	return 0;
}

const char *ckpt_damage_name(enum ckpt_damage d)
{
	switch (d) {
	case CKPT_DAMAGE_NONE:
		return "none";
	case CKPT_DAMAGE_INCOMPLETE:
		return "incomplete";
	case CKPT_DAMAGE_BAD:
		return "bad";
	}
	return "?";
}

/* ---- writer (storage thread) ------------------------------------------- */

struct ckpt_part {
	struct disk *disk;
	int fd;
	int error; /* sticky: after a failed write only abort is left */
	char dir[DISK_PATH_MAX];
	struct ckpt_part_header hdr;
	uint64_t off;
	struct ckpt_part_trailer t;
	uint8_t *buf; /* chunk header + compressed block + padding */
	size_t buf_bytes;
};

int ckpt_begin(struct disk *disk, const char *checkpoints_dir, uint64_t id, char *dir_out)
{
	char name[CKPT_DIR_NAME_MAX];
	int n;
	int r;

	if (id == 0 || id > CKPT_ID_MAX)
		return -EINVAL;
	ckpt_dir_name(name, sizeof(name), id);
	n = snprintf(dir_out, DISK_PATH_MAX, "%s/%s", checkpoints_dir, name);
	if (n < 0 || n >= DISK_PATH_MAX)
		return -ENAMETOOLONG;
	r = disk_mkdir(disk, checkpoints_dir);
	if (r == 0)
		r = disk_mkdir(disk, dir_out);
	if (r == 0)
		r = disk_fsync_dir(disk, checkpoints_dir);
	/* If checkpoints_dir was made just now, its own entry is durable only
	 * once its parent is synced (datadir_open makes it durably, but this
	 * function also creates it): one more folder fsync per checkpoint. */
	if (r == 0 && strrchr(checkpoints_dir, '/') != NULL) {
		char parent[DISK_PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", checkpoints_dir);
		*strrchr(parent, '/') = '\0';
		if (parent[0] != '\0')
			r = disk_fsync_dir(disk, parent);
	}
	return r;
}

int ckpt_part_create(struct ckpt_part **out, struct disk *disk, const char *ckpt_dir,
		     const struct ckpt_part_header *h)
{
	uint8_t hdr[CKPT_HEADER_BYTES];
	char name[DISK_NAME_MAX];
	char path[DISK_PATH_MAX];
	struct ckpt_part *p;
	int r;

	if (h->worker_count == 0 || h->worker_count > CKPT_WORKERS_MAX ||
	    h->worker >= h->worker_count || h->chunk_raw_max < CKPT_CHUNK_RAW_MIN ||
	    h->chunk_raw_max > CKPT_CHUNK_RAW_MAX || h->start_lsn > WAL_LSN_MAX ||
	    h->checkpoint_id == 0 || h->checkpoint_id > CKPT_ID_MAX)
		return -EINVAL;
	ckpt_part_name(name, sizeof(name), h->worker);
	if (snprintf(path, sizeof(path), "%s/%s", ckpt_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->buf_bytes = CKPT_CHUNK_HDR_BYTES + (size_t)LZ4_compressBound((int)h->chunk_raw_max) + 8;
	p->buf = malloc(p->buf_bytes);
	if (p->buf == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->disk = disk;
	snprintf(p->dir, sizeof(p->dir), "%s", ckpt_dir);
	p->hdr = *h;
	p->hdr.format = CKPT_FORMAT;
	p->t.checkpoint_id = h->checkpoint_id;
	/* EXCL: an id is never reused. Rewriting a part in place could let a
	 * torn power cut mix an old trailer with new chunks (bad, not
	 * incomplete); a retried checkpoint takes the next id instead. */
	r = disk_open(disk, path, DISK_O_CREATE | DISK_O_EXCL, &p->fd);
	if (r != 0) {
		free(p->buf);
		free(p);
		return r;
	}
	ckpt_part_header_encode(hdr, &p->hdr);
	r = disk_pwrite_all(disk, p->fd, hdr, sizeof(hdr), 0);
	if (r != 0) {
		ckpt_part_abort(p);
		return r;
	}
	p->off = CKPT_HEADER_BYTES;
	*out = p;
	return 0;
}

int ckpt_part_write_chunk(struct ckpt_part *p, const struct ckpt_chunk *c)
{
	struct ckpt_chunk_disk ch = {.magic = CKPT_CHUNK_MAGIC};
	uint64_t total;
	int n;
	int r;

	if (p->error != 0)
		return p->error;
	if (c->used == 0)
		return 0;
	if (c->used > p->hdr.chunk_raw_max || c->worker != p->hdr.worker)
		return -EINVAL;
	n = LZ4_compress_default((const char *)c->buf, (char *)p->buf + CKPT_CHUNK_HDR_BYTES,
				 (int)c->used, (int)(p->buf_bytes - CKPT_CHUNK_HDR_BYTES - 8));
	WE_ASSERT(n > 0); /* the buffer holds LZ4_compressBound(chunk_raw_max) */
	ch.records = c->records;
	ch.raw_bytes = c->used;
	ch.compressed_bytes = (uint32_t)n;
	ch.data_checksum = XXH3_64bits(p->buf + CKPT_CHUNK_HDR_BYTES, (size_t)n);
	ch.header_checksum = XXH3_64bits(&ch, offsetof(struct ckpt_chunk_disk, header_checksum));
	memcpy(p->buf, &ch, sizeof(ch));
	total = ALIGN8(CKPT_CHUNK_HDR_BYTES + (uint64_t)n);
	memset(p->buf + CKPT_CHUNK_HDR_BYTES + n, 0, total - CKPT_CHUNK_HDR_BYTES - (uint64_t)n);
	r = disk_pwrite_all(p->disk, p->fd, p->buf, (size_t)total, p->off);
	if (r != 0) {
		p->error = r;
		return r;
	}
	p->off += total;
	p->t.items += c->records;
	p->t.chunks++;
	p->t.raw_bytes += c->used;
	p->t.chunks_checksum = chain_checksum(p->t.chunks_checksum, ch.data_checksum);
	return 0;
}

int ckpt_part_finish(struct ckpt_part *p, struct ckpt_part_trailer *t)
{
	uint8_t tr[CKPT_TRAILER_BYTES];
	int r = p->error;

	/* Chunks first: a trailer must never reach the disk before them. */
	if (r == 0)
		r = disk_fdatasync(p->disk, p->fd);
	if (r == 0) {
		p->t.trailer_offset = p->off;
		ckpt_part_trailer_encode(tr, &p->t);
		r = disk_pwrite_all(p->disk, p->fd, tr, sizeof(tr), p->off);
	}
	if (r == 0)
		r = disk_fdatasync(p->disk, p->fd);
	if (r == 0) /* the part's name (the directory's entry) */
		r = disk_fsync_dir(p->disk, p->dir);
	if (r == 0 && t != NULL)
		*t = p->t;
	ckpt_part_abort(p);
	return r;
}

void ckpt_part_abort(struct ckpt_part *p)
{
	disk_close(p->disk, p->fd);
	free(p->buf);
	free(p);
}

/* ---- reader ------------------------------------------------------------ */

struct ckpt_reader {
	struct disk *disk;
	int fd;
	char path[DISK_PATH_MAX];
	struct ckpt_part_header hdr;
	struct ckpt_part_trailer t;
	uint64_t off;   /* next chunk header */
	uint8_t *cbuf;  /* compressed block */
	uint8_t *raw;   /* the current chunk's records */
	uint32_t raw_bytes;
	uint32_t raw_pos;
	uint32_t chunk_records;
	uint32_t chunk_seen;
	uint64_t chunk_index; /* of the current chunk, from 0 */
	uint64_t items;
	uint64_t chunks;
	uint64_t raw_total;
	uint64_t chain;
	bool shallow; /* checksums only: chunks are not decompressed */
};

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int read_exact(struct ckpt_reader *r, void *buf, size_t len, uint64_t off)
{
	int64_t n = disk_pread_all(r->disk, r->fd, buf, len, off);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -ENODATA;
}

void ckpt_reader_close(struct ckpt_reader *r)
{
	if (r == NULL)
		return;
	disk_close(r->disk, r->fd);
	free(r->cbuf);
	free(r->raw);
	free(r);
}

/* Header and trailer. Whether a part is complete is decided by the trailer
 * first: without one the part was never finished, and anything else in it
 * (a header lost to a torn power cut included) is what an interrupted
 * write leaves, not damage. */
static int reader_check_ends(struct ckpt_reader *r, char *err, size_t err_len)
{
	uint8_t head[CKPT_HEADER_BYTES];
	uint8_t tail[CKPT_TRAILER_BYTES];
	uint64_t size;
	int hrc;
	int rc;

	rc = disk_file_size(r->disk, r->fd, &size);
	if (rc != 0)
		return fail(err, err_len, rc, "%s: size: %s", r->path, strerror(-rc));
	if (size < CKPT_HEADER_BYTES + CKPT_TRAILER_BYTES)
		return fail(err, err_len, -ENODATA,
			    "%s: incomplete: %" PRIu64 " bytes, too short for header and trailer",
			    r->path, size);
	rc = read_exact(r, head, sizeof(head), 0);
	if (rc == 0)
		rc = read_exact(r, tail, sizeof(tail), size - CKPT_TRAILER_BYTES);
	if (rc != 0)
		return fail(err, err_len, rc, "%s: %s", r->path, strerror(-rc));
	hrc = ckpt_part_header_decode(head, sizeof(head), &r->hdr);
	if (hrc == -EPROTO)
		return fail(err, err_len, hrc, "%s: format %u, this version reads %u", r->path,
			    r->hdr.format, CKPT_FORMAT);
	if (ckpt_part_trailer_decode(tail, sizeof(tail), &r->t) != 0)
		return fail(err, err_len, -ENODATA,
			    "%s: incomplete: no valid trailer at offset %" PRIu64
			    " (truncated, unfinished, or the trailer damaged)",
			    r->path, size - CKPT_TRAILER_BYTES);
	if (hrc != 0)
		return fail(err, err_len, -EUCLEAN, "%s: offset 0: not a valid part header",
			    r->path);
	if (r->t.trailer_offset != size - CKPT_TRAILER_BYTES ||
	    r->t.checkpoint_id != r->hdr.checkpoint_id)
		return fail(err, err_len, -EUCLEAN,
			    "%s: trailer at offset %" PRIu64 " names offset %" PRIu64
			    " and checkpoint %" PRIu64 " (header: %" PRIu64 ")",
			    r->path, size - CKPT_TRAILER_BYTES, r->t.trailer_offset,
			    r->t.checkpoint_id, r->hdr.checkpoint_id);
	return 0;
}

int ckpt_reader_open(struct ckpt_reader **out, struct disk *disk, const char *path, char *err,
		     size_t err_len)
{
	struct ckpt_reader *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	r->disk = disk;
	r->fd = -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	rc = disk_open(disk, path, DISK_O_RDONLY, &r->fd);
	if (rc != 0) {
		free(r);
		return fail(err, err_len, rc, "%s: %s", path, strerror(-rc));
	}
	rc = reader_check_ends(r, err, err_len);
	if (rc == 0) {
		r->cbuf = malloc((size_t)LZ4_compressBound((int)r->hdr.chunk_raw_max) + 8);
		r->raw = malloc(r->hdr.chunk_raw_max);
		if (r->cbuf == NULL || r->raw == NULL)
			rc = fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	}
	if (rc != 0) {
		ckpt_reader_close(r);
		return rc;
	}
	r->off = CKPT_HEADER_BYTES;
	*out = r;
	return 0;
}

const struct ckpt_part_header *ckpt_reader_header(const struct ckpt_reader *r)
{
	return &r->hdr;
}

const struct ckpt_part_trailer *ckpt_reader_trailer(const struct ckpt_reader *r)
{
	return &r->t;
}

/* Reads, checks and decompresses the chunk at r->off. */
static int reader_load_chunk(struct ckpt_reader *r, char *err, size_t err_len)
{
	struct ckpt_chunk_disk ch;
	uint64_t at = r->off;
	uint64_t end;
	int n;
	int rc;

	if (at + CKPT_CHUNK_HDR_BYTES > r->t.trailer_offset)
		return fail(err, err_len, -EUCLEAN,
			    "%s: offset %" PRIu64 ": %" PRIu64 " bytes before the trailer, "
			    "too few for a chunk header", r->path, at, r->t.trailer_offset - at);
	rc = read_exact(r, &ch, sizeof(ch), at);
	if (rc != 0)
		return fail(err, err_len, rc == -ENODATA ? -EUCLEAN : rc,
			    "%s: offset %" PRIu64 ": chunk header: %s", r->path, at, strerror(-rc));
	if (ch.magic != CKPT_CHUNK_MAGIC ||
	    XXH3_64bits(&ch, offsetof(struct ckpt_chunk_disk, header_checksum)) !=
		    ch.header_checksum)
		return fail(err, err_len, -EUCLEAN,
			    "%s: chunk %" PRIu64 " at offset %" PRIu64
			    ": bad chunk header (magic or checksum)", r->path, r->chunks, at);
	end = at + ALIGN8(CKPT_CHUNK_HDR_BYTES + (uint64_t)ch.compressed_bytes);
	if (ch.raw_bytes == 0 || ch.records == 0 || ch.raw_bytes > r->hdr.chunk_raw_max ||
	    ch.compressed_bytes == 0 ||
	    ch.compressed_bytes > (uint32_t)LZ4_compressBound((int)r->hdr.chunk_raw_max) ||
	    end > r->t.trailer_offset)
		return fail(err, err_len, -EUCLEAN,
			    "%s: chunk %" PRIu64 " at offset %" PRIu64
			    ": impossible lengths (raw %u, compressed %u, records %u)",
			    r->path, r->chunks, at, ch.raw_bytes, ch.compressed_bytes, ch.records);
	/* The block and its padding, which must be zero (no byte of a part
	 * goes unchecked). */
	rc = read_exact(r, r->cbuf, end - at - CKPT_CHUNK_HDR_BYTES, at + CKPT_CHUNK_HDR_BYTES);
	if (rc != 0)
		return fail(err, err_len, rc == -ENODATA ? -EUCLEAN : rc,
			    "%s: chunk %" PRIu64 " at offset %" PRIu64 ": %s", r->path, r->chunks,
			    at, strerror(-rc));
	for (uint64_t i = ch.compressed_bytes; i < end - at - CKPT_CHUNK_HDR_BYTES; i++)
		if (r->cbuf[i] != 0)
			return fail(err, err_len, -EUCLEAN,
				    "%s: chunk %" PRIu64 " at offset %" PRIu64
				    ": non-zero padding", r->path, r->chunks, at);
	if (XXH3_64bits(r->cbuf, ch.compressed_bytes) != ch.data_checksum)
		return fail(err, err_len, -EUCLEAN,
			    "%s: chunk %" PRIu64 " at offset %" PRIu64 ": checksum mismatch",
			    r->path, r->chunks, at);
	if (r->shallow) {
		/* The compressed bytes are the ones written (their checksum
		 * matched): take the header's counts. */
		r->raw_bytes = 0;
		r->raw_pos = 0;
		r->chunk_records = ch.records;
		r->chunk_seen = ch.records;
		r->items += ch.records;
		r->chunks++;
		r->raw_total += ch.raw_bytes;
		r->chain = chain_checksum(r->chain, ch.data_checksum);
		r->off = end;
		return 0;
	}
	n = LZ4_decompress_safe((const char *)r->cbuf, (char *)r->raw, (int)ch.compressed_bytes,
				(int)r->hdr.chunk_raw_max);
	if (n < 0 || (uint32_t)n != ch.raw_bytes)
		return fail(err, err_len, -EUCLEAN,
			    "%s: chunk %" PRIu64 " at offset %" PRIu64
			    ": decompresses to %d bytes, header says %u",
			    r->path, r->chunks, at, n, ch.raw_bytes);
	r->raw_bytes = ch.raw_bytes;
	r->raw_pos = 0;
	r->chunk_records = ch.records;
	r->chunk_seen = 0;
	r->chunk_index = r->chunks;
	r->chunks++;
	r->raw_total += ch.raw_bytes;
	r->chain = chain_checksum(r->chain, ch.data_checksum);
	r->off = end;
	return 0;
}

int ckpt_reader_next(struct ckpt_reader *r, struct wal_record *item, char *err, size_t err_len)
{
	uint32_t bytes;
	enum wal_decode d;
	int rc;

	while (r->raw_pos == r->raw_bytes) {
		if (r->chunk_seen != r->chunk_records)
			return fail(err, err_len, -EUCLEAN,
				    "%s: chunk %" PRIu64 ": %u records, header says %u", r->path,
				    r->chunk_index, r->chunk_seen, r->chunk_records);
		if (r->off == r->t.trailer_offset) {
			if (r->items != r->t.items || r->chunks != r->t.chunks ||
			    r->raw_total != r->t.raw_bytes || r->chain != r->t.chunks_checksum)
				return fail(err, err_len, -EUCLEAN,
					    "%s: trailer disagrees with the chunks (items %" PRIu64
					    "/%" PRIu64 ", chunks %" PRIu64 "/%" PRIu64
					    ", or the chunk checksums)",
					    r->path, r->items, r->t.items, r->chunks, r->t.chunks);
			return 0;
		}
		rc = reader_load_chunk(r, err, err_len);
		if (rc != 0)
			return rc;
	}
	d = wal_record_decode(r->raw + r->raw_pos, r->raw_bytes - r->raw_pos, item, &bytes);
	if (d != WAL_DECODE_OK || item->type != WAL_REC_PUT || item->worker != r->hdr.worker ||
	    r->chunk_seen == r->chunk_records)
		return fail(err, err_len, -EUCLEAN,
			    "%s: chunk %" PRIu64 ": item %u at raw offset %u: %s", r->path,
			    r->chunk_index, r->chunk_seen, r->raw_pos,
			    d != WAL_DECODE_OK ? wal_decode_name(d) : "not a PUT of this worker");
	r->raw_pos += bytes;
	r->chunk_seen++;
	r->items++;
	return 1;
}

static int part_verify(struct disk *disk, const char *path, struct ckpt_part_header *h,
		       struct ckpt_part_trailer *t, bool deep, char *err, size_t err_len)
{
	struct ckpt_reader *r;
	struct wal_record item;
	int rc = ckpt_reader_open(&r, disk, path, err, err_len);

	if (rc != 0)
		return rc;
	r->shallow = !deep;
	if (h != NULL)
		*h = r->hdr;
	if (t != NULL)
		*t = r->t;
	while ((rc = ckpt_reader_next(r, &item, err, err_len)) == 1)
		;
	ckpt_reader_close(r);
	return rc;
}

int ckpt_part_verify(struct disk *disk, const char *path, struct ckpt_part_header *h,
		     struct ckpt_part_trailer *t, char *err, size_t err_len)
{
	return part_verify(disk, path, h, t, true, err, err_len);
}

static int verify_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, bool deep,
		      char *err, size_t err_len);

int ckpt_verify_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, char *err,
		    size_t err_len)
{
	return verify_dir(disk, ckpt_dir, s, true, err, err_len);
}

int ckpt_check_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, char *err,
		   size_t err_len)
{
	return verify_dir(disk, ckpt_dir, s, false, err, err_len);
}

static int verify_dir(struct disk *disk, const char *ckpt_dir, struct ckpt_summary *s, bool deep,
		      char *err, size_t err_len)
{
	const char *base = strrchr(ckpt_dir, '/');
	char name[DISK_NAME_MAX];
	char path[DISK_PATH_MAX];
	struct ckpt_part_header first = {0};
	uint64_t id;
	int rc;

	base = base != NULL ? base + 1 : ckpt_dir;
	if (ckpt_dir_parse(base, &id) != 0)
		return fail(err, err_len, -EINVAL, "%s: not a checkpoint directory name", ckpt_dir);
	memset(s, 0, sizeof(*s));
	s->checkpoint_id = id;
	for (uint16_t w = 0; w == 0 || w < first.worker_count; w++) {
		struct ckpt_part_header h;
		struct ckpt_part_trailer t;

		ckpt_part_name(name, sizeof(name), w);
		if (snprintf(path, sizeof(path), "%s/%s", ckpt_dir, name) >= (int)sizeof(path))
			return fail(err, err_len, -ENAMETOOLONG, "%s: path too long", ckpt_dir);
		rc = part_verify(disk, path, &h, &t, deep, err, err_len);
		if (rc == -ENOENT)
			return fail(err, err_len, -ENODATA, "%s: incomplete: part missing", path);
		if (rc != 0)
			return rc;
		if (w == 0)
			first = h;
		if (h.checkpoint_id != id || h.worker != w ||
		    h.worker_count != first.worker_count || h.generation != first.generation)
			return fail(err, err_len, -EUCLEAN,
				    "%s: header says checkpoint %" PRIu64 ", worker %u of %u, "
				    "generation %" PRIu64 "; expected checkpoint %" PRIu64
				    ", worker %u of %u, generation %" PRIu64,
				    path, h.checkpoint_id, h.worker, h.worker_count, h.generation, id,
				    w, first.worker_count, first.generation);
		s->start_lsn[w] = h.start_lsn;
		s->items[w] = t.items;
		s->chunks[w] = t.chunks;
	}
	s->generation = first.generation;
	s->worker_count = first.worker_count;
	return 0;
}
