/*
 * cmd_why.c - `natsim why FILE --packet ID`: run the scenario (same seed and
 * overrides give the same packet ids as natsim run) and tell one packet's
 * fate hop by hop (viz/why).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "app/cli/cli.h"
#include "app/world/simdrive.h"
#include "sim/trace_log.h"
#include "viz/why.h"

const char cmd_why_usage[] =
    "Usage: natsim why [FILE] --packet ID [OPTIONS]\n"
    "\n"
    "Tell the fate of one packet, hop by hop, each decision in words: who sent it,\n"
    "which links it crossed, how each NAT rewrote it and with which mapping, and\n"
    "where it was delivered or why it was dropped. Packet ids are the #42 shown by\n"
    "natsim run --ladder and natsim run -v; give the same --seed and --set as that\n"
    "run to get the same ids. Without FILE, the built-in classic scenario.\n"
    "\n"
    "Options:\n"
    "  -p, --packet ID           the packet id (required)\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario (repeatable)\n"
    "  -u, --until TIME          stop the run at this virtual time\n"
    "      --ascii               ASCII only\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 told, 2 bad usage, bad scenario or no such packet, 3 internal error.\n";

int cmd_why_main(int argc, char **argv)
{
	static const struct option longopts[] = {CLI_SCENARIO_LONGOPTS,
						 {"packet", required_argument, NULL, 'p'},
						 {"ascii", no_argument, NULL, 'A'},
						 {NULL, 0, NULL, 0}};
	struct cli_scenario_args a = {.until_ns = -1};
	bool ascii = !cli_use_utf8(), have_id = false;
	uint64_t id = 0;
	int ch, rc = 0;
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL)
		return CLI_EXIT_INTERNAL;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":s:u:p:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': /* 42, or #42 as the ladder shows it */
			rc = cli_count_flag("why", "--packet", "a packet id like 42 or #42",
					    optarg + (optarg[0] == '#'), 0, UINT64_MAX, &id);
			have_id = true;
			break;
		case 'A':
			ascii = true;
			break;
		case ':':
		case '?':
			rc = cli_option_error("why", ch, argv);
			break;
		default:
			rc = cli_scenario_option("why", ch, optarg, &a);
			break;
		}
	}
	if (rc == 0)
		rc = cli_take_scenario_file("why", argc, argv, &a.file);
	if (rc == 0 && !have_id)
		rc = cli_usage_error("why", "--packet ID is required (which packet to follow)");
	struct trace_log *log = NULL;
	if (rc == 0)
		rc = cli_run_to_log("why", &a, &log);
	if (rc == 0) {
		int w = why_render(stdout, log, id, simdrive_payload_summary, ascii);
		uint64_t lo, hi;
		if (w == WHY_NO_SUCH_PACKET) {
			if (why_packet_range(log, &lo, &hi))
				fprintf(stderr,
					"natsim why: --packet: no packet #%" PRIu64 " in this run; "
					"packet ids go from %" PRIu64 " to %" PRIu64 "\n",
					id, lo, hi);
			else
				fprintf(stderr, "natsim why: --packet: this run sent no packets\n");
			rc = CLI_EXIT_USAGE;
		} else if (w != 0) {
			rc = CLI_EXIT_INTERNAL;
		}
	}
	trace_log_free(log);
	free(a.sets);
	return rc;
}
