/* rebalancer.h - the specification's Maxwell's demon at work: a rebalance
 * as a state machine stepped by the control loop (plan, queue the moves,
 * wait for the data plane to finish them, let the load settle, measure),
 * the automatic trigger, the log and the totals.
 *
 *   rebalancer_init    rebalancer.c  the totals a previous run left (maxwell_demon_stats.json)
 *   rebalancer_start   rebalancer.c  plan from the last measurement; dry run: done at once
 *   rebalancer_step    rebalancer.c  advance a running rebalance (call every loop turn)
 *   rebalancer_auto    rebalancer.c  start a moderate one when the imbalance stayed high
 *   rebalancer_json    rebalancer.c  the running or last rebalance (its report)
 *   rebalancer_stats   rebalancer.c  the totals
 *   rebalancer_free    rebalancer.c
 *
 * States: idle -> moving (the moves queued; move-status polled every
 * REBALANCE_POLL_S until the queue is empty and nothing is active, at most
 * REBALANCE_MOVE_TIMEOUT_S) -> settling (two more measurements, so that one
 * whole interval lies after the last move) -> done; a refusal, a lost data
 * plane or a timeout ends in failed. Each rebalance, dry runs included, is
 * one line of DIR/entropy/rebalancing_log.jsonl when it ends. The data
 * plane is reached through `ask`, so tests can stand in for it.
 */
#ifndef CONTROL_REBALANCER_H
#define CONTROL_REBALANCER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "entropy_watch.h"
#include "rebalance_plan.h"

#define REBALANCE_POLL_S 0.1
#define REBALANCE_MOVE_TIMEOUT_S 30.0
#define REBALANCE_SETTLE_SAMPLES 2
#define REBALANCE_AUTO_SAMPLES 3

/* The data plane's result for req (reference stolen), or NULL and a sentence. */
typedef json_t *rebalance_ask_fn(void *ctx, json_t *req, char *err, size_t err_len);

enum rebalance_state { REB_IDLE, REB_MOVING, REB_SETTLING, REB_DONE, REB_FAILED };

struct rebalancer {
	rebalance_ask_fn *ask;
	void *ask_ctx;
	enum rebalance_state state;
	uint64_t id;                /* of the running or last rebalance */
	enum rebalance_mode mode;
	bool automatic, dry_run;
	struct plan_result plan;
	double start, start_unix, deadline, next_poll, end; /* monotonic except start_unix */
	double measured_before[3];  /* imbalance, entropy over workers, over regions */
	unsigned long settle_until; /* entropy_watch measured count to wait for */
	uint64_t completed0, failed0, completed, failed;
	char error[256];
	json_t *report;             /* the last report (owned) */
	json_t *totals;             /* maxwell_demon_stats.json (owned) */
};

void rebalancer_init(struct rebalancer *rb, rebalance_ask_fn *ask, void *ctx,
		     const struct entropy_watch *w);
/* A new reference: the report (dry run, nothing to move: final) or NULL
 * with a sentence and code "usage" | "unavailable" | "failed". */
json_t *rebalancer_start(struct rebalancer *rb, struct entropy_watch *w, enum rebalance_mode mode,
			 bool dry_run, bool automatic, double now, double unix_now, char *err,
			 size_t err_len, const char **code);
void rebalancer_step(struct rebalancer *rb, struct entropy_watch *w, double now);
/* true when it started one. */
bool rebalancer_auto(struct rebalancer *rb, struct entropy_watch *w, bool on, double cooldown_s,
		     double now, double unix_now);
bool rebalancer_busy(const struct rebalancer *rb);
json_t *rebalancer_json(const struct rebalancer *rb);
json_t *rebalancer_stats(const struct rebalancer *rb);
void rebalancer_free(struct rebalancer *rb);

#endif
