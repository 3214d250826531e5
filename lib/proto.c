/* proto.c - encoder and decoders of the native UDP protocol, version 1.
 *
 * DESIGN: a request datagram is validated structurally in one pass (header,
 * then every entry's bounds, then "no trailing bytes") before the caller sees
 * a single entry, so a datagram that is malformed anywhere executes nothing.
 * Entries that are well framed but ask for something we cannot do (unknown
 * op, bad key length, stray value, unknown entry flag) do not spoil the
 * batch: each gets its own status and the worker answers it alone.
 *
 * The loop over entries is on the hot path (32 GETs decode in about 87 ns on
 * a 3 GHz core, bound by the chain of dependent loads that finds each entry
 * from the previous one). Per entry it makes three well-predicted tests:
 * the 12-byte header is inside the datagram; key and value are inside it and
 * the status byte is 0; and one combined test that the entry is an ordinary
 * GET/PUT/DELETE/PING. Only an entry failing the last one goes to the cold
 * function that works out which status to answer it with. Fields are read
 * with memcpy and converted from little-endian, so unaligned datagrams and
 * big-endian hosts both work.
 *
 * Layouts (docs/protocol.md has the full specification):
 *
 *   batch header                     entry
 *   +0  'W' 'E'                      +0  op       u8
 *   +2  version   u8 (1)             +1  flags    u8
 *   +3  flags     u8                 +2  key_len  u8
 *   +4  count     u16 LE             +3  status   u8
 *   +6  status    u8                 +4  value_len u32 LE
 *   +7  reserved  u8                 +8  opaque   u32 LE
 *   +8  echo      u64 LE             +12 key[key_len] value[value_len]
 *   +16 token[16] (TOKEN flag only; requests)
 */
#include "proto.h"

#include <endian.h>
#include <string.h>

#include "we_assert.h"

static inline uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* Read the 16-byte batch header into host-order fields. */
static void read_batch_hdr(const uint8_t *buf, struct proto_batch_hdr *hdr)
{
	hdr->magic[0] = buf[0];
	hdr->magic[1] = buf[1];
	hdr->version = buf[2];
	hdr->flags = buf[3];
	hdr->count = get_le16(buf + 4);
	hdr->status = buf[6];
	hdr->reserved = buf[7];
	hdr->echo = get_le64(buf + 8);
}

/* One more than the largest value each op may carry; 0 for ops that are
 * not executed as they are (unknown, or QUANTUM_GET), so that no value_len
 * passes the "value_len < limit" test for them. */
static const uint16_t value_limit[256] = {
	[PROTO_OP_GET] = 1,
	[PROTO_OP_PUT] = PROTO_VALUE_MAX + 1,
	[PROTO_OP_DELETE] = 1,
	[PROTO_OP_PING] = 1,
	[PROTO_OP_TOKEN] = 1,
};
_Static_assert(PROTO_VALUE_MAX < UINT16_MAX, "value_limit[] holds PROTO_VALUE_MAX + 1");

/* True for the entries the hot loop lets through untouched: an executable
 * op, a value only on a PUT and no larger than the protocol allows, a key of
 * 1..250 bytes and only durability bits in the flags. Bitwise `&` on
 * purpose: one branch for the whole test. */
static inline bool entry_is_plain(uint8_t op, uint8_t flags, uint8_t key_len, uint32_t value_len)
{
	bool value_ok = value_len < value_limit[op];
	bool key_ok = (uint8_t)(key_len - 1) < PROTO_KEY_MAX;
	bool flags_ok = flags <= PROTO_ENTRY_F_DUR_MASK;

	return value_ok & key_ok & flags_ok;
}

/* The status of an entry that is not plain. The order of the tests is part
 * of the protocol (docs/protocol.md, section 8, "Per-entry checks"). */
