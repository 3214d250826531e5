/* memif_guard.c - park the workers around the memif driver's unmaps.
 *
 * DESIGN: when a memif peer goes away, DPDK 22.11's driver runs
 * memif_disconnect() on EAL's interrupt thread: it marks the link down,
 * clears its CONNECTED flag, closes the queues' event fds, then
 * memif_free_regions() unmaps every shared region (the rings and the packet
 * buffers), frees each region's descriptor and clears its table entry. A
 * worker inside rte_eth_rx_burst()/tx_burst() at that moment reads unmapped
 * memory or a cleared entry and the process dies (seen on the 2nd to 7th
 * peer killed under load, both roles). Nothing in the driver synchronises
 * the two, and Debian 12 ships only 22.11, so the fix lives here.
 *
 * The PMD is a shared object that EAL loads at start and that imports
 * munmap() from libc; the executable exports its own munmap() (meson:
 * --export-dynamic-symbol=munmap), so the driver's call lands here. While
 * the guard is armed (a memif port, workers running), a call whose caller's
 * code lies in the memif PMD, from any thread but a worker, is a quiescent
 * state hand-off, not a timing hope:
 *
 *   1. park the workers (worker_pause_all: each acknowledges from its loop,
 *      outside the port, within microseconds; bounded wait);
 *   2. unmap;
 *   3. release them once the link reads down. memif_disconnect() marks the
 *      link down and clears CONNECTED before it unmaps, on this same thread,
 *      and every rx/tx call of 22.11's driver tests CONNECTED before it
 *      touches a ring (checked in the disassembly of eth_memif_rx/tx), so a
 *      released worker gets 0 frames and touches nothing of the old
 *      connection. A new connection maps new regions before it sets
 *      CONNECTED. Should the link still read up (a driver that unmaps a live
 *      connection), the workers stay parked and the supervisor releases them
 *      through memif_guard_service() once it reads down.
 *
 * While the interrupt thread waits here, the driver's disconnect is only
 * half done; a port restart by the supervisor would run a second disconnect
 * over the same regions at the same time (a double free in the driver), so
 * the supervisor asks memif_guard_busy() first and waits.
 *
 * Every other munmap (EAL's, other libraries', ours; the guard disarmed)
 * goes straight to libc's. The pause is counted (worker.c), so the guard and
 * the supervisor restarting the port may overlap without waiting for each
 * other; the supervisor's own unmaps (port restart) go through the guard too
 * and cost one more acknowledgement from already parked workers.
 *
 * Limit: if the workers do not all park within MEMIF_GUARD_TIMEOUT_MS (a
 * worker thread descheduled that long in the middle of a burst, or stuck),
 * waiting longer would stall the interrupt thread and, with it, every parked
 * worker; unmapping would risk the crash. The guard then skips that unmap
 * (the memory stays mapped: leaked, counted and reported loudly on stderr),
 * releases the parked workers and lets the driver go on. A late worker then
 * reads memory that still exists; what remains is the driver's own table
 * entry for the region, cleared right after the unmap, which such a worker
 * may still follow if it was inside the driver at that moment.
 */
#include "memif_guard.h"

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "we_time.h"
#include "worker.h"

#define MEMIF_GUARD_PMD_NAME "librte_net_memif"

static struct {
	struct worker *const *workers;
	unsigned n_workers;
	uint16_t port_id;
	bool armed;          /* read by every munmap: atomics */
	bool ever_armed;
	uintptr_t text_lo;   /* the memif PMD's code, [lo, hi); 0, 0 if not found */
	uintptr_t text_hi;
	/* Figures (atomics: the interrupt thread and the main lcore). */
	uint64_t held;       /* unmaps done with the workers parked */
	uint64_t wait_max_ns;/* longest wait for them to park */
	uint64_t skipped;    /* unmaps skipped: the workers did not park in time */
	uint64_t skipped_bytes;
	uint32_t handoffs;   /* pauses left to the supervisor (link still up) */
	uint32_t in_unmap;   /* threads inside memif_guard_unmap() */
	uint64_t entered;    /* guarded unmaps begun, ever */
	uint64_t last_unmap_ns; /* when the last one left it */
} memif_guard;

static int (*memif_guard_libc_munmap)(void *, size_t);

/* Find libc's munmap (through ASan's when it is loaded) once, before main. */
__attribute__((constructor)) static void memif_guard_resolve(void)
{
	memif_guard_libc_munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
}

