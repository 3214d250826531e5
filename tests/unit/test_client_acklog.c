/* test_client_acklog.c - the acknowledgement log and its check rule: values
 * that name their write, log lines read back, every verdict on hand-made
 * logs, malformed logs refused with the line named, a random model (writes
 * kept, lost or applied without an answer, as a crash leaves them) where
 * every legal outcome is kept and every illegal one is caught, and the
 * writes and check commands end to end against the fake server. Random
 * cases take their seed from WE_TEST_SEED. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_acklog.h"
#include "client_cmd.h"
#include "client_fake_server.h"
#include "we_status.h"
#include "we_test.h"

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

/* Load a log from text; asserts success. */
static struct acklog *load_text(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct acklog *l = NULL;
	char err[256] = "";

	assert_non_null(f);
	if (acklog_load(&l, f, err, sizeof(err)) != 0)
		fail_msg("log refused: %s\n%s", err, text);
	fclose(f);
	return l;
}

/* Load a log that must be refused; returns the message. */
static void load_refused(const char *text, const char *want)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct acklog *l = NULL;
	char err[256] = "";

	assert_non_null(f);
	assert_int_equal(acklog_load(&l, f, err, sizeof(err)), -EINVAL);
	assert_null(l);
	fclose(f);
	if (!strstr(err, want))
		fail_msg("message '%s' lacks '%s' for\n%s", err, want, text);
}

static enum acklog_verdict judge_key(struct acklog *l, const char *key, bool found,
				     struct acklog_id id, uint32_t vmin, uint32_t vmax)
{
	uint8_t value[CLIENT_KV_MAX];
	uint32_t len = 0;
	char detail[256];
	int64_t i = acklog_key_find(l, K(key), (uint32_t)strlen(key));

	assert_true(i >= 0);
	if (found)
		len = acklog_value(K(key), (uint32_t)strlen(key), id, vmin, vmax, value);
	return acklog_judge(l, (uint32_t)i, found, value, len, detail, sizeof(detail));
}

/* A value starts with its id, is derived from key and id, has a length in
 * the run's range (never shorter than its prefix), and any changed byte or
 * length, another key or another id is rejected. */
static void test_values(void **state)
{
	uint64_t seed = we_test_seed("test_client_acklog values", 7), rng = seed;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct acklog_id id = { we_test_rand(&rng), 1 + we_test_rand(&rng) % 1000000 }, back;
		uint32_t vmin = (uint32_t)(we_test_rand(&rng) % 200);
		uint32_t vmax = vmin + (uint32_t)(we_test_rand(&rng) % 300);
		uint8_t v[CLIENT_KV_MAX];
		char key[16];
		uint32_t klen = (uint32_t)snprintf(key, sizeof(key), "k%u", round), len;

		len = acklog_value(K(key), klen, id, vmin, vmax, v);
		assert_int_equal(len, acklog_value_len(K(key), klen, id, vmin, vmax));
		assert_true(len >= 19 + 8 && len <= (vmax > 46 ? vmax : 46));
		if (len > 46)
			assert_true(len >= vmin);
		assert_int_equal(acklog_value_id(v, len, &back), 0);
		assert_true(back.run == id.run && back.seq == id.seq);
		assert_true(acklog_value_check(K(key), klen, id, vmin, vmax, v, len));
		assert_false(acklog_value_check(K("other"), 5, id, vmin, vmax, v, len));
		assert_false(acklog_value_check(K(key), klen, id, vmin, vmax, v, len - 1));
		id.seq++;
		assert_false(acklog_value_check(K(key), klen, id, vmin, vmax, v, len));
		id.seq--;
		v[we_test_rand(&rng) % len] ^= (uint8_t)(1u << (we_test_rand(&rng) % 8));
		assert_false(acklog_value_check(K(key), klen, id, vmin, vmax, v, len));
	}
	assert_int_equal(acklog_value_id(K("hello"), 5, &(struct acklog_id){ 0 }), -EINVAL);
	assert_int_equal(acklog_value_id(K("0123456789abcdef.12"), 19, &(struct acklog_id){ 0 }),
			 -EINVAL); /* no '/' */
}

/* What the writer formats reads back: runs, issues, acknowledgements,
 * escaped keys; comments, empty lines and a final line without its newline
 * are ignored. */
