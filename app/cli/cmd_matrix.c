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
    "                     [--tcp-unsolicited drop|rst|icmp] [--techniques LIST]\n"
    "                     [--family 4|6|dual]\n"
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
    "With --techniques both agents of every pair also try the techniques against\n"
    "hard NATs (docs/scenario.md, host option `techniques`): port prediction\n"
    "against a NAT that hands out ports in order, the birthday search against one\n"
    "that hands them out at random, port mapping (PCP, else NAT-PMP) with a router\n"
    "that runs a server. Two kinds join the six: symmetric-sequential (a symmetric\n"
    "NAT with `ports sequential`) and symmetric-pcp (a symmetric NAT running a PCP\n"
    "server). Every pair runs twice, without and with the techniques, for 30 s\n"
    "(the default budget of 2048 probes at 100 a second fits); the table shows the\n"
    "runs with them, a pair they turned from relayed into direct marked with the\n"
    "technique ([P] prediction, [B] birthday, [M] port mapping) and the time to\n"
    "its first direct path, and a list below says each change, before and after.\n"
    "csv and json add direct_ms, technique and the outcome before.\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT  text (default), csv (header a,b,outcome,connect_ms) or json\n"
    "  -s, --seed N      random seed (default 1)\n"
    "  -t, --transport T udp (default) or tcp: how the agents connect\n"
    "      --tcp-unsolicited ANSWER\n"
    "                    every NAT's answer to an unsolicited SYN: drop (default),\n"
    "                    rst or icmp (implies --transport tcp)\n"
    "      --techniques LIST\n"
    "                    all, none (default) or a list of prediction, birthday and\n"
    "                    port-mapping separated by ',': on for both agents (UDP)\n"
    "      --family F    4 (default), 6 or dual: the addresses the pair's hosts get.\n"
    "                    dual: both, the NAT for IPv4 and an RFC 6092 firewall\n"
    "                    filtering as the kind filters for IPv6; says over which\n"
    "                    family each direct pair went (csv: a family column).\n"
    "                    6: IPv6 only (home routers without NAT, RFC 6092\n"
    "                    firewalls filtering as the kind filters); UDP only\n"
    "      --ascii       ASCII only\n"
    "  -h, --help        show this help\n";

const char *const matrix_kinds[MATRIX_ALL_KINDS] = {"open",
						    "firewall",
						    "full-cone",
						    "restricted-cone",
						    "port-restricted-cone",
						    "symmetric",
						    "symmetric-sequential",
						    "symmetric-pcp"};

/* The techniques' names in the language, by bit (SCENARIO_TECH_*). */
static const struct {
	unsigned bit;
	const char *name;
	char mark; /* the text table's marker for a pair it turned direct */
	const char *words;
} techniques[] = {
    {SCENARIO_TECH_PREDICTION, "prediction", 'P', "port prediction"},
    {SCENARIO_TECH_BIRTHDAY, "birthday", 'B', "the birthday search"},
    {SCENARIO_TECH_PORT_MAPPING, "port-mapping", 'M', "port mapping (PCP, else NAT-PMP)"},
};
#define N_TECHNIQUES (sizeof(techniques) / sizeof(techniques[0]))

