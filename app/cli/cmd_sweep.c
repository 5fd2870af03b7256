/*
 * cmd_sweep.c - `natsim sweep FILE --vary NAME.KEY=V1,V2,... --trials N`:
 * run a scenario many times per value, each trial with its own seed, and
 * tell how often each `connect` pair ended direct, relayed or failed (with a
 * 95 % interval) and how long connecting took; as text, CSV, JSON, a plot.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/world/sweep.h"
#include "app/world/sweep_curve.h"
#include "app/cli/sweep_out.h"
#include "app/cli/sweep_plot.h"
#include "app/world/sweep_run.h"
#include "app/lang/scenario.h"

const char cmd_sweep_usage[] =
    "Usage: natsim sweep [FILE] --vary NAME.KEY=V1,V2,... [--trials N] [OPTIONS]\n"
    "\n"
    "Run a scenario many times for each value of a setting and count how its\n"
    "`connect` pairs end: the share of trials that ended direct, relayed or\n"
    "failed, each with its 95 % Wilson interval, and the time from asking to\n"
    "the first working path (median and 90th percentile over the trials that\n"
    "connected). FILE is a scenario file or the name of a bundled one, as for\n"
    "natsim run (default: the built-in classic). Expectations in the file are\n"
    "not checked: a sweep measures, it does not grade.\n"
    "\n"
    "Each value is applied exactly as --set NAME.KEY=VALUE would be (see\n"
    "natsim run --help and docs/scenario.md for the names and keys). With\n"
    "several --vary flags every combination runs (their cartesian product, the\n"
    "first flag changing slowest). Trial t runs with the seed derived from\n"
    "--seed and t (docs/sweep.md), the same for every value, so the same\n"
    "command prints the same bytes whatever --jobs is.\n"
    "\n"
    "Options:\n"
    "      --vary NAME.KEY=V1,V2,...\n"
    "                            the values to try (repeatable: every combination)\n"
    "  -n, --trials N            trials per value (default 100)\n"
    "  -s, --seed S              where the trials' seeds come from (default: the\n"
    "                            scenario's seed, else 1)\n"
    "      --set NAME.KEY=VALUE  a fixed change for every trial (repeatable)\n"
    "  -u, --until TIME          end every trial at this virtual time (default: as\n"
    "                            natsim run ends it)\n"
    "  -f, --format FMT          text (default), csv or json\n"
    "      --plot FILE           draw the shares with their intervals into FILE (.svg\n"
    "                            or .png) with gnuplot (Debian package gnuplot-nox)\n"
    "      --plot-script FILE    write the gnuplot script (data inline) to FILE, to\n"
    "                            draw again or change by hand: gnuplot FILE\n"
    "      --curve auto|birthday|none\n"
    "                            the analytic curve to set the direct share against\n"
    "                            (default auto: where the sweep is the birthday\n"
    "                            search's, below; birthday: insist, and say what\n"
    "                            the sweep lacks; none: no curve)\n"
    "      --per-trial FILE      every trial as a CSV row (values, trial, seed, pair,\n"
    "                            outcome, connect_ms): natsim run FILE --set ... --seed\n"
    "                            SEED runs one of them again, with its timeline\n"
    "  -j, --jobs N              worker processes (default: one per CPU)\n"
    "      --ascii               ASCII only\n"
    "  -h, --help                show this help\n"
    "\n"
    "The birthday curve: a sweep of one host's probe budget (--vary\n"
    "HOST.probes=...), where HOST runs the birthday search (techniques birthday)\n"
    "from an easy side (public, or one NAT keeping one port for all destinations)\n"
    "against a peer that runs it too behind a NAT giving each destination a new\n"
    "random port (e.g. preset symmetric) with `sockets K`, is set against\n"
    "P(n) = 1 - (1 - K/R)^n, R = 64512 (ports 1024-65535): the chance that n\n"
    "probes, each to a port drawn uniformly and independently, find one of the\n"
    "K open ones. Text, csv and json show P(n) beside the measured direct share\n"
    "with the range 99 % of sweeps would measure if P(n) were right, and whether\n"
    "the share lies in it; --plot draws the curve (docs/sweep.md).\n"
    "\n"
    "Bundled sweeps: a bundled scenario named without --vary runs its sweep, if\n"
    "it has one (--trials and --until given win):\n"
    "  birthday               --vary bob.probes=16,32,...,2048 --trials 1000\n"
    "                         --until 30s (against the birthday curve)\n"
    "  prediction-background  --vary bob.prediction-window=8,16,...,64\n"
    "                         --trials 100\n"
    "\n"
    "A progress bar (trials done, rate, time left) is shown on stderr when it is\n"
    "a terminal.\n"
    "\n"
    "Exit status: 0 the sweep ran, 2 bad usage or scenario (a bad value is named\n"
    "as --set names it), 3 internal error.\n";

struct sweep_cli {
	const char *file;
	const char **sets;
	size_t n_sets;
	struct sweep_vary *vary;
	size_t n_vary;
	uint64_t trials, seed, jobs;
	int64_t until_ns; /* --until, or 0 */
	bool has_trials;
	const char *plan; /* the bundled sweep taken, in words, or NULL */
	bool has_seed, ascii;
	const char *format, *plot, *plot_script, *per_trial;
	const char *curve; /* --curve: "auto", "birthday" or "none" */
};

