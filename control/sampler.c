/* sampler.c - samples of the data plane's counters (see sampler.h). */
#include "sampler.h"

#include <math.h>

void sampler_push(struct sampler *s, json_t *stats, json_t *shards, double now)
{
	json_decref(s->prev);
	s->prev = s->cur;
	s->prev_t = s->cur_t;
	s->cur = stats;
	s->cur_t = now;
	json_decref(s->shards);
	s->shards = shards;
	s->samples++;
}

void sampler_clear(struct sampler *s)
{
	json_decref(s->prev);
	json_decref(s->cur);
	json_decref(s->shards);
	s->prev = s->cur = s->shards = NULL;
	s->prev_t = s->cur_t = 0;
}

double sampler_interval(const struct sampler *s)
{
	return s->prev != NULL && s->cur != NULL ? s->cur_t - s->prev_t : 0;
}

static double number(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

double sample_total(const json_t *stats, const char *name)
{
	return number(json_object_get(json_object_get(stats, "total"), name));
}

double sample_worker(const json_t *stats, unsigned i, const char *name)
{
	return number(json_object_get(json_array_get(json_object_get(stats, "per_worker"), i), name));
}

unsigned sample_workers(const json_t *stats)
{
	return (unsigned)json_array_size(json_object_get(stats, "per_worker"));
}

/* A counter that went down means the data plane restarted: count from 0. */
static double delta(double prev, double cur)
{
	if (isnan(cur))
		return NAN;
	if (isnan(prev) || prev > cur)
		return cur;
	return cur - prev;
}

double sample_delta_total(const json_t *prev, const json_t *cur, const char *name)
{
	return delta(prev != NULL ? sample_total(prev, name) : NAN, sample_total(cur, name));
}

double sample_delta_worker(const json_t *prev, const json_t *cur, unsigned i, const char *name)
{
	return delta(prev != NULL ? sample_worker(prev, i, name) : NAN,
		     sample_worker(cur, i, name));
}

json_t *sampler_rates(const json_t *prev, const json_t *cur, double interval_s)
{
	json_t *rates = json_object();
	const char *name;
	json_t *v;

	if (prev == NULL || cur == NULL || interval_s <= 0)
		return rates;
	json_object_foreach(json_object_get(cur, "total"), name, v) {
		double d;

		if (!json_is_integer(v))
			continue;
		d = sample_delta_total(prev, cur, name);
		if (!isnan(d))
			json_object_set_new(rates, name, json_real(d / interval_s));
	}
	return rates;
}
