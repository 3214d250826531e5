/* client_acklog.c - acknowledgement log lines, self-naming values, and the
 * check rule over a log read back.
 *
 * DESIGN: reading keeps per key only what the rule needs: the last
 * acknowledged write and the writes issued after it. An acknowledgement
 * drops every write of its key issued up to it, so memory follows the keys
 * and the unacknowledged writes (a few per crash), not the length of the
 * log, and a log of millions of writes reads in one pass. Writes are
 * ordered by issue number (the rank of their I line); a key's writes are
 * never in flight together (writes guarantees it), so that is also the
 * order the server applied them in.
 *
 * A value found is identified by the id it starts with and verified byte
 * for byte against what that id wrote under that key. Because the bytes
 * depend on the key, a verified id was issued for this key; if it is
 * neither the last acknowledged write nor a later one, it is an older one
 * (or, with no acknowledgement at all, every write of the key is still
 * listed, so it was never issued here).
 */
#include "client_acklog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client_kv.h"
#include "client_text.h"
#include "proto.h"
#include "we_assert.h"
#include "we_status.h"

struct ak_write {
	uint64_t index; /* issue number, from 1 */
	uint64_t seq;
	uint32_t run;   /* index into runs[] */
	uint8_t op;     /* PROTO_OP_PUT or PROTO_OP_DELETE */
};

struct ak_key {
	uint64_t off; /* key bytes in keybuf */
	uint8_t len;
	bool has_ack;
	struct ak_write ack;
	struct ak_write *later;
	uint32_t n_later, cap_later;
};

struct ak_run {
	uint64_t nonce;
	uint64_t seq_max;
	uint32_t vmin, vmax;
};

struct acklog {
	struct acklog_counts counts;
	struct ak_run *runs;
	uint32_t n_runs, cap_runs;
	uint32_t run_last; /* the run the previous line named */
	struct ak_key *keys;
	uint32_t n_keys, cap_keys;
	uint8_t *keybuf;
	uint64_t keybuf_len, keybuf_cap;
	uint32_t *slots; /* key index + 1, 0: empty; open addressing */
	uint32_t slot_mask;
};

/* ---- values ------------------------------------------------------------ */

size_t acklog_id_format(struct acklog_id id, char *out)
{
	return (size_t)snprintf(out, ACKLOG_ID_TEXT_MAX, "%016" PRIx64 ".%" PRIu64, id.run, id.seq);
}

/* The seed of a value's bytes: the id, mixed. */
static uint64_t id_seed(struct acklog_id id)
{
	return id.run ^ (id.seq * 0x9e3779b97f4a7c15ull);
}

uint32_t acklog_value_len(const uint8_t *key, uint32_t key_len, struct acklog_id id,
			  uint32_t vmin, uint32_t vmax)
{
	char text[ACKLOG_ID_TEXT_MAX];
	/* At least 8 derived bytes, so that even the shortest value depends on
	 * its key. */
	uint32_t least = (uint32_t)acklog_id_format(id, text) + 1 + ACKLOG_VALUE_KEYED_MIN;
	uint32_t len = client_kv_value_len(key, key_len, id_seed(id), vmin, vmax);

	return len < least ? least : len;
}

uint32_t acklog_value(const uint8_t *key, uint32_t key_len, struct acklog_id id, uint32_t vmin,
		      uint32_t vmax, uint8_t *out)
{
	char text[ACKLOG_ID_TEXT_MAX];
	uint32_t prefix = (uint32_t)acklog_id_format(id, text);
	uint32_t len = acklog_value_len(key, key_len, id, vmin, vmax);

	memcpy(out, text, prefix);
	out[prefix++] = '/';
	client_kv_value(key, key_len, id_seed(id), out + prefix, len - prefix);
	return len;
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse "<16 hex>.<decimal>" at p (at most n bytes); returns the bytes
 * used, or 0 if there is no id there. */
static size_t id_parse(const uint8_t *p, size_t n, struct acklog_id *id)
{
	size_t i = 0;
	uint64_t seq = 0;

	if (n < 18)
		return 0;
	id->run = 0;
	for (; i < 16; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return 0;
		id->run = id->run << 4 | (uint64_t)d;
	}
	if (p[i++] != '.')
		return 0;
	if (i >= n || p[i] < '0' || p[i] > '9')
		return 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (seq > (UINT64_MAX - 9) / 10)
			return 0;
		seq = seq * 10 + (uint64_t)(p[i] - '0');
	}
	id->seq = seq;
	return i;
}

