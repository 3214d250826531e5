/* disk_fake.c - the in-memory disk of the unit tests.
 *
 * DESIGN
 * A file is an object with a current image (what reads return) and a synced
 * image (what survives a power cut); fdatasync copies one onto the other.
 * Descriptors name objects, not paths, so a renamed or unlinked file stays
 * writable through an open descriptor, as on Linux. Directories are a list
 * of paths; a file belongs to the directory its path names up to the last
 * '/'. Tables are fixed and small: the tests create tens of files.
 *
 * Names follow the strict POSIX model: a directory entry is durable only
 * once that directory was fsynced (fsync_dir); an fdatasync of the file
 * itself does not make its name durable. Each file keeps its durable name
 * (dpath, "" for none) beside its current one (path): fsync_dir(dir) sets
 * dpath = path for every file now named in dir and clears the dpath of
 * every file whose durable name was in dir but is no longer its current
 * one. A file has at most one durable name (no hard links): renamed into
 * another directory, it keeps its old durable name until the new directory
 * is synced, unless the old one is synced first (then it has none until
 * the new one is). An unlinked or replaced file that still has a durable
 * name is kept (as an object without a name) so a cut can bring it back.
 * A directory is durable once its parent was synced. The root (paths
 * without '/') is always synced: its entries are durable at once. Until the
 * first file is created, the fake is being set up: directories made then
 * are durable at once (a test's fixture stands for a data directory made
 * durably beforehand, as datadir_open does).
 *
 * Faults are decided before an operation touches anything, so an injected
 * error leaves the fake as it was, like a failed system call.
 */
#include "disk_fake.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "we_assert.h"

#define FAKE_FILES 512
#define FAKE_FDS 512
#define FAKE_DIRS 64
#define FAKE_FD_BASE 100

struct fake_image {
	uint8_t *data;
	uint64_t size;
	uint64_t cap;
};

struct fake_file {
	bool used;   /* the object exists (named, held open, or durably named) */
	bool linked; /* it has a name */
	char path[DISK_PATH_MAX];
	char dpath[DISK_PATH_MAX]; /* its durable name, "" for none */
	uint32_t open_count;
	struct fake_image cur;
	struct fake_image synced;
	/* Per 512-byte sector, the bytes [lo, hi) written since the last
	 * fdatasync (lo >= hi: none): what DISK_CUT_GARBAGE may garble. */
	uint16_t *wlo;
	uint16_t *whi;
	uint64_t wsectors;
};

struct fake_fault {
	uint32_t countdown; /* calls before the first failure, 0 = no fault */
	uint32_t times;     /* failures left once started */
	int err;
};

struct disk_fake {
	struct disk disk; /* first: a struct disk * is a struct disk_fake * */
	pthread_mutex_t lock;
	struct fake_file files[FAKE_FILES];
	int fd_file[FAKE_FDS]; /* file index of each descriptor, -1 = closed */
	char dirs[FAKE_DIRS][DISK_PATH_MAX];
	bool dir_durable[FAKE_DIRS]; /* its entry in its parent is durable */
	uint32_t ndirs;
	bool had_file; /* a file was created: the set-up is over */
	uint64_t calls[DISK_OP_COUNT];
	struct fake_fault fault[DISK_OP_COUNT];
	uint32_t short_countdown;
	uint32_t short_max;
};

static struct disk_fake *fake_of(struct disk *d)
{
	return (struct disk_fake *)d;
}

/* Counts the call and says whether it must fail (and with what). */
static int fake_enter(struct disk_fake *f, enum disk_op op)
{
	struct fake_fault *ft = &f->fault[op];

	pthread_mutex_lock(&f->lock);
	f->calls[op]++;
	if (ft->countdown == 0)
		return 0;
	if (ft->countdown > 1) {
		ft->countdown--;
		return 0;
	}
	if (ft->times != DISK_FAKE_FAIL_FOREVER)
		ft->times--;
	if (ft->times == 0) {
		int err = ft->err;

		ft->countdown = 0;
		return err;
	}
	return ft->err;
}

static int fake_leave(struct disk_fake *f, int r)
{
	pthread_mutex_unlock(&f->lock);
	return r;
}

static int image_reserve(struct fake_image *im, uint64_t size)
{
	uint64_t cap = im->cap ? im->cap : 4096;
	uint8_t *p;

	if (size <= im->cap)
		return 0;
	while (cap < size)
		cap *= 2;
	p = realloc(im->data, cap);
	if (p == NULL)
		return -ENOMEM;
	memset(p + im->cap, 0, cap - im->cap);
	im->data = p;
	im->cap = cap;
	return 0;
}

