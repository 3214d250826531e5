/* worker_archive.h - the worker's side of the disk tier (the singularity).
 *
 *   worker_archive_init     worker_archive.c  bind the worker to its archive port (NULL: off)
 *                                             and its file's segments
 *   worker_archive_service  worker_archive.c  one service step: answers, reads, archive scan
 *   worker_archive_active   inline            whether the disk tier is on for this worker
 *   worker_archive_waiting  inline            GETs wait for records: keep polling, do not sleep
 *
 * docs/storage.md "The disk tier" describes the whole; storage/archive_io.h
 * the thread that does the file's I/O.
 */
#ifndef WORKER_ARCHIVE_H
#define WORKER_ARCHIVE_H

#include <stdint.h>

#include "worker.h"

void worker_archive_init(struct worker *w, struct archive_port *port, struct archive_space *space);
void worker_archive_service(struct worker *w);

static inline bool worker_archive_active(const struct worker *w)
{
	return w->archive.port != NULL;
}

static inline bool worker_archive_waiting(const struct worker *w)
{
	return worker_archive_active(w) && fetch_count(&w->archive.fetch) != 0;
}

#endif
