/* shard_bench.c - single-core throughput and memory of one shard (no DPDK).
 *
 * DESIGN
 * For each key count, the benchmark builds a shard sized for exactly that
 * many items (16-byte keys, 32-byte values by default), inserts them all, then
 * times, on random keys drawn uniformly:
 *   get            one request at a time: hash, look up, read the value
 *   get burst      bursts as the worker runs them: hash all keys, prefetch
 *                  all buckets, prefetch all items, then execute
 *   put overwrite  the same two ways, replacing values of existing keys
 * plus the insert phase itself, and reports memory per item: the index, the
 * arena bytes in use and the descriptor divided by the items, and the part
 * of it beyond key and value bytes (the arena also gets 1 MiB of spare room
 * for overwrites, reported separately as mapped memory).
 *
 * Keys are computed from their index (a bijective mix in the first 8 bytes,
 * the index in the next 8), so no key array competes with the shard for the
 * cache; random indices come from a xorshift generator. The shard's memory is
 * mmap'ed with MADV_HUGEPAGE and faulted in before timing, as production uses
 * resident hugepages. Every GET checks
 * its value length, and a miss aborts the run. Build with -Dverify=false for
 * figures: verify builds re-hash every key inside the shard.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "keyhash.h"
#include "shard.h"
#include "we_time.h"

#define BENCH_KEY_BYTES 16
#define BENCH_BURST_MAX 64
#define BENCH_KEY_COUNTS_MAX 8

struct bench_options {
	uint64_t key_counts[BENCH_KEY_COUNTS_MAX];
	unsigned nkey_counts;
	uint64_t ops;          /* timed operations per measurement */
	unsigned burst;        /* requests per burst in the prefetching runs */
	uint32_t value_bytes;
	uint64_t seed;
	bool json;
};

struct bench_result {
	uint64_t keys;
	double put_insert_mops;
	double get_mops;
	double get_burst_mops;
	double put_overwrite_mops;
	double put_overwrite_burst_mops;
	double bytes_per_item;    /* index + arena in use + descriptor, per item */
	double overhead_per_item; /* bytes_per_item - key - value */
	double mapped_per_item;   /* all memory given to the shard, per item */
	double index_per_item;
	uint64_t overflow_buckets_used;
};

/* What a run needs: the shard, the value to write, and a check sum that
 * keeps the compiler from dropping GETs. */
struct bench {
	struct shard *s;
	uint64_t keys;
	uint32_t value_bytes;
	uint8_t value[256];
	uint64_t rng;
	uint64_t sink;
	struct keyhash_secret secret; /* the bucket/tag hash, random per run */
};

static double bench_now_s(void)
{
	return (double)we_monotonic_ns() * 1e-9;
}

/* Key of index i: unique since bytes 8..15 hold i. */
static void bench_key(uint64_t i, uint8_t *key)
{
	uint64_t mix = (i ^ (i >> 29)) * 0xbf58476d1ce4e5b9ull;
	uint64_t tail = i ^ 0x5a5a5a5a5a5a5a5aull;

	memcpy(key, &mix, 8);
	memcpy(key + 8, &tail, 8);
}

/* Uniform random key index (xorshift64*, then multiply-high into [0, keys)). */
static uint64_t bench_next_index(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return (uint64_t)(((unsigned __int128)(b->rng * 0x2545f4914f6cdd1dull) * b->keys) >> 64);
}

static void bench_fail(const char *what, uint64_t i, enum we_status st)
{
	fprintf(stderr, "shard_bench: %s of key %" PRIu64 " failed: %s\n", what, i,
		we_status_name(st));
	exit(EX_SOFTWARE);
}

static void bench_put(struct bench *b, uint64_t i, const uint8_t *key, uint64_t hash)
{
	enum we_status st;

	memcpy(b->value, &i, sizeof(i));
	st = shard_put(b->s, hash, key, BENCH_KEY_BYTES, b->value, b->value_bytes);
	if (st != WE_STATUS_OK)
		bench_fail("put", i, st);
}

