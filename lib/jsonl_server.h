/* jsonl_server.h - a JSON-lines server on a Unix stream socket: one JSON
 * object per line each way, polled from its owner's loop (no DPDK, no
 * threads). The data plane's control socket and warp-control's admin
 * socket both use it.
 *
 *   jsonl_server_open     jsonl_server.c  bind PATH with a mode (0600 usual), listen
 *   jsonl_server_poll     jsonl_server.c  accept, read, time out; the next complete request
 *   jsonl_server_reply    jsonl_server.c  queue one JSON answer for a client
 *   jsonl_server_peer     jsonl_server.c  who a client is (SO_PEERCRED: uid, gid, pid)
 *   jsonl_server_close    jsonl_server.c
 *
 * The owner calls jsonl_server_poll from its loop and answers each request
 * it gets, in order; nothing here blocks or calls back. Bounds:
 * JSONL_CLIENTS_MAX connections (more are refused with an error line),
 * JSONL_REQUEST_MAX bytes per request line (a longer one gets an error and
 * the connection is closed), JSONL_IDLE_S without a complete request closes
 * a connection, and an answer the client does not read within the same
 * time is dropped with the connection.
 */
#ifndef JSONL_SERVER_H
#define JSONL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "we_compiler.h"

#define JSONL_CLIENTS_MAX 128
#define JSONL_REQUEST_MAX (1u << 20)
#define JSONL_IDLE_S 5.0

struct jsonl_client;

/* The process at the other end of a connection, as the kernel saw it at
 * connect time. */
struct jsonl_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

struct jsonl_server {
	int fd; /* first: the data plane's compatibility header relies on it */
	char path[108];
	/* The option that named the path, for error sentences ("--admin-socket"). */
	const char *what;
	/* Added as "code" to the errors the server answers itself (malformed
	 * lines, too long, too many connections); NULL: no code. */
	const char *error_code;
	struct jsonl_client *clients[JSONL_CLIENTS_MAX];
	uint64_t accepted, refused, requests, bad_requests, timeouts;
};

/* 0, or a negative errno and a sentence in err. The socket file gets `mode`
 * (e.g. 0600, 0660). A socket file left by a dead process is replaced; one
 * that a live process answers is not. `what` names the option in errors. */
int jsonl_server_open(struct jsonl_server *s, const char *path, mode_t mode, const char *what,
		      char *err, size_t err_len) we_must_check;
/* Serve the socket for a moment: accept, read, write queued answers, close
 * idle connections. Returns the next complete, well-formed request (a new
 * reference; *client says whom to answer) or NULL. Malformed lines are
 * answered here with an error. */
json_t *jsonl_server_poll(struct jsonl_server *s, double now, int *client);
/* Queue answer (a reference is taken) for client; written by later polls. */
void jsonl_server_reply(struct jsonl_server *s, int client, json_t *answer);
/* The credentials of client's peer; false when the client is gone. */
bool jsonl_server_peer(const struct jsonl_server *s, int client, struct jsonl_peer *peer);
/* Connections open now. */
unsigned jsonl_server_clients(const struct jsonl_server *s);
void jsonl_server_close(struct jsonl_server *s);

#endif
