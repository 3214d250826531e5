/* codec_native.c - native protocol requests and answers for the blaster.
 *
 * DESIGN: a thin layer over lib/proto.c, which owns the byte layout (drawn in
 * lib/proto.h and docs/protocol.md). The blaster never builds or parses
 * native bytes itself, so it cannot drift from what the data plane accepts.
 * What this file adds is the blaster's view: every answer entry becomes a
 * struct codec_reply; an entry of a GET that succeeded carries the value.
 * A header-only error reply (MALFORMED, BAD_VERSION, ...) has no entries: its
 * status comes back in *batch_status and the requests it refused time out.
 * With the address token (handshake.c) every request datagram carries it
 * right after the header; the writer then budgets PROTO_PAYLOAD_MAX -
 * PROTO_TOKEN_SIZE bytes for entries, so batches fill no further.
 */
#include "codec_native.h"

#include <errno.h>

#include "we_assert.h"
#include "workload.h"

/* The blaster passes workload ops straight onto the wire. */
_Static_assert((int)WORKLOAD_OP_GET == (int)PROTO_OP_GET, "op numbering");
_Static_assert((int)WORKLOAD_OP_PUT == (int)PROTO_OP_PUT, "op numbering");
_Static_assert((int)WORKLOAD_OP_DELETE == (int)PROTO_OP_DELETE, "op numbering");

void codec_native_begin(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint64_t echo,
			const uint8_t *token)
{
	if (token) {
		proto_writer_init_token(w, buf, cap, echo, token);
		return;
	}
	WE_ASSERT(cap >= PROTO_HDR_SIZE);
	proto_writer_init(w, buf, cap, 0, echo);
}

bool codec_native_fits(const struct proto_writer *w, uint32_t key_len, uint32_t value_len)
{
	return proto_writer_fits(w, key_len, value_len);
}

void codec_native_add(struct proto_writer *w, uint8_t op, uint8_t flags, uint32_t opaque,
		      const uint8_t *key, uint32_t key_len, const uint8_t *value,
		      uint32_t value_len)
{
	WE_ASSERT(op == PROTO_OP_PUT || value_len == 0);
	proto_writer_append(w, op, flags, 0, opaque, key, key_len, value, value_len);
}

uint32_t codec_native_finish(struct proto_writer *w)
{
	WE_ASSERT(w->count > 0);
	return proto_writer_finish(w);
}

int codec_native_decode(const uint8_t *buf, uint32_t len, struct codec_reply *out,
			unsigned max, unsigned *n, uint8_t *batch_status, uint64_t *echo)
{
	struct proto_request entries[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	unsigned count;

	WE_ASSERT(max >= PROTO_BATCH_MAX);
	*n = 0;
	if (proto_decode_response(buf, len, &hdr, entries, PROTO_BATCH_MAX, &count) !=
	    PROTO_DECODE_OK)
		return -EBADMSG;
	*batch_status = hdr.status;
	*echo = hdr.echo;
	for (unsigned i = 0; i < count; i++) {
		const struct proto_request *e = &entries[i];
		struct codec_reply *r = &out[i];

		r->opaque = e->opaque;
		r->op = e->op;
		r->status = e->status;
		r->has_value = e->op == PROTO_OP_GET && e->status == WE_STATUS_OK;
		r->value = e->value;
		r->value_len = e->value_len;
		r->key = 0;
		r->key_len = 0;
	}
	*n = count;
	return 0;
}
