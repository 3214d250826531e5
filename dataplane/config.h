/* config.h - the data plane's options (after EAL's `--`), declared once.
 *
 * CONFIG_OPTION_LIST feeds the getopt table, --help and the defaults. Parsing
 * and validation happen before any worker starts; an error names the option,
 * the value given and what was expected. No DPDK here: config.c is testable
 * on its own.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "we_compiler.h"

/* X(long name, has_arg, metavar, default text, help) */
#define CONFIG_OPTION_LIST(X)                                                                \
	X("ip", 1, "A.B.C.D", "required", "IPv4 address the data plane answers on")         \
	X("port-base", 1, "PORT", "9000", "UDP port of worker 0; worker i listens on PORT+i") \
	X("port-id", 1, "N", "0", "DPDK port (ethdev) index to serve")                        \
	X("capacity", 1, "ITEMS", "1000000", "items each shard's index is sized for")         \
	X("arena-mb", 1, "MIB", "auto", "item memory per shard (default: capacity x 96 B)")   \
	X("udp-checksum", 1, "on|off", "on", "compute UDP checksums of replies")              \
	X("address-validation", 1, "on|off", "on",                                           \
	  "hold senders without an address token to 3x the bytes they sent (off: closed nets)") \
	X("busy-poll", 0, "", "off", "never sleep when idle (benchmarks); default sleeps")     \
	X("idle-sleep-us", 1, "US", "50", "sleep after a run of empty polls, microseconds")   \
	X("reflect", 0, "", "off", "echo every datagram unread: the packet-path baseline")       \
	X("no-flow", 0, "", "off", "do not try rte_flow steering by UDP port")                \
	X("data-dir", 1, "DIR", "none",                                                      \
	  "keep data in DIR: write-ahead log, recovery at start (without it: memory only)")  \
	X("wal-ring-mb", 1, "MIB", "32", "per-worker log ring to the writer (power of two)")  \
	X("park-capacity", 1, "N", "65536", "STRONG answers a worker holds (power of two)")     \
	X("control-socket", 1, "PATH", "",                                                     \
	  "serve control commands (JSON lines) on a Unix socket, mode 0600")                  \
	X("checkpoint-interval-s", 1, "S", "0",                                                \
	  "with --data-dir: a checkpoint every S seconds (0: only on SIGUSR1)")               \
	X("stats-file", 1, "PATH", "none", "write all counters as JSON every interval")     \
	X("stats-interval-ms", 1, "MS", "1000", "interval of the stats file and log line")    \
	X("quiet", 0, "", "off", "no per-interval log line")                                  \
	X("help", 0, "", "", "print this help")

struct config {
	uint32_t ip_be;
	uint16_t port_base;
	uint16_t port_id;
	uint64_t capacity_items;
	uint64_t arena_bytes;
	bool udp_checksum;
	bool validate_addresses;
	bool busy_poll;
	uint32_t idle_sleep_us;
	bool use_flow;
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
};

/* Parse argv (the part after EAL's arguments). Returns 0, or -EINVAL after
 * writing a message naming the option and the problem into err. */
int config_parse(struct config *cfg, int argc, char **argv, char *err,
		 unsigned err_len) we_must_check;
void config_print_help(const char *prog);

#endif
