/* test_ckpt_scan.c - unit tests of a worker's share of a checkpoint
 * (dataplane/ckpt_scan.c) over a real shard and a hand-made hand-off port.
 *
 * The test plays the checkpoint thread: it takes START, CHUNK, DONE and
 * ABORT from the port's to_writer ring, decodes each chunk buffer's records
 * (wal_record_decode) and gives the buffers back with CKPT_MSG_FREE, at
 * once, late, or not at all for a while. Between the scan's steps it plays
 * the worker too: PUT, DELETE and overwrites with growing LSNs, noted in a
 * mutation log. The fuzzy checkpoint's promise is then checked: the items
 * collected plus every mutation after the scan's start LSN, applied in
 * order, give exactly the shard's final contents, and every item present
 * at the start and never deleted was collected exactly once. Randomized
 * tests take their seed from WE_TEST_SEED and name it on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "ckpt_scan.h"
#include "ckpt_writer.h"
#include "keyhash.h"
#include "shard.h"
#include "wal_record.h"
#include "we_test.h"

#define SEED_FALLBACK 0xc4a7
#define KEY_BUF 256
#define VALUE_MAX 700
#define KEYS 3000
#define WORKER 3

static struct keyhash_secret test_secret;

/* ---- a shard and a port ------------------------------------------------ */

struct fixture {
	struct shard *s;
	void *mem;
	struct ckpt_port *p;
	uint8_t *bufmem;
};

static struct fixture *fixture_new(uint32_t chunk_bytes)
{
	struct shard_config cfg = {.capacity_items = KEYS, .arena_bytes = 16u << 20,
				   .hash_secret = &test_secret};
	struct fixture *f = calloc(1, sizeof(*f));
	size_t bytes = shard_memory_size(&cfg);

	assert_non_null(f);
	assert_true(bytes > 0);
	f->s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	f->mem = aligned_alloc(64, bytes);
	assert_non_null(f->s);
	assert_non_null(f->mem);
	assert_int_equal(shard_init(f->s, f->mem, bytes, &cfg), 0);

	/* The port as ckpt_writer_create sets it up. */
	f->p = aligned_alloc(64, (sizeof(*f->p) + 63) & ~(size_t)63);
	assert_non_null(f->p);
	memset(f->p, 0, sizeof(*f->p));
	assert_int_equal(ctl_ring_init(&f->p->to_writer, f->p->cells_to_writer, CKPT_PORT_RING), 0);
	assert_int_equal(ctl_ring_init(&f->p->to_worker, f->p->cells_to_worker, CKPT_PORT_RING), 0);
	f->p->worker = WORKER;
	f->p->chunk_bytes = chunk_bytes;
	f->bufmem = aligned_alloc(64, (size_t)chunk_bytes * CKPT_PORT_BUFFERS);
	assert_non_null(f->bufmem);
	for (int b = 0; b < CKPT_PORT_BUFFERS; b++)
		f->p->buffers[b] = f->bufmem + (size_t)b * chunk_bytes;
	f->p->free_mask = (1u << CKPT_PORT_BUFFERS) - 1;
	return f;
}

static void fixture_free(struct fixture *f)
{
	free(f->bufmem);
	free(f->p);
	free(f->mem);
	free(f->s);
	free(f);
}

/* Key id k: its 4 bytes, then 0..36 more. */
static uint8_t key_of(uint32_t k, uint8_t *key)
{
	uint8_t len = (uint8_t)(4 + k % 37);

	memcpy(key, &k, 4);
	for (uint8_t i = 4; i < len; i++)
		key[i] = (uint8_t)(k * 31 + i);
	return len;
}

/* The value a PUT with this LSN writes: its length and bytes follow from
 * the LSN alone, so an item can be checked against its own LSN. */
static uint32_t value_len_of(uint64_t lsn, uint32_t value_max)
{
	uint64_t h = lsn * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	return (h & 3) != 0 ? (uint32_t)(h >> 8) % 48 : (uint32_t)(h >> 8) % (value_max + 1);
}

static void value_of(uint64_t lsn, uint8_t *buf, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(lsn * 131 + i * 7 + (i >> 8));
}

/* ---- the worker's model ------------------------------------------------ */

struct mutation {
	uint32_t k;
	bool del;
	uint64_t lsn;
	size_t prev; /* 1 + index of the key's mutation before, 0 none */
};

