/* test_client_cmd.c - warp-client's commands end to end over loopback UDP
 * against the fake server (tests/unit/client_fake_server.c): what each
 * command prints and its exit status, load verifying (and catching bad
 * values) with and without forwarding and faults, raw dumps, and the built
 * binary's argument errors (exit 64) and basic use. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_cmd.h"
#include "client_fake_server.h"

static struct fake_server fake;
static char port_text[8];
static char err_msg[256];

/* Captured output of one in-process command. */
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
	assert_non_null(c->out);
	assert_non_null(c->err);
}

static void cap_close(struct capture *c)
{
	fclose(c->out);
	fclose(c->err);
}

static void cap_free(struct capture *c)
{
	free(c->out_text);
	free(c->err_text);
}

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
	int argc = 0;
	va_list ap;

	argv[argc++] = "warp-client";
	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc++] = "--port";
	argv[argc++] = port_text;
	if (client_opts_parse(a, argc, argv, err_msg, sizeof(err_msg)) != 0)
		fail_msg("bad test arguments: %s", err_msg);
}

#define ARGS(a, ...) args_for(a, __VA_ARGS__, (const char *)NULL)

static int run_cmd(const struct client_args *a, struct capture *c)
{
	int rc;

	cap_open(c);
	switch (a->cmd) {
	case CLIENT_CMD_PING:
		rc = client_cmd_ping(a, c->out, c->err);
		break;
	case CLIENT_CMD_LOAD:
		rc = client_cmd_load(a, c->out, c->err);
		break;
	case CLIENT_CMD_RAW:
		rc = client_cmd_raw(a, c->out, c->err);
		break;
	default:
		rc = client_cmd_one(a, c->out, c->err);
		break;
	}
	cap_close(c);
	return rc;
}

/* put, get, del: exit 0, the value on stdout (raw or hex), 1 and the status
 * name and text on stderr once the key is gone. */
static void test_single_ops(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 3 };
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "-n", "3", "put", "greeting", "hello world");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_int_equal(c.out_len, 0);
	cap_free(&c);
	ARGS(&a, "-n", "3", "get", "greeting");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_int_equal(c.out_len, 11);
	assert_memory_equal(c.out_text, "hello world", 11);
	cap_free(&c);
	ARGS(&a, "-n", "3", "get", "--hex", "greeting");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_string_equal(c.out_text, "68656c6c6f20776f726c64\n");
	cap_free(&c);
	ARGS(&a, "-n", "3", "--misdirect", "del", "greeting");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	ARGS(&a, "-n", "3", "get", "greeting");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_NOT_FOUND);
	assert_int_equal(c.out_len, 0);
	assert_non_null(strstr(c.err_text, "NOT_FOUND (key not found)"));
	cap_free(&c);
	/* strong durability is a status the fake does not know: passed as is. */
	ARGS(&a, "put", "k", "", "--durability", "strong");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	cap_free(&c);
	assert_true(fake.stats.misdirected >= 1);
	stop_fake();
}

/* Another status exits 2 with name and text; no answer exits 3 naming the
 * address and the number of tries. */
static void test_status_and_timeout(void **state)
{
	struct fake_server_cfg busy = { .n_workers = 1, .busy_every = 1 };
	struct fake_server_cfg silent = { .n_workers = 1, .silent = true };
	struct client_args a;
	struct capture c;
	char expect[96];

	(void)state;
	start_fake(&busy);
	ARGS(&a, "get", "k", "--retries", "1", "--timeout", "20");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_STATUS);
	assert_non_null(strstr(c.err_text, "BUSY (a queue inside the server is full, retry)"));
	cap_free(&c);
	assert_int_equal(fake.stats.requests, 2); /* BUSY was retried once */
	stop_fake();

	start_fake(&silent);
	ARGS(&a, "del", "k", "--retries", "2", "--timeout", "10");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_NO_ANSWER);
	snprintf(expect, sizeof(expect), "no answer from 127.0.0.1:%u after 3 tries",
		 fake.port_base);
	assert_non_null(strstr(c.err_text, expect));
	cap_free(&c);
	assert_int_equal(fake.stats.requests, 3);
	stop_fake();
}

/* ping: one line per worker port, all OK. */
static void test_ping(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 3 };
	struct client_args a;
	struct capture c;
	char expect[64];

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "ping", "--workers", "3");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	for (unsigned w = 0; w < 3; w++) {
		snprintf(expect, sizeof(expect), "worker %u 127.0.0.1:%u OK ", w,
			 fake.port_base + w);
		assert_non_null(strstr(c.out_text, expect));
	}
	cap_free(&c);
	assert_int_equal(fake.stats.pings, 3);
	stop_fake();
}

