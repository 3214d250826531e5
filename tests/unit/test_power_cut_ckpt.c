/* test_power_cut_ckpt.c - simulated power loss around fuzzy checkpoints,
 * under strong writes, all in one process over the fake disk
 * (storage/disk_fake.c). tests/storage/test_power_cut.c covers the log
 * alone; this one adds the checkpoint thread and the workers' scans.
 *
 * Two "workers", each with a real shard (dataplane/shard.c), a log ring and
 * a hand-off port of a ckpt_writer; a wal_writer (WAL_IO_SYNC over the
 * fake, 16 KiB segments) and the ckpt_writer run as threads. The test
 * thread plays both workers: each write takes a key of a small key space,
 * goes to the worker that owns its region, is applied to its shard with
 * the next LSN and encoded into its ring (as dataplane/execute.c's
 * run_logged_write does), and counts as acknowledged only once the
 * writer's published durable LSN covers it (a parked strong write). Between
 * writes it does what a worker's service step does: checkpoints begin at
 * random moments (ckpt_writer_begin, then ckpt_scan_begin on each worker
 * with its current LSN) and ckpt_scan_step copies a few chains at a time,
 * so the scans run while writes continue (fuzzy).
 *
 * The power goes at one of these moments, in turn (so every moment gets
 * cuts in the default run), in every cut mode of enum disk_cut:
 *   count     after a random number of writes (checkpoints at random)
 *   parts     while a checkpoint's parts are being written (a random
 *             number of scan steps after its begin, the thread RUNNING)
 *   manifest  right after a manifest was replaced (the thread's completed
 *             counter moved)
 *   retire    during retirement: a checkpoint completes while a previous
 *             one is named, and its unlinks (log segments the previous one
 *             covers, parts of older checkpoints) start failing from a
 *             random one on; the cut follows the first failed unlink
 *   roll      right after the log writer's roll-over counter moved
 * The "process" dies with the power: every operation that changes the disk
 * starts failing, the cut, then both threads are stopped and destroyed.
 *
 * Recovery then does what dataplane/durability.c durability_replay does:
 * ckpt_pick, recovery_load_checkpoint into fresh shards, recovery_open with
 * covered_* from the checkpoint, recovery_apply for every PUT and DELETE.
 * Each cut checks:
 *  - ckpt_pick and recovery succeed; no damage inside a log;
 *  - a loaded checkpoint is the last one whose completion was seen, or the
 *    one in flight at the cut (its manifest may have been written just
 *    before), or, on a fallback, a completed one; none loaded only when no
 *    manifest was ever completed on this disk;
 *  - every key holds a value that was written (key, bytes), that is the
 *    value recovered at the previous cut or one written since, and that is
 *    its last acknowledged write or a later issued one; a key is absent
 *    only when its last acknowledged write is a DELETE, or a later DELETE
 *    was issued, or it was absent before and nothing was acknowledged;
 *    the shards hold no other item.
 * Then the next "generation" starts on the same disk, as the data plane's
 * next start would (generation + 1, new writers, both workers' LSNs above
 * the largest LSN recovered and loaded), from the recovered shards.
 *
 * Half of the count and parts cuts come after the syncs began failing
 * while the threads kept writing, so the torn modes have log records and
 * chunks to tear. 256 keys: with fewer, nearly every key is written again
 * after a checkpoint's start and a record lost from the replay goes
 * unnoticed (skipping 3 records above each start LSN was caught in 5 runs
 * of 5 with 256 keys, in 0 of 3 with 64).
 *
 * What the fake disk cannot show: it lists files, not folders, so
 * ckpt_next_id sees only the manifest's id; after a restart a checkpoint
 * may take the id of an abandoned one whose parts survived the cut, and
 * fails (ckpt_part_create: -EEXIST; counted as failed, the next one takes
 * the next id). Old checkpoint folders are never listed, so never removed.
 *
 * Some lives give one worker no write before a checkpoint must complete
 * (WE_TEST_IDLE_WORKER=0 turns them off). This found a bug: after a restart
 * the log writer published a durable LSN of 0 until the worker's first
 * commit, while the worker's LSN (its scan's end LSN) was the recovered
 * maximum, so the checkpoint thread waited for a durable LSN that never
 * came and gave the checkpoint up (durable_wait_ms). The writer now starts
 * at the recovered maximum (wal_writer_config.durable_lsn_start).
 *
 * 50 cuts by default (a new fake disk every few lives: the fake has 64
 * folders, and emptied checkpoint folders stay), WE_LONG_TESTS=1: 500.
 * The seed is printed; WE_TEST_SEED fixes every random choice but not the
 * threads' timing.
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
#include <time.h>

#include <cmocka.h>

#include "ckpt_manifest.h"
#include "ckpt_scan.h"
#include "ckpt_writer.h"
#include "disk_fake.h"
#include "keyhash.h"
#include "recovery.h"
#include "recovery_load.h"
#include "region_map.h"
#include "shard.h"
#include "wal_record.h"
#include "wal_ring.h"
#include "wal_writer.h"
#include "we_test.h"
#include "we_time.h"

#define WORKERS 2
#define KEYS 256
#define RING_BYTES (16u * 1024) /* records up to half: within a segment */
#define SEG_BYTES (16u * 1024)
#define CHUNK_BYTES CKPT_CHUNK_RAW_MIN
#define FILLER_MAX 200
#define SHARD_CAPACITY 4096 /* many buckets: a scan takes several steps */
#define SHARD_ARENA (4u << 20)
#define LIFE_COUNT_MAX 3000  /* the count moment's largest target */
#define LIFE_WRITES_MAX 12000 /* writes per life at most (then the rings drain) */
#define LIVES_PER_DISK 5
#define CKPTS_PER_DISK 56 /* folders: the fake has 64 and keeps emptied ones */
#define CKPTS_NEW_DISK 30 /* a new disk for the next life beyond this many */
#define CUTS_DEFAULT 50
#define CUTS_LONG 500
#define DURABLE_WAIT_MS 2000
#define WAIT_NS (5ull * 1000000000)
#define IDS_MAX 256

