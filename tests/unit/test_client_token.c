/* test_client_token.c - warp-client's address-token handshake: the state
 * machine alone on a simulated clock (first handshake, retries with their
 * back-off over rotating ports, giving up, refresh, older servers, which
 * NEED_TOKEN answers ask for a new token), then the commands end to end over
 * loopback against the fake server (tests/unit/client_fake_server.c) in
 * each of its token modes: one handshake, the token on every datagram, a
 * re-handshake and the withheld entries retried when the token changes, the
 * fallback to plain requests for an older server (the op or the flag
 * refused) and for a handshake nobody answers, and --no-token. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_cmd.h"
#include "client_fake_server.h"
#include "client_token.h"

#define MS 1000000ull

static const uint8_t tok_a[PROTO_TOKEN_SIZE] = "token-number-a!";
static const uint8_t tok_b[PROTO_TOKEN_SIZE] = "token-number-b!";

/* ---- the state machine ------------------------------------------------- */

/* Release the next handshake try at now; check it is one plain TOKEN entry
 * with the handshake's echo, and return the worker it goes to. */
static uint16_t tok_send(struct client_token *k, uint64_t now)
{
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	const uint8_t *buf;
	uint32_t len;
	uint16_t worker = 0xeeee;
	unsigned n;

	assert_true(client_token_next_tx(k, now, true, &buf, &len, &worker));
	assert_int_equal(proto_decode_batch(buf, len, &hdr, e, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.echo, k->echo);
	assert_int_equal(hdr.echo & 0xffff, CLIENT_TOKEN_SLOT);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].op, PROTO_OP_TOKEN);
	assert_int_equal(e[0].status, WE_STATUS_OK);
	return worker;
}

/* Hand k an answer to its handshake: one entry (status, value) or, with
 * entry false, a header-only reply with that status. */
static bool tok_answer(struct client_token *k, uint64_t echo, bool entry, uint8_t status,
		       const uint8_t *value, uint32_t value_len)
{
	struct proto_request e[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	struct proto_writer w;
	uint8_t buf[PROTO_PAYLOAD_MAX];
	unsigned n;
	uint32_t len;

	proto_writer_init(&w, buf, sizeof(buf), PROTO_F_RESPONSE, echo);
	if (entry)
		proto_writer_append(&w, PROTO_OP_TOKEN, 0, status, 0, NULL, 0, value, value_len);
	else
		proto_writer_set_status(&w, status);
	len = proto_writer_finish(&w);
	assert_int_equal(proto_decode_response(buf, len, &hdr, e, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	return client_token_rx(k, &hdr, e, n);
}

/* --no-token: nothing is ever sent, nothing waits, NEED_TOKEN is final. */
static void test_token_off(void **state)
{
	struct client_token k;
	const uint8_t *buf;
	uint32_t len;
	uint16_t worker;

	(void)state;
	client_token_init(&k, false, 1, 2, 10 * MS, 3);
	assert_false(client_token_next_tx(&k, 0, true, &buf, &len, &worker));
	assert_false(client_token_blocks(&k));
	assert_null(client_token_get(&k));
	assert_false(client_token_need(&k, 0));
	assert_int_equal(client_token_expire(&k, 0), UINT64_MAX);
	assert_string_equal(client_token_state_name(&k), "off");
}

/* The first handshake: none before there is a request; requests wait while
 * it is out; an OK answer gives the token and lets them go; a refresh is due
 * CLIENT_TOKEN_REFRESH_NS after the first try, and while it is out the old
 * token is still used. */
static void test_token_first_and_refresh(void **state)
{
	const uint64_t t0 = 1000 * MS;
	struct client_token k;
	const uint8_t *buf;
	uint32_t len;
	uint16_t worker;
	uint64_t echo;

	(void)state;
	client_token_init(&k, true, 0xabcd, 3, 10 * MS, 3);
	assert_true(client_token_blocks(&k));
	assert_false(client_token_next_tx(&k, t0, false, &buf, &len, &worker));
	assert_int_equal(tok_send(&k, t0), 0);
	assert_int_equal(k.echo >> 48, 0xabcd);
	assert_true(client_token_blocks(&k));
	assert_false(client_token_next_tx(&k, t0, true, &buf, &len, &worker));
	assert_int_equal(client_token_expire(&k, t0 + 5 * MS), t0 + 10 * MS);
	assert_false(tok_answer(&k, k.echo + (1 << 16), true, WE_STATUS_OK, tok_b, 16));
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_a, 16));
	assert_false(client_token_blocks(&k));
	assert_memory_equal(client_token_get(&k), tok_a, PROTO_TOKEN_SIZE);
	assert_int_equal(k.gen, 1);
	assert_string_equal(client_token_state_name(&k), "on");
	assert_int_equal(client_token_expire(&k, t0 + 50 * MS), UINT64_MAX);
	/* A late copy changes nothing. */
	assert_false(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_b, 16));
	assert_memory_equal(client_token_get(&k), tok_a, PROTO_TOKEN_SIZE);

	assert_false(client_token_next_tx(&k, t0 + CLIENT_TOKEN_REFRESH_NS - 1, true, &buf, &len,
					  &worker));
	assert_false(client_token_next_tx(&k, t0 + CLIENT_TOKEN_REFRESH_NS, false, &buf, &len,
					  &worker));
	echo = k.echo;
	tok_send(&k, t0 + CLIENT_TOKEN_REFRESH_NS);
	assert_int_not_equal(k.echo, echo);
	assert_false(client_token_blocks(&k));
	assert_memory_equal(client_token_get(&k), tok_a, PROTO_TOKEN_SIZE);
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_b, 16));
	assert_memory_equal(client_token_get(&k), tok_b, PROTO_TOKEN_SIZE);
	assert_int_equal(k.gen, 2);
	assert_int_equal(k.sent, 2);
	assert_int_equal(k.received, 2);
}

