/* worker_tx.h - a worker's transmit buffer and the payload of its mbufs.
 *
 * Shared by the files of the worker's request path (worker.c, reply.c,
 * wormhole.c); inline because every reply passes through them. Only the
 * worker that owns struct worker calls them.
 */
#ifndef WORKER_TX_H
#define WORKER_TX_H

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "worker.h"

/* Hand the buffered frames to the NIC queue; free and count what it refuses. */
static inline void worker_tx_flush(struct worker *w)
{
	uint16_t sent;

	if (w->n_tx == 0)
		return;
	sent = rte_eth_tx_burst(w->port_id, w->queue_id, w->tx, w->n_tx);
	for (uint16_t i = 0; i < sent; i++)
		w->stats.tx_bytes += rte_pktmbuf_pkt_len(w->tx[i]);
	w->stats.tx_packets += sent;
	w->tx_refused = sent < w->n_tx;
	if (unlikely(sent < w->n_tx)) {
		w->stats.tx_drop_full += w->n_tx - sent;
		rte_pktmbuf_free_bulk(&w->tx[sent], w->n_tx - sent);
	}
	w->n_tx = 0;
}

/* Queue one frame of frame_len bytes for transmission. */
static inline void worker_tx(struct worker *w, struct rte_mbuf *m, uint32_t frame_len)
{
	m->data_len = (uint16_t)frame_len;
	m->pkt_len = frame_len;
	if (unlikely(w->n_tx == WORKER_TX_MAX))
		worker_tx_flush(w);
	w->tx[w->n_tx++] = m;
}

/* Where the protocol payload of a datagram we build starts. */
static inline uint8_t *worker_payload(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, uint8_t *) + NETIO_UDP_HEADROOM;
}

#endif
