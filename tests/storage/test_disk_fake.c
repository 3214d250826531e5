/* test_disk_fake.c - the fake disk behaves like a file system where the
 * tests rely on it, counts calls, fails on demand and loses unsynced data
 * at a power cut (storage/disk_fake.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk_fake.h"

static int setup(void **state)
{
	struct disk_fake *f = disk_fake_create();

	if (f == NULL || disk_mkdir(disk_fake_disk(f), "d") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	disk_fake_destroy(*state);
	return 0;
}

/* Create, write, read back, size, rename, list, unlink. */
static void test_file_basics(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct disk_name names[4];
	uint32_t count;
	uint64_t size;
	char buf[16];
	int fd;

	assert_int_equal(disk_open(d, "d/a", 0, &fd), -ENOENT);
	assert_int_equal(disk_open(d, "nodir/a", DISK_O_CREATE, &fd), -ENOENT);
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "hello", 5, 10), 0);
	assert_int_equal(disk_file_size(d, fd, &size), 0);
	assert_int_equal(size, 15);
	assert_int_equal(disk_pread_all(d, fd, buf, sizeof(buf), 8), 7);
	assert_memory_equal(buf, "\0\0hello", 7);
	assert_int_equal(disk_rename(d, "d/a", "d/b"), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "!", 1, 0), 0); /* still open */
	assert_int_equal(disk_list(d, "d", names, 4, &count), 0);
	assert_int_equal(count, 1);
	assert_string_equal(names[0].name, "b");
	assert_int_equal(disk_fake_read_file(f, "d/b", buf, sizeof(buf)), 15);
	assert_int_equal(buf[0], '!');
	assert_int_equal(disk_close(d, fd), 0);
	assert_int_equal(disk_open(d, "d/b", DISK_O_CREATE | DISK_O_EXCL, &fd), -EEXIST);
	assert_int_equal(disk_unlink(d, "d/b"), 0);
	assert_int_equal(disk_list(d, "d", names, 4, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(disk_fake_calls(f, DISK_OP_UNLINK), 1);
	assert_int_equal(disk_fake_calls(f, DISK_OP_RENAME), 1);
}

/* The nth call fails with the injected error and changes nothing; later
 * calls succeed; a short write is finished by disk_pwrite_all's loop. */
static void test_faults(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	char buf[8];
	int fd;

	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	disk_fake_fail(f, DISK_OP_PWRITE, 2, -EIO, 1);
	assert_int_equal(disk_pwrite(d, fd, "a", 1, 0), 1);
	assert_int_equal(disk_pwrite(d, fd, "b", 1, 1), -EIO);
	assert_int_equal(disk_pwrite(d, fd, "c", 1, 1), 1);
	assert_int_equal(disk_fake_read_file(f, "d/a", buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ac", 2);

	disk_fake_fail(f, DISK_OP_FDATASYNC, 1, -ENOSPC, DISK_FAKE_FAIL_FOREVER);
	for (int i = 0; i < 5; i++)
		assert_int_equal(disk_fdatasync(d, fd), -ENOSPC);
	disk_fake_clear_faults(f);
	assert_int_equal(disk_fdatasync(d, fd), 0);

	disk_fake_short_write(f, 1, 3);
	assert_int_equal(disk_pwrite(d, fd, "12345678", 8, 0), 3);
	disk_fake_short_write(f, 1, 3);
	assert_int_equal(disk_pwrite_all(d, fd, "abcdefgh", 8, 0), 0);
	assert_int_equal(disk_fake_read_file(f, "d/a", buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "abcdefgh", 8);
	assert_int_equal(disk_close(d, fd), 0);
}

/* A power cut keeps what fdatasync covered and drops the rest. */
static void test_cut_drops_unsynced(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	char buf[16];
	int fd;

	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "synced", 6, 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "SY", 2, 0), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "+lost", 5, 6), 0);
	assert_int_equal(disk_fake_read_file(f, "d/a", buf, sizeof(buf)), 11);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	assert_int_equal(disk_fake_read_file(f, "d/a", buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "synced", 6);
	assert_int_equal(disk_close(d, fd), 0);
}

/* A torn cut keeps some unsynced sectors and drops others, never touches
 * synced bytes, and is the same for the same seed. */
static void test_cut_torn_sectors(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t base[64 * 512], data[64 * 512], after[64 * 512];
	int kept = 0;
	int dropped = 0;
	int fd;

	memset(base, 0x11, sizeof(base));
	memset(data, 0x22, sizeof(data));
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, base, sizeof(base), 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, data, sizeof(data) - 100, 100), 0);
	disk_fake_cut(f, DISK_CUT_TORN_SECTORS, 42);
	assert_int_equal(disk_fake_read_file(f, "d/a", after, sizeof(after)), sizeof(after));
	assert_memory_equal(after, base, 100); /* synced, never written again */
	for (int s = 1; s < 64; s++) {
		if (after[s * 512] == 0x22)
			kept++;
		else if (after[s * 512] == 0x11)
			dropped++;
		/* A sector is all old or all new. */
		for (int i = 1; i < 512; i++)
			assert_int_equal(after[s * 512 + i], after[s * 512]);
	}
	assert_true(kept > 5 && dropped > 5);
	assert_int_equal(kept + dropped, 63);
	assert_int_equal(disk_close(d, fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_drops_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_torn_sectors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
