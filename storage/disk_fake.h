/* disk_fake.h - an in-memory struct disk for tests: call counts, injected
 * faults and power cuts (no DPDK).
 *
 *   disk_fake_create       disk_fake.c  an empty file system
 *   disk_fake_destroy      disk_fake.c
 *   disk_fake_calls        disk_fake.c  calls of one operation so far
 *   disk_fake_fail         disk_fake.c  fail the nth call of an op from now (and the next ones)
 *   disk_fake_short_write  disk_fake.c  the nth pwrite from now writes at most n bytes
 *   disk_fake_clear_faults disk_fake.c
 *   disk_fake_cut          disk_fake.c  power loss: unsynced data and names gone, or torn
 *   disk_fake_read_file    disk_fake.c  a file's current bytes, by path (test checks)
 *   disk_fake_write_file   disk_fake.c  replace a file's bytes, synced (test set-up)
 *
 * Each file keeps two images: what reads see (written) and what a power cut
 * keeps for sure (synced: the image at the last fdatasync). A cut puts every
 * file back to its synced image, or keeps part of what was written since,
 * by sector (512 bytes, taken as atomic unless garbled), at random from the
 * seed (the kernel may have written any dirty page back before the power
 * went, in any order, and a page only in part):
 *   DISK_CUT_DROP_UNSYNCED  nothing unsynced survives
 *   DISK_CUT_TORN_SECTORS   each dirty 512-byte sector kept with probability 1/2
 *   DISK_CUT_TORN_4K        each dirty 4 KiB page keeps a random prefix, in
 *                           512-byte steps (0 to 8 sectors), the rest is old
 *   DISK_CUT_GARBAGE        as TORN_4K, and the sector after the prefix, if
 *                           dirty, may hold random bytes (a torn sector)
 *                           where it was written since the last sync; the
 *                           sector's other bytes stay (a device with
 *                           "powersafe overwrite", as SQLite calls it)
 *   DISK_CUT_GARBAGE_SECTOR the same, the whole torn sector random (no
 *                           powersafe overwrite: synced bytes that share
 *                           the sector with unsynced ones can be lost)
 *
 * Names follow the strict POSIX model: create, rename, unlink and mkdir
 * take effect at once for every call, but a directory's entries survive a
 * cut only as they were at its last fsync_dir. fdatasync of a file does not
 * make the file's name durable (Linux may, in practice, with a journal; we
 * do not count on it). At a cut: a file created since its directory's last
 * sync is gone; an unsynced rename is undone (the old name is back, the new
 * name gone or naming what it named before); an unsynced unlink is undone;
 * a directory made since its parent's last sync is gone with everything in
 * it. Each file comes back with its synced data. The root (paths without a
 * '/') is always synced. While the fake is being set up (before its first
 * file is created) mkdir is durable at once: the tests' fixtures make their
 * folders without syncing them and stand for a data directory made
 * durably beforehand (datadir_open does).
 *
 * Thread-safe (one mutex): a test may inject faults while a writer thread
 * runs against the fake.
 */
#ifndef DISK_FAKE_H
#define DISK_FAKE_H

#include <stdint.h>

#include "disk.h"

#define DISK_FAKE_FAIL_FOREVER UINT32_MAX

#define DISK_FAKE_SECTOR 512u
#define DISK_FAKE_PAGE 4096u

enum disk_cut {
	DISK_CUT_DROP_UNSYNCED = 0, /* every unsynced byte is lost */
	DISK_CUT_TORN_SECTORS = 1,  /* each unsynced 512-byte sector kept or lost, at random */
	DISK_CUT_TORN_4K = 2,       /* each dirty 4 KiB page: a random prefix of sectors kept */
	DISK_CUT_GARBAGE = 3,       /* TORN_4K, the torn sector's written bytes may be random */
	DISK_CUT_GARBAGE_SECTOR = 4, /* TORN_4K, the whole torn sector may be random */
};
#define DISK_CUT_MODES 5

struct disk_fake;

struct disk_fake *disk_fake_create(void);
void disk_fake_destroy(struct disk_fake *f);
/* The fake as a struct disk (valid until destroy). */
struct disk *disk_fake_disk(struct disk_fake *f);

uint64_t disk_fake_calls(struct disk_fake *f, enum disk_op op);
/* Calls nth, nth + 1, ... nth + times - 1 of op (counting from 1 at the
 * next call) return err (negative) and change nothing. times may be
 * DISK_FAKE_FAIL_FOREVER. One fault per op at a time. */
void disk_fake_fail(struct disk_fake *f, enum disk_op op, uint32_t nth, int err, uint32_t times);
/* The nth pwrite from now writes only its first max_bytes (at least 1). */
void disk_fake_short_write(struct disk_fake *f, uint32_t nth, uint32_t max_bytes);
void disk_fake_clear_faults(struct disk_fake *f);
/* Power loss (see above; seed drives the torn and garbage modes). The cut
 * image becomes the synced one, data and names; open descriptors stay
 * usable, also on a file the cut left without a name (the test decides
 * whether the "process" survived). */
void disk_fake_cut(struct disk_fake *f, enum disk_cut how, uint64_t seed);
/* Copies up to max bytes of the file at path (current image) into buf;
 * returns its size, or -ENOENT. */
int64_t disk_fake_read_file(struct disk_fake *f, const char *path, void *buf, uint64_t max);
/* Replaces the file's content (created if missing), both images; its name
 * is made durable (set-up; the directories above it are not synced). */
int disk_fake_write_file(struct disk_fake *f, const char *path, const void *buf, uint64_t len);

#endif
