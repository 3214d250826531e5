/* test_proto.c - the wire codec: writer -> decoder round trips, every
 * malformed class, per-entry statuses, response decoding, the worked example
 * of docs/protocol.md. The randomized tests are in test_proto_random.c.
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

#include <cmocka.h>

#include "keyhash.h"
#include "proto.h"
#include "region_map.h"
#include "we_test.h"
#include "proto_test_util.h"

#define BUF_CAP 4096


/* A request datagram of one entry. */
static uint32_t one_entry(uint8_t *buf, uint8_t op, uint8_t flags, const char *key,
			  uint32_t key_len, const uint8_t *value, uint32_t value_len)
{
	struct proto_writer w;

	proto_writer_init(&w, buf, BUF_CAP, 0, 0x0102030405060708ull);
	assert_true(proto_writer_fits(&w, key_len, value_len));
	proto_writer_append(&w, op, flags, 0, 77, key, key_len, value, value_len);
	return proto_writer_finish(&w);
}

/* Writer then decoder give back every field of every op, with each
 * durability value, and the entry points into the datagram. */
static void test_roundtrip_each_op(void **state)
{
	static const uint8_t ops[] = {PROTO_OP_GET, PROTO_OP_PUT, PROTO_OP_DELETE, PROTO_OP_PING};
	uint8_t buf[BUF_CAP];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	const uint8_t value[] = "some value";
	unsigned n;

	(void)state;
	for (unsigned i = 0; i < WE_ARRAY_SIZE(ops); i++) {
		for (uint8_t dur = 0; dur <= PROTO_ENTRY_F_DUR_MASK; dur++) {
			uint32_t vlen = ops[i] == PROTO_OP_PUT ? sizeof(value) : 0;
			uint32_t len = one_entry(buf, ops[i], dur, "key-1", 5, value, vlen);

			assert_int_equal(len, PROTO_HDR_SIZE + PROTO_ENTRY_HDR_SIZE + 5 + vlen);
			assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
			assert_int_equal(n, 1);
			assert_int_equal(hdr.version, PROTO_VERSION);
			assert_int_equal(hdr.flags, 0);
			assert_int_equal(hdr.count, 1);
			assert_true(hdr.echo == 0x0102030405060708ull);
			assert_int_equal(reqs[0].op, ops[i]);
			assert_int_equal(reqs[0].flags, dur);
			assert_int_equal(reqs[0].status, WE_STATUS_OK);
			assert_int_equal(reqs[0].opaque, 77);
			assert_int_equal(reqs[0].key_len, 5);
			assert_ptr_equal(reqs[0].key, buf + PROTO_HDR_SIZE + PROTO_ENTRY_HDR_SIZE);
			assert_memory_equal(reqs[0].key, "key-1", 5);
			assert_int_equal(reqs[0].value_len, vlen);
			assert_ptr_equal(reqs[0].value, reqs[0].key + 5);
			if (vlen)
				assert_memory_equal(reqs[0].value, value, vlen);
		}
	}
}

/* A 250-byte key is accepted, 251..255 are answered KEY_TOO_LONG, 0 too. */
static void test_key_limits(void **state)
{
	uint8_t buf[BUF_CAP];
	char key[256];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n;
	uint32_t len;

	(void)state;
	memset(key, 'k', sizeof(key));
	len = one_entry(buf, PROTO_OP_GET, 0, key, PROTO_KEY_MAX, 0, 0);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(reqs[0].status, WE_STATUS_OK);
	assert_int_equal(reqs[0].key_len, PROTO_KEY_MAX);
	for (uint32_t kl = PROTO_KEY_MAX + 1; kl <= 255; kl++) {
		len = one_entry(buf, PROTO_OP_GET, 0, key, kl, 0, 0);
		assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
		assert_int_equal(reqs[0].status, WE_STATUS_KEY_TOO_LONG);
	}
	len = one_entry(buf, PROTO_OP_PUT, 0, key, 0, (const uint8_t *)"v", 1);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(reqs[0].status, WE_STATUS_KEY_TOO_LONG);
}

