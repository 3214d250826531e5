/* fuzz_frame_path.c - frames through the whole request path of 2-3 workers.
 *
 * DESIGN: the harness plays the data plane's worker shell (worker.c,
 * reply.c, wormhole.c) over plain buffers, on DPDK-free shards, and drives
 * it with a fuzzer-chosen recipe of client frames, steps and region moves:
 *
 *   byte 0   workers (2 or 3), address validation on/off, ring size (1..8)
 *   byte 1   shard size
 *   records  0: a client datagram, wrapped in valid Ethernet/IPv4/UDP
 *               headers by the harness: ctrl (NIC queue, destination port,
 *               source address, and which token of the sender to write
 *               into a TOKEN-flagged datagram: none, this epoch's, the
 *               previous epoch's, an expired one),
 *               length (u16), payload
 *            1: a raw frame: ctrl (NIC queue, "fix the IPv4 checksum"),
 *               length (u16), bytes
 *            2: one round: each worker takes its NIC queue as a burst,
 *               then its ring as a burst
 *            3: a region move: owner[r] = (r + k) mod workers, for k given
 *   at the end, rounds until every queue and ring is empty.
 *
 * Each worker classifies (netio_classify, which must already have dropped
 * UDP payloads over 1472 bytes: checked), steers a datagram for another
 * worker's port to that worker whole (reserved byte PROTO_FWD_WHOLE | 1), takes the forwarding byte of what
 * comes from its ring (proto_take_hops), decodes (proto_decode_batch),
 * answers decode errors header-only, and hands each decoded datagram to the
 * core through frame_path_exec.c (the only file that uses execute.h).
 * Forward datagrams travel as frames (netio_write_udp_copy) and are
 * classified again by their owner, as in the data plane.
 *
 * Before a client datagram enters, the harness gives it a unique echo and
 * each of its entries a unique opaque (echo << 8 | index), which changes
 * nothing about its validity, so every answer names its request.
 *
 * Invariants (a violation aborts):
 *   - every entry of a client datagram that decodes is answered exactly
 *     once overall, with its op, by the worker that received it or by the
 *     owner it was forwarded to; a datagram that does not decode gets one
 *     header-only reply of the right status, or none when section 8 says so;
 *     a datagram with the RESPONSE flag is never answered;
 *   - within one worker's execution of a datagram, answers come in request
 *     order, across as many reply datagrams as it takes;
 *   - no reply payload exceeds 1472 bytes; each reply frame is addressed
 *     from the address and port the request went to, back to its source,
 *     and classifies at the client (checksums, lengths);
 *   - an execution whose answers carry no value is no larger than the
 *     datagram it executed (no amplification of errors, on one worker);
 *   - the shell's token check (addr_token_check, as worker.c calls it)
 *     validates a datagram exactly when section 14 says: validation off,
 *     or the sender's token of this epoch or the previous one;
 *   - an unvalidated sender receives in all at most 3 times the bytes it
 *     sent (docs/protocol.md section 14), counting every reply datagram of
 *     every worker;
 *   - forwarding always fits (payloads over 1472 bytes were dropped), every
 *     forward frame is accepted by its owner's classification;
 *   - each worker's answers agree with a model of its shard (GET returns the
 *     last value it stored, NO_SPACE leaves the old value, NOT_FOUND only for
 *     absent keys, NEED_TOKEN only for a present non-empty value);
 *   - shard_check_invariants() on every shard after every round; counters:
 *     GET hits + misses = GETs, NO_SPACE answers = req_put_no_space, entries
 *     forwarded = entries received by owners;
 *   - the system goes quiet: at most EXECUTE_HOPS_MAX + 2 rounds after the
 *     last input, every ring is empty.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_path_exec.h"
#include "fuzz_check.h"

#define FP_WORKERS_MAX 3
#define FP_QUEUE_MAX 32   /* frames per NIC queue or ring */
#define FP_FRAME_MAX 2100 /* frames built here: up to 2000 bytes of payload */
#define FP_DGRAMS_MAX 96  /* client datagrams per input */
#define FP_MODEL_SLOTS 1024
#define FP_PORT_BASE 9000
#define FP_EPOCH 7

