/* metrics_text.c - Prometheus text exposition (see metrics_text.h).
 *
 * DESIGN: one pass per metric family over the workers, so each family's
 * HELP and TYPE lines come once, before its samples, as the format wants.
 * Histogram buckets arrive per bucket and are summed into the cumulative
 * counts Prometheus expects, with the +Inf bucket equal to _count.
 */
#include "metrics_text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help_line(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *p = text; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static bool valid_name(const char *s)
{
	if (*s == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* The metric name of a counter: "warpengine_NAME_total", with "for_us"
 * written "for_this_host" (Prometheus' lint reads "_us" as microseconds). */
static void counter_metric(char *buf, size_t len, const char *name)
{
	const char *p = strstr(name, "for_us");

	if (p != NULL && (p[6] == 0 || p[6] == '_'))
		snprintf(buf, len, "warpengine_%.*sfor_this_host%s_total", (int)(p - name), name,
			 p + 6);
	else
		snprintf(buf, len, "warpengine_%s_total", name);
}

static void counters(FILE *f, const json_t *stats, metrics_help_fn help)
{
	const json_t *per = json_object_get(stats, "per_worker");
	const json_t *first = json_array_get(per, 0);
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)first, name, v) {
		char metric[160], text[200];
		const char *h = help != NULL ? help(name) : NULL;
		size_t i;
		json_t *w;

		if (!json_is_integer(v) || strcmp(name, "heartbeat_age_ms") == 0 ||
		    !valid_name(name))
			continue;
		counter_metric(metric, sizeof(metric), name);
		snprintf(text, sizeof(text), "data plane counter %s", name);
		help_line(f, metric, "counter", h != NULL ? h : text);
		json_array_foreach(per, i, w) {
			const json_t *c = json_object_get(w, name);

			if (json_is_integer(c))
				fprintf(f, "%s{worker=\"%zu\"} %lld\n", metric, i,
					(long long)json_integer_value(c));
		}
	}
}

/* One family (gauge or counter) from per-element fields of arr, times scale. */
static void per_worker(FILE *f, const json_t *arr, const char *field, double scale,
		       const char *metric, const char *type, const char *text)
{
	size_t i;
	json_t *w;
	bool any = false;

	json_array_foreach(arr, i, w) {
		const json_t *v = json_object_get(w, field);

		if (!json_is_number(v))
			continue;
		if (!any)
			help_line(f, metric, type, text);
		any = true;
		fprintf(f, "%s{worker=\"%zu\"} %.10g\n", metric, i, json_number_value(v) * scale);
	}
}

static void gauge(FILE *f, const json_t *arr, const char *field, double scale, const char *metric,
		  const char *text)
{
	per_worker(f, arr, field, scale, metric, "gauge", text);
}

/* The arena's free bytes in pieces (blocks under the tiers' 2 KiB room
 * size) per worker: the data plane's shards answer has the field, the
 * stats file's shards the two it is the difference of. */
static void free_in_pieces(FILE *f, const json_t *sh, bool new_shards)
{
	static const char metric[] = "warpengine_memory_free_in_pieces_bytes";
	size_t i;
	json_t *w;
	bool any = false;

	json_array_foreach(sh, i, w) {
		const json_t *all = json_object_get(w, "arena_free_bytes");
		const json_t *large = json_object_get(w, "arena_free_large_bytes");
		const json_t *v = json_object_get(w, "memory_free_in_pieces_bytes");
		double x;

		if (new_shards && json_is_number(v))
			x = json_number_value(v);
		else if (!new_shards && json_is_number(all) && json_is_number(large))
			x = json_number_value(all) - json_number_value(large);
		else
			continue;
		if (!any)
			help_line(f, metric, "gauge",
				  "free item memory in blocks too small to count as room (what "
				  "compaction gathers)");
		any = true;
		fprintf(f, "%s{worker=\"%zu\"} %.0f\n", metric, i, x);
	}
}

static void histogram(FILE *f, const json_t *stats)
{
	const json_t *per = json_object_get(stats, "per_worker");
	bool any = false;
	size_t i;
	json_t *w;

	json_array_foreach(per, i, w) {
		const json_t *h = json_object_get(w, "service_time");
		const json_t *le = json_object_get(h, "le"), *counts = json_object_get(h, "counts");
		const json_t *sum = json_object_get(h, "sum");
		double cum = 0;

		if (!json_is_array(le) || !json_is_array(counts) ||
		    json_array_size(le) != json_array_size(counts) || !json_is_number(sum))
			continue;
		if (!any)
			help_line(f, "warpengine_service_seconds", "histogram",
				  "time of worker loop iterations that found work");
		any = true;
		for (size_t b = 0; b < json_array_size(le); b++) {
			cum += json_number_value(json_array_get(counts, b));
			fprintf(f, "warpengine_service_seconds_bucket{worker=\"%zu\",le=\"%.9g\"} %.0f\n",
				i, json_number_value(json_array_get(le, b)), cum);
		}
		fprintf(f, "warpengine_service_seconds_bucket{worker=\"%zu\",le=\"+Inf\"} %.0f\n", i,
			cum);
		fprintf(f, "warpengine_service_seconds_sum{worker=\"%zu\"} %.10g\n", i,
			json_number_value(sum));
		fprintf(f, "warpengine_service_seconds_count{worker=\"%zu\"} %.0f\n", i, cum);
	}
}

/* The event horizon cache of each shard (stats' shards[i].tiers): gauges
 * of items and bytes per tier, counters of hits and demotions per tier and
 * of promotions. A data plane without tiers in its stats adds nothing. */
static void tiers(FILE *f, const json_t *stats)
{
	static const char *const names[] = {"event_horizon", "photon_sphere", "deep_cache",
					    "singularity"};
	struct family {
		const char *field, *metric, *type, *help;
	};
	static const struct family m[] = {
		{"items", "warpengine_tier_items", "gauge", "items in the tier (shard)"},
		{"stored_bytes", "warpengine_tier_stored_bytes", "gauge",
		 "value bytes as stored in the tier (compressed in LZ4 and LZ4-HC; records on disk"
		 " in the singularity)"},
		{"value_bytes", "warpengine_tier_value_bytes", "gauge",
		 "value bytes of the tier's items as the clients sent them"},
		{"hits", "warpengine_tier_hits_total", "counter", "GETs that found their item in the tier"},
		{"demotions", "warpengine_tier_demotions_total", "counter",
		 "items moved into the tier by demotion"},
	};
	/* One value per shard, not per tier. */
	static const struct family per_shard[] = {
		{"promotions", "warpengine_tier_promotions_total", "counter",
		 "compressed items made raw again by a GET"},
		{"evictions", "warpengine_tier_evictions_total", "counter",
		 "coldest items deleted to make room (--evict on)"},
		{"unarchived", "warpengine_tier_unarchived_total", "counter",
		 "archived items a GET brought back into memory (--disk-tier on)"},
		{"dict_bytes", "warpengine_tier_dictionary_bytes", "gauge",
		 "the shard's tier dictionary once built (--tier-dict on), else 0"},
		{"rejected", "warpengine_tier_rejected_total", "counter",
		 "new keys' PUTs a full cache declined (admission, --evict on)"},
	};
	const json_t *sh = json_object_get(stats, "shards"), *w;
	size_t i;

	if (!json_is_array(sh) || json_array_size(sh) == 0 ||
	    !json_is_object(json_object_get(json_array_get(sh, 0), "tiers")))
		return;
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		help_line(f, m[k].metric, m[k].type, m[k].help);
		json_array_foreach(sh, i, w) {
			const json_t *t = json_object_get(w, "tiers");

			for (size_t n = 0; n < 4; n++)
				fprintf(f, "%s{worker=\"%zu\",tier=\"%s\"} %.0f\n", m[k].metric, i,
					names[n],
					json_number_value(json_object_get(json_object_get(t, names[n]),
									  m[k].field)));
		}
	}
	for (size_t k = 0; k < sizeof(per_shard) / sizeof(per_shard[0]); k++) {
		help_line(f, per_shard[k].metric, per_shard[k].type, per_shard[k].help);
		json_array_foreach(sh, i, w)
			fprintf(f, "%s{worker=\"%zu\"} %.0f\n", per_shard[k].metric, i,
				json_number_value(json_object_get(json_object_get(w, "tiers"),
								  per_shard[k].field)));
	}
}

