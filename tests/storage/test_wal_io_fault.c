/* test_wal_io_fault.c - the fault-injection decorator (storage/wal_io_fault.c):
 * the WARPENGINE_DISK_FAULTS parser, the decorator over the synchronous
 * backend on the fake disk (which writes and syncs fail, what reaches the
 * disk), and the hook in wal_writer_create (a malformed value refused with
 * the variable named; a countdown of write and sync faults through the
 * writer: nothing published durable that a fault hit, recovery after), and
 * a full disk while beginning a segment (no file left per failed try). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk_fake.h"
#include "storage_test_util.h"
#include "wal_io_fault.h"
#include "wal_writer.h"

/* ---- the parser ------------------------------------------------------- */

static void parse_ok(const char *text, struct wal_fault_spec *s)
{
	char err[256] = "";

	if (wal_fault_spec_parse(text, s, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", text, err);
}

static void parse_bad(const char *text, const char *needle)
{
	struct wal_fault_spec s;
	char err[256] = "";

	assert_int_equal(wal_fault_spec_parse(text, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(s.n, 0);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\": error \"%s\" does not say \"%s\"", text, err, needle);
}

static void test_parse_valid(void **state)
{
	struct wal_fault_spec s;

	(void)state;
	parse_ok("", &s);
	assert_int_equal(s.n, 0);

	parse_ok("write:3:EIO", &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rule[0].op, WAL_FAULT_WRITE);
	assert_int_equal(s.rule[0].nth, 3);
	assert_int_equal(s.rule[0].times, 1);
	assert_int_equal(s.rule[0].err, EIO);

	parse_ok("sync:5:EIO:forever", &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.rule[0].op, WAL_FAULT_SYNC);
	assert_int_equal(s.rule[0].nth, 5);
	assert_true(s.rule[0].times == WAL_FAULT_FOREVER);

	parse_ok("write:2:ENOSPC:1", &s);
	assert_int_equal(s.rule[0].err, ENOSPC);
	assert_int_equal(s.rule[0].times, 1);

	parse_ok("write:1:EDQUOT:7,sync:1000000000000:EROFS", &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.rule[0].times, 7);
	assert_int_equal(s.rule[0].err, EDQUOT);
	assert_int_equal(s.rule[1].op, WAL_FAULT_SYNC);
	assert_true(s.rule[1].nth == WAL_FAULT_NTH_MAX);
	assert_int_equal(s.rule[1].err, EROFS);

	parse_ok("write:1:EIO,write:2:EIO,write:3:EIO,write:4:EIO,sync:1:EIO,sync:2:EIO,"
		 "sync:3:EIO,sync:4:EIO", &s);
	assert_int_equal(s.n, WAL_FAULT_RULES_MAX);
	assert_string_equal(wal_fault_errno_name(ENOSPC), "ENOSPC");
	assert_null(wal_fault_errno_name(0));
}

static void test_parse_malformed(void **state)
{
	(void)state;
	parse_bad("write", "has 1 field;");
	parse_bad("write:3", "has 2 fields");
	parse_bad("write:3:EIO:1:2", "has 5 fields");
	parse_bad("write:3:EIO:1:2:3:4", "has 7 fields");
	parse_bad("read:3:EIO", "operation \"read\" is neither write nor sync");
	parse_bad("Write:3:EIO", "neither write nor sync");
	parse_bad("write:0:EIO", "N \"0\" is not a whole number from 1");
	parse_bad("write:-1:EIO", "N \"-1\"");
	parse_bad("write:+1:EIO", "N \"+1\"");
	parse_bad("write:01:EIO", "N \"01\"");
	parse_bad("write: 1:EIO", "N \" 1\"");
	parse_bad("write:1x:EIO", "N \"1x\"");
	parse_bad("write::EIO", "N \"\"");
	parse_bad("write:1000000000001:EIO", "10^12");
	parse_bad("write:99999999999999999999:EIO", "10^12");
	parse_bad("write:1:eio", "\"eio\" is not an errno name");
	parse_bad("write:1:5", "\"5\" is not an errno name");
	parse_bad("write:1:", "\"\" is not an errno name");
	parse_bad("write:1:EIO:0", "TIMES \"0\"");
	parse_bad("write:1:EIO:always", "TIMES \"always\"");
	parse_bad("write:1:EIO:", "TIMES \"\"");
	parse_bad("write:1:EIO,", "rule 2 is empty");
	parse_bad(",write:1:EIO", "rule 1 is empty");
	parse_bad("write:1:EIO,,sync:1:EIO", "rule 2 is empty");
	parse_bad("write:1:EIO,sync:x:EIO", "rule 2 \"sync:x:EIO\"");
	parse_bad("write:1:EIO; sync:1:EIO", "has 5 fields");
	parse_bad("write:1:EIO;x", "\"EIO;x\" is not an errno name");
	parse_bad("write:1:EIO,write:2:EIO,write:3:EIO,write:4:EIO,sync:1:EIO,sync:2:EIO,"
		  "sync:3:EIO,sync:4:EIO,sync:5:EIO", "more than 8 rules");
}

/* ---- the decorator over the synchronous backend ------------------------ */

struct bench {
	struct disk_fake *f;
	struct disk *d;
	int fd[3];
	uint8_t buf[3][64];
};

static void bench_init(struct bench *b)
{
	b->f = disk_fake_create();
	b->d = disk_fake_disk(b->f);
	for (int i = 0; i < 3; i++) {
		char path[32];

		snprintf(path, sizeof(path), "file%d", i);
		assert_int_equal(disk_open(b->d, path, DISK_O_CREATE, &b->fd[i]), 0);
		memset(b->buf[i], 'a' + i, sizeof(b->buf[i]));
	}
}

/* One batch of n requests (file i gets 64 bytes at off). */
static void batch(struct bench *b, struct wal_io *io, uint32_t n, uint64_t off,
		  struct wal_io_req *reqs)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&reqs[i], 0, sizeof(reqs[i]));
		reqs[i].fd = b->fd[i];
		reqs[i].iovcnt = 1;
		reqs[i].iov[0].iov_base = b->buf[i];
		reqs[i].iov[0].iov_len = sizeof(b->buf[i]);
		reqs[i].off = off;
	}
	assert_int_equal(wal_io_run(io, reqs, n), 0);
}

