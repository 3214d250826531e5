/* test_recovery.c - replay of the log at start (storage/recovery.c): torn
 * tails at every byte, power cuts, damage inside a log, and replay order
 * across generations with different worker counts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "disk_fake.h"
#include "recovery.h"
#include "storage_test_util.h"
#include "we_test.h"

#define SEG_BYTES (16u * 1024)
#define SEG1 "dd/wal/w00-000000000001.log"

static int setup(void **state)
{
	struct disk_fake *f = disk_fake_create();

	if (f == NULL || disk_mkdir(disk_fake_disk(f), "dd") != 0 ||
	    disk_mkdir(disk_fake_disk(f), "dd/wal") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	disk_fake_destroy(*state);
	return 0;
}

static const struct recovery_options repair = {.repair = true};

/* Runs recovery to its end; checks records are "key-<lsn>" with LSNs
 * 1, 2, ... and returns how many; *st gets the final stats. */
static int replay_count(struct disk *d, const struct recovery_options *opt,
			struct recovery_stats *st)
{
	struct recovery *r;
	struct wal_record rec;
	int n = 0;
	int rc;

	assert_int_equal(recovery_open(&r, d, "dd/wal", opt), 0);
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		char key[32];

		n++;
		snprintf(key, sizeof(key), "key-%d", n);
		assert_int_equal(rec.lsn, n);
		assert_int_equal(rec.key_len, strlen(key));
		assert_memory_equal(rec.key, key, rec.key_len);
	}
	*st = *recovery_stats(r);
	recovery_close(r);
	return rc < 0 ? rc : n;
}

/* Runs recovery (repair on) to its end; returns the records replayed. */
static int count_records(struct disk *d, struct recovery_stats *st)
{
	struct recovery *r;
	struct wal_record rec;
	int n = 0;
	int rc;

	assert_int_equal(recovery_open(&r, d, "dd/wal", &repair), 0);
	while ((rc = recovery_next(r, &rec, NULL)) == 1)
		n++;
	assert_int_equal(rc, 0);
	*st = *recovery_stats(r);
	recovery_close(r);
	return n;
}

static void write_records(struct disk *d, int count, uint32_t last_value_len, struct tlog *t)
{
	static uint8_t value[1024];

	memset(value, 'v', sizeof(value));
	assert_int_equal(tlog_begin(t, d, "dd/wal", SEG_BYTES, 1), 0);
	for (int i = 1; i <= count; i++) {
		char key[32];

		snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(tlog_append(t, 0, WAL_REC_PUT, key, value,
					     i == count ? last_value_len : (uint32_t)(i * 7 % 100),
					     (uint64_t)i),
				 0);
	}
	tlog_end(t);
}

/* A clean log replays whole, twice, without a cut. */
static void test_clean_log(void **state)
{
	struct disk *d = disk_fake_disk(*state);
	struct recovery_stats st;
	struct tlog t;

	write_records(d, 300, 10, &t); /* several segments */
	assert_true(t.last_seq > 2);
	assert_int_equal(replay_count(d, &repair, &st), 300);
	assert_int_equal(st.cuts, 0);
	assert_int_equal(st.segments, t.last_seq);
	assert_int_equal(st.lsn_max, 300);
	assert_int_equal(st.generation_max, 1);
	assert_int_equal(replay_count(d, &repair, &st), 300);
}

/* The last record torn at every byte offset, the rest of it zero (never
 * written) or garbage: recovery keeps every record before it, cuts exactly
 * at its offset, zeroes it on disk, and a second recovery is clean. */
