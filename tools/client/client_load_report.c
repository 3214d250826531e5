/* client_load_report.c - the load command's verdict, table and JSON object.
 *
 * DESIGN: the verdict (which checks failed, the exit status) is computed
 * from the counters alone, so the text table, the JSON object and the exit
 * status cannot disagree. The JSON field names are an interface: the
 * integration tests read them, docs/client.md lists them; add, never rename.
 */
#include "client_load.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "client_cmd.h"
#include "client_text.h"
#include "we_status.h"

static const char *const durability_names[] = { "default", "strong", "eventual", "weak" };

unsigned load_failures(const struct load_report *r, char (*lines)[96], unsigned max)
{
	uint64_t n_keys = r->a->keys;
	unsigned n = 0;

#define FAILED(...)                                                                            \
	do {                                                                                   \
		if (n < max)                                                                   \
			snprintf(lines[n++], sizeof(lines[0]), __VA_ARGS__);                   \
	} while (0)

	if (r->deadline_hit)
		FAILED("the --deadline of %u s passed", r->a->deadline_s);
	for (unsigned p = 0; p < LOAD_PHASES; p++) {
		const struct load_phase_stats *s = &r->ph[p];
		const char *name = load_phase_name(p);

		if (s->passed)
			continue;
		if (!s->ran) {
			FAILED("%s: not run", name);
			continue;
		}
		if (s->timeouts)
			FAILED("%s: %llu requests got no answer", name,
			       (unsigned long long)s->timeouts);
		if (s->other_total)
			FAILED("%s: %llu answers with another status", name,
			       (unsigned long long)s->other_total);
		if (s->wrong_values)
			FAILED("%s: %llu wrong values", name, (unsigned long long)s->wrong_values);
		if (s->unexpected_found)
			FAILED("%s: %llu deleted keys still found", name,
			       (unsigned long long)s->unexpected_found);
		if (p != LOAD_GET_DELETED && s->not_found > s->not_found_retried)
			FAILED("%s: %llu unexpected NOT_FOUND", name,
			       (unsigned long long)(s->not_found - s->not_found_retried));
		if (s->answered + s->timeouts < n_keys)
			FAILED("%s: stopped after %llu of %llu keys", name,
			       (unsigned long long)(s->answered + s->timeouts),
			       (unsigned long long)n_keys);
	}
#undef FAILED
	return n;
}

int load_exit_status(const struct load_report *r)
{
	bool other = false;

	if (r->passed)
		return CLIENT_EXIT_OK;
	if (r->deadline_hit)
		return CLIENT_EXIT_NO_ANSWER;
	for (unsigned p = 0; p < LOAD_PHASES; p++) {
		if (r->ph[p].timeouts)
			return CLIENT_EXIT_NO_ANSWER;
		other |= r->ph[p].other_total != 0;
	}
	return other ? CLIENT_EXIT_STATUS : CLIENT_EXIT_NOT_FOUND;
}

static double seconds(const struct load_phase_stats *s)
{
	return (double)s->elapsed_ns / 1e9;
}

static double ops_per_sec(const struct load_phase_stats *s)
{
	return s->elapsed_ns ? (double)s->answered / seconds(s) : 0.0;
}

void load_report_text(const struct load_report *r, FILE *out)
{
	const struct client_args *a = r->a;
	char fails[16][96];
	unsigned n_fail;

	fprintf(out,
		"load: %llu keys, values %u-%u bytes, seed %llu, batch %u, window %u, "
		"%u worker%s at %s:%u%s\n",
		(unsigned long long)a->keys, a->value_size_min, a->value_size_max,
		(unsigned long long)a->seed, a->batch, a->window, a->n_workers,
		a->n_workers == 1 ? "" : "s", r->server_text, a->port,
		a->misdirect ? ", misdirected" : "");
	fprintf(out, "%-12s %10s %10s %10s %10s %7s %7s %8s %8s %9s %12s\n", "phase", "sent",
		"answered", "ok", "not_found", "wrong", "other", "retries", "timeouts", "seconds",
		"ops/s");
	for (unsigned p = 0; p < LOAD_PHASES; p++) {
		const struct load_phase_stats *s = &r->ph[p];

		if (!s->ran) {
			fprintf(out, "%-12s (not run)\n", load_phase_name(p));
			continue;
		}
		fprintf(out,
			"%-12s %10llu %10llu %10llu %10llu %7llu %7llu %8llu %8llu %9.3f %12.0f\n",
			load_phase_name(p), (unsigned long long)s->sent,
			(unsigned long long)s->answered, (unsigned long long)s->ok,
			(unsigned long long)s->not_found,
			(unsigned long long)(s->wrong_values + s->unexpected_found),
			(unsigned long long)s->other_total, (unsigned long long)s->retries,
			(unsigned long long)s->timeouts, seconds(s), ops_per_sec(s));
	}
	for (unsigned p = 0; p < LOAD_PHASES; p++) {
		const struct load_phase_stats *s = &r->ph[p];

		if (s->other_total) {
			fprintf(out, "  %s: other statuses:", load_phase_name(p));
			for (unsigned st = 0; st < 256; st++)
				if (s->other[st])
					fprintf(out, " %s=%llu", client_status_name(st),
						(unsigned long long)s->other[st]);
			fputc('\n', out);
		}
		if (s->not_found_retried)
			fprintf(out, "  %s: %llu NOT_FOUND on retried requests (accepted)\n",
				load_phase_name(p), (unsigned long long)s->not_found_retried);
		if (s->rx_stale + s->rx_dup + s->rx_invalid + s->rx_foreign + s->tx_errors)
			fprintf(out,
				"  %s: late or stale %llu, duplicate %llu, invalid %llu, "
				"foreign %llu, send errors %llu\n",
				load_phase_name(p), (unsigned long long)s->rx_stale,
				(unsigned long long)s->rx_dup, (unsigned long long)s->rx_invalid,
				(unsigned long long)s->rx_foreign,
				(unsigned long long)s->tx_errors);
	}
	n_fail = load_failures(r, fails, 16);
	if (n_fail == 0 && r->passed) {
		fputs("result: PASS\n", out);
		return;
	}
	fputs("result: FAIL\n", out);
	for (unsigned i = 0; i < n_fail; i++)
		fprintf(out, "  %s\n", fails[i]);
}

