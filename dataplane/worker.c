/* worker.c - the worker lcore's run-to-completion loop.
 *
 * DESIGN: each iteration takes a burst from the NIC queue, then a burst from
 * the worker's inbound forwarding ring, and pushes each through the same
 * stages, each a small function over the whole burst:
 *
 *   classify   L2-L4 (netio): ARP/ICMP answered in place, drops counted
 *   decode     the batch (proto), header-only error replies in place
 *   hash       every key once (keyhash)
 *   prefetch   all buckets, then all items (shard)
 *   execute    per datagram, answers into a fresh reply mbuf, entries owned
 *              elsewhere gathered into one datagram per owner and sent over
 *              that owner's ring (wormhole)
 *   transmit   one tx_burst; whatever the queue refuses is freed and counted
 *
 * Nothing here logs, locks or allocates from the heap; mbufs come from the
 * port's mempool (per-lcore cache). When both sources stay empty the worker
 * pauses, then sleeps briefly (not with --busy-poll), so a data plane that
 * shares a core with its load generator does not starve it.
 */
#include "worker.h"
#include "worker_archive.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "reply.h"
#include "settings.h"
#include "temperature.h"
#include "we_assert.h"
#include "we_time.h"
#include "worker_tx.h"

/* The loop's one shared word: the stop bit, and how many pauses are in force
 * (each pauser adds WORKER_CTL_PAUSE_ONE; the supervisor restarting the port
 * and the memif guard on EAL's interrupt thread may overlap). One load per
 * iteration covers both: any nonzero value sends the worker to
 * worker_park(). worker_pause_gen numbers the pause requests: a pauser
 * raises the count first, then the generation; a parked worker acknowledges
 * the latest generation it has read (worker_park_ack), and it reads the
 * generation before the count, so an acknowledged generation g proves the
 * worker saw the count that g's pauser raised, and it stays parked until
 * that pauser lowers it again. No acknowledgement can be stale. */
#define WORKER_CTL_STOP 0x1u
#define WORKER_CTL_PAUSE_ONE 0x2u
static uint32_t worker_control;
static uint32_t worker_pause_gen;
static struct {
	uint32_t gen;
} we_cache_aligned worker_park_ack[WORKER_MAX];

/* A pauser waits this long between two looks at the acknowledgements
 * (parked workers look at the control word every WORKER_PARK_POLL_NS). */
#define WORKER_PAUSE_POLL_NS 20000
#define WORKER_PARK_POLL_NS 20000

void worker_request_stop(void)
{
	__atomic_fetch_or(&worker_control, WORKER_CTL_STOP, __ATOMIC_SEQ_CST);
}

/* Whether worker i can no longer touch the port for pause generation gen:
 * it acknowledged gen (or a later one), or its lcore is not running
 * worker_main (not launched yet, or returned after a stop). */
static bool worker_is_parked(const struct worker *w, uint32_t gen)
{
	uint32_t ack = __atomic_load_n(&worker_park_ack[w->index].gen, __ATOMIC_SEQ_CST);

	return (int32_t)(ack - gen) >= 0 || rte_eal_get_lcore_state(w->lcore_id) != RUNNING;
}

bool worker_pause_all(struct worker *const *workers, unsigned n, unsigned timeout_ms)
{
	uint64_t deadline = we_monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec ts = {.tv_sec = 0, .tv_nsec = WORKER_PAUSE_POLL_NS};
	uint32_t gen;
	unsigned i = 0;

	__atomic_fetch_add(&worker_control, WORKER_CTL_PAUSE_ONE, __ATOMIC_SEQ_CST);
	gen = __atomic_add_fetch(&worker_pause_gen, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		while (i < n && worker_is_parked(workers[i], gen))
			i++;
		if (i == n)
			return true;
		if (we_monotonic_ns() > deadline)
			break;
		nanosleep(&ts, NULL);
	}
	worker_resume_all();
	return false;
}

void worker_resume_all(void)
{
	__atomic_fetch_sub(&worker_control, WORKER_CTL_PAUSE_ONE, __ATOMIC_SEQ_CST);
}

/* Park while any pause is in force (or until a stop): no polling of the
 * port meanwhile, so the port can be stopped and started, or the memif
 * driver unmap its rings, under us. */
