/* recovery_load.h - put what recovery reads into the shards (no DPDK).
 *
 *   recovery_load_checkpoint  recovery_load.c  a checkpoint's parts, one thread per part when it can
 *   recovery_apply            recovery_load.c  one record (PUT or DELETE) into the shard that owns its key
 *   recovery_apply_logged     recovery_load.c  the same for a log record, under its region's current epoch only
 *
 * Each item and record goes to the shard of the worker that owns its key's
 * region under the current map, whatever the worker count was when it was
 * written. A checkpoint written by as many workers as there are now, under
 * the same map, loads part k into shard k on its own thread (the data
 * plane's other cores are idle at start); an item that belongs elsewhere
 * (the map changed) stops the parallel load and the parts are loaded again
 * one after the other, which is safe because loading an item twice leaves
 * the same item.
 */
#ifndef RECOVERY_LOAD_H
#define RECOVERY_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt_manifest.h"
#include "region_map.h"
#include "shard.h"
#include "wal_record.h"

struct archive_file;
struct archive_space;

struct recovery_target {
	struct shard *const *shards; /* one per worker */
	unsigned n;
	const struct region_map *map;
	/* Region moves (region_map_store.h). skip_ckpt_region[r]: the
	 * checkpoint predates region r's last move, its items of r are stale
	 * (NULL: load everything). Log records apply only under their
	 * region's current epoch (map->epoch); epoch_seen[r] collects the
	 * largest epoch found (NULL: not collected) and other_epoch counts the
	 * records passed over. */
	const bool *skip_ckpt_region;
	uint16_t *epoch_seen;
	uint64_t *other_epoch;
	/* The disk tier (storage/archive.h): each worker's archive file, where
	 * items go when a shard has no room left even compressed (NULL: no
	 * disk tier, such a shard refuses); archived counts them per worker. */
	struct archive_file *const *archives;
	/* Each worker's file's segments (storage/archive_space.h), where the
	 * batches go; the shards count their stubs there. Set with archives. */
	struct archive_space *const *spaces;
	uint64_t *archived;
};

struct recovery_load_stats {
	uint64_t items;
	uint64_t items_moved_since; /* of regions moved after the checkpoint: not loaded */
	uint64_t lsn_max;  /* the largest record LSN and start LSN */
	uint64_t time_ns;
	bool parallel;     /* one thread per part */
};

/* 0, -ENOSPC with a sentence when a shard is too small for what the log or
 * checkpoint holds. */
int recovery_apply(const struct recovery_target *t, const struct wal_record *rec, char *err,
		   size_t err_len) we_must_check;
/* A record read from the log: recovery_apply() if it was written under
 * its region's current epoch, else passed over (counted). */
int recovery_apply_logged(const struct recovery_target *t, const struct wal_record *rec,
			  char *err, size_t err_len) we_must_check;
/* Load the checkpoint ckpt_pick chose. 0, or a negative errno and err. */
int recovery_load_checkpoint(struct disk *disk, const struct ckpt_choice *c,
			     const struct recovery_target *t, struct recovery_load_stats *st,
			     char *err, size_t err_len) we_must_check;

#endif
