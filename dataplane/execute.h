/* execute.h - run one decoded request datagram against the local shard (no DPDK).
 *
 * The core decides, the shell acts. For each datagram the worker (worker.c)
 * calls, in this order:
 *
 *   execute_route         decide each entry's fate once: answered here, or
 *                         owned by another worker (to be forwarded)
 *   execute_forward_fill  (per owner) copy that owner's entries into a
 *                         forward datagram the shell provides; the shell
 *                         puts it on the owner's ring, and when the ring
 *                         refuses it calls execute_forward_refused for
 *                         the entries it held
 *   execute_batch         run and answer every entry that stays here, in
 *                         request order, into the reply the shell provides;
 *                         when the reply is full it returns
 *                         EXECUTE_REPLY_FULL and where to resume, and the
 *                         shell sends the reply, opens another and calls
 *                         again
 *
 * No callbacks: each call returns what the shell must do next, so a unit
 * test or a fuzz harness plays the shell with plain buffers.
 *
 * Before execute_route(), the caller has hashed every key (execute_hash)
 * and, across the whole burst, prefetched buckets and then items with
 * execute_prefetch_*(), so the shard's accesses hit the cache.
 */
#ifndef EXECUTE_H
#define EXECUTE_H

#include <stdint.h>

#include "access_sample.h"
#include "addr_token.h"
#include "fetch_table.h"
#include "keyhash.h"
#include "park.h"
#include "proto.h"
#include "region_map.h"
#include "shard.h"
#include "wal_ring.h"
#include "wal_writer.h"
#include "worker_stats.h"

/* A forwarded datagram may be forwarded again if the region moved meanwhile,
 * but no more than this many times; then its entries get WRONG_OWNER. Three:
 * a datagram steered whole to the worker of its UDP port (1), forwarded by
 * region to the owner that worker saw (2), forwarded again by that owner
 * because the region moved on in between (3, region_move.h). */
#define EXECUTE_HOPS_MAX 3

struct execute_ctx {
	struct shard *shard;
	const struct keyhash_secret *secret; /* the shard's bucket/tag hash secret */
	const struct region_map *map;
	struct worker_stats *stats;
	struct addr_token_cache *tokens; /* answers op TOKEN */
	uint32_t token_epoch;            /* current epoch, set by the worker */
	uint16_t self;                   /* this worker's index */
	struct access_sampler *sampler;  /* counts executed requests; NULL: none */
	/* The disk tier (fetch_table.h): a GET of an archived item waits here
	 * for its record to be read back; NULL without the disk tier. */
	struct fetch_table *fetch;
	uint64_t *fwd_to;                /* [worker]: requests forwarded to it; NULL: none */

	/* Durability (docs/protocol.md section 4). log is the worker's ring of
	 * log records to the storage threads; NULL without a data directory,
	 * and then STRONG and EVENTUAL writes are answered UNSUPPORTED and
	 * DEFAULT means WEAK. A logged write takes LSN *lsn + 1. A STRONG
	 * write's answer waits in park until its LSN is durable. While
	 * storage reports an error for this worker's log (durable->error),
	 * logged writes are refused NOT_DURABLE and not executed. */
	struct wal_ring *log;
	struct park_table *park;
	uint64_t *lsn;
	const struct durable_view *durable;
	uint8_t durability_default; /* PROTO_DUR_STRONG, _EVENTUAL or _WEAK */
};

/* How far this worker's log is durable, as the log writer last told the
 * worker through its control ring (CTL_MSG_DURABLE, applied in the service
 * step): plain fields, read and written by the worker alone. */
struct durable_view {
	uint64_t lsn;  /* every record with an LSN <= lsn is on disk */
	int32_t error; /* 0, or the negative errno of the log's last failure */
};

/* The fate of each entry of one datagram: a worker index (< EXECUTE_HERE)
 * to forward it to, or one of the codes below, all answered here. This
 * worker's own index means "hold it": its region is moving in and not
 * complete yet (region_map.h); the shell keeps such entries in a datagram
 * of their own and runs them again once the region is in. */
