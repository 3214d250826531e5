/* test_engine_kernel.c - the kernel-socket engine runs real phases over
 * loopback: against a fake native server on two worker ports (one address-
 * token handshake, then every request with the token on its owner's port,
 * all answered, all verified), open and closed loop; against an older server
 * (no token, plain requests) and a silent one (the handshake gives up);
 * against a port where nothing listens (a clear "no answer" with the reason);
 * and against Debian's memcached when it is installed (skipped otherwise). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "blaster.h"
#include "engine.h"
#include "options.h"
#include "proto.h"

#define SRV_WORKERS 2
#define SRV_KEYS 2000
#define SRV_VALUE_MAX 64

/* ---- a fake native data plane: one UDP socket per worker port ---------- */

struct srv {
	int fd[SRV_WORKERS];
	uint16_t base;
	volatile int stop;
	uint64_t requests;
	uint64_t misrouted;
	/* Address tokens: a server that issues them (TOKEN op answered with
	 * srv_token), or an older one that knows neither op nor flag. */
	bool old_server;
	uint64_t token_ops;      /* TOKEN requests seen */
	uint64_t with_token;     /* datagrams that carried srv_token */
	uint64_t without_token;  /* datagrams of other ops that did not */
	struct region_map map;
	bool present[SRV_KEYS];
	uint8_t len[SRV_KEYS];
	uint8_t val[SRV_KEYS][SRV_VALUE_MAX];
};

static int bind_udp(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* n consecutive free UDP ports on loopback, bound; returns the base. */
static uint16_t bind_consecutive(int *fds, int n)
{
	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);

	for (int attempt = 0; attempt < 100; attempt++) {
		uint16_t base = (uint16_t)(20000 + rand_r(&seed) % 40000);
		int i;

		for (i = 0; i < n; i++) {
			fds[i] = bind_udp((uint16_t)(base + i));
			if (fds[i] < 0)
				break;
		}
		if (i == n)
			return base;
		while (i-- > 0)
			close(fds[i]);
	}
	fail_msg("no free UDP ports");
	return 0;
}

static uint64_t srv_key(const uint8_t *k, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 1; i < len; i++)
		v = v * 10 + (uint64_t)(k[i] - '0');
	return v < SRV_KEYS ? v : 0;
}

static const uint8_t srv_token[PROTO_TOKEN_SIZE] = {0x70, 0x6b, 1, 2, 3, 4, 5, 6,
						    7, 8, 9, 10, 11, 12, 13, 14};

static void srv_answer(struct srv *s, int worker, const uint8_t *buf, uint32_t len,
		       const struct sockaddr_storage *from, socklen_t from_len)
{
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	uint8_t out[PROTO_PAYLOAD_MAX];
	struct proto_writer w;
	const uint8_t *token;
	unsigned n;

	if (proto_decode_batch(buf, len, &hdr, reqs, PROTO_BATCH_MAX, &n) != PROTO_DECODE_OK)
		return;
	proto_writer_init(&w, out, sizeof(out), PROTO_F_RESPONSE, hdr.echo);
	token = proto_batch_token(buf, &hdr);
	if (token && s->old_server) {
		/* An older server refuses an unknown flag, header only. */
		proto_writer_set_status(&w, WE_STATUS_UNSUPPORTED);
		len = proto_writer_finish(&w);
		(void)sendto(s->fd[worker], out, len, 0, (const struct sockaddr *)from, from_len);
		return;
	}
	if (token && memcmp(token, srv_token, PROTO_TOKEN_SIZE) == 0)
		s->with_token++;
	else if (reqs[0].op != PROTO_OP_TOKEN)
		s->without_token++;
	for (unsigned i = 0; i < n; i++) {
		struct proto_request *r = &reqs[i];
		uint64_t k = srv_key(r->key, r->key_len);
		uint8_t st = WE_STATUS_OK;
		const uint8_t *v = NULL;
		uint32_t vlen = 0;

		if (r->op == PROTO_OP_TOKEN) {
			s->token_ops++;
			if (s->old_server)
				st = WE_STATUS_UNKNOWN_OP;
			else
				v = srv_token, vlen = PROTO_TOKEN_SIZE;
			proto_writer_append(&w, r->op, 0, st, r->opaque, NULL, 0, v, vlen);
			continue;
		}
		s->requests++;
		if (region_map_owner_of_hash(&s->map, keyhash(r->key, r->key_len)) != worker)
			s->misrouted++;
		if (r->op == PROTO_OP_PUT && r->value_len <= SRV_VALUE_MAX) {
			s->present[k] = true;
			s->len[k] = (uint8_t)r->value_len;
			memcpy(s->val[k], r->value, r->value_len);
		} else if (r->op == PROTO_OP_GET) {
			st = s->present[k] ? WE_STATUS_OK : WE_STATUS_NOT_FOUND;
			v = s->val[k];
			vlen = s->present[k] ? s->len[k] : 0;
		} else if (r->op == PROTO_OP_DELETE) {
			st = s->present[k] ? WE_STATUS_OK : WE_STATUS_NOT_FOUND;
			s->present[k] = false;
		} else {
			st = WE_STATUS_BAD_REQUEST;
		}
		proto_writer_append(&w, r->op, 0, st, r->opaque, NULL, 0, v, vlen);
	}
	len = proto_writer_finish(&w);
	(void)sendto(s->fd[worker], out, len, 0, (const struct sockaddr *)from, from_len);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct pollfd pfd[SRV_WORKERS];

	for (int i = 0; i < SRV_WORKERS; i++)
		pfd[i] = (struct pollfd){.fd = s->fd[i], .events = POLLIN};
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (poll(pfd, SRV_WORKERS, 20) <= 0)
			continue;
		for (int i = 0; i < SRV_WORKERS; i++) {
			uint8_t buf[2048];
			struct sockaddr_storage from;
			socklen_t from_len = sizeof(from);
			ssize_t n;

			while ((n = recvfrom(s->fd[i], buf, sizeof(buf), 0, (struct sockaddr *)&from,
					     &from_len)) > 0) {
				srv_answer(s, i, buf, (uint32_t)n, &from, from_len);
				from_len = sizeof(from);
			}
		}
	}
	return NULL;
}