static int add_vary(struct sweep_cli *c, const char *arg)
{
	char msg[256];
	int rc = sweep_vary_parse(arg, &c->vary[c->n_vary], msg, sizeof(msg));
	if (rc == -2)
		return CLI_EXIT_INTERNAL;
	if (rc < 0)
		return cli_usage_error("sweep", "--vary '%s': %s", arg, msg);
	struct sweep_vary *v = &c->vary[c->n_vary++];
	for (size_t k = 0; k + 1 < c->n_vary; k++)
		if (strcmp(c->vary[k].key, v->key) == 0)
			return cli_usage_error("sweep",
					       "--vary '%s': %s is varied twice (list its "
					       "values in one --vary)",
					       arg, v->key);
	return 0;
}

static int parse_option(struct sweep_cli *c, int ch, const char *arg)
{
	switch (ch) {
	case 'V':
		return add_vary(c, arg);
	case 'n':
		c->has_trials = true;
		return cli_count_flag("sweep", "--trials", "a number of trials", arg, 1, 10000000,
				      &c->trials);
	case 's':
		c->has_seed = true;
		return cli_count_flag("sweep", "--seed", "a seed", arg, 0, UINT64_MAX, &c->seed);
	case 'S':
		c->sets[c->n_sets++] = arg;
		return 0;
	case 'j':
		return cli_count_flag("sweep", "--jobs", "a number of jobs", arg, 1, 64, &c->jobs);
	case 'f':
		if (strcmp(arg, "text") && strcmp(arg, "csv") && strcmp(arg, "json"))
			return cli_usage_error("sweep",
					       "--format expects text, csv or json, not '%s'", arg);
		c->format = arg;
		return 0;
	case 'p':
		c->plot = arg;
		return 0;
	case 'P':
		c->plot_script = arg;
		return 0;
	case 'A':
		c->ascii = true;
		return 0;
	case 'T':
		c->per_trial = arg;
		return 0;
	case 'u':
		return cli_duration_flag("sweep", "--until", arg, &scenario_time_setting,
					 &c->until_ns);
	case 'C':
		if (strcmp(arg, "auto") && strcmp(arg, "birthday") && strcmp(arg, "none"))
			return cli_usage_error(
			    "sweep", "--curve expects auto, birthday or none, not '%s'", arg);
		c->curve = arg;
		return 0;
	}
	return CLI_EXIT_USAGE;
}

/* Bundled sweeps: what `natsim sweep NAME` runs, for a bundled scenario
 * given by name without --vary (docs/sweep.md, "Bundled sweeps"); --trials
 * and --until given on the command line win. */
static const struct bundled_sweep {
	const char *scenario;
	const char *vary;
	uint64_t trials;
	int64_t until_ns;
	const char *plan; /* the same, as flags */
} bundled_sweeps[] = {
    /* 256 ports and the birthday paradox: the simulated search against
     * 1 - (1 - K/R)^n up to n = 2048; 30 s lets 256 + 2048 sends at 100 a
     * second leave, and the mappings (30 s) outlive them. */
    {"birthday", "bob.probes=16,32,64,128,256,512,1024,2048", 1000, 30000000000LL,
     "--vary bob.probes=16,32,64,128,256,512,1024,2048 --trials 1000 --until 30s"},
    /* Background traffic breaks prediction, and a wider window catches up. */
    {"prediction-background", "bob.prediction-window=8,16,24,32,40,48,64", 100, 0,
     "--vary bob.prediction-window=8,16,24,32,40,48,64 --trials 100"},
};

