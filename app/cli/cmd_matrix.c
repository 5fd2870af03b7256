/*
 * cmd_matrix.c - `natsim matrix`: which kinds of peer can reach each other
 * directly? Every pair of the six classic kinds is run (not looked up): a
 * scenario is written for the pair, parsed and run like any other.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/cli/matrix.h"
#include "app/world/runner.h"

const char cmd_matrix_usage[] =
    "Usage: natsim matrix [--format text|csv|json] [--seed N] [--transport udp|tcp]\n"
    "                     [--tcp-unsolicited drop|rst|icmp]\n"
    "\n"
    "Run every pair of the six classic kinds of peer - open (public, no firewall),\n"
    "firewall (public, stateful firewall), full-cone, restricted-cone,\n"
    "port-restricted-cone and symmetric NAT - through the real hole-punching code,\n"
    "and print whether each pair ends direct, relayed or failed, and how long it\n"
    "took from asking the coordinator to the first working path.\n"
    "\n"
    "Over TCP the agents punch by simultaneous open (RFC 5128 3.4): each connects\n"
    "to the other from the port the coordinator saw. Which pairs then connect\n"
    "directly, and how soon, depends on what a NAT does with a SYN nobody inside\n"
    "asked for: one that drops it silently (RFC 5382 REQ-4; the default) leaves\n"
    "the sender's connect waiting in SYN-SENT, and the other's SYN, a moment\n"
    "later, completes it; one that answers with an RST makes that connect fail,\n"
    "and the pair connects only if a later try of the agents' (every 250 ms,\n"
    "eight at most) finds the other's SYN already out, else it falls back to the\n"
    "relay. Bob's link is 60 ms slower in the TCP runs, so one SYN always arrives\n"
    "first, as it does in practice; compare the cells and times with\n"
    "--tcp-unsolicited drop, rst and icmp.\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT  text (default), csv (header a,b,outcome,connect_ms) or json\n"
    "  -s, --seed N      random seed (default 1)\n"
    "  -t, --transport T udp (default) or tcp: how the agents connect\n"
    "      --tcp-unsolicited ANSWER\n"
    "                    every NAT's answer to an unsolicited SYN: drop (default),\n"
    "                    rst or icmp (implies --transport tcp)\n"
    "      --ascii       ASCII only\n"
    "  -h, --help        show this help\n";

const char *const matrix_kinds[MATRIX_KINDS] = {
	"open", "firewall", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric"};

/* One side of the pair: public hosts on their own /24, NATed ones behind a
 * NAT of the kind, with no host firewall (the NAT is the lesson). */
static int side_text(char *out, size_t n, const char *host, int kind, int index,
		     const char *nat_opts)
{
	const char *pub = index == 0 ? "203.0.113" : "198.51.100";
	if (kind <= 1)
		return snprintf(out, n, "host %s at %s.10 public firewall %s\n", host, pub,
				kind == 1 ? "on" : "off");
	return snprintf(out, n,
			"nat %s-nat preset %s%s public %s.10\n"
			"host %s at 192.168.%d.5 behind %s-nat\n",
			host, matrix_kinds[kind], nat_opts, pub, host, index + 1, host);
}

int matrix_scenario_text(int a, int b, const struct matrix_setup *setup, char *out, size_t n)
{
	char sa[256], sb[256], nat[64] = "";
	bool tcp = setup && (setup->tcp || setup->tcp_unsolicited);
	if (tcp && setup->tcp_unsolicited)
		snprintf(nat, sizeof(nat), " tcp-unsolicited %s", setup->tcp_unsolicited);
	side_text(sa, sizeof(sa), "alice", a, 0, nat);
	side_text(sb, sizeof(sb), "bob", b, 1, nat);
	return snprintf(out, n,
			"title \"%s x %s\"\n"
			"internet latency 20ms\n"
			"coordinator coord at 192.0.2.10 alternate 192.0.2.11\n"
			"%s%s%s"
			"at 0s register alice\n"
			"at 0s register bob\n"
			"at 1s connect alice to bob%s\n",
			matrix_kinds[a], matrix_kinds[b], sa, sb,
			tcp ? "link bob latency 60ms\n" : "", tcp ? " over tcp" : "");
}

