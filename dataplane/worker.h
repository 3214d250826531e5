/* worker.h - one worker lcore: its queue pair, its shard, its loop.
 *
 * Everything a worker reads is filled in before launch (struct worker is
 * cache-aligned and private to its lcore); the only shared state it reads is
 * the region map (data, updated by single atomic stores) and the stop flag.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "access_sample.h"
#include "archive_cleaner.h"
#include "addr_token.h"
#include "ckpt_scan.h"
#include "ctl_ring.h"
#include "execute.h"
#include "hist_log2.h"
#include "netio.h"
#include "park.h"
#include "proto.h"
#include "region_move.h"
#include "shard.h"
#include "temperature.h"
#include "worker_stats.h"

struct archive_port; /* storage/archive_io.h */

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

#define WORKER_BURST 32        /* frames per rx_burst / ring dequeue */
#define WORKER_PREFETCH_OFFSET 4 /* frames ahead whose data is prefetched */
#define WORKER_TX_MAX 128      /* replies buffered before a tx_burst */
#define WORKER_MAX 64          /* workers one process can run */
#define WORKER_CTL_RING_CAP 256 /* messages a worker's control ring holds */
#define WORKER_CTL_TAKE 16      /* messages applied per service step */
/* Empty polls before the worker pauses, and before it sleeps (unless
 * --busy-poll): a quiet box spends little CPU, a busy one never sleeps. */
#define WORKER_IDLE_PAUSE_POLLS 64
#define WORKER_IDLE_SLEEP_POLLS 2048
/* Loop iterations between two publications of the shard's gauges. */
#define WORKER_GAUGES_EVERY 4096
/* Under memory pressure a GET brings a compressed or archived item back
 * into memory (raw) only from this level on (worker.c's pressure policy
 * demotes below it). */
#define WORKER_TIER_PROMOTE_LEVEL (TEMP_LEVEL_NEW + 5)
#define WORKER_IDLE_GAUGES_NS 20000000ull /* 20 ms: an idle worker's loop is slow */
/* Datagrams a worker holds while a region moves in to it (region_move.h);
 * beyond this its entries are answered BUSY. */
#define WORKER_HELD_MAX 512

_Static_assert(WORKER_TX_MAX >= 2 * WORKER_BURST, "TX buffer holds a burst of replies");

/* One request datagram of the current burst, after decoding. */
struct worker_dgram {
	struct rte_mbuf *m;
	struct netio_udp udp;
	uint64_t echo;
	uint32_t first; /* index of its first entry in worker.reqs */
	uint16_t n;
	uint8_t hops;
	bool whole;     /* the datagram the client sent (not a forwarded subset) */
	bool has_token;
	bool validated; /* the sender showed a valid address token */
};

struct worker {
	/* Set before launch. */
	uint16_t index;
	uint16_t n_workers;
	uint16_t port_id;
	uint16_t queue_id;
	unsigned lcore_id;
	struct rte_mempool *pool;
	struct rte_ring *inbound;
	struct rte_ring *const *peers; /* inbound ring of every worker */
	struct ctl_ring *const *peer_ctl; /* control ring of every worker */
	struct netio_self self;
	struct execute_ctx exec;
	bool udp_checksum;
	bool busy_poll;
	bool reflect; /* answer every datagram with itself (packet-path baseline) */
	bool validate_addresses; /* hold unvalidated senders to the amplification budget */
	uint32_t idle_sleep_us;
	bool service_histogram; /* record busy iterations in service_time */

	struct worker_stats stats;
	/* The shard's counters (items, memory), copied out by the worker every
	 * WORKER_GAUGES_EVERY iterations, when an idle worker's copy is older
	 * than WORKER_IDLE_GAUGES_NS, and when a region move ends on its side,
	 * with relaxed atomic stores, so other threads can read them while it
	 * runs (worker_gauges_load). */
	struct shard_counters gauges we_cache_aligned;
	uint64_t gauges_ns; /* when the worker last published them (its own) */
	/* Liveness, published with the gauges and before each idle sleep
	 * (relaxed stores): loop iterations so far, and the monotonic ns of
	 * that publication (worker_heartbeat_load). */
	uint64_t published_iterations;
	uint64_t heartbeat_ns;

	/* Service time: the TSC cycles of each loop iteration that found work,
	 * one bucket increment per such iteration; the histogram's sum is
	 * stats.busy_cycles (worker_service_time_load). Written by the worker
	 * only. */
	struct hist_log2 service_time we_cache_aligned;

	/* Requests forwarded to each worker over its ring (fwd_to[j]: to
	 * worker j), the topology's measured traffic; plain increments by
	 * this worker, relaxed loads by others. */
	uint64_t fwd_to[WORKER_MAX] we_cache_aligned;

