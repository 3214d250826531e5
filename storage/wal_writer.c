/* wal_writer.c - the group-commit thread of the write-ahead log.
 *
 * DESIGN
 * A commit round gathers, for every worker, the records its ring holds
 * beyond what is already being written: up to WAL_IO_IOV_MAX contiguous
 * spans (two when the ring wrapped), cut where the worker's current segment
 * ends or at batch_bytes_max. Each worker with data becomes one request
 * "write these spans at the segment's write offset, then fdatasync the
 * segment", and all requests go to the I/O backend together: with io_uring,
 * one submission of linked write -> fsync(DATASYNC) pairs and one wait. So a
 * commit costs one write and one sync per worker, whatever the number of
 * records. When every request of a worker completed, its ring bytes are
 * released, its durable LSN is published with a release store and a notice
 * goes to the worker's control ring (wal_writer.h). Nothing is called back.
 *
 * A segment is begun only in a round where the worker has nothing else to
 * write, so a segment's records are all synced before the next segment of
 * the same log gets any: recovery relies on it to tell a torn tail from
 * damage inside a log.
 *
 * Failures (the durability contract, docs/storage.md). Like Redis's
 * flushAppendOnlyFile under appendfsync always, a failed write or sync is not
 * taken back and not acknowledged: the durable LSN does not move and the
 * worker's error is published, so the data plane answers strong writes
 * NOT_DURABLE. Unlike Redis we do not exit: the records are still in the
 * ring (released only after a successful sync), so the next try rewrites
 * every byte of the failed round at the same offsets and syncs again. That
 * also covers Linux's fsync semantics after a writeback error (the failed
 * pages may be marked clean: a second fsync alone would report success
 * without having written them). Tries repeat every retry_interval_us; the
 * error clears at the first success. Meanwhile the ring fills and the
 * worker answers BUSY: writes are refused, never acknowledged, while the
 * disk fails. Short writes are resubmitted from where they stopped, -EAGAIN
 * and -EINTR are requeued; a request that makes no progress in
 * WW_ATTEMPTS_MAX submissions fails the round with -EIO.
 *
 * Spares: when a worker's log rolls over, the writer takes a spare segment
 * (a rename) and wakes the spare maker, a second thread that zero-fills a
 * replacement, so the commit thread never writes 64 MiB of zeros itself
 * unless the spares ran out (then the roll-over creates the file inline).
 *
 * Timing: a commit starts when records are waiting, the previous commit has
 * completed, and group_commit_interval_us have passed since the previous
 * start; otherwise the thread sleeps (idle_poll_us between looks at empty
 * rings). It never spins: the machine has two cores. An eventual write is
 * therefore on disk at most idle_poll_us + group_commit_interval_us + one
 * commit's duration after the worker appended it (docs/storage.md).
 */
#include "wal_writer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wal_io.h"
#include "wal_io_fault.h"
#include "we_assert.h"
#include "we_time.h"

#define WW_ATTEMPTS_MAX 64
#define WW_IDLE_LOOKS_SHORT 64    /* empty looks at idle_poll_us before the long sleep */
#define WW_IDLE_POLL_LONG_US 2000 /* then one look per 2 ms */
#define WW_NONE UINT32_MAX

struct ww_worker {
	struct wal_ring *ring;
	uint16_t index;
	bool seg_open;
	struct wal_segment seg;
	/* This round. */
	uint32_t req;
	uint64_t bytes;
	uint64_t release;
	uint64_t records;
	uint64_t last_lsn;
	uint64_t pad;        /* bytes of the pad record closing this round's write */
	uint8_t *pad_buf;    /* pad_stride(commit_align) bytes */
	bool notify_pending; /* its durable LSN or error changed since the last notice */
};

struct ww_stats {
	_Atomic uint64_t commits, writes, syncs, records, bytes, short_writes, eagain;
	_Atomic uint64_t write_errors, sync_errors, segment_errors, rolls, failed_commits;
	_Atomic int32_t last_error, sched_error;
	_Atomic bool sched_fifo;
	_Atomic uint64_t commit_ns_total, commit_ns_max, roll_ns_max, rolls_without_spare;
	_Atomic uint64_t commits_while_spare, commit_ns_max_while_spare, notices_deferred;
	_Atomic uint64_t commit_us_log2[WAL_WRITER_COMMIT_BUCKETS];
};

