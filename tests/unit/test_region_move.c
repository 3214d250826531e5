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
 *
 * With the disk tier, an archive_io over the fake disk whose thread is not
 * started: each worker's turn steps it and hands the mover its READ_DONE
 * answers, and a hook sees every record the log writer takes.
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
#include <lz4.h>

#include "archive.h"
#include "arena.h"
#include "archive_io.h"
#include "disk_fake.h"
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
	/* The disk tier (NULL: off): every worker's port, stepped by
	 * worker_turn unless hold_archive; READ_DONE answers of the movers
	 * delivered, counted. */
	struct archive_io *io;
	bool hold_archive;
	uint64_t reads_delivered;
	/* Called with every record a worker's log writer takes (NULL: none). */
	void (*on_log)(struct sim *m, int worker, const struct wal_record *rec);
	void *on_log_ctx;
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
				 .durable = &w->durable, .stats = &w->stats,
				 .archive = m->io != NULL ? archive_io_port(m->io, (uint16_t)i) : NULL};
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
		assert_int_equal(shard_put(w->s, lh, (const uint8_t *)k, kl, (const uint8_t *)v, vl),
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
	if (m->io != NULL && !m->hold_archive) { /* the archive thread, then its answers */
		struct ctl_msg a[8];
		unsigned na;

		(void)archive_io_step(m->io);
		while ((na = archive_port_poll(env.archive, a, 8)) != 0) {
			for (unsigned k = 0; k < na; k++) {
				assert_int_equal(a[k].type, ARCHIVE_MSG_READ_DONE);
				assert_true((a[k].c & MOVE_ARCHIVE_TICKET) != 0);
				move_on_archive_read(&w->mw, &env, (int)a[k].b, a[k].i32);
				m->reads_delivered++;
			}
		}
	}
	if (w->log != NULL) { /* the log writer: everything is on disk at once */
		struct wal_ring_span sp;

		while (wal_ring_span(w->log, RING_BYTES, &sp) != 0 || sp.release != 0) {
			for (uint32_t off = 0; m->on_log != NULL && off < sp.bytes;) {
				struct wal_record rec;
				uint32_t n;

				assert_int_equal(wal_record_decode(sp.data + off, sp.bytes - off, &rec, &n),
						 WAL_DECODE_OK);
				m->on_log(m, i, &rec);
				off += n;
			}
			wal_ring_release(w->log, sp.release);
		}
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
				(const uint8_t *)kk, kl, (const uint8_t *)v, 1 + k % 64);
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

/* ---- the disk tier: archived items move as references ------------------ */

#define AR_KEYS 24     /* keys of the moved region */
#define AR_VALUE_MAX 512
#define AR_DATA "data"

enum ar_class { AR_IN_MEMORY = 0, AR_ARCHIVED_RAW = 1, AR_ARCHIVED_LZ4 = 2 };

/* Keys of one region, each in worker `from`'s shard: in memory, or a stub
 * whose record (raw or LZ4) lies in `from`'s archive file. */
struct ar_fix {
	struct sim *m;
	struct disk_fake *f;
	uint32_t region;
	uint16_t from, to;
	unsigned n_archived;
	char key[AR_KEYS][32];
	uint8_t kl[AR_KEYS];
	uint8_t value[AR_KEYS][AR_VALUE_MAX];
	uint32_t vl[AR_KEYS];
	enum ar_class cls[AR_KEYS];
	uint64_t lsn[AR_KEYS];
	struct archive_ref ref[AR_KEYS];
	uint64_t rec_off[AR_KEYS]; /* where the record starts in the file */
	uint32_t stored_len[AR_KEYS];
	/* The new owner's log: each key's PUT records seen, and the marker. */
	unsigned logged[AR_KEYS];
	unsigned markers;
	uint64_t other_records;
};

static struct ar_fix *ar_current; /* for the log hook */

static int ar_find(const struct ar_fix *x, const uint8_t *key, uint32_t kl)
{
	for (int j = 0; j < AR_KEYS; j++)
		if (x->kl[j] == kl && memcmp(x->key[j], key, kl) == 0)
			return j;
	return -1;
}

/* Every record the new owner logs holds the exact original value. */
static void ar_on_log(struct sim *m, int worker, const struct wal_record *rec)
{
	struct ar_fix *x = ar_current;
	int j;

	(void)m;
	if (worker != x->to) {
		x->other_records++;
		return;
	}
	if (rec->type == WAL_REC_REGION_MOVE) {
		assert_int_equal(rec->region, x->region);
		assert_int_equal(rec->epoch, m->drv.ch.epoch);
		x->markers++;
		return;
	}
	assert_int_equal(rec->type, WAL_REC_PUT);
	assert_int_equal(rec->worker, x->to);
	assert_int_equal(rec->region, x->region);
	assert_int_equal(rec->epoch, m->drv.ch.epoch);
	j = ar_find(x, rec->key, rec->key_len);
	assert_true(j >= 0);
	assert_int_equal(rec->value_len, x->vl[j]);
	assert_memory_equal(rec->value, x->value[j], x->vl[j]);
	x->logged[j]++;
}

static void ar_value(unsigned j, uint8_t *buf, uint32_t *len)
{
	uint32_t n = 100 + (j * 37) % 300, k = 0;

	while (k < n) { /* compressible, and different for each key */
		char piece[32];
		int p = snprintf(piece, sizeof(piece), "item-%u-cold-", j);

		for (int c = 0; c < p && k < n; c++)
			buf[k++] = (uint8_t)piece[c];
	}
	*len = n;
}

/* Items of one region in `from`'s shard, a third in memory, a third
 * archived raw, a third archived LZ4; a decoy batch of the same layout in
 * the new owner's own file (a read of the wrong file would find records
 * there at the same offsets, which do not check). */
static struct ar_fix *ar_setup(void)
{
	struct ar_fix *x = calloc(1, sizeof(*x));
	struct archive_io_config cfg = {.workers = WORKERS, .data_dir = AR_DATA};
	static uint8_t batch_buf[256u * 1024], decoy_buf[256u * 1024], lz[AR_KEYS][AR_VALUE_MAX];
	struct archive_batch batch, decoy;
	uint32_t at[AR_KEYS], check, at_decoy, check_decoy;
	uint64_t base, base_decoy;
	char err[256];
	unsigned found = 0;
	struct shard *s;

	assert_non_null(x);
	x->m = sim_new(true, 8192, 8u << 20);
	x->f = disk_fake_create();
	assert_non_null(x->f);
	cfg.disk = disk_fake_disk(x->f);
	assert_int_equal(disk_mkdir(cfg.disk, AR_DATA), 0);
	assert_int_equal(archive_io_create(&x->m->io, &cfg, err, sizeof(err)), 0);
	x->region = region_of(5);
	x->from = region_map_owner(&x->m->map, x->region);
	x->to = (uint16_t)((x->from + 1) % WORKERS);
	s = x->m->w[x->from].s;
	for (unsigned i = 0; found < AR_KEYS; i++) {
		char k[32];
		uint8_t kl = (uint8_t)snprintf(k, sizeof(k), "cold-%u", i);

		if (keyhash_region(keyhash(k, kl)) != x->region)
			continue;
		memcpy(x->key[found], k, kl);
		x->kl[found] = kl;
		x->cls[found] = (enum ar_class)(found % 3);
		ar_value(found, x->value[found], &x->vl[found]);
		x->lsn[found] = ++x->m->w[x->from].lsn;
		assert_int_equal(shard_put(s, shard_hash(s, (const uint8_t *)k, kl), (const uint8_t *)k,
					   kl, x->value[found], x->vl[found]),
				 WE_STATUS_OK);
		found++;
	}
	/* The records: a filler first (no reference starts at 0). */
	archive_batch_init(&batch, batch_buf, sizeof(batch_buf));
	archive_batch_init(&decoy, decoy_buf, sizeof(decoy_buf));
	{
		static const uint8_t filler[40] = {1};
		struct archive_record r = {.lsn = 1, .value_len = 40, .stored_len = 40, .key_len = 6,
					   .codec = 0, .key = (const uint8_t *)"filler",
					   .stored = filler};

		assert_int_equal(archive_batch_add(&batch, &r, &at[0], &check), 0);
		assert_int_equal(archive_batch_add(&decoy, &r, &at_decoy, &check_decoy), 0);
	}
	for (unsigned j = 0; j < AR_KEYS; j++) {
		struct archive_record r = {.lsn = x->lsn[j], .value_len = x->vl[j], .key_len = x->kl[j],
					   .key = (const uint8_t *)x->key[j]};
		static uint8_t junk[AR_VALUE_MAX];

		if (x->cls[j] == AR_IN_MEMORY)
			continue;
		if (x->cls[j] == AR_ARCHIVED_RAW) {
			r.codec = 0;
			r.stored = x->value[j];
			r.stored_len = x->vl[j];
		} else {
			int c = LZ4_compress_default((const char *)x->value[j], (char *)lz[j],
						     (int)x->vl[j], AR_VALUE_MAX);

			assert_true(c > 0 && (uint32_t)c < x->vl[j]);
			r.codec = 1;
			r.stored = lz[j];
			r.stored_len = (uint32_t)c;
		}
		x->stored_len[j] = r.stored_len;
		assert_int_equal(archive_batch_add(&batch, &r, &at[j], &check), 0);
		x->ref[j] = (struct archive_ref){.offset = at[j],
						 .bytes = archive_record_bytes(x->kl[j], r.stored_len),
						 .check = check};
		/* the decoy: same key and sizes, other bytes */
		memset(junk, 'Z', sizeof(junk));
		r = (struct archive_record){.lsn = x->lsn[j], .value_len = r.stored_len,
					    .stored_len = r.stored_len, .key_len = x->kl[j],
					    .codec = 0, .key = (const uint8_t *)x->key[j],
					    .stored = junk};
		assert_int_equal(archive_batch_add(&decoy, &r, &at_decoy, &check_decoy), 0);
		assert_int_equal(at_decoy, at[j]);
		assert_int_not_equal(check_decoy, check);
		x->n_archived++;
	}
	assert_int_equal(archive_file_append(archive_io_file(x->m->io, x->from), batch_buf,
					     batch.used, &base),
			 0);
	assert_int_equal(archive_file_append(archive_io_file(x->m->io, x->to), decoy_buf,
					     decoy.used, &base_decoy),
			 0);
	assert_int_equal(base, base_decoy);
	for (unsigned j = 0; j < AR_KEYS; j++) {
		x->ref[j].offset += base;
		x->rec_off[j] = x->ref[j].offset;
	}
	assert_true(x->n_archived >= AR_KEYS / 2);
	ar_current = x;
	x->m->on_log = ar_on_log;
	return x;
}

/* The stubs: each archived item's reference (ref_of[j], the real one
 * unless a test damages it) in place of its value. */
static void ar_commit(struct ar_fix *x, const struct archive_ref *ref_of)
{
	struct shard *s = x->m->w[x->from].s;

	for (unsigned j = 0; j < AR_KEYS; j++) {
		struct shard_archive_ref sref;
		const uint8_t *v;
		uint32_t vl;
		uint64_t h = shard_hash(s, (const uint8_t *)x->key[j], x->kl[j]);

		if (x->cls[j] == AR_IN_MEMORY)
			continue;
		memcpy(&sref, &ref_of[j], sizeof(sref));
		/* The item is raw in memory; its record may be LZ4 (as if it
		 * had been compressed when it was archived). */
		assert_true(shard_archive_commit(s, h, (const uint8_t *)x->key[j], x->kl[j],
						 TIER_EVENT_HORIZON, x->value[j], x->vl[j], &sref));
		assert_int_equal(shard_get(s, h, (const uint8_t *)x->key[j], x->kl[j], &v, &vl),
				 SHARD_STATUS_ARCHIVED);
		assert_int_equal(vl, x->vl[j]);
	}
}

static void ar_free(struct ar_fix *x)
{
	archive_io_destroy(x->m->io);
	x->m->io = NULL;
	disk_fake_destroy(x->f);
	sim_free(x->m);
	ar_current = NULL;
	free(x);
}

static void ar_queue(struct ar_fix *x)
{
	char err[128];
	uint64_t id;

	assert_int_equal(move_driver_queue(&x->m->drv, &x->m->map, x->region, x->to, &id, err,
					   sizeof(err)),
			 0);
}

/* Every one of the importer's read slots is back with it. */
static void ar_check_slots_back(struct ar_fix *x)
{
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(archive_io_port(x->m->io, (uint16_t)i)->read_free, UINT32_MAX);
}

/* shard s holds every key of the fixture with its exact value (in memory:
 * an archived one was read back and put) or none of them. */
static void ar_check_shard_has_all(struct ar_fix *x, int wi)
{
	struct shard *s = x->m->w[wi].s;
	struct shard_counters c;

	for (unsigned j = 0; j < AR_KEYS; j++) {
		const uint8_t *v;
		uint32_t vl;

		assert_int_equal(shard_get(s, shard_hash(s, (const uint8_t *)x->key[j], x->kl[j]),
					   (const uint8_t *)x->key[j], x->kl[j], &v, &vl),
				 WE_STATUS_OK);
		assert_int_equal(vl, x->vl[j]);
		assert_memory_equal(v, x->value[j], vl);
	}
	shard_read_counters(s, &c);
	assert_int_equal(c.items, AR_KEYS);
	assert_true(shard_check_invariants(s));
}

static void ar_check_shard_empty(struct ar_fix *x, int wi)
{
	struct shard_counters c;

	shard_read_counters(x->m->w[wi].s, &c);
	assert_int_equal(c.items, 0);
}

/* The old owner still holds every key as it was: in memory with its value,
 * or the stub with its reference. */
static void ar_check_owner_kept(struct ar_fix *x, const struct archive_ref *ref_of)
{
	struct shard *s = x->m->w[x->from].s;

	for (unsigned j = 0; j < AR_KEYS; j++) {
		const uint8_t *v;
		uint32_t vl;
		enum we_status st = shard_get(s, shard_hash(s, (const uint8_t *)x->key[j], x->kl[j]),
					      (const uint8_t *)x->key[j], x->kl[j], &v, &vl);

		assert_int_equal(vl, x->vl[j]);
		if (x->cls[j] == AR_IN_MEMORY) {
			assert_int_equal(st, WE_STATUS_OK);
			assert_memory_equal(v, x->value[j], vl);
		} else {
			assert_int_equal(st, SHARD_STATUS_ARCHIVED);
			assert_memory_equal(v, &ref_of[j], sizeof(ref_of[j]));
		}
	}
}

/* A region whose items are partly stubs moves: the new owner reads each
 * record from the old owner's file (not its own), and holds and logs every
 * item with its exact value, raw, LZ4 or never archived. */
static void test_archived_items_move(void **state)
{
	struct ar_fix *x = ar_setup();
	struct sim *m = x->m;
	struct archive_io_stats st;

	(void)state;
	ar_commit(x, x->ref);
	ar_queue(x);
	run_until_idle(m, 0, 100000);
	assert_int_equal(m->drv.completed, 1);
	assert_int_equal(m->drv.failed, 0);
	assert_int_equal(region_map_entry(&m->map, x->region), x->to);
	assert_int_equal(m->map.epoch[x->region], 1);
	assert_int_equal(m->persisted, 1);
	assert_int_equal(atomic_load(&m->drv.ch.import_result), MOVE_IMPORT_DONE);
	assert_int_equal(m->w[x->from].stats.move_items_out, AR_KEYS);
	assert_int_equal(m->w[x->to].stats.move_items_in, AR_KEYS);
	assert_int_equal(m->w[x->from].stats.move_items_purged, AR_KEYS);
	ar_check_shard_has_all(x, x->to);
	ar_check_shard_empty(x, x->from);
	/* logged: each item once, exact (checked by the hook), then the marker */
	for (unsigned j = 0; j < AR_KEYS; j++)
		assert_int_equal(x->logged[j], 1);
	assert_int_equal(x->markers, 1);
	assert_int_equal(x->other_records, 0);
	assert_int_equal(m->w[x->to].stats.log_records, AR_KEYS + 1);
	assert_int_equal(m->drv.state.r[x->region].moved_last_lsn -
				 m->drv.state.r[x->region].moved_first_lsn,
			 AR_KEYS);
	/* one read per archived item, each answered and its slot given back */
	assert_int_equal(m->reads_delivered, x->n_archived);
	archive_io_stats_get(m->io, &st);
	assert_int_equal(st.reads, x->n_archived);
	assert_int_equal(st.read_errors, 0);
	ar_check_slots_back(x);
	assert_int_equal(m->w[x->to].mw.in_read_slot, -1);
	ar_free(x);
}

enum ar_damage {
	AR_DAMAGE_REF_CHECK,   /* the stub's reference holds another check */
	AR_DAMAGE_FILE_BYTES,  /* a byte of an LZ4 record's stored bytes overwritten */
	AR_DAMAGE_OTHER_KEY,   /* the stub names another item's record */
	AR_DAMAGE_READ_FAILS,  /* the disk fails the third read (two items moved already) */
};

/* A record that cannot be read or does not check fails the import: the
 * move is undone, the old owner keeps everything, the new owner stored and
 * logged no wrong value and gave its read slot back. */
static void archived_damage(enum ar_damage how)
{
	struct ar_fix *x = ar_setup();
	struct sim *m = x->m;
	struct archive_ref ref_of[AR_KEYS];
	unsigned a = AR_KEYS, b = AR_KEYS; /* the last LZ4 and the last raw archived item */

	memcpy(ref_of, x->ref, sizeof(ref_of));
	for (unsigned j = 0; j < AR_KEYS; j++) {
		if (x->cls[j] == AR_ARCHIVED_LZ4)
			a = j;
		if (x->cls[j] == AR_ARCHIVED_RAW)
			b = j;
	}
	assert_true(a < AR_KEYS && b < AR_KEYS);
	switch (how) {
	case AR_DAMAGE_REF_CHECK:
		ref_of[a].check ^= 0x100;
		break;
	case AR_DAMAGE_FILE_BYTES: {
		struct archive_file *af = archive_io_file(m->io, x->from);
		uint64_t at = x->rec_off[a] + ARCHIVE_RECORD_HDR_BYTES + x->kl[a] +
			      x->stored_len[a] / 2;
		uint8_t byte;

		assert_int_equal(archive_file_read(af, &byte, 1, at), 1);
		byte ^= 0x5a;
		assert_int_equal(disk_pwrite_all(disk_fake_disk(x->f), af->fd, &byte, 1, at), 0);
		break;
	}
	case AR_DAMAGE_OTHER_KEY:
		ref_of[a] = x->ref[b]; /* a sound record, of key b */
		break;
	case AR_DAMAGE_READ_FAILS:
		disk_fake_fail(x->f, DISK_OP_PREAD, 3, -EIO, 1);
		break;
	}
	ar_commit(x, ref_of);
	ar_queue(x);
	run_until_idle(m, 0, 100000);
	assert_int_equal(m->drv.failed, 1);
	assert_int_equal(m->drv.completed, 0);
	assert_int_equal(atomic_load(&m->drv.ch.import_result), MOVE_IMPORT_FAILED);
	assert_int_equal(atomic_load(&m->drv.ch.import_error), -EIO);
	assert_int_equal(m->w[x->to].stats.move_failed, 1);
	assert_int_equal(region_map_entry(&m->map, x->region), x->from);
	assert_int_equal(m->map.epoch[x->region], 0);
	/* the damaged item was never stored nor logged by the new owner (the
	 * hook checked every logged value), which purged what it took */
	if (how != AR_DAMAGE_READ_FAILS)
		assert_int_equal(x->logged[a], 0);
	else {
		struct archive_io_stats st;

		archive_io_stats_get(m->io, &st);
		assert_int_equal(st.reads, 2);
		assert_int_equal(st.read_errors, 1);
		assert_true(atomic_load(&m->drv.ch.imported) >= 2);
	}
	ar_check_shard_empty(x, x->to);
	ar_check_owner_kept(x, ref_of);
	ar_check_slots_back(x);
	assert_int_equal(m->w[x->to].mw.in_read_slot, -1);
	ar_free(x);
}

static void test_archived_damaged_check(void **state)
{
	(void)state;
	archived_damage(AR_DAMAGE_REF_CHECK);
}

static void test_archived_damaged_bytes(void **state)
{
	(void)state;
	archived_damage(AR_DAMAGE_FILE_BYTES);
}

static void test_archived_other_key(void **state)
{
	(void)state;
	archived_damage(AR_DAMAGE_OTHER_KEY);
}

static void test_archived_read_fails(void **state)
{
	(void)state;
	archived_damage(AR_DAMAGE_READ_FAILS);
}

/* A READ_DONE for a slot that is not the import's current read (idle, or
 * while a read is under way) gives that slot back and changes nothing; the
 * move then completes with the exact values. */
static void test_archived_stray_read_done(void **state)
{
	struct ar_fix *x = ar_setup();
	struct sim *m = x->m;
	struct move_worker *mw = &m->w[x->to].mw;
	struct archive_port *p = archive_io_port(m->io, x->to);
	struct move_env env;
	int s, cur;
	uint64_t imported;

	(void)state;
	ar_commit(x, x->ref);
	env_of(m, x->to, &env);
	/* idle: no read at all */
	s = archive_port_take_read_slot(p);
	assert_true(s >= 0);
	assert_int_not_equal(p->read_free, UINT32_MAX);
	move_on_archive_read(mw, &env, s, 100);
	assert_int_equal(p->read_free, UINT32_MAX);
	assert_int_equal(mw->in_read_slot, -1);
	assert_false(mw->in_read_back);
	/* a read under way: the archive thread does not answer yet */
	m->hold_archive = true;
	ar_queue(x);
	for (unsigned t = 0; t < 100000 && mw->in_read_slot < 0; t++) {
		for (int i = 0; i < WORKERS; i++)
			worker_turn(m, i);
		supervisor_turn(m, t);
	}
	cur = mw->in_read_slot;
	assert_true(cur >= 0);
	assert_false(mw->in_read_back);
	imported = atomic_load(&m->drv.ch.imported);
	s = archive_port_take_read_slot(p);
	assert_true(s >= 0 && s != cur);
	move_on_archive_read(mw, &env, s, -EIO);
	assert_true((p->read_free & (1u << s)) != 0);  /* given back */
	assert_true((p->read_free & (1u << cur)) == 0); /* the current one is still out */
	assert_int_equal(mw->in_read_slot, cur);
	assert_false(mw->in_read_back);
	/* nothing moves on while the real answer is out */
	for (unsigned t = 0; t < 50; t++) {
		for (int i = 0; i < WORKERS; i++)
			worker_turn(m, i);
		supervisor_turn(m, 100000 + t);
	}
	assert_int_equal(mw->in_read_slot, cur);
	assert_int_equal(atomic_load(&m->drv.ch.imported), imported);
	assert_int_equal(atomic_load(&m->drv.ch.import_result), MOVE_IMPORT_RUNNING);
	/* the thread answers: the move completes as if nothing happened */
	m->hold_archive = false;
	run_until_idle(m, 0, 100000);
	assert_int_equal(m->drv.completed, 1);
	assert_int_equal(m->drv.failed, 0);
	ar_check_shard_has_all(x, x->to);
	ar_check_shard_empty(x, x->from);
	for (unsigned j = 0; j < AR_KEYS; j++)
		assert_int_equal(x->logged[j], 1);
	ar_check_slots_back(x);
	ar_free(x);
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
		cmocka_unit_test(test_archived_items_move),
		cmocka_unit_test(test_archived_damaged_check),
		cmocka_unit_test(test_archived_damaged_bytes),
		cmocka_unit_test(test_archived_other_key),
		cmocka_unit_test(test_archived_read_fails),
		cmocka_unit_test(test_archived_stray_read_done),
	};

	assert_int_equal(keyhash_secret_init(&secret), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
