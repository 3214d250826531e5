/* codec.h - one decoded answer, whatever protocol carried it (no DPDK).
 *
 * codec_native.c (the WarpEngine protocol) and codec_mc.c (memcached UDP)
 * both turn answers into this form; blaster.c matches them to requests by
 * opaque and never looks at wire bytes.
 */
#ifndef BLASTER_CODEC_H
#define BLASTER_CODEC_H

#include <stdbool.h>
#include <stdint.h>

struct codec_reply {
	uint32_t opaque;      /* native: the entry's opaque; memcached: request id */
	uint8_t op;           /* native: the op echoed; memcached: 0 (not on the wire) */
	uint8_t status;       /* enum we_status */
	bool has_value;       /* a GET hit: value/value_len hold the value */
	const uint8_t *value; /* points into the datagram (or reassembly buffer) */
	uint32_t value_len;
	const uint8_t *key;   /* memcached VALUE line's key, else NULL */
	uint32_t key_len;
};

#endif