/* The largest value fills a 1472-byte datagram exactly; a longer key no
 * longer fits that datagram; a larger value (possible only in a datagram
 * longer than 1472 bytes) is answered VALUE_TOO_LARGE. */
static void test_value_limits(void **state)
{
	static uint8_t value[PROTO_VALUE_MAX + 2];
	uint8_t buf[BUF_CAP];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n;
	uint32_t len;

	(void)state;
	assert_int_equal(PROTO_VALUE_MAX, 1443);
	memset(value, 0xab, sizeof(value));
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, 0, 9);
	assert_false(proto_writer_fits(&w, 2, PROTO_VALUE_MAX));
	assert_false(proto_writer_fits(&w, 1, PROTO_VALUE_MAX + 1));
	assert_true(proto_writer_fits(&w, 1, PROTO_VALUE_MAX));
	proto_writer_append(&w, PROTO_OP_PUT, 0, 0, 1, "k", 1, value, PROTO_VALUE_MAX);
	len = proto_writer_finish(&w);
	assert_int_equal(len, PROTO_PAYLOAD_MAX);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(reqs[0].status, WE_STATUS_OK);
	assert_int_equal(reqs[0].value_len, PROTO_VALUE_MAX);
	assert_memory_equal(reqs[0].value, value, PROTO_VALUE_MAX);

	len = one_entry(buf, PROTO_OP_PUT, 0, "k", 1, value, PROTO_VALUE_MAX + 1);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(reqs[0].status, WE_STATUS_VALUE_TOO_LARGE);
}

/* 64 entries decode; the writer refuses a 65th; a header claiming 65 (or
 * 0, or 65535) entries is MALFORMED. */
static void test_batch_limits(void **state)
{
	uint8_t buf[BUF_CAP];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n;
	uint32_t len;
	char key[8];

	(void)state;
	proto_writer_init(&w, buf, BUF_CAP, 0, 5);
	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_true(proto_writer_fits(&w, (uint32_t)strlen(key), 0));
		proto_writer_append(&w, PROTO_OP_GET, 0, 0, i, key, (uint32_t)strlen(key), 0, 0);
	}
	assert_false(proto_writer_fits(&w, 1, 0));
	len = proto_writer_finish(&w);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(n, PROTO_BATCH_MAX);
	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(reqs[i].opaque, i);
		assert_int_equal(reqs[i].key_len, strlen(key));
		assert_memory_equal(reqs[i].key, key, strlen(key));
		assert_int_equal(reqs[i].status, WE_STATUS_OK);
	}
	/* Claim 65 entries and append a 65th so only the count is wrong. */
	proto_writer_init(&w, buf, BUF_CAP, 0, 5);
	for (unsigned i = 0; i < PROTO_BATCH_MAX; i++)
		proto_writer_append(&w, PROTO_OP_GET, 0, 0, i, "k", 1, 0, 0);
	len = proto_writer_finish(&w);
	memcpy(buf + len, buf + PROTO_HDR_SIZE, PROTO_ENTRY_HDR_SIZE + 1);
	len += PROTO_ENTRY_HDR_SIZE + 1;
	buf[4] = PROTO_BATCH_MAX + 1;
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_MALFORMED);
	assert_int_equal(n, 0);
}

/* A datagram of two valid entries ("GET a", "PUT bb=vvv") to mutate. */
static uint32_t two_entries(uint8_t *buf)
{
	struct proto_writer w;

	proto_writer_init(&w, buf, BUF_CAP, 0, 0xfeedfacecafebeefull);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "a", 1, 0, 0);
	proto_writer_append(&w, PROTO_OP_PUT, 0, 0, 2, "bb", 2, "vvv", 3);
	return proto_writer_finish(&w);
}

