/* archive_cleaner.c - copy a mostly dead segment's live records elsewhere
 * (see archive_cleaner.h). */
#include "archive_cleaner.h"

#include <string.h>

#include "arena.h"
#include "we_assert.h"

void archive_cleaner_init(struct archive_cleaner *c)
{
	memset(c, 0, sizeof(*c));
	c->victim = ARCHIVE_SPACE_NONE;
	c->buf = -1;
	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS; i++)
		c->reads[i].slot = -1;
}

static struct archive_ref to_archive_ref(const struct shard_archive_ref *r)
{
	return (struct archive_ref){.offset = r->offset, .bytes = r->bytes, .check = r->check};
}

/* The stubs of the next chains whose records lie in the victim. */
static void find_stubs(struct archive_cleaner *c, struct shard *s, const struct archive_space *sp)
{
	struct shard_scan_item items[SHARD_SCAN_ITEMS_MIN * 2];
	int n = shard_scan_step(s, &c->cursor, items, SHARD_SCAN_ITEMS_MIN * 2,
				ARCHIVE_CLEANER_STEP_CHAINS);

	_Static_assert(ARCHIVE_CLEANER_TODO >= SHARD_SCAN_ITEMS_MIN * 2, "a step's stubs fit");
	for (int i = 0; i < n; i++) {
		struct archive_cleaner_item *t;
		struct shard_archive_ref ref;

		if (!shard_scan_archive_ref(&items[i], &ref) ||
		    archive_space_segment_of(sp, ref.offset) != c->victim)
			continue;
		t = &c->todo[(c->todo_head + c->todo_count) % ARCHIVE_CLEANER_TODO];
		t->ref = ref;
		t->key_len = items[i].key_len;
		memcpy(t->key, items[i].key, items[i].key_len);
		t->hash = shard_hash(s, t->key, t->key_len);
		c->todo_count++;
	}
	if (n < 0 || shard_scan_done(s, &c->cursor))
		c->scanned = true;
}

static void post_reads(struct archive_cleaner *c, struct archive_port *p)
{
	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS && c->todo_count != 0; i++) {
		struct archive_cleaner_item *t = &c->todo[c->todo_head];
		struct archive_ref ref = to_archive_ref(&t->ref);
		int slot;

		if (c->reads[i].slot >= 0)
			continue;
		slot = archive_port_take_read_slot(p);
		if (slot < 0)
			return;
		if (archive_port_post_read(p, slot, &ref, ARCHIVE_CLEANER_TICKET | i) != 0) {
			archive_port_give_back_read_slot(p, slot);
			return;
		}
		c->reads[i].slot = (int8_t)slot;
		c->reads[i].back = false;
		c->reads[i].it = *t;
		c->todo_head = (c->todo_head + 1) % ARCHIVE_CLEANER_TODO;
		c->todo_count--;
	}
}

/* Records read back go into the batch (a buffer of the port's, taken when
 * the first one comes), while it has room and is not in flight. */
static void collect(struct archive_cleaner *c, struct archive_port *p)
{
	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS; i++) {
		struct archive_record r;
		struct archive_ref ref;
		const uint8_t *bytes;

		if (c->reads[i].slot < 0 || !c->reads[i].back)
			continue;
		if (c->posted || c->batch.records == ARCHIVE_CLEANER_BATCH_RECORDS ||
		    c->batch.used >= ARCHIVE_CLEANER_FLUSH_BYTES)
			return;
		if (c->buf < 0) {
			c->buf = archive_port_take_write_buffer(p);
			if (c->buf < 0)
				return;
			archive_batch_init(&c->batch, archive_port_write_buffer(p, c->buf),
					   ARCHIVE_WRITE_BUFFER_BYTES);
		}
		ref = to_archive_ref(&c->reads[i].it.ref);
		bytes = archive_port_read_slot(p, c->reads[i].slot);
		if (c->reads[i].result >= 0 &&
		    archive_record_decode(bytes, (uint32_t)c->reads[i].result, &ref,
					  c->reads[i].it.key, c->reads[i].it.key_len, &r) == 0 &&
		    ref.bytes <= c->batch.cap - c->batch.used) {
			/* A record holds no offset: its bytes check at any place. */
			memcpy(c->batch.buf + c->batch.used, bytes, ref.bytes);
			c->old_refs[c->batch.records] = c->reads[i].it.ref;
			c->hashes[c->batch.records] = c->reads[i].it.hash;
			c->batch.used += ref.bytes;
			c->batch.records++;
			c->st.copied++;
		} else {
			c->st.failed++; /* a stub that died and a segment used again, or damage */
		}
		archive_port_give_back_read_slot(p, c->reads[i].slot);
		c->reads[i].slot = -1;
	}
}

static unsigned reads_out(const struct archive_cleaner *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS; i++)
		n += c->reads[i].slot >= 0;
	return n;
}

/* Give the victim up: what is queued is dropped; reads still out are given
 * back when they come (on_read: not ours any more). */
