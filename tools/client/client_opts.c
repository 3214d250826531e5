/* client_opts.c - warp-client's option table; parse and check its command
 * line; print --help.
 *
 * DESIGN: one table (client_specs) drives everything: the shared parser
 * (lib/opt_table.c) checks each value against its row, each row's scope is
 * the set of commands it applies to, and --help and the docs' table are
 * printed from the rows. Parsing is two passes over argv. The first pass
 * only finds the command, because one option's arity depends on it: `--hex`
 * is a flag for get/batch (print values in hex) but takes the payload for
 * raw, as the integration tests expect to write `raw --hex 5745...`; the
 * table has one row for each role. The second pass, opt_parse_words() with
 * the command's scope, reads every option with the right arity and refuses
 * options that do not apply, and collects the command's words; then the
 * values are checked together (ports in range, a load's largest key plus
 * value fits one datagram). Nothing here prints or exits except
 * client_opts_usage() and client_opts_markdown(); errors go to the caller.
 */
#include "client_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "opt_table.h"
#include "parse_num.h"
#include "proto.h"
#include "region_map_file.h"

/* OPT_CUSTOM parsers. */
static int parse_value_size(const struct opt_spec *spec, const char *arg, void *dest, char *why,
			    size_t why_len)
{
	struct client_args *a = dest;
	uint64_t lo, hi;

	(void)spec;
	if (parse_num_range(arg, 10, PROTO_VALUE_MAX, &lo, &hi) == 0) {
		a->value_size_min = (uint32_t)lo;
		a->value_size_max = (uint32_t)hi;
		return 0;
	}
	snprintf(why, why_len, "a size S or a range MIN-MAX with 0 <= MIN <= MAX <= %u",
		 PROTO_VALUE_MAX);
	return -EINVAL;
}

static int parse_key_prefix(const struct opt_spec *spec, const char *arg, void *dest, char *why,
			    size_t why_len)
{
	(void)spec;
	if (strlen(arg) <= CLIENT_KEY_PREFIX_MAX) {
		*(const char **)dest = arg;
		return 0;
	}
	snprintf(why, why_len, "a prefix of at most %u bytes", CLIENT_KEY_PREFIX_MAX);
	return -EINVAL;
}

/* raw's payload: any text (even empty), checked as hex when it is sent. */
static int parse_raw_hex(const struct opt_spec *spec, const char *arg, void *dest, char *why,
			 size_t why_len)
{
	(void)spec;
	(void)why;
	(void)why_len;
	*(const char **)dest = arg;
	return 0;
}

#define A(field) OPT_AT(struct client_args, field)

