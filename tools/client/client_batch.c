/* client_batch.c - the batch command: request lines in, result lines out.
 *
 * DESIGN: the input is read in non-blocking steps from a fixed buffer, so a
 * slow pipe or a person typing does not hold back answers already on their
 * way: when no full line is ready the source says -EAGAIN and the loop polls
 * stdin beside the socket. Each line takes one slot of a storage array
 * parallel to the tracker's ring (same index), holding the request and,
 * later, a GET's value; results print when the tracker retires ops, which is
 * in input order. A bad line becomes a placeholder op (CLIENT_OP_NOP) so its
 * BAD_LINE keeps its place in the output. Requests on the same key are never
 * in flight together (the tracker's keyset), so the server applies them in
 * input order.
 */
#include "client_cmd.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_text.h"
#include "we_assert.h"
#include "we_status.h"

/* Longest input line: a put of the largest key and value, all \xHH. */
#define LINE_BUF (4 * CLIENT_KV_MAX + 64)
/* The batch command's ring is capped: each slot stores a line (~1.7 KiB). */
#define BATCH_RING_MAX 4096u

struct line_reader {
	int fd;
	size_t start, end;
	bool eof;
	bool skipping; /* inside an overlong line, dropping bytes to its newline */
	char buf[LINE_BUF];
};

struct batch_slot {
	struct client_line line;
	uint64_t line_no;
	bool bad;
	char reason[64];
};

struct batch_ctx {
	struct line_reader rd;
	struct batch_slot *slots;
	const struct client_args *a;
	FILE *out;
	FILE *err;
	uint64_t line_no;
	uint64_t n_timeout;
	uint64_t n_error;
	char result[CLIENT_RESULT_LINE_MAX];
};

/* Next input line. Returns 1 with the line in (*s, *n) (no newline), 0 at
 * end of input, -EAGAIN if no full line is ready now, -E2BIG for a line that
 * was too long (dropped), or another negative errno. */
static int reader_next(struct line_reader *r, const char **s, size_t *n)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		ssize_t got;

		if (nl) {
			*s = r->buf + r->start;
			*n = (size_t)(nl - *s);
			r->start = (size_t)(nl - r->buf) + 1;
			if (r->skipping) {
				r->skipping = false;
				return -E2BIG;
			}
			return 1;
		}
		if (r->eof) {
			/* A last line without a newline still counts. */
			if (r->start == r->end) {
				if (!r->skipping)
					return 0;
				r->skipping = false;
				return -E2BIG;
			}
			*s = r->buf + r->start;
			*n = r->end - r->start;
			r->start = r->end;
			if (r->skipping) {
				r->skipping = false;
				return -E2BIG;
			}
			return 1;
		}
		if (r->start == 0 && r->end == sizeof(r->buf)) {
			r->skipping = true;
			r->end = 0;
		}
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		if (poll(&pfd, 1, 0) == 0)
			return -EAGAIN;
		got = read(r->fd, r->buf + r->end, sizeof(r->buf) - r->end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -EAGAIN;
			return -errno;
		}
		if (got == 0)
			r->eof = true;
		r->end += (size_t)got;
	}
}

static int batch_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct batch_ctx *c = ctx;
	struct batch_slot *slot = &c->slots[idx];
	const char *s = NULL;
	size_t n = 0;
	int rc;

	for (;;) {
		rc = reader_next(&c->rd, &s, &n);
		if (rc == -EAGAIN) {
			/* Input stalls: let whoever feeds it see the answers so far. */
			fflush(c->out);
			return rc;
		}
		if (rc == 0)
			return 0;
		c->line_no++;
		slot->line_no = c->line_no;
		slot->bad = false;
		if (rc == -E2BIG) {
			slot->bad = true;
			snprintf(slot->reason, sizeof(slot->reason), "line longer than %u bytes",
				 LINE_BUF);
		} else if (rc < 0) {
			fprintf(c->err, "warp-client: reading stdin: %s\n", strerror(-rc));
			return 0;
		} else {
			rc = client_line_parse(s, n, &slot->line, slot->reason,
					       sizeof(slot->reason));
			if (rc == 0)
				continue; /* blank or comment */
			slot->bad = rc < 0;
		}
		break;
	}
	if (slot->bad) {
		op->op = CLIENT_OP_NOP;
		return 1;
	}
	op->op = slot->line.op;
	op->key = slot->line.key;
	op->key_len = slot->line.key_len;
	if (op->op == PROTO_OP_PUT) {
		op->value = slot->line.value;
		op->value_len = slot->line.value_len;
	}
	if (op->op != PROTO_OP_GET)
		op->flags = c->a->durability;
	return 1;
}