int acklog_value_id(const uint8_t *value, uint32_t len, struct acklog_id *id)
{
	size_t used = id_parse(value, len, id);

	if (used == 0 || used >= len || value[used] != '/')
		return -EINVAL;
	return 0;
}

bool acklog_value_check(const uint8_t *key, uint32_t key_len, struct acklog_id id, uint32_t vmin,
			uint32_t vmax, const uint8_t *value, uint32_t len)
{
	uint8_t expect[CLIENT_KV_MAX];

	if (len > sizeof(expect) || len != acklog_value_len(key, key_len, id, vmin, vmax))
		return false;
	acklog_value(key, key_len, id, vmin, vmax, expect);
	return memcmp(expect, value, len) == 0;
}

/* ---- lines --------------------------------------------------------------- */

static char op_letter(uint8_t op)
{
	return op == PROTO_OP_DELETE ? 'D' : 'P';
}

size_t acklog_format_run(char *out, uint64_t time_us, uint64_t run, const char *durability,
			 uint32_t vmin, uint32_t vmax)
{
	return (size_t)snprintf(out, ACKLOG_LINE_MAX, "R %" PRIu64 " %016" PRIx64 " %s %u %u\n",
				time_us, run, durability, vmin, vmax);
}

size_t acklog_format_issue(char *out, uint64_t time_us, struct acklog_id id, uint8_t op,
			   const uint8_t *key, uint32_t key_len)
{
	char text[ACKLOG_ID_TEXT_MAX];
	size_t n;

	WE_ASSERT(key_len <= PROTO_KEY_MAX);
	acklog_id_format(id, text);
	n = (size_t)snprintf(out, ACKLOG_LINE_MAX, "I %" PRIu64 " %s %c ", time_us, text,
			     op_letter(op));
	n += client_escape(key, key_len, out + n);
	out[n++] = '\n';
	out[n] = 0;
	return n;
}

size_t acklog_format_ack(char *out, uint64_t time_us, struct acklog_id id, uint8_t op,
			 unsigned status, const uint8_t *key, uint32_t key_len)
{
	char text[ACKLOG_ID_TEXT_MAX];
	size_t n;

	WE_ASSERT(key_len <= PROTO_KEY_MAX);
	acklog_id_format(id, text);
	n = (size_t)snprintf(out, ACKLOG_LINE_MAX, "A %" PRIu64 " %s %c %s ", time_us, text,
			     op_letter(op), we_status_name(status));
	n += client_escape(key, key_len, out + n);
	out[n++] = '\n';
	out[n] = 0;
	return n;
}

/* ---- the model --------------------------------------------------------- */

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return true;
	while (c < need)
		c *= 2;
	q = realloc(*p, (size_t)c * elem);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