struct world {
	struct shard *s;
	uint64_t lsn;          /* the worker's last LSN */
	uint64_t live[KEYS];   /* LSN of the key's value, 0 absent */
	size_t last[KEYS];     /* 1 + index of the key's last mutation, 0 none */
	uint32_t value_max;
	struct mutation *log;  /* mutations, in order */
	size_t nlog, caplog;
	uint64_t rng;
	uint64_t seed;
};

static void world_note(struct world *w, uint32_t k, bool del, uint64_t lsn)
{
	if (w->nlog == w->caplog) {
		w->caplog = w->caplog ? w->caplog * 2 : 1024;
		w->log = realloc(w->log, w->caplog * sizeof(*w->log));
		assert_non_null(w->log);
	}
	w->log[w->nlog] = (struct mutation){.k = k, .del = del, .lsn = lsn, .prev = w->last[k]};
	w->last[k] = ++w->nlog;
}

/* The write whose value a checkpoint record of key k carries: the scan
 * copied the value the key had at the record's LSN (the worker's at that
 * step; items keep no LSN of their own), i.e. its newest mutation at or
 * before it, which must be a PUT of exactly these bytes (values differ per
 * write). Its LSN, or 0 when the record is not that. */
static uint64_t world_write_at(const struct world *w, uint32_t k, uint64_t at,
			       const uint8_t *value, uint32_t value_len)
{
	static uint8_t val[4096];
	size_t i = w->last[k];

	while (i != 0 && w->log[i - 1].lsn > at)
		i = w->log[i - 1].prev;
	if (i == 0 || w->log[i - 1].del)
		return 0;
	if (value_len != value_len_of(w->log[i - 1].lsn, w->value_max))
		return 0;
	value_of(w->log[i - 1].lsn, val, value_len);
	return memcmp(value, val, value_len) == 0 ? w->log[i - 1].lsn : 0;
}

static void world_put(struct world *w, uint32_t k)
{
	static uint8_t val[4096];
	uint8_t key[KEY_BUF];
	uint8_t len = key_of(k, key);
	uint64_t lsn = ++w->lsn;
	uint32_t vlen = value_len_of(lsn, w->value_max);

	value_of(lsn, val, vlen);
	WE_TEST_CHECK(shard_put(w->s, shard_hash(w->s, key, len), key, len, val, vlen) ==
			      WE_STATUS_OK,
		      w->seed);
	w->live[k] = lsn;
	world_note(w, k, false, lsn);
}

static void world_delete(struct world *w, uint32_t k)
{
	uint8_t key[KEY_BUF];
	uint8_t len = key_of(k, key);
	enum we_status st = shard_delete(w->s, shard_hash(w->s, key, len), key, len);

	WE_TEST_CHECK((st == WE_STATUS_OK) == (w->live[k] != 0), w->seed);
	if (w->live[k] == 0)
		return; /* nothing to log */
	w->live[k] = 0;
	world_note(w, k, true, ++w->lsn);
}

/* A few random mutations, as the worker serves between two steps. */
static void world_mutate(struct world *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t k = (uint32_t)(we_test_rand(&w->rng) % KEYS);

		if (we_test_rand(&w->rng) % 4 == 0)
			world_delete(w, k);
		else
			world_put(w, k);
	}
}

/* The shard holds exactly what the model says. */
static void world_check_shard(struct world *w)
{
	static uint8_t val[4096];
	struct shard_counters c;
	uint64_t n = 0;

	for (uint32_t k = 0; k < KEYS; k++) {
		uint8_t key[KEY_BUF];
		uint8_t len = key_of(k, key);
		const uint8_t *v;
		uint32_t vlen;
		enum we_status st = shard_get(w->s, shard_hash(w->s, key, len), key, len, &v, &vlen);

		WE_TEST_CHECK((st == WE_STATUS_OK) == (w->live[k] != 0), w->seed);
		if (w->live[k] == 0)
			continue;
		n++;
		WE_TEST_CHECK(vlen == value_len_of(w->live[k], w->value_max), w->seed);
		value_of(w->live[k], val, vlen);
		WE_TEST_CHECK(memcmp(v, val, vlen) == 0, w->seed);
	}
	shard_read_counters(w->s, &c);
	WE_TEST_CHECK(c.items == n, w->seed);
}

/* ---- the checkpoint thread, played by the test -------------------------- */

enum release {
	RELEASE_NOW,    /* every buffer back at once */
	RELEASE_RANDOM, /* each held buffer back with probability 1/3 per poll */
	RELEASE_NEVER,  /* keep them (until told otherwise) */
};

