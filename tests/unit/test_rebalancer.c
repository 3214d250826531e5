/* test_rebalancer.c - a rebalance from plan to measured effect
 * (control/rebalancer.c, control/entropy_watch.c) against a stand-in data
 * plane: a dry run, a rebalance through moving, settling and done with the
 * log line and the totals, a second start while one runs, a refusal, a
 * timeout, and the automatic trigger with its cooldown. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rebalancer.h"

#define NR 16

static char dir[64];
static struct entropy_watch w;
static struct rebalancer rb;

/* The stand-in data plane: region owners and cumulative sampled counts;
 * move-status answers "busy" for `busy_polls` polls after a move-regions. */
static struct {
	int owner[NR];
	long long sampled[NR];
	int busy_polls;
	bool refuse_moves;
	long long completed;
	int move_regions_calls;
	json_t *last_moves;
} dp;

static json_t *fake_ask(void *ctx, json_t *req, char *err, size_t len)
{
	const char *cmd = json_string_value(json_object_get(req, "command"));
	json_t *ans = NULL;
	size_t i;
	json_t *m;

	(void)ctx;
	if (strcmp(cmd, "move-status") == 0) {
		bool busy = dp.busy_polls > 0;

		if (busy)
			dp.busy_polls--;
		ans = json_pack("{s:i, s:i, s:o, s:I, s:i}", "epoch", 1, "queued", busy ? 1 : 0,
				"active", json_null(), "completed", (json_int_t)dp.completed,
				"failed", 0);
	} else if (strcmp(cmd, "move-regions") == 0) {
		dp.move_regions_calls++;
		if (dp.refuse_moves) {
			snprintf(err, len, "the data plane: the move queue is full");
		} else {
			json_decref(dp.last_moves);
			dp.last_moves = json_incref(json_object_get(req, "moves"));
			json_array_foreach(json_object_get(req, "moves"), i, m)
				dp.owner[json_integer_value(json_array_get(m, 0))] =
					(int)json_integer_value(json_array_get(m, 1));
			dp.completed += (long long)json_array_size(json_object_get(req, "moves"));
			ans = json_pack("{s:I}", "queued",
					(json_int_t)json_array_size(json_object_get(req, "moves")));
		}
	} else {
		snprintf(err, len, "the data plane: unknown command");
	}
	json_decref(req);
	return ans;
}

/* One sample: every region gets `hits[r]` more sampled requests. */
static bool sample(const long long hits[NR], double t)
{
	json_t *owner = json_array(), *cnt = json_array();

	for (int r = 0; r < NR; r++) {
		dp.sampled[r] += hits[r];
		json_array_append_new(owner, json_integer(dp.owner[r]));
		json_array_append_new(cnt, json_integer(dp.sampled[r]));
	}
	return entropy_watch_push(&w,
				  json_pack("{s:i, s:i, s:i, s:o, s:o}", "workers", 4, "regions",
					    NR, "sample_every", 1, "owner", owner, "sampled", cnt),
				  NULL, NULL, NULL, 1.5, t, 1e9 + t);
}

/* Worker 0's four regions are hot. */
static const long long skew[NR] = {100, 90, 80, 70, 10, 10, 10, 10,
				   10,	10, 10, 10, 10, 10, 10, 10};

