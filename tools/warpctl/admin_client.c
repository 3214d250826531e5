/* admin_client.c - one exchange with warp-control's admin socket (see
 * admin_client.h).
 *
 * DESIGN: the socket is non-blocking and every wait is a poll() bounded by
 * one deadline fixed before connecting, so --timeout-ms bounds the whole
 * exchange however the server behaves (silent, slow, a line without end).
 * The answer buffer grows by doubling up to ADMIN_ANSWER_MAX; a longer line
 * is refused instead of read, so a broken server cannot exhaust memory.
 */
#include "admin_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int64_t admin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 1 ready, 0 timed out, -errno. */
static int admin_wait(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline_ms - admin_now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static enum warpctl_exit admin_connect_error(const char *path, int e, char *err, size_t len)
{
	snprintf(err, len, "cannot connect to the admin socket %s: %s%s", path, strerror(e),
		 e == ENOENT || e == ECONNREFUSED ? " (is warp-control running? --socket or "
						    "WARPCTL_SOCKET name another socket)"
		 : e == EACCES || e == EPERM ? " (the socket's mode or owner keeps this user out)"
					     : "");
	if (e == EACCES || e == EPERM)
		return WARPCTL_EXIT_DENIED;
	return WARPCTL_EXIT_UNREACHABLE;
}

enum warpctl_exit admin_connect(const char *path, int64_t deadline_ms, int *fd, char *err,
				size_t err_len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s, r;
	int e = 0;
	socklen_t elen = sizeof(e);

	*fd = -1;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, err_len, "admin socket path '%s' is empty or longer than %zu bytes",
			 path ? path : "", sizeof(a.sun_path) - 1);
		return WARPCTL_EXIT_USAGE;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return WARPCTL_EXIT_FAILED;
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
		*fd = s;
		return WARPCTL_EXIT_OK;
	}
	/* A full listen backlog makes a non-blocking Unix connect say EAGAIN
	 * (not EINPROGRESS): retry until the deadline. */
	while (errno == EAGAIN || errno == EINPROGRESS) {
		if (errno == EINPROGRESS) {
			r = admin_wait(s, POLLOUT, deadline_ms);
			if (r > 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 && e == 0) {
				*fd = s;
				return WARPCTL_EXIT_OK;
			}
			if (r > 0) {
				close(s);
				return admin_connect_error(path, e ? e : EIO, err, err_len);
			}
			break;
		}
		if (admin_now_ms() >= deadline_ms)
			break;
		usleep(1000);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			*fd = s;
			return WARPCTL_EXIT_OK;
		}
	}
	e = errno;
	close(s);
	if (e == EAGAIN || e == EINPROGRESS || e == 0) {
		snprintf(err, err_len, "admin socket %s: no connection within the timeout (server "
			 "overloaded?)", path);
		return WARPCTL_EXIT_UNREACHABLE;
	}
	return admin_connect_error(path, e, err, err_len);
}

enum warpctl_exit admin_send_line(int fd, const json_t *request, int64_t deadline_ms, char *err,
				  size_t err_len)
{
	char *text = json_dumps(request, JSON_COMPACT);
	size_t n, off = 0;
	enum warpctl_exit rc = WARPCTL_EXIT_OK;

	if (text == NULL) {
		snprintf(err, err_len, "cannot encode the request");
		return WARPCTL_EXIT_FAILED;
	}
	n = strlen(text);
	text[n++] = '\n'; /* json_dumps's NUL becomes the line's end; not printed as a string */
	while (off < n) {
		ssize_t w = send(fd, text + off, n - off, MSG_NOSIGNAL);

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int r = admin_wait(fd, POLLOUT, deadline_ms);

			if (r > 0)
				continue;
			snprintf(err, err_len, "the admin socket took no request within the timeout");
			rc = WARPCTL_EXIT_UNREACHABLE;
			break;
		}
		snprintf(err, err_len, "sending the request: %s (the server closed the connection)",
			 strerror(errno));
		rc = WARPCTL_EXIT_UNREACHABLE;
		break;
	}
	free(text);
	return rc;
}

