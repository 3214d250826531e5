/* control_socket.h - the data plane's control endpoint: lib/jsonl_server.h
 * under the names the supervisor and main.c use (mode 0600, errors naming
 * --control-socket).
 *
 *   control_socket_open     jsonl_server_open, mode 0600
 *   control_socket_poll     jsonl_server_poll
 *   control_socket_reply    jsonl_server_reply
 *   control_socket_close    jsonl_server_close
 */
#ifndef CONTROL_SOCKET_H
#define CONTROL_SOCKET_H

#include "jsonl_server.h"

#define CONTROL_CLIENTS_MAX JSONL_CLIENTS_MAX
#define CONTROL_REQUEST_MAX JSONL_REQUEST_MAX
#define CONTROL_IDLE_S JSONL_IDLE_S

/* fd aliases srv.fd (its first member): main.c marks "no socket" with -1. */
struct control_socket {
	union {
		int fd;
		struct jsonl_server srv;
	};
};

static inline we_must_check int control_socket_open(struct control_socket *cs, const char *path,
						     char *err, size_t err_len)
{
	return jsonl_server_open(&cs->srv, path, 0600, "--control-socket", err, err_len);
}

static inline json_t *control_socket_poll(struct control_socket *cs, double now, int *client)
{
	return jsonl_server_poll(&cs->srv, now, client);
}

static inline void control_socket_reply(struct control_socket *cs, int client, json_t *answer)
{
	jsonl_server_reply(&cs->srv, client, answer);
}

static inline void control_socket_close(struct control_socket *cs)
{
	jsonl_server_close(&cs->srv);
}

#endif
