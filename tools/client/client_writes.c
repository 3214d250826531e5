/* client_writes.c - the writes command: PUTs and DELETEs on a key set for a
 * while, each one recorded in an acknowledgement log (client_acklog.h).
 *
 * DESIGN: a tracker source that picks a random key of the set that has no
 * write in flight (so a key's writes reach the server one after the other,
 * in the order they were issued, and the same-key rule of the tracker is
 * not needed), gives each write a unique id (a random run number and a
 * sequence) and, for a PUT, a value that starts with that id. Log lines go
 * into a memory buffer as writes are admitted (I) and answered (A); the
 * tracker calls writes_admitted() at the end of every admission round, before any
 * admitted write is sent, and there the buffer is written to the file with
 * write(2). So an I line is in the file before its datagram leaves, and an
 * A line is in the file before the client waits again: a server killed at
 * any moment finds the log complete up to the last answer the client saw,
 * whether the client then goes on, stops or is killed too.
 *
 * A write with no answer after all its tries ends the run (the server is
 * gone): nothing new is issued, and at the next admission round the writes
 * still waiting are given up (unacknowledged, as they are), so a harness
 * that killed the server sees the client end one retry sequence after the
 * kill, not one per window of writes. Exit 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client_acklog.h"
#include "client_cmd.h"
#include "client_kv.h"
#include "we_status.h"

#define WRITES_LOG_BUF_MIN (64 << 10)

struct writes_slot {
	uint8_t key[CLIENT_KV_KEY_MAX];
	uint64_t key_index;
	struct acklog_id id;
};

struct writes_ctx {
	const struct client_args *a;
	uint64_t run;
	uint64_t seq;
	uint64_t rng;
	uint64_t end_ns;
	bool stop;
	bool give_up;             /* a write went unanswered: abort the rest */
	struct client_track *track;
	uint32_t prefix_len;
	uint32_t value_max;
	uint8_t *busy;            /* per key: a write in flight */
	struct writes_slot *slots; /* per ring slot */
	uint8_t *values;          /* per ring slot, value_max bytes each */
	/* the log */
	int fd;
	char *buf;
	size_t len, cap;
	int io_errno;
	/* counters */
	uint64_t issued, issued_del;
	uint64_t acked_put, acked_del;
	uint64_t unanswered;
	uint64_t other_total;
	uint64_t other[256];
};

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

/* xorshift64*: the key and op choices. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Room for one more line in the buffer (it grows; never flushed here, so
 * a line is never written before the ones the tracker has not sent). */
static char *log_room(struct writes_ctx *c)
{
	if (c->cap - c->len < ACKLOG_LINE_MAX) {
		size_t cap = c->cap * 2;
		char *b = realloc(c->buf, cap);

		if (!b) {
			c->io_errno = ENOMEM;
			c->stop = true;
			return NULL;
		}
		c->buf = b;
		c->cap = cap;
	}
	return c->buf + c->len;
}

static void log_flush(struct writes_ctx *c)
{
	size_t off = 0;

	while (off < c->len && c->io_errno == 0) {
		ssize_t n = write(c->fd, c->buf + off, c->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->io_errno = n < 0 ? errno : EIO;
			c->stop = true;
			break;
		}
		off += (size_t)n;
	}
	c->len = 0;
}

static void writes_admitted(void *ctx)
{
	struct writes_ctx *c = ctx;

	log_flush(c);
	if (c->give_up && !c->track->aborted) {
		client_track_abort(c->track); /* their results write no line */
		log_flush(c);
	}
}

/* A key of the set with no write in flight, from a random start; -1 if
 * every key is busy. */
static int64_t pick_key(struct writes_ctx *c)
{
	uint64_t n = c->a->keys;
	uint64_t k = rng_next(&c->rng) % n;

	for (uint64_t probe = 0; probe < n; probe++, k = k + 1 == n ? 0 : k + 1)
		if (!c->busy[k])
			return (int64_t)k;
	return -1;
}