static void test_lines_round_trip(void **state)
{
	char text[8192], line[ACKLOG_LINE_MAX];
	size_t n = 0;
	struct acklog_id a = { 0xfeedbeef00000001ull, 1 }, b = { 0xfeedbeef00000001ull, 2 };
	const uint8_t odd_key[] = { 'a', ' ', 'b', '\n', '\\', 0xff };
	struct acklog *l;
	uint8_t klen;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "# a comment\n\n");
	n += acklog_format_run(line, 1, a.run, "strong", 32, 64);
	strcat(text, line);
	assert_string_equal(line, "R 1 feedbeef00000001 strong 32 64\n");
	acklog_format_issue(line, 2, a, PROTO_OP_PUT, odd_key, sizeof(odd_key));
	strcat(text, line);
	acklog_format_ack(line, 3, a, PROTO_OP_PUT, WE_STATUS_OK, odd_key, sizeof(odd_key));
	strcat(text, line);
	assert_non_null(strstr(line, "A 3 feedbeef00000001.1 P OK a b\\n\\\\\\xff\n"));
	acklog_format_issue(line, 4, b, PROTO_OP_DELETE, K("plain"), 5);
	strcat(text, line);
	strcat(text, "A 5 feedbeef00000001.2 D NOT_FOUND pla"); /* torn: ignored */
	l = load_text(text);
	assert_int_equal(acklog_counts(l)->runs, 1);
	assert_int_equal(acklog_counts(l)->issued, 2);
	assert_int_equal(acklog_counts(l)->acked, 1);
	assert_int_equal(acklog_counts(l)->keys, 2);
	assert_int_equal(acklog_counts(l)->unacked, 1);
	assert_memory_equal(acklog_key(l, 0, &klen), odd_key, sizeof(odd_key));
	assert_int_equal(klen, sizeof(odd_key));
	assert_int_equal(acklog_key_find(l, K("plain"), 5), 1);
	assert_int_equal(acklog_key_find(l, K("nope"), 4), -1);
	acklog_free(l);
}

#define RUN1 "R 1 00000000000000aa strong 40 40\n"
#define RUN2 "R 9 00000000000000bb strong 40 40\n"
static const struct acklog_id ID1 = { 0xaa, 1 }, ID2 = { 0xaa, 2 }, ID3 = { 0xaa, 3 },
			      IDB1 = { 0xbb, 1 };

/* Each verdict on a hand-made log: an acknowledged PUT kept, replaced by a
 * later write (even one never answered), lost, or older; an acknowledged
 * DELETE kept or resurrected; a key never acknowledged; values of no run,
 * beyond a run's writes, or garbled. */
