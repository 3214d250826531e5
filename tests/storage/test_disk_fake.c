/* test_disk_fake.c - the fake disk behaves like a file system where the
 * tests rely on it, counts calls, fails on demand and, at a power cut,
 * loses unsynced data (dropped, torn per sector or per 4 KiB page, or
 * garbled) and every directory change its directory's fsync did not cover
 * (storage/disk_fake.c). */
#include <errno.h>
#include <stdbool.h>
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
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
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
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
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

/* Writes len bytes of text to a new file at path, fdatasyncs it and closes
 * it; the directory is not synced. */
static void make_file(struct disk *d, const char *path, const char *text)
{
	int fd;

	assert_int_equal(disk_open(d, path, DISK_O_CREATE | DISK_O_EXCL, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, text, strlen(text), 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	assert_int_equal(disk_close(d, fd), 0);
}

/* The file's current content is text (NULL: the file does not exist). */
static void check_file(struct disk_fake *f, const char *path, const char *text)
{
	char buf[64];
	int64_t n = disk_fake_read_file(f, path, buf, sizeof(buf));

	if (text == NULL) {
		assert_int_equal(n, -ENOENT);
		return;
	}
	assert_int_equal(n, (int64_t)strlen(text));
	assert_memory_equal(buf, text, strlen(text));
}

/* A created file whose directory was never synced is gone after a cut,
 * though its data was fdatasynced (strict model: the file's sync does not
 * make its name durable); once the directory is synced it survives. */
static void test_cut_create_needs_dir_sync(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct disk_name names[4];
	uint32_t count;

	make_file(d, "d/a", "aaa");
	make_file(d, "d/b", "bbb");
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	make_file(d, "d/c", "ccc");
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", "aaa");
	check_file(f, "d/b", "bbb");
	check_file(f, "d/c", NULL);
	assert_int_equal(disk_list(d, "d", names, 4, &count), 0);
	assert_int_equal(count, 2);
	/* The name is free again. */
	make_file(d, "d/c", "CCC");
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/c", "CCC");
}

/* An unsynced rename is undone at a cut: the old name is back with the
 * file's synced data, the new name is gone or names what it named before;
 * after a directory sync the rename is kept (and the replaced file gone). */
static void test_cut_rename_needs_dir_sync(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	int fd;

	make_file(d, "d/a", "old-a");
	make_file(d, "d/b", "old-b");
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	/* Over an existing name, with unsynced data written after. */
	assert_int_equal(disk_rename(d, "d/a", "d/b"), 0);
	assert_int_equal(disk_open(d, "d/b", 0, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "NEW", 3, 0), 0);
	assert_int_equal(disk_close(d, fd), 0);
	check_file(f, "d/a", NULL);
	check_file(f, "d/b", "NEW-a");
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", "old-a");
	check_file(f, "d/b", "old-b");
	/* To a new name. */
	assert_int_equal(disk_rename(d, "d/a", "d/c"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", "old-a");
	check_file(f, "d/c", NULL);
	/* Synced: kept, and the file it replaced is gone for good. */
	assert_int_equal(disk_rename(d, "d/a", "d/b"), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", NULL);
	check_file(f, "d/b", "old-a");
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/b", "old-a");
}

/* An unsynced unlink is undone at a cut (the file is back with its synced
 * data only); after a directory sync it is gone. */
static void test_cut_unlink_needs_dir_sync(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	int fd;

	make_file(d, "d/a", "synced");
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	assert_int_equal(disk_open(d, "d/a", 0, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "LOST", 4, 0), 0);
	assert_int_equal(disk_close(d, fd), 0);
	assert_int_equal(disk_unlink(d, "d/a"), 0);
	check_file(f, "d/a", NULL);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", "synced");
	assert_int_equal(disk_unlink(d, "d/a"), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", NULL);
}

/* Once the set-up is over (a file was created), a directory made by mkdir
 * is gone at a cut, with everything in it, unless its parent was synced;
 * syncing the new directory itself is not enough. During the set-up and in
 * the root, mkdir is durable at once. */
static void test_cut_mkdir_needs_parent_sync(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct disk_name names[4];
	uint32_t count;
	int fd;

	assert_int_equal(disk_mkdir(d, "d/fixture"), 0); /* set-up */
	make_file(d, "top", "root entries are durable at once");
	assert_int_equal(disk_mkdir(d, "d/sub"), 0);
	assert_int_equal(disk_mkdir(d, "d/sub/deeper"), 0);
	make_file(d, "d/sub/x", "x");
	assert_int_equal(disk_fsync_dir(d, "d/sub"), 0);
	assert_int_equal(disk_mkdir(d, "e"), 0);
	make_file(d, "e/y", "y");
	assert_int_equal(disk_fsync_dir(d, "e"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "top", "root entries are durable at once");
	check_file(f, "d/sub/x", NULL);
	check_file(f, "e/y", "y");
	assert_int_equal(disk_list(d, "d/sub", names, 4, &count), -ENOENT);
	assert_int_equal(disk_list(d, "d/sub/deeper", names, 4, &count), -ENOENT);
	assert_int_equal(disk_list(d, "d/fixture", names, 4, &count), 0);
	assert_int_equal(disk_open(d, "d/sub/x", DISK_O_CREATE, &fd), -ENOENT);
	/* With the parent synced it stays. */
	assert_int_equal(disk_mkdir(d, "d/sub"), 0);
	make_file(d, "d/sub/x", "x");
	assert_int_equal(disk_fsync_dir(d, "d/sub"), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/sub/x", "x");
}

/* A descriptor open on a file that a cut left without a name stays usable
 * (the test decides whether the process survived); the file is freed at
 * its close and the name stays free. */
static void test_cut_open_file_loses_name(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	char buf[4];
	int fd;

	make_file(d, "d/keep", "k"); /* the set-up is over */
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, "abc", 3, 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	check_file(f, "d/a", NULL);
	assert_int_equal(disk_pread_all(d, fd, buf, 3, 0), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(disk_pwrite_all(d, fd, "z", 1, 0), 0);
	assert_int_equal(disk_close(d, fd), 0);
	check_file(f, "d/a", NULL);
}

/* Writes 64 pages of 0x22 over 64 synced pages of 0x11 (from byte 100 on),
 * cuts with how and seed, and checks each 512-byte sector: all 0x11, all
 * 0x22 or (garbage) neither. Per 4 KiB page the new sectors form a prefix,
 * followed by at most one garbage sector (garbage mode only). Returns the
 * counts of kept, old and garbage sectors and of distinct prefix lengths. */
#define TP_PAGES 64
static void torn_pages(struct disk_fake *f, enum disk_cut how, uint64_t seed, int *kept,
		       int *old, int *garbage, int *lengths)
{
	struct disk *d = disk_fake_disk(f);
	static uint8_t base[TP_PAGES * 4096], data[TP_PAGES * 4096], after[TP_PAGES * 4096];
	bool seen[9] = {false};
	int fd;

	*kept = *old = *garbage = *lengths = 0;
	memset(base, 0x11, sizeof(base));
	memset(data, 0x22, sizeof(data));
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	assert_int_equal(disk_pwrite_all(d, fd, base, sizeof(base), 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, data, sizeof(data) - 100, 100), 0);
	disk_fake_cut(f, how, seed);
	assert_int_equal(disk_fake_read_file(f, "d/a", after, sizeof(after)), sizeof(after));
	if (how != DISK_CUT_GARBAGE_SECTOR) /* may garble sector 0 whole */
		assert_memory_equal(after, base, 100); /* synced, never written again */
	for (int p = 0; p < TP_PAGES; p++) {
		int state_in_page = 0; /* 0: new prefix, 1: after garbage or old */
		int prefix = 0;

		for (int s = 0; s < 8; s++) {
			const uint8_t *sec = after + p * 4096 + s * 512;
			int from = p == 0 && s == 0 ? 100 : 0;
			uint8_t v = sec[from];
			bool uniform = true;

			for (int i = from + 1; i < 512; i++)
				uniform = uniform && sec[i] == v;
			if (uniform && v == 0x22) {
				assert_int_equal(state_in_page, 0); /* new sectors: a prefix */
				prefix++;
				(*kept)++;
			} else if (uniform && v == 0x11) {
				state_in_page = 1;
				(*old)++;
			} else {
				assert_true(how == DISK_CUT_GARBAGE || how == DISK_CUT_GARBAGE_SECTOR);
				assert_int_equal(state_in_page, 0); /* right after the prefix */
				state_in_page = 1;
				(*garbage)++;
			}
		}
		if (!seen[prefix]) {
			seen[prefix] = true;
			(*lengths)++;
		}
	}
	assert_int_equal(disk_close(d, fd), 0);
}

/* TORN_4K keeps a random prefix of each dirty 4 KiB page in whole 512-byte
 * sectors, of varying lengths, never garbage; synced bytes are kept. */
static void test_cut_torn_4k(void **state)
{
	int kept, old, garbage, lengths;

	torn_pages(*state, DISK_CUT_TORN_4K, 7, &kept, &old, &garbage, &lengths);
	assert_int_equal(kept + old, TP_PAGES * 8);
	assert_int_equal(garbage, 0);
	assert_true(kept > 20 && old > 20);
	assert_true(lengths >= 4);
}

/* GARBAGE and GARBAGE_SECTOR: like TORN_4K, and some pages hold random
 * bytes in the sector right after their kept prefix (written whole here). */
static void test_cut_garbage(void **state)
{
	int kept, old, garbage, lengths;

	torn_pages(*state, DISK_CUT_GARBAGE, 11, &kept, &old, &garbage, &lengths);
	assert_int_equal(kept + old + garbage, TP_PAGES * 8);
	assert_true(garbage > 5 && garbage <= TP_PAGES);
	assert_true(kept > 20 && old > 20);
	assert_int_equal(disk_unlink(disk_fake_disk(*state), "d/a"), 0);
	torn_pages(*state, DISK_CUT_GARBAGE_SECTOR, 12, &kept, &old, &garbage, &lengths);
	assert_int_equal(kept + old + garbage, TP_PAGES * 8);
	assert_true(garbage > 5 && garbage <= TP_PAGES);
}

/* A torn cut also extends a file written past its synced size only as far
 * as the kept sectors reach; DROP gives the synced size back. */
static void test_cut_torn_size(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	static uint8_t data[8 * 4096];
	static uint8_t after[8 * 4096];
	int fd;

	memset(data, 0x33, sizeof(data));
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	assert_int_equal(disk_pwrite_all(d, fd, data, 1000, 0), 0);
	assert_int_equal(disk_fdatasync(d, fd), 0);
	assert_int_equal(disk_pwrite_all(d, fd, data, sizeof(data), 0), 0);
	disk_fake_cut(f, DISK_CUT_DROP_UNSYNCED, 0);
	assert_int_equal(disk_fake_read_file(f, "d/a", after, sizeof(after)), 1000);
	for (uint64_t seed = 1; seed < 20; seed++) {
		int64_t n;

		assert_int_equal(disk_pwrite_all(d, fd, data, sizeof(data), 0), 0);
		disk_fake_cut(f, DISK_CUT_TORN_4K, seed);
		n = disk_fake_read_file(f, "d/a", after, sizeof(after));
		assert_true(n >= 1000 && n <= (int64_t)sizeof(data));
		assert_true(n == 1000 || n % 512 == 0);
		for (int64_t i = 0; i < n; i++)
			assert_int_equal(after[i], i < 1000 || after[i] == 0x33 ? 0x33 : 0);
	}
	assert_int_equal(disk_close(d, fd), 0);
}

/* A torn sector shared by synced and unsynced bytes: GARBAGE garbles only
 * the bytes written since the sync (powersafe overwrite), so the synced
 * ones always survive; GARBAGE_SECTOR may garble the whole sector. */
static void test_cut_garbage_shared_sector(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	uint8_t old[300], add[200], after[512];
	int garbled_new = 0;
	int garbled_old = 0;
	int fd;

	memset(old, 0x41, sizeof(old));
	memset(add, 0x42, sizeof(add));
	assert_int_equal(disk_open(d, "d/a", DISK_O_CREATE, &fd), 0);
	assert_int_equal(disk_fsync_dir(d, "d"), 0);
	assert_int_equal(disk_pwrite_all(d, fd, old, sizeof(old), 0), 0);
	for (uint64_t seed = 0; seed < 400; seed++) {
		enum disk_cut how = seed < 200 ? DISK_CUT_GARBAGE : DISK_CUT_GARBAGE_SECTOR;
		int64_t n;
		bool old_ok, new_ok = true, new_zero = true;

		assert_int_equal(disk_ftruncate(d, fd, sizeof(old)), 0);
		assert_int_equal(disk_fdatasync(d, fd), 0);
		assert_int_equal(disk_pwrite_all(d, fd, add, sizeof(add), sizeof(old)), 0);
		disk_fake_cut(f, how, seed);
		n = disk_fake_read_file(f, "d/a", after, sizeof(after));
		assert_true(n == 300 || n == 500);
		old_ok = memcmp(after, old, sizeof(old)) == 0;
		for (int64_t i = 300; i < n; i++) {
			new_ok = new_ok && after[i] == 0x42;
			new_zero = new_zero && after[i] == 0;
		}
		if (!new_ok && !new_zero)
			garbled_new++;
		if (how == DISK_CUT_GARBAGE)
			assert_true(old_ok);
		else if (!old_ok)
			garbled_old++;
	}
	assert_true(garbled_new > 3);
	assert_true(garbled_old > 3);
	assert_int_equal(disk_close(d, fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_drops_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_torn_sectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_create_needs_dir_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_rename_needs_dir_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_unlink_needs_dir_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_mkdir_needs_parent_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_open_file_loses_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_torn_4k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_torn_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_garbage_shared_sector, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
