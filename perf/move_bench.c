/* move_bench.c - how fast one region moves between two workers: the
 * workers' and the supervisor's code of a live move (region_move.c,
 * move_driver.c) over real shards and log rings, without EAL, one thread
 * playing all three in turn as the data plane's loops would.
 *
 * Set-up (not timed): the old owner's shard holds --region-items items of
 * one region and --other-items items of other regions (the scan walks them
 * all); values of --value-size bytes. Timed: from queueing the move to the
 * driver's completion: the owner's scan and copy into chunks, the new
 * owner's puts and log records (the log is drained as fast as it fills, so
 * the log writer's disk is not in the figure), the map flip, the old
 * owner's purge. Reported: the time, items per second, and the longest
 * single step of each worker: the most a request waits behind a move step
 * (each step is bounded, see region_move.h).
 *
 * usage: move_bench [--region-items N] [--other-items N] [--value-size B] [--no-log] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist_log2.h"
#include "keyhash.h"
#include "move_driver.h"
#include "region_move.h"
#include "shard.h"
#include "wal_ring.h"
#include "we_time.h"

#define RING_BYTES (64u << 20)
#define REGION 7u
#define GET_BURST 32

struct side {
	struct shard *s;
	struct ctl_ring ctl;
	struct ctl_cell cells[256];
	struct wal_ring *log;
	uint64_t lsn;
	struct durable_view durable;
	struct worker_stats stats;
	struct move_worker mw;
	uint64_t longest_step_ns;
	struct hist_log2 steps; /* ns of each step that had move work */
};

static struct keyhash_secret secret;
static struct side sides[2];
static struct ctl_ring *rings[2];
static struct region_map map;
static struct move_driver drv;
static uint64_t *other_keys; /* names (indices) of the items outside the region */
static uint64_t n_other_keys;

static void die(const char *what)
{
	fprintf(stderr, "move_bench: %s\n", what);
	exit(1);
}

/* Memory touched once here, as the data plane's is before it serves, so
 * page faults do not land in the timed steps. */
static void *alloc64(size_t bytes)
{
	void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);

	if (p == NULL)
		die("out of memory");
	memset(p, 0, bytes);
	return p;
}

static void side_init(struct side *sd, uint64_t capacity, uint64_t arena, bool with_log)
{
	struct shard_config cfg = {.capacity_items = capacity, .arena_bytes = arena,
				   .hash_secret = &secret};
	size_t bytes = shard_memory_size(&cfg);

	sd->s = alloc64(shard_sizeof());
	if (bytes == 0 || shard_init(sd->s, alloc64(bytes), bytes, &cfg) != 0)
		die("cannot build a shard that large");
	if (ctl_ring_init(&sd->ctl, sd->cells, 256) != 0)
		die("control ring");
	if (with_log) {
		sd->log = alloc64(sizeof(*sd->log));
		if (wal_ring_init(sd->log, alloc64(RING_BYTES), RING_BYTES) != 0)
			die("log ring");
	}
	move_worker_init(&sd->mw);
}

/* Not inlined: GCC takes the inlined hash of a short key buffer for an
 * out-of-bounds read (-Warray-bounds false positive). */
__attribute__((noinline)) static uint32_t region_of(const char *key, size_t len)
{
	return keyhash_region(keyhash(key, len));
}

/* Fill the owner's shard: `region_items` keys of REGION (found by trying
 * names: 1 in 4096 lands there) and `other_items` of other regions. */
static void fill(struct side *sd, uint64_t region_items, uint64_t other_items,
		 uint32_t value_size)
{
	static uint8_t value[PROTO_VALUE_MAX];
	uint64_t in = 0, out = 0;
	char key[32];

	memset(value, 'v', sizeof(value));
	for (uint64_t i = 0; in < region_items || out < other_items; i++) {
		uint8_t len = (uint8_t)snprintf(key, sizeof(key), "mb:%014" PRIu64, i);
		bool here = region_of(key, len) == REGION;

		if (here ? in >= region_items : out >= other_items)
			continue;
		if (shard_put(sd->s, shard_hash(sd->s, (const uint8_t *)key, len),
			      (const uint8_t *)key, len, value, value_size) != WE_STATUS_OK)
			die("the shard is full (capacity)");
		if (!here)
			other_keys[n_other_keys++] = i;
		in += here;
		out += !here;
	}
}

