/* test_verify.c - the verification rule accepts every answer a correct server
 * can give under reordering, loss and refusals, and rejects answers no write
 * could explain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "blaster_test.h"
#include "verify.h"
#include "workload.h"

static struct workload wl;

static int setup(void **state)
{
	struct workload_config c = {
		.keys = 16, .key_size_min = 4, .key_size_max = 4,
		.value_size_min = 8, .value_size_max = 24,
		.mix_get = 1, .seed = 1,
	};
	const char *why;

	(void)state;
	return workload_init(&wl, &c, &why);
}

/* What a GET for key could get back: a value of version v, or not found. */
static enum verify_result check_value(struct verify *v, uint64_t key,
				      const struct verify_snap *s, uint16_t version)
{
	uint8_t buf[64];
	uint32_t len = workload_value(&wl, key, version, buf);

	return verify_read_check(v, &wl, key, s, true, buf, len);
}

static enum verify_result check_missing(struct verify *v, uint64_t key,
					const struct verify_snap *s)
{
	return verify_read_check(v, &wl, key, s, false, NULL, 0);
}

/* Keys start unknown: nothing is checked until a write to them is applied;
 * then the written value is right and anything else is wrong. */
static void test_verify_basic(void **state)
{
	struct verify v;
	struct verify_snap s;
	uint16_t ver;

	(void)state;
	assert_int_equal(verify_init(&v, 16), 0);
	verify_read_issue(&v, 3, &s);
	assert_int_equal(check_value(&v, 3, &s, 7), VERIFY_UNVERIFIED);
	assert_int_equal(check_missing(&v, 3, &s), VERIFY_UNVERIFIED);

	assert_true(verify_write_allowed(&v, 3));
	ver = verify_write_issue(&v, 3, false);
	assert_int_equal(ver, 0); /* the first write is version 0 (the preload's) */
	assert_false(verify_write_allowed(&v, 3));
	verify_write_done(&v, 3, false, VERIFY_APPLIED);
	assert_true(verify_write_allowed(&v, 3));

	verify_read_issue(&v, 3, &s);
	assert_int_equal(check_value(&v, 3, &s, 0), VERIFY_OK);
	assert_int_equal(check_value(&v, 3, &s, 1), VERIFY_WRONG);
	assert_int_equal(check_missing(&v, 3, &s), VERIFY_WRONG);
	/* Another key's value is wrong too. */
	{
		uint8_t buf[64];
		uint32_t len = workload_value(&wl, 4, 0, buf);

		assert_int_equal(verify_read_check(&v, &wl, 3, &s, true, buf, len),
				 VERIFY_WRONG);
	}
	verify_fini(&v);
}

/* A GET sent while a write is in flight may see the old or the new state;
 * once the write is settled before the GET leaves, only the new one. */
static void test_verify_pending_write(void **state)
{
	struct verify v;
	struct verify_snap s;

	(void)state;
	assert_int_equal(verify_init(&v, 16), 0);
	verify_write_issue(&v, 1, false);
	verify_write_done(&v, 1, false, VERIFY_APPLIED); /* version 0 */
	assert_int_equal(verify_write_issue(&v, 1, false), 1);
	verify_read_issue(&v, 1, &s);
	assert_int_equal(check_value(&v, 1, &s, 0), VERIFY_OK);
	assert_int_equal(check_value(&v, 1, &s, 1), VERIFY_OK);
	assert_int_equal(check_missing(&v, 1, &s), VERIFY_WRONG);
	verify_write_done(&v, 1, false, VERIFY_APPLIED);
	/* Still both for the GET sent before it settled. */
	assert_int_equal(check_value(&v, 1, &s, 0), VERIFY_OK);
	verify_read_issue(&v, 1, &s);
	assert_int_equal(check_value(&v, 1, &s, 0), VERIFY_WRONG);
	assert_int_equal(check_value(&v, 1, &s, 1), VERIFY_OK);

	/* A pending DELETE: the value or "not found". */
	verify_write_issue(&v, 1, true);
	verify_read_issue(&v, 1, &s);
	assert_int_equal(check_value(&v, 1, &s, 1), VERIFY_OK);
	assert_int_equal(check_missing(&v, 1, &s), VERIFY_OK);
	verify_write_done(&v, 1, true, VERIFY_APPLIED);
	verify_read_issue(&v, 1, &s);
	assert_int_equal(check_missing(&v, 1, &s), VERIFY_OK);
	assert_int_equal(check_value(&v, 1, &s, 1), VERIFY_WRONG);
	assert_int_equal(check_value(&v, 1, &s, 2), VERIFY_WRONG); /* 2 was the delete */
	verify_fini(&v);
}

