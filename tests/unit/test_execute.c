/* test_execute.c - executing decoded datagrams against a shard: answers in
 * request order, split replies, forwarding of foreign regions, hop limit,
 * per-entry errors, durability refusals and the counters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "execute.h"
#include "keyhash.h"
#include "wal_record.h"

#define MAX_DGRAMS 16

/* Plays the worker's part around execute.h: reply buffers, and the rings
 * of other workers (which may refuse). */
struct fake_io {
	struct execute_reply out;
	struct proto_writer w;
	uint8_t bufs[MAX_DGRAMS][PROTO_PAYLOAD_MAX];
	uint32_t lens[MAX_DGRAMS];
	unsigned n_dgrams; /* finished datagrams */
	unsigned fail_next_after; /* reply_next fails once this many were sent */
	unsigned n_forwarded;
	uint16_t fwd_owner[256];
	uint32_t fwd_opaque[256];
	int forward_rc;
};

#define LOG_RING_BYTES 8192u
#define PARK_CAP 4u

struct fixture {
	/* Durability (setup_logged): the worker's log ring, park table, LSN. */
	struct wal_ring ring;
	uint8_t ring_mem[LOG_RING_BYTES] __attribute__((aligned(64)));
	struct park_entry park_mem[PARK_CAP];
	struct park_table park;
	uint64_t lsn;
	struct durable_view durable;
	struct netio_udp udp;
	struct keyhash_secret secret;
	struct addr_token_key token_key;
	struct addr_token_cache tokens;
	struct shard *shard;
	void *mem;
	struct region_map map;
	struct worker_stats stats;
	struct execute_ctx x;
	struct fake_io f;
	uint8_t req_buf[PROTO_PAYLOAD_MAX];
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n_reqs;
	struct fetch_table fetch; /* the disk tier's waiting GETs (test_archived_*) */
};

static int setup(void **state)
{
	/* The log ring's memory is cache-line aligned, so the fixture is too. */
	struct fixture *fx = aligned_alloc(64, (sizeof(*fx) + 63) & ~(size_t)63);
	struct shard_config cfg = {.capacity_items = 4096, .arena_bytes = 4 << 20};
	size_t bytes;

	assert_non_null(fx);
	memset(fx, 0, sizeof(*fx));
	keyhash_secret_from_seed(&fx->secret, 7);
	memset(fx->token_key.bytes, 0x5a, sizeof(fx->token_key.bytes));
	addr_token_cache_init(&fx->tokens, &fx->token_key);
	cfg.hash_secret = &fx->secret;
	bytes = shard_memory_size(&cfg);
	fx->shard = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	fx->mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	assert_non_null(fx->shard);
	assert_non_null(fx->mem);
	assert_int_equal(shard_init(fx->shard, fx->mem, bytes, &cfg), 0);
	region_map_init_default(&fx->map, 1); /* worker 0 owns everything */
	fx->x.shard = fx->shard;
	fx->x.map = &fx->map;
	fx->x.stats = &fx->stats;
	fx->x.self = 0;
	fx->x.secret = &fx->secret;
	fx->x.tokens = &fx->tokens;
	fx->x.token_epoch = 1000;
	/* Execution tests run as for a validated sender; the address
	 * validation tests below turn it off. */
	fx->f.out.validated = true;
	fx->f.out.src_ip_be = 0x0201000a; /* 10.0.1.2 */
	fx->f.out.w = &fx->f.w;
	fx->f.fail_next_after = MAX_DGRAMS;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	*state = fx;
	return 0;
}

/* As setup, with a log ring and a park table: a data directory in use. */
static int setup_logged(void **state)
{
	struct fixture *fx;

	setup(state);
	fx = *state;
	assert_int_equal(wal_ring_init(&fx->ring, fx->ring_mem, LOG_RING_BYTES), 0);
	assert_int_equal(park_table_init(&fx->park, fx->park_mem, PARK_CAP), 0);
	fx->x.log = &fx->ring;
	fx->x.park = &fx->park;
	fx->x.lsn = &fx->lsn;
	fx->x.durable = &fx->durable;
	fx->x.durability_default = PROTO_DUR_EVENTUAL;
	fx->udp.src_ip_be = 0x0201000a;
	fx->udp.src_port = 40000;
	fx->udp.dst_port = 9000;
	fx->f.out.udp = &fx->udp;
	fx->f.out.echo = 42;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->shard);
	free(fx->mem);
	free(fx);
	return 0;
}

/* The shell's part for one datagram of n entries that travelled `hops`
 * times: route, forward (recorded; refused when forward_rc is set), then
 * answer into reply datagrams, opening the next one when execute_batch
 * says the reply is full (the fake fails after fail_next_after of them).
 * Returns how many entries stayed unanswered because no reply could be had. */
