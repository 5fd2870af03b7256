/*
 * tcpapp.c - the TCP server and client of a scenario (tcpapp.h), in
 * netcat's words.
 */
#include "app/world/tcpapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explain/socket.h"
#include "sim/engine.h"
#include "sim/trace.h"

#define LINE_MAX_TEXT 200

/* One program (a server, or a client) and, for a server, each connection it
 * accepted: all live until tcp_apps_free, since the stack may still call a
 * connection's function after the program is done with it. */
struct tcp_prog {
	struct tcp_apps *apps;
	struct host *h;
	bool server;
	enum tcp_serve_mode mode;
	/* a client */
	struct endpoint dst; /* over IPv6: the port only, the address in dst6 */
	bool is6;
	struct ip6_addr dst6;
	char dst_name[64];
	struct tcp_client_options opt;
	bool connected, closed;
	bool shut; /* the client's `close`: shutdown(SHUT_WR) sent, still reading */
	uint64_t received;
};

struct tcp_apps {
	struct net *net;
	struct tcp_prog **progs;
	size_t n_progs, cap_progs;
};

struct tcp_apps *tcp_apps_new(struct net *net)
{
	struct tcp_apps *apps = calloc(1, sizeof(*apps));

	if (apps != NULL)
		apps->net = net;
	return apps;
}

void tcp_apps_free(struct tcp_apps *apps)
{
	if (apps == NULL)
		return;
	for (size_t i = 0; i < apps->n_progs; i++)
		free(apps->progs[i]);
	free(apps->progs);
	free(apps);
}

static struct tcp_prog *prog_new(struct tcp_apps *apps, struct host *h)
{
	struct tcp_prog *p;

	if (apps->n_progs == apps->cap_progs) {
		size_t nc = apps->cap_progs ? apps->cap_progs * 2 : 8;
		struct tcp_prog **np = realloc(apps->progs, nc * sizeof(*np));

		if (np == NULL)
			return NULL;
		apps->progs = np;
		apps->cap_progs = nc;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->apps = apps;
	p->h = h;
	apps->progs[apps->n_progs++] = p;
	return p;
}

static void say(struct tcp_prog *p, const char *event, const char *text)
{
	struct trace *t = net_trace(p->apps->net);
	struct trace_record r = {.kind = TRACE_APP};

	if (!trace_active(t))
		return;
	r.u.app.node = host_node(p->h)->name;
	r.u.app.app = "nc";
	r.u.app.event = event;
	r.u.app.text = text;
	trace_emit(t, &r);
}

const char *tcp_service_name(uint16_t port)
{
	/* Debian's /etc/services (netbase) for the ports lessons use. */
	static const struct {
		uint16_t port;
		const char *name;
	} services[] = {
	    {7, "echo"},    {9, "discard"}, {13, "daytime"}, {21, "ftp"},    {22, "ssh"},
	    {23, "telnet"}, {25, "smtp"},   {53, "domain"},  {80, "http"},   {110, "pop3"},
	    {143, "imap2"}, {443, "https"}, {993, "imaps"},  {3478, "stun"}, {5432, "postgresql"},
	};

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (services[i].port == port)
			return services[i].name;
	return "*";
}

/* ---- the client ---- */

/* "web (198.51.100.80)" when the name differs from the address, as nc
 * prints the host it was given and the address it resolved. */
static void client_target(const struct tcp_prog *p, char *out, size_t n)
{
	char ip[IP6_TEXT_SIZE];

	if (p->is6)
		ip6_format(&p->dst6, ip, sizeof(ip));
	else
		ip_format(p->dst.ip, ip, sizeof(ip));
	if (strcmp(ip, p->dst_name) == 0)
		snprintf(out, n, "%s", ip);
	else
		snprintf(out, n, "%s (%s)", p->dst_name, ip);
}

static void client_send(struct tcp_prog *p, struct host_tcp *s)
{
	static const char pattern[] = "natsim sends these bytes over TCP. ";
	uint8_t buf[1024];
	uint32_t left = p->opt.send_bytes;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)pattern[i % (sizeof(pattern) - 1)];
	while (left > 0) {
		size_t chunk = left < sizeof(buf) ? left : sizeof(buf);
		size_t took = host_tcp_send(s, buf, chunk);

		if (took == 0)
			break;
		left -= (uint32_t)took;
	}
	/* netcat -N: shutdown(SHUT_WR) at the end of its input, then read
	 * until the server's FIN (close comes at HOST_TCP_PEER_CLOSED). */
	if (p->opt.close && !p->shut) {
		p->shut = true;
		host_tcp_shutdown(s);
	}
}

static void client_failed(struct tcp_prog *p, int err)
{
	char line[LINE_MAX_TEXT], target[128];

	client_target(p, target, sizeof(target));
	/* netcat.c remote_connect: warn("connect to %s (%s) port %s (%s) %s") */
	snprintf(line, sizeof(line), "connect to %s port %u (tcp) failed: %s", target, p->dst.port,
		 explain_errno_words(err));
	say(p, "failed", line);
}

static void on_client(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct tcp_prog *p = ctx;
	char line[LINE_MAX_TEXT], target[128];

	switch (ev->kind) {
	case HOST_TCP_CONNECTED:
		p->connected = true;
		client_target(p, target, sizeof(target));
		snprintf(line, sizeof(line), "Connection to %s %u port [tcp/%s] succeeded!", target,
			 p->dst.port, tcp_service_name(p->dst.port));
		say(p, "connected", line);
		client_send(p, s);
		break;
	case HOST_TCP_DATA:
		p->received += ev->len;
		break;
	case HOST_TCP_PEER_CLOSED:
		if (!p->closed) {
			p->closed = true;
			host_tcp_close(s);
		}
		break;
	case HOST_TCP_CLOSED:
		if (!p->connected && ev->error != 0)
			client_failed(p, ev->error);
		break;
	}
}

