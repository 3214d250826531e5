/* tier_codec.c - LZ4 and LZ4-HC for the compressed tiers (see tier_codec.h). */
#include "tier_codec.h"

#include <errno.h>

#include <lz4.h>
#include <lz4hc.h>

_Static_assert(ARENA_VALUE_MAX <= LZ4_MAX_INPUT_SIZE, "LZ4 takes any value the arena holds");

int tier_compress(enum item_tier tier, const uint8_t *src, uint32_t len, uint8_t *dst,
		  uint32_t cap)
{
	int n;

	if (len > ARENA_VALUE_MAX || (tier != TIER_PHOTON_SPHERE && tier != TIER_DEEP_CACHE))
		return -EINVAL;
	if (len < TIER_SAVING_MIN * 2)
		return 0; /* cannot save enough */
	if (tier == TIER_PHOTON_SPHERE)
		n = LZ4_compress_default((const char *)src, (char *)dst, (int)len, (int)cap);
	else
		n = LZ4_compress_HC((const char *)src, (char *)dst, (int)len, (int)cap,
				    TIER_HC_LEVEL);
	/* 0: it did not fit cap, which tier_bound() would have: incompressible. */
	if (n <= 0 || (uint32_t)n + TIER_SAVING_MIN > len || (uint32_t)n > len - len / 8)
		return 0;
	return n;
}

int tier_decompress(const uint8_t *src, uint32_t stored_len, uint8_t *dst, uint32_t value_len)
{
	int n;

	if (stored_len > (uint32_t)LZ4_MAX_INPUT_SIZE || value_len > ARENA_VALUE_MAX)
		return -EBADMSG;
	n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)stored_len, (int)value_len);
	return n == (int)value_len ? 0 : -EBADMSG;
}
