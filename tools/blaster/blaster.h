/* blaster.h - the engine-independent core of a blaster run (no DPDK, no
 * sockets, no clock: an engine moves datagrams and passes the time in).
 *
 * An engine (engine_kernel.c with UDP sockets; a DPDK engine beside it) runs
 * this loop for each phase:
 *
 *   blaster_phase_begin(b, phase, now)
 *   while (blaster_state(b, now) != BLASTER_DONE) {
 *           n = blaster_tx_prepare(b, now);        datagrams ready to send
 *           for i < n: blaster_tx_dgram(b, i)      bytes, length, destination
 *           blaster_tx_sent(b, k, now)             the first k left
 *           (or blaster_tx_failed(b, k)            the first k cannot be sent)
 *           for each datagram received: blaster_rx(b, buf, len, now)
 *           blaster_expire(b, now)                 timeouts
 *           blaster_tick(b, now)                   per-second sample, progress line
 *   }
 *   blaster_phase_end(b, now)
 *
 * Destinations are worker indexes: worker i listens on base port + i (native
 * protocol); memcached has one destination, 0.
 */
#ifndef BLASTER_BLASTER_H
#define BLASTER_BLASTER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec_mc.h"
#include "inflight.h"
#include "pacer.h"
#include "proto.h"
#include "region_map.h"
#include "report.h"
#include "verify.h"
#include "we_compiler.h"
#include "workload.h"

enum blaster_proto {
	BLASTER_PROTO_NATIVE = 0,
	BLASTER_PROTO_MEMCACHED,
};

enum blaster_load {
	BLASTER_LOAD_CLOSED = 0, /* a window of outstanding requests */
	BLASTER_LOAD_OPEN,       /* a fixed rate, latency from the intended send time */
};

enum blaster_phase {
	BLASTER_PHASE_PRELOAD = 0, /* PUT every key once, closed loop */
	BLASTER_PHASE_RUN,
};

enum blaster_state {
	BLASTER_ISSUING,  /* requests are being generated */
	BLASTER_DRAINING, /* no new requests; waiting for answers or timeouts */
	BLASTER_DONE,
};

#define BLASTER_WORKERS_MAX 1024
/* Open loop: how long after the end of the run requests due before it may
 * still be sent (late); what is still due then counts as dropped. */
#define BLASTER_END_GRACE_NS 10000000ull
#define BLASTER_BURST_MAX 1024

struct blaster_config {
	enum blaster_proto proto;
	enum blaster_load load;
	enum pacer_arrival arrival;
	double rate_per_s;           /* open loop */
	uint32_t window;             /* closed loop: outstanding requests */
	uint32_t preload_window;     /* outstanding requests during the preload */
	uint32_t batch;              /* requests per datagram, at most (native) */
	uint32_t burst;              /* datagrams per send call, at most */
	uint16_t workers;            /* native: destinations base .. base + workers - 1 */
	uint8_t durability;          /* native entry flags (enum proto_durability) */
	bool token;                  /* native: requests will carry an address token
				      * (blaster_set_token() after the handshake) */
	bool verify;
	bool fill_on_miss;           /* a GET answered NOT_FOUND: PUT that key next (cache-aside) */
	uint64_t duration_ns;        /* the run phase; the preload runs to its end */
	uint64_t timeout_ns;         /* an unanswered request times out after this */
	uint64_t no_answer_ns;       /* no answer at all this long after the first send: give up */
	uint64_t token_renew_ns;     /* renew the token this often (0: HANDSHAKE_RENEW_NS) */
	uint64_t progress_interval_ns;
	FILE *progress;              /* progress lines; NULL for quiet */
	FILE *log;                   /* wrong values and other notes; NULL for quiet */
	const volatile sig_atomic_t *stop; /* set asynchronously (SIGINT): stop issuing */
	struct workload_config workload;
	const struct region_map *region_map; /* native: owners from --region-map (copied at
					      * init); NULL: region % workers */
};

/* A datagram ready to send. */
struct blaster_dgram {
	uint8_t *buf;
	uint32_t len;
	uint16_t dest;    /* worker index */
	uint16_t n_req;
	uint32_t seq[PROTO_BATCH_MAX];
};

/* Keys waiting for their --fill-on-miss PUT (a ring; when full, a miss is
 * not filled). */
