/* client_keyset.c - open-addressing set of 64-bit key hashes.
 *
 * DESIGN: linear probing in a power-of-two table at most half full, with
 * backward-shift deletion (no tombstones), so lookups stay short however
 * long a batch runs. The home slot comes from the hash's high bits: the low
 * 12 bits pick the region, and many keys in flight share a region.
 */
#include "client_keyset.h"

#include <errno.h>
#include <stdlib.h>

#include "we_assert.h"

static uint64_t stored(uint64_t hash)
{
	return hash ? hash : 1;
}

static uint32_t home(const struct client_keyset *s, uint64_t h)
{
	return (uint32_t)(h >> 32) & s->mask;
}

int client_keyset_init(struct client_keyset *s, uint32_t capacity)
{
	uint32_t n = 2;

	WE_ASSERT(capacity >= 1 && capacity <= (1u << 30));
	while (n < 2 * capacity)
		n <<= 1;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->mask = n - 1;
	s->count = 0;
	s->capacity = capacity;
	return 0;
}

void client_keyset_fini(struct client_keyset *s)
{
	free(s->slots);
	s->slots = NULL;
}

bool client_keyset_contains(const struct client_keyset *s, uint64_t hash)
{
	uint64_t h = stored(hash);

	for (uint32_t i = home(s, h);; i = (i + 1) & s->mask) {
		if (s->slots[i] == h)
			return true;
		if (s->slots[i] == 0)
			return false;
	}
}

void client_keyset_insert(struct client_keyset *s, uint64_t hash)
{
	uint64_t h = stored(hash);
	uint32_t i = home(s, h);

	WE_ASSERT(s->count < s->capacity);
	while (s->slots[i] != 0) {
		WE_ASSERT(s->slots[i] != h);
		i = (i + 1) & s->mask;
	}
	s->slots[i] = h;
	s->count++;
}

void client_keyset_remove(struct client_keyset *s, uint64_t hash)
{
	uint64_t h = stored(hash);
	uint32_t i = home(s, h);

	while (s->slots[i] != h) {
		WE_ASSERT(s->slots[i] != 0);
		i = (i + 1) & s->mask;
	}
	/* Backward shift: pull later members of the probe run into the hole
	 * unless their home lies cyclically in (hole, j]. */
	for (uint32_t j = (i + 1) & s->mask; s->slots[j] != 0; j = (j + 1) & s->mask) {
		uint32_t k = home(s, s->slots[j]);

		if (((j - k) & s->mask) >= ((j - i) & s->mask)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = 0;
	s->count--;
}

void client_keyset_clear(struct client_keyset *s)
{
	for (uint32_t i = 0; i <= s->mask; i++)
		s->slots[i] = 0;
	s->count = 0;
}
