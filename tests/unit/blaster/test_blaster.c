/* test_blaster.c - the engine-independent core of a run, driven by a fake
 * clock against in-process fake servers (native and memcached): requests go
 * to their key's owner in batches of at most --batch, the window and the
 * duration hold, every answer is matched and verified, wrong values are
 * caught, lost requests time out, a silent target is given up on, and open
 * loop latency is measured from the intended send time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blaster.h"
#include "blaster_test.h"
#include "codec_mc.h"
#include "proto.h"

#define MS 1000000ull
#define US 1000ull
#define KEYS 500
#define VALUE_MAX 4000

/* ---- a fake server ----------------------------------------------------- */

struct answer {
	uint8_t buf[1500];
	uint32_t len;
	uint64_t at_ns;
};

struct fake {
	bool memcached;
	uint16_t workers;
	struct region_map map;
	/* The store: key index -> value. */
	bool present[KEYS];
	uint32_t len[KEYS];
	uint8_t val[KEYS][VALUE_MAX];
	/* Behaviour. */
	uint64_t delay_ns;
	unsigned drop_every;     /* drop every n-th request datagram (0: none) */
	unsigned corrupt_every;  /* corrupt every n-th GET hit (0: none) */
	unsigned header_error_every;
	bool silent;
	bool reverse_fragments;
	/* Address validation (native): with a token set, a GET hit whose answer
	 * would pass PROTO_AMPLIFICATION_MAX x the request's bytes is withheld
	 * (NEED_TOKEN) from a datagram without that token. */
	const uint8_t *token;
	const uint8_t *next_token;   /* becomes the token after change_token_at datagrams */
	uint64_t change_token_at;
	/* Observations. */
	bool last_validated;         /* the last request datagram had the token */
	uint64_t token_ops;          /* TOKEN requests answered */
	uint64_t dgrams;
	uint64_t requests;
	uint64_t misrouted;
	uint64_t corrupted;
	unsigned max_batch_seen;
	uint32_t max_dgram_len;
	uint64_t tokenless;      /* native request datagrams without the right token */
	uint64_t withheld;       /* answers withheld (NEED_TOKEN) */
	/* Answers in flight, delivered in order of at_ns (FIFO: equal delays). */
	struct answer *q;
	size_t q_head, q_tail, q_cap;
};

static struct fake *fake_new(bool memcached, uint16_t workers)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memcached = memcached;
	f->workers = workers;
	region_map_init_default(&f->map, workers);
	f->q_cap = 1 << 16;
	f->q = malloc(f->q_cap * sizeof(*f->q));
	assert_non_null(f->q);
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->q);
	free(f);
}

static struct answer *fake_push(struct fake *f, uint64_t now_ns)
{
	struct answer *a;

	assert_true(f->q_tail - f->q_head < f->q_cap);
	a = &f->q[f->q_tail++ % f->q_cap];
	a->at_ns = now_ns + f->delay_ns;
	return a;
}

static uint64_t key_index(const uint8_t *key, uint32_t len)
{
	uint64_t v = 0;

	assert_true(len >= 2 && key[0] == 'k');
	for (uint32_t i = 1; i < len; i++)
		v = v * 10 + (uint64_t)(key[i] - '0');
	assert_true(v < KEYS);
	return v;
}

