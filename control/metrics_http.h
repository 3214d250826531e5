/* metrics_http.h - /metrics over HTTP (libmicrohttpd, its own thread).
 *
 *   metrics_http_start   metrics_http.c  listen on ADDR:PORT
 *   metrics_http_set     metrics_http.c  the text the next scrape gets (copied)
 *   metrics_http_stop    metrics_http.c
 *
 * The main loop renders the exposition after each sample and hands it
 * over; the server thread only copies the latest text out under a lock,
 * so a scrape never waits for the data plane.
 */
#ifndef CONTROL_METRICS_HTTP_H
#define CONTROL_METRICS_HTTP_H

#include <stddef.h>

#include "we_compiler.h"

struct metrics_http;

/* addr "127.0.0.1:9464" or ":9464" (all addresses). NULL and err on failure. */
struct metrics_http *metrics_http_start(const char *addr, char *err, size_t err_len);
/* text: NUL-terminated; copied. */
void metrics_http_set(struct metrics_http *m, const char *text);
void metrics_http_stop(struct metrics_http *m);

#endif
