/* test_control_health.c - warp-control's health checks (control/health.c)
 * and dashboard (control/dashboard.c) from fixed samples: each threshold
 * crossed and not, an idle box, missing fields, a data plane that is down. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dashboard.h"
#include "health.h"

static const struct health_limits limits = {
	.heartbeat_ms = 1000,
	.entropy_limit = 1.5,
	.fwd_error_ratio = 0.01,
	.drop_ratio = 0.01,
	.disk_free_ratio = 0.10,
	.memory_used_ratio = 0.90,
};

/* A stats sample of two workers with the given per-worker requests. */
static json_t *sample(long get0, long get1, long fwd_out, long fwd_busy, long rx, long drops,
		      long age_ms, bool storage, long write_errors)
{
	json_t *s = json_pack(
		"{s:f, s:i, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
		" s:[{s:I, s:I, s:I, s:I}, {s:I, s:I, s:I, s:I}],"
		" s:[{s:I, s:I, s:I}, {s:I, s:I, s:I}]}",
		"uptime_s", 10.0, "workers", 2, "tsc_hz", (json_int_t)1000000000, "total",
		"req_get", (json_int_t)(get0 + get1), "req_get_hit", (json_int_t)(get0 + get1) / 2,
		"req_put", (json_int_t)0, "req_delete", (json_int_t)0, "fwd_out", (json_int_t)fwd_out,
		"fwd_err_busy", (json_int_t)fwd_busy, "fwd_err_hop_limit", (json_int_t)0, "rx_packets",
		(json_int_t)rx, "rx_drop_ip_bad_checksum", (json_int_t)drops, "rx_err_proto_malformed",
		(json_int_t)0, "busy_cycles", (json_int_t)(get0 + get1) * 1000, "req_refused_not_durable",
		(json_int_t)0, "per_worker", "req_get",
		(json_int_t)get0, "req_put", (json_int_t)0, "req_delete", (json_int_t)0,
		"heartbeat_age_ms", (json_int_t)age_ms, "req_get", (json_int_t)get1, "req_put",
		(json_int_t)0, "req_delete", (json_int_t)0, "heartbeat_age_ms", (json_int_t)3,
		"shards", "items", (json_int_t)5, "arena_used_bytes", (json_int_t)500, "arena_bytes",
		(json_int_t)1000, "items", (json_int_t)5, "arena_used_bytes", (json_int_t)100,
		"arena_bytes", (json_int_t)1000);

	assert_non_null(s);
	if (storage)
		json_object_set_new(s, "storage",
				    json_pack("{s:s, s:{s:I, s:I, s:I, s:I}}", "data_dir", "/d",
					      "log", "write_errors", (json_int_t)write_errors,
					      "sync_errors", (json_int_t)0, "segment_errors",
					      (json_int_t)0, "failed_commits", (json_int_t)0));
	return s;
}

static const char *state_of(const json_t *h, const char *check)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(h, "checks"), check), "state"));
}

static double value_of(const json_t *h, const char *check)
{
	const json_t *v =
		json_object_get(json_object_get(json_object_get(h, "checks"), check), "value");

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void test_all_healthy(void **state)
{
	json_t *p = sample(100, 100, 10, 0, 1000, 0, 5, true, 0);
	json_t *c = sample(200, 200, 20, 0, 2000, 0, 5, true, 0);
	struct health_input in = {.prev = p, .cur = c, .dp_up = true, .disk_free_ratio = 0.5};
	json_t *h = health_compute(&in, &limits);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(h, "overall")), "healthy");
	assert_true(fabs(value_of(h, "entropy_levels") - 1.0) < 1e-9); /* max/mean, even */
	assert_true(fabs(value_of(h, "universe_stability") - 5) < 1e-9);
	assert_true(fabs(value_of(h, "quantum_coherence") - 0.5) < 1e-9);
	assert_int_equal(json_object_size(json_object_get(h, "checks")), 6);
	json_decref(h);
	json_decref(p);
	json_decref(c);
}