enum moment { M_COUNT, M_PARTS, M_MANIFEST, M_RETIRE, M_ROLL, MOMENTS };

static const char *const moment_name[MOMENTS] = {"count", "parts", "manifest", "retire", "roll"};
static const char *const cut_name[DISK_CUT_MODES] = {"drop", "torn-512", "torn-4k", "garbage",
						     "garbage-sector"};

struct write {
	uint16_t key;
	uint16_t worker;
	bool del;
	uint64_t lsn;
};

struct sim {
	uint64_t seed;
	uint64_t rng;
	struct disk_fake *f;
	struct disk *d;
	struct keyhash_secret secret;
	struct region_map map;
	struct shard_config shcfg;
	size_t shmem_bytes;

	/* One life ("process"). */
	uint64_t generation;
	struct wal_ring rings[WORKERS];
	struct wal_ring *ring_ptrs[WORKERS];
	void *ringmem[WORKERS];
	struct wal_writer *log;
	struct ckpt_writer *cw;
	struct ckpt_port *port[WORKERS];
	struct ckpt_scan scan[WORKERS];
	struct shard *sh[WORKERS];
	void *shmem[WORKERS];
	uint64_t lsn[WORKERS]; /* each worker's last LSN */
	int idle_worker;       /* a worker that gets no write in this life, -1 none */

	/* The model: every write since this disk was made, by id. */
	struct write *writes;
	uint64_t nwrites, cap;
	uint64_t life_first;
	uint64_t *pending[WORKERS]; /* this life's ids not yet acknowledged, LSN order */
	uint64_t npending[WORKERS], phead[WORKERS];
	int64_t cur[KEYS];        /* id of the key's value in the live shard, -1 absent */
	int64_t base[KEYS];       /* as recovered at the start of this life */
	int64_t last_acked[KEYS]; /* this life's last acknowledged write of the key, -1 */

	/* Checkpoints on this disk. */
	uint64_t named_id;        /* the last completion seen (its manifest is durable), 0 */
	uint64_t inflight_id;     /* begun, its end not seen yet, 0 */
	uint64_t completed_ids[IDS_MAX];
	uint32_t ncompleted;
	uint64_t seen_completed, seen_failed; /* the thread's counters at the last look */
	uint32_t ckpts_on_disk;
	uint32_t lives_on_disk;

	/* Totals. */
	uint64_t acked, writes_total, ckpt_completed, ckpt_failed, ckpt_begun, retired, removed;
	uint64_t stalls, idle_lives;
	uint64_t scan_aborts, loaded, fallbacks, rolls, torn_tails, covered_records,
		covered_segments, cuts_ckpt_running;
	uint64_t moments[MOMENTS];
	uint64_t modes[DISK_CUT_MODES];
	char last_failure[CKPT_ERR_MAX];
};

static uint64_t rnd(struct sim *s, uint64_t n)
{
	return we_test_rand(&s->rng) % n;
}

static void sleep_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static uint8_t key_of(uint16_t k, char *buf)
{
	return (uint8_t)snprintf(buf, 16, "key-%02u", (unsigned)k);
}

/* The value of write id: the id (8 bytes), then a filler that the id
 * decides (length and byte). */
static uint32_t value_of(uint64_t id, uint8_t *buf)
{
	uint32_t filler = (uint32_t)((id * 7919) % FILLER_MAX);

	memcpy(buf, &id, 8);
	memset(buf + 8, (int)(id & 0xff), filler);
	return 8 + filler;
}

static uint16_t owner_of(const struct sim *s, const char *key, uint8_t len)
{
	return region_map_owner_of_hash(&s->map, keyhash(key, len));
}

/* ---- shards ----------------------------------------------------------- */

static void shards_new(struct sim *s, struct shard **sh, void **mem)
{
	for (int w = 0; w < WORKERS; w++) {
		sh[w] = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
		mem[w] = aligned_alloc(64, s->shmem_bytes);
		assert_non_null(sh[w]);
		assert_non_null(mem[w]);
		assert_int_equal(shard_init(sh[w], mem[w], s->shmem_bytes, &s->shcfg), 0);
	}
}

