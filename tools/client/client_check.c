/* client_check.c - the check command: read every key of an acknowledgement
 * log back from the server and judge it by the log's rule.
 *
 * DESIGN: the log is read whole first (client_acklog.c keeps per key only
 * what the rule needs), then a tracker source GETs each key once, keys
 * distinct, with the usual batching and retries, and each answer is judged
 * the moment it arrives. Violations are printed as they are found (the
 * first CHECK_PRINT_MAX, the rest counted), then one summary line. The log
 * must not grow meanwhile: run check after the writes run ended (a write
 * issued after the log was read would look like a value never issued).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client_acklog.h"
#include "client_cmd.h"
#include "client_text.h"
#include "we_status.h"

#define CHECK_PRINT_MAX 20

struct check_ctx {
	const struct acklog *log;
	uint32_t n_keys;
	uint32_t next;
	bool stop;
	FILE *out;
	uint32_t *slot_key; /* per ring slot: key index */
	uint64_t checked;
	uint64_t violations;
	uint64_t by_verdict[ACKLOG_VERDICTS];
	uint64_t unanswered;
	uint64_t other_total;
	uint64_t other[256];
};

static int check_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct check_ctx *c = ctx;
	uint8_t key_len;

	if (c->stop || c->next == c->n_keys)
		return 0;
	c->slot_key[idx] = c->next;
	op->op = PROTO_OP_GET;
	op->key = acklog_key(c->log, c->next++, &key_len);
	op->key_len = key_len;
	return 1;
}

static void check_result(void *ctx, uint32_t idx, const struct client_op *op,
			 const uint8_t *value, uint32_t value_len)
{
	struct check_ctx *c = ctx;
	enum acklog_verdict v;
	char detail[256];

	if (op->status == CLIENT_STATUS_TIMEOUT) {
		c->unanswered++;
		c->stop = true;
		return;
	}
	if (op->status != WE_STATUS_OK && op->status != WE_STATUS_NOT_FOUND) {
		c->other_total++;
		c->other[op->status]++;
		return;
	}
	c->checked++;
	v = acklog_judge(c->log, c->slot_key[idx], op->status == WE_STATUS_OK, value, value_len,
			 detail, sizeof(detail));
	if (v == ACKLOG_KEPT)
		return;
	c->violations++;
	c->by_verdict[v]++;
	if (c->violations <= CHECK_PRINT_MAX) {
		char esc[4 * PROTO_KEY_MAX + 1];

		client_escape(op->key, op->key_len, esc);
		fprintf(c->out, "violation: %s: key %s %s\n", acklog_verdict_name(v), esc, detail);
	}
}

static void check_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	(void)ctx;
	(void)idx;
	(void)op;
}

static void check_report(const struct check_ctx *c, FILE *out)
{
	const struct acklog_counts *k = acklog_counts(c->log);

	if (c->violations > CHECK_PRINT_MAX)
		fprintf(out, "violation: ... and %" PRIu64 " more\n",
			c->violations - CHECK_PRINT_MAX);
	fprintf(out,
		"check: %" PRIu64 " of %" PRIu64 " keys checked, %" PRIu64
		" acknowledged writes (%" PRIu64 " issued in %" PRIu64 " runs, %" PRIu64
		" unacknowledged), %" PRIu64 " violations",
		c->checked, k->keys, k->acked, k->issued, k->runs, k->unacked, c->violations);
	for (unsigned v = ACKLOG_KEPT + 1; v < ACKLOG_VERDICTS; v++)
		fprintf(out, "%s%s %" PRIu64, v == ACKLOG_KEPT + 1 ? " (" : ", ",
			acklog_verdict_name(v), c->by_verdict[v]);
	fprintf(out, "), %" PRIu64 " unanswered, %" PRIu64 " other statuses", c->unanswered,
		c->other_total);
	for (unsigned st = 0; st < 256; st++)
		if (c->other[st])
			fprintf(out, " %s %" PRIu64, client_status_name(st), c->other[st]);
	fputc('\n', out);
}

int client_cmd_check(const struct client_args *a, FILE *out, FILE *err)
{
	struct check_ctx c = { .out = out };
	struct client_source src = { check_next, check_result, check_retire, &c, true };
	uint32_t ring = client_track_ring_size(a->window, a->batch, a->n_workers);
	struct acklog *log = NULL;
	struct client_net n;
	struct client_track t;
	bool deadline_hit = false;
	char msg[256];
	FILE *f;
	int rc;

	f = fopen(a->ack_log, "re");
	if (!f) {
		fprintf(err, "warp-client: ack log %s: %s\n", a->ack_log, strerror(errno));
		return CLIENT_EXIT_NOINPUT;
	}
	rc = acklog_load(&log, f, msg, sizeof(msg));
	fclose(f);
	if (rc) {
		fprintf(err, "warp-client: ack log %s: %s\n", a->ack_log, msg);
		return rc == -EINVAL ? CLIENT_EXIT_DATAERR : CLIENT_EXIT_OSERR;
	}
	c.log = log;
	c.n_keys = (uint32_t)acklog_counts(log)->keys;
	c.slot_key = calloc(ring, sizeof(*c.slot_key));
	if (!c.slot_key) {
		fprintf(err, "warp-client: out of memory\n");
		rc = CLIENT_EXIT_OSERR;
		goto out;
	}
	rc = client_cmd_setup(a, ring, a->window, a->batch, &n, &t, err);
	if (rc)
		goto out;
	client_track_start(&t, &src);
	rc = client_cmd_run(&n, &t, client_cmd_deadline(a), -1, &deadline_hit, err);
	if (deadline_hit)
		fprintf(err, "warp-client: the --deadline of %u s passed\n", a->deadline_s);
	if (rc == 0) {
		check_report(&c, out);
		if (c.unanswered || deadline_hit)
			rc = CLIENT_EXIT_NO_ANSWER;
		else if (c.other_total)
			rc = CLIENT_EXIT_STATUS;
		else if (c.violations)
			rc = CLIENT_EXIT_NOT_FOUND;
	}
	client_cmd_teardown(&n, &t);
out:
	free(c.slot_key);
	acklog_free(log);
	return rc;
}