#define BLASTER_FILL_QUEUE 1024

struct blaster {
	struct blaster_config cfg;
	struct workload wl;
	uint64_t fill_keys[BLASTER_FILL_QUEUE];
	uint32_t fill_head, fill_tail; /* taken at head, added at tail (free-running) */
	struct verify ver;
	struct region_map map;
	struct inflight inflight;
	struct pacer pacer;
	struct pacer_window window;
	struct codec_mc_reasm reasm;
	uint32_t opaque_mask;

	/* Datagrams: a ring of `pool` slots; [tx_head, tx_head + tx_count) are
	 * ready. A datagram being filled for worker w is open_slot[w]. */
	struct blaster_dgram *dgrams;
	uint8_t *dgram_mem;
	uint32_t dgram_cap;
	uint32_t pool;
	uint32_t dgram_reqs_min;      /* requests a closed datagram holds at least */
	uint32_t tx_head;
	uint32_t tx_count;
	struct proto_writer *writers; /* one per pool slot */
	int32_t *open_slot;           /* per worker, -1 when none */
	uint16_t *open_workers;       /* workers with an open datagram */
	uint32_t n_open;
	uint64_t *intended;           /* scratch for pacer_take */
	uint32_t intended_cap;
	uint8_t *value_buf;
	/* The address token every native request datagram carries; NULL for
	 * plain datagrams (--no-token, or a server without validation). */
	const uint8_t *token;
	uint8_t token_buf[PROTO_TOKEN_SIZE];
	uint64_t token_renew_ns;      /* a renewal is due then (0: from the first send) */

	/* The phase. */
	enum blaster_phase phase;
	struct workload_preload preload;
	uint64_t phase_start_ns;
	uint64_t issue_end_ns;   /* the run stops issuing here */
	uint64_t first_sent_ns;  /* 0 until the phase's first send */
	uint64_t next_tick_ns;
	bool issuing;
	bool no_answer;          /* gave up: nothing answered */
	uint64_t wrong_logged;
	struct report_phase *rep;
	struct report_phase preload_report;
	struct report_phase run_report;
};

/* Validate cfg (why: a sentence for the user) and allocate everything.
 * Returns 0, -EINVAL (with *why) or -ENOMEM. */
int blaster_init(struct blaster *b, const struct blaster_config *cfg,
		 const char **why) we_must_check;
void blaster_fini(struct blaster *b);

/* The address token for every native request from now on (handshake.c);
 * NULL: plain requests (the server does not validate addresses). Only with
 * cfg.token, and between phases. */
void blaster_set_token(struct blaster *b, const uint8_t *token);

void blaster_phase_begin(struct blaster *b, enum blaster_phase phase, uint64_t now_ns);
/* Final sample, durations, drops for the backlog. */
void blaster_phase_end(struct blaster *b, uint64_t now_ns);
enum blaster_state blaster_state(struct blaster *b, uint64_t now_ns);
/* The earliest time something is due (a request, a tick, a timeout), for an
 * engine that sleeps when idle. */
uint64_t blaster_next_event_ns(struct blaster *b, uint64_t now_ns);

uint32_t blaster_tx_prepare(struct blaster *b, uint64_t now_ns);
static inline const struct blaster_dgram *blaster_tx_dgram(const struct blaster *b, uint32_t i)
{
	return &b->dgrams[(b->tx_head + i) % b->pool];
}
void blaster_tx_sent(struct blaster *b, uint32_t n, uint64_t now_ns);
void blaster_tx_failed(struct blaster *b, uint32_t n);

void blaster_rx(struct blaster *b, const uint8_t *buf, uint32_t len, uint64_t now_ns);
void blaster_expire(struct blaster *b, uint64_t now_ns);
void blaster_tick(struct blaster *b, uint64_t now_ns);

/* Between blaster.c (requests) and blaster_rx.c (answers) only. */

/* In-flight entry flag: a verify snapshot or write version was taken. */
#define BLASTER_VF_TRACKED 0x80
/* Retire a request that gets no answer: never sent (a drop; its write did not
 * happen) or sent (a timeout; its write may have happened). */
void blaster_abandon(struct blaster *b, struct inflight_entry *e, bool sent);
/* The answer to a renewal of the address token brought this token. */
void blaster_token_renewed(struct blaster *b, const uint8_t *token, uint64_t now_ns);

#endif
