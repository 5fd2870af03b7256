/*
 * main.c - the natsim command: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "app/cli/cli.h"

static const char top_usage[] =
	"Usage: natsim [COMMAND] [OPTIONS]\n"
	"\n"
	"natsim shows how two computers behind NATs and firewalls manage to talk\n"
	"directly: real packets, real NAT behaviours, the real hole-punching code.\n"
	"With no command, natsim runs its default scenario (Alice and Bob behind\n"
	"home NATs meeting through a coordinator) and tells the story.\n"
	"\n"
	"Commands:\n";

static const char top_usage_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help     show this help (also: natsim COMMAND --help)\n"
	"  -V, --version  show the version\n"
	"\n"
	"Exit status: 0 all expectations held, 1 an expectation failed,\n"
	"2 bad usage or a bad scenario, 3 an internal error.\n";

static void print_usage(FILE *f)
{
	fputs(top_usage, f);
	for (size_t i = 0; i < cli_command_count; i++)
		fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fputs(top_usage_tail, f);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return cmd_run_main(1, (char *[]){"run", NULL});
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("natsim %s\n", NATSIM_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < cli_command_count; i++) {
		if (strcmp(cmd, cli_commands[i].name) != 0)
			continue;
		if (cli_wants_help(argc - 1, argv + 1)) {
			fputs(cli_commands[i].usage, stdout);
			return CLI_EXIT_OK;
		}
		return cli_commands[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "natsim: unknown command '%s'\n", cmd);
	print_usage(stderr);
	return CLI_EXIT_USAGE;
}