/* A burst of GETs on the old owner's other keys, as its loop serves them
 * between service steps. */
static uint64_t get_rng = 42;
static void get_burst(void)
{
	char key[32];

	for (int k = 0; k < GET_BURST; k++) {
		uint64_t x = (get_rng = get_rng * 6364136223846793005ull + 1442695040888963407ull);
		uint64_t i = other_keys[(x >> 33) % n_other_keys];
		uint8_t len = (uint8_t)snprintf(key, sizeof(key), "mb:%014" PRIu64, i);
		const uint8_t *v;
		uint32_t vl;

		if (shard_get(sides[0].s, shard_hash(sides[0].s, (const uint8_t *)key, len),
			      (const uint8_t *)key, len, &v, &vl) != WE_STATUS_OK)
			die("a GET missed during the move");
	}
}

static void turn(int i)
{
	struct side *sd = &sides[i];
	struct move_env env = {.shard = sd->s, .map = &map, .rings = rings, .self = (uint16_t)i,
			       .log = sd->log, .lsn = &sd->lsn, .durable = &sd->durable,
			       .stats = &sd->stats};
	struct ctl_msg m[16];
	uint64_t t0 = we_monotonic_ns(), dt;
	unsigned n = ctl_ring_take(&sd->ctl, m, 16);
	bool worked = n != 0 || move_worker_active(&sd->mw);

	for (unsigned k = 0; k < n; k++)
		(void)move_on_message(&sd->mw, &env, &m[k]);
	if (move_worker_active(&sd->mw))
		move_step(&sd->mw, &env);
	dt = we_monotonic_ns() - t0;
	if (dt > sd->longest_step_ns)
		sd->longest_step_ns = dt;
	if (worked)
		hist_log2_record(&sd->steps, dt);
	if (sd->log != NULL) { /* the log writer, instantly */
		struct wal_ring_span sp;

		while (wal_ring_span(sd->log, RING_BYTES, &sp) != 0 || sp.release != 0)
			wal_ring_release(sd->log, sp.release);
		sd->durable.lsn = sd->lsn;
	}
}

