/* blaster.c - the engine-independent core of a run: set-up, phases, what to
 * send and when (the answers are blaster_rx.c's).
 *
 * DESIGN: the core decides, the engine acts (docs/blaster.md). Every loop
 * iteration the engine passes the time in; tx_prepare() asks the load model
 * how many requests are due (the pacer in open loop, the window in closed
 * loop and in the preload), draws each one from the workload, records it in
 * the in-flight table and encodes it into a datagram of its destination.
 * Native requests for one worker share a datagram up to --batch; all open
 * datagrams are closed at the end of the call, so --batch is a maximum and a
 * request never waits for company. The engine sends the datagrams and feeds
 * back what arrives; answers are matched by opaque, timed, and checked
 * against verify.c's rule. Nothing here blocks, allocates or makes a system
 * call after blaster_init(), and time only moves when the engine says so, so
 * the tests run all of it against a fake clock and a fake server.
 *
 * Latency is measured from the intended send time (the pacer's, in open
 * loop), so requests that leave late because the blaster or the target
 * stalled carry their wait: no coordinated omission. The rtt histogram, from
 * the actual send, is the service time alone.
 */
#include "blaster.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_native.h"
#include "handshake.h"
#include "we_assert.h"

static uint32_t blaster_pow2_at_least(uint64_t n)
{
	uint32_t p = 2;

	while (p < n && p < INFLIGHT_CAPACITY_MAX)
		p <<= 1;
	return p;
}

static int blaster_check(const struct blaster_config *cfg, const char **why)
{
	const struct workload_config *w = &cfg->workload;

	if (cfg->load == BLASTER_LOAD_OPEN && !(cfg->rate_per_s > 0 && cfg->rate_per_s <= 1e9)) {
		*why = "--rate must be in (0, 1e9] requests per second";
		return -EINVAL;
	}
	if (cfg->load == BLASTER_LOAD_CLOSED && (cfg->window == 0 || cfg->window > (1u << 20))) {
		*why = "--window must be in 1 .. 1048576";
		return -EINVAL;
	}
	if (cfg->preload_window == 0 || cfg->preload_window > (1u << 20)) {
		*why = "--preload-window must be in 1 .. 1048576";
		return -EINVAL;
	}
	if (cfg->burst == 0 || cfg->burst > BLASTER_BURST_MAX) {
		*why = "--burst must be in 1 .. 1024";
		return -EINVAL;
	}
	if (cfg->timeout_ns == 0 || cfg->progress_interval_ns == 0 || cfg->no_answer_ns == 0) {
		*why = "timeouts and intervals must be positive";
		return -EINVAL;
	}
	if (cfg->proto == BLASTER_PROTO_NATIVE) {
		if (cfg->workers == 0 || cfg->workers > BLASTER_WORKERS_MAX) {
			*why = "--workers must be in 1 .. 1024 for the native protocol";
			return -EINVAL;
		}
		if (cfg->batch == 0 || cfg->batch > PROTO_BATCH_MAX) {
			*why = "--batch must be in 1 .. 64";
			return -EINVAL;
		}
		if ((uint64_t)PROTO_HDR_SIZE + PROTO_ENTRY_HDR_SIZE + w->key_size_max +
			    w->value_size_max > PROTO_PAYLOAD_MAX) {
			*why = "key + value too large for one native datagram "
			       "(key size + value size must be <= 1444)";
			return -EINVAL;
		}
		if (cfg->token && (uint64_t)PROTO_HDR_SIZE + PROTO_TOKEN_SIZE + PROTO_ENTRY_HDR_SIZE +
					  w->key_size_max + w->value_size_max >
				  PROTO_PAYLOAD_MAX) {
			*why = "key + value too large for one native datagram with the address "
			       "token (key size + value size must be <= 1428; --no-token "
			       "allows 1444)";
			return -EINVAL;
		}
	} else {
		if (cfg->token) {
			*why = "the address token is native only";
			return -EINVAL;
		}
		if (cfg->batch != 1) {
			*why = "memcached mode sends one request per datagram: --batch must be 1";
			return -EINVAL;
		}
		if (codec_mc_set_size(w->key_size_max, w->value_size_max) > MC_REQUEST_MAX) {
			*why = "key + value too large for one memcached UDP request (64 KiB)";
			return -EINVAL;
		}
	}
	return 0;
}

