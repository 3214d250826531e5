/* test_checkpoint.c - checkpoint part files (storage/checkpoint.c) against
 * the fake disk: the chunk encoder, part round trips, every truncation of
 * a part detected as incomplete, every flipped byte detected, faults and
 * power cuts while a part is written, whole-checkpoint verification. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "disk_fake.h"
#include "keyhash.h"

#define CHUNK_BYTES 4096u
#define CKDIR "dd/checkpoints/ckpt-000000000001"
#define PART0 CKDIR "/part-00.ckpt"

static uint64_t chunk_mem[CKPT_CHUNK_RAW_MAX / 8 / 64]; /* 512 KiB, 8-aligned */

static int setup(void **state)
{
	struct disk_fake *f = disk_fake_create();

	if (f == NULL || disk_mkdir(disk_fake_disk(f), "dd") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	disk_fake_destroy(*state);
	return 0;
}

/* Item i of a test part: key "k<worker>-<i>", value of i % 300 bytes (byte
 * i & 0xff, so it compresses), LSN 1000 + i. */
static struct wal_record item_of(uint16_t worker, uint32_t i, char *key, uint8_t *value)
{
	struct wal_record r = {.type = WAL_REC_PUT, .worker = worker, .lsn = 1000 + i};

	snprintf(key, 32, "k%u-%u", worker, i);
	r.key = key;
	r.key_len = (uint32_t)strlen(key);
	r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
	r.value_len = i % 300;
	memset(value, (int)(i & 0xff), r.value_len);
	r.value = value;
	return r;
}

/* Ids are never reused by the library; the tests rewrite checkpoint 1. */
static void remove_part(struct disk *d, uint16_t worker)
{
	char path[DISK_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), CKDIR "/part-%02u.ckpt", worker);
	rc = disk_unlink(d, path);
	assert_true(rc == 0 || rc == -ENOENT);
}

/* Writes part `worker` of checkpoint 1 with n items through chunks of
 * CHUNK_BYTES; finishes it when finish is set. Returns the trailer. */
