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

struct fixture {
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
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct shard_config cfg = {.capacity_items = 4096, .arena_bytes = 4 << 20};
	size_t bytes;

	assert_non_null(fx);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_op, setup, teardown),
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