int main(int argc, char **argv)
{
	uint64_t region_items = 100000, other_items = 0, id;
	uint32_t value_size = 32;
	bool with_log = true, json = false;
	static const struct option longopts[] = {
		{"region-items", required_argument, NULL, 'r'},
		{"other-items", required_argument, NULL, 'o'},
		{"value-size", required_argument, NULL, 'v'},
		{"no-log", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	char err[160];
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			region_items = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			other_items = strtoull(optarg, NULL, 10);
			break;
		case 'v':
			value_size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			with_log = false;
			break;
		case 'j':
			json = true;
			break;
		default:
			fprintf(stderr, "usage: move_bench [--region-items N] [--other-items N] "
					"[--value-size B] [--no-log] [--json]\n");
			return 2;
		}
	}
	if (region_items == 0 || value_size == 0 || value_size > PROTO_VALUE_MAX)
		die("--region-items >= 1, --value-size 1..PROTO_VALUE_MAX");
	if (keyhash_secret_init(&secret) != 0)
		die("no random secret");

	uint64_t total = region_items + other_items;
	uint64_t arena = (total + 1024) * (uint64_t)(value_size + 96) * 2;

	for (int i = 0; i < 2; i++) {
		side_init(&sides[i], i == 0 ? total + 1024 : region_items + 1024,
			  i == 0 ? arena : arena * region_items / total + (16u << 20), with_log);
		rings[i] = &sides[i].ctl;
	}
	region_map_init_default(&map, 2);
	map.owner[REGION] = 0;
	other_keys = malloc((other_items + 1) * sizeof(*other_keys));
	if (other_keys == NULL)
		die("out of memory");
	fill(&sides[0], region_items, other_items, value_size);
	if (move_driver_init(&drv, &map, NULL, 1, NULL) != 0 ||
	    move_driver_queue(&drv, &map, REGION, 1, &id, err, sizeof(err)) != 0)
		die(err);

	/* With other items: the old owner's loop also serves GET bursts; first
	 * alone (the baseline), then around the move's steps. */
	struct hist_log2 loop_base = {0}, loop_move = {0};
	double get_base = 0, get_move = 0;
	uint64_t gets = 0, loop_move_ns = 0;

	if (n_other_keys != 0) {
		uint64_t b0 = we_monotonic_ns();

		for (int t = 0; t < 20000; t++) {
			uint64_t l0 = we_monotonic_ns();

			get_burst();
			turn(0);
			hist_log2_record(&loop_base, we_monotonic_ns() - l0);
		}
		get_base = 20000.0 * GET_BURST / ((double)(we_monotonic_ns() - b0) * 1e-9);
	}

	uint64_t t0 = we_monotonic_ns(), turns = 0;

	while (drv.q_count != 0 || move_driver_busy(&drv)) {
		uint64_t l0 = we_monotonic_ns();

		if (n_other_keys != 0) {
			get_burst();
			gets += GET_BURST;
		}
		turn(0);
		if (n_other_keys != 0) {
			uint64_t dt = we_monotonic_ns() - l0;

			hist_log2_record(&loop_move, dt);
			loop_move_ns += dt;
		}
		turn(1);
		if (move_driver_step(&drv, &map, rings, we_monotonic_ns(), true) == MOVE_DO_PERSIST)
			move_driver_persisted(&drv, &map, rings, 0, NULL);
		turns++;
	}
	double s = (double)(we_monotonic_ns() - t0) * 1e-9;
	/* GETs per second of the old owner's loop during the move: its share
	 * of the run (the new owner's turns are another core's time). */
	if (gets != 0)
		get_move = (double)gets / ((double)loop_move_ns * 1e-9);
	double p99[2] = {(double)hist_log2_quantile(&sides[0].steps, 0.99),
			 (double)hist_log2_quantile(&sides[1].steps, 0.99)};

	if (drv.completed != 1 || sides[1].stats.move_items_in != region_items ||
	    sides[0].stats.move_items_purged != region_items)
		die("the move did not complete with every item");
	if (json)
		printf("{\"region_items\": %" PRIu64 ", \"other_items\": %" PRIu64
		       ", \"value_size\": %u, \"log\": %s, \"seconds\": %.6f, \"items_per_s\": %.0f, "
		       "\"turns\": %" PRIu64 ", \"step_p99_us\": [%.1f, %.1f], "
		       "\"longest_step_us\": [%.1f, %.1f]}\n",
		       region_items, other_items, value_size, with_log ? "true" : "false", s,
		       (double)region_items / s, turns, p99[0] / 1e3, p99[1] / 1e3,
		       sides[0].longest_step_ns / 1e3, sides[1].longest_step_ns / 1e3);
	else
		printf("move_bench: region of %" PRIu64 " items (%u-byte values) in a shard of %" PRIu64
		       " items, %s: %.1f ms, %.2f M items/s; %" PRIu64
		       " service steps; step p99 (bucket bound) old owner %.1f us, new owner %.1f us;"
		       " longest old %.1f us, new %.1f us\n",
		       region_items, value_size, total, with_log ? "logged" : "not logged", s * 1e3,
		       (double)region_items / s / 1e6, turns, p99[0] / 1e3, p99[1] / 1e3,
		       sides[0].longest_step_ns / 1e3, sides[1].longest_step_ns / 1e3);
	if (n_other_keys != 0)
		printf("%sold owner's loop (a burst of %d GETs + its service step): p99 %.1f us alone, "
		       "%.1f us during the move (bucket bounds); GETs/s during / alone: %.2f%s\n",
		       json ? "{\"note\": \"" : "move_bench: ", GET_BURST,
		       hist_log2_quantile(&loop_base, 0.99) / 1e3,
		       hist_log2_quantile(&loop_move, 0.99) / 1e3, get_move / get_base,
		       json ? "\"}" : "");
	move_driver_free(&drv);
	return 0;
}
