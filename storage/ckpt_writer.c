/* ckpt_writer.c - the checkpoint thread (see ckpt_writer.h).
 *
 * DESIGN: one thread, idle on a condition variable until the supervisor
 * begins a checkpoint, then polling the workers' hand-off rings every half
 * millisecond (the workers cannot wake it: no system call on a worker).
 * Each worker's part is independent: it opens at the worker's START,
 * grows a chunk at a time and closes at its DONE, whatever the others do.
 * A failure (a disk error, a worker's ABORT) fails the checkpoint but the
 * thread keeps draining until every worker said DONE or ABORT, so every
 * buffer goes back and the next checkpoint starts clean. The manifest is
 * the only thing that makes a checkpoint count; until it is replaced, the
 * previous one stays in force and an abandoned folder is ignored.
 */
#include "ckpt_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt_manifest.h"
#include "wal_segment.h"
#include "we_time.h"

struct part_state {
	struct ckpt_part *part;
	bool started, done, failed;
	uint64_t start_lsn, end_lsn, items;
	struct ckpt_part_trailer trailer;
};

struct ckpt_writer {
	struct ckpt_writer_config cfg;
	char root[DISK_PATH_MAX];    /* DATA/checkpoints */
	char wal_dir[DISK_PATH_MAX]; /* DATA/wal */
	struct ckpt_port *ports;
	uint8_t *buffers;
	struct part_state *parts;
	/* Chunks with archived items' references are written through these
	 * (with the disk tier): the PUTs they become, one record read back,
	 * its value decompressed. */
	uint8_t *expand_chunk;
	uint8_t *expand_record;
	uint8_t *expand_value;

	pthread_t thread;
	bool started;
	_Atomic bool stop;
	pthread_mutex_t mu; /* guards st, and the hand-over of a new checkpoint */
	pthread_cond_t cv;
	struct ckpt_writer_status st;

	/* The checkpoint in flight (the thread's, once begun). */
	uint64_t id;
	char dir[DISK_PATH_MAX];
	uint64_t began_ns;
	uint16_t parts_done;
	int err;
	char why[CKPT_ERR_MAX];

	/* The manifest in force (the previous checkpoint of the next one). */
	bool have_manifest;
	struct ckpt_manifest manifest;
};

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* ---- the worker's side ---------------------------------------------- */

unsigned ckpt_port_reclaim(struct ckpt_port *p)
{
	struct ctl_msg m[CKPT_PORT_BUFFERS];
	unsigned n = ctl_ring_take(&p->to_worker, m, CKPT_PORT_BUFFERS);

	for (unsigned i = 0; i < n; i++)
		if (m[i].type == CKPT_MSG_FREE && m[i].i32 >= 0 && m[i].i32 < CKPT_PORT_BUFFERS)
			p->free_mask |= 1u << m[i].i32;
	return (unsigned)__builtin_popcount(p->free_mask);
}

int ckpt_port_take(struct ckpt_port *p)
{
	int i;

	if (p->free_mask == 0)
		return -1;
	i = __builtin_ctz(p->free_mask);
	p->free_mask &= ~(1u << i);
	return i;
}

int ckpt_port_post(struct ckpt_port *p, uint32_t type, int32_t i32, uint64_t a, uint64_t b,
		   uint64_t c)
{
	struct ctl_msg m = {.type = type, .i32 = i32, .a = a, .b = b, .c = c};

	return ctl_ring_post(&p->to_writer, &m);
}

/* ---- the thread ------------------------------------------------------ */

static void fail(struct ckpt_writer *w, int err, const char *fmt, const char *what)
{
	if (w->err != 0)
		return; /* the first failure is the one reported */
	w->err = err < 0 ? err : -EIO;
	snprintf(w->why, sizeof(w->why), fmt, what);
}

static void give_back(struct ckpt_port *p, int32_t buf)
{
	struct ctl_msg m = {.type = CKPT_MSG_FREE, .i32 = buf};

	/* Cannot be full: it holds at most the buffers. */
	if (ctl_ring_post(&p->to_worker, &m) != 0)
		abort();
}

