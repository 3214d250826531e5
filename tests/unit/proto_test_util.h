/* proto_test_util.h - helpers shared by test_proto.c and test_proto_random.c:
 * decode from a heap copy of exactly the datagram's length, so that an ASan
 * build catches any read past its end. Include after cmocka.h and proto.h. */
#ifndef PROTO_TEST_UTIL_H
#define PROTO_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A heap copy of exactly len bytes (1 when len is 0, so malloc never returns
 * NULL for a valid request). */
static inline uint8_t *exact_copy(const uint8_t *src, uint32_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* Decode a heap copy (as a request or a response), then point the entries
 * back into buf, so the copy can be freed. */
static inline enum proto_decode_result decode_copy(const uint8_t *buf, uint32_t len, bool response,
					    struct proto_batch_hdr *hdr,
					    struct proto_request *reqs, unsigned *n)
{
	uint8_t *copy = exact_copy(buf, len);
	enum proto_decode_result r =
		response ? proto_decode_response(copy, len, hdr, reqs, PROTO_BATCH_MAX, n)
			 : proto_decode_batch(copy, len, hdr, reqs, PROTO_BATCH_MAX, n);

	for (unsigned i = 0; i < *n; i++) {
		reqs[i].key = buf + (reqs[i].key - copy);
		reqs[i].value = buf + (reqs[i].value - copy);
	}
	free(copy);
	return r;
}

#define decode_req(buf, len, hdr, reqs, n) decode_copy(buf, len, false, hdr, reqs, n)
#define decode_resp(buf, len, hdr, reqs, n) decode_copy(buf, len, true, hdr, reqs, n)

#endif