static int image_resize(struct fake_image *im, uint64_t size)
{
	int r = image_reserve(im, size);

	if (r != 0)
		return r;
	if (size < im->size)
		memset(im->data + size, 0, im->size - size);
	im->size = size;
	return 0;
}

static int image_copy(struct fake_image *dst, const struct fake_image *src)
{
	int r = image_resize(dst, src->size);

	if (r == 0 && src->size > 0)
		memcpy(dst->data, src->data, src->size);
	return r;
}

/* Records that [off, off + len) was written since the last sync. */
static int written_mark(struct fake_file *file, uint64_t off, uint64_t len)
{
	uint64_t last = len == 0 ? 0 : (off + len - 1) / DISK_FAKE_SECTOR + 1;

	if (last > file->wsectors) {
		uint64_t n = file->wsectors ? file->wsectors : 64;
		uint16_t *lo, *hi;

		while (n < last)
			n *= 2;
		lo = realloc(file->wlo, n * sizeof(*lo));
		if (lo != NULL)
			file->wlo = lo;
		hi = realloc(file->whi, n * sizeof(*hi));
		if (hi != NULL)
			file->whi = hi;
		if (lo == NULL || hi == NULL)
			return -ENOMEM;
		for (uint64_t i = file->wsectors; i < n; i++) {
			file->wlo[i] = DISK_FAKE_SECTOR;
			file->whi[i] = 0;
		}
		file->wsectors = n;
	}
	for (uint64_t s = off / DISK_FAKE_SECTOR; s < last; s++) {
		uint64_t b = s * DISK_FAKE_SECTOR;
		uint16_t lo = (uint16_t)(off > b ? off - b : 0);
		uint16_t hi = (uint16_t)(off + len < b + DISK_FAKE_SECTOR ? off + len - b
									  : DISK_FAKE_SECTOR);

		if (lo < file->wlo[s])
			file->wlo[s] = lo;
		if (hi > file->whi[s])
			file->whi[s] = hi;
	}
	return 0;
}

static void written_clear(struct fake_file *file)
{
	for (uint64_t i = 0; i < file->wsectors; i++) {
		file->wlo[i] = DISK_FAKE_SECTOR;
		file->whi[i] = 0;
	}
}

static void file_free(struct fake_file *file)
{
	free(file->wlo);
	free(file->whi);
	free(file->cur.data);
	free(file->synced.data);
	memset(file, 0, sizeof(*file));
}

static int file_find(struct disk_fake *f, const char *path)
{
	for (int i = 0; i < FAKE_FILES; i++)
		if (f->files[i].used && f->files[i].linked && strcmp(f->files[i].path, path) == 0)
			return i;
	return -1;
}

/* dir is among the first n directories of the table. */
static bool dir_exists_n(struct disk_fake *f, const char *dir, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(f->dirs[i], dir) == 0)
			return true;
	return false;
}

static bool dir_exists(struct disk_fake *f, const char *dir)
{
	return dir_exists_n(f, dir, f->ndirs);
}

/* The directory part of path exists (or path has no directory part). */
static bool parent_exists(struct disk_fake *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[DISK_PATH_MAX];

	if (slash == NULL || slash == path)
		return true;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return dir_exists(f, dir);
}

/* The directory part of path into dir ("" for the root). */
static void parent_of(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : (size_t)(slash - path);

	memcpy(dir, path, n);
	dir[n] = '\0';
}

static bool in_dir(const char *path, const char *dir)
{
	char p[DISK_PATH_MAX];

	parent_of(path, p);
	return strcmp(p, dir) == 0;
}

/* Frees an object that has no name, no descriptor and no durable name. */
static void file_maybe_free(struct fake_file *file)
{
	if (file->used && !file->linked && file->open_count == 0 && file->dpath[0] == '\0')
		file_free(file);
}

/* dir's synced image becomes its current entries (see DESIGN). */
static void dir_sync(struct disk_fake *f, const char *dir)
{
	for (int i = 0; i < FAKE_FILES; i++) {
		struct fake_file *file = &f->files[i];

		if (!file->used)
			continue;
		if (file->dpath[0] != '\0' && in_dir(file->dpath, dir))
			file->dpath[0] = '\0';
		if (file->linked && in_dir(file->path, dir))
			strcpy(file->dpath, file->path);
		file_maybe_free(file);
	}
	for (uint32_t i = 0; i < f->ndirs; i++)
		if (in_dir(f->dirs[i], dir))
			f->dir_durable[i] = true;
}