struct feeder {
	int fd;
	const char *text;
};

/* Write the input in small pieces with pauses, so the batch command often
 * finds no full line ready and must wait on stdin beside the socket. */
static void *feed(void *arg)
{
	struct feeder *fd = arg;
	size_t len = strlen(fd->text), off = 0;

	while (off < len) {
		size_t n = len - off < 3000 ? len - off : 3000;
		ssize_t w = write(fd->fd, fd->text + off, n);

		if (w <= 0)
			break;
		off += (size_t)w;
		usleep(500);
	}
	close(fd->fd);
	return NULL;
}

static int run_batch(const struct client_args *a, const char *input, struct capture *c)
{
	struct feeder fd;
	pthread_t th;
	int fds[2];
	int rc;

	assert_int_equal(pipe(fds), 0);
	fd = (struct feeder){ fds[1], input };
	assert_int_equal(pthread_create(&th, NULL, feed, &fd), 0);
	cap_open(c);
	rc = client_cmd_batch(a, fds[0], c->out, c->err);
	cap_close(c);
	pthread_join(th, NULL);
	close(fds[0]);
	return rc;
}

/* batch: one line per request in input order, same-key requests applied in
 * order, escapes both ways, bad lines in place (exit 2). */
static void test_batch(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 2, .forward_apart = true };
	static const char input[] =
		"put a 1\n"
		"put b two words\n"
		"# a comment\n"
		"\n"
		"get a\n"
		"put a \\x00\\n\n"
		"get a\n"
		"del a\n"
		"get a\n"
		"fetch a\n"
		"get b\n"
		"del nothing\n"
		"get b"; /* no final newline */
	static const char expect[] =
		"OK\n"
		"OK\n"
		"VALUE 1\n"
		"OK\n"
		"VALUE \\x00\\n\n"
		"OK\n"
		"NOT_FOUND\n"
		"BAD_LINE unknown command (put, get, del)\n"
		"VALUE two words\n"
		"NOT_FOUND\n"
		"VALUE two words\n";
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "batch", "-n", "2", "--misdirect", "--batch", "4", "--window", "4");
	assert_int_equal(run_batch(&a, input, &c), CLIENT_EXIT_STATUS);
	assert_string_equal(c.out_text, expect);
	assert_non_null(strstr(c.err_text, "line 10: unknown command"));
	cap_free(&c);
	/* Only good lines, hex values: exit 0. */
	ARGS(&a, "batch", "--hex");
	assert_int_equal(run_batch(&a, "put x AB\nget x\n", &c), CLIENT_EXIT_OK);
	assert_string_equal(c.out_text, "OK\nVALUE 4142\n");
	cap_free(&c);
	stop_fake();
}

/* An overlong line is one BAD_LINE; the lines around it still run. */
static void test_batch_long_line(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 1 };
	struct client_args a;
	struct capture c;
	char *input = malloc(20000);
	int n;

	(void)state;
	if (!input)
		abort();
	n = sprintf(input, "put a 1\nput b ");
	memset(input + n, 'x', 12000);
	sprintf(input + n + 12000, "\nget a\nget b\n");
	start_fake(&cfg);
	ARGS(&a, "batch");
	assert_int_equal(run_batch(&a, input, &c), CLIENT_EXIT_STATUS);
	assert_string_equal(c.out_text,
			    "OK\nBAD_LINE line longer than 5840 bytes\nVALUE 1\nNOT_FOUND\n");
	cap_free(&c);
	stop_fake();
	free(input);
}

/* Many batch lines: output count and order hold past the ring size. */
static void test_batch_many(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 4 };
	struct client_args a;
	struct capture c;
	char *input = malloc(200000), *expect = malloc(200000);
	size_t in = 0, ex = 0;

	(void)state;
	if (!input || !expect)
		abort();
	for (unsigned i = 0; i < 3000; i++) {
		in += (size_t)sprintf(input + in, "put k%u v%u\nget k%u\n", i % 97, i, i % 97);
		ex += (size_t)sprintf(expect + ex, "OK\nVALUE v%u\n", i);
	}
	start_fake(&cfg);
	ARGS(&a, "batch", "-n", "4", "--window", "2", "--batch", "8");
	assert_int_equal(run_batch(&a, input, &c), CLIENT_EXIT_OK);
	assert_string_equal(c.out_text, expect);
	cap_free(&c);
	stop_fake();
	free(input);
	free(expect);
}

