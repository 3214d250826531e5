/* table.c - the column table printer (see table.h).
 *
 * DESIGN: cells are formatted into their own strings as they come, and
 * widths are measured only at print time, so a renderer can add rows in
 * one pass over the JSON without knowing the widths in advance.
 */
#include "table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, const struct table_col *cols, size_t n_cols)
{
	memset(t, 0, sizeof(*t));
	if (n_cols > TABLE_COLS_MAX)
		n_cols = TABLE_COLS_MAX;
	t->n_cols = n_cols;
	memcpy(t->cols, cols, n_cols * sizeof(*cols));
}

static int table_open_row(struct table *t)
{
	if (t->row_open)
		return 0;
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **c = realloc(t->cells, cap * t->n_cols * sizeof(*c));

		if (c == NULL)
			return -ENOMEM;
		t->cells = c;
		t->cap_rows = cap;
	}
	memset(&t->cells[t->n_rows * t->n_cols], 0, t->n_cols * sizeof(*t->cells));
	t->n_rows++;
	t->row_open = true;
	t->col = 0;
	return 0;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	if (t->n_cols == 0 || table_open_row(t) != 0) {
		t->failed = true;
		return;
	}
	if (t->col >= t->n_cols)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = true;
		s = NULL;
	}
	t->cells[(t->n_rows - 1) * t->n_cols + t->col++] = s;
}

void table_end_row(struct table *t)
{
	if (!t->row_open && table_open_row(t) != 0) {
		t->failed = true;
		return;
	}
	t->row_open = false;
}

size_t table_rows(const struct table *t)
{
	return t->n_rows;
}

static void table_put_cell(FILE *out, const char *s, size_t width, enum table_align align,
			   bool last)
{
	size_t n = strlen(s);

	if (align == TABLE_RIGHT)
		fprintf(out, "%*s%s", (int)(width - n), "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, (int)(width - n), "");
}

int table_print(struct table *t, FILE *out)
{
	size_t width[TABLE_COLS_MAX] = {0};
	bool header = t->n_cols > 0 && t->cols[0].head != NULL;

	if (t->failed)
		return -ENOMEM;
	for (size_t c = 0; c < t->n_cols; c++) {
		if (header && t->cols[c].head && strlen(t->cols[c].head) > width[c])
			width[c] = strlen(t->cols[c].head);
		for (size_t r = 0; r < t->n_rows; r++) {
			const char *s = t->cells[r * t->n_cols + c];

			if (s && strlen(s) > width[c])
				width[c] = strlen(s);
		}
	}
	/* Row -1 is the header. */
	for (long r = header ? -1 : 0; r < (long)t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *s = r < 0 ? t->cols[c].head : t->cells[(size_t)r * t->n_cols + c];

			if (c > 0)
				fputs("  ", out);
			table_put_cell(out, s ? s : "", width[c], t->cols[c].align, c + 1 == t->n_cols);
		}
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

void table_free(struct table *t)
{
	for (size_t i = 0; t->cells && i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
