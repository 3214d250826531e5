/* client_token.c - get, keep and renew one server's address token.
 *
 * DESIGN: a small state machine (drawn in client_token.h) that the tracker
 * drives like one more datagram slot: it releases the handshake datagram
 * from next_tx before any request, times it out and retries it with the
 * requests' timeout and back-off, and hands it the answers whose echo names
 * CLIENT_TOKEN_SLOT. The handshake is one plain datagram (no token yet) with
 * one TOKEN entry; every try of one handshake has the same echo, so an
 * answer to any of them counts, and each try goes to the next worker port,
 * so that one lost or busy worker does not hold the client up (the token
 * depends on our address only, any worker issues it).
 *
 * What an answer means (docs/protocol.md, section 14):
 *   OK with a 16-byte value     the token (a new generation)
 *   UNKNOWN_OP, or header-only  an older server, without validation: no
 *   UNSUPPORTED                 token, plain requests, served in full
 *   BUSY, WRONG_OWNER           transient: the next try will tell
 *   another status              no token to be had now: FAILED, plain
 *                               requests (a NEED_TOKEN asks again)
 */
#include "client_token.h"

#include <string.h>

#include "we_assert.h"

/* The k-th retry waits timeout x min(2^k, BACKOFF_MAX), as requests do. */
#define BACKOFF_MAX 4u

/* The entry's key: TOKEN takes any key, like PING. */
static const char client_token_key[] = "token";

void client_token_init(struct client_token *k, bool enabled, uint16_t nonce, uint16_t n_workers,
		       uint64_t timeout_ns, uint32_t retries)
{
	WE_ASSERT(n_workers >= 1);
	memset(k, 0, sizeof(*k));
	k->state = enabled ? CLIENT_TOKEN_NONE : CLIENT_TOKEN_OFF;
	k->nonce = nonce;
	k->n_workers = n_workers;
	k->timeout_ns = timeout_ns;
	k->retries = retries;
}

/* Start a handshake: a new echo, the request encoded once. */
static void client_token_begin(struct client_token *k, uint64_t now_ns)
{
	struct proto_writer w;

	k->state = CLIENT_TOKEN_ASKING;
	k->tries = 0;
	k->seq++;
	k->first_sent_ns = now_ns;
	k->echo = (uint64_t)k->nonce << 48 | (uint64_t)k->seq << 16 | CLIENT_TOKEN_SLOT;
	proto_writer_init(&w, k->req, sizeof(k->req), 0, k->echo);
	WE_ASSERT(proto_writer_fits(&w, sizeof(client_token_key) - 1, 0));
	proto_writer_append(&w, PROTO_OP_TOKEN, 0, 0, 0, client_token_key,
			    sizeof(client_token_key) - 1, NULL, 0);
	k->req_len = proto_writer_finish(&w);
}

bool client_token_next_tx(struct client_token *k, uint64_t now_ns, bool busy,
			  const uint8_t **buf, uint32_t *len, uint16_t *worker)
{
	unsigned shift;
	uint64_t factor;

	switch (k->state) {
	case CLIENT_TOKEN_NONE:
		if (!busy)
			return false;
		client_token_begin(k, now_ns);
		break;
	case CLIENT_TOKEN_HAVE:
		if (!busy || now_ns < k->refresh_ns)
			return false;
		client_token_begin(k, now_ns);
		break;
	case CLIENT_TOKEN_ASKING:
		if (!k->resend)
			return false;
		break;
	default:
		return false;
	}
	k->resend = false;
	*worker = (uint16_t)(k->tries % k->n_workers);
	shift = k->tries;
	factor = shift >= 2 ? BACKOFF_MAX : 1u << shift;
	k->tries++;
	k->deadline_ns = now_ns + k->timeout_ns * factor;
	k->sent++;
	*buf = k->req;
	*len = k->req_len;
	return true;
}