/* In-flight capacity: the window, or rate x timeout for the open loop, with
 * room to spare since slots free in order; memcached's ids are 16 bits. */
static uint32_t blaster_inflight_capacity(const struct blaster_config *cfg)
{
	uint64_t want = (uint64_t)cfg->preload_window * 4;
	uint64_t cap;

	if (cfg->load == BLASTER_LOAD_CLOSED && (uint64_t)cfg->window * 4 > want)
		want = (uint64_t)cfg->window * 4;
	if (cfg->load == BLASTER_LOAD_OPEN) {
		double per_timeout = cfg->rate_per_s * ((double)cfg->timeout_ns / 1e9) * 1.25;

		if (per_timeout > (double)want)
			want = per_timeout > 4e6 ? 4000000 : (uint64_t)per_timeout;
	}
	if (want < 65536)
		want = 65536;
	cap = blaster_pow2_at_least(want);
	if (cfg->proto == BLASTER_PROTO_MEMCACHED && cap > 65536)
		cap = 65536;
	return (uint32_t)cap;
}

/* The fewest requests a native datagram holds when it is closed for want of
 * room: it closes only when the next entry (at most 12 + key + value bytes)
 * does not fit, so the entries in it fill more than the room less one entry,
 * and there are at least room / largest entry of them. --batch caps it. */
static uint32_t blaster_dgram_reqs_min(const struct blaster_config *cfg)
{
	uint32_t room = PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - (cfg->token ? PROTO_TOKEN_SIZE : 0);
	uint32_t entry_max = PROTO_ENTRY_HDR_SIZE + cfg->workload.key_size_max +
			     cfg->workload.value_size_max;
	uint32_t n = room / entry_max;

	if (cfg->proto != BLASTER_PROTO_NATIVE)
		return 1;
	WE_ASSERT(n >= 1); /* blaster_check() refused larger requests */
	return n < cfg->batch ? n : cfg->batch;
}

static int blaster_alloc(struct blaster *b)
{
	const struct blaster_config *cfg = &b->cfg;
	uint32_t dests = cfg->proto == BLASTER_PROTO_NATIVE ? cfg->workers : 1;
	uint32_t cap;
	int rc;

	b->pool = cfg->burst + dests + 1;
	b->dgram_reqs_min = blaster_dgram_reqs_min(cfg);
	b->dgram_cap = cfg->proto == BLASTER_PROTO_NATIVE
			       ? PROTO_PAYLOAD_MAX
			       : codec_mc_set_size(cfg->workload.key_size_max,
						   cfg->workload.value_size_max);
	b->dgrams = calloc(b->pool, sizeof(*b->dgrams));
	b->writers = calloc(b->pool, sizeof(*b->writers));
	b->dgram_mem = malloc((size_t)b->pool * b->dgram_cap);
	b->open_slot = malloc(dests * sizeof(*b->open_slot));
	b->open_workers = malloc(dests * sizeof(*b->open_workers));
	b->intended_cap = b->pool * cfg->batch;
	b->intended = malloc(b->intended_cap * sizeof(*b->intended));
	b->value_buf = malloc(cfg->workload.value_size_max + 1);
	if (!b->dgrams || !b->writers || !b->dgram_mem || !b->open_slot || !b->open_workers ||
	    !b->intended || !b->value_buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->pool; i++)
		b->dgrams[i].buf = b->dgram_mem + (size_t)i * b->dgram_cap;
	for (uint32_t i = 0; i < dests; i++)
		b->open_slot[i] = -1;
	cap = blaster_inflight_capacity(cfg);
	rc = inflight_init(&b->inflight, cap, cap / 4 > 1024 ? cap / 4 : 1024, b->opaque_mask, 0);
	if (rc)
		return rc;
	if (cfg->verify && verify_init(&b->ver, cfg->workload.keys))
		return -ENOMEM;
	if (cfg->proto == BLASTER_PROTO_MEMCACHED && codec_mc_reasm_init(&b->reasm))
		return -ENOMEM;
	if (report_phase_init(&b->preload_report, "preload") ||
	    report_phase_init(&b->run_report, "run"))
		return -ENOMEM;
	return 0;
}