static void on_start(struct ckpt_writer *w, uint16_t k, const struct ctl_msg *m)
{
	struct part_state *ps = &w->parts[k];
	struct ckpt_part_header h = {
		.worker = k,
		.worker_count = w->cfg.workers,
		.checkpoint_id = w->id,
		.generation = w->cfg.generation,
		.start_lsn = m->b,
		.chunk_raw_max = w->cfg.chunk_bytes,
	};
	int r;

	ps->started = true;
	ps->start_lsn = m->b;
	r = ckpt_part_create(&ps->part, w->cfg.disk, w->dir, &h);
	if (r != 0) {
		ps->part = NULL;
		ps->failed = true;
		fail(w, r, "cannot create a part in %.400s", w->dir);
	}
}

/* Writes chunk in as it would be if every archived item's reference in it
 * were the item's PUT: values read back from worker k's archive file (whose
 * worker frees no segment while a checkpoint is under way, so a reference
 * the scan saw stays readable even if the item changed since: the log after
 * the part's start LSN brings it up to date, as for any item of a fuzzy
 * checkpoint). */
static int write_expanded(struct ckpt_writer *w, uint16_t k, struct ckpt_part *part,
			  const struct ckpt_chunk *in)
{
	struct ckpt_chunk out;
	uint32_t off = 0;
	int r;

	if (w->cfg.archives == NULL || w->cfg.archives[k] == NULL || w->expand_chunk == NULL)
		return -ENOTSUP;
	ckpt_chunk_init(&out, w->expand_chunk, w->cfg.chunk_bytes, k);
	while (off < in->used) {
		struct wal_record rec;
		uint32_t bytes;

		if (wal_record_decode(in->buf + off, in->used - off, &rec, &bytes) != WAL_DECODE_OK)
			return -EBADMSG;
		off += bytes;
		if (rec.type == WAL_REC_ARCHIVED) {
			struct archive_ref ref;
			const uint8_t *value;
			uint32_t value_len;

			memcpy(&ref, rec.value, sizeof(ref));
			r = archive_file_read_value(w->cfg.archives[k], &ref, rec.key,
						    (uint8_t)rec.key_len, w->expand_record,
						    w->expand_value, &value, &value_len);
			if (r != 0)
				return r;
			rec.type = WAL_REC_PUT;
			rec.value = value;
			rec.value_len = value_len;
		}
		r = ckpt_chunk_add(&out, &rec);
		if (r == -ENOSPC) {
			r = ckpt_part_write_chunk(part, &out);
			if (r != 0)
				return r;
			ckpt_chunk_reset(&out);
			r = ckpt_chunk_add(&out, &rec);
		}
		if (r != 0)
			return r;
	}
	return out.records != 0 ? ckpt_part_write_chunk(part, &out) : 0;
}

static void on_chunk(struct ckpt_writer *w, uint16_t k, const struct ctl_msg *m)
{
	struct ckpt_port *p = &w->ports[k];
	struct part_state *ps = &w->parts[k];

	if (ps->part != NULL && !ps->failed && m->i32 >= 0 && m->i32 < CKPT_PORT_BUFFERS) {
		struct ckpt_chunk c = {
			.buf = p->buffers[m->i32],
			.cap = p->chunk_bytes,
			.used = (uint32_t)m->a,
			.records = (uint32_t)m->b,
			.worker = k,
		};
		int r = m->c != 0 ? write_expanded(w, k, ps->part, &c)
				  : ckpt_part_write_chunk(ps->part, &c);

		if (r != 0) {
			ckpt_part_abort(ps->part);
			ps->part = NULL;
			ps->failed = true;
			fail(w, r, "cannot write a chunk in %.400s", w->dir);
		}
	}
	if (m->i32 >= 0 && m->i32 < CKPT_PORT_BUFFERS)
		give_back(p, m->i32);
}

