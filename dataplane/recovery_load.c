/* recovery_load.c - put what recovery reads into the shards (see
 * recovery_load.h).
 *
 * DESIGN: the core of start-up shared by the data plane (durability.c) and
 * perf/recovery_bench: it decides where each item goes and returns; the
 * threads it starts live only for the load and touch one shard each.
 */
#include "recovery_load.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "archive_space.h"
#include "archive_stubs.h"
#include "keyhash.h"
#include "temperature.h"
#include "we_assert.h"
#include "we_time.h"

/* Recovery loads every value into memory; with the disk tier the shard
 * held only part of them there. When even compressed they do not fit,
 * write items to the worker's archive file, a batch at a time, and make
 * them stubs, until RECOVERY_ARCHIVE_ROOM bytes are free (or nothing more
 * can go). Temperatures start afresh after a restart, so which items go is
 * the scan's order: a GET brings a hot one back. Synchronous: recovery runs
 * before the workers and the archive thread start. lsn: the record being
 * applied (every value loaded so far is at or before it). Returns items
 * archived, or a negative errno from the file. */
#define RECOVERY_ARCHIVE_ROOM (1u << 20)
#define RECOVERY_ARCHIVE_BATCH (256u * 1024)

static int64_t archive_for_room(struct shard *s, struct archive_file *f,
				struct archive_space *sp, uint64_t lsn)
{
	static _Thread_local uint8_t buf[RECOVERY_ARCHIVE_BATCH];
	static _Thread_local struct shard_archive_pick picks[SHARD_SCAN_ITEMS_MIN * 2];
	struct shard_scan cur = {0};
	struct shard_counters c;
	int64_t total = 0;

	for (;;) {
		struct shard_archive_policy p = {
			.archive_below = TEMP_LEVEL_MAX,
			.min_saved_bytes = 32,
			.max_chains = 256,
			.max_stored_bytes = RECOVERY_ARCHIVE_BATCH / 2,
		};
		struct archive_batch b;
		uint64_t base;
		uint32_t room;
		int n, r;

		shard_read_counters(s, &c);
		if (c.arena_free_bytes + c.arena_untouched_bytes >= RECOVERY_ARCHIVE_ROOM ||
		    shard_scan_done(s, &cur))
			return total;
		room = archive_space_room(sp, 0);
		if (room == 0 && archive_space_reclaim(sp, NULL, 0) != 0)
			room = archive_space_room(sp, 0); /* nothing reads during recovery */
		if (room == 0)
			return total != 0 ? total : -ENOSPC;
		archive_batch_init(&b, buf, room < sizeof(buf) ? room : (uint32_t)sizeof(buf));
		n = shard_archive_step(s, &cur, &p, picks, sizeof(picks) / sizeof(picks[0]));
		if (n < 0)
			return total;
		archive_stubs_fill(&b, picks, (unsigned)n, lsn); /* what does not fit: a later call */
		if (b.records == 0) {
			if (n > 0) /* the segment's rest is too small: the next one */
				archive_space_close_open(sp);
			continue;
		}
		if (shard_dict_view(s) != NULL) /* for the readers of these records */
			archive_file_set_dict(f, shard_dict_view(s));
		base = archive_space_take(sp, b.used);
		r = archive_file_write_at(f, buf, b.used, base);
		if (r == 0)
			total += (int64_t)archive_stubs_commit(s, &b, b.records, base, NULL);
		archive_space_batch_done(sp, base);
		if (r != 0)
			return r;
	}
}

int recovery_apply(const struct recovery_target *t, const struct wal_record *rec, char *err,
		   size_t err_len)
{
	uint16_t owner = region_map_owner_of_hash(t->map, keyhash(rec->key, rec->key_len));
	struct shard *s = t->shards[owner];
	uint64_t lhash = shard_hash(s, rec->key, (uint8_t)rec->key_len);
	enum we_status st;

	if (rec->type == WAL_REC_DELETE) {
		shard_delete(s, lhash, rec->key, (uint8_t)rec->key_len);
		return 0;
	}
	st = shard_put(s, lhash, rec->key, (uint8_t)rec->key_len, rec->value, rec->value_len);
	/* Items are loaded raw; under the tiers the shard held them in less
	 * memory: compress what is loaded so far (LZ4, then LZ4-HC), trying
	 * again after each pass that moved something. */
	for (int deep = 0; deep < 2 && st == WE_STATUS_NO_SPACE; deep++)
		if (shard_compress_all(s, deep) != 0)
			st = shard_put(s, lhash, rec->key, (uint8_t)rec->key_len, rec->value,
				       rec->value_len);
	if (st == WE_STATUS_NO_SPACE && t->archives != NULL && t->archives[owner] != NULL &&
	    t->spaces != NULL && t->spaces[owner] != NULL) {
		int64_t n = archive_for_room(s, t->archives[owner], t->spaces[owner], rec->lsn);

		if (n < 0) {
			snprintf(err, err_len,
				 "recovery: worker %u's archive file could not be written (%s)",
				 owner, strerror((int)-n));
			return (int)n;
		}
		if (t->archived != NULL)
			t->archived[owner] += (uint64_t)n;
		if (n > 0)
			st = shard_put(s, lhash, rec->key, (uint8_t)rec->key_len, rec->value,
				       rec->value_len);
	}
	if (st == WE_STATUS_OK)
		return 0;
	{
		struct shard_counters c;

		shard_read_counters(s, &c);
		snprintf(err, err_len,
			 "recovery: worker %u's shard refused a PUT of %u bytes (%s) holding %llu "
			 "items, %llu of %llu arena bytes in use and %llu free in pieces: the log "
			 "or checkpoint holds more than --capacity/--arena-mb allow; start with "
			 "larger ones",
			 owner, rec->value_len, we_status_name(st), (unsigned long long)c.items,
			 (unsigned long long)c.arena_used_bytes, (unsigned long long)c.arena_bytes,
			 (unsigned long long)(c.arena_free_bytes + c.arena_untouched_bytes));
	}
	return -ENOSPC;
}

