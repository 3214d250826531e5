/* hgrm.h - a latency histogram as HdrHistogram's percentile distribution
 * (the ".hgrm" text that HdrHistogram's outputPercentileDistribution prints
 * and its plotters read), no DPDK.
 *
 *   hgrm_write()        the table and footer to a stream, values in microseconds
 *   hgrm_write_file()   the same into a file
 *   hgrm_next_level()   the percentile levels the table reports, one after another
 *
 * Layout, one row per reported percentile level, then the footer:
 *
 *          Value     Percentile TotalCount 1/(1-Percentile)
 *
 *          1.234 0.500000000000      50123           2.00
 *          ...
 *         88.001 1.000000000000     100246
 *   #[Mean    =        1.402, StdDeviation   =        0.950]
 *   #[Max     =       88.001, Total count    =       100246]
 *   #[Buckets =           31, SubBuckets     =          128]
 *
 * Value is in microseconds (HGRM_UNIT_NS nanoseconds), with 3 decimals: the
 * histogram's nanoseconds exactly.
 */
#ifndef BLASTER_HGRM_H
#define BLASTER_HGRM_H

#include <stdio.h>

#include "hist.h"
#include "we_compiler.h"

#define HGRM_UNIT_NS 1000.0         /* Value column and footer: microseconds */
#define HGRM_TICKS_PER_HALF 5       /* rows per halving of the distance to 100% */

/* Level after `level` (percent, 0 <= level < 100): the distance to 100% is
 * cut into HGRM_TICKS_PER_HALF steps per halving, as HdrHistogram's
 * percentile iterator does: 0, 10, .. 50, 55, .. 75, 77.5, .. 87.5, 88.75, .. */
double hgrm_next_level(double level);

/* Write h to out. Each row's value is what hist_percentile() reports for the
 * row's level (the same nearest-rank rule), so the table and the JSON report
 * agree wherever they name the same percentile. Returns 0, or -EIO when the
 * stream failed. */
int hgrm_write(FILE *out, const struct hist *h) we_must_check;
/* Create or truncate path and write h into it. Returns 0 or -errno. */
int hgrm_write_file(const char *path, const struct hist *h) we_must_check;

#endif
