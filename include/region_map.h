/* region_map.h - which worker owns which region of the key space (no DPDK).
 *
 * Ownership is data read on the request path, never a compile-time formula,
 * so a region can move while requests flow: each entry is a 16-bit worker
 * index written with a single relaxed atomic store and read with a relaxed
 * atomic load.
 *
 * While a region moves in (region_move.h), its entry carries the new
 * owner's index with REGION_MAP_IMPORTING set: every worker sends its
 * requests to the new owner, which holds them until its copy of the region
 * is complete. region_map_owner() gives the worker either way;
 * region_map_entry() the raw entry, for the request path's routing.
 *
 * epoch[r] counts the times region r changed owner: each log record
 * carries its region's epoch, so recovery can tell an old owner's records
 * from the new owner's (wal_record.h). map_epoch counts every move.
 *
 * The default map deals regions round-robin: region r -> worker r % n.
 * Clients that have not learnt the live map use the same default.
 */
#ifndef REGION_MAP_H
#define REGION_MAP_H

#include <stdint.h>

#include "keyhash.h"

#define REGION_MAP_IMPORTING 0x8000u
#define REGION_MAP_WORKER_MASK 0x7fffu

struct region_map {
	uint16_t owner[WE_REGIONS];
	uint16_t epoch[WE_REGIONS];
	uint16_t n_workers;
	uint64_t map_epoch;
};

static inline void region_map_init_default(struct region_map *m, uint16_t n_workers)
{
	m->n_workers = n_workers;
	m->map_epoch = 0;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		m->owner[r] = (uint16_t)(r % n_workers);
		m->epoch[r] = 0;
	}
}

/* The raw entry: a worker index, maybe with REGION_MAP_IMPORTING. */
static inline uint16_t region_map_entry(const struct region_map *m, uint32_t region)
{
	return __atomic_load_n(&m->owner[region & WE_REGION_MASK], __ATOMIC_RELAXED);
}

/* The worker that owns (or is taking over) a region. */
static inline uint16_t region_map_owner(const struct region_map *m, uint32_t region)
{
	return region_map_entry(m, region) & REGION_MAP_WORKER_MASK;
}

static inline void region_map_set_entry(struct region_map *m, uint32_t region, uint16_t entry)
{
	__atomic_store_n(&m->owner[region & WE_REGION_MASK], entry, __ATOMIC_RELEASE);
}

static inline void region_map_set_owner(struct region_map *m, uint32_t region, uint16_t worker)
{
	region_map_set_entry(m, region, worker);
}

static inline uint16_t region_map_epoch(const struct region_map *m, uint32_t region)
{
	return __atomic_load_n(&m->epoch[region & WE_REGION_MASK], __ATOMIC_RELAXED);
}

/* The worker that owns a key's hash under map m. */
static inline uint16_t region_map_owner_of_hash(const struct region_map *m, uint64_t hash)
{
	return region_map_owner(m, keyhash_region(hash));
}

#endif