static unsigned run(struct fixture *fx, unsigned n, unsigned hops)
{
	struct fake_io *f = &fx->f;
	struct execute_route rt;
	unsigned next = 0;

	execute_route(&fx->x, fx->reqs, n, hops, &rt);
	for (unsigned i = 0; i < n; i++) {
		uint8_t idx = (uint8_t)i;

		if (rt.owner[i] >= EXECUTE_REFUSED)
			continue;
		if (f->forward_rc != 0) {
			execute_forward_refused(&rt, &idx, 1);
			continue;
		}
		f->fwd_owner[f->n_forwarded] = rt.owner[i];
		f->fwd_opaque[f->n_forwarded] = fx->reqs[i].opaque;
		f->n_forwarded++;
	}
	while (execute_batch(&fx->x, fx->reqs, n, &rt, &next, &f->out) == EXECUTE_REPLY_FULL) {
		f->lens[f->n_dgrams++] = proto_writer_finish(&f->w);
		if (f->n_dgrams >= f->fail_next_after || f->n_dgrams >= MAX_DGRAMS)
			return n - next;
		proto_writer_init(&f->w, f->bufs[f->n_dgrams], PROTO_PAYLOAD_MAX,
				  PROTO_F_RESPONSE, 42);
	}
	return 0;
}

/* Build a request datagram from (op, key, value, flags) and decode it. */
struct op {
	uint8_t op;
	const char *key;
	const char *value;
	uint32_t value_len; /* if value is NULL and value_len > 0: filler bytes */
	uint8_t flags;
};

static void make_batch(struct fixture *fx, const struct op *ops, unsigned n)
{
	static uint8_t filler[PROTO_VALUE_MAX];
	struct proto_writer w;
	struct proto_batch_hdr hdr;
	uint32_t len;

	memset(filler, 'v', sizeof(filler));
	proto_writer_init(&w, fx->req_buf, sizeof(fx->req_buf), 0, 42);
	for (unsigned i = 0; i < n; i++) {
		const char *v = ops[i].value ? ops[i].value : (const char *)filler;
		uint32_t vl = ops[i].value ? (uint32_t)strlen(ops[i].value) : ops[i].value_len;

		assert_true(proto_writer_fits(&w, (uint32_t)strlen(ops[i].key), vl));
		proto_writer_append(&w, ops[i].op, ops[i].flags, 0, 100 + i, ops[i].key,
				    (uint32_t)strlen(ops[i].key), v, vl);
	}
	len = proto_writer_finish(&w);
	assert_int_equal(proto_decode_batch(fx->req_buf, len, &hdr, fx->reqs, PROTO_BATCH_MAX,
					    &fx->n_reqs),
			 PROTO_DECODE_OK);
	assert_int_equal(fx->n_reqs, n);
	execute_hash(&fx->x, fx->reqs, fx->n_reqs);
}

/* Decode all response datagrams produced so far into one flat list. */
static unsigned collect(struct fixture *fx, struct proto_request *out, unsigned max)
{
	unsigned total = 0;

	fx->f.lens[fx->f.n_dgrams] = proto_writer_finish(&fx->f.w);
	for (unsigned d = 0; d <= fx->f.n_dgrams; d++) {
		struct proto_batch_hdr hdr;
		struct proto_request one[PROTO_BATCH_MAX];
		unsigned n = 0;

		if (fx->f.lens[d] <= PROTO_HDR_SIZE)
			continue;
		assert_int_equal(proto_decode_response(fx->f.bufs[d], fx->f.lens[d], &hdr, one,
						       PROTO_BATCH_MAX, &n),
				 PROTO_DECODE_OK);
		assert_true(hdr.echo == 42);
		assert_true(total + n <= max);
		memcpy(out + total, one, n * sizeof(one[0]));
		total += n;
	}
	return total;
}

