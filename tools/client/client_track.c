/* client_track.c - the in-flight table behind every networked command.
 *
 * DESIGN: three bounded structures, all allocated at init (client_track.h
 * draws them): the op ring indexed by admission number, one FIFO pending
 * list per worker port threaded through the ring, and `window` datagram
 * slots each owning its encoded bytes. Time enters only as arguments, so the
 * unit test runs the whole retry logic on a simulated clock.
 *
 * Batching: a new datagram goes to the next worker (round robin) that has a
 * full batch pending; a partial batch goes only when nothing more can come
 * soon: the source is finished, waiting for input or blocked on a key, or
 * fewer than half the slots are busy (the pipeline is running dry). Under a
 * steady load this keeps datagrams full without ever stalling on a partial
 * one.
 *
 * Retries resend only a slot's unanswered ops under the same echo. Resending
 * answered writes could reorder them against later requests on the same key
 * that the batch command has meanwhile let through.
 *
 * The address token (client_token.c) rides on the same turns: its handshake
 * is the first datagram next_tx() releases, new request datagrams wait while
 * a token is wanted and none is known, and each encoding of a slot takes the
 * token current at that moment when the entries fit beside it. A slot
 * remembers which token generation it carried, so a NEED_TOKEN answer to a
 * datagram sent before the newest token only resends the entry, and one to
 * the newest asks for another token first.
 */
#include "client_track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyhash.h"
#include "we_assert.h"

#define OP_NONE UINT32_MAX
/* The k-th retry waits timeout x min(2^k, BACKOFF_MAX). */
#define BACKOFF_MAX 4u

struct client_slot {
	uint64_t echo;
	uint64_t deadline_ns;
	uint32_t ops[PROTO_BATCH_MAX]; /* admission numbers, in datagram order */
	uint8_t n_ops;
	uint8_t n_open; /* ops still INFLIGHT */
	uint8_t tries;
	bool used;
	bool resend; /* deadline passed; a retry waits for next_tx */
	uint16_t worker;
	uint32_t token_gen; /* token generation it last carried; 0: none */
	uint32_t len;
	uint8_t buf[PROTO_PAYLOAD_MAX];
};

static uint32_t ring_mask(const struct client_track *t)
{
	return t->cfg.ring_ops - 1;
}

uint32_t client_track_ring_size(uint32_t window, uint32_t batch, uint16_t n_workers)
{
	uint64_t want = 2ull * window * batch;
	uint32_t n = 64;

	if ((uint64_t)batch * n_workers > want)
		want = (uint64_t)batch * n_workers;
	while (n < want && n < 65536)
		n <<= 1;
	return n;
}

