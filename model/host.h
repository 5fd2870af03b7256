/*
 * host.h - an end host: interfaces, a default route, UDP sockets and an
 * optional stateful host firewall.
 *
 * The socket API is the small one the p2p drivers need: bind a port (or an
 * ephemeral one, 32768-60999 like Linux's ip_local_port_range), send a
 * datagram, get a callback per datagram received. A host keeps a conntrack
 * table; with the firewall on (firewall_make_stateful_host) new inbound flows
 * are dropped and replies admitted, as the seed article describes.
 *
 * The stack answers with ICMP as Linux's does (model/icmp.h has the rules
 * and the rate limits): echo requests with echo replies, a datagram to a
 * port nobody listens on with port unreachable, a firewall REJECT with its
 * rule's error; ICMP errors go to the socket whose datagram they quote.
 */
#ifndef NATSIM_MODEL_HOST_H
#define NATSIM_MODEL_HOST_H

#include "base/addr6.h"
#include "model/conntrack.h"
#include "model/filter6.h"
#include "model/firewall.h"
#include "model/icmp.h"
#include "model/net.h"
#include "model/tcp.h"

struct host;
struct host_socket;

/* Called for each datagram delivered to a socket. The payload is borrowed. */
typedef void (*host_recv_fn)(struct host_socket *s, const struct endpoint *from,
			     const struct endpoint *to, const uint8_t *payload, size_t len,
			     void *ctx);

#define HOST_EPHEMERAL_LO 32768
#define HOST_EPHEMERAL_HI 60999

/* A host with one interface `eth0` holding addr/prefix_len and a default
 * gateway (0 = none: only on-link destinations). */
struct host *host_new(struct net *net, const char *name, uint32_t addr, uint8_t prefix_len,
		      uint32_t gateway);
struct node *host_node(struct host *h);
struct host *host_from_node(struct node *n); /* NULL if not a host */
struct iface *host_iface(struct host *h);
uint32_t host_address(const struct host *h);
void host_set_gateway(struct host *h, uint32_t gateway);

/* A further address: a new interface ("eth1", ...) on the same prefix, to be
 * attached to the same link as eth0. Packets leave through the interface that
 * holds their source address. Returns NULL if the host has no room. */
struct iface *host_add_address(struct host *h, uint32_t addr, uint8_t prefix_len);

/* Firewall: off by default (everything accepted). */
void host_enable_firewall(struct host *h, bool on);
bool host_firewall_enabled(const struct host *h);
struct firewall *host_firewall(struct host *h);
struct conntrack *host_conntrack(struct host *h);

/* Bind UDP `port` (0 = an ephemeral port). Returns NULL if the port is taken
 * or none is free. */
struct host_socket *host_udp_bind(struct host *h, uint16_t port, host_recv_fn fn, void *ctx);
/* Bind UDP `port` on one local address only (0 = every address). A host with
 * several addresses (a coordinator with an RFC 5780 alternate) binds each. */
struct host_socket *host_udp_bind_addr(struct host *h, uint32_t addr, uint16_t port,
				       host_recv_fn fn, void *ctx);
void host_udp_close(struct host_socket *s);
struct endpoint host_socket_local(const struct host_socket *s);
struct host *host_socket_host(const struct host_socket *s);
/* Send a datagram. Returns the packet id, or 0 if it could not be sent (too
 * big, no route: the drop is in the trace). */
uint64_t host_udp_sendto(struct host_socket *s, const struct endpoint *to, const void *payload,
			 size_t len);

/* Send raw IPv4 bytes as if from this host (scenario "send raw"). Takes a
 * copy. Bytes whose version nibble is 6 are IPv6 (docs/ipv6.md step 1): they
 * go to the host's gateway (its default route), since no host has an IPv6
 * address or route yet; without a gateway they are dropped (no IPv6 route),
 * as are bytes shorter than their family's header (0 returned, no record). */
uint64_t host_send_raw(struct host *h, const uint8_t *bytes, size_t len);

/* ---- ICMP (model/icmp.h has the stack's rules: what it answers, rate limits) */

