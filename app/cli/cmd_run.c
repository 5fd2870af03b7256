/*
 * cmd_run.c - `natsim run [FILE]` (and `natsim` alone): run a scenario in
 * batch and tell what happened: a timeline, each pair's outcome, each
 * expectation's verdict. Exit 0 when all hold, 1 when one fails, 2 for bad
 * input or usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/world/runner.h"
#include "app/world/simdrive.h"
#include "sim/trace_log.h"
#include "viz/jsonl.h"
#include "viz/ladder.h"
#include "viz/pcap.h"
#include "viz/tables.h"
#include "viz/text.h"
#include "viz/timeline.h"

const char cmd_run_usage[] =
    "Usage: natsim run [FILE] [OPTIONS]\n"
    "\n"
    "Run a scenario and tell what happened: a timeline, each pair's outcome and\n"
    "each expectation's verdict. Without FILE, the built-in default scenario\n"
    "(classic: two laptops behind home NATs). FILE may also be the name of a\n"
    "bundled scenario (see natsim list).\n"
    "\n"
    "Options:\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario, e.g. --set home.preset=symmetric,\n"
    "                            --set alice.keepalive=off, --set internet.loss=2%\n"
    "                            (repeatable; see docs/scenario.md)\n"
    "  -u, --until TIME          stop at this virtual time (e.g. 90s, 2min)\n"
    "      --trace FILE.jsonl    write every trace record as JSON lines (docs/trace.md)\n"
    "  -q, --quiet               no timeline: only outcomes and verdicts\n"
    "  -v, --verbose             every packet hop in the timeline\n"
    "      --ascii               ASCII only (no arrows or box drawing)\n"
    "      --tables              after the run, every NAT's and stateful firewall's\n"
    "                            conntrack table (as conntrack -L prints it, empty or\n"
    "                            not, its entry count on stderr), NAT mapping table,\n"
    "                            and each host's TCP sockets (as ss -tan lists them)\n"
    "      --at TIME             the tables as they were at TIME (implies --tables)\n"
    "      --ladder              a packet-flow (ladder) diagram instead of the timeline\n"
    "      --ladder-pair A,B     only packets between hosts A and B (implies --ladder)\n"
    "      --ladder-node N       only hops at node N (implies --ladder)\n"
    "      --from TIME           the ladder from TIME on (implies --ladder)\n"
    "      --to TIME             the ladder up to TIME (implies --ladder)\n"
    "      --width N             fit the timeline and ladder in N columns (default: the\n"
    "                            terminal's; the ladder 100 into a pipe)\n"
    "      --pcap DIR            write one capture per node interface, DIR/NODE-IFACE.pcap\n"
    "                            (for Wireshark; DIR is created if missing)\n"
    "      --no-color            no colours (also: NO_COLOR=1)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 every expectation held, 1 one failed, 2 bad usage or scenario,\n"
    "3 internal error.\n";

struct run_cli {
	const char *file;
	struct run_options opt;
	const char **sets;
	size_t n_sets;
	const char *trace_path;
	enum timeline_verbosity verbosity;
	bool quiet, ascii, color;
	bool tables, has_at;
	int64_t at_ns;
	bool ladder;
	struct ladder_options lopt;
	char *pair; /* "A,B" split in place into lopt.pair_a and lopt.pair_b */
	const char *pcap_dir;
};

struct timeline_sink {
	FILE *out;
	struct timeline_options opt;
	struct packet_owners *owners; /* hosts by address, learnt from node records */
	struct timeline_state *state; /* sprays of drops folded (timeline.h) */
};

static void timeline_observe(const struct trace_record *r, void *ctx)
{
	struct timeline_sink *s = ctx;
	/* whose packet an ICMP error is about; a name not learnt is not said */
	if (s->owners != NULL)
		packet_owners_learn(s->owners, r);
	timeline_render_next(s->out, r, &s->opt, s->state);
}

