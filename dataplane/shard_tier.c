/* shard_tier.c - the compressed tiers of a shard: a GET of a compressed
 * item, promotion back to raw, budgeted demotion; and the stubs of the disk
 * tier: picking, commit, restore (see shard.h).
 *
 * DESIGN: a tier move is an item replaced by another in a new block: the new
 * block is allocated and filled first, then the index slot is switched and
 * the old block freed, as an overwrite does; when the arena has no block
 * for it the item simply stays where it is. So a move never loses an item
 * and never changes its key or bytes as a GET sees them. Demotion
 * compresses into the shard's work buffer before allocating, so an item
 * that does not compress costs a compression and nothing else.
 *
 * A stub is made in place (the value's bytes overwritten by the ref, the
 * block shrunk), so archiving, like compression, needs no free memory; a
 * restore is a tier move back, so it too leaves the stub where it is when
 * no block is free. Commit and restore find the item again by its key and
 * check it is still the one picked (the same stored bytes; the same ref):
 * between a pick and its commit the I/O thread writes while the shard keeps
 * serving.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "shard_internal.h"
#include "temperature.h"
#include "tier_codec.h"

_Static_assert(SHARD_TIER_VALUE_MAX >= ARENA_VALUE_MAX, "every value an item holds fits the tiers' buffers");
_Static_assert(sizeof(((struct shard *)0)->work) >= SHARD_TIER_VALUE_MAX + SHARD_TIER_VALUE_MAX / 255 + 16,
	       "the work buffer holds any compressed tier value");

void shard_set_tick(struct shard *s, uint32_t time_tick)
{
	s->time_tick = time_tick;
	s->tick = s->time_tick + s->access_ticks;
}

uint32_t shard_tick(const struct shard *s)
{
	return s->tick;
}

void shard_access_tick(struct shard *s)
{
	uint64_t items = s->table.items;

	s->access_ticks++;
	s->tick = s->time_tick + s->access_ticks;
	s->accesses_left = SHARD_COOL_ACCESSES_PER_ITEM *
			   (items > SHARD_COOL_ITEMS_MIN ? items : SHARD_COOL_ITEMS_MIN);
}

void shard_set_track_reads(struct shard *s, bool on)
{
	s->track_reads = on;
}

void shard_set_promote_level(struct shard *s, uint8_t level)
{
	s->promote_level = level;
}

void shard_set_evict_on_put(struct shard *s, bool on)
{
	s->evict_on_put = on;
}

void shard_set_make_room(struct shard *s, const struct shard_demote_policy *p)
{
	s->make_room = p != NULL;
	if (p != NULL)
		s->room_policy = *p;
}

bool shard_make_room_step(struct shard *s, uint64_t need, bool *compacting)
{
	bool tried = false;

	/* Free memory in pieces comes together first: it costs copies, not
	 * compression, and keeps items in their tier. */
	if (*compacting && s->arena.free_bytes >= need) {
		*compacting = shard_compact_step(s, SHARD_ROOM_COMPACT_BLOCKS,
						 SHARD_ROOM_COMPACT_MOVES) != 0;
		tried = *compacting;
	}
	if (!s->make_room)
		return tried;
	if (shard_scan_done(s, &s->room_cursor))
		s->room_cursor = (struct shard_scan){0};
	(void)shard_demote_step(s, &s->room_cursor, &s->room_policy);
	return true;
}

uint32_t *shard_slot_of(struct shard *s, const struct arena_item *it, uint64_t *hash)
{
	const uint8_t *key = arena_item_key((struct arena_item *)it);
	uint32_t *slot;

	*hash = shard_hash(s, key, (uint8_t)it->key_len);
	slot = shard_find(s, *hash, key, (uint8_t)it->key_len);
	WE_ASSERT(slot != NULL && arena_item_at(&s->arena, table_ref_offset(slot)) == it);
	return slot;
}

/* Delete the item at *slot (found under hash) and count it evicted. */
static void shard_evict_slot(struct shard *s, uint64_t hash, uint32_t *slot)
{
	uint64_t off = table_ref_offset(slot);

	shard_tier_account(s, arena_item_at(&s->arena, off), -1);
	table_remove(&s->table, hash, slot);
	arena_free_item(&s->arena, off);
	s->tiers.evictions++;
}

