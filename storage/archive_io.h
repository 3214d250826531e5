/* archive_io.h - the disk tier's I/O thread and the workers' ports to it
 * (no DPDK).
 *
 *   archive_io_create      archive_io.c  every worker's file (made empty), ports, buffers
 *   archive_io_start       archive_io.c  the thread (SCHED_OTHER: it may wait on the disk)
 *   archive_io_stop        archive_io.c  join (the workers stopped posting first)
 *   archive_io_destroy     archive_io.c  close the files, free everything
 *   archive_io_step        archive_io.c  one pass over every port (the thread's body; tests call it)
 *   archive_io_port        archive_io.c  one worker's end of the hand-off
 *   archive_io_file        archive_io.c  one worker's file (recovery appends before the start)
 *   archive_io_stats_get   archive_io.c  counters (any thread)
 *   archive_port_*         archive_io.c  the worker's side (no system call, no lock)
 *                                        and the workers' tier dictionaries
 *
 * A worker never waits and never makes a system call, so one thread does
 * every worker's pwrite and pread, through the struct disk, one synchronous
 * call at a time. (An io_uring backend, as the log writer has, can come
 * later behind the same ports: the messages would not change.)
 *
 * The hand-off, per worker, over two control rings (ctl_ring.h), as the
 * checkpoint writer's ports do:
 *   writes  the worker owns ARCHIVE_PORT_WRITE_BUFFERS buffers. It takes
 *           one, fills it with records (archive_batch_add), posts WRITE
 *           with the file offset its segments chose (archive_space.h);
 *           the thread writes the bytes there in one pwrite and answers
 *           WRITTEN with that offset (a record's reference is the offset
 *           plus its offset in the batch). The worker then gives the
 *           buffer back.
 *   reads   the worker owns ARCHIVE_PORT_READ_SLOTS slots, each big enough
 *           for any record. It takes one, posts READ for a reference with a
 *           ticket of its own (which GET waits for it); the thread reads
 *           the record into the slot and answers READ_DONE; the worker
 *           decodes it there (archive_record_decode) and gives the slot
 *           back.
 * A worker holds at most buffers + slots requests, so its answer ring,
 * ARCHIVE_PORT_RING cells, has room for every answer; should it be full
 * anyway, the thread keeps the answer and posts it on a later pass (never
 * dropped), in order.
 *
 * A write past the file's limit is answered -ENOSPC and writes nothing: the
 * worker keeps those items in memory. A failed write moves nothing either.
 */
#ifndef ARCHIVE_IO_H
#define ARCHIVE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "ctl_ring.h"
#include "disk.h"
#include "we_compiler.h"

#define ARCHIVE_WORKERS_MAX 100 /* two digits in the file names */
#define ARCHIVE_PORT_WRITE_BUFFERS 2
#define ARCHIVE_WRITE_BUFFER_BYTES (256u * 1024)
#define ARCHIVE_PORT_READ_SLOTS 32 /* reads in flight per worker */
#define ARCHIVE_READ_SLOT_BYTES ARCHIVE_RECORD_BYTES_MAX
#define ARCHIVE_PORT_RING 64 /* cells of each ring: > buffers + slots */
#define ARCHIVE_PORT_REQUESTS_MAX (ARCHIVE_PORT_WRITE_BUFFERS + ARCHIVE_PORT_READ_SLOTS)

_Static_assert(ARCHIVE_WRITE_BUFFER_BYTES >= ARCHIVE_RECORD_BYTES_MAX, "a buffer holds any record");
_Static_assert(ARCHIVE_PORT_RING > ARCHIVE_PORT_REQUESTS_MAX, "a ring holds every request");
_Static_assert(ARCHIVE_PORT_READ_SLOTS <= 32, "read slots fit a 32-bit mask");

enum archive_msg_type {
	ARCHIVE_MSG_WRITE = 200,     /* to the thread: i32 = buffer, a = bytes, b = records,
				      * c = file offset */
	ARCHIVE_MSG_WRITTEN = 201,   /* to the worker: i32 = 0 or -errno, a = file offset of the
				      * buffer's first byte, b = buffer, c = records */
	ARCHIVE_MSG_READ = 202,      /* to the thread: i32 = slot, a = offset, b = bytes (low 32
				      * bits) and 1 + the worker whose file (above; 0: the
				      * port's own), c = ticket */
	ARCHIVE_MSG_READ_DONE = 203, /* to the worker: i32 = bytes read or -errno, b = slot,
				      * c = ticket */
};