static void abandon(struct archive_cleaner *c, struct archive_port *p)
{
	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS; i++)
		if (c->reads[i].slot >= 0 && c->reads[i].back) {
			archive_port_give_back_read_slot(p, c->reads[i].slot);
			c->reads[i].slot = -1;
		}
	if (c->buf >= 0 && !c->posted) {
		archive_port_give_back_write_buffer(p, c->buf);
		c->buf = -1;
	}
	c->todo_count = 0;
	c->victim = ARCHIVE_SPACE_NONE;
}

/* The batch to the open segment (another one when it does not fit). */
static void flush(struct archive_cleaner *c, struct archive_space *sp, struct archive_port *p)
{
	uint32_t room = archive_space_room(sp, 0);
	uint64_t offset;

	if (room < c->batch.used) {
		archive_space_close_open(sp);
		room = archive_space_room(sp, 0);
	}
	if (room < c->batch.used) {
		c->st.failed += c->batch.records;
		abandon(c, p); /* no segment free: nowhere to copy to */
		return;
	}
	offset = archive_space_take(sp, c->batch.used);
	if (archive_port_post_write(p, c->buf, c->batch.used, c->batch.records, offset) != 0) {
		archive_space_batch_done(sp, offset); /* the ring is full: those bytes stay unused */
		return;
	}
	c->posted = true;
}

void archive_cleaner_step(struct archive_cleaner *c, struct shard *s, struct archive_space *sp,
			  struct archive_port *p)
{
	bool last;

	if (c->victim == ARCHIVE_SPACE_NONE) {
		uint32_t v;

		if (sp->segments < ARCHIVE_SPACE_CLEAN_MIN ||
		    archive_space_free_segments(sp) > ARCHIVE_SPACE_KEEP || c->buf >= 0)
			return;
		v = archive_space_victim(sp, ARCHIVE_CLEANER_MAX_LIVE_PCT);
		if (v == ARCHIVE_SPACE_NONE)
			return;
		c->victim = v;
		sp->seg[v].cleaning = 1; /* until it is freed */
		c->cursor = (struct shard_scan){0};
		c->scanned = false;
		c->todo_head = c->todo_count = 0;
		c->st.victims++;
	}
	collect(c, p);
	post_reads(c, p);
	if (!c->scanned && c->todo_count == 0)
		find_stubs(c, s, sp);
	last = c->scanned && c->todo_count == 0 && reads_out(c) == 0;
	if (c->buf >= 0 && !c->posted && c->batch.records != 0 &&
	    (last || c->batch.used >= ARCHIVE_CLEANER_FLUSH_BYTES ||
	     c->batch.records == ARCHIVE_CLEANER_BATCH_RECORDS))
		flush(c, sp, p);
	if (c->victim != ARCHIVE_SPACE_NONE && last && c->buf < 0)
		c->victim = ARCHIVE_SPACE_NONE; /* every stub found moved (or changed) */
}

void archive_cleaner_on_read(struct archive_cleaner *c, struct archive_port *p, int slot,
			     int32_t result, uint64_t ticket)
{
	uint64_t i = ticket & ~ARCHIVE_CLEANER_TICKET;

	if (i >= ARCHIVE_CLEANER_READS || c->reads[i].slot != slot ||
	    c->victim == ARCHIVE_SPACE_NONE) {
		archive_port_give_back_read_slot(p, slot);
		if (i < ARCHIVE_CLEANER_READS && c->reads[i].slot == slot)
			c->reads[i].slot = -1;
		return;
	}
	c->reads[i].back = true;
	c->reads[i].result = result;
}

bool archive_cleaner_on_written(struct archive_cleaner *c, struct shard *s,
				struct archive_space *sp, struct archive_port *p,
				const struct ctl_msg *m)
{
	uint32_t pos = 0;

	if (!c->posted || (int)m->b != c->buf)
		return false;
	for (uint64_t i = 0; i < m->c && m->i32 == 0; i++) {
		struct archive_record r;
		struct archive_ref ref;
		struct shard_archive_ref new_ref;

		WE_ASSERT(archive_batch_next(&c->batch, &pos, &ref, &r) == 0);
		new_ref = (struct shard_archive_ref){
			.offset = m->a + ref.offset, .bytes = ref.bytes, .check = ref.check};
		if (shard_archive_repoint(s, c->hashes[i], r.key, r.key_len, &c->old_refs[i],
					  &new_ref))
			c->st.repointed++;
		else
			c->st.stale++;
	}
	if (m->i32 != 0)
		c->st.failed += m->c;
	archive_space_batch_done(sp, m->a);
	archive_port_give_back_write_buffer(p, c->buf);
	c->buf = -1;
	c->posted = false;
	c->batch = (struct archive_batch){0};
	return true;
}

unsigned archive_cleaner_busy(const struct archive_cleaner *c, uint64_t *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ARCHIVE_CLEANER_READS; i++)
		if (c->reads[i].slot >= 0)
			out[n++] = c->reads[i].it.ref.offset;
	return n;
}
