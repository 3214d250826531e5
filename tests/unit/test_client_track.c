/* test_client_track.c - the request tracker on a simulated network: every
 * request gets exactly one outcome and retires in input order; results agree
 * with a sequential model of the same input even when requests and replies
 * are lost, delayed, reordered and duplicated; window, batch and destination
 * limits hold; retries, timeouts, stale and invalid replies, header-only
 * errors, BUSY answers and aborts behave as documented. Random runs take
 * their seed from WE_TEST_SEED. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_fake_server.h"
#include "client_track.h"
#include "keyhash.h"
#include "we_status.h"
#include "we_test.h"

#define MS 1000000ull
#define N_OPS_MAX 4000
#define NET_MAX 8192

static uint64_t seed;

static int setup_seed(void **state)
{
	(void)state;
	seed = we_test_seed_random("test_client_track");
	return 0;
}

struct script_op {
	uint8_t op;
	uint8_t key_len;
	uint32_t value_len;
	uint8_t key[16];
	uint8_t value[96];
	/* outcome */
	unsigned results;
	uint8_t status;
	uint8_t tries;
	uint32_t got_len;
	uint8_t got[96];
	bool retired;
};

struct packet {
	uint64_t at;
	uint64_t seq; /* ties at the same time go in sending order */
	bool to_server;
	uint16_t worker;
	uint32_t len;
	uint8_t buf[PROTO_PAYLOAD_MAX];
};

/* Network faults of a simulation run. */
struct net_cfg {
	uint32_t req_latency_max_ns;   /* requests: FIFO per run, random delay */
	uint32_t reply_latency_max_ns; /* replies: random delay, so reordered */
	unsigned reply_loss_pct;
};

struct sim {
	struct client_track t;
	struct fake_server f;
	struct client_source src;
	struct net_cfg net;
	struct script_op *ops;
	unsigned n_ops, next_op, retired;
	uint32_t ring_to_op[65536];
	struct packet *pkts;
	unsigned n_pkts;
	uint64_t pkt_seq;
	uint64_t now;
	uint64_t last_req_at;
	uint32_t max_inflight_seen;
	uint16_t n_workers;
	bool nop_every_7th; /* the script marks these ops as placeholders */
};

static int sim_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct sim *s = ctx;
	struct script_op *o;

	if (s->next_op == s->n_ops)
		return 0;
	s->ring_to_op[idx] = s->next_op;
	o = &s->ops[s->next_op++];
	op->op = o->op;
	op->key = o->key;
	op->key_len = o->key_len;
	if (o->op == PROTO_OP_PUT) {
		op->value = o->value;
		op->value_len = o->value_len;
	}
	return 1;
}

static void sim_result(void *ctx, uint32_t idx, const struct client_op *op, const uint8_t *value,
		       uint32_t value_len)
{
	struct sim *s = ctx;
	struct script_op *o = &s->ops[s->ring_to_op[idx]];

	o->results++;
	o->status = op->status;
	o->tries = op->tries;
	assert_true(value_len <= sizeof(o->got));
	if (value_len)
		memcpy(o->got, value, value_len);
	o->got_len = value_len;
	if (op->status != WE_STATUS_OK || op->op != PROTO_OP_GET)
		assert_int_equal(value_len, 0);
}

static void sim_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	struct sim *s = ctx;
	uint32_t i = s->ring_to_op[idx];

	(void)op;
	/* Retirement is in input order. */
	assert_int_equal(i, s->retired);
	assert_false(s->ops[i].retired);
	if (s->ops[i].op != CLIENT_OP_NOP)
		assert_int_equal(s->ops[i].results, 1);
	s->ops[i].retired = true;
	s->retired++;
}

static void net_push(struct sim *s, uint64_t at, bool to_server, uint16_t worker,
		     const uint8_t *buf, uint32_t len)
{
	struct packet *p;

	assert_true(s->n_pkts < NET_MAX);
	assert_true(len <= PROTO_PAYLOAD_MAX);
	p = &s->pkts[s->n_pkts++];
	p->at = at;
	p->seq = s->pkt_seq++;
	p->to_server = to_server;
	p->worker = worker;
	p->len = len;
	memcpy(p->buf, buf, len);
}

