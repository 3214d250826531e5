/* wal_io_fault.h - injected I/O errors for the log writer's backend, for
 * fault-injection tests only (no DPDK).
 *
 *   wal_fault_spec_parse     wal_io_fault.c  "write:3:EIO,sync:5:EIO:forever" -> rules
 *   wal_io_fault_create      wal_io_fault.c  a wal_io that fails the chosen writes/syncs
 *                                            of another wal_io (the decorated backend)
 *   wal_io_fault_process_counts  wal_io_fault.c  the counters shared by the whole process
 *
 * A rule "OP:N:ERRNO[:TIMES|:forever]" makes the Nth write (or sync) and
 * the TIMES - 1 following ones (default TIMES = 1; "forever": every one
 * from the Nth on) fail with -ERRNO. Writes and syncs are counted from 1,
 * separately, by the counters the decorator is given: the data plane uses
 * the process-wide ones, so "the 3rd write" is the 3rd write of the run.
 *
 * What counts and what a fault does:
 *  - a write is one request of a batch (a writev, or its resubmitted rest);
 *    a failed one is not passed to the decorated backend at all: it writes
 *    nothing, reports -ERRNO, and its sync reports -ECANCELED (as a broken
 *    io_uring link);
 *  - a sync is the fdatasync of a request whose write completed in full
 *    (the only ones a backend runs); a failed one has run (the data may be
 *    on disk, as after a real failed fdatasync) but reports -ERRNO.
 *
 * The data plane turns it on through the environment: wal_writer_create
 * reads WAL_FAULT_ENV (docs/operations.md, "Fault injection").
 */
#ifndef WAL_IO_FAULT_H
#define WAL_IO_FAULT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "wal_io.h"
#include "we_compiler.h"

#define WAL_FAULT_ENV "WARPENGINE_DISK_FAULTS"
#define WAL_FAULT_RULES_MAX 8
#define WAL_FAULT_FOREVER UINT64_MAX
#define WAL_FAULT_NTH_MAX UINT64_C(1000000000000) /* 10^12 */

enum wal_fault_op {
	WAL_FAULT_WRITE = 0,
	WAL_FAULT_SYNC = 1,
};

struct wal_fault_rule {
	enum wal_fault_op op;
	uint64_t nth;   /* from 1 */
	uint64_t times; /* >= 1, or WAL_FAULT_FOREVER */
	int err;        /* a positive errno */
};

struct wal_fault_spec {
	unsigned n; /* rules; 0: no fault */
	struct wal_fault_rule rule[WAL_FAULT_RULES_MAX];
};

/* How many writes and syncs went through, and how many were failed. */
struct wal_fault_counts {
	_Atomic uint64_t writes, syncs;
	_Atomic uint64_t failed_writes, failed_syncs;
};

/* Parses text strictly: rules "OP:N:ERRNO[:TIMES|:forever]" separated by
 * commas, OP "write" or "sync", N and TIMES whole numbers from 1 (no sign,
 * no spaces), ERRNO a name such as EIO or ENOSPC. An empty text is no rule.
 * Returns 0, or -EINVAL and in err a sentence saying what is wrong and
 * where (without the variable's name: the caller adds it). */
int wal_fault_spec_parse(const char *text, struct wal_fault_spec *out, char *err, size_t err_len)
	we_must_check;

/* Decorates inner (which it owns from then on, destroyed with it, also on
 * failure) with spec's faults, counted in *counts (NULL: counters of its
 * own). Its name is the inner's with " + injected faults". */
int wal_io_fault_create(struct wal_io **out, struct wal_io *inner, const struct wal_fault_spec *spec,
			struct wal_fault_counts *counts) we_must_check;

/* The counters every decorator made from WAL_FAULT_ENV shares: "counted from
 * the start of the process". */
struct wal_fault_counts *wal_io_fault_process_counts(void);

/* The name of a positive errno this parser knows ("EIO"), or NULL. */
const char *wal_fault_errno_name(int err);

#endif
