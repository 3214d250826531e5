/* test_value_gen.c - the value kinds (--value-kind): each is a pure function
 * of (key index, version), exactly the asked length, different across
 * versions and keys, verified by workload_value_matches (which refuses a
 * changed byte); random is byte for byte the values of earlier releases;
 * text and json compress with LZ4 like real data, and json is a JSON object
 * when the value is long enough to hold one (184 bytes). Prints the LZ4
 * ratios and the generation cost that docs/blaster.md quotes. */
#include <jansson.h>
#include <lz4.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "rng.h"
#include "workload.h"

#define VK_MAX 4096

static const enum workload_value_kind vk_kinds[] = {WORKLOAD_VALUE_RANDOM, WORKLOAD_VALUE_TEXT,
						    WORKLOAD_VALUE_JSON};
static const char *const vk_names[] = {"random", "text", "json"};
#define VK_KINDS 3

static void vk_init(struct workload *w, enum workload_value_kind kind, uint32_t min,
		    uint32_t max)
{
	struct workload_config c = {
		.keys = 1000000,
		.key_size_min = 16,
		.key_size_max = 16,
		.value_size_min = min,
		.value_size_max = max,
		.value_kind = kind,
		.mix_get = 1,
		.seed = 1,
	};
	const char *why;

	assert_int_equal(workload_init(w, &c, &why), 0);
}

/* The random kind as it was written before the other kinds existed. */
static void vk_random_reference(uint64_t index, uint16_t version, uint8_t *buf, uint32_t len)
{
	static const char alphabet[64] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
	uint64_t state = rng_mix64(index) ^ ((uint64_t)version * 0xd1b54a32d192ed03ull);

	for (uint32_t off = 0; off < len; off += 8) {
		uint64_t bits = rng_splitmix64(&state);

		for (uint32_t i = 0; i < 8 && off + i < len; i++, bits >>= 8)
			buf[off + i] = (uint8_t)alphabet[bits & 63];
	}
}

static uint32_t vk_unprintable(const uint8_t *v, uint32_t len)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < len; i++)
		bad += v[i] < ' ' || v[i] >= 0x7f;
	return bad;
}

/* Random is unchanged: a stored prefix, and the old algorithm at many lengths. */
static void test_value_random_unchanged(void **state)
{
	static uint8_t v[VK_MAX], ref[VK_MAX];
	struct workload w;

	(void)state;
	vk_init(&w, WORKLOAD_VALUE_RANDOM, 40, 40);
	assert_int_equal(workload_value(&w, 42, 0, v), 40);
	assert_memory_equal(v, "4oGbwwXNL0o-3Hhqo3f1ud1yeOFliT-HvNzYGPAj", 40);
	vk_init(&w, WORKLOAD_VALUE_RANDOM, 13, 13);
	assert_int_equal(workload_value(&w, 7, 3, v), 13);
	assert_memory_equal(v, "rs26XqddWBscN", 13);
	vk_init(&w, WORKLOAD_VALUE_RANDOM, 0, VK_MAX);
	for (uint64_t k = 0; k < 2000; k++) {
		uint16_t ver = (uint16_t)(k * 7);
		uint32_t n = workload_value(&w, k, ver, v);

		vk_random_reference(k, ver, ref, n);
		assert_memory_equal(v, ref, n);
	}
}

/* One value of every length 1..4096: regenerated equal, exactly that long,
 * printable, accepted, and refused after any one-byte change or with a byte
 * less. */
