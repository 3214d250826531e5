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
#include <unistd.h>

#include "arena.h"
#include "control_regions.h"
#include "stats.h"
#include "stats_storage.h"
#include "we_time.h"

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
	json_t *root = stats_json(st->workers, st->n_workers, up, &st->durability), *port;

	(void)req, (void)err, (void)len;
	port = stats_port_json(st->port.port_id);
	if (root != NULL && port != NULL)
		json_object_set_new(root, "port", port);
	else
		json_decref(port);
	return root;
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
	if (move_driver_busy(st->moves)) {
		snprintf(err, len, "a region move is under way (move-status); a checkpoint begins "
				   "between two moves: try again in a moment");
		return NULL;
	}
	if (durability_checkpoint(&st->durability, st->workers, st->n_workers, &id, err, len) != 0)
		return NULL;
	return json_pack("{s:I, s:s}", "checkpoint", (json_int_t)id, "state", "begun");
}

/* ---- settings (settings.h) -------------------------------------------- */

/* The value of setting s for worker i as typed. arena_mb "auto" is shown as
 * what the shard got. */
static json_t *control_setting_value(struct dataplane *st, const struct setting_spec *s,
				     unsigned i)
{
	uint64_t v = st->setting[s->id][i];
	char buf[32];

	if (s->id == SETTING_ARENA_MB) {
		struct shard_counters c;

		worker_gauges_load(st->workers[i], &c);
		if (c.arena_bytes != 0)
			v = c.arena_bytes >> 20;
	}
	return json_string(settings_format(s, v, buf, sizeof(buf)));
}

/* [{"name", "scope", "value", "unit", "range", "live", "effect"}] for every
 * setting, or only `only`; a worker setting's value is one per worker. */
static json_t *control_settings_json(struct dataplane *st, const struct setting_spec *only)
{
	json_t *a = json_array();

	for (unsigned k = 0; k < SETTING_COUNT; k++) {
		const struct setting_spec *s = &settings_table[k];
		char range[96];
		json_t *value;

		if (only != NULL && only != s)
			continue;
		if (s->scope == SETTING_SCOPE_WORKER) {
			value = json_array();
			for (unsigned i = 0; i < st->n_workers; i++)
				json_array_append_new(value, control_setting_value(st, s, i));
		} else {
			value = control_setting_value(st, s, 0);
		}
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:s}", "name", s->name, "scope",
				     settings_scope_name(s->scope), "value", value, "unit", s->unit,
				     "range", settings_range(s, range, sizeof(range)), "live",
				     settings_live(s), "effect", s->effect));
	}
	return a;
}

/* Post one CTL_MSG_SET to worker i; a full ring is retried for up to
 * 100 ms (it drains every loop iteration of a live worker). */
static int control_post_setting(struct dataplane *st, unsigned i, enum setting_id id,
				uint64_t v)
{
	const struct ctl_msg m = {.type = CTL_MSG_SET, .i32 = (int32_t)id, .a = v};
	const uint64_t deadline = we_monotonic_ns() + 100000000u;

	while (ctl_ring_post(&st->workers[i]->ctl, &m) != 0) {
		if (we_monotonic_ns() > deadline)
			return -EAGAIN;
		usleep(1000);
	}
	return 0;
}

/* The request's "value" as text: a string as typed, or a JSON number or
 * boolean spelled as one would type it. NULL if absent or of another type. */
static const char *control_value_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "on" : "off";
	return NULL;
}

/* config-set {"name", "value", "worker"?}: check, post to the workers (or
 * keep for the supervisor), answer {"name", "value", "workers", "applied"}. */