/* PUT then GET in one datagram answers in request order with the value. */
static void test_put_get_in_order(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "alpha", "one", 0, 0},
		{PROTO_OP_GET, "alpha", NULL, 0, 0},
		{PROTO_OP_GET, "beta", NULL, 0, 0},
		{PROTO_OP_DELETE, "alpha", NULL, 0, 0},
		{PROTO_OP_GET, "alpha", NULL, 0, 0},
		{PROTO_OP_PING, "p", NULL, 0, 0},
	};
	struct proto_request r[16];

	make_batch(fx, ops, 6);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 16), 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(r[i].opaque, 100 + i);
	assert_int_equal(r[0].status, WE_STATUS_OK);
	assert_int_equal(r[1].status, WE_STATUS_OK);
	assert_int_equal(r[1].value_len, 3);
	assert_memory_equal(r[1].value, "one", 3);
	assert_int_equal(r[2].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(r[3].status, WE_STATUS_OK);
	assert_int_equal(r[4].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(r[5].status, WE_STATUS_OK);
	assert_int_equal(fx->stats.req_get, 3);
	assert_int_equal(fx->stats.req_get_hit, 1);
	assert_int_equal(fx->stats.req_get_miss, 2);
	assert_int_equal(fx->stats.req_put, 1);
	assert_int_equal(fx->stats.req_delete, 1);
	assert_int_equal(fx->stats.req_ping, 1);
}

/* GET answers that do not fit in one datagram continue in the next one,
 * entries never split, every answer present once. */
static void test_large_gets_split(void **state)
{
	struct fixture *fx = *state;
	struct op puts[3], gets[3];
	char keys[3][8];
	struct proto_request r[16];

	for (unsigned i = 0; i < 3; i++) {
		snprintf(keys[i], sizeof(keys[i]), "big%u", i);
		puts[i] = (struct op){PROTO_OP_PUT, keys[i], NULL, 1000, 0};
		gets[i] = (struct op){PROTO_OP_GET, keys[i], NULL, 0, 0};
	}
	for (unsigned i = 0; i < 3; i++) {
		make_batch(fx, &puts[i], 1);
		assert_int_equal(run(fx, 1, 0), 0);
	}
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	make_batch(fx, gets, 3);
	assert_int_equal(run(fx, 3, 0), 0);
	assert_int_equal(fx->f.n_dgrams, 2); /* three 1000-byte values: 3 datagrams */
	assert_int_equal(collect(fx, r, 16), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, WE_STATUS_OK);
		assert_int_equal(r[i].value_len, 1000);
		assert_int_equal(r[i].opaque, 100 + i);
	}
}

/* When no further reply buffer can be had, the rest is reported unanswered
 * and not executed. */
static void test_reply_buffer_exhausted(void **state)
{
	struct fixture *fx = *state;
	struct op ops[2] = {{PROTO_OP_PUT, "a", NULL, 1000, 0}, {PROTO_OP_PUT, "b", NULL, 1000, 0}};

	make_batch(fx, &ops[0], 1);
	assert_int_equal(run(fx, 1, 0), 0);
	make_batch(fx, &ops[1], 1);
	assert_int_equal(run(fx, 1, 0), 0);
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	ops[0] = (struct op){PROTO_OP_GET, "a", NULL, 0, 0};
	ops[1] = (struct op){PROTO_OP_GET, "b", NULL, 0, 0};
	fx->f.fail_next_after = 1;
	make_batch(fx, ops, 2);
	assert_int_equal(run(fx, 2, 0), 1);
}

/* Keys of regions owned by another worker are forwarded, not executed. */
static void test_forward_foreign(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "x1", "v", 0, 0}, {PROTO_OP_PUT, "x2", "v", 0, 0},
		{PROTO_OP_PUT, "x3", "v", 0, 0}, {PROTO_OP_PUT, "x4", "v", 0, 0},
	};
	struct proto_request r[16];
	unsigned local = 0, foreign = 0, n;

	region_map_init_default(&fx->map, 2);
	make_batch(fx, ops, 4);
	for (unsigned i = 0; i < 4; i++) {
		if (region_map_owner_of_hash(&fx->map, fx->reqs[i].hash) == 0)
			local++;
		else
			foreign++;
	}
	assert_int_equal(run(fx, 4, 0), 0);
	n = collect(fx, r, 16);
	assert_int_equal(n, local);
	assert_int_equal(fx->f.n_forwarded, foreign);
	assert_int_equal(fx->stats.fwd_out, foreign);
	for (unsigned i = 0; i < fx->f.n_forwarded; i++)
		assert_int_equal(fx->f.fwd_owner[i], 1);
}

/* A foreign entry answered BUSY when the owner cannot take it, and
 * WRONG_OWNER once the hop limit is reached. */
static void test_forward_refused_and_hop_limit(void **state)
{
	struct fixture *fx = *state;
	struct op ops[64];
	char keys[64][8];
	struct proto_request r[64];
	unsigned n, foreign = 0;

	region_map_init_default(&fx->map, 2);
	for (unsigned i = 0; i < 20; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%u", i);
		ops[i] = (struct op){PROTO_OP_GET, keys[i], NULL, 0, 0};
	}
	make_batch(fx, ops, 20);
	for (unsigned i = 0; i < 20; i++)
		foreign += region_map_owner_of_hash(&fx->map, fx->reqs[i].hash) != 0;
	assert_true(foreign > 0);

	fx->f.forward_rc = -ENOBUFS;
	assert_int_equal(run(fx, 20, 0), 0);
	n = collect(fx, r, 64);
	assert_int_equal(n, 20);
	unsigned busy = 0;
	for (unsigned i = 0; i < n; i++)
		busy += r[i].status == WE_STATUS_BUSY;
	assert_int_equal(busy, foreign);
	assert_int_equal(fx->stats.fwd_err_busy, foreign);

	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	fx->f.forward_rc = 0;
	assert_int_equal(run(fx, 20, EXECUTE_HOPS_MAX), 0);
	n = collect(fx, r, 64);
	unsigned wrong = 0;
	for (unsigned i = 0; i < n; i++)
		wrong += r[i].status == WE_STATUS_WRONG_OWNER;
	assert_int_equal(wrong, foreign);
	assert_int_equal(fx->f.n_forwarded, 0);
	assert_int_equal(fx->stats.fwd_err_hop_limit, foreign);
}