static void shards_free(struct shard **sh, void **mem)
{
	for (int w = 0; w < WORKERS; w++) {
		free(sh[w]);
		free(mem[w]);
		sh[w] = NULL;
		mem[w] = NULL;
	}
}

/* ---- disk and lives --------------------------------------------------- */

static void disk_new(struct sim *s)
{
	disk_fake_destroy(s->f);
	s->f = disk_fake_create();
	assert_non_null(s->f);
	s->d = disk_fake_disk(s->f);
	/* As datadir_open leaves a fresh directory: its folders made, synced. */
	assert_int_equal(disk_mkdir(s->d, "dd"), 0);
	assert_int_equal(disk_mkdir(s->d, "dd/wal"), 0);
	assert_int_equal(disk_mkdir(s->d, "dd/checkpoints"), 0);
	assert_int_equal(disk_fsync_dir(s->d, "dd"), 0);
	s->generation = 0;
	s->nwrites = 0;
	s->life_first = 0;
	for (int k = 0; k < KEYS; k++)
		s->cur[k] = s->base[k] = -1;
	for (int w = 0; w < WORKERS; w++)
		s->lsn[w] = 0;
	s->named_id = 0;
	s->inflight_id = 0;
	s->ncompleted = 0;
	s->ckpts_on_disk = 0;
	s->lives_on_disk = 0;
	shards_free(s->sh, s->shmem);
	shards_new(s, s->sh, s->shmem);
}

/* A new "process": the next generation, empty rings, both threads. */
static void life_begin(struct sim *s)
{
	struct wal_writer_config wc = {
		.disk = s->d,
		.wal_dir = "dd/wal",
		.segment_bytes = SEG_BYTES,
		.generation = ++s->generation,
		.workers = WORKERS,
		.rings = s->ring_ptrs,
		.io = WAL_IO_SYNC,
		.group_commit_interval_us = 100,
		.idle_poll_us = 50,
		.retry_interval_us = 200,
		.spares = 1,
		/* As durability.c: what recovery read is on disk already. */
		.durable_lsn_start = s->lsn[0],
	};
	struct ckpt_writer_config cc = {
		.disk = s->d,
		.data_dir = "dd",
		.generation = s->generation,
		.workers = WORKERS,
		.chunk_bytes = CHUNK_BYTES,
		.durable_wait_ms = DURABLE_WAIT_MS,
	};
	char err[512];
	int r;

	for (int w = 0; w < WORKERS; w++) {
		assert_int_equal(wal_ring_init(&s->rings[w], s->ringmem[w], RING_BYTES), 0);
		s->npending[w] = 0;
		s->phead[w] = 0;
		memset(&s->scan[w], 0, sizeof(s->scan[w]));
		s->scan[w].buf = -1;
	}
	for (int k = 0; k < KEYS; k++)
		s->last_acked[k] = -1;
	s->life_first = s->nwrites;
	s->inflight_id = 0;
	s->lives_on_disk++;
	r = wal_writer_create(&s->log, &wc, err, sizeof(err));
	if (r != 0)
		fail_msg("wal_writer_create: %d %s (WE_TEST_SEED=%" PRIu64 ")", r, err, s->seed);
	cc.log = s->log;
	r = ckpt_writer_create(&s->cw, &cc, err, sizeof(err));
	if (r != 0)
		fail_msg("ckpt_writer_create: %d %s (WE_TEST_SEED=%" PRIu64 ")", r, err, s->seed);
	for (uint16_t w = 0; w < WORKERS; w++)
		s->port[w] = ckpt_writer_port(s->cw, w);
	s->seen_completed = 0;
	s->seen_failed = 0;
	assert_int_equal(wal_writer_start(s->log), 0);
	assert_int_equal(ckpt_writer_start(s->cw), 0);
}

/* One write of a random key, as its owner worker runs a logged write:
 * reserve in the ring, apply to the shard with the next LSN, encode,
 * commit. False when the ring is full (the worker would answer BUSY). */