static void on_end(struct ckpt_writer *w, uint16_t k, const struct ctl_msg *m)
{
	struct part_state *ps = &w->parts[k];

	ps->done = true;
	w->parts_done++;
	if (m->type == CKPT_MSG_ABORT) {
		ps->failed = true;
		fail(w, m->i32, "a worker gave up its scan (%s)", strerror(-m->i32));
	} else {
		ps->end_lsn = m->b;
		ps->items = m->c;
	}
	if (ps->part == NULL)
		return;
	if (ps->failed) {
		ckpt_part_abort(ps->part);
	} else {
		int r = ckpt_part_finish(ps->part, &ps->trailer);

		if (r != 0) {
			ps->failed = true;
			fail(w, r, "cannot finish a part in %.400s", w->dir);
		} else if (ps->trailer.items != ps->items) {
			ps->failed = true;
			fail(w, -EPROTO, "a part's item count disagrees with its worker's in %.400s",
			     w->dir);
		}
	}
	ps->part = NULL;
}

/* Take what the workers posted; true if anything was. */
static bool drain(struct ckpt_writer *w)
{
	bool any = false;

	for (uint16_t k = 0; k < w->cfg.workers; k++) {
		struct ctl_msg m[8];
		unsigned n;

		while ((n = ctl_ring_take(&w->ports[k].to_writer, m, 8)) > 0) {
			any = true;
			for (unsigned i = 0; i < n; i++) {
				if (m[i].type == CKPT_MSG_CHUNK) {
					on_chunk(w, k, &m[i]);
					continue;
				}
				if (m[i].a != w->id || w->parts[k].done)
					continue; /* not of this checkpoint */
				if (m[i].type == CKPT_MSG_START && !w->parts[k].started)
					on_start(w, k, &m[i]);
				else if (m[i].type == CKPT_MSG_DONE || m[i].type == CKPT_MSG_ABORT)
					on_end(w, k, &m[i]);
			}
		}
	}
	return any;
}

/* Wait until each worker's log is durable up to the LSN its scan ended at. */
static int wait_durable(struct ckpt_writer *w)
{
	uint64_t deadline = we_monotonic_ns() + (uint64_t)w->cfg.durable_wait_ms * 1000000;

	for (;;) {
		bool all = true;

		for (uint16_t k = 0; k < w->cfg.workers && all; k++)
			all = wal_durable_lsn(wal_writer_durable(w->cfg.log, k)) >=
			      w->parts[k].end_lsn;
		if (all)
			return 0;
		if (atomic_load(&w->stop) || we_monotonic_ns() > deadline)
			return -ETIMEDOUT;
		sleep_us(500);
	}
}

