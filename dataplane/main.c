/* main.c - the data plane process: options, EAL, port, shards, workers.
 *
 * DESIGN: everything that can fail is done before the workers launch: the
 * options are parsed and checked first (before EAL, so a typo costs no EAL
 * start-up and its message is not buried in EAL's log), then EAL, the port
 * and its queues, the forwarding rings and each worker's shard. The main
 * lcore then only supervises: it writes the stats file and the log line,
 * and on SIGINT/SIGTERM asks the workers to stop, waits for them and prints
 * the totals.
 *
 * Shard memory comes from anonymous mmap with transparent huge pages, faulted
 * in before launch: it needs no DMA, so it need not come from EAL's (possibly
 * small, --no-huge) memory, and no page fault happens on the request path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "config.h"
#include "durability.h"
#include "memif_guard.h"
#include "port.h"
#include "region_map.h"
#include "we_time.h"
#include "shard.h"
#include "tier_codec.h"
#include "stats.h"
#include "stats_storage.h"
#include "supervisor.h"
#include "worker.h"
#include "wormhole.h"


/* Split argv at "--": EAL gets the part before, we parse the part after. */
static int main_find_separator(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return i;
	return argc;
}

/* Shard memory: anonymous, THP-backed, faulted in now. NULL on failure. */
static void *main_shard_memory(size_t bytes)
{
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	madvise(mem, bytes, MADV_HUGEPAGE);
	memset(mem, 0, bytes);
	return mem;
}


static int main_setup_workers(struct dataplane *st)
{
	struct shard_config scfg = {
		.capacity_items = st->cfg.capacity_items,
		.arena_bytes = st->cfg.arena_bytes,
		.hash_secret = &st->hash_secret,
	};
	unsigned lcore, i = 0;

	if (keyhash_secret_init(&st->hash_secret) != 0 ||
	    addr_token_key_init(&st->token_key) != 0) {
		fprintf(stderr, "warpengine: no random bytes for the hash and token secrets: %s\n",
			strerror(errno));
		return -EIO;
	}

	st->shard_mem_bytes = shard_memory_size(&scfg);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct worker *w = rte_zmalloc_socket("we_worker", sizeof(*w) + shard_sizeof(),
						      WE_CACHE_LINE, (int)rte_lcore_to_socket_id(lcore));
		struct shard *shard;

		if (w == NULL) {
			fprintf(stderr, "warpengine: no EAL memory for worker %u (%zu bytes)\n", i,
				sizeof(*w));
			return -ENOMEM;
		}
		st->workers[i] = w;
		shard = (struct shard *)(w + 1);
		st->shard_mem[i] = main_shard_memory(st->shard_mem_bytes);
		if (st->shard_mem[i] == NULL) {
			fprintf(stderr, "warpengine: cannot map %zu MiB for shard %u: %s\n",
				st->shard_mem_bytes >> 20, i, strerror(errno));
			return -ENOMEM;
		}
		if (shard_init(shard, st->shard_mem[i], st->shard_mem_bytes, &scfg) != 0) {
			fprintf(stderr, "warpengine: shard %u: capacity %lu / arena %lu bytes "
					"rejected\n",
				i, (unsigned long)scfg.capacity_items,
				(unsigned long)scfg.arena_bytes);
			return -EINVAL;
		}
		if (st->cfg.tier_dict) {
			st->tier_dicts[i] = tier_dict_create();
			if (st->tier_dicts[i] == NULL) {
				fprintf(stderr, "warpengine: no memory for shard %u's tier dictionary\n",
					i);
				return -ENOMEM;
			}
			shard_set_dict(shard, st->tier_dicts[i]);
		}
		w->index = (uint16_t)i;
		w->n_workers = (uint16_t)st->n_workers;
		w->port_id = st->port.port_id;
		w->queue_id = (uint16_t)i;
		w->lcore_id = lcore;
		w->pool = st->port.pool;
		w->inbound = st->wormhole->inbound[i];
		w->peers = st->wormhole->inbound;
		memcpy(w->self.mac, st->port.mac, 6);
		w->self.ip_be = st->cfg.ip_be;
		w->self.udp_port_base = st->cfg.port_base;
		w->self.udp_port_count = (uint16_t)st->n_workers;
		w->self.mtu = NETIO_MTU_DEFAULT; /* the port's MTU is not changed */
		w->self.udp_payload_max = PROTO_PAYLOAD_MAX;
		w->exec.shard = shard;
		w->exec.map = st->map;
		w->exec.stats = &w->stats;
		w->exec.self = (uint16_t)i;
		w->exec.secret = &st->hash_secret;
		w->exec.tokens = &w->tokens;
		addr_token_cache_init(&w->tokens, &st->token_key);
		w->validate_addresses = st->cfg.validate_addresses;
		w->udp_checksum = st->cfg.udp_checksum;
		w->busy_poll = st->cfg.busy_poll;
		w->reflect = st->cfg.reflect;
		w->idle_sleep_us = st->cfg.idle_sleep_us;
		w->service_histogram = st->cfg.service_histogram;
		if (access_sample_init(&w->access, st->cfg.access_sample_every,
				       ACCESS_WINDOW_NS_DEFAULT, we_monotonic_ns()) != 0)
			return -ENOMEM;
		w->exec.sampler = &w->access;
		w->tiers = st->cfg.tiers;
		w->evict = st->cfg.evict; /* the shard follows at the worker's start */
		w->exec.fwd_to = w->fwd_to;
		if (ctl_ring_init(&w->ctl, w->ctl_cells, WORKER_CTL_RING_CAP) != 0)
			return -EINVAL;
		st->ctl_rings[i] = &w->ctl;
		w->peer_ctl = st->ctl_rings;
		w->map = st->map;
		move_worker_init(&w->move);
		w->exec.durable = &w->durable;
		i++;
	}
	return 0;
}

