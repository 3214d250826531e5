/* test_entropy_monitor.c - the entropy monitor's measurement
 * (control/entropy_monitor.c) against hand-computed values, its refusal of
 * malformed answers, and its files (control/entropy_files.c) in a
 * temporary directory: atomic state, history rows and rotation, the log,
 * the totals, and a data directory that is not one. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "entropy_files.h"
#include "entropy_monitor.h"

static char dir[64];
static struct entropy_sample s;

static void near(double got, double want)
{
	if (!(fabs(got - want) <= 1e-6 * (1 + fabs(want))))
		fail_msg("got %.9f, want %.9f", got, want);
}

/* A region-load answer: 8 regions, the first 4 on worker 0. */
static json_t *load8(unsigned workers, const long long sampled[8])
{
	json_t *owner = json_array(), *cnt = json_array();

	for (int r = 0; r < 8; r++) {
		json_array_append_new(owner, json_integer(r < 4 ? 0 : 1));
		json_array_append_new(cnt, json_integer(sampled[r]));
	}
	return json_pack("{s:i, s:i, s:i, s:o, s:o}", "workers", (int)workers, "regions", 8,
			 "sample_every", 4, "owner", owner, "sampled", cnt);
}

static void test_measure(void **state)
{
	static const long long zero[8] = {0}, cur[8] = {30, 10, 0, 0, 10, 0, 0, 0};
	json_t *a = load8(2, zero), *b = load8(2, cur);
	json_t *st0 = json_loads("{\"per_worker\":[{\"busy_cycles\":0},{\"busy_cycles\":0}]}", 0,
				 NULL);
	json_t *st1 = json_loads("{\"per_worker\":[{\"busy_cycles\":100},{\"busy_cycles\":300}]}",
				 0, NULL);
	json_t *hot = json_loads("{\"merged\":{\"sampled\":100,\"keys\":[{\"count\":100,\"error\":0}]},"
				 "\"workers\":[{\"worker\":1,\"sampled\":10,\"keys\":["
				 "{\"count\":5,\"error\":0},{\"count\":5,\"error\":0}]}]}",
				 0, NULL);
	struct entropy_inputs in = {.prev_load = a, .cur_load = b, .interval_s = 2,
				    .prev_stats = st0, .cur_stats = st1, .hotkeys = hot,
				    .unix_time = 1e9};
	char err[256];
	json_t *j;

	(void)state;
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), 0);
	/* rates: delta x 4 / 2 s */
	near(s.region_rps[0], 60);
	near(s.worker_rps[0], 80);
	near(s.worker_rps[1], 20);
	near(s.requests_per_s, 100);
	near(s.imbalance, 1.6);
	near(s.entropy_workers, -(0.8 * log2(0.8) + 0.2 * log2(0.2)));
	near(s.busy_share[0], 0.25);
	near(s.busy_share[1], 0.75);
	near(s.merged_key_bits, 0); /* one key has it all */
	near(s.key_bits[1], 1);     /* two keys, even */
	assert_true(isnan(s.key_bits[0]));
	assert_int_equal(s.owned[0], 4);
	j = entropy_sample_json(&s);
	near(json_number_value(json_object_get(
		     json_array_get(json_object_get(j, "per_worker"), 0), "load_share")),
	     0.8);
	json_decref(j);
	/* without stats and hotkeys: unknown, not a failure */
	in.prev_stats = in.cur_stats = in.hotkeys = NULL;
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), 0);
	assert_true(isnan(s.busy_share[0]) && isnan(s.merged_key_bits));
	json_decref(a), json_decref(b), json_decref(st0), json_decref(st1), json_decref(hot);
}

