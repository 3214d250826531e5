/* wal_segment.c - create, reuse, name and retire the log's segment files.
 *
 * DESIGN
 * Everything here runs off the commit path or once per segment: scanning
 * the folder at start, making a spare (allocate, sync: the costly part,
 * done ahead of need, on another thread than the writer's), and turning a
 * spare into the next segment (rename, header write, directory fsync). The
 * spare count and ids are shared between the two threads (one mutex); the
 * next sequence per worker belongs to the writer's thread.
 *
 * A segment's name becomes durable (directory fsync) before any record is
 * written into it, so an acknowledged record is never in a file that a power
 * cut leaves under a spare's name. The header is written with a plain pwrite
 * and becomes durable with the first commit's fdatasync, together with the
 * first records; recovery treats a segment without a valid header as empty.
 */
#include "wal_segment.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "we_assert.h"

#define ZERO_CHUNK (1u << 20) /* zeroing a recycled segment */


_Static_assert(WAL_SEGMENT_DATA_OFFSET >= WAL_SEGMENT_HDR_BYTES, "header fits before the data");
_Static_assert(WAL_SEGMENT_DATA_OFFSET % 4096 == 0, "data starts on a page");

void wal_segment_name(char *buf, size_t len, uint16_t worker, uint64_t sequence)
{
	snprintf(buf, len, "w%02u-%012" PRIu64 ".log", (unsigned)worker, sequence);
}

static void spare_name(char *buf, size_t len, uint64_t id)
{
	snprintf(buf, len, "spare-%012" PRIu64 ".log", id);
}