/* Items sampled per eviction: the coldest of them goes (Redis's sampled
 * eviction, here by temperature); at most SHARD_EVICT_CHAINS_MAX chains are
 * walked to find them (a sparse index has many empty chains). */
#define SHARD_EVICT_SAMPLE_ITEMS 8
#define SHARD_EVICT_CHAINS_MAX 4096
/* An item whose freed block would not give the PUT its room in one piece
 * (smaller, and no free neighbour to merge with) counts this many levels
 * warmer: with small compressed items among large raw ones, evicting the
 * small ones first frees bytes the arena cannot hand out (fragments), and the
 * PUT evicts again and again or fails. */
#define SHARD_EVICT_MISFIT_LEVELS 4

/* Whether freeing it gives a block of `need` bytes: its own block, or one
 * merged with a free block just before or after it. */
static bool shard_evict_fits(const struct shard *s, const struct arena_item *it, uint64_t need)
{
	uint64_t bytes = arena_item_block_bytes(it);
	uint64_t next = (uint64_t)((const uint8_t *)it - s->arena.base) + bytes;

	if (bytes >= need || it->prev_free)
		return true;
	return next >= s->arena.bump_offset || arena_item_at(&s->arena, next)->free;
}

struct arena_item *shard_evict_pick(struct shard *s, uint64_t need)
{
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX];
	struct arena_item *coldest = NULL;
	unsigned coldest_level = 0;
	unsigned sampled = 0;

	for (unsigned c = 0; c < SHARD_EVICT_CHAINS_MAX && c < s->table.nbuckets &&
			     sampled < SHARD_EVICT_SAMPLE_ITEMS;
	     c++) {
		uint32_t cur = s->evict_cursor;
		int got = table_scan_step(&s->table, &cur, slots, TABLE_CHAIN_SLOTS_MAX, 1);

		s->evict_cursor = cur >= s->table.nbuckets ? 0 : cur;
		for (int i = 0; i < got; i++) {
			struct arena_item *it = arena_item_at(&s->arena, table_slot_offset(slots[i]));
			unsigned level = temperature_read((uint16_t)it->temperature, s->tick);

			if (!shard_evict_fits(s, it, need))
				level += SHARD_EVICT_MISFIT_LEVELS;
			if (coldest == NULL || level < coldest_level) {
				coldest = it;
				coldest_level = level;
			}
		}
		sampled += (unsigned)got;
	}
	return coldest;
}

void shard_evict_item(struct shard *s, struct arena_item *it)
{
	uint64_t hash;
	uint32_t *slot = shard_slot_of(s, it, &hash);

	shard_evict_slot(s, hash, slot);
}

bool shard_admit(const struct shard *s, uint64_t hash, const struct arena_item *victim)
{
	uint64_t victim_hash = shard_hash(s, arena_item_key((struct arena_item *)victim),
					  (uint8_t)victim->key_len);

	/* A tie admits: a key written and never read since gives way to a
	 * newer one (the newest writes of a cache are the likeliest reads);
	 * an item that was read is kept from a key seen less often. */
	return freq_sketch_estimate(&s->freq, hash) >= freq_sketch_estimate(&s->freq, victim_hash);
}

void shard_read_tiers(const struct shard *s, struct shard_tier_counters *out)
{
	const struct value_dict *d = tier_dict_view(s->dict);

	*out = s->tiers;
	out->dict_bytes = d != NULL ? d->len : 0;
}

/* Replace the item at *slot by a copy in tier `tier` whose value bytes are
 * stored[0..stored_len) (never inside the item). A smaller value that finds
 * no new block (a full arena) is written over the old one in place and the
 * block shrunk: compression needs no free memory. false, changing nothing,
 * when a larger value (a promotion) finds no block. */
/* The in-place half of shard_tier_replace: stored_len < it's stored_len. */
static void shard_tier_shrink(struct shard *s, uint64_t off, struct arena_item *it,
			      enum item_tier tier, bool dict, const uint8_t *stored,
			      uint32_t stored_len)
{
	shard_tier_account(s, it, -1);
	memcpy(arena_item_value(it), stored, stored_len);
	arena_shrink_item(&s->arena, off, stored_len);
	it->tier = tier;
	it->dict = dict;
	shard_tier_account(s, it, +1);
}

