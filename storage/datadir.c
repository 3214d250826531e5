/* datadir.c - open, lock, initialise and validate the data directory.
 *
 * DESIGN
 * Start-up code, not a hot path: plain system calls on the real file system
 * (the directory's small JSON files are read and written with jansson). The
 * lock is an flock on DIR/lock, taken before anything is read, so a second
 * process on the same directory is refused before it can replay or append;
 * the kernel drops the lock when the process dies, so a crash never leaves
 * a stale lock. The pid written into the lock file only makes the refusal
 * message helpful.
 *
 * The manifest is replaced atomically (write a temporary file, fsync it,
 * rename it over, fsync the directory): a power cut leaves the old or the
 * new one, never half of one. The configuration is only read here; it is
 * written once, with defaults, when the directory is initialised.
 */
#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "wal_record.h"
#include "wal_segment.h"

#define MANIFEST "universe.manifest"
#define CONFIG "configuration/universe.json"

const char *datadir_durability_name(enum datadir_durability d)
{
	switch (d) {
	case DATADIR_DURABILITY_WEAK:
		return "weak";
	case DATADIR_DURABILITY_EVENTUAL:
		return "eventual";
	case DATADIR_DURABILITY_STRONG:
		return "strong";
	}
	return "?";
}

static int path_in(const struct datadir *dd, const char *name, char *out)
{
	int n = snprintf(out, DISK_PATH_MAX, "%s/%s", dd->path, name);

	return n > 0 && n < DISK_PATH_MAX ? 0 : -ENAMETOOLONG;
}

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

/* Writes text to DIR/name through a temporary file, durably. */
static int write_atomic(const struct datadir *dd, const char *name, const char *text, char *err,
			size_t err_len)
{
	char path[DISK_PATH_MAX];
	char tmp[DISK_PATH_MAX + 8];
	size_t len = strlen(text);
	int fd;
	int r = path_in(dd, name, path);

	if (r != 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create: %s", tmp, strerror(-r));
		return r;
	}
	r = write(fd, text, len) == (ssize_t)len ? 0 : (errno ? -errno : -EIO);
	if (r == 0 && fsync(fd) != 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r == 0) {
		/* The rename is durable once the folder that holds the file is
		 * synced (DIR itself, or the subfolder made and synced at
		 * initialisation): one fsync, not one per level. */
		char holder[DISK_PATH_MAX];

		snprintf(holder, sizeof(holder), "%s", path);
		*strrchr(holder, '/') = '\0';
		r = fsync_path(holder, true);
	}
	if (r != 0)
		snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

int datadir_write_json(const struct datadir *dd, const char *name, json_t *obj, char *err,
		       size_t err_len)
{
	char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int r;

	if (text == NULL)
		return -ENOMEM;
	{
		size_t n = strlen(text);
		char *with_nl = malloc(n + 2);

		if (with_nl == NULL) {
			free(text);
			return -ENOMEM;
		}
		memcpy(with_nl, text, n);
		with_nl[n] = '\n';
		with_nl[n + 1] = '\0';
		r = write_atomic(dd, name, with_nl, err, err_len);
		free(with_nl);
	}
	free(text);
	return r;
}

static int write_manifest(const struct datadir *dd, uint64_t generation, char *err, size_t err_len)
{
	json_t *m = json_pack("{s:i, s:i, s:s, s:s, s:I}", "format_version", DATADIR_FORMAT_VERSION,
			      "region_count", (int)WAL_REGIONS, "hash", DATADIR_HASH, "created",
			      dd->created_at, "generation", (json_int_t)generation);
	int r;

	if (m == NULL)
		return -ENOMEM;
	r = datadir_write_json(dd, MANIFEST, m, err, err_len);
	json_decref(m);
	return r;
}

/* Names in DIR other than the lock file: a fresh directory has none. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "lock") != 0)
			n++;
	closedir(d);
	return n;
}

static int make_dir(const struct datadir *dd, const char *name, char *err, size_t err_len)
{
	char path[DISK_PATH_MAX];
	int r = path_in(dd, name, path);

	if (r != 0)
		return r;
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create directory: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

static int initialise(struct datadir *dd, char *err, size_t err_len)
{
	time_t now = time(NULL);
	struct tm tm;
	json_t *c;
	int r;

	gmtime_r(&now, &tm);
	strftime(dd->created_at, sizeof(dd->created_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((r = make_dir(dd, "wal", err, err_len)) != 0 ||
	    (r = make_dir(dd, "checkpoints", err, err_len)) != 0 ||
	    (r = make_dir(dd, "configuration", err, err_len)) != 0)
		return r;
	c = json_pack("{s:s, s:i, s:I}", "default_durability", "eventual", "group_commit_interval_us",
		      (int)DATADIR_GROUP_COMMIT_US_DEFAULT, "segment_bytes",
		      (json_int_t)WAL_SEGMENT_BYTES_DEFAULT);
	if (c == NULL)
		return -ENOMEM;
	r = datadir_write_json(dd, CONFIG, c, err, err_len);
	json_decref(c);
	/* The manifest last: a directory with a manifest is initialised. */
	if (r == 0)
		r = write_manifest(dd, 0, err, err_len);
	dd->created = r == 0;
	return r;
}

