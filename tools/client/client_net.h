/* client_net.h - warp-client's kernel UDP socket and the loop that drives a
 * client_track (the shell around the pure tracker).
 *
 * One unconnected socket talks to every worker port of one server with
 * sendto; a reply counts only if it comes from the server's address and one
 * of its worker ports (base .. base + n_workers - 1).
 */
#ifndef CLIENT_NET_H
#define CLIENT_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "client_track.h"
#include "we_compiler.h"

/* A receive buffer: larger than any v1 datagram, so an oversized reply is
 * seen (and counted invalid) rather than silently cut. */
#define CLIENT_NET_RX_BUF 2048
#define CLIENT_NET_BURST 64

struct client_net {
	int fd;
	struct sockaddr_in server; /* sin_port unused */
	uint16_t port_base;
	uint16_t n_workers;
	char server_text[INET_ADDRSTRLEN];
	uint64_t tx_errors;  /* datagrams the kernel refused (then handled as lost) */
	int tx_last_errno;
	uint64_t rx_foreign; /* datagrams from another address or port */
	uint64_t rx_truncated;
	uint8_t (*rx_bufs)[CLIENT_NET_RX_BUF];
};

/* Resolve `server` (IPv4 literal or host name) and open the socket.
 * Returns 0; -EINVAL if the name does not resolve (message in err);
 * another negative errno for a socket failure (message in err). */
int client_net_open(struct client_net *n, const char *server, uint16_t port_base,
		    uint16_t n_workers, char *err, size_t err_len) we_must_check;
void client_net_close(struct client_net *n);

/* Monotonic time in nanoseconds. */
uint64_t client_now_ns(void);

/* Drive t (already started on its source) until it is done. deadline_ns is
 * an absolute client_now_ns() time, 0 for none; src_fd is polled for input
 * while the source says -EAGAIN (-1: none). Returns 0 when done, -ETIMEDOUT
 * if the deadline aborted the run (every open op then ended TIMEOUT), or
 * another negative errno on a socket failure. */
int client_net_run(struct client_net *n, struct client_track *t, uint64_t deadline_ns,
		   int src_fd) we_must_check;

/* Send one datagram to `port` as is. Returns 0 or a negative errno. */
int client_net_send(struct client_net *n, uint16_t port, const void *buf,
		    size_t len) we_must_check;

/* Receive one datagram from the server's address (any port) before until_ns.
 * Returns its full length (which may exceed cap: only cap bytes are kept),
 * with the source port in *port; -ETIMEDOUT; or another negative errno. */
int client_net_recv(struct client_net *n, uint8_t *buf, size_t cap, uint16_t *port,
		    uint64_t until_ns) we_must_check;

#endif
