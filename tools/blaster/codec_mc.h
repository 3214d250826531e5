/* codec_mc.h - memcached's UDP protocol, ASCII commands (no DPDK).
 *
 *   codec_mc_encode_get/set/delete()  one request per datagram
 *   codec_mc_frame_decode()           the 8-byte frame header of an answer
 *   codec_mc_reasm_*()                put a multi-datagram answer together
 *   codec_mc_parse_reply()            the ASCII answer to one GET/SET/DELETE
 */
#ifndef BLASTER_CODEC_MC_H
#define BLASTER_CODEC_MC_H

#include <stdint.h>

#include "codec.h"
#include "we_compiler.h"

#define MC_FRAME_HDR_SIZE 8
/* memcached sends answers in datagrams of at most 1400 bytes, frame header
 * included (UDP_MAX_PAYLOAD_SIZE in memcached.h). */
#define MC_DGRAM_ANSWER_MAX 1400
/* A fragment we accept may be up to a full Ethernet-MTU UDP payload. */
#define MC_FRAG_MAX (1472 - MC_FRAME_HDR_SIZE)
/* Longest request datagram: the largest UDP payload over IPv4. */
#define MC_REQUEST_MAX 65507
#define MC_REASM_FRAGS_MAX 64
#define MC_REASM_SLOTS 16

struct mc_frame {
	uint16_t request_id;
	uint16_t seq;
	uint16_t total;
	uint16_t reserved;
};

/* Encoders write the frame header (request_id, seq 0, total 1, reserved 0)
 * and the command. They return the datagram length, or 0 if cap is too small. */
uint32_t codec_mc_encode_get(uint8_t *buf, uint32_t cap, uint16_t request_id,
			     const uint8_t *key, uint32_t key_len);
uint32_t codec_mc_encode_set(uint8_t *buf, uint32_t cap, uint16_t request_id,
			     const uint8_t *key, uint32_t key_len, const uint8_t *value,
			     uint32_t value_len);
uint32_t codec_mc_encode_delete(uint8_t *buf, uint32_t cap, uint16_t request_id,
				const uint8_t *key, uint32_t key_len);
/* Bytes a SET of these sizes takes on the wire, header included. */
uint32_t codec_mc_set_size(uint32_t key_len, uint32_t value_len);

/* Returns 0, or -EBADMSG for a datagram shorter than the header or a header
 * that cannot be (total 0, seq >= total). */
int codec_mc_frame_decode(const uint8_t *buf, uint32_t len, struct mc_frame *f) we_must_check;

/* Parse the complete answer `p[0..len)` to a request of op (enum
 * workload_op). Fills r (opaque left to the caller). Returns 0, or -EBADMSG
 * when the bytes are not a valid answer to that op. */
int codec_mc_parse_reply(const uint8_t *p, uint32_t len, uint8_t op,
			 struct codec_reply *r) we_must_check;

/* Reassembly of answers split over several datagrams (seq 0..total-1). */
struct codec_mc_reasm_slot {
	uint64_t stamp_ns;  /* last fragment arrival, for eviction */
	uint16_t request_id;
	uint16_t total;
	uint16_t received;
	uint8_t busy;
	uint16_t frag_len[MC_REASM_FRAGS_MAX];
	uint8_t *buf;       /* MC_REASM_FRAGS_MAX * MC_FRAG_MAX bytes */
};

struct codec_mc_reasm {
	struct codec_mc_reasm_slot slots[MC_REASM_SLOTS];
	uint64_t evicted;   /* partial answers dropped to make room */
};

int codec_mc_reasm_init(struct codec_mc_reasm *r) we_must_check;
void codec_mc_reasm_fini(struct codec_mc_reasm *r);
/* Feed one datagram's payload (after the frame header). Returns 1 when the
 * answer is complete: *out and *out_len hold it until the next call. Returns 0
 * while fragments are missing (or for a duplicate), -EBADMSG for a fragment
 * that cannot be placed (total too large, fragment too long, total changed). */
int codec_mc_reasm_add(struct codec_mc_reasm *r, const struct mc_frame *f,
		       const uint8_t *payload, uint32_t len, uint64_t now_ns,
		       const uint8_t **out, uint32_t *out_len) we_must_check;

#endif
