/* render_stats.c - stats and shards for people (see render.h).
 *
 * DESIGN: stats shows three things an operator looks at in turn: every
 * counter that moved (with --all every counter) with its total and rate,
 * one row per worker with the few counters that tell workers apart, and
 * the service-time histogram reduced to a mean and upper bounds of its
 * quantiles (the buckets are log2-wide, so a quantile is known only to
 * within its bucket: "p99 <= 4 us").
 */
#include "render.h"

#include <string.h>

#include "human.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void render_counters(struct render *r, struct table *t, const json_t *total,
			    const json_t *rates)
{
	const char *name;
	const json_t *v;

	json_object_foreach((json_t *)total, name, v) {
		bool bytes = ends_with(name, "_bytes");
		char a[HUMAN_BUF], b[HUMAN_BUF];
		double x = json_number_value(v), rate;

		if (!json_is_number(v) || (x == 0 && !r->all))
			continue;
		table_cell(t, "%s", name);
		table_cell(t, "%s", bytes ? human_bytes(x, a, sizeof(a)) : human_count(x, a, sizeof(a)));
		if (render_number(rates, name, &rate))
			table_cell(t, "%s", bytes ? human_byte_rate(rate, b, sizeof(b))
						 : human_rate(rate, b, sizeof(b)));
		else
			table_cell(t, "-");
		table_end_row(t);
	}
}

static double counter(const json_t *w, const char *name)
{
	double v = 0;

	render_number(w, name, &v);
	return v;
}

static void render_worker_rows(struct table *t, const json_t *workers)
{
	size_t i;
	const json_t *w;

	json_array_foreach(workers, i, w) {
		char a[HUMAN_BUF], b[HUMAN_BUF], c[HUMAN_BUF], d[HUMAN_BUF], e[HUMAN_BUF];
		double hb;
		double reqs = counter(w, "req_get") + counter(w, "req_put") +
			      counter(w, "req_delete") + counter(w, "req_ping");

		/* "worker" when the server says which; the position otherwise. */
		table_cell(t, "%lld", json_is_integer(json_object_get(w, "worker"))
				       ? (long long)json_integer_value(json_object_get(w, "worker"))
				       : (long long)i);
		table_cell(t, "%s", human_count(counter(w, "rx_packets"), a, sizeof(a)));
		table_cell(t, "%s", human_count(counter(w, "tx_packets"), b, sizeof(b)));
		table_cell(t, "%s", human_count(reqs, c, sizeof(c)));
		table_cell(t, "%s", human_count(counter(w, "iterations"), d, sizeof(d)));
		table_cell(t, "%s", render_number(w, "heartbeat_age_ms", &hb)
				       ? human_seconds(hb / 1000, e, sizeof(e)) : "-");
		table_end_row(t);
	}
}

/* Upper bound of the bucket holding the q-th sample; -1 if none. */
static double hist_quantile_le(const json_t *le, const json_t *counts, double total, double q)
{
	double seen = 0, want = q * total;
	size_t i;
	const json_t *c;

	json_array_foreach(counts, i, c) {
		seen += json_number_value(c);
		if (seen >= want && seen > 0)
			return json_number_value(json_array_get(le, i));
	}
	return -1;
}

static void render_service_time(struct render *r, const json_t *h)
{
	const json_t *le = json_object_get(h, "le"), *counts = json_object_get(h, "counts");
	char a[HUMAN_BUF], b[HUMAN_BUF], q[3][HUMAN_BUF];
	static const double qs[3] = {0.5, 0.9, 0.99};
	double n, sum;

	if (!json_is_array(le) || !json_is_array(counts) || !render_number(h, "count", &n) ||
	    !render_number(h, "sum", &sum) || json_array_size(le) != json_array_size(counts))
		return;
	fprintf(r->out, "\nservice time (loop iterations that found work): %s samples",
		human_count(n, a, sizeof(a)));
	if (n > 0) {
		for (int i = 0; i < 3; i++)
			human_seconds(hist_quantile_le(le, counts, n, qs[i]), q[i], sizeof(q[i]));
		fprintf(r->out, ", mean %s, p50 <= %s, p90 <= %s, p99 <= %s",
			human_seconds(sum / n, b, sizeof(b)), q[0], q[1], q[2]);
	}
	fputc('\n', r->out);
}

