/* render_config.c - config get and config set for people (see render.h).
 *
 * DESIGN: a worker-scope setting has one value per worker; the table shows
 * one value when they all agree and the list "w0,w1,..." when they do not,
 * so a setting changed on one worker stands out.
 */
#include "render.h"

#include <string.h>

/* A worker-scope value array as one cell. */
static const char *config_value(const json_t *v, char *buf, size_t len)
{
	char one[64], first[64];
	size_t i, off = 0;
	const json_t *e;
	bool same = true;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return render_value(v, buf, len);
	render_value(json_array_get(v, 0), first, sizeof(first));
	json_array_foreach(v, i, e)
		same &= strcmp(render_value(e, one, sizeof(one)), first) == 0;
	if (same) {
		snprintf(buf, len, "%s (all workers)", first);
		return buf;
	}
	buf[0] = '\0';
	json_array_foreach(v, i, e) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
				 render_value(e, one, sizeof(one)));

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

int render_config_get(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"name", TABLE_LEFT},  {"scope", TABLE_LEFT}, {"value", TABLE_RIGHT},
		{"unit", TABLE_LEFT},  {"range", TABLE_LEFT}, {"live", TABLE_LEFT},
		{"role", TABLE_LEFT},  {"effect", TABLE_LEFT}};
	const json_t *settings = json_object_get(res, "settings");
	const json_t *s;
	struct table t;
	size_t i;

	if (!json_is_array(settings))
		return render_fail(r, "config get: the answer has no \"settings\" array");
	table_init(&t, cols, 8);
	json_array_foreach(settings, i, s) {
		const json_t *live = json_object_get(s, "live");
		char v[256], rg[64];

		if (render_string(s, "name", NULL) == NULL) {
			table_free(&t);
			return render_fail(r, "config get: setting %zu has no \"name\"", i);
		}
		table_cell(&t, "%s", render_string(s, "name", "-"));
		table_cell(&t, "%s", render_string(s, "scope", "-"));
		table_cell(&t, "%s", config_value(json_object_get(s, "value"), v, sizeof(v)));
		table_cell(&t, "%s", render_string(s, "unit", "-"));
		table_cell(&t, "%s", render_value(json_object_get(s, "range"), rg, sizeof(rg)));
		table_cell(&t, "%s", !json_is_boolean(live) ? "-" : json_is_true(live) ? "yes"
											: "restart");
		table_cell(&t, "%s", render_string(s, "role", "-"));
		table_cell(&t, "%s", render_string(s, "effect", ""));
		table_end_row(&t);
	}
	return render_table(r, &t);
}

int render_config_set(struct render *r, const json_t *res)
{
	const char *name = render_string(res, "name", NULL);
	const json_t *persisted = json_object_get(res, "persisted");
	char v[256];

	if (name == NULL)
		return render_fail(r, "config set: the answer has no \"name\"");
	fprintf(r->out, "%s = %s: %s, %s\n", name,
		config_value(json_object_get(res, "value"), v, sizeof(v)),
		json_is_true(json_object_get(res, "applied")) ? "applied" : "not applied",
		json_is_true(persisted) ? "persisted (kept across restarts)"
					: "not persisted (lost on restart)");
	return 0;
}