/* load passes against a correct server, also with every request misdirected
 * and with lost and duplicated datagrams; --json carries the counters. */
static void test_load_passes(void **state)
{
	struct fake_server_cfg plain = { .n_workers = 3 };
	struct fake_server_cfg faulty = { .n_workers = 3, .forward_apart = true, .drop_every = 9,
					  .dup_every = 4, .busy_every = 50 };
	struct client_args a;
	struct capture c;
	json_error_t jerr;
	json_t *j, *get;

	(void)state;
	start_fake(&plain);
	ARGS(&a, "load", "--keys", "3000", "-n", "3", "--value-size", "0-1400", "--seed", "7");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_non_null(strstr(c.out_text, "result: PASS"));
	cap_free(&c);
	assert_int_equal(fake.stats.puts, 3000);
	assert_int_equal(fake.stats.gets, 6000);
	assert_int_equal(fake_server_count(&fake), 0);
	assert_int_equal(fake.stats.misdirected, 0);
	stop_fake();

	start_fake(&faulty);
	ARGS(&a, "load", "--keys", "2000", "-n", "3", "--misdirect", "--json", "--timeout", "30",
	     "--retries", "8", "--value-size", "100");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	j = json_loads(c.out_text, 0, &jerr);
	if (!j)
		fail_msg("load --json is not JSON: %s", jerr.text);
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_true(json_is_true(json_object_get(j, "misdirect")));
	assert_int_equal(json_integer_value(json_object_get(j, "keys")), 2000);
	get = json_object_get(json_object_get(j, "phases"), "get");
	assert_int_equal(json_integer_value(json_object_get(get, "ok")), 2000);
	assert_int_equal(json_integer_value(json_object_get(get, "wrong_values")), 0);
	assert_true(json_integer_value(json_object_get(get, "retries")) > 0);
	assert_true(json_real_value(json_object_get(get, "ops_per_sec")) > 0);
	assert_int_equal(json_array_size(json_object_get(j, "failures")), 0);
	json_decref(j);
	cap_free(&c);
	/* Every keyed request went to a worker that does not own its key. */
	assert_int_equal(fake.stats.misdirected, fake.stats.entries);
	stop_fake();
}

/* load catches a server that garbles values: exit 1 and the count. */
static void test_load_detects_bad_values(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 2, .corrupt_every = 100 };
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "load", "--keys", "1000", "-n", "2", "--value-size", "8-64");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_NOT_FOUND);
	assert_non_null(strstr(c.out_text, "result: FAIL"));
	assert_non_null(strstr(c.out_text, "get: 10 wrong values"));
	cap_free(&c);
	assert_int_equal(fake.stats.corrupted, 10);
	stop_fake();
}

/* load against a server that never answers stops early and exits 3. */
static void test_load_no_answer(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 1, .silent = true };
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	ARGS(&a, "load", "--keys", "100000", "--timeout", "10", "--retries", "1");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_NO_ANSWER);
	assert_non_null(strstr(c.out_text, "get  "));
	assert_non_null(strstr(c.out_text, "(not run)"));
	assert_non_null(strstr(c.out_text, "put: stopped after"));
	cap_free(&c);
	/* Stopped at the first timeout: far fewer than 100000 keys were tried. */
	assert_true(fake.stats.requests < 1000);
	stop_fake();
}

/* raw: replies dumped and decoded with a size summary; nothing back is
 * "no reply" and exit 3; bad hex is a usage error. */
