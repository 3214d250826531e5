/* handshake.h - the address-token handshake before a native run (no DPDK,
 * no sockets, no clock: an engine moves the bytes and passes the time in).
 *
 * A server that validates addresses (docs/protocol.md, section 8) withholds
 * large answers (NEED_TOKEN) from a source that has not shown it receives
 * what is sent to its address. Before the load, the engine asks any worker
 * for the token of our source address (op TOKEN); every request datagram
 * then carries it (codec_native_begin()). The token depends only on the
 * source IP, so one handshake serves every worker port and engine queue.
 *
 *   handshake_begin(h, now, n_workers)
 *   while (h->state == HANDSHAKE_WAITING && !handshake_expired(h, now)) {
 *           if (handshake_due(h, now))    send h->req (h->req_len bytes) to
 *                                         worker h->dest (base port + dest)
 *           for each datagram received: handshake_rx(h, buf, len)
 *   }
 *
 * A try is resent every HANDSHAKE_RESEND_NS, each to the next worker port,
 * until an answer comes or HANDSHAKE_TIMEOUT_NS has passed.
 */
#ifndef BLASTER_HANDSHAKE_H
#define BLASTER_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

#define HANDSHAKE_TIMEOUT_NS 2000000000ull
#define HANDSHAKE_RESEND_NS 200000000ull
/* During a run the token is renewed this often (it lives 10 to 20 min), and
 * a renewal left unanswered is tried again every HANDSHAKE_RENEW_RETRY_NS. */
#define HANDSHAKE_RENEW_NS (300ull * 1000000000ull)
#define HANDSHAKE_RENEW_RETRY_NS 1000000000ull
/* The echo of every handshake request (ASCII "WETOKEN"). */
#define HANDSHAKE_ECHO 0x004e454b4f544557ull
#define HANDSHAKE_REQ_MAX 64

enum handshake_state {
	HANDSHAKE_WAITING = 0,
	HANDSHAKE_GOT_TOKEN,   /* h->token holds the token */
	HANDSHAKE_UNSUPPORTED, /* an older server: op TOKEN unknown, no validation */
};

struct handshake {
	enum handshake_state state;
	uint16_t n_workers;
	uint16_t dest;        /* worker of the try handshake_due() just released */
	uint32_t tries;
	uint64_t start_ns;
	uint64_t next_ns;     /* when the next try is due */
	uint64_t rx_other;    /* datagrams that were not an answer to the handshake */
	uint8_t refused_status; /* last non-OK status the server gave the op (0: none) */
	uint8_t token[PROTO_TOKEN_SIZE];
	uint32_t req_len;
	uint8_t req[HANDSHAKE_REQ_MAX];
};

void handshake_begin(struct handshake *h, uint64_t now_ns, uint16_t n_workers);
/* Write the handshake's request (one plain datagram, one TOKEN entry, echo
 * HANDSHAKE_ECHO) into buf; returns its length. */
uint32_t handshake_encode(uint8_t *buf, uint32_t cap);
/* The token in an answer entry to a handshake (op TOKEN, OK, 16 bytes, the
 * handshake's echo), or NULL. */
const uint8_t *handshake_token(uint64_t echo, const uint8_t *value, uint32_t value_len,
			       uint8_t op, uint8_t status);
/* A try is due now: h->req goes to worker h->dest. */
bool handshake_due(struct handshake *h, uint64_t now_ns);
/* No answer within HANDSHAKE_TIMEOUT_NS of the start. */
bool handshake_expired(const struct handshake *h, uint64_t now_ns);
/* The earliest time the engine must look again (next try or the end). */
uint64_t handshake_next_ns(const struct handshake *h);
/* Any datagram that arrived while waiting; what is not an answer to the
 * handshake is counted in rx_other and ignored. */
void handshake_rx(struct handshake *h, const uint8_t *buf, uint32_t len);

#endif
