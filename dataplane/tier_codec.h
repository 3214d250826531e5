/* tier_codec.h - values in the compressed tiers of the event horizon cache:
 * LZ4 for the photon sphere (warm), LZ4-HC for the deep cache (cold) (no
 * DPDK).
 *
 *   tier_compress    tier_codec.c  a value for a tier, into a caller buffer; 0 when it does not pay
 *   tier_decompress  tier_codec.c  back to exactly the value's bytes, or an error
 *   tier_bound       inline        the buffer a compression may need
 *
 * A compressed copy is kept only when it saves at least an eighth of the
 * value and TIER_SAVING_MIN bytes: below that the arena's rounding eats the
 * gain and every GET would pay a decompression for nothing, so such values
 * stay raw (TIER_EVENT_HORIZON) whatever their temperature. Decompression
 * checks that the stored bytes give exactly value_len bytes and never
 * writes past them; an LZ4 block carries no checksum (in memory, neither
 * does a raw value): what goes to disk must carry its own.
 */
#ifndef TIER_CODEC_H
#define TIER_CODEC_H

#include <stdint.h>

#include "arena.h"
#include "we_compiler.h"

#define TIER_SAVING_MIN 16u  /* bytes a compressed copy must save */
#define TIER_HC_LEVEL 9      /* LZ4-HC's default level */

/* The most bytes tier_compress may write for a value of len bytes. */
static inline uint32_t tier_bound(uint32_t len)
{
	return len + len / 255 + 16; /* LZ4_COMPRESSBOUND */
}

/* Compress src[0..len) for tier (TIER_PHOTON_SPHERE: LZ4, TIER_DEEP_CACHE:
 * LZ4-HC) into dst (cap >= tier_bound(len) is always enough). Returns the
 * compressed size, 0 when it does not save enough (keep the value raw), or
 * -EINVAL for another tier or a value over the arena's limit. */
int tier_compress(enum item_tier tier, const uint8_t *src, uint32_t len, uint8_t *dst,
		  uint32_t cap) we_must_check;

/* Decompress stored_len bytes into dst, which receives exactly value_len
 * bytes. 0, or -EBADMSG when the bytes do not decompress to exactly
 * value_len bytes. */
int tier_decompress(const uint8_t *src, uint32_t stored_len, uint8_t *dst, uint32_t value_len)
	we_must_check;

#endif