/* json_object_set_new that remembers a failure instead of returning it. */
static void jset(json_t *obj, const char *key, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		*bad = true;
}

static json_t *u64_json(uint64_t v)
{
	/* jansson's integers are signed 64-bit: larger values go as strings. */
	if (v > (uint64_t)INT64_MAX) {
		char buf[24];

		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		return json_string(buf);
	}
	return json_integer((json_int_t)v);
}

static json_t *phase_json(const struct load_phase_stats *s, bool *bad)
{
	json_t *o = json_object(), *other = json_object();

	if (!o || !other) {
		json_decref(o);
		json_decref(other);
		*bad = true;
		return NULL;
	}
	for (unsigned st = 0; st < 256; st++)
		if (s->other[st])
			jset(other, client_status_name(st), u64_json(s->other[st]), bad);
	jset(o, "ran", json_boolean(s->ran), bad);
	jset(o, "passed", json_boolean(s->passed), bad);
	jset(o, "sent", u64_json(s->sent), bad);
	jset(o, "answered", u64_json(s->answered), bad);
	jset(o, "ok", u64_json(s->ok), bad);
	jset(o, "not_found", u64_json(s->not_found), bad);
	jset(o, "not_found_after_retry", u64_json(s->not_found_retried), bad);
	jset(o, "wrong_values", u64_json(s->wrong_values), bad);
	jset(o, "unexpected_found", u64_json(s->unexpected_found), bad);
	jset(o, "other_statuses", u64_json(s->other_total), bad);
	jset(o, "other", other, bad);
	jset(o, "retries", u64_json(s->retries), bad);
	jset(o, "transient_retries", u64_json(s->transient_retries), bad);
	jset(o, "need_token_retries", u64_json(s->need_token_retries), bad);
	jset(o, "token_requests", u64_json(s->token_requests), bad);
	jset(o, "timeouts", u64_json(s->timeouts), bad);
	jset(o, "datagrams_sent", u64_json(s->dgram_sent), bad);
	jset(o, "datagrams_resent", u64_json(s->dgram_resent), bad);
	jset(o, "rx_stale", u64_json(s->rx_stale), bad);
	jset(o, "rx_duplicate", u64_json(s->rx_dup), bad);
	jset(o, "rx_invalid", u64_json(s->rx_invalid), bad);
	jset(o, "rx_batch_error", u64_json(s->rx_batch_error), bad);
	jset(o, "rx_foreign", u64_json(s->rx_foreign), bad);
	jset(o, "tx_errors", u64_json(s->tx_errors), bad);
	jset(o, "seconds", json_real(seconds(s)), bad);
	jset(o, "ops_per_sec", json_real(ops_per_sec(s)), bad);
	return o;
}

int load_report_json(const struct load_report *r, FILE *out)
{
	const struct client_args *a = r->a;
	json_t *root = json_object(), *phases = json_object(), *fails = json_array();
	char lines[16][96], prefix[4 * CLIENT_KEY_PREFIX_MAX + 1];
	unsigned n_fail = load_failures(r, lines, 16);
	bool bad = !root || !phases || !fails;
	int rc = 0;

	if (bad) {
		json_decref(root);
		json_decref(phases);
		json_decref(fails);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n_fail; i++)
		if (json_array_append_new(fails, json_string(lines[i])) != 0)
			bad = true;
	for (unsigned p = 0; p < LOAD_PHASES; p++)
		jset(phases, load_phase_name(p), phase_json(&r->ph[p], &bad), &bad);
	jset(root, "command", json_string("load"), &bad);
	jset(root, "passed", json_boolean(r->passed), &bad);
	jset(root, "deadline_hit", json_boolean(r->deadline_hit), &bad);
	jset(root, "failures", fails, &bad);
	jset(root, "server", json_string(r->server_text), &bad);
	jset(root, "port", json_integer(a->port), &bad);
	jset(root, "workers", json_integer(a->n_workers), &bad);
	jset(root, "keys", u64_json(a->keys), &bad);
	client_escape((const uint8_t *)a->key_prefix, strlen(a->key_prefix), prefix);
	jset(root, "key_prefix", json_string(prefix), &bad);
	jset(root, "value_size_min", json_integer(a->value_size_min), &bad);
	jset(root, "value_size_max", json_integer(a->value_size_max), &bad);
	jset(root, "seed", u64_json(a->seed), &bad);
	jset(root, "batch", json_integer(a->batch), &bad);
	jset(root, "window", json_integer(a->window), &bad);
	jset(root, "timeout_ms", json_integer(a->timeout_ms), &bad);
	jset(root, "retries", json_integer(a->retries), &bad);
	jset(root, "misdirect", json_boolean(a->misdirect), &bad);
	jset(root, "durability", json_string(durability_names[a->durability & 3]), &bad);
	jset(root, "address_token", json_string(r->address_token ? r->address_token : "off"),
	     &bad);
	jset(root, "phases", phases, &bad);
	if (bad || json_dumpf(root, out,
			      JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) != 0)
		rc = -ENOMEM;
	else
		fputc('\n', out);
	json_decref(root);
	return rc;
}
