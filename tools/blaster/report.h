/* report.h - what a run measured: counters, per-second samples, the progress
 * line and the JSON report (no DPDK).
 *
 *   report_phase_init/fini()   one phase's results (preload, run)
 *   report_sample_take()       close a progress interval: a sample
 *   report_print_progress()    the one-line-per-second printer
 *   report_phase_json()        a phase as JSON
 *   report_write_json()        the whole report to a file
 */
#ifndef BLASTER_REPORT_H
#define BLASTER_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "we_compiler.h"
#include "we_status.h"

/* Counters of one phase. X-macro so the struct, the JSON and the tests share
 * one list: X(field, description). */
#define REPORT_COUNTERS(X)                                                          \
	X(sent, "requests handed to the network")                                   \
	X(sent_get, "GET requests sent")                                            \
	X(sent_put, "PUT requests sent")                                            \
	X(sent_delete, "DELETE requests sent")                                      \
	X(dgrams_sent, "datagrams sent")                                            \
	X(dgrams_received, "datagrams received")                                    \
	X(answered, "requests answered (any status)")                               \
	X(timeouts, "requests sent and not answered within the timeout")            \
	X(drops, "requests due but never sent (send errors, backlog at the end)")  \
	X(wrong_values, "GET answers that no write could explain")                  \
	X(verified, "GET answers checked and found right")                          \
	X(unverified, "GET answers that could not be checked (key state unknown)")  \
	X(write_conflicts, "writes sent as GETs: a write to the key was in flight") \
	X(rx_unmatched, "answers matching no outstanding request (late, stale)")   \
	X(rx_malformed, "datagrams or answers that could not be decoded")          \
	X(rx_batch_errors, "header-only error replies (their requests time out)")   \
	X(stalls, "times the in-flight table was full while requests were due")      \
	X(need_token, "answers withheld for want of an address token (NEED_TOKEN)") \
	X(token_renewed, "address tokens renewed during the phase")                 \
	X(fills, "PUTs of keys a GET found missing (--fill-on-miss)")

struct report_counters {
#define REPORT_COUNTER_FIELD(name, text) uint64_t name;
	REPORT_COUNTERS(REPORT_COUNTER_FIELD)
#undef REPORT_COUNTER_FIELD
	/* Answers by status; index WE_STATUS_COUNT counts out-of-range bytes. */
	uint64_t status[WE_STATUS_COUNT + 1];
};

/* One progress interval (deltas over it, not running totals). */
struct report_sample {
	double t_s;          /* end of the interval, seconds since the phase began */
	double interval_s;
	uint64_t sent;
	uint64_t answered;
	uint64_t timeouts;
	uint64_t wrong_values;
	uint64_t errors;     /* answers with an error status */
	struct hist_summary latency;
};

struct report_phase {
	const char *name;    /* "preload" or "run" */
	double duration_s;   /* the issuing period; rates are over it */
	struct report_counters c;
	struct hist latency; /* from the intended send time */
	struct hist rtt;     /* from the actual send time */
	struct report_sample *samples;
	size_t n_samples;
	size_t cap_samples;
	/* State of the interval being measured. */
	struct report_counters last;  /* counters at the last sample */
	struct hist interval;         /* latencies since the last sample */
	double last_t_s;
};

int report_phase_init(struct report_phase *p, const char *name) we_must_check;
void report_phase_fini(struct report_phase *p);

/* Answers with a status other than OK and NOT_FOUND. */
uint64_t report_errors(const struct report_counters *c);

/* Close the interval ending at t_s: append a sample, merge the interval's
 * latencies into the phase histogram. Returns the sample, or NULL if no
 * memory was left for it (the latencies are merged anyway). */
const struct report_sample *report_sample_take(struct report_phase *p, double t_s);

void report_print_progress(FILE *out, const struct report_phase *p,
			   const struct report_sample *s);
/* A final summary for people, after a phase. */
void report_print_summary(FILE *out, const struct report_phase *p);

json_t *report_hist_json(const struct hist *h);
json_t *report_phase_json(const struct report_phase *p);
/* {"version":1, "config":config, "preload":..., "run":...}; preload may be
 * NULL. Takes a reference to config. Returns 0 or -errno. */
int report_write_json(const char *path, json_t *config, const struct report_phase *preload,
		      const struct report_phase *run) we_must_check;

#endif
