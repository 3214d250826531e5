/* ckpt_manifest.h - checkpoints/MANIFEST: which checkpoint recovery loads,
 * and what may be removed (no DPDK).
 *
 *   ckpt_manifest_fill     ckpt_manifest.c  a manifest from a checkpoint's summary
 *   ckpt_manifest_write    ckpt_manifest.c  temp file, fdatasync, rename, fsync of the folder
 *   ckpt_manifest_read     ckpt_manifest.c  parse and validate (errors name file and field)
 *   ckpt_pick              ckpt_manifest.c  the checkpoint recovery should load, if any
 *   ckpt_list_older        ckpt_manifest.c  checkpoint folders below an id (for removal)
 *   ckpt_next_id           ckpt_manifest.c  the id the next checkpoint takes
 *
 * DIR/checkpoints/MANIFEST names the newest complete checkpoint:
 *
 *   {"format_version": 1, "checkpoint_id": 7, "directory": "ckpt-000000000007",
 *    "previous_checkpoint_id": 6, "generation": 3, "worker_count": 2,
 *    "workers": [{"worker": 0, "start_lsn": 1200, "items": 5000},
 *                {"worker": 1, "start_lsn": 1190, "items": 4990}],
 *    "items": 9990, "created": "2026-12-03T07:00:00Z"}
 *
 * The order of a checkpoint's completion: every part finished (chunks
 * synced, trailer synced, the folder's entries synced), every worker's log
 * durable up to the LSN it had when its scan ended (the caller's duty: else
 * a power cut could keep an item whose log record was lost), then the
 * manifest replaced. The manifest is replaced atomically, so a power cut leaves the
 * old or the new one.
 *
 * The log retention rule this module assumes (the recycler must follow it;
 * it does not exist yet): a log segment of worker w and generation g may be
 * retired only when the manifest's *previous* checkpoint P covers it:
 * g < P.generation, or g == P.generation and every record in it has an LSN
 * at or below P.start_lsn[w]. With no previous checkpoint, nothing is
 * retired. Checkpoint ids grow, and a checkpoint with a larger id began
 * later (same or later generation, start LSNs not smaller), so the log that
 * any complete checkpoint with an id at or above P's needs is still there.
 * That is what makes ckpt_pick's fallback safe, and only down to P.
 */
#ifndef CKPT_MANIFEST_H
#define CKPT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "disk.h"
#include "we_compiler.h"

#define CKPT_MANIFEST_NAME "MANIFEST"
#define CKPT_MANIFEST_TMP "MANIFEST.tmp"
#define CKPT_MANIFEST_BYTES_MAX (1u << 20)

struct ckpt_manifest {
	uint32_t format_version; /* CKPT_FORMAT: of the manifest and the parts */
	uint64_t checkpoint_id;
	uint64_t previous_id; /* the complete checkpoint named before, 0 = none */
	char directory[CKPT_DIR_NAME_MAX];
	uint64_t generation;
	uint16_t worker_count;
	uint64_t start_lsn[CKPT_WORKERS_MAX];
	uint64_t items[CKPT_WORKERS_MAX];
	char created[40]; /* ISO 8601 UTC */
};

/* The manifest for the checkpoint s describes, created now. */
void ckpt_manifest_fill(struct ckpt_manifest *m, const struct ckpt_summary *s,
			uint64_t previous_id);
/* Replaces checkpoints_dir/MANIFEST: MANIFEST.tmp written, fdatasync'ed,
 * renamed over MANIFEST, checkpoints_dir fsync'ed. 0, or a negative errno
 * and a sentence in err. */
int ckpt_manifest_write(struct disk *disk, const char *checkpoints_dir,
			const struct ckpt_manifest *m, char *err, size_t err_len) we_must_check;
/* 0 and *m; -ENOENT no manifest; -EPROTO another format_version; -EINVAL a
 * bad file (err names the file, the field, what was found and expected);
 * other errnos from the disk. */
int ckpt_manifest_read(struct disk *disk, const char *checkpoints_dir, struct ckpt_manifest *m,
		       char *err, size_t err_len) we_must_check;

struct ckpt_choice {
	bool found;              /* load dir; else replay the whole log */
	bool fallback;           /* not the manifest's: it was damaged or incomplete */
	char dir[DISK_PATH_MAX]; /* DATA/checkpoints/ckpt-<id> */
	struct ckpt_summary s;   /* verified: what the parts hold */
	char why[CKPT_ERR_MAX];  /* when fallback: what was wrong with the manifest's */
};

/* What recovery should load from data_dir (which holds checkpoints/):
 *   - no MANIFEST (or no checkpoints/): none. Nothing was retired, so the
 *     whole log is there; complete but never named checkpoints are ignored.
 *   - the checkpoint MANIFEST names, if every part verifies and agrees
 *     with the manifest;
 *   - else the newest complete one with an id in [previous_id, id) found by
 *     scanning checkpoints/ (fallback = true, why says what was wrong),
 *     or, when previous_id is 0, the newest complete one below id, else
 *     none (nothing was retired);
 *   - else -EUCLEAN: the named checkpoint is unusable and the log that an
 *     older one would need may have been recycled (err says which).
 * Verification reads every chunk of the candidates. -EINVAL/-EPROTO for a
 * bad manifest (err as ckpt_manifest_read), other errnos from the disk. */
int ckpt_pick(struct disk *disk, const char *data_dir, struct ckpt_choice *c, char *err,
	      size_t err_len) we_must_check;

/* Names of checkpoints_dir's ckpt-<id> folders with id < below_id, oldest
 * first, in a malloc'ed array (*names, free it; may be NULL when *count is
 * 0). Removes nothing. To keep ckpt_pick's fallback possible, pass the
 * manifest's previous_id (or its checkpoint_id when previous_id is 0). */
int ckpt_list_older(struct disk *disk, const char *checkpoints_dir, uint64_t below_id,
		    struct disk_name **names, uint32_t *count) we_must_check;

/* The id for a new checkpoint: one above the largest ckpt-<id> folder in
 * checkpoints_dir (leftovers of interrupted checkpoints included: ids are
 * never reused) and above the manifest's, 1 for the first. */
int ckpt_next_id(struct disk *disk, const char *checkpoints_dir, uint64_t *id) we_must_check;

#endif