/* --data-dir: open the directory, replay its log into the shards, start
 * the log writer. Returns EX_OK or the sysexits code to exit with. */
static int main_open_data_dir(struct dataplane *st)
{
	struct durability_options opt = {
		.path = st->cfg.data_dir,
		.ring_bytes = st->cfg.wal_ring_bytes,
		.park_capacity = st->cfg.park_capacity,
		.disk_tier = st->cfg.disk_tier,
		.disk_tier_bytes = st->cfg.disk_tier_bytes,
	};
	char err[512];
	int rc;

	rc = durability_open(&st->durability, &opt, st->workers, st->n_workers, st->map, err,
			     sizeof(err));
	if (rc == 0)
		rc = durability_start(&st->durability, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "warpengine: --data-dir %s: %s\n", st->cfg.data_dir, err);
		switch (rc) {
		case -EBUSY:
			return EX_TEMPFAIL;
		case -EPROTO:
		case -EUCLEAN:
			return EX_DATAERR;
		case -EINVAL:
			return EX_CONFIG;
		case -EPERM:
		case -ENOSYS:
			return EX_UNAVAILABLE;
		default:
			return EX_IOERR;
		}
	}
	printf("warpengine: data directory %s (generation %lu%s), default durability %s, "
	       "group commit every %u us\n",
	       st->cfg.data_dir, (unsigned long)st->durability.dir.generation,
	       st->durability.dir.created ? ", new" : "",
	       datadir_durability_name(st->durability.dir.cfg.default_durability),
	       st->durability.dir.cfg.group_commit_interval_us);
	if (st->durability.ckpt_loaded)
		printf("warpengine: %s\n", st->durability.ckpt_line);
	printf("warpengine: %s\n", st->durability.recovery_line);
	fflush(stdout);
	return EX_OK;
}

static void main_print_banner(const struct dataplane *st)
{
	char ip[INET_ADDRSTRLEN];
	const uint8_t *mac = st->port.mac;

	inet_ntop(AF_INET, &st->cfg.ip_be, ip, sizeof(ip));
	printf("warpengine: port %u (%s) mac %02x:%02x:%02x:%02x:%02x:%02x ip %s\n",
	       st->port.port_id, st->port.driver, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	       ip);
	printf("warpengine: %u workers on UDP ports %u..%u, %u regions, steering: %s\n",
	       st->n_workers, st->cfg.port_base, st->cfg.port_base + st->n_workers - 1,
	       WE_REGIONS, port_steering_name(st->port.steering));
	if (st->port.flow_refused[0] != 0)
		printf("warpengine: rte_flow steering refused by the PMD: %s\n",
		       st->port.flow_refused);
	if (st->cfg.reflect)
		printf("warpengine: REFLECT mode: every datagram is echoed unread (baseline)\n");
	printf("warpengine: shard memory %zu MiB per worker (capacity %lu items), idle: %s\n",
	       st->shard_mem_bytes >> 20, (unsigned long)st->cfg.capacity_items,
	       st->cfg.busy_poll ? "busy-poll" : "sleep after empty polls");
	for (unsigned i = 0; i < st->n_workers; i++)
		printf("warpengine: worker %u on lcore %u, queue %u, port %u\n", i,
		       st->workers[i]->lcore_id, i, st->cfg.port_base + i);
	fflush(stdout);
}


