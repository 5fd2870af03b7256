/*
 * test_pcap.c - per-interface captures (viz/pcap) of classic.nsim, seed 1:
 * the files are where they should be and read back with libpcap; then, when
 * tshark is installed, tshark reads them with IP and UDP checksum
 * verification on and STUN decoding on natsim's ports (3478, and 5000 by
 * decode-as), and must find no malformed packet, no bad checksum and every
 * packet decoded as STUN or as ICMP (the network unreachable the internet's
 * router sends for a probe to a private address, with the datagram it
 * quotes). Without tshark that part is skipped, saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support.h"

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/world/runner.h"
#include "app/world/simdrive.h"
#include "sim/engine.h"
#include "sim/trace_log.h"
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include "viz/pcap.h"

struct fixture {
	struct trace_log *log;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->log = test_run_scenario("../scenarios/classic.nsim", 1, SCENARIO_UNSET);
	snprintf(f->dir, sizeof(f->dir), "/tmp/natsim-test-pcap-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", f->dir);
	trace_log_free(f->log);
	free(f);
	return 0;
}

static size_t count_packets(const char *path, int *linktype)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL)
		fail_msg("pcap_open_offline %s: %s", path, err);
	*linktype = pcap_datalink(p);
	size_t n = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_true(h->caplen >= 28);
		assert_int_equal(data[0] >> 4, 4); /* IPv4 */
		n++;
	}
	pcap_close(p);
	return n;
}

static void test_files_read_back(void **state)
{
	struct fixture *f = *state;
	char err[256], path[160];
	struct capture_stats st;
	snprintf(path, sizeof(path), "%s/sub/dir", f->dir); /* parents created */
	assert_int_equal(capture_write_dir(f->log, path, &st, err, sizeof(err)), 0);
	assert_int_equal(st.files, 15);
	assert_true(st.packets > 100);
	const char *names[] = {"alice-eth0", "home-lan",   "home-wan",	 "internet-if0",
			       "coord-eth0", "coord-eth1", "office-wan", "bob-eth0"};
	size_t total = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int lt;
		snprintf(path, sizeof(path), "%s/sub/dir/%s.pcap", f->dir, names[i]);
		total += count_packets(path, &lt);
#ifdef DLT_IPV4
		assert_int_equal(lt, DLT_IPV4);
#else
		assert_int_equal(lt, DLT_RAW);
#endif
	}
	assert_true(total > 50);
	/* home's wan saw what home sent out and what came back */
	int lt;
	snprintf(path, sizeof(path), "%s/sub/dir/home-wan.pcap", f->dir);
	assert_true(count_packets(path, &lt) > 10);
}

static void test_unwritable(void **state)
{
	struct fixture *f = *state;
	char err[256], path[160];
	snprintf(path, sizeof(path), "%s/file", f->dir);
	FILE *x = fopen(path, "w");
	fclose(x);
	assert_int_equal(capture_write_dir(f->log, path, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a folder"));
}

static char *run_capture(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *s = NULL;
	size_t cap = 0, len = 0, n;
	char buf[4096];
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			s = realloc(s, cap);
		}
		memcpy(s + len, buf, n);
		len += n;
	}
	pclose(p);
	if (s == NULL)
		s = calloc(1, 1);
	s[len] = '\0';
	return s;
}

/* Every status in a comma-separated list is 1 (good; 0 bad, 2 unverified):
 * an ICMP error's quoted IPv4 header and UDP header have their own. */
static bool all_good(const char *statuses)
{
	if (statuses == NULL || *statuses == '\0')
		return false;
	for (const char *p = statuses; *p != '\0'; p++)
		if (*p != '1' && *p != ',')
			return false;
	return true;
}

/* One frame's fields: decoded as STUN (natsim's own datagrams) or as ICMP
 * (the errors and echoes the stacks send), nothing malformed, every IP and
 * UDP checksum good, and an ICMP one good too. */
static bool check_frame(const char *file, char *line)
{
	char *fields[7] = {0};
	char *p = line;
	for (int k = 0; k < 7 && p != NULL; k++) {
		fields[k] = p;
		p = strchr(p, '|');
		if (p != NULL)
			*p++ = '\0';
	}
	const char *protocols = fields[1] != NULL ? fields[1] : "";
	bool icmp = strstr(protocols, ":icmp") != NULL;
	if ((!icmp && strstr(protocols, "stun") == NULL) ||
	    (fields[5] != NULL && strstr(fields[5], "malformed") != NULL))
		fail_msg("%s frame %s: not decoded as STUN or ICMP, or malformed: %s", file,
			 fields[0], protocols);
	if (!all_good(fields[2]) || !all_good(fields[3]))
		fail_msg("%s frame %s: IP/UDP checksum status %s/%s, want good (1)", file,
			 fields[0], fields[2] ? fields[2] : "?", fields[3] ? fields[3] : "?");
	if (icmp && !all_good(fields[4]))
		fail_msg("%s frame %s: ICMP checksum status %s, want good (1)", file, fields[0],
			 fields[4] ? fields[4] : "?");
	return icmp;
}

static void test_tshark(void **state)
{
	struct fixture *f = *state;
	char err[256], cmd[1024];
	size_t icmp_frames = 0;
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark is not installed: skipping the Wireshark dissection check\n");
		skip();
	}
	assert_int_equal(capture_write_dir(f->log, f->dir, NULL, err, sizeof(err)), 0);
	const char *files[] = {"home-wan", "office-wan", "internet-if0", "alice-eth0", "bob-eth0"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *opts = "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
				   "-d udp.port==5000,stun";
		/* One line per packet: its protocols, the checksum statuses, any expert
		 * message of severity error or warning about malformation. */
		snprintf(cmd, sizeof(cmd),
			 "tshark -r '%s/%s.pcap' %s -T fields -E separator='|' -e frame.number "
			 "-e frame.protocols -e ip.checksum.status -e udp.checksum.status "
			 "-e icmp.checksum.status -e _ws.malformed -e _ws.expert.severity "
			 "2>/dev/null",
			 f->dir, files[i], opts);
		char *out = run_capture(cmd);
		size_t lines = 0;
		for (char *line = out, *e; *line != '\0'; line = e + 1) {
			e = strchr(line, '\n');
			if (e == NULL)
				break;
			*e = '\0';
			lines++;
			icmp_frames += check_frame(files[i], line);
		}
		assert_true(lines > 0);
		free(out);
		/* The expert summary has no "Bad" checksum and nothing malformed. */
		snprintf(cmd, sizeof(cmd), "tshark -r '%s/%s.pcap' %s -q -z expert 2>&1", f->dir,
			 files[i], opts);
		out = run_capture(cmd);
		assert_null(strstr(out, "Bad checksum"));
		assert_null(strstr(out, "Malformed"));
		assert_null(strstr(out, "Errors ("));
		free(out);
	}
	assert_true(icmp_frames > 0); /* the ICMP half was checked, not skipped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files_read_back),
	    cmocka_unit_test(test_unwritable),
	    cmocka_unit_test(test_tshark),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