int recovery_apply_logged(const struct recovery_target *t, const struct wal_record *rec,
			  char *err, size_t err_len)
{
	uint32_t region = rec->region & WE_REGION_MASK;

	if (t->epoch_seen != NULL && rec->epoch > t->epoch_seen[region])
		t->epoch_seen[region] = rec->epoch;
	if (rec->epoch != t->map->epoch[region]) {
		/* An owner's records from before the region's last move (the
		 * new owner's copy replaces them), or a copy whose move never
		 * completed. */
		if (t->other_epoch != NULL)
			(*t->other_epoch)++;
		return 0;
	}
	return recovery_apply(t, rec, err, err_len);
}

struct part_job {
	struct disk *disk;
	const struct ckpt_choice *c;
	const struct recovery_target *t;
	uint16_t part;
	int only_owner; /* -1: any owner (sequential); else the shard this job may touch */
	uint64_t items, moved_since, lsn_max;
	int rc;
	char err[256];
};

static void load_part(struct part_job *j)
{
	char path[DISK_PATH_MAX + 32];
	struct ckpt_reader *rd;
	struct wal_record rec;
	int rc;

	snprintf(path, sizeof(path), "%s/part-%02u.ckpt", j->c->dir, j->part);
	rc = ckpt_reader_open(&rd, j->disk, path, j->err, sizeof(j->err));
	if (rc != 0) {
		j->rc = rc;
		return;
	}
	while ((rc = ckpt_reader_next(rd, &rec, j->err, sizeof(j->err))) == 1) {
		uint32_t region = keyhash_region(keyhash(rec.key, rec.key_len));
		int r;

		if (j->t->skip_ckpt_region != NULL && j->t->skip_ckpt_region[region]) {
			j->moved_since++;
			continue;
		}
		if (j->only_owner >= 0 && region_map_owner(j->t->map, region) != (uint16_t)j->only_owner) {
			rc = -EXDEV; /* the map changed: load sequentially */
			break;
		}
		if (rec.lsn > j->lsn_max)
			j->lsn_max = rec.lsn;
		r = recovery_apply(j->t, &rec, j->err, sizeof(j->err));
		if (r != 0) {
			rc = r;
			break;
		}
		j->items++;
	}
	ckpt_reader_close(rd);
	j->rc = rc;
}

static void *part_thread(void *arg)
{
	load_part(arg);
	return NULL;
}

static int load_parallel(struct part_job *jobs, uint16_t n)
{
	pthread_t th[CKPT_WORKERS_MAX];
	bool started[CKPT_WORKERS_MAX] = {false};

	for (uint16_t k = 1; k < n; k++)
		started[k] = pthread_create(&th[k], NULL, part_thread, &jobs[k]) == 0;
	load_part(&jobs[0]);
	for (uint16_t k = 1; k < n; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			load_part(&jobs[k]);
	}
	for (uint16_t k = 0; k < n; k++)
		if (jobs[k].rc != 0)
			return jobs[k].rc;
	return 0;
}

int recovery_load_checkpoint(struct disk *disk, const struct ckpt_choice *c,
			     const struct recovery_target *t, struct recovery_load_stats *st,
			     char *err, size_t err_len)
{
	static struct part_job jobs[CKPT_WORKERS_MAX];
	uint16_t n = c->s.worker_count;
	uint64_t t0 = we_monotonic_ns();
	int rc = -EXDEV;

	memset(st, 0, sizeof(*st));
	for (uint16_t k = 0; k < n; k++)
		if (c->s.start_lsn[k] > st->lsn_max)
			st->lsn_max = c->s.start_lsn[k];
	if (n == t->n && n > 1) {
		memset(jobs, 0, sizeof(jobs[0]) * n);
		for (uint16_t k = 0; k < n; k++)
			jobs[k] = (struct part_job){.disk = disk, .c = c, .t = t, .part = k,
						    .only_owner = k};
		rc = load_parallel(jobs, n);
		st->parallel = rc == 0;
	}
	if (rc == -EXDEV) {
		memset(jobs, 0, sizeof(jobs[0]) * n);
		rc = 0;
		for (uint16_t k = 0; k < n && rc == 0; k++) {
			jobs[k] = (struct part_job){.disk = disk, .c = c, .t = t, .part = k,
						    .only_owner = -1};
			load_part(&jobs[k]);
			rc = jobs[k].rc;
		}
	}
	for (uint16_t k = 0; k < n; k++) {
		st->items += jobs[k].items;
		st->items_moved_since += jobs[k].moved_since;
		if (jobs[k].lsn_max > st->lsn_max)
			st->lsn_max = jobs[k].lsn_max;
		if (rc != 0 && jobs[k].rc == rc)
			snprintf(err, err_len, "%s", jobs[k].err);
	}
	st->time_ns = we_monotonic_ns() - t0;
	return rc;
}
