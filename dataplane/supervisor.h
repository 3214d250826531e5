/* supervisor.h - the main lcore's job while the workers serve, and the
 * state the data plane's process keeps (main.c builds it).
 *
 *   supervisor_run                    supervisor.c  until SIGINT/SIGTERM: readiness, link, checkpoints, stats
 *   supervisor_on_stop_signal         supervisor.c  SIGINT/SIGTERM handler
 *   supervisor_on_checkpoint_signal   supervisor.c  SIGUSR1 handler: a checkpoint, soon
 *   supervisor_now_s                  supervisor.c  monotonic seconds
 *   supervisor_settings_init          supervisor.c  the live settings' start values (config-get)
 *
 * The supervisor wakes every 10 ms (1 ms until serving): it says when the
 * data plane serves, watches the memif link and restarts a client port
 * whose peer left, begins checkpoints (interval or SIGUSR1) and reports how
 * they ended, and writes the stats file and log line. It never touches a
 * worker's data: it talks to workers through their control rings and the
 * process-wide pause word only.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include "config.h"
#include "jsonl_server.h"
#include "move_driver.h"
#include "durability.h"
#include "port.h"
#include "region_map.h"
#include "settings.h"
#include "worker.h"
#include "wormhole.h"

struct dataplane {
	struct config cfg;
	struct port_info port;
	struct wormhole *wormhole;
	struct region_map *map;
	struct worker *workers[WORKER_MAX];
	struct ctl_ring *ctl_rings[WORKER_MAX]; /* each worker's control ring */
	void *shard_mem[WORKER_MAX];
	struct tier_dict *tier_dicts[WORKER_MAX]; /* --tier-dict on */
	size_t shard_mem_bytes;
	unsigned n_workers;
	/* Per-process secrets: the shards' bucket hash (against hash flooding)
	 * and the address-token key (against reflection). */
	struct keyhash_secret hash_secret;
	struct addr_token_key token_key;
	struct durability durability; /* with --data-dir */
	struct jsonl_server control; /* with --control-socket (fd -1: none) */
	struct move_driver *moves;   /* region moves: queue and the current one */
	/* The live settings as the supervisor last set them (settings.h):
	 * setting[id][w] for worker w; a universe setting has the same value
	 * in every worker's slot. Filled by supervisor_settings_init, changed
	 * by config-set; only the supervisor's thread touches it. */
	uint64_t setting[SETTING_COUNT][WORKER_MAX];
};

void supervisor_run(struct dataplane *st);
/* Fill st->setting from the configuration the workers were started with
 * (supervisor_run does it first). */
void supervisor_settings_init(struct dataplane *st);
void supervisor_on_stop_signal(int sig);
void supervisor_on_checkpoint_signal(int sig);
double supervisor_now_s(void);

#endif