int blaster_init(struct blaster *b, const struct blaster_config *cfg, const char **why)
{
	int rc;

	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	rc = workload_init(&b->wl, &cfg->workload, why);
	if (rc == 0)
		rc = blaster_check(cfg, why);
	if (rc == 0 && cfg->load == BLASTER_LOAD_OPEN &&
	    pacer_init(&b->pacer, cfg->arrival, cfg->rate_per_s, cfg->workload.seed)) {
		*why = "--rate out of range";
		rc = -EINVAL;
	}
	if (rc == 0 && cfg->region_map && cfg->region_map->n_workers != cfg->workers) {
		*why = "--region-map names a different worker count";
		rc = -EINVAL;
	}
	if (rc)
		return rc;
	if (cfg->proto == BLASTER_PROTO_NATIVE && cfg->region_map)
		memcpy(&b->map, cfg->region_map, sizeof(b->map));
	else
		region_map_init_default(&b->map,
					cfg->proto == BLASTER_PROTO_NATIVE ? cfg->workers : 1);
	b->opaque_mask = cfg->proto == BLASTER_PROTO_NATIVE ? UINT32_MAX : 0xffff;
	rc = blaster_alloc(b);
	if (rc) {
		*why = "out of memory";
		blaster_fini(b);
	}
	return rc;
}

void blaster_fini(struct blaster *b)
{
	if (b->cfg.verify)
		verify_fini(&b->ver);
	if (b->cfg.proto == BLASTER_PROTO_MEMCACHED)
		codec_mc_reasm_fini(&b->reasm);
	inflight_fini(&b->inflight);
	report_phase_fini(&b->preload_report);
	report_phase_fini(&b->run_report);
	free(b->dgrams);
	free(b->writers);
	free(b->dgram_mem);
	free(b->open_slot);
	free(b->open_workers);
	free(b->intended);
	free(b->value_buf);
	memset(b, 0, sizeof(*b));
}

void blaster_set_token(struct blaster *b, const uint8_t *token)
{
	WE_ASSERT(b->cfg.token);
	WE_ASSERT(b->tx_count == 0);
	if (token) {
		memcpy(b->token_buf, token, PROTO_TOKEN_SIZE);
		b->token = b->token_buf;
	} else {
		b->token = NULL;
	}
	b->token_renew_ns = 0;
}

void blaster_token_renewed(struct blaster *b, const uint8_t *token, uint64_t now_ns)
{
	if (b->token == NULL)
		return; /* --no-token, or an older server: nothing to renew */
	memcpy(b->token_buf, token, PROTO_TOKEN_SIZE);
	b->token_renew_ns = now_ns + (b->cfg.token_renew_ns ? b->cfg.token_renew_ns
							     : HANDSHAKE_RENEW_NS);
	b->rep->c.token_renewed++;
}

void blaster_phase_begin(struct blaster *b, enum blaster_phase phase, uint64_t now_ns)
{
	WE_ASSERT(b->tx_count == 0 && b->inflight.outstanding == 0);
	b->phase = phase;
	b->rep = phase == BLASTER_PHASE_PRELOAD ? &b->preload_report : &b->run_report;
	b->phase_start_ns = now_ns;
	b->issue_end_ns = now_ns + b->cfg.duration_ns;
	b->first_sent_ns = 0;
	b->next_tick_ns = now_ns + b->cfg.progress_interval_ns;
	b->issuing = true;
	b->no_answer = false;
	if (phase == BLASTER_PHASE_PRELOAD) {
		workload_preload_init(&b->wl, &b->preload);
		pacer_window_init(&b->window, b->cfg.preload_window);
	} else if (b->cfg.load == BLASTER_LOAD_CLOSED) {
		pacer_window_init(&b->window, b->cfg.window);
	} else {
		/* The open loop's only bound is the in-flight table. */
		pacer_window_init(&b->window, UINT32_MAX);
		pacer_start(&b->pacer, now_ns);
	}
}