static json_t *control_settings_set(struct dataplane *st, const json_t *req, char *err,
				    size_t len)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const json_t *jw = json_object_get(req, "worker");
	const struct setting_spec *s = settings_find(name);
	unsigned first = 0, end = st->n_workers;
	char vbuf[32];
	const char *text = control_value_text(json_object_get(req, "value"), vbuf, sizeof(vbuf));
	json_t *workers;
	uint64_t v;

	if (s == NULL) {
		if (name != NULL)
			snprintf(err, len, "no setting \"%.64s\" (config-get lists them)", name);
		else
			snprintf(err, len, "config-set needs \"name\": a setting config-get lists");
		return NULL;
	}
	if (text == NULL) {
		snprintf(err, len, "config-set %s needs \"value\": the new value as text", s->name);
		return NULL;
	}
	if (settings_parse(s, text, &v, err, len) != 0)
		return NULL;
	if ((s->id == SETTING_DEFAULT_CONSISTENCY || s->id == SETTING_CHECKPOINT_INTERVAL_S) &&
	    !st->durability.dir_open) {
		snprintf(err, len, "%s needs a data directory (start with --data-dir)", s->name);
		return NULL;
	}
	if (jw != NULL) {
		if (s->scope != SETTING_SCOPE_WORKER) {
			snprintf(err, len, "%s is a universe setting: one value for all workers "
				 "(drop \"worker\")", s->name);
			return NULL;
		}
		if (!json_is_integer(jw) || json_integer_value(jw) < 0 ||
		    json_integer_value(jw) >= (json_int_t)st->n_workers) {
			snprintf(err, len, "config-set %s: \"worker\" must be a worker number in 0..%u",
				 s->name, st->n_workers - 1);
			return NULL;
		}
		first = (unsigned)json_integer_value(jw);
		end = first + 1;
	}
	workers = json_array();
	for (unsigned i = first; i < end; i++) {
		if (s->applier == SETTING_BY_WORKERS && control_post_setting(st, i, s->id, v) != 0) {
			snprintf(err, len, "%s: worker %u's control ring stayed full; workers before "
				 "it took the new value, it and those after did not", s->name, i);
			json_decref(workers);
			return NULL;
		}
		st->setting[s->id][i] = v;
		json_array_append_new(workers, json_integer(i));
	}
	return json_pack("{s:s, s:s, s:o, s:b}", "name", s->name, "value",
			 settings_format(s, v, vbuf, sizeof(vbuf)), "workers", workers, "applied", 1);
}

/* ---- commands --------------------------------------------------------- */

static json_t *cmd_shards(struct dataplane *st, const json_t *req, double up, char *err,
			  size_t len)
{
	json_t *a = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (unsigned i = 0; i < st->n_workers; i++) {
		struct stats_shard_row r;

		stats_shard_row(st->workers[i], st->map, &r);
		/* tiers in the stats file's shape, so one reader serves both */
		json_array_append_new(
			a, json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "worker",
				     i, "items", (json_int_t)r.items, "memory_used_bytes",
				     (json_int_t)r.memory_used_bytes, "memory_bytes",
				     (json_int_t)r.memory_bytes, "memory_free_in_pieces_bytes",
				     (json_int_t)r.memory_free_in_pieces_bytes, "index_bytes",
				     (json_int_t)r.index_bytes, "capacity_items",
				     (json_int_t)st->setting[SETTING_CAPACITY_ITEMS][i], "regions",
				     (json_int_t)r.regions, "requests", (json_int_t)r.requests,
				     "compact_moves", (json_int_t)r.compact_moves, "tiers",
				     stats_tiers_json(st->workers[i])));
	}
	return a;
}

static json_t *cmd_config_get(struct dataplane *st, const json_t *req, double up, char *err,
			      size_t len)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const struct setting_spec *only = NULL;

	(void)up;
	if (json_object_get(req, "name") != NULL) {
		only = settings_find(name);
		if (only == NULL) {
			snprintf(err, len, "no setting \"%.64s\" (config-get without a name lists them)",
				 name != NULL ? name : "(not a string)");
			return NULL;
		}
	}
	return json_pack("{s:o}", "settings", control_settings_json(st, only));
}

static json_t *cmd_config_set(struct dataplane *st, const json_t *req, double up, char *err,
			      size_t len)
{
	(void)up;
	return control_settings_set(st, req, err, len);
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
	 control_cmd_regions},
	{"move-region", "move a region to a worker while requests flow: {\"region\":R, "
			"\"worker\":W}; queued, one move at a time (move-status follows it)",
	 control_cmd_move_region},
	{"move-regions", "queue many moves: {\"moves\":[[R,W],...]}; every entry is checked "
			 "before any is queued", control_cmd_move_regions},
	{"move-status", "region moves: the map epoch, moves queued, the one under way, "
			"completed and failed counts, the last results", control_cmd_move_status},
	{"region-load", "sampled requests per region, cumulative (1 of every sample_every "
			"executed requests): difference two answers for a rate", control_cmd_region_load},
	{"hotkeys", "the hottest keys of recent load (a sketch per worker, halved every window_s),"
		    " per worker and merged: {\"n\":N} entries (default 20)", control_cmd_hotkeys},
	{"shards", "per worker: items, arena memory used and in all, index bytes, capacity, "
		   "regions owned, GET/PUT/DELETE requests executed, items per tier and value "
		   "bytes as sent and as stored", cmd_shards},
	{"config-get", "the data plane's settings (value, unit, range, live, effect); "
		       "{\"name\":NAME} for one", cmd_config_get},
	{"config-set", "change a live setting: {\"name\":NAME, \"value\":TEXT, \"worker\":N "
		       "(worker settings; all workers without it)}", cmd_config_set},
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