int matrix_run_pair(int a, int b, const struct matrix_setup *setup, uint64_t seed,
		    struct matrix_cell *cell, struct diag *d)
{
	char text[1024];
	int len = matrix_scenario_text(a, b, setup, text, sizeof(text));
	struct scenario *s = scenario_parse(text, (size_t)len, "<matrix>", d);
	if (!s)
		return -1;
	struct run_options opt = {.has_seed = true, .seed = seed, .until_ns = SIM_S(12)};
	struct run_result res;
	int rc = runner_run(s, &opt, &res, d);
	if (rc == 0) {
		const struct run_pair *p = &res.pairs[0];
		cell->outcome = p->path;
		cell->connect_ns = p->connected_at == SCENARIO_UNSET
					   ? -1
					   : p->connected_at - p->connect_at;
		run_result_free(&res);
	}
	scenario_free(s);
	return rc;
}

const char *matrix_outcome_name(int path)
{
	return path == SCENARIO_PATH_DIRECT ? "direct"
	       : path == SCENARIO_PATH_RELAYED ? "relayed"
					       : "failed";
}

enum matrix_format { FORMAT_TEXT, FORMAT_CSV, FORMAT_JSON };

static void print_text(const struct matrix_cell cells[MATRIX_KINDS][MATRIX_KINDS], bool ascii,
		       bool color)
{
	static const char *const short_names[MATRIX_KINDS] = {"open",       "firewall",
							      "full-cone",  "restricted",
							      "port-restr", "symmetric"};
	printf("%-22s", ascii ? "alice \\ bob" : "alice ╲ bob");
	for (int b = 0; b < MATRIX_KINDS; b++)
		printf(" %-13s", short_names[b]);
	printf("\n");
	for (int a = 0; a < MATRIX_KINDS; a++) {
		printf("%-22s", matrix_kinds[a]);
		for (int b = 0; b < MATRIX_KINDS; b++) {
			const struct matrix_cell *c = &cells[a][b];
			char cell[32];
			if (c->connect_ns >= 0 && c->connect_ns < SIM_S(1))
				snprintf(cell, sizeof(cell), "%s %lldms", matrix_outcome_name(c->outcome),
					 (long long)(c->connect_ns / 1000000));
			else if (c->connect_ns >= 0)
				snprintf(cell, sizeof(cell), "%s %.1fs", matrix_outcome_name(c->outcome),
					 c->connect_ns / 1e9);
			else
				snprintf(cell, sizeof(cell), "%s", matrix_outcome_name(c->outcome));
			const char *col = !color ? "" : c->outcome == 0 ? "\033[32m"
						      : c->outcome == 1 ? "\033[33m"
									: "\033[31m";
			printf(" %s%-13s%s", col, cell, color ? "\033[0m" : "");
		}
		printf("\n");
	}
	printf("\nTime is from asking the coordinator to the first working path "
	       "(relayed pairs wait out the 5 s punching deadline first).\n");
}

static void print_csv(const struct matrix_cell cells[MATRIX_KINDS][MATRIX_KINDS])
{
	printf("a,b,outcome,connect_ms\n");
	for (int a = 0; a < MATRIX_KINDS; a++)
		for (int b = 0; b < MATRIX_KINDS; b++) {
			const struct matrix_cell *c = &cells[a][b];
			printf("%s,%s,%s,", matrix_kinds[a], matrix_kinds[b],
			       matrix_outcome_name(c->outcome));
			if (c->connect_ns >= 0)
				printf("%.3f", c->connect_ns / 1e6);
			printf("\n");
		}
}

static int print_json(const struct matrix_cell cells[MATRIX_KINDS][MATRIX_KINDS])
{
	json_t *arr = json_array();
	for (int a = 0; a < MATRIX_KINDS; a++)
		for (int b = 0; b < MATRIX_KINDS; b++) {
			const struct matrix_cell *c = &cells[a][b];
			json_t *o = json_object();
			json_object_set_new(o, "a", json_string(matrix_kinds[a]));
			json_object_set_new(o, "b", json_string(matrix_kinds[b]));
			json_object_set_new(o, "outcome",
					    json_string(matrix_outcome_name(c->outcome)));
			json_object_set_new(o, "connect_ms", c->connect_ns >= 0
								     ? json_real(c->connect_ns / 1e6)
								     : json_null());
			json_array_append_new(arr, o);
		}
	int rc = json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(arr);
	return rc;
}

