/* test_waldump.c - warp-waldump (tools/waldump) run on logs written here in
 * a temporary directory: JSON lines for every record, exit 0 on a clean log
 * and on a torn tail, exit 1 on a damaged record that valid ones follow. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage_test_util.h"

static char base[256];
static char wal[300];
static char seg1[400];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");
	struct disk d;
	struct tlog log;

	(void)state;
	snprintf(base, sizeof(base), "%s/we-waldump-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(wal, sizeof(wal), "%s/wal", base);
	snprintf(seg1, sizeof(seg1), "%s/w00-000000000001.log", wal);
	disk_posix_init(&d);
	if (disk_mkdir(&d, wal) != 0 || tlog_begin(&log, &d, wal, 65536, 1) != 0)
		return -1;
	for (uint64_t i = 1; i <= 10; i++) {
		char key[32];

		snprintf(key, sizeof(key), "key-%llu", (unsigned long long)i);
		if (tlog_append(&log, 0, i == 5 ? WAL_REC_DELETE : WAL_REC_PUT, key, "v\001",
				i == 5 ? 0 : 2, i) != 0)
			return -1;
	}
	tlog_end(&log);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs warp-waldump with args; returns its exit status and its stdout lines. */
static int run(const char *args, int *lines, char *first, size_t first_len)
{
	const char *tool = getenv("WARP_WALDUMP");
	char cmd[1024];
	char buf[4096];
	FILE *p;
	int status;

	assert_non_null(tool);
	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' 2>/dev/null", tool, args, base);
	p = popen(cmd, "r");
	assert_non_null(p);
	*lines = 0;
	while (fgets(buf, sizeof(buf), p) != NULL) {
		if (*lines == 0 && first != NULL) {
			size_t n = strlen(buf) < first_len - 1 ? strlen(buf) : first_len - 1;

			memcpy(first, buf, n);
			first[n] = '\0';
		}
		(*lines)++;
	}
	status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void patch(uint64_t off, uint8_t xor_byte)
{
	int fd = open(seg1, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= xor_byte;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* A clean log: one JSON line per record, exit 0; --verify prints none. */
static void test_clean(void **state)
{
	char first[512];
	int lines;

	(void)state;
	assert_int_equal(run("", &lines, first, sizeof(first)), 0);
	assert_int_equal(lines, 10);
	assert_non_null(strstr(first, "\"lsn\":1"));
	assert_non_null(strstr(first, "\"type\":\"put\""));
	assert_non_null(strstr(first, "\"key\":\"key-1\""));
	assert_non_null(strstr(first, "\"value_hex\":\"7601\""));
	assert_non_null(strstr(first, "\"segment\":\"w00-000000000001.log\""));
	assert_int_equal(run("--verify", &lines, NULL, 0), 0);
	assert_int_equal(lines, 0);
}

/* The last record damaged: a torn tail, reported, exit 0, nine records. */
static void test_torn_tail(void **state)
{
	int lines;

	(void)state;
	/* Every record is 40 bytes (32 + a 5- or 6-byte key + 0 or 2, padded):
	 * the tenth starts at 4096 + 9 * 40. */
	patch(4096 + 9 * 40 + 20, 0xff);
	assert_int_equal(run("", &lines, NULL, 0), 0);
	assert_int_equal(lines, 9);
}

/* A damaged record in the middle: valid ones follow, exit 1. */
static void test_damage_inside(void **state)
{
	int lines;

	(void)state;
	patch(4096 + 2 * 40 + 33, 0x01);
	assert_int_equal(run("--verify", &lines, NULL, 0), 1);
	assert_int_equal(run("", &lines, NULL, 0), 1);
	assert_int_equal(lines, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_inside, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
