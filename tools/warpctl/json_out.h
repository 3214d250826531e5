/* json_out.h - a JSON value printed for people and scripts alike.
 *
 *   json_out_pretty  json_out.c  indented two spaces, keys in the order received,
 *                                reals in their shortest exact form, newline at the end
 *
 * jansson's own dump prints reals with 17 digits (0.1 becomes
 * 0.10000000000000001); --json promises the result "as received", so reals
 * are printed with the fewest digits that read back as the same double.
 */
#ifndef WARPCTL_JSON_OUT_H
#define WARPCTL_JSON_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "we_compiler.h"

/* 0, or -EIO when out reports a write error. */
int json_out_pretty(FILE *out, const json_t *v) we_must_check;
/* The shortest "%.Ng" form of d that reads back as d, with ".0" added to
 * whole numbers so it stays a real. Returns buf. */
const char *json_out_real(double d, char *buf, size_t len);

#endif
