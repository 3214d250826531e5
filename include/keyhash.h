/* keyhash.h - one 64-bit hash per key, carved into disjoint bit fields.
 *
 * The same split is used by the data plane, the client and the blaster, so a
 * client can compute which lcore owns a key:
 *
 *   hash   = XXH3_64bits(key, key_len)            (seed 0)
 *   region = hash mod WE_REGIONS                  (the low 12 bits)
 *   bucket = ((hash >> 16) & 0xffffffff) * nbuckets >> 32   (bits 16..47)
 *   tag    = hash >> 48, with 0 mapped to 1       (bits 48..63, never zero)
 *
 * Region, bucket and tag come from disjoint bits, so keys of one region spread
 * over all buckets, and a tag match inside a bucket is not implied by sharing
 * the bucket. The region -> lcore map is data (struct region_map), never a
 * compile-time formula, so that regions can move while requests flow.
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

static inline uint32_t keyhash_region(uint64_t hash)
{
	return (uint32_t)(hash & WE_REGION_MASK);
}

/* Bucket index in [0, nbuckets) by multiply-shift, so nbuckets need not be a
 * power of two and a table can be sized to its capacity. */
static inline uint32_t keyhash_bucket(uint64_t hash, uint32_t nbuckets)
{
	return (uint32_t)(((hash >> 16) & 0xffffffffu) * (uint64_t)nbuckets >> 32);
}

static inline uint16_t keyhash_tag(uint64_t hash)
{
	uint16_t tag = (uint16_t)(hash >> 48);
	return tag ? tag : 1;
}

#endif
