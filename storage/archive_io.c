/* archive_io.c - the disk tier's I/O thread (see archive_io.h).
 *
 * DESIGN: one thread polls every worker's request ring (the workers cannot
 * wake it: no system call on a worker) and sleeps idle_poll_us when a pass
 * found nothing. Each request is answered exactly once. An answer the
 * worker's ring refuses waits in the port's queue of kept answers, and the
 * port's later answers queue behind it, so a worker sees its answers in
 * the order of its requests. The thread takes no more requests from a port
 * than that queue has room for, so the queue never overflows, whatever a
 * worker posts.
 */
#include "archive_io.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_STRIDE ((ARCHIVE_READ_SLOT_BYTES + 63u) & ~63u)
#define PORT_MEMORY                                                            \
	((size_t)ARCHIVE_WRITE_BUFFER_BYTES * ARCHIVE_PORT_WRITE_BUFFERS +           \
	 (size_t)SLOT_STRIDE * ARCHIVE_PORT_READ_SLOTS)
#define TAKE_BATCH 8u

/* Answers a worker's ring refused, oldest first. */
struct kept {
	struct ctl_msg q[ARCHIVE_PORT_REQUESTS_MAX];
	uint32_t head;
	uint32_t count;
};

struct stats_atomic {
	_Atomic uint64_t writes, write_bytes, write_errors;
	_Atomic uint64_t reads, read_bytes, read_errors;
	_Atomic uint64_t full;
};

struct archive_io {
	struct archive_io_config cfg;
	struct archive_port *ports;
	struct archive_file *files;
	struct kept *kept;
	uint8_t *memory; /* every port's buffers and slots */
	struct stats_atomic st;

	pthread_t thread;
	bool started;
	_Atomic bool stop;
};