static void test_value_every_length(void **state)
{
	static uint8_t v1[VK_MAX], v2[VK_MAX];

	(void)state;
	for (int k = 0; k < VK_KINDS; k++) {
		for (uint32_t len = 1; len <= VK_MAX; len++) {
			struct workload w;
			uint64_t index = len * 31;
			uint32_t at[3] = {0, len / 2, len - 1};

			vk_init(&w, vk_kinds[k], len, len);
			memset(v1, 0, len);
			assert_int_equal(workload_value(&w, index, 5, v1), len);
			assert_int_equal(workload_value(&w, index, 5, v2), len);
			assert_memory_equal(v1, v2, len);
			assert_int_equal(vk_unprintable(v1, len), 0);
			assert_true(workload_value_matches(&w, index, 5, v1, len));
			for (int a = 0; a < 3; a++) {
				v1[at[a]] ^= 0x20;
				assert_false(workload_value_matches(&w, index, 5, v1, len));
				v1[at[a]] ^= 0x20;
			}
			assert_false(workload_value_matches(&w, index, 5, v1, len - 1));
		}
	}
}

/* With a size range each (key, version) keeps its length and its bytes. */
static void test_value_range(void **state)
{
	static uint8_t v1[VK_MAX], v2[VK_MAX];

	(void)state;
	for (int k = 0; k < VK_KINDS; k++) {
		struct workload w;
		uint32_t lo = VK_MAX, hi = 0;

		vk_init(&w, vk_kinds[k], 1, VK_MAX);
		for (uint64_t key = 0; key < 3000; key++) {
			uint16_t ver = (uint16_t)(key % 5);
			uint32_t n = workload_value(&w, key, ver, v1);

			assert_int_equal(n, workload_value_len(&w, key, ver));
			assert_int_equal(workload_value(&w, key, ver, v2), n);
			assert_memory_equal(v1, v2, n);
			assert_true(workload_value_matches(&w, key, ver, v1, n));
			lo = n < lo ? n : lo;
			hi = n > hi ? n : hi;
		}
		assert_true(lo < 50 && hi > VK_MAX - 50);
	}
}

/* Versions of one key differ, and so do keys: always from 200 bytes on; at
 * 32 bytes nearly always (two text values may open with the same common
 * phrases, and JSON values open with the same keys). */
static void test_value_differs(void **state)
{
	static const uint32_t lens[] = {32, 200, 1024};
	uint8_t a[1024], b[1024];

	(void)state;
	for (int k = 0; k < VK_KINDS; k++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			struct workload w;
			uint32_t len = lens[l], same = 0;

			vk_init(&w, vk_kinds[k], len, len);
			for (uint64_t key = 0; key < 500; key++) {
				workload_value(&w, key, 1, a);
				workload_value(&w, key, 2, b);
				same += memcmp(a, b, len) == 0;
				assert_int_equal(workload_value_matches(&w, key, 2, a, len),
						 memcmp(a, b, len) == 0);
				workload_value(&w, key + 1, 1, b);
				same += memcmp(a, b, len) == 0;
			}
			if (len >= 200 || vk_kinds[k] != WORKLOAD_VALUE_TEXT)
				assert_int_equal(same, 0);
			else
				assert_true(same < 1000 / 20);
		}
	}
}

/* JSON starts with '{'; from 184 bytes on (room for the longest head: a
 * 13-digit key index, a 5-digit version, the longest words) it is one whole
 * object whose id is the key index and v the version. */
static void test_value_json_shape(void **state)
{
	static uint8_t v[VK_MAX];

	(void)state;
	for (uint32_t len = 1; len <= VK_MAX; len += len < 400 ? 1 : 37) {
		uint64_t index = (len & 1) ? len * 3 : (1ull << 40) - 1 - len;
		uint16_t version = (len & 2) ? 9 : 65535;
		struct workload w;
		json_error_t err;
		json_t *j;

		vk_init(&w, WORKLOAD_VALUE_JSON, len, len);
		workload_value(&w, index, version, v);
		assert_int_equal(v[0], '{');
		if (len < 184)
			continue;
		j = json_loadb((const char *)v, len, 0, &err);
		if (j == NULL)
			fail_msg("length %u: %s: %.*s", len, err.text, (int)len, (const char *)v);
		assert_int_equal(json_integer_value(json_object_get(j, "id")), index);
		assert_int_equal(json_integer_value(json_object_get(j, "v")), version);
		assert_true(json_is_string(json_object_get(j, "bio")));
		assert_true(json_is_array(json_object_get(j, "events")));
		json_decref(j);
	}
}