static double blaster_seconds(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e9 : 0.0;
}

/* Stop generating requests; in open loop what was due and not sent is lost. */
static void blaster_stop_issuing(struct blaster *b, uint64_t now_ns)
{
	if (!b->issuing)
		return;
	b->issuing = false;
	b->rep->duration_s = blaster_seconds(b->phase_start_ns, now_ns);
	if (b->phase == BLASTER_PHASE_RUN && b->cfg.load == BLASTER_LOAD_OPEN) {
		uint64_t end = now_ns < b->issue_end_ns ? now_ns : b->issue_end_ns - 1;

		b->rep->c.drops += pacer_skip(&b->pacer, end);
	}
}

enum blaster_state blaster_state(struct blaster *b, uint64_t now_ns)
{
	if (b->issuing) {
		bool stop = b->cfg.stop && *b->cfg.stop;

		/* Open loop: requests meant for before the end still leave, late,
		 * if the engine is only a little behind (BLASTER_END_GRACE_NS). */
		if (b->phase == BLASTER_PHASE_RUN && now_ns >= b->issue_end_ns &&
		    (b->cfg.load == BLASTER_LOAD_CLOSED ||
		     pacer_next_ns(&b->pacer) >= b->issue_end_ns ||
		     now_ns >= b->issue_end_ns + BLASTER_END_GRACE_NS))
			stop = true;
		if (b->phase == BLASTER_PHASE_PRELOAD && b->preload.next >= b->preload.end)
			stop = true;
		if (stop)
			blaster_stop_issuing(b, now_ns);
	}
	if (b->first_sent_ns && b->rep->c.answered == 0 &&
	    now_ns - b->first_sent_ns >= b->cfg.no_answer_ns) {
		b->no_answer = true;
		blaster_stop_issuing(b, now_ns);
	}
	if (b->issuing)
		return BLASTER_ISSUING;
	/* Without a single answer there is nothing to wait for. */
	if (b->no_answer)
		return BLASTER_DONE;
	if (b->tx_count || b->inflight.outstanding)
		return BLASTER_DRAINING;
	return BLASTER_DONE;
}

uint64_t blaster_next_event_ns(struct blaster *b, uint64_t now_ns)
{
	uint64_t next = b->next_tick_ns;
	struct inflight_entry *oldest = inflight_oldest(&b->inflight);

	if (b->issuing && b->phase == BLASTER_PHASE_RUN && b->cfg.load == BLASTER_LOAD_OPEN &&
	    pacer_next_ns(&b->pacer) < next)
		next = pacer_next_ns(&b->pacer);
	if (b->issuing && b->phase == BLASTER_PHASE_RUN && b->issue_end_ns < next)
		next = b->issue_end_ns;
	if (oldest && oldest->sent_ns + b->cfg.timeout_ns < next)
		next = oldest->sent_ns + b->cfg.timeout_ns;
	return next > now_ns ? next : now_ns;
}

/* ---- sending ---------------------------------------------------------- */

/* How many requests may be generated now, and their intended send times. */
static uint32_t blaster_due(struct blaster *b, uint64_t now_ns, uint32_t max)
{
	uint32_t room = inflight_room(&b->inflight);
	uint32_t n;

	if (room < max)
		max = room;
	if (b->phase == BLASTER_PHASE_RUN && b->cfg.load == BLASTER_LOAD_OPEN) {
		uint64_t limit = now_ns < b->issue_end_ns ? now_ns : b->issue_end_ns - 1;

		n = pacer_take(&b->pacer, limit, max, b->intended);
		if (n == max && room == max && pacer_next_ns(&b->pacer) <= limit)
			b->rep->c.stalls++;
		return n;
	}
	n = pacer_window_room(&b->window);
	if (n > max)
		n = max;
	if (b->phase == BLASTER_PHASE_PRELOAD && b->preload.end - b->preload.next < n)
		n = (uint32_t)(b->preload.end - b->preload.next);
	for (uint32_t i = 0; i < n; i++)
		b->intended[i] = now_ns;
	return n;
}

