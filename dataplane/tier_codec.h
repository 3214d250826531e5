/* tier_codec.h - values in the compressed tiers of the event horizon cache:
 * LZ4 for the photon sphere (warm), LZ4-HC for the deep cache (cold), alone
 * or against the shard's dictionary (no DPDK).
 *
 *   tier_compress       tier_codec.c  a value for a tier, into a caller buffer; 0 when it does not pay
 *   tier_decompress     tier_codec.c  back to exactly the value's bytes, or an error
 *   tier_bound          inline        the buffer a compression may need
 *   tier_dict_create    tier_codec.c  a shard's dictionary, empty
 *   tier_dict_destroy   tier_codec.c
 *   tier_dict_sample    tier_codec.c  a piece of a value for it; builds it once full
 *   tier_dict_view      tier_codec.c  the built dictionary as decoders see it (NULL before)
 *   tier_compress_dict  tier_codec.c  tier_compress against the dictionary
 *
 * The dictionary. A value of a few hundred bytes compresses poorly alone:
 * LZ4 finds repeats only inside it. Values of one application repeat each
 * other (the same JSON keys, the same words), so each shard samples pieces
 * of the values its demotion compresses (TIER_DICT_PIECE bytes of each)
 * until it has VALUE_DICT_BYTES, then compresses every later value against
 * them: 1 KiB of the blaster's text goes from 2.2 to about 4.4 times,
 * JSON from 2.0 to 3.3 (docs/performance.md). The dictionary never changes
 * afterwards, so an item compressed against it stays readable for the
 * life of the process; items compressed before it existed stay as they
 * are (their codec says so). It is never written anywhere: what leaves
 * the process (checkpoints, the log, moves) is decoded first, and the disk
 * tier's files are emptied at each start.
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

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "value_codec.h"
#include "we_compiler.h"

#define TIER_DICT_PIECE 512u /* bytes the dictionary takes from one sampled value */

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

/* Decompress stored_len bytes in codec (value_codec.h: the tier, with
 * VALUE_CODEC_DICT when compressed against dict) into dst, which receives
 * exactly value_len bytes. 0, or -EBADMSG when the bytes do not decompress
 * to exactly value_len bytes or need a dictionary not given. */
int tier_decompress(uint8_t codec, const struct value_dict *dict, const uint8_t *src,
		    uint32_t stored_len, uint8_t *dst, uint32_t value_len) we_must_check;

struct tier_dict;

/* NULL on no memory (about 330 KiB: the bytes and LZ4's prepared states). */
struct tier_dict *tier_dict_create(void);
void tier_dict_destroy(struct tier_dict *d);
/* Keeps a piece of a value (one that compressed alone, in the shard) while
 * the dictionary is not built; the call that fills it builds it and
 * returns true. Values under TIER_SAVING_MIN * 2 bytes are not taken. */
bool tier_dict_sample(struct tier_dict *d, const uint8_t *value, uint32_t len);
/* The dictionary once built, else NULL. Its bytes never change afterwards
 * (other threads may read them through the archive files). */
const struct value_dict *tier_dict_view(const struct tier_dict *d);
/* tier_compress against d, which is built: the same answers. */
int tier_compress_dict(struct tier_dict *d, enum item_tier tier, const uint8_t *src, uint32_t len,
		       uint8_t *dst, uint32_t cap) we_must_check;

#endif