int client_track_init(struct client_track *t, const struct client_track_cfg *cfg)
{
	const struct client_track_cfg *c = cfg;
	size_t nw = c->n_workers;

	memset(t, 0, sizeof(*t));
	if (c->ring_ops == 0 || (c->ring_ops & (c->ring_ops - 1)) || c->ring_ops > (1u << 20) ||
	    c->ring_ops < c->batch || c->window == 0 || c->window >= CLIENT_TOKEN_SLOT ||
	    c->batch == 0 ||
	    c->batch > PROTO_BATCH_MAX || c->n_workers == 0 || c->timeout_ns == 0 ||
	    c->retries > 254 || (c->misdirect && c->n_workers < 2) ||
	    (c->map && c->map->n_workers != c->n_workers))
		return -EINVAL;
	t->cfg = *c;
	t->cfg.map = NULL; /* copied below: the caller's map need not outlive this */
	if (c->map)
		memcpy(&t->map, c->map, sizeof(t->map));
	else
		region_map_init_default(&t->map, c->n_workers);
	client_token_init(&t->tok, c->token, c->nonce, c->n_workers, c->timeout_ns, c->retries);
	t->ops = calloc(c->ring_ops, sizeof(*t->ops));
	t->slots = calloc(c->window, sizeof(*t->slots));
	t->free_slots = calloc(c->window, sizeof(*t->free_slots));
	t->pend_head = calloc(nw, sizeof(*t->pend_head));
	t->pend_tail = calloc(nw, sizeof(*t->pend_tail));
	t->pend_count = calloc(nw, sizeof(*t->pend_count));
	if (!t->ops || !t->slots || !t->free_slots || !t->pend_head || !t->pend_tail ||
	    !t->pend_count || client_keyset_init(&t->keys, c->ring_ops) != 0) {
		client_track_fini(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < c->window; i++)
		t->free_slots[i] = (uint16_t)(c->window - 1 - i);
	t->n_free = c->window;
	for (size_t w = 0; w < nw; w++)
		t->pend_head[w] = t->pend_tail[w] = OP_NONE;
	t->src_done = true;
	return 0;
}

void client_track_fini(struct client_track *t)
{
	free(t->ops);
	free(t->slots);
	free(t->free_slots);
	free(t->pend_head);
	free(t->pend_tail);
	free(t->pend_count);
	client_keyset_fini(&t->keys);
	memset(t, 0, sizeof(*t));
}

void client_track_start(struct client_track *t, const struct client_source *src)
{
	WE_ASSERT(t->head == t->tail);
	WE_ASSERT(t->n_free == t->cfg.window);
	WE_ASSERT(t->n_pending == 0);
	t->src = src;
	t->admitted = NULL;
	t->src_done = false;
	t->src_waiting = false;
	t->blocked = false;
	t->aborted = false;
	t->rr = 0;
	memset(&t->stats, 0, sizeof(t->stats));
	client_keyset_clear(&t->keys);
}

uint16_t client_track_dest(const struct client_track *t, uint64_t hash)
{
	uint16_t owner = region_map_owner_of_hash(&t->map, hash);

	if (t->cfg.misdirect)
		return (uint16_t)((owner + 1u) % t->cfg.n_workers);
	return owner;
}

uint32_t client_track_inflight(const struct client_track *t)
{
	return t->cfg.window - t->n_free;
}

bool client_track_done(const struct client_track *t)
{
	return t->src_done && t->head == t->tail;
}

static void pend_push(struct client_track *t, uint32_t idx)
{
	struct client_op *op = &t->ops[idx];
	uint16_t w = op->worker;

	op->state = CLIENT_OP_PENDING;
	op->next = OP_NONE;
	if (t->pend_tail[w] == OP_NONE)
		t->pend_head[w] = idx;
	else
		t->ops[t->pend_tail[w]].next = idx;
	t->pend_tail[w] = idx;
	t->pend_count[w]++;
	t->n_pending++;
}

static uint32_t pend_pop(struct client_track *t, uint16_t w)
{
	uint32_t idx = t->pend_head[w];

	WE_ASSERT(idx != OP_NONE);
	t->pend_head[w] = t->ops[idx].next;
	if (t->pend_head[w] == OP_NONE)
		t->pend_tail[w] = OP_NONE;
	t->pend_count[w]--;
	t->n_pending--;
	return idx;
}

/* Retire done ops from the head, in admission order. */
static void retire(struct client_track *t)
{
	while (t->head != t->tail) {
		uint32_t idx = t->head & ring_mask(t);
		struct client_op *op = &t->ops[idx];

		if (op->state != CLIENT_OP_DONE)
			break;
		t->src->retire(t->src->ctx, idx, op);
		op->state = CLIENT_OP_FREE;
		t->head++;
	}
}

/* Give op idx its outcome. value is passed on for GET hits only. */
static void op_complete(struct client_track *t, uint32_t idx, unsigned status,
			const uint8_t *value, uint32_t value_len)
{
	struct client_op *op = &t->ops[idx];

	WE_ASSERT(op->state == CLIENT_OP_INFLIGHT || op->state == CLIENT_OP_PENDING ||
		  op->state == CLIENT_OP_BLOCKED);
	if (op->state != CLIENT_OP_BLOCKED && !t->src->keys_distinct)
		client_keyset_remove(&t->keys, op->hash);
	if (op->state == CLIENT_OP_INFLIGHT)
		t->slots[op->slot].n_open--;
	op->state = CLIENT_OP_DONE;
	op->status = (uint8_t)status;
	if (status == CLIENT_STATUS_TIMEOUT)
		t->stats.req_timeout++;
	else
		t->stats.req_answered++;
	if (status != WE_STATUS_OK || op->op != PROTO_OP_GET) {
		value = NULL;
		value_len = 0;
	}
	t->src->result(t->src->ctx, idx, op, value, value_len);
}

/* The slot's k-th op if it still awaits an answer, else NULL (answered;
 * perhaps retired, its ring entry reused by a newer op). */
static struct client_op *slot_open_op(struct client_track *t, const struct client_slot *s,
				      unsigned k)
{
	struct client_op *op = &t->ops[s->ops[k] & ring_mask(t)];

	if (op->seq != s->ops[k] || op->state != CLIENT_OP_INFLIGHT)
		return NULL;
	return op;
}

static void slot_free(struct client_track *t, struct client_slot *s)
{
	WE_ASSERT(s->used);
	WE_ASSERT(s->n_open == 0);
	s->used = false;
	s->resend = false;
	t->free_slots[t->n_free++] = (uint16_t)(s - t->slots);
}

/* Admit one op the source just filled at idx. Returns false if it must wait
 * for an earlier request on its key. */
static bool admit_one(struct client_track *t, uint32_t idx)
{
	struct client_op *op = &t->ops[idx];

	op->seq = t->tail++;
	if (op->op == CLIENT_OP_NOP) {
		op->state = CLIENT_OP_DONE;
		return true;
	}
	WE_ASSERT(op->key_len >= 1);
	WE_ASSERT((uint32_t)op->key_len + op->value_len <= CLIENT_KV_MAX);
	WE_ASSERT(op->op >= PROTO_OP_GET && op->op <= PROTO_OP_PING);
	op->sent_ns = 0;
	if (op->op != PROTO_OP_PUT)
		WE_ASSERT(op->value_len == 0);
	op->hash = keyhash(op->key, op->key_len);
	if (op->worker == CLIENT_WORKER_AUTO)
		op->worker = client_track_dest(t, op->hash);
	WE_ASSERT(op->worker < t->cfg.n_workers);
	op->tries = 0;
	op->transient = 0;
	op->status = 0;
	if (!t->src->keys_distinct) {
		if (client_keyset_contains(&t->keys, op->hash)) {
			op->state = CLIENT_OP_BLOCKED;
			t->blocked = true;
			return false;
		}
		client_keyset_insert(&t->keys, op->hash);
	}
	pend_push(t, idx);
	return true;
}

static unsigned admit_pull(struct client_track *t);

unsigned client_track_admit(struct client_track *t)
{
	unsigned n = admit_pull(t);

	if (t->admitted)
		t->admitted(t->src->ctx);
	return n;
}

static unsigned admit_pull(struct client_track *t)
{
	unsigned n = 0;

	if (t->aborted)
		return 0;
	if (t->blocked) {
		uint32_t idx = (t->tail - 1) & ring_mask(t);

		if (client_keyset_contains(&t->keys, t->ops[idx].hash))
			return 0;
		client_keyset_insert(&t->keys, t->ops[idx].hash);
		t->blocked = false;
		pend_push(t, idx);
		n++;
	}
	t->src_waiting = false;
	while (!t->src_done && t->tail - t->head < t->cfg.ring_ops) {
		uint32_t idx = t->tail & ring_mask(t);
		struct client_op *op = &t->ops[idx];
		int rc;

		memset(op, 0, sizeof(*op));
		op->worker = CLIENT_WORKER_AUTO;
		rc = t->src->next(t->src->ctx, idx, op);
		if (rc == -EAGAIN) {
			t->src_waiting = true;
			break;
		}
		if (rc <= 0) {
			t->src_done = true;
			break;
		}
		if (!admit_one(t, idx))
			break;
		n++;
	}
	retire(t); /* placeholders may be ready to leave */
	return n;
}

/* Encode a slot's INFLIGHT ops into its buffer, with the current token if
 * they fit beside it. */
static void slot_encode(struct client_track *t, struct client_slot *s)
{
	const uint8_t *token = client_token_get(&t->tok);
	struct proto_writer w;
	uint32_t bytes = PROTO_HDR_SIZE + PROTO_TOKEN_SIZE;

	for (unsigned k = 0; token && k < s->n_ops; k++) {
		const struct client_op *op = slot_open_op(t, s, k);

		if (op)
			bytes += PROTO_ENTRY_HDR_SIZE + op->key_len + op->value_len;
	}
	if (token && bytes <= PROTO_PAYLOAD_MAX) {
		proto_writer_init_token(&w, s->buf, sizeof(s->buf), s->echo, token);
		s->token_gen = t->tok.gen;
	} else {
		proto_writer_init(&w, s->buf, sizeof(s->buf), 0, s->echo);
		s->token_gen = 0;
	}
	for (unsigned k = 0; k < s->n_ops; k++) {
		const struct client_op *op = slot_open_op(t, s, k);

		if (!op)
			continue;
		WE_ASSERT(proto_writer_fits(&w, op->key_len, op->value_len));
		proto_writer_append(&w, op->op, op->flags, 0, op->seq, op->key, op->key_len,
				    op->value, op->value_len);
	}
	s->len = proto_writer_finish(&w);
}

static void slot_arm(struct client_track *t, struct client_slot *s, uint64_t now_ns)
{
	unsigned shift = s->tries - 1u;
	uint64_t factor = shift >= 2 ? BACKOFF_MAX : 1u << shift;

	s->deadline_ns = now_ns + t->cfg.timeout_ns * factor;
	t->stats.dgram_sent++;
	for (unsigned k = 0; k < s->n_ops; k++) {
		struct client_op *op = slot_open_op(t, s, k);

		if (op && op->tries == 0)
			op->sent_ns = now_ns;
		if (op && op->tries < UINT8_MAX)
			op->tries++;
	}
}

/* The next worker to get a new datagram, or -1. */
static int pick_worker(struct client_track *t)
{
	uint32_t n = t->cfg.n_workers;
	bool flush = t->src_done || t->src_waiting || t->blocked ||
		     2 * client_track_inflight(t) < t->cfg.window;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t w = (t->rr + k) % n;

		if (t->pend_count[w] >= t->cfg.batch)
			return (int)w;
	}
	if (!flush)
		return -1;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t w = (t->rr + k) % n;

		if (t->pend_count[w] > 0)
			return (int)w;
	}
	return -1;
}