/* One worker's end of the hand-off. */
struct archive_port {
	struct ctl_ring to_io;
	struct ctl_ring to_worker;
	uint16_t worker;
	struct archive_file *files; /* every worker's file (their dictionaries) */
	uint16_t n_files;
	uint8_t *write_buffers[ARCHIVE_PORT_WRITE_BUFFERS];
	uint8_t *read_slots[ARCHIVE_PORT_READ_SLOTS];
	/* The worker's own bookkeeping (only the worker touches these). */
	uint32_t write_free; /* buffers the worker holds, unused */
	uint32_t read_free;  /* slots the worker holds, unused */
	struct ctl_cell cells_to_io[ARCHIVE_PORT_RING];
	struct ctl_cell cells_to_worker[ARCHIVE_PORT_RING];
};

struct archive_io_config {
	struct disk *disk;
	const char *data_dir;      /* holds singularity/ */
	uint16_t workers;
	uint64_t file_limit_bytes; /* per worker's file (0: no limit) */
	uint32_t idle_poll_us;     /* the thread's sleep when a pass found nothing (0: 100) */
};

/* Relaxed counters: readable from any thread while the I/O thread runs. */
struct archive_io_stats {
	uint64_t writes;       /* WRITE requests that were written */
	uint64_t write_bytes;
	uint64_t write_errors; /* failed writes, -ENOSPC included */
	uint64_t reads;        /* READ requests that read something */
	uint64_t read_bytes;
	uint64_t read_errors;
	uint64_t full;         /* writes refused at the file limit */
};

struct archive_io;

int archive_io_create(struct archive_io **out, const struct archive_io_config *cfg, char *err,
		      size_t err_len) we_must_check;
int archive_io_start(struct archive_io *io) we_must_check;
/* The workers stop posting first. Requests still in the rings stay there. */
void archive_io_stop(struct archive_io *io);
void archive_io_destroy(struct archive_io *io);
/* One pass over every port: answers kept from before, then new requests.
 * Returns the messages handled (requests done and kept answers posted).
 * Only one thread steps at a time: the I/O thread, or a test without it. */
unsigned archive_io_step(struct archive_io *io);
struct archive_port *archive_io_port(struct archive_io *io, uint16_t worker);
struct archive_file *archive_io_file(struct archive_io *io, uint16_t worker);
void archive_io_stats_get(struct archive_io *io, struct archive_io_stats *out);

/* ---- the worker's side ------------------------------------------------ */

/* The worker's tier dictionary, published on its file before the first
 * record compressed against it is posted (archive_file_set_dict). */
void archive_port_set_dict(struct archive_port *p, const struct value_dict *dict);
/* Worker `worker`'s dictionary (a region move decodes the old owner's
 * records): NULL when it has none or there is no such worker. */
const struct value_dict *archive_port_dict_of(const struct archive_port *p, uint16_t worker);
/* An unused write buffer: its index, or -1 when none. */
int archive_port_take_write_buffer(struct archive_port *p);
/* Post WRITE for a buffer the worker took and filled, to go at file offset
 * `offset` (archive_space_take). 0; -EAGAIN when the ring is full (the
 * buffer is still the worker's: try again later); -EINVAL for a bad index
 * or bytes over the buffer. */
int archive_port_post_write(struct archive_port *p, int buffer, uint32_t bytes, uint32_t records,
			    uint64_t offset) we_must_check;
/* After its WRITTEN was handled. */
void archive_port_give_back_write_buffer(struct archive_port *p, int buffer);
/* An unused read slot: its index, or -1 when none. */
int archive_port_take_read_slot(struct archive_port *p);
/* Post READ of ref's record into a slot the worker took. 0; -EAGAIN when
 * the ring is full (the slot is still the worker's); -EINVAL for a bad
 * index or a record larger than a slot. */
int archive_port_post_read(struct archive_port *p, int slot, const struct archive_ref *ref,
			   uint64_t ticket) we_must_check;
/* The same from worker `file`'s archive (a region's items moving in from
 * it: region_move.h); READ_DONE answers an unknown worker with -EINVAL. */
int archive_port_post_read_from(struct archive_port *p, int slot, uint16_t file,
				const struct archive_ref *ref, uint64_t ticket) we_must_check;
/* After its READ_DONE was handled (and the record decoded). */
void archive_port_give_back_read_slot(struct archive_port *p, int slot);
/* The thread's answers (WRITTEN, READ_DONE), up to max, in order. */
unsigned archive_port_poll(struct archive_port *p, struct ctl_msg *out, unsigned max);

static inline uint8_t *archive_port_write_buffer(struct archive_port *p, int buffer)
{
	return p->write_buffers[buffer];
}

static inline uint8_t *archive_port_read_slot(struct archive_port *p, int slot)
{
	return p->read_slots[slot];
}

#endif
