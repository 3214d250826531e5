/* test_archive_cleaner.c - the disk tier's cleaner (dataplane/archive_cleaner.c)
 * over a real shard, the archive I/O thread's code stepped by the test and a
 * fake disk: with the file down to its last free segment and most archived
 * keys overwritten, the cleaner copies the live records of the mostly dead
 * segments into the free one and re-points their stubs; the emptied
 * segments are reclaimed and written again; every key still reads back its
 * last value (from memory or through its stub's record), and the segments'
 * live bytes equal the stubs' records. Keys overwritten or deleted while the
 * cleaner copies them keep their new state (their copies are not used). */
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

#include "archive.h"
#include "archive_cleaner.h"
#include "archive_io.h"
#include "archive_space.h"
#include "archive_stubs.h"
#include "arena.h"
#include "disk_fake.h"
#include "keyhash.h"
#include "shard.h"
#include "shard_test_util.h"
#include "temperature.h"
#include "we_test.h"

#define DATA "/data"
#define KEYS 6000
#define VLEN 1000u
#define LIMIT (4u << 20) /* four segments of 1 MiB */

static struct keyhash_secret secret;
static struct shard *sh;
static void *mem;
static struct disk_fake *fake;
static struct archive_io *io;
static struct archive_port *port;
static struct archive_space *sp;
static struct archive_cleaner cl;
static uint32_t version[KEYS]; /* 0: deleted */
static bool archived_once[KEYS];

static uint8_t key_of(uint32_t i, char *k)
{
	return (uint8_t)snprintf(k, 32, "clean-%u", i);
}

static uint64_t hash_of(uint32_t i)
{
	char k[32];
	uint8_t kl = key_of(i, k);

	return shard_hash(sh, (const uint8_t *)k, kl);
}

/* VLEN bytes that do not compress, different for every (key, version). */
static void value_of(uint32_t i, uint32_t v, uint8_t *out)
{
	uint64_t r = ((uint64_t)i << 32 | v) * 0x9e3779b97f4a7c15ull + 7;

	for (uint32_t j = 0; j < VLEN; j++)
		out[j] = (uint8_t)(we_test_rand(&r) >> 40);
}

static void put(uint32_t i, uint32_t v)
{
	char k[32];
	uint8_t kl = key_of(i, k), val[VLEN];

	value_of(i, v, val);
	assert_int_equal(shard_put(sh, hash_of(i), (const uint8_t *)k, kl, val, VLEN),
			 WE_STATUS_OK);
	version[i] = v;
}

static void del(uint32_t i)
{
	char k[32];
	uint8_t kl = key_of(i, k);

	assert_int_equal(shard_delete(sh, hash_of(i), (const uint8_t *)k, kl), WE_STATUS_OK);
	version[i] = 0;
}

static bool is_stub(uint32_t i)
{
	char k[32];
	uint8_t kl = key_of(i, k);
	const uint8_t *v;
	uint32_t vl;

	return shard_get(sh, hash_of(i), (const uint8_t *)k, kl, &v, &vl) == SHARD_STATUS_ARCHIVED;
}

static int setup(void **state)
{
	struct archive_io_config cfg = {.data_dir = DATA, .workers = 1, .file_limit_bytes = LIMIT};
	char err[256];

	(void)state;
	shard_test_new(&sh, &mem, &secret, KEYS * 2, 16u << 20);
	fake = disk_fake_create();
	assert_non_null(fake);
	assert_int_equal(disk_mkdir(disk_fake_disk(fake), DATA), 0);
	cfg.disk = disk_fake_disk(fake);
	if (archive_io_create(&io, &cfg, err, sizeof(err)) != 0)
		fail_msg("archive_io_create: %s", err);
	port = archive_io_port(io, 0);
	sp = archive_space_create(LIMIT);
	assert_non_null(sp);
	shard_set_archive_space(sh, sp);
	archive_cleaner_init(&cl);
	memset(version, 0, sizeof(version));
	memset(archived_once, 0, sizeof(archived_once));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	archive_io_destroy(io);
	disk_fake_destroy(fake);
	archive_space_destroy(sp);
	free(sh);
	free(mem);
	return 0;
}

/* Archive every item in memory, as the worker's scan does (keeping one
 * segment free), writing straight to the file: returns the stubs made. */