static void worker_park(struct worker *w)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = WORKER_PARK_POLL_NS};

	worker_tx_flush(w);
	__atomic_store_n(&w->paused, true, __ATOMIC_RELEASE);
	for (;;) {
		uint32_t gen = __atomic_load_n(&worker_pause_gen, __ATOMIC_SEQ_CST);
		uint32_t ctl = __atomic_load_n(&worker_control, __ATOMIC_SEQ_CST);

		if (ctl == 0 || (ctl & WORKER_CTL_STOP) != 0)
			break;
		if (__atomic_load_n(&worker_park_ack[w->index].gen, __ATOMIC_RELAXED) != gen)
			__atomic_store_n(&worker_park_ack[w->index].gen, gen, __ATOMIC_SEQ_CST);
		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&w->paused, false, __ATOMIC_RELEASE);
}

/* ---- classify and decode ---------------------------------------------- */

/* Answer a datagram that failed to decode with a header-only reply written
 * over the request itself (16 bytes: never larger than what was sent). */
static void worker_reply_decode_error(struct worker *w, struct rte_mbuf *m,
				      const struct netio_udp *udp,
				      const struct proto_batch_hdr *hdr, enum we_status status)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct proto_writer pw;
	uint32_t len;

	proto_writer_init(&pw, frame + NETIO_UDP_HEADROOM, PROTO_HDR_SIZE, PROTO_F_RESPONSE,
			  hdr->echo);
	proto_writer_set_status(&pw, (uint8_t)status);
	len = proto_writer_finish(&pw);
	worker_tx(w, m, netio_write_udp_reply(frame, udp, len, w->udp_checksum));
}

static void worker_count_decode_error(struct worker_stats *st, enum proto_decode_result r)
{
	switch (r) {
	case PROTO_DECODE_TRUNCATED:
		st->rx_drop_proto_truncated++;
		break;
	case PROTO_DECODE_BAD_MAGIC:
		st->rx_drop_proto_bad_magic++;
		break;
	case PROTO_DECODE_NOT_REQUEST:
		st->rx_drop_proto_not_request++;
		break;
	case PROTO_DECODE_BAD_VERSION:
		st->rx_err_proto_bad_version++;
		break;
	case PROTO_DECODE_UNSUPPORTED:
		st->rx_err_proto_unsupported++;
		break;
	case PROTO_DECODE_MALFORMED:
	case PROTO_DECODE_OK:
		st->rx_err_proto_malformed++;
		break;
	}
}

/* Whether the sender of a datagram it sent itself has shown that it receives
 * our packets: a valid token, or validation turned off. Counted. */
static bool worker_sender_validated(struct worker *w, const struct worker_dgram *d,
				    const uint8_t *payload, const struct proto_batch_hdr *hdr)
{
	const uint8_t *token = proto_batch_token(payload, hdr);

	if (!w->validate_addresses)
		return true;
	if (token != NULL && addr_token_check(&w->tokens, d->udp.src_ip_be,
					      w->exec.token_epoch, token))
		return true;
	if (token != NULL)
		w->stats.rx_token_invalid++;
	w->stats.rx_unvalidated++;
	return false;
}

/* A UDP datagram for us: decode it into the burst's request array, or
 * answer/drop it right away. Returns true when the mbuf was kept as a
 * request datagram (freed after the burst is answered). */
static bool worker_decode(struct worker *w, struct rte_mbuf *m, const struct netio_udp *udp,
			  bool from_ring, uint32_t *n_reqs)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *payload = frame + udp->payload_off;
	struct worker_dgram *d = &w->dgrams[w->n_dgrams];
	struct proto_batch_hdr hdr;
	enum proto_decode_result r;
	uint8_t meta = 0;
	unsigned n = 0;

	if (from_ring)
		meta = proto_take_hops(payload, udp->payload_len);
	r = proto_decode_batch(payload, udp->payload_len, &hdr, &w->reqs[*n_reqs],
			       PROTO_BATCH_MAX, &n);
	if (likely(r == PROTO_DECODE_OK)) {
		d->m = m;
		d->udp = *udp;
		d->echo = hdr.echo;
		d->first = *n_reqs;
		d->n = (uint16_t)n;
		d->hops = meta & PROTO_FWD_HOPS_MASK;
		d->whole = !from_ring || (meta & PROTO_FWD_WHOLE);
		d->has_token = (hdr.flags & PROTO_F_TOKEN) != 0;
		if (!d->whole)
			d->validated = (meta & PROTO_FWD_VALIDATED) != 0;
		else
			d->validated = worker_sender_validated(w, d, payload, &hdr);
		w->n_dgrams++;
		*n_reqs += n;
		return true;
	}
	worker_count_decode_error(&w->stats, r);
	if (proto_decode_reply_status(r) != WE_STATUS_OK)
		worker_reply_decode_error(w, m, udp, &hdr, proto_decode_reply_status(r));
	else
		rte_pktmbuf_free(m);
	return false;
}

