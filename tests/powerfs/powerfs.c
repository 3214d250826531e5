/* powerfs.c - a FUSE pass-through that forgets unsynced file data.
 *
 *   powerfs BACKING MOUNTPOINT [-f] [-o opt,...]
 *
 * A test file system for power-loss tests (tests/integration/
 * test_power_loss_fuse.sh). Every name operation passes through to the
 * directory BACKING at once, but the data written into a file stays in this
 * process's memory until the file is fsync'ed or fdatasync'ed; only then is
 * it written to the backing file (and synced there). Killing this process
 * (SIGKILL, or SIGUSR1: "cut", an immediate _exit) loses exactly what a power
 * cut loses on a disk whose cache is not flushed: every write, size change
 * and fallocate'd extension since the file's last sync. close() makes nothing
 * durable, as on a real disk. SIGUSR2 cuts at the next fsync request
 * (instead of doing it): the moment a writer's last data is here, unsynced.
 * A clean unmount (SIGTERM, fusermount3 -u) writes everything out first, as
 * a clean shutdown does.
 *
 * MODEL
 * - Per backing inode (device + inode number, so the state follows a rename
 *   and is shared by every open of the file, also after close) an overlay:
 *   a copy-on-write image of dirty 4 KiB pages over the backing file, the
 *   file's logical size, and the lowest size it was truncated to since the
 *   last sync (bytes of the backing file at or past that read as zeros).
 *   Reads merge the overlay over the backing file; getattr reports the
 *   logical size.
 * - fsync/fdatasync: truncate the backing file if the overlay was truncated,
 *   write the dirty pages, set the size, then fsync/fdatasync the backing
 *   file. A failure leaves the pages dirty (a later sync writes them again).
 *   A process killed during a sync leaves the pages it had written in the
 *   backing file: a flush cut half-way, nothing of it promised.
 * - fallocate (mode 0 only): space is reserved in the backing file at once
 *   with FALLOC_FL_KEEP_SIZE (so ENOSPC comes from the call, as on a disk),
 *   the size grows in memory only: the extension is durable after a sync.
 * - Names (create, mkdir, rename, unlink, rmdir) pass through at once and
 *   are NOT undone by a cut: this model is weaker than storage/disk_fake.c's
 *   strict one, where a folder change never synced with fsync_dir is undone.
 *   fsyncdir syncs the backing folder (it costs what it would).
 * - Locks: no flock or lock operation is implemented, so the kernel keeps
 *   flock() and fcntl() locks locally on the FUSE inode, which is what a
 *   single machine needs (storage/datadir.c's flock on DIR/lock works).
 * - Not modelled: sectors torn inside (a sector reaching the disk holds its
 *   old or its new content, never garbage: disk_fake.c's whole-sector
 *   garbage is stricter), names undone, mmap, xattrs, hard links, O_DIRECT
 *   semantics. Without POWERFS_EARLY_WRITEBACK unsynced data never reaches
 *   the disk before a cut. Files up to POWERFS_MAX_BYTES (4 GiB) may hold
 *   dirty pages.
 *
 * POWERFS_EARLY_WRITEBACK=N (percent, 0-100): each 512-byte sector a write
 * touches also reaches the backing file at once with probability N% (it
 * stays dirty here and is written again at the sync), as a kernel's
 * writeback and a disk store unsynced data at any time and in any order:
 * after a cut the backing file holds a random subset of the unsynced sectors
 * over the synced state (a log's tail torn, later sectors of a batch without
 * earlier ones). Truncations and size changes still wait for the sync. The
 * choice is pseudo-random, seeded by POWERFS_SEED or the process id.
 *
 * POWERFS_LIE_DATASYNC=1 in the environment makes a lying disk: fdatasync
 * answers success and keeps nothing (fsync stays honest), for the test that
 * shows the checks catch acknowledged writes lost by a cut.
 *
 * Single-threaded (-s is always added): no locking inside.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#define PAGE 4096u
#define POWERFS_MAX_BYTES (4ull << 30)

#define OV_MAGIC 0x4f564c59u  /* first word of a file handle */
#define DIR_MAGIC 0x44495248u /* first word of a folder handle */

