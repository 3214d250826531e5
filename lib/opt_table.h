/* opt_table.h - one typed option table per program, one parser for all.
 *
 *   opt_parse          opt_table.c  argv -> the program's options struct
 *   opt_parse_words    opt_table.c  the same, with words (a command, its arguments) among options
 *   opt_defaults       opt_table.c  every default into the struct
 *   opt_print_help     opt_table.c  --help text from the table
 *   opt_print_markdown opt_table.c  the docs' option table from the table
 *   opt_find           opt_table.c  an option by long name
 *   opt_apply          opt_table.c  one value, checked, into its field (live settings)
 *   opt_format         opt_table.c  a field's current value as text
 *
 * DESIGN: each program (data plane, blaster, client, control process,
 * warpctl) declares its options once as an array of struct opt_spec: name,
 * kind, default, range, unit, help and where the value goes (offsetof into
 * the program's options struct). The parser, --help and the markdown that
 * docs/ embed are all generated from that array, so they cannot drift.
 * Values that are not plain (a key-size range, an op mix) use OPT_CUSTOM
 * with a parse function that writes the value or says why not; combinations
 * of options are checked by the program after opt_parse, using `seen`.
 * One name may appear twice with disjoint scopes when its kind depends on
 * the sub-command (a flag for one, a value for another): the parser takes
 * the entry whose scope holds the sub-command.
 *
 * Every parser also accepts --help (-h) and the hidden --help-markdown (the
 * docs' option table); both are reported in struct opt_result.
 *
 * Errors name the option, the value given and what was expected, e.g.
 * "--wal-ring-mb: '3' is not a power of two in 1..1024 MiB". Nothing here
 * prints unless asked to (opt_print_*), and nothing exits.
 */
#ifndef OPT_TABLE_H
#define OPT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "we_compiler.h"

enum opt_kind {
	OPT_FLAG,   /* no value; sets a bool to true (false before parsing, or `def`) */
	OPT_ONOFF,  /* "on" | "off" -> bool */
	OPT_U64,    /* decimal unsigned in [min, max], times `scale`, stored in `size` bytes */
	OPT_DOUBLE, /* decimal real in [dmin, dmax] -> double */
	OPT_STRING, /* non-empty text -> const char * (points into argv) */
	OPT_IPV4,   /* A.B.C.D -> uint32_t, network byte order */
	OPT_CHOICE, /* one word of `choices` ("a|b|c") -> its index, stored in `size` bytes */
	OPT_CUSTOM, /* `parse` decides; dest is the field at `offset` (may be a whole struct) */
};

/* Flags of an option. */
#define OPT_REQUIRED (1u << 0) /* opt_parse fails when it is absent */
#define OPT_POW2 (1u << 1)     /* OPT_U64: a power of two */
#define OPT_DEF_TEXT (1u << 2) /* `def` describes the default ("auto"): shown, not applied */
#define OPT_BASE0 (1u << 3)    /* OPT_U64: also 0x hex and 0 octal (strtoull base 0) */
#define OPT_HIDDEN (1u << 4)   /* parsed but left out of --help and the markdown */

struct opt_spec;

/* OPT_CUSTOM: parse `arg` into `dest`; 0, or -EINVAL with what was
 * expected in why (e.g. "a size B or a range A-B in 1..250 bytes"). */
typedef int (*opt_parse_fn)(const struct opt_spec *spec, const char *arg, void *dest,
			    char *why, size_t why_len);