/* Each threshold crossed makes its check critical and the whole critical. */
static void test_thresholds_crossed(void **state)
{
	/* interval: worker 0 did 300 requests, worker 1 none; 5 of 50 forwards
	 * failed; 100 of 1000 frames dropped; a heartbeat 2 s old; a log write
	 * error. */
	json_t *p = sample(100, 100, 50, 0, 1000, 0, 5, true, 0);
	json_t *c = sample(400, 100, 100, 5, 2000, 100, 2000, true, 1);
	struct health_input in = {.prev = p, .cur = c, .dp_up = true, .disk_free_ratio = 0.5};
	json_t *h = health_compute(&in, &limits);

	(void)state;
	assert_string_equal(state_of(h, "universe_stability"), "critical");
	assert_string_equal(state_of(h, "entropy_levels"), "critical");
	assert_true(fabs(value_of(h, "entropy_levels") - 2.0) < 1e-9);
	assert_string_equal(state_of(h, "wormhole_connectivity"), "critical");
	assert_true(fabs(value_of(h, "wormhole_connectivity") - 0.1) < 1e-9);
	assert_string_equal(state_of(h, "vacuum_stability"), "critical");
	assert_string_equal(state_of(h, "spacetime_integrity"), "critical");
	assert_string_equal(json_string_value(json_object_get(h, "overall")), "critical");
	json_decref(h);
	/* Raised thresholds make the same samples healthy or warnings. */
	struct health_limits wide = {10000, 2.4, 0.2, 0.2, 0.1, 0.9};

	h = health_compute(&in, &wide);
	assert_string_equal(state_of(h, "universe_stability"), "healthy");
	assert_string_equal(state_of(h, "entropy_levels"), "warning"); /* 2.0 > 0.8 * 2.4 */
	assert_string_equal(state_of(h, "wormhole_connectivity"), "healthy");
	json_decref(h);
	json_decref(p);
	json_decref(c);
}

/* An idle box: entropy_levels healthy with value null; no data directory:
 * spacetime_integrity healthy "memory only"; low disk space: critical. */
static void test_idle_and_memory_only(void **state)
{
	json_t *p = sample(100, 100, 0, 0, 0, 0, 5, false, 0);
	json_t *c = sample(100, 100, 0, 0, 0, 0, 5, false, 0);
	json_t *ps = sample(1, 1, 0, 0, 0, 0, 5, true, 0);
	json_t *cs = sample(1, 1, 0, 0, 0, 0, 5, true, 0);
	struct health_input in = {.prev = p, .cur = c, .dp_up = true, .disk_free_ratio = -1};
	json_t *h = health_compute(&in, &limits);
	const json_t *e = json_object_get(json_object_get(h, "checks"), "entropy_levels");

	(void)state;
	assert_string_equal(state_of(h, "entropy_levels"), "healthy");
	assert_true(json_is_null(json_object_get(e, "value")));
	assert_string_equal(state_of(h, "spacetime_integrity"), "healthy");
	assert_non_null(strstr(json_string_value(json_object_get(
				       json_object_get(json_object_get(h, "checks"),
						       "spacetime_integrity"),
				       "measures")),
			       "memory only"));
	json_decref(h);
	in.prev = ps;
	in.cur = cs;
	in.disk_free_ratio = 0.05;
	h = health_compute(&in, &limits);
	assert_string_equal(state_of(h, "spacetime_integrity"), "critical");
	json_decref(h);
	in.disk_free_ratio = 0.15;
	h = health_compute(&in, &limits);
	assert_string_equal(state_of(h, "spacetime_integrity"), "warning");
	json_decref(h);
	json_decref(p);
	json_decref(c);
	json_decref(ps);
	json_decref(cs);
}

