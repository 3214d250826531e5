/* test_archive.c - the disk tier (storage/archive.c, storage/archive_io.c):
 * the record codec, batches, a worker's file over the fake disk (faults
 * included), the ports and the I/O thread's pass called by the test
 * (archive_io_step, no thread), and the thread itself on a real temporary
 * folder. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <lz4.h>

#include "archive.h"
#include "archive_io.h"
#include "disk_fake.h"
#include "we_time.h"

#define DATA "dd"

/* Stored bytes that depend on the seed and the position. */
static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

static struct archive_record record(const char *key, const uint8_t *stored, uint32_t stored_len,
				    uint8_t codec, uint64_t lsn)
{
	return (struct archive_record){
		.lsn = lsn,
		.value_len = codec == 0 ? stored_len : stored_len * 3 + 1,
		.stored_len = stored_len,
		.key_len = (uint8_t)strlen(key),
		.codec = codec,
		.key = (const uint8_t *)key,
		.stored = stored,
	};
}

static void assert_same(const struct archive_record *a, const struct archive_record *b)
{
	assert_int_equal(a->lsn, b->lsn);
	assert_int_equal(a->value_len, b->value_len);
	assert_int_equal(a->stored_len, b->stored_len);
	assert_int_equal(a->key_len, b->key_len);
	assert_int_equal(a->codec, b->codec);
	assert_memory_equal(a->key, b->key, a->key_len);
	if (a->stored_len > 0)
		assert_memory_equal(a->stored, b->stored, a->stored_len);
}

/* Encodes r into buf, decodes it back through its reference, compares. */
static uint32_t round_trip(uint8_t *buf, uint32_t cap, const struct archive_record *r)
{
	struct archive_record out;
	struct archive_ref ref = {.offset = 0};
	uint32_t check;
	int n = archive_record_encode(buf, cap, r, &check);

	assert_int_equal(n, archive_record_bytes(r->key_len, r->stored_len));
	assert_int_equal(n % 8, 0);
	for (uint32_t i = ARCHIVE_RECORD_HDR_BYTES + r->key_len + r->stored_len; i < (uint32_t)n; i++)
		assert_int_equal(buf[i], 0);
	ref.bytes = (uint32_t)n;
	ref.check = check;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r->key, r->key_len, &out), 0);
	assert_same(r, &out);
	assert_ptr_equal(out.key, buf + ARCHIVE_RECORD_HDR_BYTES);
	return (uint32_t)n;
}

/* ---- records ---------------------------------------------------------- */

static void test_record_round_trips(void **state)
{
	static uint8_t buf[ARCHIVE_RECORD_BYTES_MAX];
	static uint8_t stored[ARCHIVE_STORED_MAX];
	char key255[256];
	struct archive_record r;
	uint32_t check;

	(void)state;
	memset(key255, 'k', 255);
	key255[255] = 0;
	fill(stored, sizeof(stored), 1);

	r = record("empty", NULL, 0, 0, 7);
	assert_int_equal(round_trip(buf, sizeof(buf), &r), 40);
	r = record("a", stored, 1, 1, 8);
	assert_int_equal(round_trip(buf, sizeof(buf), &r), 40);
	r = record(key255, stored, 100, 2, UINT64_MAX);
	assert_int_equal(round_trip(buf, sizeof(buf), &r), (32 + 255 + 100 + 7) & ~7u);
	r = record(key255, stored, ARCHIVE_STORED_MAX, 0, 9);
	assert_int_equal(round_trip(buf, sizeof(buf), &r), ARCHIVE_RECORD_BYTES_MAX);

	/* The header's fields where archive.h says they are. */
	r = record("xy", stored, 5, 1, 0x0102030405060708ull);
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), 40);
	assert_memory_equal(buf, "WEAR", 4);
	assert_memory_equal(buf + 4, &check, 4);
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(buf[15], 0x01);
	assert_int_equal(buf[16], 16); /* value_len 5 * 3 + 1 */
	assert_int_equal(buf[20], 5);
	assert_int_equal(buf[24], 2);
	assert_int_equal(buf[25], 1);
	assert_memory_equal(buf + 32, "xy", 2);
	assert_memory_equal(buf + 34, stored, 5);
}

static void test_record_encode_rejects(void **state)
{
	static uint8_t buf[ARCHIVE_RECORD_BYTES_MAX + 8];
	static uint8_t stored[ARCHIVE_STORED_MAX + 1];
	struct archive_record r;
	uint32_t check;

	(void)state;
	r = record("k", stored, 10, 0, 1);
	r.key_len = 0;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r = record("k", stored, ARCHIVE_STORED_MAX + 1, 0, 1);
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r = record("k", stored, 10, 3, 1);
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r = record("k", stored, 10, 0, 1);
	r.value_len = 9;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r.value_len = 11;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	/* Compressed bytes may be longer than the value (incompressible). */
	r = record("k", stored, 10, 1, 1);
	r.value_len = 4;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), 48);
	assert_int_equal(archive_record_encode(buf, 47, &r, &check), -ENOSPC);
	assert_int_equal(archive_record_encode(buf, 0, &r, &check), -ENOSPC);
}

