/* rebalance_plan.h - which regions to move so that the workers' load evens
 * out: the decision of the specification's Maxwell's demon (pure: no I/O,
 * nothing allocated).
 *
 *   rebalance_plan          rebalance_plan.c  owner + region loads + mode -> moves and predictions
 *   rebalance_mode_parse    rebalance_plan.c  "minimal" | "moderate" | "aggressive"
 *   rebalance_mode_name     rebalance_plan.c  the mode's name
 *   rebalance_plan_entropy  rebalance_plan.c  normalised entropy of double loads (lib/entropy.h)
 *   rebalance_plan_imbalance rebalance_plan.c max / mean of double loads
 *
 * Modes (each region moves at most once per plan; moves go from a worker
 * to another, never to itself; ties go to the lower region/worker index):
 *   minimal     until the hottest worker is at most `limit` x the mean: each
 *               move takes from the hottest worker the smallest region that
 *               brings it under the limit at once, else its largest region
 *               that still fits the gap to the coldest worker; default at
 *               most 64 moves.
 *   moderate    until max/mean <= 1.10: each move takes from the hottest
 *               worker to the coldest the region closest to half their gap;
 *               at most 64 moves.
 *   aggressive  an LPT reassignment towards the mean (regions by load,
 *               heaviest first, stay with their owner while it has room,
 *               else go to the least loaded worker), then the moderate
 *               steps towards 1.0; at most 512 moves. Falls back to the
 *               moderate steps when the reassignment needs more moves or
 *               predicts no better result.
 * A move is only made when it lowers the pair's larger load (region load
 * below the gap), so the predicted max/mean never rises. A region cannot be
 * split: `floor` is the best max/mean any assignment can reach (hottest
 * region / mean, at least 1), and a plan that stops on it says so.
 */
#ifndef CONTROL_REBALANCE_PLAN_H
#define CONTROL_REBALANCE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#define PLAN_REGIONS 4096
#define PLAN_WORKERS_MAX 256
#define PLAN_MOVES_MAX 512
#define PLAN_MODERATE_TARGET 1.10
#define PLAN_MODERATE_MOVES 64
#define PLAN_AGGRESSIVE_MOVES 512

enum rebalance_mode { REBALANCE_MINIMAL, REBALANCE_MODERATE, REBALANCE_AGGRESSIVE };

struct plan_input {
	unsigned n_workers;      /* 1..PLAN_WORKERS_MAX */
	unsigned n_regions;      /* 1..PLAN_REGIONS */
	const uint16_t *owner;   /* [n_regions], each < n_workers */
	const double *load;      /* [n_regions], >= 0 (e.g. requests/s) */
	enum rebalance_mode mode;
	double limit;            /* minimal's max/mean target (> 1); 0: 1.5 */
	unsigned max_moves;      /* 0: the mode's default; capped at PLAN_MOVES_MAX */
};

struct plan_move {
	uint16_t region, from, to;
	double load;
};

struct plan_result {
	struct plan_move moves[PLAN_MOVES_MAX];
	unsigned n_moves;
	double before[PLAN_WORKERS_MAX], after[PLAN_WORKERS_MAX]; /* per-worker load */
	double imbalance_before, imbalance_after; /* max / mean; 1 without load */
	double entropy_before, entropy_after;     /* normalised over workers */
	double target;   /* the max/mean the mode aimed at */
	double floor;    /* best reachable max/mean: hottest region / mean, >= 1 */
	const char *why; /* why the plan stopped, a sentence */
};

/* 0, or -EINVAL (bad input; res->why says what). */
int rebalance_plan(const struct plan_input *in, struct plan_result *res);
/* 0, or -EINVAL for an unknown name. */
int rebalance_mode_parse(const char *name, enum rebalance_mode *mode);
const char *rebalance_mode_name(enum rebalance_mode mode);
/* Over n loads; 1 when n <= 1 or all are 0 (lib/entropy.h's convention). */
double rebalance_plan_entropy(const double *load, unsigned n);
double rebalance_plan_imbalance(const double *load, unsigned n);

#endif
