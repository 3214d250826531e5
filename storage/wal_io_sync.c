/* wal_io_sync.c - the writer's I/O done synchronously through a struct disk.
 *
 * DESIGN
 * The unit tests run the group-commit writer against the fake disk through
 * this backend: the same requests and the same result fields as io_uring,
 * so the writer's handling of short writes, errors and cancelled syncs is
 * tested without a kernel. Like a linked io_uring chain, a write that does
 * not complete cancels its sync (-ECANCELED).
 */
#include "wal_io.h"

#include <errno.h>
#include <stdlib.h>

struct wal_io_sync {
	struct wal_io io; /* first */
	struct disk *disk;
};

static int sync_run(struct wal_io *io, struct wal_io_req *reqs, uint32_t n)
{
	struct wal_io_sync *s = (struct wal_io_sync *)io;

	for (uint32_t i = 0; i < n; i++) {
		struct wal_io_req *r = &reqs[i];
		uint64_t want = wal_io_req_bytes(r);
		uint64_t done = 0;

		r->res_write = 0;
		for (int v = 0; v < r->iovcnt; v++) {
			int64_t got = disk_pwrite(s->disk, r->fd, r->iov[v].iov_base, r->iov[v].iov_len,
						  r->off + done);

			if (got < 0) {
				/* As writev: an error only if nothing was written. */
				if (done == 0)
					r->res_write = got;
				break;
			}
			done += (uint64_t)got;
			if ((size_t)got < r->iov[v].iov_len)
				break;
		}
		if (r->res_write == 0)
			r->res_write = (int64_t)done;
		r->res_sync = r->res_write >= 0 && (uint64_t)r->res_write == want
				      ? disk_fdatasync(s->disk, r->fd)
				      : -ECANCELED;
	}
	return 0;
}

static void sync_destroy(struct wal_io *io)
{
	free(io);
}

static const struct wal_io_ops wal_io_sync_ops = {
	.run = sync_run,
	.destroy = sync_destroy,
	.name = "synchronous",
};

int wal_io_sync_create(struct wal_io **out, struct disk *d)
{
	struct wal_io_sync *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->io.ops = &wal_io_sync_ops;
	s->disk = d;
	*out = &s->io;
	return 0;
}