/* How much of the run the workers spent on work, and what a datagram and a
 * request cost them: the data plane's own figure, whatever the load
 * generator managed to send. */
static void main_print_cost(const struct dataplane *st, const uint64_t *total, double run_s)
{
	double hz = (double)rte_get_tsc_hz();
	double busy_s = (double)total[WORKER_STATS_busy_cycles] / hz;
	uint64_t requests = total[WORKER_STATS_reflected];
	uint64_t datagrams = total[WORKER_STATS_rx_packets] + total[WORKER_STATS_fwd_in];

	for (unsigned i = WORKER_STATS_req_get; i <= WORKER_STATS_req_err_unsupported; i++)
		if (i != WORKER_STATS_req_get_hit && i != WORKER_STATS_req_get_miss &&
		    i != WORKER_STATS_req_put_no_space && i != WORKER_STATS_req_delete_miss &&
		    i != WORKER_STATS_req_withheld_need_token)
			requests += total[i];
	if (run_s <= 0 || datagrams == 0 || requests == 0)
		return;
	printf("warpengine: workers busy %.1f%% of %.1f s (%u worker(s)); worker time %.0f ns per "
	       "datagram, %.0f ns per request\n",
	       100.0 * busy_s / (run_s * st->n_workers), run_s, st->n_workers,
	       busy_s * 1e9 / (double)datagrams, busy_s * 1e9 / (double)requests);
}

static void main_print_totals(const struct dataplane *st, double run_s)
{
	uint64_t total[WORKER_STATS_COUNT];

	stats_sum(st->workers, st->n_workers, total);
	printf("warpengine: stopped. totals:");
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		if (total[i] != 0)
			printf(" %s=%lu", worker_stats_names[i], (unsigned long)total[i]);
	printf("\n");
	main_print_cost(st, total, run_s);
	for (unsigned i = 0; i < st->n_workers; i++) {
		struct shard_counters sc;

		worker_gauges_load(st->workers[i], &sc);
		printf("warpengine: shard %u: %lu items, arena %lu of %lu bytes used\n", i,
		       (unsigned long)sc.items, (unsigned long)sc.arena_used_bytes,
		       (unsigned long)sc.arena_bytes);
	}
	fflush(stdout);
}

static void main_cleanup(struct dataplane *st)
{
	jsonl_server_close(&st->control);
	port_teardown(&st->port);
	for (unsigned i = 0; i < st->n_workers; i++) {
		if (st->shard_mem[i] != NULL)
			munmap(st->shard_mem[i], st->shard_mem_bytes);
		tier_dict_destroy(st->tier_dicts[i]);
		if (st->workers[i] != NULL)
			access_sample_free(&st->workers[i]->access);
		rte_free(st->workers[i]);
	}
	wormhole_destroy(st->wormhole);
	if (st->moves != NULL)
		move_driver_free(st->moves);
	free(st->moves);
	free(st->map);
}