static void fake_native(struct fake *f, const struct blaster_dgram *d, uint64_t now_ns)
{
	struct proto_batch_hdr hdr;
	struct proto_request reqs[PROTO_BATCH_MAX];
	struct proto_writer w;
	struct answer *a;
	const uint8_t *token;
	bool validated;
	uint32_t answered_bytes = 0;
	unsigned n;

	assert_int_equal(proto_decode_batch(d->buf, d->len, &hdr, reqs, PROTO_BATCH_MAX, &n),
			 PROTO_DECODE_OK);
	if (n > f->max_batch_seen)
		f->max_batch_seen = n;
	if (d->len > f->max_dgram_len)
		f->max_dgram_len = d->len;
	token = proto_batch_token(d->buf, &hdr);
	validated = token && f->token && memcmp(token, f->token, PROTO_TOKEN_SIZE) == 0;
	if (n == 1 && reqs[0].op == PROTO_OP_TOKEN) {
		/* A renewal of the token: answered by any worker. */
		f->token_ops++;
		a = fake_push(f, now_ns);
		proto_writer_init(&w, a->buf, sizeof(a->buf), PROTO_F_RESPONSE, hdr.echo);
		proto_writer_append(&w, PROTO_OP_TOKEN, 0,
				    f->token ? WE_STATUS_OK : WE_STATUS_UNKNOWN_OP,
				    reqs[0].opaque, NULL, 0, f->token, f->token ? PROTO_TOKEN_SIZE : 0);
		a->len = proto_writer_finish(&w);
		return;
	}
	f->tokenless += !validated;
	f->last_validated = validated;
	if (f->next_token && f->dgrams == f->change_token_at)
		f->token = f->next_token; /* as after a restart of the server */
	a = fake_push(f, now_ns);
	proto_writer_init(&w, a->buf, sizeof(a->buf), PROTO_F_RESPONSE, hdr.echo);
	if (f->header_error_every && f->dgrams % f->header_error_every == 0) {
		proto_writer_set_status(&w, WE_STATUS_MALFORMED);
		a->len = proto_writer_finish(&w);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		struct proto_request *r = &reqs[i];
		uint64_t k = key_index(r->key, r->key_len);
		uint32_t vlen = r->op == PROTO_OP_GET && f->present[k] ? f->len[k] : 0;

		f->requests++;
		if (region_map_owner_of_hash(&f->map, keyhash(r->key, r->key_len)) != d->dest)
			f->misrouted++;
		if (!proto_writer_fits(&w, 0, vlen)) {
			/* Answers split over datagrams, as the data plane's do. */
			a->len = proto_writer_finish(&w);
			answered_bytes += a->len;
			a = fake_push(f, now_ns);
			proto_writer_init(&w, a->buf, sizeof(a->buf), PROTO_F_RESPONSE, hdr.echo);
		}
		if (vlen && f->token && !validated &&
		    answered_bytes + w.len + PROTO_ENTRY_HDR_SIZE + vlen >
			    PROTO_AMPLIFICATION_MAX * d->len) {
			f->withheld++;
			proto_writer_append(&w, r->op, 0, WE_STATUS_NEED_TOKEN, r->opaque, NULL, 0,
					    NULL, 0);
		} else if (r->op == PROTO_OP_GET && f->present[k]) {
			uint8_t v[VALUE_MAX];

			memcpy(v, f->val[k], f->len[k]);
			if (f->corrupt_every && f->len[k] && ++f->corrupted % f->corrupt_every == 0)
				v[0] ^= 1;
			proto_writer_append(&w, r->op, 0, WE_STATUS_OK, r->opaque, NULL, 0, v,
					    f->len[k]);
		} else if (r->op == PROTO_OP_GET) {
			proto_writer_append(&w, r->op, 0, WE_STATUS_NOT_FOUND, r->opaque, NULL, 0,
					    NULL, 0);
		} else if (r->op == PROTO_OP_PUT) {
			f->present[k] = true;
			f->len[k] = r->value_len;
			memcpy(f->val[k], r->value, r->value_len);
			proto_writer_append(&w, r->op, 0, WE_STATUS_OK, r->opaque, NULL, 0, NULL, 0);
		} else {
			uint8_t s = f->present[k] ? WE_STATUS_OK : WE_STATUS_NOT_FOUND;

			f->present[k] = false;
			proto_writer_append(&w, r->op, 0, s, r->opaque, NULL, 0, NULL, 0);
		}
	}
	a->len = proto_writer_finish(&w);
}

/* Answer text for one memcached request; answers over 1400 bytes go out as
 * several datagrams, like memcached's (1392 payload bytes each). */
