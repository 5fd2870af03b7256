/*
 * cmd_peer.c - `natsim peer`: the agent (p2p/agent.h) on a real UDP socket,
 * driven by app/net/daemon.c. Runs until what was asked for happened (exit 0),
 * or it failed or timed out (exit 1).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/net/candidates.h"
#include "app/net/daemon.h"
#include "app/net/daemon_tcp.h"
#include "app/net/gateway.h"
#include "app/net/keyfile.h"
#include "app/net/local6.h"
#include "app/lang/scenario.h"
#include "app/lang/units.h"
#include "p2p/agent.h"

const char cmd_peer_usage[] =
    "Usage: natsim peer --name NAME --coord ADDR:PORT [--coord6 [ADDR6]:PORT] [OPTIONS]\n"
    "\n"
    "Run a peer on a real UDP socket (TCP with --tcp): register with the\n"
    "coordinator, and optionally meet another peer through it (hole punching,\n"
    "relay fallback), send and receive sealed data, or discover the NAT in\n"
    "front of us.\n"
    "State changes, the chosen path and received data are printed as they happen.\n"
    "\n"
    "What counts as success (all that apply must happen before --timeout):\n"
    "  - registered with the coordinator (unless --no-register)\n"
    "  - with --connect PEER: a path to PEER, direct or relayed\n"
    "  - with --send TEXT: TEXT sent (to PEER, or without --connect to the first\n"
    "    peer that connects to us)\n"
    "  - with --expect-data: at least one message received\n"
    "  - with --classify: the NAT classified (the coordinator needs --alternate)\n"
    "Then the peer exits 0, or first keeps serving for --linger (answering\n"
    "checks, relaying keepalives, echoing with --echo). Without --connect,\n"
    "--send, --expect-data and --classify it only registers.\n"
    "\n"
    "Options:\n"
    "  -n, --name NAME       our name at the coordinator (1-63 bytes, required)\n"
    "  -c, --coord ADDR:PORT the coordinator's primary endpoint (required):\n"
    "                        10.0.0.1:3478, or [2001:db8::10]:3478 for a peer\n"
    "                        speaking IPv6 alone\n"
    "      --coord6 [ADDR6]:PORT\n"
    "                        a dual-stack coordinator's IPv6 endpoint, beside an\n"
    "                        IPv4 --coord\n"
    "  -k, --key FILE        identity from 'natsim keygen' (default: a fresh random\n"
    "                        one, so the name is ours only while we stay registered)\n"
    "  -p, --port P          local UDP port, 0-65535 (default 0: any free port)\n"
    "  -b, --bind ADDR       local address, IPv4 or IPv6, once per family\n"
    "                        (default: all; host candidates are then the\n"
    "                        addresses of our interfaces, never loopback ones\n"
    "                        (RFC 8445 5.1.1.1): peers on one machine meet through\n"
    "                        the address the coordinator sees; with --bind, ADDR\n"
    "                        is the one host candidate of its family, even\n"
    "                        127.0.0.1 or ::1)\n"
    "  -C, --connect PEER    ask the coordinator to introduce us to PEER\n"
    "  -s, --send TEXT       send TEXT once a path exists\n"
    "  -e, --expect-data     succeed only after receiving a message\n"
    "  -E, --echo            send every message received back to its sender\n"
    "  -K, --classify        discover our NAT's mapping and filtering (RFC 5780)\n"
    "  -T, --tcp             speak TCP instead of UDP: register over a TCP\n"
    "                        connection to the coordinator, listen on the same\n"
    "                        port (SO_REUSEADDR, SO_REUSEPORT) and punch by\n"
    "                        connecting from it to the other's candidates, both\n"
    "                        at once (simultaneous open, RFC 5128 3.4); --port is\n"
    "                        then a TCP port (not with --classify)\n"
    "  -N, --no-register     with --classify: only classify, against any RFC 5780\n"
    "                        STUN server (stund, for instance), without registering\n"
    "  -j, --json            one JSON object per line for each event and the result\n"
    "  -t, --timeout DUR     give up after DUR, 100ms-24h (default 20s; 0: never)\n"
    "  -l, --linger DUR      keep serving DUR after success, 0-24h (default 0)\n"
    "  -a, --keepalive DUR   keepalive interval to the coordinator, 100ms-1h\n"
    "                        (default 25s); a chosen path is kept by consent checks\n"
    "                        every 4-6 s (RFC 7675); 0 or off disables both\n"
    "\n"
    "Against hard NATs (UDP only; natsim(1), peer):\n"
    "  --techniques LIST     what to try beyond ICE's checks: a comma-separated\n"
    "                        list of prediction, birthday, port-mapping, or all,\n"
    "                        or none (default none)\n"
    "  --probe-rate N        the birthday search's sends per second, 1-1000\n"
    "                        (default 100)\n"
    "  --probes N            probes per introduction, the birthday sockets' first\n"
    "                        sends included, 1-65536 (default 2048)\n"
    "  --sockets K           extra sockets a random-port side opens for the\n"
    "                        birthday search, 1-1024 (default 256)\n"
    "  --prediction-window N predicted ports probed past a sequential NAT's\n"
    "                        next one, 1-64 (default 8)\n"
    "  --port-mapping on|off the technique port-mapping alone (--techniques\n"
    "                        port-mapping): ask the router for a mapping of our\n"
    "                        port (PCP, else NAT-PMP: RFC 6887, RFC 6886) and offer\n"
    "                        it to peers as a \"mapped\" candidate; renewed at half\n"
    "                        its lifetime, deleted when the peer exits. Off by\n"
    "                        default: it opens a port of the router to anyone for\n"
    "                        two hours, which the user should choose (Tailscale\n"
    "                        asks by default), and the first CONNECT waits for the\n"
    "                        answer (at most 2 s from a router that stays silent)\n"
    "  --gateway ADDR        the router to ask (default: the gateway of the IPv4\n"
    "                        default route, /proc/net/route); implies port-mapping\n"
    "                        unless --port-mapping off\n"
    "  -h, --help            show this help\n"
    "\n"
    "IPv6: with --coord6 beside an IPv4 --coord, a UDP peer also opens an IPv6\n"
    "socket (on the same port when it is free), on its IPv6 --bind or, when\n"
    "this machine has one, on an IPv6 address a peer elsewhere can reach:\n"
    "global or unique local, not link-local, loopback, tentative or\n"
    "deprecated (natsim(1), peer). It registers over both families, offers\n"
    "host candidates of both, and checks IPv6 pairs first (RFC 8421). The\n"
    "techniques above are IPv4's; --tcp speaks the coordinator's family alone.\n"
    "\n"
    "A duration always has a unit: ns, us, ms, s, min or h (500ms, 20s, 1.5min).\n"
    "SIGINT/SIGTERM stop the peer (exit 0 if it had succeeded, else 1).\n"
    "Exit status: 0 success, 1 failed or timed out, 2 bad usage, unreadable key\n"
    "file or unusable address, 3 internal error.\n";

/* The usage says 1-1024 sockets; the daemon's table holds as many. */
_Static_assert(AGENT_MAX_SOCKETS == 1024 && DAEMON_MAX_EXTRA == AGENT_MAX_SOCKETS,
	       "--sockets' range in cmd_peer_usage and the daemon's extra sockets");