static void sim_emit(void *ctx, uint16_t worker, const uint8_t *buf, uint32_t len)
{
	struct sim *s = ctx;
	uint64_t delay = s->net.reply_latency_max_ns
				 ? (uint64_t)random() % s->net.reply_latency_max_ns
				 : 0;

	if (s->net.reply_loss_pct && (unsigned)(random() % 100) < s->net.reply_loss_pct)
		return;
	net_push(s, s->now + delay, false, worker, buf, len);
}

static void sim_init(struct sim *s, const struct client_track_cfg *cfg,
		     const struct fake_server_cfg *fcfg, const struct net_cfg *net,
		     unsigned n_ops)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(client_track_init(&s->t, cfg), 0);
	assert_int_equal(fake_server_init(&s->f, fcfg), 0);
	s->ops = calloc(n_ops, sizeof(*s->ops));
	s->pkts = calloc(NET_MAX, sizeof(*s->pkts));
	assert_non_null(s->ops);
	assert_non_null(s->pkts);
	s->n_ops = n_ops;
	s->n_workers = cfg->n_workers;
	if (net)
		s->net = *net;
	s->src = (struct client_source){ sim_next, sim_result, sim_retire, s, false };
	s->now = 1000 * MS;
}

static void sim_fini(struct sim *s)
{
	client_track_fini(&s->t);
	fake_server_fini(&s->f);
	free(s->ops);
	free(s->pkts);
}

/* Random script over `n_keys` keys: puts, gets and deletes. */
static void script_random(struct sim *s, unsigned n_keys)
{
	for (unsigned i = 0; i < s->n_ops; i++) {
		struct script_op *o = &s->ops[i];
		unsigned r = (unsigned)random() % 10;

		o->op = r < 4 ? PROTO_OP_PUT : r < 8 ? PROTO_OP_GET : PROTO_OP_DELETE;
		o->key_len = (uint8_t)snprintf((char *)o->key, sizeof(o->key), "k%u",
					       (unsigned)random() % n_keys);
		if (o->op == PROTO_OP_PUT) {
			o->value_len = (uint32_t)random() % sizeof(o->value);
			for (uint32_t b = 0; b < o->value_len; b++)
				o->value[b] = (uint8_t)random();
		}
		if (s->nop_every_7th && i % 7 == 3)
			o->op = CLIENT_OP_NOP;
	}
}

/* Give op i the key "k<i>", so no two ops share a key. */
static void set_distinct_keys(struct sim *s)
{
	for (unsigned i = 0; i < s->n_ops; i++)
		s->ops[i].key_len = (uint8_t)snprintf((char *)s->ops[i].key, sizeof(s->ops[i].key),
						      "k%u", i);
}