static void fake_mc(struct fake *f, const struct blaster_dgram *d, uint64_t now_ns)
{
	static uint8_t text[VALUE_MAX + 512];
	static char cmd[VALUE_MAX + 512];
	uint16_t id = (uint16_t)((d->buf[0] << 8) | d->buf[1]);
	uint32_t tlen = 0, total, start;
	char key[300];
	uint64_t k;

	/* A NUL-terminated copy, so the string functions stop in it. */
	assert_true(d->len - MC_FRAME_HDR_SIZE < sizeof(cmd));
	memcpy(cmd, d->buf + MC_FRAME_HDR_SIZE, d->len - MC_FRAME_HDR_SIZE);
	cmd[d->len - MC_FRAME_HDR_SIZE] = '\0';
	f->requests++;
	if (strncmp(cmd, "get ", 4) == 0) {
		assert_int_equal(sscanf(cmd + 4, "%299s", key), 1);
		k = key_index((const uint8_t *)key, (uint32_t)strlen(key));
		if (f->present[k]) {
			tlen = (uint32_t)sprintf((char *)text, "VALUE %s 0 %u\r\n", key, f->len[k]);
			memcpy(text + tlen, f->val[k], f->len[k]);
			tlen += f->len[k];
			memcpy(text + tlen, "\r\nEND\r\n", 7);
			tlen += 7;
		} else {
			tlen = (uint32_t)sprintf((char *)text, "END\r\n");
		}
	} else if (strncmp(cmd, "set ", 4) == 0) {
		unsigned bytes;
		const char *data;

		assert_int_equal(sscanf(cmd + 4, "%299s 0 0 %u", key, &bytes), 2);
		k = key_index((const uint8_t *)key, (uint32_t)strlen(key));
		data = strstr(cmd, "\r\n") + 2;
		f->present[k] = true;
		f->len[k] = bytes;
		memcpy(f->val[k], data, bytes);
		tlen = (uint32_t)sprintf((char *)text, "STORED\r\n");
	} else {
		assert_int_equal(strncmp(cmd, "delete ", 7), 0);
		assert_int_equal(sscanf(cmd + 7, "%299s", key), 1);
		k = key_index((const uint8_t *)key, (uint32_t)strlen(key));
		tlen = (uint32_t)sprintf((char *)text, f->present[k] ? "DELETED\r\n" : "NOT_FOUND\r\n");
		f->present[k] = false;
	}
	total = (tlen + 1391) / 1392;
	for (uint32_t i = 0; i < total; i++) {
		uint32_t seq = f->reverse_fragments ? total - 1 - i : i;
		struct answer *a = fake_push(f, now_ns);
		uint32_t n = tlen - seq * 1392 < 1392 ? tlen - seq * 1392 : 1392;

		start = seq * 1392;
		a->buf[0] = (uint8_t)(id >> 8);
		a->buf[1] = (uint8_t)id;
		a->buf[2] = 0;
		a->buf[3] = (uint8_t)seq;
		a->buf[4] = 0;
		a->buf[5] = (uint8_t)total;
		a->buf[6] = a->buf[7] = 0;
		memcpy(a->buf + 8, text + start, n);
		a->len = 8 + n;
	}
}

static void fake_receive(struct fake *f, const struct blaster_dgram *d, uint64_t now_ns)
{
	f->dgrams++;
	if (f->silent || (f->drop_every && f->dgrams % f->drop_every == 0))
		return;
	if (f->memcached)
		fake_mc(f, d, now_ns);
	else
		fake_native(f, d, now_ns);
}

/* ---- the engine loop, on a fake clock ---------------------------------- */

struct loop_checks {
	uint32_t window;          /* outstanding must never exceed it (0: no check) */
	uint32_t batch;
	uint64_t stall_from_ns;   /* the engine does nothing in [from, to) */
	uint64_t stall_to_ns;
	uint64_t max_intended_ns; /* no request intended at or after this */
	bool check_one_write_per_key;
};

static uint64_t run_phase(struct blaster *b, struct fake *f, enum blaster_phase phase,
			  uint64_t now_ns, uint64_t step_ns, const struct loop_checks *lc)
{
	blaster_phase_begin(b, phase, now_ns);
	while (blaster_state(b, now_ns) != BLASTER_DONE) {
		bool stalled = lc && now_ns >= lc->stall_from_ns && now_ns < lc->stall_to_ns;

		if (!stalled) {
			uint32_t n = blaster_tx_prepare(b, now_ns);

			for (uint32_t i = 0; i < n; i++) {
				const struct blaster_dgram *d = blaster_tx_dgram(b, i);

				if (lc && lc->batch)
					assert_true(d->n_req >= 1 && d->n_req <= lc->batch);
				if (lc && lc->max_intended_ns)
					for (uint16_t r = 0; r < d->n_req; r++)
						assert_true(inflight_by_seq(&b->inflight, d->seq[r])
								    ->intended_ns < lc->max_intended_ns);
				fake_receive(f, d, now_ns);
			}
			blaster_tx_sent(b, n, now_ns);
			if (lc && lc->window)
				assert_true(b->inflight.outstanding <= lc->window);
			while (f->q_head != f->q_tail && f->q[f->q_head % f->q_cap].at_ns <= now_ns) {
				struct answer *a = &f->q[f->q_head++ % f->q_cap];

				blaster_rx(b, a->buf, a->len, now_ns);
			}
			blaster_expire(b, now_ns);
			blaster_tick(b, now_ns);
		}
		if (lc && lc->check_one_write_per_key) {
			static uint8_t writes[KEYS];

			memset(writes, 0, sizeof(writes));
			for (uint32_t s = b->inflight.tail; s != b->inflight.head; s++) {
				struct inflight_entry *e = inflight_by_seq(&b->inflight, s);

				if (e && e->op != WORKLOAD_OP_GET)
					assert_true(++writes[inflight_key(e)] <= 1);
			}
		}
		now_ns += step_ns;
	}
	blaster_phase_end(b, now_ns);
	return now_ns;
}

