/* client_cmd.c - shared set-up of the networked commands; put/get/del; ping.
 *
 * DESIGN: every networked command is a client_source over the same tracker
 * and loop (client_track.c, client_net.c); a single request is just a source
 * that yields one op. So `get` gets the same retries, reply matching and
 * forwarding tolerance as `load`, and the exit statuses come from one place:
 * the status of the answer, or the absence of one.
 */
#include "client_cmd.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client_text.h"
#include "we_status.h"

static uint16_t make_nonce(void)
{
	uint16_t v;

	/* Only separates this run's echoes from another's; any value works. */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint16_t)(client_now_ns() ^ (uint64_t)getpid());
	return v;
}

int client_cmd_setup(const struct client_args *a, uint32_t ring_ops, uint32_t window,
		     uint32_t batch, struct client_net *n, struct client_track *t, FILE *err)
{
	struct client_track_cfg cfg = {
		.ring_ops = ring_ops ? ring_ops
				     : client_track_ring_size(window, batch, a->n_workers),
		.window = window,
		.batch = batch,
		.n_workers = a->n_workers,
		.misdirect = a->misdirect,
		.timeout_ns = (uint64_t)a->timeout_ms * 1000000ull,
		.retries = a->retries,
		.nonce = make_nonce(),
		.token = !a->no_token,
		.map = a->region_map_path ? &a->region_map : NULL,
	};
	char msg[160];
	int rc;

	rc = client_net_open(n, a->server, a->port, a->n_workers, msg, sizeof(msg));
	if (rc) {
		fprintf(err, "warp-client: %s\n", msg);
		return rc == -EINVAL ? CLIENT_EXIT_USAGE : CLIENT_EXIT_OSERR;
	}
	rc = client_track_init(t, &cfg);
	if (rc) {
		fprintf(err, "warp-client: cannot set up the request table: %s\n", strerror(-rc));
		client_net_close(n);
		return CLIENT_EXIT_OSERR;
	}
	return 0;
}

void client_cmd_teardown(struct client_net *n, struct client_track *t)
{
	client_track_fini(t);
	client_net_close(n);
}

uint64_t client_cmd_deadline(const struct client_args *a)
{
	if (a->deadline_s == 0)
		return 0;
	return client_now_ns() + (uint64_t)a->deadline_s * 1000000000ull;
}

int client_cmd_run(struct client_net *n, struct client_track *t, uint64_t deadline_ns,
		   int src_fd, bool *deadline_hit, FILE *err)
{
	int rc = client_net_run(n, t, deadline_ns, src_fd);

	*deadline_hit = rc == -ETIMEDOUT;
	if (rc && rc != -ETIMEDOUT) {
		fprintf(err, "warp-client: socket error: %s\n", strerror(-rc));
		client_track_abort(t);
		return CLIENT_EXIT_OSERR;
	}
	return 0;
}

/* put, get, del: a source of exactly one op. */
struct one_ctx {
	const struct client_args *a;
	bool given;
	uint8_t op;
	uint8_t status;
	uint8_t tries;
	uint16_t worker;
	uint32_t value_len;
	uint8_t value[CLIENT_KV_MAX];
};

static int one_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct one_ctx *c = ctx;

	(void)idx;
	if (c->given)
		return 0;
	c->given = true;
	op->op = c->op;
	op->key = (const uint8_t *)c->a->key;
	op->key_len = (uint8_t)strlen(c->a->key);
	if (c->op == PROTO_OP_PUT) {
		op->value = (const uint8_t *)c->a->value;
		op->value_len = (uint32_t)strlen(c->a->value);
	}
	if (c->op != PROTO_OP_GET)
		op->flags = c->a->durability;
	return 1;
}

static void one_result(void *ctx, uint32_t idx, const struct client_op *op, const uint8_t *value,
		       uint32_t value_len)
{
	struct one_ctx *c = ctx;

	(void)idx;
	c->status = op->status;
	c->tries = op->tries;
	c->worker = op->worker;
	c->value_len = value_len;
	if (value_len)
		memcpy(c->value, value, value_len);
}

static void one_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	(void)ctx;
	(void)idx;
	(void)op;
}

static void print_value(FILE *out, const uint8_t *v, uint32_t len, bool hex)
{
	if (hex) {
		char buf[2 * CLIENT_KV_MAX + 1];

		client_hex_encode(v, len, buf);
		fprintf(out, "%s\n", buf);
	} else {
		fwrite(v, 1, len, out);
	}
}

/* The exit status for a request's outcome; prints the diagnosis to err. */
static int report_status(const struct client_net *n, const char *what, const char *key,
			 unsigned status, unsigned tries, uint16_t worker, FILE *err)
{
	char esc[4 * PROTO_KEY_MAX + 1];

	client_escape((const uint8_t *)key, strlen(key), esc);
	if (status == WE_STATUS_OK)
		return CLIENT_EXIT_OK;
	if (status == CLIENT_STATUS_TIMEOUT) {
		fprintf(err, "warp-client: %s %s: no answer from %s:%u after %u tries\n", what, esc,
			n->server_text, n->port_base + worker, tries);
		if (n->tx_errors)
			fprintf(err, "warp-client: sending failed %llu times, last: %s\n",
				(unsigned long long)n->tx_errors, strerror(n->tx_last_errno));
		return CLIENT_EXIT_NO_ANSWER;
	}
	fprintf(err, "warp-client: %s %s: %s (%s)\n", what, esc, we_status_name(status),
		we_status_text(status));
	return status == WE_STATUS_NOT_FOUND ? CLIENT_EXIT_NOT_FOUND : CLIENT_EXIT_STATUS;
}