static int memif_guard_forward(void *addr, size_t len)
{
	if (memif_guard_libc_munmap != NULL)
		return memif_guard_libc_munmap(addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}

/* dl_iterate_phdr callback: the executable segment of the memif PMD. */
static int memif_guard_find_pmd(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (info->dlpi_name == NULL || strstr(info->dlpi_name, MEMIF_GUARD_PMD_NAME) == NULL)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) != 0) {
			memif_guard.text_lo = info->dlpi_addr + ph->p_vaddr;
			memif_guard.text_hi = memif_guard.text_lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static bool memif_guard_link_up(void)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(memif_guard.port_id, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_UP;
}

void memif_guard_arm(uint16_t port_id, struct worker *const *workers, unsigned n)
{
	memif_guard.workers = workers;
	memif_guard.n_workers = n;
	memif_guard.port_id = port_id;
	dl_iterate_phdr(memif_guard_find_pmd, NULL);
	if (memif_guard.text_lo == 0)
		fprintf(stderr, "warpengine: memif guard: the memif PMD's code was not found (linked "
				"statically?); every unmap by a non-worker thread is guarded\n");
	memif_guard.ever_armed = true;
	__atomic_store_n(&memif_guard.armed, true, __ATOMIC_SEQ_CST);
}

void memif_guard_disarm(void)
{
	__atomic_store_n(&memif_guard.armed, false, __ATOMIC_SEQ_CST);
}

void memif_guard_service(void)
{
	while (__atomic_load_n(&memif_guard.handoffs, __ATOMIC_ACQUIRE) != 0 &&
	       !memif_guard_link_up()) {
		__atomic_fetch_sub(&memif_guard.handoffs, 1, __ATOMIC_ACQ_REL);
		worker_resume_all();
	}
}

void memif_guard_report(FILE *out)
{
	if (!memif_guard.ever_armed)
		return;
	fprintf(out, "warpengine: memif guard: %lu unmaps held until the workers parked (longest "
		     "wait %lu us), %lu skipped (%lu bytes left mapped)\n",
		(unsigned long)__atomic_load_n(&memif_guard.held, __ATOMIC_RELAXED),
		(unsigned long)(__atomic_load_n(&memif_guard.wait_max_ns, __ATOMIC_RELAXED) / 1000),
		(unsigned long)__atomic_load_n(&memif_guard.skipped, __ATOMIC_RELAXED),
		(unsigned long)__atomic_load_n(&memif_guard.skipped_bytes, __ATOMIC_RELAXED));
}

static void memif_guard_note_wait(uint64_t ns)
{
	uint64_t max = __atomic_load_n(&memif_guard.wait_max_ns, __ATOMIC_RELAXED);

	while (ns > max && !__atomic_compare_exchange_n(&memif_guard.wait_max_ns, &max, ns, false,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

bool memif_guard_busy(void)
{
	uint64_t last = __atomic_load_n(&memif_guard.last_unmap_ns, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&memif_guard.in_unmap, __ATOMIC_ACQUIRE) != 0 ||
	       (last != 0 && we_monotonic_ns() - last < MEMIF_GUARD_SETTLE_NS);
}

uint64_t memif_guard_unmaps(void)
{
	return __atomic_load_n(&memif_guard.entered, __ATOMIC_ACQUIRE);
}

static int memif_guard_unmap_parked(void *addr, size_t len);

/* Counts the threads inside, for memif_guard_busy(). */
static int memif_guard_unmap(void *addr, size_t len)
{
	int rc;

	__atomic_fetch_add(&memif_guard.in_unmap, 1, __ATOMIC_ACQ_REL);
	__atomic_fetch_add(&memif_guard.entered, 1, __ATOMIC_ACQ_REL);
	rc = memif_guard_unmap_parked(addr, len);
	__atomic_store_n(&memif_guard.last_unmap_ns, we_monotonic_ns(), __ATOMIC_RELEASE);
	__atomic_fetch_sub(&memif_guard.in_unmap, 1, __ATOMIC_ACQ_REL);
	return rc;
}

/* The hand-off itself (steps 1-3 of the DESIGN paragraph). */
static int memif_guard_unmap_parked(void *addr, size_t len)
{
	uint64_t t0 = we_monotonic_ns();
	int rc;

	if (!worker_pause_all(memif_guard.workers, memif_guard.n_workers,
			      MEMIF_GUARD_TIMEOUT_MS)) {
		char parked[64] = "";
		size_t at = 0;

		/* Which workers sat in their park loop when the wait ended. */
		for (unsigned i = 0; i < memif_guard.n_workers && at + 4 < sizeof(parked); i++)
			if (__atomic_load_n(&memif_guard.workers[i]->paused, __ATOMIC_ACQUIRE))
				at += (size_t)snprintf(parked + at, sizeof(parked) - at, " %u", i);
		__atomic_fetch_add(&memif_guard.skipped, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&memif_guard.skipped_bytes, len, __ATOMIC_RELAXED);
		fprintf(stderr, "warpengine: MEMIF GUARD: the workers did not park within %u ms "
				"(parked:%s); the memif driver's unmap of %zu bytes at %p is SKIPPED "
				"(left mapped, leaked) so that no worker touches unmapped memory\n",
			MEMIF_GUARD_TIMEOUT_MS, at != 0 ? parked : " none", len, addr);
		return 0;
	}
	memif_guard_note_wait(we_monotonic_ns() - t0);
	rc = memif_guard_forward(addr, len);
	__atomic_fetch_add(&memif_guard.held, 1, __ATOMIC_RELAXED);
	if (memif_guard_link_up()) {
		fprintf(stderr, "warpengine: MEMIF GUARD: the memif driver unmapped a region while "
				"the link reads up; the workers stay parked until it reads down\n");
		__atomic_fetch_add(&memif_guard.handoffs, 1, __ATOMIC_ACQ_REL);
		return rc;
	}
	worker_resume_all();
	return rc;
}

/* Interposes libc's munmap for the whole process (see the DESIGN paragraph). */
int munmap(void *addr, size_t len)
{
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);
	unsigned lcore;

	if (!__atomic_load_n(&memif_guard.armed, __ATOMIC_ACQUIRE))
		return memif_guard_forward(addr, len);
	if (memif_guard.text_lo != 0 &&
	    (caller < memif_guard.text_lo || caller >= memif_guard.text_hi))
		return memif_guard_forward(addr, len);
	lcore = rte_lcore_id();
	if (lcore != LCORE_ID_ANY && lcore != rte_get_main_lcore())
		return memif_guard_forward(addr, len); /* a worker never waits for itself */
	return memif_guard_unmap(addr, len);
}
