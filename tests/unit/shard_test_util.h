/* shard_test_util.h - helpers shared by the shard's tier and compaction
 * tests (test_shard_tier.c, test_shard_archive.c, test_shard_compact.c).
 * Include after cmocka.h, keyhash.h and shard.h. */
#ifndef SHARD_TEST_UTIL_H
#define SHARD_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tier_codec.h"

/* Set by a test's main for its second run of the group: every shard
 * shard_test_new makes then compresses against a tier dictionary
 * (tier_codec.h), sampled from its first compressed values. The last one
 * made stays in shard_test_dict until the next. */
static bool shard_test_use_dict;
static struct tier_dict *shard_test_dict;

/* An empty shard over fresh 64-byte-aligned memory, with a new random hash
 * secret: the shard in *s, its memory in *mem (the caller frees both). */
static inline void shard_test_new(struct shard **s, void **mem, struct keyhash_secret *secret,
				  uint64_t capacity, uint64_t arena_bytes)
{
	struct shard_config cfg = {.capacity_items = capacity, .arena_bytes = arena_bytes,
				   .hash_secret = secret};
	size_t bytes = shard_memory_size(&cfg);

	assert_int_equal(keyhash_secret_init(secret), 0);
	*s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	*mem = aligned_alloc(64, bytes);
	assert_int_equal(shard_init(*s, *mem, bytes, &cfg), 0);
	tier_dict_destroy(shard_test_dict);
	shard_test_dict = NULL;
	if (shard_test_use_dict) {
		shard_test_dict = tier_dict_create();
		assert_non_null(shard_test_dict);
		shard_set_dict(*s, shard_test_dict);
	}
}

/* The group twice: values compressed alone, then against a dictionary. */
static inline int shard_test_run_both(const struct CMUnitTest *tests, size_t n)
{
	int failed = _cmocka_run_group_tests("alone", tests, n, NULL, NULL);

	shard_test_use_dict = true;
	failed += _cmocka_run_group_tests("with a tier dictionary", tests, n, NULL, NULL);
	tier_dict_destroy(shard_test_dict);
	shard_test_dict = NULL;
	return failed;
}

/* A whole scan of s for the item holding key: its scan copy in *found and
 * true, or false when the key is absent. */
static inline bool shard_test_scan_find(struct shard *s, const char *key, uint8_t key_len,
					struct shard_scan_item *found)
{
	struct shard_scan_item out[SHARD_SCAN_ITEMS_MIN];
	struct shard_scan cur = {0};

	while (!shard_scan_done(s, &cur)) {
		int n = shard_scan_step(s, &cur, out, SHARD_SCAN_ITEMS_MIN, 64);

		assert_true(n >= 0);
		for (int j = 0; j < n; j++)
			if (out[j].key_len == key_len && memcmp(out[j].key, key, key_len) == 0) {
				*found = out[j];
				return true;
			}
	}
	return false;
}

#endif
