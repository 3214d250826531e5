/* test_tier_codec.c - the compressed tiers' codec (dataplane/tier_codec.c):
 * LZ4 and LZ4-HC round trips give back exactly the value's bytes for text,
 * repeated and random values of many sizes; values that do not compress
 * (random bytes, small values) are left raw; truncated input and a wrong
 * length are errors, damaged input never writes out of bounds; other tiers
 * are refused. The dictionary: built from sampled pieces once full, never
 * changed after; values compressed against it round-trip only with it, and
 * text values compress much smaller with it than alone. */
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

/* expect: 1 packed, 0 left raw, -1 either (then checked if packed).
 * d: compress against this built dictionary, or NULL. */
static void round_trip_with(struct tier_dict *d, enum item_tier tier, uint32_t len, int expect)
{
	const struct value_dict *view = tier_dict_view(d);
	uint8_t codec = (uint8_t)(tier | (d != NULL ? VALUE_CODEC_DICT : 0));
	int n = d != NULL ? tier_compress_dict(d, tier, src, len, packed, sizeof(packed))
			  : tier_compress(tier, src, len, packed, sizeof(packed));

	assert_true(n >= 0);
	if (expect == 0 || (expect < 0 && n == 0)) {
		assert_int_equal(n, 0);
		return;
	}
	assert_true(n > 0);
	assert_true((uint32_t)n + TIER_SAVING_MIN <= len);
	assert_true((uint32_t)n <= tier_bound(len));
	memset(back, 0xee, sizeof(back));
	assert_int_equal(tier_decompress(codec, view, packed, (uint32_t)n, back, len), 0);
	assert_memory_equal(back, src, len);
	/* a wrong length, a truncated or a damaged input: errors */
	assert_int_equal(tier_decompress(codec, view, packed, (uint32_t)n, back, len - 1), -EBADMSG);
	assert_int_equal(tier_decompress(codec, view, packed, (uint32_t)n - 1, back, len), -EBADMSG);
	/* damaged bytes: an error or some len bytes, never a write past dst
	 * (an LZ4 block has no checksum; ASan watches the bounds) */
	packed[0] ^= 0xff;
	packed[n / 2] ^= 0x5a;
	int r = tier_decompress(codec, view, packed, (uint32_t)n, back, len);

	assert_true(r == 0 || r == -EBADMSG);
}

static void round_trip(enum item_tier tier, uint32_t len, int expect)
{
	round_trip_with(NULL, tier, len, expect);
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
	assert_int_equal(tier_decompress(VALUE_CODEC_LZ4, NULL, packed, 10, back,
					 ARENA_VALUE_MAX + 1u),
			 -EBADMSG);
	/* the empty value decompresses from LZ4's one-byte empty frame only */
	assert_int_equal(tier_decompress(VALUE_CODEC_LZ4, NULL, (const uint8_t *)"\0", 1, back, 0),
			 0);
	/* unknown codecs, raw (not a compressed tier), a dictionary not given */
	assert_int_equal(tier_decompress(3, NULL, (const uint8_t *)"\0", 1, back, 0), -EBADMSG);
	assert_int_equal(tier_decompress(VALUE_CODEC_RAW, NULL, src, 4, back, 4), -EBADMSG);
	assert_int_equal(tier_decompress(VALUE_CODEC_LZ4 | VALUE_CODEC_DICT, NULL,
					 (const uint8_t *)"\0", 1, back, 0),
			 -EBADMSG);
}

/* Samples of text values until the dictionary is built; returns it. */
static struct tier_dict *built_dict(uint64_t seed)
{
	struct tier_dict *d = tier_dict_create();
	unsigned calls = 0;

	assert_non_null(d);
	assert_null(tier_dict_view(d));
	/* too small to sample, like to compress */
	assert_false(tier_dict_sample(d, src, TIER_SAVING_MIN * 2 - 1));
	for (;;) {
		fill_text(src, 1024, seed + calls);
		calls++;
		if (tier_dict_sample(d, src, 1024))
			break;
		assert_null(tier_dict_view(d));
		assert_true(calls < VALUE_DICT_BYTES / TIER_DICT_PIECE);
	}
	assert_int_equal(calls, VALUE_DICT_BYTES / TIER_DICT_PIECE);
	assert_non_null(tier_dict_view(d));
	assert_int_equal(tier_dict_view(d)->len, VALUE_DICT_BYTES);
	return d;
}

