/* test_region_map_store.c - the region map file of the data directory
 * (storage/region_map_store.c) and recovery's epoch rule
 * (dataplane/recovery_load.c: recovery_apply_logged): a save read back is
 * the same map; an absent file is no error; damaged files are refused
 * naming the file and the key; a log record applies only under its
 * region's current epoch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "keyhash.h"
#include "recovery_load.h"
#include "region_map_store.h"

static char dir[64];

static int setup(void **state)
{
	char sub[96];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/we-rms.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/configuration", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, REGION_MAP_STORE_FILE);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_roundtrip_and_absent(void **state)
{
	static struct region_map_state s, back;
	struct datadir dd;
	char err[256] = "";
	bool found = true;

	(void)state;
	assert_int_equal(region_map_store_load(dir, &back, &found, err, sizeof(err)), 0);
	assert_false(found);
	memset(&dd, 0, sizeof(dd));
	snprintf(dd.path, sizeof(dd.path), "%s", dir);
	s.n_workers = 3;
	s.map_epoch = 77;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		s.r[r].owner = (uint16_t)((r * 5) % 3);
		s.r[r].epoch = (uint16_t)(r % 11);
	}
	s.r[9] = (struct region_record){.owner = 2, .epoch = 3, .moved_worker = 2,
					.moved_generation = 4, .moved_first_lsn = 100,
					.moved_last_lsn = 250};
	assert_int_equal(region_map_store_save(&dd, &s, err, sizeof(err)), 0);
	assert_int_equal(region_map_store_load(dir, &back, &found, err, sizeof(err)), 0);
	assert_true(found);
	assert_memory_equal(&s, &back, sizeof(s));
}

static void expect_refused(const char *text, const char *needle)
{
	static struct region_map_state s;
	char err[256] = "";
	bool found;

	write_file(text);
	assert_int_equal(region_map_store_load(dir, &s, &found, err, sizeof(err)), -EINVAL);
	assert_false(found);
	if (strstr(err, needle) == NULL || strstr(err, REGION_MAP_STORE_FILE) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or the file name", err, needle);
}

static void test_damaged(void **state)
{
	(void)state;
	expect_refused("{\"format\": 1, \"workers\": 2", "line");
	expect_refused("{\"format\": 2}", "format");
	expect_refused("{\"format\": 1, \"workers\": 0, \"map_epoch\": 0}", "workers");
	expect_refused("{\"format\": 1, \"workers\": 2, \"map_epoch\": 0, \"owner\": [0, 1]}",
		       "owner");
}

/* Owner 2 in a map of 2 workers, and a bad moved entry. */
static void test_values_checked(void **state)
{
	size_t cap = 64 * 1024;
	char *t = malloc(cap);
	size_t n;

	(void)state;
	assert_non_null(t);
	n = (size_t)snprintf(t, cap, "{\"format\": 1, \"workers\": 2, \"map_epoch\": 1, \"owner\": [");
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		n += (size_t)snprintf(t + n, cap - n, "%s%u", r ? "," : "", r == 7 ? 2 : 0);
	n += (size_t)snprintf(t + n, cap - n, "], \"epoch\": [");
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		n += (size_t)snprintf(t + n, cap - n, "%s0", r ? "," : "");
	snprintf(t + n, cap - n, "], \"moved\": []}");
	expect_refused(t, "owner[7]");
	strstr(t, "[0,0,0,0,0,0,0,2")[15] = '0';
	strcpy(strstr(t, "\"moved\": []"), "\"moved\": [[1,0,0,5,4]]}");
	expect_refused(t, "moved[0]");
	free(t);
}

/* The epoch rule of recovery. */
static void test_apply_logged_epochs(void **state)
{
	static struct keyhash_secret secret;
	struct shard_config cfg = {.capacity_items = 64, .arena_bytes = 1u << 20,
				   .hash_secret = &secret};
	size_t bytes = shard_memory_size(&cfg);
	struct shard *sh = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	void *mem = aligned_alloc(64, bytes);
	static struct region_map map;
	static uint16_t seen[WE_REGIONS];
	uint64_t other = 0;
	struct shard *shards[1] = {sh};
	struct recovery_target t = {.shards = shards, .n = 1, .map = &map, .epoch_seen = seen,
				    .other_epoch = &other};
	const char *key = "epoch-key";
	uint32_t region = keyhash_region(keyhash(key, 9));
	struct wal_record rec = {.type = WAL_REC_PUT, .region = (uint16_t)region, .key = key,
				 .key_len = 9, .value = "old", .value_len = 3, .lsn = 5};
	const uint8_t *v;
	uint32_t vl;
	char err[128];

	(void)state;
	assert_int_equal(keyhash_secret_init(&secret), 0);
	assert_int_equal(shard_init(sh, mem, bytes, &cfg), 0);
	region_map_init_default(&map, 1);
	map.epoch[region] = 2;
	/* the old owner's record (epoch 1) after the copy (epoch 2): passed over */
	rec.epoch = 2;
	rec.value = "new";
	assert_int_equal(recovery_apply_logged(&t, &rec, err, sizeof(err)), 0);
	rec.epoch = 1;
	rec.value = "old";
	assert_int_equal(recovery_apply_logged(&t, &rec, err, sizeof(err)), 0);
	/* an unfinished later move's copy (epoch 3): passed over, but seen */
	rec.epoch = 3;
	rec.value = "bad";
	assert_int_equal(recovery_apply_logged(&t, &rec, err, sizeof(err)), 0);
	assert_int_equal(other, 2);
	assert_int_equal(seen[region], 3);
	assert_int_equal(shard_get(sh, shard_hash(sh, (const uint8_t *)key, 9), (const uint8_t *)key, 9,
				   &v, &vl),
			 WE_STATUS_OK);
	assert_memory_equal(v, "new", 3);
	free(sh);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_and_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_checked, setup, teardown),
		cmocka_unit_test(test_apply_logged_epochs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
