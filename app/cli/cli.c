/*
 * cli.c - helpers shared by the subcommands.
 */
#include "app/cli/cli.h"
#include "app/lesson/exercise.h"

#include "app/cli/builtin.h"
#include "app/lang/scenario.h"
#include "app/lang/units.h"
#include "viz/dot.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "natsim %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'natsim %s --help'.\n", cmd);
	return CLI_EXIT_USAGE;
}

int cli_duration_flag(const char *cmd, const char *flag, const char *arg,
		      const struct units_setting *set, int64_t *out)
{
	char msg[UNITS_MSG_SIZE];

	if (units_read_setting(set, arg, strlen(arg), out, msg, sizeof(msg)) == UNITS_OK)
		return 0;
	return cli_usage_error(cmd, "%s: %s", flag, msg);
}

int cli_count_flag(const char *cmd, const char *flag, const char *what, const char *arg,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	char msg[UNITS_MSG_SIZE];

	if (units_read_count(what, arg, strlen(arg), min, max, out, msg, sizeof(msg)) == UNITS_OK)
		return 0;
	return cli_usage_error(cmd, "%s: %s", flag, msg);
}

int cli_check_picture_output(const char *cmd, const char *output, const char *example)
{
	if (output == NULL)
		return cli_usage_error(cmd, "-o/--output is required (e.g. -o %s)", example);
	if (dot_format_for_path(output) == NULL)
		return cli_usage_error(cmd,
				       "--output expects a file ending in .svg, .png, .dot or "
				       ".gv, not '%s'",
				       output);
	return 0;
}

int cli_take_scenario_file(const char *cmd, int argc, char **argv, const char **file)
{
	if (optind < argc)
		*file = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd, "one scenario at a time: unexpected '%s'", argv[optind]);
	return 0;
}

