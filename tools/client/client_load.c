/* client_load.c - the load command: put, verify, delete, verify gone.
 *
 * DESIGN: four phases over the same N keys, each a full run of the tracker
 * with a source that generates key i and (for PUT) its value on the fly into
 * storage parallel to the ring; nothing proportional to N is kept. Values
 * are a function of key and seed (client_kv.h), so the GET phase verifies
 * each answer the moment it arrives. Keys are distinct within a phase, so
 * the same-key ordering rule is off and the window stays full.
 *
 * Retries are safe: a PUT sent twice writes the same bytes; a DELETE whose
 * first try was applied but unanswered answers NOT_FOUND on the retry, which
 * is accepted only for a request that was indeed sent more than once.
 *
 * The first request that gets no answer after all its tries stops the
 * phase's admissions and skips the phases after it: a server that stopped
 * answering would otherwise cost every remaining key the full retry time.
 */
#include "client_load.h"

#include <stdlib.h>
#include <string.h>

#include "client_cmd.h"
#include "client_kv.h"
#include "client_text.h"
#include "we_status.h"

struct load_ctx {
	const struct client_args *a;
	enum load_phase phase;
	uint64_t next_key;
	bool stop;
	uint32_t prefix_len;
	uint32_t value_max;
	uint8_t (*keys)[CLIENT_KV_KEY_MAX]; /* per ring slot */
	uint8_t *values;                    /* per ring slot, value_max bytes each */
	struct load_phase_stats *cur;
};

static const char *const phase_names[LOAD_PHASES] = {
	[LOAD_PUT] = "put",
	[LOAD_GET] = "get",
	[LOAD_DELETE] = "delete",
	[LOAD_GET_DELETED] = "get_deleted",
};

static const uint8_t phase_ops[LOAD_PHASES] = {
	[LOAD_PUT] = PROTO_OP_PUT,
	[LOAD_GET] = PROTO_OP_GET,
	[LOAD_DELETE] = PROTO_OP_DELETE,
	[LOAD_GET_DELETED] = PROTO_OP_GET,
};

const char *load_phase_name(enum load_phase p)
{
	return (unsigned)p < LOAD_PHASES ? phase_names[p] : "?";
}

static int load_next(void *ctx, uint32_t idx, struct client_op *op)
{
	struct load_ctx *c = ctx;
	const struct client_args *a = c->a;
	uint8_t *key = c->keys[idx];

	if (c->stop || c->next_key == a->keys)
		return 0;
	op->op = phase_ops[c->phase];
	op->key = key;
	op->key_len = (uint8_t)client_kv_key(a->key_prefix, c->prefix_len, c->next_key++, key);
	if (op->op != PROTO_OP_GET)
		op->flags = a->durability;
	if (op->op == PROTO_OP_PUT) {
		uint8_t *value = c->values + (size_t)idx * c->value_max;

		op->value_len = client_kv_value_len(key, op->key_len, a->seed, a->value_size_min,
						    a->value_size_max);
		client_kv_value(key, op->key_len, a->seed, value, op->value_len);
		op->value = value;
	}
	return 1;
}

static void load_result(void *ctx, uint32_t idx, const struct client_op *op,
			const uint8_t *value, uint32_t value_len)
{
	struct load_ctx *c = ctx;
	struct load_phase_stats *s = c->cur;
	const struct client_args *a = c->a;

	(void)idx;
	switch (op->status) {
	case WE_STATUS_OK:
		s->ok++;
		if (c->phase == LOAD_GET &&
		    !client_kv_value_check(op->key, op->key_len, a->seed, a->value_size_min,
					   a->value_size_max, value, value_len))
			s->wrong_values++;
		if (c->phase == LOAD_GET_DELETED)
			s->unexpected_found++;
		break;
	case WE_STATUS_NOT_FOUND:
		s->not_found++;
		if (c->phase == LOAD_DELETE && op->tries > 1)
			s->not_found_retried++;
		break;
	case CLIENT_STATUS_TIMEOUT:
		c->stop = true;
		break;
	default:
		s->other_total++;
		s->other[op->status]++;
		break;
	}
}

static void load_retire(void *ctx, uint32_t idx, const struct client_op *op)
{
	(void)ctx;
	(void)idx;
	(void)op;
}

