/* options.c - parse and check warp-blaster's command line.
 *
 * DESIGN: one table, OPTIONS_LIST, declares each option (name, argument,
 * default, help); it yields the getopt_long table, the ids of the switch
 * below and the --help text, so they cannot disagree. Each value is checked
 * where it is parsed and an error names the option, the value and what was
 * expected; combinations (open vs closed loop, protocol-specific options) are
 * checked at the end, and blaster_init() checks the rest (sizes that must fit
 * a datagram). Nothing here exits: main() maps the result to an exit code.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse_num.h"

/* X(id, name, argument, default, help) */
#define OPTIONS_LIST(X)                                                                      \
	X(ENGINE, "engine", "NAME", "kernel", "packet engine: kernel (UDP sockets) | dpdk")      \
	X(SOURCE_IP, "source-ip", "IP", "server+1", "dpdk engine: our IPv4 address")            \
	X(PORT_ID, "port-id", "N", "0", "dpdk engine: the DPDK port (ethdev) to use")           \
	X(LINGER, "linger", "S", "0", "dpdk engine: after the report, wait up to S s for the peer to leave") \
	X(SERVER, "server", "IP", "127.0.0.1", "target address (IPv4 or IPv6)")                 \
	X(PORT, "port", "PORT", "9000 / 11211",                                                 \
	  "native: base port, worker i listens on PORT+i; memcached: its UDP port")            \
	X(PROTO, "proto", "P", "native", "native | memcached")                                  \
	X(WORKERS, "workers", "N", "-", "native: the data plane's worker count (required)")    \
	X(KEYS, "keys", "N", "100000", "number of distinct keys")                              \
	X(KEY_SIZE, "key-size", "B|A-B", "16", "key length in bytes, fixed or a range")         \
	X(VALUE_SIZE, "value-size", "B|A-B", "32", "value length in bytes, fixed or a range")   \
	X(MIX, "mix", "OP=W,..", "get=95,put=5", "op mix: weights of get, put, delete")        \
	X(DIST, "dist", "D", "uniform", "key distribution: uniform | zipf:THETA (0..3)")       \
	X(RATE, "rate", "R", "-", "open loop: R requests per second")                         \
	X(ARRIVAL, "arrival", "A", "poisson", "open loop gaps: poisson | constant")             \
	X(WINDOW, "window", "W", "64", "closed loop: W requests outstanding")                  \
	X(BATCH, "batch", "B", "1", "native: up to B requests per datagram (one worker)")       \
	X(BURST, "burst", "N", "32", "datagrams per send/receive call")                        \
	X(DURATION, "duration", "S", "10", "seconds of load (after the preload)")              \
	X(TIMEOUT_MS, "timeout-ms", "MS", "1000", "a request unanswered this long times out")  \
	X(NO_ANSWER_S, "no-answer-s", "S", "3", "give up if nothing at all is answered in S s") \
	X(INTERVAL_MS, "interval-ms", "MS", "1000", "progress line and sample interval")        \
	X(SEED, "seed", "X", "1", "seed of every random choice; same seed, same run")          \
	X(VERIFY, "verify", 0, "off", "check every GET answer; a wrong value fails the run")   \
	X(PRELOAD, "preload", 0, "off", "PUT every key once before the run")                   \
	X(PRELOAD_WINDOW, "preload-window", "W", "64", "preload: W requests outstanding")     \
	X(DURABILITY, "durability", "D", "default",                                             \
	  "native: default | strong | eventual | weak, per request")                          \
	X(JSON, "json", "FILE", "-", "write the JSON report to FILE")                          \
	X(HGRM, "hgrm", "FILE", "-",                                                            \
	  "write the run's latency histogram to FILE as HdrHistogram percentiles, in us")    \
	X(QUIET, "quiet", 0, "off", "no progress lines")                                       \
	X(NO_SPIN, "no-spin", 0, "off", "sleep in poll() when idle instead of busy-polling")   \
	X(NO_TOKEN, "no-token", 0, "off",                                                       \
	  "native: no address-token handshake; requests go without a token")                  \
	X(HELP, "help", 0, "", "this text")

enum options_id {
#define OPTIONS_ENUM(id, name, arg, def, help) OPT_##id,
	OPTIONS_LIST(OPTIONS_ENUM)
#undef OPTIONS_ENUM
	OPT_COUNT
};

static const struct option options_long[] = {
#define OPTIONS_GETOPT(id, name, arg, def, help) {name, (arg) ? 1 : 0, 0, 256 + OPT_##id},
	OPTIONS_LIST(OPTIONS_GETOPT)
#undef OPTIONS_GETOPT
	{0, 0, 0, 0},
};