static bool shard_tier_replace(struct shard *s, uint32_t *slot, struct arena_item *old,
			       enum item_tier tier, bool dict, const uint8_t *stored,
			       uint32_t stored_len)
{
	uint64_t old_off = table_ref_offset(slot), off;
	struct arena_item *it;

	if (arena_alloc_item(&s->arena, (uint8_t)old->key_len, old->value_len, stored_len, &off) !=
	    0) {
		if (stored_len >= old->stored_len)
			return false;
		shard_tier_shrink(s, old_off, old, tier, dict, stored, stored_len);
		return true;
	}
	it = arena_item_at(&s->arena, off);
	/* arena_alloc_item may have moved nothing: old stays valid. */
	it->tier = tier;
	it->dict = dict;
	it->temperature = old->temperature;
	memcpy(arena_item_key(it), arena_item_key(old), old->key_len);
	memcpy(arena_item_value(it), stored, stored_len);
	shard_tier_account(s, old, -1);
	shard_tier_account(s, it, +1);
	table_ref_replace(slot, off);
	arena_free_item(&s->arena, old_off);
	return true;
}

enum we_status shard_get_compressed(struct shard *s, uint32_t *slot, struct arena_item *it,
				    const uint8_t **value, uint32_t *value_len)
{
	uint32_t len = it->value_len;
	int rc;

	if (it->tier == TIER_SINGULARITY) {
		/* The caller reads the record: it gets the ref. */
		s->tiers.hits[TIER_SINGULARITY]++;
		*value = arena_item_value(it);
		*value_len = len;
		return SHARD_STATUS_ARCHIVED;
	}
	/* Compressed here, by demotion, from at most SHARD_TIER_VALUE_MAX
	 * bytes: anything else is damaged memory, and stopping is the only
	 * answer that cannot be wrong bytes. */
	WE_ASSERT(len <= SHARD_TIER_VALUE_MAX);
	rc = tier_decompress(shard_item_codec(it), tier_dict_view(s->dict), arena_item_value(it),
			     it->stored_len, s->scratch, len);
	WE_ASSERT(rc == 0);
	s->tiers.hits[it->tier]++;
	/* A hit brings a warm enough item back to the event horizon, room
	 * permitting. */
	if (temperature_read((uint16_t)it->temperature, s->tick) >= s->promote_level &&
	    shard_tier_replace(s, slot, it, TIER_EVENT_HORIZON, false, s->scratch, len))
		s->tiers.promotions++;
	*value = s->scratch;
	*value_len = len;
	return WE_STATUS_OK;
}

const uint8_t *shard_scan_value(struct shard *s, const struct shard_scan_item *it)
{
	if (it->tier == TIER_EVENT_HORIZON)
		return it->value;
	if (it->tier == TIER_SINGULARITY)
		return NULL; /* on disk */
	if (it->value_len > SHARD_TIER_VALUE_MAX ||
	    tier_decompress(value_codec_of(it->tier, it->dict), tier_dict_view(s->dict),
			    it->value, it->stored_len, s->scratch, it->value_len) != 0)
		return NULL;
	return s->scratch;
}

/* Demote one item if it is cool enough and compresses; returns the input
 * bytes charged to the step's budget (0: nothing tried). */
