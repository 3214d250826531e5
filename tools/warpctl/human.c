/* human.c - numbers as people read them (see human.h).
 *
 * DESIGN: one scaler (human_scaled) walks a list of unit prefixes with a
 * step (1000 or 1024) and prints three significant digits; every function
 * is that scaler with its own prefixes and suffix, except the uptime,
 * which is a clock reading and so is split into days, hours, minutes.
 */
#include "human.h"

#include <math.h>
#include <stdio.h>

/* v in units[0] scaled by step until it is below 1000 (after rounding to
 * three significant digits), then "%.3g UNIT". */
static const char *human_scaled(double v, double step, const char *const *units, size_t n_units,
				const char *suffix, char *buf, size_t len)
{
	size_t u = 0;

	if (!isfinite(v) || v < 0) {
		snprintf(buf, len, "%g", v);
		return buf;
	}
	/* 999.7 prints as "1e+03" with %.3g: move on while it would round up. */
	while (u + 1 < n_units && v >= 999.5)
		v /= step, u++;
	/* Past the last unit %.3g would print an exponent: whole numbers then. */
	snprintf(buf, len, v >= 999.5 ? "%.0f%s%s%s" : "%.3g%s%s%s", v,
		 units[u][0] ? " " : "", units[u], suffix);
	return buf;
}

static const char *const si[] = {"", "k", "M", "G", "T", "P"};
static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

const char *human_count(double v, char *buf, size_t len)
{
	/* Small whole counts stay exact: 987, not 987 with a rounding doubt. */
	if (isfinite(v) && v >= 0 && v < 1000 && v == floor(v)) {
		snprintf(buf, len, "%.0f", v);
		return buf;
	}
	return human_scaled(v, 1000, si, sizeof(si) / sizeof(si[0]), "", buf, len);
}

const char *human_rate(double per_s, char *buf, size_t len)
{
	return human_scaled(per_s, 1000, si, sizeof(si) / sizeof(si[0]), "/s", buf, len);
}

const char *human_bytes(double bytes, char *buf, size_t len)
{
	return human_scaled(bytes, 1024, bin, sizeof(bin) / sizeof(bin[0]), "", buf, len);
}

const char *human_byte_rate(double bytes_per_s, char *buf, size_t len)
{
	return human_scaled(bytes_per_s, 1024, bin, sizeof(bin) / sizeof(bin[0]), "/s", buf, len);
}

const char *human_seconds(double s, char *buf, size_t len)
{
	static const char *const units[] = {"ns", "us", "ms", "s"};

	if (!isfinite(s) || s < 0) {
		snprintf(buf, len, "%g", s);
		return buf;
	}
	if (s == 0) {
		snprintf(buf, len, "0 s");
		return buf;
	}
	/* From nanoseconds up; seconds are the last unit (no "ks"). */
	return human_scaled(s * 1e9, 1000, units, sizeof(units) / sizeof(units[0]), "", buf, len);
}

const char *human_uptime(double s, char *buf, size_t len)
{
	uint64_t t;

	if (!isfinite(s) || s < 0) {
		snprintf(buf, len, "%g", s);
		return buf;
	}
	if (s < 60)
		return human_seconds(s, buf, len);
	t = (uint64_t)s;
	if (t < 3600)
		snprintf(buf, len, "%um %02us", (unsigned)(t / 60), (unsigned)(t % 60));
	else if (t < 86400)
		snprintf(buf, len, "%uh %02um", (unsigned)(t / 3600), (unsigned)(t % 3600 / 60));
	else
		snprintf(buf, len, "%llud %02uh %02um", (unsigned long long)(t / 86400),
			 (unsigned)(t % 86400 / 3600), (unsigned)(t % 3600 / 60));
	return buf;
}

const char *human_percent(double fraction, char *buf, size_t len)
{
	if (!isfinite(fraction)) {
		snprintf(buf, len, "%g", fraction);
		return buf;
	}
	snprintf(buf, len, "%.3g %%", fraction * 100);
	return buf;
}