static struct blaster_config base_config(bool memcached, uint64_t seed)
{
	struct blaster_config c = {
		.proto = memcached ? BLASTER_PROTO_MEMCACHED : BLASTER_PROTO_NATIVE,
		.load = BLASTER_LOAD_CLOSED,
		.arrival = PACER_CONSTANT,
		.window = 32,
		.preload_window = 64,
		.batch = 1,
		.burst = 16,
		.workers = memcached ? 1 : 4,
		.verify = true,
		.duration_ns = 200 * MS,
		.timeout_ns = 50 * MS,
		.no_answer_ns = 100 * MS,
		.progress_interval_ns = 50 * MS,
		.workload = {
			.keys = KEYS, .key_size_min = 8, .key_size_max = 8,
			.value_size_min = 1, .value_size_max = 100,
			.mix_get = 70, .mix_put = 25, .mix_delete = 5,
			.dist = WORKLOAD_DIST_ZIPF, .zipf_theta = 0.99, .seed = seed,
		},
	};
	return c;
}

/* Open loop, constant arrivals, no verification: the timing tests' run. */
static struct blaster_config open_config(uint64_t seed, double rate_per_s, uint64_t duration_ns)
{
	struct blaster_config c = base_config(false, seed);

	c.load = BLASTER_LOAD_OPEN;
	c.arrival = PACER_CONSTANT;
	c.rate_per_s = rate_per_s;
	c.duration_ns = duration_ns;
	c.verify = false;
	return c;
}

static struct blaster *blaster_new(const struct blaster_config *c)
{
	struct blaster *b = malloc(sizeof(*b));
	const char *why = "";

	assert_non_null(b);
	if (blaster_init(b, c, &why) != 0)
		fail_msg("blaster_init: %s", why);
	return b;
}

static void blaster_free(struct blaster *b)
{
	blaster_fini(b);
	free(b);
}

/* Native, closed loop, 4 workers, batches of up to 8, preload then run with
 * verification: every request reaches its owner, batches and the window
 * hold, all is answered and verified, nothing is wrong. */
static void test_blaster_native_closed_verify(void **state)
{
	struct blaster_config c = base_config(false, blaster_test_seed("native_closed_verify"));
	struct loop_checks lc = {.window = 32, .batch = 8, .check_one_write_per_key = true};
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	uint64_t now;

	(void)state;
	c.batch = 8;
	b = blaster_new(&c);
	f->delay_ns = 20 * US;
	lc.window = c.preload_window;
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 5 * US, &lc);
	assert_int_equal(b->preload_report.c.sent, KEYS);
	assert_int_equal(b->preload_report.c.answered, KEYS);
	assert_int_equal(b->preload_report.c.sent_put, KEYS);
	lc.window = c.window;
	run_phase(b, f, BLASTER_PHASE_RUN, now, 5 * US, &lc);
	assert_int_equal(f->misrouted, 0);
	assert_true(f->max_batch_seen > 1 && f->max_batch_seen <= 8);
	assert_true(b->run_report.c.sent > 10000);
	assert_int_equal(b->run_report.c.answered, b->run_report.c.sent);
	assert_int_equal(b->run_report.c.timeouts, 0);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_int_equal(b->run_report.c.unverified, 0); /* the preload made all keys known */
	assert_true(b->run_report.c.verified > b->run_report.c.sent / 2);
	assert_true(b->run_report.c.write_conflicts > 0); /* Zipf: the hot key is busy */
	assert_int_equal(b->run_report.c.sent_get + b->run_report.c.sent_put +
				 b->run_report.c.sent_delete, b->run_report.c.sent);
	assert_int_equal(b->run_report.latency.count, b->run_report.c.answered);
	assert_true(b->run_report.n_samples >= 4);
	/* 20 us delay on a 5 us clock: latencies are 20..25 us. */
	assert_true(hist_percentile(&b->run_report.latency, 50) >= 20 * US);
	assert_true(hist_percentile(&b->run_report.latency, 100) <= 30 * US);
	blaster_free(b);
	fake_free(f);
}