struct wal_writer {
	struct wal_writer_config cfg;
	struct wal_segdir sd;
	struct wal_io *io;
	struct ww_worker *wk;
	struct wal_durable *pub;
	struct wal_io_req *reqs;   /* one per worker with data, this round */
	struct wal_io_req *run;    /* what is (re)submitted */
	uint32_t *req_worker;
	uint64_t *req_done;        /* bytes of reqs[i] written so far */
	uint32_t *active;
	uint8_t *zeros;            /* a pad record's value: 2 * commit_align bytes */
	uint8_t *pad_bufs;         /* each worker's pad record */
	struct ww_stats st;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	/* The spare maker: zero-fills spare segments off the commit thread. */
	pthread_t spare_thread;
	bool spare_started;
	pthread_mutex_t spare_mu;
	pthread_cond_t spare_cv;
	bool spare_wanted;
	bool spare_stop;
	_Atomic bool spare_busy; /* the spare maker is making a spare now */
};

#define STAT_ADD(w, f, n) atomic_fetch_add_explicit(&(w)->st.f, (n), memory_order_relaxed)

/* Only the commit thread stores the maxima: a load and a store suffice. */
static void stat_max(_Atomic uint64_t *m, uint64_t v)
{
	if (v > atomic_load_explicit(m, memory_order_relaxed))
		atomic_store_explicit(m, v, memory_order_relaxed);
}

static void stat_commit_time(struct wal_writer *w, uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us > 1 && b + 1 < WAL_WRITER_COMMIT_BUCKETS) {
		us >>= 1;
		b++;
	}
	STAT_ADD(w, commit_us_log2[b], 1);
	STAT_ADD(w, commit_ns_total, ns);
	stat_max(&w->st.commit_ns_max, ns);
}

static void publish_error(struct wal_writer *w, struct ww_worker *k, int err)
{
	atomic_store_explicit(&w->pub[k - w->wk].error, err, memory_order_relaxed);
	atomic_store_explicit(&w->st.last_error, err, memory_order_relaxed);
	k->notify_pending = true;
}

/* Tell each worker whose durable state changed (its control ring); a full
 * ring keeps the notice pending for the next call. The notice carries the
 * state as of now, so a late one is never stale. */
static void notify_workers(struct wal_writer *w)
{
	if (w->cfg.notify == NULL)
		return;
	for (uint16_t i = 0; i < w->cfg.workers; i++) {
		struct ww_worker *k = &w->wk[i];
		struct ctl_msg m = {.type = CTL_MSG_DURABLE};

		if (!k->notify_pending || w->cfg.notify[i] == NULL)
			continue;
		m.a = atomic_load_explicit(&w->pub[i].lsn, memory_order_relaxed);
		m.i32 = atomic_load_explicit(&w->pub[i].error, memory_order_relaxed);
		if (ctl_ring_post(w->cfg.notify[i], &m) == 0)
			k->notify_pending = false;
		else
			STAT_ADD(w, notices_deferred, 1);
	}
}

static void fail_worker(struct wal_writer *w, struct ww_worker *k, int err)
{
	wal_ring_rewind(k->ring);
	publish_error(w, k, err);
}

/* Closes the worker's segment and begins the next one at first_lsn. */
static int roll(struct wal_writer *w, struct ww_worker *k, uint64_t first_lsn)
{
	uint64_t t0;
	bool no_spare;
	int r;

	if (k->seg_open) {
		wal_segment_close(&w->sd, &k->seg);
		k->seg_open = false;
	}
	t0 = we_monotonic_ns();
	no_spare = wal_segdir_spares(&w->sd) == 0;
	r = wal_segment_open_new(&w->sd, k->index, w->cfg.generation, first_lsn, &k->seg);
	stat_max(&w->st.roll_ns_max, we_monotonic_ns() - t0);
	if (r != 0) {
		STAT_ADD(w, segment_errors, 1);
		return r;
	}
	/* Counted once begun: a full disk fails a try every retry interval,
	 * and counting tries made it read 1762 roll-overs without a spare in
	 * 8 s of a full disk where none happened (test_disk_faults.sh). */
	if (no_spare)
		STAT_ADD(w, rolls_without_spare, 1);
	k->seg_open = true;
	STAT_ADD(w, rolls, 1);
	return 0;
}

