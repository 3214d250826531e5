/* route_load.c - the text format of a topology graph (see route_load.h). */
#include "route_load.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, unsigned long line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "line %lu: %s", line, msg);
	else
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* A node id: decimal, below n. */
static bool parse_node(const char *w, uint32_t n, uint32_t *out)
{
	char *end;

	if (w[0] < '0' || w[0] > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(w, &end, 10);

	if (errno != 0 || *end != '\0' || v >= n)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Split line into at most max words (in place); the count, or max + 1 when
 * there are more. */
static unsigned split(char *line, char **w, unsigned max)
{
	unsigned n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

int route_graph_load(FILE *f, struct route_graph *g, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	bool have_nodes = false;
	int rc = -1;

	memset(g, 0, sizeof(*g));
	while (getline(&line, &cap, f) >= 0) {
		char *w[5];

		lineno++;
		const char *p = line + strspn(line, " \t");

		if (*p == '#')
			continue;
		unsigned nw = split(line, w, 4);

		if (nw == 0)
			continue;
		if (!have_nodes) {
			char *end;
			unsigned long long n;

			if (nw != 2 || strcmp(w[0], "nodes") != 0) {
				fail(err, errlen, lineno, "expected 'nodes N' first");
				goto out;
			}
			errno = 0;
			n = strtoull(w[1], &end, 10);
			if (w[1][0] < '0' || w[1][0] > '9' || errno != 0 || *end != '\0' || n == 0 ||
			    n > (1u << 31)) {
				fail(err, errlen, lineno, "node count '%s' is not a number in 1..2^31", w[1]);
				goto out;
			}
			if (route_graph_init(g, (uint32_t)n) != 0) {
				fail(err, errlen, lineno, "no memory for %llu nodes", n);
				goto out;
			}
			have_nodes = true;
			continue;
		}
		if (nw < 3 || nw > 4 || (nw == 4 && strcmp(w[3], "directed") != 0)) {
			fail(err, errlen, lineno, "expected 'A B STRENGTH' or 'A B STRENGTH directed'");
			goto out;
		}
		uint32_t a, b;

		if (!parse_node(w[0], g->n_nodes, &a) || !parse_node(w[1], g->n_nodes, &b)) {
			fail(err, errlen, lineno, "node '%s' is not a node id in 0..%u",
			     parse_node(w[0], g->n_nodes, &a) ? w[1] : w[0], g->n_nodes - 1);
			goto out;
		}
		if (a == b) {
			fail(err, errlen, lineno, "a connection from node %u to itself", a);
			goto out;
		}
		char *end;
		double s = strtod(w[2], &end);

		if (*end != '\0' || end == w[2] || !isfinite(s) || s <= 0) {
			fail(err, errlen, lineno, "strength '%s' is not a number > 0", w[2]);
			goto out;
		}
		if (route_graph_set(g, a, b, s, nw == 4) != 0) {
			fail(err, errlen, lineno, "no memory for the connection");
			goto out;
		}
	}
	if (ferror(f)) {
		fail(err, errlen, lineno, "read error");
		goto out;
	}
	if (!have_nodes) {
		fail(err, errlen, 0, "no 'nodes N' line");
		goto out;
	}
	rc = 0;
out:
	free(line);
	if (rc != 0)
		route_graph_free(g);
	return rc;
}

int route_graph_load_file(const char *path, struct route_graph *g, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		memset(g, 0, sizeof(*g));
		return fail(err, errlen, 0, "%s: %s", path, strerror(errno));
	}
	int rc = route_graph_load(f, g, err, errlen);

	fclose(f);
	return rc;
}

/* Is v -> arc->to one half of an undirected connection (both arcs marked so,
 * of one strength)? */
static bool undirected_pair(const struct route_graph *g, uint32_t v, const struct route_arc *arc)
{
	const struct route_arc *back = route_graph_find(g, arc->to, v);

	return (arc->flags & ROUTE_ARC_UNDIRECTED) && back != NULL &&
	       (back->flags & ROUTE_ARC_UNDIRECTED) && back->strength == arc->strength;
}

int route_graph_write(FILE *f, const struct route_graph *g)
{
	if (fprintf(f, "nodes %u\n", g->n_nodes) < 0)
		return -EIO;
	for (uint32_t v = 0; v < g->n_nodes; v++)
		for (uint32_t i = 0; i < g->adj[v].n; i++) {
			const struct route_arc *arc = &g->adj[v].arcs[i];
			bool pair = undirected_pair(g, v, arc);

			if (pair && arc->to < v)
				continue; /* written from the lower id */
			if (fprintf(f, "%u %u %.17g%s\n", v, arc->to, arc->strength,
				    pair ? "" : " directed") < 0)
				return -EIO;
		}
	return ferror(f) ? -EIO : 0;
}
