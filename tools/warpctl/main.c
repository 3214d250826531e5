/* main.c - warpctl, the operators' command line for warp-control.
 *
 * DESIGN: one table of commands (words, the admin socket's command name,
 * how many arguments, which options, the renderer); main parses options,
 * finds the command, sends exactly one request and prints the one answer:
 * a table for people, or with --json the result as received. Every way
 * out is one of the exit codes of exitcode.h, and errors go to stderr
 * with the server's own sentence.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_client.h"
#include "exitcode.h"
#include "json_out.h"
#include "render.h"
#include "warpctl_opts.h"

#ifndef WARPCTL_VERSION
#define WARPCTL_VERSION "unknown"
#endif

struct command;
/* Add the command's arguments to the request; 0, or -EINVAL and err. */
typedef int request_fn(json_t *req, const struct command *c, const struct warpctl_opts *o,
		       const char *const *args, int n_args, char *err, size_t err_len);

struct command {
	const char *word, *sub;  /* "config", "get"; sub NULL: one word */
	const char *admin;       /* the admin socket's command */
	int min_args, max_args;  /* arguments after the command words */
	uint32_t scope;          /* enum warpctl_scope bits of the options it takes */
	const char *synopsis;
	const char *help;
	request_fn *request;     /* NULL: no arguments to add */
	render_fn *render;
};

static request_fn req_stats, req_config_get, req_config_set, req_help;
static request_fn req_hotkeys, req_move_region, req_rebalance;
static request_fn req_route;

static const struct command commands[] = {
	{"status", NULL, "status", 0, 0, 0, "status", "state, uptimes, load and health at a glance",
	 NULL, render_status},
	{"health", NULL, "health", 0, 0, 0, "health", "the health checks, each with its measure",
	 NULL, render_health},
	{"stats", NULL, "stats", 0, 0, WARPCTL_SCOPE_STATS, "stats [--worker N] [--all]",
	 "counters (totals and rates), per worker, service time", req_stats, render_stats},
	{"shards", NULL, "shards", 0, 0, 0, "shards", "items, memory, regions and load per worker",
	 NULL, render_shards},
	{"dashboard", NULL, "dashboard", 0, 0, 0, "dashboard",
	 "the dashboard: every number with what it measures", NULL, render_dashboard},
	{"config", "get", "config-get", 0, 1, 0, "config get [NAME]",
	 "settings: value, unit, range, live or restart", req_config_get, render_config_get},
	{"config", "set", "config-set", 2, 2, WARPCTL_SCOPE_CONFIG_SET,
	 "config set NAME VALUE [--worker N]", "change a setting", req_config_set,
	 render_config_set},
	{"checkpoint", NULL, "checkpoint", 0, 0, 0, "checkpoint", "begin a checkpoint now", NULL,
	 render_checkpoint},
	{"regions", NULL, "regions", 0, 0, WARPCTL_SCOPE_REGIONS, "regions [--output FILE]",
	 "the region -> worker map (FILE: for --region-map)", NULL, render_regions},
	{"hotkeys", NULL, "hotkeys", 0, 0, WARPCTL_SCOPE_HOTKEYS, "hotkeys [--n N] [--per-worker]",
	 "the hottest keys: rank, key, share, count, error bound", req_hotkeys, render_hotkeys},
	{"entropy", NULL, "entropy", 0, 0, 0, "entropy",
	 "load per worker, max/mean, entropy; the last rebalance", NULL, render_entropy},
	{"move-region", NULL, "move-region", 2, 2, WARPCTL_SCOPE_MOVE, "move-region R W [--no-wait]",
	 "move region R to worker W (waits until it is done)", req_move_region,
	 render_move_region},
	{"move-status", NULL, "move-status", 0, 0, 0, "move-status",
	 "the data plane's region moves: queued, active, finished", NULL, render_move_status},
	{"rebalance", NULL, "rebalance", 1, 1, WARPCTL_SCOPE_REBALANCE,
	 "rebalance minimal|moderate|aggressive [--dry-run]",
	 "plan region moves from the measured load, make them, measure the effect",
	 req_rebalance, render_rebalance},
	{"topology", NULL, "topology", 0, 0, 0, "topology",
	 "the workers' connections, strongest first: type, strength, usage", NULL,
	 render_topology},
	{"route", NULL, "route", 2, 2, WARPCTL_SCOPE_ROUTE, "route A B [--max-hops N]",
	 "the cheapest route from worker A to worker B", req_route, render_route},
	{"ping", NULL, "ping", 0, 0, 0, "ping", "are warp-control and the data plane there",
	 NULL, render_ping},
	{"whoami", NULL, "whoami", 0, 0, 0, "whoami", "this user's uid, gid and role", NULL,
	 render_whoami},
	{"commands", NULL, "list-commands", 0, 0, 0, "commands",
	 "the admin socket's commands and the role each needs", NULL, render_commands},
	{"help", NULL, "help", 0, 2, 0, "help [COMMAND]",
	 "this text, or what the server says of COMMAND", req_help, render_help},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: warpctl [--socket PATH] [--json] [--timeout-ms MS] COMMAND [ARGS]\n"
		     "\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-36s %s\n", commands[i].synopsis, commands[i].help);
	fprintf(out, "\noptions (anywhere on the line; \"--\" ends them):\n");
	warpctl_opts_help(out);
	fprintf(out, "\nexit codes:\n"
		     "  0  ok\n"
		     "  1  the command failed (or the answer made no sense)\n"
		     "  2  usage: bad arguments, here or as the server judged them\n"
		     "  3  unreachable: no socket, refused, timed out, or the data plane is "
		     "unavailable\n"
		     "  4  permission denied\n"
		     "\nenvironment: " WARPCTL_SOCKET_ENV " is the socket when --socket is not given "
		     "(default " WARPCTL_SOCKET_DEFAULT ").\n");
}

