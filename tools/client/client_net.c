/* client_net.c - the socket side of warp-client: sendmmsg, recvmmsg, ppoll.
 *
 * DESIGN: client_net_run() is the only loop that waits. Each turn reads the
 * clock once, handles expired timers, lets the tracker admit requests, sends
 * every datagram it releases in sendmmsg bursts, then sleeps in ppoll until
 * a reply, source input or the earliest timer, and drains replies with
 * recvmmsg. The tracker decides; this file only moves bytes and time.
 *
 * A datagram the kernel refuses (ENOBUFS, EAGAIN on a full send buffer) is
 * counted and treated as lost: its timer is already running and the retry
 * path covers it, so a short burst of refusals costs a timeout, not a hang.
 * The loop ends by itself: the tracker finishes every request within its
 * tries, and the optional deadline aborts whatever is left.
 */
#include "client_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "we_assert.h"
#include "we_time.h"

/* Socket buffers asked for (the kernel caps them at net.core.*mem_max). */
#define SOCK_BUF_BYTES (4 << 20)
/* recvmmsg rounds per turn, so sending is never starved by a reply flood. */
#define RX_ROUNDS_MAX 8

uint64_t client_now_ns(void)
{
	return we_monotonic_ns();
}

static int resolve(const char *name, struct in_addr *out)
{
	struct addrinfo hints, *res;

	if (inet_pton(AF_INET, name, out) == 1)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
		return -EINVAL;
	*out = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

int client_net_open(struct client_net *n, const char *server, uint16_t port_base,
		    uint16_t n_workers, char *err, size_t err_len)
{
	int buf_bytes = SOCK_BUF_BYTES;
	int rc;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->server.sin_family = AF_INET;
	n->port_base = port_base;
	n->n_workers = n_workers;
	if (resolve(server, &n->server.sin_addr) != 0) {
		snprintf(err, err_len, "--server: cannot resolve '%s' to an IPv4 address", server);
		return -EINVAL;
	}
	inet_ntop(AF_INET, &n->server.sin_addr, n->server_text, sizeof(n->server_text));
	n->rx_bufs = calloc(CLIENT_NET_BURST, sizeof(*n->rx_bufs));
	if (!n->rx_bufs) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	n->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		rc = -errno;
		snprintf(err, err_len, "socket: %s", strerror(errno));
		client_net_close(n);
		return rc;
	}
	/* Best effort: a larger buffer only absorbs bursts of replies. */
	(void)setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof(buf_bytes));
	(void)setsockopt(n->fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof(buf_bytes));
	return 0;
}

void client_net_close(struct client_net *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	free(n->rx_bufs);
	n->rx_bufs = NULL;
}

static void set_dest(const struct client_net *n, struct sockaddr_in *to, uint16_t port)
{
	*to = n->server;
	to->sin_port = htons(port);
}

/* Worker index of a reply's source, or -1 if it is not the server's. */
static int source_worker(const struct client_net *n, const struct sockaddr_in *from,
			 socklen_t from_len)
{
	uint16_t port;

	if (from_len < sizeof(*from) || from->sin_family != AF_INET ||
	    from->sin_addr.s_addr != n->server.sin_addr.s_addr)
		return -1;
	port = ntohs(from->sin_port);
	if (port < n->port_base || port - n->port_base >= n->n_workers)
		return -1;
	return port - n->port_base;
}

/* Send whatever the tracker releases. Refused datagrams count as lost. */
static void tx_all(struct client_net *n, struct client_track *t, uint64_t now_ns)
{
	struct mmsghdr msgs[CLIENT_NET_BURST];
	struct iovec iov[CLIENT_NET_BURST];
	struct sockaddr_in to[CLIENT_NET_BURST];
	struct client_tx tx;
	unsigned cnt;

	do {
		cnt = 0;
		while (cnt < CLIENT_NET_BURST && client_track_next_tx(t, now_ns, &tx)) {
			set_dest(n, &to[cnt], (uint16_t)(n->port_base + tx.worker));
			iov[cnt].iov_base = (void *)tx.buf;
			iov[cnt].iov_len = tx.len;
			memset(&msgs[cnt], 0, sizeof(msgs[cnt]));
			msgs[cnt].msg_hdr.msg_name = &to[cnt];
			msgs[cnt].msg_hdr.msg_namelen = sizeof(to[cnt]);
			msgs[cnt].msg_hdr.msg_iov = &iov[cnt];
			msgs[cnt].msg_hdr.msg_iovlen = 1;
			cnt++;
		}
		for (unsigned off = 0; off < cnt;) {
			int sent = sendmmsg(n->fd, msgs + off, cnt - off, 0);

			if (sent < 0 && errno == EINTR)
				continue;
			if (sent <= 0) {
				/* The first unsent datagram failed: skip it, try the rest. */
				n->tx_errors++;
				n->tx_last_errno = sent < 0 ? errno : EAGAIN;
				off++;
				continue;
			}
			off += (unsigned)sent;
		}
	} while (cnt == CLIENT_NET_BURST);
}

