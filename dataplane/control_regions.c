/* control_regions.c - regions, region-load, hotkeys (see control_regions.h).
 *
 * Everything here reads what the workers publish: the shared region map,
 * their cumulative per-region sample counters (relaxed loads) and their
 * published top keys (a sequence-checked copy, access_sample.h).
 */
#include "control_regions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_sample.h"

#define HOTKEYS_DEFAULT 20
#define HOTKEYS_MAX 256

static const char *move_phase_name(enum move_phase p)
{
	switch (p) {
	case MOVE_IDLE:
		return "idle";
	case MOVE_COPYING:
		return "copying";
	case MOVE_PERSISTING:
		return "recording";
	case MOVE_FINISHING:
		return "finishing";
	case MOVE_ABORTING:
		return "aborting";
	}
	return "?";
}

/* The move under way, or null. */
static json_t *move_active_json(const struct move_driver *d)
{
	const struct move_channel *ch = &d->ch;

	if (!move_driver_busy(d))
		return json_null();
	return json_pack("{s:I, s:i, s:i, s:i, s:s, s:I, s:I}", "move", (json_int_t)ch->id,
			 "region", (int)ch->region, "from", (int)ch->from, "to", (int)ch->to,
			 "state", move_phase_name(d->phase), "items_sent",
			 (json_int_t)atomic_load(&ch->exported), "items",
			 (json_int_t)atomic_load(&ch->imported));
}

json_t *control_cmd_regions(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len)
{
	json_t *owners = json_array(), *moving = json_array(), *active;

	(void)req, (void)up, (void)err, (void)len;
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		json_array_append_new(owners, json_integer(region_map_owner(st->map, r)));
	active = move_active_json(st->moves);
	if (!json_is_null(active))
		json_array_append(moving, active);
	json_decref(active);
	return json_pack("{s:i, s:i, s:i, s:I, s:o, s:o}", "workers", st->n_workers, "regions",
			 WE_REGIONS, "udp_port_base", st->cfg.port_base, "epoch",
			 (json_int_t)__atomic_load_n(&st->map->map_epoch, __ATOMIC_ACQUIRE),
			 "owner", owners, "moving", moving);
}

/* An integer member of req in 0..max. */
static bool move_arg(const json_t *v, const char *name, json_int_t max, json_int_t *out,
		     char *err, size_t len)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		snprintf(err, len, "\"%s\" must be an integer 0..%lld", name, (long long)max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

json_t *control_cmd_move_region(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len)
{
	json_int_t region, to;
	uint64_t id;

	(void)up;
	if (!move_arg(json_object_get(req, "region"), "region", WE_REGIONS - 1, &region, err, len) ||
	    !move_arg(json_object_get(req, "worker"), "worker", st->n_workers - 1, &to, err, len))
		return NULL;
	if (move_driver_queue(st->moves, st->map, (uint32_t)region, (uint16_t)to, &id, err, len) !=
	    0)
		return NULL;
	return json_pack("{s:I, s:i, s:i, s:i, s:s}", "move", (json_int_t)id, "region",
			 (int)region, "from", (int)region_map_owner(st->map, (uint32_t)region), "to",
			 (int)to, "state", "queued");
}

json_t *control_cmd_move_regions(struct dataplane *st, const json_t *req, double up, char *err,
				 size_t len)
{
	const json_t *moves = json_object_get(req, "moves"), *m;
	uint64_t first = 0, last = 0;
	unsigned queued = 0, already = 0;
	size_t i;

	(void)up;
	if (!json_is_array(moves) || json_array_size(moves) == 0) {
		snprintf(err, len, "\"moves\" must be a non-empty array of [region, worker]");
		return NULL;
	}
	if (json_array_size(moves) > MOVE_QUEUE_MAX - st->moves->q_count) {
		snprintf(err, len, "%zu moves do not fit the queue (%u free)", json_array_size(moves),
			 MOVE_QUEUE_MAX - st->moves->q_count);
		return NULL;
	}
	/* Check all before queueing any: a bad entry queues nothing. */
	json_array_foreach(moves, i, m) {
		json_int_t r, w;

		if (!json_is_array(m) || json_array_size(m) != 2 ||
		    !move_arg(json_array_get(m, 0), "region", WE_REGIONS - 1, &r, err, len) ||
		    !move_arg(json_array_get(m, 1), "worker", st->n_workers - 1, &w, err, len)) {
			size_t used = strlen(err);

			snprintf(err + used, len - used, " (moves[%zu] must be [region, worker])", i);
			return NULL;
		}
	}
	json_array_foreach(moves, i, m) {
		uint64_t id;
		char why[128];
		int rc = move_driver_queue(st->moves, st->map,
					   (uint32_t)json_integer_value(json_array_get(m, 0)),
					   (uint16_t)json_integer_value(json_array_get(m, 1)), &id, why,
					   sizeof(why));

		if (rc == -EALREADY) {
			already++;
			continue;
		}
		if (rc != 0) {
			snprintf(err, len, "moves[%zu]: %s (%u queued before it)", i, why, queued);
			return NULL;
		}
		if (queued++ == 0)
			first = id;
		last = id;
	}
	return json_pack("{s:i, s:i, s:I, s:I}", "queued", queued, "already_there", already, "first",
			 (json_int_t)first, "last", (json_int_t)last);
}

json_t *control_cmd_move_status(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len)
{
	const struct move_driver *d = st->moves;
	json_t *last = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (unsigned k = 0; k < d->n_history; k++) {
		const struct move_result *r =
			&d->history[(d->history_next + MOVE_HISTORY - 1 - k) % MOVE_HISTORY];

		json_array_append_new(
			last, json_pack("{s:I, s:i, s:i, s:i, s:I, s:f, s:b, s:s?}", "move",
					(json_int_t)r->id, "region", (int)r->region, "from",
					(int)r->from, "to", (int)r->to, "items", (json_int_t)r->items,
					"time_ms", r->time_ms, "ok", r->ok, "error",
					r->ok ? NULL : strerror(-r->error)));
	}
	return json_pack("{s:I, s:i, s:o, s:I, s:I, s:s?, s:o}", "epoch",
			 (json_int_t)__atomic_load_n(&st->map->map_epoch, __ATOMIC_ACQUIRE),
			 "queued", (int)d->q_count, "active", move_active_json(d), "completed",
			 (json_int_t)d->completed, "failed", (json_int_t)d->failed, "last_error",
			 d->last_error_text[0] ? d->last_error_text : NULL, "last", last);
}

json_t *control_cmd_region_load(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len)
{
	json_t *owners = json_array(), *sampled = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		uint64_t n = 0;

		/* A region's counts stay with the workers that counted them:
		 * after a move its old owner's count stops growing. */
		for (unsigned w = 0; w < st->n_workers; w++)
			n += access_sample_region(&st->workers[w]->access, r);
		json_array_append_new(owners, json_integer(region_map_owner(st->map, r)));
		json_array_append_new(sampled, json_integer((json_int_t)n));
	}
	return json_pack("{s:i, s:i, s:i, s:o, s:o}", "workers", st->n_workers, "regions",
			 WE_REGIONS, "sample_every", (int)st->setting[SETTING_ACCESS_SAMPLE_EVERY][0],
			 "owner", owners, "sampled", sampled);
}

