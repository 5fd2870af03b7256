/*
 * cmd_coord.c - `natsim coord`: the coordinator (p2p/coord.h) on real UDP
 * sockets, driven by app/net/daemon.c.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/net/daemon.h"
#include "app/net/daemon_tcp.h"
#include "app/net/keyfile.h"
#include "app/lang/units.h"
#include "p2p/coord.h"

const char cmd_coord_usage[] =
    "Usage: natsim coord --listen ADDR:PORT [--alternate ADDR:PORT]\n"
    "                    [--listen [ADDR6]:PORT [--alternate [ADDR6]:PORT]] [OPTIONS]\n"
    "\n"
    "Run the coordinator on real UDP and TCP sockets: a STUN server (RFC 8489,\n"
    "RFC 5780 behaviour discovery with --alternate, RFC 3489 clients too), the\n"
    "rendezvous service peers register with and meet through, and the relay of\n"
    "last resort.\n"
    "Every event is logged with an ISO-8601 UTC timestamp; SIGINT or SIGTERM\n"
    "stops it cleanly with a line of counters.\n"
    "\n"
    "Every well-formed Binding request is answered, from any client (coturn's\n"
    "turnutils_stunclient and turnutils_natdiscovery, stund's stun). To keep it\n"
    "from being a useful reflector, an answer is at most 4 times the size of its\n"
    "request, and each source address gets at most 64 answers at once and 10 a\n"
    "second after that (registered peers are not limited); refusals are counted\n"
    "and logged. Datagrams of any size are read.\n"
    "\n"
    "It listens on TCP at the same endpoints too, for peers that speak TCP\n"
    "(natsim peer --tcp): STUN messages back to back on a connection (RFC 8489\n"
    "6.2.2); a peer registered over a connection is known by it while it lasts.\n"
    "\n"
    "IPv6: give --listen (and --alternate) once per family to listen on both,\n"
    "each IPv6 socket IPV6_V6ONLY beside the IPv4 one; a peer registers over\n"
    "each family it has. ':PORT' listens on every address of both families.\n"
    "\n"
    "Options:\n"
    "  -l, --listen ADDR:PORT     primary endpoint (required): 10.0.0.1:3478,\n"
    "                             [2001:db8::1]:3478, a bare IPv6 address (port\n"
    "                             3478), or :PORT for any address of both\n"
    "                             families (not with --alternate); once per family\n"
    "  -a, --alternate ADDR:PORT  alternate address and port for RFC 5780, of the\n"
    "                             family of a --listen: the coordinator also\n"
    "                             listens on primary address + alternate port,\n"
    "                             alternate address + primary port and alternate\n"
    "                             address + alternate port; once per family\n"
    "  -c, --classic              also put RFC 3489's MAPPED-ADDRESS, CHANGED-ADDRESS\n"
    "                             and SOURCE-ADDRESS into answers to RFC 8489\n"
    "                             requests, as stund does (requests without the\n"
    "                             magic cookie get RFC 3489 answers anyway)\n"
    "  -m, --max-peers N          at most N live registrations, 1-16777216\n"
    "                             (default 100000)\n"
    "      --allow FILE           accept registrations only from the Ed25519 public\n"
    "                             keys in FILE (one a line, 64 hex digits, as\n"
    "                             'natsim keygen' prints them after sign-public-key)\n"
    "      --no-relay             refuse to relay (peers that cannot punch fail)\n"
    "      --peer-timeout DUR     forget peers silent this long, 1s-24h (default 180s)\n"
    "  -j, --json                 one JSON object per event instead of text lines\n"
    "  -h, --help                 show this help\n"
    "\n"
    "A duration always has a unit: ns, us, ms, s, min or h (500ms, 180s, 3min).\n"
    "Exit status: 0 stopped by SIGINT/SIGTERM, 2 bad usage or cannot bind,\n"
    "3 internal error.\n";

struct coord_run {
	struct coord *coord;
	struct daemon_tcp tcp;
	bool json;
};

static int on_input(void *ctx, uint64_t now, const struct p2p_endpoint *local,
		    const struct p2p_endpoint *from, const uint8_t *buf, size_t len)
{
	struct coord_run *r = ctx;
	/* The coordinator counts and (as a sample) logs what it does not answer. */
	int rc = coord_input(r->coord, now, local, from, buf, len);
	return rc == COORD_ERR_MALFORMED || rc == COORD_ERR_IGNORED ? -1 : 0;
}