struct fp_frame {
	uint32_t len;
	uint8_t bytes[FP_FRAME_MAX];
};

struct fp_queue {
	unsigned n;
	struct fp_frame f[FP_QUEUE_MAX];
};

/* What the harness knows about one client datagram. */
struct fp_client {
	uint32_t payload_len;
	bool decodes;       /* proto_decode_batch says OK */
	uint8_t err_status; /* header-only reply status expected, 0 for none */
	bool validated;     /* validation off, or the right token */
	unsigned n;
	uint8_t op[PROTO_BATCH_MAX];
	uint8_t answered[PROTO_BATCH_MAX];
	unsigned header_replies;
	uint64_t reply_bytes; /* every reply payload byte sent for it */
	uint32_t src_ip_be;
	uint16_t dst_port, src_port;
	uint8_t src_mac[6];
};

/* A worker's shard model: an open-addressing map of key -> value. */
struct fp_slot {
	bool live;
	uint8_t key_len;
	uint8_t key[250];
	uint32_t value_len;
	uint8_t value[PROTO_VALUE_MAX];
};

struct fp_worker {
	struct shard *shard;
	uint8_t *mem;
	struct fp_exec *exec;
	struct worker_stats stats;
	struct fp_queue nic, ring, burst;
	bool model_used[FP_MODEL_SLOTS]; /* cleared per input; the slots are not */
	struct fp_slot model[FP_MODEL_SLOTS];
};

/* The execution in progress, for the reply and forward sinks. */
struct fp_run {
	struct fp_worker *w;
	unsigned self;
	const struct fp_dgram *d;
	const struct netio_udp *udp;
	uint32_t req_len; /* payload bytes of the executed datagram */
	int last_index;   /* answers in request order */
	uint64_t bytes;   /* reply bytes of this execution */
	bool any_value;
};

struct fp_state {
	unsigned n_workers;
	bool validate;
	unsigned ring_cap;
	struct netio_self self;
	struct region_map map;
	struct keyhash_secret secret;
	struct addr_token_key token_key;
	struct fp_worker w[FP_WORKERS_MAX];
	unsigned n_clients;
	struct fp_client c[FP_DGRAMS_MAX];
	uint64_t fwd_entries_in, no_space_answers;
};

static struct fp_state st;

static const uint8_t client_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t self_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* ---- the shard model ---------------------------------------------------- */

static struct fp_slot *model_find(struct fp_worker *w, const uint8_t *key, uint8_t key_len,
				  bool insert)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < key_len; i++)
		h = (h ^ key[i]) * 16777619u;
	for (unsigned k = 0; k < FP_MODEL_SLOTS; k++) {
		unsigned at = (h + k) % FP_MODEL_SLOTS;
		struct fp_slot *s = &w->model[at];

		if (!w->model_used[at]) {
			if (!insert)
				return NULL;
			w->model_used[at] = true;
			s->live = false;
			s->key_len = key_len;
			memcpy(s->key, key, key_len);
			return s;
		}
		if (s->key_len == key_len && memcmp(s->key, key, key_len) == 0)
			return s;
	}
	FUZZ_CHECK(0, "the harness's model is full");
	return NULL;
}

/* One answer of worker w to request req: check it against the model and
 * apply it. */