/* Offsets inside two_entries(). */
#define E0 PROTO_HDR_SIZE
#define E1 (E0 + PROTO_ENTRY_HDR_SIZE + 1)
#define E_END (E1 + PROTO_ENTRY_HDR_SIZE + 2 + 3)

struct malformed_case {
	const char *name;
	int byte; /* -1: none */
	uint8_t value;
	int len_delta; /* bytes cut (negative) or appended (positive) */
	enum proto_decode_result expect;
};

static const struct malformed_case malformed_cases[] = {
	{"empty", -1, 0, -E_END, PROTO_DECODE_TRUNCATED},
	{"1 byte", -1, 0, -(E_END - 1), PROTO_DECODE_TRUNCATED},
	{"15 bytes", -1, 0, -(E_END - 15), PROTO_DECODE_TRUNCATED},
	{"bad magic 0", 0, 'X', 0, PROTO_DECODE_BAD_MAGIC},
	{"bad magic 1", 1, 'e', 0, PROTO_DECODE_BAD_MAGIC},
	{"response flag", 3, PROTO_F_RESPONSE, 0, PROTO_DECODE_NOT_REQUEST},
	{"response+auth", 3, PROTO_F_RESPONSE | PROTO_F_AUTH, 0, PROTO_DECODE_NOT_REQUEST},
	{"version 0", 2, 0, 0, PROTO_DECODE_BAD_VERSION},
	{"version 2", 2, 2, 0, PROTO_DECODE_BAD_VERSION},
	{"version 255", 2, 255, 0, PROTO_DECODE_BAD_VERSION},
	{"auth flag", 3, PROTO_F_AUTH, 0, PROTO_DECODE_UNSUPPORTED},
	{"flag 0x08", 3, 0x08, 0, PROTO_DECODE_UNSUPPORTED},
	{"flag 0x80", 3, 0x80, 0, PROTO_DECODE_UNSUPPORTED},
	{"count 0", 4, 0, 0, PROTO_DECODE_MALFORMED},
	{"count 3 (entry header overruns)", 4, 3, 0, PROTO_DECODE_MALFORMED},
	{"count 1 (trailing entry)", 4, 1, 0, PROTO_DECODE_MALFORMED},
	{"count high byte", 5, 1, 0, PROTO_DECODE_MALFORMED},
	{"batch status", 6, 1, 0, PROTO_DECODE_MALFORMED},
	{"reserved", 7, 1, 0, PROTO_DECODE_MALFORMED},
	{"entry status", E1 + 3, 1, 0, PROTO_DECODE_MALFORMED},
	{"first entry status", E0 + 3, 0xff, 0, PROTO_DECODE_MALFORMED},
	{"entry header cut", -1, 0, -(E_END - E1 - 5), PROTO_DECODE_MALFORMED},
	{"key overruns", E1 + 2, 200, 0, PROTO_DECODE_MALFORMED},
	{"key overruns by one", E1 + 2, 3, 0, PROTO_DECODE_MALFORMED},
	{"value overruns by one", E1 + 4, 4, 0, PROTO_DECODE_MALFORMED},
	{"value_len near 2^32", E1 + 7, 0xff, 0, PROTO_DECODE_MALFORMED},
	{"first value_len swallows all", E0 + 4, E_END - E0 - 13, 0, PROTO_DECODE_MALFORMED},
	{"value cut", -1, 0, -1, PROTO_DECODE_MALFORMED},
	{"trailing byte", -1, 0, 1, PROTO_DECODE_MALFORMED},
	{"trailing entry header", -1, 0, PROTO_ENTRY_HDR_SIZE, PROTO_DECODE_MALFORMED},
};

/* Each malformed class gives its result, no entries, the header-only reply
 * status its class calls for, and a reply (16 bytes) no larger than the
 * datagram that caused it. */
