/* settings_store.h - warp-control's own settings (health thresholds,
 * entropy_limit, the automatic rebalance) and the persistence of every live setting.
 *
 *   settings_store_init     settings_store.c  defaults, then DIR/configuration/ if present
 *   settings_control_json   settings_store.c  the control settings as config-get shows them
 *   settings_control_set    settings_store.c  change one control setting (checked)
 *   settings_is_control     settings_store.c  is NAME a control setting
 *   settings_remember_dp    settings_store.c  note a data-plane setting that was changed
 *   settings_save           settings_store.c  write both files (temp, fsync, rename, fsync dir)
 *   settings_dp_requests    settings_store.c  the config-set requests that restore the
 *                                             data plane's persisted settings
 *   settings_store_free     settings_store.c
 *
 * Files: DIR/configuration/physics_constants.json holds
 * {"universe": {NAME: VALUE}, "control": {NAME: VALUE}} and
 * DIR/configuration/worker_laws.json {"worker": {NAME: VALUE or
 * {"WORKER": VALUE}}}; values are the text as typed. Without a data
 * directory nothing is persisted (config-set answers "persisted": false).
 */
#ifndef CONTROL_SETTINGS_STORE_H
#define CONTROL_SETTINGS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "health.h"
#include "we_compiler.h"

/* The demon's automatic mode (docs/entropy.md). */
struct rebalance_settings {
	double auto_on;     /* rebalance_auto: 1 on, 0 off */
	double threshold;   /* entropy_rebalance_threshold: max/mean that triggers */
	double cooldown_s;  /* rebalance_cooldown_s: at least this between rebalances */
};

struct settings_store {
	struct health_limits limits;
	struct rebalance_settings rebalance;
	json_t *universe; /* {name: "value"} */
	json_t *worker;   /* {name: "value" | {"0": "value", ...}} */
	char dir[512];    /* DIR/configuration, "" without a data directory */
};

/* 0, or -errno and a sentence (a file that is not what it should be). The
 * store is usable (defaults) even when this fails. */
int settings_store_init(struct settings_store *st, const char *data_dir, char *err,
			size_t err_len);
void settings_store_free(struct settings_store *st);
bool settings_is_control(const char *name);
/* [{"name","scope":"control","value","unit","range","live","role","effect"}]; name NULL: all. */
json_t *settings_control_json(const struct settings_store *st, const char *name);
/* 0, or -EINVAL and a sentence naming the setting, the value and the range. */
int settings_control_set(struct settings_store *st, const char *name, const char *text, char *err,
			 size_t err_len) we_must_check;
/* worker < 0: every worker (or a universe setting). */
void settings_remember_dp(struct settings_store *st, const char *scope, const char *name,
			  const char *value, int worker);
/* 0 written, 1 nothing to write (no data directory), -errno with a sentence. */
int settings_save(const struct settings_store *st, char *err, size_t err_len);
/* A new array of {"command":"config-set", ...} requests. */
json_t *settings_dp_requests(const struct settings_store *st);

#endif
