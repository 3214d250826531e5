/* json_file.h - a JSON file replaced whole, so a crash leaves the old file
 * or the new one, never half of either.
 *
 *   json_file_write_atomic  json_file.c  DIR/NAME.tmp, fsync, rename over DIR/NAME, fsync DIR
 *   json_file_mkdirs        json_file.c  make a directory and its missing parents
 */
#ifndef CONTROL_JSON_FILE_H
#define CONTROL_JSON_FILE_H

#include <stddef.h>

#include <jansson.h>

/* 0, or -errno and a sentence naming the file. Indented, keys sorted. */
int json_file_write_atomic(const char *dir, const char *name, const json_t *j, char *err,
			   size_t err_len);
/* 0, or -errno and a sentence naming the directory (mode 0700 for new ones). */
int json_file_mkdirs(const char *path, char *err, size_t err_len);

#endif