static void test_record_decode_failures(void **state)
{
	static uint8_t buf[512], bad[512];
	static uint8_t stored[77];
	struct archive_record r = record("the-key", stored, sizeof(stored), 0, 42), out;
	struct archive_ref ref = {.offset = 4096};
	uint32_t check;
	int n;

	(void)state;
	fill(stored, sizeof(stored), 3);
	n = archive_record_encode(buf, sizeof(buf), &r, &check);
	assert_true(n > 0);
	ref.bytes = (uint32_t)n;
	ref.check = check;
	/* Any byte flipped, padding and reserved fields included. */
	for (int i = 0; i < n; i++) {
		for (uint8_t bit = 1; bit != 0; bit = (uint8_t)(bit << 1)) {
			memcpy(bad, buf, (size_t)n);
			bad[i] ^= bit;
			assert_int_equal(archive_record_decode(bad, (uint32_t)n, &ref, r.key, r.key_len,
							       &out),
					 -EBADMSG);
		}
	}
	/* Another key: same length, other length, a prefix. */
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, (const uint8_t *)"the-kez", 7,
					       &out),
			 -ESTALE);
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, (const uint8_t *)"the-keys",
					       8, &out),
			 -ESTALE);
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, (const uint8_t *)"the", 3,
					       &out),
			 -ESTALE);
	/* A reference that is not this record's. */
	ref.bytes = (uint32_t)n + 8;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r.key, r.key_len, &out),
			 -EBADMSG);
	ref.bytes = (uint32_t)n;
	ref.check = check ^ 1;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r.key, r.key_len, &out),
			 -EBADMSG);
	ref.check = check;
	/* Read short (the end of the file), or the length of another. */
	ref.bytes = (uint32_t)n - 8;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n - 8, &ref, r.key, r.key_len, &out),
			 -EBADMSG);
	ref.bytes = 16;
	assert_int_equal(archive_record_decode(buf, 16, &ref, r.key, r.key_len, &out), -EBADMSG);
	ref.bytes = (uint32_t)n;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r.key, r.key_len, &out), 0);
}

static void test_batch_full(void **state)
{
	static uint64_t mem[1024 / 8];
	uint8_t stored[100];
	struct archive_batch b;
	struct archive_record r;
	uint32_t off[16], checks[16], expect = 0;
	int added = 0, rc;

	(void)state;
	fill(stored, sizeof(stored), 4);
	archive_batch_init(&b, mem, sizeof(mem) + 5); /* the odd end is not used */
	assert_int_equal(b.cap, sizeof(mem));
	for (;;) {
		char key[16];

		snprintf(key, sizeof(key), "key-%d", added);
		r = record(key, stored, sizeof(stored), 0, (uint64_t)added + 1);
		rc = archive_batch_add(&b, &r, &off[added], &checks[added]);
		if (rc != 0)
			break;
		assert_int_equal(off[added], expect);
		expect += archive_record_bytes(r.key_len, r.stored_len);
		added++;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(added, 1024 / 144); /* 32 + 5 + 100, padded to 144 */
	assert_int_equal(b.records, (uint32_t)added);
	assert_int_equal(b.used, expect);
	r.key_len = 0;
	assert_int_equal(archive_batch_add(&b, &r, &off[0], &checks[0]), -EINVAL);
	for (int i = 0; i < added; i++) {
		struct archive_ref ref = {.offset = off[i], .bytes = 144, .check = checks[i]};
		struct archive_record out;
		char key[16];

		snprintf(key, sizeof(key), "key-%d", i);
		assert_int_equal(archive_record_decode(b.buf + off[i], 144, &ref,
						       (const uint8_t *)key, (uint8_t)strlen(key),
						       &out),
				 0);
		assert_int_equal(out.lsn, (uint64_t)i + 1);
	}
}

/* ---- a worker's file, over the fake disk ------------------------------ */

static struct disk_fake *fake_with_data(void)
{
	struct disk_fake *f = disk_fake_create();

	assert_non_null(f);
	assert_int_equal(disk_mkdir(disk_fake_disk(f), DATA), 0);
	return f;
}

static void test_file_create_truncates(void **state)
{
	struct disk_fake *f = fake_with_data();
	struct archive_file af;
	uint8_t junk[3000];

	(void)state;
	memset(junk, 0xAB, sizeof(junk));
	assert_int_equal(disk_mkdir(disk_fake_disk(f), DATA "/singularity"), 0);
	assert_int_equal(disk_fake_write_file(f, DATA "/singularity/worker-03.arc", junk,
					      sizeof(junk)),
			 0);
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 3, 0), 0);
	assert_int_equal(disk_fake_read_file(f, DATA "/singularity/worker-03.arc", junk, 0), 0);
	assert_int_equal(af.end, 0);
	assert_int_equal(af.worker, 3);
	archive_file_close(&af);
	assert_int_equal(af.fd, -1);
	/* A new file where none was. */
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 12, 0), 0);
	assert_int_equal(disk_fake_read_file(f, DATA "/singularity/worker-12.arc", junk, 0), 0);
	archive_file_close(&af);
	/* No data directory: the error, and nothing open. */
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), "nowhere/deeper", 0, 0),
			 -ENOENT);
	assert_int_equal(af.fd, -1);
	disk_fake_destroy(f);
}

static void test_file_append_read(void **state)
{
	struct disk_fake *f = fake_with_data();
	struct archive_file af;
	uint8_t a[200], b[64], got[300];
	uint64_t off;

	(void)state;
	fill(a, sizeof(a), 5);
	fill(b, sizeof(b), 6);
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 0, 0), 0);
	assert_int_equal(archive_file_append(&af, a, sizeof(a), &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(archive_file_append(&af, b, sizeof(b), &off), 0);
	assert_int_equal(off, 200);
	assert_int_equal(af.end, 264);
	assert_int_equal(archive_file_read(&af, got, sizeof(b), 200), (int64_t)sizeof(b));
	assert_memory_equal(got, b, sizeof(b));
	assert_int_equal(archive_file_read(&af, got, sizeof(a), 0), (int64_t)sizeof(a));
	assert_memory_equal(got, a, sizeof(a));
	/* Short at the end, nothing past it. */
	assert_int_equal(archive_file_read(&af, got, 100, 200), 64);
	assert_int_equal(archive_file_read(&af, got, 100, 1000), 0);
	/* Never synced: a swap area. */
	assert_int_equal(disk_fake_calls(f, DISK_OP_FDATASYNC), 0);
	archive_file_close(&af);
	disk_fake_destroy(f);
}

static void test_file_limit(void **state)
{
	struct disk_fake *f = fake_with_data();
	struct archive_file af;
	uint8_t a[64] = {1};
	uint64_t off = 77, writes;

	(void)state;
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 1, 100), 0);
	assert_int_equal(archive_file_append(&af, a, 64, &off), 0);
	writes = disk_fake_calls(f, DISK_OP_PWRITE);
	off = 77;
	assert_int_equal(archive_file_append(&af, a, 64, &off), -ENOSPC);
	assert_int_equal(off, 77);
	assert_int_equal(af.end, 64);
	assert_int_equal(disk_fake_calls(f, DISK_OP_PWRITE), writes); /* nothing written */
	assert_int_equal(archive_file_append(&af, a, 36, &off), 0);   /* exactly full */
	assert_int_equal(off, 64);
	assert_int_equal(archive_file_append(&af, a, 1, &off), -ENOSPC);
	assert_int_equal(af.end, 100);
	archive_file_close(&af);
	disk_fake_destroy(f);
}

