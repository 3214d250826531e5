/* frame_path_exec.h - the fuzz harness's one seam to dataplane/execute.h.
 *
 * fuzz_frame_path.c plays the worker shell (classify, decode, steer, rings,
 * transmit) over plain buffers; everything it asks of the request-execution
 * core goes through the three calls below, which mirror what the data
 * plane's reply.c and wormhole.c do with execute.h. When execute.h changes,
 * this file and frame_path_exec.c are what need updating.
 */
#ifndef FRAME_PATH_EXEC_H
#define FRAME_PATH_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "addr_token.h"
#include "keyhash.h"
#include "netio.h"
#include "proto.h"
#include "region_map.h"
#include "shard.h"
#include "worker_stats.h"

struct fp_exec; /* execute_ctx and what it points at; opaque to the harness */

/* One decoded datagram, as the shell hands it to the core. */
struct fp_dgram {
	const struct proto_request *reqs;
	unsigned n;
	uint64_t echo;
	uint8_t hops;      /* forwarding hops so far */
	bool whole;        /* the client's own datagram (not a forwarded subset) */
	bool has_token;    /* TOKEN flag (header budget) */
	bool validated;    /* sender validated: served in full */
	uint32_t src_ip_be;
};

/* What the shell does with the core's output. */
struct fp_sink {
	void *ctx;
	/* A forward datagram for `owner` (payload of len bytes, hop/validated
	 * byte already set). Return false when the owner's ring refuses it. */
	bool (*forward)(void *ctx, uint16_t owner, const uint8_t *payload, uint32_t len);
	/* A finished reply datagram (payload of len bytes), in order. */
	void (*reply)(void *ctx, const uint8_t *payload, uint32_t len);
};

size_t fp_exec_sizeof(void);
void fp_exec_init(struct fp_exec *e, struct shard *shard, const struct keyhash_secret *secret,
		  const struct region_map *map, struct worker_stats *stats,
		  const struct addr_token_key *token_key, uint32_t token_epoch, uint16_t self);

/* Hash and prefetch a burst's requests (before any fp_exec_answer). */
void fp_exec_prepare_burst(struct fp_exec *e, struct proto_request *reqs, unsigned n);

/* Route, forward and answer one datagram, as the data plane does. */
void fp_exec_answer(struct fp_exec *e, const struct fp_dgram *d, const struct fp_sink *sink);

/* The shell's check of a datagram's address token (worker.c does the same
 * with its worker's token cache): the token of ip_be, this epoch or the one
 * before. */
bool fp_exec_token_valid(struct fp_exec *e, uint32_t ip_be, const uint8_t *token);

/* The forwarding byte (reserved byte) the core's shell puts on a subset. */
uint8_t fp_exec_fwd_meta(const struct fp_dgram *d);

#endif
