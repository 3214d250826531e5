/* recovery.c - verify and replay the write-ahead log at start.
 *
 * DESIGN
 * recovery_open lists wal/, reads each segment's 64-byte header and sorts
 * the valid ones by (generation, worker, sequence): one "log" per
 * (generation, worker), replayed one after the other (recovery.h says why
 * that order gives every key its last value). recovery_next then reads one
 * segment at a time into one buffer and walks its records.
 *
 * A segment ends cleanly at a zero length or at a foreign record (valid,
 * but of another worker or with an LSN that does not grow: what a recycled
 * file held before). A torn or bad record is a cut. To tell a torn tail from
 * damage inside the log, later segments of the log are checked for
 * records: the writer never begins a segment before the previous one's
 * records are synced, so records there mean the cut would lose acknowledged
 * writes. That is refused (-EUCLEAN) unless the caller allows it: the
 * operator decides, not the start-up path. Valid records after the damage in
 * the same segment prove nothing (writeback order within a batch is the
 * kernel's); they are counted and reported.
 *
 * Repair writes zeros over the cut bytes of the segment and clears the
 * header of the log's later segments (their names keep their sequence
 * numbers used), each followed by fdatasync, so a second recovery finds the
 * same records and no cut.
 */
#include "recovery.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wal_segment.h"
#include "we_assert.h"
#include "we_time.h"


struct rec_seg {
	uint64_t generation;
	uint64_t sequence;
	uint64_t first_lsn;
	uint64_t bytes;
	uint16_t worker;
	char name[WAL_SEGMENT_NAME_MAX];
};

struct recovery {
	struct disk *disk;
	char dir[DISK_PATH_MAX];
	struct recovery_options opt;
	struct recovery_stats st;
	struct rec_seg *segs;
	uint32_t nsegs;
	uint32_t cur;       /* segment being read */
	bool loaded;        /* segs[cur] is in buf */
	bool log_cut;       /* the current log was cut: its later segments are dropped */
	bool done;
	int error;
	uint8_t *buf;       /* the segment from file offset 0, read up to buf_len */
	uint64_t buf_cap;
	uint64_t buf_len;
	uint64_t off;       /* next record in buf */
	int fd;             /* of segs[cur] while loaded, else -1 */
	uint64_t prev_lsn;  /* last LSN of the current log */
	uint64_t t0;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct rec_seg *x = a;
	const struct rec_seg *y = b;

	if (x->generation != y->generation)
		return x->generation < y->generation ? -1 : 1;
	if (x->worker != y->worker)
		return x->worker < y->worker ? -1 : 1;
	if (x->sequence != y->sequence)
		return x->sequence < y->sequence ? -1 : 1;
	return 0;
}

static bool same_log(const struct rec_seg *a, const struct rec_seg *b)
{
	return a->generation == b->generation && a->worker == b->worker;
}

