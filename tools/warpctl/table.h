/* table.h - a small column table printer, used by every warpctl renderer.
 *
 *   table_init      table.c  columns: header text and alignment
 *   table_cell      table.c  the next cell of the current row, printf-style
 *   table_end_row   table.c  close the current row (missing cells print empty)
 *   table_print     table.c  header, then rows, columns padded to fit
 *   table_free      table.c  release the cells
 *
 * Columns are separated by two spaces; numbers are right-aligned
 * (TABLE_RIGHT), text left-aligned; the last column carries no trailing
 * padding. Widths count bytes: keep cells ASCII. A failed allocation is
 * remembered and reported once, by table_print (-ENOMEM).
 */
#ifndef WARPCTL_TABLE_H
#define WARPCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "we_compiler.h"

#define TABLE_COLS_MAX 16

enum table_align { TABLE_LEFT = 0, TABLE_RIGHT };

struct table_col {
	const char *head; /* NULL: the table has no header line */
	enum table_align align;
};

struct table {
	size_t n_cols;
	struct table_col cols[TABLE_COLS_MAX];
	char **cells;     /* n_rows * n_cols, row-major; NULL: empty cell */
	size_t n_rows, cap_rows;
	size_t col;       /* next cell of the open row; 0 with row_open false: none open */
	bool row_open;
	bool failed;      /* an allocation failed */
};

/* n_cols columns (1..TABLE_COLS_MAX) described by cols. */
void table_init(struct table *t, const struct table_col *cols, size_t n_cols);
/* Append a cell to the open row (opening one if none is); cells beyond the
 * last column are dropped. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_end_row(struct table *t);
size_t table_rows(const struct table *t);
/* 0, or -ENOMEM when a cell could not be stored, or -EIO on a write error. */
int table_print(struct table *t, FILE *out) we_must_check;
void table_free(struct table *t);

#endif
