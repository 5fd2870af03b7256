/*
 * test_daemon6.c - the real-socket driver over IPv6 (issue 18): sockets of
 * both families side by side on one port (IPV6_V6ONLY), datagrams in and
 * out with their family, ICMPv6 errors read from the error queue
 * (IPV6_RECVERR, SO_EE_ORIGIN_ICMP6), and the endpoint text the commands
 * take. Everything stays on ::1 and 127.0.0.1; a machine without IPv6
 * skips.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/cli/cli.h"
#include "app/net/daemon.h"
#include "app/net/sockaddr.h"
#include "support_child.h"

#define LOOPBACK 0x7F000001u

static const uint8_t LOOPBACK6[16] = {[15] = 1};

char support_child_dir[64];

#define sleep_ms child_sleep_ms

/* A plain IPv6 UDP socket on ::1 for the test's side (IPV6_V6ONLY); its
 * port in *port. -1 (the test skips) if this machine has no ::1. */
static int test_socket6(uint16_t *port)
{
	struct p2p_endpoint ep = p2p_endpoint6(LOOPBACK6, 0);
	struct sockaddr_storage ss;
	socklen_t sl = net_sockaddr_of(&ep, &ss);
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), on = 1;
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sl = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = net_endpoint_of((struct sockaddr *)&ss).port;
	struct timeval tv = {2, 0}; /* a lost datagram fails the test, not hangs it */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A port free on ::1 a moment ago; skips the test without IPv6. */
static uint16_t free_port6(void)
{
	uint16_t port;
	int fd = test_socket6(&port);
	if (fd < 0)
		skip();
	close(fd);
	return port;
}

