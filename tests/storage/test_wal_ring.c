/* test_wal_ring.c - unit tests of the worker -> storage record ring
 * (storage/wal_ring.c): wrap-around, refusal when full, and a producer and
 * a consumer thread moving a million records. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wal_record.h"
#include "wal_ring.h"
#include "we_test.h"

struct fixture {
	struct wal_ring r;
	void *mem;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->mem = aligned_alloc(64, 4096);
	if (f->mem == NULL || wal_ring_init(&f->r, f->mem, 4096) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->mem);
	free(f);
	return 0;
}

/* Appends one PUT of key "k<lsn>" and a value of value_len bytes; false when full. */
static bool append(struct wal_ring *r, uint64_t lsn, uint32_t value_len)
{
	static uint8_t value[2048];
	char key[32];
	struct wal_record rec = {.type = WAL_REC_PUT, .lsn = lsn, .key = key, .value = value};
	uint32_t bytes;
	void *p;

	rec.key_len = (uint32_t)snprintf(key, sizeof(key), "k%llu", (unsigned long long)lsn);
	rec.value_len = value_len;
	memset(value, (int)(lsn & 0xff), value_len);
	bytes = wal_record_size(rec.key_len, value_len);
	p = wal_ring_reserve(r, bytes);
	if (p == NULL)
		return false;
	assert_int_equal(wal_record_encode(p, bytes, &rec), bytes);
	wal_ring_commit(r);
	return true;
}

/* Decodes every record of a span, checks LSNs follow on from *next_lsn. */
static void check_span(const struct wal_ring_span *s, uint64_t *next_lsn)
{
	uint32_t off = 0;
	uint32_t n = 0;

	while (off < s->bytes) {
		struct wal_record rec;
		uint32_t bytes;

		assert_int_equal(wal_record_decode(s->data + off, s->bytes - off, &rec, &bytes),
				 WAL_DECODE_OK);
		assert_int_equal(rec.lsn, *next_lsn);
		(*next_lsn)++;
		off += bytes;
		n++;
	}
	assert_int_equal(n, s->records);
}

/* Validation of init arguments. */
static void test_init_refuses(void **state)
{
	struct wal_ring r;
	void *mem = aligned_alloc(64, 8192);

	(void)state;
	assert_int_equal(wal_ring_init(&r, mem, 3000), -EINVAL);
	assert_int_equal(wal_ring_init(&r, mem, 2048), -EINVAL);
	assert_int_equal(wal_ring_init(&r, (uint8_t *)mem + 8, 4096), -EINVAL);
	assert_int_equal(wal_ring_init(&r, mem, 8192), 0);
	free(mem);
}

/* Records are refused when full (nothing changes), accepted again once the
 * consumer releases; a record above half the ring is never accepted. */
static void test_full_refusal(void **state)
{
	struct fixture *f = *state;
	struct wal_ring_span s;
	uint64_t lsn = 1;
	uint64_t next = 1;
	int n = 0;

	while (append(&f->r, lsn, 100)) /* 32 + 2..3 + 100 -> 136 bytes */
		lsn++, n++;
	assert_int_equal(n, 4096 / 136);
	assert_false(append(&f->r, lsn, 100));
	assert_int_equal(wal_ring_used(&f->r), (uint64_t)n * 136);
	assert_null(wal_ring_reserve(&f->r, 2056));
	assert_null(wal_ring_reserve(&f->r, 12)); /* not a multiple of 8 */

	/* A span read and not released is read again after a rewind. */
	assert_int_equal(wal_ring_span(&f->r, 272, &s), 272);
	assert_int_equal(wal_ring_span(&f->r, 100, &s), 0);
	assert_int_equal(s.blocked_bytes, 136);
	assert_int_equal(s.blocked_lsn, 3);
	wal_ring_rewind(&f->r);

	assert_true(wal_ring_span(&f->r, 136, &s) == 136); /* max_bytes: one record */
	assert_int_equal(s.records, 1);
	check_span(&s, &next);
	wal_ring_release(&f->r, s.release);
	assert_true(append(&f->r, lsn, 100));
	lsn++;
	assert_false(append(&f->r, lsn, 100));
}

/* Over many laps with mixed sizes, records are never split: each span is
 * whole records in LSN order, pads are skipped, and everything arrives. */
static void test_wrap_never_splits(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = we_test_seed("wal_ring wrap", 7);
	uint64_t rng = seed;
	uint64_t lsn = 1;
	uint64_t next = 1;
	uint64_t pads = 0;

	while (next < 20000) {
		struct wal_ring_span s;

		while (lsn < 20000 && append(&f->r, lsn, (uint32_t)(we_test_rand(&rng) % 1500)))
			lsn++;
		if (wal_ring_span(&f->r, (uint32_t)(1 + we_test_rand(&rng) % 4096), &s) == 0 &&
		    s.blocked_bytes > 0) {
			/* The next record alone is larger: nothing consumed but a pad. */
			WE_TEST_CHECK(s.records == 0 && s.blocked_lsn == next, seed);
			wal_ring_release(&f->r, s.release);
			assert_int_equal(wal_ring_span(&f->r, s.blocked_bytes, &s), s.blocked_bytes);
		} else if (s.bytes == 0 && s.release == 0) {
			fail_msg("nothing to read but records pending (WE_TEST_SEED=%llu)",
				 (unsigned long long)seed);
		}
		if (s.records > 0) {
			WE_TEST_CHECK(s.first_lsn == next, seed);
			WE_TEST_CHECK(s.data + s.bytes <= (uint8_t *)f->mem + 4096, seed);
			check_span(&s, &next);
			WE_TEST_CHECK(s.last_lsn == next - 1, seed);
		}
		if (s.release > s.bytes)
			pads++;
		wal_ring_release(&f->r, s.release);
	}
	assert_true(pads > 10);
	assert_int_equal(wal_ring_used(&f->r), 0);
}

struct pc {
	struct wal_ring *r;
	uint64_t records;
	uint64_t refused;
};

static void *producer(void *arg)
{
	struct pc *pc = arg;

	for (uint64_t lsn = 1; lsn <= pc->records;) {
		if (append(pc->r, lsn, (uint32_t)(lsn % 61)))
			lsn++;
		else
			pc->refused++;
	}
	return NULL;
}

/* A producer thread and the consumer move 1M records through a 64 KiB ring:
 * all arrive, in order, intact. */
static void test_threads_one_million(void **state)
{
	struct wal_ring r;
	void *mem = aligned_alloc(64, 65536);
	struct pc pc = {.r = &r, .records = 1000000};
	pthread_t t;
	uint64_t next = 1;

	(void)state;
	assert_int_equal(wal_ring_init(&r, mem, 65536), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &pc), 0);
	while (next <= pc.records) {
		struct wal_ring_span s;

		wal_ring_span(&r, 16384, &s);
		if (s.records > 0)
			check_span(&s, &next);
		wal_ring_release(&r, s.release);
	}
	pthread_join(t, NULL);
	assert_int_equal(wal_ring_used(&r), 0);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_refuses),
		cmocka_unit_test_setup_teardown(test_full_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_never_splits, setup, teardown),
		cmocka_unit_test(test_threads_one_million),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