struct overlay {
	uint32_t magic; /* OV_MAGIC */
	dev_t dev;
	ino_t ino;
	int fd;             /* the backing file, read-write; keeps the inode alive */
	unsigned opens;     /* FUSE handles open on it */
	uint64_t size;      /* logical size, unsynced changes included */
	uint64_t disk_size; /* the backing file's size at the last sync */
	uint64_t trunc_to;  /* backing bytes at or past this read as zeros */
	uint8_t **pages;    /* dirty pages by index, NULL when clean */
	size_t npages;      /* length of pages[] */
	size_t ndirty;
	struct overlay *next;
};

static int backing_fd = -1;        /* BACKING, for the *at() calls */
static struct overlay *overlays;   /* every overlay, a short list */
static volatile sig_atomic_t cut_at_sync; /* SIGUSR2: cut at the next fsync */
static bool lie_datasync;          /* POWERFS_LIE_DATASYNC: fdatasync does nothing */
static unsigned early_pct;         /* POWERFS_EARLY_WRITEBACK */
static uint64_t rng_state;         /* xorshift64 for early writeback */

/* "/a/b" -> "a/b", "/" -> "." : paths relative to BACKING. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

static struct overlay *ov_find(dev_t dev, ino_t ino)
{
	for (struct overlay *o = overlays; o; o = o->next)
		if (o->dev == dev && o->ino == ino)
			return o;
	return NULL;
}

static bool ov_clean(const struct overlay *o)
{
	return o->ndirty == 0 && o->size == o->disk_size && o->trunc_to >= o->disk_size;
}

static void ov_free(struct overlay *o)
{
	for (struct overlay **p = &overlays; *p; p = &(*p)->next) {
		if (*p == o) {
			*p = o->next;
			break;
		}
	}
	for (size_t i = 0; i < o->npages; i++)
		free(o->pages[i]);
	free(o->pages);
	close(o->fd);
	free(o);
}

/* Drops an overlay no handle uses whose data cannot matter any more: clean,
 * or its file has no name left (unlinked or replaced by a rename). */
static void ov_maybe_free(struct overlay *o)
{
	struct stat st;

	if (o == NULL || o->opens > 0)
		return;
	if (ov_clean(o) || (fstat(o->fd, &st) == 0 && st.st_nlink == 0))
		ov_free(o);
}

/* The overlay of an open backing descriptor: the existing one for its inode
 * (fd is closed then) or a new one that takes fd. */