/* Closes the round's write with a pad record up to the next multiple of
 * commit_align (or the segment's end), so the next commit begins on a fresh
 * sector. A gap too small for a record's header takes one more unit. */
static void add_pad(struct wal_writer *w, struct ww_worker *k, struct wal_io_req *req)
{
	uint64_t align = w->cfg.commit_align;
	uint64_t end = k->seg.write_off + k->bytes;
	uint64_t room = k->seg.bytes - end;
	uint64_t pad;
	struct wal_record r = {.type = WAL_REC_PAD, .worker = k->index, .lsn = k->last_lsn};

	if (align <= 1)
		return;
	pad = (align - end % align) % align;
	if (pad != 0 && pad < WAL_RECORD_HDR_BYTES)
		pad += align;
	if (pad > room)
		pad = room >= WAL_RECORD_HDR_BYTES ? room : 0;
	if (pad == 0)
		return;
	r.value_len = (uint32_t)(pad - WAL_RECORD_HDR_BYTES);
	r.value = w->zeros;
	if (wal_record_encode(k->pad_buf, pad, &r) != (int64_t)pad)
		return; /* cannot happen: the shape is valid; the round goes unpadded */
	req->iov[req->iovcnt].iov_base = k->pad_buf;
	req->iov[req->iovcnt].iov_len = pad;
	req->iovcnt++;
	k->pad = pad;
}

/* Fills the worker's request for this round from its ring; 0 or an error
 * from beginning a segment. */
static int gather(struct wal_writer *w, struct ww_worker *k, struct wal_io_req *req)
{
	req->iovcnt = 0;
	k->pad = 0;
	while (req->iovcnt < WAL_IO_IOV_MAX - 1) { /* the last iovec: a pad */
		uint64_t room = k->seg_open ? k->seg.bytes - k->seg.write_off - k->bytes : 0;
		uint64_t budget = w->cfg.batch_bytes_max > k->bytes ? w->cfg.batch_bytes_max - k->bytes : 0;
		uint64_t lim = room < budget ? room : budget;
		struct wal_ring_span s;

		wal_ring_span(k->ring, (uint32_t)(lim < UINT32_MAX ? lim : UINT32_MAX), &s);
		k->release += s.release;
		if (s.bytes > 0) {
			req->iov[req->iovcnt].iov_base = (void *)s.data;
			req->iov[req->iovcnt].iov_len = s.bytes;
			req->iovcnt++;
			k->bytes += s.bytes;
			k->records += s.records;
			k->last_lsn = s.last_lsn;
			continue;
		}
		if (s.blocked_bytes == 0 || k->bytes > 0)
			break;
		/* The next record does not fit this segment (or there is none
		 * open yet): begin the next one, the round's first write for
		 * this worker. A record larger than the batch limit still goes,
		 * alone. */
		if (s.blocked_bytes <= room) {
			wal_ring_span(k->ring, s.blocked_bytes, &s);
			WE_ASSERT(s.records == 1);
			k->release += s.release;
			req->iov[0].iov_base = (void *)s.data;
			req->iov[0].iov_len = s.bytes;
			req->iovcnt = 1;
			k->bytes = s.bytes;
			k->records = s.records;
			k->last_lsn = s.last_lsn;
			break;
		}
		{
			int r = roll(w, k, s.blocked_lsn);

			if (r != 0)
				return r;
		}
	}
	if (k->bytes > 0) {
		add_pad(w, k, req);
		req->fd = k->seg.fd;
		req->off = k->seg.write_off;
	}
	return 0;
}

static void succeed(struct wal_writer *w, struct ww_worker *k)
{
	struct wal_durable *d = &w->pub[k - w->wk];

	k->seg.write_off += k->bytes + k->pad;
	wal_ring_release(k->ring, k->release);
	atomic_store_explicit(&d->lsn, k->last_lsn, memory_order_release);
	atomic_store_explicit(&d->error, 0, memory_order_relaxed);
	k->notify_pending = true;
	STAT_ADD(w, writes, 1);
	STAT_ADD(w, syncs, 1);
	STAT_ADD(w, records, k->records);
	STAT_ADD(w, bytes, k->bytes);
}

