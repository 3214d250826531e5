/* test_archive_space.c - the archive file's segments (storage/archive_space.h):
 * sizes, batches and live bytes against a model, reclaiming only what nothing
 * names or reads, reuse before the untouched end, the cleaner's victim. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive_space.h"
#include "we_test.h"

#define MIB (1u << 20)

static void test_sizes(void **state)
{
	struct archive_space *sp;

	(void)state;
	assert_null(archive_space_create(MIB - 1)); /* not one segment */
	sp = archive_space_create(4096ull * MIB);
	assert_non_null(sp);
	assert_int_equal(sp->shift, 20);
	assert_int_equal(sp->segments, 4096);
	archive_space_destroy(sp);
	/* 16 TiB: segments grow so that there are at most 65536. */
	sp = archive_space_create(16ull << 40);
	assert_non_null(sp);
	assert_int_equal(sp->segments, ARCHIVE_SPACE_SEGMENTS_MAX);
	assert_int_equal(sp->shift, 28);
	archive_space_destroy(sp);
	/* No limit: the most segments of the smallest size. */
	sp = archive_space_create(0);
	assert_non_null(sp);
	assert_int_equal(sp->segments, ARCHIVE_SPACE_SEGMENTS_MAX);
	assert_int_equal(sp->shift, 20);
	archive_space_destroy(sp);
	/* 2.5 MiB: two whole segments, the rest unused. */
	sp = archive_space_create(5ull * MIB / 2);
	assert_int_equal(sp->segments, 2);
	archive_space_destroy(sp);
}

/* Batches fill a segment, then the next; with every segment in use there is
 * no room; the kept segment is left to a caller that keeps none. */
static void test_batches_and_keep(void **state)
{
	struct archive_space *sp = archive_space_create(4 * MIB);
	struct archive_space_stats st;
	uint64_t off;

	(void)state;
	assert_int_equal(archive_space_room(sp, 1), MIB);
	off = archive_space_take(sp, 1000);
	assert_int_equal(off, 0);
	assert_int_equal(archive_space_room(sp, 1), MIB - 1000);
	off = archive_space_take(sp, MIB - 1000);
	assert_int_equal(off, 1000);
	/* Filled to its end: the room closes it and opens the next (a 0
	 * here stalled the archive scan for good). */
	assert_int_equal(archive_space_room(sp, 1), MIB);
	assert_int_equal(archive_space_take(sp, 8), MIB);
	archive_space_close_open(sp);
	assert_int_equal(archive_space_room(sp, 1), MIB);
	archive_space_close_open(sp);
	/* One segment left: the scan (keep 1) gets nothing, the cleaner it. */
	assert_int_equal(archive_space_free_segments(sp), 1);
	assert_int_equal(archive_space_room(sp, 1), 0);
	assert_int_equal(archive_space_room(sp, 0), MIB);
	assert_int_equal(archive_space_take(sp, 16), 3ull * MIB);
	archive_space_close_open(sp);
	assert_int_equal(archive_space_room(sp, 0), 0);
	archive_space_stats_get(sp, &st);
	assert_int_equal(st.segments_used, 4);
	assert_int_equal(st.batches, 4);
	assert_int_equal(st.batch_bytes, MIB + 8 + 16);
	archive_space_destroy(sp);
}

/* A segment is freed only when closed, with no batch in flight, no live
 * byte and no busy offset in it; a freed one is opened before the untouched
 * end; a transient zero (release then add) frees nothing unless a reclaim
 * runs in between. */
static void test_reclaim_rules(void **state)
{
	struct archive_space *sp = archive_space_create(8 * MIB);
	struct archive_space_stats st;
	uint64_t a, b, busy;

	(void)state;
	assert_int_equal(archive_space_room(sp, 0), MIB);
	a = archive_space_take(sp, 4096);
	archive_space_add(sp, a, 100);
	archive_space_add(sp, a + 100, 200);
	archive_space_batch_done(sp, a);
	/* Open: never freed, even empty. */
	archive_space_release(sp, a, 100);
	archive_space_release(sp, a + 100, 200);
	assert_int_equal(archive_space_reclaim(sp, NULL, 0), 0);
	/* Closed with a batch in flight: kept. */
	b = archive_space_take(sp, 512);
	archive_space_close_open(sp);
	assert_int_equal(archive_space_reclaim(sp, NULL, 0), 0);
	archive_space_batch_done(sp, b);
	/* A waiting GET's offset in it: kept; then freed. */
	busy = b + 8;
	assert_int_equal(archive_space_reclaim(sp, &busy, 1), 0);
	busy = 5ull * MIB;
	assert_int_equal(archive_space_reclaim(sp, &busy, 1), 1);
	archive_space_stats_get(sp, &st);
	assert_int_equal(st.segments_free, 1);
	assert_int_equal(st.reclaimed, 1);
	/* The freed segment comes back before an untouched one. */
	assert_int_equal(archive_space_room(sp, 0), MIB);
	assert_int_equal(archive_space_take(sp, 64), 0);
	archive_space_add(sp, 0, 64);
	archive_space_batch_done(sp, 0);
	archive_space_close_open(sp);
	/* Release and add again (a PUT over a stub of the same size reusing
	 * nothing): a reclaim only after both frees nothing. */
	archive_space_release(sp, 0, 64);
	archive_space_add(sp, 0, 64);
	assert_int_equal(archive_space_reclaim(sp, NULL, 0), 0);
	archive_space_stats_get(sp, &st);
	assert_int_equal(st.reopened, 1);
	assert_int_equal(st.live_bytes, 64);
	archive_space_destroy(sp);
}

