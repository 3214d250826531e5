/* test_region_map_file.c - a saved `regions` answer loads into a region
 * map; every malformed one is refused with its field named and the map left
 * as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "region_map_file.h"

/* A map text: `workers`, `regions` field, port, `n_owner` owners where
 * owner i is (i * 7) % workers, except owner `bad_at` which is `bad`. */
static char *map_text(long workers, long regions, long port, size_t n_owner, size_t bad_at,
		      const char *bad, const char *wrap)
{
	size_t cap = 64 + n_owner * 8 + 200;
	char *s = malloc(cap);
	size_t n;

	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "%s{\"workers\": %ld, \"regions\": %ld, \"udp_port_base\": %ld, "
			     "\"owner\": [", wrap ? wrap : "", workers, regions, port);
	for (size_t i = 0; i < n_owner; i++) {
		if (i == bad_at)
			n += (size_t)snprintf(s + n, cap - n, "%s%s", i ? "," : "", bad);
		else
			n += (size_t)snprintf(s + n, cap - n, "%s%ld", i ? "," : "",
					      workers > 0 ? (long)(i * 7) % workers : 0);
	}
	snprintf(s + n, cap - n, "]}%s", wrap ? "}" : "");
	return s;
}

static void test_good_map(void **state)
{
	struct region_map m;
	uint16_t port = 0;
	char err[256];
	char *t = map_text(3, WE_REGIONS, 9100, WE_REGIONS, SIZE_MAX, NULL, NULL);

	(void)state;
	assert_int_equal(region_map_file_parse(t, strlen(t), &m, &port, err, sizeof(err)), 0);
	assert_int_equal(m.n_workers, 3);
	assert_int_equal(port, 9100);
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		assert_int_equal(region_map_owner(&m, r), (r * 7) % 3);
	free(t);
	/* The whole answer, {"ok": true, "result": {...}}, is accepted too. */
	t = map_text(2, WE_REGIONS, 9000, WE_REGIONS, SIZE_MAX, NULL, "{\"ok\": true, \"result\": ");
	assert_int_equal(region_map_file_parse(t, strlen(t), &m, &port, err, sizeof(err)), 0);
	assert_int_equal(m.n_workers, 2);
	assert_int_equal(region_map_owner(&m, 1), 1);
	free(t);
}

static void expect_refused(char *t, const char *mention)
{
	struct region_map m;
	uint16_t port = 77;
	char err[256] = "";

	memset(&m, 0xab, sizeof(m));
	if (region_map_file_parse(t, strlen(t), &m, &port, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: %.80s", t);
	if (strstr(err, mention) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, mention);
	assert_int_equal(port, 77);
	assert_int_equal(m.n_workers, 0xabab); /* untouched */
	free(t);
}

static void test_bad_maps(void **state)
{
	(void)state;
	expect_refused(strdup("not json"), "not JSON");
	expect_refused(strdup("[1, 2]"), "not a JSON object");
	expect_refused(strdup("{\"regions\": 4096, \"udp_port_base\": 9000, \"owner\": []}"),
		       "no \"workers\"");
	expect_refused(strdup("{\"workers\": 2, \"regions\": 4096, \"owner\": []}"),
		       "no \"udp_port_base\"");
	expect_refused(strdup("{\"workers\": 2, \"regions\": 4096, \"udp_port_base\": 9000}"),
		       "no \"owner\"");
	expect_refused(map_text(0, WE_REGIONS, 9000, WE_REGIONS, SIZE_MAX, NULL, NULL),
		       "\"workers\" must be an integer");
	expect_refused(map_text(2, 1024, 9000, WE_REGIONS, SIZE_MAX, NULL, NULL),
		       "\"regions\" is 1024");
	expect_refused(map_text(2, WE_REGIONS, 70000, WE_REGIONS, SIZE_MAX, NULL, NULL),
		       "\"udp_port_base\"");
	expect_refused(map_text(4, WE_REGIONS, 65534, WE_REGIONS, SIZE_MAX, NULL, NULL),
		       "runs past port 65535");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS - 1, SIZE_MAX, NULL, NULL),
		       "\"owner\" has 4095 entries");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS + 1, SIZE_MAX, NULL, NULL),
		       "\"owner\" has 4097 entries");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS, 4095, "2", NULL),
		       "\"owner\"[4095] must be a worker index in 0..1");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS, 10, "-1", NULL), "\"owner\"[10]");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS, 0, "\"0\"", NULL),
		       "\"owner\"[0]");
	expect_refused(map_text(2, WE_REGIONS, 9000, WE_REGIONS, 5, "1.5", NULL), "\"owner\"[5]");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_region_map_file.XXXXXX";
	struct region_map m;
	uint16_t port = 0;
	char err[512];
	char *t = map_text(5, WE_REGIONS, 9200, WE_REGIONS, SIZE_MAX, NULL, NULL);
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(t, f);
	fclose(f);
	assert_int_equal(region_map_file_load(path, &m, &port, err, sizeof(err)), 0);
	assert_int_equal(m.n_workers, 5);
	assert_int_equal(port, 9200);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"workers\": 5}", f);
	fclose(f);
	assert_int_equal(region_map_file_load(path, &m, &port, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "no \"regions\""));
	unlink(path);
	assert_int_equal(region_map_file_load(path, &m, &port, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "No such file"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_map),
		cmocka_unit_test(test_bad_maps),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
