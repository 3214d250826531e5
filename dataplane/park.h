/* park.h - answers a worker holds back until the log is durable (no DPDK).
 *
 *   park_table_init    park.c  bind a table to memory handed in
 *   park_add           park.c  hold one answer until its LSN is durable
 *   park_release       park.c  hand back, in order, the answers now durable
 *   park_fail_all      park.c  hand back every held answer with a status
 *   park_return        park.c  take back the last answers handed out (not sent)
 *   park_full, park_count      inline, below
 *
 * A strong write is answered only once its log record's group commit is on
 * disk, and the worker must keep serving meanwhile. So the answer, not the
 * request, waits: a compact entry with what is needed to send it later (the
 * client's addressing as received, the echo, the entry's op and opaque, the
 * status, the LSN it waits for), never the request's mbuf. A worker's LSNs
 * only grow, so the table is a FIFO ring released from its head while the
 * head's LSN is durable. It is bounded: when it is full the worker answers
 * BUSY without executing the write (counted by the caller).
 *
 * Entries released together that belong to one client datagram (same
 * addressing and echo, consecutive) go out in one reply datagram: see
 * park_same_datagram().
 */
#ifndef PARK_H
#define PARK_H

#include <stdbool.h>
#include <stdint.h>

#include "netio.h"
#include "we_compiler.h"

/*
 * Entry, 56 bytes:
 *   0  lsn      u64   released once the log is durable up to it
 *   8  echo     u64   the request datagram's echo
 *  16  opaque   u32   the entry's opaque
 *  20  op       u8
 *  21  status   u8    the answer's status (OK, or what the write returned)
 *  22  pad[2]
 *  24  udp      struct netio_udp (32 bytes): where the request came from and
 *               went to, for netio_write_udp_reply()
 */
struct park_entry {
	uint64_t lsn;
	uint64_t echo;
	uint32_t opaque;
	uint8_t op;
	uint8_t status;
	uint8_t pad[2];
	struct netio_udp udp;
};
_Static_assert(sizeof(struct netio_udp) == 32, "struct netio_udp layout");
_Static_assert(sizeof(struct park_entry) == 56, "park entry layout");

struct park_table {
	struct park_entry *entries;
	uint32_t mask; /* capacity - 1; capacity is a power of two */
	uint32_t head; /* oldest held answer */
	uint32_t tail; /* next free entry */
	uint64_t last_lsn;
};

/* mem: capacity entries; capacity a power of two >= 2. 0 or -EINVAL. */
int park_table_init(struct park_table *t, struct park_entry *mem, uint32_t capacity)
	we_must_check;

static inline uint32_t park_count(const struct park_table *t)
{
	return t->tail - t->head;
}

static inline bool park_full(const struct park_table *t)
{
	return park_count(t) > t->mask;
}

/* Hold e until its LSN is durable. The table must not be full, and LSNs
 * must not decrease from one call to the next (a worker's log order). */
void park_add(struct park_table *t, const struct park_entry *e);

/* Copy to out[] (at most max) the held answers whose LSN is <= durable_lsn,
 * oldest first, and drop them from the table. Returns how many. */
unsigned park_release(struct park_table *t, uint64_t durable_lsn, struct park_entry *out,
		      unsigned max);

/* Copy to out[] (at most max) the oldest held answers whatever their LSN,
 * with their status replaced by `status` (NOT_DURABLE after a disk error),
 * and drop them. Returns how many; call again while park_count() != 0. */
unsigned park_fail_all(struct park_table *t, uint8_t status, struct park_entry *out,
		       unsigned max);

/* Put the last n answers handed out by park_release or park_fail_all back
 * at the head of the table, as they were (the caller could not send them:
 * no buffer, or the NIC queue is full). No park_add may come in between. */
void park_return(struct park_table *t, unsigned n);

/* Whether b can share a's reply datagram: the same client datagram. */
bool park_same_datagram(const struct park_entry *a, const struct park_entry *b);

#endif
