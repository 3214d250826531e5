/* control_topology.c - the workers' topology kept up to date from each
 * `stats` sample, and persisted when due (see control.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "control.h"
#include "topology_json.h"

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void control_topology_tick(struct control *c, double now)
{
	uint64_t *fwd = NULL;
	uint32_t workers;
	char err[512];
	int rc;

	if (c->sampler.cur == NULL ||
	    topology_fwd_from_stats(c->sampler.cur, &workers, &fwd) != 0)
		return;
	rc = topology_sample(&c->topo, workers, fwd, sampler_interval(&c->sampler), wall_now());
	free(fwd);
	if (rc != 0) {
		if (!c->quiet)
			fprintf(stderr, "warp-control: topology: out of memory\n");
		return;
	}
	rc = topology_store_tick(&c->topo_store, &c->topo, now, err, sizeof(err));
	if (rc < 0 && !c->topo_store.failing)
		fprintf(stderr, "warp-control: topology not persisted: %s\n", err);
	if (rc <= 0)
		c->topo_store.failing = rc < 0;
}
