/* main.c - warp-control: the control process beside a WarpEngine data plane.
 *
 * DESIGN: one thread runs the loop: sample the data plane's stats every
 * --sample-ms (health, rates and the metrics text come from the last two
 * samples), then answer what arrived on the admin socket; the metrics
 * endpoint, when asked for, answers from its own thread with the last text.
 * warp-control holds nothing the data plane needs: it may be killed and
 * restarted at any time. On each (re)connection to a data plane the
 * settings persisted in DIR/configuration/ are pushed to it.
 */
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "control.h"
#include "control_opts.h"
#include "dashboard.h"
#include "health.h"
#include "metrics_http.h"
#include "metrics_text.h"
#include "worker_stats.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *counter_help(const char *name)
{
	for (unsigned i = 0; i < WORKER_STATS_COUNT; i++)
		if (strcmp(worker_stats_names[i], name) == 0)
			return worker_stats_texts[i];
	if (strcmp(name, "iterations") == 0)
		return "worker loop iterations";
	return NULL;
}

/* The data directory to watch: the data plane's own, else --data-dir. */
static const char *watched_dir(const struct control *c)
{
	const char *dp = json_string_value(
		json_object_get(json_object_get(c->sampler.cur, "storage"), "data_dir"));

	return dp != NULL ? dp : c->data_dir;
}

static double dir_bytes_sum;

static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path, (void)ftw;
	if (flag == FTW_F)
		dir_bytes_sum += (double)sb->st_size;
	return 0;
}

static void measure_dir(struct control *c)
{
	const char *dir = watched_dir(c);
	struct statvfs vfs;

	c->disk_free_ratio = -1;
	c->data_dir_bytes = -1;
	if (dir == NULL)
		return;
	if (statvfs(dir, &vfs) == 0 && vfs.f_blocks > 0)
		c->disk_free_ratio = (double)vfs.f_bavail / (double)vfs.f_blocks;
	dir_bytes_sum = 0;
	if (nftw(dir, add_size, 16, FTW_PHYS) == 0)
		c->data_dir_bytes = dir_bytes_sum;
}

json_t *control_health(const struct control *c)
{
	bool up = dp_link_up(&c->dp) && c->sampler.cur != NULL;
	struct health_input in = {
		.prev = up ? c->sampler.prev : NULL,
		.cur = up ? c->sampler.cur : NULL,
		.shards = up ? c->sampler.shards : NULL,
		.dp_up = up,
		.disk_free_ratio = c->disk_free_ratio,
	};

	return health_compute(&in, &c->settings.limits);
}

/* A command's result, or NULL (not answered, or an error). */
static json_t *dp_result(struct control *c, json_t *req, double now)
{
	char err[256];
	json_t *ans = dp_link_call(&c->dp, req, now, err, sizeof(err)), *r = NULL;

	if (ans != NULL && json_is_true(json_object_get(ans, "ok")))
		r = json_incref(json_object_get(ans, "result"));
	else if (ans != NULL && !c->quiet)
		fprintf(stderr, "warp-control: data plane: %s: %s\n",
			json_string_value(json_object_get(req, "command")),
			json_string_value(json_object_get(ans, "error")));
	json_decref(ans);
	json_decref(req);
	return r;
}

static void push_settings(struct control *c, double now)
{
	json_t *reqs = settings_dp_requests(&c->settings), *r;
	size_t i;

	json_array_foreach(reqs, i, r) {
		json_t *res = dp_result(c, json_incref(r), now);

		if (!c->quiet)
			fprintf(stderr, "warp-control: restored %s = %s%s\n",
				json_string_value(json_object_get(r, "name")),
				json_string_value(json_object_get(r, "value")),
				res != NULL ? "" : " (refused)");
		json_decref(res);
	}
	json_decref(reqs);
	c->pushed_for = c->dp.connects;
}

static void refresh_metrics(struct control *c, double now)
{
	json_t *h;
	char *text;

	if (c->metrics == NULL)
		return;
	h = control_health(c);
	text = metrics_render(dp_link_up(&c->dp) ? c->sampler.cur : NULL, c->sampler.shards, h,
			      now - c->start, counter_help);
	if (text != NULL)
		metrics_http_set(c->metrics, text);
	free(text);
	json_decref(h);
}

