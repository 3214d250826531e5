/* entropy_watch.h - the entropy monitor as warp-control runs it: the last
 * two region-load answers, the last measurement, the files, the streak of
 * samples above the rebalance threshold.
 *
 *   entropy_watch_init     entropy_watch.c  the files under DIR/entropy (data_dir NULL: none)
 *   entropy_watch_push     entropy_watch.c  one sample's answers -> a measurement, the files
 *   entropy_watch_clear    entropy_watch.c  the data plane went away: forget the answers
 *   entropy_watch_json     entropy_watch.c  the `entropy` command's answer
 *   entropy_watch_free     entropy_watch.c
 *
 * A measurement needs two region-load answers of the same data plane; the
 * first after a (re)connection only primes. The streak counts consecutive
 * measurements whose max/mean is above the threshold given to push.
 */
#ifndef CONTROL_ENTROPY_WATCH_H
#define CONTROL_ENTROPY_WATCH_H

#include <stdbool.h>

#include <jansson.h>

#include "entropy_files.h"
#include "entropy_monitor.h"

struct entropy_watch {
	json_t *prev_load, *cur_load; /* region-load results (owned) */
	double prev_t, cur_t;         /* monotonic seconds */
	struct entropy_sample last;   /* valid: the latest measurement */
	bool valid;
	unsigned long measured;       /* measurements so far */
	unsigned streak;              /* consecutive measurements above the threshold */
	double threshold;             /* the one the streak counts against */
	struct entropy_files files;
	char error[256];              /* the last measuring or file error, "" none */
	bool quiet;
};

/* 0, or -errno and a sentence: the files cannot be kept (measuring goes on). */
int entropy_watch_init(struct entropy_watch *w, const char *data_dir, bool quiet, char *err,
		       size_t err_len);
/* region_load: a region-load result (reference stolen; NULL: none this
 * sample). prev_stats/cur_stats and hotkeys may be NULL. Returns true when
 * a new measurement was made. */
bool entropy_watch_push(struct entropy_watch *w, json_t *region_load, const json_t *prev_stats,
			const json_t *cur_stats, const json_t *hotkeys, double threshold,
			double now, double unix_now);
void entropy_watch_clear(struct entropy_watch *w);
/* A new object: {"measured": bool, "samples", "state" (the sample), "threshold",
 * "over_threshold_samples", "rebalance_needed", "files", "error"}. */
json_t *entropy_watch_json(const struct entropy_watch *w);
void entropy_watch_free(struct entropy_watch *w);

#endif
