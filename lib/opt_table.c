/* opt_table.c - one parser, --help and markdown for every program's option
 * table (see opt_table.h).
 *
 * DESIGN: a spec says where its value goes (offset, size) and how it is
 * checked (kind, range, flags), so one function, opt_apply(), turns text
 * into a field for the command line, the defaults and run-time settings
 * alike; the messages it writes are built from the same range text that
 * --help and the markdown print. The argv loop is our own rather than
 * getopt_long(): it has no global state, takes exact names only (an
 * abbreviation that works today breaks when an option is added), can collect
 * words between options and can pick between two entries of one name by
 * scope.
 */
#include "opt_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse_num.h"

#define OPT_HELP_COLUMN 30 /* --help: where the text starts */
#define OPT_HELP_WIDTH 100  /* and where its lines end */

static int opt_fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int opt_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void *opt_field(const struct opt_spec *s, void *dest)
{
	return (char *)dest + s->offset;
}

static const void *opt_cfield(const struct opt_spec *s, const void *src)
{
	return (const char *)src + s->offset;
}

static uint64_t opt_scale(const struct opt_spec *s)
{
	return s->scale ? s->scale : 1;
}

/* An unsigned field of 1, 2, 4 or 8 bytes; false if v does not fit. */
static bool opt_store_uint(const struct opt_spec *s, void *dest, uint64_t v)
{
	void *f = opt_field(s, dest);

	switch (s->size) {
	case 1:
		if (v > UINT8_MAX)
			return false;
		*(uint8_t *)f = (uint8_t)v;
		return true;
	case 2:
		if (v > UINT16_MAX)
			return false;
		*(uint16_t *)f = (uint16_t)v;
		return true;
	case 4:
		if (v > UINT32_MAX)
			return false;
		*(uint32_t *)f = (uint32_t)v;
		return true;
	case 8:
		*(uint64_t *)f = v;
		return true;
	}
	return false;
}

static uint64_t opt_load_uint(const struct opt_spec *s, const void *src)
{
	const void *f = opt_cfield(s, src);

	switch (s->size) {
	case 1:
		return *(const uint8_t *)f;
	case 2:
		return *(const uint16_t *)f;
	case 4:
		return *(const uint32_t *)f;
	case 8:
		return *(const uint64_t *)f;
	}
	return 0;
}

/* The i-th word of "a|b|c" into buf; false if there are fewer words. */
static bool opt_choice_word(const char *choices, unsigned i, char *buf, size_t len)
{
	const char *p = choices;

	for (; i > 0; i--) {
		p = strchr(p, '|');
		if (p == NULL)
			return false;
		p++;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(p, "|"), p);
	return true;
}