struct thread_sim {
	struct ckpt_port *p;
	const struct world *w; /* what the records must agree with */
	uint32_t value_max;
	uint64_t seed;
	uint64_t rng;
	/* What arrived. */
	bool started, done, aborted;
	uint64_t start_id, start_lsn, done_id, done_lsn, done_items;
	int32_t abort_err;
	uint64_t chunks, records;
	uint32_t seen[KEYS];        /* times each key was collected */
	uint64_t got_lsn[KEYS];     /* the LSN of the write the collected item holds */
	int held[CKPT_PORT_BUFFERS];
	unsigned nheld;
	bool bad_order; /* a message after DONE/ABORT, or before START */
};

static void sim_init(struct thread_sim *t, struct ckpt_port *p, const struct world *w,
		     uint32_t value_max, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->w = w;
	t->value_max = value_max;
	t->seed = seed;
	t->rng = seed ^ 0x51;
}

static uint32_t record_key_id(const struct wal_record *rec, uint64_t seed)
{
	uint8_t key[KEY_BUF];
	uint32_t k;

	WE_TEST_CHECK(rec->key_len >= 4, seed);
	memcpy(&k, rec->key, 4);
	WE_TEST_CHECK(k < KEYS, seed);
	WE_TEST_CHECK(key_of(k, key) == rec->key_len && memcmp(key, rec->key, rec->key_len) == 0,
		      seed);
	return k;
}

/* Decodes one chunk buffer: `records` PUT records in `bytes` bytes. */
static void sim_chunk(struct thread_sim *t, int buf, uint64_t bytes, uint64_t records)
{
	const uint8_t *b = t->p->buffers[buf];
	uint64_t off = 0, n = 0;

	WE_TEST_CHECK(bytes > 0 && bytes <= t->p->chunk_bytes, t->seed);
	while (off < bytes) {
		struct wal_record rec;
		uint32_t rb;
		uint32_t k;

		WE_TEST_CHECK(wal_record_decode(b + off, bytes - off, &rec, &rb) == WAL_DECODE_OK,
			      t->seed);
		WE_TEST_CHECK(rec.type == WAL_REC_PUT && rec.worker == t->p->worker, t->seed);
		WE_TEST_CHECK(rec.region == keyhash_region(keyhash(rec.key, rec.key_len)), t->seed);
		k = record_key_id(&rec, t->seed);
		t->got_lsn[k] = world_write_at(t->w, k, rec.lsn, rec.value, rec.value_len);
		WE_TEST_CHECK(t->got_lsn[k] != 0, t->seed);
		t->seen[k]++;
		off += rb;
		n++;
	}
	WE_TEST_CHECK(off == bytes && n == records, t->seed);
	t->chunks++;
	t->records += n;
}

static void sim_give_back(struct thread_sim *t, unsigned i)
{
	struct ctl_msg m = {.type = CKPT_MSG_FREE, .i32 = t->held[i]};

	assert_int_equal(ctl_ring_post(&t->p->to_worker, &m), 0);
	t->held[i] = t->held[--t->nheld];
}

/* Takes what the worker posted, then gives buffers back per policy. */
static void sim_poll(struct thread_sim *t, enum release how)
{
	struct ctl_msg m[8];
	unsigned n;

	while ((n = ctl_ring_take(&t->p->to_writer, m, 8)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			bool ended = t->done || t->aborted;

			switch (m[i].type) {
			case CKPT_MSG_START:
				if (t->started)
					t->bad_order = true;
				t->started = true;
				t->start_id = m[i].a;
				t->start_lsn = m[i].b;
				break;
			case CKPT_MSG_CHUNK:
				if (!t->started || ended)
					t->bad_order = true;
				WE_TEST_CHECK(m[i].i32 >= 0 && m[i].i32 < CKPT_PORT_BUFFERS, t->seed);
				for (unsigned h = 0; h < t->nheld; h++)
					WE_TEST_CHECK(t->held[h] != m[i].i32, t->seed);
				sim_chunk(t, m[i].i32, m[i].a, m[i].b);
				t->held[t->nheld++] = m[i].i32;
				break;
			case CKPT_MSG_DONE:
				if (!t->started || ended)
					t->bad_order = true;
				t->done = true;
				t->done_id = m[i].a;
				t->done_lsn = m[i].b;
				t->done_items = m[i].c;
				break;
			case CKPT_MSG_ABORT:
				if (!t->started || ended)
					t->bad_order = true;
				t->aborted = true;
				t->abort_err = m[i].i32;
				break;
			default:
				fail_msg("unexpected message %u", m[i].type);
			}
		}
	}
	for (unsigned i = 0; i < t->nheld;) {
		if (how == RELEASE_NOW || (how == RELEASE_RANDOM && we_test_rand(&t->rng) % 4 == 0))
			sim_give_back(t, i);
		else
			i++;
	}
}

