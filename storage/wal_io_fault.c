/* wal_io_fault.c - a wal_io that fails chosen writes and syncs of another.
 *
 * DESIGN
 * A decorator, for fault-injection tests only (SQLite's ioerr countdown:
 * fail the 1st, 2nd, ... nth operation of a run and check what the program
 * does). Each run() numbers the batch's writes in order; those a rule
 * selects are answered here (-ERRNO, sync -ECANCELED) and the rest go to
 * the decorated backend in one call, as one batch, so io_uring still sees
 * one submission. Then, in request order, each request whose write
 * completed in full counts as a sync, and a selected one has its result
 * replaced: the sync ran, the caller is told it failed, which is what
 * Linux can report after a writeback error. Counters are atomics so that
 * several writers (one per set of workers) may share the process-wide ones.
 * Nothing is printed: wal_writer_create reports a bad specification in its
 * error text.
 */
#include "wal_io_fault.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wal_io_fault {
	struct wal_io io; /* first */
	struct wal_io_ops ops;
	char name[96];
	struct wal_io *inner;
	struct wal_fault_spec spec;
	struct wal_fault_counts own;
	struct wal_fault_counts *counts;
	/* The requests passed on, and where each came from (grown to the
	 * largest batch seen; the writer's batches are bounded by its workers). */
	struct wal_io_req *sub;
	uint32_t *from;
	bool *failed;
	uint32_t cap;
};

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS},
	{"EFBIG", EFBIG},   {"ENOMEM", ENOMEM}, {"EBADF", EBADF},   {"EINVAL", EINVAL},
	{"EAGAIN", EAGAIN}, {"EINTR", EINTR},   {"ENXIO", ENXIO},   {"EPERM", EPERM},
	{"EACCES", EACCES}, {"ENODEV", ENODEV}, {"ETIMEDOUT", ETIMEDOUT},
};

const char *wal_fault_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return NULL;
}

/* A whole number from 1 to max in s[0, len): digits only. */
static bool parse_count(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 13 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return false;
	*v = x;
	return true;
}

#define SPEC_FORM "expected OP:N:ERRNO[:TIMES|:forever] (OP write or sync), e.g. write:3:EIO"

/* One rule, text[0, len). */
static int parse_rule(const char *text, size_t len, unsigned index, struct wal_fault_rule *r,
		      char *err, size_t err_len)
{
	const char *field[5];
	size_t flen[5];
	unsigned nf = 0;
	size_t start = 0;
	int shown = len > 60 ? 60 : (int)len;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ':')
			continue;
		if (nf < 5) {
			field[nf] = text + start;
			flen[nf] = i - start;
		}
		nf++;
		start = i + 1;
	}
	if (nf < 3 || nf > 4) {
		snprintf(err, err_len, "rule %u \"%.*s\" has %u field%s; " SPEC_FORM, index, shown, text,
			 nf, nf == 1 ? "" : "s");
		return -EINVAL;
	}
	if (flen[0] == 5 && memcmp(field[0], "write", 5) == 0) {
		r->op = WAL_FAULT_WRITE;
	} else if (flen[0] == 4 && memcmp(field[0], "sync", 4) == 0) {
		r->op = WAL_FAULT_SYNC;
	} else {
		snprintf(err, err_len, "rule %u \"%.*s\": operation \"%.*s\" is neither write nor sync",
			 index, shown, text, (int)(flen[0] > 20 ? 20 : flen[0]), field[0]);
		return -EINVAL;
	}
	if (!parse_count(field[1], flen[1], WAL_FAULT_NTH_MAX, &r->nth)) {
		snprintf(err, err_len, "rule %u \"%.*s\": N \"%.*s\" is not a whole number from 1 to "
			 "10^12 (1: the first %s)", index, shown, text,
			 (int)(flen[1] > 20 ? 20 : flen[1]), field[1],
			 r->op == WAL_FAULT_WRITE ? "write" : "sync");
		return -EINVAL;
	}
	r->err = 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strlen(errnos[i].name) == flen[2] && memcmp(errnos[i].name, field[2], flen[2]) == 0)
			r->err = errnos[i].err;
	if (r->err == 0) {
		snprintf(err, err_len, "rule %u \"%.*s\": \"%.*s\" is not an errno name this hook knows "
			 "(EIO, ENOSPC, EDQUOT, EROFS, EFBIG, ENOMEM, EBADF, EINVAL, EAGAIN, EINTR, "
			 "ENXIO, EPERM, EACCES, ENODEV, ETIMEDOUT)", index, shown, text,
			 (int)(flen[2] > 20 ? 20 : flen[2]), field[2]);
		return -EINVAL;
	}
	r->times = 1;
	if (nf == 4) {
		if (flen[3] == 7 && memcmp(field[3], "forever", 7) == 0) {
			r->times = WAL_FAULT_FOREVER;
		} else if (!parse_count(field[3], flen[3], WAL_FAULT_NTH_MAX, &r->times)) {
			snprintf(err, err_len, "rule %u \"%.*s\": TIMES \"%.*s\" is neither a whole number "
				 "from 1 to 10^12 nor \"forever\"", index, shown, text,
				 (int)(flen[3] > 20 ? 20 : flen[3]), field[3]);
			return -EINVAL;
		}
	}
	return 0;
}

