/* topology_store.h - the workers' topology persisted as
 * DIR/wormholes/topology/network_graph.json (DIR: warp-control's
 * --data-dir).
 *
 *   topology_store_init  topology_store.c  where to write; nothing without a data directory
 *   topology_store_tick  topology_store.c  write when due: the version changed, or 10 s passed
 *
 * The file is topology_to_json's object, replaced whole (json_file.h). It
 * is an export for other tools: warp-control does not read it back, it
 * learns the strengths again from the data plane's counters.
 */
#ifndef CONTROL_TOPOLOGY_STORE_H
#define CONTROL_TOPOLOGY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "topology.h"

#define TOPOLOGY_STORE_PERIOD_S 10.0
#define TOPOLOGY_STORE_SUBDIR "wormholes/topology"
#define TOPOLOGY_STORE_FILE "network_graph.json"

struct topology_store {
	char dir[512];          /* DIR/wormholes/topology; "" without a data directory */
	uint64_t saved_version;
	uint64_t saved_samples;
	double saved_at;        /* monotonic seconds of the last write */
	bool saved;             /* written at least once */
	bool failing;           /* the last write failed (said once, not every tick) */
};

void topology_store_init(struct topology_store *st, const char *data_dir);
/* Is a write due at monotonic time now: a new sample since the last write,
 * and the version changed or TOPOLOGY_STORE_PERIOD_S passed. */
bool topology_store_due(const struct topology_store *st, const struct topology *t, double now);
/* Write if due: 1 not due (or no data directory, or no workers yet), 0
 * written, -errno with a sentence. */
int topology_store_tick(struct topology_store *st, const struct topology *t, double now,
			char *err, size_t err_len);

#endif