static void test_file_write_fault(void **state)
{
	struct disk_fake *f = fake_with_data();
	struct archive_file af;
	uint8_t a[64], b[64], got[64];
	uint64_t off = 0;

	(void)state;
	fill(a, sizeof(a), 7);
	fill(b, sizeof(b), 8);
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 0, 0), 0);
	assert_int_equal(archive_file_append(&af, a, 64, &off), 0);
	disk_fake_fail(f, DISK_OP_PWRITE, 1, -EIO, 1);
	off = 999;
	assert_int_equal(archive_file_append(&af, b, 64, &off), -EIO);
	assert_int_equal(off, 999);
	assert_int_equal(af.end, 64);
	/* The next append goes where the failed one meant to. */
	assert_int_equal(archive_file_append(&af, b, 64, &off), 0);
	assert_int_equal(off, 64);
	assert_int_equal(archive_file_read(&af, got, 64, 64), 64);
	assert_memory_equal(got, b, 64);
	archive_file_close(&af);
	disk_fake_destroy(f);
}

/* ---- a batch walked, a record's value, a value read from the file ----- */

static void test_batch_next_walks(void **state)
{
	static uint64_t mem[8192 / 8];
	static uint8_t stored[600];
	struct archive_batch b;
	struct archive_record r, out;
	struct archive_ref ref;
	uint32_t off[20], checks[20], bytes[20], pos = 0;
	int n = 0;

	(void)state;
	archive_batch_init(&b, mem, sizeof(mem));
	/* An empty batch has nothing to walk. */
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -ENOENT);
	for (n = 0; n < 20; n++) {
		char key[16];

		snprintf(key, sizeof(key), "walk-%d", n * 7);
		fill(stored, (uint32_t)n * 29u, (uint32_t)n);
		r = record(key, stored, (uint32_t)n * 29u, (uint8_t)(n % 3), 100u + (uint64_t)n);
		if (n % 3 == 0)
			r.value_len = r.stored_len;
		assert_int_equal(archive_batch_add(&b, &r, &off[n], &checks[n]), 0);
		bytes[n] = archive_record_bytes(r.key_len, r.stored_len);
	}
	for (int i = 0; i < n; i++) {
		char key[16];

		snprintf(key, sizeof(key), "walk-%d", i * 7);
		fill(stored, (uint32_t)i * 29u, (uint32_t)i);
		memset(&ref, 0xEE, sizeof(ref));
		assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), 0);
		assert_int_equal(ref.offset, off[i]);
		assert_int_equal(ref.bytes, bytes[i]);
		assert_int_equal(ref.check, checks[i]);
		assert_int_equal(pos, off[i] + bytes[i]);
		assert_int_equal(out.lsn, 100u + (uint64_t)i);
		assert_int_equal(out.codec, i % 3);
		assert_int_equal(out.key_len, strlen(key));
		assert_memory_equal(out.key, key, out.key_len);
		assert_int_equal(out.stored_len, (uint32_t)i * 29u);
		if (out.stored_len > 0)
			assert_memory_equal(out.stored, stored, out.stored_len);
		/* The reference decodes the record in place. */
		assert_int_equal(archive_record_decode(b.buf + ref.offset, ref.bytes, &ref,
						       (const uint8_t *)key, (uint8_t)strlen(key),
						       &out),
				 0);
	}
	assert_int_equal(pos, b.used);
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -ENOENT);
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -ENOENT);

	/* A damaged header of the third record: the walk stops there with
	 * -EBADMSG, and does not move. */
	pos = off[3];
	b.buf[off[3] + 24] = 0; /* key_len 0 */
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
	assert_int_equal(pos, off[3]);
	b.buf[off[3] + 24] = (uint8_t)strlen("walk-21");
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), 0);
	/* The magic, the check, a stored length past the batch, a header cut
	 * short by the batch's end. */
	pos = off[4];
	b.buf[off[4]] ^= 1;
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
	b.buf[off[4]] ^= 1;
	b.buf[off[4] + 4] ^= 0x10;
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
	b.buf[off[4] + 4] ^= 0x10;
	b.buf[off[4] + 40] ^= 0x01; /* a key or stored byte: the check fails */
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
	b.buf[off[4] + 40] ^= 0x01;
	pos = off[19];
	b.buf[off[19] + 20] = 0xF0; /* stored_len 0x...F0: beyond the batch */
	b.buf[off[19] + 21] = 0x0F;
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
	pos = b.used - 16;
	assert_int_equal(archive_batch_next(&b, &pos, &ref, &out), -EBADMSG);
}

