/* test_power_cut.c - simulated power loss under strong writes: the
 * group-commit writer (storage/wal_writer.c) runs as a thread over the fake
 * disk (storage/disk_fake.c), the test feeds two workers' rings with PUTs of
 * a small key space and acknowledges a write only once the writer's
 * published durable LSN covers it; at a random moment the power goes
 * (dropped, torn per 512-byte sector or per 4 KiB page, or garbage in the
 * torn sector; directory changes not yet synced are lost), recovery
 * (storage/recovery.c) reads the log back, and every acknowledgement is
 * checked. Then a new "process" (a new writer, the next generation, LSNs
 * above the recovered ones) writes on top of the recovered log, and the
 * power goes again.
 *
 * Each cut checks:
 *  - recovery ends cleanly (no -EUCLEAN), no damage inside a log, at most
 *    one torn tail per worker's log (none when unsynced data is dropped);
 *  - every record replayed is a write the test made: same key, value,
 *    worker, LSN and generation (no value that was never written);
 *  - every acknowledged write is replayed; what an earlier recovery
 *    replayed is replayed again, what it did not is never replayed later;
 *    of the writes since the previous cut, each worker's replayed ones are
 *    a prefix of what it wrote (a torn tail, never a hole);
 *  - every key ends with its last acknowledged value or a later written
 *    one.
 *
 * Where the cuts land: after a random number of records, after a random
 * time, after the writer went idle, right after the writer's roll-over
 * counter moved, while a folder fsync fails (a roll-over or a spare whose
 * rename is not yet durable), and right after a rename (spare to segment,
 * or a new spare); half of the first three end with the syncs failing
 * while the writer keeps writing, so there is unsynced data to tear. The
 * "process" dies with the power: just before the cut
 * every operation that changes the disk starts failing (so a writer thread
 * still running changes nothing after the cut), then the cut, then the
 * writer is stopped and destroyed (its descriptors are stale), and the
 * faults are cleared for the next life.
 *
 * Cut modes: dropped, torn per 512-byte sector, torn per 4 KiB page, and
 * garbage in the torn sector where it was being written (DISK_CUT_GARBAGE:
 * the device garbles only the bytes it was asked to write), and the whole
 * torn sector random (DISK_CUT_GARBAGE_SECTOR: a device without "powersafe
 * overwrite"). The last is survived because the writer ends every commit
 * on a sector boundary (a pad record, wal_writer.c): no commit rewrites a
 * sector holding acknowledged records. (Before the pads, this mode lost
 * acknowledged writes about once in ten runs.)
 *
 * Cuts during a checkpoint (part files, the manifest replacement, segment
 * retirement) are in tests/unit/test_power_cut_ckpt.c: it needs the data
 * plane's shards and scans (we_core), so it is a unit test.
 *
 * 60 cuts by default (a new fake disk every EPOCHS_PER_DISK cuts, since the
 * log is never truncated without checkpoints), WE_LONG_TESTS=1: 1000; both
 * take seconds (about 0.2 s and 3 s here). The seed is printed;
 * WE_TEST_SEED fixes every random choice (keys, moments, modes, counts),
 * but not the threads' timing, so a failure may take a few runs to recur.
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

#include "disk_fake.h"
#include "keyhash.h"
#include "recovery.h"
#include "wal_record.h"
#include "wal_ring.h"
#include "wal_writer.h"
#include "we_test.h"
#include "we_time.h"

#define WORKERS 2
#define RING_BYTES (16u * 1024)
#define SEG_BYTES (16u * 1024) /* small: a roll-over every ~80 records */
#define KEYS 16
#define FILLER_MAX 300
#define EPOCH_RECORDS_MAX 1500
#define EPOCHS_PER_DISK 8
#define CUTS_DEFAULT 60
#define CUTS_LONG 1000
#define WAIT_NS (30ull * 1000000000) /* a bound on every wait */

enum pc_state { PC_ISSUED, PC_ACKED, PC_PRESENT, PC_LOST };

/* One write, by id (ids grow in the order the test issued the writes). */
struct pc_write {
	uint16_t key;
	uint16_t worker;
	uint8_t state;
	uint64_t lsn;
	uint64_t generation;
};

