/* test_ckpt_writer.c - the checkpoint thread (storage/ckpt_writer.c) with a
 * group-commit writer (WAL_IO_SYNC, committed by the test) for the durable
 * LSNs. The test plays the workers through ckpt_port_*: START, chunks of
 * items it encodes itself (ckpt_chunk_add), DONE or ABORT.
 *
 * Most cases run over the fake disk; retirement runs over both the fake
 * disk and a real temporary folder (the fake lists files only, not
 * folders, so only the real one shows old checkpoint folders emptied). */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lz4.h>

#include "archive.h"
#include "checkpoint.h"
#include "ckpt_manifest.h"
#include "ckpt_writer.h"
#include "disk_fake.h"
#include "recovery.h"
#include "storage_test_util.h"
#include "wal_writer.h"
#include "we_test.h"
#include "we_time.h"

#define WORKERS 2
#define RING_BYTES (16u * 1024)
#define SEG_BYTES (16u * 1024)
#define CHUNK_BYTES CKPT_CHUNK_RAW_MIN
#define GENERATION 2
#define DURABLE_WAIT_MS 1500

struct fixture {
	struct disk_fake *f; /* NULL: the real file system */
	struct disk posix;
	struct disk *d;
	char base[256];
	char wal[300];
	char ckdir[300];
	struct wal_ring rings[WORKERS];
	struct wal_ring *ring_ptrs[WORKERS];
	void *mem[WORKERS];
	struct wal_writer *log;
	struct ckpt_writer *cw;
	uint64_t next_lsn[WORKERS];
};

static struct fixture *fixture_new(bool real)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	if (real) {
		snprintf(x->base, sizeof(x->base), "/tmp/we-test-ckpt-writer-XXXXXX");
		assert_non_null(mkdtemp(x->base));
		disk_posix_init(&x->posix);
		x->d = &x->posix;
	} else {
		x->f = disk_fake_create();
		assert_non_null(x->f);
		x->d = disk_fake_disk(x->f);
		snprintf(x->base, sizeof(x->base), "dd");
		assert_int_equal(disk_mkdir(x->d, x->base), 0);
	}
	snprintf(x->wal, sizeof(x->wal), "%s/wal", x->base);
	snprintf(x->ckdir, sizeof(x->ckdir), "%s/checkpoints", x->base);
	assert_int_equal(disk_mkdir(x->d, x->wal), 0);
	assert_int_equal(disk_mkdir(x->d, x->ckdir), 0);
	for (int i = 0; i < WORKERS; i++) {
		x->mem[i] = aligned_alloc(64, RING_BYTES);
		assert_non_null(x->mem[i]);
		assert_int_equal(wal_ring_init(&x->rings[i], x->mem[i], RING_BYTES), 0);
		x->ring_ptrs[i] = &x->rings[i];
		x->next_lsn[i] = 1;
	}
	return x;
}

static void start_writers_with(struct fixture *x, struct archive_file *const *archives)
{
	struct wal_writer_config wc = {
		.disk = x->d,
		.wal_dir = x->wal,
		.segment_bytes = SEG_BYTES,
		.generation = GENERATION,
		.workers = WORKERS,
		.rings = x->ring_ptrs,
		.io = WAL_IO_SYNC,
		.group_commit_interval_us = 100,
	};
	struct ckpt_writer_config cc = {
		.disk = x->d,
		.data_dir = x->base,
		.generation = GENERATION,
		.workers = WORKERS,
		.chunk_bytes = CHUNK_BYTES,
		.durable_wait_ms = DURABLE_WAIT_MS,
		.archives = archives,
	};
	char err[512];

	assert_int_equal(wal_writer_create(&x->log, &wc, err, sizeof(err)), 0);
	cc.log = x->log;
	if (ckpt_writer_create(&x->cw, &cc, err, sizeof(err)) != 0)
		fail_msg("ckpt_writer_create: %s", err);
	assert_int_equal(ckpt_writer_start(x->cw), 0);
}

