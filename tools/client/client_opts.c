/* client_opts.c - parse and check warp-client's command line; print --help.
 *
 * DESIGN: one table (CLIENT_OPTION_LIST) drives everything. Parsing is two
 * passes over argv. The first pass only finds the command, because one
 * option's arity depends on it: `--hex` is a flag for get/batch (print values
 * in hex) but takes the payload for raw, as the integration tests expect to
 * write `raw --hex 5745...`. The second pass reads every option with the
 * right arity, collects the positional words and then checks, per command,
 * that each option given applies and that the values are coherent (ports in
 * range, a load's largest key plus value fits one datagram). Nothing here
 * prints or exits except client_opts_usage(); errors go to the caller.
 */
#include "client_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "parse_num.h"
#include "proto.h"

struct opt_desc {
	const char *name;
	char short_name;
	const char *metavar;
	const char *def;
	uint32_t cmds;
	const char *help;
};

static const struct opt_desc opt_table[CLIENT_OPT_COUNT] = {
#define CLIENT_OPT_DESC(id, name, sh, metavar, def, cmds, help)                                \
	[CLIENT_OPT_##id] = { name, sh, metavar, def, cmds, help },
	CLIENT_OPTION_LIST(CLIENT_OPT_DESC)
#undef CLIENT_OPT_DESC
};

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

/* Find the option named by argv word `w` ("--name", "--name=v", "-c", "-cv").
 * Returns its id or -1; *inline_val points at an attached value, if any. */
static int opt_find(const char *w, const char **inline_val)
{
	*inline_val = NULL;
	if (w[0] == '-' && w[1] == '-') {
		const char *eq = strchr(w + 2, '=');
		size_t n = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);

		for (unsigned i = 0; i < CLIENT_OPT_COUNT; i++) {
			const char *name = opt_table[i].name;

			if (strlen(name) == n && memcmp(name, w + 2, n) == 0) {
				*inline_val = eq ? eq + 1 : NULL;
				return (int)i;
			}
		}
		return -1;
	}
	for (unsigned i = 0; i < CLIENT_OPT_COUNT; i++) {
		if (opt_table[i].short_name != 0 && w[1] == opt_table[i].short_name) {
			*inline_val = w[2] ? w + 2 : NULL;
			return (int)i;
		}
	}
	return -1;
}

static bool is_option_word(const char *w)
{
	return w[0] == '-' && w[1] != 0;
}

static bool opt_takes_value(unsigned id, enum client_cmd cmd)
{
	if (id == CLIENT_OPT_HEX)
		return cmd == CLIENT_CMD_RAW;
	return opt_table[id].metavar != NULL;
}

/* First pass: the command is the first non-option word that names one. */
static enum client_cmd find_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		const char *inl;
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
		id = opt_find(w, &inl);
		if (id >= 0 && !inl && opt_takes_value((unsigned)id, CLIENT_CMD_NONE))
			i++; /* skip the option's value */
	}
	return CLIENT_CMD_NONE;
}

static int parse_value_size(struct client_args *a, const char *v, char *err, size_t err_len)
{
	uint64_t lo, hi;

	if (parse_num_range(v, 10, PROTO_VALUE_MAX, &lo, &hi))
		return fail(err, err_len,
			    "--value-size: '%s' is not a size S or a range MIN-MAX "
			    "with 0 <= MIN <= MAX <= %u",
			    v, PROTO_VALUE_MAX);
	a->value_size_min = (uint32_t)lo;
	a->value_size_max = (uint32_t)hi;
	return 0;
}

