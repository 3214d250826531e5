/* archive_stubs.c - picks into records, written records into stubs (see
 * archive_stubs.h). */
#include "archive_stubs.h"

#include "arena.h"
#include "we_assert.h"

/* Every item's stored bytes fit a record: any item can be archived. */
_Static_assert(ARCHIVE_STORED_MAX >= ARENA_VALUE_MAX && ARCHIVE_VALUE_MAX >= ARENA_VALUE_MAX,
	       "an archive record holds any item");

unsigned archive_stubs_fill(struct archive_batch *b, const struct shard_archive_pick *picks,
			    unsigned n, uint64_t lsn)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct archive_record r = {
			.lsn = lsn,
			.value_len = picks[i].value_len,
			.stored_len = picks[i].stored_len,
			.key_len = picks[i].key_len,
			.codec = picks[i].codec,
			.key = picks[i].key,
			.stored = picks[i].stored,
		};
		uint32_t off, check;

		if (archive_batch_add(b, &r, &off, &check) != 0)
			break;
	}
	return i;
}

uint64_t archive_stubs_commit(struct shard *s, const struct archive_batch *b, uint64_t records,
			      uint64_t base, uint64_t *stale)
{
	uint64_t made = 0;
	uint32_t pos = 0;

	for (uint64_t i = 0; i < records; i++) {
		struct archive_record r;
		struct archive_ref ref;
		struct shard_archive_ref sref;

		/* b holds what this process encoded: a record that does not
		 * decode is a bug, not damage. */
		WE_ASSERT(archive_batch_next(b, &pos, &ref, &r) == 0);
		sref.offset = base + ref.offset;
		sref.bytes = ref.bytes;
		sref.check = ref.check;
		if (shard_archive_commit(s, shard_hash(s, r.key, r.key_len), r.key, r.key_len,
					 r.codec, r.stored, r.stored_len, &sref))
			made++;
	}
	if (stale != NULL)
		*stale = records - made;
	return made;
}
