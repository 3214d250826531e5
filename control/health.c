/* health.c - the health checks (see health.h).
 *
 * DESIGN: each check is one small function from the samples to one
 * {state, value, threshold, unit, measures} object; health_compute runs
 * them all and takes the worst state. Ratios are over the last interval
 * (the counters' differences), or since the data plane started when there
 * is only one sample.
 */
#include "health.h"

#include <math.h>
#include <string.h>

#include "entropy.h"
#include "sampler.h"

static const char *const state_names[] = {"healthy", "unknown", "warning", "critical"};

const char *health_state_name(enum health_state s)
{
	return state_names[s];
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static json_t *check(enum health_state *st, double value, double threshold, const char *unit,
		     const char *measures)
{
	return json_pack("{s:s, s:o, s:o, s:s, s:s}", "state", health_state_name(*st), "value",
			 num_or_null(value), "threshold", num_or_null(threshold), "unit", unit,
			 "measures", measures);
}

/* Higher is worse: critical past the threshold, warning near it. */
static enum health_state grade_high(double value, double threshold)
{
	if (isnan(value))
		return HEALTH_UNKNOWN;
	if (value > threshold)
		return HEALTH_CRITICAL;
	if (value > threshold * HEALTH_WARN_FRACTION)
		return HEALTH_WARNING;
	return HEALTH_HEALTHY;
}

void load_entropy(const double *counts, unsigned n, double *entropy, double *imbalance)
{
	uint64_t c[HEALTH_WORKERS_MAX];
	uint64_t sum = 0;

	/* The counts are request deltas: whole numbers. lib/entropy.h says 1
	 * (even) for no load; here no load is "not measured". */
	if (n > HEALTH_WORKERS_MAX)
		n = HEALTH_WORKERS_MAX;
	for (unsigned i = 0; i < n; i++) {
		c[i] = counts[i] > 0 ? (uint64_t)llround(counts[i]) : 0;
		sum += c[i];
	}
	if (n == 0 || sum == 0) {
		*entropy = *imbalance = NAN;
		return;
	}
	*entropy = entropy_normalised(c, n);
	*imbalance = entropy_imbalance(c, n);
}

double health_worker_requests(const json_t *prev, const json_t *cur, unsigned i)
{
	static const char *const ops[] = {"req_get", "req_put", "req_delete"};
	double sum = 0;

	for (unsigned k = 0; k < 3; k++)
		sum += sample_delta_worker(prev, cur, i, ops[k]);
	return sum;
}

static json_t *universe_stability(const struct health_input *in, const struct health_limits *lim,
				  enum health_state *st)
{
	static const char m[] = "the data plane answers, and every worker published its "
				"counters within the threshold (worst heartbeat age)";
	double worst = NAN;
	unsigned n = sample_workers(in->cur);

	if (!in->dp_up) {
		*st = HEALTH_CRITICAL;
		return check(st, NAN, lim->heartbeat_ms, "ms", m);
	}
	for (unsigned i = 0; i < n; i++) {
		double age = sample_worker(in->cur, i, "heartbeat_age_ms");

		if (isnan(age)) {
			worst = NAN;
			break;
		}
		if (isnan(worst) || age > worst)
			worst = age;
	}
	*st = grade_high(worst, lim->heartbeat_ms);
	return check(st, worst, lim->heartbeat_ms, "ms", m);
}

static json_t *entropy_levels(const struct health_input *in, const struct health_limits *lim,
			      enum health_state *st)
{
	static const char m[] = "how evenly the last interval's requests spread over the workers: "
				"the busiest worker's share over the mean share (entropy: "
				"normalized Shannon entropy of the shares, 1 = even)";
	unsigned n = sample_workers(in->cur);
	double counts[HEALTH_WORKERS_MAX], entropy, imbalance;
	json_t *o;

	if (n > HEALTH_WORKERS_MAX)
		n = HEALTH_WORKERS_MAX;
	for (unsigned i = 0; i < n; i++)
		counts[i] = health_worker_requests(in->prev, in->cur, i);
	load_entropy(counts, n, &entropy, &imbalance);
	if (n == 0) {
		*st = HEALTH_UNKNOWN;
	} else if (isnan(imbalance)) {
		bool missing = false;

		for (unsigned i = 0; i < n; i++)
			missing |= isnan(counts[i]);
		*st = missing ? HEALTH_UNKNOWN : HEALTH_HEALTHY; /* idle: nothing to spread */
	} else {
		*st = grade_high(imbalance, lim->entropy_limit);
	}
	o = check(st, imbalance, lim->entropy_limit, "ratio", m);
	json_object_set_new(o, "entropy", num_or_null(entropy));
	return o;
}

static json_t *ratio_check(const struct health_input *in, const char *const *num, unsigned n_num,
			   bool rx_drops, const char *den, double threshold, const char *m,
			   enum health_state *st)
{
	double bad = 0, all = sample_delta_total(in->prev, in->cur, den), value;

	for (unsigned i = 0; i < n_num; i++)
		bad += sample_delta_total(in->prev, in->cur, num[i]);
	if (rx_drops) {
		const char *name;
		json_t *v;

		json_object_foreach(json_object_get(in->cur, "total"), name, v)
			if (strncmp(name, "rx_drop_", 8) == 0)
				bad += sample_delta_total(in->prev, in->cur, name);
	}
	value = isnan(all) || isnan(bad) ? NAN : all > 0 ? bad / all : 0;
	*st = grade_high(value, threshold);
	return check(st, value, threshold, "ratio", m);
}

static json_t *wormhole_connectivity(const struct health_input *in,
				     const struct health_limits *lim, enum health_state *st)
{
	static const char *const errs[] = {"fwd_err_busy", "fwd_err_hop_limit"};

	return ratio_check(in, errs, 2, false, "fwd_out", lim->fwd_error_ratio,
			   "requests the owner's ring refused or that hit the hop limit, per "
			   "request forwarded between workers",
			   st);
}

static json_t *vacuum_stability(const struct health_input *in, const struct health_limits *lim,
				enum health_state *st)
{
	static const char *const errs[] = {"rx_err_proto_malformed"};

	return ratio_check(in, errs, 1, true, "rx_packets", lim->drop_ratio,
			   "frames dropped (rx_drop_*) or malformed, per frame received", st);
}

static double storage_errors(const struct health_input *in)
{
	static const char *const errs[] = {"write_errors", "sync_errors", "segment_errors",
					   "failed_commits"};
	const json_t *pl = json_object_get(json_object_get(in->prev, "storage"), "log");
	const json_t *cl = json_object_get(json_object_get(in->cur, "storage"), "log");
	double sum = sample_delta_total(in->prev, in->cur, "req_refused_not_durable");

	for (unsigned i = 0; i < 4; i++) {
		const json_t *c = json_object_get(cl, errs[i]), *p = json_object_get(pl, errs[i]);
		double d;

		if (!json_is_number(c))
			return NAN;
		d = json_number_value(c) - (json_is_number(p) ? json_number_value(p) : 0);
		sum += d > 0 ? d : 0;
	}
	return sum;
}

static json_t *spacetime_integrity(const struct health_input *in,
				   const struct health_limits *lim, enum health_state *st)
{
	static const char m[] = "the data directory: log write/sync errors and writes refused "
				"NOT_DURABLE in the last interval (any is critical), and the "
				"free space of its filesystem (value) against the threshold";
	double errors, free_ratio = in->disk_free_ratio;
	json_t *o;

	if (in->cur != NULL && json_object_get(in->cur, "storage") == NULL) {
		*st = HEALTH_HEALTHY;
		o = check(st, NAN, lim->disk_free_ratio, "ratio", "memory only: no data directory");
		return o;
	}
	errors = in->cur != NULL ? storage_errors(in) : NAN;
	if (isnan(errors) || free_ratio < 0)
		*st = HEALTH_UNKNOWN;
	else if (errors > 0 || free_ratio < lim->disk_free_ratio)
		*st = HEALTH_CRITICAL;
	else if (free_ratio < 2 * lim->disk_free_ratio)
		*st = HEALTH_WARNING;
	else
		*st = HEALTH_HEALTHY;
	o = check(st, free_ratio < 0 ? NAN : free_ratio, lim->disk_free_ratio, "ratio", m);
	json_object_set_new(o, "storage_errors", num_or_null(errors));
	return o;
}

static json_t *quantum_coherence(const struct health_input *in, const struct health_limits *lim,
				 enum health_state *st)
{
	static const char m[] = "memory of the fullest shard: item memory used over its arena";
	/* The shards command, or the stats' own "shards" (older data planes). */
	const json_t *arr = in->shards != NULL ? in->shards : json_object_get(in->cur, "shards");
	const char *used = in->shards != NULL ? "memory_used_bytes" : "arena_used_bytes";
	const char *total = in->shards != NULL ? "memory_bytes" : "arena_bytes";
	double worst = NAN;
	size_t i;
	json_t *sh;

	json_array_foreach(arr, i, sh) {
		const json_t *u = json_object_get(sh, used);
		const json_t *t = json_object_get(sh, total);
		double r;

		if (!json_is_number(u) || !json_is_number(t) || json_number_value(t) <= 0) {
			worst = NAN;
			break;
		}
		r = json_number_value(u) / json_number_value(t);
		if (isnan(worst) || r > worst)
			worst = r;
	}
	*st = grade_high(worst, lim->memory_used_ratio);
	return check(st, worst, lim->memory_used_ratio, "ratio", m);
}

json_t *health_compute(const struct health_input *in, const struct health_limits *lim)
{
	static const struct {
		const char *name;
		json_t *(*run)(const struct health_input *, const struct health_limits *,
			       enum health_state *);
	} checks[] = {
		{"universe_stability", universe_stability},
		{"entropy_levels", entropy_levels},
		{"wormhole_connectivity", wormhole_connectivity},
		{"vacuum_stability", vacuum_stability},
		{"spacetime_integrity", spacetime_integrity},
		{"quantum_coherence", quantum_coherence},
	};
	json_t *all = json_object();
	enum health_state worst = HEALTH_HEALTHY;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		enum health_state st = HEALTH_UNKNOWN;
		json_t *o;

		if (in->cur == NULL && i > 0) {
			o = check(&st, NAN, NAN, "", "not measured yet: no sample of the data plane");
		} else {
			o = checks[i].run(in, lim, &st);
		}
		json_object_set_new(all, checks[i].name, o);
		if (st > worst)
			worst = st;
	}
	return json_pack("{s:s, s:o}", "overall", health_state_name(worst), "checks", all);
}
