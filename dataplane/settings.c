/* settings.c - the table of data-plane settings and the checks of a new
 * value (see settings.h). */
#include "settings.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "parse_num.h"

const struct setting_spec settings_table[SETTING_COUNT] = {
#define SETTING_SPEC(id_, name_, scope_, kind_, unit_, min_, max_, choices_, applier_, option_, \
		     effect_)                                                                  \
	[SETTING_##id_] = {.id = SETTING_##id_,                                               \
			   .name = name_,                                                     \
			   .scope = scope_,                                                   \
			   .kind = kind_,                                                     \
			   .unit = unit_,                                                     \
			   .min = min_,                                                       \
			   .max = max_,                                                       \
			   .choices = choices_,                                               \
			   .applier = applier_,                                               \
			   .option = option_,                                                 \
			   .effect = effect_},
	SETTINGS_LIST(SETTING_SPEC)
#undef SETTING_SPEC
};

const struct setting_spec *settings_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (unsigned i = 0; i < SETTING_COUNT; i++)
		if (strcmp(settings_table[i].name, name) == 0)
			return &settings_table[i];
	return NULL;
}

/* The index of `word` among "a|b|c", or -1. */
static int settings_choice_index(const char *choices, const char *word)
{
	size_t wl = strlen(word);
	int i = 0;

	for (const char *p = choices; *p != '\0'; i++) {
		const char *bar = strchr(p, '|');
		size_t l = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (wl != 0 && l == wl && strncmp(p, word, l) == 0)
			return i;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	return -1;
}

int settings_parse(const struct setting_spec *s, const char *text, uint64_t *value, char *err,
		   size_t err_len)
{
	char range[96];
	uint64_t v;
	int idx;

	if (!settings_live(s)) {
		snprintf(err, err_len,
			 "%s is fixed at start: restart the data plane with %s to change it",
			 s->name, s->option);
		return -EPERM;
	}
	if (text == NULL)
		text = "";
	switch (s->kind) {
	case SETTING_ONOFF:
		if (strcmp(text, "on") == 0 || strcmp(text, "off") == 0) {
			*value = strcmp(text, "on") == 0;
			return 0;
		}
		break;
	case SETTING_CHOICE:
		idx = settings_choice_index(s->choices, text);
		if (idx >= 0) {
			*value = (uint64_t)idx;
			return 0;
		}
		break;
	case SETTING_NUMBER:
		if (parse_num_u64(text, 10, s->min, s->max, &v) == 0) {
			*value = v;
			return 0;
		}
		break;
	}
	snprintf(err, err_len, "%s: '%.32s' is not %s %s%s%s", s->name, text,
		 s->kind == SETTING_NUMBER ? "a whole number in" : "one of",
		 settings_range(s, range, sizeof(range)), s->unit[0] ? " " : "", s->unit);
	return -EINVAL;
}

const char *settings_format(const struct setting_spec *s, uint64_t value, char *buf, size_t len)
{
	const char *p = s->choices;

	switch (s->kind) {
	case SETTING_ONOFF:
		snprintf(buf, len, "%s", value ? "on" : "off");
		break;
	case SETTING_CHOICE:
		for (uint64_t i = 0; i < value && p != NULL; i++) {
			p = strchr(p, '|');
			if (p != NULL)
				p++;
		}
		if (p == NULL)
			snprintf(buf, len, "?");
		else
			snprintf(buf, len, "%.*s", (int)strcspn(p, "|"), p);
		break;
	case SETTING_NUMBER:
		snprintf(buf, len, "%" PRIu64, value);
		break;
	}
	return buf;
}

const char *settings_range(const struct setting_spec *s, char *buf, size_t len)
{
	if (!settings_live(s))
		snprintf(buf, len, "restart");
	else if (s->kind == SETTING_ONOFF)
		snprintf(buf, len, "on|off");
	else if (s->kind == SETTING_CHOICE)
		snprintf(buf, len, "%s", s->choices);
	else
		snprintf(buf, len, "%" PRIu64 "..%" PRIu64, s->min, s->max);
	return buf;
}