static void start_writers(struct fixture *x)
{
	start_writers_with(x, NULL);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fixture_free(struct fixture *x)
{
	ckpt_writer_destroy(x->cw);
	wal_writer_destroy(x->log);
	for (int i = 0; i < WORKERS; i++)
		free(x->mem[i]);
	if (x->f != NULL)
		disk_fake_destroy(x->f);
	else
		assert_int_equal(nftw(x->base, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(x);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- the log --------------------------------------------------------- */

static void commit_all(struct fixture *x)
{
	int got;

	while ((got = wal_writer_commit(x->log)) > 0)
		;
	assert_int_equal(got, 0);
}

/* n records of worker k into its ring (committing when it fills); left
 * uncommitted unless the ring filled. */
static void log_put(struct fixture *x, uint16_t k, int n, uint32_t value_len)
{
	for (int i = 0; i < n; i++) {
		while (!ring_put(&x->rings[k], k, x->next_lsn[k], value_len))
			commit_all(x);
		x->next_lsn[k]++;
	}
}

static uint64_t lsn_now(const struct fixture *x, uint16_t k)
{
	return x->next_lsn[k] - 1;
}

static uint64_t durable(const struct fixture *x, uint16_t k)
{
	return wal_durable_lsn(wal_writer_durable(x->log, k));
}

/* ---- the workers' side --------------------------------------------- */

static int take_buffer(struct ckpt_port *p)
{
	uint64_t until = we_monotonic_ns() + 10ull * 1000000000;
	int b;

	while ((b = ckpt_port_take(p)) < 0) {
		ckpt_port_reclaim(p);
		if (we_monotonic_ns() > until)
			fail_msg("no chunk buffer came back in 10 s");
		sleep_ms(1);
	}
	return b;
}

/* Worker k's items of checkpoint id: "c<id>-w<k>-<i>", LSN i + 1. */
static void post_items(struct fixture *x, uint16_t k, uint64_t id, uint32_t count)
{
	struct ckpt_port *p = ckpt_writer_port(x->cw, k);
	struct ckpt_chunk c;
	int b = take_buffer(p);

	ckpt_chunk_init(&c, p->buffers[b], p->chunk_bytes, k);
	for (uint32_t i = 0; i < count; i++) {
		static uint8_t value[200];
		char key[64];
		struct wal_record r = {.type = WAL_REC_PUT, .lsn = i + 1, .key = key,
				       .value = value, .value_len = (uint32_t)(i % 150)};
		int rc;

		r.key_len = (uint32_t)snprintf(key, sizeof(key), "c%" PRIu64 "-w%u-%u", id, k, i);
		r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
		memset(value, (int)(i & 0xff), sizeof(value));
		rc = ckpt_chunk_add(&c, &r);
		if (rc == -ENOSPC) {
			assert_int_equal(ckpt_port_post(p, CKPT_MSG_CHUNK, b, c.used, c.records, 0), 0);
			b = take_buffer(p);
			ckpt_chunk_init(&c, p->buffers[b], p->chunk_bytes, k);
			rc = ckpt_chunk_add(&c, &r);
		}
		assert_int_equal(rc, 0);
	}
	if (c.used > 0)
		assert_int_equal(ckpt_port_post(p, CKPT_MSG_CHUNK, b, c.used, c.records, 0), 0);
	else
		p->free_mask |= 1u << b;
}

static void post(struct fixture *x, uint16_t k, uint32_t type, int32_t i32, uint64_t a, uint64_t b,
		 uint64_t c)
{
	assert_int_equal(ckpt_port_post(ckpt_writer_port(x->cw, k), type, i32, a, b, c), 0);
}

static uint64_t begin(struct fixture *x)
{
	char err[512];
	uint64_t id = 0;

	if (ckpt_writer_begin(x->cw, &id, err, sizeof(err)) != 0)
		fail_msg("ckpt_writer_begin: %s", err);
	return id;
}

/* Waits until completed + failed reaches n; returns the status. */
static struct ckpt_writer_status wait_finished(struct fixture *x, uint64_t n)
{
	uint64_t until = we_monotonic_ns() + 20ull * 1000000000;
	struct ckpt_writer_status st;

	for (;;) {
		ckpt_writer_status(x->cw, &st);
		if (st.completed + st.failed >= n && st.state == CKPT_IDLE)
			return st;
		if (we_monotonic_ns() > until)
			fail_msg("checkpoint not finished in 20 s (completed %" PRIu64 ", failed %" PRIu64
				 ")", st.completed, st.failed);
		sleep_ms(1);
	}
}

/* Each worker: START at its LSN, items, a few log records written during
 * the scan (not committed), DONE at its LSN then. */
static void scan_all_at(struct fixture *x, uint64_t id, uint32_t items, const uint64_t *at,
			uint64_t start[WORKERS], uint64_t end[WORKERS])
{
	for (uint16_t k = 0; k < WORKERS; k++) {
		start[k] = at != NULL ? at[k] : lsn_now(x, k);
		post(x, k, CKPT_MSG_START, 0, id, start[k], 0);
	}
	for (uint16_t k = 0; k < WORKERS; k++) {
		post_items(x, k, id, items + k);
		log_put(x, k, 3, 20);
		end[k] = lsn_now(x, k);
		post(x, k, CKPT_MSG_DONE, 0, id, end[k], items + k);
	}
}

static void scan_all(struct fixture *x, uint64_t id, uint32_t items, uint64_t start[WORKERS],
		     uint64_t end[WORKERS])
{
	scan_all_at(x, id, items, NULL, start, end);
}

/* Every chunk buffer is back with its worker. */
static void check_buffers_home(struct fixture *x)
{
	for (uint16_t k = 0; k < WORKERS; k++)
		assert_int_equal(ckpt_port_reclaim(ckpt_writer_port(x->cw, k)), CKPT_PORT_BUFFERS);
}

/* The manifest names checkpoint id with these start LSNs and items; pick
 * and verify accept it; its parts hold exactly the items posted. */
static void check_named(struct fixture *x, uint64_t id, uint64_t prev, const uint64_t *start,
			uint32_t items)
{
	struct ckpt_manifest m;
	struct ckpt_choice *c = calloc(1, sizeof(*c));
	struct ckpt_summary s;
	char err[CKPT_ERR_MAX];
	char dir[DISK_PATH_MAX];
	char name[CKPT_DIR_NAME_MAX];

	assert_non_null(c);
	if (ckpt_manifest_read(x->d, x->ckdir, &m, err, sizeof(err)) != 0)
		fail_msg("manifest: %s", err);
	assert_int_equal(m.checkpoint_id, id);
	assert_int_equal(m.previous_id, prev);
	assert_int_equal(m.generation, GENERATION);
	assert_int_equal(m.worker_count, WORKERS);
	ckpt_dir_name(name, sizeof(name), id);
	assert_string_equal(m.directory, name);
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(m.start_lsn[k], start[k]);
		assert_int_equal(m.items[k], items + k);
	}
	if (ckpt_pick(x->d, x->base, c, err, sizeof(err)) != 0)
		fail_msg("ckpt_pick: %s", err);
	assert_true(c->found);
	assert_false(c->fallback);
	assert_int_equal(c->s.checkpoint_id, id);
	free(c);
	snprintf(dir, sizeof(dir), "%s/%s", x->ckdir, name);
	if (ckpt_verify_dir(x->d, dir, &s, err, sizeof(err)) != 0)
		fail_msg("ckpt_verify_dir: %s", err);
	assert_int_equal(s.checkpoint_id, id);
	for (uint16_t k = 0; k < WORKERS; k++) {
		char path[DISK_PATH_MAX + 32];
		char part[32];
		struct ckpt_reader *rd;
		struct wal_record rec;
		uint32_t i = 0;
		int rc;

		assert_int_equal(s.items[k], items + k);
		assert_int_equal(s.start_lsn[k], start[k]);
		ckpt_part_name(part, sizeof(part), k);
		snprintf(path, sizeof(path), "%s/%s", dir, part);
		if (ckpt_reader_open(&rd, x->d, path, err, sizeof(err)) != 0)
			fail_msg("reader: %s", err);
		while ((rc = ckpt_reader_next(rd, &rec, err, sizeof(err))) == 1) {
			char key[64];
			int n = snprintf(key, sizeof(key), "c%" PRIu64 "-w%u-%u", id, k, i);

			assert_int_equal(rec.key_len, n);
			assert_memory_equal(rec.key, key, (size_t)n);
			assert_int_equal(rec.value_len, i % 150);
			assert_int_equal(rec.lsn, i + 1);
			i++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(i, items + k);
		ckpt_reader_close(rd);
	}
}

static bool manifest_exists(struct fixture *x)
{
	struct ckpt_manifest m;

	return ckpt_manifest_read(x->d, x->ckdir, &m, NULL, 0) == 0;
}

static uint64_t manifest_id(struct fixture *x)
{
	struct ckpt_manifest m;

	assert_int_equal(ckpt_manifest_read(x->d, x->ckdir, &m, NULL, 0), 0);
	return m.checkpoint_id;
}

/* ---- tests ------------------------------------------------------------ */

/* A checkpoint completes only once the log is durable up to each worker's
 * end LSN: before the commit, no manifest, still running, -EBUSY to a new
 * begin; after it, completed, counted, named by the manifest, accepted by
 * ckpt_pick and ckpt_verify_dir, every buffer back. */
static void test_completes_after_log_durable(void **state)
{
	struct fixture *x = fixture_new(false);
	uint64_t start[WORKERS], end[WORKERS];
	struct ckpt_writer_status st;
	char err[512];
	uint64_t id, id2;

	(void)state;
	start_writers(x);
	for (uint16_t k = 0; k < WORKERS; k++)
		log_put(x, k, 50, 100);
	commit_all(x);
	id = begin(x);
	assert_int_equal(id, 1);
	assert_int_equal(ckpt_writer_begin(x->cw, &id2, err, sizeof(err)), -EBUSY);
	scan_all(x, id, 700, start, end);
	for (uint16_t k = 0; k < WORKERS; k++)
		assert_true(durable(x, k) < end[k]);
	/* The thread has every part; the log holds it back. */
	sleep_ms(300);
	ckpt_writer_status(x->cw, &st);
	assert_int_equal(st.state, CKPT_RUNNING);
	assert_int_equal(st.running_id, id);
	assert_int_equal(st.completed, 0);
	assert_int_equal(st.failed, 0);
	assert_false(manifest_exists(x));
	assert_int_equal(ckpt_writer_begin(x->cw, &id2, err, sizeof(err)), -EBUSY);
	commit_all(x);
	for (uint16_t k = 0; k < WORKERS; k++)
		assert_true(durable(x, k) >= end[k]);
	st = wait_finished(x, 1);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.last_id, id);
	assert_int_equal(st.last_items, 700 + 701);
	assert_true(st.last_chunks >= 2 * WORKERS);
	assert_int_equal(st.last_error, 0);
	check_named(x, id, 0, start, 700);
	check_buffers_home(x);

	/* The next one is 2 and names 1 as its previous. */
	id = begin(x);
	assert_int_equal(id, 2);
	scan_all(x, id, 10, start, end);
	commit_all(x);
	st = wait_finished(x, 2);
	assert_int_equal(st.completed, 2);
	check_named(x, 2, 1, start, 10);
	fixture_free(x);
}

/* The log must cover the end LSN of every worker: with one worker's log
 * durable and the other's not, the checkpoint waits (and, the log never
 * catching up, fails after durable_wait_ms, the manifest untouched). */
static void test_one_log_behind_times_out(void **state)
{
	struct fixture *x = fixture_new(false);
	uint64_t start[WORKERS], end[WORKERS];
	struct ckpt_writer_status st;
	uint64_t id;

	(void)state;
	start_writers(x);
	id = begin(x);
	scan_all(x, id, 20, start, end);
	commit_all(x);
	st = wait_finished(x, 1);
	assert_int_equal(st.completed, 1);

	id = begin(x);
	for (uint16_t k = 0; k < WORKERS; k++) {
		start[k] = lsn_now(x, k);
		post(x, k, CKPT_MSG_START, 0, id, start[k], 0);
		post_items(x, k, id, 20 + k);
	}
	/* Worker 0's log durable, worker 1's record still in its ring. */
	log_put(x, 0, 2, 10);
	commit_all(x);
	log_put(x, 1, 1, 10);
	for (uint16_t k = 0; k < WORKERS; k++)
		post(x, k, CKPT_MSG_DONE, 0, id, lsn_now(x, k), 20 + k);
	sleep_ms(300);
	ckpt_writer_status(x->cw, &st);
	assert_int_equal(st.state, CKPT_RUNNING);
	assert_int_equal(manifest_id(x), 1);
	st = wait_finished(x, 2);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.last_error, -ETIMEDOUT);
	assert_int_equal(manifest_id(x), 1);
	check_buffers_home(x);
	/* Then the log catches up and the next checkpoint works. */
	commit_all(x);
	id = begin(x);
	assert_int_equal(id, 3);
	scan_all(x, id, 5, start, end);
	commit_all(x);
	st = wait_finished(x, 3);
	assert_int_equal(st.completed, 2);
	check_named(x, 3, 1, start, 5);
	fixture_free(x);
}

/* Waits until the thread created worker k's part of checkpoint id (its
 * header written). */
static void wait_part(struct fixture *x, uint64_t id, uint16_t k)
{
	char name[CKPT_DIR_NAME_MAX], part[32], path[DISK_PATH_MAX + 64];
	uint8_t hdr[CKPT_HEADER_BYTES];
	uint64_t until = we_monotonic_ns() + 10ull * 1000000000;

	ckpt_dir_name(name, sizeof(name), id);
	ckpt_part_name(part, sizeof(part), k);
	snprintf(path, sizeof(path), "%s/%s/%s", x->ckdir, name, part);
	while (disk_fake_read_file(x->f, path, hdr, sizeof(hdr)) < (int64_t)sizeof(hdr)) {
		if (we_monotonic_ns() > until)
			fail_msg("part %s not created", path);
		sleep_ms(1);
	}
}

/* A worker's ABORT, or a chunk the disk fails to write, fails the
 * checkpoint: counted with its error, the previous manifest stays and is
 * still the one ckpt_pick takes, every buffer comes back, and the next
 * checkpoint works and names the last good one as previous. */
static void test_abort_and_write_error(void **state)
{
	struct fixture *x = fixture_new(false);
	uint64_t start[WORKERS], end[WORKERS], start1[WORKERS];
	struct ckpt_writer_status st;
	struct ckpt_summary s;
	char err[CKPT_ERR_MAX];
	char dir[DISK_PATH_MAX];
	uint64_t id;

	(void)state;
	start_writers(x);
	log_put(x, 0, 10, 10);
	log_put(x, 1, 12, 10);
	commit_all(x);
	id = begin(x);
	scan_all(x, id, 300, start1, end);
	commit_all(x);
	st = wait_finished(x, 1);
	assert_int_equal(st.completed, 1);

	/* 2: worker 0 finishes, worker 1 gives up. */
	id = begin(x);
	assert_int_equal(id, 2);
	for (uint16_t k = 0; k < WORKERS; k++)
		post(x, k, CKPT_MSG_START, 0, id, lsn_now(x, k), 0);
	post_items(x, 0, id, 400);
	post_items(x, 1, id, 400);
	post(x, 0, CKPT_MSG_DONE, 0, id, lsn_now(x, 0), 400);
	post(x, 1, CKPT_MSG_ABORT, -ENOTSUP, id, 0, 0);
	commit_all(x);
	st = wait_finished(x, 2);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.last_error, -ENOTSUP);
	assert_int_equal(st.last_id, 1);
	assert_true(strstr(st.last_failure, "checkpoint 2") != NULL);
	check_named(x, 1, 0, start1, 300);
	check_buffers_home(x);
	snprintf(dir, sizeof(dir), "%s/ckpt-000000000002", x->ckdir);
	assert_int_not_equal(ckpt_verify_dir(x->d, dir, &s, err, sizeof(err)), 0);

	/* 3: the disk fails a chunk's write. */
	id = begin(x);
	assert_int_equal(id, 3);
	for (uint16_t k = 0; k < WORKERS; k++) {
		post(x, k, CKPT_MSG_START, 0, id, lsn_now(x, k), 0);
		wait_part(x, id, k);
	}
	disk_fake_fail(x->f, DISK_OP_PWRITE, 1, -EIO, 1);
	for (uint16_t k = 0; k < WORKERS; k++) {
		post_items(x, k, id, 500);
		post(x, k, CKPT_MSG_DONE, 0, id, lsn_now(x, k), 500);
	}
	st = wait_finished(x, 3);
	disk_fake_clear_faults(x->f);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.last_error, -EIO);
	check_named(x, 1, 0, start1, 300);
	check_buffers_home(x);
	snprintf(dir, sizeof(dir), "%s/ckpt-000000000003", x->ckdir);
	assert_int_not_equal(ckpt_verify_dir(x->d, dir, &s, err, sizeof(err)), 0);

	/* 4 works, its previous is 1. */
	id = begin(x);
	assert_int_equal(id, 4);
	scan_all(x, id, 250, start, end);
	commit_all(x);
	st = wait_finished(x, 4);
	assert_int_equal(st.completed, 2);
	assert_int_equal(st.last_id, 4);
	check_named(x, 4, 1, start, 250);
	check_buffers_home(x);
	fixture_free(x);
}