static void sleep_us(uint64_t us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- the worker's side ---------------------------------------------- */

static int take_bit(uint32_t *mask)
{
	int i;

	if (*mask == 0)
		return -1;
	i = __builtin_ctz(*mask);
	*mask &= ~(1u << i);
	return i;
}

int archive_port_take_write_buffer(struct archive_port *p)
{
	return take_bit(&p->write_free);
}

int archive_port_post_write(struct archive_port *p, int buffer, uint32_t bytes, uint32_t records,
			    uint64_t offset)
{
	struct ctl_msg m = {
		.type = ARCHIVE_MSG_WRITE, .i32 = buffer, .a = bytes, .b = records, .c = offset};

	if (buffer < 0 || buffer >= ARCHIVE_PORT_WRITE_BUFFERS || bytes > ARCHIVE_WRITE_BUFFER_BYTES)
		return -EINVAL;
	return ctl_ring_post(&p->to_io, &m);
}

void archive_port_give_back_write_buffer(struct archive_port *p, int buffer)
{
	if (buffer >= 0 && buffer < ARCHIVE_PORT_WRITE_BUFFERS)
		p->write_free |= 1u << buffer;
}

int archive_port_take_read_slot(struct archive_port *p)
{
	return take_bit(&p->read_free);
}

int archive_port_post_read(struct archive_port *p, int slot, const struct archive_ref *ref,
			   uint64_t ticket)
{
	return archive_port_post_read_from(p, slot, p->worker, ref, ticket);
}

int archive_port_post_read_from(struct archive_port *p, int slot, uint16_t file,
				const struct archive_ref *ref, uint64_t ticket)
{
	/* b: the bytes, and above them 1 + the file's worker (0: the port's). */
	struct ctl_msg m = {.type = ARCHIVE_MSG_READ, .i32 = slot, .a = ref->offset,
			    .b = ref->bytes | ((uint64_t)file + 1) << 32, .c = ticket};

	if (slot < 0 || slot >= ARCHIVE_PORT_READ_SLOTS || ref->bytes > ARCHIVE_READ_SLOT_BYTES)
		return -EINVAL;
	return ctl_ring_post(&p->to_io, &m);
}

void archive_port_give_back_read_slot(struct archive_port *p, int slot)
{
	if (slot >= 0 && slot < ARCHIVE_PORT_READ_SLOTS)
		p->read_free |= 1u << slot;
}

unsigned archive_port_poll(struct archive_port *p, struct ctl_msg *out, unsigned max)
{
	return ctl_ring_take(&p->to_worker, out, max);
}

/* ---- the thread ------------------------------------------------------ */

/* Post an answer, or keep it behind the answers kept before. */
static void answer(struct archive_io *io, uint16_t k, const struct ctl_msg *m)
{
	struct kept *kp = &io->kept[k];

	if (kp->count == 0 && ctl_ring_post(&io->ports[k].to_worker, m) == 0)
		return;
	/* Room is reserved: the thread takes no more requests than this. */
	if (kp->count == ARCHIVE_PORT_REQUESTS_MAX)
		abort();
	kp->q[(kp->head + kp->count) % ARCHIVE_PORT_REQUESTS_MAX] = *m;
	kp->count++;
}

/* Post the kept answers the worker's ring takes now; how many. */
static unsigned flush_kept(struct archive_io *io, uint16_t k)
{
	struct kept *kp = &io->kept[k];
	unsigned n = 0;

	while (kp->count > 0 && ctl_ring_post(&io->ports[k].to_worker, &kp->q[kp->head]) == 0) {
		kp->head = (kp->head + 1) % ARCHIVE_PORT_REQUESTS_MAX;
		kp->count--;
		n++;
	}
	return n;
}

static void on_write(struct archive_io *io, uint16_t k, const struct ctl_msg *m)
{
	struct ctl_msg a = {.type = ARCHIVE_MSG_WRITTEN, .b = (uint64_t)(int64_t)m->i32, .c = m->b};
	uint64_t offset = m->c;
	int r = -EINVAL;

	if (m->i32 >= 0 && m->i32 < ARCHIVE_PORT_WRITE_BUFFERS && m->a <= ARCHIVE_WRITE_BUFFER_BYTES)
		r = archive_file_write_at(&io->files[k], io->ports[k].write_buffers[m->i32],
					  (uint32_t)m->a, offset);
	if (r == 0) {
		count(&io->st.writes, 1);
		count(&io->st.write_bytes, m->a);
	} else {
		count(&io->st.write_errors, 1);
		if (r == -ENOSPC)
			count(&io->st.full, 1);
	}
	a.i32 = r;
	a.a = offset;
	answer(io, k, &a);
}

static void on_read(struct archive_io *io, uint16_t k, const struct ctl_msg *m)
{
	struct ctl_msg a = {.type = ARCHIVE_MSG_READ_DONE, .b = (uint64_t)(int64_t)m->i32, .c = m->c};
	uint32_t bytes = (uint32_t)m->b;
	uint64_t file = (m->b >> 32) == 0 ? k : (m->b >> 32) - 1;
	int64_t n = -EINVAL;

	if (m->i32 >= 0 && m->i32 < ARCHIVE_PORT_READ_SLOTS && bytes <= ARCHIVE_READ_SLOT_BYTES &&
	    file < io->cfg.workers)
		n = archive_file_read(&io->files[file], io->ports[k].read_slots[m->i32], bytes,
				      m->a);
	if (n >= 0) {
		count(&io->st.reads, 1);
		count(&io->st.read_bytes, (uint64_t)n);
	} else {
		count(&io->st.read_errors, 1);
	}
	a.i32 = (int32_t)n; /* at most a slot's bytes */
	answer(io, k, &a);
}

static void on_request(struct archive_io *io, uint16_t k, const struct ctl_msg *m)
{
	if (m->type == ARCHIVE_MSG_WRITE)
		on_write(io, k, m);
	else if (m->type == ARCHIVE_MSG_READ)
		on_read(io, k, m);
	/* Nothing else is posted to the thread; an unknown message has no
	 * answer to wait for. */
}

/* One port: the kept answers, then as many requests as answers fit. */
static unsigned step_port(struct archive_io *io, uint16_t k)
{
	struct kept *kp = &io->kept[k];
	unsigned handled = flush_kept(io, k);

	for (;;) {
		struct ctl_msg m[TAKE_BATCH];
		unsigned room = ARCHIVE_PORT_REQUESTS_MAX - kp->count;
		unsigned n;

		if (room == 0)
			break;
		n = ctl_ring_take(&io->ports[k].to_io, m, room < TAKE_BATCH ? room : TAKE_BATCH);
		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++)
			on_request(io, k, &m[i]);
		handled += n;
	}
	return handled;
}

unsigned archive_io_step(struct archive_io *io)
{
	unsigned handled = 0;

	for (uint16_t k = 0; k < io->cfg.workers; k++)
		handled += step_port(io, k);
	return handled;
}

static void *archive_main(void *arg)
{
	struct archive_io *io = arg;

	while (!atomic_load(&io->stop))
		if (archive_io_step(io) == 0)
			sleep_us(io->cfg.idle_poll_us);
	return NULL;
}

void archive_port_set_dict(struct archive_port *p, const struct value_dict *dict)
{
	archive_file_set_dict(&p->files[p->worker], dict);
}

const struct value_dict *archive_port_dict_of(const struct archive_port *p, uint16_t worker)
{
	return worker < p->n_files ? archive_file_dict(&p->files[worker]) : NULL;
}

/* ---- set-up and control ----------------------------------------------- */

