/* exitcode.h - warpctl's exit codes, one per kind of outcome.
 *
 * Scripts branch on these, so they are part of the interface: --help and
 * docs/warpctl.md list them, tests check each. The admin socket's error
 * "code" maps onto them one to one (exitcode_of_error_code).
 */
#ifndef WARPCTL_EXITCODE_H
#define WARPCTL_EXITCODE_H

#include <string.h>

enum warpctl_exit {
	WARPCTL_EXIT_OK = 0,          /* the command ran */
	WARPCTL_EXIT_FAILED = 1,      /* the command failed, or the answer made no sense */
	WARPCTL_EXIT_USAGE = 2,       /* bad arguments (ours, or the server's "usage") */
	WARPCTL_EXIT_UNREACHABLE = 3, /* no admin socket, refused, timed out, or
				       * the data plane is unavailable */
	WARPCTL_EXIT_DENIED = 4,      /* the server's allow-list refused us */
};

/* The exit code for an answer {"ok": false, "code": code}; an unknown or
 * missing code counts as a failure. */
static inline enum warpctl_exit exitcode_of_error_code(const char *code)
{
	if (code == NULL)
		return WARPCTL_EXIT_FAILED;
	if (strcmp(code, "usage") == 0)
		return WARPCTL_EXIT_USAGE;
	if (strcmp(code, "unavailable") == 0)
		return WARPCTL_EXIT_UNREACHABLE;
	if (strcmp(code, "denied") == 0)
		return WARPCTL_EXIT_DENIED;
	return WARPCTL_EXIT_FAILED;
}

#endif
