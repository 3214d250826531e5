/* fetch_table.h - GETs waiting for a value the disk tier holds (no DPDK).
 *
 *   fetch_table_init   fetch_table.c  bind a table to memory handed in
 *   fetch_add          fetch_table.c  hold one GET's answer until its record is read
 *   fetch_next_queued  fetch_table.c  the oldest GET whose read is not asked for yet
 *   fetch_requeue      fetch_table.c  put back what fetch_next_queued gave (no read slot)
 *   fetch_entry_at     inline         an entry by ticket
 *   fetch_finish       fetch_table.c  the read came back: the entry is free again
 *   fetch_refs_in_use  fetch_table.c  the offsets waiting GETs will read (reclaiming keeps them)
 *   fetch_count, fetch_full, fetch_queued  inline
 *
 * A GET that finds an archived item (shard_get: SHARD_STATUS_ARCHIVED)
 * cannot be answered from memory; the worker must not wait for the disk.
 * So, as for a strong write's answer (park.h), the answer waits, not the
 * request: the entry keeps what is needed to send it later (the client's
 * addressing and echo, the entry's op and opaque) plus what the read needs
 * (the record's reference, the key to check it against and to bring the
 * item back). Reads complete in any order, so this is not a FIFO: entries
 * live in fixed cells named by a ticket (the cell's index), freed cells on a
 * stack, and GETs whose read is not asked for yet (every read slot of the
 * I/O thread busy) on a FIFO of tickets. When the table is full the worker
 * answers BUSY.
 */
#ifndef FETCH_TABLE_H
#define FETCH_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "netio.h"
#include "proto.h"
#include "shard.h"
#include "we_compiler.h"

#define FETCH_TABLE_CAP 256 /* GETs waiting per worker */

/* Entry, 320 bytes: the reference (16), the key's hash for the shard (8),
 * the request's echo (8), its addressing (32), opaque (4), op, key_len,
 * 250 key bytes. */
struct fetch_entry {
	struct shard_archive_ref ref;
	uint64_t hash;
	uint64_t echo;
	struct netio_udp udp;
	uint32_t opaque;
	uint8_t op;
	uint8_t key_len;
	uint8_t key[PROTO_KEY_MAX];
};
_Static_assert(sizeof(struct fetch_entry) == 320, "fetch entry layout");

struct fetch_table {
	struct fetch_entry cells[FETCH_TABLE_CAP];
	uint16_t free_stack[FETCH_TABLE_CAP]; /* tickets of free cells */
	uint16_t queue[FETCH_TABLE_CAP];      /* tickets waiting for a read slot */
	uint32_t n_free;
	uint32_t q_head, q_tail; /* queue positions (wrap by FETCH_TABLE_CAP) */
};
_Static_assert((FETCH_TABLE_CAP & (FETCH_TABLE_CAP - 1)) == 0, "a power of two");
_Static_assert(FETCH_TABLE_CAP <= UINT16_MAX, "tickets are u16");

void fetch_table_init(struct fetch_table *t);

static inline uint32_t fetch_count(const struct fetch_table *t)
{
	return FETCH_TABLE_CAP - t->n_free;
}
static inline bool fetch_full(const struct fetch_table *t)
{
	return t->n_free == 0;
}
static inline uint32_t fetch_queued(const struct fetch_table *t)
{
	return t->q_tail - t->q_head;
}
static inline struct fetch_entry *fetch_entry_at(struct fetch_table *t, uint16_t ticket)
{
	return &t->cells[ticket % FETCH_TABLE_CAP];
}

/* Hold *e and queue its read: its ticket, or -1 when the table is full. */
int fetch_add(struct fetch_table *t, const struct fetch_entry *e) we_must_check;
/* The oldest queued ticket, taken off the queue (the caller asks for its
 * read now), or -1 when none waits. */
int fetch_next_queued(struct fetch_table *t);
/* Put ticket back at the head of the queue (its read could not be asked
 * for after all). */
void fetch_requeue(struct fetch_table *t, uint16_t ticket);
/* The entry's read came back and its answer is sent: free the cell. */
void fetch_finish(struct fetch_table *t, uint16_t ticket);
/* The record offsets every waiting GET will read (offsets: FETCH_TABLE_CAP
 * cells); how many. */
unsigned fetch_refs_in_use(const struct fetch_table *t, uint64_t *offsets);

#endif
