/*
 * commands.c - the table of subcommands (main.c dispatches through it).
 */
#include "app/cli.h"

extern const char cmd_run_usage[];
extern const char cmd_matrix_usage[];
extern const char cmd_list_usage[];

const struct cli_command cli_commands[] = {
	{"run", "run a scenario and check its expectations (default: the classic story)",
	 cmd_run_usage, cmd_run_main},
	{"matrix", "which kinds of NAT and firewall can connect directly, by running them",
	 cmd_matrix_usage, cmd_matrix_main},
	{"list", "list the bundled scenarios", cmd_list_usage, cmd_list_main},
};
const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);