static void jsonl_observe(const struct trace_record *r, void *ctx)
{
	jsonl_write_record(ctx, r);
}

struct progress {
	struct timespec start;
	bool shown;
};

/* Progress on stderr for runs longer than a second, on a terminal only. */
static void show_progress(int64_t now, int64_t end, void *ctx)
{
	struct progress *p = ctx;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double wall = (double)(t.tv_sec - p->start.tv_sec) + (t.tv_nsec - p->start.tv_nsec) / 1e9;
	if (wall < 1.0)
		return;
	fprintf(stderr, "\rsimulating: %.0f of %.0f s of virtual time", now / 1e9, end / 1e9);
	p->shown = true;
}

/* A virtual time: the range of the language's `at` (0 to 24h). */
static int parse_time(const char *flag, const char *arg, int64_t *out)
{
	return cli_duration_flag("run", flag, arg, &scenario_time_setting, out);
}

/* The options that choose what is shown after the run: tables, ladder, pcap. */
static int parse_view_option(int ch, char *arg, struct run_cli *c)
{
	char *comma;
	uint64_t w;
	switch (ch) {
	case 't':
		c->tables = true;
		return 0;
	case 'a':
		c->tables = c->has_at = true;
		return parse_time("--at", arg, &c->at_ns);
	case 'l':
		c->ladder = true;
		return 0;
	case 'P':
		comma = strchr(arg, ',');
		if (comma == NULL || comma == arg || comma[1] == '\0' || strchr(comma + 1, ','))
			return cli_usage_error("run",
					       "--ladder-pair expects two host names separated by "
					       "a comma (e.g. alice,bob), not '%s'",
					       arg);
		c->ladder = true;
		c->pair = arg;
		return 0;
	case 'N':
		c->ladder = true;
		c->lopt.node = arg;
		return 0;
	case 'F':
		c->ladder = true;
		return parse_time("--from", arg, &c->lopt.from_ns);
	case 'O':
		c->ladder = true;
		return parse_time("--to", arg, &c->lopt.to_ns);
	case 'W':
		if (cli_count_flag("run", "--width", "a width in columns", arg, 40, 1000, &w))
			return CLI_EXIT_USAGE;
		c->lopt.width = (int)w;
		return 0;
	case 'p':
		if (arg[0] == '\0')
			return cli_usage_error("run", "--pcap expects a folder name");
		c->pcap_dir = arg;
		return 0;
	}
	return cli_usage_error("run", "unknown option '%s'", arg);
}

/* One option of natsim run: the run's own (seed, overrides, end, trace
 * file, how to print it); what to show is parse_view_option's. Returns 0
 * or CLI_EXIT_USAGE (having said why). */
static int parse_run_option(int ch, char *arg, struct run_cli *c)
{
	switch (ch) {
	case 's':
		if (cli_count_flag("run", "--seed", "a seed", arg, 0, UINT64_MAX, &c->opt.seed))
			return CLI_EXIT_USAGE;
		c->opt.has_seed = true;
		return 0;
	case 'S':
		c->sets[c->n_sets++] = arg;
		return 0;
	case 'u':
		return parse_time("--until", arg, &c->opt.until_ns) ? CLI_EXIT_USAGE : 0;
	case 'T':
		c->trace_path = arg;
		return 0;
	case 'q':
		c->quiet = true;
		return 0;
	case 'v':
		c->verbosity = TIMELINE_VERBOSE;
		return 0;
	case 'A':
		c->ascii = true;
		return 0;
	case 'C':
		c->color = false;
		return 0;
	}
	return parse_view_option(ch, arg, c) != 0 ? CLI_EXIT_USAGE : 0;
}

/* --ladder-pair A,B, already checked by parse_view_option to hold one
 * comma between two names: split in place into the ladder's two hosts. */
static void split_pair(struct run_cli *c)
{
	char *comma = strchr(c->pair, ',');
	*comma = '\0';
	c->lopt.pair_a = c->pair;
	c->lopt.pair_b = comma + 1;
}

