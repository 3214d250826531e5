/* durability.c - bring storage up under the data plane, and down again.
 *
 * DESIGN: everything here happens on the main lcore, before the workers
 * launch or after they stopped; nothing runs on the request path. At start:
 * the data directory is opened (locked, a new generation counted), its log
 * is replayed into the shards (recovery.h gives the records in an order
 * that leaves each key its last written value; each record goes to the
 * worker that owns its region under the current map, so a log written by 2
 * workers is replayed into 1 or 3 just as well), then each worker gets its
 * log ring and park table, its LSN continuing above the largest replayed,
 * and the writer is created over the rings. The workers talk to storage
 * only through their ring (records in) and the writer's per-worker durable
 * state (LSN and error out): no locks, no calls.
 */
#include "durability.h"
#include "worker_archive.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "arena.h"
#include "ckpt_manifest.h"
#include "keyhash.h"
#include "recovery_load.h"
#include "we_time.h"
#include "proto.h"
#include "shard.h"

static uint8_t durability_default(enum datadir_durability d)
{
	switch (d) {
	case DATADIR_DURABILITY_STRONG:
		return PROTO_DUR_STRONG;
	case DATADIR_DURABILITY_EVENTUAL:
		return PROTO_DUR_EVENTUAL;
	case DATADIR_DURABILITY_WEAK:
		break;
	}
	return PROTO_DUR_WEAK;
}

/* Load the checkpoint ckpt_pick chose into the shards (recovery_load.h);
 * its largest LSN goes to *lsn_max. */
static int durability_load_checkpoint(struct durability *d, const struct recovery_target *t,
				      const struct ckpt_choice *c, uint64_t *lsn_max, char *err,
				      size_t err_len)
{
	struct recovery_load_stats st;
	int rc = recovery_load_checkpoint(&d->disk, c, t, &st, err, err_len);

	if (rc != 0)
		return rc;
	*lsn_max = st.lsn_max;
	d->ckpt_loaded_items = st.items;
	d->ckpt_items_moved_since = st.items_moved_since;
	snprintf(d->ckpt_line, sizeof(d->ckpt_line),
		 "recovery: checkpoint %llu%s: %llu items from %u parts in %.1f ms%s",
		 (unsigned long long)c->s.checkpoint_id, c->fallback ? " (fallback)" : "",
		 (unsigned long long)st.items, c->s.worker_count, (double)st.time_ns / 1e6,
		 st.parallel ? " (one thread per part)" : "");
	if (st.items_moved_since != 0) {
		size_t used = strlen(d->ckpt_line);

		snprintf(d->ckpt_line + used, sizeof(d->ckpt_line) - used,
			 "; %llu items of regions moved since left to the log",
			 (unsigned long long)st.items_moved_since);
	}
	return 0;
}

/* The map file (region_map_store.h): owners when it was written by as
 * many workers as run now, the epochs always. */
static int durability_load_map(struct durability *d, struct region_map *map, char *err,
			       size_t err_len)
{
	int rc = region_map_store_load(d->dir.path, &d->regions, &d->regions_found, err, err_len);

	if (rc != 0 || !d->regions_found)
		return rc;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		map->epoch[r] = d->regions.r[r].epoch;
		if (d->regions.n_workers == map->n_workers)
			map->owner[r] = d->regions.r[r].owner;
	}
	map->map_epoch = d->regions.map_epoch;
	return 0;
}

/* Whether checkpoint c already holds region r as its last move left it:
 * taken after the new owner's copy was logged. */
static bool durability_ckpt_has_move(const struct ckpt_choice *c, const struct region_record *x)
{
	if (c->s.generation != x->moved_generation)
		return c->s.generation > x->moved_generation;
	return x->moved_worker < c->s.worker_count &&
	       c->s.start_lsn[x->moved_worker] >= x->moved_last_lsn;
}