static void test_decorator_writes(void **state)
{
	struct bench b;
	struct wal_fault_spec s;
	struct wal_fault_counts counts = {0};
	struct wal_io *inner, *io;
	struct wal_io_req r[3];
	uint8_t got[256];

	(void)state;
	bench_init(&b);
	parse_ok("write:2:EIO:2", &s);
	assert_int_equal(wal_io_sync_create(&inner, b.d), 0);
	assert_int_equal(wal_io_fault_create(&io, inner, &s, &counts), 0);
	assert_string_equal(wal_io_name(io), "synchronous + injected faults");

	/* Writes 1, 2, 3: the 2nd and 3rd fail, untouched by the disk. */
	batch(&b, io, 3, 0, r);
	assert_int_equal(r[0].res_write, 64);
	assert_int_equal(r[0].res_sync, 0);
	assert_int_equal(r[1].res_write, -EIO);
	assert_int_equal(r[1].res_sync, -ECANCELED);
	assert_int_equal(r[2].res_write, -EIO);
	assert_int_equal(r[2].res_sync, -ECANCELED);
	assert_int_equal(disk_fake_calls(b.f, DISK_OP_PWRITE), 1);
	assert_int_equal(disk_fake_calls(b.f, DISK_OP_FDATASYNC), 1);
	assert_int_equal(disk_fake_read_file(b.f, "file0", got, sizeof(got)), 64);
	assert_int_equal(disk_fake_read_file(b.f, "file1", got, sizeof(got)), 0);
	assert_int_equal(disk_fake_read_file(b.f, "file2", got, sizeof(got)), 0);

	/* Writes 4, 5, 6: all pass (times 2 is over), in one batch. */
	batch(&b, io, 3, 64, r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].res_write, 64);
		assert_int_equal(r[i].res_sync, 0);
	}
	assert_int_equal(disk_fake_calls(b.f, DISK_OP_PWRITE), 4);
	assert_int_equal(atomic_load(&counts.writes), 6);
	assert_int_equal(atomic_load(&counts.syncs), 4);
	assert_int_equal(atomic_load(&counts.failed_writes), 2);
	assert_int_equal(atomic_load(&counts.failed_syncs), 0);
	wal_io_destroy(io);
	disk_fake_destroy(b.f);
}