static void model_apply(struct fp_run *r, const struct proto_request *req, uint8_t status,
			const uint8_t *value, uint32_t value_len)
{
	struct fp_slot *s = model_find(r->w, req->key, req->key_len, req->op == PROTO_OP_PUT);
	bool live = s != NULL && s->live;

	switch (req->op) {
	case PROTO_OP_GET:
		if (status == WE_STATUS_OK) {
			FUZZ_CHECK(live, "worker %u: GET found a key its model never stored", r->self);
			FUZZ_CHECK(value_len == s->value_len && memcmp(value, s->value, value_len) == 0,
				   "worker %u: GET returned %u bytes, not the %u stored", r->self,
				   value_len, s->value_len);
		} else if (status == WE_STATUS_NOT_FOUND) {
			FUZZ_CHECK(!live, "worker %u: GET missed a key it stored", r->self);
		} else if (status == WE_STATUS_NEED_TOKEN) {
			FUZZ_CHECK(live && s->value_len != 0,
				   "worker %u: NEED_TOKEN for a GET with no value to withhold", r->self);
		}
		break;
	case PROTO_OP_PUT:
		if (status == WE_STATUS_OK) {
			s->live = true;
			s->value_len = req->value_len;
			memcpy(s->value, req->value, req->value_len);
		} else if (status == WE_STATUS_NO_SPACE) {
			st.no_space_answers++; /* the old value stays: the model keeps it */
		}
		break;
	case PROTO_OP_DELETE:
		if (status == WE_STATUS_OK) {
			FUZZ_CHECK(live, "worker %u: DELETE removed a key it never stored", r->self);
			s->live = false;
		} else if (status == WE_STATUS_NOT_FOUND) {
			FUZZ_CHECK(!live, "worker %u: DELETE missed a key it stored", r->self);
		}
		break;
	}
}

/* ---- the sinks ----------------------------------------------------------- */

static void fp_reply(void *ctx, const uint8_t *payload, uint32_t len)
{
	struct fp_run *r = ctx;
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	struct fp_client *c;
	static uint8_t frame[NETIO_UDP_HEADROOM + PROTO_PAYLOAD_MAX];
	struct netio_self client;
	struct netio_udp cu;
	uint32_t frame_len, rl;
	unsigned n;

	FUZZ_CHECK(len <= PROTO_PAYLOAD_MAX, "reply payload of %u bytes", len);
	FUZZ_CHECK(proto_decode_response(payload, len, &hdr, e, PROTO_BATCH_MAX, &n) ==
			   PROTO_DECODE_OK && n > 0,
		   "worker %u sent a reply that is not a valid response", r->self);
	FUZZ_CHECK(hdr.echo == r->d->echo && hdr.echo < st.n_clients, "reply echo %llu",
		   (unsigned long long)hdr.echo);
	c = &st.c[hdr.echo];
	c->reply_bytes += len;
	r->bytes += len;

	/* The frame as transmitted, checked where the client is. */
	memcpy(frame + NETIO_UDP_HEADROOM, payload, len);
	frame_len = netio_write_udp_reply(frame, r->udp, len, true);
	memcpy(client.mac, c->src_mac, 6);
	client.ip_be = c->src_ip_be;
	client.udp_port_base = c->src_port;
	client.udp_port_count = 1;
	client.mtu = 0;
	client.udp_payload_max = 0;
	FUZZ_CHECK(netio_classify(&client, frame, frame_len, &cu, &rl) == NETIO_UDP &&
			   cu.payload_len == len && cu.src_ip_be == st.self.ip_be &&
			   cu.src_port == c->dst_port,
		   "reply frame not accepted by the client, or not from the port it asked");

	for (unsigned i = 0; i < n; i++) {
		uint32_t idx = e[i].opaque & 0xff;
		const struct proto_request *req = NULL;

		FUZZ_CHECK((e[i].opaque >> 8) == hdr.echo && idx < c->n,
			   "answer opaque %#x for datagram %llu", e[i].opaque,
			   (unsigned long long)hdr.echo);
		FUZZ_CHECK(c->answered[idx] == 0, "entry %u of datagram %llu answered twice", idx,
			   (unsigned long long)hdr.echo);
		c->answered[idx] = 1;
		FUZZ_CHECK(e[i].op == c->op[idx], "answer op %u for a request op %u", e[i].op,
			   c->op[idx]);
		FUZZ_CHECK((int)idx > r->last_index, "worker %u answered entry %u after entry %d",
			   r->self, idx, r->last_index);
		r->last_index = (int)idx;
		if (e[i].value_len != 0)
			r->any_value = true;
		for (unsigned j = 0; j < r->d->n; j++)
			if (r->d->reqs[j].opaque == e[i].opaque)
				req = &r->d->reqs[j];
		FUZZ_CHECK(req != NULL, "answer to an entry the worker was not given");
		if (req->status == WE_STATUS_OK)
			model_apply(r, req, e[i].status, e[i].value, e[i].value_len);
		else
			FUZZ_CHECK(e[i].status == req->status, "entry error %u answered %u",
				   req->status, e[i].status);
	}
}