static int take_bundled_sweep(struct sweep_cli *c)
{
	for (size_t i = 0; c->file && i < sizeof(bundled_sweeps) / sizeof(bundled_sweeps[0]); i++) {
		const struct bundled_sweep *b = &bundled_sweeps[i];
		if (strcmp(c->file, b->scenario) != 0)
			continue;
		int rc = add_vary(c, b->vary);
		if (!c->has_trials)
			c->trials = b->trials;
		if (c->until_ns == 0)
			c->until_ns = b->until_ns;
		c->plan = b->plan;
		return rc;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct sweep_cli *c)
{
	static const struct option longopts[] = {{"vary", required_argument, NULL, 'V'},
						 {"trials", required_argument, NULL, 'n'},
						 {"seed", required_argument, NULL, 's'},
						 {"set", required_argument, NULL, 'S'},
						 {"jobs", required_argument, NULL, 'j'},
						 {"format", required_argument, NULL, 'f'},
						 {"plot", required_argument, NULL, 'p'},
						 {"plot-script", required_argument, NULL, 'P'},
						 {"ascii", no_argument, NULL, 'A'},
						 {"per-trial", required_argument, NULL, 'T'},
						 {"curve", required_argument, NULL, 'C'},
						 {"until", required_argument, NULL, 'u'},
						 {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":n:s:j:f:u:", longopts, NULL)) != -1)
		rc = ch == ':' || ch == '?' ? cli_option_error("sweep", ch, argv)
					    : parse_option(c, ch, optarg);
	if (rc == 0)
		rc = cli_take_scenario_file("sweep", argc, argv, &c->file);
	if (rc == 0 && c->n_vary == 0)
		rc = take_bundled_sweep(c);
	char msg[512];
	if (rc == 0 && c->plot && sweep_plot_check(c->plot, msg, sizeof(msg)) != 0)
		rc = cli_usage_error("sweep", "%s", msg);
	return rc;
}

/* The file with the --set changes and then `extra` (NAME.KEY=VALUE each). */
static struct scenario *load_with(const struct sweep_cli *c, char *const *extra, size_t n_extra,
				  struct diag *d)
{
	const char **sets = calloc(c->n_sets + n_extra + 1, sizeof(*sets));
	if (sets == NULL)
		return NULL;
	if (c->n_sets)
		memcpy(sets, c->sets, c->n_sets * sizeof(*sets));
	for (size_t i = 0; i < n_extra; i++)
		sets[c->n_sets + i] = extra[i];
	struct scenario *s = cli_load_scenario_with(c->file, sets, c->n_sets + n_extra, d);
	free(sets);
	return s;
}

/* Each value of each --vary on its own, so that every bad one is named
 * once (as --set names it). Returns 0 or CLI_EXIT_USAGE having said why. */
static int check_values(const struct sweep_cli *c)
{
	int rc = 0;
	for (size_t k = 0; k < c->n_vary; k++)
		for (size_t i = 0; i < c->vary[k].n_values; i++) {
			char set[1024];
			char *one[] = {set};
			snprintf(set, sizeof(set), "%s=%s", c->vary[k].key, c->vary[k].values[i]);
			struct diag *d = diag_new();
			struct scenario *s = d ? load_with(c, one, 1, d) : NULL;
			if (s == NULL && d != NULL) {
				fprintf(stderr, "natsim sweep: --vary '%s=...': value '%s':\n",
					c->vary[k].key, c->vary[k].values[i]);
				diag_print(d, stderr, cli_use_color(stderr));
				rc = CLI_EXIT_USAGE;
			}
			scenario_free(s);
			diag_free(d);
		}
	return rc;
}

/* Point p's scenario. NULL out of memory (the values were checked). */
static struct scenario *load_point(const struct sweep_cli *c, size_t p, struct diag *d)
{
	char **extra = calloc(c->n_vary + 1, sizeof(*extra));
	struct scenario *s = NULL;
	bool ok = extra != NULL;
	for (size_t k = 0; ok && k < c->n_vary; k++) {
		int n = sweep_point_set(c->vary, c->n_vary, p, k, NULL, 0);
		ok = (extra[k] = malloc((size_t)n + 1)) != NULL;
		if (ok)
			sweep_point_set(c->vary, c->n_vary, p, k, extra[k], (size_t)n + 1);
	}
	if (ok)
		s = load_with(c, extra, c->n_vary, d);
	for (size_t k = 0; extra && k < c->n_vary; k++)
		free(extra[k]);
	free(extra);
	return s;
}

/* ---- the progress bar (wall clock: what a person waits, never the results) ---- */