static int parse_args(int argc, char **argv, struct run_cli *c)
{
	static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
						 {"set", required_argument, NULL, 'S'},
						 {"until", required_argument, NULL, 'u'},
						 {"trace", required_argument, NULL, 'T'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"ascii", no_argument, NULL, 'A'},
						 {"no-color", no_argument, NULL, 'C'},
						 {"tables", no_argument, NULL, 't'},
						 {"at", required_argument, NULL, 'a'},
						 {"ladder", no_argument, NULL, 'l'},
						 {"ladder-pair", required_argument, NULL, 'P'},
						 {"ladder-node", required_argument, NULL, 'N'},
						 {"from", required_argument, NULL, 'F'},
						 {"to", required_argument, NULL, 'O'},
						 {"width", required_argument, NULL, 'W'},
						 {"pcap", required_argument, NULL, 'p'},
						 {NULL, 0, NULL, 0}};
	int ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":s:u:qv", longopts, NULL)) != -1) {
		if (ch == ':' || ch == '?')
			return cli_option_error("run", ch, argv);
		if (parse_run_option(ch, optarg, c) != 0)
			return CLI_EXIT_USAGE;
	}
	if (c->lopt.to_ns >= 0 && c->lopt.from_ns > c->lopt.to_ns)
		return cli_usage_error("run", "--from must not be later than --to");
	if (c->pair != NULL)
		split_pair(c);
	return cli_take_scenario_file("run", argc, argv, &c->file);
}

static void print_header(FILE *f, const struct scenario *s, uint64_t seed, bool color)
{
	const char *b = color ? "\033[1m" : "", *n = color ? "\033[0m" : "";
	fprintf(f, "%s%s%s\n", b, s->title ? s->title : s->filename, n);
	if (s->description) {
		const char *p = s->description;
		while (*p) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			fprintf(f, "  %.*s\n", (int)len, p);
			p += len + (e ? 1 : 0);
		}
	}
	fprintf(f, "  (%s, seed %llu)\n\n", s->filename, (unsigned long long)seed);
}

/* "direct at 1.145 s (0.145 s after asking), lost at 31.145 s": the
 * asking side's steps; a long history keeps its first steps and its last. */
static void print_history(FILE *f, const struct run_pair *p)
{
	size_t kept = p->n_steps < RUN_HISTORY_MAX ? p->n_steps : RUN_HISTORY_MAX;
	for (size_t i = 0; i < kept; i++) {
		const struct run_step *s = &p->steps[i];
		if (i == RUN_HISTORY_MAX - 1 && p->n_steps > RUN_HISTORY_MAX)
			fprintf(f, ", %zu more", p->n_steps - RUN_HISTORY_MAX);
		char secs[TEXT_SECONDS_SIZE];
		fprintf(f, "%s%s at %s s", i ? ", " : "", run_step_name(s->kind),
			text_seconds(s->at, secs, sizeof(secs)));
		if (i == 0)
			fprintf(f, " (%s s after asking)",
				text_seconds(s->at - p->connect_at, secs, sizeof(secs)));
	}
}

/* Each pair: how it ended, then what happened on the way. */
static void print_outcomes(FILE *f, const struct run_result *res, bool ascii, bool color)
{
	if (res->n_pairs == 0)
		return;
	fprintf(f, "\nOutcome (as the side that asked saw it)\n");
	for (size_t i = 0; i < res->n_pairs; i++) {
		const struct run_pair *p = &res->pairs[i];
		const char *end = run_pair_end_name(p);
		const char *c = !color			      ? ""
				: strcmp(end, "direct") == 0  ? "\033[32m"
				: strcmp(end, "relayed") == 0 ? "\033[33m"
							      : "\033[31m";
		fprintf(f, "  %s %s %s: %s%s at the end%s\n      ", p->a, ascii ? "<->" : "↔", p->b,
			c, end, color ? "\033[0m" : "");
		if (p->n_steps)
			print_history(f, p);
		else
			fputs("no path was ever found", f);
		if (strcmp(end, "direct") == 0 && p->detail[0])
			fprintf(f, "\n      %s", p->detail);
		else if ((strcmp(end, "lost") == 0 || strcmp(end, "failed") == 0) && p->failure[0])
			fprintf(f, "\n      %s", p->failure);
		fputc('\n', f);
	}
}