/* The command named by words[0] (and words[1]); *n_used: words it took. */
static const struct command *command_find(const char *const *words, int n, int *n_used)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];

		if (strcmp(c->word, words[0]) != 0)
			continue;
		if (c->sub == NULL) {
			*n_used = 1;
			return c;
		}
		if (n > 1 && strcmp(c->sub, words[1]) == 0) {
			*n_used = 2;
			return c;
		}
	}
	return NULL;
}

static int req_stats(json_t *req, const struct command *c, const struct warpctl_opts *o,
		     const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)args, (void)n, (void)err, (void)len;
	if (o->seen_worker)
		json_object_set_new(req, "worker", json_integer((json_int_t)o->worker));
	return 0;
}

static int req_config_get(json_t *req, const struct command *c, const struct warpctl_opts *o,
			  const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)o, (void)err, (void)len;
	if (n == 1)
		json_object_set_new(req, "name", json_string(args[0]));
	return 0;
}

static int req_config_set(json_t *req, const struct command *c, const struct warpctl_opts *o,
			  const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)n, (void)err, (void)len;
	/* The value goes as typed: the server checks it against the setting. */
	json_object_set_new(req, "name", json_string(args[0]));
	json_object_set_new(req, "value", json_string(args[1]));
	if (o->seen_worker)
		json_object_set_new(req, "worker", json_integer((json_int_t)o->worker));
	return 0;
}

static int req_hotkeys(json_t *req, const struct command *c, const struct warpctl_opts *o,
		       const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)args, (void)n, (void)err, (void)len;
	json_object_set_new(req, "n", json_integer((json_int_t)o->n));
	return 0;
}

/* A whole number in 0..max, or -EINVAL naming what. */
static int parse_index(const char *text, long max, const char *what, long *v, char *err,
		       size_t len)
{
	char *end;

	errno = 0;
	*v = strtol(text, &end, 10);
	if (*text == 0 || *end != 0 || errno != 0 || *v < 0 || *v > max) {
		snprintf(err, len, "%s: '%.32s' is not a number in 0..%ld", what, text, max);
		return -EINVAL;
	}
	return 0;
}

static int req_move_region(json_t *req, const struct command *c, const struct warpctl_opts *o,
			   const char *const *args, int n, char *err, size_t len)
{
	long region, worker;

	(void)c, (void)n;
	if (parse_index(args[0], 4095, "region", &region, err, len) != 0 ||
	    parse_index(args[1], 65535, "worker", &worker, err, len) != 0)
		return -EINVAL;
	json_object_set_new(req, "region", json_integer(region));
	json_object_set_new(req, "worker", json_integer(worker));
	json_object_set_new(req, "wait", json_boolean(!o->no_wait));
	return 0;
}

static int req_rebalance(json_t *req, const struct command *c, const struct warpctl_opts *o,
			 const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)n;
	if (strcmp(args[0], "minimal") != 0 && strcmp(args[0], "moderate") != 0 &&
	    strcmp(args[0], "aggressive") != 0) {
		snprintf(err, len, "rebalance: the mode is minimal, moderate or aggressive, not "
			 "'%.32s'", args[0]);
		return -EINVAL;
	}
	json_object_set_new(req, "mode", json_string(args[0]));
	json_object_set_new(req, "dry_run", json_boolean(o->dry_run));
	return 0;
}

