/* control_cmds.h - what the data plane's control socket answers (the
 * supervisor's side of its control socket, lib/jsonl_server.h).
 *
 *   control_cmds_run   control_cmds.c  one request -> one answer
 *
 * Requests are {"command": NAME, ...}; answers {"ok": true, "result": ...}
 * or {"ok": false, "error": SENTENCE}. `list-commands` and `help` describe
 * the rest. Commands read what the workers publish (counters, gauges) or
 * post to their control rings; none touches a worker's data.
 */
#ifndef CONTROL_CMDS_H
#define CONTROL_CMDS_H

#include <jansson.h>

#include "supervisor.h"

/* A new reference. */
json_t *control_cmds_run(struct dataplane *st, const json_t *request, double uptime_s);

#endif