static json_t *load(const struct datadir *dd, const char *name, char *err, size_t err_len)
{
	char path[DISK_PATH_MAX];
	json_error_t je;
	json_t *j;

	if (path_in(dd, name, path) != 0)
		return NULL;
	j = json_load_file(path, 0, &je);
	if (j == NULL) {
		snprintf(err, err_len, "%s: not valid JSON: %s (line %d, column %d)", path, je.text,
			 je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, err_len, "%s: expected a JSON object", path);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int read_manifest(struct datadir *dd, uint64_t *generation, char *err, size_t err_len)
{
	json_t *m = load(dd, MANIFEST, err, err_len);
	json_t *v;
	int r = -EINVAL;

	if (m == NULL)
		return -EINVAL;
	v = json_object_get(m, "format_version");
	if (!json_is_integer(v)) {
		snprintf(err, err_len, "%s/" MANIFEST ": key format_version: missing or not an integer "
			 "(expected %d)", dd->path, DATADIR_FORMAT_VERSION);
	} else if (json_integer_value(v) != DATADIR_FORMAT_VERSION) {
		snprintf(err, err_len, "%s/" MANIFEST ": key format_version: %" JSON_INTEGER_FORMAT
			 " is not a format this build reads (expected %d); refusing to touch the "
			 "directory", dd->path, json_integer_value(v), DATADIR_FORMAT_VERSION);
		r = -EPROTO;
	} else if (!json_is_integer(v = json_object_get(m, "region_count")) ||
		   json_integer_value(v) != WAL_REGIONS) {
		snprintf(err, err_len, "%s/" MANIFEST ": key region_count: expected %u", dd->path,
			 WAL_REGIONS);
	} else if (!json_is_string(v = json_object_get(m, "hash")) ||
		   strcmp(json_string_value(v), DATADIR_HASH) != 0) {
		snprintf(err, err_len, "%s/" MANIFEST ": key hash: expected \"%s\"", dd->path,
			 DATADIR_HASH);
	} else if (!json_is_integer(v = json_object_get(m, "generation")) ||
		   json_integer_value(v) < 0) {
		snprintf(err, err_len, "%s/" MANIFEST ": key generation: expected an integer >= 0",
			 dd->path);
	} else {
		*generation = (uint64_t)json_integer_value(v);
		v = json_object_get(m, "created");
		snprintf(dd->created_at, sizeof(dd->created_at), "%s",
			 json_is_string(v) ? json_string_value(v) : "unknown");
		r = 0;
	}
	json_decref(m);
	return r;
}

static int read_config(struct datadir *dd, char *err, size_t err_len)
{
	json_t *c = load(dd, CONFIG, err, err_len);
	const char *key;
	json_t *v;
	int r = 0;

	if (c == NULL)
		return -EINVAL;
	dd->cfg.default_durability = DATADIR_DURABILITY_EVENTUAL;
	dd->cfg.group_commit_interval_us = DATADIR_GROUP_COMMIT_US_DEFAULT;
	dd->cfg.segment_bytes = WAL_SEGMENT_BYTES_DEFAULT;
	json_object_foreach(c, key, v)
	{
		char *shown = json_dumps(v, JSON_ENCODE_ANY);
		const char *val = shown != NULL ? shown : "?";

		if (strcmp(key, "default_durability") == 0) {
			const char *s = json_is_string(v) ? json_string_value(v) : "";

			if (strcmp(s, "strong") == 0)
				dd->cfg.default_durability = DATADIR_DURABILITY_STRONG;
			else if (strcmp(s, "eventual") == 0)
				dd->cfg.default_durability = DATADIR_DURABILITY_EVENTUAL;
			else if (strcmp(s, "weak") == 0)
				dd->cfg.default_durability = DATADIR_DURABILITY_WEAK;
			else
				r = -EINVAL;
			if (r != 0)
				snprintf(err, err_len, "%s/" CONFIG ": key default_durability: %s; expected "
					 "\"strong\", \"eventual\" or \"weak\"", dd->path, val);
		} else if (strcmp(key, "group_commit_interval_us") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > DATADIR_GROUP_COMMIT_US_MAX) {
				r = -EINVAL;
				snprintf(err, err_len, "%s/" CONFIG ": key group_commit_interval_us: %s; "
					 "expected an integer from 1 to %u", dd->path, val,
					 DATADIR_GROUP_COMMIT_US_MAX);
			} else {
				dd->cfg.group_commit_interval_us = (uint32_t)json_integer_value(v);
			}
		} else if (strcmp(key, "segment_bytes") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < WAL_SEGMENT_BYTES_MIN ||
			    (uint64_t)json_integer_value(v) > DATADIR_SEGMENT_BYTES_MAX ||
			    json_integer_value(v) % 4096 != 0) {
				r = -EINVAL;
				snprintf(err, err_len, "%s/" CONFIG ": key segment_bytes: %s; expected a "
					 "multiple of 4096 from %u to %llu", dd->path, val,
					 WAL_SEGMENT_BYTES_MIN, DATADIR_SEGMENT_BYTES_MAX);
			} else {
				dd->cfg.segment_bytes = (uint64_t)json_integer_value(v);
			}
		} else {
			r = -EINVAL;
			snprintf(err, err_len, "%s/" CONFIG ": unknown key %s (known: default_durability, "
				 "group_commit_interval_us, segment_bytes)", dd->path, key);
		}
		free(shown);
		if (r != 0)
			break;
	}
	json_decref(c);
	return r;
}