/* Seconds a command may take as a whole unless --timeout-ms says: a
 * move waited for (warp-control gives it 30 s), a rebalance followed to
 * its measured effect; 0: the plain request timeout. */
static double command_wait_s(const struct command *c, const struct warpctl_opts *o)
{
	if (strcmp(c->admin, "move-region") == 0)
		return o->no_wait ? 0 : 35;
	if (strcmp(c->admin, "rebalance") == 0)
		return o->dry_run ? 0 : 180;
	return 0;
}

/* A rebalance runs on in warp-control after its answer: ask
 * rebalance-status until it has ended (done or failed) or the deadline. */
static enum warpctl_exit follow_rebalance(const struct warpctl_opts *o, int timeout_ms,
					  int64_t deadline_ms, struct admin_answer *ans, char *err,
					  size_t len)
{
	json_t *req = json_pack("{s:s}", "command", "rebalance-status");
	enum warpctl_exit rc = WARPCTL_EXIT_OK;

	for (;;) {
		const char *state = json_string_value(json_object_get(ans->result, "state"));
		struct timespec nap = {0, 250 * 1000 * 1000};

		if (!ans->ok || state == NULL ||
		    (strcmp(state, "moving") != 0 && strcmp(state, "settling") != 0))
			break;
		if (admin_now_ms() > deadline_ms) {
			snprintf(err, len, "the rebalance is still %s at the deadline (--timeout-ms); "
				 "warpctl entropy shows how it ends", state);
			rc = WARPCTL_EXIT_FAILED;
			break;
		}
		nanosleep(&nap, NULL);
		admin_answer_free(ans);
		rc = admin_call(o->socket, req, timeout_ms, ans, err, len);
		if (rc != WARPCTL_EXIT_OK)
			break;
	}
	json_decref(req);
	return rc;
}

/* The workers as typed ("worker2" or "2"): the server reads both. */
static int req_route(json_t *req, const struct command *c, const struct warpctl_opts *o,
		     const char *const *args, int n, char *err, size_t len)
{
	(void)c, (void)n, (void)err, (void)len;
	json_object_set_new(req, "from", json_string(args[0]));
	json_object_set_new(req, "to", json_string(args[1]));
	if (o->seen_max_hops)
		json_object_set_new(req, "max_hops", json_integer((json_int_t)o->max_hops));
	return 0;
}

/* help COMMAND: the server knows its commands by their socket names
 * ("config-get"); warpctl's words are translated, others pass as given. */
static int req_help(json_t *req, const struct command *c, const struct warpctl_opts *o,
		    const char *const *args, int n, char *err, size_t len)
{
	const struct command *target;
	int used;

	(void)c, (void)o;
	target = command_find(args, n, &used);
	if (target == NULL && n == 2) {
		snprintf(err, len, "help takes one command (two words for config get|set)");
		return -EINVAL;
	}
	json_object_set_new(req, "name", json_string(target ? target->admin : args[0]));
	return 0;
}

/* Write the region map to path through a temporary file and a rename, so
 * a reader never loads half a map. */