static uint64_t archive_all(void)
{
	static uint8_t buf[ARCHIVE_WRITE_BUFFER_BYTES];
	static struct shard_archive_pick picks[SHARD_SCAN_ITEMS_MIN * 2];
	struct shard_archive_policy p = {.archive_below = TEMP_LEVEL_MAX, .min_saved_bytes = 1,
					 .max_chains = 64, .max_stored_bytes = sizeof(buf) / 2};
	struct shard_scan cur = {0};
	uint64_t made = 0;

	while (!shard_scan_done(sh, &cur)) {
		uint32_t room = archive_space_room(sp, ARCHIVE_SPACE_KEEP);
		struct archive_batch b;
		uint64_t base;
		int n;

		if (room == 0)
			break;
		archive_batch_init(&b, buf, room < sizeof(buf) ? room : (uint32_t)sizeof(buf));
		n = shard_archive_step(sh, &cur, &p, picks, sizeof(picks) / sizeof(picks[0]));
		assert_true(n >= 0);
		archive_stubs_fill(&b, picks, (unsigned)n, 1);
		if (b.records == 0) {
			if (n > 0)
				archive_space_close_open(sp);
			continue;
		}
		base = archive_space_take(sp, b.used);
		assert_int_equal(archive_file_write_at(archive_io_file(io, 0), buf, b.used, base), 0);
		made += archive_stubs_commit(sh, &b, b.records, base, NULL);
		archive_space_batch_done(sp, base);
	}
	archive_space_close_open(sp);
	return made;
}

/* The thread's pass and the worker's handling of its answers. */
static void pump(void)
{
	struct ctl_msg m[ARCHIVE_PORT_RING];
	unsigned n;

	archive_io_step(io);
	n = archive_port_poll(port, m, ARCHIVE_PORT_RING);
	for (unsigned i = 0; i < n; i++) {
		if (m[i].type == ARCHIVE_MSG_WRITTEN) {
			assert_true(archive_cleaner_on_written(&cl, sh, sp, port, &m[i]));
		} else {
			assert_int_equal(m[i].type, ARCHIVE_MSG_READ_DONE);
			assert_true((m[i].c & ARCHIVE_CLEANER_TICKET) != 0);
			archive_cleaner_on_read(&cl, port, (int)m[i].b, m[i].i32, m[i].c);
		}
	}
}

static uint32_t reclaim(void)
{
	uint64_t busy[ARCHIVE_CLEANER_READS];

	return archive_space_reclaim(sp, busy, archive_cleaner_busy(&cl, busy));
}

/* Every key's last value, in memory or through its stub; the segments'
 * live bytes are the stubs' records. Returns the stubs. */
static uint64_t check_all(void)
{
	static uint8_t rec[ARCHIVE_RECORD_BYTES_MAX], vbuf[ARCHIVE_VALUE_MAX];
	struct shard_tier_counters tc;
	struct archive_space_stats st;
	uint64_t stubs = 0;

	for (uint32_t i = 0; i < KEYS; i++) {
		char k[32];
		uint8_t kl = key_of(i, k), want[VLEN];
		const uint8_t *v;
		uint32_t vl;
		enum we_status s = shard_get(sh, hash_of(i), (const uint8_t *)k, kl, &v, &vl);

		if (version[i] == 0) {
			assert_int_equal(s, WE_STATUS_NOT_FOUND);
			continue;
		}
		value_of(i, version[i], want);
		if (s == SHARD_STATUS_ARCHIVED) {
			struct shard_archive_ref sref;
			struct archive_ref ref;
			const uint8_t *got;
			uint32_t got_len;

			memcpy(&sref, v, sizeof(sref));
			ref = (struct archive_ref){.offset = sref.offset, .bytes = sref.bytes,
						   .check = sref.check};
			assert_int_equal(archive_file_read_value(archive_io_file(io, 0), &ref,
								 (const uint8_t *)k, kl, rec, vbuf,
								 &got, &got_len),
					 0);
			assert_int_equal(got_len, VLEN);
			assert_memory_equal(got, want, VLEN);
			stubs++;
		} else {
			assert_int_equal(s, WE_STATUS_OK);
			assert_int_equal(vl, VLEN);
			assert_memory_equal(v, want, VLEN);
		}
	}
	shard_read_tiers(sh, &tc);
	archive_space_stats_get(sp, &st);
	assert_int_equal(tc.items[TIER_SINGULARITY], stubs);
	assert_int_equal(st.live_bytes, tc.stored_bytes[TIER_SINGULARITY]);
	assert_true(shard_check_invariants(sh));
	return stubs;
}