static bool fp_forward(void *ctx, uint16_t owner, const uint8_t *payload, uint32_t len)
{
	struct fp_run *r = ctx;
	struct fp_queue *q;
	struct fp_frame *f;

	FUZZ_CHECK(owner < st.n_workers && owner != r->self, "forward to worker %u from %u", owner,
		   r->self);
	FUZZ_CHECK(len <= PROTO_PAYLOAD_MAX, "forward datagram of %u bytes", len);
	q = &st.w[owner].ring;
	if (q->n >= st.ring_cap)
		return false;
	f = &q->f[q->n++];
	memcpy(f->bytes + NETIO_UDP_HEADROOM, payload, len);
	f->len = netio_write_udp_copy(f->bytes, r->udp, len, false);
	return true;
}

/* ---- one worker's burst -------------------------------------------------- */

struct fp_decoded {
	struct fp_dgram d;
	struct netio_udp udp;
	uint32_t len;
	bool from_ring;
};

/* The header-only reply to a datagram that failed to decode. */
static void fp_header_reply(const uint8_t *payload, uint32_t len, enum proto_decode_result res)
{
	uint64_t echo;
	struct fp_client *c;

	FUZZ_CHECK(len >= PROTO_HDR_SIZE, "header-only reply to a %u-byte datagram", len);
	echo = rd64(payload + 8);
	FUZZ_CHECK(echo < st.n_clients, "error reply for an echo no client sent");
	c = &st.c[echo];
	FUZZ_CHECK(proto_decode_reply_status(res) == c->err_status,
		   "decode error status %u, expected %u", proto_decode_reply_status(res),
		   c->err_status);
	FUZZ_CHECK(PROTO_HDR_SIZE <= c->payload_len, "header-only reply larger than the request");
	c->header_replies++;
	c->reply_bytes += PROTO_HDR_SIZE;
}

static bool fp_steer(unsigned self, struct fp_frame *f, const struct netio_udp *u)
{
	uint16_t owner = (uint16_t)(u->dst_port - FP_PORT_BASE);
	uint8_t *payload = f->bytes + u->payload_off;
	struct fp_queue *q = &st.w[owner].ring;

	(void)self;
	if (u->payload_len < PROTO_HDR_SIZE || payload[7] != 0 || q->n >= st.ring_cap)
		return false;
	payload[7] = PROTO_FWD_WHOLE | 1;
	q->f[q->n++] = *f;
	return true;
}

