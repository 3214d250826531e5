/* client_opts.h - warp-client's command line, declared once (no I/O but --help).
 *
 * One option table (client_opts.c) feeds the shared parser (lib/opt_table.h),
 * the per-command applicability check (each option's scope is the set of
 * commands it applies to), --help and the docs' table (--help-markdown), so
 * an option cannot exist in one and be missing in another.
 * Parsing never exits: it returns -EINVAL with a message naming the option,
 * the value and what was expected, and main() turns that into exit 64.
 */
#ifndef CLIENT_OPTS_H
#define CLIENT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "region_map.h"
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
	bool help_markdown; /* --help-markdown: print the docs' option table */
	const char *region_map_path; /* --region-map FILE, loaded into region_map */
	struct region_map region_map;
	const char *key;   /* put/get/del */
	const char *value; /* put */
};

/* Parse argv into *a (defaults first); reads the --region-map file. Options may come before or after the
 * command; "--" ends them. Returns 0, or -EINVAL with a message in err. After
 * --help or --version, returns 0 with a->help or a->version set and skips the
 * checks that need a command. */
int client_opts_parse(struct client_args *a, int argc, char **argv, char *err,
		      size_t err_len) we_must_check;

/* Write --help: usage, commands, every option with its default, which
 * commands take which options, exit codes. */
void client_opts_usage(FILE *f, const char *prog);
/* Write the options as a markdown table, and which commands take them. */
void client_opts_markdown(FILE *f);

const char *client_cmd_name(enum client_cmd cmd);

#endif
