/*
 * test_conntrack6.c - IPv6 connection tracking (model/conntrack6.h): UDP
 * states and timeouts as Linux 6.1's, ICMPv6 echo by id, errors RELATED to
 * the flow they quote (else INVALID), neighbour discovery UNTRACKED, the
 * expiry records and their conntrack -L -f ipv6 lines; TCP by the IPv4
 * table's machine, replaying lab_conntrack6.sh's connections and expecting
 * the lines the kernel printed for them (tests/lab/conntrack6_expected.txt). Packets are built with
 * model/packet6.h and parsed with packet6_parse, as a node would hand them over. Time moves only
 * through engine_run_until.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h" /* conntrack_format_record */
#include "model/conntrack6.h"
#include "model/packet6.h"
#include "sim/engine.h"
#include "sim/trace.h"

#define MAX_RECS 64

/* Records kept with copies of their IPv6 tuples (borrowed for the emit). */
struct fx {
	struct engine *e;
	struct conntrack6 *ct;
	size_t n;
	struct trace_conntrack rec[MAX_RECS];
	struct trace_ct_tuples6 tuples[MAX_RECS];
	uint8_t buf[1500];
	struct packet6_info info;
};

static void keep(const struct trace_record *r, void *ctx)
{
	struct fx *f = ctx;

	if (r->kind != TRACE_CONNTRACK || f->n == MAX_RECS)
		return;
	assert_int_equal(r->u.ct.family, 6);
	assert_non_null(r->u.ct.tuples6);
	f->rec[f->n] = r->u.ct;
	f->tuples[f->n] = *r->u.ct.tuples6;
	f->rec[f->n].tuples6 = &f->tuples[f->n];
	f->n++;
}

