/* warp-waldump - print and verify a data directory's write-ahead log.
 *
 *   warp-waldump [--verify] [--no-values] DIR
 *
 * DIR is a data directory (its wal/ is read) or a wal/ folder itself. Each
 * record is printed as one JSON line, in replay order (generation, worker,
 * sequence):
 *
 *   {"generation":2,"worker":0,"segment":"w00-000000000003.log","offset":4096,
 *    "lsn":17,"type":"put","region":1234,"key":"user:1","value":"..."}
 *
 * Keys and values that are not printable ASCII are given as "key_hex" /
 * "value_hex". The summary line of recovery goes to stderr. Nothing is
 * written to the directory (recovery runs read-only), and the lock is not
 * taken, so a running data plane's log can be read (its last record may
 * then show as a torn tail).
 *
 * Exit status: 0 the log verifies (a torn tail alone is reported, not an
 * error: it is what a crash leaves); 1 a damaged record that is not at the
 * tail (valid records follow it); 2 usage, I/O or format errors.
 *
 * DESIGN
 * A thin shell over recovery.c in read-only mode, so the tool checks exactly
 * what the data plane will replay; jansson writes the JSON.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "disk.h"
#include "recovery.h"
#include "wal_segment.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: warp-waldump [--verify] [--no-values] DIR\n"
		   "  DIR          a data directory (its wal/ is read) or a wal/ folder\n"
		   "  --verify     print no records, only the summary; exit 1 on damage\n"
		   "               inside the log\n"
		   "  --no-values  print value lengths, not the values\n");
}

static bool printable(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static void set_bytes(json_t *o, const char *name, const char *hex_name, const void *p, uint32_t n)
{
	if (printable(p, n)) {
		json_object_set_new(o, name, json_stringn(p, n));
	} else {
		char *hex = malloc(2 * (size_t)n + 1);

		if (hex == NULL)
			return;
		for (uint32_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", ((const uint8_t *)p)[i]);
		hex[2 * n] = '\0';
		json_object_set_new(o, hex_name, json_string(hex));
		free(hex);
	}
}

static void print_record(const struct wal_record *rec, const struct recovery_pos *pos, bool values)
{
	char seg[WAL_SEGMENT_NAME_MAX];
	json_t *o = json_object();
	char *line;

	wal_segment_name(seg, sizeof(seg), pos->worker, pos->sequence);
	json_object_set_new(o, "generation", json_integer((json_int_t)pos->generation));
	json_object_set_new(o, "worker", json_integer(pos->worker));
	json_object_set_new(o, "segment", json_string(seg));
	json_object_set_new(o, "offset", json_integer((json_int_t)pos->offset));
	json_object_set_new(o, "lsn", json_integer((json_int_t)rec->lsn));
	json_object_set_new(o, "type", json_string(wal_record_type_name(rec->type)));
	json_object_set_new(o, "region", json_integer(rec->region));
	set_bytes(o, "key", "key_hex", rec->key, rec->key_len);
	if (rec->type == WAL_REC_PUT) {
		json_object_set_new(o, "value_len", json_integer(rec->value_len));
		if (values)
			set_bytes(o, "value", "value_hex", rec->value, rec->value_len);
	}
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL)
		puts(line);
	free(line);
	json_decref(o);
}

int main(int argc, char **argv)
{
	const struct recovery_options opt = {.repair = false, .allow_mid_log_cut = true};
	const struct recovery_stats *st;
	struct recovery_pos pos;
	struct wal_record rec;
	struct recovery *r;
	struct disk d;
	struct stat sb;
	char wal[DISK_PATH_MAX];
	char line[1024];
	const char *dir = NULL;
	bool verify = false;
	bool values = true;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verify") == 0) {
			verify = true;
		} else if (strcmp(argv[i], "--no-values") == 0) {
			values = false;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "warp-waldump: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		usage(stderr);
		return 2;
	}
	if (snprintf(wal, sizeof(wal), "%s/wal", dir) >= (int)sizeof(wal))
		return 2;
	if (stat(wal, &sb) != 0 || !S_ISDIR(sb.st_mode))
		snprintf(wal, sizeof(wal), "%s", dir);
	disk_posix_init(&d);
	rc = recovery_open(&r, &d, wal, &opt);
	if (rc != 0) {
		fprintf(stderr, "warp-waldump: %s: %s%s\n", wal, strerror(-rc),
			rc == -EPROTO ? " (a segment of a newer format)" : "");
		return 2;
	}
	while ((rc = recovery_next(r, &rec, &pos)) == 1)
		if (!verify)
			print_record(&rec, &pos, values);
	fflush(stdout);
	recovery_summary(r, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	st = recovery_stats(r);
	if (rc < 0) {
		fprintf(stderr, "warp-waldump: reading %s: %s\n", wal, strerror(-rc));
		recovery_close(r);
		return 2;
	}
	rc = st->corrupt_mid_log > 0 || st->cut_records_after > 0 ? 1 : 0;
	if (rc != 0)
		fprintf(stderr, "warp-waldump: damaged record inside the log (valid records follow "
				"it): the log does not verify\n");
	recovery_close(r);
	return rc;
}
