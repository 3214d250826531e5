/* control_regions.h - the control socket's commands about regions and the
 * load on them (handlers of control_cmds.c's table; the supervisor's thread).
 *
 *   control_cmd_regions      the region -> worker map (and moves under way)
 *   control_cmd_region_load  cumulative sampled requests per region
 *   control_cmd_hotkeys      the hottest keys, per worker and merged
 *   control_cmd_move_region  queue one region move (move_driver.h)
 *   control_cmd_move_regions queue many, all checked first
 *   control_cmd_move_status  the queue, the move under way, the last results
 */
#ifndef CONTROL_REGIONS_H
#define CONTROL_REGIONS_H

#include <stddef.h>

#include <jansson.h>

#include "supervisor.h"

json_t *control_cmd_regions(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len);
json_t *control_cmd_move_region(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len);
json_t *control_cmd_move_regions(struct dataplane *st, const json_t *req, double up, char *err,
				 size_t len);
json_t *control_cmd_move_status(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len);
json_t *control_cmd_region_load(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len);
json_t *control_cmd_hotkeys(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len);

#endif