/* The worker holds every buffer again once the thread gave all back. */
static void check_all_buffers_home(struct fixture *f, struct thread_sim *t)
{
	sim_poll(t, RELEASE_NOW);
	assert_int_equal(ckpt_port_reclaim(f->p), CKPT_PORT_BUFFERS);
}

/* The fuzzy checkpoint property, for a scan that began at LSN start. */
static void check_fuzzy(struct world *w, struct thread_sim *t, uint64_t start,
			const uint64_t *live_at_start)
{
	static uint64_t state[KEYS];
	bool *deleted = calloc(KEYS, sizeof(bool));

	assert_non_null(deleted);
	for (uint32_t k = 0; k < KEYS; k++) {
		/* No key twice; an item present at the start and never
		 * deleted after it: exactly once. */
		WE_TEST_CHECK(t->seen[k] <= 1, w->seed);
		state[k] = t->seen[k] ? t->got_lsn[k] : 0;
	}
	for (size_t i = 0; i < w->nlog; i++) {
		if (w->log[i].lsn <= start)
			continue;
		if (w->log[i].del)
			deleted[w->log[i].k] = true;
		state[w->log[i].k] = w->log[i].del ? 0 : w->log[i].lsn;
	}
	for (uint32_t k = 0; k < KEYS; k++) {
		if (state[k] != w->live[k])
			fail_msg("key %u: checkpoint + log after LSN %" PRIu64 " gives LSN %" PRIu64
				 ", the shard holds %" PRIu64 " (WE_TEST_SEED=%" PRIu64 ")",
				 k, start, state[k], w->live[k], w->seed);
		if (live_at_start[k] != 0 && !deleted[k] && t->seen[k] != 1)
			fail_msg("key %u present at the start, never deleted, collected %u times "
				 "(WE_TEST_SEED=%" PRIu64 ")", k, t->seen[k], w->seed);
		/* An item's LSN is that of a write up to the end of the scan. */
		WE_TEST_CHECK(!t->seen[k] || t->got_lsn[k] <= t->done_lsn, w->seed);
	}
	free(deleted);
}

/* ---- tests ---------------------------------------------------------------- */

/* One scan with random writes between steps and buffers given back at
 * random moments: START and DONE carry the LSNs and the count, every step
 * respects its budget, and the fuzzy property holds. */
static void run_fuzzy(uint32_t chunk_bytes, uint32_t value_max, enum release how, unsigned budget,
		      const char *name, uint64_t fallback)
{
	struct fixture *f = fixture_new(chunk_bytes);
	uint64_t seed = we_test_seed(name, fallback);
	static struct world w;
	static uint64_t live_at_start[KEYS];
	static struct thread_sim t;
	struct ckpt_scan scan;
	uint64_t start, steps = 0, sum = 0, waits = 0;

	memset(&w, 0, sizeof(w));
	memset(&scan, 0, sizeof(scan));
	w.s = f->s;
	w.seed = seed;
	w.rng = seed;
	w.value_max = value_max;
	for (uint32_t k = 0; k < KEYS; k++)
		if (we_test_rand(&w.rng) % 3 != 0)
			world_put(&w, k);
	world_mutate(&w, 2000);
	memcpy(live_at_start, w.live, sizeof(live_at_start));
	start = w.lsn;
	sim_init(&t, f->p, &w, value_max, seed);

	assert_int_equal(ckpt_scan_begin(&scan, f->p, 42, start), 0);
	assert_true(ckpt_scan_active(&scan));
	while (ckpt_scan_active(&scan)) {
		int n;

		world_mutate(&w, (unsigned)(we_test_rand(&w.rng) % 40));
		n = ckpt_scan_step(&scan, f->p, f->s, w.lsn, budget);
		if (n < 0)
			fail_msg("step %" PRIu64 " gave up: %d (WE_TEST_SEED=%" PRIu64 ")", steps,
				 n, seed);
		WE_TEST_CHECK((unsigned)n <= budget && n <= CKPT_SCAN_STEP_ITEMS, seed);
		sum += (uint64_t)n;
		if (n == 0 && !t.done)
			waits++;
		steps++;
		WE_TEST_CHECK(steps < 1000000, seed);
		sim_poll(&t, how);
	}
	sim_poll(&t, how);
	assert_false(t.bad_order);
	assert_false(t.aborted);
	assert_true(t.started && t.done);
	assert_int_equal(t.start_id, 42);
	assert_int_equal(t.done_id, 42);
	assert_int_equal(t.start_lsn, start);
	assert_int_equal(t.done_lsn, w.lsn); /* the LSN of the last step */
	assert_int_equal(t.done_items, sum);
	assert_int_equal(t.records, sum);
	assert_int_equal(scan.items, sum);
	check_fuzzy(&w, &t, start, live_at_start);
	world_check_shard(&w);
	check_all_buffers_home(f, &t);
	fprintf(stderr, "%s: %" PRIu64 " steps, %" PRIu64 " items, %" PRIu64 " chunks, %" PRIu64
		" steps waited\n", name, steps, sum, t.chunks, waits);
	free(w.log);
	fixture_free(f);
}

