/* eth_restart.c - stop and start an ethdev port on EAL's interrupt thread
 * (eth_restart.h says why). */
#include "eth_restart.h"

#include <errno.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_ethdev.h>

/* One restart at a time; static, so a restart that outlives its caller's
 * wait still writes into memory that exists. */
static struct {
	uint16_t port_id;
	bool stop_first;
	bool started; /* the port runs afterwards */
	int rc;
	int pending; /* asked for, not run yet (atomic) */
	int done;    /* run (atomic) */
} eth_restart_call;

static void eth_restart_run(void *arg)
{
	(void)arg;
	int rc = 0;

	if (eth_restart_call.stop_first) {
		rc = rte_eth_dev_stop(eth_restart_call.port_id);
		if (rc == 0)
			eth_restart_call.stop_first = false;
	}
	if (rc == 0) {
		rc = rte_eth_dev_start(eth_restart_call.port_id);
		eth_restart_call.started = rc == 0;
	} else {
		eth_restart_call.started = true; /* the stop failed: it still runs */
	}
	eth_restart_call.rc = rc;
	__atomic_store_n(&eth_restart_call.done, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&eth_restart_call.pending, 0, __ATOMIC_RELEASE);
}

int eth_restart_on_intr_thread(uint16_t port_id, bool *started, unsigned timeout_ms)
{
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000};
	int rc;

	if (__atomic_load_n(&eth_restart_call.pending, __ATOMIC_ACQUIRE) != 0)
		return -EBUSY;
	eth_restart_call.port_id = port_id;
	eth_restart_call.stop_first = *started;
	eth_restart_call.started = *started;
	eth_restart_call.rc = 0;
	__atomic_store_n(&eth_restart_call.done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&eth_restart_call.pending, 1, __ATOMIC_RELEASE);
	rc = rte_eal_alarm_set(1, eth_restart_run, NULL);
	if (rc != 0) {
		__atomic_store_n(&eth_restart_call.pending, 0, __ATOMIC_RELEASE);
		return rc;
	}
	for (unsigned ms = 0; ms < timeout_ms; ms++) {
		if (__atomic_load_n(&eth_restart_call.done, __ATOMIC_ACQUIRE) != 0) {
			*started = eth_restart_call.started;
			return eth_restart_call.rc;
		}
		nanosleep(&tick, NULL);
	}
	/* Not run yet: take it back if it has not begun. */
	if (rte_eal_alarm_cancel(eth_restart_run, NULL) > 0)
		__atomic_store_n(&eth_restart_call.pending, 0, __ATOMIC_RELEASE);
	return -ETIMEDOUT;
}
