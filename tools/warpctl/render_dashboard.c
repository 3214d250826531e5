/* render_dashboard.c - the dashboard for people (see render.h).
 *
 * DESIGN: the dashboard is the specification's four sections of named
 * numbers plus "meaning", a sentence per field saying what it measures.
 * One table shows them all, the sentence beside each number, so nobody
 * has to guess what "cosmic_background_radiation" counts. Sections the
 * server adds later follow the known ones in the answer's order.
 */
#include "render.h"

#include <string.h>

#include "human.h"

static const char *const sections[] = {
	"universe_status", "performance_metrics", "physics_state", "resource_utilization"};

/* The sentence for section.field: meaning may be flat ({field: s} or
 * {"section.field": s}) or nested ({section: {field: s}}). */
static const char *dashboard_meaning(const json_t *meaning, const char *section, const char *field)
{
	char key[160];
	const char *s = render_string(meaning, field, NULL);

	if (s)
		return s;
	snprintf(key, sizeof(key), "%s.%s", section, field);
	if ((s = render_string(meaning, key, NULL)) != NULL)
		return s;
	return render_string(json_object_get(meaning, section), field, "");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Megabyte fields in binary units, large numbers scaled, small reals with
 * four significant digits, everything else as it came. */
static const char *dashboard_value(const char *field, const json_t *v, char *buf, size_t len)
{
	double x = json_number_value(v);

	if (!json_is_number(v))
		return render_value(v, buf, len);
	if (ends_with(field, "_mb"))
		return human_bytes(x * 1024 * 1024, buf, len);
	if (json_is_integer(v) || x >= 1000 || x <= -1000)
		return human_count(x, buf, len);
	return render_value(v, buf, len);
}

static void dashboard_section(struct table *t, const char *section, const json_t *obj,
			      const json_t *meaning)
{
	const char *field;
	const json_t *v;

	json_object_foreach((json_t *)obj, field, v) {
		char b[64];

		table_cell(t, "%s", section);
		table_cell(t, "%s", field);
		table_cell(t, "%s", dashboard_value(field, v, b, sizeof(b)));
		table_cell(t, "%s", dashboard_meaning(meaning, section, field));
		table_end_row(t);
	}
}

static bool is_known_section(const char *name)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(name, sections[i]) == 0)
			return true;
	return false;
}

int render_dashboard(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {{"section", TABLE_LEFT}, {"field", TABLE_LEFT},
						{"value", TABLE_RIGHT},
						{"what it measures", TABLE_LEFT}};
	const json_t *meaning = json_object_get(res, "meaning");
	const char *name;
	const json_t *obj;
	struct table t;

	if (!json_is_object(json_object_get(res, "universe_status")))
		return render_fail(r, "dashboard: the answer has no \"universe_status\" object");
	table_init(&t, cols, 4);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		obj = json_object_get(res, sections[i]);
		if (json_is_object(obj))
			dashboard_section(&t, sections[i], obj, meaning);
	}
	json_object_foreach((json_t *)res, name, obj) {
		if (json_is_object(obj) && strcmp(name, "meaning") != 0 && !is_known_section(name))
			dashboard_section(&t, name, obj, meaning);
	}
	return render_table(r, &t);
}