static void bench_get(struct bench *b, uint64_t i, const uint8_t *key, uint64_t hash)
{
	const uint8_t *v;
	uint32_t n;
	enum we_status st = shard_get(b->s, hash, key, BENCH_KEY_BYTES, &v, &n);

	if (st != WE_STATUS_OK || n != b->value_bytes)
		bench_fail("get", i, st);
	b->sink += v[0];
}

static double bench_insert_all(struct bench *b)
{
	uint8_t key[BENCH_KEY_BYTES];
	double t0 = bench_now_s();

	for (uint64_t i = 0; i < b->keys; i++) {
		bench_key(i, key);
		bench_put(b, i, key, keyhash_local(&b->secret, key, sizeof(key)));
	}
	return (double)b->keys / (bench_now_s() - t0) / 1e6;
}

/* One request at a time; put selects PUT (overwrite) instead of GET. */
static double bench_single(struct bench *b, uint64_t ops, bool put)
{
	uint8_t key[BENCH_KEY_BYTES];
	double t0 = bench_now_s();

	for (uint64_t n = 0; n < ops; n++) {
		uint64_t i = bench_next_index(b);

		bench_key(i, key);
		if (put)
			bench_put(b, i, key, keyhash_local(&b->secret, key, sizeof(key)));
		else
			bench_get(b, i, key, keyhash_local(&b->secret, key, sizeof(key)));
	}
	return (double)ops / (bench_now_s() - t0) / 1e6;
}

/* Bursts as the worker runs them: hash all, prefetch buckets, prefetch items,
 * execute. */
static double bench_burst(struct bench *b, uint64_t ops, unsigned burst, bool put)
{
	uint8_t keys[BENCH_BURST_MAX][BENCH_KEY_BYTES];
	uint64_t idx[BENCH_BURST_MAX];
	uint64_t hash[BENCH_BURST_MAX];
	double t0 = bench_now_s();
	uint64_t n;

	for (n = 0; n < ops; n += burst) {
		for (unsigned j = 0; j < burst; j++) {
			idx[j] = bench_next_index(b);
			bench_key(idx[j], keys[j]);
			/* As the worker does: the public hash picks the
			 * owner, the keyed one the bucket. */
			b->sink += keyhash_region(keyhash(keys[j], BENCH_KEY_BYTES));
			hash[j] = keyhash_local(&b->secret, keys[j], BENCH_KEY_BYTES);
		}
		shard_prefetch_burst(b->s, hash, burst);
		for (unsigned j = 0; j < burst; j++) {
			if (put)
				bench_put(b, idx[j], keys[j], hash[j]);
			else
				bench_get(b, idx[j], keys[j], hash[j]);
		}
	}
	return (double)n / (bench_now_s() - t0) / 1e6;
}