/* A datagram that the NIC delivered to this worker's queue but that is
 * addressed to another worker's port (no rte_flow: RSS or af_packet fanout
 * chose the queue) goes to that worker whole, unparsed: one ring enqueue
 * instead of decoding here and re-encoding per owner. It travels as a
 * forwarded datagram (hop count 1 in the reserved byte), so the port's
 * worker forwards by region only what the client itself misdirected. A
 * datagram whose reserved byte is already set stays here, to be refused as
 * malformed. Returns true when the mbuf was handed over. */
static bool worker_steer(struct worker *w, struct rte_mbuf *m, const struct netio_udp *udp)
{
	uint8_t *payload = rte_pktmbuf_mtod(m, uint8_t *) + udp->payload_off;
	uint16_t owner = (uint16_t)(udp->dst_port - w->self.udp_port_base);
	const unsigned hops_at = offsetof(struct proto_batch_hdr, reserved);

	if (udp->payload_len < PROTO_HDR_SIZE || payload[hops_at] != 0)
		return false;
	payload[hops_at] = PROTO_FWD_WHOLE | 1;
	if (unlikely(rte_ring_enqueue(w->peers[owner], m) != 0)) {
		payload[hops_at] = 0; /* ring full: serve it here instead */
		return false;
	}
	w->stats.fwd_steered++;
	return true;
}

/* --reflect: send the datagram back unparsed (only its RESPONSE flag set),
 * to measure the packet path alone: the benchmark's baseline. A datagram
 * shorter than a batch header or already marked a response is dropped, so
 * two reflectors pointed at each other cannot bounce a datagram forever. */
static void worker_reflect(struct worker *w, struct rte_mbuf *m, const struct netio_udp *udp)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const uint8_t *payload = frame + udp->payload_off;

	if (udp->payload_len < PROTO_HDR_SIZE ||
	    (payload[offsetof(struct proto_batch_hdr, flags)] & PROTO_F_RESPONSE)) {
		w->stats.rx_drop_reflect_response++;
		rte_pktmbuf_free(m);
		return;
	}

	if (udp->payload_off != NETIO_UDP_HEADROOM) /* IPv4 options: move the payload */
		memmove(frame + NETIO_UDP_HEADROOM, frame + udp->payload_off, udp->payload_len);
	/* Mark it a response, so a load generator counts the echo as an answer. */
	frame[NETIO_UDP_HEADROOM + offsetof(struct proto_batch_hdr, flags)] |= PROTO_F_RESPONSE;
	w->stats.reflected++;
	worker_tx(w, m, netio_write_udp_reply(frame, udp, udp->payload_len, w->udp_checksum));
}

static void worker_classify(struct worker *w, struct rte_mbuf *m, bool from_ring,
			    uint32_t *n_reqs)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct netio_udp udp;
	uint32_t reply_len = 0;
	enum netio_verdict v;

	if (unlikely(m->nb_segs != 1)) {
		w->stats.rx_drop_truncated++; /* jumbo chains are not ours */
		rte_pktmbuf_free(m);
		return;
	}
	v = netio_classify(&w->self, frame, rte_pktmbuf_data_len(m), &udp, &reply_len);
	if (likely(v == NETIO_UDP)) {
		if (!from_ring && !w->reflect &&
		    udp.dst_port != w->self.udp_port_base + w->index && worker_steer(w, m, &udp))
			return;
		if (unlikely(w->reflect))
			worker_reflect(w, m, &udp);
		else
			worker_decode(w, m, &udp, from_ring, n_reqs);
	} else if (v == NETIO_REPLY_IN_PLACE) {
		/* ARP replies keep ethertype 0x0806 at bytes 12-13. */
		if (frame[12] == 0x08 && frame[13] == 0x06)
			w->stats.tx_arp_replies++;
		else
			w->stats.tx_icmp_replies++;
		worker_tx(w, m, reply_len);
	} else {
		((uint64_t *)&w->stats)[worker_stats_netio_drop_index(v)]++;
		rte_pktmbuf_free(m);
	}
}

