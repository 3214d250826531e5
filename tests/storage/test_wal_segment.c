/* test_wal_segment.c - segment names, headers, creation, recycling
 * (storage/wal_segment.c), against the fake disk. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "disk_fake.h"
#include "wal_segment.h"

#define SEG_BYTES (64u * 1024)

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

/* Names round-trip; other names are not taken for segments. */
static void test_names(void **state)
{
	char name[WAL_SEGMENT_NAME_MAX];
	uint16_t w;
	uint64_t seq;

	(void)state;
	wal_segment_name(name, sizeof(name), 7, 42);
	assert_string_equal(name, "w07-000000000042.log");
	assert_int_equal(wal_segment_parse_name(name, &w, &seq), 0);
	assert_int_equal(w, 7);
	assert_int_equal(seq, 42);
	assert_int_equal(wal_segment_parse_name("spare-000000000003.log", &w, &seq), 1);
	assert_int_equal(seq, 3);
	assert_int_equal(wal_segment_parse_name("w7-000000000042.log", &w, &seq), -EINVAL);
	assert_int_equal(wal_segment_parse_name("w07-00000000004x.log", &w, &seq), -EINVAL);
	assert_int_equal(wal_segment_parse_name("w07-000000000042.tmp", &w, &seq), -EINVAL);
}

/* A header round-trips; damage, another magic and another format are refused. */
static void test_header(void **state)
{
	struct wal_segment_header h = {
		.worker = 2, .sequence = 9, .generation = 4, .first_lsn = 1000,
		.segment_bytes = SEG_BYTES};
	struct wal_segment_header back;
	uint8_t buf[WAL_SEGMENT_HDR_BYTES];

	(void)state;
	wal_segment_header_encode(buf, &h);
	assert_memory_equal(buf, "WEWALSG1", 8);
	assert_int_equal(wal_segment_header_decode(buf, sizeof(buf), &back), 0);
	assert_int_equal(back.worker, 2);
	assert_int_equal(back.sequence, 9);
	assert_int_equal(back.generation, 4);
	assert_int_equal(back.first_lsn, 1000);
	assert_int_equal(back.segment_bytes, SEG_BYTES);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x10;
		assert_int_not_equal(wal_segment_header_decode(buf, sizeof(buf), &back), 0);
		buf[i] ^= 0x10;
	}
	h.segment_bytes = SEG_BYTES;
	wal_segment_header_encode(buf, &h);
	{
		struct wal_segment_header raw;

		memcpy(&raw, buf, sizeof(raw));
		raw.format = 2;
		raw.checksum = XXH3_64bits(&raw, offsetof(struct wal_segment_header, checksum));
		memcpy(buf, &raw, sizeof(raw));
	}
	assert_int_equal(wal_segment_header_decode(buf, sizeof(buf), &back), -EPROTO);
}

/* A new segment is allocated, zeroed, named durably and headed; sequences
 * go up per worker; a folder scan finds where to continue. */
static void test_open_new_and_scan(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct wal_segdir sd;
	struct wal_segment s1, s2, s3;
	struct wal_segment_header h;
	static uint8_t file[SEG_BYTES];

	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", 1000), -EINVAL);
	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", SEG_BYTES), 0);
	assert_int_equal(wal_segment_open_new(&sd, 0, 5, 100, &s1), 0);
	assert_int_equal(wal_segment_open_new(&sd, 0, 5, 200, &s2), 0);
	assert_int_equal(wal_segment_open_new(&sd, 3, 5, 1, &s3), 0);
	assert_int_equal(s1.sequence, 1);
	assert_int_equal(s2.sequence, 2);
	assert_int_equal(s3.sequence, 1);
	assert_int_equal(s1.write_off, WAL_SEGMENT_DATA_OFFSET);
	assert_int_equal(disk_fake_calls(f, DISK_OP_FSYNC_DIR), 3);
	assert_int_equal(disk_fake_read_file(f, "dd/wal/w00-000000000002.log", file, sizeof(file)),
			 SEG_BYTES);
	assert_int_equal(wal_segment_header_decode(file, sizeof(file), &h), 0);
	assert_int_equal(h.first_lsn, 200);
	assert_int_equal(h.generation, 5);
	for (size_t i = WAL_SEGMENT_HDR_BYTES; i < sizeof(file); i++)
		if (file[i] != 0)
			fail_msg("byte %zu of a new segment is not zero", i);
	wal_segment_close(&sd, &s1);
	wal_segment_close(&sd, &s2);
	wal_segment_close(&sd, &s3);

	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", SEG_BYTES), 0);
	assert_int_equal(sd.next_seq[0], 3);
	assert_int_equal(sd.next_seq[3], 2);
	assert_int_equal(sd.next_seq[1], 1);
	assert_int_equal(sd.spares, 0);
}

