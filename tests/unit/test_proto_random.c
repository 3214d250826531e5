/* test_proto_random.c - the wire codec under random input: valid datagrams
 * mutated byte by byte and cut short, decoded and compared with a reference
 * model of the decoder written straight from docs/protocol.md; random
 * response round trips. The fixed cases live in test_proto.c.
 *
 * Every datagram handed to a decoder is first copied into a heap block of
 * exactly its length, so an ASan build catches any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto.h"
#include "we_test.h"
#include "proto_test_util.h"

#define BUF_CAP 4096

/* ---- randomized mutation test ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	return we_test_rand(&rng_state);
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

/* The seed of a fuzz test: WE_TEST_SEED, else a new one each run. */
static uint64_t test_seed(const char *test)
{
	return we_test_seed(test, (uint64_t)time(0) ^ ((uint64_t)clock() << 32));
}

static uint64_t fuzz_seed;
static unsigned fuzz_iter;

#define FUZZ_CHECK(cond)                                                                  \
	do {                                                                              \
		if (!(cond))                                                              \
			fail_msg("WE_TEST_SEED=%llu iteration %u: %s", (unsigned long long)fuzz_seed, \
				 fuzz_iter, #cond);                                       \
	} while (0)

/* Reference model of proto_decode_batch: written for clarity, not speed,
 * straight from docs/protocol.md. Fills expected statuses into st[]. */
static enum proto_decode_result model_decode(const uint8_t *b, uint32_t len, uint8_t *st,
					     unsigned *n)
{
	unsigned count;
	uint64_t off = PROTO_HDR_SIZE;

	*n = 0;
	if (len < 16)
		return PROTO_DECODE_TRUNCATED;
	if (b[0] != 'W' || b[1] != 'E')
		return PROTO_DECODE_BAD_MAGIC;
	if (b[3] & 1)
		return PROTO_DECODE_NOT_REQUEST;
	if (b[2] != 1)
		return PROTO_DECODE_BAD_VERSION;
	if ((b[3] & ~0x04) != 0) /* only the TOKEN flag is known in requests */
		return PROTO_DECODE_UNSUPPORTED;
	count = b[4] | b[5] << 8;
	if (b[6] != 0 || b[7] != 0 || count == 0 || count > 64)
		return PROTO_DECODE_MALFORMED;
	if (b[3] & 0x04) { /* a 16-byte token before the entries */
		off += 16;
		if (off > len)
			return PROTO_DECODE_MALFORMED;
	}
	for (unsigned i = 0; i < count; i++) {
		uint8_t op, flags, kl;
		uint32_t vl;

		if (off + 12 > len)
			return PROTO_DECODE_MALFORMED;
		op = b[off];
		flags = b[off + 1];
		kl = b[off + 2];
		vl = (uint32_t)b[off + 4] | (uint32_t)b[off + 5] << 8 |
		     (uint32_t)b[off + 6] << 16 | (uint32_t)b[off + 7] << 24;
		if (b[off + 3] != 0)
			return PROTO_DECODE_MALFORMED;
		if (off + 12 + kl + vl > len)
			return PROTO_DECODE_MALFORMED;
		if (op < 1 || op > 6)
			st[i] = WE_STATUS_UNKNOWN_OP;
		else if (kl < 1 || kl > 250)
			st[i] = WE_STATUS_KEY_TOO_LONG;
		else if (flags > 3)
			st[i] = WE_STATUS_BAD_REQUEST;
		else if (op == 5)
			st[i] = WE_STATUS_UNSUPPORTED;
		else if (vl > 0 && op != 2)
			st[i] = WE_STATUS_BAD_REQUEST;
		else if (vl > 1443)
			st[i] = WE_STATUS_VALUE_TOO_LARGE;
		else
			st[i] = WE_STATUS_OK;
		off += 12 + kl + vl;
	}
	if (off != len)
		return PROTO_DECODE_MALFORMED;
	*n = count;
	return PROTO_DECODE_OK;
}

/* A random datagram that is mostly valid: few entries, ops and lengths
 * drawn mostly from the valid ranges. */
static uint32_t random_datagram(uint8_t *buf, uint32_t cap)
{
	static const uint8_t junk[256];
	struct proto_writer w;
	unsigned n = rng_below(4) == 0 ? 1 + rng_below(PROTO_BATCH_MAX) : 1 + rng_below(4);

	proto_writer_init(&w, buf, cap, 0, rng_next());
	for (unsigned i = 0; i < n; i++) {
		uint8_t op = rng_below(8) == 0 ? (uint8_t)rng_next() : (uint8_t)(1 + rng_below(5));
		uint32_t kl = rng_below(8) == 0 ? rng_below(256) : 1 + rng_below(16);
		uint32_t vl = op == PROTO_OP_PUT || rng_below(8) == 0 ? rng_below(64) : 0;

		if (!proto_writer_fits(&w, kl, vl))
			break;
		proto_writer_append(&w, op, (uint8_t)(rng_below(8) == 0 ? rng_next() : rng_below(4)),
				    0, (uint32_t)rng_next(), junk, kl, junk, vl);
	}
	return proto_writer_finish(&w);
}

static void mutate(uint8_t *buf, uint32_t *len, uint32_t cap)
{
	unsigned k = rng_below(4);

	for (unsigned m = 0; m < k; m++) {
		switch (rng_below(5)) {
		case 0: /* flip a bit */
			if (*len)
				buf[rng_below(*len)] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1: /* random byte */
			if (*len)
				buf[rng_below(*len)] = (uint8_t)rng_next();
			break;
		case 2: /* truncate */
			if (*len)
				*len = rng_below(*len);
			break;
		case 3: /* append a few bytes */
			for (unsigned j = rng_below(16); j && *len < cap; j--)
				buf[(*len)++] = (uint8_t)rng_next();
			break;
		case 4: /* an interesting byte in the header or first entry */
			if (*len > 32) {
				static const uint8_t vals[] = {0, 1, 2, 3, 5, 63, 64, 65, 0x7f,
							       0x80, 0xfa, 0xfb, 0xff};
				buf[rng_below(32)] = vals[rng_below(sizeof(vals))];
			}
			break;
		}
	}
}

/* Random datagrams, mutated: both decoders stay inside the buffer (ASan),
 * proto_decode_batch agrees with the reference model on the result and on
 * every entry's status, returned entries tile the datagram exactly, and
 * no error reply is larger than the datagram that caused it. */
static void test_mutation_fuzz(void **state)
{
	enum { ITERATIONS = 100000, CAP = 2048 };
	static uint8_t buf[CAP];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	uint8_t model_st[PROTO_BATCH_MAX];
	unsigned seen[PROTO_DECODE_MALFORMED + 1] = {0};

	(void)state;
	fuzz_seed = test_seed(__func__);
	rng_state = fuzz_seed;
	for (fuzz_iter = 0; fuzz_iter < ITERATIONS; fuzz_iter++) {
		uint32_t len = random_datagram(buf, PROTO_PAYLOAD_MAX);
		uint8_t *copy;
		enum proto_decode_result r, mr;
		unsigned n, mn;

		mutate(buf, &len, CAP);
		copy = exact_copy(buf, len);
		r = proto_decode_batch(copy, len, &hdr, reqs, PROTO_BATCH_MAX, &n);
		mr = model_decode(copy, len, model_st, &mn);
		seen[r]++;
		FUZZ_CHECK(r == mr);
		FUZZ_CHECK(n == mn);
		if (r == PROTO_DECODE_OK) {
			const uint8_t *next = copy + PROTO_HDR_SIZE +
					      ((hdr.flags & PROTO_F_TOKEN) ? PROTO_TOKEN_SIZE : 0);

			for (unsigned i = 0; i < n; i++) {
				FUZZ_CHECK(reqs[i].key == next + PROTO_ENTRY_HDR_SIZE);
				FUZZ_CHECK(reqs[i].value == reqs[i].key + reqs[i].key_len);
				FUZZ_CHECK(reqs[i].value_len <= len);
				next = reqs[i].value + reqs[i].value_len;
				FUZZ_CHECK(next <= copy + len);
				FUZZ_CHECK(reqs[i].status == model_st[i]);
			}
			FUZZ_CHECK(next == copy + len);
		} else if (proto_decode_reply_status(r) != WE_STATUS_OK) {
			FUZZ_CHECK(len >= PROTO_HDR_SIZE);
		}

		r = proto_decode_response(copy, len, &hdr, reqs, PROTO_BATCH_MAX, &n);
		if (r == PROTO_DECODE_OK) {
			const uint8_t *next = copy + PROTO_HDR_SIZE +
					      ((hdr.flags & PROTO_F_TOKEN) ? PROTO_TOKEN_SIZE : 0);

			for (unsigned i = 0; i < n; i++) {
				FUZZ_CHECK(reqs[i].key == next + PROTO_ENTRY_HDR_SIZE);
				next = reqs[i].value + reqs[i].value_len;
				FUZZ_CHECK(next <= copy + len);
			}
			FUZZ_CHECK(next == copy + len);
		}
		free(copy);
	}
	/* The generator reached every outcome, or the test proves little. */
	for (int r = PROTO_DECODE_OK; r <= PROTO_DECODE_MALFORMED; r++)
		if (seen[r] == 0)
			fail_msg("WE_TEST_SEED=%llu: no datagram decoded as %s",
				 (unsigned long long)fuzz_seed,
				 proto_decode_result_name((enum proto_decode_result)r));
}

/* Responses built from random entries (any status, key_len 0..250) always
 * decode back to the same fields. */
static void test_response_roundtrip_random(void **state)
{
	static const uint8_t data[256];
	uint8_t buf[PROTO_PAYLOAD_MAX];
	struct proto_batch_hdr hdr;
	struct proto_request ents[PROTO_BATCH_MAX];
	struct {
		uint8_t op, status, kl;
		uint32_t vl, opaque;
	} want[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n, k;

	(void)state;
	fuzz_seed = test_seed(__func__) + 1;
	rng_state = fuzz_seed;
	for (fuzz_iter = 0; fuzz_iter < 2000; fuzz_iter++) {
		uint64_t echo = rng_next();

		proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, echo);
		for (k = 0; k < PROTO_BATCH_MAX; k++) {
			uint32_t kl = rng_below(4) ? 0 : rng_below(PROTO_KEY_MAX + 1);
			uint32_t vl = rng_below(200);

			if (!proto_writer_fits(&w, kl, vl))
				break;
			want[k].op = (uint8_t)rng_next();
			want[k].status = (uint8_t)rng_next();
			want[k].kl = (uint8_t)kl;
			want[k].vl = vl;
			want[k].opaque = (uint32_t)rng_next();
			proto_writer_append(&w, want[k].op, 0, want[k].status, want[k].opaque, data,
					    kl, data, vl);
		}
		FUZZ_CHECK(decode_resp(buf, proto_writer_finish(&w), &hdr, ents, &n) ==
			   PROTO_DECODE_OK);
		FUZZ_CHECK(n == k);
		FUZZ_CHECK(hdr.echo == echo);
		for (unsigned i = 0; i < n; i++) {
			FUZZ_CHECK(ents[i].op == want[i].op);
			FUZZ_CHECK(ents[i].status == want[i].status);
			FUZZ_CHECK(ents[i].key_len == want[i].kl);
			FUZZ_CHECK(ents[i].value_len == want[i].vl);
			FUZZ_CHECK(ents[i].opaque == want[i].opaque);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutation_fuzz),
		cmocka_unit_test(test_response_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