static void test_torn_tail_every_offset(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t orig[SEG_BYTES], copy[SEG_BYTES], after[SEG_BYTES];
	struct recovery_stats st;
	struct tlog t;

	write_records(d, 20, 57, &t); /* last record: 32 + 6 + 57 = 95 -> 96 bytes */
	assert_int_equal(t.last_seq, 1);
	assert_int_equal(t.last_bytes, 96);
	assert_int_equal(disk_fake_read_file(f, SEG1, orig, sizeof(orig)), SEG_BYTES);
	for (int garbage = 0; garbage <= 1; garbage++) {
		for (uint32_t k = 0; k < t.last_bytes; k++) {
			bool expect_cut = garbage || k > 0;

			/* Zeros in the padding change nothing: it is zero. */
			if (!garbage && k >= t.last_bytes - 1)
				continue;

			memcpy(copy, orig, sizeof(copy));
			memset(copy + t.last_off + k, garbage ? 0xa5 : 0, t.last_bytes - k);
			assert_int_equal(disk_fake_write_file(f, SEG1, copy, sizeof(copy)), 0);
			assert_int_equal(replay_count(d, &repair, &st), 19);
			assert_int_equal(st.cuts, expect_cut ? 1 : 0);
			assert_int_equal(st.corrupt_mid_log, 0);
			if (expect_cut) {
				assert_int_equal(st.cut_offset, t.last_off);
				assert_int_equal(st.cut_sequence, 1);
				assert_true(st.bytes_cut > 0 && st.bytes_cut <= t.last_bytes);
			}
			assert_int_equal(disk_fake_read_file(f, SEG1, after, sizeof(after)), SEG_BYTES);
			assert_memory_equal(after, orig, t.last_off);
			for (uint64_t i = t.last_off; i < SEG_BYTES; i++)
				if (after[i] != 0)
					fail_msg("k=%u garbage=%d: byte %llu not zeroed", k, garbage,
						 (unsigned long long)i);
			assert_int_equal(replay_count(d, &repair, &st), 19);
			assert_int_equal(st.cuts, 0);
		}
	}
}

/* Without repair nothing is written: the same cut is reported again. */
static void test_read_only_leaves_disk(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t buf[SEG_BYTES];
	const struct recovery_options ro = {.repair = false};
	struct recovery_stats st;
	struct tlog t;
	uint64_t writes;

	write_records(d, 10, 30, &t);
	assert_int_equal(disk_fake_read_file(f, SEG1, buf, sizeof(buf)), SEG_BYTES);
	buf[t.last_off + 40] ^= 1;
	assert_int_equal(disk_fake_write_file(f, SEG1, buf, sizeof(buf)), 0);
	writes = disk_fake_calls(f, DISK_OP_PWRITE);
	assert_int_equal(replay_count(d, &ro, &st), 9);
	assert_int_equal(st.cuts, 1);
	assert_int_equal(st.cut_reason, WAL_DECODE_BAD);
	assert_int_equal(replay_count(d, &ro, &st), 9);
	assert_int_equal(st.cuts, 1);
	assert_int_equal(disk_fake_calls(f, DISK_OP_PWRITE), writes);
}

/* A power cut drops what was written after the last fdatasync: recovery
 * replays exactly the synced records. */
static void test_power_cut(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct recovery_stats st;
	struct tlog t;

	assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, 1), 0);
	t.sync_each = false;
	for (int i = 1; i <= 50; i++) {
		char key[32];

		snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(tlog_append(&t, 0, WAL_REC_PUT, key, "v", 1, (uint64_t)i), 0);
		if (i == 30)
			assert_int_equal(tlog_sync(&t, 0), 0);
	}
	tlog_end(&t);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	assert_int_equal(replay_count(d, &repair, &st), 30);
	assert_int_equal(st.cuts, 0); /* the unsynced part reads as zeros: a clean end */
}

/* Damage in a segment that a later segment of the same log follows is
 * corruption, not a torn tail: refused unless allowed; when allowed, the
 * log is cut there and its later segments are dropped for good. */