/* Writes asking for strong or eventual durability are refused (no WAL yet)
 * and leave the shard untouched; weak and default writes are executed. */
static void test_durability_refused(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "s", "1", 0, PROTO_DUR_STRONG},
		{PROTO_OP_PUT, "e", "1", 0, PROTO_DUR_EVENTUAL},
		{PROTO_OP_PUT, "w", "1", 0, PROTO_DUR_WEAK},
		{PROTO_OP_GET, "s", NULL, 0, 0},
		{PROTO_OP_GET, "w", NULL, 0, 0},
	};
	struct proto_request r[8];

	make_batch(fx, ops, 5);
	assert_int_equal(run(fx, 5, 0), 0);
	assert_int_equal(collect(fx, r, 8), 5);
	assert_int_equal(r[0].status, WE_STATUS_UNSUPPORTED);
	assert_int_equal(r[1].status, WE_STATUS_UNSUPPORTED);
	assert_int_equal(r[2].status, WE_STATUS_OK);
	assert_int_equal(r[3].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(r[4].status, WE_STATUS_OK);
	assert_int_equal(fx->stats.req_err_unsupported, 2);
}

/* Entries the decoder flagged are answered with their status and counted. */
static void test_entry_errors_answered(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_GET, "ok", NULL, 0, 0},
		{PROTO_OP_QUANTUM_GET, "q", NULL, 0, 0},
	};
	struct proto_request r[8];

	make_batch(fx, ops, 2);
	fx->reqs[0].op = 77;
	fx->reqs[0].status = WE_STATUS_UNKNOWN_OP;
	assert_int_equal(run(fx, 2, 0), 0);
	assert_int_equal(collect(fx, r, 8), 2);
	assert_int_equal(r[0].status, WE_STATUS_UNKNOWN_OP);
	assert_int_equal(r[0].value_len, 0);
	assert_int_equal(r[1].status, WE_STATUS_UNSUPPORTED);
	assert_int_equal(fx->stats.req_err_unknown_op, 1);
	assert_int_equal(fx->stats.req_err_unsupported, 1);
}

/* Bytes of all response datagrams produced so far, headers included. */
static uint32_t reply_bytes(struct fixture *fx)
{
	uint32_t total = 0;

	fx->f.lens[fx->f.n_dgrams] = proto_writer_finish(&fx->f.w);
	for (unsigned d = 0; d <= fx->f.n_dgrams; d++)
		if (fx->f.lens[d] > PROTO_HDR_SIZE)
			total += fx->f.lens[d];
	return total;
}

/* Op TOKEN is answered OK with the sender's token for the current epoch,
 * which addr_token_check() then accepts (and refuses for another address). */
static void test_token_op(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {{PROTO_OP_TOKEN, "t", NULL, 0, 0}};
	struct proto_request r[4];
	uint8_t expect[PROTO_TOKEN_SIZE];

	fx->f.out.validated = false;
	fx->f.out.budget_bytes = execute_header_budget(false);
	make_batch(fx, ops, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 4), 1);
	assert_int_equal(r[0].status, WE_STATUS_OK);
	assert_int_equal(r[0].value_len, PROTO_TOKEN_SIZE);
	addr_token_make(&fx->token_key, fx->f.out.src_ip_be, 1000, expect);
	assert_memory_equal(r[0].value, expect, PROTO_TOKEN_SIZE);
	assert_true(addr_token_check(&fx->tokens, fx->f.out.src_ip_be, 1000, r[0].value));
	assert_true(addr_token_check(&fx->tokens, fx->f.out.src_ip_be, 1001, r[0].value));
	assert_false(addr_token_check(&fx->tokens, fx->f.out.src_ip_be, 1002, r[0].value));
	assert_false(addr_token_check(&fx->tokens, 0x0301000a, 1000, r[0].value));
	assert_int_equal(fx->stats.req_token, 1);
	/* 16 + 12 + 16 = 44 bytes for a 29-byte request: within 3x. */
	assert_true(reply_bytes(fx) <= 3 * (PROTO_HDR_SIZE + 13));
}

/* The reflection attack of the hardening issue: 64 GETs of one large value
 * in one datagram from an unvalidated (possibly spoofed) source. The
 * answers stay within 3x the request's bytes; the values that would pass
 * it are withheld as NEED_TOKEN (no value), and every entry is still
 * answered once. The same datagram from a validated sender gets them all. */
