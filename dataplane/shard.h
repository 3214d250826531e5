/* shard.h - one lcore's key-value shard: hash index + item arena (no DPDK).
 *
 * A shard is owned by exactly one worker lcore: no locks, no allocation after
 * shard_init(), no system calls. Memory is handed in, so production gives
 * hugepage memory on the lcore's NUMA node and tests give aligned_alloc().
 *
 *   table.h  bucketised index: 64-byte buckets of 12 slots (8-bit tag, 32-bit offset)
 *   arena.h  item storage carved from the shard's memory, reused on free
 *   shard.c  get / put / delete over both, with burst prefetch helpers
 *
 *   shard_scan_step     shard.c  the items of the next whole chains (resumable scan)
 *   shard_scan_buckets  shard.c  chains a scan walks (progress: cursor / this)
 *   shard_scan_done     shard.c  whether a cursor has visited every chain
 *   shard_scan_chain_of shard.c  the chain a scan visits a key in
 *
 *   shard_archive_step     shard_tier.c  cold items to copy to the disk tier
 *   shard_archive_commit   shard_tier.c  an item copied out becomes a stub
 *   shard_archive_restore  shard_tier.c  a stub's record read back becomes the item
 *   shard_scan_archive_ref shard_tier.c  the reference a scanned stub holds
 *   shard_archive_repoint  shard_tier.c  a stub names its record's copy (the cleaner)
 *   shard_set_archive_space shard_tier.c the archive's segments count every stub's record
 *   shard_set_dict          shard_tier.c the tiers compress against a dictionary
 *   shard_dict_view         shard_tier.c that dictionary once built
 *
 * Item layout (arena.h draws it with byte offsets): an 8-byte header of
 * original and stored value length, key length, temperature and tier, then
 * key and stored value. No LSN per item (arena.h says why).
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
	uint64_t arena_free_large_bytes; /* of them, in blocks of 2 KiB or more */
	uint64_t arena_untouched_bytes; /* bytes not handed out (the arena's tail) */
	uint64_t arena_bytes;        /* total arena size */
	uint64_t index_bytes;        /* memory of the index */
	uint64_t overflow_buckets_used;
	uint64_t put_no_space;       /* PUTs refused: index or arena full */
	uint64_t compact_moves;      /* items moved by compaction (shard_compact_step) */
};

/* Every field of struct shard_counters, for code that copies or prints them
 * field by field (the worker's gauges, the stats file). */
#define SHARD_COUNTER_FIELDS(X)                                                                    \
	X(items) X(arena_used_bytes) X(arena_free_bytes) X(arena_free_large_bytes)                 \
	X(arena_untouched_bytes) X(arena_bytes) X(index_bytes) X(overflow_buckets_used)          \
	X(put_no_space) X(compact_moves)
_Static_assert(sizeof(struct shard_counters) == 10 * sizeof(uint64_t),
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

/* Where an archived item's record lies (the worker's archive file): what a
 * stub holds in place of the value, 16 bytes. Same layout as the storage
 * library's struct archive_ref (offset u64, bytes u32, check u32); the shard
 * does not interpret it, but counts `bytes` as the stub's stored bytes. */
struct shard_archive_ref {
	uint64_t offset;
	uint32_t bytes;
	uint32_t check;
};
_Static_assert(sizeof(struct shard_archive_ref) == 16, "a stub stores 16 bytes");

/* Not a wire status: shard_get's "the value is in the disk tier". */
#define SHARD_STATUS_ARCHIVED ((enum we_status)255)

/* On WE_STATUS_OK, *value and *value_len point at the value, valid until the next
 * put/delete on this shard (copy it out before). On SHARD_STATUS_ARCHIVED
 * (the item is a stub, TIER_SINGULARITY), *value points at the stub's 16
 * bytes of struct shard_archive_ref, not aligned (memcpy them out), and
 * *value_len is the value's length as the client sent it. */
enum we_status shard_get(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t **value, uint32_t *value_len);
/* Insert or overwrite. WE_STATUS_NO_SPACE when the index or the arena is
 * full; the old value (if any) is then left untouched.
 * WE_STATUS_VALUE_TOO_LARGE above 64 KiB - 1 (ARENA_VALUE_MAX). */
enum we_status shard_put(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			 const uint8_t *value, uint32_t value_len);
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
	const uint8_t *value; /* stored bytes: the value itself in the raw tier, a
			       * struct shard_archive_ref in a stub (not aligned) */
	uint32_t stored_len;  /* bytes at value */
	uint32_t value_len;   /* the value's length as the client sent it */
	uint16_t temperature;
	uint8_t key_len;
	uint8_t tier;         /* enum item_tier (arena.h) */
	uint8_t dict;         /* compressed against the shard's dictionary */
};

/* Smallest max_items a step accepts: the most items one chain holds
 * (TABLE_CHAIN_SLOTS_MAX, checked in shard.c). */
