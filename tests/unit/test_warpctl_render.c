/* test_warpctl_render.c - warpctl's renderers against fixed answers, the
 * answer-line checks of admin_client.c and the option parser
 * (tools/warpctl/render_*.c, admin_client.c, warpctl_opts.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin_client.h"
#include "render.h"
#include "warpctl_opts.h"

/* Render the JSON text `result` with fn; the output (malloc'd) in *out. */
static int render_text(render_fn *fn, const char *result, bool all, char **out)
{
	json_t *v = json_loads(result, JSON_DECODE_ANY, NULL);
	size_t len = 0;
	struct render r = {.all = all};
	int rc;

	assert_non_null(v);
	r.out = open_memstream(out, &len);
	assert_non_null(r.out);
	rc = fn(&r, v);
	fclose(r.out);
	if (rc != 0)
		assert_true(r.err[0] != '\0'); /* an error always says what */
	json_decref(v);
	return rc;
}

/* status: one "what  value" line each, numbers human-readable, absent
 * optional fields as "-". */
static void test_render_status(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_status,
				     "{\"state\":\"degraded\",\"control_uptime_s\":61,"
				     "\"data_plane\":{\"connected\":false},\"items\":1500}",
				     false, &s), 0);
	assert_string_equal(s, "state           degraded\n"
			       "health          -\n"
			       "control uptime  1m 01s\n"
			       "data plane      not connected\n"
			       "workers         -\n"
			       "data directory  none\n"
			       "requests        -\n"
			       "items           1.5 k\n");
	free(s);
}

/* A result without what the table needs is an error naming the field,
 * never a crash: every renderer given an empty object, an array, null. */
static void test_render_wrong_shapes(void **state)
{
	render_fn *fns[] = {render_status, render_health, render_ping, render_whoami,
			    render_stats, render_shards, render_dashboard, render_config_get,
			    render_config_set, render_checkpoint, render_regions, render_commands,
			    render_help, render_hotkeys, render_entropy, render_move_region,
			    render_move_status, render_rebalance, render_topology, render_route};
	const char *shapes[] = {"{}", "[1,{\"a\":2}]", "null", "\"text\"", "{\"owner\":[9]}"};
	char *s;

	(void)state;
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++)
		for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
			int rc = render_text(fns[f], shapes[i], false, &s);

			/* commands and shards accept any array (entries checked) */
			assert_true(rc == 0 || rc == -EINVAL);
			free(s);
		}
	assert_int_equal(render_text(render_stats, "{\"interval_s\":1}", false, &s), -EINVAL);
	free(s);
	assert_int_equal(render_text(render_shards, "[{\"worker\":0}]", false, &s), -EINVAL);
	free(s);
	assert_int_equal(render_text(render_regions,
				     "{\"workers\":2,\"regions\":2,\"owner\":[0,2]}", false, &s),
			 -EINVAL);
	free(s);
}

/* stats: zero counters only with --all; bytes in binary units; the
 * service-time quantiles as bucket bounds. */
static void test_render_stats(void **state)
{
	const char *res = "{\"interval_s\":2,\"total\":{\"rx_packets\":2000000,\"rx_bytes\":1048576,"
			  "\"req_delete\":0},\"rates\":{\"rx_packets\":1000000,\"rx_bytes\":524288},"
			  "\"service_time\":{\"unit\":\"s\",\"le\":[1e-6,2e-6],\"counts\":[3,1],"
			  "\"count\":4,\"sum\":6e-6}}";
	char *s;

	(void)state;
	assert_int_equal(render_text(render_stats, res, false, &s), 0);
	assert_string_equal(s, "rates over the last 2 s\n\n"
			       "counter     total       rate\n"
			       "rx_packets    2 M      1 M/s\n"
			       "rx_bytes    1 MiB  512 KiB/s\n"
			       "\nservice time (loop iterations that found work): 4 samples, "
			       "mean 1.5 us, p50 <= 1 us, p90 <= 2 us, p99 <= 2 us\n");
	free(s);
	/* The data plane's own shape names the per-worker array "per_worker". */
	assert_int_equal(render_text(render_stats, "{\"total\":{},\"per_worker\":[{\"rx_packets\":5,"
				     "\"heartbeat_age_ms\":2}]}", false, &s), 0);
	assert_string_equal(s, "every counter is zero (--all lists them)\n\n"
			       "worker  rx packets  tx packets  requests  iterations  heartbeat age\n"
			       "     0           5           0         0           0           2 ms\n");
	free(s);
	assert_int_equal(render_text(render_stats, res, true, &s), 0);
	assert_non_null(strstr(s, "\nreq_delete      0          -\n"));
	free(s);
}

