/* shard_test_util.h - helpers shared by the shard's tier tests
 * (test_shard_tier.c, test_shard_archive.c). Include after cmocka.h and
 * shard.h. */
#ifndef SHARD_TEST_UTIL_H
#define SHARD_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
