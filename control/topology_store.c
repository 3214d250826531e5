/* topology_store.c - network_graph.json written when due (see topology_store.h). */
#include "topology_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json_file.h"
#include "topology_json.h"

void topology_store_init(struct topology_store *st, const char *data_dir)
{
	memset(st, 0, sizeof(*st));
	if (data_dir != NULL && data_dir[0] != '\0')
		snprintf(st->dir, sizeof(st->dir), "%.400s/" TOPOLOGY_STORE_SUBDIR, data_dir);
}

bool topology_store_due(const struct topology_store *st, const struct topology *t, double now)
{
	if (st->dir[0] == '\0' || t->workers == 0)
		return false;
	if (!st->saved)
		return true;
	if (t->samples == st->saved_samples && t->version == st->saved_version)
		return false; /* nothing new to write */
	return t->version != st->saved_version || now - st->saved_at >= TOPOLOGY_STORE_PERIOD_S;
}

int topology_store_tick(struct topology_store *st, const struct topology *t, double now,
			char *err, size_t err_len)
{
	json_t *j;
	int rc;

	if (!topology_store_due(st, t, now))
		return 1;
	j = topology_to_json(t);
	if (j == NULL) {
		snprintf(err, err_len, "out of memory building the topology");
		return -ENOMEM;
	}
	rc = json_file_mkdirs(st->dir, err, err_len);
	if (rc == 0)
		rc = json_file_write_atomic(st->dir, TOPOLOGY_STORE_FILE, j, err, err_len);
	json_decref(j);
	/* a failure waits for the next period, as a success does */
	st->saved = true;
	st->saved_version = t->version;
	st->saved_samples = t->samples;
	st->saved_at = now;
	return rc;
}
