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

/* One datagram to send. `from` is the local endpoint to send it from: an agent
 * has one socket, so it is always the agent's own; a coordinator with an
 * alternate address (RFC 5780) picks one of its up to four local endpoints. */
struct p2p_datagram {
	struct p2p_endpoint from;
	struct p2p_endpoint to;
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

/* Writes "a.b.c.d:port" into buf (at least P2P_ENDPOINT_STRLEN bytes); returns buf. */
#define P2P_ENDPOINT_STRLEN 22
char *p2p_endpoint_format(const struct p2p_endpoint *ep, char *buf, size_t size);

/* Parses "a.b.c.d:port" (port required; no leading zeros, which some tools
 * read as octal). Returns 0, or -1 if malformed. */
int p2p_endpoint_parse(const char *text, struct p2p_endpoint *out);

#endif