/* A name changed in the directory of path: the root's entries are durable at once. */
static void name_changed(struct disk_fake *f, const char *path)
{
	if (strchr(path, '/') == NULL)
		dir_sync(f, "");
}

static struct fake_file *file_of_fd(struct disk_fake *f, int fd)
{
	int i = fd - FAKE_FD_BASE;

	if (i < 0 || i >= FAKE_FDS || f->fd_file[i] < 0)
		return NULL;
	return &f->files[f->fd_file[i]];
}

static int fake_open(struct disk *d, const char *path, int flags, int *fd)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_OPEN);
	int fi;
	int slot = -1;

	if (r != 0)
		return fake_leave(f, r);
	if (strlen(path) >= DISK_PATH_MAX)
		return fake_leave(f, -ENAMETOOLONG);
	fi = file_find(f, path);
	if (fi >= 0 && (flags & DISK_O_CREATE) && (flags & DISK_O_EXCL))
		return fake_leave(f, -EEXIST);
	if (fi < 0 && !(flags & DISK_O_CREATE))
		return fake_leave(f, dir_exists(f, path) ? -EISDIR : -ENOENT);
	if (fi < 0 && !parent_exists(f, path))
		return fake_leave(f, -ENOENT);
	for (int i = 0; i < FAKE_FDS && slot < 0; i++)
		if (f->fd_file[i] < 0)
			slot = i;
	if (slot < 0)
		return fake_leave(f, -EMFILE);
	if (fi < 0) {
		for (int i = 0; i < FAKE_FILES && fi < 0; i++)
			if (!f->files[i].used)
				fi = i;
		if (fi < 0)
			return fake_leave(f, -ENOSPC);
		f->files[fi].used = true;
		f->files[fi].linked = true;
		strcpy(f->files[fi].path, path);
		f->had_file = true;
		name_changed(f, path);
	}
	f->files[fi].open_count++;
	f->fd_file[slot] = fi;
	*fd = FAKE_FD_BASE + slot;
	return fake_leave(f, 0);
}

static int fake_close(struct disk *d, int fd)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_CLOSE);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	f->fd_file[fd - FAKE_FD_BASE] = -1;
	file->open_count--;
	file_maybe_free(file);
	return fake_leave(f, 0);
}

static int64_t fake_pread(struct disk *d, int fd, void *buf, size_t len, uint64_t off)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_PREAD);
	struct fake_file *file = file_of_fd(f, fd);
	uint64_t n;

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	if (off >= file->cur.size)
		return fake_leave(f, 0);
	n = file->cur.size - off < len ? file->cur.size - off : len;
	memcpy(buf, file->cur.data + off, n);
	fake_leave(f, 0);
	return (int64_t)n;
}

static int64_t fake_pwrite(struct disk *d, int fd, const void *buf, size_t len, uint64_t off)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_PWRITE);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	if (f->short_countdown > 0 && --f->short_countdown == 0 && len > f->short_max)
		len = f->short_max;
	if (off + len > file->cur.size && (r = image_resize(&file->cur, off + len)) != 0)
		return fake_leave(f, r);
	if ((r = written_mark(file, off, len)) != 0)
		return fake_leave(f, r);
	memcpy(file->cur.data + off, buf, len);
	fake_leave(f, 0);
	return (int64_t)len;
}

static int fake_fdatasync(struct disk *d, int fd)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_FDATASYNC);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	written_clear(file);
	return fake_leave(f, image_copy(&file->synced, &file->cur));
}

static int fake_fsync_dir(struct disk *d, const char *dir)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_FSYNC_DIR);

	if (r != 0)
		return fake_leave(f, r);
	if (!dir_exists(f, dir))
		return fake_leave(f, -ENOENT);
	dir_sync(f, dir);
	return fake_leave(f, 0);
}

static int fake_fallocate(struct disk *d, int fd, uint64_t off, uint64_t len)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_FALLOCATE);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	if (off + len > file->cur.size)
		r = image_resize(&file->cur, off + len);
	return fake_leave(f, r);
}

static int fake_ftruncate(struct disk *d, int fd, uint64_t len)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_FTRUNCATE);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	return fake_leave(f, image_resize(&file->cur, len));
}