int matrix_parse_techniques(const char *list, unsigned *bits)
{
	*bits = 0;
	if (strcmp(list, "none") == 0)
		return 0;
	if (strcmp(list, "all") == 0) {
		*bits = SCENARIO_TECH_ALL;
		return 0;
	}
	for (const char *p = list;;) {
		size_t len = strcspn(p, ","), i = 0;
		while (i < N_TECHNIQUES && (strlen(techniques[i].name) != len ||
					    strncmp(p, techniques[i].name, len) != 0))
			i++;
		if (i == N_TECHNIQUES)
			return -1;
		*bits |= techniques[i].bit;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* "prediction,birthday": the language's list for bits (non-zero). */
static void techniques_list(unsigned bits, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_TECHNIQUES && used < n; i++)
		if (bits & techniques[i].bit) {
			int w = snprintf(out + used, n - used, "%s%s", used ? "," : "",
					 techniques[i].name);
			used += w > 0 ? (size_t)w : 0;
		}
}

const char *matrix_technique_name(unsigned bit)
{
	for (size_t i = 0; i < N_TECHNIQUES; i++)
		if (techniques[i].bit == bit)
			return techniques[i].name;
	return "";
}

/* A kind's NAT after `preset`: the classic kinds are presets by name. */
static const char *nat_of_kind(int kind)
{
	if (kind == 6)
		return "symmetric ports sequential";
	if (kind == 7)
		return "symmetric pcp on";
	return matrix_kinds[kind];
}

int matrix_parse_family(const char *word, int *family)
{
	if (strcmp(word, "4") == 0)
		*family = MATRIX_FAMILY_4;
	else if (strcmp(word, "6") == 0)
		*family = MATRIX_FAMILY_6;
	else if (strcmp(word, "dual") == 0)
		*family = MATRIX_FAMILY_DUAL;
	else
		return -1;
	return 0;
}

/* The RFC 6092 firewall's filtering that stands for a NAT kind's (RFC 4787
 * REQ-8 words; a preset's filtering, scenario_preset_behaviour). */
static const char *filtering6_of_kind(int kind)
{
	return kind == 2 ? "EIF" : kind == 3 ? "ADF" : "APDF";
}

/* A host's addresses for the family: "192.168.1.5", "2001:db8:1::5" or
 * both joined by `and`. v4 NULL: the host has no IPv4 side to give. */
static void host_addrs(char *out, size_t n, int family, const char *v4, const char *v6)
{
	if (family == MATRIX_FAMILY_6)
		snprintf(out, n, "%s", v6);
	else if (family == MATRIX_FAMILY_DUAL)
		snprintf(out, n, "%s and %s", v4, v6);
	else
		snprintf(out, n, "%s", v4);
}

/* One side of the pair: public hosts on their own /24 (and /64), NATed ones
 * behind a NAT of the kind, with no host firewall (the NAT is the lesson).
 * With IPv6 the home routes 2001:db8:N::/64 to its inside behind an RFC
 * 6092 firewall filtering as the kind; IPv6 only, the home is a `router`. */
static int side_text(char *out, size_t n, const char *host, int kind, int index,
		     const char *nat_opts, const char *host_opts, int family)
{
	const char *pub = index == 0 ? "203.0.113" : "198.51.100";
	char v4[32], v6[32], addrs[80];
	if (kind <= 1) {
		snprintf(v4, sizeof(v4), "%s.10", pub);
		snprintf(v6, sizeof(v6), "2001:db8:%d::10", 0xa0 + index);
		host_addrs(addrs, sizeof(addrs), family, v4, v6);
		return snprintf(out, n, "host %s at %s public firewall %s%s\n", host, addrs,
				kind == 1 ? "on" : "off", host_opts);
	}
	char home[128] = "";
	if (family != MATRIX_FAMILY_4)
		snprintf(home, sizeof(home), " ipv6 2001:db8:%d::/64 filtering6 %s", index + 1,
			 filtering6_of_kind(kind));
	snprintf(v4, sizeof(v4), "192.168.%d.5", index + 1);
	snprintf(v6, sizeof(v6), "2001:db8:%d::5", index + 1);
	host_addrs(addrs, sizeof(addrs), family, v4, v6);
	if (family == MATRIX_FAMILY_6)
		return snprintf(out, n, "router %s-home%s\nhost %s at %s behind %s-home%s\n", host,
				home, host, addrs, host, host_opts);
	return snprintf(out, n,
			"nat %s-nat preset %s%s public %s.10%s\n"
			"host %s at %s behind %s-nat%s\n",
			host, nat_of_kind(kind), nat_opts, pub, home, host, addrs, host, host_opts);
}

int matrix_scenario_text(int a, int b, const struct matrix_setup *setup, char *out, size_t n)
{
	char sa[512], sb[512], nat[64] = "", host[128] = "", list[64];
	bool tcp = setup && (setup->tcp || setup->tcp_unsolicited);
	if (tcp && setup->tcp_unsolicited)
		snprintf(nat, sizeof(nat), " tcp-unsolicited %s", setup->tcp_unsolicited);
	if (setup && setup->techniques) {
		techniques_list(setup->techniques, list, sizeof(list));
		snprintf(host, sizeof(host), " techniques %s", list);
	}
	int family = setup ? setup->family : MATRIX_FAMILY_4;
	side_text(sa, sizeof(sa), "alice", a, 0, nat, host, family);
	side_text(sb, sizeof(sb), "bob", b, 1, nat, host, family);
	return snprintf(out, n,
			"title \"%s x %s\"\n"
			"internet latency 20ms\n"
			"coordinator coord at 192.0.2.10%s alternate 192.0.2.11%s\n"
			"%s%s%s"
			"at 0s register alice\n"
			"at 0s register bob\n"
			"at 1s connect alice to bob%s\n",
			matrix_kinds[a], matrix_kinds[b],
			family != MATRIX_FAMILY_4 ? " and 2001:db8:ff::10" : "",
			family != MATRIX_FAMILY_4 ? " and 2001:db8:ff::11" : "", sa, sb,
			tcp ? "link bob latency 60ms\n" : "", tcp ? " over tcp" : "");
}

int matrix_run_pair(int a, int b, const struct matrix_setup *setup, uint64_t seed,
		    struct matrix_cell *cell, struct diag *d)
{
	char text[1536];
	int len = matrix_scenario_text(a, b, setup, text, sizeof(text));
	struct scenario *s = scenario_parse(text, (size_t)len, "<matrix>", d);
	if (!s)
		return -1;
	bool hard = setup && setup->techniques;
	struct run_options opt = {
	    .has_seed = true, .seed = seed, .until_ns = hard ? SIM_S(30) : SIM_S(12)};
	struct run_result res;
	int rc = runner_run(s, &opt, &res, d);
	if (rc == 0) {
		const struct run_pair *p = &res.pairs[0];
		memset(cell, 0, sizeof(*cell));
		cell->outcome = p->path;
		cell->connect_ns =
		    p->connected_at == SCENARIO_UNSET ? -1 : p->connected_at - p->connect_at;
		cell->direct_ns =
		    p->direct_at == SCENARIO_UNSET ? -1 : p->direct_at - p->connect_at;
		if (p->path == SCENARIO_PATH_DIRECT) {
			snprintf(cell->technique, sizeof(cell->technique), "%s",
				 matrix_technique_name(p->technique));
			cell->family = p->family;
		}
		run_result_free(&res);
	}
	scenario_free(s);
	return rc;
}

const char *matrix_outcome_name(int path)
{
	return path == SCENARIO_PATH_DIRECT    ? "direct"
	       : path == SCENARIO_PATH_RELAYED ? "relayed"
					       : "failed";
}

enum matrix_format { FORMAT_TEXT, FORMAT_CSV, FORMAT_JSON };

/* The matrix as run: with techniques, every pair twice (before: none). */
struct matrix_runs {
	int kinds;	     /* MATRIX_KINDS, or MATRIX_ALL_KINDS with techniques */
	unsigned techniques; /* 0: one matrix, `after` */
	int family;	     /* matrix_setup.family */
	struct matrix_cell after[MATRIX_ALL_KINDS][MATRIX_ALL_KINDS];
	struct matrix_cell before[MATRIX_ALL_KINDS][MATRIX_ALL_KINDS];
};

static bool changed(const struct matrix_runs *m, int a, int b)
{
	return m->techniques && m->after[a][b].outcome != m->before[a][b].outcome;
}

/* "direct 12ms", "relayed 5.1s", "failed": a cell's outcome and time. */
static void cell_words(const struct matrix_cell *c, int64_t ns, char *out, size_t n)
{
	if (ns >= 0 && ns < SIM_S(1))
		snprintf(out, n, "%s %lldms", matrix_outcome_name(c->outcome),
			 (long long)(ns / 1000000));
	else if (ns >= 0)
		snprintf(out, n, "%s %.1fs", matrix_outcome_name(c->outcome), ns / 1e9);
	else
		snprintf(out, n, "%s", matrix_outcome_name(c->outcome));
}

/* The marker of the technique that found a cell's path: "[B]", or "[*]"
 * when the change came without one. */
static char technique_mark(const char *name)
{
	for (size_t i = 0; i < N_TECHNIQUES; i++)
		if (strcmp(name, techniques[i].name) == 0)
			return techniques[i].mark;
	return '*';
}

/* A cell of the text table: a pair the techniques changed shows the time
 * to its first direct path and the technique's marker. */
static void text_cell(const struct matrix_runs *m, int a, int b, char *out, size_t n)
{
	const struct matrix_cell *c = &m->after[a][b];
	bool direct_now = changed(m, a, b) && c->outcome == SCENARIO_PATH_DIRECT;
	cell_words(c, direct_now ? c->direct_ns : c->connect_ns, out, n);
	if (changed(m, a, b))
		snprintf(out + strlen(out), n - strlen(out), " [%c]", technique_mark(c->technique));
}

static void print_table(const struct matrix_runs *m, bool ascii, bool color)
{
	static const char *const short_names[MATRIX_ALL_KINDS] = {
	    "open",	  "firewall",  "full-cone", "restricted",
	    "port-restr", "symmetric", "sym-seq",   "sym-pcp"};
	int w = m->techniques ? 17 : 13;
	printf("%-22s", ascii ? "alice \\ bob" : "alice ╲ bob");
	for (int b = 0; b < m->kinds; b++)
		printf(" %-*s", w, short_names[b]);
	printf("\n");
	for (int a = 0; a < m->kinds; a++) {
		printf("%-22s", matrix_kinds[a]);
		for (int b = 0; b < m->kinds; b++) {
			const struct matrix_cell *c = &m->after[a][b];
			char cell[48];
			text_cell(m, a, b, cell, sizeof(cell));
			const char *col = !color	    ? ""
					  : c->outcome == 0 ? "\033[32m"
					  : c->outcome == 1 ? "\033[33m"
							    : "\033[31m";
			printf(" %s%-*s%s", col, w, cell, color ? "\033[0m" : "");
		}
		printf("\n");
	}
}

/* Below the table with techniques: which they are, the markers, and every
 * pair they changed, before and after in words. */
static void print_changes(const struct matrix_runs *m, bool ascii)
{
	char list[64];
	techniques_list(m->techniques, list, sizeof(list));
	printf("\nTechniques on for both agents: %s; before: none.\n"
	       "Runs last 30 s, enough for the default budget of 2048 probes at 100 a second.\n"
	       "A cell marked [P] (port prediction), [B] (the birthday search) or [M] (port\n"
	       "mapping) is a pair they turned from relayed into direct, with the time from\n"
	       "asking to the first direct path; [*] a pair that changed otherwise. The\n"
	       "technique is the one the side that asked names, else the one that alone\n"
	       "turns the pair direct at the time closest to this.\n\n",
	       list);
	int n = 0;
	for (int a = 0; a < m->kinds; a++)
		for (int b = 0; b < m->kinds; b++) {
			if (!changed(m, a, b))
				continue;
			char was[32], now[32];
			const struct matrix_cell *c = &m->after[a][b];
			cell_words(&m->before[a][b], m->before[a][b].connect_ns, was, sizeof(was));
			cell_words(
			    c, c->outcome == SCENARIO_PATH_DIRECT ? c->direct_ns : c->connect_ns,
			    now, sizeof(now));
			printf("%s  %s %s %s: %s %s %s%s%s%s\n", n++ ? "" : "Changed:\n",
			       matrix_kinds[a], ascii ? "<->" : "↔", matrix_kinds[b], was,
			       ascii ? "->" : "→", now, c->technique[0] ? " (" : "", c->technique,
			       c->technique[0] ? ")" : "");
		}
	if (n == 0)
		printf("The techniques changed no pair.\n");
}

/* With both families: over which the direct pairs went (the agent checks
 * IPv6 pairs first, RFC 8421 section 4). */
static void print_families(const struct matrix_runs *m)
{
	int n6 = 0, n4 = 0;
	for (int a = 0; a < m->kinds; a++)
		for (int b = 0; b < m->kinds; b++) {
			n6 += m->after[a][b].family == 6;
			n4 += m->after[a][b].family == 4;
		}
	printf("\nBoth families: %d of %d pairs direct over IPv6 (the RFC 6092 firewalls let a "
	       "simultaneous open through), %d over IPv4.\n",
	       n6, m->kinds * m->kinds, n4);
}

static void print_text(const struct matrix_runs *m, bool ascii, bool color)
{
	print_table(m, ascii, color);
	if (m->techniques)
		print_changes(m, ascii);
	if (m->family == MATRIX_FAMILY_DUAL)
		print_families(m);
	if (m->family == MATRIX_FAMILY_6)
		printf("\nIPv6 only: no NAT anywhere. A row or column names the filtering of its "
		       "home's RFC 6092 firewall, the kind's NAT filtering (full-cone EIF, "
		       "restricted-cone ADF, the others APDF): a simultaneous open crosses them "
		       "all.\n");
	printf("\nTime is from asking the coordinator to the first working path "
	       "(relayed pairs wait out the 5 s punching deadline first).\n");
}

static void csv_ms(int64_t ns, const char *end)
{
	if (ns >= 0)
		printf("%.3f", ns / 1e6);
	printf("%s", end);
}

static void print_csv(const struct matrix_runs *m)
{
	bool fam = m->family == MATRIX_FAMILY_DUAL && !m->techniques;
	printf("a,b,outcome,connect_ms%s%s\n",
	       m->techniques ? ",direct_ms,technique,before_outcome,before_connect_ms" : "",
	       fam ? ",family" : "");
	for (int a = 0; a < m->kinds; a++)
		for (int b = 0; b < m->kinds; b++) {
			const struct matrix_cell *c = &m->after[a][b];
			printf("%s,%s,%s,", matrix_kinds[a], matrix_kinds[b],
			       matrix_outcome_name(c->outcome));
			csv_ms(c->connect_ns, m->techniques || fam ? "," : "\n");
			if (fam)
				printf("%d\n", c->family);
			if (!m->techniques)
				continue;
			csv_ms(c->direct_ns, ",");
			printf("%s,%s,", c->technique,
			       matrix_outcome_name(m->before[a][b].outcome));
			csv_ms(m->before[a][b].connect_ns, "\n");
		}
}

static json_t *json_ms(int64_t ns)
{
	return ns >= 0 ? json_real(ns / 1e6) : json_null();
}

static json_t *json_cell(const struct matrix_runs *m, int a, int b)
{
	const struct matrix_cell *c = &m->after[a][b];
	json_t *o = json_object();
	json_object_set_new(o, "a", json_string(matrix_kinds[a]));
	json_object_set_new(o, "b", json_string(matrix_kinds[b]));
	json_object_set_new(o, "outcome", json_string(matrix_outcome_name(c->outcome)));
	json_object_set_new(o, "connect_ms", json_ms(c->connect_ns));
	if (!m->techniques)
		return o;
	json_object_set_new(o, "direct_ms", json_ms(c->direct_ns));
	json_object_set_new(o, "technique",
			    c->technique[0] ? json_string(c->technique) : json_null());
	json_object_set_new(o, "before",
			    json_pack("{s:s, s:o}", "outcome",
				      matrix_outcome_name(m->before[a][b].outcome), "connect_ms",
				      json_ms(m->before[a][b].connect_ns)));
	return o;
}

static int print_json(const struct matrix_runs *m)
{
	json_t *arr = json_array();
	for (int a = 0; a < m->kinds; a++)
		for (int b = 0; b < m->kinds; b++)
			json_array_append_new(arr, json_cell(m, a, b));
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

/* Run every pair of `kinds` NAT kinds into cells, one fresh diagnostics
 * list each. The runs take a while, so a terminal on stderr sees which pair
 * is running. Returns 0 or CLI_EXIT_INTERNAL (having printed the
 * diagnostics). */
static int run_all_pairs(const struct matrix_setup *setup, uint64_t seed, int kinds,
			 struct matrix_cell cells[MATRIX_ALL_KINDS][MATRIX_ALL_KINDS])
{
	bool tty = isatty(fileno(stderr));
	for (int a = 0; a < kinds; a++)
		for (int b = 0; b < kinds; b++) {
			struct diag *d = diag_new();
			if (tty)
				fprintf(stderr, "\rrunning pair %d of %d", a * kinds + b + 1,
					kinds * kinds);
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

/* A pair the techniques turned direct where the side that asked cannot
 * name the technique (the agent names it on the side whose candidate or
 * socket it used: the predicted or mapped side sees an ordinary pair): the
 * technique that alone turns the pair direct at the time closest to the
 * run with all of them, found by running each (the first that works would
 * name the slow birthday search for a pair a mapping opened at once).
 * Returns 0 or CLI_EXIT_INTERNAL. */
static int attribute(const struct matrix_setup *setup, uint64_t seed, int a, int b,
		     struct matrix_cell *cell)
{
	int64_t best = -1;
	for (size_t i = 0; i < N_TECHNIQUES; i++) {
		struct matrix_setup one = *setup;
		struct matrix_cell alone;
		struct diag *d = diag_new();
		if (!(setup->techniques & techniques[i].bit))
			continue;
		one.techniques = techniques[i].bit;
		int rc = d ? matrix_run_pair(a, b, &one, seed, &alone, d) : -1;
		if (rc < 0 && d)
			diag_print(d, stderr, false);
		diag_free(d);
		if (rc < 0)
			return CLI_EXIT_INTERNAL;
		int64_t off = alone.direct_ns - cell->direct_ns;
		off = off < 0 ? -off : off;
		if (alone.outcome == SCENARIO_PATH_DIRECT && (best < 0 || off < best)) {
			best = off;
			snprintf(cell->technique, sizeof(cell->technique), "%s",
				 techniques[i].name);
		}
	}
	return 0;
}

/* Every pair, before (no techniques) and after; each changed pair's
 * technique named. Returns 0 or CLI_EXIT_INTERNAL. */
static int run_matrix(const struct matrix_setup *setup, uint64_t seed, struct matrix_runs *m)
{
	struct matrix_setup plain = *setup;
	plain.techniques = 0;
	if (m->techniques && run_all_pairs(&plain, seed, m->kinds, m->before) != 0)
		return CLI_EXIT_INTERNAL;
	if (run_all_pairs(setup, seed, m->kinds, m->after) != 0)
		return CLI_EXIT_INTERNAL;
	for (int a = 0; a < m->kinds; a++)
		for (int b = 0; b < m->kinds; b++) {
			struct matrix_cell *c = &m->after[a][b];
			if (changed(m, a, b) && c->outcome == SCENARIO_PATH_DIRECT &&
			    c->technique[0] == '\0' && attribute(setup, seed, a, b, c) != 0)
				return CLI_EXIT_INTERNAL;
		}
	return 0;
}

struct matrix_cli {
	enum matrix_format fmt;
	uint64_t seed;
	bool ascii;
	struct matrix_setup setup;
};

static int parse_option(struct matrix_cli *c, int ch, const char *arg, char **argv)
{
	switch (ch) {
	case 'f':
		return parse_format(arg, &c->fmt);
	case 's':
		return cli_count_flag("matrix", "--seed", "a seed", arg, 0, UINT64_MAX, &c->seed);
	case 'A':
		c->ascii = true;
		return 0;
	case 't':
		if (strcmp(arg, "tcp") != 0 && strcmp(arg, "udp") != 0)
			return cli_usage_error("matrix", "--transport expects udp or tcp, not '%s'",
					       arg);
		c->setup.tcp = strcmp(arg, "tcp") == 0;
		return 0;
	case 'U':
		if (strcmp(arg, "drop") != 0 && strcmp(arg, "rst") != 0 && strcmp(arg, "icmp") != 0)
			return cli_usage_error(
			    "matrix", "--tcp-unsolicited expects drop, rst or icmp, not '%s'", arg);
		c->setup.tcp_unsolicited = arg;
		c->setup.tcp = true;
		return 0;
	case 'T':
		if (matrix_parse_techniques(arg, &c->setup.techniques) != 0)
			return cli_usage_error("matrix",
					       "--techniques expects all, none or a list of "
					       "prediction, birthday and port-mapping separated by "
					       "',', not '%s'",
					       arg);
		return 0;
	case 'F':
		if (matrix_parse_family(arg, &c->setup.family) != 0)
			return cli_usage_error("matrix", "--family expects 4, 6 or dual, not '%s'",
					       arg);
		return 0;
	}
	return cli_option_error("matrix", ch, argv); /* ':' missing value, '?' unknown */
}

static int parse_args(int argc, char **argv, struct matrix_cli *c)
{
	static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
						 {"seed", required_argument, NULL, 's'},
						 {"ascii", no_argument, NULL, 'A'},
						 {"transport", required_argument, NULL, 't'},
						 {"tcp-unsolicited", required_argument, NULL, 'U'},
						 {"techniques", required_argument, NULL, 'T'},
						 {"family", required_argument, NULL, 'F'},
						 {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":f:s:t:", longopts, NULL)) != -1)
		rc = parse_option(c, ch, optarg, argv);
	if (rc == 0 && optind < argc)
		rc = cli_usage_error("matrix", "unexpected argument '%s'", argv[optind]);
	/* An IPv6-only agent speaks UDP and none of the hard-NAT techniques
	 * (docs/ipv6.md step 6): refuse rather than show IPv4's answers. */
	if (rc == 0 && c->setup.family == MATRIX_FAMILY_6 && (c->setup.tcp || c->setup.techniques))
		rc = cli_usage_error("matrix", "--family 6 runs the agent over UDP without its "
					       "hard-NAT techniques, which are IPv4's (not with "
					       "--transport tcp or --techniques)");
	if (rc == 0 && c->setup.techniques && c->setup.tcp)
		rc = cli_usage_error("matrix", "--techniques works over UDP: the techniques "
					       "punch with datagrams (not with --transport tcp)");
	return rc;
}

int cmd_matrix_main(int argc, char **argv)
{
	struct matrix_cli c = {.fmt = FORMAT_TEXT, .seed = 1, .ascii = !cli_use_utf8()};
	int rc = parse_args(argc, argv, &c);
	if (rc != 0)
		return rc;
	static struct matrix_runs m;
	memset(&m, 0, sizeof(m));
	m.techniques = c.setup.techniques;
	m.family = c.setup.family;
	m.kinds = m.techniques ? MATRIX_ALL_KINDS : MATRIX_KINDS;
	if (run_matrix(&c.setup, c.seed, &m) != 0)
		return CLI_EXIT_INTERNAL;
	if (c.fmt == FORMAT_CSV)
		print_csv(&m);
	else if (c.fmt == FORMAT_JSON)
		return print_json(&m) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
	else
		print_text(&m, c.ascii, cli_use_color(stdout));
	return CLI_EXIT_OK;
}