/* A server that flips a bit in some values is caught, and only those. */
static void test_blaster_catches_wrong_values(void **state)
{
	struct blaster_config c = base_config(false, 5);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	char *log = NULL;
	size_t log_len = 0;
	uint64_t now;

	(void)state;
	c.log = open_memstream(&log, &log_len);
	b = blaster_new(&c);
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
	f->corrupt_every = 50;
	run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
	fclose(c.log);
	assert_true(f->corrupted >= 50);
	assert_int_equal(b->run_report.c.wrong_values, f->corrupted / 50);
	assert_non_null(strstr(log, "wrong value: key k"));
	free(log);
	blaster_free(b);
	fake_free(f);
}

/* Lost requests time out; sent = answered + timeouts; no false alarms from
 * the keys whose writes were lost. */
static void test_blaster_timeouts(void **state)
{
	struct blaster_config c = base_config(false, 6);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	uint64_t now;

	(void)state;
	b = blaster_new(&c);
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
	f->drop_every = 37;
	f->dgrams = 0;
	run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
	assert_true(b->run_report.c.timeouts > 0);
	assert_int_equal(b->run_report.c.timeouts, f->dgrams / 37);
	assert_int_equal(b->run_report.c.answered + b->run_report.c.timeouts,
			 b->run_report.c.sent);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_true(b->run_report.c.unverified > 0); /* lost writes made keys unknown */
	blaster_free(b);
	fake_free(f);
}

/* Header-only error replies are counted; their requests time out. */
static void test_blaster_header_only_errors(void **state)
{
	struct blaster_config c = base_config(false, 7);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;

	(void)state;
	c.verify = false;
	b = blaster_new(&c);
	f->header_error_every = 10;
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 10 * US, NULL);
	assert_int_equal(b->run_report.c.rx_batch_errors, f->dgrams / 10);
	assert_int_equal(b->run_report.c.timeouts, f->dgrams / 10);
	assert_int_equal(b->run_report.c.rx_malformed, 0);
	blaster_free(b);
	fake_free(f);
}

/* A target that never answers: the phase gives up no_answer_ns after the
 * first send, says so, and counts what was outstanding as timed out. */
static void test_blaster_no_answer(void **state)
{
	struct blaster_config c = base_config(false, 8);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	uint64_t end;

	(void)state;
	c.duration_ns = 10000 * MS;
	c.timeout_ns = 1000 * MS; /* longer than no_answer: the window stays full */
	b = blaster_new(&c);
	f->silent = true;
	end = run_phase(b, f, BLASTER_PHASE_RUN, 1000, 1 * MS, NULL);
	assert_true(b->no_answer);
	assert_true(end <= 1000 + c.no_answer_ns + 2 * MS);
	assert_int_equal(b->run_report.c.answered, 0);
	assert_int_equal(b->run_report.c.timeouts, b->run_report.c.sent);
	assert_int_equal(b->run_report.c.sent, c.window);
	blaster_free(b);
	fake_free(f);
}

/* Open loop, 10000 req/s constant, instant server. The engine stalls for
 * 100 ms in the middle: requests due meanwhile leave late and their latency
 * counts the wait (from the intended send time), while rtt stays small;
 * nothing is intended past the duration; the rate is kept. */
static void test_blaster_open_loop_no_coordinated_omission(void **state)
{
	struct blaster_config c = open_config(9, 10000, 1000 * MS);
	struct loop_checks lc = {.stall_from_ns = 300 * MS, .stall_to_ns = 400 * MS,
				 .max_intended_ns = 0};
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	struct hist_summary l, r;

	(void)state;
	c.timeout_ns = 500 * MS;
	b = blaster_new(&c);
	lc.max_intended_ns = 1000 * MS;
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 10 * US, &lc);
	hist_summarize(&b->run_report.latency, &l);
	hist_summarize(&b->run_report.rtt, &r);
	assert_int_equal(b->run_report.c.sent, 10000);
	assert_int_equal(b->run_report.c.answered, 10000);
	assert_int_equal(b->run_report.c.drops, 0);
	/* 10% of requests waited up to 100 ms: p90 is small, p99 and max large. */
	assert_true(l.p50 <= 10 * US);
	assert_true(l.p99 >= 80 * MS);
	assert_true(l.max >= 99 * MS && l.max <= 101 * MS);
	assert_true(r.max <= 10 * US);
	blaster_free(b);
	fake_free(f);
}

/* Open loop at a rate the engine cannot keep up with near the end: what
 * was due and never sent is counted as dropped. */
static void test_blaster_open_loop_drops_backlog(void **state)
{
	struct blaster_config c = open_config(10, 1000, 200 * MS);
	struct loop_checks lc = {.stall_from_ns = 150 * MS, .stall_to_ns = 400 * MS};
	struct fake *f = fake_new(false, 4);
	struct blaster *b;

	(void)state;
	b = blaster_new(&c);
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 100 * US, &lc);
	/* 150 sent before the stall, 50 due during it and never sent. */
	assert_int_equal(b->run_report.c.sent, 150);
	assert_int_equal(b->run_report.c.drops, 50);
	blaster_free(b);
	fake_free(f);
}