static void port_init(struct archive_port *p, struct archive_io *io, uint16_t worker,
		      uint8_t *mem)
{
	if (ctl_ring_init(&p->to_io, p->cells_to_io, ARCHIVE_PORT_RING) != 0 ||
	    ctl_ring_init(&p->to_worker, p->cells_to_worker, ARCHIVE_PORT_RING) != 0)
		abort();
	p->worker = worker;
	p->files = io->files;
	p->n_files = io->cfg.workers;
	for (int b = 0; b < ARCHIVE_PORT_WRITE_BUFFERS; b++)
		p->write_buffers[b] = mem + (size_t)b * ARCHIVE_WRITE_BUFFER_BYTES;
	mem += (size_t)ARCHIVE_PORT_WRITE_BUFFERS * ARCHIVE_WRITE_BUFFER_BYTES;
	for (int s = 0; s < ARCHIVE_PORT_READ_SLOTS; s++)
		p->read_slots[s] = mem + (size_t)s * SLOT_STRIDE;
	p->write_free = (1u << ARCHIVE_PORT_WRITE_BUFFERS) - 1;
	p->read_free = ARCHIVE_PORT_READ_SLOTS == 32 ? UINT32_MAX
						     : (1u << ARCHIVE_PORT_READ_SLOTS) - 1;
}

int archive_io_create(struct archive_io **out, const struct archive_io_config *cfg, char *err,
		      size_t err_len)
{
	struct archive_io *io;
	size_t ports_bytes = (sizeof(struct archive_port) * cfg->workers + 63) & ~(size_t)63;

	*out = NULL;
	if (cfg->disk == NULL || cfg->data_dir == NULL || cfg->workers == 0 ||
	    cfg->workers > ARCHIVE_WORKERS_MAX) {
		snprintf(err, err_len, "archive: invalid configuration (%u workers)", cfg->workers);
		return -EINVAL;
	}
	io = calloc(1, sizeof(*io));
	if (io == NULL)
		return -ENOMEM;
	io->cfg = *cfg;
	if (io->cfg.idle_poll_us == 0)
		io->cfg.idle_poll_us = 100;
	io->ports = aligned_alloc(64, ports_bytes);
	io->files = calloc(cfg->workers, sizeof(*io->files));
	io->kept = calloc(cfg->workers, sizeof(*io->kept));
	io->memory = aligned_alloc(64, PORT_MEMORY * cfg->workers);
	for (uint16_t k = 0; io->files != NULL && k < cfg->workers; k++)
		io->files[k].fd = -1; /* for destroy, should anything below fail */
	if (io->ports == NULL || io->files == NULL || io->kept == NULL || io->memory == NULL) {
		archive_io_destroy(io);
		snprintf(err, err_len, "archive: out of memory");
		return -ENOMEM;
	}
	memset(io->ports, 0, ports_bytes);
	for (uint16_t k = 0; k < cfg->workers; k++) {
		int r = archive_file_create(&io->files[k], cfg->disk, cfg->data_dir, k,
					    cfg->file_limit_bytes);

		if (r != 0) {
			snprintf(err, err_len, "archive: cannot create worker %u's file in %.400s/"
				 ARCHIVE_DIR ": %s", k, cfg->data_dir, strerror(-r));
			archive_io_destroy(io);
			return r;
		}
		port_init(&io->ports[k], io, k, io->memory + PORT_MEMORY * k);
	}
	*out = io;
	return 0;
}

int archive_io_start(struct archive_io *io)
{
	int r;

	atomic_store(&io->stop, false);
	r = pthread_create(&io->thread, NULL, archive_main, io);
	if (r != 0)
		return -r;
	pthread_setname_np(io->thread, "we-archive");
	io->started = true;
	return 0;
}

void archive_io_stop(struct archive_io *io)
{
	if (io == NULL || !io->started)
		return;
	atomic_store(&io->stop, true);
	pthread_join(io->thread, NULL);
	io->started = false;
}

void archive_io_destroy(struct archive_io *io)
{
	if (io == NULL)
		return;
	archive_io_stop(io);
	for (uint16_t k = 0; io->files != NULL && k < io->cfg.workers; k++)
		archive_file_close(&io->files[k]);
	free(io->ports);
	free(io->files);
	free(io->kept);
	free(io->memory);
	free(io);
}

struct archive_port *archive_io_port(struct archive_io *io, uint16_t worker)
{
	return worker < io->cfg.workers ? &io->ports[worker] : NULL;
}

struct archive_file *archive_io_file(struct archive_io *io, uint16_t worker)
{
	return worker < io->cfg.workers ? &io->files[worker] : NULL;
}

void archive_io_stats_get(struct archive_io *io, struct archive_io_stats *out)
{
	out->writes = atomic_load_explicit(&io->st.writes, memory_order_relaxed);
	out->write_bytes = atomic_load_explicit(&io->st.write_bytes, memory_order_relaxed);
	out->write_errors = atomic_load_explicit(&io->st.write_errors, memory_order_relaxed);
	out->reads = atomic_load_explicit(&io->st.reads, memory_order_relaxed);
	out->read_bytes = atomic_load_explicit(&io->st.read_bytes, memory_order_relaxed);
	out->read_errors = atomic_load_explicit(&io->st.read_errors, memory_order_relaxed);
	out->full = atomic_load_explicit(&io->st.full, memory_order_relaxed);
}