static int bench_run(const struct bench_options *o, uint64_t keys, struct bench_result *r)
{
	/* Items exactly, plus room for the new item of an overwrite (1 MiB). */
	uint64_t item_bytes = 16 + BENCH_KEY_BYTES + ((o->value_bytes + 7) & ~7u);
	static struct bench b;
	struct shard_config cfg = {
		.capacity_items = keys,
		.arena_bytes = keys * item_bytes + (1u << 20),
		.hash_secret = &b.secret,
	};
	size_t mem_bytes = shard_memory_size(&cfg);

	b = (struct bench){ .keys = keys, .value_bytes = o->value_bytes, .rng = o->seed | 1 };
	if (keyhash_secret_init(&b.secret) != 0) {
		fprintf(stderr, "shard_bench: no random bytes for the hash secret\n");
		return -EIO;
	}
	struct shard_counters c;
	void *mem;

	if (mem_bytes == 0) {
		fprintf(stderr, "shard_bench: cannot size a shard for %" PRIu64 " keys\n", keys);
		return -EINVAL;
	}
	mem = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b.s = aligned_alloc(64, (shard_sizeof() + 63) & ~(size_t)63);
	if (mem == MAP_FAILED || b.s == NULL) {
		fprintf(stderr, "shard_bench: no memory for %zu bytes\n", mem_bytes);
		return -ENOMEM;
	}
	madvise(mem, mem_bytes, MADV_HUGEPAGE); /* a hint; without THP it runs on 4 KiB pages */
	/* Fault every page in before timing: DPDK's hugepage memory is resident
	 * too, and page clearing would otherwise dominate the insert phase. */
	memset(mem, 0, mem_bytes);
	if (shard_init(b.s, mem, mem_bytes, &cfg) != 0) {
		fprintf(stderr, "shard_bench: shard_init failed\n");
		return -EINVAL;
	}
	memset(b.value, 'v', sizeof(b.value));

	memset(r, 0, sizeof(*r));
	r->keys = keys;
	r->put_insert_mops = bench_insert_all(&b);
	r->get_mops = bench_single(&b, o->ops, false);
	r->get_burst_mops = bench_burst(&b, o->ops, o->burst, false);
	r->put_overwrite_mops = bench_single(&b, o->ops, true);
	r->put_overwrite_burst_mops = bench_burst(&b, o->ops, o->burst, true);

	shard_read_counters(b.s, &c);
	if (c.items != keys || !shard_check_invariants(b.s)) {
		fprintf(stderr, "shard_bench: shard inconsistent after the run\n");
		return -EIO;
	}
	r->bytes_per_item =
		(double)(c.index_bytes + c.arena_used_bytes + shard_sizeof()) / (double)keys;
	r->mapped_per_item = (double)(mem_bytes + shard_sizeof()) / (double)keys;
	r->overhead_per_item = r->bytes_per_item - BENCH_KEY_BYTES - o->value_bytes;
	r->index_per_item = (double)c.index_bytes / (double)keys;
	r->overflow_buckets_used = c.overflow_buckets_used;
	if (b.sink == 42)
		fputc(' ', stderr); /* keeps the value reads alive */
	munmap(mem, mem_bytes);
	free(b.s);
	return 0;
}

static void bench_print_table(const struct bench_options *o, const struct bench_result *r,
			      unsigned n)
{
	static const char *const names[] = {
		"put (insert)", "get", "get, burst + prefetch", "put (overwrite)",
		"put (overwrite), burst + prefetch",
	};

	printf("shard_bench: %u-byte keys, %u-byte values, %" PRIu64 " ops per row, burst %u\n",
	       BENCH_KEY_BYTES, o->value_bytes, o->ops, o->burst);
	printf("%-12s %-36s %10s %8s\n", "keys", "operation", "Mops/s", "ns/op");
	for (unsigned i = 0; i < n; i++) {
		const double mops[] = { r[i].put_insert_mops, r[i].get_mops, r[i].get_burst_mops,
					r[i].put_overwrite_mops, r[i].put_overwrite_burst_mops };

		for (unsigned k = 0; k < WE_ARRAY_SIZE(mops); k++)
			printf("%-12" PRIu64 " %-36s %10.2f %8.1f\n", r[i].keys, names[k], mops[k],
			       1e3 / mops[k]);
	}
	printf("\n%-12s %12s %18s %12s %14s %15s\n", "keys", "bytes/item", "beyond key+value",
	       "index/item", "mapped/item", "overflow used");
	for (unsigned i = 0; i < n; i++)
		printf("%-12" PRIu64 " %12.1f %18.1f %12.1f %14.1f %15" PRIu64 "\n", r[i].keys,
		       r[i].bytes_per_item, r[i].overhead_per_item, r[i].index_per_item,
		       r[i].mapped_per_item, r[i].overflow_buckets_used);
	printf("(bytes/item: index + arena in use + descriptor; mapped/item adds the "
	       "benchmark's 1 MiB of spare arena)\n");
}