static bool issue(struct sim *s)
{
	static uint8_t value[8 + FILLER_MAX];
	char key[16];
	uint16_t k = (uint16_t)rnd(s, KEYS);
	uint8_t klen = key_of(k, key);
	uint16_t w = owner_of(s, key, klen);

	while (w == s->idle_worker) {
		k = (uint16_t)rnd(s, KEYS);
		klen = key_of(k, key);
		w = owner_of(s, key, klen);
	}
	bool del = s->cur[k] >= 0 && rnd(s, 4) == 0;
	uint64_t id = s->nwrites;
	struct wal_record r = {.type = del ? WAL_REC_DELETE : WAL_REC_PUT,
			       .worker = w,
			       .region = (uint16_t)keyhash_region(keyhash(key, klen)),
			       .lsn = s->lsn[w] + 1,
			       .key = key,
			       .key_len = klen,
			       .value = del ? NULL : value,
			       .value_len = del ? 0 : value_of(id, value)};
	uint32_t bytes = wal_record_size(r.key_len, r.value_len);
	uint64_t h = shard_hash(s->sh[w], (const uint8_t *)key, klen);
	enum we_status st;
	void *p;

	p = wal_ring_reserve(&s->rings[w], bytes);
	if (p == NULL)
		return false;
	if (del)
		st = shard_delete(s->sh[w], h, (const uint8_t *)key, klen);
	else
		st = shard_put(s->sh[w], h, (const uint8_t *)key, klen, value, r.value_len);
	if (st != WE_STATUS_OK)
		fail_msg("shard %s: %s (WE_TEST_SEED=%" PRIu64 ")", del ? "delete" : "put",
			 we_status_name(st), s->seed);
	if (wal_record_encode(p, bytes, &r) != (int64_t)bytes)
		fail_msg("encode");
	wal_ring_commit(&s->rings[w]);
	s->lsn[w] = r.lsn;
	if (s->nwrites == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8192;
		s->writes = realloc(s->writes, s->cap * sizeof(*s->writes));
		assert_non_null(s->writes);
		for (int i = 0; i < WORKERS; i++) {
			s->pending[i] = realloc(s->pending[i], s->cap * sizeof(uint64_t));
			assert_non_null(s->pending[i]);
		}
	}
	s->writes[id] = (struct write){.key = k, .worker = w, .del = del, .lsn = r.lsn};
	s->pending[w][s->npending[w]++] = id;
	s->nwrites++;
	s->writes_total++;
	s->cur[k] = del ? -1 : (int64_t)id;
	return true;
}

/* Acknowledge what the published durable LSNs cover (parked strong
 * writes answered). */
static void ack(struct sim *s)
{
	for (uint16_t w = 0; w < WORKERS; w++) {
		uint64_t durable = wal_durable_lsn(wal_writer_durable(s->log, w));

		while (s->phead[w] < s->npending[w]) {
			uint64_t id = s->pending[w][s->phead[w]];

			if (s->writes[id].lsn > durable)
				break;
			s->last_acked[s->writes[id].key] = (int64_t)id;
			s->phead[w]++;
			s->acked++;
		}
	}
}

static uint64_t log_rolls(struct sim *s)
{
	struct wal_writer_stats st;

	wal_writer_stats_get(s->log, &st);
	return st.rolls;
}

static bool scans_active(const struct sim *s)
{
	for (int w = 0; w < WORKERS; w++)
		if (ckpt_scan_active(&s->scan[w]))
			return true;
	return false;
}

/* The thread's counters: note completions (their manifests are durable)
 * and failures. Returns the status. */
static struct ckpt_writer_status ckpt_look(struct sim *s)
{
	struct ckpt_writer_status st;

	ckpt_writer_status(s->cw, &st);
	if (st.completed != s->seen_completed) {
		/* One checkpoint at a time, and a new one begins only after the
		 * test saw the previous one end: one completion per look. */
		if (st.completed != s->seen_completed + 1 || st.last_id != s->inflight_id)
			fail_msg("completed %" PRIu64 " -> %" PRIu64 ", id %" PRIu64
				 " (in flight %" PRIu64 ") (WE_TEST_SEED=%" PRIu64 ")",
				 s->seen_completed, st.completed, st.last_id, s->inflight_id, s->seed);
		s->named_id = st.last_id;
		if (s->ncompleted < IDS_MAX)
			s->completed_ids[s->ncompleted++] = st.last_id;
		s->inflight_id = 0;
		s->seen_completed = st.completed;
		s->ckpt_completed++;
	}
	if (st.failed != s->seen_failed) {
		s->seen_failed = st.failed;
		s->inflight_id = 0;
		s->ckpt_failed++;
		snprintf(s->last_failure, sizeof(s->last_failure), "%s", st.last_failure);
	}
	return st;
}

/* The supervisor begins a checkpoint and every worker its scan. */
static bool ckpt_start(struct sim *s)
{
	char err[512];
	uint64_t id;
	int r;

	if (s->inflight_id != 0 || scans_active(s) || s->ckpts_on_disk >= CKPTS_PER_DISK)
		return false;
	r = ckpt_writer_begin(s->cw, &id, err, sizeof(err));
	if (r == -EBUSY)
		return false;
	if (r != 0)
		fail_msg("ckpt_writer_begin: %d %s (WE_TEST_SEED=%" PRIu64 ")", r, err, s->seed);
	s->inflight_id = id;
	s->ckpts_on_disk++;
	s->ckpt_begun++;
	for (uint16_t w = 0; w < WORKERS; w++) {
		r = ckpt_scan_begin(&s->scan[w], s->port[w], id, s->lsn[w]);
		if (r != 0)
			fail_msg("ckpt_scan_begin: %d (WE_TEST_SEED=%" PRIu64 ")", r, s->seed);
	}
	return true;
}