/* Run the cleaner (and reclaims) until it has nothing left to do. */
static void clean_until_idle(unsigned max_steps, void (*meddle)(unsigned step))
{
	for (unsigned step = 0; step < max_steps; step++) {
		archive_cleaner_step(&cl, sh, sp, port);
		pump();
		if (meddle != NULL)
			meddle(step);
		reclaim();
		if (!archive_cleaner_active(&cl) &&
		    (archive_space_free_segments(sp) > ARCHIVE_SPACE_KEEP ||
		     archive_space_victim(sp, ARCHIVE_CLEANER_MAX_LIVE_PCT) == ARCHIVE_SPACE_NONE))
			return;
	}
	fail_msg("the cleaner did not finish in %u steps", max_steps);
}

/* Fill the file but one segment, overwrite 70 % of the archived keys (in
 * memory now): the closed segments are mostly dead. */
static uint64_t fill_and_kill(void)
{
	uint64_t stubs;
	uint32_t killed = 0;

	for (uint32_t i = 0; i < KEYS; i++)
		put(i, 1);
	stubs = archive_all();
	assert_true(stubs > 2000);
	assert_int_equal(archive_space_free_segments(sp), ARCHIVE_SPACE_KEEP);
	for (uint32_t i = 0; i < KEYS; i++) {
		archived_once[i] = is_stub(i);
		if (archived_once[i] && i % 10 < 7) {
			put(i, 2);
			killed++;
		}
	}
	assert_true(killed > stubs / 2);
	return stubs;
}

static void test_cleans_mostly_dead_segments(void **state)
{
	struct archive_space_stats st;
	uint64_t stubs_before, stubs_after;

	(void)state;
	stubs_before = fill_and_kill();
	check_all();
	clean_until_idle(100000, NULL);
	archive_space_stats_get(sp, &st);
	/* Every closed segment was at most half live: the cleaner took them
	 * one at a time, their live records went to the segment that was
	 * free, and each emptied one was freed. */
	assert_true(cl.st.victims >= 2);
	assert_true(cl.st.repointed > 0);
	assert_int_equal(cl.st.failed, 0);
	assert_int_equal(cl.st.stale, 0);
	assert_int_equal(cl.st.copied, cl.st.repointed);
	assert_true(st.reclaimed >= cl.st.victims);
	assert_true(archive_space_free_segments(sp) > ARCHIVE_SPACE_KEEP);
	stubs_after = check_all();
	assert_true(stubs_after < stubs_before);
	assert_true(cl.st.repointed <= stubs_after);
	/* The cleaner stops once a segment beyond the kept one is free: the
	 * live records of three segments now fill two. */
	assert_int_equal(st.segments_used, 2);
	/* The freed segments take new batches again: archive what is in memory. */
	assert_true(archive_all() > 0);
	archive_space_stats_get(sp, &st);
	assert_true(st.reopened >= 1);
	check_all();
}

/* While the cleaner copies, keys whose records it is reading are
 * overwritten or deleted: their new state stands and their copies go
 * unused (stale), never a stub pointing at an old value. */
static unsigned meddled;

static void meddle(unsigned step)
{
	for (unsigned j = 0; j < ARCHIVE_CLEANER_READS; j++) {
		char key[ARCHIVE_KEY_MAX + 1];
		uint32_t i;

		if (cl.reads[j].slot < 0 || step % 3 != 0)
			continue;
		memcpy(key, cl.reads[j].it.key, cl.reads[j].it.key_len);
		key[cl.reads[j].it.key_len] = '\0';
		assert_int_equal(sscanf(key, "clean-%u", &i), 1);
		if (i >= KEYS || version[i] == 0 || !is_stub(i))
			continue;
		if (step % 2 == 0)
			put(i, version[i] + 1);
		else
			del(i);
		meddled++;
		return;
	}
}

static void test_changes_while_cleaning(void **state)
{
	(void)state;
	fill_and_kill();
	meddled = 0;
	clean_until_idle(100000, meddle);
	assert_true(cl.st.victims >= 1);
	assert_true(cl.st.repointed > 0);
	assert_true(meddled > 0);
	/* Each meddled key's copy (or read) went unused. */
	assert_int_equal(cl.st.stale + cl.st.failed, meddled);
	check_all();
	/* Another round on what is left: still every key right. */
	for (uint32_t i = 0; i < KEYS; i++)
		if (version[i] == 0)
			put(i, 9);
	archive_all();
	check_all();
	clean_until_idle(100000, meddle);
	check_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cleans_mostly_dead_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_while_cleaning, setup, teardown),
	};

	return shard_test_run_both(tests, sizeof(tests) / sizeof(tests[0]));
}
