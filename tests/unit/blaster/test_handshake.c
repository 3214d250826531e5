/* test_handshake.c - the blaster's address-token handshake: the request is
 * one TOKEN entry the data plane's decoder accepts; an OK answer yields the
 * token, UNKNOWN_OP or a header-only UNSUPPORTED mean an older server;
 * transient and foreign datagrams change nothing; tries are resent on their
 * period, rotated over the worker ports, and the time runs out at 2 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handshake.h"

#define MS 1000000ull

static const uint8_t test_token[PROTO_TOKEN_SIZE] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
						     5, 6, 7, 8, 9, 10, 11, 12};

/* An answer to h's request: one TOKEN entry with status and value. */
static uint32_t answer(const struct handshake *h, uint8_t *buf, uint8_t status,
		       const uint8_t *value, uint32_t value_len)
{
	struct proto_batch_hdr hdr;
	struct proto_request req[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n;

	assert_int_equal(proto_decode_batch(h->req, h->req_len, &hdr, req, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, hdr.echo);
	proto_writer_append(&w, req[0].op, 0, status, req[0].opaque, NULL, 0, value, value_len);
	return proto_writer_finish(&w);
}

/* The request: a plain datagram (no token yet) with one TOKEN entry, well
 * formed for the server's decoder. */
static void test_handshake_request(void **state)
{
	struct handshake h;
	struct proto_batch_hdr hdr;
	struct proto_request req[PROTO_BATCH_MAX];
	unsigned n;

	(void)state;
	handshake_begin(&h, 0, 4);
	assert_int_equal(proto_decode_batch(h.req, h.req_len, &hdr, req, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.echo, HANDSHAKE_ECHO);
	assert_int_equal(req[0].op, PROTO_OP_TOKEN);
	assert_int_equal(req[0].status, WE_STATUS_OK);
	assert_int_equal(req[0].value_len, 0);
	assert_true(req[0].key_len >= 1);
	assert_int_equal(h.state, HANDSHAKE_WAITING);
}

/* OK with 16 bytes: the token, kept exactly. */
static void test_handshake_gets_token(void **state)
{
	struct handshake h;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	uint32_t len;

	(void)state;
	handshake_begin(&h, 0, 1);
	assert_true(handshake_due(&h, 0));
	len = answer(&h, buf, WE_STATUS_OK, test_token, sizeof(test_token));
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_GOT_TOKEN);
	assert_memory_equal(h.token, test_token, PROTO_TOKEN_SIZE);
	assert_false(handshake_due(&h, 10 * HANDSHAKE_RESEND_NS));
}

/* An older server: UNKNOWN_OP on the entry, or the whole datagram refused
 * UNSUPPORTED, means no validation. */
static void test_handshake_older_server(void **state)
{
	struct handshake h;
	struct proto_writer w;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	uint32_t len;

	(void)state;
	handshake_begin(&h, 0, 1);
	len = answer(&h, buf, WE_STATUS_UNKNOWN_OP, NULL, 0);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_UNSUPPORTED);

	handshake_begin(&h, 0, 1);
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, HANDSHAKE_ECHO);
	proto_writer_set_status(&w, WE_STATUS_UNSUPPORTED);
	len = proto_writer_finish(&w);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_UNSUPPORTED);
}

/* BUSY, another echo, another op, a token of the wrong size, bytes that are
 * no response: still waiting; a refusal is remembered for the error. */
static void test_handshake_ignores_the_rest(void **state)
{
	struct handshake h;
	struct proto_writer w;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	uint32_t len;

	(void)state;
	handshake_begin(&h, 0, 1);
	len = answer(&h, buf, WE_STATUS_BUSY, NULL, 0);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_WAITING);
	assert_int_equal(h.refused_status, 0);

	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, HANDSHAKE_ECHO + 1);
	proto_writer_append(&w, PROTO_OP_TOKEN, 0, WE_STATUS_OK, 0, NULL, 0, test_token,
			    PROTO_TOKEN_SIZE);
	len = proto_writer_finish(&w);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.rx_other, 1);

	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, HANDSHAKE_ECHO);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, 0, NULL, 0, test_token,
			    PROTO_TOKEN_SIZE);
	len = proto_writer_finish(&w);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.rx_other, 2);

	handshake_rx(&h, h.req, h.req_len); /* a request, not a response */
	assert_int_equal(h.rx_other, 3);
	assert_int_equal(h.state, HANDSHAKE_WAITING);

	len = answer(&h, buf, WE_STATUS_OK, test_token, 8);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_WAITING);
	assert_int_equal(h.refused_status, WE_STATUS_MALFORMED);

	len = answer(&h, buf, WE_STATUS_BAD_REQUEST, NULL, 0);
	handshake_rx(&h, buf, len);
	assert_int_equal(h.state, HANDSHAKE_WAITING);
	assert_int_equal(h.refused_status, WE_STATUS_BAD_REQUEST);
}

/* Tries: one at once, then one per HANDSHAKE_RESEND_NS, to workers 0, 1, 2,
 * 0, ...; none after HANDSHAKE_TIMEOUT_NS, which is when it has expired. */
static void test_handshake_timing(void **state)
{
	const uint64_t t0 = 5000 * MS;
	struct handshake h;
	unsigned tries = 0;

	(void)state;
	handshake_begin(&h, t0, 3);
	assert_int_equal(handshake_next_ns(&h), t0);
	for (uint64_t t = t0; t < t0 + 3 * HANDSHAKE_TIMEOUT_NS; t += MS) {
		if (!handshake_due(&h, t))
			continue;
		assert_int_equal(t, t0 + tries * HANDSHAKE_RESEND_NS);
		assert_int_equal(h.dest, tries % 3);
		assert_int_equal(handshake_next_ns(&h), t + HANDSHAKE_RESEND_NS);
		tries++;
	}
	assert_int_equal(tries, HANDSHAKE_TIMEOUT_NS / HANDSHAKE_RESEND_NS);
	assert_int_equal(h.tries, tries);
	assert_false(handshake_expired(&h, t0 + HANDSHAKE_TIMEOUT_NS - 1));
	assert_true(handshake_expired(&h, t0 + HANDSHAKE_TIMEOUT_NS));
	assert_int_equal(handshake_next_ns(&h), t0 + HANDSHAKE_TIMEOUT_NS);

	/* An engine clock slightly behind the one the handshake began with:
	 * not expired, and the first try leaves once that clock reaches t0. */
	handshake_begin(&h, t0, 1);
	assert_false(handshake_expired(&h, t0 - 3 * MS));
	assert_false(handshake_due(&h, t0 - 3 * MS));
	assert_true(handshake_due(&h, t0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_request),
		cmocka_unit_test(test_handshake_gets_token),
		cmocka_unit_test(test_handshake_older_server),
		cmocka_unit_test(test_handshake_ignores_the_rest),
		cmocka_unit_test(test_handshake_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
