/* addr_token.c - compute and check address tokens (see addr_token.h).
 *
 * DESIGN: SipHash-2-4 is a PRF built for short inputs under a secret key;
 * libsodium's crypto_shorthash_siphashx24 gives its 128-bit form. Without
 * the key an attacker cannot produce the token of an address whose traffic
 * it does not see, which is all we need: the token says nothing else and
 * carries no state. Comparisons are constant-time (two 64-bit XORs ORed
 * together, no early exit), so a token cannot be guessed byte by byte from
 * answer timing; they run on every request datagram, where a libc or
 * libsodium call would cost more than the check itself.
 */
#include "addr_token.h"

#include <string.h>

#include <sodium.h>

#include "we_random.h"

_Static_assert(crypto_shorthash_siphashx24_KEYBYTES == ADDR_TOKEN_KEY_SIZE, "SipHash key size");
_Static_assert(crypto_shorthash_siphashx24_BYTES == PROTO_TOKEN_SIZE, "SipHash-128 output");

int addr_token_key_init(struct addr_token_key *key)
{
	return we_random_bytes(key->bytes, sizeof(key->bytes));
}

void addr_token_make(const struct addr_token_key *key, uint32_t ip_be, uint32_t epoch,
		     uint8_t out[PROTO_TOKEN_SIZE])
{
	uint8_t in[8];

	memcpy(in, &ip_be, 4);
	in[4] = (uint8_t)epoch;
	in[5] = (uint8_t)(epoch >> 8);
	in[6] = (uint8_t)(epoch >> 16);
	in[7] = (uint8_t)(epoch >> 24);
	crypto_shorthash_siphashx24(out, in, sizeof(in), key->bytes);
}

void addr_token_cache_init(struct addr_token_cache *c, const struct addr_token_key *key)
{
	memset(c, 0, sizeof(*c));
	c->key = key;
}

static struct addr_token_line *cache_line(struct addr_token_cache *c, uint32_t ip_be,
					  uint32_t epoch)
{
	/* Fibonacci hashing of the address picks the line. */
	uint32_t i = (uint32_t)(ip_be * 2654435761u) >> 24;
	struct addr_token_line *l = &c->line[i & (ADDR_TOKEN_CACHE_LINES - 1)];

	if (!l->valid || l->ip_be != ip_be || l->epoch != epoch) {
		l->ip_be = ip_be;
		l->epoch = epoch;
		l->valid = true;
		addr_token_make(c->key, ip_be, epoch, l->current);
		addr_token_make(c->key, ip_be, epoch - 1, l->previous);
		c->computed++;
	}
	return l;
}

const uint8_t *addr_token_current(struct addr_token_cache *c, uint32_t ip_be, uint32_t epoch)
{
	return cache_line(c, ip_be, epoch)->current;
}

/* 0 when the 16 bytes are equal; the time does not depend on where they
 * differ. */
static inline uint64_t token_diff(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return (a0 ^ b0) | (a1 ^ b1);
}

bool addr_token_check(struct addr_token_cache *c, uint32_t ip_be, uint32_t epoch,
		      const uint8_t token[PROTO_TOKEN_SIZE])
{
	const struct addr_token_line *l = cache_line(c, ip_be, epoch);

	/* Both compared, whatever the first gives (no early exit). */
	uint64_t cur = token_diff(token, l->current), prev = token_diff(token, l->previous);

	return (int)(cur == 0) | (int)(prev == 0);
}
