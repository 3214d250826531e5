/* value_gen.h - the bytes of the blaster's compressible values (no DPDK).
 *
 *   value_sink_writer()  a sink that writes a value into a buffer
 *   value_sink_checker() a sink that compares a value with received bytes
 *   value_gen_text()     English-like words, exactly the sink's length
 *   value_gen_json()     a JSON record of fixed shape, exactly the sink's length
 *
 * DESIGN: a value of kind text or json is a pure function of (key index,
 * version) like the random kind (workload.c), generated as a stream of small
 * pieces (words, JSON keys, numbers) into a sink. The same generator either
 * writes the bytes or compares them with an answer, so checking a value needs
 * no buffer and no allocation, and the sink stops at exactly its length (the
 * last piece is cut). Every byte is printable ASCII or a space.
 */
#ifndef BLASTER_VALUE_GEN_H
#define BLASTER_VALUE_GEN_H

#include <stdbool.h>
#include <stdint.h>

struct value_sink {
	uint8_t *out;        /* writer: bytes go here; NULL for a checker */
	const uint8_t *want; /* checker: bytes compared with these */
	uint32_t len;        /* the value's length: nothing beyond it is produced */
	uint32_t pos;        /* bytes produced so far */
	bool differs;        /* checker: a byte differed (generation stops) */
};

static inline struct value_sink value_sink_writer(uint8_t *out, uint32_t len)
{
	struct value_sink s = {.out = out, .len = len};

	return s;
}

static inline struct value_sink value_sink_checker(const uint8_t *want, uint32_t len)
{
	struct value_sink s = {.want = want, .len = len};

	return s;
}

/* Fill the sink with words drawn from a fixed list by a stream seeded by
 * seed: lower case, single spaces, an occasional comma or period. */
void value_gen_text(struct value_sink *s, uint64_t seed);

/* Fill the sink with one JSON object, the same keys in every value:
 * {"id":INDEX,"v":VERSION,"user":"..","email":"..","score":..,"tags":[..],
 *  "events":[{"at":..,"kind":"..","ref":"..","n":..,"status":"..","via":".."},
 *  ..],"bio":"TEXT"}
 * Events are added while one more surely fits, then the bio's words pad the
 * object to the sink's length; a length too short for the whole object (under
 * 184 bytes, less with short numbers and words) cuts it, and the value is
 * then not valid JSON. */
void value_gen_json(struct value_sink *s, uint64_t index, uint16_t version, uint64_t seed);

#endif