#define SHARD_SCAN_ITEMS_MIN 60u

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
/* The chain a scan visits the key in (cur->bucket passes it there), or
 * UINT32_MAX when the key is absent. A key stays in one chain until it is
 * deleted; inserted again, it may land in its other chain (its home or
 * second bucket), so a scan may visit a deleted-and-inserted key twice,
 * the later copy being the newer value. */
uint32_t shard_scan_chain_of(const struct shard *s, uint64_t hash, const uint8_t *key,
			     uint8_t key_len);

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
#define SHARD_TIER_VALUE_MAX (64u * 1024) /* above any value an item holds (ARENA_VALUE_MAX) */

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
	uint64_t unarchived;      /* stubs made items again (shard_archive_restore) */
	uint64_t dict_bytes;      /* the tier dictionary once built, else 0 (a gauge) */
};

struct shard_demote_policy {
	uint8_t warm_below; /* raw items cooler than this go to LZ4 */
	uint8_t cold_below; /* LZ4 items cooler than this go to LZ4-HC */
	uint8_t evict_below; /* items cooler than this are deleted (0: none; a cache only) */
	uint32_t max_chains;       /* chains visited per step */
	uint32_t max_input_bytes;  /* value bytes compressed per step (LZ4-HC counts 8x, 24x against the dictionary);
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
/* Room made at the moment of a write: a PUT that finds no block for its
 * item runs up to SHARD_ROOM_STEPS steps, trying again after each, before
 * it evicts (a cache) or answers NO_SPACE. A step compacts the arena
 * (shard_compact_step, SHARD_ROOM_COMPACT_BLOCKS blocks) while the free
 * memory, in pieces, would hold the item and the step before moved
 * something, tiers on or off; and while set (the tiers on: the memory
 * budget kept at the moment of a write) it runs a demotion step with
 * policy p (a copy is kept) from a cursor of the shard's own. The
 * worker's steps between bursts keep ahead of writes at a steady rate;
 * this covers a burst that outruns them. NULL turns the demotion off. */
#define SHARD_ROOM_STEPS 16
#define SHARD_ROOM_COMPACT_BLOCKS 64
#define SHARD_ROOM_COMPACT_MOVES 8
void shard_set_make_room(struct shard *s, const struct shard_demote_policy *p);
void shard_read_tiers(const struct shard *s, struct shard_tier_counters *out);
/* One whole pass that compresses every raw item whose value compresses
 * (LZ4), and with `deep` every LZ4 item again with LZ4-HC, whatever their
 * temperature: how recovery fits a log or checkpoint written under the
 * tiers into the same memory (it loads values raw). Returns the items
 * moved down a tier. */
uint64_t shard_compress_all(struct shard *s, bool deep);

/* Compaction of the arena: items keep their place for life, so tier moves,
 * stubs and deletes leave free holes between them, each too small for the
 * next PUT or the next raw item. A step walks at most max_blocks blocks of
 * the arena from where the last step stopped (the arena keeps the place,
 * starting over at the end) and moves each item that has a free neighbour
 * into a free hole smaller than the block its leaving makes (never into the
 * untouched tail), at most max_moves of them: the largest free blocks grow, and the memory held in
 * pieces comes back as room. A move is an allocation, a copy and a switch
 * of the index slot, as a tier move: keys, values, tiers and temperatures
 * stay. Returns the items moved. */
unsigned shard_compact_step(struct shard *s, unsigned max_blocks, unsigned max_moves);
/* One demotion step from cur; returns items demoted, or -EINVAL. Done when
 * shard_scan_done(s, cur). Refreshes the temperature epoch of every item
 * it passes (temperature.h). */
int shard_demote_step(struct shard *s, struct shard_scan *cur, const struct shard_demote_policy *p);
/* The value of a scanned item as the client sent it: the stored bytes when
 * raw, else decompressed into the shard's scratch (valid until the next
 * call or operation). NULL for damaged stored bytes and for a stub
 * (TIER_SINGULARITY: the value is on disk): callers check tier first. */
const uint8_t *shard_scan_value(struct shard *s, const struct shard_scan_item *it);
/*
 * The singularity (the disk tier). The worker picks cold items with
 * shard_archive_step, copies their stored bytes (in whatever codec they are)
 * to its archive file through an I/O thread, and once the write is done
 * calls shard_archive_commit: the item becomes a stub in place, its header
 * as before (key, value_len, temperature), tier TIER_SINGULARITY and
 * the 16 bytes of a struct shard_archive_ref as its stored value. A GET of
 * a stub answers SHARD_STATUS_ARCHIVED with the reference; the caller reads
 * the record and may give the bytes back with shard_archive_restore. The
 * shard does no I/O. A PUT or DELETE over a stub replaces or frees it like
 * any item, eviction evicts stubs like any item, and demotion never touches
 * them. In struct shard_tier_counters, index TIER_SINGULARITY counts stubs;
 * its stored_bytes are the records' bytes on disk (the refs' `bytes`),
 * its demotions the commits.
 */
struct shard_archive_policy {
	uint8_t archive_below;    /* items cooler (level) than this */
	uint32_t min_saved_bytes; /* only items whose block shrinks by at least this when
				   * stubbed (at least 1 byte always) */
	uint32_t max_chains;       /* chains visited per step */
	uint32_t max_stored_bytes; /* stored bytes picked per step; checked between
				    * chains: a step always takes its first chain */
};

/* One item picked for the archive. The pointers point into the arena, valid
 * until the next PUT, DELETE or commit on this shard. */
struct shard_archive_pick {
	const uint8_t *key;
	const uint8_t *stored; /* the stored bytes, in codec `codec` */
	uint64_t hash;         /* shard_hash of the key: for commit and restore */
	uint32_t value_len, stored_len;
	uint8_t key_len;
	uint8_t codec; /* value_codec.h: the item's tier, TIER_EVENT_HORIZON..TIER_DEEP_CACHE,
			* with VALUE_CODEC_DICT when against the shard's dictionary */
};

/* One step from cur over at most p->max_chains chains: fills out (at most
 * max >= SHARD_SCAN_ITEMS_MIN) with the items cooler than archive_below
 * that are not stubs and save
 * at least min_saved_bytes (and one byte) when stubbed; a chain is never
 * split (the step stops before a chain whose candidates do not fit).
 * Refreshes the temperature epoch of every item it passes, as
 * shard_demote_step does. Returns the picks, or -EINVAL, changing nothing.
 * Done when shard_scan_done(s, cur). */
int shard_archive_step(struct shard *s, struct shard_scan *cur,
		       const struct shard_archive_policy *p, struct shard_archive_pick *out,
		       unsigned max) we_must_check;
/* The item (key, hash) whose record was written, with the record's codec
 * and stored bytes: true when the item is present and stores exactly those
 * bytes in that codec (so the record holds its value, whatever happened in
 * between: an overwrite with the same bytes is the same value) and more
 * than a stub's: it becomes a stub holding *ref (needs no free memory).
 * false, changing nothing, when it was overwritten with other bytes,
 * deleted, archived or moved to another tier meanwhile (it stays in
 * memory: the record is not used). */
bool shard_archive_commit(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			  uint8_t codec, const uint8_t *stored, uint32_t stored_len,
			  const struct shard_archive_ref *ref);

enum shard_restore {
	SHARD_RESTORED,
	SHARD_RESTORE_STALE,   /* not that stub any more (or bytes that cannot be its) */
	SHARD_RESTORE_NO_ROOM, /* no free block for it: still a stub */
	SHARD_RESTORE_COLD,    /* below the promote level (shard_set_promote_level) */
};

/* The record of the stub (key, hash) holding *ref, read back: stored_len
 * bytes in codec `codec` (the pick's). When the key is still a stub with
 * exactly this ref, the bytes go to a new block in tier `codec` with the
 * stub's value_len and temperature, and the stub is freed. Without
 * force, only an item warm enough for the promote level comes back, as a
 * compressed tier's GET does. Never evicts to make room. Bytes that cannot
 * be the item's (codec above TIER_DEEP_CACHE, a raw stored_len other than
 * value_len, a compressed one not below it) are STALE, the stub kept; their content is the
 * caller's to check (the ref's `check`). */
enum shard_restore shard_archive_restore(struct shard *s, uint64_t hash, const uint8_t *key,
					 uint8_t key_len, const struct shard_archive_ref *ref,
					 uint8_t codec, const uint8_t *stored, uint32_t stored_len,
					 bool force);
/* The stub (key, hash) holding *old_ref now names a copy of the same
 * record at *new_ref (same bytes: the archive's cleaner moved it): true;
 * false, changing nothing, when the key is not that stub any more. */
bool shard_archive_repoint(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			   const struct shard_archive_ref *old_ref,
			   const struct shard_archive_ref *new_ref);
/* Count every stub's record in sp (storage/archive_space.h) from now on:
 * live while the stub exists, released when it goes (PUT, DELETE,
 * eviction, restore, repoint). Set it before the first stub is made. */
struct archive_space;
void shard_set_archive_space(struct shard *s, struct archive_space *sp);
/* The tiers compress against d (tier_codec.h) once it is built, sampling
 * it from the values they compress until then; NULL (the default): values
 * compress alone. Set it before the first demotion; d outlives the shard's
 * items. shard_dict_view: the built dictionary, else NULL. */
struct tier_dict;
struct value_dict;
void shard_set_dict(struct shard *s, struct tier_dict *d);
const struct value_dict *shard_dict_view(const struct shard *s);
/* A scanned stub's reference, copied out (the stored bytes are not
 * aligned); false, writing nothing, when the item is not a stub. */
bool shard_scan_archive_ref(const struct shard_scan_item *it, struct shard_archive_ref *out);

/* O(n) consistency check of index and arena; true when consistent. */
bool shard_check_invariants(const struct shard *s);

#endif