static int setup(void **state)
{
	struct fx *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	f->e = engine_new();
	assert_non_null(f->e);
	f->ct = conntrack6_new(f->e, "home", NULL);
	assert_non_null(f->ct);
	assert_int_equal(trace_subscribe(engine_trace(f->e), keep, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conntrack6_free(f->ct);
	engine_free(f->e);
	test_free(f);
	return 0;
}

static struct ip6_addr a6(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

static struct endpoint6 ep(const char *addr, uint16_t port)
{
	return (struct endpoint6){.ip = a6(addr), .port = port};
}

#define INSIDE "2001:db8:1::5"
#define REMOTE "2001:db8:2::1"

/* Parse what is in f->buf into f->info. */
static const struct packet6_info *parsed(struct fx *f, size_t len)
{
	assert_true(len > 0);
	assert_int_equal(packet6_parse(f->buf, len, &f->info, NULL, 0), PACKET_OK);
	return &f->info;
}

static const struct packet6_info *udp(struct fx *f, const char *src, uint16_t sp, const char *dst,
				      uint16_t dp)
{
	struct endpoint6 s = ep(src, sp), d = ep(dst, dp);

	return parsed(f, packet6_build_udp(f->buf, sizeof(f->buf), &s, &d, 64, 0, "hi", 2));
}

static const struct packet6_info *echo(struct fx *f, const char *src, const char *dst, uint8_t type,
				       uint16_t id)
{
	struct ip6_addr s = a6(src), d = a6(dst);

	return parsed(
	    f, packet6_build_icmp_echo(f->buf, sizeof(f->buf), &s, &d, 64, type, id, 1, NULL, 8));
}

/* Classify `info` and, if NEW, confirm it; then count it: what the filter
 * does for a packet it accepts. Returns the state. */
static enum conntrack_state pass(struct fx *f, const struct packet6_info *info)
{
	struct conntrack6_entry *e;
	enum conntrack_dir dir;
	enum conntrack_state st = conntrack6_classify(f->ct, info, &e, &dir);
	struct conntrack6_tuple t;

	if (st == CONNTRACK_NEW && e == NULL) {
		conntrack6_tuple_of(info, &t);
		e = conntrack6_confirm(f->ct, &t);
		assert_non_null(e);
	}
	if (e != NULL && st != CONNTRACK_RELATED)
		conntrack6_seen(f->ct, e, dir, 42);
	return st;
}

static const char *line(struct fx *f, size_t i)
{
	static char buf[320];

	conntrack_format_record(&f->rec[i], engine_now(f->e), buf, sizeof(buf));
	return buf;
}

static void test_udp_unreplied_then_stream(void **state)
{
	struct fx *f = *state;

	assert_int_equal(pass(f, udp(f, INSIDE, 5000, REMOTE, 3478)), CONNTRACK_NEW);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->rec[0].event, TRACE_CT_NEW);
	assert_string_equal(line(f, 0), "udp      17 30 src=2001:db8:1::5 dst=2001:db8:2::1 "
					"sport=5000 dport=3478 [UNREPLIED] src=2001:db8:2::1 "
					"dst=2001:db8:1::5 sport=3478 dport=5000 mark=0 use=1");
	/* the reply: ESTABLISHED, [UNREPLIED] cleared, still 30 s */
	engine_run_until(f->e, SIM_S(1));
	assert_int_equal(pass(f, udp(f, REMOTE, 3478, INSIDE, 5000)), CONNTRACK_ESTABLISHED);
	assert_int_equal(f->rec[1].event, TRACE_CT_UPDATE);
	assert_true(f->rec[1].seen_reply);
	assert_false(f->rec[1].assured);
	assert_int_equal(f->rec[1].expires_at, SIM_S(31));
	/* more than 2 s after creation: a stream, [ASSURED], 120 s */
	engine_run_until(f->e, SIM_S(3));
	assert_int_equal(pass(f, udp(f, INSIDE, 5000, REMOTE, 3478)), CONNTRACK_ESTABLISHED);
	assert_true(f->rec[2].assured);
	assert_int_equal(f->rec[2].expires_at, SIM_S(123));
	assert_int_equal(conntrack6_count(f->ct), 1);
}

static void test_udp_expires_exactly(void **state)
{
	struct fx *f = *state;

	pass(f, udp(f, INSIDE, 5000, REMOTE, 3478));
	engine_run_until(f->e, SIM_S(20));
	pass(f, udp(f, INSIDE, 5000, REMOTE, 3478)); /* refresh: now 50 s */
	assert_int_equal(f->rec[f->n - 1].event, TRACE_CT_REFRESH);
	engine_run_until(f->e, SIM_S(50) - 1);
	assert_int_equal(conntrack6_count(f->ct), 1);
	engine_run_until(f->e, SIM_S(50));
	assert_int_equal(conntrack6_count(f->ct), 0);
	assert_int_equal(f->rec[f->n - 1].event, TRACE_CT_DESTROY);
	assert_string_equal(f->rec[f->n - 1].why, "timed out");
	assert_memory_equal(&f->tuples[f->n - 1].orig.src, a6(INSIDE).b, 16);
}

static void test_icmpv6_echo_by_id(void **state)
{
	struct fx *f = *state;
	struct conntrack6_entry *e;
	enum conntrack_dir dir;

	assert_int_equal(pass(f, echo(f, INSIDE, REMOTE, ICMP6_ECHO_REQUEST, 77)), CONNTRACK_NEW);
	assert_string_equal(line(f, 0), "icmpv6   58 30 src=2001:db8:1::5 dst=2001:db8:2::1 "
					"type=128 code=0 id=77 [UNREPLIED] src=2001:db8:2::1 "
					"dst=2001:db8:1::5 type=129 code=0 id=77 mark=0 use=1");
	/* a reply to another id is nobody's: INVALID ("not valid new") */
	assert_int_equal(
	    conntrack6_classify(f->ct, echo(f, REMOTE, INSIDE, ICMP6_ECHO_REPLY, 78), &e, &dir),
	    CONNTRACK_INVALID);
	assert_int_equal(pass(f, echo(f, REMOTE, INSIDE, ICMP6_ECHO_REPLY, 77)),
			 CONNTRACK_ESTABLISHED);
	assert_true(f->rec[f->n - 1].seen_reply);
	assert_false(f->rec[f->n - 1].assured); /* never, for ICMPv6 */
}

/* An ICMPv6 error about the flow: RELATED, going to the side that sent the
 * quoted packet; about no flow, or to the wrong side: INVALID. */
static void test_errors_related_or_invalid(void **state)
{
	struct fx *f = *state;
	uint8_t quoted[200];
	size_t qlen;
	struct ip6_addr router = a6("2001:db8:2::ff"), inside = a6(INSIDE), remote = a6(REMOTE);
	struct conntrack6_entry *e;
	enum conntrack_dir dir;
	size_t n;

	pass(f, udp(f, INSIDE, 5000, REMOTE, 3478));
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){inside, 5000},
				 &(struct endpoint6){remote, 3478}, 64, 0, "hi", 2);
	n = f->n;
	parsed(f,
	       packet6_build_icmp_error(f->buf, sizeof(f->buf), &router, &inside, 64,
					ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, quoted, qlen));
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_RELATED);
	assert_non_null(e);
	assert_int_equal(f->rec[n].event, TRACE_CT_RELATED);
	assert_int_equal(e->packets[0] + e->packets[1], 1); /* not counted */
	/* the same error sent to the remote instead: INVALID */
	parsed(f,
	       packet6_build_icmp_error(f->buf, sizeof(f->buf), &router, &remote, 64,
					ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, quoted, qlen));
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	/* about a flow nobody tracks */
	qlen = packet6_build_udp(quoted, sizeof(quoted), &(struct endpoint6){inside, 6000},
				 &(struct endpoint6){remote, 3478}, 64, 0, "hi", 2);
	parsed(f,
	       packet6_build_icmp_error(f->buf, sizeof(f->buf), &router, &inside, 64,
					ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, quoted, qlen));
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	assert_null(e);
}

