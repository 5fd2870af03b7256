/*
 * cmd_tui.c - `natsim tui [FILE]`: record a whole run of a scenario, then
 * step through it in an ncurses interface (app/tui/tui.c over app/tui/tui_model.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/tui/tui.h"
#include "app/tui/tui_model.h"

const char cmd_tui_usage[] =
    "Usage: natsim tui [FILE] [OPTIONS]\n"
    "\n"
    "Record a whole run of a scenario, then step through it in the terminal:\n"
    "the topology with each pair's state and the packet in flight, the timeline,\n"
    "the conntrack, NAT mapping and firewall tables of the node the packet is at\n"
    "(or of the node you select), the packet inspector (fields, before/after a\n"
    "translation, bytes, why a drop) and a ladder of the recent packet flow.\n"
    "Long lines wrap: nothing is cut at 80x24. Everything shown is the trace\n"
    "folded up to the cursor, so stepping back works. Without FILE, the built-in\n"
    "default scenario (classic); FILE may be the name of a bundled scenario.\n"
    "\n"
    "Controls:\n"
    "  space      step one record          b          step back one record\n"
    "  n          next packet hop          g          go to a virtual time\n"
    "  r          run at the rate          p          pause\n"
    "  + / -      faster / slower          Home/End   first / last record\n"
    "  tab        focus topology or timeline\n"
    "  arrows     topology: select a node; timeline: move the cursor\n"
    "  PgUp/PgDn  a timeline page          [ ] < >    scroll the tables\n"
    "  f          the tables follow the packet's node again (selecting pins them)\n"
    "  /          filter the timeline (substring; empty clears)\n"
    "  t          what-if: the selected NAT (or the host's NAT) gets the next preset\n"
    "             (full-cone, restricted-cone, port-restricted-cone, symmetric) and\n"
    "             the scenario re-runs with the same seed\n"
    "  mouse      click a node or a timeline line; the wheel scrolls the timeline\n"
    "  ?          help                     q          quit\n"
    "\n"
    "Options:\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario (repeatable; see natsim run)\n"
    "  -u, --until TIME          record until this virtual time (e.g. 30s)\n"
    "      --ascii               ASCII only (no arrows or box drawing)\n"
    "      --no-color            no colours (also: NO_COLOR=1)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Needs a terminal of at least 80x24. Exit status: 0 on quit, 2 bad usage or\n"
    "scenario (or standard output is not a terminal), 3 internal error.\n";

struct tui_cli {
	const char *file;
	struct tui_model_options opt;
	struct tui_config cfg;
	const char **sets;
	size_t n_sets;
};

static int parse_seed(const char *arg, struct tui_cli *c)
{
	uint64_t v;
	if (cli_count_flag("tui", "--seed", "a seed", arg, 0, UINT64_MAX, &v))
		return CLI_EXIT_USAGE;
	c->opt.has_seed = true;
	c->opt.seed = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct tui_cli *c)
{
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, 's'},  {"set", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'u'}, {"ascii", no_argument, NULL, 'A'},
	    {"no-color", no_argument, NULL, 'C'},    {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":s:u:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			rc = parse_seed(optarg, c);
			break;
		case 'S':
			c->sets[c->n_sets++] = optarg;
			break;
		case 'u':
			rc = cli_duration_flag("tui", "--until", optarg, &scenario_time_setting,
					       &c->opt.until_ns);
			break;
		case 'A':
			c->cfg.ascii = c->opt.ascii = true;
			break;
		case 'C':
			c->cfg.color = false;
			break;
		default: /* ':' missing value, '?' unknown option */
			return cli_option_error("tui", ch, argv);
		}
	}
	return rc == 0 ? cli_take_scenario_file("tui", argc, argv, &c->file) : rc;
}

static struct scenario *load(struct tui_cli *c, struct diag *d)
{
	struct scenario *s = cli_load_scenario_with(c->file, c->sets, c->n_sets, d);
	if (!s)
		diag_print(d, stderr, cli_use_color(stderr));
	return s;
}

static int record_and_show(struct tui_cli *c, struct scenario *s, struct diag *d)
{
	struct tui_model *m = tui_model_new(s, &c->opt);
	if (!m)
		return CLI_EXIT_INTERNAL;
	int rc;
	if (tui_model_run(m, d) != 0) {
		diag_print(d, stderr, cli_use_color(stderr));
		rc = diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	} else {
		rc = tui_run(m, &c->cfg);
		if (rc < 0)
			rc = CLI_EXIT_INTERNAL;
	}
	tui_model_free(m);
	return rc;
}

int cmd_tui_main(int argc, char **argv)
{
	struct tui_cli c = {.cfg = {.ascii = !cli_use_utf8(), .color = true}};
	c.opt.until_ns = SCENARIO_UNSET;
	c.opt.ascii = c.cfg.ascii;
	const char *no_color = getenv("NO_COLOR");
	c.cfg.color = !(no_color && no_color[0]);
	c.sets = calloc((size_t)argc + 1, sizeof(*c.sets));
	struct diag *d = diag_new();
	int rc = (!c.sets || !d) ? CLI_EXIT_INTERNAL : parse_args(argc, argv, &c);
	if (rc == 0 && !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "natsim tui: standard output is not a terminal; try natsim run\n");
		rc = CLI_EXIT_USAGE;
	}
	struct scenario *s = rc == 0 ? load(&c, d) : NULL;
	if (rc == 0 && !s)
		rc = CLI_EXIT_USAGE;
	if (rc == 0)
		rc = record_and_show(&c, s, d);
	scenario_free(s);
	diag_free(d);
	free(c.sets);
	return rc;
}