/* Copies reqs[i] into *out without its first `done` bytes. */
static void req_rest(const struct wal_io_req *in, uint64_t done, struct wal_io_req *out)
{
	out->fd = in->fd;
	out->off = in->off + done;
	out->iovcnt = 0;
	for (int v = 0; v < in->iovcnt; v++) {
		uint64_t len = in->iov[v].iov_len;

		if (done >= len) {
			done -= len;
			continue;
		}
		out->iov[out->iovcnt].iov_base = (uint8_t *)in->iov[v].iov_base + done;
		out->iov[out->iovcnt].iov_len = len - done;
		out->iovcnt++;
		done = 0;
	}
}

/* Runs the round's requests to completion or failure; returns 0 or the
 * first error (each failed worker has its error published). */
static int run_round(struct wal_writer *w, uint32_t nreq)
{
	uint32_t nactive = nreq;
	int first_err = 0;

	for (uint32_t i = 0; i < nreq; i++) {
		w->active[i] = i;
		w->req_done[i] = 0;
	}
	for (int attempt = 0; nactive > 0 && attempt < WW_ATTEMPTS_MAX; attempt++) {
		uint32_t keep = 0;
		int rc;

		for (uint32_t a = 0; a < nactive; a++)
			req_rest(&w->reqs[w->active[a]], w->req_done[w->active[a]], &w->run[a]);
		rc = wal_io_run(w->io, w->run, nactive);
		for (uint32_t a = 0; a < nactive; a++) {
			uint32_t i = w->active[a];
			struct ww_worker *k = &w->wk[w->req_worker[i]];
			const struct wal_io_req *res = &w->run[a];
			uint64_t want = wal_io_req_bytes(&w->reqs[i]) - w->req_done[i];
			int err = 0;

			if (rc != 0) {
				err = rc;
			} else if (res->res_write == -EAGAIN || res->res_write == -EINTR) {
				STAT_ADD(w, eagain, 1);
				w->active[keep++] = i;
				continue;
			} else if (res->res_write < 0) {
				err = (int)res->res_write;
				STAT_ADD(w, write_errors, 1);
			} else if ((uint64_t)res->res_write < want) {
				/* The linked sync was cancelled; write the rest. */
				STAT_ADD(w, short_writes, 1);
				w->req_done[i] += (uint64_t)res->res_write;
				w->active[keep++] = i;
				continue;
			} else if (res->res_sync == -EAGAIN || res->res_sync == -EINTR) {
				STAT_ADD(w, eagain, 1);
				w->req_done[i] = 0; /* write it all again, then sync */
				w->active[keep++] = i;
				continue;
			} else if (res->res_sync != 0) {
				err = res->res_sync;
				STAT_ADD(w, sync_errors, 1);
			}
			if (err != 0) {
				fail_worker(w, k, err);
				if (first_err == 0)
					first_err = err;
			} else {
				succeed(w, k);
			}
		}
		nactive = keep;
	}
	for (uint32_t a = 0; a < nactive; a++) {
		fail_worker(w, &w->wk[w->req_worker[w->active[a]]], -EIO);
		if (first_err == 0)
			first_err = -EIO;
	}
	return first_err;
}

static void make_spares(struct wal_writer *w)
{
	while (wal_segdir_spares(&w->sd) < w->cfg.spares &&
	       !atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		if (wal_segment_make_spare(&w->sd) != 0) {
			STAT_ADD(w, segment_errors, 1);
			break;
		}
	}
}

/* The spare maker's thread: wakes when the writer took a spare. */
static void *spare_main(void *arg)
{
	struct wal_writer *w = arg;

	pthread_mutex_lock(&w->spare_mu);
	while (!w->spare_stop) {
		if (!w->spare_wanted) {
			pthread_cond_wait(&w->spare_cv, &w->spare_mu);
			continue;
		}
		w->spare_wanted = false;
		pthread_mutex_unlock(&w->spare_mu);
		atomic_store_explicit(&w->spare_busy, true, memory_order_relaxed);
		make_spares(w);
		atomic_store_explicit(&w->spare_busy, false, memory_order_relaxed);
		pthread_mutex_lock(&w->spare_mu);
	}
	pthread_mutex_unlock(&w->spare_mu);
	return NULL;
}

