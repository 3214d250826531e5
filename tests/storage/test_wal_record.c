/* test_wal_record.c - unit tests of the log record codec (storage/wal_record.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyhash.h"
#include "wal_record.h"
#include "we_test.h"

static uint64_t buf_words[(WAL_RECORD_HDR_BYTES + WAL_KEY_MAX + 4096) / 8 + 1];

static uint32_t get_len(void)
{
	uint32_t v;

	memcpy(&v, buf_words, sizeof(v));
	return v;
}

static void set_len(uint32_t v)
{
	memcpy(buf_words, &v, sizeof(v));
}

static struct wal_record put_of(const char *key, const void *value, uint32_t value_len,
				uint64_t lsn)
{
	struct wal_record r = {
		.type = WAL_REC_PUT,
		.worker = 3,
		.region = (uint16_t)keyhash_region(keyhash(key, strlen(key))),
		.lsn = lsn,
		.key = key,
		.key_len = (uint32_t)strlen(key),
		.value = value,
		.value_len = value_len,
	};
	return r;
}

/* Every field survives encode then decode, and the size is the padded one. */
static void test_round_trip(void **state)
{
	struct wal_record r = put_of("user:alice", "hello world", 11, 0x123456789abcull);
	struct wal_record back;
	uint32_t bytes = 0;
	int64_t n;

	(void)state;
	n = wal_record_encode(buf_words, sizeof(buf_words), &r);
	assert_int_equal(n, wal_record_size(10, 11));
	assert_int_equal(n, 56); /* 32 + 10 + 11 = 53, padded to 56 */
	assert_int_equal(wal_record_decode(buf_words, (size_t)n, &back, &bytes), WAL_DECODE_OK);
	assert_int_equal(bytes, n);
	assert_int_equal(back.type, WAL_REC_PUT);
	assert_int_equal(back.worker, 3);
	assert_int_equal(back.region, r.region);
	assert_int_equal(back.lsn, 0x123456789abcull);
	assert_int_equal(back.key_len, 10);
	assert_memory_equal(back.key, "user:alice", 10);
	assert_int_equal(back.value_len, 11);
	assert_memory_equal(back.value, "hello world", 11);
}

/* DELETE carries no value; empty PUT values and the largest datagram value work. */
static void test_delete_and_sizes(void **state)
{
	static uint8_t big[1443];
	struct wal_record r = put_of("k", "", 0, 1);
	struct wal_record back;
	uint32_t bytes;

	(void)state;
	r.type = WAL_REC_DELETE;
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), 40);
	assert_int_equal(wal_record_decode(buf_words, 40, &back, &bytes), WAL_DECODE_OK);
	assert_int_equal(back.type, WAL_REC_DELETE);
	r.value = "x";
	r.value_len = 1;
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);

	memset(big, 0xab, sizeof(big));
	r = put_of("k", big, sizeof(big), 2);
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r),
			 wal_record_size(1, 1443));
	assert_int_equal(wal_record_decode(buf_words, sizeof(buf_words), &back, &bytes),
			 WAL_DECODE_OK);
	assert_memory_equal(back.value, big, sizeof(big));
}

/* A pad (the writer's filler to a sector boundary): no key, zeros as its
 * value, any size from a bare header; a key makes it invalid. */
static void test_pad(void **state)
{
	static const uint8_t zeros[512];
	struct wal_record r = {.type = WAL_REC_PAD, .worker = 3, .lsn = 77, .value = zeros};
	struct wal_record back;
	uint32_t bytes;

	(void)state;
	for (uint32_t len = 0; len <= 480; len += 8) {
		r.value_len = len;
		assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), 32 + len);
		assert_int_equal(wal_record_decode(buf_words, 32 + len, &back, &bytes),
				 WAL_DECODE_OK);
		assert_int_equal(back.type, WAL_REC_PAD);
		assert_int_equal(back.lsn, 77);
		assert_int_equal(bytes, 32 + len);
	}
	assert_string_equal(wal_record_type_name(WAL_REC_PAD), "pad");
	r.key = "k";
	r.key_len = 1;
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
}

/* Records the format cannot carry are refused, and a short buffer too. */
static void test_encode_refuses(void **state)
{
	char key[WAL_KEY_MAX + 2];
	struct wal_record r;

	(void)state;
	memset(key, 'k', sizeof(key));
	key[WAL_KEY_MAX + 1] = '\0';
	r = put_of(key, "v", 1, 1);
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
	r = put_of("", "v", 1, 1);
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
	r = put_of("k", "v", 1, WAL_LSN_MAX + 1);
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
	r = put_of("k", "v", 1, 1);
	r.region = WAL_REGIONS;
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
	r = put_of("k", "v", 1, 1);
	r.type = 9;
	assert_int_equal(wal_record_encode(buf_words, sizeof(buf_words), &r), -EINVAL);
	r = put_of("k", "v", 1, 1);
	assert_int_equal(wal_record_encode(buf_words, 39, &r), -ENOSPC);
}

