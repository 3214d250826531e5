/* fuzz_shard.c - a small shard (dataplane/shard.c) against a reference model.
 *
 * DESIGN: the input is a recipe. Three bytes size the shard and the key
 * set (index capacity 4..67 items, arena 512..16,640 bytes, 1..64 distinct
 * keys, so the shard fills up and NO_SPACE is common), then each operation
 * takes an op byte, a key number and, for a PUT, a value length (0..2047,
 * past the protocol's limit on purpose: the shard takes up to 16 MiB) and a
 * fill byte. Key i is a fixed string of 1..250 bytes, so keys repeat and
 * overwrite each other. The model is a plain array indexed by key number,
 * holding a copy of each live value. The shard's bucket/tag hash secret
 * comes from the first three bytes (keyhash_secret_from_seed), so a saved
 * input replays the same layout.
 *
 * After every operation:
 *   - GET answers OK with exactly the model's value, or NOT_FOUND exactly
 *     when the model has no value; its pointer lies in the shard's memory;
 *   - PUT answers OK (the model takes the value) or NO_SPACE, which changes
 *     nothing (shard.h: "the old value (if any) is then left untouched") and
 *     counts put_no_space; on an empty shard, a PUT whose item fits the
 *     arena always succeeds (freed memory merges back);
 *   - DELETE answers OK exactly when the model has the key;
 *   - shard_check_invariants() holds; the counters agree with the model:
 *     items, used + free + untouched = arena bytes, used bytes between the
 *     items' exact sizes and those plus the largest slack (3 granules each).
 * At the end every key is read back and compared.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fuzz_check.h"
#include "shard.h"

#define FZ_KEYS_MAX 64
#define FZ_VALUE_MAX 2048

struct fz_model {
	bool live[FZ_KEYS_MAX];
	uint32_t len[FZ_KEYS_MAX];
	uint8_t value[FZ_KEYS_MAX][FZ_VALUE_MAX];
	uint64_t no_space;
};

/* Key number id: 1..250 bytes, distinct for distinct ids. */
static uint8_t key_of(unsigned id, uint8_t key[250])
{
	uint8_t len = (uint8_t)(1 + (id * 53u + (id >> 3) * 7u) % 250u);

	for (unsigned i = 0; i < len; i++)
		key[i] = (uint8_t)(id * 7u + i * 13u);
	key[0] = (uint8_t)id; /* distinct first bytes: distinct keys */
	return len;
}

static void check_counters(const struct shard *s, const struct fz_model *m, unsigned nkeys)
{
	struct shard_counters c;
	uint64_t items = 0, need = 0;
	uint8_t key[250];

	shard_read_counters(s, &c);
	for (unsigned i = 0; i < nkeys; i++) {
		if (!m->live[i])
			continue;
		items++;
		need += arena_item_bytes(key_of(i, key), m->len[i]);
	}
	FUZZ_CHECK(c.items == items, "shard counts %llu items, the model %llu",
		   (unsigned long long)c.items, (unsigned long long)items);
	FUZZ_CHECK(c.arena_used_bytes + c.arena_free_bytes + c.arena_untouched_bytes == c.arena_bytes,
		   "arena bytes do not add up: %llu + %llu + %llu != %llu",
		   (unsigned long long)c.arena_used_bytes, (unsigned long long)c.arena_free_bytes,
		   (unsigned long long)c.arena_untouched_bytes, (unsigned long long)c.arena_bytes);
	FUZZ_CHECK(c.arena_used_bytes >= need && c.arena_used_bytes <= need + items * 3 * ARENA_GRANULE,
		   "arena_used_bytes %llu for items needing %llu", (unsigned long long)c.arena_used_bytes,
		   (unsigned long long)need);
	FUZZ_CHECK(c.put_no_space == m->no_space, "put_no_space %llu, NO_SPACE answers %llu",
		   (unsigned long long)c.put_no_space, (unsigned long long)m->no_space);
}