static int ov_get(int fd, struct overlay **out)
{
	struct stat st;
	struct overlay *o;

	if (fstat(fd, &st) != 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	o = ov_find(st.st_dev, st.st_ino);
	if (o != NULL) {
		close(fd);
		*out = o;
		return 0;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		close(fd);
		return -ENOMEM;
	}
	o->magic = OV_MAGIC;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->fd = fd;
	o->size = o->disk_size = o->trunc_to = (uint64_t)st.st_size;
	o->next = overlays;
	overlays = o;
	*out = o;
	return 0;
}

/* The overlay of the regular file at path, if one exists. */
static struct overlay *ov_of_path(const char *path)
{
	struct stat st;

	if (fstatat(backing_fd, rel(path), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	return ov_find(st.st_dev, st.st_ino);
}

/* Bytes [off, off+len) as the backing file holds them, minus what a
 * truncation since the last sync took away: zeros there and past its end. */
static int read_clean(struct overlay *o, uint8_t *buf, uint64_t off, size_t len)
{
	uint64_t lim = o->trunc_to < o->disk_size ? o->trunc_to : o->disk_size;
	size_t got = 0;

	while (off + got < lim && got < len) {
		size_t want = len - got;
		ssize_t n;

		if (off + got + want > lim)
			want = (size_t)(lim - off - got);
		n = pread(o->fd, buf + got, want, (off_t)(off + got));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(buf + got, 0, len - got);
	return 0;
}

/* The dirty page of index i, made from the clean bytes when new. */
static int page_get(struct overlay *o, size_t i, uint8_t **out)
{
	if (i >= o->npages) {
		size_t n = o->npages ? o->npages : 64;
		uint8_t **p;

		while (n <= i)
			n *= 2;
		p = realloc(o->pages, n * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		memset(p + o->npages, 0, (n - o->npages) * sizeof(*p));
		o->pages = p;
		o->npages = n;
	}
	if (o->pages[i] == NULL) {
		uint8_t *pg = malloc(PAGE);
		int r;

		if (pg == NULL)
			return -ENOMEM;
		if ((r = read_clean(o, pg, (uint64_t)i * PAGE, PAGE)) != 0) {
			free(pg);
			return r;
		}
		o->pages[i] = pg;
		o->ndirty++;
	}
	*out = o->pages[i];
	return 0;
}

/* The logical size becomes len: pages past it go, the one it ends in keeps
 * zeros past it, backing bytes past it read as zeros until the next sync. */
static int ov_truncate(struct overlay *o, uint64_t len)
{
	if (len > POWERFS_MAX_BYTES)
		return -EFBIG;
	if (len < o->size) {
		for (size_t i = (size_t)((len + PAGE - 1) / PAGE); i < o->npages; i++) {
			if (o->pages[i]) {
				free(o->pages[i]);
				o->pages[i] = NULL;
				o->ndirty--;
			}
		}
		if (len % PAGE && len / PAGE < o->npages && o->pages[len / PAGE])
			memset(o->pages[len / PAGE] + len % PAGE, 0, PAGE - len % PAGE);
		if (len < o->trunc_to)
			o->trunc_to = len;
	}
	o->size = len;
	return 0;
}

/* fsync/fdatasync: the overlay reaches the backing file, then its disk. */
static int ov_sync(struct overlay *o, int datasync)
{
	struct stat st;

	/* The backing file's real size: early writeback may have grown it. */
	if (fstat(o->fd, &st) != 0)
		return -errno;
	if (o->trunc_to < (uint64_t)st.st_size) {
		if (ftruncate(o->fd, (off_t)o->trunc_to) != 0)
			return -errno;
	}
	for (size_t i = 0; i < o->npages; i++) {
		uint64_t off = (uint64_t)i * PAGE;
		size_t len = PAGE;
		size_t done = 0;

		if (o->pages[i] == NULL)
			continue;
		if (off >= o->size) /* cannot happen: truncation drops them */
			continue;
		if (o->size - off < len)
			len = (size_t)(o->size - off);
		while (done < len) {
			ssize_t n = pwrite(o->fd, o->pages[i] + done, len - done, (off_t)(off + done));

			if (n < 0)
				return -errno; /* the pages stay dirty */
			done += (size_t)n;
		}
	}
	if (fstat(o->fd, &st) != 0)
		return -errno;
	if ((uint64_t)st.st_size != o->size && ftruncate(o->fd, (off_t)o->size) != 0)
		return -errno;
	o->disk_size = o->size;
	if ((datasync ? fdatasync(o->fd) : fsync(o->fd)) != 0)
		return -errno;
	for (size_t i = 0; i < o->npages; i++) {
		free(o->pages[i]);
		o->pages[i] = NULL;
	}
	o->ndirty = 0;
	o->trunc_to = o->size;
	return 0;
}

/* A folder's handle: its path (with nullpath_ok libfuse passes no path to
 * the operations that get a handle). */
struct dirh {
	uint32_t magic; /* DIR_MAGIC */
	char path[];
};

static struct overlay *fh_ov(struct fuse_file_info *fi)
{
	return (struct overlay *)(uintptr_t)fi->fh;
}

/* The overlay of a handle, NULL for a folder's (setattr on a folder's
 * descriptor, fchmod or futimens, comes with that handle). */
static struct overlay *fh_file(struct fuse_file_info *fi)
{
	struct overlay *o = fi != NULL ? fh_ov(fi) : NULL;

	return o != NULL && o->magic == OV_MAGIC ? o : NULL;
}

static const char *dir_of(const char *path, struct fuse_file_info *fi)
{
	if (fi != NULL && fi->fh != 0 && ((struct dirh *)(uintptr_t)fi->fh)->magic == DIR_MAGIC)
		return ((struct dirh *)(uintptr_t)fi->fh)->path;
	return rel(path);
}

/* ---- FUSE operations ---------------------------------------------------- */

static void *pf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	/* The kernel must not hold dirty pages of its own: every write comes
	 * here at once (write-through, libfuse's default, made sure). */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	cfg->use_ino = 1;
	/* Unlink of an open file really unlinks (no .fuse_hidden renames in
	 * the backing folder); open files are reached through fi->fh. */
	cfg->hard_remove = 1;
	cfg->nullpath_ok = 1;
	return NULL;
}

/* A clean unmount is a clean shutdown: everything is written out. */
static void pf_destroy(void *data)
{
	(void)data;
	while (overlays) {
		struct overlay *o = overlays;

		if (ov_sync(o, 0) != 0)
			fprintf(stderr, "powerfs: unmount: sync of inode %lu failed: %s\n",
				(unsigned long)o->ino, strerror(errno));
		ov_free(o);
	}
}

static int pf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct overlay *o;

	if ((o = fh_file(fi)) != NULL) {
		if (fstat(o->fd, st) != 0)
			return -errno;
	} else {
		if (fstatat(backing_fd, dir_of(path, fi), st, AT_SYMLINK_NOFOLLOW) != 0)
			return -errno;
		o = S_ISREG(st->st_mode) ? ov_find(st->st_dev, st->st_ino) : NULL;
	}
	if (o != NULL) {
		st->st_size = (off_t)o->size;
		if ((uint64_t)st->st_blocks * 512 < o->size)
			st->st_blocks = (blkcnt_t)((o->size + 511) / 512);
	}
	return 0;
}

static int pf_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dirh *h = malloc(sizeof(*h) + strlen(rel(path)) + 1);

	if (h == NULL)
		return -ENOMEM;
	h->magic = DIR_MAGIC;
	strcpy(h->path, rel(path));
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static int pf_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	free((struct dirh *)(uintptr_t)fi->fh);
	return 0;
}

static int pf_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	int fd = openat(backing_fd, dir_of(path, fi), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	(void)off;
	(void)flags;
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st = { .st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type) };

		if (fill(buf, e->d_name, &st, 0, 0))
			break;
	}
	closedir(d);
	return 0;
}

