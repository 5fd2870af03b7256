/*
 * test_ipv6_engine.c - IPv6 packets in the engine (issue 18, docs/ipv6.md
 * step 1, and step 2's routes). On one LAN: router home (192.168.1.1 and
 * 2001:db8:1::1/64, no route beyond), alice (IPv6 gateway home), carol
 * (whose IPv6 gateway is bob, a host), bob and dave (no IPv6 at all). A
 * hand-built IPv6 UDP packet from alice crosses the LAN and home drops it
 * with its own reason (no IPv6 route to 2001:db8:2::1), answering ICMPv6
 * no route; the same packet with a wrong UDP checksum is dropped as
 * malformed with the parser's sentence; carol's reaches bob, who does not
 * forward; dave's never leaves. Each
 * shows in the trace's facts, the timeline, `why` and the captures, and
 * tshark (when installed) decodes the capture as IPv6/UDP with a good
 * checksum; a spray of drops is folded as for IPv4. Also the dissector's
 * and the verdicts' reading of IPv6 bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <unistd.h>

#include "explain/explain.h"
#include "model/host.h"
#include "model/packet6.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "viz/pcap.h"
#include "viz/timeline.h"
#include "viz/why.h"

#define FLOW_TEXT "[2001:db8:1::5]:5000 \u2192 [2001:db8:2::1]:3478"
/* 2001:db8:1::<last> */
#define ADDR6(last)                                                                                \
	((struct ip6_addr){{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, last}})
/* home answers the first few no-route drops; its ICMPv6 rate limit (6 at
 * once per destination) stops the rest of the spray's answers. */
#define ANSWERS 6
#define SPRAY (TIMELINE_SPRAY_SHOWN + 5)

struct world {
	struct net *net;
	struct trace_log *log;
	struct host *alice, *bob, *carol, *dave;
	uint8_t good[128], bad[128];
	size_t len;
	uint64_t good_id, bad_id, carol_id, dave_id;
	char dir[64];
};

/* alice's datagram: [2001:db8:1::5]:5000 -> [2001:db8:2::1]:3478, "hello". */
static size_t build_udp6(uint8_t *buf, size_t cap, uint16_t sport)
{
	struct endpoint6 src = {.port = sport}, dst = {.port = 3478};

	assert_int_equal(ip6_parse("2001:db8:1::5", &src.ip, NULL), IP6_OK);
	assert_int_equal(ip6_parse("2001:db8:2::1", &dst.ip, NULL), IP6_OK);
	return packet6_build_udp(buf, cap, &src, &dst, 64, 0x12345, "hello", 5);
}

static void build_lan(struct world *w)
{
	struct router *home = router_new(w->net, "home");
	struct link_config cfg;
	struct link *lan;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	lan = link_new(w->net, "lan", &cfg);
	assert_non_null(home);
	assert_non_null(lan);
	struct iface *ifc = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);

	assert_int_equal(link_attach(lan, ifc), 0);
	assert_int_equal(iface_set_addr6(ifc, &ADDR6(1), 64), 0);
	w->alice = host_new(w->net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	w->bob = host_new(w->net, "bob", IP4(192, 168, 1, 6), 24, 0);
	w->carol = host_new(w->net, "carol", IP4(192, 168, 1, 7), 24, IP4(192, 168, 1, 6));
	w->dave = host_new(w->net, "dave", IP4(192, 168, 1, 8), 24, 0);
	assert_int_equal(host_set_address6(w->alice, &ADDR6(5), 64), 0);
	host_set_gateway6(w->alice, &ADDR6(1));
	assert_int_equal(host_set_address6(w->bob, &ADDR6(6), 64), 0);
	assert_int_equal(host_set_address6(w->carol, &ADDR6(7), 64), 0);
	host_set_gateway6(w->carol, &ADDR6(6));
	assert_int_equal(link_attach(lan, host_iface(w->alice)), 0);
	assert_int_equal(link_attach(lan, host_iface(w->bob)), 0);
	assert_int_equal(link_attach(lan, host_iface(w->carol)), 0);
	assert_int_equal(link_attach(lan, host_iface(w->dave)), 0);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->net = net_new(1);
	w->log = trace_log_new();
	assert_int_equal(trace_log_attach(w->log, net_trace(w->net)), 0);
	explain_attach(net_trace(w->net));
	build_lan(w);
	net_announce(w->net);
	w->len = build_udp6(w->good, sizeof(w->good), 5000);
	assert_int_equal(w->len, 40 + 8 + 5);
	memcpy(w->bad, w->good, w->len);
	w->bad[46] ^= 0x10; /* a wrong UDP checksum (a zero one would be forwarded) */
	w->good_id = host_send_raw(w->alice, w->good, w->len);
	w->bad_id = host_send_raw(w->alice, w->bad, w->len);
	w->carol_id = host_send_raw(w->carol, w->good, w->len);
	w->dave_id = host_send_raw(w->dave, w->good, w->len);
	for (uint16_t i = 0; i < SPRAY; i++) { /* from new ports: a spray */
		uint8_t probe[128];

		assert_true(
		    host_send_raw(w->alice, probe, build_udp6(probe, sizeof(probe), 6000 + i)));
	}
	engine_run_until(net_engine(w->net), SIM_S(1));
	snprintf(w->dir, sizeof(w->dir), "/tmp/natsim-test-ipv6-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", w->dir);
	net_free(w->net);
	trace_log_free(w->log);
	free(w);
	return 0;
}

