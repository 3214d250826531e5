/* rebalance_plan.c - the rebalance planner (see rebalance_plan.h).
 *
 * DESIGN: every mode ends in the same greedy step (hottest worker gives one
 * region to the coldest); the modes differ in the target, the move budget,
 * which region the step picks, and aggressive's LPT start. Each region moves
 * at most once, and a step is taken only when the region's load is below the
 * gap between the two workers, so both stay below the old maximum: the plan
 * terminates and never predicts a worse max/mean.
 */
#include "rebalance_plan.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "entropy.h"

static const char *const mode_names[] = {"minimal", "moderate", "aggressive"};

const char *rebalance_mode_name(enum rebalance_mode mode)
{
	return mode <= REBALANCE_AGGRESSIVE ? mode_names[mode] : "?";
}

int rebalance_mode_parse(const char *name, enum rebalance_mode *mode)
{
	for (unsigned i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, mode_names[i]) == 0) {
			*mode = (enum rebalance_mode)i;
			return 0;
		}
	return -EINVAL;
}

double rebalance_plan_imbalance(const double *load, unsigned n)
{
	double sum = 0, max = 0;

	for (unsigned i = 0; i < n; i++) {
		sum += load[i];
		if (load[i] > max)
			max = load[i];
	}
	return n == 0 || sum <= 0 ? 1.0 : max * n / sum;
}

double rebalance_plan_entropy(const double *load, unsigned n)
{
	uint64_t c[PLAN_REGIONS];
	double max = 0;

	if (n > PLAN_REGIONS)
		n = PLAN_REGIONS;
	for (unsigned i = 0; i < n; i++)
		if (load[i] > max)
			max = load[i];
	/* lib/entropy.h counts whole numbers: scale so the largest is 2^40,
	 * far more resolution than a sampled rate has. */
	for (unsigned i = 0; i < n; i++)
		c[i] = max > 0 && load[i] > 0 ? (uint64_t)llround(load[i] / max * 1099511627776.0) : 0;
	return entropy_normalised(c, n);
}

static unsigned hottest(const double *w, unsigned n)
{
	unsigned h = 0;

	for (unsigned i = 1; i < n; i++)
		if (w[i] > w[h])
			h = i;
	return h;
}

static unsigned coldest(const double *w, unsigned n)
{
	unsigned c = 0;

	for (unsigned i = 1; i < n; i++)
		if (w[i] < w[c])
			c = i;
	return c;
}

struct planner {
	const struct plan_input *in;
	struct plan_result *res;
	uint16_t owner[PLAN_REGIONS]; /* as planned so far */
	bool moved[PLAN_REGIONS];
	unsigned budget;
	double mean;
};

static void move(struct planner *p, unsigned r, unsigned to)
{
	struct plan_result *res = p->res;
	unsigned from = p->owner[r];

	res->moves[res->n_moves++] = (struct plan_move){(uint16_t)r, (uint16_t)from, (uint16_t)to,
							p->in->load[r]};
	res->after[from] -= p->in->load[r];
	res->after[to] += p->in->load[r];
	p->owner[r] = (uint16_t)to;
	p->moved[r] = true;
}

/* The region of worker h to give to a worker gap below it: -1 if none
 * helps. minimal: the smallest that brings h to `need` or less, else the
 * largest that fits; otherwise the one nearest gap / 2. */
static int pick_region(const struct planner *p, unsigned h, double gap, double need,
		       bool minimal)
{
	int best = -1, fix = -1;
	double best_score = INFINITY;

	for (unsigned r = 0; r < p->in->n_regions; r++) {
		double l = p->in->load[r], score;

		if (p->owner[r] != h || p->moved[r] || !(l > 0) || !(l < gap))
			continue;
		if (minimal && l >= need && (fix < 0 || l < p->in->load[fix]))
			fix = (int)r;
		score = minimal ? -l : fabs(l - gap / 2);
		if (score < best_score) {
			best_score = score;
			best = (int)r;
		}
	}
	return fix >= 0 ? fix : best;
}

/* The load of worker h's hottest region (as planned so far). */
static double hottest_region_of(const struct planner *p, unsigned h)
{
	double top = 0;

	for (unsigned r = 0; r < p->in->n_regions; r++)
		if (p->owner[r] == h && p->in->load[r] > top)
			top = p->in->load[r];
	return top;
}

/* Hottest to coldest, one region a step, until the target is met, no step
 * helps or the budget is spent. Returns why it stopped. */
static const char *greedy(struct planner *p, double target, bool minimal)
{
	struct plan_result *res = p->res;
	unsigned n = p->in->n_workers;

	for (;;) {
		unsigned h = hottest(res->after, n), c = coldest(res->after, n);
		double gap = res->after[h] - res->after[c];
		int r;

		if (res->after[h] <= target * p->mean * (1 + 1e-12))
			return "the target is reached";
		if (res->n_moves >= p->budget)
			return "the move budget is spent";
		r = pick_region(p, h, gap, res->after[h] - target * p->mean, minimal);
		if (r < 0)
			return hottest_region_of(p, h) > target * p->mean
				       ? "the floor is reached: one region alone is hotter than the "
					 "target allows (a region cannot be split)"
				       : "no single move lowers the hottest worker";
		move(p, (unsigned)r, c);
	}
}