int wal_writer_commit(struct wal_writer *w)
{
	uint32_t nreq = 0;
	uint64_t records = 0;
	int first_err = 0;
	bool rolled = false;
	uint64_t rolls_before = atomic_load_explicit(&w->st.rolls, memory_order_relaxed);

	for (uint16_t i = 0; i < w->cfg.workers; i++) {
		struct ww_worker *k = &w->wk[i];
		int r;

		k->req = WW_NONE;
		k->bytes = 0;
		k->release = 0;
		k->records = 0;
		r = gather(w, k, &w->reqs[nreq]);
		if (r != 0) {
			fail_worker(w, k, r);
			if (first_err == 0)
				first_err = r;
			continue;
		}
		if (k->bytes == 0) {
			/* Only pads were consumed (or nothing): give them back. */
			if (k->release > 0)
				wal_ring_release(k->ring, k->release);
			continue;
		}
		k->req = nreq;
		w->req_worker[nreq] = i;
		records += k->records;
		nreq++;
	}
	rolled = atomic_load_explicit(&w->st.rolls, memory_order_relaxed) != rolls_before;
	if (nreq > 0) {
		uint64_t t0 = we_monotonic_ns();
		int r = run_round(w, nreq);

		uint64_t ns = we_monotonic_ns() - t0;

		stat_commit_time(w, ns);
		if (atomic_load_explicit(&w->spare_busy, memory_order_relaxed)) {
			STAT_ADD(w, commits_while_spare, 1);
			stat_max(&w->st.commit_ns_max_while_spare, ns);
		}
		/* The answers parked on these records wait for this. */
		notify_workers(w);
		STAT_ADD(w, commits, 1);
		if (r != 0 && first_err == 0)
			first_err = r;
	}
	/* Keep spares ready for the next roll-overs: the spare maker's job
	 * when the threads run; inline when a test drives commits itself. */
	if (rolled && w->spare_started) {
		pthread_mutex_lock(&w->spare_mu);
		w->spare_wanted = true;
		pthread_cond_signal(&w->spare_cv);
		pthread_mutex_unlock(&w->spare_mu);
	} else if (rolled) {
		make_spares(w);
	}
	if (first_err != 0) {
		STAT_ADD(w, failed_commits, 1);
		return first_err;
	}
	return (int)(records > INT32_MAX ? INT32_MAX : records);
}

static bool rings_pending(const struct wal_writer *w)
{
	for (uint16_t i = 0; i < w->cfg.workers; i++) {
		const struct wal_ring *r = w->wk[i].ring;

		if (atomic_load_explicit(&r->head, memory_order_acquire) != r->cons_read)
			return true;
	}
	return false;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static void *writer_main(void *arg)
{
	struct wal_writer *w = arg;
	uint64_t last_start = 0;
	uint64_t retry_at = 0;
	uint32_t idle_looks = 0;

	if (w->cfg.sched_fifo) {
		struct sched_param sp = {.sched_priority = w->cfg.sched_priority};
		int r = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);

		atomic_store(&w->st.sched_fifo, r == 0);
		atomic_store(&w->st.sched_error, -r);
	}
	while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
		uint64_t now;

		notify_workers(w); /* notices a full control ring deferred */
		now = we_monotonic_ns();
		uint64_t next = last_start + (uint64_t)w->cfg.group_commit_interval_us * 1000;

		if (now < retry_at) {
			uint64_t wait_us = (retry_at - now) / 1000;

			sleep_us(wait_us < w->cfg.idle_poll_us ? wait_us + 1 : w->cfg.idle_poll_us);
			continue;
		}
		if (!rings_pending(w)) {
			/* Idle for a while: look less often. Each look wakes a
			 * SCHED_FIFO thread that preempts a busy-polled core
			 * (5000 times a second at the 200 us interval); the
			 * GET-heavy A/B did not show that cost once its two sides
			 * sent the same datagrams, but fewer wake-ups are free.
			 * The first write after a quiet spell waits up to
			 * WW_IDLE_POLL_LONG_US longer for its commit. */
			sleep_us(idle_looks < WW_IDLE_LOOKS_SHORT ? w->cfg.idle_poll_us
								   : WW_IDLE_POLL_LONG_US);
			idle_looks++;
			continue;
		}
		idle_looks = 0;
		if (now < next)
			sleep_us((next - now) / 1000 + 1);
		last_start = we_monotonic_ns();
		if (wal_writer_commit(w) < 0)
			retry_at = we_monotonic_ns() + (uint64_t)w->cfg.retry_interval_us * 1000;
		else
			retry_at = 0;
	}
	/* Stopping: write what the producers left, once more after a failure. */
	for (int i = 0; i < 1000 && rings_pending(w); i++)
		if (wal_writer_commit(w) < 0)
			break;
	notify_workers(w);
	return NULL;
}