static int pf_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
	int fd = openat(backing_fd, dir_of(path, fi), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = (datasync ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

static int pf_mkdir(const char *path, mode_t mode)
{
	return mkdirat(backing_fd, rel(path), mode) == 0 ? 0 : -errno;
}

static int pf_rmdir(const char *path)
{
	return unlinkat(backing_fd, rel(path), AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int pf_unlink(const char *path)
{
	struct overlay *o = ov_of_path(path);

	if (unlinkat(backing_fd, rel(path), 0) != 0)
		return -errno;
	ov_maybe_free(o); /* its unsynced data went with its last name */
	return 0;
}

static int pf_rename(const char *from, const char *to, unsigned int flags)
{
	struct overlay *replaced = ov_of_path(to);

	if (renameat2(backing_fd, rel(from), backing_fd, rel(to), flags) != 0)
		return -errno;
	ov_maybe_free(replaced);
	return 0;
}

/* Opens the backing file read-write when it can (a sync must write it). */
static int open_backing(const char *path, int flags, mode_t mode, struct fuse_file_info *fi)
{
	int oflags = (flags & ~(O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECT)) | O_RDWR | O_CLOEXEC;
	int fd = openat(backing_fd, rel(path), oflags, mode);
	struct overlay *o;
	int r;

	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EISDIR) &&
	    (flags & O_ACCMODE) == O_RDONLY)
		fd = openat(backing_fd, rel(path), (oflags & ~O_RDWR) | O_RDONLY, mode);
	if (fd < 0)
		return -errno;
	if ((r = ov_get(fd, &o)) != 0)
		return r;
	if ((flags & O_TRUNC) && (r = ov_truncate(o, 0)) != 0) {
		ov_maybe_free(o);
		return r;
	}
	o->opens++;
	fi->fh = (uint64_t)(uintptr_t)o;
	return 0;
}

static int pf_open(const char *path, struct fuse_file_info *fi)
{
	return open_backing(path, fi->flags & ~(O_CREAT | O_EXCL), 0, fi);
}

static int pf_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return open_backing(path, fi->flags | O_CREAT, mode, fi);
}

static int pf_read(const char *path, char *buf, size_t len, off_t off,
		   struct fuse_file_info *fi)
{
	struct overlay *o = fh_ov(fi);
	uint64_t pos = (uint64_t)off;
	size_t done = 0;

	(void)path;
	if (pos >= o->size)
		return 0;
	if (len > o->size - pos)
		len = (size_t)(o->size - pos);
	while (done < len) {
		size_t i = (size_t)((pos + done) / PAGE);
		size_t in = (size_t)((pos + done) % PAGE);
		size_t n = PAGE - in < len - done ? PAGE - in : len - done;

		if (i < o->npages && o->pages[i] != NULL) {
			memcpy(buf + done, o->pages[i] + in, n);
		} else {
			int r = read_clean(o, (uint8_t *)buf + done, pos + done, n);

			if (r != 0)
				return r;
		}
		done += n;
	}
	return (int)done;
}

/* POWERFS_EARLY_WRITEBACK: each 512-byte sector of page i that bytes
 * [from, to) of the page touch reaches the backing file now, unsynced, with
 * probability early_pct % (sectors, not pages: a disk tears a write at
 * sector boundaries). Bytes past the logical size are not written. A
 * failure is ignored: the page is still dirty here. */
#define SECTOR 512u
static void early_writeback(struct overlay *o, size_t i, size_t from, size_t to)
{
	for (size_t sec = from / SECTOR * SECTOR; sec < to; sec += SECTOR) {
		uint64_t off = (uint64_t)i * PAGE + sec;
		size_t len = SECTOR;
		ssize_t n;

		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		if (rng_state % 100 >= early_pct || off >= o->size)
			continue;
		if (o->size - off < len)
			len = (size_t)(o->size - off);
		n = pwrite(o->fd, o->pages[i] + sec, len, (off_t)off);
		(void)n;
	}
}

static int pf_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	struct overlay *o = fh_ov(fi);
	uint64_t pos = (uint64_t)off;
	size_t done = 0;

	(void)path;
	if (pos + len > POWERFS_MAX_BYTES)
		return -EFBIG;
	while (done < len) {
		size_t in = (size_t)((pos + done) % PAGE);
		size_t n = PAGE - in < len - done ? PAGE - in : len - done;
		uint8_t *pg;
		int r = page_get(o, (size_t)((pos + done) / PAGE), &pg);

		if (r != 0)
			return done > 0 ? (int)done : r;
		memcpy(pg + in, buf + done, n);
		done += n;
		if (pos + done > o->size)
			o->size = pos + done;
		if (early_pct > 0)
			early_writeback(o, (size_t)((pos + done - 1) / PAGE), in, in + n);
	}
	return (int)done;
}

