/* wal_io.h - how the group-commit writer reaches the disk: one batch of
 * "write these bytes, then fdatasync that file" requests per commit (no DPDK).
 *
 *   wal_io_sync_create   wal_io_sync.c   through a struct disk, one call at a time
 *                                        (the fake disk in tests; any disk)
 *   wal_io_uring_create  wal_io_uring.c  io_uring: per request a writev linked
 *                                        (IOSQE_IO_LINK) to an fsync(DATASYNC),
 *                                        all requests in one submission
 *   wal_io_uring_probe   wal_io_uring.c  is io_uring usable here? and why not
 *   wal_io_run, wal_io_destroy, wal_io_name  inline, below
 *
 * run() blocks until every request of the batch has completed and leaves
 * each request's two results in it: res_write (bytes written or a negative
 * errno) and res_sync (0 or a negative errno; -ECANCELED when the write did
 * not complete, as io_uring reports a broken link). The writer decides what
 * a short write or an error means (wal_writer.c); backends do not retry.
 */
#ifndef WAL_IO_H
#define WAL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "disk.h"
#include "we_compiler.h"

#define WAL_IO_IOV_MAX 5 /* up to 4 spans of a ring, and a pad */

struct wal_io_req {
	int fd;
	int iovcnt;
	struct iovec iov[WAL_IO_IOV_MAX];
	uint64_t off;
	int64_t res_write;
	int res_sync;
};

struct wal_io;

struct wal_io_ops {
	int (*run)(struct wal_io *io, struct wal_io_req *reqs, uint32_t n);
	void (*destroy)(struct wal_io *io);
	const char *name;
};

struct wal_io {
	const struct wal_io_ops *ops;
};

/* Requests through d (synchronous: pwrite per iovec, then fdatasync). */
int wal_io_sync_create(struct wal_io **out, struct disk *d) we_must_check;
/* An io_uring of `depth` entries (at least 2 per request of a batch). Needs
 * kernel descriptors (disk_posix). Returns 0, or a negative errno and a
 * sentence in why. */
int wal_io_uring_create(struct wal_io **out, unsigned depth, char *why, size_t why_len)
	we_must_check;
/* 0 if io_uring can be set up here; else a negative errno (-ENOSYS, -EPERM,
 * ...) and in why a sentence for the operator (e.g. naming the sysctl
 * kernel.io_uring_disabled). */
int wal_io_uring_probe(char *why, size_t why_len) we_must_check;

static inline int we_must_check wal_io_run(struct wal_io *io, struct wal_io_req *reqs, uint32_t n)
{
	return io->ops->run(io, reqs, n);
}
static inline void wal_io_destroy(struct wal_io *io)
{
	if (io != NULL)
		io->ops->destroy(io);
}
static inline const char *wal_io_name(const struct wal_io *io)
{
	return io->ops->name;
}

/* Bytes a request asks to write. */
static inline uint64_t wal_io_req_bytes(const struct wal_io_req *r)
{
	uint64_t n = 0;

	for (int i = 0; i < r->iovcnt; i++)
		n += r->iov[i].iov_len;
	return n;
}

#endif