static void print_verdicts(FILE *f, const struct scenario *s, const struct run_result *res,
			   bool ascii, bool color)
{
	if (res->n_verdicts == 0)
		return;
	const char *base = strrchr(s->filename, '/');
	base = base ? base + 1 : s->filename;
	fprintf(f, "\nExpectations\n");
	for (size_t i = 0; i < res->n_verdicts; i++) {
		const struct run_verdict *v = &res->verdicts[i];
		const char *mark = v->passed ? (ascii ? "ok  " : "✓") : (ascii ? "FAIL" : "✗");
		const char *c = !color ? "" : v->passed ? "\033[32m" : "\033[1;31m";
		fprintf(f, "  %s%s%s %s:%d  %s", c, mark, color ? "\033[0m" : "", base,
			v->expect->loc.line, v->text);
		if (!v->passed)
			fprintf(f, "\n        but %s", v->why);
		fputc('\n', f);
	}
	/* "The 1 expectation held.", "All 3 expectations held.", "1 of 3
	 * expectations failed.": the count agrees with its noun. */
	if (res->n_verdicts == 1)
		fprintf(f, "\nThe 1 expectation %s.\n", res->n_failed ? "failed" : "held");
	else if (res->n_failed)
		fprintf(f, "\n%zu of %zu expectations failed.\n", res->n_failed, res->n_verdicts);
	else
		fprintf(f, "\nAll %zu expectations held.\n", res->n_verdicts);
}

/* The terminal's columns when stdout is one (and not absurdly narrow), else 0. */
static int terminal_columns(void)
{
	struct winsize ws;
	if (isatty(fileno(stdout)) && ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40)
		return ws.ws_col;
	return 0;
}

/* Columns for the ladder: --width, else the terminal's, else 100. */
static int ladder_width(const struct run_cli *c)
{
	if (c->lopt.width > 0)
		return c->lopt.width;
	return terminal_columns() ? terminal_columns() : 100;
}

/* A node named by --ladder-node or --ladder-pair must exist. */
static int check_ladder_names(const struct run_cli *c, const struct trace_log *log)
{
	const char *names[] = {c->lopt.node, c->lopt.pair_a, c->lopt.pair_b};
	const char *flags[] = {"--ladder-node", "--ladder-pair", "--ladder-pair"};
	for (int i = 0; i < 3; i++) {
		if (names[i] == NULL || ladder_node_known(log, names[i]))
			continue;
		fprintf(stderr,
			"natsim run: %s: no node called '%s' in this scenario (nodes:", flags[i],
			names[i]);
		for (size_t k = 0; k < trace_log_count(log); k++) {
			const struct trace_record *r = trace_log_get(log, k);
			if (r->kind == TRACE_NODE)
				fprintf(stderr, " %s", r->u.node.name);
		}
		fprintf(stderr, ")\n");
		return -1;
	}
	return 0;
}

static int print_tables(const struct run_cli *c, const struct trace_log *log, int64_t end)
{
	int64_t at = c->has_at ? c->at_ns : end;
	if (at > end) {
		fprintf(stderr,
			"natsim run: note: --at %.3fs is after the end of the run (%.3fs): "
			"showing the tables at the end; run longer with --until\n",
			at / 1e9, end / 1e9);
		at = end;
	}
	struct tables *t = tables_fold(log, at);
	if (t == NULL)
		return -1;
	printf("\nTables at %.3fs\n\n", at / 1e9);
	int rc = tables_render_conntrack(stdout, stderr, t, NULL, c->ascii);
	if (rc == 0) {
		printf("\n");
		rc = tables_render_mappings(stdout, t, NULL, c->ascii);
	}
	/* TCP sockets, as ss -tan on each host that has one (none: nothing). */
	if (rc == 0 && tables_has_sockets(t)) {
		printf("\n");
		rc = tables_render_sockets(stdout, t, NULL, c->ascii);
	}
	tables_free(t);
	return rc;
}