static void test_decorator_syncs(void **state)
{
	struct bench b;
	struct wal_fault_spec s;
	struct wal_fault_counts counts = {0};
	struct wal_io *inner, *io;
	struct wal_io_req r[3];
	uint8_t got[256];

	(void)state;
	bench_init(&b);
	parse_ok("sync:3:ENOSPC:forever", &s);
	assert_int_equal(wal_io_sync_create(&inner, b.d), 0);
	assert_int_equal(wal_io_fault_create(&io, inner, &s, &counts), 0);

	batch(&b, io, 2, 0, r); /* syncs 1, 2 */
	assert_int_equal(r[0].res_sync, 0);
	assert_int_equal(r[1].res_sync, 0);
	/* A write that the disk cuts short runs no sync: not counted. */
	disk_fake_short_write(b.f, 1, 10);
	batch(&b, io, 1, 64, r);
	assert_int_equal(r[0].res_write, 10);
	assert_int_equal(r[0].res_sync, -ECANCELED);
	assert_int_equal(atomic_load(&counts.syncs), 2);
	/* Syncs 3, 4, 5 and on fail; the writes happened (and the syncs ran). */
	batch(&b, io, 3, 128, r);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].res_write, 64);
		assert_int_equal(r[i].res_sync, -ENOSPC);
	}
	assert_int_equal(disk_fake_read_file(b.f, "file2", got, sizeof(got)), 192);
	batch(&b, io, 1, 192, r);
	assert_int_equal(r[0].res_sync, -ENOSPC);
	assert_int_equal(atomic_load(&counts.failed_syncs), 4);
	assert_int_equal(atomic_load(&counts.failed_writes), 0);

	/* Counters of its own when given none; the process-wide ones exist. */
	wal_io_destroy(io);
	assert_int_equal(wal_io_sync_create(&inner, b.d), 0);
	assert_int_equal(wal_io_fault_create(&io, inner, &s, NULL), 0);
	batch(&b, io, 2, 0, r);
	assert_int_equal(r[0].res_sync, 0);
	assert_int_equal(r[1].res_sync, 0);
	assert_non_null(wal_io_fault_process_counts());
	wal_io_destroy(io);
	disk_fake_destroy(b.f);
}

/* ---- the hook in wal_writer_create ------------------------------------ */

#define RING_BYTES (16u * 1024)
#define SEG_BYTES (64u * 1024)

struct wfix {
	struct disk_fake *f;
	struct disk *d;
	struct wal_ring ring;
	struct wal_ring *rings[1];
	void *mem;
	struct wal_writer *w;
	uint64_t next_lsn;
};

static void wfix_init(struct wfix *x)
{
	memset(x, 0, sizeof(*x));
	x->f = disk_fake_create();
	x->d = disk_fake_disk(x->f);
	assert_int_equal(disk_mkdir(x->d, "dd"), 0);
	assert_int_equal(disk_mkdir(x->d, "dd/wal"), 0);
	x->mem = aligned_alloc(64, RING_BYTES);
	assert_int_equal(wal_ring_init(&x->ring, x->mem, RING_BYTES), 0);
	x->rings[0] = &x->ring;
	x->next_lsn = 1;
}

static int wfix_create_spares(struct wfix *x, uint32_t spares, char *err, size_t err_len);

static int wfix_create(struct wfix *x, char *err, size_t err_len)
{
	return wfix_create_spares(x, 0, err, err_len);
}