/* Neighbour discovery is left untracked (noct_valid_new); neither makes
 * an entry. */
static void test_untracked(void **state)
{
	struct fx *f = *state;
	struct conntrack6_entry *e;
	enum conntrack_dir dir;

	echo(f, INSIDE, REMOTE, ICMP6_ECHO_REQUEST, 1);
	f->info.icmp_type = 135; /* a neighbour solicitation's type */
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_UNTRACKED);
	f->info.icmp_type = 137; /* redirect: not in noct_valid_new, cannot start a flow */
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	assert_int_equal(conntrack6_count(f->ct), 0);
	assert_int_equal(f->n, 0);
}

/* Linux's udp_error lets a zero checksum through ("Packet with no checksum"),
 * for IPv6 as for IPv4: conntrack tracks the datagram as any other (NEW,
 * then its reply ESTABLISHED); only the receiving stack refuses it. */
static void test_zero_checksum_tracked(void **state)
{
	struct fx *f = *state;
	struct endpoint6 s = ep(INSIDE, 5000), d = ep(REMOTE, 3478);
	size_t len = packet6_build_udp(f->buf, sizeof(f->buf), &s, &d, 64, 0, "hi", 2);

	f->buf[IPV6_HEADER_SIZE + 6] = f->buf[IPV6_HEADER_SIZE + 7] = 0;
	assert_true(parsed(f, len)->udp_no_checksum);
	assert_int_equal(pass(f, &f->info), CONNTRACK_NEW);
	assert_int_equal(conntrack6_count(f->ct), 1);
	assert_int_equal(pass(f, udp(f, REMOTE, 3478, INSIDE, 5000)), CONNTRACK_ESTABLISHED);
}

static void test_flush_and_timeouts_override(void **state)
{
	struct fx *f = *state;
	struct conntrack_config cfg = *conntrack6_config(f->ct);

	cfg.udp_timeout = SIM_S(300);
	conntrack6_set_config(f->ct, &cfg);
	pass(f, udp(f, INSIDE, 5000, REMOTE, 3478));
	assert_int_equal(f->rec[0].expires_at, SIM_S(300));
	pass(f, udp(f, INSIDE, 5001, REMOTE, 3478));
	conntrack6_flush(f->ct, "flushed (reboot)");
	assert_int_equal(conntrack6_count(f->ct), 0);
	assert_int_equal(f->rec[f->n - 1].event, TRACE_CT_DESTROY);
	assert_string_equal(f->rec[f->n - 1].why, "flushed (reboot)");
}

/* Many flows: the table grows its buckets and still finds each by either
 * tuple. */
