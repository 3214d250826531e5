/* admin_cmds.c - the admin socket's commands (see admin_cmds.h).
 *
 * DESIGN: one table of commands (name, role, help, arguments, handler);
 * list-commands, help, the argument checks and the docs' table come from
 * it. Handlers answer from the last samples where they can (observing
 * costs the data plane nothing) and forward to it only what it alone can
 * do (checkpoint, regions, its settings). A handler fails with a sentence
 * and one of the protocol's codes. The load-balancing handlers (hotkeys,
 * entropy, moves, rebalance) live in admin_demon.c; this file holds their
 * table rows.
 */
#include "admin_cmds.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "admin_internal.h"
#include "dashboard.h"
#include "health.h"
#include "topology_json.h"

#ifndef WARPENGINE_VERSION
#define WARPENGINE_VERSION "unknown"
#endif

enum arg_type {
	ARG_STRING,
	ARG_INT,
	ARG_VALUE, /* a string, or a number taken as typed */
	ARG_BOOL,
};

struct cmd_arg {
	const char *name;
	enum arg_type type;
	bool required;
	const char *help;
};

#define ARGS_MAX 3

struct cmd {
	const char *name;
	enum role role;
	const char *help;
	struct cmd_arg args[ARGS_MAX];
	json_t *(*run)(struct control *c, const json_t *req, const struct jsonl_peer *peer,
		       enum role role, struct cmd_err *e);
};

json_t *admin_fail(struct cmd_err *e, const char *code, const char *msg)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return NULL;
}

/* Ask the data plane; its result, or NULL with "unavailable" (no answer)
 * or "failed" (it answered an error). */
json_t *admin_dp_ask(struct control *c, json_t *req, struct cmd_err *e)
{
	char err[256];
	json_t *ans = dp_link_call(&c->dp, req, dp_link_now(), err, sizeof(err)), *result;

	json_decref(req);
	if (ans == NULL)
		return admin_fail(e, "unavailable", err);
	if (!json_is_true(json_object_get(ans, "ok"))) {
		const char *why = json_string_value(json_object_get(ans, "error"));

		snprintf(e->msg, sizeof(e->msg), "the data plane: %s", why != NULL ? why : "failed");
		e->code = "failed";
		json_decref(ans);
		return NULL;
	}
	result = json_incref(json_object_get(ans, "result"));
	json_decref(ans);
	return result != NULL ? result : json_null();
}

static const json_t *need_sample(const struct control *c, struct cmd_err *e)
{
	if (c->sampler.cur == NULL || !dp_link_up(&c->dp)) {
		admin_fail(e, "unavailable", "the data plane is not reachable (no current sample)");
		return NULL;
	}
	return c->sampler.cur;
}

