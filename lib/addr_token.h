/* addr_token.h - stateless address tokens against reflection (no DPDK).
 *
 * A UDP server answers whoever the source address says sent the request; a
 * spoofed source turns it into a reflector that aims our answers at a victim.
 * Like QUIC's address validation, a source proves that it receives what we
 * send to its address by echoing a token that we sent there:
 *
 *   token = SipHash-2-4-128(server key, source IPv4 address || epoch)
 *
 * The key is random per process (getrandom at start); the epoch is
 * monotonic seconds / ADDR_TOKEN_EPOCH_S, and a token of the current or the
 * previous epoch is accepted, so a token lives 10 to 20 minutes and dies
 * with the process. Nothing is stored per client: a token is recomputed to
 * check it. Checking costs one SipHash of 8 bytes (~20 ns), so each worker
 * keeps a small direct-mapped cache of the tokens it computed last (one
 * line per source address); a flood from many spoofed sources costs one
 * hash per datagram, no more.
 *
 * The budget a source gets until it is validated is PROTO_AMPLIFICATION_MAX
 * times the bytes it sent (execute.c enforces it); see docs/protocol.md.
 */
#ifndef ADDR_TOKEN_H
#define ADDR_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"
#include "we_compiler.h"

#define ADDR_TOKEN_KEY_SIZE 16
#define ADDR_TOKEN_EPOCH_S 600
#define ADDR_TOKEN_CACHE_LINES 256 /* a power of two */
_Static_assert((ADDR_TOKEN_CACHE_LINES & (ADDR_TOKEN_CACHE_LINES - 1)) == 0,
	       "ADDR_TOKEN_CACHE_LINES must be a power of two");

struct addr_token_key {
	uint8_t bytes[ADDR_TOKEN_KEY_SIZE];
};

/* Fill key with fresh random bytes. 0 or a negative errno. */
int addr_token_key_init(struct addr_token_key *key) we_must_check;

/* The epoch that monotonic time now_ns falls in. */
static inline uint32_t addr_token_epoch(uint64_t now_ns)
{
	return (uint32_t)(now_ns / (ADDR_TOKEN_EPOCH_S * 1000000000ull));
}

/* The token of source address ip_be (network order) in epoch. */
void addr_token_make(const struct addr_token_key *key, uint32_t ip_be, uint32_t epoch,
		     uint8_t out[PROTO_TOKEN_SIZE]);

/* One worker's cache of recently computed tokens. Zeroed memory is an empty
 * cache (epoch 0 is never current after the first 10 minutes of uptime,
 * and a line for epoch 0 still holds correct tokens). */
struct addr_token_line {
	uint32_t ip_be;
	uint32_t epoch;
	bool valid;
	uint8_t current[PROTO_TOKEN_SIZE];
	uint8_t previous[PROTO_TOKEN_SIZE];
};

struct addr_token_cache {
	const struct addr_token_key *key;
	uint64_t computed; /* tokens hashed (cache misses), for the counters */
	struct addr_token_line line[ADDR_TOKEN_CACHE_LINES];
};

void addr_token_cache_init(struct addr_token_cache *c, const struct addr_token_key *key);

/* The current token for ip_be (computed and cached on a miss). */
const uint8_t *addr_token_current(struct addr_token_cache *c, uint32_t ip_be, uint32_t epoch);

/* True when token is ip_be's token of epoch or epoch - 1. */
bool addr_token_check(struct addr_token_cache *c, uint32_t ip_be, uint32_t epoch,
		      const uint8_t token[PROTO_TOKEN_SIZE]);

#endif
