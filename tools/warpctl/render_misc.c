/* render_misc.c - checkpoint, regions, commands and help for people
 * (see render.h).
 */
#include "render.h"

#include <stdint.h>
#include <stdlib.h>


int render_checkpoint(struct render *r, const json_t *res)
{
	char id[64];

	if (json_object_get(res, "checkpoint") == NULL)
		return render_fail(r, "checkpoint: the answer has no \"checkpoint\" id");
	fprintf(r->out, "checkpoint %s %s\n", render_value(json_object_get(res, "checkpoint"), id,
							   sizeof(id)),
		render_string(res, "state", "requested"));
	return 0;
}

/* One row per worker: its UDP port and how many regions it owns. */
int render_regions(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"worker", TABLE_RIGHT}, {"udp port", TABLE_RIGHT}, {"regions", TABLE_RIGHT}};
	const json_t *owner = json_object_get(res, "owner");
	double workers, regions, port = 0;
	uint64_t *owned;
	const json_t *o;
	struct table t;
	size_t i;

	if (!render_number(res, "workers", &workers) || !render_number(res, "regions", &regions) ||
	    !json_is_array(owner) || workers < 1 || workers > 65536)
		return render_fail(r, "regions: the answer needs \"workers\" (1..65536), "
				      "\"regions\" and an \"owner\" array");
	render_number(res, "udp_port_base", &port);
	owned = calloc((size_t)workers, sizeof(*owned));
	if (owned == NULL)
		return render_fail(r, "out of memory");
	json_array_foreach(owner, i, o) {
		json_int_t w = json_integer_value(o);

		if (!json_is_integer(o) || w < 0 || w >= (json_int_t)workers) {
			free(owned);
			return render_fail(r, "regions: owner[%zu] is not a worker 0..%.0f", i,
					   workers - 1);
		}
		owned[w]++;
	}
	fprintf(r->out, "%zu regions over %.0f workers", json_array_size(owner), workers);
	/* a data plane that moves regions says how far its map has come */
	if (json_is_integer(json_object_get(res, "epoch")))
		fprintf(r->out, ", map epoch %lld, %zu moving",
			(long long)json_integer_value(json_object_get(res, "epoch")),
			json_array_size(json_object_get(res, "moving")));
	fprintf(r->out, "\n\n");
	table_init(&t, cols, 3);
	for (size_t w = 0; w < (size_t)workers; w++) {
		table_cell(&t, "%zu", w);
		table_cell(&t, "%.0f", port + (double)w);
		table_cell(&t, "%llu", (unsigned long long)owned[w]);
		table_end_row(&t);
	}
	free(owned);
	return render_table(r, &t);
}

int render_commands(struct render *r, const json_t *res)
{
	static const struct table_col cols[] = {
		{"command", TABLE_LEFT}, {"role", TABLE_LEFT}, {"what it does", TABLE_LEFT}};
	const json_t *c;
	struct table t;
	size_t i;

	if (!json_is_array(res))
		return render_fail(r, "commands: the answer is not an array");
	table_init(&t, cols, 3);
	json_array_foreach(res, i, c) {
		/* The data plane's form, a bare name, is accepted too. */
		if (json_is_string(c)) {
			table_cell(&t, "%s", json_string_value(c));
			table_cell(&t, "-"), table_cell(&t, "%s", "");
		} else {
			table_cell(&t, "%s", render_string(c, "name", "?"));
			table_cell(&t, "%s", render_string(c, "role", "-"));
			table_cell(&t, "%s", render_string(c, "help", ""));
		}
		table_end_row(&t);
	}
	return render_table(r, &t);
}

int render_help(struct render *r, const json_t *res)
{
	const json_t *args = json_object_get(res, "args");
	const char *name = render_string(res, "name", NULL);

	if (name == NULL)
		return render_fail(r, "help: the answer has no \"name\"");
	fprintf(r->out, "%s (role %s): %s\n", name, render_string(res, "role", "-"),
		render_string(res, "help", ""));
	if (json_is_string(args)) {
		fprintf(r->out, "arguments: %s\n", json_string_value(args));
	} else if (json_is_object(args) || json_is_array(args)) {
		char *s = json_dumps(args, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		fprintf(r->out, "arguments: %s\n", s ? s : "?");
		free(s);
	}
	return 0;
}
