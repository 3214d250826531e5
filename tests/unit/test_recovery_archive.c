/* test_recovery_archive.c - recovery with the disk tier
 * (dataplane/recovery_load.c, recovery_apply with target.archives): a small
 * shard loaded with four times what its arena holds, in values that do not
 * compress, writes items to its worker's archive file (the fake disk) and
 * keeps stubs instead of refusing: every record applies, every key reads
 * back its exact value from memory or from the file by its stub's
 * reference, a DELETE and an overwrite of an archived key behave, and the
 * same load without archive files fails with -ENOSPC and a sentence. */
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
#include "archive_space.h"
#include "arena.h"
#include "disk_fake.h"
#include "keyhash.h"
#include "recovery_load.h"
#include "region_map.h"
#include "shard.h"
#include "wal_record.h"
#include "we_test.h"

#define DATA "dd"
#define ARENA (256u * 1024)
#define VLEN 512u
#define KEYS (4u * ARENA / VLEN) /* four arenas of values */

static struct keyhash_secret secret;

struct fixture {
	struct shard *s;
	void *mem;
	struct region_map map;
	struct disk_fake *f;
	struct archive_file af;
	struct archive_file *afp[1];
	struct archive_space *spp[1];
	uint64_t archived[1];
	struct recovery_target t;
	uint64_t version[KEYS]; /* the LSN of key i's value; 0: absent */
	uint64_t lsn;
};

static void fixture_init(struct fixture *x, bool archives, uint64_t limit)
{
	struct shard_config cfg = {.capacity_items = 2 * KEYS, .arena_bytes = ARENA,
				   .hash_secret = &secret};
	size_t bytes = shard_memory_size(&cfg);

	memset(x, 0, sizeof(*x));
	assert_int_equal(keyhash_secret_init(&secret), 0);
	x->s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	x->mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	assert_non_null(x->s);
	assert_non_null(x->mem);
	assert_int_equal(shard_init(x->s, x->mem, bytes, &cfg), 0);
	region_map_init_default(&x->map, 1);
	x->t = (struct recovery_target){.shards = &x->s, .n = 1, .map = &x->map};
	if (archives) {
		x->f = disk_fake_create();
		assert_non_null(x->f);
		assert_int_equal(disk_mkdir(disk_fake_disk(x->f), DATA), 0);
		assert_int_equal(archive_file_create(&x->af, disk_fake_disk(x->f), DATA, 0, limit),
				 0);
		x->afp[0] = &x->af;
		x->spp[0] = archive_space_create(limit);
		assert_non_null(x->spp[0]);
		shard_set_archive_space(x->s, x->spp[0]);
		x->t.archives = x->afp;
		x->t.spaces = x->spp;
		x->t.archived = x->archived;
	}
}

static void fixture_free(struct fixture *x)
{
	if (x->f != NULL) {
		archive_file_close(&x->af);
		disk_fake_destroy(x->f);
		archive_space_destroy(x->spp[0]);
	}
	free(x->mem);
	free(x->s);
}

static uint8_t key_of(uint32_t i, char *key)
{
	return (uint8_t)snprintf(key, 32, "rk-%u", i);
}

/* The value an LSN writes: 512 bytes that do not compress. */
static void value_of(uint64_t lsn, uint8_t *v)
{
	uint64_t r = lsn * 0x9e3779b97f4a7c15ull + 1;

	for (uint32_t j = 0; j < VLEN; j++)
		v[j] = (uint8_t)(we_test_rand(&r) >> 32);
}

static struct wal_record record(uint8_t type, uint32_t i, uint64_t lsn, char *key,
				uint8_t *value)
{
	struct wal_record r = {.type = type, .lsn = lsn, .key = key, .value = value};

	r.key_len = key_of(i, key);
	r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
	if (type == WAL_REC_PUT) {
		value_of(lsn, value);
		r.value_len = VLEN;
	}
	return r;
}

static int apply_put(struct fixture *x, uint32_t i, char *err, size_t err_len)
{
	char key[32];
	uint8_t value[VLEN];
	struct wal_record r = record(WAL_REC_PUT, i, ++x->lsn, key, value);
	int rc = recovery_apply(&x->t, &r, err, err_len);

	if (rc == 0)
		x->version[i] = r.lsn;
	return rc;
}

static void apply_delete(struct fixture *x, uint32_t i)
{
	char key[32], err[512];
	struct wal_record r = record(WAL_REC_DELETE, i, ++x->lsn, key, NULL);

	assert_int_equal(recovery_apply(&x->t, &r, err, sizeof(err)), 0);
	x->version[i] = 0;
}

/* Every key holds what the model says: its value in memory, or a stub whose
 * record holds exactly its value and LSN. Returns the stubs. */
