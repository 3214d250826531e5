/* ctl_request.c - send one request to a Unix-socket control endpoint and
 * print the one-line answer (tests only).
 *
 *   ctl_request SOCK JSON         send JSON and a newline; print the answer line
 *   ctl_request SOCK --big N      send N bytes of 'x' then a newline (oversized requests)
 *   ctl_request SOCK --silent S   send nothing; say after how long the server closed (<= S s)
 *
 * Exit 0 when an answer (or the close) came, 1 on a connection error, 2 on
 * usage, 3 when nothing came within 10 s.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	static char line[1 << 22];
	size_t len = 0;
	double t0;
	int fd;

	if (argc < 3 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: ctl_request SOCK JSON | --big N | --silent S\n");
		return 2;
	}
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "ctl_request: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	t0 = now_s();
	if (strcmp(argv[2], "--big") == 0 && argc == 4) {
		size_t n = strtoul(argv[3], NULL, 10);
		char *big = malloc(n + 1);

		if (big == NULL)
			return 1;
		memset(big, 'x', n);
		big[n] = '\n';
		if (send_all(fd, big, n + 1) != 0 && errno != EPIPE && errno != ECONNRESET) {
			fprintf(stderr, "ctl_request: write: %s\n", strerror(errno));
			return 1;
		}
		free(big);
	} else if (strcmp(argv[2], "--silent") == 0 && argc == 4) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = atoi(argv[3]) * 1000;

		if (poll(&p, 1, ms) == 1 && read(fd, line, 1) == 0) {
			printf("closed after %.1f s\n", now_s() - t0);
			return 0;
		}
		printf("still open after %d s\n", ms / 1000);
		return 3;
	} else {
		if (send_all(fd, argv[2], strlen(argv[2])) != 0 || send_all(fd, "\n", 1) != 0) {
			fprintf(stderr, "ctl_request: write: %s\n", strerror(errno));
			return 1;
		}
	}
	while (len < sizeof(line) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) != 1) {
			fprintf(stderr, "ctl_request: no answer within 10 s\n");
			return 3;
		}
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = 0;
	fputs(line, stdout);
	close(fd);
	return len > 0 ? 0 : 3;
}