static void fp_burst(unsigned self, struct fp_queue *in, bool from_ring)
{
	struct fp_worker *w = &st.w[self];
	static struct proto_request reqs[FP_QUEUE_MAX * PROTO_BATCH_MAX];
	static struct fp_decoded dg[FP_QUEUE_MAX];
	unsigned n_reqs = 0, n_dg = 0;

	/* The burst is taken whole, so steering and forwarding during it go to
	 * rings that are read later. */
	w->burst.n = in->n;
	memcpy(w->burst.f, in->f, in->n * sizeof(in->f[0]));
	in->n = 0;
	for (unsigned i = 0; i < w->burst.n; i++) {
		struct fp_frame *f = &w->burst.f[i];
		struct netio_udp u;
		uint32_t reply_len = 0;
		enum netio_verdict v = netio_classify(&st.self, f->bytes, f->len, &u, &reply_len);
		struct proto_batch_hdr hdr;
		enum proto_decode_result res;
		uint8_t *payload;
		uint8_t meta = 0;
		unsigned n = 0;

		if (from_ring)
			FUZZ_CHECK(v == NETIO_UDP, "worker %u refuses a forwarded frame: %s", self,
				   netio_verdict_name(v));
		if (v == NETIO_REPLY_IN_PLACE)
			FUZZ_CHECK(reply_len <= f->len, "ARP/ICMP reply grows the frame");
		if (v != NETIO_UDP)
			continue;
		/* The rule the data plane applies before decoding. */
		FUZZ_CHECK(u.payload_len <= PROTO_PAYLOAD_MAX, "accepted a %u-byte payload",
			   u.payload_len);
		if (!from_ring && u.dst_port != FP_PORT_BASE + self && fp_steer(self, f, &u))
			continue;
		payload = f->bytes + u.payload_off;
		if (from_ring)
			meta = proto_take_hops(payload, u.payload_len);
		res = proto_decode_batch(payload, u.payload_len, &hdr, &reqs[n_reqs],
					 PROTO_BATCH_MAX, &n);
		if (res != PROTO_DECODE_OK) {
			FUZZ_CHECK(!from_ring || (meta & PROTO_FWD_WHOLE),
				   "a forward subset built by a worker does not decode");
			if (proto_decode_reply_status(res) != WE_STATUS_OK)
				fp_header_reply(payload, u.payload_len, res);
			continue;
		}
		FUZZ_CHECK(hdr.echo < st.n_clients, "decoded a datagram no client sent");
		struct fp_decoded *x = &dg[n_dg++];
		const uint8_t *token = proto_batch_token(payload, &hdr);

		x->udp = u;
		x->len = u.payload_len;
		x->from_ring = from_ring;
		x->d.reqs = &reqs[n_reqs];
		x->d.n = n;
		x->d.echo = hdr.echo;
		x->d.hops = meta & PROTO_FWD_HOPS_MASK;
		x->d.whole = !from_ring || (meta & PROTO_FWD_WHOLE);
		x->d.has_token = token != NULL;
		x->d.src_ip_be = u.src_ip_be;
		if (!x->d.whole)
			x->d.validated = (meta & PROTO_FWD_VALIDATED) != 0;
		else
			x->d.validated = !st.validate ||
					 (token != NULL &&
					  fp_exec_token_valid(w->exec, u.src_ip_be, token));
		FUZZ_CHECK(x->d.validated == st.c[hdr.echo].validated,
			   "datagram %llu: validated=%d by the token check, section 14 says %d",
			   (unsigned long long)hdr.echo, x->d.validated, st.c[hdr.echo].validated);
		FUZZ_CHECK(x->d.hops <= 2 + 1, "hop count %u", x->d.hops);
		if (!x->d.whole)
			st.fwd_entries_in += n;
		n_reqs += n;
	}
	if (n_dg == 0)
		return;
	fp_exec_prepare_burst(w->exec, reqs, n_reqs);
	for (unsigned i = 0; i < n_dg; i++) {
		struct fp_run r = {
			.w = w, .self = self, .d = &dg[i].d, .udp = &dg[i].udp, .req_len = dg[i].len,
			.last_index = -1,
		};
		struct fp_sink sink = {.ctx = &r, .forward = fp_forward, .reply = fp_reply};

		fp_exec_answer(w->exec, &dg[i].d, &sink);
		if (!r.any_value)
			FUZZ_CHECK(r.bytes <= r.req_len,
				   "worker %u answered a %u-byte datagram with %llu bytes of statuses",
				   self, r.req_len, (unsigned long long)r.bytes);
	}
}

