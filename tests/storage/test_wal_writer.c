/* test_wal_writer.c - the group-commit writer (storage/wal_writer.c) against
 * the fake disk through the synchronous I/O backend: group commit, roll-over,
 * short writes, injected write and sync errors and the recovery from them,
 * power cuts, and the writer's thread. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "disk_fake.h"
#include "recovery.h"
#include "storage_test_util.h"
#include "wal_writer.h"
#include "we_test.h"
#include "we_time.h"

#define WORKERS 2
#define RING_BYTES (16u * 1024)
#define SEG_BYTES (16u * 1024)

struct fixture {
	struct disk_fake *f;
	struct disk *d;
	struct wal_ring rings[WORKERS];
	struct wal_ring *ring_ptrs[WORKERS];
	void *mem[WORKERS];
	struct wal_writer *w;
	uint64_t next_lsn[WORKERS];
	/* The workers' control rings, when a test asks for notices. */
	struct ctl_ring ctl[WORKERS];
	struct ctl_ring *ctl_ptrs[WORKERS];
	struct ctl_cell ctl_cells[WORKERS][2];
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	x->f = disk_fake_create();
	x->d = disk_fake_disk(x->f);
	if (disk_mkdir(x->d, "dd") != 0 || disk_mkdir(x->d, "dd/wal") != 0)
		return -1;
	for (int i = 0; i < WORKERS; i++) {
		x->mem[i] = aligned_alloc(64, RING_BYTES);
		if (wal_ring_init(&x->rings[i], x->mem[i], RING_BYTES) != 0)
			return -1;
		x->ring_ptrs[i] = &x->rings[i];
		x->next_lsn[i] = 1;
	}
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	wal_writer_destroy(x->w);
	for (int i = 0; i < WORKERS; i++)
		free(x->mem[i]);
	disk_fake_destroy(x->f);
	free(x);
	return 0;
}

static void make_writer_notify(struct fixture *x, uint32_t spares, bool notify)
{
	struct wal_writer_config cfg = {
		.disk = x->d,
		.wal_dir = "dd/wal",
		.segment_bytes = SEG_BYTES,
		.generation = 1,
		.workers = WORKERS,
		.rings = x->ring_ptrs,
		.notify = notify ? x->ctl_ptrs : NULL,
		.io = WAL_IO_SYNC,
		.group_commit_interval_us = 100,
		.spares = spares,
	};
	char err[256];

	assert_int_equal(wal_writer_create(&x->w, &cfg, err, sizeof(err)), 0);
	assert_string_equal(wal_writer_io_name(x->w), "synchronous");
}

static void make_writer(struct fixture *x, uint32_t spares)
{
	make_writer_notify(x, spares, false);
}

/* Appends up to n records per worker (fewer when a ring fills); returns how many. */
static int fill(struct fixture *x, int n, uint32_t value_len)
{
	int added = 0;

	for (int i = 0; i < n; i++)
		for (uint16_t k = 0; k < WORKERS; k++)
			if (ring_put(&x->rings[k], k, x->next_lsn[k], value_len)) {
				x->next_lsn[k]++;
				added++;
			}
	return added;
}

static uint64_t durable(struct fixture *x, uint16_t k)
{
	return wal_durable_lsn(wal_writer_durable(x->w, k));
}

static int error_of(struct fixture *x, uint16_t k)
{
	return wal_durable_error(wal_writer_durable(x->w, k));
}

/* Recovery of dd/wal: each worker's records are "w<k>-<lsn>" with LSNs
 * 1, 2, ... in order, none twice; returns each worker's last LSN. */
