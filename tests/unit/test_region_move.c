/* test_region_move.c - live region moves without EAL: the workers' side
 * (dataplane/region_move.c) and the supervisor's (dataplane/move_driver.c)
 * over real shards, control rings and log rings.
 *
 * The test plays every thread in turn: each worker applies its control
 * messages and takes a move step; the supervisor steps the driver and
 * "persists" the map; a log writer makes each worker's log durable (at
 * once, or only when the test says so); and between steps clients run
 * requests, routed the way execute.c routes them: the owner of a plain map
 * entry executes, a request for a region moving in to a worker is held by
 * that worker and run when the move settles. A model of every key's value
 * checks each GET and, at the end, that each key lives in exactly its
 * owner's shard. Randomized tests take their seed from WE_TEST_SEED.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyhash.h"
#include "move_driver.h"
#include "region_move.h"
#include "shard.h"
#include "wal_ring.h"
#include "we_test.h"

#define WORKERS 3
#define KEYS 4000
#define RING_BYTES (1u << 20)
#define HELD_MAX 4096

static struct keyhash_secret secret;

struct worker_sim {
	struct shard *s;
	void *mem;
	struct ctl_ring ctl;
	struct ctl_cell cells[256];
	struct wal_ring *log;
	void *log_mem;
	uint64_t lsn;
	struct durable_view durable;
	struct worker_stats stats;
	struct move_worker mw;
	bool hold_durable; /* the log writer is slow: durable stays behind */
	/* Held requests: key index and op (0 get, 1 put, 2 delete). */
	unsigned n_held;
	struct {
		unsigned key;
		int op;
	} held[HELD_MAX];
};

struct sim {
	struct worker_sim w[WORKERS];
	struct ctl_ring *rings[WORKERS];
	struct region_map map;
	struct move_driver drv;
	bool with_log;
	int persist_rc; /* what "persisting" the map returns */
	uint64_t persisted;
	/* The model: each key's value version (0: absent). */
	uint32_t version[KEYS];
	uint64_t gets_checked;
	uint64_t rng;
};

static void key_of(unsigned i, char *buf, uint8_t *len)
{
	*len = (uint8_t)snprintf(buf, 32, "key-%u", i);
}

static uint32_t region_of(unsigned i)
{
	char k[32];
	uint8_t n;

	key_of(i, k, &n);
	return keyhash_region(keyhash(k, n));
}

static void value_of(unsigned i, uint32_t version, char *buf, uint32_t *len)
{
	*len = (uint32_t)snprintf(buf, 64, "value-%u-v%u-%s", i, version,
				  (i % 7) == 0 ? "padding-padding-padding-padding" : "");
}

static struct sim *sim_new(bool with_log, uint64_t capacity_items, uint64_t arena_bytes)
{
	struct sim *m = calloc(1, sizeof(*m));
	struct shard_config cfg = {.capacity_items = capacity_items, .arena_bytes = arena_bytes,
				   .hash_secret = &secret};
	size_t bytes = shard_memory_size(&cfg);

	assert_non_null(m);
	m->with_log = with_log;
	region_map_init_default(&m->map, WORKERS);
	for (int i = 0; i < WORKERS; i++) {
		struct worker_sim *w = &m->w[i];

		w->s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
		w->mem = aligned_alloc(64, bytes);
		assert_non_null(w->s);
		assert_non_null(w->mem);
		assert_int_equal(shard_init(w->s, w->mem, bytes, &cfg), 0);
		assert_int_equal(ctl_ring_init(&w->ctl, w->cells, 256), 0);
		m->rings[i] = &w->ctl;
		if (with_log) {
			w->log = aligned_alloc(64, (sizeof(*w->log) + 63) & ~(size_t)63);
			w->log_mem = aligned_alloc(64, RING_BYTES);
			assert_int_equal(wal_ring_init(w->log, w->log_mem, RING_BYTES), 0);
		}
		w->lsn = 100 * (uint64_t)i;
		w->durable.lsn = w->lsn;
		move_worker_init(&w->mw);
	}
	assert_int_equal(move_driver_init(&m->drv, &m->map, NULL, 1, NULL), 0);
	return m;
}

static void sim_free(struct sim *m)
{
	move_driver_free(&m->drv);
	for (int i = 0; i < WORKERS; i++) {
		free(m->w[i].s);
		free(m->w[i].mem);
		free(m->w[i].log);
		free(m->w[i].log_mem);
	}
	free(m);
}

