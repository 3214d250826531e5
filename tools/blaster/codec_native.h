/* codec_native.h - the blaster's side of the native protocol (no DPDK).
 *
 * Requests are written with lib/proto.h's writer; several requests may share
 * a datagram, and then they all belong to one worker (the caller groups them
 * by codec_native_worker()). Answers are decoded into struct codec_reply.
 */
#ifndef BLASTER_CODEC_NATIVE_H
#define BLASTER_CODEC_NATIVE_H

#include <stdint.h>

#include "codec.h"
#include "proto.h"
#include "region_map.h"
#include "we_compiler.h"

/* The worker that owns key: the data plane's own mapping (keyhash.h's region,
 * then the region map), so each request goes to its owner's port. */
static inline uint16_t codec_native_worker(const struct region_map *map, const uint8_t *key,
					   uint32_t key_len)
{
	return region_map_owner_of_hash(map, keyhash(key, key_len));
}

/* Start a request datagram; echo is copied into every answer datagram (the
 * blaster puts its send timestamp there). With a token (the address token of
 * handshake.c), the datagram carries it (TOKEN flag) and PROTO_TOKEN_SIZE
 * bytes less room is left for entries; NULL: a plain datagram. */
void codec_native_begin(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint64_t echo,
			const uint8_t *token);
bool codec_native_fits(const struct proto_writer *w, uint32_t key_len, uint32_t value_len);
/* flags: durability (enum proto_durability). value only for a PUT. */
void codec_native_add(struct proto_writer *w, uint8_t op, uint8_t flags, uint32_t opaque,
		      const uint8_t *key, uint32_t key_len, const uint8_t *value,
		      uint32_t value_len);
uint32_t codec_native_finish(struct proto_writer *w);

/* Decode an answer datagram into out[0..*n) (max >= PROTO_BATCH_MAX).
 * *batch_status is the header's status (nonzero for a header-only error
 * reply, which carries no entries) and *echo its echo. Returns 0, or -EBADMSG
 * when the datagram is not a well-formed native response. */
int codec_native_decode(const uint8_t *buf, uint32_t len, struct codec_reply *out,
			unsigned max, unsigned *n, uint8_t *batch_status,
			uint64_t *echo) we_must_check;

#endif
