/* human.h - numbers as people read them, for warpctl's tables.
 *
 *   human_count     human.c  12345678 -> "12.3 M"     (SI: k M G T P)
 *   human_rate      human.c  1234567.0 -> "1.23 M/s"
 *   human_bytes     human.c  536870912 -> "512 MiB"   (binary: KiB MiB GiB TiB)
 *   human_byte_rate human.c  1048576.0 -> "1 MiB/s"
 *   human_seconds   human.c  0.0012 -> "1.2 ms"        (ns us ms s)
 *   human_uptime    human.c  93784 -> "1d 02h 03m"
 *   human_percent   human.c  0.1234 -> "12.3 %"
 *
 * Three significant digits, trailing zeros dropped ("%.3g" after scaling);
 * a value that would round to 1000 of a unit moves to the next unit. Each
 * writes into buf (always terminated) and returns buf, so calls nest in a
 * printf. Not-a-number and negative values print as they are ("nan", "-5").
 */
#ifndef WARPCTL_HUMAN_H
#define WARPCTL_HUMAN_H

#include <stddef.h>
#include <stdint.h>

#define HUMAN_BUF 32 /* enough for every function here */

const char *human_count(double v, char *buf, size_t len);
const char *human_rate(double per_s, char *buf, size_t len);
const char *human_bytes(double bytes, char *buf, size_t len);
const char *human_byte_rate(double bytes_per_s, char *buf, size_t len);
const char *human_seconds(double s, char *buf, size_t len);
const char *human_uptime(double s, char *buf, size_t len);
const char *human_percent(double fraction, char *buf, size_t len);

#endif
