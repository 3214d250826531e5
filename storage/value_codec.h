/* value_codec.h - how a value's stored bytes decode, wherever they are read:
 * in a shard's compressed tiers, in a disk tier record, by a checkpoint or a
 * region move (pure, no I/O).
 *
 *   value_codec_decode  value_codec.c  stored bytes -> exactly value_len bytes, or an error
 *   value_dict_window   inline         the part of a dictionary a codec compresses against
 *   value_codec_of      inline         the codec of a tier's bytes, with or without the dictionary
 *
 * A codec is one byte: VALUE_CODEC_RAW, _LZ4 (the photon sphere), _LZ4HC
 * (the deep cache), each compressed one optionally with VALUE_CODEC_DICT:
 * compressed against the owning shard's dictionary (dataplane/tier_codec.h),
 * sampled from its own values once and never changed while the process
 * runs. LZ4 uses the whole dictionary; LZ4-HC only its last
 * VALUE_DICT_HC_BYTES (loading a dictionary into LZ4-HC costs per value,
 * in proportion to its size). A dictionary never reaches the disk: the
 * disk tier's files are emptied at each start, and checkpoints and moves
 * carry values decoded.
 */
#ifndef VALUE_CODEC_H
#define VALUE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"

enum {
	VALUE_CODEC_RAW = 0,
	VALUE_CODEC_LZ4 = 1,
	VALUE_CODEC_LZ4HC = 2,
	VALUE_CODEC_DICT = 4, /* or'ed with LZ4 or LZ4HC */
	VALUE_CODEC_MAX = VALUE_CODEC_DICT | VALUE_CODEC_LZ4HC,
};

#define VALUE_DICT_BYTES 32768u   /* a shard's dictionary */
#define VALUE_DICT_HC_BYTES 8192u /* the end of it LZ4-HC uses */

/* A dictionary as readers see it: bytes that never change once published. */
struct value_dict {
	const uint8_t *bytes;
	uint32_t len;
};

static inline int value_codec_valid(uint8_t codec)
{
	uint8_t base = codec & (uint8_t)~VALUE_CODEC_DICT;

	return codec <= VALUE_CODEC_MAX && base <= VALUE_CODEC_LZ4HC &&
	       !(base == VALUE_CODEC_RAW && (codec & VALUE_CODEC_DICT));
}

/* The codec of bytes stored in a tier (its number: RAW, LZ4, LZ4HC),
 * compressed against the shard's dictionary or not. */
static inline uint8_t value_codec_of(unsigned tier, bool dict)
{
	return (uint8_t)(tier | (dict ? VALUE_CODEC_DICT : 0));
}

/* The window of d that codec compresses against (len 0 without DICT). */
static inline struct value_dict value_dict_window(const struct value_dict *d, uint8_t codec)
{
	struct value_dict w = {0};

	if (!(codec & VALUE_CODEC_DICT) || d == NULL)
		return w;
	w = *d;
	if ((codec & ~VALUE_CODEC_DICT) == VALUE_CODEC_LZ4HC && w.len > VALUE_DICT_HC_BYTES) {
		w.bytes += w.len - VALUE_DICT_HC_BYTES;
		w.len = VALUE_DICT_HC_BYTES;
	}
	return w;
}

/* Decodes stored_len bytes in codec into dst, which receives exactly
 * value_len bytes (cap >= value_len). A raw codec copies. dict: the owning
 * shard's dictionary (NULL when it has none). 0, or -EBADMSG when the
 * codec is unknown, needs a dictionary that is not given, or the bytes do
 * not give exactly value_len bytes. */
int value_codec_decode(uint8_t codec, const struct value_dict *dict, const uint8_t *src,
		       uint32_t stored_len, uint8_t *dst, uint32_t value_len) we_must_check;

#endif