/* No answer: tries wait timeout x 1, 2, 4, 4, rotate over the ports, and
 * after retries + 1 tries the client goes on without (FAILED, plain). A
 * NEED_TOKEN later asks again. A refresh with no answer keeps the token. */
static void test_token_no_answer(void **state)
{
	const uint64_t to = 10 * MS;
	const uint64_t waits[] = {1, 2, 4, 4};
	struct client_token k;
	uint64_t now = 0;

	(void)state;
	client_token_init(&k, true, 1, 3, to, 3);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(tok_send(&k, now), i % 3);
		assert_int_equal(client_token_expire(&k, now), now + waits[i] * to);
		assert_int_equal(client_token_expire(&k, now + waits[i] * to - 1),
				 now + waits[i] * to);
		now += waits[i] * to;
		if (i < 3)
			assert_int_equal(client_token_expire(&k, now), now);
	}
	assert_int_equal(client_token_expire(&k, now), UINT64_MAX);
	assert_int_equal(k.state, CLIENT_TOKEN_FAILED);
	assert_false(client_token_blocks(&k));
	assert_null(client_token_get(&k));
	assert_string_equal(client_token_state_name(&k), "failed");
	assert_true(client_token_need(&k, 0));
	assert_true(client_token_blocks(&k));
	tok_send(&k, now);
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_a, 16));

	/* A refresh nobody answers: the token stays, and is refreshed later. */
	now = k.first_sent_ns + CLIENT_TOKEN_REFRESH_NS;
	for (unsigned i = 0; i < 4; i++) {
		tok_send(&k, now);
		now += waits[i] * to;
		client_token_expire(&k, now);
	}
	assert_int_equal(k.state, CLIENT_TOKEN_HAVE);
	assert_memory_equal(client_token_get(&k), tok_a, PROTO_TOKEN_SIZE);
	assert_int_equal(k.refresh_ns, now + CLIENT_TOKEN_REFRESH_NS);
}

