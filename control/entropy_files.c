/* entropy_files.c - the entropy monitor's files (see entropy_files.h).
 *
 * DESIGN: the two JSON documents are replaced whole (json_file.h: NAME.tmp,
 * fsync, rename, fsync the directory), so a reader or a crash sees the old
 * file or the new one. The CSV and the JSON-lines log are appended; a crash may
 * leave a last line cut short, which a reader skips.
 */
#include "entropy_files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_file.h"

static int fail(char *err, size_t len, const char *path, int rc)
{
	snprintf(err, len, "%s: %s", path, strerror(-rc));
	return rc;
}

/* dir exists as a directory (made if missing). */
static int make_dir(const char *dir, char *err, size_t len)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return fail(err, len, dir, -errno);
	if (stat(dir, &st) != 0)
		return fail(err, len, dir, -errno);
	if (!S_ISDIR(st.st_mode))
		return fail(err, len, dir, -ENOTDIR);
	return 0;
}

int entropy_files_open(struct entropy_files *f, const char *data_dir, char *err, size_t len)
{
	char dir[sizeof(f->dir)];
	int rc;

	memset(f, 0, sizeof(*f));
	f->history_every_s = ENTROPY_HISTORY_EVERY_S;
	f->rotate_bytes = ENTROPY_HISTORY_ROTATE_BYTES;
	if (data_dir == NULL)
		return 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/entropy", data_dir) >= sizeof(dir))
		return fail(err, len, data_dir, -ENAMETOOLONG);
	rc = make_dir(data_dir, err, len);
	if (rc == 0)
		rc = make_dir(dir, err, len);
	if (rc == 0 && access(dir, W_OK | X_OK) != 0)
		rc = fail(err, len, dir, -errno);
	if (rc == 0)
		snprintf(f->dir, sizeof(f->dir), "%s", dir);
	return rc;
}

int entropy_files_state(const struct entropy_files *f, const json_t *state, char *err,
			size_t len)
{
	return f->dir[0] ? json_file_write_atomic(f->dir, "current_state.json", state, err, len) : 1;
}

int entropy_files_demon(const struct entropy_files *f, const json_t *stats, char *err,
			size_t len)
{
	return f->dir[0] ? json_file_write_atomic(f->dir, "maxwell_demon_stats.json", stats, err,
						  len)
			 : 1;
}

json_t *entropy_files_load_demon(const struct entropy_files *f)
{
	char path[600];
	json_t *j;

	if (!f->dir[0])
		return NULL;
	snprintf(path, sizeof(path), "%s/maxwell_demon_stats.json", f->dir);
	j = json_load_file(path, 0, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Append text to dir/name; header first when the file is new or empty. */
static int append(const char *dir, const char *name, const char *header, const char *text,
		  bool sync, char *err, size_t len)
{
	char path[600];
	FILE *fp;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "a");
	if (fp == NULL)
		return fail(err, len, path, -errno);
	errno = 0;
	if ((header != NULL && ftell(fp) == 0 && fprintf(fp, "%s\n", header) < 0) ||
	    fputs(text, fp) == EOF || fflush(fp) != 0 || (sync && fsync(fileno(fp)) != 0))
		rc = errno != 0 ? -errno : -EIO;
	if (fclose(fp) != 0 && rc == 0)
		rc = -errno;
	return rc == 0 ? 0 : fail(err, len, path, rc);
}

static void csv_num(char *buf, size_t len, double v)
{
	if (isnan(v) || isinf(v))
		snprintf(buf, len, ",");
	else
		snprintf(buf, len, ",%.6g", v);
}

int entropy_files_history(struct entropy_files *f, const struct entropy_sample *s, char *err,
			  size_t len)
{
	char path[600], old[610], row[256], cell[4][40];
	struct stat st;

	if (!f->dir[0] || (f->last_row > 0 && s->unix_time < f->last_row + f->history_every_s))
		return 1;
	snprintf(path, sizeof(path), "%s/historical_entropy.csv", f->dir);
	if (stat(path, &st) == 0 && (uint64_t)st.st_size >= f->rotate_bytes) {
		snprintf(old, sizeof(old), "%s.1", path);
		if (rename(path, old) != 0)
			return fail(err, len, path, -errno);
	}
	csv_num(cell[0], sizeof(cell[0]), s->imbalance);
	csv_num(cell[1], sizeof(cell[1]), s->entropy_workers);
	csv_num(cell[2], sizeof(cell[2]), s->entropy_regions);
	csv_num(cell[3], sizeof(cell[3]), s->requests_per_s);
	snprintf(row, sizeof(row), "%.3f%s%s%s%s\n", s->unix_time, cell[0], cell[1], cell[2],
		 cell[3]);
	f->last_row = s->unix_time;
	return append(f->dir, "historical_entropy.csv", ENTROPY_CSV_HEADER, row, false, err, len);
}

int entropy_files_log(const struct entropy_files *f, const json_t *line, char *err, size_t len)
{
	char *text, *nl;
	size_t n;
	int rc;

	if (!f->dir[0])
		return 1;
	text = json_dumps(line, JSON_COMPACT);
	nl = text != NULL ? realloc(text, (n = strlen(text)) + 2) : NULL;
	if (nl == NULL) {
		free(text);
		return fail(err, len, "rebalancing_log.jsonl", -ENOMEM);
	}
	nl[n] = '\n';
	nl[n + 1] = 0;
	rc = append(f->dir, "rebalancing_log.jsonl", NULL, nl, true, err, len);
	free(nl);
	return rc;
}
