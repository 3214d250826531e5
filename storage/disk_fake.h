/* disk_fake.h - an in-memory struct disk for tests: call counts, injected
 * faults and power cuts (no DPDK).
 *
 *   disk_fake_create       disk_fake.c  an empty file system
 *   disk_fake_destroy      disk_fake.c
 *   disk_fake_calls        disk_fake.c  calls of one operation so far
 *   disk_fake_fail         disk_fake.c  fail the nth call of an op from now (and the next ones)
 *   disk_fake_short_write  disk_fake.c  the nth pwrite from now writes at most n bytes
 *   disk_fake_clear_faults disk_fake.c
 *   disk_fake_cut          disk_fake.c  power loss: unsynced data gone, or torn per sector
 *   disk_fake_read_file    disk_fake.c  a file's current bytes, by path (test checks)
 *   disk_fake_write_file   disk_fake.c  replace a file's bytes, synced (test set-up)
 *
 * Each file keeps two images: what reads see (written) and what a power cut
 * keeps for sure (synced: the image at the last fdatasync). A cut puts every
 * file back to its synced image, or, torn, keeps each 512-byte sector that
 * differs with probability 1/2 (the kernel may have written any of the
 * dirty pages back before the power went, in any order; a sector itself is
 * taken as atomic). Names (create, rename, unlink, mkdir) take effect at
 * once and survive a cut: the fake does not yet model a lost directory
 * update (fsync_dir is counted per call, so a later test can).
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

enum disk_cut {
	DISK_CUT_DROP_UNSYNCED = 0, /* every unsynced byte is lost */
	DISK_CUT_TORN_SECTORS = 1,  /* each unsynced sector kept or lost, at random */
	/* Not yet: sectors that hold garbage after the cut (non-atomic sectors). */
};

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
/* Power loss (see above; seed drives DISK_CUT_TORN_SECTORS). The cut image
 * becomes the synced one; open descriptors stay usable (the test decides
 * whether the "process" survived). */
void disk_fake_cut(struct disk_fake *f, enum disk_cut how, uint64_t seed);
/* Copies up to max bytes of the file at path (current image) into buf;
 * returns its size, or -ENOENT. */
int64_t disk_fake_read_file(struct disk_fake *f, const char *path, void *buf, uint64_t max);
/* Replaces the file's content (created if missing), both images. */
int disk_fake_write_file(struct disk_fake *f, const char *path, const void *buf, uint64_t len);

#endif
