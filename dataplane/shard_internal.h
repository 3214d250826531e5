/* shard_internal.h - the shard's state and its key lookup, shared by the
 * files that implement the shard (shard.c: GET/PUT/DELETE and the scan;
 * shard_tier.c: the compressed tiers and the disk tier's stubs). Not for
 * users of the shard: they see struct shard as opaque (shard.h). */
#ifndef SHARD_INTERNAL_H
#define SHARD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "archive_space.h"
#include "arena.h"
#include "freq_sketch.h"
#include "keyhash.h"
#include "shard.h"
#include "table.h"
#include "value_codec.h"
#include "we_assert.h"

struct shard {
	struct table table;
	struct arena arena;
	const struct keyhash_secret *secret;
	uint64_t put_no_space;
	uint64_t compact_moves;
	/* The event horizon cache (shard_tier.c): the cooling clock, the
	 * items and bytes of each tier, and two buffers of the largest value
	 * a compressed tier takes: a GET's decompressed value (valid until
	 * the next operation) and a demotion's compressed copy. */
	uint32_t tick;         /* time_tick + access_ticks */
	uint32_t time_tick;    /* the caller's coarse time (shard_set_tick) */
	uint32_t access_ticks; /* ticks counted by accesses */
	uint64_t accesses_left; /* accesses until the next access tick */
	bool track_reads;
	uint8_t promote_level; /* shard_set_promote_level */  /* GETs warm what they read */
	bool evict_on_put; /* a full shard evicts to make room (a cache) */
	bool make_room;    /* a full shard compresses to make room (shard_set_make_room) */
	struct shard_demote_policy room_policy;
	struct shard_scan room_cursor; /* where the next room step starts; wraps */
	uint32_t evict_cursor; /* the next main bucket eviction samples */
	uint64_t rng; /* xorshift state: the temperature's random draws */
	struct freq_sketch freq; /* recent uses of keys, held or not (admission) */
	struct shard_tier_counters tiers;
	/* The disk tier's segments (NULL: no disk tier, or not counted): every
	 * stub's record is live there while the stub exists. */
	struct archive_space *archive_space;
	/* The tiers' dictionary (shard_set_dict; NULL: values compress alone). */
	struct tier_dict *dict;
	uint8_t scratch[SHARD_TIER_VALUE_MAX] we_cache_aligned;
	uint8_t work[SHARD_TIER_VALUE_MAX + SHARD_TIER_VALUE_MAX / 255 + 16];
};

/* A key being looked up, for the table's key comparison. */
struct shard_key {
	const struct arena *arena;
	const uint8_t *bytes;
	uint8_t len;
};

/* Compares key bytes of equal length. Keys of 8 to 16 bytes, the common
 * case, take two (possibly overlapping) 8-byte loads instead of a libc call. */
static inline bool shard_key_bytes_equal(const uint8_t *a, const uint8_t *b, uint8_t len)
{
	if (len >= 8 && len <= 16) {
		uint64_t a0, a1, b0, b1;

		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + len - 8, 8);
		memcpy(&b1, b + len - 8, 8);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	return memcmp(a, b, len) == 0;
}

static inline bool shard_key_equal(const void *ctx, uint64_t offset)
{
	const struct shard_key *k = ctx;
	struct arena_item *it = arena_item_at(k->arena, offset);

	return it->key_len == k->len && shard_key_bytes_equal(arena_item_key(it), k->bytes, k->len);
}

static inline uint32_t *shard_find(struct shard *s, uint64_t hash, const uint8_t *key,
				   uint8_t key_len)
{
	struct shard_key k = { .arena = &s->arena, .bytes = key, .len = key_len };

	WE_VERIFY(hash == keyhash_local(s->secret, key, key_len));
	return table_find(&s->table, hash, shard_key_equal, &k);
}


/* The codec of a compressed item's stored bytes (value_codec.h). */
static inline uint8_t shard_item_codec(const struct arena_item *it)
{
	return value_codec_of(it->tier, it->dict);
}

/* Bytes a stub holds: one struct shard_archive_ref (shard.h). */
#define SHARD_STUB_BYTES ((uint32_t)sizeof(struct shard_archive_ref))

/* The bytes an item's value takes where it is stored: in memory, or for a
 * stub on disk (its ref's record bytes). */
static inline uint32_t shard_item_stored_bytes(const struct arena_item *it)
{
	struct shard_archive_ref ref;

	if (we_likely(it->tier != TIER_SINGULARITY))
		return it->stored_len;
	memcpy(&ref, it->data + it->key_len, sizeof(ref));
	return ref.bytes;
}

/* A stub entering (+1) or leaving (-1) the shard: its record's bytes, which
 * the archive's space counts live while the stub exists (shard_tier.c). */
uint32_t shard_stub_account(struct shard *s, const struct arena_item *it, int sign);

/* Tier bookkeeping of one item entering (+1) or leaving (-1) the shard. */
static inline void shard_tier_account(struct shard *s, const struct arena_item *it, int sign)
{
	struct shard_tier_counters *t = &s->tiers;
	uint32_t stored = it->stored_len;

	if (we_unlikely(it->tier == TIER_SINGULARITY))
		stored = shard_stub_account(s, it, sign);
	t->items[it->tier] += (uint64_t)(int64_t)sign;
	t->stored_bytes[it->tier] += (uint64_t)((int64_t)sign * stored);
	t->value_bytes[it->tier] += (uint64_t)((int64_t)sign * it->value_len);
}

/* A uniform 32-bit draw (xorshift64). */
static inline uint32_t shard_draw(struct shard *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return (uint32_t)(x >> 32);
}

/* One tick of the cooling clock counted by accesses (shard_tier.c). */
void shard_access_tick(struct shard *s);

/* An access for the cooling clock: a GET that warms what it reads, a PUT. */
static inline void shard_count_access(struct shard *s)
{
	if (we_unlikely(--s->accesses_left == 0))
		shard_access_tick(s);
}

/* The index slot of a live item (found by its key) and the key's hash. */
uint32_t *shard_slot_of(struct shard *s, const struct arena_item *it, uint64_t *hash);
/* The coldest item of a few chains from the eviction cursor on, preferring
 * one whose freed block gives `need` bytes in one piece (shard_tier.c);
 * NULL when it found none. */
struct arena_item *shard_evict_pick(struct shard *s, uint64_t need);
/* One step of making room for a PUT that found no block of need bytes
 * (shard_set_make_room): a compaction step while *compacting (cleared when
 * one moves nothing) and the free bytes would hold need, then, while
 * make_room is set, a demotion step with the room policy from the room
 * cursor. Returns false when it did neither: nothing left to try. */
bool shard_make_room_step(struct shard *s, uint64_t need, bool *compacting);
/* Delete a live item and count it evicted. */
void shard_evict_item(struct shard *s, struct arena_item *it);
/* Admission: whether the new key with this hash was used at least as often
 * lately as the victim (shard_tier.c). */
bool shard_admit(const struct shard *s, uint64_t hash, const struct arena_item *victim);

/* A GET that found a compressed item or a stub (shard_tier.c). */
enum we_status shard_get_compressed(struct shard *s, uint32_t *slot, struct arena_item *it,
				    const uint8_t **value, uint32_t *value_len);

#endif