static void bench_print_json(const struct bench_options *o, const struct bench_result *r,
			     unsigned n)
{
#ifdef WE_VERIFY_ENABLED
	const bool verify = true;
#else
	const bool verify = false;
#endif
	json_t *runs = json_array();
	json_t *root;

	for (unsigned i = 0; i < n; i++) {
		json_t *run = json_pack("{sI sf sf sf sf sf}", "keys", (json_int_t)r[i].keys,
					"put_insert_mops", r[i].put_insert_mops, "get_mops",
					r[i].get_mops, "get_burst_mops", r[i].get_burst_mops,
					"put_overwrite_mops", r[i].put_overwrite_mops,
					"put_overwrite_burst_mops", r[i].put_overwrite_burst_mops);

		json_object_set_new(run, "bytes_per_item", json_real(r[i].bytes_per_item));
		json_object_set_new(run, "overhead_bytes_per_item",
				    json_real(r[i].overhead_per_item));
		json_object_set_new(run, "index_bytes_per_item", json_real(r[i].index_per_item));
		json_object_set_new(run, "mapped_bytes_per_item", json_real(r[i].mapped_per_item));
		json_object_set_new(run, "overflow_buckets_used",
				    json_integer((json_int_t)r[i].overflow_buckets_used));
		json_array_append_new(runs, run);
	}
	root = json_pack("{ss sI sI sI sI sb so}", "benchmark", "shard_bench", "key_bytes",
			 (json_int_t)BENCH_KEY_BYTES, "value_bytes", (json_int_t)o->value_bytes,
			 "ops_per_measurement", (json_int_t)o->ops, "burst", (json_int_t)o->burst,
			 "verify_build", verify, "runs", runs);
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(root);
}

static void bench_usage(FILE *out)
{
	fprintf(out,
		"usage: shard_bench [--keys N[,N...]] [--ops N] [--burst N] [--value-bytes N]\n"
		"                   [--seed N] [--json]\n"
		"  --keys         key counts to run, comma separated (default 1000000,10000000)\n"
		"  --ops          timed operations per measurement (default 10000000)\n"
		"  --burst        requests per prefetching burst, 1..%d (default 32)\n"
		"  --value-bytes  value size, 8..256 (default 32)\n"
		"  --seed         random seed of the key sequence (default 1)\n"
		"  --json         print the results as JSON instead of a table\n",
		BENCH_BURST_MAX);
}

static bool bench_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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

static bool bench_parse_keys(char *list, struct bench_options *o)
{
	o->nkey_counts = 0;
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (o->nkey_counts == BENCH_KEY_COUNTS_MAX ||
		    !bench_parse_u64(tok, 1, UINT64_C(1) << 32, &o->key_counts[o->nkey_counts]))
			return false;
		o->nkey_counts++;
	}
	return o->nkey_counts > 0;
}

static int bench_parse_args(int argc, char **argv, struct bench_options *o)
{
	static const struct option longopts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "ops", required_argument, NULL, 'o' },
		{ "burst", required_argument, NULL, 'b' },
		{ "value-bytes", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int li = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		switch (c) {
		case 'k':
			if (!bench_parse_keys(optarg, o))
				goto bad;
			break;
		case 'o':
			if (!bench_parse_u64(optarg, 1, UINT64_C(1) << 40, &o->ops))
				goto bad;
			break;
		case 'b':
			if (!bench_parse_u64(optarg, 1, BENCH_BURST_MAX, &v))
				goto bad;
			o->burst = (unsigned)v;
			break;
		case 'v':
			if (!bench_parse_u64(optarg, 8, 256, &v))
				goto bad;
			o->value_bytes = (uint32_t)v;
			break;
		case 's':
			if (!bench_parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				goto bad;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			bench_usage(stdout);
			exit(EX_OK);
		default:
			bench_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "shard_bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "shard_bench: invalid value '%s' for --%s (see --help)\n", optarg,
		longopts[li].name);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct bench_options o = {
		.key_counts = { 1000000, 10000000 }, .nkey_counts = 2, .ops = 10000000,
		.burst = 32, .value_bytes = 32, .seed = 1,
	};
	struct bench_result results[BENCH_KEY_COUNTS_MAX];

	if (bench_parse_args(argc, argv, &o) != 0)
		return EX_USAGE;
#ifdef WE_VERIFY_ENABLED
	fprintf(stderr, "shard_bench: built with WE_VERIFY checks; configure -Dverify=false "
			"for figures\n");
#endif
	for (unsigned i = 0; i < o.nkey_counts; i++)
		if (bench_run(&o, o.key_counts[i], &results[i]) != 0)
			return EX_SOFTWARE;
	if (o.json)
		bench_print_json(&o, results, o.nkey_counts);
	else
		bench_print_table(&o, results, o.nkey_counts);
	return EX_OK;
}
