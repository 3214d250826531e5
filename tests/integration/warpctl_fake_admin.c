/* warpctl_fake_admin.c - a stand-in for warp-control's admin socket, for
 * warpctl's tests: canned answers, and the ways a server can misbehave.
 *
 *   warpctl_fake_admin SOCK ANSWERS.json [REQUEST_LOG]
 *
 * ANSWERS.json is one object. For a request {"command": C, "name": N, ...}
 * the answer is the member "C:N" if there is one, else "C:workerW" for a
 * request with {"worker": W}, else "C", else "*", else
 * {"ok": false, "error": "unknown command", "code": "usage"}. A member
 * that is an object is sent as one line; a string is a misbehaviour:
 *   "close"      close without a word          "garbage"   a line that is not JSON
 *   "partial"    half an answer, then close    "not-object" a JSON array line
 *   "huge"       17 MiB without a line end     "silent"    never answer, stay connected
 *   "no-ok"      an object without "ok"
 * Each request line is appended to REQUEST_LOG (as received), so a test can
 * check what warpctl sent. Serves one connection at a time until killed.
 */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request line into buf (NUL-terminated, newline dropped); -1 on EOF. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t r = recv(fd, buf + n, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

static const json_t *pick_answer(const json_t *answers, const json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "command"));
	const char *name = json_string_value(json_object_get(req, "name"));
	const json_t *a;
	char key[256];

	if (cmd && name) {
		snprintf(key, sizeof(key), "%s:%s", cmd, name);
		if ((a = json_object_get(answers, key)) != NULL)
			return a;
	}
	if (cmd && json_is_integer(json_object_get(req, "worker"))) {
		snprintf(key, sizeof(key), "%s:worker%lld", cmd,
			 (long long)json_integer_value(json_object_get(req, "worker")));
		if ((a = json_object_get(answers, key)) != NULL)
			return a;
	}
	if (cmd && (a = json_object_get(answers, cmd)) != NULL)
		return a;
	return json_object_get(answers, "*");
}

/* Answer one connection; returns 1 when the connection is to be left open. */
static int serve(int fd, const json_t *answers, FILE *log)
{
	static char line[1 << 20];
	const json_t *a;
	json_t *req;
	char *text;

	if (read_line(fd, line, sizeof(line)) != 0)
		return 0;
	if (log) {
		fprintf(log, "%s\n", line);
		fflush(log);
	}
	req = json_loads(line, 0, NULL);
	a = pick_answer(answers, req);
	if (a == NULL) {
		const char *u = "{\"ok\":false,\"error\":\"unknown command\",\"code\":\"usage\"}\n";

		send_all(fd, u, strlen(u));
	} else if (json_is_object(a)) {
		text = json_dumps(a, JSON_COMPACT);
		send_all(fd, text, strlen(text));
		send_all(fd, "\n", 1);
		free(text);
	} else if (json_is_string(a)) {
		const char *how = json_string_value(a);

		if (strcmp(how, "silent") == 0) {
			json_decref(req);
			return 1;
		} else if (strcmp(how, "garbage") == 0) {
			send_all(fd, "this is not JSON\n", 17);
		} else if (strcmp(how, "partial") == 0) {
			send_all(fd, "{\"ok\": true, \"res", 17);
		} else if (strcmp(how, "not-object") == 0) {
			send_all(fd, "[1, 2, 3]\n", 10);
		} else if (strcmp(how, "no-ok") == 0) {
			send_all(fd, "{\"result\": {}}\n", 15);
		} else if (strcmp(how, "huge") == 0) {
			static char chunk[1 << 16];

			memset(chunk, 'x', sizeof(chunk));
			for (int i = 0; i < 17 * 16; i++)
				if (send_all(fd, chunk, sizeof(chunk)) != 0)
					break; /* the client gave up reading: as expected */
		}
		/* "close" and every other word: close without a word. */
	}
	json_decref(req);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	json_error_t je;
	json_t *answers;
	FILE *log = NULL;
	int lfd;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: warpctl_fake_admin SOCK ANSWERS.json [REQUEST_LOG]\n");
		return 2;
	}
	answers = json_load_file(argv[2], 0, &je);
	if (!json_is_object(answers)) {
		fprintf(stderr, "warpctl_fake_admin: %s:%d: %s\n", argv[2], je.line, je.text);
		return 2;
	}
	if (argc == 4 && (log = fopen(argv[3], "a")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memcpy(addr.sun_path, argv[1], strlen(argv[1]) + 1);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lfd, 16) != 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		/* A "silent" connection stays open (and is never read again). */
		if (serve(fd, answers, log) == 0)
			close(fd);
	}
}