static void test_malformed_classes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < WE_ARRAY_SIZE(malformed_cases); c++) {
		const struct malformed_case *mc = &malformed_cases[c];
		uint8_t buf[BUF_CAP];
		struct proto_batch_hdr hdr;
		struct proto_request reqs[PROTO_BATCH_MAX];
		unsigned n = 99;
		uint32_t len = two_entries(buf);
		enum proto_decode_result r;
		enum we_status reply;

		assert_int_equal(len, E_END);
		if (mc->byte >= 0)
			buf[mc->byte] = mc->value;
		if (mc->len_delta > 0)
			memset(buf + len, 0, (size_t)mc->len_delta);
		len = (uint32_t)((int)len + mc->len_delta);
		r = decode_req(buf, len, &hdr, reqs, &n);
		if (r != mc->expect)
			fail_msg("%s: got %s, want %s", mc->name, proto_decode_result_name(r),
				 proto_decode_result_name(mc->expect));
		assert_int_equal(n, 0);
		reply = proto_decode_reply_status(r);
		switch (r) {
		case PROTO_DECODE_BAD_VERSION:
			assert_int_equal(reply, WE_STATUS_BAD_VERSION);
			break;
		case PROTO_DECODE_UNSUPPORTED:
			assert_int_equal(reply, WE_STATUS_UNSUPPORTED);
			break;
		case PROTO_DECODE_MALFORMED:
			assert_int_equal(reply, WE_STATUS_MALFORMED);
			break;
		default:
			assert_int_equal(reply, WE_STATUS_OK); /* dropped, no reply */
			break;
		}
		if (reply != WE_STATUS_OK) {
			/* No amplification, and the echo is known for the reply. */
			assert_true(PROTO_HDR_SIZE <= len);
			assert_true(hdr.echo == 0xfeedfacecafebeefull);
		}
	}
}

struct entry_case {
	uint8_t op, flags, key_len;
	uint32_t value_len;
	uint8_t expect;
};

/* Per-entry statuses, including which test wins when several fail. */
static const struct entry_case entry_cases[] = {
	{PROTO_OP_GET, 0, 3, 0, WE_STATUS_OK},
	{PROTO_OP_PUT, PROTO_DUR_STRONG, 3, 9, WE_STATUS_OK},
	{PROTO_OP_PUT, 0, 3, 0, WE_STATUS_OK}, /* an empty value is a value */
	{PROTO_OP_DELETE, PROTO_DUR_WEAK, 3, 0, WE_STATUS_OK},
	{PROTO_OP_PING, 0, 1, 0, WE_STATUS_OK},
	{0, 0, 3, 0, WE_STATUS_UNKNOWN_OP},
	{PROTO_OP_TOKEN, 0, 3, 0, WE_STATUS_OK},
	{PROTO_OP_TOKEN, 0, 3, 16, WE_STATUS_BAD_REQUEST},
	{7, 0, 3, 0, WE_STATUS_UNKNOWN_OP},
	{255, 0, 3, 0, WE_STATUS_UNKNOWN_OP},
	{0, 0xff, 0, 5, WE_STATUS_UNKNOWN_OP},
	{PROTO_OP_GET, 0, 0, 0, WE_STATUS_KEY_TOO_LONG},
	{PROTO_OP_GET, 0x80, 0, 4, WE_STATUS_KEY_TOO_LONG},
	{PROTO_OP_PING, 0, 0, 0, WE_STATUS_KEY_TOO_LONG},
	{PROTO_OP_QUANTUM_GET, 0, 251, 0, WE_STATUS_KEY_TOO_LONG},
	{PROTO_OP_GET, 0, 3, 1, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_DELETE, 0, 3, 7, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_PING, 0, 3, 2, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_GET, 0x04, 3, 0, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_PUT, 0x80, 3, 2, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_QUANTUM_GET, 0x10, 3, 0, WE_STATUS_BAD_REQUEST},
	{PROTO_OP_QUANTUM_GET, 0, 3, 0, WE_STATUS_UNSUPPORTED},
	{PROTO_OP_QUANTUM_GET, 0, 3, 6, WE_STATUS_UNSUPPORTED},
	{PROTO_OP_PUT, 0, 1, PROTO_VALUE_MAX, WE_STATUS_OK},
	{PROTO_OP_PUT, 0, 1, PROTO_VALUE_MAX + 1, WE_STATUS_VALUE_TOO_LARGE},
	{PROTO_OP_GET, 0, 1, PROTO_VALUE_MAX + 1, WE_STATUS_BAD_REQUEST},
};

