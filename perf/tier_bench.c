/* tier_bench.c - what the compressed tiers save and cost, on one shard and
 * one core (no DPDK): memory and demotion speed to LZ4 and LZ4-HC, and the
 * GET rate of items in each tier.
 *
 * DESIGN
 * For each value kind (the blaster's random, text and json values, made by
 * its workload.c and value_gen.c, so the bytes are those a blaster run
 * sends) the benchmark builds a fresh shard and:
 *   insert    N items raw (16-byte keys "k000..", version-0 values of
 *             --value-size bytes); arena bytes in use;
 *   get raw   --gets GETs on uniform random keys, timed;
 *   lz4       every item cooled (the shard's clock set far ahead) and
 *             demoted by shard_demote_step with a policy that sends every
 *             raw item to LZ4 and none on, and an unlimited budget: the time
 *             of the whole scan gives MB/s of value bytes in; arena bytes in
 *             use after it, the saving, and the ratio value bytes / stored
 *             bytes (shard_read_tiers, over all items);
 *   get lz4   as get raw (a GET decompresses into the shard's scratch);
 *   hc        the LZ4 items demoted again to LZ4-HC (the step decompresses
 *             the LZ4 copy and compresses it with LZ4-HC), likewise;
 *   get hc    as get raw.
 * Values that do not compress (the random kind: 64 printable characters,
 * no repeats) stay raw: then a tier holds no item and its figures are n/a.
 *
 * The GETs must read the tier they measure: reads are not tracked (a GET
 * warms nothing) and the promotion level is 255 (no GET brings an item back
 * raw); the tier counters are compared before and after every phase and any
 * promotion or item that changed tier aborts the run. Every GET checks the
 * value's length, one in TB_CHECK_EVERY its bytes against the regenerated
 * value (that comparison is left out of the time); a miss or a wrong value
 * aborts. A timed GET is: the key from a precomputed array, shard_hash,
 * shard_get. Build with -Dverify=false for figures: verify builds re-hash
 * every key inside the shard.
 *
 * usage: tier_bench [--items N] [--value-size B] [--kinds random,text,json]
 *                   [--gets N] [--seed N] [--dict] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "arena.h"
#include "keyhash.h"
#include "rng.h"
#include "shard.h"
#include "tier_codec.h"
#include "we_time.h"
#include "workload.h"

#define TB_KEY_BYTES 16
#define TB_CHECK_EVERY 1024 /* GETs per byte-for-byte check of a value */
#define TB_KINDS 3

static const char *const tb_kind_names[TB_KINDS] = {"random", "text", "json"};
static const char *const tb_tier_names[3] = {"raw", "lz4", "hc"};

struct tb_options {
	uint64_t items;
	uint32_t value_size;
	bool kinds[TB_KINDS];
	uint64_t gets; /* timed GETs per tier */
	uint64_t seed;
	bool dict; /* the shard compresses against a tier dictionary */
	bool json;
};

/* One tier's GET measurement; ns < 0 when the tier held no item. */
struct tb_get {
	double ns;        /* per GET */
	double in_tier;   /* share of the GETs that hit an item of this tier */
};

/* One demotion pass; mb_s < 0 when it had nothing to compress. */
struct tb_demote {
	double mb_s;            /* value bytes in per second, 1e6 bytes */
	uint64_t arena_used;    /* arena bytes in use after it */
	uint64_t items_in_tier; /* items in the pass's target tier after it */
	double ratio;           /* value bytes / stored bytes, all items */
};

struct tb_result {
	int kind;
	uint64_t arena_raw; /* arena bytes in use, all items raw */
	struct tb_demote lz4, hc;
	struct tb_get get[3]; /* by enum item_tier */
	uint64_t left_raw;    /* items that did not compress enough for LZ4 */
};

/* The run's state: the shard (its memory reused by each kind), the value
 * generator, the keys. */
struct tb {
	struct shard *s;
	void *mem;
	size_t mem_bytes;
	struct shard_config cfg;
	struct keyhash_secret secret;
	struct workload w;
	uint8_t *keys; /* items x TB_KEY_BYTES */
	uint8_t *value;
	struct rng rng;
	uint64_t sink;
	struct tier_dict *dict; /* --dict: a fresh one per kind */
};

static volatile uint64_t tb_sink; /* keeps the compiler from dropping the GETs' reads */

__attribute__((format(printf, 1, 2), noreturn)) static void tb_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tier_bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EX_SOFTWARE);
}

/* Memory touched once here, so page faults do not land in the timed parts. */
static void *tb_alloc(size_t bytes)
{
	void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);

	if (p == NULL)
		tb_die("out of memory");
	memset(p, 0, bytes);
	return p;
}