static int seg_path(const struct recovery *r, const char *name, char *path)
{
	int n = snprintf(path, DISK_PATH_MAX, "%s/%s", r->dir, name);

	return n > 0 && n < DISK_PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* Reads the header of one segment file; 1 if it is a valid segment of the
 * name's worker and sequence, 0 if not, or a negative errno. */
static int read_header(struct recovery *r, const char *name, uint16_t worker, uint64_t seq,
		       struct rec_seg *out)
{
	uint8_t hdr[WAL_SEGMENT_HDR_BYTES];
	struct wal_segment_header h;
	char path[DISK_PATH_MAX];
	uint64_t size = 0;
	int64_t n;
	int fd;
	int rc;

	if ((rc = seg_path(r, name, path)) != 0)
		return rc;
	rc = disk_open(r->disk, path, DISK_O_RDONLY, &fd);
	if (rc != 0)
		return rc;
	n = disk_pread_all(r->disk, fd, hdr, sizeof(hdr), 0);
	rc = disk_file_size(r->disk, fd, &size);
	disk_close(r->disk, fd);
	if (n < 0)
		return (int)n;
	if (rc != 0)
		return rc;
	if ((size_t)n < sizeof(hdr))
		return 0;
	rc = wal_segment_header_decode(hdr, sizeof(hdr), &h);
	if (rc == -EPROTO)
		return rc;
	if (rc != 0 || h.worker != worker || h.sequence != seq)
		return 0;
	out->generation = h.generation;
	out->sequence = seq;
	out->worker = worker;
	out->first_lsn = h.first_lsn;
	out->bytes = size < h.segment_bytes ? size : h.segment_bytes;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return 1;
}

int recovery_open(struct recovery **out, struct disk *disk, const char *wal_dir,
		  const struct recovery_options *opt)
{
	struct disk_name *names = NULL;
	struct recovery *r;
	uint32_t count = 0;
	int rc;

	if (strlen(wal_dir) + WAL_SEGMENT_NAME_MAX + 2 >= DISK_PATH_MAX)
		return -ENAMETOOLONG;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->t0 = we_monotonic_ns();
	r->fd = -1;
	r->disk = disk;
	snprintf(r->dir, sizeof(r->dir), "%s", wal_dir);
	r->opt = *opt;
	rc = disk_list_all(disk, wal_dir, &names, &count);
	if (rc == 0 && count > 0 && (r->segs = calloc(count, sizeof(*r->segs))) == NULL)
		rc = -ENOMEM;
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		uint16_t worker;
		uint64_t seq;
		int got;

		if (wal_segment_parse_name(names[i].name, &worker, &seq) != 0)
			continue; /* spares and foreign files */
		got = read_header(r, names[i].name, worker, seq, &r->segs[r->nsegs]);
		if (got < 0) {
			rc = got;
		} else if (got == 0) {
			r->st.segments_invalid++;
		} else {
			if (r->segs[r->nsegs].generation > r->st.generation_max)
				r->st.generation_max = r->segs[r->nsegs].generation;
			r->nsegs++;
		}
	}
	free(names);
	if (rc != 0) {
		recovery_close(r);
		return rc;
	}
	if (r->nsegs > 1) /* an empty wal/ has no array at all (qsort wants one) */
		qsort(r->segs, r->nsegs, sizeof(*r->segs), seg_cmp);
	r->st.segments = r->nsegs;
	*out = r;
	return 0;
}

/* A segment is read a window at a time, as far as its records go: a log's
 * last segment is mostly unwritten (zeros) and need not be read at all. */
#define READ_WINDOW (4u << 20)

static void unload_segment(struct recovery *r)
{
	if (r->fd >= 0)
		disk_close(r->disk, r->fd);
	r->fd = -1;
	r->loaded = false;
}

/* Read segs[cur] on until buf holds [0, upto) or the segment's end. */
static int fill_to(struct recovery *r, const struct rec_seg *s, uint64_t upto)
{
	if (upto > s->bytes)
		upto = s->bytes;
	while (r->buf_len < upto) {
		uint64_t want = upto - r->buf_len < READ_WINDOW ? READ_WINDOW : upto - r->buf_len;
		int64_t n;

		if (want > s->bytes - r->buf_len)
			want = s->bytes - r->buf_len;
		n = disk_pread_all(r->disk, r->fd, r->buf + r->buf_len, want, r->buf_len);
		if (n < 0)
			return (int)n;
		r->st.bytes_read += (uint64_t)n;
		r->buf_len += (uint64_t)n;
		if ((uint64_t)n < want)
			break; /* shorter file than its header says */
	}
	return 0;
}

static int load_segment(struct recovery *r, const struct rec_seg *s)
{
	char path[DISK_PATH_MAX];
	int rc;

	if (s->bytes > r->buf_cap) {
		uint8_t *p = realloc(r->buf, s->bytes);

		if (p == NULL)
			return -ENOMEM;
		r->buf = p;
		r->buf_cap = s->bytes;
	}
	if ((rc = seg_path(r, s->name, path)) != 0)
		return rc;
	rc = disk_open(r->disk, path, DISK_O_RDONLY, &r->fd);
	if (rc != 0) {
		r->fd = -1;
		return rc;
	}
	r->buf_len = 0;
	r->off = WAL_SEGMENT_DATA_OFFSET;
	return fill_to(r, s, WAL_SEGMENT_DATA_OFFSET + READ_WINDOW);
}