/* ---- the burst -------------------------------------------------------- */

static void worker_process_burst(struct worker *w, struct rte_mbuf **frames, unsigned n,
				 bool from_ring)
{
	uint32_t n_reqs = 0;
	struct rte_mbuf *done[WORKER_BURST];

	for (unsigned i = 0; i < n && i < WORKER_PREFETCH_OFFSET; i++)
		rte_prefetch0(rte_pktmbuf_mtod(frames[i], void *));
	w->n_dgrams = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i + WORKER_PREFETCH_OFFSET < n)
			rte_prefetch0(rte_pktmbuf_mtod(frames[i + WORKER_PREFETCH_OFFSET], void *));
		if (!from_ring) {
			w->stats.rx_packets++;
			w->stats.rx_bytes += rte_pktmbuf_pkt_len(frames[i]);
		}
		worker_classify(w, frames[i], from_ring, &n_reqs);
	}
	if (w->n_dgrams == 0)
		return;

	execute_hash(&w->exec, w->reqs, n_reqs);
	execute_prefetch_buckets(&w->exec, w->reqs, n_reqs);
	execute_prefetch_items(&w->exec, w->reqs, n_reqs);
	for (uint16_t i = 0; i < w->n_dgrams; i++) {
		reply_answer_dgram(w, &w->dgrams[i]);
		done[i] = w->dgrams[i].m;
	}
	rte_pktmbuf_free_bulk(done, w->n_dgrams);
}

/* ---- the loop --------------------------------------------------------- */

/* Each field is a naturally aligned u64: relaxed atomic stores and loads
 * keep every field whole; the struct as a whole may mix two publications,
 * which is fine for gauges. */

static void worker_heartbeat(struct worker *w, uint64_t now_ns)
{
	__atomic_store_n(&w->published_iterations, w->iterations, __ATOMIC_RELAXED);
	__atomic_store_n(&w->heartbeat_ns, now_ns, __ATOMIC_RELAXED);
}

#define WORKER_COOL_SECONDS 4 /* time's share of the cooling clock: a tick per 4 s */

