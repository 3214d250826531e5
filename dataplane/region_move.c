/* region_move.c - export, import and purge of one region, a step at a time
 * (see region_move.h). */
#include "region_move.h"

#include <errno.h>
#include <string.h>

#include "arena.h"
#include "keyhash.h"
#include "wal_ring.h"
#include "we_assert.h"

void move_worker_init(struct move_worker *mw)
{
	memset(mw, 0, sizeof(*mw));
	mw->out_cur = -1;
	mw->in_read_slot = -1;
}

/* ---- messages out ------------------------------------------------------ */

static void move_post(struct move_worker *mw, struct ctl_ring *to, uint32_t type,
		      struct move_channel *ch, uint64_t b, int32_t i32)
{
	struct ctl_msg m = {.type = type, .i32 = i32, .a = (uint64_t)(uintptr_t)ch, .b = b};

	/* Keep the order: nothing overtakes what waits in the outbox. */
	if (mw->n_outbox == 0 && ctl_ring_post(to, &m) == 0)
		return;
	WE_ASSERT(mw->n_outbox < MOVE_OUTBOX); /* at most MOVE_CHUNKS + 1 in flight */
	mw->outbox[mw->n_outbox++] = (struct move_outbox_msg){.to = to, .m = m};
}

static void move_flush_outbox(struct move_worker *mw)
{
	unsigned sent = 0;

	while (sent < mw->n_outbox && ctl_ring_post(mw->outbox[sent].to, &mw->outbox[sent].m) == 0)
		sent++;
	if (sent == 0)
		return;
	memmove(mw->outbox, mw->outbox + sent, (mw->n_outbox - sent) * sizeof(mw->outbox[0]));
	mw->n_outbox -= sent;
}

/* ---- export ------------------------------------------------------------ */

static void export_begin(struct move_worker *mw, const struct move_env *env,
			 struct move_channel *ch)
{
	WE_ASSERT(mw->out == NULL && ch->from == env->self);
	mw->out = ch;
	mw->out_scan = (struct shard_scan){0};
	mw->out_free = (uint8_t)((1u << MOVE_CHUNKS) - 1);
	mw->out_cur = -1;
	mw->out_len = 0;
	mw->out_scanned = false;
	mw->out_error = 0;
	/* From this store on, nobody sends R's requests here (and this
	 * worker forwards what still comes): B holds them. */
	region_map_set_entry(env->map, ch->region, (uint16_t)(ch->to | REGION_MAP_IMPORTING));
}

static void export_send_chunk(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->out;

	ch->chunk_len[mw->out_cur] = mw->out_len;
	move_post(mw, env->rings[ch->to], CTL_MSG_MOVE_CHUNK, ch, (uint64_t)mw->out_cur, 0);
	mw->out_cur = -1;
	mw->out_len = 0;
}

/* Copy the region's items of one scan step into the current chunk. */
static int export_scan_step(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->out;
	uint8_t *chunk = ch->chunk[mw->out_cur];
	int n = shard_scan_step(env->shard, &mw->out_scan, mw->items, MOVE_SCAN_ITEMS,
				MOVE_SCAN_CHAINS);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const struct shard_scan_item *it = &mw->items[i];
		const uint8_t *value;
		struct wal_record rec;
		int64_t bytes;

		if (keyhash_region(keyhash(it->key, it->key_len)) != ch->region)
			continue;
		/* The value as sent (a compressed item decompressed into the
		 * shard's scratch, copied before the next one); an archived
		 * item as its reference: its value is on disk, which a worker
		 * does not read, so the new owner has it read for it. */
		if (it->tier == TIER_SINGULARITY) {
			value = it->value;
		} else {
			value = shard_scan_value(env->shard, it);
			if (value == NULL)
				return -EBADMSG;
		}
		rec = (struct wal_record){.type = it->tier == TIER_SINGULARITY ? WAL_REC_ARCHIVED
									: WAL_REC_PUT,
					  .worker = ch->from, .region = (uint16_t)ch->region,
					  .epoch = ch->epoch, .lsn = *env->lsn, .key = it->key,
					  .key_len = it->key_len, .value = value,
					  .value_len = it->tier == TIER_SINGULARITY
							       ? WAL_ARCHIVED_REF_BYTES
							       : it->value_len};
		bytes = wal_record_encode(chunk + mw->out_len, MOVE_CHUNK_BYTES - mw->out_len, &rec);
		if (bytes < 0)
			return (int)bytes;
		mw->out_len += (uint32_t)bytes;
		atomic_store_explicit(&ch->exported, atomic_load(&ch->exported) + 1,
				      memory_order_relaxed);
		env->stats->move_items_out++;
	}
	return 0;
}