static int write_region_map(const char *path, const json_t *result, char *err, size_t len)
{
	char tmp[4096];
	FILE *f;
	int rc;

	if (!json_is_object(result) || !json_is_array(json_object_get(result, "owner"))) {
		snprintf(err, len, "regions: the answer has no \"owner\" array; %s not written",
			 path);
		return -EINVAL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, len, "--output: the path is too long");
		return -EINVAL;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		int e = errno;

		snprintf(err, len, "--output %.400s: %s", tmp, strerror(e));
		return -e;
	}
	errno = 0;
	rc = json_out_pretty(f, result);
	if (fclose(f) != 0 || rc != 0 || rename(tmp, path) != 0) {
		snprintf(err, len, "--output %.400s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

/* Print the result: the file for regions --output, JSON, or a table. */
static int print_result(const struct command *c, const struct warpctl_opts *o,
			const json_t *result)
{
	struct render r = {.out = stdout, .all = o->all, .per_worker = o->per_worker};
	char err[512];

	if (o->output != NULL) {
		if (write_region_map(o->output, result, err, sizeof(err)) != 0) {
			fprintf(stderr, "warpctl: %s\n", err);
			return WARPCTL_EXIT_FAILED;
		}
		if (!o->json)
			printf("wrote %s: %zu regions over %lld workers\n", o->output,
			       json_array_size(json_object_get(result, "owner")),
			       (long long)json_integer_value(json_object_get(result, "workers")));
	} else if (o->json) {
		if (json_out_pretty(stdout, result) != 0)
			return WARPCTL_EXIT_FAILED;
	} else if (c->render(&r, result) != 0) {
		fflush(stdout);
		fprintf(stderr, "warpctl: %s (--json shows the answer as received)\n", r.err);
		return WARPCTL_EXIT_FAILED;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "warpctl: cannot write the output: %s\n", strerror(errno));
		return WARPCTL_EXIT_FAILED;
	}
	return WARPCTL_EXIT_OK;
}

static int run(const struct command *c, const struct warpctl_opts *o, const char *const *args,
	       int n_args)
{
	struct admin_answer ans;
	enum warpctl_exit rc;
	char err[512] = "";
	json_t *req = json_pack("{s:s}", "command", c->admin);
	int timeout_ms = (int)o->timeout_ms;
	int64_t deadline_ms;

	memset(&ans, 0, sizeof(ans));

	if (req == NULL)
		return WARPCTL_EXIT_FAILED;
	if (c->request && c->request(req, c, o, args, n_args, err, sizeof(err)) != 0) {
		json_decref(req);
		fprintf(stderr, "warpctl: %s\n", err);
		return WARPCTL_EXIT_USAGE;
	}
	/* A waiting command's request (move-region) or its following
	 * (rebalance) may take wait_s unless --timeout-ms says otherwise. */
	if (command_wait_s(c, o) > 0 && !o->seen_timeout)
		timeout_ms = (int)(command_wait_s(c, o) * 1000);
	deadline_ms = admin_now_ms() + timeout_ms;
	rc = admin_call(o->socket, req, strcmp(c->admin, "rebalance") == 0 ? (int)o->timeout_ms
									     : timeout_ms,
			&ans, err, sizeof(err));
	json_decref(req);
	if (rc == WARPCTL_EXIT_OK && strcmp(c->admin, "rebalance") == 0)
		rc = follow_rebalance(o, (int)o->timeout_ms, deadline_ms, &ans, err, sizeof(err));
	if (rc != WARPCTL_EXIT_OK) {
		fprintf(stderr, "warpctl: %s\n", err);
		if (ans.root != NULL)
			admin_answer_free(&ans);
		return rc;
	}
	if (!ans.ok) {
		fprintf(stderr, "warpctl: %s: %s\n", c->admin, ans.error);
		rc = exitcode_of_error_code(ans.code);
	} else {
		rc = print_result(c, o, ans.result);
		/* a move or a rebalance that ended badly is a failure, shown first */
		if (rc == WARPCTL_EXIT_OK && command_wait_s(c, o) > 0 &&
		    strcmp(render_string(ans.result, "state", ""), "failed") == 0) {
			fprintf(stderr, "warpctl: %s failed: %s\n", c->admin,
				render_string(ans.result, "error", "see above"));
			rc = WARPCTL_EXIT_FAILED;
		}
	}
	admin_answer_free(&ans);
	return rc;
}

int main(int argc, char **argv)
{
	const struct command *c;
	struct warpctl_opts o;
	char err[512];
	int used;

	if (warpctl_opts_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "warpctl: %s\n(warpctl --help: usage)\n", err);
		return WARPCTL_EXIT_USAGE;
	}
	if (o.help_markdown) {
		warpctl_opts_markdown(stdout);
		return WARPCTL_EXIT_OK;
	}
	if (o.version) {
		printf("warpctl %s\n", WARPCTL_VERSION);
		return WARPCTL_EXIT_OK;
	}
	if (o.help || (o.n_words == 1 && strcmp(o.words[0], "help") == 0)) {
		usage(stdout);
		return WARPCTL_EXIT_OK;
	}
	if (o.n_words == 0) {
		usage(stderr);
		return WARPCTL_EXIT_USAGE;
	}
	c = command_find(o.words, o.n_words, &used);
	if (c == NULL) {
		fprintf(stderr, "warpctl: unknown command '%s%s%s' (warpctl --help lists them)\n",
			o.words[0], o.n_words > 1 ? " " : "", o.n_words > 1 ? o.words[1] : "");
		return WARPCTL_EXIT_USAGE;
	}
	if (o.n_words - used < c->min_args || o.n_words - used > c->max_args) {
		fprintf(stderr, "warpctl: usage: warpctl %s\n", c->synopsis);
		return WARPCTL_EXIT_USAGE;
	}
	if (warpctl_opts_scope(&o, c->scope, c->synopsis, err, sizeof(err)) != 0) {
		fprintf(stderr, "warpctl: %s (usage: warpctl %s)\n", err, c->synopsis);
		return WARPCTL_EXIT_USAGE;
	}
	return run(c, &o, o.words + used, o.n_words - used);
}
