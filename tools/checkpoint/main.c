/* warp-checkpoint - inspect and verify a data directory's checkpoints.
 *
 *   warp-checkpoint inspect DIR
 *   warp-checkpoint verify DIR
 *
 * DIR is a data directory (its checkpoints/ is read) or a checkpoints/
 * folder itself. Output is JSON lines on stdout:
 *
 *   inspect  {"manifest":{...}} (or {"manifest":null,"error":"..."}), then per
 *            part, checkpoints and parts in name order:
 *            {"checkpoint":"ckpt-000000000007","part":"part-00.ckpt","bytes":N,
 *             "state":"finished"|"incomplete"|"bad","header":{...}|null,
 *             "trailer":{...}|null[,"error":"..."]}
 *            Only headers and trailers are read ("finished": a valid trailer
 *            ends the file; the chunks are not checked).
 *   verify   per checkpoint {"checkpoint":...,"status":"ok","worker_count":N,
 *            "items":N} or {"checkpoint":...,"status":"incomplete"|"damaged",
 *            "error":"..."}, every chunk read and checked; then, when DIR is
 *            a data directory, what recovery would load:
 *            {"recovery_loads":"ckpt-..."|null,"fallback":false[,"why":"..."]}
 *
 * Exit status: 0 everything verifies; 1 a checkpoint is incomplete or
 * damaged, or the manifest is invalid (the first such problem is named on
 * stderr; an interrupted checkpoint's leftover counts: remove it or read
 * the recovery_loads line); 2 usage or I/O errors. Read-only, no lock.
 *
 * DESIGN
 * A thin shell over checkpoint.c and ckpt_manifest.c, so the tool checks
 * exactly what recovery will load; jansson writes the JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "checkpoint.h"
#include "ckpt_manifest.h"
#include "disk.h"

struct tool {
	struct disk disk;
	char data_dir[DISK_PATH_MAX]; /* empty when DIR is a checkpoints folder */
	char cdir[DISK_PATH_MAX];
	char first_problem[CKPT_ERR_MAX];
	bool problem;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: warp-checkpoint inspect|verify DIR\n"
		   "  DIR      a data directory (its checkpoints/ is read) or a checkpoints/ folder\n"
		   "  inspect  the manifest and each part's header and trailer, as JSON lines\n"
		   "  verify   read and check every chunk; exit 1 naming the first damage\n");
}

static void emit(json_t *o)
{
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (line != NULL)
		puts(line);
	free(line);
	json_decref(o);
}

static void note_problem(struct tool *t, const char *what)
{
	if (!t->problem)
		snprintf(t->first_problem, sizeof(t->first_problem), "%s", what);
	t->problem = true;
}

static bool is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct disk_name *)a)->name, ((const struct disk_name *)b)->name);
}

/* Sorted names of dir for which keep() holds. */
static int names_of(struct tool *t, const char *dir, bool (*keep)(const char *),
		    struct disk_name **names, uint32_t *count)
{
	uint32_t n;
	uint32_t kept = 0;
	int r = disk_list_all(&t->disk, dir, names, &n);

	if (r != 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		if (keep((*names)[i].name))
			(*names)[kept++] = (*names)[i];
	qsort(*names, kept, sizeof(**names), cmp_name);
	*count = kept;
	return 0;
}

static bool is_ckpt(const char *name)
{
	uint64_t id;

	return ckpt_dir_parse(name, &id) == 0;
}

static bool is_part(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, "part-", 5) == 0 && n > 10 && strcmp(name + n - 5, ".ckpt") == 0;
}

static json_t *manifest_json(const struct ckpt_manifest *m)
{
	json_t *o = json_object();
	json_t *w = json_array();

	json_object_set_new(o, "format_version", json_integer(m->format_version));
	json_object_set_new(o, "checkpoint_id", json_integer((json_int_t)m->checkpoint_id));
	json_object_set_new(o, "directory", json_string(m->directory));
	json_object_set_new(o, "previous_checkpoint_id", json_integer((json_int_t)m->previous_id));
	json_object_set_new(o, "generation", json_integer((json_int_t)m->generation));
	json_object_set_new(o, "worker_count", json_integer(m->worker_count));
	for (uint16_t i = 0; i < m->worker_count; i++)
		json_array_append_new(w, json_pack("{s:i, s:I, s:I}", "worker", (int)i, "start_lsn",
						   (json_int_t)m->start_lsn[i], "items",
						   (json_int_t)m->items[i]));
	json_object_set_new(o, "workers", w);
	json_object_set_new(o, "created", json_string(m->created));
	return o;
}

