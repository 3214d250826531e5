/* render_balance.c - hotkeys, entropy, move-region, move-status and
 * rebalance for people (see render.h).
 */
#include "render.h"

#include <math.h>
#include <string.h>

#include "human.h"

static const struct table_col kv_cols[] = {{NULL, TABLE_LEFT}, {NULL, TABLE_LEFT}};

static void kv(struct table *t, const char *what, const char *value)
{
	table_cell(t, "%s", what);
	table_cell(t, "%s", value);
	table_end_row(t);
}

/* obj[key] with fmt ("%.3f"), or "-". */
static const char *fixed(const json_t *obj, const char *key, const char *fmt, char *buf,
			 size_t len)
{
	double v;

	if (!render_number(obj, key, &v))
		return "-";
	snprintf(buf, len, fmt, v);
	return buf;
}

static const char *percent(const json_t *obj, const char *key, char *buf, size_t len)
{
	double v;

	return render_number(obj, key, &v) ? human_percent(v, buf, len) : "-";
}

/* One table of hot keys: rank, key, share, count, error bound. */
static int key_table(struct render *r, const json_t *keys)
{
	static const struct table_col cols[] = {{"rank", TABLE_RIGHT},	{"key", TABLE_LEFT},
						{"share", TABLE_RIGHT}, {"count", TABLE_RIGHT},
						{"error", TABLE_RIGHT}};
	char s[HUMAN_BUF], c[32], e[32];
	struct table t;
	const json_t *k;
	size_t i;

	if (!json_is_array(keys))
		return render_fail(r, "hotkeys: a \"keys\" list is missing");
	table_init(&t, cols, 5);
	json_array_foreach(keys, i, k) {
		table_cell(&t, "%zu", i + 1);
		table_cell(&t, "%s", render_string(k, "key", "?"));
		table_cell(&t, "%s", percent(k, "share", s, sizeof(s)));
		table_cell(&t, "%s", render_value(json_object_get(k, "count"), c, sizeof(c)));
		table_cell(&t, "<= %s", render_value(json_object_get(k, "error"), e, sizeof(e)));
		table_end_row(&t);
	}
	return render_table(r, &t);
}

