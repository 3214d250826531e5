/* report.c - samples, the progress line and the JSON report.
 *
 * DESIGN: the driver (blaster.c) bumps counters and records latencies into a
 * per-interval histogram; once a second it asks for a sample, which is the
 * difference of the counters since the previous one plus the interval's
 * latency summary, and the interval histogram is then merged into the
 * phase's. So each answer costs one histogram record, and the per-second p99
 * is the p99 of that second alone, not a running one.
 *
 * JSON layout (docs/blaster.md describes each field):
 *   { "version": 1, "config": {...},
 *     "preload": <phase>, "run": <phase> }
 *   <phase> = { "duration_s", "counters": {sent, answered, ...},
 *               "status": {"OK": n, "NOT_FOUND": n, ...},  nonzero only
 *               "errors": n, "errors_by_status": {"BUSY": n, ...},
 *               "throughput": {"sent_per_s", "answered_per_s"},
 *               "latency_ns": <hist>, "rtt_ns": <hist>,
 *               "samples": [{"t_s", "interval_s", "sent", "answered", "timeouts",
 *                            "wrong_values", "errors", "sent_per_s",
 *                            "answered_per_s", "latency_ns": {p50, p99, max}}] }
 *   <hist>  = { "count", "min", "mean", "p50", "p90", "p99", "p99_9", "max" }
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int report_phase_init(struct report_phase *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	hist_reset(&p->latency);
	hist_reset(&p->rtt);
	hist_reset(&p->interval);
	p->cap_samples = 64;
	p->samples = calloc(p->cap_samples, sizeof(*p->samples));
	return p->samples ? 0 : -ENOMEM;
}

void report_phase_fini(struct report_phase *p)
{
	free(p->samples);
	p->samples = NULL;
	p->n_samples = p->cap_samples = 0;
}

uint64_t report_errors(const struct report_counters *c)
{
	uint64_t n = 0;

	for (unsigned s = 0; s <= WE_STATUS_COUNT; s++)
		if (s != WE_STATUS_OK && s != WE_STATUS_NOT_FOUND)
			n += c->status[s];
	return n;
}

const struct report_sample *report_sample_take(struct report_phase *p, double t_s)
{
	struct report_sample *s;

	hist_merge(&p->latency, &p->interval);
	if (p->n_samples == p->cap_samples) {
		size_t cap = p->cap_samples * 2;
		struct report_sample *more = realloc(p->samples, cap * sizeof(*more));

		if (more == NULL) {
			hist_reset(&p->interval);
			p->last = p->c;
			p->last_t_s = t_s;
			return NULL;
		}
		p->samples = more;
		p->cap_samples = cap;
	}
	s = &p->samples[p->n_samples++];
	s->t_s = t_s;
	s->interval_s = t_s - p->last_t_s;
	s->sent = p->c.sent - p->last.sent;
	s->answered = p->c.answered - p->last.answered;
	s->timeouts = p->c.timeouts - p->last.timeouts;
	s->wrong_values = p->c.wrong_values - p->last.wrong_values;
	s->errors = report_errors(&p->c) - report_errors(&p->last);
	hist_summarize(&p->interval, &s->latency);
	hist_reset(&p->interval);
	p->last = p->c;
	p->last_t_s = t_s;
	return s;
}

static double report_rate(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0.0;
}

/* "12.3us"-style: ns scaled to a readable unit. */
static void report_fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

void report_print_progress(FILE *out, const struct report_phase *p,
			   const struct report_sample *s)
{
	char p99[32];

	report_fmt_ns(p99, sizeof(p99), (double)s->latency.p99);
	fprintf(out,
		"%-7s %6.1fs  sent %10.0f/s  answered %10.0f/s (%llu total)  p99 %s"
		"  timeouts %llu  errors %llu  wrong %llu\n",
		p->name, s->t_s, report_rate(s->sent, s->interval_s),
		report_rate(s->answered, s->interval_s), (unsigned long long)p->c.answered, p99,
		(unsigned long long)s->timeouts, (unsigned long long)s->errors,
		(unsigned long long)s->wrong_values);
	fflush(out);
}