/* One service step's share of the scans: each active one, half the time. */
static void scans_step(struct sim *s)
{
	for (uint16_t w = 0; w < WORKERS; w++) {
		int r;

		if (!ckpt_scan_active(&s->scan[w]) || rnd(s, 2) == 0)
			continue;
		r = ckpt_scan_step(&s->scan[w], s->port[w], s->sh[w], s->lsn[w],
				   SHARD_SCAN_ITEMS_MIN + (unsigned)rnd(s, 30));
		if (r < 0)
			s->scan_aborts++;
	}
}

static const enum disk_op changing_ops[] = {
	DISK_OP_OPEN,	   DISK_OP_PWRITE, DISK_OP_FDATASYNC, DISK_OP_FSYNC_DIR, DISK_OP_FALLOCATE,
	DISK_OP_FTRUNCATE, DISK_OP_RENAME, DISK_OP_UNLINK,    DISK_OP_MKDIR,
};

/* Runs the workers until the moment comes, then the power goes. */
static void life_run_and_cut(struct sim *s, int cut, enum moment moment, enum disk_cut how)
{
	uint64_t t0 = we_monotonic_ns();
	uint64_t count_target = 1 + rnd(s, LIFE_COUNT_MAX);
	uint64_t rolls0 = log_rolls(s);
	uint64_t rolls_target = rolls0 + 1 + rnd(s, 3);
	uint64_t completions_target = 1 + rnd(s, 2), completions = 0;
	uint64_t steps_target = rnd(s, 12), steps = 0;
	uint64_t unlink_at = 0; /* retire: the unlink call count that fails first */
	uint64_t issued = 0;
	bool missed = false;
	struct ckpt_writer_status st;

	for (;;) {
		bool stop = false;
		uint64_t completed0 = s->seen_completed;
		uint64_t failed0 = s->seen_failed;

		if (issued < LIFE_WRITES_MAX && issue(s))
			issued++;
		else
			sleep_us(issued < LIFE_WRITES_MAX ? 20 : 200);
		ack(s);
		scans_step(s);
		st = ckpt_look(s);
		if (s->seen_completed != completed0)
			completions++;
		if (moment == M_RETIRE && unlink_at != 0 &&
		    (s->seen_completed != completed0 || s->seen_failed != failed0)) {
			/* It ended without reaching the failing unlink: nothing
			 * (or too little) to retire. Disarm; try the next one. */
			disk_fake_clear_faults(s->f);
			unlink_at = 0;
		}
		steps++;
		switch (moment) {
		case M_COUNT:
		case M_ROLL:
			/* Checkpoints now and then, while the writes go on. */
			if (rnd(s, 200) == 0)
				(void)ckpt_start(s);
			stop = moment == M_COUNT ? issued >= count_target : log_rolls(s) >= rolls_target;
			break;
		case M_PARTS:
			if (st.state == CKPT_RUNNING && s->inflight_id != 0 && steps >= steps_target) {
				stop = true;
				break;
			}
			if (ckpt_start(s)) {
				steps = 0;
				steps_target = rnd(s, 12);
			}
			break;
		case M_MANIFEST:
			if (s->idle_worker >= 0 && s->seen_failed != failed0 &&
			    strstr(s->last_failure, "did not become durable") != NULL)
				fail_msg("cut %d: worker %d wrote nothing in this life, and a "
					 "checkpoint failed: %s (WE_TEST_SEED=%" PRIu64 ")",
					 cut, s->idle_worker, s->last_failure, s->seed);
			stop = completions >= completions_target;
			if (!stop)
				(void)ckpt_start(s);
			break;
		case M_RETIRE:
			if (unlink_at != 0) {
				struct ckpt_manifest m;

				stop = disk_fake_calls(s->f, DISK_OP_UNLINK) >= unlink_at;
				/* Only retirement unlinks, after the manifest. */
				if (stop && (ckpt_manifest_read(s->d, "dd/checkpoints", &m, NULL, 0) != 0 ||
					     m.checkpoint_id != s->inflight_id))
					fail_msg("cut %d: an unlink before checkpoint %" PRIu64
						 "'s manifest (WE_TEST_SEED=%" PRIu64 ")",
						 cut, s->inflight_id, s->seed);
				/* That retirement unlinked fewer segments than the
				 * target (a slow run writes less between checkpoints):
				 * the next checkpoint retires more. */
				if (!stop && s->inflight_id == 0 && !scans_active(s))
					(void)ckpt_start(s);
				break;
			}
			/* Retirement needs a named checkpoint before this one. */
			if (s->named_id != 0 && s->inflight_id == 0 && !scans_active(s) &&
			    rnd(s, 8) == 0 && ckpt_start(s)) {
				uint32_t nth = 1 + (uint32_t)rnd(s, 3);

				unlink_at = disk_fake_calls(s->f, DISK_OP_UNLINK) + nth;
				disk_fake_fail(s->f, DISK_OP_UNLINK, nth, -EIO, DISK_FAKE_FAIL_FOREVER);
			} else if (s->named_id == 0) {
				(void)ckpt_start(s);
			}
			break;
		default:
			break;
		}
		if (stop)
			break;
		if (we_monotonic_ns() - t0 > WAIT_NS) {
			/* The moment did not come in time (a loaded machine
			 * writes less between checkpoints): cut here all the
			 * same, counted as missed; every moment must still
			 * have been reached at least once by the end. */
			fprintf(stderr, "cut %d: moment %s not reached in %llu s (%" PRIu64
				" writes, %" PRIu64 " roll-overs): cut anyway\n", cut,
				moment_name[moment], WAIT_NS / 1000000000ull, issued,
				log_rolls(s) - rolls0);
			missed = true;
			break;
		}
	}
	/* Half of the count and parts moments end with the syncs failing
	 * while the writers keep writing (log records, chunks), so the cut
	 * has unsynced data to tear. */
	if ((moment == M_COUNT || moment == M_PARTS) && rnd(s, 2) == 0) {
		uint64_t more = rnd(s, 300);

		disk_fake_fail(s->f, DISK_OP_FDATASYNC, 1, -EIO, DISK_FAKE_FAIL_FOREVER);
		for (uint64_t i = 0; i < more && issue(s); i++)
			scans_step(s);
		sleep_us(100 + (long)rnd(s, 2000));
		ack(s);
		st = ckpt_look(s);
		s->stalls++;
	}
	/* The power goes: nothing changes the disk any more, then the cut. */
	for (size_t i = 0; i < sizeof(changing_ops) / sizeof(changing_ops[0]); i++)
		disk_fake_fail(s->f, changing_ops[i], 1, -EIO, DISK_FAKE_FAIL_FOREVER);
	if (st.state == CKPT_RUNNING)
		s->cuts_ckpt_running++;
	disk_fake_cut(s->f, how, we_test_rand(&s->rng));
	/* A durable LSN published now was synced before the freeze; so was a
	 * manifest whose completion the thread reports now. */
	ack(s);
	(void)ckpt_look(s);
	ckpt_writer_stop(s->cw); /* the workers stopped scanning: they died */
	(void)ckpt_look(s);
	ckpt_writer_status(s->cw, &st);
	s->retired += st.segments_retired;
	s->removed += st.checkpoints_removed;
	s->rolls += log_rolls(s) - rolls0;
	wal_writer_stop(s->log);
	ack(s);
	ckpt_writer_destroy(s->cw);
	wal_writer_destroy(s->log);
	s->cw = NULL;
	s->log = NULL;
	disk_fake_clear_faults(s->f);
	if (!missed)
		s->moments[moment]++;
	s->modes[how]++;
}

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			char msg_[4096];                                                    \
			snprintf(msg_, sizeof(msg_), __VA_ARGS__);                          \
			fail_msg("cut %d (%s, %s): %s: %s (WE_TEST_SEED=%" PRIu64 ")", cut, \
				 moment_name[moment], cut_name[how], #cond, msg_, s->seed); \
		}                                                                           \
	} while (0)