static json_t *num(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *cmd_whoami(struct control *c, const json_t *req, const struct jsonl_peer *p,
			  enum role role, struct cmd_err *e)
{
	(void)c, (void)req, (void)e;
	return json_pack("{s:I, s:I, s:I, s:s}", "uid", (json_int_t)p->uid, "gid",
			 (json_int_t)p->gid, "pid", (json_int_t)p->pid, "role", role_name(role));
}

static json_t *cmd_ping(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e)
{
	struct cmd_err ignored;
	json_t *pong = admin_dp_ask(c, json_pack("{s:s}", "command", "ping"), &ignored);
	json_t *dp = json_pack("{s:b, s:o}", "connected", pong != NULL, "uptime_s",
			       pong != NULL ? json_incref(json_object_get(pong, "uptime_s"))
					    : json_null());

	(void)req, (void)p, (void)role, (void)e;
	if (json_object_get(dp, "uptime_s") == NULL)
		json_object_set_new(dp, "uptime_s", json_null());
	json_decref(pong);
	return json_pack("{s:{s:f, s:s}, s:o}", "control", "uptime_s", dp_link_now() - c->start,
			 "version", WARPENGINE_VERSION, "data_plane", dp);
}

static json_t *cmd_health(struct control *c, const json_t *req, const struct jsonl_peer *p,
			  enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role, (void)e;
	return control_health(c);
}

static double ops_rate(const struct sampler *s)
{
	double dt = sampler_interval(s), ops = 0;
	static const char *const names[] = {"req_get", "req_put", "req_delete"};

	if (dt <= 0)
		return NAN;
	for (unsigned i = 0; i < 3; i++)
		ops += sample_delta_total(s->prev, s->cur, names[i]);
	return ops / dt;
}

static double items_total(const struct sampler *s)
{
	const json_t *sh = s->shards != NULL ? s->shards : json_object_get(s->cur, "shards");
	double sum = 0;
	size_t i;
	json_t *x;

	if (sh == NULL)
		return NAN;
	json_array_foreach(sh, i, x)
		sum += json_number_value(json_object_get(x, "items"));
	return sum;
}

static json_t *cmd_status(struct control *c, const json_t *req, const struct jsonl_peer *p,
			  enum role role, struct cmd_err *e)
{
	const json_t *cur = c->sampler.cur;
	bool up = dp_link_up(&c->dp) && cur != NULL;
	json_t *h = control_health(c);
	const char *overall = json_string_value(json_object_get(h, "overall"));
	const char *state = !up ? "unreachable" : strcmp(overall, "healthy") == 0 ? "stable"
										    : "degraded";
	const json_t *dir = json_object_get(json_object_get(cur, "storage"), "data_dir");
	json_t *out;

	(void)req, (void)p, (void)role, (void)e;
	out = json_pack("{s:s, s:f, s:{s:b, s:o, s:o, s:o}, s:o, s:o, s:s}", "state", state,
			"control_uptime_s", dp_link_now() - c->start, "data_plane", "connected", up,
			"uptime_s", up ? num(json_number_value(json_object_get(cur, "uptime_s")))
				       : json_null(),
			"workers", up ? json_integer(sample_workers(cur)) : json_null(), "data_dir",
			dir != NULL ? json_incref((json_t *)dir) : json_null(), "requests_per_s",
			up ? num(ops_rate(&c->sampler)) : json_null(), "items",
			up ? num(items_total(&c->sampler)) : json_null(), "health", overall);
	json_decref(h);
	return out;
}

/* The counters of one per-worker or total object, without the histogram. */
static json_t *counters_only(const json_t *o)
{
	json_t *out = json_object();
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)o, name, v)
		if (json_is_number(v))
			json_object_set(out, name, v);
	return out;
}

static json_t *cmd_stats(struct control *c, const json_t *req, const struct jsonl_peer *p,
			 enum role role, struct cmd_err *e)
{
	const json_t *cur = need_sample(c, e), *per, *wreq = json_object_get(req, "worker");
	json_t *workers, *total, *hist, *out;
	size_t i;
	json_t *w;

	(void)p, (void)role;
	if (cur == NULL)
		return NULL;
	workers = json_array();
	per = json_object_get(cur, "per_worker");
	if (wreq != NULL) {
		json_int_t n = json_integer_value(wreq);

		if (n < 0 || (size_t)n >= json_array_size(per)) {
			json_decref(workers);
			snprintf(e->msg, sizeof(e->msg), "worker %lld: the data plane has workers "
				 "0..%zu", (long long)n, json_array_size(per) - 1);
			e->code = "usage";
			return NULL;
		}
		w = json_array_get(per, (size_t)n);
		json_array_append_new(workers, counters_only(w));
		total = counters_only(w);
		hist = json_object_get(w, "service_time");
	} else {
		json_array_foreach(per, i, w)
			json_array_append_new(workers, counters_only(w));
		total = counters_only(json_object_get(cur, "total"));
		hist = json_object_get(json_object_get(cur, "total"), "service_time");
	}
	out = json_pack("{s:f, s:o, s:o, s:o, s:O}", "interval_s", sampler_interval(&c->sampler),
			"total", total, "rates",
			sampler_rates(c->sampler.prev, cur, sampler_interval(&c->sampler)),
			"workers", workers, "service_time", hist != NULL ? hist : json_null());
	return out;
}

static json_t *cmd_shards(struct control *c, const json_t *req, const struct jsonl_peer *p,
			  enum role role, struct cmd_err *e)
{
	const json_t *cur = need_sample(c, e);
	const json_t *src = c->sampler.shards;
	bool old = src == NULL; /* a data plane without `shards`: the stats' own */
	double dt = sampler_interval(&c->sampler), reqs[256], sum = 0;
	json_t *out = json_array(), *s;
	size_t i;