/* A GET answered after later writes completed may have run after them. */
static void test_verify_writes_during_get(void **state)
{
	struct verify v;
	struct verify_snap s;

	(void)state;
	assert_int_equal(verify_init(&v, 16), 0);
	verify_write_issue(&v, 2, false);
	verify_write_done(&v, 2, false, VERIFY_APPLIED); /* 0 */
	verify_read_issue(&v, 2, &s);
	verify_write_issue(&v, 2, false);
	verify_write_done(&v, 2, false, VERIFY_APPLIED); /* 1 */
	verify_write_issue(&v, 2, true);
	verify_write_done(&v, 2, true, VERIFY_APPLIED);  /* 2: delete */
	verify_write_issue(&v, 2, false);
	verify_write_done(&v, 2, false, VERIFY_APPLIED); /* 3 */
	assert_int_equal(check_value(&v, 2, &s, 0), VERIFY_OK);
	assert_int_equal(check_value(&v, 2, &s, 1), VERIFY_OK);
	assert_int_equal(check_value(&v, 2, &s, 3), VERIFY_OK);
	assert_int_equal(check_missing(&v, 2, &s), VERIFY_OK);
	assert_int_equal(check_value(&v, 2, &s, 4), VERIFY_WRONG);
	verify_fini(&v);
}

/* A refused write leaves the key as it was; a timed-out one makes it
 * unknown until the next applied write. */
static void test_verify_refused_and_unknown(void **state)
{
	struct verify v;
	struct verify_snap s;

	(void)state;
	assert_int_equal(verify_init(&v, 16), 0);
	verify_write_issue(&v, 5, false);
	verify_write_done(&v, 5, false, VERIFY_APPLIED); /* 0 */
	assert_int_equal(verify_write_issue(&v, 5, false), 1);
	verify_write_done(&v, 5, false, VERIFY_NOT_APPLIED);
	verify_read_issue(&v, 5, &s);
	assert_int_equal(check_value(&v, 5, &s, 0), VERIFY_OK);
	assert_int_equal(check_value(&v, 5, &s, 1), VERIFY_WRONG);
	verify_write_issue(&v, 5, true);
	verify_write_done(&v, 5, true, VERIFY_NOT_APPLIED);
	verify_read_issue(&v, 5, &s);
	assert_int_equal(check_missing(&v, 5, &s), VERIFY_WRONG);

	verify_write_issue(&v, 5, false);
	verify_write_done(&v, 5, false, VERIFY_OUTCOME_UNKNOWN);
	verify_read_issue(&v, 5, &s);
	assert_int_equal(check_value(&v, 5, &s, 0), VERIFY_UNVERIFIED);
	assert_int_equal(check_value(&v, 5, &s, 99), VERIFY_UNVERIFIED);
	verify_write_issue(&v, 5, false);
	verify_write_done(&v, 5, false, VERIFY_APPLIED);
	verify_read_issue(&v, 5, &s);
	assert_int_equal(check_value(&v, 5, &s, 2), VERIFY_OK);
	assert_int_equal(check_value(&v, 5, &s, 1), VERIFY_WRONG);
	verify_fini(&v);
}

/* Version counters wrap without false alarms. */
static void test_verify_wrap(void **state)
{
	struct verify v;
	struct verify_snap s;
	uint16_t ver = 0;

	(void)state;
	assert_int_equal(verify_init(&v, 16), 0);
	for (int i = 0; i < 70000; i++) {
		ver = verify_write_issue(&v, 7, (i % 300) == 299);
		verify_write_done(&v, 7, (i % 300) == 299, VERIFY_APPLIED);
	}
	verify_write_issue(&v, 7, false);
	verify_read_issue(&v, 7, &s);
	assert_int_equal(check_value(&v, 7, &s, ver), VERIFY_OK);
	assert_int_equal(check_value(&v, 7, &s, (uint16_t)(ver + 1)), VERIFY_OK);
	assert_int_equal(check_value(&v, 7, &s, (uint16_t)(ver - 1)), VERIFY_WRONG);
	verify_fini(&v);
}

/* ---- randomized: a correct server and a lying one --------------------- */

#define SIM_KEYS 4
#define SIM_INFLIGHT 24

struct sim_req {
	bool used;
	uint8_t op;
	uint64_t key;
	uint16_t version;     /* PUT: version written */
	struct verify_snap snap;
	int stage;            /* 0 sent, 1 executed (answer ready), 2 lost */
	bool found;           /* GET answer */
	uint16_t answer_ver;
	int status_ok;        /* write applied (1) or refused (0) */
};