static int parse_digits(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

int wal_segment_parse_name(const char *name, uint16_t *worker, uint64_t *sequence)
{
	size_t n = strlen(name);
	uint64_t w;

	/* w00-000000000001.log: 1 + 2 + 1 + 12 + 4 */
	if (n == 20 && name[0] == 'w' && name[3] == '-' && strcmp(name + 16, ".log") == 0) {
		if (parse_digits(name + 1, 2, &w) != 0 || parse_digits(name + 4, 12, sequence) != 0)
			return -EINVAL;
		*worker = (uint16_t)w;
		return 0;
	}
	/* spare-000000000001.log: 6 + 12 + 4 */
	if (n == 22 && strncmp(name, "spare-", 6) == 0 && strcmp(name + 18, ".log") == 0) {
		if (parse_digits(name + 6, 12, sequence) != 0)
			return -EINVAL;
		return 1;
	}
	return -EINVAL;
}

void wal_segment_header_encode(void *buf, const struct wal_segment_header *h)
{
	struct wal_segment_header c = *h;

	c.magic = WAL_SEGMENT_MAGIC;
	c.format = WAL_SEGMENT_FORMAT;
	c.reserved = 0;
	c.reserved2 = 0;
	c.checksum = XXH3_64bits(&c, offsetof(struct wal_segment_header, checksum));
	memcpy(buf, &c, sizeof(c));
}

int wal_segment_header_decode(const void *buf, size_t len, struct wal_segment_header *h)
{
	if (len < WAL_SEGMENT_HDR_BYTES)
		return -EINVAL;
	memcpy(h, buf, sizeof(*h));
	if (h->magic != WAL_SEGMENT_MAGIC ||
	    XXH3_64bits(buf, offsetof(struct wal_segment_header, checksum)) != h->checksum)
		return -EINVAL;
	if (h->format != WAL_SEGMENT_FORMAT)
		return -EPROTO;
	if (h->worker >= WAL_WORKERS_MAX || h->sequence == 0 ||
	    h->segment_bytes < WAL_SEGMENT_BYTES_MIN)
		return -EINVAL;
	return 0;
}

static int path_of(const struct wal_segdir *sd, const char *name, char *buf)
{
	int n = snprintf(buf, DISK_PATH_MAX, "%s/%s", sd->dir, name);

	return n > 0 && n < DISK_PATH_MAX ? 0 : -ENAMETOOLONG;
}

static bool is_tmp_spare(const char *name)
{
	return strlen(name) == 22 && strncmp(name, "spare-", 6) == 0 && strcmp(name + 18, ".tmp") == 0;
}

int wal_segdir_init(struct wal_segdir *sd, struct disk *disk, const char *dir,
		    uint64_t segment_bytes)
{
	struct disk_name *names = NULL;
	uint32_t count = 0;
	int r;

	if (segment_bytes < WAL_SEGMENT_BYTES_MIN || segment_bytes % 4096 != 0 ||
	    strlen(dir) + WAL_SEGMENT_NAME_MAX + 2 >= DISK_PATH_MAX)
		return -EINVAL;
	memset(sd, 0, sizeof(*sd));
	pthread_mutex_init(&sd->lock, NULL);
	sd->disk = disk;
	snprintf(sd->dir, sizeof(sd->dir), "%s", dir);
	sd->segment_bytes = segment_bytes;
	sd->next_spare_id = 1;
	for (int i = 0; i < WAL_WORKERS_MAX; i++)
		sd->next_seq[i] = 1;

	r = disk_list_all(disk, dir, &names, &count);
	if (r != 0)
		return r;
	for (uint32_t i = 0; r == 0 && i < count; i++) {
		uint16_t worker = 0;
		uint64_t seq = 0;
		int kind = wal_segment_parse_name(names[i].name, &worker, &seq);

		if (kind == 0 && worker < WAL_WORKERS_MAX && seq >= sd->next_seq[worker])
			sd->next_seq[worker] = seq + 1;
		if (kind == 1) {
			if (sd->spares < WAL_SPARES_MAX)
				sd->spare_id[sd->spares++] = seq;
			if (seq >= sd->next_spare_id)
				sd->next_spare_id = seq + 1;
		}
		if (kind < 0 && is_tmp_spare(names[i].name)) {
			char path[DISK_PATH_MAX];

			/* A spare whose making was interrupted: start-up, not the
			 * hot path, may unlink. Its id stays used. */
			if (parse_digits(names[i].name + 6, 12, &seq) == 0 && seq >= sd->next_spare_id)
				sd->next_spare_id = seq + 1;
			if (path_of(sd, names[i].name, path) == 0 && disk_unlink(disk, path) != 0)
				r = -EIO;
		}
	}
	free(names);
	return r;
}

/* Allocates [0, segment_bytes) of an open file and syncs it: the blocks
 * are reserved (no ENOSPC halfway through a segment, no block allocation
 * in a commit), not written. An fdatasync after an append into such an
 * unwritten extent also writes the extent's conversion, a small metadata
 * write; zero-filling the file first avoids that but writes every segment
 * twice, and measured here (perf/bench.sh durable group, alternating runs)
 * the 64 MiB of zeros, paced or not, stalled the commits beside them for
 * tens of milliseconds: strong PUT 0.59-0.87 M/s and open-loop p99 47-124 ms
 * with zero-filled spares, 0.65-1.19 M/s and 6-18 ms with allocated ones.
 * Reading an unwritten extent gives zeros, so recovery sees the same bytes
 * either way. */
static int segment_prepare_file(struct wal_segdir *sd, int fd)
{
	int r;

	r = disk_fallocate(sd->disk, fd, 0, sd->segment_bytes);
	return r != 0 ? r : disk_fdatasync(sd->disk, fd);
}

int wal_segment_make_spare(struct wal_segdir *sd)
{
	char name[WAL_SEGMENT_NAME_MAX];
	char tmp[DISK_PATH_MAX];
	char path[DISK_PATH_MAX];
	uint64_t id;
	int fd;
	int r;

	pthread_mutex_lock(&sd->lock);
	id = sd->next_spare_id++;
	pthread_mutex_unlock(&sd->lock);
	/* Made under a name no one takes (.tmp), renamed when complete: a
	 * spare is whole, allocated and synced whenever it carries its name. */
	snprintf(name, sizeof(name), "spare-%012" PRIu64 ".tmp", id);
	if ((r = path_of(sd, name, tmp)) != 0)
		return r;
	spare_name(name, sizeof(name), id);
	if ((r = path_of(sd, name, path)) != 0)
		return r;
	r = disk_open(sd->disk, tmp, DISK_O_CREATE | DISK_O_EXCL, &fd);
	if (r != 0)
		return r;
	r = segment_prepare_file(sd, fd);
	disk_close(sd->disk, fd);
	if (r == 0)
		r = disk_rename(sd->disk, tmp, path);
	if (r != 0) {
		/* Off the hot path; if this fails too, wal_segdir_init removes
		 * the leftover at the next start. */
		int gone = disk_unlink(sd->disk, tmp);

		(void)gone;
		return r;
	}
	pthread_mutex_lock(&sd->lock);
	if (sd->spares < WAL_SPARES_MAX)
		sd->spare_id[sd->spares++] = id;
	sd->segments_created++;
	pthread_mutex_unlock(&sd->lock);
	return disk_fsync_dir(sd->disk, sd->dir);
}

uint32_t wal_segdir_spares(struct wal_segdir *sd)
{
	uint32_t n;

	pthread_mutex_lock(&sd->lock);
	n = sd->spares;
	pthread_mutex_unlock(&sd->lock);
	return n;
}

int wal_segment_open_new(struct wal_segdir *sd, uint16_t worker, uint64_t generation,
			 uint64_t first_lsn, struct wal_segment *seg)
{
	struct wal_segment_header h;
	uint8_t hdr[WAL_SEGMENT_DATA_OFFSET];
	char name[WAL_SEGMENT_NAME_MAX];
	char spare[WAL_SEGMENT_NAME_MAX];
	char path[DISK_PATH_MAX];
	char from[DISK_PATH_MAX];
	uint64_t id;
	uint64_t size = 0;
	bool reused = false;
	int fd = -1;
	int r;

	if (worker >= WAL_WORKERS_MAX)
		return -EINVAL;
	wal_segment_name(name, sizeof(name), worker, sd->next_seq[worker]);
	if ((r = path_of(sd, name, path)) != 0)
		return r;
	pthread_mutex_lock(&sd->lock);
	if (sd->spares > 0) {
		id = sd->spare_id[sd->spares - 1];
		spare_name(spare, sizeof(spare), id);
		r = path_of(sd, spare, from);
		if (r == 0)
			r = disk_rename(sd->disk, from, path);
		if (r == 0)
			reused = true;
		/* Taken, or gone (renamed or removed behind our back): either
		 * way no longer a spare to offer. */
		if (r == 0 || r == -ENOENT)
			sd->spares--;
		if (r == -ENOENT)
			r = 0;
	}
	pthread_mutex_unlock(&sd->lock);
	if (r != 0)
		return r;
	if (reused) {
		r = disk_open(sd->disk, path, 0, &fd);
		if (r == 0)
			r = disk_file_size(sd->disk, fd, &size);
		/* The configured size changed since the spare was made. */
		if (r == 0 && size > sd->segment_bytes)
			r = disk_ftruncate(sd->disk, fd, sd->segment_bytes);
		if (r == 0 && size < sd->segment_bytes)
			r = segment_prepare_file(sd, fd);
	} else {
		r = disk_open(sd->disk, path, DISK_O_CREATE | DISK_O_EXCL, &fd);
		if (r == 0)
			r = segment_prepare_file(sd, fd);
	}
	if (r == 0) {
		memset(&h, 0, sizeof(h));
		h.worker = worker;
		h.sequence = sd->next_seq[worker];
		h.generation = generation;
		h.first_lsn = first_lsn;
		h.segment_bytes = sd->segment_bytes;
		memset(hdr, 0, sizeof(hdr));
		wal_segment_header_encode(hdr, &h);
		r = disk_pwrite_all(sd->disk, fd, hdr, sizeof(hdr), 0);
	}
	if (r == 0)
		r = disk_fsync_dir(sd->disk, sd->dir);
	if (r != 0) {
		if (fd >= 0)
			disk_close(sd->disk, fd);
		/* A file this call created holds no record: remove it. The writer
		 * tries again every retry interval while the disk is full (the
		 * fallocate fails), and leaving each try's file behind piled up
		 * one empty segment per worker per 10 ms (1600 in 8 s of a full
		 * disk in test_disk_faults.sh), each read by every recovery. It
		 * is empty or barely allocated, so the unlink is cheap. If the
		 * unlink fails, the file stays, as before: without a valid,
		 * synced header it holds no records for recovery. */
		if (!reused && fd >= 0) {
			int gone = disk_unlink(sd->disk, path);

			(void)gone;
		}
		/* The sequence number is not reused: a later try takes the next
		 * one. */
		sd->next_seq[worker]++;
		return r;
	}
	seg->fd = fd;
	seg->worker = worker;
	seg->sequence = sd->next_seq[worker]++;
	seg->generation = generation;
	seg->first_lsn = first_lsn;
	seg->bytes = sd->segment_bytes;
	seg->write_off = WAL_SEGMENT_DATA_OFFSET;
	pthread_mutex_lock(&sd->lock);
	if (reused)
		sd->segments_reused++;
	else
		sd->segments_created++;
	pthread_mutex_unlock(&sd->lock);
	return 0;
}

int wal_segment_retire(struct wal_segdir *sd, uint16_t worker, uint64_t sequence)
{
	char name[WAL_SEGMENT_NAME_MAX];
	char path[DISK_PATH_MAX];
	char to[DISK_PATH_MAX];
	uint64_t size = 0;
	uint8_t *zero;
	uint64_t id;
	int fd;
	int r;

	wal_segment_name(name, sizeof(name), worker, sequence);
	if ((r = path_of(sd, name, path)) != 0)
		return r;
	pthread_mutex_lock(&sd->lock);
	id = sd->next_spare_id++;
	pthread_mutex_unlock(&sd->lock);
	spare_name(name, sizeof(name), id);
	if ((r = path_of(sd, name, to)) != 0)
		return r;
	/* Zeroed before it becomes a spare, so a reused segment holds nothing
	 * after its new records. The header goes first: a crash half-way leaves
	 * a segment without a valid header, which recovery ignores. */
	if ((r = disk_open(sd->disk, path, 0, &fd)) != 0)
		return r;
	zero = calloc(1, ZERO_CHUNK);
	r = zero == NULL ? -ENOMEM : disk_file_size(sd->disk, fd, &size);
	if (r == 0)
		r = disk_pwrite_all(sd->disk, fd, zero, WAL_SEGMENT_HDR_BYTES, 0);
	if (r == 0)
		r = disk_fdatasync(sd->disk, fd);
	for (uint64_t off = 0; r == 0 && off < size; off += ZERO_CHUNK)
		r = disk_pwrite_all(sd->disk, fd, zero, size - off < ZERO_CHUNK ? size - off : ZERO_CHUNK,
				    off);
	if (r == 0)
		r = disk_fdatasync(sd->disk, fd);
	free(zero);
	disk_close(sd->disk, fd);
	if (r == 0)
		r = disk_rename(sd->disk, path, to);
	if (r != 0)
		return r;
	pthread_mutex_lock(&sd->lock);
	if (sd->spares < WAL_SPARES_MAX)
		sd->spare_id[sd->spares++] = id;
	sd->segments_retired++;
	pthread_mutex_unlock(&sd->lock);
	return disk_fsync_dir(sd->disk, sd->dir);
}

void wal_segment_close(struct wal_segdir *sd, struct wal_segment *seg)
{
	if (seg->fd >= 0)
		disk_close(sd->disk, seg->fd);
	seg->fd = -1;
}