/* The views drawn from the whole run: ladder, tables, captures. Returns an
 * exit code, or -1 for "carry on". */
static int show_views(struct run_cli *c, const struct trace_log *log, int64_t end)
{
	if (trace_log_failed(log)) {
		fprintf(stderr, "natsim run: out of memory while keeping the trace\n");
		return CLI_EXIT_INTERNAL;
	}
	if (c->ladder) {
		if (check_ladder_names(c, log) != 0)
			return CLI_EXIT_USAGE;
		c->lopt.ascii = c->ascii;
		c->lopt.width = ladder_width(c);
		c->lopt.payload = simdrive_payload_summary;
		printf("\n");
		if (ladder_render(stdout, log, &c->lopt) != 0)
			return CLI_EXIT_INTERNAL;
	}
	if (c->tables && print_tables(c, log, end) != 0)
		return CLI_EXIT_INTERNAL;
	if (c->pcap_dir != NULL) {
		char err[512];
		struct capture_stats st;
		if (capture_write_dir(log, c->pcap_dir, &st, err, sizeof(err)) != 0) {
			fprintf(stderr, "natsim run: --pcap: %s\n", err);
			return CLI_EXIT_USAGE;
		}
		fprintf(stderr, "natsim run: wrote %zu packets into %zu captures in %s/\n",
			st.packets, st.files, c->pcap_dir);
	}
	return -1;
}

static void add_observer(struct run_cli *c, trace_observer_fn fn, void *ctx)
{
	c->opt.observers[c->opt.n_observers].fn = fn;
	c->opt.observers[c->opt.n_observers++].ctx = ctx;
}

static void timeline_sink_init(struct timeline_sink *sink, const struct run_cli *c)
{
	sink->out = stdout;
	timeline_options_default(&sink->opt);
	sink->opt.verbosity = c->verbosity;
	sink->opt.ascii = c->ascii;
	sink->opt.color = c->color;
	sink->opt.payload = simdrive_payload_summary;
	/* On a terminal, long sentences wrap under the text column; into a
	 * file or a pipe, one record stays one line (for grep). */
	sink->opt.width = c->lopt.width > 0 ? c->lopt.width : terminal_columns();
	sink->owners = packet_owners_new();
	sink->opt.owners = sink->owners;
	sink->state = timeline_state_new(); /* NULL: every drop shown, nothing lost */
}

/* --trace FILE: every record as one JSON line. Returns 0 or CLI_EXIT_USAGE
 * (having said why). */
static int open_trace(struct run_cli *c, FILE **trace_file, struct jsonl_writer **jw)
{
	*trace_file = fopen(c->trace_path, "w");
	if (!*trace_file) {
		fprintf(stderr, "natsim run: cannot write --trace %s: %s\n", c->trace_path,
			strerror(errno));
		return CLI_EXIT_USAGE;
	}
	*jw = jsonl_writer_new(*trace_file, simdrive_payload_summary);
	if (*jw == NULL) {
		fclose(*trace_file);
		fprintf(stderr, "natsim run: out of memory for --trace %s\n", c->trace_path);
		return CLI_EXIT_INTERNAL;
	}
	add_observer(c, jsonl_observe, *jw);
	return 0;
}

/* A trace cut short is a failure of the run even if the world ran well:
 * returns the runner's rc, or -2 if it was fine and the trace was not. */