static const struct opt_spec client_specs[] = {
	{.name = "server", .short_name = 's', .kind = OPT_STRING, .meta = "IP",
	 .def = "127.0.0.1", .scope = CMDS_NET, A(server),
	 .help = "server IPv4 address or host name"},
	{.name = "port", .short_name = 'p', .kind = OPT_U64, .meta = "PORT", .def = "9000",
	 .min = 1, .max = 65535, .scope = CMDS_NET, A(port),
	 .help = "UDP port of worker 0; worker i listens on PORT+i (raw: the port the payload "
		 "goes to)"},
	{.name = "workers", .short_name = 'n', .kind = OPT_U64, .meta = "N", .def = "1",
	 .min = 1, .max = CLIENT_WORKERS_MAX, .scope = CMDS_KV | CMD_BIT(PING), A(n_workers),
	 .help = "workers of the server; a key goes to its owner's port (region % N)"},
	{.name = "region-map", .kind = OPT_STRING, .meta = "FILE", .scope = CMDS_KV | CMD_BIT(PING),
	 A(region_map_path),
	 .help = "each region's owner from FILE (the regions answer of the data plane or "
		 "warp-control): a key goes to its owner's port; --workers and, unless given, "
		 "--port come from it"},
	{.name = "timeout", .short_name = 't', .kind = OPT_U64, .meta = "MS", .def = "300",
	 .unit = "ms", .min = 1, .max = CLIENT_TIMEOUT_MS_MAX, .scope = CMDS_NET, A(timeout_ms),
	 .help = "how long to wait for an answer; the k-th retry waits MS x min(2^k, 4)"},
	{.name = "retries", .short_name = 'r', .kind = OPT_U64, .meta = "K", .def = "3",
	 .max = CLIENT_RETRIES_MAX, .scope = CMDS_KV | CMD_BIT(PING), A(retries),
	 .help = "resend an unanswered datagram up to K times (K+1 tries in all)"},
	{.name = "deadline", .kind = OPT_U64, .meta = "SEC", .def = "120", .unit = "s",
	 .max = CLIENT_DEADLINE_S_MAX, .scope = CMDS_NET, A(deadline_s),
	 .help = "stop the whole command after SEC seconds (0: no limit)"},
	{.name = "batch", .short_name = 'b', .kind = OPT_U64, .meta = "B", .def = "32", .min = 1,
	 .max = PROTO_BATCH_MAX, .scope = CMDS_PIPE, A(batch), .help = "requests per datagram"},
	{.name = "window", .short_name = 'w', .kind = OPT_U64, .meta = "W", .def = "16",
	 .min = 1, .max = CLIENT_WINDOW_MAX, .scope = CMDS_PIPE, A(window),
	 .help = "request datagrams awaiting an answer at once"},
	{.name = "misdirect", .kind = OPT_FLAG, .def = "off", .scope = CMDS_KV, A(misdirect),
	 .help = "send every request to worker (owner + 1) mod N, a worker that does not own "
		 "its key, to exercise server-side forwarding; needs --workers 2 or more"},
	{.name = "no-token", .kind = OPT_FLAG, .def = "off", .scope = CMDS_KV | CMD_BIT(PING),
	 A(no_token),
	 .help = "skip the address-token handshake: plain requests, and a validating server "
		 "withholds large answers (NEED_TOKEN)"},
	{.name = "durability", .kind = OPT_CHOICE, .meta = "D", .def = "default",
	 .choices = "default|strong|eventual|weak", .scope = CMDS_WRITE, A(durability),
	 .help = "the entry's durability bits (protocol section 4) on PUT and DELETE"},
	/* Two rows, one name: a flag for get and batch, the payload for raw. */
	{.name = "hex", .short_name = 'x', .kind = OPT_FLAG, .def = "off",
	 .scope = CMD_BIT(GET) | CMD_BIT(BATCH), A(hex), .help = "get, batch: print GET values in hex"},
	{.name = "hex", .short_name = 'x', .kind = OPT_CUSTOM, .meta = "BYTES",
	 .parse = parse_raw_hex, .scope = CMD_BIT(RAW), A(raw_hex),
	 .help = "raw: the payload to send, in hex"},
	{.name = "keys", .short_name = 'k', .kind = OPT_U64, .meta = "N", .min = 1,
	 .max = CLIENT_KEYS_MAX, .scope = CMDS_KEYSET, A(keys),
	 .help = "load, writes: number of keys (required)"},
	{.name = "value-size", .kind = OPT_CUSTOM, .meta = "S|MIN-MAX", .def = "32",
	 .unit = "bytes", .parse = parse_value_size, .scope = CMDS_KEYSET,
	 .offset = 0, .size = sizeof(struct client_args),
	 .help = "load, writes: value size, or a range: each key's size is derived from the "
		 "key and seed (writes: from the key and the write's id, and at least the id, "
		 "a / and 8 bytes)"},
	{.name = "seed", .kind = OPT_U64, .meta = "X", .def = "1", .max = UINT64_MAX,
	 .flags = OPT_BASE0, .scope = CMD_BIT(LOAD), A(seed), .help = "load: seed of the value bytes (decimal or 0x hex)"},
	{.name = "key-prefix", .kind = OPT_CUSTOM, .meta = "P", .def = "key:",
	 .parse = parse_key_prefix, .scope = CMDS_KEYSET, A(key_prefix),
	 .help = "load, writes: keys are P0, P1, ... P(N-1) (P: at most 64 bytes)"},
	{.name = "ack-log", .kind = OPT_STRING, .meta = "FILE", .scope = CMDS_ACK, A(ack_log),
	 .help = "writes, check (required): the acknowledgement log; writes appends to it "
		 "(creating it), check reads it"},
	{.name = "duration", .kind = OPT_U64, .meta = "SEC", .def = "10", .unit = "s",
	 .max = CLIENT_DURATION_S_MAX, .scope = CMD_BIT(WRITES), A(duration_s),
	 .help = "writes: issue writes for SEC seconds; --deadline still bounds the command"},
	{.name = "delete-percent", .kind = OPT_U64, .meta = "P", .def = "0", .unit = "%",
	 .max = 100, .scope = CMD_BIT(WRITES), A(delete_percent),
	 .help = "writes: P% of the writes are DELETEs"},
	{.name = "json", .short_name = 'j', .kind = OPT_FLAG, .def = "off",
	 .scope = CMD_BIT(LOAD), A(json), .help = "load: print the report as one JSON object"},
	{.name = "version", .short_name = 'V', .kind = OPT_FLAG, .scope = CMDS_ALL, A(version),
	 .help = "print the version and exit"},
};
#define CLIENT_N_SPECS (sizeof(client_specs) / sizeof(client_specs[0]))
_Static_assert(CLIENT_CMD_COUNT <= 32, "a scope is a 32-bit mask of commands");