/* Older servers: UNKNOWN_OP for the op or a header-only UNSUPPORTED mean no
 * validation; so does the flag refused later. NEED_TOKEN is then final.
 * BUSY waits for the next try; a token of another size is no token. */
static void test_token_older_server(void **state)
{
	struct client_token k;
	static const uint8_t short_token[8] = "short";

	(void)state;
	client_token_init(&k, true, 1, 1, 10 * MS, 3);
	tok_send(&k, 0);
	assert_false(tok_answer(&k, k.echo, true, WE_STATUS_BUSY, NULL, 0));
	assert_false(tok_answer(&k, k.echo, true, WE_STATUS_OK, short_token, 8));
	assert_int_equal(k.rx_invalid, 1);
	assert_int_equal(k.state, CLIENT_TOKEN_ASKING);
	assert_false(tok_answer(&k, k.echo, true, WE_STATUS_UNKNOWN_OP, NULL, 0));
	assert_int_equal(k.state, CLIENT_TOKEN_UNSUPPORTED);
	assert_false(client_token_blocks(&k));
	assert_false(client_token_need(&k, 0));
	assert_string_equal(client_token_state_name(&k), "unsupported");

	client_token_init(&k, true, 1, 1, 10 * MS, 3);
	tok_send(&k, 0);
	assert_false(tok_answer(&k, k.echo, false, WE_STATUS_UNSUPPORTED, NULL, 0));
	assert_int_equal(k.state, CLIENT_TOKEN_UNSUPPORTED);

	client_token_init(&k, true, 1, 1, 10 * MS, 3);
	tok_send(&k, 0);
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_a, 16));
	client_token_refused(&k);
	assert_int_equal(k.state, CLIENT_TOKEN_UNSUPPORTED);
	assert_null(client_token_get(&k));
	assert_false(client_token_need(&k, 1));
}

/* NEED_TOKEN to a datagram sent before the newest token: just resend. To
 * one that carried the newest (or none, none had): that token is bad, new
 * datagrams wait, a new handshake is due. */
static void test_token_need(void **state)
{
	struct client_token k;

	(void)state;
	client_token_init(&k, true, 1, 2, 10 * MS, 3);
	tok_send(&k, 0);
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_a, 16));
	assert_true(client_token_need(&k, 0));
	assert_int_equal(k.state, CLIENT_TOKEN_HAVE);
	assert_non_null(client_token_get(&k));
	assert_true(client_token_need(&k, 1));
	assert_int_equal(k.state, CLIENT_TOKEN_NONE);
	assert_null(client_token_get(&k));
	assert_true(client_token_blocks(&k));
	assert_string_equal(client_token_state_name(&k), "renewing");
	tok_send(&k, 5 * MS);
	assert_true(client_token_need(&k, 1)); /* a second one while asking */
	assert_int_equal(k.state, CLIENT_TOKEN_ASKING);
	assert_true(tok_answer(&k, k.echo, true, WE_STATUS_OK, tok_b, 16));
	assert_int_equal(k.gen, 2);
	assert_true(client_token_need(&k, 1));
	assert_int_equal(k.state, CLIENT_TOKEN_HAVE);
}

/* ---- the commands against the fake server ------------------------------ */

static struct fake_server fake;
static char port_text[8];

struct capture {
	FILE *out, *err;
	char *out_text, *err_text;
	size_t out_len, err_len;
};

static void start_fake(const struct fake_server_cfg *cfg)
{
	assert_int_equal(fake_server_init(&fake, cfg), 0);
	assert_int_equal(fake_server_start(&fake), 0);
	snprintf(port_text, sizeof(port_text), "%u", fake.port_base);
}

static void stop_fake(void)
{
	fake_server_stop(&fake);
	fake_server_fini(&fake);
}