/* Missing fields: unknown, never a crash; down: universe_stability critical. */
static void test_missing_and_down(void **state)
{
	json_t *bare = json_pack("{s:{}, s:[{}, {}]}", "total", "per_worker");
	struct health_input in = {.prev = NULL, .cur = bare, .dp_up = true, .disk_free_ratio = -1};
	json_t *h = health_compute(&in, &limits);

	(void)state;
	assert_string_equal(state_of(h, "universe_stability"), "unknown");
	assert_string_equal(state_of(h, "entropy_levels"), "unknown");
	assert_string_equal(state_of(h, "wormhole_connectivity"), "unknown");
	assert_string_equal(state_of(h, "quantum_coherence"), "unknown");
	assert_string_equal(json_string_value(json_object_get(h, "overall")), "unknown");
	json_decref(h);
	in.cur = NULL;
	in.dp_up = false;
	h = health_compute(&in, &limits);
	assert_string_equal(state_of(h, "universe_stability"), "critical");
	assert_string_equal(json_string_value(json_object_get(h, "overall")), "critical");
	json_decref(h);
	json_decref(bare);
}

static void test_entropy(void **state)
{
	double even[] = {5, 5, 5, 5}, one[] = {8, 0, 0, 0}, none[] = {0, 0}, e, m;

	(void)state;
	load_entropy(even, 4, &e, &m);
	assert_true(fabs(e - 1) < 1e-9 && fabs(m - 1) < 1e-9);
	load_entropy(one, 4, &e, &m);
	assert_true(fabs(e) < 1e-9 && fabs(m - 4) < 1e-9);
	load_entropy(none, 2, &e, &m);
	assert_true(isnan(e) && isnan(m));
}

static void test_dashboard(void **state)
{
	json_t *p = sample(100, 100, 10, 0, 1000, 0, 5, false, 0);
	json_t *c = sample(300, 100, 20, 0, 2000, 10, 5, false, 0);
	struct health_input hin = {.prev = p, .cur = c, .dp_up = true, .disk_free_ratio = -1};
	json_t *h = health_compute(&hin, &limits);
	struct dashboard_input in = {.prev = p, .cur = c, .health = h, .interval_s = 2,
				     .dp_up = true, .entropy_limit = 1.5, .data_dir_bytes = -1};
	json_t *d = dashboard_build(&in);
	const json_t *perf = json_object_get(d, "performance_metrics");
	const json_t *phys = json_object_get(d, "physics_state");
	const json_t *res = json_object_get(d, "resource_utilization");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "universe_status"),
							      "state")),
			    "degraded"); /* entropy: 200 vs 0 requests */
	assert_true(fabs(json_number_value(json_object_get(perf, "wormhole_routes_per_second")) - 5) <
		    1e-9);
	assert_true(fabs(json_number_value(json_object_get(perf, "cache_hit_rate")) - 0.5) < 1e-9);
	/* 200 requests, 200000 busy cycles at 1 GHz: 1 us each */
	assert_true(fabs(json_number_value(json_object_get(perf, "avg_operation_latency_us")) - 1) <
		    1e-9);
	assert_true(json_is_true(json_object_get(phys, "entropy_rebalancing_needed")));
	assert_true(fabs(json_number_value(json_object_get(phys, "vacuum_stability")) - 0.99) < 1e-9);
	assert_int_equal(json_integer_value(json_object_get(res, "active_processes")), 2);
	assert_true(json_is_null(json_object_get(res, "filesystem_size_mb")));
	assert_non_null(json_object_get(json_object_get(d, "meaning"), "system_entropy"));
	json_decref(d);
	in.cur = NULL;
	in.dp_up = false;
	d = dashboard_build(&in);
	assert_string_equal(json_string_value(json_object_get(json_object_get(d, "universe_status"),
							      "state")),
			    "unreachable");
	json_decref(d);
	json_decref(h);
	json_decref(p);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_healthy),
		cmocka_unit_test(test_thresholds_crossed),
		cmocka_unit_test(test_idle_and_memory_only),
		cmocka_unit_test(test_missing_and_down),
		cmocka_unit_test(test_entropy),
		cmocka_unit_test(test_dashboard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
