/* recovery_bench.c - how fast a data directory comes back: a checkpoint of
 * N items plus a log tail of M records, loaded into shards as the data plane
 * does at start (checkpoint parts, then the log after each worker's start
 * LSN), or, with --no-checkpoint, the same N + M writes from the log alone.
 *
 * Set-up (not timed): a data directory with W workers' checkpoint parts
 * (items placed by region, as the data plane's workers hold them) and their
 * logs (written through the group-commit writer, the synchronous backend).
 * Timed: picking and verifying the checkpoint, loading its items, replaying
 * the log - into fresh shards (hash, index, arena: the data plane's path
 * without EAL). --cold drops the page cache first (root), so the files come
 * from the disk.
 *
 * usage: recovery_bench [--records N] [--log-records M] [--workers W]
 *                       [--value-size B] [--dir DIR] [--no-checkpoint] [--cold] [--keep]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt_manifest.h"
#include "datadir.h"
#include "keyhash.h"
#include "parse_num.h"
#include "recovery.h"
#include "recovery_load.h"
#include "region_map.h"
#include "shard.h"
#include "wal_writer.h"
#include "we_time.h"

#define KEY_FMT "key:%012" PRIu64
#define MAX_WORKERS 8

struct opts {
	uint64_t records, log_records;
	unsigned workers;
	uint32_t value_size;
	const char *dir;
	bool no_checkpoint, cold, keep;
};

static struct disk disk;
static struct region_map map;
static uint8_t value[4096];

static void die(const char *what, int rc)
{
	fprintf(stderr, "recovery_bench: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

/* Not inlined: GCC -O3 takes the inlined hash of a short key buffer for an
 * out-of-bounds read (-Warray-bounds false positive). */
__attribute__((noinline)) static uint64_t key_hash(const void *key, size_t len)
{
	return keyhash(key, len);
}

static uint16_t owner_of(const void *key, size_t len)
{
	return region_map_owner_of_hash(&map, key_hash(key, len));
}

/* Checkpoint 1 of generation 1: keys 0..n-1, item LSN = key + 1; each
 * worker's start LSN is n (above every item). */
static void write_checkpoint(const struct opts *o, const char *data_dir)
{
	char root[DISK_PATH_MAX + 16], dir[DISK_PATH_MAX], err[CKPT_ERR_MAX];
	struct ckpt_part *part[MAX_WORKERS];
	struct ckpt_chunk chunk[MAX_WORKERS];
	struct ckpt_summary sum;
	struct ckpt_manifest m;
	void *buf[MAX_WORKERS];
	int rc;

	snprintf(root, sizeof(root), "%s/checkpoints", data_dir);
	if ((rc = ckpt_begin(&disk, root, 1, dir)) != 0)
		die("ckpt_begin", rc);
	memset(&sum, 0, sizeof(sum));
	sum.checkpoint_id = 1;
	sum.generation = 1;
	sum.worker_count = (uint16_t)o->workers;
	for (unsigned k = 0; k < o->workers; k++) {
		struct ckpt_part_header h = {.worker = (uint16_t)k, .worker_count = (uint16_t)o->workers,
					     .checkpoint_id = 1, .generation = 1,
					     .start_lsn = o->records,
					     .chunk_raw_max = CKPT_CHUNK_RAW_DEFAULT};

		buf[k] = aligned_alloc(64, CKPT_CHUNK_RAW_DEFAULT);
		ckpt_chunk_init(&chunk[k], buf[k], CKPT_CHUNK_RAW_DEFAULT, (uint16_t)k);
		if ((rc = ckpt_part_create(&part[k], &disk, dir, &h)) != 0)
			die("ckpt_part_create", rc);
		sum.start_lsn[k] = o->records;
	}
	for (uint64_t i = 0; i < o->records; i++) {
		char key[32];
		int len = snprintf(key, sizeof(key), KEY_FMT, i);
		uint16_t k = owner_of(key, (size_t)len);
		struct wal_record r = {.type = WAL_REC_PUT, .worker = k,
				       .region = (uint16_t)keyhash_region(key_hash(key, (size_t)len)),
				       .lsn = i + 1, .key = key, .key_len = (uint32_t)len,
				       .value = value, .value_len = o->value_size};

		rc = ckpt_chunk_add(&chunk[k], &r);
		if (rc == -ENOSPC) {
			if ((rc = ckpt_part_write_chunk(part[k], &chunk[k])) != 0)
				die("ckpt_part_write_chunk", rc);
			ckpt_chunk_reset(&chunk[k]);
			rc = ckpt_chunk_add(&chunk[k], &r);
		}
		if (rc != 0)
			die("ckpt_chunk_add", rc);
		sum.items[k]++;
	}
	for (unsigned k = 0; k < o->workers; k++) {
		struct ckpt_part_trailer t;

		if ((rc = ckpt_part_write_chunk(part[k], &chunk[k])) != 0 ||
		    (rc = ckpt_part_finish(part[k], &t)) != 0)
			die("finishing a part", rc);
		sum.chunks[k] = t.chunks;
		free(buf[k]);
	}
	ckpt_manifest_fill(&m, &sum, 0);
	if ((rc = ckpt_manifest_write(&disk, root, &m, err, sizeof(err))) != 0) {
		fprintf(stderr, "recovery_bench: %s\n", err);
		exit(1);
	}
}