/* Entries with errors do not spoil the batch: each gets its own status, the
 * others stay OK; every error answer (12 bytes) fits in its entry's size. */
static void test_entry_statuses(void **state)
{
	static uint8_t buf[64 * 1024];
	static uint8_t filler[PROTO_VALUE_MAX + 1];
	char key[256];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n, nc = WE_ARRAY_SIZE(entry_cases);
	uint32_t len;

	(void)state;
	assert_true(nc < PROTO_BATCH_MAX);
	memset(key, 'q', sizeof(key));
	proto_writer_init(&w, buf, sizeof(buf), 0, 1);
	for (unsigned i = 0; i < nc; i++) {
		const struct entry_case *ec = &entry_cases[i];

		proto_writer_append(&w, ec->op, ec->flags, 0, 1000 + i, key, ec->key_len, filler,
				    ec->value_len);
	}
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "ok", 2, 0, 0);
	len = proto_writer_finish(&w);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(n, nc + 1);
	for (unsigned i = 0; i < nc; i++) {
		const struct entry_case *ec = &entry_cases[i];
		uint32_t entry_size = PROTO_ENTRY_HDR_SIZE + reqs[i].key_len + reqs[i].value_len;

		if (reqs[i].status != ec->expect)
			fail_msg("case %u (op %u flags %#x key_len %u value_len %u): got %s, want %s",
				 i, ec->op, ec->flags, ec->key_len, ec->value_len,
				 we_status_name(reqs[i].status), we_status_name(ec->expect));
		assert_int_equal(reqs[i].opaque, 1000 + i);
		if (reqs[i].status != WE_STATUS_OK)
			assert_true(PROTO_ENTRY_HDR_SIZE <= entry_size);
	}
	assert_int_equal(reqs[nc].status, WE_STATUS_OK);
}

/* Decoding does not depend on the datagram's alignment (no unaligned loads:
 * UBSan would report them). */
static void test_unaligned(void **state)
{
	static uint8_t raw[BUF_CAP + 8];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n;

	(void)state;
	for (unsigned shift = 1; shift < 8; shift++) {
		uint32_t len = two_entries(raw + shift);

		assert_int_equal(proto_decode_batch(raw + shift, len, &hdr, reqs, PROTO_BATCH_MAX,
						    &n),
				 PROTO_DECODE_OK);
		assert_int_equal(n, 2);
		assert_int_equal(reqs[1].value_len, 3);
		assert_int_equal(reqs[1].opaque, 2);
		assert_true(hdr.echo == 0xfeedfacecafebeefull);
	}
}

/* Responses: statuses of every value pass through, key_len 0 is fine,
 * header-only replies (count 0) decode; requests, nonzero entry flags and
 * over-long keys are refused. */
