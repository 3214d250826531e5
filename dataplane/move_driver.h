/* move_driver.h - the supervisor's side of region moves: a queue, one move
 * at a time, each through its phases (no DPDK).
 *
 *   move_driver_init       move_driver.c  empty queue; epochs continue above those seen
 *   move_driver_free       move_driver.c
 *   move_driver_queue      move_driver.c  one request: region -> worker (checked)
 *   move_driver_step       move_driver.c  advance the current move; says when to persist
 *   move_driver_persisted  move_driver.c  the outcome of that persisting
 *   move_driver_busy       inline         a move under way (no checkpoint may begin)
 *
 * Phases of one move (region_move.h tells the workers' side):
 *   COPYING     MOVE_OUT posted to the owner; wait for the new owner's
 *               import to be done (durable) or to fail
 *   PERSISTING  the caller writes `state` (the map with this move in it) to
 *               the data directory, then calls move_driver_persisted;
 *               without a data directory it calls it with 0 at once
 *   FINISHING   MOVE_FINISH to the new owner and MOVE_PURGE to the old
 *               posted; wait until both are carried out
 *   ABORTING    MOVE_ABORT posted to the new owner; wait until it gave the
 *               region back
 * The driver decides and posts messages; it never touches a shard. The
 * caller steps it from its loop and holds checkpoints while it is busy
 * (a checkpoint must see each region in one place).
 */
#ifndef MOVE_DRIVER_H
#define MOVE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_ring.h"
#include "region_map.h"
#include "region_map_store.h"
#include "region_move.h"
#include "we_compiler.h"

#define MOVE_QUEUE_MAX 8192
#define MOVE_HISTORY 16

enum move_phase { MOVE_IDLE, MOVE_COPYING, MOVE_PERSISTING, MOVE_FINISHING, MOVE_ABORTING };

struct move_request {
	uint64_t id;
	uint32_t region;
	uint16_t to;
};

struct move_result {
	uint64_t id;
	uint32_t region;
	uint16_t from, to;
	uint64_t items;
	double time_ms;
	bool ok;
	int32_t error; /* negative errno when !ok */
};

struct move_driver {
	struct move_request queue[MOVE_QUEUE_MAX];
	uint32_t q_head, q_count;
	uint64_t next_id;

	enum move_phase phase;
	struct move_channel ch;
	uint64_t started_ns;
	struct region_record prev; /* the region's record before this move */
	bool post_finish, post_purge, post_abort; /* refused by a full ring: again */

	/* The map as the data directory keeps it (region_map_store.h), with
	 * the current move in it from PERSISTING on. */
	struct region_map_state state;
	uint64_t generation;                /* this start's, for the moved records */
	uint16_t next_epoch[WE_REGIONS];    /* the epoch the region's next move takes */

	uint64_t completed, failed;
	int32_t last_error;
	char last_error_text[160];
	struct move_result history[MOVE_HISTORY]; /* ring, newest at history_next - 1 */
	unsigned n_history, history_next;
};

/* map: the live map (its epochs loaded); epoch_seen: the largest epoch of
 * each region found in the log (NULL: none), so an interrupted move's
 * records are never taken for a later move's; loaded: the map file as
 * read at start (NULL: none), whose records of past moves are kept.
 * 0 or -ENOMEM. */
int move_driver_init(struct move_driver *d, const struct region_map *map,
		     const uint16_t *epoch_seen, uint64_t generation,
		     const struct region_map_state *loaded) we_must_check;
void move_driver_free(struct move_driver *d);

/* Queue moving region to worker `to`. 0 and *id; -EINVAL (bad region or
 * worker), -EALREADY (it is there and no queued move changes that),
 * -ENOSPC (queue full), with a sentence in err. */
int move_driver_queue(struct move_driver *d, const struct region_map *map, uint32_t region,
		      uint16_t to, uint64_t *id, char *err, size_t err_len) we_must_check;

enum move_driver_do {
	MOVE_DO_NOTHING,
	MOVE_DO_PERSIST, /* write d->state, then move_driver_persisted() */
};

/* may_start: no checkpoint running or due. rings: every worker's control
 * ring. */
enum move_driver_do move_driver_step(struct move_driver *d, struct region_map *map,
				     struct ctl_ring *const *rings, uint64_t now_ns,
				     bool may_start);
/* rc: 0 once d->state is durable, else a negative errno (the move is
 * undone) and what went wrong. */
void move_driver_persisted(struct move_driver *d, struct region_map *map,
			   struct ctl_ring *const *rings, int rc, const char *err);

static inline bool move_driver_busy(const struct move_driver *d)
{
	return d->phase != MOVE_IDLE;
}

#endif
