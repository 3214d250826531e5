/* disk.h - the storage library's only way to the file system (no DPDK).
 *
 *   struct disk_ops      the operations, one function pointer each
 *   disk_posix_init      disk_posix.c  the real file system
 *   disk_fake_*          disk_fake.h   in-memory files with faults and power cuts
 *   disk_open, disk_pwrite, ...  inline, below: d->ops->x(d, ...)
 *
 * Segments, recovery and the writer's synchronous I/O go through a struct
 * disk, so every unit test can run them against the fake (disk_fake.c),
 * which counts calls, fails the nth call of an operation, and keeps written
 * data apart from synced data so a test can cut the power. The writer's
 * asynchronous I/O goes through wal_io.h, whose io_uring backend needs the
 * kernel descriptors of the real disk (kernel_fds).
 *
 * Every operation returns 0 (or a byte count) or a negative errno. Paths are
 * plain strings; a file is named by its full path.
 */
#ifndef DISK_H
#define DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

#define DISK_NAME_MAX 128 /* a directory entry's name, NUL included */
#define DISK_PATH_MAX 4096

enum disk_open_flags {
	DISK_O_CREATE = 1, /* create if missing */
	DISK_O_EXCL = 2,   /* with CREATE: fail with -EEXIST if present */
	DISK_O_RDONLY = 4,
};

/* One line per operation: the enum (DISK_OP_x) and the name in reports. */
#define DISK_OP_LIST(X)                                                        \
	X(OPEN, "open")                                                        \
	X(CLOSE, "close")                                                      \
	X(PREAD, "pread")                                                      \
	X(PWRITE, "pwrite")                                                    \
	X(FDATASYNC, "fdatasync")                                              \
	X(FSYNC_DIR, "fsync_dir")                                              \
	X(FALLOCATE, "fallocate")                                              \
	X(FTRUNCATE, "ftruncate")                                              \
	X(RENAME, "rename")                                                    \
	X(UNLINK, "unlink")                                                    \
	X(FILE_SIZE, "file_size")                                              \
	X(MKDIR, "mkdir")                                                      \
	X(LIST, "list")

enum disk_op {
#define DISK_OP_ENUM(name, text) DISK_OP_##name,
	DISK_OP_LIST(DISK_OP_ENUM)
#undef DISK_OP_ENUM
	DISK_OP_COUNT
};

const char *disk_op_name(enum disk_op op);

struct disk_name {
	char name[DISK_NAME_MAX];
};

struct disk;

struct disk_ops {
	int (*open)(struct disk *d, const char *path, int flags, int *fd);
	int (*close)(struct disk *d, int fd);
	int64_t (*pread)(struct disk *d, int fd, void *buf, size_t len, uint64_t off);
	int64_t (*pwrite)(struct disk *d, int fd, const void *buf, size_t len, uint64_t off);
	int (*fdatasync)(struct disk *d, int fd);
	int (*fsync_dir)(struct disk *d, const char *dir);
	int (*fallocate)(struct disk *d, int fd, uint64_t off, uint64_t len);
	int (*ftruncate)(struct disk *d, int fd, uint64_t len);
	int (*rename)(struct disk *d, const char *from, const char *to);
	int (*unlink)(struct disk *d, const char *path);
	int (*file_size)(struct disk *d, int fd, uint64_t *bytes);
	int (*mkdir)(struct disk *d, const char *path); /* 0 also when it exists */
	/* Names in dir (not "." or ".."), up to max of them; *count gets how
	 * many there are, which may exceed max. */
	int (*list)(struct disk *d, const char *dir, struct disk_name *names, uint32_t max,
		    uint32_t *count);
};

struct disk {
	const struct disk_ops *ops;
	bool kernel_fds; /* descriptors are the kernel's (io_uring may use them) */
};

/* The real file system. */
void disk_posix_init(struct disk *d);

static inline int we_must_check disk_open(struct disk *d, const char *path, int flags, int *fd)
{
	return d->ops->open(d, path, flags, fd);
}
static inline int disk_close(struct disk *d, int fd)
{
	return d->ops->close(d, fd);
}
static inline int64_t we_must_check disk_pread(struct disk *d, int fd, void *buf, size_t len,
					       uint64_t off)
{
	return d->ops->pread(d, fd, buf, len, off);
}
static inline int64_t we_must_check disk_pwrite(struct disk *d, int fd, const void *buf,
						size_t len, uint64_t off)
{
	return d->ops->pwrite(d, fd, buf, len, off);
}
static inline int we_must_check disk_fdatasync(struct disk *d, int fd)
{
	return d->ops->fdatasync(d, fd);
}
static inline int we_must_check disk_fsync_dir(struct disk *d, const char *dir)
{
	return d->ops->fsync_dir(d, dir);
}
static inline int we_must_check disk_fallocate(struct disk *d, int fd, uint64_t off, uint64_t len)
{
	return d->ops->fallocate(d, fd, off, len);
}
static inline int we_must_check disk_ftruncate(struct disk *d, int fd, uint64_t len)
{
	return d->ops->ftruncate(d, fd, len);
}
static inline int we_must_check disk_rename(struct disk *d, const char *from, const char *to)
{
	return d->ops->rename(d, from, to);
}
static inline int we_must_check disk_unlink(struct disk *d, const char *path)
{
	return d->ops->unlink(d, path);
}
static inline int we_must_check disk_file_size(struct disk *d, int fd, uint64_t *bytes)
{
	return d->ops->file_size(d, fd, bytes);
}
static inline int we_must_check disk_mkdir(struct disk *d, const char *path)
{
	return d->ops->mkdir(d, path);
}
static inline int we_must_check disk_list(struct disk *d, const char *dir, struct disk_name *names,
					  uint32_t max, uint32_t *count)
{
	return d->ops->list(d, dir, names, max, count);
}

/* Every name in dir, in a malloc'ed array (*names, free it) of *count. */
int disk_list_all(struct disk *d, const char *dir, struct disk_name **names, uint32_t *count)
	we_must_check;
/* Writes all len bytes at off, retrying short writes and EINTR. */
int disk_pwrite_all(struct disk *d, int fd, const void *buf, size_t len, uint64_t off) we_must_check;
/* Reads up to len bytes at off (fewer at the end of the file); returns the
 * bytes read or a negative errno. */
int64_t disk_pread_all(struct disk *d, int fd, void *buf, size_t len, uint64_t off) we_must_check;

#endif
