/* workload.c - request generation: op mix, key distribution, keys, values.
 *
 * DESIGN: every request is a pair (op, key index). Keys and values are never
 * stored: a key is a pure function of its index and a value a pure function of
 * (key index, version), so a run with ten million keys costs no memory here
 * and a verifier (verify.c) keeps only a small version counter per key.
 *
 * Keys: "k" followed by the index in decimal, zero-padded to the key's length
 * (k0000000000000042 for index 42 at 16 bytes). With a size range, the length
 * of each key is a fixed hash of its index, so a key always has the same name.
 * Keys do not depend on the seed: a preload done by one run serves the next.
 *
 * Values: with the random kind (the default), bytes from a splitmix64 stream
 * seeded by (index, version), mapped to 64 printable characters (safe to show
 * in a log, fine for memcached's ASCII protocol too). The text and json kinds
 * (value_gen.c) draw words and JSON records from a stream with the same seed,
 * so they compress like real data. With a size range the length is also a
 * hash of (index, version). Values do not depend on the seed either.
 *
 * The op mix draws 32 bits and compares them with cumulative thresholds; the
 * key index comes from rng_below() (uniform) or zipf_draw() (Zipf, rank 0 the
 * hottest key). One rng stream per workload: the same seed repeats the run.
 */
#include "workload.h"

#include <errno.h>
#include <string.h>

#include "value_gen.h"

static const char workload_alphabet[64] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";

unsigned workload_key_digits(uint64_t keys)
{
	uint64_t last = keys > 0 ? keys - 1 : 0;
	unsigned digits = 1;

	while (last >= 10) {
		last /= 10;
		digits++;
	}
	return digits;
}

static int workload_check(const struct workload_config *cfg, const char **why)
{
	double total = cfg->mix_get + cfg->mix_put + cfg->mix_delete;

	if (cfg->keys == 0 || cfg->keys > WORKLOAD_KEYS_MAX) {
		*why = "the number of keys must be in 1 .. 2^40";
		return -EINVAL;
	}
	if (cfg->key_size_min > cfg->key_size_max || cfg->key_size_max > WORKLOAD_KEY_MAX) {
		*why = "key size must be a range min <= max <= 250";
		return -EINVAL;
	}
	if (cfg->key_size_min < 1 + workload_key_digits(cfg->keys)) {
		*why = "key size too small: keys are 'k' plus the zero-padded key index";
		return -EINVAL;
	}
	if (cfg->value_size_min > cfg->value_size_max ||
	    cfg->value_size_max > WORKLOAD_VALUE_MAX) {
		*why = "value size must be a range min <= max <= 1 MiB";
		return -EINVAL;
	}
	if (cfg->value_kind > WORKLOAD_VALUE_JSON) {
		*why = "value kind must be random, text or json";
		return -EINVAL;
	}
	if (!(cfg->mix_get >= 0 && cfg->mix_put >= 0 && cfg->mix_delete >= 0) ||
	    !(total > 0)) {
		*why = "the op mix needs non-negative weights, not all zero";
		return -EINVAL;
	}
	return 0;
}

int workload_init(struct workload *w, const struct workload_config *cfg, const char **why)
{
	double total = cfg->mix_get + cfg->mix_put + cfg->mix_delete;
	int rc = workload_check(cfg, why);

	if (rc != 0)
		return rc;
	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	rng_seed(&w->rng, cfg->seed, 1);
	if (cfg->dist == WORKLOAD_DIST_ZIPF && zipf_init(&w->zipf, cfg->keys, cfg->zipf_theta)) {
		*why = "zipf theta must be in 0 .. 3";
		return -EINVAL;
	}
	w->get_below = (uint64_t)(cfg->mix_get / total * 4294967296.0);
	w->put_below = (uint64_t)((cfg->mix_get + cfg->mix_put) / total * 4294967296.0);
	/* Rounding must not leave a sliver for an op of weight zero. */
	if (cfg->mix_put == 0 && cfg->mix_delete == 0)
		w->get_below = w->put_below = 1ull << 32;
	if (cfg->mix_delete == 0)
		w->put_below = 1ull << 32;
	return 0;
}

void workload_next(struct workload *w, struct workload_req *req)
{
	uint64_t r = rng_next(&w->rng) >> 32;

	if (r < w->get_below)
		req->op = WORKLOAD_OP_GET;
	else if (r < w->put_below)
		req->op = WORKLOAD_OP_PUT;
	else
		req->op = WORKLOAD_OP_DELETE;
	if (w->cfg.dist == WORKLOAD_DIST_ZIPF)
		req->key = zipf_draw(&w->zipf, &w->rng);
	else
		req->key = rng_below(&w->rng, w->cfg.keys);
}

