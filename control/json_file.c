/* json_file.c - JSON files written atomically (see json_file.h). */
#include "json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int json_file_write_atomic(const char *dir, const char *name, const json_t *j, char *err,
			   size_t err_len)
{
	char path[600], tmp[610];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		rc = -errno;
		goto fail;
	}
	if (json_dumpf(j, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = errno != 0 ? -errno : -EIO;
		fclose(f);
		unlink(tmp);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
		goto fail;
	}
	rc = fsync_path(dir, O_RDONLY | O_DIRECTORY);
	if (rc == 0)
		return 0;
fail:
	snprintf(err, err_len, "%s: %s", path, strerror(-rc));
	return rc;
}

int json_file_mkdirs(const char *path, char *err, size_t err_len)
{
	char p[512];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(p)) {
		snprintf(err, err_len, "%.400s: path empty or too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(p, path, n + 1);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int rc = -errno;

			snprintf(err, err_len, "%s: %s", p, strerror(-rc));
			return rc;
		}
		*s = c;
		if (c == '\0')
			return 0;
	}
}
