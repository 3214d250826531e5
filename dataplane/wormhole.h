/* wormhole.h - the inter-lcore forwarding rings (the specification's wormholes).
 *
 * Each worker has one inbound ring: any worker may enqueue (multi-producer),
 * only the owner dequeues (single consumer). A ring carries mbufs holding a
 * complete Ethernet/IPv4/UDP datagram addressed as the client addressed it,
 * so the receiving worker runs it through the same path as a NIC frame and
 * answers the client from its own TX queue.
 */
#ifndef WORMHOLE_H
#define WORMHOLE_H

#include <stdint.h>

#include "execute.h"

struct rte_ring;
struct worker;
struct worker_dgram;

#define WORMHOLE_RING_SIZE 1024 /* datagrams in flight towards one worker */
_Static_assert((WORMHOLE_RING_SIZE & (WORMHOLE_RING_SIZE - 1)) == 0, "ring size power of two");

struct wormhole {
	uint16_t n_workers;
	struct rte_ring *inbound[]; /* one per worker */
};

/* Create the rings on NUMA socket `socket`. NULL (after a message) on failure. */
struct wormhole *wormhole_create(uint16_t n_workers, int socket);
void wormhole_destroy(struct wormhole *w);

/* Send the entries of datagram d that rt routes to other workers to their
 * owners' rings; entries that cannot be handed over are marked refused in
 * rt (answered BUSY by execute_batch). */
void wormhole_forward(struct worker *w, const struct worker_dgram *d, struct execute_route *rt);

#endif