/* Check the datagram the tracker wants sent, then put it on the wire. */
static void sim_transmit(struct sim *s, const struct client_tx *tx)
{
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	unsigned n;
	uint64_t at;

	assert_true(tx->worker < s->n_workers);
	assert_int_equal(proto_decode_batch(tx->buf, tx->len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_true(n >= 1 && n <= s->t.cfg.batch);
	for (unsigned i = 0; i < n; i++) {
		uint64_t h = keyhash(reqs[i].key, reqs[i].key_len);

		assert_int_equal(reqs[i].status, WE_STATUS_OK);
		if (reqs[i].op != PROTO_OP_PING && reqs[i].op != PROTO_OP_TOKEN)
			assert_int_equal(client_track_dest(&s->t, h), tx->worker);
	}
	at = s->now + (s->net.req_latency_max_ns
			       ? (uint64_t)random() % s->net.req_latency_max_ns
			       : 0);
	/* Requests keep their order on the way (like one path): a later one
	 * never overtakes an earlier one. */
	if (at < s->last_req_at)
		at = s->last_req_at;
	s->last_req_at = at;
	net_push(s, at, true, tx->worker, tx->buf, tx->len);
}

/* Deliver every packet due at s->now, oldest first. */
static void sim_deliver(struct sim *s)
{
	for (;;) {
		unsigned best = s->n_pkts;
		struct packet p;

		for (unsigned i = 0; i < s->n_pkts; i++) {
			const struct packet *p = &s->pkts[i], *b = &s->pkts[best];

			if (p->at > s->now)
				continue;
			if (best == s->n_pkts || p->at < b->at ||
			    (p->at == b->at && p->seq < b->seq))
				best = i;
		}
		if (best == s->n_pkts)
			return;
		p = s->pkts[best];
		s->pkts[best] = s->pkts[--s->n_pkts];
		if (p.to_server)
			fake_server_handle(&s->f, p.worker, p.buf, p.len, sim_emit, s);
		else
			client_track_rx(&s->t, p.buf, p.len);
		client_track_check_invariants(&s->t);
	}
}

/* Run the tracker to the end on the simulated clock. */
static void sim_run(struct sim *s)
{
	client_track_start(&s->t, &s->src);
	for (unsigned step = 0; step < 2000000; step++) {
		struct client_tx tx;
		uint64_t wake;

		/* The turn of client_net_run(): timers, admit, send, sleep. */
		client_track_expire(&s->t, s->now);
		client_track_check_invariants(&s->t);
		client_track_admit(&s->t);
		client_track_check_invariants(&s->t);
		while (client_track_next_tx(&s->t, s->now, &tx))
			sim_transmit(s, &tx);
		if (client_track_inflight(&s->t) > s->max_inflight_seen)
			s->max_inflight_seen = client_track_inflight(&s->t);
		assert_true(client_track_inflight(&s->t) <= s->t.cfg.window);
		if (client_track_done(&s->t))
			return;
		wake = client_track_expire(&s->t, s->now);
		client_track_check_invariants(&s->t);
		if (wake <= s->now)
			continue;
		for (unsigned i = 0; i < s->n_pkts; i++)
			if (s->pkts[i].at < wake)
				wake = s->pkts[i].at;
		assert_true(wake != UINT64_MAX);
		if (wake > s->now)
			s->now = wake;
		sim_deliver(s);
	}
	fail_msg("simulation did not finish, WE_TEST_SEED=%" PRIu64, seed);
}

struct model_entry {
	bool present;
	uint32_t len;
	uint8_t value[96];
};

/* Replay the script in input order and compare each outcome. A DELETE that
 * was sent more than once may see NOT_FOUND where the model says OK (its
 * first try was applied, the answer lost). */
static void check_against_model(struct sim *s, unsigned n_keys, bool forbid_timeouts)
{
	struct model_entry *m = calloc(n_keys, sizeof(*m));

	assert_non_null(m);
	assert_int_equal(s->retired, s->n_ops);
	for (unsigned i = 0; i < s->n_ops; i++) {
		struct script_op *o = &s->ops[i];
		struct model_entry *e;
		unsigned k;

		assert_true(o->retired);
		if (o->op == CLIENT_OP_NOP) {
			assert_int_equal(o->results, 0);
			continue;
		}
		assert_int_equal(o->results, 1);
		if (o->status == CLIENT_STATUS_TIMEOUT && forbid_timeouts)
			fail_msg("op %u timed out, WE_TEST_SEED=%" PRIu64, i, seed);
		assert_int_equal(sscanf((const char *)o->key, "k%u", &k), 1);
		e = &m[k];
		switch (o->op) {
		case PROTO_OP_PUT:
			assert_int_equal(o->status, WE_STATUS_OK);
			e->present = true;
			e->len = o->value_len;
			memcpy(e->value, o->value, o->value_len);
			break;
		case PROTO_OP_GET:
			if (!e->present) {
				if (o->status != WE_STATUS_NOT_FOUND)
					fail_msg("op %u: GET of absent key answered %u, "
						 "WE_TEST_SEED=%" PRIu64,
						 i, o->status, seed);
				break;
			}
			if (o->status != WE_STATUS_OK || o->got_len != e->len ||
			    memcmp(o->got, e->value, e->len) != 0)
				fail_msg("op %u: GET value differs from the model, "
					 "WE_TEST_SEED=%" PRIu64,
					 i, seed);
			break;
		case PROTO_OP_DELETE:
			if (e->present)
				assert_true(o->status == WE_STATUS_OK ||
					    (o->status == WE_STATUS_NOT_FOUND && o->tries > 1));
			else
				assert_int_equal(o->status, WE_STATUS_NOT_FOUND);
			e->present = false;
			break;
		}
	}
	free(m);
}

static struct client_track_cfg base_cfg(void)
{
	return (struct client_track_cfg){
		.ring_ops = 256, .window = 8, .batch = 16, .n_workers = 4,
		.timeout_ns = 50 * MS, .retries = 6, .nonce = 0x1234,
	};
}

/* Without faults, everything is answered on the first try, datagrams fill
 * up to the batch size and the window is used but never exceeded. */
static void test_lossless(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4 };
	struct net_cfg net = { .req_latency_max_ns = 2 * MS, .reply_latency_max_ns = 2 * MS };

	(void)state;
	sim_init(&s, &cfg, &fcfg, &net, 3000);
	script_random(&s, 2000);
	sim_run(&s);
	check_against_model(&s, 2000, true);
	assert_int_equal(s.t.stats.req_sent, 3000);
	assert_int_equal(s.t.stats.req_answered, 3000);
	assert_int_equal(s.t.stats.req_resent, 0);
	assert_int_equal(s.t.stats.rx_stale + s.t.stats.rx_invalid + s.t.stats.rx_dup, 0);
	assert_int_equal(s.f.stats.misdirected, 0);
	assert_int_equal(s.f.stats.max_batch, cfg.batch);
	assert_int_equal(s.max_inflight_seen, cfg.window);
	sim_fini(&s);
}

/* Lost requests and replies, reordered and duplicated replies, BUSY answers
 * and a few hot keys: the outcome still matches the sequential model, so
 * same-key requests were never in flight together and retries were safe. */
static void test_faults_match_model(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = {
		.n_workers = 4, .drop_every = 7, .dup_every = 5, .busy_every = 11,
		.forward_apart = true,
	};
	struct net_cfg net = {
		.req_latency_max_ns = 5 * MS, .reply_latency_max_ns = 20 * MS,
		.reply_loss_pct = 10,
	};

	(void)state;
	cfg.retries = 10;
	sim_init(&s, &cfg, &fcfg, &net, 3000);
	script_random(&s, 12);
	sim_run(&s);
	check_against_model(&s, 12, true);
	assert_true(s.t.stats.req_resent > 0);
	assert_true(s.t.stats.req_transient > 0);
	assert_true(s.t.stats.rx_dup > 0);
	assert_int_equal(s.t.stats.req_timeout, 0);
	sim_fini(&s);
}

/* --misdirect sends every keyed request to a worker that does not own it,
 * and the server-side "forwarded" answers (own datagrams) still match. */
static void test_misdirect(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4, .forward_apart = true,
					.split_replies = true };

	(void)state;
	cfg.misdirect = true;
	sim_init(&s, &cfg, &fcfg, NULL, 2000);
	script_random(&s, 500);
	sim_run(&s);
	check_against_model(&s, 500, true);
	assert_int_equal(s.f.stats.misdirected, 2000);
	for (uint32_t r = 0; r < 64; r++)
		assert_int_not_equal(client_track_dest(&s.t, r), r % 4);
	sim_fini(&s);
}

