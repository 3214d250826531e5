/* settings.h - the data plane's settings that the control socket shows and
 * changes (config-get, config-set), declared once (no DPDK).
 *
 *   SETTINGS_LIST       here          name, scope, kind, unit, range, who applies it, effect
 *   settings_find       settings.c    a setting by name
 *   settings_parse      settings.c    text as typed -> value, checked; errors name the setting
 *   settings_format     settings.c    value -> text as the user would type it
 *   settings_range      settings.c    the accepted values as text ("1..100000", "on|off")
 *
 * A value is a uint64_t: a number, 0/1 for on|off, or the index of a word
 * of `choices`. Who applies a change: the workers (posted on their control
 * rings, applied in their service step), the supervisor (its own loop), or
 * nobody: the setting is fixed at start and a change needs a restart.
 * Scope "universe" settings have one value for the whole data plane,
 * "worker" settings one per worker.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum setting_scope { SETTING_SCOPE_UNIVERSE, SETTING_SCOPE_WORKER };
enum setting_kind { SETTING_ONOFF, SETTING_NUMBER, SETTING_CHOICE };
enum setting_applier {
	SETTING_BY_WORKERS,    /* live: a CTL_MSG_SET to each worker concerned */
	SETTING_BY_SUPERVISOR, /* live: the supervisor's loop reads it */
	SETTING_AT_START,      /* fixed: a restart with the option changes it */
};

/* X(ID, name, scope, kind, unit, min, max, choices, applier, start option, effect) */
#define SETTINGS_LIST(X)                                                                      \
	X(DEFAULT_CONSISTENCY, "default_consistency", SETTING_SCOPE_UNIVERSE, SETTING_CHOICE,  \
	  "", 0, 2, "strong|eventual|weak", SETTING_BY_WORKERS, "the data directory's config", \
	  "how a write without a durability flag is kept: strong answers after the log is on "  \
	  "disk, eventual answers at once and logs, weak does not log")                        \
	X(CHECKPOINT_INTERVAL_S, "checkpoint_interval_s", SETTING_SCOPE_UNIVERSE,               \
	  SETTING_NUMBER, "s", 0, 86400, NULL, SETTING_BY_SUPERVISOR, "--checkpoint-interval-s", \
	  "with a data directory, begin a checkpoint every this many seconds (0: only on "      \
	  "request); a change starts counting from now")                                       \
	X(UDP_CHECKSUM, "udp_checksum", SETTING_SCOPE_UNIVERSE, SETTING_ONOFF, "", 0, 1, NULL,  \
	  SETTING_BY_WORKERS, "--udp-checksum", "compute the UDP checksum of replies")         \
	X(ADDRESS_VALIDATION, "address_validation", SETTING_SCOPE_UNIVERSE, SETTING_ONOFF, "",  \
	  0, 1, NULL, SETTING_BY_WORKERS, "--address-validation",                              \
	  "hold senders without a valid address token to 3x the bytes they sent")             \
	X(IDLE_SLEEP_US, "idle_sleep_us", SETTING_SCOPE_WORKER, SETTING_NUMBER, "us", 1,       \
	  100000, NULL, SETTING_BY_WORKERS, "--idle-sleep-us",                                 \
	  "how long an idle worker sleeps after a run of empty polls")                         \
	X(BUSY_POLL, "busy_poll", SETTING_SCOPE_WORKER, SETTING_ONOFF, "", 0, 1, NULL,         \
	  SETTING_BY_WORKERS, "--busy-poll", "on: an idle worker never sleeps (lowest latency, " \
	  "a whole core)")                                                                     \
	X(SERVICE_HISTOGRAM, "service_histogram", SETTING_SCOPE_WORKER, SETTING_ONOFF, "", 0,  \
	  1, NULL, SETTING_BY_WORKERS, "--service-histogram",                                  \
	  "record each busy loop iteration's time in the service-time histogram (off: the "     \
	  "baseline that measures its cost)")                                                  \
	X(ACCESS_SAMPLE_EVERY, "access_sample_every", SETTING_SCOPE_WORKER, SETTING_NUMBER,    \
	  "requests", 0, 1u << 20, NULL, SETTING_BY_WORKERS, "--access-sample-every",          \
	  "count 1 of every this many executed requests in the region load and the hot-key "  \
	  "sketch (0: off)")                                                                   \
	X(TIERS, "tiers", SETTING_SCOPE_WORKER, SETTING_ONOFF, "", 0, 1, NULL,                  \
	  SETTING_BY_WORKERS, "--tiers",                                                       \
	  "compress items that cooled (LZ4, then LZ4-HC) in the service step; GETs warm what " \
	  "they read")                                                                         \
	X(EVICT, "evict", SETTING_SCOPE_WORKER, SETTING_ONOFF, "", 0, 1, NULL,                  \
	  SETTING_BY_WORKERS, "--evict",                                                       \
	  "with tiers on, a PUT that finds the shard full deletes its coldest items (a "      \
	  "cache: only without a data directory or with weak writes by default)")             \
	X(CAPACITY_ITEMS, "capacity_items", SETTING_SCOPE_WORKER, SETTING_NUMBER, "items", 0,  \
	  UINT64_MAX, NULL, SETTING_AT_START, "--capacity",                                    \
	  "items each shard's index is sized for")                                             \
	X(ARENA_MB, "arena_mb", SETTING_SCOPE_WORKER, SETTING_NUMBER, "MiB", 0, UINT64_MAX,     \
	  NULL, SETTING_AT_START, "--arena-mb", "item memory of each shard")                   \
	X(PARK_CAPACITY, "park_capacity", SETTING_SCOPE_WORKER, SETTING_NUMBER, "answers", 0,   \
	  UINT64_MAX, NULL, SETTING_AT_START, "--park-capacity",                               \
	  "STRONG answers a worker holds while their writes reach the disk")                   \
	X(WAL_RING_MB, "wal_ring_mb", SETTING_SCOPE_WORKER, SETTING_NUMBER, "MiB", 0,           \
	  UINT64_MAX, NULL, SETTING_AT_START, "--wal-ring-mb",                                 \
	  "each worker's log ring to the log writer")

