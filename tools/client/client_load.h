/* client_load.h - the load command's phases, counters and verdict.
 *
 * client_load.c runs the phases; client_load_report.c prints them (a table,
 * or one JSON object). Split so each file keeps one job.
 */
#ifndef CLIENT_LOAD_H
#define CLIENT_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client_opts.h"

enum load_phase {
	LOAD_PUT,         /* every key: expect OK */
	LOAD_GET,         /* every key: expect OK and the exact value */
	LOAD_DELETE,      /* every key: expect OK (NOT_FOUND after a retry) */
	LOAD_GET_DELETED, /* every key: expect NOT_FOUND */
	LOAD_PHASES
};

struct load_phase_stats {
	bool ran;
	bool passed;
	uint64_t sent;              /* requests sent (first tries) */
	uint64_t answered;
	uint64_t ok;
	uint64_t not_found;
	uint64_t not_found_retried; /* DELETE: NOT_FOUND on a retried request */
	uint64_t wrong_values;      /* GET answered OK with other bytes */
	uint64_t unexpected_found;  /* GET after DELETE answered OK */
	uint64_t other_total;       /* any other status */
	uint64_t other[256];        /* by status byte */
	uint64_t retries;           /* request copies sent again */
	uint64_t transient_retries; /* BUSY or WRONG_OWNER answers retried */
	uint64_t need_token_retries; /* NEED_TOKEN answers retried with a new token */
	uint64_t token_requests;    /* address-token handshake datagrams sent */
	uint64_t timeouts;          /* requests never answered */
	uint64_t dgram_sent;
	uint64_t dgram_resent;
	uint64_t rx_stale;
	uint64_t rx_dup;
	uint64_t rx_invalid;
	uint64_t rx_batch_error;
	uint64_t rx_foreign;
	uint64_t tx_errors;
	uint64_t elapsed_ns;
};

struct load_report {
	const struct client_args *a;
	const char *server_text;
	const char *address_token;  /* client_token_state_name() at the end */
	bool deadline_hit;
	bool passed;
	struct load_phase_stats ph[LOAD_PHASES];
};

const char *load_phase_name(enum load_phase p);

/* The phase's verdict against its expectation for n_keys keys. */
bool load_phase_passed(enum load_phase p, const struct load_phase_stats *s, uint64_t n_keys);

/* One sentence per failed check, e.g. "get: 3 wrong values"; returns the
 * count written (at most max). */
unsigned load_failures(const struct load_report *r, char (*lines)[96], unsigned max);

/* Exit status for the report: 0 passed, 3 unanswered, 2 other statuses,
 * 1 failed checks. */
int load_exit_status(const struct load_report *r);

void load_report_text(const struct load_report *r, FILE *out);
/* Returns 0, or -ENOMEM if the JSON could not be built. */
int load_report_json(const struct load_report *r, FILE *out);

#endif