/* ---- running warp-blaster's phases in-process -------------------------- */

struct run {
	struct options o;
	struct blaster b;
	void *ctx;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parse argv (NULL-terminated, without the program name), set up, open. */
static void run_open(struct run *r, const char **args)
{
	char *argv[64] = {"warp-blaster"};
	int argc = 1;
	char err[256];
	const char *why = "";

	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	if (options_parse(&r->o, argc, argv, err, sizeof(err)) != OPTIONS_OK)
		fail_msg("options: %s", err);
	r->o.bc.progress = NULL;
	r->o.bc.log = stderr;
	if (blaster_init(&r->b, &r->o.bc, &why) != 0)
		fail_msg("blaster_init: %s", why);
	if (engine_kernel.open(&r->ctx, &r->o, err, sizeof(err)) != 0)
		fail_msg("engine open: %s", err);
}

/* The address-token handshake as main.c runs it; returns how it ended and
 * sets the token when one came. */
static enum handshake_state run_handshake(struct run *r, uint16_t workers)
{
	struct handshake h;
	char err[256];

	handshake_begin(&h, mono_ns(), workers);
	if (engine_kernel.handshake(r->ctx, &h, err, sizeof(err)) != 0)
		fail_msg("handshake: %s", err);
	if (h.state == HANDSHAKE_GOT_TOKEN) {
		assert_memory_equal(h.token, srv_token, PROTO_TOKEN_SIZE);
		blaster_set_token(&r->b, h.token);
	} else if (h.state == HANDSHAKE_UNSUPPORTED) {
		blaster_set_token(&r->b, NULL);
	}
	return h.state;
}

static void run_phase(struct run *r, enum blaster_phase phase)
{
	char err[256];

	blaster_phase_begin(&r->b, phase, mono_ns());
	if (engine_kernel.run_phase(r->ctx, &r->b, err, sizeof(err)) != 0)
		fail_msg("run_phase: %s", err);
	blaster_phase_end(&r->b, mono_ns());
}

static void run_close(struct run *r)
{
	engine_kernel.close(r->ctx);
	blaster_fini(&r->b);
}

static struct srv *srv_start(pthread_t *t)
{
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->base = bind_consecutive(s->fd, SRV_WORKERS);
	region_map_init_default(&s->map, SRV_WORKERS);
	assert_int_equal(pthread_create(t, NULL, srv_main, s), 0);
	return s;
}

static void srv_stop(struct srv *s, pthread_t t)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	for (int i = 0; i < SRV_WORKERS; i++)
		close(s->fd[i]);
}

/* Closed loop, batches of 4, preload then a short verified run: every
 * request reached its owner's port, everything was answered and right. */
