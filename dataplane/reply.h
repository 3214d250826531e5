/* reply.h - answer one decoded request datagram (see reply.c). */
#ifndef REPLY_H
#define REPLY_H

#include "worker.h"

/* Route d's entries, forward the foreign ones, run and answer the rest;
 * the replies go to w's transmit buffer. */
void reply_answer_dgram(struct worker *w, const struct worker_dgram *d);

#endif