void options_usage(FILE *out)
{
	fprintf(out, "usage: warp-blaster [options]\n"
		     "Load a WarpEngine data plane (or memcached) over UDP and measure it.\n\n");
#define OPTIONS_HELP(id, name, arg, def, help)                                          \
	fprintf(out, "  --%-15s %-9s %s%s%s%s\n", name, (arg) ? (const char *)(arg) : "", help, \
		def[0] ? " [" : "", def, def[0] ? "]" : "");
	OPTIONS_LIST(OPTIONS_HELP)
#undef OPTIONS_HELP
	fprintf(out, "\nExit status: 0 ok, 64 bad arguments, 65 wrong values seen, "
		     "69 target never answered, 71 system error.\n");
}

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

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* "B" or "A-B" (base 0: decimal, 0x hex, 0 octal) into two uint32_t fields. */
static bool options_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	uint64_t a, b;

	if (parse_num_range(s, 0, max, &a, &b) != 0)
		return false;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return true;
}

/* "get=95,put=5,delete=0": every op named at most once, weights >= 0. */
static bool options_mix(const char *s, struct workload_config *w)
{
	char buf[128];
	char *save = 0, *tok;
	bool seen[3] = {false, false, false};

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	w->mix_get = w->mix_put = w->mix_delete = 0;
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
		*(op == 0 ? &w->mix_get : op == 1 ? &w->mix_put : &w->mix_delete) = v;
	}
	return w->mix_get + w->mix_put + w->mix_delete > 0;
}

static void options_defaults(struct options *o)
{
	struct blaster_config *bc = &o->bc;

	memset(o, 0, sizeof(*o));
	o->engine = "kernel";
	o->server = "127.0.0.1";
	o->spin = true;
	bc->proto = BLASTER_PROTO_NATIVE;
	bc->load = BLASTER_LOAD_CLOSED;
	bc->arrival = PACER_POISSON;
	bc->window = 64;
	bc->preload_window = 64;
	bc->batch = 1;
	bc->token = true;
	bc->burst = 32;
	bc->duration_ns = 10ull * 1000000000;
	bc->timeout_ns = 1000ull * 1000000;
	bc->no_answer_ns = 3ull * 1000000000;
	bc->progress_interval_ns = 1000ull * 1000000;
	bc->workload.keys = 100000;
	bc->workload.key_size_min = bc->workload.key_size_max = 16;
	bc->workload.value_size_min = bc->workload.value_size_max = 32;
	bc->workload.mix_get = 95;
	bc->workload.mix_put = 5;
	bc->workload.dist = WORKLOAD_DIST_UNIFORM;
	bc->workload.seed = 1;
}

