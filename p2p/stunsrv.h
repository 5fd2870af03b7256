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
 * Amplification: an answer is never more than STUNSRV_MAX_RATIO times the
 * size of the request it answers, and never more than P2P_MAX_DATAGRAM bytes:
 * optional attributes are left out, in a fixed order of priority, until it
 * fits. The ratio is chosen so that the full answer to the smallest request
 * there is (a bare 20-byte Binding request: XOR-MAPPED-ADDRESS, OTHER-ADDRESS,
 * RESPONSE-ORIGIN, SOFTWARE, FINGERPRINT = 80 bytes) still fits, so every
 * well-formed Binding request gets an answer, from any stock client. The other
 * half of the defence, a per-source rate limit, needs state and time and lives
 * with the caller (p2p/ratelimit.h, used by p2p/coord.c).
 */
#ifndef NATSIM_P2P_STUNSRV_H
#define NATSIM_P2P_STUNSRV_H

#include "p2p.h"
#include "stun.h"

struct stunsrv_config {
	struct p2p_endpoint primary;
	bool has_alternate;
	struct p2p_endpoint alternate; /* alt ip and alt port */
	/* Also put RFC 3489's MAPPED-ADDRESS, CHANGED-ADDRESS and SOURCE-ADDRESS
	 * into answers to RFC 8489 requests (those with the magic cookie), as
	 * stund does, for clients that send the cookie but still run RFC 3489's
	 * algorithm. Requests without the cookie get RFC 3489 answers always. */
	bool rfc3489_attrs;
	const char *software; /* SOFTWARE attribute, or NULL for none */
};

enum stunsrv_result {
	STUNSRV_ANSWERED = 0,	 /* *out holds the answer */
	STUNSRV_NOT_BINDING = 1, /* a valid STUN message, but not a Binding request: not ours */
	STUNSRV_IGNORED = 2,	 /* malformed: no answer */
};

/* An answer is at most this many times the size of its request (see above). */
#define STUNSRV_MAX_RATIO 4

/* `local` is the endpoint the request arrived on, `from` its source. */
enum stunsrv_result stunsrv_answer(const struct stunsrv_config *cfg,
				   const struct p2p_endpoint *local,
				   const struct p2p_endpoint *from, const uint8_t *buf, size_t len,
				   struct p2p_datagram *out);

#endif