enum pc_moment {
	MOMENT_COUNT,  /* after a random number of records */
	MOMENT_DELAY,  /* after a random time of feeding */
	MOMENT_IDLE,   /* the feeding stopped a while ago */
	MOMENT_ROLL,   /* right after the writer's roll-over counter moved */
	MOMENT_DIRSYNC, /* a folder fsync failed (a roll-over or a spare half-way) */
	MOMENT_RENAME, /* right after a rename */
	MOMENTS
};

static const char *const moment_name[MOMENTS] = {"count", "delay", "idle",
						 "roll", "dirsync-failed", "rename"};
static const char *const cut_name[DISK_CUT_MODES] = {"drop", "torn-512", "torn-4k", "garbage",
						     "garbage-sector"};

struct sim {
	uint64_t seed;
	uint64_t rng;
	struct disk_fake *f;
	struct disk *d;
	struct wal_ring rings[WORKERS];
	struct wal_ring *ring_ptrs[WORKERS];
	void *mem[WORKERS];
	struct wal_writer *w;
	uint64_t generation;
	uint64_t next_lsn[WORKERS];
	/* The model: every write since this disk was made. */
	struct pc_write *writes;
	uint64_t nwrites;
	uint64_t cap;
	uint64_t epoch_first; /* first id of the current life */
	uint64_t *pending[WORKERS]; /* ids not yet acknowledged, in LSN order */
	uint64_t npending[WORKERS];
	uint64_t pending_head[WORKERS];
	int64_t last_acked[KEYS]; /* id of each key's last acknowledged write, -1 */
	uint8_t *seen;
	/* Totals, for the summary. */
	uint64_t acked;
	uint64_t lost;
	uint64_t rolls;
	uint64_t torn_tails;
	uint64_t stalls;
	uint64_t names_undone; /* cuts after which wal/ listed other names */
	uint64_t moments[MOMENTS];
	uint64_t cuts_by_mode[DISK_CUT_MODES];
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

static void key_of(uint16_t k, char *buf)
{
	snprintf(buf, 16, "key-%02u", (unsigned)k);
}

/* The value of write id: the id (8 bytes) and a filler of a length and a
 * byte that the id decides. */
static uint32_t value_of(uint64_t id, uint8_t *buf)
{
	uint32_t filler = (uint32_t)((id * 7919) % FILLER_MAX);

	memcpy(buf, &id, 8);
	memset(buf + 8, (int)(id & 0xff), filler);
	return 8 + filler;
}

static void model_reset(struct sim *s)
{
	s->nwrites = 0;
	s->epoch_first = 0;
	for (int k = 0; k < KEYS; k++)
		s->last_acked[k] = -1;
}

static void disk_new(struct sim *s)
{
	disk_fake_destroy(s->f);
	s->f = disk_fake_create();
	assert_non_null(s->f);
	s->d = disk_fake_disk(s->f);
	/* As datadir_open leaves it: the folders made and synced. */
	assert_int_equal(disk_mkdir(s->d, "dd"), 0);
	assert_int_equal(disk_mkdir(s->d, "dd/wal"), 0);
	assert_int_equal(disk_fsync_dir(s->d, "dd"), 0);
	s->generation = 0;
	for (int k = 0; k < WORKERS; k++)
		s->next_lsn[k] = 1;
	model_reset(s);
}

/* A new life: empty rings, a writer of the next generation, started. */
static void life_begin(struct sim *s)
{
	struct wal_writer_config cfg = {
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
	};
	char err[256];
	int r;

	for (int k = 0; k < WORKERS; k++) {
		assert_int_equal(wal_ring_init(&s->rings[k], s->mem[k], RING_BYTES), 0);
		s->npending[k] = 0;
		s->pending_head[k] = 0;
	}
	s->epoch_first = s->nwrites;
	r = wal_writer_create(&s->w, &cfg, err, sizeof(err));
	if (r != 0)
		fail_msg("wal_writer_create: %d %s (WE_TEST_SEED=%" PRIu64 ")", r, err, s->seed);
	assert_int_equal(wal_writer_start(s->w), 0);
}

/* Issues one PUT of a random key into its worker's ring; false when the
 * ring is full (the worker would answer BUSY; nothing is recorded). */
static bool issue(struct sim *s)
{
	static uint8_t value[8 + FILLER_MAX];
	char key[16];
	uint16_t k = (uint16_t)rnd(s, KEYS);
	uint16_t worker = k % WORKERS; /* a key's region lives on one worker */
	uint64_t id = s->nwrites;
	struct wal_record r = {.type = WAL_REC_PUT, .worker = worker, .lsn = s->next_lsn[worker],
			       .key = key, .value = value};
	uint32_t bytes;
	void *p;

	key_of(k, key);
	r.key_len = (uint32_t)strlen(key);
	r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
	r.value_len = value_of(id, value);
	bytes = wal_record_size(r.key_len, r.value_len);
	p = wal_ring_reserve(&s->rings[worker], bytes);
	if (p == NULL)
		return false;
	if (wal_record_encode(p, bytes, &r) != (int64_t)bytes)
		fail_msg("encode");
	if (s->nwrites == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->writes = realloc(s->writes, s->cap * sizeof(*s->writes));
		s->seen = realloc(s->seen, s->cap);
		for (int w = 0; w < WORKERS; w++)
			s->pending[w] = realloc(s->pending[w], s->cap * sizeof(uint64_t));
		assert_true(s->writes != NULL && s->seen != NULL);
	}
	s->writes[id] = (struct pc_write){.key = k, .worker = worker, .state = PC_ISSUED,
					  .lsn = r.lsn, .generation = s->generation};
	s->pending[worker][s->npending[worker]++] = id;
	s->nwrites++;
	s->next_lsn[worker]++;
	wal_ring_commit(&s->rings[worker]);
	return true;
}

/* Acknowledges every issued write that the published durable LSN covers,
 * as the worker answers a parked strong write. */
static void ack(struct sim *s)
{
	for (uint16_t w = 0; w < WORKERS; w++) {
		uint64_t durable = wal_durable_lsn(wal_writer_durable(s->w, w));

		while (s->pending_head[w] < s->npending[w]) {
			struct pc_write *x = &s->writes[s->pending[w][s->pending_head[w]]];

			if (x->lsn > durable)
				break;
			x->state = PC_ACKED;
			s->last_acked[x->key] = (int64_t)s->pending[w][s->pending_head[w]];
			s->pending_head[w]++;
			s->acked++;
		}
	}
}

static uint64_t writer_rolls(struct sim *s)
{
	struct wal_writer_stats st;

	wal_writer_stats_get(s->w, &st);
	return st.rolls;
}

static bool same_names(const struct disk_name *a, uint32_t na, const struct disk_name *b,
		       uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++) {
		bool found = false;

		for (uint32_t j = 0; j < nb && !found; j++)
			found = strcmp(a[i].name, b[j].name) == 0;
		if (!found)
			return false;
	}
	return true;
}