/* An ICMP error about a datagram a socket sent, as Linux queues it for a
 * socket with IP_RECVERR (ip_icmp_error): who reported it, the datagram's
 * two ends as the socket knows them, the type and code. */
struct host_icmp_error {
	uint32_t reporter;	/* the error's source address */
	struct endpoint local;	/* the quoted datagram's source: this socket */
	struct endpoint remote; /* its destination: whom it could not reach */
	uint8_t type, code;
};
typedef void (*host_error_fn)(struct host_socket *s, const struct host_icmp_error *err, void *ctx);
/* Deliver ICMP errors about this socket's datagrams to `fn` (with the ctx
 * given at bind). NULL (the default) ignores them, as a socket without
 * IP_RECVERR that is not connected does. */
void host_udp_set_error_fn(struct host_socket *s, host_error_fn fn);

/* Send with an explicit TTL (traceroute). Otherwise as host_udp_sendto. */
uint64_t host_udp_sendto_ttl(struct host_socket *s, const struct endpoint *to, const void *payload,
			     size_t len, uint8_t ttl);

/* A raw ICMP socket, as ping and traceroute open: every ICMP message the
 * host receives (after its firewall) is shown to `fn`, whether or not the
 * stack also answers it. One listener per host; NULL removes it. */
typedef void (*host_icmp_fn)(struct host *h, const struct packet_info *info, void *ctx);
void host_set_icmp_listener(struct host *h, host_icmp_fn fn, void *ctx);
/* Send an echo request to dst with `payload_len` bytes of ping's pattern.
 * Returns the packet id, or 0 if it could not be sent. */
uint64_t host_send_echo(struct host *h, uint32_t dst, uint16_t id, uint16_t seq, uint8_t ttl,
			size_t payload_len);
/* The stack's ICMP sysctls (icmp_ratelimit, icmp_ratemask, ...; Linux's
 * defaults until set). Returns 0, or -1 if out of memory. */
int host_set_icmp_config(struct host *h, const struct icmp_config *cfg);
void host_icmp_config(const struct host *h, struct icmp_config *out);

/* ---- IPv6 (docs/ipv6.md step 2; model/host6.c) ---------------------------
 *
 * A host may be IPv4-only (as above), IPv6-only (host_new(..., 0, 0, 0)
 * then host_set_address6) or both. Its IPv6 path is Linux's: an address on
 * eth0 (no link-local, no SLAAC: docs/ipv6.md), on-link destinations within
 * its prefix, others via the IPv6 gateway; hop limit 64; a flow label
 * derived from the world's seed and the flow (net_flow_label6); INPUT and
 * OUTPUT through host_filter6; echo requests answered; a datagram to a
 * closed port answered with port unreachable (code 4), rate limited as
 * icmpv6_xrlim_allow; ICMPv6 errors go to the socket whose datagram they
 * quote. host_udp_close and host_socket_host serve both families. */

/* Give eth0 its IPv6 address. 0, or -1 if it has one or prefix_len > 128. */
int host_set_address6(struct host *h, const struct ip6_addr *addr, uint8_t prefix_len);
/* eth0's IPv6 address into *out; false (out untouched) if it has none. */
bool host_address6(const struct host *h, struct ip6_addr *out);
/* The IPv6 default gateway (NULL: none: only on-link destinations). */
void host_set_gateway6(struct host *h, const struct ip6_addr *gw);
/* The host's ip6 filter (model/filter6.h), made on first use (an IPv6
 * packet, or this call; NULL only if out of memory). Unlike the
 * IPv4 firewall it has no on/off switch: it accepts everything until a
 * rule set is put in it (filter6_make_stateful_host). */
struct filter6 *host_filter6(struct host *h);

typedef void (*host_recv6_fn)(struct host_socket *s, const struct endpoint6 *from,
			      const struct endpoint6 *to, const uint8_t *payload, size_t len,
			      void *ctx);
