/* eth_restart.h - stop and start an ethdev port on EAL's interrupt thread.
 *
 *   eth_restart_on_intr_thread  eth_restart.c  stop + start, serialised with the PMD's handlers
 *
 * Why: a memif port's control channel (the handshake, the peer's hang-up)
 * is handled on EAL's interrupt thread, and DPDK 22.11's memif driver does
 * not lock it against rte_eth_dev_stop()/start() called from another
 * thread. A restart from the main thread while a handshake is under way
 * can leave the handshake handler writing through the control channel the
 * stop just freed (a NULL write in the driver, seen when the data plane's
 * memif client reconnected). Run as an EAL alarm, the restart happens on
 * the interrupt thread itself, between two of the driver's handlers.
 */
#ifndef ETH_RESTART_H
#define ETH_RESTART_H

#include <stdbool.h>
#include <stdint.h>

/* Stops the port when *started, then starts it; *started says whether it
 * runs afterwards. Waits up to timeout_ms for the interrupt thread. Returns
 * 0, the ethdev error, -ETIMEDOUT (the thread is busy elsewhere; the restart
 * may still run later) or -EBUSY (a restart asked for earlier has not run
 * yet). Called from one thread at a time, never the interrupt thread. */
int eth_restart_on_intr_thread(uint16_t port_id, bool *started, unsigned timeout_ms);
/* How long the data plane and the blaster wait for it. */
#define ETH_RESTART_WAIT_MS 2000

#endif