/* Store one option's value. `v` is NULL for flags. */
static int opt_apply(struct client_args *a, unsigned id, const char *v, char *err, size_t err_len)
{
	const char *name = opt_table[id].name;
	uint64_t x;

	switch ((enum client_opt_id)id) {
	case CLIENT_OPT_SERVER:
		if (v[0] == 0)
			return fail(err, err_len, "--server: empty address");
		a->server = v;
		return 0;
	case CLIENT_OPT_PORT:
		if (parse_num_u64(v, 10, 1, 65535, &x))
			return fail(err, err_len, "--port: '%s' is not a UDP port in 1..65535", v);
		a->port = (uint16_t)x;
		return 0;
	case CLIENT_OPT_WORKERS:
		if (parse_num_u64(v, 10, 1, CLIENT_WORKERS_MAX, &x))
			return fail(err, err_len, "--workers: '%s' is not a count in 1..%u", v,
				    CLIENT_WORKERS_MAX);
		a->n_workers = (uint16_t)x;
		return 0;
	case CLIENT_OPT_TIMEOUT:
		if (parse_num_u64(v, 10, 1, CLIENT_TIMEOUT_MS_MAX, &x))
			return fail(err, err_len, "--timeout: '%s' is not a time in 1..%u ms", v,
				    CLIENT_TIMEOUT_MS_MAX);
		a->timeout_ms = (uint32_t)x;
		return 0;
	case CLIENT_OPT_RETRIES:
		if (parse_num_u64(v, 10, 0, CLIENT_RETRIES_MAX, &x))
			return fail(err, err_len, "--retries: '%s' is not a count in 0..%u", v,
				    CLIENT_RETRIES_MAX);
		a->retries = (uint32_t)x;
		return 0;
	case CLIENT_OPT_DEADLINE:
		if (parse_num_u64(v, 10, 0, CLIENT_DEADLINE_S_MAX, &x))
			return fail(err, err_len,
				    "--deadline: '%s' is not a time in 0..%u s (0: no limit)", v,
				    CLIENT_DEADLINE_S_MAX);
		a->deadline_s = (uint32_t)x;
		return 0;
	case CLIENT_OPT_BATCH:
		if (parse_num_u64(v, 10, 1, PROTO_BATCH_MAX, &x))
			return fail(err, err_len, "--batch: '%s' is not a count in 1..%u", v,
				    PROTO_BATCH_MAX);
		a->batch = (uint32_t)x;
		return 0;
	case CLIENT_OPT_WINDOW:
		if (parse_num_u64(v, 10, 1, CLIENT_WINDOW_MAX, &x))
			return fail(err, err_len, "--window: '%s' is not a count in 1..%u", v,
				    CLIENT_WINDOW_MAX);
		a->window = (uint32_t)x;
		return 0;
	case CLIENT_OPT_MISDIRECT:
		a->misdirect = true;
		return 0;
	case CLIENT_OPT_NO_TOKEN:
		a->no_token = true;
		return 0;
	case CLIENT_OPT_DURABILITY:
		if (strcmp(v, "default") == 0)
			a->durability = PROTO_DUR_DEFAULT;
		else if (strcmp(v, "strong") == 0)
			a->durability = PROTO_DUR_STRONG;
		else if (strcmp(v, "eventual") == 0)
			a->durability = PROTO_DUR_EVENTUAL;
		else if (strcmp(v, "weak") == 0)
			a->durability = PROTO_DUR_WEAK;
		else
			return fail(err, err_len,
				    "--durability: '%s' is not one of "
				    "default, strong, eventual, weak",
				    v);
		return 0;
	case CLIENT_OPT_HEX:
		if (v)
			a->raw_hex = v;
		else
			a->hex = true;
		return 0;
	case CLIENT_OPT_KEYS:
		if (parse_num_u64(v, 10, 1, CLIENT_KEYS_MAX, &x))
			return fail(err, err_len, "--keys: '%s' is not a count in 1..%llu", v,
				    CLIENT_KEYS_MAX);
		a->keys = x;
		return 0;
	case CLIENT_OPT_VALUE_SIZE:
		return parse_value_size(a, v, err, err_len);
	case CLIENT_OPT_SEED:
		if (parse_num_u64(v, 0, 0, UINT64_MAX, &x))
			return fail(err, err_len, "--seed: '%s' is not an unsigned 64-bit number",
				    v);
		a->seed = x;
		return 0;
	case CLIENT_OPT_KEY_PREFIX:
		if (strlen(v) > CLIENT_KEY_PREFIX_MAX)
			return fail(err, err_len, "--key-prefix: longer than %u bytes",
				    CLIENT_KEY_PREFIX_MAX);
		a->key_prefix = v;
		return 0;
	case CLIENT_OPT_ACK_LOG:
		if (v[0] == 0)
			return fail(err, err_len, "--ack-log: empty file name");
		a->ack_log = v;
		return 0;
	case CLIENT_OPT_DURATION:
		if (parse_num_u64(v, 10, 0, CLIENT_DURATION_S_MAX, &x))
			return fail(err, err_len, "--duration: '%s' is not a time in 0..%u s", v,
				    CLIENT_DURATION_S_MAX);
		a->duration_s = (uint32_t)x;
		return 0;
	case CLIENT_OPT_DELETE_PERCENT:
		if (parse_num_u64(v, 10, 0, 100, &x))
			return fail(err, err_len, "--delete-percent: '%s' is not a percentage in 0..100",
				    v);
		a->delete_percent = (uint32_t)x;
		return 0;
	case CLIENT_OPT_JSON:
		a->json = true;
		return 0;
	case CLIENT_OPT_HELP:
		a->help = true;
		return 0;
	case CLIENT_OPT_VERSION:
		a->version = true;
		return 0;
	case CLIENT_OPT_COUNT:
		break;
	}
	return fail(err, err_len, "--%s: not handled", name);
}