static const enum disk_op changing_ops[] = {
	DISK_OP_OPEN,	   DISK_OP_PWRITE, DISK_OP_FDATASYNC, DISK_OP_FSYNC_DIR, DISK_OP_FALLOCATE,
	DISK_OP_FTRUNCATE, DISK_OP_RENAME, DISK_OP_UNLINK,    DISK_OP_MKDIR,
};

/* Feeds the rings until the chosen moment, then the power goes: the disk
 * freezes (every changing operation fails from now on), the cut, the
 * writer's end. */
static void life_run_and_cut(struct sim *s, enum pc_moment moment, enum disk_cut how)
{
	uint64_t target = 1 + rnd(s, EPOCH_RECORDS_MAX);
	uint64_t t0 = we_monotonic_ns();
	uint64_t delay_ns = rnd(s, 20000) * 1000;
	uint64_t rolls0 = writer_rolls(s);
	uint64_t rolls_target = rolls0 + 1 + rnd(s, 3);
	uint64_t renames0 = disk_fake_calls(s->f, DISK_OP_RENAME);
	/* The first roll-over's rename (the spare made at create), then the
	 * spare maker's (its new spare): both come whatever the timing. */
	uint64_t renames_target = renames0 + 1 + rnd(s, 2);
	uint64_t dirsyncs0 = 0;
	bool dir_fault = false;
	uint64_t issued = 0;

	if (moment == MOMENT_DIRSYNC)
		target = rnd(s, 200);
	for (;;) {
		bool stop = false;

		/* A full ring waits for the writer; past the cap the rings drain
		 * and the spare maker (starved on a busy machine) catches up, so
		 * a rename or a folder sync still comes. */
		if (issued < EPOCH_RECORDS_MAX && issue(s))
			issued++;
		else
			sleep_us(issued < EPOCH_RECORDS_MAX ? 20 : 200);
		ack(s);
		switch (moment) {
		case MOMENT_COUNT:
		case MOMENT_IDLE:
			stop = issued >= target;
			break;
		case MOMENT_DELAY:
			stop = we_monotonic_ns() - t0 >= delay_ns || issued >= EPOCH_RECORDS_MAX;
			break;
		case MOMENT_ROLL:
			stop = writer_rolls(s) >= rolls_target;
			break;
		case MOMENT_RENAME:
			stop = disk_fake_calls(s->f, DISK_OP_RENAME) >= renames_target;
			break;
		case MOMENT_DIRSYNC:
			if (!dir_fault && issued >= target) {
				dirsyncs0 = disk_fake_calls(s->f, DISK_OP_FSYNC_DIR);
				disk_fake_fail(s->f, DISK_OP_FSYNC_DIR, 1, -EIO,
					       DISK_FAKE_FAIL_FOREVER);
				dir_fault = true;
			}
			stop = dir_fault && disk_fake_calls(s->f, DISK_OP_FSYNC_DIR) > dirsyncs0;
			break;
		default:
			break;
		}
		if (stop)
			break;
		/* Roll-over moments wait for the log to fill: bounded. */
		if (we_monotonic_ns() - t0 > WAIT_NS) {
			struct wal_writer_stats st;

			wal_writer_stats_get(s->w, &st);
			fail_msg("moment %s never came: %" PRIu64 " records issued, %" PRIu64
				 " roll-overs (%" PRIu64 " without a spare), %" PRIu64 " renames, %" PRIu64
				 " failed commits, %" PRIu64 " segment errors, last error %d "
				 "(WE_TEST_SEED=%" PRIu64 ")",
				 moment_name[moment], issued, st.rolls - rolls0, st.rolls_without_spare,
				 disk_fake_calls(s->f, DISK_OP_RENAME) - renames0, st.failed_commits,
				 st.segment_errors, st.last_error, s->seed);
		}
	}
	if (moment == MOMENT_IDLE) {
		sleep_us((long)rnd(s, 3000));
		ack(s);
	}
	/* Half of the plain moments end with the syncs stalling (failing):
	 * the writer keeps writing what the rings hold, unsynced, for the cut
	 * to tear. (Roll-over moments stay as they are: a log does not roll
	 * over while its syncs fail.) */
	if (moment <= MOMENT_IDLE && rnd(s, 2) == 0) {
		uint64_t more = rnd(s, 300);

		disk_fake_fail(s->f, DISK_OP_FDATASYNC, 1, -EIO, DISK_FAKE_FAIL_FOREVER);
		for (uint64_t i = 0; i < more && issue(s); i++)
			;
		sleep_us(100 + (long)rnd(s, 2000));
		ack(s);
		s->stalls++;
	}
	/* The power goes: nothing changes the disk any more, then the cut. */
	for (size_t i = 0; i < sizeof(changing_ops) / sizeof(changing_ops[0]); i++)
		disk_fake_fail(s->f, changing_ops[i], 1, -EIO, DISK_FAKE_FAIL_FOREVER);
	{
		struct disk_name *before, *after;
		uint32_t nb, na;

		assert_int_equal(disk_list_all(s->d, "dd/wal", &before, &nb), 0);
		disk_fake_cut(s->f, how, we_test_rand(&s->rng));
		assert_int_equal(disk_list_all(s->d, "dd/wal", &after, &na), 0);
		if (!same_names(before, nb, after, na))
			s->names_undone++;
		free(before);
		free(after);
	}
	/* A durable LSN published now was synced before the freeze. */
	ack(s);
	s->rolls += writer_rolls(s) - rolls0;
	wal_writer_stop(s->w);
	ack(s);
	wal_writer_destroy(s->w);
	s->w = NULL;
	disk_fake_clear_faults(s->f);
	s->moments[moment]++;
	s->cuts_by_mode[how]++;
}