static void fill_tx(struct client_slot *s, struct client_slot *base, struct client_tx *tx)
{
	tx->buf = s->buf;
	tx->len = s->len;
	tx->worker = s->worker;
	tx->slot = (uint16_t)(s - base);
}

/* Move pending ops of `worker` into slot s while they fit; the writer only
 * measures here. An entry too large to go beside the token goes without (a
 * PUT, whose answer is a status: never withheld). */
static void slot_fill(struct client_track *t, struct client_slot *s, uint16_t worker)
{
	const uint8_t *token = client_token_get(&t->tok);
	const struct client_op *first = &t->ops[t->pend_head[worker]];
	struct proto_writer w;

	if (token)
		proto_writer_init_token(&w, s->buf, sizeof(s->buf), s->echo, token);
	if (!token || !proto_writer_fits(&w, first->key_len, first->value_len))
		proto_writer_init(&w, s->buf, sizeof(s->buf), 0, s->echo);
	while (t->pend_count[worker] > 0 && s->n_ops < t->cfg.batch) {
		const struct client_op *next = &t->ops[t->pend_head[worker]];
		uint32_t idx;

		if (!proto_writer_fits(&w, next->key_len, next->value_len))
			break;
		w.len += PROTO_ENTRY_HDR_SIZE + next->key_len + next->value_len;
		w.count++;
		idx = pend_pop(t, worker);
		t->ops[idx].state = CLIENT_OP_INFLIGHT;
		t->ops[idx].slot = (uint16_t)(s - t->slots);
		s->ops[s->n_ops++] = t->ops[idx].seq;
	}
	WE_ASSERT(s->n_ops > 0);
}