static void export_step(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->out;

	if (mw->out_scanned)
		return;
	if (mw->out_cur >= 0 && MOVE_CHUNK_BYTES - mw->out_len < MOVE_STEP_BYTES_MAX)
		export_send_chunk(mw, env);
	if (mw->out_cur < 0) {
		if (mw->out_free == 0)
			return; /* all chunks with the importer: wait for one back */
		mw->out_cur = (int8_t)__builtin_ctz(mw->out_free);
		mw->out_free &= (uint8_t)~(1u << mw->out_cur);
		mw->out_len = 0;
	}
	if (mw->out_error == 0) {
		int r = export_scan_step(mw, env);

		if (r != 0)
			mw->out_error = r;
	}
	if (mw->out_error == 0 && !shard_scan_done(env->shard, &mw->out_scan))
		return;
	/* Scanned (or failed): the last chunk, then the end. */
	if (mw->out_len != 0)
		export_send_chunk(mw, env);
	else {
		mw->out_free |= (uint8_t)(1u << mw->out_cur);
		mw->out_cur = -1;
	}
	move_post(mw, env->rings[ch->to], CTL_MSG_MOVE_END, ch, 0, mw->out_error);
	mw->out_scanned = true;
	atomic_store_explicit(&ch->export_error, mw->out_error, memory_order_relaxed);
	atomic_store_explicit(&ch->export_result,
			      mw->out_error != 0 ? MOVE_EXPORT_FAILED : MOVE_EXPORT_SENT,
			      memory_order_release);
	if (mw->out_free == (1u << MOVE_CHUNKS) - 1)
		mw->out = NULL; /* every chunk came back already */
}

/* A chunk came back; once all are back after the end, the export is over
 * (the region stays in this shard until MOVE_PURGE). */
static void export_chunk_back(struct move_worker *mw, uint64_t idx)
{
	WE_ASSERT(mw->out != NULL && idx < MOVE_CHUNKS);
	mw->out_free |= (uint8_t)(1u << idx);
	if (mw->out_scanned && mw->out_free == (1u << MOVE_CHUNKS) - 1)
		mw->out = NULL;
}

/* ---- import ------------------------------------------------------------ */

static void import_begin(struct move_worker *mw, const struct move_env *env,
			 struct move_channel *ch)
{
	WE_ASSERT(ch->to == env->self);
	if (mw->in == ch)
		return;
	WE_ASSERT(mw->in == NULL);
	mw->in = ch;
	mw->in_head = mw->in_count = 0;
	mw->in_off = 0;
	mw->in_end = false;
	mw->in_error = 0;
	mw->in_marked = false;
	mw->in_last_lsn = 0;
}

/* Take one record of the move into the shard (and the log). 0, -EAGAIN
 * when the log ring is full (try again next step), or the error that fails
 * the import. */
static int import_record(struct move_worker *mw, const struct move_env *env,
			 const struct wal_record *rec)
{
	struct move_channel *ch = mw->in;
	uint64_t lhash = shard_hash(env->shard, rec->key, (uint8_t)rec->key_len);
	struct wal_record mine = *rec;
	enum we_status s;
	uint32_t bytes;
	void *slot;

	if (rec->type != WAL_REC_PUT || rec->region != ch->region || rec->key_len > WAL_KEY_MAX)
		return -EPROTO;
	if (env->log == NULL) {
		s = shard_put(env->shard, lhash, rec->key, (uint8_t)rec->key_len, rec->value,
			      rec->value_len);
		return s == WE_STATUS_OK ? 0 : -ENOSPC;
	}
	if (env->durable->error != 0)
		return env->durable->error;
	bytes = wal_record_size(rec->key_len, rec->value_len);
	slot = wal_ring_reserve(env->log, bytes);
	if (slot == NULL)
		return -EAGAIN;
	mine.worker = env->self;
	mine.epoch = ch->epoch;
	mine.lsn = *env->lsn + 1;
	s = shard_put(env->shard, lhash, rec->key, (uint8_t)rec->key_len, rec->value,
		      rec->value_len);
	if (s != WE_STATUS_OK)
		return -ENOSPC; /* the reservation lapses */
	WE_ASSERT(wal_record_encode(slot, bytes, &mine) == (int64_t)bytes);
	wal_ring_commit(env->log);
	*env->lsn = mine.lsn;
	env->stats->log_records++;
	if (atomic_load_explicit(&ch->import_first_lsn, memory_order_relaxed) == 0)
		atomic_store_explicit(&ch->import_first_lsn, mine.lsn, memory_order_relaxed);
	mw->in_last_lsn = mine.lsn;
	return 0;
}