static void test_response_decode(void **state)
{
	uint8_t buf[BUF_CAP];
	struct proto_batch_hdr hdr;
	struct proto_request ents[PROTO_BATCH_MAX];
	struct proto_writer w;
	char long_key[PROTO_KEY_MAX + 1];
	unsigned n;
	uint32_t len;

	(void)state;
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 42);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, 1, 0, 0, "hello", 5);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_NOT_FOUND, 2, 0, 0, 0, 0);
	proto_writer_append(&w, 200, 0, 255, 3, 0, 0, 0, 0);
	proto_writer_append(&w, PROTO_OP_QUANTUM_GET, 0, WE_STATUS_OK, 4, "x", 1, "y", 1);
	len = proto_writer_finish(&w);
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_OK);
	assert_int_equal(n, 4);
	assert_int_equal(hdr.flags, PROTO_F_RESPONSE);
	assert_true(hdr.echo == 42);
	assert_int_equal(ents[0].status, WE_STATUS_OK);
	assert_int_equal(ents[0].key_len, 0);
	assert_int_equal(ents[0].value_len, 5);
	assert_memory_equal(ents[0].value, "hello", 5);
	assert_int_equal(ents[1].status, WE_STATUS_NOT_FOUND);
	assert_int_equal(ents[1].opaque, 2);
	assert_int_equal(ents[2].op, 200);
	assert_int_equal(ents[2].status, 255);
	assert_int_equal(ents[3].key_len, 1);
	assert_memory_equal(ents[3].key, "x", 1);
	assert_memory_equal(ents[3].value, "y", 1);

	/* The same bytes are not a request. */
	assert_int_equal(decode_req(buf, len, &hdr, ents, &n), PROTO_DECODE_NOT_REQUEST);

	/* Header-only error reply. */
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 7);
	proto_writer_set_status(&w, WE_STATUS_MALFORMED);
	len = proto_writer_finish(&w);
	assert_int_equal(len, PROTO_HDR_SIZE);
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hdr.status, WE_STATUS_MALFORMED);
	assert_true(hdr.echo == 7);

	/* A request is not a response. */
	len = two_entries(buf);
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_NOT_REQUEST);

	/* Entry flags, key_len > 250, version, AUTH, reserved, count. */
	proto_writer_init(&w, buf, BUF_CAP, PROTO_F_RESPONSE, 7);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, 0, 0, "v", 1);
	len = proto_writer_finish(&w);
	buf[E0 + 1] = 1;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_MALFORMED);
	buf[E0 + 1] = 0;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_OK);
	buf[2] = 2;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_BAD_VERSION);
	buf[2] = PROTO_VERSION;
	buf[3] |= PROTO_F_AUTH;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_UNSUPPORTED);
	buf[3] = PROTO_F_RESPONSE;
	buf[7] = 1;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_MALFORMED);
	buf[7] = 0;
	buf[4] = PROTO_BATCH_MAX + 1;
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_MALFORMED);
	buf[4] = 1;
	assert_int_equal(decode_resp(buf, len - 1, &hdr, ents, &n), PROTO_DECODE_MALFORMED);
	assert_int_equal(n, 0);

	memset(long_key, 'L', sizeof(long_key));
	proto_writer_init(&w, buf, BUF_CAP, PROTO_F_RESPONSE, 7);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, long_key, PROTO_KEY_MAX + 1, 0, 0);
	len = proto_writer_finish(&w);
	assert_int_equal(decode_resp(buf, len, &hdr, ents, &n), PROTO_DECODE_MALFORMED);
}

/* The writer says no exactly when the next entry would pass the capacity. */
static void test_writer_fits(void **state)
{
	uint8_t buf[64];
	struct proto_writer w;

	(void)state;
	proto_writer_init(&w, buf, 40, 0, 0);
	assert_true(proto_writer_fits(&w, 4, 8));  /* 16 + 12 + 12 = 40 */
	assert_false(proto_writer_fits(&w, 4, 9));
	assert_false(proto_writer_fits(&w, 256, 0));
	assert_false(proto_writer_fits(&w, 0, UINT32_MAX));
	proto_writer_append(&w, PROTO_OP_PUT, 0, 0, 0, "abcd", 4, "01234567", 8);
	assert_false(proto_writer_fits(&w, 0, 0));
	assert_int_equal(proto_writer_finish(&w), 40);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 0);
}

/* The bytes of the worked example in docs/protocol.md, and the port its keys
 * are steered to (base 9000, 4 workers). */