/* --techniques and the budgets: agent_config's fields of the same names
 * (0: the agent's default). */
struct peer_hard_args {
	unsigned techniques;
	unsigned probe_rate, probe_budget, sockets, prediction_window;
	int port_mapping; /* --port-mapping: 1 on, 0 off, -1 not given */
	uint32_t gateway; /* --gateway, host order; 0: the default route's */
};

struct peer_args {
	const char *name, *key, *connect, *send;
	struct peer_hard_args hard;
	struct p2p_endpoint coord, bind;
	struct p2p_endpoint bind4, bind6; /* --bind of each family (settle_bind) */
	bool has_bind4, has_bind6;
	struct p2p_endpoint coord6; /* --coord6: a dual-stack coordinator's IPv6 endpoint */
	bool has_coord6;
	bool dual; /* an IPv6 socket beside the IPv4 one (settle_bind) */
	bool has_coord, expect_data, echo, classify, json, has_keepalive, no_register, tcp;
	uint64_t timeout_ns, linger_ns, keepalive_ns;
	uint16_t port; /* --port */
};

struct peer_run {
	const struct peer_args *args;
	struct agent *agent;
	struct daemon_tcp tcp;	    /* --tcp: the agent's connections */
	struct daemon_extra extra;  /* UDP: the agent's extra sockets (agent.h) */
	struct p2p_endpoint local;  /* the agent's config.local (net_host_candidates) */
	struct p2p_endpoint bound6; /* a dual-stack peer's IPv6 socket */
	struct p2p_endpoint local6; /* its first IPv6 host candidate (on_icmp_error) */
	bool has6;
	bool registered, connected, sent, received, classified, failed, done;
	uint64_t ignored; /* datagrams the agent refused; the first IGNORED_LOGGED are logged */
	const char *path; /* "direct" or "relayed" for --connect's peer */
	char path_text[256];
	char fail_text[256];
};

/* ---- output ---- */

#define IGNORED_LOGGED 10 /* a flood is counted, not printed line by line */

static void print_data_text(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\')
			putchar(data[i]);
		else
			printf("\\x%02x", data[i]);
	}
}

