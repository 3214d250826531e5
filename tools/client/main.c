/* main.c - warp-client: parse the command line, run one command, exit.
 *
 * DESIGN: main() is the only place that exits. Argument errors print the
 * parser's message and a pointer to --help and exit 64 (EX_USAGE); each
 * command returns its own status (client_cmd.h lists them).
 */
#include <stdio.h>
#include <unistd.h>

#include "client_cmd.h"
#include "client_opts.h"

#ifndef CLIENT_VERSION
#define CLIENT_VERSION "unknown"
#endif

int main(int argc, char **argv)
{
	struct client_args a;
	char err[256];
	int rc;

	if (client_opts_parse(&a, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "warp-client: %s\nTry 'warp-client --help'.\n", err);
		return CLIENT_EXIT_USAGE;
	}
	if (a.help) {
		client_opts_usage(stdout, "warp-client");
		return CLIENT_EXIT_OK;
	}
	if (a.help_markdown) {
		client_opts_markdown(stdout);
		return CLIENT_EXIT_OK;
	}
	if (a.version) {
		printf("warp-client %s (WarpEngine protocol v%u)\n", CLIENT_VERSION, PROTO_VERSION);
		return CLIENT_EXIT_OK;
	}
	switch (a.cmd) {
	case CLIENT_CMD_PUT:
	case CLIENT_CMD_GET:
	case CLIENT_CMD_DEL:
		rc = client_cmd_one(&a, stdout, stderr);
		break;
	case CLIENT_CMD_PING:
		rc = client_cmd_ping(&a, stdout, stderr);
		break;
	case CLIENT_CMD_BATCH:
		rc = client_cmd_batch(&a, STDIN_FILENO, stdout, stderr);
		break;
	case CLIENT_CMD_LOAD:
		rc = client_cmd_load(&a, stdout, stderr);
		break;
	case CLIENT_CMD_RAW:
		rc = client_cmd_raw(&a, stdout, stderr);
		break;
	case CLIENT_CMD_WRITES:
		rc = client_cmd_writes(&a, stdout, stderr);
		break;
	case CLIENT_CMD_CHECK:
		rc = client_cmd_check(&a, stdout, stderr);
		break;
	default:
		rc = CLIENT_EXIT_USAGE;
		break;
	}
	if (fflush(stdout) != 0 && rc == CLIENT_EXIT_OK)
		rc = CLIENT_EXIT_OSERR;
	return rc;
}