/* Index of `word` in "a|b|c", or -1. */
static int opt_choice_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	const char *p = choices;

	for (int i = 0; p != NULL; i++) {
		size_t l = strcspn(p, "|");

		if (l == wl && memcmp(p, word, l) == 0)
			return i;
		p = strchr(p, '|');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* What the values may be, as help, markdown and errors say it:
 * "1..1024 MiB", "power of two in 2..16777216", "0.001..1e+06 s", "on|off". */
static void opt_range_text(const struct opt_spec *s, char *buf, size_t len)
{
	const char *unit = s->unit ? s->unit : "";
	const char *sp = s->unit ? " " : "";

	switch (s->kind) {
	case OPT_U64:
		snprintf(buf, len, "%s%" PRIu64 "..%" PRIu64 "%s%s",
			 (s->flags & OPT_POW2) ? "power of two in " : "", s->min, s->max, sp, unit);
		return;
	case OPT_DOUBLE:
		snprintf(buf, len, "%g..%g%s%s", s->dmin, s->dmax, sp, unit);
		return;
	case OPT_CHOICE:
		snprintf(buf, len, "%s", s->choices ? s->choices : "");
		return;
	case OPT_ONOFF:
		snprintf(buf, len, "on|off");
		return;
	default:
		snprintf(buf, len, "%s", unit);
		return;
	}
}

/* A strict decimal real: starts with a digit, '.' or '-' and a digit,
 * nothing after it, finite (strtod alone takes blanks, "inf" and hex). */
static bool opt_double(const char *s, double min, double max, double *out)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	char *end;
	double v;

	if (!((p[0] >= '0' && p[0] <= '9') || (p[0] == '.' && p[1] >= '0' && p[1] <= '9')))
		return false;
	if (strpbrk(s, "xXpP") != NULL)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int opt_apply_u64(const struct opt_spec *s, const char *arg, void *dest, char *err,
			 size_t err_len)
{
	int base = (s->flags & OPT_BASE0) ? 0 : 10;
	uint64_t scale = opt_scale(s);
	char range[96];
	uint64_t v;

	opt_range_text(s, range, sizeof(range));
	if (parse_num_u64(arg, base, s->min, s->max, &v) != 0 ||
	    ((s->flags & OPT_POW2) && (v == 0 || (v & (v - 1)) != 0)))
		return opt_fail(err, err_len, "--%s: '%s' is not %s%s", s->name, arg,
				(s->flags & OPT_POW2) ? "a " : "a number in ", range);
	if (v > UINT64_MAX / scale || !opt_store_uint(s, dest, v * scale))
		return opt_fail(err, err_len, "--%s: '%s' does not fit its field (%zu bytes)",
				s->name, arg, s->size);
	return 0;
}

int opt_apply(const struct opt_spec *s, const char *arg, void *dest, char *err, size_t err_len)
{
	void *f = opt_field(s, dest);
	char why[160];
	double d;
	int i;

	if (arg == NULL && s->kind != OPT_FLAG)
		return opt_fail(err, err_len, "--%s needs a value", s->name);
	switch (s->kind) {
	case OPT_FLAG:
	case OPT_ONOFF:
		if (arg == NULL || strcmp(arg, "on") == 0)
			*(bool *)f = true;
		else if (strcmp(arg, "off") == 0)
			*(bool *)f = false;
		else
			return opt_fail(err, err_len, "--%s: '%s' must be 'on' or 'off'", s->name,
					arg);
		return 0;
	case OPT_U64:
		return opt_apply_u64(s, arg, dest, err, err_len);
	case OPT_DOUBLE:
		if (!opt_double(arg, s->dmin, s->dmax, &d)) {
			opt_range_text(s, why, sizeof(why));
			return opt_fail(err, err_len, "--%s: '%s' is not a number in %s", s->name,
					arg, why);
		}
		*(double *)f = d;
		return 0;
	case OPT_STRING:
		if (arg[0] == '\0')
			return opt_fail(err, err_len, "--%s: empty value", s->name);
		*(const char **)f = arg;
		return 0;
	case OPT_IPV4: {
		struct in_addr a;

		if (inet_pton(AF_INET, arg, &a) != 1)
			return opt_fail(err, err_len,
					"--%s: '%s' is not an IPv4 address (A.B.C.D)", s->name, arg);
		*(uint32_t *)f = a.s_addr;
		return 0;
	}
	case OPT_CHOICE:
		i = s->choices ? opt_choice_index(s->choices, arg) : -1;
		if (i < 0)
			return opt_fail(err, err_len, "--%s: '%s' is not one of %s", s->name, arg,
					s->choices ? s->choices : "(none)");
		if (!opt_store_uint(s, dest, (uint64_t)i))
			return opt_fail(err, err_len, "--%s: choice field of %zu bytes", s->name,
					s->size);
		return 0;
	case OPT_CUSTOM:
		why[0] = '\0';
		if (s->parse == NULL || s->parse(s, arg, f, why, sizeof(why)) != 0)
			return opt_fail(err, err_len, "--%s: '%s' is not %s", s->name, arg,
					why[0] ? why : "valid");
		return 0;
	}
	return opt_fail(err, err_len, "--%s: unknown kind %d", s->name, (int)s->kind);
}

const char *opt_format(const struct opt_spec *s, const void *src, char *buf, size_t len)
{
	const void *f = opt_cfield(s, src);

	switch (s->kind) {
	case OPT_FLAG:
	case OPT_ONOFF:
		snprintf(buf, len, "%s", *(const bool *)f ? "on" : "off");
		break;
	case OPT_U64:
		snprintf(buf, len, "%" PRIu64, opt_load_uint(s, src) / opt_scale(s));
		break;
	case OPT_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)f);
		break;
	case OPT_STRING: {
		const char *v = *(const char *const *)f;

		snprintf(buf, len, "%s", v ? v : "");
		break;
	}
	case OPT_IPV4: {
		char a[INET_ADDRSTRLEN];

		snprintf(buf, len, "%s",
			 inet_ntop(AF_INET, f, a, sizeof(a)) ? a : "?");
		break;
	}
	case OPT_CHOICE:
		if (s->choices == NULL ||
		    !opt_choice_word(s->choices, (unsigned)opt_load_uint(s, src), buf, len))
			snprintf(buf, len, "?");
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return buf;
}