static void on_tick(void *ctx, uint64_t now)
{
	coord_tick(((struct coord_run *)ctx)->coord, now);
}

static uint64_t on_deadline(void *ctx)
{
	return coord_next_deadline(((struct coord_run *)ctx)->coord);
}

static void print_event(const struct coord_run *r, const struct coord_event *ev)
{
	char ts[40], from[P2P_ENDPOINT_STRLEN];
	daemon_timestamp(ts, sizeof(ts));
	p2p_endpoint_format(&ev->from, from, sizeof(from));
	if (!r->json) {
		printf("%s %s: %s\n", ts, coord_event_name(ev->type),
		       ev->text); /* names the peers */
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", ts, "event",
			      coord_event_name(ev->type), "from", from, "text", ev->text);
	if (ev->name[0])
		json_object_set_new(o, "name", json_string(ev->name));
	if (ev->peer[0])
		json_object_set_new(o, "peer", json_string(ev->peer));
	if (ev->type == COORD_EV_REFUSED)
		json_object_set_new(o, "refusal", json_string(coord_refusal_name(ev->refusal)));
	if (ev->type == COORD_EV_INTRODUCED || ev->type == COORD_EV_RELAYED)
		json_object_set_new(o, "session", json_integer((json_int_t)ev->session));
	if (ev->type == COORD_EV_RELAYED)
		json_object_set_new(o, "bytes", json_integer((json_int_t)ev->bytes));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

static bool on_flush(void *ctx, struct daemon *d, uint64_t now)
{
	struct coord_run *r = ctx;
	struct p2p_datagram dg;
	struct coord_event ev;
	struct p2p_tcp_action act;
	(void)now;
	while (coord_pop_tcp(r->coord, &act))
		daemon_tcp_do(&r->tcp, &act);
	while (coord_pop_datagram(r->coord, &dg))
		daemon_send(d, &dg);
	bool any = false;
	while (coord_pop_event(r->coord, &ev)) {
		print_event(r, &ev);
		any = true;
	}
	if (any)
		fflush(stdout); /* a log read by scripts and people as it happens */
	return false;
}

static void print_counters(const struct coord_run *r, const struct daemon *d, int sig)
{
	const struct coord_counters *c = coord_counters(r->coord);
	char ts[40];
	daemon_timestamp(ts, sizeof(ts));
	const char *why = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "error";
	if (r->json) {
		printf("{\"time\":\"%s\",\"event\":\"stopped\",\"signal\":\"%s\",\"peers\":%zu,"
		       "\"registered\":%llu,\"refreshed\":%llu,\"refused\":%llu,"
		       "\"introduced\":%llu,\"relayed\":%llu,\"relayed_bytes\":%llu,"
		       "\"expired\":%llu,\"bindings\":%llu,\"dropped\":%llu,"
		       "\"rate_limited\":%llu,\"received\":%llu,\"sent\":%llu}\n",
		       ts, why, c->peers, (unsigned long long)c->registered,
		       (unsigned long long)c->refreshed, (unsigned long long)c->refused,
		       (unsigned long long)c->introduced, (unsigned long long)c->relayed,
		       (unsigned long long)c->relayed_bytes, (unsigned long long)c->expired,
		       (unsigned long long)c->bindings, (unsigned long long)c->dropped,
		       (unsigned long long)c->rate_limited, (unsigned long long)d->received,
		       (unsigned long long)d->sent);
	} else {
		printf("%s stopped (%s): peers %zu registered %llu refreshed %llu refused %llu "
		       "introduced %llu relayed %llu (%llu bytes) expired %llu bindings %llu "
		       "dropped %llu (rate-limited %llu) datagrams in %llu out %llu\n",
		       ts, why, c->peers, (unsigned long long)c->registered,
		       (unsigned long long)c->refreshed, (unsigned long long)c->refused,
		       (unsigned long long)c->introduced, (unsigned long long)c->relayed,
		       (unsigned long long)c->relayed_bytes, (unsigned long long)c->expired,
		       (unsigned long long)c->bindings, (unsigned long long)c->dropped,
		       (unsigned long long)c->rate_limited, (unsigned long long)d->received,
		       (unsigned long long)d->sent);
	}
	fflush(stdout);
}

/* What --listen and --alternate gave for one family. */
struct coord_family {
	struct p2p_endpoint listen, alternate;
	bool has_listen, has_alternate;
	bool optional; /* [::]:PORT from a bare ":PORT": skipped if this host has no IPv6 */
};

struct coord_args {
	struct coord_config cfg;
	struct coord_family fam[2]; /* [0] IPv4, [1] IPv6 */
	bool json;
	const char *allow_file;
};

static bool allow_cb(void *ctx, const char *name, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE])
{
	(void)name;
	return keyfile_allow_has(ctx, sign_pk);
}