static struct ckpt_part_trailer write_part(struct disk *d, uint16_t worker, uint16_t workers,
					   uint32_t n, bool finish)
{
	struct ckpt_part_header h = {.worker = worker, .worker_count = workers,
				     .checkpoint_id = 1, .generation = 3, .start_lsn = 999,
				     .chunk_raw_max = CHUNK_BYTES};
	struct ckpt_part_trailer t = {0};
	struct ckpt_chunk c;
	struct ckpt_part *p;
	char dir[DISK_PATH_MAX];
	char key[32];
	uint8_t value[300];

	assert_int_equal(ckpt_begin(d, "dd/checkpoints", 1, dir), 0);
	assert_string_equal(dir, CKDIR);
	remove_part(d, worker);
	assert_int_equal(ckpt_part_create(&p, d, dir, &h), 0);
	ckpt_chunk_init(&c, chunk_mem, CHUNK_BYTES, worker);
	for (uint32_t i = 0; i < n; i++) {
		struct wal_record r = item_of(worker, i, key, value);
		int rc = ckpt_chunk_add(&c, &r);

		if (rc == -ENOSPC) {
			assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
			ckpt_chunk_reset(&c);
			rc = ckpt_chunk_add(&c, &r);
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
	if (finish)
		assert_int_equal(ckpt_part_finish(p, &t), 0);
	else
		ckpt_part_abort(p);
	return t;
}

/* Reads the part at path and checks it holds items 0 .. n-1 of worker. */
static void check_part(struct disk *d, const char *path, uint16_t worker, uint32_t n)
{
	struct ckpt_reader *r;
	struct wal_record got;
	char err[CKPT_ERR_MAX];
	char key[32];
	uint8_t value[300];
	uint32_t i = 0;
	int rc;

	assert_int_equal(ckpt_reader_open(&r, d, path, err, sizeof(err)), 0);
	assert_int_equal(ckpt_reader_header(r)->worker, worker);
	assert_int_equal(ckpt_reader_header(r)->checkpoint_id, 1);
	assert_int_equal(ckpt_reader_header(r)->generation, 3);
	assert_int_equal(ckpt_reader_header(r)->start_lsn, 999);
	assert_int_equal(ckpt_reader_trailer(r)->items, n);
	while ((rc = ckpt_reader_next(r, &got, err, sizeof(err))) == 1) {
		struct wal_record want = item_of(worker, i, key, value);

		assert_int_equal(got.type, WAL_REC_PUT);
		assert_int_equal(got.worker, worker);
		assert_int_equal(got.lsn, want.lsn);
		assert_int_equal(got.region, want.region);
		assert_int_equal(got.key_len, want.key_len);
		assert_memory_equal(got.key, want.key, want.key_len);
		assert_int_equal(got.value_len, want.value_len);
		if (want.value_len > 0)
			assert_memory_equal(got.value, want.value, want.value_len);
		i++;
	}
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(i, n);
	ckpt_reader_close(r);
}

/* The encoder writes verifiable WAL PUT records of the chunk's worker,
 * refuses with -ENOSPC when full (and changes nothing), -EMSGSIZE for an
 * item no chunk of this size holds, -EINVAL for one the format cannot
 * carry. */
static void test_chunk_encoder(void **state)
{
	struct wal_record r = {.type = WAL_REC_DELETE, .worker = 9, .lsn = 5, .key = "abc",
			       .key_len = 3, .value = "xyz", .value_len = 3, .region = 7};
	struct wal_record out;
	struct ckpt_chunk c;
	uint32_t bytes;
	uint32_t used;
	uint32_t n = 0;
	static uint8_t big[8192];

	(void)state;
	ckpt_chunk_init(&c, chunk_mem, CHUNK_BYTES, 2);
	while (ckpt_chunk_add(&c, &r) == 0)
		n++;
	assert_int_equal(n, CHUNK_BYTES / wal_record_size(3, 3));
	assert_int_equal(c.records, n);
	used = c.used;
	assert_int_equal(ckpt_chunk_add(&c, &r), -ENOSPC);
	assert_int_equal(c.used, used);
	assert_int_equal(wal_record_decode(c.buf, c.used, &out, &bytes), WAL_DECODE_OK);
	assert_int_equal(out.type, WAL_REC_PUT);
	assert_int_equal(out.worker, 2);
	assert_int_equal(out.lsn, 5);
	assert_int_equal(out.region, 7);
	ckpt_chunk_reset(&c);
	assert_int_equal(c.used, 0);
	r.value = big;
	r.value_len = sizeof(big);
	assert_int_equal(ckpt_chunk_add(&c, &r), -EMSGSIZE);
	r.value_len = 3;
	r.key_len = 0;
	assert_int_equal(ckpt_chunk_add(&c, &r), -EINVAL);
	r.key_len = 3;
	r.lsn = WAL_LSN_MAX + 1;
	assert_int_equal(ckpt_chunk_add(&c, &r), -EINVAL);
	r.lsn = 5;
	r.region = WAL_REGIONS;
	assert_int_equal(ckpt_chunk_add(&c, &r), -EINVAL);
	assert_int_equal(c.used, 0);
}

/* Header and trailer round trip; a flipped bit or another format is
 * refused. Names round trip. */
static void test_header_trailer_names(void **state)
{
	struct ckpt_part_header h = {.format = CKPT_FORMAT, .worker = 1, .worker_count = 3,
				     .checkpoint_id = 42, .generation = 7, .start_lsn = 12345,
				     .chunk_raw_max = CHUNK_BYTES};
	struct ckpt_part_trailer t = {.items = 1, .chunks = 2, .raw_bytes = 3,
				      .trailer_offset = 4, .chunks_checksum = 5,
				      .checkpoint_id = 42};
	struct ckpt_part_header h2;
	struct ckpt_part_trailer t2;
	uint8_t buf[64];
	char name[CKPT_DIR_NAME_MAX];
	uint64_t id;

	(void)state;
	ckpt_part_header_encode(buf, &h);
	assert_int_equal(ckpt_part_header_decode(buf, sizeof(buf), &h2), 0);
	assert_int_equal(h2.format, CKPT_FORMAT);
	assert_int_equal(h2.worker, 1);
	assert_int_equal(h2.worker_count, 3);
	assert_int_equal(h2.checkpoint_id, 42);
	assert_int_equal(h2.generation, 7);
	assert_int_equal(h2.start_lsn, 12345);
	assert_int_equal(h2.chunk_raw_max, CHUNK_BYTES);
	buf[20] ^= 1;
	assert_int_equal(ckpt_part_header_decode(buf, sizeof(buf), &h2), -EINVAL);
	h.format = 2;
	ckpt_part_header_encode(buf, &h);
	assert_int_equal(ckpt_part_header_decode(buf, sizeof(buf), &h2), -EPROTO);
	ckpt_part_trailer_encode(buf, &t);
	assert_int_equal(ckpt_part_trailer_decode(buf, sizeof(buf), &t2), 0);
	assert_memory_equal(&t, &t2, sizeof(t));
	buf[63] ^= 0x80;
	assert_int_equal(ckpt_part_trailer_decode(buf, sizeof(buf), &t2), -EINVAL);
	ckpt_dir_name(name, sizeof(name), 42);
	assert_string_equal(name, "ckpt-000000000042");
	assert_int_equal(ckpt_dir_parse(name, &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(ckpt_dir_parse("ckpt-00000000004x", &id), -EINVAL);
	assert_int_equal(ckpt_dir_parse("ckpt-42", &id), -EINVAL);
	ckpt_part_name(name, sizeof(name), 3);
	assert_string_equal(name, "part-03.ckpt");
}

/* A part of 2000 items in many chunks reads back item for item, its
 * trailer counts them, and the part verifies; an empty part too. */
static void test_part_round_trip(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_part_trailer t = write_part(d, 0, 1, 2000, true);
	struct ckpt_part_trailer t2;
	char err[CKPT_ERR_MAX];

	assert_int_equal(t.items, 2000);
	assert_true(t.chunks > 10);
	check_part(d, PART0, 0, 2000);
	assert_int_equal(ckpt_part_verify(d, PART0, NULL, &t2, err, sizeof(err)), 0);
	assert_memory_equal(&t, &t2, sizeof(t));
	/* Compressed: the values repeat one byte. */
	assert_true(t.trailer_offset < t.raw_bytes / 2);
	/* The fdatasyncs: chunks, then trailer. */
	assert_int_equal(disk_fake_calls(f, DISK_OP_FDATASYNC), 2);

	t = write_part(d, 0, 1, 0, true);
	assert_int_equal(t.items, 0);
	assert_int_equal(t.chunks, 0);
	check_part(d, PART0, 0, 0);
}

static uint8_t image[1 << 20];

/* Cut the finished part at every length from 0 to its size - 1: each is
 * reported incomplete (-ENODATA), never as bad or as good. */
static void test_every_truncation_incomplete(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_part_trailer t = write_part(d, 0, 1, 300, true);
	int64_t size = disk_fake_read_file(f, PART0, image, sizeof(image));
	char err[CKPT_ERR_MAX];

	assert_int_equal(size, (int64_t)t.trailer_offset + CKPT_TRAILER_BYTES);
	for (int64_t len = 0; len < size; len++) {
		assert_int_equal(disk_fake_write_file(f, PART0, image, (uint64_t)len), 0);
		int rc = ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err));

		if (rc != -ENODATA)
			fail_msg("length %lld: %d %s", (long long)len, rc, err);
		assert_non_null(strstr(err, "incomplete"));
	}
	assert_int_equal(disk_fake_write_file(f, PART0, image, (uint64_t)size), 0);
	assert_int_equal(ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err)), 0);
}