/* A silent server: every request ends TIMEOUT after exactly retries + 1
 * tries, and the waits follow timeout x 1, 2, 4, 4. */
static void test_timeouts(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4, .silent = true };
	uint64_t t0;

	(void)state;
	cfg.retries = 3;
	cfg.n_workers = 1;
	fcfg.n_workers = 1;
	sim_init(&s, &cfg, &fcfg, NULL, 5);
	script_random(&s, 100);
	set_distinct_keys(&s);
	t0 = s.now;
	sim_run(&s);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(s.ops[i].status, CLIENT_STATUS_TIMEOUT);
		assert_int_equal(s.ops[i].tries, 4);
	}
	assert_int_equal(s.now - t0, (1 + 2 + 4 + 4) * cfg.timeout_ns);
	assert_int_equal(s.t.stats.req_timeout, 5);
	assert_int_equal(s.t.stats.dgram_sent, 4);
	assert_int_equal(s.t.stats.dgram_resent, 3);
	assert_int_equal(s.t.stats.req_resent, 15);
	sim_fini(&s);
}

/* When expiries free the whole window, the ops still pending go out at
 * once (regression: the loop used to sleep with nothing in flight). */
static void test_timeouts_refill(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 1, .silent = true };
	uint64_t t0;

	(void)state;
	cfg.retries = 0;
	cfg.n_workers = 1;
	cfg.window = 1;
	cfg.batch = 1;
	sim_init(&s, &cfg, &fcfg, NULL, 3);
	script_random(&s, 100);
	set_distinct_keys(&s);
	t0 = s.now;
	sim_run(&s);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(s.ops[i].status, CLIENT_STATUS_TIMEOUT);
	assert_int_equal(s.now - t0, 3 * cfg.timeout_ns);
	sim_fini(&s);
}