static void test_verdicts(void **state)
{
	struct acklog *l;
	uint8_t v[CLIENT_KV_MAX];
	uint32_t len;
	char detail[256];

	(void)state;
	/* k: PUT 1 acked, PUT 2 acked, PUT 3 unanswered (the crash). */
	l = load_text(RUN1 "I 2 00000000000000aa.1 P k\n"
			   "A 3 00000000000000aa.1 P OK k\n"
			   "I 4 00000000000000aa.2 P k\n"
			   "A 5 00000000000000aa.2 P OK k\n"
			   "I 6 00000000000000aa.3 P k\n");
	assert_int_equal(judge_key(l, "k", true, ID2, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID3, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID1, 40, 40), ACKLOG_OLDER);
	assert_int_equal(judge_key(l, "k", false, ID1, 40, 40), ACKLOG_LOST);
	assert_int_equal(judge_key(l, "k", true, IDB1, 40, 40), ACKLOG_NEVER_ISSUED);
	assert_int_equal(judge_key(l, "k", true, (struct acklog_id){ 0xaa, 4 }, 40, 40),
			 ACKLOG_NEVER_ISSUED);
	/* The right id with bytes of another size or garbled. */
	assert_int_equal(judge_key(l, "k", true, ID2, 41, 41), ACKLOG_GARBLED);
	len = acklog_value(K("k"), 1, ID2, 40, 40, v);
	v[len - 1] ^= 1;
	assert_int_equal(acklog_judge(l, 0, true, v, len, detail, sizeof(detail)), ACKLOG_GARBLED);
	assert_non_null(strstr(detail, "00000000000000aa.2"));
	assert_int_equal(acklog_judge(l, 0, true, K("junk"), 4, detail, sizeof(detail)),
			 ACKLOG_GARBLED);
	acklog_free(l);

	/* k: PUT 1 acked, DELETE 2 acked (NOT_FOUND counts), PUT 3 unanswered. */
	l = load_text(RUN1 "I 2 00000000000000aa.1 P k\n"
			   "A 3 00000000000000aa.1 P OK k\n"
			   "I 4 00000000000000aa.2 D k\n"
			   "A 5 00000000000000aa.2 D NOT_FOUND k\n"
			   "I 6 00000000000000aa.3 P k\n");
	assert_int_equal(judge_key(l, "k", false, ID1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID3, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID1, 40, 40), ACKLOG_RESURRECTED);
	acklog_free(l);

	/* k: PUT 1 acked, DELETE 2 unanswered: absent is allowed; a second run
	 * (after a restart) writes again and is acknowledged. */
	l = load_text(RUN1 "I 2 00000000000000aa.1 P k\n"
			   "A 3 00000000000000aa.1 P OK k\n"
			   "I 4 00000000000000aa.2 D k\n" RUN2 "I 10 00000000000000bb.1 P j\n"
			   "A 11 00000000000000bb.1 P OK j\n");
	assert_int_equal(judge_key(l, "k", false, ID1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "j", true, IDB1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "j", false, IDB1, 40, 40), ACKLOG_LOST);
	/* j's value under key k: its bytes are j's, not k's. */
	len = acklog_value(K("j"), 1, IDB1, 40, 40, v);
	assert_int_equal(acklog_judge(l, 0, true, v, len, detail, sizeof(detail)), ACKLOG_GARBLED);
	acklog_free(l);

	/* Nothing acknowledged: absent or any issued PUT is fine. */
	l = load_text(RUN1 "I 2 00000000000000aa.1 P k\n"
			   "I 4 00000000000000aa.2 P k\n");
	assert_int_equal(judge_key(l, "k", false, ID1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID1, 40, 40), ACKLOG_KEPT);
	assert_int_equal(judge_key(l, "k", true, ID2, 40, 40), ACKLOG_KEPT);
	acklog_free(l);
	assert_string_equal(acklog_verdict_name(ACKLOG_RESURRECTED), "resurrected");
}

/* Malformed logs are refused, naming the line and the fault. */
static void test_malformed(void **state)
{
	(void)state;
	load_refused("I 2 00000000000000aa.1 P k\n", "line 1: run 00000000000000aa has no R line");
	load_refused(RUN1 "A 3 00000000000000aa.1 P OK k\n", "line 2: acknowledges write");
	load_refused(RUN1 "I 2 00000000000000aa.1 P k\nA 3 00000000000000aa.1 D OK k\n",
		     "another op");
	load_refused(RUN1 "I 2 00000000000000aa.1 P k\nA 3 00000000000000aa.1 P OK j\n",
		     "not issued for this key");
	load_refused(RUN1 "I 2 00000000000000aa.1 P k\nA 3 00000000000000aa.1 P BUSY k\n",
		     "status is OK");
	load_refused(RUN1 "I 2 00000000000000aa.1 P k\nA 3 00000000000000aa.1 P NOT_FOUND k\n",
		     "status is OK");
	load_refused(RUN1 "I 2 00000000000000aa.2 P k\nI 3 00000000000000aa.1 P k\n",
		     "line 3: write 00000000000000aa.1 is not after");
	load_refused(RUN1 "I 2 00000000000000aa.1 X k\n", "line 2: expected 'I");
	load_refused(RUN1 "I 2 00000000000000aa.1 P \n", "key is missing");
	load_refused(RUN1 "I 2 00000000000000aa.1 P bad\\q\n", "badly escaped");
	load_refused(RUN1 RUN1, "begins a second time");
	load_refused("R 1 00000000000000AA strong 1 2\n", "16 lowercase hex");
	load_refused("R 1 00000000000000aa strong 9 2\n", "expected 'R");
	load_refused("hello\n", "line 1: not an R, I or A line");
}

/* A random model of what a crash may leave: per key, writes in issue order,
 * each acknowledged or not; the server ends holding the result of any
 * subsequence of them that contains every acknowledged write. Every such
 * outcome is kept; putting back a PUT issued before the last acknowledged
 * write, or dropping an acknowledged PUT with no later DELETE, is caught. */
