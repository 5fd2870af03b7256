/*
 * endpoint6.h - endpoints kept in 8 bytes where many are stored (the
 * agent's checklists, the coordinator's registrations), IPv6 addresses in a
 * table beside them.
 *
 * Size machinery only, apart from the protocol: struct p2p_endpoint is 20
 * bytes so that it can hold an IPv6 address, but most endpoints a large run
 * stores are IPv4 (bench_scale's are all IPv4), and 20-byte candidates cost
 * 70 MiB at 100 000 peers (issue 18: "the existing benches keep their
 * figures"). A packed endpoint holds an IPv4 endpoint whole, and an IPv6 one
 * as the index of its address in a table its owner keeps; the table is made
 * by the first IPv6 address, so an owner that never sees IPv6 allocates
 * nothing. The protocol code reads packed endpoints unpacked
 * (p2p_packed_get), as the struct p2p_endpoint it always had.
 */
#ifndef NATSIM_P2P_ENDPOINT6_H
#define NATSIM_P2P_ENDPOINT6_H

#include "p2p.h"

struct p2p_packed_ep {
	uint32_t ip;	/* IPv4: the address (host order); IPv6: index in the table */
	uint16_t port;	/* host byte order */
	uint8_t family; /* P2P_FAMILY_IPV4 or P2P_FAMILY_IPV6 */
	uint8_t tag;	/* free for the owner (a candidate's type) */
};

/* IPv6 addresses, each once. A zeroed table is empty and owns nothing. */
struct p2p_addr6_block;
struct p2p_addr6_table {
	struct p2p_addr6_block *b; /* NULL until the first IPv6 address */
};

/* Packs ep into out (tag 0), adding an IPv6 address to the table when it
 * is not there yet. Returns 0, or -1 when the table cannot grow (out
 * unchanged). */
int p2p_packed_set(struct p2p_addr6_table *t, struct p2p_packed_ep *out,
		   const struct p2p_endpoint *ep);

/* The endpoint pe packs (from table t, where it was packed). */
struct p2p_endpoint p2p_packed_get(const struct p2p_addr6_table *t, const struct p2p_packed_ep *pe);

/* p2p_endpoint_equal(unpacked pe, ep), without unpacking. */
bool p2p_packed_equal(const struct p2p_addr6_table *t, const struct p2p_packed_ep *pe,
		      const struct p2p_endpoint *ep);

/* Forgets every address (endpoints packed into it are then meaningless),
 * keeping the memory for the next ones; _free gives it back. */
void p2p_addr6_table_clear(struct p2p_addr6_table *t);
void p2p_addr6_table_free(struct p2p_addr6_table *t);

#endif
