/* client_fake_server.h - a test double of the WarpEngine server for the
 * client's tests: GET/PUT/DELETE/PING over a small in-memory map, speaking
 * proto.h, with faults to inject (lost requests, split or duplicated
 * replies, BUSY answers, separately answered "forwarded" entries).
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

struct fake_server_cfg {
	uint16_t n_workers;
	uint32_t drop_every;  /* lose every k-th request datagram (0: none) */
	uint32_t busy_every;  /* answer BUSY, unexecuted, to every k-th entry (0: none) */
	uint32_t dup_every;   /* send every k-th reply datagram twice (0: none) */
	uint32_t corrupt_every; /* flip a bit of every k-th GET value answered (0: none) */
	bool split_replies;   /* one reply datagram per entry */
	bool forward_apart;   /* entries this worker does not own: own reply datagram */
	bool silent;          /* never answer (timeouts) */
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

/* Direct map access for tests (not thread-safe while serving). */
bool fake_server_lookup(const struct fake_server *f, const uint8_t *key, uint8_t key_len,
			const uint8_t **value, uint32_t *value_len);
uint64_t fake_server_count(const struct fake_server *f);

#endif
