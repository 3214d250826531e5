/* rebalancer.c - a rebalance from plan to measured effect (see rebalancer.h).
 *
 * DESIGN: nothing here waits. rebalancer_start plans and queues the moves
 * with one move-regions request; rebalancer_step, called by the control
 * loop, polls move-status and counts measurements, so the admin socket and
 * the sampling go on while the data plane moves regions. The report is
 * rebuilt at each change of state; the final one is logged.
 */
#include "rebalancer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {"idle", "moving", "settling", "done", "failed"};

static json_t *num(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static double total(const struct rebalancer *rb, const char *name)
{
	return json_number_value(json_object_get(rb->totals, name));
}

void rebalancer_init(struct rebalancer *rb, rebalance_ask_fn *ask, void *ctx,
		     const struct entropy_watch *w)
{
	memset(rb, 0, sizeof(*rb));
	rb->ask = ask;
	rb->ask_ctx = ctx;
	rb->totals = entropy_files_load_demon(&w->files);
	if (rb->totals == NULL)
		rb->totals = json_object();
}

void rebalancer_free(struct rebalancer *rb)
{
	json_decref(rb->report);
	json_decref(rb->totals);
	rb->report = rb->totals = NULL;
}

bool rebalancer_busy(const struct rebalancer *rb)
{
	return rb->state == REB_MOVING || rb->state == REB_SETTLING;
}

static json_t *moves_json(const struct plan_result *p)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < p->n_moves; i++)
		json_array_append_new(a, json_pack("{s:i, s:i, s:i, s:o}", "region",
						   p->moves[i].region, "from", p->moves[i].from,
						   "to", p->moves[i].to, "load",
						   num(p->moves[i].load)));
	return a;
}

static void build_report(struct rebalancer *rb, const struct entropy_watch *w, double now)
{
	const struct plan_result *p = &rb->plan;
	bool after = rb->state == REB_DONE && !rb->dry_run && p->n_moves > 0 && w->valid;
	json_t *r = json_pack(
		"{s:I, s:f, s:s, s:s, s:b, s:s, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:s}, "
		"s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:i, s:I, s:I, s:f, s:o}",
		"id", (json_int_t)rb->id, "time", rb->start_unix, "mode",
		rebalance_mode_name(rb->mode), "trigger", rb->automatic ? "auto" : "manual",
		"dry_run", rb->dry_run, "state", state_names[rb->state], "moves", moves_json(p),
		"predicted", "imbalance_before", num(p->imbalance_before), "imbalance_after",
		num(p->imbalance_after), "entropy_before", num(p->entropy_before), "entropy_after",
		num(p->entropy_after), "floor", num(p->floor), "target", num(p->target), "why",
		p->why != NULL ? p->why : "",
		"measured", "imbalance_before", num(rb->measured_before[0]), "entropy_before",
		num(rb->measured_before[1]), "entropy_regions_before", num(rb->measured_before[2]),
		"imbalance_after", after ? num(w->last.imbalance) : json_null(), "entropy_after",
		after ? num(w->last.entropy_workers) : json_null(), "entropy_regions_after",
		after ? num(w->last.entropy_regions) : json_null(),
		"moves_planned", (int)p->n_moves, "moves_completed", (json_int_t)rb->completed,
		"moves_failed", (json_int_t)rb->failed, "duration_s",
		(rb->end > 0 ? rb->end : now) - rb->start, "error",
		rb->error[0] ? json_string(rb->error) : json_null());

	json_decref(rb->report);
	rb->report = r;
}

static void add_total(struct rebalancer *rb, const char *name, double v)
{
	json_object_set_new(rb->totals, name, json_real(total(rb, name) + v));
}

/* The end: the report logged, the totals counted and written. */
static void finish(struct rebalancer *rb, struct entropy_watch *w, enum rebalance_state st,
		   double now)
{
	char err[256];
	json_t *measured;
	double before, after;

	rb->state = st;
	rb->end = now;
	build_report(rb, w, now);
	if (entropy_files_log(&w->files, rb->report, err, sizeof(err)) < 0 && !w->quiet)
		fprintf(stderr, "warp-control: rebalance %llu not logged: %s\n",
			(unsigned long long)rb->id, err);
	if (rb->dry_run) {
		add_total(rb, "dry_runs", 1);
	} else {
		add_total(rb, "rebalances", 1);
		add_total(rb, rb->automatic ? "automatic" : "manual", 1);
		add_total(rb, "moves_planned", rb->plan.n_moves);
		add_total(rb, "moves_completed", (double)rb->completed);
		add_total(rb, "moves_failed", (double)rb->failed);
		add_total(rb, st == REB_DONE ? "done" : "failed", 1);
	}
	measured = json_object_get(rb->report, "measured");
	before = json_number_value(json_object_get(measured, "imbalance_before"));
	after = json_number_value(json_object_get(measured, "imbalance_after"));
	if (json_is_number(json_object_get(measured, "imbalance_after"))) {
		add_total(rb, "measured", 1);
		add_total(rb, "imbalance_reduction_sum", before - after);
		json_object_set_new(rb->totals, "mean_imbalance_reduction",
				    json_real(total(rb, "imbalance_reduction_sum") /
					      total(rb, "measured")));
	}
	json_object_set_new(rb->totals, "last_time", json_real(rb->start_unix));
	if (entropy_files_demon(&w->files, rb->totals, err, sizeof(err)) < 0 && !w->quiet)
		fprintf(stderr, "warp-control: %s\n", err);
}

static void fail(struct rebalancer *rb, struct entropy_watch *w, double now, const char *why)
{
	snprintf(rb->error, sizeof(rb->error), "%s", why);
	finish(rb, w, REB_FAILED, now);
}