static void fp_check_shards(void)
{
	uint64_t no_space = 0;

	for (unsigned i = 0; i < st.n_workers; i++) {
		struct worker_stats *s = &st.w[i].stats;

		FUZZ_CHECK(shard_check_invariants(st.w[i].shard), "worker %u: shard invariants", i);
		FUZZ_CHECK(s->req_get == s->req_get_hit + s->req_get_miss,
			   "worker %u: GETs %llu != hits + misses", i, (unsigned long long)s->req_get);
		no_space += s->req_put_no_space;
	}
	FUZZ_CHECK(no_space == st.no_space_answers, "req_put_no_space %llu, NO_SPACE answers %llu",
		   (unsigned long long)no_space, (unsigned long long)st.no_space_answers);
}

/* One round: every worker takes its NIC queue, then its ring. Returns
 * whether anything was there. */
static bool fp_round(void)
{
	bool work = false;

	for (unsigned i = 0; i < st.n_workers; i++) {
		if (st.w[i].nic.n) {
			work = true;
			fp_burst(i, &st.w[i].nic, false);
		}
		if (st.w[i].ring.n) {
			work = true;
			fp_burst(i, &st.w[i].ring, true);
		}
	}
	if (work)
		fp_check_shards();
	return work;
}

/* ---- client datagrams ---------------------------------------------------- */

/* Register a client frame: unique echo and opaques, the expected outcome. */
static void fp_client_frame(struct fp_frame *f, uint8_t token_ctrl)
{
	struct netio_udp u;
	uint32_t rl;
	uint8_t *p;
	struct fp_client *c;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	enum proto_decode_result res;
	uint8_t good[PROTO_TOKEN_SIZE], prev[PROTO_TOKEN_SIZE], put_tok[PROTO_TOKEN_SIZE];
	bool has_token;
	unsigned n = 0;
	/* Classify a copy: ARP and ICMP are answered in place. */
	static struct fp_frame copy;

	copy = *f;
	if (netio_classify(&st.self, copy.bytes, copy.len, &u, &rl) != NETIO_UDP ||
	    u.payload_len < PROTO_HDR_SIZE)
		return;
	FUZZ_CHECK(st.n_clients < FP_DGRAMS_MAX, "too many datagrams");
	c = &st.c[st.n_clients];
	memset(c, 0, sizeof(*c));
	p = f->bytes + u.payload_off;
	wr32(p + 8, st.n_clients);
	wr32(p + 12, 0);
	/* Section 14: the token of the source address, of this epoch or the
	 * previous one; token_ctrl 1..3 writes this epoch's, the previous one's
	 * or an expired one (two epochs back) into a TOKEN-flagged datagram. */
	addr_token_make(&st.token_key, u.src_ip_be, FP_EPOCH, good);
	addr_token_make(&st.token_key, u.src_ip_be, FP_EPOCH - 1, prev);
	has_token = (p[3] & PROTO_F_TOKEN) && u.payload_len >= PROTO_HDR_SIZE + PROTO_TOKEN_SIZE;
	if (token_ctrl != 0 && has_token) {
		addr_token_make(&st.token_key, u.src_ip_be, FP_EPOCH + 1 - token_ctrl, put_tok);
		memcpy(p + PROTO_HDR_SIZE, put_tok, PROTO_TOKEN_SIZE);
	}
	res = proto_decode_batch(p, u.payload_len, &hdr, reqs, PROTO_BATCH_MAX, &n);
	c->payload_len = u.payload_len;
	c->src_ip_be = u.src_ip_be;
	c->src_port = u.src_port;
	c->dst_port = u.dst_port;
	memcpy(c->src_mac, u.src_mac, 6);
	c->decodes = res == PROTO_DECODE_OK;
	c->err_status = (uint8_t)proto_decode_reply_status(res);
	c->validated = !st.validate ||
		       (has_token && (memcmp(p + PROTO_HDR_SIZE, good, PROTO_TOKEN_SIZE) == 0 ||
				      memcmp(p + PROTO_HDR_SIZE, prev, PROTO_TOKEN_SIZE) == 0));
	c->n = n;
	for (unsigned i = 0; i < n; i++) {
		c->op[i] = reqs[i].op;
		/* The opaque sits 4 bytes before the key. */
		wr32((uint8_t *)reqs[i].key - 4, st.n_clients << 8 | i);
	}
	st.n_clients++;
}