/* --listen and --alternate: ADDR:PORT of either family ("10.0.0.1:3478",
 * "[2001:db8::1]:3478"), a bare IPv6 address on the STUN port 3478 (RFC 8489
 * section 9; an IPv6 address cannot be followed by ":PORT" without
 * brackets, RFC 5952 section 6), or ":PORT" meaning every address of both
 * families. Each family once. */
static int parse_endpoint_flag(const char *flag, const char *text, struct coord_args *a,
			       bool alternate)
{
	struct p2p_endpoint ep;
	uint8_t bare[16];
	bool any_both = text[0] != '[' && !strchr(text, '.') && !strchr(text + 1, ':');
	if (inet_pton(AF_INET6, text, bare) == 1)
		ep = p2p_endpoint6(bare, 3478);
	else if (daemon_parse_endpoint(text, &ep) < 0)
		return cli_usage_error("coord",
				       "%s expects ADDR:PORT (like 10.0.0.1:3478 or "
				       "[2001:db8::1]:3478), not '%s'",
				       flag, text);
	struct coord_family *f = &a->fam[p2p_endpoint_is6(&ep)];
	/* An IPv6 --listen replaces the [::] a bare ":PORT" implied. */
	if (alternate ? f->has_alternate : f->has_listen && !f->optional)
		return cli_usage_error("coord", "%s is given twice for IPv%d (once per family)",
				       flag, p2p_endpoint_is6(&ep) ? 6 : 4);
	if (alternate) {
		f->alternate = ep;
		f->has_alternate = true;
		return 0;
	}
	f->listen = ep;
	f->has_listen = true;
	f->optional = false;
	if (any_both && !a->fam[1].has_listen) {
		a->fam[1].listen = p2p_endpoint6((const uint8_t[16]){0}, ep.port);
		a->fam[1].has_listen = a->fam[1].optional = true;
	}
	return 0;
}

/* p2p/coord.c lowers max_peers to COORD_MAX_PEERS itself; a larger
 * --max-peers is refused here rather than silently lowered. */
#define COORD_FLAG_MAX_PEERS ((uint64_t)COORD_MAX_PEERS)
static const struct units_setting peer_timeout = {
    .what = "a peer timeout",
    .min_ns = UNITS_NS_PER_S,
    .max_ns = 24 * UNITS_NS_PER_H,
};

