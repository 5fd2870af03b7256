/*
 * xlat.c - the words for NPTv6's and NAT64's refusals (explain/xlat.h).
 * The sentences are those model/router_xlat.c and model/xlat.c made before
 * the models returned codes instead (session 27), unchanged but for the
 * refusals that had none of their own.
 */
#include "explain/xlat.h"

const char *explain_xlat_result(enum xlat_result r)
{
	switch (r) {
	case XLAT_OK:
		return "ok";
	case XLAT_ERR_MALFORMED:
		return "the packet does not parse";
	case XLAT_ERR_PROTOCOL:
		return "neither UDP, TCP nor ICMP: not translated";
	case XLAT_ERR_ICMP_UNTRANSLATABLE:
		return "an ICMP type or code with no counterpart in the other family (RFC 7915: "
		       "dropped silently)";
	case XLAT_ERR_NO_ROOM:
		return "no room for the translated packet";
	case XLAT_ERR_PARAM_POINTER:
		return "a parameter problem whose pointer names a header field with no "
		       "counterpart in the other family (RFC 7915 4.2 figure 3, 5.2 figure 6: "
		       "dropped silently)";
	}
	return "?";
}

const char *explain_xlat_refusal(enum xlat_refusal why, enum xlat_result result)
{
	switch (why) {
	case XLAT_REFUSED_NPT_FFFF:
		return "NPTv6 cannot translate its address: the word RFC 6296 adjusts is ffff, "
		       "which one's-complement arithmetic cannot tell from 0 (RFC 6296 3.4-3.5)";
	case XLAT_REFUSED_NO_BINDING:
		return "its NAT64 holds no binding for that pool address and port (RFC 6146 "
		       "3.5.1)";
	case XLAT_REFUSED_FILTERED:
		return "its NAT64 filters by address (RFC 6146 3.5.1, ADF) and the binding has "
		       "never sent to that address";
	case XLAT_REFUSED_EXHAUSTED:
		return "its NAT64 has no pool port left for a new binding";
	case XLAT_REFUSED_UNSUPPORTED:
		return "its NAT64 does not translate this (natsim's NAT64 carries UDP, TCP and "
		       "ICMP queries from the IPv6 side)";
	case XLAT_REFUSED_UNTRANSLATABLE:
		return explain_xlat_result(result);
	case XLAT_REFUSED_MALFORMED:
		return "its NAT64 cannot translate it (the packet does not parse)";
	case XLAT_REFUSED_NOT_OURS:
		return "its NAT64 translates no ICMPv6 error about a packet that did not come "
		       "from its prefix";
	case XLAT_REFUSED_NO_MEMORY:
		return "no memory for the translated packet";
	case XLAT_REFUSED_TCP_NO_SESSION:
		return "its NAT64 has no TCP session for it, and only a SYN from the IPv6 side "
		       "opens one (RFC 6146 3.5.2.2; natsim drops connections begun from the IPv4 "
		       "side, the RFC's policy of silently dropping externally initiated ones)";
	case XLAT_REFUSAL_COUNT:
		break;
	}
	return "?";
}