int tcp_client_start(struct tcp_apps *apps, struct host *h, const struct endpoint *dst,
		     const char *dst_name, const struct tcp_client_options *opt)
{
	struct tcp_prog *p = prog_new(apps, h);
	struct endpoint local = {host_address(h), opt->local_port};

	if (p == NULL)
		return -1;
	p->dst = *dst;
	p->opt = *opt;
	snprintf(p->dst_name, sizeof(p->dst_name), "%s", dst_name);
	if (host_tcp_connect(h, opt->local_port ? &local : NULL, dst, opt->local_port != 0,
			     on_client, p) == NULL)
		say(p, "failed",
		    opt->local_port ? "bind failed: Address already in use"
				    : "connect failed: Cannot assign requested address");
	return 0;
}

int tcp_client_start6(struct tcp_apps *apps, struct host *h, const struct endpoint6 *dst,
		      const char *dst_name, const struct tcp_client_options *opt)
{
	struct tcp_prog *p = prog_new(apps, h);
	struct endpoint6 local = {.port = opt->local_port};

	if (p == NULL)
		return -1;
	p->is6 = true;
	p->dst6 = dst->ip;
	p->dst.port = dst->port;
	p->opt = *opt;
	snprintf(p->dst_name, sizeof(p->dst_name), "%s", dst_name);
	host_address6(h, &local.ip);
	if (host_tcp_connect6(h, opt->local_port ? &local : NULL, dst, opt->local_port != 0,
			      on_client, p) == NULL)
		say(p, "failed",
		    opt->local_port ? "bind failed: Address already in use"
				    : "connect failed: Cannot assign requested address");
	return 0;
}

/* ---- the server ---- */

static void on_served(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct tcp_prog *p = ctx;

	switch (ev->kind) {
	case HOST_TCP_DATA:
		p->received += ev->len;
		if (p->mode == TCP_SERVE_ECHO)
			host_tcp_send(s, ev->data, ev->len);
		break;
	case HOST_TCP_PEER_CLOSED:
		/* The client is done: so is this connection (nc -l ends
		 * readwrite when the network side reaches EOF). */
		if (!p->closed) {
			p->closed = true;
			host_tcp_close(s);
		}
		break;
	case HOST_TCP_CONNECTED:
	case HOST_TCP_CLOSED:
		break;
	}
}

/* RFC 867: "the current date and time is sent out the connection as a
 * ascii character string ... The service closes the connection after
 * sending the quote." inetd's daytime_stream writes ctime(3)'s line with
 * "\r\n"; the time is the virtual clock counted from 1970. */
static void daytime(struct tcp_prog *p, struct host_tcp *conn)
{
	time_t secs = (time_t)(engine_now(net_engine(p->apps->net)) / SIM_S(1));
	struct tm tm;
	char line[64];
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(line, sizeof(line), "%a %b %e %H:%M:%S %Y\r\n", &tm);
	host_tcp_send(conn, line, n);
	p->closed = true;
	host_tcp_close(conn);
}

static void on_accept(struct host_tcp *listener, struct host_tcp *conn, void *ctx)
{
	struct tcp_prog *server = ctx, *p = prog_new(server->apps, server->h);
	struct endpoint from = host_tcp_remote(conn);
	struct endpoint6 from6 = host_tcp_remote6(conn);
	char line[LINE_MAX_TEXT], ip[IP6_TEXT_SIZE];

	(void)listener;
	if (p == NULL) {
		host_tcp_abort(conn);
		return;
	}
	p->server = true;
	p->mode = server->mode;
	host_tcp_set_fn(conn, on_served, p);
	if (p->mode == TCP_SERVE_DAYTIME)
		daytime(p, conn);
	/* Debian's netcat-openbsd report_sock: "Connection received on %s %s" */
	if (host_tcp_is6(conn))
		ip6_format(&from6.ip, ip, sizeof(ip));
	else
		ip_format(from.ip, ip, sizeof(ip));
	snprintf(line, sizeof(line), "Connection received on %s %u", ip, from.port);
	say(p, "accepted", line);
}

/* One listener: `nc -lvk` (IPv4) or `nc -6 -lvk` (IPv6, v6only). */
static void serve_family(struct tcp_prog *p, uint16_t port, bool v6)
{
	char line[LINE_MAX_TEXT];
	struct host_tcp *l = v6 ? host_tcp_listen6(p->h, NULL, port, true, on_accept, p)
				: host_tcp_listen(p->h, 0, port, true, on_accept, p);

	if (l == NULL) {
		/* netcat.c: err(1, "bind failed") after local_listen fails */
		say(p, "failed", "Address already in use");
		return;
	}
	snprintf(line, sizeof(line), "Listening on %s %u", v6 ? "::" : "0.0.0.0", port);
	say(p, "listening", line);
}

int tcp_serve_start(struct tcp_apps *apps, struct host *h, uint16_t port, enum tcp_serve_mode mode)
{
	struct tcp_prog *p = prog_new(apps, h);
	struct ip6_addr v6;

	if (p == NULL)
		return -1;
	p->server = true;
	p->mode = mode;
	if (host_address(h) != 0 || !host_address6(h, &v6))
		serve_family(p, port, false);
	if (host_address6(h, &v6))
		serve_family(p, port, true);
	return 0;
}