static int close_trace(const struct run_cli *c, FILE *trace_file, struct jsonl_writer *jw, int rc)
{
	jsonl_writer_flush(jw);
	if (jsonl_writer_error(jw) || fclose(trace_file) != 0) {
		fprintf(stderr, "natsim run: writing %s failed\n", c->trace_path);
		rc = rc < 0 ? rc : -2;
	}
	jsonl_writer_free(jw);
	return rc;
}

static void watch_progress(struct run_cli *c, struct progress *prog)
{
	clock_gettime(CLOCK_MONOTONIC, &prog->start);
	prog->shown = false;
	c->opt.progress = show_progress;
	c->opt.progress_ctx = prog;
}

/* A scenario that only builds a world is legal, but likely a mistake. */
static void warn_if_idle(const struct scenario *s)
{
	if (s->n_actions == 0 && s->n_expects == 0)
		fprintf(
		    stderr,
		    "natsim run: %s has no actions ('at ...') and no expectations ('expect ...'): "
		    "the world is built, and nothing happens in it\n",
		    s->filename);
}

/* After the run: the views asked for (tables, ladder, pcap) if any, else
 * each pair's outcome and each expectation's verdict. Returns the exit code. */
static int report(struct run_cli *c, const struct scenario *s, struct run_result *res,
		  struct trace_log *log, int rc)
{
	int view_rc = log != NULL ? show_views(c, log, res->ended_at) : -1;
	trace_log_free(log);
	if (view_rc >= 0) {
		run_result_free(res);
		return view_rc;
	}
	print_outcomes(stdout, res, c->ascii, c->color);
	print_verdicts(stdout, s, res, c->ascii, c->color);
	int exit_code = CLI_EXIT_OK;
	if (rc == -2)
		exit_code = CLI_EXIT_INTERNAL;
	else if (res->n_failed)
		exit_code = CLI_EXIT_FAILED;
	run_result_free(res);
	return exit_code;
}

/* The run with the timeline (and the --trace writer, if any) watching. */
static int run_observed(struct run_cli *c, struct scenario *s, struct diag *d,
			struct timeline_sink *sink, FILE *trace_file, struct jsonl_writer *jw)
{
	struct progress prog;
	struct trace_log *log = NULL;
	if (c->tables || c->ladder || c->pcap_dir != NULL) {
		log = trace_log_new();
		if (log == NULL) {
			if (jw)
				close_trace(c, trace_file, jw, 0);
			return CLI_EXIT_INTERNAL;
		}
		add_observer(c, trace_log_observe, log);
	}
	/* The ladder tells the same story as the timeline: show one of them. */
	if (!c->quiet && !c->ladder)
		add_observer(c, timeline_observe, sink);
	if (isatty(fileno(stderr)))
		watch_progress(c, &prog);
	warn_if_idle(s);
	print_header(stdout, s,
		     c->opt.has_seed ? c->opt.seed
		     : s->has_seed   ? s->seed
				     : 1,
		     c->color);
	struct run_result res;
	int rc = runner_run(s, &c->opt, &res, d);
	if (c->opt.progress && prog.shown)
		fprintf(stderr, "\r\033[K");
	if (!c->quiet && !c->ladder)
		timeline_render_end(sink->out, &sink->opt, sink->state);
	if (jw)
		rc = close_trace(c, trace_file, jw, rc);
	if (rc == -1) {
		diag_print(d, stderr, cli_use_color(stderr));
		trace_log_free(log);
		return CLI_EXIT_USAGE;
	}
	return report(c, s, &res, log, rc);
}

static int run_loaded(struct run_cli *c, struct scenario *s, struct diag *d)
{
	FILE *trace_file = NULL;
	struct jsonl_writer *jw = NULL;
	struct timeline_sink sink;
	timeline_sink_init(&sink, c);
	int opened = c->trace_path ? open_trace(c, &trace_file, &jw) : 0;
	if (opened != 0) {
		packet_owners_free(sink.owners);
		timeline_state_free(sink.state);
		return opened;
	}
	int rc = run_observed(c, s, d, &sink, trace_file, jw);
	packet_owners_free(sink.owners);
	timeline_state_free(sink.state);
	return rc;
}

