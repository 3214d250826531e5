/* region_map_file.c - load a saved `regions` answer (see region_map_file.h).
 *
 * DESIGN: the map is built in a local copy and copied out only when every
 * owner has been checked, so a bad file leaves the caller's map as it was.
 * Messages name the file's field and what it should have been.
 */
#include "region_map_file.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rmf_fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rmf_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* obj[name] as an integer in [min, max]. */
static int rmf_int(const json_t *obj, const char *name, json_int_t min, json_int_t max,
		   json_int_t *out, char *err, size_t err_len)
{
	const json_t *v = json_object_get(obj, name);

	if (v == NULL)
		return rmf_fail(err, err_len, "no \"%s\" field", name);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return rmf_fail(err, err_len, "\"%s\" must be an integer in %lld..%lld", name,
				(long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int rmf_build(const json_t *obj, struct region_map *map, uint16_t *udp_port_base,
		     char *err, size_t err_len)
{
	struct region_map m;
	const json_t *owner;
	json_int_t workers = 0, regions = 0, port = 0; /* set by rmf_int; zero keeps -O3 quiet */
	size_t i;

	if (rmf_int(obj, "workers", 1, UINT16_MAX, &workers, err, err_len) ||
	    rmf_int(obj, "regions", 1, INT32_MAX, &regions, err, err_len) ||
	    rmf_int(obj, "udp_port_base", 1, 65535, &port, err, err_len))
		return -EINVAL;
	if (regions != WE_REGIONS)
		return rmf_fail(err, err_len, "\"regions\" is %lld; this build has %u regions",
				(long long)regions, WE_REGIONS);
	if (port + workers - 1 > 65535)
		return rmf_fail(err, err_len,
				"\"udp_port_base\" %lld with %lld workers runs past port 65535",
				(long long)port, (long long)workers);
	owner = json_object_get(obj, "owner");
	if (!json_is_array(owner))
		return rmf_fail(err, err_len, "no \"owner\" array");
	if (json_array_size(owner) != WE_REGIONS)
		return rmf_fail(err, err_len, "\"owner\" has %zu entries, not %u (one per region)",
				json_array_size(owner), WE_REGIONS);
	m.n_workers = (uint16_t)workers;
	for (i = 0; i < WE_REGIONS; i++) {
		const json_t *o = json_array_get(owner, i);

		if (!json_is_integer(o) || json_integer_value(o) < 0 ||
		    json_integer_value(o) >= workers)
			return rmf_fail(err, err_len,
					"\"owner\"[%zu] must be a worker index in 0..%lld", i,
					(long long)workers - 1);
		m.owner[i] = (uint16_t)json_integer_value(o);
	}
	memcpy(map, &m, sizeof(m));
	*udp_port_base = (uint16_t)port;
	return 0;
}

int region_map_file_parse(const char *text, size_t len, struct region_map *map,
			  uint16_t *udp_port_base, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *obj = root;
	int rc;

	if (root == NULL)
		return rmf_fail(err, err_len, "not JSON: %s (line %d)", jerr.text, jerr.line);
	if (json_is_object(root) && json_object_get(root, "result") != NULL)
		obj = json_object_get(root, "result"); /* the whole answer was saved */
	if (!json_is_object(obj))
		rc = rmf_fail(err, err_len, "not a JSON object");
	else
		rc = rmf_build(obj, map, udp_port_base, err, err_len);
	json_decref(root);
	return rc;
}

int region_map_file_load(const char *path, struct region_map *map, uint16_t *udp_port_base,
			 char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (f == NULL)
		return rmf_fail(err, err_len, "%s: %s", path, strerror(errno));
	buf = malloc(REGION_MAP_FILE_MAX_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		return rmf_fail(err, err_len, "%s: out of memory", path);
	}
	n = fread(buf, 1, REGION_MAP_FILE_MAX_BYTES + 1, f);
	if (ferror(f))
		rc = rmf_fail(err, err_len, "%s: cannot read it", path);
	else if (n > REGION_MAP_FILE_MAX_BYTES)
		rc = rmf_fail(err, err_len, "%s: larger than %u bytes", path,
			      REGION_MAP_FILE_MAX_BYTES);
	else {
		char why[200];

		rc = region_map_file_parse(buf, n, map, udp_port_base, why, sizeof(why));
		if (rc != 0)
			rmf_fail(err, err_len, "%s: %s", path, why);
	}
	fclose(f);
	free(buf);
	return rc;
}
