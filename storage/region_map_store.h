/* region_map_store.h - the region map as the data directory keeps it:
 * DIR/configuration/shard_topology.json (no DPDK).
 *
 *   region_map_store_save   region_map_store.c  write it durably (temp, fsync, rename)
 *   region_map_store_load   region_map_store.c  read and check it; absent is not an error
 *
 * Per region: its owner, its epoch (moves so far, region_map.h), and where
 * its last move's copy was logged (the taking worker, that start's
 * generation, the first and last LSN of the copied items). Recovery needs
 * the epoch to apply only the records of the region's current owner
 * (wal_record.h), and the copy's place to know whether a checkpoint
 * already holds the region as moved (then its items load from the
 * checkpoint) or predates the move (then the checkpoint's items of that
 * region are stale and the copy in the log replaces them).
 *
 * The file is written after the new owner's copy is durable and before the
 * new owner executes anything of the region, so what it says is always
 * backed by the log.
 *
 * {"format": 1, "workers": N, "map_epoch": E, "owner": [4096], "epoch": [4096],
 *  "moved": [[region, worker, generation, first_lsn, last_lsn], ...]}
 */
#ifndef REGION_MAP_STORE_H
#define REGION_MAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datadir.h"
#include "keyhash.h"
#include "we_compiler.h"

#define REGION_MAP_STORE_FILE "configuration/shard_topology.json"
#define REGION_MAP_STORE_FORMAT 1

struct region_record {
	uint16_t owner;
	uint16_t epoch;
	uint16_t moved_worker;     /* the worker that logged the last copy */
	uint64_t moved_generation; /* 0: never moved */
	uint64_t moved_first_lsn;
	uint64_t moved_last_lsn;
};

struct region_map_state {
	uint16_t n_workers;
	uint64_t map_epoch;
	struct region_record r[WE_REGIONS];
};

int region_map_store_save(const struct datadir *dd, const struct region_map_state *s, char *err,
			  size_t err_len) we_must_check;
/* 0 and *found = false when there is no file; 0 and the state; or
 * -EINVAL and a sentence naming the file and what is wrong in it. */
int region_map_store_load(const char *dir_path, struct region_map_state *s, bool *found,
			  char *err, size_t err_len) we_must_check;

#endif