static struct blaster_dgram *blaster_dgram_new(struct blaster *b, uint16_t dest, uint64_t now_ns,
					       uint32_t *slot_out)
{
	uint32_t slot = (b->tx_head + b->tx_count) % b->pool;
	struct blaster_dgram *d = &b->dgrams[slot];

	WE_ASSERT(b->tx_count < b->pool);
	b->tx_count++;
	d->dest = dest;
	d->n_req = 0;
	d->len = 0;
	if (b->cfg.proto == BLASTER_PROTO_NATIVE)
		codec_native_begin(&b->writers[slot], d->buf, b->dgram_cap, now_ns, b->token);
	*slot_out = slot;
	return d;
}

static void blaster_close_open(struct blaster *b)
{
	for (uint32_t i = 0; i < b->n_open; i++) {
		uint16_t w = b->open_workers[i];
		int32_t slot = b->open_slot[w];

		b->dgrams[slot].len = codec_native_finish(&b->writers[slot]);
		b->open_slot[w] = -1;
	}
	b->n_open = 0;
}

/* Append one native request to its worker's open datagram, opening one if
 * needed (a full one is closed and stays in the ready ring). */
static struct blaster_dgram *blaster_native_add(struct blaster *b, uint16_t worker,
						const struct inflight_entry *e,
						const uint8_t *key, uint32_t key_len,
						const uint8_t *value, uint32_t value_len,
						uint64_t now_ns)
{
	int32_t slot = b->open_slot[worker];
	uint32_t new_slot;

	if (slot >= 0 && (b->dgrams[slot].n_req >= b->cfg.batch ||
			  !codec_native_fits(&b->writers[slot], key_len, value_len))) {
		b->dgrams[slot].len = codec_native_finish(&b->writers[slot]);
		b->open_slot[worker] = -1;
		for (uint32_t i = 0; i < b->n_open; i++)
			if (b->open_workers[i] == worker) {
				b->open_workers[i] = b->open_workers[--b->n_open];
				break;
			}
		slot = -1;
	}
	if (slot < 0) {
		blaster_dgram_new(b, worker, now_ns, &new_slot);
		slot = (int32_t)new_slot;
		b->open_slot[worker] = slot;
		b->open_workers[b->n_open++] = worker;
	}
	codec_native_add(&b->writers[slot], e->op, b->cfg.durability, e->seq, key, key_len, value,
			 value_len);
	return &b->dgrams[slot];
}

static struct blaster_dgram *blaster_mc_add(struct blaster *b, const struct inflight_entry *e,
					    const uint8_t *key, uint32_t key_len,
					    const uint8_t *value, uint32_t value_len,
					    uint64_t now_ns)
{
	uint32_t slot;
	struct blaster_dgram *d = blaster_dgram_new(b, 0, now_ns, &slot);
	uint16_t id = (uint16_t)e->seq;

	if (e->op == WORKLOAD_OP_GET)
		d->len = codec_mc_encode_get(d->buf, b->dgram_cap, id, key, key_len);
	else if (e->op == WORKLOAD_OP_PUT)
		d->len = codec_mc_encode_set(d->buf, b->dgram_cap, id, key, key_len, value,
					     value_len);
	else
		d->len = codec_mc_encode_delete(d->buf, b->dgram_cap, id, key, key_len);
	/* blaster_check() sized dgram_cap for the largest request. */
	WE_ASSERT(d->len > 0);
	return d;
}

/* Draw the next request and fill its in-flight entry (verify bookkeeping
 * included); returns the value length for a PUT (value in b->value_buf). */