static void test_many_flows_found_both_ways(void **state)
{
	struct fx *f = *state;
	struct conntrack6_entry *e;
	enum conntrack_dir dir;

	for (uint16_t p = 1000; p < 1200; p++)
		assert_int_equal(pass(f, udp(f, INSIDE, p, REMOTE, 3478)), CONNTRACK_NEW);
	assert_int_equal(conntrack6_count(f->ct), 200);
	for (uint16_t p = 1000; p < 1200; p++) {
		assert_int_equal(
		    conntrack6_classify(f->ct, udp(f, REMOTE, 3478, INSIDE, p), &e, &dir),
		    CONNTRACK_ESTABLISHED);
		assert_int_equal(dir, CONNTRACK_DIR_REPLY);
		assert_int_equal(e->orig.sport, p);
	}
}

/* ---- TCP: lab_conntrack6.sh's connections over ::1 ------------------------ */

/* A connection as the lab's kernel sent it: each side's port and the next
 * sequence number it sends (0: the client, 1: the server). */
struct conn {
	uint16_t port[2];
	uint32_t next[2];
};

/* Classify, reopen, confirm and count a TCP segment as the filter does;
 * *v is what the machine said (INVALID when it never saw the segment). */
static enum conntrack_state pass_tcp(struct fx *f, enum conntrack_tcp_verdict *v)
{
	struct conntrack6_entry *e;
	enum conntrack_dir dir;
	enum conntrack_state st = conntrack6_classify(f->ct, &f->info, &e, &dir);
	struct conntrack6_tuple t;

	*v = CONNTRACK_TCP_INVALID;
	if (e != NULL && conntrack6_tcp_reopens(e, dir, &f->info)) {
		conntrack6_destroy(f->ct, e, "reopened by a new SYN");
		st = conntrack6_classify(f->ct, &f->info, &e, &dir);
	}
	if (st == CONNTRACK_NEW && e == NULL) {
		conntrack6_tuple_of(&f->info, &t);
		e = conntrack6_confirm(f->ct, &t);
		assert_non_null(e);
	}
	if (e != NULL && st != CONNTRACK_INVALID)
		*v = conntrack6_seen_tcp(f->ct, e, dir, &f->info, 60);
	return st;
}

/* Side `who` sends `flags` with `len` bytes over ::1: its next sequence
 * number, the other's as the ACK (when ACK is set), a 64 KiB window, no
 * options. */
static enum conntrack_state say(struct fx *f, struct conn *c, int who, uint8_t flags, size_t len)
{
	enum conntrack_tcp_verdict v;

	memset(&f->info, 0, sizeof(f->info));
	f->info.next_header = IPPROTO_NUM_TCP;
	f->info.hop_limit = 64;
	f->info.src = f->info.dst = a6("::1");
	f->info.sport = c->port[who];
	f->info.dport = c->port[!who];
	f->info.tcp_flags = flags;
	f->info.tcp_header_len = 20;
	f->info.tcp_seq = c->next[who];
	f->info.tcp_ack = (flags & TCP_ACK) ? c->next[!who] : 0;
	f->info.tcp_window = 65535;
	f->info.payload_len = len;
	c->next[who] += (uint32_t)len + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
	return pass_tcp(f, &v);
}

/* The handshake and a byte each way, acknowledged. */
static void established(struct fx *f, struct conn *c)
{
	assert_int_equal(say(f, c, 0, TCP_SYN, 0), CONNTRACK_NEW);
	assert_int_equal(say(f, c, 1, TCP_SYN | TCP_ACK, 0), CONNTRACK_ESTABLISHED);
	assert_int_equal(say(f, c, 0, TCP_ACK, 0), CONNTRACK_ESTABLISHED);
	assert_int_equal(say(f, c, 0, TCP_PSH | TCP_ACK, 1), CONNTRACK_ESTABLISHED);
	assert_int_equal(say(f, c, 1, TCP_ACK, 0), CONNTRACK_ESTABLISHED);
}

/* filter6_expected's reader: `line` with its timeout (third field) as a
 * placeholder, as lab_conntrack6.sh compares. */
