/* proto.h - the native WarpEngine UDP protocol, version 1 (no DPDK).
 *
 * Exact byte layouts are in docs/protocol.md; this header is their C form.
 * All multi-byte fields are little-endian.
 *
 * A datagram is a batch header followed by `count` entries:
 *
 *   batch header (16 bytes)
 *     0  magic[2]   'W' 'E'
 *     2  version    1
 *     3  flags      bit0 RESPONSE, bit1 AUTH (reserved: v1 answers UNSUPPORTED),
 *                   bit2 TOKEN (a 16-byte address token follows the header);
 *                   other bits must be 0
 *     4  count      u16, entries that follow (requests: 1..PROTO_BATCH_MAX)
 *     6  status     u8, batch status in responses; 0 in requests
 *     7  reserved   u8, must be 0 on the wire (the server uses it internally
 *                   as a forwarding hop count)
 *     8  echo       u64, copied verbatim into every response datagram
 *
 *   address token (16 bytes, only with the TOKEN flag): entries follow it
 *
 *   entry (12-byte header, then key, then value; no padding)
 *     0  op         u8  (enum proto_op)
 *     1  flags      u8  request: durability in bits 0-1 (enum proto_durability);
 *                       other bits 0. Response: 0.
 *     2  key_len    u8  request: 1..250. Response: 0 (no key echoed) unless
 *                       the op answers several keys (QUANTUM_GET, later).
 *     3  status     u8  request: 0. Response: enum we_status.
 *     4  value_len  u32
 *     8  opaque     u32 chosen by the client, echoed in the response entry
 *    12  key[key_len], value[value_len]
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "we_compiler.h"
#include "we_status.h"

#define PROTO_MAGIC0 'W'
#define PROTO_MAGIC1 'E'
#define PROTO_VERSION 1
#define PROTO_HDR_SIZE 16
#define PROTO_ENTRY_HDR_SIZE 12
#define PROTO_KEY_MAX 250
/* UDP payload of a 1500-byte-MTU IPv4 packet: 1500 - 20 (IPv4) - 8 (UDP). */
#define PROTO_PAYLOAD_MAX 1472
#define PROTO_BATCH_MAX 64
/* Largest value one PUT can carry: a single-entry datagram of one-byte key. */
#define PROTO_VALUE_MAX (PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE - 1)

enum proto_batch_flags {
	PROTO_F_RESPONSE = 0x01,
	PROTO_F_AUTH = 0x02,  /* an auth block follows the header (reserved) */
	PROTO_F_TOKEN = 0x04, /* an address token follows the header (requests) */
};
#define PROTO_F_KNOWN (PROTO_F_RESPONSE | PROTO_F_AUTH | PROTO_F_TOKEN)
/* Address validation (docs/protocol.md, section 8): the token proves that
 * the sender receives what is sent to its address. */
#define PROTO_TOKEN_SIZE 16
/* An unvalidated source gets at most this many times the bytes it sent. */
#define PROTO_AMPLIFICATION_MAX 3

enum proto_op {
	PROTO_OP_GET = 1,
	PROTO_OP_PUT = 2,
	PROTO_OP_DELETE = 3,
	PROTO_OP_PING = 4,        /* answered OK with no value; liveness and RTT */
	PROTO_OP_QUANTUM_GET = 5, /* reserved for entanglement: v1 answers UNSUPPORTED */
	PROTO_OP_TOKEN = 6,       /* answered OK with the sender's address token */
};

/* Per-request durability override (bits 0-1 of the entry flags). */
enum proto_durability {
	PROTO_DUR_DEFAULT = 0, /* the shard's consistency model decides */
	PROTO_DUR_STRONG = 1,  /* answer after the group commit is on disk */
	PROTO_DUR_EVENTUAL = 2,/* answer at once, log in the background */
	PROTO_DUR_WEAK = 3,    /* do not log (cache only) */
};
#define PROTO_ENTRY_F_DUR_MASK 0x03

struct proto_batch_hdr {
	uint8_t magic[2];
	uint8_t version;
	uint8_t flags;
	uint16_t count;
	uint8_t status;
	uint8_t reserved;
	uint64_t echo;
} __attribute__((packed));
_Static_assert(sizeof(struct proto_batch_hdr) == PROTO_HDR_SIZE, "batch header layout");

struct proto_entry_hdr {
	uint8_t op;
	uint8_t flags;
	uint8_t key_len;
	uint8_t status;
	uint32_t value_len;
	uint32_t opaque;
} __attribute__((packed));
_Static_assert(sizeof(struct proto_entry_hdr) == PROTO_ENTRY_HDR_SIZE, "entry header layout");

/* One decoded entry. key and value point into the datagram, which must stay
 * alive (and unmodified) while the entry is used. */
struct proto_request {
	const uint8_t *key;
	const uint8_t *value;
	uint32_t value_len;
	uint32_t opaque;
	uint8_t op;
	uint8_t flags;
	uint8_t key_len;
	/* WE_STATUS_OK if the entry is well formed and may be executed;
	 * otherwise the status to answer it with (BAD_REQUEST, UNKNOWN_OP,
	 * KEY_TOO_LONG, UNSUPPORTED). */
	uint8_t status;
	uint64_t hash;  /* set to 0 by the decoder, filled by the caller (keyhash) */
	uint64_t lhash; /* the server's keyed bucket hash, filled by the server */
};

/* Outcome of decoding a whole datagram. Values other than OK are counted by
 * the caller under the matching drop/error reason. */