static void test_unvalidated_budget(void **state)
{
	struct fixture *fx = *state;
	struct op ops[PROTO_BATCH_MAX];
	struct proto_request r[PROTO_BATCH_MAX];
	const struct op put = {PROTO_OP_PUT, "big", NULL, PROTO_VALUE_MAX - 2, 0};
	uint32_t request_bytes = PROTO_HDR_SIZE + PROTO_BATCH_MAX * (12 + 3);
	unsigned withheld = 0, served = 0;

	make_batch(fx, &put, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);

	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++)
		ops[i] = (struct op){PROTO_OP_GET, "big", NULL, 0, 0};
	fx->f.out.validated = false;
	fx->f.out.budget_bytes = execute_header_budget(false);
	fx->f.out.spent_bytes = 0;
	make_batch(fx, ops, PROTO_BATCH_MAX);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, PROTO_BATCH_MAX), PROTO_BATCH_MAX);
	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++) {
		assert_int_equal(r[i].opaque, 100 + i);
		if (r[i].status == WE_STATUS_NEED_TOKEN) {
			assert_int_equal(r[i].value_len, 0);
			withheld++;
		} else {
			assert_int_equal(r[i].status, WE_STATUS_OK);
			served++;
		}
	}
	assert_true(reply_bytes(fx) <= PROTO_AMPLIFICATION_MAX * request_bytes);
	assert_true(withheld > 0);
	assert_true(served > 0);
	assert_int_equal(fx->stats.req_withheld_need_token, withheld);

	/* Validated: every value goes out (the first 8: the fake keeps 16
	 * reply datagrams). */
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	fx->f.out.validated = true;
	assert_int_equal(run(fx, 8, 0), 0);
	assert_int_equal(collect(fx, r, PROTO_BATCH_MAX), 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(r[i].status, WE_STATUS_OK);
		assert_int_equal(r[i].value_len, PROTO_VALUE_MAX - 2);
	}
}

/* Small answers are never withheld: misses, statuses and small values fit
 * an unvalidated sender's budget whatever the batch holds. */
static void test_unvalidated_small_answers(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "k", "v", 0, 0},
		{PROTO_OP_GET, "k", NULL, 0, 0},
		{PROTO_OP_GET, "missing", NULL, 0, 0},
		{PROTO_OP_PING, "p", NULL, 0, 0},
		{PROTO_OP_QUANTUM_GET, "q", NULL, 0, 0},
	};
	struct proto_request r[8];

	fx->f.out.validated = false;
	fx->f.out.budget_bytes = execute_header_budget(false);
	make_batch(fx, ops, 5);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 8), 5);
	assert_int_equal(r[1].status, WE_STATUS_OK);
	assert_int_equal(r[1].value_len, 1);
	assert_int_equal(fx->stats.req_withheld_need_token, 0);
}

/* Decode every record in the log ring, in order, into recs[] (keys and
 * values point into the ring). Returns how many. */
static unsigned log_records(struct fixture *fx, struct wal_record *recs, unsigned max)
{
	struct wal_ring_span span;
	unsigned n = 0;

	while (wal_ring_span(&fx->ring, LOG_RING_BYTES, &span) != 0) {
		const uint8_t *p = span.data;

		for (uint32_t i = 0; i < span.records; i++) {
			uint32_t bytes;

			assert_true(n < max);
			assert_int_equal(wal_record_decode(p, span.bytes - (uint32_t)(p - span.data),
							   &recs[n], &bytes),
					 WAL_DECODE_OK);
			p += bytes;
			n++;
		}
		wal_ring_release(&fx->ring, span.release);
	}
	return n;
}

/* An EVENTUAL PUT (and DEFAULT, the universe's default here) is answered at
 * once and logged: one record with the key, value, region, worker and the
 * next LSN, which the item carries too. A WEAK PUT is not logged. */
static void test_eventual_logged(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "e1", "one", 0, PROTO_DUR_EVENTUAL},
		{PROTO_OP_PUT, "d1", "two", 0, PROTO_DUR_DEFAULT},
		{PROTO_OP_PUT, "w1", "three", 0, PROTO_DUR_WEAK},
		{PROTO_OP_DELETE, "e1", NULL, 0, PROTO_DUR_EVENTUAL},
	};
	struct proto_request r[8];
	struct wal_record recs[8];

	make_batch(fx, ops, 4);
	assert_int_equal(run(fx, 4, 0), 0);
	assert_int_equal(collect(fx, r, 8), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r[i].status, WE_STATUS_OK);
	assert_int_equal(log_records(fx, recs, 8), 3);
	assert_int_equal(recs[0].type, WAL_REC_PUT);
	assert_int_equal(recs[0].lsn, 1);
	assert_int_equal(recs[0].key_len, 2);
	assert_memory_equal(recs[0].key, "e1", 2);
	assert_int_equal(recs[0].value_len, 3);
	assert_memory_equal(recs[0].value, "one", 3);
	assert_int_equal(recs[0].region, keyhash_region(keyhash("e1", 2)));
	assert_int_equal(recs[0].worker, 0);
	assert_memory_equal(recs[1].key, "d1", 2);
	assert_int_equal(recs[1].lsn, 2);
	assert_int_equal(recs[2].type, WAL_REC_DELETE);
	assert_int_equal(recs[2].lsn, 3);
	assert_int_equal(recs[2].value_len, 0);
	assert_int_equal(fx->lsn, 3);
	assert_int_equal(fx->stats.log_records, 3);
	assert_int_equal(park_count(&fx->park), 0);
}

