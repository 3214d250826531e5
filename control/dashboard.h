/* dashboard.h - the `dashboard` answer: the specification's shape, every
 * number measured from the last two samples (pure).
 *
 *   dashboard_build   dashboard.c  samples + health + figures -> the dashboard object
 *
 * Each number's meaning is in the answer's "meaning" object (and in
 * docs/control.md); a number that cannot be measured is null.
 */
#ifndef CONTROL_DASHBOARD_H
#define CONTROL_DASHBOARD_H

#include <stdbool.h>

#include <jansson.h>

struct dashboard_input {
	const json_t *prev, *cur; /* stats results (prev may be NULL; cur NULL: never sampled) */
	const json_t *shards;     /* shards result or NULL */
	const json_t *health;     /* health_compute's object */
	double interval_s;        /* between prev and cur */
	bool dp_up;
	double entropy_limit;
	double data_dir_bytes;    /* bytes in the data directory's files; < 0: none/unknown */
};

json_t *dashboard_build(const struct dashboard_input *in);

#endif