/* No token will come from this handshake: keep an old one (a refresh that
 * failed; it is tried again later), or go on without. */
static void client_token_give_up(struct client_token *k, uint64_t now_ns)
{
	if (k->have) {
		k->state = CLIENT_TOKEN_HAVE;
		k->refresh_ns = now_ns + CLIENT_TOKEN_REFRESH_NS;
	} else {
		k->state = CLIENT_TOKEN_FAILED;
	}
}

bool client_token_rx(struct client_token *k, const struct proto_batch_hdr *hdr,
		     const struct proto_request *e, unsigned n)
{
	if (k->state != CLIENT_TOKEN_ASKING || hdr->echo != k->echo)
		return false; /* an answer to an earlier handshake */
	if (n == 0) {
		/* Header-only: the datagram was refused whole. */
		if (hdr->status == WE_STATUS_UNSUPPORTED) {
			k->state = CLIENT_TOKEN_UNSUPPORTED;
			k->have = false;
		} else if (hdr->status != WE_STATUS_BUSY) {
			k->rx_invalid++;
		}
		return false;
	}
	if (n != 1 || e[0].op != PROTO_OP_TOKEN || e[0].opaque != 0) {
		k->rx_invalid++;
		return false;
	}
	switch (e[0].status) {
	case WE_STATUS_OK:
		if (e[0].value_len != PROTO_TOKEN_SIZE) {
			k->rx_invalid++;
			return false;
		}
		memcpy(k->token, e[0].value, PROTO_TOKEN_SIZE);
		k->have = true;
		k->gen++;
		k->received++;
		k->state = CLIENT_TOKEN_HAVE;
		k->refresh_ns = k->first_sent_ns + CLIENT_TOKEN_REFRESH_NS;
		return true;
	case WE_STATUS_UNKNOWN_OP:
		k->state = CLIENT_TOKEN_UNSUPPORTED;
		k->have = false;
		return false;
	case WE_STATUS_BUSY:
	case WE_STATUS_WRONG_OWNER:
		return false; /* the next try, at the deadline */
	default:
		client_token_give_up(k, k->first_sent_ns);
		return false;
	}
}

uint64_t client_token_expire(struct client_token *k, uint64_t now_ns)
{
	if (k->state != CLIENT_TOKEN_ASKING)
		return UINT64_MAX;
	if (!k->resend && now_ns >= k->deadline_ns) {
		if (k->tries > k->retries) {
			client_token_give_up(k, now_ns);
			return UINT64_MAX;
		}
		k->resend = true;
	}
	return k->resend ? now_ns : k->deadline_ns;
}

bool client_token_need(struct client_token *k, uint32_t gen)
{
	if (k->state == CLIENT_TOKEN_OFF || k->state == CLIENT_TOKEN_UNSUPPORTED)
		return false;
	if (k->have && gen < k->gen)
		return true; /* sent before the current token came: resend with it */
	/* The token it carried (or its lack) is not good: new datagrams wait
	 * for a new one. */
	k->have = false;
	if (k->state != CLIENT_TOKEN_ASKING)
		k->state = CLIENT_TOKEN_NONE;
	return true;
}

void client_token_refused(struct client_token *k)
{
	if (k->state == CLIENT_TOKEN_OFF)
		return;
	k->state = CLIENT_TOKEN_UNSUPPORTED;
	k->have = false;
}

const char *client_token_state_name(const struct client_token *k)
{
	switch (k->state) {
	case CLIENT_TOKEN_OFF:
		return "off";
	case CLIENT_TOKEN_UNSUPPORTED:
		return "unsupported";
	case CLIENT_TOKEN_FAILED:
		return "failed";
	case CLIENT_TOKEN_NONE:
		return k->gen ? "renewing" : "none";
	case CLIENT_TOKEN_ASKING:
		return k->gen ? "renewing" : "none";
	case CLIENT_TOKEN_HAVE:
		return "on";
	}
	return "?";
}
