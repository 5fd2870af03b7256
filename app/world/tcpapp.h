/*
 * tcpapp.h - TCP programs on simulated hosts: a server and a client, as a
 * student would run them with netcat (Debian's netcat-openbsd, `nc -v`).
 *
 * The server is `nc -lvk PORT`: it listens on every IPv4 address (nc sets
 * SO_REUSEADDR and SO_REUSEPORT on a listening socket, local_listen() in
 * netcat.c), accepts every connection, and either sends back what it
 * receives (`echo`, RFC 862's service) or reads and forgets it (`discard`,
 * RFC 863), and closes its side when the client closes its own; or, as
 * inetd's `daytime` (RFC 867), sends the time as ctime(3) writes it (the
 * virtual clock from 1970) and closes first, so that the server's side
 * waits in TIME-WAIT. Debian's nc listens on IPv4 alone unless given -6;
 * a host with IPv6 runs `nc -6 -lvk PORT` beside it (an IPV6_V6ONLY
 * listener on [::]: "Listening on :: PORT"), an IPv6-only host that alone.
 *
 * The client is `nc -v [-p PORT] HOST PORT` with N bytes on its standard
 * input: it connects (from PORT when given: nc binds it, and natsim sets
 * SO_REUSEADDR/SO_REUSEPORT so that two programs can hole-punch from one
 * port, as the TCP punching literature does), sends the bytes, and with
 * `close` shuts its sending side once they are queued, as `nc -N` does at
 * the end of its input (shutdown(SHUT_WR): a FIN), keeps reading what the
 * server still sends (an echo) and closes when the server's FIN arrives.
 * Without `close` it stays connected until the peer closes. A handshake that fails
 * ends the program.
 *
 * What they print goes to the trace as TRACE_APP records of app "nc" on the
 * host (the timeline puts "nc: " before them, as warn(3) does), in nc's words (netcat.c:
 * "Connection to %s %s port [%s/%s] succeeded!", warn("connect to %s port %s (%s) failed") with
 * strerror, Debian's report_sock "Listening on %s %s" and "Connection received on %s %s"). The
 * sockets' own changes are TRACE_SOCKET records the stack emits; expectations read those, not these
 * lines.
 */
#ifndef NATSIM_APP_TCPAPP_H
#define NATSIM_APP_TCPAPP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/endpoint.h"
#include "model/host.h"
#include "model/net.h"

struct tcp_apps;

/* The programs of one world; they live until tcp_apps_free. NULL on OOM. */
struct tcp_apps *tcp_apps_new(struct net *net);
void tcp_apps_free(struct tcp_apps *apps);

enum tcp_serve_mode { TCP_SERVE_DISCARD = 0, TCP_SERVE_ECHO = 1, TCP_SERVE_DAYTIME = 2 };

/* `nc -lvk port` on h now. Returns 0, -1 if out of memory (a port that is
 * taken is nc's error line, not a failure here). */
int tcp_serve_start(struct tcp_apps *apps, struct host *h, uint16_t port, enum tcp_serve_mode mode);

struct tcp_client_options {
	uint16_t local_port; /* 0: an ephemeral port */
	uint32_t send_bytes; /* sent once connected */
	bool close;	     /* shut the connection once they are queued */
};

/* `nc -v [-p local_port] dst_name dst.port` on h now; `dst_name` is what
 * the scenario wrote (borrowed for the call): nc prints it, and the
 * address beside it when they differ. Returns 0, or -1 if out of memory. */
int tcp_client_start(struct tcp_apps *apps, struct host *h, const struct endpoint *dst,
		     const char *dst_name, const struct tcp_client_options *opt);

/* The same to an IPv6 address (`nc -6 -v ...`), from the host's IPv6
 * address. */
int tcp_client_start6(struct tcp_apps *apps, struct host *h, const struct endpoint6 *dst,
		      const char *dst_name, const struct tcp_client_options *opt);

/* The service name /etc/services gives a TCP port ("http" for 80), or "*"
 * as nc prints a port it has no name for. */
const char *tcp_service_name(uint16_t port);

#endif