/* A record of the segment being read (not old content of a recycled file). */
static bool record_belongs(const struct recovery *r, const struct rec_seg *s,
			   const struct wal_record *rec)
{
	/* A pad ends its commit and carries the commit's last LSN. */
	if (rec->type == WAL_REC_PAD)
		return rec->worker == s->worker && rec->lsn == r->prev_lsn &&
		       r->off > WAL_SEGMENT_DATA_OFFSET;
	if (rec->worker != s->worker || rec->lsn <= r->prev_lsn)
		return false;
	if (r->off == WAL_SEGMENT_DATA_OFFSET && rec->lsn != s->first_lsn)
		return false;
	return true;
}

/* Does a valid record of this log follow the damage at r->off? */
static bool valid_record_after(struct recovery *r, const struct rec_seg *s)
{
	for (uint64_t p = r->off + WAL_RECORD_ALIGN; p + WAL_RECORD_HDR_BYTES <= r->buf_len;
	     p += WAL_RECORD_ALIGN) {
		struct wal_record rec;
		uint32_t bytes;

		if (wal_record_decode(r->buf + p, r->buf_len - p, &rec, &bytes) == WAL_DECODE_OK &&
		    rec.worker == s->worker && rec.lsn > r->prev_lsn)
			return true;
	}
	return false;
}

/* Does a later segment of the same log begin with one of its records? The
 * first LATER_PROBE_BYTES of data are read: a first record longer than that
 * is not recognised (the damage is then taken for a torn tail). */
#define LATER_PROBE_BYTES 65536u
static int later_segment_has_records(struct recovery *r)
{
	uint8_t *head = malloc(WAL_SEGMENT_DATA_OFFSET + LATER_PROBE_BYTES);
	int found = 0;

	if (head == NULL)
		return -ENOMEM;
	for (uint32_t i = r->cur + 1;
	     found == 0 && i < r->nsegs && same_log(&r->segs[i], &r->segs[r->cur]); i++) {
		const struct rec_seg *s = &r->segs[i];
		char path[DISK_PATH_MAX];
		struct wal_record rec;
		uint32_t bytes;
		int64_t n;
		int fd;

		if ((found = seg_path(r, s->name, path)) != 0)
			break;
		if ((found = disk_open(r->disk, path, DISK_O_RDONLY, &fd)) != 0)
			break;
		n = disk_pread_all(r->disk, fd, head, WAL_SEGMENT_DATA_OFFSET + LATER_PROBE_BYTES, 0);
		disk_close(r->disk, fd);
		if (n < 0) {
			found = (int)n;
			break;
		}
		if ((uint64_t)n > WAL_SEGMENT_DATA_OFFSET &&
		    wal_record_decode(head + WAL_SEGMENT_DATA_OFFSET,
				      (uint64_t)n - WAL_SEGMENT_DATA_OFFSET, &rec,
				      &bytes) == WAL_DECODE_OK &&
		    rec.worker == s->worker && rec.lsn == s->first_lsn)
			found = 1;
	}
	free(head);
	return found;
}

static int zero_range(struct recovery *r, const char *name, uint64_t from, uint64_t to)
{
	char path[DISK_PATH_MAX];
	uint8_t zero[4096];
	int fd;
	int rc;

	memset(zero, 0, sizeof(zero));
	if ((rc = seg_path(r, name, path)) != 0)
		return rc;
	if ((rc = disk_open(r->disk, path, 0, &fd)) != 0)
		return rc;
	for (uint64_t off = from; rc == 0 && off < to; off += sizeof(zero)) {
		uint64_t n = to - off < sizeof(zero) ? to - off : sizeof(zero);

		rc = disk_pwrite_all(r->disk, fd, zero, n, off);
	}
	if (rc == 0)
		rc = disk_fdatasync(r->disk, fd);
	disk_close(r->disk, fd);
	return rc;
}

