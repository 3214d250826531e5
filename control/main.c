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
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_cmds.h"
#include "control.h"
#include "control_opts.h"
#include "metrics_http.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
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
	if (entropy_watch_init(&c->entropy, o->data_dir, o->quiet, err, len) != 0)
		fprintf(stderr, "warp-control: the entropy files are not kept: %s\n", err);
	rebalancer_init(&c->demon, control_dp_ask, c, &c->entropy);
	if (topology_init(&c->topo, o->topology_decay) != 0) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	topology_store_init(&c->topo_store, o->data_dir);
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
	rebalancer_free(&c->demon);
	entropy_watch_free(&c->entropy);
	settings_store_free(&c->settings);
	topology_free(&c->topo);
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