static void test_damage_inside_log(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t buf[SEG_BYTES];
	const struct recovery_options allow = {.repair = true, .allow_mid_log_cut = true};
	struct recovery_stats st;
	struct tlog t;
	int before;

	write_records(d, 300, 10, &t);
	assert_true(t.last_seq >= 3);
	assert_int_equal(disk_fake_read_file(f, SEG1, buf, sizeof(buf)), SEG_BYTES);
	buf[WAL_SEGMENT_DATA_OFFSET + 200] ^= 0x40; /* inside the 3rd or 4th record */
	assert_int_equal(disk_fake_write_file(f, SEG1, buf, sizeof(buf)), 0);
	assert_int_equal(replay_count(d, &repair, &st), -EUCLEAN);
	assert_int_equal(st.corrupt_mid_log, 1);
	before = replay_count(d, &allow, &st);
	assert_true(before >= 2 && before <= 4);
	assert_int_equal(st.segments_dropped, t.last_seq - 1);
	assert_int_equal(replay_count(d, &repair, &st), before);
	assert_int_equal(st.cuts, 0);
	assert_int_equal(st.segments_invalid, t.last_seq - 1);
}

/* A segment of a format this version does not know stops recovery. */
static void test_newer_format_refused(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t buf[SEG_BYTES];
	struct wal_segment_header h;
	struct recovery *r;
	struct tlog t;

	write_records(d, 5, 5, &t);
	assert_int_equal(disk_fake_read_file(f, SEG1, buf, sizeof(buf)), SEG_BYTES);
	memcpy(&h, buf, sizeof(h));
	h.format = WAL_SEGMENT_FORMAT + 1;
	h.checksum = XXH3_64bits(&h, offsetof(struct wal_segment_header, checksum));
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(disk_fake_write_file(f, SEG1, buf, sizeof(buf)), 0);
	assert_int_equal(recovery_open(&r, d, "dd/wal", &repair), -EPROTO);
}

#define KEYS 300
struct model {
	char value[KEYS][32]; /* "" = absent */
};

static int key_index(const struct wal_record *rec)
{
	char key[16];
	int i;

	assert_true(rec->key_len < sizeof(key));
	memcpy(key, rec->key, rec->key_len);
	key[rec->key_len] = '\0';
	assert_int_equal(sscanf(key, "k%d", &i), 1);
	assert_true(i >= 0 && i < KEYS);
	return i;
}

/* Three generations with 2, then 1, then 3 workers, each key logged by the
 * worker owning its region (region mod workers), LSNs continuing above the
 * previous maximum: replay leaves every key with its last written value
 * (or absent after a last delete). Segments are small, so logs roll over. */
static void test_replay_across_generations(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static const uint16_t workers_of_gen[] = {2, 1, 3};
	uint64_t seed = we_test_seed("recovery generations", 11);
	uint64_t rng = seed;
	static struct model expect, got;
	uint64_t lsn_max = 0;
	struct recovery *r;
	struct wal_record rec;
	int rc;

	memset(&expect, 0, sizeof(expect));
	memset(&got, 0, sizeof(got));
	for (uint64_t g = 1; g <= 3; g++) {
		uint16_t nw = workers_of_gen[g - 1];
		uint64_t next_lsn[3];
		struct tlog t;

		for (int w = 0; w < nw; w++)
			next_lsn[w] = lsn_max + 1;
		assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, g), 0);
		t.sync_each = false;
		for (int op = 0; op < 1500; op++) {
			int k = (int)(we_test_rand(&rng) % KEYS);
			char key[16];
			char value[32];
			uint16_t w;
			bool del = we_test_rand(&rng) % 5 == 0;

			snprintf(key, sizeof(key), "k%d", k);
			w = (uint16_t)(keyhash_region(keyhash(key, strlen(key))) % nw);
			snprintf(value, sizeof(value), "g%llu-op%d", (unsigned long long)g, op);
			assert_int_equal(tlog_append(&t, w, del ? WAL_REC_DELETE : WAL_REC_PUT, key,
						     value, del ? 0 : (uint32_t)strlen(value),
						     next_lsn[w]++),
					 0);
			strcpy(expect.value[k], del ? "" : value);
		}
		for (int w = 0; w < nw; w++) {
			assert_int_equal(tlog_sync(&t, (uint16_t)w), 0);
			if (next_lsn[w] - 1 > lsn_max)
				lsn_max = next_lsn[w] - 1;
		}
		tlog_end(&t);
	}

	assert_int_equal(recovery_open(&r, d, "dd/wal", &repair), 0);
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		int k = key_index(&rec);

		if (rec.type == WAL_REC_DELETE) {
			got.value[k][0] = '\0';
		} else {
			memcpy(got.value[k], rec.value, rec.value_len);
			got.value[k][rec.value_len] = '\0';
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(recovery_stats(r)->records_replayed, 4500);
	assert_int_equal(recovery_stats(r)->generation_max, 3);
	assert_int_equal(recovery_stats(r)->lsn_max, lsn_max);
	assert_true(recovery_stats(r)->segments > 6);
	recovery_close(r);
	for (int k = 0; k < KEYS; k++)
		if (strcmp(expect.value[k], got.value[k]) != 0)
			fail_msg("key k%d: expected '%s', replay gave '%s' (WE_TEST_SEED=%llu)", k,
				 expect.value[k], got.value[k], (unsigned long long)seed);
}

