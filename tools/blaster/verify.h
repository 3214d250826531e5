/* verify.h - checking every GET answer without storing values (no DPDK).
 *
 * Per key, 4 bytes of state (version counter, delete counter, flags); values
 * are derived from (key index, version) by workload.c. The rule, in full in
 * verify.c and docs/blaster.md: a GET answer is valid if it equals a value any
 * write could have left in place between the GET's send and its answer.
 *
 *   verify_write_allowed()  at most one write per key in flight
 *   verify_write_issue()    a PUT/DELETE leaves: returns the PUT's version
 *   verify_write_done()     its outcome: applied, not applied, unknown
 *   verify_read_issue()     a GET leaves: snapshot of the key's state
 *   verify_read_check()     its answer: ok, wrong, or not verifiable
 */
#ifndef BLASTER_VERIFY_H
#define BLASTER_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "we_compiler.h"
#include "workload.h"

/* A GET whose window spans more versions than this is not checked (counted
 * as unverified): it would cost that many value comparisons. */
#define VERIFY_RANGE_MAX 64

enum verify_key_flags {
	VERIFY_ABSENT = 0x01,         /* settled state: no value (deleted, or never written) */
	VERIFY_UNKNOWN = 0x02,        /* settled state not known: no preload, or a write timed out */
	VERIFY_PENDING = 0x04,        /* a write is in flight; it holds `version` */
	VERIFY_PENDING_DELETE = 0x08, /* ... and it is a DELETE */
};

struct verify_key {
	uint16_t version; /* latest version issued (settled one, plus the pending write) */
	uint8_t deletes;  /* DELETEs issued, minus those known not applied (mod 256) */
	uint8_t flags;    /* enum verify_key_flags */
};

struct verify {
	struct verify_key *keys;
	uint64_t n_keys;
};

/* What a GET saw when it left. */
struct verify_snap {
	uint16_t version_lo; /* settled version at send */
	uint8_t deletes_lo;  /* deletes settled at send */
	uint8_t flags;       /* VERIFY_ABSENT / VERIFY_UNKNOWN of the settled state */
};

enum verify_write_outcome {
	VERIFY_APPLIED,     /* acknowledged: the write is the key's state now */
	VERIFY_NOT_APPLIED, /* refused (an error status): the key is as before */
	VERIFY_OUTCOME_UNKNOWN, /* timed out or not durable: it may or may not apply */
};

enum verify_result {
	VERIFY_OK,
	VERIFY_WRONG,
	VERIFY_UNVERIFIED,
};

/* All keys start UNKNOWN, at version 0xffff, so that the first write (the
 * preload's PUT, when there is a preload) is version 0. Returns 0 or -ENOMEM. */
int verify_init(struct verify *v, uint64_t n_keys) we_must_check;
void verify_fini(struct verify *v);

bool verify_write_allowed(const struct verify *v, uint64_t key);
uint16_t verify_write_issue(struct verify *v, uint64_t key, bool is_delete);
void verify_write_done(struct verify *v, uint64_t key, bool is_delete,
		       enum verify_write_outcome outcome);

void verify_read_issue(const struct verify *v, uint64_t key, struct verify_snap *snap);
/* found: the answer carried a value (value/len); otherwise it said "not found". */
enum verify_result verify_read_check(const struct verify *v, const struct workload *w,
				     uint64_t key, const struct verify_snap *snap, bool found,
				     const uint8_t *value, uint32_t len);

#endif
