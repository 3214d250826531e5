/* execute.c - answer a decoded datagram's entries from the local shard.
 *
 * DESIGN: each entry is either answered here (this worker owns its region),
 * answered with its decode error, or handed to its owner through
 * io->forward(). Answers are written into the reply datagram in request
 * order; when one does not fit, io->reply_next() sends the datagram and opens
 * another one carrying the same echo, so a client may receive one request's
 * answers in several self-describing datagrams. A GET's value is copied into
 * the reply before the next entry runs, because a later PUT in the same batch
 * may free the item it points at.
 *
 * Durability: no write-ahead log exists yet, so every write lives in memory
 * only (the `weak` consistency model). A request that asks for `strong` or
 * `eventual` durability is answered UNSUPPORTED rather than acknowledged
 * without the guarantee it asked for.
 */
#include "execute.h"

#include <errno.h>

#include "keyhash.h"
#include "we_assert.h"

void execute_hash(const struct execute_ctx *x, struct proto_request *reqs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (reqs[i].status == WE_STATUS_OK && reqs[i].key_len != 0) {
			reqs[i].hash = keyhash(reqs[i].key, reqs[i].key_len);
			reqs[i].lhash = keyhash_local(x->secret, reqs[i].key, reqs[i].key_len);
		}
	}
}

static bool entry_is_local(const struct execute_ctx *x, const struct proto_request *req)
{
	return req->status == WE_STATUS_OK && req->key_len != 0 &&
	       region_map_owner_of_hash(x->map, req->hash) == x->self;
}

void execute_prefetch_buckets(const struct execute_ctx *x, const struct proto_request *reqs,
			      unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (entry_is_local(x, &reqs[i]))
			shard_prefetch_bucket(x->shard, reqs[i].lhash);
}

void execute_prefetch_items(const struct execute_ctx *x, const struct proto_request *reqs,
			    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (reqs[i].op == PROTO_OP_GET && entry_is_local(x, &reqs[i]))
			shard_prefetch_item(x->shard, reqs[i].lhash);
}

static void count_entry_error(struct worker_stats *st, uint8_t status)
{
	switch (status) {
	case WE_STATUS_BAD_REQUEST:
		st->req_err_bad_request++;
		break;
	case WE_STATUS_UNKNOWN_OP:
		st->req_err_unknown_op++;
		break;
	case WE_STATUS_KEY_TOO_LONG:
		st->req_err_key_too_long++;
		break;
	case WE_STATUS_VALUE_TOO_LARGE:
		st->req_err_value_too_large++;
		break;
	default:
		st->req_err_unsupported++;
		break;
	}
}

/* Bytes an answer adds on the wire: its entry, and a header when it opens
 * a datagram (the first answer, or one that does not fit the current one). */
static uint32_t answer_cost(const struct execute_io *io, uint32_t value_len)
{
	bool opens = io->reply->count == 0 || !proto_writer_fits(io->reply, 0, value_len);

	return PROTO_ENTRY_HDR_SIZE + value_len + (opens ? PROTO_HDR_SIZE : 0);
}

bool execute_answer(struct execute_io *io, uint8_t op, uint8_t status, uint32_t opaque,
		   const uint8_t *value, uint32_t value_len)
{
	if (!io->validated && value_len != 0 &&
	    we_unlikely(io->spent_bytes + answer_cost(io, value_len) > io->budget_bytes)) {
		status = WE_STATUS_NEED_TOKEN;
		value = 0;
		value_len = 0;
		io->withheld++;
	}
	if (we_unlikely(!proto_writer_fits(io->reply, 0, value_len))) {
		/* An empty reply always fits a value a request could carry. */
		WE_ASSERT(io->reply->count != 0);
		if (io->reply_next(io) != 0)
			return false;
		WE_ASSERT(proto_writer_fits(io->reply, 0, value_len));
	}
	io->spent_bytes += PROTO_ENTRY_HDR_SIZE + value_len +
			   (io->reply->count == 0 ? PROTO_HDR_SIZE : 0);
	proto_writer_append(io->reply, op, 0, status, opaque, 0, 0, value, value_len);
	return true;
}

static bool durability_supported(uint8_t flags)
{
	uint8_t dur = flags & PROTO_ENTRY_F_DUR_MASK;
	return dur == PROTO_DUR_DEFAULT || dur == PROTO_DUR_WEAK;
}

/* Op TOKEN: the sender's address token, which it echoes in later requests
 * to be served in full (addr_token.h). Answered by the worker that receives
 * it, like PING: tokens do not depend on the worker. */