static int take_lock(struct datadir *dd, char *err, size_t err_len)
{
	char path[DISK_PATH_MAX];
	char pid[32] = "";
	int r = path_in(dd, "lock", path);

	if (r != 0)
		return r;
	dd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (dd->lock_fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot open the lock file: %s", path, strerror(-r));
		return r;
	}
	if (flock(dd->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY) {
			ssize_t n = pread(dd->lock_fd, pid, sizeof(pid) - 1, 0);

			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			snprintf(err, err_len, "data directory %s is in use by another process (pid %s "
				 "holds %s)", dd->path, pid[0] ? pid : "unknown", path);
		} else {
			snprintf(err, err_len, "%s: cannot lock: %s", path, strerror(-r));
		}
		close(dd->lock_fd);
		dd->lock_fd = -1;
		return r;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	{
		ssize_t n = ftruncate(dd->lock_fd, 0) == 0 ? pwrite(dd->lock_fd, pid, strlen(pid), 0) : -1;

		(void)n; /* a failure costs only the pid in another process's refusal */
	}
	return 0;
}

int datadir_open(struct datadir *dd, const char *path, char *err, size_t err_len)
{
	char manifest[DISK_PATH_MAX];
	uint64_t generation = 0;
	struct stat st;
	int r;

	memset(dd, 0, sizeof(*dd));
	dd->lock_fd = -1;
	if (strlen(path) + 64 >= DISK_PATH_MAX) {
		snprintf(err, err_len, "data directory path too long: %s", path);
		return -ENAMETOOLONG;
	}
	snprintf(dd->path, sizeof(dd->path), "%s", path);
	snprintf(dd->wal_dir, sizeof(dd->wal_dir), "%s/wal", path);
	if (mkdir(path, 0755) == 0) {
		/* Created now: its entry in the parent is durable only once the
		 * parent is synced (fsync of DIR syncs DIR's entries, not DIR's
		 * own name); without this a power cut after the first strong
		 * writes could lose the whole directory. */
		char parent[DISK_PATH_MAX];
		char *slash;

		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash == NULL)
			snprintf(parent, sizeof(parent), ".");
		else if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		if ((r = fsync_path(parent, true)) != 0) {
			snprintf(err, err_len, "%s: cannot sync the folder holding the new data "
				 "directory: %s", parent, strerror(-r));
			return r;
		}
	} else if (errno != EEXIST) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create the data directory: %s", path, strerror(-r));
		return r;
	}
	if ((r = take_lock(dd, err, err_len)) != 0)
		return r;
	snprintf(manifest, sizeof(manifest), "%s/" MANIFEST, path);
	if (stat(manifest, &st) != 0) {
		int n = count_entries(path);

		if (n != 0) {
			r = n < 0 ? n : -EINVAL;
			snprintf(err, err_len, "%s: has no %s but is not empty: not a data directory "
				 "(or its manifest was lost); refusing to initialise it", path, MANIFEST);
			goto fail;
		}
		if ((r = initialise(dd, err, err_len)) != 0)
			goto fail;
	}
	if ((r = read_manifest(dd, &generation, err, err_len)) != 0 ||
	    (r = read_config(dd, err, err_len)) != 0)
		goto fail;
	if ((r = make_dir(dd, "wal", err, err_len)) != 0 ||
	    (r = make_dir(dd, "checkpoints", err, err_len)) != 0)
		goto fail;
	dd->generation = generation + 1;
	if ((r = write_manifest(dd, dd->generation, err, err_len)) != 0)
		goto fail;
	return 0;
fail:
	datadir_close(dd);
	return r;
}

void datadir_close(struct datadir *dd)
{
	if (dd->lock_fd >= 0)
		close(dd->lock_fd); /* releases the flock */
	dd->lock_fd = -1;
}