/* Bytes of one worker's pad record buffer: the largest pad (just under two
 * alignment units) and a header, in whole cache lines. */
static size_t pad_stride(uint32_t align)
{
	return ((size_t)2 * align + WAL_RECORD_HDR_BYTES + 63) & ~(size_t)63;
}

int wal_writer_create(struct wal_writer **out, const struct wal_writer_config *cfg, char *err,
		      size_t err_len)
{
	struct wal_writer *w;
	uint64_t data_bytes = cfg->segment_bytes - WAL_SEGMENT_DATA_OFFSET;
	const char *faults_text = getenv(WAL_FAULT_ENV);
	struct wal_fault_spec faults = {.n = 0};
	int r;

	if (cfg->workers == 0 || (unsigned)cfg->worker_base + cfg->workers > WAL_WORKERS_MAX ||
	    cfg->rings == NULL || cfg->disk == NULL || cfg->wal_dir == NULL || cfg->generation == 0 ||
	    cfg->segment_bytes < WAL_SEGMENT_BYTES_MIN) {
		snprintf(err, err_len, "wal writer: invalid configuration (workers %u from %u, "
			 "generation %llu, segment bytes %llu)", cfg->workers, cfg->worker_base,
			 (unsigned long long)cfg->generation, (unsigned long long)cfg->segment_bytes);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < cfg->workers; i++) {
		if (cfg->rings[i] == NULL || wal_ring_record_max(cfg->rings[i]) > data_bytes) {
			snprintf(err, err_len, "wal writer: ring %u takes records up to %llu bytes, more "
				 "than a segment's %llu data bytes", i,
				 cfg->rings[i] ? (unsigned long long)wal_ring_record_max(cfg->rings[i]) : 0ull,
				 (unsigned long long)data_bytes);
			return -EINVAL;
		}
	}
	if (cfg->io == WAL_IO_URING && !cfg->disk->kernel_fds) {
		snprintf(err, err_len, "wal writer: io_uring needs the real disk");
		return -EINVAL;
	}
	/* The fault-injection hook (wal_io_fault.h; docs/operations.md, "Fault
	 * injection"): the data plane's tests turn it on without a code change.
	 * Checked before anything is made, so a bad value changes nothing. */
	if (faults_text != NULL) {
		char why[200];

		r = wal_fault_spec_parse(faults_text, &faults, why, sizeof(why));
		if (r != 0) {
			snprintf(err, err_len, "wal writer: environment variable " WAL_FAULT_ENV
				 " is malformed: %s", why);
			return r;
		}
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cfg = *cfg;
	pthread_mutex_init(&w->spare_mu, NULL);
	pthread_cond_init(&w->spare_cv, NULL);
	if (w->cfg.group_commit_interval_us == 0)
		w->cfg.group_commit_interval_us = 1;
	if (w->cfg.idle_poll_us == 0)
		w->cfg.idle_poll_us = w->cfg.group_commit_interval_us;
	if (w->cfg.batch_bytes_max == 0)
		w->cfg.batch_bytes_max = WAL_BATCH_BYTES_DEFAULT;
	if (w->cfg.retry_interval_us == 0)
		w->cfg.retry_interval_us = WAL_RETRY_INTERVAL_US_DEFAULT;
	if (w->cfg.sched_priority <= 0 || w->cfg.sched_priority > 99)
		w->cfg.sched_priority = 10;
	if (w->cfg.commit_align == 0)
		w->cfg.commit_align = WAL_COMMIT_ALIGN_DEFAULT;
	if ((w->cfg.commit_align & (w->cfg.commit_align - 1)) != 0 ||
	    w->cfg.commit_align > 65536) {
		snprintf(err, err_len, "wal writer: commit alignment %u is not a power of two up to "
			 "65536", w->cfg.commit_align);
		wal_writer_destroy(w);
		return -EINVAL;
	}
	w->zeros = calloc(2, w->cfg.commit_align);
	w->pad_bufs = aligned_alloc(64, (size_t)cfg->workers * pad_stride(w->cfg.commit_align));
	w->cfg.wal_dir = NULL; /* copied into sd.dir */
	w->wk = calloc(cfg->workers, sizeof(*w->wk));
	w->pub = aligned_alloc(WE_CACHE_LINE, cfg->workers * sizeof(*w->pub));
	w->reqs = calloc(cfg->workers, sizeof(*w->reqs));
	w->run = calloc(cfg->workers, sizeof(*w->run));
	w->req_worker = calloc(cfg->workers, sizeof(*w->req_worker));
	w->req_done = calloc(cfg->workers, sizeof(*w->req_done));
	w->active = calloc(cfg->workers, sizeof(*w->active));
	if (w->wk == NULL || w->pub == NULL || w->reqs == NULL || w->run == NULL ||
	    w->req_worker == NULL || w->req_done == NULL || w->active == NULL ||
	    w->zeros == NULL || w->pad_bufs == NULL) {
		wal_writer_destroy(w);
		return -ENOMEM;
	}
	memset(w->pub, 0, cfg->workers * sizeof(*w->pub));
	/* What recovery found is on disk already: a worker that writes nothing
	 * in this run is durable up to there, not up to 0 (a checkpoint waits
	 * for its scan's end LSN, a parked answer for the LSN before it). */
	for (uint16_t i = 0; i < cfg->workers; i++)
		atomic_store_explicit(&w->pub[i].lsn, cfg->durable_lsn_start, memory_order_relaxed);
	for (uint16_t i = 0; i < cfg->workers; i++) {
		w->wk[i].ring = cfg->rings[i];
		w->wk[i].index = (uint16_t)(cfg->worker_base + i);
		w->wk[i].pad_buf = w->pad_bufs + (size_t)i * pad_stride(w->cfg.commit_align);
		w->wk[i].seg.fd = -1;
		wal_ring_rewind(cfg->rings[i]);
	}
	r = wal_segdir_init(&w->sd, cfg->disk, cfg->wal_dir, cfg->segment_bytes);
	if (r != 0) {
		snprintf(err, err_len, "wal writer: cannot read %s: %s", cfg->wal_dir, strerror(-r));
		wal_writer_destroy(w);
		return r;
	}
	while (r == 0 && wal_segdir_spares(&w->sd) < w->cfg.spares)
		r = wal_segment_make_spare(&w->sd);
	/* A full disk is not a reason to refuse the start: a data plane
	 * restarted on a full disk used to stop here, so nothing it holds could
	 * be read until space was freed (test_disk_faults.sh). Recovery needed
	 * no space; without spares the first roll-over makes its segment
	 * inline, and while that fails the log's error is published and strong
	 * writes are refused NOT_DURABLE, tried again every retry interval,
	 * as when the disk fills while running. Other errors still stop it. */
	if (r == -ENOSPC || r == -EDQUOT) {
		STAT_ADD(w, segment_errors, 1);
		r = 0;
	}
	if (r != 0) {
		snprintf(err, err_len, "wal writer: cannot prepare a spare segment in %s: %s",
			 cfg->wal_dir, strerror(-r));
		wal_writer_destroy(w);
		return r;
	}
	if (cfg->io == WAL_IO_URING)
		r = wal_io_uring_create(&w->io, 2 * cfg->workers < 8 ? 8 : 2u * cfg->workers, err,
					err_len);
	else
		r = wal_io_sync_create(&w->io, cfg->disk);
	if (r == 0 && faults.n > 0) {
		struct wal_io *inner = w->io;

		w->io = NULL; /* the decorator owns it now, destroys it on failure */
		r = wal_io_fault_create(&w->io, inner, &faults, wal_io_fault_process_counts());
		if (r != 0)
			snprintf(err, err_len, "wal writer: cannot set up " WAL_FAULT_ENV ": %s",
				 strerror(-r));
	}
	if (r != 0) {
		wal_writer_destroy(w);
		return r;
	}
	*out = w;
	return 0;
}

int wal_writer_start(struct wal_writer *w)
{
	int r;

	WE_ASSERT(!w->started);
	atomic_store(&w->stop, false);
	w->spare_stop = false;
	r = pthread_create(&w->spare_thread, NULL, spare_main, w);
	if (r != 0)
		return -r;
	pthread_setname_np(w->spare_thread, "we-wal-spare");
	w->spare_started = true;
	r = pthread_create(&w->thread, NULL, writer_main, w);
	if (r != 0) {
		wal_writer_stop(w);
		return -r;
	}
	pthread_setname_np(w->thread, "we-wal");
	w->started = true;
	return 0;
}

void wal_writer_stop(struct wal_writer *w)
{
	if (w->started) {
		atomic_store_explicit(&w->stop, true, memory_order_release);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	if (w->spare_started) {
		pthread_mutex_lock(&w->spare_mu);
		w->spare_stop = true;
		pthread_cond_signal(&w->spare_cv);
		pthread_mutex_unlock(&w->spare_mu);
		pthread_join(w->spare_thread, NULL);
		w->spare_started = false;
	}
}

void wal_writer_destroy(struct wal_writer *w)
{
	if (w == NULL)
		return;
	wal_writer_stop(w);
	if (w->wk != NULL)
		for (uint16_t i = 0; i < w->cfg.workers; i++)
			if (w->wk[i].seg_open)
				wal_segment_close(&w->sd, &w->wk[i].seg);
	wal_io_destroy(w->io);
	free(w->wk);
	free(w->pub);
	free(w->reqs);
	free(w->run);
	free(w->req_worker);
	free(w->req_done);
	free(w->active);
	free(w->zeros);
	free(w->pad_bufs);
	free(w);
}

const struct wal_durable *wal_writer_durable(const struct wal_writer *w, uint16_t worker)
{
	WE_ASSERT(worker >= w->cfg.worker_base && worker < w->cfg.worker_base + w->cfg.workers);
	return &w->pub[worker - w->cfg.worker_base];
}

void wal_writer_stats_get(const struct wal_writer *w, struct wal_writer_stats *o)
{
	struct wal_writer *m = (struct wal_writer *)w; /* atomics load through non-const */

	o->commits = atomic_load(&m->st.commits);
	o->writes = atomic_load(&m->st.writes);
	o->syncs = atomic_load(&m->st.syncs);
	o->records = atomic_load(&m->st.records);
	o->bytes = atomic_load(&m->st.bytes);
	o->short_writes = atomic_load(&m->st.short_writes);
	o->eagain = atomic_load(&m->st.eagain);
	o->write_errors = atomic_load(&m->st.write_errors);
	o->sync_errors = atomic_load(&m->st.sync_errors);
	o->segment_errors = atomic_load(&m->st.segment_errors);
	o->rolls = atomic_load(&m->st.rolls);
	o->failed_commits = atomic_load(&m->st.failed_commits);
	o->last_error = atomic_load(&m->st.last_error);
	o->sched_fifo = atomic_load(&m->st.sched_fifo);
	o->sched_error = atomic_load(&m->st.sched_error);
	o->commit_ns_total = atomic_load(&m->st.commit_ns_total);
	o->commit_ns_max = atomic_load(&m->st.commit_ns_max);
	for (unsigned i = 0; i < WAL_WRITER_COMMIT_BUCKETS; i++)
		o->commit_us_log2[i] = atomic_load(&m->st.commit_us_log2[i]);
	o->roll_ns_max = atomic_load(&m->st.roll_ns_max);
	o->rolls_without_spare = atomic_load(&m->st.rolls_without_spare);
	o->commits_while_spare = atomic_load(&m->st.commits_while_spare);
	o->commit_ns_max_while_spare = atomic_load(&m->st.commit_ns_max_while_spare);
	o->notices_deferred = atomic_load(&m->st.notices_deferred);
}

uint64_t wal_writer_commit_us_quantile(const struct wal_writer_stats *s, double q)
{
	uint64_t n = 0, seen = 0;

	for (unsigned i = 0; i < WAL_WRITER_COMMIT_BUCKETS; i++)
		n += s->commit_us_log2[i];
	if (n == 0)
		return 0;
	for (unsigned i = 0; i < WAL_WRITER_COMMIT_BUCKETS; i++) {
		seen += s->commit_us_log2[i];
		if ((double)seen >= q * (double)n)
			return UINT64_C(2) << i;
	}
	return UINT64_C(2) << (WAL_WRITER_COMMIT_BUCKETS - 1);
}

const char *wal_writer_io_name(const struct wal_writer *w)
{
	return wal_io_name(w->io);
}