static void set_defaults(struct client_args *a)
{
	memset(a, 0, sizeof(*a));
	a->server = "127.0.0.1";
	a->port = 9000;
	a->n_workers = 1;
	a->timeout_ms = 300;
	a->retries = 3;
	a->deadline_s = 120;
	a->batch = 32;
	a->window = 16;
	a->durability = PROTO_DUR_DEFAULT;
	a->value_size_min = a->value_size_max = 32;
	a->seed = 1;
	a->key_prefix = "key:";
	a->duration_s = 10;
}

/* Checks that need the whole command line. */
static int check_args(struct client_args *a, char *err, size_t err_len)
{
	const uint32_t payload = PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE;

	for (unsigned i = 0; i < CLIENT_OPT_COUNT; i++) {
		if ((a->given & (1u << i)) && !(opt_table[i].cmds & (1u << a->cmd)))
			return fail(err, err_len, "--%s does not apply to '%s'", opt_table[i].name,
				    cmd_names[a->cmd]);
	}
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

		if (!(a->given & (1u << CLIENT_OPT_KEYS)))
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
	const char *words[3];
	unsigned n_words = 0;
	bool opts_done = false;
	int rc;

	set_defaults(a);
	err[0] = 0;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		const char *v;
		int id;

		if (!opts_done && strcmp(w, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (opts_done || !is_option_word(w)) {
			/* The command plus at most two words; one more is an error. */
			if (n_words == WE_ARRAY_SIZE(words))
				return fail(err, err_len, "unexpected argument '%s'", w);
			words[n_words++] = w;
			continue;
		}
		id = opt_find(w, &v);
		if (id < 0)
			return fail(err, err_len, "unknown option '%s'", w);
		if (opt_takes_value((unsigned)id, cmd)) {
			if (!v) {
				if (i + 1 >= argc)
					return fail(err, err_len, "--%s needs a value (%s)",
						    opt_table[id].name, opt_table[id].metavar);
				v = argv[++i];
			}
		} else if (v) {
			return fail(err, err_len, "--%s takes no value", opt_table[id].name);
		}
		a->given |= 1u << id;
		rc = opt_apply(a, (unsigned)id, v, err, err_len);
		if (rc)
			return rc;
	}
	if (a->help || a->version)
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
	if (n_words > 1)
		a->key = words[1];
	if (n_words > 2)
		a->value = words[2];
	return check_args(a, err, err_len);
}

static void print_cmds(FILE *f, uint32_t cmds)
{
	const char *sep = "";

	if ((cmds & CMDS_NET) == CMDS_NET) {
		fputs("all commands", f);
		return;
	}
	for (unsigned c = 1; c < CLIENT_CMD_COUNT; c++) {
		if (cmds & (1u << c)) {
			fprintf(f, "%s%s", sep, cmd_names[c]);
			sep = ",";
		}
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
	for (unsigned i = 0; i < CLIENT_OPT_COUNT; i++) {
		const struct opt_desc *o = &opt_table[i];
		char left[48];
		int n;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
		else
			n = snprintf(left, sizeof(left), "    --%s", o->name);
		if (o->metavar && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->metavar);
		fprintf(f, "  %-26s %s\n  %-26s ", left, o->help, "");
		if (o->def[0])
			fprintf(f, "default %s; ", o->def);
		fputs("for ", f);
		print_cmds(f, o->cmds);
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
