/* we_status.c - names and sentences for request outcomes. */
#include "we_status.h"

#include "we_compiler.h"

static const char *const status_names[] = {
#define WE_STATUS_NAME(name, value, text) [value] = #name,
	WE_STATUS_LIST(WE_STATUS_NAME)
#undef WE_STATUS_NAME
};

static const char *const status_texts[] = {
#define WE_STATUS_TEXT(name, value, text) [value] = text,
	WE_STATUS_LIST(WE_STATUS_TEXT)
#undef WE_STATUS_TEXT
};

const char *we_status_name(unsigned status)
{
	if (status >= WE_ARRAY_SIZE(status_names) || status_names[status] == 0)
		return "?";
	return status_names[status];
}

const char *we_status_text(unsigned status)
{
	if (status >= WE_ARRAY_SIZE(status_texts) || status_texts[status] == 0)
		return "unknown status";
	return status_texts[status];
}
