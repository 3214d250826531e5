/* options.c - warp-blaster's option table; parse and check the command line.
 *
 * DESIGN: one table, options_specs, declares each option (name, kind,
 * default, range, unit, help); the shared parser (lib/opt_table.c) checks
 * each value against its row, and --help and docs/blaster.md's table are
 * printed from the same rows, so they cannot disagree. Values that are not
 * plain (a size range, the op mix, the key distribution) have their own
 * parse functions here. Combinations (open vs closed loop, protocol-specific
 * options) are checked after parsing, and blaster_init() checks the rest
 * (sizes that must fit a datagram). Nothing here exits: main() maps the
 * result to an exit code.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "opt_table.h"
#include "parse_num.h"
#include "region_map_file.h"

static enum options_result options_fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum options_result options_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return OPTIONS_ERROR;
}

static bool options_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "B" or "A-B" (base 0: decimal, 0x hex, 0 octal) into two uint32_t fields. */
static bool options_range(const char *s, uint32_t min, uint32_t max, uint32_t *lo,
			  uint32_t *hi)
{
	uint64_t a, b;

	if (parse_num_range(s, 0, max, &a, &b) != 0 || a < min)
		return false;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return true;
}

/* OPT_CUSTOM parsers: dest is the struct workload_config. */
static int options_key_size(const struct opt_spec *spec, const char *arg, void *dest, char *why,
			    size_t why_len)
{
	struct workload_config *w = dest;

	(void)spec;
	if (options_range(arg, 1, WORKLOAD_KEY_MAX, &w->key_size_min, &w->key_size_max))
		return 0;
	snprintf(why, why_len, "B or A-B with 1 <= A <= B <= %u", WORKLOAD_KEY_MAX);
	return -EINVAL;
}

static int options_value_size(const struct opt_spec *spec, const char *arg, void *dest,
			      char *why, size_t why_len)
{
	struct workload_config *w = dest;

	(void)spec;
	if (options_range(arg, 0, WORKLOAD_VALUE_MAX, &w->value_size_min, &w->value_size_max))
		return 0;
	snprintf(why, why_len, "B or A-B with A <= B <= %u", WORKLOAD_VALUE_MAX);
	return -EINVAL;
}

/* "get=95,put=5,delete=0": every op named at most once, weights >= 0. */
static bool options_mix_words(const char *s, struct workload_config *w)
{
	char buf[128];
	char *save = 0, *tok;
	bool seen[3] = {false, false, false};
	double mix[3] = {0, 0, 0};

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(0, ",", &save)) {
		char *eq = strchr(tok, '=');
		double v;
		int op;

		if (eq == NULL)
			return false;
		*eq = '\0';
		if (strcmp(tok, "get") == 0)
			op = 0;
		else if (strcmp(tok, "put") == 0 || strcmp(tok, "set") == 0)
			op = 1;
		else if (strcmp(tok, "delete") == 0 || strcmp(tok, "del") == 0)
			op = 2;
		else
			return false;
		if (seen[op] || !options_double(eq + 1, 0, 1e9, &v))
			return false;
		seen[op] = true;
		mix[op] = v;
	}
	if (mix[0] + mix[1] + mix[2] <= 0)
		return false;
	w->mix_get = mix[0];
	w->mix_put = mix[1];
	w->mix_delete = mix[2];
	return true;
}

static int options_mix(const struct opt_spec *spec, const char *arg, void *dest, char *why,
		       size_t why_len)
{
	(void)spec;
	if (options_mix_words(arg, dest))
		return 0;
	snprintf(why, why_len, "get=W,put=W,delete=W (weights >= 0, not all 0)");
	return -EINVAL;
}

static int options_dist(const struct opt_spec *spec, const char *arg, void *dest, char *why,
			size_t why_len)
{
	struct workload_config *w = dest;
	double theta;

	(void)spec;
	if (strcmp(arg, "uniform") == 0) {
		w->dist = WORKLOAD_DIST_UNIFORM;
		return 0;
	}
	if (strcmp(arg, "zipf") == 0) {
		w->dist = WORKLOAD_DIST_ZIPF;
		w->zipf_theta = 0.99;
		return 0;
	}
	if (strncmp(arg, "zipf:", 5) == 0 && options_double(arg + 5, 0, ZIPF_THETA_MAX, &theta)) {
		w->dist = WORKLOAD_DIST_ZIPF;
		w->zipf_theta = theta;
		return 0;
	}
	snprintf(why, why_len, "uniform or zipf:THETA with THETA in 0..%g", ZIPF_THETA_MAX);
	return -EINVAL;
}