static int durability_replay(struct durability *d, struct worker *const *workers,
			     const struct region_map *map, char *err, size_t err_len)
{
	struct shard *shards[WORKER_MAX];
	static bool skip[WE_REGIONS];
	struct recovery_target t = {.shards = shards, .n = d->n_workers, .map = map,
				    .epoch_seen = d->epoch_seen,
				    .other_epoch = &d->records_other_epoch,
				    .archives = d->archive != NULL ? d->archive_files : NULL,
				    .spaces = d->archive_spaces,
				    .archived = d->archived_at_start};
	struct recovery_options opt = {.repair = true, .allow_mid_log_cut = false};
	struct ckpt_choice *c = calloc(1, sizeof(*c));
	uint64_t ckpt_lsn_max = 0;
	struct recovery *r;
	struct wal_record rec;
	int rc;

	if (c == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < d->n_workers; i++)
		shards[i] = workers[i]->exec.shard;
	rc = ckpt_pick(&d->disk, d->dir.path, c, err, err_len);
	if (rc == 0 && c->found && d->regions_found) {
		for (uint32_t r = 0; r < WE_REGIONS; r++)
			skip[r] = d->regions.r[r].moved_generation != 0 &&
				  !durability_ckpt_has_move(c, &d->regions.r[r]);
		t.skip_ckpt_region = skip;
	}
	if (rc == 0 && c->found) {
		rc = durability_load_checkpoint(d, &t, c, &ckpt_lsn_max, err, err_len);
		if (rc == 0) {
			d->ckpt_loaded = true;
			d->ckpt_loaded_id = c->s.checkpoint_id;
			memcpy(d->ckpt_start_lsn, c->s.start_lsn, sizeof(d->ckpt_start_lsn));
			opt.covered_generation = c->s.generation;
			opt.covered_workers = c->s.worker_count;
			opt.covered_lsn = d->ckpt_start_lsn;
		}
	}
	if (rc == 0 && c->found && c->fallback)
		fprintf(stderr, "warpengine: the newest checkpoint is not usable (%s); loaded the "
				"previous one\n", c->why);
	free(c);
	if (rc != 0)
		return rc;

	rc = recovery_open(&r, &d->disk, d->dir.wal_dir, &opt);
	if (rc != 0) {
		snprintf(err, err_len, "recovery: cannot read the log in %s: %s", d->dir.wal_dir,
			 strerror(-rc));
		return rc;
	}
	while ((rc = recovery_next(r, &rec, NULL)) == 1) {
		if (rec.type == WAL_REC_REGION_MOVE && rec.epoch > d->epoch_seen[rec.region])
			d->epoch_seen[rec.region] = rec.epoch;
		if (rec.type != WAL_REC_PUT && rec.type != WAL_REC_DELETE)
			continue;
		rc = recovery_apply_logged(&t, &rec, err, err_len);
		if (rc != 0)
			break;
	}
	if (rc < 0 && rc != -ENOSPC)
		snprintf(err, err_len, "recovery: %s (run warp-waldump on %s to see where)",
			 rc == -EUCLEAN ? "the log is damaged inside, not only at its tail"
					: strerror(-rc),
			 d->dir.wal_dir);
	d->recovered = *recovery_stats(r);
	/* New LSNs go above everything loaded: the checkpoint's items and
	 * start LSNs too, whose log may be retired already. */
	if (ckpt_lsn_max > d->recovered.lsn_max)
		d->recovered.lsn_max = ckpt_lsn_max;
	recovery_summary(r, d->recovery_line, sizeof(d->recovery_line));
	{
		struct shard_tier_counters tc;
		uint64_t compressed = 0;

		for (unsigned i = 0; i < d->n_workers; i++) {
			shard_read_tiers(shards[i], &tc);
			/* every item compressed went to LZ4 first */
			compressed += tc.demotions[TIER_PHOTON_SPHERE];
		}
		if (compressed != 0) {
			size_t used = strlen(d->recovery_line);

			snprintf(d->recovery_line + used, sizeof(d->recovery_line) - used,
				 "; %llu items compressed (LZ4, LZ4-HC) to fit the shards' memory",
				 (unsigned long long)compressed);
		}
	}
	{
		uint64_t archived = 0;

		for (unsigned i = 0; i < d->n_workers; i++)
			archived += d->archived_at_start[i];
		if (archived != 0) {
			size_t used = strlen(d->recovery_line);

			snprintf(d->recovery_line + used, sizeof(d->recovery_line) - used,
				 "; %llu items archived to the disk tier to fit",
				 (unsigned long long)archived);
		}
	}
	if (d->records_other_epoch != 0) {
		size_t used = strlen(d->recovery_line);

		snprintf(d->recovery_line + used, sizeof(d->recovery_line) - used,
			 "; %llu records of moved regions passed over (a newer owner's copy holds "
			 "them)",
			 (unsigned long long)d->records_other_epoch);
	}
	recovery_close(r);
	return rc < 0 ? rc : 0;
}