void control_tick(struct control *c, double now)
{
	bool was_up = dp_link_up(&c->dp) && c->sampler.cur != NULL;
	json_t *stats, *shards;

	if (now < c->next_sample)
		return;
	c->next_sample = now + c->sample_s;
	stats = dp_result(c, json_pack("{s:s}", "command", "stats"), now);
	if (stats == NULL) {
		if (was_up && !c->quiet)
			fprintf(stderr, "warp-control: the data plane at %s is unreachable\n",
				c->dp.path);
		sampler_clear(&c->sampler);
	} else {
		if (c->dp.connects != c->pushed_for) {
			if (!c->quiet)
				fprintf(stderr, "warp-control: connected to the data plane at %s\n",
					c->dp.path);
			sampler_clear(&c->sampler); /* a new data plane: no old counters */
			push_settings(c, now);
		}
		shards = dp_result(c, json_pack("{s:s}", "command", "shards"), now);
		sampler_push(&c->sampler, stats, shards, now);
	}
	measure_dir(c);
	refresh_metrics(c, now);
}

static enum role peer_role(const struct control *c, const struct jsonl_peer *p)
{
	gid_t groups[64];
	int n = 64;
	struct passwd *pw = getpwuid(p->uid);

	groups[0] = p->gid;
	if (pw == NULL || getgrouplist(pw->pw_name, p->gid, groups, &n) < 0)
		n = 1;
	return roles_of(&c->roles, p->uid, groups, (size_t)n);
}

static void serve_admin(struct control *c, double now)
{
	json_t *req;
	int client;

	for (int k = 0; k < 64 && (req = jsonl_server_poll(&c->admin, now, &client)) != NULL;
	     k++) {
		struct jsonl_peer peer = {(uid_t)-1, (gid_t)-1, 0};
		json_t *answer;

		jsonl_server_peer(&c->admin, client, &peer);
		answer = admin_cmds_run(c, req, peer_role(c, &peer), &peer);
		jsonl_server_reply(&c->admin, client, answer);
		json_decref(answer);
		json_decref(req);
	}
}

static int setup(struct control *c, const struct control_opts *o, char *err, size_t len)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->admin.fd = -1;
	c->start = dp_link_now();
	c->sample_s = o->sample_ms / 1000.0;
	c->data_dir = o->data_dir;
	c->quiet = o->quiet;
	c->disk_free_ratio = c->data_dir_bytes = -1;
	dp_link_init(&c->dp, o->data_plane, (int)o->dp_timeout_ms);
	rc = roles_parse(&c->roles, o->allow, getuid(), err, len);
	if (rc != 0)
		return rc;
	if (settings_store_init(&c->settings, o->data_dir, err, len) != 0)
		fprintf(stderr, "warp-control: %s\n", err);
	if (o->metrics_listen != NULL) {
		c->metrics = metrics_http_start(o->metrics_listen, err, len);
		if (c->metrics == NULL)
			return -EINVAL;
	}
	rc = jsonl_server_open(&c->admin, o->admin_socket, (mode_t)o->admin_socket_mode,
			       "--admin-socket", err, len);
	if (rc != 0)
		return rc;
	c->admin.error_code = "usage";
	return 0;
}

static void teardown(struct control *c)
{
	jsonl_server_close(&c->admin);
	metrics_http_stop(c->metrics);
	dp_link_close(&c->dp);
	sampler_clear(&c->sampler);
	settings_store_free(&c->settings);
}

int main(int argc, char **argv)
{
	static struct control c;
	struct control_opts o;
	struct sigaction sa = {.sa_handler = on_signal};
	char err[512];

	switch (control_opts_parse(&o, argc, argv, err, sizeof(err))) {
	case CONTROL_OPTS_DONE:
		return 0;
	case CONTROL_OPTS_ERROR:
		fprintf(stderr, "warp-control: %s (--help lists the options)\n", err);
		return 2;
	case CONTROL_OPTS_RUN:
		break;
	}
	if (setup(&c, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "warp-control: %s\n", err);
		teardown(&c);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!o.quiet)
		fprintf(stderr, "warp-control: admin socket %s, data plane %s%s%s\n", o.admin_socket,
			o.data_plane, o.metrics_listen ? ", metrics at " : "",
			o.metrics_listen ? o.metrics_listen : "");
	while (!stop_requested) {
		struct timespec nap = {0, 5 * 1000 * 1000};
		double now = dp_link_now();

		control_tick(&c, now);
		serve_admin(&c, dp_link_now());
		nanosleep(&nap, NULL);
	}
	teardown(&c);
	return 0;
}