#define O(field) OPT_AT(struct options, field)
#define WORKLOAD .offset = offsetof(struct options, bc.workload), \
		 .size = sizeof(struct workload_config)

static const struct opt_spec options_specs[] = {
	{.name = "engine", .kind = OPT_CHOICE, .meta = "NAME", .def = "kernel",
	 .choices = "kernel|dpdk", O(engine_kind), .help = "packet engine: kernel (UDP sockets) or dpdk (a DPDK port; EAL arguments "
		 "before --)"},
	{.name = "source-ip", .kind = OPT_STRING, .meta = "IP", .def = "server+1",
	 .flags = OPT_DEF_TEXT, O(source_ip), .help = "dpdk engine: our IPv4 address (answered for ARP)"},
	{.name = "port-id", .kind = OPT_U64, .meta = "N", .def = "0", .max = 1023,
	 .flags = OPT_BASE0, O(port_id), .help = "dpdk engine: the ethdev to use"},
	{.name = "link-wait-s", .kind = OPT_U64, .meta = "S", .def = "10", .unit = "s", .min = 1,
	 .max = 3600, .flags = OPT_BASE0, O(link_wait_s),
	 .help = "dpdk engine: wait up to S s for the link (a memif peer) and the server's first"
		 " ARP answer before giving up (a memif client port is started again every 3 s"
		 " while its link stays down)"},
	{.name = "linger", .kind = OPT_U64, .meta = "S", .def = "0", .unit = "s", .max = 3600,
	 .flags = OPT_BASE0, O(linger_s),
	 .help = "dpdk engine: after the report, wait up to S s for the peer to leave"},
	{.name = "server", .kind = OPT_STRING, .meta = "IP", .def = "127.0.0.1", O(server),
	 .help = "target address, IPv4 or IPv6 (a host name is resolved once)"},
	{.name = "port", .kind = OPT_U64, .meta = "PORT", .def = "9000 / 11211", .min = 1,
	 .max = 65535, .flags = OPT_BASE0 | OPT_DEF_TEXT, O(port),
	 .help = "native: base port, worker i listens on PORT+i; memcached: its UDP port"},
	{.name = "proto", .kind = OPT_CHOICE, .meta = "P", .def = "native",
	 .choices = "native|memcached", O(bc.proto), .help = "protocol to speak"},
	{.name = "workers", .kind = OPT_U64, .meta = "N", .min = 1, .max = BLASTER_WORKERS_MAX,
	 .flags = OPT_BASE0, O(bc.workers),
	 .help = "native (required): the data plane's worker count; memcached has one port"},
	{.name = "region-map", .kind = OPT_STRING, .meta = "FILE", O(region_map_path),
	 .help = "native: each region's owner from FILE (the regions answer of the data plane "
		 "or warp-control): a key goes to its owner's port; --workers and, unless "
		 "given, --port come from it"},
	{.name = "keys", .kind = OPT_U64, .meta = "N", .def = "100000", .min = 1,
	 .max = WORKLOAD_KEYS_MAX, .flags = OPT_BASE0, O(bc.workload.keys),
	 .help = "number of distinct keys"},
	{.name = "key-size", .kind = OPT_CUSTOM, .meta = "B|A-B", .def = "16", .unit = "bytes",
	 .parse = options_key_size, WORKLOAD, .help = "key length, fixed or a range (1..250); at least 1 + the digits of keys - 1"},
	{.name = "value-size", .kind = OPT_CUSTOM, .meta = "B|A-B", .def = "32", .unit = "bytes",
	 .parse = options_value_size, WORKLOAD, .help = "value length, fixed or a range"},
	{.name = "value-kind", .kind = OPT_CHOICE, .meta = "K", .def = "random",
	 .choices = "random|text|json", O(bc.workload.value_kind),
	 .help = "what values look like: random (printable noise, LZ4 gains nothing), text "
		 "(English-like words) or json (records of one shape); see \"Value kinds\" in "
		 "docs/blaster.md"},
	{.name = "mix", .kind = OPT_CUSTOM, .meta = "OP=W,..", .def = "get=95,put=5",
	 .parse = options_mix, WORKLOAD, .help = "op weights of get, put, delete (any scale; set and del accepted as names)"},
	{.name = "dist", .kind = OPT_CUSTOM, .meta = "D", .def = "uniform", .parse = options_dist,
	 WORKLOAD, .help = "key distribution: uniform or zipf:THETA, THETA in 0..3 (zipf alone is 0.99)"},
	{.name = "rate", .kind = OPT_DOUBLE, .meta = "R", .unit = "requests/s", .dmin = 1e-3,
	 .dmax = 1e9, O(bc.rate_per_s), .help = "open loop: R requests per second (excludes --window)"},
	{.name = "arrival", .kind = OPT_CHOICE, .meta = "A", .def = "poisson",
	 .choices = "constant|poisson", O(bc.arrival), .help = "open-loop gaps: poisson (exponential) or constant"},
	{.name = "window", .kind = OPT_U64, .meta = "W", .def = "64", .min = 1, .max = 1u << 20,
	 .flags = OPT_BASE0, O(bc.window), .help = "closed loop: W requests outstanding"},
	{.name = "batch", .kind = OPT_U64, .meta = "B", .def = "1", .min = 1,
	 .max = PROTO_BATCH_MAX, .flags = OPT_BASE0, O(bc.batch),
	 .help = "native: up to B requests per datagram, all for one worker"},
	{.name = "burst", .kind = OPT_U64, .meta = "N", .def = "32", .min = 1,
	 .max = BLASTER_BURST_MAX, .flags = OPT_BASE0, O(bc.burst),
	 .help = "datagrams per sendmmsg/recvmmsg call"},
	{.name = "duration", .kind = OPT_DOUBLE, .meta = "S", .def = "10", .unit = "s",
	 .dmin = 0.001, .dmax = 1e6, O(duration_s), .help = "seconds of load (the preload is extra)"},
	{.name = "timeout-ms", .kind = OPT_DOUBLE, .meta = "MS", .def = "1000", .unit = "ms",
	 .dmin = 0.001, .dmax = 3.6e6, O(timeout_ms),
	 .help = "a request unanswered this long is counted as timed out"},
	{.name = "no-answer-s", .kind = OPT_DOUBLE, .meta = "S", .def = "3", .unit = "s",
	 .dmin = 0.001, .dmax = 3600, O(no_answer_s),
	 .help = "nothing answered S seconds after the first send: give up, exit 69"},
	{.name = "interval-ms", .kind = OPT_DOUBLE, .meta = "MS", .def = "1000", .unit = "ms",
	 .dmin = 0.001, .dmax = 3.6e6, O(interval_ms), .help = "progress line and sample interval"},
	{.name = "seed", .kind = OPT_U64, .meta = "X", .def = "1", .max = UINT64_MAX,
	 .flags = OPT_BASE0, O(bc.workload.seed),
	 .help = "seed of every random choice (ops, keys, Poisson gaps); same seed, same run"},
	{.name = "verify", .kind = OPT_FLAG, .def = "off", O(bc.verify),
	 .help = "check every GET answer; any wrong value fails the run (exit 65)"},
	{.name = "fill-on-miss", .kind = OPT_FLAG, .def = "off", O(bc.fill_on_miss),
	 .help = "cache-aside: a GET answered NOT_FOUND is followed by a PUT of that key (counted "
		 "as fills), as a client of a cache refills it from its database"},
	{.name = "preload", .kind = OPT_FLAG, .def = "off", O(preload),
	 .help = "PUT every key once, in index order, before the run"},
	{.name = "preload-window", .kind = OPT_U64, .meta = "W", .def = "64", .min = 1,
	 .max = 1u << 20, .flags = OPT_BASE0, O(bc.preload_window),
	 .help = "outstanding requests during the preload"},
	{.name = "durability", .kind = OPT_CHOICE, .meta = "D", .def = "default",
	 .choices = "default|strong|eventual|weak", O(bc.durability),
	 .help = "native: the durability of every request"},
	{.name = "json", .kind = OPT_STRING, .meta = "FILE", O(json_path),
	 .help = "write the JSON report to FILE"},
	{.name = "hgrm", .kind = OPT_STRING, .meta = "FILE", O(hgrm_path),
	 .help = "write the run phase's latency histogram to FILE as HdrHistogram's percentile"
		 " table, values in microseconds (see \"Latency table\" in docs/blaster.md)"},
	{.name = "quiet", .kind = OPT_FLAG, .def = "off", O(quiet), .help = "no banner and no progress lines (summaries still print)"},
	{.name = "no-spin", .kind = OPT_FLAG, .def = "off", O(no_spin),
	 .help = "sleep in ppoll() when idle instead of busy-polling"},
	{.name = "no-token", .kind = OPT_FLAG, .def = "off", O(no_token),
	 .help = "native: skip the address-token handshake; requests go without a token (a "
		 "validating server then withholds large answers: need_token)"},
};
#define OPTIONS_N (sizeof(options_specs) / sizeof(options_specs[0]))