static void test_measure_refuses(void **state)
{
	static const long long zero[8] = {0};
	json_t *a = load8(2, zero), *b = load8(3, zero), *c = load8(2, zero);
	struct entropy_inputs in = {.prev_load = a, .cur_load = b, .interval_s = 1};
	char err[256];

	(void)state;
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "worker count"));
	in.cur_load = c;
	in.interval_s = 0;
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), -EINVAL);
	in.interval_s = 1;
	json_array_set_new(json_object_get(c, "owner"), 2, json_integer(7));
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), -EINVAL);
	json_object_del(c, "sampled");
	assert_int_equal(entropy_measure(&in, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "region-load"));
	json_decref(a), json_decref(b), json_decref(c);
}

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/we_entropy_XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, ch;

	if (f == NULL)
		return -1;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void test_files(void **state)
{
	struct entropy_files f;
	char data[128], path[256], err[256];
	json_t *j;

	(void)state;
	snprintf(data, sizeof(data), "%s/data", dir); /* absent: made */
	assert_int_equal(entropy_files_open(&f, data, err, sizeof(err)), 0);
	memset(&s, 0, sizeof(s));
	s.n_workers = 2;
	s.imbalance = 1.25;
	s.unix_time = 1000;
	j = entropy_sample_json(&s);
	assert_int_equal(entropy_files_state(&f, j, err, sizeof(err)), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "%s/entropy/current_state.json", data);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	near(json_number_value(json_object_get(j, "imbalance")), 1.25);
	json_decref(j);
	snprintf(path, sizeof(path), "%s/entropy/current_state.json.tmp", data);
	assert_int_not_equal(access(path, F_OK), 0);
	/* history: header + a row, then nothing until 10 s later */
	snprintf(path, sizeof(path), "%s/entropy/historical_entropy.csv", data);
	assert_int_equal(entropy_files_history(&f, &s, err, sizeof(err)), 0);
	s.unix_time = 1005;
	assert_int_equal(entropy_files_history(&f, &s, err, sizeof(err)), 1);
	s.unix_time = 1010;
	assert_int_equal(entropy_files_history(&f, &s, err, sizeof(err)), 0);
	assert_int_equal(lines(path), 3);
	/* rotation: the full file becomes .1, a new one begins with its header */
	f.rotate_bytes = 10;
	s.unix_time = 1020;
	assert_int_equal(entropy_files_history(&f, &s, err, sizeof(err)), 0);
	assert_int_equal(lines(path), 2);
	snprintf(path, sizeof(path), "%s/entropy/historical_entropy.csv.1", data);
	assert_int_equal(lines(path), 3);
	/* the log: one line per call */
	j = json_pack("{s:s}", "mode", "moderate");
	assert_int_equal(entropy_files_log(&f, j, err, sizeof(err)), 0);
	assert_int_equal(entropy_files_log(&f, j, err, sizeof(err)), 0);
	json_decref(j);
	snprintf(path, sizeof(path), "%s/entropy/rebalancing_log.jsonl", data);
	assert_int_equal(lines(path), 2);
	/* the totals come back */
	j = json_pack("{s:i}", "rebalances", 3);
	assert_int_equal(entropy_files_demon(&f, j, err, sizeof(err)), 0);
	json_decref(j);
	j = entropy_files_load_demon(&f);
	assert_int_equal(json_integer_value(json_object_get(j, "rebalances")), 3);
	json_decref(j);
}

static void test_files_damaged(void **state)
{
	struct entropy_files f;
	char data[128], path[256], err[256];
	FILE *fp;

	(void)state;
	/* the data directory is a file */
	snprintf(data, sizeof(data), "%s/file", dir);
	fp = fopen(data, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(entropy_files_open(&f, data, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, data));
	assert_int_equal(f.dir[0], 0);
	assert_int_equal(entropy_files_history(&f, &s, err, sizeof(err)), 1); /* nothing kept */
	/* DIR/entropy is a file */
	snprintf(data, sizeof(data), "%s/d2", dir);
	assert_int_equal(mkdir(data, 0700), 0);
	snprintf(path, sizeof(path), "%s/entropy", data);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(entropy_files_open(&f, data, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "entropy"));
	/* no data directory: nothing to do */
	assert_int_equal(entropy_files_open(&f, NULL, err, sizeof(err)), 0);
	assert_int_equal(entropy_files_state(&f, NULL, err, sizeof(err)), 1);
	assert_null(entropy_files_load_demon(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_measure_refuses),
		cmocka_unit_test_setup_teardown(test_files, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_files_damaged, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