/* Flip each byte of the finished part in turn: a header or chunk byte
 * makes the part bad (-EUCLEAN, naming the offset or chunk), a trailer
 * byte makes it incomplete. No flip goes unnoticed. */
static void test_every_flipped_byte_detected(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_part_trailer t = write_part(d, 0, 1, 120, true);
	int64_t size = disk_fake_read_file(f, PART0, image, sizeof(image));
	char err[CKPT_ERR_MAX];

	assert_true(t.chunks >= 2);
	for (int64_t off = 0; off < size; off++) {
		int rc;

		image[off] ^= 0x20;
		assert_int_equal(disk_fake_write_file(f, PART0, image, (uint64_t)size), 0);
		rc = ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err));
		image[off] ^= 0x20;
		if (off >= (int64_t)t.trailer_offset)
			assert_int_equal(rc, -ENODATA);
		else if (rc != -EUCLEAN)
			fail_msg("offset %lld: %d %s", (long long)off, rc, err);
		if (off >= CKPT_HEADER_BYTES && off < (int64_t)t.trailer_offset)
			assert_non_null(strstr(err, "chunk"));
	}
}

/* Faults while finishing: the first fdatasync failing leaves no trailer;
 * the second failing, then a power cut, leaves the part incomplete (or,
 * torn, whole: never bad); a cut before finish leaves it incomplete; a cut
 * after a finish keeps it complete; a failed chunk write sticks. */