/* Open loop, an engine that is only a little late at the end (a 3 ms
 * loop at 1000 req/s): requests meant for before the end still leave, so
 * none is dropped and nothing meant for after the end is sent. */
static void test_blaster_open_loop_end_grace(void **state)
{
	struct blaster_config c = open_config(11, 1000, 200 * MS);
	struct loop_checks lc = {.max_intended_ns = 200 * MS};
	struct fake *f = fake_new(false, 4);
	struct blaster *b;

	(void)state;
	b = blaster_new(&c);
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 3 * MS, &lc);
	assert_int_equal(b->run_report.c.sent, 200);
	assert_int_equal(b->run_report.c.drops, 0);
	blaster_free(b);
	fake_free(f);
}

/* memcached mode with values up to 3000 bytes: answers come in up to three
 * datagrams, last one first; all are put together and verified. */
static void test_blaster_memcached_verify(void **state)
{
	struct blaster_config c = base_config(true, blaster_test_seed("memcached_verify"));
	struct fake *f = fake_new(true, 1);
	struct blaster *b;
	uint64_t now;

	(void)state;
	c.workload.value_size_min = 1000;
	c.workload.value_size_max = 3000;
	b = blaster_new(&c);
	f->delay_ns = 30 * US;
	f->reverse_fragments = true;
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
	assert_int_equal(b->preload_report.c.answered, KEYS);
	run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
	assert_true(b->run_report.c.sent > 1000);
	assert_int_equal(b->run_report.c.answered, b->run_report.c.sent);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_int_equal(b->run_report.c.rx_malformed, 0);
	assert_true(b->run_report.c.verified > b->run_report.c.sent / 2);
	assert_true(b->run_report.c.dgrams_received > b->run_report.c.answered);
	blaster_free(b);
	fake_free(f);
}

/* The text and json value kinds (--value-kind) over both protocols: a
 * preload and a verified run find every value right, and a (native) server
 * that flips a bit in some values is caught as with random values. */
static void test_blaster_value_kinds_verify(void **state)
{
	static const enum workload_value_kind kinds[] = {WORKLOAD_VALUE_TEXT,
							 WORKLOAD_VALUE_JSON};

	(void)state;
	for (int k = 0; k < 2; k++) {
		for (int mc = 0; mc < 2; mc++) {
			struct blaster_config c = base_config(mc, blaster_test_seed("value_kinds"));
			struct fake *f = fake_new(mc, mc ? 1 : 4);
			struct blaster *b;
			uint64_t now;

			c.workload.value_kind = kinds[k];
			c.workload.value_size_min = mc ? 1000 : 100;
			c.workload.value_size_max = mc ? 3000 : 1200;
			b = blaster_new(&c);
			now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
			assert_int_equal(b->preload_report.c.answered, KEYS);
			f->corrupt_every = mc ? 0 : 50; /* the native fake corrupts */
			run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
			assert_true(b->run_report.c.sent > 1000);
			assert_true(mc || f->corrupted >= 50);
			assert_int_equal(b->run_report.c.wrong_values, mc ? 0 : f->corrupted / 50);
			assert_true(b->run_report.c.verified > b->run_report.c.sent / 2);
			assert_int_equal(b->run_report.c.rx_malformed, 0);
			blaster_free(b);
			fake_free(f);
		}
	}
}

static const uint8_t test_token[PROTO_TOKEN_SIZE] = {7, 7, 7, 7, 1, 2, 3, 4,
						     5, 6, 7, 8, 9, 10, 11, 12};

/* Values of 600..1400 bytes, batches of up to 8, GET-heavy: the run that a
 * validating server answers NEED_TOKEN without the token. */
static struct blaster_config token_config(uint64_t seed, bool token)
{
	struct blaster_config c = base_config(false, seed);

	c.batch = 8;
	c.token = token;
	c.workload.value_size_min = 600;
	c.workload.value_size_max = 1400;
	c.workload.mix_get = 90;
	c.workload.mix_put = 10;
	c.workload.mix_delete = 0;
	return c;
}

/* With the token set, every request datagram (preload and run) carries it,
 * none passes the MTU though the token takes 16 bytes of each, and a
 * validating server withholds nothing: need_token stays 0. */