static void recover_check_cuts(struct fixture *x, uint64_t last[WORKERS], bool cuts_allowed)
{
	const struct recovery_options opt = {.repair = true};
	struct recovery *r;
	struct wal_record rec;
	int rc;

	memset(last, 0, sizeof(uint64_t) * WORKERS);
	assert_int_equal(recovery_open(&r, x->d, "dd/wal", &opt), 0);
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		char key[32];
		int n;

		assert_true(rec.worker < WORKERS);
		assert_int_equal(rec.lsn, last[rec.worker] + 1);
		n = snprintf(key, sizeof(key), "w%u-%llu", rec.worker, (unsigned long long)rec.lsn);
		assert_int_equal(rec.key_len, n);
		assert_memory_equal(rec.key, key, (size_t)n);
		last[rec.worker] = rec.lsn;
	}
	assert_int_equal(rc, 0);
	if (!cuts_allowed) {
		assert_int_equal(recovery_stats(r)->cuts, 0);
	} else {
		char line[512];

		recovery_summary(r, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	recovery_close(r);
}

static void recover_check(struct fixture *x, uint64_t last[WORKERS])
{
	recover_check_cuts(x, last, false);
}

/* Many records, few syncs: each commit writes and syncs once per worker;
 * the logs roll over through spares; nothing is unlinked; every record is
 * durable and recovers in order. */
static void test_group_commit(void **state)
{
	struct fixture *x = *state;
	struct wal_writer_stats st;
	uint64_t last[WORKERS];
	uint64_t syncs_before;
	int records = 0;

	make_writer(x, 1);
	syncs_before = disk_fake_calls(x->f, DISK_OP_FDATASYNC);
	while (records < 4000) {
		int added = fill(x, 200, 40);
		int got;

		/* A worker whose segment fills writes the rest in the next
		 * commit, after beginning the next segment. */
		records += added;
		while ((got = wal_writer_commit(x->w)) > 0)
			added -= got;
		assert_int_equal(got, 0);
		assert_int_equal(added, 0);
	}
	wal_writer_stats_get(x->w, &st);
	assert_int_equal(st.records, records);
	assert_true(st.rolls > 10);
	assert_int_equal(st.failed_commits, 0);
	/* One sync per worker per commit, one per new spare: far below one
	 * per record. */
	assert_int_equal(disk_fake_calls(x->f, DISK_OP_FDATASYNC) - syncs_before,
			 st.syncs + st.rolls);
	assert_true(st.syncs <= 2 * st.commits);
	assert_true(st.syncs * 20 < (uint64_t)records);
	assert_int_equal(disk_fake_calls(x->f, DISK_OP_UNLINK), 0);
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(durable(x, k), x->next_lsn[k] - 1);
		assert_int_equal(error_of(x, k), 0);
	}
	recover_check(x, last);
	for (uint16_t k = 0; k < WORKERS; k++)
		assert_int_equal(last[k], x->next_lsn[k] - 1);
}

/* The last message in worker k's control ring (0 messages: type NONE). */
static struct ctl_msg last_notice(struct fixture *x, uint16_t k, unsigned *count)
{
	struct ctl_msg m[4], last = {.type = CTL_MSG_NONE};
	unsigned n;

	*count = 0;
	while ((n = ctl_ring_take(&x->ctl[k], m, 4)) > 0) {
		last = m[n - 1];
		*count += n;
	}
	return last;
}

/* With control rings, each commit tells every worker it wrote for how far
 * its log is durable (CTL_MSG_DURABLE), and a failure as an error in the
 * notice; a worker whose ring is full hears the current state once it has
 * room, at the next commit, never a stale LSN. */