/* The log: records first..first+count-1 overwrite keys (i * 7919) mod
 * (records + count) - old and new keys alike - with LSNs above the
 * checkpoint's start, through the group-commit writer. */
static void write_log(const struct opts *o, const char *wal_dir, uint64_t first, uint64_t count,
		      uint64_t lsn_base)
{
	struct wal_ring rings[MAX_WORKERS], *ring_ptrs[MAX_WORKERS];
	uint64_t lsn[MAX_WORKERS];
	struct wal_writer *w;
	char err[256];
	int rc;
	struct wal_writer_config cfg = {
		.disk = &disk, .wal_dir = wal_dir, .segment_bytes = WAL_SEGMENT_BYTES_DEFAULT,
		.generation = 1, .workers = (uint16_t)o->workers, .rings = ring_ptrs,
		.io = WAL_IO_SYNC, .spares = 0,
	};

	for (unsigned k = 0; k < o->workers; k++) {
		size_t bytes = 16u << 20;

		if (wal_ring_init(&rings[k], aligned_alloc(64, bytes), bytes) != 0)
			die("wal_ring_init", EINVAL);
		ring_ptrs[k] = &rings[k];
		lsn[k] = lsn_base;
	}
	if ((rc = wal_writer_create(&w, &cfg, err, sizeof(err))) != 0) {
		fprintf(stderr, "recovery_bench: %s\n", err);
		exit(1);
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t id = (first + i) * 7919 % (o->records + o->log_records);
		char key[32];
		int len = snprintf(key, sizeof(key), KEY_FMT, id);
		uint16_t k = owner_of(key, (size_t)len);
		struct wal_record r = {.type = WAL_REC_PUT, .worker = k,
				       .region = (uint16_t)keyhash_region(key_hash(key, (size_t)len)),
				       .lsn = ++lsn[k], .key = key, .key_len = (uint32_t)len,
				       .value = value, .value_len = o->value_size};
		uint32_t bytes = wal_record_size(r.key_len, r.value_len);
		void *p;

		while ((p = wal_ring_reserve(&rings[k], bytes)) == NULL)
			if ((rc = wal_writer_commit(w)) < 0)
				die("wal_writer_commit", rc);
		if (wal_record_encode(p, bytes, &r) != (int64_t)bytes)
			die("wal_record_encode", EINVAL);
		wal_ring_commit(&rings[k]);
	}
	while ((rc = wal_writer_commit(w)) > 0)
		;
	if (rc < 0)
		die("wal_writer_commit", rc);
	wal_writer_destroy(w);
	for (unsigned k = 0; k < o->workers; k++)
		free(rings[k].mem);
}

static struct shard *make_shard(const struct opts *o, struct keyhash_secret *secret)
{
	uint64_t items = (o->records + o->log_records) / o->workers * 5 / 4 + 1024;
	struct shard_config cfg = {
		.capacity_items = items,
		.arena_bytes = items * (16 + 24 + ((o->value_size + 7) & ~7u)) + (64u << 20),
		.hash_secret = secret,
	};
	size_t bytes = shard_memory_size(&cfg);
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct shard *s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);

	if (mem == MAP_FAILED || s == NULL)
		die("shard memory", ENOMEM);
	madvise(mem, bytes, MADV_HUGEPAGE); /* as the data plane's shards */
	memset(mem, 0, bytes);              /* resident, as the data plane's shards are */
	if (shard_init(s, mem, bytes, &cfg) != 0)
		die("shard_init", EINVAL);
	return s;
}

static double now_s(void)
{
	return (double)we_monotonic_ns() / 1e9;
}