static void fp_check_clients(void)
{
	for (unsigned id = 0; id < st.n_clients; id++) {
		struct fp_client *c = &st.c[id];

		if (c->decodes) {
			for (unsigned i = 0; i < c->n; i++)
				FUZZ_CHECK(c->answered[i] == 1, "entry %u of datagram %u never answered", i,
					   id);
			FUZZ_CHECK(c->header_replies == 0, "a decoded datagram got a header-only reply");
		} else {
			FUZZ_CHECK(c->header_replies == (c->err_status != WE_STATUS_OK ? 1u : 0u),
				   "datagram %u (status %u) got %u header-only replies", id,
				   c->err_status, c->header_replies);
		}
		if (!c->validated)
			FUZZ_CHECK(c->reply_bytes <= (uint64_t)PROTO_AMPLIFICATION_MAX * c->payload_len,
				   "unvalidated datagram %u of %u bytes drew %llu bytes", id,
				   c->payload_len, (unsigned long long)c->reply_bytes);
	}
}

/* ---- set-up and the recipe ----------------------------------------------- */

static void fp_setup(uint8_t b0, uint8_t b1)
{
	struct shard_config cfg = {0};
	size_t mem_bytes;

	memset(&st.c, 0, sizeof(st.c));
	st.n_clients = 0;
	st.fwd_entries_in = st.no_space_answers = 0;
	st.n_workers = 2 + (b0 & 1);
	st.validate = (b0 >> 1) & 1;
	st.ring_cap = 1 + ((b0 >> 2) & 7);
	memcpy(st.self.mac, self_mac, 6);
	st.self.ip_be = 0x0100000a; /* 10.0.0.1 */
	st.self.udp_port_base = FP_PORT_BASE;
	st.self.udp_port_count = (uint16_t)st.n_workers;
	st.self.mtu = 0;
	st.self.udp_payload_max = 0;
	region_map_init_default(&st.map, (uint16_t)st.n_workers);
	keyhash_secret_from_seed(&st.secret, 42);
	memset(&st.token_key, 0x5a, sizeof(st.token_key));
	cfg.capacity_items = 16 + (b1 & 63) * 2;
	cfg.arena_bytes = 2048u * (1 + (b1 >> 6) * 4);
	cfg.hash_secret = &st.secret;
	mem_bytes = shard_memory_size(&cfg);
	FUZZ_CHECK(mem_bytes != 0, "shard config refused");
	for (unsigned i = 0; i < st.n_workers; i++) {
		struct fp_worker *w = &st.w[i];

		w->shard = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
		w->mem = aligned_alloc(64, (mem_bytes + 63) & ~(size_t)63);
		w->exec = malloc(fp_exec_sizeof());
		FUZZ_CHECK(w->shard && w->mem && w->exec, "out of memory");
		FUZZ_CHECK(shard_init(w->shard, w->mem, mem_bytes, &cfg) == 0, "shard_init");
		memset(&w->stats, 0, sizeof(w->stats));
		w->nic.n = w->ring.n = 0;
		memset(w->model_used, 0, sizeof(w->model_used));
		fp_exec_init(w->exec, w->shard, &st.secret, &st.map, &w->stats, &st.token_key,
			     FP_EPOCH, (uint16_t)i);
	}
}

