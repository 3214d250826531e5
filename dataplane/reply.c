/* reply.c - answer one decoded request datagram: route, forward, execute,
 * transmit.
 *
 * DESIGN: the shell side of execute.h. The core routes the datagram's
 * entries; wormhole_forward() hands the foreign ones to their owners; then
 * execute_batch() fills reply datagrams in request order, and each time it
 * reports a full reply, the reply goes to the transmit buffer and a fresh
 * mbuf is opened with the same echo. An mbuf that cannot be had ends the
 * datagram's answers (counted as tx_drop_nobuf; the client times out and
 * retries), never an entry run twice.
 */
#include "reply.h"

#include "execute.h"
#include "we_assert.h"
#include "worker_tx.h"
#include "wormhole.h"

/* A reply datagram being filled, in an mbuf of the worker's pool. */
struct reply {
	struct rte_mbuf *m;
	struct proto_writer w;
};

static bool reply_open(struct worker *w, const struct worker_dgram *d, struct reply *r)
{
	r->m = rte_pktmbuf_alloc(w->pool);
	if (unlikely(r->m == NULL)) {
		w->stats.tx_drop_nobuf++;
		return false;
	}
	proto_writer_init(&r->w, worker_payload(r->m), PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE,
			  d->echo);
	return true;
}

/* Transmit the reply if it holds answers; free it otherwise. */
static void reply_close(struct worker *w, const struct worker_dgram *d, struct reply *r)
{
	uint32_t len, frame_len;

	if (r->w.count == 0) {
		rte_pktmbuf_free(r->m);
		return;
	}
	len = proto_writer_finish(&r->w);
	frame_len = netio_write_udp_reply(rte_pktmbuf_mtod(r->m, uint8_t *), &d->udp, len,
					  w->udp_checksum);
	w->stats.tx_reply_datagrams++;
	worker_tx(w, r->m, frame_len);
}

void reply_answer_dgram(struct worker *w, const struct worker_dgram *d)
{
	const struct proto_request *reqs = &w->reqs[d->first];
	struct execute_route rt;
	struct reply r;
	struct execute_reply out = {
		.w = &r.w,
		.udp = &d->udp,
		.echo = d->echo,
		.src_ip_be = d->udp.src_ip_be,
		.validated = d->validated,
		.budget_bytes = d->whole ? execute_header_budget(d->has_token) : 0,
	};
	unsigned next = 0;

	execute_route(&w->exec, reqs, d->n, d->hops, &rt);
	if (rt.n_forward != 0)
		wormhole_forward(w, d, &rt);
	if (!reply_open(w, d, &r))
		return;
	while (execute_batch(&w->exec, reqs, d->n, &rt, &next, &out) == EXECUTE_REPLY_FULL) {
		reply_close(w, d, &r);
		w->stats.tx_reply_splits++;
		if (!reply_open(w, d, &r))
			return;
	}
	reply_close(w, d, &r);
}
