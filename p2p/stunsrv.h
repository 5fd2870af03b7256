/*
 * stunsrv.h - the coordinator's STUN Binding server, stateless.
 *
 * Answers a Binding request with the endpoint it was seen from (RFC 8489),
 * honouring RFC 5780 CHANGE-REQUEST / RESPONSE-PORT / PADDING and answering
 * classic RFC 3489 clients (MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS).
 *
 * A server with an alternate address has four local endpoints: (primary ip,
 * primary port), (primary ip, alt port), (alt ip, primary port), (alt ip, alt
 * port). CHANGE-REQUEST picks which one the answer leaves from; the driver
 * must own sockets on all four for discovery to work.
 *
 * Amplification: with allow_amplification false (the default), an answer is
 * never larger than the request it answers: optional attributes are left out
 * to fit, and a request too small for even XOR-MAPPED-ADDRESS is not answered.
 * natsim's own client pads its requests (PADDING) so it always gets the full
 * answer; stock RFC 3489 clients need allow_amplification (natsim coord
 * --classic).
 */
#ifndef NATSIM_P2P_STUNSRV_H
#define NATSIM_P2P_STUNSRV_H

#include "p2p.h"
#include "stun.h"

struct stunsrv_config {
	struct p2p_endpoint primary;
	bool has_alternate;
	struct p2p_endpoint alternate; /* alt ip and alt port */
	bool allow_amplification;
	const char *software; /* SOFTWARE attribute, or NULL for none */
};

enum stunsrv_result {
	STUNSRV_ANSWERED = 0,   /* *out holds the answer */
	STUNSRV_NOT_BINDING = 1, /* a valid STUN message, but not a Binding request: not ours */
	STUNSRV_IGNORED = 2,    /* malformed, or would amplify: dropped silently */
};

/* `local` is the endpoint the request arrived on, `from` its source. */
enum stunsrv_result stunsrv_answer(const struct stunsrv_config *cfg,
				   const struct p2p_endpoint *local,
				   const struct p2p_endpoint *from, const uint8_t *buf, size_t len,
				   struct p2p_datagram *out);

#endif
