/* region_map_store.c - DIR/configuration/shard_topology.json (see
 * region_map_store.h). */
#include "region_map_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "region_map.h"

int region_map_store_save(const struct datadir *dd, const struct region_map_state *s, char *err,
			  size_t err_len)
{
	json_t *owner = json_array(), *epoch = json_array(), *moved = json_array();
	json_t *o;
	int rc;

	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		const struct region_record *x = &s->r[r];

		json_array_append_new(owner, json_integer(x->owner));
		json_array_append_new(epoch, json_integer(x->epoch));
		if (x->moved_generation != 0)
			json_array_append_new(
				moved, json_pack("[i, i, I, I, I]", (int)r, (int)x->moved_worker,
						 (json_int_t)x->moved_generation,
						 (json_int_t)x->moved_first_lsn,
						 (json_int_t)x->moved_last_lsn));
	}
	o = json_pack("{s:i, s:i, s:I, s:o, s:o, s:o}", "format", REGION_MAP_STORE_FORMAT, "workers",
		      (int)s->n_workers, "map_epoch", (json_int_t)s->map_epoch, "owner", owner,
		      "epoch", epoch, "moved", moved);
	if (o == NULL)
		return -ENOMEM;
	rc = datadir_write_json(dd, REGION_MAP_STORE_FILE, o, err, err_len);
	json_decref(o);
	return rc;
}

/* An integer array of WE_REGIONS entries, each in 0..max. */
static int load_column(const json_t *root, const char *path, const char *key, uint32_t max,
		       uint16_t *out, size_t stride, char *err, size_t err_len)
{
	const json_t *a = json_object_get(root, key);

	if (!json_is_array(a) || json_array_size(a) != WE_REGIONS) {
		snprintf(err, err_len, "%s: key %s: expected an array of %u integers", path, key,
			 WE_REGIONS);
		return -EINVAL;
	}
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		const json_t *v = json_array_get(a, r);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)max) {
			snprintf(err, err_len, "%s: %s[%u]: expected an integer 0..%u", path, key, r,
				 max);
			return -EINVAL;
		}
		*(uint16_t *)((uint8_t *)out + (size_t)r * stride) = (uint16_t)json_integer_value(v);
	}
	return 0;
}

static int load_moved(const json_t *root, const char *path, struct region_map_state *s,
		      char *err, size_t err_len)
{
	const json_t *a = json_object_get(root, "moved"), *e;
	size_t i;

	if (!json_is_array(a)) {
		snprintf(err, err_len, "%s: key moved: expected an array", path);
		return -EINVAL;
	}
	json_array_foreach(a, i, e) {
		json_int_t v[5];
		bool ok = json_is_array(e) && json_array_size(e) == 5;

		for (size_t k = 0; ok && k < 5; k++) {
			ok = json_is_integer(json_array_get(e, k)) &&
			     (v[k] = json_integer_value(json_array_get(e, k))) >= 0;
		}
		if (!ok || v[0] >= WE_REGIONS || v[1] > UINT16_MAX || v[2] == 0 || v[3] > v[4]) {
			snprintf(err, err_len,
				 "%s: moved[%zu]: expected [region < %u, worker, generation >= 1, "
				 "first LSN, last LSN >= first]",
				 path, i, WE_REGIONS);
			return -EINVAL;
		}
		s->r[v[0]].moved_worker = (uint16_t)v[1];
		s->r[v[0]].moved_generation = (uint64_t)v[2];
		s->r[v[0]].moved_first_lsn = (uint64_t)v[3];
		s->r[v[0]].moved_last_lsn = (uint64_t)v[4];
	}
	return 0;
}

int region_map_store_load(const char *dir_path, struct region_map_state *s, bool *found,
			  char *err, size_t err_len)
{
	char path[DISK_PATH_MAX + 64];
	json_error_t je;
	json_t *root, *v;
	int rc = -EINVAL;

	memset(s, 0, sizeof(*s));
	*found = false;
	snprintf(path, sizeof(path), "%s/%s", dir_path, REGION_MAP_STORE_FILE);
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? 0 : -errno;
	root = json_load_file(path, 0, &je);
	if (root == NULL) {
		snprintf(err, err_len, "%s: line %d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	if (!json_is_integer(v = json_object_get(root, "format")) ||
	    json_integer_value(v) != REGION_MAP_STORE_FORMAT)
		snprintf(err, err_len, "%s: key format: expected %d", path, REGION_MAP_STORE_FORMAT);
	else if (!json_is_integer(v = json_object_get(root, "workers")) ||
		 json_integer_value(v) < 1 || json_integer_value(v) > REGION_MAP_WORKER_MASK)
		snprintf(err, err_len, "%s: key workers: expected an integer >= 1", path);
	else if (!json_is_integer(json_object_get(root, "map_epoch")) ||
		 json_integer_value(json_object_get(root, "map_epoch")) < 0)
		snprintf(err, err_len, "%s: key map_epoch: expected an integer >= 0", path);
	else {
		s->n_workers = (uint16_t)json_integer_value(v);
		s->map_epoch = (uint64_t)json_integer_value(json_object_get(root, "map_epoch"));
		rc = load_column(root, path, "owner", s->n_workers - 1u, &s->r[0].owner,
				 sizeof(s->r[0]), err, err_len);
		if (rc == 0)
			rc = load_column(root, path, "epoch", UINT16_MAX, &s->r[0].epoch,
					 sizeof(s->r[0]), err, err_len);
		if (rc == 0)
			rc = load_moved(root, path, s, err, err_len);
	}
	json_decref(root);
	if (rc == 0)
		*found = true;
	return rc;
}