/* ---- archived items (the disk tier) ----------------------------------- */

#define ARCH_ITEMS 60
#define ARCH_BATCH_BYTES (160u * 1024)

/* Worker k's archived item i: key "a-w<k>-<i>", about 1 KiB, LSN 1000 + i;
 * even items compressible (stored LZ4, codec 1), odd ones raw. */
struct arch_item {
	char key[32];
	uint8_t key_len;
	uint8_t value[1400];
	uint32_t value_len;
	uint64_t lsn;
	struct archive_ref ref;
};

static struct arch_item arch[WORKERS][ARCH_ITEMS];

static void arch_value(uint16_t k, uint32_t i, struct arch_item *it)
{
	uint64_t r = (uint64_t)k << 32 | (i + 1);

	it->key_len = (uint8_t)snprintf(it->key, sizeof(it->key), "a-w%u-%u", k, i);
	it->value_len = 900 + (i * 37u) % 300;
	it->lsn = 1000 + i;
	for (uint32_t j = 0; j < it->value_len; j++)
		it->value[j] = i % 2 == 0 ? (uint8_t)("checkpoint!"[j % 11] + (j / 256))
					  : (uint8_t)(we_test_rand(&r) >> 24);
}

/* Writes worker k's archived items to its file (one batch appended after
 * some bytes of its own, so that offsets are not 0) and fills their refs. */
