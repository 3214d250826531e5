/* config.c - the data plane's option table; parse and check it.
 *
 * DESIGN: every option is one row of config_specs: the shared parser
 * (lib/opt_table.c) checks each value against its row and writes it into
 * struct config, and --help and the docs' table are printed from the same
 * rows. What a row cannot say is derived after parsing: the arena's size
 * from the capacity when --arena-mb is absent, use_flow from --no-flow.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"

#define CFG(field) OPT_AT(struct config, field)

const struct opt_spec config_specs[] = {
	{.name = "ip", .kind = OPT_IPV4, .meta = "A.B.C.D", .flags = OPT_REQUIRED, CFG(ip_be),
	 .help = "IPv4 address answered (ARP, ICMP echo, UDP)"},
	{.name = "port-base", .kind = OPT_U64, .meta = "PORT", .def = "9000", .min = 1,
	 .max = 65535, CFG(port_base), .help = "UDP port of worker 0; worker i listens on PORT+i"},
	{.name = "port-id", .kind = OPT_U64, .meta = "N", .def = "0", .min = 0, .max = 1023,
	 CFG(port_id), .help = "DPDK port (ethdev) to serve"},
	{.name = "capacity", .kind = OPT_U64, .meta = "ITEMS", .def = "1000000", .unit = "items",
	 .min = 1, .max = 1ull << 30, CFG(capacity_items),
	 .help = "items each shard's index is sized for"},
	{.name = "arena-mb", .kind = OPT_U64, .meta = "MIB", .def = "auto", .unit = "MiB",
	 .min = 1, .max = 1u << 15, .flags = OPT_DEF_TEXT, CFG(arena_mb),
	 .help = "item memory per shard (header 8 B + key + value, 8-byte granules; at most "
		 "32 GiB: the index keeps 32-bit granule offsets); auto: capacity x 96 B"},
	{.name = "udp-checksum", .kind = OPT_ONOFF, .meta = "on|off", .def = "on",
	 CFG(udp_checksum), .help = "compute UDP checksums of replies (kernel peers on veth/af_xdp need them)"},
	{.name = "address-validation", .kind = OPT_ONOFF, .meta = "on|off", .def = "on",
	 CFG(validate_addresses),
	 .help = "hold senders without an address token to 3x the bytes they sent (protocol.md"
		 " section 14); off only on closed networks"},
	{.name = "busy-poll", .kind = OPT_FLAG, .def = "off", CFG(busy_poll),
	 .help = "never sleep when idle (benchmarks)"},
	{.name = "idle-sleep-us", .kind = OPT_U64, .meta = "US", .def = "50", .unit = "us",
	 .min = 1, .max = 100000, CFG(idle_sleep_us),
	 .help = "sleep per empty poll once a worker has been idle for 2048 polls"},
	{.name = "service-histogram", .kind = OPT_ONOFF, .meta = "on|off", .def = "on",
	 CFG(service_histogram),
	 .help = "record each busy loop iteration's time in the worker's service-time histogram"
		 " (off: the baseline that measures its cost)"},
	{.name = "access-sample-every", .kind = OPT_U64, .meta = "N", .def = "32", .min = 0,
	 .max = 1u << 20, CFG(access_sample_every),
	 .help = "count 1 of every N executed requests in the per-region load and the hot-key"
		 " sketch (0: off)"},
	{.name = "tiers", .kind = OPT_ONOFF, .meta = "on|off", .def = "off", CFG(tiers),
	 .help = "the event horizon cache: compress items that cooled (LZ4, then LZ4-HC) in the"
		 " service step; GETs warm what they read (docs/storage.md, Tiers)"},
	{.name = "evict", .kind = OPT_ONOFF, .meta = "on|off", .def = "off", CFG(evict),
	 .help = "with --tiers on, a PUT that finds the shard full deletes its coldest items,"
		 " as a cache does; only without --data-dir or with weak writes by default"},
	{.name = "tier-dict", .kind = OPT_ONOFF, .meta = "on|off", .def = "on", CFG(tier_dict),
	 .help = "the compressed tiers compress against a 32 KiB dictionary each shard samples"
		 " from the values it compresses first (off: each value alone; docs/storage.md,"
		 " Tiers)"},
	{.name = "disk-tier", .kind = OPT_ONOFF, .meta = "on|off", .def = "off", CFG(disk_tier),
	 .help = "with --tiers on and --data-dir: the singularity, items that cooled go to an"
		 " archive file per worker when the arena's room falls under 10%; a GET reads them"
		 " back (docs/storage.md, The disk tier)"},
	{.name = "disk-tier-mb", .kind = OPT_U64, .meta = "MIB", .def = "4096", .unit = "MiB",
	 .min = 1, .max = 1u << 24, .scale = 1u << 20, CFG(disk_tier_bytes),
	 .help = "per worker: the most the archive file may hold (rebuilt at each start; cut"
		 " into segments whose dead records' space is used again, a cleaner copying the"
		 " live ones out of mostly dead segments)"},
	{.name = "reflect", .kind = OPT_FLAG, .def = "off", CFG(reflect),
	 .help = "echo every UDP datagram unread: the packet-path baseline of the benchmarks"},
	{.name = "no-flow", .kind = OPT_FLAG, .def = "off", CFG(no_flow),
	 .help = "do not try rte_flow steering by UDP port"},
	{.name = "data-dir", .kind = OPT_STRING, .meta = "DIR", .def = "none",
	 .flags = OPT_DEF_TEXT, CFG(data_dir),
	 .help = "keep the data in DIR: write-ahead log, recovery at start (see \"Keeping data\""
		 " in docs/operations.md); without it everything lives in memory only"},
	{.name = "wal-ring-mb", .kind = OPT_U64, .meta = "MIB", .def = "32", .unit = "MiB",
	 .min = 1, .max = 1024, .scale = 1u << 20, .flags = OPT_POW2, CFG(wal_ring_bytes),
	 /* 32 MiB: ~0.3 s of eventual writes at 1 M/s rides out the disk's flush stalls */
	 .help = "per worker: the ring of log records on their way to the writer; full means "
		 "BUSY. 32 MiB hold about 0.3 s of eventual writes at 1 M/s, more than the "
		 "longest flush stall seen (about 0.1 s)"},
	{.name = "park-capacity", .kind = OPT_U64, .meta = "N", .def = "65536", .unit = "answers",
	 .min = 2, .max = 1u << 24, .flags = OPT_POW2, CFG(park_capacity),
	 /* 65536 56-byte entries: 3.5 MiB; 0.1 s of strong writes at 0.6 M/s */
	 .help = "per worker: STRONG answers held until durable; full means BUSY. 65536 "
		 "entries (3.5 MiB) hold 0.1 s of strong writes at 0.6 M/s"},
	{.name = "control-socket", .kind = OPT_STRING, .meta = "PATH", CFG(control_socket),
	 .help = "serve control commands (JSON lines) on a Unix socket (mode 0600, owner "
		 "only); see \"Control socket\" in docs/operations.md"},
	{.name = "checkpoint-interval-s", .kind = OPT_U64, .meta = "S", .def = "0", .unit = "s",
	 .min = 0, .max = 86400, CFG(checkpoint_interval_s),
	 .help = "with --data-dir: a checkpoint every S seconds (0: only when asked with "
		 "SIGUSR1)"},
	{.name = "stats-file", .kind = OPT_STRING, .meta = "PATH", .def = "none",
	 .flags = OPT_DEF_TEXT, CFG(stats_file),
	 .help = "write every counter as JSON each interval (atomically: temp file + rename)"},
	{.name = "stats-interval-ms", .kind = OPT_U64, .meta = "MS", .def = "1000", .unit = "ms",
	 .min = 10, .max = 3600000, CFG(stats_interval_ms),
	 .help = "interval of the stats file and of the log line"},
	{.name = "quiet", .kind = OPT_FLAG, .def = "off", CFG(quiet),
	 .help = "no per-interval log line"},
};
const size_t config_n_specs = sizeof(config_specs) / sizeof(config_specs[0]);