void options_usage(FILE *out)
{
	fprintf(out, "usage: warp-blaster [options]\n"
		     "Load a WarpEngine data plane (or memcached) over UDP and measure it.\n\n");
	opt_print_help(out, options_specs, OPTIONS_N, 0, NULL);
	fprintf(out, "\nExit status: 0 ok, 64 bad arguments, 65 wrong values seen, "
		     "69 target never answered, 71 system error.\n");
}

static bool options_seen(const struct opt_result *res, const char *name)
{
	int i = opt_find(options_specs, OPTIONS_N, name);

	return i >= 0 && res->seen[i];
}

/* --region-map (native only): owners, worker count and, unless --port,
 * the base port from the file; a --workers that disagrees is an error. */
static enum options_result options_region_map(struct options *o, const struct opt_result *res,
					      char *err, size_t len)
{
	struct blaster_config *bc = &o->bc;
	char why[240];
	uint16_t port;

	if (bc->proto != BLASTER_PROTO_NATIVE)
		return options_fail(err, len, "--region-map: native protocol only");
	if (region_map_file_load(o->region_map_path, &o->region_map, &port, why, sizeof(why)))
		return options_fail(err, len, "--region-map: %s", why);
	if (o->region_map.n_workers > BLASTER_WORKERS_MAX)
		return options_fail(err, len, "--region-map: %u workers, more than %u",
				    o->region_map.n_workers, BLASTER_WORKERS_MAX);
	if (options_seen(res, "workers") && bc->workers != o->region_map.n_workers)
		return options_fail(err, len, "--workers %u disagrees with --region-map's %u workers",
				    bc->workers, o->region_map.n_workers);
	bc->workers = o->region_map.n_workers;
	bc->region_map = &o->region_map;
	if (!options_seen(res, "port"))
		o->port = port;
	return OPTIONS_OK;
}

