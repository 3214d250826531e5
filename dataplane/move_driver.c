/* move_driver.c - the queue of region moves and the phases of the current
 * one (see move_driver.h). */
#include "move_driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int move_driver_init(struct move_driver *d, const struct region_map *map,
		     const uint16_t *epoch_seen, uint64_t generation,
		     const struct region_map_state *loaded)
{
	memset(d, 0, sizeof(*d));
	for (unsigned i = 0; i < MOVE_CHUNKS; i++) {
		d->ch.chunk[i] = aligned_alloc(64, MOVE_CHUNK_BYTES);
		if (d->ch.chunk[i] == NULL) {
			move_driver_free(d);
			return -ENOMEM;
		}
	}
	if (loaded != NULL)
		d->state = *loaded;
	d->state.n_workers = map->n_workers;
	d->state.map_epoch = map->map_epoch;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		uint16_t e = map->epoch[r];

		d->state.r[r].owner = region_map_owner(map, r);
		d->state.r[r].epoch = e;
		if (epoch_seen != NULL && epoch_seen[r] > e)
			e = epoch_seen[r];
		d->next_epoch[r] = (uint16_t)(e + 1);
	}
	d->generation = generation;
	d->next_id = 1;
	return 0;
}

void move_driver_free(struct move_driver *d)
{
	for (unsigned i = 0; i < MOVE_CHUNKS; i++) {
		free(d->ch.chunk[i]);
		d->ch.chunk[i] = NULL;
	}
}

static bool move_queued_for(const struct move_driver *d, uint32_t region)
{
	for (uint32_t i = 0; i < d->q_count; i++)
		if (d->queue[(d->q_head + i) % MOVE_QUEUE_MAX].region == region)
			return true;
	return d->phase != MOVE_IDLE && d->ch.region == region;
}

int move_driver_queue(struct move_driver *d, const struct region_map *map, uint32_t region,
		      uint16_t to, uint64_t *id, char *err, size_t err_len)
{
	if (region >= WE_REGIONS) {
		snprintf(err, err_len, "region %u does not exist (0..%u)", region, WE_REGIONS - 1);
		return -EINVAL;
	}
	if (to >= map->n_workers) {
		snprintf(err, err_len, "worker %u does not exist (0..%u)", to, map->n_workers - 1u);
		return -EINVAL;
	}
	if (region_map_owner(map, region) == to && !move_queued_for(d, region)) {
		snprintf(err, err_len, "region %u is on worker %u already", region, to);
		return -EALREADY;
	}
	if (d->q_count == MOVE_QUEUE_MAX) {
		snprintf(err, err_len, "%u moves are queued already; wait for some to finish",
			 MOVE_QUEUE_MAX);
		return -ENOSPC;
	}
	*id = d->next_id++;
	d->queue[(d->q_head + d->q_count) % MOVE_QUEUE_MAX] =
		(struct move_request){.id = *id, .region = region, .to = to};
	d->q_count++;
	return 0;
}

static void move_record(struct move_driver *d, uint64_t now_ns, bool ok, int32_t error,
			uint64_t items)
{
	struct move_result *r = &d->history[d->history_next];

	*r = (struct move_result){.id = d->ch.id, .region = d->ch.region, .from = d->ch.from,
				  .to = d->ch.to, .items = items,
				  .time_ms = (double)(now_ns - d->started_ns) / 1e6, .ok = ok,
				  .error = error};
	d->history_next = (d->history_next + 1) % MOVE_HISTORY;
	if (d->n_history < MOVE_HISTORY)
		d->n_history++;
	if (ok) {
		d->completed++;
	} else {
		d->failed++;
		d->last_error = error;
		if (d->last_error_text[0] == '\0')
			snprintf(d->last_error_text, sizeof(d->last_error_text),
				 "move %llu of region %u from worker %u to %u failed: %s",
				 (unsigned long long)d->ch.id, d->ch.region, d->ch.from, d->ch.to,
				 strerror(-error));
	}
	d->phase = MOVE_IDLE;
}

static bool move_post(struct ctl_ring *to, uint32_t type, struct move_channel *ch)
{
	struct ctl_msg m = {.type = type, .a = (uint64_t)(uintptr_t)ch};

	return ctl_ring_post(to, &m) == 0;
}

/* Start the next queued move, if its owner's ring takes the message. */
static void move_start(struct move_driver *d, const struct region_map *map,
		       struct ctl_ring *const *rings, uint64_t now_ns)
{
	const struct move_request *q = &d->queue[d->q_head];
	struct move_channel *ch = &d->ch;
	uint16_t from = region_map_owner(map, q->region);