static void test_fuzzy_buffers_back_at_once(void **state)
{
	(void)state;
	run_fuzzy(64u * 1024, VALUE_MAX, RELEASE_NOW, CKPT_SCAN_STEP_ITEMS, "fuzzy now", 1);
}

static void test_fuzzy_buffers_back_late(void **state)
{
	(void)state;
	run_fuzzy(64u * 1024, VALUE_MAX, RELEASE_RANDOM, CKPT_SCAN_STEP_ITEMS, "fuzzy late", 2);
}

/* Small chunks (4 KiB): many steps fill the current chunk in the middle
 * and go on in the spare one, while the thread is late with the others. */
static void test_fuzzy_small_chunks_late(void **state)
{
	(void)state;
	run_fuzzy(CKPT_CHUNK_RAW_MIN, 40, RELEASE_RANDOM, CKPT_SCAN_STEP_ITEMS, "fuzzy small", 3);
}

/* The smallest budget a step accepts. */
static void test_fuzzy_small_budget(void **state)
{
	(void)state;
	run_fuzzy(16u * 1024, 200, RELEASE_RANDOM, SHARD_SCAN_ITEMS_MIN, "fuzzy budget", 4);
}

/* A budget above CKPT_SCAN_STEP_ITEMS is capped; a scan of an empty shard
 * ends at once with 0 items. */
static void test_budget_capped_and_empty(void **state)
{
	struct fixture *f = fixture_new(64u * 1024);
	static struct thread_sim t;
	static struct world w;
	struct ckpt_scan scan = {0};
	uint64_t total = 0;
	int n;

	(void)state;
	sim_init(&t, f->p, &w, VALUE_MAX, 5);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 1, 0), 0);
	while (ckpt_scan_active(&scan)) {
		n = ckpt_scan_step(&scan, f->p, f->s, 0, 1000);
		assert_int_equal(n, 0);
		sim_poll(&t, RELEASE_NOW);
	}
	sim_poll(&t, RELEASE_NOW);
	assert_true(t.started && t.done && !t.aborted);
	assert_int_equal(t.done_items, 0);
	assert_int_equal(t.chunks, 0); /* an empty chunk is not posted */
	check_all_buffers_home(f, &t);

	memset(&w, 0, sizeof(w));
	w.s = f->s;
	w.seed = 5;
	w.value_max = 40;
	for (uint32_t k = 0; k < KEYS; k++)
		world_put(&w, k);
	sim_init(&t, f->p, &w, 40, 5);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 2, w.lsn), 0);
	while (ckpt_scan_active(&scan)) {
		n = ckpt_scan_step(&scan, f->p, f->s, w.lsn, 1000);
		assert_true(n >= 0 && n <= CKPT_SCAN_STEP_ITEMS);
		total += (uint64_t)n;
		sim_poll(&t, RELEASE_NOW);
	}
	sim_poll(&t, RELEASE_NOW);
	assert_int_equal(total, KEYS);
	assert_int_equal(t.done_items, KEYS);
	assert_int_equal(t.records, KEYS);
	for (uint32_t k = 0; k < KEYS; k++)
		assert_int_equal(t.seen[k], 1);
	check_all_buffers_home(f, &t);
	free(w.log);
	fixture_free(f);
}

/* A second begin while a scan runs: -EBUSY, and the running scan goes on
 * unharmed (one START only, its id and LSN). */