static void test_blaster_token_carried(void **state)
{
	struct blaster_config c = token_config(blaster_test_seed("token_carried"), true);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	uint64_t now;

	(void)state;
	b = blaster_new(&c);
	blaster_set_token(b, test_token);
	f->token = test_token;
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
	run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
	assert_true(f->dgrams > 1000);
	assert_int_equal(f->tokenless, 0);
	assert_int_equal(f->withheld, 0);
	assert_true(f->max_dgram_len <= PROTO_PAYLOAD_MAX);
	assert_true(f->max_dgram_len > PROTO_PAYLOAD_MAX - 400); /* large values did go */
	assert_int_equal(b->run_report.c.need_token, 0);
	assert_int_equal(b->run_report.c.answered, b->run_report.c.sent);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_true(b->run_report.c.verified > b->run_report.c.sent / 2);
	blaster_free(b);
	fake_free(f);
}

/* Without a token (--no-token), large GET answers are withheld: each is
 * counted in need_token, as its status, and not taken for a wrong value; a
 * late copy of the handshake's answer matches no request. */
static void test_blaster_need_token_counted(void **state)
{
	struct blaster_config c = token_config(blaster_test_seed("need_token_counted"), false);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	struct proto_writer w;
	uint8_t late[64];
	uint64_t now, answered, unmatched;

	(void)state;
	b = blaster_new(&c);
	f->token = test_token;
	now = run_phase(b, f, BLASTER_PHASE_PRELOAD, 0, 10 * US, NULL);
	assert_int_equal(b->preload_report.c.need_token, 0); /* PUT answers are small */
	run_phase(b, f, BLASTER_PHASE_RUN, now, 10 * US, NULL);
	assert_int_equal(f->tokenless, f->dgrams);
	assert_true(f->withheld > 100);
	assert_int_equal(b->run_report.c.need_token, f->withheld);
	assert_int_equal(b->run_report.c.status[WE_STATUS_NEED_TOKEN], f->withheld);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_int_equal(b->run_report.c.answered, b->run_report.c.sent);

	/* Opaque 0 names the run's first request, which is long answered. */
	answered = b->run_report.c.answered;
	unmatched = b->run_report.c.rx_unmatched;
	proto_writer_init(&w, late, sizeof(late), PROTO_F_RESPONSE, 1);
	proto_writer_append(&w, PROTO_OP_TOKEN, 0, WE_STATUS_OK, 0, NULL, 0, test_token,
			    PROTO_TOKEN_SIZE);
	blaster_rx(b, late, proto_writer_finish(&w), now);
	assert_int_equal(b->run_report.c.rx_unmatched, unmatched + 1);
	assert_int_equal(b->run_report.c.answered, answered);
	assert_int_equal(b->run_report.c.rx_malformed, 0);
	blaster_free(b);
	fake_free(f);
}

/* A run longer than the token's renewal period renews it among the load's
 * datagrams; when the server's token changes (a restart), the next renewal
 * brings the new one and the datagrams after it carry it. Renewals disturb
 * no request: everything is answered, nothing is unmatched. */
static void test_blaster_token_renewed(void **state)
{
	static const uint8_t token2[PROTO_TOKEN_SIZE] = "second-token-xx";
	struct blaster_config c = token_config(blaster_test_seed("token_renewed"), true);
	struct fake *f = fake_new(false, 4);
	struct blaster *b;

	(void)state;
	c.token_renew_ns = 20 * MS;
	b = blaster_new(&c);
	blaster_set_token(b, test_token);
	f->token = test_token;
	f->next_token = token2;
	f->change_token_at = 2000;
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 10 * US, NULL);
	assert_true(f->dgrams > 4000);
	assert_true(f->token_ops >= 8); /* 200 ms at one per 20 ms */
	assert_int_equal(b->run_report.c.token_renewed, f->token_ops);
	assert_memory_equal(b->token, token2, PROTO_TOKEN_SIZE);
	assert_true(f->last_validated);
	assert_int_equal(b->run_report.c.answered, b->run_report.c.sent);
	assert_int_equal(b->run_report.c.rx_unmatched, 0);
	assert_int_equal(b->run_report.c.rx_malformed, 0);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	/* Only what went between the change and the next renewal was withheld. */
	assert_int_equal(b->run_report.c.need_token, f->withheld);
	assert_true(f->tokenless < f->dgrams / 4);
	blaster_free(b);
	fake_free(f);
}