int cmd_run_main(int argc, char **argv)
{
	struct run_cli c = {.verbosity = TIMELINE_QUIET};
	c.opt.until_ns = SCENARIO_UNSET;
	ladder_options_default(&c.lopt);
	c.color = cli_use_color(stdout);
	c.ascii = !cli_use_utf8();
	c.sets = calloc((size_t)argc + 1, sizeof(*c.sets));
	struct diag *d = diag_new();
	int rc = (!c.sets || !d) ? CLI_EXIT_INTERNAL : parse_args(argc, argv, &c);
	struct scenario *s = NULL;
	if (rc == 0) {
		s = cli_load_scenario_with(c.file, c.sets, c.n_sets, d);
		if (!s) {
			diag_print(d, stderr, cli_use_color(stderr));
			rc = CLI_EXIT_USAGE;
		} else if (diag_count_warnings(d) > 0) {
			/* A scenario that loads may still deserve a word (docs/scenario.md,
			 * "Checks and error messages"); the run gets a fresh list. */
			diag_print(d, stderr, cli_use_color(stderr));
			diag_clear(d);
		}
	}
	if (rc == 0)
		rc = run_loaded(&c, s, d);
	scenario_free(s);
	diag_free(d);
	free(c.sets);
	return rc;
}

/* ---- shared with natsim dot, flow and why (app/cli/cli.h) ---- */

int cli_scenario_option(const char *cmd, int ch, const char *arg, struct cli_scenario_args *a)
{
	uint64_t seed;
	int64_t until;
	switch (ch) {
	case 's':
		if (cli_count_flag(cmd, "--seed", "a seed", arg, 0, UINT64_MAX, &seed))
			return CLI_EXIT_USAGE;
		a->seed = seed;
		a->has_seed = true;
		return 0;
	case 'S':
		a->sets[a->n_sets++] = arg;
		return 0;
	case 'u':
		if (cli_duration_flag(cmd, "--until", arg, &scenario_time_setting, &until))
			return CLI_EXIT_USAGE;
		a->until_ns = until;
		return 0;
	}
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_run_to_log(const char *cmd, const struct cli_scenario_args *a, struct trace_log **out)
{
	struct diag *d = diag_new();
	struct trace_log *log = trace_log_new();
	struct scenario *s = NULL;
	struct run_result res;
	int rc = CLI_EXIT_INTERNAL;
	*out = NULL;
	if (d == NULL || log == NULL)
		goto done;
	rc = CLI_EXIT_USAGE;
	s = cli_load_scenario_with(a->file, a->sets, a->n_sets, d);
	bool ok = s != NULL;
	if (ok && diag_count_warnings(d) > 0) {
		/* As natsim run: a scenario that loads may still deserve a word. */
		diag_print(d, stderr, cli_use_color(stderr));
		diag_clear(d); /* said once; the run's own diagnostics follow */
	}
	struct run_options opt = {.has_seed = a->has_seed, .seed = a->seed, .n_observers = 1};
	opt.until_ns = a->until_ns >= 0 ? a->until_ns : SCENARIO_UNSET;
	opt.observers[0].fn = trace_log_observe;
	opt.observers[0].ctx = log;
	if (ok && runner_run(s, &opt, &res, d) == -1)
		ok = false;
	if (!ok) {
		diag_print(d, stderr, cli_use_color(stderr));
		goto done;
	}
	run_result_free(&res);
	if (trace_log_failed(log)) {
		fprintf(stderr, "natsim %s: out of memory while keeping the trace\n", cmd);
		rc = CLI_EXIT_INTERNAL;
		goto done;
	}
	*out = log;
	log = NULL;
	rc = 0;
done:
	trace_log_free(log);
	scenario_free(s);
	diag_free(d);
	return rc;
}