/* One option's value into o; OPTIONS_OK or an error naming it. */
static enum options_result options_one(struct options *o, int id, const char *v, char *err,
				       size_t len, bool *port_set, bool *window_set)
{
	struct blaster_config *bc = &o->bc;
	struct workload_config *w = &bc->workload;
	uint64_t u;
	double d;

	switch (id) {
	case OPT_ENGINE:
		o->engine = v;
		break;
	case OPT_SERVER:
		o->server = v;
		break;
	case OPT_SOURCE_IP:
		o->source_ip = v;
		break;
	case OPT_PORT_ID:
		if (parse_num_u64(v, 0, 0, 1023, &u))
			return options_fail(err, len, "--port-id: '%s' is not a port index 0..1023",
					    v);
		o->port_id = (uint16_t)u;
		break;
	case OPT_LINGER:
		if (parse_num_u64(v, 0, 0, 3600, &u) != 0)
			return options_fail(err, len, "--linger: '%s' is not a duration in 0..3600 s",
					    v);
		o->linger_s = (uint32_t)u;
		break;
	case OPT_PORT:
		if (parse_num_u64(v, 0, 1, 65535, &u))
			return options_fail(err, len, "--port: '%s' is not a port in 1..65535", v);
		o->port = (uint16_t)u;
		*port_set = true;
		break;
	case OPT_PROTO:
		if (strcmp(v, "native") == 0)
			bc->proto = BLASTER_PROTO_NATIVE;
		else if (strcmp(v, "memcached") == 0)
			bc->proto = BLASTER_PROTO_MEMCACHED;
		else
			return options_fail(err, len, "--proto: '%s': expected native or memcached",
					    v);
		break;
	case OPT_WORKERS:
		if (parse_num_u64(v, 0, 1, BLASTER_WORKERS_MAX, &u))
			return options_fail(err, len, "--workers: '%s' is not a count in 1..%u", v,
					    BLASTER_WORKERS_MAX);
		bc->workers = (uint16_t)u;
		break;
	case OPT_KEYS:
		if (parse_num_u64(v, 0, 1, WORKLOAD_KEYS_MAX, &u))
			return options_fail(err, len, "--keys: '%s' is not a count in 1..2^40", v);
		w->keys = u;
		break;
	case OPT_KEY_SIZE:
		if (!options_range(v, WORKLOAD_KEY_MAX, &w->key_size_min, &w->key_size_max) ||
		    w->key_size_min == 0)
			return options_fail(err, len,
					    "--key-size: '%s': expected B or A-B, 1 <= A <= B <= 250",
					    v);
		break;
	case OPT_VALUE_SIZE:
		if (!options_range(v, WORKLOAD_VALUE_MAX, &w->value_size_min, &w->value_size_max))
			return options_fail(err, len,
					    "--value-size: '%s': expected B or A-B, A <= B <= %u", v,
					    WORKLOAD_VALUE_MAX);
		break;
	case OPT_MIX:
		if (!options_mix(v, w))
			return options_fail(err, len,
					    "--mix: '%s': expected get=W,put=W,delete=W "
					    "(weights >= 0, not all 0)", v);
		break;
	case OPT_DIST:
		if (strcmp(v, "uniform") == 0) {
			w->dist = WORKLOAD_DIST_UNIFORM;
		} else if (strncmp(v, "zipf:", 5) == 0 &&
			   options_double(v + 5, 0, ZIPF_THETA_MAX, &w->zipf_theta)) {
			w->dist = WORKLOAD_DIST_ZIPF;
		} else if (strcmp(v, "zipf") == 0) {
			w->dist = WORKLOAD_DIST_ZIPF;
			w->zipf_theta = 0.99;
		} else {
			return options_fail(err, len,
					    "--dist: '%s': expected uniform or zipf:THETA, THETA in 0..3",
					    v);
		}
		break;
	case OPT_RATE:
		if (!options_double(v, 1e-3, 1e9, &d))
			return options_fail(err, len,
					    "--rate: '%s' is not a rate in 0.001..1e9 requests/s", v);
		bc->rate_per_s = d;
		bc->load = BLASTER_LOAD_OPEN;
		break;
	case OPT_ARRIVAL:
		if (strcmp(v, "poisson") == 0)
			bc->arrival = PACER_POISSON;
		else if (strcmp(v, "constant") == 0)
			bc->arrival = PACER_CONSTANT;
		else
			return options_fail(err, len, "--arrival: '%s': expected poisson or constant",
					    v);
		break;
	case OPT_WINDOW:
	case OPT_PRELOAD_WINDOW:
		if (parse_num_u64(v, 0, 1, 1u << 20, &u))
			return options_fail(err, len, "--%s: '%s' is not a count in 1..1048576",
					    id == OPT_WINDOW ? "window" : "preload-window", v);
		if (id == OPT_WINDOW) {
			bc->window = (uint32_t)u;
			*window_set = true;
		} else {
			bc->preload_window = (uint32_t)u;
		}
		break;
	case OPT_BATCH:
		if (parse_num_u64(v, 0, 1, PROTO_BATCH_MAX, &u))
			return options_fail(err, len, "--batch: '%s' is not a count in 1..%u", v,
					    PROTO_BATCH_MAX);
		bc->batch = (uint32_t)u;
		break;
	case OPT_BURST:
		if (parse_num_u64(v, 0, 1, BLASTER_BURST_MAX, &u))
			return options_fail(err, len, "--burst: '%s' is not a count in 1..%u", v,
					    BLASTER_BURST_MAX);
		bc->burst = (uint32_t)u;
		break;
	case OPT_DURATION:
		if (!options_double(v, 0.001, 1e6, &d))
			return options_fail(err, len,
					    "--duration: '%s' is not a time in 0.001..1e6 seconds", v);
		bc->duration_ns = (uint64_t)(d * 1e9);
		break;
	case OPT_TIMEOUT_MS:
	case OPT_INTERVAL_MS:
		if (!options_double(v, 0.001, 3.6e6, &d))
			return options_fail(err, len, "--%s: '%s' is not a time in 0.001..3600000 ms",
					    id == OPT_TIMEOUT_MS ? "timeout-ms" : "interval-ms", v);
		*(id == OPT_TIMEOUT_MS ? &bc->timeout_ns : &bc->progress_interval_ns) =
			(uint64_t)(d * 1e6);
		break;
	case OPT_NO_ANSWER_S:
		if (!options_double(v, 0.001, 3600, &d))
			return options_fail(err, len,
					    "--no-answer-s: '%s' is not a time in 0.001..3600 seconds",
					    v);
		bc->no_answer_ns = (uint64_t)(d * 1e9);
		break;
	case OPT_SEED:
		if (parse_num_u64(v, 0, 0, UINT64_MAX, &u))
			return options_fail(err, len, "--seed: '%s' is not an unsigned integer", v);
		w->seed = u;
		break;
	case OPT_VERIFY:
		bc->verify = true;
		break;
	case OPT_PRELOAD:
		o->preload = true;
		break;
	case OPT_DURABILITY:
		if (strcmp(v, "default") == 0)
			bc->durability = PROTO_DUR_DEFAULT;
		else if (strcmp(v, "strong") == 0)
			bc->durability = PROTO_DUR_STRONG;
		else if (strcmp(v, "eventual") == 0)
			bc->durability = PROTO_DUR_EVENTUAL;
		else if (strcmp(v, "weak") == 0)
			bc->durability = PROTO_DUR_WEAK;
		else
			return options_fail(err, len,
					    "--durability: '%s': expected default, strong, eventual "
					    "or weak", v);
		break;
	case OPT_JSON:
		o->json_path = v;
		break;
	case OPT_HGRM:
		o->hgrm_path = v;
		break;
	case OPT_QUIET:
		o->quiet = true;
		break;
	case OPT_NO_SPIN:
		o->spin = false;
		break;
	case OPT_NO_TOKEN:
		bc->token = false;
		break;
	}
	return OPTIONS_OK;
}

