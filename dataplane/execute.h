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
};

struct execute_ctx {
	struct shard *shard;
	const struct region_map *map;
	struct worker_stats *stats;
	uint16_t self; /* this worker's index */
};

void execute_prefetch_buckets(const struct execute_ctx *x, const struct proto_request *reqs,
			      unsigned n);
void execute_prefetch_items(const struct execute_ctx *x, const struct proto_request *reqs,
			    unsigned n);

/* Hash every key of reqs[0..n) into req->hash (entries with an error status
 * are skipped). */
void execute_hash(struct proto_request *reqs, unsigned n);

/* Append one answer to io->reply, opening a new reply datagram when it does
 * not fit. Returns false when no reply buffer could be had. */
bool execute_answer(struct execute_io *io, uint8_t op, uint8_t status, uint32_t opaque,
		    const uint8_t *value, uint32_t value_len);

/* Execute or forward reqs[0..n) of one datagram that has travelled `hops`
 * times between workers. Returns the number of answers that could not be
 * written because io->reply_next() failed (0 normally). */
unsigned execute_batch(const struct execute_ctx *x, struct proto_request *reqs, unsigned n,
		       unsigned hops, struct execute_io *io);

#endif
