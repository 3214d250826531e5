/* client_cmd.h - warp-client's commands, each returning the exit status.
 *
 * Commands write results to `out` and diagnostics to `err`, so the tests
 * can run them in-process against a fake server and read what they print.
 *
 *   command          file              what it does
 *   put, get, del    client_cmd.c      one request, value to stdout
 *   ping             client_cmd.c      one PING per worker port, RTT each
 *   batch            client_batch.c    stdin lines -> batched requests -> result lines
 *   load             client_load.c     PUT/GET/DELETE/GET verify workload, report
 *   raw              client_raw.c      one datagram as is, replies dumped
 *   writes           client_writes.c   PUT/DELETE a key set for a while, ack log
 *   check            client_check.c    read an ack log's keys back, judge them
 */
#ifndef CLIENT_CMD_H
#define CLIENT_CMD_H

#include <stdint.h>
#include <stdio.h>

#include "client_net.h"
#include "client_opts.h"
#include "client_track.h"

#define CLIENT_EXIT_OK 0
#define CLIENT_EXIT_NOT_FOUND 1 /* load: a check failed */
#define CLIENT_EXIT_STATUS 2    /* another status, or a bad batch line */
#define CLIENT_EXIT_NO_ANSWER 3 /* timeout after all tries, or the deadline */
#define CLIENT_EXIT_USAGE 64    /* EX_USAGE */
#define CLIENT_EXIT_DATAERR 65  /* EX_DATAERR: check: a malformed ack log */
#define CLIENT_EXIT_NOINPUT 66  /* EX_NOINPUT: check: the ack log cannot be opened */
#define CLIENT_EXIT_CANTCREAT 73 /* EX_CANTCREAT: writes: the ack log cannot be opened */
#define CLIENT_EXIT_OSERR 71    /* EX_OSERR */

/* Open the socket and a tracker configured from a (ring_ops 0: the default
 * size). On failure prints why to err and returns the exit status to use. */
int client_cmd_setup(const struct client_args *a, uint32_t ring_ops, uint32_t window,
		     uint32_t batch, struct client_net *n, struct client_track *t, FILE *err);
void client_cmd_teardown(struct client_net *n, struct client_track *t);

/* Absolute deadline of the command (0: none), from --deadline. */
uint64_t client_cmd_deadline(const struct client_args *a);

/* Run a started tracker to the end. Returns 0, or an exit status after
 * printing a socket error; a deadline is reported through *deadline_hit. */
int client_cmd_run(struct client_net *n, struct client_track *t, uint64_t deadline_ns,
		   int src_fd, bool *deadline_hit, FILE *err);

int client_cmd_one(const struct client_args *a, FILE *out, FILE *err);
int client_cmd_ping(const struct client_args *a, FILE *out, FILE *err);
int client_cmd_batch(const struct client_args *a, int in_fd, FILE *out, FILE *err);
int client_cmd_load(const struct client_args *a, FILE *out, FILE *err);
int client_cmd_raw(const struct client_args *a, FILE *out, FILE *err);
int client_cmd_writes(const struct client_args *a, FILE *out, FILE *err);
int client_cmd_check(const struct client_args *a, FILE *out, FILE *err);

#endif