/* A STRONG PUT is logged and its answer parked (nothing in the reply), with
 * the request's addressing, echo and opaque; its value is readable at once
 * (the acknowledgement, not the visibility, waits). */
static void test_strong_parked(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "s1", "v", 0, PROTO_DUR_STRONG},
		{PROTO_OP_GET, "s1", NULL, 0, 0},
	};
	struct proto_request r[8];
	struct park_entry out[PARK_CAP];

	make_batch(fx, ops, 2);
	assert_int_equal(run(fx, 2, 0), 0);
	assert_int_equal(collect(fx, r, 8), 1);
	assert_int_equal(r[0].opaque, 101);
	assert_int_equal(r[0].status, WE_STATUS_OK);
	assert_int_equal(r[0].value_len, 1);
	assert_int_equal(park_count(&fx->park), 1);
	assert_int_equal(park_release(&fx->park, 0, out, PARK_CAP), 0);
	assert_int_equal(park_release(&fx->park, 1, out, PARK_CAP), 1);
	assert_int_equal(out[0].lsn, 1);
	assert_int_equal(out[0].opaque, 100);
	assert_int_equal(out[0].echo, 42);
	assert_int_equal(out[0].op, PROTO_OP_PUT);
	assert_int_equal(out[0].status, WE_STATUS_OK);
	assert_int_equal(out[0].udp.src_port, 40000);
	assert_int_equal(fx->stats.req_parked, 1);
}

/* A STRONG DELETE that finds nothing promises "absent, on disk" too: when
 * the key is absent because of an earlier write not yet durable (a DELETE
 * whose answer is still parked), its NOT_FOUND waits for that write's LSN;
 * once the log is durable, NOT_FOUND goes out at once. Nothing is logged. */
