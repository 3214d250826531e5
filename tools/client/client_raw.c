/* client_raw.c - the raw command: one datagram out as is, every reply dumped.
 *
 * DESIGN: for malformed-input and no-amplification tests the client must
 * not "help": the payload is sent exactly once, never retried, and every
 * datagram the server's address sends back within --timeout is printed
 * (hex, header fields read without validation, then what the response
 * decoder makes of it), followed by a summary line comparing reply and
 * request sizes. Output lines start with a fixed word so scripts can grep:
 *
 *   request <n> bytes to <ip>:<port>
 *   reply <i>: <n> bytes from <ip>:<port> (request <m> bytes)
 *     hex <bytes>
 *     header magic=<2 chars> version=<v> flags=0x<ff> count=<c>
 *            status=<s>(<NAME>) reserved=<r> echo=0x<16 hex>     (one line)
 *     decode <OK|TRUNCATED|BAD_MAGIC|NOT_REQUEST|BAD_VERSION|UNSUPPORTED|MALFORMED>
 *     entry <k>: op=<OP> status=<NAME> opaque=<u32> key_len=<n> value_len=<n>
 *   summary replies=<n> reply_bytes=<total> largest_reply=<n> request_bytes=<m>
 *   no reply from <ip>:<port> after <ms> ms          (exit 3)
 */
#include "client_cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_text.h"
#include "we_status.h"

#define REPLY_BUF 65536

static uint64_t le_bytes(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void print_reply(FILE *out, const uint8_t *buf, size_t len, size_t stored, char *hex)
{
	struct proto_request entries[PROTO_BATCH_MAX];
	struct proto_batch_hdr hdr;
	enum proto_decode_result r;
	unsigned n = 0;

	client_hex_encode(buf, stored, hex);
	fprintf(out, "  hex %s%s\n", hex, stored < len ? "..." : "");
	if (stored >= PROTO_HDR_SIZE) {
		fprintf(out,
			"  header magic=%c%c version=%u flags=0x%02x count=%u status=%u(%s) "
			"reserved=%u echo=0x%016llx\n",
			isprint(buf[0]) ? buf[0] : '?', isprint(buf[1]) ? buf[1] : '?', buf[2],
			buf[3], (unsigned)le_bytes(buf + 4, 2), buf[6], we_status_name(buf[6]),
			buf[7],
			(unsigned long long)le_bytes(buf + 8, 8));
	}
	if (stored < len) {
		fputs("  decode MALFORMED\n", out);
		return;
	}
	r = proto_decode_response(buf, (uint32_t)len, &hdr, entries, PROTO_BATCH_MAX, &n);
	fprintf(out, "  decode %s\n", proto_decode_result_name(r));
	for (unsigned k = 0; k < n; k++)
		fprintf(out, "  entry %u: op=%s status=%s opaque=%u key_len=%u value_len=%u\n", k,
			proto_op_name(entries[k].op), we_status_name(entries[k].status),
			entries[k].opaque, entries[k].key_len, entries[k].value_len);
}

int client_cmd_raw(const struct client_args *a, FILE *out, FILE *err)
{
	uint8_t *req = malloc(CLIENT_RAW_MAX), *rep = malloc(REPLY_BUF);
	char *hex = malloc(2 * REPLY_BUF + 1);
	size_t len, reply_bytes = 0, largest = 0;
	unsigned replies = 0;
	struct client_net n;
	uint64_t until;
	char msg[160];
	int rc;

	if (!req || !rep || !hex) {
		fprintf(err, "warp-client: out of memory\n");
		rc = CLIENT_EXIT_OSERR;
		goto out;
	}
	rc = client_hex_decode(a->raw_hex, req, CLIENT_RAW_MAX, &len);
	if (rc) {
		if (rc == -E2BIG)
			fprintf(err, "warp-client: --hex: more than %u bytes\n", CLIENT_RAW_MAX);
		else
			fprintf(err, "warp-client: --hex: not hex digits at offset %zu of '%s'\n",
				len, a->raw_hex);
		rc = CLIENT_EXIT_USAGE;
		goto out;
	}
	rc = client_net_open(&n, a->server, a->port, 1, msg, sizeof(msg));
	if (rc) {
		fprintf(err, "warp-client: %s\n", msg);
		rc = rc == -EINVAL ? CLIENT_EXIT_USAGE : CLIENT_EXIT_OSERR;
		goto out;
	}
	rc = client_net_send(&n, a->port, req, len);
	if (rc) {
		fprintf(err, "warp-client: send to %s:%u: %s\n", n.server_text, a->port,
			strerror(-rc));
		rc = CLIENT_EXIT_OSERR;
		goto close;
	}
	fprintf(out, "request %zu bytes to %s:%u\n", len, n.server_text, a->port);
	until = client_now_ns() + (uint64_t)a->timeout_ms * 1000000ull;
	for (;;) {
		uint16_t port;
		int got = client_net_recv(&n, rep, REPLY_BUF, &port, until);
		size_t stored;

		if (got == -ETIMEDOUT)
			break;
		if (got < 0) {
			fprintf(err, "warp-client: receive: %s\n", strerror(-got));
			rc = CLIENT_EXIT_OSERR;
			goto close;
		}
		stored = (size_t)got < REPLY_BUF ? (size_t)got : REPLY_BUF;
		replies++;
		reply_bytes += (size_t)got;
		if ((size_t)got > largest)
			largest = (size_t)got;
		fprintf(out, "reply %u: %d bytes from %s:%u (request %zu bytes)\n", replies, got,
			n.server_text, port, len);
		print_reply(out, rep, (size_t)got, stored, hex);
	}
	if (replies == 0) {
		fprintf(out, "no reply from %s:%u after %u ms\n", n.server_text, a->port,
			a->timeout_ms);
		rc = CLIENT_EXIT_NO_ANSWER;
	} else {
		fprintf(out,
			"summary replies=%u reply_bytes=%zu largest_reply=%zu request_bytes=%zu\n",
			replies, reply_bytes, largest, len);
		rc = CLIENT_EXIT_OK;
	}
close:
	client_net_close(&n);
out:
	free(req);
	free(rep);
	free(hex);
	return rc;
}