static int pf_truncate(const char *path, off_t len, struct fuse_file_info *fi)
{
	struct overlay *o;
	int r;

	if (len < 0)
		return -EINVAL;
	if ((o = fh_file(fi)) != NULL)
		return ov_truncate(o, (uint64_t)len);
	/* truncate(2) by name: the overlay keeps it until a sync. */
	int fd = openat(backing_fd, dir_of(path, fi), O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if ((r = ov_get(fd, &o)) != 0)
		return r;
	r = ov_truncate(o, (uint64_t)len);
	ov_maybe_free(o);
	return r;
}

static int pf_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	struct overlay *o = fh_ov(fi);
	uint64_t end = (uint64_t)off + (uint64_t)len;

	(void)path;
	if (mode != 0)
		return -EOPNOTSUPP;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (end > POWERFS_MAX_BYTES)
		return -EFBIG;
	/* Space now, size at the next sync. A backing folder that cannot
	 * allocate (EOPNOTSUPP) still gets the size. */
	if (fallocate(o->fd, FALLOC_FL_KEEP_SIZE, off, len) != 0 && errno != EOPNOTSUPP)
		return -errno;
	if (end > o->size)
		o->size = end;
	return 0;
}

static int pf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	if (cut_at_sync)
		_exit(3); /* the cut lands between a write and its sync */
	if (datasync && lie_datasync)
		return 0;
	return ov_sync(fh_ov(fi), datasync);
}

