/* shard.h - one lcore's key-value shard: hash index + item arena (no DPDK).
 *
 * A shard is owned by exactly one worker lcore: no locks, no allocation after
 * shard_init(), no system calls. Memory is handed in, so production gives
 * hugepage memory on the lcore's NUMA node and tests give aligned_alloc().
 *
 *   table.h  bucketised index: 64-byte buckets of 16-bit tag + 48-bit offset
 *   arena.h  item storage carved from the shard's memory, reused on free
 *   shard.c  get / put / delete over both, with burst prefetch helpers
 *
 * Item layout (arena.h draws it with byte offsets) carries, from day one,
 * original vs stored value length, tier, temperature and LSN, so the cache
 * tiers (compressed items), the WAL and region moves need no rewrite.
 *
 * Hashes come from keyhash.h; the caller hashes each key once and passes the
 * hash down.
 */
#ifndef SHARD_H
#define SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyhash.h"
#include "we_compiler.h"
#include "we_status.h"

struct shard_config {
	uint64_t capacity_items; /* index sized for this many items */
	uint64_t arena_bytes;    /* item storage (headers + keys + values) */
	/* Secret of the bucket/tag hash (keyhash.h); must outlive the shard.
	 * The data plane makes one random secret per process. Required. */
	const struct keyhash_secret *hash_secret;
};

struct shard_counters {
	uint64_t items;        /* live items */
	uint64_t arena_used_bytes;   /* bytes held by live items, rounding included */
	uint64_t arena_free_bytes;   /* bytes on free lists (reusable) */
	uint64_t arena_untouched_bytes; /* bytes not handed out (the arena's tail) */
	uint64_t arena_bytes;        /* total arena size */
	uint64_t index_bytes;        /* memory of the index */
	uint64_t overflow_buckets_used;
	uint64_t put_no_space;       /* PUTs refused: index or arena full */
};

/* Every field of struct shard_counters, for code that copies or prints them
 * field by field (the worker's gauges, the stats file). */
#define SHARD_COUNTER_FIELDS(X)                                                                    \
	X(items) X(arena_used_bytes) X(arena_free_bytes) X(arena_untouched_bytes) X(arena_bytes)   \
	X(index_bytes) X(overflow_buckets_used) X(put_no_space)
_Static_assert(sizeof(struct shard_counters) == 8 * sizeof(uint64_t),
	       "SHARD_COUNTER_FIELDS must list every field of struct shard_counters");

struct shard; /* opaque outside shard.c; size from shard_sizeof() */

size_t shard_sizeof(void);
/* Memory shard_init() needs for cfg (index + arena), 64-byte aligned; 0 for
 * a config shard_init() would refuse. */
size_t shard_memory_size(const struct shard_config *cfg);
/* s: shard_sizeof() bytes; mem: shard_memory_size(cfg) bytes, 64-byte aligned.
 * Returns 0 or -EINVAL for a config it cannot build (zero capacity, too large). */
int shard_init(struct shard *s, void *mem, size_t mem_bytes,
	       const struct shard_config *cfg) we_must_check;

/* The shard-local hash of a key (bucket and tag bits): keyhash_local()
 * under the shard's secret. */
uint64_t shard_hash(const struct shard *s, const uint8_t *key, uint8_t key_len);
const struct keyhash_secret *shard_hash_secret(const struct shard *s);

/* In every call below, hash is shard_hash(s, key, key_len) (NOT the public
 * keyhash(), which only chooses the region); verify builds check it. */

/* Burst helpers: prefetch the key's bucket (stage 1), then once the bucket is
 * in cache, prefetch the matching item (stage 2). Both are only hints. */
void shard_prefetch_bucket(const struct shard *s, uint64_t hash);
void shard_prefetch_item(const struct shard *s, uint64_t hash);
/* Both stages over a whole burst in one call: all buckets, then all items. */
void shard_prefetch_burst(const struct shard *s, const uint64_t *hashes, unsigned n);

/* On WE_STATUS_OK, *value and *value_len point at the value, valid until the next
 * put/delete on this shard (copy it out before). */
enum we_status shard_get(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t **value, uint32_t *value_len);
/* Insert or overwrite. lsn (< 2^48) is stored in the item (0 until the WAL
 * exists). WE_STATUS_NO_SPACE when the index or the arena is full; the old
 * value (if any) is then left untouched. WE_STATUS_VALUE_TOO_LARGE above
 * 16 MiB - 1 (ARENA_VALUE_MAX). */
enum we_status shard_put(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t *value, uint32_t value_len, uint64_t lsn);
enum we_status shard_delete(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len);

void shard_read_counters(const struct shard *s, struct shard_counters *out);
/* O(n) consistency check of index and arena; true when consistent. */
bool shard_check_invariants(const struct shard *s);

#endif
