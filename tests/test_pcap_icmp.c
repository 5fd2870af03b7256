/*
 * test_pcap_icmp.c - ICMP in the captures (viz/pcap): an echo request and
 * its reply, and a port unreachable before and after a NAT translated it
 * back (RFC 5508 REQ-3/4), written as their bytes are. When tshark is
 * installed, tshark must decode each as ICMP of the right type and code with
 * a good ICMP checksum and a good IP header checksum, and decode the packet
 * an error quotes (its IPv4 header with a good checksum, its UDP ports);
 * nothing malformed. Without tshark that part is skipped, saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/packet.h"
#include "sim/engine.h"
#include "tests/support_trace.h"
#include "viz/pcap.h"

#define ALICE IP4(10, 0, 0, 7)
#define PUB IP4(203, 0, 113, 7)
#define SRV IP4(192, 0, 2, 1)

struct fixture {
	struct test_trace *t;
	char dir[64];
};

static void emit_tx(struct test_trace *f, int64_t at, uint64_t id, const char *node,
		    const uint8_t *b, size_t n)
{
	struct trace_record r = {.kind = TRACE_PACKET};
	assert_true(n > 0);
	r.u.packet = (struct trace_packet){.hop = TRACE_HOP_TX,
					   .packet_id = id,
					   .node = node,
					   .iface = "eth0",
					   .bytes = b,
					   .len = n};
	test_trace_emit(f, at, &r);
}

/* srv-eth0: #1 the echo request, #2 its reply, #3 the port unreachable about
 * r's translated datagram; r-eth0: #3 after r translated it back to alice. */
static void story(struct test_trace *f)
{
	uint8_t b[PACKET_MAX_SIZE], udp[128];
	size_t n;

	n = packet_build_icmp_echo(b, sizeof(b), PUB, SRV, 63, 3, ICMP_ECHO_REQUEST, 1024, 1, NULL,
				   56);
	emit_tx(f, SIM_MS(1), 1, "srv", b, n);
	n = packet_build_icmp_echo(b, sizeof(b), SRV, PUB, 64, 4, ICMP_ECHO_REPLY, 1024, 1, NULL,
				   56);
	emit_tx(f, SIM_MS(2), 2, "srv", b, n);
	size_t un = packet_build_udp(udp, sizeof(udp), &(struct endpoint){PUB, 61000},
				     &(struct endpoint){SRV, 9}, 63, 7, "hello", 5);
	assert_true(un > 0);
	n = packet_build_icmp_error(b, sizeof(b), SRV, PUB, 64, 5, ICMP_DEST_UNREACH,
				    ICMP_PORT_UNREACH, udp, un);
	emit_tx(f, SIM_MS(3), 3, "srv", b, n);
	packet_rewrite_dst(b, n, &(struct endpoint){ALICE, 0});
	packet_rewrite_inner_src(b, n, &(struct endpoint){ALICE, 5000});
	emit_tx(f, SIM_MS(4), 3, "r", b, n);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->t = test_trace_new();
	story(f->t);
	snprintf(f->dir, sizeof(f->dir), "/tmp/natsim-test-pcap-icmp-XXXXXX");
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
	test_trace_free(f->t);
	free(f);
	return 0;
}

/* tshark's fields for every packet of one capture, one line each. */
static char *tshark_fields(const struct fixture *f, const char *file)
{
	char cmd[1024], buf[4096];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s/%s.pcap' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
		 "-T fields -E separator='|' -e icmp.type -e icmp.code -e icmp.checksum.status "
		 "-e ip.checksum.status -e ip.src -e udp.srcport -e udp.checksum.status -e "
		 "_ws.malformed "
		 "-e _ws.expert.severity 2>/dev/null",
		 f->dir, file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	return strdup(buf);
}

static void test_tshark_decodes_icmp(void **state)
{
	struct fixture *f = *state;
	struct capture_stats st;
	char err[256];

	assert_int_equal(capture_write_dir(f->t->log, f->dir, &st, err, sizeof(err)), 0);
	assert_int_equal(st.packets, 4);
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark is not installed: skipping the Wireshark dissection check\n");
		skip();
	}
	/* statuses: 1 = good. An error's ICMP checksum covers the quoted
	 * packet; its quoted IPv4 header is the second ip.* occurrence. */
	char *srv = tshark_fields(f, "srv-eth0");
	assert_string_equal(srv, "8|0|1|1|203.0.113.7||||\n"
				 "0|0|1|1|192.0.2.1||||\n"
				 "3|3|1|1,1|192.0.2.1,203.0.113.7|61000|1||\n");
	free(srv);
	/* after the NAT: outer destination and inner source rewritten, every
	 * checksum still good (RFC 5508 REQ-4, RFC 1624 updates) */
	char *r = tshark_fields(f, "r-eth0");
	assert_string_equal(r, "3|3|1|1,1|192.0.2.1,10.0.0.7|5000|1||\n");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tshark_decodes_icmp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