/* Parse "warp-client WORDS... --port <fake>" (NULL-terminated words). */
static void args_for(struct client_args *a, const char *first, ...)
{
	static char *argv[40];
	char err[256];
	int argc = 0;
	va_list ap;

	argv[argc++] = "warp-client";
	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc++] = "--port";
	argv[argc++] = port_text;
	if (client_opts_parse(a, argc, argv, err, sizeof(err)) != 0)
		fail_msg("bad test arguments: %s", err);
}

#define ARGS(a, ...) args_for(a, __VA_ARGS__, (const char *)NULL)

/* Run a command; batch reads `input` (small enough for a pipe's buffer). */
static int run_cmd(const struct client_args *a, const char *input, struct capture *c)
{
	int fds[2] = {-1, -1};
	int rc;

	memset(c, 0, sizeof(*c));
	c->out = open_memstream(&c->out_text, &c->out_len);
	c->err = open_memstream(&c->err_text, &c->err_len);
	assert_non_null(c->out);
	assert_non_null(c->err);
	switch (a->cmd) {
	case CLIENT_CMD_PING:
		rc = client_cmd_ping(a, c->out, c->err);
		break;
	case CLIENT_CMD_LOAD:
		rc = client_cmd_load(a, c->out, c->err);
		break;
	case CLIENT_CMD_BATCH:
		assert_int_equal(pipe(fds), 0);
		assert_int_equal(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
		close(fds[1]);
		rc = client_cmd_batch(a, fds[0], c->out, c->err);
		close(fds[0]);
		break;
	default:
		rc = client_cmd_one(a, c->out, c->err);
		break;
	}
	fclose(c->out);
	fclose(c->err);
	return rc;
}

static void cap_free(struct capture *c)
{
	free(c->out_text);
	free(c->err_text);
}

/* load --json: the report, parsed. */
static json_t *load_json(const struct capture *c)
{
	json_error_t jerr;
	json_t *j = json_loads(c->out_text, 0, &jerr);

	if (!j)
		fail_msg("load --json is not JSON: %s", jerr.text);
	return j;
}

static uint64_t phase_field(json_t *j, const char *phase, const char *field)
{
	return (uint64_t)json_integer_value(
		json_object_get(json_object_get(json_object_get(j, "phases"), phase), field));
}

static uint64_t phases_sum(json_t *j, const char *field)
{
	static const char *const names[] = {"put", "get", "delete", "get_deleted"};
	uint64_t sum = 0;

	for (unsigned p = 0; p < 4; p++)
		sum += phase_field(j, names[p], field);
	return sum;
}

/* A validating server: one handshake for the whole load, then the token on
 * every request datagram, so nothing is withheld though values are large.
 * The JSON says so. */
static void test_cmd_handshake_once(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 3, .token_mode = FAKE_TOKEN_VALIDATE };
	struct client_args a;
	struct capture c;
	json_t *j;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "load", "--keys", "600", "-n", "3", "--value-size", "900-1400", "--json");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	j = load_json(&c);
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_string_equal(json_string_value(json_object_get(j, "address_token")), "on");
	assert_int_equal(phase_field(j, "put", "token_requests"), 1);
	assert_int_equal(phases_sum(j, "token_requests"), 1);
	assert_int_equal(phases_sum(j, "need_token_retries"), 0);
	json_decref(j);
	cap_free(&c);
	assert_int_equal(fake.stats.token_requests, 1);
	assert_int_equal(fake.stats.tokens_issued, 1);
	assert_int_equal(fake.stats.withheld, 0);
	assert_int_equal(fake.stats.without_token, 0);
	assert_int_equal(fake.stats.bad_token, 0);
	assert_int_equal(fake.stats.with_token, fake.stats.requests);
	stop_fake();
}

/* A PUT too large to go beside the token goes without it (its answer is a
 * status); the GET of that value carries the token and gets it whole. */
