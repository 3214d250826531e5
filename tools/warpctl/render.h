/* render.h - warpctl's tables for people, one function per command.
 *
 *   render_status     render_status.c     status: state, uptimes, data plane, load
 *   render_health     render_status.c     health: overall, one row per check
 *   render_ping       render_status.c     ping: control and data plane uptimes
 *   render_whoami     render_status.c     whoami: uid, gid, pid, role
 *   render_stats      render_stats.c      stats: totals and rates, per worker, service time
 *   render_shards     render_stats.c      shards: one row per worker
 *   render_dashboard  render_dashboard.c  dashboard: section, field, value, what it measures
 *   render_config_get render_config.c     config get: one row per setting
 *   render_config_set render_config.c     config set: what was applied
 *   render_checkpoint render_misc.c       checkpoint: its id and state
 *   render_regions    render_misc.c       regions: regions and UDP port per worker
 *   render_commands   render_misc.c       commands: name, role, help
 *   render_help       render_misc.c       help COMMAND: role, what it does, arguments
 *   render_hotkeys    render_balance.c    hotkeys: rank, key, share, count, error; per worker
 *   render_entropy    render_balance.c    entropy: load, max/mean, entropies, per worker, demon
 *   render_move_region render_balance.c   move-region: queued, or how it ended
 *   render_move_status render_balance.c   move-status: the queue, the last moves
 *   render_rebalance  render_balance.c    rebalance: predicted and measured, the moves
 *   render_topology   render_topology.c   topology: the connections, strongest first
 *   render_route      render_topology.c   route: the path, hops and cost
 *   render_value      render_util.c       any JSON value as one short cell
 *   render_fail       render_util.c       say what in the answer was unexpected
 *
 * DESIGN: a renderer gets the "result" object of a successful answer and
 * writes to r->out. The server is another program, possibly of another
 * version: a missing optional field prints as "-", a missing field the
 * table cannot do without is an error (-EINVAL, sentence in r->err) and
 * never a crash; --json bypasses the renderers entirely.
 */
#ifndef WARPCTL_RENDER_H
#define WARPCTL_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "table.h"

struct render {
	FILE *out;
	bool all;       /* stats --all: every counter, zeros included */
	bool per_worker; /* hotkeys --per-worker */
	char err[256];  /* set when a renderer returns -EINVAL */
};

typedef int render_fn(struct render *r, const json_t *result);

render_fn render_status, render_health, render_ping, render_whoami;
render_fn render_stats, render_shards;
render_fn render_dashboard;
render_fn render_config_get, render_config_set;
render_fn render_checkpoint, render_regions, render_commands, render_help;
render_fn render_hotkeys, render_entropy, render_move_region, render_move_status;
render_fn render_rebalance;
render_fn render_topology, render_route;

/* Helpers shared by the renderers (render_util.c). */
int render_fail(struct render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print t and free it: 0, or -EINVAL with a sentence in r->err. */
int render_table(struct render *r, struct table *t);
/* v as a short cell: strings as they are, integers exact, reals with 4
 * significant digits, true/false, null and NULL as "-", arrays and objects
 * as compact JSON cut to len. Returns buf. */
const char *render_value(const json_t *v, char *buf, size_t len);
/* obj[key] as a number (integer or real): true and *v, or false. */
bool render_number(const json_t *obj, const char *key, double *v);
/* obj[key] as a string, or dflt. */
const char *render_string(const json_t *obj, const char *key, const char *dflt);

#endif