static void test_begin_while_active(void **state)
{
	struct fixture *f = fixture_new(64u * 1024);
	static struct thread_sim t;
	static struct world w;
	struct ckpt_scan scan = {0};

	(void)state;
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	w.seed = 6;
	w.value_max = 40;
	for (uint32_t k = 0; k < KEYS; k++)
		world_put(&w, k);
	sim_init(&t, f->p, &w, 40, 6);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 7, w.lsn), 0);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 8, w.lsn + 5), -EBUSY);
	assert_true(ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64) > 0);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 8, w.lsn + 5), -EBUSY);
	while (ckpt_scan_active(&scan)) {
		assert_true(ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64) >= 0);
		sim_poll(&t, RELEASE_NOW);
	}
	sim_poll(&t, RELEASE_NOW);
	assert_false(t.bad_order);
	assert_int_equal(t.start_id, 7);
	assert_int_equal(t.start_lsn, KEYS);
	assert_int_equal(t.done_id, 7);
	assert_int_equal(t.done_items, KEYS);
	/* Once it ended, a new one may begin. */
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 8, w.lsn), 0);
	free(w.log);
	fixture_free(f);
}

/* With no buffer to fill, a step copies nothing, the cursor stays and
 * nothing is lost once the buffers come back: first with every buffer at
 * the thread before the first step, then mid-scan with the thread keeping
 * every chunk it gets (steps then fill what room the current chunk has
 * left, and copy nothing once the next chain does not fit). */
static void test_no_free_buffer_waits(void **state)
{
	struct fixture *f = fixture_new(CKPT_CHUNK_RAW_MIN);
	uint64_t seed = we_test_seed("no free buffer", 7);
	static struct thread_sim t;
	static struct world w;
	static uint64_t live_at_start[KEYS];
	struct ckpt_scan scan = {0};
	uint64_t sum = 0;
	unsigned stalls = 0;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	w.seed = seed;
	w.rng = seed;
	w.value_max = 40;
	for (uint32_t k = 0; k < KEYS; k++)
		world_put(&w, k);
	memcpy(live_at_start, w.live, sizeof(live_at_start));
	sim_init(&t, f->p, &w, 40, seed);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 9, w.lsn), 0);

	/* Every buffer away before the first step. */
	f->p->free_mask = 0;
	for (int i = 0; i < 5; i++) {
		world_mutate(&w, 3);
		assert_int_equal(ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64), 0);
		assert_int_equal(scan.cursor.bucket, 0);
		assert_int_equal(scan.items, 0);
		assert_true(scan.active);
		assert_int_equal(scan.buf, -1);
	}
	f->p->free_mask = (1u << CKPT_PORT_BUFFERS) - 1;

	while (ckpt_scan_active(&scan)) {
		struct ckpt_scan before;
		int n;

		world_mutate(&w, 2);
		before = scan;
		n = ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64);

		WE_TEST_CHECK(n >= 0, seed);
		sum += (uint64_t)n;
		if (n == 0 && scan.active && scan.cursor.bucket == before.cursor.bucket) {
			/* A step waits only when it lacks buffers. */
			WE_TEST_CHECK(f->p->free_mask == 0, seed);
			/* Stalled: more steps copy nothing and move nothing
			 * (no writes here: one could shrink the next chain
			 * so that it fits what room is left). */
			for (int i = 0; i < 5; i++) {
				WE_TEST_CHECK(ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64) == 0,
					      seed);
				WE_TEST_CHECK(scan.cursor.bucket == before.cursor.bucket &&
						      scan.items == before.items &&
						      scan.buf == before.buf && scan.active,
					      seed);
			}
			stalls++;
			sim_poll(&t, RELEASE_NOW);
			continue;
		}
		sim_poll(&t, RELEASE_NEVER);
		/* Nothing copied is lost: at the thread or in the current chunk. */
		WE_TEST_CHECK(t.records + (scan.buf >= 0 ? scan.chunk.records : 0) == scan.items ||
			      !scan.active, seed);
	}
	sim_poll(&t, RELEASE_NOW);
	assert_true(stalls > 0);
	assert_false(t.aborted);
	assert_true(t.done);
	assert_int_equal(t.done_items, sum);
	assert_int_equal(t.records, sum);
	check_fuzzy(&w, &t, KEYS, live_at_start);
	world_check_shard(&w);
	check_all_buffers_home(f, &t);
	free(w.log);
	fixture_free(f);
}

