/*
 * pcp_server.h - the port-mapping server a NAT router runs on UDP 5351 of
 * its inside addresses: PCP (RFC 6887: version 2, the MAP and ANNOUNCE
 * opcodes) and NAT-PMP (RFC 6886: version 0, opcodes 0-2), each switched
 * on by the NAT's config (nat_config.pcp, .natpmp; both off by default).
 *
 * The server keeps no state of its own: a mapping it grants is an explicit
 * mapping in the NAT's table (nat_map_explicit), with its origin, its PCP
 * nonce and its lifetime, so that the table, its expiry and a reboot (which
 * clears it and starts a new epoch, nat_reboot) are the NAT's. The server
 * reads a request, decides, and writes the answer; the router that hosts it
 * sends the answer back from the address asked (model/router.c).
 *
 * Which protocol answers is the version byte's (RFC 6887 section 9): 0 goes
 * to NAT-PMP and 2 to PCP when they are on; a version nobody here speaks is
 * answered with UNSUPP_VERSION by PCP if it is on (naming version 2), else
 * NAT-PMP's Unsupported Version (RFC 6886 3.5 with erratum 3618).
 *
 * Left out: PCP's PEER opcode (answered UNSUPP_OPCODE), every option (a
 * mandatory one such as THIRD_PARTY, PREFER_FAILURE or FILTER is answered
 * UNSUPP_OPTION, RFC 6887 7.3; optional ones are skipped), the unsolicited
 * ANNOUNCE multicast after a reboot (section 14.1.3: clients learn of the
 * reboot from the epoch in their next answer), "all ports" requests
 * (NOT_AUTHORIZED), IPv6, and NAT-PMP's "delete all" (internal port 0 with
 * lifetime 0 deletes nothing).
 */
#ifndef NATSIM_MODEL_PCP_SERVER_H
#define NATSIM_MODEL_PCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/nat.h"
#include "model/packet.h"

#define PCP_SERVER_PORT 5351	 /* RFC 6887 19.1; RFC 6886 3.1 */
#define PCP_SERVER_MAX_ANSWER 60 /* a PCP MAP response, the longest answer */

struct pcp_answer {
	size_t len; /* 0: nothing is sent (the request is ignored) */
	uint8_t buf[PCP_SERVER_MAX_ANSWER];
	/* The verdict: protocol, decision, result code, granted lifetime,
	 * epoch. Also carried by the TRACE_MAPPING record, when one is made. */
	struct trace_pcp facts;
	const struct nat_mapping *mapping; /* granted (created, renewed), else NULL */
};

/* Would the NAT's server take this packet: UDP to port 5351 with PCP or
 * NAT-PMP on? (The router asks only for packets to its own addresses from
 * inside.) */
bool pcp_server_takes(const struct nat *nat, const struct packet_info *info);

/* A request from `client` (the source of its packet), payload req[len].
 * Decides, changes the NAT's table, and fills `out` with the answer to
 * send back to `client` from port 5351. Never reads past `len`. */
void pcp_server_answer(struct nat *nat, const struct endpoint *client, const uint8_t *req,
		       size_t len, struct pcp_answer *out);

#endif