	if (from == q->to) { /* a queued move got there first */
		d->q_head = (d->q_head + 1) % MOVE_QUEUE_MAX;
		d->q_count--;
		return;
	}
	ch->id = q->id;
	ch->region = q->region;
	ch->from = from;
	ch->to = q->to;
	ch->epoch = d->next_epoch[q->region];
	memset(ch->chunk_len, 0, sizeof(ch->chunk_len));
	atomic_store(&ch->export_result, MOVE_EXPORT_RUNNING);
	atomic_store(&ch->export_error, 0);
	atomic_store(&ch->exported, 0);
	atomic_store(&ch->import_result, MOVE_IMPORT_RUNNING);
	atomic_store(&ch->import_error, 0);
	atomic_store(&ch->imported, 0);
	atomic_store(&ch->import_first_lsn, 0);
	atomic_store(&ch->import_last_lsn, 0);
	atomic_store(&ch->finished, 0);
	atomic_store(&ch->purged, 0);
	atomic_store(&ch->purged_items, 0);
	d->post_finish = d->post_purge = d->post_abort = false;
	if (!move_post(rings[from], CTL_MSG_MOVE_OUT, ch))
		return; /* its ring is full: next step */
	d->q_head = (d->q_head + 1) % MOVE_QUEUE_MAX;
	d->q_count--;
	d->next_epoch[q->region] = (uint16_t)(ch->epoch + 1);
	d->started_ns = now_ns;
	d->last_error_text[0] = '\0';
	d->phase = MOVE_COPYING;
}

/* Messages a full ring refused earlier. */
static void move_post_pending(struct move_driver *d, struct ctl_ring *const *rings)
{
	struct move_channel *ch = &d->ch;

	if (d->post_finish && move_post(rings[ch->to], CTL_MSG_MOVE_FINISH, ch))
		d->post_finish = false;
	if (d->post_purge && move_post(rings[ch->from], CTL_MSG_MOVE_PURGE, ch))
		d->post_purge = false;
	if (d->post_abort && move_post(rings[ch->to], CTL_MSG_MOVE_ABORT, ch))
		d->post_abort = false;
}

enum move_driver_do move_driver_step(struct move_driver *d, struct region_map *map,
				     struct ctl_ring *const *rings, uint64_t now_ns,
				     bool may_start)
{
	struct move_channel *ch = &d->ch;

	move_post_pending(d, rings);
	switch (d->phase) {
	case MOVE_IDLE:
		if (d->q_count != 0 && may_start)
			move_start(d, map, rings, now_ns);
		break;
	case MOVE_COPYING:
		switch (atomic_load_explicit(&ch->import_result, memory_order_acquire)) {
		case MOVE_IMPORT_DONE:
			d->prev = d->state.r[ch->region];
			d->state.r[ch->region] = (struct region_record){
				.owner = ch->to,
				.epoch = ch->epoch,
				.moved_worker = ch->to,
				.moved_generation = d->generation,
				.moved_first_lsn = atomic_load(&ch->import_first_lsn),
				.moved_last_lsn = atomic_load(&ch->import_last_lsn),
			};
			d->state.map_epoch = map->map_epoch + 1;
			d->phase = MOVE_PERSISTING;
			return MOVE_DO_PERSIST;
		case MOVE_IMPORT_FAILED:
			d->post_abort = true;
			d->phase = MOVE_ABORTING;
			move_post_pending(d, rings);
			break;
		default:
			break;
		}
		break;
	case MOVE_PERSISTING:
		break; /* the caller owes move_driver_persisted() */
	case MOVE_FINISHING:
		if (!d->post_finish && !d->post_purge &&
		    atomic_load_explicit(&ch->finished, memory_order_acquire) &&
		    atomic_load_explicit(&ch->purged, memory_order_acquire))
			move_record(d, now_ns, true, 0, atomic_load(&ch->imported));
		break;
	case MOVE_ABORTING:
		if (!d->post_abort && atomic_load_explicit(&ch->finished, memory_order_acquire)) {
			int32_t e = atomic_load(&ch->import_error);

			if (e == 0)
				e = atomic_load(&ch->export_error);
			move_record(d, now_ns, false, e != 0 ? e : d->last_error, 0);
		}
		break;
	}
	return MOVE_DO_NOTHING;
}

void move_driver_persisted(struct move_driver *d, struct region_map *map,
			   struct ctl_ring *const *rings, int rc, const char *err)
{
	struct move_channel *ch = &d->ch;

	if (d->phase != MOVE_PERSISTING)
		return;
	if (rc != 0) {
		d->state.r[ch->region] = d->prev;
		d->state.map_epoch = map->map_epoch;
		d->last_error = rc;
		snprintf(d->last_error_text, sizeof(d->last_error_text),
			 "move %llu of region %u: cannot record the new map: %s",
			 (unsigned long long)ch->id, ch->region, err != NULL ? err : strerror(-rc));
		d->post_abort = true;
		d->phase = MOVE_ABORTING;
		move_post_pending(d, rings);
		return;
	}
	/* The new owner writes under the new epoch from its first request
	 * on: set it before the new owner hears FINISH. */
	__atomic_store_n(&map->epoch[ch->region], ch->epoch, __ATOMIC_RELEASE);
	__atomic_store_n(&map->map_epoch, d->state.map_epoch, __ATOMIC_RELEASE);
	d->post_finish = d->post_purge = true;
	d->phase = MOVE_FINISHING;
	move_post_pending(d, rings);
}