static void without_timeout(const char *in, char *out, size_t size)
{
	const char *p = in;

	for (int field = 0; field < 2 && *p != '\0'; field++) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	snprintf(out, size, "%.*sT%s", (int)(p - in), in, p + strspn(p, "0123456789"));
}

/* Is `line` one the kernel printed (tests/lab/conntrack6_expected.txt)? */
static bool captured(const char *line)
{
	FILE *fp = fopen(NATSIM_CONNTRACK6_EXPECTED, "r");
	char buf[400], want[400], got[400];
	bool found = false;

	assert_non_null(fp);
	without_timeout(line, got, sizeof(got));
	while (!found && fgets(buf, sizeof(buf), fp) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		without_timeout(buf, want, sizeof(want));
		found = strcmp(want, got) == 0;
	}
	fclose(fp);
	return found;
}

struct listing {
	struct fx *f;
	size_t tcp;
};

/* Each TCP entry's line is the kernel's, and its timeout the state's
 * (nf_conntrack_proto_tcp.c tcp_timeouts[]; CLOSE's 10 s after an RST). */
static bool line_captured(const struct conntrack6_entry *e, void *ctx)
{
	struct listing *l = ctx;
	static const int64_t secs[] = {[CONNTRACK_TCP_SYN_SENT] = 120,
				       [CONNTRACK_TCP_ESTABLISHED] = 432000,
				       [CONNTRACK_TCP_CLOSE_WAIT] = 60,
				       [CONNTRACK_TCP_TIME_WAIT] = 120,
				       [CONNTRACK_TCP_CLOSE] = 10};
	struct trace_conntrack rec;
	struct trace_ct_tuples6 t;
	char text[320];

	if (e->orig.proto != IPPROTO_NUM_TCP)
		return true;
	conntrack6_entry_record(l->f->ct, e, &rec, &t);
	conntrack_format_record(&rec, engine_now(l->f->e), text, sizeof(text));
	if (!captured(text))
		fail_msg("not what the kernel printed: %s", text);
	assert_true(e->tcp.state < sizeof(secs) / sizeof(secs[0]) && secs[e->tcp.state] != 0);
	assert_int_equal(e->expires_at, SIM_S(secs[e->tcp.state])); /* every segment at 0 s */
	l->tcp++;
	return true;
}

/* lab_conntrack6.sh's TCP, segment by segment, all seen by one table (the
 * lab's output hook sees both directions over ::1): the table then holds
 * the six entries the kernel listed, line for line. */
static void test_tcp_lab_connections(void **state)
{
	struct fx *f = *state;
	struct conn est = {{40002, 8080}, {1000, 5000}}, cw = {{40004, 8081}, {2000, 6000}},
		    tw = {{40005, 8082}, {3000, 7000}}, cl = {{40006, 8083}, {4000, 8000}},
		    ss = {{40003, 9999}, {5000, 0}}, ref = {{40007, 9998}, {6000, 0}},
		    so = {{40010, 40011}, {7000, 9000}};
	struct listing l = {.f = f};

	established(f, &est);
	established(f, &cw);
	say(f, &cw, 0, TCP_FIN | TCP_ACK, 0); /* shutdown(SHUT_WR) */
	say(f, &cw, 1, TCP_ACK, 0);
	established(f, &tw);
	say(f, &tw, 0, TCP_FIN | TCP_ACK, 0);
	say(f, &tw, 1, TCP_ACK, 0);
	say(f, &tw, 1, TCP_FIN | TCP_ACK, 0);
	say(f, &tw, 0, TCP_ACK, 0);
	established(f, &cl);
	say(f, &cl, 0, TCP_RST | TCP_ACK, 0); /* SO_LINGER 0, close */
	say(f, &ss, 0, TCP_SYN, 0);	      /* dropped after conntrack saw it */
	say(f, &ref, 0, TCP_SYN, 0);
	assert_int_equal(say(f, &ref, 1, TCP_RST | TCP_ACK, 0), CONNTRACK_ESTABLISHED);
	say(f, &so, 0, TCP_SYN, 0); /* dropped at input: b's SYN crosses it */
	assert_int_equal(say(f, &so, 1, TCP_SYN, 0), CONNTRACK_ESTABLISHED);
	so.next[0]--; /* a answers b's SYN: a SYN/ACK with its own ISN again */
	say(f, &so, 0, TCP_SYN | TCP_ACK, 0);
	say(f, &so, 1, TCP_ACK, 0);
	engine_run_until(f->e, SIM_MS(200));
	conntrack6_foreach(f->ct, line_captured, &l);
	assert_int_equal(l.tcp, 6);
	assert_int_equal(conntrack6_count(f->ct), 6); /* the refused one is gone */
}