static int wfix_create_spares(struct wfix *x, uint32_t spares, char *err, size_t err_len)
{
	struct wal_writer_config cfg = {
		.disk = x->d,
		.wal_dir = "dd/wal",
		.segment_bytes = SEG_BYTES,
		.generation = 1,
		.workers = 1,
		.rings = x->rings,
		.io = WAL_IO_SYNC,
		.group_commit_interval_us = 100,
		.spares = spares,
	};

	return wal_writer_create(&x->w, &cfg, err, err_len);
}

static void wfix_fini(struct wfix *x)
{
	wal_writer_destroy(x->w);
	free(x->mem);
	disk_fake_destroy(x->f);
}

static void test_writer_refuses_malformed(void **state)
{
	struct wfix x;
	char err[512] = "";

	(void)state;
	wfix_init(&x);
	assert_int_equal(setenv(WAL_FAULT_ENV, "write:3:EIO:sometimes", 1), 0);
	assert_int_equal(wfix_create(&x, err, sizeof(err)), -EINVAL);
	assert_null(x.w);
	assert_non_null(strstr(err, "WARPENGINE_DISK_FAULTS"));
	assert_non_null(strstr(err, "TIMES \"sometimes\""));
	/* Nothing was made: no spare, no segment. */
	assert_int_equal(disk_fake_calls(x.f, DISK_OP_OPEN), 0);

	/* Empty: no faults, the plain backend. */
	assert_int_equal(setenv(WAL_FAULT_ENV, "", 1), 0);
	assert_int_equal(wfix_create(&x, err, sizeof(err)), 0);
	assert_string_equal(wal_writer_io_name(x.w), "synchronous");
	assert_int_equal(unsetenv(WAL_FAULT_ENV), 0);
	wfix_fini(&x);
}

/* The writer under "OP:n:EIO:forever" for each n: exactly n - 1 commits
 * become durable, the failing ones publish -EIO and no LSN past the last
 * good commit, and the records are all there for recovery once the fault
 * is gone (a writer made without it commits them). */
static void countdown(enum wal_fault_op op, uint64_t n)
{
	struct wal_fault_counts *pc = wal_io_fault_process_counts();
	uint64_t w0 = atomic_load(&pc->writes), s0 = atomic_load(&pc->syncs);
	struct wfix x;
	struct wal_writer_stats st;
	char spec[64], err[512] = "";
	uint64_t durable_before = 0;
	int commits_ok = 0;

	/* The process-wide counters run on: ask for the (n)th from now. */
	snprintf(spec, sizeof(spec), "%s:%llu:EIO:forever", op == WAL_FAULT_WRITE ? "write" : "sync",
		 (unsigned long long)(n + (op == WAL_FAULT_WRITE ? w0 : s0)));
	wfix_init(&x);
	assert_int_equal(setenv(WAL_FAULT_ENV, spec, 1), 0);
	if (wfix_create(&x, err, sizeof(err)) != 0)
		fail_msg("%s: %s", spec, err);
	assert_int_equal(unsetenv(WAL_FAULT_ENV), 0);
	assert_string_equal(wal_writer_io_name(x.w), "synchronous + injected faults");
	for (uint64_t round = 0; round < n + 3; round++) {
		const struct wal_durable *d = wal_writer_durable(x.w, 0);
		int r;

		assert_true(ring_put(&x.ring, 0, x.next_lsn, 40));
		x.next_lsn++;
		r = wal_writer_commit(x.w);
		if (round + 1 < n) {
			assert_int_equal(r, 1);
			assert_int_equal(wal_durable_error(d), 0);
			durable_before = wal_durable_lsn(d);
			assert_int_equal(durable_before, x.next_lsn - 1);
			commits_ok++;
		} else {
			assert_int_equal(r, -EIO);
			assert_int_equal(wal_durable_error(d), -EIO);
			assert_int_equal(wal_durable_lsn(d), durable_before);
		}
	}
	wal_writer_stats_get(x.w, &st);
	assert_int_equal(st.syncs, n - 1);
	assert_int_equal(st.failed_commits, 4);
	assert_int_equal(st.last_error, -EIO);
	if (op == WAL_FAULT_WRITE)
		assert_int_equal(st.write_errors, 4);
	else
		assert_int_equal(st.sync_errors, 4);
	wal_writer_destroy(x.w);
	x.w = NULL;

	/* Restart without the fault (the ring keeps its records, as the data
	 * plane's would not: here the same ring stands for "written again"). */
	assert_int_equal(wfix_create(&x, err, sizeof(err)), 0);
	assert_int_equal(wal_writer_commit(x.w), 4);
	assert_int_equal(wal_durable_lsn(wal_writer_durable(x.w, 0)), x.next_lsn - 1);
	assert_int_equal(wal_durable_error(wal_writer_durable(x.w, 0)), 0);
	(void)commits_ok;
	wfix_fini(&x);
}

