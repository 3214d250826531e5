/* zipf.c - exact Zipf(theta) sampling by rejection-inversion.
 *
 * DESIGN: the popular Gray et al. / YCSB generator is rejection-free but only
 * approximates Zipf beyond the first two ranks (it inverts a continuous curve),
 * which shows up as percent-level errors at small N. We use the
 * rejection-inversion method of Hoermann and Derflinger (1996) instead: it is
 * exact for every N and theta >= 0 (theta >= 1 included), needs no zeta table
 * or O(N) setup, and accepts a candidate with high probability (the loop runs
 * about once per draw; on average well under 1.1 times), so a draw is O(1)
 * expected: one log1p and one exp, plus a log and an expm1 for the few
 * candidates the squeeze below does not accept at once.
 *
 * With h(x) = x^-theta (ranks k = 1..n, decreasing and convex) and H an
 * antiderivative of h, the hat is the continuous density h on [0.5, n + 0.5].
 * Draw u uniformly in (H(1.5) - h(1), H(n + 0.5)], x = H^-1(u), k = round(x).
 * The u that round to k cover [H(k - 0.5), H(k + 0.5)); accepting only
 * u >= H(k + 0.5) - h(k) keeps a slice of length exactly h(k) for every k
 * (convexity makes h(k) <= H(k + 0.5) - H(k - 0.5), so the slice fits), hence
 * P(k) is proportional to h(k): exact Zipf. For k = 1 the range starts at
 * H(1.5) - h(1), so rank 1 is always accepted.
 *
 * The squeeze: the accepted slice of rank k starts at x_k = H^-1(H(k + 0.5) -
 * h(k)), and k - x_k grows with k for this h, so every x with k - x <= 2 - x_2
 * is inside its slice and is accepted without evaluating H (the paper's
 * constant s).
 *
 * H(x) = (x^(1 - theta) - 1) / (1 - theta)  (log x when theta = 1) is computed
 * as expm1(t)/t * log x with t = (1 - theta) log x, and its inverse through
 * log1p(t)/t, so theta near or at 1 needs no special case and loses no digits.
 */
#include "zipf.h"

#include <errno.h>
#include <math.h>

/* expm1(x) / x, continuous at 0. */
static double zipf_expm1_div(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + x * 0.25));
}

/* log1p(x) / x, continuous at 0. */
static double zipf_log1p_div(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25));
}

/* h(x) = x^-theta */
static double zipf_h(const struct zipf *z, double x)
{
	return exp(-z->theta * log(x));
}

/* H(x), an antiderivative of h. */
static double zipf_big_h(const struct zipf *z, double x)
{
	double lx = log(x);

	return zipf_expm1_div((1.0 - z->theta) * lx) * lx;
}

/* H^-1(u). Below the range of H (possible for theta > 1, where H is bounded
 * above 0) t is clamped at -1, giving x = 0, which rounds to rank 1. */
static double zipf_big_h_inv(const struct zipf *z, double u)
{
	double t = u * (1.0 - z->theta);

	if (t < -1.0)
		t = -1.0;
	return exp(zipf_log1p_div(t) * u);
}

int zipf_init(struct zipf *z, uint64_t n, double theta)
{
	if (n == 0 || !(theta >= 0.0 && theta <= ZIPF_THETA_MAX))
		return -EINVAL;
	z->n = n;
	z->theta = theta;
	z->h_x1 = zipf_big_h(z, 1.5) - 1.0;
	z->h_n = zipf_big_h(z, (double)n + 0.5);
	z->squeeze = 2.0 - zipf_big_h_inv(z, zipf_big_h(z, 2.5) - zipf_h(z, 2.0));
	return 0;
}

uint64_t zipf_draw(const struct zipf *z, struct rng *r)
{
	for (;;) {
		/* u in (h_x1, h_n]: from the top down, so u never equals h_x1. */
		double u = z->h_n + rng_uniform01(r) * (z->h_x1 - z->h_n);
		double x = zipf_big_h_inv(z, u);
		double kd = floor(x + 0.5);
		uint64_t k;

		if (kd < 1.0)
			k = 1;
		else if (kd > (double)z->n)
			k = z->n;
		else
			k = (uint64_t)kd;
		if ((double)k - x <= z->squeeze ||
		    u >= zipf_big_h(z, (double)k + 0.5) - zipf_h(z, (double)k))
			return k - 1;
	}
}

double zipf_zeta(uint64_t n, double theta)
{
	double sum = 0.0;

	/* Smallest terms first: less rounding error for large n. */
	for (uint64_t k = n; k >= 1; k--)
		sum += pow((double)k, -theta);
	return sum;
}
