/* settings_store.c - control settings and their persistence (see
 * settings_store.h).
 *
 * DESIGN: the control settings are one table (name, unit, range, default,
 * effect, field); config-get, config-set and the docs come from it. A file
 * is replaced whole (json_file.h): written to NAME.tmp, fsync'd, renamed
 * over NAME, and the directory fsync'd, so a crash leaves the old file or
 * the new one.
 */
#include "settings_store.h"

#include "json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct control_setting {
	const char *name;
	const char *unit;
	double min, max, def;
	const char *effect;
	size_t offset; /* of the double in struct settings_store */
	bool onoff;    /* typed on|off (also true|false, 1|0), held as 1 or 0 */
};

#define LIMIT(f) offsetof(struct settings_store, limits.f), false
#define REBALANCE(f) offsetof(struct settings_store, rebalance.f), false
#define REBALANCE_ONOFF(f) offsetof(struct settings_store, rebalance.f), true

static const struct control_setting control_settings[] = {
	{"heartbeat_threshold_ms", "ms", 1, 600000, 1000,
	 "universe_stability is critical when a worker's heartbeat is older than this",
	 LIMIT(heartbeat_ms)},
	{"entropy_limit", "ratio", 1, 1024, 1.5,
	 "entropy_levels is critical when the busiest worker's request share exceeds the mean "
	 "share by this factor",
	 LIMIT(entropy_limit)},
	{"wormhole_error_threshold", "ratio", 0, 1, 0.01,
	 "wormhole_connectivity is critical above this many forwarding errors per forwarded "
	 "request",
	 LIMIT(fwd_error_ratio)},
	{"vacuum_drop_threshold", "ratio", 0, 1, 0.01,
	 "vacuum_stability is critical above this many dropped or malformed frames per frame",
	 LIMIT(drop_ratio)},
	{"disk_free_threshold", "ratio", 0, 1, 0.10,
	 "spacetime_integrity is critical when the data directory's filesystem has less free "
	 "space than this share (warning below twice it)",
	 LIMIT(disk_free_ratio)},
	{"memory_used_threshold", "ratio", 0, 1, 0.90,
	 "quantum_coherence is critical when a shard's item memory is fuller than this",
	 LIMIT(memory_used_ratio)},
	{"rebalance_auto", "on|off", 0, 1, 0,
	 "on: warp-control runs a moderate rebalance when the workers' load max/mean stays above "
	 "entropy_rebalance_threshold for 3 samples and rebalance_cooldown_s has passed",
	 REBALANCE_ONOFF(auto_on)},
	{"entropy_rebalance_threshold", "ratio", 1.01, 1024, 1.5,
	 "the automatic rebalance's trigger: the workers' request-rate max/mean", REBALANCE(threshold)},
	{"rebalance_cooldown_s", "s", 0, 86400, 30,
	 "the automatic rebalance waits this long after the end of the last rebalance",
	 REBALANCE(cooldown_s)},
};

#define N_CONTROL (sizeof(control_settings) / sizeof(control_settings[0]))

static const struct control_setting *find(const char *name)
{
	for (size_t i = 0; i < N_CONTROL; i++)
		if (strcmp(control_settings[i].name, name) == 0)
			return &control_settings[i];
	return NULL;
}

bool settings_is_control(const char *name)
{
	return find(name) != NULL;
}

static double *field(struct settings_store *st, const struct control_setting *s)
{
	return (double *)((char *)st + s->offset);
}

int settings_control_set(struct settings_store *st, const char *name, const char *text, char *err,
			 size_t err_len)
{
	const struct control_setting *s = find(name);
	char *end;
	double v;

	if (s == NULL) {
		snprintf(err, err_len, "%.64s: not a control setting", name);
		return -ENOENT;
	}
	if (s->onoff) {
		bool on = strcmp(text, "on") == 0 || strcmp(text, "true") == 0 ||
			  strcmp(text, "1") == 0;

		if (!on && strcmp(text, "off") != 0 && strcmp(text, "false") != 0 &&
		    strcmp(text, "0") != 0) {
			snprintf(err, err_len, "%s: '%.64s' is not on or off", name, text);
			return -EINVAL;
		}
		*field(st, s) = on;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (*text == 0 || *end != 0 || errno != 0 || isnan(v) || v < s->min || v > s->max) {
		snprintf(err, err_len, "%s: '%.64s' is not a number in %g..%g %s", name, text, s->min,
			 s->max, s->unit);
		return -EINVAL;
	}
	*field(st, s) = v;
	return 0;
}

json_t *settings_control_json(const struct settings_store *st, const char *name)
{
	json_t *a = json_array();

	for (size_t i = 0; i < N_CONTROL; i++) {
		const struct control_setting *s = &control_settings[i];
		char range[64];

		if (name != NULL && strcmp(name, s->name) != 0)
			continue;
		double v = *field((struct settings_store *)st, s);

		snprintf(range, sizeof(range), s->onoff ? "on|off" : "%g..%g", s->min, s->max);
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:o, s:s, s:s, s:b, s:s, s:s}", "name", s->name,
				     "scope", "control", "value",
				     s->onoff ? json_string(v != 0 ? "on" : "off") : json_real(v),
				     "unit", s->onoff ? "" : s->unit, "range", range, "live", 1,
				     "role", "operate", "effect", s->effect));
	}
	return a;
}

