/* options.h - warp-blaster's command line (no DPDK).
 *
 * Every option is one row of options_specs (options.c): name, kind, default,
 * range, unit and help, which feed the shared parser (lib/opt_table.h),
 * --help and the table in docs/blaster.md (--help-markdown).
 */
#ifndef BLASTER_OPTIONS_H
#define BLASTER_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "blaster.h"
#include "we_compiler.h"

struct options {
	struct blaster_config bc;
	const char *engine;
	const char *server;
	uint16_t port;          /* native: base port (worker i on port + i) */
	bool preload;
	bool spin;              /* busy-poll when idle (kernel engine) */
	bool no_spin;           /* as typed; spin = !no_spin */
	bool no_token;          /* as typed; bc.token = !no_token (native) */
	unsigned engine_kind;   /* 0 kernel, 1 dpdk: engine names it */
	double duration_s;      /* as typed; bc holds nanoseconds */
	double timeout_ms;
	double no_answer_s;
	double interval_ms;
	bool quiet;
	const char *json_path;  /* NULL: no JSON report */
	const char *hgrm_path;  /* NULL: no .hgrm latency table (hgrm.h) */
	const char *region_map_path;   /* --region-map FILE, loaded into region_map */
	struct region_map region_map;  /* bc.region_map points here when loaded */
	/* DPDK engine only. */
	const char *source_ip;  /* our IPv4 address; NULL: the server's + 1 */
	uint16_t port_id;       /* DPDK port index */
	uint32_t linger_s;      /* after the run, wait this long for the peer to leave */
	uint32_t link_wait_s;   /* wait this long for the link before giving up */
	int eal_argc;           /* EAL arguments: what came before "--" */
	char **eal_argv;
};

enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_HELP,  /* --help (or --help-markdown) was printed: exit 0 */
	OPTIONS_ERROR, /* err holds "--option: what is wrong": exit 64 */
};

/* Parse argv into o (defaults first); reads the --region-map file. progress/log streams are left NULL;
 * main sets them. */
enum options_result options_parse(struct options *o, int argc, char **argv, char *err,
				  size_t err_len) we_must_check;
void options_usage(FILE *out);
/* The run's configuration, for the JSON report. */
json_t *options_json(const struct options *o);

#endif
