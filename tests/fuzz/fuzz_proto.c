/* fuzz_proto.c - the protocol codec (lib/proto.c) against its specification.
 *
 * DESIGN: the input is one UDP payload. It goes through both decoders and
 * every outcome is checked against a second, deliberately plain reading of
 * docs/protocol.md written here (section 8's checks in their order, section
 * 2's layouts byte by byte), so the fast decoder and the text must agree:
 *
 *   - proto_decode_batch's result is the one the first failing check of
 *     section 8 names; each entry's status is the one the per-entry checks
 *     name, in their order.
 *   - On OK, every entry's key and value lie inside the datagram, entries
 *     tile it from byte 16 (32 after a TOKEN flag's token) to the end, the
 *     fields read as the bytes say.
 *   - On OK, re-encoding the entries with proto_writer reproduces the input
 *     byte for byte. This holds for every decoded request, including entries
 *     the decoder marked with an error, provided the entry status byte is
 *     written as the 0 it was on the wire: the decoder keeps op, flags,
 *     key_len, value_len and opaque raw, and a request that decodes has
 *     version 1, flags 0 or TOKEN (then proto_writer_init_token with the
 *     token read from the input), batch status 0 and reserved 0.
 *   - An error that gets a reply gets a 16-byte header-only one (RESPONSE,
 *     count 0, the request's echo, the right status), never longer than the
 *     input; it decodes as a response and is itself never answered.
 *   - proto_decode_response obeys its own rules (header-only replies,
 *     flags 0 in entries, key_len <= 250) and re-encodes exactly on OK.
 *   - proto_take_hops reads and zeroes byte 7 and nothing else.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "proto.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Section 8, per-entry checks, in order. */
static uint8_t spec_entry_status(uint8_t op, uint8_t flags, uint8_t key_len, uint32_t value_len)
{
	if (op < 1 || op > 6)
		return WE_STATUS_UNKNOWN_OP;
	if (key_len == 0 || key_len > 250)
		return WE_STATUS_KEY_TOO_LONG;
	if (flags & ~0x03)
		return WE_STATUS_BAD_REQUEST;
	if (op == PROTO_OP_QUANTUM_GET)
		return WE_STATUS_UNSUPPORTED;
	if (value_len != 0 && op != PROTO_OP_PUT)
		return WE_STATUS_BAD_REQUEST;
	if (value_len > 1443)
		return WE_STATUS_VALUE_TOO_LARGE;
	return WE_STATUS_OK;
}

/* Section 8, whole-datagram checks 1..10 for a request; section 7 and
 * proto.h's rules for a response. */
static enum proto_decode_result spec_decode(const uint8_t *b, uint32_t len, bool response)
{
	uint32_t count, off = 16;

	if (len < 16)
		return PROTO_DECODE_TRUNCATED;
	if (b[0] != 0x57 || b[1] != 0x45)
		return PROTO_DECODE_BAD_MAGIC;
	if (((b[3] & 0x01) != 0) != response)
		return PROTO_DECODE_NOT_REQUEST;
	if (b[2] != 1)
		return PROTO_DECODE_BAD_VERSION;
	/* TOKEN (0x04) is a known flag in requests; responses never carry one. */
	if (b[3] & (response ? 0xfe : 0xfa))
		return PROTO_DECODE_UNSUPPORTED;
	if (b[7] != 0)
		return PROTO_DECODE_MALFORMED;
	count = (uint32_t)b[4] | (uint32_t)b[5] << 8;
	if (response ? count > 64 : (b[6] != 0 || count == 0 || count > 64))
		return PROTO_DECODE_MALFORMED;
	if (b[3] & 0x04) {
		off += 16;
		if (len < off)
			return PROTO_DECODE_MALFORMED;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t end;

		if (len - off < 12)
			return PROTO_DECODE_MALFORMED;
		end = (uint64_t)off + 12 + b[off + 2] + rd32(b + off + 4);
		if (end > len)
			return PROTO_DECODE_MALFORMED;
		if (!response && b[off + 3] != 0)
			return PROTO_DECODE_MALFORMED;
		if (response && (b[off + 1] != 0 || b[off + 2] > 250))
			return PROTO_DECODE_MALFORMED;
		off = (uint32_t)end;
	}
	if (off != len)
		return PROTO_DECODE_MALFORMED;
	return PROTO_DECODE_OK;
}