static __attribute__((cold, noinline)) uint8_t entry_status(uint8_t op, uint8_t flags,
							      uint8_t key_len,
							      uint32_t value_len)
{
	switch (op) {
	case PROTO_OP_GET:
	case PROTO_OP_PUT:
	case PROTO_OP_DELETE:
	case PROTO_OP_PING:
	case PROTO_OP_QUANTUM_GET:
	case PROTO_OP_TOKEN:
		break;
	default:
		return WE_STATUS_UNKNOWN_OP;
	}
	if (key_len == 0 || key_len > PROTO_KEY_MAX)
		return WE_STATUS_KEY_TOO_LONG;
	if (flags & ~PROTO_ENTRY_F_DUR_MASK)
		return WE_STATUS_BAD_REQUEST;
	if (op == PROTO_OP_QUANTUM_GET)
		return WE_STATUS_UNSUPPORTED;
	if (value_len != 0 && op != PROTO_OP_PUT)
		return WE_STATUS_BAD_REQUEST;
	if (value_len > PROTO_VALUE_MAX)
		return WE_STATUS_VALUE_TOO_LARGE;
	return WE_STATUS_OK;
}

/* Copy the fixed fields of an entry into r. On a little-endian host the
 * wire's bytes 4..11 (value_len, opaque) and 0..3 (op, flags, key_len,
 * status) are laid out exactly like r's fields, so two copies do the work of
 * six loads and stores; this is a measured gain on the hot path. */
_Static_assert(offsetof(struct proto_request, opaque) ==
		       offsetof(struct proto_request, value_len) + 4, "value_len, opaque");
_Static_assert(offsetof(struct proto_request, flags) == offsetof(struct proto_request, op) + 1,
	       "op, flags in wire order");
_Static_assert(offsetof(struct proto_request, key_len) == offsetof(struct proto_request, op) + 2,
	       "key_len in wire order");
_Static_assert(offsetof(struct proto_request, status) == offsetof(struct proto_request, op) + 3,
	       "status in wire order");
_Static_assert(WE_STATUS_OK == 0, "a request's zero status byte reads as OK");

static inline void copy_entry_fields(struct proto_request *r, const uint8_t *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint8_t *base = (uint8_t *)r;

	memcpy(base + offsetof(struct proto_request, value_len), p + 4, 8);
	memcpy(base + offsetof(struct proto_request, op), p, 4);
#else
	r->value_len = get_le32(p + 4);
	r->opaque = get_le32(p + 8);
	r->op = p[0];
	r->flags = p[1];
	r->key_len = p[2];
	r->status = p[3];
#endif
}

/* Walk `count` entries starting right after the batch header. Requests and
 * responses share the framing; they differ in what the per-entry bytes may
 * hold. Inlined into both callers so `response` is a constant in each.
 *
 * The walk is a chain of dependent loads (each entry's lengths give the next
 * entry's address) and bounds the decoder's speed, so nothing else sits on
 * it: p -> load key_len, value_len -> key + (key_len + value_len), with
 * key = p + 12 computed beside the loads. */
static inline __attribute__((always_inline)) enum proto_decode_result
decode_entries(const uint8_t *buf, uint32_t len, uint32_t first, unsigned count,
	       struct proto_request *out, bool response)
{
	const uint8_t *p = buf + first;
	const uint8_t *buf_end = buf + len;

	for (unsigned i = 0; i < count; i++) {
		struct proto_request *r = &out[i];
		const uint8_t *key = p + PROTO_ENTRY_HDR_SIZE;
		uint8_t op, flags, key_len, status;
		uint32_t value_len;
		uint64_t body_len, room;
		bool bad;

		if (we_unlikely(buf_end - p < PROTO_ENTRY_HDR_SIZE))
			return PROTO_DECODE_MALFORMED;
		op = p[0];
		flags = p[1];
		key_len = p[2];
		status = p[3];
		value_len = get_le32(p + 4);
		/* 64-bit: value_len comes from the wire and may be near 2^32. */
		body_len = (uint64_t)key_len + value_len;
		room = (uint64_t)(buf_end - p) - PROTO_ENTRY_HDR_SIZE;
		if (response)
			bad = (body_len > room) | (flags != 0) | (key_len > PROTO_KEY_MAX);
		else
			bad = (body_len > room) | (status != 0);
		if (we_unlikely(bad))
			return PROTO_DECODE_MALFORMED;

		r->key = key;
		r->value = key + key_len;
		r->hash = 0;
		copy_entry_fields(r, p);
		/* A request's status byte is 0 here, which is WE_STATUS_OK. */
		if (!response && we_unlikely(!entry_is_plain(op, flags, key_len, value_len)))
			r->status = entry_status(op, flags, key_len, value_len);
		p = key + body_len;
	}
	if (we_unlikely(p != buf_end))
		return PROTO_DECODE_MALFORMED; /* trailing bytes */
	return PROTO_DECODE_OK;
}