/* The manifest line; 0, or the manifest's error (also noted as a problem
 * unless there is simply none). */
static void print_manifest(struct tool *t)
{
	struct ckpt_manifest m;
	char err[CKPT_ERR_MAX];
	json_t *o = json_object();
	int r = ckpt_manifest_read(&t->disk, t->cdir, &m, err, sizeof(err));

	if (r == 0) {
		json_object_set_new(o, "manifest", manifest_json(&m));
	} else {
		json_object_set_new(o, "manifest", json_null());
		json_object_set_new(o, "error", json_string(r == -ENOENT ? "no manifest" : err));
		if (r != -ENOENT)
			note_problem(t, err);
	}
	emit(o);
}

static json_t *header_json(const struct ckpt_part_header *h)
{
	return json_pack("{s:i, s:I, s:i, s:i, s:I, s:I, s:i}", "format", (int)h->format,
			 "checkpoint_id", (json_int_t)h->checkpoint_id, "worker", (int)h->worker,
			 "worker_count", (int)h->worker_count, "generation",
			 (json_int_t)h->generation, "start_lsn", (json_int_t)h->start_lsn,
			 "chunk_raw_max", (int)h->chunk_raw_max);
}

static json_t *trailer_json(const struct ckpt_part_trailer *tr)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "items", (json_int_t)tr->items, "chunks",
			 (json_int_t)tr->chunks, "raw_bytes", (json_int_t)tr->raw_bytes,
			 "trailer_offset", (json_int_t)tr->trailer_offset, "chunks_checksum",
			 (json_int_t)tr->chunks_checksum);
}

static void inspect_part(struct tool *t, const char *ckpt, const char *part, const char *path)
{
	uint8_t head[CKPT_HEADER_BYTES];
	uint8_t tail[CKPT_TRAILER_BYTES];
	struct ckpt_part_header h;
	struct ckpt_part_trailer tr;
	struct ckpt_reader *r;
	char err[DISK_PATH_MAX + DISK_NAME_MAX + 128] = "";
	json_t *o = json_object();
	uint64_t size = 0;
	int fd;
	int rc;

	json_object_set_new(o, "checkpoint", json_string(ckpt));
	json_object_set_new(o, "part", json_string(part));
	rc = disk_open(&t->disk, path, DISK_O_RDONLY, &fd);
	if (rc == 0) {
		bool hok;
		bool tok;

		rc = disk_file_size(&t->disk, fd, &size);
		hok = rc == 0 && size >= sizeof(head) &&
		      disk_pread_all(&t->disk, fd, head, sizeof(head), 0) == sizeof(head) &&
		      ckpt_part_header_decode(head, sizeof(head), &h) == 0;
		tok = rc == 0 && size >= sizeof(tail) &&
		      disk_pread_all(&t->disk, fd, tail, sizeof(tail), size - sizeof(tail)) ==
			      sizeof(tail) &&
		      ckpt_part_trailer_decode(tail, sizeof(tail), &tr) == 0;
		disk_close(&t->disk, fd);
		json_object_set_new(o, "bytes", json_integer((json_int_t)size));
		rc = ckpt_reader_open(&r, &t->disk, path, err, sizeof(err));
		if (rc == 0)
			ckpt_reader_close(r);
		json_object_set_new(o, "state", json_string(rc == 0		? "finished"
							    : rc == -ENODATA ? "incomplete"
									     : "bad"));
		json_object_set_new(o, "header", hok ? header_json(&h) : json_null());
		json_object_set_new(o, "trailer", tok ? trailer_json(&tr) : json_null());
	} else {
		snprintf(err, sizeof(err), "%s: %s", path, strerror(-rc));
		json_object_set_new(o, "state", json_string("bad"));
	}
	if (rc != 0) {
		json_object_set_new(o, "error", json_string(err));
		note_problem(t, err);
	}
	emit(o);
}