#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond)) {                                                              \
			char msg_[1024];                                                    \
			snprintf(msg_, sizeof(msg_), __VA_ARGS__);                          \
			fail_msg("cut %d (%s, %s): %s: %s (WE_TEST_SEED=%" PRIu64 ")", cut, \
				 moment_name[moment], cut_name[how], #cond, msg_, s->seed); \
		}                                                                           \
	} while (0)

/* Recovery over the cut disk, checked against the model (see the top). */
static void recover_and_check(struct sim *s, int cut, enum pc_moment moment, enum disk_cut how)
{
	const struct recovery_options opt = {.repair = true};
	const struct recovery_stats *st;
	int64_t final_of[KEYS];
	uint64_t prev_lsn = 0, prev_gen = 0;
	uint16_t prev_worker = UINT16_MAX;
	uint64_t lsn_max = 0;
	struct recovery *r;
	struct wal_record rec;
	struct recovery_pos pos;
	char summary[512];
	int rc;

	for (int k = 0; k < KEYS; k++)
		final_of[k] = -1;
	if (s->nwrites > 0)
		memset(s->seen, 0, s->nwrites);
	rc = recovery_open(&r, s->d, "dd/wal", &opt);
	CHECK(rc == 0, "recovery_open %d", rc);
	while ((rc = recovery_next(r, &rec, &pos)) == 1) {
		uint64_t id;
		uint8_t want[8 + FILLER_MAX];
		char key[16];
		const struct pc_write *x;

		CHECK(rec.type == WAL_REC_PUT && rec.value_len >= 8, "type %d, value %u bytes",
		      (int)rec.type, rec.value_len);
		memcpy(&id, rec.value, 8);
		CHECK(id < s->nwrites, "value of write %" PRIu64 ", never written", id);
		x = &s->writes[id];
		key_of(x->key, key);
		CHECK(rec.key_len == strlen(key) && memcmp(rec.key, key, rec.key_len) == 0,
		      "write %" PRIu64 " under another key", id);
		CHECK(rec.value_len == value_of(id, want) && memcmp(rec.value, want, rec.value_len) == 0,
		      "write %" PRIu64 ": value differs", id);
		CHECK(rec.worker == x->worker && rec.lsn == x->lsn && pos.generation == x->generation,
		      "write %" PRIu64 ": worker %u lsn %" PRIu64 " gen %" PRIu64 ", wrote %u %" PRIu64
		      " %" PRIu64, id, rec.worker, rec.lsn, pos.generation, x->worker, x->lsn,
		      x->generation);
		CHECK(!s->seen[id], "write %" PRIu64 " replayed twice", id);
		/* Replay order: generation, then worker, LSNs growing. */
		if (pos.generation == prev_gen && rec.worker == prev_worker)
			CHECK(rec.lsn > prev_lsn, "LSN %" PRIu64 " after %" PRIu64, rec.lsn, prev_lsn);
		CHECK(pos.generation >= prev_gen, "generation %" PRIu64 " after %" PRIu64,
		      pos.generation, prev_gen);
		prev_gen = pos.generation;
		prev_worker = rec.worker;
		prev_lsn = rec.lsn;
		s->seen[id] = 1;
		final_of[x->key] = (int64_t)id;
		if (rec.lsn > lsn_max)
			lsn_max = rec.lsn;
	}
	CHECK(rc == 0, "recovery_next %d", rc);
	st = recovery_stats(r);
	if (st->cuts > 0) {
		char line[512];

		recovery_summary(r, line, sizeof(line));
		CHECK(st->corrupt_mid_log == 0, "%s", line);
		CHECK(st->cuts <= WORKERS, "%s", line);
		CHECK(how != DISK_CUT_DROP_UNSYNCED, "a cut when unsynced data was dropped: %s",
		      line);
	}
	CHECK(st->lsn_max == lsn_max, "lsn_max %" PRIu64 ", replayed up to %" PRIu64, st->lsn_max,
	      lsn_max);
	s->torn_tails += st->cuts;
	recovery_summary(r, summary, sizeof(summary));
	recovery_close(r);

	/* Acknowledged, earlier recoveries, and a prefix per worker. */
	{
		bool hole[WORKERS] = {false};

		for (uint64_t id = 0; id < s->nwrites; id++) {
			struct pc_write *x = &s->writes[id];

			switch (x->state) {
			case PC_PRESENT:
				CHECK(s->seen[id], "write %" PRIu64 " was recovered before, now lost", id);
				break;
			case PC_LOST:
				CHECK(!s->seen[id], "write %" PRIu64 " was lost, now back", id);
				break;
			case PC_ACKED:
			case PC_ISSUED:
				CHECK(id >= s->epoch_first, "write %" PRIu64 " of an earlier life", id);
				CHECK(x->state != PC_ACKED || s->seen[id],
				      "acknowledged write %" PRIu64 " (worker %u, LSN %" PRIu64
				      ") lost; recovery: %s", id, x->worker, x->lsn, summary);
				CHECK(!(s->seen[id] && hole[x->worker]),
				      "write %" PRIu64 " recovered after a lost one of worker %u", id,
				      x->worker);
				if (!s->seen[id])
					hole[x->worker] = true;
				x->state = s->seen[id] ? PC_PRESENT : PC_LOST;
				s->lost += !s->seen[id];
				break;
			default:
				break;
			}
		}
	}
	/* Each key: its last acknowledged value or a later written one. */
	for (int k = 0; k < KEYS; k++)
		CHECK(final_of[k] >= s->last_acked[k], "key-%02d ends with write %" PRId64
		      ", acknowledged %" PRId64, k, final_of[k], s->last_acked[k]);
	/* The next life continues above every recovered LSN. */
	for (int k = 0; k < WORKERS; k++)
		s->next_lsn[k] = lsn_max + 1;
}