int opt_defaults(const struct opt_spec *specs, size_t n, void *dest, char *err, size_t err_len)
{
	for (size_t i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];
		int rc;

		if (s->def == NULL || (s->flags & OPT_DEF_TEXT)) {
			if (s->kind == OPT_FLAG)
				*(bool *)opt_field(s, dest) = false;
			continue;
		}
		rc = opt_apply(s, s->def, dest, err, err_len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int opt_find(const struct opt_spec *specs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool opt_in_scope(const struct opt_spec *s, uint32_t scope)
{
	return scope == 0 || s->scope == 0 || (s->scope & scope) != 0;
}

/* The entry for "--name" (len bytes) or "-c" (name NULL): the first in
 * scope, else the first at all (so the caller can say it does not apply). */
static int opt_lookup(const struct opt_spec *specs, size_t n, const char *name, size_t len,
		      char c, uint32_t scope)
{
	int any = -1;

	for (size_t i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];
		bool match = name ? strlen(s->name) == len && memcmp(s->name, name, len) == 0
				  : c != 0 && s->short_name == c;

		if (!match)
			continue;
		if (opt_in_scope(s, scope))
			return (int)i;
		if (any < 0)
			any = (int)i;
	}
	return any;
}

/* The parse loop behind opt_parse (words NULL) and opt_parse_words. */
struct opt_run {
	uint32_t scope;
	const char *scope_name;
	bool stop_at_arg;
	const char **words;
	unsigned max_words;
	unsigned *n_words;
};

static int opt_word(const struct opt_run *r, const char *w, char *err, size_t err_len)
{
	if (*r->n_words >= r->max_words)
		return opt_fail(err, err_len, "unexpected argument '%s'", w);
	r->words[(*r->n_words)++] = w;
	return 0;
}

/* One option word argv[*i] (and its value, which may be argv[*i + 1]). */
static int opt_one(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
		   int *i, const struct opt_run *r, struct opt_result *res, char *err,
		   size_t err_len)
{
	const char *w = argv[*i];
	const char *inl = NULL;
	size_t len = 0;
	int id;

	if (w[1] == '-') {
		const char *eq = strchr(w + 2, '=');

		len = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
		inl = eq ? eq + 1 : NULL;
		id = opt_lookup(specs, n, w + 2, len, 0, r->scope);
	} else {
		inl = w[2] ? w + 2 : NULL;
		id = opt_lookup(specs, n, NULL, 0, w[1], r->scope);
	}
	if (id < 0) {
		bool help = w[1] == '-' ? len == 4 && memcmp(w + 2, "help", 4) == 0
					: w[1] == 'h' && w[2] == 0;
		bool md = w[1] == '-' && len == 13 && memcmp(w + 2, "help-markdown", 13) == 0;

		if ((help || md) && inl != NULL)
			return opt_fail(err, err_len, "--%.*s takes no value", (int)len, w + 2);
		if (help || md) {
			res->help |= help;
			res->help_markdown |= md;
			return 0;
		}
		if (w[1] == '-')
			return opt_fail(err, err_len, "unknown option '--%.*s' (see --help)",
					(int)len, w + 2);
		return opt_fail(err, err_len, "unknown option '%s' (see --help)", w);
	}
	const struct opt_spec *s = &specs[id];

	if (!opt_in_scope(s, r->scope)) {
		if (r->scope_name)
			return opt_fail(err, err_len, "--%s does not apply to '%s'", s->name,
					r->scope_name);
		return opt_fail(err, err_len, "--%s does not apply to this command", s->name);
	}
	if (s->kind == OPT_FLAG) {
		if (inl != NULL)
			return opt_fail(err, err_len, "--%s takes no value", s->name);
		*(bool *)opt_field(s, dest) = true;
	} else {
		int rc;

		if (inl == NULL) {
			if (*i + 1 >= argc)
				return opt_fail(err, err_len, "--%s needs a value (%s)", s->name,
						s->meta ? s->meta : "VALUE");
			inl = argv[++*i];
		}
		rc = opt_apply(s, inl, dest, err, err_len);
		if (rc != 0)
			return rc;
	}
	res->seen[id] = true;
	return 0;
}

static int opt_run(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
		   const struct opt_run *r, struct opt_result *res, char *err, size_t err_len)
{
	int rc;

	memset(res, 0, sizeof(*res));
	res->first_arg = argc;
	if (r->words)
		*r->n_words = 0;
	if (n > OPT_MAX_OPTIONS)
		return opt_fail(err, err_len, "%zu options: more than %d", n, OPT_MAX_OPTIONS);
	rc = opt_defaults(specs, n, dest, err, err_len);
	if (rc != 0)
		return rc;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			res->first_arg = i + 1;
			for (i++; r->words && i < argc; i++) {
				rc = opt_word(r, argv[i], err, err_len);
				if (rc != 0)
					return rc;
			}
			break;
		}
		if (w[0] != '-' || w[1] == '\0') {
			if (r->words) {
				rc = opt_word(r, w, err, err_len);
				if (rc != 0)
					return rc;
				continue;
			}
			if (r->stop_at_arg) {
				res->first_arg = i;
				break;
			}
			return opt_fail(err, err_len,
					"unexpected argument '%s' (options start with --)", w);
		}
		rc = opt_one(specs, n, dest, argc, argv, &i, r, res, err, err_len);
		if (rc != 0)
			return rc;
	}
	if (res->help || res->help_markdown)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];

		if ((s->flags & OPT_REQUIRED) && !res->seen[i] && opt_in_scope(s, r->scope))
			return opt_fail(err, err_len, "--%s is required: %s", s->name,
					s->help ? s->help : "");
	}
	return 0;
}