static void event_json(const struct p2p_event *ev, const char *ts)
{
	char l[P2P_ENDPOINT_STRLEN], r[P2P_ENDPOINT_STRLEN];
	json_t *o = json_pack("{s:s, s:s}", "time", ts, "event", agent_event_name(ev->type));
	if (ev->peer[0])
		json_object_set_new(o, "peer", json_string(ev->peer));
	if (ev->type == AGENT_EV_DIRECT || ev->type == AGENT_EV_UPGRADED ||
	    ev->type == AGENT_EV_PAIR_FAILED) {
		json_object_set_new(o, "local",
				    json_string(p2p_endpoint_format(&ev->local, l, sizeof(l))));
		json_object_set_new(o, "remote",
				    json_string(p2p_endpoint_format(&ev->remote, r, sizeof(r))));
	}
	if (ev->type == AGENT_EV_DATA_RECEIVED) {
		char hex[2 * AGENT_MAX_DATA + 1];
		json_t *s = json_stringn((const char *)ev->data, ev->data_len);
		keyfile_hex(ev->data, ev->data_len, hex);
		json_object_set_new(o, "data", s ? s : json_null()); /* null: not UTF-8 */
		json_object_set_new(o, "data_hex", json_string(hex));
	}
	if (ev->type == AGENT_EV_NAT_CLASSIFIED && ev->nat.ok) {
		json_object_set_new(o, "nat", json_string(ev->nat.classic_name));
		json_object_set_new(o, "mapping",
				    json_string(discovery_behaviour_name(ev->nat.mapping)));
		json_object_set_new(o, "filtering",
				    json_string(discovery_behaviour_name(ev->nat.filtering)));
		json_object_set_new(
		    o, "mapped", json_string(p2p_endpoint_format(&ev->nat.mapped, l, sizeof(l))));
	}
	json_object_set_new(o, "text", json_string(ev->text));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

static void print_event(const struct peer_run *pr, const struct p2p_event *ev)
{
	char ts[40];
	daemon_timestamp(ts, sizeof(ts));
	if (pr->args->json) {
		event_json(ev, ts);
	} else {
		printf("%s %s%s%s: %s\n", ts, agent_event_name(ev->type), ev->peer[0] ? " " : "",
		       ev->peer, ev->text);
		if (ev->type == AGENT_EV_DATA_RECEIVED) {
			printf("data from %s: ", ev->peer);
			print_data_text(ev->data, ev->data_len);
			putchar('\n');
		}
	}
	fflush(stdout);
}

static void print_result(const struct peer_run *pr, bool ok, const char *why)
{
	const struct peer_args *a = pr->args;
	if (a->json) {
		json_t *o = json_pack("{s:s, s:b, s:s}", "event", "result", "ok", ok, "why", why);
		if (a->connect)
			json_object_set_new(o, "path",
					    pr->path ? json_string(pr->path) : json_null());
		if (pr->path_text[0])
			json_object_set_new(o, "path_text", json_string(pr->path_text));
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("result: %s: %s\n", ok ? "ok" : "failed", why);
		if (a->connect)
			printf("path: %s%s%s\n", pr->path ? pr->path : "none",
			       pr->path_text[0] ? ": " : "", pr->path_text);
	}
	fflush(stdout);
}

/* ---- the goal ---- */

static bool goal_reached(const struct peer_run *pr)
{
	const struct peer_args *a = pr->args;
	return (pr->registered || a->no_register) && (!a->connect || pr->connected) &&
	       (!a->send || pr->sent) && (!a->expect_data || pr->received) &&
	       (!a->classify || pr->classified);
}

static void send_text(struct peer_run *pr, uint64_t now, const char *peer)
{
	const char *t = pr->args->send;
	if (!t || pr->sent)
		return;
	if (agent_send(pr->agent, now, peer, (const uint8_t *)t, strlen(t)) == AGENT_OK)
		pr->sent = true;
}

static void on_path(struct peer_run *pr, uint64_t now, const struct p2p_event *ev)
{
	const struct peer_args *a = pr->args;
	bool ours = !a->connect || strcmp(ev->peer, a->connect) == 0;
	if (!ours)
		return;
	if (a->connect) {
		pr->connected = true;
		pr->path = ev->type == AGENT_EV_RELAYED ? "relayed" : "direct";
		snprintf(pr->path_text, sizeof(pr->path_text), "%s", ev->text);
	}
	send_text(pr, now, ev->peer);
}

static void on_event(struct peer_run *pr, uint64_t now, const struct p2p_event *ev)
{
	const struct peer_args *a = pr->args;
	switch (ev->type) {
	case AGENT_EV_REGISTERED:
		pr->registered = true;
		break;
	case AGENT_EV_DIRECT:
	case AGENT_EV_RELAYED:
	case AGENT_EV_UPGRADED:
		on_path(pr, now, ev);
		break;
	case AGENT_EV_DATA_RECEIVED:
		pr->received = true;
		if (a->echo)
			agent_send(pr->agent, now, ev->peer, ev->data, ev->data_len);
		break;
	case AGENT_EV_NAT_CLASSIFIED:
		pr->classified = ev->nat.ok;
		if (!ev->nat.ok)
			snprintf(pr->fail_text, sizeof(pr->fail_text), "%s", ev->text);
		pr->failed |= !ev->nat.ok;
		break;
	case AGENT_EV_FAILED:
		/* Only failures we asked about end the run. */
		if (!ev->peer[0] || (a->connect && strcmp(ev->peer, a->connect) == 0)) {
			pr->failed = true;
			snprintf(pr->fail_text, sizeof(pr->fail_text), "%s", ev->text);
		}
		break;
	default:
		break;
	}
}

/* ---- driver callbacks ---- */

/* Says (for the first few) that the agent refused a datagram, and why. */
static void print_ignored(const struct peer_run *pr, const struct p2p_endpoint *from, size_t len,
			  int err)
{
	char ts[40], ep[P2P_ENDPOINT_STRLEN];
	daemon_timestamp(ts, sizeof(ts));
	p2p_endpoint_format(from, ep, sizeof(ep));
	const char *last = pr->ignored == IGNORED_LOGGED ? " (further ones are only counted)" : "";
	if (pr->args->json) {
		json_t *o =
		    json_pack("{s:s, s:s, s:s, s:I, s:s}", "time", ts, "event", "ignored", "from",
			      ep, "bytes", (json_int_t)len, "why", agent_error_str(err));
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("%s ignored: a %zu-byte datagram from %s: %s%s\n", ts, len, ep,
		       agent_error_str(err), last);
	}
	fflush(stdout);
}

static int on_input(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		    const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	struct peer_run *pr = ctx;
	(void)local;
	int err = agent_input(pr->agent, now, from, buf, len);
	if (err == AGENT_OK)
		return 0;
	if (++pr->ignored <= IGNORED_LOGGED)
		print_ignored(pr, from, len, err);
	return -1;
}

/* A datagram on extra socket k (the birthday search's, agent.h). */
static int on_input_socket(void *ctx, uint64_t now, uint16_t k, const struct p2p_endpoint *from,
			   const uint8_t *buf, size_t len)
{
	struct peer_run *pr = ctx;
	int err = agent_input_socket(pr->agent, now, k, from, buf, len);
	if (err == AGENT_OK)
		return 0;
	if (++pr->ignored <= IGNORED_LOGGED)
		print_ignored(pr, from, len, err);
	return -1;
}

static bool socket_wanted(void *ctx, uint16_t k)
{
	return agent_socket_wanted(((struct peer_run *)ctx)->agent, k);
}

/* An ICMP error from the socket's error queue: the agent decides what it
 * means (agent_handle_icmp_error); its events say it. A socket bound to any
 * address reports its local endpoint as 0.0.0.0:port (or [::]:port), while
 * the agent knows itself by the address net_host_candidates chose: the
 * kernel matched the quoted datagram to our socket (__udp4_lib_err,
 * __udp6_lib_err), so it is that one. */
static void on_icmp_error(void *ctx, uint64_t now, const struct p2p_endpoint *local,
			  const struct p2p_icmp_error *err)
{
	struct peer_run *pr = ctx;
	struct p2p_icmp_error e = *err;
	(void)local;
	const struct p2p_endpoint *self = e.local.family == pr->local.family ? &pr->local
					  : pr->has6			     ? &pr->local6
									     : NULL;
	if (!p2p_endpoint_has_addr(&e.local) && self != NULL && self->family == e.local.family) {
		uint16_t port = e.local.port;
		e.local = *self;
		e.local.port = port;
	}
	agent_handle_icmp_error(pr->agent, now, &e);
}

static void on_tick(void *ctx, uint64_t now)
{
	agent_tick(((struct peer_run *)ctx)->agent, now);
}

static uint64_t on_deadline(void *ctx)
{
	return agent_next_deadline(((struct peer_run *)ctx)->agent);
}

static bool on_flush(void *ctx, struct daemon *d, uint64_t now)
{
	struct peer_run *pr = ctx;
	struct p2p_datagram dg;
	struct p2p_event ev;
	struct p2p_tcp_action act;
	do { /* until no connect failed at once (its report makes more to do) */
		/* Events first: they may queue datagrams (send, echo). */
		while (agent_pop_event(pr->agent, &ev)) {
			print_event(pr, &ev);
			on_event(pr, now, &ev);
		}
		while (agent_pop_tcp(pr->agent, &act))
			daemon_tcp_do(&pr->tcp, &act);
		while (agent_pop_datagram(pr->agent, &dg))
			daemon_send(d, &dg); /* socket k > 0: opened on first use */
	} while (daemon_tcp_report_failed(&pr->tcp, now) > 0);
	/* The extra sockets the agent is done with (agent.h: ask after every
	 * call). */
	if (d->extra)
		daemon_extra_prune(d->extra, socket_wanted, pr);
	if (pr->failed)
		return true;
	if (!pr->done && goal_reached(pr)) {
		pr->done = true;
		if (pr->args->linger_ns == 0)
			return true;
		d->until_ns = now + pr->args->linger_ns;
	}
	return false;
}

/* ---- set-up ---- */

/* The ranges of the duration flags (natsim.1). --keepalive keeps to the
 * scenario language's range: the same agent runs in both. */
static const struct units_setting peer_timeout = {
    .what = "a timeout",
    .min_ns = 100 * UNITS_NS_PER_MS,
    .max_ns = 24 * UNITS_NS_PER_H,
    .zero_word = "0",
    .zero_means = "no time limit",
};
static const struct units_setting peer_linger = {
    .what = "a linger time",
    .min_ns = 0,
    .max_ns = 24 * UNITS_NS_PER_H,
    .zero_word = "0",
    .zero_means = "none",
};
static const struct units_setting peer_keepalive = {
    .what = "a keepalive interval",
    .min_ns = SCENARIO_KEEPALIVE_MIN_NS,
    .max_ns = SCENARIO_KEEPALIVE_MAX_NS,
    .zero_word = "0",
    .zero_word2 = "off",
    .zero_means = "no keepalives",
};

static int parse_dur(const char *flag, const char *text, const struct units_setting *set,
		     uint64_t *ns)
{
	int64_t v;
	if (cli_duration_flag("peer", flag, text, set, &v))
		return CLI_EXIT_USAGE;
	*ns = (uint64_t)v;
	return 0;
}

/* --coord: the coordinator's ADDR:PORT, neither of them zero. */
static int parse_coord(const char *arg, struct peer_args *a)
{
	a->has_coord = true;
	if (p2p_endpoint_parse(arg, &a->coord) < 0 || a->coord.port == 0 ||
	    !p2p_endpoint_has_addr(&a->coord))
		return cli_usage_error("peer",
				       "--coord expects ADDR:PORT (like 10.0.0.1:3478 or "
				       "[2001:db8::10]:3478), not '%s'",
				       arg);
	return 0;
}

/* --port: the local UDP port to bind; 0 lets the kernel pick a free one. */
static int parse_port(const char *arg, struct peer_args *a)
{
	uint64_t port;
	if (cli_count_flag("peer", "--port", "a port", arg, 0, 65535, &port))
		return CLI_EXIT_USAGE;
	a->port = (uint16_t)port;
	return 0;
}

/* --bind: the local address to bind, IPv4 (kept in host order like p2p's)
 * or IPv6. */
static int parse_bind(const char *arg, struct peer_args *a)
{
	struct in_addr in;
	uint8_t in6[16];
	bool *has = inet_pton(AF_INET, arg, &in) == 1 ? &a->has_bind4 : &a->has_bind6;
	if (has == &a->has_bind6 && inet_pton(AF_INET6, arg, in6) != 1)
		return cli_usage_error("peer", "--bind expects an IPv4 or IPv6 address, not '%s'",
				       arg);
	if (*has)
		return cli_usage_error("peer", "--bind is given twice for IPv%d (once per family)",
				       has == &a->has_bind6 ? 6 : 4);
	*has = true;
	if (has == &a->has_bind4)
		a->bind4 = p2p_endpoint4(ntohl(in.s_addr), 0);
	else
		a->bind6 = p2p_endpoint6(in6, 0);
	return 0;
}

/* --coord6: a dual-stack coordinator's IPv6 endpoint, beside an IPv4 --coord. */
static int parse_coord6(const char *arg, struct peer_args *a)
{
	a->has_coord6 = true;
	if (p2p_endpoint_parse(arg, &a->coord6) < 0 || !p2p_endpoint_is6(&a->coord6) ||
	    a->coord6.port == 0 || !p2p_endpoint_has_addr(&a->coord6))
		return cli_usage_error("peer",
				       "--coord6 expects [IPV6]:PORT (like [2001:db8::10]:3478), "
				       "not '%s'",
				       arg);
	return 0;
}

/* Whether this machine has an IPv6 address a peer elsewhere could reach
 * (app/net/local6.h: global or unique local, not tentative or deprecated). */
static bool has_usable_ipv6(void)
{
	uint8_t one[1][16];
	return net_local_addresses6(one, 1, false) > 0;
}

/* The sockets the agent speaks from. The first is of the coordinator's
 * family, on --bind's address of that family (any address without one)
 * and --port. An IPv4 peer over UDP with a dual-stack coordinator
 * (--coord6) also opens an IPv6 socket (dual: agent.h's config.local6),
 * on its IPv6 --bind, else on any address when this machine has an IPv6
 * address a peer elsewhere can reach (local6.h); without one it stays
 * IPv4, and says so (run). The agent speaks IPv6 beside IPv4 only with the
 * coordinator's IPv6 endpoint to register with (agent_dual.c). */
static int settle_bind(struct peer_args *a)
{
	const struct p2p_endpoint any6 = p2p_endpoint6((const uint8_t[16]){0}, 0);
	bool six = p2p_endpoint_is6(&a->coord);
	if (six && a->has_bind4)
		return cli_usage_error("peer", "--bind names an IPv4 address, but the "
					       "coordinator is IPv6 (give an IPv4 --coord and "
					       "--coord6 for both families)");
	if (six && a->has_coord6)
		return cli_usage_error("peer", "--coord6 goes with an IPv4 --coord (a dual-stack "
					       "coordinator's two endpoints)");
	a->bind = six ? (a->has_bind6 ? a->bind6 : any6)
		      : (a->has_bind4 ? a->bind4 : p2p_endpoint4(0, 0));
	a->bind.port = a->port;
	if (!six && a->has_bind6 && !a->has_coord6)
		return cli_usage_error("peer", "an IPv6 --bind beside an IPv4 --coord needs the "
					       "coordinator's IPv6 endpoint (--coord6)");
	if (a->tcp && a->has_coord6)
		return cli_usage_error("peer", "--tcp speaks one family, the coordinator's: not "
					       "with --coord6");
	a->dual = a->has_coord6 && (a->has_bind6 || has_usable_ipv6());
	if (!a->has_bind6)
		a->bind6 = any6;
	a->bind6.port = a->port;
	return 0;
}

/* Long options without a short letter. */
enum {
	OPT_TECHNIQUES = 0x1700,
	OPT_PROBE_RATE,
	OPT_PROBES,
	OPT_SOCKETS,
	OPT_PREDICTION_WINDOW,
	OPT_PORT_MAPPING,
	OPT_GATEWAY,
	OPT_COORD6,
};

/* One name of --techniques' list: its bits, 0 if it is none of them. */
static unsigned technique_bits(const char *name, size_t len)
{
	if (len == 3 && strncmp(name, "all", 3) == 0)
		return AGENT_TECH_ALL;
	for (unsigned bit = 1; bit & AGENT_TECH_ALL; bit <<= 1) {
		const char *n = agent_technique_name(bit);
		if (strlen(n) == len && strncmp(name, n, len) == 0)
			return bit;
	}
	return 0;
}

/* --techniques prediction,birthday,port-mapping | all | none. */
static int parse_techniques(const char *arg, struct peer_hard_args *h)
{
	h->techniques = 0;
	if (strcmp(arg, "none") == 0)
		return 0;
	for (const char *p = arg;; p++) {
		size_t len = strcspn(p, ",");
		unsigned bits = technique_bits(p, len);
		if (bits == 0)
			return cli_usage_error("peer",
					       "--techniques expects a comma-separated list of "
					       "prediction, birthday, port-mapping, or all or "
					       "none, not '%s'",
					       arg);
		h->techniques |= bits;
		p += len;
		if (*p == '\0')
			return 0;
	}
}

/* --port-mapping on|off. */
static int parse_port_mapping(const char *arg, struct peer_hard_args *h)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
		return cli_usage_error("peer", "--port-mapping expects on or off, not '%s'", arg);
	h->port_mapping = strcmp(arg, "on") == 0;
	return 0;
}