static bool answer_token(const struct execute_ctx *x, const struct proto_request *req,
			 struct execute_io *io)
{
	const uint8_t *token = addr_token_current(x->tokens, io->src_ip_be, x->token_epoch);

	x->stats->req_token++;
	return execute_answer(io, req->op, WE_STATUS_OK, req->opaque, token, PROTO_TOKEN_SIZE);
}

/* Run one well-formed entry that this worker owns. */
static bool run_local(const struct execute_ctx *x, const struct proto_request *req,
		      struct execute_io *io)
{
	struct worker_stats *st = x->stats;
	const uint8_t *value = 0;
	uint32_t value_len = 0;
	enum we_status s;

	switch (req->op) {
	case PROTO_OP_GET:
		st->req_get++;
		s = shard_get(x->shard, req->lhash, req->key, req->key_len, &value, &value_len);
		if (s == WE_STATUS_OK)
			st->req_get_hit++;
		else
			st->req_get_miss++;
		return execute_answer(io, req->op, (uint8_t)s, req->opaque, value, value_len);
	case PROTO_OP_PUT:
		if (!durability_supported(req->flags)) {
			st->req_err_unsupported++;
			return execute_answer(io, req->op, WE_STATUS_UNSUPPORTED, req->opaque, 0, 0);
		}
		st->req_put++;
		s = shard_put(x->shard, req->lhash, req->key, req->key_len, req->value,
			      req->value_len, 0);
		if (s == WE_STATUS_NO_SPACE)
			st->req_put_no_space++;
		return execute_answer(io, req->op, (uint8_t)s, req->opaque, 0, 0);
	case PROTO_OP_DELETE:
		if (!durability_supported(req->flags)) {
			st->req_err_unsupported++;
			return execute_answer(io, req->op, WE_STATUS_UNSUPPORTED, req->opaque, 0, 0);
		}
		st->req_delete++;
		s = shard_delete(x->shard, req->lhash, req->key, req->key_len);
		if (s == WE_STATUS_NOT_FOUND)
			st->req_delete_miss++;
		return execute_answer(io, req->op, (uint8_t)s, req->opaque, 0, 0);
	default:
		/* The decoder marks every other op with an error status. */
		WE_ASSERT(0);
	}
	return false;
}

unsigned execute_batch(const struct execute_ctx *x, struct proto_request *reqs, unsigned n,
		       unsigned hops, struct execute_io *io)
{
	struct worker_stats *st = x->stats;
	unsigned unanswered = 0;
	bool can_answer = true;

	for (unsigned i = 0; i < n; i++) {
		const struct proto_request *req = &reqs[i];
		/* This entry's share of an unvalidated sender's budget, taken
		 * here unless the entry goes to its owner. */
		uint32_t share = PROTO_AMPLIFICATION_MAX * proto_request_size(req);
		bool ok;

		if (req->status != WE_STATUS_OK) {
			count_entry_error(st, req->status);
			io->budget_bytes += share;
			ok = can_answer && execute_answer(io, req->op, req->status, req->opaque, 0, 0);
		} else if (req->op == PROTO_OP_PING) {
			st->req_ping++;
			io->budget_bytes += share;
			ok = can_answer && execute_answer(io, req->op, WE_STATUS_OK, req->opaque, 0, 0);
		} else if (req->op == PROTO_OP_TOKEN) {
			io->budget_bytes += share;
			ok = can_answer && answer_token(x, req, io);
		} else {
			uint16_t owner = region_map_owner_of_hash(x->map, req->hash);

			if (owner == x->self) {
				io->budget_bytes += share;
				ok = can_answer && run_local(x, req, io);
			} else if (hops >= EXECUTE_HOPS_MAX) {
				st->fwd_err_hop_limit++;
				io->budget_bytes += share;
				ok = can_answer && execute_answer(io, req->op, WE_STATUS_WRONG_OWNER,
							  req->opaque, 0, 0);
			} else if (io->forward(io, owner, req) == 0) {
				st->fwd_out++;
				ok = true;
			} else {
				st->fwd_err_busy++;
				io->budget_bytes += share;
				ok = can_answer &&
				     execute_answer(io, req->op, WE_STATUS_BUSY, req->opaque, 0, 0);
			}
		}
		if (!ok) {
			can_answer = false;
			unanswered++;
		}
	}
	st->req_withheld_need_token += io->withheld;
	io->withheld = 0;
	return unanswered;
}
