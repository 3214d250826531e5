/* client_kv.h - the load command's deterministic keys and values (pure).
 *
 * Key i is the prefix followed by i in decimal ("key:0", "key:1", ...).
 * Its value is derived from the key bytes and the seed alone, so the GET
 * phase can verify every byte without remembering what the PUT phase sent,
 * and two runs with the same seed write the same data:
 *
 *   h      = XXH3_64bits_withSeed(key, key_len, seed)
 *   length = min + h mod (max - min + 1)
 *   bytes  = the splitmix64 stream started at h, 8 bytes per step, little-endian
 */
#ifndef CLIENT_KV_H
#define CLIENT_KV_H

#include <stdbool.h>
#include <stdint.h>

/* Longest key client_kv_key() writes: a 64-byte prefix and 20 digits. */
#define CLIENT_KV_KEY_MAX (64 + 20)

/* Write key i (prefix_len <= 64) into out; returns its length. */
uint32_t client_kv_key(const char *prefix, uint32_t prefix_len, uint64_t i, uint8_t *out);

/* The value length of a key: in [min, max]. */
uint32_t client_kv_value_len(const uint8_t *key, uint32_t key_len, uint64_t seed, uint32_t min,
			     uint32_t max);

/* Write the key's value (len bytes, len from client_kv_value_len). */
void client_kv_value(const uint8_t *key, uint32_t key_len, uint64_t seed, uint8_t *out,
		     uint32_t len);

/* True if (value, len) is exactly the key's value for this seed and range. */
bool client_kv_value_check(const uint8_t *key, uint32_t key_len, uint64_t seed, uint32_t min,
			   uint32_t max, const uint8_t *value, uint32_t len);

#endif