/* Entries tile the datagram and read as their bytes say; re-encoding them
 * gives the input back. */
static void check_entries(const uint8_t *buf, uint32_t len, const struct proto_batch_hdr *hdr,
			  const struct proto_request *e, unsigned n, bool response)
{
	struct proto_writer w;
	uint8_t *out = malloc(len);
	uint32_t off = 16, out_len;

	FUZZ_CHECK(out != NULL, "out of memory");
	if (!response && (hdr->flags & PROTO_F_TOKEN)) {
		FUZZ_CHECK(proto_batch_token(buf, hdr) == buf + 16, "token not after the header");
		proto_writer_init_token(&w, out, len, hdr->echo, buf + 16);
		off += PROTO_TOKEN_SIZE;
	} else {
		FUZZ_CHECK(proto_batch_token(buf, hdr) == NULL || response, "token without the flag");
		proto_writer_init(&w, out, len, hdr->flags, hdr->echo);
	}
	if (response)
		proto_writer_set_status(&w, hdr->status);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = buf + off;

		FUZZ_CHECK(e[i].key == p + 12, "entry %u key at %td, expected %u", i,
			   e[i].key - buf, off + 12);
		FUZZ_CHECK(e[i].key_len == p[2] && e[i].op == p[0] && e[i].flags == p[1],
			   "entry %u fixed fields differ from the wire", i);
		FUZZ_CHECK(e[i].value_len == rd32(p + 4) && e[i].opaque == rd32(p + 8),
			   "entry %u value_len/opaque differ from the wire", i);
		FUZZ_CHECK(e[i].value == e[i].key + e[i].key_len, "entry %u value not after key", i);
		FUZZ_CHECK(e[i].key >= buf && e[i].value + e[i].value_len <= buf + len,
			   "entry %u key/value outside the datagram", i);
		FUZZ_CHECK(e[i].hash == 0, "entry %u hash not zeroed by the decoder", i);
		if (response)
			FUZZ_CHECK(e[i].status == p[3], "response entry %u status not passed through", i);
		else
			FUZZ_CHECK(e[i].status == spec_entry_status(p[0], p[1], p[2], rd32(p + 4)),
				   "entry %u status %u, section 8 says %u", i, e[i].status,
				   spec_entry_status(p[0], p[1], p[2], rd32(p + 4)));
		FUZZ_CHECK(proto_writer_fits(&w, e[i].key_len, e[i].value_len),
			   "re-encoding entry %u does not fit the input's length", i);
		/* A request's status byte was 0 on the wire, whatever the decoder
		 * decided to answer; a response's is passed through. */
		proto_writer_append(&w, e[i].op, e[i].flags, response ? e[i].status : 0, e[i].opaque,
				    e[i].key, e[i].key_len, e[i].value, e[i].value_len);
		off += 12 + e[i].key_len + e[i].value_len;
	}
	FUZZ_CHECK(off == len, "entries end at %u of %u", off, len);
	out_len = proto_writer_finish(&w);
	FUZZ_CHECK(out_len == len && memcmp(out, buf, len) == 0,
		   "decode then re-encode differs from the input (%u vs %u bytes)", out_len, len);
	free(out);
}

/* The header-only reply the server sends for a decode error. */
static void check_error_reply(const uint8_t *buf, uint32_t len, const struct proto_batch_hdr *hdr,
			      enum proto_decode_result r)
{
	enum we_status st = proto_decode_reply_status(r);
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr rh;
	struct proto_writer w;
	uint8_t reply[PROTO_HDR_SIZE];
	uint32_t reply_len;
	unsigned n;