/* A recycled segment replays only its new records (it was zeroed when
 * retired) and no cut is reported at their end. */
static void test_recycled_segment_old_content(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct recovery_stats st;
	struct tlog t;

	/* Generation 1: worker 0's segment 1 holds 100 records. */
	write_records(d, 100, 10, &t);
	assert_int_equal(t.last_seq, 1);
	/* Retired (as after a checkpoint), then reused in generation 2 by
	 * worker 1 for two newer records, and after that by worker 0. */
	assert_int_equal(wal_segment_retire(&t.sd, 0, 1), 0);
	assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, 2), 0);
	assert_int_equal(t.sd.spares, 1);
	assert_int_equal(tlog_append(&t, 1, WAL_REC_PUT, "key-1", "x", 1, 1000), 0);
	assert_int_equal(tlog_append(&t, 1, WAL_REC_PUT, "key-2", "x", 1, 1001), 0);
	tlog_end(&t);
	assert_int_equal(t.sd.segments_reused, 1);
	assert_int_equal(count_records(d, &st), 2);
	assert_int_equal(st.cuts, 0);
	assert_int_equal(st.lsn_max, 1001);

	assert_int_equal(wal_segment_retire(&t.sd, 1, 1), 0);
	assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, 3), 0);
	assert_int_equal(tlog_append(&t, 0, WAL_REC_PUT, "key-1", "y", 1, 2000), 0);
	tlog_end(&t);
	assert_int_equal(t.sd.segments_reused, 1);
	assert_int_equal(count_records(d, &st), 1);
	assert_int_equal(st.lsn_max, 2000);
	assert_int_equal(st.cuts, 0);
}

/* Appends a record claiming (worker, lsn) behind the log of segment s. */
static void append_raw(struct disk *d, struct wal_segment *s, uint16_t worker, uint64_t lsn)
{
	static uint64_t buf[16];
	struct wal_record r = {.type = WAL_REC_PUT, .worker = worker, .lsn = lsn, .key = "old",
			       .key_len = 3, .value = "x", .value_len = 1};
	int64_t n = wal_record_encode(buf, sizeof(buf), &r);

	assert_true(n > 0);
	assert_int_equal(disk_pwrite_all(d, s->fd, buf, (size_t)n, s->write_off), 0);
	assert_int_equal(disk_fdatasync(d, s->fd), 0);
}

/* Valid records that are not the segment's (another worker's, or an LSN
 * that does not grow: what a recycled file could hold) end its log
 * cleanly: not replayed, not cut. */
