/*
 * cli.h - what every natsim subcommand shares: exit codes, usage errors, and
 * the table of subcommands main() dispatches to.
 */
#ifndef NATSIM_APP_CLI_H
#define NATSIM_APP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes scripts can rely on (documented in natsim --help and natsim.1). */
enum cli_exit {
	CLI_EXIT_OK = 0,      /* ran, and every expectation held */
	CLI_EXIT_FAILED = 1,  /* ran, and an expectation failed */
	CLI_EXIT_USAGE = 2,   /* bad flags, bad scenario, unreadable file */
	CLI_EXIT_INTERNAL = 3 /* out of memory or an unexpected failure */
};

struct cli_command {
	const char *name;
	const char *summary;
	const char *usage; /* full --help text */
	int (*main)(int argc, char **argv);
};

/* Print "natsim CMD: MESSAGE" and "Try 'natsim CMD --help'." to stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* After getopt_long: take the one optional scenario FILE into *file (left
 * alone if absent); a second positional argument is a usage error.
 * Returns 0 or CLI_EXIT_USAGE (having said why). */
int cli_take_scenario_file(const char *cmd, int argc, char **argv, const char **file);
/* -o/--output of a picture command: required, and a name whose ending
 * picks the format (.svg, .png, .dot, .gv). Returns 0 or CLI_EXIT_USAGE
 * (having said why, with `example` as the suggestion). */
int cli_check_picture_output(const char *cmd, const char *output, const char *example);
/* getopt_long returned ':' (missing value) or '?' (unknown option): say
 * which, naming the flag. Returns CLI_EXIT_USAGE. */
int cli_option_error(const char *cmd, int ch, char **argv);

struct units_setting;
/* A flag's duration, read by app/lang/units.h like the scenario language reads
 * one (a unit always; the setting's range and zero words). Returns 0, or
 * CLI_EXIT_USAGE having said "natsim CMD: FLAG: <what is wrong>". */
int cli_duration_flag(const char *cmd, const char *flag, const char *arg,
		      const struct units_setting *set, int64_t *out);
/* A flag's whole number (decimal digits only) from min to max, refused, not
 * clamped, outside. `what` names it in messages ("a seed"). Returns 0, or
 * CLI_EXIT_USAGE having said "natsim CMD: FLAG: <what is wrong>". */
int cli_count_flag(const char *cmd, const char *flag, const char *what, const char *arg,
		   uint64_t min, uint64_t max, uint64_t *out);

/* True if argv holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

/* Whether to use colour on `f`: a terminal, TERM not "dumb", NO_COLOR unset. */
bool cli_use_color(FILE *f);
/* Whether UTF-8 box drawing and arrows are safe (the locale says UTF-8). */
bool cli_use_utf8(void);

struct scenario;
struct diag;

/* Load a scenario: NULL = the built-in default; else a path, or the name of
 * a bundled scenario ("classic" or "classic.nsim") looked up in the install
 * and source scenario folders. Problems go into `d`; NULL on failure. */
struct scenario *cli_load_scenario(const char *file, struct diag *d);
/* cli_load_scenario, then each --set override in order. NULL if loading or
 * any override failed (the diagnostics say which; nothing is printed). */
struct scenario *cli_load_scenario_with(const char *file, const char *const *sets, size_t n_sets,
					struct diag *d);
/* The folders holding bundled scenarios, in search order (NULL-terminated). */
const char *const *cli_scenario_dirs(void);

/* Subcommands. */
int cmd_run_main(int argc, char **argv);
int cmd_matrix_main(int argc, char **argv);
int cmd_sweep_main(int argc, char **argv);
int cmd_list_main(int argc, char **argv);
int cmd_keygen_main(int argc, char **argv);
int cmd_coord_main(int argc, char **argv);
int cmd_peer_main(int argc, char **argv);
int cmd_tui_main(int argc, char **argv);

int cmd_dot_main(int argc, char **argv);
int cmd_flow_main(int argc, char **argv);
int cmd_why_main(int argc, char **argv);
int cmd_exercise_main(int argc, char **argv);
int cmd_handout_main(int argc, char **argv);
/* natsim exercise --export gift (cmd_gift.c): cmd_exercise_main hands over
 * when cli_wants_export sees --export before any "--". */
int cmd_exercise_export_main(int argc, char **argv);
bool cli_wants_export(int argc, char **argv);
/* An exercise FILE as given, else NAME in the bundled folders (and their
 * course/), written into buf; the name itself if nothing is found. */
const char *cli_find_exercise(const char *name, char *buf, size_t size);
/* The *.nsim files of `folder`, sorted by name, into *names (free each and
 * the array); 0 if none or the folder cannot be read. */
size_t cli_list_nsim(const char *folder, char ***names);
/* Write `len` bytes, built in memory, to OUTPUT ("-" or NULL: stdout). Returns
 * 0, or CLI_EXIT_USAGE having said "natsim CMD: --output: cannot write ...". */
int cli_write_output(const char *cmd, const char *output, const char *data, size_t len);
int cmd_check_main(int argc, char **argv);
int cmd_course_main(int argc, char **argv);

/* For commands that run a scenario to show it (natsim dot, flow, why): the
 * scenario options they share with natsim run, and a run into a trace log.
 * Defined in cmd_run.c. */
struct trace_log;
struct cli_scenario_args {
	const char *file;  /* NULL: the built-in default */
	const char **sets; /* --set values, borrowed from argv; room for argc */
	size_t n_sets;
	bool has_seed;
	unsigned long long seed;
	long long until_ns; /* < 0: the scenario's own end */
};
/* getopt_long entries for -s/--seed, --set and -u/--until (codes 's', 'S',
 * 'u'); cli_scenario_option handles those codes. Returns 0 or
 * CLI_EXIT_USAGE (having said why, naming the flag). */
#define CLI_SCENARIO_LONGOPTS                                                                      \
	{"seed", required_argument, NULL, 's'}, {"set", required_argument, NULL, 'S'},             \
	    {"until", required_argument, NULL, 'u'}
int cli_scenario_option(const char *cmd, int ch, const char *arg, struct cli_scenario_args *a);
/* Load and run the scenario with every record kept in a new log (free it
 * with trace_log_free). Returns 0, or an exit code having printed why. */
int cli_run_to_log(const char *cmd, const struct cli_scenario_args *a, struct trace_log **out);

/* The arguments every picture command (natsim dot, flow) reads alike: the
 * scenario options, -o/--output and at most one scenario FILE. `longopts`
 * is the command's whole getopt_long table (CLI_SCENARIO_LONGOPTS, "output"
 * as 'o', then its own flags); each code of its own goes to own_option
 * (NULL: it has none). `example` is the -o suggestion when -o is missing. */
struct option;
struct cli_picture_flags {
	const struct option *longopts;
	int (*own_option)(int ch, char *arg, void *ctx); /* 0 or an exit code */
	void *ctx;
	const char *example;
};
/* Parse argv into *a (a->sets is allocated: the caller frees it, also on
 * failure) and *output. Returns 0, CLI_EXIT_USAGE having said why, or
 * CLI_EXIT_INTERNAL. */
int cli_parse_picture_args(const char *cmd, int argc, char **argv,
			   const struct cli_picture_flags *flags, struct cli_scenario_args *a,
			   const char **output);

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

#endif
