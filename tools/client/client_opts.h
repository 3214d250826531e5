/* client_opts.h - warp-client's command line, declared once (no I/O but --help).
 *
 * CLIENT_OPTION_LIST feeds the parser, the per-command applicability check
 * and --help, so an option cannot exist in one and be missing in another.
 * Parsing never exits: it returns -EINVAL with a message naming the option,
 * the value and what was expected, and main() turns that into exit 64.
 */
#ifndef CLIENT_OPTS_H
#define CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "we_compiler.h"

enum client_cmd {
	CLIENT_CMD_NONE = 0,
	CLIENT_CMD_PUT,
	CLIENT_CMD_GET,
	CLIENT_CMD_DEL,
	CLIENT_CMD_PING,
	CLIENT_CMD_BATCH,
	CLIENT_CMD_LOAD,
	CLIENT_CMD_RAW,
	CLIENT_CMD_WRITES,
	CLIENT_CMD_CHECK,
	CLIENT_CMD_COUNT
};

/* Sets of commands an option applies to. */
#define CMD_BIT(c) (1u << CLIENT_CMD_##c)
#define CMDS_ONE (CMD_BIT(PUT) | CMD_BIT(GET) | CMD_BIT(DEL))
#define CMDS_ACK (CMD_BIT(WRITES) | CMD_BIT(CHECK))
#define CMDS_KV (CMDS_ONE | CMD_BIT(BATCH) | CMD_BIT(LOAD) | CMDS_ACK)
#define CMDS_NET (CMDS_KV | CMD_BIT(PING) | CMD_BIT(RAW))
#define CMDS_PIPE (CMD_BIT(BATCH) | CMD_BIT(LOAD) | CMDS_ACK)
#define CMDS_WRITE (CMD_BIT(PUT) | CMD_BIT(DEL) | CMD_BIT(BATCH) | CMD_BIT(LOAD) | CMD_BIT(WRITES))
#define CMDS_KEYSET (CMD_BIT(LOAD) | CMD_BIT(WRITES))
#define CMDS_ALL (CMDS_NET | CMD_BIT(NONE))

#define CLIENT_TIMEOUT_MS_MAX 600000u
#define CLIENT_RETRIES_MAX 100u
#define CLIENT_DEADLINE_S_MAX 86400u
#define CLIENT_WINDOW_MAX 256u
#define CLIENT_WORKERS_MAX 1024u
#define CLIENT_KEYS_MAX 100000000ull
#define CLIENT_KEY_PREFIX_MAX 64u
#define CLIENT_DURATION_S_MAX 86400u
/* Largest raw payload: the largest UDP payload over IPv4. */
#define CLIENT_RAW_MAX 65507u