/* Placeholders keep their place: they retire in order between real ops and
 * never reach the network. */
static void test_placeholders(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4 };

	(void)state;
	sim_init(&s, &cfg, &fcfg, NULL, 700);
	s.nop_every_7th = true;
	script_random(&s, 50);
	sim_run(&s);
	check_against_model(&s, 50, true);
	assert_int_equal(s.f.stats.entries, 600);
	sim_fini(&s);
}

/* Same key, one after another, even with a wide window: the server sees
 * them in input order and the answers tell the story. */
static void test_same_key_sequence(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4 };
	struct net_cfg net = { .req_latency_max_ns = 10 * MS, .reply_latency_max_ns = 10 * MS };
	static const struct {
		uint8_t op;
		const char *value;
		uint8_t status;
	} seq[] = {
		{ PROTO_OP_PUT, "one", WE_STATUS_OK },   { PROTO_OP_PUT, "two", WE_STATUS_OK },
		{ PROTO_OP_GET, "two", WE_STATUS_OK },   { PROTO_OP_DELETE, NULL, WE_STATUS_OK },
		{ PROTO_OP_GET, NULL, WE_STATUS_NOT_FOUND },
		{ PROTO_OP_DELETE, NULL, WE_STATUS_NOT_FOUND },
		{ PROTO_OP_PUT, "three", WE_STATUS_OK }, { PROTO_OP_GET, "three", WE_STATUS_OK },
	};

	(void)state;
	sim_init(&s, &cfg, &fcfg, &net, 8);
	for (unsigned i = 0; i < 8; i++) {
		s.ops[i].op = seq[i].op;
		s.ops[i].key_len = 1;
		s.ops[i].key[0] = 'k';
		if (seq[i].op == PROTO_OP_PUT) {
			s.ops[i].value_len = (uint32_t)strlen(seq[i].value);
			memcpy(s.ops[i].value, seq[i].value, s.ops[i].value_len);
		}
	}
	sim_run(&s);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(s.ops[i].status, seq[i].status);
		if (seq[i].op == PROTO_OP_GET && seq[i].value) {
			assert_int_equal(s.ops[i].got_len, strlen(seq[i].value));
			assert_memory_equal(s.ops[i].got, seq[i].value, s.ops[i].got_len);
		}
	}
	/* Serialized: never more than one datagram in flight. */
	assert_int_equal(s.max_inflight_seen, 1);
	sim_fini(&s);
}

/* Hand-made replies: a wrong echo is stale, garbage and unknown opaques are
 * invalid, a repeated entry is a duplicate, a header-only BUSY keeps the ops
 * open for a retry, and a header-only MALFORMED ends every open op of that
 * datagram with MALFORMED. */