#define MODEL_KEYS 12
#define MODEL_WRITES 400

struct model_write {
	uint8_t key;
	uint8_t op;
	bool acked;
	struct acklog_id id;
};

static void test_random_model(void **state)
{
	uint64_t seed = we_test_seed("test_client_acklog model", (uint64_t)time(NULL)), rng = seed;

	(void)state;
	for (int round = 0; round < 200; round++) {
		static struct model_write w[MODEL_WRITES];
		char *text = NULL, line[ACKLOG_LINE_MAX], key[8];
		size_t text_len = 0;
		FILE *f = open_memstream(&text, &text_len);
		uint64_t run = 0;
		uint32_t n = 0;
		struct acklog *l;

		assert_non_null(f);
		/* Runs of random writes; each acknowledgement follows its issue
		 * before the key's next write, other keys interleave. */
		for (int r = 0; r < 3; r++) {
			run = we_test_rand(&rng);
			acklog_format_run(line, 0, run, "strong", 20, 60);
			fputs(line, f);
			for (uint64_t seq = 1; seq <= MODEL_WRITES / 3; seq++) {
				struct model_write *m = &w[n++];

				m->key = (uint8_t)(we_test_rand(&rng) % MODEL_KEYS);
				m->op = we_test_rand(&rng) % 4 ? PROTO_OP_PUT : PROTO_OP_DELETE;
				m->acked = we_test_rand(&rng) % 3 != 0;
				m->id = (struct acklog_id){ run, seq };
				snprintf(key, sizeof(key), "k%u", m->key);
				acklog_format_issue(line, 0, m->id, m->op, K(key), (uint32_t)strlen(key));
				fputs(line, f);
				if (m->acked) {
					acklog_format_ack(line, 0, m->id, m->op, WE_STATUS_OK, K(key),
							  (uint32_t)strlen(key));
					fputs(line, f);
				}
			}
		}
		fclose(f);
		l = load_text(text);
		for (uint8_t k = 0; k < MODEL_KEYS; k++) {
			int64_t last_ack = -1, applied_last = -1, older_put = -1;
			bool later_delete = false;
			uint8_t v[CLIENT_KV_MAX];
			uint32_t len = 0;
			char detail[256];
			enum acklog_verdict got;
			int64_t ki;

			snprintf(key, sizeof(key), "k%u", k);
			ki = acklog_key_find(l, K(key), (uint32_t)strlen(key));
			if (ki < 0)
				continue;
			for (uint32_t i = 0; i < n; i++) {
				if (w[i].key != k)
					continue;
				/* Acknowledged writes are applied; others maybe. */
				if (w[i].acked || we_test_rand(&rng) % 2)
					applied_last = i;
				if (w[i].acked) {
					if (last_ack >= 0 && w[last_ack].op == PROTO_OP_PUT)
						older_put = last_ack;
					last_ack = i;
					later_delete = false;
				} else if (w[i].op == PROTO_OP_DELETE) {
					later_delete = true;
				}
			}
			if (applied_last >= 0 && w[applied_last].op == PROTO_OP_PUT)
				len = acklog_value(K(key), (uint32_t)strlen(key), w[applied_last].id,
						   20, 60, v);
			got = acklog_judge(l, (uint32_t)ki, len > 0, v, len, detail, sizeof(detail));
			if (got != ACKLOG_KEPT)
				fail_msg("key %s: a legal state judged %s (%s), WE_TEST_SEED=%" PRIu64,
					 key, acklog_verdict_name(got), detail, seed);
			/* An older PUT put back. */
			if (older_put >= 0) {
				len = acklog_value(K(key), (uint32_t)strlen(key), w[older_put].id, 20,
						   60, v);
				got = acklog_judge(l, (uint32_t)ki, true, v, len, detail,
						   sizeof(detail));
				if (got != (w[last_ack].op == PROTO_OP_PUT ? ACKLOG_OLDER
									   : ACKLOG_RESURRECTED))
					fail_msg("key %s: an older value judged %s, WE_TEST_SEED=%" PRIu64,
						 key, acklog_verdict_name(got), seed);
			}
			/* The acknowledged PUT dropped. */
			if (last_ack >= 0 && w[last_ack].op == PROTO_OP_PUT && !later_delete) {
				got = acklog_judge(l, (uint32_t)ki, false, NULL, 0, detail,
						   sizeof(detail));
				if (got != ACKLOG_LOST)
					fail_msg("key %s: a lost PUT judged %s, WE_TEST_SEED=%" PRIu64, key,
						 acklog_verdict_name(got), seed);
			}
		}
		acklog_free(l);
		free(text);
	}
}