static int inspect(struct tool *t)
{
	struct disk_name *ck = NULL;
	uint32_t nck = 0;
	int r;

	print_manifest(t);
	r = names_of(t, t->cdir, is_ckpt, &ck, &nck);
	if (r != 0) {
		fprintf(stderr, "warp-checkpoint: %s: %s\n", t->cdir, strerror(-r));
		return 2;
	}
	for (uint32_t i = 0; i < nck; i++) {
		char dir[DISK_PATH_MAX];
		struct disk_name *parts = NULL;
		uint32_t np = 0;

		if (snprintf(dir, sizeof(dir), "%s/%s", t->cdir, ck[i].name) >= (int)sizeof(dir) ||
		    names_of(t, dir, is_part, &parts, &np) != 0) {
			fprintf(stderr, "warp-checkpoint: %s: cannot list\n", dir);
			free(ck);
			return 2;
		}
		for (uint32_t j = 0; j < np; j++) {
			char path[DISK_PATH_MAX + DISK_NAME_MAX];

			snprintf(path, sizeof(path), "%s/%s", dir, parts[j].name);
			inspect_part(t, ck[i].name, parts[j].name, path);
		}
		free(parts);
	}
	free(ck);
	return 0;
}

static void print_pick(struct tool *t)
{
	struct ckpt_choice c;
	char err[CKPT_ERR_MAX];
	json_t *o = json_object();
	int r = ckpt_pick(&t->disk, t->data_dir, &c, err, sizeof(err));

	if (r != 0) {
		json_object_set_new(o, "recovery_loads", json_null());
		json_object_set_new(o, "error", json_string(err));
		note_problem(t, err);
	} else {
		const char *base = strrchr(c.dir, '/');

		json_object_set_new(o, "recovery_loads",
				    c.found ? json_string(base != NULL ? base + 1 : c.dir)
					    : json_null());
		json_object_set_new(o, "fallback", json_boolean(c.fallback));
		if (c.fallback)
			json_object_set_new(o, "why", json_string(c.why));
	}
	emit(o);
}

static int verify(struct tool *t)
{
	struct disk_name *ck = NULL;
	uint32_t nck = 0;
	int r = names_of(t, t->cdir, is_ckpt, &ck, &nck);

	if (r != 0) {
		fprintf(stderr, "warp-checkpoint: %s: %s\n", t->cdir, strerror(-r));
		return 2;
	}
	for (uint32_t i = 0; i < nck; i++) {
		char dir[DISK_PATH_MAX + DISK_NAME_MAX];
		char err[CKPT_ERR_MAX];
		struct ckpt_summary s;
		json_t *o = json_object();

		snprintf(dir, sizeof(dir), "%s/%s", t->cdir, ck[i].name);
		json_object_set_new(o, "checkpoint", json_string(ck[i].name));
		r = ckpt_verify_dir(&t->disk, dir, &s, err, sizeof(err));
		if (r == 0) {
			uint64_t items = 0;

			for (uint16_t w = 0; w < s.worker_count; w++)
				items += s.items[w];
			json_object_set_new(o, "status", json_string("ok"));
			json_object_set_new(o, "worker_count", json_integer(s.worker_count));
			json_object_set_new(o, "items", json_integer((json_int_t)items));
		} else if (r == -ENODATA || r == -EUCLEAN || r == -EPROTO || r == -EINVAL) {
			json_object_set_new(o, "status", json_string(r == -ENODATA ? "incomplete"
										   : "damaged"));
			json_object_set_new(o, "error", json_string(err));
			note_problem(t, err);
		} else {
			fprintf(stderr, "warp-checkpoint: %s\n", err);
			json_decref(o);
			free(ck);
			return 2;
		}
		emit(o);
	}
	free(ck);
	if (t->data_dir[0] != '\0')
		print_pick(t);
	else
		print_manifest(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct tool t;
	int rc;

	memset(&t, 0, sizeof(t));
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "inspect") != 0 && strcmp(argv[1], "verify") != 0)) {
		usage(stderr);
		return 2;
	}
	disk_posix_init(&t.disk);
	if (snprintf(t.cdir, sizeof(t.cdir), "%s/checkpoints", argv[2]) >= (int)sizeof(t.cdir))
		return 2;
	if (is_dir(t.cdir))
		snprintf(t.data_dir, sizeof(t.data_dir), "%s", argv[2]);
	else if (is_dir(argv[2]))
		snprintf(t.cdir, sizeof(t.cdir), "%s", argv[2]);
	else {
		fprintf(stderr, "warp-checkpoint: %s: not a directory\n", argv[2]);
		return 2;
	}
	rc = strcmp(argv[1], "inspect") == 0 ? inspect(&t) : verify(&t);
	fflush(stdout);
	if (rc != 0)
		return rc;
	if (t.problem) {
		fprintf(stderr, "warp-checkpoint: %s\n", t.first_problem);
		return strcmp(argv[1], "verify") == 0 ? 1 : 0;
	}
	return 0;
}
