/* entropy_watch.c - the entropy monitor in the control loop (see
 * entropy_watch.h).
 */
#include "entropy_watch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int entropy_watch_init(struct entropy_watch *w, const char *data_dir, bool quiet, char *err,
		       size_t err_len)
{
	memset(w, 0, sizeof(*w));
	w->quiet = quiet;
	return entropy_files_open(&w->files, data_dir, err, err_len);
}

void entropy_watch_clear(struct entropy_watch *w)
{
	json_decref(w->prev_load);
	json_decref(w->cur_load);
	w->prev_load = w->cur_load = NULL;
	w->valid = false;
	w->streak = 0;
}

void entropy_watch_free(struct entropy_watch *w)
{
	entropy_watch_clear(w);
}

static void note(struct entropy_watch *w, const char *what)
{
	/* say it once, not every sample */
	if (!w->quiet && strcmp(w->error, what) != 0)
		fprintf(stderr, "warp-control: entropy: %s\n", what);
	snprintf(w->error, sizeof(w->error), "%s", what);
}

static json_t *state_json(const struct entropy_watch *w)
{
	json_t *s = entropy_sample_json(&w->last);

	json_object_set_new(s, "threshold", json_real(w->threshold));
	json_object_set_new(s, "over_threshold_samples", json_integer(w->streak));
	json_object_set_new(s, "rebalance_needed", json_boolean(w->last.imbalance > w->threshold));
	return s;
}

static void write_files(struct entropy_watch *w)
{
	char err[256];
	json_t *s = state_json(w);
	int rc = entropy_files_state(&w->files, s, err, sizeof(err));

	json_decref(s);
	if (rc >= 0)
		rc = entropy_files_history(&w->files, &w->last, err, sizeof(err));
	if (rc < 0)
		note(w, err);
	else
		w->error[0] = 0;
}

bool entropy_watch_push(struct entropy_watch *w, json_t *region_load, const json_t *prev_stats,
			const json_t *cur_stats, const json_t *hotkeys, double threshold,
			double now, double unix_now)
{
	struct entropy_inputs in;
	char err[256];

	if (region_load == NULL)
		return false;
	json_decref(w->prev_load);
	w->prev_load = w->cur_load;
	w->prev_t = w->cur_t;
	w->cur_load = region_load;
	w->cur_t = now;
	if (w->prev_load == NULL)
		return false;
	in = (struct entropy_inputs){.prev_load = w->prev_load, .cur_load = w->cur_load,
				     .interval_s = w->cur_t - w->prev_t, .prev_stats = prev_stats,
				     .cur_stats = cur_stats, .hotkeys = hotkeys,
				     .unix_time = unix_now};
	if (entropy_measure(&in, &w->last, err, sizeof(err)) != 0) {
		w->valid = false;
		w->streak = 0;
		note(w, err);
		return false;
	}
	w->valid = true;
	w->measured++;
	w->threshold = threshold;
	w->streak = w->last.imbalance > threshold ? w->streak + 1 : 0;
	write_files(w);
	return true;
}

json_t *entropy_watch_json(const struct entropy_watch *w)
{
	json_t *o = json_pack("{s:b, s:I, s:o, s:o}", "measured", w->valid, "samples",
			      (json_int_t)w->measured, "files",
			      w->files.dir[0] ? json_string(w->files.dir) : json_null(), "error",
			      w->error[0] ? json_string(w->error) : json_null());

	json_object_set_new(o, "state", w->valid ? state_json(w) : json_null());
	return o;
}