int client_cmd_one(const struct client_args *a, FILE *out, FILE *err)
{
	struct one_ctx c = { .a = a, .status = CLIENT_STATUS_TIMEOUT };
	struct client_source src = { one_next, one_result, one_retire, &c, true };
	struct client_net n;
	struct client_track t;
	bool deadline_hit;
	int rc;

	switch (a->cmd) {
	case CLIENT_CMD_PUT:
		c.op = PROTO_OP_PUT;
		break;
	case CLIENT_CMD_GET:
		c.op = PROTO_OP_GET;
		break;
	default:
		c.op = PROTO_OP_DELETE;
		break;
	}
	rc = client_cmd_setup(a, 64, 1, 1, &n, &t, err);
	if (rc)
		return rc;
	client_track_start(&t, &src);
	rc = client_cmd_run(&n, &t, client_cmd_deadline(a), -1, &deadline_hit, err);
	if (rc == 0 && deadline_hit)
		fprintf(err, "warp-client: the --deadline of %u s passed\n", a->deadline_s);
	if (rc == 0) {
		rc = report_status(&n, client_cmd_name(a->cmd), a->key, c.status, c.tries, c.worker,
				   err);
		if (rc == CLIENT_EXIT_OK && c.op == PROTO_OP_GET)
			print_value(out, c.value, c.value_len, a->hex);
	}
	client_cmd_teardown(&n, &t);
	return rc;
}

/* ping: one PING per worker port, each forced to its port. */
struct ping_ctx {
	uint16_t n_workers;
	uint16_t next;
	uint64_t start_ns;
	uint64_t *rtt_ns;
	uint8_t *status;
	uint8_t *tries;
};

static int ping_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct ping_ctx *c = ctx;

	(void)idx;
	if (c->next == c->n_workers)
		return 0;
	op->op = PROTO_OP_PING;
	op->key = (const uint8_t *)"ping";
	op->key_len = 4;
	op->worker = c->next++;
	return 1;
}

static void ping_result(void *ctx, uint32_t idx, const struct client_op *op,
			const uint8_t *value, uint32_t value_len)
{
	struct ping_ctx *c = ctx;

	(void)idx;
	(void)value;
	(void)value_len;
	/* From the ping's first send, which follows the address-token
	 * handshake, if there is one. */
	c->rtt_ns[op->worker] = client_now_ns() - (op->sent_ns ? op->sent_ns : c->start_ns);
	c->status[op->worker] = op->status;
	c->tries[op->worker] = op->tries;
}

int client_cmd_ping(const struct client_args *a, FILE *out, FILE *err)
{
	uint64_t rtt_ns[CLIENT_WORKERS_MAX];
	uint8_t status[CLIENT_WORKERS_MAX], tries[CLIENT_WORKERS_MAX];
	struct ping_ctx c = { a->n_workers, 0, 0, rtt_ns, status, tries };
	struct client_source src = { ping_next, ping_result, one_retire, &c, true };
	uint32_t window = a->n_workers < CLIENT_WINDOW_MAX ? a->n_workers : CLIENT_WINDOW_MAX;
	struct client_net n;
	struct client_track t;
	bool deadline_hit;
	int rc, worst = CLIENT_EXIT_OK;

	memset(status, CLIENT_STATUS_TIMEOUT, sizeof(status));
	memset(tries, 0, sizeof(tries));
	rc = client_cmd_setup(a, 0, window, 1, &n, &t, err);
	if (rc)
		return rc;
	client_track_start(&t, &src);
	c.start_ns = client_now_ns();
	rc = client_cmd_run(&n, &t, client_cmd_deadline(a), -1, &deadline_hit, err);
	if (rc == 0 && deadline_hit)
		fprintf(err, "warp-client: the --deadline of %u s passed\n", a->deadline_s);
	for (uint16_t w = 0; rc == 0 && w < a->n_workers; w++) {
		fprintf(out, "worker %u %s:%u %s", w, n.server_text, a->port + w,
			client_status_name(status[w]));
		if (status[w] == CLIENT_STATUS_TIMEOUT) {
			fprintf(out, " after %u tries\n", tries[w]);
			worst = CLIENT_EXIT_NO_ANSWER;
			continue;
		}
		fprintf(out, " %.3f ms", (double)rtt_ns[w] / 1e6);
		if (tries[w] > 1)
			fprintf(out, " (%u tries)", tries[w]);
		fputc('\n', out);
		if (status[w] != WE_STATUS_OK && worst < CLIENT_EXIT_STATUS)
			worst = CLIENT_EXIT_STATUS;
	}
	client_cmd_teardown(&n, &t);
	return rc ? rc : worst;
}