struct sim_key {
	bool present;
	uint16_t version;
	bool ever_written;
};

/* The server runs requests in any order, loses some requests and some
 * answers, refuses some writes; the blaster times out only what was lost.
 * With liar set, a GET answer is sometimes a value never written. Returns
 * the number of WRONG verdicts. */
static uint64_t sim_run(uint64_t seed, bool liar, uint64_t *checked)
{
	struct verify v;
	struct sim_req reqs[SIM_INFLIGHT] = {0};
	struct sim_key server[SIM_KEYS] = {0};
	struct rng r;
	uint64_t wrong = 0;

	rng_seed(&r, seed, 11);
	assert_int_equal(verify_init(&v, SIM_KEYS), 0);
	*checked = 0;
	for (int step = 0; step < 200000; step++) {
		struct sim_req *q = &reqs[rng_below(&r, SIM_INFLIGHT)];
		uint64_t dice = rng_below(&r, 100);

		if (!q->used) { /* issue */
			q->used = true;
			q->stage = 0;
			q->key = rng_below(&r, SIM_KEYS);
			q->op = dice < 60 ? WORKLOAD_OP_GET : dice < 90 ? WORKLOAD_OP_PUT
									  : WORKLOAD_OP_DELETE;
			if (q->op != WORKLOAD_OP_GET && !verify_write_allowed(&v, q->key))
				q->op = WORKLOAD_OP_GET;
			if (q->op == WORKLOAD_OP_GET)
				verify_read_issue(&v, q->key, &q->snap);
			else
				q->version = verify_write_issue(&v, q->key,
								q->op == WORKLOAD_OP_DELETE);
			continue;
		}
		if (q->stage == 0) { /* the server executes it, or it is lost */
			struct sim_key *k = &server[q->key];

			if (dice < 3) {
				q->stage = 2;
				continue;
			}
			q->stage = 1;
			if (q->op == WORKLOAD_OP_GET) {
				q->found = k->present;
				q->answer_ver = k->version;
				if (liar && dice < 10 && k->ever_written) {
					q->found = true;
					q->answer_ver = (uint16_t)(k->version + 1 + dice);
				}
			} else if (dice < 10) {
				q->status_ok = 0; /* refused: BUSY, NO_SPACE... */
			} else {
				q->status_ok = 1;
				k->present = q->op == WORKLOAD_OP_PUT;
				k->version = q->version;
				k->ever_written = true;
			}
			/* An executed request may lose its answer (a timeout). */
			if (dice >= 97)
				q->stage = 2;
			continue;
		}
		if (q->stage == 2) { /* the blaster times it out */
			if (q->op != WORKLOAD_OP_GET)
				verify_write_done(&v, q->key, q->op == WORKLOAD_OP_DELETE,
						  VERIFY_OUTCOME_UNKNOWN);
			q->used = false;
			continue;
		}
		/* The answer arrives. */
		if (q->op == WORKLOAD_OP_GET) {
			uint8_t buf[64];
			uint32_t len = q->found ? workload_value(&wl, q->key, q->answer_ver, buf) : 0;
			enum verify_result res = verify_read_check(&v, &wl, q->key, &q->snap,
								   q->found, buf, len);

			*checked += res != VERIFY_UNVERIFIED;
			wrong += res == VERIFY_WRONG;
		} else {
			verify_write_done(&v, q->key, q->op == WORKLOAD_OP_DELETE,
					  q->status_ok ? VERIFY_APPLIED : VERIFY_NOT_APPLIED);
		}
		q->used = false;
	}
	verify_fini(&v);
	return wrong;
}

/* A correct server is never accused, and most answers do get checked. */
static void test_verify_random_correct_server(void **state)
{
	uint64_t seed = blaster_test_seed("test_verify_random_correct_server");
	uint64_t checked;

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sim_run(seed + i, false, &checked), 0);
		assert_true(checked > 20000);
	}
}

/* Values no write produced are caught. */
static void test_verify_random_liar(void **state)
{
	uint64_t seed = blaster_test_seed("test_verify_random_liar");
	uint64_t checked;

	(void)state;
	assert_true(sim_run(seed, true, &checked) > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_basic),
		cmocka_unit_test(test_verify_pending_write),
		cmocka_unit_test(test_verify_writes_during_get),
		cmocka_unit_test(test_verify_refused_and_unknown),
		cmocka_unit_test(test_verify_wrap),
		cmocka_unit_test(test_verify_random_correct_server),
		cmocka_unit_test(test_verify_random_liar),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
