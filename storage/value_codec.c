/* value_codec.c - decoding a value's stored bytes (see value_codec.h). */
#include "value_codec.h"

#include <errno.h>
#include <string.h>

#include <lz4.h>

int value_codec_decode(uint8_t codec, const struct value_dict *dict, const uint8_t *src,
		       uint32_t stored_len, uint8_t *dst, uint32_t value_len)
{
	struct value_dict w;
	int n;

	if (!value_codec_valid(codec) || stored_len > (uint32_t)LZ4_MAX_INPUT_SIZE ||
	    value_len > (uint32_t)LZ4_MAX_INPUT_SIZE)
		return -EBADMSG;
	if (codec == VALUE_CODEC_RAW) {
		if (stored_len != value_len)
			return -EBADMSG;
		memcpy(dst, src, value_len);
		return 0;
	}
	w = value_dict_window(dict, codec);
	if ((codec & VALUE_CODEC_DICT) && w.len == 0)
		return -EBADMSG; /* compressed against a dictionary this reader lacks */
	if (w.len != 0)
		n = LZ4_decompress_safe_usingDict((const char *)src, (char *)dst, (int)stored_len,
						  (int)value_len, (const char *)w.bytes, (int)w.len);
	else
		n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)stored_len,
					(int)value_len);
	return n == (int)value_len ? 0 : -EBADMSG;
}