/* An archived item of the move (WAL_REC_ARCHIVED): its record is read from
 * the old owner's archive file (one read at a time: -EAGAIN until it is
 * back), checked against the reference and the key, and the value put and
 * logged like any item's. 0, -EAGAIN, or the error that fails the import
 * (-EIO for a record that cannot be read or does not check). */
static int import_archived(struct move_worker *mw, const struct move_env *env,
			   const struct wal_record *rec)
{
	struct archive_ref ref;
	struct archive_record ar;
	struct wal_record put = *rec;
	const uint8_t *value;
	int slot, r;

	if (env->archive == NULL || rec->value_len != sizeof(ref))
		return -EPROTO;
	memcpy(&ref, rec->value, sizeof(ref));
	if (mw->in_read_slot < 0) {
		slot = archive_port_take_read_slot(env->archive);
		if (slot < 0)
			return -EAGAIN;
		if (archive_port_post_read_from(env->archive, slot, mw->in->from, &ref,
						MOVE_ARCHIVE_TICKET) != 0) {
			archive_port_give_back_read_slot(env->archive, slot);
			return -EAGAIN;
		}
		mw->in_read_slot = (int8_t)slot;
		mw->in_read_back = false;
		mw->in_read_from = mw->in->from;
		mw->in_read_ref = ref;
		return -EAGAIN;
	}
	if (!mw->in_read_back)
		return -EAGAIN;
	if (mw->in_read_from != mw->in->from || memcmp(&mw->in_read_ref, &ref, sizeof(ref)) != 0) {
		/* Another move's read (undone meanwhile): ask again. */
		archive_port_give_back_read_slot(env->archive, mw->in_read_slot);
		mw->in_read_slot = -1;
		return -EAGAIN;
	}
	r = mw->in_read_result < 0 ? -EIO
				   : archive_record_decode(archive_port_read_slot(env->archive,
									  mw->in_read_slot),
							   (uint32_t)mw->in_read_result, &ref,
							   rec->key, (uint8_t)rec->key_len, &ar);
	if (r == 0)
		r = archive_record_value(&ar, archive_port_dict_of(env->archive, mw->in_read_from),
					 mw->in_value, sizeof(mw->in_value), &value);
	if (r == 0) {
		put.type = WAL_REC_PUT;
		put.value = value;
		put.value_len = ar.value_len;
		r = import_record(mw, env, &put);
		if (r == -EAGAIN)
			return r; /* the log ring is full: the record stays in its slot */
	} else {
		r = -EIO;
	}
	archive_port_give_back_read_slot(env->archive, mw->in_read_slot);
	mw->in_read_slot = -1;
	return r;
}

/* The import ended (undone) with a read of an archived item out: its slot
 * goes back now if the answer came, else when it comes (the thread may
 * still write into it until then). */
static void import_drop_read(struct move_worker *mw, const struct move_env *env)
{
	if (mw->in_read_slot >= 0 && mw->in_read_back) {
		archive_port_give_back_read_slot(env->archive, mw->in_read_slot);
		mw->in_read_slot = -1;
	}
}

void move_on_archive_read(struct move_worker *mw, const struct move_env *env, int slot,
			  int32_t result)
{
	if (slot != mw->in_read_slot || mw->in == NULL) { /* not ours any more */
		archive_port_give_back_read_slot(env->archive, slot);
		if (slot == mw->in_read_slot)
			mw->in_read_slot = -1;
		return;
	}
	mw->in_read_back = true;
	mw->in_read_result = result;
}

