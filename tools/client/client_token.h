/* client_token.h - the address token of one server (pure: no socket, no
 * clock; the tracker passes the time in).
 *
 * A server that validates addresses (docs/protocol.md, section 14) withholds
 * large answers (NEED_TOKEN) from a source that has not shown it receives
 * what is sent to its address. The client shows it with a token: it asks
 * for one (a datagram with one TOKEN entry) before its first request, sends
 * it with every request datagram, and asks again when an answer comes back
 * NEED_TOKEN and every CLIENT_TOKEN_REFRESH_NS. The token depends on our
 * source address only, so one serves every worker port of the server; a
 * client talks to one server, whose token this is.
 *
 *   state        new datagrams     how it got there
 *   OFF          plain             --no-token
 *   UNSUPPORTED  plain             an older server: UNKNOWN_OP for the op, or
 *                                  a header-only UNSUPPORTED for the flag
 *   FAILED       plain             no token came: no answer after all tries
 *                                  (a silent server then times out the
 *                                  requests themselves), or an error status
 *   NONE         wait              a token is wanted; the handshake is next
 *   ASKING       wait, or with     the handshake is in flight; a refresh
 *                the old token     keeps using the token it replaces
 *   HAVE         with the token
 *
 * NEED_TOKEN is worth a retry (client_token_need()) in NONE, ASKING, HAVE
 * and FAILED (the server has shown it validates: it is asked again); in OFF
 * and UNSUPPORTED it is the answer. A refresh that gets no answer keeps the
 * token it meant to replace.
 */
#ifndef CLIENT_TOKEN_H
#define CLIENT_TOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

/* Tokens live 10 to 20 minutes; a new one every 5 keeps a margin. */
#define CLIENT_TOKEN_REFRESH_NS (300ull * 1000000000ull)
/* The slot field of a handshake's echo (nonce:16 | sequence:32 | slot:16):
 * never a datagram slot (client_track_init() keeps the window below it). */
#define CLIENT_TOKEN_SLOT 0xffffu
#define CLIENT_TOKEN_REQ_MAX 64

enum client_token_state {
	CLIENT_TOKEN_OFF = 0,
	CLIENT_TOKEN_UNSUPPORTED,
	CLIENT_TOKEN_FAILED,
	CLIENT_TOKEN_NONE,
	CLIENT_TOKEN_ASKING,
	CLIENT_TOKEN_HAVE,
};

struct client_token {
	enum client_token_state state;
	bool have;            /* token[] is usable (HAVE, or ASKING for a refresh) */
	uint8_t token[PROTO_TOKEN_SIZE];
	uint32_t gen;         /* tokens received so far; 0: none yet */
	uint64_t refresh_ns;  /* HAVE: ask again from then on */
	/* The handshake in flight (ASKING). */
	uint64_t echo;
	uint64_t first_sent_ns;
	uint64_t deadline_ns;
	uint32_t tries;
	uint32_t seq;
	bool resend;          /* deadline passed: the next try is due */
	/* Set up. */
	uint16_t nonce;
	uint16_t n_workers;
	uint64_t timeout_ns;
	uint32_t retries;
	/* Counters (a run's share is taken by the tracker). */
	uint64_t sent;        /* handshake datagrams sent, retries included */
	uint64_t received;    /* tokens received */
	uint64_t rx_invalid;  /* answers to a handshake that made no sense */
	uint32_t req_len;
	uint8_t req[CLIENT_TOKEN_REQ_MAX];
};

/* enabled false: OFF for good (--no-token). timeout and retries as for
 * requests: the k-th retry waits timeout x min(2^k, 4). */
void client_token_init(struct client_token *k, bool enabled, uint16_t nonce, uint16_t n_workers,
		       uint64_t timeout_ns, uint32_t retries);

/* The token a new request datagram carries, or NULL. */
static inline const uint8_t *client_token_get(const struct client_token *k)
{
	return k->have ? k->token : NULL;
}

/* New request datagrams wait: a token is wanted and none is known. */
static inline bool client_token_blocks(const struct client_token *k)
{
	return !k->have && (k->state == CLIENT_TOKEN_NONE || k->state == CLIENT_TOKEN_ASKING);
}

/* The handshake datagram to send now, if one is due (a first try, a retry,
 * a refresh); *worker is the port index it goes to (tries rotate over the
 * workers). busy: requests are waiting to go or in flight; without them no
 * handshake starts. */
bool client_token_next_tx(struct client_token *k, uint64_t now_ns, bool busy,
			  const uint8_t **buf, uint32_t *len, uint16_t *worker);

/* An answer whose echo names CLIENT_TOKEN_SLOT. Returns true when it
 * brought a new token. */
bool client_token_rx(struct client_token *k, const struct proto_batch_hdr *hdr,
		     const struct proto_request *entries, unsigned n);

/* Deadlines: the earliest one still pending (now_ns if a retry is due), or
 * UINT64_MAX. */
uint64_t client_token_expire(struct client_token *k, uint64_t now_ns);

/* An entry of a datagram that carried token generation gen (0: no token)
 * was answered NEED_TOKEN. Returns true if the entry should be retried with
 * a (new) token, false if NEED_TOKEN is its outcome. A new token is asked
 * for unless one newer than gen has come already. */
bool client_token_need(struct client_token *k, uint32_t gen);

/* A datagram that carried the token was refused whole with UNSUPPORTED: an
 * older server. Tokens stop. */
void client_token_refused(struct client_token *k);

/* For reports: "on" (a token), "off", "unsupported", "failed", "none" (not
 * had yet) or "renewing" (a bad one dropped, a new one asked for). */
const char *client_token_state_name(const struct client_token *k);

#endif
