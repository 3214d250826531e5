/* dp_link.c - the connection to the data plane (see dp_link.h).
 *
 * DESIGN: a blocking exchange bounded by poll() deadlines rather than a
 * state machine: the data plane's supervisor answers within its 10 ms tick,
 * so a request normally takes a few milliseconds, and the timeout bounds
 * the rare slow one. The socket is non-blocking; every wait is a poll()
 * with the time left.
 */
#include "dp_link.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

double dp_link_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void dp_link_init(struct dp_link *l, const char *path, int timeout_ms)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->fd = -1;
	l->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
	l->backoff_s = DP_LINK_BACKOFF_MIN_S;
}

bool dp_link_up(const struct dp_link *l)
{
	return l->fd >= 0;
}

static void drop(struct dp_link *l, double now)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->buf_len = 0;
	l->failures++;
	l->next_try = now + l->backoff_s;
	l->backoff_s *= 2;
	if (l->backoff_s > DP_LINK_BACKOFF_MAX_S)
		l->backoff_s = DP_LINK_BACKOFF_MAX_S;
}

void dp_link_close(struct dp_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->buf);
	l->buf = NULL;
	l->buf_len = l->buf_cap = 0;
}

static int try_connect(struct dp_link *l, double now, char *err, size_t err_len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	if (now < l->next_try) {
		snprintf(err, err_len, "the data plane at %s is not reachable (next try in %.1f s)",
			 l->path, l->next_try - now);
		return -EAGAIN;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", l->path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || connect(l->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;

		drop(l, now);
		snprintf(err, err_len, "the data plane at %s is not reachable: %s", l->path,
			 strerror(e));
		return -e;
	}
	l->connects++;
	return 0;
}

/* Wait for events on the link until deadline; false on timeout or error. */
static bool wait_for(struct dp_link *l, short events, double deadline)
{
	for (;;) {
		struct pollfd p = {.fd = l->fd, .events = events};
		double left = deadline - dp_link_now();
		int r;

		if (left <= 0)
			return false;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

static bool send_line(struct dp_link *l, const char *text, size_t len, double deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(l->fd, text + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_for(l, POLLOUT, deadline))
			continue;
		return false;
	}
	return true;
}

/* One line into *line (NUL-terminated, in l->buf); its length, or -1. */
static ssize_t read_line(struct dp_link *l, double deadline, char **line)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = l->buf_len > scanned ? memchr(l->buf + scanned, '\n', l->buf_len - scanned)
						: NULL;
		ssize_t n;

		if (nl != NULL) {
			*nl = 0;
			*line = l->buf;
			return nl - l->buf;
		}
		scanned = l->buf_len;
		if (l->buf_len + 65536 > l->buf_cap) {
			size_t cap = l->buf_cap ? l->buf_cap * 2 : 131072;
			char *p;

			if (cap > DP_LINK_ANSWER_MAX)
				return -1;
			p = realloc(l->buf, cap);
			if (p == NULL)
				return -1;
			l->buf = p;
			l->buf_cap = cap;
		}
		n = read(l->fd, l->buf + l->buf_len, l->buf_cap - l->buf_len);
		if (n > 0) {
			l->buf_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -1;
		if (errno == EINTR || (errno == EAGAIN && wait_for(l, POLLIN, deadline)))
			continue;
		return -1;
	}
}

json_t *dp_link_call(struct dp_link *l, const json_t *request, double now, char *err,
		     size_t err_len)
{
	double deadline = now + l->timeout_ms / 1000.0;
	char *text, *line;
	ssize_t len;
	json_error_t je;
	json_t *answer;

	if (l->fd < 0 && try_connect(l, now, err, err_len) != 0)
		return NULL;
	text = json_dumps(request, JSON_COMPACT);
	if (text == NULL) {
		snprintf(err, err_len, "cannot encode the request");
		return NULL;
	}
	l->buf_len = 0;
	if (!send_line(l, text, strlen(text), deadline) || !send_line(l, "\n", 1, deadline)) {
		free(text);
		snprintf(err, err_len, "the data plane at %s: the request could not be sent",
			 l->path);
		drop(l, dp_link_now());
		return NULL;
	}
	free(text);
	len = read_line(l, deadline, &line);
	if (len < 0) {
		snprintf(err, err_len, "the data plane at %s: no answer within %d ms", l->path,
			 l->timeout_ms);
		drop(l, dp_link_now());
		return NULL;
	}
	answer = json_loadb(line, (size_t)len, 0, &je);
	l->buf_len = 0;
	if (answer == NULL || !json_is_object(answer)) {
		json_decref(answer);
		snprintf(err, err_len, "the data plane at %s: an answer that is not a JSON object",
			 l->path);
		drop(l, dp_link_now());
		return NULL;
	}
	l->backoff_s = DP_LINK_BACKOFF_MIN_S;
	return answer;
}