static void fp_teardown(void)
{
	for (unsigned i = 0; i < st.n_workers; i++) {
		free(st.w[i].shard);
		free(st.w[i].mem);
		free(st.w[i].exec);
	}
}

/* Record 0: a payload wrapped in valid headers. */
static void fp_built_frame(uint8_t ctrl, const uint8_t *payload, uint32_t len)
{
	struct fp_queue *q = &st.w[(ctrl & 3) % st.n_workers].nic;
	struct netio_udp u = {0};
	struct fp_frame *f;

	if (q->n >= FP_QUEUE_MAX || len > FP_FRAME_MAX - NETIO_UDP_HEADROOM)
		return;
	f = &q->f[q->n++];
	memcpy(u.dst_mac, self_mac, 6);
	memcpy(u.src_mac, client_mac, 6);
	u.dst_ip_be = st.self.ip_be;
	u.src_ip_be = (ctrl & 0x40) ? 0x0300000a : 0x0200000a; /* 10.0.0.3 or 10.0.0.2 */
	u.dst_port = (uint16_t)(FP_PORT_BASE + ((ctrl >> 2) & 3) % st.n_workers);
	u.src_port = 40000;
	memcpy(f->bytes + NETIO_UDP_HEADROOM, payload, len);
	f->len = netio_write_udp_copy(f->bytes, &u, len, false);
	fp_client_frame(f, (uint8_t)((ctrl >> 4) & 3));
}

/* Record 1: raw bytes; ctrl bit 2 writes a correct IPv4 header checksum. */
static void fp_raw_frame(uint8_t ctrl, const uint8_t *bytes, uint32_t len)
{
	struct fp_queue *q = &st.w[(ctrl & 3) % st.n_workers].nic;
	struct fp_frame *f;

	if (q->n >= FP_QUEUE_MAX || len > FP_FRAME_MAX)
		return;
	f = &q->f[q->n++];
	memcpy(f->bytes, bytes, len);
	f->len = len;
	if ((ctrl & 4) && len >= NETIO_ETH_HDR + 20) {
		uint8_t *ip = f->bytes + NETIO_ETH_HDR;
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;

		if (ihl >= 20 && NETIO_ETH_HDR + ihl <= len) {
			ip[10] = ip[11] = 0;
			uint16_t c = netio_ipv4_checksum(ip, ihl);
			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;
		}
	}
	fp_client_frame(f, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 2;
	unsigned rounds;

	if (size < 2)
		return 0;
	fp_setup(data[0], data[1]);
	while (pos < size) {
		uint8_t type = data[pos++] & 3;

		if (type == 2) {
			fp_round();
		} else if (type == 3) {
			uint8_t k = pos < size ? data[pos++] : 1;

			for (uint32_t r = 0; r < WE_REGIONS; r++)
				region_map_set_owner(&st.map, r, (uint16_t)((r + k) % st.n_workers));
		} else {
			uint8_t ctrl;
			uint32_t len;

			if (pos + 3 > size)
				break;
			ctrl = data[pos];
			len = (uint32_t)(data[pos + 1] | data[pos + 2] << 8);
			pos += 3;
			if (len > size - pos)
				len = (uint32_t)(size - pos);
			if (type == 0)
				fp_built_frame(ctrl, data + pos, len);
			else
				fp_raw_frame(ctrl, data + pos, len);
			pos += len;
		}
	}
	for (rounds = 0; fp_round(); rounds++)
		FUZZ_CHECK(rounds < 2 + 2 + 2, "still forwarding after %u rounds", rounds);
	fp_check_clients();
	{
		uint64_t fwd_out = 0;

		for (unsigned i = 0; i < st.n_workers; i++)
			fwd_out += st.w[i].stats.fwd_out;
		FUZZ_CHECK(fwd_out == st.fwd_entries_in, "fwd_out %llu, forwarded entries received %llu",
			   (unsigned long long)fwd_out, (unsigned long long)st.fwd_entries_in);
	}
	fp_teardown();
	return 0;
}
