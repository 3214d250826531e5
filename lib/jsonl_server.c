/* jsonl_server.c - a JSON-lines server on a Unix socket (see jsonl_server.h).
 *
 * DESIGN: non-blocking sockets polled from the owner's loop; each
 * connection has an input buffer (up to one request line) and an output
 * buffer (answers not yet written). A request is one JSON object on one
 * line; parsing uses jansson. The server hands requests out one at a time
 * and takes answers back: what to do with a request is the owner's
 * business (the data plane's control_cmds.c, warp-control's admin_cmds.c).
 * The peer's credentials are read once, at accept (SO_PEERCRED).
 */
#include "jsonl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct jsonl_client {
	int fd;
	double last_active;
	struct jsonl_peer peer;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	bool closing; /* close once the output is written */
};

static void client_free(struct jsonl_server *cs, int i)
{
	struct jsonl_client *c = cs->clients[i];

	if (c == NULL)
		return;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	cs->clients[i] = NULL;
}

static bool socket_alive(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool alive;

	if (fd < 0)
		return false;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	alive = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return alive;
}

int jsonl_server_open(struct jsonl_server *cs, const char *path, mode_t mode, const char *what,
		      char *err, size_t err_len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat sb;
	mode_t old;
	int r;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	cs->what = what != NULL ? what : "socket";
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, err_len, "%s %s: longer than %zu bytes", cs->what, path,
			 sizeof(a.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if ((mode & ~(mode_t)0777) != 0) {
		snprintf(err, err_len, "%s %s: mode %o is not a permission mode (0..0777)",
			 cs->what, path, (unsigned)mode);
		return -EINVAL;
	}
	snprintf(cs->path, sizeof(cs->path), "%s", path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, err_len, "%s %s: exists and is not a socket", cs->what, path);
			return -EEXIST;
		}
		if (socket_alive(path)) {
			snprintf(err, err_len, "%s %s: another process serves it", cs->what, path);
			return -EADDRINUSE;
		}
		unlink(path); /* left by a process that is gone */
	}
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cs->fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: socket: %s", cs->what, strerror(-r));
		return r;
	}
	/* The socket file is born with the mode: no moment where it is wider. */
	old = umask(~mode & 0777);
	r = bind(cs->fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : -errno;
	umask(old);
	if (r == 0 && listen(cs->fd, 64) != 0)
		r = -errno;
	if (r != 0) {
		snprintf(err, err_len, "%s %s: %s", cs->what, path, strerror(-r));
		close(cs->fd);
		cs->fd = -1;
		return r;
	}
	return 0;
}

static void queue(struct jsonl_client *c, const char *text, size_t len)
{
	if (c->out_len - c->out_off + len + 1 > 64u << 20) {
		c->closing = true; /* a client that never reads: give up on it */
		return;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	char *p = realloc(c->out, c->out_len + len + 1);

	if (p == NULL) {
		c->closing = true;
		return;
	}
	c->out = p;
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
}

static void queue_json(struct jsonl_client *c, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);

	if (text != NULL)
		queue(c, text, strlen(text));
	else
		c->closing = true;
	free(text);
}

static void queue_error(const struct jsonl_server *cs, struct jsonl_client *c, const char *msg)
{
	json_t *j = json_pack("{s:b, s:s}", "ok", 0, "error", msg);

	if (cs->error_code != NULL)
		json_object_set_new(j, "code", json_string(cs->error_code));
	queue_json(c, j);
	json_decref(j);
}

/* Unknown credentials read as uid/gid -1, pid 0: no role matches them. */
static void peer_credentials(int fd, struct jsonl_peer *peer)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	peer->pid = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && len == sizeof(cr)) {
		peer->uid = cr.uid;
		peer->gid = cr.gid;
		peer->pid = cr.pid;
	}
}

static void accept_new(struct jsonl_server *cs, double now)
{
	for (;;) {
		int fd = accept4(cs->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < JSONL_CLIENTS_MAX && slot < 0; i++)
			if (cs->clients[i] == NULL)
				slot = i;
		if (slot < 0) {
			char busy[160];
			int len = snprintf(busy, sizeof(busy),
					   "{\"ok\":false,\"error\":\"too many connections\"%s%s%s}\n",
					   cs->error_code ? ",\"code\":\"" : "",
					   cs->error_code ? cs->error_code : "",
					   cs->error_code ? "\"" : "");
			ssize_t w = write(fd, busy, (size_t)len);

			(void)w;
			close(fd);
			cs->refused++;
			continue;
		}
		cs->clients[slot] = calloc(1, sizeof(struct jsonl_client));
		if (cs->clients[slot] == NULL) {
			close(fd);
			continue;
		}
		cs->clients[slot]->fd = fd;
		peer_credentials(fd, &cs->clients[slot]->peer);
		cs->clients[slot]->last_active = now;
		cs->accepted++;
	}
}