static void test_faults_and_power_cuts(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_part_header h = {.worker = 0, .worker_count = 1, .checkpoint_id = 1,
				     .generation = 3, .start_lsn = 999,
				     .chunk_raw_max = CHUNK_BYTES};
	char err[CKPT_ERR_MAX];
	char key[32];
	uint8_t value[300];
	struct ckpt_chunk c;
	struct ckpt_part *p;
	char dir[DISK_PATH_MAX];
	int rc;

	for (uint32_t nth = 1; nth <= 2; nth++) {
		for (int how = 0; how < 2; how++) {
			assert_int_equal(ckpt_begin(d, "dd/checkpoints", 1, dir), 0);
			remove_part(d, 0);
			assert_int_equal(ckpt_part_create(&p, d, dir, &h), 0);
			ckpt_chunk_init(&c, chunk_mem, CHUNK_BYTES, 0);
			for (uint32_t i = 0; i < 40; i++) {
				struct wal_record r = item_of(0, i, key, value);

				if (ckpt_chunk_add(&c, &r) == -ENOSPC) {
					assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
					ckpt_chunk_reset(&c);
					assert_int_equal(ckpt_chunk_add(&c, &r), 0);
				}
			}
			assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
			disk_fake_fail(f, DISK_OP_FDATASYNC, nth, -EIO, 1);
			assert_int_equal(ckpt_part_finish(p, NULL), -EIO);
			disk_fake_clear_faults(f);
			assert_int_equal(ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err)),
					 nth == 1 ? -ENODATA : 0);
			disk_fake_cut(f, how ? DISK_CUT_TORN_SECTORS : DISK_CUT_DROP_UNSYNCED,
				      nth * 7 + (uint64_t)how);
			rc = ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err));
			/* The chunks were synced when the trailer's sync failed: a
			 * torn cut may keep the trailer, and the part is whole. */
			if (nth == 2 && how == 1 && rc == 0)
				continue;
			/* Incomplete, or gone: the part's name becomes durable only
			 * when finish syncs the folder. */
			if (rc != -ENODATA && rc != -ENOENT)
				fail_msg("fdatasync %u failed, cut %d: %d %s", nth, how, rc, err);
		}
	}
	/* A cut before finish: incomplete, or gone with its unsynced name. */
	write_part(d, 0, 1, 500, false);
	disk_fake_cut(f, DISK_CUT_TORN_SECTORS, 99);
	rc = ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err));
	assert_true(rc == -ENODATA || rc == -ENOENT);
	/* A short write while a chunk goes out: the error sticks, the part
	 * is incomplete. */
	write_part(d, 0, 1, 500, true);
	disk_fake_cut(f, DISK_CUT_TORN_SECTORS, 5);
	check_part(d, PART0, 0, 500);
	assert_int_equal(ckpt_part_create(&p, d, dir, &h), -EEXIST);
	remove_part(d, 0);
	disk_fake_fail(f, DISK_OP_PWRITE, 2, -ENOSPC, DISK_FAKE_FAIL_FOREVER);
	assert_int_equal(ckpt_part_create(&p, d, dir, &h), 0);
	ckpt_chunk_init(&c, chunk_mem, CHUNK_BYTES, 0);
	{
		struct wal_record r = item_of(0, 1, key, value);

		assert_int_equal(ckpt_chunk_add(&c, &r), 0);
	}
	assert_int_equal(ckpt_part_write_chunk(p, &c), -ENOSPC);
	disk_fake_clear_faults(f);
	assert_int_equal(ckpt_part_write_chunk(p, &c), -ENOSPC);
	assert_int_equal(ckpt_part_finish(p, NULL), -ENOSPC);
	assert_int_equal(ckpt_part_verify(d, PART0, NULL, NULL, err, sizeof(err)), -ENODATA);
}

/* A checkpoint of three parts verifies as a whole and sums up per worker;
 * a missing part is incomplete; a part from another checkpoint is bad. */
static void test_verify_dir(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_summary s;
	char err[CKPT_ERR_MAX];

	for (uint16_t w = 0; w < 3; w++)
		write_part(d, w, 3, 100 + w, true);
	assert_int_equal(ckpt_verify_dir(d, CKDIR, &s, err, sizeof(err)), 0);
	assert_int_equal(s.checkpoint_id, 1);
	assert_int_equal(s.worker_count, 3);
	assert_int_equal(s.generation, 3);
	for (uint16_t w = 0; w < 3; w++) {
		assert_int_equal(s.items[w], 100 + w);
		assert_int_equal(s.start_lsn[w], 999);
		char path[DISK_PATH_MAX];

		snprintf(path, sizeof(path), CKDIR "/part-%02u.ckpt", w);
		check_part(d, path, w, 100 + w);
	}
	assert_int_equal(disk_unlink(d, CKDIR "/part-02.ckpt"), 0);
	assert_int_equal(ckpt_verify_dir(d, CKDIR, &s, err, sizeof(err)), -ENODATA);
	assert_non_null(strstr(err, "part-02.ckpt"));
	/* Part 2 written as a part of a two-worker checkpoint. */
	write_part(d, 1, 2, 10, true);
	assert_int_equal(disk_rename(d, CKDIR "/part-01.ckpt", CKDIR "/part-02.ckpt"), 0);
	write_part(d, 1, 3, 10, true);
	assert_int_equal(ckpt_verify_dir(d, CKDIR, &s, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "part-02.ckpt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_encoder),
		cmocka_unit_test(test_header_trailer_names),
		cmocka_unit_test_setup_teardown(test_part_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_flipped_byte_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_and_power_cuts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