static uint32_t blaster_draw(struct blaster *b, struct inflight_entry *e, uint64_t intended_ns,
			     uint64_t now_ns)
{
	struct workload_req req;
	uint32_t value_len = 0;
	bool fill = false;

	if (b->phase == BLASTER_PHASE_PRELOAD) {
		bool more = workload_preload_next(&b->preload, &req);

		WE_ASSERT(more);
	} else if (b->fill_head != b->fill_tail) {
		/* cache-aside: the key a GET found missing, written now */
		req.op = WORKLOAD_OP_PUT;
		req.key = b->fill_keys[b->fill_head++ % BLASTER_FILL_QUEUE];
		fill = true;
	} else {
		workload_next(&b->wl, &req);
	}
	if (b->cfg.verify && req.op != WORKLOAD_OP_GET && !verify_write_allowed(&b->ver, req.key)) {
		req.op = WORKLOAD_OP_GET;
		b->rep->c.write_conflicts++;
		fill = false;
	}
	b->rep->c.fills += fill;
	e->intended_ns = intended_ns;
	e->sent_ns = now_ns;
	e->op = req.op;
	inflight_set_key(e, req.key);
	e->version = (uint16_t)e->seq;
	e->deletes_lo = 0;
	if (b->cfg.verify) {
		e->vflags = BLASTER_VF_TRACKED;
		if (req.op == WORKLOAD_OP_GET) {
			struct verify_snap snap;

			verify_read_issue(&b->ver, req.key, &snap);
			e->version = snap.version_lo;
			e->deletes_lo = snap.deletes_lo;
			e->vflags |= snap.flags;
		} else {
			e->version = verify_write_issue(&b->ver, req.key,
							req.op == WORKLOAD_OP_DELETE);
		}
	}
	if (req.op == WORKLOAD_OP_PUT)
		value_len = workload_value(&b->wl, req.key, e->version, b->value_buf);
	return value_len;
}

/* Queue a renewal of the token among the load's datagrams when one is due
 * (blaster_rx.c takes the answer); retried until answered. */
static void blaster_token_renew(struct blaster *b, uint64_t now_ns)
{
	uint64_t every = b->cfg.token_renew_ns ? b->cfg.token_renew_ns : HANDSHAKE_RENEW_NS;
	uint32_t slot;
	struct blaster_dgram *d;

	if (b->token_renew_ns == 0)
		b->token_renew_ns = now_ns + every;
	if (now_ns < b->token_renew_ns || b->tx_count == b->pool)
		return;
	d = blaster_dgram_new(b, 0, now_ns, &slot);
	d->len = handshake_encode(d->buf, b->dgram_cap);
	b->token_renew_ns = now_ns + (every < HANDSHAKE_RENEW_RETRY_NS ? every
								 : HANDSHAKE_RENEW_RETRY_NS);
}

uint32_t blaster_tx_prepare(struct blaster *b, uint64_t now_ns)
{
	uint32_t free_slots = b->pool - b->tx_count;
	uint32_t dests = b->cfg.proto == BLASTER_PROTO_NATIVE ? b->cfg.workers : 1;
	uint32_t max, n;
	uint8_t key[WORKLOAD_KEY_MAX];

	if (!b->issuing || free_slots == 0)
		return b->tx_count;
	if (b->token) {
		blaster_token_renew(b, now_ns);
		free_slots = b->pool - b->tx_count;
		if (free_slots == 0)
			return b->tx_count;
	}
	/* Frees in-flight room (timeouts, exhausted memcached ids) first. */
	blaster_expire(b, now_ns);
	/* Each request opens at most one datagram; with batching, full ones
	 * hold at least dgram_reqs_min requests and at most one partial per
	 * destination is open. */
	max = free_slots;
	if (free_slots > dests && (free_slots - dests) * b->dgram_reqs_min > max)
		max = (free_slots - dests) * b->dgram_reqs_min;
	if (max > b->intended_cap)
		max = b->intended_cap;
	n = blaster_due(b, now_ns, max);
	for (uint32_t i = 0; i < n; i++) {
		struct inflight_entry *e = inflight_alloc(&b->inflight);
		struct blaster_dgram *d;
		uint32_t key_len, value_len;

		WE_ASSERT(e != NULL); /* blaster_due() checked the room */
		value_len = blaster_draw(b, e, b->intended[i], now_ns);
		key_len = workload_key(&b->wl, inflight_key(e), key);
		if (b->cfg.proto == BLASTER_PROTO_NATIVE)
			d = blaster_native_add(b, codec_native_worker(&b->map, key, key_len), e,
					       key, key_len, b->value_buf, value_len, now_ns);
		else
			d = blaster_mc_add(b, e, key, key_len, b->value_buf, value_len, now_ns);
		d->seq[d->n_req++] = e->seq;
	}
	pacer_window_acquire(&b->window, n);
	blaster_close_open(b);
	return b->tx_count;
}

