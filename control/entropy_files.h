/* entropy_files.h - the entropy monitor's files under the data directory.
 *
 *   entropy_files_open     entropy_files.c  DIR/entropy made (and DIR), checked writable
 *   entropy_files_state    entropy_files.c  current_state.json replaced (temp, fsync, rename)
 *   entropy_files_history  entropy_files.c  one historical_entropy.csv row when due
 *   entropy_files_log      entropy_files.c  one rebalancing_log.jsonl line (fsync'd)
 *   entropy_files_demon    entropy_files.c  maxwell_demon_stats.json replaced
 *   entropy_files_load_demon entropy_files.c the totals a previous run left, or NULL
 *
 * Without a data directory every call does nothing and answers 1. Errors
 * answer -errno and a sentence naming the file; the caller reports them and
 * goes on (the files are a record, the control loop does not depend on
 * them). historical_entropy.csv gets a header line when it is created and a
 * row at most every history_every_s; at rotate_bytes it is renamed to
 * historical_entropy.csv.1 (replacing the older one) and begun again.
 */
#ifndef CONTROL_ENTROPY_FILES_H
#define CONTROL_ENTROPY_FILES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "entropy_monitor.h"
#include "we_compiler.h"

#define ENTROPY_HISTORY_EVERY_S 10.0
#define ENTROPY_HISTORY_ROTATE_BYTES (16u << 20)
#define ENTROPY_CSV_HEADER "unix_time,imbalance,entropy_workers,entropy_regions,requests_per_s"

struct entropy_files {
	char dir[512];           /* DIR/entropy; "" without a data directory */
	double history_every_s;
	uint64_t rotate_bytes;
	double last_row;         /* unix time of the last history row; 0: none yet */
};

/* data_dir NULL: no files (0). 0, or -errno and a sentence (the directory
 * cannot be made or written; f->dir is then "" and nothing is written). */
int entropy_files_open(struct entropy_files *f, const char *data_dir, char *err,
		       size_t err_len) we_must_check;
int entropy_files_state(const struct entropy_files *f, const json_t *state, char *err,
			size_t err_len) we_must_check;
/* 0 a row written, 1 not due (or no files), -errno. */
int entropy_files_history(struct entropy_files *f, const struct entropy_sample *s, char *err,
			  size_t err_len) we_must_check;
int entropy_files_log(const struct entropy_files *f, const json_t *line, char *err,
		      size_t err_len) we_must_check;
int entropy_files_demon(const struct entropy_files *f, const json_t *stats, char *err,
			size_t err_len) we_must_check;
/* A new reference, or NULL (no file, or not a JSON object). */
json_t *entropy_files_load_demon(const struct entropy_files *f);

#endif