static void test_cmd_oversized_put(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 1, .token_mode = FAKE_TOKEN_VALIDATE };
	static char value[1444];
	struct client_args a;
	struct capture c;

	(void)state;
	memset(value, 'v', 1440);
	value[1440] = 0; /* key "big" + 1440 = 1443 bytes: fits only without the token */
	start_fake(&cfg);
	ARGS(&a, "put", "big", value);
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	assert_int_equal(fake.stats.without_token, 1);
	ARGS(&a, "get", "big");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	assert_int_equal(c.out_len, 1440);
	cap_free(&c);
	assert_int_equal(fake.stats.with_token, 1);
	assert_int_equal(fake.stats.withheld, 0);
	assert_int_equal(fake.stats.token_requests, 2); /* one per command */
	stop_fake();
}

/* The token changes under a running load (as after a server restart):
 * answers withheld for the stale token make the client fetch a new one and
 * resend exactly those entries, at once; the load still passes. */
static void test_cmd_need_token_retried(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 2, .token_mode = FAKE_TOKEN_VALIDATE,
				       .token_change_every = 25 };
	struct client_args a;
	struct capture c;
	json_t *j;

	(void)state;
	start_fake(&cfg);
	/* A long timeout: a withheld entry goes again as soon as the new token
	 * is in, not at its deadline (waiting for those would pass --deadline). */
	ARGS(&a, "load", "--keys", "1500", "-n", "2", "--value-size", "600", "--json",
	     "--retries", "8", "--batch", "8", "--window", "4", "--timeout", "4000",
	     "--deadline", "16");
	if (run_cmd(&a, NULL, &c) != CLIENT_EXIT_OK)
		fail_msg("load: %s %s", c.out_text, c.err_text);
	j = load_json(&c);
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_true(fake.stats.withheld > 0);
	assert_true(fake.stats.bad_token > 0);
	/* Each withheld answer was retried, and only they were. */
	assert_int_equal(phases_sum(j, "need_token_retries"), fake.stats.withheld);
	assert_int_equal(phase_field(j, "get", "need_token_retries"), fake.stats.withheld);
	assert_true(phases_sum(j, "token_requests") >= 2);
	assert_int_equal(phases_sum(j, "token_requests"), fake.stats.token_requests);
	assert_int_equal(phase_field(j, "get", "wrong_values"), 0);
	assert_string_equal(json_string_value(json_object_get(j, "address_token")), "on");
	json_decref(j);
	cap_free(&c);
	stop_fake();
}

/* An older server answers the op UNKNOWN_OP: the client never sends the
 * flag and everything works plain. One that turns older mid-run refuses the
 * flag (header-only UNSUPPORTED): those requests go again plain, at once. */
static void test_cmd_older_server(void **state)
{
	struct fake_server_cfg old = { .n_workers = 2 };
	struct fake_server_cfg turns = { .n_workers = 2, .token_mode = FAKE_TOKEN_ISSUE,
					 .token_mode_after = 10,
					 .token_mode_next = FAKE_TOKEN_OLD };
	struct client_args a;
	struct capture c;
	json_t *j;

	(void)state;
	start_fake(&old);
	ARGS(&a, "-n", "2", "put", "k", "v");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	ARGS(&a, "load", "--keys", "300", "-n", "2", "--json");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	j = load_json(&c);
	assert_string_equal(json_string_value(json_object_get(j, "address_token")),
			    "unsupported");
	json_decref(j);
	cap_free(&c);
	assert_int_equal(fake.stats.token_requests, 2);
	assert_int_equal(fake.stats.flag_refused, 0);
	assert_int_equal(fake.stats.with_token + fake.stats.bad_token, 0);
	stop_fake();

	start_fake(&turns);
	ARGS(&a, "load", "--keys", "2000", "-n", "2", "--json", "--retries", "0", "--batch",
	     "4", "--window", "4");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	j = load_json(&c);
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_string_equal(json_string_value(json_object_get(j, "address_token")),
			    "unsupported");
	assert_int_equal(phase_field(j, "put", "rx_batch_error"), fake.stats.flag_refused);
	json_decref(j);
	cap_free(&c);
	assert_true(fake.stats.flag_refused >= 1);
	assert_int_equal(fake.stats.with_token, 10);
	assert_true(fake.stats.without_token > 100);
	stop_fake();
}