static uint64_t key_hash(const uint8_t *key, uint32_t len)
{
	/* client_kv's generator hashes with XXH3; any stable hash works. */
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static const uint8_t *key_bytes(const struct acklog *l, const struct ak_key *k)
{
	return l->keybuf + k->off;
}

int64_t acklog_key_find(const struct acklog *l, const uint8_t *key, uint32_t key_len)
{
	if (!l->slots)
		return -1;
	for (uint32_t s = (uint32_t)key_hash(key, key_len) & l->slot_mask;; s = (s + 1) & l->slot_mask) {
		const struct ak_key *k;

		if (l->slots[s] == 0)
			return -1;
		k = &l->keys[l->slots[s] - 1];
		if (k->len == key_len && memcmp(key_bytes(l, k), key, key_len) == 0)
			return l->slots[s] - 1;
	}
}

static bool slots_rebuild(struct acklog *l, uint32_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return false;
	free(l->slots);
	l->slots = slots;
	l->slot_mask = n_slots - 1;
	for (uint32_t i = 0; i < l->n_keys; i++) {
		const struct ak_key *k = &l->keys[i];
		uint32_t s = (uint32_t)key_hash(key_bytes(l, k), k->len) & l->slot_mask;

		while (l->slots[s])
			s = (s + 1) & l->slot_mask;
		l->slots[s] = i + 1;
	}
	return true;
}

/* The index of key, added if new; -1 when out of memory. */
static int64_t key_get(struct acklog *l, const uint8_t *key, uint32_t key_len)
{
	int64_t i = acklog_key_find(l, key, key_len);
	struct ak_key *k;

	if (i >= 0)
		return i;
	if (l->n_keys == UINT32_MAX / 4)
		return -1;
	if (!grow((void **)&l->keys, &l->cap_keys, l->n_keys + 1, sizeof(*l->keys)))
		return -1;
	while (l->keybuf_len + key_len > l->keybuf_cap) {
		uint64_t cap = l->keybuf_cap ? l->keybuf_cap * 2 : 4096;
		uint8_t *b = realloc(l->keybuf, cap);

		if (!b)
			return -1;
		l->keybuf = b;
		l->keybuf_cap = cap;
	}
	k = &l->keys[l->n_keys];
	memset(k, 0, sizeof(*k));
	k->off = l->keybuf_len;
	k->len = (uint8_t)key_len;
	memcpy(l->keybuf + l->keybuf_len, key, key_len);
	l->keybuf_len += key_len;
	l->n_keys++;
	/* Keep the table at most half full. */
	if (!l->slots || (uint64_t)l->n_keys * 2 > (uint64_t)l->slot_mask + 1) {
		if (!slots_rebuild(l, l->slots ? (l->slot_mask + 1) * 2 : 1024))
			return -1;
	} else {
		uint32_t s = (uint32_t)key_hash(key, key_len) & l->slot_mask;

		while (l->slots[s])
			s = (s + 1) & l->slot_mask;
		l->slots[s] = l->n_keys;
	}
	return l->n_keys - 1;
}

static int64_t run_find(struct acklog *l, uint64_t nonce)
{
	if (l->run_last < l->n_runs && l->runs[l->run_last].nonce == nonce)
		return l->run_last;
	for (uint32_t i = l->n_runs; i-- > 0;) {
		if (l->runs[i].nonce == nonce) {
			l->run_last = i;
			return i;
		}
	}
	return -1;
}

static int64_t run_find_const(const struct acklog *l, uint64_t nonce)
{
	for (uint32_t i = l->n_runs; i-- > 0;)
		if (l->runs[i].nonce == nonce)
			return i;
	return -1;
}

/* ---- parsing -------------------------------------------------------------- */

struct cursor {
	const char *p, *end;
};

/* The next space-separated word; false if none. */
static bool word(struct cursor *c, const char **w, size_t *n)
{
	const char *s = c->p;

	if (s >= c->end)
		return false;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*w = s;
	*n = (size_t)(c->p - s);
	if (c->p < c->end)
		c->p++; /* the space */
	return *n > 0;
}

static bool word_u64(struct cursor *c, uint64_t *v)
{
	const char *w;
	size_t n;
	uint64_t x = 0;

	if (!word(c, &w, &n) || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(w[i] - '0');
	}
	*v = x;
	return true;
}

static bool word_id(struct cursor *c, struct acklog_id *id)
{
	const char *w;
	size_t n;

	return word(c, &w, &n) && id_parse((const uint8_t *)w, n, id) == n;
}

static bool word_op(struct cursor *c, uint8_t *op)
{
	const char *w;
	size_t n;

	if (!word(c, &w, &n) || n != 1 || (w[0] != 'P' && w[0] != 'D'))
		return false;
	*op = w[0] == 'P' ? PROTO_OP_PUT : PROTO_OP_DELETE;
	return true;
}

static bool rest_key(struct cursor *c, uint8_t *key, size_t *key_len)
{
	if (c->p >= c->end)
		return false;
	if (client_unescape(c->p, (size_t)(c->end - c->p), key, PROTO_KEY_MAX, key_len) != 0)
		return false;
	return *key_len > 0;
}

#define BAD(...)                                                                               \
	do {                                                                                   \
		snprintf(err, err_len, __VA_ARGS__);                                           \
		return -EINVAL;                                                                \
	} while (0)

static int line_run(struct acklog *l, struct cursor *c, uint64_t line, char *err, size_t err_len)
{
	uint64_t time_us, vmin, vmax, nonce = 0;
	const char *w;
	size_t n;
	struct ak_run *r;

	if (!word_u64(c, &time_us) || !word(c, &w, &n) || n != 16)
		BAD("line %" PRIu64 ": expected 'R <time_us> <run: 16 hex digits> ...'", line);
	for (size_t i = 0; i < 16; i++) {
		int d = hex_digit((uint8_t)w[i]);

		if (d < 0)
			BAD("line %" PRIu64 ": run '%.16s' is not 16 lowercase hex digits", line, w);
		nonce = nonce << 4 | (uint64_t)d;
	}
	if (!word(c, &w, &n) || !word_u64(c, &vmin) || !word_u64(c, &vmax) || vmin > vmax ||
	    vmax > CLIENT_KV_MAX || c->p != c->end)
		BAD("line %" PRIu64 ": expected 'R <time_us> <run> <durability> <vmin> <vmax>'",
		    line);
	if (run_find(l, nonce) >= 0)
		BAD("line %" PRIu64 ": run %016" PRIx64 " begins a second time", line, nonce);
	if (!grow((void **)&l->runs, &l->cap_runs, l->n_runs + 1, sizeof(*l->runs)))
		return -ENOMEM;
	r = &l->runs[l->n_runs];
	r->nonce = nonce;
	r->seq_max = 0;
	r->vmin = (uint32_t)vmin;
	r->vmax = (uint32_t)vmax;
	l->run_last = l->n_runs++;
	l->counts.runs++;
	return 0;
}

static int line_write(struct acklog *l, struct cursor *c, bool ack, uint64_t line, char *err,
		      size_t err_len)
{
	uint8_t key[PROTO_KEY_MAX];
	size_t key_len;
	uint64_t time_us;
	struct acklog_id id;
	uint8_t op;
	int64_t run, ki;
	struct ak_key *k;
	const char *w;
	size_t n;

	if (!word_u64(c, &time_us) || !word_id(c, &id) || !word_op(c, &op))
		BAD("line %" PRIu64 ": expected '%c <time_us> <run>.<seq> <P|D> %s<key>'", line,
		    ack ? 'A' : 'I', ack ? "<status> " : "");
	if (ack && (!word(c, &w, &n) ||
		    !((n == 2 && memcmp(w, "OK", 2) == 0) ||
		      (n == 9 && memcmp(w, "NOT_FOUND", 9) == 0 && op == PROTO_OP_DELETE))))
		BAD("line %" PRIu64 ": an acknowledgement's status is OK (or NOT_FOUND for D)",
		    line);
	if (!rest_key(c, key, &key_len))
		BAD("line %" PRIu64 ": the key is missing, longer than %u bytes or badly escaped",
		    line, PROTO_KEY_MAX);
	run = run_find(l, id.run);
	if (run < 0)
		BAD("line %" PRIu64 ": run %016" PRIx64 " has no R line before it", line, id.run);
	ki = key_get(l, key, (uint32_t)key_len);
	if (ki < 0)
		return -ENOMEM;
	k = &l->keys[ki];
	if (!ack) {
		struct ak_write *wr;

		if (id.seq <= l->runs[run].seq_max)
			BAD("line %" PRIu64 ": write %016" PRIx64 ".%" PRIu64
			    " is not after its run's previous one",
			    line, id.run, id.seq);
		l->runs[run].seq_max = id.seq;
		if (!grow((void **)&k->later, &k->cap_later, k->n_later + 1, sizeof(*k->later)))
			return -ENOMEM;
		wr = &k->later[k->n_later++];
		wr->index = ++l->counts.issued;
		wr->seq = id.seq;
		wr->run = (uint32_t)run;
		wr->op = op;
		return 0;
	}
	for (uint32_t i = 0; i < k->n_later; i++) {
		const struct ak_write *wr = &k->later[i];

		if (wr->run != (uint32_t)run || wr->seq != id.seq)
			continue;
		if (wr->op != op)
			BAD("line %" PRIu64 ": acknowledges write %016" PRIx64 ".%" PRIu64
			    " as another op than issued",
			    line, id.run, id.seq);
		/* It and every earlier write of the key are settled. */
		k->ack = *wr;
		k->has_ack = true;
		memmove(k->later, k->later + i + 1, (k->n_later - i - 1) * sizeof(*k->later));
		k->n_later -= i + 1;
		l->counts.acked++;
		return 0;
	}
	BAD("line %" PRIu64 ": acknowledges write %016" PRIx64 ".%" PRIu64
	    " that was not issued for this key (or is acknowledged twice)",
	    line, id.run, id.seq);
}

static int line_parse(struct acklog *l, const char *s, size_t n, uint64_t line, char *err,
		      size_t err_len)
{
	struct cursor c = { s + 2, s + n };

	if (n == 0 || s[0] == '#')
		return 0;
	if (n < 2 || s[1] != ' ')
		BAD("line %" PRIu64 ": not an R, I or A line", line);
	switch (s[0]) {
	case 'R':
		return line_run(l, &c, line, err, err_len);
	case 'I':
		return line_write(l, &c, false, line, err, err_len);
	case 'A':
		return line_write(l, &c, true, line, err, err_len);
	default:
		BAD("line %" PRIu64 ": not an R, I or A line", line);
	}
}

int acklog_load(struct acklog **out, FILE *f, char *err, size_t err_len)
{
	struct acklog *l = calloc(1, sizeof(*l));
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got;
	int rc = 0;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	while ((got = getline(&buf, &cap, f)) > 0) {
		if (buf[got - 1] != '\n')
			break; /* the writer stopped mid-line: not a line */
		l->counts.lines++;
		rc = line_parse(l, buf, (size_t)got - 1, l->counts.lines, err, err_len);
		if (rc)
			break;
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, err_len, "read error after line %" PRIu64, l->counts.lines);
		rc = -EIO;
	}
	if (rc == -ENOMEM)
		snprintf(err, err_len, "out of memory at line %" PRIu64, l->counts.lines);
	free(buf);
	if (rc) {
		acklog_free(l);
		return rc;
	}
	l->counts.keys = l->n_keys;
	for (uint32_t i = 0; i < l->n_keys; i++)
		l->counts.unacked += l->keys[i].n_later;
	*out = l;
	return 0;
}