static void blaster_tx_pop(struct blaster *b, uint32_t n)
{
	WE_ASSERT(n <= b->tx_count);
	b->tx_head = (b->tx_head + n) % b->pool;
	b->tx_count -= n;
}

void blaster_tx_sent(struct blaster *b, uint32_t n, uint64_t now_ns)
{
	struct report_counters *c = &b->rep->c;

	for (uint32_t i = 0; i < n; i++) {
		const struct blaster_dgram *d = blaster_tx_dgram(b, i);

		c->dgrams_sent++;
		for (uint16_t r = 0; r < d->n_req; r++) {
			/* NULL if it already timed out while waiting to be sent. */
			struct inflight_entry *e = inflight_by_seq(&b->inflight, d->seq[r]);

			if (e == NULL)
				continue;
			e->sent_ns = now_ns;
			e->sent = 1;
			c->sent++;
			c->sent_get += e->op == WORKLOAD_OP_GET;
			c->sent_put += e->op == WORKLOAD_OP_PUT;
			c->sent_delete += e->op == WORKLOAD_OP_DELETE;
		}
	}
	if (n && b->first_sent_ns == 0)
		b->first_sent_ns = now_ns ? now_ns : 1;
	blaster_tx_pop(b, n);
}

void blaster_tx_failed(struct blaster *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct blaster_dgram *d = blaster_tx_dgram(b, i);

		for (uint16_t r = 0; r < d->n_req; r++) {
			struct inflight_entry *e = inflight_by_seq(&b->inflight, d->seq[r]);

			if (e == NULL)
				continue;
			b->rep->c.drops++;
			blaster_abandon(b, e, false);
		}
	}
	blaster_tx_pop(b, n);
}

/* ---- progress --------------------------------------------------------- */

void blaster_tick(struct blaster *b, uint64_t now_ns)
{
	const struct report_sample *s;

	if (now_ns < b->next_tick_ns)
		return;
	s = report_sample_take(b->rep, blaster_seconds(b->phase_start_ns, now_ns));
	if (s && b->cfg.progress)
		report_print_progress(b->cfg.progress, b->rep, s);
	b->next_tick_ns += b->cfg.progress_interval_ns;
	if (b->next_tick_ns <= now_ns)
		b->next_tick_ns = now_ns + b->cfg.progress_interval_ns;
}

void blaster_phase_end(struct blaster *b, uint64_t now_ns)
{
	double t = blaster_seconds(b->phase_start_ns, now_ns);

	blaster_stop_issuing(b, now_ns);
	/* Whatever is still outstanding (a DONE after "no answer") counts as
	 * timed out, so sent = answered + timeouts always holds at the end. */
	while (b->inflight.outstanding) {
		struct inflight_entry *e = inflight_oldest(&b->inflight);

		if (e->sent)
			b->rep->c.timeouts++;
		else
			b->rep->c.drops++;
		blaster_abandon(b, e, e->sent);
	}
	b->tx_count = 0;
	b->tx_head = 0;
	/* Requests went out and not one came back, however the phase ended. */
	if (b->rep->c.sent > 0 && b->rep->c.answered == 0)
		b->no_answer = true;
	/* A last, partial interval, if anything happened in it. */
	if (b->rep->c.answered != b->rep->last.answered || b->rep->c.sent != b->rep->last.sent ||
	    b->rep->c.timeouts != b->rep->last.timeouts || b->rep->c.drops != b->rep->last.drops)
		report_sample_take(b->rep, t);
	else
		hist_merge(&b->rep->latency, &b->rep->interval);
	hist_reset(&b->rep->interval);
}
