/* wal_io_uring.c - the writer's I/O through io_uring.
 *
 * DESIGN
 * One commit is one submission: for each request a writev of the ring spans
 * at the segment offset, linked (IOSQE_IO_LINK) to an fsync with
 * IORING_FSYNC_DATASYNC on the same file, so the sync runs only after its
 * write completed in full. A short or failed write breaks the link and the
 * sync completes with -ECANCELED; the writer resubmits the rest.
 *
 * No SQPOLL: on two cores its kernel thread would spin on one of them. The
 * thread blocks in io_uring_wait_cqe. The linked write -> fsync(DATASYNC)
 * also keeps the sync in the writer's own context, which measured 60-80 us
 * under SCHED_FIFO here where O_DIRECT + RWF_DSYNC completions in a kernel
 * worker took 4 ms under load (docs/storage.md).
 *
 * Completions carry (request index << 1 | is_sync) as user_data: no
 * allocation per I/O, and every completion is drained before run returns.
 */
#include "wal_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "we_assert.h"

struct wal_io_uring {
	struct wal_io io; /* first */
	struct io_uring ring;
	unsigned depth;
	uint32_t inflight; /* submitted, completion not yet reaped */
};

/* Submits `want` prepared entries, retrying interruptions. The ring is sized
 * for a whole batch and emptied by every run, so the kernel takes them all;
 * the loop only guards against a partial submission. */
static int uring_submit_all(struct wal_io_uring *u, uint32_t want)
{
	uint32_t done = 0;

	while (done < want) {
		int r = io_uring_submit(&u->ring);

		if (r > 0) {
			done += (uint32_t)r;
			u->inflight += (uint32_t)r;
		} else if (r == 0 || (r != -EINTR && r != -EAGAIN && r != -EBUSY)) {
			return r == 0 ? -EIO : r;
		}
	}
	return 0;
}

/* Reaps completions a failed run left behind, so their user_data is never
 * taken for a later run's. */
static int uring_drain(struct wal_io_uring *u)
{
	while (u->inflight > 0) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&u->ring, &cqe);

		if (r == -EINTR)
			continue;
		if (r != 0)
			return r;
		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
	}
	return 0;
}

static int uring_run(struct wal_io *io, struct wal_io_req *reqs, uint32_t n)
{
	struct wal_io_uring *u = (struct wal_io_uring *)io;
	uint32_t pending = 0;
	int r;

	WE_ASSERT(2 * n <= u->depth);
	r = uring_drain(u);
	if (r != 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		struct io_uring_sqe *w = io_uring_get_sqe(&u->ring);
		struct io_uring_sqe *s;

		/* The ring holds 2n entries and every run submits all it
		 * prepares: an entry is always free. */
		WE_ASSERT(w != NULL);
		io_uring_prep_writev(w, reqs[i].fd, reqs[i].iov, (unsigned)reqs[i].iovcnt, reqs[i].off);
		w->flags |= IOSQE_IO_LINK;
		io_uring_sqe_set_data64(w, (uint64_t)i << 1);
		s = io_uring_get_sqe(&u->ring);
		WE_ASSERT(s != NULL);
		io_uring_prep_fsync(s, reqs[i].fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data64(s, ((uint64_t)i << 1) | 1);
		reqs[i].res_write = -ECANCELED;
		reqs[i].res_sync = -ECANCELED;
		pending += 2;
	}
	r = uring_submit_all(u, pending);
	if (r != 0)
		return r;
	while (pending > 0) {
		struct io_uring_cqe *cqe;
		uint64_t ud;

		r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r != 0)
			return r;
		ud = io_uring_cqe_get_data64(cqe);
		WE_ASSERT((ud >> 1) < n);
		if (ud & 1)
			reqs[ud >> 1].res_sync = cqe->res;
		else
			reqs[ud >> 1].res_write = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
		pending--;
	}
	return 0;
}

static void uring_destroy(struct wal_io *io)
{
	struct wal_io_uring *u = (struct wal_io_uring *)io;

	io_uring_queue_exit(&u->ring);
	free(u);
}

static const struct wal_io_ops wal_io_uring_ops = {
	.run = uring_run,
	.destroy = uring_destroy,
	.name = "io_uring",
};

static void explain(int err, char *why, size_t why_len)
{
	FILE *f;
	int disabled = -1;

	f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
	if (f != NULL) {
		if (fscanf(f, "%d", &disabled) != 1)
			disabled = -1;
		fclose(f);
	}
	if (err == -ENOSYS)
		snprintf(why, why_len, "io_uring is not available: this kernel has no io_uring (ENOSYS)");
	else if (err == -EPERM && disabled > 0)
		snprintf(why, why_len,
			 "io_uring is not permitted: sysctl kernel.io_uring_disabled=%d (0 allows it)",
			 disabled);
	else if (err == -EPERM)
		snprintf(why, why_len,
			 "io_uring is not permitted (EPERM): a seccomp filter or container policy "
			 "blocks io_uring_setup");
	else
		snprintf(why, why_len, "io_uring_queue_init failed: %s", strerror(-err));
}

int wal_io_uring_create(struct wal_io **out, unsigned depth, char *why, size_t why_len)
{
	struct wal_io_uring *u = calloc(1, sizeof(*u));
	int r;

	if (u == NULL)
		return -ENOMEM;
	r = io_uring_queue_init(depth, &u->ring, 0);
	if (r != 0) {
		explain(r, why, why_len);
		free(u);
		return r;
	}
	u->io.ops = &wal_io_uring_ops;
	u->depth = u->ring.sq.ring_entries;
	*out = &u->io;
	return 0;
}

int wal_io_uring_probe(char *why, size_t why_len)
{
	struct wal_io *io;
	int r = wal_io_uring_create(&io, 4, why, why_len);

	if (r == 0)
		wal_io_destroy(io);
	return r;
}