/* Endpoints to socket addresses and back, both families. */
static void test_sockaddr_round_trip(void **state)
{
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	struct p2p_endpoint v4 = p2p_endpoint4(0xC0000201u, 3478), v6 = p2p_endpoint6(a6, 3479);
	struct sockaddr_storage ss;
	(void)state;
	assert_int_equal(net_sockaddr_of(&v4, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0xC0000201u));
	struct p2p_endpoint back = net_endpoint_of((struct sockaddr *)&ss);
	assert_true(p2p_endpoint_equal(&back, &v4));
	assert_int_equal(net_sockaddr_of(&v6, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_memory_equal(((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr, a6, 16);
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_port, htons(3479));
	back = net_endpoint_of((struct sockaddr *)&ss);
	assert_true(p2p_endpoint_equal(&back, &v6));
	assert_int_equal(net_socket_family(&v6), AF_INET6);
}

/* The text --listen and --coord take: IPv4 as before, IPv6 in brackets. */
static void test_parse_endpoint(void **state)
{
	struct p2p_endpoint ep;
	(void)state;
	assert_int_equal(daemon_parse_endpoint("[::1]:3478", &ep), 0);
	assert_true(p2p_endpoint_is6(&ep));
	assert_memory_equal(ep.ip6, LOOPBACK6, 16);
	assert_int_equal(ep.port, 3478);
	assert_int_equal(daemon_parse_endpoint("[2001:db8::1]:3479", &ep), 0);
	assert_true(p2p_endpoint_is6(&ep));
	assert_int_equal(ep.ip6[0], 0x20);
	assert_int_equal(ep.ip6[15], 1);
	assert_int_equal(daemon_parse_endpoint("10.0.0.1:3478", &ep), 0);
	assert_false(p2p_endpoint_is6(&ep));
	assert_int_equal(ep.ip, 0x0A000001u);
	assert_int_equal(daemon_parse_endpoint(":3478", &ep), 0);
	assert_false(p2p_endpoint_is6(&ep));
	assert_int_equal(ep.ip, 0);
	assert_int_equal(daemon_parse_endpoint("[fe80::1%eth0]:3478", &ep), -1);
	assert_int_equal(daemon_parse_endpoint("[::1]", &ep), -1);
	assert_int_equal(daemon_parse_endpoint("[::1::2]:1", &ep), -1);
}

/* An IPv4 and an IPv6 socket on one port (the IPv6 one is V6ONLY, or the
 * second bind would fail with EADDRINUSE under bindv6only = 0); a datagram
 * from ::1 arrives on the IPv6 one with an IPv6 source, and a reply to it
 * leaves from the IPv6 socket though its `from` names neither. */
static void test_both_families_one_port(void **state)
{
	struct daemon d;
	char err[256];
	uint16_t tport;
	int t = test_socket6(&tport);
	(void)state;
	if (t < 0)
		skip();
	struct p2p_endpoint v4 = p2p_endpoint4(LOOPBACK, 0), b4, b6;
	assert_int_equal(daemon_init(&d, err, sizeof(err)), 0);
	assert_int_equal(daemon_bind(&d, &v4, &b4, err, sizeof(err)), 0);
	struct p2p_endpoint any6 = p2p_endpoint6((uint8_t[16]){0}, b4.port);
	assert_int_equal(daemon_bind(&d, &any6, &b6, err, sizeof(err)), 0);
	assert_true(p2p_endpoint_is6(&b6));
	assert_int_equal(b6.port, b4.port);
	int v6only = 0;
	socklen_t ol = sizeof(v6only);
	assert_int_equal(getsockopt(d.fds[1], IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol), 0);
	assert_int_equal(v6only, 1);

	struct p2p_datagram dg = {.from = b4, .to = p2p_endpoint6(LOOPBACK6, tport), .len = 3};
	memcpy(dg.buf, "six", 3);
	assert_int_equal(daemon_send(&d, &dg), 0); /* from names the IPv4 socket: family wins */
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char buf[16];
	assert_int_equal(recvfrom(t, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl), 3);
	struct p2p_endpoint src = net_endpoint_of((struct sockaddr *)&ss);
	assert_true(p2p_endpoint_is6(&src));
	assert_int_equal(src.port, b6.port);
	close(t);
	daemon_fini(&d);
}

/* ---- ICMPv6 errors (IPV6_RECVERR) ---- */

struct errq_seen {
	struct p2p_icmp_error err[4];
	size_t n;
};

static int errq_input(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		      const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)now, (void)local, (void)from, (void)buf, (void)len;
	return 0;
}

static void errq_tick(void *ctx, uint64_t now)
{
	(void)ctx, (void)now;
}

static uint64_t errq_deadline(void *ctx)
{
	(void)ctx;
	return P2P_NO_DEADLINE;
}

static bool errq_flush(void *ctx, struct daemon *d, uint64_t now)
{
	(void)d, (void)now;
	return ((struct errq_seen *)ctx)->n >= 2;
}

static void errq_error(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		       const struct p2p_icmp_error *err)
{
	struct errq_seen *s = ctx;
	(void)now, (void)local;
	if (s->n < 4)
		s->err[s->n++] = *err;
}

/* Two datagrams to a closed port on ::1: Linux answers each with ICMPv6
 * destination unreachable, port unreachable (type 1 code 4: RFC 4443 3.1;
 * no rate limit on loopback, icmpv6_xrlim_allow). The second send meets
 * the first error pending (ECONNREFUSED) and is sent again; the loop reads
 * both from the error queue as SO_EE_ORIGIN_ICMP6, with the datagram's
 * destination and the error's source, both IPv6. */
static void test_icmp6_error_queue(void **state)
{
	struct daemon d;
	char err[256];
	struct p2p_endpoint lo6 = p2p_endpoint6(LOOPBACK6, 0), bound;
	uint16_t closed = free_port6();
	(void)state;
	assert_int_equal(daemon_init(&d, err, sizeof(err)), 0);
	assert_int_equal(daemon_bind(&d, &lo6, &bound, err, sizeof(err)), 0);
	struct p2p_datagram dg = {.from = bound, .to = p2p_endpoint6(LOOPBACK6, closed), .len = 4};
	memcpy(dg.buf, "ping", 4);
	assert_int_equal(daemon_send(&d, &dg), 0);
	sleep_ms(50); /* the first error is in, pending on the socket */
	assert_int_equal(daemon_send(&d, &dg), 0);
	assert_int_equal(d.send_errors, 0);
	struct errq_seen seen = {.n = 0};
	static const struct daemon_ops ops = {errq_input, errq_tick,  errq_deadline,
					      errq_flush, errq_error, NULL};
	d.until_ns = daemon_now_ns() + 2 * P2P_NS_PER_S;
	assert_int_equal(daemon_run(&d, &ops, &seen), DAEMON_STOP_DONE);
	assert_int_equal(seen.n, 2);
	struct p2p_endpoint lo6_reporter = p2p_endpoint6(LOOPBACK6, 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(seen.err[i].type, P2P_ICMP6_DEST_UNREACH);
		assert_int_equal(seen.err[i].code, P2P_ICMP6_PORT_UNREACH);
		assert_true(p2p_endpoint_equal(&seen.err[i].reporter, &lo6_reporter));
		assert_true(p2p_endpoint_equal(&seen.err[i].remote, &dg.to));
		assert_true(p2p_endpoint_equal(&seen.err[i].local, &bound));
		assert_true(p2p_icmp_error_hard(&seen.err[i]));
	}
	assert_int_equal(d.icmp_errors, 2);
	daemon_fini(&d);
}

/* ---- natsim coord and natsim peer over ::1 ---- */

static struct child start_coord6(const char *listen)
{
	char *argv[] = {"coord", "--listen", (char *)listen, "--json", NULL};
	struct child c = child_spawn("coord", cmd_coord_main, argv);
	if (!child_wait_text(&c, "\"listening\"", 3000)) {
		child_dump(&c);
		fail_msg("the coordinator did not start listening within 3 s");
	}
	return c;
}

static void stop_coord(struct child *c)
{
	kill(c->pid, SIGTERM);
	int rc = child_wait_exit(c, 3000);
	if (rc != 0)
		child_dump(c);
	assert_int_equal(rc, 0);
}

/* The IPv4 loopback exchange of test_daemon over ::1: a coordinator on
 * [::1]:P alone, bob echoing, alice connecting and sending, each bound to
 * ::1 (the one host candidate, as --bind 127.0.0.1 is over IPv4). Both exit
 * 0, alice gets her text back over a direct path whose endpoints are IPv6,
 * and the coordinator saw both register from [::1]. */
static void test_loopback6_exchange(void **state)
{
	char coord[48], want[96];
	(void)state;
	snprintf(coord, sizeof(coord), "[::1]:%u", free_port6());
	struct child c = start_coord6(coord);
	char *bob_argv[] = {"peer", "--name", "bob",	       "--coord",  coord, "--bind",
			    "::1",  "--echo", "--expect-data", "--linger", "1s",  "--timeout",
			    "8s",   NULL};
	struct child bob = child_spawn("bob", cmd_peer_main, bob_argv);
	if (!child_wait_text(&bob, "registered:", 3000)) {
		child_dump(&bob);
		fail_msg("bob did not register over IPv6 within 3 s");
	}
	char *alice_argv[] = {
	    "peer",	 "--name", "alice",  "--coord",		coord,		 "--bind",    "::1",
	    "--connect", "bob",	   "--send", "hello over IPv6", "--expect-data", "--timeout", "8s",
	    NULL};
	struct child alice = child_spawn("alice", cmd_peer_main, alice_argv);
	int arc = child_wait_exit(&alice, 10000), brc = child_wait_exit(&bob, 10000);
	snprintf(want, sizeof(want), "data from bob: hello over IPv6\n");
	if (arc != 0 || brc != 0 || !child_file_contains(alice.out, want) ||
	    !child_file_contains(alice.out, "path: direct: direct to bob over IPv6 via [::1]:") ||
	    !child_file_contains(c.out, "\"event\":\"introduced\"")) {
		child_dump(&alice);
		child_dump(&bob);
		child_dump(&c);
		fail_msg("exchange over ::1 failed: alice exit %d, bob exit %d", arc, brc);
	}
	assert_true(child_file_contains(c.out, "alice registered from [::1]:"));
	stop_coord(&c);
}

/* One coordinator on both families (an IPv6 socket beside the IPv4 one on
 * the same port): a peer registers over each, and each is seen from its own
 * family's loopback. */
static void test_dual_stack_coordinator(void **state)
{
	char v4[32], v6[48];
	uint16_t port = free_port6();
	(void)state;
	snprintf(v4, sizeof(v4), "127.0.0.1:%u", port);
	snprintf(v6, sizeof(v6), "[::1]:%u", port);
	char *argv[] = {"coord", "--listen", v4, "--listen", v6, "--json", NULL};
	struct child c = child_spawn("coord", cmd_coord_main, argv);
	char listening[160];
	snprintf(listening, sizeof(listening), "\"primary\":\"%s\",\"primary6\":\"%s\"", v4, v6);
	if (!child_wait_text(&c, listening, 3000)) {
		child_dump(&c);
		fail_msg("the coordinator did not say it listens on both families");
	}
	char *a4[] = {"peer", "--name", "four", "--coord", v4, "--bind", "127.0.0.1", NULL};
	char *a6[] = {"peer", "--name", "six", "--coord", v6, "--bind", "::1", NULL};
	struct child p4 = child_spawn("four", cmd_peer_main, a4);
	struct child p6 = child_spawn("six", cmd_peer_main, a6);
	int rc4 = child_wait_exit(&p4, 5000), rc6 = child_wait_exit(&p6, 5000);
	if (rc4 != 0 || rc6 != 0 || !child_wait_text(&c, "four registered from 127.0.0.1:", 1000) ||
	    !child_wait_text(&c, "six registered from [::1]:", 1000)) {
		child_dump(&p4);
		child_dump(&p6);
		child_dump(&c);
		fail_msg("registrations over both families: exits %d and %d", rc4, rc6);
	}
	stop_coord(&c);
}

/* The same over TCP (daemon_tcp.c's sockets of either family): two peers
 * with --tcp register over [::1] and connect from the port the coordinator
 * saw, direct. */
static void test_tcp6_exchange(void **state)
{
	char coord[48];
	(void)state;
	snprintf(coord, sizeof(coord), "[::1]:%u", free_port6());
	struct child c = start_coord6(coord);
	char *bob_argv[] = {"peer",	"--tcp",  "--name",    "bob",	 "--coord",
			    coord,	"--bind", "::1",       "--echo", "--expect-data",
			    "--linger", "1s",	  "--timeout", "8s",	 NULL};
	struct child bob = child_spawn("bob", cmd_peer_main, bob_argv);
	assert_true(child_wait_text(&bob, "registered:", 3000));
	char *alice_argv[] = {"peer",	       "--tcp",	    "--name",	 "alice", "--coord", coord,
			      "--bind",	       "::1",	    "--connect", "bob",	  "--send",  "tcp6",
			      "--expect-data", "--timeout", "8s",	 NULL};
	struct child alice = child_spawn("alice", cmd_peer_main, alice_argv);
	int arc = child_wait_exit(&alice, 10000), brc = child_wait_exit(&bob, 10000);
	if (arc != 0 || brc != 0 || !child_file_contains(alice.out, "data from bob: tcp6\n") ||
	    !child_file_contains(alice.out, "path: direct: direct to bob over TCP via") ||
	    !child_file_contains(alice.out, "-> [::1]:")) {
		child_dump(&alice);
		child_dump(&bob);
		fail_msg("TCP exchange over ::1 failed: alice exit %d, bob exit %d", arc, brc);
	}
	stop_coord(&c);
}

/* Dual stack on one machine: a coordinator on 127.0.0.1:P and [::1]:P,
 * two peers each with an IPv4 and an IPv6 socket (--coord, --coord6, a
 * --bind per family). Both register over both families (the coordinator
 * takes the IPv6 one as a refresh under the same name) and go direct. Which
 * family is timing's on loopback: alice's first IPv6 check can reach bob
 * before the coordinator's INTRODUCE does ("unknown peer or session"), and
 * the IPv4 pair then succeeds before its retransmission (the agent's, not
 * the driver's; the lab's dual-stack case ends over IPv6). */
static void test_dual_stack_exchange(void **state)
{
	char v4[32], v6[48];
	uint16_t port = free_port6();
	(void)state;
	snprintf(v4, sizeof(v4), "127.0.0.1:%u", port);
	snprintf(v6, sizeof(v6), "[::1]:%u", port);
	char *argv[] = {"coord", "--listen", v4, "--listen", v6, "--json", NULL};
	struct child c = child_spawn("coord", cmd_coord_main, argv);
	assert_true(child_wait_text(&c, "\"listening\"", 3000));
	char *bob_argv[] = {
	    "peer",   "--name",	   "bob",    "--coord", v4,	  "--coord6",	   v6,
	    "--bind", "127.0.0.1", "--bind", "::1",	"--echo", "--expect-data", "--linger",
	    "1s",     "--timeout", "8s",     NULL};
	struct child bob = child_spawn("bob", cmd_peer_main, bob_argv);
	if (!child_wait_text(&bob, "registered over IPv6 too", 3000)) {
		child_dump(&bob);
		child_dump(&c);
		fail_msg("bob did not register over IPv6 within 3 s");
	}
	char *alice_argv[] = {"peer",	       "--name",    "alice",  "--coord",   v4,
			      "--coord6",      v6,	    "--bind", "127.0.0.1", "--bind",
			      "::1",	       "--connect", "bob",    "--send",	   "both",
			      "--expect-data", "--timeout", "8s",     NULL};
	struct child alice = child_spawn("alice", cmd_peer_main, alice_argv);
	int arc = child_wait_exit(&alice, 10000), brc = child_wait_exit(&bob, 10000);
	if (arc != 0 || brc != 0 || !child_file_contains(alice.out, "data from bob: both\n") ||
	    !child_file_contains(alice.out, "path: direct: direct to bob ") ||
	    !child_file_contains(c.out, "bob registered from 127.0.0.1:") ||
	    !child_file_contains(c.out, "bob refreshed its registration from [::1]:")) {
		child_dump(&alice);
		child_dump(&bob);
		child_dump(&c);
		fail_msg("dual-stack exchange failed: alice exit %d, bob exit %d", arc, brc);
	}
	stop_coord(&c);
}

/* Usage errors of the families: an IPv4 --bind with an IPv6 coordinator,
 * --coord6 beside an IPv6 --coord, or not IPv6, or with --tcp (one
 * family), an IPv6 --bind with an IPv4 coordinator and no --coord6, the hard-NAT techniques with an
 * IPv6 coordinator, a coordinator of port 0 or of no address; a family's --listen twice, an
 * alternate without a listen of its family or on the same address, a zone id. */
static void test_family_usage_errors(void **state)
{
	static char *const cases[][12] = {
	    {"peer", "--name", "a", "--coord", "[::1]:3478", "--bind", "127.0.0.1", NULL},
	    {"peer", "--name", "a", "--coord", "[::1]:3478", "--coord6", "[::1]:3478", NULL},
	    {"peer", "--name", "a", "--coord", "127.0.0.1:3478", "--bind", "::1", NULL},
	    {"peer", "--name", "a", "--coord", "127.0.0.1:3478", "--coord6", "127.0.0.1:3478",
	     NULL},
	    {"peer", "--name", "a", "--tcp", "--coord", "127.0.0.1:3478", "--coord6", "[::1]:3478",
	     NULL},
	    {"peer", "--name", "a", "--coord", "[::1]:3478", "--techniques", "birthday", NULL},
	    {"peer", "--name", "a", "--coord", "[::1]:0", NULL},
	    {"peer", "--name", "a", "--coord", "[::]:3478", NULL},
	    {"coord", "--listen", "[::1]:5", "--listen", "[::1]:6", NULL},
	    {"coord", "--listen", "127.0.0.1:5", "--alternate", "[::1]:6", NULL},
	    {"coord", "--listen", "[::1]:5", "--alternate", "[::1]:6", NULL},
	    {"coord", "--listen", "[fe80::1%lo]:5", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char tag[16];
		snprintf(tag, sizeof(tag), "usage%zu", i);
		bool coord = strcmp(cases[i][0], "coord") == 0;
		struct child c =
		    child_spawn(tag, coord ? cmd_coord_main : cmd_peer_main, (char **)cases[i]);
		int rc = child_wait_exit(&c, 3000);
		if (rc != CLI_EXIT_USAGE) {
			child_dump(&c);
			fail_msg("case %zu: exit %d, not usage", i, rc);
		}
	}
}

/* Bob registers over ::1 and is killed; alice's check to his socket draws
 * ICMPv6 port unreachable, which the agent hears (IPV6_RECVERR) and gives
 * the candidate up at once: relayed well before the 5 s punch deadline. */
static void test_peer_learns_port_unreachable6(void **state)
{
	char coord[48];
	(void)state;
	snprintf(coord, sizeof(coord), "[::1]:%u", free_port6());
	struct child c = start_coord6(coord);
	char *bob_argv[] = {"peer",   "--name", "bob",	     "--coord", coord,
			    "--bind", "::1",	"--timeout", "8s",	NULL};
	struct child bob = child_spawn("bob", cmd_peer_main, bob_argv);
	if (!child_wait_text(&bob, "registered:", 3000)) {
		child_dump(&bob);
		fail_msg("bob did not register within 3 s");
	}
	kill(bob.pid, SIGKILL);
	child_wait_exit(&bob, 3000);
	char *alice_argv[] = {"peer",	 "--name",    "alice",	   "--coord", coord,
			      "--bind",	 "::1",	      "--connect", "bob",     "--send",
			      "anyone?", "--timeout", "8s",	   NULL};
	uint64_t t0 = child_now_ms();
	struct child alice = child_spawn("alice", cmd_peer_main, alice_argv);
	int rc = child_wait_exit(&alice, 10000);
	uint64_t took = child_now_ms() - t0;
	if (rc != 0 || !child_file_contains(alice.out, "pair-failed bob: ") ||
	    !child_file_contains(alice.out, "port unreachable") ||
	    !child_file_contains(alice.out, "path: relayed") || took >= 4000) {
		child_dump(&alice);
		fail_msg("alice: exit %d after %llu ms", rc, (unsigned long long)took);
	}
	stop_coord(&c);
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(support_child_dir, sizeof(support_child_dir), "/tmp/natsim-daemon6-XXXXXX");
	return mkdtemp(support_child_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (getenv("NATSIM_KEEP_LOGS")) {
		fprintf(stderr, "logs kept in %s\n", support_child_dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", support_child_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sockaddr_round_trip),
	    cmocka_unit_test(test_parse_endpoint),
	    cmocka_unit_test(test_both_families_one_port),
	    cmocka_unit_test(test_icmp6_error_queue),
	    cmocka_unit_test(test_family_usage_errors),
	    cmocka_unit_test(test_dual_stack_coordinator),
	    cmocka_unit_test(test_loopback6_exchange),
	    cmocka_unit_test(test_tcp6_exchange),
	    cmocka_unit_test(test_dual_stack_exchange),
	    cmocka_unit_test(test_peer_learns_port_unreachable6),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
