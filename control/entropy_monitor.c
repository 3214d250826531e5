/* entropy_monitor.c - entropy and imbalance of the measured load (see
 * entropy_monitor.h).
 */
#include "entropy_monitor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "entropy.h"
#include "sampler.h"

static int bad(char *err, size_t len, const char *what)
{
	snprintf(err, len, "region-load: %s", what);
	return -EINVAL;
}

/* A counter that went down means the data plane restarted: count from 0. */
static double delta(double prev, double cur)
{
	return prev > cur ? cur : cur - prev;
}

static int region_rates(const struct entropy_inputs *in, struct entropy_sample *s, char *err,
			size_t len)
{
	const json_t *owner = json_object_get(in->cur_load, "owner");
	const json_t *cur = json_object_get(in->cur_load, "sampled");
	const json_t *prev = json_object_get(in->prev_load, "sampled");
	json_int_t workers = json_integer_value(json_object_get(in->cur_load, "workers"));
	json_int_t every = json_integer_value(json_object_get(in->cur_load, "sample_every"));
	size_t n = json_array_size(owner);

	if (workers < 1 || workers > PLAN_WORKERS_MAX || every < 1)
		return bad(err, len, "\"workers\" (1..256) and \"sample_every\" (>= 1) are needed");
	if (n < 1 || n > PLAN_REGIONS || json_array_size(cur) != n || json_array_size(prev) != n)
		return bad(err, len, "\"owner\" and \"sampled\" must be arrays of the same 1..4096 "
				     "regions in both answers");
	if (json_integer_value(json_object_get(in->prev_load, "workers")) != workers)
		return bad(err, len, "the worker count changed between the two answers");
	if (!(in->interval_s > 0))
		return bad(err, len, "the interval between the answers is not positive");
	s->n_workers = (unsigned)workers;
	s->n_regions = (unsigned)n;
	for (size_t r = 0; r < n; r++) {
		json_int_t o = json_integer_value(json_array_get(owner, r));
		const json_t *c = json_array_get(cur, r), *p = json_array_get(prev, r);

		if (!json_is_integer(json_array_get(owner, r)) || o < 0 || o >= workers ||
		    !json_is_number(c) || !json_is_number(p))
			return bad(err, len, "an owner is not a worker, or a count is not a number");
		s->owner[r] = (uint16_t)o;
		s->region_rps[r] = delta(json_number_value(p), json_number_value(c)) *
				   (double)every / in->interval_s;
		s->worker_rps[o] += s->region_rps[r];
		s->owned[o]++;
		s->requests_per_s += s->region_rps[r];
	}
	return 0;
}

static void busy_shares(const struct entropy_inputs *in, struct entropy_sample *s)
{
	double busy[PLAN_WORKERS_MAX], sum = 0;

	for (unsigned w = 0; w < s->n_workers; w++) {
		busy[w] = in->prev_stats != NULL && in->cur_stats != NULL
				  ? sample_delta_worker(in->prev_stats, in->cur_stats, w, "busy_cycles")
				  : NAN;
		sum += busy[w];
	}
	for (unsigned w = 0; w < s->n_workers; w++)
		s->busy_share[w] = sum > 0 ? busy[w] / sum : NAN;
}

double entropy_hotkeys_bits(const json_t *keys, double sampled)
{
	uint64_t top[256], rest_max = UINT64_MAX;
	size_t n = 0, i;
	const json_t *e;

	if (!json_is_array(keys) || !(sampled > 0))
		return NAN;
	json_array_foreach(keys, i, e) {
		double c = json_number_value(json_object_get(e, "count"));
		double err = json_number_value(json_object_get(e, "error"));

		if (n == 256 || !(c > 0) || err < 0 || err > c)
			continue;
		top[n++] = (uint64_t)llround(c - err);
		if ((uint64_t)llround(c) < rest_max)
			rest_max = (uint64_t)llround(c);
	}
	if (n == 0)
		return NAN;
	/* an unlisted key has at most the smallest listed count (space-saving) */
	return entropy_of_topk(top, n, (uint64_t)llround(sampled), rest_max);
}

static void key_entropies(const struct entropy_inputs *in, struct entropy_sample *s)
{
	const json_t *workers = json_object_get(in->hotkeys, "workers"), *w;
	const json_t *merged = json_object_get(in->hotkeys, "merged");
	size_t i;

	for (unsigned k = 0; k < PLAN_WORKERS_MAX; k++)
		s->key_bits[k] = NAN;
	s->merged_key_bits = entropy_hotkeys_bits(
		json_object_get(merged, "keys"),
		json_number_value(json_object_get(merged, "sampled")));
	json_array_foreach(workers, i, w) {
		json_int_t id = json_integer_value(json_object_get(w, "worker"));

		if (id >= 0 && id < (json_int_t)s->n_workers)
			s->key_bits[id] = entropy_hotkeys_bits(
				json_object_get(w, "keys"),
				json_number_value(json_object_get(w, "sampled")));
	}
}

int entropy_measure(const struct entropy_inputs *in, struct entropy_sample *s, char *err,
		    size_t err_len)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = region_rates(in, s, err, err_len);
	if (rc != 0)
		return rc;
	s->unix_time = in->unix_time;
	s->interval_s = in->interval_s;
	busy_shares(in, s);
	key_entropies(in, s);
	s->imbalance = rebalance_plan_imbalance(s->worker_rps, s->n_workers);
	s->entropy_workers = rebalance_plan_entropy(s->worker_rps, s->n_workers);
	s->entropy_regions = rebalance_plan_entropy(s->region_rps, s->n_regions);
	return 0;
}

static json_t *num(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

json_t *entropy_sample_json(const struct entropy_sample *s)
{
	json_t *per = json_array();

	for (unsigned w = 0; w < s->n_workers; w++)
		json_array_append_new(
			per, json_pack("{s:i, s:o, s:o, s:o, s:i, s:o}", "worker", (int)w,
				       "requests_per_s", num(s->worker_rps[w]), "load_share",
				       num(s->requests_per_s > 0 ? s->worker_rps[w] / s->requests_per_s
								 : NAN),
				       "busy_share", num(s->busy_share[w]), "regions", (int)s->owned[w],
				       "hot_key_entropy_bits", num(s->key_bits[w])));
	return json_pack("{s:f, s:f, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "time",
			 s->unix_time, "interval_s", s->interval_s, "workers", (int)s->n_workers,
			 "regions", (int)s->n_regions, "requests_per_s", num(s->requests_per_s),
			 "imbalance", num(s->imbalance), "entropy_workers",
			 num(s->entropy_workers), "entropy_regions", num(s->entropy_regions),
			 "hot_key_entropy_bits", num(s->merged_key_bits), "per_worker", per);
}