/* The record of packet `id`'s `hop` (the first), or NULL. */
static const struct trace_packet *hop_of(const struct world *w, uint64_t id, enum trace_hop hop)
{
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.packet_id == id &&
		    r->u.packet.hop == hop)
			return &r->u.packet;
	}
	return NULL;
}

/* The drop of `id`: at `node`, for `reason`, its path facts of `cause`. */
static const struct node_path_facts *drop_of(const struct world *w, uint64_t id, const char *node,
					     enum trace_drop_reason reason,
					     enum node_path_cause cause)
{
	const struct trace_packet *d = hop_of(w, id, TRACE_HOP_DROP);
	const struct node_path_facts *f;

	assert_non_null(d);
	assert_string_equal(d->node, node);
	assert_int_equal(d->reason, reason);
	assert_int_equal(d->verdict.kind, NODE_VERDICT_PATH);
	f = d->verdict.facts;
	assert_int_equal(f->cause, cause);
	return f;
}

/* alice's packet crossed the link (TX at alice, RX at home, the same
 * bytes) and home dropped it: no IPv6 route, the flow in the facts, and
 * ICMPv6 destination unreachable, no route (code 0), sent back as Linux's
 * ip6_pkt_discard does. */
static void test_router_drops_for_no_route(void **state)
{
	struct world *w = *state;
	const struct trace_packet *tx = hop_of(w, w->good_id, TRACE_HOP_TX);
	const struct trace_packet *rx = hop_of(w, w->good_id, TRACE_HOP_RX);
	const struct node_path_facts *f;
	struct ip6_addr src;

	assert_true(w->good_id != 0);
	assert_non_null(tx);
	assert_non_null(rx);
	assert_string_equal(tx->node, "alice");
	assert_string_equal(rx->node, "home");
	assert_string_equal(rx->iface, "lan");
	assert_memory_equal(rx->bytes, w->good, w->len);
	f = drop_of(w, w->good_id, "home", TRACE_DROP_NO_ROUTE, NODE_PATH_NO_IPV6_ROUTE);
	assert_int_equal(f->flow.ip_version, 6);
	assert_int_equal(f->flow.form, VERDICT_FLOW_PARSED);
	assert_int_equal(f->flow.proto, IPPROTO_NUM_UDP);
	assert_int_equal(f->flow.ttl, 64);
	assert_int_equal(f->flow.sport, 5000);
	assert_int_equal(f->flow.dport, 3478);
	assert_int_equal(ip6_parse("2001:db8:1::5", &src, NULL), IP6_OK);
	assert_true(ip6_equal(&f->flow.src6, &src));
	assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->answer.type, ICMP6_DEST_UNREACH);
	assert_int_equal(f->answer.code, ICMP6_NO_ROUTE);
	assert_non_null(hop_of(w, f->answer.packet_id, TRACE_HOP_DELIVER));
	assert_string_equal(hop_of(w, f->answer.packet_id, TRACE_HOP_DELIVER)->node, "alice");
	assert_non_null(strstr(hop_of(w, w->good_id, TRACE_HOP_DROP)->why,
			       "home dropped " FLOW_TEXT ": no IPv6 route to 2001:db8:2::1"));
}

/* The wrong-checksum copy is dropped as malformed, the parser's own sentence
 * as its detail. */
static void test_malformed_has_parser_reason(void **state)
{
	struct world *w = *state;
	struct packet6_info info;
	char why[200];
	const struct node_path_facts *f;

	assert_int_equal(packet6_parse(w->bad, w->len, &info, why, sizeof(why)),
			 PACKET_ERR_UDP_CHECKSUM);
	f = drop_of(w, w->bad_id, "home", TRACE_DROP_MALFORMED, NODE_PATH_MALFORMED);
	assert_string_equal(f->detail, why);
	assert_non_null(strstr(hop_of(w, w->bad_id, TRACE_HOP_DROP)->why, why));
}