enum setting_id {
#define SETTING_ENUM(id, ...) SETTING_##id,
	SETTINGS_LIST(SETTING_ENUM)
#undef SETTING_ENUM
	SETTING_COUNT
};

struct setting_spec {
	enum setting_id id;
	const char *name;
	enum setting_scope scope;
	enum setting_kind kind;
	const char *unit;    /* "" when the value has none */
	uint64_t min, max;   /* SETTING_NUMBER */
	const char *choices; /* SETTING_CHOICE: "a|b|c" */
	enum setting_applier applier;
	const char *option;  /* where its start value comes from */
	const char *effect;  /* one sentence: what it changes */
};

extern const struct setting_spec settings_table[SETTING_COUNT];

static inline bool settings_live(const struct setting_spec *s)
{
	return s->applier != SETTING_AT_START;
}

static inline const char *settings_scope_name(enum setting_scope scope)
{
	return scope == SETTING_SCOPE_WORKER ? "worker" : "universe";
}

/* The setting called name, or NULL. */
const struct setting_spec *settings_find(const char *name);

/* Check `text` for s and store it in *value. 0; -EPERM for a setting fixed
 * at start (err says a restart with its option changes it); -EINVAL for a
 * value out of range (err names the setting, the value and the range).
 * *value is untouched on error. */
int settings_parse(const struct setting_spec *s, const char *text, uint64_t *value, char *err,
		   size_t err_len);

/* value as typed ("on", "eventual", "50"). Returns buf. */
const char *settings_format(const struct setting_spec *s, uint64_t value, char *buf,
			    size_t len);

/* The accepted values ("0..86400", "on|off", "strong|eventual|weak"; a
 * setting fixed at start: "restart"). Returns buf. */
const char *settings_range(const struct setting_spec *s, char *buf, size_t len);

#endif
