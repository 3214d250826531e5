/* stats_storage.c - recovery and log-writer figures out of the data plane.
 *
 * DESIGN: one list of fields (STORAGE_FIELDS below) feeds the stats file
 * and telemetry, so the two agree; the stop report picks the few a person
 * reads first. Commit-time quantiles come from the writer's log2 buckets,
 * so they are upper bounds (within a factor of two).
 */
#include "stats_storage.h"

#include <string.h>

struct storage_figures {
	struct wal_writer_stats log;
	const struct recovery_stats *rec;
	struct ckpt_writer_status ck;
	struct archive_io_stats arc;
	struct archive_space_stats space; /* every worker's file, summed */
	uint64_t archived_at_start;
	const struct durability *d;
};

static double per_commit(const struct wal_writer_stats *s, uint64_t v)
{
	return s->commits ? (double)v / (double)s->commits : 0.0;
}

/* X(name, kind, expression): kind i = integer, r = real. */
#define RECOVERY_FIELDS(X, f)                                                          \
	X(records_replayed, i, (f)->rec->records_replayed)                             \
	X(segments, i, (f)->rec->segments)                                             \
	X(segments_invalid, i, (f)->rec->segments_invalid)                             \
	X(segments_dropped, i, (f)->rec->segments_dropped)                             \
	X(bytes_read, i, (f)->rec->bytes_read)                                         \
	X(cuts, i, (f)->rec->cuts)                                                     \
	X(bytes_cut, i, (f)->rec->bytes_cut)                                           \
	X(lsn_max, i, (f)->rec->lsn_max)                                               \
	X(generation_max, i, (f)->rec->generation_max)                                 \
	X(records_covered, i, (f)->rec->records_covered)                               \
	X(segments_covered, i, (f)->rec->segments_covered)                             \
	X(checkpoint_loaded, i, (f)->d->ckpt_loaded ? (int64_t)(f)->d->ckpt_loaded_id : 0) \
	X(checkpoint_items, i, (f)->d->ckpt_loaded_items)                              \
	X(time_ms, r, (double)(f)->rec->time_ns / 1e6)                                 \
	X(records_per_s, r,                                                            \
	  (f)->rec->time_ns ? (double)(f)->rec->records_replayed * 1e9 / (double)(f)->rec->time_ns \
			    : 0.0)

#define LOG_FIELDS(X, f)                                                               \
	X(commits, i, (f)->log.commits)                                                \
	X(records, i, (f)->log.records)                                                \
	X(bytes, i, (f)->log.bytes)                                                    \
	X(syncs, i, (f)->log.syncs)                                                    \
	X(records_per_commit, r, per_commit(&(f)->log, (f)->log.records))              \
	X(commit_us_mean, r, per_commit(&(f)->log, (f)->log.commit_ns_total) / 1e3)    \
	X(commit_us_p50_le, i, wal_writer_commit_us_quantile(&(f)->log, 0.50))         \
	X(commit_us_p99_le, i, wal_writer_commit_us_quantile(&(f)->log, 0.99))         \
	X(commit_us_max, r, (double)(f)->log.commit_ns_max / 1e3)                      \
	X(segments_begun, i, (f)->log.rolls)                                           \
	X(segments_begun_without_spare, i, (f)->log.rolls_without_spare)               \
	X(segment_begin_us_max, r, (double)(f)->log.roll_ns_max / 1e3)                 \
	X(commits_while_making_spare, i, (f)->log.commits_while_spare)                 \
	X(commit_us_max_while_making_spare, r,                                         \
	  (double)(f)->log.commit_ns_max_while_spare / 1e3)                            \
	X(short_writes, i, (f)->log.short_writes)                                      \
	X(eagain, i, (f)->log.eagain)                                                  \
	X(write_errors, i, (f)->log.write_errors)                                      \
	X(sync_errors, i, (f)->log.sync_errors)                                        \
	X(segment_errors, i, (f)->log.segment_errors)                                  \
	X(failed_commits, i, (f)->log.failed_commits)                                  \
	X(last_error, i, (f)->log.last_error)                                          \
	X(sched_fifo, i, (f)->log.sched_fifo)

#define CHECKPOINT_FIELDS(X, f)                                                        \
	X(running, i, (f)->ck.state == CKPT_RUNNING ? (int64_t)(f)->ck.running_id : 0)  \
	X(completed, i, (f)->ck.completed)                                             \
	X(failed, i, (f)->ck.failed)                                                   \
	X(last_id, i, (f)->ck.last_id)                                                 \
	X(last_items, i, (f)->ck.last_items)                                           \
	X(last_chunks, i, (f)->ck.last_chunks)                                         \
	X(last_raw_bytes, i, (f)->ck.last_raw_bytes)                                   \
	X(last_file_bytes, i, (f)->ck.last_file_bytes)                                 \
	X(last_ms, i, (f)->ck.last_ms)                                                 \
	X(segments_retired, i, (f)->ck.segments_retired)                               \
	X(checkpoints_removed, i, (f)->ck.checkpoints_removed)                         \
	X(last_error, i, (f)->ck.last_error)

/* The disk tier's thread (zeros without --disk-tier). */
#define DISK_TIER_FIELDS(X, f)                                                         \
	X(on, i, (f)->d->archive != NULL)                                              \
	X(archived_at_start, i, (f)->archived_at_start)                                \
	X(writes, i, (f)->arc.writes)                                                  \
	X(write_bytes, i, (f)->arc.write_bytes)                                        \
	X(write_errors, i, (f)->arc.write_errors)                                      \
	X(reads, i, (f)->arc.reads)                                                    \
	X(read_bytes, i, (f)->arc.read_bytes)                                          \
	X(read_errors, i, (f)->arc.read_errors)                                        \
	X(full, i, (f)->arc.full)                                                      \
	X(segment_bytes, i, (f)->space.segment_bytes)                                  \
	X(segments, i, (f)->space.segments)                                            \
	X(segments_used, i, (f)->space.segments_used)                                  \
	X(segments_free, i, (f)->space.segments_free)                                  \
	X(live_bytes, i, (f)->space.live_bytes)                                        \
	X(segments_reclaimed, i, (f)->space.reclaimed)