/* Header checks common to both directions, up to and including the flags.
 * `want_response` is the value the RESPONSE flag must have. */
static enum proto_decode_result check_batch_hdr(const uint8_t *buf, uint32_t len,
						struct proto_batch_hdr *hdr, bool want_response)
{
	if (we_unlikely(len < PROTO_HDR_SIZE)) {
		memset(hdr, 0, sizeof(*hdr));
		return PROTO_DECODE_TRUNCATED;
	}
	read_batch_hdr(buf, hdr);
	if (we_unlikely(hdr->magic[0] != PROTO_MAGIC0 || hdr->magic[1] != PROTO_MAGIC1))
		return PROTO_DECODE_BAD_MAGIC;
	/* Direction before version: a reply of any version must never be
	 * answered, or two servers could bounce errors forever. */
	if (we_unlikely(!!(hdr->flags & PROTO_F_RESPONSE) != want_response))
		return PROTO_DECODE_NOT_REQUEST;
	/* Version before the other flags: another version may define them. */
	if (we_unlikely(hdr->version != PROTO_VERSION))
		return PROTO_DECODE_BAD_VERSION;
	/* AUTH (reserved) or unknown; a token only ever travels in requests. */
	if (we_unlikely((hdr->flags & ~(PROTO_F_RESPONSE | PROTO_F_TOKEN)) != 0 ||
			(want_response && (hdr->flags & PROTO_F_TOKEN))))
		return PROTO_DECODE_UNSUPPORTED;
	if (we_unlikely(hdr->reserved != 0))
		return PROTO_DECODE_MALFORMED;
	return PROTO_DECODE_OK;
}

enum proto_decode_result proto_decode_batch(const uint8_t *buf, uint32_t len,
					    struct proto_batch_hdr *hdr,
					    struct proto_request *reqs, unsigned max_reqs,
					    unsigned *n_reqs)
{
	enum proto_decode_result r;
	uint32_t first = PROTO_HDR_SIZE;

	WE_ASSERT(max_reqs >= PROTO_BATCH_MAX);
	*n_reqs = 0;
	r = check_batch_hdr(buf, len, hdr, false);
	if (we_unlikely(r != PROTO_DECODE_OK))
		return r;
	/* count - 1 wraps for 0, so one test covers 1..PROTO_BATCH_MAX. */
	if (we_unlikely(hdr->status != 0 || (unsigned)(hdr->count - 1) >= PROTO_BATCH_MAX))
		return PROTO_DECODE_MALFORMED;
	if (hdr->flags & PROTO_F_TOKEN) {
		first += PROTO_TOKEN_SIZE;
		if (we_unlikely(len < first))
			return PROTO_DECODE_MALFORMED;
	}
	r = decode_entries(buf, len, first, hdr->count, reqs, false);
	if (we_likely(r == PROTO_DECODE_OK))
		*n_reqs = hdr->count;
	return r;
}

enum proto_decode_result proto_decode_response(const uint8_t *buf, uint32_t len,
					       struct proto_batch_hdr *hdr,
					       struct proto_request *entries,
					       unsigned max_entries, unsigned *n_entries)
{
	enum proto_decode_result r;

	WE_ASSERT(max_entries >= PROTO_BATCH_MAX);
	*n_entries = 0;
	r = check_batch_hdr(buf, len, hdr, true);
	if (r != PROTO_DECODE_OK)
		return r;
	/* Header-only replies (count 0) are valid responses. */
	if (hdr->count > PROTO_BATCH_MAX)
		return PROTO_DECODE_MALFORMED;
	r = decode_entries(buf, len, PROTO_HDR_SIZE, hdr->count, entries, true);
	if (r == PROTO_DECODE_OK)
		*n_entries = hdr->count;
	return r;
}

enum we_status proto_decode_reply_status(enum proto_decode_result r)
{
	switch (r) {
	case PROTO_DECODE_BAD_VERSION:
		return WE_STATUS_BAD_VERSION;
	case PROTO_DECODE_UNSUPPORTED:
		return WE_STATUS_UNSUPPORTED;
	case PROTO_DECODE_MALFORMED:
		return WE_STATUS_MALFORMED;
	case PROTO_DECODE_OK:
	case PROTO_DECODE_TRUNCATED:
	case PROTO_DECODE_BAD_MAGIC:
	case PROTO_DECODE_NOT_REQUEST:
		break;
	}
	return WE_STATUS_OK;
}

