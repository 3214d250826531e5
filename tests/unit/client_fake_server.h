/* client_fake_server.h - a test double of the WarpEngine server for the
 * client's tests: GET/PUT/DELETE/PING over a small in-memory map, speaking
 * proto.h, with faults to inject (lost requests, split or duplicated
 * replies, BUSY answers, separately answered "forwarded" entries) and the
 * address validation of docs/protocol.md section 14 (tokens issued, large
 * answers withheld from datagrams without the current token), or an older
 * server's ignorance of it.
 *
 * Two ways to use it:
 * - fake_server_handle(): answer one request datagram in-process, replies
 *   handed to a callback (the tracker test simulates the network with it);
 * - fake_server_start(): serve N consecutive UDP ports on 127.0.0.1 from a
 *   thread until fake_server_stop() (the command tests run the real loop).
 */
#ifndef CLIENT_FAKE_SERVER_H
#define CLIENT_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "region_map.h"

#define FAKE_WORKERS_MAX 8

/* What the fake knows of address tokens. */
enum fake_token_mode {
	FAKE_TOKEN_OLD = 0, /* an older server: op TOKEN is UNKNOWN_OP, the TOKEN
			     * flag a header-only UNSUPPORTED */
	FAKE_TOKEN_ISSUE,   /* issues tokens, serves everyone in full (validation off) */
	FAKE_TOKEN_VALIDATE,/* issues tokens; an answer with a value that would pass
			     * 3 x the request's bytes is NEED_TOKEN without the token */
};

struct fake_server_cfg {
	uint16_t n_workers;
	uint32_t drop_every;  /* lose every k-th request datagram (0: none) */
	uint32_t busy_every;  /* answer BUSY, unexecuted, to every k-th entry (0: none) */
	uint32_t dup_every;   /* send every k-th reply datagram twice (0: none) */
	uint32_t corrupt_every; /* flip a bit of every k-th GET value answered (0: none) */
	bool split_replies;   /* one reply datagram per entry */
	bool forward_apart;   /* entries this worker does not own: own reply datagram */
	bool silent;          /* never answer (timeouts) */
	uint8_t token_mode;   /* enum fake_token_mode */
	bool token_silent;    /* never answer a handshake (a datagram of TOKEN entries) */
	uint32_t token_change_every; /* a new token after every k-th request datagram,
				      * as after a server restart (0: never) */
	uint32_t token_mode_after;   /* after this many request datagrams (0: never) ... */
	uint8_t token_mode_next;     /* ... token_mode becomes this: another server */
};

struct fake_server_stats {
	uint64_t requests;      /* request datagrams received */
	uint64_t dropped;       /* of them, lost on purpose */
	uint64_t replies;       /* reply datagrams sent */
	uint64_t entries;       /* request entries answered */
	uint64_t misdirected;   /* entries received by a worker that does not own them */
	uint64_t busy;          /* BUSY answers injected */
	uint64_t corrupted;     /* GET values garbled on purpose */
	uint64_t puts, gets, deletes, pings;
	uint64_t max_batch;     /* largest entry count seen in one request */
	uint64_t invalid;       /* request datagrams that failed to decode */
	/* Address tokens. Handshakes (datagrams of TOKEN entries only) are
	 * not counted in `requests` and see no faults but token_silent. */
	uint64_t token_requests; /* handshake datagrams received */
	uint64_t tokens_issued;
	uint64_t with_token;     /* request datagrams with the current token */
	uint64_t bad_token;      /* ... with another (old) token */
	uint64_t without_token;  /* ... with none */
	uint64_t withheld;       /* answers withheld: NEED_TOKEN */
	uint64_t flag_refused;   /* TOKEN flag refused (FAKE_TOKEN_OLD) */
};

struct fake_entry;

struct fake_server {
	struct fake_server_cfg cfg;
	struct region_map map;
	struct fake_entry *table;
	uint32_t table_mask;
	uint64_t entry_seq; /* entries seen, for busy_every */
	uint64_t reply_seq; /* replies sent, for dup_every */
	uint64_t hit_seq;   /* GET hits answered, for corrupt_every */
	uint8_t token[16];  /* the current token (every source's) */
	uint32_t token_epoch; /* tokens made so far */
	struct fake_server_stats stats;
	/* socket mode */
	int fds[FAKE_WORKERS_MAX];
	int stop_pipe[2];
	uint16_t port_base;
	pthread_t thread;
	bool running;
};

typedef void fake_emit_fn(void *ctx, uint16_t worker, const uint8_t *buf, uint32_t len);

/* Set up the map (empty). Returns 0 or -ENOMEM. */
int fake_server_init(struct fake_server *f, const struct fake_server_cfg *cfg);
void fake_server_fini(struct fake_server *f);

/* Answer one request datagram that reached `worker`; emit() gets each reply
 * (from that same worker). */
void fake_server_handle(struct fake_server *f, uint16_t worker, const uint8_t *buf, uint32_t len,
			fake_emit_fn *emit, void *ctx);

/* Bind n_workers consecutive ports on 127.0.0.1 (base chosen at random) and
 * serve them from a thread. Returns 0 or a negative errno. */
int fake_server_start(struct fake_server *f);
void fake_server_stop(struct fake_server *f);

/* A new token, as after a restart: the old one stops validating. */
void fake_server_new_token(struct fake_server *f);

/* Direct map access for tests (not thread-safe while serving). */
bool fake_server_lookup(const struct fake_server *f, const uint8_t *key, uint8_t key_len,
			const uint8_t **value, uint32_t *value_len);
uint64_t fake_server_count(const struct fake_server *f);

#endif