static uint32_t shard_demote_item(struct shard *s, struct arena_item *it,
				  const struct shard_demote_policy *p, int *demoted)
{
	uint8_t level = temperature_read((uint16_t)it->temperature, s->tick);
	uint32_t len = it->value_len; /* it is freed once replaced */
	enum item_tier to;
	uint32_t cost; /* charged to the step's budget */
	bool dict;
	const uint8_t *raw;
	uint32_t *slot;
	uint64_t hash;
	int n;

	it->temperature = temperature_store((uint16_t)it->temperature, s->tick);
	if (level < p->evict_below) {
		slot = shard_slot_of(s, it, &hash);
		shard_evict_slot(s, hash, slot);
		return 0;
	}
	if (it->tier == TIER_EVENT_HORIZON && it->raw_only)
		return 0; /* tried before and did not compress; a write clears the mark */
	if (it->tier == TIER_EVENT_HORIZON && level < p->warm_below)
		to = TIER_PHOTON_SPHERE;
	else if (it->tier == TIER_PHOTON_SPHERE && level < p->cold_below)
		to = TIER_DEEP_CACHE;
	else
		return 0;
	raw = arena_item_value(it);
	if (it->tier != TIER_EVENT_HORIZON) {
		if (tier_decompress(shard_item_codec(it), tier_dict_view(s->dict), raw,
				    it->stored_len, s->scratch, len) != 0)
			return 0;
		raw = s->scratch;
	}
	/* Against the dictionary once there is one; until then it is sampled
	 * from the values that compress alone (an incompressible one would
	 * only waste its room). */
	dict = tier_dict_view(s->dict) != NULL;
	n = dict ? tier_compress_dict(s->dict, to, raw, len, s->work, sizeof(s->work))
		 : tier_compress(to, raw, len, s->work, sizeof(s->work));
	/* LZ4-HC costs about 8 times LZ4 alone, 24 times against the
	 * dictionary (it loads the dictionary's end per value). */
	cost = to == TIER_DEEP_CACHE ? len * (dict ? 24 : 8) : len;
	if (n > 0 && !dict && s->dict != NULL)
		tier_dict_sample(s->dict, raw, len);
	if (n <= 0) {
		if (it->tier == TIER_EVENT_HORIZON) {
			s->tiers.left_raw++;
			it->raw_only = 1;
		}
		return len;
	}
	/* LZ4-HC against the dictionary's last 8 KiB can come out larger
	 * than LZ4 against all of it: such a value stays where it is. */
	if (it->tier != TIER_EVENT_HORIZON && (uint32_t)n > it->stored_len)
		return cost;
	slot = shard_slot_of(s, it, &hash);
	if (shard_tier_replace(s, slot, it, to, dict, s->work, (uint32_t)n)) {
		s->tiers.demotions[to]++;
		(*demoted)++;
	}
	return cost;
}

uint64_t shard_compress_all(struct shard *s, bool deep)
{
	const struct shard_demote_policy all = {
		.warm_below = TEMP_LEVEL_MAX, /* every raw item but a saturated one */
		.cold_below = deep ? TEMP_LEVEL_MAX : 0,
		.max_chains = UINT32_MAX,
		.max_input_bytes = UINT32_MAX,
	};
	struct shard_scan cur = {0};
	uint64_t n = 0;

	while (!shard_scan_done(s, &cur)) {
		int got = shard_demote_step(s, &cur, &all);

		WE_ASSERT(got >= 0);
		n += (uint64_t)got;
	}
	return n;
}

int shard_demote_step(struct shard *s, struct shard_scan *cur, const struct shard_demote_policy *p)
{
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX];
	uint64_t budget = p->max_input_bytes;
	int demoted = 0;

	if (p->max_chains == 0 || cur->bucket > s->table.nbuckets)
		return -EINVAL;
	for (uint32_t c = 0; c < p->max_chains && cur->bucket < s->table.nbuckets; c++) {
		uint32_t next = cur->bucket;
		int got = table_scan_step(&s->table, &next, slots, TABLE_CHAIN_SLOTS_MAX, 1);

		WE_ASSERT(got >= 0 && next == cur->bucket + 1);
		if (budget == 0)
			break; /* this chain next step */
		/* The chain's slots were copied: replacing an item switches
		 * its slot in place, so the copies of the others stay right. */
		for (int i = 0; i < got; i++) {
			struct arena_item *it = arena_item_at(&s->arena, table_slot_offset(slots[i]));
			uint32_t spent = shard_demote_item(s, it, p, &demoted);

			budget -= spent < budget ? spent : budget;
		}
		cur->bucket = next;
	}
	return demoted;
}

/* Bytes stubbing the item gives back: what arena_shrink_item frees (a rest
 * smaller than a minimum block stays slack); 0 for an item storing no more
 * than a stub. */
static uint64_t shard_archive_saving(const struct arena_item *it)
{
	uint64_t block = arena_item_block_bytes(it);
	uint64_t stub = arena_item_bytes(it->key_len, SHARD_STUB_BYTES);

	if (it->stored_len <= SHARD_STUB_BYTES || block - stub < ARENA_BLOCK_MIN)
		return 0;
	return block - stub;
}