/* carol's IPv6 gateway is a host: bob, who does not forward, drops it
 * (ip6_forward with forwarding off); dave has no IPv6 route, so his never
 * leaves. */
static void test_hosts_drop(void **state)
{
	struct world *w = *state;
	const struct node_path_facts *f;

	assert_non_null(hop_of(w, w->carol_id, TRACE_HOP_RX));
	f = drop_of(w, w->carol_id, "bob", TRACE_DROP_NOT_FOR_US, NODE_PATH_NOT_FOR_US);
	assert_int_equal(f->flow.ip_version, 6);
	assert_non_null(strstr(hop_of(w, w->carol_id, TRACE_HOP_DROP)->why,
			       "it is addressed to 2001:db8:2::1, and bob is 2001:db8:1::6"));
	assert_int_equal(w->dave_id, 0);
	assert_null(hop_of(w, w->dave_id, TRACE_HOP_TX));
}

/* The drops above came from nodes with no IPv6 side (issue 18's memory,
 * bench_scale): home has an address but no route, filter or translation,
 * bob an address but no gateway or socket, dave nothing; each side is made
 * by the first thing that needs it, and an IPv6 address lives with the
 * node, not in every interface. */
static void test_sides_made_on_need(void **state)
{
	struct world *w = *state;
	struct node *home = net_find_node(w->net, "home");

	assert_non_null(home);
	assert_null(home->router6);
	assert_null(host_iface(w->bob)->node->host6);
	assert_null(host_iface(w->dave)->node->host6);
	assert_non_null(host_iface(w->alice)->node->host6); /* her IPv6 gateway */
	assert_null(host_iface(w->dave)->node->addrs6);
	assert_null(iface_addr6(host_iface(w->dave)));
	assert_true(ip6_equal(iface_addr6(host_iface(w->bob)), &ADDR6(6)));
	assert_non_null(host_udp_bind6(w->bob, NULL, 4000, NULL, NULL));
	assert_non_null(host_iface(w->bob)->node->host6);
	assert_non_null(host_filter6(w->dave));
	assert_non_null(host_iface(w->dave)->node->host6);
	assert_non_null(router_filter6(router_from_node(home)));
	assert_non_null(home->router6);
}

static char *render(struct world *w, uint64_t why_id, enum timeline_verbosity verbosity)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	struct timeline_options opt;

	assert_non_null(f);
	timeline_options_default(&opt);
	opt.verbosity = verbosity;
	if (why_id != 0)
		assert_int_equal(why_render(f, w->log, why_id, NULL, false), 0);
	else
		assert_int_equal(timeline_render_log(f, w->log, &opt), 0);
	assert_int_equal(fclose(f), 0);
	return s;
}

static void test_timeline_and_why(void **state)
{
	struct world *w = *state;
	char *tl = render(w, 0, TIMELINE_VERBOSE), *why = render(w, w->good_id, TIMELINE_VERBOSE);
	char reason[200], line[300];
	struct packet6_info info;

	/* the dissector's line at the send, the words at the drop */
	assert_non_null(strstr(tl, "UDP " FLOW_TEXT " len=5 hlim=64"));
	assert_non_null(strstr(tl, FLOW_TEXT ": no IPv6 route"));
	assert_int_equal(packet6_parse(w->bad, w->len, &info, reason, sizeof(reason)),
			 PACKET_ERR_UDP_CHECKSUM);
	snprintf(line, sizeof(line), "dropped a malformed packet: %s", reason);
	assert_non_null(strstr(tl, line));
	assert_non_null(strstr(tl, "and bob is 2001:db8:1::6"));
	assert_non_null(strstr(why, "UDP " FLOW_TEXT " len=5 hlim=64"));
	assert_non_null(strstr(why, "no IPv6 route to 2001:db8:2::1"));
	free(tl);
	free(why);
}

/* A spray of IPv6 drops is folded as an IPv4 one is (viz/timeline_spray.c
 * keeps either family's addresses): alice's first datagram and the spray
 * are one flow's drops on ever-new source ports, the first
 * TIMELINE_SPRAY_SHOWN shown, the rest counted in RFC 5952 text. */