static void worker_gauges_publish(struct worker *w, uint64_t now_ns)
{
	struct shard_counters c;
	struct shard_tier_counters t;
	uint64_t *dst = (uint64_t *)&w->tier_gauges;
	const uint64_t *src = (const uint64_t *)&t;

	shard_read_counters(w->exec.shard, &c);
#define WORKER_GAUGE_STORE(f) __atomic_store_n(&w->gauges.f, c.f, __ATOMIC_RELAXED);
	SHARD_COUNTER_FIELDS(WORKER_GAUGE_STORE)
#undef WORKER_GAUGE_STORE
	shard_read_tiers(w->exec.shard, &t);
	for (size_t i = 0; i < sizeof(t) / sizeof(uint64_t); i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	if (w->archive.space != NULL)
		archive_space_publish(w->archive.space);
	/* The tiers' clock: seconds (one demotion pass at most per tick); the
	 * shard's cooling clock counts a tick per WORKER_COOL_SECONDS and its
	 * own per so many accesses (shard_set_tick). */
	w->tier_tick = (uint32_t)(now_ns / 1000000000u);
	shard_set_tick(w->exec.shard, w->tier_tick / WORKER_COOL_SECONDS);
	w->gauges_ns = now_ns;
	worker_heartbeat(w, now_ns);
}

void worker_tier_gauges_load(const struct worker *w, struct shard_tier_counters *out)
{
	uint64_t *dst = (uint64_t *)out;
	const uint64_t *src = (const uint64_t *)&w->tier_gauges;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* The tiers' policy: a raw item that has not been touched for 2 ticks of
 * cooling below the new-item level goes to LZ4, an LZ4 item cooled to 0 to
 * LZ4-HC; a step visits WORKER_TIER_STEP_CHAINS chains (about 180 items at
 * the index's capacity, 9.6 a chain) and compresses at most 8 KiB (LZ4-HC
 * counts 8x: one 1 KiB value), about 10-20 microseconds, so one step
 * between two bursts does not hold the next burst's requests long. */
#define WORKER_TIER_STEP_CHAINS 19
static const struct shard_demote_policy worker_tier_policy = {
	.warm_below = TEMP_LEVEL_NEW - 2,
	.cold_below = 1,
	.max_chains = WORKER_TIER_STEP_CHAINS,
	.max_input_bytes = 8 * 1024,
};

/* Under memory pressure (the arena more than WORKER_TIER_PRESSURE_PCT %
 * used: the shard's memory budget, the specification's Schwarzschild
 * radius) the scan runs without pause and compresses everything but the
 * hottest items: raw below level 10, LZ4 below level 6. */
#define WORKER_TIER_PRESSURE_PCT 85
static const struct shard_demote_policy worker_tier_pressure_policy = {
	.warm_below = WORKER_TIER_PROMOTE_LEVEL,
	.cold_below = TEMP_LEVEL_NEW + 1,
	.max_chains = WORKER_TIER_STEP_CHAINS,
	.max_input_bytes = 8 * 1024,
};

/* Without memory pressure the scan is housekeeping: it takes loop
 * iterations that found no request, and one busy iteration in this many
 * (so it still progresses under full load). */
#define WORKER_TIER_BUSY_EVERY 64

static bool worker_tier_used_over(const struct worker *w, unsigned pct)
{
	uint64_t used = w->gauges.arena_used_bytes, all = w->gauges.arena_bytes;

	return all != 0 && used * 100 > all * pct;
}

/* Eviction (--evict on, a cache only: no log, or weak writes by default):
 * a PUT that finds no room evicts the coldest of a few sampled items, as
 * many times as it takes (shard_set_evict_on_put). */
static bool worker_may_evict(const struct worker *w)
{
	return w->evict &&
	       (w->exec.log == NULL || w->exec.durability_default == PROTO_DUR_WEAK);
}

/* The shard's modes that follow the tier settings, set in one place (at
 * the worker's start and after each setting): with the tiers on, reads
 * warm items, and a PUT that finds the arena full compresses (the pressure
 * policy) and, in a cache, evicts. */
static void worker_shard_modes(struct worker *w)
{
	shard_set_track_reads(w->exec.shard, w->tiers);
	shard_set_make_room(w->exec.shard, w->tiers ? &worker_tier_pressure_policy : NULL);
	shard_set_evict_on_put(w->exec.shard, w->tiers && worker_may_evict(w));
}

/* One demotion step; at most one pass over the shard per second, unless
 * memory is short. */
static void worker_tier_step(struct worker *w, bool busy)
{
	struct shard *s = w->exec.shard;
	bool pressure = worker_tier_used_over(w, WORKER_TIER_PRESSURE_PCT);
	const struct shard_demote_policy *p =
		pressure ? &worker_tier_pressure_policy : &worker_tier_policy;

	if (!pressure && busy && (w->iterations % WORKER_TIER_BUSY_EVERY) != 0)
		return;
	if (shard_scan_done(s, &w->tier_cursor)) {
		if (w->tier_pass_tick == w->tier_tick && !pressure)
			return;
		w->tier_cursor = (struct shard_scan){0};
		w->stats.tier_passes += 1;
		w->stats.tier_pressure_passes += pressure;
	}
	/* Under pressure only items the pass would keep raw come back raw. */
	shard_set_promote_level(s, pressure ? p->warm_below : 0);
	(void)shard_demote_step(s, &w->tier_cursor, p);
	if (shard_scan_done(s, &w->tier_cursor))
		w->tier_pass_tick = w->tier_tick;
}

/* Compaction (shard_compact_step) while the room (untouched, and free in
 * large blocks) is under WORKER_COMPACT_ROOM_PCT % of the arena and more
 * than 1 / WORKER_COMPACT_PIECES_DIV of it is free in smaller pieces: tier
 * moves, stubs and deletes leave holes between items, which neither a raw
 * item nor a burst of PUTs can use. A step walks 64 blocks and moves at
 * most 8 items (copies of up to a few KiB each, a few microseconds), every
 * iteration while so: the tiers' step under pressure runs as often. */
#define WORKER_COMPACT_ROOM_PCT 25
#define WORKER_COMPACT_PIECES_DIV 16
#define WORKER_COMPACT_BLOCKS 64
#define WORKER_COMPACT_MOVES 8

static void worker_compact_step(struct worker *w)
{
	struct shard_counters c;
	uint64_t pieces;

	shard_read_counters(w->exec.shard, &c);
	pieces = c.arena_free_bytes - c.arena_free_large_bytes;
	if (pieces * WORKER_COMPACT_PIECES_DIV <= c.arena_bytes ||
	    (c.arena_untouched_bytes + c.arena_free_large_bytes) * 100 >=
		    c.arena_bytes * WORKER_COMPACT_ROOM_PCT)
		return;
	(void)shard_compact_step(w->exec.shard, WORKER_COMPACT_BLOCKS, WORKER_COMPACT_MOVES);
}

void worker_heartbeat_load(const struct worker *w, uint64_t *iterations, uint64_t *at_ns)
{
	*iterations = __atomic_load_n(&w->published_iterations, __ATOMIC_RELAXED);
	*at_ns = __atomic_load_n(&w->heartbeat_ns, __ATOMIC_RELAXED);
}

void worker_service_time_load(const struct worker *w, struct hist_log2 *out)
{
	hist_log2_load(&w->service_time, out);
	out->sum = worker_stats_load(&w->stats, WORKER_STATS_busy_cycles);
}

void worker_gauges_load(const struct worker *w, struct shard_counters *out)
{
#define WORKER_GAUGE_LOAD(f) out->f = __atomic_load_n(&w->gauges.f, __ATOMIC_RELAXED);
	SHARD_COUNTER_FIELDS(WORKER_GAUGE_LOAD)
#undef WORKER_GAUGE_LOAD
}

/* ---- the service step ------------------------------------------------- */

/* config-set (settings.h): one live setting of this worker. The choice
 * index of default_consistency follows PROTO_DUR_STRONG, _EVENTUAL, _WEAK. */
_Static_assert(PROTO_DUR_EVENTUAL == PROTO_DUR_STRONG + 1 && PROTO_DUR_WEAK == PROTO_DUR_STRONG + 2,
	       "default_consistency's choices map onto PROTO_DUR_* in order");
static void worker_apply_setting(struct worker *w, int32_t id, uint64_t v)
{
	switch (id) {
	case SETTING_DEFAULT_CONSISTENCY:
		if (v <= 2)
			w->exec.durability_default = (uint8_t)(PROTO_DUR_STRONG + v);
		break;
	case SETTING_UDP_CHECKSUM:
		w->udp_checksum = v != 0;
		break;
	case SETTING_ADDRESS_VALIDATION:
		w->validate_addresses = v != 0;
		break;
	case SETTING_IDLE_SLEEP_US:
		w->idle_sleep_us = (uint32_t)v;
		break;
	case SETTING_BUSY_POLL:
		w->busy_poll = v != 0;
		break;
	case SETTING_SERVICE_HISTOGRAM:
		w->service_histogram = v != 0;
		break;
	case SETTING_ACCESS_SAMPLE_EVERY:
		access_sample_set_every(&w->access, (uint32_t)v);
		break;
	case SETTING_TIERS:
		w->tiers = v != 0;
		break;
	case SETTING_EVICT:
		w->evict = v != 0;
		break;
	default:
		w->stats.ctl_unknown++;
		return;
	}
	worker_shard_modes(w);
}

void worker_move_env(struct worker *w, struct move_env *env)
{
	*env = (struct move_env){
		.shard = w->exec.shard,
		.map = w->map,
		.rings = w->peer_ctl,
		.self = w->index,
		.log = w->exec.log,
		.lsn = &w->lsn,
		.durable = &w->durable,
		.stats = &w->stats,
		.archive = w->archive.port,
	};
}

/* Run the datagrams held while a region moved in: it is in now (or went
 * back to its old owner, and they are forwarded there). */
static void worker_run_held(struct worker *w)
{
	struct rte_mbuf *held[WORKER_HELD_MAX];
	unsigned n = w->n_held;

	w->run_held = false;
	memcpy(held, w->held, n * sizeof(held[0]));
	w->n_held = 0;
	for (unsigned i = 0; i < n; i += WORKER_BURST) {
		unsigned k = n - i < WORKER_BURST ? n - i : WORKER_BURST;

		worker_process_burst(w, held + i, k, true);
	}
}

/* Apply the messages other threads posted to this worker (ctl_ring.h). */
static void worker_apply_control(struct worker *w)
{
	struct ctl_msg m[WORKER_CTL_TAKE];
	unsigned n = ctl_ring_take(&w->ctl, m, WORKER_CTL_TAKE);

	for (unsigned i = 0; i < n; i++) {
		switch (m[i].type) {
		case CTL_MSG_DURABLE:
			if (m[i].a > w->durable.lsn)
				w->durable.lsn = m[i].a;
			w->durable.error = m[i].i32;
			break;
		case CTL_MSG_FENCE:
			atomic_store_explicit(&w->ctl_fence_ack, m[i].a, memory_order_release);
			break;
		case CTL_MSG_CHECKPOINT:
			if (w->ckpt_port == NULL ||
			    ckpt_scan_begin(&w->ckpt, w->ckpt_port, m[i].a, w->lsn) != 0)
				w->stats.ckpt_refused++;
			break;
		case CTL_MSG_SET:
			worker_apply_setting(w, m[i].i32, m[i].a);
			break;
		case CTL_MSG_MOVE_OUT:
		case CTL_MSG_MOVE_CHUNK:
		case CTL_MSG_MOVE_END:
		case CTL_MSG_MOVE_CHUNK_FREE:
		case CTL_MSG_MOVE_FINISH:
		case CTL_MSG_MOVE_ABORT:
		case CTL_MSG_MOVE_PURGE: {
			struct move_env env;

			worker_move_env(w, &env);
			if (move_on_message(&w->move, &env, &m[i]) == MOVE_ACT_RUN_HELD)
				w->run_held = true;
			break;
		}
		default:
			w->stats.ctl_unknown++;
			break;
		}
	}
	w->stats.ctl_messages += n;
}

/* Send the parked answers whose writes are now durable (or, while storage
 * fails, the others as NOT_DURABLE). Answers of one client datagram that
 * are released together share a reply datagram. Bounded: at most a burst
 * of answers per call. An answer that cannot go out now (no buffer) goes
 * back to the park table for the next step. */
static void worker_release_parked(struct worker *w)
{
	struct park_entry e[WORKER_BURST];
	unsigned n, i = 0;

	n = park_release(&w->park, w->durable.lsn, e, WORKER_BURST);
	if (n == 0 && w->durable.error != 0)
		n = park_fail_all(&w->park, WE_STATUS_NOT_DURABLE, e, WORKER_BURST);
	while (i < n) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
		const struct park_entry *first = &e[i];
		struct proto_writer pw;
		uint32_t len;

		if (unlikely(m == NULL)) {
			w->stats.tx_drop_nobuf++;
			park_return(&w->park, n - i);
			return;
		}
		proto_writer_init(&pw, worker_payload(m), PROTO_PAYLOAD_MAX, PROTO_F_RESPONSE,
				  first->echo);
		do {
			proto_writer_append(&pw, e[i].op, 0, e[i].status, e[i].opaque, 0, 0, 0, 0);
			i++;
		} while (i < n && park_same_datagram(first, &e[i]) && proto_writer_fits(&pw, 0, 0));
		len = proto_writer_finish(&pw);
		w->stats.tx_reply_datagrams++;
		w->stats.tx_parked_replies++;
		worker_tx(w, m, netio_write_udp_reply(rte_pktmbuf_mtod(m, uint8_t *), &first->udp,
						      len, w->udp_checksum));
	}
}

/* Work between bursts, bounded, never a system call: messages first (a
 * durable notice releases answers at once), then the parked answers, unless
 * the NIC queue refused frames last time (they wait rather than drop). */
static void worker_service(struct worker *w, bool busy)
{
	worker_apply_control(w);
	if (w->access.n_pending != 0)
		access_sample_drain(&w->access);
	if (unlikely(move_worker_active(&w->move))) {
		struct move_env env;

		worker_move_env(w, &env);
		move_step(&w->move, &env);
		/* Its items changed (import, purge): show the count once the
		 * move ends here, not a few thousand iterations later. */
		if (!move_worker_active(&w->move))
			worker_gauges_publish(w, we_monotonic_ns());
	}
	if (unlikely(w->run_held))
		worker_run_held(w);
	if (w->tiers) {
		worker_tier_step(w, busy);
		worker_compact_step(w);
	}
	if (unlikely(worker_archive_active(w)))
		worker_archive_service(w);
	if (unlikely(ckpt_scan_active(&w->ckpt))) {
		int n = ckpt_scan_step(&w->ckpt, w->ckpt_port, w->exec.shard, w->lsn,
				       CKPT_SCAN_STEP_ITEMS);

		if (n > 0)
			w->stats.ckpt_items += (uint64_t)n;
		else if (n < 0)
			w->stats.ckpt_failed++;
	}
	if (park_count(&w->park) != 0) {
		if (unlikely(w->tx_refused))
			w->stats.park_held_tx_full++;
		else
			worker_release_parked(w);
	}
}

static void worker_idle(struct worker *w)
{
	w->empty_polls++;
	/* Answers waiting for the log, or a checkpoint scan under way: keep
	 * polling (the release is near; an idle worker scans fastest). */
	if (park_count(&w->park) != 0 || ckpt_scan_active(&w->ckpt) ||
	    move_worker_active(&w->move) || worker_archive_waiting(w)) {
		rte_pause();
		return;
	}
	if (w->busy_poll || w->empty_polls < WORKER_IDLE_SLEEP_POLLS) {
		if (w->empty_polls >= WORKER_IDLE_PAUSE_POLLS)
			rte_pause();
		return;
	}
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)w->idle_sleep_us * 1000};
	uint64_t now_ns = we_monotonic_ns();

	w->stats.idle_sleeps++;
	/* Sleeping, the loop may take seconds for WORKER_GAUGES_EVERY
	 * iterations; the service step may have changed the shard meanwhile. */
	if (now_ns - w->gauges_ns >= WORKER_IDLE_GAUGES_NS)
		worker_gauges_publish(w, now_ns);
	else
		worker_heartbeat(w, now_ns); /* a sleeping worker is alive too */
	nanosleep(&ts, NULL);
}