static void test_durable_notices(void **state)
{
	struct fixture *x = *state;
	struct ctl_msg m;
	unsigned n;

	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(ctl_ring_init(&x->ctl[k], x->ctl_cells[k], 2), 0);
		x->ctl_ptrs[k] = &x->ctl[k];
	}
	make_writer_notify(x, 0, true);
	fill(x, 10, 20);
	assert_int_equal(wal_writer_commit(x->w), 20);
	for (uint16_t k = 0; k < WORKERS; k++) {
		m = last_notice(x, k, &n);
		assert_int_equal(n, 1);
		assert_int_equal(m.type, CTL_MSG_DURABLE);
		assert_int_equal(m.a, x->next_lsn[k] - 1);
		assert_int_equal(m.i32, 0);
	}
	/* Nothing new: no notice. */
	assert_int_equal(wal_writer_commit(x->w), 0);
	m = last_notice(x, 0, &n);
	assert_int_equal(n, 0);

	/* Worker 0's ring is full (two fences the worker has not taken). */
	for (int i = 0; i < 2; i++) {
		struct ctl_msg f = {.type = CTL_MSG_FENCE, .a = (uint64_t)i};

		assert_int_equal(ctl_ring_post(&x->ctl[0], &f), 0);
	}
	fill(x, 5, 20);
	assert_int_equal(wal_writer_commit(x->w), 10);
	m = last_notice(x, 1, &n);
	assert_int_equal(m.a, x->next_lsn[1] - 1);
	m = last_notice(x, 0, &n); /* the fences only; the notice was deferred */
	assert_int_equal(n, 2);
	assert_int_equal(m.type, CTL_MSG_FENCE);
	fill(x, 5, 20);
	assert_int_equal(wal_writer_commit(x->w), 10);
	m = last_notice(x, 0, &n); /* one notice with the newest LSN */
	assert_int_equal(n, 1);
	assert_int_equal(m.type, CTL_MSG_DURABLE);
	assert_int_equal(m.a, x->next_lsn[0] - 1);
	m = last_notice(x, 1, &n);
	assert_int_equal(n, 1);

	/* A failing disk: the notice carries the error and the old LSN. */
	fill(x, 5, 20);
	disk_fake_fail(x->f, DISK_OP_FDATASYNC, 1, -EIO, DISK_FAKE_FAIL_FOREVER);
	assert_int_equal(wal_writer_commit(x->w), -EIO);
	for (uint16_t k = 0; k < WORKERS; k++) {
		m = last_notice(x, k, &n);
		assert_int_equal(n, 1);
		assert_int_equal(m.i32, -EIO);
		assert_int_equal(m.a, x->next_lsn[k] - 6);
	}
	disk_fake_clear_faults(x->f);
	assert_int_equal(wal_writer_commit(x->w), 10);
	for (uint16_t k = 0; k < WORKERS; k++) {
		m = last_notice(x, k, &n);
		assert_int_equal(m.i32, 0);
		assert_int_equal(m.a, x->next_lsn[k] - 1);
	}
}

/* An injected error (write or sync, EIO or ENOSPC) stops the durable LSN
 * and publishes the error; the records stay in the ring; when the fault
 * clears, the next commit writes them, the error clears, and recovery finds
 * every record once. */
static void check_fault(struct fixture *x, enum disk_op op, int err)
{
	uint64_t before[WORKERS];
	uint64_t last[WORKERS];

	make_writer(x, 0);
	fill(x, 30, 20);
	assert_true(wal_writer_commit(x->w) > 0);
	for (uint16_t k = 0; k < WORKERS; k++)
		before[k] = durable(x, k);
	fill(x, 30, 20);
	disk_fake_fail(x->f, op, 1, err, DISK_FAKE_FAIL_FOREVER);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wal_writer_commit(x->w), err);
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(durable(x, k), before[k]);
		assert_int_equal(error_of(x, k), err);
	}
	disk_fake_clear_faults(x->f);
	assert_int_equal(wal_writer_commit(x->w), 60);
	for (uint16_t k = 0; k < WORKERS; k++) {
		assert_int_equal(durable(x, k), x->next_lsn[k] - 1);
		assert_int_equal(error_of(x, k), 0);
	}
	recover_check(x, last);
	for (uint16_t k = 0; k < WORKERS; k++)
		assert_int_equal(last[k], x->next_lsn[k] - 1);
}

static void test_write_error_eio(void **state)
{
	check_fault(*state, DISK_OP_PWRITE, -EIO);
}

static void test_sync_error_eio(void **state)
{
	check_fault(*state, DISK_OP_FDATASYNC, -EIO);
}

static void test_write_error_enospc(void **state)
{
	check_fault(*state, DISK_OP_PWRITE, -ENOSPC);
}

/* A failure to begin a segment (no space for a new file) is an error of
 * that worker's log like any other, and clears the same way. */
static void test_roll_error(void **state)
{
	struct fixture *x = *state;
	uint64_t last[WORKERS];

	make_writer(x, 0);
	disk_fake_fail(x->f, DISK_OP_FALLOCATE, 1, -ENOSPC, DISK_FAKE_FAIL_FOREVER);
	fill(x, 10, 20);
	assert_int_equal(wal_writer_commit(x->w), -ENOSPC);
	assert_int_equal(durable(x, 0), 0);
	assert_int_equal(error_of(x, 0), -ENOSPC);
	disk_fake_clear_faults(x->f);
	assert_int_equal(wal_writer_commit(x->w), 20);
	assert_int_equal(error_of(x, 1), 0);
	recover_check(x, last);
	assert_int_equal(last[0], 10);
	assert_int_equal(last[1], 10);
}

