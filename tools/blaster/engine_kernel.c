/* engine_kernel.c - the kernel-socket engine: UDP sockets, batched syscalls.
 *
 * DESIGN: one non-blocking UDP socket and one thread. Each loop iteration
 * reads the clock once, lets the core prepare what is due, sends it with
 * sendmmsg() (up to --burst datagrams per call, each addressed to its
 * worker's port), drains answers with recvmmsg() and lets the core expire
 * and sample. By default it busy-polls, as a load generator should (a sleep
 * and wake-up would add tens of microseconds to every measured latency);
 * --no-spin sleeps in ppoll() until an answer or the next due event, for
 * shared machines and tests.
 *
 * With a single destination (memcached, or one worker) the socket is
 * connected, so an ICMP port-unreachable comes back as ECONNREFUSED and the
 * "no answer" error can say so. With several ports it cannot be (a connected
 * UDP socket talks to one port), and the blaster just reports silence.
 * When the kernel's send queue is full (EAGAIN, ENOBUFS) the datagrams wait
 * in the core's ring and go out on the next iteration, late: in open loop
 * that wait is measured, since latency runs from the intended send time.
 */
#include "engine.h"

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

#define ENGINE_KERNEL_RX_BUF 2048   /* native answers <= 1472, memcached's <= 1400 */
#define ENGINE_KERNEL_SOCKBUF (8 << 20)
#define ENGINE_KERNEL_POLL_MAX_NS 10000000ull

struct engine_kernel_ctx {
	int fd;
	bool connected;
	bool spin;
	uint32_t burst;
	uint16_t n_dest;
	struct sockaddr_storage *dest;
	socklen_t dest_len;
	struct mmsghdr *tx_msgs;
	struct iovec *tx_iov;
	struct mmsghdr *rx_msgs;
	struct iovec *rx_iov;
	uint8_t *rx_bufs;
	uint64_t refused;    /* ECONNREFUSED seen: ICMP port unreachable */
	uint64_t truncated;  /* answers larger than our receive buffer */
	char diag[160];
};

static void engine_kernel_close(void *p)
{
	struct engine_kernel_ctx *k = p;

	if (k == NULL)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k->dest);
	free(k->tx_msgs);
	free(k->tx_iov);
	free(k->rx_msgs);
	free(k->rx_iov);
	free(k->rx_bufs);
	free(k);
}

