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
 *   shard_scan_step     shard.c  the items of the next whole chains (resumable scan)
 *   shard_scan_buckets  shard.c  chains a scan walks (progress: cursor / this)
 *   shard_scan_done     shard.c  whether a cursor has visited every chain
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

/*
 * Resumable scan (checkpoints, region moves, tier demotion walk a shard a
 * little at a time between bursts). The cursor is the next main bucket of
 * the index; a step visits whole bucket chains, so it survives any PUT and
 * DELETE between steps:
 *   - an item present when the scan starts and not deleted is visited
 *     exactly once (with its value as of that step, if overwritten);
 *   - a deleted item is not visited after its DELETE;
 *   - an item inserted (or deleted and inserted again) between steps is
 *     visited if its chain comes at or after the cursor, and not otherwise:
 *     the caller cannot tell which, so it must not count on either;
 *   - no key is visited twice in one scan.
 */
struct shard_scan {
	uint32_t bucket; /* next main bucket; 0 = start (zero-initialise) */
};

/* One item found by a scan. The pointers point into the arena and are valid
 * until the next PUT or DELETE on this shard: copy what must outlive it. */
struct shard_scan_item {
	const uint8_t *key;
	const uint8_t *value; /* stored bytes: the value itself in the raw tier */
	uint32_t stored_len;  /* bytes at value */
	uint32_t value_len;   /* the value's length as the client sent it */
	uint64_t lsn;         /* of the write that produced this value */
	uint16_t temperature;
	uint8_t key_len;
	uint8_t tier;         /* enum item_tier (arena.h) */
};

/* Smallest max_items a step accepts: the most items one chain holds
 * (TABLE_CHAIN_SLOTS_MAX, checked in shard.c). */
#define SHARD_SCAN_ITEMS_MIN 35u

/* Fills out with the items of the chains from cur on and moves cur past
 * them: at most max_chains chains (empty ones count), and only chains whose
 * items all fit in max_items (a chain is never split). Returns the number of
 * items (0 does not mean done: ask shard_scan_done), or -EINVAL, changing
 * nothing, for max_items < SHARD_SCAN_ITEMS_MIN, max_chains == 0 or a
 * cursor past the end. At the end it returns 0 and cur stays there. */
int shard_scan_step(const struct shard *s, struct shard_scan *cur, struct shard_scan_item *out,
		    unsigned max_items, unsigned max_chains) we_must_check;
/* Main buckets of the index: cur->bucket runs from 0 to this. */
uint32_t shard_scan_buckets(const struct shard *s);
bool shard_scan_done(const struct shard *s, const struct shard_scan *cur);

void shard_read_counters(const struct shard *s, struct shard_counters *out);

/*
 * The event horizon cache (shard_tier.c; docs/storage.md "Tiers"): an
 * item's value is raw (TIER_EVENT_HORIZON), LZ4-compressed
 * (TIER_PHOTON_SPHERE) or LZ4-HC-compressed (TIER_DEEP_CACHE). A GET
 * returns the value's bytes whatever the tier (a compressed one is
 * decompressed into the shard's scratch buffer, valid until the next
 * operation) and brings a compressed item back to raw when the arena has
 * room. shard_demote_step walks the shard a few chains at a time and
 * compresses items that have cooled (temperature.h) below the policy's
 * levels; values that do not compress stay raw.
 */
#define SHARD_TIER_VALUE_MAX (64u * 1024) /* larger values always stay raw */

struct shard_tier_counters {
	uint64_t items[4];        /* by enum item_tier */
	uint64_t stored_bytes[4]; /* value bytes as stored */
	uint64_t value_bytes[4];  /* value bytes as the client sent them */
	uint64_t hits[4];         /* GETs that found an item in each tier */
	uint64_t demotions[4];    /* items moved into each tier by demotion */
	uint64_t promotions;      /* compressed items made raw by a GET */
	uint64_t left_raw;        /* cold values found not to compress enough (each
				   * written value is tried once: item raw_only) */
	uint64_t evictions;       /* items deleted to make room (a PUT's, or evict_below) */
	uint64_t rejected;        /* new keys' PUTs a full cache declined (admission) */
};

struct shard_demote_policy {
	uint8_t warm_below; /* raw items cooler than this go to LZ4 */
	uint8_t cold_below; /* LZ4 items cooler than this go to LZ4-HC */
	uint8_t evict_below; /* items cooler than this are deleted (0: none; a cache only) */
	uint32_t max_chains;       /* chains visited per step */
	uint32_t max_input_bytes;  /* value bytes compressed per step (LZ4-HC counts 8x);
				    * checked between chains: a step ends the chain it began */
};

/* The cooling clock (temperature.h) has two sources: the caller's coarse
 * time (e.g. seconds / 4), set here, and the shard's own accesses: every
 * SHARD_COOL_ACCESSES_PER_ITEM accesses per item it holds (at least
 * SHARD_COOL_ITEMS_MIN items) count one tick more. So temperature measures
 * how often an item is used compared with the shard's other items, at any
 * request rate, and an idle shard still cools. */
#define SHARD_COOL_ACCESSES_PER_ITEM 8
#define SHARD_COOL_ITEMS_MIN 128
void shard_set_tick(struct shard *s, uint32_t time_tick);
/* The cooling clock now (what temperature_read takes). */
uint32_t shard_tick(const struct shard *s);
/* Whether GETs warm the items they read (on while the tiers run: a key
 * that is only read must not cool; off, a GET writes nothing). */
void shard_set_track_reads(struct shard *s, bool on);
/* A GET of a compressed item brings it back raw only when its level (after
 * the GET warmed it) is at least `level`: under memory pressure the worker
 * sets the level below which it demotes, so that the room its demotions free
 * does not go straight back to items it would demote again (0: always). */
void shard_set_promote_level(struct shard *s, uint8_t level);
/* A cache: a PUT that finds no room evicts the coldest of a few sampled
 * chains' items and tries again (a few times at most) before NO_SPACE.
 * Admission (freq_sketch.h): while on, every GET and PUT counts its key in
 * the shard's frequency sketch, and a new key's PUT that would evict an
 * item used more often lately is declined: answered OK (a cached write may
 * be evicted at any moment), not stored, counted in `rejected`. */
void shard_set_evict_on_put(struct shard *s, bool on);
void shard_read_tiers(const struct shard *s, struct shard_tier_counters *out);
/* One whole pass that compresses every raw item whose value compresses
 * (LZ4), and with `deep` every LZ4 item again with LZ4-HC, whatever their
 * temperature: how recovery fits a log or checkpoint written under the
 * tiers into the same memory (it loads values raw). Returns the items
 * moved down a tier. */
uint64_t shard_compress_all(struct shard *s, bool deep);
/* One demotion step from cur; returns items demoted, or -EINVAL. Done when
 * shard_scan_done(s, cur). Refreshes the temperature epoch of every item
 * it passes (temperature.h). */
int shard_demote_step(struct shard *s, struct shard_scan *cur, const struct shard_demote_policy *p);
/* The value of a scanned item as the client sent it: the stored bytes when
 * raw, else decompressed into the shard's scratch (valid until the next
 * call or operation). NULL only for damaged stored bytes. */
const uint8_t *shard_scan_value(struct shard *s, const struct shard_scan_item *it);
/* O(n) consistency check of index and arena; true when consistent. */
bool shard_check_invariants(const struct shard *s);

#endif