static int fake_rename(struct disk *d, const char *from, const char *to)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_RENAME);
	int src;
	int dst;

	if (r != 0)
		return fake_leave(f, r);
	src = file_find(f, from);
	if (src < 0)
		return fake_leave(f, -ENOENT);
	if (strlen(to) >= DISK_PATH_MAX || !parent_exists(f, to))
		return fake_leave(f, -ENOENT);
	dst = file_find(f, to);
	if (dst == src)
		return fake_leave(f, 0);
	if (dst >= 0) {
		f->files[dst].linked = false;
		file_maybe_free(&f->files[dst]);
	}
	strcpy(f->files[src].path, to);
	name_changed(f, from);
	name_changed(f, to);
	return fake_leave(f, 0);
}

static int fake_unlink(struct disk *d, const char *path)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_UNLINK);
	int fi;

	if (r != 0)
		return fake_leave(f, r);
	fi = file_find(f, path);
	if (fi < 0)
		return fake_leave(f, -ENOENT);
	f->files[fi].linked = false;
	file_maybe_free(&f->files[fi]);
	name_changed(f, path);
	return fake_leave(f, 0);
}

static int fake_file_size(struct disk *d, int fd, uint64_t *bytes)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_FILE_SIZE);
	struct fake_file *file = file_of_fd(f, fd);

	if (r != 0)
		return fake_leave(f, r);
	if (file == NULL)
		return fake_leave(f, -EBADF);
	*bytes = file->cur.size;
	return fake_leave(f, 0);
}

static int fake_mkdir(struct disk *d, const char *path)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_MKDIR);

	if (r != 0)
		return fake_leave(f, r);
	if (dir_exists(f, path))
		return fake_leave(f, 0);
	if (strlen(path) >= DISK_PATH_MAX || f->ndirs == FAKE_DIRS)
		return fake_leave(f, -ENOSPC);
	if (!parent_exists(f, path))
		return fake_leave(f, -ENOENT);
	/* Durable at once in the root or during the set-up (DESIGN), else
	 * once its parent is synced. */
	f->dir_durable[f->ndirs] = strchr(path, '/') == NULL || !f->had_file;
	strcpy(f->dirs[f->ndirs++], path);
	return fake_leave(f, 0);
}

static int fake_list(struct disk *d, const char *dir, struct disk_name *names, uint32_t max,
		     uint32_t *count)
{
	struct disk_fake *f = fake_of(d);
	int r = fake_enter(f, DISK_OP_LIST);
	size_t dlen = strlen(dir);
	uint32_t n = 0;

	if (r != 0)
		return fake_leave(f, r);
	if (!dir_exists(f, dir))
		return fake_leave(f, -ENOENT);
	for (int i = 0; i < FAKE_FILES; i++) {
		const struct fake_file *file = &f->files[i];
		const char *name = file->path + dlen + 1;

		if (!file->used || !file->linked || strncmp(file->path, dir, dlen) != 0 ||
		    file->path[dlen] != '/' || strchr(name, '/') != NULL ||
		    strlen(name) >= DISK_NAME_MAX)
			continue;
		if (n < max)
			strcpy(names[n].name, name);
		n++;
	}
	*count = n;
	return fake_leave(f, 0);
}

static const struct disk_ops disk_fake_ops = {
	.open = fake_open,
	.close = fake_close,
	.pread = fake_pread,
	.pwrite = fake_pwrite,
	.fdatasync = fake_fdatasync,
	.fsync_dir = fake_fsync_dir,
	.fallocate = fake_fallocate,
	.ftruncate = fake_ftruncate,
	.rename = fake_rename,
	.unlink = fake_unlink,
	.file_size = fake_file_size,
	.mkdir = fake_mkdir,
	.list = fake_list,
};

struct disk_fake *disk_fake_create(void)
{
	struct disk_fake *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->disk.ops = &disk_fake_ops;
	f->disk.kernel_fds = false;
	pthread_mutex_init(&f->lock, NULL);
	for (int i = 0; i < FAKE_FDS; i++)
		f->fd_file[i] = -1;
	return f;
}

