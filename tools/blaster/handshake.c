/* handshake.c - ask the server for our address token before the load.
 *
 * DESIGN: the request is one plain datagram (no TOKEN flag: we have none
 * yet) with one TOKEN entry, always the same bytes, resent on a fixed period
 * and rotated over the worker ports so that one busy or absent worker cannot
 * hold the run up. The answer is recognised by its echo and the TOKEN op:
 *
 *   OK, 16-byte value       the token
 *   UNKNOWN_OP (entry)      an older server: it has no validation, so the
 *   UNSUPPORTED (header)    requests go without a token
 *   BUSY, WRONG_OWNER       transient: the next try will tell
 *   anything else           remembered (refused_status) and retried; the
 *                           engine reports it if the time runs out
 *
 * During the load the token is renewed every HANDSHAKE_RENEW_NS with the
 * same request, sent among the load's datagrams (blaster.c); blaster_rx.c
 * takes the token from its answer (handshake_token()). Any other TOKEN
 * answer, a late copy, matches no request.
 */
#include "handshake.h"

#include <string.h>

#include "we_assert.h"

/* The entry's key: TOKEN takes any key, like PING. */
static const char handshake_key[] = "token";

uint32_t handshake_encode(uint8_t *buf, uint32_t cap)
{
	struct proto_writer w;

	proto_writer_init(&w, buf, cap, 0, HANDSHAKE_ECHO);
	WE_ASSERT(proto_writer_fits(&w, sizeof(handshake_key) - 1, 0));
	proto_writer_append(&w, PROTO_OP_TOKEN, 0, 0, 0, handshake_key, sizeof(handshake_key) - 1,
			    NULL, 0);
	return proto_writer_finish(&w);
}

const uint8_t *handshake_token(uint64_t echo, const uint8_t *value, uint32_t value_len,
			       uint8_t op, uint8_t status)
{
	if (echo != HANDSHAKE_ECHO || op != PROTO_OP_TOKEN || status != WE_STATUS_OK ||
	    value_len != PROTO_TOKEN_SIZE)
		return NULL;
	return value;
}

void handshake_begin(struct handshake *h, uint64_t now_ns, uint16_t n_workers)
{
	WE_ASSERT(n_workers >= 1);
	memset(h, 0, sizeof(*h));
	h->n_workers = n_workers;
	h->start_ns = now_ns;
	h->next_ns = now_ns;
	h->req_len = handshake_encode(h->req, sizeof(h->req));
}

bool handshake_due(struct handshake *h, uint64_t now_ns)
{
	if (h->state != HANDSHAKE_WAITING || now_ns < h->next_ns || handshake_expired(h, now_ns))
		return false;
	h->dest = (uint16_t)(h->tries % h->n_workers);
	h->tries++;
	h->next_ns = now_ns + HANDSHAKE_RESEND_NS;
	return true;
}

bool handshake_expired(const struct handshake *h, uint64_t now_ns)
{
	/* A time before the start is not a huge age: the DPDK engine's TSC clock
	 * may run a little behind the CLOCK_MONOTONIC time main began with
	 * (EAL rounds the TSC rate to 10 MHz: 2100 for 2096 MHz). */
	return now_ns > h->start_ns && now_ns - h->start_ns >= HANDSHAKE_TIMEOUT_NS;
}

uint64_t handshake_next_ns(const struct handshake *h)
{
	uint64_t end = h->start_ns + HANDSHAKE_TIMEOUT_NS;

	return h->next_ns < end ? h->next_ns : end;
}

void handshake_rx(struct handshake *h, const uint8_t *buf, uint32_t len)
{
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	unsigned n;

	if (h->state != HANDSHAKE_WAITING ||
	    proto_decode_response(buf, len, &hdr, e, PROTO_BATCH_MAX, &n) != PROTO_DECODE_OK ||
	    hdr.echo != HANDSHAKE_ECHO) {
		h->rx_other++;
		return;
	}
	if (n == 0) {
		/* Header-only: the datagram was refused as a whole. */
		if (hdr.status == WE_STATUS_UNSUPPORTED)
			h->state = HANDSHAKE_UNSUPPORTED;
		else if (hdr.status != WE_STATUS_BUSY)
			h->refused_status = hdr.status;
		return;
	}
	if (n != 1 || e[0].op != PROTO_OP_TOKEN || e[0].opaque != 0) {
		h->rx_other++;
		return;
	}
	if (e[0].status == WE_STATUS_OK && e[0].value_len == PROTO_TOKEN_SIZE) {
		memcpy(h->token, e[0].value, PROTO_TOKEN_SIZE);
		h->state = HANDSHAKE_GOT_TOKEN;
	} else if (e[0].status == WE_STATUS_UNKNOWN_OP) {
		h->state = HANDSHAKE_UNSUPPORTED;
	} else if (e[0].status != WE_STATUS_BUSY && e[0].status != WE_STATUS_WRONG_OWNER) {
		/* OK with a value of another size lands here too. */
		h->refused_status = e[0].status == WE_STATUS_OK ? WE_STATUS_MALFORMED
								: e[0].status;
	}
}