/* A short write is finished by resubmitting the rest in the same commit. */
static void test_short_write(void **state)
{
	struct fixture *x = *state;
	struct wal_writer_stats st;
	uint64_t last[WORKERS];

	make_writer(x, 0);
	fill(x, 5, 20); /* first commit: segments begin */
	assert_int_equal(wal_writer_commit(x->w), 10);
	fill(x, 20, 20);
	disk_fake_short_write(x->f, 1, 13);
	assert_int_equal(wal_writer_commit(x->w), 40);
	wal_writer_stats_get(x->w, &st);
	assert_int_equal(st.short_writes, 1);
	recover_check(x, last);
	assert_int_equal(last[0], 25);
}

/* Random faults and a power cut at a random commit: every record at or
 * below a published durable LSN survives the cut (the contract), whatever
 * failed before; with torn sectors, recovery may cut a tail but never
 * loses a durable record and never mistakes the tear for damage inside a
 * log. */
static void check_durable_survives_cut(struct fixture *x, bool torn)
{
	uint64_t seed = we_test_seed(torn ? "wal_writer torn cut" : "wal_writer cut",
				     (uint64_t)time(NULL));
	uint64_t rng = seed;
	uint64_t last[WORKERS];
	int rounds = 5 + (int)(we_test_rand(&rng) % 60);

	make_writer(x, 1);
	for (int i = 0; i < rounds; i++) {
		int r;

		fill(x, (int)(we_test_rand(&rng) % 100), (uint32_t)(we_test_rand(&rng) % 300));
		switch (we_test_rand(&rng) % 6) {
		case 0:
			disk_fake_fail(x->f, DISK_OP_PWRITE, 1 + (uint32_t)(we_test_rand(&rng) % 3), -EIO, 1);
			break;
		case 1:
			disk_fake_fail(x->f, DISK_OP_FDATASYNC, 1 + (uint32_t)(we_test_rand(&rng) % 3), -EIO, 1);
			break;
		case 2:
			disk_fake_short_write(x->f, 1, 1 + (uint32_t)(we_test_rand(&rng) % 500));
			break;
		default:
			break;
		}
		r = wal_writer_commit(x->w);
		WE_TEST_CHECK(r >= 0 || r == -EIO, seed);
		disk_fake_clear_faults(x->f);
	}
	{
		uint64_t promised[WORKERS];

		if (torn) {
			/* Leave written, unsynced records for the cut to tear. */
			fill(x, 100, (uint32_t)(we_test_rand(&rng) % 1000));
			disk_fake_fail(x->f, DISK_OP_FDATASYNC, 1, -EIO, DISK_FAKE_FAIL_FOREVER);
			WE_TEST_CHECK(wal_writer_commit(x->w) < 0, seed);
			disk_fake_clear_faults(x->f);
		}
		for (uint16_t k = 0; k < WORKERS; k++)
			promised[k] = durable(x, k);
		wal_writer_destroy(x->w);
		x->w = NULL;
		disk_fake_cut(x->f, torn ? DISK_CUT_TORN_SECTORS : DISK_CUT_DROP_UNSYNCED, seed);
		recover_check_cuts(x, last, torn);
		for (uint16_t k = 0; k < WORKERS; k++)
			WE_TEST_CHECK(last[k] >= promised[k], seed);
	}
}