static void test_record_value(void **state)
{
	static uint8_t value[4000], comp[8000], dst[ARCHIVE_VALUE_MAX];
	static uint8_t buf[16384];
	struct archive_record r, out;
	struct archive_ref ref = {.offset = 0};
	const uint8_t *v = NULL;
	uint32_t check;
	int clen, n;

	(void)state;
	/* Compressible: a short pattern repeated. */
	for (uint32_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)("warpengine"[i % 10] + (i / 500));

	/* Raw: the stored bytes themselves, in place. */
	r = record("raw", value, sizeof(value), 0, 1);
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), 0);
	assert_ptr_equal(v, value);
	assert_memory_equal(v, value, sizeof(value));

	/* LZ4: decompressed into dst, exactly. */
	clen = LZ4_compress_default((const char *)value, (char *)comp, sizeof(value),
				    (int)sizeof(comp));
	assert_true(clen > 0 && clen < (int)sizeof(value));
	r = record("lz4", comp, (uint32_t)clen, 1, 2);
	r.value_len = sizeof(value);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), 0);
	assert_ptr_equal(v, dst);
	assert_memory_equal(v, value, sizeof(value));
	/* Through a record encoded and decoded, LZ4-HC's number too. */
	r.codec = 2;
	n = archive_record_encode(buf, sizeof(buf), &r, &check);
	assert_true(n > 0);
	ref.bytes = (uint32_t)n;
	ref.check = check;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r.key, r.key_len, &out), 0);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(archive_record_value(&out, NULL, dst, sizeof(dst), &v), 0);
	assert_memory_equal(v, value, sizeof(value));
	r.codec = 1;

	/* Truncated compressed bytes. */
	r.stored_len = (uint32_t)clen - 5;
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), -EBADMSG);
	r.stored_len = (uint32_t)clen;
	/* value_len other than what the bytes give. */
	r.value_len = sizeof(value) - 1;
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), -EBADMSG);
	r.value_len = sizeof(value) + 1;
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), -EBADMSG);
	/* value_len over the cap given. */
	r.value_len = sizeof(value);
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(value) - 1, &v), -EBADMSG);
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(value), &v), 0);
	/* Bytes that are not LZ4 at all. */
	memset(comp, 0xFF, 64);
	r.stored_len = 64;
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), -EBADMSG);
	/* A value over ARCHIVE_VALUE_MAX is not a record: encode refuses it. */
	r = record("big", comp, 64, 1, 3);
	r.value_len = ARCHIVE_VALUE_MAX + 1;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	/* Codecs: 3 (no tier), raw with the dictionary bit, over the last. */
	r.value_len = 100;
	r.codec = 3;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r.codec = VALUE_CODEC_DICT;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
	r.codec = VALUE_CODEC_MAX + 1;
	assert_int_equal(archive_record_encode(buf, sizeof(buf), &r, &check), -EINVAL);
}

/* A record compressed against the worker's dictionary: decoded with it
 * (through the file's published dictionary too), refused without it. */
static void test_record_value_dict(void **state)
{
	static uint8_t value[1500], comp[4000], dst[ARCHIVE_VALUE_MAX], dict_bytes[4096];
	static uint8_t buf[8192];
	struct value_dict dict = {.bytes = dict_bytes, .len = sizeof(dict_bytes)};
	struct archive_record r, out;
	struct archive_ref ref = {.offset = 0};
	const uint8_t *v = NULL;
	LZ4_stream_t *st = LZ4_createStream();
	uint32_t check;
	int clen, n;

	(void)state;
	for (uint32_t i = 0; i < sizeof(dict_bytes); i++)
		dict_bytes[i] = (uint8_t)("the quick brown fox jumps over "[i % 31] ^ (i / 997));
	memcpy(value, dict_bytes + 1000, sizeof(value)); /* all of it in the dictionary */
	LZ4_loadDict(st, (const char *)dict_bytes, sizeof(dict_bytes));
	clen = LZ4_compress_fast_continue(st, (const char *)value, (char *)comp, sizeof(value),
					  (int)sizeof(comp), 1);
	LZ4_freeStream(st);
	assert_true(clen > 0 && clen < 64);
	r = record("dict", comp, (uint32_t)clen, VALUE_CODEC_LZ4 | VALUE_CODEC_DICT, 5);
	r.value_len = sizeof(value);
	assert_int_equal(archive_record_value(&r, NULL, dst, sizeof(dst), &v), -EBADMSG);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(archive_record_value(&r, &dict, dst, sizeof(dst), &v), 0);
	assert_memory_equal(v, value, sizeof(value));
	/* Encoded and decoded, the codec survives. */
	n = archive_record_encode(buf, sizeof(buf), &r, &check);
	assert_true(n > 0);
	ref.bytes = (uint32_t)n;
	ref.check = check;
	assert_int_equal(archive_record_decode(buf, (uint32_t)n, &ref, r.key, r.key_len, &out), 0);
	assert_int_equal(out.codec, VALUE_CODEC_LZ4 | VALUE_CODEC_DICT);
	memset(dst, 0, sizeof(dst));
	assert_int_equal(archive_record_value(&out, &dict, dst, sizeof(dst), &v), 0);
	assert_memory_equal(v, value, sizeof(value));
	/* A file publishes its worker's dictionary: none, then that one. */
	{
		struct archive_file f = {.fd = -1};

		assert_null(archive_file_dict(&f));
		archive_file_set_dict(&f, &dict);
		assert_ptr_equal(archive_file_dict(&f), &dict);
	}
	/* LZ4-HC against a dictionary uses only its last VALUE_DICT_HC_BYTES:
	 * a window of this small one is the whole. */
	{
		struct value_dict w = value_dict_window(&dict, VALUE_CODEC_LZ4HC | VALUE_CODEC_DICT);
		struct value_dict big = {.bytes = dst, .len = VALUE_DICT_HC_BYTES * 3};

		assert_ptr_equal(w.bytes, dict.bytes);
		assert_int_equal(w.len, dict.len);
		w = value_dict_window(&big, VALUE_CODEC_LZ4HC | VALUE_CODEC_DICT);
		assert_ptr_equal(w.bytes, dst + VALUE_DICT_HC_BYTES * 2);
		assert_int_equal(w.len, VALUE_DICT_HC_BYTES);
		w = value_dict_window(&big, VALUE_CODEC_LZ4 | VALUE_CODEC_DICT);
		assert_int_equal(w.len, big.len);
		w = value_dict_window(&big, VALUE_CODEC_LZ4);
		assert_int_equal(w.len, 0);
	}
}

