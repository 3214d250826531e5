/* memif_guard.h - no memif ring is unmapped while a worker may be on it.
 *
 *   memif_guard_arm      memif_guard.c  from now on, hold the memif driver's
 *                                       unmaps until the workers are parked
 *   memif_guard_service  memif_guard.c  the supervisor's periodic look (hand-off)
 *   memif_guard_busy     memif_guard.c  a driver unmap is under way: no restart
 *   memif_guard_unmaps   memif_guard.c  guarded unmaps begun so far (a disconnect reached them)
 *   memif_guard_disarm   memif_guard.c  the workers have stopped: unmaps pass
 *   memif_guard_report   memif_guard.c  one line of figures, at exit
 *   munmap               memif_guard.c  the interposed libc call
 *
 * DPDK 22.11's memif driver unmaps the shared regions on EAL's interrupt
 * thread when its peer leaves, with nothing to keep a worker out of
 * rx_burst/tx_burst on them. The data plane exports its own munmap(); the
 * PMD, a shared object EAL loads at start, binds to it. See memif_guard.c.
 */
#ifndef MEMIF_GUARD_H
#define MEMIF_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct worker;

/* Longest wait for the workers to park before an unmap goes ahead without
 * them (see memif_guard.c for what happens then). */
#define MEMIF_GUARD_TIMEOUT_MS 1000
/* memif_guard_busy() stays true this long after the last guarded unmap, so
 * the rest of the driver's disconnect (it frees each region after its
 * unmap) is over before the supervisor touches the port. */
#define MEMIF_GUARD_SETTLE_NS 50000000ull

/* Arm the guard for port_id (a net_memif port) and the running workers.
 * workers must stay valid until memif_guard_disarm(). */
void memif_guard_arm(uint16_t port_id, struct worker *const *workers, unsigned n);
void memif_guard_disarm(void);
/* Called by the supervisor every few ms: releases the workers a guard left
 * parked because the link still read up after an unmap (see memif_guard.c). */
void memif_guard_service(void);
/* True while the memif driver is inside a guarded unmap (or just left one):
 * its disconnect is not finished, so the port must not be restarted yet. */
bool memif_guard_busy(void);
/* Guarded unmaps begun since start: when it moves after the link went
 * down, the driver's disconnect has reached its unmaps (its last step). */
uint64_t memif_guard_unmaps(void);
/* "warpengine: memif guard: N unmaps held ..." (nothing if never armed). */
void memif_guard_report(FILE *out);

#endif
