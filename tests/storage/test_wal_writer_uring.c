/* test_wal_writer_uring.c - the group-commit writer with io_uring on the
 * real file system, in a temporary directory: records from two producers
 * become durable, recover in order, and an fdatasync covers many records.
 * Skipped, with the reason, where io_uring cannot be set up. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "recovery.h"
#include "storage_test_util.h"
#include "wal_io.h"
#include "wal_writer.h"
#include "we_time.h"

#define WORKERS 2
#define RING_BYTES (256u * 1024)
#define SEG_BYTES (1u << 20)
#define PER_WORKER 50000

static char tmpdir[256];
static char waldir[300];

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/we-wal-XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(waldir, sizeof(waldir), "%s/wal", tmpdir);
	return 0;
}

/* Removes what the test made: wal/ with its files, then the directory. */
static int teardown(void **state)
{
	struct disk d;
	struct disk_name names[64];
	uint32_t count = 0;
	int dfd = open(waldir, O_RDONLY | O_DIRECTORY);

	(void)state;
	disk_posix_init(&d);
	if (dfd >= 0 && disk_list(&d, waldir, names, 64, &count) == 0)
		for (uint32_t i = 0; i < count && i < 64; i++)
			unlinkat(dfd, names[i].name, 0);
	if (dfd >= 0)
		close(dfd);
	rmdir(waldir);
	rmdir(tmpdir);
	return 0;
}

struct producer_arg {
	struct wal_ring *ring;
	uint16_t worker;
};

static void *producer(void *arg)
{
	struct producer_arg *p = arg;

	for (uint64_t lsn = 1; lsn <= PER_WORKER;)
		if (ring_put(p->ring, p->worker, lsn, 24))
			lsn++;
	return NULL;
}

static void test_uring_round_trip(void **state)
{
	struct wal_ring rings[WORKERS];
	struct wal_ring *ring_ptrs[WORKERS];
	struct producer_arg args[WORKERS];
	pthread_t t[WORKERS];
	struct wal_writer *w;
	struct wal_writer_stats st;
	struct disk d;
	char why[256];
	uint64_t t0;
	int r;

	(void)state;
	disk_posix_init(&d);
	assert_int_equal(disk_mkdir(&d, waldir), 0);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(wal_ring_init(&rings[i], aligned_alloc(64, RING_BYTES), RING_BYTES), 0);
		ring_ptrs[i] = &rings[i];
	}
	{
		struct wal_writer_config cfg = {
			.disk = &d, .wal_dir = waldir, .segment_bytes = SEG_BYTES, .generation = 1,
			.workers = WORKERS, .rings = ring_ptrs, .io = WAL_IO_URING,
			.group_commit_interval_us = 200, .spares = 1, .sched_fifo = true};

		r = wal_writer_create(&w, &cfg, why, sizeof(why));
		if (r != 0)
			fail_msg("wal_writer_create: %s", why);
	}
	assert_string_equal(wal_writer_io_name(w), "io_uring");
	assert_int_equal(wal_writer_start(w), 0);
	t0 = we_monotonic_ns();
	for (int i = 0; i < WORKERS; i++) {
		args[i] = (struct producer_arg){.ring = &rings[i], .worker = (uint16_t)i};
		assert_int_equal(pthread_create(&t[i], NULL, producer, &args[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	while (wal_durable_lsn(wal_writer_durable(w, 0)) < PER_WORKER ||
	       wal_durable_lsn(wal_writer_durable(w, 1)) < PER_WORKER) {
		struct timespec ts = {.tv_nsec = 1000000};

		if (we_monotonic_ns() - t0 > 120ull * 1000000000)
			fail_msg("durable LSNs stuck");
		nanosleep(&ts, NULL);
	}
	wal_writer_stop(w);
	wal_writer_stats_get(w, &st);
	fprintf(stderr,
		"io_uring writer: %llu records in %llu commits, %llu syncs, %llu rolls, %.1f ms "
		"(a busy shared machine: not a benchmark); SCHED_FIFO %s\n",
		(unsigned long long)st.records, (unsigned long long)st.commits,
		(unsigned long long)st.syncs, (unsigned long long)st.rolls,
		(double)(we_monotonic_ns() - t0) / 1e6,
		st.sched_fifo ? "on" : "refused (not privileged), running SCHED_OTHER");
	assert_int_equal(st.records, WORKERS * PER_WORKER);
	assert_int_equal(st.failed_commits, 0);
	assert_true(st.syncs * 10 < st.records);
	assert_true(st.rolls >= 2);
	wal_writer_destroy(w);

	{
		const struct recovery_options opt = {.repair = true};
		struct recovery *rc;
		struct wal_record rec;
		uint64_t last[WORKERS] = {0};
		char line[512];

		assert_int_equal(recovery_open(&rc, &d, waldir, &opt), 0);
		while ((r = recovery_next(rc, &rec, NULL)) == 1) {
			assert_true(rec.worker < WORKERS);
			assert_int_equal(rec.lsn, last[rec.worker] + 1);
			last[rec.worker] = rec.lsn;
		}
		assert_int_equal(r, 0);
		recovery_summary(rc, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		assert_int_equal(recovery_stats(rc)->cuts, 0);
		recovery_close(rc);
		assert_int_equal(last[0], PER_WORKER);
		assert_int_equal(last[1], PER_WORKER);
	}
	for (int i = 0; i < WORKERS; i++)
		free(rings[i].mem);
}

int main(void)
{
	char why[256];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_uring_round_trip, setup, teardown),
	};
	/* Where io_uring cannot be set up the test cannot run: say why and
	 * exit 77, which meson reports as SKIP (never as a pass). */
	if (wal_io_uring_probe(why, sizeof(why)) != 0) {
		fprintf(stderr, "SKIP: %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