/* The first step of a scan while the previous scan's chunks are still at
 * the thread (one buffer free): the scan must not give up, whatever the
 * items' sizes, as long as each item fits a chunk. */
static void test_first_step_one_buffer(void **state)
{
	struct fixture *f = fixture_new(CKPT_CHUNK_RAW_MIN);
	static struct thread_sim t;
	static struct world w;
	struct ckpt_scan scan = {0};
	int n;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	w.seed = 8;
	w.value_max = 700;
	for (uint32_t k = 0; k < KEYS; k++)
		world_put(&w, k);
	sim_init(&t, f->p, &w, 700, 8);
	/* Three buffers away (the previous scan's chunks). */
	for (int i = 0; i < 3; i++)
		assert_true(ckpt_port_take(f->p) >= 0);
	assert_int_equal(ckpt_scan_begin(&scan, f->p, 10, w.lsn), 0);
	for (int i = 0; i < 50 && ckpt_scan_active(&scan); i++) {
		n = ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64);
		if (n < 0)
			fail_msg("a step with one free buffer gave the scan up: %d", n);
		sim_poll(&t, RELEASE_NOW);
	}
	/* The previous scan's buffers come back: the scan ends, whole. */
	f->p->free_mask |= (1u << CKPT_PORT_BUFFERS) - 1;
	if (scan.buf >= 0)
		f->p->free_mask &= ~(1u << scan.buf);
	while (ckpt_scan_active(&scan)) {
		n = ckpt_scan_step(&scan, f->p, f->s, w.lsn, 64);
		if (n < 0)
			fail_msg("the scan gave up: %d", n);
		sim_poll(&t, RELEASE_NOW);
	}
	sim_poll(&t, RELEASE_NOW);
	assert_true(t.done && !t.aborted);
	assert_int_equal(t.done_items, KEYS);
	for (uint32_t k = 0; k < KEYS; k++)
		assert_int_equal(t.seen[k], 1);
	check_all_buffers_home(f, &t);
	free(w.log);
	fixture_free(f);
}

/* ---- archived items (the disk tier's stubs) ---------------------------- */

/* The reference the test makes up for key k's record. */
static struct shard_archive_ref made_up_ref(uint32_t k, uint64_t lsn)
{
	return (struct shard_archive_ref){.offset = ((uint64_t)k << 16) + 0x1234567800ull,
					  .bytes = 40u + (uint32_t)(lsn % 4000) * 8u,
					  .check = k * 2654435761u ^ (uint32_t)lsn};
}

/* A scan of a shard in which about half the items are stubs: every stub
 * goes out as WAL_REC_ARCHIVED holding exactly its 16 reference bytes and
 * its LSN, every other item as a PUT with its value, each key once, and
 * each CHUNK message's c counts the chunk's ARCHIVED records. */