/* The log being read ends in a torn or bad record at r->off. */
static int cut_here(struct recovery *r, const struct rec_seg *s, enum wal_decode why)
{
	uint64_t end = r->buf_len & ~(uint64_t)(WAL_RECORD_ALIGN - 1);
	int later;
	bool mid;

	while (end > r->off) {
		uint64_t w;

		memcpy(&w, r->buf + end - WAL_RECORD_ALIGN, sizeof(w));
		if (w != 0)
			break;
		end -= WAL_RECORD_ALIGN;
	}
	later = later_segment_has_records(r);
	if (later < 0)
		return later;
	/* Records after the damage in the same segment are reported, not
	 * refused: writeback may have stored a batch's later pages and not its
	 * earlier ones before a power cut, and none of them was acknowledged. */
	if (valid_record_after(r, s))
		r->st.cut_records_after++;
	mid = later > 0;
	if (r->st.cuts == 0) {
		r->st.cut_generation = s->generation;
		r->st.cut_worker = s->worker;
		r->st.cut_sequence = s->sequence;
		r->st.cut_offset = r->off;
		r->st.cut_reason = why;
	}
	r->st.cuts++;
	r->st.bytes_cut += end - r->off;
	if (mid) {
		r->st.corrupt_mid_log++;
		if (!r->opt.allow_mid_log_cut)
			return -EUCLEAN;
	}
	r->log_cut = true;
	return r->opt.repair ? zero_range(r, s->name, r->off, end) : 0;
}

/* A later segment of a cut log: dropped, and with repair its header cleared. */
static int drop_segment(struct recovery *r, const struct rec_seg *s)
{
	r->st.segments_dropped++;
	return r->opt.repair ? zero_range(r, s->name, 0, WAL_SEGMENT_HDR_BYTES) : 0;
}

static int finish(struct recovery *r, int rc)
{
	if (!r->done) {
		r->done = true;
		r->error = rc;
		r->st.time_ns = we_monotonic_ns() - r->t0;
	}
	return rc;
}

/* The checkpoint's LSN for worker w of its generation (recovery_options). */
static uint64_t covered_lsn(const struct recovery *r, uint16_t worker)
{
	return worker < r->opt.covered_workers ? r->opt.covered_lsn[worker] : 0;
}

/* Whether the checkpoint holds all of segment i: an older generation, or
 * its generation and the next segment of the same log starts at or below
 * the checkpoint's LSN + 1. */
static bool segment_covered(const struct recovery *r, uint32_t i)
{
	const struct rec_seg *s = &r->segs[i];

	if (r->opt.covered_generation == 0 || s->generation > r->opt.covered_generation)
		return false;
	if (s->generation < r->opt.covered_generation)
		return true;
	return i + 1 < r->nsegs && same_log(s, &r->segs[i + 1]) &&
	       r->segs[i + 1].first_lsn <= covered_lsn(r, s->worker) + 1;
}

static bool record_covered(const struct recovery *r, const struct rec_seg *s,
			   const struct wal_record *rec)
{
	return r->opt.covered_generation != 0 &&
	       (s->generation < r->opt.covered_generation ||
		(s->generation == r->opt.covered_generation &&
		 rec->lsn <= covered_lsn(r, s->worker)));
}