	/* The event horizon cache (shard.h): on or off, the demotion scan's
	 * cursor, the cooling clock (seconds) and the clock of the last
	 * finished pass (one pass per tick at most); the shard's tier
	 * counters as last published (relaxed stores, like the gauges). */
	bool tiers;
	bool evict; /* --evict: a cache's PUTs may delete its coldest items */
	struct shard_scan tier_cursor;
	uint32_t tier_tick, tier_pass_tick;
	struct shard_tier_counters tier_gauges;

	/* The disk tier (--disk-tier on; worker_archive.h): the port to the
	 * archive I/O thread (NULL: off), the GETs waiting for a record
	 * (exec.fetch points here), the archive scan's cursor, level (items
	 * cooler than it are archived), state and rest after a failed write,
	 * and the scratch a compressed record is decompressed into. */
	struct worker_archive {
		struct archive_port *port;
		struct archive_space *space; /* the file's segments (the shard counts stubs) */
		struct archive_cleaner cleaner;
		struct fetch_table fetch;
		struct shard_scan cursor;
		uint8_t level;
		bool scanning;
		bool dict_published; /* the shard's dictionary is on its archive file */
		uint32_t pass_picked; /* items the scan's current pass picked */
		uint64_t rest_until_ns;
		uint8_t scratch[PROTO_VALUE_MAX];
	} archive;

	/* Sampled region load and hot keys (exec.sampler points here). */
	struct access_sampler access;

	/* Region moves: this worker's part (region_move.h), the map it
	 * writes (exec.map is the same map, read-only), and the datagrams it
	 * holds for a region moving in. */
	struct region_map *map;
	struct move_worker move;
	uint16_t n_held;
	bool run_held; /* the region settled: run the held datagrams */
	struct rte_mbuf *held[WORKER_HELD_MAX];

	/* Address tokens computed lately (keyed by the process's token key). */
	struct addr_token_cache tokens;

	/* Durability (exec.log != NULL with a data directory): this worker's
	 * last logged LSN and the answers waiting for the log; how far the log
	 * is durable, as the log writer's last CTL_MSG_DURABLE said. */
	uint64_t lsn;
	struct park_table park;
	struct durable_view durable;

	/* Messages to this worker from other threads (ctl_ring.h), applied in
	 * the service step; ctl_fence_ack is the sequence of the last
	 * CTL_MSG_FENCE applied, stored with release order for the sender. */
	struct ctl_ring ctl;
	/* Checkpoints (with a data directory): this worker's scan and its end
	 * of the hand-off to the checkpoint thread; NULL without one. */
	struct ckpt_port *ckpt_port;
	struct ckpt_scan ckpt;
	_Atomic uint64_t ctl_fence_ack we_cache_aligned;
	struct ctl_cell ctl_cells[WORKER_CTL_RING_CAP];

	/* Per-burst scratch. */
	uint64_t iterations;
	bool paused; /* true while parked (informational; pauses are acknowledged
		      * per generation in worker.c); written by the worker */
	uint32_t empty_polls;
	uint16_t n_tx;
	bool tx_refused; /* the last tx_burst left frames behind: hold parked answers */
	uint16_t n_dgrams;
	struct rte_mbuf *tx[WORKER_TX_MAX];
	struct rte_mbuf *frames[WORKER_BURST];
	struct worker_dgram dgrams[WORKER_BURST];
	struct proto_request reqs[WORKER_BURST * PROTO_BATCH_MAX];
} we_cache_aligned;

/* Field by field relaxed copy of the last published gauges. */
void worker_gauges_load(const struct worker *w, struct shard_counters *out);
/* The shard's tier counters as last published. */
void worker_tier_gauges_load(const struct worker *w, struct shard_tier_counters *out);
/* The service-time histogram (TSC cycles), read while the worker runs. */
void worker_service_time_load(const struct worker *w, struct hist_log2 *out);
/* The loop iterations and the monotonic ns of the last publication. */
void worker_heartbeat_load(const struct worker *w, uint64_t *iterations, uint64_t *at_ns);

/* What a region move may touch of this worker (region_move.h). */
void worker_move_env(struct worker *w, struct move_env *env);

/* The lcore entry point (rte_eal_remote_launch); arg is a struct worker. */
int worker_main(void *arg);
void worker_request_stop(void);
/* Stop every worker from touching the port (they park until resumed), so the
 * port can be stopped and restarted. Returns false (and resumes them) if not
 * all acknowledged within timeout_ms. */
bool worker_pause_all(struct worker *const *workers, unsigned n, unsigned timeout_ms);
void worker_resume_all(void);

#endif