static void test_archived_items_as_refs(void **state)
{
	struct fixture *f = fixture_new(16u * 1024);
	static struct world w;
	static bool stub[KEYS];
	static uint32_t seen[KEYS];
	static uint32_t pick_k[KEYS];
	static uint8_t val[4096];
	struct shard_archive_policy all = {.archive_below = 255, .max_chains = 1u << 20,
					   .max_stored_bytes = 1u << 30};
	struct shard_archive_pick picks[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = {0};
	struct ckpt_scan scan = {0};
	uint64_t stubs = 0, puts = 0, archived_recs = 0, archived_msgs = 0, chunks = 0;
	uint64_t items = 0, done_items = 0;
	unsigned npicked = 0;
	bool done = false;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(stub, 0, sizeof(stub));
	memset(seen, 0, sizeof(seen));
	w.s = f->s;
	w.seed = 11;
	w.value_max = VALUE_MAX;
	for (uint32_t k = 0; k < KEYS; k++)
		world_put(&w, k);
	/* Pick everything archivable, then commit every other pick with a
	 * made-up reference (the shard does no I/O). */
	while (!shard_scan_done(f->s, &cur)) {
		int n = shard_archive_step(f->s, &cur, &all, picks, SHARD_SCAN_ITEMS_MIN);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			struct wal_record r = {.key = picks[i].key, .key_len = picks[i].key_len};

			pick_k[npicked] = record_key_id(&r, w.seed);
			assert_int_equal(picks[i].codec, TIER_EVENT_HORIZON);
			assert_int_equal(picks[i].value_len,
					 value_len_of(w.live[pick_k[npicked]], VALUE_MAX));
			npicked++;
		}
	}
	/* Most values are under 48 bytes: about 900 items save memory. */
	assert_true(npicked > KEYS / 5);
	for (unsigned i = 0; i < npicked; i += 2) {
		uint8_t key[KEY_BUF];
		uint8_t len = key_of(pick_k[i], key);
		uint64_t lsn = w.live[pick_k[i]];
		uint32_t vlen = value_len_of(lsn, VALUE_MAX);
		struct shard_archive_ref ref = made_up_ref(pick_k[i], lsn);

		value_of(lsn, val, vlen); /* what the item stores, raw */
		if (shard_archive_commit(f->s, shard_hash(f->s, key, len), key, len,
					 TIER_EVENT_HORIZON, val, vlen, &ref)) {
			stub[pick_k[i]] = true;
			stubs++;
		}
	}
	assert_true(stubs > KEYS / 10);
	assert_true(shard_check_invariants(f->s));

	assert_int_equal(ckpt_scan_begin(&scan, f->p, 77, w.lsn), 0);
	while (!done) {
		struct ctl_msg m[8];
		unsigned n;

		if (ckpt_scan_active(&scan)) {
			int r = ckpt_scan_step(&scan, f->p, f->s, w.lsn, CKPT_SCAN_STEP_ITEMS);

			assert_true(r >= 0);
			items += (uint64_t)r;
		}
		while ((n = ctl_ring_take(&f->p->to_writer, m, 8)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				const uint8_t *b;
				uint64_t off = 0, recs = 0, arch = 0;

				if (m[i].type == CKPT_MSG_START)
					continue;
				if (m[i].type == CKPT_MSG_DONE) {
					done = true;
					done_items = m[i].c;
					continue;
				}
				assert_int_equal(m[i].type, CKPT_MSG_CHUNK);
				b = f->p->buffers[m[i].i32];
				while (off < m[i].a) {
					struct wal_record rec;
					uint32_t rb;
					uint32_t k;

					assert_int_equal(wal_record_decode(b + off, m[i].a - off, &rec,
									   &rb),
							 WAL_DECODE_OK);
					k = record_key_id(&rec, w.seed);
					seen[k]++;
					/* no writes during this scan */
					assert_int_equal(rec.lsn, w.lsn);
					assert_int_equal(rec.worker, WORKER);
					if (stub[k]) {
						struct shard_archive_ref ref = made_up_ref(k, w.live[k]);

						assert_int_equal(rec.type, WAL_REC_ARCHIVED);
						assert_int_equal(rec.value_len, WAL_ARCHIVED_REF_BYTES);
						assert_memory_equal(rec.value, &ref, sizeof(ref));
						arch++;
					} else {
						assert_int_equal(rec.type, WAL_REC_PUT);
						assert_int_equal(rec.value_len,
								 value_len_of(w.live[k], VALUE_MAX));
						value_of(w.live[k], val, rec.value_len);
						assert_memory_equal(rec.value, val, rec.value_len);
						puts++;
					}
					off += rb;
					recs++;
				}
				assert_int_equal(off, m[i].a);
				assert_int_equal(recs, m[i].b);
				assert_int_equal(m[i].c, arch);
				archived_recs += arch;
				archived_msgs += m[i].c;
				chunks++;
				{
					struct ctl_msg back = {.type = CKPT_MSG_FREE, .i32 = m[i].i32};

					assert_int_equal(ctl_ring_post(&f->p->to_worker, &back), 0);
				}
			}
		}
	}
	assert_true(chunks > 1);
	assert_int_equal(archived_recs, stubs);
	assert_int_equal(archived_msgs, stubs);
	assert_int_equal(puts + stubs, KEYS);
	assert_int_equal(items, KEYS);
	assert_int_equal(done_items, KEYS);
	for (uint32_t k = 0; k < KEYS; k++)
		assert_int_equal(seen[k], 1);
	free(w.log);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzzy_buffers_back_at_once),
		cmocka_unit_test(test_fuzzy_buffers_back_late),
		cmocka_unit_test(test_fuzzy_small_chunks_late),
		cmocka_unit_test(test_fuzzy_small_budget),
		cmocka_unit_test(test_budget_capped_and_empty),
		cmocka_unit_test(test_begin_while_active),
		cmocka_unit_test(test_no_free_buffer_waits),
		cmocka_unit_test(test_first_step_one_buffer),
		cmocka_unit_test(test_archived_items_as_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
