/* test_workload.c - the workload draws ops in the asked proportions and keys
 * from the asked distribution, repeats under a seed, names keys and derives
 * values deterministically, and maps each key to the same worker port as the
 * data plane (keyhash.h + region_map.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "codec_native.h"
#include "keyhash.h"
#include "region_map.h"
#include "workload.h"

static struct workload_config wl_config(uint64_t seed)
{
	struct workload_config c = {
		.keys = 1000,
		.key_size_min = 16,
		.key_size_max = 16,
		.value_size_min = 32,
		.value_size_max = 32,
		.mix_get = 95,
		.mix_put = 5,
		.dist = WORKLOAD_DIST_UNIFORM,
		.seed = seed,
	};
	return c;
}

/* Op proportions match the mix within 5 standard deviations. */
static void test_workload_mix(void **state)
{
	static const double mixes[][3] = {{95, 5, 0}, {50, 50, 0}, {60, 30, 10}, {0, 0, 1},
					  {1, 0, 0}, {0.5, 0.25, 0.25}};
	uint64_t seed = blaster_test_seed("test_workload_mix");
	const int draws = 200000;

	(void)state;
	for (size_t m = 0; m < sizeof(mixes) / sizeof(mixes[0]); m++) {
		struct workload_config c = wl_config(seed + m);
		struct workload w;
		const char *why;
		uint64_t count[4] = {0};
		double total = mixes[m][0] + mixes[m][1] + mixes[m][2];

		c.mix_get = mixes[m][0];
		c.mix_put = mixes[m][1];
		c.mix_delete = mixes[m][2];
		assert_int_equal(workload_init(&w, &c, &why), 0);
		for (int i = 0; i < draws; i++) {
			struct workload_req req;

			workload_next(&w, &req);
			assert_true(req.op >= WORKLOAD_OP_GET && req.op <= WORKLOAD_OP_DELETE);
			assert_true(req.key < c.keys);
			count[req.op]++;
		}
		for (int op = 1; op <= 3; op++) {
			double p = mixes[m][op - 1] / total;
			double sd = sqrt(draws * p * (1 - p));

			if (p == 0)
				assert_int_equal(count[op], 0);
			else
				assert_true(fabs((double)count[op] - draws * p) <= 5 * sd + 1);
		}
	}
}

/* Uniform keys: every key of a small key space is drawn, evenly. */
static void test_workload_uniform_keys(void **state)
{
	struct workload_config c = wl_config(blaster_test_seed("test_workload_uniform_keys"));
	struct workload w;
	const char *why;
	uint64_t count[10] = {0};
	const int draws = 100000;

	(void)state;
	c.keys = 10;
	c.key_size_min = c.key_size_max = 4;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	for (int i = 0; i < draws; i++) {
		struct workload_req req;

		workload_next(&w, &req);
		count[req.key]++;
	}
	for (int k = 0; k < 10; k++)
		assert_true(fabs((double)count[k] - draws / 10.0) < 5 * sqrt(draws * 0.09));
}

/* The same seed repeats the run exactly; another seed does not. */
static void test_workload_deterministic(void **state)
{
	struct workload_config c = wl_config(99);
	struct workload a, b, d;
	const char *why;
	int differ = 0;

	(void)state;
	c.dist = WORKLOAD_DIST_ZIPF;
	c.zipf_theta = 0.99;
	c.mix_delete = 3;
	assert_int_equal(workload_init(&a, &c, &why), 0);
	assert_int_equal(workload_init(&b, &c, &why), 0);
	c.seed = 100;
	assert_int_equal(workload_init(&d, &c, &why), 0);
	for (int i = 0; i < 10000; i++) {
		struct workload_req x, y, z;

		workload_next(&a, &x);
		workload_next(&b, &y);
		workload_next(&d, &z);
		assert_int_equal(x.op, y.op);
		assert_int_equal(x.key, y.key);
		differ += x.key != z.key || x.op != z.op;
	}
	assert_true(differ > 1000);
}

/* Keys are "k" + the zero-padded index, unique, at the configured length;
 * with a range every length is used and a key's length never changes. */
static void test_workload_keys(void **state)
{
	struct workload_config c = wl_config(1);
	struct workload w;
	const char *why;
	uint8_t key[WORKLOAD_KEY_MAX + 1], again[WORKLOAD_KEY_MAX];
	bool seen_len[21] = {false};

	(void)state;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	assert_int_equal(workload_key(&w, 42, key), 16);
	key[16] = 0;
	assert_string_equal((char *)key, "k000000000000042");
	assert_int_equal(workload_key(&w, 999, key), 16);
	key[16] = 0;
	assert_string_equal((char *)key, "k000000000000999");

	c.key_size_min = 5;
	c.key_size_max = 20;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	for (uint64_t i = 0; i < 1000; i++) {
		uint32_t len = workload_key(&w, i, key);
		uint64_t parsed = 0;

		assert_true(len >= 5 && len <= 20);
		assert_int_equal(workload_key(&w, i, again), len);
		assert_memory_equal(key, again, len);
		seen_len[len] = true;
		assert_int_equal(key[0], 'k');
		for (uint32_t j = 1; j < len; j++)
			parsed = parsed * 10 + (uint64_t)(key[j] - '0');
		assert_int_equal(parsed, i); /* distinct indexes, distinct keys */
	}
	for (int len = 5; len <= 20; len++)
		assert_true(seen_len[len]);
}