/* close() does not make data durable: nothing to do. */
static int pf_flush(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return 0;
}

/* The overlay outlives its handles while it holds unsynced data. */
static int pf_release(const char *path, struct fuse_file_info *fi)
{
	struct overlay *o = fh_ov(fi);

	(void)path;
	o->opens--;
	ov_maybe_free(o);
	return 0;
}

static int pf_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	return fstatvfs(backing_fd, sv) == 0 ? 0 : -errno;
}

static int pf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	if (fh_file(fi) != NULL)
		return fchmod(fh_file(fi)->fd, mode) == 0 ? 0 : -errno;
	return fchmodat(backing_fd, dir_of(path, fi), mode, 0) == 0 ? 0 : -errno;
}

static int pf_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	if (fh_file(fi) != NULL)
		return futimens(fh_file(fi)->fd, tv) == 0 ? 0 : -errno;
	return utimensat(backing_fd, dir_of(path, fi), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static const struct fuse_operations pf_ops = {
	.init = pf_init,
	.destroy = pf_destroy,
	.getattr = pf_getattr,
	.opendir = pf_opendir,
	.readdir = pf_readdir,
	.releasedir = pf_releasedir,
	.fsyncdir = pf_fsyncdir,
	.mkdir = pf_mkdir,
	.rmdir = pf_rmdir,
	.unlink = pf_unlink,
	.rename = pf_rename,
	.open = pf_open,
	.create = pf_create,
	.read = pf_read,
	.write = pf_write,
	.truncate = pf_truncate,
	.fallocate = pf_fallocate,
	.fsync = pf_fsync,
	.flush = pf_flush,
	.release = pf_release,
	.statfs = pf_statfs,
	.chmod = pf_chmod,
	.utimens = pf_utimens,
};

/* SIGUSR1: the power cut on request. Nothing is written out. */
static void cut(int sig)
{
	(void)sig;
	_exit(3);
}

/* SIGUSR2: the power cut at the next fsync/fdatasync request, instead of
 * doing it: the moment a writer's data is here and not yet synced. */
static void arm_cut(int sig)
{
	(void)sig;
	cut_at_sync = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = cut };
	char **args;
	int n = 0;

	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: %s BACKING MOUNTPOINT [-f] [-o opt,...]\n"
			"  unsynced file data lives in this process until fsync/fdatasync;\n"
			"  SIGKILL or SIGUSR1 loses it (a power cut), a clean unmount writes it\n",
			argv[0]);
		return 2;
	}
	backing_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (backing_fd < 0) {
		fprintf(stderr, "powerfs: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	lie_datasync = getenv("POWERFS_LIE_DATASYNC") != NULL &&
		       strcmp(getenv("POWERFS_LIE_DATASYNC"), "1") == 0;
	if (lie_datasync)
		fprintf(stderr, "powerfs: POWERFS_LIE_DATASYNC=1: fdatasync keeps nothing\n");
	if (getenv("POWERFS_EARLY_WRITEBACK") != NULL) {
		early_pct = (unsigned)strtoul(getenv("POWERFS_EARLY_WRITEBACK"), NULL, 10);
		early_pct = early_pct > 100 ? 100 : early_pct;
	}
	rng_state = getenv("POWERFS_SEED") != NULL ? strtoull(getenv("POWERFS_SEED"), NULL, 10)
						   : (uint64_t)getpid();
	rng_state = rng_state * 0x9e3779b97f4a7c15ull + 1; /* never 0 */
	if (early_pct > 0)
		fprintf(stderr, "powerfs: early writeback of %u%% of written sectors, seed %llu\n",
			early_pct, (unsigned long long)rng_state);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = arm_cut;
	sigaction(SIGUSR2, &sa, NULL);
	/* argv without BACKING, plus -s (one thread: no locking here). */
	args = calloc((size_t)argc + 2, sizeof(*args));
	if (args == NULL)
		return 1;
	args[n++] = argv[0];
	for (int i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n++] = "-s";
	n = fuse_main(n, args, &pf_ops, NULL);
	free(args);
	close(backing_fd);
	return n;
}