struct opt_spec {
	const char *name;    /* long name without "--" */
	char short_name;     /* 0: none */
	enum opt_kind kind;
	const char *meta;    /* the value's placeholder in --help ("MIB", "PATH"); NULL for flags */
	const char *def;     /* default as the user would type it; NULL: none (help shows "-") */
	const char *unit;    /* "MiB", "us", "s", "items"...; NULL: none */
	uint64_t min, max;   /* OPT_U64: the range as typed, before scale */
	uint64_t scale;      /* OPT_U64: stored value = typed value * scale; 0 means 1 */
	double dmin, dmax;   /* OPT_DOUBLE */
	const char *choices; /* OPT_CHOICE: "strong|eventual|weak" */
	opt_parse_fn parse;  /* OPT_CUSTOM */
	unsigned flags;      /* OPT_REQUIRED, OPT_POW2 */
	uint32_t scope;      /* which sub-commands accept it (bit mask); 0: all */
	size_t offset;       /* where the value goes: offsetof(struct ..., field) */
	size_t size;         /* sizeof the field (OPT_U64: 1, 2, 4 or 8) */
	const char *help;    /* one line: what it does */
};

/* The field of struct `type` named `field`: offset and size for a spec. */
#define OPT_AT(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

#define OPT_MAX_OPTIONS 128

struct opt_result {
	/* seen[i]: option i of the table was given on the command line. */
	bool seen[OPT_MAX_OPTIONS];
	bool help;          /* --help / -h was given */
	bool help_markdown; /* --help-markdown was given (also skips the required check) */
	int first_arg;      /* index in argv of the first non-option argument (argc: none) */
};

/* Write every option's default (where it has one) into `dest`. 0, or
 * -EINVAL and a message if a default does not parse (a table bug). */
int opt_defaults(const struct opt_spec *specs, size_t n, void *dest, char *err,
		 size_t err_len) we_must_check;

/* Defaults first, then argv[1..] into `dest` (fields without a default keep
 * what the caller put there: zero it first). Exact names only: "--name V",
 * "--name=V", "-c V", "-cV". `scope` is the sub-command's bit (0: no
 * sub-commands); an option whose scope excludes it is refused.
 * Parsing stops at "--" or, with stop_at_arg, at the first argument that is
 * not an option (sub-command CLIs); otherwise a stray argument is an error.
 * --help/-h is always accepted (res->help) and skips the required check.
 * Returns 0, or -EINVAL and a sentence in err. */
int opt_parse(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
	      uint32_t scope, bool stop_at_arg, struct opt_result *res, char *err,
	      size_t err_len) we_must_check;

/* opt_parse for command lines that mix options and words ("put KEY VALUE"
 * before, between or after options): non-option words are collected into
 * words[0..max_words) (*n_words of them), a further one is an error
 * ("unexpected argument 'x'"), and everything after "--" is a word.
 * scope_name names the sub-command in "--x does not apply to 'NAME'" (NULL:
 * "to this command"). */
int opt_parse_words(const struct opt_spec *specs, size_t n, void *dest, int argc, char **argv,
		    uint32_t scope, const char *scope_name, const char **words,
		    unsigned max_words, unsigned *n_words, struct opt_result *res, char *err,
		    size_t err_len) we_must_check;

/* --help: "usage" (may be NULL), then one line per option in scope:
 * "  --name META   help [default: D] (unit, range)". */
void opt_print_help(FILE *out, const struct opt_spec *specs, size_t n, uint32_t scope,
		    const char *usage);

/* A markdown table (| option | value | default | range | what it does |). */
void opt_print_markdown(FILE *out, const struct opt_spec *specs, size_t n);

/* Index of the option called name (no "--"), or -1; the first such entry. */
int opt_find(const struct opt_spec *specs, size_t n, const char *name);

/* Check `arg` against one spec and store it into dest (the struct the
 * offsets refer to): what opt_parse does per option, also used for
 * settings changed at run time (config set). OPT_FLAG takes "on"/"off" here.
 * 0, or -EINVAL and "--name: 'arg' is not ..." in err. */
int opt_apply(const struct opt_spec *spec, const char *arg, void *dest, char *err,
	      size_t err_len) we_must_check;

/* The field's current value as the user would type it ("32", "on",
 * "eventual", "10.0.0.1"); OPT_CUSTOM fields print as "?". Returns buf. */
const char *opt_format(const struct opt_spec *spec, const void *src, char *buf, size_t len);

#endif