/* An IPv6 UDP socket (IPV6_V6ONLY: it never sees IPv4; a host may hold an
 * IPv4 and an IPv6 socket on the same port, as Linux allows with v6only;
 * Linux's default, net.ipv6.bindv6only = 0, would let a socket bound to ::
 * take IPv4 too, as ::ffff:a.b.c.d: natsim's sockets never do). addr NULL
 * = every address; port 0 = an ephemeral port. NULL if the address is not
 * the host's, the port is taken among IPv6 sockets, or out of memory. */
struct host_socket *host_udp_bind6(struct host *h, const struct ip6_addr *addr, uint16_t port,
				   host_recv6_fn fn, void *ctx);
/* Send a datagram: the packet id, or 0 if it could not be sent (too big,
 * no IPv6 address, no route: the drop is in the trace). */
uint64_t host_udp_sendto6(struct host_socket *s, const struct endpoint6 *to, const void *payload,
			  size_t len);
/* Send with an explicit hop limit (traceroute6). Otherwise as sendto6. */
uint64_t host_udp_sendto6_hop_limit(struct host_socket *s, const struct endpoint6 *to,
				    const void *payload, size_t len, uint8_t hop_limit);
bool host_socket_is6(const struct host_socket *s);
/* The socket's local endpoint: its address, or (bound to every address)
 * the host's IPv6 address. */
struct endpoint6 host_socket_local6(const struct host_socket *s);
/* An ICMPv6 error about a datagram an IPv6 socket sent (IPV6_RECVERR):
 * who reported it, the datagram's two ends, the type, code and bytes 4-7
 * (packet too big's MTU, parameter problem's pointer). */
struct host_icmp6_error {
	struct ip6_addr reporter;
	struct endpoint6 local, remote;
	uint8_t type, code;
	uint32_t param;
};
typedef void (*host_error6_fn)(struct host_socket *s, const struct host_icmp6_error *err,
			       void *ctx);
/* Deliver ICMPv6 errors about this socket's datagrams to fn (with the ctx
 * given at bind); NULL (the default) ignores them. */
void host_udp_set_error6_fn(struct host_socket *s, host_error6_fn fn);
/* Send an ICMPv6 echo request to dst with `payload_len` bytes of ping's
 * pattern. The packet id, or 0 if it could not be sent. */
uint64_t host_send_echo6(struct host *h, const struct ip6_addr *dst, uint16_t id, uint16_t seq,
			 uint8_t hop_limit, size_t payload_len);

/* ---- TCP (model/tcp.h: the states and what the stack promises) ----------
 *
 * A struct host_tcp is a listener or a connection. The application owns the
 * handle from listen/connect/accept until it calls host_tcp_close() or
 * host_tcp_abort(); after that the stack keeps what it still needs (FIN-WAIT,
 * TIME-WAIT) and frees it, and the application must not touch the handle.
 * Events arrive through the socket's function, never from inside a call the
 * application made (the stack defers them to the engine), so a handler may
 * call any host_tcp_* function, including close. Every change of state is a
 * TRACE_SOCKET record. */
struct host_tcp;

enum host_tcp_event_kind {
	HOST_TCP_CONNECTED,   /* the handshake finished: ESTABLISHED (active,
			       * passive after accept, or simultaneous open) */
	HOST_TCP_DATA,	      /* bytes arrived in order: data, len */
	HOST_TCP_PEER_CLOSED, /* the peer's FIN: no more data will come */
	HOST_TCP_CLOSED,      /* the connection is over: after both FINs, an
			       * RST, or an error; `error` says which (0 for
			       * an orderly close). The last event. */
};
struct host_tcp_event {
	enum host_tcp_event_kind kind;
	const uint8_t *data; /* HOST_TCP_DATA: borrowed for the call */
	size_t len;
	int error;	   /* HOST_TCP_CLOSED: 0, ECONNREFUSED, ECONNRESET,
			    * ETIMEDOUT, EHOSTUNREACH, ... (errno values) */
	bool simultaneous; /* HOST_TCP_CONNECTED: our SYN and the other's
			    * crossed (SYN-SENT -> SYN-RECEIVED, RFC 9293
			    * 3.5 figure 8); a socket API does not say this,
			    * the simulator can */
};
typedef void (*host_tcp_fn)(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx);
/* A listener completed a handshake: `conn` is ESTABLISHED and belongs to the
 * application, with no function until host_tcp_set_fn. */
