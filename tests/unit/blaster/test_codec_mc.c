/* test_codec_mc.c - memcached UDP requests are byte-exact, every answer kind
 * maps to its status, malformed answers are refused, and answers split over
 * several datagrams are put together in any arrival order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec_mc.h"
#include "we_status.h"
#include "workload.h"

static const uint8_t *u8(const char *s)
{
	return (const uint8_t *)s;
}

/* Requests: frame header (id, seq 0, total 1, reserved 0, big-endian), then
 * the ASCII command, exactly. */
static void test_codec_mc_encode(void **state)
{
	uint8_t buf[256];
	uint32_t len;

	(void)state;
	len = codec_mc_encode_get(buf, sizeof(buf), 0x1234, u8("k0042"), 5);
	assert_int_equal(len, 8 + 11);
	assert_memory_equal(buf, "\x12\x34\x00\x00\x00\x01\x00\x00", 8);
	assert_memory_equal(buf + 8, "get k0042\r\n", 11);

	len = codec_mc_encode_set(buf, sizeof(buf), 0xfffe, u8("k1"), 2, u8("abcdefghij"), 10);
	assert_int_equal(len, codec_mc_set_size(2, 10));
	assert_memory_equal(buf, "\xff\xfe\x00\x00\x00\x01\x00\x00", 8);
	assert_memory_equal(buf + 8, "set k1 0 0 10\r\nabcdefghij\r\n", len - 8);

	len = codec_mc_encode_set(buf, sizeof(buf), 1, u8("k1"), 2, u8(""), 0);
	assert_memory_equal(buf + 8, "set k1 0 0 0\r\n\r\n", len - 8);

	len = codec_mc_encode_delete(buf, sizeof(buf), 7, u8("k9"), 2);
	assert_memory_equal(buf + 8, "delete k9\r\n", len - 8);

	/* Too small a buffer: nothing written, 0 returned. */
	assert_int_equal(codec_mc_encode_get(buf, 18, 1, u8("k0042"), 5), 0);
	assert_int_equal(codec_mc_encode_set(buf, codec_mc_set_size(2, 10) - 1, 1, u8("k1"), 2,
					     u8("abcdefghij"), 10), 0);
}

/* Frame headers of answers: fields read big-endian; impossible ones refused. */
static void test_codec_mc_frame(void **state)
{
	struct mc_frame f;

	(void)state;
	assert_int_equal(codec_mc_frame_decode(u8("\x01\x02\x00\x03\x00\x05\x00\x00"), 8, &f), 0);
	assert_int_equal(f.request_id, 0x0102);
	assert_int_equal(f.seq, 3);
	assert_int_equal(f.total, 5);
	assert_int_equal(codec_mc_frame_decode(u8("\x01\x02\x00\x03\x00\x05\x00"), 7, &f),
			 -EBADMSG);
	assert_int_equal(codec_mc_frame_decode(u8("\x01\x02\x00\x00\x00\x00\x00\x00"), 8, &f),
			 -EBADMSG); /* total 0 */
	assert_int_equal(codec_mc_frame_decode(u8("\x01\x02\x00\x05\x00\x05\x00\x00"), 8, &f),
			 -EBADMSG); /* seq >= total */
}

static int parse(const char *s, uint8_t op, struct codec_reply *r)
{
	return codec_mc_parse_reply(u8(s), (uint32_t)strlen(s), op, r);
}