int opt_parse(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
	      uint32_t scope, bool stop_at_arg, struct opt_result *res, char *err, size_t err_len)
{
	const struct opt_run r = {.scope = scope, .stop_at_arg = stop_at_arg};

	return opt_run(specs, n, dest, argc, argv, &r, res, err, err_len);
}

int opt_parse_words(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
		    uint32_t scope, const char *scope_name, const char **words,
		    unsigned max_words, unsigned *n_words, struct opt_result *res, char *err,
		    size_t err_len)
{
	const struct opt_run r = {
		.scope = scope,
		.scope_name = scope_name,
		.words = words,
		.max_words = max_words,
		.n_words = n_words,
	};

	return opt_run(specs, n, dest, argc, argv, &r, res, err, err_len);
}

/* "-x, --name META" or "    --name META". */
static void opt_left(const struct opt_spec *s, char *buf, size_t len)
{
	const char *meta = s->kind == OPT_FLAG ? NULL : s->meta ? s->meta : "VALUE";

	if (s->short_name)
		snprintf(buf, len, "-%c, --%s%s%s", s->short_name, s->name, meta ? " " : "",
			 meta ? meta : "");
	else
		snprintf(buf, len, "    --%s%s%s", s->name, meta ? " " : "", meta ? meta : "");
}