bool client_track_next_tx(struct client_track *t, uint64_t now_ns, struct client_tx *tx)
{
	struct client_slot *s;
	uint16_t sidx;
	int worker;

	if (client_token_next_tx(&t->tok, now_ns, t->n_pending > 0 || client_track_inflight(t) > 0,
				 &tx->buf, &tx->len, &tx->worker)) {
		tx->slot = CLIENT_TOKEN_SLOT;
		t->stats.token_sent++;
		return true;
	}
	for (uint32_t i = 0; i < t->cfg.window; i++) {
		s = &t->slots[i];
		if (!s->used || !s->resend)
			continue;
		s->resend = false;
		s->tries++;
		slot_encode(t, s);
		slot_arm(t, s, now_ns);
		t->stats.dgram_resent++;
		t->stats.req_resent += s->n_open;
		fill_tx(s, t->slots, tx);
		return true;
	}
	if (t->n_free == 0 || t->n_pending == 0 || client_token_blocks(&t->tok))
		return false;
	worker = pick_worker(t);
	if (worker < 0)
		return false;
	t->rr = ((uint32_t)worker + 1) % t->cfg.n_workers;
	sidx = t->free_slots[--t->n_free];
	s = &t->slots[sidx];
	t->dgram_seq++;
	s->echo = (uint64_t)t->cfg.nonce << 48 | (uint64_t)t->dgram_seq << 16 | sidx;
	s->used = true;
	s->resend = false;
	s->tries = 1;
	s->worker = (uint16_t)worker;
	s->n_ops = 0;
	slot_fill(t, s, (uint16_t)worker);
	s->n_open = s->n_ops;
	slot_encode(t, s);
	slot_arm(t, s, now_ns);
	t->stats.req_sent += s->n_ops;
	fill_tx(s, t->slots, tx);
	return true;
}

