/* keyhash.h - the two hashes of a key: public (region) and secret (bucket).
 *
 * The public hash is shared by the data plane, the client and the blaster,
 * so a client can compute which lcore owns a key:
 *
 *   hash   = XXH3_64bits(key, key_len)            (seed 0)
 *   region = hash mod WE_REGIONS                  (the low 12 bits)
 *
 * Inside a shard the bucket and the tag come from a second, keyed hash whose
 * secret is random per process (keyhash_secret_init, at start):
 *
 *   local  = XXH3_64bits_withSecret(key, key_len, secret[192])
 *   bucket = ((local >> 16) & 0xffffffff) * nbuckets >> 32   (bits 16..47)
 *   tag    = local >> 56, with 0 mapped to 1       (bits 56..63, never zero)
 *   second bucket: bits 0..15 (table_second_index, dataplane/table.h)
 *
 * Why two: anyone can search offline for keys whose public hash lands in one
 * bucket (the public XXH3 with its published default secret even has
 * structural multi-collisions for keys over 16 bytes) and pile them into one
 * chain, turning a 3 ns miss into tens of microseconds and starving the
 * overflow pool. With an unknown secret there is nothing to search against,
 * so such a flood spreads over all buckets like any other keys. The region
 * stays public because clients steer with it; a region holds thousands of
 * buckets, so concentrating keys in one region only loads that region's
 * worker, which the control plane can see and move.
 *
 * The region -> lcore map is data (struct region_map), never a compile-time
 * formula, so that regions can move while requests flow.
 */
#ifndef KEYHASH_H
#define KEYHASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define WE_REGIONS 4096u /* regions the key space is cut into; a power of two */
#define WE_REGION_MASK (WE_REGIONS - 1)
_Static_assert((WE_REGIONS & (WE_REGIONS - 1)) == 0, "WE_REGIONS must be a power of two");

static inline uint64_t keyhash(const void *key, size_t key_len)
{
	return XXH3_64bits(key, key_len);
}

/* The secret of the shard-local hash: 192 random bytes (XXH3's own secret
 * size; xxHash asks for at least XXH3_SECRET_SIZE_MIN of high entropy). */
#define KEYHASH_SECRET_SIZE 192
_Static_assert(KEYHASH_SECRET_SIZE >= XXH3_SECRET_SIZE_MIN, "XXH3 secret size");

struct keyhash_secret {
	uint8_t bytes[KEYHASH_SECRET_SIZE];
};

/* Fill s from the kernel's random source (lib/keyhash.c). 0 or -errno. */
int keyhash_secret_init(struct keyhash_secret *s);
/* Fill s deterministically from seed, for tests and tools that want the same
 * bucket layout on every run. Never for a server facing a network. */
void keyhash_secret_from_seed(struct keyhash_secret *s, uint64_t seed);

/* The shard-local hash: bucket and tag bits. */
static inline uint64_t keyhash_local(const struct keyhash_secret *s, const void *key,
				     size_t key_len)
{
	return XXH3_64bits_withSecret(key, key_len, s->bytes, sizeof(s->bytes));
}

static inline uint32_t keyhash_region(uint64_t hash)
{
	return (uint32_t)(hash & WE_REGION_MASK);
}

/* Bucket index (from the local hash) in [0, nbuckets) by multiply-shift, so nbuckets need not be a
 * power of two and a table can be sized to its capacity. */
static inline uint32_t keyhash_bucket(uint64_t hash, uint32_t nbuckets)
{
	return (uint32_t)(((hash >> 16) & 0xffffffffu) * (uint64_t)nbuckets >> 32);
}

#endif
