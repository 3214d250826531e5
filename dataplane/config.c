/* config.c - parse and validate the data plane's options.
 *
 * DESIGN: every option is declared once in CONFIG_OPTION_LIST (config.h);
 * the getopt table and --help are generated from it. Numbers are parsed
 * strictly by parse_num_u64() (digits only, range-checked); the first error
 * stops parsing and is described in `err` for main() to print.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse_num.h"

#define CONFIG_OPT_FIRST 256 /* getopt values above any short option */

static const struct {
	const char *name;
	int has_arg;
	const char *meta;
	const char *def;
	const char *help;
} config_options[] = {
#define CONFIG_OPT_ROW(name, arg, meta, def, help) {name, arg, meta, def, help},
	CONFIG_OPTION_LIST(CONFIG_OPT_ROW)
#undef CONFIG_OPT_ROW
};
#define CONFIG_N_OPTIONS (sizeof(config_options) / sizeof(config_options[0]))

void config_print_help(const char *prog)
{
	printf("usage: %s [EAL options] -- [options]\n\noptions:\n", prog);
	for (unsigned i = 0; i < CONFIG_N_OPTIONS; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", config_options[i].name,
			 config_options[i].has_arg ? " " : "", config_options[i].meta);
		printf("  %-30s %s", left, config_options[i].help);
		if (config_options[i].def[0] != 0)
			printf(" [%s]", config_options[i].def);
		printf("\n");
	}
	printf("\nexample: %s --no-pci --vdev=net_af_packet0,iface=veth0 -l 0-1 -- --ip 10.0.0.1\n",
	       prog);
}

static int fail(char *err, unsigned err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, unsigned err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port_base = 9000;
	cfg->capacity_items = 1000000;
	cfg->udp_checksum = true;
	cfg->validate_addresses = true;
	cfg->wal_ring_bytes = 32u << 20; /* ~0.3 s of eventual writes at 1 M/s: rides out the disk's flush stalls */
	cfg->park_capacity = 65536; /* 56-byte entries: 3.5 MiB; 0.1 s of strong writes at 0.6 M/s */
	cfg->idle_sleep_us = 50;
	cfg->use_flow = true;
	cfg->stats_interval_ms = 1000;
}