static double tb_ratio(const struct shard_tier_counters *t)
{
	uint64_t v = 0, st = 0;

	for (int i = 0; i < 4; i++) {
		v += t->value_bytes[i];
		st += t->stored_bytes[i];
	}
	return st != 0 ? (double)v / (double)st : 0;
}

static uint64_t tb_arena_used(const struct shard *s)
{
	struct shard_counters c;

	shard_read_counters(s, &c);
	return c.arena_used_bytes;
}

/* The shard of one kind, filled with every item raw. */
static void tb_fill(struct tb *b, const struct tb_options *o, int kind)
{
	struct workload_config wc = {
		.keys = o->items, .key_size_min = TB_KEY_BYTES, .key_size_max = TB_KEY_BYTES,
		.value_size_min = o->value_size, .value_size_max = o->value_size,
		.value_kind = (enum workload_value_kind)kind, .mix_get = 1, .seed = o->seed,
	};
	const char *why = NULL;

	if (workload_init(&b->w, &wc, &why) != 0)
		tb_die("workload: %s", why);
	if (shard_init(b->s, b->mem, b->mem_bytes, &b->cfg) != 0)
		tb_die("cannot build the shard");
	if (o->dict) {
		tier_dict_destroy(b->dict);
		b->dict = tier_dict_create();
		if (b->dict == NULL)
			tb_die("no memory for a tier dictionary");
		shard_set_dict(b->s, b->dict);
	}
	/* GETs neither warm items nor bring them back raw (see DESIGN). */
	shard_set_track_reads(b->s, false);
	shard_set_promote_level(b->s, 255);
	for (uint64_t i = 0; i < o->items; i++) {
		uint8_t *key = b->keys + i * TB_KEY_BYTES;
		uint32_t len;
		enum we_status st;

		if (workload_key(&b->w, i, key) != TB_KEY_BYTES)
			tb_die("a key is not 16 bytes");
		len = workload_value(&b->w, i, 0, b->value);
		st = shard_put(b->s, shard_hash(b->s, key, TB_KEY_BYTES), key, TB_KEY_BYTES, b->value,
			       len);
		if (st != WE_STATUS_OK)
			tb_die("insert failed: %s", we_status_name(st));
	}
}

/* Demote with policy p until the scan has visited every chain; returns the
 * seconds it took. */
static double tb_demote_all(struct shard *s, uint8_t warm_below, uint8_t cold_below)
{
	struct shard_demote_policy p = {.warm_below = warm_below, .cold_below = cold_below,
					.evict_below = 0, .max_chains = shard_scan_buckets(s),
					.max_input_bytes = UINT32_MAX};
	struct shard_scan cur = {0};
	uint64_t t0 = we_monotonic_ns();

	while (!shard_scan_done(s, &cur))
		if (shard_demote_step(s, &cur, &p) < 0)
			tb_die("shard_demote_step refused the policy");
	return (double)(we_monotonic_ns() - t0) * 1e-9;
}

/* No promotion ever, and every item where `want` says (NULL: unchecked). */
static void tb_check_tiers(const struct shard *s, const struct shard_tier_counters *want,
			   const char *phase)
{
	struct shard_tier_counters t;

	shard_read_tiers(s, &t);
	if (t.promotions != 0)
		tb_die("a GET promoted an item (%s): the tier measured changed", phase);
	if (want != NULL && memcmp(t.items, want->items, sizeof(t.items)) != 0)
		tb_die("items changed tier during %s", phase);
}

/* --gets GETs on uniform random keys; every value's length checked, a
 * sample of them byte for byte (outside the time). */
static struct tb_get tb_get_timed(struct tb *b, const struct tb_options *o, int tier,
				  const char *phase)
{
	struct shard_tier_counters before, after;
	struct tb_get g = {.ns = -1, .in_tier = 0};
	uint64_t check_ns = 0, t0;

	shard_read_tiers(b->s, &before);
	if (before.items[tier] == 0)
		return g; /* nothing compressed into this tier */
	t0 = we_monotonic_ns();
	for (uint64_t n = 0; n < o->gets; n++) {
		uint64_t i = rng_below(&b->rng, o->items);
		const uint8_t *key = b->keys + i * TB_KEY_BYTES, *v;
		uint32_t len;
		enum we_status st = shard_get(b->s, shard_hash(b->s, key, TB_KEY_BYTES), key,
					      TB_KEY_BYTES, &v, &len);

		if (st != WE_STATUS_OK || len != o->value_size)
			tb_die("a GET missed or returned a wrong length (%s)", phase);
		b->sink += v[len - 1];
		if (n % TB_CHECK_EVERY == 0) {
			uint64_t c0 = we_monotonic_ns();

			if (!workload_value_matches(&b->w, i, 0, v, len))
				tb_die("a GET returned a WRONG VALUE (%s)", phase);
			check_ns += we_monotonic_ns() - c0;
		}
	}
	g.ns = (double)(we_monotonic_ns() - t0 - check_ns) / (double)o->gets;
	tb_check_tiers(b->s, &before, phase);
	shard_read_tiers(b->s, &after);
	g.in_tier = (double)(after.hits[tier] - before.hits[tier]) / (double)o->gets;
	return g;
}

