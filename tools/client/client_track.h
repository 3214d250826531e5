/* client_track.h - requests in flight: batching, matching, retries (pure).
 *
 * The decision core of every networked command. It never touches a socket
 * or a clock: the shell (client_net.c) hands it the time and the datagrams
 * it received, and asks it which datagram to send next. A test drives it the
 * same way with a simulated network.
 *
 *   source --next()--> op ring --per-worker pending lists--> datagram slots
 *     ^                  |                                      |  tx / rx
 *     +---retire() <-----+ (admission order)   result() <-------+
 *
 * - The op ring holds requests from admission to retirement; ring_ops of them
 *   at most. Each op's opaque is its admission number, so an answer finds its
 *   op in O(1) and a stale answer cannot match a reused slot.
 * - A datagram slot (window of them) carries up to `batch` ops bound for one
 *   worker port. Its echo = nonce:16 | sequence:32 | slot:16 finds the slot;
 *   ops stay bound to their slot until answered, so an answer to an earlier
 *   try of the same datagram still counts.
 * - A slot unanswered at its deadline is sent again with only its unanswered
 *   ops, up to `retries` times. The first try waits `timeout`, the k-th
 *   retry timeout x min(2^k, 4).
 *   After the last try its ops end with CLIENT_STATUS_TIMEOUT. A BUSY or
 *   WRONG_OWNER answer (transient, docs/protocol.md section 13) is retried
 *   the same way, and is the outcome if the tries run out.
 * - Results come as they arrive (result()); ops leave in admission order
 *   (retire()), which is what lets the batch command print in input order.
 * - With cfg.token, the server's address token (client_token.h) is asked for
 *   before the first request datagram goes out, and every request datagram
 *   carries it (unless an entry is too large to fit beside it: a PUT, whose
 *   answer is a status and never withheld). An entry answered NEED_TOKEN is
 *   resent, with the same tries as a loss, once a new token has come.
 */
#ifndef CLIENT_TRACK_H
#define CLIENT_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "client_keyset.h"
#include "client_text.h"
#include "client_token.h"
#include "proto.h"
#include "region_map.h"
#include "we_compiler.h"

#define CLIENT_WORKER_AUTO 0xffff /* op.worker: send to the key's owner */
/* op.op of a placeholder that is never sent: it is done at admission and only
 * keeps its place in the retirement order (the batch command's bad lines). */
#define CLIENT_OP_NOP 0

enum client_op_state {
	CLIENT_OP_FREE = 0,
	CLIENT_OP_BLOCKED,  /* admitted, waits for an earlier request on its key */
	CLIENT_OP_PENDING,  /* in a worker's pending list */
	CLIENT_OP_INFLIGHT, /* in a datagram slot, unanswered */
	CLIENT_OP_DONE,     /* answered or given up; waits to retire */
};

struct client_op {
	/* Filled by the source. key and value stay valid until retire(). */
	const uint8_t *key;
	const uint8_t *value;
	uint32_t value_len;
	uint8_t key_len;
	uint8_t op;     /* PROTO_OP_GET, PUT, DELETE, PING or CLIENT_OP_NOP */
	uint8_t flags;  /* entry flags (durability) */
	uint16_t worker; /* CLIENT_WORKER_AUTO, or a port index to force */
	/* Owned by the tracker. */
	uint8_t state;  /* enum client_op_state */
	uint8_t status; /* enum we_status or CLIENT_STATUS_TIMEOUT once DONE */
	uint8_t tries;  /* datagrams that carried it */
	uint8_t transient; /* last answer BUSY, WRONG_OWNER or NEED_TOKEN (else 0):
			    * resend like a loss */
	uint16_t slot;  /* datagram slot while INFLIGHT */
	uint64_t sent_ns; /* when its first datagram was released */
	uint32_t seq;   /* admission number, sent as the opaque */
	uint32_t next;  /* pending-list link */
	uint64_t hash;
};

struct client_source {
	/* Fill *op (key, value, op, flags, worker) for ring slot idx. Returns 1,
	 * 0 when no more will come, or -EAGAIN when none is ready yet. */
	int (*next)(void *ctx, uint32_t idx, struct client_op *op);
	/* Op idx got its outcome (op->status). value is a GET hit's value,
	 * valid during the call only. */
	void (*result)(void *ctx, uint32_t idx, const struct client_op *op, const uint8_t *value,
		       uint32_t value_len);
	/* Op idx leaves, in admission order; its storage may be reused. */
	void (*retire)(void *ctx, uint32_t idx, const struct client_op *op);
	void *ctx;
	/* The source promises no two of its requests share a key (load, ping),
	 * or none in flight together (writes): skip the same-key ordering rule. */
	bool keys_distinct;
};

struct client_track_cfg {
	uint32_t ring_ops;   /* power of two, >= batch */
	uint32_t window;     /* datagram slots, 1..CLIENT_WINDOW_MAX */
	uint32_t batch;      /* ops per datagram, 1..PROTO_BATCH_MAX */
	uint16_t n_workers;
	bool misdirect;      /* send to (owner + 1) mod n_workers */
	uint64_t timeout_ns;
	uint32_t retries;
	uint16_t nonce;      /* top 16 bits of every echo */
	bool token;          /* address-token handshake (off: --no-token) */
	const struct region_map *map; /* owners from --region-map; NULL: region % n_workers */
};