int render_hotkeys(struct render *r, const json_t *res)
{
	const json_t *merged = json_object_get(res, "merged"), *w;
	char a[32], b[32], c[32];
	size_t i;
	int rc;

	if (!json_is_object(merged))
		return render_fail(r, "hotkeys: the answer has no \"merged\" object");
	fprintf(r->out, "merged: %s sampled (1 of every %s requests), window %s s\n",
		render_value(json_object_get(merged, "sampled"), a, sizeof(a)),
		render_value(json_object_get(res, "sample_every"), b, sizeof(b)),
		render_value(json_object_get(res, "window_s"), c, sizeof(c)));
	rc = key_table(r, json_object_get(merged, "keys"));
	if (rc != 0 || !r->per_worker)
		return rc;
	json_array_foreach(json_object_get(res, "workers"), i, w) {
		fprintf(r->out, "\nworker %s: %s sampled\n",
			render_value(json_object_get(w, "worker"), a, sizeof(a)),
			render_value(json_object_get(w, "sampled"), b, sizeof(b)));
		rc = key_table(r, json_object_get(w, "keys"));
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* "moderate, manual: done, 1.62 -> 1.08 max/mean (predicted 1.07)" */
static const char *rebalance_line(const json_t *rb, char *buf, size_t len)
{
	const json_t *m = json_object_get(rb, "measured"), *p = json_object_get(rb, "predicted");
	char a[32], b[32], c[32], d[32];

	if (json_object_get(rb, "id") == NULL)
		return "none yet";
	snprintf(buf, len, "%s %s, %s%s: %s, max/mean %s -> %s (predicted %s)",
		 render_string(rb, "mode", "?"), render_value(json_object_get(rb, "id"), a, sizeof(a)),
		 render_string(rb, "trigger", "?"),
		 json_is_true(json_object_get(rb, "dry_run")) ? ", dry run" : "",
		 render_string(rb, "state", "?"), fixed(m, "imbalance_before", "%.3f", b, sizeof(b)),
		 fixed(m, "imbalance_after", "%.3f", c, sizeof(c)),
		 fixed(p, "imbalance_after", "%.3f", d, sizeof(d)));
	return buf;
}

int render_entropy(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"worker", TABLE_RIGHT},  {"regions", TABLE_RIGHT}, {"requests", TABLE_RIGHT},
		{"share", TABLE_RIGHT},	  {"busy", TABLE_RIGHT},    {"key entropy", TABLE_RIGHT}};
	const json_t *st = json_object_get(res, "state"), *au = json_object_get(res, "auto");
	const json_t *demon = json_object_get(res, "demon"), *w;
	char a[HUMAN_BUF], b[64], c[64], line[256];
	struct table t;
	size_t i;
	int rc;

	if (!json_is_object(res) || json_object_get(res, "measured") == NULL)
		return render_fail(r, "entropy: the answer has no \"measured\"");
	table_init(&t, kv_cols, 2);
	if (!json_is_object(st)) {
		snprintf(line, sizeof(line), "not yet (%s measurements; two region-load samples "
			 "are needed)", render_value(json_object_get(res, "samples"), a, sizeof(a)));
		kv(&t, "measured", line);
	} else {
		double x;

		kv(&t, "requests", render_number(st, "requests_per_s", &x) ?
					   human_rate(x, a, sizeof(a)) : "-");
		snprintf(line, sizeof(line), "%s (threshold %s, %s samples above)",
			 fixed(st, "imbalance", "%.3f", a, sizeof(a)),
			 fixed(st, "threshold", "%.3g", b, sizeof(b)),
			 render_value(json_object_get(st, "over_threshold_samples"), c, sizeof(c)));
		kv(&t, "max/mean", line);
		kv(&t, "entropy, workers", fixed(st, "entropy_workers", "%.3f", a, sizeof(a)));
		kv(&t, "entropy, regions", fixed(st, "entropy_regions", "%.3f", a, sizeof(a)));
		kv(&t, "hot-key entropy", fixed(st, "hot_key_entropy_bits", "%.2f bits", a,
						sizeof(a)));
	}
	snprintf(line, sizeof(line), "%s (threshold %s, cooldown %s s)",
		 json_is_true(json_object_get(au, "on")) ? "on" : "off",
		 fixed(au, "threshold", "%.3g", a, sizeof(a)),
		 fixed(au, "cooldown_s", "%.0f", b, sizeof(b)));
	kv(&t, "automatic rebalance", line);
	kv(&t, "last rebalance", rebalance_line(json_object_get(res, "rebalance"), line,
						 sizeof(line)));
	snprintf(line, sizeof(line), "%s rebalances, %s moves, mean max/mean reduction %s",
		 fixed(demon, "rebalances", "%.0f", a, sizeof(a)),
		 fixed(demon, "moves_completed", "%.0f", b, sizeof(b)),
		 fixed(demon, "mean_imbalance_reduction", "%.3f", c, sizeof(c)));
	kv(&t, "totals", line);
	kv(&t, "files", render_string(res, "files", "none (no --data-dir)"));
	if (render_string(res, "error", NULL) != NULL)
		kv(&t, "error", render_string(res, "error", ""));
	rc = render_table(r, &t);
	if (rc != 0 || !json_is_object(st))
		return rc;
	fputc('\n', r->out);
	table_init(&t, cols, 6);
	json_array_foreach(json_object_get(st, "per_worker"), i, w) {
		double x;

		table_cell(&t, "%s", render_value(json_object_get(w, "worker"), a, sizeof(a)));
		table_cell(&t, "%s", render_value(json_object_get(w, "regions"), a, sizeof(a)));
		table_cell(&t, "%s", render_number(w, "requests_per_s", &x) ?
					     human_rate(x, a, sizeof(a)) : "-");
		table_cell(&t, "%s", percent(w, "load_share", a, sizeof(a)));
		table_cell(&t, "%s", percent(w, "busy_share", a, sizeof(a)));
		table_cell(&t, "%s", fixed(w, "hot_key_entropy_bits", "%.2f bits", a, sizeof(a)));
		table_end_row(&t);
	}
	return render_table(r, &t);
}