static bool was_completed(const struct sim *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->ncompleted; i++)
		if (s->completed_ids[i] == id)
			return true;
	return false;
}

/* Recovery as durability_replay does it, into fresh shards, then the
 * checks (see the top). The recovered shards become the live ones. */
static void recover_and_check(struct sim *s, int cut, enum moment moment, enum disk_cut how)
{
	struct shard *nsh[WORKERS];
	void *nmem[WORKERS];
	struct recovery_target t = {.shards = nsh, .n = WORKERS, .map = &s->map};
	struct recovery_options opt = {.repair = true, .allow_mid_log_cut = false};
	struct ckpt_choice *c = calloc(1, sizeof(*c));
	uint64_t covered[CKPT_WORKERS_MAX] = {0};
	uint64_t lsn_max = 0, present = 0, items = 0;
	const struct recovery_stats *rst;
	struct recovery *r;
	struct wal_record rec;
	char err[512];
	char line[512];
	int rc;

	assert_non_null(c);
	shards_new(s, nsh, nmem);
	rc = ckpt_pick(s->d, "dd", c, err, sizeof(err));
	CHECK(rc == 0, "ckpt_pick %d: %s", rc, err);
	if (c->found) {
		struct recovery_load_stats lst;
		uint64_t id = c->s.checkpoint_id;

		rc = recovery_load_checkpoint(s->d, c, &t, &lst, err, sizeof(err));
		CHECK(rc == 0, "recovery_load_checkpoint %d: %s", rc, err);
		if (c->fallback) {
			fprintf(stderr, "power_cut_ckpt: cut %d: fallback to checkpoint %" PRIu64
					": %s\n", cut, id, c->why);
			CHECK(was_completed(s, id) || id == s->inflight_id,
			      "fallback to checkpoint %" PRIu64 ", never completed (named %" PRIu64
			      ", in flight %" PRIu64 ")", id, s->named_id, s->inflight_id);
			s->fallbacks++;
		} else {
			CHECK(id == s->named_id || (s->inflight_id != 0 && id == s->inflight_id),
			      "loaded checkpoint %" PRIu64 ": the last completed is %" PRIu64
			      ", in flight %" PRIu64, id, s->named_id, s->inflight_id);
		}
		CHECK(c->s.generation <= s->generation, "checkpoint of generation %" PRIu64,
		      c->s.generation);
		lsn_max = lst.lsn_max;
		memcpy(covered, c->s.start_lsn, sizeof(covered));
		opt.covered_generation = c->s.generation;
		opt.covered_workers = c->s.worker_count;
		opt.covered_lsn = covered;
		s->loaded++;
		/* The one loaded is named from now on (its manifest is). */
		if (!c->fallback && id != s->named_id) {
			s->named_id = id;
			if (s->ncompleted < IDS_MAX)
				s->completed_ids[s->ncompleted++] = id;
		}
	} else {
		CHECK(s->named_id == 0, "no checkpoint loaded, but checkpoint %" PRIu64
		      " was completed%s%s", s->named_id, c->fallback ? ": " : "",
		      c->fallback ? c->why : "");
		if (c->fallback)
			s->fallbacks++;
	}
	free(c);

	rc = recovery_open(&r, s->d, "dd/wal", &opt);
	CHECK(rc == 0, "recovery_open %d", rc);
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		if (rec.type != WAL_REC_PUT && rec.type != WAL_REC_DELETE)
			continue;
		rc = recovery_apply(&t, &rec, err, sizeof(err));
		if (rc != 0)
			break;
	}
	rst = recovery_stats(r);
	recovery_summary(r, line, sizeof(line));
	CHECK(rc == 0, "recovery %d (%s): %s", rc, rc == -EUCLEAN ? "damage inside a log" : err,
	      line);
	CHECK(rst->corrupt_mid_log == 0, "%s", line);
	if (rst->lsn_max > lsn_max)
		lsn_max = rst->lsn_max;
	s->torn_tails += rst->cuts;
	s->covered_records += rst->records_covered;
	s->covered_segments += rst->segments_covered;
	recovery_close(r);

	/* Every key against the model. */
	for (uint16_t k = 0; k < KEYS; k++) {
		char key[16];
		uint8_t klen = key_of(k, key);
		uint16_t w = owner_of(s, key, klen);
		const uint8_t *v;
		uint32_t vlen;
		enum we_status gs = shard_get(nsh[w], shard_hash(nsh[w], (const uint8_t *)key, klen),
					      (const uint8_t *)key, klen, &v, &vlen);
		int64_t acked = s->last_acked[k];
		int64_t now = -1;

		if (gs == WE_STATUS_OK) {
			uint8_t want[8 + FILLER_MAX];
			uint64_t id;

			CHECK(vlen >= 8, "key-%02u: a value of %u bytes", k, vlen);
			memcpy(&id, v, 8);
			CHECK(id < s->nwrites, "key-%02u holds write %" PRIu64 ", never written", k, id);
			CHECK(s->writes[id].key == k && !s->writes[id].del,
			      "key-%02u holds write %" PRIu64 ", a %s of key-%02u", k, id,
			      s->writes[id].del ? "DELETE" : "PUT", s->writes[id].key);
			CHECK(vlen == value_of(id, want) && memcmp(v, want, vlen) == 0,
			      "key-%02u: write %" PRIu64 "'s value differs", k, id);
			CHECK((int64_t)id == s->base[k] || id >= s->life_first,
			      "key-%02u holds write %" PRIu64 " of an earlier life, recovered "
			      "before: %" PRId64, k, id, s->base[k]);
			CHECK((int64_t)id >= acked,
			      "key-%02u holds write %" PRIu64 " (LSN %" PRIu64 "), but write %" PRId64
			      " (LSN %" PRIu64 ", worker %u) was acknowledged", k, id,
			      s->writes[id].lsn, acked, s->writes[acked].lsn, w);
			now = (int64_t)id;
			present++;
		} else {
			bool ok = (acked >= 0 && s->writes[acked].del) || (acked < 0 && s->base[k] < 0);
			uint64_t from = acked >= 0 ? (uint64_t)acked + 1 : s->life_first;

			CHECK(gs == WE_STATUS_NOT_FOUND, "key-%02u: %s", k, we_status_name(gs));
			for (uint64_t id = from; id < s->nwrites && !ok; id++)
				ok = s->writes[id].key == k && s->writes[id].del;
			CHECK(ok, "key-%02u absent: its last acknowledged write %" PRId64
			      " is a PUT (LSN %" PRIu64 ", worker %u), recovered before: %" PRId64
			      ", no later DELETE issued",
			      k, acked, acked >= 0 ? s->writes[acked].lsn : 0, w, s->base[k]);
		}
		s->base[k] = s->cur[k] = now;
	}
	for (int w = 0; w < WORKERS; w++) {
		struct shard_counters sc;

		shard_read_counters(nsh[w], &sc);
		items += sc.items;
	}
	CHECK(items == present, "%" PRIu64 " items in the shards, %" PRIu64 " keys found", items,
	      present);
	/* The next life: these shards, LSNs above everything recovered. */
	shards_free(s->sh, s->shmem);
	for (int w = 0; w < WORKERS; w++) {
		s->sh[w] = nsh[w];
		s->shmem[w] = nmem[w];
		s->lsn[w] = lsn_max;
	}
}