/* --gateway: the router to ask, an IPv4 address (not 0). */
static int parse_gateway(const char *arg, struct peer_hard_args *h)
{
	struct in_addr in;
	if (inet_pton(AF_INET, arg, &in) != 1 || in.s_addr == 0)
		return cli_usage_error("peer",
				       "--gateway expects a router's IPv4 address, not '%s'", arg);
	h->gateway = ntohl(in.s_addr);
	return 0;
}

/* --port-mapping and --gateway into the technique bits: --port-mapping
 * on|off wins over --techniques; --gateway alone asks that router. */
static void settle_port_mapping(struct peer_hard_args *h)
{
	if (h->port_mapping == 1 || (h->port_mapping < 0 && h->gateway != 0))
		h->techniques |= AGENT_TECH_PORT_MAPPING;
	else if (h->port_mapping == 0)
		h->techniques &= ~(unsigned)AGENT_TECH_PORT_MAPPING;
}

/* The budgets of agent.h "Hard NATs", each within the range natsim.1 gives. */
static int parse_hard_opt(int ch, struct peer_hard_args *h)
{
	uint64_t v;
	switch (ch) {
	case OPT_TECHNIQUES:
		return parse_techniques(optarg, h);
	case OPT_PORT_MAPPING:
		return parse_port_mapping(optarg, h);
	case OPT_GATEWAY:
		return parse_gateway(optarg, h);
	case OPT_PROBE_RATE:
		if (cli_count_flag("peer", "--probe-rate", "a rate", optarg, 1, 1000, &v))
			return CLI_EXIT_USAGE;
		h->probe_rate = (unsigned)v;
		return 0;
	case OPT_PROBES:
		if (cli_count_flag("peer", "--probes", "a count", optarg, 1, 65535, &v))
			return CLI_EXIT_USAGE;
		h->probe_budget = (unsigned)v;
		return 0;
	case OPT_SOCKETS:
		if (cli_count_flag("peer", "--sockets", "a count", optarg, 1, AGENT_MAX_SOCKETS,
				   &v))
			return CLI_EXIT_USAGE;
		h->sockets = (unsigned)v;
		return 0;
	case OPT_PREDICTION_WINDOW:
		/* As the language's range: the checklist holds them with room to spare. */
		if (cli_count_flag("peer", "--prediction-window", "a count", optarg, 1, 64, &v))
			return CLI_EXIT_USAGE;
		h->prediction_window = (unsigned)v;
		return 0;
	default:
		return -1;
	}
}