/* One demotion pass into `tier`, with its figures. */
static struct tb_demote tb_demote_pass(struct tb *b, int tier, const char *phase)
{
	struct shard_tier_counters before, after;
	struct tb_demote d = {.mb_s = -1};
	int from = tier == TIER_PHOTON_SPHERE ? TIER_EVENT_HORIZON : TIER_PHOTON_SPHERE;
	uint64_t in;
	double secs;

	shard_read_tiers(b->s, &before);
	in = before.value_bytes[from];
	/* LZ4: every raw item (warm_below 255), none further (cold_below 0).
	 * HC: every LZ4 item, and raw ones are not tried again. */
	secs = tier == TIER_PHOTON_SPHERE ? tb_demote_all(b->s, 255, 0) : tb_demote_all(b->s, 0, 255);
	tb_check_tiers(b->s, NULL, phase);
	shard_read_tiers(b->s, &after);
	if (after.items[0] + after.items[1] + after.items[2] != before.items[0] + before.items[1] +
								    before.items[2])
		tb_die("items were lost during %s", phase);
	if (in != 0 && secs > 0)
		d.mb_s = (double)in / secs / 1e6;
	d.arena_used = tb_arena_used(b->s);
	d.items_in_tier = after.items[tier];
	d.ratio = tb_ratio(&after);
	return d;
}

static void tb_run_kind(struct tb *b, const struct tb_options *o, int kind, struct tb_result *r)
{
	struct shard_tier_counters t;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	tb_fill(b, o, kind);
	shard_read_tiers(b->s, &t);
	if (t.items[TIER_EVENT_HORIZON] != o->items)
		tb_die("not every item was inserted raw");
	r->arena_raw = tb_arena_used(b->s);
	r->get[TIER_EVENT_HORIZON] = tb_get_timed(b, o, TIER_EVENT_HORIZON, "GETs raw");

	/* Cool every item to level 0: TEMP_LEVEL_NEW ticks suffice, 100 is
	 * plenty and below the 255 a tick difference wraps at. */
	shard_set_tick(b->s, shard_tick(b->s) + 100);
	r->lz4 = tb_demote_pass(b, TIER_PHOTON_SPHERE, "demotion to LZ4");
	shard_read_tiers(b->s, &t);
	r->left_raw = t.items[TIER_EVENT_HORIZON];
	r->get[TIER_PHOTON_SPHERE] = tb_get_timed(b, o, TIER_PHOTON_SPHERE, "GETs LZ4");

	r->hc = tb_demote_pass(b, TIER_DEEP_CACHE, "demotion to LZ4-HC");
	r->get[TIER_DEEP_CACHE] = tb_get_timed(b, o, TIER_DEEP_CACHE, "GETs LZ4-HC");
	if (!shard_check_invariants(b->s))
		tb_die("the shard is inconsistent after the run");
}

/* ---- output ---- */

static json_t *tb_num(double x)
{
	return x < 0 ? json_null() : json_real(x);
}