	(void)req, (void)p, (void)role;
	if (cur == NULL) {
		json_decref(out);
		return NULL;
	}
	if (old)
		src = json_object_get(cur, "shards");
	json_array_foreach(src, i, s) {
		reqs[i % 256] = health_worker_requests(c->sampler.prev, cur, (unsigned)i);
		sum += reqs[i % 256];
	}
	json_array_foreach(src, i, s) {
		json_t *o = json_object();

		json_object_set_new(o, "worker", json_integer((json_int_t)i));
		json_object_set(o, "items", json_object_get(s, "items"));
		json_object_set(o, "memory_used_bytes",
				json_object_get(s, old ? "arena_used_bytes" : "memory_used_bytes"));
		json_object_set(o, "memory_bytes",
				json_object_get(s, old ? "arena_bytes" : "memory_bytes"));
		if (!old) {
			json_object_set(o, "capacity_items", json_object_get(s, "capacity_items"));
			json_object_set(o, "regions", json_object_get(s, "regions"));
			json_object_set(o, "memory_free_in_pieces_bytes",
					json_object_get(s, "memory_free_in_pieces_bytes"));
		} else if (json_is_integer(json_object_get(s, "arena_free_large_bytes"))) {
			json_object_set_new(
				o, "memory_free_in_pieces_bytes",
				json_integer(json_integer_value(json_object_get(s, "arena_free_bytes")) -
					     json_integer_value(
						     json_object_get(s, "arena_free_large_bytes"))));
		}
		json_object_set(o, "compact_moves", json_object_get(s, "compact_moves"));
		if (json_object_get(s, "tiers") != NULL)
			json_object_set(o, "tiers", json_object_get(s, "tiers"));
		json_object_set_new(o, "requests_per_s",
				    num(dt > 0 ? reqs[i % 256] / dt : NAN));
		json_object_set_new(o, "load_share", num(sum > 0 ? reqs[i % 256] / sum : NAN));
		json_array_append_new(out, o);
	}
	return out;
}

static json_t *cmd_dashboard(struct control *c, const json_t *req, const struct jsonl_peer *p,
			     enum role role, struct cmd_err *e);

/* Role a data-plane setting needs: universe-wide ones change every
 * request's handling, so admin; per-worker tuning is operate. */
static enum role dp_setting_role(const char *scope)
{
	return scope != NULL && strcmp(scope, "worker") == 0 ? ROLE_OPERATE : ROLE_ADMIN;
}

static json_t *cmd_config_get(struct control *c, const json_t *req, const struct jsonl_peer *p,
			      enum role role, struct cmd_err *e)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	json_t *settings, *dp, *q, *s;
	size_t i;

	(void)p, (void)role;
	if (name != NULL && settings_is_control(name))
		return json_pack("{s:o}", "settings", settings_control_json(&c->settings, name));
	q = json_pack("{s:s}", "command", "config-get");
	if (name != NULL)
		json_object_set_new(q, "name", json_string(name));
	dp = admin_dp_ask(c, q, e);
	if (dp == NULL && name != NULL)
		return NULL;
	settings = json_array();
	json_array_foreach(json_object_get(dp, "settings"), i, s) {
		const char *scope = json_string_value(json_object_get(s, "scope"));
		json_t *copy = json_deep_copy(s);

		json_object_set_new(copy, "role", json_string(role_name(dp_setting_role(scope))));
		json_array_append_new(settings, copy);
	}
	json_decref(dp);
	if (name == NULL) {
		json_t *ctl = settings_control_json(&c->settings, NULL);

		json_array_extend(settings, ctl);
		json_decref(ctl);
	}
	return json_pack("{s:o}", "settings", settings);
}

/* "value" as typed: a string, or a number/boolean written as text. */
static bool value_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "on" : "off");
	else
		return false;
	return true;
}

static json_t *set_answer(struct control *c, const char *name, const char *value)
{
	char err[256];
	int rc = settings_save(&c->settings, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "warp-control: settings not persisted: %s\n", err);
	return json_pack("{s:s, s:s, s:b, s:b}", "name", name, "value", value, "applied", 1,
			 "persisted", rc == 0);
}