static void test_power_cuts_ckpt(void **state)
{
	const char *long_env = getenv("WE_LONG_TESTS");
	int cuts = long_env != NULL && strcmp(long_env, "1") == 0 ? CUTS_LONG : CUTS_DEFAULT;
	/* Aligned: struct sim holds cache-aligned members. */
	struct sim *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	uint64_t t0 = we_monotonic_ns();
	uint64_t mode_offset;
	const char *idle_env = getenv("WE_TEST_IDLE_WORKER");
	bool idle_lives = idle_env == NULL || strcmp(idle_env, "0") != 0;

	(void)state;
	assert_non_null(s);
	memset(s, 0, sizeof(*s));
	s->seed = we_test_seed("power_cut_ckpt", (uint64_t)time(NULL));
	s->rng = s->seed;
	mode_offset = rnd(s, DISK_CUT_MODES);
	keyhash_secret_from_seed(&s->secret, s->seed);
	region_map_init_default(&s->map, WORKERS);
	s->shcfg = (struct shard_config){.capacity_items = SHARD_CAPACITY,
					 .arena_bytes = SHARD_ARENA,
					 .hash_secret = &s->secret};
	s->shmem_bytes = shard_memory_size(&s->shcfg);
	assert_true(s->shmem_bytes > 0);
	for (int w = 0; w < WORKERS; w++) {
		s->ringmem[w] = aligned_alloc(64, RING_BYTES);
		assert_non_null(s->ringmem[w]);
		s->ring_ptrs[w] = &s->rings[w];
	}
	for (int cut = 0; cut < cuts; cut++) {
		/* Every moment in turn; modes so that in each run of 25 cuts
		 * every moment meets every mode, then at random. */
		enum moment moment = (enum moment)(cut % MOMENTS);
		enum disk_cut how =
			cut < MOMENTS * DISK_CUT_MODES
				? (enum disk_cut)((mode_offset + (uint64_t)cut + (uint64_t)cut / MOMENTS) %
						  DISK_CUT_MODES)
				: (enum disk_cut)rnd(s, DISK_CUT_MODES);

		if (s->f == NULL || s->lives_on_disk >= LIVES_PER_DISK ||
		    s->ckpts_on_disk >= CKPTS_NEW_DISK)
			disk_new(s);
		s->idle_worker = -1;
		if (idle_lives && moment == M_MANIFEST && s->lsn[0] > 0 && (cut / MOMENTS) % 2 == 1) {
			s->idle_worker = (int)rnd(s, WORKERS);
			s->idle_lives++;
		}
		life_begin(s);
		life_run_and_cut(s, cut, moment, how);
		recover_and_check(s, cut, moment, how);
	}
	fprintf(stderr,
		"power_cut_ckpt: %d cuts in %.1f s: %" PRIu64 " writes, %" PRIu64
		" acknowledged; checkpoints %" PRIu64 " begun, %" PRIu64 " completed, %" PRIu64
		" failed (last: %s), %" PRIu64 " scans given up, %" PRIu64 " segments retired, %" PRIu64
		" old checkpoints removed; %" PRIu64 " loaded by recovery (%" PRIu64
		" fallbacks), %" PRIu64 " records and %" PRIu64 " segments covered; %" PRIu64
		" roll-overs, %" PRIu64 " torn tails cut, %" PRIu64
		" cuts with a checkpoint running; moments",
		cuts, (double)(we_monotonic_ns() - t0) / 1e9, s->writes_total, s->acked, s->ckpt_begun,
		s->ckpt_completed, s->ckpt_failed, s->last_failure[0] ? s->last_failure : "none",
		s->scan_aborts, s->retired, s->removed, s->loaded, s->fallbacks, s->covered_records,
		s->covered_segments, s->rolls, s->torn_tails, s->cuts_ckpt_running);
	for (int m = 0; m < MOMENTS; m++)
		fprintf(stderr, " %s %" PRIu64, moment_name[m], s->moments[m]);
	fprintf(stderr, "; modes");
	for (int c = 0; c < DISK_CUT_MODES; c++)
		fprintf(stderr, " %s %" PRIu64, cut_name[c], s->modes[c]);
	fprintf(stderr, "\n");
	for (int m = 0; m < MOMENTS; m++)
		assert_true(s->moments[m] >= 1);
	for (int c = 0; c < DISK_CUT_MODES; c++)
		assert_true(s->modes[c] >= 1);
	assert_true(s->ckpt_completed >= 1);
	assert_true(s->loaded >= 1);
	disk_fake_destroy(s->f);
	shards_free(s->sh, s->shmem);
	for (int w = 0; w < WORKERS; w++) {
		free(s->ringmem[w]);
		free(s->pending[w]);
	}
	free(s->writes);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_cuts_ckpt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