static void test_file_read_value(void **state)
{
	struct disk_fake *f = fake_with_data();
	static uint8_t value[3000], comp[4000], batch_mem[16384];
	static uint8_t record_buf[ARCHIVE_RECORD_BYTES_MAX], value_buf[ARCHIVE_VALUE_MAX];
	struct archive_file af;
	struct archive_batch b;
	struct archive_record r;
	struct archive_ref refs[2];
	uint32_t off[2];
	const uint8_t *v;
	uint32_t vlen;
	uint64_t at;
	int clen;

	(void)state;
	for (uint32_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)((i % 7) * 3 + (i / 1000));
	clen = LZ4_compress_default((const char *)value, (char *)comp, sizeof(value),
				    (int)sizeof(comp));
	assert_true(clen > 0);
	assert_int_equal(archive_file_create(&af, disk_fake_disk(f), DATA, 2, 0), 0);
	/* Something before, so that offsets are not 0. */
	assert_int_equal(archive_file_append(&af, batch_mem, 64, &at), 0);
	archive_batch_init(&b, batch_mem, sizeof(batch_mem));
	r = record("raw-key", value, sizeof(value), 0, 11);
	assert_int_equal(archive_batch_add(&b, &r, &off[0], &refs[0].check), 0);
	refs[0].bytes = archive_record_bytes(r.key_len, r.stored_len);
	r = record("lz4-key", comp, (uint32_t)clen, 1, 12);
	r.value_len = sizeof(value);
	assert_int_equal(archive_batch_add(&b, &r, &off[1], &refs[1].check), 0);
	refs[1].bytes = archive_record_bytes(r.key_len, r.stored_len);
	assert_int_equal(archive_file_append(&af, b.buf, b.used, &at), 0);
	assert_int_equal(at, 64);
	refs[0].offset = at + off[0];
	refs[1].offset = at + off[1];

	vlen = 0;
	assert_int_equal(archive_file_read_value(&af, &refs[0], (const uint8_t *)"raw-key", 7,
						 record_buf, value_buf, &v, &vlen),
			 0);
	assert_int_equal(vlen, sizeof(value));
	assert_memory_equal(v, value, sizeof(value));
	vlen = 0;
	assert_int_equal(archive_file_read_value(&af, &refs[1], (const uint8_t *)"lz4-key", 7,
						 record_buf, value_buf, &v, &vlen),
			 0);
	assert_int_equal(vlen, sizeof(value));
	assert_ptr_equal(v, value_buf);
	assert_memory_equal(v, value, sizeof(value));
	/* Another key: stale. */
	assert_int_equal(archive_file_read_value(&af, &refs[0], (const uint8_t *)"lz4-key", 7,
						 record_buf, value_buf, &v, &vlen),
			 -ESTALE);
	assert_int_equal(archive_file_read_value(&af, &refs[1], (const uint8_t *)"raw-ke", 6,
						 record_buf, value_buf, &v, &vlen),
			 -ESTALE);
	/* A reference to the wrong place, or a wrong check. */
	{
		struct archive_ref bad = refs[1];

		bad.offset = refs[0].offset;
		assert_int_equal(archive_file_read_value(&af, &bad, (const uint8_t *)"lz4-key", 7,
							 record_buf, value_buf, &v, &vlen),
				 -EBADMSG);
		bad = refs[1];
		bad.check ^= 1;
		assert_int_equal(archive_file_read_value(&af, &bad, (const uint8_t *)"lz4-key", 7,
							 record_buf, value_buf, &v, &vlen),
				 -EBADMSG);
		bad = refs[1];
		bad.offset = af.end; /* nothing there */
		assert_int_equal(archive_file_read_value(&af, &bad, (const uint8_t *)"lz4-key", 7,
							 record_buf, value_buf, &v, &vlen),
				 -EBADMSG);
		bad.bytes = ARCHIVE_RECORD_BYTES_MAX + 8;
		assert_int_equal(archive_file_read_value(&af, &bad, (const uint8_t *)"lz4-key", 7,
							 record_buf, value_buf, &v, &vlen),
				 -EBADMSG);
	}
	/* The disk's error. */
	disk_fake_fail(f, DISK_OP_PREAD, 1, -EIO, 1);
	assert_int_equal(archive_file_read_value(&af, &refs[0], (const uint8_t *)"raw-key", 7,
						 record_buf, value_buf, &v, &vlen),
			 -EIO);
	archive_file_close(&af);
	disk_fake_destroy(f);
}

/* ---- the ports and one pass of the thread, over the fake disk --------- */

#define WORKERS 2

struct io_fixture {
	struct disk_fake *f;
	struct archive_io *io;
};

static void io_open(struct io_fixture *x, uint64_t limit)
{
	struct archive_io_config cfg = {
		.data_dir = DATA,
		.workers = WORKERS,
		.file_limit_bytes = limit,
	};
	char err[512];

	x->f = fake_with_data();
	cfg.disk = disk_fake_disk(x->f);
	if (archive_io_create(&x->io, &cfg, err, sizeof(err)) != 0)
		fail_msg("archive_io_create: %s", err);
}

static void io_close(struct io_fixture *x)
{
	archive_io_destroy(x->io);
	disk_fake_destroy(x->f);
}

/* The test's own items: key "w<k>-<i>", stored bytes of length len(i). */
static uint32_t item_len(uint32_t i)
{
	return (i * 997u) % 3000u;
}

static void item_key(char *key, size_t n, uint16_t k, uint32_t i)
{
	snprintf(key, n, "w%u-%u", (unsigned)k, i);
}

/* Fills a buffer with items [first, first + count) as a worker would;
 * refs get their offsets in the batch and checks. */
static struct archive_batch fill_batch(struct archive_port *p, int buffer, uint16_t k,
				       uint32_t first, uint32_t count, struct archive_ref *refs)
{
	static uint8_t stored[3000];
	struct archive_batch b;

	archive_batch_init(&b, archive_port_write_buffer(p, buffer), ARCHIVE_WRITE_BUFFER_BYTES);
	for (uint32_t i = first; i < first + count; i++) {
		struct archive_record r;
		uint32_t off;
		char key[32];

		item_key(key, sizeof(key), k, i);
		fill(stored, item_len(i), i);
		r = record(key, stored, item_len(i), (uint8_t)(i % 3), i + 1);
		assert_int_equal(archive_batch_add(&b, &r, &off, &refs[i].check), 0);
		refs[i].offset = off;
		refs[i].bytes = archive_record_bytes(r.key_len, r.stored_len);
	}
	return b;
}

/* Checks a record read back for item i of worker k. */
static void check_item(const uint8_t *buf, uint32_t len, const struct archive_ref *ref,
		       uint16_t k, uint32_t i)
{
	static uint8_t stored[3000];
	struct archive_record out;
	char key[32];

	item_key(key, sizeof(key), k, i);
	fill(stored, item_len(i), i);
	assert_int_equal(archive_record_decode(buf, len, ref, (const uint8_t *)key,
					       (uint8_t)strlen(key), &out),
			 0);
	assert_int_equal(out.lsn, i + 1);
	assert_int_equal(out.codec, i % 3);
	assert_int_equal(out.stored_len, item_len(i));
	assert_memory_equal(out.stored, stored, item_len(i));
}

