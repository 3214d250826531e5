/* ckpt_manifest.c - the checkpoints' manifest, the choice of a checkpoint at
 * start, and the list of obsolete ones.
 *
 * DESIGN
 * Start-up and checkpointer code, not a hot path. The manifest is small JSON
 * (jansson), read and written whole through struct disk, so the fake disk
 * can cut the power at any step of a replacement: the new text goes to
 * MANIFEST.tmp, is fdatasync'ed, renamed over MANIFEST, and the folder is
 * fsync'ed; at every point before the rename the old MANIFEST is intact,
 * after it the new one is complete on disk. A leftover MANIFEST.tmp is
 * overwritten by the next replacement and never read.
 *
 * Choosing trusts nothing it has not verified: the named checkpoint is read
 * chunk by chunk (ckpt_check_dir: checksums) and compared with the manifest before it
 * is chosen; the fallback obeys the retention rule in ckpt_manifest.h.
 */
#include "ckpt_manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "we_assert.h"

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, DISK_PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < DISK_PATH_MAX ? 0 : -ENAMETOOLONG;
}

void ckpt_manifest_fill(struct ckpt_manifest *m, const struct ckpt_summary *s,
			uint64_t previous_id)
{
	time_t now = time(NULL);
	struct tm tm;

	WE_ASSERT(s->worker_count >= 1 && s->worker_count <= CKPT_WORKERS_MAX);
	memset(m, 0, sizeof(*m));
	m->format_version = CKPT_FORMAT;
	m->checkpoint_id = s->checkpoint_id;
	m->previous_id = previous_id;
	ckpt_dir_name(m->directory, sizeof(m->directory), s->checkpoint_id);
	m->generation = s->generation;
	m->worker_count = s->worker_count;
	for (uint16_t w = 0; w < s->worker_count; w++) {
		m->start_lsn[w] = s->start_lsn[w];
		m->items[w] = s->items[w];
	}
	gmtime_r(&now, &tm);
	strftime(m->created, sizeof(m->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *manifest_text(const struct ckpt_manifest *m)
{
	json_t *o = json_object();
	json_t *workers = json_array();
	uint64_t total = 0;
	char *text;

	for (uint16_t w = 0; w < m->worker_count; w++) {
		json_array_append_new(workers,
				      json_pack("{s:i, s:I, s:I}", "worker", (int)w, "start_lsn",
						(json_int_t)m->start_lsn[w], "items",
						(json_int_t)m->items[w]));
		total += m->items[w];
	}
	json_object_set_new(o, "format_version", json_integer(m->format_version));
	json_object_set_new(o, "checkpoint_id", json_integer((json_int_t)m->checkpoint_id));
	json_object_set_new(o, "directory", json_string(m->directory));
	json_object_set_new(o, "previous_checkpoint_id", json_integer((json_int_t)m->previous_id));
	json_object_set_new(o, "generation", json_integer((json_int_t)m->generation));
	json_object_set_new(o, "worker_count", json_integer(m->worker_count));
	json_object_set_new(o, "workers", workers);
	json_object_set_new(o, "items", json_integer((json_int_t)total));
	json_object_set_new(o, "created", json_string(m->created));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

int ckpt_manifest_write(struct disk *disk, const char *checkpoints_dir,
			const struct ckpt_manifest *m, char *err, size_t err_len)
{
	char tmp[DISK_PATH_MAX];
	char path[DISK_PATH_MAX];
	const char *step = "open";
	char *text;
	int fd;
	int r;

	if (join(tmp, checkpoints_dir, CKPT_MANIFEST_TMP) != 0 ||
	    join(path, checkpoints_dir, CKPT_MANIFEST_NAME) != 0)
		return fail(err, err_len, -ENAMETOOLONG, "%s: path too long", checkpoints_dir);
	if (m->worker_count == 0 || m->worker_count > CKPT_WORKERS_MAX || m->checkpoint_id == 0 ||
	    m->previous_id >= m->checkpoint_id)
		return fail(err, err_len, -EINVAL, "%s: refusing to write a manifest for "
			    "checkpoint %" PRIu64 " (previous %" PRIu64 ", %u workers)", path,
			    m->checkpoint_id, m->previous_id, m->worker_count);
	text = manifest_text(m);
	if (text == NULL)
		return fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	r = disk_open(disk, tmp, DISK_O_CREATE, &fd);
	if (r == 0) {
		step = "truncate";
		r = disk_ftruncate(disk, fd, 0);
		if (r == 0) {
			step = "write";
			r = disk_pwrite_all(disk, fd, text, strlen(text), 0);
		}
		if (r == 0) {
			step = "fdatasync";
			r = disk_fdatasync(disk, fd);
		}
		disk_close(disk, fd);
	}
	free(text);
	if (r != 0)
		return fail(err, err_len, r, "%s: %s: %s", tmp, step, strerror(-r));
	r = disk_rename(disk, tmp, path);
	if (r != 0)
		return fail(err, err_len, r, "%s: rename to %s: %s", tmp, path, strerror(-r));
	r = disk_fsync_dir(disk, checkpoints_dir);
	if (r != 0)
		return fail(err, err_len, r, "%s: fsync: %s", checkpoints_dir, strerror(-r));
	return 0;
}

/* An integer field in [lo, hi], or -EINVAL with a sentence. */
static int get_u64(json_t *o, const char *path, const char *where, const char *key, uint64_t lo,
		   uint64_t hi, uint64_t *out, char *err, size_t err_len)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return fail(err, err_len, -EINVAL, "%s: %sfield \"%s\" is missing", path, where, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi) {
		char *shown = json_dumps(v, JSON_ENCODE_ANY);
		int r = fail(err, err_len, -EINVAL,
			     "%s: %sfield \"%s\": found %s, expected an integer from %" PRIu64
			     " to %" PRIu64, path, where, key, shown != NULL ? shown : "?", lo, hi);

		free(shown);
		return r;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_workers(json_t *root, const char *path, struct ckpt_manifest *m, char *err,
			 size_t err_len)
{
	json_t *arr = json_object_get(root, "workers");
	uint64_t total = 0;
	uint64_t items;
	int r;

	if (!json_is_array(arr) || json_array_size(arr) != m->worker_count)
		return fail(err, err_len, -EINVAL,
			    "%s: field \"workers\": expected an array of worker_count (%u) objects",
			    path, m->worker_count);
	for (uint16_t w = 0; w < m->worker_count; w++) {
		json_t *o = json_array_get(arr, w);
		char where[48];
		uint64_t v;

		snprintf(where, sizeof(where), "workers[%u]: ", w);
		if (!json_is_object(o))
			return fail(err, err_len, -EINVAL, "%s: %snot an object", path, where);
		r = get_u64(o, path, where, "worker", w, w, &v, err, err_len);
		if (r == 0)
			r = get_u64(o, path, where, "start_lsn", 0, WAL_LSN_MAX, &m->start_lsn[w],
				    err, err_len);
		if (r == 0)
			r = get_u64(o, path, where, "items", 0, INT64_MAX, &m->items[w], err,
				    err_len);
		if (r != 0)
			return r;
		total += m->items[w];
	}
	r = get_u64(root, path, "", "items", total, total, &items, err, err_len);
	return r;
}

static int parse_manifest(json_t *root, const char *path, struct ckpt_manifest *m, char *err,
			  size_t err_len)
{
	json_t *v;
	uint64_t x;
	int r;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(root))
		return fail(err, err_len, -EINVAL, "%s: not a JSON object", path);
	v = json_object_get(root, "format_version");
	if (json_is_integer(v) && json_integer_value(v) != CKPT_FORMAT)
		return fail(err, err_len, -EPROTO,
			    "%s: field \"format_version\": found %" JSON_INTEGER_FORMAT
			    ", this version reads %u", path, json_integer_value(v), CKPT_FORMAT);
	r = get_u64(root, path, "", "format_version", CKPT_FORMAT, CKPT_FORMAT, &x, err, err_len);
	if (r != 0)
		return r;
	m->format_version = (uint32_t)x;
	r = get_u64(root, path, "", "checkpoint_id", 1, CKPT_ID_MAX, &m->checkpoint_id, err,
		    err_len);
	if (r == 0)
		r = get_u64(root, path, "", "previous_checkpoint_id", 0, m->checkpoint_id - 1,
			    &m->previous_id, err, err_len);
	if (r == 0)
		r = get_u64(root, path, "", "generation", 0, INT64_MAX, &m->generation, err,
			    err_len);
	if (r == 0)
		r = get_u64(root, path, "", "worker_count", 1, CKPT_WORKERS_MAX, &x, err, err_len);
	if (r != 0)
		return r;
	m->worker_count = (uint16_t)x;
	ckpt_dir_name(m->directory, sizeof(m->directory), m->checkpoint_id);
	v = json_object_get(root, "directory");
	if (!json_is_string(v) || strcmp(json_string_value(v), m->directory) != 0)
		return fail(err, err_len, -EINVAL,
			    "%s: field \"directory\": found %s, expected \"%s\" (from checkpoint_id)",
			    path, json_is_string(v) ? json_string_value(v) : "no string",
			    m->directory);
	v = json_object_get(root, "created");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= sizeof(m->created))
		return fail(err, err_len, -EINVAL,
			    "%s: field \"created\": expected an ISO 8601 time string", path);
	snprintf(m->created, sizeof(m->created), "%s", json_string_value(v));
	return parse_workers(root, path, m, err, err_len);
}

int ckpt_manifest_read(struct disk *disk, const char *checkpoints_dir, struct ckpt_manifest *m,
		       char *err, size_t err_len)
{
	char path[DISK_PATH_MAX];
	json_error_t je;
	json_t *root;
	uint64_t size;
	char *text;
	int64_t n;
	int fd;
	int r;

	if (join(path, checkpoints_dir, CKPT_MANIFEST_NAME) != 0)
		return fail(err, err_len, -ENAMETOOLONG, "%s: path too long", checkpoints_dir);
	r = disk_open(disk, path, DISK_O_RDONLY, &fd);
	if (r != 0)
		return fail(err, err_len, r, "%s: %s", path, strerror(-r));
	r = disk_file_size(disk, fd, &size);
	if (r == 0 && size > CKPT_MANIFEST_BYTES_MAX)
		r = -EFBIG;
	text = r == 0 ? malloc(size + 1) : NULL;
	if (r == 0 && text == NULL)
		r = -ENOMEM;
	if (r == 0) {
		n = disk_pread_all(disk, fd, text, size, 0);
		if (n < 0)
			r = (int)n;
		else if ((uint64_t)n != size)
			r = -EIO;
	}
	disk_close(disk, fd);
	if (r != 0) {
		free(text);
		return fail(err, err_len, r == -EFBIG ? -EINVAL : r, "%s: %s", path,
			    r == -EFBIG ? "larger than 1 MiB: not a manifest" : strerror(-r));
	}
	root = json_loadb(text, size, 0, &je);
	free(text);
	if (root == NULL)
		return fail(err, err_len, -EINVAL, "%s: line %d: %s", path, je.line, je.text);
	r = parse_manifest(root, path, m, err, err_len);
	json_decref(root);
	return r;
}

/* The manifest's own fields agree with what the parts say. */
static bool summary_matches(const struct ckpt_manifest *m, const struct ckpt_summary *s)
{
	if (s->checkpoint_id != m->checkpoint_id || s->generation != m->generation ||
	    s->worker_count != m->worker_count)
		return false;
	for (uint16_t w = 0; w < m->worker_count; w++)
		if (s->start_lsn[w] != m->start_lsn[w] || s->items[w] != m->items[w])
			return false;
	return true;
}

static int cmp_name_desc(const void *a, const void *b)
{
	return -strcmp(((const struct disk_name *)a)->name, ((const struct disk_name *)b)->name);
}

static int cmp_name_asc(const void *a, const void *b)
{
	return strcmp(((const struct disk_name *)a)->name, ((const struct disk_name *)b)->name);
}

/* The newest complete checkpoint with an id in [lo, hi), into c. 1 found,
 * 0 none, or a negative errno from listing. */
static int pick_fallback(struct disk *disk, const char *cdir, uint64_t lo, uint64_t hi,
			 struct ckpt_choice *c)
{
	struct disk_name *names;
	uint32_t count;
	int found = 0;
	int r = disk_list_all(disk, cdir, &names, &count);

	if (r != 0)
		return r;
	/* 12-digit ids: name order is id order. */
	qsort(names, count, sizeof(*names), cmp_name_desc);
	for (uint32_t i = 0; i < count && !found; i++) {
		char ignored[CKPT_ERR_MAX];
		uint64_t id;

		if (ckpt_dir_parse(names[i].name, &id) != 0 || id < lo || id >= hi)
			continue;
		if (join(c->dir, cdir, names[i].name) != 0)
			continue;
		if (ckpt_check_dir(disk, c->dir, &c->s, ignored, sizeof(ignored)) == 0)
			found = 1;
	}
	free(names);
	return found;
}

int ckpt_pick(struct disk *disk, const char *data_dir, struct ckpt_choice *c, char *err,
	      size_t err_len)
{
	char cdir[DISK_PATH_MAX];
	struct ckpt_manifest m;
	uint64_t lo;
	int r;

	memset(c, 0, sizeof(*c));
	if (join(cdir, data_dir, "checkpoints") != 0)
		return fail(err, err_len, -ENAMETOOLONG, "%s: path too long", data_dir);
	r = ckpt_manifest_read(disk, cdir, &m, err, err_len);
	if (r == -ENOENT)
		return 0; /* no checkpoint was ever named: nothing retired, replay the log */
	if (r != 0)
		return r;
	if (join(c->dir, cdir, m.directory) != 0)
		return fail(err, err_len, -ENAMETOOLONG, "%s: path too long", cdir);
	r = ckpt_check_dir(disk, c->dir, &c->s, c->why, sizeof(c->why));
	if (r == 0 && summary_matches(&m, &c->s)) {
		c->found = true;
		return 0;
	}
	if (r == 0)
		(void)fail(c->why, sizeof(c->why), 0,
			 "%s: the parts disagree with %s/" CKPT_MANIFEST_NAME
			 " (generation, workers, start LSNs or item counts)", c->dir, cdir);
	else if (r != -ENODATA && r != -EUCLEAN && r != -EPROTO && r != -EINVAL)
		return fail(err, err_len, r, "%s", c->why); /* an I/O error: not a verdict */
	/* Fallback: safe down to the previous named checkpoint (retention rule
	 * in ckpt_manifest.h); with none, nothing was retired at all. */
	lo = m.previous_id;
	r = pick_fallback(disk, cdir, lo, m.checkpoint_id, c);
	if (r < 0)
		return fail(err, err_len, r, "%s: %s", cdir, strerror(-r));
	if (r == 1) {
		c->found = true;
		c->fallback = true;
		return 0;
	}
	if (m.previous_id == 0) {
		char why[CKPT_ERR_MAX];

		memcpy(why, c->why, sizeof(why));
		memset(c, 0, sizeof(*c));
		memcpy(c->why, why, sizeof(why));
		c->fallback = true;
		return 0; /* no older named checkpoint: the whole log is still there */
	}
	return fail(err, err_len, -EUCLEAN,
		    "%s; no complete checkpoint from %" PRIu64 " (the previous one) to %" PRIu64
		    " remains, and the log an older one needs may have been recycled",
		    c->why, m.previous_id, m.checkpoint_id);
}

int ckpt_list_older(struct disk *disk, const char *checkpoints_dir, uint64_t below_id,
		    struct disk_name **names, uint32_t *count)
{
	struct disk_name *all;
	uint32_t n;
	uint32_t kept = 0;
	int r = disk_list_all(disk, checkpoints_dir, &all, &n);

	if (r != 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t id;

		if (ckpt_dir_parse(all[i].name, &id) == 0 && id < below_id)
			all[kept++] = all[i];
	}
	qsort(all, kept, sizeof(*all), cmp_name_asc);
	if (kept == 0) {
		free(all);
		all = NULL;
	}
	*names = all;
	*count = kept;
	return 0;
}

int ckpt_next_id(struct disk *disk, const char *checkpoints_dir, uint64_t *id)
{
	struct disk_name *all;
	struct ckpt_manifest m;
	uint64_t max = 0;
	uint32_t n;
	int r = disk_list_all(disk, checkpoints_dir, &all, &n);

	if (r != 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v;

		if (ckpt_dir_parse(all[i].name, &v) == 0 && v > max)
			max = v;
	}
	free(all);
	/* The fake disk lists no folders; the manifest's id is a floor. */
	if (ckpt_manifest_read(disk, checkpoints_dir, &m, NULL, 0) == 0 && m.checkpoint_id > max)
		max = m.checkpoint_id;
	if (max >= CKPT_ID_MAX)
		return -EOVERFLOW;
	*id = max + 1;
	return 0;
}