static int writes_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct writes_ctx *c = ctx;
	const struct client_args *a = c->a;
	struct writes_slot *s = &c->slots[idx];
	char *line;
	int64_t k;

	if (c->stop || client_now_ns() >= c->end_ns)
		return 0;
	k = pick_key(c);
	if (k < 0)
		return -EAGAIN; /* as many writes in flight as keys */
	line = log_room(c);
	if (!line)
		return 0;
	s->key_index = (uint64_t)k;
	s->id.run = c->run;
	s->id.seq = ++c->seq;
	op->key = s->key;
	op->key_len = (uint8_t)client_kv_key(a->key_prefix, c->prefix_len, s->key_index, s->key);
	op->flags = a->durability;
	if (rng_next(&c->rng) % 100 < a->delete_percent) {
		op->op = PROTO_OP_DELETE;
		c->issued_del++;
	} else {
		uint8_t *value = c->values + (size_t)idx * c->value_max;

		op->op = PROTO_OP_PUT;
		op->value_len = acklog_value(s->key, op->key_len, s->id, a->value_size_min,
					     a->value_size_max, value);
		op->value = value;
	}
	c->len += acklog_format_issue(line, wall_us(), s->id, op->op, s->key, op->key_len);
	c->busy[k] = 1;
	c->issued++;
	return 1;
}

static void writes_result(void *ctx, uint32_t idx, const struct client_op *op,
			  const uint8_t *value, uint32_t value_len)
{
	struct writes_ctx *c = ctx;
	struct writes_slot *s = &c->slots[idx];
	char *line;

	(void)value;
	(void)value_len;
	c->busy[s->key_index] = 0;
	switch (op->status) {
	case WE_STATUS_OK:
	case WE_STATUS_NOT_FOUND:
		if (op->status == WE_STATUS_NOT_FOUND && op->op != PROTO_OP_DELETE)
			goto other;
		/* A DELETE answered NOT_FOUND: the key is gone all the same. */
		line = log_room(c);
		if (line)
			c->len += acklog_format_ack(line, wall_us(), s->id, op->op, op->status,
						    op->key, op->key_len);
		if (op->op == PROTO_OP_DELETE)
			c->acked_del++;
		else
			c->acked_put++;
		return;
	case CLIENT_STATUS_TIMEOUT:
		c->unanswered++;
		c->stop = true;
		c->give_up = true;
		return;
	default:
		break;
	}
other:
	c->other_total++;
	c->other[op->status]++;
}

static void writes_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	(void)ctx;
	(void)idx;
	(void)op;
}

static const char *durability_name(uint8_t d)
{
	switch (d) {
	case PROTO_DUR_STRONG:
		return "strong";
	case PROTO_DUR_EVENTUAL:
		return "eventual";
	case PROTO_DUR_WEAK:
		return "weak";
	default:
		return "default";
	}
}

static uint64_t run_nonce(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = client_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() << 32;
	return v;
}

/* Open the log for appending; a new file gets a comment naming the format.
 * Then the run's R line. Returns 0 or an exit status. */
