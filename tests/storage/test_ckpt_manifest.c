/* test_ckpt_manifest.c - the checkpoints' manifest (storage/ckpt_manifest.c):
 * round trip and validation against the fake disk, power cuts at every step
 * of a replacement, the choice of a checkpoint with its fallback, the list
 * of older ones, and warp-checkpoint (tools/checkpoint) run as a program.
 *
 * Choosing and listing scan checkpoints/ for folders, which the fake disk's
 * list does not show (it lists files only): those tests run on the real
 * file system in a temporary directory. */
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
#include <jansson.h>

#include "checkpoint.h"
#include "ckpt_manifest.h"
#include "disk_fake.h"
#include "keyhash.h"

#define CHUNK_BYTES 4096u

static uint64_t chunk_mem[CHUNK_BYTES / 8];
static char base[256];
static char cdir[300];

/* Checkpoint id of `workers` parts, items per part, generation 1, start LSN
 * id * 1000 + worker; the last part left unfinished unless finish_last. */
static void make_ckpt(struct disk *d, const char *checkpoints, uint64_t id, uint16_t workers,
		      uint32_t items, bool finish_last, struct ckpt_summary *s)
{
	char dir[DISK_PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->checkpoint_id = id;
	s->generation = 1;
	s->worker_count = workers;
	assert_int_equal(ckpt_begin(d, checkpoints, id, dir), 0);
	for (uint16_t w = 0; w < workers; w++) {
		struct ckpt_part_header h = {.worker = w, .worker_count = workers,
					     .checkpoint_id = id, .generation = 1,
					     .start_lsn = id * 1000 + w,
					     .chunk_raw_max = CHUNK_BYTES};
		struct ckpt_part_trailer t;
		struct ckpt_chunk c;
		struct ckpt_part *p;

		assert_int_equal(ckpt_part_create(&p, d, dir, &h), 0);
		ckpt_chunk_init(&c, chunk_mem, CHUNK_BYTES, w);
		for (uint32_t i = 0; i < items; i++) {
			char key[32];
			struct wal_record r = {.lsn = h.start_lsn + 1 + i, .key = key,
					       .value = "value", .value_len = 5};

			snprintf(key, sizeof(key), "k%u-%u", w, i);
			r.key_len = (uint32_t)strlen(key);
			r.region = (uint16_t)keyhash_region(keyhash(key, r.key_len));
			if (ckpt_chunk_add(&c, &r) == -ENOSPC) {
				assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
				ckpt_chunk_reset(&c);
				assert_int_equal(ckpt_chunk_add(&c, &r), 0);
			}
		}
		assert_int_equal(ckpt_part_write_chunk(p, &c), 0);
		if (w + 1 == workers && !finish_last) {
			ckpt_part_abort(p);
			continue;
		}
		assert_int_equal(ckpt_part_finish(p, &t), 0);
		s->start_lsn[w] = h.start_lsn;
		s->items[w] = t.items;
		s->chunks[w] = t.chunks;
	}
}

static void write_manifest(struct disk *d, const char *checkpoints, const struct ckpt_summary *s,
			   uint64_t previous)
{
	struct ckpt_manifest m;
	char err[CKPT_ERR_MAX];

	ckpt_manifest_fill(&m, s, previous);
	if (ckpt_manifest_write(d, checkpoints, &m, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* ---- fake disk: round trip, validation, power cuts ---------------------- */

static int fake_setup(void **state)
{
	struct disk_fake *f = disk_fake_create();

	if (f == NULL || disk_mkdir(disk_fake_disk(f), "dd") != 0 ||
	    disk_mkdir(disk_fake_disk(f), "dd/checkpoints") != 0)
		return -1;
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	disk_fake_destroy(*state);
	return 0;
}

static struct ckpt_summary summary_of(uint64_t id, uint16_t workers)
{
	struct ckpt_summary s = {.checkpoint_id = id, .generation = 4, .worker_count = workers};

	for (uint16_t w = 0; w < workers; w++) {
		s.start_lsn[w] = id * 100 + w;
		s.items[w] = 10 * id + w;
	}
	return s;
}

/* Every field written is read back; the file is JSON naming the folder. */
static void test_round_trip(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_summary s = summary_of(7, 3);
	struct ckpt_manifest m;
	struct ckpt_manifest back;
	char err[CKPT_ERR_MAX];
	char text[4096] = "";
	uint64_t next;

	ckpt_manifest_fill(&m, &s, 5);
	assert_int_equal(ckpt_manifest_write(d, "dd/checkpoints", &m, err, sizeof(err)), 0);
	assert_int_equal(ckpt_manifest_read(d, "dd/checkpoints", &back, err, sizeof(err)), 0);
	assert_int_equal(back.format_version, CKPT_FORMAT);
	assert_int_equal(back.checkpoint_id, 7);
	assert_int_equal(back.previous_id, 5);
	assert_string_equal(back.directory, "ckpt-000000000007");
	assert_int_equal(back.generation, 4);
	assert_int_equal(back.worker_count, 3);
	for (uint16_t w = 0; w < 3; w++) {
		assert_int_equal(back.start_lsn[w], 700 + w);
		assert_int_equal(back.items[w], 70 + w);
	}
	assert_string_equal(back.created, m.created);
	assert_true(disk_fake_read_file(f, "dd/checkpoints/MANIFEST", text, sizeof(text) - 1) > 0);
	assert_non_null(strstr(text, "\"items\": 213"));
	/* Temporary file, one data sync, a rename, a folder sync. */
	assert_int_equal(disk_fake_calls(f, DISK_OP_FDATASYNC), 1);
	assert_int_equal(disk_fake_calls(f, DISK_OP_RENAME), 1);
	assert_int_equal(disk_fake_calls(f, DISK_OP_FSYNC_DIR), 1);
	assert_int_equal(disk_fake_read_file(f, "dd/checkpoints/MANIFEST.tmp", text, 1), -ENOENT);
	/* None yet. */
	assert_int_equal(ckpt_manifest_read(d, "dd", &back, err, sizeof(err)), -ENOENT);
	/* The next id is above the manifest's (the fake lists no folders). */
	assert_int_equal(ckpt_next_id(d, "dd/checkpoints", &next), 0);
	assert_int_equal(next, 8);
}

/* Rewrites the good manifest with one field changed (value NULL: removed)
 * and checks the error code and that err names the file and the field. */
static void check_bad(struct disk_fake *f, const char *good, const char *key, json_t *value,
		      int want, const char *field)
{
	struct ckpt_manifest m;
	char err[CKPT_ERR_MAX];
	json_t *o = json_loads(good, 0, NULL);
	char *text;

	assert_non_null(o);
	if (value == NULL)
		json_object_del(o, key);
	else
		json_object_set_new(o, key, value);
	text = json_dumps(o, 0);
	assert_int_equal(disk_fake_write_file(f, "dd/checkpoints/MANIFEST", text, strlen(text)), 0);
	free(text);
	json_decref(o);
	assert_int_equal(ckpt_manifest_read(disk_fake_disk(f), "dd/checkpoints", &m, err,
					    sizeof(err)), want);
	if (strstr(err, "dd/checkpoints/MANIFEST") == NULL || strstr(err, field) == NULL)
		fail_msg("error for %s does not name file and field: %s", key, err);
}

/* A bad manifest is refused with a sentence naming the file and the field:
 * not JSON, another format (-EPROTO), missing or out-of-range fields, a
 * folder name that is not the id's, worker entries or totals that do not
 * add up. */
static void test_validation(void **state)
{
	struct disk_fake *f = *state;
	struct disk *d = disk_fake_disk(f);
	struct ckpt_summary s = summary_of(3, 2);
	struct ckpt_manifest m;
	char err[CKPT_ERR_MAX];
	char good[4096] = "";

	write_manifest(d, "dd/checkpoints", &s, 0);
	assert_true(disk_fake_read_file(f, "dd/checkpoints/MANIFEST", good, sizeof(good) - 1) > 0);
	check_bad(f, good, "format_version", json_integer(2), -EPROTO, "format_version");
	check_bad(f, good, "format_version", json_string("1"), -EINVAL, "format_version");
	check_bad(f, good, "checkpoint_id", NULL, -EINVAL, "checkpoint_id");
	check_bad(f, good, "checkpoint_id", json_integer(0), -EINVAL, "checkpoint_id");
	check_bad(f, good, "previous_checkpoint_id", json_integer(3), -EINVAL,
		  "previous_checkpoint_id");
	check_bad(f, good, "generation", json_integer(-1), -EINVAL, "generation");
	check_bad(f, good, "worker_count", json_integer(0), -EINVAL, "worker_count");
	check_bad(f, good, "worker_count", json_integer(3), -EINVAL, "workers");
	check_bad(f, good, "directory", json_string("ckpt-000000000004"), -EINVAL, "directory");
	check_bad(f, good, "items", json_integer(1), -EINVAL, "items");
	check_bad(f, good, "created", NULL, -EINVAL, "created");
	check_bad(f, good, "workers", json_pack("[{s:i, s:s, s:i}, {s:i, s:i, s:i}]", "worker", 0,
						"start_lsn", "x", "items", 30, "worker", 1,
						"start_lsn", 1, "items", 31),
		  -EINVAL, "workers[0]: field \"start_lsn\"");
	check_bad(f, good, "workers", json_pack("[{s:i, s:i, s:i}, {s:i, s:i, s:i}]", "worker", 1,
						"start_lsn", 1, "items", 30, "worker", 0,
						"start_lsn", 1, "items", 31),
		  -EINVAL, "workers[0]: field \"worker\"");
	assert_int_equal(disk_fake_write_file(f, "dd/checkpoints/MANIFEST", "{\"format", 9), 0);
	assert_int_equal(ckpt_manifest_read(d, "dd/checkpoints", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dd/checkpoints/MANIFEST: line 1"));
}

/* Replacing manifest 1 by manifest 2, the process stopped at each step
 * (the step's call fails, as do all later ones of that kind) and then the
 * power cut (unsynced data dropped, or torn sector by sector with several
 * seeds): the manifest read afterwards is always whole, the old one until
 * the rename is durable (the folder's fsync: a rename whose folder was not
 * synced is undone by the cut), the new one after it. A partly written temporary file too. */
static void test_power_cut_during_replacement(void **state)
{
	static const struct {
		int op; /* -1: no fault; -2: short write */
		int want_id;
	} steps[] = {
		{DISK_OP_OPEN, 1},	{DISK_OP_FTRUNCATE, 1}, {DISK_OP_PWRITE, 1},
		{-2, 1},		{DISK_OP_FDATASYNC, 1}, {DISK_OP_RENAME, 1},
		{DISK_OP_FSYNC_DIR, 1}, {-1, 2},
	};
	struct ckpt_summary s1 = summary_of(1, 2);
	struct ckpt_summary s2 = summary_of(2, 3);

	(void)state;
	for (size_t i = 0; i < WE_ARRAY_SIZE(steps); i++) {
		for (uint64_t seed = 0; seed < 9; seed++) {
			struct disk_fake *f = disk_fake_create();
			struct disk *d = disk_fake_disk(f);
			struct ckpt_manifest m;
			char err[CKPT_ERR_MAX];
			int rc;

			assert_int_equal(disk_mkdir(d, "dd"), 0);
			assert_int_equal(disk_mkdir(d, "dd/checkpoints"), 0);
			write_manifest(d, "dd/checkpoints", &s1, 0);
			/* A leftover of an earlier interrupted replacement. */
			assert_int_equal(disk_fake_write_file(f, "dd/checkpoints/MANIFEST.tmp",
							      "{\"garbage", 10), 0);
			if (steps[i].op >= 0)
				disk_fake_fail(f, (enum disk_op)steps[i].op, 1, -EIO,
					       DISK_FAKE_FAIL_FOREVER);
			if (steps[i].op == -2) {
				disk_fake_short_write(f, 1, 17);
				disk_fake_fail(f, DISK_OP_PWRITE, 2, -EIO, DISK_FAKE_FAIL_FOREVER);
			}
			ckpt_manifest_fill(&m, &s2, 1);
			rc = ckpt_manifest_write(d, "dd/checkpoints", &m, err, sizeof(err));
			assert_int_equal(rc, steps[i].op == -1 ? 0 : -EIO);
			disk_fake_clear_faults(f);
			disk_fake_cut(f, seed == 0 ? DISK_CUT_DROP_UNSYNCED : DISK_CUT_TORN_SECTORS,
				      seed);
			rc = ckpt_manifest_read(d, "dd/checkpoints", &m, err, sizeof(err));
			if (rc != 0)
				fail_msg("step %zu seed %llu: %s", i, (unsigned long long)seed, err);
			assert_int_equal(m.checkpoint_id, (uint64_t)steps[i].want_id);
			assert_int_equal(m.worker_count, steps[i].want_id == 1 ? 2 : 3);
			disk_fake_destroy(f);
		}
	}
}

/* ---- real file system: choosing, listing, the tool --------------------- */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tmp_setup(void **state)
{
	const char *t = getenv("TMPDIR");
	struct disk d;

	(void)state;
	snprintf(base, sizeof(base), "%s/we-ckpt-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(cdir, sizeof(cdir), "%s/checkpoints", base);
	disk_posix_init(&d);
	return disk_mkdir(&d, cdir);
}

static int tmp_teardown(void **state)
{
	(void)state;
	return nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void part_path(char *out, size_t len, uint64_t id, uint16_t w)
{
	snprintf(out, len, "%s/ckpt-%012llu/part-%02u.ckpt", cdir, (unsigned long long)id, w);
}

static void flip(uint64_t id, uint16_t w, uint64_t off)
{
	char path[512];
	uint8_t b;
	int fd;

	part_path(path, sizeof(path), id, w);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void chop(uint64_t id, uint16_t w, off_t bytes)
{
	char path[512];
	struct stat sb;

	part_path(path, sizeof(path), id, w);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - bytes), 0);
}

/* No manifest: nothing to load. The named checkpoint when it verifies; an
 * unfinished newer one is ignored. The named one incomplete: the previous
 * complete one (fallback, saying why). Both unusable: refused, since the
 * log an older one needs may be recycled. With no previous checkpoint
 * recorded: none (the whole log is there). Listing older ones; the next id
 * is above an interrupted checkpoint's. */
static void test_pick_and_fallback(void **state)
{
	struct ckpt_summary s1;
	struct ckpt_summary s2;
	struct ckpt_summary s3;
	struct ckpt_choice c;
	struct disk_name *names;
	char err[CKPT_ERR_MAX];
	struct disk d;
	uint32_t count;
	uint64_t next;

	(void)state;
	disk_posix_init(&d);
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_false(c.found);
	assert_false(c.fallback);
	assert_int_equal(ckpt_next_id(&d, cdir, &next), 0);
	assert_int_equal(next, 1);

	make_ckpt(&d, cdir, 1, 2, 300, true, &s1);
	write_manifest(&d, cdir, &s1, 0);
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_true(c.found);
	assert_false(c.fallback);
	assert_int_equal(c.s.checkpoint_id, 1);
	assert_int_equal(c.s.items[1], 300);
	assert_int_equal(c.s.start_lsn[1], 1001);

	make_ckpt(&d, cdir, 2, 2, 200, true, &s2);
	write_manifest(&d, cdir, &s2, 1);
	make_ckpt(&d, cdir, 3, 2, 100, false, &s3); /* interrupted */
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_true(c.found);
	assert_false(c.fallback);
	assert_int_equal(c.s.checkpoint_id, 2);

	chop(2, 1, 1); /* the named one loses its last byte: incomplete */
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_true(c.found);
	assert_true(c.fallback);
	assert_int_equal(c.s.checkpoint_id, 1);
	assert_non_null(strstr(c.dir, "ckpt-000000000001"));
	assert_non_null(strstr(c.why, "part-01.ckpt: incomplete"));

	flip(1, 0, CKPT_HEADER_BYTES + CKPT_CHUNK_HDR_BYTES + 5); /* and the previous is bad */
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "recycled"));

	write_manifest(&d, cdir, &s2, 0); /* no previous: nothing was retired */
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_false(c.found);
	assert_true(c.fallback);

	assert_int_equal(ckpt_list_older(&d, cdir, 3, &names, &count), 0);
	assert_int_equal(count, 2);
	assert_string_equal(names[0].name, "ckpt-000000000001");
	assert_string_equal(names[1].name, "ckpt-000000000002");
	free(names);
	assert_int_equal(ckpt_list_older(&d, cdir, 1, &names, &count), 0);
	assert_int_equal(count, 0);
	assert_null(names);
	/* The interrupted checkpoint 3 keeps its id. */
	assert_int_equal(ckpt_next_id(&d, cdir, &next), 0);
	assert_int_equal(next, 4);
}

/* The parts disagreeing with the manifest (another item count) is a
 * reason to fall back too. */
static void test_pick_manifest_disagrees(void **state)
{
	struct ckpt_summary s1;
	struct ckpt_summary s2;
	struct ckpt_choice c;
	char err[CKPT_ERR_MAX];
	struct disk d;

	(void)state;
	disk_posix_init(&d);
	make_ckpt(&d, cdir, 1, 1, 10, true, &s1);
	make_ckpt(&d, cdir, 2, 1, 10, true, &s2);
	s2.items[0] = 11;
	write_manifest(&d, cdir, &s2, 1);
	assert_int_equal(ckpt_pick(&d, base, &c, err, sizeof(err)), 0);
	assert_true(c.found);
	assert_true(c.fallback);
	assert_int_equal(c.s.checkpoint_id, 1);
	assert_non_null(strstr(c.why, "disagree"));
}

/* Runs warp-checkpoint; returns its exit status, its output (stdout and
 * stderr) in out and the number of lines. */
static int run(const char *mode, char *out, size_t out_len, int *lines)
{
	const char *tool = getenv("WARP_CHECKPOINT");
	char cmd[1024];
	size_t n = 0;
	FILE *p;
	int ch;
	int status;

	assert_non_null(tool);
	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' 2>&1", tool, mode, base);
	p = popen(cmd, "r");
	assert_non_null(p);
	*lines = 0;
	while ((ch = fgetc(p)) != EOF) {
		if (n + 1 < out_len)
			out[n++] = (char)ch;
		if (ch == '\n')
			(*lines)++;
	}
	out[n] = '\0';
	status = pclose(p);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* inspect: the manifest and each part's header and trailer, one JSON line
 * each; verify: exit 0 on a good checkpoint, exit 1 naming the damaged
 * chunk, then the incomplete part. */
static void test_tool(void **state)
{
	static char out[65536];
	struct ckpt_summary s;
	struct disk d;
	int lines;

	(void)state;
	disk_posix_init(&d);
	make_ckpt(&d, cdir, 1, 2, 500, true, &s);
	write_manifest(&d, cdir, &s, 0);

	assert_int_equal(run("inspect", out, sizeof(out), &lines), 0);
	assert_int_equal(lines, 3);
	assert_non_null(strstr(out, "{\"manifest\":{\"format_version\":1,\"checkpoint_id\":1,"));
	assert_non_null(strstr(out, "\"part\":\"part-01.ckpt\""));
	assert_non_null(strstr(out, "\"state\":\"finished\",\"header\":{\"format\":1,"));
	assert_non_null(strstr(out, "\"trailer\":{\"items\":500,"));
	assert_int_equal(run("verify", out, sizeof(out), &lines), 0);
	assert_int_equal(lines, 2);
	assert_non_null(strstr(out, "\"status\":\"ok\",\"worker_count\":2,\"items\":1000"));
	assert_non_null(strstr(out, "\"recovery_loads\":\"ckpt-000000000001\",\"fallback\":false"));

	flip(1, 1, CKPT_HEADER_BYTES + CKPT_CHUNK_HDR_BYTES + 3);
	assert_int_equal(run("inspect", out, sizeof(out), &lines), 0); /* chunks unread */
	assert_int_equal(run("verify", out, sizeof(out), &lines), 1);
	assert_non_null(strstr(out, "\"status\":\"damaged\""));
	assert_non_null(strstr(out, "\"recovery_loads\":null"));
	assert_non_null(strstr(out, "warp-checkpoint: "));
	assert_non_null(strstr(out, "part-01.ckpt: chunk 0 at offset 64: checksum mismatch"));

	chop(1, 0, 10);
	assert_int_equal(run("inspect", out, sizeof(out), &lines), 0);
	assert_non_null(strstr(out, "\"state\":\"incomplete\""));
	assert_non_null(strstr(out, "\"trailer\":null"));
	assert_int_equal(run("verify", out, sizeof(out), &lines), 1);
	assert_non_null(strstr(out, "part-00.ckpt: incomplete: no valid trailer"));
	assert_int_equal(run("bogus", out, sizeof(out), &lines), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_validation, fake_setup, fake_teardown),
		cmocka_unit_test(test_power_cut_during_replacement),
		cmocka_unit_test_setup_teardown(test_pick_and_fallback, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_pick_manifest_disagrees, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_tool, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
