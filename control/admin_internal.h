/* admin_internal.h - what the admin command files share (not an API).
 *
 *   admin_fail     admin_cmds.c   set the error sentence and code; returns NULL
 *   admin_dp_ask   admin_cmds.c   ask the data plane: its result, or NULL with the error set
 *   cmd_hotkeys, cmd_entropy, cmd_move_region, cmd_move_status, cmd_rebalance,
 *   cmd_rebalance_status          admin_demon.c  the load-balancing commands
 */
#ifndef CONTROL_ADMIN_INTERNAL_H
#define CONTROL_ADMIN_INTERNAL_H

#include <jansson.h>

#include "control.h"
#include "roles.h"

struct cmd_err {
	char msg[256];
	const char *code;
};

typedef json_t *admin_handler(struct control *c, const json_t *req, const struct jsonl_peer *peer,
			      enum role role, struct cmd_err *e);

json_t *admin_fail(struct cmd_err *e, const char *code, const char *msg);
/* req is stolen. "unavailable": no answer; "failed": the data plane refused. */
json_t *admin_dp_ask(struct control *c, json_t *req, struct cmd_err *e);

admin_handler cmd_hotkeys, cmd_entropy, cmd_move_region, cmd_move_status, cmd_rebalance,
	cmd_rebalance_status;

#endif