static void arch_write(struct archive_file *af, uint16_t k)
{
	static uint8_t mem[ARCH_BATCH_BYTES];
	static uint8_t comp[2048];
	struct archive_batch b;
	uint64_t base;

	memset(mem, 0, 200);
	assert_int_equal(archive_file_append(af, mem, 200, &base), 0);
	archive_batch_init(&b, mem, sizeof(mem));
	for (uint32_t i = 0; i < ARCH_ITEMS; i++) {
		struct arch_item *it = &arch[k][i];
		struct archive_record r;
		uint32_t off;

		arch_value(k, i, it);
		r = (struct archive_record){.lsn = it->lsn, .value_len = it->value_len,
					    .key_len = it->key_len, .key = (const uint8_t *)it->key};
		if (i % 2 == 0) {
			int n = LZ4_compress_default((const char *)it->value, (char *)comp,
						     (int)it->value_len, (int)sizeof(comp));

			assert_true(n > 0 && (uint32_t)n < it->value_len);
			r.codec = 1;
			r.stored = comp;
			r.stored_len = (uint32_t)n;
		} else {
			r.codec = 0;
			r.stored = it->value;
			r.stored_len = it->value_len;
		}
		assert_int_equal(archive_batch_add(&b, &r, &off, &it->ref.check), 0);
		it->ref.offset = off;
		it->ref.bytes = archive_record_bytes(r.key_len, r.stored_len);
	}
	assert_int_equal(archive_file_append(af, b.buf, b.used, &base), 0);
	assert_int_equal(base, 200);
	for (uint32_t i = 0; i < ARCH_ITEMS; i++)
		arch[k][i].ref.offset += base;
}