struct seg_info {
	uint16_t worker;
	uint64_t sequence;
	uint64_t generation;
	uint64_t first_lsn;
	char name[WAL_SEGMENT_NAME_MAX];
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg_info *x = a, *y = b;

	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

/* Whether segment i (of the sorted array) holds only records that
 * checkpoint p covers (the retention rule in ckpt_manifest.h): an older
 * generation, or p's generation and the next segment of the same log
 * begins at or below p's start LSN + 1. */
static bool seg_covered(const struct seg_info *s, uint32_t n, uint32_t i,
			const struct ckpt_manifest *p)
{
	if (s[i].generation < p->generation)
		return true;
	if (s[i].generation > p->generation || s[i].worker >= p->worker_count)
		return false;
	return i + 1 < n && s[i + 1].worker == s[i].worker && s[i + 1].generation == s[i].generation &&
	       s[i + 1].first_lsn <= p->start_lsn[s[i].worker] + 1;
}

/* Unlinks the log segments checkpoint p covers. Off the commit path: the
 * writer never touches a closed segment again, and the one it appends to
 * has no successor, so it is never covered. Returns how many. */
static uint64_t retire_segments(struct ckpt_writer *w, const struct ckpt_manifest *p)
{
	struct disk *d = w->cfg.disk;
	struct disk_name *names = NULL;
	struct seg_info *s;
	uint32_t count = 0, n = 0;
	uint64_t retired = 0;

	if (disk_list_all(d, w->wal_dir, &names, &count) != 0)
		return 0;
	s = calloc(count ? count : 1, sizeof(*s));
	for (uint32_t i = 0; s != NULL && i < count; i++) {
		struct wal_segment_header h;
		uint8_t hdr[WAL_SEGMENT_HDR_BYTES];
		char path[DISK_PATH_MAX];
		uint16_t wk;
		uint64_t seq;
		int fd;

		if (wal_segment_parse_name(names[i].name, &wk, &seq) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", w->wal_dir, names[i].name) >=
			    (int)sizeof(path) ||
		    disk_open(d, path, DISK_O_RDONLY, &fd) != 0)
			continue;
		if (disk_pread_all(d, fd, hdr, sizeof(hdr), 0) == (int64_t)sizeof(hdr) &&
		    wal_segment_header_decode(hdr, sizeof(hdr), &h) == 0 && h.worker == wk) {
			s[n] = (struct seg_info){.worker = wk, .sequence = seq,
						 .generation = h.generation, .first_lsn = h.first_lsn};
			snprintf(s[n].name, sizeof(s[n].name), "%.31s", names[i].name);
			n++;
		}
		disk_close(d, fd);
	}
	free(names);
	if (s == NULL)
		return 0;
	qsort(s, n, sizeof(*s), seg_cmp);
	for (uint32_t i = 0; i < n; i++) {
		char path[DISK_PATH_MAX];

		if (!seg_covered(s, n, i, p))
			continue;
		if (snprintf(path, sizeof(path), "%.4000s/%.31s", w->wal_dir, s[i].name) >=
		    (int)sizeof(path))
			continue;
		if (disk_unlink(d, path) == 0)
			retired++;
	}
	free(s);
	if (retired > 0 && disk_fsync_dir(d, w->wal_dir) != 0)
		fail(w, -EIO, "cannot sync %.400s after retiring segments", w->wal_dir);
	return retired;
}

/* Removes the part files of checkpoints older than below_id. (The empty
 * folders stay: the disk interface has no rmdir yet; ckpt_pick and
 * ckpt_next_id treat them as abandoned checkpoints.) */
static uint64_t remove_old_checkpoints(struct ckpt_writer *w, uint64_t below_id)
{
	struct disk *d = w->cfg.disk;
	struct disk_name *dirs = NULL;
	uint32_t ndirs = 0;
	uint64_t removed = 0;

	if (ckpt_list_older(d, w->root, below_id, &dirs, &ndirs) != 0)
		return 0;
	for (uint32_t i = 0; i < ndirs; i++) {
		char dir[DISK_PATH_MAX];
		struct disk_name *parts = NULL;
		uint32_t nparts = 0, gone = 0;

		if (snprintf(dir, sizeof(dir), "%s/%s", w->root, dirs[i].name) >= (int)sizeof(dir) ||
		    disk_list_all(d, dir, &parts, &nparts) != 0)
			continue;
		for (uint32_t j = 0; j < nparts; j++) {
			char path[DISK_PATH_MAX];

			if (snprintf(path, sizeof(path), "%s/%s", dir, parts[j].name) <
				    (int)sizeof(path) &&
			    disk_unlink(d, path) == 0)
				gone++;
		}
		free(parts);
		if (gone > 0)
			removed++;
	}
	free(dirs);
	return removed;
}

/* Every part is in: complete the checkpoint (or count its failure). */
static void complete(struct ckpt_writer *w)
{
	struct ckpt_summary sum;
	struct ckpt_manifest m;
	uint64_t file_bytes = 0, chunks = 0, items = 0, raw = 0;
	uint64_t retired = 0, removed = 0;
	int r = w->err;

	if (r == 0 && (r = wait_durable(w)) != 0)
		fail(w, r, "%s", "the log did not become durable up to the checkpoint's end in time");
	if (r == 0) {
		memset(&sum, 0, sizeof(sum));
		sum.checkpoint_id = w->id;
		sum.generation = w->cfg.generation;
		sum.worker_count = w->cfg.workers;
		for (uint16_t k = 0; k < w->cfg.workers; k++) {
			const struct ckpt_part_trailer *t = &w->parts[k].trailer;

			sum.start_lsn[k] = w->parts[k].start_lsn;
			sum.items[k] = t->items;
			sum.chunks[k] = t->chunks;
			items += t->items;
			chunks += t->chunks;
			raw += t->raw_bytes;
			file_bytes += t->trailer_offset + CKPT_TRAILER_BYTES;
		}
		ckpt_manifest_fill(&m, &sum, w->have_manifest ? w->manifest.checkpoint_id : 0);
		r = ckpt_manifest_write(w->cfg.disk, w->root, &m, w->why, sizeof(w->why));
		if (r != 0 && w->err == 0)
			w->err = r;
	}
	if (r == 0) {
		/* The checkpoint that was in force is now the previous one:
		 * what it covers may go, and the folders before it. */
		if (w->have_manifest) {
			retired = retire_segments(w, &w->manifest);
			removed = remove_old_checkpoints(w, w->manifest.checkpoint_id);
		}
		w->manifest = m;
		w->have_manifest = true;
	}
	pthread_mutex_lock(&w->mu);
	if (r == 0) {
		w->st.completed++;
		w->st.last_id = w->id;
		w->st.last_items = items;
		w->st.last_chunks = chunks;
		w->st.last_raw_bytes = raw;
		w->st.last_file_bytes = file_bytes;
		w->st.last_ms = (we_monotonic_ns() - w->began_ns) / 1000000;
		w->st.segments_retired += retired;
		w->st.checkpoints_removed += removed;
	} else {
		w->st.failed++;
		w->st.last_error = r;
		snprintf(w->st.last_failure, sizeof(w->st.last_failure), "checkpoint %llu: %.480s",
			 (unsigned long long)w->id, w->why);
	}
	w->st.state = CKPT_IDLE;
	w->st.running_id = 0;
	pthread_mutex_unlock(&w->mu);
}

static void *ckpt_main(void *arg)
{
	struct ckpt_writer *w = arg;

	while (!atomic_load(&w->stop)) {
		bool running;

		pthread_mutex_lock(&w->mu);
		running = w->st.state == CKPT_RUNNING;
		if (!running) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &until);
		}
		pthread_mutex_unlock(&w->mu);
		if (!running)
			continue;
		if (drain(w))
			continue;
		if (w->parts_done == w->cfg.workers)
			complete(w);
		else
			sleep_us(500);
	}
	return NULL;
}