/* LPT towards the mean, keeping regions home while home has room: the
 * assignment in `to` (n_regions). Returns how many regions it moves. */
static unsigned lpt(const struct planner *p, uint16_t *to)
{
	uint16_t order[PLAN_REGIONS];
	const struct plan_input *in = p->in;
	double acc[PLAN_WORKERS_MAX] = {0}, room = p->mean * 1.02;
	unsigned n = 0, moves = 0;

	for (unsigned r = 0; r < in->n_regions; r++) {
		to[r] = in->owner[r];
		if (in->load[r] > 0)
			order[n++] = (uint16_t)r;
	}
	/* insertion sort by load, heaviest first, ties by index: n <= 4096 */
	for (unsigned i = 1; i < n; i++) {
		uint16_t x = order[i];
		unsigned j = i;

		while (j > 0 && in->load[order[j - 1]] < in->load[x]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = x;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned r = order[i], home = in->owner[r], w = home;

		if (acc[home] + in->load[r] > room)
			w = coldest(acc, in->n_workers);
		to[r] = (uint16_t)w;
		acc[w] += in->load[r];
		moves += w != home;
	}
	return moves;
}

static void finish(struct plan_result *res, unsigned n)
{
	res->imbalance_after = rebalance_plan_imbalance(res->after, n);
	res->entropy_after = rebalance_plan_entropy(res->after, n);
}

static int check(const struct plan_input *in, struct plan_result *res)
{
	if (in->n_workers < 1 || in->n_workers > PLAN_WORKERS_MAX || in->n_regions < 1 ||
	    in->n_regions > PLAN_REGIONS || in->owner == NULL || in->load == NULL) {
		res->why = "bad input: 1..256 workers and 1..4096 regions are needed";
		return -EINVAL;
	}
	for (unsigned r = 0; r < in->n_regions; r++)
		if (in->owner[r] >= in->n_workers || !(in->load[r] >= 0) || isinf(in->load[r])) {
			res->why = "bad input: an owner is not a worker, or a load is not a "
				   "finite number >= 0";
			return -EINVAL;
		}
	return 0;
}

int rebalance_plan(const struct plan_input *in, struct plan_result *res)
{
	struct planner p;
	uint16_t to[PLAN_REGIONS];
	unsigned n = in->n_workers, dflt;
	double sum = 0, top = 0;

	memset(res, 0, sizeof(*res));
	if (check(in, res) != 0)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.in = in;
	p.res = res;
	memcpy(p.owner, in->owner, in->n_regions * sizeof(in->owner[0]));
	for (unsigned r = 0; r < in->n_regions; r++) {
		res->before[in->owner[r]] += in->load[r];
		sum += in->load[r];
		if (in->load[r] > top)
			top = in->load[r];
	}
	memcpy(res->after, res->before, sizeof(res->before));
	p.mean = sum / n;
	res->imbalance_before = rebalance_plan_imbalance(res->before, n);
	res->entropy_before = rebalance_plan_entropy(res->before, n);
	res->floor = sum > 0 && top / p.mean > 1 ? top / p.mean : 1;
	dflt = in->mode == REBALANCE_AGGRESSIVE ? PLAN_AGGRESSIVE_MOVES : PLAN_MODERATE_MOVES;
	p.budget = in->max_moves == 0 ? dflt : in->max_moves;
	if (p.budget > PLAN_MOVES_MAX)
		p.budget = PLAN_MOVES_MAX;
	res->target = in->mode == REBALANCE_MINIMAL	? (in->limit > 1 ? in->limit : 1.5)
		      : in->mode == REBALANCE_MODERATE ? PLAN_MODERATE_TARGET
						       : 1.0;
	if (n < 2 || sum <= 0) {
		res->why = n < 2 ? "one worker: nothing to balance" : "no load measured";
		finish(res, n);
		return 0;
	}
	if (in->mode == REBALANCE_AGGRESSIVE && lpt(&p, to) <= p.budget) {
		double lpt_after[PLAN_WORKERS_MAX] = {0};

		for (unsigned r = 0; r < in->n_regions; r++)
			lpt_after[to[r]] += in->load[r];
		if (rebalance_plan_imbalance(lpt_after, n) < res->imbalance_before)
			for (unsigned r = 0; r < in->n_regions; r++)
				if (to[r] != in->owner[r])
					move(&p, r, to[r]);
	}
	res->why = greedy(&p, res->target, in->mode == REBALANCE_MINIMAL);
	finish(res, n);
	return 0;
}
