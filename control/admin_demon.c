/* admin_demon.c - the admin commands of load balancing: hot keys, the
 * entropy monitor, region moves, rebalances (see admin_internal.h; the
 * table is admin_cmds.c's).
 *
 * DESIGN: hotkeys, move-status and move-region pass the data plane's answer
 * through; entropy and rebalance-status answer from warp-control's own
 * state. A rebalance is started here and advanced by the control loop
 * (rebalancer.h), so no command waits long; the exception is move-region
 * with wait, which polls move-status for at most MOVE_WAIT_S (a region's
 * move normally takes milliseconds) and holds the loop that long.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_internal.h"

#define MOVE_WAIT_S 30.0
#define MOVE_POLL_NS (20 * 1000 * 1000)

json_t *cmd_hotkeys(struct control *c, const json_t *req, const struct jsonl_peer *p,
		    enum role role, struct cmd_err *e)
{
	const json_t *n = json_object_get(req, "n");
	json_int_t k = n != NULL ? json_integer_value(n) : 20;

	(void)p, (void)role;
	if (k < 1 || k > 256)
		return admin_fail(e, "usage", "hotkeys: \"n\" must be 1..256");
	return admin_dp_ask(c, json_pack("{s:s, s:I}", "command", "hotkeys", "n", k), e);
}

json_t *cmd_entropy(struct control *c, const json_t *req, const struct jsonl_peer *p,
		    enum role role, struct cmd_err *e)
{
	const struct rebalance_settings *s = &c->settings.rebalance;
	json_t *o = entropy_watch_json(&c->entropy);

	(void)req, (void)p, (void)role, (void)e;
	json_object_set_new(o, "auto", json_pack("{s:b, s:f, s:f}", "on", s->auto_on != 0,
						 "threshold", s->threshold, "cooldown_s",
						 s->cooldown_s));
	json_object_set_new(o, "rebalance", rebalancer_json(&c->demon));
	json_object_set_new(o, "demon", rebalancer_stats(&c->demon));
	return o;
}

json_t *cmd_move_status(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role;
	return admin_dp_ask(c, json_pack("{s:s}", "command", "move-status"), e);
}

/* The finished move `id` in a move-status answer's "last", or NULL. */
static json_t *finished(const json_t *status, json_int_t id)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(status, "last"), i, m)
		if (json_integer_value(json_object_get(m, "move")) == id)
			return m;
	return NULL;
}

static bool queue_idle(const json_t *status)
{
	const json_t *active = json_object_get(status, "active");

	return json_integer_value(json_object_get(status, "queued")) == 0 &&
	       (active == NULL || json_is_null(active));
}

/* Poll move-status until move id is finished: its entry with "state"
 * "done" or "failed" (or, when it has already scrolled out of the last
 * finished moves and nothing is queued or active, {"move", "state":
 * "finished"}), or NULL with the error set. */
static json_t *wait_move(struct control *c, json_int_t id, struct cmd_err *e)
{
	double deadline = dp_link_now() + MOVE_WAIT_S;

	for (;;) {
		struct timespec nap = {0, MOVE_POLL_NS};
		json_t *st = admin_dp_ask(c, json_pack("{s:s}", "command", "move-status"), e), *m;

		if (st == NULL)
			return NULL;
		m = finished(st, id);
		if (m != NULL) {
			json_t *out = json_deep_copy(m);

			json_object_set_new(out, "state", json_string(json_is_true(json_object_get(
									      m, "ok"))
									      ? "done"
									      : "failed"));
			json_object_set(out, "epoch", json_object_get(st, "epoch"));
			json_decref(st);
			return out;
		}
		if (queue_idle(st)) {
			json_t *epoch = json_object_get(st, "epoch");

			m = json_pack("{s:I, s:s, s:o}", "move", id, "state", "finished", "epoch",
				      epoch != NULL ? json_incref(epoch) : json_null());
			json_decref(st);
			return m;
		}
		json_decref(st);
		if (dp_link_now() > deadline) {
			snprintf(e->msg, sizeof(e->msg), "move %lld is not finished after %.0f s "
				 "(move-status shows where it is)", (long long)id, MOVE_WAIT_S);
			e->code = "failed";
			return NULL;
		}
		nanosleep(&nap, NULL);
	}
}

json_t *cmd_move_region(struct control *c, const json_t *req, const struct jsonl_peer *p,
			enum role role, struct cmd_err *e)
{
	json_int_t region = json_integer_value(json_object_get(req, "region"));
	json_int_t worker = json_integer_value(json_object_get(req, "worker"));
	json_t *queued, *done;

	(void)p, (void)role;
	if (region < 0 || region >= PLAN_REGIONS || worker < 0 || worker >= PLAN_WORKERS_MAX)
		return admin_fail(e, "usage", "move-region: \"region\" must be 0..4095 and "
					      "\"worker\" a worker of the data plane");
	queued = admin_dp_ask(c, json_pack("{s:s, s:I, s:I}", "command", "move-region", "region",
					   region, "worker", worker), e);
	if (queued == NULL) {
		if (e->code != NULL && strcmp(e->code, "failed") == 0)
			e->code = "usage"; /* bad region, bad worker, already there: say why */
		return NULL;
	}
	if (!json_is_true(json_object_get(req, "wait")))
		return queued;
	done = wait_move(c, json_integer_value(json_object_get(queued, "move")), e);
	json_decref(queued);
	return done;
}

json_t *cmd_rebalance(struct control *c, const json_t *req, const struct jsonl_peer *p,
		      enum role role, struct cmd_err *e)
{
	const char *name = json_string_value(json_object_get(req, "mode"));
	enum rebalance_mode mode;
	struct timespec wall;
	json_t *r;

	(void)p, (void)role;
	if (rebalance_mode_parse(name, &mode) != 0)
		return admin_fail(e, "usage", "rebalance: \"mode\" must be minimal, moderate or "
					      "aggressive");
	clock_gettime(CLOCK_REALTIME, &wall);
	r = rebalancer_start(&c->demon, &c->entropy, mode,
			     json_is_true(json_object_get(req, "dry_run")), false, dp_link_now(),
			     (double)wall.tv_sec + (double)wall.tv_nsec / 1e9, e->msg,
			     sizeof(e->msg), &e->code);
	return r;
}

json_t *cmd_rebalance_status(struct control *c, const json_t *req, const struct jsonl_peer *p,
			     enum role role, struct cmd_err *e)
{
	(void)req, (void)p, (void)role, (void)e;
	return rebalancer_json(&c->demon);
}
