/* storage_test_util.h - a synchronous log writer for the storage tests: it
 * lays records into segments exactly as the group-commit writer does
 * (segment header, records from WAL_SEGMENT_DATA_OFFSET, roll-over when the
 * next record does not fit), one pwrite per record, so recovery can be
 * tested without threads. Header only (static inline). */
#ifndef STORAGE_TEST_UTIL_H
#define STORAGE_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyhash.h"
#include "wal_record.h"
#include "wal_ring.h"
#include "wal_segment.h"

struct tlog {
	struct disk *disk;
	struct wal_segdir sd;
	struct wal_segment seg[WAL_WORKERS_MAX];
	bool open[WAL_WORKERS_MAX];
	uint64_t generation;
	bool sync_each; /* fdatasync after every record */
	uint64_t last_off; /* offset of the last record appended */
	uint32_t last_bytes;
	uint64_t last_seq;
};

static inline int tlog_begin(struct tlog *t, struct disk *d, const char *wal_dir,
			     uint64_t segment_bytes, uint64_t generation)
{
	memset(t, 0, sizeof(*t));
	t->disk = d;
	t->generation = generation;
	t->sync_each = true;
	return wal_segdir_init(&t->sd, d, wal_dir, segment_bytes);
}

/* Appends one record to worker's log; 0 or a negative errno. */
static inline int tlog_append(struct tlog *t, uint16_t worker, enum wal_record_type type,
			      const char *key, const void *value, uint32_t value_len, uint64_t lsn)
{
	static uint64_t buf[(WAL_RECORD_HDR_BYTES + WAL_KEY_MAX + 65536) / 8];
	struct wal_record r = {
		.type = type,
		.worker = worker,
		.region = (uint16_t)keyhash_region(keyhash(key, strlen(key))),
		.lsn = lsn,
		.key = key,
		.key_len = (uint32_t)strlen(key),
		.value = value,
		.value_len = value_len,
	};
	struct wal_segment *s = &t->seg[worker];
	int64_t n = wal_record_encode(buf, sizeof(buf), &r);
	int rc;

	if (n < 0)
		return (int)n;
	if (t->open[worker] && s->write_off + (uint64_t)n > s->bytes) {
		wal_segment_close(&t->sd, s);
		t->open[worker] = false;
	}
	if (!t->open[worker]) {
		rc = wal_segment_open_new(&t->sd, worker, t->generation, lsn, s);
		if (rc != 0)
			return rc;
		t->open[worker] = true;
	}
	rc = disk_pwrite_all(t->disk, s->fd, buf, (size_t)n, s->write_off);
	if (rc == 0 && t->sync_each)
		rc = disk_fdatasync(t->disk, s->fd);
	if (rc != 0)
		return rc;
	t->last_off = s->write_off;
	t->last_bytes = (uint32_t)n;
	t->last_seq = s->sequence;
	s->write_off += (uint64_t)n;
	return 0;
}

static inline int tlog_sync(struct tlog *t, uint16_t worker)
{
	return disk_fdatasync(t->disk, t->seg[worker].fd);
}

/* Encodes a PUT of key "w<worker>-<lsn>" with a value of value_len bytes
 * (byte lsn & 0xff) into ring; false when the ring is full. */
static inline bool ring_put(struct wal_ring *ring, uint16_t worker, uint64_t lsn,
			    uint32_t value_len)
{
	static __thread uint8_t value[4096];
	static __thread char key[WAL_KEY_MAX + 1];
	struct wal_record r = {.type = WAL_REC_PUT, .worker = worker, .lsn = lsn, .key = key,
			       .value = value, .value_len = value_len};
	uint32_t bytes;
	void *p;

	snprintf(key, sizeof(key), "w%u-%llu", worker, (unsigned long long)lsn);
	r.key_len = (uint32_t)strlen(key);
	r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
	memset(value, (int)(lsn & 0xff), value_len);
	bytes = wal_record_size(r.key_len, value_len);
	p = wal_ring_reserve(ring, bytes);
	if (p == NULL)
		return false;
	if (wal_record_encode(p, bytes, &r) != (int64_t)bytes)
		abort();
	wal_ring_commit(ring);
	return true;
}

static inline void tlog_end(struct tlog *t)
{
	for (int w = 0; w < WAL_WORKERS_MAX; w++)
		if (t->open[w])
			wal_segment_close(&t->sd, &t->seg[w]);
	memset(t->open, 0, sizeof(t->open));
}

#endif