/* Whether the archive takes the item (after its epoch was refreshed). */
static bool shard_archive_wanted(const struct shard *s, const struct arena_item *it,
				 const struct shard_archive_policy *p)
{
	uint64_t saving;

	if (it->tier == TIER_SINGULARITY ||
	    temperature_read((uint16_t)it->temperature, s->tick) >= p->archive_below)
		return false;
	saving = shard_archive_saving(it);
	return saving > 0 && saving >= p->min_saved_bytes;
}

static void shard_archive_fill(struct shard *s, struct arena_item *it, struct shard_archive_pick *o)
{
	o->key = arena_item_key(it);
	o->stored = arena_item_value(it);
	o->key_len = (uint8_t)it->key_len;
	o->hash = shard_hash(s, o->key, o->key_len);
	o->value_len = it->value_len;
	o->stored_len = it->stored_len;
	o->codec = shard_item_codec(it);
}

int shard_archive_step(struct shard *s, struct shard_scan *cur,
		       const struct shard_archive_policy *p, struct shard_archive_pick *out,
		       unsigned max)
{
	uint64_t slots[TABLE_CHAIN_SLOTS_MAX];
	uint64_t picked_bytes = 0;
	unsigned n = 0;

	if (max < SHARD_SCAN_ITEMS_MIN || p->max_chains == 0 || cur->bucket > s->table.nbuckets)
		return -EINVAL;
	if (max > INT_MAX)
		max = INT_MAX; /* the count is returned as an int */
	for (uint32_t c = 0; c < p->max_chains && cur->bucket < s->table.nbuckets; c++) {
		uint32_t next = cur->bucket;
		int got = table_scan_step(&s->table, &next, slots, TABLE_CHAIN_SLOTS_MAX, 1);
		struct arena_item *want[TABLE_CHAIN_SLOTS_MAX];
		unsigned nwant = 0;

		WE_ASSERT(got >= 0 && next == cur->bucket + 1);
		if (c > 0 && picked_bytes >= p->max_stored_bytes)
			break; /* this chain next step */
		for (int i = 0; i < got; i++) {
			struct arena_item *it = arena_item_at(&s->arena, table_slot_offset(slots[i]));

			it->temperature = temperature_store((uint16_t)it->temperature, s->tick);
			if (shard_archive_wanted(s, it, p))
				want[nwant++] = it;
		}
		if (nwant > max - n)
			break; /* the whole chain next step */
		for (unsigned i = 0; i < nwant; i++) {
			shard_archive_fill(s, want[i], &out[n++]);
			picked_bytes += want[i]->stored_len;
		}
		cur->bucket = next;
	}
	return (int)n;
}

bool shard_archive_commit(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			  uint8_t codec, const uint8_t *stored, uint32_t stored_len,
			  const struct shard_archive_ref *ref)
{
	uint32_t *slot = shard_find(s, hash, key, key_len);
	struct arena_item *it;

	if (slot == NULL)
		return false; /* deleted (or evicted) */
	it = arena_item_at(&s->arena, table_ref_offset(slot));
	/* The bytes, not a version number: one compare of what was just
	 * written, and no per-item LSN in the header (arena.h). */
	if (it->tier == TIER_SINGULARITY || shard_item_codec(it) != codec ||
	    it->stored_len != stored_len ||
	    stored_len <= SHARD_STUB_BYTES || memcmp(arena_item_value(it), stored, stored_len) != 0)
		return false;
	/* The stub goes to a block of its own and the item's whole block is
	 * freed: shrunk in place, an item leaves a hole just smaller than
	 * itself, which items of the same size (what a cache is mostly
	 * written with) can never use, while a whole block merges with its
	 * free neighbours (archived items are often neighbours: written about
	 * the same time, cooled together). In place when there is no block,
	 * and in a cache (evict_on_put), whose PUTs make room by evicting: a
	 * stub shrunk in place gives its whole block back when evicted, one
	 * moved away only its own few bytes. */
	if (s->evict_on_put)
		shard_tier_shrink(s, table_ref_offset(slot), it, TIER_SINGULARITY, false,
				  (const uint8_t *)ref, SHARD_STUB_BYTES);
	else
		WE_ASSERT(shard_tier_replace(s, slot, it, TIER_SINGULARITY, false,
					     (const uint8_t *)ref, SHARD_STUB_BYTES));
	s->tiers.demotions[TIER_SINGULARITY]++;
	return true;
}

