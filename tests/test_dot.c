/*
 * test_dot.c - graphviz pictures (viz/dot) of classic.nsim, seed 1: the DOT
 * source parses back with libcgraph (agmemread) and holds the nodes, links,
 * mapping tables and outcome edges; SVG renders are well-formed (every tag
 * closed in order); errors for a bad extension and an unwritable path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support.h"

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/world/runner.h"
#include "app/world/simdrive.h"
#include "sim/engine.h"
#include "sim/trace_log.h"
#include <graphviz/cgraph.h>
#include <unistd.h>

#include "viz/dot.h"
#include "viz/ladder.h"

static int setup(void **state)
{
	*state = test_run_scenario("../scenarios/classic.nsim", 1, SCENARIO_UNSET);
	return 0;
}

static int teardown(void **state)
{
	trace_log_free(*state);
	return 0;
}

static char *source_of(const struct trace_log *log, bool flow)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	struct ladder_options o;
	ladder_options_default(&o);
	o.from_ns = SIM_S(1);
	o.to_ns = SIM_MS(1100);
	assert_int_equal(flow ? dot_flow_write(f, log, &o) : dot_topology_write(f, log), 0);
	fclose(f);
	return s;
}

static void test_topology_parses_back(void **state)
{
	char *s = source_of(*state, false);
	Agraph_t *g = agmemread(s);
	assert_non_null(g);
	const char *names[] = {"alice",	 "bob",	 "carol",    "home",
			       "office", "cafe", "internet", "coord"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(agnode(g, (char *)names[i], 0));
	Agnode_t *alice = agnode(g, (char *)"alice", 0), *bob = agnode(g, (char *)"bob", 0);
	Agedge_t *e = agedge(g, alice, bob, NULL, 0);
	if (e == NULL)
		e = agedge(g, bob, alice, NULL, 0);
	assert_non_null(e);
	assert_string_equal(agget(e, (char *)"label"), "direct");
	/* the link home -> alice, with its latency */
	Agedge_t *l = agedge(g, agnode(g, (char *)"home", 0), alice, NULL, 0);
	assert_non_null(l);
	assert_non_null(strstr(agget(l, (char *)"label"), "0.5 ms"));
	/* home's mapping table is in its label */
	char *label = agget(agnode(g, (char *)"home", 0), (char *)"label");
	assert_non_null(strstr(label, "192.168.1.5:5000"));
	assert_non_null(strstr(label, "203.0.113.7:5000"));
	assert_non_null(strstr(label, "port-restricted-cone"));
	agclose(g);
	free(s);
}

static void test_flow_parses_back(void **state)
{
	char *s = source_of(*state, true);
	Agraph_t *g = agmemread(s);
	assert_non_null(g);
	assert_non_null(agnode(g, (char *)"lane0", 0));
	assert_true(agnnodes(g) > 10);
	assert_true(agnedges(g) > 3);
	agclose(g);
	free(s);
}

/* Every tag closed, in order; comments, declarations and self-closing tags
 * skipped. A minimal well-formedness check, enough for graphviz's SVG. */
static bool tags_balanced(const char *s, int *elements)
{
	char stack[256][64];
	int depth = 0;
	*elements = 0;
	for (const char *p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<')) {
		if (strncmp(p, "<!--", 4) == 0) {
			p = strstr(p, "-->");
			if (p == NULL)
				return false;
			continue;
		}
		if (p[1] == '?' || p[1] == '!')
			continue;
		const char *end = strchr(p, '>');
		if (end == NULL)
			return false;
		bool closing = p[1] == '/', self = end[-1] == '/';
		const char *n = p + (closing ? 2 : 1);
		size_t len = strcspn(n, " \t\n/>");
		if (len == 0 || len >= 64)
			return false;
		if (closing) {
			if (depth == 0 || strncmp(stack[depth - 1], n, len) != 0 ||
			    stack[depth - 1][len] != '\0')
				return false;
			depth--;
		} else if (!self) {
			if (depth == 256)
				return false;
			memcpy(stack[depth], n, len);
			stack[depth++][len] = '\0';
			(*elements)++;
		} else {
			(*elements)++;
		}
	}
	return depth == 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static void test_svg_well_formed(void **state)
{
	char dir[] = "/tmp/natsim-test-dot-XXXXXX", path[128], err[256];
	int elements;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/topology.svg", dir);
	assert_int_equal(dot_topology_render(*state, path, err, sizeof(err)), 0);
	char *svg = slurp(path);
	assert_non_null(strstr(svg, "<svg"));
	assert_true(tags_balanced(svg, &elements));
	assert_true(elements > 20);
	assert_non_null(strstr(svg, "alice"));
	free(svg);
	unlink(path);
	struct ladder_options o;
	ladder_options_default(&o);
	o.pair_a = "alice";
	o.pair_b = "bob";
	o.to_ns = SIM_MS(1200);
	snprintf(path, sizeof(path), "%s/flow.svg", dir);
	assert_int_equal(dot_flow_render(*state, &o, path, err, sizeof(err)), 0);
	svg = slurp(path);
	assert_true(tags_balanced(svg, &elements));
	assert_non_null(strstr(svg, "#13")); /* alice's first probe to bob */
	free(svg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/topology.dot", dir);
	assert_int_equal(dot_topology_render(*state, path, err, sizeof(err)), 0);
	char *dot = slurp(path);
	Agraph_t *g = agmemread(dot);
	assert_non_null(g);
	assert_non_null(agget(agnode(g, (char *)"alice", 0), (char *)"pos")); /* laid out */
	agclose(g);
	free(dot);
	unlink(path);
	rmdir(dir);
}

static void test_errors(void **state)
{
	char err[256];
	assert_null(dot_format_for_path("out.jpeg"));
	assert_null(dot_format_for_path("noext"));
	assert_string_equal(dot_format_for_path("a/b.svg"), "svg");
	assert_string_equal(dot_format_for_path("b.gv"), "dot");
	assert_int_equal(dot_topology_render(*state, "out.jpeg", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ".svg, .png or .dot"));
	assert_int_equal(dot_topology_render(*state, "/nonexistent/dir/x.svg", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot write /nonexistent/dir/x.svg"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topology_parses_back),
	    cmocka_unit_test(test_flow_parses_back),
	    cmocka_unit_test(test_svg_well_formed),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
