/* archive_stubs.h - between the shard's cold items and the archive's
 * records: a batch filled with the picks of an archive scan, and the stubs
 * made once the batch is written (no DPDK, no I/O).
 *
 *   archive_stubs_fill    archive_stubs.c  picks (shard_archive_step) into a batch's records
 *   archive_stubs_commit  archive_stubs.c  each record written at base: its item becomes a stub
 *
 * Shared by the worker (dataplane/worker_archive.c, the archive thread
 * writes) and recovery (dataplane/recovery_load.c, which writes itself).
 */
#ifndef ARCHIVE_STUBS_H
#define ARCHIVE_STUBS_H

#include <stdint.h>

#include "archive.h"
#include "shard.h"

/* Adds the records of picks[0..n) to b, in order, until one does not fit;
 * returns how many it added (the rest wait for a later batch). Each record
 * carries lsn, the worker's LSN now: every picked value was written at or
 * before it. */
unsigned archive_stubs_fill(struct archive_batch *b, const struct shard_archive_pick *picks,
			    unsigned n, uint64_t lsn);
/* The first `records` records of b were written at file offset base: each
 * item that still stores the record's bytes becomes a stub naming it
 * (shard_archive_commit). Returns the stubs made; *stale (may be NULL) gets
 * the records whose item changed meanwhile. */
uint64_t archive_stubs_commit(struct shard *s, const struct archive_batch *b, uint64_t records,
			      uint64_t base, uint64_t *stale);

#endif