enum proto_decode_result {
	PROTO_DECODE_OK = 0,
	PROTO_DECODE_TRUNCATED,   /* shorter than the batch header: drop */
	PROTO_DECODE_BAD_MAGIC,   /* not ours: drop, no reply */
	PROTO_DECODE_NOT_REQUEST, /* RESPONSE flag set: drop (no reply loops);
				   * from proto_decode_response: flag missing */
	PROTO_DECODE_BAD_VERSION, /* reply header-only, status BAD_VERSION */
	PROTO_DECODE_UNSUPPORTED, /* AUTH flag or unknown flag (TOKEN in a response):
				   * header-only UNSUPPORTED */
	PROTO_DECODE_MALFORMED,   /* count 0 or > max, entry overruns, trailing bytes,
				   * nonzero status/reserved: header-only MALFORMED */
};

/* Decode a request datagram. On PROTO_DECODE_OK, *hdr holds the header and
 * reqs[0..*n_reqs) the entries (each with its own status, see above). The
 * whole datagram is validated structurally before any entry is returned, so a
 * malformed datagram executes nothing. `max_reqs` must be >= PROTO_BATCH_MAX.
 * On an error with a reply (BAD_VERSION, UNSUPPORTED, MALFORMED), *hdr holds
 * what could be read (echo included) for the header-only reply. */
enum proto_decode_result proto_decode_batch(const uint8_t *buf, uint32_t len,
					    struct proto_batch_hdr *hdr,
					    struct proto_request *reqs, unsigned max_reqs,
					    unsigned *n_reqs) we_must_check;

/* The status a header-only reply carries for a decode error, or WE_STATUS_OK
 * when the error gets no reply at all (TRUNCATED, BAD_MAGIC, NOT_REQUEST). */
enum we_status proto_decode_reply_status(enum proto_decode_result r);

/* The address token of a request decoded by proto_decode_batch(), or NULL
 * when its header has no TOKEN flag. */
static inline const uint8_t *proto_batch_token(const uint8_t *buf,
					       const struct proto_batch_hdr *hdr)
{
	return (hdr->flags & PROTO_F_TOKEN) ? buf + PROTO_HDR_SIZE : NULL;
}

/* Bytes of a request entry on the wire. */
static inline uint32_t proto_request_size(const struct proto_request *r)
{
	return PROTO_ENTRY_HDR_SIZE + r->key_len + r->value_len;
}

/* Builds one datagram (requests or responses) in a caller's buffer.
 * Append only after proto_writer_fits() said yes: it says no when the entry
 * would pass `cap`, when PROTO_BATCH_MAX entries are already in, or when
 * key_len > 255. Op, flags and status are written as given (tests use this to
 * build invalid datagrams). */
struct proto_writer {
	uint8_t *buf;
	uint32_t cap;
	uint32_t len;
	uint16_t count;
};

void proto_writer_init(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint8_t flags,
		       uint64_t echo);
/* A request datagram that carries an address token (TOKEN flag). */
void proto_writer_init_token(struct proto_writer *w, uint8_t *buf, uint32_t cap, uint64_t echo,
			     const uint8_t token[PROTO_TOKEN_SIZE]);
bool proto_writer_fits(const struct proto_writer *w, uint32_t key_len, uint32_t value_len);
void proto_writer_append(struct proto_writer *w, uint8_t op, uint8_t flags, uint8_t status,
			 uint32_t opaque, const void *key, uint32_t key_len, const void *value,
			 uint32_t value_len);
/* Set the batch status byte (header-only error replies). */
void proto_writer_set_status(struct proto_writer *w, uint8_t status);
/* Write the count into the header; returns the datagram length. */
uint32_t proto_writer_finish(struct proto_writer *w);

/* Forwarding between workers (never on the wire): the server carries a
 * datagram's forwarding facts in the batch header's reserved byte: the hop
 * count, whether the datagram is the client's own (handed whole to its
 * port's worker) or a subset built by the forwarder, and, for a subset,
 * whether the client's address was validated. The forwarding worker sets
 * it; the owner takes it (reads it and zeroes the byte) before
 * proto_decode_batch(), which refuses a nonzero reserved byte as MALFORMED.
 * proto_take_hops() returns 0 for a datagram shorter than the header (the
 * decoder then reports TRUNCATED). */
#define PROTO_FWD_HOPS_MASK 0x3f
#define PROTO_FWD_WHOLE 0x40     /* the client's datagram, as it was sent */
#define PROTO_FWD_VALIDATED 0x80 /* subset of a validated source's datagram */
void proto_writer_set_hops(struct proto_writer *w, uint8_t hops);
uint8_t proto_take_hops(uint8_t *buf, uint32_t len);

/* Decode a response datagram (clients, blaster, tests). Same structural rules
 * as requests, but requires the RESPONSE flag, accepts count 0 (header-only
 * replies, 0..PROTO_BATCH_MAX entries), any batch and entry status byte (passed
 * through in ->status), any op byte and key_len 0..250; entry flags must be 0.
 * Returns PROTO_DECODE_OK or the reason it is not a valid response. */
enum proto_decode_result proto_decode_response(const uint8_t *buf, uint32_t len,
					       struct proto_batch_hdr *hdr,
					       struct proto_request *entries,
					       unsigned max_entries,
					       unsigned *n_entries) we_must_check;

const char *proto_op_name(unsigned op);
const char *proto_decode_result_name(enum proto_decode_result r);

#endif