static void env_of(struct sim *m, int i, struct move_env *env)
{
	struct worker_sim *w = &m->w[i];

	*env = (struct move_env){.shard = w->s, .map = &m->map, .rings = m->rings,
				 .self = (uint16_t)i, .log = w->log, .lsn = &w->lsn,
				 .durable = &w->durable, .stats = &w->stats};
}

/* ---- requests, as the data plane routes them ---------------------------- */

static void run_op(struct sim *m, int wi, unsigned key, int op)
{
	struct worker_sim *w = &m->w[wi];
	char k[32], v[64];
	uint8_t kl;
	uint32_t vl;
	uint64_t lh;

	key_of(key, k, &kl);
	lh = shard_hash(w->s, (const uint8_t *)k, kl);
	if (op == 0) {
		const uint8_t *got;
		uint32_t got_len;
		enum we_status st = shard_get(w->s, lh, (const uint8_t *)k, kl, &got, &got_len);

		if (m->version[key] == 0) {
			assert_int_equal(st, WE_STATUS_NOT_FOUND);
		} else {
			assert_int_equal(st, WE_STATUS_OK);
			value_of(key, m->version[key], v, &vl);
			assert_int_equal(got_len, vl);
			assert_memory_equal(got, v, vl);
		}
		m->gets_checked++;
	} else if (op == 1) {
		uint32_t ver = m->version[key] + 1;

		value_of(key, ver, v, &vl);
		assert_int_equal(shard_put(w->s, lh, (const uint8_t *)k, kl, (const uint8_t *)v, vl,
					   ++w->lsn),
				 WE_STATUS_OK);
		m->version[key] = ver;
	} else {
		enum we_status st = shard_delete(w->s, lh, (const uint8_t *)k, kl);

		assert_int_equal(st, m->version[key] != 0 ? WE_STATUS_OK : WE_STATUS_NOT_FOUND);
		m->version[key] = 0;
	}
}

/* A client request for key: executed by the owner of a plain entry, held
 * by the worker a region is moving in to. */
static void request(struct sim *m, unsigned key, int op)
{
	uint16_t e = region_map_entry(&m->map, region_of(key));
	int owner = e & REGION_MAP_WORKER_MASK;

	if (e & REGION_MAP_IMPORTING) {
		struct worker_sim *w = &m->w[owner];

		assert_true(w->n_held < HELD_MAX);
		w->held[w->n_held].key = key;
		w->held[w->n_held++].op = op;
		return;
	}
	run_op(m, owner, key, op);
}

static void run_held(struct sim *m, int wi)
{
	struct worker_sim *w = &m->w[wi];
	unsigned n = w->n_held;

	w->n_held = 0;
	for (unsigned i = 0; i < n; i++) /* again through routing, as the shell does */
		request(m, w->held[i].key, w->held[i].op);
}

/* ---- the threads --------------------------------------------------------- */

static void worker_turn(struct sim *m, int i)
{
	struct worker_sim *w = &m->w[i];
	struct ctl_msg msg[16];
	struct move_env env;
	unsigned n = ctl_ring_take(&w->ctl, msg, 16);

	env_of(m, i, &env);
	for (unsigned k = 0; k < n; k++)
		if (move_on_message(&w->mw, &env, &msg[k]) == MOVE_ACT_RUN_HELD)
			run_held(m, i);
	if (move_worker_active(&w->mw))
		move_step(&w->mw, &env);
	if (w->log != NULL) { /* the log writer: everything is on disk at once */
		struct wal_ring_span sp;

		while (wal_ring_span(w->log, RING_BYTES, &sp) != 0 || sp.release != 0)
			wal_ring_release(w->log, sp.release);
		if (!w->hold_durable)
			w->durable.lsn = w->lsn;
	}
}

static void supervisor_turn(struct sim *m, uint64_t now)
{
	if (move_driver_step(&m->drv, &m->map, m->rings, now, true) == MOVE_DO_PERSIST) {
		if (m->persist_rc == 0)
			m->persisted++;
		move_driver_persisted(&m->drv, &m->map, m->rings, m->persist_rc,
				      m->persist_rc ? "disk full" : NULL);
	}
}

static unsigned rnd(struct sim *m, unsigned n)
{
	return (unsigned)(we_test_rand(&m->rng) % n);
}

/* Turns of everyone, with `load` random requests between turns, until no
 * move is queued or under way. */