/* The marker that ends the copy in this worker's log: region and epoch,
 * no key. 0, or -EAGAIN when the log ring is full. */
static int import_mark(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->in;
	struct wal_record rec = {.type = WAL_REC_REGION_MOVE, .worker = env->self,
				 .region = (uint16_t)ch->region, .epoch = ch->epoch,
				 .lsn = *env->lsn + 1};
	uint32_t bytes = wal_record_size(0, 0);
	void *slot = wal_ring_reserve(env->log, bytes);

	if (slot == NULL)
		return -EAGAIN;
	WE_ASSERT(wal_record_encode(slot, bytes, &rec) == (int64_t)bytes);
	wal_ring_commit(env->log);
	*env->lsn = rec.lsn;
	env->stats->log_records++;
	if (atomic_load_explicit(&ch->import_first_lsn, memory_order_relaxed) == 0)
		atomic_store_explicit(&ch->import_first_lsn, rec.lsn, memory_order_relaxed);
	mw->in_last_lsn = rec.lsn;
	mw->in_marked = true;
	return 0;
}

/* Up to MOVE_IMPORT_RECORDS records of the chunks received. */
static void import_chunks(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->in;
	unsigned budget = MOVE_IMPORT_RECORDS;

	while (mw->in_count != 0 && budget != 0) {
		uint8_t idx = mw->in_queue[mw->in_head];
		const uint8_t *chunk = ch->chunk[idx];
		uint32_t len = ch->chunk_len[idx];

		while (mw->in_off < len && budget != 0) {
			struct wal_record rec;
			uint32_t rec_bytes;
			int r = 0;

			if (wal_record_decode(chunk + mw->in_off, len - mw->in_off, &rec, &rec_bytes) !=
			    WAL_DECODE_OK) {
				mw->in_error = -EPROTO;
				break;
			}
			if (mw->in_error == 0) {
				r = rec.type == WAL_REC_ARCHIVED ? import_archived(mw, env, &rec)
								 : import_record(mw, env, &rec);
				if (r == -EAGAIN)
					return; /* log ring full, or a read under way: next step */
				if (r != 0)
					mw->in_error = r;
				else {
					atomic_store_explicit(&ch->imported,
							      atomic_load(&ch->imported) + 1,
							      memory_order_relaxed);
					env->stats->move_items_in++;
				}
			}
			mw->in_off += rec_bytes;
			budget--;
		}
		if (mw->in_off < len && mw->in_error == 0)
			return; /* budget spent: the rest of this chunk next step */
		/* Chunk taken (or discarded after a failure): give it back. */
		move_post(mw, env->rings[ch->from], CTL_MSG_MOVE_CHUNK_FREE, ch, idx, 0);
		mw->in_head = (uint8_t)((mw->in_head + 1) % MOVE_CHUNKS);
		mw->in_count--;
		mw->in_off = 0;
	}
}

static void import_step(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->in;

	if (atomic_load_explicit(&ch->import_result, memory_order_relaxed) != MOVE_IMPORT_RUNNING)
		return; /* reported: waiting for FINISH or ABORT */
	import_chunks(mw, env);
	if (!mw->in_end || mw->in_count != 0)
		return;
	if (mw->in_error == 0 && env->log != NULL && env->durable->error != 0)
		mw->in_error = env->durable->error;
	if (mw->in_error == 0 && env->log != NULL && !mw->in_marked) {
		if (import_mark(mw, env) != 0)
			return; /* log ring full: next step */
	}
	if (mw->in_error == 0 && env->log != NULL && env->durable->lsn < mw->in_last_lsn)
		return; /* not on disk yet */
	if (mw->in_error != 0) {
		env->stats->move_failed++;
		atomic_store_explicit(&ch->import_error, mw->in_error, memory_order_relaxed);
		atomic_store_explicit(&ch->import_result, MOVE_IMPORT_FAILED, memory_order_release);
		return;
	}
	atomic_store_explicit(&ch->import_last_lsn, mw->in_last_lsn, memory_order_relaxed);
	atomic_store_explicit(&ch->import_result, MOVE_IMPORT_DONE, memory_order_release);
}