#define EXECUTE_HERE 0xffffu      /* run or answered by this worker */
#define EXECUTE_HOP_LIMIT 0xfffeu /* foreign, but out of hops: WRONG_OWNER */
#define EXECUTE_REFUSED 0xfffdu   /* foreign, the owner's ring refused it: BUSY */

struct execute_route {
	uint16_t owner[PROTO_BATCH_MAX];
	uint16_t n_forward; /* entries with a worker index as owner */
};

/* The answers of one datagram and what they may cost (address validation,
 * docs/protocol.md section 14). The sender, and whether it proved that it
 * receives our packets (a valid token, or validation off). An unvalidated
 * sender's answers stay within budget_bytes: PROTO_AMPLIFICATION_MAX times
 * the request bytes answered here, plus execute_header_budget() for the
 * datagram the client sent itself. An answer that would pass it goes out as
 * NEED_TOKEN without its value. spent_bytes counts what was written. */
struct execute_reply {
	struct proto_writer *w; /* the reply datagram being filled */
	/* The request's addressing and echo, for answers parked until their
	 * write is durable (they go out later, in a datagram of their own). */
	const struct netio_udp *udp;
	uint64_t echo;
	uint32_t src_ip_be;
	bool validated;
	uint32_t budget_bytes;
	uint32_t spent_bytes;
};

static inline uint32_t execute_header_budget(bool has_token)
{
	return PROTO_AMPLIFICATION_MAX * (PROTO_HDR_SIZE + (has_token ? PROTO_TOKEN_SIZE : 0));
}

/* Hash every key of reqs[0..n) (entries with an error status are skipped):
 * req->hash, the public hash that picks the region and so the owner, and
 * req->lhash, the shard's keyed bucket/tag hash (keyhash.h). */
void execute_hash(const struct execute_ctx *x, struct proto_request *reqs, unsigned n);

void execute_prefetch_buckets(const struct execute_ctx *x, const struct proto_request *reqs,
			      unsigned n);
void execute_prefetch_items(const struct execute_ctx *x, const struct proto_request *reqs,
			    unsigned n);

/* Decide where each of reqs[0..n) goes, for a datagram that has travelled
 * `hops` times between workers. Invalid entries, PING and TOKEN stay here. */
void execute_route(const struct execute_ctx *x, const struct proto_request *reqs, unsigned n,
		   unsigned hops, struct execute_route *rt);

/* Append to w the entries routed to `owner`, from index *next on, in
 * request order, until w is full; store their indices in idx[] and return
 * how many. *next becomes the index to continue from (n when all are in).
 * A fresh w (PROTO_PAYLOAD_MAX) always takes at least one entry. */
unsigned execute_forward_fill(const struct proto_request *reqs, unsigned n,
			      const struct execute_route *rt, uint16_t owner, unsigned *next,
			      struct proto_writer *w, uint8_t idx[PROTO_BATCH_MAX]);

/* The owner's ring refused the entries idx[0..k): answer them BUSY here. */
void execute_forward_refused(struct execute_route *rt, const uint8_t *idx, unsigned k);

enum execute_step {
	EXECUTE_DONE,       /* every entry from *next on is answered or forwarded */
	EXECUTE_REPLY_FULL, /* send the reply, open a fresh one, call again */
};

/* Run and answer the entries of reqs[0..n) that rt keeps here, from *next
 * on, in request order, into out->w (a STRONG write's answer goes to the
 * park table instead, and out->w gets nothing for it). Returns EXECUTE_REPLY_FULL with *next
 * at the first entry not yet answered (not yet executed either) when the
 * next answer does not fit; a fresh reply always takes any answer. */
enum execute_step execute_batch(const struct execute_ctx *x, const struct proto_request *reqs,
				unsigned n, const struct execute_route *rt, unsigned *next,
				struct execute_reply *out);

#endif