void config_print_help(const char *prog)
{
	printf("usage: %s [EAL options] -- [options]\n\noptions:\n", prog);
	opt_print_help(stdout, config_specs, config_n_specs, 0, NULL);
	printf("\nexample: %s --no-pci --vdev=net_af_packet0,iface=veth0 -l 0-1 -- --ip 10.0.0.1\n",
	       prog);
}

void config_print_markdown(void)
{
	opt_print_markdown(stdout, config_specs, config_n_specs);
}

int config_parse(struct config *cfg, int argc, char **argv, char *err, unsigned err_len)
{
	struct opt_result res;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = opt_parse(config_specs, config_n_specs, cfg, argc, argv, 0, false, &res, err,
		       err_len);
	if (rc != 0)
		return rc;
	cfg->help = res.help;
	cfg->help_markdown = res.help_markdown;
	cfg->use_flow = !cfg->no_flow;
	/* 96 bytes an item covers an 8-byte header, a short key and a value of
	 * a few dozen bytes; larger values need --arena-mb. */
	cfg->arena_bytes = cfg->arena_mb ? cfg->arena_mb << 20 : cfg->capacity_items * 96;
	if (cfg->arena_bytes > ARENA_BYTES_MAX) {
		snprintf(err, err_len, "--capacity %" PRIu64 " makes an automatic arena of %" PRIu64
			 " MiB per shard, above the 32768 MiB a shard can hold; give --arena-mb"
			 " (at most 32768) or a smaller --capacity", cfg->capacity_items,
			 cfg->arena_bytes >> 20);
		return -EINVAL;
	}
	if (cfg->disk_tier && (!cfg->tiers || cfg->data_dir == NULL)) {
		snprintf(err, err_len, "--disk-tier on needs --tiers on and --data-dir (the archive"
				       " lives in the data directory; the log keeps every value)");
		return -EINVAL;
	}
	return 0;
}
