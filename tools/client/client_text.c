/* client_text.c - hex, escapes, batch line parsing and result lines.
 *
 * DESIGN: every format here works on caller buffers with sizes fixed by the
 * protocol's limits (a key of 250 bytes, a key plus value of one datagram),
 * so nothing allocates and a hostile input line can only be rejected, never
 * overflow. Escapes are symmetric: a value printed by the batch command can
 * be fed back to it unchanged.
 */
#include "client_text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "we_assert.h"
#include "we_status.h"

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int client_hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0, i = 0;
	int hi = -1;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	for (; s[i]; i++) {
		int v = hex_nibble(s[i]);

		if (v < 0) {
			/* Separators only between bytes, never inside one. */
			bool sep = is_blank(s[i]) || s[i] == '\n' || s[i] == ':' || s[i] == '-';

			if (hi < 0 && sep)
				continue;
			*len = i;
			return -EINVAL;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -E2BIG;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0) {
		*len = i;
		return -EINVAL;
	}
	*len = n;
	return 0;
}

void client_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

size_t client_escape(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		switch (c) {
		case '\\':
			out[o++] = '\\';
			out[o++] = '\\';
			break;
		case '\n':
			out[o++] = '\\';
			out[o++] = 'n';
			break;
		case '\r':
			out[o++] = '\\';
			out[o++] = 'r';
			break;
		case '\t':
			out[o++] = '\\';
			out[o++] = 't';
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = digits[c >> 4];
				out[o++] = digits[c & 15];
			}
		}
	}
	out[o] = 0;
	return o;
}

int client_unescape(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c == '\\') {
			if (++i == n)
				return -EINVAL;
			switch (s[i]) {
			case '\\':
				c = '\\';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'x': {
				int hi, lo;

				if (n - i < 3)
					return -EINVAL;
				hi = hex_nibble(s[i + 1]);
				lo = hex_nibble(s[i + 2]);
				if (hi < 0 || lo < 0)
					return -EINVAL;
				c = (uint8_t)(hi << 4 | lo);
				i += 2;
				break;
			}
			default:
				return -EINVAL;
			}
		}
		if (o == cap)
			return -E2BIG;
		out[o++] = c;
	}
	*out_len = o;
	return 0;
}

static int line_fail(char *err, size_t err_len, const char *msg)
{
	snprintf(err, err_len, "%s", msg);
	return -EINVAL;
}

int client_line_parse(const char *s, size_t n, struct client_line *out, char *err, size_t err_len)
{
	size_t i = 0, verb, verb_len, key, key_len, len;
	int rc;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	while (i < n && is_blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 0;
	verb = i;
	while (i < n && !is_blank(s[i]))
		i++;
	verb_len = i - verb;
	if (verb_len == 3 && memcmp(s + verb, "put", 3) == 0)
		out->op = PROTO_OP_PUT;
	else if (verb_len == 3 && memcmp(s + verb, "get", 3) == 0)
		out->op = PROTO_OP_GET;
	else if ((verb_len == 3 && memcmp(s + verb, "del", 3) == 0) ||
		 (verb_len == 6 && memcmp(s + verb, "delete", 6) == 0))
		out->op = PROTO_OP_DELETE;
	else
		return line_fail(err, err_len, "unknown command (put, get, del)");
	while (i < n && is_blank(s[i]))
		i++;
	key = i;
	while (i < n && !is_blank(s[i]))
		i++;
	key_len = i - key;
	if (key_len == 0)
		return line_fail(err, err_len, "missing KEY");
	rc = client_unescape(s + key, key_len, out->key, sizeof(out->key), &len);
	if (rc == -E2BIG || (rc == 0 && len == 0))
		return line_fail(err, err_len, "KEY must be 1..250 bytes");
	if (rc)
		return line_fail(err, err_len, "bad escape in KEY");
	out->key_len = (uint8_t)len;
	out->value_len = 0;
	if (out->op != PROTO_OP_PUT) {
		while (i < n && is_blank(s[i]))
			i++;
		if (i != n)
			return line_fail(err, err_len, "unexpected text after KEY");
		return 1;
	}
	if (i < n)
		i++; /* the one blank that ends KEY */
	rc = client_unescape(s + i, n - i, out->value, CLIENT_KV_MAX - out->key_len, &len);
	if (rc == -E2BIG)
		return line_fail(err, err_len, "KEY and VALUE do not fit one datagram");
	if (rc)
		return line_fail(err, err_len, "bad escape in VALUE");
	out->value_len = (uint32_t)len;
	return 1;
}

const char *client_status_name(unsigned status)
{
	if (status == CLIENT_STATUS_TIMEOUT)
		return "TIMEOUT";
	return we_status_name(status);
}

size_t client_result_format(char *out, uint8_t op, unsigned status, const uint8_t *value,
			    uint32_t value_len, bool hex)
{
	size_t n;

	if (status == WE_STATUS_OK && op == PROTO_OP_GET) {
		WE_VERIFY(value_len <= CLIENT_KV_MAX);
		memcpy(out, "VALUE ", 6);
		if (hex) {
			client_hex_encode(value, value_len, out + 6);
			n = 6 + 2 * (size_t)value_len;
		} else {
			n = 6 + client_escape(value, value_len, out + 6);
		}
	} else if (status == WE_STATUS_OK) {
		n = (size_t)sprintf(out, "OK");
	} else if (status == WE_STATUS_NOT_FOUND) {
		n = (size_t)sprintf(out, "NOT_FOUND");
	} else if (status == CLIENT_STATUS_TIMEOUT) {
		n = (size_t)sprintf(out, "TIMEOUT");
	} else {
		n = (size_t)sprintf(out, "ERROR %s", we_status_name(status));
	}
	out[n++] = '\n';
	out[n] = 0;
	return n;
}