typedef void (*host_tcp_accept_fn)(struct host_tcp *listener, struct host_tcp *conn, void *ctx);

/* Listen on `port` of local address `addr` (0 = every address). `reuse`:
 * SO_REUSEADDR and SO_REUSEPORT, so that a connection may use the same
 * local port (TCP hole punching listens and connects from the port it used
 * toward the coordinator). Returns NULL if the port is taken (without
 * reuse) or out of memory. */
struct host_tcp *host_tcp_listen(struct host *h, uint32_t addr, uint16_t port, bool reuse,
				 host_tcp_accept_fn fn, void *ctx);
/* Connect to `to`, from `local` (NULL, or port 0: an ephemeral port on the
 * address the route picks). Sends the SYN now; the outcome comes as
 * HOST_TCP_CONNECTED or HOST_TCP_CLOSED. `reuse` as for listen. Returns NULL
 * if the local endpoint is taken, no port is free, or out of memory. */
struct host_tcp *host_tcp_connect(struct host *h, const struct endpoint *local,
				  const struct endpoint *to, bool reuse, host_tcp_fn fn, void *ctx);
void host_tcp_set_fn(struct host_tcp *s, host_tcp_fn fn, void *ctx);
/* Queue bytes to send; returns how many were taken (the send buffer may be
 * full: tcp_config.send_buffer), 0 when the connection cannot send. */
size_t host_tcp_send(struct host_tcp *s, const void *data, size_t len);
/* Orderly close: a FIN after the queued data. The handle goes to the stack. */
void host_tcp_close(struct host_tcp *s);
/* shutdown(SHUT_WR): a FIN after the queued data; the application keeps
 * the handle and still receives until HOST_TCP_PEER_CLOSED, then closes. */
void host_tcp_shutdown(struct host_tcp *s);
/* Abort: an RST now, the connection forgotten (SO_LINGER 0). */
void host_tcp_abort(struct host_tcp *s);
enum tcp_state host_tcp_state(const struct host_tcp *s);
struct endpoint host_tcp_local(const struct host_tcp *s);
struct endpoint host_tcp_remote(const struct host_tcp *s); /* 0.0.0.0:0 for a listener */
struct host *host_tcp_host(const struct host_tcp *s);
/* TCP over IPv6 (IPV6_V6ONLY sockets: an IPv6 listener never takes IPv4,
 * and may share its port with an IPv4 one). Listen on `port` of `addr`
 * (NULL: every IPv6 address); connect from the host's IPv6 address (or
 * local's) to `to`, the SYN's MSS 1440 on a 1500-byte link (tcp.h). NULL
 * as for IPv4, and also when the host has no IPv6 address. Every other
 * host_tcp_* call serves both families; host_tcp_local/remote give an
 * IPv6 socket's ports only (0.0.0.0:port), host_tcp_local6/remote6 its
 * ends (an IPv4 socket's: [::]:port). */
struct host_tcp *host_tcp_listen6(struct host *h, const struct ip6_addr *addr, uint16_t port,
				  bool reuse, host_tcp_accept_fn fn, void *ctx);
struct host_tcp *host_tcp_connect6(struct host *h, const struct endpoint6 *local,
				   const struct endpoint6 *to, bool reuse, host_tcp_fn fn,
				   void *ctx);
bool host_tcp_is6(const struct host_tcp *s);
struct endpoint6 host_tcp_local6(const struct host_tcp *s);
struct endpoint6 host_tcp_remote6(const struct host_tcp *s); /* [::]:0 for a listener */
/* The stack's TCP sysctls (Linux's defaults until set). 0, or -1 on OOM. */
int host_set_tcp_config(struct host *h, const struct tcp_config *cfg);
void host_tcp_config(const struct host *h, struct tcp_config *out);

#endif