/* Checks that need several options, and what follows from them. */
static enum options_result options_combine(struct options *o, const struct opt_result *res,
					   char *err, size_t len)
{
	struct blaster_config *bc = &o->bc;
	bool port_set = options_seen(res, "port");

	o->engine = o->engine_kind == 0 ? "kernel" : "dpdk";
	o->spin = !o->no_spin;
	bc->token = !o->no_token;
	bc->duration_ns = (uint64_t)(o->duration_s * 1e9);
	bc->timeout_ns = (uint64_t)(o->timeout_ms * 1e6);
	bc->no_answer_ns = (uint64_t)(o->no_answer_s * 1e9);
	bc->progress_interval_ns = (uint64_t)(o->interval_ms * 1e6);
	if (options_seen(res, "rate")) {
		if (options_seen(res, "window"))
			return options_fail(err, len,
					    "--rate and --window exclude each other: open loop or "
					    "closed loop");
		bc->load = BLASTER_LOAD_OPEN;
	}
	if (o->region_map_path) {
		enum options_result r = options_region_map(o, res, err, len);

		if (r != OPTIONS_OK)
			return r;
	}
	if (bc->proto == BLASTER_PROTO_NATIVE) {
		if (bc->workers == 0)
			return options_fail(err, len,
					    "--workers: the native protocol needs the data plane's "
					    "worker count (worker i listens on --port + i)");
		if (!port_set && !bc->region_map)
			o->port = 9000;
		if ((uint32_t)o->port + bc->workers - 1 > 65535)
			return options_fail(err, len, "--port %u + --workers %u runs past port 65535",
					    o->port, bc->workers);
	} else {
		if (!port_set)
			o->port = 11211;
		if (bc->workers > 1)
			return options_fail(err, len, "--workers: memcached has a single port");
		if (bc->batch != 1)
			return options_fail(err, len,
					    "--batch: memcached mode sends one request per datagram");
		if (bc->durability != PROTO_DUR_DEFAULT)
			return options_fail(err, len, "--durability: native protocol only");
		bc->workers = 1;
		bc->token = false; /* memcached has no address tokens */
	}
	return OPTIONS_OK;
}