/* The disk tier's files (made empty: recovery decides what goes there) and
 * their thread, before the replay, which may archive what does not fit. */
static int durability_open_archive(struct durability *d, const struct durability_options *opt,
				   struct worker *const *workers, char *err, size_t err_len)
{
	struct archive_io_config ac = {
		.disk = &d->disk,
		.data_dir = d->dir.path,
		.workers = (uint16_t)d->n_workers,
		.file_limit_bytes = opt->disk_tier_bytes,
	};
	int rc = archive_io_create(&d->archive, &ac, err, err_len);

	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < d->n_workers; i++) {
		d->archive_files[i] = archive_io_file(d->archive, (uint16_t)i);
		/* Each file's segments; the shard counts its stubs there from
		 * the first one recovery makes. */
		d->archive_spaces[i] = archive_space_create(opt->disk_tier_bytes);
		if (d->archive_spaces[i] == NULL) {
			snprintf(err, err_len, "cannot allocate worker %u's archive segment table", i);
			return -ENOMEM;
		}
		shard_set_archive_space(workers[i]->exec.shard, d->archive_spaces[i]);
	}
	return 0;
}

static bool power_of_two(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int durability_open(struct durability *d, const struct durability_options *opt,
		    struct worker *const *workers, unsigned n_workers,
		    struct region_map *map, char *err, size_t err_len)
{
	size_t park_bytes = (size_t)opt->park_capacity * sizeof(struct park_entry);
	size_t ring_struct = (sizeof(struct wal_ring) + WE_CACHE_LINE - 1) & ~(size_t)(WE_CACHE_LINE - 1);
	size_t per_worker = opt->ring_bytes + ring_struct + park_bytes;
	struct wal_writer_config wc;
	int rc;

	memset(d, 0, sizeof(*d));
	d->n_workers = n_workers;
	if (!power_of_two(opt->ring_bytes) || !power_of_two(opt->park_capacity)) {
		snprintf(err, err_len, "log ring size and park capacity must be powers of two");
		return -EINVAL;
	}
	disk_posix_init(&d->disk);
	rc = datadir_open(&d->dir, opt->path, err, err_len);
	if (rc != 0)
		return rc;
	d->dir_open = true;
	rc = durability_load_map(d, map, err, err_len);
	if (rc == 0 && opt->disk_tier)
		rc = durability_open_archive(d, opt, workers, err, err_len);
	if (rc == 0)
		rc = durability_replay(d, workers, map, err, err_len);
	if (rc != 0)
		return rc;

	d->mem_bytes = per_worker * n_workers;
	d->mem = mmap(NULL, d->mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		snprintf(err, err_len, "cannot map %zu MiB for the log rings: %s",
			 d->mem_bytes >> 20, strerror(errno));
		return -ENOMEM;
	}
	memset(d->mem, 0, d->mem_bytes); /* fault it in now, not on the request path */
	for (unsigned i = 0; i < n_workers; i++) {
		uint8_t *base = (uint8_t *)d->mem + per_worker * i;
		struct worker *w = workers[i];

		d->rings[i] = (struct wal_ring *)base;
		rc = wal_ring_init(d->rings[i], base + ring_struct, opt->ring_bytes);
		if (rc == 0)
			rc = park_table_init(&w->park,
					     (struct park_entry *)(base + ring_struct + opt->ring_bytes),
					     opt->park_capacity);
		if (rc != 0) {
			snprintf(err, err_len, "cannot set up worker %u's log ring or park table", i);
			return rc;
		}
		w->lsn = d->recovered.lsn_max;
		w->durable.lsn = d->recovered.lsn_max; /* recovered: on disk */
	}

	memset(&wc, 0, sizeof(wc));
	wc.disk = &d->disk;
	wc.wal_dir = d->dir.wal_dir;
	wc.segment_bytes = d->dir.cfg.segment_bytes;
	wc.generation = d->dir.generation;
	wc.workers = (uint16_t)n_workers;
	wc.worker_base = 0;
	wc.rings = d->rings;
	for (unsigned i = 0; i < n_workers; i++)
		d->notify[i] = &workers[i]->ctl;
	wc.notify = d->notify;
	wc.io = WAL_IO_URING;
	wc.group_commit_interval_us = d->dir.cfg.group_commit_interval_us;
	wc.durable_lsn_start = d->recovered.lsn_max;
	wc.spares = 2;
	wc.sched_fifo = true;
	rc = wal_writer_create(&d->writer, &wc, err, err_len);
	if (rc != 0)
		return rc;
	{
		struct ckpt_writer_config cc = {
			.disk = &d->disk,
			.data_dir = d->dir.path,
			.generation = d->dir.generation,
			.workers = (uint16_t)n_workers,
			.log = d->writer,
			.archives = d->archive != NULL ? d->archive_files : NULL,
		};

		rc = ckpt_writer_create(&d->ckpt, &cc, err, err_len);
		if (rc != 0)
			return rc;
		for (unsigned i = 0; i < n_workers; i++)
			workers[i]->ckpt_port = ckpt_writer_port(d->ckpt, (uint16_t)i);
	}
	for (unsigned i = 0; i < n_workers; i++) {
		struct worker *w = workers[i];

		w->exec.log = d->rings[i];
		w->exec.park = &w->park;
		w->exec.lsn = &w->lsn;
		w->exec.durability_default = durability_default(d->dir.cfg.default_durability);
		if (d->archive != NULL)
			worker_archive_init(w, archive_io_port(d->archive, (uint16_t)i),
					    d->archive_spaces[i]);
	}
	return 0;
}

int durability_start(struct durability *d, char *err, size_t err_len)
{
	int rc = wal_writer_start(d->writer);

	if (rc != 0) {
		snprintf(err, err_len, "cannot start the log writer thread: %s", strerror(-rc));
		return rc;
	}
	rc = ckpt_writer_start(d->ckpt);
	if (rc != 0) {
		snprintf(err, err_len, "cannot start the checkpoint thread: %s", strerror(-rc));
		return rc;
	}
	if (d->archive != NULL) {
		rc = archive_io_start(d->archive);
		if (rc != 0)
			snprintf(err, err_len, "cannot start the disk tier's thread: %s",
				 strerror(-rc));
	}
	return rc;
}

int durability_checkpoint(struct durability *d, struct worker *const *workers, unsigned n,
			  uint64_t *id, char *err, size_t err_len)
{
	int rc;

	if (d->ckpt == NULL) {
		snprintf(err, err_len, "no data directory: nothing to checkpoint");
		return -ENOTSUP;
	}
	rc = ckpt_writer_begin(d->ckpt, id, err, err_len);
	if (rc != 0)
		return rc;
	d->ckpt_pending_id = *id;
	for (unsigned i = 0; i < n; i++)
		d->ckpt_pending[i] = true;
	durability_tick(d, workers, n);
	return 0;
}

void durability_tick(struct durability *d, struct worker *const *workers, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct ctl_msg m = {.type = CTL_MSG_CHECKPOINT, .a = d->ckpt_pending_id};

		if (d->ckpt_pending[i] && ctl_ring_post(&workers[i]->ctl, &m) == 0)
			d->ckpt_pending[i] = false;
	}
}

