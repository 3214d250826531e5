/* codec_mc.c - memcached UDP: frame header, ASCII commands and answers.
 *
 * DESIGN: lets the blaster load memcached side by side with WarpEngine over
 * the same kernel-socket engine. One request per datagram (memcached answers
 * per datagram, and that is how its UDP clients use it); the request id in
 * the frame header is the opaque that matches answers to requests.
 *
 * Frame header, in front of every datagram, both directions (big-endian):
 *
 *   0  request id  u16   chosen by the client, echoed in every answer datagram
 *   2  seq         u16   this datagram's number, 0 .. total-1
 *   4  total       u16   datagrams in this message (requests: 1)
 *   6  reserved    u16   0
 *   8  payload: ASCII command or (part of) the answer
 *
 * Requests (memcached doc/protocol.txt):
 *   get <key>\r\n
 *   set <key> 0 0 <bytes>\r\n<data>\r\n          (flags 0, no expiry)
 *   delete <key>\r\n
 *
 * Answers, as their bytes must be (anything else is malformed):
 *   get:     VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\nEND\r\n   -> OK
 *            END\r\n                                                 -> NOT_FOUND
 *   set:     STORED\r\n -> OK, NOT_STORED\r\n -> NO_SPACE,
 *            EXISTS\r\n -> BUSY, NOT_FOUND\r\n -> NOT_FOUND
 *   delete:  DELETED\r\n -> OK, NOT_FOUND\r\n -> NOT_FOUND
 *   any:     ERROR\r\n -> UNKNOWN_OP, CLIENT_ERROR <text>\r\n -> BAD_REQUEST,
 *            SERVER_ERROR object too large...\r\n -> VALUE_TOO_LARGE,
 *            SERVER_ERROR out of memory...\r\n -> NO_SPACE,
 *            SERVER_ERROR <other>\r\n -> BUSY
 *
 * An answer longer than one datagram comes as `total` datagrams with the same
 * request id, seq 0..total-1, payloads to be concatenated in seq order
 * (memcached cuts at 1400 bytes per datagram, 1392 of payload). Reassembly
 * keeps each fragment at seq * MC_FRAG_MAX in a slot buffer, so fragments may
 * arrive in any order, and packs them together when the last one arrives.
 */
#include "codec_mc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "we_assert.h"
#include "we_status.h"
#include "workload.h"

static void mc_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t mc_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void mc_frame_encode(uint8_t *buf, uint16_t request_id)
{
	mc_put_be16(buf, request_id);
	mc_put_be16(buf + 2, 0);
	mc_put_be16(buf + 4, 1);
	mc_put_be16(buf + 6, 0);
}