int render_move_region(struct render *r, const json_t *res)
{
	char id[32], reg[32], from[32], to[32], items[32];

	if (json_object_get(res, "move") == NULL)
		return render_fail(r, "move-region: the answer has no \"move\" id");
	fprintf(r->out, "move %s: region %s, worker %s -> %s: %s",
		render_value(json_object_get(res, "move"), id, sizeof(id)),
		render_value(json_object_get(res, "region"), reg, sizeof(reg)),
		render_value(json_object_get(res, "from"), from, sizeof(from)),
		render_value(json_object_get(res, "to"), to, sizeof(to)),
		render_string(res, "state", "?"));
	if (json_object_get(res, "items") != NULL)
		fprintf(r->out, ", %s items in %s ms",
			render_value(json_object_get(res, "items"), items, sizeof(items)),
			render_value(json_object_get(res, "time_ms"), id, sizeof(id)));
	fputc('\n', r->out);
	return 0;
}

int render_move_status(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"move", TABLE_RIGHT},	{"region", TABLE_RIGHT},  {"from", TABLE_RIGHT},
		{"to", TABLE_RIGHT},	{"items", TABLE_RIGHT},	  {"time", TABLE_RIGHT},
		{"result", TABLE_LEFT}};
	const json_t *act = json_object_get(res, "active"), *m;
	char a[64], b[64], c[32], d[32], line[160];
	struct table t;
	size_t i;
	double x;
	int rc;

	if (!json_is_object(res) || json_object_get(res, "queued") == NULL)
		return render_fail(r, "move-status: the answer has no \"queued\"");
	table_init(&t, kv_cols, 2);
	kv(&t, "epoch", render_value(json_object_get(res, "epoch"), a, sizeof(a)));
	kv(&t, "queued", render_value(json_object_get(res, "queued"), a, sizeof(a)));
	if (json_is_object(act)) {
		snprintf(line, sizeof(line), "move %s: region %s, %s -> %s, %s",
			 render_value(json_object_get(act, "move"), a, sizeof(a)),
			 render_value(json_object_get(act, "region"), b, sizeof(b)),
			 render_value(json_object_get(act, "from"), c, sizeof(c)),
			 render_value(json_object_get(act, "to"), d, sizeof(d)),
			 render_string(act, "state", "?"));
		kv(&t, "active", line);
	} else {
		kv(&t, "active", "none");
	}
	kv(&t, "completed", render_value(json_object_get(res, "completed"), a, sizeof(a)));
	kv(&t, "failed", render_value(json_object_get(res, "failed"), a, sizeof(a)));
	kv(&t, "last error", render_string(res, "last_error", "none"));
	rc = render_table(r, &t);
	if (rc != 0 || json_array_size(json_object_get(res, "last")) == 0)
		return rc;
	fputc('\n', r->out);
	table_init(&t, cols, 7);
	json_array_foreach(json_object_get(res, "last"), i, m) {
		static const char *const keys[] = {"move", "region", "from", "to", "items"};

		for (unsigned k = 0; k < 5; k++)
			table_cell(&t, "%s", render_value(json_object_get(m, keys[k]), a, sizeof(a)));
		table_cell(&t, "%s", render_number(m, "time_ms", &x) ?
					     human_seconds(x / 1000, a, sizeof(a)) : "-");
		table_cell(&t, "%s", json_is_true(json_object_get(m, "ok")) ? "ok" : "failed");
		table_end_row(&t);
	}
	return render_table(r, &t);
}

#define MOVES_SHOWN 20