static uint64_t check_all(struct fixture *x)
{
	static uint8_t record_buf[ARCHIVE_RECORD_BYTES_MAX], value_buf[ARCHIVE_VALUE_MAX];
	uint8_t want[VLEN];
	uint64_t stubs = 0, present = 0;
	struct shard_counters c;
	struct shard_tier_counters tc;

	for (uint32_t i = 0; i < KEYS; i++) {
		char key[32];
		uint8_t kl = key_of(i, key);
		const uint8_t *v;
		uint32_t vl;
		enum we_status st = shard_get(x->s, shard_hash(x->s, (const uint8_t *)key, kl),
					      (const uint8_t *)key, kl, &v, &vl);

		if (x->version[i] == 0) {
			assert_int_equal(st, WE_STATUS_NOT_FOUND);
			continue;
		}
		present++;
		value_of(x->version[i], want);
		assert_int_equal(vl, VLEN);
		if (st == SHARD_STATUS_ARCHIVED) {
			struct shard_archive_ref sref;
			struct archive_ref ref;
			struct archive_record rec;
			const uint8_t *got;
			uint32_t got_len = 0;

			assert_non_null(x->f);
			memcpy(&sref, v, sizeof(sref));
			ref = (struct archive_ref){.offset = sref.offset, .bytes = sref.bytes,
						   .check = sref.check};
			assert_int_equal(archive_file_read_value(&x->af, &ref, (const uint8_t *)key, kl,
								 record_buf, value_buf, &got,
								 &got_len),
					 0);
			assert_int_equal(got_len, VLEN);
			assert_memory_equal(got, want, VLEN);
			assert_int_equal(archive_record_decode(record_buf, ref.bytes, &ref,
							       (const uint8_t *)key, kl, &rec),
					 0);
			/* the LSN of the record recovery was applying: at or after
			 * the value's own */
			assert_true(rec.lsn >= x->version[i]);
			stubs++;
		} else {
			assert_int_equal(st, WE_STATUS_OK);
			assert_memory_equal(v, want, VLEN);
		}
	}
	shard_read_counters(x->s, &c);
	assert_int_equal(c.items, present);
	shard_read_tiers(x->s, &tc);
	assert_int_equal(tc.items[TIER_SINGULARITY], stubs);
	if (x->spp[0] != NULL) {
		struct archive_space_stats ss;

		/* The segments count exactly the records the stubs name. */
		archive_space_stats_get(x->spp[0], &ss);
		assert_int_equal(ss.live_bytes, tc.stored_bytes[TIER_SINGULARITY]);
	}
	assert_true(shard_check_invariants(x->s));
	return stubs;
}

static void test_archives_to_fit(void **state)
{
	static struct fixture x;
	char err[512];
	uint64_t stubs, archived_before;
	uint32_t del = KEYS, over = KEYS;

	(void)state;
	fixture_init(&x, true, 0);
	for (uint32_t i = 0; i < KEYS; i++) {
		err[0] = '\0';
		if (apply_put(&x, i, err, sizeof(err)) != 0)
			fail_msg("PUT %u of %u: %s", i, KEYS, err);
	}
	assert_true(x.archived[0] > 0);
	assert_true(x.af.end > 0);
	stubs = check_all(&x);
	/* Most values are on disk: the arena holds a quarter of them. */
	assert_true(stubs >= KEYS / 2);
	assert_true(x.archived[0] >= stubs);

	/* A DELETE and an overwrite of archived keys. */
	for (uint32_t i = 0; i < KEYS && (del == KEYS || over == KEYS); i++) {
		char key[32];
		uint8_t kl = key_of(i, key);
		const uint8_t *v;
		uint32_t vl;

		if (shard_get(x.s, shard_hash(x.s, (const uint8_t *)key, kl), (const uint8_t *)key,
			      kl, &v, &vl) != SHARD_STATUS_ARCHIVED)
			continue;
		if (del == KEYS)
			del = i;
		else
			over = i;
	}
	assert_true(del < KEYS && over < KEYS);
	apply_delete(&x, del);
	archived_before = x.archived[0];
	assert_int_equal(apply_put(&x, over, err, sizeof(err)), 0);
	{
		char key[32];
		uint8_t kl = key_of(over, key), want[VLEN];
		const uint8_t *v;
		uint32_t vl;
		enum we_status st = shard_get(x.s, shard_hash(x.s, (const uint8_t *)key, kl),
					      (const uint8_t *)key, kl, &v, &vl);

		/* In memory, unless that PUT had to archive to find room. */
		if (x.archived[0] == archived_before) {
			assert_int_equal(st, WE_STATUS_OK);
			value_of(x.version[over], want);
			assert_memory_equal(v, want, VLEN);
		}
	}
	check_all(&x);

	/* The next pass over every key: overwrites of stubs and of items in
	 * memory alike, still every one applied. */
	for (uint32_t i = 0; i < KEYS; i += 3) {
		if (apply_put(&x, i, err, sizeof(err)) != 0)
			fail_msg("overwrite %u: %s", i, err);
	}
	check_all(&x);
	fixture_free(&x);
}

/* A file of four segments takes many times its size over a recovery that
 * keeps overwriting archived keys: the segments whose records all died are
 * written again (nothing reads during recovery). */
static void test_reuses_dead_segments(void **state)
{
	static struct fixture x;
	struct archive_space_stats ss;
	char err[512];
	uint64_t written = 0;

	(void)state;
	fixture_init(&x, true, 4u << 20);
	for (uint32_t pass = 0; pass < 12; pass++) {
		for (uint32_t i = 0; i < KEYS; i++) {
			err[0] = '\0';
			if (apply_put(&x, i, err, sizeof(err)) != 0)
				fail_msg("pass %u, PUT %u: %s", pass, i, err);
		}
		check_all(&x);
	}
	archive_space_stats_get(x.spp[0], &ss);
	written = ss.batch_bytes;
	assert_true(written > 2 * (4u << 20)); /* the file was written over at least twice */
	assert_true(ss.reclaimed >= 2);
	assert_true(ss.reopened >= 2);
	assert_true(x.af.end <= 4u << 20);
	fixture_free(&x);
}

static void test_no_archives_refuses(void **state)
{
	static struct fixture x;
	char err[512];
	uint32_t i;
	int rc = 0;

	(void)state;
	fixture_init(&x, false, 0);
	for (i = 0; i < KEYS; i++) {
		err[0] = '\0';
		rc = apply_put(&x, i, err, sizeof(err));
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(i > 0 && i < KEYS / 2);
	assert_non_null(strstr(err, "refused a PUT"));
	assert_non_null(strstr(err, "worker 0"));
	check_all(&x);
	fixture_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archives_to_fit),
		cmocka_unit_test(test_reuses_dead_segments),
		cmocka_unit_test(test_no_archives_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
