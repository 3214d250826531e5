/* execute.c - route, forward and answer a decoded datagram's entries.
 *
 * DESIGN: execute_route decides once, per entry, whether it is answered
 * here (this worker owns its region; or it is invalid, a PING or a TOKEN;
 * or it is out of hops) or handed to its owner. The shell forwards what is
 * foreign (execute_forward_fill builds each owner's datagram), then
 * execute_batch runs the rest in request order into the reply datagram.
 * When an answer does not fit, execute_batch stops before running that
 * entry and says where to resume; the shell sends the datagram and opens
 * another one carrying the same echo, so a client may receive one request's
 * answers in several self-describing datagrams, and no entry ever runs
 * twice. A GET's value is copied into the reply before the next entry runs,
 * because a later PUT in the same batch may free the item it points at.
 *
 * Address validation: the answers to a sender that has not shown a valid
 * token are held to PROTO_AMPLIFICATION_MAX times the bytes it sent, so a
 * spoofed request cannot aim a large answer at someone else. Every entry
 * answered here adds its share to the budget, and a status without a value
 * always fits that share (12 bytes of answer, plus a 16-byte header at most
 * once per datagram, against 3 x 13 bytes or more per entry and 3 x 16 for
 * the client's header), so only values are ever withheld, answered
 * NEED_TOKEN. Entries forwarded to their owner take their share with them
 * (the owner counts them), so all the owners' answers together stay within
 * the same multiple.
 *
 * Durability: a write that is to be logged (STRONG or EVENTUAL, or DEFAULT
 * under a data directory whose default is one of them) first reserves room
 * for its record in the worker's log ring and, if STRONG, a place in the
 * park table; only then does it change the shard, encode its record into
 * the ring and publish it. Anything that cannot be had (ring full, park
 * table full, storage failing) refuses the write before it runs: BUSY or
 * NOT_DURABLE, never an acknowledgement the log cannot keep. An EVENTUAL
 * write is answered at once; a STRONG one is parked and answered by the
 * worker's service step once storage reports its LSN durable. Without a
 * log (no data directory), STRONG and EVENTUAL are answered UNSUPPORTED.
 */
#include "execute.h"

#include <errno.h>
#include <string.h>

#include "keyhash.h"
#include "wal_record.h"
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

/* A GET, PUT or DELETE that decoded well: what the access sampler counts. */
static bool entry_is_data(const struct proto_request *req)
{
	return req->status == WE_STATUS_OK &&
	       (req->op == PROTO_OP_GET || req->op == PROTO_OP_PUT || req->op == PROTO_OP_DELETE);
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

void execute_route(const struct execute_ctx *x, const struct proto_request *reqs, unsigned n,
		   unsigned hops, struct execute_route *rt)
{
	WE_ASSERT(n <= PROTO_BATCH_MAX);
	rt->n_forward = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct proto_request *req = &reqs[i];
		uint16_t owner;

		if (req->status != WE_STATUS_OK || req->op == PROTO_OP_PING ||
		    req->op == PROTO_OP_TOKEN) {
			rt->owner[i] = EXECUTE_HERE;
			continue;
		}
		owner = region_map_entry(x->map, keyhash_region(req->hash));
		if (we_likely(owner == x->self)) {
			rt->owner[i] = EXECUTE_HERE;
		} else if (owner == (x->self | REGION_MAP_IMPORTING)) {
			/* Moving in, not complete: held here until it is
			 * (a "forward" to this worker itself). */
			rt->owner[i] = x->self;
			rt->n_forward++;
		} else if (hops >= EXECUTE_HOPS_MAX) {
			rt->owner[i] = EXECUTE_HOP_LIMIT;
		} else {
			owner &= REGION_MAP_WORKER_MASK;
			WE_ASSERT(owner < EXECUTE_REFUSED);
			rt->owner[i] = owner;
			rt->n_forward++;
		}
	}
}

unsigned execute_forward_fill(const struct proto_request *reqs, unsigned n,
			      const struct execute_route *rt, uint16_t owner, unsigned *next,
			      struct proto_writer *w, uint8_t idx[PROTO_BATCH_MAX])
{
	unsigned k = 0, i;

	for (i = *next; i < n; i++) {
		const struct proto_request *req = &reqs[i];

		if (rt->owner[i] != owner)
			continue;
		if (!proto_writer_fits(w, req->key_len, req->value_len))
			break;
		proto_writer_append(w, req->op, req->flags, 0, req->opaque, req->key,
				    req->key_len, req->value, req->value_len);
		idx[k++] = (uint8_t)i;
	}
	*next = i;
	return k;
}