static int config_apply(struct config *cfg, const char *name, const char *arg, char *err,
			unsigned err_len, bool *have_ip, uint64_t *arena_mb)
{
	uint64_t v;

	if (strcmp(name, "ip") == 0) {
		struct in_addr a;

		if (inet_pton(AF_INET, arg, &a) != 1)
			return fail(err, err_len, "--ip: '%s' is not an IPv4 address (A.B.C.D)",
				    arg);
		cfg->ip_be = a.s_addr;
		*have_ip = true;
	} else if (strcmp(name, "port-base") == 0) {
		if (parse_num_u64(arg, 10, 1, 65535, &v))
			return fail(err, err_len, "--port-base: '%s' is not a port in 1..65535",
				    arg);
		cfg->port_base = (uint16_t)v;
	} else if (strcmp(name, "port-id") == 0) {
		if (parse_num_u64(arg, 10, 0, 1023, &v))
			return fail(err, err_len, "--port-id: '%s' is not a port index 0..1023",
				    arg);
		cfg->port_id = (uint16_t)v;
	} else if (strcmp(name, "capacity") == 0) {
		if (parse_num_u64(arg, 10, 1, 1ull << 31, &v))
			return fail(err, err_len,
				    "--capacity: '%s' is not an item count in 1..2147483648", arg);
		cfg->capacity_items = v;
	} else if (strcmp(name, "arena-mb") == 0) {
		if (parse_num_u64(arg, 10, 1, 1u << 20, &v))
			return fail(err, err_len, "--arena-mb: '%s' is not a size in 1..1048576 MiB",
				    arg);
		*arena_mb = v;
	} else if (strcmp(name, "udp-checksum") == 0) {
		if (strcmp(arg, "on") == 0)
			cfg->udp_checksum = true;
		else if (strcmp(arg, "off") == 0)
			cfg->udp_checksum = false;
		else
			return fail(err, err_len, "--udp-checksum: '%s' must be 'on' or 'off'",
				    arg);
	} else if (strcmp(name, "address-validation") == 0) {
		if (strcmp(arg, "on") == 0)
			cfg->validate_addresses = true;
		else if (strcmp(arg, "off") == 0)
			cfg->validate_addresses = false;
		else
			return fail(err, err_len,
				    "--address-validation: '%s' must be 'on' or 'off'", arg);
	} else if (strcmp(name, "data-dir") == 0) {
		if (arg[0] == '\0')
			return fail(err, err_len, "--data-dir: empty path");
		cfg->data_dir = arg;
	} else if (strcmp(name, "wal-ring-mb") == 0) {
		if (parse_num_u64(arg, 10, 1, 1024, &v) || (v & (v - 1)) != 0)
			return fail(err, err_len,
				    "--wal-ring-mb: '%s' is not a power of two in 1..1024 MiB", arg);
		cfg->wal_ring_bytes = v << 20;
	} else if (strcmp(name, "park-capacity") == 0) {
		if (parse_num_u64(arg, 10, 2, 1u << 24, &v) || (v & (v - 1)) != 0)
			return fail(err, err_len,
				    "--park-capacity: '%s' is not a power of two in 2..16777216",
				    arg);
		cfg->park_capacity = (uint32_t)v;
	} else if (strcmp(name, "control-socket") == 0) {
		if (arg[0] == '\0')
			return fail(err, err_len, "--control-socket: empty path");
		cfg->control_socket = arg;
	} else if (strcmp(name, "checkpoint-interval-s") == 0) {
		if (parse_num_u64(arg, 10, 0, 86400, &v))
			return fail(err, err_len,
				    "--checkpoint-interval-s: '%s' is not a whole number of seconds "
				    "in 0..86400", arg);
		cfg->checkpoint_interval_s = (uint32_t)v;
	} else if (strcmp(name, "busy-poll") == 0) {
		cfg->busy_poll = true;
	} else if (strcmp(name, "idle-sleep-us") == 0) {
		if (parse_num_u64(arg, 10, 1, 100000, &v))
			return fail(err, err_len,
				    "--idle-sleep-us: '%s' is not a duration in 1..100000 us", arg);
		cfg->idle_sleep_us = (uint32_t)v;
	} else if (strcmp(name, "reflect") == 0) {
		cfg->reflect = true;
	} else if (strcmp(name, "no-flow") == 0) {
		cfg->use_flow = false;
	} else if (strcmp(name, "stats-file") == 0) {
		if (arg[0] == 0)
			return fail(err, err_len, "--stats-file: empty path");
		cfg->stats_file = arg;
	} else if (strcmp(name, "stats-interval-ms") == 0) {
		if (parse_num_u64(arg, 10, 10, 3600000, &v))
			return fail(err, err_len,
				    "--stats-interval-ms: '%s' is not a duration in 10..3600000 ms",
				    arg);
		cfg->stats_interval_ms = (uint32_t)v;
	} else if (strcmp(name, "quiet") == 0) {
		cfg->quiet = true;
	} else if (strcmp(name, "help") == 0) {
		cfg->help = true;
	}
	return 0;
}

int config_parse(struct config *cfg, int argc, char **argv, char *err, unsigned err_len)
{
	struct option longopts[CONFIG_N_OPTIONS + 1];
	bool have_ip = false;
	uint64_t arena_mb = 0;
	int c, idx;

	config_defaults(cfg);
	memset(longopts, 0, sizeof(longopts));
	for (unsigned i = 0; i < CONFIG_N_OPTIONS; i++) {
		longopts[i].name = config_options[i].name;
		longopts[i].has_arg = config_options[i].has_arg;
		longopts[i].val = CONFIG_OPT_FIRST + (int)i;
	}

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		int rc;

		if (c == 'h') {
			cfg->help = true;
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt >= CONFIG_OPT_FIRST)
				return fail(err, err_len, "%s: needs a value", bad);
			return fail(err, err_len, "unknown option '%s' (see --help)", bad);
		}
		rc = config_apply(cfg, config_options[c - CONFIG_OPT_FIRST].name, optarg, err,
				  err_len, &have_ip, &arena_mb);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return fail(err, err_len, "unexpected argument '%s' (options start with --)",
			    argv[optind]);
	if (cfg->help)
		return 0;
	if (!have_ip)
		return fail(err, err_len, "--ip is required: the IPv4 address to answer on");
	/* 96 bytes an item covers a 16-byte header, a short key and a value of
	 * a few dozen bytes; larger values need --arena-mb. */
	cfg->arena_bytes = arena_mb ? arena_mb << 20 : cfg->capacity_items * 96;
	return 0;
}