static int parse_opt(int ch, struct peer_args *a)
{
	switch (ch) {
	case 'n':
		a->name = optarg;
		return 0;
	case 'k':
		a->key = optarg;
		return 0;
	case 'C':
		a->connect = optarg;
		return 0;
	case 's':
		a->send = optarg;
		return 0;
	case 'e':
		a->expect_data = true;
		return 0;
	case 'E':
		a->echo = true;
		return 0;
	case 'K':
		a->classify = true;
		return 0;
	case 'N':
		a->no_register = true;
		return 0;
	case 'j':
		a->json = true;
		return 0;
	case 'T':
		a->tcp = true;
		return 0;
	case 't':
		return parse_dur("--timeout", optarg, &peer_timeout, &a->timeout_ns);
	case 'l':
		return parse_dur("--linger", optarg, &peer_linger, &a->linger_ns);
	case 'a':
		a->has_keepalive = true;
		return parse_dur("--keepalive", optarg, &peer_keepalive, &a->keepalive_ns);
	case 'c':
		return parse_coord(optarg, a);
	case OPT_COORD6:
		return parse_coord6(optarg, a);
	case 'p':
		return parse_port(optarg, a);
	case 'b':
		return parse_bind(optarg, a);
	default:
		return parse_hard_opt(ch, &a->hard);
	}
}