static void test_reply_matching(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 1 };
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	struct proto_writer w;
	struct client_tx tx, tx2;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	unsigned n;
	uint32_t len;

	(void)state;
	cfg.n_workers = 1;
	sim_init(&s, &cfg, &fcfg, NULL, 3);
	script_random(&s, 100);
	set_distinct_keys(&s);
	for (unsigned i = 0; i < 3; i++)
		s.ops[i].op = PROTO_OP_GET;
	client_track_start(&s.t, &s.src);
	client_track_admit(&s.t);
	assert_true(client_track_next_tx(&s.t, s.now, &tx));
	assert_false(client_track_next_tx(&s.t, s.now, &tx2));
	assert_int_equal(proto_decode_batch(tx.buf, tx.len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_int_equal(n, 3);

	/* Stale: right slot bits, wrong sequence. */
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, hdr.echo ^ (1ull << 20));
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_NOT_FOUND, reqs[0].opaque, NULL, 0,
			    NULL, 0);
	client_track_rx(&s.t, buf, proto_writer_finish(&w));
	assert_int_equal(s.t.stats.rx_stale, 1);
	/* Garbage and a request (not a response) are invalid. */
	client_track_rx(&s.t, (const uint8_t *)"hello", 5);
	client_track_rx(&s.t, tx.buf, tx.len);
	assert_int_equal(s.t.stats.rx_invalid, 2);
	/* An unknown opaque and a wrong op are invalid; op 0 answered OK. */
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, hdr.echo);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, reqs[0].opaque + 100, NULL, 0,
			    NULL, 0);
	proto_writer_append(&w, PROTO_OP_PUT, 0, WE_STATUS_OK, reqs[1].opaque, NULL, 0, NULL, 0);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, reqs[0].opaque, NULL, 0, "v", 1);
	len = proto_writer_finish(&w);
	client_track_rx(&s.t, buf, len);
	assert_int_equal(s.t.stats.rx_invalid, 4);
	assert_int_equal(s.ops[0].results, 1);
	assert_int_equal(s.ops[0].got_len, 1);
	/* The same answer again is a duplicate. */
	client_track_rx(&s.t, buf, len);
	assert_int_equal(s.ops[0].results, 1);
	assert_true(s.t.stats.rx_dup >= 1);
	/* Header-only BUSY with tries left: kept open for a retry. */
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, hdr.echo);
	proto_writer_set_status(&w, WE_STATUS_BUSY);
	client_track_rx(&s.t, buf, proto_writer_finish(&w));
	assert_int_equal(s.t.stats.req_transient, 2);
	assert_int_equal(s.ops[1].results, 0);
	assert_int_equal(client_track_inflight(&s.t), 1);
	/* Header-only MALFORMED: the two open ops end with it. */
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, hdr.echo);
	proto_writer_set_status(&w, WE_STATUS_MALFORMED);
	client_track_rx(&s.t, buf, proto_writer_finish(&w));
	assert_int_equal(s.t.stats.rx_batch_error, 2);
	assert_int_equal(s.ops[1].status, WE_STATUS_MALFORMED);
	assert_int_equal(s.ops[2].status, WE_STATUS_MALFORMED);
	assert_int_equal(client_track_inflight(&s.t), 0);
	client_track_check_invariants(&s.t);
	client_track_admit(&s.t);
	assert_true(client_track_done(&s.t));
	assert_int_equal(s.retired, 3);
	sim_fini(&s);
}

/* BUSY with no retries left ends as BUSY; with retries it is resent. */
static void test_busy_without_retries(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4, .busy_every = 2 };
	unsigned busy = 0;

	(void)state;
	cfg.retries = 0;
	sim_init(&s, &cfg, &fcfg, NULL, 200);
	script_random(&s, 1000);
	sim_run(&s);
	for (unsigned i = 0; i < 200; i++)
		busy += s.ops[i].status == WE_STATUS_BUSY;
	assert_int_equal(busy, s.f.stats.busy);
	assert_true(busy > 0);
	assert_int_equal(s.t.stats.req_resent, 0);
	sim_fini(&s);
}

/* Abort mid-run: every op not yet answered ends TIMEOUT, all retire in
 * order, and the tracker is done and can start a new run. */
static void test_abort(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4 };
	struct client_tx tx;
	unsigned timeouts = 0;

	(void)state;
	sim_init(&s, &cfg, &fcfg, NULL, 1000);
	script_random(&s, 100);
	client_track_start(&s.t, &s.src);
	client_track_admit(&s.t);
	while (client_track_next_tx(&s.t, s.now, &tx))
		sim_transmit(&s, &tx);
	sim_deliver(&s); /* the first datagrams are answered */
	client_track_abort(&s.t);
	client_track_check_invariants(&s.t);
	assert_true(client_track_done(&s.t));
	for (unsigned i = 0; i < s.retired; i++) {
		assert_int_equal(s.ops[i].results, 1);
		timeouts += s.ops[i].status == CLIENT_STATUS_TIMEOUT;
	}
	assert_true(s.retired > 0 && s.retired < 1000);
	assert_true(timeouts > 0 && timeouts < s.retired);
	assert_int_equal(client_track_admit(&s.t), 0);
	sim_fini(&s);
}

