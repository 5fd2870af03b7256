/*
 * cmd_dot.c - `natsim dot [FILE] -o OUT.{svg,png,dot}`: run the scenario and
 * draw its topology, the NATs' final mapping tables and each pair's outcome
 * (viz/dot).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "sim/trace_log.h"
#include "viz/dot.h"

const char cmd_dot_usage[] =
    "Usage: natsim dot [FILE] -o OUT.svg|OUT.png|OUT.dot [OPTIONS]\n"
    "\n"
    "Run a scenario and draw it with graphviz: hosts, NATs (with their behaviour and\n"
    "their mapping tables at the end of the run), routers, the coordinator, links\n"
    "with their latency, and one coloured edge per pair of peers with how they ended\n"
    "up talking (direct green, relayed orange, failed red). The format follows the\n"
    "extension of OUT. Without FILE, the built-in classic scenario.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT          the picture to write (.svg, .png, .dot or .gv); required\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario (repeatable)\n"
    "  -u, --until TIME          stop the run at this virtual time\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 written, 2 bad usage, bad scenario or unwritable output,\n"
    "3 internal error.\n";

int cmd_dot_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_SCENARIO_LONGOPTS, {"output", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
	const struct cli_picture_flags flags = {.longopts = longopts, .example = "topology.svg"};
	struct cli_scenario_args a = {.until_ns = -1};
	const char *output = NULL;
	struct trace_log *log = NULL;
	int rc = cli_parse_picture_args("dot", argc, argv, &flags, &a, &output);
	if (rc == 0)
		rc = cli_run_to_log("dot", &a, &log);
	if (rc == 0) {
		char err[512];
		if (dot_topology_render(log, output, err, sizeof(err)) != 0) {
			fprintf(stderr, "natsim dot: --output: %s\n", err);
			rc = CLI_EXIT_USAGE;
		}
	}
	trace_log_free(log);
	free(a.sets);
	return rc;
}