static json_t *cmd_config_set(struct control *c, const json_t *req, const struct jsonl_peer *p,
			      enum role role, struct cmd_err *e)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const json_t *worker = json_object_get(req, "worker");
	char value[256];
	json_t *got, *q, *r;
	const char *scope;
	enum role need;

	(void)p;
	if (!value_text(json_object_get(req, "value"), value, sizeof(value)))
		return admin_fail(e, "usage", "config-set needs \"value\": the new value as typed");
	if (settings_is_control(name)) {
		if (role < ROLE_OPERATE)
			return admin_fail(e, "denied", "changing a control setting needs role operate");
		if (worker != NULL)
			return admin_fail(e, "usage", "a control setting has no per-worker value");
		if (settings_control_set(&c->settings, name, value, e->msg, sizeof(e->msg)) != 0) {
			e->code = "usage";
			return NULL;
		}
		return set_answer(c, name, value);
	}
	got = admin_dp_ask(c, json_pack("{s:s, s:s}", "command", "config-get", "name", name), e);
	if (got == NULL)
		return NULL;
	scope = json_string_value(
		json_object_get(json_array_get(json_object_get(got, "settings"), 0), "scope"));
	need = dp_setting_role(scope);
	if (role < need) {
		snprintf(e->msg, sizeof(e->msg), "changing %.64s needs role %s (yours: %s)", name,
			 role_name(need), role_name(role));
		e->code = "denied";
		json_decref(got);
		return NULL;
	}
	q = json_pack("{s:s, s:s, s:s}", "command", "config-set", "name", name, "value", value);
	if (worker != NULL)
		json_object_set(q, "worker", (json_t *)worker);
	r = admin_dp_ask(c, q, e);
	if (r == NULL) {
		json_decref(got);
		if (strcmp(e->code, "failed") == 0)
			e->code = "usage"; /* the data plane refused the value: say why */
		return NULL;
	}
	settings_remember_dp(&c->settings, scope != NULL ? scope : "universe", name, value,
			     worker != NULL ? (int)json_integer_value(worker) : -1);
	json_decref(got);
	json_decref(r);
	return set_answer(c, name, value);
}

static json_t *cmd_checkpoint(struct control *c, const json_t *req, const struct jsonl_peer *p,
			      enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role;
	return admin_dp_ask(c, json_pack("{s:s}", "command", "checkpoint"), e);
}

static json_t *cmd_regions(struct control *c, const json_t *req, const struct jsonl_peer *p,
			   enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role;
	return admin_dp_ask(c, json_pack("{s:s}", "command", "regions"), e);
}

static json_t *cmd_topology(struct control *c, const json_t *req, const struct jsonl_peer *p,
			    enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role;
	if (c->topo.workers == 0)
		return admin_fail(e, "unavailable", "no topology yet (no sample of the data plane so far)");
	return topology_to_json(&c->topo);
}

static json_t *cmd_route(struct control *c, const json_t *req, const struct jsonl_peer *p,
			 enum role role, struct cmd_err *e)
{
	(void)p, (void)role;
	return topology_route_json(&c->topo, req, e->msg, sizeof(e->msg), &e->code);
}

static json_t *cmd_list(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e);
static json_t *cmd_help(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e);

