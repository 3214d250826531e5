/* disk_posix.c - struct disk over the real file system.
 *
 * DESIGN
 * Thin: each operation is one system call, its -1/errno turned into a
 * negative errno. Files are opened O_CLOEXEC; directories are synced by
 * opening them O_RDONLY|O_DIRECTORY and calling fsync, which is how a rename
 * or a new name becomes durable on Linux.
 */
#include "disk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int px_open(struct disk *d, const char *path, int flags, int *fd)
{
	int oflags = O_CLOEXEC | ((flags & DISK_O_RDONLY) ? O_RDONLY : O_RDWR);
	int r;

	(void)d;
	if (flags & DISK_O_CREATE)
		oflags |= O_CREAT;
	if (flags & DISK_O_EXCL)
		oflags |= O_EXCL;
	r = open(path, oflags, 0644);
	if (r < 0)
		return -errno;
	*fd = r;
	return 0;
}

static int px_close(struct disk *d, int fd)
{
	(void)d;
	return close(fd) == 0 ? 0 : -errno;
}

static int64_t px_pread(struct disk *d, int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	(void)d;
	n = pread(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static int64_t px_pwrite(struct disk *d, int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	(void)d;
	n = pwrite(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static int px_fdatasync(struct disk *d, int fd)
{
	(void)d;
	return fdatasync(fd) == 0 ? 0 : -errno;
}

static int px_fsync_dir(struct disk *d, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	(void)d;
	if (fd < 0)
		return -errno;
	r = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

static int px_fallocate(struct disk *d, int fd, uint64_t off, uint64_t len)
{
	(void)d;
	/* posix_fallocate returns the error instead of setting errno. */
	return -posix_fallocate(fd, (off_t)off, (off_t)len);
}

static int px_ftruncate(struct disk *d, int fd, uint64_t len)
{
	(void)d;
	return ftruncate(fd, (off_t)len) == 0 ? 0 : -errno;
}

static int px_rename(struct disk *d, const char *from, const char *to)
{
	(void)d;
	return rename(from, to) == 0 ? 0 : -errno;
}

static int px_unlink(struct disk *d, const char *path)
{
	(void)d;
	return unlink(path) == 0 ? 0 : -errno;
}

static int px_file_size(struct disk *d, int fd, uint64_t *bytes)
{
	struct stat st;

	(void)d;
	if (fstat(fd, &st) != 0)
		return -errno;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

static int px_mkdir(struct disk *d, const char *path)
{
	(void)d;
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static int px_list(struct disk *d, const char *dir, struct disk_name *names, uint32_t max,
		      uint32_t *count)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	uint32_t n = 0;

	(void)d;
	if (dp == NULL)
		return -errno;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t len = strlen(e->d_name);

		if (len >= DISK_NAME_MAX)
			continue; /* not a name this library writes */
		if (n < max)
			memcpy(names[n].name, e->d_name, len + 1);
		n++;
	}
	closedir(dp);
	*count = n;
	return 0;
}

static const struct disk_ops disk_posix_ops = {
	.open = px_open,
	.close = px_close,
	.pread = px_pread,
	.pwrite = px_pwrite,
	.fdatasync = px_fdatasync,
	.fsync_dir = px_fsync_dir,
	.fallocate = px_fallocate,
	.ftruncate = px_ftruncate,
	.rename = px_rename,
	.unlink = px_unlink,
	.file_size = px_file_size,
	.mkdir = px_mkdir,
	.list = px_list,
};

void disk_posix_init(struct disk *d)
{
	d->ops = &disk_posix_ops;
	d->kernel_fds = true;
}