/* What the options ask together: the required ones given, and no two that
 * cannot go together. 0, or the usage error's exit code. */
static int check_args(struct peer_args *a)
{
	if (!a->name || !*a->name || strlen(a->name) >= AGENT_NAME_MAX)
		return cli_usage_error("peer", "--name NAME is required (1-%d bytes)",
				       AGENT_NAME_MAX - 1);
	if (!a->has_coord)
		return cli_usage_error("peer", "--coord ADDR:PORT is required");
	if (settle_bind(a))
		return CLI_EXIT_USAGE;
	if (a->send && strlen(a->send) > AGENT_MAX_DATA)
		return cli_usage_error("peer", "--send TEXT is limited to %d bytes",
				       AGENT_MAX_DATA);
	if (a->no_register && (a->connect || a->send || a->expect_data || !a->classify))
		return cli_usage_error("peer",
				       "--no-register goes with --classify alone (connecting "
				       "and sending need a registration)");
	settle_port_mapping(&a->hard);
	if (a->tcp && a->hard.techniques)
		return cli_usage_error("peer", "--techniques are UDP's (prediction, birthday "
					       "and port mapping): not with --tcp");
	if (p2p_endpoint_is6(&a->coord) && a->hard.techniques)
		return cli_usage_error("peer", "--techniques are for IPv4 NATs (prediction, "
					       "birthday and port mapping): not with an IPv6 "
					       "coordinator");
	if (a->tcp && a->classify)
		return cli_usage_error("peer", "--classify is RFC 5780 discovery over UDP: not "
					       "with --tcp");
	if (a->connect && strcmp(a->connect, a->name) == 0)
		return cli_usage_error("peer", "--connect names ourselves ('%s')", a->name);
	return 0;
}

static int parse_args(int argc, char **argv, struct peer_args *a)
{
	static const struct option longopts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"coord", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"port", required_argument, NULL, 'p'},
	    {"bind", required_argument, NULL, 'b'},
	    {"connect", required_argument, NULL, 'C'},
	    {"send", required_argument, NULL, 's'},
	    {"expect-data", no_argument, NULL, 'e'},
	    {"echo", no_argument, NULL, 'E'},
	    {"classify", no_argument, NULL, 'K'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"no-register", no_argument, NULL, 'N'},
	    {"linger", required_argument, NULL, 'l'},
	    {"keepalive", required_argument, NULL, 'a'},
	    {"tcp", no_argument, NULL, 'T'},
	    {"techniques", required_argument, NULL, OPT_TECHNIQUES},
	    {"probe-rate", required_argument, NULL, OPT_PROBE_RATE},
	    {"probes", required_argument, NULL, OPT_PROBES},
	    {"sockets", required_argument, NULL, OPT_SOCKETS},
	    {"prediction-window", required_argument, NULL, OPT_PREDICTION_WINDOW},
	    {"port-mapping", required_argument, NULL, OPT_PORT_MAPPING},
	    {"gateway", required_argument, NULL, OPT_GATEWAY},
	    {"coord6", required_argument, NULL, OPT_COORD6},
	    {NULL, 0, NULL, 0}};
	int ch;
	a->timeout_ns = 20 * P2P_NS_PER_S;
	a->hard.port_mapping = -1;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":n:c:k:p:b:C:s:eEKjTt:l:a:", longopts, NULL)) != -1) {
		int rc = ch == ':' ? -1 : parse_opt(ch, a);
		if (rc < 0)
			return cli_option_error("peer", ch, argv);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("peer", "unexpected argument '%s'", argv[optind]);
	return check_args(a);
}