int wal_fault_spec_parse(const char *text, struct wal_fault_spec *out, char *err, size_t err_len)
{
	size_t len = strlen(text);
	size_t start = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		int r;

		if (i < len && text[i] != ',')
			continue;
		if (out->n == WAL_FAULT_RULES_MAX) {
			snprintf(err, err_len, "more than %u rules", WAL_FAULT_RULES_MAX);
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		if (i == start) {
			snprintf(err, err_len, "rule %u is empty (a comma too many?); " SPEC_FORM,
				 out->n + 1);
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		r = parse_rule(text + start, i - start, out->n + 1, &out->rule[out->n], err, err_len);
		if (r != 0) {
			memset(out, 0, sizeof(*out));
			return r;
		}
		out->n++;
		start = i + 1;
	}
	return 0;
}

/* The error for the k-th operation of kind op (from 1), or 0. */
static int fault_for(const struct wal_fault_spec *s, enum wal_fault_op op, uint64_t k)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct wal_fault_rule *r = &s->rule[i];

		if (r->op == op && k >= r->nth &&
		    (r->times == WAL_FAULT_FOREVER || k - r->nth < r->times))
			return r->err;
	}
	return 0;
}

static int fault_grow(struct wal_io_fault *f, uint32_t n)
{
	struct wal_io_req *sub;
	uint32_t *from;
	bool *failed;

	if (n <= f->cap)
		return 0;
	sub = realloc(f->sub, n * sizeof(*sub));
	if (sub != NULL)
		f->sub = sub;
	from = realloc(f->from, n * sizeof(*from));
	if (from != NULL)
		f->from = from;
	failed = realloc(f->failed, n * sizeof(*failed));
	if (failed != NULL)
		f->failed = failed;
	if (sub == NULL || from == NULL || failed == NULL)
		return -ENOMEM;
	f->cap = n;
	return 0;
}

static int fault_run(struct wal_io *io, struct wal_io_req *reqs, uint32_t n)
{
	struct wal_io_fault *f = (struct wal_io_fault *)io;
	struct wal_fault_counts *c = f->counts;
	uint32_t pass = 0;
	int r = fault_grow(f, n);

	if (r != 0)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t k = atomic_fetch_add_explicit(&c->writes, 1, memory_order_relaxed) + 1;
		int e = fault_for(&f->spec, WAL_FAULT_WRITE, k);

		f->failed[i] = e != 0;
		if (e != 0) {
			reqs[i].res_write = -e;
			reqs[i].res_sync = -ECANCELED;
			atomic_fetch_add_explicit(&c->failed_writes, 1, memory_order_relaxed);
			continue;
		}
		f->sub[pass] = reqs[i];
		f->from[pass++] = i;
	}
	if (pass > 0) {
		r = wal_io_run(f->inner, f->sub, pass);
		if (r != 0)
			return r;
		for (uint32_t p = 0; p < pass; p++) {
			reqs[f->from[p]].res_write = f->sub[p].res_write;
			reqs[f->from[p]].res_sync = f->sub[p].res_sync;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t k;
		int e;

		if (f->failed[i] || reqs[i].res_write < 0 ||
		    (uint64_t)reqs[i].res_write != wal_io_req_bytes(&reqs[i]))
			continue; /* no sync ran */
		k = atomic_fetch_add_explicit(&c->syncs, 1, memory_order_relaxed) + 1;
		e = fault_for(&f->spec, WAL_FAULT_SYNC, k);
		if (e != 0) {
			reqs[i].res_sync = -e;
			atomic_fetch_add_explicit(&c->failed_syncs, 1, memory_order_relaxed);
		}
	}
	return 0;
}

static void fault_destroy(struct wal_io *io)
{
	struct wal_io_fault *f = (struct wal_io_fault *)io;

	wal_io_destroy(f->inner);
	free(f->sub);
	free(f->from);
	free(f->failed);
	free(f);
}

int wal_io_fault_create(struct wal_io **out, struct wal_io *inner, const struct wal_fault_spec *spec,
			struct wal_fault_counts *counts)
{
	struct wal_io_fault *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		wal_io_destroy(inner);
		return -ENOMEM;
	}
	f->inner = inner;
	f->spec = *spec;
	f->counts = counts != NULL ? counts : &f->own;
	snprintf(f->name, sizeof(f->name), "%s + injected faults", wal_io_name(inner));
	f->ops.run = fault_run;
	f->ops.destroy = fault_destroy;
	f->ops.name = f->name;
	f->io.ops = &f->ops;
	*out = &f->io;
	return 0;
}

struct wal_fault_counts *wal_io_fault_process_counts(void)
{
	static struct wal_fault_counts process_counts;

	return &process_counts;
}