static void test_foreign_records_end_segment(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct recovery_stats st;
	struct tlog t;

	assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, 1), 0);
	assert_int_equal(tlog_append(&t, 1, WAL_REC_PUT, "key-1", "x", 1, 100), 0);
	assert_int_equal(tlog_append(&t, 1, WAL_REC_PUT, "key-2", "x", 1, 101), 0);
	append_raw(d, &t.seg[1], 0, 102);
	assert_int_equal(tlog_append(&t, 2, WAL_REC_PUT, "key-1", "x", 1, 100), 0);
	append_raw(d, &t.seg[2], 2, 100);
	tlog_end(&t);
	assert_int_equal(count_records(d, &st), 3);
	assert_int_equal(st.cuts, 0);
	assert_int_equal(st.lsn_max, 101);
}

/* ---- what a loaded checkpoint covers (recovery_options.covered_*) ---- */

#define CV_RECORDS 2400
#define CV_SEGS 256

/* One record of the logs below, where it was written. */
struct cv_rec {
	uint64_t generation;
	uint16_t worker;
	uint64_t lsn;
	uint64_t seq;
};

struct cv_log {
	struct cv_rec rec[CV_RECORDS];
	int n;
};

/* Generation 1: worker 0, LSNs 1..200. Generation 2: workers 0 and 1, LSNs
 * 201..600 each. Values of 0..99 bytes, so 16 KiB segments roll over. */
static void cv_write(struct disk *d, struct cv_log *lg)
{
	static uint8_t value[128];

	memset(value, 'c', sizeof(value));
	lg->n = 0;
	for (uint64_t g = 1; g <= 2; g++) {
		struct tlog t;

		assert_int_equal(tlog_begin(&t, d, "dd/wal", SEG_BYTES, g), 0);
		t.sync_each = false;
		for (uint16_t w = 0; w < (g == 1 ? 1 : 2); w++) {
			for (uint64_t lsn = g == 1 ? 1 : 201; lsn <= (g == 1 ? 200u : 600u); lsn++) {
				char key[48];

				snprintf(key, sizeof(key), "g%llu-w%u-%llu", (unsigned long long)g, w,
					 (unsigned long long)lsn);
				assert_int_equal(tlog_append(&t, w, WAL_REC_PUT, key, value,
							     (uint32_t)(lsn * 37 % 100), lsn),
						 0);
				assert_true(lg->n < CV_RECORDS);
				lg->rec[lg->n++] = (struct cv_rec){.generation = g, .worker = w,
								   .lsn = lsn, .seq = t.last_seq};
			}
			assert_int_equal(tlog_sync(&t, w), 0);
		}
		tlog_end(&t);
	}
}

/* What the options should make of the logs, from recovery.h's words. */
struct cv_expect {
	uint64_t replayed, covered, segments_covered, segments, lsn_max;
};

static uint64_t cv_cov(const struct recovery_options *o, uint16_t w)
{
	return w < o->covered_workers ? o->covered_lsn[w] : 0;
}

static bool cv_rec_covered(const struct recovery_options *o, const struct cv_rec *r)
{
	return o->covered_generation != 0 &&
	       (r->generation < o->covered_generation ||
		(r->generation == o->covered_generation && r->lsn <= cv_cov(o, r->worker)));
}

/* Segment (g, w, seq) is skipped whole: an older generation, or the
 * checkpoint's and the next segment of its log begins at or below the
 * covered LSN + 1 (it holds nothing later). */
static bool cv_seg_covered(const struct cv_log *lg, const struct recovery_options *o,
			   const struct cv_rec *first)
{
	if (o->covered_generation == 0 || first->generation > o->covered_generation)
		return false;
	if (first->generation < o->covered_generation)
		return true;
	for (int i = 0; i < lg->n; i++)
		if (lg->rec[i].generation == first->generation &&
		    lg->rec[i].worker == first->worker && lg->rec[i].seq == first->seq + 1)
			return lg->rec[i].lsn <= cv_cov(o, first->worker) + 1;
	return false;
}