enum warpctl_exit admin_read_line(int fd, int64_t deadline_ms, size_t max, char **line,
				  size_t *len, char *err, size_t err_len)
{
	size_t cap = 4096, used = 0, scanned = 0;
	char *buf = malloc(cap);

	*line = NULL;
	*len = 0;
	if (buf == NULL) {
		snprintf(err, err_len, "out of memory");
		return WARPCTL_EXIT_FAILED;
	}
	for (;;) {
		char *nl = memchr(buf + scanned, '\n', used - scanned);
		ssize_t n;
		int r;

		if (nl != NULL) {
			*nl = '\0';
			*line = buf;
			*len = (size_t)(nl - buf);
			return WARPCTL_EXIT_OK;
		}
		scanned = used;
		if (used > max) {
			snprintf(err, err_len, "the answer is longer than %zu MiB without a line end; "
				 "refused", max >> 20);
			break;
		}
		if (used + 1 >= cap) {
			/* One byte past max is enough to know the line is too long. */
			size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			char *nb = realloc(buf, ncap);

			if (nb == NULL) {
				snprintf(err, err_len, "out of memory reading the answer");
				break;
			}
			buf = nb;
			cap = ncap;
		}
		n = recv(fd, buf + used, cap - 1 - used, 0);
		if (n > 0) {
			used += (size_t)n;
			continue;
		}
		if (n == 0) {
			free(buf);
			if (used == 0) {
				snprintf(err, err_len, "the server closed the connection without answering");
				return WARPCTL_EXIT_UNREACHABLE;
			}
			snprintf(err, err_len, "the server closed the connection in the middle of its "
				 "answer (%zu bytes, no line end)", used);
			return WARPCTL_EXIT_FAILED;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			free(buf);
			snprintf(err, err_len, "reading the answer: %s", strerror(errno));
			return WARPCTL_EXIT_UNREACHABLE;
		}
		r = admin_wait(fd, POLLIN, deadline_ms);
		if (r <= 0) {
			free(buf);
			snprintf(err, err_len, "no answer within the timeout%s",
				 used ? " (a partial line came)" : "");
			return WARPCTL_EXIT_UNREACHABLE;
		}
	}
	free(buf);
	return WARPCTL_EXIT_FAILED;
}

enum warpctl_exit admin_answer_parse(const char *line, size_t len, struct admin_answer *ans,
				     char *err, size_t err_len)
{
	json_error_t je;
	const json_t *ok;

	memset(ans, 0, sizeof(*ans));
	ans->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (ans->root == NULL) {
		snprintf(err, err_len, "malformed answer from the server (not JSON: %s at byte %d)",
			 je.text, je.position);
		return WARPCTL_EXIT_FAILED;
	}
	ok = json_object_get(ans->root, "ok");
	if (!json_is_object(ans->root) || !json_is_boolean(ok)) {
		snprintf(err, err_len, "malformed answer from the server (not an object with \"ok\")");
		goto bad;
	}
	ans->ok = json_is_true(ok);
	if (ans->ok) {
		ans->result = json_object_get(ans->root, "result");
		if (ans->result == NULL) {
			snprintf(err, err_len, "malformed answer from the server (\"ok\" without "
				 "\"result\")");
			goto bad;
		}
		return WARPCTL_EXIT_OK;
	}
	ans->error = json_string_value(json_object_get(ans->root, "error"));
	ans->code = json_string_value(json_object_get(ans->root, "code"));
	if (ans->error == NULL)
		ans->error = "the server gave no reason";
	return WARPCTL_EXIT_OK;
bad:
	json_decref(ans->root);
	memset(ans, 0, sizeof(*ans));
	return WARPCTL_EXIT_FAILED;
}

void admin_answer_free(struct admin_answer *ans)
{
	json_decref(ans->root);
	memset(ans, 0, sizeof(*ans));
}

enum warpctl_exit admin_call(const char *path, const json_t *request, int timeout_ms,
			     struct admin_answer *ans, char *err, size_t err_len)
{
	int64_t deadline = admin_now_ms() + timeout_ms;
	enum warpctl_exit rc;
	char *line = NULL;
	size_t len = 0;
	int fd;

	memset(ans, 0, sizeof(*ans));
	rc = admin_connect(path, deadline, &fd, err, err_len);
	if (rc != WARPCTL_EXIT_OK)
		return rc;
	rc = admin_send_line(fd, request, deadline, err, err_len);
	if (rc == WARPCTL_EXIT_OK)
		rc = admin_read_line(fd, deadline, ADMIN_ANSWER_MAX, &line, &len, err, err_len);
	close(fd);
	if (rc != WARPCTL_EXIT_OK)
		return rc;
	rc = admin_answer_parse(line, len, ans, err, err_len);
	free(line);
	return rc;
}
