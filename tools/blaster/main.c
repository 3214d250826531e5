/* main.c - warp-blaster: parse, set up, preload, run, report, exit status.
 *
 * DESIGN: main only sequences. Options are parsed and checked (options.c,
 * blaster_init) before any socket is opened; the engine named by --engine
 * asks for the address token (native, unless --no-token: handshake.c), then
 * runs each phase over the engine-independent core (blaster.c); the report is
 * printed and written at the end, also after a failed run, so a silent target
 * or wrong values leave evidence behind. Exit status (sysexits.h): 0 ok,
 * 64 bad arguments, 65 wrong values seen, 68 unknown host, 69 the target never
 * answered (the load or the address-token handshake), 71 system error, 73 the JSON file (or
 * the --hgrm file) could not be written.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "blaster.h"
#include "engine.h"
#include "hgrm.h"
#include "we_time.h"
#include "options.h"
#include "we_status.h"

static const struct engine *const main_engines[] = {
	&engine_kernel,
	&engine_dpdk,
};

static volatile sig_atomic_t main_stop;

/* First Ctrl-C: stop issuing, drain, report. A second one kills. */
static void main_on_signal(int sig)
{
	main_stop = 1;
	signal(sig, SIG_DFL);
}

static const struct engine *main_find_engine(const char *name)
{
	for (size_t i = 0; i < sizeof(main_engines) / sizeof(main_engines[0]); i++)
		if (strcmp(main_engines[i]->name, name) == 0)
			return main_engines[i];
	return NULL;
}

static void main_banner(const struct options *o)
{
	const struct blaster_config *bc = &o->bc;
	const struct workload_config *w = &bc->workload;

	printf("warp-blaster: %s protocol to %s port %u", bc->proto == BLASTER_PROTO_NATIVE ?
	       "native" : "memcached", o->server, o->port);
	if (bc->proto == BLASTER_PROTO_NATIVE && bc->workers > 1)
		printf("..%u (%u workers)", o->port + bc->workers - 1, bc->workers);
	if (bc->load == BLASTER_LOAD_OPEN)
		printf(", open loop %.0f req/s %s", bc->rate_per_s,
		       bc->arrival == PACER_POISSON ? "poisson" : "constant");
	else
		printf(", closed loop window %u", bc->window);
	printf(", %llu keys %s", (unsigned long long)w->keys,
	       w->dist == WORKLOAD_DIST_ZIPF ? "zipf" : "uniform");
	if (w->dist == WORKLOAD_DIST_ZIPF)
		printf(":%g", w->zipf_theta);
	printf(", batch %u, %.1fs%s%s\n", bc->batch, (double)bc->duration_ns / 1e9,
	       o->preload ? ", preload" : "", bc->verify ? ", verify" : "");
	fflush(stdout);
}

/* The address-token handshake of a native run (handshake.h). Returns 0 with
 * the token set (or none: an older server without validation), or an exit
 * status after saying why. *mode is what the JSON report records. */
static int main_handshake(const struct engine *eng, void *ctx, struct blaster *b,
			  const struct options *o, const char **mode)
{
	struct handshake h;
	char err[256] = "";
	int rc;

	handshake_begin(&h, we_monotonic_ns(), o->bc.workers);
	rc = eng->handshake(ctx, &h, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "warp-blaster: address-token handshake: %s\n", err);
		return EX_OSERR;
	}
	switch (h.state) {
	case HANDSHAKE_GOT_TOKEN:
		blaster_set_token(b, h.token);
		*mode = "on";
		if (!o->quiet)
			printf("warp-blaster: address token received (%u tr%s)\n", h.tries,
			       h.tries == 1 ? "y" : "ies");
		return 0;
	case HANDSHAKE_UNSUPPORTED:
		blaster_set_token(b, NULL);
		*mode = "unsupported";
		fprintf(stderr, "warp-blaster: note: the server does not know the address-token "
				"handshake (no address validation): requests go without a token\n");
		return 0;
	case HANDSHAKE_WAITING:
		break;
	}
	fprintf(stderr,
		"warp-blaster: no answer to the address-token handshake from %s port %u%s within "
		"%.0f s (%u tries)",
		o->server, o->port, o->bc.workers > 1 ? " and up" : "",
		(double)HANDSHAKE_TIMEOUT_NS / 1e9, h.tries);
	if (h.refused_status)
		fprintf(stderr, ": the server answered %s (%s)", we_status_name(h.refused_status),
			we_status_text(h.refused_status));
	else if (eng->diagnose(ctx))
		fprintf(stderr, ": %s", eng->diagnose(ctx));
	fputs(" (--no-token skips the handshake)\n", stderr);
	return EX_UNAVAILABLE;
}

/* Run one phase; returns 0, or an exit status. */
static int main_phase(const struct engine *eng, void *ctx, struct blaster *b,
		      enum blaster_phase phase, const struct options *o)
{
	char err[256] = "";
	int rc;

