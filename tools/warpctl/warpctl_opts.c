/* warpctl_opts.c - warpctl's option table and its parser (see warpctl_opts.h).
 *
 * DESIGN: the options are declared once, as struct opt_spec entries of
 * lib/opt_table.h; the shared parser, --help and the markdown table of
 * docs/warpctl.md (warpctl --help-markdown) all read that table.
 */
#include "warpctl_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct opt_spec warpctl_specs[] = {
	{.name = "socket", .kind = OPT_STRING, .meta = "PATH",
	 .def = "$" WARPCTL_SOCKET_ENV ", else " WARPCTL_SOCKET_DEFAULT, .flags = OPT_DEF_TEXT,
	 .help = "warp-control's admin socket",
	 OPT_AT(struct warpctl_opts, socket)},
	{.name = "json", .kind = OPT_FLAG,
	 .help = "print the answer's result as JSON, exactly as received (for scripts)",
	 OPT_AT(struct warpctl_opts, json)},
	{.name = "timeout-ms", .kind = OPT_U64, .meta = "MS", .def = "5000", .unit = "ms",
	 .min = 1, .max = 3600000,
	 .help = "give up when no answer came within MS (connect, send and read together); "
		 "given, it also bounds the whole of move-region's wait (else 35 s) and of "
		 "rebalance's (else 180 s)",
	 OPT_AT(struct warpctl_opts, timeout_ms)},
	{.name = "worker", .kind = OPT_U64, .meta = "N", .min = 0, .max = 65535,
	 .scope = WARPCTL_SCOPE_STATS | WARPCTL_SCOPE_CONFIG_SET,
	 .help = "stats: only worker N; config set: change worker N only",
	 OPT_AT(struct warpctl_opts, worker)},
	{.name = "all", .kind = OPT_FLAG, .scope = WARPCTL_SCOPE_STATS,
	 .help = "stats: every counter, zeros included", OPT_AT(struct warpctl_opts, all)},
	{.name = "output", .kind = OPT_STRING, .meta = "FILE", .scope = WARPCTL_SCOPE_REGIONS,
	 .help = "regions: write the region map to FILE (what --region-map FILE loads)",
	 OPT_AT(struct warpctl_opts, output)},
	{.name = "n", .kind = OPT_U64, .meta = "N", .def = "20", .min = 1, .max = 256,
	 .scope = WARPCTL_SCOPE_HOTKEYS, .help = "hotkeys: how many keys",
	 OPT_AT(struct warpctl_opts, n)},
	{.name = "per-worker", .kind = OPT_FLAG, .scope = WARPCTL_SCOPE_HOTKEYS,
	 .help = "hotkeys: each worker's keys too, after the merged ones",
	 OPT_AT(struct warpctl_opts, per_worker)},
	{.name = "no-wait", .kind = OPT_FLAG, .scope = WARPCTL_SCOPE_MOVE,
	 .help = "move-region: answer once the move is queued, not when it is done",
	 OPT_AT(struct warpctl_opts, no_wait)},
	{.name = "dry-run", .kind = OPT_FLAG, .scope = WARPCTL_SCOPE_REBALANCE,
	 .help = "rebalance: show the plan and its prediction; move nothing",
	 OPT_AT(struct warpctl_opts, dry_run)},
	{.name = "max-hops", .kind = OPT_U64, .meta = "N", .min = 0, .max = 127,
	 .scope = WARPCTL_SCOPE_ROUTE,
	 .help = "route: at most N hops (the server's default: 4; 0: no limit)",
	 OPT_AT(struct warpctl_opts, max_hops)},
	{.name = "version", .kind = OPT_FLAG, .help = "print warpctl's version",
	 OPT_AT(struct warpctl_opts, version)},
};
const size_t warpctl_n_specs = sizeof(warpctl_specs) / sizeof(warpctl_specs[0]);

int warpctl_opts_parse(int argc, char **argv, struct warpctl_opts *o, char *err, size_t err_len)
{
	struct opt_result res;
	unsigned n_words = 0;
	int worker, rc;

	memset(o, 0, sizeof(*o));
	/* Scope 0 here: the command is one of the words, known only after
	 * parsing; warpctl_opts_scope checks the options against it. */
	rc = opt_parse_words(warpctl_specs, warpctl_n_specs, o, argc, argv, 0, NULL, o->words,
			     WARPCTL_WORDS_MAX, &n_words, &res, err, err_len);
	if (rc != 0)
		return rc;
	o->n_words = (int)n_words;
	o->help = res.help;
	o->help_markdown = res.help_markdown;
	memcpy(o->seen, res.seen, sizeof(o->seen));
	worker = opt_find(warpctl_specs, warpctl_n_specs, "worker");
	o->seen_worker = worker >= 0 && o->seen[worker];
	worker = opt_find(warpctl_specs, warpctl_n_specs, "n");
	o->seen_n = worker >= 0 && o->seen[worker];
	worker = opt_find(warpctl_specs, warpctl_n_specs, "timeout-ms");
	o->seen_timeout = worker >= 0 && o->seen[worker];
	worker = opt_find(warpctl_specs, warpctl_n_specs, "max-hops");
	o->seen_max_hops = worker >= 0 && o->seen[worker];
	if (o->socket == NULL)
		o->socket = getenv(WARPCTL_SOCKET_ENV);
	if (o->socket == NULL || o->socket[0] == '\0')
		o->socket = WARPCTL_SOCKET_DEFAULT;
	return 0;
}

int warpctl_opts_scope(const struct warpctl_opts *o, uint32_t scope, const char *command,
		       char *err, size_t err_len)
{
	for (size_t i = 0; i < warpctl_n_specs; i++) {
		if (!o->seen[i] || warpctl_specs[i].scope == 0 || (warpctl_specs[i].scope & scope))
			continue;
		snprintf(err, err_len, "--%s does not apply to '%s'", warpctl_specs[i].name, command);
		return -EINVAL;
	}
	return 0;
}

void warpctl_opts_help(FILE *out)
{
	opt_print_help(out, warpctl_specs, warpctl_n_specs, 0, NULL);
}

void warpctl_opts_markdown(FILE *out)
{
	opt_print_markdown(out, warpctl_specs, warpctl_n_specs);
}