/* conntrack -E's events for a handshake (the NEW one carries SYN_SENT), an
 * RST the only reply (the entry goes), a SYN reopening a flow in TIME_WAIT,
 * and what is INVALID and why. */
static void test_tcp_events_reopen_and_invalid(void **state)
{
	struct fx *f = *state;
	struct conn c = {{40002, 8080}, {1000, 5000}}, ref = {{40007, 9998}, {6000, 0}},
		    w = {{40003, 443}, {1, 1}};
	struct conntrack6_entry *e;
	enum conntrack_dir dir;
	char text[64];

	established(f, &c);
	assert_int_equal(f->rec[0].event, TRACE_CT_NEW);
	conntrack_format_tcp_state(&f->rec[0], text, sizeof(text));
	assert_string_equal(text, "SYN_SENT [UNREPLIED]");
	conntrack_format_tcp_state(&f->rec[1], text, sizeof(text));
	assert_string_equal(text, "SYN_RECV");
	conntrack_format_tcp_state(&f->rec[2], text, sizeof(text));
	assert_string_equal(text, "ESTABLISHED [ASSURED]");
	assert_int_equal(f->rec[2].event, TRACE_CT_UPDATE);
	say(f, &ref, 0, TCP_SYN, 0);
	say(f, &ref, 1, TCP_RST | TCP_ACK, 0);
	assert_int_equal(f->rec[f->n - 1].event, TRACE_CT_DESTROY);
	assert_string_equal(f->rec[f->n - 1].why, "reset before any reply");
	/* close both ways, then the client's port again: a new flow */
	say(f, &c, 0, TCP_FIN | TCP_ACK, 0);
	say(f, &c, 1, TCP_FIN | TCP_ACK, 0);
	say(f, &c, 0, TCP_ACK, 0);
	c.next[0] += 100000;
	assert_int_equal(say(f, &c, 0, TCP_SYN, 0), CONNTRACK_NEW);
	assert_string_equal(f->rec[f->n - 2].why, "reopened by a new SYN");
	assert_int_equal(f->rec[f->n - 1].event, TRACE_CT_NEW);
	assert_int_equal(conntrack6_count(f->ct), 1);
	/* SYN+FIN: no TCP sends it (tcp_error) */
	say(f, &c, 0, TCP_SYN | TCP_FIN, 0);
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	assert_int_equal(conntrack6_tcp_invalid_cause(e, &f->info), CONNTRACK_INVALID_FLAGS);
	/* a SYN/ACK nobody asked for cannot start a flow (tcp_new) */
	ref.next[1] = 1;
	assert_int_equal(say(f, &ref, 1, TCP_SYN | TCP_ACK, 0), CONNTRACK_INVALID);
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	assert_int_equal(conntrack6_tcp_invalid_cause(e, &f->info), CONNTRACK_INVALID_NEW);
	/* far outside the window of the flow it belongs to (tcp_in_window) */
	established(f, &w);
	w.next[1] += 1u << 30;
	assert_int_equal(say(f, &w, 1, TCP_ACK, 0), CONNTRACK_INVALID);
	assert_int_equal(conntrack6_classify(f->ct, &f->info, &e, &dir), CONNTRACK_INVALID);
	assert_non_null(e);
	assert_int_equal(conntrack6_tcp_invalid_cause(e, &f->info), CONNTRACK_INVALID_SEGMENT);
	assert_int_equal(conntrack6_count(f->ct), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_udp_unreplied_then_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_expires_exactly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmpv6_echo_by_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_related_or_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untracked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_checksum_tracked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_and_timeouts_override, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_flows_found_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_lab_connections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_events_reopen_and_invalid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
