/* test_warpctl_table.c - warpctl's column table printer and its
 * human-readable numbers (tools/warpctl/table.c, human.c, json_out.c). */
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

#include "human.h"
#include "json_out.h"
#include "table.h"

/* What table_print writes, as a malloc'd string. */
static char *print_to_string(struct table *t, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*rc = table_print(t, f);
	fclose(f);
	return buf;
}

/* Columns are as wide as their widest cell or header, two spaces apart;
 * right-aligned columns pad on the left; the last left-aligned column has
 * no trailing spaces; missing cells print empty. */
static void test_table_alignment(void **state)
{
	static const struct table_col cols[] = {
		{"name", TABLE_LEFT}, {"value", TABLE_RIGHT}, {"note", TABLE_LEFT}};
	struct table t;
	char *s;
	int rc;

	(void)state;
	table_init(&t, cols, 3);
	table_cell(&t, "rx_packets"), table_cell(&t, "%s", "1.23 M"), table_cell(&t, "%s", "ok");
	table_end_row(&t);
	table_cell(&t, "a"), table_cell(&t, "%d", 7);
	table_end_row(&t);
	assert_int_equal(table_rows(&t), 2);
	s = print_to_string(&t, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "name         value  note\n"
			       "rx_packets  1.23 M  ok\n"
			       "a                7  \n");
	free(s);
	table_free(&t);
}

/* A table whose first column has no header prints no header line; cells
 * beyond the last column are dropped, not written past the row. */
static void test_table_no_header_extra_cells(void **state)
{
	static const struct table_col cols[] = {{NULL, TABLE_LEFT}, {NULL, TABLE_LEFT}};
	struct table t;
	char *s;
	int rc;

	(void)state;
	table_init(&t, cols, 2);
	table_cell(&t, "state"), table_cell(&t, "stable"), table_cell(&t, "dropped");
	table_end_row(&t);
	table_cell(&t, "data directory"), table_cell(&t, "none");
	table_end_row(&t);
	s = print_to_string(&t, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "state           stable\n"
			       "data directory  none\n");
	free(s);
	table_free(&t);
}

/* Many rows grow the table; an empty table prints its header only. */
static void test_table_many_rows_and_empty(void **state)
{
	static const struct table_col cols[] = {{"n", TABLE_RIGHT}};
	struct table t;
	char *s;
	int rc;

	(void)state;
	table_init(&t, cols, 1);
	s = print_to_string(&t, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "n\n");
	free(s);
	for (int i = 0; i < 1000; i++) {
		table_cell(&t, "%d", i);
		table_end_row(&t);
	}
	s = print_to_string(&t, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(s), 4 + 10 * 4 + 90 * 4 + 900 * 4);
	assert_non_null(strstr(s, "\n999\n"));
	assert_non_null(strstr(s, "\n  7\n"));
	free(s);
	table_free(&t);
}

/* Counts and rates: SI prefixes, three significant digits, small whole
 * counts exact, no "1e+03" at a unit's edge. */
static void test_human_count_rate(void **state)
{
	char b[HUMAN_BUF];

	(void)state;
	assert_string_equal(human_count(0, b, sizeof(b)), "0");
	assert_string_equal(human_count(987, b, sizeof(b)), "987");
	assert_string_equal(human_count(12.5, b, sizeof(b)), "12.5");
	assert_string_equal(human_count(1000, b, sizeof(b)), "1 k");
	assert_string_equal(human_count(12345678, b, sizeof(b)), "12.3 M");
	assert_string_equal(human_count(999.7, b, sizeof(b)), "1 k");
	assert_string_equal(human_count(999600, b, sizeof(b)), "1 M");
	assert_string_equal(human_count(4.2e21, b, sizeof(b)), "4200000 P");
	assert_string_equal(human_rate(1234567.8, b, sizeof(b)), "1.23 M/s");
	assert_string_equal(human_rate(230000, b, sizeof(b)), "230 k/s");
	assert_string_equal(human_rate(5, b, sizeof(b)), "5/s");
	assert_string_equal(human_rate(0, b, sizeof(b)), "0/s");
	assert_string_equal(human_count(-5, b, sizeof(b)), "-5");
	assert_string_equal(human_count(NAN, b, sizeof(b)), "nan");
}