static const char *const cmd_names[CLIENT_CMD_COUNT] = {
	[CLIENT_CMD_NONE] = "",        [CLIENT_CMD_PUT] = "put",     [CLIENT_CMD_GET] = "get",
	[CLIENT_CMD_DEL] = "del",      [CLIENT_CMD_PING] = "ping",   [CLIENT_CMD_BATCH] = "batch",
	[CLIENT_CMD_LOAD] = "load",    [CLIENT_CMD_RAW] = "raw",     [CLIENT_CMD_WRITES] = "writes",
	[CLIENT_CMD_CHECK] = "check",
};

/* Positional words each command takes after its name. */
static const unsigned cmd_args[CLIENT_CMD_COUNT] = {
	[CLIENT_CMD_PUT] = 2, [CLIENT_CMD_GET] = 1, [CLIENT_CMD_DEL] = 1,
};

const char *client_cmd_name(enum client_cmd cmd)
{
	return (unsigned)cmd < CLIENT_CMD_COUNT ? cmd_names[cmd] : "?";
}

static enum client_cmd cmd_lookup(const char *s)
{
	if (strcmp(s, "delete") == 0)
		return CLIENT_CMD_DEL;
	for (unsigned c = 1; c < CLIENT_CMD_COUNT; c++)
		if (strcmp(s, cmd_names[c]) == 0)
			return c;
	return CLIENT_CMD_NONE;
}

static int fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static unsigned decimal_digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The row named by argv word `w` ("--name", "--name=v", "-c", "-cv"), the
 * first of its name; -1 if none. *attached: the value is in the word. */
static int word_option(const char *w, bool *attached)
{
	size_t n;

	if (w[1] != '-') {
		*attached = w[2] != 0;
		for (unsigned i = 0; i < CLIENT_N_SPECS; i++)
			if (client_specs[i].short_name != 0 && client_specs[i].short_name == w[1])
				return (int)i;
		return -1;
	}
	n = strcspn(w + 2, "=");
	*attached = w[2 + n] == '=';
	for (unsigned i = 0; i < CLIENT_N_SPECS; i++)
		if (strlen(client_specs[i].name) == n && memcmp(client_specs[i].name, w + 2, n) == 0)
			return (int)i;
	return -1;
}

static bool is_option_word(const char *w)
{
	return w[0] == '-' && w[1] != 0;
}

/* First pass: the command is the first non-option word that names one.
 * An option's value is skipped; --hex counts as the flag here. */
static enum client_cmd find_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		bool attached;
		int id;

		if (strcmp(w, "--") == 0) {
			for (i++; i < argc; i++)
				if (cmd_lookup(argv[i]) != CLIENT_CMD_NONE)
					return cmd_lookup(argv[i]);
			break;
		}
		if (!is_option_word(w)) {
			if (cmd_lookup(w) != CLIENT_CMD_NONE)
				return cmd_lookup(w);
			continue;
		}
		id = word_option(w, &attached);
		if (id >= 0 && !attached && client_specs[id].kind != OPT_FLAG)
			i++; /* skip the option's value */
	}
	return CLIENT_CMD_NONE;
}

static bool seen(const struct opt_result *res, const char *name)
{
	int i = opt_find(client_specs, CLIENT_N_SPECS, name);

	return i >= 0 && res->seen[i];
}

/* --region-map: the owners, the worker count and (unless --port) the base
 * port come from the file; a --workers that disagrees is an error. */