/* Address tokens under faults: a validating server whose token changes
 * every 20 datagrams, lost and duplicated datagrams, reordering. Every
 * request still gets the model's outcome (withheld values are fetched again
 * with a new token), most datagrams carry a token (the client learns of a
 * new one only from a NEED_TOKEN), and the handshake never leaves the
 * tracker stuck. */
static void test_tokens_with_faults(void **state)
{
	static struct sim s;
	struct client_track_cfg cfg = base_cfg();
	struct fake_server_cfg fcfg = { .n_workers = 4, .drop_every = 17, .dup_every = 5,
					.token_mode = FAKE_TOKEN_VALIDATE,
					.token_change_every = 20 };
	struct net_cfg net = { .req_latency_max_ns = 3 * MS, .reply_latency_max_ns = 6 * MS,
			       .reply_loss_pct = 3 };

	(void)state;
	cfg.token = true;
	cfg.retries = 12;
	cfg.batch = 2; /* small requests: a small budget for answers */
	sim_init(&s, &cfg, &fcfg, &net, 3000);
	script_random(&s, 300);
	sim_run(&s);
	check_against_model(&s, 300, true);
	assert_true(s.f.stats.withheld > 0);
	assert_true(s.t.tok.received > 1);
	assert_true(s.f.stats.with_token + s.f.stats.bad_token > s.f.stats.requests / 2);
	assert_true(s.f.stats.with_token > 0);
	assert_int_equal(s.f.stats.token_requests, s.t.tok.sent);
	sim_fini(&s);
}

/* Bad configurations are refused; keys go to the documented worker; ring
 * sizes follow window, batch and workers. */
static void test_config(void **state)
{
	struct client_track t;
	struct client_track_cfg cfg = base_cfg();

	(void)state;
	cfg.ring_ops = 100;
	assert_int_equal(client_track_init(&t, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.batch = 65;
	assert_int_equal(client_track_init(&t, &cfg), -EINVAL);
	cfg = base_cfg();
	cfg.misdirect = true;
	cfg.n_workers = 1;
	assert_int_equal(client_track_init(&t, &cfg), -EINVAL);
	/* The worked example of docs/protocol.md, section 9: 4 workers. */
	cfg = base_cfg();
	assert_int_equal(client_track_init(&t, &cfg), 0);
	assert_int_equal(client_track_dest(&t, keyhash("user:42", 7)), 2);
	assert_int_equal(client_track_dest(&t, keyhash("user:43", 7)), 1);
	client_track_fini(&t);
	/* With a region map (--region-map), keys go to the map's owner. */
	{
		static struct region_map map;

		map.n_workers = 4;
		for (uint32_t r = 0; r < WE_REGIONS; r++)
			map.owner[r] = (uint16_t)((r + 1) % 4);
		cfg = base_cfg();
		cfg.map = &map;
		assert_int_equal(client_track_init(&t, &cfg), 0);
		assert_int_equal(client_track_dest(&t, keyhash("user:42", 7)), 3);
		for (uint64_t h = 0; h < 64; h++)
			assert_int_equal(client_track_dest(&t, h), (h + 1) % 4);
		client_track_fini(&t);
		map.n_workers = 3; /* disagrees with n_workers */
		assert_int_equal(client_track_init(&t, &cfg), -EINVAL);
	}
	assert_int_equal(client_track_ring_size(16, 32, 1), 1024);
	assert_int_equal(client_track_ring_size(1, 1, 1), 64);
	assert_int_equal(client_track_ring_size(1, 64, 100), 8192);
	assert_int_equal(client_track_ring_size(256, 64, 1024), 65536);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lossless),
		cmocka_unit_test(test_faults_match_model),
		cmocka_unit_test(test_misdirect),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_timeouts_refill),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_same_key_sequence),
		cmocka_unit_test(test_reply_matching),
		cmocka_unit_test(test_busy_without_retries),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_tokens_with_faults),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, setup_seed, NULL);
}