static int setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/we_rebalancer_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	memset(&dp, 0, sizeof(dp));
	for (int r = 0; r < NR; r++)
		dp.owner[r] = r / 4;
	assert_int_equal(entropy_watch_init(&w, dir, true, err, sizeof(err)), 0);
	rebalancer_init(&rb, fake_ask, NULL, &w);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	rebalancer_free(&rb);
	entropy_watch_free(&w);
	json_decref(dp.last_moves);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int log_lines(void)
{
	char path[128];
	FILE *f;
	int n = 0, ch;

	snprintf(path, sizeof(path), "%s/entropy/rebalancing_log.jsonl", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static double num_at(const json_t *o, const char *a, const char *b)
{
	return json_number_value(json_object_get(json_object_get(o, a), b));
}

static void test_needs_two_samples(void **state)
{
	char err[256];
	const char *code = NULL;

	(void)state;
	assert_false(sample(skew, 0)); /* the first only primes */
	assert_null(rebalancer_start(&rb, &w, REBALANCE_MODERATE, true, false, 0, 0, err,
				     sizeof(err), &code));
	assert_string_equal(code, "unavailable");
	assert_true(sample(skew, 1));
	assert_true(w.valid);
}

static void test_dry_run_then_rebalance(void **state)
{
	char err[256], path[128];
	const char *code = NULL;
	json_t *r, *totals;
	double before;

	(void)state;
	sample(skew, 0);
	sample(skew, 1);
	before = w.last.imbalance;
	assert_true(before > 2);
	r = rebalancer_start(&rb, &w, REBALANCE_MODERATE, true, false, 1, 1e9, err, sizeof(err),
			     &code);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "done");
	assert_true(json_is_true(json_object_get(r, "dry_run")));
	assert_true(json_array_size(json_object_get(r, "moves")) > 0);
	assert_int_equal(dp.move_regions_calls, 0);
	assert_int_equal(log_lines(), 1);
	json_decref(r);

	dp.busy_polls = 3; /* the baseline poll, then two busy answers */
	r = rebalancer_start(&rb, &w, REBALANCE_MODERATE, false, false, 1, 1e9, err, sizeof(err),
			     &code);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "moving");
	assert_int_equal(dp.move_regions_calls, 1);
	json_decref(r);
	/* a second one while this runs is refused */
	assert_null(rebalancer_start(&rb, &w, REBALANCE_MINIMAL, false, false, 1, 1e9, err,
				     sizeof(err), &code));
	assert_string_equal(code, "failed");
	assert_non_null(strstr(err, "under way"));
	rebalancer_step(&rb, &w, 1.0);
	assert_int_equal(rb.state, REB_MOVING);
	rebalancer_step(&rb, &w, 1.05); /* not yet time to poll */
	rebalancer_step(&rb, &w, 1.2);
	assert_int_equal(rb.state, REB_MOVING);
	rebalancer_step(&rb, &w, 1.4);
	assert_int_equal(rb.state, REB_SETTLING);
	/* two measurements after the moves: the load now lies where it was sent */
	sample(skew, 2);
	rebalancer_step(&rb, &w, 2.0);
	assert_int_equal(rb.state, REB_SETTLING);
	sample(skew, 3);
	rebalancer_step(&rb, &w, 3.0);
	assert_int_equal(rb.state, REB_DONE);
	r = rebalancer_json(&rb);
	assert_true(num_at(r, "measured", "imbalance_after") <
		    num_at(r, "measured", "imbalance_before"));
	assert_true(fabs(num_at(r, "measured", "imbalance_after") -
			 num_at(r, "predicted", "imbalance_after")) < 1e-9);
	assert_int_equal(json_integer_value(json_object_get(r, "moves_completed")),
			 json_array_size(json_object_get(r, "moves")));
	assert_string_equal(json_string_value(json_object_get(r, "trigger")), "manual");
	json_decref(r);
	assert_int_equal(log_lines(), 2);
	snprintf(path, sizeof(path), "%s/entropy/maxwell_demon_stats.json", dir);
	totals = json_load_file(path, 0, NULL);
	assert_non_null(totals);
	assert_true(json_number_value(json_object_get(totals, "rebalances")) == 1);
	assert_true(json_number_value(json_object_get(totals, "dry_runs")) == 1);
	assert_true(json_number_value(json_object_get(totals, "mean_imbalance_reduction")) > 0.5);
	json_decref(totals);
}

static void test_refused_and_timeout(void **state)
{
	char err[256];
	const char *code = NULL;
	json_t *r;

	(void)state;
	sample(skew, 0);
	sample(skew, 1);
	dp.refuse_moves = true;
	assert_null(rebalancer_start(&rb, &w, REBALANCE_AGGRESSIVE, false, false, 1, 1e9, err,
				     sizeof(err), &code));
	assert_string_equal(code, "failed");
	assert_non_null(strstr(err, "queue is full"));
	assert_int_equal(rb.state, REB_FAILED);
	assert_int_equal(log_lines(), 1);
	dp.refuse_moves = false;
	dp.busy_polls = 1000000;
	r = rebalancer_start(&rb, &w, REBALANCE_MODERATE, false, false, 1, 1e9, err, sizeof(err),
			     &code);
	json_decref(r);
	rebalancer_step(&rb, &w, 1 + REBALANCE_MOVE_TIMEOUT_S + 60);
	assert_int_equal(rb.state, REB_FAILED);
	assert_non_null(strstr(rb.error, "in time"));
	assert_int_equal(log_lines(), 2);
}

static void test_auto(void **state)
{
	json_t *r;

	(void)state;
	sample(skew, 0);
	sample(skew, 1);
	assert_false(rebalancer_auto(&rb, &w, false, 30, 1, 1e9)); /* off */
	assert_false(rebalancer_auto(&rb, &w, true, 30, 1, 1e9));  /* 1 sample above */
	sample(skew, 2);
	assert_false(rebalancer_auto(&rb, &w, true, 30, 2, 1e9));
	sample(skew, 3);
	assert_int_equal(w.streak, 3);
	assert_true(rebalancer_auto(&rb, &w, true, 30, 3, 1e9));
	r = rebalancer_json(&rb);
	assert_string_equal(json_string_value(json_object_get(r, "trigger")), "auto");
	assert_string_equal(json_string_value(json_object_get(r, "mode")), "moderate");
	json_decref(r);
	rebalancer_step(&rb, &w, 3.2);
	sample(skew, 4);
	sample(skew, 5);
	rebalancer_step(&rb, &w, 5);
	assert_int_equal(rb.state, REB_DONE);
	/* even above the threshold, nothing before the cooldown has passed */
	for (int r2 = 0; r2 < NR; r2++)
		dp.owner[r2] = 0;
	sample(skew, 6);
	sample(skew, 7);
	sample(skew, 8);
	assert_true(w.streak >= 3);
	assert_false(rebalancer_auto(&rb, &w, true, 30, 8, 1e9));
	assert_true(rebalancer_auto(&rb, &w, true, 30, 36, 1e9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_needs_two_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_then_rebalance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
