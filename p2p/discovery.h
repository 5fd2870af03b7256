/*
 * discovery.h - NAT behaviour discovery (RFC 5780 section 4.3 and 4.4), sans-I/O.
 *
 * Runs the mapping tests (I: primary; II: alternate ip, primary port; III:
 * alternate ip and port) and the filtering tests (I; II: CHANGE-REQUEST ip and
 * port; III: CHANGE-REQUEST port only) against a coordinator that has an
 * alternate address, from the caller's one socket, and reports the RFC 4787
 * pair and the classic name. Embedded by the agent; usable on its own.
 *
 * Driver contract: discovery_start(), then feed every datagram that arrives on
 * the socket to discovery_input() (it returns true if it consumed it), call
 * discovery_tick() at discovery_next_deadline(), and send what
 * discovery_pop_datagram() yields, until discovery_result() returns true.
 */
#ifndef NATSIM_P2P_DISCOVERY_H
#define NATSIM_P2P_DISCOVERY_H

#include "p2p.h"

enum discovery_behaviour {
	DISCOVERY_UNKNOWN = 0,
	DISCOVERY_ENDPOINT_INDEPENDENT,
	DISCOVERY_ADDRESS_DEPENDENT,
	DISCOVERY_ADDRESS_AND_PORT_DEPENDENT,
};

struct discovery_result {
	bool ok;                  /* false: server unreachable or no alternate address */
	bool behind_nat;          /* mapped endpoint differs from the local one */
	enum discovery_behaviour mapping;
	enum discovery_behaviour filtering;
	struct p2p_endpoint mapped; /* public endpoint seen by test I */
	const char *classic_name; /* "open", "full-cone", "restricted-cone",
				     "port-restricted-cone", "symmetric", or "unknown" */
	const char *error;        /* when !ok, a sentence saying why */
};

struct discovery_config {
	struct p2p_endpoint local;  /* our socket's address (to tell "no NAT") */
	struct p2p_endpoint server; /* coordinator primary endpoint */
	uint64_t rto_ns;            /* retransmission timeout, default 500 ms if 0 */
	unsigned max_tries;         /* per test, default 3 if 0; no answer = filtered */
	struct p2p_random random;   /* transaction ids */
};

struct discovery;

struct discovery *discovery_new(const struct discovery_config *cfg);
void discovery_free(struct discovery *d);
void discovery_start(struct discovery *d, uint64_t now_ns);
bool discovery_input(struct discovery *d, uint64_t now_ns, const struct p2p_endpoint *from,
		     const uint8_t *buf, size_t len);
void discovery_tick(struct discovery *d, uint64_t now_ns);
uint64_t discovery_next_deadline(const struct discovery *d);
bool discovery_pop_datagram(struct discovery *d, struct p2p_datagram *out);
/* True once finished; fills *out. */
bool discovery_result(const struct discovery *d, struct discovery_result *out);

const char *discovery_behaviour_name(enum discovery_behaviour b); /* "endpoint-independent", ... */

#endif