struct client_track_stats {
	uint64_t req_sent;      /* requests sent for the first time */
	uint64_t req_resent;    /* copies sent again after a timeout or BUSY */
	uint64_t req_answered;  /* requests with an answer (the first one counts) */
	uint64_t req_timeout;   /* requests that ended with no answer */
	uint64_t req_transient; /* BUSY or WRONG_OWNER answers that were retried */
	uint64_t dgram_sent;    /* datagrams sent, retries included */
	uint64_t dgram_resent;
	uint64_t rx_dgrams;     /* response datagrams that matched a slot */
	uint64_t rx_stale;      /* echo of no datagram in flight (late, foreign) */
	uint64_t rx_dup;        /* answer to a request already answered */
	uint64_t rx_invalid;    /* not a valid v1 response, or an entry that
				 * matches no request of its datagram */
	uint64_t rx_batch_error;/* header-only error replies (whole datagram failed) */
	uint64_t token_sent;    /* address-token handshake datagrams sent */
	uint64_t need_token;    /* NEED_TOKEN answers retried with a new token */
};

/* A datagram to transmit. buf is the slot's own buffer: it stays valid
 * until the tracker next receives, expires or aborts, so a whole burst of
 * next_tx() results can go out in one sendmmsg. The address-token
 * handshake's datagram has slot CLIENT_TOKEN_SLOT. */
struct client_tx {
	const uint8_t *buf;
	uint32_t len;
	uint16_t worker;
	uint16_t slot;
};

struct client_slot;

struct client_track {
	struct client_track_cfg cfg;
	struct region_map map;
	struct client_op *ops;
	struct client_slot *slots;
	uint16_t *free_slots;
	uint32_t n_free;
	uint32_t *pend_head; /* per worker */
	uint32_t *pend_tail;
	uint32_t *pend_count;
	uint32_t n_pending;
	uint32_t rr;         /* next worker to consider for a new datagram */
	uint32_t head, tail; /* admission numbers: retire at head, admit at tail */
	uint32_t dgram_seq;
	bool src_done;
	bool src_waiting;    /* the source said -EAGAIN */
	bool blocked;        /* the op at tail - 1 is BLOCKED */
	bool aborted;
	struct client_keyset keys;
	const struct client_source *src;
	/* Optional, set after client_track_start (which clears it): called with
	 * the source's ctx at the end of every admit, before any op it admitted
	 * is sent and after the results that came since the previous call. The
	 * writes command puts its log lines in the file here. */
	void (*admitted)(void *ctx);
	struct client_track_stats stats;
	/* The server's address token; it outlives runs (client_track_start). */
	struct client_token tok;
};

/* A ring size that keeps `window` datagrams of `batch` ops busy with a
 * backlog behind them: a power of two >= 2 x window x batch and >= batch x
 * n_workers (so every worker can fill a datagram), capped at 65536. */
uint32_t client_track_ring_size(uint32_t window, uint32_t batch, uint16_t n_workers);

/* Allocate for cfg. Returns 0, -EINVAL for a bad cfg, or -ENOMEM. */
int client_track_init(struct client_track *t, const struct client_track_cfg *cfg) we_must_check;
void client_track_fini(struct client_track *t);

/* Begin a run over src with zeroed stats. The previous run must be done. */
void client_track_start(struct client_track *t, const struct client_source *src);

/* Pull ops from the source while the ring has room. Returns how many. */
unsigned client_track_admit(struct client_track *t);

/* The next datagram to send at time now (a retry first, then a new batch),
 * or false if none should go now. The shell must send it or count it lost;
 * either way its timer runs. */
bool client_track_next_tx(struct client_track *t, uint64_t now_ns, struct client_tx *tx);

/* A datagram arrived from one of the server's worker ports (the shell has
 * checked the source). Any bytes are accepted; invalid ones are counted. */
void client_track_rx(struct client_track *t, const uint8_t *buf, uint32_t len);

/* Handle slots whose deadline passed. Returns the earliest deadline still
 * pending (now_ns if a retry waits to be sent), or UINT64_MAX. */
uint64_t client_track_expire(struct client_track *t, uint64_t now_ns);

/* Give up: every op not yet answered ends with CLIENT_STATUS_TIMEOUT and all
 * retire; the source is asked for nothing more. */
void client_track_abort(struct client_track *t);

/* Source exhausted and every op retired. */
bool client_track_done(const struct client_track *t);

/* Datagram slots awaiting an answer. */
uint32_t client_track_inflight(const struct client_track *t);

/* The worker port a request for key hash goes to under cfg (owner, or the
 * next worker with misdirect). */
uint16_t client_track_dest(const struct client_track *t, uint64_t hash);

/* Check the tracker's invariants (ring, lists, slots); O(ring + window). */
void client_track_check_invariants(const struct client_track *t);

#endif