void report_print_summary(FILE *out, const struct report_phase *p)
{
	struct hist_summary l;
	char p50[32], p90[32], p99[32], p999[32], max[32];

	hist_summarize(&p->latency, &l);
	report_fmt_ns(p50, sizeof(p50), (double)l.p50);
	report_fmt_ns(p90, sizeof(p90), (double)l.p90);
	report_fmt_ns(p99, sizeof(p99), (double)l.p99);
	report_fmt_ns(p999, sizeof(p999), (double)l.p999);
	report_fmt_ns(max, sizeof(max), (double)l.max);
	fprintf(out,
		"%s: %.2fs  sent %llu (%.0f/s)  answered %llu (%.0f/s)  timeouts %llu  drops %llu"
		"  errors %llu  wrong values %llu  need_token %llu\n"
		"%s: latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		p->name, p->duration_s, (unsigned long long)p->c.sent,
		report_rate(p->c.sent, p->duration_s), (unsigned long long)p->c.answered,
		report_rate(p->c.answered, p->duration_s), (unsigned long long)p->c.timeouts,
		(unsigned long long)p->c.drops, (unsigned long long)report_errors(&p->c),
		(unsigned long long)p->c.wrong_values, (unsigned long long)p->c.need_token,
		p->name, p50, p90, p99, p999, max);
	for (unsigned s = 0; s < WE_STATUS_COUNT; s++)
		if (s != WE_STATUS_OK && s != WE_STATUS_NOT_FOUND && p->c.status[s])
			fprintf(out, "%s: status %s: %llu (%s)\n", p->name, we_status_name(s),
				(unsigned long long)p->c.status[s], we_status_text(s));
	fflush(out);
}

json_t *report_hist_json(const struct hist *h)
{
	struct hist_summary s;

	hist_summarize(h, &s);
	return json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I}",
			 "count", (json_int_t)s.count, "min", (json_int_t)s.min,
			 "mean", s.mean, "p50", (json_int_t)s.p50, "p90", (json_int_t)s.p90,
			 "p99", (json_int_t)s.p99, "p99_9", (json_int_t)s.p999,
			 "max", (json_int_t)s.max);
}

static json_t *report_counters_json(const struct report_counters *c)
{
	json_t *o = json_object();

#define REPORT_COUNTER_JSON(name, text) \
	json_object_set_new(o, #name, json_integer((json_int_t)c->name));
	REPORT_COUNTERS(REPORT_COUNTER_JSON)
#undef REPORT_COUNTER_JSON
	return o;
}

static const char *report_status_key(unsigned s)
{
	return s < WE_STATUS_COUNT ? we_status_name(s) : "OUT_OF_RANGE";
}

static json_t *report_sample_json(const struct report_sample *s)
{
	return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:{s:I, s:I, s:I}}",
			 "t_s", s->t_s, "interval_s", s->interval_s,
			 "sent", (json_int_t)s->sent, "answered", (json_int_t)s->answered,
			 "timeouts", (json_int_t)s->timeouts,
			 "wrong_values", (json_int_t)s->wrong_values,
			 "errors", (json_int_t)s->errors,
			 "sent_per_s", report_rate(s->sent, s->interval_s),
			 "answered_per_s", report_rate(s->answered, s->interval_s),
			 "latency_ns", "p50", (json_int_t)s->latency.p50,
			 "p99", (json_int_t)s->latency.p99, "max", (json_int_t)s->latency.max);
}

json_t *report_phase_json(const struct report_phase *p)
{
	json_t *o = json_object(), *status = json_object(), *errors = json_object();
	json_t *samples = json_array();

	for (unsigned s = 0; s <= WE_STATUS_COUNT; s++) {
		if (p->c.status[s] == 0)
			continue;
		json_object_set_new(status, report_status_key(s),
				    json_integer((json_int_t)p->c.status[s]));
		if (s != WE_STATUS_OK && s != WE_STATUS_NOT_FOUND)
			json_object_set_new(errors, report_status_key(s),
					    json_integer((json_int_t)p->c.status[s]));
	}
	for (size_t i = 0; i < p->n_samples; i++)
		json_array_append_new(samples, report_sample_json(&p->samples[i]));
	json_object_set_new(o, "duration_s", json_real(p->duration_s));
	json_object_set_new(o, "counters", report_counters_json(&p->c));
	json_object_set_new(o, "status", status);
	json_object_set_new(o, "errors", json_integer((json_int_t)report_errors(&p->c)));
	json_object_set_new(o, "errors_by_status", errors);
	json_object_set_new(o, "throughput",
			    json_pack("{s:f, s:f}", "sent_per_s",
				      report_rate(p->c.sent, p->duration_s), "answered_per_s",
				      report_rate(p->c.answered, p->duration_s)));
	json_object_set_new(o, "latency_ns", report_hist_json(&p->latency));
	json_object_set_new(o, "rtt_ns", report_hist_json(&p->rtt));
	json_object_set_new(o, "samples", samples);
	return o;
}

int report_write_json(const char *path, json_t *config, const struct report_phase *preload,
		      const struct report_phase *run)
{
	json_t *root = json_object();
	int rc;

	json_object_set_new(root, "version", json_integer(1));
	json_object_set(root, "config", config ? config : json_null());
	if (preload)
		json_object_set_new(root, "preload", report_phase_json(preload));
	json_object_set_new(root, "run", report_phase_json(run));
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return rc == 0 ? 0 : -EIO;
}