struct progress_bar {
	struct timespec start;
	double last;
	bool shown;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void show_progress(uint64_t done, uint64_t total, void *ctx)
{
	struct progress_bar *b = ctx;
	double now = seconds_since(&b->start);
	if (done < total && now - b->last < 0.1)
		return;
	b->last = now;
	b->shown = true;
	char bar[31];
	size_t fill = (size_t)(30 * done / total);
	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	double rate = now > 0 ? (double)done / now : 0;
	long eta = rate > 0 ? (long)((double)(total - done) / rate + 0.5) : 0;
	fprintf(stderr, "\r[%s] %llu/%llu trials  %.0f/s  ETA %ld:%02ld\033[K", bar,
		(unsigned long long)done, (unsigned long long)total, rate, eta / 60, eta % 60);
}

/* ---- the sweep ---- */

struct sweep_state {
	struct scenario **points; /* n_points */
	size_t n_points;
	struct sweep_pair *pairs;
	size_t n_pairs;
	uint64_t seed;
	struct sweep_trial *results;	 /* [point][trial][pair] */
	struct sweep_summary *summaries; /* [point][pair] */
	bool has_curve;
	struct sweep_curve curve;
	struct sweep_curve_point *curve_points; /* [point] */
};

static void sweep_state_free(struct sweep_state *st)
{
	for (size_t p = 0; st->points && p < st->n_points; p++)
		scenario_free(st->points[p]);
	free(st->points);
	free(st->pairs);
	free(st->results);
	free(st->summaries);
	free(st->curve_points);
}

/* --curve: the analytic curve the sweep is set against, if any. auto takes
 * it where it applies; birthday insists, and says what is missing. */
static int find_curve(const struct sweep_cli *c, struct sweep_state *st)
{
	char why[512];
	if (strcmp(c->curve, "none") == 0)
		return 0;
	st->has_curve =
	    sweep_curve_find(st->points[0], c->vary, c->n_vary, &st->curve, why, sizeof(why));
	if (!st->has_curve && strcmp(c->curve, "birthday") == 0)
		return cli_usage_error("sweep", "--curve birthday: the birthday curve needs %s",
				       why);
	return 0;
}

/* Every point's scenario, and the pairs they connect. Returns 0 or an exit
 * code having said why. */
static int prepare(const struct sweep_cli *c, struct sweep_state *st, struct diag *d)
{
	/* The file and --set first, so that their faults are not blamed on
	 * each value in turn. */
	struct scenario *base = load_with(c, NULL, 0, d);
	if (base == NULL) {
		diag_print(d, stderr, cli_use_color(stderr));
		return diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	}
	scenario_free(base);
	int rc = check_values(c);
	if (rc != 0)
		return rc;
	st->n_points = sweep_point_count(c->vary, c->n_vary);
	/* Bounded so that the results fit in memory (16 bytes a pair a trial)
	 * and a mistyped count does not start a week of work. */
	if (st->n_points > 10000)
		return cli_usage_error("sweep", "the --vary values make more than 10000 "
						"combinations");
	if (st->n_points * c->trials > 10000000)
		return cli_usage_error("sweep",
				       "%zu values x %llu trials is more than natsim sweep "
				       "takes (10^7 runs)",
				       st->n_points, (unsigned long long)c->trials);
	if ((st->points = calloc(st->n_points, sizeof(*st->points))) == NULL)
		return CLI_EXIT_INTERNAL;
	for (size_t p = 0; p < st->n_points; p++)
		if ((st->points[p] = load_point(c, p, d)) == NULL) {
			diag_print(d, stderr, cli_use_color(stderr));
			return diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
		}
	const struct scenario *s = st->points[0];
	if ((st->pairs = calloc(s->n_actions + 1, sizeof(*st->pairs))) == NULL)
		return CLI_EXIT_INTERNAL;
	st->n_pairs = sweep_pairs(s, st->pairs);
	if (st->n_pairs == 0)
		return cli_usage_error("sweep",
				       "%s has no `connect` action: a sweep counts how "
				       "pairs connect",
				       s->filename);
	st->seed = c->has_seed ? c->seed : s->has_seed ? s->seed : 1;
	return find_curve(c, st);
}

static int run_trials(const struct sweep_cli *c, struct sweep_state *st, struct diag *d)
{
	size_t per_point = (size_t)c->trials * st->n_pairs;
	st->results = calloc(st->n_points * per_point, sizeof(*st->results));
	st->summaries = calloc(st->n_points * st->n_pairs, sizeof(*st->summaries));
	if (st->results == NULL || st->summaries == NULL)
		return CLI_EXIT_INTERNAL;
	struct progress_bar bar = {.last = -1};
	struct sweep_work w = {.scenarios = st->points,
			       .n_points = st->n_points,
			       .n_pairs = st->n_pairs,
			       .trials = c->trials,
			       .seed = st->seed,
			       .until_ns = c->until_ns,
			       .results = st->results};
	if (isatty(fileno(stderr))) {
		clock_gettime(CLOCK_MONOTONIC, &bar.start);
		w.progress = show_progress;
		w.progress_ctx = &bar;
	}
	int rc = sweep_run(&w, (unsigned)c->jobs, d);
	if (bar.shown)
		fprintf(stderr, "\r\033[K");
	if (rc != 0) {
		diag_print(d, stderr, cli_use_color(stderr));
		return rc == SWEEP_RUN_WORLD ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	}
	for (size_t p = 0; p < st->n_points; p++)
		for (size_t i = 0; i < st->n_pairs; i++)
			if (sweep_summarize(&st->results[p * per_point + i], st->n_pairs, c->trials,
					    &st->summaries[p * st->n_pairs + i]) != 0)
				return CLI_EXIT_INTERNAL;
	if (!st->has_curve)
		return 0;
	if ((st->curve_points = calloc(st->n_points, sizeof(*st->curve_points))) == NULL)
		return CLI_EXIT_INTERNAL;
	for (size_t p = 0; p < st->n_points; p++)
		sweep_curve_compare(&st->curve, st->points[p], c->until_ns,
				    &st->summaries[p * st->n_pairs + st->curve.pair],
				    &st->curve_points[p]);
	return 0;
}

/* The plot script to a file, and the plot itself. */
static int plot(const struct sweep_cli *c, const struct sweep_report *r)
{
	struct sweep_plot_curve known;
	const struct sweep_plot_curve *curve = sweep_known_curve(r, &known) ? &known : NULL;
	char msg[512];
	if (c->plot_script) {
		size_t len;
		char *script = sweep_plot_script(r, c->plot ? c->plot : "sweep.svg", curve, &len);
		if (script == NULL)
			return CLI_EXIT_INTERNAL;
		int rc = cli_write_output("sweep", c->plot_script, script, len);
		free(script);
		if (rc != 0)
			return rc;
	}
	if (c->plot && sweep_plot_draw(r, c->plot, curve, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "natsim sweep: %s\n", msg);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* --per-trial FILE, built in memory and written whole. */
static int write_trials(const char *path, const struct sweep_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return CLI_EXIT_INTERNAL;
	int rc = sweep_print_trials(f, r);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		return CLI_EXIT_INTERNAL;
	}
	rc = cli_write_output("sweep", path, buf, len);
	free(buf);
	return rc;
}

static int report(const struct sweep_cli *c, const struct sweep_state *st)
{
	const struct scenario *s = st->points[0];
	struct sweep_report r = {c->file ? c->file : "classic (built in)",
				 s->title ? s->title : s->filename,
				 st->seed,
				 c->trials,
				 c->vary,
				 c->n_vary,
				 st->n_points,
				 st->pairs,
				 st->n_pairs,
				 st->summaries,
				 st->results,
				 st->has_curve ? &st->curve : NULL,
				 st->curve_points,
				 c->plan};
	int rc = 0;
	if (strcmp(c->format, "csv") == 0)
		rc = sweep_print_csv(stdout, &r);
	else if (strcmp(c->format, "json") == 0)
		rc = sweep_print_json(stdout, &r);
	else
		rc = sweep_print_text(stdout, &r, c->ascii);
	if (fflush(stdout) != 0 || rc != 0)
		return CLI_EXIT_INTERNAL;
	if (c->per_trial && (rc = write_trials(c->per_trial, &r)) != 0)
		return rc;
	return plot(c, &r);
}

int cmd_sweep_main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct sweep_cli c = {
	    .trials = 100, .format = "text", .curve = "auto", .ascii = !cli_use_utf8()};
	c.jobs = cpus < 1 ? 1 : cpus > 64 ? 64 : (uint64_t)cpus;
	c.sets = calloc((size_t)argc + 1, sizeof(*c.sets));
	c.vary = calloc((size_t)argc + 1, sizeof(*c.vary));
	struct diag *d = diag_new();
	struct sweep_state st = {0};
	int rc = c.sets && c.vary && d ? parse_args(argc, argv, &c) : CLI_EXIT_INTERNAL;
	if (rc == 0)
		rc = prepare(&c, &st, d);
	if (rc == 0)
		rc = run_trials(&c, &st, d);
	if (rc == 0)
		rc = report(&c, &st);
	sweep_state_free(&st);
	for (size_t k = 0; c.vary && k < c.n_vary; k++)
		sweep_vary_fini(&c.vary[k]);
	free(c.vary);
	free(c.sets);
	diag_free(d);
	return rc;
}