/* --no-token against a validating server: no handshake; a small value is
 * served, a large one is withheld and reported by name (get: exit 2; batch:
 * ERROR NEED_TOKEN), not retried. */
static void test_cmd_no_token(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 1, .token_mode = FAKE_TOKEN_VALIDATE };
	static char value[1001];
	struct client_args a;
	struct capture c;

	(void)state;
	memset(value, 'x', 1000);
	start_fake(&cfg);
	ARGS(&a, "put", "large", value);
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	ARGS(&a, "put", "small", "tiny");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	ARGS(&a, "get", "large", "--no-token");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_STATUS);
	assert_non_null(strstr(c.err_text, "get large: NEED_TOKEN (answer withheld"));
	cap_free(&c);
	assert_int_equal(fake.stats.withheld, 1);
	ARGS(&a, "batch", "--no-token");
	assert_int_equal(run_cmd(&a, "get small\nget large\n", &c), CLIENT_EXIT_STATUS);
	assert_string_equal(c.out_text, "VALUE tiny\nERROR NEED_TOKEN\n");
	cap_free(&c);
	assert_int_equal(fake.stats.withheld, 2);
	assert_int_equal(fake.stats.token_requests, 2); /* the two puts only */
	stop_fake();
}

/* Nobody answers the handshake: after its tries the client goes on plain
 * (a small answer comes through); a large answer withheld asks once more
 * per try and ends NEED_TOKEN when the tries run out. */
static void test_cmd_handshake_unanswered(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 2, .token_mode = FAKE_TOKEN_VALIDATE,
				       .token_silent = true };
	static char value[1001];
	struct client_args a;
	struct capture c;

	(void)state;
	memset(value, 'y', 1000);
	start_fake(&cfg);
	ARGS(&a, "-n", "2", "put", "k", value, "--timeout", "10", "--retries", "1");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	assert_int_equal(fake.stats.token_requests, 2);
	assert_int_equal(fake.stats.without_token, 1);
	ARGS(&a, "-n", "2", "get", "k", "--timeout", "10", "--retries", "1");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_STATUS);
	assert_non_null(strstr(c.err_text, "NEED_TOKEN"));
	cap_free(&c);
	assert_int_equal(fake.stats.withheld, 2);
	/* put: 2 tries; get: 2, then 1 or 2 more before its last try ends it. */
	assert_true(fake.stats.token_requests >= 2 + 2 + 1);
	assert_true(fake.stats.token_requests <= 2 + 2 + 2);
	stop_fake();
}

/* ping handshakes too, then pings every worker with the token; its round
 * trip is the ping's own. */
static void test_cmd_ping(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 3, .token_mode = FAKE_TOKEN_VALIDATE };
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "-n", "3", "ping");
	assert_int_equal(run_cmd(&a, NULL, &c), CLIENT_EXIT_OK);
	assert_non_null(strstr(c.out_text, "worker 2 127.0.0.1:"));
	assert_null(strstr(c.out_text, "tries"));
	cap_free(&c);
	assert_int_equal(fake.stats.token_requests, 1);
	assert_int_equal(fake.stats.pings, 3);
	assert_int_equal(fake.stats.with_token, 3);
	stop_fake();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_off),
		cmocka_unit_test(test_token_first_and_refresh),
		cmocka_unit_test(test_token_no_answer),
		cmocka_unit_test(test_token_older_server),
		cmocka_unit_test(test_token_need),
		cmocka_unit_test(test_cmd_handshake_once),
		cmocka_unit_test(test_cmd_oversized_put),
		cmocka_unit_test(test_cmd_need_token_retried),
		cmocka_unit_test(test_cmd_older_server),
		cmocka_unit_test(test_cmd_no_token),
		cmocka_unit_test(test_cmd_handshake_unanswered),
		cmocka_unit_test(test_cmd_ping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
