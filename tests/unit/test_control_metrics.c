/* test_control_metrics.c - the Prometheus text warp-control serves
 * (control/metrics_text.c), rendered from a fixed sample: families with
 * HELP and TYPE once, counters per worker, base units, cumulative
 * histogram buckets ending in +Inf = _count, health states, and the
 * exposition when the data plane is down; promtool, where installed,
 * accepts the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics_text.h"

static const char *help(const char *name)
{
	return strcmp(name, "rx_packets") == 0 ? "frames received\\with a backslash" : NULL;
}

static json_t *fixed_sample(void)
{
	json_error_t je;
	json_t *s = json_loads(
		"{\"uptime_s\": 3.5, \"tsc_hz\": 1000000000,"
		" \"total\": {\"rx_packets\": 30, \"req_get\": 7},"
		" \"per_worker\": ["
		"  {\"rx_packets\": 10, \"req_get\": 3, \"rx_drop_ip_not_for_us\": 1,"
		"   \"heartbeat_age_ms\": 250, \"iterations\": 99,"
		"   \"service_time\": {\"unit\": \"s\", \"le\": [1e-6, 2e-6, 4e-6],"
		"                     \"counts\": [5, 0, 2], \"count\": 7, \"sum\": 1.5e-5}},"
		"  {\"rx_packets\": 20, \"req_get\": 4, \"rx_drop_ip_not_for_us\": 0,"
		"   \"heartbeat_age_ms\": 1}],"
		" \"shards\": [{\"items\": 4, \"arena_used_bytes\": 64, \"arena_bytes\": 1024,"
		"   \"arena_free_bytes\": 960, \"arena_free_large_bytes\": 900, \"compact_moves\": 7,"
		"   \"tiers\": {\"event_horizon\": {\"items\": 3, \"stored_bytes\": 90,"
		"     \"value_bytes\": 90, \"hits\": 11, \"demotions\": 0},"
		"    \"photon_sphere\": {\"items\": 1, \"stored_bytes\": 40, \"value_bytes\": 600,"
		"     \"hits\": 2, \"demotions\": 5},"
		"    \"deep_cache\": {\"items\": 0, \"stored_bytes\": 0, \"value_bytes\": 0,"
		"     \"hits\": 0, \"demotions\": 0}, \"promotions\": 2, \"left_raw\": 1,"
		"    \"dict_bytes\": 32768}}],"
		" \"storage\": {\"data_dir\": \"/d\", \"log\": {\"commits\": 40, \"bytes\": 4096,"
		"   \"commit_us_p99_le\": 250},"
		"  \"checkpoint\": {\"completed\": 2, \"last_ms\": 1500},"
		"  \"disk_tier\": {\"on\": 1, \"reads\": 9, \"segments\": 16, \"segments_used\": 3,"
		"   \"live_bytes\": 70000, \"segments_reclaimed\": 5}}}",
		0, &je);

	assert_non_null(s);
	return s;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_render_sample(void **state)
{
	json_t *s = fixed_sample();
	json_t *h = json_loads("{\"overall\":\"warning\",\"checks\":{"
			       "\"universe_stability\":{\"state\":\"healthy\"},"
			       "\"entropy_levels\":{\"state\":\"warning\"},"
			       "\"vacuum_stability\":{\"state\":\"critical\"},"
			       "\"quantum_coherence\":{\"state\":\"unknown\"}}}",
			       0, NULL);
	char *t = metrics_render(s, NULL, h, 12.0, help);

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "warpengine_up 1\n"));
	assert_int_equal(count_of(t, "# TYPE warpengine_rx_packets_total counter\n"), 1);
	assert_non_null(strstr(t, "# HELP warpengine_rx_packets_total frames received\\\\with a "
				  "backslash\n"));
	assert_non_null(strstr(t, "warpengine_rx_packets_total{worker=\"0\"} 10\n"));
	assert_non_null(strstr(t, "warpengine_rx_packets_total{worker=\"1\"} 20\n"));
	assert_non_null(strstr(t, "# HELP warpengine_req_get_total data plane counter req_get\n"));
	assert_non_null(strstr(t, "warpengine_iterations_total{worker=\"0\"} 99\n"));
	/* "for_us" is not a unit */
	assert_non_null(strstr(t, "warpengine_rx_drop_ip_not_for_this_host_total{worker=\"0\"} 1\n"));
	assert_null(strstr(t, "not_for_us_total"));
	/* base units */
	assert_non_null(strstr(t, "warpengine_heartbeat_age_seconds{worker=\"0\"} 0.25\n"));
	assert_null(strstr(t, "heartbeat_age_ms"));
	assert_non_null(strstr(t, "warpengine_items{worker=\"0\"} 4\n"));
	assert_non_null(strstr(t, "warpengine_memory_used_bytes{worker=\"0\"} 64\n"));
	assert_non_null(strstr(t, "warpengine_memory_bytes{worker=\"0\"} 1024\n"));
	/* compaction: free bytes in pieces = free - free in large blocks */
	assert_non_null(strstr(t, "# TYPE warpengine_memory_free_in_pieces_bytes gauge\n"));
	assert_non_null(strstr(t, "warpengine_memory_free_in_pieces_bytes{worker=\"0\"} 60\n"));
	assert_non_null(strstr(t, "# TYPE warpengine_compact_moves_total counter\n"));
	assert_non_null(strstr(t, "warpengine_compact_moves_total{worker=\"0\"} 7\n"));
	/* the histogram: cumulative, +Inf = count; worker 1 has none */
	assert_int_equal(count_of(t, "# TYPE warpengine_service_seconds histogram\n"), 1);
	assert_non_null(strstr(t, "warpengine_service_seconds_bucket{worker=\"0\",le=\"1e-06\"} 5\n"));
	assert_non_null(strstr(t, "warpengine_service_seconds_bucket{worker=\"0\",le=\"2e-06\"} 5\n"));
	assert_non_null(strstr(t, "warpengine_service_seconds_bucket{worker=\"0\",le=\"4e-06\"} 7\n"));
	assert_non_null(strstr(t, "warpengine_service_seconds_bucket{worker=\"0\",le=\"+Inf\"} 7\n"));
	assert_non_null(strstr(t, "warpengine_service_seconds_count{worker=\"0\"} 7\n"));
	assert_non_null(strstr(t, "warpengine_service_seconds_sum{worker=\"0\"} 1.5e-05\n"));
	assert_null(strstr(t, "warpengine_service_seconds_count{worker=\"1\"}"));
	/* the tiers: gauges and counters per worker and tier */
	assert_int_equal(count_of(t, "# TYPE warpengine_tier_items gauge\n"), 1);
	assert_non_null(strstr(t, "warpengine_tier_items{worker=\"0\",tier=\"photon_sphere\"} 1\n"));
	assert_non_null(strstr(t, "warpengine_tier_value_bytes{worker=\"0\",tier=\"photon_sphere\"} 600\n"));
	assert_non_null(strstr(t, "warpengine_tier_stored_bytes{worker=\"0\",tier=\"photon_sphere\"} 40\n"));
	assert_non_null(strstr(t, "# TYPE warpengine_tier_hits_total counter\n"));
	assert_non_null(strstr(t, "warpengine_tier_hits_total{worker=\"0\",tier=\"event_horizon\"} 11\n"));
	assert_non_null(strstr(t, "warpengine_tier_demotions_total{worker=\"0\",tier=\"photon_sphere\"} 5\n"));
	assert_non_null(strstr(t, "warpengine_tier_promotions_total{worker=\"0\"} 2\n"));
	assert_non_null(strstr(t, "# TYPE warpengine_tier_dictionary_bytes gauge\n"));
	assert_non_null(strstr(t, "warpengine_tier_dictionary_bytes{worker=\"0\"} 32768\n"));
	/* the data directory: process-wide, base units, absent fields absent */
	assert_non_null(strstr(t, "# TYPE warpengine_storage_log_commits_total counter\n"));
	assert_non_null(strstr(t, "warpengine_storage_log_commits_total 40\n"));
	assert_non_null(strstr(t, "warpengine_storage_log_bytes_total 4096\n"));
	assert_non_null(strstr(t, "warpengine_storage_log_commit_p99_seconds 0.00025\n"));
	assert_non_null(strstr(t, "warpengine_storage_checkpoints_completed_total 2\n"));
	assert_non_null(strstr(t, "warpengine_storage_checkpoint_last_duration_seconds 1.5\n"));
	assert_non_null(strstr(t, "warpengine_storage_disk_tier_reads_total 9\n"));
	assert_non_null(strstr(t, "# TYPE warpengine_storage_disk_tier_segments_used gauge\n"));
	assert_non_null(strstr(t, "warpengine_storage_disk_tier_segments_used 3\n"));
	assert_non_null(strstr(t, "warpengine_storage_disk_tier_live_bytes 70000\n"));
	assert_non_null(strstr(t, "warpengine_storage_disk_tier_segments_reclaimed_total 5\n"));
	assert_null(strstr(t, "warpengine_storage_log_syncs_total"));
	assert_null(strstr(t, "warpengine_storage_recovery"));
	/* health */
	assert_non_null(strstr(t, "warpengine_health{check=\"universe_stability\"} 0\n"));
	assert_non_null(strstr(t, "warpengine_health{check=\"entropy_levels\"} 1\n"));
	assert_non_null(strstr(t, "warpengine_health{check=\"vacuum_stability\"} 2\n"));
	assert_non_null(strstr(t, "warpengine_health{check=\"quantum_coherence\"} 3\n"));
	assert_non_null(strstr(t, "warpengine_control_uptime_seconds 12.000\n"));
	free(t);
	json_decref(s);
	json_decref(h);
}