static void test_raw(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 1 };
	struct client_args a;
	struct capture c;

	(void)state;
	start_fake(&cfg);
	/* A PING with key "p": header (count 1, echo 5) + entry. */
	ARGS(&a, "raw", "--hex",
	     "5745 0100 0100 0000 0500000000000000 04 00 01 00 00000000 07000000 70");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_non_null(strstr(c.out_text, "request 29 bytes to 127.0.0.1:"));
	assert_non_null(strstr(c.out_text, "reply 1: 28 bytes from 127.0.0.1:"));
	assert_non_null(strstr(c.out_text, "decode OK"));
	assert_non_null(strstr(c.out_text, "echo=0x0000000000000005"));
	assert_non_null(
		strstr(c.out_text, "entry 0: op=PING status=OK opaque=7 key_len=0 value_len=0"));
	assert_non_null(strstr(c.out_text, "summary replies=1 reply_bytes=28 largest_reply=28 "
					   "request_bytes=29"));
	cap_free(&c);
	/* Version 2: a header-only BAD_VERSION reply, no larger than the request. */
	ARGS(&a, "raw", "--hex", "5745 0200 0100 0000 0900000000000000 0400010000000000070000007a");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_OK);
	assert_non_null(strstr(c.out_text, "count=0 status=10(BAD_VERSION)"));
	assert_non_null(strstr(c.out_text, "reply_bytes=16 "));
	cap_free(&c);
	/* One byte: dropped silently. */
	ARGS(&a, "raw", "--hex", "00", "--timeout", "50");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_NO_ANSWER);
	assert_non_null(strstr(c.out_text, "no reply from 127.0.0.1:"));
	cap_free(&c);
	ARGS(&a, "raw", "--hex", "57zz");
	assert_int_equal(run_cmd(&a, &c), CLIENT_EXIT_USAGE);
	assert_non_null(strstr(c.err_text, "offset 2"));
	cap_free(&c);
	stop_fake();
}

/* Run the built binary with argv; returns its exit status, output in *out
 * and *err (malloc'd). */
static int run_binary(char *const argv[], const char *input, char **out, char **err)
{
	const char *bin = getenv("WARP_CLIENT");
	char out_path[] = "/tmp/test_client_outXXXXXX", err_path[] = "/tmp/test_client_errXXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path), in[2], status;
	pid_t pid;
	FILE *f;
	long n;

	assert_non_null(bin);
	assert_true(out_fd >= 0 && err_fd >= 0);
	assert_int_equal(pipe(in), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		close(in[1]);
		execv(bin, argv);
		_exit(127);
	}
	close(in[0]);
	if (input)
		assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	for (int k = 0; k < 2; k++) {
		char **dst = k ? err : out;

		f = fdopen(k ? err_fd : out_fd, "r");
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		*dst = calloc(1, (size_t)n + 1);
		assert_int_equal(fread(*dst, 1, (size_t)n, f), (size_t)n);
		fclose(f);
	}
	unlink(out_path);
	unlink(err_path);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The binary: argument errors exit 64 saying what is wrong; --help exits 0;
 * put/get/batch work against the fake. */
static void test_binary(void **state)
{
	struct fake_server_cfg cfg = { .n_workers = 2 };
	char *out, *err;

	(void)state;
	if (!getenv("WARP_CLIENT"))
		skip();
	{
		char *argv[] = { "warp-client", "get", NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 64);
		assert_non_null(strstr(err, "'get' takes 1 argument: get KEY"));
		assert_non_null(strstr(err, "--help"));
		free(out);
		free(err);
	}
	{
		char *argv[] = { "warp-client", "--window", "0", "batch", NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 64);
		assert_non_null(strstr(err, "--window: '0' is not a number in 1..256"));
		free(out);
		free(err);
	}
	{
		char *argv[] = { "warp-client", "--help", NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 0);
		assert_non_null(strstr(out, "usage: warp-client"));
		free(out);
		free(err);
	}
	{
		char *argv[] = { "warp-client", "--server", "no.such.host.invalid", "get", "k",
				 NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 64);
		assert_non_null(strstr(err, "cannot resolve"));
		free(out);
		free(err);
	}
	start_fake(&cfg);
	{
		char *argv[] = { "warp-client", "-p", port_text, "-n", "2", "put", "k", "v v",
				 NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 0);
		free(out);
		free(err);
	}
	{
		char *argv[] = { "warp-client", "-p", port_text, "-n", "2", "get", "k", NULL };

		assert_int_equal(run_binary(argv, NULL, &out, &err), 0);
		assert_string_equal(out, "v v");
		free(out);
		free(err);
	}
	{
		char *argv[] = { "warp-client", "-p", port_text, "batch", NULL };

		assert_int_equal(run_binary(argv, "get k\ndel k\nget k\n", &out, &err), 0);
		assert_string_equal(out, "VALUE v v\nOK\nNOT_FOUND\n");
		free(out);
		free(err);
	}
	stop_fake();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_ops),
		cmocka_unit_test(test_status_and_timeout),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_batch_long_line),
		cmocka_unit_test(test_batch_many),
		cmocka_unit_test(test_load_passes),
		cmocka_unit_test(test_load_detects_bad_values),
		cmocka_unit_test(test_load_no_answer),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