static void check_get(struct shard *s, const struct fz_model *m, unsigned id, const uint8_t *mem,
		      size_t mem_bytes)
{
	uint8_t key[250];
	uint8_t klen = key_of(id, key);
	const uint8_t *v = NULL;
	uint32_t vlen = 0;
	enum we_status st = shard_get(s, shard_hash(s, key, klen), key, klen, &v, &vlen);

	if (!m->live[id]) {
		FUZZ_CHECK(st == WE_STATUS_NOT_FOUND, "GET of absent key %u answered %u", id, st);
		return;
	}
	FUZZ_CHECK(st == WE_STATUS_OK, "GET of live key %u answered %u", id, st);
	FUZZ_CHECK(vlen == m->len[id], "GET key %u: %u bytes, model %u", id, vlen, m->len[id]);
	FUZZ_CHECK(v != NULL && v >= mem && v + vlen <= mem + mem_bytes,
		   "GET key %u: value outside the shard's memory", id);
	FUZZ_CHECK(memcmp(v, m->value[id], vlen) == 0, "GET key %u: value differs from the model",
		   id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_model m;
	struct keyhash_secret secret;
	struct shard_config cfg = {0};
	struct shard *s;
	uint8_t *mem;
	size_t mem_bytes, pos = 3;
	unsigned nkeys;
	uint8_t fill[FZ_VALUE_MAX];

	if (size < 3)
		return 0;
	cfg.capacity_items = 4 + data[0] % 64;
	cfg.arena_bytes = 256u * (2 + data[1] % 64);
	nkeys = 1 + data[2] % FZ_KEYS_MAX;
	/* Deterministic, so a saved input replays the same bucket layout. */
	keyhash_secret_from_seed(&secret, (uint64_t)data[0] << 16 | data[1] << 8 | data[2]);
	cfg.hash_secret = &secret;
	mem_bytes = shard_memory_size(&cfg);
	FUZZ_CHECK(mem_bytes != 0, "shard_memory_size refuses capacity %llu arena %llu",
		   (unsigned long long)cfg.capacity_items, (unsigned long long)cfg.arena_bytes);
	s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	mem = aligned_alloc(64, (mem_bytes + 63) & ~(size_t)63);
	FUZZ_CHECK(s != NULL && mem != NULL, "out of memory");
	FUZZ_CHECK(shard_init(s, mem, mem_bytes, &cfg) == 0, "shard_init refuses a valid config");
	memset(&m, 0, sizeof(m));

	while (pos + 2 <= size) {
		uint8_t op = data[pos] & 3;
		unsigned id = data[pos + 1] % nkeys;
		uint8_t key[250];
		uint8_t klen = key_of(id, key);
		uint64_t h = shard_hash(s, key, klen);
		enum we_status st;

		pos += 2;
		if (op == 1) {
			check_get(s, &m, id, mem, mem_bytes);
		} else if (op == 2) {
			st = shard_delete(s, h, key, klen);
			FUZZ_CHECK(st == (m.live[id] ? WE_STATUS_OK : WE_STATUS_NOT_FOUND),
				   "DELETE key %u (live %d) answered %u", id, m.live[id], st);
			m.live[id] = false;
		} else {
			uint32_t vlen = 0;
			uint8_t fb = 0;
			struct shard_counters before;
			bool empty;

			if (pos + 3 <= size) {
				vlen = (uint32_t)(data[pos] | data[pos + 1] << 8) % FZ_VALUE_MAX;
				fb = data[pos + 2];
				pos += 3;
			}
			for (uint32_t i = 0; i < vlen; i++)
				fill[i] = (uint8_t)(fb + i * 31u);
			shard_read_counters(s, &before);
			empty = before.items == 0;
			st = shard_put(s, h, key, klen, fill, vlen);
			if (st == WE_STATUS_OK) {
				m.live[id] = true;
				m.len[id] = vlen;
				memcpy(m.value[id], fill, vlen);
			} else {
				FUZZ_CHECK(st == WE_STATUS_NO_SPACE, "PUT answered %u", st);
				FUZZ_CHECK(!(empty && arena_item_bytes(klen, vlen) <= before.arena_bytes),
					   "PUT of %u+%u bytes refused by an empty shard of %llu arena bytes",
					   klen, vlen, (unsigned long long)before.arena_bytes);
				m.no_space++;
			}
		}
		FUZZ_CHECK(shard_check_invariants(s), "shard_check_invariants failed after op %u key %u",
			   op, id);
		check_get(s, &m, id, mem, mem_bytes);
		check_counters(s, &m, nkeys);
	}
	for (unsigned id = 0; id < nkeys; id++)
		check_get(s, &m, id, mem, mem_bytes);
	free(mem);
	free(s);
	return 0;
}
