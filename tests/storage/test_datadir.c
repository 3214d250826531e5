/* test_datadir.c - the data directory (storage/datadir.c) in a temporary
 * directory: initialisation, generations, lock refusal, incompatible format
 * and configuration errors that name file, key, value and expectation. */
#include <errno.h>
#include <ftw.h>
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

#include "datadir.h"

static char base[256];
static char dir[320];

static void write_text(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(base, sizeof(base), "%s/we-datadir-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/data", base);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes only what this test made, under its own mkdtemp directory. */
static int teardown(void **state)
{
	(void)state;
	return nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *name, bool want_dir)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && (S_ISDIR(st.st_mode) == want_dir);
}

/* A missing directory is created and initialised with the defaults; each
 * open counts one more generation. */
static void test_fresh_and_generations(void **state)
{
	struct datadir dd;
	char err[512];

	(void)state;
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), 0);
	assert_true(dd.created);
	assert_int_equal(dd.generation, 1);
	assert_int_equal(dd.cfg.default_durability, DATADIR_DURABILITY_EVENTUAL);
	assert_int_equal(dd.cfg.group_commit_interval_us, DATADIR_GROUP_COMMIT_US_DEFAULT);
	assert_int_equal(dd.cfg.segment_bytes, 64u * 1024 * 1024);
	assert_true(exists("universe.manifest", false));
	assert_true(exists("configuration/universe.json", false));
	assert_true(exists("wal", true));
	assert_true(exists("checkpoints", true));
	assert_true(strstr(dd.wal_dir, "/data/wal") != NULL);
	datadir_close(&dd);
	for (uint64_t g = 2; g <= 4; g++) {
		assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), 0);
		assert_false(dd.created);
		assert_int_equal(dd.generation, g);
		datadir_close(&dd);
	}
}

/* A directory in use is refused, naming the holder; free again after close. */
static void test_lock_refusal(void **state)
{
	struct datadir a, b;
	char err[512] = "";
	char pid[32];

	(void)state;
	assert_int_equal(datadir_open(&a, dir, err, sizeof(err)), 0);
	assert_int_equal(datadir_open(&b, dir, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "in use by another process"));
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	assert_non_null(strstr(err, pid));
	datadir_close(&a);
	assert_int_equal(datadir_open(&b, dir, err, sizeof(err)), 0);
	assert_int_equal(b.generation, 2);
	datadir_close(&b);
}

/* A manifest of another format version is refused and left unchanged. */
static void test_incompatible_format(void **state)
{
	struct datadir dd;
	char err[512] = "";

	(void)state;
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), 0);
	datadir_close(&dd);
	write_text("universe.manifest", "{\"format_version\": 7, \"region_count\": 4096, "
		   "\"hash\": \"xxh3-64\", \"created\": \"x\", \"generation\": 3}\n");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "format_version"));
	assert_non_null(strstr(err, "7"));
	assert_non_null(strstr(err, "expected 1"));
	write_text("universe.manifest", "{\"format_version\": 1,");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid JSON"));
}

/* Bad configuration values are refused with file, key, value, expectation. */
static void test_config_errors(void **state)
{
	struct datadir dd;
	char err[512] = "";

	(void)state;
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), 0);
	datadir_close(&dd);

	write_text("configuration/universe.json", "{\"default_durability\": \"sometimes\"}");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "configuration/universe.json"));
	assert_non_null(strstr(err, "default_durability"));
	assert_non_null(strstr(err, "sometimes"));
	assert_non_null(strstr(err, "\"strong\", \"eventual\" or \"weak\""));

	write_text("configuration/universe.json", "{\"segment_bytes\": 5000}");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "segment_bytes: 5000"));
	assert_non_null(strstr(err, "multiple of 4096"));

	write_text("configuration/universe.json", "{\"group_commit_interval_us\": \"fast\"}");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "group_commit_interval_us"));

	write_text("configuration/universe.json", "{\"group_commit_intervall_us\": 100}");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown key group_commit_intervall_us"));

	write_text("configuration/universe.json",
		   "{\"default_durability\": \"strong\", \"group_commit_interval_us\": 500, "
		   "\"segment_bytes\": 1048576}");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), 0);
	assert_int_equal(dd.cfg.default_durability, DATADIR_DURABILITY_STRONG);
	assert_int_equal(dd.cfg.group_commit_interval_us, 500);
	assert_int_equal(dd.cfg.segment_bytes, 1048576);
	datadir_close(&dd);
}

/* A non-empty directory without a manifest is not taken over. */
static void test_foreign_directory_refused(void **state)
{
	struct datadir dd;
	char err[512] = "";

	(void)state;
	assert_int_equal(mkdir(dir, 0755), 0);
	write_text("something.txt", "not ours\n");
	assert_int_equal(datadir_open(&dd, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a data directory"));
	assert_false(exists("universe.manifest", false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_and_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incompatible_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_directory_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