void settings_remember_dp(struct settings_store *st, const char *scope, const char *name,
			  const char *value, int worker)
{
	if (strcmp(scope, "worker") != 0) {
		json_object_set_new(st->universe, name, json_string(value));
	} else if (worker < 0) {
		json_object_set_new(st->worker, name, json_string(value));
	} else {
		json_t *per = json_object_get(st->worker, name);
		char key[16];

		if (!json_is_object(per)) {
			per = json_object();
			json_object_set_new(st->worker, name, per);
		}
		snprintf(key, sizeof(key), "%d", worker);
		json_object_set_new(per, key, json_string(value));
	}
}

static json_t *load(const char *path, char *err, size_t err_len, int *rc)
{
	json_error_t je;
	json_t *j;

	if (access(path, F_OK) != 0)
		return NULL;
	j = json_load_file(path, 0, &je);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, err_len, "%s: not a JSON object (%s); defaults used", path,
			 j == NULL ? je.text : "another value");
		json_decref(j);
		*rc = -EINVAL;
		return NULL;
	}
	return j;
}

int settings_store_init(struct settings_store *st, const char *data_dir, char *err,
			size_t err_len)
{
	char path[600];
	json_t *phys, *laws;
	const char *name;
	json_t *v;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < N_CONTROL; i++)
		*field(st, &control_settings[i]) = control_settings[i].def;
	st->universe = json_object();
	st->worker = json_object();
	if (data_dir == NULL)
		return 0;
	snprintf(st->dir, sizeof(st->dir), "%s/configuration", data_dir);
	snprintf(path, sizeof(path), "%s/physics_constants.json", st->dir);
	phys = load(path, err, err_len, &rc);
	snprintf(path, sizeof(path), "%s/worker_laws.json", st->dir);
	laws = load(path, err, err_len, &rc);
	json_object_foreach(json_object_get(phys, "control"), name, v) {
		char text[64], why[256];

		snprintf(text, sizeof(text), "%.17g", json_number_value(v));
		if (json_is_string(v))
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		if (settings_control_set(st, name, text, why, sizeof(why)) != 0 && rc == 0) {
			snprintf(err, err_len, "physics_constants.json: %s (ignored)", why);
			rc = -EINVAL;
		}
	}
	json_object_foreach(json_object_get(phys, "universe"), name, v)
		if (json_is_string(v))
			json_object_set(st->universe, name, v);
	json_object_foreach(json_object_get(laws, "worker"), name, v)
		if (json_is_string(v) || json_is_object(v))
			json_object_set(st->worker, name, v);
	json_decref(phys);
	json_decref(laws);
	return rc;
}

void settings_store_free(struct settings_store *st)
{
	json_decref(st->universe);
	json_decref(st->worker);
	st->universe = st->worker = NULL;
}

int settings_save(const struct settings_store *st, char *err, size_t err_len)
{
	json_t *control, *phys, *laws;
	int rc;

	if (st->dir[0] == 0)
		return 1;
	control = json_object();
	char parent[sizeof(st->dir)];

	snprintf(parent, sizeof(parent), "%s", st->dir);
	*strrchr(parent, '/') = 0; /* DIR itself, made if missing */
	if ((mkdir(parent, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(st->dir, 0700) != 0 && errno != EEXIST)) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", st->dir, strerror(-rc));
		json_decref(control);
		return rc;
	}
	for (size_t i = 0; i < N_CONTROL; i++)
		json_object_set_new(control, control_settings[i].name,
				    json_real(*field((struct settings_store *)st,
						     &control_settings[i])));
	phys = json_pack("{s:O, s:o}", "universe", st->universe, "control", control);
	laws = json_pack("{s:O}", "worker", st->worker);
	rc = json_file_write_atomic(st->dir, "physics_constants.json", phys, err, err_len);
	if (rc == 0)
		rc = json_file_write_atomic(st->dir, "worker_laws.json", laws, err, err_len);
	json_decref(phys);
	json_decref(laws);
	return rc;
}

json_t *settings_dp_requests(const struct settings_store *st)
{
	json_t *a = json_array();
	const char *name, *w;
	json_t *v, *pv;

	json_object_foreach(st->universe, name, v)
		json_array_append_new(a, json_pack("{s:s, s:s, s:O}", "command", "config-set",
						   "name", name, "value", v));
	json_object_foreach(st->worker, name, v) {
		if (json_is_string(v)) {
			json_array_append_new(a, json_pack("{s:s, s:s, s:O}", "command",
							   "config-set", "name", name, "value", v));
			continue;
		}
		json_object_foreach(v, w, pv)
			json_array_append_new(a, json_pack("{s:s, s:s, s:O, s:i}", "command",
							   "config-set", "name", name, "value", pv,
							   "worker", atoi(w)));
	}
	return a;
}
