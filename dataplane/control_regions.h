/* control_regions.h - the control socket's commands about regions and the
 * load on them (handlers of control_cmds.c's table; the supervisor's thread).
 *
 *   control_cmd_regions      the region -> worker map (and moves under way)
 *   control_cmd_region_load  cumulative sampled requests per region
 *   control_cmd_hotkeys      the hottest keys, per worker and merged
 */
#ifndef CONTROL_REGIONS_H
#define CONTROL_REGIONS_H

#include <stddef.h>

#include <jansson.h>

#include "supervisor.h"

json_t *control_cmd_regions(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len);
json_t *control_cmd_region_load(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len);
json_t *control_cmd_hotkeys(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len);

#endif
