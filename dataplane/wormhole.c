/* wormhole.c - the per-worker forwarding rings: create, free, forward.
 *
 * DESIGN: the core (execute_route) decides which entries of a datagram
 * belong to other workers; this file carries that out: per owner, one
 * datagram (more only if the entries cannot fit one, which the 1472-byte
 * limit on arrival rules out), addressed exactly as the client addressed
 * the original, put on the owner's ring. The owner runs it through the same
 * path as a NIC frame and answers the client from its own TX queue.
 * Entries whose region is moving in to this very worker (owner == self)
 * are built into a datagram the same way but kept in the worker's held
 * queue, to run once the region is in (region_move.h).
 */
#include "wormhole.h"

#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "we_assert.h"
#include "worker_tx.h"

struct wormhole *wormhole_create(uint16_t n_workers, int socket)
{
	struct wormhole *w = calloc(1, sizeof(*w) + n_workers * sizeof(w->inbound[0]));

	if (w == NULL)
		return NULL;
	w->n_workers = n_workers;
	for (uint16_t i = 0; i < n_workers; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "we_wormhole_%u", i);
		w->inbound[i] = rte_ring_create(name, WORMHOLE_RING_SIZE, socket, RING_F_SC_DEQ);
		if (w->inbound[i] == NULL) {
			fprintf(stderr, "warpengine: cannot create ring %s: %s\n", name,
				rte_strerror(rte_errno));
			wormhole_destroy(w);
			return NULL;
		}
	}
	return w;
}

void wormhole_destroy(struct wormhole *w)
{
	if (w == NULL)
		return;
	for (uint16_t i = 0; i < w->n_workers; i++)
		rte_ring_free(w->inbound[i]);
	free(w);
}

/* Build one owner's forward datagrams (as many as its entries need) and put
 * them on its ring. A datagram the ring refuses, or that finds no mbuf,
 * has its entries answered BUSY by the sender (execute_forward_refused). */
static void wormhole_forward_owner(struct worker *w, const struct worker_dgram *d,
				   struct execute_route *rt, uint16_t owner, unsigned first)
{
	const struct proto_request *reqs = &w->reqs[d->first];
	/* The hop count, and whether the sender was validated, travel in the
	 * batch header's reserved byte (proto.h, PROTO_FWD_*). */
	bool hold = owner == w->index; /* its region is moving in: keep it here */
	uint8_t meta = (uint8_t)((d->hops + (hold ? 0 : 1)) | (d->validated ? PROTO_FWD_VALIDATED : 0));
	unsigned next = first;

	while (next < d->n) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
		struct proto_writer fw;
		uint8_t idx[PROTO_BATCH_MAX];
		uint32_t len, frame_len;
		unsigned k;

		if (unlikely(m == NULL)) {
			/* No buffer: every entry left for this owner is refused. */
			unsigned rest = 0;

			for (unsigned i = next; i < d->n; i++)
				if (rt->owner[i] == owner)
					idx[rest++] = (uint8_t)i;
			execute_forward_refused(rt, idx, rest);
			return;
		}
		proto_writer_init(&fw, worker_payload(m), PROTO_PAYLOAD_MAX, 0, d->echo);
		k = execute_forward_fill(reqs, d->n, rt, owner, &next, &fw, idx);
		WE_ASSERT(k != 0); /* a fresh datagram takes any entry that arrived in one */
		proto_writer_set_hops(&fw, meta);
		len = proto_writer_finish(&fw);
		frame_len = netio_write_udp_copy(rte_pktmbuf_mtod(m, uint8_t *), &d->udp, len, false);
		m->data_len = (uint16_t)frame_len;
		m->pkt_len = frame_len;
		if (hold) {
			if (likely(w->n_held < WORKER_HELD_MAX)) {
				w->held[w->n_held++] = m;
			} else {
				rte_pktmbuf_free(m);
				w->stats.move_held_busy += k;
				execute_forward_refused(rt, idx, k);
			}
		} else if (unlikely(rte_ring_enqueue(w->peers[owner], m) != 0)) {
			rte_pktmbuf_free(m);
			execute_forward_refused(rt, idx, k);
		}
	}
}

void wormhole_forward(struct worker *w, const struct worker_dgram *d, struct execute_route *rt)
{
	uint64_t done = 0; /* owners already sent, one bit per worker */

	_Static_assert(WORKER_MAX <= 64, "one bit per worker");
	for (unsigned i = 0; i < d->n && rt->n_forward != 0; i++) {
		uint16_t owner = rt->owner[i];

		if (owner >= EXECUTE_REFUSED || (done & (1ull << owner)))
			continue;
		done |= 1ull << owner;
		wormhole_forward_owner(w, d, rt, owner, i);
	}
}
