/* control_opts.c - warp-control's options (see control_opts.h). */
#include "control_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_cmds.h"
#include "opt_table.h"

#define O(field) OPT_AT(struct control_opts, field)

/* A permission mode, octal as chmod takes it ("660" and "0660" alike). */
static int parse_mode(const struct opt_spec *spec, const char *arg, void *dest, char *why,
		      size_t why_len)
{
	char *end;
	unsigned long v;

	(void)spec;
	errno = 0;
	v = strtoul(arg, &end, 8);
	if (*arg < '0' || *arg > '7' || *end != 0 || errno != 0 || v > 0777) {
		snprintf(why, why_len, "an octal permission mode in 0..0777 (e.g. 0660)");
		return -EINVAL;
	}
	*(uint32_t *)dest = (uint32_t)v;
	return 0;
}

static const struct opt_spec specs[] = {
	{.name = "data-plane", .kind = OPT_STRING, .meta = "PATH", .flags = OPT_REQUIRED,
	 O(data_plane), .help = "the data plane's control socket (its --control-socket)"},
	{.name = "admin-socket", .kind = OPT_STRING, .meta = "PATH", .flags = OPT_REQUIRED,
	 O(admin_socket), .help = "the admin socket to serve (warpctl --socket)"},
	{.name = "admin-socket-mode", .kind = OPT_CUSTOM, .meta = "OCTAL", .def = "0600",
	 .parse = parse_mode, O(admin_socket_mode),
	 .help = "permissions of the admin socket file (0660: the group may connect)"},
	{.name = "allow", .kind = OPT_STRING, .meta = "SPEC", O(allow),
	 .help = "who may do what: UID|USER|@GID|@GROUP:observe|operate|admin, comma-separated "
		 "(the uid running warp-control and root are admin unless listed)"},
	{.name = "data-dir", .kind = OPT_STRING, .meta = "DIR", O(data_dir),
	 .help = "keep the live settings in DIR/configuration/, the worker topology in "
		 "DIR/wormholes/topology/, and watch DIR's free space"},
	{.name = "metrics-listen", .kind = OPT_STRING, .meta = "ADDR:PORT", O(metrics_listen),
	 .help = "serve Prometheus metrics at http://ADDR:PORT/metrics"},
	{.name = "sample-ms", .kind = OPT_U64, .meta = "MS", .def = "1000", .unit = "ms",
	 .min = 50, .max = 60000, O(sample_ms),
	 .help = "how often the data plane's stats are sampled (rates and health use two)"},
	{.name = "dp-timeout-ms", .kind = OPT_U64, .meta = "MS", .def = "1000", .unit = "ms",
	 .min = 10, .max = 10000, O(dp_timeout_ms),
	 .help = "longest wait for one answer of the data plane"},
	{.name = "topology-decay", .kind = OPT_DOUBLE, .meta = "RATE", .def = "0.99",
	 .dmin = 0.5, .dmax = 1, O(topology_decay),
	 .help = "decay_rate of the worker topology: each sample keeps this much of the "
		 "connections' recent traffic (docs/topology.md)"},
	{.name = "quiet", .kind = OPT_FLAG, O(quiet), .help = "no messages but errors"},
	{.name = "commands-markdown", .kind = OPT_FLAG, .flags = OPT_HIDDEN,
	 O(commands_markdown), .help = "print the admin commands as a markdown table"},
};

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

enum control_opts_result control_opts_parse(struct control_opts *o, int argc, char **argv,
					    char *err, size_t err_len)
{
	struct opt_result res;

	memset(o, 0, sizeof(*o));
	/* --commands-markdown needs no required option. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--commands-markdown") == 0) {
			admin_cmds_markdown(stdout);
			return CONTROL_OPTS_DONE;
		}
	if (opt_parse(specs, N_SPECS, o, argc, argv, 0, false, &res, err, err_len) != 0)
		return CONTROL_OPTS_ERROR;
	if (res.help) {
		opt_print_help(stdout, specs, N_SPECS, 0,
			       "usage: warp-control --data-plane DP.sock --admin-socket ADMIN.sock "
			       "[options]");
		return CONTROL_OPTS_DONE;
	}
	if (res.help_markdown) {
		opt_print_markdown(stdout, specs, N_SPECS);
		return CONTROL_OPTS_DONE;
	}
	return CONTROL_OPTS_RUN;
}