/* Worker k's PUT item i that goes between the archived ones. */
static void put_item(uint16_t k, uint32_t i, char *key, uint32_t *key_len, uint8_t *value,
		     uint32_t *value_len)
{
	*key_len = (uint32_t)snprintf(key, 32, "p-w%u-%u", k, i);
	*value_len = (i * 13u) % 150;
	for (uint32_t j = 0; j < *value_len; j++)
		value[j] = (uint8_t)(k * 7 + i * 3 + j);
}

/* Worker k scans: START, PUT i and archived i's reference in turn (chunks
 * posted as they fill, with their count of references in c), DONE.
 * Returns the chunks posted. bad_check: the item whose reference's check
 * is wrong (ARCH_ITEMS: none). */
static uint32_t scan_archived(struct fixture *x, uint16_t k, uint64_t id, uint32_t bad_check)
{
	struct ckpt_port *p = ckpt_writer_port(x->cw, k);
	struct ckpt_chunk c;
	uint32_t posted = 0;
	int b;

	post(x, k, CKPT_MSG_START, 0, id, lsn_now(x, k), 0);
	b = take_buffer(p);
	ckpt_chunk_init(&c, p->buffers[b], p->chunk_bytes, k);
	for (uint32_t n = 0; n < 2 * ARCH_ITEMS; n++) {
		uint32_t i = n / 2;
		char key[32];
		uint8_t value[200];
		struct archive_ref ref = arch[k][i].ref;
		struct wal_record r = {.type = WAL_REC_PUT, .key = key, .value = value};
		int rc;

		if (n % 2 == 0) {
			put_item(k, i, key, &r.key_len, value, &r.value_len);
			r.lsn = 2000 + i;
		} else {
			if (i == bad_check)
				ref.check ^= 0x100;
			r.type = WAL_REC_ARCHIVED;
			r.key = arch[k][i].key;
			r.key_len = arch[k][i].key_len;
			r.value = &ref;
			r.value_len = WAL_ARCHIVED_REF_BYTES;
			r.lsn = arch[k][i].lsn;
		}
		r.region = (uint16_t)keyhash_region(keyhash(r.key, r.key_len));
		rc = ckpt_chunk_add(&c, &r);
		if (rc == -ENOSPC) {
			assert_true(c.archived > 0);
			assert_int_equal(ckpt_port_post(p, CKPT_MSG_CHUNK, b, c.used, c.records,
							c.archived),
					 0);
			posted++;
			b = take_buffer(p);
			ckpt_chunk_init(&c, p->buffers[b], p->chunk_bytes, k);
			rc = ckpt_chunk_add(&c, &r);
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(ckpt_port_post(p, CKPT_MSG_CHUNK, b, c.used, c.records, c.archived), 0);
	posted++;
	post(x, k, CKPT_MSG_DONE, 0, id, lsn_now(x, k), 2 * ARCH_ITEMS);
	return posted;
}

/* Worker k's part of checkpoint id holds PUT i and archived i's PUT (its
 * value read back, exactly) in turn, and nothing else. */
static void check_expanded_part(struct fixture *x, uint64_t id, uint16_t k)
{
	char name[CKPT_DIR_NAME_MAX], part[32], path[DISK_PATH_MAX + 64];
	char err[CKPT_ERR_MAX];
	struct ckpt_reader *rd;
	struct wal_record rec;
	uint32_t n = 0;
	int rc;

	ckpt_dir_name(name, sizeof(name), id);
	ckpt_part_name(part, sizeof(part), k);
	snprintf(path, sizeof(path), "%s/%s/%s", x->ckdir, name, part);
	if (ckpt_reader_open(&rd, x->d, path, err, sizeof(err)) != 0)
		fail_msg("reader: %s", err);
	while ((rc = ckpt_reader_next(rd, &rec, err, sizeof(err))) == 1) {
		uint32_t i = n / 2;

		assert_int_equal(rec.type, WAL_REC_PUT);
		assert_int_equal(rec.worker, k);
		if (n % 2 == 0) {
			char key[32];
			uint8_t value[200];
			uint32_t key_len, value_len;

			put_item(k, i, key, &key_len, value, &value_len);
			assert_int_equal(rec.key_len, key_len);
			assert_memory_equal(rec.key, key, key_len);
			assert_int_equal(rec.value_len, value_len);
			if (value_len > 0)
				assert_memory_equal(rec.value, value, value_len);
			assert_int_equal(rec.lsn, 2000 + i);
		} else {
			const struct arch_item *it = &arch[k][i];

			assert_int_equal(rec.key_len, it->key_len);
			assert_memory_equal(rec.key, it->key, it->key_len);
			assert_int_equal(rec.value_len, it->value_len);
			assert_memory_equal(rec.value, it->value, it->value_len);
			assert_int_equal(rec.lsn, it->lsn);
		}
		n++;
	}
	if (rc != 0)
		fail_msg("reader: %d %s", rc, err);
	assert_int_equal(n, 2 * ARCH_ITEMS);
	ckpt_reader_close(rd);
	assert_int_equal(ckpt_part_verify(x->d, path, NULL, NULL, err, sizeof(err)), 0);
}

/* A checkpoint whose chunks carry archived items' references is written
 * with each reference replaced by the item's PUT, its value read back from
 * the worker's archive file (raw and LZ4 records): every item present,
 * exact, in order; a chunk of references to 1 KiB values in 4 KiB chunks
 * becomes several chunks. Then a reference whose check does not match its
 * record fails the checkpoint (-EBADMSG) instead of writing another value,
 * and the next checkpoint works again. */
static void test_archived_refs_expanded(void **state)
{
	struct fixture *x = fixture_new(false);
	static struct archive_file af[WORKERS];
	struct archive_file *afp[WORKERS];
	struct ckpt_writer_status st;
	uint64_t id;
	uint32_t posted = 0;

	(void)state;
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(archive_file_create(&af[k], x->d, x->base, k, 0), 0);
		afp[k] = &af[k];
		arch_write(&af[k], k);
	}
	start_writers_with(x, afp);
	log_put(x, 0, 5, 10);
	log_put(x, 1, 5, 10);
	commit_all(x);

	id = begin(x);
	for (uint16_t k = 0; k < WORKERS; k++)
		posted += scan_archived(x, k, id, ARCH_ITEMS);
	commit_all(x);
	st = wait_finished(x, 1);
	if (st.completed != 1)
		fail_msg("checkpoint failed: %d %s", st.last_error, st.last_failure);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.last_items, WORKERS * 2 * ARCH_ITEMS);
	/* The values (about 1 KiB each) did not fit the chunks the
	 * references came in. */
	assert_true(st.last_chunks >= WORKERS * (ARCH_ITEMS * 1000u / CHUNK_BYTES));
	assert_true(st.last_chunks > posted);
	for (uint16_t k = 0; k < WORKERS; k++)
		check_expanded_part(x, id, k);
	check_buffers_home(x);

	/* A reference whose check is not its record's: the checkpoint fails. */
	id = begin(x);
	scan_archived(x, 0, id, ARCH_ITEMS);
	scan_archived(x, 1, id, 17);
	commit_all(x);
	st = wait_finished(x, 2);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.last_error, -EBADMSG);
	assert_true(strstr(st.last_failure, "checkpoint 2") != NULL);
	assert_int_equal(manifest_id(x), 1);
	check_buffers_home(x);

	/* And the next one works. */
	id = begin(x);
	for (uint16_t k = 0; k < WORKERS; k++)
		scan_archived(x, k, id, ARCH_ITEMS);
	commit_all(x);
	st = wait_finished(x, 3);
	assert_int_equal(st.completed, 2);
	assert_int_equal(manifest_id(x), 3);
	for (uint16_t k = 0; k < WORKERS; k++)
		check_expanded_part(x, id, k);
	ckpt_writer_stop(x->cw);
	for (uint16_t k = 0; k < WORKERS; k++)
		archive_file_close(&af[k]);
	fixture_free(x);
}