/* --tcp: what the kernel's sockets report goes to the agent. */
static uint32_t tcp_accepted(void *ctx, uint64_t now, const struct p2p_endpoint *local,
			     const struct p2p_endpoint *remote)
{
	return agent_tcp_accepted(((struct peer_run *)ctx)->agent, now, local, remote);
}

static int tcp_connected(void *ctx, uint64_t now, uint32_t conn, const struct p2p_endpoint *local,
			 const struct p2p_endpoint *remote, bool simultaneous)
{
	return agent_tcp_connected(((struct peer_run *)ctx)->agent, now, conn, local, remote,
				   simultaneous);
}

static int tcp_input(void *ctx, uint64_t now, uint32_t conn, const uint8_t *buf, size_t len)
{
	return agent_tcp_input(((struct peer_run *)ctx)->agent, now, conn, buf, len);
}

static void tcp_closed(void *ctx, uint64_t now, uint32_t conn, enum p2p_tcp_close why)
{
	agent_tcp_closed(((struct peer_run *)ctx)->agent, now, conn, why);
}

static const struct daemon_tcp_ops peer_tcp_ops = {tcp_accepted, tcp_connected, tcp_input,
						   tcp_closed};

/* A dual-stack peer's IPv6 socket (settle_bind), on the IPv4 socket's port
 * when it is free for IPv6 too (one port to read in a capture), else on
 * another. Not opening it is no failure unless an IPv6 --bind asked for it:
 * the peer says so and stays IPv4. */
static int open_socket6(struct peer_run *pr, struct daemon *d, const struct peer_args *a,
			const struct p2p_endpoint *bound, char *err, size_t errlen)
{
	struct p2p_endpoint ep = a->bind6;
	if (ep.port == 0)
		ep.port = bound->port;
	int rc = daemon_bind(d, &ep, &pr->bound6, err, errlen);
	if (rc < 0 && a->port == 0) {
		ep.port = 0;
		rc = daemon_bind(d, &ep, &pr->bound6, err, errlen);
	}
	if (rc < 0 && !a->has_bind6) {
		fprintf(stderr, "natsim peer: IPv4 only: %s\n", err);
		return 0;
	}
	pr->has6 = rc == 0;
	return rc;
}

/* The socket(s) the agent speaks from: one UDP socket (two for a dual-stack
 * peer), or with --tcp the listener on the port every connection will
 * leave from. */
static int open_sockets(struct peer_run *pr, struct daemon *d, const struct peer_args *a,
			struct p2p_endpoint *bound, char *err, size_t errlen)
{
	if (!a->tcp) {
		if (daemon_bind(d, &a->bind, bound, err, errlen) < 0)
			return -1;
		/* Extra sockets bind config.local's address (agent.h); the
		 * techniques that open them are IPv4's. */
		daemon_extra_init(&pr->extra, p2p_endpoint_is6(bound) ? 0 : bound->ip);
		d->extra = &pr->extra;
		if (!a->dual && a->has_coord6)
			fprintf(stderr,
				"natsim peer: IPv4 only: this machine has no IPv6 address a "
				"peer elsewhere could reach (global or unique local)\n");
		return a->dual ? open_socket6(pr, d, a, bound, err, errlen) : 0;
	}
	daemon_tcp_init(&pr->tcp, &peer_tcp_ops, pr);
	d->tcp = &pr->tcp;
	return daemon_tcp_listen(&pr->tcp, &a->bind, bound, err, errlen);
}

/* The port-mapping technique: the router to ask, into c->gateway. None
 * known, or a socket only this machine reaches, is said and the technique
 * dropped. */
static void choose_gateway(struct agent_config *c, const struct peer_args *a,
			   const struct p2p_endpoint *bound)
{
	uint32_t gw = a->hard.gateway;

	if (!(c->techniques & AGENT_TECH_PORT_MAPPING))
		return;
	c->techniques &= ~(unsigned)AGENT_TECH_PORT_MAPPING;
	if ((bound->ip >> 24) == 127) {
		fprintf(stderr, "natsim peer: port mapping: bound to a loopback address, which "
				"no router can map to; not asking\n");
		return;
	}
	if (gw == 0 && net_default_gateway(&gw) < 0) {
		fprintf(stderr, "natsim peer: port mapping: no IPv4 default route, so no router "
				"to ask (give --gateway ADDR)\n");
		return;
	}
	c->techniques |= AGENT_TECH_PORT_MAPPING;
	c->gateway = (struct p2p_endpoint){.ip = gw, .port = 0}; /* port 0: 5351 */
}

