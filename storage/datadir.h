/* datadir.h - the data directory: manifest, configuration, lock, layout
 * (no DPDK).
 *
 *   datadir_open   datadir.c  lock, initialise when fresh, validate, count a start
 *   datadir_close  datadir.c  release the lock
 *   datadir_write_json datadir.c  a JSON file in DIR, durably (temp, fsync, rename)
 *
 * Layout (docs/storage.md):
 *
 *   DIR/lock                       flock'ed while a process uses DIR (holds its pid)
 *   DIR/universe.manifest          JSON: format_version, region_count, hash,
 *                                  created, generation
 *   DIR/configuration/universe.json  JSON: default_durability,
 *                                  group_commit_interval_us, segment_bytes
 *   DIR/wal/                       log segments (wal_segment.h)
 *   DIR/checkpoints/               empty until checkpoints exist
 *
 * Every open counts one start: the manifest's generation is incremented and
 * written back (temporary file, fsync, rename, fsync of DIR) before
 * datadir_open returns, so segments begun in this run carry a generation
 * larger than any before (recovery.h).
 *
 * Errors are sentences naming the file, the key, the value found and what
 * was expected; the data plane prints them and exits (EX_CONFIG, EX_DATAERR
 * or EX_TEMPFAIL for a directory in use).
 */
#ifndef DATADIR_H
#define DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "disk.h"
#include "we_compiler.h"

#define DATADIR_FORMAT_VERSION 1
#define DATADIR_HASH "xxh3-64"
#define DATADIR_GROUP_COMMIT_US_DEFAULT 200u
#define DATADIR_GROUP_COMMIT_US_MAX 1000000u
#define DATADIR_SEGMENT_BYTES_MAX (1ull << 30)

/* The universe's default durability of a write (the protocol's per-request
 * flag overrides it). */
enum datadir_durability {
	DATADIR_DURABILITY_WEAK = 0,     /* not logged: cache only */
	DATADIR_DURABILITY_EVENTUAL = 1, /* logged, acknowledged at once */
	DATADIR_DURABILITY_STRONG = 2,   /* acknowledged after its group commit */
};

struct datadir_config {
	enum datadir_durability default_durability;
	uint32_t group_commit_interval_us;
	uint64_t segment_bytes;
};

struct datadir {
	char path[DISK_PATH_MAX];
	char wal_dir[DISK_PATH_MAX];
	int lock_fd;
	bool created;        /* initialised by this open */
	uint64_t generation; /* this start's generation (>= 1) */
	char created_at[40]; /* the manifest's creation time, ISO 8601 UTC */
	struct datadir_config cfg;
};

/* Opens (and, when the directory is missing or empty, initialises) the data
 * directory at path. Returns 0, or a negative errno and a sentence in err:
 * -EBUSY another process holds the lock; -EPROTO an incompatible format;
 * -EINVAL a bad manifest or configuration; other errnos from the system. */
int datadir_open(struct datadir *dd, const char *path, char *err, size_t err_len) we_must_check;
void datadir_close(struct datadir *dd);
/* Write obj as indented JSON to DIR/name durably: a temporary file,
 * fsync, rename, fsync of the folders. 0, or a negative errno and err. */
int datadir_write_json(const struct datadir *dd, const char *name, json_t *obj, char *err,
		       size_t err_len) we_must_check;

const char *datadir_durability_name(enum datadir_durability d);

#endif
