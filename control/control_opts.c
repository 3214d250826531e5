/* control_opts.c - warp-control's options (see control_opts.h). */
#include "control_opts.h"

#include <string.h>

#include "admin_cmds.h"
#include "opt_table.h"

#define O(field) OPT_AT(struct control_opts, field)

static const struct opt_spec specs[] = {
	{.name = "data-plane", .kind = OPT_STRING, .meta = "PATH", .flags = OPT_REQUIRED,
	 O(data_plane), .help = "the data plane's control socket (its --control-socket)"},
	{.name = "admin-socket", .kind = OPT_STRING, .meta = "PATH", .flags = OPT_REQUIRED,
	 O(admin_socket), .help = "the admin socket to serve (warpctl --socket)"},
	{.name = "admin-socket-mode", .kind = OPT_U64, .meta = "OCTAL", .def = "0600",
	 .min = 0, .max = 0777, .flags = OPT_BASE0, O(admin_socket_mode),
	 .help = "permissions of the admin socket file (0660: the group may connect)"},
	{.name = "allow", .kind = OPT_STRING, .meta = "SPEC", O(allow),
	 .help = "who may do what: UID|USER|@GID|@GROUP:observe|operate|admin, comma-separated "
		 "(the uid running warp-control and root are admin unless listed)"},
	{.name = "data-dir", .kind = OPT_STRING, .meta = "DIR", O(data_dir),
	 .help = "keep the live settings in DIR/configuration/ and watch DIR's free space"},
	{.name = "metrics-listen", .kind = OPT_STRING, .meta = "ADDR:PORT", O(metrics_listen),
	 .help = "serve Prometheus metrics at http://ADDR:PORT/metrics"},
	{.name = "sample-ms", .kind = OPT_U64, .meta = "MS", .def = "1000", .unit = "ms",
	 .min = 50, .max = 60000, O(sample_ms),
	 .help = "how often the data plane's stats are sampled (rates and health use two)"},
	{.name = "dp-timeout-ms", .kind = OPT_U64, .meta = "MS", .def = "1000", .unit = "ms",
	 .min = 10, .max = 10000, O(dp_timeout_ms),
	 .help = "longest wait for one answer of the data plane"},
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