static void test_strong_delete_miss_waits(void **state)
{
	struct fixture *fx = *state;
	const struct op ops[] = {
		{PROTO_OP_PUT, "k", "v", 0, PROTO_DUR_WEAK},
		{PROTO_OP_DELETE, "k", NULL, 0, PROTO_DUR_STRONG},
		{PROTO_OP_DELETE, "k", NULL, 0, PROTO_DUR_STRONG},
	};
	struct proto_request r[8];
	struct wal_record recs[8];
	struct park_entry out[PARK_CAP];

	make_batch(fx, ops, 3);
	assert_int_equal(run(fx, 3, 0), 0);
	assert_int_equal(collect(fx, r, 8), 1); /* the weak PUT only */
	assert_int_equal(log_records(fx, recs, 8), 1); /* the first DELETE */
	assert_int_equal(park_count(&fx->park), 2);
	assert_int_equal(park_release(&fx->park, 0, out, PARK_CAP), 0);
	assert_int_equal(park_release(&fx->park, 1, out, PARK_CAP), 2);
	assert_int_equal(out[0].status, WE_STATUS_OK);
	assert_int_equal(out[1].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(out[1].lsn, 1);
	assert_int_equal(out[1].opaque, 102);

	/* Durable now: a miss is answered at once. */
	fx->durable.lsn = fx->lsn;
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	make_batch(fx, &ops[2], 1);
	assert_int_equal(run(fx, 1, 0), 0);
	assert_int_equal(collect(fx, r, 8), 1);
	assert_int_equal(r[0].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(park_count(&fx->park), 0);
	assert_int_equal(log_records(fx, recs, 8), 0);
}

/* What the log cannot take is refused before it runs, the shard untouched:
 * BUSY when the park table is full (STRONG) or the ring is full, and
 * NOT_DURABLE while storage is failing. A DELETE of a missing key changes
 * nothing and logs nothing. */
static void test_log_refusals(void **state)
{
	struct fixture *fx = *state;
	struct op ops[PARK_CAP + 1];
	char keys[PARK_CAP + 1][8];
	struct proto_request r[16];
	struct wal_record recs[16];
	const uint8_t *v;
	uint32_t vl;

	for (unsigned i = 0; i <= PARK_CAP; i++) {
		snprintf(keys[i], sizeof(keys[i]), "p%u", i);
		ops[i] = (struct op){PROTO_OP_PUT, keys[i], "x", 0, PROTO_DUR_STRONG};
	}
	make_batch(fx, ops, PARK_CAP + 1);
	assert_int_equal(run(fx, PARK_CAP + 1, 0), 0);
	assert_int_equal(collect(fx, r, 16), 1); /* the one that found no room */
	assert_int_equal(r[0].status, WE_STATUS_BUSY);
	assert_int_equal(r[0].opaque, 100 + PARK_CAP);
	assert_int_equal(fx->stats.req_busy_park_full, 1);
	assert_int_equal(shard_get(fx->shard, shard_hash(fx->shard, (const uint8_t *)"p4", 2),
				   (const uint8_t *)"p4", 2, &v, &vl),
			 WE_STATUS_NOT_FOUND);

	/* Storage failing: refused, not run. */
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	fx->durable.error = -EIO;
	ops[0] = (struct op){PROTO_OP_PUT, "f1", "x", 0, PROTO_DUR_EVENTUAL};
	make_batch(fx, ops, 1);
	assert_int_equal(run(fx, 1, 0), 0);
	assert_int_equal(collect(fx, r, 16), 1);
	assert_int_equal(r[0].status, WE_STATUS_NOT_DURABLE);
	assert_int_equal(fx->stats.req_refused_not_durable, 1);
	fx->durable.error = 0;

	/* Ring full: 8 KiB of ring, records of ~1.2 KiB, no consumer. */
	unsigned busy = 0, ok = 0;
	for (unsigned i = 0; i < 12; i++) {
		char key[8];
		struct op big;

		snprintf(key, sizeof(key), "b%u", i);
		big = (struct op){PROTO_OP_PUT, key, NULL, 1200, PROTO_DUR_EVENTUAL};
		fx->f.n_dgrams = 0;
		proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
		make_batch(fx, &big, 1);
		assert_int_equal(run(fx, 1, 0), 0);
		assert_int_equal(collect(fx, r, 16), 1);
		if (r[0].status == WE_STATUS_BUSY) {
			busy++;
			assert_int_equal(shard_get(fx->shard,
						   shard_hash(fx->shard, (const uint8_t *)key,
							      (uint8_t)strlen(key)),
						   (const uint8_t *)key, (uint8_t)strlen(key), &v, &vl),
					 WE_STATUS_NOT_FOUND);
		} else {
			assert_int_equal(r[0].status, WE_STATUS_OK);
			ok++;
		}
	}
	assert_true(busy > 0);
	assert_true(ok > 0);
	assert_int_equal(fx->stats.req_busy_log_full, busy);
	/* Every record in the ring is a write that was acknowledged or parked. */
	assert_int_equal(log_records(fx, recs, 16), PARK_CAP + ok);

	/* A missing key's DELETE: NOT_FOUND at once, nothing logged (the
	 * parked answers released first, as storage would). */
	struct park_entry released[PARK_CAP];
	assert_int_equal(park_release(&fx->park, UINT64_MAX, released, PARK_CAP), PARK_CAP);
	fx->durable.lsn = fx->lsn;
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	ops[0] = (struct op){PROTO_OP_DELETE, "nope", NULL, 0, PROTO_DUR_STRONG};
	make_batch(fx, ops, 1);
	assert_int_equal(run(fx, 1, 0), 0);
	assert_int_equal(collect(fx, r, 16), 1);
	assert_int_equal(r[0].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(log_records(fx, recs, 16), 0);
}

/* Make key's item a stub of the disk tier naming ref (as the worker does
 * once the archive thread wrote its record). */
static void archive_item(struct fixture *fx, const char *key, const struct shard_archive_ref *ref)
{
	struct shard_archive_policy all = {.archive_below = 255, .max_chains = 1u << 20,
					   .max_stored_bytes = 1u << 30};
	struct shard_archive_pick picks[64];
	struct shard_scan cur = {0};
	bool done = false;

	shard_set_tick(fx->shard, 1000); /* everything cooled */
	while (!done && !shard_scan_done(fx->shard, &cur)) {
		int n = shard_archive_step(fx->shard, &cur, &all, picks, 64);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			if (picks[i].key_len == strlen(key) && memcmp(picks[i].key, key, picks[i].key_len) == 0) {
				assert_true(shard_archive_commit(fx->shard, picks[i].hash, picks[i].key,
								 picks[i].key_len, picks[i].codec,
								 picks[i].stored, picks[i].stored_len,
								 ref));
				done = true;
				break;
			}
	}
	assert_true(done);
}

/* A GET that finds its item archived is not answered in the reply: its
 * answer waits in the fetch table with what the worker needs to read the
 * record and answer later; the other entries are answered as usual. A full
 * table answers BUSY; without a disk tier (no table) IO_ERROR. */
static void test_archived_get_waits(void **state)
{
	struct fixture *fx = *state;
	const struct shard_archive_ref ref = {.offset = 4096, .bytes = 664, .check = 0xabcdef};
	const struct op put = {PROTO_OP_PUT, "cold", NULL, 600, PROTO_DUR_WEAK};
	const struct op ops[] = {
		{PROTO_OP_GET, "cold", NULL, 0, 0},
		{PROTO_OP_GET, "missing", NULL, 0, 0},
		{PROTO_OP_PING, "p", NULL, 0, 0},
	};
	struct proto_request r[8];
	struct fetch_entry *e;
	int ticket;

	fetch_table_init(&fx->fetch);
	fx->x.fetch = &fx->fetch;
	make_batch(fx, &put, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	archive_item(fx, "cold", &ref);
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);

	make_batch(fx, ops, 3);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 8), 2);
	assert_int_equal(r[0].opaque, 101);
	assert_int_equal(r[0].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(r[1].opaque, 102);
	assert_int_equal(fetch_count(&fx->fetch), 1);
	ticket = fetch_next_queued(&fx->fetch);
	assert_true(ticket >= 0);
	e = fetch_entry_at(&fx->fetch, (uint16_t)ticket);
	assert_memory_equal(&e->ref, &ref, sizeof(ref));
	assert_int_equal(e->opaque, 100);
	assert_int_equal(e->op, PROTO_OP_GET);
	assert_int_equal(e->echo, 42);
	assert_int_equal(e->udp.src_port, 40000);
	assert_int_equal(e->key_len, 4);
	assert_memory_equal(e->key, "cold", 4);
	assert_int_equal(e->hash, fx->reqs[0].lhash);
	assert_int_equal(fx->stats.req_get_archived, 1);
	assert_int_equal(fx->stats.req_get, 2);

	/* Full: BUSY, nothing added. */
	while (!fetch_full(&fx->fetch))
		assert_true(fetch_add(&fx->fetch, e) >= 0);
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	make_batch(fx, ops, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 8), 1);
	assert_int_equal(r[0].status, WE_STATUS_BUSY);
	assert_int_equal(fx->stats.req_busy_fetch_full, 1);

	/* No disk tier here: IO_ERROR rather than a wrong answer. */
	fx->x.fetch = NULL;
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	make_batch(fx, ops, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	assert_int_equal(collect(fx, r, 8), 1);
	assert_int_equal(r[0].status, WE_STATUS_IO_ERROR);
	assert_int_equal(fx->stats.req_get_archive_failed, 1);
}

/* An unvalidated sender's budget is charged for an archived value when its
 * GET waits: a datagram of GETs for a large archived item gets some waiting
 * and the rest NEED_TOKEN, within the amplification limit. */
static void test_archived_get_budget(void **state)
{
	struct fixture *fx = *state;
	const struct shard_archive_ref ref = {.offset = 0, .bytes = 1480, .check = 7};
	const struct op put = {PROTO_OP_PUT, "big", NULL, PROTO_VALUE_MAX - 2, PROTO_DUR_WEAK};
	struct op ops[PROTO_BATCH_MAX];
	struct proto_request r[PROTO_BATCH_MAX];
	uint32_t request_bytes = PROTO_HDR_SIZE + PROTO_BATCH_MAX * (12 + 3);
	uint32_t waiting, withheld;

	fetch_table_init(&fx->fetch);
	fx->x.fetch = &fx->fetch;
	make_batch(fx, &put, 1);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	archive_item(fx, "big", &ref);
	fx->f.n_dgrams = 0;
	proto_writer_init(&fx->f.w, fx->f.bufs[0], PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++)
		ops[i] = (struct op){PROTO_OP_GET, "big", NULL, 0, 0};
	fx->f.out.validated = false;
	fx->f.out.budget_bytes = execute_header_budget(false);
	fx->f.out.spent_bytes = 0;
	make_batch(fx, ops, PROTO_BATCH_MAX);
	assert_int_equal(run(fx, fx->n_reqs, 0), 0);
	withheld = collect(fx, r, PROTO_BATCH_MAX);
	waiting = fetch_count(&fx->fetch);
	assert_int_equal(withheld + waiting, PROTO_BATCH_MAX);
	for (unsigned i = 0; i < withheld; i++)
		assert_int_equal(r[i].status, WE_STATUS_NEED_TOKEN);
	assert_true(waiting > 0);
	assert_true(withheld > 0);
	/* What waits will cost its value: all within the limit. */
	assert_true(fx->f.out.spent_bytes <= PROTO_AMPLIFICATION_MAX * request_bytes);
	assert_true(reply_bytes(fx) + waiting * (PROTO_VALUE_MAX - 2) <=
		    PROTO_AMPLIFICATION_MAX * request_bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eventual_logged, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_strong_parked, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_log_refusals, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_strong_delete_miss_waits, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_token_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archived_get_waits, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_archived_get_budget, setup_logged, teardown),
		cmocka_unit_test_setup_teardown(test_unvalidated_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unvalidated_small_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_gets_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_buffer_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward_refused_and_hop_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_durability_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_errors_answered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
