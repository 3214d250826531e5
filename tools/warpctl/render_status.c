/* render_status.c - status, health, ping and whoami for people (see render.h).
 *
 * DESIGN: these answers are small objects, shown as "what: value" lines
 * (a two-column table without a header); health adds one row per check.
 */
#include "render.h"

#include <string.h>

#include "human.h"

static const struct table_col kv_cols[] = {{NULL, TABLE_LEFT}, {NULL, TABLE_LEFT}};

/* "connected, up 3d 04h 05m" or "not connected". */
static const char *render_dp_state(const json_t *dp, char *buf, size_t len)
{
	char up[HUMAN_BUF];
	double s;

	if (!json_is_object(dp))
		return "-";
	if (!json_is_true(json_object_get(dp, "connected")))
		return "not connected";
	if (!render_number(dp, "uptime_s", &s))
		return "connected";
	snprintf(buf, len, "connected, up %s", human_uptime(s, up, sizeof(up)));
	return buf;
}

int render_status(struct render *r, const json_t *res)
{
	const json_t *dp = json_object_get(res, "data_plane");
	char a[HUMAN_BUF], dps[64], v[64];
	struct table t;
	double x;

	if (!json_is_object(res) || render_string(res, "state", NULL) == NULL)
		return render_fail(r, "status: the answer has no \"state\"");
	table_init(&t, kv_cols, 2);
	table_cell(&t, "state"), table_cell(&t, "%s", render_string(res, "state", "-"));
	table_end_row(&t);
	table_cell(&t, "health"), table_cell(&t, "%s", render_string(res, "health", "-"));
	table_end_row(&t);
	table_cell(&t, "control uptime");
	table_cell(&t, "%s", render_number(res, "control_uptime_s", &x) ?
			   human_uptime(x, a, sizeof(a)) : "-");
	table_end_row(&t);
	table_cell(&t, "data plane"), table_cell(&t, "%s", render_dp_state(dp, dps, sizeof(dps)));
	table_end_row(&t);
	table_cell(&t, "workers");
	table_cell(&t, "%s", render_value(json_object_get(dp, "workers"), v, sizeof(v)));
	table_end_row(&t);
	table_cell(&t, "data directory");
	table_cell(&t, "%s", render_string(dp, "data_dir", "none"));
	table_end_row(&t);
	table_cell(&t, "requests");
	table_cell(&t, "%s", render_number(res, "requests_per_s", &x) ?
			   human_rate(x, a, sizeof(a)) : "-");
	table_end_row(&t);
	table_cell(&t, "items");
	table_cell(&t, "%s", render_number(res, "items", &x) ? human_count(x, a, sizeof(a)) : "-");
	table_end_row(&t);
	return render_table(r, &t);
}

/* The health checks in the order the specification lists them; checks the
 * server adds later follow in the answer's order. */
static const char *const health_order[] = {
	"universe_stability", "entropy_levels",      "wormhole_connectivity",
	"vacuum_stability",   "spacetime_integrity", "quantum_coherence",
};

static void render_health_row(struct table *t, const char *name, const json_t *c)
{
	const char *unit = render_string(c, "unit", "");
	char v[64], th[64];

	table_cell(t, "%s", name);
	table_cell(t, "%s", render_string(c, "state", "-"));
	const json_t *value = json_object_get(c, "value"), *limit = json_object_get(c, "threshold");

	/* A value not measured (null) is "-", without a unit. */
	table_cell(t, "%s%s%s", render_value(value, v, sizeof(v)),
		   unit[0] && json_is_number(value) ? " " : "", json_is_number(value) ? unit : "");
	table_cell(t, "%s%s%s", render_value(limit, th, sizeof(th)),
		   unit[0] && json_is_number(limit) ? " " : "", json_is_number(limit) ? unit : "");
	table_cell(t, "%s", render_string(c, "measures", ""));
	table_end_row(t);
}

int render_health(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"check", TABLE_LEFT}, {"state", TABLE_LEFT}, {"value", TABLE_RIGHT},
		{"threshold", TABLE_RIGHT}, {"what it measures", TABLE_LEFT},
	};
	const json_t *checks = json_object_get(res, "checks");
	const char *overall = render_string(res, "overall", NULL);
	const char *name;
	const json_t *c;
	struct table t;

	if (overall == NULL || !json_is_object(checks))
		return render_fail(r, "health: the answer has no \"overall\" or no \"checks\" object");
	fprintf(r->out, "overall: %s\n\n", overall);
	table_init(&t, cols, 5);
	for (size_t i = 0; i < sizeof(health_order) / sizeof(health_order[0]); i++) {
		c = json_object_get(checks, health_order[i]);
		if (c != NULL)
			render_health_row(&t, health_order[i], c);
	}
	json_object_foreach((json_t *)checks, name, c) {
		bool known = false;

		for (size_t i = 0; i < sizeof(health_order) / sizeof(health_order[0]); i++)
			known |= strcmp(name, health_order[i]) == 0;
		if (!known)
			render_health_row(&t, name, c);
	}
	return render_table(r, &t);
}

int render_ping(struct render *r, const json_t *res)
{
	const json_t *ctl = json_object_get(res, "control");
	const json_t *dp = json_object_get(res, "data_plane");
	char a[HUMAN_BUF], dps[64];
	struct table t;
	double x;

	if (!json_is_object(ctl))
		return render_fail(r, "ping: the answer has no \"control\" object");
	table_init(&t, kv_cols, 2);
	table_cell(&t, "control");
	table_cell(&t, "%s, up %s", render_string(ctl, "version", "version unknown"),
		   render_number(ctl, "uptime_s", &x) ? human_uptime(x, a, sizeof(a)) : "-");
	table_end_row(&t);
	table_cell(&t, "data plane"), table_cell(&t, "%s", render_dp_state(dp, dps, sizeof(dps)));
	table_end_row(&t);
	return render_table(r, &t);
}

int render_whoami(struct render *r, const json_t *res)
{
	static const char *const keys[] = {"uid", "gid", "pid", "role"};
	struct table t;
	char v[64];

	if (render_string(res, "role", NULL) == NULL)
		return render_fail(r, "whoami: the answer has no \"role\"");
	table_init(&t, kv_cols, 2);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		table_cell(&t, "%s", keys[i]);
		table_cell(&t, "%s", render_value(json_object_get(res, keys[i]), v, sizeof(v)));
		table_end_row(&t);
	}
	return render_table(r, &t);
}