/* ---- purge ------------------------------------------------------------- */

static void purge_begin(struct move_worker *mw, struct move_channel *ch, bool after_abort)
{
	WE_ASSERT(mw->purge == NULL);
	mw->purge = ch;
	mw->purge_scan = (struct shard_scan){0};
	mw->purge_after_abort = after_abort;
}

static void purge_step(struct move_worker *mw, const struct move_env *env)
{
	struct move_channel *ch = mw->purge;
	unsigned k = 0;
	int n = shard_scan_step(env->shard, &mw->purge_scan, mw->items, MOVE_SCAN_ITEMS,
				MOVE_SCAN_CHAINS);

	/* Copy the keys first: a delete invalidates the step's pointers. */
	for (int i = 0; i < n; i++) {
		const struct shard_scan_item *it = &mw->items[i];

		if (keyhash_region(keyhash(it->key, it->key_len)) != ch->region)
			continue;
		memcpy(mw->keys[k], it->key, it->key_len);
		mw->key_lens[k++] = it->key_len;
	}
	for (unsigned i = 0; i < k; i++) {
		uint64_t lhash = shard_hash(env->shard, mw->keys[i], mw->key_lens[i]);

		if (shard_delete(env->shard, lhash, mw->keys[i], mw->key_lens[i]) == WE_STATUS_OK)
			env->stats->move_items_purged++;
	}
	atomic_store_explicit(&ch->purged_items, atomic_load(&ch->purged_items) + k,
			      memory_order_relaxed);
	if (n >= 0 && !shard_scan_done(env->shard, &mw->purge_scan))
		return;
	if (mw->out != NULL)
		return; /* purged; the export's last chunks are not back yet */
	mw->purge = NULL;
	if (mw->purge_after_abort)
		atomic_store_explicit(&ch->finished, 1, memory_order_release);
	else
		atomic_store_explicit(&ch->purged, 1, memory_order_release);
}

/* ---- the worker's entry points ----------------------------------------- */

enum move_action move_on_message(struct move_worker *mw, const struct move_env *env,
				 const struct ctl_msg *m)
{
	struct move_channel *ch = (struct move_channel *)(uintptr_t)m->a;

	switch (m->type) {
	case CTL_MSG_MOVE_OUT:
		export_begin(mw, env, ch);
		break;
	case CTL_MSG_MOVE_CHUNK_FREE:
		export_chunk_back(mw, m->b);
		break;
	case CTL_MSG_MOVE_PURGE:
		purge_begin(mw, ch, false);
		break;
	case CTL_MSG_MOVE_CHUNK:
		import_begin(mw, env, ch);
		WE_ASSERT(mw->in_count < MOVE_CHUNKS && m->b < MOVE_CHUNKS);
		mw->in_queue[(mw->in_head + mw->in_count) % MOVE_CHUNKS] = (uint8_t)m->b;
		mw->in_count++;
		break;
	case CTL_MSG_MOVE_END:
		import_begin(mw, env, ch);
		mw->in_end = true;
		if (m->i32 != 0 && mw->in_error == 0)
			mw->in_error = m->i32;
		break;
	case CTL_MSG_MOVE_FINISH:
		WE_ASSERT(mw->in == ch);
		region_map_set_entry(env->map, ch->region, env->self);
		mw->in = NULL;
		atomic_store_explicit(&ch->finished, 1, memory_order_release);
		return MOVE_ACT_RUN_HELD;
	case CTL_MSG_MOVE_ABORT:
		/* Back to the owner that kept its copy; ours goes. The held
		 * requests now route to it. */
		region_map_set_entry(env->map, ch->region, ch->from);
		if (mw->in == ch) {
			mw->in = NULL;
			import_drop_read(mw, env);
		}
		purge_begin(mw, ch, true);
		return MOVE_ACT_RUN_HELD;
	default:
		break;
	}
	return MOVE_ACT_NONE;
}

void move_step(struct move_worker *mw, const struct move_env *env)
{
	if (mw->n_outbox != 0)
		move_flush_outbox(mw);
	if (mw->out != NULL)
		export_step(mw, env);
	if (mw->in != NULL)
		import_step(mw, env);
	if (mw->purge != NULL)
		purge_step(mw, env);
}
