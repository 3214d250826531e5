/* workload.h - what the blaster asks for: ops, keys, values (no DPDK).
 *
 *   workload_init()          validate a config, seed the generator
 *   workload_next()          draw one request: op from the mix, key index from
 *                            the distribution (uniform or Zipf)
 *   workload_preload_next()  the preload plan: PUT every key once, in order
 *   workload_key()           key bytes of an index ("k" + zero-padded digits)
 *   workload_value()         value bytes of (key index, version), derived, so
 *                            a verifier needs no copy of what it wrote; the
 *                            config's value_kind picks random characters,
 *                            English-like text or JSON records (value_gen.h)
 *   workload_value_matches() compare received bytes with a derived value
 */
#ifndef BLASTER_WORKLOAD_H
#define BLASTER_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "we_compiler.h"
#include "zipf.h"

#define WORKLOAD_KEY_MAX 250          /* the native protocol's and memcached's limit */
#define WORKLOAD_VALUE_MAX (1u << 20) /* a generous bound; codecs impose their own */
#define WORKLOAD_KEYS_MAX (1ull << 40)

/* What values look like (value_gen.h): all are a pure function of (key
 * index, version). */
enum workload_value_kind {
	WORKLOAD_VALUE_RANDOM = 0, /* 64 printable characters, no repeats: LZ4 gains nothing */
	WORKLOAD_VALUE_TEXT,       /* English-like words: LZ4 saves about half */
	WORKLOAD_VALUE_JSON,       /* JSON records of one shape: LZ4 saves about half */
};

enum workload_dist {
	WORKLOAD_DIST_UNIFORM = 0,
	WORKLOAD_DIST_ZIPF,
};

/* Ops use the wire's numbering (enum proto_op) so codecs need no mapping. */
enum workload_op {
	WORKLOAD_OP_GET = 1,
	WORKLOAD_OP_PUT = 2,
	WORKLOAD_OP_DELETE = 3,
};

struct workload_config {
	uint64_t keys;
	uint32_t key_size_min;
	uint32_t key_size_max;
	uint32_t value_size_min;
	uint32_t value_size_max;
	enum workload_value_kind value_kind;
	/* Relative weights of the op mix, any scale, not all zero. */
	double mix_get;
	double mix_put;
	double mix_delete;
	enum workload_dist dist;
	double zipf_theta;
	uint64_t seed;
};

struct workload {
	struct workload_config cfg;
	struct rng rng;
	struct zipf zipf;
	/* A 32-bit draw below get_below is a GET, below put_below a PUT, else a
	 * DELETE (thresholds out of 2^32, 64-bit so 100% fits). */
	uint64_t get_below;
	uint64_t put_below;
};

struct workload_req {
	uint8_t op;     /* enum workload_op */
	uint64_t key;   /* key index in [0, keys) */
};

/* The plan of the preload phase: one PUT of version 0 per key, keys in
 * index order, so a verifier knows every key afterwards. */
struct workload_preload {
	uint64_t next;
	uint64_t end;
};

/* Validate cfg and set up w. On error returns -EINVAL and points *why at a
 * sentence naming the problem. */
int workload_init(struct workload *w, const struct workload_config *cfg,
		  const char **why) we_must_check;

void workload_next(struct workload *w, struct workload_req *req);

void workload_preload_init(const struct workload *w, struct workload_preload *p);
bool workload_preload_next(struct workload_preload *p, struct workload_req *req);

/* Digits needed to write key index keys - 1 (at least 1). */
unsigned workload_key_digits(uint64_t keys);

uint32_t workload_key_len(const struct workload *w, uint64_t index);
/* Writes the key into buf (>= key_size_max bytes); returns its length. */
uint32_t workload_key(const struct workload *w, uint64_t index, uint8_t *buf);

uint32_t workload_value_len(const struct workload *w, uint64_t index, uint16_t version);
/* Writes the value into buf (>= value_size_max bytes); returns its length. */
uint32_t workload_value(const struct workload *w, uint64_t index, uint16_t version,
			uint8_t *buf);
bool workload_value_matches(const struct workload *w, uint64_t index, uint16_t version,
			    const uint8_t *value, uint32_t len);

#endif
