/* warpctl_opts.h - warpctl's options: one table, the parser, --help.
 *
 *   warpctl_specs          warpctl_opts.c  the option table (struct opt_spec, lib/opt_table.h)
 *   warpctl_opts_parse     warpctl_opts.c  argv -> options + the command's words
 *   warpctl_opts_scope     warpctl_opts.c  refuse an option the command does not take
 *   warpctl_opts_help      warpctl_opts.c  the options part of --help
 *   warpctl_opts_markdown  warpctl_opts.c  the options as docs/warpctl.md's table
 *
 * Options may stand anywhere on the line (before or after the command);
 * "--" ends them (a value that starts with '-' comes after it). Global
 * options apply to every command; --worker, --all, --output, --n,
 * --per-worker, --no-wait, --dry-run and --max-hops only to the commands
 * whose scope bit they carry.
 */
#ifndef WARPCTL_OPTS_H
#define WARPCTL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "opt_table.h"
#include "we_compiler.h"

#define WARPCTL_SOCKET_DEFAULT "/run/warpengine/admin.sock"
#define WARPCTL_SOCKET_ENV "WARPCTL_SOCKET"
#define WARPCTL_WORDS_MAX 8 /* command words and arguments */

/* Scope bits: which commands take an option (0 in a spec: every command). */
enum warpctl_scope {
	WARPCTL_SCOPE_STATS = 1u << 0,
	WARPCTL_SCOPE_CONFIG_SET = 1u << 1,
	WARPCTL_SCOPE_REGIONS = 1u << 2,
	WARPCTL_SCOPE_HOTKEYS = 1u << 3,
	WARPCTL_SCOPE_MOVE = 1u << 4,
	WARPCTL_SCOPE_REBALANCE = 1u << 5,
	WARPCTL_SCOPE_ROUTE = 1u << 6,
};

struct warpctl_opts {
	const char *socket;  /* NULL: $WARPCTL_SOCKET, else WARPCTL_SOCKET_DEFAULT */
	bool json;
	uint64_t timeout_ms;
	uint64_t worker;     /* with seen_worker */
	bool seen_worker;
	bool all;
	const char *output;  /* regions --output FILE */
	uint64_t n;          /* hotkeys --n N, with seen_n */
	bool seen_n;
	bool per_worker;     /* hotkeys --per-worker */
	bool no_wait;        /* move-region --no-wait */
	bool dry_run;        /* rebalance --dry-run */
	bool seen_timeout;   /* --timeout-ms given: it bounds the waiting commands too */
	uint64_t max_hops;   /* route --max-hops N, with seen_max_hops */
	bool seen_max_hops;
	bool help;
	bool help_markdown;  /* --help-markdown: the options as a markdown table */
	bool version;
	bool seen[OPT_MAX_OPTIONS];
	const char *words[WARPCTL_WORDS_MAX]; /* the command and its arguments */
	int n_words;
};

extern const struct opt_spec warpctl_specs[];
extern const size_t warpctl_n_specs;

/* 0, or -EINVAL and a sentence naming the option and what was expected. */
int warpctl_opts_parse(int argc, char **argv, struct warpctl_opts *o, char *err,
		       size_t err_len) we_must_check;
/* 0, or -EINVAL when an option given is not one `command` (scope bits) takes. */
int warpctl_opts_scope(const struct warpctl_opts *o, uint32_t scope, const char *command,
		       char *err, size_t err_len) we_must_check;
void warpctl_opts_help(FILE *out);
void warpctl_opts_markdown(FILE *out);

#endif