static void test_engine_kernel_native_closed(void **state)
{
	pthread_t t;
	struct srv *s = srv_start(&t);
	struct run *r = calloc(1, sizeof(*r));
	char port[8];
	const char *args[] = {"--port", port, "--workers", "2", "--keys", "2000",
			      "--key-size", "12", "--value-size", "8-64", "--mix",
			      "get=80,put=15,delete=5", "--dist", "zipf:0.9", "--window", "32",
			      "--batch", "4", "--duration", "0.3", "--verify", "--preload",
			      "--no-spin", NULL};

	(void)state;
	snprintf(port, sizeof(port), "%u", s->base);
	run_open(r, args);
	assert_int_equal(run_handshake(r, 2), HANDSHAKE_GOT_TOKEN);
	run_phase(r, BLASTER_PHASE_PRELOAD);
	assert_int_equal(r->b.preload_report.c.answered, 2000);
	run_phase(r, BLASTER_PHASE_RUN);
	assert_false(r->b.no_answer);
	assert_true(r->b.run_report.c.sent > 1000);
	assert_int_equal(r->b.run_report.c.answered, r->b.run_report.c.sent);
	assert_int_equal(r->b.run_report.c.wrong_values, 0);
	assert_true(r->b.run_report.c.verified > r->b.run_report.c.sent / 2);
	assert_true(r->b.run_report.c.dgrams_sent < r->b.run_report.c.sent); /* batching */
	assert_int_equal(r->b.run_report.c.need_token, 0);
	run_close(r);
	free(r);
	srv_stop(s, t);
	assert_true(s->requests > 1000);
	assert_int_equal(s->misrouted, 0);
	/* One handshake; then every request datagram carried the token. */
	assert_int_equal(s->token_ops, 1);
	assert_true(s->with_token > 100);
	assert_int_equal(s->without_token, 0);
	free(s);
}

/* An older server (TOKEN unknown): the handshake says so at once and the
 * run goes on with plain datagrams, all answered. With --no-token there is
 * no handshake and no token either. */
static void test_engine_kernel_older_server(void **state)
{
	pthread_t t;
	struct srv *s = srv_start(&t);
	struct run *r = calloc(1, sizeof(*r));
	char port[8];
	const char *args[] = {"--port", port, "--workers", "2", "--keys", "500",
			      "--batch", "4", "--duration", "0.2", "--no-spin", NULL};
	const char *args_off[] = {"--port", port, "--workers", "2", "--keys", "500",
				  "--duration", "0.2", "--no-spin", "--no-token", NULL};
	uint64_t t0;

	(void)state;
	s->old_server = true;
	snprintf(port, sizeof(port), "%u", s->base);
	run_open(r, args);
	t0 = mono_ns();
	assert_int_equal(run_handshake(r, 2), HANDSHAKE_UNSUPPORTED);
	assert_true(mono_ns() - t0 < HANDSHAKE_RESEND_NS);
	run_phase(r, BLASTER_PHASE_RUN);
	assert_true(r->b.run_report.c.sent > 100);
	assert_int_equal(r->b.run_report.c.answered, r->b.run_report.c.sent);
	assert_int_equal(r->b.run_report.c.rx_batch_errors, 0);
	run_close(r);
	assert_int_equal(s->token_ops, 1);
	assert_int_equal(s->with_token, 0);

	s->old_server = false;
	memset(r, 0, sizeof(*r));
	run_open(r, args_off);
	assert_false(r->o.bc.token);
	run_phase(r, BLASTER_PHASE_RUN);
	assert_int_equal(r->b.run_report.c.answered, r->b.run_report.c.sent);
	run_close(r);
	free(r);
	srv_stop(s, t);
	assert_int_equal(s->token_ops, 1);
	assert_int_equal(s->with_token, 0);
	free(s);
}

/* Nothing answers the handshake: it gives up after HANDSHAKE_TIMEOUT_NS,
 * having tried every HANDSHAKE_RESEND_NS, and the engine can say the port
 * refused. */
static void test_engine_kernel_handshake_no_answer(void **state)
{
	int fd;
	uint16_t base;
	struct run *r = calloc(1, sizeof(*r));
	char port[8];
	const char *args[] = {"--port", port, "--workers", "1", "--no-spin", NULL};
	struct handshake h;
	char err[256];
	uint64_t t0;

	(void)state;
	base = bind_consecutive(&fd, 1);
	close(fd);
	snprintf(port, sizeof(port), "%u", base);
	run_open(r, args);
	t0 = mono_ns();
	handshake_begin(&h, t0, 1);
	assert_int_equal(engine_kernel.handshake(r->ctx, &h, err, sizeof(err)), 0);
	assert_int_equal(h.state, HANDSHAKE_WAITING);
	assert_true(mono_ns() - t0 >= HANDSHAKE_TIMEOUT_NS);
	assert_true(mono_ns() - t0 < HANDSHAKE_TIMEOUT_NS + 500000000ull);
	assert_int_equal(h.tries, HANDSHAKE_TIMEOUT_NS / HANDSHAKE_RESEND_NS);
	assert_non_null(engine_kernel.diagnose(r->ctx));
	assert_non_null(strstr(engine_kernel.diagnose(r->ctx), "refused"));
	run_close(r);
	free(r);
}