static void tb_print_json(const struct tb_options *o, const struct tb_result *r, int n)
{
	json_t *kinds = json_array(), *root;

	for (int i = 0; i < n; i++) {
		json_t *k = json_object();

		json_object_set_new(k, "kind", json_string(tb_kind_names[r[i].kind]));
		json_object_set_new(k, "arena_raw_bytes", json_integer((json_int_t)r[i].arena_raw));
		json_object_set_new(k, "arena_lz4_bytes", json_integer((json_int_t)r[i].lz4.arena_used));
		json_object_set_new(k, "arena_hc_bytes", json_integer((json_int_t)r[i].hc.arena_used));
		json_object_set_new(k, "saved_lz4_bytes",
				    json_integer((json_int_t)r[i].arena_raw - (json_int_t)r[i].lz4.arena_used));
		json_object_set_new(k, "saved_hc_bytes",
				    json_integer((json_int_t)r[i].arena_raw - (json_int_t)r[i].hc.arena_used));
		json_object_set_new(k, "ratio_lz4", json_real(r[i].lz4.ratio));
		json_object_set_new(k, "ratio_hc", json_real(r[i].hc.ratio));
		json_object_set_new(k, "items_lz4", json_integer((json_int_t)r[i].lz4.items_in_tier));
		json_object_set_new(k, "items_hc", json_integer((json_int_t)r[i].hc.items_in_tier));
		json_object_set_new(k, "items_left_raw", json_integer((json_int_t)r[i].left_raw));
		json_object_set_new(k, "demote_lz4_mb_s", tb_num(r[i].lz4.mb_s));
		json_object_set_new(k, "demote_hc_mb_s", tb_num(r[i].hc.mb_s));
		for (int t = 0; t < 3; t++) {
			char name[32];

			snprintf(name, sizeof(name), "get_ns_%s", tb_tier_names[t]);
			json_object_set_new(k, name, tb_num(r[i].get[t].ns));
			snprintf(name, sizeof(name), "get_mops_%s", tb_tier_names[t]);
			json_object_set_new(k, name, tb_num(r[i].get[t].ns > 0 ? 1e3 / r[i].get[t].ns : -1));
			snprintf(name, sizeof(name), "get_in_tier_%s", tb_tier_names[t]);
			json_object_set_new(k, name, tb_num(r[i].get[t].ns < 0 ? -1 : r[i].get[t].in_tier));
		}
		json_array_append_new(kinds, k);
	}
	root = json_pack("{ss sI sI sI sI so}", "benchmark", "tier_bench", "items",
			 (json_int_t)o->items, "key_bytes", (json_int_t)TB_KEY_BYTES, "value_size",
			 (json_int_t)o->value_size, "gets_per_tier", (json_int_t)o->gets, "kinds", kinds);
	json_object_set_new(root, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(root, "dict", json_boolean(o->dict));
	json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
}

static void tb_fmt(char *buf, size_t n, const char *fmt, double x)
{
	if (x < 0)
		snprintf(buf, n, "n/a");
	else
		snprintf(buf, n, fmt, x);
}

static void tb_print_table(const struct tb_options *o, const struct tb_result *r, int n)
{
	printf("tier_bench: %" PRIu64 " items, %d-byte keys, %u-byte values, %" PRIu64
	       " GETs per tier (uniform)%s\n\n",
	       o->items, TB_KEY_BYTES, o->value_size, o->gets,
	       o->dict ? ", against a tier dictionary" : "");
	printf("%-7s %-5s %12s %12s %7s %11s %9s %9s %9s\n", "kind", "tier", "items", "arena MiB",
	       "ratio", "saved MiB", "demote", "GET ns", "M GET/s");
	for (int i = 0; i < n; i++) {
		const struct tb_demote *d[3] = {NULL, &r[i].lz4, &r[i].hc};

		for (int t = 0; t < 3; t++) {
			uint64_t used = t == 0 ? r[i].arena_raw : d[t]->arena_used;
			uint64_t items = t == 0 ? o->items : d[t]->items_in_tier;
			char mbs[16], ns[16], mops[16];
			double g = r[i].get[t].ns;

			tb_fmt(mbs, sizeof(mbs), "%.0f MB/s", t == 0 ? -1 : d[t]->mb_s);
			tb_fmt(ns, sizeof(ns), "%.0f", g);
			tb_fmt(mops, sizeof(mops), "%.2f", g > 0 ? 1e3 / g : -1);
			printf("%-7s %-5s %12" PRIu64 " %12.1f %7.2f %11.1f %9s %9s %9s\n",
			       tb_kind_names[r[i].kind], tb_tier_names[t], items,
			       (double)used / 1048576.0, t == 0 ? 1.0 : d[t]->ratio,
			       ((double)r[i].arena_raw - (double)used) / 1048576.0,
			       t == 0 ? "-" : mbs, ns, mops);
		}
		for (int t = 1; t < 3; t++)
			if (r[i].get[t].ns >= 0 && r[i].get[t].in_tier < 1)
				printf("%-7s       only %.0f %% of the %s GETs found an item in that tier\n",
				       tb_kind_names[r[i].kind], r[i].get[t].in_tier * 100, tb_tier_names[t]);
		if (r[i].left_raw != 0)
			printf("%-7s       %" PRIu64 " items did not compress enough and stayed raw\n",
			       tb_kind_names[r[i].kind], r[i].left_raw);
	}
	printf("\nratio: value bytes / stored bytes over all items after the pass; saved: arena\n"
	       "bytes in use against all raw; demote: value bytes in per second (LZ4-HC pass:\n"
	       "LZ4 decompression + LZ4-HC compression); GET ns: key hash + shard_get (with\n"
	       "the decompression), no promotion.\n");
}

/* ---- options ---- */

static void tb_usage(FILE *out)
{
	fprintf(out,
		"usage: tier_bench [--items N] [--value-size B] [--kinds LIST] [--gets N]\n"
		"                  [--seed N] [--dict] [--json]\n"
		"  --items       items in the shard (default 100000)\n"
		"  --value-size  value bytes, 1..%u (default 1024)\n"
		"  --kinds       value kinds, comma separated: random,text,json (default all)\n"
		"  --gets        timed GETs per tier (default 2000000)\n"
		"  --seed        seed of the random key sequence (default 1)\n"
		"  --dict        compress against a tier dictionary (sampled by the LZ4 pass from\n"
		"                the first values that compress alone, as the data plane does)\n"
		"  --json        print the results as JSON instead of a table\n",
		SHARD_TIER_VALUE_MAX);
}

static bool tb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool tb_parse_kinds(char *list, struct tb_options *o)
{
	bool any = false;

	memset(o->kinds, 0, sizeof(o->kinds));
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		int k;

		for (k = 0; k < TB_KINDS && strcmp(tok, tb_kind_names[k]) != 0; k++)
			;
		if (k == TB_KINDS)
			return false;
		o->kinds[k] = any = true;
	}
	return any;
}