static void test_worked_example(void **state)
{
	static const uint8_t put_req[] = {
		0x57, 0x45, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x07, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x00, 0x75, 0x73, 0x65, 0x72,
		0x3a, 0x34, 0x32, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
	};
	static const uint8_t put_resp[] = {
		0x57, 0x45, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x0a, 0x00, 0x00, 0x00,
	};
	static const uint8_t get_req[] = {
		0x57, 0x45, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x0b, 0x00, 0x00, 0x00, 0x75, 0x73, 0x65, 0x72,
		0x3a, 0x34, 0x32, 0x01, 0x00, 0x07, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x75,
		0x73, 0x65, 0x72, 0x3a, 0x34, 0x33,
	};
	static const uint8_t get_resp_a[] = {
		0x57, 0x45, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x0b, 0x00, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c,
		0x6f,
	};
	static const uint8_t get_resp_b[] = {
		0x57, 0x45, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x0c, 0x00, 0x00, 0x00,
	};
	static const uint8_t bad_version_reply[] = {
		0x57, 0x45, 0x01, 0x01, 0x00, 0x00, 0x0a, 0x00,
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static struct region_map map;
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	unsigned n;
	uint8_t buf[BUF_CAP];
	struct proto_writer w;
	uint64_t h42 = keyhash("user:42", 7), h43 = keyhash("user:43", 7);

	(void)state;
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, 0, 1);
	proto_writer_append(&w, PROTO_OP_PUT, PROTO_DUR_DEFAULT, 0, 10, "user:42", 7, "hello", 5);
	assert_int_equal(proto_writer_finish(&w), sizeof(put_req));
	assert_memory_equal(buf, put_req, sizeof(put_req));

	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 1);
	proto_writer_append(&w, PROTO_OP_PUT, 0, WE_STATUS_OK, 10, 0, 0, 0, 0);
	assert_int_equal(proto_writer_finish(&w), sizeof(put_resp));
	assert_memory_equal(buf, put_resp, sizeof(put_resp));

	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, 0, 2);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 11, "user:42", 7, 0, 0);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 12, "user:43", 7, 0, 0);
	assert_int_equal(proto_writer_finish(&w), sizeof(get_req));
	assert_memory_equal(buf, get_req, sizeof(get_req));

	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 2);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_OK, 11, 0, 0, "hello", 5);
	assert_int_equal(proto_writer_finish(&w), sizeof(get_resp_a));
	assert_memory_equal(buf, get_resp_a, sizeof(get_resp_a));

	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, 2);
	proto_writer_append(&w, PROTO_OP_GET, 0, WE_STATUS_NOT_FOUND, 12, 0, 0, 0, 0);
	assert_int_equal(proto_writer_finish(&w), sizeof(get_resp_b));
	assert_memory_equal(buf, get_resp_b, sizeof(get_resp_b));

	/* A version-2 request with echo 3 gets the header-only BAD_VERSION
	 * reply shown in the document. */
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, 0, 3);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "k", 1, 0, 0);
	buf[2] = 2;
	assert_int_equal(decode_req(buf, proto_writer_finish(&w), &hdr, reqs, &n),
			 PROTO_DECODE_BAD_VERSION);
	proto_writer_init(&w, buf, PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE, hdr.echo);
	proto_writer_set_status(&w, proto_decode_reply_status(PROTO_DECODE_BAD_VERSION));
	assert_int_equal(proto_writer_finish(&w), sizeof(bad_version_reply));
	assert_memory_equal(buf, bad_version_reply, sizeof(bad_version_reply));

	/* Steering figures quoted in the document. */
	assert_true(h42 == 0x9fc1e605fa7174aaull);
	assert_true(h43 == 0x51d09f3ad9df8505ull);
	assert_int_equal(keyhash_region(h42), 1194);
	assert_int_equal(keyhash_region(h43), 1285);
	region_map_init_default(&map, 4);
	assert_int_equal(9000 + region_map_owner_of_hash(&map, h42), 9002);
	assert_int_equal(9000 + region_map_owner_of_hash(&map, h43), 9001);
}