/* Outcomes the protocol calls transient (docs/protocol.md, section 13). */
static bool status_is_transient(unsigned status)
{
	return status == WE_STATUS_BUSY || status == WE_STATUS_WRONG_OWNER;
}

/* A new token came: slots holding entries answered NEED_TOKEN go again now
 * (with it), not at their deadline. */
static void token_arrived(struct client_track *t)
{
	for (uint32_t i = 0; i < t->cfg.window; i++) {
		struct client_slot *s = &t->slots[i];

		if (!s->used || s->resend || s->tries > t->cfg.retries)
			continue;
		for (unsigned k = 0; k < s->n_ops; k++) {
			const struct client_op *op = slot_open_op(t, s, k);

			if (op && op->transient == WE_STATUS_NEED_TOKEN) {
				s->resend = true;
				break;
			}
		}
	}
}

/* Apply one response entry to the datagram slot it answers. */
static void rx_entry(struct client_track *t, struct client_slot *s, uint16_t sidx,
		     const struct proto_request *e)
{
	uint32_t idx = e->opaque & ring_mask(t);
	struct client_op *op = &t->ops[idx];

	if (op->seq != e->opaque || op->slot != sidx ||
	    (op->state != CLIENT_OP_INFLIGHT && op->state != CLIENT_OP_DONE)) {
		/* An op of this slot that already retired, or a made-up id. */
		if ((int32_t)(e->opaque - t->head) < 0)
			t->stats.rx_dup++;
		else
			t->stats.rx_invalid++;
		return;
	}
	if (e->op != op->op) {
		t->stats.rx_invalid++;
		return;
	}
	if (op->state == CLIENT_OP_DONE) {
		t->stats.rx_dup++;
		return;
	}
	if (status_is_transient(e->status) && s->tries <= t->cfg.retries) {
		/* Retried like a loss when the slot's timer fires. */
		op->transient = e->status;
		t->stats.req_transient++;
		return;
	}
	if (e->status == WE_STATUS_NEED_TOKEN && s->tries <= t->cfg.retries &&
	    client_token_need(&t->tok, s->token_gen)) {
		/* Resent once a token newer than the one it carried is here:
		 * now if one is, else when it comes (or at the deadline). */
		op->transient = e->status;
		t->stats.need_token++;
		if (client_token_get(&t->tok))
			s->resend = true;
		return;
	}
	op_complete(t, idx, e->status, e->value, e->value_len);
}

