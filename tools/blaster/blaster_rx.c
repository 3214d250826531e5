/* blaster_rx.c - the answer side of a run: match, time, verify, expire.
 *
 * DESIGN: an answer datagram is decoded by its protocol's codec into struct
 * codec_reply entries; each is matched to its request by opaque in the
 * in-flight table (an answer matching nothing, because it is late, duplicated
 * or names a reused memcached id, is counted and dropped), timed against the
 * request's intended and actual send times, checked against verify.c's rule
 * when verifying, and its request is retired. Writes settle their key's
 * verify state from the answer's status: OK (or NOT_FOUND for a DELETE)
 * applied, NOT_DURABLE unknown, anything else refused. Requests that get no
 * answer within the timeout are retired from the oldest end of the table;
 * their writes leave the key unknown, since they may or may not have run.
 */
#include "blaster.h"

#include <inttypes.h>
#include <string.h>

#include "codec_native.h"
#include "handshake.h"
#include "we_assert.h"

/* Finish an entry that will get no answer: a drop or a timeout. */
void blaster_abandon(struct blaster *b, struct inflight_entry *e, bool sent)
{
	if ((e->vflags & BLASTER_VF_TRACKED) && e->op != WORKLOAD_OP_GET)
		verify_write_done(&b->ver, inflight_key(e), e->op == WORKLOAD_OP_DELETE,
				  sent ? VERIFY_OUTCOME_UNKNOWN : VERIFY_NOT_APPLIED);
	pacer_window_release(&b->window, 1);
	inflight_complete(&b->inflight, e);
}

void blaster_expire(struct blaster *b, uint64_t now_ns)
{
	struct inflight_entry *e;

	while ((e = inflight_oldest(&b->inflight)) != NULL &&
	       ((now_ns >= e->sent_ns && now_ns - e->sent_ns >= b->cfg.timeout_ns) ||
		inflight_id_exhausted(&b->inflight, e, b->intended_cap))) {
		/* One the engine could not send for that long is a drop. */
		if (e->sent)
			b->rep->c.timeouts++;
		else
			b->rep->c.drops++;
		blaster_abandon(b, e, e->sent);
	}
}

/* ---- answers ---------------------------------------------------------- */

static void blaster_log_wrong(struct blaster *b, const struct inflight_entry *e,
			      const struct codec_reply *r)
{
	uint8_t key[WORKLOAD_KEY_MAX];
	uint32_t key_len;

	/* The first few in full; after that the counter speaks. */
	if (b->cfg.log == NULL || b->wrong_logged++ >= 10)
		return;
	key_len = workload_key(&b->wl, inflight_key(e), key);
	fprintf(b->cfg.log,
		"wrong value: key %.*s (index %" PRIu64 "): answer %s, %" PRIu32
		" bytes; valid: versions %u..%u%s\n",
		(int)key_len, key, inflight_key(e), r->has_value ? "a value" : "not found",
		r->value_len, e->version, b->ver.keys[inflight_key(e)].version,
		(e->vflags & VERIFY_ABSENT) ? " (absent at send)" : "");
}

static void blaster_verify_answer(struct blaster *b, const struct inflight_entry *e,
				  const struct codec_reply *r)
{
	struct report_counters *c = &b->rep->c;
	uint64_t key = inflight_key(e);

	if (e->op == WORKLOAD_OP_GET) {
		struct verify_snap snap = {
			.version_lo = e->version,
			.deletes_lo = e->deletes_lo,
			.flags = e->vflags & (VERIFY_ABSENT | VERIFY_UNKNOWN),
		};
		enum verify_result v;

		if (r->status != WE_STATUS_OK && r->status != WE_STATUS_NOT_FOUND)
			return; /* an error is counted by status, not checked */
		v = verify_read_check(&b->ver, &b->wl, key, &snap, r->status == WE_STATUS_OK,
				      r->value, r->value_len);
		if (v == VERIFY_OK) {
			c->verified++;
		} else if (v == VERIFY_UNVERIFIED) {
			c->unverified++;
		} else {
			c->wrong_values++;
			blaster_log_wrong(b, e, r);
		}
		return;
	}
	if (r->status == WE_STATUS_OK ||
	    (e->op == WORKLOAD_OP_DELETE && r->status == WE_STATUS_NOT_FOUND))
		verify_write_done(&b->ver, key, e->op == WORKLOAD_OP_DELETE, VERIFY_APPLIED);
	else if (r->status == WE_STATUS_NOT_DURABLE)
		verify_write_done(&b->ver, key, e->op == WORKLOAD_OP_DELETE,
				  VERIFY_OUTCOME_UNKNOWN);
	else
		verify_write_done(&b->ver, key, e->op == WORKLOAD_OP_DELETE, VERIFY_NOT_APPLIED);
}