/* ---- the commands against the fake server ------------------------------- */

static struct fake_server fake;
static char port_text[8];
static char log_path[64];

static int run_args(FILE *out, FILE *err, const char *first, ...)
{
	char *argv[40];
	int argc = 0;
	struct client_args a;
	char msg[256];
	va_list ap;

	argv[argc++] = "warp-client";
	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc++] = "--port";
	argv[argc++] = port_text;
	argv[argc++] = "--ack-log";
	argv[argc++] = log_path;
	if (client_opts_parse(&a, argc, argv, msg, sizeof(msg)) != 0)
		fail_msg("bad test arguments: %s", msg);
	switch (a.cmd) {
	case CLIENT_CMD_WRITES:
		return client_cmd_writes(&a, out, err);
	case CLIENT_CMD_CHECK:
		return client_cmd_check(&a, out, err);
	default:
		fail_msg("not a writes or check command");
	}
	return -1;
}

#define RUN(out, err, ...) run_args(out, err, __VA_ARGS__, (const char *)NULL)

struct capture {
	FILE *out, *err;
	char *out_text, *err_text;
	size_t out_len, err_len;
};

static void cap_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->out = open_memstream(&c->out_text, &c->out_len);
	c->err = open_memstream(&c->err_text, &c->err_len);
}

static void cap_done(struct capture *c)
{
	fclose(c->out);
	fclose(c->err);
}

static void cap_free(struct capture *c)
{
	free(c->out_text);
	free(c->err_text);
}

static int fake_up(bool silent)
{
	struct fake_server_cfg cfg = {
		.n_workers = 2, .drop_every = 50, .token_mode = FAKE_TOKEN_ISSUE, .silent = silent
	};

	assert_int_equal(fake_server_init(&fake, &cfg), 0);
	assert_int_equal(fake_server_start(&fake), 0);
	snprintf(port_text, sizeof(port_text), "%u", fake.port_base);
	snprintf(log_path, sizeof(log_path), "/tmp/we-acklog-%d.log", (int)getpid());
	unlink(log_path);
	return 0;
}

static int setup_fake(void **state)
{
	(void)state;
	return fake_up(false);
}

static int setup_silent(void **state)
{
	(void)state;
	return fake_up(true);
}

static int teardown_fake(void **state)
{
	(void)state;
	fake_server_stop(&fake);
	fake_server_fini(&fake);
	unlink(log_path);
	return 0;
}

/* Two writes runs (puts and deletes, lost datagrams retried) then check:
 * clean, with every key counted. Then the server loses an acknowledged
 * PUT, and holds a forged value: check names both and exits 1. */
