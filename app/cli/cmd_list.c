/*
 * cmd_list.c - `natsim list`: the bundled scenarios with one-line
 * descriptions (their titles), from the install and source folders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/lang/scenario.h"

const char cmd_list_usage[] =
	"Usage: natsim list\n"
	"\n"
	"List the bundled scenarios with their titles. Run one with\n"
	"natsim run NAME (e.g. natsim run classic).\n";

/* The .nsim files of the first scenario folder that has any, sorted. */
static size_t find_scenarios(char ***names, const char **dir_out)
{
	const char *const *dirs = cli_scenario_dirs();
	for (size_t i = 0; dirs[i]; i++) {
		size_t n = cli_list_nsim(dirs[i], names);
		if (n) {
			*dir_out = dirs[i];
			return n;
		}
		free(*names);
	}
	*names = NULL;
	return 0;
}

int cmd_list_main(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("list", "takes no arguments, not '%s'", argv[1]);
	char **names = NULL;
	const char *dir = NULL;
	size_t n = find_scenarios(&names, &dir);
	if (n == 0) {
		fprintf(stderr, "natsim list: no bundled scenarios found; looked in:\n");
		for (const char *const *d = cli_scenario_dirs(); *d; d++)
			fprintf(stderr, "  %s\n", *d);
		free(names);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		struct diag *d = diag_new();
		struct scenario *s = d ? scenario_load(path, d) : NULL;
		int stem = (int)strlen(names[i]) - 5;
		printf("  %-28.*s %s\n", stem, names[i],
		       s && s->title ? s->title : "(does not parse: natsim run it to see why)");
		scenario_free(s);
		diag_free(d);
		free(names[i]);
	}
	free(names);
	printf("\nfrom %s\n", dir);
	return CLI_EXIT_OK;
}