void durability_stop_writer(struct durability *d)
{
	ckpt_writer_stop(d->ckpt); /* before the log it waits for */
	if (d->archive != NULL)
		archive_io_stop(d->archive); /* after the checkpoint thread, which reads it */
	if (d->writer != NULL)
		wal_writer_stop(d->writer); /* idempotent */
}

void durability_log_stats(const struct durability *d, struct wal_writer_stats *out)
{
	if (d->writer != NULL)
		wal_writer_stats_get(d->writer, out);
	else
		memset(out, 0, sizeof(*out));
}

void durability_close(struct durability *d)
{
	durability_stop_writer(d);
	ckpt_writer_destroy(d->ckpt);
	d->ckpt = NULL;
	archive_io_destroy(d->archive);
	d->archive = NULL;
	/* The workers have stopped: no shard counts a stub any more. */
	for (unsigned i = 0; i < WORKER_MAX; i++) {
		archive_space_destroy(d->archive_spaces[i]);
		d->archive_spaces[i] = NULL;
	}
	if (d->writer != NULL) {
		wal_writer_destroy(d->writer);
		d->writer = NULL;
	}
	if (d->mem != NULL)
		munmap(d->mem, d->mem_bytes);
	d->mem = NULL;
	if (d->dir_open)
		datadir_close(&d->dir);
	d->dir_open = false;
}
