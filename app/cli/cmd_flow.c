/*
 * cmd_flow.c - `natsim flow [FILE] -o OUT.{svg,png,dot}`: the ladder
 * diagram of natsim run --ladder as a picture (viz/dot), with the same
 * filters.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/lang/scenario.h"
#include "app/world/simdrive.h"
#include "sim/trace_log.h"
#include "viz/dot.h"
#include "viz/ladder.h"

const char cmd_flow_usage[] =
    "Usage: natsim flow [FILE] -o OUT.svg|OUT.png|OUT.dot [OPTIONS]\n"
    "\n"
    "Run a scenario and draw its packet flow as a picture: one lane per node, one\n"
    "arrow per hop with the packet id, a diamond where a NAT rewrote a packet and a\n"
    "red cross where one was dropped, with the time and what happened beside each\n"
    "row (the ladder of natsim run --ladder). Without FILE, the built-in classic\n"
    "scenario. A long run makes a tall picture: narrow it with the filters. A PNG\n"
    "of more than 240 rows is split into pages of at most 8000 px: -o flow.png\n"
    "writes flow-1.png, flow-2.png, ... (SVG and DOT stay one file).\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT          the picture to write (.svg, .png, .dot or .gv); required\n"
    "      --pair A,B            only packets between hosts A and B\n"
    "      --node N              only hops at node N\n"
    "      --from TIME           from TIME on (e.g. 1s)\n"
    "      --to TIME             up to TIME\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario (repeatable)\n"
    "  -u, --until TIME          stop the run at this virtual time\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 written, 2 bad usage, bad scenario or unwritable output,\n"
    "3 internal error.\n";

/* A virtual time: the range of the language's `at` (0 to 24h). */
static int parse_time(const char *flag, const char *arg, int64_t *out)
{
	return cli_duration_flag("flow", flag, arg, &scenario_time_setting, out);
}

static int parse_pair(char *arg, struct ladder_options *o)
{
	char *comma = strchr(arg, ',');
	if (comma == NULL || comma == arg || comma[1] == '\0' || strchr(comma + 1, ',') != NULL)
		return cli_usage_error("flow",
				       "--pair expects two host names separated by a comma "
				       "(e.g. alice,bob), not '%s'",
				       arg);
	*comma = '\0';
	o->pair_a = arg;
	o->pair_b = comma + 1;
	return 0;
}

static int check_names(const struct trace_log *log, const struct ladder_options *o)
{
	const char *names[] = {o->node, o->pair_a, o->pair_b};
	const char *flags[] = {"--node", "--pair", "--pair"};
	for (int i = 0; i < 3; i++)
		if (names[i] != NULL && !ladder_node_known(log, names[i])) {
			fprintf(stderr, "natsim flow: %s: no node called '%s' in this scenario\n",
				flags[i], names[i]);
			return CLI_EXIT_USAGE;
		}
	return 0;
}

/* A split picture says so: the file asked for was not written as such. */
static void print_pages(const char *output, size_t pages)
{
	const char *dot = strrchr(output, '.');
	int stem = (int)(dot != NULL ? dot - output : (ptrdiff_t)strlen(output));
	fprintf(stderr,
		"natsim flow: more than %d rows: wrote %zu pages of at most %d px, "
		"%.*s-1%s to %.*s-%zu%s\n",
		DOT_FLOW_PAGE_ROWS, pages, DOT_FLOW_PAGE_MAX_PX, stem, output, dot ? dot : "",
		stem, output, pages, dot ? dot : "");
}

/* The flags natsim flow adds to those of every picture command: the
 * ladder's filters (cli_parse_picture_args hands them here). */
static int parse_filter(int ch, char *arg, void *ctx)
{
	struct ladder_options *lo = ctx;
	switch (ch) {
	case 'P':
		return parse_pair(arg, lo);
	case 'N':
		lo->node = arg;
		return 0;
	case 'F':
		return parse_time("--from", arg, &lo->from_ns);
	case 'T':
		return parse_time("--to", arg, &lo->to_ns);
	}
	return cli_usage_error("flow", "unknown option '%s'", arg);
}

/* Draw the run; a picture too tall for one PNG comes out in pages. */
static int render(const struct trace_log *log, const struct ladder_options *lo, const char *output)
{
	char err[512];
	size_t pages = 0;
	if (dot_flow_render_pages(log, lo, output, &pages, err, sizeof(err)) != 0) {
		fprintf(stderr, "natsim flow: --output: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (pages > 1)
		print_pages(output, pages);
	return 0;
}

int cmd_flow_main(int argc, char **argv)
{
	static const struct option longopts[] = {CLI_SCENARIO_LONGOPTS,
						 {"output", required_argument, NULL, 'o'},
						 {"pair", required_argument, NULL, 'P'},
						 {"node", required_argument, NULL, 'N'},
						 {"from", required_argument, NULL, 'F'},
						 {"to", required_argument, NULL, 'T'},
						 {NULL, 0, NULL, 0}};
	struct ladder_options lo;
	ladder_options_default(&lo);
	lo.payload = simdrive_payload_summary;
	const struct cli_picture_flags flags = {
	    .longopts = longopts, .own_option = parse_filter, .ctx = &lo, .example = "flow.svg"};
	struct cli_scenario_args a = {.until_ns = -1};
	const char *output = NULL;
	struct trace_log *log = NULL;
	int rc = cli_parse_picture_args("flow", argc, argv, &flags, &a, &output);
	if (rc == 0 && lo.to_ns >= 0 && lo.from_ns > lo.to_ns)
		rc = cli_usage_error("flow", "--from must not be later than --to");
	if (rc == 0)
		rc = cli_run_to_log("flow", &a, &log);
	if (rc == 0)
		rc = check_names(log, &lo);
	if (rc == 0)
		rc = render(log, &lo, output);
	trace_log_free(log);
	free(a.sets);
	return rc;
}