void disk_fake_destroy(struct disk_fake *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < FAKE_FILES; i++)
		if (f->files[i].used)
			file_free(&f->files[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

struct disk *disk_fake_disk(struct disk_fake *f)
{
	return &f->disk;
}

uint64_t disk_fake_calls(struct disk_fake *f, enum disk_op op)
{
	uint64_t n;

	WE_ASSERT((unsigned)op < DISK_OP_COUNT);
	pthread_mutex_lock(&f->lock);
	n = f->calls[op];
	pthread_mutex_unlock(&f->lock);
	return n;
}

void disk_fake_fail(struct disk_fake *f, enum disk_op op, uint32_t nth, int err, uint32_t times)
{
	WE_ASSERT((unsigned)op < DISK_OP_COUNT);
	WE_ASSERT(nth >= 1);
	WE_ASSERT(err < 0);
	WE_ASSERT(times >= 1);
	pthread_mutex_lock(&f->lock);
	f->fault[op] = (struct fake_fault){.countdown = nth, .times = times, .err = err};
	pthread_mutex_unlock(&f->lock);
}

void disk_fake_short_write(struct disk_fake *f, uint32_t nth, uint32_t max_bytes)
{
	WE_ASSERT(nth >= 1);
	WE_ASSERT(max_bytes >= 1);
	pthread_mutex_lock(&f->lock);
	f->short_countdown = nth;
	f->short_max = max_bytes;
	pthread_mutex_unlock(&f->lock);
}

void disk_fake_clear_faults(struct disk_fake *f)
{
	pthread_mutex_lock(&f->lock);
	memset(f->fault, 0, sizeof(f->fault));
	f->short_countdown = 0;
	pthread_mutex_unlock(&f->lock);
}

static uint64_t cut_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool sector_dirty(const struct fake_file *file, uint64_t off, uint64_t n)
{
	/* Beyond an image's size its buffer is zero (image_resize). */
	return memcmp(file->cur.data + off, file->synced.data + off, n) != 0;
}

/* The data part of a cut other than DISK_CUT_DROP_UNSYNCED: decides, per
 * 512-byte sector where the images differ, what the synced image gets.
 *  TORN_SECTORS  each dirty sector: the new bytes, with probability 1/2
 *  TORN_4K       each 4 KiB page with a dirty sector: its first k sectors
 *                (k = 0..8, uniform) get the new bytes, the rest keep the old
 *  GARBAGE       as TORN_4K, and the sector right after the kept prefix, if
 *                dirty, holds random bytes with probability 1/2 (the sector
 *                being written when the power went) where it was written
 *                since the last sync; its other bytes stay as synced
 *  GARBAGE_SECTOR  the same, the whole sector random
 * A sector that gets new or random bytes beyond the synced size extends
 * it. Then the current image follows the synced one (disk_fake_cut). */
static void cut_sectors(struct fake_file *file, enum disk_cut how, uint64_t *rng)
{
	uint64_t size = file->cur.size > file->synced.size ? file->cur.size : file->synced.size;
	uint64_t new_size = file->synced.size;
	const uint64_t page = DISK_FAKE_PAGE;

	WE_ASSERT(image_reserve(&file->synced, size) == 0);
	WE_ASSERT(image_reserve(&file->cur, size) == 0);
	for (uint64_t base = 0; base < size; base += page) {
		uint64_t keep = page; /* TORN_SECTORS decides per sector below */
		uint64_t garbage = UINT64_MAX;
		bool dirty = false;

		for (uint64_t off = base; off < base + page && off < size; off += DISK_FAKE_SECTOR)
			dirty = dirty || sector_dirty(file, off, size - off < DISK_FAKE_SECTOR ?
								      size - off : DISK_FAKE_SECTOR);
		if (!dirty)
			continue;
		if (how != DISK_CUT_TORN_SECTORS) {
			keep = (cut_rand(rng) % (page / DISK_FAKE_SECTOR + 1)) * DISK_FAKE_SECTOR;
			if ((how == DISK_CUT_GARBAGE || how == DISK_CUT_GARBAGE_SECTOR) &&
			    (cut_rand(rng) & 1))
				garbage = base + keep;
		}
		for (uint64_t off = base; off < base + page && off < size; off += DISK_FAKE_SECTOR) {
			uint64_t n = size - off < DISK_FAKE_SECTOR ? size - off : DISK_FAKE_SECTOR;
			uint64_t end = off + n;

			if (!sector_dirty(file, off, n))
				continue;
			if (how == DISK_CUT_TORN_SECTORS ? (cut_rand(rng) & 1) != 0 : off < base + keep) {
				memcpy(file->synced.data + off, file->cur.data + off, n);
				if (end > file->cur.size)
					end = file->cur.size;
			} else if (off == garbage) {
				uint64_t s = off / DISK_FAKE_SECTOR;
				uint64_t lo = 0, hi = n;

				if (how == DISK_CUT_GARBAGE) { /* only what was written */
					lo = s < file->wsectors ? file->wlo[s] : n;
					hi = s < file->wsectors && file->whi[s] < n ? file->whi[s] : n;
					if (lo >= hi)
						continue;
					end = off + hi;
				}
				for (uint64_t i = lo; i < hi; i += 8) {
					uint64_t x = cut_rand(rng);

					memcpy(file->synced.data + off + i, &x, hi - i < 8 ? hi - i : 8);
				}
			} else {
				continue;
			}
			if (end > new_size)
				new_size = end;
		}
	}
	/* Bytes of the buffer beyond the size must stay zero (image_resize). */
	if (new_size < size)
		memset(file->synced.data + new_size, 0, size - new_size);
	file->synced.size = new_size;
}

/* Every directory goes back to its synced entries: directories that were
 * not durable are gone (and what they held), a file is named by its
 * durable name if it has one in a directory that survived, else it is
 * gone (an object still open stays, nameless, for its descriptors). */
static void cut_names(struct disk_fake *f)
{
	uint32_t n = 0;

	/* A directory's parent comes before it in the table (mkdir needs it). */
	for (uint32_t i = 0; i < f->ndirs; i++) {
		char parent[DISK_PATH_MAX];

		parent_of(f->dirs[i], parent);
		if (!f->dir_durable[i] || (parent[0] != '\0' && !dir_exists_n(f, parent, n)))
			continue;
		if (n != i)
			strcpy(f->dirs[n], f->dirs[i]);
		f->dir_durable[n++] = true;
	}
	f->ndirs = n;
	for (int i = 0; i < FAKE_FILES; i++) {
		struct fake_file *file = &f->files[i];

		if (!file->used)
			continue;
		if (file->dpath[0] != '\0' && parent_exists(f, file->dpath)) {
			file->linked = true;
			strcpy(file->path, file->dpath);
		} else {
			file->linked = false;
			file->dpath[0] = '\0';
			file_maybe_free(file);
		}
	}
}

void disk_fake_cut(struct disk_fake *f, enum disk_cut how, uint64_t seed)
{
	uint64_t rng = seed;

	WE_ASSERT(how == DISK_CUT_DROP_UNSYNCED || how == DISK_CUT_TORN_SECTORS ||
		  how == DISK_CUT_TORN_4K || how == DISK_CUT_GARBAGE ||
		  how == DISK_CUT_GARBAGE_SECTOR);
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < FAKE_FILES; i++) {
		struct fake_file *file = &f->files[i];

		if (!file->used)
			continue;
		if (how != DISK_CUT_DROP_UNSYNCED)
			cut_sectors(file, how, &rng);
		WE_ASSERT(image_copy(&file->cur, &file->synced) == 0);
		written_clear(file);
	}
	cut_names(f);
	pthread_mutex_unlock(&f->lock);
}

int64_t disk_fake_read_file(struct disk_fake *f, const char *path, void *buf, uint64_t max)
{
	int64_t r;
	int fi;

	pthread_mutex_lock(&f->lock);
	fi = file_find(f, path);
	if (fi < 0) {
		r = -ENOENT;
	} else {
		const struct fake_image *im = &f->files[fi].cur;

		if (im->size > 0 && max > 0) /* an empty file may have no data at all */
			memcpy(buf, im->data, im->size < max ? im->size : max);
		r = (int64_t)im->size;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

int disk_fake_write_file(struct disk_fake *f, const char *path, const void *buf, uint64_t len)
{
	int fd;
	int r = disk_open(&f->disk, path, DISK_O_CREATE, &fd);

	if (r != 0)
		return r;
	pthread_mutex_lock(&f->lock);
	{
		struct fake_file *file = file_of_fd(f, fd);

		r = image_resize(&file->cur, len);
		if (r == 0 && len > 0)
			memcpy(file->cur.data, buf, len);
		if (r == 0)
			r = image_copy(&file->synced, &file->cur);
		if (r == 0) { /* set-up: its name is durable too, and only its */
			for (int i = 0; i < FAKE_FILES; i++)
				if (f->files[i].used && &f->files[i] != file &&
				    strcmp(f->files[i].dpath, file->path) == 0) {
					f->files[i].dpath[0] = '\0';
					file_maybe_free(&f->files[i]);
				}
			strcpy(file->dpath, file->path);
		}
	}
	pthread_mutex_unlock(&f->lock);
	disk_close(&f->disk, fd);
	return r;
}
