/*
 * dot.h - pictures of a run through graphviz (libcgraph builds the graph,
 * libgvc lays it out and renders it).
 *
 * Topology: the nodes (hosts, NATs with their behaviour, routers, firewalls,
 * the coordinator's host) and links (with latency, jitter, loss and the
 * interface names) from the topology records; on each NAT an HTML-like label
 * with its mapping table as it was at the end of the run; and for each pair
 * of peers a coloured edge with the outcome the agents reported last
 * (direct green, relayed orange, failed red). Laid out with "dot".
 *
 * Flow: the ladder diagram (viz/ladder.h, same options and rows) as a
 * picture: lanes with their names on top, one arrow per hop, a diamond where
 * a NAT rewrote the packet, a red cross where one died, the time on the left
 * and the row's text on the right. Nodes are pinned where the rows put them
 * and laid out with "neato", so the picture is the diagram, not a graph
 * layout's guess.
 *
 * Output format by the file's extension: .svg, .png, or .dot/.gv (the graph
 * with its layout, as `dot -Tdot` writes it).
 */
#ifndef NATSIM_VIZ_DOT_H
#define NATSIM_VIZ_DOT_H

#include <stddef.h>
#include <stdio.h>

#include "sim/trace_log.h"
#include "viz/ladder.h"

/* The graphviz renderer for a path's extension ("svg", "png", "dot"), or
 * NULL if the extension is none of .svg, .png, .dot, .gv. */
const char *dot_format_for_path(const char *path);

/* The graphs as DOT source, without layout (for tests and pipes).
 * Return 0, or -1 if out of memory or on a write error. */
int dot_topology_write(FILE *out, const struct trace_log *log);
int dot_flow_write(FILE *out, const struct trace_log *log, const struct ladder_options *opt);

/* Lay out and render to `path`, the format chosen by its extension. Return
 * 0, or -1 with a sentence in err[err_size] (an unknown extension, a file
 * that cannot be written, a layout or render failure). */
int dot_topology_render(const struct trace_log *log, const char *path, char *err, size_t err_size);
int dot_flow_render(const struct trace_log *log, const struct ladder_options *opt, const char *path,
		    char *err, size_t err_size);

/* Rows per PNG page of the flow picture: at 96 dpi a row is 0.32 in, about
 * 31 px, so a page is at most about 7 500 px tall (DOT_FLOW_PAGE_MAX_PX),
 * under ImageMagick's default policy limit of 16 000 px. */
#define DOT_FLOW_PAGE_ROWS 240
#define DOT_FLOW_PAGE_MAX_PX 8000

/* As dot_flow_render, but a PNG of more than DOT_FLOW_PAGE_ROWS rows is
 * split into pages, each with the lane heads on top: "flow.png" becomes
 * "flow-1.png", "flow-2.png", ... and nothing is written at "flow.png".
 * *pages (if not NULL) gets the number of files written: 1 means `path`
 * itself. SVG and DOT are always one file. */
int dot_flow_render_pages(const struct trace_log *log, const struct ladder_options *opt,
			  const char *path, size_t *pages, char *err, size_t err_size);

#endif
