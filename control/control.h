/* control.h - the control process's state, shared by its loop (main.c)
 * and its commands (admin_cmds.c).
 *
 *   control_tick          control.c  sample the data plane when due, refresh health and metrics
 *   control_health        control.c  the health object of the current samples (a new reference)
 *   control_counter_help  control.c  a data-plane counter's description (NULL: unknown)
 *   control_dp_ask        control.c  one request to the data plane: its result or a sentence
 *   control_topology_tick control_topology.c  the workers' topology from the new sample; persist
 */
#ifndef CONTROL_CONTROL_H
#define CONTROL_CONTROL_H

#include <stdbool.h>

#include <jansson.h>

#include "dp_link.h"
#include "entropy_watch.h"
#include "jsonl_server.h"
#include "rebalancer.h"
#include "roles.h"
#include "sampler.h"
#include "settings_store.h"
#include "topology.h"
#include "topology_store.h"

struct metrics_http;

struct control {
	struct dp_link dp;
	struct jsonl_server admin;
	struct roles roles;
	struct sampler sampler;
	struct settings_store settings;
	struct entropy_watch entropy; /* region loads, entropy, DIR/entropy files */
	struct rebalancer demon;      /* the running or last rebalance, auto mode */
	struct topology topo;               /* from the samples' fwd_to counters */
	struct topology_store topo_store;
	struct metrics_http *metrics;
	const char *data_dir;   /* NULL: none given */
	double start;           /* monotonic seconds at start */
	double sample_s;        /* --sample-ms / 1000 */
	double next_sample;
	uint64_t pushed_for;    /* dp.connects when the persisted settings were last pushed */
	double disk_free_ratio; /* of the data directory's filesystem; < 0: unknown */
	double data_dir_bytes;  /* in its files; < 0: no data directory */
	bool dp_no_shards;      /* this data plane has no `shards` command */
	bool dp_no_region_load; /* ... no `region-load` (no entropy measurement) */
	bool dp_no_hotkeys;     /* ... no `hotkeys` (no key entropy) */
	bool quiet;
};

void control_tick(struct control *c, double now);
json_t *control_health(const struct control *c);
const char *control_counter_help(const char *name);
/* rebalance_ask_fn over c's dp_link (ctx: the struct control). */
json_t *control_dp_ask(void *ctx, json_t *req, char *err, size_t err_len);
void control_topology_tick(struct control *c, double now);

#endif