static void test_spray_folded(void **state)
{
	struct world *w = *state;
	char *tl = render(w, 0, TIMELINE_NORMAL), count[200];
	size_t n = 0;

	for (const char *s = tl; (s = strstr(s, ": no IPv6 route")) != NULL; s++)
		n++;
	assert_int_equal(n, TIMELINE_SPRAY_SHOWN + 1); /* and dave's */
	snprintf(count, sizeof(count),
		 "and %d more dropped for the same reason (no-route), 2001:db8:1::5 to "
		 "[2001:db8:2::1]:3478 on ever-new source ports (%d to %d)",
		 SPRAY + 1 - TIMELINE_SPRAY_SHOWN, 6000 + TIMELINE_SPRAY_SHOWN - 1,
		 6000 + SPRAY - 1);
	assert_non_null(strstr(tl, count));
	free(tl);
}

/* Every packet of the file: the first's bytes and the count. */
static size_t read_capture(const char *path, int *linktype, uint8_t *first, size_t *first_len)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = pcap_open_offline(path, err);
	size_t n = 0;

	if (p == NULL)
		fail_msg("pcap_open_offline %s: %s", path, err);
	*linktype = pcap_datalink(p);
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (n++ == 0) {
			memcpy(first, data, h->caplen);
			*first_len = h->caplen;
		}
	}
	pcap_close(p);
	return n;
}

/* LINKTYPE_RAW (101) once a run has IPv6; the bytes as sent; tshark reads
 * IPv6/UDP with a good checksum. */
static void test_capture(void **state)
{
	struct world *w = *state;
	char err[256], path[160], cmd[400], line[256] = "";
	uint8_t first[256];
	size_t first_len = 0;
	int lt;
	FILE *p;

	assert_int_equal(capture_write_dir(w->log, w->dir, NULL, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/alice-eth0.pcap", w->dir);
	/* what alice sent, and the answers she received */
	assert_int_equal(read_capture(path, &lt, first, &first_len), 2 + SPRAY + ANSWERS);
	assert_int_equal(lt, DLT_RAW);
	assert_int_equal(first_len, w->len);
	assert_memory_equal(first, w->good, w->len);
	snprintf(path, sizeof(path), "%s/home-lan.pcap", w->dir);
	assert_int_equal(read_capture(path, &lt, first, &first_len), 2 + SPRAY + ANSWERS);
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark is not installed: skipping its decoding check\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o udp.check_checksum:TRUE -Y frame.number==1 -T fields "
		 "-E separator='|' -e frame.protocols -e ipv6.src -e ipv6.dst -e udp.srcport "
		 "-e udp.dstport -e udp.checksum.status -e _ws.malformed 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	pclose(p);
	assert_string_equal(line, "raw:ipv6:udp:data|2001:db8:1::5|2001:db8:2::1|5000|3478|1|\n");
}

/* The dissector and the verdicts read IPv6 bytes as IPv6; the parser stays
 * IPv4's. */
static void test_bytes_read_as_ipv6(void **state)
{
	struct world *w = *state;
	struct verdict_flow f;
	struct packet_field fields[32];
	struct packet_info info;
	char sum[200];
	size_t n;

	packet_summary(w->good, w->len, NULL, false, sum, sizeof(sum));
	assert_string_equal(sum, "UDP " FLOW_TEXT " len=5 hlim=64");
	packet_summary(w->bad, w->len, NULL, false, sum, sizeof(sum));
	assert_non_null(strstr(sum, "malformed: "));
	n = packet_fields(w->good, w->len, fields, 32);
	assert_true(n > 0);
	assert_string_equal(fields[0].name, "ipv6.version");
	f = packet_flow_of_bytes(w->good, w->len);
	assert_int_equal(f.ip_version, 6);
	assert_int_equal(f.form, VERDICT_FLOW_PARSED);
	assert_int_equal(f.len, w->len);
	f = packet_flow_of_bytes(w->bad, w->len);
	assert_int_equal(f.form, VERDICT_FLOW_ADDRESSES);
	assert_int_equal(f.ip_version, 6);
	assert_int_equal(f.proto, IPPROTO_NUM_UDP);
	assert_int_equal(f.src6.b[15], 5);
	f = packet_flow_of_bytes(w->good, 30);
	assert_int_equal(f.form, VERDICT_FLOW_UNREADABLE);
	assert_int_equal(f.len, 30);
	assert_int_equal(packet_parse(w->good, w->len, &info, NULL, 0), PACKET_ERR_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_router_drops_for_no_route),
	    cmocka_unit_test(test_malformed_has_parser_reason),
	    cmocka_unit_test(test_hosts_drop),
	    cmocka_unit_test(test_sides_made_on_need),
	    cmocka_unit_test(test_timeline_and_why),
	    cmocka_unit_test(test_spray_folded),
	    cmocka_unit_test(test_capture),
	    cmocka_unit_test(test_bytes_read_as_ipv6),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