static int load_region_map(struct client_args *a, const struct opt_result *res, char *err,
			   size_t err_len)
{
	char why[240];
	uint16_t port;

	if (a->region_map_path == NULL)
		return 0;
	if (region_map_file_load(a->region_map_path, &a->region_map, &port, why, sizeof(why)))
		return fail(err, err_len, "--region-map: %s", why);
	if (a->region_map.n_workers > CLIENT_WORKERS_MAX)
		return fail(err, err_len, "--region-map: %u workers, more than %u",
			    a->region_map.n_workers, CLIENT_WORKERS_MAX);
	if (seen(res, "workers") && a->n_workers != a->region_map.n_workers)
		return fail(err, err_len, "--workers %u disagrees with --region-map's %u workers",
			    a->n_workers, a->region_map.n_workers);
	a->n_workers = a->region_map.n_workers;
	if (!seen(res, "port"))
		a->port = port;
	return 0;
}

/* Checks that need the whole command line. */
static int check_args(struct client_args *a, char *err, size_t err_len)
{
	const uint32_t payload = PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE;

	if ((uint32_t)a->port + a->n_workers - 1 > 65535)
		return fail(err, err_len, "--port %u with --workers %u runs past port 65535",
			    a->port, a->n_workers);
	if (a->misdirect && a->n_workers < 2)
		return fail(err, err_len,
			    "--misdirect needs --workers 2 or more "
			    "(some worker must not own the key)");
	if (a->key) {
		size_t kl = strlen(a->key);
		size_t vl = a->value ? strlen(a->value) : 0;

		if (kl == 0 || kl > PROTO_KEY_MAX)
			return fail(err, err_len, "KEY must be 1..%u bytes, not %zu", PROTO_KEY_MAX,
				    kl);
		if (kl + vl > payload)
			return fail(err, err_len,
				    "KEY and VALUE together must fit one datagram: "
				    "%zu + %zu > %u bytes",
				    kl, vl, payload);
	}
	if (a->cmd == CLIENT_CMD_RAW && !a->raw_hex)
		return fail(err, err_len, "raw needs the payload: raw --hex HEXBYTES");
	if ((a->cmd == CLIENT_CMD_WRITES || a->cmd == CLIENT_CMD_CHECK) && !a->ack_log)
		return fail(err, err_len, "%s needs --ack-log FILE", cmd_names[a->cmd]);
	if (a->cmd == CLIENT_CMD_LOAD || a->cmd == CLIENT_CMD_WRITES) {
		uint32_t key_max;

		if (a->keys == 0) /* --keys has no default and is at least 1 */
			return fail(err, err_len, "%s needs --keys N", cmd_names[a->cmd]);
		key_max = (uint32_t)strlen(a->key_prefix) + decimal_digits(a->keys - 1);
		if (key_max > PROTO_KEY_MAX)
			return fail(err, err_len, "--key-prefix: keys would be %u bytes, max %u",
				    key_max, PROTO_KEY_MAX);
		if (key_max + a->value_size_max > payload)
			return fail(err, err_len,
				    "--value-size: %u-byte values with %u-byte keys do not fit "
				    "one datagram (max value %u)",
				    a->value_size_max, key_max, payload - key_max);
	}
	return 0;
}

int client_opts_parse(struct client_args *a, int argc, char **argv, char *err, size_t err_len)
{
	enum client_cmd cmd = find_command(argc, argv);
	struct opt_result res;
	const char *words[3];
	unsigned n_words = 0;
	int rc;

	memset(a, 0, sizeof(*a));
	err[0] = 0;
	/* Without a command every option is accepted here: the error is then
	 * the missing (or unknown) command, not the option. */
	rc = opt_parse_words(client_specs, CLIENT_N_SPECS, a, argc, argv,
			     cmd == CLIENT_CMD_NONE ? 0 : 1u << cmd, cmd_names[cmd], words,
			     WE_ARRAY_SIZE(words), &n_words, &res, err, err_len);
	if (rc != 0)
		return rc;
	a->help = res.help;
	a->help_markdown = res.help_markdown;
	if (a->help || a->help_markdown)
		return 0;
	if (a->version)
		return 0;
	if (n_words == 0)
		return fail(err, err_len,
			    "no command given (put, get, del, ping, batch, load, raw, writes, check)");
	a->cmd = cmd_lookup(words[0]);
	if (a->cmd == CLIENT_CMD_NONE)
		return fail(err, err_len, "unknown command '%s'", words[0]);
	if (n_words - 1 != cmd_args[a->cmd]) {
		static const char *const usage[CLIENT_CMD_COUNT] = {
			[CLIENT_CMD_PUT] = "put KEY VALUE", [CLIENT_CMD_GET] = "get KEY",
			[CLIENT_CMD_DEL] = "del KEY",       [CLIENT_CMD_PING] = "ping",
			[CLIENT_CMD_BATCH] = "batch",       [CLIENT_CMD_LOAD] = "load --keys N",
			[CLIENT_CMD_RAW] = "raw --hex HEXBYTES",
			[CLIENT_CMD_WRITES] = "writes --keys N --ack-log FILE",
			[CLIENT_CMD_CHECK] = "check --ack-log FILE",
		};
		return fail(err, err_len, "'%s' takes %u argument%s: %s", cmd_names[a->cmd],
			    cmd_args[a->cmd], cmd_args[a->cmd] == 1 ? "" : "s", usage[a->cmd]);
	}
	rc = load_region_map(a, &res, err, err_len);
	if (rc != 0)
		return rc;
	if (n_words > 1)
		a->key = words[1];
	if (n_words > 2)
		a->value = words[2];
	return check_args(a, err, err_len);
}