/* LZ4's output over the input, over 200 values of one length (and the worst). */
static double vk_lz4_ratio(enum workload_value_kind kind, uint32_t len, double *worst)
{
	static uint8_t v[VK_MAX];
	static char out[LZ4_COMPRESSBOUND(VK_MAX)];
	struct workload w;
	uint64_t in = 0, packed = 0;

	vk_init(&w, kind, len, len);
	*worst = 0;
	for (uint64_t key = 0; key < 200; key++) {
		int n;

		workload_value(&w, key * 7919, (uint16_t)key, v);
		n = LZ4_compress_default((const char *)v, out, (int)len, (int)sizeof(out));
		assert_true(n > 0);
		in += len;
		packed += (uint64_t)n;
		if ((double)n / len > *worst)
			*worst = (double)n / len;
	}
	return (double)packed / (double)in;
}

/* Text and json shrink to at most 60% at 1 KiB; random does not shrink. */
static void test_value_lz4(void **state)
{
	static const uint32_t lens[] = {512, 1024, 4096};

	(void)state;
	for (int k = 0; k < VK_KINDS; k++) {
		for (size_t l = 0; l < 3; l++) {
			double worst, ratio = vk_lz4_ratio(vk_kinds[k], lens[l], &worst);

			print_message("lz4 %-6s %4u B: %.1f%% of the input (worst value %.1f%%)\n",
				      vk_names[k], lens[l], 100 * ratio, 100 * worst);
			if (vk_kinds[k] == WORKLOAD_VALUE_RANDOM)
				assert_true(ratio > 0.99);
			else if (lens[l] == 1024)
				assert_true(worst <= 0.60);
		}
	}
}

static double vk_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other load does not count */
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What one 1 KiB value costs to generate and to verify (printed, not checked:
 * sanitizer builds are slower). */
static void test_value_cost(void **state)
{
	static uint8_t v[1024];
	const uint64_t n = 100000;

	(void)state;
	for (int k = 0; k < VK_KINDS; k++) {
		struct workload w;
		double t0, t1, t2;
		uint64_t sum = 0, ok = 0;

		vk_init(&w, vk_kinds[k], 1024, 1024);
		t0 = vk_now_s();
		for (uint64_t key = 0; key < n; key++) {
			workload_value(&w, key, 1, v);
			sum += v[key & 1023];
		}
		t1 = vk_now_s();
		for (uint64_t key = 0; key < n; key++) {
			workload_value(&w, key & 1023, 1, v);
			ok += workload_value_matches(&w, key & 1023, 1, v, 1024);
		}
		t2 = vk_now_s();
		assert_int_equal(ok, n);
		assert_true(sum > 0);
		print_message("%-6s 1 KiB: generate %.0f ns, generate + verify %.0f ns per value\n",
			      vk_names[k], (t1 - t0) / (double)n * 1e9,
			      (t2 - t1) / (double)n * 1e9);
	}
}

/* A kind beyond json is refused. */
static void test_value_kind_invalid(void **state)
{
	struct workload_config c = {
		.keys = 10, .key_size_min = 4, .key_size_max = 4, .value_size_min = 8,
		.value_size_max = 8, .value_kind = (enum workload_value_kind)3, .mix_get = 1,
	};
	struct workload w;
	const char *why = NULL;

	(void)state;
	assert_int_equal(workload_init(&w, &c, &why), -22);
	assert_non_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_random_unchanged),
		cmocka_unit_test(test_value_every_length),
		cmocka_unit_test(test_value_range),
		cmocka_unit_test(test_value_differs),
		cmocka_unit_test(test_value_json_shape),
		cmocka_unit_test(test_value_lz4),
		cmocka_unit_test(test_value_cost),
		cmocka_unit_test(test_value_kind_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