static void test_power_cuts(void **state)
{
	const char *long_env = getenv("WE_LONG_TESTS");
	int cuts = long_env != NULL && strcmp(long_env, "1") == 0 ? CUTS_LONG : CUTS_DEFAULT;
	uint64_t cut_modes = DISK_CUT_MODES; /* every mode: see the top */
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t t0 = we_monotonic_ns();

	(void)state;
	assert_non_null(s);
	s->seed = we_test_seed("power_cut", (uint64_t)time(NULL));
	s->rng = s->seed;
	for (int k = 0; k < WORKERS; k++) {
		s->mem[k] = aligned_alloc(64, RING_BYTES);
		assert_non_null(s->mem[k]);
		s->ring_ptrs[k] = &s->rings[k];
	}
	for (int cut = 0; cut < cuts; cut++) {
		/* Every moment in turn, so the default run has each several
		 * times; the cut's mode at random. */
		enum pc_moment moment = (enum pc_moment)(cut % MOMENTS);
		enum disk_cut how = (enum disk_cut)rnd(s, cut_modes);

		if (cut % EPOCHS_PER_DISK == 0)
			disk_new(s);
		life_begin(s);
		life_run_and_cut(s, moment, how);
		recover_and_check(s, cut, moment, how);
	}
	fprintf(stderr,
		"power_cut: %d cuts in %.1f s: %" PRIu64 " writes acknowledged, %" PRIu64
		" unacknowledged lost, %" PRIu64 " roll-overs, %" PRIu64 " torn tails cut, %" PRIu64
		" cuts while syncs stalled, %" PRIu64 " cuts undid a change of wal/'s names; moments",
		cuts, (double)(we_monotonic_ns() - t0) / 1e9, s->acked, s->lost, s->rolls,
		s->torn_tails, s->stalls, s->names_undone);
	for (int m = 0; m < MOMENTS; m++)
		fprintf(stderr, " %s %" PRIu64, moment_name[m], s->moments[m]);
	fprintf(stderr, "; cuts");
	for (int c = 0; c < DISK_CUT_MODES; c++)
		fprintf(stderr, " %s %" PRIu64, cut_name[c], s->cuts_by_mode[c]);
	fprintf(stderr, "\n");
	disk_fake_destroy(s->f);
	for (int k = 0; k < WORKERS; k++) {
		free(s->mem[k]);
		free(s->pending[k]);
	}
	free(s->writes);
	free(s->seen);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_cuts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