/* X(ID, long name, short, metavar (NULL: a flag), default text, commands, help) */
#define CLIENT_OPTION_LIST(X)                                                                  \
	X(SERVER, "server", 's', "IP", "127.0.0.1", CMDS_NET,                                  \
	  "server IPv4 address or host name")                                                  \
	X(PORT, "port", 'p', "PORT", "9000", CMDS_NET,                                         \
	  "UDP port of worker 0, worker i at PORT+i (raw: the port to send to)")               \
	X(WORKERS, "workers", 'n', "N", "1", CMDS_KV | CMD_BIT(PING),                          \
	  "server workers; a key goes to its owner's port (region % N)")                       \
	X(TIMEOUT, "timeout", 't', "MS", "300", CMDS_NET,                                      \
	  "wait for an answer; the k-th retry waits MS x min(2^k, 4)")                         \
	X(RETRIES, "retries", 'r', "K", "3", CMDS_KV | CMD_BIT(PING),                          \
	  "resend an unanswered datagram up to K times (K+1 tries)")                           \
	X(DEADLINE, "deadline", 0, "SEC", "120", CMDS_NET,                                     \
	  "stop the whole command after SEC seconds (0: no limit)")                            \
	X(BATCH, "batch", 'b', "B", "32", CMDS_PIPE, "requests per datagram, 1..64")           \
	X(WINDOW, "window", 'w', "W", "16", CMDS_PIPE,                                         \
	  "datagrams awaiting an answer at once, 1..256")                                      \
	X(MISDIRECT, "misdirect", 0, NULL, "off", CMDS_KV,                                     \
	  "send each request to a worker NOT owning its key (tests forwarding)")               \
	X(NO_TOKEN, "no-token", 0, NULL, "off", CMDS_KV | CMD_BIT(PING),                       \
	  "skip the address-token handshake: plain requests (large answers may be withheld)")  \
	X(DURABILITY, "durability", 0, "D", "default", CMDS_WRITE,                             \
	  "write durability: default, strong, eventual or weak")                               \
	X(HEX, "hex", 'x', "BYTES", "off", CMD_BIT(GET) | CMD_BIT(BATCH) | CMD_BIT(RAW),       \
	  "get, batch: print values in hex; raw: the payload to send, in hex")                 \
	X(KEYS, "keys", 'k', "N", "", CMDS_KEYSET, "load, writes: number of keys (required)")  \
	X(VALUE_SIZE, "value-size", 0, "S|MIN-MAX", "32", CMDS_KEYSET,                         \
	  "load, writes: value bytes, or a range (each value's size derived from it)")         \
	X(SEED, "seed", 0, "X", "1", CMD_BIT(LOAD), "load: seed of the value bytes")           \
	X(KEY_PREFIX, "key-prefix", 0, "P", "key:", CMDS_KEYSET,                               \
	  "load, writes: keys are P0, P1, ... P<N-1>")                                         \
	X(ACK_LOG, "ack-log", 0, "FILE", "", CMDS_ACK,                                         \
	  "writes: append issued and acknowledged writes to FILE; check: verify against it")   \
	X(DURATION, "duration", 0, "SEC", "10", CMD_BIT(WRITES),                               \
	  "writes: issue writes for SEC seconds (0..86400)")                                   \
	X(DELETE_PERCENT, "delete-percent", 0, "P", "0", CMD_BIT(WRITES),                      \
	  "writes: P% of the writes are DELETEs (0..100)")                                     \
	X(JSON, "json", 'j', NULL, "off", CMD_BIT(LOAD), "load: print one JSON object")        \
	X(HELP, "help", 'h', NULL, "", CMDS_ALL, "print this help and exit")                   \
	X(VERSION, "version", 'V', NULL, "", CMDS_ALL, "print the version and exit")

enum client_opt_id {
#define CLIENT_OPT_ENUM(id, name, sh, metavar, def, cmds, help) CLIENT_OPT_##id,
	CLIENT_OPTION_LIST(CLIENT_OPT_ENUM)
#undef CLIENT_OPT_ENUM
	CLIENT_OPT_COUNT
};
_Static_assert(CLIENT_OPT_COUNT <= 32, "client_args.given is a 32-bit mask");

struct client_args {
	enum client_cmd cmd;
	const char *server;
	uint16_t port;
	uint16_t n_workers;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t deadline_s;
	uint32_t batch;
	uint32_t window;
	bool misdirect;
	bool no_token;      /* no address-token handshake */
	uint8_t durability; /* enum proto_durability */
	bool hex;
	const char *raw_hex; /* raw: the payload as typed */
	uint64_t keys;
	uint32_t value_size_min;
	uint32_t value_size_max;
	uint64_t seed;
	const char *key_prefix;
	const char *ack_log;     /* writes, check */
	uint32_t duration_s;     /* writes */
	uint32_t delete_percent; /* writes */
	bool json;
	bool help;
	bool version;
	const char *key;   /* put/get/del */
	const char *value; /* put */
	uint32_t given;    /* bit CLIENT_OPT_x: the option was on the command line */
};

/* Parse argv into *a (defaults first). Options may come before or after the
 * command; "--" ends them. Returns 0, or -EINVAL with a message in err. After
 * --help or --version, returns 0 with a->help or a->version set and skips the
 * checks that need a command. */
int client_opts_parse(struct client_args *a, int argc, char **argv, char *err,
		      size_t err_len) we_must_check;

/* Write --help: usage, commands, every option with its default, exit codes. */
void client_opts_usage(FILE *f, const char *prog);

const char *client_cmd_name(enum client_cmd cmd);

#endif