/* ---- set-up and control ----------------------------------------------- */

int ckpt_writer_create(struct ckpt_writer **out, const struct ckpt_writer_config *cfg, char *err,
		       size_t err_len)
{
	struct ckpt_writer *w;
	char merr[CKPT_ERR_MAX];
	uint32_t chunk = cfg->chunk_bytes ? cfg->chunk_bytes : CKPT_CHUNK_RAW_DEFAULT;
	int r;

	*out = NULL;
	if (cfg->workers == 0 || cfg->workers > CKPT_WORKERS_MAX || cfg->log == NULL ||
	    chunk < CKPT_CHUNK_RAW_MIN || chunk > CKPT_CHUNK_RAW_MAX || chunk % 8 != 0) {
		snprintf(err, err_len, "checkpoint writer: invalid configuration (%u workers, "
			 "chunks of %u bytes)", cfg->workers, chunk);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cfg = *cfg;
	w->cfg.chunk_bytes = chunk;
	if (w->cfg.durable_wait_ms == 0)
		w->cfg.durable_wait_ms = 10000;
	if (snprintf(w->root, sizeof(w->root), "%s/checkpoints", cfg->data_dir) >=
		    (int)sizeof(w->root) ||
	    snprintf(w->wal_dir, sizeof(w->wal_dir), "%s/wal", cfg->data_dir) >=
		    (int)sizeof(w->wal_dir)) {
		free(w);
		snprintf(err, err_len, "checkpoint writer: data directory path too long");
		return -ENAMETOOLONG;
	}
	w->ports = aligned_alloc(64, ((sizeof(*w->ports) * cfg->workers) + 63) & ~(size_t)63);
	w->buffers = aligned_alloc(64, ((size_t)chunk * CKPT_PORT_BUFFERS * cfg->workers + 63) &
					       ~(size_t)63);
	w->parts = calloc(cfg->workers, sizeof(*w->parts));
	if (cfg->archives != NULL) {
		w->expand_chunk = aligned_alloc(64, chunk);
		w->expand_record = malloc(ARCHIVE_RECORD_BYTES_MAX);
		w->expand_value = malloc(ARCHIVE_VALUE_MAX);
		if (w->expand_chunk == NULL || w->expand_record == NULL || w->expand_value == NULL) {
			ckpt_writer_destroy(w);
			return -ENOMEM;
		}
	}
	if (w->ports == NULL || w->buffers == NULL || w->parts == NULL) {
		ckpt_writer_destroy(w);
		return -ENOMEM;
	}
	memset(w->ports, 0, sizeof(*w->ports) * cfg->workers);
	for (uint16_t k = 0; k < cfg->workers; k++) {
		struct ckpt_port *p = &w->ports[k];

		if (ctl_ring_init(&p->to_writer, p->cells_to_writer, CKPT_PORT_RING) != 0 ||
		    ctl_ring_init(&p->to_worker, p->cells_to_worker, CKPT_PORT_RING) != 0)
			abort();
		p->worker = k;
		p->chunk_bytes = chunk;
		for (int b = 0; b < CKPT_PORT_BUFFERS; b++)
			p->buffers[b] = w->buffers + ((size_t)k * CKPT_PORT_BUFFERS + (size_t)b) * chunk;
		p->free_mask = (1u << CKPT_PORT_BUFFERS) - 1;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	r = ckpt_manifest_read(cfg->disk, w->root, &w->manifest, merr, sizeof(merr));
	if (r == 0) {
		w->have_manifest = true;
	} else if (r != -ENOENT) {
		snprintf(err, err_len, "%s", merr);
		ckpt_writer_destroy(w);
		return r;
	}
	*out = w;
	return 0;
}

int ckpt_writer_start(struct ckpt_writer *w)
{
	int r = pthread_create(&w->thread, NULL, ckpt_main, w);

	if (r != 0)
		return -r;
	pthread_setname_np(w->thread, "we-ckpt");
	w->started = true;
	return 0;
}

void ckpt_writer_stop(struct ckpt_writer *w)
{
	if (w == NULL || !w->started)
		return;
	atomic_store(&w->stop, true);
	pthread_mutex_lock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = false;
	for (uint16_t k = 0; k < w->cfg.workers; k++)
		if (w->parts[k].part != NULL) {
			ckpt_part_abort(w->parts[k].part);
			w->parts[k].part = NULL;
		}
}

void ckpt_writer_destroy(struct ckpt_writer *w)
{
	if (w == NULL)
		return;
	ckpt_writer_stop(w);
	if (w->ports != NULL) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	free(w->ports);
	free(w->buffers);
	free(w->parts);
	free(w->expand_chunk);
	free(w->expand_record);
	free(w->expand_value);
	free(w);
}

int ckpt_writer_begin(struct ckpt_writer *w, uint64_t *id, char *err, size_t err_len)
{
	uint64_t next;
	int r;

	pthread_mutex_lock(&w->mu);
	if (w->st.state == CKPT_RUNNING) {
		pthread_mutex_unlock(&w->mu);
		snprintf(err, err_len, "checkpoint %llu is still being written",
			 (unsigned long long)w->st.running_id);
		return -EBUSY;
	}
	r = ckpt_next_id(w->cfg.disk, w->root, &next);
	/* FIX: never hand out an id again. ckpt_next_id finds the ids of
	 * failed checkpoints only by listing their folders, and a disk that
	 * lists files only (the fake disk) made the attempt after a failure
	 * take the failed one's id: its parts exist, ckpt_part_create said
	 * -EEXIST and every later checkpoint failed the same way. */
	if (r == 0 && next <= w->id)
		next = w->id + 1;
	if (r == 0)
		r = ckpt_begin(w->cfg.disk, w->root, next, w->dir);
	if (r != 0) {
		pthread_mutex_unlock(&w->mu);
		snprintf(err, err_len, "cannot begin a checkpoint in %s: %s", w->root, strerror(-r));
		return r;
	}
	w->id = next;
	w->began_ns = we_monotonic_ns();
	w->parts_done = 0;
	w->err = 0;
	w->why[0] = 0;
	memset(w->parts, 0, sizeof(*w->parts) * w->cfg.workers);
	w->st.state = CKPT_RUNNING;
	w->st.running_id = next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	*id = next;
	return 0;
}

struct ckpt_port *ckpt_writer_port(struct ckpt_writer *w, uint16_t worker)
{
	return worker < w->cfg.workers ? &w->ports[worker] : NULL;
}

void ckpt_writer_status(struct ckpt_writer *w, struct ckpt_writer_status *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}