static int parse_args(int argc, char **argv, struct coord_args *a)
{
	static const struct option longopts[] = {{"listen", required_argument, NULL, 'l'},
						 {"alternate", required_argument, NULL, 'a'},
						 {"classic", no_argument, NULL, 'c'},
						 {"max-peers", required_argument, NULL, 'm'},
						 {"json", no_argument, NULL, 'j'},
						 {"no-relay", no_argument, NULL, 'R'},
						 {"peer-timeout", required_argument, NULL, 'T'},
						 {"allow", required_argument, NULL, 'A'},
						 {NULL, 0, NULL, 0}};
	int ch;
	uint64_t max_peers;
	int64_t peer_timeout_ns;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":l:a:cm:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (parse_endpoint_flag("--listen", optarg, a, false))
				return CLI_EXIT_USAGE;
			break;
		case 'a':
			if (parse_endpoint_flag("--alternate", optarg, a, true))
				return CLI_EXIT_USAGE;
			break;
		case 'c':
			a->cfg.rfc3489_attrs = true;
			break;
		case 'm':
			if (cli_count_flag("coord", "--max-peers", "a number of peers", optarg, 1,
					   COORD_FLAG_MAX_PEERS, &max_peers))
				return CLI_EXIT_USAGE;
			a->cfg.max_peers = (size_t)max_peers;
			break;
		case 'j':
			a->json = true;
			break;
		case 'R':
			a->cfg.disable_relay = true;
			break;
		case 'A':
			a->allow_file = optarg;
			break;
		case 'T':
			if (cli_duration_flag("coord", "--peer-timeout", optarg, &peer_timeout,
					      &peer_timeout_ns))
				return CLI_EXIT_USAGE;
			a->cfg.peer_timeout_ns = (uint64_t)peer_timeout_ns;
			break;
		default: /* ':' missing value, '?' unknown option */
			return cli_option_error("coord", ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("coord", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* One family's --listen and --alternate (v: 4 or 6). */
static int check_family(const struct coord_family *f, int v)
{
	if (f->has_alternate && !f->has_listen)
		return cli_usage_error("coord", "--alternate for IPv%d needs a --listen for IPv%d",
				       v, v);
	if (!f->has_listen)
		return 0;
	if (f->listen.port == 0)
		return cli_usage_error("coord", "--listen needs a port other than 0");
	if (!f->has_alternate)
		return 0;
	if (!p2p_endpoint_has_addr(&f->listen) || !p2p_endpoint_has_addr(&f->alternate))
		return cli_usage_error("coord", "--listen and --alternate need specific addresses "
						"(not 0.0.0.0 or ::) for RFC 5780");
	if (p2p_endpoint_same_addr(&f->alternate, &f->listen) ||
	    f->alternate.port == f->listen.port || f->alternate.port == 0)
		return cli_usage_error("coord", "--alternate must differ from --listen in both "
						"address and port (RFC 5780 section 4.1)");
	return 0;
}

/* The families into the coordinator's config: the IPv4 endpoints are its
 * primary and alternate when there are any, else the IPv6 ones. */
static int check_args(struct coord_args *a)
{
	if (!a->fam[0].has_listen && !a->fam[1].has_listen)
		return cli_usage_error("coord", "--listen ADDR:PORT is required");
	int rc = check_family(&a->fam[0], 4);
	if (rc == 0)
		rc = check_family(&a->fam[1], 6);
	if (rc)
		return rc;
	const struct coord_family *f = &a->fam[a->fam[0].has_listen ? 0 : 1];
	a->cfg.primary = f->listen;
	a->cfg.alternate = f->alternate;
	a->cfg.has_alternate = f->has_alternate;
	return 0;
}

/* RFC 5780 section 4.2: every combination of the two addresses and ports. */
static uint32_t tcp_accepted(void *ctx, uint64_t now, const struct p2p_endpoint *local,
			     const struct p2p_endpoint *remote)
{
	return coord_tcp_accepted(((struct coord_run *)ctx)->coord, now, local, remote);
}

static int tcp_input(void *ctx, uint64_t now, uint32_t conn, const uint8_t *buf, size_t len)
{
	return coord_tcp_input(((struct coord_run *)ctx)->coord, now, conn, buf, len);
}

static void tcp_closed(void *ctx, uint64_t now, uint32_t conn, enum p2p_tcp_close why)
{
	coord_tcp_closed(((struct coord_run *)ctx)->coord, now, conn, why);
}

static const struct daemon_tcp_ops coord_tcp_ops = {tcp_accepted, NULL, tcp_input, tcp_closed};

/* One family's endpoints: the listen one, and with an alternate RFC 5780
 * section 4.2's every combination of the two addresses and ports. */
static size_t family_endpoints(const struct coord_family *f, struct p2p_endpoint eps[4])
{
	size_t n = 0;
	if (!f->has_listen)
		return 0;
	eps[n++] = f->listen;
	if (f->has_alternate) {
		eps[n] = f->listen;
		eps[n++].port = f->alternate.port;
		eps[n] = f->alternate;
		eps[n++].port = f->listen.port;
		eps[n++] = f->alternate;
	}
	return n;
}

/* UDP sockets, and a TCP listener, on every endpoint of both families. The
 * IPv6 any-address of a bare ":PORT" is skipped, and said, on a host
 * without IPv6. */
static int bind_all(struct daemon *d, struct daemon_tcp *tcp, const struct coord_args *a)
{
	char err[256];
	for (size_t k = 0; k < 2; k++) {
		struct p2p_endpoint eps[4];
		size_t n = family_endpoints(&a->fam[k], eps);
		for (size_t i = 0; i < n; i++) {
			if (daemon_bind(d, &eps[i], NULL, err, sizeof(err)) == 0 &&
			    daemon_tcp_listen(tcp, &eps[i], NULL, err, sizeof(err)) == 0)
				continue;
			if (a->fam[k].optional) {
				fprintf(stderr, "natsim coord: not on IPv6: %s\n", err);
				break;
			}
			fprintf(stderr,
				"natsim coord: %s (check --listen/--alternate: the address must "
				"be one of this host's)\n",
				err);
			return -1;
		}
	}
	return 0;
}

/* The first line: every endpoint bound, by family ("listening on
 * 10.0.0.1:3478 alternate 10.0.0.2:3479 and [2001:db8::1]:3478"). */
static void print_listening(const struct coord_args *a, const struct daemon *d)
{
	static const char *const keys[2][2] = {{"primary", "alternate"},
					       {"primary6", "alternate6"}};
	char ts[40], text[4][P2P_ENDPOINT_STRLEN];
	bool bound6 = false;
	for (size_t i = 0; i < d->n_socks; i++)
		bound6 |= p2p_endpoint_is6(&d->locals[i]);
	daemon_timestamp(ts, sizeof(ts));
	printf(a->json ? "{\"time\":\"%s\",\"event\":\"listening\"" : "%s listening on", ts);
	for (size_t k = 0, said = 0; k < 2; k++) {
		const struct coord_family *f = &a->fam[k];
		if (!f->has_listen || (k == 1 && !bound6))
			continue;
		p2p_endpoint_format(&f->listen, text[2 * k], sizeof(text[0]));
		p2p_endpoint_format(&f->alternate, text[2 * k + 1], sizeof(text[0]));
		if (a->json)
			printf(",\"%s\":\"%s\"", keys[k][0], text[2 * k]);
		else
			printf("%s %s", said++ ? " and" : "", text[2 * k]);
		if (f->has_alternate && a->json)
			printf(",\"%s\":\"%s\"", keys[k][1], text[2 * k + 1]);
		else if (f->has_alternate)
			printf(" alternate %s", text[2 * k + 1]);
	}
	printf(a->json ? "}\n" : "\n");
	fflush(stdout);
}

static int run(struct coord_args *args);

int cmd_coord_main(int argc, char **argv)
{
	struct coord_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc == 0)
		rc = check_args(&a);
	if (rc)
		return rc;
	struct keyfile_allow allow = {0};
	if (a.allow_file) {
		char aerr[512];
		if (keyfile_load_allow(a.allow_file, &allow, aerr, sizeof(aerr)) < 0)
			return cli_usage_error("coord", "--allow: %s", aerr);
		a.cfg.allow = allow_cb;
		a.cfg.allow_ctx = &allow;
	}
	rc = run(&a);
	keyfile_allow_free(&allow);
	return rc;
}

static int run(struct coord_args *args)
{
	struct coord_args a = *args;
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct daemon d;
	char err[256];
	if (daemon_init(&d, err, sizeof(err)) < 0) {
		fprintf(stderr, "natsim coord: %s\n", err);
		daemon_fini(&d);
		return CLI_EXIT_INTERNAL;
	}
	struct coord_run r = {.json = a.json};
	daemon_tcp_init(&r.tcp, &coord_tcp_ops, &r);
	d.tcp = &r.tcp;
	if (bind_all(&d, &r.tcp, &a) < 0) {
		daemon_tcp_fini(&r.tcp);
		daemon_fini(&d);
		return CLI_EXIT_USAGE;
	}
	a.cfg.software = "natsim " NATSIM_VERSION;
	a.cfg.random = (struct p2p_random){.fill = daemon_random_fill};
	r.coord = coord_new(&a.cfg);
	if (!r.coord) {
		fprintf(stderr, "natsim coord: cannot start the coordinator (out of memory)\n");
		daemon_tcp_fini(&r.tcp);
		daemon_fini(&d);
		return CLI_EXIT_INTERNAL;
	}
	print_listening(&a, &d);

	/* ICMP errors about the coordinator's answers teach it nothing: counted. */
	static const struct daemon_ops ops = {on_input, on_tick, on_deadline, on_flush, NULL, NULL};
	enum daemon_stop stop = daemon_run(&d, &ops, &r);
	if (stop == DAEMON_STOP_ERROR)
		perror("natsim coord: poll");
	print_counters(&r, &d, stop == DAEMON_STOP_SIGNAL ? d.last_signal : 0);
	coord_free(r.coord);
	daemon_tcp_fini(&r.tcp);
	daemon_fini(&d);
	return stop == DAEMON_STOP_SIGNAL ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
}