static void blaster_complete(struct blaster *b, struct inflight_entry *e,
			     const struct codec_reply *r, uint64_t now_ns)
{
	struct report_counters *c = &b->rep->c;

	c->answered++;
	c->status[r->status < WE_STATUS_COUNT ? r->status : WE_STATUS_COUNT]++;
	c->need_token += r->status == WE_STATUS_NEED_TOKEN;
	hist_record(&b->rep->interval, now_ns > e->intended_ns ? now_ns - e->intended_ns : 0);
	hist_record(&b->rep->rtt, now_ns > e->sent_ns ? now_ns - e->sent_ns : 0);
	if (e->vflags & BLASTER_VF_TRACKED)
		blaster_verify_answer(b, e, r);
	if (b->cfg.fill_on_miss && e->op == WORKLOAD_OP_GET && r->status == WE_STATUS_NOT_FOUND &&
	    b->phase == BLASTER_PHASE_RUN && b->fill_tail - b->fill_head < BLASTER_FILL_QUEUE)
		b->fill_keys[b->fill_tail++ % BLASTER_FILL_QUEUE] = inflight_key(e);
	pacer_window_release(&b->window, 1);
	inflight_complete(&b->inflight, e);
}

static void blaster_rx_native(struct blaster *b, const uint8_t *buf, uint32_t len,
			      uint64_t now_ns)
{
	struct codec_reply replies[PROTO_BATCH_MAX];
	uint8_t batch_status;
	uint64_t echo;
	unsigned n;

	if (codec_native_decode(buf, len, replies, PROTO_BATCH_MAX, &n, &batch_status, &echo)) {
		b->rep->c.rx_malformed++;
		return;
	}
	if (batch_status != WE_STATUS_OK)
		b->rep->c.rx_batch_errors++;
	for (unsigned i = 0; i < n; i++) {
		struct codec_reply *r = &replies[i];
		struct inflight_entry *e;

		/* The answer to a renewal of the token (handshake.c); a late
		 * copy of one answers no request, whatever its opaque. */
		if (r->op == PROTO_OP_TOKEN &&
		    handshake_token(echo, r->value, r->value_len, r->op, r->status)) {
			blaster_token_renewed(b, r->value, now_ns);
			continue;
		}
		e = r->op == PROTO_OP_TOKEN ? NULL : inflight_find(&b->inflight, r->opaque);
		if (e == NULL) {
			b->rep->c.rx_unmatched++;
			continue;
		}
		/* An answer for another op cannot be checked: a server bug. */
		if (r->op != e->op) {
			b->rep->c.rx_malformed++;
			r->status = WE_STATUS_MALFORMED;
			r->has_value = false;
		}
		blaster_complete(b, e, r, now_ns);
	}
}

static void blaster_rx_mc(struct blaster *b, const uint8_t *buf, uint32_t len, uint64_t now_ns)
{
	struct mc_frame f;
	struct codec_reply r;
	struct inflight_entry *e;
	const uint8_t *payload;
	uint32_t payload_len;
	int rc;

	if (codec_mc_frame_decode(buf, len, &f)) {
		b->rep->c.rx_malformed++;
		return;
	}
	rc = codec_mc_reasm_add(&b->reasm, &f, buf + MC_FRAME_HDR_SIZE, len - MC_FRAME_HDR_SIZE,
				now_ns, &payload, &payload_len);
	if (rc <= 0) {
		if (rc < 0)
			b->rep->c.rx_malformed++;
		return;
	}
	e = inflight_find(&b->inflight, f.request_id);
	if (e == NULL) {
		b->rep->c.rx_unmatched++;
		return;
	}
	if (codec_mc_parse_reply(payload, payload_len, e->op, &r)) {
		b->rep->c.rx_malformed++;
		memset(&r, 0, sizeof(r));
		r.status = WE_STATUS_MALFORMED;
	}
	if (r.key) {
		uint8_t key[WORKLOAD_KEY_MAX];
		uint32_t key_len = workload_key(&b->wl, inflight_key(e), key);

		/* Request ids are 16 bits: a very late answer may name a reused
		 * id. The key tells; such an answer is not this request's. */
		if (key_len != r.key_len || memcmp(key, r.key, key_len) != 0) {
			b->rep->c.rx_unmatched++;
			return;
		}
	}
	r.opaque = f.request_id;
	blaster_complete(b, e, &r, now_ns);
}

void blaster_rx(struct blaster *b, const uint8_t *buf, uint32_t len, uint64_t now_ns)
{
	b->rep->c.dgrams_received++;
	if (b->cfg.proto == BLASTER_PROTO_NATIVE)
		blaster_rx_native(b, buf, len, now_ns);
	else
		blaster_rx_mc(b, buf, len, now_ns);
}
