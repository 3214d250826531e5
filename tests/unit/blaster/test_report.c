/* test_report.c - per-second samples are deltas of the counters with that
 * second's latencies, the progress line shows rate, answered and p99, and
 * the JSON report carries config, samples and totals with the right values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report.h"

static struct report_phase *new_phase(void)
{
	struct report_phase *p = malloc(sizeof(*p));

	assert_non_null(p);
	assert_int_equal(report_phase_init(p, "run"), 0);
	return p;
}

static void free_phase(struct report_phase *p)
{
	report_phase_fini(p);
	free(p);
}

/* Two intervals: each sample holds its own deltas and latencies; the phase
 * histogram ends up with all of them. */
static void test_report_samples(void **state)
{
	struct report_phase *p = new_phase();
	const struct report_sample *s;

	(void)state;
	p->c.sent = 1000;
	p->c.answered = 990;
	p->c.timeouts = 2;
	p->c.status[WE_STATUS_OK] = 980;
	p->c.status[WE_STATUS_NOT_FOUND] = 5;
	p->c.status[WE_STATUS_BUSY] = 5;
	for (int i = 1; i <= 100; i++)
		hist_record(&p->interval, (uint64_t)i * 1000);
	s = report_sample_take(p, 1.0);
	assert_non_null(s);
	assert_int_equal(s->sent, 1000);
	assert_int_equal(s->answered, 990);
	assert_int_equal(s->timeouts, 2);
	assert_int_equal(s->errors, 5);
	assert_true(s->interval_s == 1.0);
	assert_int_equal(s->latency.count, 100);
	assert_true(s->latency.p99 >= 98000 && s->latency.p99 <= 100000);

	p->c.sent = 3000;
	p->c.answered = 2990;
	hist_record(&p->interval, 5);
	s = report_sample_take(p, 2.5);
	assert_int_equal(s->sent, 2000);
	assert_int_equal(s->answered, 2000);
	assert_int_equal(s->timeouts, 0);
	assert_int_equal(s->errors, 0);
	assert_true(s->interval_s == 1.5);
	assert_int_equal(s->latency.count, 1);
	assert_int_equal(s->latency.p99, 5);
	assert_int_equal(p->n_samples, 2);
	assert_int_equal(p->latency.count, 101);
	assert_int_equal(p->interval.count, 0);
	/* Many samples: the array grows. */
	for (int i = 0; i < 200; i++)
		assert_non_null(report_sample_take(p, 3.0 + i));
	assert_int_equal(p->n_samples, 202);
	free_phase(p);
}

/* Errors are answers whose status is neither OK nor NOT_FOUND. */
static void test_report_errors(void **state)
{
	struct report_counters c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.status[WE_STATUS_OK] = 10;
	c.status[WE_STATUS_NOT_FOUND] = 20;
	c.status[WE_STATUS_BUSY] = 3;
	c.status[WE_STATUS_NO_SPACE] = 4;
	c.status[WE_STATUS_COUNT] = 1; /* out-of-range byte */
	assert_int_equal(report_errors(&c), 8);
}

/* The progress line names the phase and shows rates, answered and p99. */
static void test_report_progress_line(void **state)
{
	struct report_phase *p = new_phase();
	const struct report_sample *s;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	p->c.sent = 50000;
	p->c.answered = 49000;
	hist_record(&p->interval, 45000);
	s = report_sample_take(p, 0.5);
	report_print_progress(f, p, s);
	fclose(f);
	assert_non_null(strstr(text, "run"));
	assert_non_null(strstr(text, "100000/s")); /* 50000 in half a second */
	assert_non_null(strstr(text, "98000/s"));
	assert_non_null(strstr(text, "(49000 total)"));
	assert_non_null(strstr(text, "p99 45.0us"));
	free(text);
	free_phase(p);
}

/* The JSON file: version, config as given, the phase's counters, statuses,
 * errors by status, throughput, latency percentiles and samples. */
static void test_report_json(void **state)
{
	struct report_phase *run = new_phase(), *pre = new_phase();
	char path[] = "/tmp/test_report_XXXXXX";
	int fd = mkstemp(path);
	json_t *config = json_pack("{s:s, s:i}", "proto", "native", "workers", 4);
	json_t *root, *o;
	json_error_t jerr;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	pre->name = "preload";
	pre->c.sent = pre->c.answered = 10;
	run->duration_s = 2.0;
	run->c.sent = 4000;
	run->c.answered = 3990;
	run->c.timeouts = 10;
	run->c.wrong_values = 1;
	run->c.status[WE_STATUS_OK] = 3980;
	run->c.status[WE_STATUS_BUSY] = 10;
	run->c.need_token = 3;
	for (int i = 0; i < 1000; i++)
		hist_record(&run->interval, 10000 + (uint64_t)i);
	hist_record(&run->rtt, 777);
	assert_non_null(report_sample_take(run, 1.0));
	assert_int_equal(report_write_json(path, config, pre, run), 0);
	json_decref(config);

	root = json_load_file(path, 0, &jerr);
	unlink(path);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "config"),
							      "proto")), "native");
	assert_non_null(json_object_get(root, "preload"));
	o = json_object_get(root, "run");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "counters"),
							    "sent")), 4000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "counters"),
							    "wrong_values")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "counters"),
							    "need_token")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "status"), "OK")),
			 3980);
	assert_null(json_object_get(json_object_get(o, "status"), "NOT_FOUND")); /* zero */
	assert_int_equal(json_integer_value(json_object_get(o, "errors")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "errors_by_status"),
							    "BUSY")), 10);
	assert_true(json_real_value(json_object_get(json_object_get(o, "throughput"),
						    "answered_per_s")) == 1995.0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "latency_ns"),
							    "count")), 1000);
	/* Exact p99 is 10989; the histogram is within 1%. */
	assert_true(json_integer_value(json_object_get(json_object_get(o, "latency_ns"), "p99")) >=
		    10989 * 99 / 100);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "latency_ns"),
							    "max")), 10999);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "rtt_ns"), "p50")),
			 777);
	assert_int_equal(json_array_size(json_object_get(o, "samples")), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(o, "samples"), 0), "sent")), 4000);
	json_decref(root);
	/* An unwritable path is an error, not a crash. */
	assert_int_not_equal(report_write_json("/nonexistent-dir/x.json", NULL, NULL, run), 0);
	free_phase(run);
	free_phase(pre);
}

/* The summary shows NEED_TOKEN answers as their own figure (after the
 * figures scripts read) and, like every error status, by name. */
static void test_report_summary_need_token(void **state)
{
	struct report_phase *run = new_phase();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	run->duration_s = 1.0;
	run->c.sent = run->c.answered = 100;
	run->c.status[WE_STATUS_OK] = 93;
	run->c.status[WE_STATUS_NEED_TOKEN] = 7;
	run->c.need_token = 7;
	report_print_summary(f, run);
	fclose(f);
	assert_non_null(strstr(text, " wrong values 0  need_token 7\n"));
	assert_non_null(strstr(text, "status NEED_TOKEN: 7 ("));
	free(text);
	free_phase(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_samples),
		cmocka_unit_test(test_report_errors),
		cmocka_unit_test(test_report_progress_line),
		cmocka_unit_test(test_report_json),
		cmocka_unit_test(test_report_summary_need_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
