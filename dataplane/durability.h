/* durability.h - the data plane's side of storage: data directory, recovery,
 * log rings, park tables and the group-commit writer (see durability.c). */
#ifndef DURABILITY_H
#define DURABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "archive_io.h"
#include "archive_space.h"
#include "ckpt_writer.h"
#include "datadir.h"
#include "disk.h"
#include "recovery.h"
#include "region_map_store.h"
#include "region_map.h"
#include "wal_writer.h"
#include "worker.h"

struct durability {
	struct disk disk;
	struct datadir dir;
	bool dir_open;
	struct wal_writer *writer;
	struct wal_ring *rings[WORKER_MAX];
	struct ctl_ring *notify[WORKER_MAX]; /* the workers' control rings */
	void *mem;        /* rings and park tables, one mapping */
	size_t mem_bytes;
	unsigned n_workers;
	struct recovery_stats recovered;
	char recovery_line[448];

	/* Checkpoints: the thread, what recovery loaded, and the workers
	 * that still have to hear of the checkpoint being begun. */
	struct ckpt_writer *ckpt;
	bool ckpt_loaded;
	uint64_t ckpt_loaded_id;
	uint64_t ckpt_loaded_items;
	uint64_t ckpt_start_lsn[CKPT_WORKERS_MAX];
	char ckpt_line[280];
	uint64_t ckpt_pending_id;
	bool ckpt_pending[WORKER_MAX];

	/* Region moves: the map file as read at start (regions_found), the
	 * largest epoch of each region in the log, and the records passed
	 * over because a move made them stale. */
	bool regions_found;
	struct region_map_state regions;
	uint16_t epoch_seen[WE_REGIONS];
	uint64_t records_other_epoch;
	uint64_t ckpt_items_moved_since;

	/* The disk tier (--disk-tier on): the archive I/O thread with every
	 * worker's file, and the items recovery archived to fit, per worker. */
	struct archive_io *archive;
	struct archive_file *archive_files[WORKER_MAX];
	struct archive_space *archive_spaces[WORKER_MAX]; /* each file's segments */
	uint64_t archived_at_start[WORKER_MAX];
};

struct durability_options {
	const char *path;          /* --data-dir */
	uint64_t ring_bytes;       /* per worker, a power of two */
	uint32_t park_capacity;    /* per worker, a power of two */
	bool disk_tier;            /* --disk-tier */
	uint64_t disk_tier_bytes;  /* per worker's archive file */
};

/* Open the data directory (lock, manifest, configuration), read its region
 * map into map (owners when the worker count is the same, epochs always),
 * replay its log into the workers' shards under map, reserve each worker's log ring and
 * park table and create the writer (not started). On success every worker's
 * exec has its log, park table, LSN (continuing above the log's) and
 * durable state. Returns 0, or a negative errno with a sentence in err. */
int durability_open(struct durability *d, const struct durability_options *opt,
		    struct worker *const *workers, unsigned n_workers,
		    struct region_map *map, char *err, size_t err_len) we_must_check;
/* Start the writer thread (before the workers run). */
int durability_start(struct durability *d, char *err, size_t err_len) we_must_check;
/* Begin a checkpoint: its id, and every worker told (now or, when a
 * control ring is full, by durability_tick). 0, -EBUSY while one is being
 * written, -ENOTSUP without a data directory, or another errno; err says. */
int durability_checkpoint(struct durability *d, struct worker *const *workers, unsigned n,
			  uint64_t *id, char *err, size_t err_len) we_must_check;
/* The supervisor's periodic call: deliver what could not be posted. */
void durability_tick(struct durability *d, struct worker *const *workers, unsigned n);

/* After the workers stopped: commit what the rings hold and stop the
 * writer, keeping its final counters (durability_log_stats). */
void durability_stop_writer(struct durability *d);
/* The writer's counters: live while it runs, final once stopped; zeros
 * when there is no writer. */
void durability_log_stats(const struct durability *d, struct wal_writer_stats *out);
/* Stop the writer if still running, release the directory. Safe on a
 * partly opened struct. */
void durability_close(struct durability *d);

#endif