int worker_main(void *arg)
{
	struct worker *w = arg;

	/* A 1 ns timer slack keeps the idle sleep short (default slack is 50 us). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	worker_gauges_publish(w, we_monotonic_ns());
	w->exec.token_epoch = addr_token_epoch(we_monotonic_ns());
	/* Its log and default durability are known now (durability.c). */
	worker_shard_modes(w);
	for (;;) {
		uint32_t ctl = __atomic_load_n(&worker_control, __ATOMIC_ACQUIRE);
		unsigned n_rx, n_ring;

		if (unlikely(ctl != 0)) {
			if (ctl & WORKER_CTL_STOP)
				break;
			worker_park(w);
			continue;
		}

		if (unlikely(++w->iterations % WORKER_GAUGES_EVERY == 0)) {
			uint64_t now_ns = we_monotonic_ns();

			worker_gauges_publish(w, now_ns);
			access_sample_publish(&w->access, now_ns);
			w->exec.token_epoch = addr_token_epoch(now_ns);
		}
		uint64_t t0 = rte_rdtsc();

		n_rx = rte_eth_rx_burst(w->port_id, w->queue_id, w->frames, WORKER_BURST);
		if (n_rx != 0) {
			w->stats.rx_bursts++;
			worker_process_burst(w, w->frames, n_rx, false);
		}
		n_ring = rte_ring_dequeue_burst(w->inbound, (void **)w->frames, WORKER_BURST,
						NULL);
		if (n_ring != 0) {
			w->stats.fwd_in += n_ring;
			worker_process_burst(w, w->frames, n_ring, true);
		}
		worker_service(w, n_rx != 0 || n_ring != 0);
		worker_tx_flush(w);
		if (n_rx == 0 && n_ring == 0) {
			worker_idle(w);
		} else {
			uint64_t cycles = rte_rdtsc() - t0;

			w->empty_polls = 0;
			/* Time of the iterations that did work: with the request
			 * counts it gives the worker's cost per request, and its
			 * share of the run the headroom left at this load; the
			 * histogram shows its spread (its sum is busy_cycles). */
			w->stats.busy_cycles += cycles;
			if (likely(w->service_histogram))
				w->service_time.counts[hist_log2_bucket(cycles)]++;
		}
	}
	worker_tx_flush(w);
	rte_pktmbuf_free_bulk(w->held, w->n_held); /* stopping: nobody will run them */
	w->n_held = 0;
	worker_gauges_publish(w, we_monotonic_ns());
	return 0;
}