static void run_until_idle(struct sim *m, unsigned load, unsigned max_turns)
{
	for (unsigned t = 0; t < max_turns; t++) {
		for (unsigned l = 0; l < load; l++) {
			unsigned r = rnd(m, 10);

			request(m, rnd(m, KEYS), r < 6 ? 0 : r < 9 ? 1 : 2);
		}
		for (int i = 0; i < WORKERS; i++)
			worker_turn(m, i);
		supervisor_turn(m, t);
		if (!move_driver_busy(&m->drv) && m->drv.q_count == 0)
			return;
	}
	fail_msg("moves not done after %u turns: phase %d, import %u, export %u, finished %u, purged %u",
		 max_turns, m->drv.phase, atomic_load(&m->drv.ch.import_result),
		 atomic_load(&m->drv.ch.export_result), atomic_load(&m->drv.ch.finished),
		 atomic_load(&m->drv.ch.purged));
}

/* Every key lives in its owner's shard only, with the model's value. */
static void check_placement(struct sim *m)
{
	uint64_t items = 0, live = 0;

	for (unsigned key = 0; key < KEYS; key++) {
		int owner = region_map_owner(&m->map, region_of(key));

		for (int i = 0; i < WORKERS; i++) {
			char k[32];
			uint8_t kl;
			const uint8_t *v;
			uint32_t vl;
			enum we_status st;

			key_of(key, k, &kl);
			st = shard_get(m->w[i].s, shard_hash(m->w[i].s, (const uint8_t *)k, kl),
				       (const uint8_t *)k, kl, &v, &vl);
			if (i != owner)
				assert_int_equal(st, WE_STATUS_NOT_FOUND);
			else
				assert_int_equal(st, m->version[key] ? WE_STATUS_OK : WE_STATUS_NOT_FOUND);
		}
		live += m->version[key] != 0;
	}
	for (int i = 0; i < WORKERS; i++) {
		struct shard_counters c;

		shard_read_counters(m->w[i].s, &c);
		items += c.items;
		assert_true(shard_check_invariants(m->w[i].s));
	}
	assert_int_equal(items, live);
}

static void preload(struct sim *m)
{
	for (unsigned k = 0; k < KEYS; k++)
		request(m, k, 1);
}

/* ---- tests ----------------------------------------------------------------- */

/* One region with items moves; the map, its epoch and the counters say so;
 * the new owner logged every item under the new epoch, then the marker. */