bool load_phase_passed(enum load_phase p, const struct load_phase_stats *s, uint64_t n_keys)
{
	if (!s->ran || s->timeouts != 0 || s->other_total != 0)
		return false;
	switch (p) {
	case LOAD_PUT:
		return s->ok == n_keys;
	case LOAD_GET:
		return s->ok == n_keys && s->wrong_values == 0;
	case LOAD_DELETE:
		return s->ok + s->not_found_retried == n_keys &&
		       s->not_found == s->not_found_retried;
	case LOAD_GET_DELETED:
		return s->not_found == n_keys;
	case LOAD_PHASES:
		break;
	}
	return false;
}

static void copy_stats(struct load_phase_stats *s, const struct client_track_stats *ts,
		       const struct client_net *n, uint64_t foreign0, uint64_t tx_err0)
{
	s->sent = ts->req_sent;
	s->answered = ts->req_answered;
	s->retries = ts->req_resent;
	s->transient_retries = ts->req_transient;
	s->need_token_retries = ts->need_token;
	s->token_requests = ts->token_sent;
	s->timeouts = ts->req_timeout;
	s->dgram_sent = ts->dgram_sent;
	s->dgram_resent = ts->dgram_resent;
	s->rx_stale = ts->rx_stale;
	s->rx_dup = ts->rx_dup;
	s->rx_invalid = ts->rx_invalid;
	s->rx_batch_error = ts->rx_batch_error;
	s->rx_foreign = n->rx_foreign - foreign0;
	s->tx_errors = n->tx_errors - tx_err0;
}

/* Run all phases; fills r. Returns 0 or an exit status for a local failure. */
static int load_run(struct load_ctx *c, struct client_net *n, struct client_track *t,
		    struct load_report *r, FILE *err)
{
	struct client_source src = { load_next, load_result, load_retire, c, true };
	uint64_t deadline = client_cmd_deadline(c->a);

	for (unsigned p = 0; p < LOAD_PHASES && !c->stop && !r->deadline_hit; p++) {
		struct load_phase_stats *s = &r->ph[p];
		uint64_t foreign0 = n->rx_foreign, tx_err0 = n->tx_errors, t0;
		int rc;

		c->phase = p;
		c->next_key = 0;
		c->cur = s;
		s->ran = true;
		client_track_start(t, &src);
		t0 = client_now_ns();
		rc = client_cmd_run(n, t, deadline, -1, &r->deadline_hit, err);
		s->elapsed_ns = client_now_ns() - t0;
		copy_stats(s, &t->stats, n, foreign0, tx_err0);
		s->passed = load_phase_passed(p, s, c->a->keys);
		if (rc)
			return rc;
	}
	return 0;
}

int client_cmd_load(const struct client_args *a, FILE *out, FILE *err)
{
	struct load_report *r = calloc(1, sizeof(*r));
	struct load_ctx c = { .a = a };
	uint32_t ring = client_track_ring_size(a->window, a->batch, a->n_workers);
	struct client_net n;
	struct client_track t;
	int rc;

	c.prefix_len = (uint32_t)strlen(a->key_prefix);
	c.value_max = a->value_size_max ? a->value_size_max : 1;
	c.keys = calloc(ring, sizeof(*c.keys));
	c.values = calloc(ring, c.value_max);
	if (!r || !c.keys || !c.values) {
		fprintf(err, "warp-client: out of memory\n");
		rc = CLIENT_EXIT_OSERR;
		goto out;
	}
	rc = client_cmd_setup(a, ring, a->window, a->batch, &n, &t, err);
	if (rc)
		goto out;
	r->a = a;
	r->server_text = n.server_text;
	rc = load_run(&c, &n, &t, r, err);
	r->address_token = client_token_state_name(&t.tok);
	if (rc == 0) {
		r->passed = true;
		for (unsigned p = 0; p < LOAD_PHASES; p++)
			r->passed &= r->ph[p].passed;
		if (a->json)
			rc = load_report_json(r, out) ? CLIENT_EXIT_OSERR : 0;
		else
			load_report_text(r, out);
		if (rc == 0)
			rc = load_exit_status(r);
	}
	client_cmd_teardown(&n, &t);
out:
	free(c.keys);
	free(c.values);
	free(r);
	return rc;
}