static const struct cmd cmds[] = {
	{"list-commands", ROLE_OBSERVE, "the commands this socket answers: name, role, help",
	 {{0}}, cmd_list},
	{"help", ROLE_OBSERVE, "what one command does, the role it needs and its arguments",
	 {{"name", ARG_STRING, true, "the command to describe"}}, cmd_help},
	{"whoami", ROLE_OBSERVE, "the caller's uid, gid, pid (as the kernel says) and role",
	 {{0}}, cmd_whoami},
	{"ping", ROLE_OBSERVE, "is warp-control there (uptime, version); is the data plane", {{0}},
	 cmd_ping},
	{"status", ROLE_OBSERVE, "one-look summary: state, uptimes, workers, requests per second, "
				 "items, overall health", {{0}}, cmd_status},
	{"health", ROLE_OBSERVE, "the six health checks: state, value, threshold, what each "
				 "measures", {{0}}, cmd_health},
	{"stats", ROLE_OBSERVE, "counters (total, per worker), their rates over the last "
				"interval, the service-time histogram",
	 {{"worker", ARG_INT, false, "one worker only"}}, cmd_stats},
	{"shards", ROLE_OBSERVE, "per worker: items, memory, capacity, regions, requests per "
				 "second, load share", {{0}}, cmd_shards},
	{"dashboard", ROLE_OBSERVE, "the dashboard: universe status, performance, physics state, "
				    "resources; every number measured", {{0}}, cmd_dashboard},
	{"config-get", ROLE_OBSERVE, "settings (data plane and control): value, unit, range, "
				     "live, role, effect",
	 {{"name", ARG_STRING, false, "one setting only"}}, cmd_config_get},
	{"config-set", ROLE_OPERATE, "change a live setting (role per setting: worker and control "
				     "settings operate, universe settings admin); persisted with "
				     "--data-dir",
	 {{"name", ARG_STRING, true, "the setting"},
	  {"value", ARG_VALUE, true, "the new value as typed"},
	  {"worker", ARG_INT, false, "worker-scope settings: one worker only"}},
	 cmd_config_set},
	{"checkpoint", ROLE_OPERATE, "begin a checkpoint now (the data plane needs --data-dir)",
	 {{0}}, cmd_checkpoint},
	{"regions", ROLE_OBSERVE, "the region map {workers, regions, udp_port_base, owner} (what "
				  "--region-map files hold)", {{0}}, cmd_regions},
	{"hotkeys", ROLE_OBSERVE, "the hottest keys, merged and per worker, as the data plane's "
				  "sketches count them (count, error bound, share)",
	 {{"n", ARG_INT, false, "how many keys (1..256, default 20)"}}, cmd_hotkeys},
	{"entropy", ROLE_OBSERVE, "the entropy monitor: per-worker load, max/mean, entropy over "
				  "workers, regions and keys; the last rebalance; the totals",
	 {{0}}, cmd_entropy},
	{"move-region", ROLE_OPERATE, "move one region to another worker (wait: until the data "
				      "plane has finished it, at most 30 s)",
	 {{"region", ARG_INT, true, "the region, 0..4095"},
	  {"worker", ARG_INT, true, "the worker to own it"},
	  {"wait", ARG_BOOL, false, "answer when the move is finished (default false)"}},
	 cmd_move_region},
	{"move-status", ROLE_OBSERVE, "the data plane's region moves: epoch, queued, active, "
				      "completed, failed, the last finished", {{0}}, cmd_move_status},
	{"rebalance", ROLE_OPERATE, "plan region moves from the measured loads and (unless dry_run) "
				    "start them; rebalance-status follows to the measured effect",
	 {{"mode", ARG_STRING, true, "minimal | moderate | aggressive"},
	  {"dry_run", ARG_BOOL, false, "plan only (default false)"}},
	 cmd_rebalance},
	{"rebalance-status", ROLE_OBSERVE, "the running or last rebalance: state, moves, predicted "
					   "and measured imbalance and entropy", {{0}},
	 cmd_rebalance_status},
	{"topology", ROLE_OBSERVE, "the workers' topology: nodes, connections (strength from "
				   "forwarded traffic, type, usage), version", {{0}}, cmd_topology},
	{"route", ROLE_OBSERVE, "the cheapest route between two workers over the topology: path, "
				"cost, hops, cached",
	 {{"from", ARG_VALUE, true, "the first worker: workerN or N"},
	  {"to", ARG_VALUE, true, "the last worker: workerN or N"},
	  {"max_hops", ARG_INT, false, "at most this many hops (default 4; 0: no limit)"}},
	 cmd_route},
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static json_t *cmd_list(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e)
{
	json_t *a = json_array();

	(void)c, (void)req, (void)p, (void)role, (void)e;
	for (size_t i = 0; i < N_CMDS; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "name", cmds[i].name, "role",
						   role_name(cmds[i].role), "help", cmds[i].help));
	return a;
}

static const char *const arg_type_names[] = {"string", "integer", "string (as typed)",
					     "boolean"};

static json_t *args_json(const struct cmd *cmd)
{
	json_t *a = json_array();

	for (unsigned k = 0; k < ARGS_MAX && cmd->args[k].name != NULL; k++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:s}", "name", cmd->args[k].name,
						   "type", arg_type_names[cmd->args[k].type],
						   "required", cmd->args[k].required, "help",
						   cmd->args[k].help));
	return a;
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static json_t *cmd_help(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	const struct cmd *cmd = find_cmd(name);

	(void)c, (void)p, (void)role;
	if (cmd == NULL) {
		snprintf(e->msg, sizeof(e->msg), "no command \"%.64s\" (list-commands lists them)",
			 name);
		e->code = "usage";
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "name", cmd->name, "role", role_name(cmd->role),
			 "help", cmd->help, "args", args_json(cmd));
}

static json_t *cmd_dashboard(struct control *c, const json_t *req, const struct jsonl_peer *p,
			     enum role role, struct cmd_err *e)
{
	json_t *h = control_health(c), *d;
	struct dashboard_input in = {
		.prev = c->sampler.prev,
		.cur = dp_link_up(&c->dp) ? c->sampler.cur : NULL,
		.shards = c->sampler.shards,
		.health = h,
		.interval_s = sampler_interval(&c->sampler),
		.dp_up = dp_link_up(&c->dp) && c->sampler.cur != NULL,
		.entropy_limit = c->settings.limits.entropy_limit,
	};
	(void)req, (void)p, (void)role, (void)e;
	in.data_dir_bytes = c->data_dir_bytes;
	d = dashboard_build(&in);
	json_decref(h);
	return d;
}

