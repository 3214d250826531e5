/* disk.c - helpers over any struct disk: whole writes and reads, op names.
 *
 * DESIGN
 * The backends (disk_posix.c, disk_fake.c) do one call each; loops over
 * short transfers live here once, so the fake's injected short writes test
 * the same loop the real disk runs.
 */
#include "disk.h"

#include <errno.h>
#include <stdlib.h>

const char *disk_op_name(enum disk_op op)
{
	static const char *const names[] = {
#define DISK_OP_NAME(name, text) text,
		DISK_OP_LIST(DISK_OP_NAME)
#undef DISK_OP_NAME
	};

	return (unsigned)op < WE_ARRAY_SIZE(names) ? names[op] : "?";
}

int disk_pwrite_all(struct disk *d, int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		int64_t n = disk_pwrite(d, fd, p, len, off);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int64_t disk_pread_all(struct disk *d, int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	int64_t done = 0;

	while ((size_t)done < len) {
		int64_t n = disk_pread(d, fd, p + done, len - (size_t)done, off + (uint64_t)done);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int disk_list_all(struct disk *d, const char *dir, struct disk_name **names, uint32_t *count)
{
	uint32_t cap = 64;

	for (;;) {
		struct disk_name *p = calloc(cap, sizeof(*p));
		uint32_t n = 0;
		int r;

		if (p == NULL)
			return -ENOMEM;
		r = disk_list(d, dir, p, cap, &n);
		if (r != 0) {
			free(p);
			return r;
		}
		if (n <= cap) {
			*names = p;
			*count = n;
			return 0;
		}
		free(p);
		if (n > (1u << 24))
			return -E2BIG;
		cap = n + 64; /* the folder may grow between two looks */
	}
}