static void sleep_us_test(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static void test_durable_survives_cut(void **state)
{
	check_durable_survives_cut(*state, false);
}

static void test_durable_survives_torn_cut(void **state)
{
	check_durable_survives_cut(*state, true);
}

struct producer_arg {
	struct fixture *x;
	int per_worker;
};

static void *producer(void *arg)
{
	struct producer_arg *p = arg;

	for (int i = 0; i < p->per_worker;) {
		bool any = false;

		for (uint16_t k = 0; k < WORKERS; k++)
			if (ring_put(&p->x->rings[k], k, (uint64_t)i + 1, 16))
				any = true;
			else
				k--; /* the worker would answer BUSY; the test retries */
		if (any)
			i++;
	}
	return NULL;
}

/* The writer's thread drains producers running at the same time; the
 * durable LSN reaches the last record; syncs are far fewer than records. */
static void test_thread(void **state)
{
	struct fixture *x = *state;
	struct producer_arg p = {.x = x, .per_worker = 20000};
	struct wal_writer_stats st;
	uint64_t last[WORKERS];
	pthread_t t;
	uint64_t t0 = we_monotonic_ns();

	make_writer(x, 1);
	assert_int_equal(wal_writer_start(x->w), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &p), 0);
	pthread_join(t, NULL);
	while (durable(x, 0) < 20000 || durable(x, 1) < 20000) {
		if (we_monotonic_ns() - t0 > 60ull * 1000000000)
			fail_msg("durable LSNs stuck at %llu, %llu", (unsigned long long)durable(x, 0),
				 (unsigned long long)durable(x, 1));
		sleep_us_test(1000);
	}
	wal_writer_stop(x->w);
	wal_writer_stats_get(x->w, &st);
	assert_int_equal(st.records, 40000);
	assert_true(st.syncs < 40000 / 4);
	for (uint16_t k = 0; k < WORKERS; k++)
		x->next_lsn[k] = 20001;
	recover_check(x, last);
	assert_int_equal(last[0], 20000);
	assert_int_equal(last[1], 20000);
}

/* With the thread running: a sync that keeps failing holds the durable LSN
 * and publishes the error while the thread retries; once the fault clears
 * the thread catches up by itself. */
static void test_thread_recovers_from_fault(void **state)
{
	struct fixture *x = *state;
	struct wal_writer_stats st;
	uint64_t before;
	uint64_t t0;

	make_writer(x, 0);
	assert_int_equal(wal_writer_start(x->w), 0);
	fill(x, 10, 20);
	t0 = we_monotonic_ns();
	while (durable(x, 0) < 10 || durable(x, 1) < 10) {
		if (we_monotonic_ns() - t0 > 30ull * 1000000000)
			fail_msg("first records never became durable");
		sleep_us_test(1000);
	}
	before = durable(x, 0);
	disk_fake_fail(x->f, DISK_OP_FDATASYNC, 1, -EIO, DISK_FAKE_FAIL_FOREVER);
	fill(x, 10, 20);
	t0 = we_monotonic_ns();
	while (error_of(x, 0) == 0 || error_of(x, 1) == 0) {
		if (we_monotonic_ns() - t0 > 30ull * 1000000000)
			fail_msg("the error was never published");
		sleep_us_test(1000);
	}
	/* Several retries, all failing: nothing more becomes durable. */
	do {
		if (we_monotonic_ns() - t0 > 30ull * 1000000000)
			fail_msg("the writer did not retry");
		sleep_us_test(1000);
		wal_writer_stats_get(x->w, &st);
	} while (st.failed_commits < 3);
	assert_int_equal(durable(x, 0), before);
	assert_int_equal(error_of(x, 0), -EIO);
	disk_fake_clear_faults(x->f);
	t0 = we_monotonic_ns();
	while (durable(x, 0) < 20 || durable(x, 1) < 20 || error_of(x, 0) != 0) {
		if (we_monotonic_ns() - t0 > 30ull * 1000000000)
			fail_msg("the writer did not recover after the fault cleared");
		sleep_us_test(1000);
	}
	wal_writer_stop(x->w);
}

/* Configurations the writer cannot serve are refused with a reason. */
static void test_config_refused(void **state)
{
	struct fixture *x = *state;
	struct wal_writer_config cfg = {
		.disk = x->d, .wal_dir = "dd/wal", .segment_bytes = 8192, .generation = 1,
		.workers = WORKERS, .rings = x->ring_ptrs, .io = WAL_IO_SYNC};
	char err[256] = "";

	/* A 16 KiB ring takes 8 KiB records; an 8 KiB segment holds 4 KiB. */
	assert_int_equal(wal_writer_create(&x->w, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than a segment"));
	cfg.segment_bytes = SEG_BYTES;
	cfg.io = WAL_IO_URING;
	assert_int_equal(wal_writer_create(&x->w, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "io_uring needs the real disk"));
	x->w = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_notices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_error_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roll_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_survives_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_survives_torn_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_recovers_from_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