/* Checks that need several options. */
static enum options_result options_combine(struct options *o, bool port_set, bool window_set,
					   char *err, size_t len)
{
	struct blaster_config *bc = &o->bc;

	if (strcmp(o->engine, "kernel") != 0 && strcmp(o->engine, "dpdk") != 0)
		return options_fail(err, len, "--engine: '%s': expected kernel or dpdk",
				    o->engine);
	if (bc->load == BLASTER_LOAD_OPEN && window_set)
		return options_fail(err, len,
				    "--rate and --window exclude each other: open loop or closed loop");
	if (bc->proto == BLASTER_PROTO_NATIVE) {
		if (bc->workers == 0)
			return options_fail(err, len,
					    "--workers: the native protocol needs the data plane's "
					    "worker count (worker i listens on --port + i)");
		if (!port_set)
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
	bool port_set = false, window_set = false;
	enum options_result r;
	int c, idx;

	options_defaults(o);
	optind = 0; /* 0, not 1: glibc then resets its state, so parsing can repeat */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", options_long, &idx)) != -1) {
		if (c == '?') {
			if (optopt >= 256)
				return options_fail(err, err_len, "--%s needs a value",
						    options_long[optopt - 256].name);
			return options_fail(err, err_len, "unknown option '%s' (see --help)",
					    argv[optind - 1]);
		}
		if (c == ':')
			return options_fail(err, err_len, "option '%s' needs a value",
					    argv[optind - 1]);
		if (c - 256 == OPT_HELP) {
			options_usage(stdout);
			return OPTIONS_HELP;
		}
		r = options_one(o, c - 256, optarg, err, err_len, &port_set, &window_set);
		if (r != OPTIONS_OK)
			return r;
	}
	if (optind < argc)
		return options_fail(err, err_len, "unexpected argument '%s' (options start with --)",
				    argv[optind]);
	return options_combine(o, port_set, window_set, err, err_len);
}

static const char *options_durability_name(uint8_t d)
{
	static const char *const names[] = {"default", "strong", "eventual", "weak"};

	return d < 4 ? names[d] : "?";
}

json_t *options_json(const struct options *o)
{
	const struct blaster_config *bc = &o->bc;
	const struct workload_config *w = &bc->workload;

	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:[i,i], s:[i,i], s:{s:f,s:f,s:f},"
			 " s:s, s:f, s:s, s:f, s:s, s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:I,"
			 " s:b, s:b, s:s, s:b}",
			 "engine", o->engine, "server", o->server, "port", (int)o->port,
			 "proto", bc->proto == BLASTER_PROTO_NATIVE ? "native" : "memcached",
			 "workers", (int)bc->workers, "keys", (json_int_t)w->keys,
			 "key_size", (int)w->key_size_min, (int)w->key_size_max,
			 "value_size", (int)w->value_size_min, (int)w->value_size_max,
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
			 "seed", (json_int_t)w->seed, "verify", bc->verify, "preload", o->preload,
			 "durability", options_durability_name(bc->durability), "token", bc->token);
}
