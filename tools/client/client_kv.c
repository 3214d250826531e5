/* client_kv.c - keys and values of the load command, derived, never stored.
 *
 * DESIGN: the value is a pure function of (key, seed), see client_kv.h, so
 * verification needs no table of what was written and any byte the server
 * garbles, truncates or swaps with another key's value is caught. The check
 * regenerates 8 bytes at a time and compares as it goes, without a scratch
 * buffer.
 */
#include "client_kv.h"

#include <string.h>

#include "keyhash.h"
#include "we_assert.h"

uint32_t client_kv_key(const char *prefix, uint32_t prefix_len, uint64_t i, uint8_t *out)
{
	char digits[20];
	uint32_t n = 0;

	WE_ASSERT(prefix_len <= CLIENT_KV_KEY_MAX - sizeof(digits));
	memcpy(out, prefix, prefix_len);
	do {
		digits[n++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	for (uint32_t k = 0; k < n; k++)
		out[prefix_len + k] = (uint8_t)digits[n - 1 - k];
	return prefix_len + n;
}

static uint64_t kv_hash(const uint8_t *key, uint32_t key_len, uint64_t seed)
{
	return XXH3_64bits_withSeed(key, key_len, seed);
}

/* splitmix64: one step of a well-mixed 64-bit stream. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put_le64_part(uint8_t *out, uint64_t v, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		out[k] = (uint8_t)(v >> (8 * k));
}

uint32_t client_kv_value_len(const uint8_t *key, uint32_t key_len, uint64_t seed, uint32_t min,
			     uint32_t max)
{
	WE_ASSERT(min <= max);
	return min + (uint32_t)(kv_hash(key, key_len, seed) % ((uint64_t)max - min + 1));
}

void client_kv_value(const uint8_t *key, uint32_t key_len, uint64_t seed, uint8_t *out,
		     uint32_t len)
{
	uint64_t state = kv_hash(key, key_len, seed);

	for (uint32_t off = 0; off < len; off += 8) {
		uint32_t n = len - off < 8 ? len - off : 8;

		put_le64_part(out + off, splitmix64(&state), n);
	}
}

bool client_kv_value_check(const uint8_t *key, uint32_t key_len, uint64_t seed, uint32_t min,
			   uint32_t max, const uint8_t *value, uint32_t len)
{
	uint64_t state;

	if (len != client_kv_value_len(key, key_len, seed, min, max))
		return false;
	state = kv_hash(key, key_len, seed);
	for (uint32_t off = 0; off < len; off += 8) {
		uint32_t n = len - off < 8 ? len - off : 8;
		uint8_t expect[8];

		put_le64_part(expect, splitmix64(&state), n);
		if (memcmp(expect, value + off, n) != 0)
			return false;
	}
	return true;
}
