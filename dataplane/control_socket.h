/* control_socket.h - the data plane's control endpoint: a Unix stream
 * socket served by the supervisor, one JSON object per line each way.
 *
 *   control_socket_open     control_socket.c  bind PATH (mode 0600), listen
 *   control_socket_poll     control_socket.c  accept, read, time out; the next complete request
 *   control_socket_reply    control_socket.c  queue one JSON answer for a client
 *   control_socket_close    control_socket.c
 *
 * The supervisor calls control_socket_poll from its loop (every 10 ms) and
 * answers each request it gets, in order; nothing here blocks or calls
 * back. Bounds: CONTROL_CLIENTS_MAX connections (more are refused with an
 * error line), CONTROL_REQUEST_MAX bytes per request line (a longer one
 * gets an error and the connection is closed), CONTROL_IDLE_S without a
 * complete request closes a connection, and an answer the client does not
 * read within the same time is dropped with the connection.
 */
#ifndef CONTROL_SOCKET_H
#define CONTROL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "we_compiler.h"

#define CONTROL_CLIENTS_MAX 128
#define CONTROL_REQUEST_MAX (1u << 20)
#define CONTROL_IDLE_S 5.0

struct control_client;

struct control_socket {
	int fd;
	char path[108];
	struct control_client *clients[CONTROL_CLIENTS_MAX];
	uint64_t accepted, refused, requests, bad_requests, timeouts;
};

/* 0, or a negative errno and a sentence in err. A socket file left by a
 * dead process is replaced; one that a live process answers is not. */
int control_socket_open(struct control_socket *cs, const char *path, char *err,
			size_t err_len) we_must_check;
/* Serve the socket for a moment: accept, read, write queued answers, close
 * idle connections. Returns the next complete, well-formed request (a new
 * reference; *client says whom to answer) or NULL. Malformed lines are
 * answered here with an error. */
json_t *control_socket_poll(struct control_socket *cs, double now, int *client);
/* Queue answer (a reference is taken) for client; written by later polls. */
void control_socket_reply(struct control_socket *cs, int client, json_t *answer);
void control_socket_close(struct control_socket *cs);

#endif