int render_rebalance(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {{"", TABLE_LEFT},
						{"max/mean", TABLE_RIGHT},
						{"entropy (workers)", TABLE_RIGHT},
						{"entropy (regions)", TABLE_RIGHT}};
	static const struct table_col move_cols[] = {{"region", TABLE_RIGHT},
						     {"from", TABLE_RIGHT},
						     {"to", TABLE_RIGHT},
						     {"requests", TABLE_RIGHT}};
	const json_t *p = json_object_get(res, "predicted"), *m = json_object_get(res, "measured");
	const json_t *moves = json_object_get(res, "moves"), *mv;
	char a[64], b[64], c[64];
	struct table t;
	size_t i;
	double x;
	int rc;

	if (!json_is_object(p) || !json_is_array(moves))
		return render_fail(r, "rebalance: the answer has no \"predicted\" or \"moves\"");
	fprintf(r->out, "rebalance %s (%s, %s%s): %s\n",
		render_value(json_object_get(res, "id"), a, sizeof(a)),
		render_string(res, "mode", "?"), render_string(res, "trigger", "?"),
		json_is_true(json_object_get(res, "dry_run")) ? ", dry run" : "",
		render_string(res, "state", "?"));
	fprintf(r->out, "plan: %zu moves; %s\n", json_array_size(moves),
		render_string(p, "why", ""));
	fprintf(r->out, "target max/mean %s, floor %s (the hottest region alone)\n",
		fixed(p, "target", "%.3f", a, sizeof(a)), fixed(p, "floor", "%.3f", b, sizeof(b)));
	if (!json_is_true(json_object_get(res, "dry_run")))
		fprintf(r->out, "moves completed %s, failed %s, in %s\n",
			render_value(json_object_get(res, "moves_completed"), a, sizeof(a)),
			render_value(json_object_get(res, "moves_failed"), b, sizeof(b)),
			render_number(res, "duration_s", &x) ? human_seconds(x, c, sizeof(c)) : "-");
	if (render_string(res, "error", NULL) != NULL)
		fprintf(r->out, "error: %s\n", render_string(res, "error", ""));
	fputc('\n', r->out);
	table_init(&t, cols, 4);
	table_cell(&t, "measured before");
	table_cell(&t, "%s", fixed(m, "imbalance_before", "%.3f", a, sizeof(a)));
	table_cell(&t, "%s", fixed(m, "entropy_before", "%.3f", b, sizeof(b)));
	table_cell(&t, "%s", fixed(m, "entropy_regions_before", "%.3f", c, sizeof(c)));
	table_end_row(&t);
	table_cell(&t, "predicted after");
	table_cell(&t, "%s", fixed(p, "imbalance_after", "%.3f", a, sizeof(a)));
	table_cell(&t, "%s", fixed(p, "entropy_after", "%.3f", b, sizeof(b)));
	table_cell(&t, "-");
	table_end_row(&t);
	table_cell(&t, "measured after");
	table_cell(&t, "%s", fixed(m, "imbalance_after", "%.3f", a, sizeof(a)));
	table_cell(&t, "%s", fixed(m, "entropy_after", "%.3f", b, sizeof(b)));
	table_cell(&t, "%s", fixed(m, "entropy_regions_after", "%.3f", c, sizeof(c)));
	table_end_row(&t);
	rc = render_table(r, &t);
	if (rc != 0 || json_array_size(moves) == 0)
		return rc;
	fputc('\n', r->out);
	table_init(&t, move_cols, 4);
	json_array_foreach(moves, i, mv) {
		if (i == MOVES_SHOWN && !r->all)
			break;
		table_cell(&t, "%s", render_value(json_object_get(mv, "region"), a, sizeof(a)));
		table_cell(&t, "%s", render_value(json_object_get(mv, "from"), a, sizeof(a)));
		table_cell(&t, "%s", render_value(json_object_get(mv, "to"), a, sizeof(a)));
		table_cell(&t, "%s", render_number(mv, "load", &x) ? human_rate(x, a, sizeof(a))
								   : "-");
		table_end_row(&t);
	}
	rc = render_table(r, &t);
	if (rc == 0 && json_array_size(moves) > MOVES_SHOWN)
		fprintf(r->out, "... %zu more (--json lists them all)\n",
			json_array_size(moves) - MOVES_SHOWN);
	return rc;
}
