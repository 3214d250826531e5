/* test_hgrm.c - the .hgrm writer prints HdrHistogram's percentile table: the
 * header, rows at HdrHistogram's levels whose values are the histogram's own
 * percentiles (the ones the JSON report carries), running counts, the
 * 1/(1-Percentile) column, the 100% row and the footer; parsed back, it
 * agrees with the JSON report's p50/p90/p99/p99.9, mean, max and count. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "we_test.h"
#include "hgrm.h"
#include "hist.h"
#include "report.h"
#include "rng.h"

#define ROWS_MAX 1024

/* A .hgrm table read back: values in ns (the file's µs x 1000). */
struct parsed {
	size_t n;                     /* rows below 100% */
	uint64_t value_ns[ROWS_MAX];
	double pct[ROWS_MAX];         /* the Percentile column, 0..1 */
	uint64_t total[ROWS_MAX];
	double inv[ROWS_MAX];         /* 1/(1-Percentile) */
	int has_last;                 /* the 100% row */
	uint64_t last_value_ns, last_total;
	double mean_us, stddev_us, max_us;
	uint64_t count;
	unsigned buckets, sub_buckets;
	int footer_lines;
};

static uint64_t us_to_ns(double us)
{
	return (uint64_t)llround(us * 1000.0);
}

