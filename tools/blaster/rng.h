/* rng.h - the blaster's seeded pseudo-random generator (no DPDK, header only).
 *
 * DESIGN: xoshiro256** (Blackman and Vigna) for draws, seeded through
 * splitmix64 so any 64-bit seed, 0 included, gives a well-mixed state. It is
 * fast (a handful of ALU ops), has a 2^256 - 1 period and passes BigCrush,
 * which is all a load generator needs; it is not cryptographic. Everything
 * random in the blaster (keys, ops, inter-arrival gaps) draws from one of
 * these, each stream seeded from the run seed and a fixed stream number, so a
 * run repeats exactly under the same --seed.
 */
#ifndef BLASTER_RNG_H
#define BLASTER_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* One step of splitmix64: advances *x and returns a mixed 64-bit value. Also
 * used on its own as a cheap stateless hash of an integer. */
static inline uint64_t rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A 64-bit mix of v (one splitmix64 step from state v). */
static inline uint64_t rng_mix64(uint64_t v)
{
	return rng_splitmix64(&v);
}

/* Seed stream `stream` of run seed `seed`; streams of one seed are unrelated. */
static inline void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ rng_mix64(stream + 0x5851f42d4c957f2dull);

	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&x);
}

static inline uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double rng_uniform01(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire's
 * multiply-shift with rejection of the few biased low products). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		uint64_t threshold = -n % n;

		while (low < threshold) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

#endif