/* config get: worker values shown once when equal, listed when not. */
static void test_render_config(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_config_get,
				     "{\"settings\":[{\"name\":\"busy_poll\",\"scope\":\"worker\","
				     "\"value\":[\"on\",\"off\"],\"unit\":\"\",\"range\":\"on|off\","
				     "\"live\":true,\"role\":\"operate\",\"effect\":\"poll\"},"
				     "{\"name\":\"arena_mb\",\"scope\":\"worker\",\"value\":[64,64],"
				     "\"unit\":\"MiB\",\"range\":\"16..65536\",\"live\":false,"
				     "\"role\":\"admin\",\"effect\":\"memory\"}]}",
				     false, &s), 0);
	assert_string_equal(s,
		"name       scope              value  unit  range      live     role     effect\n"
		"busy_poll  worker            on,off        on|off     yes      operate  poll\n"
		"arena_mb   worker  64 (all workers)  MiB   16..65536  restart  admin    memory\n");
	free(s);
	assert_int_equal(render_text(render_config_set,
				     "{\"name\":\"udp_checksum\",\"value\":\"off\",\"applied\":true,"
				     "\"persisted\":false}", false, &s), 0);
	assert_string_equal(s, "udp_checksum = off: applied, not persisted (lost on restart)\n");
	free(s);
}

/* regions: regions counted per worker, ports from the base. */
static void test_render_regions(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_regions,
				     "{\"workers\":2,\"regions\":4,\"udp_port_base\":7000,"
				     "\"owner\":[0,1,1,1]}", false, &s), 0);
	assert_string_equal(s, "4 regions over 2 workers\n\n"
			       "worker  udp port  regions\n"
			       "     0      7000        1\n"
			       "     1      7001        3\n");
	free(s);
}

/* shards: items per tier come from the stats' tiers.<tier>.items (raw,
 * LZ4, LZ4-HC, disk); a shard without tiers shows "-". */
static void test_render_shards_tiers(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(
		render_text(render_shards,
			    "[{\"worker\":0,\"items\":10,\"memory_free_in_pieces_bytes\":2048,"
			    "\"tiers\":{"
			    "\"event_horizon\":{\"items\":4},\"photon_sphere\":{\"items\":3},"
			    "\"deep_cache\":{\"items\":2},\"singularity\":{\"items\":1}}},"
			    "{\"worker\":1,\"items\":5}]",
			    false, &s),
		0);
	assert_non_null(strstr(s, "raw/lz4/hc/disk"));
	assert_non_null(strstr(s, "4/3/2/1\n"));
	assert_non_null(strstr(s, "in pieces"));
	assert_non_null(strstr(s, " 2 KiB "));
	free(s);
}

/* topology: the strongest connection first, missing fields as "-";
 * route: the path, then hops and cost. */
static void test_render_topology(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_topology,
				     "{\"version\":3,\"workers\":2,\"measured\":false,\"connections\":["
				     "{\"connection_id\":\"worker0->worker1\",\"strength\":0.01},"
				     "{\"connection_id\":\"worker1->worker0\",\"connection_type\":"
				     "\"fast_lane\",\"strength\":1,\"cost\":1,\"share\":1,"
				     "\"usage_count\":2500,\"rate_per_s\":10,"
				     "\"last_accessed\":\"2026-12-03T14:00:00Z\"}]}",
				     false, &s), 0);
	assert_string_equal(s, "version 3, 2 workers, updated - (no forwarding counters from the "
			       "data plane: every connection at the floor)\n\n"
			       "connection        type       strength  cost  share  usage  rate  "
			       "last accessed\n"
			       "worker1->worker0  fast_lane     1.000     1  100 %  2.5 k  10/s  "
			       "2026-12-03T14:00:00Z\n"
			       "worker0->worker1  -             0.010     -      -      -     -  "
			       "never\n");
	free(s);
	assert_int_equal(render_text(render_route,
				     "{\"path\":[\"worker0\",\"worker1\"],\"cost\":1.5,\"hops\":1,"
				     "\"cached\":false}", false, &s), 0);
	assert_string_equal(s, "worker0 -> worker1\nhops 1, cost 1.5\n");
	free(s);
}

/* dashboard: each field beside what it measures, flat or nested meaning. */
static void test_render_dashboard(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_dashboard,
				     "{\"universe_status\":{\"state\":\"stable\",\"total_operations\":"
				     "1234567},\"physics_state\":{\"system_entropy\":0.25},"
				     "\"meaning\":{\"total_operations\":\"requests executed\","
				     "\"physics_state\":{\"system_entropy\":\"imbalance\"}}}",
				     false, &s), 0);
	assert_string_equal(s,
		"section          field              value  what it measures\n"
		"universe_status  state             stable  \n"
		"universe_status  total_operations  1.23 M  requests executed\n"
		"physics_state    system_entropy      0.25  imbalance\n");
	free(s);
}

