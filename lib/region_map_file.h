/* region_map_file.h - a region map saved from the data plane's `regions`
 * answer, loaded by warp-client and warp-blaster (--region-map FILE).
 *
 *   region_map_file_parse  region_map_file.c  JSON text -> struct region_map, checked
 *   region_map_file_load   region_map_file.c  the same from a file
 *
 * The file holds the object the data plane (or warp-control) answers to
 * `regions`: {"workers": N, "regions": 4096, "udp_port_base": P,
 * "owner": [4096 worker indices]}; the whole answer {"ok": true, "result":
 * {...}} is accepted too. Every field is checked: a map that names a worker
 * >= workers, or has the wrong number of regions, is refused with a
 * sentence naming the field, never half loaded.
 */
#ifndef REGION_MAP_FILE_H
#define REGION_MAP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "region_map.h"
#include "we_compiler.h"

#define REGION_MAP_FILE_MAX_BYTES (1u << 20) /* 4096 owners fit in ~30 KiB */

/* 0 and *map, *udp_port_base filled; or -EINVAL and a sentence in err
 * (*map untouched). */
int region_map_file_parse(const char *text, size_t len, struct region_map *map,
			  uint16_t *udp_port_base, char *err, size_t err_len) we_must_check;

/* region_map_file_parse() of the file at path; -EINVAL also when it cannot
 * be read ("PATH: reason"). */
int region_map_file_load(const char *path, struct region_map *map, uint16_t *udp_port_base,
			 char *err, size_t err_len) we_must_check;

#endif
