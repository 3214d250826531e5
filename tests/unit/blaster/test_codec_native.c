/* test_codec_native.c - the blaster's native requests decode as the data
 * plane decodes them (lib/proto.c), with the address token when there is
 * one; answers decode into replies matched by opaque, and malformed answers
 * are refused rather than misread. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "codec_native.h"

/* Three requests in one datagram come out of the server's decoder intact:
 * ops, keys, the PUT's value, opaques, durability flags, echo. */
static void test_codec_native_requests(void **state)
{
	uint8_t buf[PROTO_PAYLOAD_MAX];
	struct proto_writer w;
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n;
	uint32_t len;

	(void)state;
	codec_native_begin(&w, buf, sizeof(buf), 0x1122334455667788ull, NULL);
	codec_native_add(&w, PROTO_OP_GET, 0, 7, (const uint8_t *)"k01", 3, NULL, 0);
	codec_native_add(&w, PROTO_OP_PUT, PROTO_DUR_STRONG, 8, (const uint8_t *)"k02", 3,
			 (const uint8_t *)"hello", 5);
	codec_native_add(&w, PROTO_OP_DELETE, 0, 0xffffffffu, (const uint8_t *)"k3", 2, NULL, 0);
	len = codec_native_finish(&w);
	assert_int_equal(len, PROTO_HDR_SIZE + 3 * PROTO_ENTRY_HDR_SIZE + 3 + 3 + 5 + 2);
	assert_int_equal(proto_decode_batch(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(hdr.echo, 0x1122334455667788ull);
	assert_int_equal(reqs[0].op, PROTO_OP_GET);
	assert_int_equal(reqs[0].opaque, 7);
	assert_memory_equal(reqs[0].key, "k01", 3);
	assert_int_equal(reqs[0].status, WE_STATUS_OK);
	assert_int_equal(reqs[1].op, PROTO_OP_PUT);
	assert_int_equal(reqs[1].flags, PROTO_DUR_STRONG);
	assert_int_equal(reqs[1].value_len, 5);
	assert_memory_equal(reqs[1].value, "hello", 5);
	assert_int_equal(reqs[2].op, PROTO_OP_DELETE);
	assert_int_equal(reqs[2].opaque, 0xffffffffu);
	assert_int_equal(reqs[2].key_len, 2);
}

/* fits() stops at PROTO_BATCH_MAX entries and at the payload size. */
static void test_codec_native_fits(void **state)
{
	uint8_t buf[PROTO_PAYLOAD_MAX];
	uint8_t value[PROTO_PAYLOAD_MAX] = {0};
	struct proto_writer w;
	unsigned n = 0;

	(void)state;
	codec_native_begin(&w, buf, sizeof(buf), 0, NULL);
	while (codec_native_fits(&w, 4, 0))
		codec_native_add(&w, PROTO_OP_GET, 0, n++, (const uint8_t *)"kkkk", 4, NULL, 0);
	assert_int_equal(n, PROTO_BATCH_MAX);
	codec_native_begin(&w, buf, sizeof(buf), 0, NULL);
	assert_true(codec_native_fits(&w, 16, PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE -
						     PROTO_ENTRY_HDR_SIZE - 16));
	assert_false(codec_native_fits(&w, 16, PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE -
						      PROTO_ENTRY_HDR_SIZE - 15));
	codec_native_add(&w, PROTO_OP_PUT, 0, 1, (const uint8_t *)"k", 1, value, 1000);
	assert_false(codec_native_fits(&w, 16, 1000));
}

/* With an address token the datagram carries it (TOKEN flag, the 16 bytes
 * right after the header) and the server's decoder finds the same entries
 * behind it; without one, no flag and no token. */
static void test_codec_native_token(void **state)
{
	static const uint8_t token[PROTO_TOKEN_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8,
							9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t buf[PROTO_PAYLOAD_MAX];
	struct proto_writer w;
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n;
	uint32_t len;

	(void)state;
	codec_native_begin(&w, buf, sizeof(buf), 42, token);
	codec_native_add(&w, PROTO_OP_GET, 0, 7, (const uint8_t *)"k01", 3, NULL, 0);
	codec_native_add(&w, PROTO_OP_PUT, 0, 8, (const uint8_t *)"k02", 3,
			 (const uint8_t *)"hello", 5);
	len = codec_native_finish(&w);
	assert_int_equal(len, PROTO_HDR_SIZE + PROTO_TOKEN_SIZE + 2 * PROTO_ENTRY_HDR_SIZE + 11);
	assert_int_equal(buf[3], PROTO_F_TOKEN);
	assert_memory_equal(buf + PROTO_HDR_SIZE, token, PROTO_TOKEN_SIZE);
	assert_int_equal(proto_decode_batch(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(hdr.echo, 42);
	assert_ptr_equal(proto_batch_token(buf, &hdr), buf + PROTO_HDR_SIZE);
	assert_memory_equal(reqs[0].key, "k01", 3);
	assert_int_equal(reqs[1].opaque, 8);
	assert_memory_equal(reqs[1].value, "hello", 5);

	codec_native_begin(&w, buf, sizeof(buf), 42, NULL);
	codec_native_add(&w, PROTO_OP_GET, 0, 7, (const uint8_t *)"k01", 3, NULL, 0);
	len = codec_native_finish(&w);
	assert_int_equal(len, PROTO_HDR_SIZE + PROTO_ENTRY_HDR_SIZE + 3);
	assert_int_equal(buf[3], 0);
	assert_int_equal(proto_decode_batch(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_null(proto_batch_token(buf, &hdr));
}

/* The token costs entries PROTO_TOKEN_SIZE bytes of the payload: the largest
 * single entry is 16 bytes smaller, and a batch of large entries holds what
 * fits in PROTO_PAYLOAD_MAX - 16, never a datagram over the MTU. */
static void test_codec_native_token_budget(void **state)
{
	static const uint8_t token[PROTO_TOKEN_SIZE] = {0xaa};
	const uint32_t room = PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_TOKEN_SIZE;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	uint8_t value[PROTO_PAYLOAD_MAX] = {0};
	struct proto_writer w;
	unsigned n = 0;

	(void)state;
	codec_native_begin(&w, buf, sizeof(buf), 0, token);
	assert_true(codec_native_fits(&w, 16, room - PROTO_ENTRY_HDR_SIZE - 16));
	assert_false(codec_native_fits(&w, 16, room - PROTO_ENTRY_HDR_SIZE - 15));
	/* Entries of 12 + 16 + 100 bytes: 11 fit in 1440 bytes, 12 do not. */
	while (codec_native_fits(&w, 16, 100))
		codec_native_add(&w, PROTO_OP_PUT, 0, n++, (const uint8_t *)"k000000000000000",
				 16, value, 100);
	assert_int_equal(n, room / (PROTO_ENTRY_HDR_SIZE + 16 + 100));
	assert_true(codec_native_finish(&w) <= PROTO_PAYLOAD_MAX);
}

/* Build an answer datagram the way the data plane does. */
static uint32_t build_answer(uint8_t *buf, uint32_t cap)
{
	struct proto_writer w;

	proto_writer_init(&w, buf, cap, PROTO_F_RESPONSE, 99);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, 10, NULL, 0, "value", 5);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_NOT_FOUND, 11, NULL, 0, NULL, 0);
	proto_writer_append(&w, PROTO_OP_PUT, 0, WE_STATUS_BUSY, 12, NULL, 0, NULL, 0);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, 13, NULL, 0, NULL, 0);
	return proto_writer_finish(&w);
}

/* Answers: one reply per entry, a value only for a GET that found one (an
 * empty value is still a value). */
static void test_codec_native_answers(void **state)
{
	uint8_t buf[PROTO_PAYLOAD_MAX];
	struct codec_reply r[PROTO_BATCH_MAX];
	uint32_t len = build_answer(buf, sizeof(buf));
	uint8_t status;
	uint64_t echo;
	unsigned n;

	(void)state;
	assert_int_equal(codec_native_decode(buf, len, r, PROTO_BATCH_MAX, &n, &status, &echo), 0);
	assert_int_equal(n, 4);
	assert_int_equal(status, WE_STATUS_OK);
	assert_int_equal(echo, 99);
	assert_int_equal(r[0].opaque, 10);
	assert_true(r[0].has_value);
	assert_int_equal(r[0].value_len, 5);
	assert_memory_equal(r[0].value, "value", 5);
	assert_int_equal(r[1].status, WE_STATUS_NOT_FOUND);
	assert_false(r[1].has_value);
	assert_int_equal(r[2].op, PROTO_OP_PUT);
	assert_int_equal(r[2].status, WE_STATUS_BUSY);
	assert_false(r[2].has_value);
	assert_true(r[3].has_value);
	assert_int_equal(r[3].value_len, 0);
}

/* A header-only error reply has no entries and carries its status. */
static void test_codec_native_header_only(void **state)
{
	uint8_t buf[64];
	struct proto_writer w;
	struct codec_reply r[PROTO_BATCH_MAX];
	uint8_t status;
	uint64_t echo;
	unsigned n = 5;
	uint32_t len;

	(void)state;
	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, 5);
	proto_writer_set_status(&w, WE_STATUS_MALFORMED);
	len = proto_writer_finish(&w);
	assert_int_equal(codec_native_decode(buf, len, r, PROTO_BATCH_MAX, &n, &status, &echo), 0);
	assert_int_equal(n, 0);
	assert_int_equal(status, WE_STATUS_MALFORMED);
	assert_int_equal(echo, 5);
}

/* Malformed answers: truncated anywhere, bad magic, a request instead of a
 * response, wrong version, an entry running past the end, trailing bytes,
 * entry flags set. Each is refused whole. */
static void test_codec_native_malformed(void **state)
{
	uint8_t good[PROTO_PAYLOAD_MAX], bad[PROTO_PAYLOAD_MAX + 8];
	struct codec_reply r[PROTO_BATCH_MAX];
	uint32_t len = build_answer(good, sizeof(good));
	uint8_t status;
	uint64_t echo;
	unsigned n;

	(void)state;
	for (uint32_t cut = 0; cut < len; cut++)
		assert_int_equal(codec_native_decode(good, cut, r, PROTO_BATCH_MAX, &n, &status,
						     &echo), -EBADMSG);
	memcpy(bad, good, len);
	bad[0] = 'X';
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
	memcpy(bad, good, len);
	bad[3] = 0; /* not a response */
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
	memcpy(bad, good, len);
	bad[2] = 2; /* version */
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
	memcpy(bad, good, len);
	bad[PROTO_HDR_SIZE + 4] = 200; /* first entry's value_len past the end */
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
	memcpy(bad, good, len);
	bad[len] = 0; /* one trailing byte */
	assert_int_equal(codec_native_decode(bad, len + 1, r, PROTO_BATCH_MAX, &n, &status,
					     &echo), -EBADMSG);
	memcpy(bad, good, len);
	bad[PROTO_HDR_SIZE + 1] = 1; /* entry flags */
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
	memcpy(bad, good, len);
	bad[4] = 65; /* count above the batch maximum */
	bad[5] = 0;
	assert_int_equal(codec_native_decode(bad, len, r, PROTO_BATCH_MAX, &n, &status, &echo),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_native_requests),
		cmocka_unit_test(test_codec_native_fits),
		cmocka_unit_test(test_codec_native_token),
		cmocka_unit_test(test_codec_native_token_budget),
		cmocka_unit_test(test_codec_native_answers),
		cmocka_unit_test(test_codec_native_header_only),
		cmocka_unit_test(test_codec_native_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