/* The first bytes of a key as text: printable ASCII as is, others \xNN. */
static json_t *hotkeys_key_text(const struct topk_entry *e)
{
	size_t n = e->key_len < TOPK_KEY_MAX ? e->key_len : TOPK_KEY_MAX;
	char buf[TOPK_KEY_MAX * 4 + 1];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = e->key[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
	}
	buf[o] = 0;
	return json_string(buf);
}

static json_t *hotkeys_entries(const struct topk_entry *e, size_t n, uint64_t sampled)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:o, s:i, s:I, s:I, s:f}", "key", hotkeys_key_text(&e[i]),
				     "key_len", (int)e[i].key_len, "count", (json_int_t)e[i].count,
				     "error", (json_int_t)e[i].error, "share",
				     sampled != 0 ? (double)e[i].count / (double)sampled : 0.0));
	return a;
}

static int hotkeys_by_count(const void *a, const void *b)
{
	const struct topk_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

json_t *control_cmd_hotkeys(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len)
{
	const json_t *jn = json_object_get(req, "n");
	json_int_t n = HOTKEYS_DEFAULT;
	struct topk_entry *all;
	size_t n_all = 0;
	uint64_t sampled_all = 0;
	json_t *workers;

	(void)up;
	if (jn != NULL) {
		if (!json_is_integer(jn) || json_integer_value(jn) < 1 ||
		    json_integer_value(jn) > HOTKEYS_MAX) {
			snprintf(err, len, "hotkeys: \"n\" must be an integer 1..%d", HOTKEYS_MAX);
			return NULL;
		}
		n = json_integer_value(jn);
	}
	all = calloc((size_t)st->n_workers * ACCESS_PUBLISH_TOP, sizeof(*all));
	if (all == NULL) {
		snprintf(err, len, "hotkeys: out of memory");
		return NULL;
	}
	workers = json_array();
	for (unsigned w = 0; w < st->n_workers; w++) {
		uint64_t sampled;
		size_t k = access_sample_read(&st->workers[w]->access, all + n_all,
					      ACCESS_PUBLISH_TOP, &sampled);

		json_array_append_new(
			workers, json_pack("{s:i, s:I, s:o}", "worker", (int)w, "sampled",
					   (json_int_t)sampled,
					   "keys", hotkeys_entries(all + n_all,
								   k < (size_t)n ? k : (size_t)n,
								   sampled)));
		n_all += k;
		sampled_all += sampled;
	}
	/* A key's region has one owner, so the workers' lists are disjoint
	 * (but for a key counted by both sides of a move): the merged list is
	 * their union by count. */
	qsort(all, n_all, sizeof(*all), hotkeys_by_count);
	json_t *merged = json_pack("{s:I, s:o}", "sampled", (json_int_t)sampled_all, "keys",
				   hotkeys_entries(all, n_all < (size_t)n ? n_all : (size_t)n,
						   sampled_all));
	free(all);
	return json_pack("{s:i, s:f, s:o, s:o}", "sample_every",
			 (int)st->setting[SETTING_ACCESS_SAMPLE_EVERY][0], "window_s",
			 (double)ACCESS_WINDOW_NS_DEFAULT * 1e-9, "workers", workers, "merged",
			 merged);
}