int main(int argc, char **argv)
{
	static struct dataplane st;
	char err[256];
	int sep = main_find_separator(argc, argv);
	int rc;

	st.control.fd = -1; /* no control socket unless --control-socket */

	/* Our options first: argv[sep] becomes the program name for getopt. */
	{
		char *saved = argv[sep < argc ? sep : 0];
		int n = sep < argc ? argc - sep : 1;

		if (sep < argc)
			argv[sep] = argv[0];
		rc = config_parse(&st.cfg, n, argv + (sep < argc ? sep : 0), err, sizeof(err));
		if (sep < argc)
			argv[sep] = saved;
	}
	if (rc != 0) {
		fprintf(stderr, "warpengine: %s\n", err);
		return EX_USAGE;
	}
	if (st.cfg.help) {
		config_print_help(argv[0]);
		return EX_OK;
	}
	if (st.cfg.help_markdown) {
		config_print_markdown();
		return EX_OK;
	}

	rc = rte_eal_init(sep, argv);
	if (rc < 0) {
		fprintf(stderr, "warpengine: EAL initialisation failed: %s (check the EAL "
				"arguments before --)\n",
			rte_strerror(rte_errno));
		return EX_CONFIG;
	}
	st.n_workers = rte_lcore_count() - 1;
	if (st.n_workers == 0 || st.n_workers > WORKER_MAX) {
		fprintf(stderr, "warpengine: %u worker lcores; need 1..%u (e.g. -l 0-2: the main "
				"lcore supervises, the others serve)\n",
			st.n_workers, WORKER_MAX);
		rte_eal_cleanup();
		return EX_USAGE;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "warpengine: no DPDK port: give one with --vdev (net_memif, "
				"net_af_packet, net_af_xdp, net_tap) or bind a NIC\n");
		rte_eal_cleanup();
		return EX_CONFIG;
	}

	signal(SIGINT, supervisor_on_stop_signal);
	signal(SIGTERM, supervisor_on_stop_signal);
	signal(SIGUSR1, supervisor_on_checkpoint_signal);

	rc = port_setup(st.cfg.port_id, (uint16_t)st.n_workers, st.cfg.port_base,
			st.cfg.use_flow, &st.port);
	if (rc == 0) {
		st.wormhole = wormhole_create((uint16_t)st.n_workers, (int)rte_socket_id());
		st.map = malloc(sizeof(*st.map));
		if (st.wormhole == NULL || st.map == NULL)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		region_map_init_default(st.map, (uint16_t)st.n_workers);
		rc = main_setup_workers(&st);
	}
	if (rc != 0) {
		main_cleanup(&st);
		rte_eal_cleanup();
		return EX_SOFTWARE;
	}
	if (st.cfg.data_dir != NULL) {
		rc = main_open_data_dir(&st);
		if (rc != EX_OK) {
			durability_close(&st.durability);
			main_cleanup(&st);
			rte_eal_cleanup();
			return rc;
		}
	}
	st.moves = malloc(sizeof(*st.moves));
	if (st.moves == NULL ||
	    move_driver_init(st.moves, st.map, st.durability.dir_open ? st.durability.epoch_seen : NULL,
			     st.durability.dir.generation,
			     st.durability.regions_found ? &st.durability.regions : NULL) != 0) {
		fprintf(stderr, "warpengine: no memory for the region-move queue\n");
		durability_close(&st.durability);
		main_cleanup(&st);
		rte_eal_cleanup();
		return EX_OSERR;
	}
	if (stats_telemetry_register(st.workers, st.n_workers, &st.durability) != 0)
		fprintf(stderr, "warpengine: telemetry command not registered (continuing)\n");

	if (st.cfg.control_socket != NULL &&
	    jsonl_server_open(&st.control, st.cfg.control_socket, 0600, "--control-socket", err,
			      sizeof(err)) != 0) {
		fprintf(stderr, "warpengine: %s\n", err);
		durability_close(&st.durability);
		main_cleanup(&st);
		rte_eal_cleanup();
		return EX_CONFIG;
	}
	main_print_banner(&st);
	/* From here until the workers have stopped, the memif driver's unmaps
	 * wait for the workers to park (memif_guard.c). */
	if (st.port.memif_role != PORT_MEMIF_NONE)
		memif_guard_arm(st.port.port_id, st.workers, st.n_workers);
	for (unsigned i = 0; i < st.n_workers; i++)
		rte_eal_remote_launch(worker_main, st.workers[i], st.workers[i]->lcore_id);

	double started_s = supervisor_now_s();

	supervisor_run(&st);
	worker_request_stop();
	rte_eal_mp_wait_lcore();
	memif_guard_disarm();
	/* The workers have stopped: commit what their rings hold, then stop. */
	durability_stop_writer(&st.durability);
	main_print_totals(&st, supervisor_now_s() - started_s);
	if (st.durability.dir_open)
		stats_storage_print(&st.durability, stdout);
	durability_close(&st.durability);
	memif_guard_report(stdout);
	fflush(stdout);
	main_cleanup(&st);
	rte_eal_cleanup();
	return EX_OK;
}