/* Drain replies into the tracker; bounded rounds per call. */
static int rx_all(struct client_net *n, struct client_track *t)
{
	struct mmsghdr msgs[CLIENT_NET_BURST];
	struct iovec iov[CLIENT_NET_BURST];
	struct sockaddr_in from[CLIENT_NET_BURST];

	for (unsigned round = 0; round < RX_ROUNDS_MAX; round++) {
		int got;

		for (unsigned i = 0; i < CLIENT_NET_BURST; i++) {
			iov[i].iov_base = n->rx_bufs[i];
			iov[i].iov_len = CLIENT_NET_RX_BUF;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(n->fd, msgs, CLIENT_NET_BURST, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			/* ICMP errors may surface here (ECONNREFUSED): not fatal,
			 * the request just stays unanswered. */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				return 0;
			return -errno;
		}
		for (int i = 0; i < got; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				n->rx_truncated++;
				continue;
			}
			if (source_worker(n, &from[i], msgs[i].msg_hdr.msg_namelen) < 0) {
				n->rx_foreign++;
				continue;
			}
			client_track_rx(t, n->rx_bufs[i], msgs[i].msg_len);
		}
		if (got < CLIENT_NET_BURST)
			return 0;
	}
	return 0;
}

static void ns_to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000ull);
	ts->tv_nsec = (long)(ns % 1000000000ull);
}

int client_net_run(struct client_net *n, struct client_track *t, uint64_t deadline_ns, int src_fd)
{
	for (;;) {
		uint64_t now = client_now_ns();
		uint64_t wake;
		struct pollfd pfd[2];
		struct timespec ts;
		nfds_t nfds = 1;
		int rc;

		if (deadline_ns && now >= deadline_ns) {
			client_track_abort(t);
			return -ETIMEDOUT;
		}
		/* Timers first: an expiry may free slots or queue a retry that
		 * the send step below can use at once. */
		client_track_expire(t, now);
		client_track_admit(t);
		tx_all(n, t, now);
		if (client_track_done(t))
			return 0;
		wake = client_track_expire(t, now);
		if (wake <= now)
			continue;
		if (deadline_ns && deadline_ns < wake)
			wake = deadline_ns;
		pfd[0].fd = n->fd;
		pfd[0].events = POLLIN;
		if (t->src_waiting && src_fd >= 0) {
			pfd[1].fd = src_fd;
			pfd[1].events = POLLIN;
			nfds = 2;
		}
		/* Nothing to wait for would be a tracker bug: it would spin. */
		WE_ASSERT(wake != UINT64_MAX || nfds == 2 || client_track_inflight(t) > 0);
		if (wake != UINT64_MAX)
			ns_to_timespec(wake - now, &ts);
		rc = ppoll(pfd, nfds, wake == UINT64_MAX ? NULL : &ts, NULL);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0 && (pfd[0].revents & (POLLIN | POLLERR))) {
			rc = rx_all(n, t);
			if (rc)
				return rc;
		}
	}
}

int client_net_send(struct client_net *n, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to;

	set_dest(n, &to, port);
	for (;;) {
		ssize_t sent = sendto(n->fd, buf, len, 0, (const struct sockaddr *)&to, sizeof(to));

		if (sent >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int client_net_recv(struct client_net *n, uint8_t *buf, size_t cap, uint16_t *port,
		    uint64_t until_ns)
{
	for (;;) {
		uint64_t now = client_now_ns();
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		struct timespec ts;
		ssize_t got;

		if (now >= until_ns)
			return -ETIMEDOUT;
		ns_to_timespec(until_ns - now, &ts);
		if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
			return -errno;
		got = recvfrom(n->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
			       &from_len);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
				continue;
			return -errno;
		}
		if (from_len < sizeof(from) || from.sin_addr.s_addr != n->server.sin_addr.s_addr) {
			n->rx_foreign++;
			continue;
		}
		*port = ntohs(from.sin_port);
		return (int)got;
	}
}