/* One answer, after one pass of the thread. */
static struct ctl_msg step_and_poll(struct io_fixture *x, struct archive_port *p)
{
	struct ctl_msg m;

	assert_int_equal(archive_io_step(x->io), 1);
	assert_int_equal(archive_port_poll(p, &m, 1), 1);
	return m;
}

static void test_io_write_and_read_back(void **state)
{
	struct io_fixture x;
	struct archive_port *p;
	struct archive_ref refs[60];
	struct archive_io_stats st;
	uint64_t base[2], total = 0;
	struct ctl_msg m;

	(void)state;
	io_open(&x, 0);
	p = archive_io_port(x.io, 1);
	assert_non_null(p);
	assert_null(archive_io_port(x.io, WORKERS));
	assert_int_equal(p->worker, 1);
	/* Two batches from worker 1: the second lands after the first. */
	for (int n = 0; n < 2; n++) {
		int buf = archive_port_take_write_buffer(p);
		struct archive_batch b;

		assert_true(buf >= 0);
		b = fill_batch(p, buf, 1, (uint32_t)n * 30, 30, refs);
		assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, total), 0);
		m = step_and_poll(&x, p);
		assert_int_equal(m.type, ARCHIVE_MSG_WRITTEN);
		assert_int_equal(m.i32, 0);
		assert_int_equal(m.a, total);
		assert_int_equal(m.b, (uint64_t)buf);
		assert_int_equal(m.c, 30);
		base[n] = m.a;
		total += b.used;
		archive_port_give_back_write_buffer(p, buf);
	}
	for (uint32_t i = 0; i < 60; i++)
		refs[i].offset += base[i / 30];
	assert_int_equal(archive_io_file(x.io, 1)->end, total);
	assert_int_equal(archive_io_file(x.io, 0)->end, 0);
	assert_int_equal(archive_io_step(x.io), 0);
	/* Each record back by its reference, a ticket each. */
	for (uint32_t i = 0; i < 60; i++) {
		int slot = archive_port_take_read_slot(p);

		assert_true(slot >= 0);
		assert_int_equal(archive_port_post_read(p, slot, &refs[i], 1000 + i), 0);
		m = step_and_poll(&x, p);
		assert_int_equal(m.type, ARCHIVE_MSG_READ_DONE);
		assert_int_equal(m.i32, (int32_t)refs[i].bytes);
		assert_int_equal(m.b, (uint64_t)slot);
		assert_int_equal(m.c, 1000 + i);
		check_item(archive_port_read_slot(p, slot), (uint32_t)m.i32, &refs[i], 1, i);
		archive_port_give_back_read_slot(p, slot);
	}
	/* Many reads in flight at once, answered in order. */
	for (uint32_t i = 0; i < ARCHIVE_PORT_READ_SLOTS; i++) {
		int slot = archive_port_take_read_slot(p);

		assert_int_equal(slot, (int)i);
		assert_int_equal(archive_port_post_read(p, slot, &refs[i], i), 0);
	}
	assert_int_equal(archive_io_step(x.io), ARCHIVE_PORT_READ_SLOTS);
	for (uint32_t i = 0; i < ARCHIVE_PORT_READ_SLOTS; i++) {
		assert_int_equal(archive_port_poll(p, &m, 1), 1);
		assert_int_equal(m.c, i);
		check_item(archive_port_read_slot(p, (int)m.b), (uint32_t)m.i32, &refs[i], 1, i);
		archive_port_give_back_read_slot(p, (int)m.b);
	}
	archive_io_stats_get(x.io, &st);
	assert_int_equal(st.writes, 2);
	assert_int_equal(st.write_bytes, total);
	assert_int_equal(st.reads, 60 + ARCHIVE_PORT_READ_SLOTS);
	assert_int_equal(st.write_errors + st.read_errors + st.full, 0);
	io_close(&x);
}

static void test_io_slots_and_buffers_run_out(void **state)
{
	struct io_fixture x;
	struct archive_port *p;
	struct archive_ref big = {.offset = 0, .bytes = ARCHIVE_READ_SLOT_BYTES + 8};
	int slots[ARCHIVE_PORT_READ_SLOTS];

	(void)state;
	io_open(&x, 0);
	p = archive_io_port(x.io, 0);
	for (int i = 0; i < ARCHIVE_PORT_READ_SLOTS; i++) {
		slots[i] = archive_port_take_read_slot(p);
		assert_int_equal(slots[i], i);
	}
	assert_int_equal(archive_port_take_read_slot(p), -1);
	archive_port_give_back_read_slot(p, slots[17]);
	assert_int_equal(archive_port_take_read_slot(p), 17);
	assert_int_equal(archive_port_take_read_slot(p), -1);
	assert_int_equal(archive_port_post_read(p, 0, &big, 1), -EINVAL);
	assert_int_equal(archive_port_post_read(p, ARCHIVE_PORT_READ_SLOTS, &big, 1), -EINVAL);

	assert_int_equal(archive_port_take_write_buffer(p), 0);
	assert_int_equal(archive_port_take_write_buffer(p), 1);
	assert_int_equal(archive_port_take_write_buffer(p), -1);
	assert_int_equal(archive_port_post_write(p, 0, ARCHIVE_WRITE_BUFFER_BYTES + 1, 1, 0), -EINVAL);
	assert_int_equal(archive_port_post_write(p, 2, 8, 1, 0), -EINVAL);
	archive_port_give_back_write_buffer(p, 1);
	assert_int_equal(archive_port_take_write_buffer(p), 1);
	/* Nothing was posted. */
	assert_int_equal(archive_io_step(x.io), 0);
	io_close(&x);
}

