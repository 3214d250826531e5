/* client_text.h - warp-client's text formats: hex, escapes, batch lines, results.
 *
 * Pure functions over buffers (no I/O), shared by the batch, get and raw
 * commands and tested on their own. The batch grammar and the result lines
 * are specified in docs/client.md.
 */
#ifndef CLIENT_TEXT_H
#define CLIENT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "we_compiler.h"

/* Pseudo statuses of requests the server never answered, beside enum
 * we_status in client results (never on the wire). */
#define CLIENT_STATUS_TIMEOUT 255

/* Largest key plus value of one request: a single-entry datagram. */
#define CLIENT_KV_MAX (PROTO_PAYLOAD_MAX - PROTO_HDR_SIZE - PROTO_ENTRY_HDR_SIZE)

/* Decode hex digits into out[0..cap). Spaces, tabs, newlines, ':' and '-'
 * between bytes are ignored, as is a leading "0x". Returns 0 and the byte
 * count in *len, -EINVAL (odd digit count or a non-hex character, whose offset
 * goes to *len), or -E2BIG when more than cap bytes are given. */
int client_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len) we_must_check;

/* Write 2n lowercase hex digits and a NUL; out must hold 2n + 1 bytes. */
void client_hex_encode(const uint8_t *p, size_t n, char *out);

/* Escape bytes for one line of text: printable ASCII as is except '\',
 * then \\ \n \r \t and \xHH for the rest. out must hold 4n + 1 bytes;
 * returns the length written (NUL not counted). */
size_t client_escape(const uint8_t *p, size_t n, char *out);

/* Undo client_escape (and accept any \xHH). Returns 0 and *out_len, -EINVAL
 * on a bad escape, -E2BIG when the result exceeds cap. */
int client_unescape(const char *s, size_t n, uint8_t *out, size_t cap,
		    size_t *out_len) we_must_check;

/* One request of the batch command, decoded from a line. */
struct client_line {
	uint8_t op; /* PROTO_OP_GET, PUT or DELETE */
	uint8_t key_len;
	uint32_t value_len;
	uint8_t key[PROTO_KEY_MAX];
	uint8_t value[CLIENT_KV_MAX];
};

/* Parse one line (without its newline; a trailing '\r' is dropped):
 *
 *   line  = *WS ( "put" WS+ KEY [ WS VALUE ] | "get" WS+ KEY | ( "del" | "delete" ) WS+ KEY )
 *           *WS                    (trailing blanks only after get/del)
 *   blank = *WS | *WS "#" ...      (ignored)
 *
 * KEY is a run of non-blank characters; VALUE is the rest of the line after
 * the single blank that ends KEY (so it may hold blanks); both take the
 * escapes of client_unescape. A put without VALUE stores an empty value.
 * Returns 1 for a request, 0 for a blank line, -EINVAL with a reason in err. */
int client_line_parse(const char *s, size_t n, struct client_line *out, char *err,
		      size_t err_len) we_must_check;

/* Largest line client_result_format() writes, NUL included. */
#define CLIENT_RESULT_LINE_MAX (4 * CLIENT_KV_MAX + 64)

/* Format one batch result line (with its '\n') for a request of `op` that
 * ended with `status` (enum we_status or CLIENT_STATUS_TIMEOUT); value is a
 * GET hit's value. out must hold CLIENT_RESULT_LINE_MAX. Returns the length. */
size_t client_result_format(char *out, uint8_t op, unsigned status, const uint8_t *value,
			    uint32_t value_len, bool hex);

/* "TIMEOUT" for CLIENT_STATUS_TIMEOUT, else we_status_name(). */
const char *client_status_name(unsigned status);

#endif