static unsigned mc_digits(uint32_t v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static uint8_t *mc_put_u32(uint8_t *p, uint32_t v)
{
	unsigned n = mc_digits(v);

	for (unsigned i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

static uint8_t *mc_put_bytes(uint8_t *p, const void *src, uint32_t len)
{
	memcpy(p, src, len);
	return p + len;
}

/* "<verb> <key>\r\n" */
static uint32_t mc_encode_key_cmd(uint8_t *buf, uint32_t cap, uint16_t request_id,
				  const char *verb, const uint8_t *key, uint32_t key_len)
{
	uint32_t verb_len = (uint32_t)strlen(verb);
	uint64_t need = (uint64_t)MC_FRAME_HDR_SIZE + verb_len + 1 + key_len + 2;
	uint8_t *p = buf + MC_FRAME_HDR_SIZE;

	if (need > cap)
		return 0;
	mc_frame_encode(buf, request_id);
	p = mc_put_bytes(p, verb, verb_len);
	*p++ = ' ';
	p = mc_put_bytes(p, key, key_len);
	p = mc_put_bytes(p, "\r\n", 2);
	return (uint32_t)(p - buf);
}

uint32_t codec_mc_encode_get(uint8_t *buf, uint32_t cap, uint16_t request_id,
			     const uint8_t *key, uint32_t key_len)
{
	return mc_encode_key_cmd(buf, cap, request_id, "get", key, key_len);
}

uint32_t codec_mc_encode_delete(uint8_t *buf, uint32_t cap, uint16_t request_id,
				const uint8_t *key, uint32_t key_len)
{
	return mc_encode_key_cmd(buf, cap, request_id, "delete", key, key_len);
}

uint32_t codec_mc_set_size(uint32_t key_len, uint32_t value_len)
{
	return MC_FRAME_HDR_SIZE + 4 + key_len + 5 + mc_digits(value_len) + 2 + value_len + 2;
}

uint32_t codec_mc_encode_set(uint8_t *buf, uint32_t cap, uint16_t request_id,
			     const uint8_t *key, uint32_t key_len, const uint8_t *value,
			     uint32_t value_len)
{
	uint8_t *p = buf + MC_FRAME_HDR_SIZE;

	if ((uint64_t)key_len + value_len > UINT32_MAX / 2 ||
	    codec_mc_set_size(key_len, value_len) > cap)
		return 0;
	mc_frame_encode(buf, request_id);
	p = mc_put_bytes(p, "set ", 4);
	p = mc_put_bytes(p, key, key_len);
	p = mc_put_bytes(p, " 0 0 ", 5);
	p = mc_put_u32(p, value_len);
	p = mc_put_bytes(p, "\r\n", 2);
	p = mc_put_bytes(p, value, value_len);
	p = mc_put_bytes(p, "\r\n", 2);
	WE_ASSERT((uint32_t)(p - buf) == codec_mc_set_size(key_len, value_len));
	return (uint32_t)(p - buf);
}

int codec_mc_frame_decode(const uint8_t *buf, uint32_t len, struct mc_frame *f)
{
	if (len < MC_FRAME_HDR_SIZE)
		return -EBADMSG;
	f->request_id = mc_get_be16(buf);
	f->seq = mc_get_be16(buf + 2);
	f->total = mc_get_be16(buf + 4);
	f->reserved = mc_get_be16(buf + 6);
	if (f->total == 0 || f->seq >= f->total)
		return -EBADMSG;
	return 0;
}

/* True if p[0..len) is exactly `line` followed by CRLF. */
static bool mc_is_line(const uint8_t *p, uint32_t len, const char *line)
{
	uint32_t n = (uint32_t)strlen(line);

	return len == n + 2 && memcmp(p, line, n) == 0 && p[n] == '\r' && p[n + 1] == '\n';
}

/* True if p[0..len) is one line starting with prefix and ending in CRLF,
 * with no other CR or LF inside. */
static bool mc_is_line_with_prefix(const uint8_t *p, uint32_t len, const char *prefix)
{
	uint32_t n = (uint32_t)strlen(prefix);

	if (len < n + 2 || memcmp(p, prefix, n) != 0 || p[len - 2] != '\r' || p[len - 1] != '\n')
		return false;
	for (uint32_t i = n; i < len - 2; i++)
		if (p[i] == '\r' || p[i] == '\n')
			return false;
	return true;
}

/* The error lines any command may get; true (and r->status set) if p is one. */
static bool mc_parse_error_line(const uint8_t *p, uint32_t len, struct codec_reply *r)
{
	if (mc_is_line(p, len, "ERROR"))
		r->status = WE_STATUS_UNKNOWN_OP;
	else if (mc_is_line_with_prefix(p, len, "CLIENT_ERROR "))
		r->status = WE_STATUS_BAD_REQUEST;
	else if (mc_is_line_with_prefix(p, len, "SERVER_ERROR object too large"))
		r->status = WE_STATUS_VALUE_TOO_LARGE;
	else if (mc_is_line_with_prefix(p, len, "SERVER_ERROR out of memory"))
		r->status = WE_STATUS_NO_SPACE;
	else if (mc_is_line_with_prefix(p, len, "SERVER_ERROR "))
		r->status = WE_STATUS_BUSY;
	else
		return false;
	return true;
}

/* A decimal number of at most 20 digits fitting in 64 bits; advances *pos. */
static bool mc_parse_u64(const uint8_t *p, uint32_t len, uint32_t *pos, uint64_t *out)
{
	uint32_t i = *pos;
	uint64_t v = 0;

	if (i >= len || p[i] < '0' || p[i] > '9')
		return false;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*pos = i;
	*out = v;
	return true;
}

/* VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\nEND\r\n, nothing after. */
static int mc_parse_value(const uint8_t *p, uint32_t len, struct codec_reply *r)
{
	static const char trailer[] = "\r\nEND\r\n";
	uint32_t pos = 6, key_start;
	uint64_t flags, bytes, cas;

	if (len < 6 || memcmp(p, "VALUE ", 6) != 0)
		return -EBADMSG;
	key_start = pos;
	while (pos < len && p[pos] > ' ' && p[pos] != 0x7f)
		pos++;
	if (pos == key_start || pos - key_start > WORKLOAD_KEY_MAX || pos >= len || p[pos] != ' ')
		return -EBADMSG;
	r->key = p + key_start;
	r->key_len = pos - key_start;
	pos++;
	if (!mc_parse_u64(p, len, &pos, &flags) || flags > UINT32_MAX)
		return -EBADMSG;
	if (pos >= len || p[pos] != ' ')
		return -EBADMSG;
	pos++;
	if (!mc_parse_u64(p, len, &pos, &bytes))
		return -EBADMSG;
	if (pos < len && p[pos] == ' ') {
		pos++;
		if (!mc_parse_u64(p, len, &pos, &cas))
			return -EBADMSG;
	}
	if (len - pos < 2 || p[pos] != '\r' || p[pos + 1] != '\n')
		return -EBADMSG;
	pos += 2;
	/* Exactly the data and the trailer must remain. */
	if (bytes > len - pos || len - pos - bytes != sizeof(trailer) - 1 ||
	    memcmp(p + pos + bytes, trailer, sizeof(trailer) - 1) != 0)
		return -EBADMSG;
	r->value = p + pos;
	r->value_len = (uint32_t)bytes;
	r->has_value = true;
	r->status = WE_STATUS_OK;
	return 0;
}

int codec_mc_parse_reply(const uint8_t *p, uint32_t len, uint8_t op, struct codec_reply *r)
{
	r->op = 0;
	r->has_value = false;
	r->value = 0;
	r->value_len = 0;
	r->key = 0;
	r->key_len = 0;
	if (mc_parse_error_line(p, len, r))
		return 0;
	switch (op) {
	case WORKLOAD_OP_GET:
		if (mc_is_line(p, len, "END")) {
			r->status = WE_STATUS_NOT_FOUND;
			return 0;
		}
		return mc_parse_value(p, len, r);
	case WORKLOAD_OP_PUT:
		if (mc_is_line(p, len, "STORED"))
			r->status = WE_STATUS_OK;
		else if (mc_is_line(p, len, "NOT_STORED"))
			r->status = WE_STATUS_NO_SPACE;
		else if (mc_is_line(p, len, "EXISTS"))
			r->status = WE_STATUS_BUSY;
		else if (mc_is_line(p, len, "NOT_FOUND"))
			r->status = WE_STATUS_NOT_FOUND;
		else
			return -EBADMSG;
		return 0;
	case WORKLOAD_OP_DELETE:
		if (mc_is_line(p, len, "DELETED"))
			r->status = WE_STATUS_OK;
		else if (mc_is_line(p, len, "NOT_FOUND"))
			r->status = WE_STATUS_NOT_FOUND;
		else
			return -EBADMSG;
		return 0;
	}
	return -EBADMSG;
}

int codec_mc_reasm_init(struct codec_mc_reasm *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < MC_REASM_SLOTS; i++) {
		r->slots[i].buf = malloc((size_t)MC_REASM_FRAGS_MAX * MC_FRAG_MAX);
		if (r->slots[i].buf == NULL) {
			codec_mc_reasm_fini(r);
			return -ENOMEM;
		}
	}
	return 0;
}

void codec_mc_reasm_fini(struct codec_mc_reasm *r)
{
	for (unsigned i = 0; i < MC_REASM_SLOTS; i++) {
		free(r->slots[i].buf);
		r->slots[i].buf = NULL;
	}
}

/* The slot collecting request_id, or a fresh one (the oldest evicted if all
 * are busy). */
static struct codec_mc_reasm_slot *mc_reasm_slot(struct codec_mc_reasm *r, uint16_t request_id)
{
	struct codec_mc_reasm_slot *free_slot = 0, *oldest = 0;

	for (unsigned i = 0; i < MC_REASM_SLOTS; i++) {
		struct codec_mc_reasm_slot *s = &r->slots[i];

		if (s->busy && s->request_id == request_id)
			return s;
		if (!s->busy && free_slot == 0)
			free_slot = s;
		if (s->busy && (oldest == 0 || s->stamp_ns < oldest->stamp_ns))
			oldest = s;
	}
	if (free_slot == 0) {
		free_slot = oldest;
		r->evicted++;
	}
	memset(free_slot->frag_len, 0, sizeof(free_slot->frag_len));
	free_slot->busy = 0;
	free_slot->received = 0;
	free_slot->total = 0;
	free_slot->request_id = request_id;
	return free_slot;
}

int codec_mc_reasm_add(struct codec_mc_reasm *r, const struct mc_frame *f,
		       const uint8_t *payload, uint32_t len, uint64_t now_ns,
		       const uint8_t **out, uint32_t *out_len)
{
	struct codec_mc_reasm_slot *s;
	uint32_t packed = 0;

	WE_ASSERT(f->seq < f->total);
	if (f->total == 1) {
		*out = payload;
		*out_len = len;
		return 1;
	}
	/* Zero-length fragments are refused: frag_len 0 marks "not yet here". */
	if (f->total > MC_REASM_FRAGS_MAX || len > MC_FRAG_MAX || len == 0)
		return -EBADMSG;
	s = mc_reasm_slot(r, f->request_id);
	if (s->busy && s->total != f->total) {
		s->busy = 0;
		return -EBADMSG;
	}
	s->busy = 1;
	s->total = f->total;
	s->stamp_ns = now_ns;
	if (s->frag_len[f->seq] != 0)
		return 0; /* duplicate */
	memcpy(s->buf + (size_t)f->seq * MC_FRAG_MAX, payload, len);
	s->frag_len[f->seq] = (uint16_t)len;
	if (++s->received < s->total)
		return 0;
	for (uint16_t i = 0; i < s->total; i++) {
		memmove(s->buf + packed, s->buf + (size_t)i * MC_FRAG_MAX, s->frag_len[i]);
		packed += s->frag_len[i];
	}
	s->busy = 0;
	*out = s->buf;
	*out_len = packed;
	return 1;
}