/* Fills worker k's answer ring with messages of the test's own. */
static void fill_answer_ring(struct archive_port *p)
{
	struct ctl_msg junk = {.type = 999};

	for (int i = 0; i < ARCHIVE_PORT_RING; i++)
		assert_int_equal(ctl_ring_post(&p->to_worker, &junk), 0);
	assert_int_equal(ctl_ring_post(&p->to_worker, &junk), -EAGAIN);
}

static void test_io_full_ring_answers_kept(void **state)
{
	struct io_fixture x;
	struct archive_port *p;
	struct archive_ref refs[4];
	struct ctl_msg m[ARCHIVE_PORT_RING];
	struct archive_batch b;
	int buf, slot;

	(void)state;
	io_open(&x, 0);
	p = archive_io_port(x.io, 0);
	buf = archive_port_take_write_buffer(p);
	b = fill_batch(p, buf, 0, 0, 4, refs);
	assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, 0), 0);
	slot = archive_port_take_read_slot(p);

	fill_answer_ring(p);
	assert_int_equal(archive_io_step(x.io), 1); /* written; the answer kept */
	/* Read what was written (its offset is 0: the file was empty), while
	 * the WRITTEN answer still waits. */
	assert_int_equal(archive_port_post_read(p, slot, &refs[2], 77), 0);
	assert_int_equal(archive_io_step(x.io), 1);
	assert_int_equal(archive_io_step(x.io), 0); /* the ring is still full */
	assert_int_equal(archive_port_poll(p, m, ARCHIVE_PORT_RING), ARCHIVE_PORT_RING);
	for (int i = 0; i < ARCHIVE_PORT_RING; i++)
		assert_int_equal(m[i].type, 999);
	assert_int_equal(archive_port_poll(p, m, 1), 0);
	/* The next pass posts both, in the order of the requests. */
	assert_int_equal(archive_io_step(x.io), 2);
	assert_int_equal(archive_port_poll(p, m, 4), 2);
	assert_int_equal(m[0].type, ARCHIVE_MSG_WRITTEN);
	assert_int_equal(m[0].i32, 0);
	assert_int_equal(m[0].a, 0);
	assert_int_equal(m[1].type, ARCHIVE_MSG_READ_DONE);
	assert_int_equal(m[1].c, 77);
	check_item(archive_port_read_slot(p, slot), (uint32_t)m[1].i32, &refs[2], 0, 2);
	io_close(&x);
}

/* More requests than kept answers fit: the thread leaves the rest in the
 * ring until the worker makes room. */
static void test_io_full_ring_many_requests(void **state)
{
	struct io_fixture x;
	struct archive_port *p;
	struct archive_ref ref = {.offset = 0, .bytes = 8};
	struct ctl_msg m[ARCHIVE_PORT_RING];
	unsigned answered = 0, posted = 0;

	(void)state;
	io_open(&x, 0);
	p = archive_io_port(x.io, 1);
	fill_answer_ring(p);
	/* A worker off the protocol: the same slot, many times. */
	while (archive_port_post_read(p, 0, &ref, posted) == 0)
		posted++;
	assert_int_equal(posted, ARCHIVE_PORT_RING);
	assert_int_equal(archive_io_step(x.io), ARCHIVE_PORT_REQUESTS_MAX);
	assert_int_equal(archive_io_step(x.io), 0);
	while (answered < posted) {
		unsigned n = archive_port_poll(p, m, ARCHIVE_PORT_RING);

		for (unsigned i = 0; i < n; i++) {
			if (m[i].type == 999)
				continue;
			assert_int_equal(m[i].type, ARCHIVE_MSG_READ_DONE);
			assert_int_equal(m[i].c, answered); /* in order */
			assert_int_equal(m[i].i32, 0);      /* the file is empty */
			answered++;
		}
		archive_io_step(x.io);
	}
	io_close(&x);
}

static void test_io_limit_and_fault(void **state)
{
	struct io_fixture x;
	struct archive_port *p;
	struct archive_ref refs[40];
	struct archive_io_stats st;
	struct archive_batch b;
	struct ctl_msg m;
	int buf;

	(void)state;
	io_open(&x, 8192);
	p = archive_io_port(x.io, 0);
	buf = archive_port_take_write_buffer(p);
	b = fill_batch(p, buf, 0, 0, 40, refs); /* more than 8 KiB */
	assert_true(b.used > 8192);
	assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, 0), 0);
	m = step_and_poll(&x, p);
	assert_int_equal(m.type, ARCHIVE_MSG_WRITTEN);
	assert_int_equal(m.i32, -ENOSPC);
	assert_int_equal(m.b, (uint64_t)buf);
	assert_int_equal(archive_io_file(x.io, 0)->end, 0);

	/* A failing pwrite: the error, and the end stays. */
	b = fill_batch(p, buf, 0, 0, 3, refs);
	disk_fake_fail(x.f, DISK_OP_PWRITE, 1, -EIO, 1);
	assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, 0), 0);
	m = step_and_poll(&x, p);
	assert_int_equal(m.i32, -EIO);
	assert_int_equal(archive_io_file(x.io, 0)->end, 0);
	assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, 0), 0);
	m = step_and_poll(&x, p);
	assert_int_equal(m.i32, 0);
	assert_int_equal(m.a, 0);
	archive_port_give_back_write_buffer(p, buf);

	/* A failing pread. */
	disk_fake_fail(x.f, DISK_OP_PREAD, 1, -EIO, 1);
	buf = archive_port_take_read_slot(p);
	assert_int_equal(archive_port_post_read(p, buf, &refs[1], 5), 0);
	m = step_and_poll(&x, p);
	assert_int_equal(m.type, ARCHIVE_MSG_READ_DONE);
	assert_int_equal(m.i32, -EIO);
	assert_int_equal(m.c, 5);
	assert_int_equal(archive_port_post_read(p, buf, &refs[1], 6), 0);
	m = step_and_poll(&x, p);
	check_item(archive_port_read_slot(p, buf), (uint32_t)m.i32, &refs[1], 0, 1);

	archive_io_stats_get(x.io, &st);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.write_errors, 2);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.read_errors, 1);
	io_close(&x);
}

