/* worker_stats.c - names and descriptions of the per-worker counters. */
#include "worker_stats.h"

#include "we_assert.h"

const char *const worker_stats_names[WORKER_STATS_COUNT] = {
#define WORKER_STATS_NAME(name, text) #name,
	WORKER_STATS_LIST(WORKER_STATS_NAME)
#undef WORKER_STATS_NAME
};

const char *const worker_stats_texts[WORKER_STATS_COUNT] = {
#define WORKER_STATS_TEXT(name, text) text,
	WORKER_STATS_LIST(WORKER_STATS_TEXT)
#undef WORKER_STATS_TEXT
};

/* The rx_drop_* counters follow NETIO_DROP_LIST in the same order. */
_Static_assert(WORKER_STATS_rx_drop_udp_port_closed - WORKER_STATS_rx_drop_truncated + 1 ==
		       NETIO_VERDICT_COUNT - NETIO_DROP_FIRST,
	       "rx_drop_* counters must mirror NETIO_DROP_LIST");
_Static_assert(sizeof(struct worker_stats) % WE_CACHE_LINE == 0, "stats pad to cache lines");

unsigned worker_stats_netio_drop_index(enum netio_verdict v)
{
	WE_ASSERT(v >= NETIO_DROP_FIRST && v < NETIO_VERDICT_COUNT);
	return WORKER_STATS_rx_drop_truncated + (unsigned)(v - NETIO_DROP_FIRST);
}
