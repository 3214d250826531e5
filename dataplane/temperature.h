/* temperature.h - an item's access temperature in 16 bits (no DPDK).
 *
 *   temperature_touch   inline  an access: cool it to now, then warm it (probably)
 *   temperature_read    inline  how warm it is now (cooling applied, nothing stored)
 *   temperature_new     inline  a new item, or an overwrite keeping the old warmth
 *
 * The specification's event horizon cache moves items between tiers by how
 * hot they are; the item header keeps 16 bits for it (arena.h). They hold a
 * probabilistic access counter and the coarse time it was last brought up to
 * date, so nothing ever sweeps all items to cool them:
 *
 *   bits 0-7   level: a Morris counter; an access raises it by one with
 *              probability 1 / (1 + (level - TEMP_LEVEL_NEW) * TEMP_LOG_FACTOR)
 *              (1 below the new-item level), so n accesses without cooling
 *              reach about TEMP_LEVEL_NEW + sqrt(2 n / TEMP_LOG_FACTOR)
 *   bits 8-15  epoch: the cooling clock (shard-wide, coarse ticks, mod 256)
 *              when the level was last cooled
 *
 * Cooling (the specification's Hawking radiation): the level drops by one
 * for every TEMP_COOL_TICKS ticks since the stored epoch, applied lazily when
 * the item is touched or read. An epoch difference is taken mod 256, so an
 * item untouched for more than 255 ticks reads as if it were younger: the
 * demotion scan (which reads every item it passes) refreshes the epochs of
 * cold items (temperature_read + temperature_store), so that never happens
 * for an item the scan sees at least every 255 ticks. This is the scheme of
 * Redis's LFU (an 8-bit counter, a 16-bit minute clock), with a clock the
 * shard ticks.
 *
 * The random draw comes from the caller (one xorshift per worker), so the
 * model is deterministic under test.
 */
#ifndef TEMPERATURE_H
#define TEMPERATURE_H

#include <stdint.h>

#define TEMP_LEVEL_MAX 255u
#define TEMP_LEVEL_NEW 5u   /* a new item starts warm enough not to be demoted at once */
/* Larger: slower growth (Redis's lfu-log-factor, 10 there). With a factor F
 * and one level of cooling a tick, an item touched n times a tick settles
 * near TEMP_LEVEL_NEW + (n - 1) / F: 2 keeps items a few times apart in use
 * a few levels apart, where 10 would put most of a Zipf key space within one
 * level of TEMP_LEVEL_NEW. */
#define TEMP_LOG_FACTOR 2u
#define TEMP_COOL_TICKS 1u  /* ticks per level of cooling */

static inline uint8_t temperature_level(uint16_t t)
{
	return (uint8_t)(t & 0xff);
}

static inline uint8_t temperature_epoch(uint16_t t)
{
	return (uint8_t)(t >> 8);
}

static inline uint16_t temperature_make(uint8_t level, uint8_t epoch)
{
	return (uint16_t)((unsigned)epoch << 8 | level);
}

/* The level of t at shard tick `now`, cooled but not stored. */
static inline uint8_t temperature_read(uint16_t t, uint32_t now)
{
	uint8_t elapsed = (uint8_t)((uint8_t)now - temperature_epoch(t));
	unsigned drop = elapsed / TEMP_COOL_TICKS;
	uint8_t level = temperature_level(t);

	return drop >= level ? 0 : (uint8_t)(level - drop);
}

/* t cooled to `now` and stored with now's epoch (what the scan writes back). */
static inline uint16_t temperature_store(uint16_t t, uint32_t now)
{
	return temperature_make(temperature_read(t, now), (uint8_t)now);
}

/* An access at tick now; r is a uniform 32-bit random number. */
static inline uint16_t temperature_touch(uint16_t t, uint32_t now, uint32_t r)
{
	uint8_t level = temperature_read(t, now);

	if (level < TEMP_LEVEL_MAX) {
		uint32_t base = level > TEMP_LEVEL_NEW ? level - TEMP_LEVEL_NEW : 0;

		/* Raise with probability 1 / (1 + base * factor): r below
		 * 2^32 / (1 + base * factor). */
		if ((uint64_t)r * (1u + base * TEMP_LOG_FACTOR) < (UINT64_C(1) << 32))
			level++;
	}
	return temperature_make(level, (uint8_t)now);
}

/* A PUT: a new item starts at TEMP_LEVEL_NEW; an overwrite keeps the old
 * item's warmth (a hot key stays hot), and counts as an access. */
static inline uint16_t temperature_new(const uint16_t *old, uint32_t now, uint32_t r)
{
	if (old == 0)
		return temperature_make(TEMP_LEVEL_NEW, (uint8_t)now);
	return temperature_touch(*old, now, r);
}

#endif
