/* dp_link.h - warp-control's connection to the data plane's control socket.
 *
 *   dp_link_init     dp_link.c  the socket path, the per-request timeout
 *   dp_link_call     dp_link.c  one request, one answer, within the timeout
 *   dp_link_up       dp_link.c  connected now?
 *   dp_link_close    dp_link.c
 *
 * One request at a time: write a line, read a line. A connection that
 * fails (refused, closed, a timeout, a garbled answer) is dropped and the
 * next connect waits a back-off (100 ms doubling to 5 s, reset by a
 * success); calls during the back-off fail at once, so a data plane that is
 * down costs the loop nothing and a hung one at most one timeout.
 */
#ifndef CONTROL_DP_LINK_H
#define CONTROL_DP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define DP_LINK_BACKOFF_MIN_S 0.1
#define DP_LINK_BACKOFF_MAX_S 5.0
#define DP_LINK_ANSWER_MAX (16u << 20)

struct dp_link {
	char path[108];
	int fd;
	int timeout_ms;
	double next_try;  /* monotonic seconds: no connect before */
	double backoff_s;
	uint64_t connects; /* successful connects: a change means "reconnected" */
	uint64_t failures;
	char *buf;        /* bytes read past the last answer line */
	size_t buf_len, buf_cap;
};

void dp_link_init(struct dp_link *l, const char *path, int timeout_ms);
/* The answer object (a new reference: {"ok":..., ...}) or NULL with a
 * sentence in err (not connected, timed out, ...). */
json_t *dp_link_call(struct dp_link *l, const json_t *request, double now, char *err,
		     size_t err_len);
bool dp_link_up(const struct dp_link *l);
void dp_link_close(struct dp_link *l);
/* Monotonic seconds. */
double dp_link_now(void);

#endif