static void test_writes_then_check(void **state)
{
	struct capture c;
	struct acklog *l;
	FILE *f;
	char err[256];
	int64_t lost = -1;
	uint8_t klen;
	const uint8_t *key;
	char keytext[PROTO_KEY_MAX + 1];
	uint8_t forged[64];
	uint32_t flen;

	(void)state;
	for (int r = 0; r < 2; r++) {
		cap_open(&c);
		assert_int_equal(RUN(c.out, c.err, "-n", "2", "--timeout", "50", "writes", "--keys",
				     "50", "--duration", "1", "--delete-percent", "20",
				     "--value-size", "10-80", "--batch", "4", "--window", "4"),
				 CLIENT_EXIT_OK);
		cap_done(&c);
		assert_non_null(strstr(c.out_text, "writes: run "));
		assert_non_null(strstr(c.out_text, " 0 unanswered, 0 other"));
		cap_free(&c);
	}
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "-n", "2", "check"), CLIENT_EXIT_OK);
	cap_done(&c);
	assert_non_null(strstr(c.out_text, "check: 50 of 50 keys checked"));
	assert_non_null(strstr(c.out_text, "issued in 2 runs, 0 unacknowledged), 0 violations"));
	cap_free(&c);

	/* Find a key whose last acknowledged write is a PUT; delete it behind
	 * the log's back. */
	f = fopen(log_path, "r");
	assert_non_null(f);
	assert_int_equal(acklog_load(&l, f, err, sizeof(err)), 0);
	fclose(f);
	for (uint32_t i = 0; i < acklog_counts(l)->keys && lost < 0; i++)
		if (acklog_judge(l, i, false, NULL, 0, err, sizeof(err)) == ACKLOG_LOST)
			lost = i;
	assert_true(lost >= 0);
	key = acklog_key(l, (uint32_t)lost, &klen);
	memcpy(keytext, key, klen);
	keytext[klen] = 0;
	{
		struct client_args a;
		char *argv[] = { "warp-client", "-n", "2", "--port", port_text, "del", keytext };
		char msg[256];
		FILE *devnull = fopen("/dev/null", "w");

		assert_int_equal(client_opts_parse(&a, 7, argv, msg, sizeof(msg)), 0);
		assert_int_equal(client_cmd_one(&a, devnull, devnull), CLIENT_EXIT_OK);
		/* Another key gets a value of a run the log never saw. */
		char *other = strcmp(keytext, "key:1") == 0 ? "key:2" : "key:1";
		char *argv2[] = { "warp-client", "-n", "2", "--port", port_text, "put", other,
				  (char *)forged };

		flen = acklog_value(K(other), 5, (struct acklog_id){ 0x1234, 1 }, 40, 40, forged);
		forged[flen] = 0;
		assert_int_equal(client_opts_parse(&a, 8, argv2, msg, sizeof(msg)), 0);
		assert_int_equal(client_cmd_one(&a, devnull, devnull), CLIENT_EXIT_OK);
		fclose(devnull);
	}
	acklog_free(l);
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "-n", "2", "check"), CLIENT_EXIT_NOT_FOUND);
	cap_done(&c);
	assert_non_null(strstr(c.out_text, "violation: lost: key "));
	assert_non_null(strstr(c.out_text, keytext));
	assert_non_null(strstr(c.out_text, "violation: never_issued: key key:"));
	assert_non_null(strstr(c.out_text, "holds 0000000000001234.1, which no run"));
	assert_non_null(strstr(c.out_text, "2 violations (lost 1, older 0, resurrected 0, "
					   "never_issued 1, garbled 0)"));
	cap_free(&c);
}

/* A server that stops answering: writes stops issuing, exits 3, and the log
 * holds the issued writes without acknowledgements; check against the
 * silent server exits 3 too. A malformed log is refused with 65, a missing
 * one with 66. */
static void test_silent_and_bad_logs(void **state)
{
	struct capture c;
	FILE *f;

	(void)state;
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "--timeout", "20", "--retries", "1", "writes",
			     "--keys", "10", "--duration", "5", "--durability", "strong"),
			 CLIENT_EXIT_NO_ANSWER);
	cap_done(&c);
	assert_non_null(strstr(c.out_text, " 0 acknowledged"));
	cap_free(&c);
	f = fopen(log_path, "r");
	{
		char text[4096];
		size_t n = fread(text, 1, sizeof(text) - 1, f);

		text[n] = 0;
		assert_non_null(strstr(text, "# warp-client acknowledgement log, format 1"));
		assert_non_null(strstr(text, " strong 32 32\nI "));
		assert_null(strstr(text, "\nA "));
	}
	fclose(f);
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "--timeout", "20", "--retries", "0", "check"),
			 CLIENT_EXIT_NO_ANSWER);
	cap_done(&c);
	assert_non_null(strstr(c.out_text, "0 of 10 keys checked"));
	cap_free(&c);

	f = fopen(log_path, "a");
	fputs("garbage\n", f);
	fclose(f);
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "check"), CLIENT_EXIT_DATAERR);
	cap_done(&c);
	assert_non_null(strstr(c.err_text, "not an R, I or A line"));
	cap_free(&c);
	unlink(log_path);
	cap_open(&c);
	assert_int_equal(RUN(c.out, c.err, "check"), CLIENT_EXIT_NOINPUT);
	cap_done(&c);
	cap_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_lines_round_trip),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test_setup_teardown(test_writes_then_check, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_silent_and_bad_logs, setup_silent, teardown_fake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
