/* client_acklog.h - the acknowledgement log of `writes` and the rule `check`
 * applies to it (pure: no sockets; reading takes a FILE *).
 *
 * The log is text, one line per event, appended by one writes run at a time
 * (docs/client.md, "writes and check", is the reference):
 *
 *   # comment                                       ignored, as are empty lines
 *   R <time_us> <run> <durability> <vmin> <vmax>    a writes run begins
 *   I <time_us> <run>.<seq> <P|D> <key>             a write issued (before it is sent)
 *   A <time_us> <run>.<seq> <P|D> <status> <key>    a write acknowledged (OK, or
 *                                                   NOT_FOUND for a delete)
 *
 * run is 16 lowercase hex digits drawn at random per writes run, seq counts
 * that run's writes from 1; time_us is the wall clock in microseconds; key
 * is escaped as client_escape() does and runs to the end of the line. A
 * final line without its newline is ignored (a writer killed mid-line).
 *
 * A PUT's value begins with its id, "<run>.<seq>/", and goes on with bytes
 * derived from key and id (client_kv.h's generator seeded with the id), so a
 * value read back names the write that stored it and any garbling shows.
 *
 * The rule, per key, in issue order (the log's order of I lines; a key's
 * writes are never in flight together, so the server applies them in that
 * order): let A be the key's last acknowledged write and L the writes of
 * the key issued after A (unacknowledged: lost with a crash, or not).
 *   - value v found: v must be A (a PUT) or a PUT in L;
 *   - key absent: A must be none or a DELETE, or L must hold a DELETE.
 * Anything else is a violation, named by enum acklog_verdict.
 */
#ifndef CLIENT_ACKLOG_H
#define CLIENT_ACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "we_compiler.h"

/* "<16 hex>.<up to 20 digits>" and a NUL. */
#define ACKLOG_ID_TEXT_MAX 38
/* A value starts with the id and '/', then at least this many derived bytes. */
#define ACKLOG_VALUE_KEYED_MIN 8
/* The longest value shorter sizes are raised to. */
#define ACKLOG_VALUE_LEAST_MAX (ACKLOG_ID_TEXT_MAX + ACKLOG_VALUE_KEYED_MIN)
/* Longest line the writer formats, NUL included. */
#define ACKLOG_LINE_MAX (4 * 250 + 128)

struct acklog_id {
	uint64_t run;
	uint64_t seq;
};

/* ---- values ------------------------------------------------------------ */

/* Text of an id, "<run>.<seq>"; returns its length. out: ACKLOG_ID_TEXT_MAX. */
size_t acklog_id_format(struct acklog_id id, char *out);

/* Length of the value a PUT of id stores under key, for a run whose sizes
 * are vmin..vmax: derived from key and id, never shorter than "<id>/" and 8
 * bytes (so a value always depends on its key). */
uint32_t acklog_value_len(const uint8_t *key, uint32_t key_len, struct acklog_id id,
			  uint32_t vmin, uint32_t vmax);

/* Write that value into out (acklog_value_len bytes); returns the length. */
uint32_t acklog_value(const uint8_t *key, uint32_t key_len, struct acklog_id id, uint32_t vmin,
		      uint32_t vmax, uint8_t *out);

/* The id a value names. Returns 0, or -EINVAL if it does not start with one. */
int acklog_value_id(const uint8_t *value, uint32_t len, struct acklog_id *id) we_must_check;

/* True if value is exactly what a PUT of id stores under key. */
bool acklog_value_check(const uint8_t *key, uint32_t key_len, struct acklog_id id, uint32_t vmin,
			uint32_t vmax, const uint8_t *value, uint32_t len);

/* ---- lines the writer appends (each with its '\n'; out: ACKLOG_LINE_MAX) -- */

size_t acklog_format_run(char *out, uint64_t time_us, uint64_t run, const char *durability,
			 uint32_t vmin, uint32_t vmax);
/* op: PROTO_OP_PUT or PROTO_OP_DELETE. */
size_t acklog_format_issue(char *out, uint64_t time_us, struct acklog_id id, uint8_t op,
			   const uint8_t *key, uint32_t key_len);
/* status: WE_STATUS_OK, or WE_STATUS_NOT_FOUND for a DELETE. */
size_t acklog_format_ack(char *out, uint64_t time_us, struct acklog_id id, uint8_t op,
			 unsigned status, const uint8_t *key, uint32_t key_len);

/* ---- reading and judging -------------------------------------------------- */

struct acklog;

struct acklog_counts {
	uint64_t lines;
	uint64_t runs;
	uint64_t issued;
	uint64_t acked;     /* A lines */
	uint64_t keys;      /* distinct keys issued */
	uint64_t unacked;   /* writes issued after their key's last acknowledgement */
};

/* Read a whole log. Returns 0; -EINVAL for a malformed line (err names the
 * line number and what is wrong); -ENOMEM; -EIO on a read error. */
int acklog_load(struct acklog **out, FILE *f, char *err, size_t err_len) we_must_check;
void acklog_free(struct acklog *l);

const struct acklog_counts *acklog_counts(const struct acklog *l);

/* Key i (0 .. counts.keys - 1, in order of first issue). */
const uint8_t *acklog_key(const struct acklog *l, uint32_t i, uint8_t *key_len);

/* Index of a key, or -1 when the log never issued it. */
int64_t acklog_key_find(const struct acklog *l, const uint8_t *key, uint32_t key_len);

enum acklog_verdict {
	ACKLOG_KEPT = 0,        /* the rule holds */
	ACKLOG_LOST,            /* last acknowledged a PUT, the key is absent */
	ACKLOG_OLDER,           /* holds a value issued before the last acknowledged PUT */
	ACKLOG_RESURRECTED,     /* last acknowledged a DELETE, holds an older value */
	ACKLOG_NEVER_ISSUED,    /* holds a value no write of this key issued */
	ACKLOG_GARBLED,         /* holds bytes that are no write's value */
	ACKLOG_VERDICTS
};

/* Short name of a verdict: "kept", "lost", "older", "resurrected",
 * "never_issued", "garbled". */
const char *acklog_verdict_name(enum acklog_verdict v);

/* Judge key i read back from the server (found, and its value). detail gets
 * one sentence: what was expected and what was found. */
enum acklog_verdict acklog_judge(const struct acklog *l, uint32_t i, bool found,
				 const uint8_t *value, uint32_t len, char *detail,
				 size_t detail_len);

#endif