/* The writer keeps the header's count at 0 until proto_writer_finish(). */
void proto_writer_init(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint8_t flags,
		       uint64_t echo)
{
	WE_ASSERT(cap >= PROTO_HDR_SIZE);
	w->buf = buf;
	w->cap = cap;
	w->len = PROTO_HDR_SIZE;
	w->count = 0;
	buf[0] = PROTO_MAGIC0;
	buf[1] = PROTO_MAGIC1;
	buf[2] = PROTO_VERSION;
	buf[3] = flags;
	put_le16(buf + 4, 0);
	buf[6] = 0; /* status */
	buf[7] = 0; /* reserved */
	put_le64(buf + 8, echo);
}

void proto_writer_init_token(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint64_t echo,
			     const uint8_t token[PROTO_TOKEN_SIZE])
{
	WE_ASSERT(cap >= PROTO_HDR_SIZE + PROTO_TOKEN_SIZE);
	proto_writer_init(w, buf, cap, PROTO_F_TOKEN, echo);
	memcpy(buf + PROTO_HDR_SIZE, token, PROTO_TOKEN_SIZE);
	w->len += PROTO_TOKEN_SIZE;
}

bool proto_writer_fits(const struct proto_writer *w, uint32_t key_len, uint32_t value_len)
{
	uint64_t need = (uint64_t)PROTO_ENTRY_HDR_SIZE + key_len + value_len;

	return w->count < PROTO_BATCH_MAX && key_len <= UINT8_MAX && need <= w->cap - w->len;
}

void proto_writer_append(struct proto_writer *w, uint8_t op, uint8_t flags, uint8_t status,
			 uint32_t opaque, const void *key, uint32_t key_len, const void *value,
			 uint32_t value_len)
{
	uint8_t *p = w->buf + w->len;

	WE_ASSERT(proto_writer_fits(w, key_len, value_len));
	p[0] = op;
	p[1] = flags;
	p[2] = (uint8_t)key_len;
	p[3] = status;
	put_le32(p + 4, value_len);
	put_le32(p + 8, opaque);
	if (key_len)
		memcpy(p + PROTO_ENTRY_HDR_SIZE, key, key_len);
	if (value_len)
		memcpy(p + PROTO_ENTRY_HDR_SIZE + key_len, value, value_len);
	w->len += PROTO_ENTRY_HDR_SIZE + key_len + value_len;
	w->count++;
}

void proto_writer_set_status(struct proto_writer *w, uint8_t status)
{
	w->buf[6] = status;
}

uint32_t proto_writer_finish(struct proto_writer *w)
{
	put_le16(w->buf + 4, w->count);
	return w->len;
}

void proto_writer_set_hops(struct proto_writer *w, uint8_t hops)
{
	w->buf[7] = hops;
}

uint8_t proto_take_hops(uint8_t *buf, uint32_t len)
{
	uint8_t hops;

	if (len < PROTO_HDR_SIZE)
		return 0;
	hops = buf[7];
	buf[7] = 0;
	return hops;
}

const char *proto_op_name(unsigned op)
{
	switch (op) {
	case PROTO_OP_GET:
		return "GET";
	case PROTO_OP_PUT:
		return "PUT";
	case PROTO_OP_DELETE:
		return "DELETE";
	case PROTO_OP_PING:
		return "PING";
	case PROTO_OP_QUANTUM_GET:
		return "QUANTUM_GET";
	case PROTO_OP_TOKEN:
		return "TOKEN";
	}
	return "?";
}

const char *proto_decode_result_name(enum proto_decode_result r)
{
	switch (r) {
	case PROTO_DECODE_OK:
		return "OK";
	case PROTO_DECODE_TRUNCATED:
		return "TRUNCATED";
	case PROTO_DECODE_BAD_MAGIC:
		return "BAD_MAGIC";
	case PROTO_DECODE_NOT_REQUEST:
		return "NOT_REQUEST";
	case PROTO_DECODE_BAD_VERSION:
		return "BAD_VERSION";
	case PROTO_DECODE_UNSUPPORTED:
		return "UNSUPPORTED";
	case PROTO_DECODE_MALFORMED:
		return "MALFORMED";
	}
	return "?";
}