int render_stats(struct render *r, const json_t *res)
{
	static const struct table_col ccols[] = {
		{"counter", TABLE_LEFT}, {"total", TABLE_RIGHT}, {"rate", TABLE_RIGHT}};
	static const struct table_col wcols[] = {
		{"worker", TABLE_RIGHT},     {"rx packets", TABLE_RIGHT},
		{"tx packets", TABLE_RIGHT}, {"requests", TABLE_RIGHT},
		{"iterations", TABLE_RIGHT}, {"heartbeat age", TABLE_RIGHT}};
	const json_t *total = json_object_get(res, "total");
	/* "workers" from warp-control; the data plane's own stats say "per_worker". */
	const json_t *workers = json_is_array(json_object_get(res, "workers"))
					? json_object_get(res, "workers")
					: json_object_get(res, "per_worker");
	const json_t *hist = json_object_get(res, "service_time");
	char a[HUMAN_BUF];
	struct table t;
	double iv;
	int rc;

	if (!json_is_object(total))
		return render_fail(r, "stats: the answer has no \"total\" object");
	if (render_number(res, "interval_s", &iv))
		fprintf(r->out, "rates over the last %s\n\n", human_seconds(iv, a, sizeof(a)));
	table_init(&t, ccols, 3);
	render_counters(r, &t, total, json_object_get(res, "rates"));
	if (table_rows(&t) == 0) {
		table_free(&t);
		fprintf(r->out, "every counter is zero (--all lists them)\n");
	} else if ((rc = render_table(r, &t)) != 0) {
		return rc;
	}
	if (json_is_array(workers) && json_array_size(workers) > 0) {
		fputc('\n', r->out);
		table_init(&t, wcols, 6);
		render_worker_rows(&t, workers);
		if ((rc = render_table(r, &t)) != 0)
			return rc;
	}
	if (json_is_object(hist))
		render_service_time(r, hist);
	return 0;
}

int render_shards(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"worker", TABLE_RIGHT},  {"items", TABLE_RIGHT},     {"capacity", TABLE_RIGHT},
		{"memory used", TABLE_RIGHT}, {"memory", TABLE_RIGHT}, {"used", TABLE_RIGHT},
		{"in pieces", TABLE_RIGHT}, {"regions", TABLE_RIGHT}, {"requests", TABLE_RIGHT},  {"load share", TABLE_RIGHT},
		{"raw/lz4/hc/disk", TABLE_RIGHT}};
	const json_t *s;
	struct table t;
	size_t i;

	if (!json_is_array(res))
		return render_fail(r, "shards: the answer is not an array");
	table_init(&t, cols, 11);
	json_array_foreach(res, i, s) {
		char b[10][HUMAN_BUF];
		/* items per tier: the stats' tiers.<tier>.items */
		const json_t *tiers = json_object_get(s, "tiers");
		double raw = 0, lz4 = 0, hc = 0, disk = 0;
		bool has_tiers =
			json_is_object(tiers) &&
			render_number(json_object_get(tiers, "event_horizon"), "items", &raw) &&
			render_number(json_object_get(tiers, "photon_sphere"), "items", &lz4) &&
			render_number(json_object_get(tiers, "deep_cache"), "items", &hc);
		double items = 0, cap = 0, used = 0, mem = 0, regions = 0, rps = 0, share = 0;
		bool has_cap = render_number(s, "capacity_items", &cap);
		bool has_used = render_number(s, "memory_used_bytes", &used);
		bool has_mem = render_number(s, "memory_bytes", &mem);
		/* free bytes in blocks too small for an item: compaction's work */
		double pieces = 0;
		bool has_pieces = render_number(s, "memory_free_in_pieces_bytes", &pieces);
		bool has_rps = render_number(s, "requests_per_s", &rps);
		bool has_share = render_number(s, "load_share", &share);

		if (!json_is_object(s) || !render_number(s, "items", &items)) {
			table_free(&t);
			return render_fail(r, "shards: entry %zu has no \"items\"", i);
		}
		render_number(s, "regions", &regions);
		table_cell(&t, "%s", render_value(json_object_get(s, "worker"), b[0], sizeof(b[0])));
		table_cell(&t, "%s", human_count(items, b[1], sizeof(b[1])));
		table_cell(&t, "%s", has_cap ? human_count(cap, b[2], sizeof(b[2])) : "-");
		table_cell(&t, "%s", has_used ? human_bytes(used, b[3], sizeof(b[3])) : "-");
		table_cell(&t, "%s", has_mem ? human_bytes(mem, b[4], sizeof(b[4])) : "-");
		table_cell(&t, "%s", has_used && has_mem && mem > 0
				       ? human_percent(used / mem, b[5], sizeof(b[5])) : "-");
		table_cell(&t, "%s", has_pieces ? human_bytes(pieces, b[9], sizeof(b[9])) : "-");
		table_cell(&t, "%.0f", regions); /* 4096 at most: exact */
		table_cell(&t, "%s", has_rps ? human_rate(rps, b[7], sizeof(b[7])) : "-");
		table_cell(&t, "%s", has_share ? human_percent(share, b[8], sizeof(b[8])) : "-");
		/* (a data plane before the disk tier has no singularity: 0) */
		render_number(json_object_get(tiers, "singularity"), "items", &disk);
		if (has_tiers)
			table_cell(&t, "%.0f/%.0f/%.0f/%.0f", raw, lz4, hc, disk);
		else
			table_cell(&t, "-");
		table_end_row(&t);
	}
	return render_table(r, &t);
}
