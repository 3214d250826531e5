/* execute.h - run one decoded request datagram against the local shard (no DPDK).
 *
 * The core decides, the shell acts: execute_batch() answers every entry the
 * worker owns into the current reply datagram and hands every entry owned by
 * another worker to io->forward(); the worker (worker.c) owns the buffers,
 * the rings and the NIC queue behind those callbacks.
 *
 * Before execute_batch(), the caller has hashed every key (req->hash) and,
 * across the whole burst, prefetched buckets and then items with
 * execute_prefetch_*(), so the shard's accesses hit the cache.
 */
#ifndef EXECUTE_H
#define EXECUTE_H

#include <stdint.h>

#include "addr_token.h"
#include "keyhash.h"
#include "proto.h"
#include "region_map.h"
#include "shard.h"
#include "worker_stats.h"

/* A forwarded datagram may be forwarded again if the region moved meanwhile,
 * but no more than this many times; then its entries get WRONG_OWNER. */
#define EXECUTE_HOPS_MAX 2

struct execute_io {
	/* The reply datagram being filled (RESPONSE flag, the request's echo). */
	struct proto_writer *reply;
	/* The reply is full: send it and start a new one with the same echo.
	 * Returns 0, or a negative errno when no buffer can be had (the
	 * remaining answers of this datagram are then dropped and counted). */
	int (*reply_next)(struct execute_io *io);
	/* Entry req belongs to worker `owner`: hand it over. Returns 0, or a
	 * negative errno when it cannot be handed over (answered BUSY). */
	int (*forward)(struct execute_io *io, uint16_t owner, const struct proto_request *req);

	/* Address validation (docs/protocol.md, section 8). The sender of the
	 * datagram, and whether it proved that it receives our packets (a
	 * valid token, or validation off). An unvalidated sender's answers
	 * stay within budget_bytes: PROTO_AMPLIFICATION_MAX times the request
	 * bytes executed here, header included for the datagram the client
	 * sent (execute_batch adds each entry's share before answering it).
	 * An answer that would pass it goes out as NEED_TOKEN without its
	 * value. spent_bytes counts what was written; withheld what was
	 * replaced. */
	uint32_t src_ip_be;
	bool validated;
	uint32_t budget_bytes;
	uint32_t spent_bytes;
	uint32_t withheld;
};

/* Budget of a datagram's own bytes outside its entries (the header, and the
 * token when present): given to the worker that executes the datagram the
 * client sent, not to the owners of entries forwarded out of it. */
static inline uint32_t execute_header_budget(bool has_token)
{
	return PROTO_AMPLIFICATION_MAX * (PROTO_HDR_SIZE + (has_token ? PROTO_TOKEN_SIZE : 0));
}

struct execute_ctx {
	struct shard *shard;
	const struct keyhash_secret *secret; /* the shard's bucket/tag hash secret */
	const struct region_map *map;
	struct worker_stats *stats;
	struct addr_token_cache *tokens; /* answers op TOKEN */
	uint32_t token_epoch;            /* current epoch, set by the worker */
	uint16_t self;                   /* this worker's index */
};

void execute_prefetch_buckets(const struct execute_ctx *x, const struct proto_request *reqs,
			      unsigned n);
void execute_prefetch_items(const struct execute_ctx *x, const struct proto_request *reqs,
			    unsigned n);

/* Hash every key of reqs[0..n) (entries with an error status are skipped):
 * req->hash, the public hash that picks the region and so the owner, and
 * req->lhash, the shard's keyed bucket/tag hash (keyhash.h). */
void execute_hash(const struct execute_ctx *x, struct proto_request *reqs, unsigned n);

/* Append one answer to io->reply, opening a new reply datagram when it does
 * not fit; an answer with a value that would pass an unvalidated sender's
 * budget is sent as NEED_TOKEN without it. Returns false when no reply
 * buffer could be had. */
bool execute_answer(struct execute_io *io, uint8_t op, uint8_t status, uint32_t opaque,
		    const uint8_t *value, uint32_t value_len);

/* Execute or forward reqs[0..n) of one datagram that has travelled `hops`
 * times between workers. Returns the number of answers that could not be
 * written because io->reply_next() failed (0 normally). */
unsigned execute_batch(const struct execute_ctx *x, struct proto_request *reqs, unsigned n,
		       unsigned hops, struct execute_io *io);

#endif