static void drop_caches(void)
{
	FILE *f;

	sync();
	f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f == NULL || fputs("3\n", f) == EOF || fclose(f) != 0)
		fprintf(stderr, "recovery_bench: cannot drop the page cache (not root?): warm run\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"records", 1, 0, 'n'}, {"log-records", 1, 0, 'm'}, {"workers", 1, 0, 'w'},
		{"value-size", 1, 0, 'v'}, {"dir", 1, 0, 'd'}, {"no-checkpoint", 0, 0, 'N'},
		{"cold", 0, 0, 'c'}, {"keep", 0, 0, 'k'}, {0, 0, 0, 0}};
	struct opts o = {.records = 10000000, .log_records = 1000000, .workers = 2,
			 .value_size = 32, .dir = "/var/tmp/we-recovery-bench"};
	struct keyhash_secret secret;
	struct shard *shards[MAX_WORKERS];
	struct ckpt_choice *c = calloc(1, sizeof(*c));
	struct datadir dd;
	char err[512];
	uint64_t v, items = 0;
	double t0, t_setup, t_pick, t_ckpt, t_log;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'n': if (parse_num_u64(optarg, 10, 1, 1ull << 32, &v)) goto usage; o.records = v; break;
		case 'm': if (parse_num_u64(optarg, 10, 0, 1ull << 32, &v)) goto usage; o.log_records = v; break;
		case 'w': if (parse_num_u64(optarg, 10, 1, MAX_WORKERS, &v)) goto usage; o.workers = (unsigned)v; break;
		case 'v': if (parse_num_u64(optarg, 10, 0, 1024, &v)) goto usage; o.value_size = (uint32_t)v; break;
		case 'd': o.dir = optarg; break;
		case 'N': o.no_checkpoint = true; break;
		case 'c': o.cold = true; break;
		case 'k': o.keep = true; break;
		default: goto usage;
		}
	}
	if (c == NULL)
		die("memory", ENOMEM);
	disk_posix_init(&disk);
	region_map_init_default(&map, (uint16_t)o.workers);
	memset(value, 'v', sizeof(value));
	{
		char cmd[DISK_PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", o.dir);
		if (system(cmd) != 0)
			die("removing the old directory", EIO);
	}
	t0 = now_s();
	if (datadir_open(&dd, o.dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "recovery_bench: %s\n", err);
		return 1;
	}
	if (o.no_checkpoint) {
		write_log(&o, dd.wal_dir, 0, o.records + o.log_records, 0);
	} else {
		write_checkpoint(&o, dd.path);
		write_log(&o, dd.wal_dir, o.records, o.log_records, o.records);
	}
	t_setup = now_s() - t0;
	if (keyhash_secret_init(&secret) != 0)
		die("random secret", EIO);
	for (unsigned k = 0; k < o.workers; k++)
		shards[k] = make_shard(&o, &secret);
	if (o.cold)
		drop_caches();

	/* Timed: what durability_replay does. */
	struct recovery_target target = {.shards = shards, .n = o.workers, .map = &map};
	struct recovery_options ro = {.repair = false};
	bool parallel = false;
	struct recovery *r;
	struct wal_record rec;

	t0 = now_s();
	if ((rc = ckpt_pick(&disk, dd.path, c, err, sizeof(err))) != 0) {
		fprintf(stderr, "recovery_bench: %s\n", err);
		return 1;
	}
	t_pick = now_s() - t0;
	if (c->found) {
		struct recovery_load_stats ls;

		if ((rc = recovery_load_checkpoint(&disk, c, &target, &ls, err, sizeof(err))) != 0)
			die(err, rc);
		items = ls.items;
		parallel = ls.parallel;
		ro.covered_generation = c->s.generation;
		ro.covered_workers = c->s.worker_count;
		ro.covered_lsn = c->s.start_lsn;
	}
	t_ckpt = now_s() - t0;
	if ((rc = recovery_open(&r, &disk, dd.wal_dir, &ro)) != 0)
		die("recovery_open", rc);
	while ((rc = recovery_next(r, &rec, NULL)) == 1)
		if ((rc = recovery_apply(&target, &rec, err, sizeof(err))) != 0)
			die(err, rc);
	if (rc < 0)
		die("recovery_next", rc);
	t_log = now_s() - t0 - t_ckpt;
	{
		const struct recovery_stats *st = recovery_stats(r);
		uint64_t total = items + st->records_replayed;
		struct shard_counters sc;
		uint64_t live = 0;

		for (unsigned k = 0; k < o.workers; k++) {
			shard_read_counters(shards[k], &sc);
			live += sc.items;
		}
		printf("recovery_bench: %s, %u workers, %u-byte values, %s page cache; set-up %.1f s\n",
		       o.no_checkpoint ? "log only" : "checkpoint + log tail", o.workers, o.value_size,
		       o.cold ? "cold" : "warm", t_setup);
		printf("  checkpoint: %" PRIu64 " items in %.3f s (pick + check %.3f s, load%s)\n",
		       items, t_ckpt, t_pick, parallel ? ", one thread per part" : "");
		printf("  log:        %" PRIu64 " records in %.3f s (%" PRIu64 " bytes read)\n",
		       st->records_replayed, t_log, st->bytes_read);
		printf("  total:      %" PRIu64 " records in %.3f s = %.2f M records/s; %" PRIu64
		       " keys live\n",
		       total, t_ckpt + t_log, (double)total / (t_ckpt + t_log) / 1e6, live);
		printf("{\"mode\": \"%s\", \"checkpoint_items\": %" PRIu64 ", \"log_records\": %" PRIu64
		       ", \"checkpoint_s\": %.3f, \"log_s\": %.3f, \"total_s\": %.3f, \"records_per_s\": %.0f, "
		       "\"cold\": %s}\n",
		       o.no_checkpoint ? "log" : "checkpoint", items, st->records_replayed, t_ckpt,
		       t_log, t_ckpt + t_log, (double)total / (t_ckpt + t_log),
		       o.cold ? "true" : "false");
		recovery_close(r);
	}
	datadir_close(&dd);
	if (!o.keep) {
		char cmd[DISK_PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", o.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "recovery_bench: could not remove %s\n", o.dir);
	}
	free(c);
	return 0;
usage:
	fprintf(stderr, "usage: recovery_bench [--records N] [--log-records M] [--workers 1..8] "
			"[--value-size 0..1024] [--dir DIR] [--no-checkpoint] [--cold] [--keep]\n");
	return 2;
}