static int log_open(struct writes_ctx *c, FILE *err)
{
	struct stat st;
	char *line;

	c->fd = open(c->a->ack_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (c->fd < 0 || fstat(c->fd, &st) != 0) {
		fprintf(err, "warp-client: ack log %s: %s\n", c->a->ack_log, strerror(errno));
		return CLIENT_EXIT_CANTCREAT;
	}
	if (st.st_size == 0)
		c->len += (size_t)snprintf(c->buf, c->cap,
					   "# warp-client acknowledgement log, format 1 "
					   "(docs/client.md, writes and check)\n");
	line = log_room(c);
	if (!line)
		return CLIENT_EXIT_OSERR;
	c->len += acklog_format_run(line, wall_us(), c->run, durability_name(c->a->durability),
				    c->a->value_size_min, c->a->value_size_max);
	log_flush(c);
	if (c->io_errno) {
		fprintf(err, "warp-client: ack log %s: %s\n", c->a->ack_log, strerror(c->io_errno));
		return CLIENT_EXIT_OSERR;
	}
	return 0;
}

static void writes_report(const struct writes_ctx *c, uint64_t elapsed_ns, FILE *out)
{
	uint64_t acked = c->acked_put + c->acked_del;
	double s = (double)elapsed_ns / 1e9;

	fprintf(out,
		"writes: run %016" PRIx64 ", %" PRIu64 " issued (%" PRIu64 " delete), %" PRIu64
		" acknowledged (%" PRIu64 " put, %" PRIu64 " delete), %" PRIu64
		" unanswered, %" PRIu64 " other, %.3f s, %.0f acknowledged/s\n",
		c->run, c->issued, c->issued_del, acked, c->acked_put, c->acked_del,
		c->unanswered, c->other_total, s, s > 0 ? (double)acked / s : 0.0);
	if (c->other_total) {
		fputs("other:", out);
		for (unsigned st = 0; st < 256; st++)
			if (c->other[st])
				fprintf(out, " %s %" PRIu64, client_status_name(st), c->other[st]);
		fputc('\n', out);
	}
}

int client_cmd_writes(const struct client_args *a, FILE *out, FILE *err)
{
	struct writes_ctx c = { .a = a, .fd = -1 };
	struct client_source src = { writes_next, writes_result, writes_retire, &c, true };
	uint32_t ring = client_track_ring_size(a->window, a->batch, a->n_workers);
	struct client_net n;
	struct client_track t;
	bool deadline_hit = false;
	uint64_t t0;
	int rc;

	c.run = run_nonce();
	c.rng = c.run | 1;
	c.prefix_len = (uint32_t)strlen(a->key_prefix);
	c.value_max = a->value_size_max > ACKLOG_VALUE_LEAST_MAX ? a->value_size_max
								 : ACKLOG_VALUE_LEAST_MAX;
	c.busy = calloc(a->keys, 1);
	c.slots = calloc(ring, sizeof(*c.slots));
	c.values = calloc(ring, c.value_max);
	c.cap = WRITES_LOG_BUF_MIN;
	c.buf = malloc(c.cap);
	if (!c.busy || !c.slots || !c.values || !c.buf) {
		fprintf(err, "warp-client: out of memory\n");
		rc = CLIENT_EXIT_OSERR;
		goto out;
	}
	rc = log_open(&c, err);
	if (rc)
		goto out;
	rc = client_cmd_setup(a, ring, a->window, a->batch, &n, &t, err);
	if (rc)
		goto out;
	t0 = client_now_ns();
	c.end_ns = t0 + (uint64_t)a->duration_s * 1000000000ull;
	client_track_start(&t, &src);
	c.track = &t;
	t.admitted = writes_admitted;
	rc = client_cmd_run(&n, &t, client_cmd_deadline(a), -1, &deadline_hit, err);
	log_flush(&c); /* whatever came after the last admission */
	if (deadline_hit)
		fprintf(err, "warp-client: the --deadline of %u s passed\n", a->deadline_s);
	if (rc == 0) {
		writes_report(&c, client_now_ns() - t0, out);
		if (c.io_errno) {
			fprintf(err, "warp-client: ack log %s: %s\n", a->ack_log,
				strerror(c.io_errno));
			rc = CLIENT_EXIT_OSERR;
		} else if (c.unanswered || deadline_hit) {
			rc = CLIENT_EXIT_NO_ANSWER;
		} else if (c.other_total) {
			rc = CLIENT_EXIT_STATUS;
		}
	}
	client_cmd_teardown(&n, &t);
out:
	if (c.fd >= 0)
		close(c.fd);
	free(c.busy);
	free(c.slots);
	free(c.values);
	free(c.buf);
	return rc;
}