static void test_writer_countdown(void **state)
{
	(void)state;
	for (uint64_t n = 1; n <= 6; n++) {
		countdown(WAL_FAULT_WRITE, n);
		countdown(WAL_FAULT_SYNC, n);
	}
}

/* A full disk (fallocate -ENOSPC) from the start: the writer is made all
 * the same, without its spares (a start on a full disk used to be refused);
 * every try to begin a segment fails with -ENOSPC and leaves no file behind
 * (it used to leave one empty segment per try, every retry interval); once
 * space is back the next commit begins the segment and makes every record
 * durable. */
static void test_writer_disk_full_no_leftovers(void **state)
{
	struct wfix x;
	struct wal_writer_stats st;
	struct disk_name *names = NULL;
	uint32_t count = 0;
	char err[512] = "";

	(void)state;
	wfix_init(&x);
	disk_fake_fail(x.f, DISK_OP_FALLOCATE, 1, -ENOSPC, DISK_FAKE_FAIL_FOREVER);
	if (wfix_create_spares(&x, 2, err, sizeof(err)) != 0)
		fail_msg("a writer on a full disk: %s", err);
	wal_writer_stats_get(x.w, &st);
	assert_int_equal(st.segment_errors, 1);
	for (int i = 0; i < 50; i++) {
		assert_true(ring_put(&x.ring, 0, x.next_lsn, 40));
		x.next_lsn++;
		assert_int_equal(wal_writer_commit(x.w), -ENOSPC);
		assert_int_equal(wal_durable_error(wal_writer_durable(x.w, 0)), -ENOSPC);
		assert_int_equal(wal_durable_lsn(wal_writer_durable(x.w, 0)), 0);
	}
	assert_int_equal(disk_list_all(x.d, "dd/wal", &names, &count), 0);
	free(names);
	assert_int_equal(count, 0);
	/* Failed tries are segment errors, not roll-overs. */
	wal_writer_stats_get(x.w, &st);
	assert_int_equal(st.segment_errors, 51);
	assert_int_equal(st.rolls, 0);
	assert_int_equal(st.rolls_without_spare, 0);
	disk_fake_clear_faults(x.f);
	assert_int_equal(wal_writer_commit(x.w), 50);
	wal_writer_stats_get(x.w, &st);
	assert_int_equal(st.rolls, 1);
	assert_int_equal(st.rolls_without_spare, 1);
	assert_int_equal(wal_durable_error(wal_writer_durable(x.w, 0)), 0);
	assert_int_equal(wal_durable_lsn(wal_writer_durable(x.w, 0)), 50);
	assert_int_equal(disk_list_all(x.d, "dd/wal", &names, &count), 0);
	free(names);
	assert_int_equal(count, 3); /* the segment, and the two spares made after its roll */
	wfix_fini(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_decorator_writes),
		cmocka_unit_test(test_decorator_syncs),
		cmocka_unit_test(test_writer_refuses_malformed),
		cmocka_unit_test(test_writer_countdown),
		cmocka_unit_test(test_writer_disk_full_no_leftovers),
	};

	unsetenv(WAL_FAULT_ENV);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