int recovery_next(struct recovery *r, struct wal_record *rec, struct recovery_pos *pos)
{
	if (r->done)
		return r->error;
	for (;;) {
		const struct rec_seg *s;
		enum wal_decode d;
		uint32_t bytes;
		int rc;

		if (r->cur >= r->nsegs)
			return finish(r, 0);
		s = &r->segs[r->cur];
		if (!r->loaded) {
			if (r->cur == 0 || !same_log(s, &r->segs[r->cur - 1])) {
				r->log_cut = false;
				r->prev_lsn = s->first_lsn > 0 ? s->first_lsn - 1 : 0;
			}
			if (r->log_cut) {
				if ((rc = drop_segment(r, s)) != 0)
					return finish(r, rc);
				r->cur++;
				continue;
			}
			if (segment_covered(r, (uint32_t)r->cur)) {
				r->st.segments_covered++;
				if (r->cur + 1 < r->nsegs && same_log(s, &r->segs[r->cur + 1]))
					r->prev_lsn = r->segs[r->cur + 1].first_lsn - 1;
				r->cur++;
				continue;
			}
			if ((rc = load_segment(r, s)) != 0)
				return finish(r, rc);
			r->loaded = true;
		}
		if (r->buf_len - r->off < WAL_RECORD_HDR_BYTES + 4096 &&
		    (rc = fill_to(r, s, r->buf_len + READ_WINDOW)) != 0)
			return finish(r, rc);
		d = r->off < r->buf_len ? wal_record_decode(r->buf + r->off, r->buf_len - r->off, rec,
							    &bytes)
					: WAL_DECODE_END;
		if (d == WAL_DECODE_TORN && r->buf_len < s->bytes) {
			/* Perhaps only cut by the window: one more, then the rest. */
			if ((rc = fill_to(r, s, r->buf_len + READ_WINDOW)) != 0)
				return finish(r, rc);
			d = wal_record_decode(r->buf + r->off, r->buf_len - r->off, rec, &bytes);
			if (d == WAL_DECODE_TORN && r->buf_len < s->bytes) {
				if ((rc = fill_to(r, s, s->bytes)) != 0)
					return finish(r, rc);
				d = wal_record_decode(r->buf + r->off, r->buf_len - r->off, rec,
						      &bytes);
			}
		}
		if (d == WAL_DECODE_OK && record_belongs(r, s, rec)) {
			if (pos != NULL) {
				pos->generation = s->generation;
				pos->worker = s->worker;
				pos->sequence = s->sequence;
				pos->offset = r->off;
			}
			r->off += bytes;
			r->prev_lsn = rec->lsn;
			if (rec->lsn > r->st.lsn_max)
				r->st.lsn_max = rec->lsn;
			if (rec->type == WAL_REC_PAD)
				continue;
			if (rec->type != WAL_REC_PUT && rec->type != WAL_REC_DELETE) {
				r->st.records_skipped++;
				continue;
			}
			if (record_covered(r, s, rec)) {
				r->st.records_covered++;
				continue;
			}
			r->st.records_replayed++;
			return 1;
		}
		if (d == WAL_DECODE_TORN || d == WAL_DECODE_BAD) {
			/* The cut looks at the whole rest of the segment. */
			if ((rc = fill_to(r, s, s->bytes)) != 0 || (rc = cut_here(r, s, d)) != 0)
				return finish(r, rc);
		}
		/* End of this segment: a zero length, a foreign record or a cut. */
		unload_segment(r);
		r->cur++;
	}
}

const struct recovery_stats *recovery_stats(const struct recovery *r)
{
	return &r->st;
}

void recovery_summary(const struct recovery *r, char *buf, size_t len)
{
	const struct recovery_stats *st = &r->st;
	char cut[256] = "no torn tail";
	char name[WAL_SEGMENT_NAME_MAX];

	if (st->cuts > 0) {
		wal_segment_name(name, sizeof(name), st->cut_worker, st->cut_sequence);
		snprintf(cut, sizeof(cut),
			 "%" PRIu64 " cut%s (%" PRIu64 " bytes), first: %s record at %s offset %" PRIu64
			 " (generation %" PRIu64 ")%s%s",
			 st->cuts, st->cuts == 1 ? "" : "s", st->bytes_cut, wal_decode_name(st->cut_reason),
			 name, st->cut_offset, st->cut_generation,
			 st->cut_records_after ? ", valid records follow a cut in its segment" : "",
			 st->corrupt_mid_log ? ", CORRUPTION INSIDE THE LOG" : "");
	}
	char covered[128] = "";

	if (r->opt.covered_generation != 0)
		snprintf(covered, sizeof(covered),
			 " after the checkpoint (%" PRIu64 " records and %" PRIu64
			 " segments it holds skipped)",
			 st->records_covered, st->segments_covered);
	snprintf(buf, len,
		 "recovery: %" PRIu64 " log records replayed%s from %" PRIu64 " segments (%" PRIu64
		 " bytes read, %" PRIu64 " invalid, %" PRIu64 " dropped), %s, max lsn %" PRIu64
		 ", max generation %" PRIu64 ", %.1f ms",
		 st->records_replayed, covered, st->segments, st->bytes_read, st->segments_invalid,
		 st->segments_dropped, cut, st->lsn_max, st->generation_max, (double)st->time_ns / 1e6);
}

void recovery_close(struct recovery *r)
{
	if (r == NULL)
		return;
	unload_segment(r);
	free(r->segs);
	free(r->buf);
	free(r);
}
