/*
 * p2p.h - types shared by natsim's sans-I/O protocol code.
 *
 * Nothing in p2p/ touches a socket or a clock (DESIGN.md, STYLE.md): time comes
 * in as an argument, datagrams come in through *_input() and go out through
 * *_pop_datagram(), and what happened comes out through *_pop_event(). The
 * simulator (app/simdrive) and the real UDP daemon (app/) are two driver loops
 * around the same objects.
 *
 * Addresses are IPv4 in host byte order.
 *
 * Map: docs/architecture.md, "Life of a packet". Step 1 shows which agent
 * function writes a datagram (write_check in agent_checks.c); step 2 shows
 * how app/world/simdrive.c drains it into a simulated socket. The agent's optional
 * speed layer is p2p/agent_speed.h.
 */
#ifndef NATSIM_P2P_H
#define NATSIM_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest datagram any p2p object produces or accepts (fits an Ethernet MTU
 * after IPv4 and UDP headers). */
#define P2P_MAX_DATAGRAM 1472

/* No deadline pending. */
#define P2P_NO_DEADLINE UINT64_MAX

#define P2P_NS_PER_MS 1000000ull
#define P2P_NS_PER_S 1000000000ull

struct p2p_endpoint {
	uint32_t ip;   /* host byte order */
	uint16_t port; /* host byte order */
};

/* An IPv6 transport endpoint: the address in network byte order, as on the
 * wire (issue 18, docs/ipv6.md step 6: the codec reads and writes it; the
 * agent and the coordinator do not use it yet). */
struct p2p_endpoint6 {
	uint8_t addr[16];
	uint16_t port; /* host byte order */
};

/* One datagram to send. `from` is the local endpoint to send it from: an
 * agent's own socket (socket 0), or with `socket` k > 0 one of the extra
 * sockets the birthday search opens (agent.h "Extra sockets"; from.port is
 * then 0: the driver binds the socket on first use and knows its port); a
 * coordinator with an alternate address (RFC 5780) picks one of its up to
 * four local endpoints (socket 0). */
struct p2p_datagram {
	struct p2p_endpoint from;
	struct p2p_endpoint to;
	uint16_t socket;
	size_t len;
	uint8_t buf[P2P_MAX_DATAGRAM];
};

/* Randomness is passed in, never drawn from the OS inside p2p/: the simulator
 * hands in a seeded stream so runs are deterministic; the daemon hands in
 * randombytes_buf. Fill `len` bytes at `out`. */
struct p2p_random {
	void (*fill)(void *ctx, uint8_t *out, size_t len);
	void *ctx;
};

static inline bool p2p_endpoint_equal(const struct p2p_endpoint *a, const struct p2p_endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

/* An ICMP error (RFC 792) about a datagram a p2p object sent. The driver
 * reads it where the system reports it: on Linux, from the socket's error
 * queue (IP_RECVERR, struct sock_extended_err with SO_EE_ORIGIN_ICMP); in
 * the simulator, from the host's socket. The kernel has already matched the
 * quoted IPv4 and UDP headers to the socket, so `local` is the quoted
 * datagram's source (our socket) and `remote` its destination. */
struct p2p_icmp_error {
	struct p2p_endpoint local;  /* the quoted datagram's source */
	struct p2p_endpoint remote; /* its destination: whom it did not reach */
	uint32_t reporter;	    /* the error's source: that host, or a router on the way */
	uint8_t type, code;	    /* RFC 792 */
};

/* RFC 792 / RFC 1812 5.2.7.1 values the agent tells apart. */
#define P2P_ICMP_DEST_UNREACH 3
#define P2P_ICMP_TIME_EXCEEDED 11
#define P2P_ICMP_PARAMETER_PROBLEM 12
#define P2P_ICMP_NET_UNREACH 0
#define P2P_ICMP_HOST_UNREACH 1
#define P2P_ICMP_PROT_UNREACH 2
#define P2P_ICMP_PORT_UNREACH 3
#define P2P_ICMP_FRAG_NEEDED 4
#define P2P_ICMP_NET_ANO 9	 /* network administratively prohibited */
#define P2P_ICMP_HOST_ANO 10	 /* host administratively prohibited */
#define P2P_ICMP_PKT_FILTERED 13 /* communication administratively prohibited */

/* Whether the error is a hard one (RFC 1122 3.2.2.1, RFC 8489 6.2.1): one
 * that says the destination will not take the datagram, rather than that
 * the way there is down for now. The split is Linux's, which every UDP
 * socket reports through (icmp_err_convert[].fatal in net/ipv4/icmp.c,
 * harderr in __udp4_lib_err): network and host unreachable, fragmentation
 * needed, source route failed and the TOS codes are soft ("RFC 1122:
 * 3.2.2.1 States that NET_UNREACH, HOST_UNREACH and SR_FAILED MUST be
 * considered 'transient errs'"); protocol and port unreachable, unknown or
 * isolated network or host, every administratively prohibited code, and a
 * parameter problem are hard. Time exceeded is soft (a routing loop, or a
 * TTL too small, may pass). Fragmentation needed stays soft here although
 * __udp4_lib_err reports it as a hard EMSGSIZE under path MTU discovery: it
 * says the datagram was too big, not that nobody is there. */
bool p2p_icmp_error_is_hard(uint8_t type, uint8_t code);

/* "port unreachable", "network unreachable", "time exceeded", ...; "ICMP
 * type T code C" for the rest (written into buf, at least 32 bytes). */
const char *p2p_icmp_error_name(uint8_t type, uint8_t code, char *buf, size_t size);

/* Writes "a.b.c.d:port" into buf (at least P2P_ENDPOINT_STRLEN bytes); returns buf. */
#define P2P_ENDPOINT_STRLEN 22
char *p2p_endpoint_format(const struct p2p_endpoint *ep, char *buf, size_t size);

/* Parses "a.b.c.d:port" (port required; no leading zeros, which some tools
 * read as octal). Returns 0, or -1 if malformed. */
int p2p_endpoint_parse(const char *text, struct p2p_endpoint *out);

#endif
