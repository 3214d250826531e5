/* control_opts.h - warp-control's command line: one opt_spec table.
 *
 *   control_opts_parse   control_opts.c  argv -> struct control_opts (also --help,
 *                                        --help-markdown, --commands-markdown)
 */
#ifndef CONTROL_CONTROL_OPTS_H
#define CONTROL_CONTROL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct control_opts {
	const char *data_plane;
	const char *admin_socket;
	uint32_t admin_socket_mode;
	const char *metrics_listen;
	const char *data_dir;
	const char *allow;
	uint32_t sample_ms;
	uint32_t dp_timeout_ms;
	double topology_decay;
	bool quiet;
	bool commands_markdown;
};

enum control_opts_result { CONTROL_OPTS_RUN, CONTROL_OPTS_DONE, CONTROL_OPTS_ERROR };

/* CONTROL_OPTS_DONE: help or a table was printed; ERROR: err says why. */
enum control_opts_result control_opts_parse(struct control_opts *o, int argc, char **argv,
					    char *err, size_t err_len);

#endif