void execute_forward_refused(struct execute_route *rt, const uint8_t *idx, unsigned k)
{
	for (unsigned j = 0; j < k; j++) {
		WE_ASSERT(rt->owner[idx[j]] < EXECUTE_REFUSED);
		rt->owner[idx[j]] = EXECUTE_REFUSED;
		rt->n_forward--;
	}
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

/* Bytes an answer adds on the wire: its entry, and the datagram's header
 * when it is the first answer in it. */
static uint32_t answer_cost(const struct proto_writer *w, uint32_t value_len)
{
	return PROTO_ENTRY_HDR_SIZE + value_len + (w->count == 0 ? PROTO_HDR_SIZE : 0);
}

/* Whether an answer with value_len bytes of value would pass an
 * unvalidated sender's budget (its entry bringing `share`). */
static bool over_budget(const struct execute_reply *out, uint32_t share, uint32_t value_len)
{
	return !out->validated &&
	       out->spent_bytes + answer_cost(out->w, value_len) > out->budget_bytes + share;
}

/* Write one answer, whose entry brings `share` to the budget. An answer
 * with a value that would pass an unvalidated sender's budget is written
 * as NEED_TOKEN without it. Returns false, writing nothing, when the answer
 * does not fit the reply: the caller stops and resumes at this entry. */
static bool answer(const struct execute_ctx *x, struct execute_reply *out, uint32_t share,
		   uint8_t op, uint8_t status, uint32_t opaque, const uint8_t *value,
		   uint32_t value_len)
{
	struct proto_writer *w = out->w;
	bool withheld = false;

	if (value_len != 0 && we_unlikely(over_budget(out, share, value_len))) {
		status = WE_STATUS_NEED_TOKEN;
		value = 0;
		value_len = 0;
		withheld = true;
	}
	if (we_unlikely(!proto_writer_fits(w, 0, value_len))) {
		/* A fresh reply takes any answer a request can get. */
		WE_ASSERT(w->count != 0);
		return false;
	}
	x->stats->req_withheld_need_token += withheld;
	out->budget_bytes += share;
	out->spent_bytes += answer_cost(w, value_len);
	proto_writer_append(w, op, 0, status, opaque, 0, 0, value, value_len);
	return true;
}

/* The durability a write gets: its flag, or the universe's default. */
static uint8_t write_durability(const struct execute_ctx *x, uint8_t flags)
{
	uint8_t dur = flags & PROTO_ENTRY_F_DUR_MASK;

	if (dur == PROTO_DUR_DEFAULT)
		dur = x->log != NULL ? x->durability_default : PROTO_DUR_WEAK;
	return dur;
}

/* Apply a PUT or DELETE to the shard and count it. */
static enum we_status run_write(const struct execute_ctx *x, const struct proto_request *req)
{
	struct worker_stats *st = x->stats;
	enum we_status s;

	if (req->op == PROTO_OP_PUT) {
		st->req_put++;
		s = shard_put(x->shard, req->lhash, req->key, req->key_len, req->value,
			      req->value_len);
		if (s == WE_STATUS_NO_SPACE)
			st->req_put_no_space++;
	} else {
		st->req_delete++;
		s = shard_delete(x->shard, req->lhash, req->key, req->key_len);
		if (s == WE_STATUS_NOT_FOUND)
			st->req_delete_miss++;
	}
	return s;
}

/* A write that is logged: refuse it before it runs when the log cannot take
 * it, else run it, log it and answer it (EVENTUAL) or park its answer
 * (STRONG). The caller has checked that a status answer fits the reply. */
static bool run_logged_write(const struct execute_ctx *x, const struct proto_request *req,
			     uint8_t dur, uint32_t share, struct execute_reply *out)
{
	struct worker_stats *st = x->stats;
	uint32_t rec_bytes = wal_record_size(req->key_len, req->value_len);
	struct wal_record rec = {
		.type = req->op == PROTO_OP_PUT ? WAL_REC_PUT : WAL_REC_DELETE,
		.worker = x->self,
		.region = (uint16_t)keyhash_region(req->hash),
		.epoch = region_map_epoch(x->map, keyhash_region(req->hash)),
		.lsn = *x->lsn + 1,
		.key = req->key,
		.key_len = req->key_len,
		.value = req->value,
		.value_len = req->op == PROTO_OP_PUT ? req->value_len : 0,
	};
	enum we_status s;
	void *slot;

	if (we_unlikely(x->durable->error != 0)) {
		st->req_refused_not_durable++;
		return answer(x, out, share, req->op, WE_STATUS_NOT_DURABLE, req->opaque, 0, 0);
	}
	if (dur == PROTO_DUR_STRONG && we_unlikely(park_full(x->park))) {
		st->req_busy_park_full++;
		return answer(x, out, share, req->op, WE_STATUS_BUSY, req->opaque, 0, 0);
	}
	slot = wal_ring_reserve(x->log, rec_bytes);
	if (we_unlikely(slot == NULL)) {
		st->req_busy_log_full++;
		return answer(x, out, share, req->op, WE_STATUS_BUSY, req->opaque, 0, 0);
	}
	s = run_write(x, req);
	if (s != WE_STATUS_OK) {
		/* Nothing changed: nothing to log (the reservation lapses). But a
		 * STRONG DELETE that found nothing still promises "absent, on
		 * disk", and the key may be absent only because of an earlier
		 * write whose record is not durable yet: its answer waits for
		 * everything this worker logged before it. */
		if (s == WE_STATUS_NOT_FOUND && dur == PROTO_DUR_STRONG &&
		    *x->lsn > x->durable->lsn) {
			rec.lsn = *x->lsn;
			goto park;
		}
		return answer(x, out, share, req->op, (uint8_t)s, req->opaque, 0, 0);
	}
	WE_ASSERT(wal_record_encode(slot, rec_bytes, &rec) == (int64_t)rec_bytes);
	wal_ring_commit(x->log);
	*x->lsn = rec.lsn;
	st->log_records++;
	if (dur == PROTO_DUR_EVENTUAL)
		return answer(x, out, share, req->op, WE_STATUS_OK, req->opaque, 0, 0);

park:;
	struct park_entry e = {
		.lsn = rec.lsn,
		.echo = out->echo,
		.opaque = req->opaque,
		.op = req->op,
		.status = (uint8_t)s,
		.udp = *out->udp,
	};
	park_add(x->park, &e);
	st->req_parked++;
	return true;
}

/* A GET found its item in the disk tier: its answer waits in the fetch
 * table while the worker has the record read (worker_archive.c) and goes
 * out in a datagram of its own. An unvalidated sender's budget is charged
 * now for the value to come (NEED_TOKEN now if it would pass it). BUSY when
 * the table is full. The caller has checked that a status answer fits. */
static bool fetch_later(const struct execute_ctx *x, const struct proto_request *req,
			uint32_t share, struct execute_reply *out, const uint8_t *ref,
			uint32_t value_len)
{
	struct worker_stats *st = x->stats;
	struct fetch_entry e;

	if (we_unlikely(x->fetch == NULL)) { /* no disk tier: no stub either */
		st->req_get_archive_failed++;
		return answer(x, out, share, req->op, WE_STATUS_IO_ERROR, req->opaque, 0, 0);
	}
	if (over_budget(out, share, value_len)) {
		st->req_withheld_need_token++;
		return answer(x, out, share, req->op, WE_STATUS_NEED_TOKEN, req->opaque, 0, 0);
	}
	if (fetch_full(x->fetch)) {
		st->req_busy_fetch_full++;
		return answer(x, out, share, req->op, WE_STATUS_BUSY, req->opaque, 0, 0);
	}
	memcpy(&e.ref, ref, sizeof(e.ref));
	e.hash = req->lhash;
	e.echo = out->echo;
	e.udp = *out->udp;
	e.opaque = req->opaque;
	e.op = req->op;
	e.key_len = req->key_len;
	memcpy(e.key, req->key, req->key_len);
	WE_ASSERT(fetch_add(x->fetch, &e) >= 0);
	out->budget_bytes += share;
	out->spent_bytes += answer_cost(out->w, value_len);
	st->req_get++;
	st->req_get_archived++;
	return true;
}

/* Run one well-formed entry that this worker owns and answer it. Returns
 * false, having changed nothing, when its answer does not fit the reply:
 * writes check that a status answer fits before they change the shard, and
 * a GET is only a lookup until its answer is written. */
static bool run_local(const struct execute_ctx *x, const struct proto_request *req,
		      uint32_t share, struct execute_reply *out)
{
	struct worker_stats *st = x->stats;
	const uint8_t *value = 0;
	uint32_t value_len = 0;
	enum we_status s;
	uint8_t dur;

	if (req->op == PROTO_OP_GET) {
		s = shard_get(x->shard, req->lhash, req->key, req->key_len, &value, &value_len);
		if (we_unlikely(s == SHARD_STATUS_ARCHIVED)) {
			if (!proto_writer_fits(out->w, 0, 0))
				return false;
			return fetch_later(x, req, share, out, value, value_len);
		}
		if (!answer(x, out, share, req->op, (uint8_t)s, req->opaque, value, value_len))
			return false;
		st->req_get++;
		if (s == WE_STATUS_OK)
			st->req_get_hit++;
		else
			st->req_get_miss++;
		return true;
	}
	WE_ASSERT(req->op == PROTO_OP_PUT || req->op == PROTO_OP_DELETE);
	if (!proto_writer_fits(out->w, 0, 0))
		return false;
	dur = write_durability(x, req->flags);
	if (dur != PROTO_DUR_WEAK) {
		if (x->log == NULL) {
			st->req_err_unsupported++;
			return answer(x, out, share, req->op, WE_STATUS_UNSUPPORTED, req->opaque, 0,
				      0);
		}
		return run_logged_write(x, req, dur, share, out);
	}
	s = run_write(x, req);
	return answer(x, out, share, req->op, (uint8_t)s, req->opaque, 0, 0);
}

/* Answer one entry that stays here. False when its answer does not fit. */
static bool answer_entry(const struct execute_ctx *x, const struct proto_request *req,
			 uint16_t fate, struct execute_reply *out)
{
	struct worker_stats *st = x->stats;
	/* This entry's share of an unvalidated sender's budget. */
	uint32_t share = PROTO_AMPLIFICATION_MAX * proto_request_size(req);

	if (req->status != WE_STATUS_OK) {
		if (!answer(x, out, share, req->op, req->status, req->opaque, 0, 0))
			return false;
		count_entry_error(st, req->status);
		return true;
	}
	if (fate == EXECUTE_HOP_LIMIT) {
		if (!answer(x, out, share, req->op, WE_STATUS_WRONG_OWNER, req->opaque, 0, 0))
			return false;
		st->fwd_err_hop_limit++;
		return true;
	}
	if (fate == EXECUTE_REFUSED) {
		if (!answer(x, out, share, req->op, WE_STATUS_BUSY, req->opaque, 0, 0))
			return false;
		st->fwd_err_busy++;
		return true;
	}
	if (req->op == PROTO_OP_PING) {
		if (!answer(x, out, share, req->op, WE_STATUS_OK, req->opaque, 0, 0))
			return false;
		st->req_ping++;
		return true;
	}
	if (req->op == PROTO_OP_TOKEN) {
		/* The sender's address token, which it echoes in later requests
		 * to be served in full (addr_token.h). Tokens do not depend on
		 * the worker, so the receiving one answers. */
		const uint8_t *token = addr_token_current(x->tokens, out->src_ip_be, x->token_epoch);

		if (!answer(x, out, share, req->op, WE_STATUS_OK, req->opaque, token,
			    PROTO_TOKEN_SIZE))
			return false;
		st->req_token++;
		return true;
	}
	return run_local(x, req, share, out);
}

enum execute_step execute_batch(const struct execute_ctx *x, const struct proto_request *reqs,
				unsigned n, const struct execute_route *rt, unsigned *next,
				struct execute_reply *out)
{
	for (unsigned i = *next; i < n; i++) {
		uint16_t fate = rt->owner[i];

		if (fate < EXECUTE_REFUSED) {
			if (fate == x->self) {
				x->stats->move_held++; /* held until its region is in */
				continue;
			}
			x->stats->fwd_out++; /* forwarded: its owner answers it */
			if (x->fwd_to != NULL)
				x->fwd_to[fate]++;
			continue;
		}
		if (!answer_entry(x, &reqs[i], fate, out)) {
			*next = i;
			return EXECUTE_REPLY_FULL;
		}
		if (x->sampler != NULL && fate == EXECUTE_HERE && entry_is_data(&reqs[i]))
			access_sample_note(x->sampler, reqs[i].hash, reqs[i].key, reqs[i].key_len);
	}
	*next = n;
	return EXECUTE_DONE;
}