/* Configurations the core cannot honour are refused with a reason. */
static void test_blaster_invalid_config(void **state)
{
	struct blaster b;
	const char *why = NULL;
	struct blaster_config c;

	(void)state;
	c = base_config(false, 1);
	c.workload.value_size_max = 1500;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	assert_non_null(strstr(why, "too large"));
	c = base_config(true, 1);
	c.batch = 4;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	c = base_config(false, 1);
	c.workers = 0;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	c = base_config(false, 1);
	c.load = BLASTER_LOAD_OPEN;
	c.rate_per_s = 0;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	c = base_config(false, 1);
	c.window = 0;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	/* 8-byte keys: 1420-byte values fit beside the token, 1421 do not,
	 * unless there is no token (1436 then fits). */
	c = base_config(false, 1);
	c.token = true;
	c.workload.value_size_max = 1420;
	assert_int_equal(blaster_init(&b, &c, &why), 0);
	blaster_fini(&b);
	c.workload.value_size_max = 1421;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	assert_non_null(strstr(why, "1428"));
	c.token = false;
	c.workload.value_size_max = 1436;
	assert_int_equal(blaster_init(&b, &c, &why), 0);
	blaster_fini(&b);
	c = base_config(true, 1);
	c.token = true;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
}

/* A region map (--region-map) decides each key's worker; one whose worker
 * count differs from the configuration's is refused. */
static void test_blaster_region_map(void **state)
{
	static struct region_map map;
	struct blaster b;
	const char *why = NULL;
	struct blaster_config c = base_config(false, 1);

	(void)state;
	c.workers = 2;
	map.n_workers = 2;
	for (uint32_t r = 0; r < WE_REGIONS; r++)
		map.owner[r] = (uint16_t)(r < 100 ? 1 : 0);
	c.region_map = &map;
	assert_int_equal(blaster_init(&b, &c, &why), 0);
	for (uint32_t r = 0; r < 200; r++)
		assert_int_equal(region_map_owner(&b.map, r), r < 100 ? 1 : 0);
	blaster_fini(&b);
	map.n_workers = 3;
	assert_int_equal(blaster_init(&b, &c, &why), -22);
	assert_non_null(strstr(why, "--region-map"));
}

/* --fill-on-miss: a GET-only load on an empty store; every GET answered
 * NOT_FOUND is followed by a PUT of that key (counted as fills), so the
 * store fills with the keys the load asks for and later GETs find them;
 * verification still holds (the fills are ordinary tracked writes). */
static void test_blaster_fill_on_miss(void **state)
{
	struct blaster_config c = base_config(false, blaster_test_seed("fill_on_miss"));
	struct loop_checks lc = {.window = 32, .batch = 1};
	struct fake *f = fake_new(false, 4);
	struct blaster *b;
	unsigned present = 0;

	(void)state;
	c.fill_on_miss = true;
	c.workload.mix_get = 100;
	c.workload.mix_put = 0;
	c.workload.mix_delete = 0;
	c.workload.dist = WORKLOAD_DIST_UNIFORM;
	b = blaster_new(&c);
	f->delay_ns = 20 * US;
	run_phase(b, f, BLASTER_PHASE_RUN, 0, 5 * US, &lc);
	for (unsigned k = 0; k < KEYS; k++)
		present += f->present[k];
	assert_true(b->run_report.c.fills >= present);
	assert_int_equal(b->run_report.c.sent_put, b->run_report.c.fills);
	assert_true(present > KEYS * 9 / 10); /* uniform over 500 keys, ~10k GETs */
	assert_true(b->run_report.c.status[WE_STATUS_OK] > b->run_report.c.sent / 2);
	assert_int_equal(b->run_report.c.wrong_values, 0);
	assert_int_equal(b->run_report.c.timeouts, 0);
	blaster_free(b);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blaster_native_closed_verify),
		cmocka_unit_test(test_blaster_region_map),
		cmocka_unit_test(test_blaster_catches_wrong_values),
		cmocka_unit_test(test_blaster_timeouts),
		cmocka_unit_test(test_blaster_header_only_errors),
		cmocka_unit_test(test_blaster_no_answer),
		cmocka_unit_test(test_blaster_open_loop_no_coordinated_omission),
		cmocka_unit_test(test_blaster_open_loop_drops_backlog),
		cmocka_unit_test(test_blaster_open_loop_end_grace),
		cmocka_unit_test(test_blaster_memcached_verify),
		cmocka_unit_test(test_blaster_value_kinds_verify),
		cmocka_unit_test(test_blaster_token_carried),
		cmocka_unit_test(test_blaster_fill_on_miss),
		cmocka_unit_test(test_blaster_need_token_counted),
		cmocka_unit_test(test_blaster_token_renewed),
		cmocka_unit_test(test_blaster_invalid_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