/* The victim: the closed segment with the fewest live bytes under the
 * bound, not one being cleaned, not an empty one (reclaim frees those). */
static void test_victim(void **state)
{
	struct archive_space *sp = archive_space_create(8 * MIB);
	uint64_t off[4];
	uint32_t live[4] = {MIB / 4, MIB / 8, MIB * 3 / 4, 0};

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(archive_space_room(sp, 0), MIB);
		off[i] = archive_space_take(sp, MIB);
		if (live[i] != 0)
			archive_space_add(sp, off[i], live[i]);
		archive_space_batch_done(sp, off[i]);
		archive_space_close_open(sp);
	}
	assert_int_equal(archive_space_victim(sp, 50), 1);
	sp->seg[1].cleaning = 1;
	assert_int_equal(archive_space_victim(sp, 50), 0);
	assert_int_equal(archive_space_victim(sp, 10), ARCHIVE_SPACE_NONE);
	sp->seg[0].cleaning = 1;
	assert_int_equal(archive_space_victim(sp, 50), ARCHIVE_SPACE_NONE);
	assert_int_equal(archive_space_victim(sp, 80), 2);
	/* Reclaim frees the empty one and forgets its cleaning mark. */
	assert_int_equal(archive_space_reclaim(sp, NULL, 0), 1);
	assert_int_equal(sp->seg[3].state, ARCHIVE_SEGMENT_FREE);
	archive_space_destroy(sp);
}

/* Random batches, stubs made, moved and dropped, reclaims with random busy
 * offsets, against a model of every record: the live bytes per segment
 * match, no segment is freed while a record in it lives or is busy, and a
 * batch never lands over a live record. */
#define MODEL_RECORDS 4096

struct model_rec {
	uint64_t off;
	uint32_t bytes;
	bool live;
};

static void test_random_model(void **state)
{
	static struct model_rec recs[MODEL_RECORDS];
	struct archive_space *sp = archive_space_create(16 * MIB);
	uint64_t rng = 0x5eed;
	unsigned n = 0;
	uint64_t written = 0;

	(void)state;
	for (int step = 0; step < 100000; step++) {
		uint32_t op = (uint32_t)(we_test_rand(&rng) >> 32) % 100;

		if (op < 30 && n < MODEL_RECORDS) {
			/* A batch of 1..8 records, each made a stub or stale. */
			uint32_t room = archive_space_room(sp, 1);
			uint32_t k = 1 + (uint32_t)(we_test_rand(&rng) >> 32) % 8;
			uint32_t rec_bytes = 64 + 8 * ((uint32_t)(we_test_rand(&rng) >> 32) % 512);
			uint64_t base;

			if (room == 0)
				continue;
			if (room < k * rec_bytes) {
				archive_space_close_open(sp);
				continue;
			}
			base = archive_space_take(sp, k * rec_bytes);
			written += k * rec_bytes;
			for (uint32_t i = 0; i < k && n < MODEL_RECORDS; i++) {
				uint64_t off = base + (uint64_t)i * rec_bytes;

				/* Never over a live record. */
				for (unsigned j = 0; j < n; j++)
					if (recs[j].live)
						assert_true(recs[j].off + recs[j].bytes <= off ||
							    off + rec_bytes <= recs[j].off);
				if ((we_test_rand(&rng) >> 32) % 4 == 0)
					continue; /* stale: never counted */
				archive_space_add(sp, off, rec_bytes);
				recs[n++] = (struct model_rec){.off = off, .bytes = rec_bytes, .live = true};
			}
			archive_space_batch_done(sp, base);
		} else if (op < 42 && n > 0) {
			/* A stub dies. */
			unsigned j = (unsigned)((we_test_rand(&rng) >> 32) % n);

			if (recs[j].live) {
				archive_space_release(sp, recs[j].off, recs[j].bytes);
				recs[j] = recs[--n];
			}
		} else if (op < 95) {
			uint64_t busy[5];
			unsigned nb = 0;

			for (unsigned i = 0; i < 4 && n > 0; i++)
				busy[nb++] = recs[(we_test_rand(&rng) >> 32) % n].off;
			busy[nb++] = (we_test_rand(&rng) >> 32) % (16ull * MIB);
			archive_space_reclaim(sp, busy, nb);
			/* Freed segments hold nothing live. */
			for (unsigned j = 0; j < n; j++)
				assert_int_not_equal(
					sp->seg[archive_space_segment_of(sp, recs[j].off)].state,
					ARCHIVE_SEGMENT_FREE);
		} else {
			archive_space_close_open(sp);
		}
	}
	/* Live bytes per segment as the model has them. */
	for (uint32_t g = 0; g < sp->segments; g++) {
		uint64_t want = 0;

		for (unsigned j = 0; j < n; j++)
			if (archive_space_segment_of(sp, recs[j].off) == g)
				want += recs[j].bytes;
		assert_int_equal(sp->seg[g].live, want);
	}
	print_message("records live %u, written %llu, reclaimed %llu\n", n, (unsigned long long)written, (unsigned long long)sp->st.reclaimed);
	assert_true(written > 2 * 16ull * MIB); /* the file was written over */
	archive_space_destroy(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_batches_and_keep),
		cmocka_unit_test(test_reclaim_rules),
		cmocka_unit_test(test_victim),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
