/* json_out.c - pretty JSON with exact, short reals (see json_out.h).
 *
 * DESIGN: a recursive walk, one line per member; strings are escaped by
 * jansson itself (json_dumps with JSON_ENCODE_ANY) so the escaping rules
 * stay jansson's. Depth is bounded by what jansson accepted when decoding.
 */
#include "json_out.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *json_out_real(double d, char *buf, size_t len)
{
	if (!isfinite(d)) {
		snprintf(buf, len, "null"); /* JSON has no inf/nan; jansson never decodes them */
		return buf;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 3 <= len)
		strcat(buf, ".0");
	return buf;
}

static void json_out_indent(FILE *out, int depth)
{
	fprintf(out, "%*s", depth * 2, "");
}

static void json_out_value(FILE *out, const json_t *v, int depth)
{
	char buf[40];
	char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *m;
		size_t i = 0, n = json_object_size(v);

		if (n == 0) {
			fputs("{}", out);
			break;
		}
		fputs("{\n", out);
		json_object_foreach((json_t *)v, key, m) {
			json_t *k = json_string(key);

			s = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
			json_out_indent(out, depth + 1);
			fprintf(out, "%s: ", s ? s : "\"?\"");
			free(s);
			json_decref(k);
			json_out_value(out, m, depth + 1);
			fputs(++i < n ? ",\n" : "\n", out);
		}
		json_out_indent(out, depth);
		fputc('}', out);
		break;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);

		if (n == 0) {
			fputs("[]", out);
			break;
		}
		fputs("[\n", out);
		for (size_t i = 0; i < n; i++) {
			json_out_indent(out, depth + 1);
			json_out_value(out, json_array_get(v, i), depth + 1);
			fputs(i + 1 < n ? ",\n" : "\n", out);
		}
		json_out_indent(out, depth);
		fputc(']', out);
		break;
	}
	case JSON_REAL:
		fputs(json_out_real(json_real_value(v), buf, sizeof(buf)), out);
		break;
	default:
		/* Strings, integers, true, false, null: jansson's text is exact. */
		s = json_dumps(v, JSON_ENCODE_ANY);
		fputs(s ? s : "null", out);
		free(s);
		break;
	}
}

int json_out_pretty(FILE *out, const json_t *v)
{
	json_out_value(out, v, 0);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
