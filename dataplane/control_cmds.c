/* control_cmds.c - the data plane's control commands (see control_cmds.h).
 *
 * DESIGN: one table of commands (name, what it does, handler); list-commands
 * and help are generated from it, so the socket, the docs and the code
 * cannot drift. Handlers run on the supervisor's thread.
 */
#include "control_cmds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"
#include "stats_storage.h"

struct cmd {
	const char *name;
	const char *help;
	json_t *(*run)(struct dataplane *st, const json_t *req, double uptime_s, char *err,
		       size_t err_len);
};

static json_t *cmd_ping(struct dataplane *st, const json_t *req, double up, char *err,
			size_t len)
{
	(void)st, (void)req, (void)err, (void)len;
	return json_pack("{s:s, s:f}", "pong", "warpengine", "uptime_s", up);
}

static json_t *cmd_stats(struct dataplane *st, const json_t *req, double up, char *err,
			 size_t len)
{
	(void)req, (void)err, (void)len;
	return stats_json(st->workers, st->n_workers, up, &st->durability);
}

static json_t *cmd_storage(struct dataplane *st, const json_t *req, double up, char *err,
			   size_t len)
{
	(void)req, (void)up;
	if (!st->durability.dir_open) {
		snprintf(err, len, "no data directory (start with --data-dir)");
		return NULL;
	}
	return stats_storage_json(&st->durability);
}

static json_t *cmd_checkpoint(struct dataplane *st, const json_t *req, double up, char *err,
			      size_t len)
{
	uint64_t id;

	(void)req, (void)up;
	if (durability_checkpoint(&st->durability, st->workers, st->n_workers, &id, err, len) != 0)
		return NULL;
	return json_pack("{s:I, s:s}", "checkpoint", (json_int_t)id, "state", "begun");
}

static json_t *cmd_regions(struct dataplane *st, const json_t *req, double up, char *err,
			   size_t len)
{
	json_t *owners = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		json_array_append_new(owners, json_integer(region_map_owner(st->map, (uint16_t)r)));
	return json_pack("{s:i, s:i, s:i, s:o}", "workers", st->n_workers, "regions", WE_REGIONS,
			 "udp_port_base", st->cfg.port_base, "owner", owners);
}

static json_t *cmd_list(struct dataplane *st, const json_t *req, double up, char *err,
			size_t len);
static json_t *cmd_help(struct dataplane *st, const json_t *req, double up, char *err,
			size_t len);

static const struct cmd cmds[] = {
	{"list-commands", "the commands this socket answers", cmd_list},
	{"help", "what one command does: {\"command\":\"help\",\"name\":NAME}", cmd_help},
	{"ping", "is the data plane there; its uptime", cmd_ping},
	{"stats", "every counter, total and per worker, and the shards' gauges (the stats file's "
		  "content)", cmd_stats},
	{"storage", "the data directory: recovery, the log writer, checkpoints", cmd_storage},
	{"checkpoint", "begin a checkpoint now (with --data-dir); its id", cmd_checkpoint},
	{"regions", "the region -> worker map: owner[region] for each of the 4096 regions",
	 cmd_regions},
};

static json_t *cmd_list(struct dataplane *st, const json_t *req, double up, char *err,
			size_t len)
{
	json_t *a = json_array();

	(void)st, (void)req, (void)up, (void)err, (void)len;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		json_array_append_new(a, json_string(cmds[i].name));
	return a;
}

static json_t *cmd_help(struct dataplane *st, const json_t *req, double up, char *err,
			size_t len)
{
	const char *name = json_string_value(json_object_get(req, "name"));

	(void)st, (void)up;
	if (name == NULL) {
		snprintf(err, len, "help needs \"name\": the command to describe");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return json_pack("{s:s, s:s}", "name", name, "help", cmds[i].help);
	snprintf(err, len, "no command \"%.64s\" (list-commands lists them)", name);
	return NULL;
}

json_t *control_cmds_run(struct dataplane *st, const json_t *request, double uptime_s)
{
	const char *name = json_string_value(json_object_get(request, "command"));
	char err[256] = "";
	json_t *result = NULL;

	if (name == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "a request is {\"command\": NAME, ...}; list-commands lists them");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmds[i].name, name) != 0)
			continue;
		result = cmds[i].run(st, request, uptime_s, err, sizeof(err));
		if (result == NULL)
			return json_pack("{s:b, s:s}", "ok", 0, "error", err[0] ? err : "failed");
		return json_pack("{s:b, s:o}", "ok", 1, "result", result);
	}
	snprintf(err, sizeof(err), "unknown command \"%.64s\" (list-commands lists them)", name);
	return json_pack("{s:b, s:s}", "ok", 0, "error", err);
}