/* Flipping any single bit of a record, padding included, is detected. */
static void test_every_bit_flip_detected(void **state)
{
	struct wal_record r = put_of("key-17", "value", 5, 77); /* 43 -> 48 bytes */
	struct wal_record back;
	uint32_t bytes;
	int64_t n;
	uint8_t *p = (uint8_t *)buf_words;

	(void)state;
	n = wal_record_encode(buf_words, sizeof(buf_words), &r);
	assert_int_equal(n, 48);
	for (int64_t i = 0; i < n * 8; i++) {
		enum wal_decode d;

		p[i / 8] ^= (uint8_t)(1u << (i % 8));
		d = wal_record_decode(buf_words, (size_t)n, &back, &bytes);
		if (d == WAL_DECODE_OK)
			fail_msg("bit %lld flipped and the record still decodes", (long long)i);
		p[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(wal_record_decode(buf_words, (size_t)n, &back, &bytes), WAL_DECODE_OK);
}

/* Zeros are the end of a log; fewer bytes than the record are torn; a zero
 * length inside a non-zero header and impossible lengths are bad. */
static void test_end_torn_bad(void **state)
{
	struct wal_record r = put_of("key", "value", 5, 5);
	struct wal_record back;
	uint32_t bytes;
	int64_t n;

	(void)state;
	memset(buf_words, 0, sizeof(buf_words));
	assert_int_equal(wal_record_decode(buf_words, 64, &back, &bytes), WAL_DECODE_END);
	assert_int_equal(wal_record_decode(buf_words, 0, &back, &bytes), WAL_DECODE_END);
	n = wal_record_encode(buf_words, sizeof(buf_words), &r);
	for (int64_t avail = 1; avail < n; avail++)
		assert_int_equal(wal_record_decode(buf_words, (size_t)avail, &back, &bytes),
				 WAL_DECODE_TORN);
	memset(buf_words, 0, 4); /* len = 0, rest non-zero */
	assert_int_equal(wal_record_decode(buf_words, (size_t)n, &back, &bytes), WAL_DECODE_BAD);
	n = wal_record_encode(buf_words, sizeof(buf_words), &r);
	set_len(31); /* shorter than a header */
	assert_int_equal(wal_record_decode(buf_words, (size_t)n, &back, &bytes), WAL_DECODE_BAD);
	set_len(0x7fffffff); /* beyond any record */
	assert_int_equal(wal_record_decode(buf_words, (size_t)n, &back, &bytes), WAL_DECODE_BAD);
	n = wal_record_encode(buf_words, sizeof(buf_words), &r);
	set_len(get_len() + 8); /* len disagrees with key + value */
	assert_int_equal(wal_record_decode(buf_words, sizeof(buf_words), &back, &bytes),
			 WAL_DECODE_BAD);
}

/* Random records of random shapes round-trip (seed from WE_TEST_SEED). */
static void test_random_round_trip(void **state)
{
	uint64_t seed = we_test_seed("wal_record random", 1);
	uint64_t rng = seed;
	static uint8_t key[WAL_KEY_MAX];
	static uint8_t value[4096];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct wal_record r = {0};
		struct wal_record back;
		uint32_t bytes;
		int64_t n;

		r.type = we_test_rand(&rng) % 2 ? WAL_REC_PUT : WAL_REC_DELETE;
		r.key_len = 1 + (uint32_t)(we_test_rand(&rng) % WAL_KEY_MAX);
		r.value_len = r.type == WAL_REC_PUT ? (uint32_t)(we_test_rand(&rng) % 4097) : 0;
		for (uint32_t k = 0; k < r.key_len; k++)
			key[k] = (uint8_t)we_test_rand(&rng);
		for (uint32_t k = 0; k < r.value_len; k++)
			value[k] = (uint8_t)we_test_rand(&rng);
		r.key = key;
		r.value = value;
		r.region = (uint16_t)(we_test_rand(&rng) % WAL_REGIONS);
		r.worker = (uint16_t)we_test_rand(&rng);
		r.lsn = we_test_rand(&rng) & WAL_LSN_MAX;
		n = wal_record_encode(buf_words, sizeof(buf_words), &r);
		WE_TEST_CHECK(n == wal_record_size(r.key_len, r.value_len), seed);
		WE_TEST_CHECK(wal_record_decode(buf_words, (size_t)n, &back, &bytes) == WAL_DECODE_OK,
			      seed);
		WE_TEST_CHECK(back.lsn == r.lsn && back.worker == r.worker && back.region == r.region,
			      seed);
		WE_TEST_CHECK(back.key_len == r.key_len && memcmp(back.key, key, r.key_len) == 0, seed);
		WE_TEST_CHECK(back.value_len == r.value_len &&
				      memcmp(back.value, value, r.value_len) == 0,
			      seed);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_delete_and_sizes),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_pad),
		cmocka_unit_test(test_every_bit_flip_detected),
		cmocka_unit_test(test_end_torn_bad),
		cmocka_unit_test(test_random_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
