/* region_map.h - which worker owns which region of the key space (no DPDK).
 *
 * Ownership is data read on the request path, never a compile-time formula,
 * so the control plane can later move a region while requests flow: each
 * entry is a 16-bit worker index written with a single relaxed atomic store
 * and read with a relaxed atomic load.
 *
 * The default map deals regions round-robin: region r -> worker r % n.
 * Clients that have not learnt the live map use the same default.
 */
#ifndef REGION_MAP_H
#define REGION_MAP_H

#include <stdint.h>

#include "keyhash.h"

struct region_map {
	uint16_t owner[WE_REGIONS];
	uint16_t n_workers;
};

static inline void region_map_init_default(struct region_map *m, uint16_t n_workers)
{
	m->n_workers = n_workers;
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		m->owner[r] = (uint16_t)(r % n_workers);
}

static inline uint16_t region_map_owner(const struct region_map *m, uint32_t region)
{
	return __atomic_load_n(&m->owner[region & WE_REGION_MASK], __ATOMIC_RELAXED);
}

static inline void region_map_set_owner(struct region_map *m, uint32_t region, uint16_t worker)
{
	__atomic_store_n(&m->owner[region & WE_REGION_MASK], worker, __ATOMIC_RELAXED);
}

/* The worker that owns a key's hash under map m. */
static inline uint16_t region_map_owner_of_hash(const struct region_map *m, uint64_t hash)
{
	return region_map_owner(m, keyhash_region(hash));
}

#endif