/* Retired segments come back as new ones by rename: after the first few,
 * no file is created, none is ever unlinked, and the folder is not listed. */
static void test_recycling_without_unlink(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct wal_segdir sd;
	uint64_t opens_after_warmup;
	uint64_t lists;

	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", SEG_BYTES), 0);
	assert_int_equal(wal_segment_make_spare(&sd), 0);
	assert_int_equal(wal_segment_make_spare(&sd), 0);
	assert_int_equal(sd.spares, 2);
	opens_after_warmup = disk_fake_calls(f, DISK_OP_FALLOCATE);
	lists = disk_fake_calls(f, DISK_OP_LIST);
	for (uint64_t i = 1; i <= 50; i++) {
		struct wal_segment s;

		assert_int_equal(wal_segment_open_new(&sd, 1, 1, i * 10, &s), 0);
		assert_int_equal(s.sequence, i);
		wal_segment_close(&sd, &s);
		if (i >= 2)
			assert_int_equal(wal_segment_retire(&sd, 1, i - 1), 0);
	}
	assert_int_equal(sd.segments_created, 2);
	assert_int_equal(sd.segments_reused, 50);
	assert_int_equal(disk_fake_calls(f, DISK_OP_FALLOCATE), opens_after_warmup);
	assert_int_equal(disk_fake_calls(f, DISK_OP_UNLINK), 0);
	assert_int_equal(disk_fake_calls(f, DISK_OP_LIST), lists); /* no folder scan per roll */
	/* The folder holds the live segment and two spares. */
	{
		struct disk_name names[8];
		uint32_t count;

		assert_int_equal(disk_list(d, "dd/wal", names, 8, &count), 0);
		assert_int_equal(count, 2);
	}
}

/* A spare made for another segment size is resized on reuse. */
static void test_spare_resized(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct wal_segdir sd;
	struct wal_segment s;
	uint64_t size;

	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", SEG_BYTES), 0);
	assert_int_equal(wal_segment_make_spare(&sd), 0);
	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", 2 * SEG_BYTES), 0);
	assert_int_equal(sd.spares, 1);
	assert_int_equal(wal_segment_open_new(&sd, 0, 1, 1, &s), 0);
	assert_int_equal(disk_file_size(d, s.fd, &size), 0);
	assert_int_equal(size, 2 * SEG_BYTES);
	wal_segment_close(&sd, &s);
}

/* A spare whose making was interrupted (still .tmp) is removed at start
 * and its id is not reused; complete spares are counted. */
static void test_interrupted_spare_removed(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct wal_segdir sd;
	struct disk_name names[8];
	uint32_t count;

	assert_int_equal(disk_fake_write_file(f, "dd/wal/spare-000000000007.tmp", "x", 1), 0);
	assert_int_equal(wal_segdir_init(&sd, d, "dd/wal", SEG_BYTES), 0);
	assert_int_equal(sd.spares, 0);
	assert_int_equal(sd.next_spare_id, 8);
	assert_int_equal(disk_list(d, "dd/wal", names, 8, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(wal_segment_make_spare(&sd), 0);
	assert_int_equal(wal_segdir_spares(&sd), 1);
	assert_int_equal(disk_list(d, "dd/wal", names, 8, &count), 0);
	assert_int_equal(count, 1);
	assert_string_equal(names[0].name, "spare-000000000008.log");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_header),
		cmocka_unit_test_setup_teardown(test_open_new_and_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recycling_without_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_resized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_spare_removed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