/* The data directory (stats' "storage", present with --data-dir): one
 * process-wide family per field listed here, in base units. */
static void storage(FILE *f, const json_t *stats)
{
	static const struct {
		const char *section, *field, *metric, *type;
		double scale;
		const char *text;
	} m[] = {
		{"log", "commits", "warpengine_storage_log_commits_total", "counter", 1,
		 "log writer commits (one write and sync of the records gathered)"},
		{"log", "records", "warpengine_storage_log_records_total", "counter", 1,
		 "log records written"},
		{"log", "bytes", "warpengine_storage_log_bytes_total", "counter", 1,
		 "log bytes written"},
		{"log", "syncs", "warpengine_storage_log_syncs_total", "counter", 1,
		 "log syncs to stable storage"},
		{"log", "failed_commits", "warpengine_storage_log_failed_commits_total", "counter", 1,
		 "log commits that failed (their writes were answered with an error)"},
		{"log", "commit_us_p99_le", "warpengine_storage_log_commit_p99_seconds", "gauge", 1e-6,
		 "upper bound of the 99th percentile of a log commit's time"},
		{"checkpoint", "completed", "warpengine_storage_checkpoints_completed_total", "counter",
		 1, "checkpoints written and made current"},
		{"checkpoint", "failed", "warpengine_storage_checkpoints_failed_total", "counter", 1,
		 "checkpoints that failed"},
		{"checkpoint", "last_ms", "warpengine_storage_checkpoint_last_duration_seconds",
		 "gauge", 1e-3, "how long the last checkpoint took"},
		{"checkpoint", "last_items", "warpengine_storage_checkpoint_last_items", "gauge", 1,
		 "items in the last checkpoint"},
		{"checkpoint", "last_file_bytes", "warpengine_storage_checkpoint_last_bytes", "gauge", 1,
		 "bytes of the last checkpoint's file"},
		{"recovery", "time_ms", "warpengine_storage_recovery_duration_seconds", "gauge", 1e-3,
		 "how long recovery took at start"},
		{"recovery", "records_replayed", "warpengine_storage_recovery_records_replayed", "gauge",
		 1, "log records replayed at start"},
		{"disk_tier", "writes", "warpengine_storage_disk_tier_writes_total", "counter", 1,
		 "batches written to the archive files"},
		{"disk_tier", "write_bytes", "warpengine_storage_disk_tier_write_bytes_total",
		 "counter", 1, "bytes written to the archive files"},
		{"disk_tier", "write_errors", "warpengine_storage_disk_tier_write_errors_total",
		 "counter", 1, "archive writes that failed"},
		{"disk_tier", "reads", "warpengine_storage_disk_tier_reads_total", "counter", 1,
		 "records read back from the archive files"},
		{"disk_tier", "read_bytes", "warpengine_storage_disk_tier_read_bytes_total", "counter",
		 1, "bytes read back from the archive files"},
		{"disk_tier", "read_errors", "warpengine_storage_disk_tier_read_errors_total",
		 "counter", 1, "archive reads that failed or did not check"},
		{"disk_tier", "segments", "warpengine_storage_disk_tier_segments", "gauge", 1,
		 "segments of the archive files (all workers)"},
		{"disk_tier", "segments_used", "warpengine_storage_disk_tier_segments_used", "gauge", 1,
		 "segments holding records or open for them"},
		{"disk_tier", "segments_free", "warpengine_storage_disk_tier_segments_free", "gauge", 1,
		 "segments freed and not yet used again"},
		{"disk_tier", "segment_bytes", "warpengine_storage_disk_tier_segment_bytes", "gauge", 1,
		 "bytes of one segment"},
		{"disk_tier", "live_bytes", "warpengine_storage_disk_tier_live_bytes", "gauge", 1,
		 "bytes of the records that archived items point to"},
		{"disk_tier", "segments_reclaimed",
		 "warpengine_storage_disk_tier_segments_reclaimed_total", "counter", 1,
		 "segments freed for reuse"},
	};
	const json_t *st = json_object_get(stats, "storage");

	if (!json_is_object(st))
		return;
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		const json_t *v = json_object_get(json_object_get(st, m[k].section), m[k].field);

		if (!json_is_number(v))
			continue;
		help_line(f, m[k].metric, m[k].type, m[k].text);
		fprintf(f, "%s %.10g\n", m[k].metric, json_number_value(v) * m[k].scale);
	}
}

