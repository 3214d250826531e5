/* admin_cmds.h - what warp-control's admin socket answers.
 *
 *   admin_cmds_run        admin_cmds.c  one request from one peer -> one answer
 *   admin_cmds_markdown   admin_cmds.c  the command table as markdown (docs)
 *
 * Requests are {"command": NAME, ...}; answers {"ok": true, "result": ...}
 * or {"ok": false, "error": SENTENCE, "code": "usage"|"failed"|"denied"|
 * "unavailable"}. The command table (name, role, help, arguments, handler)
 * generates list-commands and help. The peer's role comes from its
 * credentials and the allow-list; a command needing more is denied.
 */
#ifndef CONTROL_ADMIN_CMDS_H
#define CONTROL_ADMIN_CMDS_H

#include <stdio.h>

#include <jansson.h>

#include "control.h"
#include "roles.h"

/* A new reference. role: the peer's role (ROLE_NONE: every request denied). */
json_t *admin_cmds_run(struct control *c, const json_t *request, enum role role,
		       const struct jsonl_peer *peer);
void admin_cmds_markdown(FILE *out);

#endif