/* A value is a pure function of (index, version): regenerated equal,
 * different across versions and keys, and recognised by value_matches. */
static void test_workload_values(void **state)
{
	struct workload_config c = wl_config(1);
	struct workload w;
	const char *why;
	uint8_t v1[64], v2[64];
	uint32_t n1, n2;

	(void)state;
	c.value_size_min = 1;
	c.value_size_max = 64;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	for (uint64_t k = 0; k < 200; k++) {
		for (uint16_t ver = 0; ver < 5; ver++) {
			n1 = workload_value(&w, k, ver, v1);
			n2 = workload_value(&w, k, ver, v2);
			assert_int_equal(n1, n2);
			assert_true(n1 >= 1 && n1 <= 64);
			assert_memory_equal(v1, v2, n1);
			assert_true(workload_value_matches(&w, k, ver, v1, n1));
			v1[n1 - 1] ^= 1;
			assert_false(workload_value_matches(&w, k, ver, v1, n1));
			v1[n1 - 1] ^= 1;
			assert_false(workload_value_matches(&w, k, ver, v1, n1 - 1));
			for (uint32_t i = 0; i < n1; i++)
				assert_true(v1[i] > ' ' && v1[i] < 0x7f);
		}
	}
	/* Different versions of one key differ (fixed length, so by content). */
	c.value_size_min = c.value_size_max = 32;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	n1 = workload_value(&w, 5, 1, v1);
	assert_false(workload_value_matches(&w, 5, 2, v1, n1));
	assert_false(workload_value_matches(&w, 6, 1, v1, n1));
}

/* The worker a request goes to is the data plane's owner of the key: the
 * region from XXH3 of the key's bytes (keyhash.h), the owner from the
 * default region map (region r -> worker r mod N). Checked against the
 * formula written out independently here. */
static void test_workload_key_to_port(void **state)
{
	struct workload_config c = wl_config(1);
	struct workload w;
	const char *why;
	uint8_t key[WORKLOAD_KEY_MAX];
	static struct region_map map;
	unsigned per_worker[7] = {0};

	(void)state;
	c.keys = 100000;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	region_map_init_default(&map, 7);
	for (uint64_t i = 0; i < c.keys; i++) {
		uint32_t len = workload_key(&w, i, key);
		uint64_t h = XXH3_64bits(key, len);
		uint16_t expect = (uint16_t)((h & (WE_REGIONS - 1)) % 7);
		uint16_t got = codec_native_worker(&map, key, len);

		assert_int_equal(got, expect);
		assert_int_equal(got, region_map_owner(&map, keyhash_region(keyhash(key, len))));
		per_worker[got]++;
	}
	/* And keys spread over all workers. */
	for (int i = 0; i < 7; i++)
		assert_true(per_worker[i] > c.keys / 7 * 9 / 10);
	/* A moved region follows the map, not a formula. */
	{
		uint32_t len = workload_key(&w, 0, key);
		uint32_t region = keyhash_region(keyhash(key, len));

		region_map_set_owner(&map, region, 6);
		assert_int_equal(codec_native_worker(&map, key, len), 6);
	}
}

/* The preload plan is every key once, in order, as PUTs. */
static void test_workload_preload(void **state)
{
	struct workload_config c = wl_config(1);
	struct workload w;
	struct workload_preload p;
	struct workload_req req;
	const char *why;
	uint64_t n = 0;

	(void)state;
	c.keys = 777;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	workload_preload_init(&w, &p);
	while (workload_preload_next(&p, &req)) {
		assert_int_equal(req.op, WORKLOAD_OP_PUT);
		assert_int_equal(req.key, n);
		n++;
	}
	assert_int_equal(n, 777);
	assert_false(workload_preload_next(&p, &req));
}

/* Bad configurations are refused with a reason. */
static void test_workload_invalid(void **state)
{
	struct workload_config c;
	struct workload w;
	const char *why = NULL;

	(void)state;
	c = wl_config(1);
	c.keys = 0;
	assert_int_equal(workload_init(&w, &c, &why), -22);
	assert_non_null(why);
	c = wl_config(1);
	c.keys = 1000000;
	c.key_size_min = c.key_size_max = 6; /* needs 'k' + 6 digits */
	assert_int_equal(workload_init(&w, &c, &why), -22);
	c.key_size_min = c.key_size_max = 7;
	assert_int_equal(workload_init(&w, &c, &why), 0);
	c = wl_config(1);
	c.mix_get = c.mix_put = c.mix_delete = 0;
	assert_int_equal(workload_init(&w, &c, &why), -22);
	c = wl_config(1);
	c.mix_put = -1;
	assert_int_equal(workload_init(&w, &c, &why), -22);
	c = wl_config(1);
	c.value_size_min = 10;
	c.value_size_max = 9;
	assert_int_equal(workload_init(&w, &c, &why), -22);
	c = wl_config(1);
	c.dist = WORKLOAD_DIST_ZIPF;
	c.zipf_theta = 7;
	assert_int_equal(workload_init(&w, &c, &why), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workload_mix),
		cmocka_unit_test(test_workload_uniform_keys),
		cmocka_unit_test(test_workload_deterministic),
		cmocka_unit_test(test_workload_keys),
		cmocka_unit_test(test_workload_values),
		cmocka_unit_test(test_workload_key_to_port),
		cmocka_unit_test(test_workload_preload),
		cmocka_unit_test(test_workload_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