static void test_dict_build_and_round_trips(void **state)
{
	static const uint32_t sizes[] = {32, 100, 512, 1000, 4096, MAXV};
	struct tier_dict *d = built_dict(1000);
	uint8_t before[VALUE_DICT_BYTES];

	(void)state;
	/* Built once: more samples change nothing. */
	memcpy(before, tier_dict_view(d)->bytes, sizeof(before));
	fill_text(src, 1024, 7);
	assert_false(tier_dict_sample(d, src, 1024));
	assert_memory_equal(before, tier_dict_view(d)->bytes, sizeof(before));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_text(src, sizes[i], 50 + i);
		round_trip_with(d, TIER_PHOTON_SPHERE, sizes[i], sizes[i] >= 100 ? 1 : -1);
		fill_text(src, sizes[i], 50 + i);
		round_trip_with(d, TIER_DEEP_CACHE, sizes[i], sizes[i] >= 100 ? 1 : -1);
	}
	/* random bytes stay raw with a dictionary too */
	fill_random(src, 4096, 9);
	round_trip_with(d, TIER_PHOTON_SPHERE, 4096, 0);
	/* another tier, or a dictionary not built: refused */
	assert_int_equal(tier_compress_dict(d, TIER_EVENT_HORIZON, src, 100, packed, sizeof(packed)),
			 -EINVAL);
	tier_dict_destroy(d);
}

/* A value compressed against the dictionary needs it: without it the
 * decoder refuses; with another dictionary it cannot give the bytes back. */
static void test_dict_needed(void **state)
{
	struct tier_dict *d = built_dict(2000);
	struct tier_dict *other = tier_dict_create();
	int n, r;

	(void)state;
	assert_int_equal(tier_compress_dict(other, TIER_PHOTON_SPHERE, src, 1024, packed,
					    sizeof(packed)),
			 -EINVAL); /* not built */
	for (unsigned i = 0; i < VALUE_DICT_BYTES / TIER_DICT_PIECE; i++) {
		fill_random(src, 1024, 300 + i);
		tier_dict_sample(other, src, 1024);
	}
	assert_non_null(tier_dict_view(other));
	fill_text(src, 1024, 77);
	n = tier_compress_dict(d, TIER_PHOTON_SPHERE, src, 1024, packed, sizeof(packed));
	assert_true(n > 0);
	assert_int_equal(tier_decompress(VALUE_CODEC_LZ4 | VALUE_CODEC_DICT, NULL, packed,
					 (uint32_t)n, back, 1024),
			 -EBADMSG);
	r = tier_decompress(VALUE_CODEC_LZ4 | VALUE_CODEC_DICT, tier_dict_view(other), packed,
			    (uint32_t)n, back, 1024);
	assert_true(r == -EBADMSG || memcmp(back, src, 1024) != 0);
	/* without the DICT bit the same bytes cannot decode right either */
	r = tier_decompress(VALUE_CODEC_LZ4, NULL, packed, (uint32_t)n, back, 1024);
	assert_true(r == -EBADMSG || memcmp(back, src, 1024) != 0);
	tier_dict_destroy(d);
	tier_dict_destroy(other);
}

/* The point of it: values of one kind compress much smaller against a
 * dictionary of their kind than alone (fill_text's vocabulary is tiny, so
 * here the gain is large; docs/performance.md has the blaster's figures). */
static void test_dict_pays(void **state)
{
	struct tier_dict *d = built_dict(3000);
	uint64_t alone = 0, with = 0;

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		fill_text(src, 1024, 9000 + i);
		alone += (uint64_t)tier_compress(TIER_PHOTON_SPHERE, src, 1024, packed,
						 sizeof(packed));
		with += (uint64_t)tier_compress_dict(d, TIER_PHOTON_SPHERE, src, 1024, packed,
						     sizeof(packed));
	}
	print_message("1 KiB text x100: %llu bytes alone, %llu with the dictionary\n",
		      (unsigned long long)alone, (unsigned long long)with);
	assert_true(with * 10 < alone * 8);
	tier_dict_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_round_trips),
		cmocka_unit_test(test_repeated_and_hc),
		cmocka_unit_test(test_left_raw),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_dict_build_and_round_trips),
		cmocka_unit_test(test_dict_needed),
		cmocka_unit_test(test_dict_pays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