/* A writer without archive files fails a chunk with references (-ENOTSUP)
 * rather than writing them as values. */
static void test_archived_refs_without_archives(void **state)
{
	struct fixture *x = fixture_new(false);
	static struct archive_file af[WORKERS];
	struct ckpt_writer_status st;
	struct ckpt_summary s;
	char err[CKPT_ERR_MAX], dir[DISK_PATH_MAX];
	uint64_t id;

	(void)state;
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(archive_file_create(&af[k], x->d, x->base, k, 0), 0);
		arch_write(&af[k], k);
	}
	start_writers(x);
	id = begin(x);
	for (uint16_t k = 0; k < WORKERS; k++)
		scan_archived(x, k, id, ARCH_ITEMS);
	commit_all(x);
	st = wait_finished(x, 1);
	assert_int_equal(st.completed, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.last_error, -ENOTSUP);
	assert_false(manifest_exists(x));
	snprintf(dir, sizeof(dir), "%s/ckpt-000000000001", x->ckdir);
	assert_int_not_equal(ckpt_verify_dir(x->d, dir, &s, err, sizeof(err)), 0);
	check_buffers_home(x);
	/* Chunks without references still work. */
	id = begin(x);
	assert_int_equal(id, 2);
	{
		uint64_t start[WORKERS], end[WORKERS];

		scan_all(x, id, 30, start, end);
		commit_all(x);
		st = wait_finished(x, 2);
		assert_int_equal(st.completed, 1);
		check_named(x, 2, 0, start, 30);
	}
	for (uint16_t k = 0; k < WORKERS; k++)
		archive_file_close(&af[k]);
	fixture_free(x);
}