static int state_value(const char *s)
{
	static const char *const order[] = {"healthy", "warning", "critical"};

	for (int i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, order[i]) == 0)
			return i;
	return 3;
}

static void health(FILE *f, const json_t *h)
{
	const char *name;
	json_t *c;

	help_line(f, "warpengine_health", "gauge",
		  "health check state: 0 healthy, 1 warning, 2 critical, 3 unknown");
	json_object_foreach(json_object_get(h, "checks"), name, c)
		fprintf(f, "warpengine_health{check=\"%s\"} %d\n", name,
			state_value(json_string_value(json_object_get(c, "state"))));
}

char *metrics_render(const json_t *stats, const json_t *shards, const json_t *health_json,
		     double control_uptime_s, metrics_help_fn help)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	help_line(f, "warpengine_up", "gauge", "1 when the data plane answers warp-control, else 0");
	fprintf(f, "warpengine_up %d\n", stats != NULL);
	help_line(f, "warpengine_control_uptime_seconds", "gauge", "how long warp-control has run");
	fprintf(f, "warpengine_control_uptime_seconds %.3f\n", control_uptime_s);
	if (stats != NULL) {
		const json_t *sh = shards != NULL ? shards : json_object_get(stats, "shards");
		bool new_shards = shards != NULL;

		counters(f, stats, help);
		gauge(f, json_object_get(stats, "per_worker"), "heartbeat_age_ms", 1e-3,
		      "warpengine_heartbeat_age_seconds", "time since the worker last published");
		gauge(f, sh, "items", 1, "warpengine_items", "items in the worker's shard");
		gauge(f, sh, new_shards ? "memory_used_bytes" : "arena_used_bytes", 1,
		      "warpengine_memory_used_bytes", "item memory in use in the worker's shard");
		gauge(f, sh, new_shards ? "memory_bytes" : "arena_bytes", 1,
		      "warpengine_memory_bytes", "item memory (arena) of the worker's shard");
		free_in_pieces(f, sh, new_shards);
		per_worker(f, sh, "compact_moves", 1, "warpengine_compact_moves_total", "counter",
			   "items compaction moved within the worker's arena");
		histogram(f, stats);
		tiers(f, stats);
		storage(f, stats);
	}
	if (health_json != NULL)
		health(f, health_json);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