int cli_option_error(const char *cmd, int ch, char **argv)
{
	if (ch == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

bool cli_use_color(FILE *f)
{
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	if (no_color && no_color[0])
		return false;
	if (!term || strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(f));
}

bool cli_use_utf8(void)
{
	setlocale(LC_CTYPE, "");
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Next to the binary first (bin/../share/natsim/scenarios), so an install
 * under any prefix finds its own scenarios; then the configured install
 * folder; then the source tree (running from a build directory). */
const char *const *cli_scenario_dirs(void)
{
	static char beside[4096];
	static const char *dirs[4];
	if (dirs[0])
		return dirs;
	size_t n = 0;
	ssize_t len = readlink("/proc/self/exe", beside, sizeof(beside) - 64);
	if (len > 0) {
		beside[len] = 0;
		char *slash = strrchr(beside, '/');
		if (slash) {
			strcpy(slash, "/../share/natsim/scenarios");
			dirs[n++] = beside;
		}
	}
	dirs[n++] = NATSIM_INSTALL_SCENARIOS;
	dirs[n++] = NATSIM_SOURCE_SCENARIOS;
	dirs[n] = NULL;
	return dirs;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether the file holds an exercise (lesson statements); false if it
 * cannot be read (scenario_load then says why). */
static bool file_is_exercise(const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	return n > 0 && exercise_text_has_questions(buf, n);
}

/* A scenario file, or the world of an exercise file (its lesson lines left
 * out, the reference variant): natsim run, why, dot, tui show an exercise's
 * world like any scenario's. */
static struct scenario *load_world(const char *path, struct diag *d)
{
	if (!file_is_exercise(path))
		return scenario_load(path, d);
	struct exercise *x = exercise_load(path, d);
	struct scenario *s = x ? scenario_parse(x->scenario_text, x->scenario_len, path, d) : NULL;
	exercise_free(x);
	return s;
}

struct scenario *cli_load_scenario(const char *file, struct diag *d)
{
	if (!file)
		return scenario_parse(builtin_default_text, builtin_default_len,
				      builtin_default_name, d);
	/* A name that is not a file here ("classic", "course/01-hole-punch"):
	 * a bundled scenario or exercise. */
	if (!is_file(file) && file[0] != '/' && file[0] != '.') {
		const char *const *dirs = cli_scenario_dirs();
		bool has_ext = strlen(file) > 5 && strcmp(file + strlen(file) - 5, ".nsim") == 0;
		for (size_t i = 0; dirs[i]; i++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s%s", dirs[i], file, has_ext ? "" : ".nsim");
			if (is_file(path))
				return load_world(path, d);
		}
	}
	return load_world(file, d);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t cli_list_nsim(const char *folder, char ***names)
{
	DIR *dir = opendir(folder);
	size_t n = 0, cap = 0;
	struct dirent *de;
	*names = NULL;
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".nsim") != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			char **grown = realloc(*names, cap * sizeof(**names));
			if (!grown)
				break;
			*names = grown;
		}
		if (((*names)[n] = strdup(de->d_name)) != NULL)
			n++;
	}
	closedir(dir);
	if (n)
		qsort(*names, n, sizeof(**names), compare_names);
	return n;
}

/* A page or an export built in memory, written whole: nothing is written
 * before the content is complete, so bad input never leaves half a file. */
int cli_write_output(const char *cmd, const char *output, const char *data, size_t len)
{
	bool to_stdout = output == NULL || strcmp(output, "-") == 0;
	FILE *f = to_stdout ? stdout : fopen(output, "w");
	bool ok = f != NULL && fwrite(data, 1, len, f) == len;
	if (f != NULL)
		ok = (to_stdout ? fflush(f) : fclose(f)) == 0 && ok;
	if (!ok) {
		fprintf(stderr, "natsim %s: --output: cannot write %s: %s\n", cmd,
			to_stdout ? "<stdout>" : output, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* A path as given, else NAME in the bundled folders (and their course/). */
const char *cli_find_exercise(const char *name, char *buf, size_t size)
{
	static const char *const forms[] = {"%s/%s", "%s/%s.nsim", "%s/course/%s",
					    "%s/course/%s.nsim"};
	if (access(name, R_OK) == 0)
		return name;
	for (const char *const *dir = cli_scenario_dirs(); *dir; dir++)
		for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
			snprintf(buf, size, forms[f], *dir, name);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	return name; /* exercise_load says it cannot be read */
}

struct scenario *cli_load_scenario_with(const char *file, const char *const *sets, size_t n_sets,
					struct diag *d)
{
	struct scenario *s = cli_load_scenario(file, d);
	for (size_t i = 0; s && i < n_sets; i++) {
		if (scenario_set_override(s, sets[i], d) < 0) {
			scenario_free(s);
			s = NULL;
		}
	}
	return s;
}

int cli_parse_picture_args(const char *cmd, int argc, char **argv,
			   const struct cli_picture_flags *flags, struct cli_scenario_args *a,
			   const char **output)
{
	int ch, rc = 0;
	/* --set values are borrowed from argv: argc of them at most. */
	a->sets = calloc((size_t)argc + 1, sizeof(*a->sets));
	if (a->sets == NULL)
		return CLI_EXIT_INTERNAL;
	/* getopt's own messages would not name the subcommand: cli_option_error does. */
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":s:u:o:", flags->longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			*output = optarg;
			break;
		case ':':
		case '?':
			rc = cli_option_error(cmd, ch, argv);
			break;
		case 's':
		case 'S':
		case 'u':
			rc = cli_scenario_option(cmd, ch, optarg, a);
			break;
		default:
			rc = flags->own_option != NULL ? flags->own_option(ch, optarg, flags->ctx)
						       : cli_scenario_option(cmd, ch, optarg, a);
			break;
		}
	}
	if (rc == 0)
		rc = cli_take_scenario_file(cmd, argc, argv, &a->file);
	if (rc == 0)
		rc = cli_check_picture_output(cmd, *output, flags->example);
	return rc;
}