/* health: checks in the specification's order, then any others; a value
 * not measured (null) shows as "-" without its unit. */
static void test_render_health(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_health,
				     "{\"overall\":\"unknown\",\"checks\":{\"zeta\":{\"state\":"
				     "\"healthy\",\"value\":1,\"threshold\":2,\"unit\":\"\","
				     "\"measures\":\"new\"},\"quantum_coherence\":{\"state\":"
				     "\"unknown\",\"value\":null,\"threshold\":10,\"unit\":\"ms\","
				     "\"measures\":\"heartbeat\"}}}", false, &s), 0);
	assert_string_equal(s, "overall: unknown\n\n"
			       "check              state    value  threshold  what it measures\n"
			       "quantum_coherence  unknown      -      10 ms  heartbeat\n"
			       "zeta               healthy      1          2  new\n");
	free(s);
}

/* The small answers, as docs/warpctl.md shows them. */
static void test_render_small(void **state)
{
	char *s;

	(void)state;
	assert_int_equal(render_text(render_checkpoint, "{\"checkpoint\":12,\"state\":\"begun\"}",
				     false, &s), 0);
	assert_string_equal(s, "checkpoint 12 begun\n");
	free(s);
	assert_int_equal(render_text(render_whoami,
				     "{\"uid\":1000,\"gid\":1000,\"pid\":4242,\"role\":\"operate\"}",
				     false, &s), 0);
	assert_string_equal(s, "uid   1000\ngid   1000\npid   4242\nrole  operate\n");
	free(s);
	assert_int_equal(render_text(render_ping,
				     "{\"control\":{\"uptime_s\":5,\"version\":\"0.1.0\"},"
				     "\"data_plane\":{\"connected\":true,\"uptime_s\":90000}}",
				     false, &s), 0);
	assert_string_equal(s, "control     0.1.0, up 5 s\n"
			       "data plane  connected, up 1d 01h 00m\n");
	free(s);
	/* The data plane's list-commands gives bare names: shown too. */
	assert_int_equal(render_text(render_commands, "[\"ping\",{\"name\":\"status\","
				     "\"role\":\"observe\",\"help\":\"at a glance\"}]", false, &s), 0);
	assert_string_equal(s, "command  role     what it does\n"
			       "ping     -        \n"
			       "status   observe  at a glance\n");
	free(s);
	assert_int_equal(render_text(render_help, "{\"name\":\"checkpoint\",\"role\":\"operate\","
				     "\"help\":\"begin one\",\"args\":\"none\"}", false, &s), 0);
	assert_string_equal(s, "checkpoint (role operate): begin one\narguments: none\n");
	free(s);
}

/* Answer lines: ok with result, errors with code, and every malformed
 * shape refused with a sentence. */
static void test_answer_parse(void **state)
{
	struct admin_answer a;
	char err[256];
	const char *bad[] = {"", "nope", "[1]", "{\"ok\":1}", "{\"ok\":true}",
			     "{\"ok\":true,\"ok\":false,\"result\":1}"};

	(void)state;
	assert_int_equal(admin_answer_parse("{\"ok\":true,\"result\":[1]}", 24, &a, err,
					    sizeof(err)), WARPCTL_EXIT_OK);
	assert_true(a.ok);
	assert_true(json_is_array(a.result));
	admin_answer_free(&a);
	assert_int_equal(admin_answer_parse("{\"ok\":false,\"error\":\"no\",\"code\":\"denied\"}",
					    41, &a, err, sizeof(err)), WARPCTL_EXIT_OK);
	assert_false(a.ok);
	assert_string_equal(a.error, "no");
	assert_int_equal(exitcode_of_error_code(a.code), WARPCTL_EXIT_DENIED);
	admin_answer_free(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(admin_answer_parse(bad[i], strlen(bad[i]), &a, err, sizeof(err)),
				 WARPCTL_EXIT_FAILED);
		assert_non_null(strstr(err, "malformed answer"));
		assert_null(a.root);
	}
	assert_int_equal(exitcode_of_error_code("usage"), WARPCTL_EXIT_USAGE);
	assert_int_equal(exitcode_of_error_code("unavailable"), WARPCTL_EXIT_UNREACHABLE);
	assert_int_equal(exitcode_of_error_code("failed"), WARPCTL_EXIT_FAILED);
	assert_int_equal(exitcode_of_error_code("something new"), WARPCTL_EXIT_FAILED);
	assert_int_equal(exitcode_of_error_code(NULL), WARPCTL_EXIT_FAILED);
}

/* Options anywhere on the line, "--name=value", words kept in order and
 * after "--" even when they start with '-'; bad values and unknown options
 * refused with the option's name; the socket from the environment. */