static void cv_expected(const struct cv_log *lg, const struct recovery_options *o,
			struct cv_expect *e)
{
	memset(e, 0, sizeof(*e));
	for (int i = 0; i < lg->n; i++) {
		const struct cv_rec *r = &lg->rec[i];
		bool first = i == 0 || lg->rec[i - 1].seq != r->seq ||
			     lg->rec[i - 1].worker != r->worker;
		int j = i;

		while (j > 0 && lg->rec[j - 1].seq == r->seq && lg->rec[j - 1].worker == r->worker)
			j--;
		if (first)
			e->segments++;
		if (cv_seg_covered(lg, o, &lg->rec[j])) {
			if (first)
				e->segments_covered++;
			continue;
		}
		if (r->lsn > e->lsn_max)
			e->lsn_max = r->lsn;
		if (cv_rec_covered(o, r))
			e->covered++;
		else
			e->replayed++;
	}
}

/* Recovery with o: the records replayed are exactly the uncovered ones,
 * in replay order (generation, worker, LSN); the counts as expected.
 * Returns bytes_read. */
static uint64_t cv_check(struct disk *d, const struct cv_log *lg, const struct recovery_options *o)
{
	struct cv_expect e;
	struct recovery *r;
	struct wal_record rec;
	const struct recovery_stats *st;
	uint64_t bytes;
	int i = 0;
	int rc;

	cv_expected(lg, o, &e);
	assert_int_equal(recovery_open(&r, d, "dd/wal", o), 0);
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		char key[48];
		int n;

		while (i < lg->n && cv_rec_covered(o, &lg->rec[i]))
			i++;
		assert_true(i < lg->n);
		n = snprintf(key, sizeof(key), "g%llu-w%u-%llu",
			     (unsigned long long)lg->rec[i].generation, lg->rec[i].worker,
			     (unsigned long long)lg->rec[i].lsn);
		assert_int_equal(rec.lsn, lg->rec[i].lsn);
		assert_int_equal(rec.worker, lg->rec[i].worker);
		assert_int_equal(rec.key_len, n);
		assert_memory_equal(rec.key, key, (size_t)n);
		i++;
	}
	assert_int_equal(rc, 0);
	while (i < lg->n && cv_rec_covered(o, &lg->rec[i]))
		i++;
	assert_int_equal(i, lg->n);
	st = recovery_stats(r);
	assert_int_equal(st->segments, e.segments);
	assert_int_equal(st->records_replayed, e.replayed);
	assert_int_equal(st->records_covered, e.covered);
	assert_int_equal(st->segments_covered, e.segments_covered);
	assert_int_equal(st->lsn_max, e.lsn_max);
	assert_int_equal(st->cuts, 0);
	/* Skipped segments are not read at all. */
	assert_int_equal(st->bytes_read, (e.segments - e.segments_covered) * SEG_BYTES);
	bytes = st->bytes_read;
	recovery_close(r);
	return bytes;
}

/* The last LSN of worker w's segment seq in generation g. */
static uint64_t cv_seg_last(const struct cv_log *lg, uint64_t g, uint16_t w, uint64_t seq)
{
	uint64_t last = 0;

	for (int i = 0; i < lg->n; i++)
		if (lg->rec[i].generation == g && lg->rec[i].worker == w && lg->rec[i].seq == seq)
			last = lg->rec[i].lsn;
	return last;
}

/* covered_generation/covered_lsn: records of older generations and those
 * at or below the covered LSN of the same generation are skipped, whole
 * segments whose successor shows them covered are not read (fewer bytes),
 * the rest replays in order with lsn_max of what was read; a worker beyond
 * covered_workers replays everything. Covered LSNs around a segment
 * boundary, below the generation's first LSN, at and beyond its last. */