static void test_one_move(void **state)
{
	struct sim *m = sim_new(true, 8192, 8u << 20);
	uint32_t region = region_of(0);
	uint16_t from = region_map_owner(&m->map, region), to = (uint16_t)((from + 1) % WORKERS);
	uint64_t id, in_region = 0;
	char err[128];

	(void)state;
	preload(m);
	for (unsigned k = 0; k < KEYS; k++)
		in_region += region_of(k) == region;
	assert_int_equal(move_driver_queue(&m->drv, &m->map, region, to, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 1);
	run_until_idle(m, 0, 100000);
	assert_int_equal(region_map_entry(&m->map, region), to);
	assert_int_equal(m->map.epoch[region], 1);
	assert_int_equal(m->map.map_epoch, 1);
	assert_int_equal(m->drv.completed, 1);
	assert_int_equal(m->drv.failed, 0);
	assert_int_equal(m->persisted, 1);
	assert_int_equal(m->w[from].stats.move_items_out, in_region);
	assert_int_equal(m->w[to].stats.move_items_in, in_region);
	assert_int_equal(m->w[from].stats.move_items_purged, in_region);
	/* items + one marker record, all logged by the new owner */
	assert_int_equal(m->w[to].stats.log_records, in_region + 1);
	assert_int_equal(m->drv.state.r[region].owner, to);
	assert_int_equal(m->drv.state.r[region].epoch, 1);
	assert_int_equal(m->drv.state.r[region].moved_worker, to);
	assert_int_equal(m->drv.state.r[region].moved_last_lsn, m->w[to].lsn);
	assert_int_equal(m->drv.state.r[region].moved_last_lsn -
				 m->drv.state.r[region].moved_first_lsn,
			 in_region);
	check_placement(m);
	sim_free(m);
}

/* Many moves, back and forth, while requests run between every step: GETs
 * always see the last write, and every key ends in its owner's shard
 * only. Also without a log. */
static void moves_under_load(bool with_log)
{
	struct sim *m = sim_new(with_log, 8192, 8u << 20);
	char err[128];
	uint64_t id;
	unsigned queued = 0;

	m->rng = we_test_seed("moves_under_load", 0x5eed);
	preload(m);
	for (int round = 0; round < 3; round++) {
		for (uint32_t r = 0; r < 200; r++) {
			uint32_t region = (r * 37 + (uint32_t)round) % WE_REGIONS;
			uint16_t to = (uint16_t)rnd(m, WORKERS);
			int rc = move_driver_queue(&m->drv, &m->map, region, to, &id, err,
						   sizeof(err));

			assert_true(rc == 0 || rc == -EALREADY);
			queued += rc == 0;
		}
		run_until_idle(m, 3, 2000000);
	}
	assert_int_equal(m->drv.failed, 0);
	/* a queued move can find its region there already (skipped) */
	assert_true(m->drv.completed <= queued && m->drv.completed > queued / 2);
	assert_int_equal(m->map.map_epoch, m->drv.completed);
	assert_true(m->gets_checked > 1000);
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(m->w[i].n_held, 0);
	check_placement(m);
	sim_free(m);
}

static void test_moves_under_load_logged(void **state)
{
	(void)state;
	moves_under_load(true);
}

static void test_moves_under_load_unlogged(void **state)
{
	(void)state;
	moves_under_load(false);
}

/* Requests for the region wait while the new owner's log is not durable;
 * they run once it is, and the move completes. */
static void test_held_until_durable(void **state)
{
	struct sim *m = sim_new(true, 8192, 8u << 20);
	uint32_t region = region_of(1);
	uint16_t to = (uint16_t)((region_map_owner(&m->map, region) + 1) % WORKERS);
	char err[128];
	uint64_t id;

	(void)state;
	preload(m);
	m->w[to].hold_durable = true;
	assert_int_equal(move_driver_queue(&m->drv, &m->map, region, to, &id, err, sizeof(err)), 0);
	for (unsigned t = 0; t < 20000; t++) {
		for (int i = 0; i < WORKERS; i++)
			worker_turn(m, i);
		supervisor_turn(m, t);
	}
	assert_int_equal(m->drv.phase, MOVE_COPYING);
	assert_int_equal(region_map_entry(&m->map, region), to | REGION_MAP_IMPORTING);
	request(m, 1, 0);
	request(m, 1, 1);
	assert_int_equal(m->w[to].n_held, 2);
	m->w[to].hold_durable = false;
	run_until_idle(m, 0, 100000);
	assert_int_equal(m->w[to].n_held, 0);
	assert_int_equal(m->drv.completed, 1);
	request(m, 1, 0); /* sees the held PUT */
	check_placement(m);
	sim_free(m);
}

/* The new owner's shard is too small: the move is undone, the region is
 * back with its owner, which kept every item; the next move of the region
 * takes a fresh epoch. */
static void test_abort_on_full_shard(void **state)
{
	struct sim *m = sim_new(true, 8192, 8u << 20);
	uint32_t region = region_of(2);
	uint16_t from = region_map_owner(&m->map, region), to = (uint16_t)((from + 1) % WORKERS);
	struct shard_config tiny = {.capacity_items = 64, .arena_bytes = 64u << 10,
				    .hash_secret = &secret};
	size_t bytes = shard_memory_size(&tiny);
	char err[128];
	uint64_t id;

	(void)state;
	/* Give the target a shard that is full already. */
	free(m->w[to].mem);
	m->w[to].mem = aligned_alloc(64, bytes);
	assert_int_equal(shard_init(m->w[to].s, m->w[to].mem, bytes, &tiny), 0);
	for (unsigned k = 0; k < KEYS; k++)
		if (region_map_owner(&m->map, region_of(k)) != to)
			request(m, k, 1);
	/* Filled in every size: values of 1..64 bytes until nothing fits. */
	for (unsigned k = 0; k < 4 * KEYS; k++) {
		char kk[32], v[64];
		uint8_t kl;

		memset(v, 'x', sizeof(v));
		key_of(KEYS + k, kk, &kl);
		(void)shard_put(m->w[to].s, shard_hash(m->w[to].s, (const uint8_t *)kk, kl),
				(const uint8_t *)kk, kl, (const uint8_t *)v, 1 + k % 64, 0);
	}
	assert_int_equal(move_driver_queue(&m->drv, &m->map, region, to, &id, err, sizeof(err)), 0);
	run_until_idle(m, 0, 100000);
	assert_int_equal(m->drv.failed, 1);
	assert_int_equal(m->drv.completed, 0);
	assert_int_not_equal(m->drv.last_error_text[0], 0);
	assert_int_equal(region_map_entry(&m->map, region), from);
	assert_int_equal(m->map.epoch[region], 0);
	assert_int_equal(m->map.map_epoch, 0);
	assert_int_equal(m->drv.state.r[region].epoch, 0);
	assert_int_equal(m->w[to].stats.move_failed, 1);
	/* the owner kept everything; the target holds none of the region */
	for (unsigned k = 0; k < KEYS; k++) {
		char kk[32];
		uint8_t kl;
		const uint8_t *v;
		uint32_t vl;

		if (region_of(k) != region)
			continue;
		key_of(k, kk, &kl);
		assert_int_equal(shard_get(m->w[to].s, shard_hash(m->w[to].s, (const uint8_t *)kk, kl),
					   (const uint8_t *)kk, kl, &v, &vl),
				 WE_STATUS_NOT_FOUND);
		request(m, k, 0);
	}
	assert_int_equal(m->drv.next_epoch[region], 2); /* epoch 1 is spent */
	sim_free(m);
}

/* Recording the map fails: the move is undone the same way. */
static void test_abort_on_persist_failure(void **state)
{
	struct sim *m = sim_new(true, 8192, 8u << 20);
	uint32_t region = region_of(3);
	uint16_t from = region_map_owner(&m->map, region), to = (uint16_t)((from + 1) % WORKERS);
	char err[128];
	uint64_t id;

	(void)state;
	preload(m);
	m->persist_rc = -ENOSPC;
	assert_int_equal(move_driver_queue(&m->drv, &m->map, region, to, &id, err, sizeof(err)), 0);
	run_until_idle(m, 2, 100000);
	assert_int_equal(m->drv.failed, 1);
	assert_non_null(strstr(m->drv.last_error_text, "disk full"));
	assert_int_equal(region_map_entry(&m->map, region), from);
	assert_int_equal(m->drv.state.r[region].owner, from);
	check_placement(m);
	/* the disk is back: the move goes through with the next epoch */
	m->persist_rc = 0;
	assert_int_equal(move_driver_queue(&m->drv, &m->map, region, to, &id, err, sizeof(err)), 0);
	run_until_idle(m, 2, 100000);
	assert_int_equal(m->drv.completed, 1);
	assert_int_equal(m->map.epoch[region], 2);
	check_placement(m);
	sim_free(m);
}

/* Queue checks; epochs continue above what the log showed. */
static void test_queue_and_epochs(void **state)
{
	struct sim *m = sim_new(false, 1024, 1u << 20);
	static uint16_t seen[WE_REGIONS];
	char err[128];
	uint64_t id;

	(void)state;
	assert_int_equal(move_driver_queue(&m->drv, &m->map, WE_REGIONS, 0, &id, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "region 4096"));
	assert_int_equal(move_driver_queue(&m->drv, &m->map, 1, WORKERS, &id, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(move_driver_queue(&m->drv, &m->map, 1, 1 % WORKERS, &id, err, sizeof(err)),
			 -EALREADY);
	/* queued away and back: the second is accepted though it is there now */
	assert_int_equal(move_driver_queue(&m->drv, &m->map, 1, 2, &id, err, sizeof(err)), 0);
	assert_int_equal(move_driver_queue(&m->drv, &m->map, 1, 1, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 2);
	move_driver_free(&m->drv);
	seen[7] = 41;
	m->map.epoch[8] = 5;
	assert_int_equal(move_driver_init(&m->drv, &m->map, seen, 3, NULL), 0);
	assert_int_equal(m->drv.next_epoch[7], 42);
	assert_int_equal(m->drv.next_epoch[8], 6);
	assert_int_equal(m->drv.next_epoch[9], 1);
	sim_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_move),
		cmocka_unit_test(test_moves_under_load_logged),
		cmocka_unit_test(test_moves_under_load_unlogged),
		cmocka_unit_test(test_held_until_durable),
		cmocka_unit_test(test_abort_on_full_shard),
		cmocka_unit_test(test_abort_on_persist_failure),
		cmocka_unit_test(test_queue_and_epochs),
	};

	assert_int_equal(keyhash_secret_init(&secret), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