static void figures(const struct durability *d, struct storage_figures *f)
{
	durability_log_stats(d, &f->log);
	f->rec = &d->recovered;
	f->d = d;
	if (d->ckpt != NULL)
		ckpt_writer_status(d->ckpt, &f->ck);
	else
		memset(&f->ck, 0, sizeof(f->ck));
	memset(&f->arc, 0, sizeof(f->arc));
	f->archived_at_start = 0;
	if (d->archive != NULL) {
		archive_io_stats_get(d->archive, &f->arc);
		for (unsigned i = 0; i < d->n_workers; i++)
			f->archived_at_start += d->archived_at_start[i];
	}
	memset(&f->space, 0, sizeof(f->space));
	for (unsigned i = 0; i < d->n_workers; i++) {
		struct archive_space_stats w;

		if (d->archive_spaces[i] == NULL)
			continue;
		archive_space_published(d->archive_spaces[i], &w);
		f->space.segment_bytes = w.segment_bytes;
		f->space.segments += w.segments;
		f->space.segments_used += w.segments_used;
		f->space.segments_free += w.segments_free;
		f->space.live_bytes += w.live_bytes;
		f->space.reclaimed += w.reclaimed;
	}
}

static json_t *json_of_i(int64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *json_of_r(double v)
{
	return json_real(v);
}

json_t *stats_storage_json(const struct durability *d)
{
	struct storage_figures f;
	json_t *o = json_object(), *rec = json_object(), *log = json_object();
	json_t *ck = json_object(), *arc = json_object();

	figures(d, &f);
#define STORAGE_JSON(name, kind, expr) json_object_set_new(obj, #name, json_of_##kind(expr));
	{
		json_t *obj = rec;

		RECOVERY_FIELDS(STORAGE_JSON, &f)
		obj = log;
		LOG_FIELDS(STORAGE_JSON, &f)
		obj = ck;
		CHECKPOINT_FIELDS(STORAGE_JSON, &f)
		obj = arc;
		DISK_TIER_FIELDS(STORAGE_JSON, &f)
	}
#undef STORAGE_JSON
	json_object_set_new(o, "data_dir", json_string(d->dir.path));
	json_object_set_new(o, "generation", json_integer((json_int_t)d->dir.generation));
	json_object_set_new(o, "recovery", rec);
	json_object_set_new(o, "log", log);
	json_object_set_new(o, "checkpoint", ck);
	json_object_set_new(o, "disk_tier", arc);
	return o;
}

static void tel_i(struct rte_tel_data *t, const char *prefix, const char *name, int64_t v)
{
	char key[64];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	if (v >= 0)
		rte_tel_data_add_dict_u64(t, key, (uint64_t)v);
	else /* last_error: a negative errno */
		rte_tel_data_add_dict_int(t, key, (int)v);
}

static void tel_r(struct rte_tel_data *t, const char *prefix, const char *name, double v)
{
	char key[64];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	rte_tel_data_add_dict_u64(t, key, (uint64_t)(v + 0.5));
}

void stats_storage_telemetry(const struct durability *d, struct rte_tel_data *t)
{
	struct storage_figures f;

	figures(d, &f);
	rte_tel_data_add_dict_string(t, "data_dir", d->dir.path);
	rte_tel_data_add_dict_u64(t, "generation", d->dir.generation);
#define STORAGE_TEL(name, kind, expr) tel_##kind(t, prefix, #name, expr);
	{
		const char *prefix = "recovery_";

		RECOVERY_FIELDS(STORAGE_TEL, &f)
		prefix = "log_";
		LOG_FIELDS(STORAGE_TEL, &f)
		prefix = "checkpoint_";
		CHECKPOINT_FIELDS(STORAGE_TEL, &f)
		prefix = "disk_tier_";
		DISK_TIER_FIELDS(STORAGE_TEL, &f)
	}
#undef STORAGE_TEL
}

void stats_storage_print(const struct durability *d, FILE *f)
{
	struct wal_writer_stats s;

	durability_log_stats(d, &s);
	fprintf(f,
		"warpengine: log: %lu records in %lu commits (%.1f per commit), %lu bytes, %lu "
		"segments begun (%lu without a spare ready, slowest %.1f ms), %lu failed commits\n",
		(unsigned long)s.records, (unsigned long)s.commits, per_commit(&s, s.records),
		(unsigned long)s.bytes, (unsigned long)s.rolls, (unsigned long)s.rolls_without_spare,
		(double)s.roll_ns_max / 1e6, (unsigned long)s.failed_commits);
	fprintf(f,
		"warpengine: log commit time: mean %.0f us, p50 <= %lu us, p99 <= %lu us, max %.1f "
		"ms (%lu commits beside a spare being made, slowest %.1f ms); writer thread %s\n",
		per_commit(&s, s.commit_ns_total) / 1e3,
		(unsigned long)wal_writer_commit_us_quantile(&s, 0.5),
		(unsigned long)wal_writer_commit_us_quantile(&s, 0.99), (double)s.commit_ns_max / 1e6,
		(unsigned long)s.commits_while_spare, (double)s.commit_ns_max_while_spare / 1e6,
		s.sched_fifo ? "SCHED_FIFO" : "SCHED_OTHER (SCHED_FIFO refused)");
}