/* Whether stored bytes in this codec can be this stub's item (shaped as
 * the shard stores that tier; against its dictionary only if it has one). */
static bool shard_restore_fits(const struct shard *s, const struct arena_item *stub,
			       uint8_t codec, uint32_t stored_len)
{
	if (codec == VALUE_CODEC_RAW)
		return stored_len == stub->value_len;
	if ((codec & VALUE_CODEC_DICT) && tier_dict_view(s->dict) == NULL)
		return false;
	return value_codec_valid(codec) && stored_len < stub->value_len;
}

enum shard_restore shard_archive_restore(struct shard *s, uint64_t hash, const uint8_t *key,
					 uint8_t key_len, const struct shard_archive_ref *ref,
					 uint8_t codec, const uint8_t *stored, uint32_t stored_len,
					 bool force)
{
	uint32_t *slot = shard_find(s, hash, key, key_len);
	struct arena_item *stub;

	if (slot == NULL)
		return SHARD_RESTORE_STALE;
	stub = arena_item_at(&s->arena, table_ref_offset(slot));
	if (stub->tier != TIER_SINGULARITY ||
	    memcmp(arena_item_value(stub), ref, SHARD_STUB_BYTES) != 0 ||
	    !shard_restore_fits(s, stub, codec, stored_len))
		return SHARD_RESTORE_STALE;
	if (!force && temperature_read((uint16_t)stub->temperature, s->tick) < s->promote_level)
		return SHARD_RESTORE_COLD;
	/* (stored_len > a stub's: never in place) */
	if (!shard_tier_replace(s, slot, stub, (enum item_tier)(codec & ~VALUE_CODEC_DICT),
				(codec & VALUE_CODEC_DICT) != 0, stored, stored_len))
		return SHARD_RESTORE_NO_ROOM;
	s->tiers.unarchived++;
	return SHARD_RESTORED;
}

bool shard_scan_archive_ref(const struct shard_scan_item *it, struct shard_archive_ref *out)
{
	if (it->tier != TIER_SINGULARITY)
		return false;
	memcpy(out, it->value, sizeof(*out));
	return true;
}

/* ---- the dictionary ---------------------------------------------------- */

void shard_set_dict(struct shard *s, struct tier_dict *d)
{
	s->dict = d;
}

const struct value_dict *shard_dict_view(const struct shard *s)
{
	return tier_dict_view(s->dict);
}

/* ---- the archive's space ----------------------------------------------- */

void shard_set_archive_space(struct shard *s, struct archive_space *sp)
{
	s->archive_space = sp;
}

uint32_t shard_stub_account(struct shard *s, const struct arena_item *it, int sign)
{
	struct shard_archive_ref ref;

	memcpy(&ref, it->data + it->key_len, sizeof(ref));
	if (s->archive_space != NULL) {
		if (sign > 0)
			archive_space_add(s->archive_space, ref.offset, ref.bytes);
		else
			archive_space_release(s->archive_space, ref.offset, ref.bytes);
	}
	return ref.bytes;
}

bool shard_archive_repoint(struct shard *s, uint64_t hash, const uint8_t *key, uint8_t key_len,
			   const struct shard_archive_ref *old_ref,
			   const struct shard_archive_ref *new_ref)
{
	uint32_t *slot = shard_find(s, hash, key, key_len);
	struct arena_item *stub;

	if (slot == NULL)
		return false;
	stub = arena_item_at(&s->arena, table_ref_offset(slot));
	if (stub->tier != TIER_SINGULARITY ||
	    memcmp(arena_item_value(stub), old_ref, SHARD_STUB_BYTES) != 0 ||
	    new_ref->bytes != old_ref->bytes)
		return false;
	shard_tier_account(s, stub, -1);
	memcpy(arena_item_value(stub), new_ref, SHARD_STUB_BYTES);
	shard_tier_account(s, stub, +1);
	return true;
}
