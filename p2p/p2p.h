/*
 * p2p.h - types shared by natsim's sans-I/O protocol code.
 *
 * Nothing in p2p/ touches a socket or a clock (DESIGN.md, STYLE.md): time comes
 * in as an argument, datagrams come in through *_input() and go out through
 * *_pop_datagram(), and what happened comes out through *_pop_event(). The
 * simulator (app/simdrive) and the real UDP daemon (app/) are two driver loops
 * around the same objects.
 *
 * Endpoints are of either family (struct p2p_endpoint): IPv4 in host byte
 * order, IPv6 in network byte order.
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

/* A transport endpoint of either family (issue 18, docs/ipv6.md step 6).
 * IPv4 is family 0, so every endpoint written as {.ip = ..., .port = ...}
 * is the IPv4 one it always was; `ip` stays in host byte order, so IPv4 code
 * reads as before. An IPv6 address is 16 bytes in network order, as on the
 * wire and in struct in6_addr. Only the member the family names is
 * meaningful: compare endpoints with p2p_endpoint_equal, never memcmp. */
#define P2P_FAMILY_IPV4 0
#define P2P_FAMILY_IPV6 6
struct p2p_endpoint {
	union {
		uint32_t ip;	 /* P2P_FAMILY_IPV4: host byte order */
		uint8_t ip6[16]; /* P2P_FAMILY_IPV6: network byte order */
	};
	uint16_t port;	/* host byte order */
	uint8_t family; /* P2P_FAMILY_IPV4 or P2P_FAMILY_IPV6 */
};

static inline struct p2p_endpoint p2p_endpoint4(uint32_t ip, uint16_t port)
{
	return (struct p2p_endpoint){.ip = ip, .port = port};
}

static inline struct p2p_endpoint p2p_endpoint6(const uint8_t ip6[16], uint16_t port)
{
	struct p2p_endpoint ep = {.port = port, .family = P2P_FAMILY_IPV6};

	for (int i = 0; i < 16; i++)
		ep.ip6[i] = ip6[i];
	return ep;
}

static inline bool p2p_endpoint_is6(const struct p2p_endpoint *ep)
{
	return ep->family == P2P_FAMILY_IPV6;
}

/* Whether the endpoint has an address (not 0.0.0.0 nor ::). */
bool p2p_endpoint_has_addr(const struct p2p_endpoint *ep);

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

/* Same family, address and port. */
static inline bool p2p_endpoint_equal(const struct p2p_endpoint *a, const struct p2p_endpoint *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family != P2P_FAMILY_IPV6)
		return a->ip == b->ip;
	for (int i = 0; i < 16; i++)
		if (a->ip6[i] != b->ip6[i])
			return false;
	return true;
}

/* Same family and address, whatever the port. */
bool p2p_endpoint_same_addr(const struct p2p_endpoint *a, const struct p2p_endpoint *b);

/* An ICMP error (RFC 792), or an ICMPv6 one (RFC 4443) when `local` is
 * IPv6, about a datagram a p2p object sent. The driver reads it where the
 * system reports it: on Linux, from the socket's error queue (IP_RECVERR or
 * IPV6_RECVERR, struct sock_extended_err with SO_EE_ORIGIN_ICMP or
 * SO_EE_ORIGIN_ICMP6); in the simulator, from the host's socket. The kernel
 * has already matched the quoted IP and UDP headers to the socket, so
 * `local` is the quoted datagram's source (our socket) and `remote` its
 * destination. */
struct p2p_icmp_error {
	struct p2p_endpoint local;    /* the quoted datagram's source */
	struct p2p_endpoint remote;   /* its destination: whom it did not reach */
	struct p2p_endpoint reporter; /* the error's source (port 0): that host, or a router */
	uint8_t type, code;	      /* RFC 792, or RFC 4443 for an IPv6 local */
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

/* RFC 4443 values (ICMPv6). */
#define P2P_ICMP6_DEST_UNREACH 1
#define P2P_ICMP6_PACKET_TOO_BIG 2
#define P2P_ICMP6_TIME_EXCEEDED 3
#define P2P_ICMP6_PARAMETER_PROBLEM 4
#define P2P_ICMP6_NO_ROUTE 0
#define P2P_ICMP6_ADM_PROHIBITED 1
#define P2P_ICMP6_ADDR_UNREACH 3
#define P2P_ICMP6_PORT_UNREACH 4

/* The same split for ICMPv6, Linux's icmpv6_err_convert (net/ipv6/icmp.c)
 * with its tab_unreach: no route, beyond scope and address unreachable are
 * soft; administratively prohibited, port unreachable, source address
 * failed policy and reject route hard (RFC 4443 3.1's codes 0-6); packet
 * too big and time exceeded soft, a parameter problem hard. */
bool p2p_icmp6_error_is_hard(uint8_t type, uint8_t code);
const char *p2p_icmp6_error_name(uint8_t type, uint8_t code, char *buf, size_t size);

/* The two above for an error of either family (by its `local`). */
bool p2p_icmp_error_hard(const struct p2p_icmp_error *err);
const char *p2p_icmp_error_words(const struct p2p_icmp_error *err, char *buf, size_t size);

/* Writes "a.b.c.d:port", or for IPv6 "[addr]:port" with the address in
 * RFC 5952 form (section 4: lower case, no leading zeros, the longest run
 * of two or more zero groups, the first of equal runs, as "::"; section 6:
 * brackets before a port), into buf (at least P2P_ENDPOINT_STRLEN bytes);
 * returns buf. 48 = "[" + 39 + "]:" + 5 + NUL. */
#define P2P_ENDPOINT_STRLEN 48
char *p2p_endpoint_format(const struct p2p_endpoint *ep, char *buf, size_t size);

/* Parses "a.b.c.d:port" (port required; no leading zeros, which some tools
 * read as octal) or "[addr]:port" with an IPv6 address in any RFC 4291 2.2
 * form (groups of 1-4 hex digits, "::" once, a dotted quad in the last 32
 * bits; no zone id). Returns 0, or -1 if malformed. */
int p2p_endpoint_parse(const char *text, struct p2p_endpoint *out);

/* The address alone, without brackets or port: "a.b.c.d" or RFC 5952 text
 * (buf at least P2P_ENDPOINT_STRLEN bytes); returns buf. */
char *p2p_addr_format(const struct p2p_endpoint *ep, char *buf, size_t size);

#endif
