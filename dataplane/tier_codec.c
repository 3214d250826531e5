/* tier_codec.c - LZ4 and LZ4-HC for the compressed tiers, alone or against
 * the shard's dictionary (see tier_codec.h). */
#include "tier_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4hc.h>

_Static_assert(ARENA_VALUE_MAX <= LZ4_MAX_INPUT_SIZE, "LZ4 takes any value the arena holds");
_Static_assert((int)VALUE_CODEC_LZ4 == (int)TIER_PHOTON_SPHERE &&
		       (int)VALUE_CODEC_LZ4HC == (int)TIER_DEEP_CACHE &&
		       (int)VALUE_CODEC_RAW == (int)TIER_EVENT_HORIZON,
	       "a compressed tier's number is its codec");

struct tier_dict {
	struct value_dict view; /* len 0 until built */
	uint32_t filled;        /* bytes sampled */
	uint32_t samples;       /* values sampled */
	uint8_t bytes[VALUE_DICT_BYTES];
	LZ4_stream_t ready; /* the dictionary loaded once (LZ4_loadDict) */
	LZ4_stream_t work;  /* a copy of ready per compression: cheaper than loading */
	LZ4_streamHC_t hc;  /* loaded with the dictionary's end per compression */
};

/* Whether a compressed copy of n bytes pays for a value of len bytes. */
static int worth(int n, uint32_t len)
{
	/* 0: it did not fit cap, which tier_bound() would have: incompressible. */
	if (n <= 0 || (uint32_t)n + TIER_SAVING_MIN > len || (uint32_t)n > len - len / 8)
		return 0;
	return n;
}

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
	return worth(n, len);
}

int tier_decompress(uint8_t codec, const struct value_dict *dict, const uint8_t *src,
		    uint32_t stored_len, uint8_t *dst, uint32_t value_len)
{
	if (value_len > ARENA_VALUE_MAX || codec == VALUE_CODEC_RAW)
		return -EBADMSG;
	return value_codec_decode(codec, dict, src, stored_len, dst, value_len);
}

struct tier_dict *tier_dict_create(void)
{
	struct tier_dict *d = aligned_alloc(64, (sizeof(struct tier_dict) + 63) & ~(size_t)63);

	if (d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	return d;
}

void tier_dict_destroy(struct tier_dict *d)
{
	free(d);
}

bool tier_dict_sample(struct tier_dict *d, const uint8_t *value, uint32_t len)
{
	uint32_t take, from = 0;

	if (d->view.len != 0 || len < TIER_SAVING_MIN * 2)
		return false;
	take = len < TIER_DICT_PIECE ? len : TIER_DICT_PIECE;
	if (take > VALUE_DICT_BYTES - d->filled)
		take = VALUE_DICT_BYTES - d->filled;
	/* From a different place in each value: the repeats a dictionary
	 * serves are spread over whole values (JSON keys, common words). */
	if (len > take)
		from = (d->samples * 2654435761u) % (len - take + 1);
	memcpy(d->bytes + d->filled, value + from, take);
	d->filled += take;
	d->samples++;
	if (d->filled < VALUE_DICT_BYTES)
		return false;
	LZ4_initStream(&d->ready, sizeof(d->ready));
	LZ4_loadDict(&d->ready, (const char *)d->bytes, (int)d->filled);
	LZ4_initStreamHC(&d->hc, sizeof(d->hc));
	d->view.bytes = d->bytes;
	__atomic_store_n(&d->view.len, d->filled, __ATOMIC_RELEASE);
	return true;
}

const struct value_dict *tier_dict_view(const struct tier_dict *d)
{
	if (d == NULL || __atomic_load_n(&d->view.len, __ATOMIC_ACQUIRE) == 0)
		return NULL;
	return &d->view;
}

int tier_compress_dict(struct tier_dict *d, enum item_tier tier, const uint8_t *src, uint32_t len,
		       uint8_t *dst, uint32_t cap)
{
	struct value_dict w;
	int n;

	if (len > ARENA_VALUE_MAX || (tier != TIER_PHOTON_SPHERE && tier != TIER_DEEP_CACHE) ||
	    d->view.len == 0)
		return -EINVAL;
	if (len < TIER_SAVING_MIN * 2)
		return 0;
	w = value_dict_window(&d->view, (uint8_t)(tier | VALUE_CODEC_DICT));
	if (tier == TIER_PHOTON_SPHERE) {
		memcpy(&d->work, &d->ready, sizeof(d->work));
		n = LZ4_compress_fast_continue(&d->work, (const char *)src, (char *)dst, (int)len,
					       (int)cap, 1);
	} else {
		LZ4_resetStreamHC_fast(&d->hc, TIER_HC_LEVEL);
		LZ4_loadDictHC(&d->hc, (const char *)w.bytes, (int)w.len);
		n = LZ4_compress_HC_continue(&d->hc, (const char *)src, (char *)dst, (int)len,
					     (int)cap);
	}
	return worth(n, len);
}
