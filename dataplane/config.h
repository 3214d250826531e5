/* config.h - the data plane's options (after EAL's `--`), declared once.
 *
 *   config_specs         config.c  the option table: name, kind, default, range, unit, help
 *   config_parse         config.c  argv -> struct config, checked
 *   config_print_help    config.c  --help, from the table
 *   config_print_markdown config.c the docs' option table (--help-markdown)
 *
 * The table feeds the shared parser (lib/opt_table.h), --help and the
 * markdown in docs/operations.md. Parsing and validation happen before any
 * worker starts; an error names the option, the value given and what was
 * expected. No DPDK here: config.c is testable on its own.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opt_table.h"
#include "we_compiler.h"

struct config {
	uint32_t ip_be;
	uint16_t port_base;
	uint16_t port_id;
	uint64_t capacity_items;
	uint64_t arena_mb;    /* as typed; 0: derived from the capacity */
	uint64_t arena_bytes; /* what each shard gets */
	bool udp_checksum;
	bool validate_addresses;
	bool busy_poll;
	uint32_t idle_sleep_us;
	bool service_histogram;
	uint32_t access_sample_every;
	bool tiers;
	bool evict;
	bool tier_dict;
	bool disk_tier;
	uint64_t disk_tier_bytes;
	bool no_flow;
	bool use_flow; /* !no_flow */
	bool reflect;
	const char *data_dir;
	uint64_t wal_ring_bytes;
	uint32_t park_capacity;
	uint32_t checkpoint_interval_s;
	const char *control_socket;
	const char *stats_file;
	uint32_t stats_interval_ms;
	bool quiet;
	bool help;
	bool help_markdown;
};

extern const struct opt_spec config_specs[];
extern const size_t config_n_specs;

/* Parse argv (the part after EAL's arguments). Returns 0, or -EINVAL after
 * writing a message naming the option and the problem into err. */
int config_parse(struct config *cfg, int argc, char **argv, char *err,
		 unsigned err_len) we_must_check;
void config_print_help(const char *prog);
void config_print_markdown(void);

#endif
