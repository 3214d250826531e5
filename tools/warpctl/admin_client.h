/* admin_client.h - one request to warp-control's admin socket, one answer.
 *
 *   admin_call          admin_client.c  connect, send, read, decode: the whole exchange
 *   admin_connect       admin_client.c  connect to the Unix socket within a deadline
 *   admin_send_line     admin_client.c  write one JSON object and a newline
 *   admin_read_line     admin_client.c  read up to the first newline (<= ADMIN_ANSWER_MAX)
 *   admin_answer_parse  admin_client.c  check an answer line's shape
 *   admin_answer_free   admin_client.c  release an answer
 *
 * The protocol (docs/warpctl.md, "Admin socket protocol"): one JSON object
 * per line each way. Request {"command": NAME, ...}; answer
 * {"ok": true, "result": ...} or {"ok": false, "error": SENTENCE,
 * "code": "usage"|"failed"|"denied"|"unavailable"}.
 *
 * Every function returns a warpctl exit code (exitcode.h) and, when it is
 * not WARPCTL_EXIT_OK, a sentence in err saying what went wrong.
 */
#ifndef WARPCTL_ADMIN_CLIENT_H
#define WARPCTL_ADMIN_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"
#include "we_compiler.h"

#define ADMIN_ANSWER_MAX (16u << 20) /* longest answer line accepted, bytes */

struct admin_answer {
	json_t *root;         /* the whole answer object (owned) */
	bool ok;
	const json_t *result; /* ok: the "result" value (borrowed from root) */
	const char *error;    /* !ok: the server's sentence */
	const char *code;     /* !ok: "usage" | "failed" | "denied" | "unavailable" | NULL */
};

/* Send `request` to the socket at path and decode the answer, all within
 * timeout_ms. WARPCTL_EXIT_OK means an answer arrived (ans->ok says
 * whether the command succeeded); anything else means no usable answer:
 * unreachable (no socket, refused, timeout, closed without a word),
 * denied (the socket's permissions keep us out) or failed (a malformed
 * or over-long answer, a truncated line). */
enum warpctl_exit admin_call(const char *path, const json_t *request, int timeout_ms,
			     struct admin_answer *ans, char *err, size_t err_len) we_must_check;

/* Deadlines are CLOCK_MONOTONIC milliseconds. */
int64_t admin_now_ms(void);
/* A connected socket in *fd, or an exit code and err. */
enum warpctl_exit admin_connect(const char *path, int64_t deadline_ms, int *fd, char *err,
				size_t err_len) we_must_check;
enum warpctl_exit admin_send_line(int fd, const json_t *request, int64_t deadline_ms, char *err,
				  size_t err_len) we_must_check;
/* The line without its newline in *line (malloc'd, NUL-terminated, caller
 * frees) and its length in *len. At most max bytes before the newline. */
enum warpctl_exit admin_read_line(int fd, int64_t deadline_ms, size_t max, char **line,
				  size_t *len, char *err, size_t err_len) we_must_check;
/* Decode and check one answer line into ans (pure: no I/O). */
enum warpctl_exit admin_answer_parse(const char *line, size_t len, struct admin_answer *ans,
				     char *err, size_t err_len) we_must_check;
void admin_answer_free(struct admin_answer *ans);

#endif