static int start_agent(struct peer_run *pr, const struct peer_args *a,
		       const struct p2p_endpoint *bound, const uint8_t *seed)
{
	struct agent_config c = {
	    .name = a->name,
	    .coordinator = a->coord,
	    .key_seed = seed,
	    .random = {.fill = daemon_random_fill},
	    .clock_offset_ns = daemon_wall_offset_ns(),
	    .transport = a->tcp ? AGENT_TRANSPORT_TCP : AGENT_TRANSPORT_UDP,
	    .techniques = a->hard.techniques,
	    .probe_rate = a->hard.probe_rate,
	    .probe_budget = a->hard.probe_budget,
	    .birthday_sockets = a->hard.sockets,
	    .prediction_window = a->hard.prediction_window,
	};
	net_host_candidates(&c, bound, &a->coord);
	if (pr->has6) {
		size_t n6 = net_add_host_candidates6(&c, &pr->bound6, &a->coord6);
		pr->local6 = n6 ? c.host_candidates[c.n_host_candidates - n6] : pr->bound6;
		c.local6 = pr->local6;
		c.coordinator6 = a->coord6;
	}
	choose_gateway(&c, a, bound);
	pr->local = c.local;
	pr->agent = agent_new(&c);
	if (!pr->agent)
		return -1;
	if (a->has_keepalive)
		agent_set_keepalive(pr->agent, a->keepalive_ns);
	uint64_t now = daemon_now_ns();
	if ((!a->no_register && agent_register(pr->agent, now) < 0) ||
	    (a->connect && agent_connect(pr->agent, now, a->connect) < 0) ||
	    (a->classify && agent_classify(pr->agent, now) < 0))
		return -1;
	return 0;
}

static int finish(struct peer_run *pr, enum daemon_stop stop)
{
	bool ok = pr->done && !pr->failed;
	const char *why =
	    pr->failed					? pr->fail_text
	    : ok					? "everything asked for happened"
	    : stop == DAEMON_STOP_SIGNAL		? "stopped by a signal first"
	    : !pr->registered && !pr->args->no_register ? "timed out before registering"
	    : pr->args->connect && !pr->connected	? "timed out before a path was found"
	    : pr->args->classify && !pr->classified	? "timed out before classifying"
	    : pr->args->send && !pr->sent ? "timed out before sending (nobody connected)"
					  : "timed out before receiving data";
	print_result(pr, ok, why);
	return ok ? CLI_EXIT_OK : stop == DAEMON_STOP_ERROR ? CLI_EXIT_INTERNAL : CLI_EXIT_FAILED;
}

/* The birthday search's K sockets, on top of the few we always hold: more
 * than the usual soft limit of 1024 open files allows at K = 1024. Says so if
 * the hard limit is lower. */
static void make_room_for_sockets(const struct peer_args *a)
{
	if (!(a->hard.techniques & AGENT_TECH_BIRTHDAY))
		return;
	size_t need = (a->hard.sockets ? a->hard.sockets : 256) + 64;
	size_t have = daemon_raise_fd_limit(need);
	if (have < need)
		fprintf(stderr,
			"natsim peer: only %zu open files allowed (ulimit -n): the birthday "
			"search may not get all its sockets\n",
			have);
}

/* After the run: extra sockets the system would not give us (EMFILE...). */
static void report_extra(const struct peer_run *pr)
{
	if (pr->extra.open_errors)
		fprintf(stderr, "natsim peer: %llu extra sockets could not be opened\n",
			(unsigned long long)pr->extra.open_errors);
}

/* Whatever ended the run (done, a signal, the timeout), the router's
 * mapping is deleted before we go (agent_release_mappings). */
static void release_mappings(struct peer_run *pr, struct daemon *d)
{
	struct p2p_datagram dg;
	struct p2p_event ev;

	agent_release_mappings(pr->agent, daemon_now_ns());
	while (agent_pop_event(pr->agent, &ev))
		print_event(pr, &ev);
	while (agent_pop_datagram(pr->agent, &dg))
		daemon_send(d, &dg);
}

static int run(const struct peer_args *a, const uint8_t *seed)
{
	struct daemon d;
	struct peer_run pr = {.args = a};
	struct p2p_endpoint bound;
	char err[256];
	int rc;
	make_room_for_sockets(a);
	if (daemon_init(&d, err, sizeof(err)) < 0) {
		fprintf(stderr, "natsim peer: %s\n", err);
		rc = CLI_EXIT_INTERNAL;
	} else if (open_sockets(&pr, &d, a, &bound, err, sizeof(err)) < 0) {
		fprintf(stderr, "natsim peer: %s (check --bind and --port)\n", err);
		rc = CLI_EXIT_USAGE;
	} else if (start_agent(&pr, a, &bound, seed) < 0) {
		fprintf(stderr, "natsim peer: cannot start the agent (out of memory?)\n");
		rc = CLI_EXIT_INTERNAL;
	} else {
		static const struct daemon_ops ops = {on_input, on_tick,       on_deadline,
						      on_flush, on_icmp_error, on_input_socket};
		if (a->timeout_ns)
			d.until_ns = daemon_now_ns() + a->timeout_ns;
		enum daemon_stop stop = daemon_run(&d, &ops, &pr);
		if (stop == DAEMON_STOP_ERROR)
			perror("natsim peer: poll");
		release_mappings(&pr, &d);
		/* A signal or the linger ending after success is still success. */
		rc = finish(&pr, stop);
		report_extra(&pr);
	}
	agent_free(pr.agent);
	if (d.tcp)
		daemon_tcp_fini(d.tcp);
	if (d.extra)
		daemon_extra_fini(d.extra);
	daemon_fini(&d);
	return rc;
}

int cmd_peer_main(int argc, char **argv)
{
	struct peer_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	uint8_t seed[CRYPTO_SEED_SIZE];
	if (a.key) {
		char err[512];
		if (keyfile_load(a.key, seed, err, sizeof(err)) < 0)
			return cli_usage_error("peer", "--key: %s", err);
	} else if (keyfile_generate(seed) < 0) {
		fprintf(stderr, "natsim peer: libsodium could not start\n");
		return CLI_EXIT_INTERNAL;
	}
	rc = run(&a, seed);
	sodium_memzero(seed, sizeof(seed));
	return rc;
}