/* Read what a client sent; false when it is gone. */
static bool client_read(const struct jsonl_server *cs, struct jsonl_client *c, double now)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->last_active = now;
		if (c->closing)
			continue; /* discard: an error was answered, closing */
		if (c->in_len + (size_t)n > JSONL_REQUEST_MAX + 1) {
			queue_error(cs, c, "request longer than 1 MiB");
			c->closing = true;
			c->in_len = 0;
			continue;
		}
		if (c->in_len + (size_t)n > c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap : 4096;
			char *p;

			while (cap < c->in_len + (size_t)n)
				cap *= 2;
			p = realloc(c->in, cap);
			if (p == NULL)
				return false;
			c->in = p;
			c->in_cap = cap;
		}
		memcpy(c->in + c->in_len, buf, (size_t)n);
		c->in_len += (size_t)n;
	}
}

static bool client_write(struct jsonl_client *c, double now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out_off += (size_t)n;
		c->last_active = now;
	}
	c->out_off = c->out_len = 0;
	return !c->closing;
}

/* The next complete line of client c, parsed; NULL when none (a malformed
 * line is answered and skipped). */
static json_t *next_request(struct jsonl_server *cs, struct jsonl_client *c)
{
	for (;;) {
		char *nl = c->in_len ? memchr(c->in, '\n', c->in_len) : NULL;
		size_t line;
		json_error_t je;
		json_t *j;

		if (nl == NULL)
			return NULL;
		line = (size_t)(nl - c->in);
		if (line == 0 || (line == 1 && c->in[0] == '\r')) { /* an empty line */
			memmove(c->in, nl + 1, c->in_len - line - 1);
			c->in_len -= line + 1;
			continue;
		}
		j = json_loadb(c->in, line, JSON_REJECT_DUPLICATES, &je);
		memmove(c->in, nl + 1, c->in_len - line - 1);
		c->in_len -= line + 1;
		if (j == NULL || !json_is_object(j)) {
			char msg[256];

			snprintf(msg, sizeof(msg), "not a JSON object: %s",
				 j == NULL ? je.text : "another JSON value");
			queue_error(cs, c, msg);
			json_decref(j);
			cs->bad_requests++;
			continue;
		}
		cs->requests++;
		return j;
	}
}

json_t *jsonl_server_poll(struct jsonl_server *cs, double now, int *client)
{
	if (cs->fd < 0)
		return NULL;
	accept_new(cs, now);
	for (int i = 0; i < JSONL_CLIENTS_MAX; i++) {
		struct jsonl_client *c = cs->clients[i];
		json_t *req;

		if (c == NULL)
			continue;
		if (!client_read(cs, c, now) || !client_write(c, now) ||
		    now - c->last_active > JSONL_IDLE_S) {
			if (now - c->last_active > JSONL_IDLE_S)
				cs->timeouts++;
			client_free(cs, i);
			continue;
		}
		req = next_request(cs, c);
		if (req != NULL) {
			*client = i;
			return req;
		}
	}
	return NULL;
}

void jsonl_server_reply(struct jsonl_server *cs, int client, json_t *answer)
{
	struct jsonl_client *c;

	if (client < 0 || client >= JSONL_CLIENTS_MAX || cs->clients[client] == NULL)
		return;
	c = cs->clients[client];
	queue_json(c, answer);
	if (!client_write(c, c->last_active))
		client_free(cs, client);
}

void jsonl_server_close(struct jsonl_server *cs)
{
	for (int i = 0; i < JSONL_CLIENTS_MAX; i++)
		client_free(cs, i);
	if (cs->fd >= 0) {
		close(cs->fd);
		unlink(cs->path);
	}
	cs->fd = -1;
}

bool jsonl_server_peer(const struct jsonl_server *cs, int client, struct jsonl_peer *peer)
{
	if (client < 0 || client >= JSONL_CLIENTS_MAX || cs->clients[client] == NULL)
		return false;
	*peer = cs->clients[client]->peer;
	return true;
}

unsigned jsonl_server_clients(const struct jsonl_server *cs)
{
	unsigned n = 0;

	for (int i = 0; i < JSONL_CLIENTS_MAX; i++)
		n += cs->clients[i] != NULL;
	return n;
}