/* Every answer kind maps to its status; a GET hit carries key and value. */
static void test_codec_mc_replies(void **state)
{
	struct codec_reply r;

	(void)state;
	assert_int_equal(parse("VALUE k0042 0 5\r\nhello\r\nEND\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_int_equal(r.status, WE_STATUS_OK);
	assert_true(r.has_value);
	assert_int_equal(r.value_len, 5);
	assert_memory_equal(r.value, "hello", 5);
	assert_int_equal(r.key_len, 5);
	assert_memory_equal(r.key, "k0042", 5);
	/* With a cas field, and with \r\n inside the data (length-delimited). */
	assert_int_equal(parse("VALUE k 7 4 123\r\na\r\nb\r\nEND\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_int_equal(r.value_len, 4);
	assert_memory_equal(r.value, "a\r\nb", 4);
	assert_int_equal(parse("VALUE k 0 0\r\n\r\nEND\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_true(r.has_value);
	assert_int_equal(r.value_len, 0);

	assert_int_equal(parse("END\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_int_equal(r.status, WE_STATUS_NOT_FOUND);
	assert_false(r.has_value);
	assert_int_equal(parse("STORED\r\n", WORKLOAD_OP_PUT, &r), 0);
	assert_int_equal(r.status, WE_STATUS_OK);
	assert_int_equal(parse("NOT_STORED\r\n", WORKLOAD_OP_PUT, &r), 0);
	assert_int_equal(r.status, WE_STATUS_NO_SPACE);
	assert_int_equal(parse("DELETED\r\n", WORKLOAD_OP_DELETE, &r), 0);
	assert_int_equal(r.status, WE_STATUS_OK);
	assert_int_equal(parse("NOT_FOUND\r\n", WORKLOAD_OP_DELETE, &r), 0);
	assert_int_equal(r.status, WE_STATUS_NOT_FOUND);
	assert_int_equal(parse("ERROR\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_int_equal(r.status, WE_STATUS_UNKNOWN_OP);
	assert_int_equal(parse("CLIENT_ERROR bad data chunk\r\n", WORKLOAD_OP_PUT, &r), 0);
	assert_int_equal(r.status, WE_STATUS_BAD_REQUEST);
	assert_int_equal(parse("SERVER_ERROR object too large for cache\r\n", WORKLOAD_OP_PUT, &r),
			 0);
	assert_int_equal(r.status, WE_STATUS_VALUE_TOO_LARGE);
	assert_int_equal(parse("SERVER_ERROR out of memory storing object\r\n", WORKLOAD_OP_PUT,
			       &r), 0);
	assert_int_equal(r.status, WE_STATUS_NO_SPACE);
	assert_int_equal(parse("SERVER_ERROR busy\r\n", WORKLOAD_OP_GET, &r), 0);
	assert_int_equal(r.status, WE_STATUS_BUSY);
}

/* Malformed or mismatched answers are refused: wrong kind for the op,
 * missing CRLF, short or long data, junk after END, bad numbers, no key. */
static void test_codec_mc_malformed(void **state)
{
	static const char *const bad_get[] = {
		"", "END", "END\r\nEND\r\n", "STORED\r\n", "VALUE k 0 5\r\nhell\r\nEND\r\n",
		"VALUE k 0 5\r\nhello!\r\nEND\r\n", "VALUE k 0 5\r\nhello\r\nEND\r\nX",
		"VALUE k 0 5\r\nhello\r\nEND", "VALUE k 0 5\nhello\r\nEND\r\n",
		"VALUE  0 5\r\nhello\r\nEND\r\n", "VALUE k x 5\r\nhello\r\nEND\r\n",
		"VALUE k 0 -5\r\nhello\r\nEND\r\n", "VALUE k 0 99999999999999999999999\r\n",
		"VALUE k 99999999999 5\r\nhello\r\nEND\r\n", "VALUE k 0 5\r\nhello\r\nEN\r\n",
		"VALUE k 0 5 \r\nhello\r\nEND\r\n", "VALUE k\r\n", "VALUE", "ERROR\r\nx",
		"CLIENT_ERROR a\nb\r\n", "SERVER_ERROR", "VALUE k 0 18446744073709551615\r\n",
	};
	struct codec_reply r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_get) / sizeof(bad_get[0]); i++)
		if (parse(bad_get[i], WORKLOAD_OP_GET, &r) != -EBADMSG)
			fail_msg("accepted as a GET answer: \"%s\"", bad_get[i]);
	assert_int_equal(parse("END\r\n", WORKLOAD_OP_PUT, &r), -EBADMSG);
	assert_int_equal(parse("DELETED\r\n", WORKLOAD_OP_PUT, &r), -EBADMSG);
	assert_int_equal(parse("STORED\r\n", WORKLOAD_OP_DELETE, &r), -EBADMSG);
	assert_int_equal(parse("STORED\r\n", 0, &r), -EBADMSG);
	assert_int_equal(parse("STORED\r\n\r\n", WORKLOAD_OP_PUT, &r), -EBADMSG);
	/* A key longer than 250 bytes cannot be ours. */
	{
		char big[400];

		snprintf(big, sizeof(big), "VALUE %0260d 0 1\r\nx\r\nEND\r\n", 1);
		assert_int_equal(parse(big, WORKLOAD_OP_GET, &r), -EBADMSG);
	}
}

/* A 3-datagram answer put together in any order, duplicates ignored; a
 * single-datagram answer passes straight through. */
static void test_codec_mc_reassembly(void **state)
{
	static const int orders[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}};
	struct codec_mc_reasm *ra = malloc(sizeof(*ra));
	uint8_t whole[3000];
	const uint8_t *out;
	uint32_t out_len;

	(void)state;
	assert_int_equal(codec_mc_reasm_init(ra), 0);
	for (uint32_t i = 0; i < sizeof(whole); i++)
		whole[i] = (uint8_t)(i * 7);
	for (size_t o = 0; o < 3; o++) {
		for (int j = 0; j < 3; j++) {
			int seq = orders[o][j];
			struct mc_frame f = {.request_id = (uint16_t)(40 + o), .seq = (uint16_t)seq,
					     .total = 3};
			uint32_t off = (uint32_t)seq * 1392;
			uint32_t len = seq == 2 ? sizeof(whole) - 2 * 1392 : 1392;
			int rc = codec_mc_reasm_add(ra, &f, whole + off, len, (uint64_t)j, &out,
						    &out_len);

			assert_int_equal(rc, j == 2 ? 1 : 0);
			if (j == 0) /* a duplicate changes nothing */
				assert_int_equal(codec_mc_reasm_add(ra, &f, whole + off, len, 0,
								    &out, &out_len), 0);
		}
		assert_int_equal(out_len, sizeof(whole));
		assert_memory_equal(out, whole, sizeof(whole));
	}
	{
		struct mc_frame f = {.request_id = 1, .seq = 0, .total = 1};

		assert_int_equal(codec_mc_reasm_add(ra, &f, whole, 10, 0, &out, &out_len), 1);
		assert_ptr_equal(out, whole);
		assert_int_equal(out_len, 10);
	}
	codec_mc_reasm_fini(ra);
	free(ra);
}

/* Fragments that cannot be placed are refused; partial answers beyond the
 * slot count evict the oldest. */
static void test_codec_mc_reassembly_limits(void **state)
{
	struct codec_mc_reasm *ra = malloc(sizeof(*ra));
	uint8_t data[MC_FRAG_MAX + 1] = {0};
	const uint8_t *out;
	uint32_t out_len;
	struct mc_frame f = {.request_id = 9, .seq = 0, .total = MC_REASM_FRAGS_MAX + 1};

	(void)state;
	assert_int_equal(codec_mc_reasm_init(ra), 0);
	assert_int_equal(codec_mc_reasm_add(ra, &f, data, 10, 0, &out, &out_len), -EBADMSG);
	f.total = 2;
	assert_int_equal(codec_mc_reasm_add(ra, &f, data, MC_FRAG_MAX + 1, 0, &out, &out_len),
			 -EBADMSG);
	assert_int_equal(codec_mc_reasm_add(ra, &f, data, 0, 0, &out, &out_len), -EBADMSG);
	assert_int_equal(codec_mc_reasm_add(ra, &f, data, 10, 0, &out, &out_len), 0);
	f.total = 3; /* same id, total changed */
	f.seq = 1;
	assert_int_equal(codec_mc_reasm_add(ra, &f, data, 10, 0, &out, &out_len), -EBADMSG);
	for (uint16_t id = 100; id < 100 + MC_REASM_SLOTS + 3; id++) {
		struct mc_frame g = {.request_id = id, .seq = 0, .total = 2};

		assert_int_equal(codec_mc_reasm_add(ra, &g, data, 10, id, &out, &out_len), 0);
	}
	assert_int_equal(ra->evicted, 3);
	codec_mc_reasm_fini(ra);
	free(ra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_mc_encode),
		cmocka_unit_test(test_codec_mc_frame),
		cmocka_unit_test(test_codec_mc_replies),
		cmocka_unit_test(test_codec_mc_malformed),
		cmocka_unit_test(test_codec_mc_reassembly),
		cmocka_unit_test(test_codec_mc_reassembly_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