static int tb_parse_args(int argc, char **argv, struct tb_options *o)
{
	static const struct option longopts[] = {
		{"items", required_argument, NULL, 'i'},
		{"value-size", required_argument, NULL, 'v'},
		{"kinds", required_argument, NULL, 'k'},
		{"gets", required_argument, NULL, 'g'},
		{"seed", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"dict", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int li = 0, c;

	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		switch (c) {
		case 'i':
			/* Keys are 'k' and 15 digits. */
			if (!tb_parse_u64(optarg, 1, UINT64_C(1000000000000000), &o->items))
				goto bad;
			break;
		case 'v':
			if (!tb_parse_u64(optarg, 1, SHARD_TIER_VALUE_MAX, &v))
				goto bad;
			o->value_size = (uint32_t)v;
			break;
		case 'k':
			if (!tb_parse_kinds(optarg, o))
				goto bad;
			break;
		case 'g':
			if (!tb_parse_u64(optarg, 1, UINT64_C(1) << 40, &o->gets))
				goto bad;
			break;
		case 's':
			if (!tb_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				goto bad;
			break;
		case 'j':
			o->json = true;
			break;
		case 'd':
			o->dict = true;
			break;
		case 'h':
			tb_usage(stdout);
			exit(EX_OK);
		default:
			tb_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tier_bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "tier_bench: invalid value '%s' for --%s (see --help)\n", optarg,
		longopts[li].name);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct tb_options o = {.items = 100000, .value_size = 1024, .kinds = {true, true, true},
			       .gets = 2000000, .seed = 1};
	struct tb_result results[TB_KINDS];
	struct tb b = {0};
	int n = 0;

	if (tb_parse_args(argc, argv, &o) != 0)
		return EX_USAGE;
#ifdef WE_VERIFY_ENABLED
	fprintf(stderr, "tier_bench: built with WE_VERIFY checks; configure -Dverify=false "
			"for figures\n");
#endif
	if (keyhash_secret_init(&b.secret) != 0)
		tb_die("no random secret");
	/* Room for every item raw and, while a pass runs, its compressed copy
	 * beside it (a copy saves at least an eighth), with headers and rounding. */
	b.cfg = (struct shard_config){.capacity_items = o.items + 1024,
				      .arena_bytes = (o.items + 1024) * (uint64_t)(o.value_size + 96) * 2 +
						     (16u << 20),
				      .hash_secret = &b.secret};
	b.mem_bytes = shard_memory_size(&b.cfg);
	if (b.mem_bytes == 0)
		tb_die("cannot build a shard that large");
	b.s = tb_alloc(shard_sizeof());
	b.mem = tb_alloc(b.mem_bytes);
	b.keys = tb_alloc(o.items * TB_KEY_BYTES);
	b.value = tb_alloc(o.value_size);
	rng_seed(&b.rng, o.seed, 7);
	for (int k = 0; k < TB_KINDS; k++)
		if (o.kinds[k])
			tb_run_kind(&b, &o, k, &results[n++]);
	if (o.json)
		tb_print_json(&o, results, n);
	else
		tb_print_table(&o, results, n);
	tb_sink = b.sink;
	tier_dict_destroy(b.dict);
	return EX_OK;
}