enum options_result options_parse(struct options *o, int argc, char **argv, char *err,
				  size_t err_len)
{
	struct opt_result res;

	memset(o, 0, sizeof(*o));
	if (opt_parse(options_specs, OPTIONS_N, o, argc, argv, 0, false, &res, err, err_len) != 0)
		return OPTIONS_ERROR;
	if (res.help) {
		options_usage(stdout);
		return OPTIONS_HELP;
	}
	if (res.help_markdown) {
		opt_print_markdown(stdout, options_specs, OPTIONS_N);
		return OPTIONS_HELP;
	}
	return options_combine(o, &res, err, err_len);
}

static const char *options_durability_name(uint8_t d)
{
	static const char *const names[] = {"default", "strong", "eventual", "weak"};

	return d < 4 ? names[d] : "?";
}

static const char *options_value_kind_name(enum workload_value_kind k)
{
	static const char *const names[] = {"random", "text", "json"};

	return (unsigned)k < 3 ? names[k] : "?";
}

json_t *options_json(const struct options *o)
{
	const struct blaster_config *bc = &o->bc;
	const struct workload_config *w = &bc->workload;

	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:[i,i], s:[i,i], s:s, s:{s:f,s:f,s:f},"
			 " s:s, s:f, s:s, s:f, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:I,"
			 " s:b, s:b, s:b, s:s, s:b}",
			 "engine", o->engine, "server", o->server, "port", (int)o->port,
			 "proto", bc->proto == BLASTER_PROTO_NATIVE ? "native" : "memcached",
			 "workers", (int)bc->workers, "keys", (json_int_t)w->keys,
			 "key_size", (int)w->key_size_min, (int)w->key_size_max,
			 "value_size", (int)w->value_size_min, (int)w->value_size_max,
			 "value_kind", options_value_kind_name(w->value_kind),
			 "mix", "get", w->mix_get, "put", w->mix_put, "delete", w->mix_delete,
			 "dist", w->dist == WORKLOAD_DIST_ZIPF ? "zipf" : "uniform",
			 "zipf_theta", w->dist == WORKLOAD_DIST_ZIPF ? w->zipf_theta : 0.0,
			 "load", bc->load == BLASTER_LOAD_OPEN ? "open" : "closed",
			 "rate_per_s", bc->load == BLASTER_LOAD_OPEN ? bc->rate_per_s : 0.0,
			 "arrival", bc->arrival == PACER_POISSON ? "poisson" : "constant",
			 "window", (int)bc->window, "preload_window", (int)bc->preload_window,
			 "batch", (int)bc->batch, "burst", (int)bc->burst,
			 "duration_s", (double)bc->duration_ns / 1e9,
			 "timeout_ms", (double)bc->timeout_ns / 1e6,
			 "no_answer_s", (double)bc->no_answer_ns / 1e9,
			 "seed", (json_int_t)w->seed, "verify", bc->verify,
			 "fill_on_miss", bc->fill_on_miss, "preload", o->preload,
			 "durability", options_durability_name(bc->durability), "token", bc->token);
}
