/* route_load.h - a topology graph from a text file, and back (no DPDK).
 *
 *   route_graph_load_file  route_load.c  a path -> a graph
 *   route_graph_load       route_load.c  an open stream -> a graph
 *   route_graph_write      route_load.c  a graph -> a stream, in the same format
 *
 * FORMAT: one item per line; blank lines and lines starting with '#' are
 * skipped. The first item is "nodes N" (N >= 1); every other line is
 * "A B STRENGTH", a connection both ways between nodes A and B (0..N-1) of
 * strength > 0, or "A B STRENGTH directed", from A to B only. A connection
 * given twice takes the later strength. Errors name the line:
 * "line 7: strength '0' is not a number > 0".
 *
 * WRITING: strengths with 17 significant digits, so a graph written and
 * loaded again has the same strengths, bit for bit, and the same routes; an
 * undirected connection is one line (from its lower id), any other arc a
 * "directed" line.
 */
#ifndef ROUTE_LOAD_H
#define ROUTE_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include "route_graph.h"
#include "we_compiler.h"

/* 0 and *g built, or -1 with the reason in err (the graph is not kept). */
int route_graph_load(FILE *f, struct route_graph *g, char *err, size_t errlen) we_must_check;
int route_graph_load_file(const char *path, struct route_graph *g, char *err,
			  size_t errlen) we_must_check;

/* 0, or -EIO (a write failed). */
int route_graph_write(FILE *f, const struct route_graph *g) we_must_check;

#endif