void workload_preload_init(const struct workload *w, struct workload_preload *p)
{
	p->next = 0;
	p->end = w->cfg.keys;
}

bool workload_preload_next(struct workload_preload *p, struct workload_req *req)
{
	if (p->next >= p->end)
		return false;
	req->op = WORKLOAD_OP_PUT;
	req->key = p->next++;
	return true;
}

uint32_t workload_key_len(const struct workload *w, uint64_t index)
{
	uint32_t span = w->cfg.key_size_max - w->cfg.key_size_min + 1;

	if (span == 1)
		return w->cfg.key_size_min;
	return w->cfg.key_size_min + (uint32_t)(rng_mix64(index ^ 0x6b6579ull) % span);
}

uint32_t workload_key(const struct workload *w, uint64_t index, uint8_t *buf)
{
	uint32_t len = workload_key_len(w, index);
	uint64_t rest = index;

	buf[0] = 'k';
	for (uint32_t i = len - 1; i >= 1; i--) {
		buf[i] = (uint8_t)('0' + rest % 10);
		rest /= 10;
	}
	return len;
}

static uint64_t workload_value_seed(uint64_t index, uint16_t version)
{
	return rng_mix64(index) ^ ((uint64_t)version * 0xd1b54a32d192ed03ull);
}

uint32_t workload_value_len(const struct workload *w, uint64_t index, uint16_t version)
{
	uint32_t span = w->cfg.value_size_max - w->cfg.value_size_min + 1;

	if (span == 1)
		return w->cfg.value_size_min;
	return w->cfg.value_size_min +
	       (uint32_t)(rng_mix64(workload_value_seed(index, version) ^ 0x6c656eull) % span);
}

/* Eight value bytes from one 64-bit draw: six bits each pick a character. */
static void workload_chars(uint64_t bits, uint8_t out[8])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)workload_alphabet[bits & 63];
		bits >>= 8;
	}
}

/* The random kind: 8 characters per splitmix64 draw. */
static void workload_value_random(uint64_t seed, uint8_t *buf, uint32_t len)
{
	uint64_t state = seed;
	uint8_t chunk[8];

	for (uint32_t off = 0; off < len; off += 8) {
		uint32_t n = len - off < 8 ? len - off : 8;

		workload_chars(rng_splitmix64(&state), chunk);
		memcpy(buf + off, chunk, n);
	}
}

static bool workload_value_random_matches(uint64_t seed, const uint8_t *value, uint32_t len)
{
	uint64_t state = seed;
	uint8_t chunk[8];

	for (uint32_t off = 0; off < len; off += 8) {
		uint32_t n = len - off < 8 ? len - off : 8;

		workload_chars(rng_splitmix64(&state), chunk);
		if (memcmp(value + off, chunk, n) != 0)
			return false;
	}
	return true;
}

/* The text and json kinds: one generator, writing or comparing. */
static void workload_value_generate(const struct workload *w, uint64_t index, uint16_t version,
				    struct value_sink *s)
{
	uint64_t seed = workload_value_seed(index, version);

	if (w->cfg.value_kind == WORKLOAD_VALUE_TEXT)
		value_gen_text(s, seed);
	else
		value_gen_json(s, index, version, seed);
}

uint32_t workload_value(const struct workload *w, uint64_t index, uint16_t version,
			uint8_t *buf)
{
	uint32_t len = workload_value_len(w, index, version);
	struct value_sink s;

	if (w->cfg.value_kind == WORKLOAD_VALUE_RANDOM) {
		workload_value_random(workload_value_seed(index, version), buf, len);
		return len;
	}
	s = value_sink_writer(buf, len);
	workload_value_generate(w, index, version, &s);
	return len;
}

bool workload_value_matches(const struct workload *w, uint64_t index, uint16_t version,
			    const uint8_t *value, uint32_t len)
{
	struct value_sink s;

	if (len != workload_value_len(w, index, version))
		return false;
	if (w->cfg.value_kind == WORKLOAD_VALUE_RANDOM)
		return workload_value_random_matches(workload_value_seed(index, version), value,
						     len);
	s = value_sink_checker(value, len);
	workload_value_generate(w, index, version, &s);
	return !s.differs && s.pos == len;
}