void acklog_free(struct acklog *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->n_keys; i++)
		free(l->keys[i].later);
	free(l->keys);
	free(l->keybuf);
	free(l->slots);
	free(l->runs);
	free(l);
}

const struct acklog_counts *acklog_counts(const struct acklog *l)
{
	return &l->counts;
}

const uint8_t *acklog_key(const struct acklog *l, uint32_t i, uint8_t *key_len)
{
	WE_ASSERT(i < l->n_keys);
	*key_len = l->keys[i].len;
	return key_bytes(l, &l->keys[i]);
}

/* ---- the rule ---------------------------------------------------------- */

static const char *const verdict_names[ACKLOG_VERDICTS] = {
	[ACKLOG_KEPT] = "kept",
	[ACKLOG_LOST] = "lost",
	[ACKLOG_OLDER] = "older",
	[ACKLOG_RESURRECTED] = "resurrected",
	[ACKLOG_NEVER_ISSUED] = "never_issued",
	[ACKLOG_GARBLED] = "garbled",
};

const char *acklog_verdict_name(enum acklog_verdict v)
{
	return (unsigned)v < ACKLOG_VERDICTS ? verdict_names[v] : "?";
}

static void write_text(const struct acklog *l, const struct ak_write *w, char *out)
{
	struct acklog_id id = { l->runs[w->run].nonce, w->seq };
	char text[ACKLOG_ID_TEXT_MAX];

	acklog_id_format(id, text);
	snprintf(out, ACKLOG_ID_TEXT_MAX + 8, "%s %s", w->op == PROTO_OP_PUT ? "PUT" : "DELETE",
		 text);
}

