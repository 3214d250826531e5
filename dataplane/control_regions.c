/* control_regions.c - regions, region-load, hotkeys (see control_regions.h).
 *
 * Everything here reads what the workers publish: the shared region map,
 * their cumulative per-region sample counters (relaxed loads) and their
 * published top keys (a sequence-checked copy, access_sample.h).
 */
#include "control_regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_sample.h"

#define HOTKEYS_DEFAULT 20
#define HOTKEYS_MAX 256

json_t *control_cmd_regions(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len)
{
	json_t *owners = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		json_array_append_new(owners, json_integer(region_map_owner(st->map, r)));
	return json_pack("{s:i, s:i, s:i, s:o}", "workers", st->n_workers, "regions", WE_REGIONS,
			 "udp_port_base", st->cfg.port_base, "owner", owners);
}

json_t *control_cmd_region_load(struct dataplane *st, const json_t *req, double up, char *err,
				size_t len)
{
	json_t *owners = json_array(), *sampled = json_array();

	(void)req, (void)up, (void)err, (void)len;
	for (uint32_t r = 0; r < WE_REGIONS; r++) {
		uint64_t n = 0;

		/* A region's counts stay with the workers that counted them:
		 * after a move its old owner's count stops growing. */
		for (unsigned w = 0; w < st->n_workers; w++)
			n += access_sample_region(&st->workers[w]->access, r);
		json_array_append_new(owners, json_integer(region_map_owner(st->map, r)));
		json_array_append_new(sampled, json_integer((json_int_t)n));
	}
	return json_pack("{s:i, s:i, s:i, s:o, s:o}", "workers", st->n_workers, "regions",
			 WE_REGIONS, "sample_every", (int)st->setting[SETTING_ACCESS_SAMPLE_EVERY][0],
			 "owner", owners, "sampled", sampled);
}

/* The first bytes of a key as text: printable ASCII as is, others \xNN. */
static json_t *hotkeys_key_text(const struct topk_entry *e)
{
	size_t n = e->key_len < TOPK_KEY_MAX ? e->key_len : TOPK_KEY_MAX;
	char buf[TOPK_KEY_MAX * 4 + 1];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = e->key[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
	}
	buf[o] = 0;
	return json_string(buf);
}

static json_t *hotkeys_entries(const struct topk_entry *e, size_t n, uint64_t sampled)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:o, s:i, s:I, s:I, s:f}", "key", hotkeys_key_text(&e[i]),
				     "key_len", (int)e[i].key_len, "count", (json_int_t)e[i].count,
				     "error", (json_int_t)e[i].error, "share",
				     sampled != 0 ? (double)e[i].count / (double)sampled : 0.0));
	return a;
}

static int hotkeys_by_count(const void *a, const void *b)
{
	const struct topk_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

json_t *control_cmd_hotkeys(struct dataplane *st, const json_t *req, double up, char *err,
			    size_t len)
{
	const json_t *jn = json_object_get(req, "n");
	json_int_t n = HOTKEYS_DEFAULT;
	struct topk_entry *all;
	size_t n_all = 0;
	uint64_t sampled_all = 0;
	json_t *workers;

	(void)up;
	if (jn != NULL) {
		if (!json_is_integer(jn) || json_integer_value(jn) < 1 ||
		    json_integer_value(jn) > HOTKEYS_MAX) {
			snprintf(err, len, "hotkeys: \"n\" must be an integer 1..%d", HOTKEYS_MAX);
			return NULL;
		}
		n = json_integer_value(jn);
	}
	all = calloc((size_t)st->n_workers * ACCESS_PUBLISH_TOP, sizeof(*all));
	if (all == NULL) {
		snprintf(err, len, "hotkeys: out of memory");
		return NULL;
	}
	workers = json_array();
	for (unsigned w = 0; w < st->n_workers; w++) {
		uint64_t sampled;
		size_t k = access_sample_read(&st->workers[w]->access, all + n_all,
					      ACCESS_PUBLISH_TOP, &sampled);

		json_array_append_new(
			workers, json_pack("{s:i, s:I, s:o}", "worker", (int)w, "sampled",
					   (json_int_t)sampled,
					   "keys", hotkeys_entries(all + n_all,
								   k < (size_t)n ? k : (size_t)n,
								   sampled)));
		n_all += k;
		sampled_all += sampled;
	}
	/* A key's region has one owner, so the workers' lists are disjoint
	 * (but for a key counted by both sides of a move): the merged list is
	 * their union by count. */
	qsort(all, n_all, sizeof(*all), hotkeys_by_count);
	json_t *merged = json_pack("{s:I, s:o}", "sampled", (json_int_t)sampled_all, "keys",
				   hotkeys_entries(all, n_all < (size_t)n ? n_all : (size_t)n,
						   sampled_all));
	free(all);
	return json_pack("{s:i, s:f, s:o, s:o}", "sample_every",
			 (int)st->setting[SETTING_ACCESS_SAMPLE_EVERY][0], "window_s",
			 (double)ACCESS_WINDOW_NS_DEFAULT * 1e-9, "workers", workers, "merged",
			 merged);
}