/* Resolve the server once and derive one address per destination port. */
static int engine_kernel_resolve(struct engine_kernel_ctx *k, const struct options *o,
				 char *err, size_t err_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
	int rc = getaddrinfo(o->server, NULL, &hints, &res);

	if (rc != 0) {
		snprintf(err, err_len, "--server '%s': %s", o->server, gai_strerror(rc));
		return -EINVAL;
	}
	k->dest_len = res->ai_addrlen;
	for (uint16_t i = 0; i < k->n_dest; i++) {
		struct sockaddr_storage *d = &k->dest[i];
		uint16_t port = htons((uint16_t)(o->port + i));

		memcpy(d, res->ai_addr, res->ai_addrlen);
		if (d->ss_family == AF_INET)
			((struct sockaddr_in *)d)->sin_port = port;
		else
			((struct sockaddr_in6 *)d)->sin6_port = port;
	}
	k->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	freeaddrinfo(res);
	if (k->fd < 0) {
		snprintf(err, err_len, "socket: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void engine_kernel_bufsize(int fd, int opt_force, int opt)
{
	int size = ENGINE_KERNEL_SOCKBUF;

	/* FORCE needs CAP_NET_ADMIN; otherwise the sysctl maximum applies. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

static int engine_kernel_open(void **ctx, const struct options *o, char *err, size_t err_len)
{
	struct engine_kernel_ctx *k = calloc(1, sizeof(*k));
	int rc;

	*ctx = NULL;
	if (k == NULL)
		goto nomem;
	k->fd = -1;
	k->spin = o->spin;
	k->burst = o->bc.burst;
	k->n_dest = o->bc.proto == BLASTER_PROTO_NATIVE ? o->bc.workers : 1;
	k->dest = calloc(k->n_dest, sizeof(*k->dest));
	k->tx_msgs = calloc(k->burst, sizeof(*k->tx_msgs));
	k->tx_iov = calloc(k->burst, sizeof(*k->tx_iov));
	k->rx_msgs = calloc(k->burst, sizeof(*k->rx_msgs));
	k->rx_iov = calloc(k->burst, sizeof(*k->rx_iov));
	k->rx_bufs = malloc((size_t)k->burst * ENGINE_KERNEL_RX_BUF);
	if (!k->dest || !k->tx_msgs || !k->tx_iov || !k->rx_msgs || !k->rx_iov || !k->rx_bufs)
		goto nomem;
	rc = engine_kernel_resolve(k, o, err, err_len);
	if (rc) {
		engine_kernel_close(k);
		return rc;
	}
	engine_kernel_bufsize(k->fd, SO_RCVBUFFORCE, SO_RCVBUF);
	engine_kernel_bufsize(k->fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (k->n_dest == 1) {
		if (connect(k->fd, (struct sockaddr *)&k->dest[0], k->dest_len) != 0) {
			snprintf(err, err_len, "connect to %s port %u: %s", o->server, o->port,
				 strerror(errno));
			rc = -errno;
			engine_kernel_close(k);
			return rc;
		}
		k->connected = true;
	}
	for (uint32_t i = 0; i < k->burst; i++) {
		k->rx_iov[i].iov_base = k->rx_bufs + (size_t)i * ENGINE_KERNEL_RX_BUF;
		k->rx_iov[i].iov_len = ENGINE_KERNEL_RX_BUF;
		k->rx_msgs[i].msg_hdr.msg_iov = &k->rx_iov[i];
		k->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		k->tx_msgs[i].msg_hdr.msg_iov = &k->tx_iov[i];
		k->tx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	*ctx = k;
	return 0;
nomem:
	engine_kernel_close(k);
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

/* Send what the core has ready, up to one burst per call. Returns how many
 * datagrams left, or a negative errno for a failure that is not congestion. */
static int engine_kernel_send(struct engine_kernel_ctx *k, struct blaster *b, uint64_t now_ns)
{
	uint32_t ready = blaster_tx_prepare(b, now_ns);
	uint32_t n = ready < k->burst ? ready : k->burst;
	uint64_t send_ns;
	int sent;

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct blaster_dgram *d = blaster_tx_dgram(b, i);
		struct msghdr *h = &k->tx_msgs[i].msg_hdr;

		k->tx_iov[i].iov_base = d->buf;
		k->tx_iov[i].iov_len = d->len;
		h->msg_name = k->connected ? NULL : &k->dest[d->dest];
		h->msg_namelen = k->connected ? 0 : k->dest_len;
	}
	/* Stamped before the call: an answer can arrive while a long burst
	 * is still being sent, and rtt must not come out shorter than it was. */
	send_ns = we_monotonic_ns();
	sent = sendmmsg(k->fd, k->tx_msgs, n, MSG_DONTWAIT);
	if (sent < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 0;
		if (errno == ECONNREFUSED) {
			/* A pending ICMP error, reported on this call: retry. */
			k->refused++;
			return 0;
		}
		return -errno;
	}
	blaster_tx_sent(b, (uint32_t)sent, send_ns);
	return sent;
}

/* Hand every waiting answer to the core. Returns datagrams received. */
static uint32_t engine_kernel_recv(struct engine_kernel_ctx *k, struct blaster *b)
{
	uint32_t total = 0;

	for (;;) {
		int n = recvmmsg(k->fd, k->rx_msgs, k->burst, MSG_DONTWAIT, NULL);
		uint64_t now_ns;

		if (n <= 0) {
			if (n < 0 && errno == ECONNREFUSED)
				k->refused++;
			return total;
		}
		now_ns = we_monotonic_ns();
		for (int i = 0; i < n; i++) {
			if (k->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				k->truncated++;
			blaster_rx(b, k->rx_iov[i].iov_base, k->rx_msgs[i].msg_len, now_ns);
			k->rx_msgs[i].msg_hdr.msg_flags = 0;
		}
		total += (uint32_t)n;
		if ((uint32_t)n < k->burst)
			return total;
	}
}

static void engine_kernel_wait(struct engine_kernel_ctx *k, struct blaster *b, uint64_t now_ns)
{
	uint64_t wait_ns = blaster_next_event_ns(b, now_ns) - now_ns;
	struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
	struct timespec ts;

	if (wait_ns > ENGINE_KERNEL_POLL_MAX_NS)
		wait_ns = ENGINE_KERNEL_POLL_MAX_NS;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)wait_ns;
	(void)ppoll(&pfd, 1, &ts, NULL);
}

static int engine_kernel_run_phase(void *ctx, struct blaster *b, char *err, size_t err_len)
{
	struct engine_kernel_ctx *k = ctx;

	for (;;) {
		uint64_t now_ns = we_monotonic_ns();
		int sent;
		uint32_t received;

		if (blaster_state(b, now_ns) == BLASTER_DONE)
			return 0;
		sent = engine_kernel_send(k, b, now_ns);
		if (sent < 0) {
			snprintf(err, err_len, "sendmmsg: %s", strerror(-sent));
			blaster_tx_failed(b, b->tx_count);
			return sent;
		}
		received = engine_kernel_recv(k, b);
		now_ns = we_monotonic_ns();
		blaster_expire(b, now_ns);
		blaster_tick(b, now_ns);
		if (!k->spin && sent == 0 && received == 0)
			engine_kernel_wait(k, b, now_ns);
	}
}

/* The handshake's tries over the same socket; the load has not begun, so
 * whatever arrives is the handshake's business (handshake_rx() sorts it). */
static int engine_kernel_handshake(void *ctx, struct handshake *h, char *err, size_t err_len)
{
	struct engine_kernel_ctx *k = ctx;
	uint8_t *buf = k->rx_bufs;

	for (;;) {
		uint64_t now_ns = we_monotonic_ns();
		struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
		struct timespec ts;
		uint64_t wait_ns;
		ssize_t got;

		if (h->state != HANDSHAKE_WAITING || handshake_expired(h, now_ns))
			return 0;
		if (handshake_due(h, now_ns)) {
			uint16_t dest = (uint16_t)(h->dest % k->n_dest);
			ssize_t sent = k->connected
					       ? send(k->fd, h->req, h->req_len, 0)
					       : sendto(k->fd, h->req, h->req_len, 0,
							(struct sockaddr *)&k->dest[dest], k->dest_len);

			/* A refused or congested try is just a lost one. */
			if (sent < 0 && errno == ECONNREFUSED)
				k->refused++;
			else if (sent < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
				snprintf(err, err_len, "send: %s", strerror(errno));
				return -errno;
			}
		}
		while ((got = recv(k->fd, buf, ENGINE_KERNEL_RX_BUF, MSG_DONTWAIT | MSG_TRUNC)) >= 0)
			if (got <= ENGINE_KERNEL_RX_BUF)
				handshake_rx(h, buf, (uint32_t)got);
		if (errno == ECONNREFUSED)
			k->refused++;
		if (h->state != HANDSHAKE_WAITING)
			return 0;
		now_ns = we_monotonic_ns();
		wait_ns = handshake_next_ns(h) > now_ns ? handshake_next_ns(h) - now_ns : 0;
		ts.tv_sec = (time_t)(wait_ns / 1000000000ull);
		ts.tv_nsec = (long)(wait_ns % 1000000000ull);
		(void)ppoll(&pfd, 1, &ts, NULL);
	}
}

static const char *engine_kernel_diagnose(void *ctx)
{
	struct engine_kernel_ctx *k = ctx;

	if (k->refused)
		snprintf(k->diag, sizeof(k->diag),
			 "the target refused %llu time(s) (ICMP port unreachable): "
			 "nothing listens on that port",
			 (unsigned long long)k->refused);
	else if (k->truncated)
		snprintf(k->diag, sizeof(k->diag),
			 "%llu answer(s) were longer than %d bytes and were cut",
			 (unsigned long long)k->truncated, ENGINE_KERNEL_RX_BUF);
	else
		return NULL;
	return k->diag;
}

const struct engine engine_kernel = {
	.name = "kernel",
	.open = engine_kernel_open,
	.run_phase = engine_kernel_run_phase,
	.handshake = engine_kernel_handshake,
	.diagnose = engine_kernel_diagnose,
	.close = engine_kernel_close,
};