/* Bytes use binary prefixes. */
static void test_human_bytes(void **state)
{
	char b[HUMAN_BUF];

	(void)state;
	assert_string_equal(human_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(human_bytes(999, b, sizeof(b)), "999 B");
	/* Never four digits: 1000 B is already shown in KiB. */
	assert_string_equal(human_bytes(1000, b, sizeof(b)), "0.977 KiB");
	assert_string_equal(human_bytes(1024, b, sizeof(b)), "1 KiB");
	assert_string_equal(human_bytes(536870912, b, sizeof(b)), "512 MiB");
	assert_string_equal(human_bytes(1536.0 * 1024 * 1024, b, sizeof(b)), "1.5 GiB");
	assert_string_equal(human_byte_rate(98765432.1, b, sizeof(b)), "94.2 MiB/s");
}

/* Durations from nanoseconds to seconds; uptimes as a clock reading. */
static void test_human_time(void **state)
{
	char b[HUMAN_BUF];

	(void)state;
	assert_string_equal(human_seconds(0, b, sizeof(b)), "0 s");
	assert_string_equal(human_seconds(0.0012, b, sizeof(b)), "1.2 ms");
	assert_string_equal(human_seconds(1.8e-6, b, sizeof(b)), "1.8 us");
	assert_string_equal(human_seconds(250e-9, b, sizeof(b)), "250 ns");
	assert_string_equal(human_seconds(1, b, sizeof(b)), "1 s");
	assert_string_equal(human_seconds(5000, b, sizeof(b)), "5000 s");
	assert_string_equal(human_uptime(12.34, b, sizeof(b)), "12.3 s");
	assert_string_equal(human_uptime(312, b, sizeof(b)), "5m 12s");
	assert_string_equal(human_uptime(7512.4, b, sizeof(b)), "2h 05m");
	assert_string_equal(human_uptime(93784, b, sizeof(b)), "1d 02h 03m");
	assert_string_equal(human_percent(0.1234, b, sizeof(b)), "12.3 %");
	assert_string_equal(human_percent(0.5, b, sizeof(b)), "50 %");
}

/* Reals print in their shortest exact form and stay reals. */
static void test_json_out_real(void **state)
{
	char b[40];

	(void)state;
	assert_string_equal(json_out_real(0.1, b, sizeof(b)), "0.1");
	assert_string_equal(json_out_real(3.0, b, sizeof(b)), "3.0");
	assert_string_equal(json_out_real(1e300, b, sizeof(b)), "1e+300");
	assert_string_equal(json_out_real(12.345678901234567, b, sizeof(b)), "12.345678901234567");
	for (double d = 1e-9; d < 1e9; d *= 3.7)
		assert_true(strtod(json_out_real(d, b, sizeof(b)), NULL) == d);
}

/* Pretty JSON keeps the order of keys as received and empty containers. */
static void test_json_out_pretty(void **state)
{
	json_t *v = json_loads("{\"z\":1,\"a\":[0.1,\"x\\n\",{}],\"m\":[],\"t\":true}", 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(v);
	assert_int_equal(json_out_pretty(f, v), 0);
	fclose(f);
	assert_string_equal(buf, "{\n"
				 "  \"z\": 1,\n"
				 "  \"a\": [\n"
				 "    0.1,\n"
				 "    \"x\\n\",\n"
				 "    {}\n"
				 "  ],\n"
				 "  \"m\": [],\n"
				 "  \"t\": true\n"
				 "}\n");
	free(buf);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_alignment),
		cmocka_unit_test(test_table_no_header_extra_cells),
		cmocka_unit_test(test_table_many_rows_and_empty),
		cmocka_unit_test(test_human_count_rate),
		cmocka_unit_test(test_human_bytes),
		cmocka_unit_test(test_human_time),
		cmocka_unit_test(test_json_out_real),
		cmocka_unit_test(test_json_out_pretty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