/* The load-balancing renderers: an entropy monitor not yet measuring says
 * so; a dry run shows no completed moves; every move is listed only with
 * --all beyond the first 20. */
static void test_render_balance(void **state)
{
	char *s, moves[4096];
	size_t off;

	(void)state;
	assert_int_equal(render_text(render_entropy, "{\"measured\":false,\"samples\":1,"
						     "\"state\":null,\"auto\":{\"on\":true}}",
				     false, &s), 0);
	assert_non_null(strstr(s, "measured             not yet (1 measurements"));
	assert_non_null(strstr(s, "automatic rebalance  on"));
	assert_null(strstr(s, "worker"));
	free(s);
	off = (size_t)snprintf(moves, sizeof(moves), "{\"id\":1,\"mode\":\"aggressive\","
				"\"trigger\":\"manual\",\"dry_run\":true,\"state\":\"done\","
				"\"predicted\":{\"imbalance_after\":1.0,\"why\":\"x\"},\"moves\":[");
	for (int i = 0; i < 25; i++)
		off += (size_t)snprintf(moves + off, sizeof(moves) - off,
					"%s{\"region\":%d,\"from\":0,\"to\":1,\"load\":5}",
					i ? "," : "", i);
	snprintf(moves + off, sizeof(moves) - off, "]}");
	assert_int_equal(render_text(render_rebalance, moves, false, &s), 0);
	assert_non_null(strstr(s, "rebalance 1 (aggressive, manual, dry run): done\n"));
	assert_null(strstr(s, "moves completed"));
	assert_non_null(strstr(s, "... 5 more (--json lists them all)"));
	assert_null(strstr(s, "\n    24 "));
	free(s);
	assert_int_equal(render_text(render_rebalance, moves, true, &s), 0);
	assert_non_null(strstr(s, "\n    24 "));
	free(s);
	assert_int_equal(render_text(render_move_region,
				     "{\"move\":3,\"region\":9,\"from\":1,\"to\":0,"
				     "\"state\":\"queued\"}", false, &s), 0);
	assert_string_equal(s, "move 3: region 9, worker 1 -> 0: queued\n");
	free(s);
}

static void test_opts(void **state)
{
	char *ok[] = {"warpctl", "config", "--json", "set", "--worker=3", "--timeout-ms", "250",
		      "--", "-5"};
	char *bad1[] = {"warpctl", "--timeout-ms", "5s", "status"};
	char *bad2[] = {"warpctl", "--sokcet", "x"};
	char *bad3[] = {"warpctl", "status", "--socket"};
	struct warpctl_opts o;
	char err[256];

	(void)state;
	unsetenv(WARPCTL_SOCKET_ENV);
	assert_int_equal(warpctl_opts_parse(9, ok, &o, err, sizeof(err)), 0);
	assert_true(o.json);
	assert_true(o.seen_worker);
	assert_int_equal(o.worker, 3);
	assert_int_equal(o.timeout_ms, 250);
	assert_int_equal(o.n_words, 3);
	assert_string_equal(o.words[1], "set");
	assert_string_equal(o.words[2], "-5");
	assert_string_equal(o.socket, WARPCTL_SOCKET_DEFAULT);
	assert_int_equal(warpctl_opts_scope(&o, WARPCTL_SCOPE_CONFIG_SET, "config set", err,
					    sizeof(err)), 0);
	assert_int_equal(warpctl_opts_scope(&o, 0, "status", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--worker does not apply to 'status'");
	assert_int_equal(warpctl_opts_parse(4, bad1, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--timeout-ms: '5s'"));
	assert_int_equal(warpctl_opts_parse(3, bad2, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--sokcet"));
	assert_int_equal(warpctl_opts_parse(3, bad3, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--socket needs a value"));
	setenv(WARPCTL_SOCKET_ENV, "/tmp/x.sock", 1);
	assert_int_equal(warpctl_opts_parse(2, bad2, &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(warpctl_opts_parse(1, ok, &o, err, sizeof(err)), 0);
	assert_string_equal(o.socket, "/tmp/x.sock");
	unsetenv(WARPCTL_SOCKET_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_status),
		cmocka_unit_test(test_render_wrong_shapes),
		cmocka_unit_test(test_render_stats),
		cmocka_unit_test(test_render_config),
		cmocka_unit_test(test_render_regions),
		cmocka_unit_test(test_render_shards_tiers),
		cmocka_unit_test(test_render_topology),
		cmocka_unit_test(test_render_dashboard),
		cmocka_unit_test(test_render_small),
		cmocka_unit_test(test_render_health),
		cmocka_unit_test(test_answer_parse),
		cmocka_unit_test(test_render_balance),
		cmocka_unit_test(test_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
