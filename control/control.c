/* control.c - the control process's periodic work (see control.h):
 * sample the data plane, push persisted settings to a (re)connected one,
 * measure the data directory and the load's entropy, step a running
 * rebalance, refresh the metrics text.
 */
#include "control.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "health.h"
#include "metrics_http.h"
#include "metrics_text.h"
#include "worker_stats.h"

const char *control_counter_help(const char *name)
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

json_t *control_dp_ask(void *ctx, json_t *req, char *err, size_t err_len)
{
	struct control *c = ctx;
	json_t *ans = dp_link_call(&c->dp, req, dp_link_now(), err, err_len), *r;

	json_decref(req);
	if (ans == NULL)
		return NULL;
	if (!json_is_true(json_object_get(ans, "ok"))) {
		const char *why = json_string_value(json_object_get(ans, "error"));

		snprintf(err, err_len, "the data plane: %s", why != NULL ? why : "failed");
		json_decref(ans);
		return NULL;
	}
	r = json_incref(json_object_get(ans, "result"));
	json_decref(ans);
	return r != NULL ? r : json_null();
}

/* region-load and hotkeys into the entropy monitor; an older data plane
 * without them is asked no more (until it reconnects). */
static void measure_entropy(struct control *c, double now)
{
	struct timespec wall;
	json_t *load = NULL, *hot = NULL;

	if (!c->dp_no_region_load) {
		load = dp_result(c, json_pack("{s:s}", "command", "region-load"), now);
		c->dp_no_region_load = load == NULL && dp_link_up(&c->dp);
	}
	if (load != NULL && !c->dp_no_hotkeys) {
		hot = dp_result(c, json_pack("{s:s, s:i}", "command", "hotkeys", "n", 32), now);
		c->dp_no_hotkeys = hot == NULL && dp_link_up(&c->dp);
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	entropy_watch_push(&c->entropy, load, c->sampler.prev, c->sampler.cur, hot,
			   c->settings.rebalance.threshold, now,
			   (double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
	json_decref(hot);
	rebalancer_auto(&c->demon, &c->entropy, c->settings.rebalance.auto_on != 0,
			c->settings.rebalance.cooldown_s, now,
			(double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
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
			      now - c->start, control_counter_help);
	if (text != NULL)
		metrics_http_set(c->metrics, text);
	free(text);
	json_decref(h);
}

void control_tick(struct control *c, double now)
{
	bool was_up = dp_link_up(&c->dp) && c->sampler.cur != NULL;
	json_t *stats, *shards;

	rebalancer_step(&c->demon, &c->entropy, now);
	if (now < c->next_sample)
		return;
	c->next_sample = now + c->sample_s;
	stats = dp_result(c, json_pack("{s:s}", "command", "stats"), now);
	if (stats == NULL) {
		if (was_up && !c->quiet)
			fprintf(stderr, "warp-control: the data plane at %s is unreachable\n",
				c->dp.path);
		sampler_clear(&c->sampler);
		entropy_watch_clear(&c->entropy);
	} else {
		if (c->dp.connects != c->pushed_for) {
			if (!c->quiet)
				fprintf(stderr, "warp-control: connected to the data plane at %s\n",
					c->dp.path);
			sampler_clear(&c->sampler); /* a new data plane: no old counters */
			entropy_watch_clear(&c->entropy);
			c->dp_no_shards = c->dp_no_region_load = c->dp_no_hotkeys = false;
			push_settings(c, now);
		}
		shards = NULL;
		if (!c->dp_no_shards) {
			shards = dp_result(c, json_pack("{s:s}", "command", "shards"), now);
			/* an older data plane: use the stats' own shard figures, ask no more */
			c->dp_no_shards = shards == NULL && dp_link_up(&c->dp);
		}
		sampler_push(&c->sampler, stats, shards, now);
		measure_entropy(c, now);
		control_topology_tick(c, now);
	}
	measure_dir(c);
	refresh_metrics(c, now);
}

