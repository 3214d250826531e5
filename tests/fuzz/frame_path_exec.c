/* frame_path_exec.c - the fuzz harness's use of dataplane/execute.h.
 *
 * DESIGN: this mirrors the data plane's shell around the core, without DPDK:
 * reply_answer_dgram() in reply.c (route, forward, then execute_batch into
 * reply datagrams that are sent and reopened when full) and
 * wormhole_forward_owner() in wormhole.c (one or more forward datagrams per
 * owner, refused entries answered BUSY by the sender). Buffers are the
 * harness's own. Only execute.h's own promises about its calls are checked
 * here (a fresh datagram takes an entry, a full reply is not empty); the
 * invariants of the path live in fuzz_frame_path.c, so this file is the only
 * one to follow changes of execute.h. Durability is off (no log): STRONG and
 * EVENTUAL writes are answered UNSUPPORTED.
 */
#include "frame_path_exec.h"

#include <stdlib.h>
#include <string.h>

#include "execute.h"
#include "fuzz_check.h"

struct fp_exec {
	struct execute_ctx x;
	struct addr_token_cache tokens;
};

size_t fp_exec_sizeof(void)
{
	return sizeof(struct fp_exec);
}

void fp_exec_init(struct fp_exec *e, struct shard *shard, const struct keyhash_secret *secret,
		  const struct region_map *map, struct worker_stats *stats,
		  const struct addr_token_key *token_key, uint32_t token_epoch, uint16_t self)
{
	memset(e, 0, sizeof(*e));
	addr_token_cache_init(&e->tokens, token_key);
	e->x.shard = shard;
	e->x.secret = secret;
	e->x.map = map;
	e->x.stats = stats;
	e->x.tokens = &e->tokens;
	e->x.token_epoch = token_epoch;
	e->x.self = self;
	/* No data directory: the durability fields (log, park, ...) stay zero,
	 * and only the ones above are named, so that changes to those leave
	 * this file alone. */
}

void fp_exec_prepare_burst(struct fp_exec *e, struct proto_request *reqs, unsigned n)
{
	execute_hash(&e->x, reqs, n);
	execute_prefetch_buckets(&e->x, reqs, n);
	execute_prefetch_items(&e->x, reqs, n);
}

bool fp_exec_token_valid(struct fp_exec *e, uint32_t ip_be, const uint8_t *token)
{
	return addr_token_check(e->x.tokens, ip_be, e->x.token_epoch, token);
}

uint8_t fp_exec_fwd_meta(const struct fp_dgram *d)
{
	return (uint8_t)((d->hops + 1) | (d->validated ? PROTO_FWD_VALIDATED : 0));
}

/* wormhole_forward_owner(): as many datagrams as the owner's entries need. */
static void fp_forward_owner(const struct fp_dgram *d, struct execute_route *rt, uint16_t owner,
			     unsigned first, const struct fp_sink *sink)
{
	unsigned next = first;

	while (next < d->n) {
		uint8_t buf[PROTO_PAYLOAD_MAX];
		uint8_t idx[PROTO_BATCH_MAX];
		struct proto_writer fw;
		uint32_t len;
		unsigned k;

		proto_writer_init(&fw, buf, PROTO_PAYLOAD_MAX, 0, d->echo);
		k = execute_forward_fill(d->reqs, d->n, rt, owner, &next, &fw, idx);
		FUZZ_CHECK(k != 0, "a fresh forward datagram took no entry");
		proto_writer_set_hops(&fw, fp_exec_fwd_meta(d));
		len = proto_writer_finish(&fw);
		if (!sink->forward(sink->ctx, owner, buf, len))
			execute_forward_refused(rt, idx, k);
	}
}

void fp_exec_answer(struct fp_exec *e, const struct fp_dgram *d, const struct fp_sink *sink)
{
	struct execute_route rt;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	struct proto_writer w;
	struct execute_reply out = {
		.w = &w,
		.src_ip_be = d->src_ip_be,
		.validated = d->validated,
		.budget_bytes = d->whole ? execute_header_budget(d->has_token) : 0,
	};
	unsigned next = 0;

	execute_route(&e->x, d->reqs, d->n, d->hops, &rt);
	if (rt.n_forward != 0) {
		uint64_t done = 0;

		for (unsigned i = 0; i < d->n && rt.n_forward != 0; i++) {
			uint16_t owner = rt.owner[i];

			if (owner >= EXECUTE_REFUSED || (done & (1ull << owner)))
				continue;
			done |= 1ull << owner;
			fp_forward_owner(d, &rt, owner, i, sink);
		}
	}
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, d->echo);
	while (execute_batch(&e->x, d->reqs, d->n, &rt, &next, &out) == EXECUTE_REPLY_FULL) {
		FUZZ_CHECK(w.count != 0, "execute_batch reports a full reply that is empty");
		sink->reply(sink->ctx, buf, proto_writer_finish(&w));
		proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, d->echo);
	}
	if (w.count != 0)
		sink->reply(sink->ctx, buf, proto_writer_finish(&w));
}
