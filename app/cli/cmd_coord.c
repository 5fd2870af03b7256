/*
 * cmd_coord.c - `natsim coord`: the coordinator (p2p/coord.h) on real UDP
 * sockets, driven by app/net/daemon.c.
 */
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
    "Usage: natsim coord --listen ADDR:PORT [--alternate ADDR:PORT] [OPTIONS]\n"
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
    "Options:\n"
    "  -l, --listen ADDR:PORT     primary endpoint (required; 0.0.0.0 only\n"
    "                             without --alternate)\n"
    "  -a, --alternate ADDR:PORT  alternate address and port for RFC 5780: the\n"
    "                             coordinator also listens on primary address +\n"
    "                             alternate port, alternate address + primary port\n"
    "                             and alternate address + alternate port\n"
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

struct coord_args {
	struct coord_config cfg;
	bool has_listen, json;
	const char *allow_file;
};

static bool allow_cb(void *ctx, const char *name, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE])
{
	(void)name;
	return keyfile_allow_has(ctx, sign_pk);
}

static int parse_endpoint_flag(const char *flag, const char *text, struct p2p_endpoint *out)
{
	if (daemon_parse_endpoint(text, out) < 0)
		return cli_usage_error(
		    "coord", "%s expects ADDR:PORT (like 10.0.0.1:3478), not '%s'", flag, text);
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
			if (parse_endpoint_flag("--listen", optarg, &a->cfg.primary))
				return CLI_EXIT_USAGE;
			a->has_listen = true;
			break;
		case 'a':
			if (parse_endpoint_flag("--alternate", optarg, &a->cfg.alternate))
				return CLI_EXIT_USAGE;
			a->cfg.has_alternate = true;
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

static int check_args(const struct coord_args *a)
{
	const struct coord_config *c = &a->cfg;
	if (!a->has_listen)
		return cli_usage_error("coord", "--listen ADDR:PORT is required");
	if (c->primary.port == 0)
		return cli_usage_error("coord", "--listen needs a port other than 0");
	if (!c->has_alternate)
		return 0;
	if (c->primary.ip == 0 || c->alternate.ip == 0)
		return cli_usage_error("coord", "--listen and --alternate need specific addresses "
						"(not 0.0.0.0) for RFC 5780");
	if (c->alternate.ip == c->primary.ip || c->alternate.port == c->primary.port ||
	    c->alternate.port == 0)
		return cli_usage_error("coord", "--alternate must differ from --listen in both "
						"address and port (RFC 5780 section 4.1)");
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

/* UDP sockets, and a TCP listener, on every endpoint (RFC 5780's four with
 * an alternate). */
static int bind_all(struct daemon *d, struct daemon_tcp *tcp, const struct coord_config *c)
{
	struct p2p_endpoint eps[4] = {c->primary};
	size_t n = 1;
	char err[256];
	if (c->has_alternate) {
		eps[n++] = (struct p2p_endpoint){.ip = c->primary.ip, .port = c->alternate.port};
		eps[n++] = (struct p2p_endpoint){.ip = c->alternate.ip, .port = c->primary.port};
		eps[n++] = c->alternate;
	}
	for (size_t i = 0; i < n; i++)
		if (daemon_bind(d, &eps[i], NULL, err, sizeof(err)) < 0 ||
		    daemon_tcp_listen(tcp, &eps[i], NULL, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"natsim coord: %s (check --listen/--alternate: the address must "
				"be one of this host's)\n",
				err);
			return -1;
		}
	return 0;
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
	if (bind_all(&d, &r.tcp, &a.cfg) < 0) {
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
	char ts[40], p[P2P_ENDPOINT_STRLEN], alt[P2P_ENDPOINT_STRLEN];
	daemon_timestamp(ts, sizeof(ts));
	p2p_endpoint_format(&a.cfg.primary, p, sizeof(p));
	p2p_endpoint_format(&a.cfg.alternate, alt, sizeof(alt));
	if (a.json)
		printf("{\"time\":\"%s\",\"event\":\"listening\",\"primary\":\"%s\"%s%s%s}\n", ts,
		       p, a.cfg.has_alternate ? ",\"alternate\":\"" : "",
		       a.cfg.has_alternate ? alt : "", a.cfg.has_alternate ? "\"" : "");
	else
		printf("%s listening on %s%s%s\n", ts, p, a.cfg.has_alternate ? " alternate " : "",
		       a.cfg.has_alternate ? alt : "");
	fflush(stdout);

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
