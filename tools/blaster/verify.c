/* verify.c - the verification rule for GET answers.
 *
 * DESIGN: values are derived from (key index, version) (workload.c), so per
 * key we keep only a 16-bit version counter, an 8-bit delete counter and
 * flags: 4 bytes, 40 MB for ten million keys.
 *
 * Writes to one key are serialized: a PUT or DELETE is sent only when no
 * other write to that key is in flight (the blaster turns a write drawn for a
 * busy key into a GET and counts it). So the server can never apply two of
 * our writes to one key in the opposite order, whatever the network does, and
 * each key's history is a simple sequence. Each write takes the next version
 * number when it leaves (a DELETE too, and it also bumps the delete counter);
 * its outcome then settles the key:
 *   applied (OK, or NOT_FOUND for a DELETE)  -> the key holds that version
 *                                               (a value, or absent)
 *   refused (any other status)               -> version and delete counter
 *                                               go back: the key is as before
 *   unknown (timeout, NOT_DURABLE)           -> the key is UNKNOWN until a
 *                                               later write is acknowledged
 *
 * The rule for a GET: it leaves when the key's settled version is lo, and its
 * answer arrives when the latest issued version is hi. The server executed it
 * at some moment in between, when the key held lo or the effect of one of the
 * writes issued after it, all numbered in (lo, hi]. So the answer is valid if
 *   - it carries a value equal to value(key, v) for some v in [lo, hi] that is
 *     a PUT's version (lo counts only if the settled state at send was a
 *     value, not absent); or
 *   - it says "not found", and the key was absent at send or a DELETE was
 *     issued between send and answer (the delete counter moved).
 * A GET sent while the key's state was UNKNOWN is not checked (counted as
 * unverified); neither is one whose window spans VERIFY_RANGE_MAX versions or
 * more. This rule is sound under reordering and loss as long as a timed-out
 * datagram is not delivered after a later write to its key was acknowledged
 * (the timeout is seconds, far above any delay a datagram survives).
 *
 * The counters wrap (mod 2^16 and 2^8); the window check keeps a wrapped
 * counter from ever being misread.
 */
#include "verify.h"

#include <errno.h>
#include <stdlib.h>

#include "we_assert.h"

int verify_init(struct verify *v, uint64_t n_keys)
{
	v->keys = malloc(n_keys * sizeof(*v->keys));
	if (v->keys == NULL)
		return -ENOMEM;
	v->n_keys = n_keys;
	for (uint64_t i = 0; i < n_keys; i++) {
		v->keys[i].version = 0xffff;
		v->keys[i].deletes = 0;
		v->keys[i].flags = VERIFY_UNKNOWN | VERIFY_ABSENT;
	}
	return 0;
}

void verify_fini(struct verify *v)
{
	free(v->keys);
	v->keys = NULL;
	v->n_keys = 0;
}

bool verify_write_allowed(const struct verify *v, uint64_t key)
{
	WE_ASSERT(key < v->n_keys);
	return !(v->keys[key].flags & VERIFY_PENDING);
}

uint16_t verify_write_issue(struct verify *v, uint64_t key, bool is_delete)
{
	struct verify_key *k = &v->keys[key];

	WE_ASSERT(key < v->n_keys);
	WE_ASSERT(!(k->flags & VERIFY_PENDING));
	k->version++;
	k->flags |= VERIFY_PENDING;
	if (is_delete) {
		k->deletes++;
		k->flags |= VERIFY_PENDING_DELETE;
	}
	return k->version;
}

void verify_write_done(struct verify *v, uint64_t key, bool is_delete,
		       enum verify_write_outcome outcome)
{
	struct verify_key *k = &v->keys[key];

	WE_ASSERT(key < v->n_keys);
	WE_ASSERT(k->flags & VERIFY_PENDING);
	WE_ASSERT(!!(k->flags & VERIFY_PENDING_DELETE) == is_delete);
	k->flags &= (uint8_t)~(VERIFY_PENDING | VERIFY_PENDING_DELETE);
	switch (outcome) {
	case VERIFY_APPLIED:
		k->flags &= (uint8_t)~(VERIFY_UNKNOWN | VERIFY_ABSENT);
		if (is_delete)
			k->flags |= VERIFY_ABSENT;
		break;
	case VERIFY_NOT_APPLIED:
		k->version--;
		if (is_delete)
			k->deletes--;
		break;
	case VERIFY_OUTCOME_UNKNOWN:
		k->flags |= VERIFY_UNKNOWN;
		break;
	}
}

void verify_read_issue(const struct verify *v, uint64_t key, struct verify_snap *snap)
{
	const struct verify_key *k = &v->keys[key];
	bool pending = k->flags & VERIFY_PENDING;
	bool pending_delete = k->flags & VERIFY_PENDING_DELETE;

	WE_ASSERT(key < v->n_keys);
	snap->version_lo = (uint16_t)(k->version - pending);
	snap->deletes_lo = (uint8_t)(k->deletes - pending_delete);
	snap->flags = k->flags & (VERIFY_ABSENT | VERIFY_UNKNOWN);
}

enum verify_result verify_read_check(const struct verify *v, const struct workload *w,
				     uint64_t key, const struct verify_snap *snap, bool found,
				     const uint8_t *value, uint32_t len)
{
	const struct verify_key *k = &v->keys[key];
	uint16_t span = (uint16_t)(k->version - snap->version_lo);

	WE_ASSERT(key < v->n_keys);
	if ((snap->flags & VERIFY_UNKNOWN) || span >= VERIFY_RANGE_MAX)
		return VERIFY_UNVERIFIED;
	if (!found) {
		if ((snap->flags & VERIFY_ABSENT) || (uint8_t)(k->deletes - snap->deletes_lo) != 0)
			return VERIFY_OK;
		return VERIFY_WRONG;
	}
	/* Newest first: under load the answer is most often the latest write. */
	for (uint16_t i = 0; i <= span; i++) {
		uint16_t version = (uint16_t)(k->version - i);

		if (i == span && (snap->flags & VERIFY_ABSENT))
			break;
		if (workload_value_matches(w, key, version, value, len))
			return VERIFY_OK;
	}
	return VERIFY_WRONG;
}