/* --format's word. Returns 0 or CLI_EXIT_USAGE (having said why). */
static int parse_format(const char *arg, enum matrix_format *fmt)
{
	if (strcmp(arg, "text") == 0)
		*fmt = FORMAT_TEXT;
	else if (strcmp(arg, "csv") == 0)
		*fmt = FORMAT_CSV;
	else if (strcmp(arg, "json") == 0)
		*fmt = FORMAT_JSON;
	else
		return cli_usage_error("matrix", "--format expects text, csv or json, not '%s'",
				       arg);
	return 0;
}

/* Run every pair of NAT kinds, one fresh diagnostics list each. The runs
 * take a while, so a terminal on stderr sees which pair is running.
 * Returns 0 or CLI_EXIT_INTERNAL (having printed the diagnostics). */
static int run_all_pairs(const struct matrix_setup *setup, uint64_t seed,
			 struct matrix_cell cells[MATRIX_KINDS][MATRIX_KINDS])
{
	bool tty = isatty(fileno(stderr));
	for (int a = 0; a < MATRIX_KINDS; a++)
		for (int b = 0; b < MATRIX_KINDS; b++) {
			struct diag *d = diag_new();
			if (tty)
				fprintf(stderr, "\rrunning pair %d of %d", a * MATRIX_KINDS + b + 1,
					MATRIX_KINDS * MATRIX_KINDS);
			int rc = d ? matrix_run_pair(a, b, setup, seed, &cells[a][b], d) : -1;
			if (rc < 0) {
				if (d)
					diag_print(d, stderr, false);
				diag_free(d);
				return CLI_EXIT_INTERNAL;
			}
			diag_free(d);
		}
	if (tty)
		fprintf(stderr, "\r\033[K");
	return 0;
}

int cmd_matrix_main(int argc, char **argv)
{
	static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
						 {"seed", required_argument, NULL, 's'},
						 {"ascii", no_argument, NULL, 'A'},
						 {"transport", required_argument, NULL, 't'},
						 {"tcp-unsolicited", required_argument, NULL, 'U'},
						 {NULL, 0, NULL, 0}};
	enum matrix_format fmt = FORMAT_TEXT;
	uint64_t seed = 1;
	bool ascii = !cli_use_utf8();
	int ch;
	opterr = 0;
	optind = 1;
	struct matrix_setup setup = {0};
	while ((ch = getopt_long(argc, argv, ":f:s:t:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (parse_format(optarg, &fmt))
				return CLI_EXIT_USAGE;
			break;
		case 's':
			if (cli_count_flag("matrix", "--seed", "a seed", optarg, 0, UINT64_MAX, &seed))
				return CLI_EXIT_USAGE;
			break;
		case 'A': ascii = true; break;
		case 't':
			if (strcmp(optarg, "tcp") != 0 && strcmp(optarg, "udp") != 0)
				return cli_usage_error(
				    "matrix", "--transport expects udp or tcp, not '%s'", optarg);
			setup.tcp = strcmp(optarg, "tcp") == 0;
			break;
		case 'U':
			if (strcmp(optarg, "drop") != 0 && strcmp(optarg, "rst") != 0 &&
			    strcmp(optarg, "icmp") != 0)
				return cli_usage_error(
				    "matrix",
				    "--tcp-unsolicited expects drop, rst or icmp, not '%s'",
				    optarg);
			setup.tcp_unsolicited = optarg;
			setup.tcp = true;
			break;
		default: /* ':' missing value, '?' unknown option */
			return cli_option_error("matrix", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("matrix", "unexpected argument '%s'", argv[optind]);

	struct matrix_cell cells[MATRIX_KINDS][MATRIX_KINDS];
	if (run_all_pairs(&setup, seed, cells) != 0)
		return CLI_EXIT_INTERNAL;
	if (fmt == FORMAT_CSV)
		print_csv(cells);
	else if (fmt == FORMAT_JSON)
		return print_json(cells) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
	else
		print_text(cells, ascii, cli_use_color(stdout));
	return CLI_EXIT_OK;
}