static void test_covered_by_checkpoint(void **state)
{
	struct disk *d = disk_fake_disk(*state);
	static struct cv_log lg;
	const struct recovery_options none = {.repair = true};
	uint64_t all_bytes, b;
	uint64_t boundary;
	struct cv_expect e;

	cv_write(d, &lg);
	all_bytes = cv_check(d, &lg, &none);
	cv_expected(&lg, &none, &e);
	assert_true(e.segments > 8);
	assert_int_equal(e.replayed, 1000);
	assert_int_equal(e.lsn_max, 600);

	/* A boundary in generation 2, worker 0: the last LSN of its second
	 * segment. */
	{
		uint64_t first_seq = 0;

		for (int i = 0; i < lg.n; i++)
			if (lg.rec[i].generation == 2 && lg.rec[i].worker == 0) {
				first_seq = lg.rec[i].seq;
				break;
			}
		boundary = cv_seg_last(&lg, 2, 0, first_seq + 1);
		assert_true(boundary > 201 && boundary < 600);
	}
	{
		const uint64_t cases[][2] = {
			{boundary, 0},     {boundary - 1, 0}, {boundary + 1, 0},
			{150, 0},          {200, 0},          {600, 0},
			{1000, 0},         {boundary, 300},   {450, boundary + 1},
			{600, 600},        {1000, 1000},
		};

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			for (uint16_t workers = 1; workers <= 2; workers++) {
				struct recovery_options o = {.repair = true,
							     .covered_generation = 2,
							     .covered_workers = workers,
							     .covered_lsn = cases[c]};

				cv_expected(&lg, &o, &e);
				b = cv_check(d, &lg, &o);
				/* Generation 1 is never read. */
				assert_true(e.segments_covered >= 2);
				assert_true(b < all_bytes);
			}
		}
	}
	/* Exactly on the boundary, worker 0's first two segments of
	 * generation 2 are skipped whole; one LSN less, only the first. */
	{
		uint64_t cov[1] = {boundary};
		struct recovery_options o = {.repair = true, .covered_generation = 2,
					     .covered_workers = 1, .covered_lsn = cov};
		struct cv_expect e2;

		cv_expected(&lg, &o, &e);
		cov[0] = boundary - 1;
		cv_expected(&lg, &o, &e2);
		assert_int_equal(e.segments_covered, e2.segments_covered + 1);
		assert_int_equal(e.covered, 0);
		assert_true(e2.covered > 0);
	}
	/* Everything read is covered: lsn_max is still that of the records
	 * read (each log's last segment is read, nothing follows it). */
	{
		const uint64_t cov[2] = {600, 600};
		struct recovery_options o = {.repair = true, .covered_generation = 2,
					     .covered_workers = 2, .covered_lsn = cov};

		cv_expected(&lg, &o, &e);
		assert_int_equal(e.replayed, 0);
		assert_true(e.covered > 0);
		assert_int_equal(e.lsn_max, 600);
	}
	/* A checkpoint of generation 1 covers only generation 1's records up
	 * to its LSN; generation 2 replays whole, worker 1's too. */
	{
		const uint64_t cov[2] = {120, 120};
		struct recovery_options o = {.repair = true, .covered_generation = 1,
					     .covered_workers = 2, .covered_lsn = cov};

		cv_expected(&lg, &o, &e);
		assert_int_equal(e.replayed, 80 + 800);
		cv_check(d, &lg, &o);
	}
	/* A later generation's checkpoint covers every segment here, each
	 * log's last one too: nothing is read, nothing replayed, lsn_max 0
	 * (the caller takes the checkpoint's own LSNs into account). */
	{
		const uint64_t cov[2] = {5, 5};
		struct recovery_options o = {.repair = true, .covered_generation = 3,
					     .covered_workers = 2, .covered_lsn = cov};

		cv_expected(&lg, &o, &e);
		assert_int_equal(e.replayed, 0);
		assert_int_equal(e.segments_covered, e.segments);
		cv_check(d, &lg, &o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_leaves_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_inside_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_format_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_across_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recycled_segment_old_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_records_end_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_covered_by_checkpoint, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