/* `text` from column `col` on, wrapped at blanks before OPT_HELP_WIDTH and
 * continued at column OPT_HELP_COLUMN + 1. */
static void opt_print_wrapped(FILE *out, const char *text, size_t col)
{
	const size_t start = OPT_HELP_COLUMN + 1;
	bool first = true;

	while (*text) {
		size_t w = strcspn(text, " ");

		if (!first && col + 1 + w > OPT_HELP_WIDTH) {
			fprintf(out, "\n%*s", (int)start, "");
			col = start;
		} else {
			fputc(' ', out);
			col++;
		}
		fwrite(text, 1, w, out);
		col += w;
		text += w;
		while (*text == ' ')
			text++;
		first = false;
	}
}

void opt_print_help(FILE *out, const struct opt_spec *specs, size_t n, uint32_t scope,
		    const char *usage)
{
	if (usage) {
		size_t l = strlen(usage);

		fputs(usage, out);
		if (l > 0 && usage[l - 1] != '\n')
			fputc('\n', out);
	}
	for (size_t i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];
		char left[96], range[96], text[1024];
		size_t len;

		if ((s->flags & OPT_HIDDEN) || !opt_in_scope(s, scope))
			continue;
		opt_left(s, left, sizeof(left));
		if (strlen(left) > OPT_HELP_COLUMN - 2)
			fprintf(out, "  %s\n  %-*s", left, OPT_HELP_COLUMN - 2, "");
		else
			fprintf(out, "  %-*s", OPT_HELP_COLUMN - 2, left);
		len = (size_t)snprintf(text, sizeof(text), "%s", s->help ? s->help : "");
		if (s->def && len < sizeof(text))
			len += (size_t)snprintf(text + len, sizeof(text) - len, " [default: %s]",
						s->def);
		opt_range_text(s, range, sizeof(range));
		if (range[0] && len < sizeof(text) &&
		    ((s->kind != OPT_CHOICE && s->kind != OPT_ONOFF) || s->meta == NULL ||
		     strcmp(s->meta, range) != 0))
			len += (size_t)snprintf(text + len, sizeof(text) - len, " (%s)", range);
		if ((s->flags & OPT_REQUIRED) && len < sizeof(text))
			snprintf(text + len, sizeof(text) - len, " (required)");
		opt_print_wrapped(out, text, OPT_HELP_COLUMN);
		fputc('\n', out);
	}
	fprintf(out, "  %-*s %s\n", OPT_HELP_COLUMN - 2, "-h, --help", "print this help");
}

/* Text for one markdown cell: '|' escaped, newlines as blanks. */
static void opt_md_cell(FILE *out, const char *s, bool code)
{
	if (s == NULL || s[0] == '\0') {
		fputs(code ? "-" : "", out);
		return;
	}
	if (code)
		fputc('`', out);
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s == '\n' ? ' ' : *s, out);
	}
	if (code)
		fputc('`', out);
}

void opt_print_markdown(FILE *out, const struct opt_spec *specs, size_t n)
{
	fputs("| option | value | default | range | what it does |\n", out);
	fputs("|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];
		char range[96];

		if (s->flags & OPT_HIDDEN)
			continue;
		fprintf(out, "| `--%s`", s->name);
		if (s->short_name)
			fprintf(out, ", `-%c`", s->short_name);
		fputs(" | ", out);
		opt_md_cell(out, s->kind == OPT_FLAG ? NULL : s->meta ? s->meta : "VALUE", true);
		fputs(" | ", out);
		opt_md_cell(out, s->def, true);
		fputs(" | ", out);
		opt_range_text(s, range, sizeof(range));
		opt_md_cell(out, range, false);
		fputs(" | ", out);
		opt_md_cell(out, s->help, false);
		if (s->flags & OPT_REQUIRED)
			fputs(" (required)", out);
		fputs(" |\n", out);
	}
	fputs("| `--help`, `-h` | - | - |  | print this help |\n", out);
}