static char *write_to_memory(const struct hist *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(hgrm_write(f, h), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void parse(const char *text, struct parsed *p)
{
	const char *line = text;
	char want_header[128];
	int lineno = 0;

	memset(p, 0, sizeof(*p));
	snprintf(want_header, sizeof(want_header), "%12s %14s %10s %14s", "Value", "Percentile",
		 "TotalCount", "1/(1-Percentile)");
	while (*line) {
		const char *end = strchr(line, '\n');
		char buf[256];
		size_t len;
		double v, pc, inv;
		unsigned long long tot, cnt;
		int k;

		assert_non_null(end); /* every line ends with a newline */
		len = (size_t)(end - line);
		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end + 1;
		lineno++;
		if (lineno == 1) {
			assert_string_equal(buf, want_header);
			continue;
		}
		if (lineno == 2) {
			assert_string_equal(buf, "");
			continue;
		}
		if (buf[0] == '#') {
			p->footer_lines++;
			if (sscanf(buf, "#[Mean    = %lf, StdDeviation   = %lf]", &p->mean_us,
				   &p->stddev_us) == 2)
				continue;
			if (sscanf(buf, "#[Max     = %lf, Total count    = %llu]", &p->max_us, &cnt) ==
			    2) {
				p->count = cnt;
				continue;
			}
			if (sscanf(buf, "#[Buckets = %u, SubBuckets     = %u]", &p->buckets,
				   &p->sub_buckets) == 2)
				continue;
			fail_msg("unknown footer line '%s'", buf);
		}
		assert_int_equal(p->footer_lines, 0); /* no row after the footer */
		assert_false(p->has_last);            /* nothing after the 100% row */
		k = sscanf(buf, "%lf %lf %llu %lf", &v, &pc, &tot, &inv);
		if (k == 3) {
			assert_true(pc == 1.0);
			p->has_last = 1;
			p->last_value_ns = us_to_ns(v);
			p->last_total = tot;
			continue;
		}
		assert_int_equal(k, 4);
		assert_true(p->n < ROWS_MAX);
		p->value_ns[p->n] = us_to_ns(v);
		p->pct[p->n] = pc;
		p->total[p->n] = tot;
		p->inv[p->n] = inv;
		p->n++;
	}
	assert_int_equal(p->footer_lines, 3);
}

static uint64_t count_through_bucket(const struct hist *h, unsigned bucket)
{
	uint64_t n = 0;

	for (unsigned b = 0; b <= bucket; b++)
		n += h->buckets[b];
	return n;
}

/* The reported levels: 10% steps to 50%, then five steps per halving of the
 * distance to 100%, as HdrHistogram's percentile iterator with 5 ticks. */
static void test_hgrm_levels(void **state)
{
	static const double want[] = {0,    10,    20,     30,    40,     50,    55,   60,
				      65,   70,    75,     77.5,  80,     82.5,  85,   87.5,
				      88.75, 90,   91.25,  92.5,  93.75,  94.375, 95,  95.625,
				      96.25, 96.875, 97.1875, 97.5, 97.8125, 98.125, 98.4375};
	double level = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(fabs(level - want[i]) < 1e-9);
		level = hgrm_next_level(level);
	}
	/* Strictly increasing and below 100 for as far as a table can go. */
	level = 0;
	for (int i = 0; i < 300; i++) {
		double next = hgrm_next_level(level);

		assert_true(next > level || level > 100.0 - 1e-12);
		assert_true(next < 100.0 || level > 100.0 - 1e-12);
		level = next;
	}
}

/* Random latencies over six decades: every row is the histogram's own
 * percentile at the row's level, with the running count of its bucket; the
 * 100% row and the footer hold max, count and mean exactly. */
static void test_hgrm_rows_match_histogram(void **state)
{
	uint64_t seed = we_test_seed("test_hgrm_rows_match_histogram", 7);
	struct hist *h = malloc(sizeof(*h));
	struct rng r;
	struct parsed *p = malloc(sizeof(*p));
	char *text;
	double level = 0;

	(void)state;
	assert_non_null(h);
	assert_non_null(p);
	rng_seed(&r, seed, 0);
	hist_reset(h);
	for (int i = 0; i < 200000; i++) {
		/* log-uniform 100 ns .. 10 ms, plus a rare far outlier */
		double e = 2.0 + 5.0 * rng_uniform01(&r);
		uint64_t v = (uint64_t)pow(10.0, e);

		if (rng_below(&r, 10000) == 0)
			v = 2000000000ull + rng_below(&r, 1000000000ull);
		hist_record(h, v);
	}
	text = write_to_memory(h);
	parse(text, p);
	assert_true(p->n > 50);
	for (size_t i = 0; i < p->n; i++) {
		uint64_t want = hist_percentile(h, level);

		if (i == 0)
			want = hist_percentile(h, 1e-9); /* rank 1: the smallest value */
		assert_true(fabs(p->pct[i] - level / 100.0) < 1e-12);
		if (p->value_ns[i] != want)
			fail_msg("row %zu (%.10f%%): value %llu ns, hist_percentile says %llu", i,
				 level, (unsigned long long)p->value_ns[i], (unsigned long long)want);
		assert_int_equal(p->total[i], count_through_bucket(h, hist_bucket_of(want)));
		assert_true(fabs(p->inv[i] - 1.0 / (1.0 - level / 100.0)) < 0.006);
		if (i > 0) {
			assert_true(p->value_ns[i] >= p->value_ns[i - 1]);
			assert_true(p->total[i] >= p->total[i - 1]);
		}
		level = hgrm_next_level(level);
	}
	assert_true(p->has_last);
	assert_int_equal(p->last_value_ns, h->max);
	assert_int_equal(p->last_total, h->count);
	assert_int_equal(us_to_ns(p->max_us), h->max);
	assert_int_equal(p->count, h->count);
	assert_true(fabs(p->mean_us * 1000.0 - (double)h->sum / (double)h->count) <= 0.5);
	assert_true(p->stddev_us > 0);
	assert_int_equal(p->buckets, 31);
	assert_int_equal(p->sub_buckets, 128);
	free(text);
	free(p);
	free(h);
}

/* Parsed back, the table says what the JSON report says: p50 and p90 are
 * rows of their own; p99 and p99.9 lie between the rows around them. */
static void test_hgrm_agrees_with_json(void **state)
{
	struct hist *h = malloc(sizeof(*h));
	struct parsed *p = malloc(sizeof(*p));
	struct rng r;
	json_t *js;
	char *text;
	static const struct {
		const char *key;
		double pct;
	} pcts[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99_9", 99.9}};

	(void)state;
	assert_non_null(h);
	assert_non_null(p);
	rng_seed(&r, 11, 0);
	hist_reset(h);
	for (int i = 0; i < 50000; i++)
		hist_record(h, 1000 + rng_below(&r, 20000) + (rng_below(&r, 100) == 0 ? 500000 : 0));
	text = write_to_memory(h);
	parse(text, p);
	js = report_hist_json(h);
	assert_non_null(js);
	for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		uint64_t want = (uint64_t)json_integer_value(json_object_get(js, pcts[k].key));
		uint64_t below = 0, above = UINT64_MAX;
		int exact = 0;

		for (size_t i = 0; i < p->n; i++) {
			double pc = p->pct[i] * 100.0;

			if (fabs(pc - pcts[k].pct) < 1e-9) {
				exact = 1;
				assert_int_equal(p->value_ns[i], want);
			}
			if (pc <= pcts[k].pct)
				below = p->value_ns[i];
			if (pc >= pcts[k].pct && above == UINT64_MAX)
				above = p->value_ns[i];
		}
		if (pcts[k].pct == 50 || pcts[k].pct == 90)
			assert_true(exact);
		if (above == UINT64_MAX)
			above = p->last_value_ns;
		if (want < below || want > above)
			fail_msg("%s %llu ns not within the rows around it (%llu .. %llu)", pcts[k].key,
				 (unsigned long long)want, (unsigned long long)below,
				 (unsigned long long)above);
	}
	assert_int_equal(us_to_ns(p->max_us),
			 (uint64_t)json_integer_value(json_object_get(js, "max")));
	assert_int_equal(p->count, (uint64_t)json_integer_value(json_object_get(js, "count")));
	assert_true(fabs(p->mean_us * 1000.0 - json_real_value(json_object_get(js, "mean"))) <=
		    0.5);
	json_decref(js);
	free(text);
	free(p);
	free(h);
}

/* One value: the 0% row, then the 100% row. Nothing recorded: the header and
 * a footer of zeros, no rows (as HdrHistogram prints an empty histogram). */
static void test_hgrm_small(void **state)
{
	struct hist *h = malloc(sizeof(*h));
	struct parsed *p = malloc(sizeof(*p));
	char *text;

	(void)state;
	assert_non_null(h);
	assert_non_null(p);
	hist_reset(h);
	text = write_to_memory(h);
	parse(text, p);
	assert_int_equal(p->n, 0);
	assert_false(p->has_last);
	assert_int_equal(p->count, 0);
	assert_true(p->mean_us == 0 && p->max_us == 0 && p->stddev_us == 0);
	free(text);

	hist_record(h, 12345);
	text = write_to_memory(h);
	parse(text, p);
	assert_int_equal(p->n, 1);
	assert_true(p->pct[0] == 0.0);
	assert_int_equal(p->value_ns[0], 12345);
	assert_int_equal(p->total[0], 1);
	assert_true(p->has_last);
	assert_int_equal(p->last_value_ns, 12345);
	assert_int_equal(p->last_total, 1);
	assert_true(fabs(p->mean_us - 12.345) < 1e-9);
	free(text);
	free(p);
	free(h);
}

/* hgrm_write_file writes the same text, and says why it could not. */
static void test_hgrm_file(void **state)
{
	struct hist *h = malloc(sizeof(*h));
	char path[] = "/tmp/test_hgrm.XXXXXX";
	char got[16384], *want;
	FILE *f;
	size_t n;
	int fd;

	(void)state;
	assert_non_null(h);
	hist_reset(h);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(h, v * 100);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(hgrm_write_file(path, h), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	unlink(path);
	want = write_to_memory(h);
	assert_string_equal(got, want);
	free(want);
	assert_int_equal(hgrm_write_file("/nonexistent-dir/x.hgrm", h), -ENOENT);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hgrm_levels),
		cmocka_unit_test(test_hgrm_rows_match_histogram),
		cmocka_unit_test(test_hgrm_agrees_with_json),
		cmocka_unit_test(test_hgrm_small),
		cmocka_unit_test(test_hgrm_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