enum acklog_verdict acklog_judge(const struct acklog *l, uint32_t i, bool found,
				 const uint8_t *value, uint32_t len, char *detail,
				 size_t detail_len)
{
	const struct ak_key *k;
	char acked[ACKLOG_ID_TEXT_MAX + 8] = "none";
	char text[ACKLOG_ID_TEXT_MAX];
	struct acklog_id id;
	int64_t run;

	WE_ASSERT(i < l->n_keys);
	k = &l->keys[i];
	if (k->has_ack)
		write_text(l, &k->ack, acked);
	detail[0] = 0;
	if (!found) {
		if (!k->has_ack || k->ack.op == PROTO_OP_DELETE)
			return ACKLOG_KEPT;
		for (uint32_t j = 0; j < k->n_later; j++)
			if (k->later[j].op == PROTO_OP_DELETE)
				return ACKLOG_KEPT;
		snprintf(detail, detail_len, "absent; last acknowledged %s, no delete issued after it",
			 acked);
		return ACKLOG_LOST;
	}
	if (acklog_value_id(value, len, &id) != 0) {
		snprintf(detail, detail_len, "holds %u bytes that name no write; last acknowledged %s",
			 len, acked);
		return ACKLOG_GARBLED;
	}
	acklog_id_format(id, text);
	run = run_find_const(l, id.run);
	if (run < 0 || id.seq == 0 || id.seq > l->runs[run].seq_max) {
		snprintf(detail, detail_len, "holds %s, which no run of the log issued", text);
		return ACKLOG_NEVER_ISSUED;
	}
	if (!acklog_value_check(key_bytes(l, k), k->len, id, l->runs[run].vmin, l->runs[run].vmax,
				value, len)) {
		snprintf(detail, detail_len, "holds %u bytes naming %s that are not its value", len,
			 text);
		return ACKLOG_GARBLED;
	}
	if (k->has_ack && k->ack.op == PROTO_OP_PUT && k->ack.run == (uint32_t)run &&
	    k->ack.seq == id.seq)
		return ACKLOG_KEPT;
	for (uint32_t j = 0; j < k->n_later; j++) {
		const struct ak_write *w = &k->later[j];

		if (w->op == PROTO_OP_PUT && w->run == (uint32_t)run && w->seq == id.seq)
			return ACKLOG_KEPT;
	}
	if (!k->has_ack) {
		snprintf(detail, detail_len, "holds %s, which no write of this key issued", text);
		return ACKLOG_NEVER_ISSUED;
	}
	snprintf(detail, detail_len, "holds %s, issued before the last acknowledged %s", text,
		 acked);
	return k->ack.op == PROTO_OP_PUT ? ACKLOG_OLDER : ACKLOG_RESURRECTED;
}