	switch (r) {
	case PROTO_DECODE_TRUNCATED:
	case PROTO_DECODE_BAD_MAGIC:
	case PROTO_DECODE_NOT_REQUEST:
		FUZZ_CHECK(st == WE_STATUS_OK, "%s must get no reply", proto_decode_result_name(r));
		return;
	case PROTO_DECODE_BAD_VERSION:
		FUZZ_CHECK(st == WE_STATUS_BAD_VERSION, "BAD_VERSION replies status %u", st);
		break;
	case PROTO_DECODE_UNSUPPORTED:
		FUZZ_CHECK(st == WE_STATUS_UNSUPPORTED, "UNSUPPORTED replies status %u", st);
		break;
	case PROTO_DECODE_MALFORMED:
		FUZZ_CHECK(st == WE_STATUS_MALFORMED, "MALFORMED replies status %u", st);
		break;
	case PROTO_DECODE_OK:
		FUZZ_CHECK(0, "not an error");
	}
	FUZZ_CHECK(hdr->echo == rd64(buf + 8), "error reply would not carry the request's echo");
	proto_writer_init(&w, reply, sizeof(reply), PROTO_F_RESPONSE, hdr->echo);
	proto_writer_set_status(&w, (uint8_t)st);
	reply_len = proto_writer_finish(&w);
	FUZZ_CHECK(reply_len == PROTO_HDR_SIZE && reply_len <= len,
		   "header-only reply of %u bytes for a %u-byte request", reply_len, len);
	FUZZ_CHECK(proto_decode_response(reply, reply_len, &rh, e, PROTO_BATCH_MAX, &n) ==
			   PROTO_DECODE_OK && n == 0 && rh.status == st && rh.echo == hdr->echo &&
			   rh.version == PROTO_VERSION,
		   "the header-only reply is not a valid response");
	FUZZ_CHECK(proto_decode_batch(reply, reply_len, &rh, e, PROTO_BATCH_MAX, &n) ==
			   PROTO_DECODE_NOT_REQUEST,
		   "a reply would be answered (reply loop)");
}

static void check_take_hops(const uint8_t *buf, uint32_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	uint8_t hops;

	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, buf, len);
	hops = proto_take_hops(copy, len);
	if (len < PROTO_HDR_SIZE) {
		FUZZ_CHECK(hops == 0 && memcmp(copy, buf, len) == 0, "take_hops touched a short buffer");
	} else {
		FUZZ_CHECK(hops == buf[7] && copy[7] == 0, "take_hops did not take byte 7");
		FUZZ_CHECK(memcmp(copy, buf, 7) == 0 && memcmp(copy + 8, buf + 8, len - 8) == 0,
			   "take_hops changed a byte other than 7");
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	enum proto_decode_result r, want;
	uint32_t len;
	unsigned n = 99;

	if (size > 65535) /* a UDP payload is never larger */
		return 0;
	len = (uint32_t)size;

	r = proto_decode_batch(data, len, &hdr, e, PROTO_BATCH_MAX, &n);
	want = spec_decode(data, len, false);
	FUZZ_CHECK(r == want, "request decoded %s, section 8 says %s", proto_decode_result_name(r),
		   proto_decode_result_name(want));
	if (r == PROTO_DECODE_OK) {
		FUZZ_CHECK(n == hdr.count && n >= 1 && n <= PROTO_BATCH_MAX, "n_reqs %u count %u", n,
			   hdr.count);
		FUZZ_CHECK((hdr.flags & ~PROTO_F_TOKEN) == 0 && hdr.version == 1 &&
				   hdr.status == 0 && hdr.reserved == 0,
			   "a decoded request has header fields v1 forbids");
		check_entries(data, len, &hdr, e, n, false);
	} else {
		FUZZ_CHECK(n == 0, "n_reqs %u after %s", n, proto_decode_result_name(r));
		check_error_reply(data, len, &hdr, r);
	}

	n = 99;
	r = proto_decode_response(data, len, &hdr, e, PROTO_BATCH_MAX, &n);
	want = spec_decode(data, len, true);
	FUZZ_CHECK(r == want, "response decoded %s, the rules say %s", proto_decode_result_name(r),
		   proto_decode_result_name(want));
	if (r == PROTO_DECODE_OK) {
		FUZZ_CHECK(n == hdr.count && n <= PROTO_BATCH_MAX, "n %u count %u", n, hdr.count);
		check_entries(data, len, &hdr, e, n, true);
	} else {
		FUZZ_CHECK(n == 0, "n_entries %u after %s", n, proto_decode_result_name(r));
	}

	check_take_hops(data, len);
	return 0;
}