/* Open loop at 5000 requests/s for 0.4 s: about 2000 sent, all answered. */
static void test_engine_kernel_native_open(void **state)
{
	pthread_t t;
	struct srv *s = srv_start(&t);
	struct run *r = calloc(1, sizeof(*r));
	char port[8];
	const char *args[] = {"--port", port, "--workers", "2", "--keys", "1000",
			      "--rate", "5000", "--arrival", "constant", "--duration", "0.4",
			      "--no-spin", NULL};

	(void)state;
	snprintf(port, sizeof(port), "%u", s->base);
	run_open(r, args);
	run_phase(r, BLASTER_PHASE_RUN);
	assert_int_equal(r->b.run_report.c.sent, 2000);
	assert_int_equal(r->b.run_report.c.answered, 2000);
	assert_int_equal(r->b.run_report.c.drops, 0);
	run_close(r);
	free(r);
	srv_stop(s, t);
	free(s);
}

/* Nothing listens: the phase ends soon after --no-answer-s with no_answer
 * set, and the engine can say the port refused. */
static void test_engine_kernel_no_answer(void **state)
{
	int fd;
	uint16_t base;
	struct run *r = calloc(1, sizeof(*r));
	char port[8];
	const char *args[] = {"--proto", "memcached", "--port", port, "--no-answer-s", "0.3",
			      "--duration", "5", "--no-spin", NULL};
	const char *why;
	uint64_t t0;

	(void)state;
	base = bind_consecutive(&fd, 1);
	close(fd); /* now nothing listens there */
	snprintf(port, sizeof(port), "%u", base);
	run_open(r, args);
	t0 = mono_ns();
	run_phase(r, BLASTER_PHASE_RUN);
	assert_true(r->b.no_answer);
	assert_true(mono_ns() - t0 < 2000000000ull);
	why = engine_kernel.diagnose(r->ctx);
	assert_non_null(why);
	assert_non_null(strstr(why, "refused"));
	run_close(r);
	free(r);
}

/* Debian's memcached on loopback, one thread, UDP only: a verified run with
 * values large enough for multi-datagram answers has no wrong values. */
static void test_engine_kernel_real_memcached(void **state)
{
	const char *bin = "/usr/bin/memcached";
	char port[8];
	int fd;
	uint16_t base;
	pid_t pid;
	struct run *r;
	const char *args[] = {"--proto", "memcached", "--port", port, "--keys", "500",
			      "--value-size", "100-3000", "--mix", "get=80,put=15,delete=5",
			      "--window", "16", "--duration", "0.5", "--verify", "--preload",
			      "--no-spin", NULL};

	(void)state;
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "memcached not installed: skipping\n");
		skip();
	}
	base = bind_consecutive(&fd, 1);
	close(fd);
	snprintf(port, sizeof(port), "%u", base);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(bin, bin, "-U", port, "-p", "0", "-l", "127.0.0.1", "-t", "1", "-m", "64",
		      "-u", "root", (char *)NULL);
		_exit(127);
	}
	usleep(300000); /* let it bind; the blaster's no-answer check covers a slow start */
	r = calloc(1, sizeof(*r));
	run_open(r, args);
	run_phase(r, BLASTER_PHASE_PRELOAD);
	run_phase(r, BLASTER_PHASE_RUN);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_false(r->b.no_answer);
	assert_true(r->b.run_report.c.answered > 500);
	assert_int_equal(r->b.run_report.c.wrong_values, 0);
	assert_int_equal(r->b.run_report.c.rx_malformed, 0);
	assert_true(r->b.run_report.c.verified > 0);
	assert_true(r->b.run_report.c.dgrams_received > r->b.run_report.c.answered);
	run_close(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_kernel_native_closed),
		cmocka_unit_test(test_engine_kernel_native_open),
		cmocka_unit_test(test_engine_kernel_no_answer),
		cmocka_unit_test(test_engine_kernel_older_server),
		cmocka_unit_test(test_engine_kernel_handshake_no_answer),
		cmocka_unit_test(test_engine_kernel_real_memcached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