/* Every argument known and of its type; the required ones there. */
static bool check_args(const struct cmd *cmd, const json_t *req, struct cmd_err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)req, key, v) {
		const struct cmd_arg *a = NULL;
		bool ok;

		if (strcmp(key, "command") == 0)
			continue;
		for (unsigned k = 0; k < ARGS_MAX && cmd->args[k].name != NULL; k++)
			if (strcmp(cmd->args[k].name, key) == 0)
				a = &cmd->args[k];
		if (a == NULL) {
			snprintf(e->msg, sizeof(e->msg), "%s takes no argument \"%.64s\" (help "
				 "lists its arguments)", cmd->name, key);
			e->code = "usage";
			return false;
		}
		ok = a->type == ARG_STRING  ? json_is_string(v)
		     : a->type == ARG_INT   ? json_is_integer(v)
		     : a->type == ARG_BOOL  ? json_is_boolean(v)
					    : json_is_string(v) || json_is_number(v) ||
						      json_is_boolean(v);
		if (!ok) {
			snprintf(e->msg, sizeof(e->msg), "%s: \"%s\" must be %s %s", cmd->name, key,
				 a->type == ARG_INT ? "an" : "a", arg_type_names[a->type]);
			e->code = "usage";
			return false;
		}
	}
	for (unsigned k = 0; k < ARGS_MAX && cmd->args[k].name != NULL; k++)
		if (cmd->args[k].required && json_object_get(req, cmd->args[k].name) == NULL) {
			snprintf(e->msg, sizeof(e->msg), "%s needs \"%s\": %s", cmd->name,
				 cmd->args[k].name, cmd->args[k].help);
			e->code = "usage";
			return false;
		}
	return true;
}

static json_t *error_answer(const struct cmd_err *e)
{
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error", e->msg[0] ? e->msg : "failed",
			 "code", e->code != NULL ? e->code : "failed");
}

json_t *admin_cmds_run(struct control *c, const json_t *request, enum role role,
		       const struct jsonl_peer *peer)
{
	const char *name = json_string_value(json_object_get(request, "command"));
	const struct cmd *cmd;
	struct cmd_err e = {.code = NULL};
	json_t *result;

	if (role == ROLE_NONE) {
		snprintf(e.msg, sizeof(e.msg), "uid %u (gid %u) is not on warp-control's allow-list",
			 (unsigned)peer->uid, (unsigned)peer->gid);
		e.code = "denied";
		return error_answer(&e);
	}
	if (name == NULL) {
		admin_fail(&e, "usage", "a request is {\"command\": NAME, ...}; list-commands lists them");
		return error_answer(&e);
	}
	cmd = find_cmd(name);
	if (cmd == NULL) {
		snprintf(e.msg, sizeof(e.msg), "unknown command \"%.64s\" (list-commands lists them)",
			 name);
		e.code = "usage";
		return error_answer(&e);
	}
	if (role < cmd->role) {
		snprintf(e.msg, sizeof(e.msg), "%s needs role %s (yours: %s)", cmd->name,
			 role_name(cmd->role), role_name(role));
		e.code = "denied";
		return error_answer(&e);
	}
	if (!check_args(cmd, request, &e))
		return error_answer(&e);
	result = cmd->run(c, request, peer, role, &e);
	if (result == NULL)
		return error_answer(&e);
	return json_pack("{s:b, s:o}", "ok", 1, "result", result);
}

void admin_cmds_markdown(FILE *out)
{
	fprintf(out, "| command | role | arguments | what it answers |\n|---|---|---|---|\n");
	for (size_t i = 0; i < N_CMDS; i++) {
		fprintf(out, "| `%s` | %s | ", cmds[i].name, role_name(cmds[i].role));
		for (unsigned k = 0; k < ARGS_MAX && cmds[i].args[k].name != NULL; k++)
			fprintf(out, "%s`%s`%s", k ? ", " : "", cmds[i].args[k].name,
				cmds[i].args[k].required ? "" : " (optional)");
		fprintf(out, " | %s |\n", cmds[i].help);
	}
}
