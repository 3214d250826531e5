/* wormhole.c - create and free the per-worker forwarding rings. */
#include "wormhole.h"

#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ring.h>

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