/* The data plane's move counters: false when it did not answer. */
static bool move_status(struct rebalancer *rb, uint64_t *completed, uint64_t *failed, bool *idle,
			char *err, size_t len)
{
	json_t *s = rb->ask(rb->ask_ctx, json_pack("{s:s}", "command", "move-status"), err, len);

	if (s == NULL)
		return false;
	*completed = (uint64_t)json_integer_value(json_object_get(s, "completed"));
	*failed = (uint64_t)json_integer_value(json_object_get(s, "failed"));
	*idle = json_integer_value(json_object_get(s, "queued")) == 0 &&
		(json_object_get(s, "active") == NULL || json_is_null(json_object_get(s, "active")));
	json_decref(s);
	return true;
}

static bool queue_moves(struct rebalancer *rb, char *err, size_t len)
{
	json_t *moves = json_array(), *ans;

	for (unsigned i = 0; i < rb->plan.n_moves; i++)
		json_array_append_new(moves, json_pack("[i, i]", rb->plan.moves[i].region,
						       rb->plan.moves[i].to));
	ans = rb->ask(rb->ask_ctx, json_pack("{s:s, s:o}", "command", "move-regions", "moves", moves),
		      err, len);
	json_decref(ans);
	return ans != NULL;
}

json_t *rebalancer_start(struct rebalancer *rb, struct entropy_watch *w, enum rebalance_mode mode,
			 bool dry_run, bool automatic, double now, double unix_now, char *err,
			 size_t len, const char **code)
{
	struct plan_input in;
	bool idle;

	if (rebalancer_busy(rb)) {
		snprintf(err, len, "rebalance %llu is under way (%s); rebalance-status follows it",
			 (unsigned long long)rb->id, state_names[rb->state]);
		*code = "failed";
		return NULL;
	}
	if (!w->valid) {
		snprintf(err, len, "no region loads measured yet: a rebalance plans from the rates "
			 "between two region-load answers (%lu measurements so far); try again "
			 "after two sample periods", w->measured);
		*code = "unavailable";
		return NULL;
	}
	in = (struct plan_input){.n_workers = w->last.n_workers, .n_regions = w->last.n_regions,
				 .owner = w->last.owner, .load = w->last.region_rps,
				 .mode = mode, .limit = w->threshold};
	if (rebalance_plan(&in, &rb->plan) != 0) {
		snprintf(err, len, "cannot plan: %s", rb->plan.why);
		*code = "failed";
		return NULL;
	}
	rb->id++;
	rb->mode = mode;
	rb->dry_run = dry_run;
	rb->automatic = automatic;
	rb->start = now;
	rb->start_unix = unix_now;
	rb->end = 0;
	rb->error[0] = 0;
	rb->completed = rb->failed = 0;
	rb->measured_before[0] = w->last.imbalance;
	rb->measured_before[1] = w->last.entropy_workers;
	rb->measured_before[2] = w->last.entropy_regions;
	if (dry_run || rb->plan.n_moves == 0) {
		finish(rb, w, REB_DONE, now);
		return json_incref(rb->report);
	}
	if (!move_status(rb, &rb->completed0, &rb->failed0, &idle, err, len) ||
	    !queue_moves(rb, err, len)) {
		fail(rb, w, now, err);
		*code = "failed";
		return NULL;
	}
	rb->state = REB_MOVING;
	rb->deadline = now + REBALANCE_MOVE_TIMEOUT_S + 0.1 * rb->plan.n_moves;
	rb->next_poll = now;
	build_report(rb, w, now);
	return json_incref(rb->report);
}

void rebalancer_step(struct rebalancer *rb, struct entropy_watch *w, double now)
{
	uint64_t completed, failed;
	char err[256];
	bool idle;

	if (rb->state == REB_MOVING && now >= rb->next_poll) {
		rb->next_poll = now + REBALANCE_POLL_S;
		if (move_status(rb, &completed, &failed, &idle, err, sizeof(err))) {
			rb->completed = completed >= rb->completed0 ? completed - rb->completed0 : 0;
			rb->failed = failed >= rb->failed0 ? failed - rb->failed0 : 0;
			if (idle) {
				rb->state = REB_SETTLING;
				rb->settle_until = w->measured + REBALANCE_SETTLE_SAMPLES;
				build_report(rb, w, now);
				return;
			}
		}
		if (now > rb->deadline)
			fail(rb, w, now, "the data plane did not finish the moves in time "
					 "(move-status shows where they are)");
	} else if (rb->state == REB_SETTLING) {
		if (w->valid && w->measured >= rb->settle_until)
			finish(rb, w, REB_DONE, now);
		else if (now > rb->deadline + 60)
			fail(rb, w, now, "no load measured after the moves (is the data plane "
					 "there?)");
	}
}

bool rebalancer_auto(struct rebalancer *rb, struct entropy_watch *w, bool on, double cooldown_s,
		     double now, double unix_now)
{
	char err[256];
	const char *code;
	json_t *r;

	if (!on || rebalancer_busy(rb) || !w->valid || w->streak < REBALANCE_AUTO_SAMPLES ||
	    (rb->end > 0 && now - rb->end < cooldown_s))
		return false;
	w->streak = 0;
	r = rebalancer_start(rb, w, REBALANCE_MODERATE, false, true, now, unix_now, err,
			     sizeof(err), &code);
	if (r == NULL && !w->quiet)
		fprintf(stderr, "warp-control: automatic rebalance: %s\n", err);
	json_decref(r);
	return true;
}

json_t *rebalancer_json(const struct rebalancer *rb)
{
	return rb->report != NULL ? json_incref(rb->report)
				  : json_pack("{s:s}", "state", state_names[REB_IDLE]);
}

json_t *rebalancer_stats(const struct rebalancer *rb)
{
	return json_deep_copy(rb->totals);
}