	blaster_phase_begin(b, phase, we_monotonic_ns());
	rc = eng->run_phase(ctx, b, err, sizeof(err));
	blaster_phase_end(b, we_monotonic_ns());
	report_print_summary(stdout, b->rep);
	if (rc) {
		fprintf(stderr, "warp-blaster: %s phase stopped: %s\n", b->rep->name, err);
		return EX_OSERR;
	}
	if (b->no_answer) {
		const char *why = eng->diagnose(ctx);

		fprintf(stderr,
			"warp-blaster: no answer from %s port %u%s: %llu request(s) sent in the %s "
			"phase, none answered (--no-answer-s %.1f, --timeout-ms %.0f)%s%s\n",
			o->server, o->port,
			o->bc.proto == BLASTER_PROTO_NATIVE && o->bc.workers > 1 ? " and up" : "",
			(unsigned long long)b->rep->c.sent, b->rep->name,
			(double)o->bc.no_answer_ns / 1e9, (double)o->bc.timeout_ns / 1e6,
			why ? ": " : "", why ? why : "");
		return EX_UNAVAILABLE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct blaster b;
	const struct engine *eng;
	void *ctx;
	const char *why = "";
	const char *token_mode = "off";
	char err[256] = "";
	int status = 0, rc;

	/* "warp-blaster [EAL args] -- [options]": the DPDK engine takes what comes
	 * before "--"; without "--" everything is ours. */
	int sep = 0;

	for (int i = 1; i < argc && sep == 0; i++)
		if (strcmp(argv[i], "--") == 0)
			sep = i;
	if (sep != 0) {
		char *saved = argv[sep];

		argv[sep] = argv[0];
		rc = (int)options_parse(&o, argc - sep, argv + sep, err, sizeof(err));
		argv[sep] = saved;
		o.eal_argc = sep;
	} else {
		rc = (int)options_parse(&o, argc, argv, err, sizeof(err));
		o.eal_argc = 1;
	}
	o.eal_argv = argv;
	switch ((enum options_result)rc) {
	case OPTIONS_HELP:
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "warp-blaster: %s\n", err);
		return EX_USAGE;
	case OPTIONS_OK:
		break;
	}
	o.bc.progress = o.quiet ? NULL : stdout;
	o.bc.log = stderr;
	o.bc.stop = &main_stop;
	eng = main_find_engine(o.engine);
	if (eng == NULL) {
		fprintf(stderr, "warp-blaster: --engine: '%s' is not built in\n", o.engine);
		return EX_USAGE;
	}
	rc = blaster_init(&b, &o.bc, &why);
	if (rc) {
		fprintf(stderr, "warp-blaster: %s\n", why);
		return rc == -EINVAL ? EX_USAGE : EX_OSERR;
	}
	if (o.bc.verify && !o.preload)
		fprintf(stderr, "warp-blaster: note: --verify without --preload checks a key only "
				"after this run has written it\n");
	rc = eng->open(&ctx, &o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "warp-blaster: %s\n", err);
		blaster_fini(&b);
		return rc == -EINVAL ? EX_NOHOST : EX_OSERR;
	}
	signal(SIGINT, main_on_signal);
	signal(SIGTERM, main_on_signal);
	if (!o.quiet)
		main_banner(&o);
	if (o.bc.token)
		status = main_handshake(eng, ctx, &b, &o, &token_mode);
	if (status == 0 && o.preload)
		status = main_phase(eng, ctx, &b, BLASTER_PHASE_PRELOAD, &o);
	if (status == 0 && !main_stop)
		status = main_phase(eng, ctx, &b, BLASTER_PHASE_RUN, &o);
	if (o.json_path) {
		json_t *config = options_json(&o);

		/* What the handshake found: on, off (--no-token, memcached) or
		 * unsupported (an older server). */
		json_object_set_new(config, "address_token", json_string(token_mode));

		rc = report_write_json(o.json_path, config,
				       o.preload ? &b.preload_report : NULL, &b.run_report);
		json_decref(config);
		if (rc) {
			fprintf(stderr, "warp-blaster: --json: cannot write '%s'\n", o.json_path);
			if (status == 0)
				status = EX_CANTCREAT;
		}
	}
	/* The run phase's latency (from the intended send time, as the JSON's
	 * latency_ns) as HdrHistogram's percentile table, in microseconds. */
	if (o.hgrm_path && hgrm_write_file(o.hgrm_path, &b.run_report.latency) != 0) {
		fprintf(stderr, "warp-blaster: --hgrm: cannot write '%s'\n", o.hgrm_path);
		if (status == 0)
			status = EX_CANTCREAT;
	}
	/* The report is out before the engine closes: with --linger, closing
	 * waits for the peer to leave, and a harness stops the peer once it
	 * sees this line. */
	if (o.linger_s != 0) {
		fprintf(stderr, "warp-blaster: run complete; waiting up to %u s for the peer to "
				"leave\n", o.linger_s);
		fflush(stderr);
	}
	eng->close(ctx);
	if (status == 0 && b.run_report.c.wrong_values) {
		fprintf(stderr, "warp-blaster: %llu wrong value(s): the run failed verification\n",
			(unsigned long long)b.run_report.c.wrong_values);
		status = EX_DATAERR;
	}
	blaster_fini(&b);
	return status;
}