/* The options that apply to command c, from the table's scopes. */
static void print_cmd_options(FILE *f, enum client_cmd c, const char *prefix)
{
	const char *last = "";

	fputs(prefix, f);
	for (unsigned i = 0; i < CLIENT_N_SPECS; i++) {
		const struct opt_spec *s = &client_specs[i];

		if (!(s->scope & (1u << c)) || s->scope == CMDS_ALL || strcmp(s->name, last) == 0)
			continue;
		fprintf(f, " --%s", s->name);
		last = s->name;
	}
}

void client_opts_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options] COMMAND [ARGS]\n"
		"\n"
		"A command-line client of the WarpEngine UDP protocol (kernel sockets).\n"
		"\n"
		"commands:\n"
		"  put KEY VALUE   store VALUE under KEY\n"
		"  get KEY         print KEY's value (raw bytes, or hex with --hex)\n"
		"  del KEY         delete KEY (alias: delete)\n"
		"  ping            ping every worker port and print round-trip times\n"
		"  batch           read 'put KEY VALUE', 'get KEY', 'del KEY' lines from stdin,\n"
		"                  send them batched, print one result line per request:\n"
		"                  OK | NOT_FOUND | VALUE <value> | ERROR <STATUS> | TIMEOUT |\n"
		"                  BAD_LINE <reason>; keys and values take the escapes\n"
		"                  \\\\ \\n \\r \\t \\xHH\n"
		"  load --keys N   PUT N keys, GET and verify them, DELETE them, GET again\n"
		"                  expecting NOT_FOUND; report counts and ops/s per phase\n"
		"  raw --hex BYTES send one datagram as is, print every reply (hex, decoded)\n"
		"  writes --keys N --ack-log FILE\n"
		"                  PUT (and DELETE) random keys of N for --duration seconds,\n"
		"                  each value unique; append every write issued and every\n"
		"                  acknowledgement to FILE\n"
		"  check --ack-log FILE\n"
		"                  read every key of FILE back and check that each holds its\n"
		"                  last acknowledged write or a later one; print violations\n"
		"\n"
		"options:\n",
		prog);
	opt_print_help(f, client_specs, CLIENT_N_SPECS, 0, NULL);
	fputs("\noptions each command takes:\n", f);
	for (unsigned c = 1; c < CLIENT_CMD_COUNT; c++) {
		char prefix[24];

		snprintf(prefix, sizeof(prefix), "  %-7s", cmd_names[c]);
		print_cmd_options(f, (enum client_cmd)c, prefix);
		fputc('\n', f);
	}
	fputs("\n"
	      "exit status: 0 OK (load: every check passed); 1 NOT_FOUND (load: a check failed);\n"
	      "2 another status (printed with its name and text); 3 no answer after all tries\n"
	      "or the deadline; 64 bad arguments; 71 a socket error.\n"
	      "writes: 0 every write answered, 3 one unanswered (the run stopped), 73 the ack\n"
	      "log cannot be opened. check: 0 no violation, 1 violations, 65 a malformed ack\n"
	      "log, 66 the ack log cannot be opened.\n",
	      f);
}

void client_opts_markdown(FILE *f)
{
	opt_print_markdown(f, client_specs, CLIENT_N_SPECS);
	fputs("\n| command | options it takes (besides --help, --version) |\n|---|---|\n", f);
	for (unsigned c = 1; c < CLIENT_CMD_COUNT; c++) {
		char prefix[24];

		snprintf(prefix, sizeof(prefix), "| `%s` |", cmd_names[c]);
		print_cmd_options(f, (enum client_cmd)c, prefix);
		fputs(" |\n", f);
	}
}
