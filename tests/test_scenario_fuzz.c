/*
 * test_scenario_fuzz.c - no scenario text crashes or hangs natsim.
 *
 * Takes every bundled scenario, mutates it at random (fixed seed: byte
 * edits, insertions of language tokens, deleted, duplicated and swapped
 * lines), and for each mutant parses it and, if it parses, builds its world
 * and runs it for up to 20 s of virtual time. Every run must end cleanly:
 * parse errors carry at least one diagnostic, runs return 0 or an error with
 * one. Bounded by a wall-clock budget as well as a count (ASan makes it
 * slow); run under the sanitizers it is the memory check of the whole path.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app/world/runner.h"
#include "app/lang/scenario.h"
#include "sim/rng.h"

#define MAX_MUTANTS 3000
#define BUDGET_S 6.0

static const char *const tokens[] = {
	"at", "0s", "1s", "999min", "expect", "nat", "host", "behind", "public", "preset",
	"symmetric", "full-cone", "link", "latency", "0ms", "loss", "100%", "50%", "jitter",
	"10s", "cut", "restore", "reboot", "set", "raw", "from", "to", "0", "65535", "65536",
	"\"", "#", ":", ",", "255.255.255.255", "0.0.0.0", "alice", "bob", "home", "coord",
	"forward", "udp", "rule", "policy", "drop", "accept", "input", "forward", "keepalive",
	"off", "on", "timeout", "1ns", "range", "1-1", "hairpinning", "\n", "\t", "-", "\\",
	/* inputs that once broke natsim (issue 12 items 15-19) */
	"1us", "0.5ns", "0x1p3s", "nan", "1e3ms", "2m", "25h", "192.168.001.005", "224.0.0.1",
	"127.0.0.1", "port 0", "\xff", "\xc2\x9b", "\xed\xa0\x80",
	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"};

/* Whole scenarios that once broke natsim (issue 12 items 15, 18, 19), mutated
 * like the bundled ones: keepalive 1ns never ended, a 64-byte host name and a
 * 1201-byte send failed only at run time. */
static const char *const broken_seeds[] = {
	"coordinator coord at 192.0.2.10\nnat home preset full-cone public 203.0.113.7\n"
	"host alice at 192.168.1.5 behind home keepalive 1ns\n"
	"host bob at 198.51.100.9 public keepalive 1us\n"
	"at 0s register alice\nat 0s register bob\nat 1s connect alice to bob\n"
	"at 2s keepalive bob 0.5ns\nexpect alice and bob direct by 3s\n",
	"coordinator coord at 192.0.2.10 port 0 alternate 255.255.255.255\n"
	"nat home preset symmetric public 224.0.0.1 timeout 0x1p3s\n"
	"host hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh at 192.168.001.005 "
	"behind home port 0\n"
	"host bob at 0.0.0.0 public\nforward home udp 0 to bob:0\n"
	"at 0.1ns note \"caf\xe9 \xc2\x9b" "31m\"\nat 25h register bob\n",
	NULL, /* a send of AGENT_MAX_DATA + 1 bytes, made in send_seed() */
};

/* Two hosts, and one send of AGENT_MAX_DATA + 1 bytes. */
static char *send_seed(void)
{
	static const char head[] = "coordinator coord at 192.0.2.10\nhost a at 198.51.100.1 public\n"
				   "host b at 198.51.100.2 public\nat 0s register a\n"
				   "at 0s register b\nat 1s connect a to b\nat 2s send a to b \"";
	size_t n = sizeof(head) - 1, text = 1201;
	char *s = malloc(n + text + 3);
	if (!s)
		return NULL;
	memcpy(s, head, n);
	memset(s + n, 'x', text);
	memcpy(s + n + text, "\"\n", 3);
	return s;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 16);
	*len = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	fclose(f);
	return buf;
}

/* Apply 1-4 random edits to text[0..*len) within cap bytes. */
static void mutate(struct rng *r, char *text, size_t *len, size_t cap)
{
	int edits = 1 + (int)rng_below(r, 2);
	for (int e = 0; e < edits && *len > 0; e++) {
		size_t at = rng_below(r, *len);
		switch (rng_below(r, 4)) {
		case 0: /* flip a byte */
			text[at] = (char)rng_below(r, 256);
			break;
		case 1: { /* insert a token */
			const char *t = tokens[rng_below(r, sizeof(tokens) / sizeof(tokens[0]))];
			size_t tl = strlen(t) + 1;
			if (*len + tl >= cap)
				break;
			memmove(text + at + tl, text + at, *len - at);
			memcpy(text + at, t, tl - 1);
			text[at + tl - 1] = ' ';
			*len += tl;
			break;
		}
		case 2: { /* delete a span */
			size_t n = 1 + rng_below(r, 40);
			if (at + n > *len)
				n = *len - at;
			memmove(text + at, text + at + n, *len - at - n);
			*len -= n;
			break;
		}
		default: { /* duplicate the rest of a line */
			char *nl = memchr(text + at, '\n', *len - at);
			size_t n = nl ? (size_t)(nl - (text + at)) + 1 : *len - at;
			if (*len + n >= cap)
				break;
			memmove(text + at + n, text + at, *len - at);
			*len += n;
			break;
		}
		}
	}
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_mutated_scenarios_end_cleanly(void **state)
{
	(void)state;
	DIR *dir = opendir(NATSIM_SOURCE_SCENARIOS);
	assert_non_null(dir);
	char *originals[64];
	size_t lens[64], n = 0;
	struct dirent *de;
	while ((de = readdir(dir)) && n < 64) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".nsim") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", NATSIM_SOURCE_SCENARIOS, de->d_name);
		if ((originals[n] = read_file(path, &lens[n])))
			n++;
	}
	closedir(dir);
	assert_true(n >= 5);
	for (size_t i = 0; i < sizeof(broken_seeds) / sizeof(broken_seeds[0]) && n < 64; i++) {
		originals[n] = broken_seeds[i] ? strdup(broken_seeds[i]) : send_seed();
		assert_non_null(originals[n]);
		lens[n] = strlen(originals[n]);
		n++;
	}

	struct rng r;
	rng_seed(&r, 20261125);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t cap = 1 << 17, parsed = 0, ran = 0, mutants = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (; mutants < MAX_MUTANTS && elapsed(&t0) < BUDGET_S; mutants++) {
		size_t k = rng_below(&r, n), len = lens[k];
		memcpy(text, originals[k], len);
		mutate(&r, text, &len, cap);
		struct diag *d = diag_new();
		struct scenario *s = scenario_parse(text, len, "mutant.nsim", d);
		if (!s) {
			assert_true(diag_count_errors(d) > 0);
		} else {
			parsed++;
			struct run_options opt = {.until_ns = SIM_S(20)};
			struct run_result res;
			if (runner_run(s, &opt, &res, d) == 0) {
				ran++;
				run_result_free(&res);
			} else {
				assert_true(diag_count_errors(d) > 0);
			}
			scenario_free(s);
		}
		diag_free(d);
	}
	free(text);
	for (size_t i = 0; i < n; i++)
		free(originals[i]);
	print_message("%zu mutants: %zu parsed, %zu ran\n", mutants, parsed, ran);
	assert_true(mutants >= 20);
	assert_true(ran > 0); /* some mutants are still valid worlds: the runs were exercised */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutated_scenarios_end_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