/* A forwarded datagram's hop count rides in the reserved byte: set by the
 * writer, refused by the decoder until taken, then decoded normally. */
static void test_forward_hops(void **state)
{
	uint8_t buf[BUF_CAP];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n;
	uint32_t len;

	(void)state;
	proto_writer_init(&w, buf, BUF_CAP, 0, 99);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "k", 1, 0, 0);
	proto_writer_set_hops(&w, 2);
	len = proto_writer_finish(&w);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_MALFORMED);
	assert_int_equal(proto_take_hops(buf, len), 2);
	assert_int_equal(buf[7], 0);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(proto_take_hops(buf, len), 0);
	assert_int_equal(proto_take_hops(buf, PROTO_HDR_SIZE - 1), 0);
}

/* A request with the TOKEN flag carries 16 token bytes between the header
 * and the entries; the decoder skips them and proto_batch_token() points at
 * them. A datagram too short for its token is MALFORMED; a response never
 * carries one (UNSUPPORTED). */
static void test_token_block(void **state)
{
	uint8_t buf[BUF_CAP], token[PROTO_TOKEN_SIZE];
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	unsigned n = 0;
	uint32_t len;

	(void)state;
	for (unsigned i = 0; i < PROTO_TOKEN_SIZE; i++)
		token[i] = (uint8_t)(0xa0 + i);
	proto_writer_init_token(&w, buf, BUF_CAP, 5, token);
	proto_writer_append(&w, PROTO_OP_GET, 0, 0, 1, "key", 3, 0, 0);
	len = proto_writer_finish(&w);
	assert_int_equal(len, PROTO_HDR_SIZE + PROTO_TOKEN_SIZE + 12 + 3);
	assert_int_equal(buf[3], PROTO_F_TOKEN);
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_OK);
	assert_int_equal(n, 1);
	assert_memory_equal(reqs[0].key, "key", 3);
	assert_ptr_equal(proto_batch_token(buf, &hdr), buf + PROTO_HDR_SIZE);
	assert_memory_equal(proto_batch_token(buf, &hdr), token, PROTO_TOKEN_SIZE);

	/* Without the flag the same bytes are a malformed datagram. */
	buf[3] = 0;
	assert_int_equal(decode_req(buf, len, &hdr, reqs, &n), PROTO_DECODE_MALFORMED);
	assert_null(proto_batch_token(buf, &hdr));
	/* Flag set but shorter than header + token. */
	buf[3] = PROTO_F_TOKEN;
	assert_int_equal(decode_req(buf, PROTO_HDR_SIZE + 8, &hdr, reqs, &n),
			 PROTO_DECODE_MALFORMED);
	/* A response with the flag is refused. */
	buf[3] = PROTO_F_RESPONSE | PROTO_F_TOKEN;
	assert_int_equal(proto_decode_response(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_UNSUPPORTED);
}

/* Names exist for every op and result, and "?" marks the rest. */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(proto_op_name(PROTO_OP_GET), "GET");
	assert_string_equal(proto_op_name(PROTO_OP_QUANTUM_GET), "QUANTUM_GET");
	assert_string_equal(proto_op_name(PROTO_OP_TOKEN), "TOKEN");
	assert_string_equal(proto_op_name(0), "?");
	assert_string_equal(proto_op_name(7), "?");
	for (int r = PROTO_DECODE_OK; r <= PROTO_DECODE_MALFORMED; r++)
		assert_string_not_equal(proto_decode_result_name((enum proto_decode_result)r), "?");
	assert_string_equal(proto_decode_result_name((enum proto_decode_result)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_each_op),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_value_limits),
		cmocka_unit_test(test_batch_limits),
		cmocka_unit_test(test_malformed_classes),
		cmocka_unit_test(test_entry_statuses),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_response_decode),
		cmocka_unit_test(test_writer_fits),
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_forward_hops),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_token_block),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