static void batch_result(void *ctx, uint32_t idx, const struct client_op *op,
			 const uint8_t *value, uint32_t value_len)
{
	struct batch_ctx *c = ctx;
	struct batch_slot *slot = &c->slots[idx];

	(void)op;
	/* A GET has no request value: its buffer now holds the answer. The
	 * tracker bounds value_len by the datagram size. */
	WE_ASSERT(value_len <= sizeof(slot->line.value));
	if (value_len)
		memcpy(slot->line.value, value, value_len);
	slot->line.value_len = value_len;
}

static void batch_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	struct batch_ctx *c = ctx;
	struct batch_slot *slot = &c->slots[idx];
	size_t n;

	if (slot->bad) {
		fprintf(c->out, "BAD_LINE %s\n", slot->reason);
		fprintf(c->err, "warp-client: line %llu: %s\n", (unsigned long long)slot->line_no,
			slot->reason);
		c->n_error++;
		return;
	}
	n = client_result_format(c->result, op->op, op->status, slot->line.value,
				 slot->line.value_len, c->a->hex);
	fwrite(c->result, 1, n, c->out);
	if (op->status == CLIENT_STATUS_TIMEOUT)
		c->n_timeout++;
	else if (op->status != WE_STATUS_OK && op->status != WE_STATUS_NOT_FOUND)
		c->n_error++;
}

int client_cmd_batch(const struct client_args *a, int in_fd, FILE *out, FILE *err)
{
	struct batch_ctx *c = calloc(1, sizeof(*c));
	struct client_source src = { batch_next, batch_result, batch_retire, c, false };
	uint32_t ring = client_track_ring_size(a->window, a->batch, a->n_workers);
	struct client_net n;
	struct client_track t;
	bool deadline_hit = false;
	int rc;

	if (ring > BATCH_RING_MAX)
		ring = BATCH_RING_MAX;
	if (ring < a->batch)
		ring = a->batch;
	if (c)
		c->slots = calloc(ring, sizeof(*c->slots));
	if (!c || !c->slots) {
		fprintf(err, "warp-client: out of memory\n");
		free(c);
		return CLIENT_EXIT_OSERR;
	}
	c->rd.fd = in_fd;
	c->a = a;
	c->out = out;
	c->err = err;
	rc = client_cmd_setup(a, ring, a->window, a->batch, &n, &t, err);
	if (rc == 0) {
		client_track_start(&t, &src);
		rc = client_cmd_run(&n, &t, client_cmd_deadline(a), in_fd, &deadline_hit, err);
		client_cmd_teardown(&n, &t);
	}
	fflush(out);
	if (rc == 0) {
		if (deadline_hit)
			fprintf(err, "warp-client: the --deadline of %u s passed after line %llu\n",
				a->deadline_s, (unsigned long long)c->line_no);
		if (c->n_timeout)
			fprintf(err, "warp-client: %llu requests got no answer\n",
				(unsigned long long)c->n_timeout);
		if (c->n_timeout || deadline_hit)
			rc = CLIENT_EXIT_NO_ANSWER;
		else if (c->n_error)
			rc = CLIENT_EXIT_STATUS;
	}
	free(c->slots);
	free(c);
	return rc;
}