/* ---- retirement -------------------------------------------------------- */

struct seg {
	uint16_t worker;
	uint64_t sequence, generation, first_lsn;
	char name[WAL_SEGMENT_NAME_MAX];
};

static int seg_order(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

/* The log segments in wal/, by worker and sequence. */
static uint32_t list_segs(struct fixture *x, struct seg *out, uint32_t max)
{
	struct disk_name *names = NULL;
	uint32_t count = 0, n = 0;

	assert_int_equal(disk_list_all(x->d, x->wal, &names, &count), 0);
	for (uint32_t i = 0; i < count; i++) {
		struct wal_segment_header h;
		uint8_t hdr[WAL_SEGMENT_HDR_BYTES];
		char path[DISK_PATH_MAX];
		uint16_t wk;
		uint64_t seq;
		int fd;

		if (wal_segment_parse_name(names[i].name, &wk, &seq) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", x->wal, names[i].name);
		assert_int_equal(disk_open(x->d, path, DISK_O_RDONLY, &fd), 0);
		assert_int_equal(disk_pread_all(x->d, fd, hdr, sizeof(hdr), 0), (int64_t)sizeof(hdr));
		disk_close(x->d, fd);
		assert_int_equal(wal_segment_header_decode(hdr, sizeof(hdr), &h), 0);
		assert_true(n < max);
		out[n] = (struct seg){.worker = wk, .sequence = seq, .generation = h.generation,
				      .first_lsn = h.first_lsn};
		snprintf(out[n].name, sizeof(out[n].name), "%.31s", names[i].name);
		n++;
	}
	free(names);
	qsort(out, n, sizeof(*out), seg_order);
	return n;
}

/* The retention rule of ckpt_manifest.h, written from its text: a segment
 * may go when the checkpoint covers it - an older generation, or the same
 * generation and every record in it at or below the start LSN (the next
 * segment of the log begins at or below start + 1). */
static bool rule_covers(const struct seg *s, uint32_t n, uint32_t i, uint64_t gen,
			const uint64_t *start)
{
	if (s[i].generation < gen)
		return true;
	if (s[i].generation > gen)
		return false;
	for (uint32_t j = i + 1; j < n; j++)
		if (s[j].worker == s[i].worker && s[j].generation == s[i].generation)
			return s[j].first_lsn <= start[s[i].worker] + 1;
	return false; /* the log's last segment: open, never covered */
}

static bool seg_present(const struct seg *s, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return true;
	return false;
}

/* A few segments of generation 1 (an earlier run), LSNs 1.., so the
 * writer's generation continues above them. */
static void write_old_generation(struct fixture *x)
{
	static uint8_t value[300];
	struct tlog t;

	assert_int_equal(tlog_begin(&t, x->d, x->wal, SEG_BYTES, 1), 0);
	t.sync_each = false;
	for (uint16_t k = 0; k < WORKERS; k++) {
		for (int i = 0; i < 120; i++) {
			char key[32];

			snprintf(key, sizeof(key), "old-%u-%d", k, i);
			assert_int_equal(tlog_append(&t, k, WAL_REC_PUT, key, value, sizeof(value),
						     x->next_lsn[k]++),
					 0);
		}
		assert_int_equal(tlog_sync(&t, k), 0);
	}
	tlog_end(&t);
}

static uint32_t count_parts(struct fixture *x, uint64_t id)
{
	char name[CKPT_DIR_NAME_MAX], dir[DISK_PATH_MAX];
	struct disk_name *names = NULL;
	uint32_t n = 0;

	ckpt_dir_name(name, sizeof(name), id);
	snprintf(dir, sizeof(dir), "%s/%s", x->ckdir, name);
	if (disk_list_all(x->d, dir, &names, &n) != 0)
		return 0;
	free(names);
	return n;
}

/* Checkpoints 1, 2 and 3 with log segments written between them: each
 * completion unlinks exactly the segments the previous checkpoint covers
 * (generation 1 whole, then the closed segments below its start LSNs),
 * never the open ones; folders older than the previous one lose their
 * parts (real disk); recovery over what stays, skipping what the last
 * checkpoint covers, replays exactly the records above its start LSNs. */
static void run_retirement(bool real)
{
	struct fixture *x = fixture_new(real);
	static struct seg before[512], after[512];
	uint64_t start[4][WORKERS], end[WORKERS];
	struct ckpt_writer_status st;
	uint64_t retired_total = 0;
	uint32_t nb, na;

	write_old_generation(x);
	start_writers(x);
	for (uint64_t id = 1; id <= 3; id++) {
		uint32_t expect_gone = 0;

		/* Several segments of this generation per worker. */
		for (uint16_t k = 0; k < WORKERS; k++)
			log_put(x, k, 150, 300);
		commit_all(x);
		nb = list_segs(x, before, 512);
		assert_int_equal(begin(x), id);
		if (id == 2) {
			/* Start LSNs on the boundary: worker 0's at the last
			 * record of its last closed segment (that segment is
			 * covered), worker 1's one below it (not covered). */
			uint64_t at[WORKERS];

			for (uint32_t i = 0; i < nb; i++)
				if (i + 1 == nb || before[i + 1].worker != before[i].worker)
					at[before[i].worker] =
						before[i].first_lsn - 1 - before[i].worker;
			scan_all_at(x, id, 40, at, start[id], end);
		} else {
			scan_all(x, id, 40, start[id], end);
		}
		commit_all(x);
		st = wait_finished(x, id);
		assert_int_equal(st.completed, id);
		assert_int_equal(st.failed, 0);
		check_named(x, id, id - 1, start[id], 40);
		na = list_segs(x, after, 512);
		/* Segments the previous checkpoint covers are gone, the
		 * others stay (every worker's last, open, segment too). */
		for (uint32_t i = 0; i < nb; i++) {
			bool covered = id > 1 && rule_covers(before, nb, i, GENERATION, start[id - 1]);
			bool last = i + 1 == nb || before[i + 1].worker != before[i].worker;

			if (covered)
				expect_gone++;
			if (last)
				assert_false(covered);
			if (seg_present(after, na, before[i].name) == covered)
				fail_msg("after checkpoint %" PRIu64 ": segment %s (generation %" PRIu64
					 ", first LSN %" PRIu64 ") %s, previous start LSN %" PRIu64,
					 id, before[i].name, before[i].generation, before[i].first_lsn,
					 covered ? "kept" : "removed",
					 id > 1 ? start[id - 1][before[i].worker] : 0);
		}
		/* Segments made after the list above (by the scan's records)
		 * are never covered: na counts them. */
		assert_true(na + expect_gone >= nb);
		retired_total += expect_gone;
		assert_int_equal(st.segments_retired, retired_total);
		if (id == 2)
			assert_true(expect_gone > WORKERS); /* generation 1 and more */
		if (id == 3) {
			bool gen2_retired = false;

			for (uint32_t i = 0; i < nb; i++)
				if (before[i].generation == GENERATION &&
				    !seg_present(after, na, before[i].name))
					gen2_retired = true;
			assert_true(gen2_retired);
		}
	}
	/* Folders: 1 (older than the previous, 2) emptied; 2 and 3 whole. */
	if (real) {
		assert_int_equal(count_parts(x, 1), 0);
		assert_int_equal(st.checkpoints_removed, 1);
	}
	assert_int_equal(count_parts(x, 2), WORKERS);
	assert_int_equal(count_parts(x, 3), WORKERS);

	/* Recovery after checkpoint 3 skips what it holds and replays the
	 * rest of each log in order, none lost to retirement. */
	{
		struct recovery_options opt = {.covered_generation = GENERATION,
					       .covered_workers = WORKERS,
					       .covered_lsn = start[3]};
		uint64_t next[WORKERS];
		struct recovery *r;
		struct wal_record rec;
		int rc;

		for (uint16_t k = 0; k < WORKERS; k++)
			next[k] = start[3][k] + 1;
		assert_int_equal(recovery_open(&r, x->d, x->wal, &opt), 0);
		while ((rc = recovery_next(r, &rec, NULL)) == 1) {
			assert_true(rec.worker < WORKERS);
			assert_int_equal(rec.lsn, next[rec.worker]);
			next[rec.worker]++;
		}
		assert_int_equal(rc, 0);
		for (uint16_t k = 0; k < WORKERS; k++)
			assert_int_equal(next[k], x->next_lsn[k]);
		assert_int_equal(recovery_stats(r)->cuts, 0);
		recovery_close(r);
	}
	fixture_free(x);
}

static void test_retirement_fake_disk(void **state)
{
	(void)state;
	run_retirement(false);
}

static void test_retirement_real_disk(void **state)
{
	(void)state;
	run_retirement(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completes_after_log_durable),
		cmocka_unit_test(test_one_log_behind_times_out),
		cmocka_unit_test(test_abort_and_write_error),
		cmocka_unit_test(test_archived_refs_expanded),
		cmocka_unit_test(test_archived_refs_without_archives),
		cmocka_unit_test(test_retirement_fake_disk),
		cmocka_unit_test(test_retirement_real_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