/* The shards command's fields win over the stats' own when given. */
static void test_render_shards(void **state)
{
	json_t *s = fixed_sample();
	json_t *sh = json_loads("[{\"worker\":0,\"items\":9,\"memory_used_bytes\":128,"
				"\"memory_bytes\":2048,\"memory_free_in_pieces_bytes\":40,"
				"\"compact_moves\":3}]", 0, NULL);
	char *t = metrics_render(s, sh, NULL, 1, NULL);

	(void)state;
	assert_non_null(strstr(t, "warpengine_items{worker=\"0\"} 9\n"));
	assert_non_null(strstr(t, "warpengine_memory_bytes{worker=\"0\"} 2048\n"));
	assert_non_null(strstr(t, "warpengine_memory_free_in_pieces_bytes{worker=\"0\"} 40\n"));
	assert_non_null(strstr(t, "warpengine_compact_moves_total{worker=\"0\"} 3\n"));
	assert_null(strstr(t, "warpengine_compact_moves_total{worker=\"0\"} 7\n"));
	assert_non_null(strstr(t, "# HELP warpengine_rx_packets_total data plane counter rx_packets\n"));
	free(t);
	json_decref(s);
	json_decref(sh);
}

/* promtool (when installed) accepts the rendered text. */
static void test_promtool(void **state)
{
	json_t *s = fixed_sample();
	json_t *h = json_loads("{\"checks\":{\"universe_stability\":{\"state\":\"healthy\"}}}", 0,
			       NULL);
	char *t = metrics_render(s, NULL, h, 1, help);
	char path[] = "/tmp/we-metrics-XXXXXX", cmd[128];
	int fd;
	FILE *f;

	(void)state;
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		free(t);
		json_decref(s);
		json_decref(h);
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(t, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	free(t);
	json_decref(s);
	json_decref(h);
}

static void test_render_down(void **state)
{
	char *t = metrics_render(NULL, NULL, NULL, 1, help);

	(void)state;
	assert_non_null(strstr(t, "warpengine_up 0\n"));
	assert_null(strstr(t, "_total"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_sample),
		cmocka_unit_test(test_render_shards),
		cmocka_unit_test(test_render_down),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
