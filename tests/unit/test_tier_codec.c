/* test_tier_codec.c - the compressed tiers' codec (dataplane/tier_codec.c):
 * LZ4 and LZ4-HC round trips give back exactly the value's bytes for text,
 * repeated and random values of many sizes; values that do not compress
 * (random bytes, small values) are left raw; truncated input and a wrong
 * length are errors, damaged input never writes out of bounds; other tiers
 * are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tier_codec.h"
#include "we_test.h"

#define MAXV 8192

static uint8_t src[MAXV], packed[MAXV + 64], back[MAXV];

/* JSON-like text: compressible, like the blaster's text values. */
static void fill_text(uint8_t *p, uint32_t len, uint64_t seed)
{
	static const char *words[] = {"{\"user\":", "\"name\":\"", "alice", "bob", "\",\"age\":",
				      "42", ",\"tags\":[\"", "red", "blue", "\"]}", " "};
	uint32_t o = 0;

	while (o < len) {
		const char *w = words[we_test_rand(&seed) % 11];
		size_t n = strlen(w);

		for (size_t i = 0; i < n && o < len; i++)
			p[o++] = (uint8_t)w[i];
	}
}

static void fill_random(uint8_t *p, uint32_t len, uint64_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)we_test_rand(&seed);
}

/* expect: 1 packed, 0 left raw, -1 either (then checked if packed). */
static void round_trip(enum item_tier tier, uint32_t len, int expect)
{
	int n = tier_compress(tier, src, len, packed, sizeof(packed));

	assert_true(n >= 0);
	if (expect == 0 || (expect < 0 && n == 0)) {
		assert_int_equal(n, 0);
		return;
	}
	assert_true(n > 0);
	assert_true((uint32_t)n + TIER_SAVING_MIN <= len);
	assert_true((uint32_t)n <= tier_bound(len));
	memset(back, 0xee, sizeof(back));
	assert_int_equal(tier_decompress(packed, (uint32_t)n, back, len), 0);
	assert_memory_equal(back, src, len);
	/* a wrong length, a truncated or a damaged input: errors */
	assert_int_equal(tier_decompress(packed, (uint32_t)n, back, len - 1), -EBADMSG);
	assert_int_equal(tier_decompress(packed, (uint32_t)n - 1, back, len), -EBADMSG);
	/* damaged bytes: an error or some len bytes, never a write past dst
	 * (an LZ4 block has no checksum; ASan watches the bounds) */
	packed[0] ^= 0xff;
	packed[n / 2] ^= 0x5a;
	int r = tier_decompress(packed, (uint32_t)n, back, len);

	assert_true(r == 0 || r == -EBADMSG);
}

static void test_text_round_trips(void **state)
{
	static const uint32_t sizes[] = {32, 33, 64, 100, 512, 1000, 1443, 4096, MAXV};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_text(src, sizes[i], i + 1);
		/* short text may or may not save enough; 512 B and more do */
		round_trip(TIER_PHOTON_SPHERE, sizes[i], sizes[i] >= 512 ? 1 : -1);
		fill_text(src, sizes[i], i + 1);
		round_trip(TIER_DEEP_CACHE, sizes[i], sizes[i] >= 512 ? 1 : -1);
	}
}

/* A repeated byte compresses to almost nothing; HC never worse than fast. */
static void test_repeated_and_hc(void **state)
{
	int fast, hc;

	(void)state;
	memset(src, 'a', MAXV);
	round_trip(TIER_PHOTON_SPHERE, MAXV, 1);
	memset(src, 'a', MAXV);
	round_trip(TIER_DEEP_CACHE, MAXV, 1);
	fill_text(src, 4096, 99);
	fast = tier_compress(TIER_PHOTON_SPHERE, src, 4096, packed, sizeof(packed));
	hc = tier_compress(TIER_DEEP_CACHE, src, 4096, packed, sizeof(packed));
	assert_true(fast > 0 && hc > 0 && hc <= fast);
}

/* Random bytes and tiny values stay raw; so does the empty value. */
static void test_left_raw(void **state)
{
	(void)state;
	fill_random(src, 4096, 5);
	round_trip(TIER_PHOTON_SPHERE, 4096, 0);
	round_trip(TIER_DEEP_CACHE, 4096, 0);
	memset(src, 'a', 31);
	round_trip(TIER_PHOTON_SPHERE, 31, 0);
	round_trip(TIER_PHOTON_SPHERE, 0, 0);
	/* too small a buffer: not packed rather than an error */
	fill_text(src, 4096, 3);
	assert_int_equal(tier_compress(TIER_PHOTON_SPHERE, src, 4096, packed, 8), 0);
}

static void test_refusals(void **state)
{
	(void)state;
	assert_int_equal(tier_compress(TIER_EVENT_HORIZON, src, 100, packed, sizeof(packed)),
			 -EINVAL);
	assert_int_equal(tier_compress(TIER_SINGULARITY, src, 100, packed, sizeof(packed)), -EINVAL);
	assert_int_equal(tier_decompress(packed, 10, back, ARENA_VALUE_MAX + 1u), -EBADMSG);
	/* the empty value decompresses from LZ4's one-byte empty frame only */
	assert_int_equal(tier_decompress((const uint8_t *)"\0", 1, back, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_round_trips),
		cmocka_unit_test(test_repeated_and_hc),
		cmocka_unit_test(test_left_raw),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