void client_track_rx(struct client_track *t, const uint8_t *buf, uint32_t len)
{
	struct proto_request entries[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	struct client_slot *s;
	enum proto_decode_result r;
	unsigned n;
	uint16_t sidx;

	/* v1 datagrams fit a 1500-byte MTU; this also bounds any value we
	 * hand to result() by CLIENT_KV_MAX. */
	if (len > PROTO_PAYLOAD_MAX) {
		t->stats.rx_invalid++;
		return;
	}
	r = proto_decode_response(buf, len, &hdr, entries, PROTO_BATCH_MAX, &n);
	if (r != PROTO_DECODE_OK) {
		t->stats.rx_invalid++;
		return;
	}
	sidx = (uint16_t)(hdr.echo & 0xffff);
	if (sidx == CLIENT_TOKEN_SLOT) {
		if (client_token_rx(&t->tok, &hdr, entries, n))
			token_arrived(t);
		return;
	}
	s = sidx < t->cfg.window ? &t->slots[sidx] : NULL;
	if (!s || !s->used || s->echo != hdr.echo) {
		t->stats.rx_stale++;
		return;
	}
	t->stats.rx_dgrams++;
	if (n == 0 && hdr.status == WE_STATUS_UNSUPPORTED && s->token_gen != 0) {
		/* An older server refuses the TOKEN flag: nothing was executed.
		 * Tokens stop and the same ops go again at once, plain; the
		 * refusal costs no try. */
		t->stats.rx_batch_error++;
		client_token_refused(&t->tok);
		if (s->n_open > 0 && !s->resend) {
			s->tries--;
			s->resend = true;
		}
		return;
	}
	if (n == 0 && hdr.status != WE_STATUS_OK) {
		/* A header-only error: nothing in the datagram was executed.
		 * A transient one is retried like a loss while tries remain. */
		bool retry = status_is_transient(hdr.status) && s->tries <= t->cfg.retries;

		t->stats.rx_batch_error++;
		for (unsigned k = 0; k < s->n_ops; k++) {
			struct client_op *op = slot_open_op(t, s, k);

			if (op && retry) {
				op->transient = hdr.status;
				t->stats.req_transient++;
			} else if (op) {
				op_complete(t, s->ops[k] & ring_mask(t), hdr.status, NULL, 0);
			}
		}
	} else if (n == 0) {
		t->stats.rx_invalid++;
	}
	for (unsigned k = 0; k < n; k++)
		rx_entry(t, s, sidx, &entries[k]);
	if (s->n_open == 0)
		slot_free(t, s);
	retire(t);
}

uint64_t client_track_expire(struct client_track *t, uint64_t now_ns)
{
	uint64_t next = client_token_expire(&t->tok, now_ns);

	for (uint32_t i = 0; i < t->cfg.window; i++) {
		struct client_slot *s = &t->slots[i];

		if (!s->used)
			continue;
		if (!s->resend && s->deadline_ns <= now_ns) {
			if (s->tries <= t->cfg.retries) {
				s->resend = true;
			} else {
				for (unsigned k = 0; k < s->n_ops; k++) {
					const struct client_op *op = slot_open_op(t, s, k);

					if (op)
						op_complete(t, s->ops[k] & ring_mask(t),
							    op->transient ? op->transient
									  : CLIENT_STATUS_TIMEOUT,
							    NULL, 0);
				}
				slot_free(t, s);
				continue;
			}
		}
		if (s->resend)
			next = now_ns;
		else if (s->deadline_ns < next)
			next = s->deadline_ns;
	}
	retire(t);
	return next;
}

void client_track_abort(struct client_track *t)
{
	for (uint32_t i = 0; i < t->cfg.window; i++) {
		struct client_slot *s = &t->slots[i];

		if (!s->used)
			continue;
		for (unsigned k = 0; k < s->n_ops; k++)
			if (slot_open_op(t, s, k))
				op_complete(t, s->ops[k] & ring_mask(t), CLIENT_STATUS_TIMEOUT,
					    NULL, 0);
		slot_free(t, s);
	}
	for (uint32_t w = 0; w < t->cfg.n_workers; w++)
		while (t->pend_count[w] > 0)
			op_complete(t, pend_pop(t, (uint16_t)w), CLIENT_STATUS_TIMEOUT, NULL, 0);
	if (t->blocked)
		op_complete(t, (t->tail - 1) & ring_mask(t), CLIENT_STATUS_TIMEOUT, NULL, 0);
	t->blocked = false;
	t->aborted = true;
	t->src_done = true;
	retire(t);
	WE_ASSERT(t->head == t->tail);
}

void client_track_check_invariants(const struct client_track *t)
{
	uint32_t n_pending = 0, n_used = 0, n_keyed = 0;

	WE_ASSERT(t->tail - t->head <= t->cfg.ring_ops);
	for (uint32_t i = 0; i < t->cfg.ring_ops; i++) {
		const struct client_op *op = &t->ops[i];
		bool live = (uint32_t)(op->seq - t->head) < t->tail - t->head &&
			    (op->seq & ring_mask(t)) == i;

		if (op->state == CLIENT_OP_FREE) {
			WE_ASSERT(!live || t->head == t->tail);
			continue;
		}
		WE_ASSERT(live);
		if (op->state == CLIENT_OP_PENDING)
			n_pending++;
		if (op->state == CLIENT_OP_INFLIGHT) {
			WE_ASSERT(t->slots[op->slot].used);
			WE_ASSERT(t->slots[op->slot].worker == op->worker);
		}
		if (op->state == CLIENT_OP_PENDING || op->state == CLIENT_OP_INFLIGHT)
			n_keyed++;
		if (op->state == CLIENT_OP_BLOCKED)
			WE_ASSERT(t->blocked && op->seq == t->tail - 1);
	}
	WE_ASSERT(n_pending == t->n_pending);
	for (uint32_t w = 0; w < t->cfg.n_workers; w++) {
		uint32_t count = 0, last = OP_NONE;

		for (uint32_t idx = t->pend_head[w]; idx != OP_NONE; idx = t->ops[idx].next) {
			WE_ASSERT(t->ops[idx].state == CLIENT_OP_PENDING);
			WE_ASSERT(t->ops[idx].worker == w);
			last = idx;
			count++;
			WE_ASSERT(count <= t->cfg.ring_ops);
		}
		WE_ASSERT(count == t->pend_count[w]);
		WE_ASSERT(last == t->pend_tail[w]);
	}
	for (uint32_t i = 0; i < t->cfg.window; i++) {
		const struct client_slot *s = &t->slots[i];
		unsigned open = 0;

		if (!s->used)
			continue;
		n_used++;
		WE_ASSERT(s->n_ops >= 1 && s->n_ops <= t->cfg.batch);
		for (unsigned k = 0; k < s->n_ops; k++) {
			const struct client_op *op = &t->ops[s->ops[k] & ring_mask(t)];

			if (op->seq == s->ops[k] && op->state == CLIENT_OP_INFLIGHT) {
				WE_ASSERT(op->slot == i);
				open++;
			}
		}
		WE_ASSERT(open == s->n_open);
		WE_ASSERT(open > 0);
	}
	WE_ASSERT(n_used + t->n_free == t->cfg.window);
	if (t->src && !t->src->keys_distinct)
		WE_ASSERT(n_keyed == t->keys.count);
}