static void test_io_create_fails(void **state)
{
	struct disk_fake *f = fake_with_data();
	struct archive_io_config cfg = {.disk = disk_fake_disk(f), .data_dir = DATA, .workers = 0};
	struct archive_io *io = (struct archive_io *)&cfg;
	char err[512];

	(void)state;
	assert_int_equal(archive_io_create(&io, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(io);
	cfg.workers = ARCHIVE_WORKERS_MAX + 1;
	assert_int_equal(archive_io_create(&io, &cfg, err, sizeof(err)), -EINVAL);
	/* The second worker's file cannot be opened. */
	cfg.workers = 3;
	disk_fake_fail(f, DISK_OP_OPEN, 2, -EMFILE, 1);
	assert_int_equal(archive_io_create(&io, &cfg, err, sizeof(err)), -EMFILE);
	assert_null(io);
	assert_non_null(strstr(err, "worker 1"));
	disk_fake_destroy(f);
}

/* ---- the thread, on a real temporary folder --------------------------- */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct ctl_msg wait_answer(struct archive_port *p)
{
	uint64_t until = we_monotonic_ns() + 10ull * 1000000000;
	struct timespec ms = {.tv_nsec = 1000000};
	struct ctl_msg m;

	while (archive_port_poll(p, &m, 1) == 0) {
		if (we_monotonic_ns() > until)
			fail_msg("no answer from the archive thread in 10 s");
		nanosleep(&ms, NULL);
	}
	return m;
}

static void test_io_thread_real_disk(void **state)
{
	char base[64], path[128];
	struct disk d;
	struct archive_io_config cfg = {.data_dir = base, .workers = WORKERS, .idle_poll_us = 50};
	struct archive_io *io;
	struct archive_ref refs[WORKERS][50];
	struct archive_io_stats st;
	struct stat sb;
	uint8_t head[ARCHIVE_RECORD_BYTES_MAX];
	uint64_t recovered = 0;
	char err[512];
	FILE *old;

	(void)state;
	snprintf(base, sizeof(base), "/tmp/we-test-archive-XXXXXX");
	assert_non_null(mkdtemp(base));
	disk_posix_init(&d);
	cfg.disk = &d;
	/* A previous run's file: made empty. */
	snprintf(path, sizeof(path), "%s/singularity", base);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/singularity/worker-00.arc", base);
	old = fopen(path, "w");
	assert_non_null(old);
	assert_int_equal(fwrite(base, 1, 20, old), 20);
	fclose(old);
	if (archive_io_create(&io, &cfg, err, sizeof(err)) != 0)
		fail_msg("archive_io_create: %s", err);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);

	/* Recovery appends to worker 0's file before the thread starts. */
	{
		struct archive_record r = record("recovered", head, 100, 0, 1);
		uint32_t check;
		int n;

		fill(head + 512, 100, 9);
		r.stored = head + 512;
		n = archive_record_encode(head, 512, &r, &check);
		assert_true(n > 0);
		assert_int_equal(archive_file_append(archive_io_file(io, 0), head, (uint32_t)n,
						     &recovered),
				 0);
		recovered = (uint64_t)n;
	}
	assert_int_equal(archive_io_start(io), 0);
	for (uint16_t k = 0; k < WORKERS; k++) {
		struct archive_port *p = archive_io_port(io, k);
		int buf = archive_port_take_write_buffer(p);
		struct archive_batch b = fill_batch(p, buf, k, 0, 50, refs[k]);
		struct ctl_msg m;

		assert_int_equal(archive_port_post_write(p, buf, b.used, b.records, k == 0 ? recovered : 0), 0);
		m = wait_answer(p);
		assert_int_equal(m.type, ARCHIVE_MSG_WRITTEN);
		assert_int_equal(m.i32, 0);
		assert_int_equal(m.a, k == 0 ? recovered : 0);
		for (int i = 0; i < 50; i++)
			refs[k][i].offset += m.a;
		archive_port_give_back_write_buffer(p, buf);
	}
	/* Both workers' reads in flight together. */
	for (uint32_t i = 0; i < 50; i += 10) {
		for (uint16_t k = 0; k < WORKERS; k++)
			for (uint32_t j = i; j < i + 10; j++) {
				struct archive_port *p = archive_io_port(io, k);
				int slot = archive_port_take_read_slot(p);

				assert_true(slot >= 0);
				assert_int_equal(archive_port_post_read(p, slot, &refs[k][j], j), 0);
			}
		for (uint16_t k = 0; k < WORKERS; k++)
			for (uint32_t j = i; j < i + 10; j++) {
				struct archive_port *p = archive_io_port(io, k);
				struct ctl_msg m = wait_answer(p);

				assert_int_equal(m.type, ARCHIVE_MSG_READ_DONE);
				assert_int_equal(m.c, j);
				check_item(archive_port_read_slot(p, (int)m.b), (uint32_t)m.i32,
					   &refs[k][j], k, j);
				archive_port_give_back_read_slot(p, (int)m.b);
			}
	}
	archive_io_stop(io);
	archive_io_stats_get(io, &st);
	assert_int_equal(st.writes, WORKERS);
	assert_int_equal(st.reads, WORKERS * 50);
	assert_int_equal(st.write_errors + st.read_errors, 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, archive_io_file(io, 0)->end);
	archive_io_destroy(io);
	assert_int_equal(nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trips),
		cmocka_unit_test(test_record_encode_rejects),
		cmocka_unit_test(test_record_decode_failures),
		cmocka_unit_test(test_batch_full),
		cmocka_unit_test(test_file_create_truncates),
		cmocka_unit_test(test_file_append_read),
		cmocka_unit_test(test_file_limit),
		cmocka_unit_test(test_file_write_fault),
		cmocka_unit_test(test_batch_next_walks),
		cmocka_unit_test(test_record_value),
		cmocka_unit_test(test_record_value_dict),
		cmocka_unit_test(test_file_read_value),
		cmocka_unit_test(test_io_write_and_read_back),
		cmocka_unit_test(test_io_slots_and_buffers_run_out),
		cmocka_unit_test(test_io_full_ring_answers_kept),
		cmocka_unit_test(test_io_full_ring_many_requests),
		cmocka_unit_test(test_io_limit_and_fault),
		cmocka_unit_test(test_io_create_fails),
		cmocka_unit_test(test_io_thread_real_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
